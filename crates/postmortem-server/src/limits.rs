//! How large a request body each route takes, and the `413` answer to a larger one: the
//! API's error shape under `/api/`, a page elsewhere, each saying the size and the limit in
//! words ("the timeline entry is 5.2 MB; the limit is 1 MB").
//!
//! The client must get to read that answer. A server that answers before reading a body and
//! closes the connection makes the client's kernel see a reset while it is still sending, and
//! the client reports a broken pipe instead of the answer. So an oversized body is read to its
//! end and thrown away (up to [`DRAIN_BYTES`] and [`DRAIN_TIME`]) before the answer, except
//! when the client sent `Expect: 100-continue`: then it waits for the answer and never sends
//! the body.

use crate::ApiError;
use crate::pages::layout;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use maud::html;
use serde_json::json;
use std::time::Duration;

const KB: usize = 1_000;
const MB: usize = 1_000_000;

/// The limit of the routes that take no long text.
const SMALL: usize = 64 * KB;

/// The largest limit of any route but the chat exports'.
pub(crate) const LARGEST: usize = 8 * MB;

/// A chat export (a Slack workspace zip, or a CSV/JSON list of messages): the API's chat
/// routes and the chat selection page's upload, and only those. A workspace export of a busy
/// month is tens of megabytes deflated; it is read in memory for one request at a time and
/// bounded again by `ChatLimits` inside. These routes raise the extractors' limit to it too
/// (`DefaultBodyLimit`), which is otherwise [`LARGEST`].
pub(crate) const CHAT_EXPORT: usize = 64 * MB;

/// The most of an oversized body read and thrown away so the client can read the answer;
/// past it the connection is closed.
pub(crate) const DRAIN_BYTES: usize = 64 * MB;
/// The longest an oversized body is read for.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(10);

/// A route's limit and what its body is, in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limit {
    /// What the body holds, e.g. "the timeline entry".
    pub what: &'static str,
    /// Whether `what` takes "are" rather than "is".
    pub plural: bool,
    pub bytes: usize,
}

impl Limit {
    const fn new(what: &'static str, plural: bool, bytes: usize) -> Self {
        Self {
            what,
            plural,
            bytes,
        }
    }

    /// "the timeline entry is 5.2 MB; the limit is 1 MB". `size` is `None` when the body was
    /// too large to read to its end.
    pub(crate) fn refusal(&self, size: Option<usize>) -> String {
        let verb = if self.plural { "are" } else { "is" };
        let limit = in_words(self.bytes);
        let size = match size {
            Some(size) if in_words(size) == limit => format!("{size} bytes"),
            Some(size) => in_words(size),
            None => format!("more than {}", in_words(DRAIN_BYTES)),
        };
        format!(
            "{} {verb} {size}; the limit is {limit}: send less at a time",
            self.what
        )
    }
}

/// The limit of the route `route` (as written in the router, e.g.
/// `/api/v1/incidents/{id}/timeline`), for the API and the pages alike. A Markdown text is at
/// most 200,000 bytes; JSON escaping and form encoding can make that up to three times as
/// many on the wire, so routes that take one text allow 1 MB, and the sections of a whole
/// post-mortem 8 MB. Everything else is small.
pub(crate) fn limit_for(route: &str) -> Limit {
    match route {
        "/api/v1/incidents/{id}/postmortem" | "/incidents/{id}/edit" => {
            Limit::new("the sections", true, LARGEST)
        }
        "/api/v1/incidents/{id}/timeline"
        | "/api/v1/incidents/{id}/timeline/{entry_id}"
        | "/incidents/{id}/timeline"
        | "/incidents/{id}/timeline/{entry_id}" => Limit::new("the timeline entry", false, MB),
        "/api/v1/incidents/{id}/factors"
        | "/api/v1/incidents/{id}/factors/{factor_id}"
        | "/incidents/{id}/factors"
        | "/incidents/{id}/factors/{factor_id}" => Limit::new("the contributing factor", false, MB),
        "/api/v1/incidents/{id}/actions"
        | "/api/v1/actions/{id}"
        | "/incidents/{id}/actions"
        | "/incidents/{id}/actions/{action_id}" => Limit::new("the action item", false, MB),
        "/api/v1/incidents/{id}/comments" | "/incidents/{id}/comments" => {
            Limit::new("the comment", false, MB)
        }
        "/api/v1/incidents/{id}/postmortem/transitions" | "/incidents/{id}/transitions" => {
            Limit::new("the status change", false, MB)
        }
        "/api/v1/lint" => Limit::new("the text to check", false, MB),
        "/api/v1/import" => Limit::new(
            "the Markdown file",
            false,
            postmortem_markdown::MAX_FILE_BYTES,
        ),
        // A little over what the payload parsers read, so that a payload just too large is
        // refused by its parser with the reason, and kept for admins (`hooks.rs`).
        "/hooks/{kind}/{id}" => Limit::new(
            "the webhook payload",
            false,
            postmortem_app::integrations::MAX_PAYLOAD_BYTES + 1024,
        ),
        "/api/v1/incidents/{id}/chat/preview"
        | "/api/v1/incidents/{id}/chat/import"
        | "/incidents/{id}/chat" => Limit::new("the chat export", false, CHAT_EXPORT),
        // The chat selection's import form: a message id, a perspective and a marker for each
        // of up to 2,000 messages shown.
        "/incidents/{id}/chat/{upload}" => Limit::new("the chosen messages", true, 2 * MB),
        "/api/v1/incidents"
        | "/api/v1/incidents/{id}"
        | "/incidents/new"
        | "/incidents/{id}/facts" => Limit::new("the incident", false, SMALL),
        _ => Limit::new("the request", false, SMALL),
    }
}

/// A size the way people say it: "812 bytes", "64 KB", "5.2 MB" (powers of 1,000).
pub(crate) fn in_words(bytes: usize) -> String {
    let (value, unit) = match bytes {
        b if b >= MB => (b as f64 / MB as f64, "MB"),
        b if b >= KB => (b as f64 / KB as f64, "KB"),
        b => return format!("{b} bytes"),
    };
    let rounded = format!("{value:.1}");
    format!("{} {unit}", rounded.trim_end_matches(".0"))
}

/// Answers a body larger than its route's limit with `413`, and passes the others on. Runs
/// inside the router (so the route is known) and before any extractor reads the body.
pub(crate) async fn enforce(request: Request, next: Next) -> Response {
    let limit = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| limit_for(""), |route| limit_for(route.as_str()));
    // Tools (the API, webhook senders) get the error shape; people get a page.
    let path = request.uri().path();
    let api = path.starts_with("/api/") || path.starts_with("/hooks/");
    // Most requests (every GET) have no body: nothing to count.
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let declared = declared_length(request.headers());
    match declared {
        Some(length) if length <= limit.bytes => return next.run(request).await,
        Some(length) => {
            let waits = request
                .headers()
                .get(header::EXPECT)
                .is_some_and(|e| e.as_bytes().eq_ignore_ascii_case(b"100-continue"));
            // A client waiting to be told to go on never sends the body: answer at once.
            let finished = waits || drain(request.into_body(), 0).await.is_some();
            return too_large(api, limit, Some(length), finished);
        }
        None => {}
    }
    // Without a declared length (chunked), read up to the limit, then decide.
    let (parts, mut body) = request.into_parts();
    let mut kept = Vec::new();
    loop {
        match body.frame().await {
            None => break,
            Some(Err(_)) => {
                return ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "incomplete_body",
                    "the request body ended before it was complete",
                )
                .into_response();
            }
            Some(Ok(frame)) => {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                if kept.len() + data.len() > limit.bytes {
                    let read = kept.len() + data.len();
                    let size = drain(body, read).await;
                    return too_large(api, limit, size, size.is_some());
                }
                kept.extend_from_slice(&data);
            }
        }
    }
    let request = Request::from_parts(parts, Body::from(Bytes::from(kept)));
    next.run(request).await
}

fn declared_length(headers: &HeaderMap) -> Option<usize> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// Reads the rest of a body and throws it away, within [`DRAIN_BYTES`] and [`DRAIN_TIME`];
/// the whole body's size when it ended, `None` when it was cut off.
async fn drain(mut body: Body, already: usize) -> Option<usize> {
    let read = async {
        let mut total = already;
        while let Some(frame) = body.frame().await {
            total += frame.ok()?.data_ref().map_or(0, Bytes::len);
            if total > DRAIN_BYTES {
                return None;
            }
        }
        Some(total)
    };
    tokio::time::timeout(DRAIN_TIME, read).await.ok().flatten()
}

/// The `413` answer. When the body was not read to its end the connection is closed after it.
fn too_large(api: bool, limit: Limit, size: Option<usize>, finished: bool) -> Response {
    let message = limit.refusal(size);
    let mut response = if api {
        ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", message)
            .with_details(json!({"limit_bytes": limit.bytes, "size_bytes": size}))
            .into_response()
    } else {
        let body = html! {
            h1 { "What you sent is too large" }
            p.error role="alert" { "Nothing was saved: " (message) "." }
            p { "Go back to the form (your browser's Back button keeps what you typed), shorten the text or split it into several parts, and send it again." }
            p { a.button href="/" { "Your home page" } }
        };
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            layout("Too large", None, body),
        )
            .into_response()
    };
    if !finished {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_said_in_words() {
        assert_eq!(in_words(812), "812 bytes");
        assert_eq!(in_words(64_000), "64 KB");
        assert_eq!(in_words(5_242_880), "5.2 MB");
        assert_eq!(in_words(1_000_000), "1 MB");
    }

    #[test]
    fn a_refusal_says_the_size_and_the_limit() {
        let entry = limit_for("/api/v1/incidents/{id}/timeline");
        assert_eq!(
            entry.refusal(Some(5_242_880)),
            "the timeline entry is 5.2 MB; the limit is 1 MB: send less at a time"
        );
        assert_eq!(
            entry.refusal(Some(1_000_001)),
            "the timeline entry is 1000001 bytes; the limit is 1 MB: send less at a time"
        );
        let sections = limit_for("/incidents/{id}/edit");
        assert!(
            sections
                .refusal(None)
                .starts_with("the sections are more than 64 MB")
        );
    }
}
