//! The blameless-language checker in the server: `POST /api/v1/lint` for live hints, the
//! count of findings in the review area, and publishing over findings only when confirmed,
//! through the API and through the page's form.

use crate::common::{TestApp, csrf_of};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

const BLAMEFUL: &str = "Dana failed to notice the disk alert.";
const CLEAN: &str = "The disk alert fired at 14:05 and was routed to a channel nobody watched.";

/// Writes everything publishing asks for, with `summary` as the summary, and has `rae`
/// approve it, so that only the checker stands between the post-mortem and publication.
async fn approved_with_summary(app: &TestApp, summary: &str) -> (i64, String) {
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let id = app.incident(&dana).await;
    let etag = app.etag(id, &dana).await;
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &dana,
            Some(&etag),
            json!({"sections": {"summary": summary, "impact": "1,200 customers for 47 minutes."}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    for (at, marker) in [
        ("2026-03-01T14:05:00+01:00", "detected"),
        ("2026-03-01T14:47:00+01:00", "resolved"),
    ] {
        let entry = app
            .post_json(
                &format!("/api/v1/incidents/{id}/timeline"),
                &dana,
                json!({"at": at, "text": marker, "marker": marker}),
            )
            .await;
        assert_eq!(entry.status, StatusCode::CREATED, "{}", entry.body);
    }
    let factor = app
        .post_json(
            &format!("/api/v1/incidents/{id}/factors"),
            &dana,
            json!({"category": "alerting", "description": "No alert on pool saturation."}),
        )
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.body);
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    let asked = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "in_review", "reviewers": ["rae"]}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let approved = app
        .post_json(&transitions, &rae, json!({"to": "approved"}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    (id, dana)
}

fn findings(reply: &crate::common::Reply) -> Vec<Value> {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    reply.json()["findings"].as_array().unwrap().clone()
}

#[tokio::test]
async fn lint_finds_a_person_as_the_subject_of_a_failure_with_its_position_and_suggestion() {
    let app = TestApp::new().await;
    let token = app.person("sam", "viewer").await;
    let reply = app
        .post_json(
            "/api/v1/lint",
            &token,
            json!({"text": BLAMEFUL, "participants": ["Dana"]}),
        )
        .await;
    let found = findings(&reply);
    assert_eq!(found.len(), 1, "{found:?}");
    let finding = &found[0];
    assert_eq!(finding["rule"], "person-failure");
    assert_eq!(finding["category"], "person_failure");
    assert_eq!(finding["severity"], "warning");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(finding["byte_range"]["start"], 0);
    assert!(finding["message"].as_str().unwrap().contains("person"));
    assert!(finding["suggestion"].as_str().unwrap().contains("Dana"));
}

#[tokio::test]
async fn lint_answers_no_findings_for_blameless_text_and_without_participants() {
    let app = TestApp::new().await;
    let token = app.person("sam", "contributor").await;
    let reply = app
        .post_json("/api/v1/lint", &token, json!({"text": CLEAN}))
        .await;
    assert_eq!(findings(&reply), Vec::<Value>::new());
    let empty = app
        .post_json("/api/v1/lint", &token, json!({"text": ""}))
        .await;
    assert_eq!(findings(&empty), Vec::<Value>::new());
}

#[tokio::test]
async fn lint_takes_the_servers_configured_participants_and_rules() {
    let settings = postmortem_server::Settings {
        lint: postmortem_lint::LintConfig::from_postmortem_toml(
            "[lint]\nparticipants = [\"kit\"]\n[lint.rules]\nperson-failure = \"error\"\n",
        )
        .unwrap(),
        ..postmortem_server::Settings::default()
    };
    let db = postmortem_store::testing::TestDb::sqlite().await;
    let app = TestApp {
        router: postmortem_server::app(postmortem_server::AppState::new(
            db.store.clone(),
            settings,
        )),
        db,
    };
    let token = app.person("sam", "contributor").await;
    let reply = app
        .post_json(
            "/api/v1/lint",
            &token,
            json!({"text": "kit failed to notice the disk alert."}),
        )
        .await;
    let found = findings(&reply);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["severity"], "error");
}

#[tokio::test]
async fn lint_needs_credentials_and_refuses_oversized_text_and_bad_json() {
    let app = TestApp::new().await;
    let token = app.person("sam", "contributor").await;
    let anonymous = Request::post("/api/v1/lint")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"text": BLAMEFUL}).to_string()))
        .unwrap();
    let reply = app.send(anonymous).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"]["code"], "unauthenticated");

    let oversized = "a".repeat(200_001);
    let reply = app
        .post_json("/api/v1/lint", &token, json!({"text": oversized}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.json()["error"]["details"][0]["field"], "text");
    let at_the_limit = "a".repeat(200_000);
    let reply = app
        .post_json("/api/v1/lint", &token, json!({"text": at_the_limit}))
        .await;
    assert_eq!(reply.status, StatusCode::OK);

    let broken = Request::post("/api/v1/lint")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{\"text\": "))
        .unwrap();
    let reply = app.send(broken).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "invalid_json");
    let unknown = app
        .post_json("/api/v1/lint", &token, json!({"text": "x", "lang": "en"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(unknown.json()["error"]["code"], "invalid_json");
}

#[tokio::test]
async fn the_pages_script_reaches_lint_with_the_session_cookie_alone() {
    let app = TestApp::new().await;
    app.person("dana", "viewer").await;
    let cookie = app.sign_in("dana").await;
    let request = Request::post("/api/v1/lint")
        .header(header::COOKIE, &cookie)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({"text": BLAMEFUL}).to_string()))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(findings(&reply).len(), 1);
}

#[tokio::test]
async fn publishing_over_blaming_language_through_the_api_needs_confirm_findings() {
    let app = TestApp::new().await;
    let (id, dana) = approved_with_summary(&app, BLAMEFUL).await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    let refused = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &refused.json()["error"];
    assert_eq!(error["code"], "unconfirmed_findings");
    assert!(
        error["message"].as_str().unwrap().contains("1 passage"),
        "{error}"
    );
    assert_eq!(error["details"][0]["section"], "summary");
    assert_eq!(error["details"][0]["rule"], "person-failure");
    let unconfirmed = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "published", "confirm_findings": false}),
        )
        .await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);

    let published = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "published", "confirm_findings": true}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(published.json()["status"], "published");
}

#[tokio::test]
async fn a_blameless_post_mortem_publishes_without_any_confirmation() {
    let app = TestApp::new().await;
    let (id, dana) = approved_with_summary(&app, CLEAN).await;
    let published = app
        .post_json(
            &format!("/api/v1/incidents/{id}/postmortem/transitions"),
            &dana,
            json!({"to": "published"}),
        )
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
}

#[tokio::test]
async fn the_review_area_counts_the_findings_and_the_publish_form_asks_for_confirmation() {
    let app = TestApp::new().await;
    let (id, _) = approved_with_summary(&app, BLAMEFUL).await;
    let dana = app.sign_in("dana").await;
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<strong>1 passage</strong> in the written sections may read as blame"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&format!(
        "href=\"/incidents/{id}/edit\">Review it in the editor"
    )));
    assert!(
        page.body
            .contains("<strong>1 sentence</strong> puts a person at the centre of a failure"),
        "beside the count of warnings, the sentences centred on a person: {}",
        page.body
    );
    assert!(page.body.contains("name=\"confirm_findings\""));
    let review = app
        .page(&format!("/incidents/{id}/fragments/review"), &dana)
        .await;
    assert!(
        review.body.contains("1 passage"),
        "the live part counts too"
    );

    let csrf = csrf_of(&page.body);
    let transitions = format!("/incidents/{id}/transitions");
    let refused = app
        .post_form(&transitions, &dana, &[("csrf", &csrf), ("to", "published")])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("confirm that you publish as it is"),
        "{}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("summary, line 1:1: A person is the subject"),
        "each finding is listed: {}",
        refused.body
    );
    let published = app
        .post_form(
            &transitions,
            &dana,
            &[
                ("csrf", &csrf),
                ("to", "published"),
                ("confirm_findings", "true"),
            ],
        )
        .await;
    assert_eq!(
        published.status,
        StatusCode::SEE_OTHER,
        "{}",
        published.body
    );
}

#[tokio::test]
async fn a_blameless_post_mortem_says_so_and_its_publish_form_has_no_confirmation() {
    let app = TestApp::new().await;
    let (id, _) = approved_with_summary(&app, CLEAN).await;
    let dana = app.sign_in("dana").await;
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(page.body.contains("finds no passage that reads as blame"));
    assert!(!page.body.contains("at the centre of a failure"));
    assert!(page.body.contains("id=\"publish\""));
    assert!(!page.body.contains("name=\"confirm_findings\""));
}

#[tokio::test]
async fn the_editor_and_the_timeline_form_ask_for_live_hints_with_the_incidents_participants() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let id = app.incident(&token).await;
    let entry = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &token,
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "Paged.", "actor": "kit"}),
        )
        .await;
    assert_eq!(entry.status, StatusCode::CREATED, "{}", entry.body);
    let dana = app.sign_in("dana").await;
    let editor = app.page(&format!("/incidents/{id}/edit"), &dana).await;
    assert!(
        editor.body.contains("data-lint=\"[&quot;kit&quot;]\""),
        "{}",
        editor.body
    );
    assert!(editor.body.contains(
        "<div class=\"lint-hints\" id=\"lint-section-summary\" role=\"status\" aria-live=\"polite\">"
    ));
    assert!(
        editor
            .body
            .contains("aria-describedby=\"hint-summary lint-section-summary\"")
    );
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(page.body.contains("id=\"lint-timeline-text\""));
    let script = app.page("/static/app.js", &dana).await;
    assert!(script.body.contains("/api/v1/lint"));
}
