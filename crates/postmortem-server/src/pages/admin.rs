//! `/admin/webhooks`: outgoing webhooks and their delivery log, for admins.

use super::forms::{Fields, check_origin_and_token, csrf_field, csrf_token};
use super::layout;
use crate::api::admin::require_admin;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use postmortem_core::{User, format_instant};
use postmortem_store::Actor;

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render(&state, &user, &headers, None).await
}

async fn render(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    error: Option<&ApiError>,
) -> Result<Response, ApiError> {
    if let Err(refusal) = require_admin(user) {
        let body = html! { h1 { "Webhooks" } p.error role="alert" { (refusal.message) } };
        return Ok((refusal.status, layout("Webhooks", Some(user), body)).into_response());
    }
    let webhooks = state.store.webhooks().await?;
    let deliveries = state.store.webhook_deliveries(100).await?;
    let token = csrf_token(headers);
    let body = html! {
        h1 { "Webhooks" }
        p { "Reminders (a review or an action became overdue) and the weekly digest are POSTed as JSON with a Slack-compatible "
            code { "text" } " field, signed with HMAC-SHA256 in " code { "X-Postmortem-Signature" } "." }
        @if let Some(error) = error { p.error role="alert" { (error.message) } }
        table {
            caption { "Webhooks (" (webhooks.len()) ")" }
            thead { tr { th scope="col" { "URL" } th scope="col" { "Events" } th scope="col" { "Active" } th scope="col" { "Since" } } }
            tbody { @for webhook in &webhooks { tr {
                td { (webhook.url) } td { (webhook.events.join(", ")) } td { @if webhook.active { "yes" } @else { "no" } }
                td { (format_instant(webhook.created_at)) }
            } } }
        }
        h2 { "Add a webhook" }
        form method="post" action="/admin/webhooks" {
            (csrf_field(&token))
            p { label for="url" { "URL" } input #url name="url" type="url" required size="60" placeholder="https://hooks.example.com/postmortem"; }
            p { label for="secret" { "Signing secret (at least 16 characters, shown only now)" } input #secret name="secret" type="password" required minlength="16" autocomplete="off"; }
            fieldset {
                legend { "Events" }
                @for (value, label) in [("review.overdue", "A review became overdue"), ("action.overdue", "An action item became overdue"), ("digest", "The weekly digest")] {
                    p { input id={ "event-" (value) } type="checkbox" name="events" value=(value) checked; " " label.inline for={ "event-" (value) } { (label) } }
                }
            }
            button type="submit" { "Add webhook" }
        }
        h2 { "Delivery log" }
        table {
            caption { "The last " (deliveries.len()) " deliveries, newest first" }
            thead { tr { th scope="col" { "Event" } th scope="col" { "URL" } th scope="col" { "Status" } th scope="col" { "Attempts" } th scope="col" { "Answer" } th scope="col" { "Next attempt" } } }
            tbody { @for delivery in &deliveries { tr {
                td { (delivery.event) } td { (delivery.url) } td { (format!("{:?}", delivery.status).to_lowercase()) } td { (delivery.attempts) }
                td { @if let Some(code) = delivery.response_code { (code) " " } @if let Some(error) = &delivery.error { span.muted { (error) } } }
                td { @if let Some(at) = delivery.next_attempt_at { (format_instant(at)) } }
            } } }
        }
    };
    Ok(layout("Webhooks", Some(user), body).into_response())
}

pub(crate) async fn create(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    let created = match (
        check_origin_and_token(&headers, &fields),
        require_admin(&user),
    ) {
        (Err(error), _) | (_, Err(error)) => Err(error),
        (Ok(()), Ok(())) => state
            .store
            .create_webhook(
                Actor::user(user.id),
                &fields.get("url"),
                &fields.get("secret"),
                &fields.all("events"),
            )
            .await
            .map_err(ApiError::from),
    };
    match created {
        Ok(_) => Ok(Redirect::to("/admin/webhooks").into_response()),
        Err(error) => {
            let status = error.status;
            let mut page = render(&state, &user, &headers, Some(&error)).await?;
            *page.status_mut() = status;
            Ok(page)
        }
    }
}
