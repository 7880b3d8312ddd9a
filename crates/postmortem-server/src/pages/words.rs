//! The words a person reads for the closed vocabularies the API spells in `snake_case`:
//! statuses, kinds, markers and the like. Pages show these, never the wire spelling.

use postmortem_core::policy::Requirement;
use postmortem_core::{
    ActionKind, ActionStatus, IncidentKind, Marker, Perspective, PostmortemStatus, Priority,
    ReviewDecision, Role, Source,
};

/// A value as a person reads it.
pub(crate) trait Words: Copy {
    fn words(self) -> &'static str;
}

impl Words for ActionStatus {
    fn words(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in progress",
            ActionStatus::Done => "done",
            ActionStatus::WontDo => "won't do",
        }
    }
}

impl Words for ActionKind {
    fn words(self) -> &'static str {
        match self {
            ActionKind::Prevent => "prevent it happening again",
            ActionKind::Detect => "detect it sooner",
            ActionKind::Mitigate => "limit the harm",
            ActionKind::Process => "change how we work",
        }
    }
}

impl Words for Priority {
    fn words(self) -> &'static str {
        match self {
            Priority::P1 => "P1, urgent",
            Priority::P2 => "P2, soon",
            Priority::P3 => "P3, when we can",
        }
    }
}

impl Words for Marker {
    fn words(self) -> &'static str {
        match self {
            Marker::ImpactStart => "impact started",
            Marker::Detected => "detected",
            Marker::Mitigated => "mitigated",
            Marker::Resolved => "resolved",
        }
    }
}

impl Words for Perspective {
    fn words(self) -> &'static str {
        match self {
            Perspective::Happened => "what happened",
            Perspective::Observed => "what someone saw",
            Perspective::Believed => "what someone believed",
        }
    }
}

impl Words for Source {
    fn words(self) -> &'static str {
        match self {
            Source::Manual => "written by hand",
            Source::Chat => "from chat",
            Source::Alert => "from an alert",
            Source::Deploy => "from a deploy",
            Source::Import => "imported",
        }
    }
}

impl Words for IncidentKind {
    fn words(self) -> &'static str {
        match self {
            IncidentKind::Outage => "outage",
            IncidentKind::Degradation => "degradation",
            IncidentKind::DataLoss => "data loss",
            IncidentKind::Security => "security",
            IncidentKind::NearMiss => "near miss",
        }
    }
}

impl Words for PostmortemStatus {
    fn words(self) -> &'static str {
        match self {
            PostmortemStatus::NotRequired => "no review needed",
            PostmortemStatus::Owed => "owed, not started",
            PostmortemStatus::Draft => "draft",
            PostmortemStatus::InReview => "in review",
            PostmortemStatus::ChangesRequested => "changes requested",
            PostmortemStatus::Approved => "approved",
            PostmortemStatus::Published => "published",
        }
    }
}

impl Words for Requirement {
    fn words(self) -> &'static str {
        match self {
            Requirement::NotRequired => "not required",
            Requirement::Recommended => "recommended",
            Requirement::Required => "required",
        }
    }
}

impl Words for ReviewDecision {
    fn words(self) -> &'static str {
        match self {
            ReviewDecision::Requested => "review requested",
            ReviewDecision::Approved => "approved",
            ReviewDecision::ChangesRequested => "changes requested",
        }
    }
}

impl Words for Role {
    fn words(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Contributor => "contributor",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Words;
    use postmortem_core::{ActionStatus, IncidentKind, PostmortemStatus};

    #[test]
    fn no_word_is_spelled_like_the_wire() {
        let words: Vec<&str> = ActionStatus::ALL
            .iter()
            .map(|s| s.words())
            .chain(IncidentKind::ALL.iter().map(|k| k.words()))
            .chain(PostmortemStatus::ALL.iter().map(|s| s.words()))
            .collect();
        assert!(words.iter().all(|w| !w.contains('_')), "{words:?}");
    }
}
