//! Bodies larger than their route takes are answered `413` with the size and the limit in
//! words, in the API's error shape or as a page, and the client gets to read that answer: no
//! broken pipe, whether it declared the length, sent chunks, or asked to be told first
//! (`Expect: 100-continue`). Against a real server on a socket, since the point is what
//! happens on the connection.

use crate::common::{TestApp, outage};
use axum::http::StatusCode;
use postmortem_server::{AppState, Settings, serve};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The application on a socket, with dana (a contributor) and one incident of hers.
struct Live {
    base: String,
    app: TestApp,
    token: String,
    id: i64,
}

async fn live() -> Live {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let id = app.incident(&token).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(app.db.store.clone(), Settings::default());
    tokio::spawn(serve(listener, state, std::future::pending()));
    Live {
        base,
        app,
        token,
        id,
    }
}

/// A timeline entry whose whole JSON body is `bytes` long.
fn entry_of(bytes: usize) -> String {
    let empty = json!({"at": "2026-03-01T14:05:00+01:00", "text": ""}).to_string();
    let text = "x".repeat(bytes - empty.len());
    json!({"at": "2026-03-01T14:05:00+01:00", "text": text}).to_string()
}

/// Sends raw HTTP/1.1 on a new connection, all of it, and reads the answer to its end.
async fn raw(live: &Live, head: &str, body: &[u8]) -> String {
    let address = live.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(head.as_bytes())
        .await
        .expect("the head is sent");
    stream
        .write_all(body)
        .await
        .expect("the whole body is sent: no broken pipe");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn an_oversized_timeline_entry_is_answered_413_with_its_size_and_the_limit() {
    let live = live().await;
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/incidents/{}/timeline", live.base, live.id);
    let refused = client
        .post(&url)
        .bearer_auth(&live.token)
        .header("content-type", "application/json")
        .body(entry_of(5_200_000))
        .send()
        .await
        .expect("the answer is read");
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = refused.json().await.unwrap();
    assert_eq!(error["error"]["code"], "too_large");
    assert_eq!(
        error["error"]["message"],
        "the timeline entry is 5.2 MB; the limit is 1 MB: send less at a time"
    );
    assert_eq!(error["error"]["details"]["limit_bytes"], 1_000_000);
    assert_eq!(error["error"]["details"]["size_bytes"], 5_200_000);

    // The same client goes on, and one byte under the limit is read (and refused for its
    // text, which is longer than a Markdown text may be, not for its size).
    let at_limit = client
        .post(&url)
        .bearer_auth(&live.token)
        .header("content-type", "application/json")
        .body(entry_of(1_000_000))
        .send()
        .await
        .unwrap();
    assert_eq!(at_limit.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let error: Value = at_limit.json().await.unwrap();
    assert_eq!(error["error"]["details"][0]["field"], "text");
    let record = live
        .app
        .get(&format!("/api/v1/incidents/{}", live.id), Some(&live.token))
        .await
        .json();
    assert_eq!(record["timeline"], json!([]), "nothing was written");
}

#[tokio::test]
async fn a_client_that_writes_its_whole_body_before_reading_gets_the_413_not_a_broken_pipe() {
    let live = live().await;
    let entry = entry_of(20_000_000);
    let head = format!(
        "POST /api/v1/incidents/{}/timeline HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        live.id,
        live.token,
        entry.len()
    );
    let answer = raw(&live, &head, entry.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("the timeline entry is 20 MB; the limit is 1 MB"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_read_and_answered_413() {
    let live = live().await;
    let entry = entry_of(2_500_000);
    let mut chunked = Vec::new();
    for chunk in entry.as_bytes().chunks(64 * 1024) {
        chunked.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        chunked.extend_from_slice(chunk);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let head = format!(
        "POST /api/v1/incidents/{}/timeline HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        live.id, live.token
    );
    let answer = raw(&live, &head, &chunked).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("the timeline entry is 2.5 MB; the limit is 1 MB"),
        "{answer}"
    );
}

#[tokio::test]
async fn a_client_that_asks_first_is_told_413_before_it_sends_the_body() {
    let live = live().await;
    let head = format!(
        "PATCH /api/v1/incidents/{}/postmortem HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nIf-Match: \"v1\"\r\nContent-Length: 52000000\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n",
        live.id, live.token
    );
    let answer = raw(&live, &head, b"").await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "not told to go on: {answer}"
    );
    assert!(
        answer.contains("the sections are 52 MB; the limit is 8 MB"),
        "{answer}"
    );
}

#[tokio::test]
async fn sections_larger_than_the_old_2_mb_default_but_within_their_limit_are_saved() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let id = app.incident(&token).await;
    let etag = app.etag(id, &token).await;
    // Quotes are escaped in JSON, so each 190 KB section takes 380 KB on the wire.
    let text = "\"".repeat(190_000);
    let names = [
        "summary",
        "impact",
        "trigger",
        "contributing_factors",
        "detection",
        "response",
    ];
    let sections: serde_json::Map<String, Value> =
        names.iter().map(|n| (n.to_string(), json!(text))).collect();
    let body = json!({"sections": sections});
    assert!(body.to_string().len() > 2_000_000);
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            &token,
            Some(&etag),
            body,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
}

#[tokio::test]
async fn an_oversized_form_gets_a_readable_page_saying_the_size_and_the_limit() {
    let live = live().await;
    let cookie = live.app.sign_in("dana").await;
    let text = "x".repeat(2_000_000);
    let refused = reqwest::Client::new()
        .post(format!("{}/incidents/{}/timeline", live.base, live.id))
        .header("cookie", &cookie)
        .header("origin", &live.base)
        .form(&[("at_local", "2026-03-01T14:05"), ("text", text.as_str())])
        .send()
        .await
        .expect("the browser reads the answer");
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        refused.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("<h1>What you sent is too large</h1>"),
        "{page}"
    );
    assert!(
        page.contains("Nothing was saved: the timeline entry is 2 MB; the limit is 1 MB"),
        "{page}"
    );
}

#[tokio::test]
async fn a_route_without_long_text_takes_64_kb() {
    let live = live().await;
    let mut incident = outage();
    incident["title"] = json!("x".repeat(70_000));
    let refused = reqwest::Client::new()
        .post(format!("{}/api/v1/incidents", live.base))
        .bearer_auth(&live.token)
        .json(&incident)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let error: Value = refused.json().await.unwrap();
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the incident is 70.2 KB; the limit is 64 KB"),
        "{error}"
    );
}

#[tokio::test]
async fn an_oversized_webhook_payload_is_answered_in_the_apis_error_shape() {
    let app = TestApp::new().await;
    let request = axum::http::Request::post("/hooks/alertmanager/1")
        .header("content-type", "application/json")
        .header("content-length", "3000000")
        .body(axum::body::Body::from(vec![b' '; 3_000_000]))
        .unwrap();
    let refused = app.send(request).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        refused.json()["error"]["message"],
        "the webhook payload is 3 MB; the limit is 1 MB: send less at a time"
    );
}
