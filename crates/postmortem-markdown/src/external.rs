//! The external (customer-facing) version of a review: only the sections an author chose, with
//! people replaced by their roles and internal details (host names, IP addresses, email
//! addresses, chat and internal links, customer identifiers) found and replaced. Every
//! replacement is listed, so an author can check, change or add to them before sharing.

use crate::Document;
use crate::syntax::humanize;
use postmortem_core::{
    ExternalSpec, Handle, Marker, Redaction, RedactionKind, Templates, format_date,
};
use regex::Regex;
use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

/// A person who may be named in a review, and the role that stands for them outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Their handle, when they have an account (a timeline's free-text actor has none).
    pub handle: Option<Handle>,
    pub name: String,
    /// How the public text calls them: "an on-call engineer", "a database engineer".
    pub role: String,
}

/// The external version and what was replaced to make it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    /// The title with its redactions made.
    pub title: String,
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
    "chat.google.com",
    "webex.com",
    "mattermost.com",
    "zulipchat.com",
    "rocket.chat",
    "mattermost.",
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

/// Renders the external version of `document` with the sections `spec` chose (in template
/// order; `timeline` and `action_items` may be chosen too). `people` are everyone who may be
/// named; the spec's `internal_domains` are the organisation's own domains
/// (`corp.example.com`), whose hosts and links are internal; its `additions` are replaced
/// first, and its `changes` replace a detected text with the author's words.
pub fn external(
    document: &Document,
    spec: &ExternalSpec,
    people: &[Person],
    templates: &Templates,
) -> External {
    let sections = &spec.sections;
    let mut redactor = Redactor {
        people,
        spec,
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
        title,
        markdown: out,
        redactions: redactor.redactions,
    }
}

struct Redactor<'a> {
    people: &'a [Person],
    spec: &'a ExternalSpec,
    redactions: Vec<Redaction>,
}

/// "customer 4411", "account #A-993", "tenant id: t_77": the identifier after a word that
/// says it names a customer. Bounded: the identifier is at most 64 characters.
static CUSTOMER_AFTER_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\b(?:customer|client|account|tenant|org|organi[sz]ation|merchant)(?:\s+(?:id|number|no\.?))?\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9_-]{1,63})\b",
    )
    .expect("a valid pattern")
});

/// A host named like `db-primary-03` or `cache-7:6379`: lowercase words joined by `-`, the
/// last one a number.
static NUMBERED_HOST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[a-z][a-z0-9]{1,30}(?:-[a-z0-9]{1,30}){0,6}-[0-9]{1,4}[a-z]?(?::[0-9]{1,5})?$")
        .expect("a valid pattern")
});

/// Words written like numbered hosts that are not hosts.
const NOT_HOSTS: &[&str] = &[
    "utf", "sha", "iso", "rfc", "cve", "covid", "x86", "aes", "md", "ipv", "http", "tls", "ssl",
    "h", "p", "sev", "gpt", "win", "iphone", "pixel", "ecma", "ieee",
];

impl Redactor<'_> {
    /// Notes a redaction once per section and text, and answers what replaces `found`: the
    /// author's change when they made one.
    fn record(&mut self, kind: RedactionKind, section: &str, found: &str, default: &str) -> String {
        let replaced_by = self.spec.change_for(found).unwrap_or(default).to_owned();
        let seen = self
            .redactions
            .iter()
            .any(|r| r.section == section && r.found.eq_ignore_ascii_case(found));
        if !seen {
            self.redactions.push(Redaction {
                kind,
                section: section.to_owned(),
                found: found.to_owned(),
                replaced_by: replaced_by.clone(),
            });
        }
        replaced_by
    }

    /// The text with every internal detail replaced: the author's additions first, then
    /// addresses, hosts, links and identifiers (an email address holds a name), then
    /// identifiers named as a customer's, then people's names and handles.
    fn clean(&mut self, section: &str, text: &str) -> String {
        let mut text = text.to_owned();
        for addition in &self.spec.additions {
            let replaced = replace_words(&text, addition.found(), addition.replaced_by(), false);
            if replaced != text {
                self.record(
                    RedactionKind::Author,
                    section,
                    addition.found(),
                    addition.replaced_by(),
                );
                text = replaced;
            }
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let start = rest
                .find(|c: char| !is_token_break(c))
                .unwrap_or(rest.len());
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(is_token_break).unwrap_or(rest.len());
            let token = &rest[..end];
            // A sentence's full stop is not part of a host; but an IPv6 address may end in
            // `:` (`fe80::`), so the whole token is tried when the rest is nothing.
            let (mut core, mut trail) = split_trailing(token);
            let mut found = self.classify(core);
            if found.is_none() && !trail.is_empty() {
                (core, trail) = (token, "");
                found = self.classify(core);
            }
            match found {
                Some((kind, default)) => {
                    let replacement = self.record(kind, section, core, &default);
                    out.push_str(&replacement);
                    out.push_str(trail);
                }
                None => out.push_str(token),
            }
            rest = &rest[end..];
        }
        let mut customers = Vec::new();
        for found in CUSTOMER_AFTER_WORD.captures_iter(&out) {
            let id = found.get(1).expect("group 1 always takes part");
            if id.as_str().chars().any(|c| c.is_ascii_digit()) {
                customers.push(id.range());
            }
        }
        for range in customers.into_iter().rev() {
            let found = out[range.clone()].to_owned();
            let replacement = self.record(RedactionKind::Customer, section, &found, "[customer]");
            out.replace_range(range, &replacement);
        }
        self.replace_people(section, out)
    }

    /// Whole names first (longest first, so "Dana Smith" goes before "Dana"), then a first or
    /// last name as written (capitalised, so "Will" the person is not "will" the verb), then
    /// handles.
    fn replace_people(&mut self, section: &str, mut out: String) -> String {
        let mut people: Vec<&Person> = self.people.iter().collect();
        people.sort_by_key(|p| std::cmp::Reverse(p.name.len()));
        for person in people {
            let name = person.name.trim();
            let mut needles: Vec<(String, bool)> = vec![(name.to_owned(), false)];
            let words: Vec<&str> = name.split_whitespace().collect();
            if words.len() > 1 {
                for part in [words[0], words[words.len() - 1]] {
                    if part.chars().count() >= 3 {
                        needles.push((part.to_owned(), true));
                    }
                }
            }
            if let Some(handle) = &person.handle {
                needles.push((format!("@{handle}"), false));
                if handle.as_str().len() >= 3 {
                    needles.push((handle.to_string(), true));
                }
            }
            for (needle, exact_case) in needles {
                if needle.chars().count() < 2 {
                    continue;
                }
                let role = self
                    .spec
                    .change_for(&needle)
                    .unwrap_or(&person.role)
                    .to_owned();
                let replaced = replace_words(&out, &needle, &role, exact_case);
                if replaced != out {
                    self.record(RedactionKind::Person, section, &needle, &role);
                    out = replaced;
                }
            }
        }
        out
    }

    fn person_by_handle(&self, handle: &str) -> Option<&Person> {
        self.people.iter().find(|p| {
            p.handle
                .as_ref()
                .is_some_and(|h| h.as_str().eq_ignore_ascii_case(handle))
        })
    }

    fn classify(&self, token: &str) -> Option<(RedactionKind, String)> {
        if token.is_empty() {
            return None;
        }
        let lower = token.to_ascii_lowercase();
        if lower.contains("://") {
            return self.classify_link(&lower);
        }
        if let Some((local, domain)) = lower.split_once('@') {
            if !local.is_empty() && domain.contains('.') {
                return Some((RedactionKind::Email, "[email address removed]".into()));
            }
            if local.is_empty() && is_handle_like(domain) {
                let role = self
                    .person_by_handle(domain)
                    .map_or("a team member", |p| p.role.as_str());
                return Some((RedactionKind::Person, role.to_owned()));
            }
        }
        if let Some(channel) = lower.strip_prefix('#')
            && channel.starts_with(|c: char| c.is_ascii_lowercase())
            && channel.len() > 1
            && channel
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Some((RedactionKind::Chat, "[chat channel]".into()));
        }
        let host = lower.split('/').next().unwrap_or("");
        if is_chat_host(host) {
            return Some((RedactionKind::Chat, "[chat link removed]".into()));
        }
        if is_ip_address(&lower) {
            return Some((RedactionKind::IpAddress, "[IP address]".into()));
        }
        if CUSTOMER_PREFIXES.iter().any(|prefix| {
            lower.starts_with(prefix)
                && lower.len() > prefix.len()
                && lower[prefix.len()..]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric())
        }) {
            return Some((RedactionKind::Customer, "[customer]".into()));
        }
        let without_port = host.split(':').next().unwrap_or("");
        if (without_port.contains('.') && self.is_internal_host(without_port))
            || is_numbered_host(token)
        {
            return Some((RedactionKind::Host, "[internal host]".into()));
        }
        None
    }

    /// A link is internal when its host is one of ours, a chat or meeting service, an IP
    /// address, or a name with no dot (`http://grafana/`); a public link stays.
    fn classify_link(&self, lower: &str) -> Option<(RedactionKind, String)> {
        let removed = |kind| Some((kind, "[internal link removed]".to_owned()));
        let Ok(link) = url::Url::parse(lower) else {
            return removed(RedactionKind::Link);
        };
        match link.host() {
            Some(url::Host::Domain(host)) => {
                if is_chat_host(host) {
                    Some((RedactionKind::Chat, "[chat link removed]".to_owned()))
                } else if !host.contains('.') || self.is_internal_host(host) {
                    removed(RedactionKind::Link)
                } else {
                    None
                }
            }
            Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) => removed(RedactionKind::Link),
            None => None,
        }
    }

    fn is_internal_host(&self, host: &str) -> bool {
        let host = host.trim_matches('.');
        INTERNAL_SUFFIXES
            .iter()
            .any(|suffix| host.ends_with(suffix))
            || self.spec.internal_domains.iter().any(|domain| {
                let domain = domain.trim().trim_matches('.').to_ascii_lowercase();
                !domain.is_empty() && (host == domain || host.ends_with(&format!(".{domain}")))
            })
    }
}

fn is_chat_host(host: &str) -> bool {
    CHAT_HOSTS.iter().any(|chat| {
        host == *chat
            || host.ends_with(&format!(".{chat}"))
            || (chat.ends_with('.') && host.starts_with(chat))
    })
}

fn is_handle_like(text: &str) -> bool {
    text.len() >= 2
        && text.starts_with(|c: char| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// An IPv4 or IPv6 address, alone or with a port or zone (`10.0.0.1:5432`, `[::1]:80` is split by the
/// brackets) or a prefix length (`10.0.0.0/8`, `2001:db8::/32`), as `std::net` reads them.
fn is_ip_address(lower: &str) -> bool {
    let address = lower.split('/').next().unwrap_or("");
    if address.parse::<Ipv4Addr>().is_ok() {
        return true;
    }
    if let Some((v4, port)) = address.rsplit_once(':')
        && v4.parse::<Ipv4Addr>().is_ok()
        && port.parse::<u16>().is_ok()
    {
        return true;
    }
    // A zone (`fe80::1%eth0`) is not part of the address. "::" alone, or a time such as
    // 10:30, is no address anyone would redact.
    let address = address.split('%').next().unwrap_or("");
    address.contains(|c: char| c.is_ascii_hexdigit())
        && address.matches(':').count() >= 2
        && address.parse::<Ipv6Addr>().is_ok()
}

fn is_numbered_host(token: &str) -> bool {
    NUMBERED_HOST.is_match(token)
        && !NOT_HOSTS
            .iter()
            .any(|word| token.split('-').next() == Some(*word))
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

/// Replaces whole-word occurrences of `needle` (case-insensitive for ASCII unless
/// `exact_case`).
fn replace_words(text: &str, needle: &str, with: &str, exact_case: bool) -> String {
    let (haystack, wanted) = if exact_case {
        (text.to_owned(), needle.to_owned())
    } else {
        (text.to_lowercase(), needle.to_lowercase())
    };
    if haystack.len() != text.len() || wanted.len() != needle.len() || wanted.is_empty() {
        return text.replace(needle, with);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    while let Some(found) = haystack[at..].find(&wanted) {
        let start = at + found;
        let end = start + wanted.len();
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
