//! `POST /api/v1/lint`: the blameless-language checker over a text the caller sends, for live
//! hints while writing. It reads nothing and changes nothing, so a browser's session cookie
//! needs no CSRF token here; the JSON content type it requires cannot be sent cross-site
//! without a CORS preflight, which this server never grants, so other sites cannot read it.

use super::ApiJson;
use super::schema::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use postmortem_core::{Collector, Markdown, ValidationError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/lint", post(lint))
}

/// How many participant names one request may carry, and how long each may be: generous for
/// any incident, small enough that a request cannot make the checker's person table huge.
const MAX_PARTICIPANTS: usize = 200;
const MAX_PARTICIPANT_CHARS: usize = 200;

/// The body of `POST /api/v1/lint`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LintInput {
    /// Markdown, at most 200,000 bytes (the limit of a section).
    pub text: String,
    /// Names always taken for people, such as the incident's responders; the server's
    /// configured participants are added.
    pub participants: Option<Vec<String>>,
}

/// The answer: the findings, sorted by position.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct LintResult {
    pub findings: Vec<FindingView>,
}

/// One finding, as the checker reports it. Lines and columns are 1-based and count
/// characters (Unicode scalar values); ends are exclusive.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // Documents the shape of `postmortem_lint::Finding`; never built.
pub(crate) struct FindingView {
    /// Rule id, such as `person-failure`.
    pub rule: String,
    /// `person_failure`, `counterfactual`, `human_error`, `character`, `hindsight`, `fault`,
    /// `passive_blame`, `root_cause_singular`, `people_fix` or `blame_concentration`.
    pub category: String,
    /// `info`, `warning` or `error`.
    pub severity: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    /// The span in UTF-8 bytes of the text.
    pub byte_range: ByteRange,
    /// Column of the first character in UTF-8 bytes.
    pub byte_column: usize,
    /// Column just past the end in UTF-8 bytes.
    pub end_byte_column: usize,
    /// Why this reads as blame.
    pub message: String,
    /// A rewrite, or a question that leads to one.
    pub suggestion: String,
    /// A concrete rewrite of the span, when the rule has one (empty: delete the span).
    pub replacement: Option<String>,
}

/// A half-open range of UTF-8 byte offsets.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ByteRange {
    pub start: usize,
    pub end: usize,
}

/// Checks a text for blaming language.
#[utoipa::path(
    post, path = "/api/v1/lint", tag = "writing",
    request_body = LintInput,
    responses(
        (status = 200, description = "The findings, sorted by position; empty when the text reads as blameless", body = LintResult),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "The text is longer than 200,000 bytes, too many or too long participant names, or unknown fields", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn lint(
    State(state): State<AppState>,
    ApiUser(_): ApiUser,
    ApiJson(input): ApiJson<LintInput>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut errors = Collector::default();
    let text = errors.ok(Markdown::parse_field("text", input.text));
    let participants = input.participants.unwrap_or_default();
    if participants.len() > MAX_PARTICIPANTS {
        errors.push(ValidationError::new(
            "participants",
            format!("name at most {MAX_PARTICIPANTS} participants"),
        ));
    }
    for (n, name) in participants.iter().enumerate() {
        if name.chars().count() > MAX_PARTICIPANT_CHARS {
            errors.push(ValidationError::new(
                format!("participants[{n}]"),
                format!("must be at most {MAX_PARTICIPANT_CHARS} characters"),
            ));
        }
    }
    let (Some(text), true) = (text, errors.is_empty()) else {
        return Err(ApiError::invalid(errors.into_errors()));
    };
    let options = postmortem_lint::LintOptions {
        participants,
        config: state.settings.lint.clone(),
    };
    // A long text takes milliseconds; off the async workers, so typing never delays a page.
    let findings =
        tokio::task::spawn_blocking(move || postmortem_lint::lint(text.as_str(), &options))
            .await
            .map_err(ApiError::internal)?;
    Ok(Json(serde_json::json!({ "findings": findings })))
}
