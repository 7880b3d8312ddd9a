//! `POST /api/v1/import`: one Markdown post-mortem (an export of this system, or one written
//! elsewhere) read into the database through the app layer's import use case, as the person
//! sending it; the imported incident's audit event names `api` as its source.

use super::audit::invalid_query;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use postmortem_app::{ImportOptions, ImportOutcome, Imported};
use serde::Deserialize;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/import", post(import))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImportParams {
    /// `true`: say what would be created or found, and how the file was read, without
    /// writing anything.
    #[param(example = true)]
    dry_run: Option<bool>,
    /// `true`: update the matched incident even when it changed in postmortem since the file
    /// was exported (its `version:`), overwriting those changes.
    #[param(example = false)]
    force: Option<bool>,
}

/// Imports one Markdown file. A new incident answers `201` with its id; a file that matches
/// an incident (by its `id`, or by the slug of its title and its start) answers `200`,
/// `unchanged`, or `updated` with each part it changed (facts, sections, timeline, factors,
/// action items; `would_update` in a dry run). A file exported before the incident last
/// changed answers `412` (`version_conflict`) and changes nothing, unless `force=true`.
/// A file that cannot be read answers `422` with its line and the reason, and nothing of it
/// is written.
#[utoipa::path(
    post, path = "/api/v1/import", tag = "incidents",
    params(ImportParams),
    request_body(content = String, content_type = "text/markdown", description = "The Markdown file (or, sent as `text/html`, a page exported from Confluence or Google Docs), UTF-8, at most 4 MiB"),
    responses(
        (status = 201, description = "A new incident was made from the file", body = Imported),
        (status = 200, description = "Dry run, or the file matches an incident: what would happen or what it is", body = Imported),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "The person's role may not write", body = super::schema::ErrorBody),
        (status = 412, description = "The incident changed since the file was exported; nothing was written", body = super::schema::ErrorBody),
        (status = 413, description = "The file is larger than 4 MiB", body = super::schema::ErrorBody),
        (status = 415, description = "Not sent as `text/markdown` or `text/html`", body = super::schema::ErrorBody),
        (status = 422, description = "The file cannot be read: its line and why", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<ImportParams>, QueryRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(invalid_query)?;
    let markdown = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| {
            let essence = essence.trim();
            essence.eq_ignore_ascii_case("text/markdown")
                || essence.eq_ignore_ascii_case("text/html")
        });
    if !markdown {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the file with `Content-Type: text/markdown`, or `text/html` for a page exported from Confluence or Google Docs",
        ));
    }
    let imported = state
        .app
        .acting_for(&user)
        .import_markdown(
            "api",
            &body,
            ImportOptions {
                dry_run: params.dry_run.unwrap_or(false),
                force: params.force.unwrap_or(false),
            },
        )
        .await?;
    let status = match imported.outcome {
        ImportOutcome::Created { .. } => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((status, axum::Json(imported)).into_response())
}
