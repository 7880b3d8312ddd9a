//! Liveness and readiness: `/healthz` answers while the process runs, `/readyz` only while
//! the database answers too, so a load balancer stops sending work to a node that lost it.

use crate::AppState;
use axum::{Router, extract::State, http::StatusCode, routing::get};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
}

async fn ready(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}
