//! The HTTP API and pages, driven through the router without a socket.

use crate::common::{TestApp, outage};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use postmortem_store::testing::TestDb;
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer_without_signing_in() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_api_refuses_requests_without_a_valid_token() {
    let app = TestApp::new().await;
    let reply = app.get("/api/v1/incidents", None).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["error"]["code"], "unauthenticated");
    assert_eq!(
        app.get("/api/v1/incidents", Some("pm_wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_contributor_creates_an_incident_and_reads_it_back_with_an_etag() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let created = app.post_json("/api/v1/incidents", &token, outage()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let incident = created.json();
    let id = incident["id"].as_i64().unwrap();
    assert_eq!(
        created.headers[header::LOCATION],
        format!("/api/v1/incidents/{id}")
    );
    assert_eq!(incident["services"], json!(["checkout", "payments-api"]));
    assert_eq!(incident["postmortem"]["status"], "owed");
    assert_eq!(incident["postmortem"]["decision"], "required");
    let reason = incident["postmortem"]["required_reasons"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        reason.contains("47 min") && reason.contains("threshold 30 min"),
        "the policy's reason is given: {reason}"
    );
    assert_eq!(incident["postmortem"]["template"], "full");
    assert!(incident["postmortem"]["due_on"].is_string());

    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.headers[header::ETAG], "\"v1\"");
    let whole = read.json();
    assert_eq!(whole["title"], "Checkout returned 502s");
    assert_eq!(whole["started_at"], "2026-03-01T14:00:00+01:00");
    for key in ["timeline", "factors", "actions", "reviews"] {
        assert_eq!(whole[key], json!([]), "{key}");
    }
    assert_eq!(whole["postmortem"]["sections"], json!({}));
}

#[tokio::test]
async fn bad_input_is_refused_naming_every_field_and_its_rule() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let reply = app
        .post_json("/api/v1/incidents", &token, json!({"title": " ", "kind": "meltdown", "severity": "SEV9", "started_at": "2026-03-01 14:00"}))
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "invalid_input");
    let fields: Vec<&str> = error["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "kind", "severity", "started_at"]);
    assert!(error["message"].as_str().unwrap().contains("time zone"));
    let listed = app.get("/api/v1/incidents", Some(&token)).await.json();
    assert_eq!(listed["total"], 0, "nothing was stored");
}

#[tokio::test]
async fn malformed_json_and_unknown_fields_get_the_error_shape() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let request = Request::post("/api/v1/incidents")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    let reply = app.send(request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.json()["error"]["code"], "invalid_json");
    let mut body = outage();
    body["sevrity"] = json!("SEV1");
    let reply = app.post_json("/api/v1/incidents", &token, body).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("sevrity")
    );
}

#[tokio::test]
async fn a_viewer_may_read_but_not_record_incidents() {
    let app = TestApp::new().await;
    let viewer = app.person("vic", "viewer").await;
    let reply = app.post_json("/api/v1/incidents", &viewer, outage()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.json()["error"]["code"], "forbidden");
    assert_eq!(
        app.get("/api/v1/incidents", Some(&viewer)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_incident_list_filters_and_pages_with_a_cursor() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    for n in 0..5 {
        let mut body = outage();
        body["title"] = json!(format!("Outage {n}"));
        body["severity"] = json!(if n < 2 { "SEV1" } else { "SEV3" });
        app.post_json("/api/v1/incidents", &token, body).await;
    }
    let first = app
        .get("/api/v1/incidents?limit=2", Some(&token))
        .await
        .json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    assert_eq!(first["total"], 5);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(
            &format!("/api/v1/incidents?limit=2&cursor={cursor}"),
            Some(&token),
        )
        .await
        .json();
    assert_ne!(first["items"][0]["id"], second["items"][0]["id"]);
    let severe = app
        .get("/api/v1/incidents?severity=SEV1", Some(&token))
        .await
        .json();
    assert_eq!(severe["total"], 2);
    let bad = app
        .get("/api/v1/incidents?severity=SEV7&sort=random", Some(&token))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.json()["error"]["details"].as_array().unwrap().len(), 2);
    let foreign = app.get("/api/v1/incidents?cursor=abc", Some(&token)).await;
    assert_eq!(foreign.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn restricted_incidents_do_not_exist_for_other_people() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let admin = app.person("ada", "admin").await;
    let mut body = outage();
    body["kind"] = json!("security");
    let created = app.post_json("/api/v1/incidents", &dana, body).await.json();
    assert_eq!(
        created["restricted"], true,
        "security incidents start restricted"
    );
    let path = format!("/api/v1/incidents/{}", created["id"]);
    assert_eq!(
        app.get(&path, Some(&sam)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/incidents", Some(&sam)).await.json()["total"],
        0
    );
    assert_eq!(app.get(&path, Some(&dana)).await.status, StatusCode::OK);
    assert_eq!(app.get(&path, Some(&admin)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn pages_send_strangers_to_sign_in_and_signed_in_people_see_the_list() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    app.post_json("/api/v1/incidents", &token, outage()).await;
    let stranger = app.get("/", None).await;
    assert_eq!(stranger.status, StatusCode::SEE_OTHER);
    assert_eq!(stranger.headers[header::LOCATION], "/login?next=/");

    let login = Request::post("/login")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            "handle=dana&password=correct+horse+battery&next=%2F",
        ))
        .unwrap();
    let signed_in = app.send(login).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let cookie = signed_in.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let home = app
        .send(
            Request::get("/incidents")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(
        home.body.contains("Checkout returned 502s"),
        "{}",
        home.body
    );
    assert!(home.body.contains("<label for=\"severity\">"));
    let incident = app
        .send(
            Request::get("/incidents/1")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(incident.status, StatusCode::OK);
    assert!(
        incident
            .body
            .contains("What happened, in three or four sentences"),
        "the template's questions guide an empty post-mortem"
    );
}

#[tokio::test]
async fn a_wrong_password_is_refused_without_saying_which_part_was_wrong() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    for body in [
        "handle=dana&password=wrong+password+here",
        "handle=nobody&password=correct+horse+battery",
    ] {
        let request = Request::post("/login")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(
            reply
                .body
                .contains("That handle and password do not match an account.")
        );
        assert!(!reply.headers.contains_key(header::SET_COOKIE));
    }
}

#[tokio::test]
async fn the_first_sign_in_page_says_how_to_create_the_first_admin() {
    let app = TestApp::new().await;
    let page = app.get("/login", None).await;
    assert!(
        page.body.contains("postmortem user create admin"),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn the_api_works_the_same_on_postgres() {
    let app = TestApp::on(TestDb::postgres().await);
    let token = app.person("dana", "contributor").await;
    let created = app.post_json("/api/v1/incidents", &token, outage()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let listed = app
        .get("/api/v1/incidents?service=checkout", Some(&token))
        .await
        .json();
    assert_eq!(listed["total"], 1);
}

// Found by `cargo xtask schemathesis`: an action item's due date was serialised as serde's
// `[year, ordinal day]` pair instead of the documented `YYYY-MM-DD`.
#[tokio::test]
async fn an_action_items_due_date_reads_as_year_month_day_wherever_it_is_shown() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let id = app.incident(&token).await;
    let created = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &token,
            json!({"title": "Raise the pool default", "due_on": "2026-04-01", "kind": "prevent"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["due_on"], "2026-04-01");
    let action_id = created.json()["id"].as_i64().unwrap();

    let incident = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(incident["actions"][0]["due_on"], "2026-04-01");
    let listed = app.get("/api/v1/actions", Some(&token)).await.json();
    assert_eq!(listed["items"][0]["due_on"], "2026-04-01");
    let moved = app
        .patch_json(
            &format!("/api/v1/actions/{action_id}"),
            &token,
            None,
            json!({"due_on": "2026-05-02"}),
        )
        .await;
    assert_eq!(moved.json()["due_on"], "2026-05-02", "{}", moved.body);
}

// Found by `cargo xtask schemathesis`: a path id that was not a whole number was answered
// with a plain-text 400 outside the API's error shape.
#[tokio::test]
async fn an_id_that_is_not_a_whole_number_is_a_404_in_the_api_error_shape() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    for path in [
        "/api/v1/incidents/abc",
        "/api/v1/incidents/9223372036854775808",
        "/api/v1/incidents/1.5/events",
    ] {
        let reply = app.get(path, Some(&token)).await;
        assert_eq!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{path}: {}",
            reply.body
        );
        assert_eq!(reply.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(reply.json()["error"]["code"], "not_found", "{path}");
    }
    let reply = app
        .post_json(
            "/api/v1/incidents/1/comments/true/resolve",
            &token,
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("`true`"),
        "names the bad segment: {message}"
    );
}
