//! The pieces of the export format shared by the renderer and the parser: the front matter's
//! shape, the fixed headings, how free text is quoted on one line, and how section names
//! become headings and back.

use postmortem_core::{
    Handle, Impact, IncidentKind, Name, PostmortemStatus, ReviewDecision, SectionName, Severity,
    TemplateName, Title, policy::Requirement,
};
use serde::{Deserialize, Serialize};

/// The value of the front matter's `format` key in files this crate writes; a file that
/// carries it is read strictly, any other as a post-mortem written elsewhere.
pub(crate) const FORMAT: &str = "postmortem/1";

/// The headings after the sections, in this order, always present in an export.
pub(crate) const TIMELINE: &str = "Timeline";
pub(crate) const FACTORS: &str = "Factors";
pub(crate) const ACTIONS: &str = "Action items";

/// Separates the facts on the first line of a timeline entry or a factor.
pub(crate) const DOT: &str = " · ";

/// Every fact of an incident that is not a section or a list, in the order a reader expects.
/// Every key is always written (null when there is no value), so a file says what it lacks.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FrontMatter {
    pub format: String,
    #[serde(default)]
    pub id: Option<i64>,
    /// The incident's version when it was exported: a later import refuses to overwrite
    /// changes made since.
    #[serde(default)]
    pub version: Option<i64>,
    pub title: Title,
    pub kind: IncidentKind,
    pub severity: Severity,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub services: Vec<Name>,
    #[serde(default)]
    pub teams: Vec<Name>,
    #[serde(default)]
    pub restricted: bool,
    #[serde(default)]
    pub impact: Impact,
    pub template: TemplateName,
    pub status: PostmortemStatus,
    #[serde(default)]
    pub due_on: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    pub recorded_by: Handle,
    pub recorded_at: String,
    #[serde(default)]
    pub policy: Option<PolicyMatter>,
    /// Who last wrote each section, by section name.
    #[serde(default)]
    pub section_writers: std::collections::BTreeMap<SectionName, Handle>,
    #[serde(default)]
    pub members: Vec<Handle>,
    #[serde(default)]
    pub reviews: Vec<ReviewMatter>,
    #[serde(default)]
    pub imported_from: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyMatter {
    pub decision: Requirement,
    #[serde(default)]
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReviewMatter {
    pub reviewer: Handle,
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
}

/// Writes free text as one line: as it is when that reads back the same, else as a JSON
/// string (a line break, surrounding spaces, or a leading quote).
pub(crate) fn quote(value: &str) -> String {
    let plain = !value.is_empty()
        && !value.contains(['\n', '\r'])
        && value.trim() == value
        && !value.starts_with('"');
    if plain {
        value.to_owned()
    } else {
        serde_json::to_string(value).expect("a string always serialises")
    }
}

/// Reads what [`quote`] wrote.
pub(crate) fn unquote(raw: &str) -> Result<String, String> {
    if raw.starts_with('"') {
        serde_json::from_str(raw).map_err(|error| {
            format!("`{raw}` starts with a quote but is not a complete quoted string ({error})")
        })
    } else {
        Ok(raw.to_owned())
    }
}

/// The heading of a section the template does not know: its name with the first letter
/// capitalised and `_` as spaces (`root_cause` is "Root cause").
pub(crate) fn humanize(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}

/// The section name for a heading the template does not know: lowercase ASCII words joined by
/// `_`, starting with a letter, at most 48 characters ("Root Cause" is `root_cause`).
pub(crate) fn section_name_of(heading: &str) -> String {
    let slug = slug::slugify(heading).replace('-', "_");
    let trimmed = slug.trim_start_matches(|c: char| !c.is_ascii_lowercase());
    let mut name: String = trimmed.chars().take(48).collect();
    while name.ends_with('_') {
        name.pop();
    }
    if name.is_empty() {
        "notes".to_owned()
    } else {
        name
    }
}

/// Removes blank lines at the start and whitespace at the end: the form in which a body or an
/// entry's text is written, so that reading it back gives the same text.
pub(crate) fn tidy(text: &str) -> &str {
    let trimmed = text.trim_end();
    let mut start = 0;
    for line in trimmed.split_inclusive('\n') {
        if line.trim().is_empty() {
            start += line.len();
        } else {
            break;
        }
    }
    &trimmed[start..]
}

/// The 1-based line of the first `key:` at the start of a line of `front`, for errors about a
/// value that YAML accepted but the domain refused.
pub(crate) fn key_line(front: &str, key: &str) -> usize {
    front
        .lines()
        .position(|line| {
            line.strip_prefix(key)
                .is_some_and(|rest| rest.starts_with(':'))
        })
        .map_or(1, |index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_read_back_as_written() {
        for value in ["plain", " padded ", "two\nlines", "\"quoted\"", "", "a · b"] {
            assert_eq!(unquote(&quote(value)).unwrap(), value);
        }
        assert_eq!(quote("plain words"), "plain words");
    }

    #[test]
    fn unknown_headings_become_names_and_back() {
        assert_eq!(section_name_of("Root Cause"), "root_cause");
        assert_eq!(section_name_of("5 Whys"), "whys");
        assert_eq!(section_name_of("!!!"), "notes");
        assert_eq!(humanize("root_cause"), "Root cause");
    }

    #[test]
    fn tidy_drops_leading_blank_lines_and_trailing_space() {
        assert_eq!(
            tidy("\n  \nSome text\n  indented\n\n"),
            "Some text\n  indented"
        );
        assert_eq!(tidy("    code\n"), "    code");
    }
}
