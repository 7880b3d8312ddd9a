//! Follow-through across all incidents, alive after each is resolved: action items by owner,
//! team, status and overdue; post-mortems owed; and the follow-through figures.

use super::visibility;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use postmortem_core::figures::follow_through;
use postmortem_core::{ActionStatus, Collector, Handle, Name, User, ValidationError, format_date};
use postmortem_store::{ActionPage, ActionQuery, ActionSort};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/actions", get(actions))
        .route("/postmortems/owed", get(owed))
        .route("/figures", get(figures))
}

/// The day "overdue" is judged on: the organisation's calendar day (`[policy] utc_offset`).
pub(crate) fn today(state: &AppState) -> time::Date {
    state.settings.policy.today(time::OffsetDateTime::now_utc())
}

/// Query parameters of `GET /api/v1/actions`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ActionParams {
    /// An owner's handle, or `me`.
    pub owner: Option<String>,
    pub team: Option<String>,
    /// `open`, `in_progress`, `done` or `wont_do`.
    pub status: Option<String>,
    /// `true`: only items still open past their due date.
    pub overdue: Option<bool>,
    /// `due` (default: soonest due first) or `completed` (most recently completed first).
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

impl ActionParams {
    /// Parses the parameters into a store query; every wrong one is named.
    pub(crate) async fn into_query(
        self,
        state: &AppState,
        user: &User,
    ) -> Result<ActionQuery, ApiError> {
        let mut query = ActionQuery::new(visibility(user), today(state));
        let mut errors = Collector::default();
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(owner) = present(&self.owner) {
            if owner == "me" {
                query.owner = Some(user.id);
            } else if let Some(handle) = errors.ok(Handle::parse(&owner)) {
                match state.store.user_by_handle(&handle).await? {
                    Some(owner) => query.owner = Some(owner.id),
                    None => errors.push(ValidationError::new(
                        "owner",
                        format!("no person has the handle `{handle}`"),
                    )),
                }
            }
        }
        query.team = present(&self.team).and_then(|t| errors.ok(Name::parse_field("team", t)));
        query.status = present(&self.status).and_then(|s| errors.ok(ActionStatus::parse(&s)));
        query.overdue = self.overdue.unwrap_or(false);
        query.sort = match present(&self.sort).as_deref() {
            None | Some("due") => ActionSort::DueFirst,
            Some("completed") => ActionSort::RecentlyCompleted,
            Some(other) => {
                errors.push(ValidationError::new(
                    "sort",
                    format!("`{other}` is not one of: due, completed"),
                ));
                ActionSort::DueFirst
            }
        };
        match self.limit {
            Some(limit) if !(1..=500).contains(&limit) => {
                errors.push(ValidationError::new("limit", "must be between 1 and 500"))
            }
            Some(limit) => query.limit = limit,
            None => {}
        }
        match self.offset {
            Some(offset) if offset < 0 => {
                errors.push(ValidationError::new("offset", "must not be negative"))
            }
            Some(offset) => query.offset = offset,
            None => {}
        }
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(ApiError::invalid(errors.into_errors()))
        }
    }
}

fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}

/// Action items across every incident the caller may see.
#[utoipa::path(
    get, path = "/api/v1/actions", tag = "follow-through",
    params(ActionParams),
    responses(
        (status = 200, description = "`{items, total}`: action items with `incident_title`, `owner_handle` and `overdue`", body = super::schema::ActionPageView),
        (status = 400, description = "A malformed query, such as `overdue` that is not true or false", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 422, description = "A parameter is not valid; each is named", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn actions(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<ActionParams>, QueryRejection>,
) -> Result<Json<ActionPage>, ApiError> {
    let Query(params) = params.map_err(bad_query)?;
    let query = params.into_query(&state, &user).await?;
    Ok(Json(state.store.list_actions(&query).await?))
}

/// Post-mortems still owed, soonest due first, with whether each is overdue.
#[utoipa::path(
    get, path = "/api/v1/postmortems/owed", tag = "follow-through",
    responses(
        (status = 200, description = "`{items, total, overdue}`: incidents whose post-mortem is owed, with `postmortem.status`, `postmortem.due_on` and `overdue`", body = super::schema::OwedView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn owed(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let today = today(&state);
    let owed = state.store.owed_postmortems(visibility(&user)).await?;
    let n_overdue = owed
        .iter()
        .filter(|s| s.due_on.is_some_and(|d| d < today))
        .count();
    let items: Vec<Value> = owed
        .iter()
        .map(|summary| {
            let mut item = serde_json::to_value(&summary.incident).expect("an incident serialises");
            item["postmortem"] = json!({"status": summary.status, "template": summary.template, "due_on": summary.due_on.map(format_date)});
            item["overdue"] = json!(summary.due_on.is_some_and(|d| d < today));
            item
        })
        .collect();
    Ok(Json(
        json!({"items": items, "total": owed.len(), "overdue": n_overdue}),
    ))
}

/// Follow-through figures, overall and per team.
#[utoipa::path(
    get, path = "/api/v1/figures", tag = "follow-through",
    responses(
        (status = 200, description = "`{overall, teams}`: actions done on time, median age of open actions, share closed as won't do, median days from resolved to published", body = super::schema::FiguresReportView),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn figures(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
) -> Result<Json<Value>, ApiError> {
    let (actions, publications) = state.store.follow_through_facts(visibility(&user)).await?;
    let (overall, teams) = follow_through(&actions, &publications, today(&state));
    Ok(Json(
        json!({"as_of": format_date(today(&state)), "overall": overall, "teams": teams}),
    ))
}
