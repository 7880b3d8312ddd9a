//! `POST /api/v1/import`: a Markdown file through the app's import use case, as the person
//! sending it, matched again on a second import, refused whole when it cannot be read.

use crate::common::{Reply, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

const WRITTEN_ELSEWHERE: &str = "# Search was slow\n\n## Summary\n\nSearch answered in seconds instead of milliseconds.\n\n## Timeline\n\n- 2025-06-02 14:02 UTC Latency alert fired\n";

async fn import(
    app: &TestApp,
    token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Reply {
    let request = Request::post(format!("/api/v1/import{query}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn a_contributor_imports_a_post_mortem_once_and_a_second_import_finds_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let dry = import(
        &app,
        &dana,
        "?dry_run=true",
        "text/markdown",
        WRITTEN_ELSEWHERE.into(),
    )
    .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.json()["outcome"], "would_create");
    assert!(
        dry.json()["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("Timeline")),
        "{}",
        dry.body
    );

    let created = import(
        &app,
        &dana,
        "",
        "text/markdown; charset=utf-8",
        WRITTEN_ELSEWHERE.into(),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["outcome"], "created");
    let id = created.json()["id"].as_i64().unwrap();
    let incident = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(incident["title"], "Search was slow");

    let again = import(&app, &dana, "", "text/markdown", WRITTEN_ELSEWHERE.into()).await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.body);
    assert_eq!(
        (
            again.json()["outcome"].as_str(),
            again.json()["id"].as_i64()
        ),
        (Some("unchanged"), Some(id))
    );

    let history = app
        .get(
            &format!("/api/v1/incidents/{id}/history?action=incident"),
            Some(&dana),
        )
        .await
        .json();
    let event = &history["items"][0];
    assert_eq!(
        (event["action"].as_str(), event["actor_handle"].as_str()),
        (Some("incident.import"), Some("dana"))
    );
    assert_eq!(event["details"]["source"], "api");
}

#[tokio::test]
async fn viewers_may_not_import_and_unreadable_files_are_refused_with_their_line() {
    let app = TestApp::new().await;
    let vic = app.person("vic", "viewer").await;
    let dana = app.person("dana", "contributor").await;
    let refused = import(&app, &vic, "", "text/markdown", WRITTEN_ELSEWHERE.into()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    let json = import(
        &app,
        &dana,
        "",
        "application/json",
        WRITTEN_ELSEWHERE.into(),
    )
    .await;
    assert_eq!(
        json.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        json.body
    );

    let latin1 = import(
        &app,
        &dana,
        "",
        "text/markdown",
        b"# T\n\nbad \xff\n".to_vec(),
    )
    .await;
    assert_eq!(
        latin1.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        latin1.body
    );
    assert!(
        latin1.body.contains("api:3: the file is not UTF-8"),
        "{}",
        latin1.body
    );

    let huge = import(
        &app,
        &dana,
        "",
        "text/markdown",
        vec![b'a'; 10 * 1024 * 1024],
    )
    .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", huge.body);
    assert!(huge.body.contains("the Markdown file is"), "{}", huge.body);
    let none = app.get("/api/v1/incidents", Some(&dana)).await.json();
    assert_eq!(none["total"], 0, "nothing of a refused file is written");
}

#[tokio::test]
async fn a_page_exported_from_google_docs_is_imported_when_sent_as_html() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let page = include_str!(
        "../../../postmortem-markdown/tests/it/fixtures/html/google-docs-download.html"
    );
    let created = import(&app, &dana, "", "text/html; charset=utf-8", page.into()).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let incident = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(incident["title"], "Search latency incident");
    let deep = format!("<html><body>{}</body></html>", "<div>".repeat(1000));
    let refused = import(&app, &dana, "", "text/html", deep.into()).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("nests elements"), "{}", refused.body);
}
