//! Text both databases accept: a control character in prose or one-line text, or a direction
//! override in a title, is refused with 422 naming the field, the character and where it is,
//! the same on SQLite and PostgreSQL (PostgreSQL cannot store U+0000 at all), and nothing is
//! written.

use crate::common::{TestApp, csrf_of, outage};
use axum::http::StatusCode;
use postmortem_store::testing::TestDb;
use serde_json::{Value, json};

/// The one refused field of an `invalid_input` answer and its rule.
fn refusal(reply: &crate::common::Reply) -> (String, String) {
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "invalid_input");
    let details = error["details"].as_array().unwrap();
    assert_eq!(details.len(), 1, "{details:?}");
    let field = details[0]["field"].as_str().unwrap().to_owned();
    (field, details[0]["rule"].as_str().unwrap().to_owned())
}

fn with_title(title: &str) -> Value {
    let mut body = outage();
    body["title"] = json!(title);
    body
}

async fn nul_and_overrides_are_refused_on(app: TestApp) {
    let token = app.person("dana", "contributor").await;
    let (field, rule) = refusal(
        &app.post_json("/api/v1/incidents", &token, with_title("Checkout\0 down"))
            .await,
    );
    assert_eq!(field, "title");
    assert!(rule.contains("U+0000 NULL at character 9"), "{rule}");
    let (field, rule) = refusal(
        &app.post_json(
            "/api/v1/incidents",
            &token,
            with_title("Invoice \u{202E}fdp.exe"),
        )
        .await,
    );
    assert_eq!(field, "title");
    assert!(
        rule.contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 9"),
        "{rule}"
    );

    let id = app.incident(&token).await;
    let etag = app.etag(id, &token).await;
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &token,
            Some(&etag),
            json!({"sections": {"summary": "Checkout failed.\n\nThe pool\0 ran dry."}}),
        )
        .await;
    let (field, rule) = refusal(&saved);
    assert_eq!(field, "sections.summary");
    assert!(rule.contains("U+0000 NULL at line 3, column 9"), "{rule}");

    let timeline = format!("/api/v1/incidents/{id}/timeline");
    let entry = json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert\0 fired"});
    let (field, rule) = refusal(&app.post_json(&timeline, &token, entry).await);
    assert_eq!(field, "text");
    assert!(rule.contains("U+0000 NULL at line 1, column 6"), "{rule}");
    let entry =
        json!({"at": "2026-03-01T14:05:00+01:00", "text": "Alert fired", "actor": "dana\u{1b}[2J"});
    let (field, rule) = refusal(&app.post_json(&timeline, &token, entry).await);
    assert_eq!(field, "actor");
    assert!(rule.contains("U+001B ESCAPE at character 5"), "{rule}");

    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(record["version"], 1, "nothing was written: {record}");
    assert_eq!(record["timeline"], json!([]));

    let kept = "Checkout failed.\tFor\r\n47 minutes 👩‍💻 שלום \u{202E}kept in prose";
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &token,
            Some(&etag),
            json!({"sections": {"summary": kept}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(record["postmortem"]["sections"]["summary"], kept);
}

#[tokio::test]
async fn a_nul_or_a_direction_override_is_refused_with_422_on_sqlite() {
    nul_and_overrides_are_refused_on(TestApp::on(TestDb::sqlite().await)).await;
}

#[tokio::test]
async fn a_nul_or_a_direction_override_is_refused_with_422_on_postgres() {
    nul_and_overrides_are_refused_on(TestApp::on(TestDb::postgres().await)).await;
}

#[tokio::test]
async fn the_new_incident_form_names_the_refused_character_beside_the_title() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let cookie = app.sign_in("dana").await;
    let form = app.page("/incidents/new", &cookie).await;
    let csrf = csrf_of(&form.body);
    let refused = app
        .post_form(
            "/incidents/new",
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Invoice \u{202E}fdp.exe"),
                ("kind", "outage"),
                ("severity", "SEV2"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let error = refused
        .body
        .split("id=\"incident-title-error\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no error beside the title: {}", refused.body));
    assert!(
        error[..error.find("</span>").unwrap()]
            .contains("U+202E RIGHT-TO-LEFT OVERRIDE at character 9"),
        "{error}"
    );
}
