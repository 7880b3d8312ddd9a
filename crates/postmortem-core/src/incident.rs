//! Incidents: what happened, how bad it was, where, and who was touched by it.

use crate::{IncidentId, Name, TemplateName, Title, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

closed_set!(
    /// What kind of event the incident was.
    IncidentKind, field = "kind" {
        Outage => "outage",
        Degradation => "degradation",
        DataLoss => "data_loss",
        Security => "security",
        NearMiss => "near_miss",
    }
);

/// How severe an incident was: `SEV1` is the worst. Organisations configure how many levels
/// they use (four by default); the wire form is `SEV<n>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Severity(u8);

impl Severity {
    /// Levels in the default scale: SEV1 to SEV4.
    pub const DEFAULT_LEVELS: u8 = 4;
    /// The largest scale an organisation may configure.
    pub const MAX_LEVELS: u8 = 9;

    /// Parses `SEV1` .. `SEV4` (case-insensitive), the default scale.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::parse_in_scale(raw, Self::DEFAULT_LEVELS)
    }

    /// Parses a severity of a scale with `n_levels` levels.
    pub fn parse_in_scale(raw: &str, n_levels: u8) -> Result<Self, ValidationError> {
        let n_levels = n_levels.clamp(1, Self::MAX_LEVELS);
        let trimmed = raw.trim();
        let level = trimmed
            .get(..3)
            .filter(|prefix| prefix.eq_ignore_ascii_case("sev"))
            .and_then(|_| trimmed[3..].parse::<u8>().ok())
            .filter(|level| (1..=n_levels).contains(level));
        level.map(Self).ok_or_else(|| {
            ValidationError::new(
                "severity",
                format!("`{trimmed}` is not a severity; use SEV1 (worst) to SEV{n_levels}"),
            )
        })
    }

    /// The level as a number, 1 being the worst.
    pub const fn level(self) -> u8 {
        self.0
    }

    /// Whether this severity is as bad as `other` or worse.
    pub const fn at_least(self, other: Severity) -> bool {
        self.0 <= other.0
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SEV{}", self.0)
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Severity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse_in_scale(&raw, Self::MAX_LEVELS).map_err(serde::de::Error::custom)
    }
}

/// The facts of an incident's impact, which decide whether a post-mortem is owed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Impact {
    /// Users could see the problem.
    pub user_visible: bool,
    /// Minutes during which customers were affected.
    pub customer_minutes: u32,
    /// How many customers were affected, as far as known.
    pub customers_affected: u64,
    /// Some data was lost for good.
    pub data_loss: bool,
    /// Recovery needed a person to step in by hand.
    pub manual_intervention: bool,
}

/// A validated request to record a new incident.
#[derive(Debug, Clone, PartialEq)]
pub struct NewIncident {
    pub title: Title,
    pub kind: IncidentKind,
    pub severity: Severity,
    pub started_at: Option<OffsetDateTime>,
    pub services: Vec<Name>,
    pub teams: Vec<Name>,
    pub impact: Impact,
    /// Restricted incidents are visible only to named people, their teams and admins.
    /// Security incidents are restricted unless the author says otherwise.
    pub restricted: bool,
    pub template: TemplateName,
}

impl NewIncident {
    /// Whether an incident of `kind` starts restricted when the author did not say.
    pub fn restricted_by_default(kind: IncidentKind) -> bool {
        kind == IncidentKind::Security
    }
}

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    pub id: IncidentId,
    pub title: Title,
    pub kind: IncidentKind,
    pub severity: Severity,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    pub services: Vec<Name>,
    pub teams: Vec<Name>,
    pub impact: Impact,
    pub restricted: bool,
    pub created_by: UserId,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// Bumped by every change to the incident or anything in it; the basis of its ETag.
    pub version: i64,
}

/// The facts of an incident that people may correct after recording it: everything but who
/// recorded it and when. An edit replaces them as a whole (the caller merges a partial change
/// into the current facts first), so the policy can be evaluated on the result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IncidentFacts {
    pub title: Title,
    pub kind: IncidentKind,
    pub severity: Severity,
    #[serde(with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    pub services: Vec<Name>,
    pub teams: Vec<Name>,
    pub impact: Impact,
    pub restricted: bool,
}

impl Incident {
    /// The incident's current facts, as an edit starts from them.
    pub fn facts(&self) -> IncidentFacts {
        IncidentFacts {
            title: self.title.clone(),
            kind: self.kind,
            severity: self.severity,
            started_at: self.started_at,
            services: self.services.clone(),
            teams: self.teams.clone(),
            impact: self.impact,
            restricted: self.restricted,
        }
    }
}

/// Deduplicates names in their first-seen order; services and teams are sets.
pub fn dedup_names(names: Vec<Name>) -> Vec<Name> {
    let mut seen = std::collections::HashSet::new();
    names
        .into_iter()
        .filter(|name| seen.insert(name.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_case_insensitively_within_the_scale() {
        assert_eq!(Severity::parse("SEV1").unwrap().level(), 1);
        assert_eq!(Severity::parse("sev4").unwrap().level(), 4);
        assert!(Severity::parse("SEV5").is_err());
        assert!(Severity::parse_in_scale("SEV5", 5).is_ok());
        assert!(Severity::parse("SEV0").is_err());
        assert!(Severity::parse("high").is_err());
        assert!(Severity::parse("").is_err());
    }

    #[test]
    fn an_unknown_severity_is_refused_with_the_accepted_range() {
        let error = Severity::parse("critical").unwrap_err();
        assert_eq!(error.field(), "severity");
        assert!(error.rule().contains("SEV1 (worst) to SEV4"), "{error}");
    }

    #[test]
    fn sev1_is_worse_than_sev2() {
        let sev1 = Severity::parse("SEV1").unwrap();
        let sev2 = Severity::parse("SEV2").unwrap();
        assert!(sev1.at_least(sev2));
        assert!(!sev2.at_least(sev1));
    }

    #[test]
    fn an_unknown_kind_lists_the_accepted_kinds() {
        let error = IncidentKind::parse("meltdown").unwrap_err();
        assert_eq!(
            error.to_string(),
            "kind: `meltdown` is not one of: outage, degradation, data_loss, security, near_miss"
        );
    }

    #[test]
    fn kinds_round_trip_through_json() {
        for kind in IncidentKind::ALL {
            let json = serde_json::to_string(kind).unwrap();
            assert_eq!(&serde_json::from_str::<IncidentKind>(&json).unwrap(), kind);
        }
    }

    #[test]
    fn impact_refuses_unknown_fields_and_negative_minutes() {
        assert!(serde_json::from_str::<Impact>(r#"{"customer_minutez": 3}"#).is_err());
        assert!(serde_json::from_str::<Impact>(r#"{"customer_minutes": -3}"#).is_err());
        let impact: Impact = serde_json::from_str(r#"{"user_visible": true}"#).unwrap();
        assert!(impact.user_visible);
        assert_eq!(impact.customer_minutes, 0);
    }

    #[test]
    fn security_incidents_start_restricted() {
        assert!(NewIncident::restricted_by_default(IncidentKind::Security));
        assert!(!NewIncident::restricted_by_default(IncidentKind::Outage));
    }
}
