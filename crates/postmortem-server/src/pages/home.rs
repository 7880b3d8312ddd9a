//! The home page at `/`: it starts from the person — reviews asked of them, post-mortems
//! they or their teams owe (overdue first, marked), their open action items, their drafts,
//! and what was published lately in their teams — each with what to do when it is empty.
//! The full list of incidents is one click away, at `/incidents`.

use super::layout;
use super::words::{self, Words};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_app::Work;
use postmortem_core::User;
use postmortem_store::IncidentSummary;

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
) -> Result<Response, ApiError> {
    let work = state.app.acting_for(&user).work().await?;
    Ok(layout("Home", Some(&user), body(&user, &work)).into_response())
}

fn body(user: &User, work: &Work) -> Markup {
    let overdue = work.owed.iter().filter(|s| work.is_overdue(s)).count()
        + work.drafts.iter().filter(|s| work.is_overdue(s)).count();
    let overdue_actions = work.actions.iter().filter(|a| a.overdue).count();
    html! {
        h1 { "What needs you, " (user.display_name) }
        p.summary-line {
            (count(work.review_requests.len(), "review asked of you", "reviews asked of you")) " · "
            (count(overdue, "overdue post-mortem", "overdue post-mortems")) " · "
            (count(overdue_actions, "overdue action item", "overdue action items"))
            " · " a href="/incidents" { "All incidents" }
        }
        div.home-grid {
            section aria-labelledby="asked-heading" {
                h2 #asked-heading { "Reviews asked of you" }
                @if work.review_requests.is_empty() {
                    p.empty { "Nobody is waiting for your review. When an author asks you, the post-mortem shows up here." }
                } @else {
                    ul.work { @for summary in &work.review_requests { li { (incident_line(work, summary)) } } }
                }
            }
            section aria-labelledby="owed-heading" {
                h2 #owed-heading { "Post-mortems you or your teams owe" }
                @if work.owed.is_empty() {
                    p.empty { "Nothing owed by you or your teams. "
                        @if user.role.can_write() { "After an incident, " a href="/incidents/new" { "record it" } " and the policy says whether a post-mortem is owed." } }
                } @else {
                    ul.work { @for summary in &work.owed { li class=[work.is_overdue(summary).then_some("overdue")] { (incident_line(work, summary)) } } }
                }
            }
            section aria-labelledby="actions-heading" {
                h2 #actions-heading { "Your open action items" }
                @if work.actions.is_empty() {
                    p.empty { "You own no open action items. Items given to you on an incident page show up here until they are done." }
                } @else {
                    ul.work {
                        @for item in &work.actions {
                            li class=[item.overdue.then_some("overdue")] {
                                a href={ "/incidents/" (item.action.incident_id) "#action-" (item.action.id) } { (item.action.title) }
                                " " span.muted { "on " (item.incident_title) }
                                br;
                                span.badge { (item.action.status.words()) }
                                @match item.action.due_on {
                                    Some(due) => { " due " (words::day(due)) }
                                    None => { " " span.needs { "no due date yet" } }
                                }
                                @if item.overdue { " " span.badge.overdue { "overdue" } }
                            }
                        }
                    }
                    p { a href="/follow-through" { "All your items and the follow-through views" } }
                }
            }
            section aria-labelledby="drafts-heading" {
                h2 #drafts-heading { "Your drafts" }
                @if work.drafts.is_empty() {
                    p.empty { "No drafts of yours. Start one from an incident that owes a post-mortem: its page has “Start the draft”." }
                } @else {
                    ul.work { @for summary in &work.drafts { li class=[work.is_overdue(summary).then_some("overdue")] { (incident_line(work, summary)) } } }
                }
            }
            section aria-labelledby="published-heading" {
                h2 #published-heading { "Recently published in your teams" }
                @if work.recently_published.is_empty() {
                    p.empty { "Nothing published in your teams yet. " a href="/incidents?status=published" { "Read what other teams published" } "." }
                } @else {
                    ul.work { @for summary in &work.recently_published { li { (incident_line(work, summary)) } } }
                }
            }
        }
    }
}

fn count(n: usize, one: &str, many: &str) -> Markup {
    html! { strong { (n) } " " @if n == 1 { (one) } @else { (many) } }
}

/// One incident in a home list: its title, severity, status and when it is due.
fn incident_line(work: &Work, summary: &IncidentSummary) -> Markup {
    let incident = &summary.incident;
    html! {
        a href={ "/incidents/" (incident.id) } { (incident.title) }
        " " span class={ "badge sev" (incident.severity.level()) } { (incident.severity) }
        @if incident.restricted { " " span.badge { "restricted" } }
        br;
        span.muted { (summary.status.words())
            @if let Some(due) = summary.due_on { @if summary.status.is_owed_work() { ", due " (words::day(due)) } } }
        @if work.is_overdue(summary) { " " span.badge.overdue { "overdue" } }
    }
}
