//! What the server's integration tests share: the application on a fresh database, people
//! with tokens and sessions, and requests sent through the router without a socket.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use postmortem_server::accounts::{NewAccount, create_account};
use postmortem_server::{AppState, Settings, app};
use postmortem_store::Actor;
use postmortem_store::testing::TestDb;
use serde_json::{Value, json};
use tower::ServiceExt;

/// The application on a fresh database, with helpers to act as a given person.
pub struct TestApp {
    pub db: TestDb,
    pub router: axum::Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl TestApp {
    pub async fn new() -> Self {
        Self::on(TestDb::sqlite().await)
    }

    pub fn on(db: TestDb) -> Self {
        Self::configured(db, Settings::default())
    }

    /// The application with settings as `postmortem.toml` would give them.
    pub fn configured(db: TestDb, settings: Settings) -> Self {
        let router = app(AppState::new(db.store.clone(), settings));
        Self { db, router }
    }

    /// Two server nodes on one fresh PostgreSQL schema, each with its own store (its own
    /// connection pool and record cache), as two processes behind a load balancer would be.
    pub async fn two_nodes_on_postgres() -> (Self, Self) {
        let db = TestDb::postgres().await;
        let other_store = postmortem_store::connect(&db.url, db.clock.clone())
            .await
            .unwrap();
        // `TestApp` holds a database of its own as well; the second node never uses it.
        let other_node = TestApp {
            router: app(AppState::new(other_store, Settings::default())),
            db: TestDb::sqlite().await,
        };
        (TestApp::on(db), other_node)
    }

    /// Creates a person and returns their API token.
    pub async fn person(&self, handle: &str, role: &str) -> String {
        let account = NewAccount {
            handle: handle.into(),
            display_name: format!("{handle} Example"),
            role: role.into(),
            password: Some("correct horse battery".into()),
            with_token: true,
            token_days: None,
        };
        create_account(self.db.store.as_ref(), Actor::DEMO, account)
            .await
            .unwrap()
            .1
            .unwrap()
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        let mut request = Request::get(path);
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Any API request with a token and, when given, a JSON body.
    pub async fn call(&self, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    pub async fn post_json(&self, path: &str, token: &str, body: Value) -> Reply {
        let request = Request::post(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }
    pub async fn patch_json(
        &self,
        path: &str,
        token: &str,
        if_match: Option<&str>,
        body: Value,
    ) -> Reply {
        let mut request = Request::patch(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(etag) = if_match {
            request = request.header(header::IF_MATCH, etag);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap())
            .await
    }

    /// Records the standard outage and returns its id.
    pub async fn incident(&self, token: &str) -> i64 {
        let created = self.post_json("/api/v1/incidents", token, outage()).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
        created.json()["id"].as_i64().unwrap()
    }

    /// The incident's current ETag.
    pub async fn etag(&self, id: i64, token: &str) -> String {
        let read = self
            .get(&format!("/api/v1/incidents/{id}"), Some(token))
            .await;
        read.headers[header::ETAG].to_str().unwrap().to_owned()
    }

    /// Signs in through the form and returns the `Cookie` header value of the session.
    pub async fn sign_in(&self, handle: &str) -> String {
        let login = Request::post("/login")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "handle={handle}&password=correct+horse+battery&next=%2F"
            )))
            .unwrap();
        let reply = self.send(login).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = reply.headers[header::SET_COOKIE].to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    pub async fn page(&self, path: &str, cookie: &str) -> Reply {
        let request = Request::get(path)
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Posts a form as a browser on this site does, with the session and an `Origin`.
    pub async fn post_form(&self, path: &str, cookie: &str, fields: &[(&str, &str)]) -> Reply {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let request = Request::post(path)
            .header(header::COOKIE, cookie)
            .header(header::HOST, "localhost")
            .header(header::ORIGIN, "http://localhost")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }
}

/// The CSRF token of the first form on a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in: {html}"))
        + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

pub fn urlencode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn outage() -> Value {
    json!({
        "title": "Checkout returned 502s",
        "kind": "outage",
        "severity": "SEV2",
        "started_at": "2026-03-01T14:00:00+01:00",
        "services": ["checkout", "Payments-API"],
        "teams": ["payments"],
        "impact": {"user_visible": true, "customer_minutes": 47, "customers_affected": 1200}
    })
}

/// An incident's server-sent event stream as one reader hears it.
pub struct EventStream {
    body: Body,
}

impl EventStream {
    /// Subscribes `token`'s person to the incident's events and waits for `ready`.
    pub async fn open(app: &TestApp, id: i64, token: &str) -> Self {
        let request = Request::get(format!("/api/v1/incidents/{id}/events"))
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = app.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut stream = EventStream {
            body: response.into_body(),
        };
        let ready = stream.next(15).await.flatten().expect("a ready event");
        assert!(ready.contains("event: ready"), "{ready}");
        stream
    }

    /// The next event, or `Some(None)` when the stream ended, skipping keep-alive comments;
    /// `None` when nothing came within `seconds`.
    pub async fn next(&mut self, seconds: u64) -> Option<Option<String>> {
        loop {
            let wait = std::time::Duration::from_secs(seconds);
            let frame = tokio::time::timeout(wait, self.body.frame()).await.ok()?;
            let Some(frame) = frame else {
                return Some(None);
            };
            let text = String::from_utf8(frame.unwrap().into_data().unwrap().to_vec()).unwrap();
            if !text.starts_with(':') {
                return Some(Some(text));
            }
        }
    }

    /// Writes timeline entries as `writer` until the stream announces one. The node starts
    /// following the change feed with its first subscriber, so a write made before the
    /// follower has read where the feed stands is not announced.
    pub async fn wait_until_live(&mut self, app: &TestApp, id: i64, writer: &str) {
        let entry = json!({"at": "2026-03-01T14:05:00+01:00", "text": "Key rotated"});
        for _ in 0..10 {
            app.post_json(
                &format!("/api/v1/incidents/{id}/timeline"),
                writer,
                entry.clone(),
            )
            .await;
            if let Some(Some(text)) = self.next(2).await {
                assert!(text.contains("event: timeline"), "{text}");
                return;
            }
        }
        panic!("the stream never announced the incident's changes");
    }

    /// Reads until the stream ends, asserting that nothing it carries is from `since` on
    /// (changes from before may still be on their way).
    pub async fn assert_ends_without_changes_from(&mut self, since: i64) {
        loop {
            match self.next(15).await {
                Some(Some(text)) => {
                    let seq: i64 = text
                        .lines()
                        .find_map(|line| line.strip_prefix("id: "))
                        .map_or(i64::MAX, |id| id.parse().unwrap());
                    assert!(seq < since, "heard after losing access: {text}");
                }
                Some(None) => return,
                None => panic!("the stream did not end within 15 s of losing access"),
            }
        }
    }
}
