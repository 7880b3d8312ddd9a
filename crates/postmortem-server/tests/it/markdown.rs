//! `GET /api/v1/incidents/{id}/markdown`: the export file of an incident, read back byte for
//! byte; only for those who may read it; and its external version, which leaks no name,
//! handle, email address or internal host.

use crate::common::{TestApp, outage};
use axum::http::{StatusCode, header};
use postmortem_core::{Handle, Templates};
use postmortem_markdown::{ImportContext, parse, render};
use serde_json::json;

/// An incident of `dana`'s with a summary that names people and internal hosts, and a
/// timeline entry.
async fn written_incident(app: &TestApp, dana: &str) -> i64 {
    let id = app.incident(dana).await;
    let etag = app.etag(id, dana).await;
    let summary = "Dana Example (dana@corp.example.com) restarted db-1.prod.internal at 10.1.2.3; vic Example watched.";
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            dana,
            Some(&etag),
            json!({"sections": {"summary": summary, "impact": "Checkout failed for 47 minutes."}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let added = app
        .post_json(
            &format!("/api/v1/incidents/{id}/timeline"),
            dana,
            json!({"at": "2026-03-01T14:05:00+01:00", "text": "@dana was paged by the checkout alert", "marker": "detected", "source": "alert", "source_url": "https://alerts.example/1"}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    id
}

#[tokio::test]
async fn an_incident_exports_as_markdown_that_reads_back_to_the_same_bytes() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = written_incident(&app, &dana).await;

    let exported = app
        .get(&format!("/api/v1/incidents/{id}/markdown"), Some(&dana))
        .await;
    assert_eq!(exported.status, StatusCode::OK, "{}", exported.body);
    assert_eq!(
        exported.headers[header::CONTENT_TYPE],
        "text/markdown; charset=utf-8"
    );
    let text = exported.body.clone();
    assert!(text.starts_with("---\nformat: postmortem/1\n"), "{text}");
    assert!(text.contains(&format!("\nid: {id}\n")), "{text}");
    assert!(text.contains("recorded_by: dana\n"), "{text}");
    assert!(
        text.contains("## Impact\n\nCheckout failed for 47 minutes.\n"),
        "{text}"
    );
    assert!(
        text.contains("- 2026-03-01T14:05:00+01:00 · detected · happened · alert · by @dana · <https://alerts.example/1>\n  @dana was paged by the checkout alert\n"),
        "{text}"
    );

    let templates = Templates::default();
    let importer = Handle::parse("someone").unwrap();
    let context = ImportContext {
        templates: &templates,
        importer: &importer,
        now: time::OffsetDateTime::now_utc(),
    };
    let parsed = parse("export.md", &text, &context).unwrap();
    assert_eq!(render(&parsed.document, &templates), text);
}

#[tokio::test]
async fn a_restricted_incident_is_not_exported_to_someone_who_may_not_read_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let mut body = outage();
    body["kind"] = json!("security");
    let created = app.post_json("/api/v1/incidents", &dana, body).await;
    let id = created.json()["id"].as_i64().unwrap();
    for query in ["", "?audience=external"] {
        let refused = app
            .get(
                &format!("/api/v1/incidents/{id}/markdown{query}"),
                Some(&vic),
            )
            .await;
        assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.body);
        assert!(!refused.body.contains("format: postmortem/1"));
    }
    let anonymous = app
        .get(&format!("/api/v1/incidents/{id}/markdown"), None)
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_external_version_names_no_one_and_no_internal_host() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("vic", "viewer").await;
    let id = written_incident(&app, &dana).await;

    let shared = app
        .get(
            &format!("/api/v1/incidents/{id}/markdown?audience=external&sections=summary,timeline"),
            Some(&dana),
        )
        .await;
    assert_eq!(shared.status, StatusCode::OK, "{}", shared.body);
    let text = shared.body.to_lowercase();
    for secret in [
        "dana",
        "vic",
        "example)",
        "@",
        "prod.internal",
        "10.1.2.3",
        "alerts.example/1",
    ] {
        assert!(
            !text.contains(secret),
            "`{secret}` leaked:\n{}",
            shared.body
        );
    }
    assert!(text.contains("an engineer"), "{}", shared.body);
    assert!(
        !text.contains("checkout failed for 47 minutes"),
        "impact was not chosen"
    );

    let bad = app
        .get(
            &format!("/api/v1/incidents/{id}/markdown?audience=press"),
            Some(&dana),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "invalid_query");
}
