//! The external (customer-facing) version of a review as data: which sections an author chose
//! to share, the replacements they changed or added, and each redaction made. The detection
//! itself is in `postmortem-markdown`; the store keeps these values as they are.

use crate::{IncidentId, SectionName, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The longest text a replacement may find or put in: a name, a host, a phrase.
pub const REPLACEMENT_MAX: usize = 200;

/// What kind of detail a redaction took out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RedactionKind {
    /// A person's name or handle, replaced by their role.
    Person,
    Email,
    /// An internal host name.
    Host,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A link to an internal site.
    Link,
    /// A chat link or channel (Slack, Teams, Discord, ...).
    Chat,
    /// A customer, account or tenant identifier.
    Customer,
    /// A text the author asked to replace.
    Author,
}

impl RedactionKind {
    /// How a page names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Person => "person",
            Self::Email => "email address",
            Self::Host => "internal host",
            Self::IpAddress => "IP address",
            Self::Link => "internal link",
            Self::Chat => "chat link or channel",
            Self::Customer => "customer identifier",
            Self::Author => "added by an author",
        }
    }
}

/// One replacement made in the external text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redaction {
    pub kind: RedactionKind,
    /// The section it was found in (`title` for the title).
    pub section: String,
    pub found: String,
    pub replaced_by: String,
}

/// A text to replace and what replaces it: an author's change to a detected redaction, or a
/// redaction of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawReplacement")]
pub struct Replacement {
    found: String,
    replaced_by: String,
}

#[derive(Deserialize)]
struct RawReplacement {
    found: String,
    replaced_by: String,
}

impl TryFrom<RawReplacement> for Replacement {
    type Error = ValidationError;

    fn try_from(raw: RawReplacement) -> Result<Self, Self::Error> {
        Self::parse(&raw.found, &raw.replaced_by)
    }
}

impl Replacement {
    /// One line each, at most [`REPLACEMENT_MAX`] characters; the found text is not blank.
    pub fn parse(found: &str, replaced_by: &str) -> Result<Self, ValidationError> {
        crate::check_line("found", found)?;
        crate::check_line("replaced_by", replaced_by)?;
        let found = found.trim();
        if found.is_empty() {
            return Err(ValidationError::new(
                "found",
                "is empty: give the text to replace",
            ));
        }
        for (field, text) in [("found", found), ("replaced_by", replaced_by)] {
            if text.chars().count() > REPLACEMENT_MAX {
                return Err(ValidationError::new(
                    field,
                    format!("is longer than {REPLACEMENT_MAX} characters"),
                ));
            }
        }
        Ok(Self {
            found: found.to_owned(),
            replaced_by: replaced_by.trim().to_owned(),
        })
    }

    pub fn found(&self) -> &str {
        &self.found
    }

    pub fn replaced_by(&self) -> &str {
        &self.replaced_by
    }

    /// Whether this replacement is for `text` (ASCII case does not matter).
    pub fn is_for(&self, text: &str) -> bool {
        self.found.eq_ignore_ascii_case(text)
    }
}

/// What an author asked of the external version.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExternalSpec {
    /// The sections to share, by name (`timeline` and `action_items` may be chosen too).
    pub sections: Vec<SectionName>,
    /// The organisation's own domains (`corp.example.com`): their hosts and links are internal.
    #[serde(default)]
    pub internal_domains: Vec<String>,
    /// Detected redactions whose replacement the author changed (found text → their text).
    #[serde(default)]
    pub changes: Vec<Replacement>,
    /// Texts the author asked to replace besides what was detected.
    #[serde(default)]
    pub additions: Vec<Replacement>,
}

impl ExternalSpec {
    /// The author's replacement for a detected `found`, if they changed it.
    pub fn change_for(&self, found: &str) -> Option<&str> {
        self.changes
            .iter()
            .find(|change| change.is_for(found))
            .map(Replacement::replaced_by)
    }
}

/// Upserts `replacement` into `list`, keyed by its found text.
pub fn upsert_replacement(list: &mut Vec<Replacement>, replacement: Replacement) {
    match list.iter_mut().find(|r| r.is_for(&replacement.found)) {
        Some(existing) => *existing = replacement,
        None => list.push(replacement),
    }
}

/// A stored draft of the external version: what was asked, and the text and redactions made
/// from it when it was last written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExternalDraft {
    pub incident: IncidentId,
    pub spec: ExternalSpec,
    pub title: String,
    pub markdown: String,
    pub redactions: Vec<Redaction>,
    /// Bumped by every write; an edit names the version it started from.
    pub version: i64,
    pub updated_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A published external version, readable by anyone at `/public/incidents/{slug}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publication {
    pub incident: IncidentId,
    pub slug: String,
    pub title: String,
    pub markdown: String,
    pub published_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub published_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replacement_is_one_short_line_that_finds_something() {
        assert!(Replacement::parse("Acme Corp", "a customer").is_ok());
        assert!(Replacement::parse("  ", "x").is_err());
        assert!(Replacement::parse("a\nb", "x").is_err());
        assert!(Replacement::parse(&"x".repeat(201), "y").is_err());
    }

    #[test]
    fn a_change_replaces_the_one_for_the_same_text() {
        let mut list = vec![Replacement::parse("db1", "a host").unwrap()];
        upsert_replacement(&mut list, Replacement::parse("DB1", "a server").unwrap());
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].replaced_by(), "a server");
    }
}
