//! `/admin/integrations`: the alerting and deploy tools that send webhooks, for admins:
//! registering one (its secret shown once), the bodies received lately, replaying one, and
//! deleting an integration. Every action is one call of `postmortem-app`'s integrations.

use super::forms::{Fields, check_origin_and_token, csrf_field, csrf_token};
use super::layout;
use super::words::instant;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::get, routing::post};
use maud::{Markup, html};
use postmortem_app::{IntegrationInput, Registered};
use postmortem_core::User;
use postmortem_store::HookOutcome;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/integrations", get(page).post(register))
        .route("/admin/integrations/{id}/delete", post(delete))
        .route("/admin/integrations/deliveries/{id}/replay", post(replay))
}

/// What the page says above its lists after an action.
enum Notice {
    None,
    Error(ApiError),
    Registered(Registered),
    Done(String),
}

const KINDS: [(&str, &str); 5] = [
    ("alertmanager", "Prometheus Alertmanager"),
    ("grafana", "Grafana alerting"),
    ("pagerduty", "PagerDuty"),
    ("opsgenie", "Opsgenie"),
    ("deploy", "Deploy hook or GitHub deployments"),
];

fn kind_label(kind: &str) -> &str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

fn outcome_words(outcome: HookOutcome) -> &'static str {
    match outcome {
        HookOutcome::Applied => "Applied",
        HookOutcome::Ignored => "Nothing for a timeline",
        HookOutcome::Refused => "Refused",
    }
}

async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render(&state, &user, &headers, Notice::None).await
}

async fn render(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    notice: Notice,
) -> Result<Response, ApiError> {
    let service = state.app.acting_for(user);
    let (integrations, deliveries) = match (
        service.integrations().await,
        service.hook_deliveries(None, 30).await,
    ) {
        (Ok(integrations), Ok(deliveries)) => (integrations, deliveries),
        (Err(error), _) | (_, Err(error)) => {
            let error = ApiError::from(error);
            let body = html! { h1 { "Integrations" } p.error role="alert" { (error.message) } };
            return Ok((error.status, layout("Integrations", Some(user), body)).into_response());
        }
    };
    let token = csrf_token(headers);
    let name_of = |id: i64| {
        integrations
            .iter()
            .find(|i| i.id == id)
            .map_or_else(|| format!("#{id}"), |i| i.name.to_string())
    };
    let status = match &notice {
        Notice::Error(error) => error.status,
        _ => axum::http::StatusCode::OK,
    };
    let body = html! {
        h1 { "Integrations" }
        p { "Alerting and deploy tools send their webhooks to this server. An alert that fires or resolves becomes an entry on the open incidents of its service; a deploy is kept and offered on the incident page under “Changes before this incident”." }
        (notice_markup(&notice))
        table {
            caption { "Integrations (" (integrations.len()) ")" }
            thead { tr { th scope="col" { "Name" } th scope="col" { "Tool" } th scope="col" { "Services" } th scope="col" { "Receiver" } th scope="col" { "Since" } th scope="col" { "Delete" } } }
            tbody { @for integration in &integrations { tr {
                td { (integration.name) }
                td { (kind_label(&integration.kind)) }
                td { (integration.services.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")) }
                td { code { "/hooks/" (integration.kind) "/" (integration.id) } }
                td { (instant(integration.created_at)) }
                td { form.inline method="post" action={ "/admin/integrations/" (integration.id) "/delete" } {
                    (csrf_field(&token))
                    button type="submit" { "Delete " (integration.name) }
                } }
            } } }
        }
        h2 { "Register an integration" }
        form method="post" action="/admin/integrations" {
            (csrf_field(&token))
            p { label for="kind" { "Tool" } select #kind name="kind" { @for (value, label) in KINDS { option value=(value) { (label) } } } }
            p { label for="name" { "Name (lowercase letters, digits, - _ .)" } input #name name="name" required maxlength="64" placeholder="prod-alertmanager"; }
            p { label for="services" { "Services its alerts are about when an alert names none (comma-separated, optional)" } input #services name="services" size="40" placeholder="checkout-api, payments-db"; }
            p { label for="signing_secret" { "Signing secret: PagerDuty's (required for PagerDuty), or the secret set on a GitHub webhook (optional, deploy only)" }
                input #signing_secret name="signing_secret" type="password" minlength="16" autocomplete="off"; }
            button type="submit" { "Register integration" }
        }
        h2 { "Bodies received lately" }
        p.muted { "Kept for a while so you can see what a tool sent; replaying one applies it again, and nothing already added is added twice." }
        table {
            caption { "The last " (deliveries.len()) " bodies, newest first" }
            thead { tr { th scope="col" { "Received" } th scope="col" { "Integration" } th scope="col" { "Outcome" } th scope="col" { "Entries added" } th scope="col" { "Body" } th scope="col" { "Replay" } } }
            tbody { @for delivery in &deliveries { tr {
                td { (instant(delivery.received_at)) }
                td { (name_of(delivery.integration_id)) }
                td { (outcome_words(delivery.outcome)) @if !delivery.detail.is_empty() { br; span.muted { (delivery.detail) } } }
                td { (delivery.entries_added) }
                td { details { summary { "Body (" (delivery.body.len()) " bytes)" } pre { (delivery.body.chars().take(4000).collect::<String>()) } } }
                td { form.inline method="post" action={ "/admin/integrations/deliveries/" (delivery.id) "/replay" } {
                    (csrf_field(&token))
                    button type="submit" { "Replay body " (delivery.id) }
                } }
            } } }
        }
    };
    Ok((status, layout("Integrations", Some(user), body)).into_response())
}

fn notice_markup(notice: &Notice) -> Markup {
    html! {
        @match notice {
            Notice::None => {},
            Notice::Error(error) => p.error role="alert" { (error.message) },
            Notice::Done(message) => p role="status" { (message) },
            Notice::Registered(registered) => div.notice role="status" {
                h2 { "Registered " (registered.integration.name) }
                p { "Send to " code { (registered.path) } "." }
                @if let Some(secret) = &registered.secret {
                    p { "Its secret, shown only now (copy it into the tool; only its hash is kept): " }
                    p { code #new-secret { (secret) } }
                    p.muted { "The tool sends it as " code { "Authorization: Bearer SECRET" } "." }
                } @else {
                    p { "PagerDuty signs its deliveries with the signing secret you gave." }
                }
            },
        }
    }
}

/// The form's fields as the API's input.
fn input(fields: &Fields) -> IntegrationInput {
    IntegrationInput {
        kind: fields.get("kind"),
        name: fields.get("name"),
        services: fields
            .get("services")
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        signing_secret: fields.given("signing_secret"),
    }
}

async fn register(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let notice = match check_origin_and_token(&headers, &fields) {
        Err(error) => Notice::Error(error),
        Ok(()) => match state
            .app
            .acting_for(&user)
            .register_integration(input(&fields))
            .await
        {
            Ok(registered) => Notice::Registered(registered),
            Err(error) => Notice::Error(error.into()),
        },
    };
    render(&state, &user, &headers, notice).await
}

async fn delete(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if let Err(error) = check_origin_and_token(&headers, &Fields(fields)) {
        return render(&state, &user, &headers, Notice::Error(error)).await;
    }
    match state.app.acting_for(&user).delete_integration(id).await {
        Ok(()) => Ok(Redirect::to("/admin/integrations").into_response()),
        Err(error) => render(&state, &user, &headers, Notice::Error(error.into())).await,
    }
}

async fn replay(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    if let Err(error) = check_origin_and_token(&headers, &Fields(fields)) {
        return render(&state, &user, &headers, Notice::Error(error)).await;
    }
    let notice = match state.app.acting_for(&user).replay_delivery(id).await {
        Ok(received) => Notice::Done(format!(
            "Replayed body {id}: {} ({} timeline entr{} added).",
            received.detail,
            received.entries_added,
            if received.entries_added == 1 {
                "y"
            } else {
                "ies"
            }
        )),
        Err(error) => Notice::Error(error.into()),
    };
    render(&state, &user, &headers, notice).await
}
