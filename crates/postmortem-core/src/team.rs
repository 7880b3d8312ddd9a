//! Teams: named groups of people. An incident names the teams involved, and the members of
//! those teams may read the incident when it is restricted.

use crate::{DisplayName, Name, ValidationError};
use serde::Serialize;
use time::OffsetDateTime;

parsed_string!(
    /// A team's slug, used in URLs and on incidents: 2 to 64 lowercase letters, digits and
    /// single `-` between them, as in `payments` or `site-reliability`.
    TeamName
);

impl TeamName {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        crate::characters::check_line("team", raw.as_ref())?;
        let folded = raw.as_ref().trim().to_ascii_lowercase();
        let valid = (2..=Self::MAX_CHARS).contains(&folded.len())
            && folded
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !folded.starts_with('-')
            && !folded.ends_with('-')
            && !folded.contains("--");
        if valid {
            Ok(Self(folded))
        } else {
            Err(ValidationError::new(
                "team",
                "must be 2 to 64 lowercase letters, digits and single `-` between them (e.g. `site-reliability`)",
            ))
        }
    }

    /// The same name as an incident's team name; every slug is a valid [`Name`], so an
    /// incident that names the team matches it exactly.
    pub fn as_name(&self) -> Name {
        Name::parse_field("team", self.0.as_str()).expect("a team slug is a valid name")
    }
}

/// A team as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    pub name: TeamName,
    pub display_name: DisplayName,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_names_are_lowercase_slugs() {
        assert_eq!(TeamName::parse(" Payments ").unwrap().as_str(), "payments");
        assert_eq!(
            TeamName::parse("site-reliability").unwrap().as_str(),
            "site-reliability"
        );
        for bad in [
            "",
            "a",
            "-sre",
            "sre-",
            "site--reliability",
            "pay ments",
            "pay.ments",
            "ÿ",
        ] {
            assert!(TeamName::parse(bad).is_err(), "{bad}");
        }
        assert!(TeamName::parse("x".repeat(65)).is_err());
    }

    #[test]
    fn a_refused_team_name_says_what_a_slug_looks_like() {
        let error = TeamName::parse("Pay Ments").unwrap_err();
        assert_eq!(error.field(), "team");
        assert!(error.rule().contains("site-reliability"));
    }

    proptest::proptest! {
        #[test]
        fn every_team_name_is_an_incident_team_name_and_parses_to_itself(raw in "[a-z0-9-]{0,70}") {
            if let Ok(team) = TeamName::parse(&raw) {
                proptest::prop_assert_eq!(TeamName::parse(team.as_str()).unwrap(), team.clone());
                proptest::prop_assert_eq!(team.as_name().into_inner(), team.into_inner());
            }
        }
    }
}
