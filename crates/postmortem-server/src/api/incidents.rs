//! Incidents through the API: list with filters and cursor, create, read whole with an ETag.

use super::schema::{ErrorBody, IncidentPageView, IncidentView};
use super::writing::{if_match_version, with_etag};
use super::{ApiJson, ApiPath, visibility};
use crate::auth::ApiUser;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use postmortem_app::audit::parse_bound;
use postmortem_app::{FactsPatch, FactsResult, IncidentInput};
use postmortem_core::policy::Facts;
use postmortem_core::{
    Collector, FactorCategory, IncidentId, IncidentKind, MarkerTimes, Name, PostmortemStatus,
    Severity, ValidationError, format_date,
};
use postmortem_store::{IncidentQuery, IncidentRecord, IncidentSort};
use serde::Deserialize;
use serde_json::{Value, json};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(list).post(create))
        .route("/incidents/{id}", get(read).patch(update))
}

/// Records an incident; the policy decides whether a post-mortem is owed.
#[utoipa::path(
    post, path = "/api/v1/incidents", tag = "incidents",
    request_body = IncidentInput,
    responses(
        (status = 201, description = "The new incident, with its `postmortem`", body = IncidentView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not record incidents", body = ErrorBody),
        (status = 422, description = "Invalid input: every field that was wrong, with its rule", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiJson(body): ApiJson<IncidentInput>,
) -> Result<Response, ApiError> {
    let record = state.app.acting_for(&user).create_incident(body).await?;
    let id = record.incident.id;
    let mut response = incident_response(&state, &record);
    *response.status_mut() = StatusCode::CREATED;
    response.headers_mut().insert(
        header::LOCATION,
        format!("/api/v1/incidents/{id}")
            .parse()
            .expect("a path is a valid header"),
    );
    Ok(response)
}

/// The whole incident, with an `ETag` to send back as `If-Match` when saving sections.
#[utoipa::path(
    get, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = i64, Path, description = "The incident", example = 1)),
    responses(
        (status = 200, description = "The whole incident", body = IncidentView,
         headers(("ETag" = String, description = "\"v{version}\""))),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn read(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    let record = state
        .app
        .acting_for(&user)
        .incident(IncidentId::new(id))
        .await?;
    Ok(incident_response(&state, &record))
}

/// Corrects an incident's facts; the policy is evaluated again on the new facts.
#[utoipa::path(
    patch, path = "/api/v1/incidents/{id}", tag = "incidents",
    params(("id" = i64, Path, description = "The incident"),
           ("If-Match" = String, Header, description = "The ETag the writer started from, such as \"v12\"")),
    request_body = FactsPatch,
    responses(
        (status = 200, description = "The whole incident with its new facts, the policy's new decision and reasons, and the new ETag", body = IncidentView),
        (status = 400, description = "`If-Match` is not an ETag of this server", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Viewers may not write; only admins and who recorded the incident may change `restricted`", body = ErrorBody),
        (status = 404, description = "No such incident, or restricted", body = ErrorBody),
        (status = 412, description = "The incident changed since the base version; nothing was changed, and `details` has `current_version` and the current `facts`", body = ErrorBody),
        (status = 422, description = "Invalid input: every field that was wrong, with its rule", body = ErrorBody),
        (status = 428, description = "`If-Match` is missing", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn update(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FactsPatch>,
) -> Result<Response, ApiError> {
    let service = state.app.acting_for(&user);
    let id = IncidentId::new(id);
    let base = if_match_version(&service, id, &headers).await?;
    match service.update_facts(id, base, body).await? {
        FactsResult::Updated(record) => Ok(incident_response(&state, &record)),
        FactsResult::Stale(current) => {
            let version = current.incident.version;
            let error = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "edit_conflict",
                format!(
                    "nothing was changed: the incident changed after version {}; compare with the current facts in `details` and send again with If-Match {}",
                    base.unwrap_or_default(),
                    etag(version)
                ),
            )
            .with_details(json!({"current_version": version, "facts": current.incident.facts()}));
            Ok(with_etag(error.into_response(), version))
        }
    }
}

/// The ETag of an incident: its version, which every change bumps.
pub(crate) fn etag(version: i64) -> String {
    format!("\"v{version}\"")
}

fn incident_response(state: &AppState, record: &IncidentRecord) -> Response {
    let mut response = Json(incident_json(state, record)).into_response();
    response.headers_mut().insert(
        header::ETAG,
        etag(record.incident.version)
            .parse()
            .expect("an ETag is a valid header"),
    );
    response
}

/// The whole incident as the API shows it.
pub(crate) fn incident_json(state: &AppState, record: &IncidentRecord) -> Value {
    let incident = &record.incident;
    let postmortem = &record.postmortem;
    // The decision recorded with the incident; incidents recorded before decisions were
    // stored get the current policy's answer.
    let decision = record.decision.clone().unwrap_or_else(|| {
        let decided = state.settings.policy.decide(&Facts {
            kind: incident.kind,
            severity: incident.severity,
            impact: incident.impact,
        });
        postmortem_store::PolicyDecision {
            decision: decided.decision,
            reasons: decided.reasons,
        }
    });
    let markers = MarkerTimes::from_entries(&record.timeline);
    let minutes = |d: Option<time::Duration>| d.map(|d| d.whole_minutes());
    let sections: serde_json::Map<String, Value> = postmortem
        .sections
        .iter()
        .map(|(name, section)| (name.to_string(), Value::String(section.body.to_string())))
        .collect();
    let section_versions: serde_json::Map<String, Value> = postmortem
        .sections
        .iter()
        .map(|(name, section)| (name.to_string(), json!(section.version)))
        .collect();
    let mut value = serde_json::to_value(incident).expect("an incident serialises");
    let object = value
        .as_object_mut()
        .expect("an incident serialises to an object");
    object.insert(
        "durations".into(),
        json!({
            "markers": markers,
            "time_to_detect_minutes": minutes(markers.time_to_detect()),
            "time_to_mitigate_minutes": minutes(markers.time_to_mitigate()),
            "time_to_resolve_minutes": minutes(markers.time_to_resolve()),
        }),
    );
    object.insert(
        "postmortem".into(),
        json!({
            "status": postmortem.status,
            "template": postmortem.template,
            "due_on": postmortem.due_on.map(format_date),
            "decision": decision.decision,
            "required_reasons": decision.reasons,
            "sections": sections,
            "section_versions": section_versions,
            "version": postmortem.version,
        }),
    );
    object.insert("timeline".into(), json!(record.timeline));
    object.insert("factors".into(), json!(record.factors));
    object.insert("actions".into(), json!(record.actions));
    object.insert("reviews".into(), json!(record.reviews));
    let comments: Vec<serde_json::Value> = postmortem_app::place_comments(record)
        .into_iter()
        .map(|placed| {
            let mut comment = json!(placed.comment);
            comment["anchor"] = json!(placed.anchoring.as_ref().map(|a| a.as_str()));
            comment["passage"] = json!(placed.passage);
            comment
        })
        .collect();
    object.insert("comments".into(), json!(comments));
    object.insert("revisions".into(), json!(record.revisions));
    object.insert("members".into(), json!(record.members));
    value
}

/// Query parameters of `GET /api/v1/incidents`.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListParams {
    /// Post-mortem status, such as `owed` or `published`.
    #[param(schema_with = postmortem_app::vocabulary::postmortem_status)]
    pub status: Option<String>,
    #[param(schema_with = postmortem_app::vocabulary::severity)]
    pub severity: Option<String>,
    #[param(schema_with = postmortem_app::vocabulary::incident_kind)]
    pub kind: Option<String>,
    #[param(schema_with = postmortem_app::vocabulary::name)]
    pub service: Option<String>,
    #[param(schema_with = postmortem_app::vocabulary::name)]
    pub team: Option<String>,
    /// Incidents with a contributing factor of this category, such as `alerting`.
    #[param(schema_with = postmortem_app::vocabulary::factor_category)]
    pub factor: Option<String>,
    /// Started on or after this date (`YYYY-MM-DD`) or instant.
    pub from: Option<String>,
    /// Started before this date or instant.
    pub until: Option<String>,
    /// Words in the title.
    pub q: Option<String>,
    /// `newest` (default), `oldest` or `severity`.
    #[param(schema_with = postmortem_app::vocabulary::incident_sort)]
    pub sort: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

impl ListParams {
    pub(crate) fn into_query(
        self,
        user: &postmortem_core::User,
        severity_levels: u8,
    ) -> Result<IncidentQuery, ApiError> {
        let mut query = IncidentQuery::new(visibility(user));
        let mut errors = Collector::default();
        let blank = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        query.status = blank(&self.status).and_then(|s| errors.ok(PostmortemStatus::parse(&s)));
        query.severity = blank(&self.severity)
            .and_then(|s| errors.ok(Severity::parse_in_scale(&s, severity_levels)));
        query.kind = blank(&self.kind).and_then(|s| errors.ok(IncidentKind::parse(&s)));
        query.service =
            blank(&self.service).and_then(|s| errors.ok(Name::parse_field("service", s)));
        query.team = blank(&self.team).and_then(|s| errors.ok(Name::parse_field("team", s)));
        query.factor = blank(&self.factor).and_then(|s| errors.ok(FactorCategory::parse(&s)));
        query.from = blank(&self.from).and_then(|s| errors.ok(parse_bound("from", &s)));
        query.until = blank(&self.until).and_then(|s| errors.ok(parse_bound("until", &s)));
        query.title_contains = blank(&self.q);
        query.sort = match blank(&self.sort).as_deref() {
            None | Some("newest") => IncidentSort::Newest,
            Some("oldest") => IncidentSort::Oldest,
            Some("severity") => IncidentSort::Severity,
            Some(other) => {
                errors.push(ValidationError::new(
                    "sort",
                    format!("`{other}` is not one of: newest, oldest, severity"),
                ));
                IncidentSort::Newest
            }
        };
        match self.limit {
            Some(limit) if !(1..=200).contains(&limit) => {
                errors.push(ValidationError::new("limit", "must be between 1 and 200"));
            }
            Some(limit) => query.limit = limit,
            None => {}
        }
        query.cursor = blank(&self.cursor);
        if errors.is_empty() {
            Ok(query)
        } else {
            Err(ApiError::invalid(errors.into_errors()))
        }
    }
}

/// Lists incidents with filters, newest first unless sorted otherwise, a page at a time.
#[utoipa::path(
    get, path = "/api/v1/incidents", tag = "incidents",
    params(ListParams),
    responses(
        (status = 200, description = "A page of incidents", body = IncidentPageView),
        (status = 400, description = "A malformed query or a foreign cursor", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "Invalid filters", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    ApiUser(user): ApiUser,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params
        .map_err(|r| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", r.body_text()))?;
    let query = params.into_query(&user, state.settings.severity_levels)?;
    let page = state.store.list_incidents(&query).await?;
    let items: Vec<Value> = page
        .items
        .iter()
        .map(|summary| {
            let mut item = serde_json::to_value(&summary.incident).expect("an incident serialises");
            item["postmortem"] = json!({
                "status": summary.status,
                "template": summary.template,
                "due_on": summary.due_on.map(format_date),
            });
            item
        })
        .collect();
    Ok(Json(
        json!({"items": items, "next_cursor": page.next_cursor, "total": page.total}),
    ))
}
