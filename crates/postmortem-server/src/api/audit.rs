//! The audit log through the API: the whole log for admins, and an incident's own history
//! for its members. Who may read what is decided in [`crate::audit`].

use super::ApiPath;
use super::schema::ErrorBody;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use postmortem_app::audit::{AuditParams, HistoryParams};
use postmortem_core::{IncidentId, User};
use postmortem_store::{AuditEvent, AuditPage};
use serde_json::{Value, json};
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/audit", get(log))
        .route("/incidents/{id}/history", get(history))
}

/// One audit event (for the OpenAPI document; answers are built from [`AuditEvent`]).
#[allow(dead_code)]
#[derive(Debug, ToSchema)]
pub(crate) struct AuditEventView {
    pub id: i64,
    /// When, RFC 3339.
    pub at: String,
    /// The id of the person who acted; `null` for the system (imports, reminders, deliveries).
    pub actor: Option<i64>,
    /// Their handle, `null` for the system.
    pub actor_handle: Option<String>,
    /// What was done, `<kind>.<verb>`, such as `section.save` or `postmortem.transition`.
    pub action: String,
    pub incident_id: Option<i64>,
    /// `before` and `after` (`null` when the thing did not exist before or does not after),
    /// each an object of the fields that describe it, and beside them what identifies the
    /// thing changed (`action_id`, `user_id`...) or explains the change (`note`). Never a
    /// password, token, session or webhook secret.
    #[schema(value_type = Object)]
    pub details: Value,
}

/// A page of audit events, newest first (for the OpenAPI document).
#[allow(dead_code)]
#[derive(Debug, ToSchema)]
pub(crate) struct AuditPageView {
    pub items: Vec<AuditEventView>,
    /// Pass as `cursor` for the next (older) page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Every change, newest first, with who made it, when, and what it was before and after.
/// Admins only.
#[utoipa::path(
    get, path = "/api/v1/audit", tag = "audit",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of the audit log", body = AuditPageView),
        (status = 400, description = "A malformed query or a foreign cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 422, description = "Invalid filters, each with its rule", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn log(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(invalid_query)?;
    let page = state.app.acting_for(&user).audit_log(params).await?;
    Ok(Json(page_json(&state, &user, &page).await?))
}

/// One incident's own history, newest first: for admins and the incident's members (who
/// recorded it, is named on it, wrote in it or reviews it). Others who may see the incident
/// get 403; a restricted incident is 404 to anyone who may not see it.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/history", tag = "audit",
    params(("id" = i64, Path, description = "The incident"), HistoryParams),
    responses(
        (status = 200, description = "A page of the incident's history", body = AuditPageView),
        (status = 400, description = "A malformed query or a foreign cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not one of the incident's members, nor an admin", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 422, description = "Invalid filters, each with its rule", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params.map_err(invalid_query)?;
    let (_, page) = state
        .app
        .acting_for(&user)
        .incident_history(
            IncidentId::new(id),
            &super::viewer(&state, &user).await?,
            params,
        )
        .await?;
    Ok(Json(page_json(&state, &user, &page).await?))
}

/// A query string that does not fit the parameters at all (an unknown name, a wrong type).
pub(crate) fn invalid_query(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}

/// The page as the API answers it, with each actor's handle beside their id.
async fn page_json(state: &AppState, user: &User, page: &AuditPage) -> Result<Value, ApiError> {
    let people = state.app.acting_for(user).people().await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|event: &AuditEvent| {
            let mut item = serde_json::to_value(event).expect("an audit event serialises");
            item["actor_handle"] = json!(
                event
                    .actor
                    .and_then(|id| people.get(&id))
                    .map(|p| p.handle.as_str())
            );
            item
        })
        .collect();
    Ok(json!({"items": items, "next_cursor": page.next_cursor}))
}
