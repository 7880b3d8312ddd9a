//! The handlers behind the correction forms of the incident page: each parses the form,
//! calls one [`Service`] function (the API's), and answers 303 back to the item's part of
//! the page, or the page again with the typed values and errors beside the item (422).

use super::forms::Fields;
use super::incident::refusal;
use super::submit::{Sent, checked, compose_instant, respond};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Form, Router, routing::post};
use postmortem_app::{ActionPatch, FactorPatch, TimelinePatch};
use postmortem_core::{ActionId, FactorId, IncidentId, TimelineEntryId};

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

/// Which item of which incident a form was about.
type ItemPath = Path<(i64, i64)>;

/// A blank optional field clears the value.
fn optional(fields: &Fields, name: &str) -> Option<Option<String>> {
    Some(fields.given(name))
}

async fn finish(
    state: &AppState,
    user: &postmortem_core::User,
    headers: &HeaderMap,
    (id, item): (i64, i64),
    (form, anchor): (&'static str, &'static str),
    fields: Fields,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    let sent = Sent {
        form,
        anchor,
        fields,
        item: Some(item),
    };
    respond(state, user, headers, id, sent, result).await
}

async fn timeline_update(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, item)): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let patch = TimelinePatch {
        at: Some(compose_instant(
            &fields.get("at_local"),
            &fields.get("offset"),
        )),
        text: Some(fields.get("text")),
        actor: optional(&fields, "actor"),
        marker: optional(&fields, "marker"),
        perspective: fields.given("perspective"),
        source: None,
        source_url: optional(&fields, "source_url"),
    };
    let result = state
        .app
        .acting_for(&user)
        .update_timeline_entry(IncidentId::new(id), TimelineEntryId::new(item), patch)
        .await
        .map_err(ApiError::from)
        .map(drop);
    let form = ("timeline-edit", "timeline");
    finish(&state, &user, &headers, (id, item), form, fields, result).await
}

async fn factor_update(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, item)): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let patch = FactorPatch {
        category: Some(fields.get("category")),
        description: Some(fields.get("description")),
        is_trigger: Some(fields.ticked("is_trigger")),
        replace_trigger: Some(fields.ticked("replace_trigger")),
    };
    let result = state
        .app
        .acting_for(&user)
        .update_factor(IncidentId::new(id), FactorId::new(item), patch)
        .await
        .map_err(ApiError::from)
        .map(drop);
    let form = ("factor-edit", "factors");
    finish(&state, &user, &headers, (id, item), form, fields, result).await
}

/// The whole correction form of an action item. The older one-line status form sends only
/// `status` and `wont_do_reason`, so fields that were not sent stay as they are.
async fn action_update(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, item)): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
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
    let result = state
        .app
        .acting_for(&user)
        .update_action(ActionId::new(item), patch)
        .await
        .map_err(ApiError::from)
        .map(drop);
    let form = ("action-edit", "actions");
    finish(&state, &user, &headers, (id, item), form, fields, result).await
}

/// What a remove button removes.
#[derive(Debug, Clone, Copy)]
enum Removed {
    Entry,
    Factor,
    Action,
}

async fn remove(
    state: &AppState,
    user: &postmortem_core::User,
    headers: &HeaderMap,
    (id, item): (i64, i64),
    fields: Vec<(String, String)>,
    what: Removed,
) -> Result<Response, ApiError> {
    let fields = match checked(headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(user, &error)),
    };
    let service = state.app.acting_for(user);
    let incident = IncidentId::new(id);
    let (result, form) = match what {
        Removed::Entry => (
            service
                .remove_timeline_entry(incident, TimelineEntryId::new(item))
                .await
                .map_err(ApiError::from),
            ("timeline-edit", "timeline"),
        ),
        Removed::Factor => (
            service
                .remove_factor(incident, FactorId::new(item))
                .await
                .map_err(ApiError::from),
            ("factor-edit", "factors"),
        ),
        Removed::Action => (
            service
                .remove_action(ActionId::new(item))
                .await
                .map_err(ApiError::from),
            ("action-edit", "actions"),
        ),
    };
    finish(state, user, headers, (id, item), form, fields, result).await
}

async fn timeline_remove(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    remove(&state, &user, &headers, path, fields, Removed::Entry).await
}

async fn factor_remove(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    remove(&state, &user, &headers, path, fields, Removed::Factor).await
}

async fn action_remove(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(path): ItemPath,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    remove(&state, &user, &headers, path, fields, Removed::Action).await
}
