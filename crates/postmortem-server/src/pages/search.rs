//! `/search`: results with highlighted snippets and facets beside them. Facets are links
//! that add a filter to the query, so every result page has a shareable URL.

use super::layout;
use crate::api::search::{SearchParams, run};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

/// Results per page.
const PAGE: usize = 20;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct PageParams {
    q: Option<String>,
    offset: Option<usize>,
}

fn encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn link(query: &str, offset: usize) -> String {
    if offset == 0 {
        format!("/search?q={}", encode(query))
    } else {
        format!("/search?q={}&offset={offset}", encode(query))
    }
}

/// The filter a facet value stands for: a year becomes a date range, other values a field
/// filter, quoted when they have spaces.
fn filter(field: &str, value: &str) -> String {
    match (field, value.parse::<i32>()) {
        ("year", Ok(year)) => format!("after:{year}-01-01 before:{}-01-01", year + 1),
        _ if value.contains(' ') => format!("{field}:\"{value}\""),
        _ => format!("{field}:{value}"),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(params): Query<PageParams>,
) -> Result<Response, ApiError> {
    let query = params.q.unwrap_or_default();
    let offset = params.offset.unwrap_or(0);
    let form = html! {
        form.filters method="get" action="/search" role="search" {
            p { label for="search-q" { "Search past incidents" }
                input #search-q name="q" type="search" size="50" value=(query) autofocus data-suggest; }
            p { button type="submit" { "Search" } }
        }
        p.muted { "Words, \"phrases\", prefix*, and filters: service:, team:, severity:, kind:, status:, factor:, owner:, after:2025-01-01, before:." }
    };
    if query.trim().is_empty() {
        return Ok(layout("Search", Some(&user), html! { h1 { "Search" } (form) }).into_response());
    }
    let results = match run(
        &state,
        &user,
        SearchParams {
            q: Some(query.clone()),
            limit: Some(PAGE),
            offset: Some(offset),
        },
    )
    .await
    {
        Ok(results) => results,
        Err(error) => {
            let body = html! { h1 { "Search" } (form) p.error role="alert" { (error.message) } };
            return Ok((error.status, layout("Search", Some(&user), body)).into_response());
        }
    };
    let facets: Markup = html! {
        aside.facets aria-label="Refine" {
            @for (name, counts) in results.facets.named() {
                @if !counts.is_empty() {
                    h2 { (name) }
                    ul { @for count in counts.iter().take(10) {
                        li { a href=(link(&format!("{query} {}", filter(name, &count.value)), 0)) { (super::words::facet_value(name, &count.value)) } " (" (count.count) ")" }
                    } }
                }
            }
        }
    };
    let body = html! {
        h1 { "Search" }
        (form)
        p aria-live="polite" { (results.total) @if results.total == 1 { " incident matches " } @else { " incidents match " } strong { (query) } "." }
        div.search-layout {
            ol.results {
                @for hit in &results.items {
                    li {
                        a href={ "/incidents/" (hit.incident_id) } { (hit.title) }
                        // The snippet is escaped by the index, with only <mark> elements added.
                        p.snippet { (PreEscaped(&hit.snippet)) }
                    }
                }
            }
            (facets)
        }
        nav.pager aria-label="Pages" {
            @if offset > 0 { a href=(link(&query, offset.saturating_sub(PAGE))) rel="prev" { "Previous page" } } @else { span {} }
            @if (offset + PAGE) < results.total as usize { a href=(link(&query, offset + PAGE)) rel="next" { "Next page" } }
        }
    };
    Ok(layout("Search", Some(&user), body).into_response())
}
