//! Who is asking: API requests carry `Authorization: Bearer TOKEN`, browsers a session
//! cookie set by the sign-in form. Extractors turn either into the signed-in [`User`].

use crate::pages::forms::{Fields, check_origin_and_token, check_same_origin, cross_site};
use crate::pages::layout;
use crate::throttle;
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::{HeaderMap, StatusCode, header, request::Parts};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Router};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::html;
use postmortem_app::accounts::{secret_hash, verify_password};
use postmortem_core::{Handle, User};
use postmortem_store::NewSession;
use serde::Deserialize;
use std::net::SocketAddr;

pub(crate) const SESSION_COOKIE: &str = "pm_session";

/// The person behind an API request. Without valid credentials the request is answered 401.
#[derive(Debug, Clone)]
pub struct ApiUser(pub User);

/// The person behind a page request. Without a session the browser goes to `/login`.
#[derive(Debug, Clone)]
pub struct PageUser(pub User);

async fn user_from_parts(parts: &Parts, state: &AppState) -> Result<Option<User>, ApiError> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthenticated)?;
        let hash = secret_hash(token);
        if let Some(user) = state.store.user_by_token_hash(&hash).await? {
            return Ok(Some(user));
        }
        // Say why a known token is refused, so its holder knows to make a new one.
        return match state.store.api_token_by_hash(&hash).await? {
            Some(known) => Err(ApiError::token_refused(known.state(state.store.now()))),
            None => Ok(None),
        };
    }
    let jar = CookieJar::from_headers(&parts.headers);
    match jar.get(SESSION_COOKIE) {
        Some(cookie) => Ok(state
            .store
            .user_by_session_hash(&secret_hash(cookie.value()))
            .await?),
        None => Ok(None),
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        user_from_parts(parts, state)
            .await?
            .map(ApiUser)
            .ok_or_else(ApiError::unauthenticated)
    }
}

impl FromRequestParts<AppState> for PageUser {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match user_from_parts(parts, state).await {
            Ok(Some(user)) => Ok(PageUser(user)),
            Ok(None) => {
                let next = parts
                    .uri
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                let target = format!("/login?next={}", form_urlencode(next));
                Err(Redirect::to(&target).into_response())
            }
            Err(error) => Err(error.into_response()),
        }
    }
}

pub(crate) fn form_urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Only same-site paths are followed after sign-in, so `next` cannot send people elsewhere.
pub(crate) fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
) -> Result<Response, ApiError> {
    let first_run = state.store.count_users().await? == 0;
    Ok(login_form(&state, query.next.as_deref(), None, first_run, "").into_response())
}

fn login_form(
    state: &AppState,
    next: Option<&str>,
    error: Option<&str>,
    first_run: bool,
    handle: &str,
) -> maud::Markup {
    let single_sign_on = state
        .oidc
        .as_deref()
        .map(|provider| provider.settings().button_label.as_str());
    layout(
        "Sign in",
        None,
        html! {
            h1 { "Sign in" }
            @if first_run {
                div.notice role="status" {
                    p { "There are no accounts yet. Create the first admin on the server's command line:" }
                    pre { code { "postmortem user create admin --name \"Your Name\" --role admin --password-stdin" } }
                }
            }
            @if let Some(error) = error {
                p.error role="alert" { (error) }
            }
            form method="post" action="/login" {
                input type="hidden" name="next" value=(safe_next(next));
                p {
                    label for="handle" { "Handle" }
                    input #handle name="handle" type="text" autocomplete="username" required autofocus[handle.is_empty()] value=(handle);
                }
                p {
                    label for="password" { "Password" }
                    input #password name="password" type="password" autocomplete="current-password" required autofocus[!handle.is_empty()];
                }
                button type="submit" { "Sign in" }
            }
            @if let Some(label) = single_sign_on {
                form.single-sign-on method="post" action="/login/oidc" {
                    input type="hidden" name="next" value=(safe_next(next));
                    button.secondary type="submit" { (label) }
                }
            }
        },
    )
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    handle: String,
    password: String,
    next: Option<String>,
}

/// A hash to verify against when the handle is unknown, so that a wrong handle takes as long
/// as a wrong password and does not reveal which handles exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$5sFsa8FE6nKzbb9k8CJMgTkhxcK8f4Jbi3ZltCO/S1Q";

async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let refused = || {
        let message = "That handle and password do not match an account.";
        (
            StatusCode::UNAUTHORIZED,
            login_form(
                &state,
                form.next.as_deref(),
                Some(message),
                false,
                &form.handle,
            ),
        )
            .into_response()
    };
    let locked_out = |until: time::OffsetDateTime| {
        let seconds = throttle::retry_after_seconds(until, state.store.now());
        let message = format!(
            "Too many failed sign-ins for this handle or from this address. Try again in {}.",
            throttle::wait_in_words(seconds)
        );
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, seconds.to_string())],
            login_form(
                &state,
                form.next.as_deref(),
                Some(&message),
                false,
                &form.handle,
            ),
        )
            .into_response()
    };
    // Before a session there is no CSRF token: the browser's word about where the form was
    // sent from decides, so another site cannot sign a person into its own account.
    if let Err(why) = check_same_origin(&headers, true) {
        let message = format!("Not signed in: {why}. Sign in with the form on this page.");
        let page = login_form(
            &state,
            form.next.as_deref(),
            Some(&message),
            false,
            &form.handle,
        );
        return Ok((StatusCode::FORBIDDEN, page).into_response());
    }
    let handle = Handle::parse(&form.handle).ok();
    let address = throttle::client_address(
        &headers,
        peer.map(|Extension(ConnectInfo(peer))| peer),
        state.settings.client_address_header.as_ref(),
    );
    let subjects = throttle::Subjects::new(handle.as_ref(), address);
    if let Some(until) = subjects.locked_until(&state).await? {
        return Ok(locked_out(until));
    }
    let credentials = match &handle {
        Some(handle) => state.store.credentials(handle).await?,
        None => None,
    };
    let user = match credentials {
        Some((user, Some(hash))) if verify_password(&form.password, &hash) => user,
        _ => {
            verify_password(&form.password, DUMMY_HASH);
            return Ok(match subjects.record_failure(&state).await? {
                Some(until) => locked_out(until),
                None => refused(),
            });
        }
    };
    subjects.record_success(&state).await?;
    start_session(&state, jar, &user, safe_next(form.next.as_deref())).await
}

/// Signs `user` in on this browser: a new session, its cookie, and a redirect to `next` (a
/// same-site path). The password form and the identity provider's callback both end here.
pub(crate) async fn start_session(
    state: &AppState,
    jar: CookieJar,
    user: &User,
    next: &str,
) -> Result<Response, ApiError> {
    let secret = postmortem_app::accounts::new_secret();
    let expires_at =
        time::OffsetDateTime::now_utc() + time::Duration::hours(state.settings.session_hours);
    state
        .store
        .create_session(NewSession {
            user_id: user.id,
            session_hash: secret_hash(&secret),
            expires_at,
        })
        .await?;
    let cookie = Cookie::build((SESSION_COOKIE, secret))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.cookie_secure)
        .max_age(time::Duration::hours(state.settings.session_hours))
        .build();
    Ok((jar.add(cookie), Redirect::to(safe_next(Some(next)))).into_response())
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    check_same_origin(&headers, true).map_err(cross_site)?;
    check_origin_and_token(&headers, &Fields(fields))?;
    if let Some(cookie) = jar.get(SESSION_COOKIE) {
        state
            .store
            .delete_session(&secret_hash(cookie.value()))
            .await?;
    }
    let jar = jar.remove(Cookie::build(SESSION_COOKIE).path("/"));
    Ok((jar, Redirect::to("/login")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/incidents/4")), "/incidents/4");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn the_dummy_hash_is_a_valid_argon2_hash() {
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
