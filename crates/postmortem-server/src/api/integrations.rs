//! Integrations through the API: admins register the tools that send webhooks (the secret is
//! answered once), list and delete them, read the bodies received and replay one. The
//! receivers the tools call are in `hooks.rs`. And what the deploy tools reported, per
//! incident: the changes before it, and adding one to its timeline.

use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use postmortem_app::IntegrationInput;
use postmortem_app::chat::{ChatSource, ImportChoices, Selection};
use postmortem_core::{IncidentId, Perspective, parse_instant};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use utoipa::IntoParams;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/integrations", get(list).post(create))
        .route("/integrations/{id}", delete(remove))
        .route("/integrations/deliveries", get(deliveries))
        .route("/integrations/deliveries/{id}/replay", post(replay))
        .route("/incidents/{id}/changes", get(changes))
        .route(
            "/incidents/{id}/changes/{deploy_id}/timeline",
            post(add_change),
        )
        .route(
            "/incidents/{id}/chat/preview",
            post(chat_preview).layer(DefaultBodyLimit::max(crate::limits::CHAT_EXPORT)),
        )
        .route(
            "/incidents/{id}/chat/import",
            post(chat_import).layer(DefaultBodyLimit::max(crate::limits::CHAT_EXPORT)),
        )
}

/// Which bodies to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DeliveryQuery {
    /// One integration's only.
    pub integration: Option<i64>,
    /// At most this many, newest first: 1 to 500, 50 when not given.
    pub limit: Option<i64>,
}

/// The integrations, without their secrets.
#[utoipa::path(
    get, path = "/api/v1/integrations", tag = "admin",
    responses(
        (status = 200, description = "`{items}`", body = super::schema::IntegrationListView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let items = state.app.acting_for(&user).integrations().await?;
    Ok(Json(json!({"items": items})))
}

/// Registers an integration; the answer carries its secret, shown this once.
#[utoipa::path(
    post, path = "/api/v1/integrations", tag = "admin",
    request_body = IntegrationInput,
    responses(
        (status = 201, description = "The integration, its `secret` and its receiver's `path`", body = super::schema::IntegrationCreated),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
        (status = 409, description = "An integration has this name", body = super::schema::ErrorBody),
        (status = 422, description = "A field is not valid", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<IntegrationInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let registered = state
        .app
        .acting_for(&user)
        .register_integration(input)
        .await?;
    Ok((StatusCode::CREATED, Json(json!(registered))))
}

/// Deletes an integration and the bodies it sent; the entries it wrote stay.
#[utoipa::path(
    delete, path = "/api/v1/integrations/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The integration")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
        (status = 404, description = "No such integration", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    state.app.acting_for(&user).delete_integration(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The bodies the receivers kept, newest first.
#[utoipa::path(
    get, path = "/api/v1/integrations/deliveries", tag = "admin",
    params(DeliveryQuery),
    responses(
        (status = 200, description = "`{items}`", body = super::schema::HookDeliveryListView),
        (status = 400, description = "A malformed query, such as a `limit` that is not a number", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    query: Result<Query<DeliveryQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(super::insights::bad_query)?;
    let items = state
        .app
        .acting_for(&user)
        .hook_deliveries(query.integration, query.limit.unwrap_or(50))
        .await?;
    Ok(Json(json!({"items": items})))
}

/// Applies a kept body again, as its integration; nothing already added is added twice.
#[utoipa::path(
    post, path = "/api/v1/integrations/deliveries/{id}/replay", tag = "admin",
    params(("id" = i64, Path, description = "The delivery")),
    responses(
        (status = 200, description = "What the replay did", body = super::schema::ReceivedView),
        (status = 400, description = "The body does not parse; the replay is kept too", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
        (status = 404, description = "No such delivery", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn replay(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Value>, ApiError> {
    let received = state.app.acting_for(&user).replay_delivery(id).await?;
    Ok(Json(json!(received)))
}

/// How far back to look for changes.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChangesQuery {
    /// Hours before the incident's start: 1 to 168, 24 when not given.
    #[param(minimum = 1, maximum = 168)]
    pub hours: Option<i64>,
}

/// Deploys to the incident's services in the hours before it started, newest first.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/changes", tag = "incidents",
    params(("id" = i64, Path, description = "The incident"), ChangesQuery),
    responses(
        (status = 200, description = "`{items}`: deploys with `on_timeline`", body = super::schema::ChangeListView),
        (status = 400, description = "A malformed query, such as `hours` that is not a number", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or one you may not see", body = super::schema::ErrorBody),
        (status = 422, description = "`hours` out of range", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn changes(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    query: Result<Query<ChangesQuery>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(super::insights::bad_query)?;
    let items = state
        .app
        .acting_for(&user)
        .changes_before(IncidentId::new(id), query.hours)
        .await?;
    Ok(Json(json!({"items": items})))
}

/// Adds a deploy to the incident's timeline (`source: deploy`); a second time adds nothing.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/changes/{deploy_id}/timeline", tag = "incidents",
    params(("id" = i64, Path, description = "The incident"), ("deploy_id" = i64, Path, description = "The deploy")),
    responses(
        (status = 201, description = "The entry added", body = super::schema::TimelineEntryView),
        (status = 200, description = "The timeline held it already: `{added: false}`", body = super::schema::ChangeNotAdded),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Your role may not write", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident or deploy to its services", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_change(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, deploy_id)): ApiPath<(i64, i64)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let added = state
        .app
        .acting_for(&user)
        .add_change_to_timeline(IncidentId::new(id), deploy_id)
        .await?;
    Ok(match added {
        Some(entry) => (StatusCode::CREATED, Json(json!(entry))),
        None => (StatusCode::OK, Json(json!({"added": false}))),
    })
}

/// Which messages of a chat export, and how to import them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ChatQuery {
    /// The channel of a Slack workspace export (the body is then the export's zip); without
    /// it the body is a CSV (`time,author,text,link`) or JSON list of messages.
    pub channel: Option<String>,
    /// Messages from this instant on (RFC 3339).
    #[param(schema_with = postmortem_app::vocabulary::instant)]
    pub from: Option<String>,
    /// Messages up to this instant.
    #[param(schema_with = postmortem_app::vocabulary::instant)]
    pub to: Option<String>,
    /// The reaction that pre-selects a message, e.g. `white_check_mark`.
    pub reaction: Option<String>,
    /// Import: `preselected` (default: pinned, with the reaction, or naming a keyword), `all`,
    /// `pinned`, `keywords`, or `ids` with `ids`.
    pub select: Option<String>,
    /// Import: the message ids to import, comma-separated, with `select=ids`.
    pub ids: Option<String>,
    /// Import: `observed` (default), `happened` or `believed`.
    #[param(schema_with = postmortem_app::vocabulary::perspective)]
    pub perspective: Option<String>,
}

impl ChatQuery {
    fn window(&self) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), ApiError> {
        let instant = |field: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| parse_instant(field, raw))
                .transpose()
        };
        Ok((instant("from", &self.from)?, instant("to", &self.to)?))
    }

    fn source<'a>(&'a self, body: &'a [u8]) -> ChatSource<'a> {
        match self.channel.as_deref() {
            Some(channel) => ChatSource::Slack {
                export: body,
                channel,
            },
            None => ChatSource::Generic { bytes: body },
        }
    }
}

/// The messages of a chat export's window, for choosing which become timeline entries.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/chat/preview", tag = "incidents",
    params(("id" = i64, Path, description = "The incident"), ChatQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A Slack export zip (with `channel`) or a CSV/JSON list of messages"),
    responses(
        (status = 200, description = "`{items}`: messages with `preselected`, `imported`, `person`, `findings`", body = Object),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or one you may not see", body = super::schema::ErrorBody),
        (status = 422, description = "The export could not be read; the message says why", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn chat_preview(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    query: Result<Query<ChatQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(super::insights::bad_query)?;
    let (from, to) = query.window()?;
    let items = state
        .app
        .acting_for(&user)
        .preview_chat(
            IncidentId::new(id),
            query.source(&body),
            from,
            to,
            query.reaction.as_deref(),
        )
        .await?;
    Ok(Json(json!({"items": items})))
}

/// Imports the chosen messages as `source: chat` entries; messages imported before are
/// skipped, so sending the same again adds nothing.
#[utoipa::path(
    post, path = "/api/v1/incidents/{id}/chat/import", tag = "incidents",
    params(("id" = i64, Path, description = "The incident"), ChatQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "A Slack export zip (with `channel`) or a CSV/JSON list of messages"),
    responses(
        (status = 200, description = "`{selected, added, already}`", body = Object),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Your role may not write", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or one you may not see", body = super::schema::ErrorBody),
        (status = 422, description = "The export or a parameter could not be read", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn chat_import(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    query: Result<Query<ChatQuery>, QueryRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(super::insights::bad_query)?;
    let (from, to) = query.window()?;
    let selection = match query.select.as_deref().map(str::trim) {
        None | Some("" | "preselected") => Selection::Preselected {
            reaction: query.reaction.clone(),
        },
        Some("ids") => Selection::Ids(
            query
                .ids
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        Some(other) => Selection::parse(other)?,
    };
    let perspective = Perspective::parse(query.perspective.as_deref().unwrap_or("observed"))?;
    let imported = state
        .app
        .acting_for(&user)
        .import_chat(
            IncidentId::new(id),
            query.source(&body),
            from,
            to,
            &selection,
            &ImportChoices::all_as(perspective),
        )
        .await?;
    Ok(Json(json!(imported)))
}
