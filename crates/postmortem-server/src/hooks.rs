//! The webhook receivers, `POST /hooks/{kind}/{id}`, outside `/api/v1`: tools are not
//! people and carry no API token, but the secret (or, for PagerDuty, the signature) their
//! integration was registered with. The handler reads the credential and the body and hands
//! both to `postmortem-app`'s `receive_hook`.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::post;
use axum::{Json, Router};
use postmortem_app::HookCredential;
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/hooks/{kind}/{id}", post(receive))
        // A little over the largest body the parsers read, so that one just too large is
        // refused by the parser with its reason instead of by the framework.
        .layer(DefaultBodyLimit::max(
            postmortem_app::integrations::MAX_PAYLOAD_BYTES + 1024,
        ))
}

/// A receiver: 202 with what was done, 400 with the reason when the body does not parse
/// (kept for admins), 401 when the secret or signature is wrong (nothing kept).
pub(crate) async fn receive(
    State(state): State<AppState>,
    Path((kind, id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let credential = HookCredential {
        bearer: text(header::AUTHORIZATION.as_str())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|v| v.trim().to_owned()),
        signature: text("x-pagerduty-signature").map(str::to_owned),
        github_signature: text("x-hub-signature-256").map(str::to_owned),
    };
    // An id that is not a number names no integration: the same refusal as a wrong secret.
    let id = id.parse::<i64>().unwrap_or(0);
    let received = state
        .app
        .receive_hook(&kind, id, &credential, &body)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!(received))))
}
