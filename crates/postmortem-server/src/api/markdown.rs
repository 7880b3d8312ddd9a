//! `GET /api/v1/incidents/{id}/markdown`: an incident as the Markdown file `postmortem export`
//! writes, or its external (customer-facing) version.

use super::ApiPath;
use super::audit::invalid_query;
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use postmortem_app::export::{People, document_of};
use postmortem_app::external::SUGGESTED_SECTIONS;
use postmortem_core::{IncidentId, SectionName};
use postmortem_markdown::{ExternalSpec, external, render};
use serde::Deserialize;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/incidents/{id}/markdown", get(markdown))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MarkdownParams {
    /// `internal` (the default): the whole incident as `postmortem export` writes it.
    /// `external`: the customer-facing version, without names or internal details.
    #[param(example = "external")]
    audience: Option<String>,
    /// For `external`: the sections to share, comma-separated (`timeline` and `action_items`
    /// may be chosen too). Default: summary, impact, detection, recovery, lessons, action_items.
    #[param(example = "summary,impact,timeline")]
    sections: Option<String>,
}

/// The incident as Markdown, with YAML front matter carrying every fact; or, with
/// `audience=external`, the customer-facing version.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}/markdown", tag = "incidents",
    params(("id" = i64, Path, description = "The incident", example = 1), MarkdownParams),
    responses(
        (status = 200, description = "The incident as a Markdown file", content_type = "text/markdown", body = String),
        (status = 400, description = "Unknown audience or section name", body = super::schema::ErrorBody),
        (status = 401, description = "Not signed in", body = super::schema::ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = super::schema::ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn markdown(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    params: Result<Query<MarkdownParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(invalid_query)?;
    let external_sections = match params.audience.as_deref().unwrap_or("internal") {
        "internal" => None,
        "external" => Some(sections(params.sections.as_deref())?),
        other => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("audience `{other}` is not one of: internal, external"),
            ));
        }
    };
    let record = state
        .app
        .acting_for(&user)
        .incident(IncidentId::new(id))
        .await?;
    let people = People::load(state.store.as_ref()).await?;
    let document = document_of(&record, &people);
    let text = match external_sections {
        None => render(&document, &state.settings.templates),
        Some(chosen) => {
            let spec = ExternalSpec {
                sections: chosen,
                ..ExternalSpec::default()
            };
            external(
                &document,
                &spec,
                &people.as_roles(),
                &state.settings.templates,
            )
            .markdown
        }
    };
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        text,
    )
        .into_response())
}

fn sections(raw: Option<&str>) -> Result<Vec<SectionName>, ApiError> {
    let names: Vec<&str> = match raw {
        Some(raw) => raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
        None => SUGGESTED_SECTIONS.to_vec(),
    };
    names
        .into_iter()
        .map(|name| {
            SectionName::parse(name).map_err(|error| {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", error.to_string())
            })
        })
        .collect()
}
