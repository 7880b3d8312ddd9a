//! The author's page of the external version, `/incidents/{id}/external`: choose the sections
//! to share, read the draft with every redaction marked and listed, change a replacement or
//! add one, and (reviewers and admins; admins for a restricted incident) publish it or take it
//! down. Each form goes through the same `postmortem-app` call as the API.

use super::forms::{Fields, csrf_field, request_csrf_token};
use super::incident::{not_found, refusal};
use super::incident_form::IncidentForm;
use super::layout;
use crate::api::external::public_url;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use postmortem_app::external::SUGGESTED_SECTIONS;
use postmortem_app::{ExternalInput, ExternalPatch, ExternalView, PublishInput, ReplacementInput};
use postmortem_core::{ExternalDraft, IncidentId, User};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/external", get(page).post(make))
        .route("/incidents/{id}/external/redactions", post(redactions))
        .route("/incidents/{id}/external/publish", post(publish))
        .route("/incidents/{id}/external/unpublish", post(unpublish))
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
) -> Response {
    match state
        .app
        .acting_for(&user)
        .external_view(IncidentId::new(id))
        .await
    {
        Ok(view) => render(&user, &view).into_response(),
        Err(error) => match ApiError::from(error) {
            e if e.status == axum::http::StatusCode::NOT_FOUND => not_found(&user, id),
            e => refusal(&user, &e),
        },
    }
}

fn render(user: &User, view: &ExternalView) -> Markup {
    let id = view.record.incident.id.get();
    let base = format!("/incidents/{id}/external");
    let csrf = request_csrf_token();
    let chosen = |name: &str| match &view.draft {
        Some(draft) => draft.spec.sections.iter().any(|s| s.as_str() == name),
        None => SUGGESTED_SECTIONS.contains(&name),
    };
    let domains = view
        .draft
        .as_ref()
        .map(|d| d.spec.internal_domains.join(", "))
        .unwrap_or_default();
    let body = html! {
        p { a href={ "/incidents/" (id) } { "← " (view.record.incident.title) } }
        h1 { "External version" }
        p { "A version of this review for customers: only the sections you choose, people named by their role, and internal details (hosts, IP addresses, email addresses, chat links, internal links, customer identifiers) replaced. Read every redaction before it is published." }
        @if let Some(published) = &view.publication {
            section aria-labelledby="published" {
                h2 #published { "Published" }
                p { "Anyone can read it at " a href=(public_url(&published.slug)) { (public_url(&published.slug)) } " (" a href={ (public_url(&published.slug)) ".md" } { "Markdown" } ")." }
                @if view.may_publish {
                    form method="post" action={ (base) "/unpublish" } {
                        (csrf_field(&csrf))
                        button type="submit" { "Take it down" }
                    }
                }
            }
        }
        @if view.may_write {
            section aria-labelledby="choose" {
                h2 #choose { "What to share" }
                form method="post" action=(base) {
                    (csrf_field(&csrf))
                    fieldset {
                        legend { "Sections" }
                        @for (name, title) in &view.choices {
                            div {
                                input type="checkbox" name="sections" value=(name) id={ "section-" (name) } checked[chosen(name)];
                                " "
                                label for={ "section-" (name) } { (title) }
                            }
                        }
                    }
                    label for="internal_domains" { "Your organisation's domains (their hosts and links are internal), separated by commas" }
                    input #internal_domains name="internal_domains" type="text" value=(domains) placeholder="corp.example.com";
                    button type="submit" { @if view.draft.is_some() { "Make the draft again" } @else { "Make the draft" } }
                }
            }
        }
        @if let Some(draft) = &view.draft {
            (draft_section(&base, &csrf, draft, view.may_write))
            @if view.may_publish {
                section aria-labelledby="publish" {
                    h2 #publish { "Publish" }
                    form method="post" action={ (base) "/publish" } {
                        (csrf_field(&csrf))
                        div {
                            input #accept type="checkbox" name="accept_redactions" value="true" required;
                            " "
                            label for="accept" { "I read the draft and its " (draft.redactions.len()) " redactions, and accept them" }
                        }
                        button type="submit" { @if view.publication.is_some() { "Publish again" } @else { "Publish" } }
                    }
                }
            }
        } @else {
            p { "There is no draft yet." }
        }
    };
    layout("External version", Some(user), body)
}

/// The draft's text with each replacement marked, and the list of redactions to change.
fn draft_section(base: &str, csrf: &str, draft: &ExternalDraft, may_write: bool) -> Markup {
    html! {
        section aria-labelledby="draft" {
            h2 #draft { "Draft" }
            p.muted { "Marked text replaced something internal." }
            pre.external-draft { (marked(&draft.markdown, draft)) }
        }
        section aria-labelledby="redactions" {
            h2 #redactions { "Redactions (" (draft.redactions.len()) ")" }
            form method="post" action={ (base) "/redactions" } {
                (csrf_field(csrf))
                input type="hidden" name="version" value=(draft.version);
                table {
                    thead { tr { th scope="col" { "What" } th scope="col" { "Where" } th scope="col" { "Found" } th scope="col" { "Replaced by" } } }
                    tbody {
                        @for (index, redaction) in draft.redactions.iter().enumerate() {
                            tr {
                                td { (redaction.kind.describe()) }
                                td { (redaction.section.replace('_', " ")) }
                                td { code { (redaction.found) } }
                                td {
                                    input type="hidden" name="found" value=(redaction.found);
                                    label for={ "replaced-" (index) } class="visually-hidden" { "Replace " (redaction.found) " by" }
                                    input id={ "replaced-" (index) } name="replaced_by" type="text" value=(redaction.replaced_by) disabled[!may_write];
                                }
                            }
                        }
                    }
                }
                @if may_write {
                    fieldset {
                        legend { "Add a redaction" }
                        label for="add-found" { "Text to replace" }
                        input #add-found name="add_found" type="text";
                        label for="add-replaced" { "Replace it by" }
                        input #add-replaced name="add_replaced_by" type="text";
                    }
                    button type="submit" { "Save the redactions" }
                }
            }
        }
    }
}

/// The text with every replacement inside `<mark>`: built from text pieces, so nothing in it
/// is read as HTML.
fn marked(text: &str, draft: &ExternalDraft) -> Markup {
    let mut replacements: Vec<&str> = draft
        .redactions
        .iter()
        .map(|r| r.replaced_by.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    replacements.sort_by_key(|r| std::cmp::Reverse(r.len()));
    replacements.dedup();
    let mut pieces: Vec<(bool, &str)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let next = replacements
            .iter()
            .filter_map(|r| rest.find(r).map(|at| (at, *r)))
            .min_by_key(|(at, r)| (*at, std::cmp::Reverse(r.len())));
        match next {
            Some((at, found)) => {
                pieces.push((false, &rest[..at]));
                pieces.push((true, &rest[at..at + found.len()]));
                rest = &rest[at + found.len()..];
            }
            None => {
                pieces.push((false, rest));
                rest = "";
            }
        }
    }
    html! { @for (mark, piece) in pieces { @if mark { mark { (piece) } } @else { (piece) } } }
}

/// Where each form of this page goes back to when it worked.
fn back(form: &IncidentForm) -> String {
    format!("/incidents/{}/external", form.path)
}

async fn make(form: IncidentForm) -> Response {
    let to = back(&form);
    let fields = &form.fields;
    let input = ExternalInput {
        sections: all(fields, "sections"),
        internal_domains: fields
            .get("internal_domains")
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect(),
    };
    let result = form.app().make_external_draft(form.incident(), input).await;
    form.answer_elsewhere(&to, result)
}

async fn redactions(form: IncidentForm) -> Response {
    let to = back(&form);
    let fields = &form.fields;
    let changes = all(fields, "found")
        .into_iter()
        .zip(all(fields, "replaced_by"))
        .map(|(found, replaced_by)| ReplacementInput { found, replaced_by })
        .collect();
    let additions = fields
        .given("add_found")
        .map(|found| ReplacementInput {
            found,
            replaced_by: fields.get("add_replaced_by"),
        })
        .into_iter()
        .collect();
    let patch = ExternalPatch {
        version: fields.get("version").parse().unwrap_or(-1),
        sections: None,
        internal_domains: None,
        changes,
        additions,
        remove_additions: Vec::new(),
    };
    let result = form.app().edit_external_draft(form.incident(), patch).await;
    form.answer_elsewhere(&to, result)
}

async fn publish(form: IncidentForm) -> Response {
    let to = back(&form);
    let input = PublishInput {
        accept_redactions: form.fields.get("accept_redactions") == "true",
    };
    let result = form.app().publish_external(form.incident(), input).await;
    form.answer_elsewhere(&to, result)
}

async fn unpublish(form: IncidentForm) -> Response {
    let to = back(&form);
    let result = form.app().unpublish_external(form.incident()).await;
    form.answer_elsewhere(&to, result)
}

/// Every value of a repeated field, in order.
fn all(fields: &Fields, name: &str) -> Vec<String> {
    fields
        .0
        .iter()
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.clone())
        .collect()
}
