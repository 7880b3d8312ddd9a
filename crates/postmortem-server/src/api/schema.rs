//! The shapes of API answers, for the OpenAPI document only. Answers are built from the core
//! types' own serialisation; these mirror it, and a test compares a real answer's keys with
//! the documented ones so the two cannot drift apart silently.

#![allow(dead_code)]

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
    /// `{section, current_text, current_version, updated_by}`.
    #[schema(value_type = Object, nullable)]
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
#[derive(Debug, ToSchema)]
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

#[derive(Debug, ToSchema)]
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

#[derive(Debug, ToSchema)]
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
