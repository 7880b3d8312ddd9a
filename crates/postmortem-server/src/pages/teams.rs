//! `/teams` and `/teams/{team}`: the teams and who is in them, for everyone signed in, with
//! the forms admins use to create teams and change their members. The forms go through the
//! same [`Service`] calls as the API.

use super::forms::{Fields, check_origin_and_token, csrf_field, csrf_token};
use super::layout;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use postmortem_app::TeamInput;
use postmortem_core::{Permission, User};

pub(crate) async fn list(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render_list(&state, &user, &headers, None).await
}

async fn render_list(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    problem: Option<(ApiError, Fields)>,
) -> Result<Response, ApiError> {
    let teams = state.app.acting_for(user).teams().await?;
    let token = csrf_token(headers);
    let (status, error, typed) = match problem {
        Some((error, fields)) => (error.status, Some(error.message), fields),
        None => (StatusCode::OK, None, Fields::default()),
    };
    let body = html! {
        h1 { "Teams" }
        p { "The members of a team an incident names may read it when it is restricted." }
        (alert(error.as_deref()))
        @if teams.is_empty() {
            p.muted { "There are no teams yet." }
        } @else {
            ul { @for team in &teams { li { a href={ "/teams/" (team.name) } { (team.display_name) } " " span.muted { "(" (team.name) ")" } } } }
        }
        @if user.role.may(Permission::ManageTeams) {
            h2 { "Create a team" }
            form method="post" action="/teams" {
                (csrf_field(&token))
                p { label for="team-name" { "Name used on incidents (lowercase letters, digits and -)" }
                    input #team-name name="name" required pattern="[a-z0-9]+(-[a-z0-9]+)*" value=(typed.get("name")) placeholder="site-reliability"; }
                p { label for="team-display-name" { "Name shown to people" }
                    input #team-display-name name="display_name" required value=(typed.get("display_name")) placeholder="Site Reliability"; }
                button type="submit" { "Create team" }
            }
        }
    };
    Ok((status, layout("Teams", Some(user), body)).into_response())
}

fn alert(error: Option<&str>) -> Markup {
    html! { @if let Some(error) = error { p.error role="alert" { (error) } } }
}

pub(crate) async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let created = match check_origin_and_token(&headers, &fields) {
        Ok(()) => {
            let input = TeamInput {
                name: fields.get("name"),
                display_name: fields.get("display_name"),
            };
            state
                .app
                .acting_for(&user)
                .create_team(input)
                .await
                .map_err(ApiError::from)
        }
        Err(error) => Err(error),
    };
    match created {
        Ok(team) => Ok(Redirect::to(&format!("/teams/{}", team.name)).into_response()),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => render_list(&state, &user, &headers, Some((error, fields))).await,
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(team): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render_team(&state, &user, &headers, &team, None).await
}

async fn render_team(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    name: &str,
    error: Option<ApiError>,
) -> Result<Response, ApiError> {
    let service = state.app.acting_for(user);
    let (team, members) = match service.team(name).await.map_err(ApiError::from) {
        Ok(found) => found,
        Err(error) if error.status == StatusCode::NOT_FOUND => {
            let body = html! { h1 { "Team not found" } p { "There is no team " code { (name) } ". " a href="/teams" { "All teams" } } };
            return Ok(
                (StatusCode::NOT_FOUND, layout("Not found", Some(user), body)).into_response(),
            );
        }
        Err(error) => return Err(error),
    };
    let manage = user.role.may(Permission::ManageTeams);
    let others: Vec<User> = if manage {
        let people = service.people().await?;
        people
            .into_values()
            .filter(|p| !members.iter().any(|m| m.id == p.id))
            .collect()
    } else {
        Vec::new()
    };
    let token = csrf_token(headers);
    let status = error.as_ref().map_or(StatusCode::OK, |e| e.status);
    let body = html! {
        p { a href="/teams" { "All teams" } }
        h1 { (team.display_name) }
        p { "Incidents name this team as " code { (team.name) } "." }
        (alert(error.as_ref().map(|e| e.message.as_str())))
        h2 { "Members" }
        @if members.is_empty() {
            p.muted { "Nobody is in this team yet." }
        } @else {
            ul { @for member in &members { li {
                (member.display_name) " " span.muted { "(" (super::words::Words::words(member.role)) ")" }
                @if manage {
                    " "
                    form.inline method="post" action={ "/teams/" (team.name) "/members/" (member.handle) "/remove" } {
                        (csrf_field(&token))
                        button type="submit" { "Remove " (member.display_name) " from the team" }
                    }
                }
            } } }
        }
        @if manage && !others.is_empty() {
            h2 { "Add a member" }
            form method="post" action={ "/teams/" (team.name) "/members" } {
                (csrf_field(&token))
                p { label for="member-handle" { "Person" }
                    select #member-handle name="handle" required {
                        @for person in &others { option value=(person.handle) { (person.display_name) } }
                    } }
                button type="submit" { "Add to the team" }
            }
        }
    };
    Ok((status, layout(team.display_name.as_str(), Some(user), body)).into_response())
}

/// What both member forms do: check the form, change the membership, and go back to the
/// team's page, or show it again with the refusal.
async fn change_member(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    team: &str,
    handle: &str,
    fields: &Fields,
    member: bool,
) -> Result<Response, ApiError> {
    let changed = match check_origin_and_token(headers, fields) {
        Ok(()) => state
            .app
            .acting_for(user)
            .set_team_member(team, handle, member)
            .await
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    match changed {
        Ok(()) => Ok(Redirect::to(&format!("/teams/{team}")).into_response()),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => render_team(state, user, headers, team, Some(error)).await,
    }
}

pub(crate) async fn add_member(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(team): Path<String>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let handle = fields.get("handle");
    change_member(&state, &user, &headers, &team, &handle, &fields, true).await
}

pub(crate) async fn remove_member(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((team, handle)): Path<(String, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    change_member(&state, &user, &headers, &team, &handle, &fields, false).await
}
