//! The shapes of API answers, for the OpenAPI document only. Answers are built from the core
//! types' own serialisation; these mirror it, and a test compares a real answer's keys with
//! the documented ones so the two cannot drift apart silently.

#![allow(dead_code)]

use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Every refusal: a stable code, a human message and, where useful, details.
#[derive(Debug, ToSchema)]
pub(crate) struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable and machine-readable, such as `not_found`, `invalid_input`, `edit_conflict`,
    /// `incomplete` or `illegal_transition`.
    pub code: String,
    pub message: String,
    /// For `invalid_input` a list of `{field, rule}`; for `incomplete` a list of
    /// `{code, message}`; for `edit_conflict` a list of
    /// `{section, current_text, current_version, updated_by}`; otherwise null.
    #[schema(value_type = Option<Vec<Object>>)]
    pub details: Option<serde_json::Value>,
}

/// A person.
#[derive(Debug, ToSchema)]
pub(crate) struct UserView {
    pub id: i64,
    pub handle: String,
    pub display_name: String,
    /// `viewer`, `contributor`, `reviewer` or `admin`.
    pub role: String,
    pub created_at: String,
}

/// A team with its members.
#[derive(Debug, ToSchema)]
pub(crate) struct TeamView {
    /// The slug incidents use in `teams`, such as `payments`.
    pub name: String,
    pub display_name: String,
    pub created_at: String,
    pub members: Vec<UserView>,
}

/// An incident's facts, as in the list and at the top of the whole incident.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct IncidentSummaryView {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub severity: String,
    pub started_at: Option<String>,
    pub services: Vec<String>,
    pub teams: Vec<String>,
    #[schema(value_type = Object)]
    pub impact: serde_json::Value,
    pub restricted: bool,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub postmortem: PostmortemSummaryView,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PostmortemSummaryView {
    pub status: String,
    pub template: String,
    pub due_on: Option<String>,
}

/// A page of the incident list.
#[derive(Debug, ToSchema)]
pub(crate) struct IncidentPageView {
    pub items: Vec<IncidentSummaryView>,
    /// Pass back as `cursor` for the next page; null on the last.
    pub next_cursor: Option<String>,
    /// How many incidents match in all.
    pub total: i64,
}

/// The whole incident, with its post-mortem and everything in it.
#[derive(Debug, ToSchema)]
pub(crate) struct IncidentView {
    pub id: i64,
    pub title: String,
    pub kind: String,
    pub severity: String,
    pub started_at: Option<String>,
    pub services: Vec<String>,
    pub teams: Vec<String>,
    #[schema(value_type = Object)]
    pub impact: serde_json::Value,
    pub restricted: bool,
    pub created_by: i64,
    pub created_at: String,
    pub updated_at: String,
    /// The basis of the `ETag` header, `"v{version}"`.
    pub version: i64,
    /// Marker instants and the durations between them.
    #[schema(value_type = Object)]
    pub durations: serde_json::Value,
    pub postmortem: PostmortemView,
    pub timeline: Vec<TimelineEntryView>,
    pub factors: Vec<FactorView>,
    pub actions: Vec<ActionView>,
    pub reviews: Vec<ReviewView>,
    pub comments: Vec<CommentView>,
    /// Changes made on purpose after publication, oldest first.
    pub revisions: Vec<RevisionView>,
    /// Ids of the people named on the incident; with its recorder and the members of its
    /// teams they may see it while it is restricted.
    pub members: Vec<i64>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct PostmortemView {
    /// `not_required`, `owed`, `draft`, `in_review`, `changes_requested`, `approved`, `published`.
    pub status: String,
    pub template: String,
    pub due_on: Option<String>,
    /// What the policy decided: `required`, `recommended` or `not_required`.
    pub decision: String,
    pub required_reasons: Vec<String>,
    /// Section name to Markdown.
    pub sections: BTreeMap<String, String>,
    /// Section name to the incident version that last changed it.
    pub section_versions: BTreeMap<String, i64>,
    pub version: i64,
}

#[derive(Debug, ToSchema)]
pub(crate) struct TimelineEntryView {
    pub id: i64,
    pub incident_id: i64,
    /// RFC 3339 in the offset it was written in.
    pub at: String,
    pub text: String,
    /// Who wrote the entry down.
    pub author: i64,
    /// Who did it.
    pub actor: Option<String>,
    pub marker: Option<String>,
    pub perspective: String,
    pub source: String,
    pub source_url: Option<String>,
    pub created_at: String,
}

#[derive(Debug, ToSchema)]
pub(crate) struct FactorView {
    pub id: i64,
    pub incident_id: i64,
    pub category: String,
    pub description: String,
    pub is_trigger: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionView {
    pub id: i64,
    pub incident_id: i64,
    pub title: String,
    /// The owner's user id.
    pub owner: Option<i64>,
    pub team: Option<String>,
    pub due_on: Option<String>,
    pub priority: String,
    pub kind: String,
    pub status: String,
    pub wont_do_reason: Option<String>,
    pub external_url: Option<String>,
    pub factor_ids: Vec<i64>,
    pub verification: Option<String>,
    pub created_at: String,
    pub completed_at: Option<String>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct ReviewView {
    pub id: i64,
    pub incident_id: i64,
    pub reviewer: i64,
    /// `requested`, `approved` or `changes_requested`.
    pub decision: String,
    pub comment: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, ToSchema)]
pub(crate) struct CommentView {
    pub id: i64,
    pub incident_id: i64,
    pub section: String,
    pub author: i64,
    pub body: String,
    pub resolved: bool,
    pub created_at: String,
    /// The passage the comment is about (W3C Web Annotation `TextQuoteSelector`: `exact`,
    /// `prefix`, `suffix`), as it read when the comment was written; `null` for a comment on
    /// the whole section.
    #[schema(value_type = Option<Object>)]
    pub quote: Option<serde_json::Value>,
    /// Where the passage stands in the section now: `exact` (its words are there), `moved`
    /// (its words changed; found by the text around them), `outdated` (gone); `null` without
    /// a quote. Only in an incident's `comments`.
    pub anchor: Option<String>,
    /// The words at the passage now (`exact` or `moved`). Only in an incident's `comments`.
    pub passage: Option<String>,
}

/// A change made to a published post-mortem, with what changed in the reviser's words.
#[derive(Debug, ToSchema)]
pub(crate) struct RevisionView {
    pub id: i64,
    pub incident_id: i64,
    /// The person who revised it.
    pub revised_by: Option<i64>,
    pub revised_at: String,
    /// What changed.
    pub note: String,
    /// The sections whose text changed.
    pub sections: Vec<String>,
}

/// A successful save of sections.
#[derive(Debug, ToSchema)]
pub(crate) struct PostmortemSaved {
    pub version: i64,
    /// The same as the `ETag` header; send it as `If-Match` next time.
    pub etag: String,
}

/// Where the post-mortem stands after a transition.
#[derive(Debug, ToSchema)]
pub(crate) struct Transition {
    pub status: String,
    pub version: i64,
}

#[derive(Debug, ToSchema)]
pub(crate) struct Resolved {
    pub id: i64,
    pub resolved: bool,
}

/// A page of action items across incidents.
#[derive(Debug, ToSchema)]
pub(crate) struct ActionPageView {
    pub items: Vec<ActionListItemView>,
    /// How many items match in all.
    pub total: i64,
}

/// An action item with what the list shows beside it.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ActionListItemView {
    #[serde(flatten)]
    pub action: ActionView,
    pub incident_title: String,
    pub owner_handle: Option<String>,
    /// Still open past its due date, by the organisation's calendar.
    pub overdue: bool,
}

/// Post-mortems still owed.
#[derive(Debug, ToSchema)]
pub(crate) struct OwedView {
    pub items: Vec<OwedIncidentView>,
    pub total: i64,
    /// How many of them are overdue.
    pub overdue: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct OwedIncidentView {
    #[serde(flatten)]
    pub incident: IncidentSummaryView,
    pub overdue: bool,
}

/// Search results for the reader.
#[derive(Debug, ToSchema)]
pub(crate) struct SearchResultsView {
    /// How many incidents match in all (not just this page).
    pub total: i64,
    pub items: Vec<SearchHitView>,
    pub facets: FacetsView,
}

#[derive(Debug, ToSchema)]
pub(crate) struct SearchHitView {
    pub incident_id: i64,
    pub title: String,
    /// HTML, already escaped, with matches in `<mark>`.
    pub snippet: String,
    pub score: f64,
}

/// What a query being typed may be heading for.
#[derive(Debug, ToSchema)]
pub(crate) struct SuggestionsView {
    /// Incidents the query finds with its last word as a prefix, best first.
    pub incidents: Vec<SuggestedIncidentView>,
    /// Words completing the last word, most widely used first.
    pub words: Vec<SuggestedWordView>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct SuggestedIncidentView {
    pub incident_id: i64,
    pub title: String,
}

#[derive(Debug, ToSchema)]
pub(crate) struct SuggestedWordView {
    /// The word as written, in lower case.
    pub word: String,
    /// The whole query with its last word completed to `word`.
    pub query: String,
}

/// Counts of the matching incidents by value, largest first.
#[derive(Debug, ToSchema)]
pub(crate) struct FacetsView {
    pub service: Vec<FacetCountView>,
    pub team: Vec<FacetCountView>,
    pub severity: Vec<FacetCountView>,
    pub kind: Vec<FacetCountView>,
    pub factor: Vec<FacetCountView>,
    pub year: Vec<FacetCountView>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct FacetCountView {
    pub value: String,
    pub count: i64,
}

/// The outgoing webhooks, without their secrets.
#[derive(Debug, ToSchema)]
pub(crate) struct WebhookListView {
    pub items: Vec<WebhookView>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct WebhookView {
    pub id: i64,
    pub url: String,
    /// The events it receives; `*` stands for every event.
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: String,
}

/// A new webhook.
#[derive(Debug, ToSchema)]
pub(crate) struct WebhookCreated {
    pub id: i64,
}

/// A webhook switched on or off.
#[derive(Debug, ToSchema)]
pub(crate) struct WebhookState {
    pub id: i64,
    pub active: bool,
}

/// The delivery log, newest first.
#[derive(Debug, ToSchema)]
pub(crate) struct DeliveryListView {
    pub items: Vec<DeliveryView>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct DeliveryView {
    pub id: i64,
    pub webhook_id: i64,
    pub url: String,
    pub event: String,
    /// The JSON body that was or will be sent.
    pub payload: String,
    pub attempts: i64,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// The HTTP status of the last answer, if the receiver answered.
    pub response_code: Option<i64>,
    /// Why the last attempt failed.
    pub error: Option<String>,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub delivered_at: Option<String>,
}

/// Follow-through figures, overall and per team.
#[derive(Debug, ToSchema)]
pub(crate) struct FiguresReportView {
    /// The organisation's calendar day the figures are for.
    pub as_of: String,
    pub overall: FiguresView,
    pub teams: Vec<TeamFiguresView>,
}

/// The figures of one team, or of everyone; shares are 0 to 1, null when nothing counts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct FiguresView {
    pub n_actions: i64,
    pub n_open: i64,
    pub n_overdue: i64,
    pub n_done: i64,
    pub n_wont_do: i64,
    pub done_on_time_share: Option<f64>,
    pub median_open_age_days: Option<f64>,
    pub wont_do_share: Option<f64>,
    pub median_days_resolved_to_published: Option<f64>,
    pub n_published: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TeamFiguresView {
    pub team: String,
    #[serde(flatten)]
    pub figures: FiguresView,
}

/// A registered integration, without its credential.
#[derive(Debug, ToSchema)]
pub(crate) struct IntegrationView {
    pub id: i64,
    /// `alertmanager`, `grafana`, `pagerduty`, `opsgenie` or `deploy`.
    pub kind: String,
    pub name: String,
    pub services: Vec<String>,
    /// The id of the person the integration acts as (handle `integration-{id}`).
    pub actor: i64,
    pub created_at: String,
}

#[derive(Debug, ToSchema)]
pub(crate) struct IntegrationListView {
    pub items: Vec<IntegrationView>,
}

/// A new integration with its secret, which is never shown again.
#[derive(Debug, ToSchema)]
pub(crate) struct IntegrationCreated {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub services: Vec<String>,
    pub actor: i64,
    pub created_at: String,
    /// Send as `Authorization: Bearer SECRET`; only its hash is kept. `null` for PagerDuty.
    pub secret: Option<String>,
    /// Where the tool sends: `/hooks/{kind}/{id}`.
    pub path: String,
}

/// A body a receiver read.
#[derive(Debug, ToSchema)]
pub(crate) struct HookDeliveryView {
    pub id: i64,
    pub integration_id: i64,
    pub received_at: String,
    /// The body as received.
    pub body: String,
    /// `applied`, `ignored` or `refused`.
    pub outcome: String,
    /// Why it was refused or ignored, or what it held.
    pub detail: String,
    pub entries_added: i64,
    /// The delivery this one replayed.
    pub replay_of: Option<i64>,
}

#[derive(Debug, ToSchema)]
pub(crate) struct HookDeliveryListView {
    pub items: Vec<HookDeliveryView>,
}

/// What a receiver or a replay did.
#[derive(Debug, ToSchema)]
pub(crate) struct ReceivedView {
    pub delivery: i64,
    /// `applied` or `ignored`.
    pub outcome: String,
    pub entries_added: i64,
    pub detail: String,
}

/// What an author asked of the external version.
#[derive(Debug, ToSchema)]
pub(crate) struct ExternalSpecView {
    pub sections: Vec<String>,
    pub internal_domains: Vec<String>,
    /// Detected texts whose replacement an author changed.
    pub changes: Vec<RedactionEdit>,
    /// Texts an author asked to replace.
    pub additions: Vec<RedactionEdit>,
}

/// A text and what replaces it.
#[derive(Debug, ToSchema)]
pub(crate) struct RedactionEdit {
    pub found: String,
    pub replaced_by: String,
}

/// One replacement made in the external text.
#[derive(Debug, ToSchema)]
pub(crate) struct RedactionView {
    /// `person`, `email`, `host`, `ip_address`, `link`, `chat`, `customer` or `author`.
    pub kind: String,
    /// The section it was found in (`title` for the title).
    pub section: String,
    pub found: String,
    pub replaced_by: String,
}

/// A draft of the external version.
#[derive(Debug, ToSchema)]
pub(crate) struct ExternalDraftView {
    pub incident: i64,
    pub spec: ExternalSpecView,
    /// The title with its redactions made.
    pub title: String,
    /// The text that publishing makes public.
    pub markdown: String,
    pub redactions: Vec<RedactionView>,
    /// Send it back in an edit.
    pub version: i64,
    pub updated_by: i64,
    pub updated_at: String,
}

/// Where a published external version is read.
#[derive(Debug, ToSchema)]
pub(crate) struct PublishedView {
    #[schema(example = "/public/incidents/checkout-down-1")]
    pub url: String,
}

/// Deploys before an incident.
#[derive(Debug, ToSchema)]
pub(crate) struct ChangeListView {
    pub items: Vec<ChangeView>,
}

/// A deploy a deploy tool reported.
#[derive(Debug, ToSchema)]
pub(crate) struct ChangeView {
    pub id: i64,
    pub integration_id: Option<i64>,
    pub key: String,
    pub service: String,
    pub version: String,
    pub at: String,
    pub by: Option<String>,
    pub link: Option<String>,
    pub received_at: String,
    /// The incident's timeline holds it (or held it: a removed entry is not added again).
    pub on_timeline: bool,
}

/// A deploy the timeline held already.
#[derive(Debug, ToSchema)]
pub(crate) struct ChangeNotAdded {
    pub added: bool,
}
