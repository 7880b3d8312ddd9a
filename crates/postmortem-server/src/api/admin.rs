//! Administration through the API: outgoing webhooks and their delivery log. Admins only.

use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch};
use axum::{Json, Router};
use postmortem_core::{Permission, User};
use postmortem_store::{Actor, Webhook, WebhookDelivery};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/webhooks", get(list).post(create))
        .route("/webhooks/{id}", patch(update))
        .route("/webhooks/deliveries", get(deliveries))
}

pub(crate) fn require_admin(user: &User) -> Result<(), ApiError> {
    if user.role.may(Permission::ManageWebhooks) {
        Ok(())
    } else {
        Err(ApiError::forbidden("manage webhooks"))
    }
}

/// The body of `POST /api/v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://chat.example.com/hooks/postmortem", "secret": "a-long-signing-secret", "events": ["*"]}))]
pub(crate) struct WebhookInput {
    /// Where deliveries are POSTed: an http or https URL.
    pub url: String,
    /// The HMAC-SHA256 signing secret, at least 16 characters; never shown again.
    pub secret: String,
    /// Events to receive: `review.overdue`, `action.overdue`, `digest`, or `*` for all.
    pub events: Vec<String>,
}

/// The body of `PATCH /api/v1/webhooks/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookPatch {
    pub active: bool,
}

/// Outgoing webhooks, without their secrets.
#[utoipa::path(
    get, path = "/api/v1/webhooks", tag = "admin",
    responses(
        (status = 200, description = "`{items}`: webhooks with `id`, `url`, `events`, `active`, `created_at`", body = super::schema::WebhookListView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    require_admin(&user)?;
    let webhooks: Vec<Webhook> = state.store.webhooks().await?;
    Ok(Json(json!({"items": webhooks})))
}

/// Registers an outgoing webhook.
#[utoipa::path(
    post, path = "/api/v1/webhooks", tag = "admin",
    request_body = WebhookInput,
    responses(
        (status = 201, description = "`{id}` of the new webhook", body = super::schema::WebhookCreated),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
        (status = 422, description = "A field is not valid", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<WebhookInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    require_admin(&user)?;
    let id = state
        .store
        .create_webhook(
            Actor::user(user.id),
            &input.url,
            &input.secret,
            &input.events,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(json!({"id": id}))))
}

/// Switches a webhook on or off.
#[utoipa::path(
    patch, path = "/api/v1/webhooks/{id}", tag = "admin",
    params(("id" = i64, Path, description = "The webhook")),
    request_body = WebhookPatch,
    responses(
        (status = 200, description = "`{id, active}`", body = super::schema::WebhookState),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
        (status = 404, description = "No such webhook", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    ApiJson(patch): ApiJson<WebhookPatch>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&user)?;
    state
        .store
        .set_webhook_active(Actor::user(user.id), id, patch.active)
        .await?;
    Ok(Json(json!({"id": id, "active": patch.active})))
}

/// The delivery log, newest first: every attempt's outcome, for admins.
#[utoipa::path(
    get, path = "/api/v1/webhooks/deliveries", tag = "admin",
    responses(
        (status = 200, description = "`{items}`: deliveries with `event`, `status`, `attempts`, `response_code`, `error`, `next_attempt_at`, `delivered_at`", body = super::schema::DeliveryListView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 403, description = "Not an admin", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn deliveries(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    require_admin(&user)?;
    let items: Vec<WebhookDelivery> = state.store.webhook_deliveries(200).await?;
    Ok(Json(json!({"items": items})))
}
