//! The SQL implementation of [`crate::Store`], written once and instantiated for each backend.
//!
//! SQLite and PostgreSQL both accept `$1`-style placeholders, `RETURNING`, `ON CONFLICT` and
//! row-value comparisons, and the schema stores the same primitive types in both (BIGINT
//! keys, millisecond instants, text dates), so one body of statements serves both. The macro
//! exists because sqlx's generic executor bounds would make a generic implementation far
//! harder to read than the SQL it runs; backend-specific steps live in `sqlite.rs` and
//! `postgres.rs` as `lock_for_import`/`after_import`.
//!
//! The statements are split by aggregate, one file each, every file a macro that adds
//! inherent methods (and the row helpers they need) to the store: [`incidents`], [`import`], [`writing`],
//! [`follow_through`], [`people`], [`audit`], [`feed`], [`integrations`] and [`external`]. `impl_store!` instantiates them
//! all for a backend and writes the `Store` impl, which only forwards to those methods: the
//! impl has to be in one place because `async_trait` cannot see into macro invocations.

#[macro_use]
mod audit;
#[macro_use]
mod external;
#[macro_use]
mod feed;
#[macro_use]
mod follow_through;
#[macro_use]
mod import;
#[macro_use]
mod incidents;
#[macro_use]
mod insights;
#[macro_use]
mod integrations;
#[macro_use]
mod people;
#[macro_use]
mod writing;

macro_rules! impl_store {
    ($store:ident, $db:ty, $backend:expr) => {
        use crate::rows::{
            date_text, from_ms, from_ms_offset, offset_seconds, parse_date, rfc3339, severity,
            stored, to_ms,
        };
        use crate::*;
        use postmortem_core::{
            ActionKind, ActionStatus, CommentId, DisplayName, FactorCategory, FactorId, Impact,
            Incident, IncidentKind, Marker, Name, PassageQuote, Perspective, Postmortem, Priority,
            Review, ReviewId, Revision, Role, Section, Source, TemplateName, TimelineEntryId,
            Title, WebLink,
        };
        use sqlx::{QueryBuilder, Row as _};
        use std::collections::{BTreeMap, HashMap};
        use time::OffsetDateTime;

        type Tx = sqlx::Transaction<'static, $db>;
        type DbRow = <$db as sqlx::Database>::Row;
        type Separated<'qb> = sqlx::query_builder::Separated<'qb, 'static, $db, &'static str>;

        sql_incidents!($store, $db, $backend);
        sql_import!($store, $db, $backend);
        sql_writing!($store, $db, $backend);
        sql_follow_through!($store, $db, $backend);
        sql_people!($store, $db, $backend);
        sql_audit!($store, $db, $backend);
        sql_feed!($store, $db, $backend);
        sql_insights!($store, $db, $backend);
        sql_integrations!($store, $db, $backend);
        sql_external!($store, $db, $backend);

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            fn now(&self) -> OffsetDateTime {
                self.clock.now()
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn create_user(&self, actor: Actor, user: NewUser) -> Result<User> {
                $store::create_user(self, actor, user).await
            }

            async fn count_users(&self) -> Result<i64> {
                $store::count_users(self).await
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                $store::user(self, id).await
            }

            async fn user_by_handle(&self, handle: &Handle) -> Result<Option<User>> {
                $store::user_by_handle(self, handle).await
            }

            async fn users(&self) -> Result<Vec<User>> {
                $store::users(self).await
            }

            async fn credentials(&self, handle: &Handle) -> Result<Option<(User, Option<String>)>> {
                $store::credentials(self, handle).await
            }

            async fn set_password_hash(
                &self,
                actor: Actor,
                user: UserId,
                hash: &str,
            ) -> Result<()> {
                $store::set_password_hash(self, actor, user, hash).await
            }

            async fn create_api_token(&self, actor: Actor, token: NewApiToken) -> Result<i64> {
                $store::create_api_token(self, actor, token).await
            }

            async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>> {
                $store::user_by_token_hash(self, token_hash).await
            }

            async fn create_session(&self, session: NewSession) -> Result<()> {
                $store::create_session(self, session).await
            }

            async fn user_by_session_hash(&self, session_hash: &str) -> Result<Option<User>> {
                $store::user_by_session_hash(self, session_hash).await
            }

            async fn delete_session(&self, session_hash: &str) -> Result<()> {
                $store::delete_session(self, session_hash).await
            }

            async fn save_pending_sign_in(&self, pending: PendingSignIn) -> Result<()> {
                $store::save_pending_sign_in(self, pending).await
            }

            async fn take_pending_sign_in(
                &self,
                state_hash: &str,
            ) -> Result<Option<PendingSignIn>> {
                $store::take_pending_sign_in(self, state_hash).await
            }

            async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
                $store::user_by_identity(self, issuer, subject).await
            }

            async fn create_user_with_identity(
                &self,
                actor: Actor,
                user: NewUser,
                identity: ExternalIdentity,
            ) -> Result<User> {
                $store::create_user_with_identity(self, actor, user, identity).await
            }

            async fn api_tokens(&self, owner: Option<UserId>) -> Result<Vec<ApiToken>> {
                $store::api_tokens(self, owner).await
            }

            async fn api_token(&self, id: i64) -> Result<Option<ApiToken>> {
                $store::api_token(self, id).await
            }

            async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
                $store::api_token_by_hash(self, token_hash).await
            }

            async fn revoke_api_token(&self, actor: Actor, id: i64) -> Result<ApiToken> {
                $store::revoke_api_token(self, actor, id).await
            }

            async fn login_locked_until(&self, subject: &str) -> Result<Option<OffsetDateTime>> {
                $store::login_locked_until(self, subject).await
            }

            async fn record_login_failure(
                &self,
                subject: &str,
                policy: &LockoutPolicy,
            ) -> Result<Option<OffsetDateTime>> {
                $store::record_login_failure(self, subject, policy).await
            }

            async fn clear_login_failures(&self, subject: &str) -> Result<()> {
                $store::clear_login_failures(self, subject).await
            }

            async fn set_role(&self, actor: Actor, user: UserId, role: Role) -> Result<User> {
                $store::set_role(self, actor, user, role).await
            }

            async fn create_team(&self, actor: Actor, team: NewTeam) -> Result<Team> {
                $store::create_team(self, actor, team).await
            }

            async fn teams(&self) -> Result<Vec<Team>> {
                $store::teams(self).await
            }

            async fn team(&self, name: &TeamName) -> Result<Option<Team>> {
                $store::team(self, name).await
            }

            async fn team_members(&self, name: &TeamName) -> Result<Vec<User>> {
                $store::team_members(self, name).await
            }

            async fn teams_of(&self, user: UserId) -> Result<Vec<TeamName>> {
                $store::teams_of(self, user).await
            }

            async fn add_team_member(
                &self,
                actor: Actor,
                team: &TeamName,
                user: UserId,
            ) -> Result<()> {
                $store::add_team_member(self, actor, team, user).await
            }

            async fn remove_team_member(
                &self,
                actor: Actor,
                team: &TeamName,
                user: UserId,
            ) -> Result<()> {
                $store::remove_team_member(self, actor, team, user).await
            }

            async fn is_incident_member(&self, id: IncidentId, user: UserId) -> Result<bool> {
                $store::is_incident_member(self, id, user).await
            }

            async fn add_incident_member(
                &self,
                actor: Actor,
                id: IncidentId,
                user: UserId,
            ) -> Result<i64> {
                $store::add_incident_member(self, actor, id, user).await
            }

            async fn remove_incident_member(
                &self,
                actor: Actor,
                id: IncidentId,
                user: UserId,
            ) -> Result<i64> {
                $store::remove_incident_member(self, actor, id, user).await
            }

            async fn create_incident(
                &self,
                actor: Actor,
                new: NewIncident,
                postmortem: PostmortemStart,
            ) -> Result<IncidentId> {
                $store::create_incident(self, actor, new, postmortem).await
            }

            async fn create_incident_decided(
                &self,
                actor: Actor,
                new: NewIncident,
                postmortem: PostmortemStart,
                decision: postmortem_core::policy::Requirement,
                reasons: Vec<String>,
            ) -> Result<IncidentId> {
                $store::create_incident_decided(self, actor, new, postmortem, decision, reasons)
                    .await
            }

            async fn import_bundles(
                &self,
                actor: Actor,
                source: Option<&str>,
                bundles: &[IncidentBundle],
            ) -> Result<Vec<IncidentId>> {
                $store::import_bundles(self, actor, source, bundles).await
            }

            async fn import_bundle(
                &self,
                actor: Actor,
                source: Option<&str>,
                bundle: &IncidentBundle,
                extras: &ImportExtras,
            ) -> Result<IncidentId> {
                $store::import_bundle(self, actor, source, bundle, extras).await
            }

            async fn update_from_bundle(
                &self,
                actor: Actor,
                id: IncidentId,
                base_version: i64,
                bundle: &IncidentBundle,
                extras: &ImportExtras,
                details: serde_json::Value,
            ) -> Result<FactsOutcome> {
                $store::update_from_bundle(self, actor, id, base_version, bundle, extras, details)
                    .await
            }

            async fn incident(
                &self,
                id: IncidentId,
                viewer: Visibility,
            ) -> Result<Option<IncidentRecord>> {
                $store::incident(self, id, viewer).await
            }

            async fn visible_incidents(
                &self,
                ids: &[IncidentId],
                viewer: Visibility,
            ) -> Result<Vec<IncidentId>> {
                $store::visible_incidents(self, ids, viewer).await
            }

            async fn incidents_after(
                &self,
                after: Option<IncidentId>,
                limit: i64,
            ) -> Result<Vec<IncidentRecord>> {
                $store::incidents_after(self, after, limit).await
            }

            async fn list_incidents(&self, query: &IncidentQuery) -> Result<IncidentPage> {
                $store::list_incidents(self, query).await
            }

            async fn save_sections(
                &self,
                actor: Actor,
                id: IncidentId,
                base_version: i64,
                updates: Vec<(SectionName, Markdown)>,
            ) -> Result<SaveOutcome> {
                $store::save_sections(self, actor, id, base_version, updates).await
            }

            async fn revise_sections(
                &self,
                actor: Actor,
                id: IncidentId,
                base_version: i64,
                updates: Vec<(SectionName, Markdown)>,
                revision: NewRevision,
            ) -> Result<SaveOutcome> {
                $store::revise_sections(self, actor, id, base_version, updates, revision).await
            }

            async fn set_status(
                &self,
                actor: Actor,
                id: IncidentId,
                to: PostmortemStatus,
                note: Option<String>,
            ) -> Result<i64> {
                $store::set_status(self, actor, id, to, note).await
            }

            async fn update_facts(
                &self,
                actor: Actor,
                id: IncidentId,
                base_version: i64,
                facts: IncidentFacts,
                reevaluation: Reevaluation,
            ) -> Result<FactsOutcome> {
                $store::update_facts(self, actor, id, base_version, facts, reevaluation).await
            }

            async fn add_timeline_entry(
                &self,
                actor: Actor,
                id: IncidentId,
                entry: NewTimelineEntry,
            ) -> Result<TimelineEntry> {
                $store::add_timeline_entry(self, actor, id, entry).await
            }

            async fn add_factor(
                &self,
                actor: Actor,
                id: IncidentId,
                factor: NewFactor,
            ) -> Result<ContributingFactor> {
                $store::add_factor(self, actor, id, factor).await
            }

            async fn update_timeline_entry(
                &self,
                actor: Actor,
                id: IncidentId,
                entry_id: TimelineEntryId,
                entry: NewTimelineEntry,
            ) -> Result<TimelineEntry> {
                $store::update_timeline_entry(self, actor, id, entry_id, entry).await
            }

            async fn remove_timeline_entry(
                &self,
                actor: Actor,
                id: IncidentId,
                entry_id: TimelineEntryId,
            ) -> Result<()> {
                $store::remove_timeline_entry(self, actor, id, entry_id).await
            }

            async fn update_factor(
                &self,
                actor: Actor,
                id: IncidentId,
                factor_id: FactorId,
                factor: NewFactor,
            ) -> Result<ContributingFactor> {
                $store::update_factor(self, actor, id, factor_id, factor).await
            }

            async fn remove_factor(
                &self,
                actor: Actor,
                id: IncidentId,
                factor_id: FactorId,
            ) -> Result<()> {
                $store::remove_factor(self, actor, id, factor_id).await
            }

            async fn remove_action(&self, actor: Actor, action_id: ActionId) -> Result<()> {
                $store::remove_action(self, actor, action_id).await
            }

            async fn add_action(
                &self,
                actor: Actor,
                id: IncidentId,
                action: NewActionItem,
            ) -> Result<ActionItem> {
                $store::add_action(self, actor, id, action).await
            }

            async fn action(&self, action_id: ActionId) -> Result<Option<ActionItem>> {
                $store::action(self, action_id).await
            }

            async fn update_action(
                &self,
                actor: Actor,
                action_id: ActionId,
                update: ActionUpdate,
            ) -> Result<ActionItem> {
                $store::update_action(self, actor, action_id, update).await
            }

            async fn set_review(
                &self,
                actor: Actor,
                id: IncidentId,
                reviewer: UserId,
                decision: ReviewDecision,
                comment: Option<String>,
            ) -> Result<()> {
                $store::set_review(self, actor, id, reviewer, decision, comment).await
            }

            async fn add_comment(
                &self,
                actor: Actor,
                id: IncidentId,
                section: SectionName,
                body: Markdown,
                quote: Option<PassageQuote>,
            ) -> Result<ReviewComment> {
                $store::add_comment(self, actor, id, section, body, quote).await
            }

            async fn set_comment_resolved(
                &self,
                actor: Actor,
                id: IncidentId,
                comment_id: CommentId,
                resolved: bool,
            ) -> Result<()> {
                $store::set_comment_resolved(self, actor, id, comment_id, resolved).await
            }

            async fn list_actions(&self, query: &ActionQuery) -> Result<ActionPage> {
                $store::list_actions(self, query).await
            }

            async fn owed_postmortems(
                &self,
                visibility: Visibility,
            ) -> Result<Vec<IncidentSummary>> {
                $store::owed_postmortems(self, visibility).await
            }

            async fn personal_incidents(
                &self,
                person: UserId,
                visibility: Visibility,
            ) -> Result<PersonalIncidents> {
                $store::personal_incidents(self, person, visibility).await
            }

            async fn follow_through_facts(
                &self,
                visibility: Visibility,
            ) -> Result<(
                Vec<postmortem_core::figures::ActionFact>,
                Vec<postmortem_core::figures::PublicationFact>,
            )> {
                $store::follow_through_facts(self, visibility).await
            }

            async fn insight_counts(
                &self,
                filter: &postmortem_core::insights::InsightFilter,
                visibility: Visibility,
                today: time::Date,
            ) -> Result<postmortem_core::insights::InsightCounts> {
                $store::insight_counts(self, filter, visibility, today).await
            }

            async fn set_policy_decision(
                &self,
                actor: Actor,
                id: IncidentId,
                decision: postmortem_core::policy::Requirement,
                reasons: &[String],
            ) -> Result<()> {
                $store::set_policy_decision(self, actor, id, decision, reasons).await
            }

            async fn policy_decision(
                &self,
                id: IncidentId,
            ) -> Result<Option<(postmortem_core::policy::Requirement, Vec<String>)>> {
                $store::policy_decision(self, id).await
            }

            async fn create_webhook(
                &self,
                actor: Actor,
                url: &str,
                secret: &str,
                events: &[String],
            ) -> Result<i64> {
                $store::create_webhook(self, actor, url, secret, events).await
            }

            async fn webhooks(&self) -> Result<Vec<Webhook>> {
                $store::webhooks(self).await
            }

            async fn set_webhook_active(&self, actor: Actor, id: i64, active: bool) -> Result<()> {
                $store::set_webhook_active(self, actor, id, active).await
            }

            async fn enqueue_deliveries(&self, event: &str, payload_json: &str) -> Result<i64> {
                $store::enqueue_deliveries(self, event, payload_json).await
            }

            async fn enqueue_once(
                &self,
                key: &str,
                now: OffsetDateTime,
                event: &str,
                payload_json: &str,
            ) -> Result<Option<i64>> {
                $store::enqueue_once(self, key, now, event, payload_json).await
            }

            async fn due_deliveries(
                &self,
                now: OffsetDateTime,
                limit: i64,
            ) -> Result<Vec<DueDelivery>> {
                $store::due_deliveries(self, now, limit).await
            }

            async fn record_delivery_attempt(
                &self,
                id: i64,
                outcome: DeliveryOutcome,
            ) -> Result<WebhookDelivery> {
                $store::record_delivery_attempt(self, id, outcome).await
            }

            async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<WebhookDelivery>> {
                $store::webhook_deliveries(self, limit).await
            }

            async fn prune_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
                $store::prune_deliveries(self, before).await
            }

            async fn claim_reminder(&self, key: &str, now: OffsetDateTime) -> Result<bool> {
                $store::claim_reminder(self, key, now).await
            }

            async fn release_reminder(&self, key: &str) -> Result<()> {
                $store::release_reminder(self, key).await
            }

            async fn create_integration(
                &self,
                actor: Actor,
                integration: NewIntegration,
            ) -> Result<Integration> {
                $store::create_integration(self, actor, integration).await
            }

            async fn integrations(&self) -> Result<Vec<Integration>> {
                $store::integrations(self).await
            }

            async fn integration(&self, id: i64) -> Result<Option<Integration>> {
                $store::integration(self, id).await
            }

            async fn delete_integration(&self, actor: Actor, id: i64) -> Result<()> {
                $store::delete_integration(self, actor, id).await
            }

            async fn open_incidents(
                &self,
                service: &Name,
                at: OffsetDateTime,
            ) -> Result<Vec<IncidentId>> {
                $store::open_incidents(self, service, at).await
            }

            async fn add_sourced_entries(
                &self,
                actor: Actor,
                delivery: Option<NewHookDelivery>,
                entries: Vec<SourcedEntry>,
            ) -> Result<SourcedOutcome> {
                $store::add_sourced_entries(self, actor, delivery, entries).await
            }

            async fn hook_deliveries(
                &self,
                integration: Option<i64>,
                limit: i64,
            ) -> Result<Vec<HookDelivery>> {
                $store::hook_deliveries(self, integration, limit).await
            }

            async fn hook_delivery(&self, id: i64) -> Result<Option<HookDelivery>> {
                $store::hook_delivery(self, id).await
            }

            async fn record_deploys(
                &self,
                delivery: NewHookDelivery,
                deploys: Vec<NewDeploy>,
            ) -> Result<(HookDelivery, u64)> {
                $store::record_deploys(self, delivery, deploys).await
            }

            async fn deploys_between(
                &self,
                services: &[Name],
                from: OffsetDateTime,
                to: OffsetDateTime,
            ) -> Result<Vec<Deploy>> {
                $store::deploys_between(self, services, from, to).await
            }

            async fn deploy(&self, id: i64) -> Result<Option<Deploy>> {
                $store::deploy(self, id).await
            }

            async fn source_keys(&self, incident: IncidentId, prefix: &str) -> Result<Vec<String>> {
                $store::source_keys(self, incident, prefix).await
            }

            async fn prune_hook_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
                $store::prune_hook_deliveries(self, before).await
            }

            async fn external_draft(&self, incident: IncidentId) -> Result<Option<ExternalDraft>> {
                $store::external_draft(self, incident).await
            }

            async fn save_external_draft(
                &self,
                actor: Actor,
                draft: NewExternalDraft,
            ) -> Result<ExternalDraft> {
                $store::save_external_draft(self, actor, draft).await
            }

            async fn publication(&self, incident: IncidentId) -> Result<Option<Publication>> {
                $store::publication(self, incident).await
            }

            async fn publication_by_slug(&self, slug: &str) -> Result<Option<Publication>> {
                $store::publication_by_slug(self, slug).await
            }

            async fn publish_external(
                &self,
                actor: Actor,
                publication: NewPublication,
            ) -> Result<Publication> {
                $store::publish_external(self, actor, publication).await
            }

            async fn unpublish_external(
                &self,
                actor: Actor,
                incident: IncidentId,
            ) -> Result<Publication> {
                $store::unpublish_external(self, actor, incident).await
            }

            async fn changes_since(&self, after_seq: i64, limit: i64) -> Result<Vec<Change>> {
                $store::changes_since(self, after_seq, limit).await
            }

            async fn latest_change_seq(&self) -> Result<i64> {
                $store::latest_change_seq(self).await
            }

            async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage> {
                $store::audit_log(self, query).await
            }
        }
    };
}
