//! The forms of the incident page: each posts to a path under `/incidents/{id}`, goes through
//! the same [`Service`] call as the API, and answers 303 back to the page on success or the
//! page again with the form's values and errors (422) when refused.

use super::forms::Fields;
use super::incident_form::{FormPath, IncidentForm};
use crate::{ApiError, AppState};
use axum::response::Response;
use axum::{Router, routing::post};
use postmortem_app::{
    ActionInput, CommentInput, FactorInput, QuoteInput, TimelineInput, TransitionInput,
};
use postmortem_core::CommentId;
use serde::Deserialize;

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
        .route("/incidents/{id}/comments/{comment_id}/reopen", post(reopen))
        .route("/incidents/{id}/members", post(member_add))
        .route(
            "/incidents/{id}/members/{handle}/remove",
            post(member_remove),
        )
}

/// Names a person on the incident, then goes back to the page's "Who may see it".
async fn member_add(form: IncidentForm) -> Result<Response, ApiError> {
    let handle = form.fields.get("handle");
    let result = form
        .app()
        .set_incident_member(form.incident(), &handle, true)
        .await;
    form.answer("member", "members", result).await
}

/// Takes the person named in the path off the incident.
async fn member_remove(form: IncidentForm<(i64, String)>) -> Result<Response, ApiError> {
    let result = form
        .app()
        .set_incident_member(form.incident(), &form.path.1, false)
        .await;
    form.answer("member", "members", result).await
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

/// The instant of a timeline form: its local date and time with the offset the page chose.
pub(super) fn timeline_instant(fields: &Fields) -> String {
    compose_instant(&fields.get("at_local"), &fields.get("offset"))
}

async fn timeline(form: IncidentForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let input = TimelineInput {
        at: timeline_instant(fields),
        text: fields.get("text"),
        actor: fields.given("actor"),
        marker: fields.given("marker"),
        perspective: fields.given("perspective"),
        source: None,
        source_url: fields.given("source_url"),
    };
    let result = form.app().add_timeline_entry(form.incident(), input).await;
    form.answer("timeline", "timeline", result).await
}

async fn factor(form: IncidentForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let input = FactorInput {
        category: fields.get("category"),
        description: fields.get("description"),
        is_trigger: Some(fields.ticked("is_trigger")),
        replace_trigger: Some(fields.ticked("replace_trigger")),
    };
    let result = form.app().add_factor(form.incident(), input).await;
    form.answer("factor", "factors", result).await
}

async fn action(form: IncidentForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
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
    let result = form.app().add_action(form.incident(), input).await;
    form.answer("action", "actions", result).await
}

async fn transition(form: IncidentForm) -> Result<Response, ApiError> {
    let fields = &form.fields;
    let input = TransitionInput {
        to: fields.get("to"),
        reviewers: Some(fields.all("reviewers")),
        comment: fields.given("comment"),
        confirm_findings: Some(fields.ticked("confirm_findings")),
    };
    let result = form.app().transition(form.incident(), input).await;
    form.answer("transition", "review", result).await
}

async fn comment(form: IncidentForm) -> Result<Response, ApiError> {
    // A quote typed or selected on the page; without its words the comment is about the
    // whole section.
    let exact = form.fields.get("quote");
    let quote = (!exact.trim().is_empty()).then(|| QuoteInput {
        exact,
        prefix: form.fields.get("quote_prefix"),
        suffix: form.fields.get("quote_suffix"),
    });
    let input = CommentInput {
        section: form.fields.get("section"),
        body: form.fields.get("body"),
        quote,
    };
    let result = form.app().add_comment(form.incident(), input).await;
    form.answer("comment", "review", result).await
}

/// `/incidents/{id}/comments/{comment_id}/resolve`: the comment form's errors show at the
/// review, not beside one comment.
#[derive(Deserialize)]
struct OnComment {
    id: i64,
    comment_id: i64,
}

impl FormPath for OnComment {
    fn incident(&self) -> i64 {
        self.id
    }
}

async fn resolve(form: IncidentForm<OnComment>) -> Result<Response, ApiError> {
    let comment = CommentId::new(form.path.comment_id);
    let result = form
        .app()
        .set_comment_resolved(form.incident(), comment, true)
        .await;
    form.answer("comment", "review", result).await
}

/// `/incidents/{id}/comments/{comment_id}/reopen`: a resolved comment is open again.
async fn reopen(form: IncidentForm<OnComment>) -> Result<Response, ApiError> {
    let comment = CommentId::new(form.path.comment_id);
    let result = form
        .app()
        .set_comment_resolved(form.incident(), comment, false)
        .await;
    form.answer("comment", "review", result).await
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
