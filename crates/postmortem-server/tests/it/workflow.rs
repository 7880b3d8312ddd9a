//! Writing and reviewing a post-mortem through the JSON API: sections with conflict-safe
//! saves, timeline, factors, actions, the review workflow and publishing, and every refusal.

use crate::common::{TestApp, outage};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use postmortem_store::testing::TestDb;
use serde_json::{Value, json};
use std::time::Duration;
use tower::ServiceExt;

fn codes(reply: &crate::common::Reply) -> Vec<String> {
    reply.json()["error"]["details"]
        .as_array()
        .unwrap_or_else(|| panic!("no details: {}", reply.body))
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn saving_sections_needs_the_etag_and_answers_with_the_new_one() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let body = json!({"sections": {"summary": "Checkout failed for 47 minutes."}});

    let without = app.patch_json(&path, &dana, None, body.clone()).await;
    assert_eq!(without.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(without.json()["error"]["code"], "if_match_required");

    let etag = app.etag(id, &dana).await;
    let saved = app.patch_json(&path, &dana, Some(&etag), body).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let new_etag = saved.headers[header::ETAG].to_str().unwrap().to_owned();
    assert_ne!(new_etag, etag);
    assert_eq!(saved.json()["etag"], new_etag);

    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await;
    assert_eq!(read.headers[header::ETAG].to_str().unwrap(), new_etag);
    let postmortem = &read.json()["postmortem"];
    assert_eq!(
        postmortem["sections"]["summary"],
        "Checkout failed for 47 minutes."
    );
    assert_eq!(
        postmortem["status"], "draft",
        "writing starts the draft of an owed post-mortem"
    );
}

#[tokio::test]
async fn a_stale_save_of_a_section_someone_changed_is_refused_with_their_text() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let id = app.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let base = app.etag(id, &dana).await;

    let first = app
        .patch_json(
            &path,
            &sam,
            Some(&base),
            json!({"sections": {"impact": "Sam's impact."}}),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);

    let stale = app
        .patch_json(
            &path,
            &dana,
            Some(&base),
            json!({"sections": {"impact": "Dana's impact."}}),
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let error = &stale.json()["error"];
    assert_eq!(error["code"], "edit_conflict");
    let conflict = &error["details"][0];
    assert_eq!(conflict["section"], "impact");
    assert_eq!(conflict["current_text"], "Sam's impact.");
    assert_eq!(conflict["updated_by"]["handle"], "sam");
    assert_eq!(conflict["updated_by"]["display_name"], "sam Example");
    let current = app.etag(id, &dana).await;
    let base_number: i64 = base.trim_matches('"')[1..].parse().unwrap();
    assert!(conflict["current_version"].as_i64().unwrap() > base_number);
    assert_eq!(stale.headers[header::ETAG].to_str().unwrap(), current);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(
        read["postmortem"]["sections"]["impact"], "Sam's impact.",
        "nothing was overwritten"
    );

    let other_section = app
        .patch_json(
            &path,
            &dana,
            Some(&base),
            json!({"sections": {"summary": "Dana's summary."}}),
        )
        .await;
    assert_eq!(
        other_section.status,
        StatusCode::OK,
        "a stale base only conflicts on sections that changed: {}",
        other_section.body
    );
}

#[tokio::test]
async fn sections_outside_the_template_and_malformed_etags_are_refused() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let etag = app.etag(id, &dana).await;
    let unknown = app
        .patch_json(
            &path,
            &dana,
            Some(&etag),
            json!({"sections": {"root_cause": "Bob."}}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = unknown.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("`root_cause`"), "{message}");
    assert!(message.contains("summary, impact, trigger"), "{message}");
    let malformed = app
        .patch_json(
            &path,
            &dana,
            Some("12"),
            json!({"sections": {"summary": "x"}}),
        )
        .await;
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn timeline_entries_need_an_instant_with_its_time_zone() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}/timeline");
    let added = app
        .post_json(
            &path,
            &dana,
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert fired for checkout 502s", "marker": "detected", "source": "alert", "source_url": "https://alerts.example/1"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let entry = added.json();
    assert_eq!(entry["at"], "2026-03-01T14:05:00+01:00");
    assert_eq!(entry["perspective"], "happened");
    assert_eq!(entry["marker"], "detected");

    let local = app
        .post_json(
            &path,
            &dana,
            json!({"at": "2026-03-01T14:05:00", "text": "Local time"}),
        )
        .await;
    assert_eq!(local.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(local.json()["error"]["details"][0]["field"], "at");

    let bad = app
        .post_json(&path, &dana, json!({"at": "2026-03-01T14:05:00Z", "text": " ", "marker": "fixed", "perspective": "felt"}))
        .await;
    let fields: Vec<Value> = bad.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].clone())
        .collect();
    assert_eq!(
        fields,
        [json!("text"), json!("marker"), json!("perspective")]
    );
}

#[tokio::test]
async fn factors_and_action_items_are_added_and_actions_are_updated() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("omar", "contributor").await;
    let id = app.incident(&dana).await;
    let factor = app
        .post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            &dana,
            json!({"category": "risky_default", "description": "The pool size default was 5.", "is_trigger": true}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.body);
    let factor_id = factor.json()["id"].as_i64().unwrap();
    let blamed = app
        .post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            &dana,
            json!({"category": "human_error", "description": "Bob"}),
        )
        .await;
    assert_eq!(blamed.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        blamed.body.contains("unclear_ownership"),
        "lists the taxonomy"
    );

    let actions = format!("/api/v1/incidents/{id}/actions");
    let action = app
        .post_json(
            &actions,
            &dana,
            json!({"title": "Raise the pool default", "owner": "omar", "due_on": "2026-04-01", "kind": "prevent", "factor_ids": [factor_id]}),
        )
        .await;
    assert_eq!(action.status, StatusCode::CREATED, "{}", action.body);
    let action = action.json();
    assert_eq!(action["priority"], "p2");
    assert_eq!(action["status"], "open");
    assert_eq!(action["factor_ids"], json!([factor_id]));

    let unknown_owner = app
        .post_json(
            &actions,
            &dana,
            json!({"title": "Something", "owner": "nobody", "kind": "detect", "due_on": "April"}),
        )
        .await;
    assert_eq!(unknown_owner.status, StatusCode::UNPROCESSABLE_ENTITY);
    let message = unknown_owner.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("nobody has the handle `nobody`"),
        "{message}"
    );
    assert!(message.contains("due_on"), "{message}");

    let patch = format!("/api/v1/actions/{}", action["id"]);
    let without_reason = app
        .patch_json(&patch, &dana, None, json!({"status": "wont_do"}))
        .await;
    assert_eq!(without_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    let done = app
        .patch_json(
            &patch,
            &dana,
            None,
            json!({"status": "done", "verification": "Load test at 3x passed", "due_on": null}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let done = done.json();
    assert_eq!(done["status"], "done");
    assert_eq!(done["due_on"], Value::Null);
    assert_eq!(
        done["owner"], action["owner"],
        "an absent owner stays as it was"
    );
    assert!(done["completed_at"].is_string());
    let missing = app
        .patch_json(
            "/api/v1/actions/9999",
            &dana,
            None,
            json!({"status": "done"}),
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_read_but_every_write_is_forbidden_to_them() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let id = app.incident(&dana).await;
    let action = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &dana,
            json!({"title": "A", "kind": "detect"}),
        )
        .await
        .json();
    let etag = app.etag(id, &vic).await;
    let writes = [
        app.patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &vic,
            Some(&etag),
            json!({"sections": {"summary": "x"}}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &vic,
            json!({"at": "2026-03-01T14:00:00Z", "text": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            &vic,
            json!({"category": "other", "description": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &vic,
            json!({"title": "x", "kind": "detect"}),
        )
        .await,
        app.patch_json(
            &format!("/api/v1/actions/{}", action["id"]),
            &vic,
            None,
            json!({"status": "done"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/postmortem/transitions"),
            &vic,
            json!({"to": "draft"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/comments"),
            &vic,
            json!({"section": "summary", "body": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/comments/1/resolve"),
            &vic,
            json!({}),
        )
        .await,
    ];
    let without_etag = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &vic,
            None,
            json!({"sections": {"summary": "x"}}),
        )
        .await;
    assert_eq!(
        without_etag.status,
        StatusCode::FORBIDDEN,
        "the role is checked before the precondition"
    );
    for (n, reply) in writes.iter().enumerate() {
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "write {n}: {}",
            reply.body
        );
        assert_eq!(reply.json()["error"]["code"], "forbidden");
    }
    assert_eq!(
        app.etag(id, &dana).await,
        format!("\"v{}\"", 2),
        "only dana's action was written"
    );
}

#[tokio::test]
async fn a_restricted_incident_is_not_found_on_every_route_for_people_outside_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "reviewer").await;
    let mut body = outage();
    body["kind"] = json!("security");
    let id = app.post_json("/api/v1/incidents", &dana, body).await.json()["id"]
        .as_i64()
        .unwrap();
    let action = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &dana,
            json!({"title": "Rotate keys", "kind": "mitigate"}),
        )
        .await
        .json();
    let etag = app.etag(id, &dana).await;
    let attempts = [
        app.get(&format!("/api/v1/incidents/{id}"), Some(&sam))
            .await,
        app.get(&format!("/api/v1/incidents/{id}/events"), Some(&sam))
            .await,
        app.patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &sam,
            Some(&etag),
            json!({"sections": {"summary": "x"}}),
        )
        .await,
        app.patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &sam,
            None,
            json!({"sections": {"summary": "x"}}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &sam,
            json!({"at": "2026-03-01T14:00:00Z", "text": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            &sam,
            json!({"category": "other", "description": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &sam,
            json!({"title": "x", "kind": "detect"}),
        )
        .await,
        app.patch_json(
            &format!("/api/v1/actions/{}", action["id"]),
            &sam,
            None,
            json!({"status": "done"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/postmortem/transitions"),
            &sam,
            json!({"to": "not_required", "comment": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/comments"),
            &sam,
            json!({"section": "summary", "body": "x"}),
        )
        .await,
        app.post_json(
            &format!("/api/v1/incidents/{id}/comments/1/resolve"),
            &sam,
            json!({}),
        )
        .await,
    ];
    for (n, reply) in attempts.iter().enumerate() {
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "attempt {n}: {}",
            reply.body
        );
    }
    assert_eq!(app.etag(id, &dana).await, "\"v2\"", "nothing was written");
}

#[tokio::test]
async fn requests_without_credentials_are_refused_on_every_write() {
    let app = TestApp::new().await;
    let routes = [
        ("POST", "/api/v1/incidents/1/timeline"),
        ("POST", "/api/v1/incidents/1/factors"),
        ("POST", "/api/v1/incidents/1/actions"),
        ("PATCH", "/api/v1/actions/1"),
        ("PATCH", "/api/v1/incidents/1/postmortem"),
        ("POST", "/api/v1/incidents/1/postmortem/transitions"),
        ("POST", "/api/v1/incidents/1/comments"),
        ("POST", "/api/v1/incidents/1/comments/1/resolve"),
        ("GET", "/api/v1/incidents/1/events"),
    ];
    for (method, path) in routes {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

/// Writes everything the completeness check asks for.
async fn complete(app: &TestApp, id: i64, token: &str) {
    let etag = app.etag(id, token).await;
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            token,
            Some(&etag),
            json!({"sections": {"summary": "Checkout failed.", "impact": "1,200 customers for 47 minutes."}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    for (at, marker) in [
        ("2026-03-01T14:05:00+01:00", "detected"),
        ("2026-03-01T14:47:00+01:00", "resolved"),
    ] {
        let reply = app
            .post_json(
                &format!("/api/v1/incidents/{id}/timeline"),
                token,
                json!({"at": at, "text": marker, "marker": marker}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED);
    }
    let factor = app
        .post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            token,
            json!({"category": "alerting", "description": "No alert on pool saturation."}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED);
}

#[tokio::test]
async fn a_post_mortem_goes_from_owed_to_published_through_review() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    app.person("sam", "contributor").await;
    let id = app.incident(&dana).await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");

    let illegal = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(illegal.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(illegal.json()["error"]["code"], "illegal_transition");
    assert!(
        illegal
            .body
            .contains("from `owed` it can become: draft, not_required"),
        "{}",
        illegal.body
    );

    let draft = app
        .post_json(&transitions, &dana, json!({"to": "draft"}))
        .await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert_eq!(draft.json()["status"], "draft");

    let nobody = app
        .post_json(&transitions, &dana, json!({"to": "in_review"}))
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(nobody.json()["error"]["details"][0]["field"], "reviewers");
    let not_a_reviewer = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "in_review", "reviewers": ["sam"]}),
        )
        .await;
    assert_eq!(not_a_reviewer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        not_a_reviewer.body.contains("`sam` is a contributor"),
        "{}",
        not_a_reviewer.body
    );

    let asked = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "in_review", "reviewers": ["rae"]}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(read["reviews"][0]["decision"], "requested");

    let comments = format!("/api/v1/incidents/{id}/comments");
    let by_author = app
        .post_json(&comments, &dana, json!({"section": "summary", "body": "x"}))
        .await;
    assert_eq!(
        by_author.status,
        StatusCode::FORBIDDEN,
        "authors do not comment on their own review"
    );
    let wrong_section = app
        .post_json(
            &comments,
            &rae,
            json!({"section": "root_cause", "body": "x"}),
        )
        .await;
    assert_eq!(wrong_section.status, StatusCode::UNPROCESSABLE_ENTITY);
    let comment = app
        .post_json(
            &comments,
            &rae,
            json!({"section": "summary", "body": "Say how many customers."}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);

    let approve_own = app
        .post_json(&transitions, &dana, json!({"to": "approved"}))
        .await;
    assert_eq!(approve_own.status, StatusCode::FORBIDDEN);
    let changes = app
        .post_json(
            &transitions,
            &rae,
            json!({"to": "changes_requested", "comment": "See my comment."}),
        )
        .await;
    assert_eq!(changes.status, StatusCode::OK, "{}", changes.body);

    let resolved = app
        .post_json(
            &format!("{comments}/{}/resolve", comment.json()["id"]),
            &dana,
            json!({}),
        )
        .await;
    assert_eq!(resolved.status, StatusCode::OK, "{}", resolved.body);
    let unknown = app
        .post_json(&format!("{comments}/999/resolve"), &dana, json!({}))
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    app.post_json(
        &transitions,
        &dana,
        json!({"to": "in_review", "reviewers": ["rae"]}),
    )
    .await;
    let approved = app
        .post_json(
            &transitions,
            &rae,
            json!({"to": "approved", "comment": "Clear."}),
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);

    let incomplete = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(incomplete.json()["error"]["code"], "incomplete");
    assert_eq!(
        codes(&incomplete),
        [
            "section_empty",
            "section_empty",
            "marker_missing",
            "marker_missing",
            "no_contributing_factor"
        ]
    );

    complete(&app, id, &dana).await;
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(
        read["postmortem"]["status"], "draft",
        "edited text needs a new approval"
    );
    app.post_json(
        &transitions,
        &dana,
        json!({"to": "in_review", "reviewers": ["rae"]}),
    )
    .await;
    app.post_json(&transitions, &rae, json!({"to": "approved"}))
        .await;
    let actions = format!("/api/v1/incidents/{id}/actions");
    app.post_json(
        &actions,
        &dana,
        json!({"title": "Alert on pool saturation", "kind": "detect"}),
    )
    .await;
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(
        read["postmortem"]["status"], "approved",
        "action items do not undo an approval"
    );
    let ownerless = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(
        codes(&ownerless),
        ["action_without_owner", "action_without_due_date"]
    );
    let action_id = read["actions"][0]["id"].as_i64().unwrap();
    app.patch_json(
        &format!("/api/v1/actions/{action_id}"),
        &dana,
        None,
        json!({"owner": "dana", "due_on": "2026-04-01"}),
    )
    .await;

    let published = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(published.json()["status"], "published");
}

#[tokio::test]
async fn editing_an_approved_post_mortem_sends_it_back_to_draft_and_publishing_needs_an_approval() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let id = app.incident(&dana).await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    complete(&app, id, &dana).await;
    app.post_json(
        &transitions,
        &dana,
        json!({"to": "in_review", "reviewers": ["rae"]}),
    )
    .await;
    app.post_json(&transitions, &rae, json!({"to": "approved"}))
        .await;
    let etag = app.etag(id, &dana).await;
    app.patch_json(
        &format!("/api/v1/incidents/{id}/postmortem"),
        &dana,
        Some(&etag),
        json!({"sections": {"lessons": "Alert on saturation, not on errors."}}),
    )
    .await;
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(read["postmortem"]["status"], "draft");
}

#[tokio::test]
async fn only_a_reviewer_waives_a_post_mortem_and_only_with_a_reason() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let id = app.incident(&dana).await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    let by_author = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "not_required", "comment": "Small."}),
        )
        .await;
    assert_eq!(by_author.status, StatusCode::FORBIDDEN);
    let without_reason = app
        .post_json(&transitions, &rae, json!({"to": "not_required"}))
        .await;
    assert_eq!(without_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        without_reason.json()["error"]["details"][0]["field"],
        "comment"
    );
    let waived = app
        .post_json(
            &transitions,
            &rae,
            json!({"to": "not_required", "comment": "Duplicate of #12."}),
        )
        .await;
    assert_eq!(waived.status, StatusCode::OK, "{}", waived.body);
    let audit = app
        .db
        .store
        .audit_events(Some(postmortem_core::IncidentId::new(id)), 1)
        .await
        .unwrap();
    assert_eq!(audit[0].details["note"], "Duplicate of #12.");
    let unknown = app
        .post_json(&transitions, &rae, json!({"to": "finished"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
}

/// Reads server-sent events from a streaming body until one named `name` arrives.
async fn next_event(body: &mut Body, name: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event within 3 s; saw: {seen}"))
            .expect("the stream stays open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
            if seen.contains(&format!("event: {name}\n")) {
                return seen;
            }
        }
    }
}

async fn live_updates_reach_subscribers(app: TestApp) {
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let other = app.incident(&dana).await;
    let request = Request::get(format!("/api/v1/incidents/{id}/events"))
        .header(header::AUTHORIZATION, format!("Bearer {dana}"))
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()[header::CONTENT_TYPE],
        "text/event-stream"
    );
    let mut body = response.into_body();
    next_event(&mut body, "ready").await;
    // Give the follower a moment to learn where the feed ends before anything is written.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.post_json(
        &format!("/api/v1/incidents/{other}/timeline"),
        &dana,
        json!({"at": "2026-03-01T14:00:00Z", "text": "elsewhere"}),
    )
    .await;
    app.post_json(
        &format!("/api/v1/incidents/{id}/timeline"),
        &dana,
        json!({"at": "2026-03-01T14:00:00Z", "text": "here"}),
    )
    .await;
    let seen = next_event(&mut body, "timeline").await;
    assert_eq!(
        seen.matches("event: timeline").count(),
        1,
        "only this incident's changes: {seen}"
    );
    assert!(seen.contains("\"op\":\"create\""), "{seen}");
}

#[tokio::test]
async fn people_viewing_an_incident_receive_its_changes_as_server_sent_events() {
    live_updates_reach_subscribers(TestApp::new().await).await;
}

#[tokio::test]
async fn live_updates_work_the_same_on_postgres() {
    live_updates_reach_subscribers(TestApp::on(TestDb::postgres().await)).await;
}

#[tokio::test]
async fn the_review_workflow_works_the_same_on_postgres() {
    let app = TestApp::on(TestDb::postgres().await);
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let id = app.incident(&dana).await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    complete(&app, id, &dana).await;
    let asked = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "in_review", "reviewers": ["rae"]}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    app.post_json(&transitions, &rae, json!({"to": "approved"}))
        .await;
    let published = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
}
