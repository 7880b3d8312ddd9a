//! Action items: the changes a review commits to, tracked until they changed the system.

use crate::{ActionId, FactorId, IncidentId, Name, Title, UserId, ValidationError, WebLink};
use serde::Serialize;
use time::{Date, OffsetDateTime};

closed_set!(
    /// What an action item changes.
    ActionKind, field = "kind" {
        Prevent => "prevent",
        Detect => "detect",
        Mitigate => "mitigate",
        Process => "process",
    }
);

closed_set!(
    /// Where an action item stands.
    ActionStatus, field = "status" {
        Open => "open",
        InProgress => "in_progress",
        Done => "done",
        /// Decided against, with a written reason.
        WontDo => "wont_do",
    }
);

impl ActionKind {
    /// The kind as a person reads it, on pages, in CSV downloads and on the command line.
    pub fn words(self) -> &'static str {
        match self {
            ActionKind::Prevent => "prevent it happening again",
            ActionKind::Detect => "detect it sooner",
            ActionKind::Mitigate => "limit the harm",
            ActionKind::Process => "change how we work",
        }
    }
}

impl ActionStatus {
    /// Whether the item still asks for work.
    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

closed_set!(
    /// How urgent an action item is.
    Priority, field = "priority" {
        P1 => "p1",
        P2 => "p2",
        P3 => "p3",
    }
);

/// A validated request to add an action item.
#[derive(Debug, Clone, PartialEq)]
pub struct NewActionItem {
    pub title: Title,
    pub owner: Option<UserId>,
    pub team: Option<Name>,
    pub due_on: Option<Date>,
    pub priority: Priority,
    pub kind: ActionKind,
    pub status: ActionStatus,
    /// Why it will not be done; required exactly when the status is `wont_do`.
    pub wont_do_reason: Option<String>,
    pub external_url: Option<WebLink>,
    pub factor_ids: Vec<FactorId>,
    /// How we know it changed the system; expected once it is done.
    pub verification: Option<String>,
}

impl NewActionItem {
    /// Checks the rules that tie fields together.
    pub fn check(&self) -> Result<(), ValidationError> {
        check_reason(self.status, self.wont_do_reason.as_deref())
    }
}

/// A `wont_do` item needs a reason, and only such an item carries one.
pub fn check_reason(status: ActionStatus, reason: Option<&str>) -> Result<(), ValidationError> {
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    match (status, has_reason) {
        (ActionStatus::WontDo, false) => Err(ValidationError::new(
            "wont_do_reason",
            "is required when the status is `wont_do`: say why the item will not be done",
        )),
        _ => Ok(()),
    }
}

/// An action item as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionItem {
    pub id: ActionId,
    pub incident_id: IncidentId,
    pub title: Title,
    pub owner: Option<UserId>,
    pub team: Option<Name>,
    #[serde(serialize_with = "crate::serialize_date_option")]
    pub due_on: Option<Date>,
    pub priority: Priority,
    pub kind: ActionKind,
    pub status: ActionStatus,
    pub wont_do_reason: Option<String>,
    pub external_url: Option<WebLink>,
    pub factor_ids: Vec<FactorId>,
    pub verification: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub completed_at: Option<OffsetDateTime>,
}

impl ActionItem {
    /// Whether the item is still open past its due date, as seen on `today`.
    pub fn is_overdue(&self, today: Date) -> bool {
        self.status.is_open() && self.due_on.is_some_and(|due_on| due_on < today)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wont_do_needs_a_reason() {
        assert!(check_reason(ActionStatus::WontDo, None).is_err());
        assert!(check_reason(ActionStatus::WontDo, Some("  ")).is_err());
        assert!(check_reason(ActionStatus::WontDo, Some("replaced by #12")).is_ok());
        assert!(check_reason(ActionStatus::Open, None).is_ok());
    }

    #[test]
    fn only_open_items_are_overdue() {
        let mut item = ActionItem {
            id: ActionId::new(1),
            incident_id: IncidentId::new(1),
            title: Title::parse("Add a confirmation prompt to the failover tool").unwrap(),
            owner: None,
            team: None,
            due_on: Some(time::macros::date!(2025 - 01 - 10)),
            priority: Priority::P2,
            kind: ActionKind::Prevent,
            status: ActionStatus::Open,
            wont_do_reason: None,
            external_url: None,
            factor_ids: vec![],
            verification: None,
            created_at: time::macros::datetime!(2025-01-01 0:00 UTC),
            completed_at: None,
        };
        assert!(item.is_overdue(time::macros::date!(2025 - 01 - 11)));
        assert!(!item.is_overdue(time::macros::date!(2025 - 01 - 10)));
        item.status = ActionStatus::Done;
        assert!(!item.is_overdue(time::macros::date!(2025 - 01 - 11)));
    }
}
