//! The new-incident form at `/incidents/new`: every create field, and per-field errors that
//! keep what was typed.

use super::forms::{Fields, FormView, Problem, check_origin_and_token, csrf_field, csrf_token};
use super::incident::{instant_fields, refusal};
use super::layout;
use super::submit::compose_instant;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use postmortem_app::IncidentInput;
use postmortem_core::{Impact, IncidentKind, User, ValidationError};

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
) -> Response {
    if !user.role.can_write() {
        // No form a person cannot submit: say who can record incidents instead.
        let body = maud::html! {
            h1 { "Record an incident" }
            p { "Your role lets you read incidents and their post-mortems, not record them. "
                "Ask an admin for the contributor role, or ask a contributor on your team to record it." }
            p { a href="/" { "Back to your home page" } }
        };
        return super::layout("Record an incident", Some(&user), body).into_response();
    }
    form_page(&state, &user, &headers, None)
}

/// Comma- or line-separated names, as typed into one box.
pub(crate) fn names(raw: &str) -> Vec<String> {
    raw.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A whole number typed into a box; blank means zero.
fn number<T: std::str::FromStr + Default>(
    fields: &Fields,
    name: &str,
    errors: &mut Vec<ValidationError>,
) -> T {
    let raw = fields.get(name);
    if raw.trim().is_empty() {
        return T::default();
    }
    raw.trim().parse().unwrap_or_else(|_| {
        errors.push(ValidationError::new(
            name,
            "must be a whole number, such as 45",
        ));
        T::default()
    })
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
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
    let input = IncidentInput {
        title: fields.get("title"),
        kind: fields.get("kind"),
        severity: fields.get("severity"),
        started_at: Some(started_at).filter(|s| !s.is_empty()),
        services: Some(names(&fields.get("services"))),
        teams: Some(names(&fields.get("teams"))),
        impact: Some(impact),
        restricted: match fields.get("restricted").as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        template: fields.given("template"),
    };
    let result = if number_errors.is_empty() {
        state
            .app
            .acting_for(&user)
            .create_incident(input)
            .await
            .map_err(ApiError::from)
    } else {
        Err(ApiError::invalid(number_errors))
    };
    match result {
        Ok(record) => {
            Ok(Redirect::to(&format!("/incidents/{}", record.incident.id)).into_response())
        }
        Err(error) if error.status == StatusCode::FORBIDDEN => Ok(refusal(&user, &error)),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => {
            let problem = facts_problem("incident", fields, error);
            Ok(form_page(&state, &user, &headers, Some(problem)))
        }
    }
}

fn form_page(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    problem: Option<Problem>,
) -> Response {
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let form = FormView::of("incident", problem.as_ref());
    let levels = state.settings.severity_levels;
    let body = html! {
        h1 { "New incident" }
        @if !user.role.can_write() {
            p.error role="alert" { "Recording incidents needs the contributor role." }
        }
        form.card method="post" action="/incidents/new" novalidate {
            (form.summary())
            (csrf_field(&csrf_token(headers)))
            (text_field(&form, "title", "Title", "What happened, in one line", true))
            (fact_fields(&form, levels))
            p {
                label for=(form.id("restricted")) { "Who can see it" }
                select id=(form.id("restricted")) name="restricted" {
                    option value="" selected[form.value("restricted", "").is_empty()] { "Default for the kind (security incidents are restricted)" }
                    option value="yes" selected[form.value("restricted", "") == "yes"] { "Only its members and admins" }
                    option value="no" selected[form.value("restricted", "") == "no"] { "Everyone" }
                }
            }
            p {
                label for=(form.id("template")) { "Template" }
                select id=(form.id("template")) name="template" aria-describedby=(form.error_id("template")) {
                    option value="" { "As the policy decides" }
                    @for template in state.settings.templates.all() {
                        option value=(template.name) selected[form.value("template", "") == template.name.as_str()] { (template.title) }
                    }
                }
                (form.error_text("template"))
            }
            button type="submit" { "Record incident" }
        }
    };
    (status, layout("New incident", Some(user), body)).into_response()
}

/// The facts of an incident as form fields, shared by the new-incident and the edit-facts
/// forms: kind, severity, start, services, teams and impact.
pub(crate) fn fact_fields(form: &FormView, levels: u8) -> Markup {
    html! {
        p {
            label for=(form.id("kind")) { "Kind" }
            select id=(form.id("kind")) name="kind" aria-describedby=(form.error_id("kind")) {
                @for kind in IncidentKind::ALL { option value=(kind) selected[form.value("kind", "outage") == kind.as_str()] { (super::words::Words::words(*kind)) } }
            }
            (form.error_text("kind"))
        }
        p {
            label for=(form.id("severity")) { "Severity" }
            select id=(form.id("severity")) name="severity" aria-describedby=(form.error_id("severity")) {
                @for level in 1..=levels {
                    @let value = format!("SEV{level}");
                    option value=(value) selected[form.value("severity", "SEV3") == value] { (value) @if level == 1 { " (worst)" } }
                }
            }
            (form.error_text("severity"))
        }
        (instant_fields(form, "Started (optional)", false))
        (text_field(form, "services", "Services", "Comma-separated, such as checkout, payments-api", false))
        (text_field(form, "teams", "Teams", "Comma-separated", false))
        fieldset {
            legend { "Impact" }
            (check(form, "user_visible", "Users could see the problem"))
            (text_field(form, "customer_minutes", "Minutes customers were affected", "", false))
            (text_field(form, "customers_affected", "Customers affected", "", false))
            (check(form, "data_loss", "Some data was lost for good"))
            (check(form, "manual_intervention", "Recovery needed a person to step in"))
        }
    }
}

/// A refused form of facts; the started-at instant is typed into the shared date-and-time
/// fields, so its errors are shown there.
pub(crate) fn facts_problem(form: &'static str, fields: Fields, error: ApiError) -> Problem {
    let mut problem = Problem::new(form, fields, error);
    for (field, _) in &mut problem.errors {
        if field == "started_at" {
            *field = "at".to_owned();
        }
    }
    problem
}

/// The impact typed into the form, with an error for each number that is not one.
pub(crate) fn typed_impact(fields: &Fields, errors: &mut Vec<ValidationError>) -> Impact {
    Impact {
        user_visible: fields.ticked("user_visible"),
        customer_minutes: number(fields, "customer_minutes", errors),
        customers_affected: number(fields, "customers_affected", errors),
        data_loss: fields.ticked("data_loss"),
        manual_intervention: fields.ticked("manual_intervention"),
    }
}

pub(crate) fn text_field(
    form: &FormView,
    name: &str,
    label: &str,
    hint: &str,
    required: bool,
) -> Markup {
    html! {
        p {
            label for=(form.id(name)) { (label) }
            @if !hint.is_empty() { span.hint id={ (form.id(name)) "-hint" } { (hint) } }
            input id=(form.id(name)) name=(name) type="text" value=(form.value(name, "")) required[required]
                aria-invalid=[form.error(name).map(|_| "true")]
                aria-describedby={ (form.error_id(name)) @if !hint.is_empty() { " " (form.id(name)) "-hint" } };
            (form.error_text(name))
        }
    }
}

fn check(form: &FormView, name: &str, label: &str) -> Markup {
    html! {
        p.check {
            input id=(form.id(name)) name=(name) type="checkbox" value="true" checked[form.ticked(name, false)];
            label for=(form.id(name)) { (label) }
        }
    }
}
