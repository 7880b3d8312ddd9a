//! The JSON API under `/api/v1`.

pub(crate) mod access;
pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod external;
pub(crate) mod follow_through;
pub(crate) mod import;
pub(crate) mod incidents;
pub(crate) mod integrations;
pub(crate) mod items;
pub(crate) mod lint;
pub(crate) mod markdown;
pub(crate) mod openapi;
pub(crate) mod schema;
pub(crate) mod search;
pub(crate) mod tokens;
pub(crate) mod writing;

use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use postmortem_search::Viewer;
use postmortem_store::Visibility;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/openapi.json", get(openapi::document))
        .merge(incidents::routes())
        .merge(writing::routes())
        .merge(items::routes())
        .merge(follow_through::routes())
        .merge(admin::routes())
        .merge(integrations::routes())
        .merge(audit::routes())
        .merge(access::routes())
        .merge(search::routes())
        .merge(lint::routes())
        .merge(markdown::routes())
        .merge(external::routes())
        .merge(import::routes())
        .merge(tokens::routes())
}

/// A JSON body whose rejections speak the API's error shape.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub(crate) struct ApiJson<T>(pub T);

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let status = match rejection {
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            JsonRejection::JsonSyntaxError(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        ApiError::new(status, "invalid_json", rejection.body_text())
    }
}

/// Path parameters whose rejections speak the API's error shape. A segment that is not an
/// id (`/incidents/abc`, or a number too large for one) names nothing, so it is a 404 like
/// an id that does not exist.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub(crate) struct ApiPath<T>(pub T);

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{}; ids are whole numbers", rejection.body_text()),
        )
    }
}

pub(crate) use postmortem_app::visibility;

/// Whose eyes a search is for: the same rule as [`visibility`], with the teams the person
/// belongs to now, which the index matches against the teams restricted incidents name, and
/// without the incidents the store says they may no longer see while the index has not
/// caught up with that change yet.
pub(crate) async fn viewer(
    state: &AppState,
    user: &postmortem_core::User,
) -> Result<Viewer, ApiError> {
    Ok(match visibility(user) {
        Visibility::Everything => Viewer::Everything,
        Visibility::Person(id) => {
            let viewer = Viewer::person(id, state.store.teams_of(id).await?);
            match &state.search {
                Some(index) => viewer.hiding(index.hidden_from(state.store.as_ref(), id).await?),
                None => viewer,
            }
        }
    })
}

/// The signed-in person.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "people",
    responses(
        (status = 200, description = "Who the token or session belongs to", body = schema::UserView),
        (status = 401, description = "Not signed in", body = schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn me(ApiUser(user): ApiUser) -> Json<postmortem_core::User> {
    Json(user)
}
