//! Correcting an incident's facts through `PATCH /api/v1/incidents/{id}` and the page at
//! `/incidents/{id}/facts`: partial, conflict-safe, and followed by the policy's new decision.

use crate::common::{TestApp, csrf_of};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// A near miss of SEV3: the built-in policy requires no post-mortem for it.
async fn near_miss(app: &TestApp, token: &str) -> i64 {
    let created = app
        .post_json(
            "/api/v1/incidents",
            token,
            json!({"title": "Disk nearly full on db-3", "kind": "near_miss", "severity": "SEV3",
                   "services": ["orders-db"], "teams": ["storage"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let created = created.json();
    assert_eq!(created["postmortem"]["status"], "not_required");
    created["id"].as_i64().unwrap()
}

/// The incident's version, as the facts form carries it.
async fn version(app: &TestApp, id: i64, token: &str) -> String {
    let etag = app.etag(id, token).await;
    etag.trim_matches('"').trim_start_matches('v').to_owned()
}

async fn patch_facts(app: &TestApp, id: i64, token: &str, body: Value) -> crate::common::Reply {
    let etag = app.etag(id, token).await;
    app.patch_json(&format!("/api/v1/incidents/{id}"), token, Some(&etag), body)
        .await
}

#[tokio::test]
async fn new_facts_that_require_a_post_mortem_make_it_owed_with_a_due_date_and_the_reasons() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = near_miss(&app, &dana).await;
    let before = app.etag(id, &dana).await;
    let changed = patch_facts(
        &app,
        id,
        &dana,
        json!({"kind": "outage", "impact": {"data_loss": true}}),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_ne!(changed.headers["etag"].to_str().unwrap(), before);
    let incident = changed.json();
    assert_eq!(incident["kind"], "outage");
    assert_eq!(incident["impact"]["data_loss"], true);
    assert_eq!(
        incident["title"], "Disk nearly full on db-3",
        "absent fields stay"
    );
    assert_eq!(incident["services"], json!(["orders-db"]));
    let postmortem = &incident["postmortem"];
    assert_eq!(postmortem["status"], "owed");
    assert_eq!(postmortem["decision"], "required");
    assert_eq!(postmortem["required_reasons"], json!(["data loss"]));
    assert!(postmortem["due_on"].is_string(), "{postmortem}");
    assert_eq!(postmortem["template"], "full");
}

#[tokio::test]
async fn an_owed_post_mortem_is_released_by_new_facts_only_while_nothing_is_written() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let quiet = json!({"impact": {"user_visible": false, "customer_minutes": 0}});

    let untouched = app.incident(&dana).await;
    let released = patch_facts(&app, untouched, &dana, quiet.clone())
        .await
        .json();
    assert_eq!(released["postmortem"]["status"], "not_required");
    assert_eq!(released["postmortem"]["decision"], "not_required");
    assert_eq!(released["postmortem"]["due_on"], Value::Null);

    let started = app.incident(&dana).await;
    let etag = app.etag(started, &dana).await;
    app.patch_json(
        &format!("/api/v1/incidents/{started}/postmortem"),
        &dana,
        Some(&etag),
        json!({"sections": {"summary": "Checkout failed."}}),
    )
    .await;
    let kept = patch_facts(&app, started, &dana, quiet).await.json();
    assert_eq!(
        kept["postmortem"]["status"], "draft",
        "someone is writing it"
    );
    assert_eq!(
        kept["postmortem"]["decision"], "not_required",
        "the decision and reasons still follow the facts"
    );
}

#[tokio::test]
async fn a_reviewers_waiver_stands_when_new_facts_would_require_a_post_mortem() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let id = app.incident(&dana).await;
    let waived = app
        .post_json(
            &format!("/api/v1/incidents/{id}/postmortem/transitions"),
            &rae,
            json!({"to": "not_required", "comment": "Covered by the review of #12"}),
        )
        .await;
    assert_eq!(waived.status, StatusCode::OK, "{}", waived.body);
    let after = patch_facts(&app, id, &dana, json!({"impact": {"data_loss": true}}))
        .await
        .json();
    assert_eq!(after["postmortem"]["status"], "not_required");
    assert_eq!(after["postmortem"]["decision"], "required");
}

#[tokio::test]
async fn a_stale_or_missing_if_match_changes_nothing() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let path = format!("/api/v1/incidents/{id}");
    let old = app.etag(id, &dana).await;
    patch_facts(&app, id, &dana, json!({"severity": "SEV1"})).await;
    let stale = app
        .patch_json(&path, &dana, Some(&old), json!({"title": "Mine"}))
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    let error = &stale.json()["error"];
    assert_eq!(error["code"], "edit_conflict");
    assert_eq!(error["details"]["facts"]["severity"], "SEV1");
    assert_eq!(error["details"]["facts"]["title"], "Checkout returned 502s");
    assert_eq!(
        stale.headers["etag"].to_str().unwrap(),
        app.etag(id, &dana).await,
        "the current ETag comes with the refusal"
    );
    let missing = app
        .patch_json(&path, &dana, None, json!({"title": "Mine"}))
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    let read = app.get(&path, Some(&dana)).await.json();
    assert_eq!(read["title"], "Checkout returned 502s");
}

#[tokio::test]
async fn bad_facts_are_refused_with_every_field_named() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let refused = patch_facts(
        &app,
        id,
        &dana,
        json!({"severity": "SEV9", "kind": "meltdown", "started_at": "yesterday", "services": ["ok", ""]}),
    )
    .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    let fields: Vec<String> = refused.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["kind", "severity", "started_at", "services[1]"]);
    let unknown = patch_facts(&app, id, &dana, json!({"titel": "x"})).await;
    assert!(unknown.status.is_client_error(), "{}", unknown.status);
    assert!(unknown.body.contains("titel"), "{}", unknown.body);
}

#[tokio::test]
async fn viewers_may_not_change_facts_and_only_admins_or_the_recorder_change_who_sees_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let carl = app.person("carl", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let ada = app.person("ada", "admin").await;
    let id = app.incident(&dana).await;
    let viewer = patch_facts(&app, id, &vic, json!({"title": "x"})).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    let hide = json!({"restricted": true});
    assert_eq!(
        patch_facts(&app, id, &carl, hide.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        patch_facts(
            &app,
            id,
            &carl,
            json!({"restricted": false, "severity": "SEV1"})
        )
        .await
        .status,
        StatusCode::OK,
        "sending the unchanged value is no change"
    );
    assert_eq!(
        patch_facts(&app, id, &dana, hide).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}"), Some(&carl))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "restricted now"
    );
    let shown = patch_facts(&app, id, &ada, json!({"restricted": false})).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
}

#[tokio::test]
async fn the_facts_page_shows_the_current_facts_and_saves_them() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = near_miss(&app, &dana).await;
    let cookie = app.sign_in("dana").await;
    let incident = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(
        incident
            .body
            .contains(&format!("href=\"/incidents/{id}/facts\""))
    );
    let form = app.page(&format!("/incidents/{id}/facts"), &cookie).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body.contains("value=\"Disk nearly full on db-3\""),
        "{}",
        form.body
    );
    assert!(
        form.body
            .contains("<label for=\"facts-title\">Title</label>")
    );
    assert!(form.body.contains("value=\"orders-db\""));
    let csrf = csrf_of(&form.body);
    let version = version(&app, id, &dana).await;
    let saved = app
        .post_form(
            &format!("/incidents/{id}/facts"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("base_version", &version),
                ("title", "Disk full on db-3"),
                ("kind", "outage"),
                ("severity", "SEV2"),
                ("at_local", "2026-03-01T14:00"),
                ("offset", "+01:00"),
                ("services", "orders-db, orders-api"),
                ("teams", "storage"),
                ("customer_minutes", "45"),
                ("customers_affected", "300"),
                ("user_visible", "true"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(read["title"], "Disk full on db-3");
    assert_eq!(read["started_at"], "2026-03-01T14:00:00+01:00");
    assert_eq!(read["services"], json!(["orders-api", "orders-db"]));
    assert_eq!(read["postmortem"]["status"], "owed");
    assert_eq!(
        read["postmortem"]["required_reasons"],
        json!(["user-visible; customer impact 45 min, threshold 30 min"])
    );
    assert_eq!(
        read["restricted"], false,
        "the box was not offered, so it stays"
    );
    let without_token = app
        .post_form(
            &format!("/incidents/{id}/facts"),
            &cookie,
            &[("title", "x")],
        )
        .await;
    assert_eq!(without_token.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_stale_save_on_the_page_keeps_what_was_typed_and_shows_what_changed() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = near_miss(&app, &dana).await;
    let cookie = app.sign_in("dana").await;
    let form = app.page(&format!("/incidents/{id}/facts"), &cookie).await;
    let csrf = csrf_of(&form.body);
    let opened_at = version(&app, id, &dana).await;
    // Someone else raises the severity meanwhile.
    patch_facts(&app, id, &dana, json!({"severity": "SEV1"})).await;
    let fields = [
        ("csrf", csrf.as_str()),
        ("base_version", opened_at.as_str()),
        ("title", "Disk nearly full on db-3 and db-4"),
        ("kind", "near_miss"),
        ("severity", "SEV3"),
        ("services", "orders-db"),
        ("teams", "storage"),
    ];
    let stale = app
        .post_form(&format!("/incidents/{id}/facts"), &cookie, &fields)
        .await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert!(stale.body.contains("Nothing was saved"), "{}", stale.body);
    assert!(
        stale
            .body
            .contains("value=\"Disk nearly full on db-3 and db-4\""),
        "the typed title is kept"
    );
    assert!(
        stale
            .body
            .contains("<th scope=\"row\">Severity</th><td>SEV3</td><td>SEV1</td>"),
        "{}",
        stale.body
    );
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(read["title"], "Disk nearly full on db-3");
    // Saving again from the refused form goes on top of the current version, on purpose.
    let again_version = version(&app, id, &dana).await;
    assert!(
        stale
            .body
            .contains(&format!("name=\"base_version\" value=\"{again_version}\""))
    );
    let mut again = fields;
    again[1] = ("base_version", again_version.as_str());
    let saved = app
        .post_form(&format!("/incidents/{id}/facts"), &cookie, &again)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(
        (read["title"].as_str(), read["severity"].as_str()),
        (Some("Disk nearly full on db-3 and db-4"), Some("SEV3"))
    );
}
