//! Follow-through pages: `/follow-through` (my actions, overdue by team and owner, reviews
//! owed, recently completed with their verification). The per-team figures that `/figures`
//! showed are part of `/insights` now.

use super::layout;
use super::words::Words;
use crate::api::follow_through::{ActionParams, today};
use crate::api::visibility;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_core::format_date;
use postmortem_store::ActionListItem;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct ViewParams {
    view: Option<String>,
    team: Option<String>,
}

const VIEWS: [(&str, &str); 4] = [
    ("mine", "My actions"),
    ("overdue", "Overdue by team and owner"),
    ("owed", "Reviews owed"),
    ("completed", "Recently completed"),
];

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Query(params): Query<ViewParams>,
) -> Result<Response, ApiError> {
    let view = params
        .view
        .as_deref()
        .filter(|v| VIEWS.iter().any(|(k, _)| k == v))
        .unwrap_or("mine");
    let team = params.team.clone().filter(|t| !t.trim().is_empty());
    let tabs = html! {
        nav.tabs aria-label="Follow-through views" {
            @for (key, label) in VIEWS {
                a href={ "/follow-through?view=" (key) } aria-current=[(key == view).then_some("page")] { (label) }
            }
            " · " a href="/figures" { "Figures" }
        }
    };
    let content = match view {
        "owed" => owed_view(&state, &user).await?,
        "overdue" | "completed" | "mine" => {
            let params = ActionParams {
                owner: (view == "mine").then(|| "me".to_owned()),
                team: team.clone(),
                status: (view == "completed").then(|| "done".to_owned()),
                overdue: Some(view == "overdue"),
                sort: (view == "completed").then(|| "completed".to_owned()),
                limit: Some(500),
                offset: None,
            };
            let query = match params.into_query(&state, &user).await {
                Ok(query) => query,
                Err(error) => return Ok((error.status, layout("Follow-through", Some(&user), html! { h1 { "Follow-through" } (tabs) p.error role="alert" { (error.message) } })).into_response()),
            };
            let page = state.store.list_actions(&query).await?;
            let people = Names::of(&state).await?;
            match view {
                "overdue" => overdue_view(&people, &page.items, page.total, team.as_deref()),
                "completed" => completed_view(&page.items),
                _ => actions_table(
                    &people,
                    "Open and recent items you own",
                    &page.items,
                    page.total,
                ),
            }
        }
        _ => unreachable!("the view was checked against VIEWS"),
    };
    let body = html! { h1 { "Follow-through" } (tabs) (content) };
    Ok(layout("Follow-through", Some(&user), body).into_response())
}

/// People's display names by id, so that pages name owners instead of showing handles.
pub(crate) struct Names(std::collections::HashMap<postmortem_core::UserId, String>);

impl Names {
    pub(crate) async fn of(state: &AppState) -> Result<Self, ApiError> {
        let users = state.store.users().await?;
        Ok(Self(
            users
                .into_iter()
                .map(|u| (u.id, u.display_name.to_string()))
                .collect(),
        ))
    }

    /// The owner's name, or `None` when the item has nobody.
    pub(crate) fn owner(&self, item: &ActionListItem) -> Option<&str> {
        item.action
            .owner
            .and_then(|id| self.0.get(&id))
            .map(String::as_str)
    }
}

fn actions_table(people: &Names, caption: &str, items: &[ActionListItem], total: i64) -> Markup {
    html! {
        table {
            caption { (caption) " (" (total) ")" }
            thead { tr { th scope="col" { "Action" } th scope="col" { "Incident" } th scope="col" { "Owner" } th scope="col" { "Team" } th scope="col" { "Status" } th scope="col" { "Due" } } }
            tbody {
                @for item in items {
                    tr {
                        td { (item.action.title.as_str()) }
                        td { a href={ "/incidents/" (item.action.incident_id) } { (item.incident_title) } }
                        td { @match people.owner(item) { Some(name) => (name), None => span.needs { "nobody yet" } } }
                        td { @if let Some(team) = &item.action.team { (team) } }
                        td { (item.action.status.words()) }
                        td {
                            @if let Some(due) = item.action.due_on { (format_date(due)) }
                            @if item.overdue { " " span.badge.sev1 { "overdue" } }
                        }
                    }
                }
            }
        }
    }
}

fn overdue_view(
    people: &Names,
    items: &[ActionListItem],
    total: i64,
    team: Option<&str>,
) -> Markup {
    let mut by_team: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
    for item in items {
        let team = item
            .action
            .team
            .as_ref()
            .map_or_else(|| "no team".to_owned(), ToString::to_string);
        let owner = people.owner(item).unwrap_or("nobody yet").to_owned();
        *by_team.entry(team).or_default().entry(owner).or_default() += 1;
    }
    html! {
        form.filters method="get" action="/follow-through" {
            input type="hidden" name="view" value="overdue";
            p { label for="team" { "Team" } input #team name="team" type="text" value=(team.unwrap_or("")); }
            p { button type="submit" { "Show" } }
        }
        h2 { "By team and owner" }
        table {
            caption { "Overdue action items per owner" }
            thead { tr { th scope="col" { "Team" } th scope="col" { "Owner" } th scope="col" { "Overdue" } } }
            tbody { @for (team, owners) in &by_team { @for (owner, n) in owners { tr { td { (team) } td { (owner) } td { (n) } } } } }
        }
        h2 { "Items" }
        (actions_table(people, "Overdue action items, longest overdue first", items, total))
    }
}

fn completed_view(items: &[ActionListItem]) -> Markup {
    html! {
        h2 { "Recently completed, and how we know they changed the system" }
        ul.completed {
            @for item in items {
                li {
                    strong { (item.action.title.as_str()) } " — "
                    a href={ "/incidents/" (item.action.incident_id) } { (item.incident_title) }
                    @if let Some(at) = item.action.completed_at { ", done " (format_date(at.date())) }
                    @match &item.action.verification {
                        Some(verification) => p { "Verified: " (verification) },
                        None => p.muted { "No verification note yet." },
                    }
                }
            }
        }
    }
}

async fn owed_view(state: &AppState, user: &postmortem_core::User) -> Result<Markup, ApiError> {
    let today = today(state);
    let owed = state.store.owed_postmortems(visibility(user)).await?;
    let n_overdue = owed
        .iter()
        .filter(|s| s.due_on.is_some_and(|d| d < today))
        .count();
    Ok(html! {
        table {
            caption { "Post-mortems owed (" (owed.len()) ", " (n_overdue) " overdue), soonest due first" }
            thead { tr { th scope="col" { "Incident" } th scope="col" { "Teams" } th scope="col" { "Status" } th scope="col" { "Due" } } }
            tbody {
                @for summary in &owed {
                    tr {
                        td { a href={ "/incidents/" (summary.incident.id) } { (summary.incident.title) } }
                        td { @for (n, team) in summary.incident.teams.iter().enumerate() { @if n > 0 { ", " } (team) } }
                        td { (summary.status.words()) }
                        td {
                            @if let Some(due) = summary.due_on { (format_date(due)) @if due < today { " " span.badge.sev1 { "overdue" } } }
                        }
                    }
                }
            }
        }
    })
}
