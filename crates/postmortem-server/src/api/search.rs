//! `GET /api/v1/search`: full-text search over the incidents the reader may see, with
//! highlighted snippets and facet counts; `GET /api/v1/search/suggest`: what a query being
//! typed may be heading for.

use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use postmortem_core::User;
use postmortem_search::{SearchError, SearchIndex, SearchResults, Suggestions};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/search", get(search))
        .route("/search/suggest", get(suggest))
}

/// Query parameters of `GET /api/v1/search`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// Words, `"phrases"`, `prefix*`, and filters such as `service:checkout`, `team:sre`,
    /// `severity:SEV1`, `kind:outage`, `status:published`, `factor:capacity`, `owner:dana`,
    /// `after:2025-01-01`, `before:2026-01-01`.
    pub q: Option<String>,
    /// At most 100; 20 by default.
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

impl From<SearchError> for ApiError {
    fn from(error: SearchError) -> Self {
        match error {
            SearchError::Query(query) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", query.to_string())
            }
            SearchError::UnknownIncident(_) => ApiError::not_found("incident"),
            other => ApiError::internal(other),
        }
    }
}

/// The index, or the answer when search is not running here.
fn index(state: &AppState) -> Result<Arc<SearchIndex>, ApiError> {
    state.search.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "search_unavailable",
            "search is not running on this server",
        )
    })
}

/// Runs a search for `user`; blocking index work runs off the async threads.
pub(crate) async fn run(
    state: &AppState,
    user: &User,
    params: SearchParams,
) -> Result<SearchResults, ApiError> {
    let index = index(state)?;
    let viewer = super::viewer(state, user).await?;
    let query = params.q.unwrap_or_default();
    let limit = params
        .limit
        .unwrap_or(20)
        .clamp(1, postmortem_search::MAX_LIMIT);
    let offset = params
        .offset
        .unwrap_or(0)
        .min(postmortem_search::MAX_OFFSET);
    tokio::task::spawn_blocking(move || index.search(&query, &viewer, limit, offset))
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

/// Full-text search with snippets and facets; restricted incidents never appear for people
/// who may not see them, not even in counts.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "search",
    params(SearchParams),
    responses(
        (status = 200, description = "`{total, items: [{incident_id, title, snippet, score}], facets}`", body = super::schema::SearchResultsView),
        (status = 400, description = "The query cannot be read; the message says why", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 503, description = "Search is not running on this server", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Result<Json<SearchResults>, ApiError> {
    let Query(params) = params
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    Ok(Json(run(&state, &user, params).await?))
}

/// Query parameters of `GET /api/v1/search/suggest`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SuggestParams {
    /// The query as typed so far; its last word is read as the start of a word unless a
    /// space follows it.
    pub q: Option<String>,
    /// Incidents to suggest: at most 10; 5 by default.
    pub limit: Option<usize>,
}

/// Most incidents one suggestion answer names.
const MOST_SUGGESTED: usize = 10;

/// Suggestions while typing a search: a few incidents the query finds with its last word as
/// a prefix, and the words that complete that word, each with the whole query it makes.
/// Taken only from incidents the reader may see, exactly as search does.
#[utoipa::path(
    get, path = "/api/v1/search/suggest", tag = "search",
    params(SuggestParams),
    responses(
        (status = 200, description = "`{incidents: [{incident_id, title}], words: [{word, query}]}`", body = super::schema::SuggestionsView),
        (status = 400, description = "The query cannot be read; the message says why", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 503, description = "Search is not running on this server", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn suggest(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<SuggestParams>, QueryRejection>,
) -> Result<Json<Suggestions>, ApiError> {
    let Query(params) = params
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let index = index(&state)?;
    let viewer = super::viewer(&state, &user).await?;
    let query = params.q.unwrap_or_default();
    let limit = params.limit.unwrap_or(5).clamp(1, MOST_SUGGESTED);
    let suggestions = tokio::task::spawn_blocking(move || index.suggest(&query, &viewer, limit))
        .await
        .map_err(ApiError::internal)??;
    Ok(Json(suggestions))
}
