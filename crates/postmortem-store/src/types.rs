//! The values the store takes and gives beyond the domain types: queries, pages, records.

use postmortem_core::{
    ActionItem, ActionStatus, ContributingFactor, DisplayName, Handle, Incident, IncidentId,
    IncidentKind, Name, Postmortem, PostmortemStatus, Review, ReviewComment, Role, SectionName,
    Severity, TimelineEntry, UserId,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// Who is writing: a person, or the system itself (imports, the first admin).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actor(pub Option<UserId>);

impl Actor {
    pub const SYSTEM: Actor = Actor(None);

    pub fn user(id: UserId) -> Self {
        Actor(Some(id))
    }
}

/// Whose eyes a read is for: restricted incidents are hidden from people who are not their
/// members (the one who recorded it, the people named on it and the members of the teams
/// it names), unless the reader sees everything (admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    Everything,
    Person(UserId),
}

impl Visibility {
    /// The view of a reader who belongs to no incident: only unrestricted incidents. For what
    /// goes to shared channels (digests, webhooks, reminders). Ids start at 1 in both
    /// backends, so user 0 is nobody's account and no restricted incident names it.
    pub const fn unrestricted() -> Self {
        Visibility::Person(UserId::new(0))
    }
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub handle: Handle,
    pub display_name: DisplayName,
    pub role: Role,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewTeam {
    pub name: postmortem_core::TeamName,
    pub display_name: DisplayName,
}

#[derive(Debug, Clone)]
pub struct NewApiToken {
    pub user_id: UserId,
    /// SHA-256 of the token, hex; the token itself is never stored.
    pub token_hash: String,
    pub label: String,
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Debug, Clone)]
pub struct NewSession {
    pub user_id: UserId,
    pub session_hash: String,
    pub expires_at: OffsetDateTime,
}

/// How a new incident's post-mortem starts, as policy decided.
#[derive(Debug, Clone, PartialEq)]
pub struct PostmortemStart {
    pub status: PostmortemStatus,
    pub due_on: Option<Date>,
}

/// An incident with everything in it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRecord {
    #[serde(flatten)]
    pub incident: Incident,
    pub postmortem: Postmortem,
    /// What the policy decided when the incident was recorded (or last re-evaluated).
    pub decision: Option<PolicyDecision>,
    pub timeline: Vec<TimelineEntry>,
    pub factors: Vec<ContributingFactor>,
    pub actions: Vec<ActionItem>,
    pub reviews: Vec<Review>,
    pub comments: Vec<ReviewComment>,
    /// People named on a restricted incident.
    pub members: Vec<UserId>,
}

/// The post-mortem policy's decision about an incident, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    pub decision: postmortem_core::policy::Requirement,
    pub reasons: Vec<String>,
}

/// One row of the incident list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentSummary {
    #[serde(flatten)]
    pub incident: Incident,
    pub status: PostmortemStatus,
    pub template: postmortem_core::TemplateName,
    #[serde(serialize_with = "serialize_date_option")]
    pub due_on: Option<Date>,
}

pub(crate) fn serialize_date_option<S: serde::Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&postmortem_core::format_date(*date)),
        None => serializer.serialize_none(),
    }
}

/// How the incident list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IncidentSort {
    #[default]
    Newest,
    Oldest,
    /// Worst first, newest first within a severity.
    Severity,
}

/// Filters and a page of the incident list.
#[derive(Debug, Clone)]
pub struct IncidentQuery {
    pub visibility: Visibility,
    pub status: Option<PostmortemStatus>,
    pub severity: Option<Severity>,
    pub kind: Option<IncidentKind>,
    pub service: Option<Name>,
    pub team: Option<Name>,
    /// Incidents that started on or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Incidents that started before this instant.
    pub until: Option<OffsetDateTime>,
    /// Words that must appear in the title.
    pub title_contains: Option<String>,
    pub sort: IncidentSort,
    pub limit: i64,
    pub cursor: Option<String>,
}

impl IncidentQuery {
    pub fn new(visibility: Visibility) -> Self {
        Self {
            visibility,
            status: None,
            severity: None,
            kind: None,
            service: None,
            team: None,
            from: None,
            until: None,
            title_contains: None,
            sort: IncidentSort::Newest,
            limit: 50,
            cursor: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentPage {
    pub items: Vec<IncidentSummary>,
    /// Hand this back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// How many incidents match the filters in all.
    pub total: i64,
}

/// The result of saving sections.
#[derive(Debug, Clone, PartialEq)]
pub enum SaveOutcome {
    /// Saved; the incident is now at `version`.
    Saved { version: i64 },
    /// Nothing was saved, because these sections changed after the writer's base version.
    Conflict {
        current_version: i64,
        sections: Vec<ConflictingSection>,
    },
}

/// A section someone else saved while the writer was editing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConflictingSection {
    pub name: SectionName,
    pub current_body: String,
    pub current_version: i64,
    pub updated_by: Option<UserId>,
}

/// A change to an action item; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ActionUpdate {
    pub status: Option<ActionStatus>,
    pub wont_do_reason: Option<String>,
    pub owner: Option<Option<UserId>>,
    pub due_on: Option<Option<Date>>,
    pub verification: Option<String>,
}

/// One row of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub seq: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub incident_id: Option<IncidentId>,
    /// What kind of thing changed: `incident`, `section`, `timeline`, `user`...
    pub entity: String,
    /// What happened to it: `create`, `update`, `import`...
    pub op: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: Option<UserId>,
    /// What was done, such as `incident.create` or `section.save`.
    pub action: String,
    pub incident_id: Option<IncidentId>,
    /// What changed, with before and after values where there are any.
    pub details: serde_json::Value,
}

/// Which action items to list.
#[derive(Debug, Clone)]
pub struct ActionQuery {
    pub visibility: Visibility,
    pub owner: Option<UserId>,
    pub team: Option<Name>,
    pub status: Option<postmortem_core::ActionStatus>,
    /// Only items still open past their due date.
    pub overdue: bool,
    /// The day overdue is judged on, in the organisation's time zone.
    pub today: Date,
    pub sort: ActionSort,
    pub limit: i64,
    pub offset: i64,
}

impl ActionQuery {
    pub fn new(visibility: Visibility, today: Date) -> Self {
        Self {
            visibility,
            owner: None,
            team: None,
            status: None,
            overdue: false,
            today,
            sort: ActionSort::DueFirst,
            limit: 100,
            offset: 0,
        }
    }
}

/// How action items are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActionSort {
    /// Soonest (or longest overdue) first; items without a due date last.
    #[default]
    DueFirst,
    /// Most recently completed first: what changed the system lately.
    RecentlyCompleted,
}

/// An action item with what a list shows beside it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionListItem {
    #[serde(flatten)]
    pub action: ActionItem,
    pub incident_title: String,
    pub owner_handle: Option<String>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionPage {
    pub items: Vec<ActionListItem>,
    pub total: i64,
}

/// An outgoing webhook as an admin sees it. The signing secret is not part of it: it was
/// chosen by the admin who created the webhook, and lists never show it again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// The events it receives; `*` stands for every event.
    pub events: Vec<String>,
    pub active: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl Webhook {
    /// Whether the webhook receives `event`.
    pub fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|e| e == event || e == "*")
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered, and still to be tried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Given up after [`DeliveryStatus::MAX_ATTEMPTS`] failed attempts.
    Failed,
}

impl DeliveryStatus {
    /// How many failed attempts a delivery gets before it is given up.
    pub const MAX_ATTEMPTS: i64 = 8;

    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }

    /// How long to wait after the `attempts`-th failed attempt: 30 seconds, doubling with
    /// each failure, at most an hour, so a receiver that is down for a while is not hammered
    /// and one that comes back soon is not kept waiting long.
    pub fn backoff(attempts: i64) -> time::Duration {
        let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
        time::Duration::seconds((30_i64 << exponent).min(3600))
    }
}

/// How one attempt to deliver went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// The receiver answered with a success status.
    Delivered { response_code: u16 },
    /// The receiver answered with an error status, or could not be reached at all.
    Failed {
        response_code: Option<u16>,
        error: String,
    },
}

/// A delivery that is due, with what is needed to send it.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    /// The webhook's signing secret.
    pub secret: String,
    pub event: String,
    /// The JSON body, exactly as it is to be sent and signed.
    pub payload: String,
    /// Attempts made before this one.
    pub attempts: i64,
}

/// One row of the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub event: String,
    pub payload: String,
    pub attempts: i64,
    pub status: DeliveryStatus,
    /// The HTTP status of the last answer, if the receiver answered.
    pub response_code: Option<i64>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub next_attempt_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}
