//! The values the store takes and gives beyond the domain types: queries, pages, records.

use postmortem_core::{
    ActionItem, ActionKind, ActionStatus, ContributingFactor, DisplayName, Handle, Incident,
    IncidentId, IncidentKind, Name, Postmortem, PostmortemStatus, Priority, Review, ReviewComment,
    Role, SectionName, Severity, SystemActor, TimelineEntry, Title, UserId, serialize_date_option,
};
use serde::Serialize;
use time::{Date, OffsetDateTime};

/// Who is writing: a person, or a named part of the system (the demo generator, an import,
/// the notifier...). The audit log keeps the person's id or the system actor's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Person(UserId),
    System(SystemActor),
}

impl Actor {
    pub const DEMO: Actor = Actor::System(SystemActor::Demo);
    pub const IMPORT: Actor = Actor::System(SystemActor::Import);
    pub const ACCOUNTS: Actor = Actor::System(SystemActor::Accounts);
    pub const NOTIFY: Actor = Actor::System(SystemActor::Notify);
    pub const SIGN_IN: Actor = Actor::System(SystemActor::SignIn);

    pub fn user(id: UserId) -> Self {
        Actor::Person(id)
    }

    /// The person who acted, if a person did.
    pub fn person(self) -> Option<UserId> {
        match self {
            Actor::Person(id) => Some(id),
            Actor::System(_) => None,
        }
    }

    /// The system actor's stored name (`system:demo`), if the system acted.
    pub fn system_name(self) -> Option<&'static str> {
        match self {
            Actor::Person(_) => None,
            Actor::System(system) => Some(system.name()),
        }
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

/// A person's account at an identity provider. The provider promises never to reassign the
/// subject within its issuer, so the pair, not the email, identifies the person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalIdentity {
    pub issuer: String,
    pub subject: String,
    /// The email the provider gave at the first sign-in, for admins reading the audit log.
    pub email: Option<String>,
}

/// A sign-in through an identity provider that has started and not yet come back. The
/// nonce and PKCE verifier are single-use secrets that live for minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    /// SHA-256 of the `state` sent to the provider, hex.
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    /// The same-site path to go to once signed in.
    pub next_path: String,
    pub expires_at: OffsetDateTime,
}

/// How a new incident's post-mortem starts, as policy decided.
#[derive(Debug, Clone, PartialEq)]
pub struct PostmortemStart {
    pub status: PostmortemStatus,
    pub due_on: Option<Date>,
}

/// What the policy says after an incident's facts changed, to store with the new facts in
/// the same transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Reevaluation {
    pub decision: postmortem_core::policy::Requirement,
    pub reasons: Vec<String>,
    /// A move of the post-mortem the new decision calls for (to `owed` with a due date, or
    /// back to `not_required`), with the template to follow from now on; `None` leaves the
    /// post-mortem as it is.
    pub postmortem: Option<(PostmortemStart, postmortem_core::TemplateName)>,
}

/// The result of changing an incident's facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactsOutcome {
    /// Changed; the incident is now at `version`.
    Updated { version: i64 },
    /// Nothing was changed, because the incident changed after the writer's base version.
    Stale { current_version: i64 },
}

/// What an import writes beside a bundle, in the bundle's own transaction: the version an
/// export carried, the policy's decision and the people named on the incident.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportExtras {
    /// The version a new incident starts at (an export's, so exporting it again says the
    /// same); 1 when not given. An update bumps the stored version instead.
    pub version: Option<i64>,
    pub decision: Option<PolicyDecision>,
    /// People named on the incident, by handle; each must have an account.
    pub members: Vec<postmortem_core::Handle>,
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
    /// Changes made on purpose to the post-mortem after it was published, oldest first.
    pub revisions: Vec<postmortem_core::Revision>,
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

/// The incidents a person's home page starts from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonalIncidents {
    /// In review, with the person asked and not yet answered, longest waiting first.
    pub review_requests: Vec<IncidentSummary>,
    /// Drafts (or changes requested) the person recorded or wrote in, latest first.
    pub drafts: Vec<IncidentSummary>,
    /// Owed, draft or changes requested, recorded by the person or of their teams, soonest
    /// due first.
    pub owed: Vec<IncidentSummary>,
    /// Published in incidents the person recorded, is named on or whose team they are in.
    pub recently_published: Vec<IncidentSummary>,
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
    /// Incidents with a contributing factor of this category.
    pub factor: Option<postmortem_core::FactorCategory>,
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
            factor: None,
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

/// A change to a published post-mortem, said in words, saved with its sections.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRevision {
    /// What changed, in the reviser's words (already checked).
    pub note: String,
    /// The webhook event and JSON body that tell the reviewers, queued with the revision.
    pub notice: Option<(String, String)>,
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
    pub title: Option<Title>,
    pub kind: Option<ActionKind>,
    pub priority: Option<Priority>,
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
    /// The person who acted; `None` when the system did.
    pub actor: Option<UserId>,
    /// The system actor who acted (`system:demo`, `system:import`, `system:notify`...);
    /// `None` when a person did, and for system events written before actors were named.
    pub system_actor: Option<String>,
    /// What was done, `<kind>.<verb>`, such as `incident.create` or `section.save`.
    pub action: String,
    pub incident_id: Option<IncidentId>,
    /// What changed: always a `before` and an `after` (`null` when the thing did not exist
    /// before or does not after), each an object of the fields that describe it, and beside
    /// them whatever identifies the thing (`action_id`, `user_id`...) or explains the change
    /// (`note`). Never a secret: no password, token or session hashes, no webhook secrets.
    pub details: serde_json::Value,
}

/// Which audit events to read, newest first; every filter given narrows the page.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditQuery {
    pub actor: Option<UserId>,
    /// Only what this system actor did, by its name (`system:demo`).
    pub system_actor: Option<String>,
    pub incident: Option<IncidentId>,
    /// An exact action (`section.save`) or a kind (`section`), which matches all its actions.
    pub action: Option<String>,
    /// Only events at or after this instant.
    pub after: Option<OffsetDateTime>,
    /// Only events before this instant.
    pub before: Option<OffsetDateTime>,
    /// At most this many events (1 to 500).
    pub limit: i64,
    /// Where the previous page ended, as handed out in [`AuditPage::next_cursor`].
    pub cursor: Option<String>,
}

impl Default for AuditQuery {
    fn default() -> Self {
        AuditQuery {
            actor: None,
            system_actor: None,
            incident: None,
            action: None,
            after: None,
            before: None,
            limit: 50,
            cursor: None,
        }
    }
}

/// One page of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditPage {
    pub items: Vec<AuditEvent>,
    /// Pass back as [`AuditQuery::cursor`] for the next (older) page; `None` on the last.
    pub next_cursor: Option<String>,
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

/// An API token as its owner and admins see it: never the secret, which is shown once at
/// creation and stored only as a hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: UserId,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// Whether a token can still be used, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenState {
    Live,
    Expired,
    Revoked,
}

impl ApiToken {
    pub fn state(&self, now: OffsetDateTime) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            TokenState::Expired
        } else {
            TokenState::Live
        }
    }
}

/// How failed sign-ins against one subject (a handle or a client address) lock it out: the
/// first `free_failures` cost nothing, each further one locks the subject for
/// `first_lockout`, doubling per failure up to `longest_lockout`. Failures are forgotten
/// `forget_after` the last one, and a successful sign-in forgets a handle's at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub free_failures: i64,
    pub first_lockout: time::Duration,
    pub longest_lockout: time::Duration,
    pub forget_after: time::Duration,
}

impl LockoutPolicy {
    /// How long the subject is locked out after its `failures`-th failure in a row.
    pub fn lockout_after(&self, failures: i64) -> Option<time::Duration> {
        let over = failures
            .checked_sub(self.free_failures)
            .filter(|n| *n > 0)?;
        // 2^(over-1), saturating long before it could overflow a Duration.
        let factor = 1_i32.checked_shl(u32::try_from(over - 1).unwrap_or(u32::MAX).min(30));
        let lockout = factor
            .map(|f| self.first_lockout.saturating_mul(f))
            .unwrap_or(self.longest_lockout);
        Some(lockout.min(self.longest_lockout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    const POLICY: LockoutPolicy = LockoutPolicy {
        free_failures: 3,
        first_lockout: Duration::seconds(30),
        longest_lockout: Duration::minutes(15),
        forget_after: Duration::hours(24),
    };

    #[test]
    fn the_first_failures_are_free_and_later_ones_double_the_lockout_up_to_a_ceiling() {
        let lockouts: Vec<Option<i64>> = (1..=10)
            .map(|n| POLICY.lockout_after(n).map(|d| d.whole_seconds()))
            .collect();
        assert_eq!(
            lockouts,
            [
                None,
                None,
                None,
                Some(30),
                Some(60),
                Some(120),
                Some(240),
                Some(480),
                Some(900),
                Some(900)
            ]
        );
        assert_eq!(POLICY.lockout_after(i64::MAX), Some(Duration::minutes(15)));
    }

    #[test]
    fn a_revoked_token_stays_revoked_and_an_expired_one_is_expired_from_its_instant() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(100);
        let mut token = ApiToken {
            id: 1,
            user_id: UserId::new(1),
            label: "ci".into(),
            created_at: now,
            expires_at: Some(now + Duration::days(1)),
            revoked_at: None,
        };
        assert_eq!(token.state(now), TokenState::Live);
        assert_eq!(token.state(now + Duration::days(1)), TokenState::Expired);
        token.revoked_at = Some(now);
        assert_eq!(token.state(now), TokenState::Revoked);
    }
}
