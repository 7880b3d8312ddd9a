//! Published external versions, for anyone, signed in or not: `/public/incidents/{slug}` as a
//! page, and as Markdown at `/public/incidents/{slug}.md` or when the request accepts
//! `text/markdown` before HTML. What is served is the text the publisher accepted, never the
//! internal record; a version taken down answers 404 at once (nothing is cached).

use super::{layout, markdown};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use postmortem_app::AppError;
use postmortem_core::format_date;

pub(crate) async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (slug, as_markdown) = match slug.strip_suffix(".md") {
        Some(slug) => (slug.to_owned(), true),
        None => (slug, wants_markdown(&headers)),
    };
    let published = match state.app.public_incident(&slug).await {
        Ok(published) => published,
        Err(AppError::NotFound(_)) => return not_published(),
        Err(other) => return crate::ApiError::from(other).into_response(),
    };
    let fresh = (header::CACHE_CONTROL, "no-cache");
    if as_markdown {
        return (
            [
                (header::CONTENT_TYPE, "text/markdown; charset=utf-8"),
                fresh,
                (header::VARY, "Accept"),
            ],
            published.markdown,
        )
            .into_response();
    }
    let body = html! {
        article.public {
            (markdown::render(&published.markdown))
        }
        p.muted {
            "Published " (format_date(published.published_at.date())) ". "
            a href={ "/public/incidents/" (slug) ".md" } { "Read it as Markdown" }
        }
    };
    (
        [fresh, (header::VARY, "Accept")],
        layout(&published.title, None, body),
    )
        .into_response()
}

/// Whether the request ranks `text/markdown` before `text/html` (a browser asks for HTML).
fn wants_markdown(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    match (accept.find("text/markdown"), accept.find("text/html")) {
        (Some(markdown), Some(html)) => markdown < html,
        (Some(_), None) => true,
        _ => false,
    }
}

fn not_published() -> Response {
    let body = html! {
        h1 { "Nothing is published here" }
        p { "This incident report was never published, or it was taken down." }
    };
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-cache")],
        layout("Not published", None, body),
    )
        .into_response()
}
