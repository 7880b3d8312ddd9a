//! Who may see and do what, through the API: teams and their members, people and their
//! roles, and the people named on an incident. Every call goes through [`Service`], which
//! applies the roles matrix.

use super::schema::{ErrorBody, TeamView, UserView};
use super::{ApiJson, ApiPath};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, put};
use axum::{Json, Router};
use postmortem_app::{RoleInput, TeamInput};
use postmortem_core::{IncidentId, Team, User};
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/teams", get(teams).post(create_team))
        .route("/teams/{team}", get(team))
        .route(
            "/teams/{team}/members/{handle}",
            put(add_team_member).delete(remove_team_member),
        )
        .route("/users", get(users))
        .route("/users/{handle}", patch(set_role))
        .route(
            "/incidents/{id}/members/{handle}",
            put(add_incident_member).delete(remove_incident_member),
        )
}

/// Every team, by name.
#[utoipa::path(
    get, path = "/api/v1/teams", tag = "people",
    responses(
        (status = 200, description = "`{items}`: teams with `name`, `display_name`, `created_at`", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn teams(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let teams = state.app.acting_for(&user).teams().await?;
    Ok(Json(json!({ "items": teams })))
}

/// Creates a team. Admins only.
#[utoipa::path(
    post, path = "/api/v1/teams", tag = "people",
    request_body = TeamInput,
    responses(
        (status = 201, description = "The new team", body = TeamView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 409, description = "A team has this name already", body = ErrorBody),
        (status = 422, description = "A field is not valid", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create_team(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(input): ApiJson<TeamInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let team = state.app.acting_for(&user).create_team(input).await?;
    Ok((StatusCode::CREATED, Json(team_json(&team, &[]))))
}

/// A team as the API shows it: its own fields and its members.
fn team_json(team: &Team, members: &[User]) -> Value {
    let mut value = serde_json::to_value(team).expect("a team serialises");
    value["members"] = json!(members);
    value
}

/// A team with its members.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}", tag = "people",
    params(("team" = String, Path, description = "The team's name, such as `payments`")),
    responses(
        (status = 200, description = "The team and its `members`", body = TeamView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn team(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(name): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let (team, members) = state.app.acting_for(&user).team(&name).await?;
    Ok(Json(team_json(&team, &members)))
}

/// Makes a person a member of a team (nothing changes if they are one). Admins only.
#[utoipa::path(
    put, path = "/api/v1/teams/{team}/members/{handle}", tag = "people",
    params(
        ("team" = String, Path, description = "The team's name"),
        ("handle" = String, Path, description = "The person's handle"),
    ),
    responses(
        (status = 204, description = "The person is a member"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such team or person", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_team_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((team, handle)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .set_team_member(&team, &handle, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Takes a person out of a team (nothing changes if they are not in it). Admins only.
#[utoipa::path(
    delete, path = "/api/v1/teams/{team}/members/{handle}", tag = "people",
    params(
        ("team" = String, Path, description = "The team's name"),
        ("handle" = String, Path, description = "The person's handle"),
    ),
    responses(
        (status = 204, description = "The person is not a member"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "No such team or person", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove_team_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((team, handle)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    state
        .app
        .acting_for(&user)
        .set_team_member(&team, &handle, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everyone with an account and their role. Admins only.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "people",
    responses(
        (status = 200, description = "`{items}`: people by handle", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn users(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let users = state.app.acting_for(&user).users().await?;
    Ok(Json(json!({ "items": users })))
}

/// Gives a person another role. Admins only; the last admin keeps the admin role.
#[utoipa::path(
    patch, path = "/api/v1/users/{handle}", tag = "people",
    params(("handle" = String, Path, description = "The person's handle")),
    request_body = RoleInput,
    responses(
        (status = 200, description = "The person with the new role", body = UserView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
        (status = 404, description = "Nobody has this handle", body = ErrorBody),
        (status = 422, description = "Not a role, or it would leave nobody an admin", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn set_role(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(handle): ApiPath<String>,
    ApiJson(input): ApiJson<RoleInput>,
) -> Result<Json<postmortem_core::User>, ApiError> {
    Ok(Json(
        state.app.acting_for(&user).set_role(&handle, input).await?,
    ))
}

/// Names a person on an incident, so that they may see it while it is restricted. Admins,
/// and members of the incident with the contributor role or above.
#[utoipa::path(
    put, path = "/api/v1/incidents/{id}/members/{handle}", tag = "incidents",
    params(
        ("id" = i64, Path, description = "The incident"),
        ("handle" = String, Path, description = "The person's handle"),
    ),
    responses(
        (status = 200, description = "`{version}`: the incident's new version", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Neither an admin nor a member who may write", body = ErrorBody),
        (status = 404, description = "No such incident (or restricted), or nobody has this handle", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn add_incident_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, handle)): ApiPath<(i64, String)>,
) -> Result<Json<Value>, ApiError> {
    let version = state
        .app
        .acting_for(&user)
        .set_incident_member(IncidentId::new(id), &handle, true)
        .await?;
    Ok(Json(json!({ "version": version })))
}

/// Takes a named person off an incident. The same people may do it as may name them.
#[utoipa::path(
    delete, path = "/api/v1/incidents/{id}/members/{handle}", tag = "incidents",
    params(
        ("id" = i64, Path, description = "The incident"),
        ("handle" = String, Path, description = "The person's handle"),
    ),
    responses(
        (status = 200, description = "`{version}`: the incident's new version", body = Object),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Neither an admin nor a member who may write", body = ErrorBody),
        (status = 404, description = "No such incident (or restricted), or nobody has this handle", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn remove_incident_member(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath((id, handle)): ApiPath<(i64, String)>,
) -> Result<Json<Value>, ApiError> {
    let version = state
        .app
        .acting_for(&user)
        .set_incident_member(IncidentId::new(id), &handle, false)
        .await?;
    Ok(Json(json!({ "version": version })))
}
