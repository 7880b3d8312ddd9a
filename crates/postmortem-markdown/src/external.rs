//! The external (customer-facing) version of a review: only the sections an author chose, with
//! people replaced by their roles and internal details (host names, IP addresses, email
//! addresses, chat and internal links, customer identifiers) found and replaced. Every
//! replacement is listed, so an author can check, change or add to them before sharing.

use crate::Document;
use crate::syntax::humanize;
use postmortem_core::{Handle, Marker, SectionName, Templates, format_date};
use std::fmt::Write;

/// A person who may be named in a review, and the role that stands for them outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub handle: Handle,
    pub name: String,
    /// How the public text calls them: "an on-call engineer", "a database engineer".
    pub role: String,
}

/// What kind of detail a redaction took out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionKind {
    Person,
    Email,
    Host,
    IpAddress,
    Link,
    Customer,
}

/// One replacement in the external text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Redaction {
    pub kind: RedactionKind,
    /// The section it was found in (`title` for the title).
    pub section: String,
    pub found: String,
    pub replaced_by: String,
}

/// The external version and what was replaced to make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    pub markdown: String,
    pub redactions: Vec<Redaction>,
}

/// Chat and meeting hosts: a link there is internal whatever the domain says.
const CHAT_HOSTS: &[&str] = &[
    "slack.com",
    "teams.microsoft.com",
    "discord.com",
    "discord.gg",
    "zoom.us",
    "meet.google.com",
    "mattermost",
    "chat.",
];

/// Host name endings that are never public.
const INTERNAL_SUFFIXES: &[&str] = &[
    ".internal",
    ".local",
    ".corp",
    ".lan",
    ".intra",
    ".intranet",
    ".private",
    ".localdomain",
    ".cluster.local",
    ".svc",
    ".home.arpa",
];

/// Prefixes of identifiers that name a customer, account or tenant (`cus_123`, `acct-9`).
const CUSTOMER_PREFIXES: &[&str] = &[
    "cus_",
    "cust_",
    "cust-",
    "acct_",
    "acct-",
    "customer_",
    "customer-",
    "tenant_",
    "tenant-",
    "org_",
];

/// Renders the external version of `document` with the `sections` chosen (in template
/// order; `timeline` and `action_items` may be chosen too). `people` are everyone who may be
/// named; `internal_domains` are the organisation's own domains (`corp.example.com`), whose
/// hosts and links are internal.
pub fn external(
    document: &Document,
    sections: &[SectionName],
    people: &[Person],
    internal_domains: &[String],
    templates: &Templates,
) -> External {
    let mut redactor = Redactor {
        people,
        internal_domains,
        redactions: Vec::new(),
    };
    let bundle = &document.bundle;
    let mut out = String::new();
    let title = redactor.clean("title", bundle.incident.title.as_str());
    let _ = writeln!(out, "# {title}\n");
    let marker = |wanted: Marker| {
        bundle
            .timeline
            .iter()
            .filter(|e| e.entry.marker == Some(wanted))
            .map(|e| e.entry.at)
            .min()
    };
    let start = marker(Marker::ImpactStart).or(bundle.incident.started_at);
    if let Some(start) = start {
        let _ = write!(out, "**Date:** {}", format_date(start.date()));
        let end = marker(Marker::Resolved).or_else(|| marker(Marker::Mitigated));
        if let Some(end) = end.filter(|end| *end > start) {
            let minutes = (end - start).whole_minutes();
            let _ = write!(
                out,
                " · **Duration:** {} h {:02} min",
                minutes / 60,
                minutes % 60
            );
        }
        out.push_str("\n\n");
    }

    let template = templates.resolve(&bundle.incident.template);
    let chosen = |name: &str| sections.iter().any(|s| s.as_str() == name);
    for wanted in &template.sections {
        if !chosen(wanted.name.as_str()) {
            continue;
        }
        if let Some(section) = bundle.sections.iter().find(|s| s.name == wanted.name) {
            let body = redactor.clean(wanted.name.as_str(), section.body.as_str());
            let _ = writeln!(out, "## {}\n\n{}\n", wanted.title, body.trim_end());
        }
    }
    for section in &bundle.sections {
        let in_template = template.sections.iter().any(|s| s.name == section.name);
        if !in_template && chosen(section.name.as_str()) {
            let body = redactor.clean(section.name.as_str(), section.body.as_str());
            let _ = writeln!(
                out,
                "## {}\n\n{}\n",
                humanize(section.name.as_str()),
                body.trim_end()
            );
        }
    }
    if chosen("timeline") && !bundle.timeline.is_empty() {
        out.push_str("## Timeline\n\n");
        for entry in &bundle.timeline {
            // The first line only: an entry's details are for the team.
            let text = entry.entry.text.as_str().lines().next().unwrap_or("");
            let text = redactor.clean("timeline", text);
            let at = entry.entry.at.to_offset(time::UtcOffset::UTC);
            let _ = writeln!(
                out,
                "- {} {:02}:{:02} UTC — {}",
                format_date(at.date()),
                at.hour(),
                at.minute(),
                text.trim()
            );
        }
        out.push('\n');
    }
    if chosen("action_items") && !bundle.actions.is_empty() {
        out.push_str("## What we are changing\n\n");
        for action in &bundle.actions {
            let title = redactor.clean("action_items", action.item.title.as_str());
            let done = if action.item.status == postmortem_core::ActionStatus::Done {
                "x"
            } else {
                " "
            };
            let _ = writeln!(out, "- [{done}] {title}");
        }
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    External {
        markdown: out,
        redactions: redactor.redactions,
    }
}

struct Redactor<'a> {
    people: &'a [Person],
    internal_domains: &'a [String],
    redactions: Vec<Redaction>,
}

impl Redactor<'_> {
    fn record(&mut self, kind: RedactionKind, section: &str, found: &str, replaced_by: &str) {
        self.redactions.push(Redaction {
            kind,
            section: section.to_owned(),
            found: found.to_owned(),
            replaced_by: replaced_by.to_owned(),
        });
    }

    /// The text with every internal detail replaced: addresses, hosts, links and identifiers
    /// first (an email address holds a name), then people's names and handles.
    fn clean(&mut self, section: &str, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while !rest.is_empty() {
            let start = rest
                .find(|c: char| !is_token_break(c))
                .unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(is_token_break).unwrap_or(rest.len());
            let token = &rest[..end];
            let (core, trail) = split_trailing(token);
            match self.classify(core) {
                Some((kind, replacement)) => {
                    self.record(kind, section, core, replacement);
                    out.push_str(replacement);
                    out.push_str(trail);
                }
                None => out.push_str(token),
            }
            rest = &rest[end..];
        }
        // Whole names first (longest first, so "Dana Smith" goes before "Dana"), then handles.
        let mut people: Vec<&Person> = self.people.iter().collect();
        people.sort_by_key(|p| std::cmp::Reverse(p.name.len()));
        for person in people {
            let mut needles = vec![person.name.clone(), format!("@{}", person.handle)];
            if let Some(first) = person
                .name
                .split_whitespace()
                .next()
                .filter(|f| f.len() >= 3 && *f != person.name)
            {
                needles.push(first.to_owned());
            }
            if let Some(last) = person
                .name
                .split_whitespace()
                .last()
                .filter(|l| l.len() >= 3 && *l != person.name)
            {
                needles.push(last.to_owned());
            }
            needles.push(person.handle.to_string());
            for needle in needles {
                if needle.trim().is_empty() {
                    continue;
                }
                let replaced = replace_words(&out, &needle, &person.role);
                if replaced != out {
                    self.record(RedactionKind::Person, section, &needle, &person.role);
                    out = replaced;
                }
            }
        }
        out
    }

    fn classify(&self, token: &str) -> Option<(RedactionKind, &'static str)> {
        if token.is_empty() {
            return None;
        }
        let lower = token.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
        {
            let host = rest.split(['/', '?', '#', ':']).next().unwrap_or("");
            let internal = self.is_internal_host(host)
                || CHAT_HOSTS.iter().any(|chat| host.contains(chat))
                || is_ipv4(host);
            return internal.then_some((RedactionKind::Link, "[internal link removed]"));
        }
        if let Some((local, domain)) = lower.split_once('@')
            && !local.is_empty()
            && domain.contains('.')
        {
            return Some((RedactionKind::Email, "[email address removed]"));
        }
        if is_ipv4(lower.split(':').next().unwrap_or("")) {
            return Some((RedactionKind::IpAddress, "[IP address]"));
        }
        if CUSTOMER_PREFIXES.iter().any(|prefix| {
            lower.starts_with(prefix)
                && lower.len() > prefix.len()
                && lower[prefix.len()..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
        }) {
            return Some((RedactionKind::Customer, "[customer]"));
        }
        if lower.contains('.') && self.is_internal_host(&lower) {
            return Some((RedactionKind::Host, "[internal host]"));
        }
        None
    }

    fn is_internal_host(&self, host: &str) -> bool {
        let host = host.trim_matches('.');
        INTERNAL_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix))
            || self.internal_domains.iter().any(|domain| {
                let domain = domain.trim().trim_matches('.').to_ascii_lowercase();
                !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
            })
    }
}

fn is_token_break(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '<' | '>' | '[' | ']' | '"' | '\'' | '`' | ',' | ';' | '|' | '*'
        )
}

/// Splits punctuation that ends a sentence off a token: `db1.corp.` is `db1.corp` and `.`.
fn split_trailing(token: &str) -> (&str, &str) {
    let core = token.trim_end_matches(['.', ':', '!', '?']);
    (core, &token[core.len()..])
}

fn is_ipv4(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 3 && p.parse::<u8>().is_ok())
}

/// Replaces whole-word occurrences of `needle` (case-insensitive for ASCII).
fn replace_words(text: &str, needle: &str, with: &str) -> String {
    let lower_text = text.to_lowercase();
    let lower_needle = needle.to_lowercase();
    if lower_text.len() != text.len() || lower_needle.is_empty() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = lower_text[at..].find(&lower_needle) {
        let start = at + found;
        let end = start + lower_needle.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        out.push_str(&text[at..start]);
        if word(before) || word(after) {
            out.push_str(&text[start..end]);
        } else if starts_sentence(&text[..start]) {
            out.push_str(&capitalise(with));
        } else {
            out.push_str(with);
        }
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// Whether text after `before` starts a sentence: at the start, or after `.`, `!`, `?` or a
/// line break.
fn starts_sentence(before: &str) -> bool {
    match before.trim_end_matches(' ').chars().next_back() {
        None | Some('.' | '!' | '?' | '\n' | '#') => true,
        Some(c) => before.ends_with("- ") && c == '-',
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
