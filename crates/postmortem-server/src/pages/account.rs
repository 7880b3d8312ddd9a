//! `/account`: who is signed in, and their API tokens: list them, create one (its secret is
//! shown on the answer to the form, once, and never again) and revoke one.

use super::forms::{Fields, check_origin_and_token, csrf_field, csrf_token};
use super::layout;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::html;
use postmortem_app::accounts::{DEFAULT_TOKEN_DAYS, TokenRequest, create_token, revoke_token};
use postmortem_core::User;
use postmortem_store::{ApiToken, TokenState};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/account", get(page))
        .route("/account/tokens", post(create))
        .route("/account/tokens/{id}/revoke", post(revoke))
}

/// What the page shows beside the list: a token just created, or why a form was refused.
enum Outcome {
    Created(ApiToken, String),
    Refused(ApiError),
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render(&state, &user, &headers, None).await
}

async fn render(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    outcome: Option<Outcome>,
) -> Result<Response, ApiError> {
    let now = state.store.now();
    let tokens = state.store.api_tokens(Some(user.id)).await?;
    let token = csrf_token(headers);
    let status = match &outcome {
        Some(Outcome::Refused(error)) => error.status,
        _ => StatusCode::OK,
    };
    let body = html! {
        h1 { "Your account" }
        p { (user.display_name) " · your handle is " code { (user.handle) } " · " (super::words::Words::words(user.role)) }
        h2 { "API tokens" }
        p { "Scripts and other programs act as you with " code { "Authorization: Bearer TOKEN" }
            ". A token is shown once, when it is made; only a hash of it is kept." }
        @match &outcome {
            Some(Outcome::Created(record, secret)) => {
                div.notice role="status" {
                    p { "Your new token " strong { (record.label) } " — copy it now, it will not be shown again:" }
                    p { label for="new-token" { "Token" } input #new-token type="text" readonly value=(secret) size="60"; }
                }
            }
            Some(Outcome::Refused(error)) => { p.error role="alert" { (error.message) } }
            None => {}
        }
        table {
            caption { "Your tokens (" (tokens.len()) ")" }
            thead { tr { th scope="col" { "Label" } th scope="col" { "Made" } th scope="col" { "Expires" } th scope="col" { "State" } th scope="col" { span.visually-hidden { "Revoke" } } } }
            tbody { @for record in &tokens { tr {
                td { (record.label) }
                td { (super::words::instant(record.created_at)) }
                td { @match record.expires_at { Some(at) => (super::words::instant(at)), None => "never" } }
                @let state = record.state(now);
                td { @match state { TokenState::Live => "live", TokenState::Expired => "expired", TokenState::Revoked => "revoked" } }
                td { @if state == TokenState::Live {
                    form.inline method="post" action={ "/account/tokens/" (record.id) "/revoke" } {
                        (csrf_field(&token))
                        button type="submit" aria-label={ "Revoke " (record.label) } { "Revoke" }
                    }
                } }
            } } }
        }
        h2 { "Make a token" }
        form method="post" action="/account/tokens" {
            (csrf_field(&token))
            p { label for="token-label" { "What it is for" } input #token-label name="label" type="text" required maxlength="100" placeholder="CI deploy job"; }
            p {
                label for="token-days" { "Expires after" }
                select #token-days name="expires_in_days" {
                    @for days in [7, 30, DEFAULT_TOKEN_DAYS, 366] {
                        option value=(days) selected[days == DEFAULT_TOKEN_DAYS] { (days) " days" }
                    }
                }
            }
            button type="submit" { "Make token" }
        }
    };
    // The answer may hold a new token's secret: no cache may keep it.
    let no_store = [(header::CACHE_CONTROL, "no-store")];
    Ok((status, no_store, layout("Your account", Some(user), body)).into_response())
}

async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let created = async {
        check_origin_and_token(&headers, &fields)?;
        // A lifetime that is not a number is refused as out of range, not replaced.
        let days = fields
            .given("expires_in_days")
            .map(|raw| raw.trim().parse::<i64>().unwrap_or(0));
        let request = TokenRequest::parse(&fields.get("label"), days).map_err(ApiError::invalid)?;
        Ok::<_, ApiError>(create_token(state.store.as_ref(), &user, request).await?)
    }
    .await;
    let outcome = match created {
        Ok((record, secret)) => Outcome::Created(record, secret),
        Err(error) => Outcome::Refused(error),
    };
    render(&state, &user, &headers, Some(outcome)).await
}

async fn revoke(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let revoked = async {
        check_origin_and_token(&headers, &fields)?;
        Ok::<_, ApiError>(revoke_token(state.store.as_ref(), &user, id).await?)
    }
    .await;
    match revoked {
        Ok(_) => Ok(Redirect::to("/account").into_response()),
        Err(error) => render(&state, &user, &headers, Some(Outcome::Refused(error))).await,
    }
}
