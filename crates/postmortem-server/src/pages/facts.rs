//! Correcting an incident's facts at `/incidents/{id}/facts`: the same fields as the
//! new-incident form, filled with the current facts, saved through the same service call as
//! `PATCH /api/v1/incidents/{id}`. A save from an older version changes nothing; the form
//! comes back with what was typed and the current values that differ from it, ready to save
//! again on top of the current version, so nothing is lost either way.

use super::forms::{Fields, FormView, Problem, check_origin_and_token, csrf_field, csrf_token};
use super::incident::{not_found, refusal};
use super::layout;
use super::new_incident::{fact_fields, facts_problem, names, text_field, typed_impact};
use super::submit::compose_instant;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use postmortem_app::{FactsPatch, FactsResult, ImpactPatch};
use postmortem_core::{IncidentId, Permission, User};
use postmortem_store::IncidentRecord;

/// The facts a person can see side by side when a save was refused, with their labels.
const LABELLED: &[(&str, &str)] = &[
    ("title", "Title"),
    ("kind", "Kind"),
    ("severity", "Severity"),
    ("started", "Started"),
    ("services", "Services"),
    ("teams", "Teams"),
    ("user_visible", "Users could see the problem"),
    ("customer_minutes", "Minutes customers were affected"),
    ("customers_affected", "Customers affected"),
    ("data_loss", "Some data was lost for good"),
    ("manual_intervention", "Recovery needed a person to step in"),
    ("restricted", "Only its members and admins can see it"),
];

/// The incident's current facts as the form's fields.
fn current_fields(record: &IncidentRecord) -> Fields {
    let incident = &record.incident;
    let joined = |names: &[postmortem_core::Name]| {
        names
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let offset = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    let mut fields = vec![
        ("title", incident.title.to_string()),
        ("kind", incident.kind.to_string()),
        ("severity", incident.severity.to_string()),
        ("services", joined(&incident.services)),
        ("teams", joined(&incident.teams)),
        (
            "customer_minutes",
            incident.impact.customer_minutes.to_string(),
        ),
        (
            "customers_affected",
            incident.impact.customers_affected.to_string(),
        ),
        ("base_version", incident.version.to_string()),
    ];
    if let Some(at) = incident.started_at {
        fields.push(("at_local", at.format(local).unwrap_or_default()));
        fields.push(("offset", at.offset().format(offset).unwrap_or_default()));
    }
    let flags = [
        ("user_visible", incident.impact.user_visible),
        ("data_loss", incident.impact.data_loss),
        ("manual_intervention", incident.impact.manual_intervention),
        ("restricted", incident.restricted),
    ];
    fields.extend(
        flags
            .into_iter()
            .filter(|(_, on)| *on)
            .map(|(name, _)| (name, "true".to_owned())),
    );
    Fields(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// A fact as a person reads it, from either the typed or the current fields.
fn shown(fields: &Fields, name: &str) -> String {
    let yes_no = |on: bool| if on { "yes" } else { "no" }.to_owned();
    match name {
        "user_visible" | "data_loss" | "manual_intervention" | "restricted" => {
            yes_no(fields.ticked(name))
        }
        "started" => {
            let at = compose_instant(&fields.get("at_local"), &fields.get("offset"));
            if at.is_empty() {
                "not recorded".to_owned()
            } else {
                at
            }
        }
        "services" | "teams" => names(&fields.get(name)).join(", "),
        _ => fields.get(name).trim().to_owned(),
    }
}

/// Whether this person may change who can see the incident.
fn may_restrict(user: &User, record: &IncidentRecord) -> bool {
    user.role.is_admin() || record.incident.created_by == user.id
}

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    match state
        .app
        .acting_for(&user)
        .incident(IncidentId::new(id))
        .await
        .map_err(ApiError::from)
    {
        // A viewer would fill in boxes only to have the save refused.
        Ok(_) if !user.role.may(Permission::Write) => Ok(refusal(
            &user,
            &ApiError::forbidden("correct an incident's facts"),
        )),
        Ok(record) => Ok(form_page(&state, &user, &headers, &record, None, false)),
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(not_found(&user, id)),
        Err(error) => Err(error),
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    if let Err(error) = check_origin_and_token(&headers, &fields) {
        return Ok(refusal(&user, &error));
    }
    let mut number_errors = Vec::new();
    let impact = typed_impact(&fields, &mut number_errors);
    let started_at = compose_instant(&fields.get("at_local"), &fields.get("offset"));
    let patch = FactsPatch {
        title: Some(fields.get("title")),
        kind: Some(fields.get("kind")),
        severity: Some(fields.get("severity")),
        started_at: Some(Some(started_at).filter(|s| !s.is_empty())),
        services: Some(names(&fields.get("services"))),
        teams: Some(names(&fields.get("teams"))),
        impact: Some(ImpactPatch {
            user_visible: Some(impact.user_visible),
            customer_minutes: Some(impact.customer_minutes),
            customers_affected: Some(impact.customers_affected),
            data_loss: Some(impact.data_loss),
            manual_intervention: Some(impact.manual_intervention),
        }),
        // The box is only offered to those who may change it.
        restricted: fields
            .ticked("restricted_shown")
            .then(|| fields.ticked("restricted")),
    };
    let base = fields.get("base_version").trim().parse::<i64>().ok();
    let service = state.app.acting_for(&user);
    let result = if number_errors.is_empty() {
        service
            .update_facts(IncidentId::new(id), base, patch)
            .await
            .map_err(ApiError::from)
    } else {
        Err(ApiError::invalid(number_errors))
    };
    match result {
        Ok(FactsResult::Updated(_)) => {
            Ok(Redirect::to(&format!("/incidents/{id}#part-facts")).into_response())
        }
        Ok(FactsResult::Stale(current)) => {
            let error = ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "edit_conflict",
                "Nothing was saved: someone changed this incident while you were editing. Your values are kept below, beside the current ones that differ; save again to replace them.",
            );
            let problem = Problem::new("facts", fields, error);
            Ok(form_page(
                &state,
                &user,
                &headers,
                &current,
                Some(problem),
                true,
            ))
        }
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(not_found(&user, id)),
        Err(error) if error.status == StatusCode::FORBIDDEN => Ok(refusal(&user, &error)),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => {
            let problem = facts_problem("facts", fields, error);
            let record = service.incident(IncidentId::new(id)).await?;
            Ok(form_page(
                &state,
                &user,
                &headers,
                &record,
                Some(problem),
                false,
            ))
        }
    }
}

/// The form, filled with `record`'s facts, or with what was typed when `problem` says the
/// save was refused. After a refusal for staleness (`stale`), the current values that differ
/// from the typed ones are listed, and the form saves on top of the current version.
fn form_page(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    record: &IncidentRecord,
    problem: Option<Problem>,
    stale: bool,
) -> Response {
    let id = record.incident.id;
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let current = current_fields(record);
    let form = FormView::editing("facts", problem.as_ref(), &current);
    let base_version = if stale {
        record.incident.version.to_string()
    } else {
        form.value("base_version", "")
    };
    let differences: Vec<(&str, String, String)> = match (&problem, stale) {
        (Some(problem), true) => LABELLED
            .iter()
            .filter(|(name, _)| *name != "restricted" || may_restrict(user, record))
            .map(|(name, label)| (*label, shown(&problem.fields, name), shown(&current, name)))
            .filter(|(_, typed, now)| typed != now)
            .collect(),
        _ => Vec::new(),
    };
    let body = html! {
        h1 { "Correct the facts of " a href={ "/incidents/" (id) } { (record.incident.title) } }
        p { "The post-mortem policy is evaluated again on the new facts: a post-mortem may become owed, or, while nothing is written, no longer be." }
        @if !user.role.can_write() {
            p.error role="alert" { "Changing the facts needs the contributor role." }
        }
        form.card method="post" action={ "/incidents/" (id) "/facts" } novalidate {
            (form.summary())
            @if !differences.is_empty() {
                table #facts-changed {
                    caption { "Changed by someone else, or by you" }
                    thead { tr { th scope="col" { "Fact" } th scope="col" { "Yours" } th scope="col" { "Now" } } }
                    tbody { @for (label, typed, now) in &differences { tr { th scope="row" { (label) } td { (typed) } td { (now) } } } }
                }
            }
            (csrf_field(&csrf_token(headers)))
            input type="hidden" name="base_version" value=(base_version);
            (text_field(&form, "title", "Title", "What happened, in one line", true))
            (fact_fields(&form, state.settings.severity_levels))
            @if may_restrict(user, record) {
                input type="hidden" name="restricted_shown" value="true";
                p.check {
                    input id=(form.id("restricted")) name="restricted" type="checkbox" value="true" checked[form.ticked("restricted", false)];
                    label for=(form.id("restricted")) { "Only its members and admins can see it" }
                }
            }
            button type="submit" { "Save the facts" }
            " "
            a href={ "/incidents/" (id) } { "Cancel" }
        }
    };
    (status, layout("Correct the facts", Some(user), body)).into_response()
}
