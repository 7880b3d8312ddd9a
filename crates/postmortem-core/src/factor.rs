//! Contributing factors: the conditions that let a trigger bite, in a shared taxonomy.

use crate::{FactorId, IncidentId, Markdown};
use serde::Serialize;

closed_set!(
    /// The taxonomy of contributing factors, after the conditions the practice names.
    FactorCategory, field = "category" {
        UnclearOwnership => "unclear_ownership",
        AwkwardTooling => "awkward_tooling",
        /// Missing or noisy alerting.
        Alerting => "alerting",
        /// People overloaded or fatigued.
        Overload => "overload",
        ConfusingInterface => "confusing_interface",
        RiskyDefault => "risky_default",
        HiddenDependency => "hidden_dependency",
        /// Runbooks or documentation out of date.
        OutdatedDocs => "outdated_docs",
        UnrehearsedPath => "unrehearsed_path",
        InsufficientTesting => "insufficient_testing",
        Capacity => "capacity",
        ChangeManagement => "change_management",
        Communication => "communication",
        ThirdParty => "third_party",
        Other => "other",
    }
);

impl FactorCategory {
    /// A short human label for lists and charts.
    pub fn label(self) -> &'static str {
        use FactorCategory::*;
        match self {
            UnclearOwnership => "Unclear ownership",
            AwkwardTooling => "Awkward tooling",
            Alerting => "Missing or noisy alerting",
            Overload => "Overloaded people",
            ConfusingInterface => "Confusing interface",
            RiskyDefault => "Risky default",
            HiddenDependency => "Hidden dependency",
            OutdatedDocs => "Outdated runbook or docs",
            UnrehearsedPath => "Unrehearsed path",
            InsufficientTesting => "Insufficient testing",
            Capacity => "Capacity",
            ChangeManagement => "Change management",
            Communication => "Communication",
            ThirdParty => "Third party",
            Other => "Other",
        }
    }
}

/// A validated request to add a contributing factor.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFactor {
    pub category: FactorCategory,
    pub description: Markdown,
    /// The trigger is one factor among the conditions that let it bite.
    pub is_trigger: bool,
}

/// A contributing factor as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContributingFactor {
    pub id: FactorId,
    pub incident_id: IncidentId,
    pub category: FactorCategory,
    pub description: Markdown,
    pub is_trigger: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_taxonomy_spells_categories_as_the_api_does() {
        assert_eq!(
            FactorCategory::parse("outdated_docs").unwrap(),
            FactorCategory::OutdatedDocs
        );
        assert_eq!(FactorCategory::ALL.len(), 15);
        assert!(FactorCategory::parse("human_error").is_err());
    }
}
