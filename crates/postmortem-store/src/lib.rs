//! Storage of the post-mortem system: one trait, [`Store`], with a SQLite and a PostgreSQL
//! implementation chosen by the URL scheme, and embedded migrations run at start.
//!
//! Every write that touches an incident runs in one transaction that also bumps the
//! incident's version, appends an audit event and appends a change-feed row. The change feed
//! is strictly increasing in commit order, so other components (the search index, other
//! server nodes) follow it with `changes_since(last_seen)`.

#[macro_use]
mod sql;

mod cache;
mod clock;
mod error;
mod integrations;
mod postgres;
mod rows;
mod sqlite;
#[cfg(feature = "testing")]
pub mod testing;
mod types;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, StoreError};
pub use integrations::{
    Deploy, HookDelivery, HookOutcome, Integration, NewDeploy, NewHookDelivery, NewIntegration,
    SourcedEntry, SourcedOutcome,
};
pub use postgres::PgStore;
pub use postmortem_core::{ExternalDraft, Publication};
pub use sqlite::SqliteStore;
pub use types::*;

/// A draft of the external version to save.
#[derive(Debug, Clone)]
pub struct NewExternalDraft {
    pub incident: IncidentId,
    pub spec: postmortem_core::ExternalSpec,
    pub title: String,
    pub markdown: String,
    pub redactions: Vec<postmortem_core::Redaction>,
    /// The version the writer started from (0: no draft yet); `None` replaces whatever is
    /// stored.
    pub expected_version: Option<i64>,
}

/// An external version to publish.
#[derive(Debug, Clone)]
pub struct NewPublication {
    pub incident: IncidentId,
    pub slug: String,
    pub title: String,
    pub markdown: String,
}

use async_trait::async_trait;
use postmortem_core::{
    ActionId, ActionItem, ContributingFactor, FactorId, Handle, IncidentBundle, IncidentFacts,
    IncidentId, Markdown, Name, NewActionItem, NewFactor, NewIncident, NewTimelineEntry,
    PostmortemStatus, ReviewComment, ReviewDecision, Role, SectionName, Team, TeamName,
    TimelineEntry, TimelineEntryId, User, UserId,
};
use std::sync::Arc;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The storage operations of the system. Implementations must behave identically; the shared
/// test suite in `tests/` holds both to that.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug + 'static {
    fn backend(&self) -> Backend;

    /// "Now" as the store's clock tells it, for callers that compare with stored instants
    /// (token expiry, lockouts); tests move this clock instead of sleeping.
    fn now(&self) -> time::OffsetDateTime;

    /// Answers when the database answers a trivial query.
    async fn ping(&self) -> Result<()>;

    // People and credentials.

    async fn create_user(&self, actor: Actor, user: NewUser) -> Result<User>;
    async fn count_users(&self) -> Result<i64>;
    async fn user(&self, id: UserId) -> Result<Option<User>>;
    async fn user_by_handle(&self, handle: &Handle) -> Result<Option<User>>;
    async fn users(&self) -> Result<Vec<User>>;
    /// The user and their password hash, for signing in.
    async fn credentials(&self, handle: &Handle) -> Result<Option<(User, Option<String>)>>;
    async fn set_password_hash(&self, actor: Actor, user: UserId, hash: &str) -> Result<()>;
    async fn create_api_token(&self, actor: Actor, token: NewApiToken) -> Result<i64>;
    /// The user a live (unexpired, unrevoked) token hash belongs to.
    async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>>;
    async fn create_session(&self, session: NewSession) -> Result<()>;
    async fn user_by_session_hash(&self, session_hash: &str) -> Result<Option<User>>;
    async fn delete_session(&self, session_hash: &str) -> Result<()>;
    /// A person's API tokens (everyone's when `owner` is `None`), newest first, live or not.
    async fn api_tokens(&self, owner: Option<UserId>) -> Result<Vec<ApiToken>>;
    async fn api_token(&self, id: i64) -> Result<Option<ApiToken>>;
    /// The token a hash belongs to, live or not, to tell its holder why it was refused.
    async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>>;
    /// Revokes a token from now on; revoking a revoked token keeps its first revocation.
    async fn revoke_api_token(&self, actor: Actor, id: i64) -> Result<ApiToken>;

    // Sign-in throttling, in the database so that every node shares it.

    /// Until when `subject` (a handle or a client address) is locked out, if it is now.
    async fn login_locked_until(&self, subject: &str) -> Result<Option<time::OffsetDateTime>>;
    /// Counts a failed sign-in against `subject` and locks it out as `policy` says; answers
    /// until when it is locked out, if it is.
    async fn record_login_failure(
        &self,
        subject: &str,
        policy: &LockoutPolicy,
    ) -> Result<Option<time::OffsetDateTime>>;
    /// Forgets the failed sign-ins of `subject`, after a successful one.
    async fn clear_login_failures(&self, subject: &str) -> Result<()>;

    // Sign-in through an identity provider (OpenID Connect).

    /// Keeps a sign-in in progress until the provider sends the person back; expired ones
    /// are dropped on the way.
    async fn save_pending_sign_in(&self, pending: PendingSignIn) -> Result<()>;
    /// Removes and returns the sign-in in progress with this state hash, unless it has
    /// expired: a state is honoured once.
    async fn take_pending_sign_in(&self, state_hash: &str) -> Result<Option<PendingSignIn>>;
    /// The person linked to a provider's account.
    async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>>;
    /// Creates a person who signs in through an identity provider, linked to that account,
    /// in one transaction.
    async fn create_user_with_identity(
        &self,
        actor: Actor,
        user: NewUser,
        identity: ExternalIdentity,
    ) -> Result<User>;

    /// Gives a person another role. Refused when it would leave nobody with the admin role.
    async fn set_role(&self, actor: Actor, user: UserId, role: Role) -> Result<User>;

    // Teams.

    async fn create_team(&self, actor: Actor, team: NewTeam) -> Result<Team>;
    /// Every team, by name.
    async fn teams(&self) -> Result<Vec<Team>>;
    async fn team(&self, name: &TeamName) -> Result<Option<Team>>;
    /// The team's members, by handle.
    async fn team_members(&self, name: &TeamName) -> Result<Vec<User>>;
    /// The teams a person belongs to, by name.
    async fn teams_of(&self, user: UserId) -> Result<Vec<TeamName>>;
    /// Makes a person a member of a team; a member already is one, and that is no error.
    async fn add_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()>;
    /// Takes a person out of a team; someone who is not a member stays out, with no error.
    async fn remove_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()>;

    // Incidents.

    async fn create_incident(
        &self,
        actor: Actor,
        incident: NewIncident,
        postmortem: PostmortemStart,
    ) -> Result<IncidentId>;
    /// Records an incident together with the policy's decision about its post-mortem and the
    /// reasons, in one transaction.
    async fn create_incident_decided(
        &self,
        actor: Actor,
        incident: NewIncident,
        postmortem: PostmortemStart,
        decision: postmortem_core::policy::Requirement,
        reasons: Vec<String>,
    ) -> Result<IncidentId>;
    /// Writes whole incidents in one transaction; used by `demo` and imports. Each incident's
    /// audit event names `actor` and, when given, the `source` it was read from (a path, `api`).
    async fn import_bundles(
        &self,
        actor: Actor,
        source: Option<&str>,
        bundles: &[IncidentBundle],
    ) -> Result<Vec<IncidentId>>;
    /// Writes one imported incident in one transaction, with its version, the policy's
    /// decision and the people named on it; audited like `import_bundles`.
    async fn import_bundle(
        &self,
        actor: Actor,
        source: Option<&str>,
        bundle: &IncidentBundle,
        extras: &ImportExtras,
    ) -> Result<IncidentId>;
    /// Makes an incident say what an imported file says, in one transaction, if it is still
    /// at `base_version` (else `Stale` and nothing written); audited as
    /// `incident.import.update` with `details`, in the change feed.
    async fn update_from_bundle(
        &self,
        actor: Actor,
        id: IncidentId,
        base_version: i64,
        bundle: &IncidentBundle,
        extras: &ImportExtras,
        details: serde_json::Value,
    ) -> Result<FactsOutcome>;
    /// The whole incident with everything in it, if it exists and `viewer` may see it.
    async fn incident(&self, id: IncidentId, viewer: Visibility) -> Result<Option<IncidentRecord>>;
    /// Which of `ids` exist and `viewer` may see now, in one query: for checking what a
    /// derived view (the search index) holds against the source of truth.
    async fn visible_incidents(
        &self,
        ids: &[IncidentId],
        viewer: Visibility,
    ) -> Result<Vec<IncidentId>>;
    async fn list_incidents(&self, query: &IncidentQuery) -> Result<IncidentPage>;
    /// Whether the person belongs to the incident: recorded it, is named on it, or is a member
    /// of one of the teams it names. Whatever the incident's visibility.
    async fn is_incident_member(&self, id: IncidentId, user: UserId) -> Result<bool>;
    /// Names a person on an incident (a no-op if they are named already) and returns the
    /// incident's new version.
    async fn add_incident_member(&self, actor: Actor, id: IncidentId, user: UserId) -> Result<i64>;
    /// Takes a named person off an incident and returns the incident's new version.
    async fn remove_incident_member(
        &self,
        actor: Actor,
        id: IncidentId,
        user: UserId,
    ) -> Result<i64>;
    /// Up to `limit` whole incidents with ids after `after` (all when `None`), in id order,
    /// whatever their visibility: for rebuilding derived data such as the search index, which
    /// applies visibility itself. Never hand these to a person as they are.
    async fn incidents_after(
        &self,
        after: Option<IncidentId>,
        limit: i64,
    ) -> Result<Vec<IncidentRecord>>;

    /// Replaces an incident's facts if the incident is still at `base_version`, together with
    /// the policy's re-evaluation (decision, reasons and any move of the post-mortem), in one
    /// transaction; audited as `incident.update`, plus `policy.decide` when the decision
    /// changes and `postmortem.reevaluate` when the post-mortem moves (a person's move is a
    /// `postmortem.transition`, which tells a reviewer's waiver from the policy's).
    async fn update_facts(
        &self,
        actor: Actor,
        id: IncidentId,
        base_version: i64,
        facts: IncidentFacts,
        reevaluation: Reevaluation,
    ) -> Result<FactsOutcome>;

    /// Saves sections of the post-mortem, refusing the whole save if any of them changed
    /// after `base_version` (the incident version the writer started from).
    async fn save_sections(
        &self,
        actor: Actor,
        id: IncidentId,
        base_version: i64,
        sections: Vec<(SectionName, Markdown)>,
    ) -> Result<SaveOutcome>;
    /// Saves sections of a published post-mortem as a revision readers see: like
    /// `save_sections`, and in the same transaction the revision (who, when, `note`, the
    /// sections whose text changed), its audit event `postmortem.revise` and its notice queued
    /// for the webhooks.
    async fn revise_sections(
        &self,
        actor: Actor,
        id: IncidentId,
        base_version: i64,
        sections: Vec<(SectionName, Markdown)>,
        revision: NewRevision,
    ) -> Result<SaveOutcome>;
    async fn set_status(
        &self,
        actor: Actor,
        id: IncidentId,
        to: PostmortemStatus,
        note: Option<String>,
    ) -> Result<i64>;
    async fn add_timeline_entry(
        &self,
        actor: Actor,
        id: IncidentId,
        entry: NewTimelineEntry,
    ) -> Result<TimelineEntry>;
    async fn add_factor(
        &self,
        actor: Actor,
        id: IncidentId,
        factor: NewFactor,
    ) -> Result<ContributingFactor>;
    async fn add_action(
        &self,
        actor: Actor,
        id: IncidentId,
        action: NewActionItem,
    ) -> Result<ActionItem>;
    /// Rewrites a timeline entry of incident `id` (its author and creation time stay);
    /// `NotFound("timeline entry")` when the incident holds no such entry.
    async fn update_timeline_entry(
        &self,
        actor: Actor,
        id: IncidentId,
        entry_id: TimelineEntryId,
        entry: NewTimelineEntry,
    ) -> Result<TimelineEntry>;
    /// Removes a timeline entry of incident `id`, keeping it in the audit event.
    async fn remove_timeline_entry(
        &self,
        actor: Actor,
        id: IncidentId,
        entry_id: TimelineEntryId,
    ) -> Result<()>;
    /// Rewrites a contributing factor of incident `id`. An incident has one trigger at most:
    /// making this factor the trigger makes any other factor a plain condition, in the same
    /// transaction (the caller asks the person first).
    async fn update_factor(
        &self,
        actor: Actor,
        id: IncidentId,
        factor_id: FactorId,
        factor: NewFactor,
    ) -> Result<ContributingFactor>;
    /// Removes a contributing factor of incident `id` and its links to action items.
    async fn remove_factor(&self, actor: Actor, id: IncidentId, factor_id: FactorId) -> Result<()>;
    /// Removes an action item, keeping it in the audit event.
    async fn remove_action(&self, actor: Actor, action_id: ActionId) -> Result<()>;
    /// One action item by its id, wherever it belongs; the caller checks that the reader may
    /// see its incident.
    async fn action(&self, action_id: ActionId) -> Result<Option<ActionItem>>;
    async fn update_action(
        &self,
        actor: Actor,
        action_id: ActionId,
        update: ActionUpdate,
    ) -> Result<ActionItem>;
    async fn set_review(
        &self,
        actor: Actor,
        id: IncidentId,
        reviewer: UserId,
        decision: ReviewDecision,
        comment: Option<String>,
    ) -> Result<()>;
    /// Adds a review comment on a section, or on a passage of it when `quote` is given.
    async fn add_comment(
        &self,
        actor: Actor,
        id: IncidentId,
        section: SectionName,
        body: Markdown,
        quote: Option<postmortem_core::PassageQuote>,
    ) -> Result<ReviewComment>;
    /// Marks a review comment of incident `id` resolved, or open again; audited as
    /// `comment.resolve` or `comment.reopen`.
    async fn set_comment_resolved(
        &self,
        actor: Actor,
        id: IncidentId,
        comment_id: postmortem_core::CommentId,
        resolved: bool,
    ) -> Result<()>;

    // Follow-through.

    /// Action items across incidents, filtered and paged; overdue is judged on `query.today`.
    async fn list_actions(&self, query: &ActionQuery) -> Result<ActionPage>;
    /// Post-mortems still owed (required and not yet published), soonest due first.
    async fn owed_postmortems(&self, visibility: Visibility) -> Result<Vec<IncidentSummary>>;
    /// What needs `person`, for their home page: reviews asked of them, drafts they write,
    /// post-mortems owed by them or their teams (soonest due first), and what was published
    /// lately in incidents of their teams.
    async fn personal_incidents(
        &self,
        person: UserId,
        visibility: Visibility,
    ) -> Result<PersonalIncidents>;
    /// The facts behind the follow-through figures.
    async fn follow_through_facts(
        &self,
        visibility: Visibility,
    ) -> Result<(
        Vec<postmortem_core::figures::ActionFact>,
        Vec<postmortem_core::figures::PublicationFact>,
    )>;
    /// The counts behind an insights report (SQL aggregates: a few hundred rows whatever
    /// the number of incidents). Restricted incidents `visibility` may not see are counted,
    /// flagged hidden, only in the factor cells of a report `filter` does not narrow.
    async fn insight_counts(
        &self,
        filter: &postmortem_core::insights::InsightFilter,
        visibility: Visibility,
        today: time::Date,
    ) -> Result<postmortem_core::insights::InsightCounts>;
    /// Records the policy's decision for an incident, with its reasons (audited).
    async fn set_policy_decision(
        &self,
        actor: Actor,
        id: IncidentId,
        decision: postmortem_core::policy::Requirement,
        reasons: &[String],
    ) -> Result<()>;
    /// The stored policy decision and reasons, if one was recorded.
    async fn policy_decision(
        &self,
        id: IncidentId,
    ) -> Result<Option<(postmortem_core::policy::Requirement, Vec<String>)>>;

    // Outgoing webhooks and reminders.

    /// Registers a webhook that receives `events` (`*` for all), signed with `secret`.
    async fn create_webhook(
        &self,
        actor: Actor,
        url: &str,
        secret: &str,
        events: &[String],
    ) -> Result<i64>;
    /// Every webhook, oldest first, for admins.
    async fn webhooks(&self) -> Result<Vec<Webhook>>;
    /// Switches a webhook on or off; an inactive webhook gets no new deliveries and its
    /// pending ones wait until it is active again.
    async fn set_webhook_active(&self, actor: Actor, id: i64, active: bool) -> Result<()>;
    /// Queues one delivery of `payload_json` per active webhook subscribed to `event` (or to
    /// `*`), due at once, and returns how many were queued.
    async fn enqueue_deliveries(&self, event: &str, payload_json: &str) -> Result<i64>;
    /// Claims `key` and queues the deliveries of `event` in one transaction, so a reminder is
    /// queued exactly once across nodes even if a node stops between the two steps. `None`
    /// when the key was claimed before (nothing is queued), else how many were queued.
    async fn enqueue_once(
        &self,
        key: &str,
        now: time::OffsetDateTime,
        event: &str,
        payload_json: &str,
    ) -> Result<Option<i64>>;
    /// Up to `limit` pending deliveries of active webhooks due at `now`, oldest first. They
    /// are leased for [`DELIVERY_LEASE`]: another node asking meanwhile does not get them,
    /// and if this one stops before recording an attempt, they become due again.
    async fn due_deliveries(
        &self,
        now: time::OffsetDateTime,
        limit: i64,
    ) -> Result<Vec<DueDelivery>>;
    /// Records how an attempt went: delivered, or failed and either rescheduled with
    /// [`DeliveryStatus::backoff`] or given up after [`DeliveryStatus::MAX_ATTEMPTS`].
    async fn record_delivery_attempt(
        &self,
        id: i64,
        outcome: DeliveryOutcome,
    ) -> Result<WebhookDelivery>;
    /// The delivery log, newest first.
    async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<WebhookDelivery>>;
    /// Deletes finished deliveries (delivered or given up) queued before `before`, so the log
    /// does not grow for ever; pending ones are kept whatever their age. Returns how many
    /// were deleted; a deletion is audited with the count.
    async fn prune_deliveries(&self, before: time::OffsetDateTime) -> Result<u64>;
    /// Records that the reminder `key` was sent at `now`: true for the first caller only,
    /// whichever node it runs on.
    async fn claim_reminder(&self, key: &str, now: time::OffsetDateTime) -> Result<bool>;
    /// Gives a claimed key back, when what it stood for could not be sent, so that a later
    /// attempt (on any node) can claim it again.
    async fn release_reminder(&self, key: &str) -> Result<()>;

    // Integrations: tools that send webhooks, what they sent, what they wrote.

    /// Registers an integration and the person it acts as (handle `integration-{id}`), in
    /// one transaction audited as `integration.create` (never with its credential).
    async fn create_integration(
        &self,
        actor: Actor,
        integration: NewIntegration,
    ) -> Result<Integration>;
    /// Every integration, oldest first.
    async fn integrations(&self) -> Result<Vec<Integration>>;
    async fn integration(&self, id: i64) -> Result<Option<Integration>>;
    /// Removes an integration and the bodies it sent, audited; the entries it wrote stay,
    /// and so does its person (they are the entries' author).
    async fn delete_integration(&self, actor: Actor, id: i64) -> Result<()>;
    /// The incidents naming `service` that were open at `at`: started (or, without a start,
    /// recorded) less than [`OPEN_INCIDENT_WINDOW`] before it or after it, with no entry
    /// marked resolved before it. An alert that fires before an incident is recorded belongs
    /// to it, so a replay after recording it finds it.
    async fn open_incidents(
        &self,
        service: &Name,
        at: time::OffsetDateTime,
    ) -> Result<Vec<IncidentId>>;
    /// Writes the entries whose (incident, key) is new, and keeps `delivery` if given, in one
    /// transaction: each key is inserted first and its entry written only when the insert
    /// took, so racing deliveries of one alert write it once. Each entry is audited as
    /// `timeline.add` by `actor` and bumps its incident.
    async fn add_sourced_entries(
        &self,
        actor: Actor,
        delivery: Option<NewHookDelivery>,
        entries: Vec<SourcedEntry>,
    ) -> Result<SourcedOutcome>;
    /// Bodies received, newest first, of one integration or all.
    async fn hook_deliveries(
        &self,
        integration: Option<i64>,
        limit: i64,
    ) -> Result<Vec<HookDelivery>>;
    async fn hook_delivery(&self, id: i64) -> Result<Option<HookDelivery>>;
    /// Keeps `delivery` and the deploys in it that are new (by key), in one transaction;
    /// answers the delivery kept and how many deploys were new.
    async fn record_deploys(
        &self,
        delivery: NewHookDelivery,
        deploys: Vec<NewDeploy>,
    ) -> Result<(HookDelivery, u64)>;
    /// Deploys to any of `services` from `from` up to `to`, newest first, at most 200.
    async fn deploys_between(
        &self,
        services: &[Name],
        from: time::OffsetDateTime,
        to: time::OffsetDateTime,
    ) -> Result<Vec<Deploy>>;
    async fn deploy(&self, id: i64) -> Result<Option<Deploy>>;
    /// The source keys of the entries written from outside into an incident's timeline
    /// that start with `prefix` (`deploy:`, `chat:`), removed entries included.
    async fn source_keys(&self, incident: IncidentId, prefix: &str) -> Result<Vec<String>>;
    /// Deletes the bodies received before `before`; returns how many.
    async fn prune_hook_deliveries(&self, before: time::OffsetDateTime) -> Result<u64>;

    // The external version.

    /// The incident's draft of its external version, if one was made.
    async fn external_draft(&self, incident: IncidentId) -> Result<Option<ExternalDraft>>;
    /// Makes or replaces the incident's draft, audited (`external.draft.create` or
    /// `.update`, before and after). With `expected_version`, refused with
    /// [`StoreError::VersionConflict`] unless the stored draft is at that version (0: none).
    async fn save_external_draft(
        &self,
        actor: Actor,
        draft: NewExternalDraft,
    ) -> Result<ExternalDraft>;
    /// The incident's published external version, if any.
    async fn publication(&self, incident: IncidentId) -> Result<Option<Publication>>;
    /// The published external version at `slug`, if any.
    async fn publication_by_slug(&self, slug: &str) -> Result<Option<Publication>>;
    /// Publishes (or publishes again) an incident's external version, audited as
    /// `external.publish`; a slug another incident holds is a [`StoreError::Duplicate`].
    async fn publish_external(
        &self,
        actor: Actor,
        publication: NewPublication,
    ) -> Result<Publication>;
    /// Takes the incident's external version down, audited as `external.unpublish`.
    async fn unpublish_external(&self, actor: Actor, incident: IncidentId) -> Result<Publication>;

    // What changed.

    /// Change-feed rows after `after_seq`, oldest first.
    async fn changes_since(&self, after_seq: i64, limit: i64) -> Result<Vec<Change>>;
    /// The sequence number of the newest change-feed row, 0 when there is none. A follower
    /// that rebuilds from a snapshot reads this first and then follows from it.
    async fn latest_change_seq(&self) -> Result<i64>;
    /// A page of the audit log, newest first, filtered by who acted, the incident, the kind
    /// of change and a time range. Keyset-paged on the event id, so pages neither skip nor
    /// repeat events while new ones are written. Never visibility-filtered: callers decide
    /// who may read which events (admins everything, members their incident's history).
    async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage>;

    /// The newest `limit` audit events, optionally for one incident.
    async fn audit_events(
        &self,
        incident: Option<IncidentId>,
        limit: i64,
    ) -> Result<Vec<AuditEvent>> {
        let query = AuditQuery {
            incident,
            limit,
            ..AuditQuery::default()
        };
        Ok(self.audit_log(&query).await?.items)
    }
}

/// How long before an alert an incident may have been recorded and still take the alert's
/// entries (unless an entry marks it resolved before the alert).
pub const OPEN_INCIDENT_WINDOW: time::Duration = time::Duration::days(7);

/// How long [`Store::due_deliveries`] keeps a delivery from other senders. Longer than a
/// whole batch can take (a ten-second timeout per request, a few requests at a time).
pub const DELIVERY_LEASE: time::Duration = time::Duration::minutes(5);

/// Opens the database a URL names, creating it (SQLite) and migrating it to the current
/// schema: `sqlite://PATH` or `postgres://...`.
pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteStore::connect(url, clock).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url, clock).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_owned()))
    }
}
