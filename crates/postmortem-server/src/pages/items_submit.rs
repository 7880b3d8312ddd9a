//! The handlers behind the correction forms of the incident page: each parses the form,
//! calls one [`Service`] function (the API's), and answers 303 back to the item's part of
//! the page, or the page again with the typed values and errors beside the item (422).

use super::forms::Fields;
use super::incident_form::IncidentForm;
use super::submit::timeline_instant;
use crate::{ApiError, AppState};
use axum::response::Response;
use axum::{Router, routing::post};
use postmortem_app::{ActionPatch, FactorPatch, TimelinePatch};
use postmortem_core::{ActionId, FactorId, TimelineEntryId};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/timeline/{entry_id}", post(timeline_update))
        .route(
            "/incidents/{id}/timeline/{entry_id}/remove",
            post(timeline_remove),
        )
        .route("/incidents/{id}/factors/{factor_id}", post(factor_update))
        .route(
            "/incidents/{id}/factors/{factor_id}/remove",
            post(factor_remove),
        )
        .route("/incidents/{id}/actions/{action_id}", post(action_update))
        .route(
            "/incidents/{id}/actions/{action_id}/remove",
            post(action_remove),
        )
}

/// A form about one item of an incident: `/incidents/{id}/<things>/{item_id}`.
type ItemForm = IncidentForm<(i64, i64)>;

/// A blank optional field clears the value.
fn optional(fields: &Fields, name: &str) -> Option<Option<String>> {
    Some(fields.given(name))
}

async fn timeline_update(form: ItemForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let patch = TimelinePatch {
        at: Some(timeline_instant(fields)),
        text: Some(fields.get("text")),
        actor: optional(fields, "actor"),
        marker: optional(fields, "marker"),
        perspective: fields.given("perspective"),
        source: None,
        source_url: optional(fields, "source_url"),
    };
    let entry = TimelineEntryId::new(form.path.1);
    let result = form
        .app()
        .update_timeline_entry(form.incident(), entry, patch)
        .await;
    form.answer("timeline-edit", "timeline", result).await
}

async fn factor_update(form: ItemForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let patch = FactorPatch {
        category: Some(fields.get("category")),
        description: Some(fields.get("description")),
        is_trigger: Some(fields.ticked("is_trigger")),
        replace_trigger: Some(fields.ticked("replace_trigger")),
    };
    let factor = FactorId::new(form.path.1);
    let result = form
        .app()
        .update_factor(form.incident(), factor, patch)
        .await;
    form.answer("factor-edit", "factors", result).await
}

/// The whole correction form of an action item. The older one-line status form sends only
/// `status` and `wont_do_reason`, so fields that were not sent stay as they are.
async fn action_update(form: ItemForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let sent = |name: &str| fields.0.iter().any(|(k, _)| k == name);
    let patch = ActionPatch {
        title: sent("title").then(|| fields.get("title")),
        kind: fields.given("kind"),
        priority: fields.given("priority"),
        status: fields.given("status"),
        wont_do_reason: fields.given("wont_do_reason"),
        owner: sent("owner").then(|| fields.given("owner")),
        due_on: sent("due_on").then(|| fields.given("due_on")),
        verification: fields.given("verification"),
    };
    let result = form
        .app()
        .update_action(ActionId::new(form.path.1), patch)
        .await;
    form.answer("action-edit", "actions", result).await
}

async fn timeline_remove(form: ItemForm) -> Result<Response, ApiError> {
    let entry = TimelineEntryId::new(form.path.1);
    let result = form
        .app()
        .remove_timeline_entry(form.incident(), entry)
        .await;
    form.answer("timeline-edit", "timeline", result).await
}

async fn factor_remove(form: ItemForm) -> Result<Response, ApiError> {
    let factor = FactorId::new(form.path.1);
    let result = form.app().remove_factor(form.incident(), factor).await;
    form.answer("factor-edit", "factors", result).await
}

async fn action_remove(form: ItemForm) -> Result<Response, ApiError> {
    let result = form.app().remove_action(ActionId::new(form.path.1)).await;
    form.answer("action-edit", "actions", result).await
}
