//! Chat through the API: a Slack export's channel previewed for an incident (pre-selected
//! messages, authors matched to people, the coach's findings on quoted speech) and the chosen
//! messages imported once.

use crate::common::{Reply, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;
use std::io::Write;

fn slack_export() -> Vec<u8> {
    let fixtures = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../postmortem-hooks/tests/it/fixtures/slack"
    );
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for name in [
        "users.json",
        "channels.json",
        "incident-checkout/2024-03-14.json",
        "incident-checkout/2024-03-20.json",
    ] {
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&std::fs::read(format!("{fixtures}/{name}")).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

async fn send(app: &TestApp, path: &str, token: &str, body: Vec<u8>) -> Reply {
    let request = Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/zip")
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

#[tokio::test]
async fn a_slack_channel_is_previewed_with_choices_made_and_imported_once() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("ben", "viewer").await;
    let id = app.incident(&dana).await;
    let window = "channel=incident-checkout&from=2024-03-14T12:00:00Z&to=2024-03-14T14:00:00Z&reaction=white_check_mark";
    let preview = send(
        &app,
        &format!("/api/v1/incidents/{id}/chat/preview?{window}"),
        &dana,
        slack_export(),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let items = preview.json()["items"].as_array().unwrap().clone();
    let ticked: Vec<bool> = items.iter().map(|m| m["preselected"] == true).collect();
    assert_eq!(ticked, [false, true, true, true]);
    assert_eq!(items[1]["person"], "ben", "matched by the Slack handle");
    assert_eq!(
        items[0]["person"],
        Value::Null,
        "ana.ruiz has no account here"
    );
    assert_eq!(items[3]["author"]["name"], "U09GONE");

    let chosen = format!(
        "{},{}",
        items[1]["id"].as_str().unwrap(),
        items[2]["id"].as_str().unwrap()
    );
    let import = format!(
        "/api/v1/incidents/{id}/chat/import?{window}&select=ids&ids={chosen}&perspective=believed"
    );
    let imported = send(&app, &import, &dana, slack_export()).await;
    assert_eq!(imported.status, StatusCode::OK, "{}", imported.body);
    assert_eq!(imported.json()["added"], 2);
    let again = send(&app, &import, &dana, slack_export()).await;
    assert_eq!(again.json()["added"], 0);
    assert_eq!(again.json()["already"], 2);

    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    let entry = record["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["source"] == "chat")
        .unwrap()
        .clone();
    assert_eq!(
        entry["text"],
        "> The 13:48 deploy of checkout-api looks related, rolling back"
    );
    assert_eq!(entry["actor"], "ben Example");
    assert_eq!(entry["perspective"], "believed");
    assert_eq!(
        entry["source_url"],
        "https://slack.com/archives/C05INC1/p1710420420000200"
    );
    let preview = send(
        &app,
        &format!("/api/v1/incidents/{id}/chat/preview?{window}"),
        &dana,
        slack_export(),
    )
    .await;
    assert_eq!(preview.json()["items"][1]["imported"], true);
}

#[tokio::test]
async fn chat_text_is_checked_as_quoted_speech_and_a_bad_export_is_refused_with_the_reason() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = app.incident(&dana).await;
    let csv = "time,author,text\n2026-03-01T13:05:00Z,ana,Sam carelessly pushed the broken config\n2026-03-01T13:06:00Z,ben,Rolled back the config\n";
    let preview = send(
        &app,
        &format!("/api/v1/incidents/{id}/chat/preview"),
        &dana,
        csv.into(),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    let items = preview.json()["items"].as_array().unwrap().clone();
    assert!(
        !items[0]["findings"].as_array().unwrap().is_empty(),
        "{items:?}"
    );
    assert_eq!(items[1]["findings"], serde_json::json!([]));

    let refused = send(
        &app,
        &format!("/api/v1/incidents/{id}/chat/preview?channel=general"),
        &dana,
        b"not a zip".to_vec(),
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not a zip archive"),
        "{}",
        refused.body
    );
    let nothing = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana))
        .await
        .json();
    assert_eq!(nothing["timeline"], serde_json::json!([]));
}
