//! The audit log through the API and the pages: the whole log for admins, an incident's
//! history for its members, restricted incidents' entries for nobody who cannot see them.

use crate::common::{TestApp, outage};
use axum::http::StatusCode;
use postmortem_store::testing::TestDb;
use serde_json::{Value, json};

/// Saves the summary of incident `id` as `text`, from its current version.
async fn save_summary(app: &TestApp, token: &str, id: i64, text: &str) {
    let etag = app.etag(id, token).await;
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            token,
            Some(&etag),
            json!({"sections": {"summary": text}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

/// A restricted copy of the standard outage, recorded by `token`'s owner.
async fn restricted_incident(app: &TestApp, token: &str) -> i64 {
    let mut body = outage();
    body["restricted"] = json!(true);
    body["title"] = json!("Signing key exposed in a build log");
    let created = app.post_json("/api/v1/incidents", token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    created.json()["id"].as_i64().unwrap()
}

fn actions(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn an_admin_reads_every_change_with_who_when_and_before_and_after() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    save_summary(&app, &dana, id, "Checkout failed.").await;
    save_summary(&app, &dana, id, "Checkout failed for 40 minutes.").await;

    let everything = app.get("/api/v1/audit", Some(&ada)).await.json();
    assert_eq!(
        actions(&everything)[..4],
        [
            "section.save",
            "postmortem.transition",
            "section.save",
            "incident.create"
        ],
        "the first save started the draft, and that is recorded too"
    );
    let reply = app.get("/api/v1/audit?limit=1", Some(&ada)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let page = reply.json();
    assert_eq!(actions(&page), ["section.save"]);
    let newest = &page["items"][0];
    assert_eq!(newest["actor_handle"], "dana");
    assert_eq!(newest["incident_id"], id);
    assert!(newest["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        newest["details"]["before"],
        json!({"summary": "Checkout failed."})
    );
    assert_eq!(
        newest["details"]["after"],
        json!({"summary": "Checkout failed for 40 minutes."})
    );
    assert!(page["next_cursor"].is_string(), "older changes follow");
}

#[tokio::test]
async fn only_admins_read_the_whole_log() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    for token in [&dana, &rae] {
        let refused = app.get("/api/v1/audit", Some(token)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(refused.json()["error"]["code"], "forbidden");
    }
    assert_eq!(
        app.get("/api/v1/audit", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn the_log_filters_by_actor_incident_kind_and_time_and_pages_by_cursor() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let first = app.incident(&dana).await;
    let second = app.incident(&sam).await;
    save_summary(&app, &dana, first, "First summary.").await;
    save_summary(&app, &dana, second, "Second summary.").await;

    let by_dana = app
        .get("/api/v1/audit?actor=dana&action=section", Some(&ada))
        .await
        .json();
    assert_eq!(actions(&by_dana), ["section.save", "section.save"]);
    let one_incident = app
        .get(&format!("/api/v1/audit?incident={second}"), Some(&ada))
        .await
        .json();
    assert_eq!(
        actions(&one_incident),
        ["postmortem.transition", "section.save", "incident.create"]
    );
    let tomorrow = app
        .get("/api/v1/audit?after=2999-01-01", Some(&ada))
        .await
        .json();
    assert!(actions(&tomorrow).is_empty());
    let until_then = app
        .get(
            "/api/v1/audit?before=2999-01-01T00:00:00Z&action=incident.create",
            Some(&ada),
        )
        .await
        .json();
    assert_eq!(actions(&until_then).len(), 2);

    let mut seen = Vec::new();
    let mut path = "/api/v1/audit?action=section&limit=1".to_owned();
    loop {
        let page = app.get(&path, Some(&ada)).await.json();
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].clone()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/audit?action=section&limit=1&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 2, "each save once across pages of one");
}

#[tokio::test]
async fn bad_filters_are_refused_with_every_field_that_was_wrong() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let reply = app
        .get(
            "/api/v1/audit?actor=nobody&incident=twelve&after=yesterday&limit=0",
            Some(&ada),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let errors = reply.json()["error"]["details"].clone();
    let fields: Vec<&str> = errors
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["actor", "incident", "after", "limit"]);
    let kind = app
        .get("/api/v1/audit?action=DROP%20TABLE", Some(&ada))
        .await;
    assert_eq!(kind.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(kind.body.contains("section.save"), "{}", kind.body);
    let cursor = app.get("/api/v1/audit?cursor=abc", Some(&ada)).await;
    assert_eq!(cursor.status, StatusCode::BAD_REQUEST);
    assert_eq!(cursor.json()["error"]["code"], "invalid_cursor");
    let unknown = app.get("/api/v1/audit?colour=red", Some(&ada)).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_incidents_history_is_for_its_members_and_admins() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let other = app.incident(&sam).await;
    let id = app.incident(&dana).await;
    save_summary(&app, &dana, id, "Checkout failed.").await;
    let path = format!("/api/v1/incidents/{id}/history");

    let own = app.get(&path, Some(&dana)).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert_eq!(
        actions(&own.json()),
        ["postmortem.transition", "section.save", "incident.create"]
    );
    assert_eq!(app.get(&path, Some(&ada)).await.status, StatusCode::OK);
    for outsider in [&sam, &vic] {
        let refused = app.get(&path, Some(outsider)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(
            refused.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("wrote in it")
        );
    }

    // Writing in the incident makes Sam one of its members.
    let added = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            &sam,
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert fired for checkout 502s"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let history = app.get(&path, Some(&sam)).await;
    assert_eq!(history.status, StatusCode::OK);
    let history = history.json();
    assert_eq!(history["items"][0]["actor_handle"], "sam");
    assert_eq!(
        history["items"][0]["details"]["after"]["text"],
        "Alert fired for checkout 502s"
    );
    assert!(
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["incident_id"] == id),
        "another incident's changes never appear: {other}"
    );
    let filtered = app
        .get(&format!("{path}?actor=dana&action=section"), Some(&sam))
        .await
        .json();
    assert_eq!(actions(&filtered), ["section.save"]);
    assert_eq!(
        app.get(&format!("{path}?incident={other}"), Some(&sam))
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "the path names the incident; a history takes no other"
    );
}

async fn restricted_history_is_not_found_for_people_who_cannot_see_it(app: TestApp) {
    let ada = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let id = restricted_incident(&app, &dana).await;
    save_summary(&app, &dana, id, "The key was rotated.").await;

    let api = app
        .get(&format!("/api/v1/incidents/{id}/history"), Some(&sam))
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    let cookie = app.sign_in("sam").await;
    let page = app.page(&format!("/incidents/{id}/history"), &cookie).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(!page.body.contains("Signing key"));
    assert!(!page.body.contains("rotated"));

    assert_eq!(
        app.get(&format!("/api/v1/incidents/{id}/history"), Some(&dana))
            .await
            .status,
        StatusCode::OK
    );
    let admin_log = app
        .get(&format!("/api/v1/audit?incident={id}"), Some(&ada))
        .await
        .json();
    assert_eq!(
        actions(&admin_log),
        ["postmortem.transition", "section.save", "incident.create"]
    );
}

#[tokio::test]
async fn restricted_history_is_not_found_for_people_who_cannot_see_it_on_sqlite() {
    restricted_history_is_not_found_for_people_who_cannot_see_it(TestApp::new().await).await;
}

#[tokio::test]
async fn restricted_history_is_not_found_for_people_who_cannot_see_it_on_postgres() {
    restricted_history_is_not_found_for_people_who_cannot_see_it(TestApp::on(
        TestDb::postgres().await,
    ))
    .await;
}

#[tokio::test]
async fn the_admin_audit_page_shows_who_what_when_and_a_word_diff() {
    let app = TestApp::new().await;
    app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    save_summary(
        &app,
        &dana,
        id,
        "Checkout returned errors for some customers after the deploy.\n\nWe rolled back.",
    )
    .await;
    save_summary(
        &app,
        &dana,
        id,
        "Checkout returned 502s for most customers after the deploy.\n\nWe rolled back.",
    )
    .await;
    let cookie = app.sign_in("ada").await;
    let page = app
        .page("/admin/audit?actor=dana&action=section", &cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let body = &page.body;
    assert!(
        body.contains(r#"href="/admin/audit""#),
        "the nav links the log"
    );
    assert!(body.contains("dana Example"));
    assert!(body.contains("saved sections"));
    assert!(body.contains(&format!(r#"href="/incidents/{id}""#)));
    assert!(body.contains(r#"<time datetime=""#));
    assert!(body.contains("[removed: </span>errors"), "{body}");
    assert!(body.contains("[added: </span>502s"), "{body}");
    assert!(
        body.contains(r#"<option value="dana" selected>"#),
        "the filters are kept"
    );
    assert_eq!(
        body.matches("<script").count(),
        body.matches(r#"<script src="/static/app.js" defer>"#)
            .count(),
        "no inline script"
    );
    assert!(
        body.contains(r#"<form class="filters" method="get" action="/admin/audit""#),
        "filtering is a plain GET, with nothing to forge"
    );
    assert!(
        !body.contains("incident.create"),
        "filtered to section saves"
    );
}

#[tokio::test]
async fn the_admin_audit_page_refuses_others_and_explains_bad_filters() {
    let app = TestApp::new().await;
    app.person("ada", "admin").await;
    app.person("dana", "contributor").await;
    let dana = app.sign_in("dana").await;
    let refused = app.page("/admin/audit", &dana).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        !refused.body.contains(r#"href="/admin/audit""#),
        "no nav link for non-admins"
    );
    let ada = app.sign_in("ada").await;
    let bad = app.page("/admin/audit?after=someday", &ada).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("must be a date"), "{}", bad.body);
    assert!(
        bad.body.contains(r#"value="someday""#),
        "the filter is kept to correct"
    );
}

#[tokio::test]
async fn the_incident_page_links_its_history_for_members_who_page_through_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("sam", "contributor").await;
    let id = app.incident(&dana).await;
    save_summary(&app, &dana, id, "First.").await;
    save_summary(&app, &dana, id, "Second.").await;
    let history = format!("/incidents/{id}/history");

    let dana_cookie = app.sign_in("dana").await;
    let incident = app.page(&format!("/incidents/{id}"), &dana_cookie).await;
    assert!(incident.body.contains(&format!(r#"href="{history}""#)));
    let first = app
        .page(&format!("{history}?action=section&limit=1"), &dana_cookie)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(first.body.contains("History of"));
    assert!(first.body.contains("Second."));
    assert!(!first.body.contains("recorded the incident"));
    let next = first
        .body
        .split(r#"rel="next""#)
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|href| {
            href.trim_end_matches("\" ")
                .trim_end_matches('"')
                .replace("&amp;", "&")
        })
        .unwrap();
    assert!(
        next.contains("action=section") && next.contains("cursor="),
        "{next}"
    );
    let second = app.page(&format!("{next}&limit=1"), &dana_cookie).await;
    assert!(second.body.contains("First."), "{}", second.body);

    let sam_cookie = app.sign_in("sam").await;
    let sams_view = app.page(&format!("/incidents/{id}"), &sam_cookie).await;
    assert!(
        !sams_view.body.contains(&history),
        "no link to what Sam may not read"
    );
    let refused = app.page(&history, &sam_cookie).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn what_a_system_actor_did_is_shown_under_its_name_and_filtered_by_it() {
    let app = TestApp::new().await;
    // The test accounts are made as the demo generator would make them.
    let ada = app.person("ada", "admin").await;
    let by_demo = app
        .get("/api/v1/audit?actor=system:demo&action=user", Some(&ada))
        .await;
    assert_eq!(by_demo.status, StatusCode::OK, "{}", by_demo.body);
    let items = by_demo.json()["items"].as_array().unwrap().clone();
    assert!(!items.is_empty());
    for item in &items {
        assert_eq!(item["system_actor"], "system:demo");
        assert_eq!(item["actor"], Value::Null);
    }

    let cookie = app.sign_in("ada").await;
    let page = app.page("/admin/audit?actor=system:demo", &cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<strong>The demo generator</strong> created an account"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"<option value="system:demo" selected>The demo generator</option>"#),
        "the filter offers system actors in words and keeps the choice"
    );
}
