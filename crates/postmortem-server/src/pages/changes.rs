//! "Changes before this incident" on the incident page: the deploys its services received in
//! the hours before it started, each with a button that adds it to the timeline.

use super::forms::csrf_field;
use super::incident::View;
use super::incident_form::IncidentForm;
use super::words::instant;
use crate::AppState;
use axum::response::Response;
use axum::{Router, routing::post};
use maud::{Markup, html};
use postmortem_app::ChangeBefore;

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

async fn add(form: IncidentForm<(i64, i64)>) -> Response {
    let deploy = form.path.1;
    let result = form
        .app()
        .add_change_to_timeline(form.incident(), deploy)
        .await;
    let to = format!("/incidents/{}#timeline", form.path.0);
    form.answer_elsewhere(&to, result)
}
