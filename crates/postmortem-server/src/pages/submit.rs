//! The forms of the incident page: each posts to a path under `/incidents/{id}`, goes through
//! the same [`Service`] call as the API, and answers 303 back to the page on success or the
//! page again with the form's values and errors (422) when refused.

use super::forms::{Fields, Problem, check_origin_and_token};
use super::incident::{not_found, refusal, render};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router, routing::post};
use postmortem_app::{ActionInput, CommentInput, FactorInput, TimelineInput, TransitionInput};
use postmortem_core::{CommentId, IncidentId, User};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/timeline", post(timeline))
        .route("/incidents/{id}/factors", post(factor))
        .route("/incidents/{id}/actions", post(action))
        .route("/incidents/{id}/transitions", post(transition))
        .route("/incidents/{id}/comments", post(comment))
        .route(
            "/incidents/{id}/comments/{comment_id}/resolve",
            post(resolve),
        )
        .route("/incidents/{id}/members", post(member_add))
        .route(
            "/incidents/{id}/members/{handle}/remove",
            post(member_remove),
        )
}

/// Names a person on the incident (`handle` from the form) or takes them off (`handle` in
/// the path), then goes back to the page's "Who may see it".
async fn change_member(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    id: i64,
    handle: &str,
    fields: Vec<(String, String)>,
    named: bool,
) -> Result<Response, ApiError> {
    let fields = match checked(headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(user, &error)),
    };
    let result = state
        .app
        .acting_for(user)
        .set_incident_member(IncidentId::new(id), handle, named)
        .await
        .map_err(ApiError::from)
        .map(drop);
    let sent = Sent {
        form: "member",
        anchor: "members",
        fields,
        item: None,
    };
    respond(state, user, headers, id, sent, result).await
}

async fn member_add(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let handle = Fields(fields.clone()).get("handle");
    change_member(&state, &user, &headers, id, &handle, fields, true).await
}

async fn member_remove(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, handle)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    change_member(&state, &user, &headers, id, &handle, fields, false).await
}

/// Joins a `datetime-local` value and an offset into an RFC 3339 instant. A blank date stays
/// blank, so the service reports the missing instant.
pub(crate) fn compose_instant(local: &str, offset: &str) -> String {
    let local = local.trim();
    if local.is_empty() {
        return String::new();
    }
    // Browsers send `2026-03-01T14:05` when the seconds are zero.
    let seconds = if local.len() == 16 { ":00" } else { "" };
    format!("{local}{seconds}{}", offset.trim())
}

/// Which form was sent, and where on the page to return to after it succeeded.
pub(super) struct Sent {
    pub form: &'static str,
    pub anchor: &'static str,
    pub fields: Fields,
    /// The item the form edits, when the page has one such form per item.
    pub item: Option<i64>,
}

/// What every form handler does with the service's answer.
pub(super) async fn respond(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    id: i64,
    sent: Sent,
    result: Result<(), ApiError>,
) -> Result<Response, ApiError> {
    let Sent {
        form,
        anchor,
        fields,
        item,
    } = sent;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/incidents/{id}#{anchor}")).into_response()),
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(not_found(user, id)),
        Err(error) if error.status == StatusCode::FORBIDDEN => Ok(refusal(user, &error)),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => {
            render(
                state,
                user,
                headers,
                id,
                Some(Problem {
                    item,
                    ..Problem::new(form, fields, error)
                }),
            )
            .await
        }
    }
}

/// The fields of a form, or the refusal when it did not come from our own page.
pub(super) fn checked(
    headers: &HeaderMap,
    fields: Vec<(String, String)>,
) -> Result<Fields, ApiError> {
    let fields = Fields(fields);
    check_origin_and_token(headers, &fields)?;
    Ok(fields)
}

async fn timeline(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let input = TimelineInput {
        at: compose_instant(&fields.get("at_local"), &fields.get("offset")),
        text: fields.get("text"),
        actor: fields.given("actor"),
        marker: fields.given("marker"),
        perspective: fields.given("perspective"),
        source: None,
        source_url: fields.given("source_url"),
    };
    let result = state
        .app
        .acting_for(&user)
        .add_timeline_entry(IncidentId::new(id), input)
        .await
        .map_err(ApiError::from)
        .map(drop);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "timeline",
            anchor: "timeline",
            fields,
            item: None,
        },
        result,
    )
    .await
}

async fn factor(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let input = FactorInput {
        category: fields.get("category"),
        description: fields.get("description"),
        is_trigger: Some(fields.ticked("is_trigger")),
        replace_trigger: Some(fields.ticked("replace_trigger")),
    };
    let result = state
        .app
        .acting_for(&user)
        .add_factor(IncidentId::new(id), input)
        .await
        .map_err(ApiError::from)
        .map(drop);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "factor",
            anchor: "factors",
            fields,
            item: None,
        },
        result,
    )
    .await
}

async fn action(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let factor_ids: Result<Vec<i64>, _> =
        fields.all("factor_ids").iter().map(|v| v.parse()).collect();
    let input = ActionInput {
        title: fields.get("title"),
        owner: fields.given("owner"),
        team: fields.given("team"),
        due_on: fields.given("due_on"),
        priority: fields.given("priority"),
        kind: fields.get("kind"),
        status: None,
        wont_do_reason: None,
        external_url: fields.given("external_url"),
        // The checkboxes carry ids this page rendered; anything else is refused by the store.
        factor_ids: Some(factor_ids.unwrap_or_default()),
        verification: fields.given("verification"),
    };
    let result = state
        .app
        .acting_for(&user)
        .add_action(IncidentId::new(id), input)
        .await
        .map_err(ApiError::from)
        .map(drop);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "action",
            anchor: "actions",
            fields,
            item: None,
        },
        result,
    )
    .await
}

async fn transition(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let input = TransitionInput {
        to: fields.get("to"),
        reviewers: Some(fields.all("reviewers")),
        comment: fields.given("comment"),
        confirm_findings: Some(fields.ticked("confirm_findings")),
    };
    let result = state
        .app
        .acting_for(&user)
        .transition(IncidentId::new(id), input)
        .await
        .map_err(ApiError::from)
        .map(drop);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "transition",
            anchor: "review",
            fields,
            item: None,
        },
        result,
    )
    .await
}

async fn comment(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let input = CommentInput {
        section: fields.get("section"),
        body: fields.get("body"),
    };
    let result = state
        .app
        .acting_for(&user)
        .add_comment(IncidentId::new(id), input)
        .await
        .map_err(ApiError::from)
        .map(drop);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "comment",
            anchor: "review",
            fields,
            item: None,
        },
        result,
    )
    .await
}

async fn resolve(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, comment_id)): Path<(i64, i64)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = match checked(&headers, fields) {
        Ok(fields) => fields,
        Err(error) => return Ok(refusal(&user, &error)),
    };
    let result = state
        .app
        .acting_for(&user)
        .resolve_comment(IncidentId::new(id), CommentId::new(comment_id))
        .await
        .map_err(ApiError::from);
    respond(
        &state,
        &user,
        &headers,
        id,
        Sent {
            form: "comment",
            anchor: "review",
            fields,
            item: None,
        },
        result,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::compose_instant;

    #[test]
    fn a_local_time_and_an_offset_make_an_instant() {
        assert_eq!(
            compose_instant("2026-03-01T14:05", "+01:00"),
            "2026-03-01T14:05:00+01:00"
        );
        assert_eq!(
            compose_instant("2026-03-01T14:05:30", "-05:30"),
            "2026-03-01T14:05:30-05:30"
        );
        assert_eq!(compose_instant(" ", "+01:00"), "");
    }
}
