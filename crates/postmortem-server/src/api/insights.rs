//! What keeps happening, across incidents: `GET /api/v1/insights` (the JSON the page is made
//! from) and `GET /api/v1/insights.csv?chart=NAME` (one chart's data).

use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use postmortem_app::InsightsInput;
use postmortem_app::insights::{chart, report_json, table_csv};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/insights", get(insights))
        .route("/insights.csv", get(insights_csv))
}

pub(crate) fn bad_query(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_query",
        rejection.body_text(),
    )
}

/// The insights report: recurring factors, themes, action effectiveness, durations and near
/// misses across the incidents the reader may see.
#[utoipa::path(
    get, path = "/api/v1/insights", tag = "insights",
    params(InsightsInput),
    responses(
        (status = 200, description = "`{filter, quarters, recurring_factors, themes, action_effectiveness, durations, near_misses}`; every count that lists incidents carries `list`, the incident list showing exactly those. Restricted incidents the reader may not see are counted only in cells of at least 5 of an unfiltered report, never named or linked.", content_type = "application/json"),
        (status = 400, description = "A malformed query", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 422, description = "Invalid filters", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn insights(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<InsightsInput>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(input) = params.map_err(bad_query)?;
    let (filter, report) = state.app.acting_for(&user).insights(&input).await?;
    let body = report_json(&filter, &report);
    Ok(Json(body).into_response())
}

/// One chart of the insights report as CSV: the same rows as the table beside the chart.
#[utoipa::path(
    get, path = "/api/v1/insights.csv", tag = "insights",
    params(InsightsInput),
    responses(
        (status = 200, description = "The chart's data, one header row then one row per line of the chart", content_type = "text/csv", body = String),
        (status = 400, description = "A malformed query", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 422, description = "Invalid filters, or a missing or unknown `chart`", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn insights_csv(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<InsightsInput>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(input) = params.map_err(bad_query)?;
    let chart = chart(&input)?;
    let (_, report) = state.app.acting_for(&user).insights(&input).await?;
    let csv = table_csv(&report.table(chart));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"insights-{}.csv\"", chart.as_str()),
            ),
        ],
        csv,
    )
        .into_response())
}
