//! Correcting and removing timeline entries, contributing factors and action items, through
//! the API and the incident page: one trigger at most, done asks how we know, an item
//! without owner or due date says so where it was added, and every change is audited.

use crate::common::{TestApp, csrf_of};
use axum::http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_timeline_entry_is_corrected_and_removed_through_the_api_and_the_audit_keeps_both() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let viewer = app.person("val", "viewer").await;
    let id = app.incident(&dana).await;
    let entry = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &dana,
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert fird"}),
        )
        .await
        .json();
    let path = format!("/api/v1/incidents/{id}/timeline/{}", entry["id"]);
    let refused = app
        .call(
            "PATCH",
            &path,
            &viewer,
            Some(json!({"text": "Alert fired"})),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let corrected = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"text": "Alert fired", "marker": "detected"})),
        )
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(corrected.json()["text"], "Alert fired");
    assert_eq!(corrected.json()["marker"], "detected");
    assert_eq!(
        corrected.json()["at"],
        "2026-03-01T14:05:00+01:00",
        "what the patch did not name stays"
    );
    let bad = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"at": "2026-03-01T14:05"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let removed = app.call("DELETE", &path, &dana, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let again = app.call("DELETE", &path, &dana, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let history = app
        .get(&format!("/api/v1/incidents/{id}/history"), Some(&dana))
        .await
        .json();
    let actions: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(
        actions.starts_with(&["timeline.remove", "timeline.update"]),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_second_trigger_is_refused_unless_it_replaces_the_first() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let factors = format!("/api/v1/incidents/{id}/factors");
    let first = app
        .post_json(
            &factors,
            &dana,
            json!({"category": "change_management", "description": "The config went to every region at once.", "is_trigger": true}),
        )
        .await
        .json();
    let second = json!({"category": "capacity", "description": "The pool was sized for last year.", "is_trigger": true});
    let refused = app.post_json(&factors, &dana, second.clone()).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["error"]["details"][0]["field"], "is_trigger");
    assert!(
        refused
            .body
            .contains("The config went to every region at once."),
        "the refusal names the current trigger: {}",
        refused.body
    );
    let mut replacing = second;
    replacing["replace_trigger"] = json!(true);
    let added = app.post_json(&factors, &dana, replacing).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    let triggers: Vec<&str> = record["factors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["is_trigger"] == true)
        .map(|f| f["description"].as_str().unwrap())
        .collect();
    assert_eq!(triggers, ["The pool was sized for last year."]);
    let path = format!("{factors}/{}", first["id"]);
    let corrected = app
        .call("PATCH", &path, &dana, Some(json!({"category": "alerting"})))
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.body);
    assert_eq!(corrected.json()["is_trigger"], false);
    assert_eq!(
        app.call("DELETE", &path, &dana, None).await.status,
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn an_action_item_is_renamed_given_an_owner_and_marked_done_only_with_how_we_know() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("omar", "contributor").await;
    let id = app.incident(&dana).await;
    let item = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &dana,
            json!({"title": "Raise the pool", "kind": "prevent"}),
        )
        .await
        .json();
    let path = format!("/api/v1/actions/{}", item["id"]);
    let changed = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"title": "Raise the pool default to 40", "owner": "omar", "due_on": "2026-04-01", "priority": "p1", "kind": "mitigate"})),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let changed = changed.json();
    assert_eq!(changed["title"], "Raise the pool default to 40");
    assert_eq!(
        (&changed["priority"], &changed["kind"], &changed["due_on"]),
        (&json!("p1"), &json!("mitigate"), &json!("2026-04-01"))
    );
    let all_wrong = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"title": "", "status": "done", "due_on": "2026-04"})),
        )
        .await;
    assert_eq!(all_wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let all_wrong = all_wrong.json();
    let fields: Vec<&str> = all_wrong["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["title", "verification", "due_on"],
        "every error at once"
    );
    let done = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"status": "done", "verification": "Pool saturation alert stayed quiet through the March peak"})),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let removed = app.call("DELETE", &path, &dana, None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.call("PATCH", &path, &dana, Some(json!({"status": "open"})))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn on_the_page_an_item_added_without_owner_says_so_and_a_refused_correction_keeps_what_was_typed()
 {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("omar", "contributor").await;
    let id = app.incident(&dana).await;
    let cookie = app.sign_in("dana").await;
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    let csrf = csrf_of(&page.body);
    let added = app
        .post_form(
            &format!("/incidents/{id}/actions"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Raise the pool"),
                ("kind", "prevent"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(page.body.contains("no owner yet"), "{}", page.body);
    assert!(page.body.contains("no due date yet"));
    assert!(
        page.body
            .contains("Needs an owner and a due date before the post-mortem can be published")
    );
    let item = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json()["actions"][0]["id"]
        .as_i64()
        .unwrap();

    let refused = app
        .post_form(
            &format!("/incidents/{id}/actions/{item}"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Raise the pool default to 40"),
                ("owner", "omar"),
                ("due_on", ""),
                ("kind", "prevent"),
                ("priority", "p2"),
                ("status", "done"),
                ("verification", ""),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains(&format!("id=\"action-edit-{item}-verification-error\"")),
        "the error sits beside the verification field: {}",
        refused.body
    );
    assert!(
        refused
            .body
            .contains("how do we know it changed the system?")
    );
    assert!(
        refused
            .body
            .contains("value=\"Raise the pool default to 40\""),
        "what was typed is kept"
    );
    assert!(
        refused.body.contains("<details class=\"correct\" open"),
        "the refused form is open"
    );

    let done = app
        .post_form(
            &format!("/incidents/{id}/actions/{item}"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Raise the pool default to 40"),
                ("owner", "omar"),
                ("due_on", "2026-04-01"),
                ("kind", "prevent"),
                ("priority", "p2"),
                ("status", "done"),
                ("verification", "No saturation through the March peak"),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(page.body.contains("done and verified"));
    assert!(
        page.body.contains("owner omar Example"),
        "a name, not a handle: {}",
        page.body
    );
    assert!(!page.body.contains("no owner yet"));
    let removed = app
        .post_form(
            &format!("/incidents/{id}/actions/{item}/remove"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(page.body.contains("No action items yet."));
}
