//! Writing a post-mortem through the API: sections with conflict-safe saves, timeline entries,
//! contributing factors, action items, lifecycle transitions and review comments. Every
//! handler here only translates HTTP to a [`Service`] call and back.

use super::incidents::etag;
use super::schema::{
    ActionView, CommentView, ErrorBody, FactorView, PostmortemSaved, Resolved, TimelineEntryView,
    Transition,
};
use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use postmortem_app::{
    ActionInput, ActionPatch, CommentInput, FactorInput, SaveResult, TimelineInput, TransitionInput,
};
use postmortem_core::{ActionId, CommentId, IncidentId};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/postmortem", patch(save_sections))
        .route("/incidents/{id}/postmortem/transitions", post(transition))
        .route("/incidents/{id}/timeline", post(add_timeline_entry))
        .route("/incidents/{id}/factors", post(add_factor))
        .route("/incidents/{id}/actions", post(add_action))
        .route("/actions/{id}", patch(update_action))
        .route("/incidents/{id}/comments", post(add_comment))
        .route("/incidents/{id}/events", get(crate::live::api_events))
        .route(
            "/incidents/{id}/comments/{comment_id}/resolve",
            post(resolve_comment),
        )
        .route(
            "/incidents/{id}/comments/{comment_id}/reopen",
            post(reopen_comment),
        )
}

/// The body of `PATCH /api/v1/incidents/{id}/postmortem`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sections": {"summary": "Checkout returned 502s for 47 minutes."}}))]
pub(crate) struct SectionsInput {
    /// Section name to its whole new Markdown text; sections not named stay as they are.
    pub sections: BTreeMap<String, String>,
    /// Required once the post-mortem is published: what changed, in a few words (at most
    /// 500 characters). Readers see it as "Revised on <date>: <revision>", the audit log
    /// keeps it and the reviewers are told (webhook event `postmortem.revised`). Ignored
    /// before publication.
    #[serde(default)]
    pub revision: Option<String>,
}

/// Reads the incident version a writer started from out of `If-Match: "v12"`; `None` when
/// the header is absent, which the service refuses after checking who is asking.
fn base_version(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(|v| v.trim().trim_start_matches("W/"))
        .and_then(|v| v.strip_prefix("\"v"))
        .and_then(|v| v.strip_suffix('"'))
        .and_then(|v| v.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_if_match",
                "`If-Match` must be an ETag this server handed out, such as \"v12\"",
            )
        })
}

/// The version in `If-Match` for a write to incident `id`. A malformed `If-Match` is only
/// reported to someone who may see the incident, so that a restricted incident is a 404
/// whatever the headers say.
pub(crate) async fn if_match_version(
    service: &postmortem_app::Service<'_>,
    id: IncidentId,
    headers: &HeaderMap,
) -> Result<Option<i64>, ApiError> {
    match base_version(headers) {
        Ok(base) => Ok(base),
        Err(error) => {
            service.incident(id).await?;
            Err(error)
        }
    }
}

pub(crate) fn with_etag(mut response: Response, version: i64) -> Response {
    response.headers_mut().insert(
        header::ETAG,
        etag(version).parse().expect("an ETag is a valid header"),
    );
    response
}

/// Saves post-mortem sections against the version in `If-Match`.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}/postmortem", tag = "post-mortem",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("If-Match" = String, Header, description = "The ETag the writer started from, such as \"v12\"")),
    request_body = SectionsInput,
    responses(
        (status = 200, description = "Saved; the new ETag is in the `ETag` header", body = PostmortemSaved),
        (status = 400, description = "`If-Match` is not an ETag of this server", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 412, description = "Sections changed since the base version; `details` lists each with its current text, version and who saved it", body = ErrorBody),
        (status = 422, description = "A section not in the template, invalid text, or a published post-mortem saved without `revision` (what changed)", body = ErrorBody),
        (status = 428, description = "`If-Match` is missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn save_sections(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SectionsInput>,
) -> Result<Response, ApiError> {
    let service = state.app.acting_for(&user);
    let id = IncidentId::new(id);
    let base = if_match_version(&service, id, &headers).await?;
    match service
        .save_sections(id, base, body.sections, body.revision)
        .await?
    {
        SaveResult::Saved { version } => Ok(with_etag(
            Json(json!({"version": version, "etag": etag(version)})).into_response(),
            version,
        )),
        SaveResult::Refused {
            current_version,
            conflicts,
        } => {
            let details: Vec<Value> = conflicts
                .iter()
                .map(|c| {
                    json!({
                        "section": c.section,
                        "current_text": c.current_text,
                        "current_version": c.current_version,
                        "updated_by": c.updated_by.as_ref().map(|u| json!({"id": u.id, "handle": u.handle, "display_name": u.display_name})),
                    })
                })
                .collect();
            let names: Vec<&str> = conflicts.iter().map(|c| c.section.as_str()).collect();
            let message = if names.is_empty() {
                format!(
                    "the incident is at version {current_version}, older than the one you sent; read it again"
                )
            } else {
                format!(
                    "nothing was saved: {} changed after version {}; merge with the current text in `details` and save again with If-Match {}",
                    names.join(", "),
                    base.unwrap_or_default(),
                    etag(current_version)
                )
            };
            let error = ApiError::new(StatusCode::PRECONDITION_FAILED, "edit_conflict", message)
                .with_details(Value::Array(details));
            Ok(with_etag(error.into_response(), current_version))
        }
    }
}

/// Moves the post-mortem through its lifecycle.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/postmortem/transitions", tag = "post-mortem",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = TransitionInput,
    responses(
        (status = 200, description = "The new status", body = Transition),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The role may not make this move", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "An illegal transition, missing reviewers or reason, or (when publishing) each unmet check as `details: [{code, message}]`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn transition(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TransitionInput>,
) -> Result<Response, ApiError> {
    let moved = state
        .app
        .acting_for(&user)
        .transition(IncidentId::new(id), body)
        .await?;
    Ok(with_etag(
        Json(json!({"status": moved.status, "version": moved.version})).into_response(),
        moved.version,
    ))
}

/// Adds a timeline entry.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/timeline", tag = "timeline",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = TimelineInput,
    responses(
        (status = 201, description = "The new entry", body = TimelineEntryView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "Invalid input, such as an instant without a time zone", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_timeline_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<TimelineInput>,
) -> Result<Response, ApiError> {
    let entry = state
        .app
        .acting_for(&user)
        .add_timeline_entry(IncidentId::new(id), body)
        .await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

/// Adds a contributing factor.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/factors", tag = "factors",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = FactorInput,
    responses(
        (status = 201, description = "The new factor", body = FactorView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "A category outside the taxonomy, or an empty description", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_factor(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FactorInput>,
) -> Result<Response, ApiError> {
    let factor = state
        .app
        .acting_for(&user)
        .add_factor(IncidentId::new(id), body)
        .await?;
    Ok((StatusCode::CREATED, Json(factor)).into_response())
}

/// Adds an action item.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/actions", tag = "actions",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = ActionInput,
    responses(
        (status = 201, description = "The new action item", body = ActionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "Invalid input, such as an unknown owner", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_action(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ActionInput>,
) -> Result<Response, ApiError> {
    let action = state
        .app
        .acting_for(&user)
        .add_action(IncidentId::new(id), body)
        .await?;
    Ok((StatusCode::CREATED, Json(action)).into_response())
}

/// Changes an action item's status, owner, due date or verification note.
#[utoipa::path(
    patch, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = i64, Path, description = "The action item", example = 1)),
    request_body = ActionPatch,
    responses(
        (status = 200, description = "The action item as it now is", body = ActionView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such action item, or its incident is restricted", body = ErrorBody),
        (status = 422, description = "Invalid input, such as `wont_do` without a reason", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update_action(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ActionPatch>,
) -> Result<Json<postmortem_core::ActionItem>, ApiError> {
    let action = state
        .app
        .acting_for(&user)
        .update_action(ActionId::new(id), body)
        .await?;
    Ok(Json(action))
}

/// A reviewer comments on a section, or on a passage of it (`quote`).
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/comments", tag = "review",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = CommentInput,
    responses(
        (status = 201, description = "The new comment", body = CommentView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Only reviewers and admins comment", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "A section not in the template, an empty body, or a quote whose words are not in the section as it reads now", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<CommentInput>,
) -> Result<Response, ApiError> {
    let comment = state
        .app
        .acting_for(&user)
        .add_comment(IncidentId::new(id), body)
        .await?;
    Ok((StatusCode::CREATED, Json(comment)).into_response())
}

/// An author marks a review comment resolved.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/comments/{comment_id}/resolve", tag = "review",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("comment_id" = i64, Path, description = "The comment")),
    responses(
        (status = 200, description = "Resolved", body = Resolved),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not resolve comments", body = ErrorBody),
        (status = 404, description = "No such incident or comment, or restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn resolve_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, comment_id)): ApiPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    mark_resolved(&state, &user, (id, comment_id), true).await
}

/// Someone opens a resolved review comment again.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/comments/{comment_id}/reopen", tag = "review",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("comment_id" = i64, Path, description = "The comment")),
    responses(
        (status = 200, description = "Open again", body = Resolved),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not reopen comments", body = ErrorBody),
        (status = 404, description = "No such incident or comment, or restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn reopen_comment(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, comment_id)): ApiPath<(i64, i64)>,
) -> Result<Json<Value>, ApiError> {
    mark_resolved(&state, &user, (id, comment_id), false).await
}

/// Resolves a comment or opens it again, and answers its new state.
async fn mark_resolved(
    state: &AppState,
    user: &postmortem_core::User,
    (id, comment_id): (i64, i64),
    resolved: bool,
) -> Result<Json<Value>, ApiError> {
    state
        .app
        .acting_for(user)
        .set_comment_resolved(IncidentId::new(id), CommentId::new(comment_id), resolved)
        .await?;
    Ok(Json(json!({"id": comment_id, "resolved": resolved})))
}
