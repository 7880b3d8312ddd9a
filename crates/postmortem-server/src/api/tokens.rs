//! `/api/v1/tokens`: a person's own API tokens. The secret is answered once, at creation;
//! listings never carry it. Owners revoke their tokens, admins anyone's.

use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::{HeaderName, StatusCode, header};
use axum::routing::{delete, get};
use axum::{Json, Router};
use postmortem_app::accounts::{TokenRequest, create_token, revoke_token};
use postmortem_store::{ApiToken, TokenState};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tokens", get(list).post(create))
        .route("/tokens/{id}", delete(revoke))
}

/// The body of `POST /api/v1/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenInput {
    /// What the token is for, to recognise it in the list: 1 to 100 characters.
    #[schema(schema_with = postmortem_app::vocabulary::token_label)]
    pub label: String,
    /// How many days the token lasts: 1 to 366, 90 when not given.
    #[schema(minimum = 1, maximum = 366)]
    pub expires_in_days: Option<i64>,
}

/// An API token without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    pub id: i64,
    pub label: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<OffsetDateTime>,
    /// `live`, `expired` or `revoked`.
    #[schema(value_type = String)]
    pub state: TokenState,
}

impl TokenView {
    pub(crate) fn of(token: ApiToken, now: OffsetDateTime) -> Self {
        Self {
            state: token.state(now),
            id: token.id,
            label: token.label,
            created_at: token.created_at,
            expires_at: token.expires_at,
            revoked_at: token.revoked_at,
        }
    }
}

/// A person's tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenList {
    pub items: Vec<TokenView>,
}

/// A new token with its secret, which is never shown again.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct CreatedToken {
    /// Send it as `Authorization: Bearer TOKEN`. Only its hash is stored.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenView,
}

/// The signed-in person's API tokens, newest first, without their secrets.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "people",
    responses(
        (status = 200, description = "The tokens, live, expired and revoked", body = TokenList),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<TokenList>, ApiError> {
    let now = state.store.now();
    let items = state.store.api_tokens(Some(user.id)).await?;
    Ok(Json(TokenList {
        items: items.into_iter().map(|t| TokenView::of(t, now)).collect(),
    }))
}

/// Creates an API token for the signed-in person; the answer carries the secret, once.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "people",
    request_body = TokenInput,
    responses(
        (status = 201, description = "The token with its secret, shown this once", body = CreatedToken),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 422, description = "A field is not valid", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<TokenInput>,
) -> Result<
    (
        StatusCode,
        [(HeaderName, &'static str); 1],
        Json<CreatedToken>,
    ),
    ApiError,
> {
    let request =
        TokenRequest::parse(&input.label, input.expires_in_days).map_err(ApiError::invalid)?;
    let (record, token) = create_token(state.store.as_ref(), &user, request).await?;
    let record = TokenView::of(record, state.store.now());
    // The answer holds the secret: no cache may keep it.
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    Ok((
        StatusCode::CREATED,
        no_store,
        Json(CreatedToken { token, record }),
    ))
}

/// Revokes a token at once: the signed-in person's own, or anyone's for admins.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "people",
    params(("id" = i64, Path, description = "The token")),
    responses(
        (status = 200, description = "The revoked token", body = TokenView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 404, description = "No such token of yours", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn revoke(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<TokenView>, ApiError> {
    let token = revoke_token(state.store.as_ref(), &user, id).await?;
    Ok(Json(TokenView::of(token, state.store.now())))
}
