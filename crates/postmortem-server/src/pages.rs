//! Server-rendered pages: plain HTML forms and links that work without JavaScript, with
//! accessible labels, and one stylesheet.

mod account;
mod admin;
mod audit;
mod changes;
mod chat;
mod editor;
mod external;
mod facts;
mod follow_through;
pub(crate) mod forms;
mod home;
mod incident;
mod incident_form;
mod insights;
mod integrations;
mod items;
mod items_submit;
mod list;
pub(crate) mod markdown;
mod new_incident;
mod public;
mod search;
mod submit;
mod teams;
mod words;

use crate::AppState;
use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use maud::{DOCTYPE, Markup, html};
use postmortem_core::User;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home::page))
        .route("/incidents", get(list::page))
        .route(
            "/incidents/new",
            get(new_incident::page).post(new_incident::submit),
        )
        .route("/incidents/{id}", get(incident::page))
        .route(
            "/incidents/{id}/edit",
            get(editor::page).post(editor::submit),
        )
        .route(
            "/incidents/{id}/facts",
            get(facts::page).post(facts::submit),
        )
        .route("/incidents/{id}/fragments/{part}", get(incident::fragment))
        .route("/incidents/{id}/events", get(crate::live::api_events))
        .route("/public/incidents/{slug}", get(public::page))
        .route("/follow-through", get(follow_through::page))
        .route("/insights", get(insights::page))
        // The follow-through figures are part of the insights now.
        .route(
            "/figures",
            get(|| async { axum::response::Redirect::permanent("/insights") }),
        )
        .route("/search", get(search::page))
        .route("/admin/webhooks", get(admin::page).post(admin::create))
        .route("/admin/audit", get(audit::admin_page))
        .route("/incidents/{id}/history", get(audit::history_page))
        .route("/teams", get(teams::list).post(teams::create))
        .route("/teams/{team}", get(teams::page))
        .route("/teams/{team}/members", post(teams::add_member))
        .route(
            "/teams/{team}/members/{handle}/remove",
            post(teams::remove_member),
        )
        .merge(submit::routes())
        .merge(external::routes())
        .merge(items_submit::routes())
        .merge(changes::routes())
        .merge(chat::routes())
        .merge(integrations::routes())
        .merge(account::routes())
        .route("/static/app.css", get(stylesheet))
        .route("/static/app.js", get(script))
}

/// Any path nothing serves: the API's error shape under `/api/`, a page for people elsewhere,
/// so the browser never shows its own bare error.
pub(crate) async fn no_such_page(uri: axum::http::Uri) -> axum::response::Response {
    if uri.path().starts_with("/api/") {
        return crate::ApiError::not_found("API route").into_response();
    }
    let body = html! {
        h1 { "There is no such page" }
        p { "Nothing lives at " code { (uri.path()) } ". The link may be old or mistyped." }
        ul {
            li { a href="/" { "Your home page" } ", with what needs you" }
            li { a href="/incidents" { "All incidents" } }
            li { a href="/search" { "Search past incidents" } }
        }
    };
    (
        axum::http::StatusCode::NOT_FOUND,
        layout("Not found", None, body),
    )
        .into_response()
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}

async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}

/// The frame of every page: skip link, header with the signed-in person, main content.
pub(crate) fn layout(title: &str, user: Option<&User>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · postmortem" }
                link rel="stylesheet" href="/static/app.css";
                // An empty icon, so browsers do not ask for a /favicon.ico that is not served.
                link rel="icon" href="data:,";
                script src="/static/app.js" defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "postmortem" }
                    @if let Some(user) = user {
                        nav aria-label="Main" {
                            a href="/" { "Home" }
                            " "
                            a href="/incidents" { "All incidents" }
                            " "
                            @if user.role.can_write() { a href="/incidents/new" { "Record an incident" } " " }
                            a href="/follow-through" { "Follow-through" }
                            " "
                            a href="/insights" { "Insights" }
                            " "
                            a href="/teams" { "Teams" }
                            @if user.role.is_admin() { " " a href="/admin/webhooks" { "Webhooks" } " " a href="/admin/integrations" { "Integrations" } " " a href="/admin/audit" { "Audit log" } }
                        }
                        form.quicksearch method="get" action="/search" role="search" {
                            label for="quick-q" class="visually-hidden" { "Search incidents" }
                            input #quick-q name="q" type="search" placeholder="Search incidents" data-suggest;
                            button type="submit" { "Search" }
                        }
                        form.signout method="post" action="/logout" {
                            (forms::csrf_field(&forms::request_csrf_token()))
                            a href="/account" { (user.display_name) " (" (words::Words::words(user.role)) ")" }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
}
