//! Correcting and removing timeline entries, contributing factors and action items through
//! the API. Each handler translates HTTP to one [`Service`] call and back.

use super::schema::{ErrorBody, FactorView, TimelineEntryView};
use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, patch};
use axum::{Json, Router};
use postmortem_app::{FactorPatch, TimelinePatch};
use postmortem_core::{ActionId, FactorId, IncidentId, TimelineEntryId};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/timeline/{entry_id}",
            patch(update_timeline_entry).delete(remove_timeline_entry),
        )
        .route(
            "/incidents/{id}/factors/{factor_id}",
            patch(update_factor).delete(remove_factor),
        )
        .route("/actions/{id}", delete(remove_action))
}

/// Corrects a timeline entry.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}/timeline/{entry_id}", tag = "timeline",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("entry_id" = i64, Path, description = "The timeline entry", example = 1)),
    request_body = TimelinePatch,
    responses(
        (status = 200, description = "The entry as it now is", body = TimelineEntryView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident or entry, or restricted", body = ErrorBody),
        (status = 422, description = "Invalid input, such as an instant without a time zone", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update_timeline_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, entry_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<TimelinePatch>,
) -> Result<Response, ApiError> {
    let entry = state
        .app
        .acting_for(&user)
        .update_timeline_entry(IncidentId::new(id), TimelineEntryId::new(entry_id), body)
        .await?;
    Ok(Json(entry).into_response())
}

/// Removes a timeline entry; the audit log keeps what it said.
#[utoipa::path(
    delete, path = "/api/v1/incidents/{id}/timeline/{entry_id}", tag = "timeline",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("entry_id" = i64, Path, description = "The timeline entry", example = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident or entry, or restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove_timeline_entry(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, entry_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .remove_timeline_entry(IncidentId::new(id), TimelineEntryId::new(entry_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Corrects a contributing factor; an incident has one trigger at most.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}/factors/{factor_id}", tag = "factors",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("factor_id" = i64, Path, description = "The factor", example = 1)),
    request_body = FactorPatch,
    responses(
        (status = 200, description = "The factor as it now is", body = FactorView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident or factor, or restricted", body = ErrorBody),
        (status = 422, description = "Invalid input, or a second trigger without `replace_trigger`", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update_factor(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, factor_id)): ApiPath<(i64, i64)>,
    ApiJson(body): ApiJson<FactorPatch>,
) -> Result<Response, ApiError> {
    let factor = state
        .app
        .acting_for(&user)
        .update_factor(IncidentId::new(id), FactorId::new(factor_id), body)
        .await?;
    Ok(Json(factor).into_response())
}

/// Removes a contributing factor and its links to action items.
#[utoipa::path(
    delete, path = "/api/v1/incidents/{id}/factors/{factor_id}", tag = "factors",
    params(("id" = i64, Path, description = "The incident", example = 1),
           ("factor_id" = i64, Path, description = "The factor", example = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write", body = ErrorBody),
        (status = 404, description = "No such incident or factor, or restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove_factor(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, factor_id)): ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .remove_factor(IncidentId::new(id), FactorId::new(factor_id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an action item; the same people who may change it may remove it.
#[utoipa::path(
    delete, path = "/api/v1/actions/{id}", tag = "actions",
    params(("id" = i64, Path, description = "The action item", example = 1)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not one of the people who may change this item", body = ErrorBody),
        (status = 404, description = "No such action item, or its incident is restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove_action(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .remove_action(ActionId::new(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
