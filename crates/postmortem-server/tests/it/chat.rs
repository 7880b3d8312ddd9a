//! Chat through the API and the selection page: a Slack export's channel previewed for an
//! incident (pre-selected messages, authors matched to people, the coach's findings on quoted
//! speech) and the chosen messages imported once.

use crate::common::{Reply, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use postmortem_store::testing::TestDb;
use serde_json::Value;
use std::io::Write;

pub(crate) fn slack_export() -> Vec<u8> {
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

/// The upload form sent as a browser sends it: multipart, with the session, the page's CSRF
/// token and an `Origin`.
async fn upload(app: &TestApp, id: i64, cookie: &str, name: &str, bytes: &[u8]) -> Reply {
    let page = app.page(&format!("/incidents/{id}/chat"), cookie).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let boundary = "----postmortem-test-boundary";
    let mut body = Vec::new();
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
        crate::common::csrf_of(&page.body)
    )
    .unwrap();
    write!(
        body,
        "--{boundary}\r\nContent-Disposition: form-data; name=\"export\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .unwrap();
    body.extend_from_slice(bytes);
    write!(body, "\r\n--{boundary}--\r\n").unwrap();
    let request = Request::post(format!("/incidents/{id}/chat"))
        .header(header::COOKIE, cookie)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "http://localhost")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    app.send(request).await
}

fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    reply.headers[header::LOCATION].to_str().unwrap().to_owned()
}

/// The messages a selection page offers, in order, with whether each is ticked.
fn offered(html: &str) -> Vec<(String, bool)> {
    html.split("<input type=\"checkbox\"")
        .skip(1)
        .map(|input| {
            let input = input.split('>').next().unwrap();
            let value = input.split("value=\"").nth(1).unwrap();
            let value = value.split('"').next().unwrap().to_owned();
            (value, input.contains("checked"))
        })
        .collect()
}

const WINDOW: &str =
    "channel=incident-checkout&from=2024-03-14T12:00&to=2024-03-14T14:00&reaction=white_check_mark";

async fn the_selection_page_imports_the_ticked_messages_once_on(app: TestApp) {
    let dana_token = app.person("dana", "contributor").await;
    app.person("ben", "viewer").await;
    let id = app.incident(&dana_token).await;
    let dana = app.sign_in("dana").await;

    let incident_page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(
        incident_page
            .body
            .contains(&format!("href=\"/incidents/{id}/chat\"")),
        "the incident page leads authors to the chat selection"
    );
    let uploaded = upload(&app, id, &dana, "acme.zip", &slack_export()).await;
    let selection = location(&uploaded);
    assert!(selection.starts_with(&format!("/incidents/{id}/chat/")));

    // Before a channel is chosen: the channels of channels.json and the incident's window.
    let first = app.page(&selection, &dana).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert!(
        first.body.contains("#incident-checkout (2 days)"),
        "{}",
        first.body
    );
    assert!(first.body.contains("#general (0 days)"));
    assert!(
        first.body.contains("value=\"2026-03-01T12:00\""),
        "an hour before the incident started (14:00+01:00): {}",
        first.body
    );
    assert!(offered(&first.body).is_empty());

    let page = app.page(&format!("{selection}?{WINDOW}"), &dana).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let messages = offered(&page.body);
    let ticked: Vec<bool> = messages.iter().map(|(_, t)| *t).collect();
    assert_eq!(ticked, [false, true, true, true], "{}", page.body);
    assert!(
        page.body.contains("<strong>ben Example</strong>"),
        "matched by handle, shown by name"
    );
    assert!(
        page.body
            .contains("Ana Ruiz<br><span class=\"muted\">no account here</span>")
    );
    assert!(page.body.contains("3 ticked for you"));

    // Untick the third, give the second a marker of its own, and import as believed.
    let csrf = crate::common::csrf_of(&page.body);
    let marker = format!("marker:{}", messages[1].0);
    let import = app
        .post_form(
            &selection,
            &dana,
            &[
                ("csrf", &csrf),
                ("channel", "incident-checkout"),
                ("from", "2024-03-14T12:00"),
                ("to", "2024-03-14T14:00"),
                ("reaction", "white_check_mark"),
                ("perspective", "believed"),
                ("marker", ""),
                ("message", &messages[1].0),
                ("message", &messages[3].0),
                (&marker, "mitigated"),
            ],
        )
        .await;
    assert_eq!(
        location(&import),
        format!("/incidents/{id}/chat?added=2&already=0")
    );
    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana_token))
        .await
        .json();
    let entries: Vec<(String, String, String, String)> = record["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["source"].as_str().unwrap().to_owned(),
                e["perspective"].as_str().unwrap().to_owned(),
                e["marker"].as_str().unwrap_or("none").to_owned(),
                e["source_url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            (
                "chat".into(),
                "believed".into(),
                "mitigated".into(),
                "https://slack.com/archives/C05INC1/p1710420420000200".into()
            ),
            (
                "chat".into(),
                "believed".into(),
                "none".into(),
                "https://slack.com/archives/C05INC1/p1710422100000400".into()
            ),
        ]
    );

    // The import deleted the upload.
    let gone = app.page(&format!("{selection}?{WINDOW}"), &dana).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.body.contains("This upload is no longer here"));

    // The same messages again add nothing, and the page says so.
    let again = location(&upload(&app, id, &dana, "acme.zip", &slack_export()).await);
    let page = app.page(&format!("{again}?{WINDOW}"), &dana).await;
    assert!(
        page.body.contains("2 already in the timeline"),
        "{}",
        page.body
    );
    let ticked: Vec<bool> = offered(&page.body).iter().map(|(_, t)| *t).collect();
    assert_eq!(
        ticked,
        [false, false, true, false],
        "imported ones are not offered ticked"
    );
    let import = app
        .post_form(
            &again,
            &dana,
            &[
                ("csrf", &csrf),
                ("channel", "incident-checkout"),
                ("from", "2024-03-14T12:00"),
                ("to", "2024-03-14T14:00"),
                ("message", &messages[1].0),
                ("message", &messages[3].0),
            ],
        )
        .await;
    let done = location(&import);
    assert_eq!(done, format!("/incidents/{id}/chat?added=0&already=2"));
    let said = app.page(&done, &dana).await;
    assert!(
        said.body
            .contains("Added 0 entries to the timeline. 2 already in the timeline"),
        "{}",
        said.body
    );
    let record = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&dana_token))
        .await
        .json();
    assert_eq!(record["timeline"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_selection_page_imports_the_ticked_messages_once_on_sqlite() {
    the_selection_page_imports_the_ticked_messages_once_on(TestApp::new().await).await;
}

#[tokio::test]
async fn the_selection_page_imports_the_ticked_messages_once_on_postgres() {
    the_selection_page_imports_the_ticked_messages_once_on(TestApp::on(TestDb::postgres().await))
        .await;
}

#[tokio::test]
async fn an_upload_belongs_to_its_uploader_and_a_file_that_is_no_export_is_refused_saying_why() {
    let app = TestApp::new().await;
    let dana_token = app.person("dana", "contributor").await;
    app.person("erin", "contributor").await;
    app.person("vic", "viewer").await;
    let id = app.incident(&dana_token).await;
    let dana = app.sign_in("dana").await;

    let refused = upload(&app, id, &dana, "broken.zip", b"PK\x03\x04 not really").await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("That file could not be read: the file is not a zip archive"),
        "{}",
        refused.body
    );
    let empty = upload(&app, id, &dana, "empty.csv", b"time,author,text,link\n").await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("holds no messages"), "{}", empty.body);

    let selection = location(&upload(&app, id, &dana, "acme.zip", &slack_export()).await);
    let erin = app.sign_in("erin").await;
    let other = app.page(&selection, &erin).await;
    assert_eq!(
        other.status,
        StatusCode::NOT_FOUND,
        "another person's upload is not theirs"
    );

    let vic = app.sign_in("vic").await;
    let viewer = app.page(&format!("/incidents/{id}/chat"), &vic).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);

    let page = app.page(&format!("{selection}?{WINDOW}"), &dana).await;
    let csrf = crate::common::csrf_of(&page.body);
    let nothing = app
        .post_form(
            &selection,
            &dana,
            &[
                ("csrf", &csrf),
                ("channel", "incident-checkout"),
                ("from", "2024-03-14T12:00"),
                ("to", "2024-03-14T14:00"),
            ],
        )
        .await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nothing
            .body
            .contains("Tick at least one message to import.")
    );
    let bad_window = app
        .page(
            &format!("{selection}?channel=incident-checkout&from=yesterday"),
            &dana,
        )
        .await;
    assert_eq!(bad_window.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad_window
            .body
            .contains("`yesterday` is not a date and time"),
        "{}",
        bad_window.body
    );
}
