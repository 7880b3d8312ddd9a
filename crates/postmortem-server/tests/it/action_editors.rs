//! Who may change an action item: its owner, the incident's authors (who recorded it, wrote
//! a section or added to the timeline), its requested reviewers and admins; anyone else gets
//! 403 through the API and no edit form on the page, whatever their role.

use crate::common::{TestApp, csrf_of};
use axum::http::StatusCode;
use serde_json::json;
use std::collections::HashMap;

struct Cast {
    app: TestApp,
    tokens: HashMap<&'static str, String>,
    incident: i64,
    action: String,
}

/// Dana records the incident, Wes writes its summary, Tim adds a timeline entry, Rae is asked
/// to review, and the action item belongs to Omar. Carl (contributor), Rob (a reviewer not
/// asked) and Ada (admin) have no part in it.
async fn cast() -> Cast {
    let app = TestApp::new().await;
    let mut tokens = HashMap::new();
    for (handle, role) in [
        ("dana", "contributor"),
        ("wes", "contributor"),
        ("tim", "contributor"),
        ("omar", "contributor"),
        ("carl", "contributor"),
        ("rae", "reviewer"),
        ("rob", "reviewer"),
        ("ada", "admin"),
    ] {
        tokens.insert(handle, app.person(handle, role).await);
    }
    let id = app.incident(&tokens["dana"]).await;
    let etag = app.etag(id, &tokens["wes"]).await;
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &tokens["wes"],
            Some(&etag),
            json!({"sections": {"summary": "Checkout failed for 47 minutes."}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let entry = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &tokens["tim"],
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert fired"}),
        )
        .await;
    assert_eq!(entry.status, StatusCode::CREATED, "{}", entry.body);
    let review = app
        .post_json(
            &format!("/api/v1/incidents/{id}/postmortem/transitions"),
            &tokens["dana"],
            json!({"to": "in_review", "reviewers": ["rae"]}),
        )
        .await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    let action = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &tokens["dana"],
            json!({"title": "Alert on pool saturation", "owner": "omar", "kind": "detect"}),
        )
        .await;
    assert_eq!(action.status, StatusCode::CREATED, "{}", action.body);
    Cast {
        action: format!("/api/v1/actions/{}", action.json()["id"]),
        incident: id,
        tokens,
        app,
    }
}

impl Cast {
    async fn edit_as(&self, handle: &str) -> (StatusCode, String) {
        let reply = self
            .app
            .patch_json(
                &self.action,
                &self.tokens[handle],
                None,
                json!({"verification": format!("checked by {handle}")}),
            )
            .await;
        (reply.status, reply.body)
    }
}

#[tokio::test]
async fn the_owner_may_change_an_action_item() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("omar").await.0, StatusCode::OK);
}

#[tokio::test]
async fn whoever_recorded_the_incident_may_change_its_action_items() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("dana").await.0, StatusCode::OK);
}

#[tokio::test]
async fn whoever_wrote_a_section_may_change_its_action_items() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("wes").await.0, StatusCode::OK);
}

#[tokio::test]
async fn whoever_added_to_the_timeline_may_change_its_action_items() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("tim").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_requested_reviewer_may_change_its_action_items() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("rae").await.0, StatusCode::OK);
}

#[tokio::test]
async fn an_admin_may_change_any_action_item() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("ada").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_contributor_with_no_part_in_the_incident_is_refused_and_nothing_changes() {
    let cast = cast().await;
    let (status, body) = cast.edit_as("carl").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("only the action item's owner"), "{body}");
    let read = cast
        .app
        .get(
            &format!("/api/v1/incidents/{}", cast.incident),
            Some(&cast.tokens["carl"]),
        )
        .await
        .json();
    assert_eq!(read["actions"][0]["verification"], serde_json::Value::Null);
}

#[tokio::test]
async fn a_reviewer_who_was_not_asked_is_refused() {
    let cast = cast().await;
    assert_eq!(cast.edit_as("rob").await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_page_offers_the_status_form_only_to_those_who_may_use_it() {
    let cast = cast().await;
    let page = format!("/incidents/{}", cast.incident);
    let form = format!("action=\"/incidents/{}/actions/", cast.incident);
    let omar = cast.app.sign_in("omar").await;
    assert!(cast.app.page(&page, &omar).await.body.contains(&form));
    let carl = cast.app.sign_in("carl").await;
    let seen = cast.app.page(&page, &carl).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(!seen.body.contains(&form), "no form Carl could not use");
    let posted = cast
        .app
        .post_form(
            &format!("/incidents/{}/actions/1", cast.incident),
            &carl,
            &[("csrf", &csrf_of(&seen.body)), ("status", "done")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN, "{}", posted.body);
}
