//! The external (customer-facing) version through the API: make a draft from chosen sections
//! (every redaction listed), edit its replacements, publish it at `/public/incidents/{slug}`
//! and take it down. The rules are `postmortem-app`'s `external.rs`.

use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use postmortem_app::{ExternalInput, ExternalPatch, PublishInput};
use postmortem_core::{ExternalDraft, IncidentId};
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/external",
            get(read).post(create).patch(edit),
        )
        .route("/incidents/{id}/external/publish", post(publish))
        .route("/incidents/{id}/external/unpublish", post(unpublish))
}

/// Where a published external version is read.
pub(crate) fn public_url(slug: &str) -> String {
    format!("/public/incidents/{slug}")
}

/// The incident's draft of its external version.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/external", tag = "external",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    responses(
        (status = 200, description = "The draft: what was asked, the text and every redaction", body = super::schema::ExternalDraftView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, restricted, or no draft yet", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ExternalDraft>, ApiError> {
    let draft = state
        .app
        .acting_for(&user)
        .external_draft(IncidentId::new(id))
        .await?;
    Ok(Json(draft))
}

/// Makes (or replaces) the draft from the chosen sections: people become their roles; internal
/// hosts, IP addresses, email addresses, chat links, internal links and customer identifiers
/// are replaced, each one listed.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/external", tag = "external",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = ExternalInput,
    responses(
        (status = 201, description = "The draft", body = super::schema::ExternalDraftView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "The role may not write", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = super::schema::ErrorBody),
        (status = 422, description = "A section or domain is not valid", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ExternalInput>,
) -> Result<(StatusCode, Json<ExternalDraft>), ApiError> {
    let draft = state
        .app
        .acting_for(&user)
        .make_external_draft(IncidentId::new(id), input)
        .await?;
    Ok((StatusCode::CREATED, Json(draft)))
}

/// Edits the draft made from `version`: other sections, changed replacements, added ones.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}/external", tag = "external",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = ExternalPatch,
    responses(
        (status = 200, description = "The draft made again with the edit", body = super::schema::ExternalDraftView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "The role may not write", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, restricted, or no draft yet", body = super::schema::ErrorBody),
        (status = 412, description = "The draft changed since `version`; the message says its version now", body = super::schema::ErrorBody),
        (status = 422, description = "A field is not valid", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn edit(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<ExternalPatch>,
) -> Result<Json<ExternalDraft>, ApiError> {
    let draft = state
        .app
        .acting_for(&user)
        .edit_external_draft(IncidentId::new(id), patch)
        .await?;
    Ok(Json(draft))
}

/// Publishes the draft for anyone to read without signing in: reviewers and admins (admins
/// only for a restricted incident), accepting its redactions.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/external/publish", tag = "external",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    request_body = PublishInput,
    responses(
        (status = 200, description = "`{url}`: where anyone reads it (add `.md` for Markdown)", body = super::schema::PublishedView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not a reviewer or admin (an admin, for a restricted incident)", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = super::schema::ErrorBody),
        (status = 422, description = "No draft yet, or the redactions not accepted", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn publish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PublishInput>,
) -> Result<Json<Value>, ApiError> {
    let published = state
        .app
        .acting_for(&user)
        .publish_external(IncidentId::new(id), input)
        .await?;
    Ok(Json(json!({"url": public_url(&published.slug)})))
}

/// Takes the published external version down: its address answers 404 from then on.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/external/unpublish", tag = "external",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    responses(
        (status = 204, description = "Taken down"),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not a reviewer or admin (an admin, for a restricted incident)", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, restricted, or not published", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn unpublish(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .unpublish_external(IncidentId::new(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
