//! Sign-in through an organisation's identity provider with OpenID Connect, beside local
//! accounts: the authorization-code flow with PKCE, `state` and `nonce`.
//!
//! `POST /login/oidc` (from this site only: `Sec-Fetch-Site`/`Origin`) keeps the flow's secrets in the store under the hash of its `state` (so
//! the callback may land on any server node), puts the `state` itself in a short-lived
//! HttpOnly cookie (so the callback must come back to the browser that started it), and sends
//! the browser to the provider. `GET /login/oidc/callback` takes those secrets once, exchanges
//! the code, verifies the ID token (issuer, audience, expiry, nonce and signature against the
//! provider's published keys, all done by the `openidconnect` crate), finds or creates the
//! person linked to the provider's (issuer, subject), and starts the same session as the
//! password form. Anything that goes wrong is a page saying what happened and what to do.

mod config;

pub use config::{CALLBACK_PATH, OidcConfig, OidcSettings};

use crate::auth::{form_urlencode, safe_next, start_session};
use crate::pages::forms::check_same_origin;
use crate::pages::layout;
use crate::{ApiError, AppState};
use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use maud::html;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreIdTokenClaims, CoreProviderMetadata,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, CsrfToken, DiscoveryError, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RequestTokenError, Scope, TokenResponse,
};
use postmortem_app::accounts::secret_hash;
use postmortem_core::{DisplayName, Handle, User};
use postmortem_store::{Actor, ExternalIdentity, NewUser, PendingSignIn, StoreError};
use serde::Deserialize;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The cookie holding the `state` of a sign-in in progress, only sent back to the callback.
const STATE_COOKIE: &str = "pm_oidc_state";
/// How long a person has at the provider before the sign-in must start again.
const SIGN_IN_MINUTES: i64 = 10;
/// How long discovered metadata (endpoints and signing keys) is trusted before it is fetched
/// again, so that a provider's key rotation is picked up without a restart.
const METADATA_MAX_AGE: Duration = Duration::from_secs(10 * 60);
/// How many numbered handles (`ada-2`, `ada-3`, ...) are tried for a new person.
const HANDLE_CANDIDATES: u32 = 1000;

/// A client created from discovered metadata: it has an authorization endpoint and may have
/// token and userinfo endpoints.
type DiscoveredClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The identity provider this server signs people in with, and what it has learnt about it.
#[derive(Debug)]
pub struct IdentityProvider {
    settings: OidcSettings,
    http: openidconnect::reqwest::Client,
    discovered: Mutex<Option<(CoreProviderMetadata, Instant)>>,
}

/// Why a sign-in through the provider did not go through; each becomes a page.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("sign-in through an identity provider is not configured on this server")]
    NotConfigured,
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider's metadata is not usable: {0}")]
    Misconfigured(String),
    #[error("the sign-in was not started in this browser, was already used, or has expired")]
    UnknownState,
    #[error("the identity provider did not sign you in: {0}")]
    Declined(String),
    #[error("the identity provider's answer was refused: {0}")]
    Refused(String),
    #[error("the email domain of `{0}` may not sign in here")]
    EmailNotAllowed(String),
    #[error("the sign-in was not started from this site: {0}")]
    CrossSite(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SignInError {
    /// A failed request, with its causes: the HTTP client's own message ("client error")
    /// says less than the connection error beneath it.
    fn unreachable(error: &dyn std::error::Error) -> Self {
        let mut message = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            message = format!("{message}: {cause}");
            source = cause.source();
        }
        SignInError::Unreachable(message)
    }
}

impl IdentityProvider {
    pub fn new(settings: OidcSettings) -> Result<Self, openidconnect::reqwest::Error> {
        // Following redirects would let a provider's answer send this server's requests
        // anywhere; the `openidconnect` documentation asks clients to refuse them.
        let http = openidconnect::reqwest::ClientBuilder::new()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            settings,
            http,
            discovered: Mutex::new(None),
        })
    }

    pub fn settings(&self) -> &OidcSettings {
        &self.settings
    }

    /// Fetches the provider's metadata and keys now. At start this shows a wrong issuer or an
    /// unreachable provider at once; later sign-ins fetch again when the copy is old.
    pub async fn discover(&self) -> Result<(), SignInError> {
        self.fetch_metadata().await.map(|_| ())
    }

    async fn fetch_metadata(&self) -> Result<CoreProviderMetadata, SignInError> {
        let metadata =
            CoreProviderMetadata::discover_async(self.settings.issuer.clone(), &self.http)
                .await
                .map_err(|error| match error {
                    DiscoveryError::Request(e) => SignInError::unreachable(&e),
                    DiscoveryError::Response(status, _, detail) => {
                        SignInError::Unreachable(format!("it answered {status}: {detail}"))
                    }
                    other => SignInError::Misconfigured(other.to_string()),
                })?;
        *self.discovered.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((metadata.clone(), Instant::now()));
        Ok(metadata)
    }

    async fn client(&self) -> Result<DiscoveredClient, SignInError> {
        let cached = self
            .discovered
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(_, at)| at.elapsed() < METADATA_MAX_AGE)
            .map(|(metadata, _)| metadata.clone());
        let metadata = match cached {
            Some(metadata) => metadata,
            None => self.fetch_metadata().await?,
        };
        Ok(CoreClient::from_provider_metadata(
            metadata,
            self.settings.client_id.clone(),
            Some(self.settings.client_secret.clone()),
        )
        .set_redirect_uri(self.settings.redirect_url.clone()))
    }
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/oidc", get(to_sign_in_page).post(start))
        // The literal path, so the authorisation matrix test finds the route; a unit test
        // holds it equal to `CALLBACK_PATH`.
        .route("/login/oidc/callback", get(callback))
}

#[derive(Debug, Deserialize)]
struct StartQuery {
    next: Option<String>,
}

/// A link or a bookmark to the start of the flow leads to the sign-in page, whose button
/// starts it: only a POST from this site may, so another site cannot start a sign-in (and
/// with it sign a person in) behind their back.
async fn to_sign_in_page(
    State(state): State<AppState>,
    Query(query): Query<StartQuery>,
) -> Result<Response, SignInError> {
    state.oidc.as_deref().ok_or(SignInError::NotConfigured)?;
    let next = form_urlencode(safe_next(query.next.as_deref()));
    Ok(Redirect::to(&format!("/login?next={next}")).into_response())
}

async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    jar: CookieJar,
    Form(query): Form<StartQuery>,
) -> Result<Response, SignInError> {
    let provider = state.oidc.as_deref().ok_or(SignInError::NotConfigured)?;
    check_same_origin(&headers, true).map_err(SignInError::CrossSite)?;
    let client = provider.client().await?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let lifetime = time::Duration::minutes(SIGN_IN_MINUTES);
    state
        .store
        .save_pending_sign_in(PendingSignIn {
            state_hash: secret_hash(csrf.secret()),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            next_path: safe_next(query.next.as_deref()).to_owned(),
            expires_at: time::OffsetDateTime::now_utc() + lifetime,
        })
        .await?;
    let cookie = Cookie::build((STATE_COOKIE, csrf.secret().clone()))
        .path(CALLBACK_PATH)
        .http_only(true)
        // Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
        .same_site(SameSite::Lax)
        .secure(state.settings.cookie_secure)
        .max_age(lifetime)
        .build();
    Ok((jar.add(cookie), Redirect::to(url.as_str())).into_response())
}

/// What the provider sends the browser back with: a code, or an error (RFC 6749 §4.1.2).
#[derive(Debug, Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    jar: CookieJar,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let browser_state = jar.get(STATE_COOKIE).map(|c| c.value().to_owned());
    // The callback of this browser's sign-in spends the state cookie whatever the outcome; a
    // stray one (another state, or none) leaves it, so it cannot cut a sign-in short.
    let jar = if browser_state.is_some() && browser_state == query.state {
        jar.remove(Cookie::build(STATE_COOKIE).path(CALLBACK_PATH))
    } else {
        jar
    };
    match finish(&state, browser_state, query).await {
        Ok((user, next)) => match start_session(&state, jar, &user, &next).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        },
        Err(error) => {
            tracing::warn!(%error, "sign-in through the identity provider failed");
            (jar, error).into_response()
        }
    }
}

/// Checks the callback against the sign-in this browser started, and returns the person and
/// where they were going.
async fn finish(
    state: &AppState,
    browser_state: Option<String>,
    query: CallbackQuery,
) -> Result<(User, String), SignInError> {
    let provider = state.oidc.as_deref().ok_or(SignInError::NotConfigured)?;
    let returned_state = query.state.ok_or(SignInError::UnknownState)?;
    if browser_state.as_deref() != Some(returned_state.as_str()) {
        return Err(SignInError::UnknownState);
    }
    let pending = state
        .store
        .take_pending_sign_in(&secret_hash(&returned_state))
        .await?
        .ok_or(SignInError::UnknownState)?;
    if let Some(error) = query.error {
        return Err(SignInError::Declined(match query.error_description {
            Some(description) => format!("{description} ({error})"),
            None => error,
        }));
    }
    let code = query
        .code
        .ok_or_else(|| SignInError::Refused("the answer carries no authorization code".into()))?;
    let client = provider.client().await?;
    let token = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| SignInError::Misconfigured(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier))
        .request_async(&provider.http)
        .await
        .map_err(|error| match error {
            RequestTokenError::Request(e) => SignInError::unreachable(&e),
            RequestTokenError::ServerResponse(answer) => SignInError::Refused(format!(
                "the code was not accepted: {}",
                answer
                    .error_description()
                    .cloned()
                    .unwrap_or_else(|| answer.error().to_string())
            )),
            other => SignInError::Refused(other.to_string()),
        })?;
    let id_token = token
        .id_token()
        .ok_or_else(|| SignInError::Refused("the provider sent no ID token".into()))?;
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &Nonce::new(pending.nonce))
        .map_err(|e| SignInError::Refused(format!("the ID token is not valid: {e}")))?;
    if let Some(expected) = claims.access_token_hash() {
        let refused = |e: &dyn std::fmt::Display| SignInError::Refused(e.to_string());
        let actual = AccessTokenHash::from_token(
            token.access_token(),
            id_token.signing_alg().map_err(|e| refused(&e))?,
            id_token.signing_key(&verifier).map_err(|e| refused(&e))?,
        )
        .map_err(|e| refused(&e))?;
        if actual != *expected {
            return Err(SignInError::Refused(
                "the ID token was issued with another access token".into(),
            ));
        }
    }
    let profile = Profile::of(provider, &client, &token, claims).await?;
    check_email(provider.settings(), &profile)?;
    let user = person_for(state, provider.settings(), &profile).await?;
    Ok((user, pending.next_path))
}

/// Who the provider says the person is. The ID token always names the subject; many
/// providers leave email, name and username to the UserInfo endpoint, which is asked only
/// for what the ID token leaves out.
#[derive(Debug)]
struct Profile {
    issuer: String,
    subject: String,
    /// The email with whether the provider verified it, always from the same source.
    email: Option<(String, Option<bool>)>,
    username: Option<String>,
    name: Option<String>,
}

impl Profile {
    async fn of(
        provider: &IdentityProvider,
        client: &DiscoveredClient,
        token: &openidconnect::core::CoreTokenResponse,
        claims: &CoreIdTokenClaims,
    ) -> Result<Profile, SignInError> {
        let mut profile = Profile {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims
                .email()
                .map(|e| (e.as_str().to_owned(), claims.email_verified())),
            username: claims.preferred_username().map(|u| u.as_str().to_owned()),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        };
        let complete =
            profile.email.is_some() && profile.username.is_some() && profile.name.is_some();
        let Ok(request) =
            client.user_info(token.access_token().clone(), Some(claims.subject().clone()))
        else {
            // No UserInfo endpoint: the ID token is all there is.
            return Ok(profile);
        };
        if complete {
            return Ok(profile);
        }
        // The request checks that UserInfo speaks of the ID token's subject.
        let info: openidconnect::core::CoreUserInfoClaims = request
            .request_async(&provider.http)
            .await
            .map_err(|error| match error {
                openidconnect::UserInfoError::Request(e) => SignInError::unreachable(&e),
                other => SignInError::Refused(format!("its UserInfo answer was refused: {other}")),
            })?;
        profile.email = profile.email.or_else(|| {
            info.email()
                .map(|e| (e.as_str().to_owned(), info.email_verified()))
        });
        profile.username = profile
            .username
            .or_else(|| info.preferred_username().map(|u| u.as_str().to_owned()));
        profile.name = profile.name.or_else(|| {
            info.name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned())
        });
        Ok(profile)
    }
}

/// With `allowed_email_domains`, only a verified email in one of them may sign in; the
/// check runs at every sign-in, so a person who moved out of the domain is refused.
fn check_email(settings: &OidcSettings, profile: &Profile) -> Result<(), SignInError> {
    if settings.allowed_email_domains.is_empty() {
        return Ok(());
    }
    match &profile.email {
        Some((email, Some(true))) if settings.allows_email(email) => Ok(()),
        Some((email, _)) => Err(SignInError::EmailNotAllowed(email.clone())),
        None => Err(SignInError::EmailNotAllowed("(no email given)".into())),
    }
}

/// The person linked to the provider's account, created at their first sign-in.
async fn person_for(
    state: &AppState,
    settings: &OidcSettings,
    profile: &Profile,
) -> Result<User, SignInError> {
    let (issuer, subject) = (profile.issuer.as_str(), profile.subject.as_str());
    let email = profile.email.as_ref().map(|(email, _)| email.clone());
    let base = profile
        .username
        .as_deref()
        .and_then(Handle::derive)
        .or_else(|| Handle::derive(email.as_deref()?.split('@').next()?))
        .or_else(|| Handle::derive("user"))
        .ok_or_else(|| SignInError::Refused("no handle can be made".into()))?;
    let display_name = [&profile.name, &profile.username, &email]
        .into_iter()
        .flatten()
        .find_map(|candidate| DisplayName::parse(candidate).ok());
    // Two first sign-ins of the same person, or of two people wanting the same handle, may
    // race; the loser of either race looks again.
    for _ in 0..3 {
        if let Some(user) = state.store.user_by_identity(issuer, subject).await? {
            return Ok(user);
        }
        let handle = free_handle(state, &base).await?;
        let display_name = match &display_name {
            Some(name) => name.clone(),
            None => DisplayName::parse(handle.as_str()).map_err(StoreError::Invalid)?,
        };
        let created = state
            .store
            .create_user_with_identity(
                Actor::SIGN_IN,
                NewUser {
                    handle,
                    display_name,
                    role: settings.default_role,
                    password_hash: None,
                },
                ExternalIdentity {
                    issuer: issuer.to_owned(),
                    subject: subject.to_owned(),
                    email: email.clone(),
                },
            )
            .await;
        match created {
            Ok(user) => {
                tracing::info!(handle = %user.handle, issuer, "created a person at their first sign-in");
                return Ok(user);
            }
            Err(StoreError::Duplicate(_)) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(SignInError::Refused(
        "the account could not be created; try again".into(),
    ))
}

/// `base`, or the first of `base-2`, `base-3`, ... that nobody has.
async fn free_handle(state: &AppState, base: &Handle) -> Result<Handle, SignInError> {
    let candidates =
        std::iter::once(base.clone()).chain((2..=HANDLE_CANDIDATES).map(|n| base.numbered(n)));
    for candidate in candidates {
        if state.store.user_by_handle(&candidate).await?.is_none() {
            return Ok(candidate);
        }
    }
    Err(SignInError::Refused(format!(
        "every handle from `{base}` to `{}` is taken",
        base.numbered(HANDLE_CANDIDATES)
    )))
}

impl IntoResponse for SignInError {
    fn into_response(self) -> Response {
        let message = self.to_string();
        let (status, title, explanation) = match self {
            SignInError::Store(error) => return ApiError::from(error).into_response(),
            SignInError::NotConfigured => (
                StatusCode::NOT_FOUND,
                "Single sign-on is not set up",
                "This server signs people in with a handle and password only.".to_owned(),
            ),
            SignInError::Unreachable(_) => (
                StatusCode::BAD_GATEWAY,
                "The identity provider cannot be reached",
                "Try again in a few minutes. If it keeps happening, tell whoever runs this server.".to_owned(),
            ),
            SignInError::Misconfigured(_) => (
                StatusCode::BAD_GATEWAY,
                "The identity provider is not set up correctly",
                "Tell whoever runs this server; the detail below will help them.".to_owned(),
            ),
            SignInError::UnknownState => (
                StatusCode::BAD_REQUEST,
                "This sign-in cannot be completed",
                format!("It was started in another browser, was already completed, or took longer than {SIGN_IN_MINUTES} minutes. Start again."),
            ),
            SignInError::Declined(_) => (
                StatusCode::FORBIDDEN,
                "You were not signed in",
                "The identity provider did not sign you in, perhaps because permission was not given. You can start again.".to_owned(),
            ),
            SignInError::Refused(_) => (
                StatusCode::BAD_REQUEST,
                "The identity provider's answer was refused",
                "Nothing was signed in. Start again; if it keeps happening, tell whoever runs this server.".to_owned(),
            ),
            SignInError::EmailNotAllowed(_) => (
                StatusCode::FORBIDDEN,
                "This account may not sign in here",
                "Only accounts with a verified email in the organisation's domains may sign in. Ask an administrator if you need access.".to_owned(),
            ),
            SignInError::CrossSite(_) => (
                StatusCode::FORBIDDEN,
                "This sign-in was not started here",
                "Another site cannot start a sign-in on this one. Use the button on the sign-in page.".to_owned(),
            ),
        };
        let body = html! {
            h1 { (title) }
            p.error role="alert" { (message) "." }
            p { (explanation) }
            p { a.button href="/login" { "Back to sign in" } }
        };
        (status, layout(title, None, body)).into_response()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_callback_route_is_the_path_the_provider_is_told() {
        let source = include_str!("oidc.rs");
        let literal = format!("\"{}\", get(callback))", super::CALLBACK_PATH);
        assert!(source.contains(&literal), "routes() must serve {literal}");
    }
}
