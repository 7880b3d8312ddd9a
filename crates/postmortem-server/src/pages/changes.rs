//! "Changes before this incident" on the incident page: the deploys its services received in
//! the hours before it started, each with a button that adds it to the timeline.

use super::forms::{Fields, check_origin_and_token, csrf_field};
use super::incident::{View, refusal};
use super::words::instant;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::post};
use maud::{Markup, html};
use postmortem_app::ChangeBefore;
use postmortem_core::IncidentId;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/incidents/{id}/changes/{deploy_id}", post(add))
}

/// The panel; `changes` are newest first.
pub(crate) fn panel(view: &View, changes: &[ChangeBefore]) -> Markup {
    let id = view.id();
    let can_write = view.user.role.can_write();
    html! {
        section aria-labelledby="changes-heading" #changes {
            h2 #changes-heading { "Changes before this incident" }
            @if changes.is_empty() {
                p.muted { "No deploy tool reported a deploy to this incident's services in the "
                    (postmortem_app::changes::DEFAULT_HOURS) " hours before it started." }
            } @else {
                p.muted { "Deploys to its services in the " (postmortem_app::changes::DEFAULT_HOURS)
                    " hours before it started, newest first, as the deploy tools reported them." }
                ul.changes {
                    @for change in changes {
                        @let deploy = &change.deploy;
                        li {
                            (instant(deploy.at)) ": "
                            strong { (deploy.service) } " " (deploy.version)
                            @if let Some(by) = &deploy.by { " (by " (by) ")" }
                            @if let Some(link) = &deploy.link { " " a href=(link.as_str()) { "details" } }
                            " "
                            @if change.on_timeline {
                                span.badge { "on the timeline" }
                            } @else if can_write {
                                form.inline method="post" action={ "/incidents/" (id) "/changes/" (deploy.id) } {
                                    (csrf_field(&view.csrf))
                                    button type="submit" { "Add to the timeline" span.visually-hidden { ": " (deploy.service) " " (deploy.version) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn add(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, deploy_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if let Err(error) = check_origin_and_token(&headers, &Fields(fields)) {
        return Ok(refusal(&user, &error));
    }
    match state
        .app
        .acting_for(&user)
        .add_change_to_timeline(IncidentId::new(id), deploy_id)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/incidents/{id}#timeline")).into_response()),
        Err(error) => Ok(refusal(&user, &ApiError::from(error))),
    }
}
