//! What importing a file would change in the incident it matches, part by part: each fact of
//! the front matter, each section, the timeline, the factors and the action items, compared
//! as an export writes them, so "no change" means the file and the incident's export agree.

use crate::Document;
use crate::render::{action_list, factor_list, front_matter_values, timeline_list};
use crate::syntax::{ACTIONS, FACTORS, TIMELINE, humanize, tidy};
use postmortem_core::Templates;
use serde_yaml_ng::Value;
use std::fmt;

/// Front matter keys that say where a file came from rather than what the incident says.
const NOT_CONTENT: [&str; 5] = ["format", "id", "version", "published_at", "imported_from"];

/// One part of an incident that differs between what is stored and what a file says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The fact's key (`severity`), `section "Summary"`, `timeline`, `factors` or
    /// `action items`.
    pub part: String,
    /// As stored, in the export's words; empty when the incident lacks it.
    pub before: String,
    /// As the file has it; empty when the file lacks it.
    pub after: String,
}

impl Change {
    /// Whether both sides fit on one line each, so `before → after` says it all.
    fn is_short(&self) -> bool {
        !self.before.contains('\n') && !self.after.contains('\n')
    }
}

/// `severity: SEV3 → SEV2` for one-line facts; for longer parts, the part's name and the
/// lines taken out (`-`) and put in (`+`), each indented by two spaces.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_short() {
            let shown = |value: &str| {
                if value.is_empty() {
                    "(none)".to_owned()
                } else {
                    value.to_owned()
                }
            };
            return write!(
                f,
                "{}: {} → {}",
                self.part,
                shown(&self.before),
                shown(&self.after)
            );
        }
        write!(f, "{}:", self.part)?;
        let diff = similar::TextDiff::from_lines(&self.before, &self.after);
        for change in diff.iter_all_changes() {
            let sign = match change.tag() {
                similar::ChangeTag::Delete => '-',
                similar::ChangeTag::Insert => '+',
                similar::ChangeTag::Equal => continue,
            };
            let line = format!("  {sign} {}", change.value().trim_end_matches('\n'));
            write!(f, "\n{}", line.trim_end())?;
        }
        Ok(())
    }
}

/// Every part in which `incoming` differs from `stored`, in the order of the file: facts,
/// sections (the template's, then the others by name), timeline, factors, action items.
pub fn changes(stored: &Document, incoming: &Document, templates: &Templates) -> Vec<Change> {
    let mut found = Vec::new();
    let mut push = |part: String, before: String, after: String| {
        if before != after {
            found.push(Change {
                part,
                before,
                after,
            });
        }
    };

    let before = front_matter_values(stored);
    let after = front_matter_values(incoming);
    for (key, value) in &after {
        let Some(name) = key.as_str() else { continue };
        if NOT_CONTENT.contains(&name) {
            continue;
        }
        push(
            name.to_owned(),
            before.get(key).map(yaml_text).unwrap_or_default(),
            yaml_text(value),
        );
    }

    let template = templates.resolve(&incoming.bundle.incident.template);
    let body = |document: &Document, name: &postmortem_core::SectionName| {
        document
            .bundle
            .sections
            .iter()
            .find(|section| &section.name == name)
            .map(|section| tidy(section.body.as_str()).to_owned())
            .unwrap_or_default()
    };
    let mut names: Vec<(String, &postmortem_core::SectionName)> = template
        .sections
        .iter()
        .map(|section| (section.title.clone(), &section.name))
        .collect();
    let mut others: Vec<&postmortem_core::SectionName> = stored
        .bundle
        .sections
        .iter()
        .chain(&incoming.bundle.sections)
        .map(|section| &section.name)
        .filter(|name| !template.sections.iter().any(|s| &s.name == *name))
        .collect();
    others.sort();
    others.dedup();
    names.extend(
        others
            .into_iter()
            .map(|name| (humanize(name.as_str()), name)),
    );
    for (title, name) in names {
        push(
            format!("section \"{title}\""),
            body(stored, name),
            body(incoming, name),
        );
    }

    push(
        TIMELINE.to_lowercase(),
        timeline_list(&stored.bundle).trim_end().to_owned(),
        timeline_list(&incoming.bundle).trim_end().to_owned(),
    );
    push(
        FACTORS.to_lowercase(),
        factor_list(&stored.bundle).trim_end().to_owned(),
        factor_list(&incoming.bundle).trim_end().to_owned(),
    );
    push(
        ACTIONS.to_lowercase(),
        action_list(&stored.bundle).trim_end().to_owned(),
        action_list(&incoming.bundle).trim_end().to_owned(),
    );
    found
}

/// A front matter value as the file writes it: a scalar as itself, anything else as YAML.
fn yaml_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        Value::Bool(_) | Value::Number(_) => serde_yaml_ng::to_string(value)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
        Value::Sequence(items) if items.is_empty() => String::new(),
        Value::Mapping(map) if map.is_empty() => String::new(),
        _ => serde_yaml_ng::to_string(value)
            .unwrap_or_default()
            .trim_end()
            .to_owned(),
    }
}
