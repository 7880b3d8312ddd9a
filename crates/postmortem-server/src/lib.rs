//! The HTTP face of the post-mortem system: the JSON API under `/api/v1`, the server-rendered
//! pages, sign-in with passwords or an identity provider (OpenID Connect), sessions and API
//! tokens, and health checks.
//!
//! [`app`] builds the whole router from an [`AppState`] without binding a socket, so tests
//! drive it directly; [`serve`] binds it to a listener and shuts down on a signal.

mod api;
mod auth;
mod error;
mod health;
mod hooks;
mod limits;
mod live;
pub mod oidc;
mod pages;
mod security;
mod similar;
mod state;
mod throttle;
mod uploads;

/// For [`Settings::client_address_header`].
pub use axum::http::HeaderName;
pub use error::ApiError;
/// Accounts and tokens live in the application layer; re-exported for the binary and tests.
pub use postmortem_app::accounts;
pub use state::{AppState, Settings};

use axum::Router;
use std::future::Future;
use tower_http::trace::TraceLayer;

/// The whole application: API, pages and health checks.
pub fn app(state: AppState) -> Router {
    let router = Router::new()
        .merge(health::routes())
        .merge(auth::routes())
        .merge(oidc::routes())
        .merge(pages::routes())
        .nest("/api/v1", api::routes())
        .merge(hooks::routes())
        .fallback(pages::no_such_page)
        .layer(axum::middleware::from_fn(pages::forms::with_request_csrf))
        // Each route's own limit (`limits.rs`) is checked before any extractor reads a body;
        // the extractors' default of 2 MB would refuse a whole post-mortem's sections.
        .layer(axum::middleware::from_fn(limits::enforce))
        .layer(axum::extract::DefaultBodyLimit::max(limits::LARGEST));
    security::with_headers(router)
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves the application on `listener` until `shutdown` completes, then lets requests in
/// flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer's address is kept for sign-in throttling.
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
