//! The full incident list with filters, sorting and pages, at `/incidents`; the home page
//! (`/`, [`super::home`]) starts from the person and links here.

use super::layout;
use super::words::{self, Words};
use crate::api::incidents::ListParams;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_core::{FactorCategory, IncidentKind, PostmortemStatus};
use postmortem_store::IncidentSummary;

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (params, rejected) = match params {
        Ok(Query(params)) => (params, None),
        Err(rejection) => (ListParams::default(), Some(rejection.body_text())),
    };
    let echo = Echo::of(&params);
    let query = match params.into_query(&user, state.settings.severity_levels) {
        Ok(_) if rejected.is_some() => {
            let message = rejected.unwrap_or_default();
            let body = html! { h1 { "Incidents" } (filters(&echo, state.settings.severity_levels)) p.error role="alert" { (message) } };
            return Ok((
                StatusCode::BAD_REQUEST,
                layout("Incidents", Some(&user), body),
            )
                .into_response());
        }
        Ok(query) => query,
        Err(error) => {
            let body = html! { h1 { "Incidents" } (filters(&echo, state.settings.severity_levels)) p.error role="alert" { (error.message) } };
            return Ok((error.status, layout("Incidents", Some(&user), body)).into_response());
        }
    };
    let page = state.store.list_incidents(&query).await?;
    let body = html! {
        h1 { "Incidents" }
        @if user.role.can_write() { p { a.button href="/incidents/new" { "Record an incident" } } }
        (filters(&echo, state.settings.severity_levels))
        p.muted aria-live="polite" { (page.total) " incidents match." }
        table {
            thead { tr { th scope="col" { "Incident" } th scope="col" { "Severity" } th scope="col" { "Kind" } th scope="col" { "Services" } th scope="col" { "Started" } th scope="col" { "Post-mortem" } } }
            tbody {
                @for item in &page.items { (row(item)) }
            }
        }
        nav.pager aria-label="Pages" {
            @if echo.cursor.is_some() { a href=(echo.link(None)) { "First page" } } @else { span {} }
            @if let Some(next) = &page.next_cursor { a href=(echo.link(Some(next))) rel="next" { "Next page" } }
        }
    };
    Ok(layout("Incidents", Some(&user), body).into_response())
}

fn row(item: &IncidentSummary) -> Markup {
    let incident = &item.incident;
    let started = incident.started_at.unwrap_or(incident.created_at);
    html! {
        tr {
            td {
                a href={ "/incidents/" (incident.id) } { (incident.title) }
                @if incident.restricted { " " span.badge { "restricted" } }
            }
            td { span class={ "badge sev" (incident.severity.level()) } { (incident.severity) } }
            td { (incident.kind.words()) }
            td { @for (n, service) in incident.services.iter().enumerate() { @if n > 0 { ", " } (service) } }
            td { time datetime=(postmortem_core::format_instant(started)) { (words::day(started.date())) } }
            td {
                (item.status.words())
                @if let Some(due_on) = item.due_on { @if item.status.is_owed_work() { br; span.muted { "due " (words::day(due_on)) } } }
            }
        }
    }
}

/// The filter values as the reader typed them, to show them again and build page links.
#[derive(Debug, Default)]
pub(super) struct Echo {
    pairs: Vec<(&'static str, String)>,
    cursor: Option<String>,
}

impl Echo {
    fn of(params: &ListParams) -> Self {
        let fields: [(&'static str, &Option<String>); 10] = [
            ("q", &params.q),
            ("status", &params.status),
            ("severity", &params.severity),
            ("kind", &params.kind),
            ("service", &params.service),
            ("team", &params.team),
            ("factor", &params.factor),
            ("from", &params.from),
            ("until", &params.until),
            ("sort", &params.sort),
        ];
        Self::of_fields(&fields, params.cursor.clone())
    }

    /// The given (non-empty) values of a page's filters, by parameter name.
    pub(super) fn of_fields(
        fields: &[(&'static str, &Option<String>)],
        cursor: Option<String>,
    ) -> Self {
        Self {
            pairs: fields
                .iter()
                .filter_map(|(k, v)| {
                    v.as_ref()
                        .filter(|v| !v.is_empty())
                        .map(|v| (*k, v.clone()))
                })
                .collect(),
            cursor,
        }
    }

    pub(super) fn get(&self, key: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    fn link(&self, cursor: Option<&str>) -> String {
        self.link_at("/incidents", cursor)
    }

    /// A link to the page at `base` with the same filters, at `cursor`.
    pub(super) fn link_at(&self, base: &str, cursor: Option<&str>) -> String {
        let mut query: Vec<String> = self
            .pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if let Some(cursor) = cursor {
            query.push(format!("cursor={}", encode(cursor)));
        }
        format!("{base}?{}", query.join("&"))
    }
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

fn filters(echo: &Echo, severity_levels: u8) -> Markup {
    let select = |name: &str, label: &str, options: Vec<(String, String)>| {
        let current = echo.get(name).to_owned();
        html! {
            p {
                label for=(name) { (label) }
                select id=(name) name=(name) {
                    option value="" { "Any" }
                    @for (value, words) in &options { option value=(value) selected[*value == current] { (words) } }
                }
            }
        }
    };
    html! {
        form.filters method="get" action="/incidents" role="search" aria-label="Filter incidents" {
            p { label for="q" { "Title contains" } input #q name="q" type="search" value=(echo.get("q")); }
            (select("status", "Post-mortem", PostmortemStatus::ALL.iter().map(|s| (s.as_str().to_owned(), s.words().to_owned())).collect()))
            (select("severity", "Severity", (1..=severity_levels).map(|n| (format!("SEV{n}"), format!("SEV{n}"))).collect()))
            (select("kind", "Kind", IncidentKind::ALL.iter().map(|k| (k.as_str().to_owned(), k.words().to_owned())).collect()))
            p { label for="service" { "Service" } input #service name="service" type="text" size="14" value=(echo.get("service")); }
            p { label for="team" { "Team" } input #team name="team" type="text" size="12" value=(echo.get("team")); }
            (select("factor", "Condition", FactorCategory::ALL.iter().map(|c| (c.as_str().to_owned(), c.label().to_owned())).collect()))
            p { label for="from" { "From" } input #from name="from" type="date" value=(echo.get("from")); }
            p { label for="until" { "Until" } input #until name="until" type="date" value=(echo.get("until")); }
            (select("sort", "Sort", [("newest", "newest first"), ("oldest", "oldest first"), ("severity", "most severe first")].map(|(v, w)| (v.to_owned(), w.to_owned())).to_vec()))
            p { button type="submit" { "Apply filters" } }
        }
    }
}
