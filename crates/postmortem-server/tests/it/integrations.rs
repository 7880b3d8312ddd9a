//! Integrations: admins register the tools that send webhooks, and the receivers turn alerts
//! into timeline entries on the open incidents of their services, once per alert and state.

use crate::common::{EventStream, Reply, TestApp};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

const ALERTMANAGER: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../postmortem-hooks/tests/it/fixtures/alertmanager_firing.json"
));
const PAGERDUTY: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../postmortem-hooks/tests/it/fixtures/pagerduty_triggered.json"
));

/// An incident on `service` that started just before the fixtures' alerts fired.
async fn incident_on(app: &TestApp, token: &str, service: &str) -> i64 {
    let reply = app
        .post_json(
            "/api/v1/incidents",
            token,
            json!({
                "title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2",
                "started_at": "2025-03-14T12:50:00Z", "services": [service], "teams": ["payments"],
                "impact": {"user_visible": true}
            }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

async fn register(app: &TestApp, admin: &str, body: Value) -> Value {
    let reply = app.post_json("/api/v1/integrations", admin, body).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply.json()
}

async fn deliver(app: &TestApp, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

async fn timeline(app: &TestApp, id: i64, token: &str) -> Vec<Value> {
    let reply = app
        .get(&format!("/api/v1/incidents/{id}"), Some(token))
        .await;
    reply.json()["timeline"].as_array().unwrap().clone()
}

/// An admin, a contributor, an open incident on `checkout-api` and an Alertmanager
/// integration with its secret.
struct Scene {
    app: TestApp,
    admin: String,
    dana: String,
    open: i64,
    hook: Value,
}

impl Scene {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let admin = app.person("ada", "admin").await;
        let dana = app.person("dana", "contributor").await;
        let open = incident_on(&app, &dana, "checkout-api").await;
        let hook = register(
            &app,
            &admin,
            json!({"kind": "alertmanager", "name": "prod-alertmanager"}),
        )
        .await;
        Self {
            app,
            admin,
            dana,
            open,
            hook,
        }
    }

    fn path(&self) -> &str {
        self.hook["path"].as_str().unwrap()
    }

    fn secret(&self) -> &str {
        self.hook["secret"].as_str().unwrap()
    }

    /// Sends `body` to the integration's receiver with its secret.
    async fn deliver(&self, body: &str) -> Reply {
        let bearer = format!("Bearer {}", self.secret());
        deliver(&self.app, self.path(), &[("authorization", &bearer)], body).await
    }

    async fn timeline(&self) -> Vec<Value> {
        timeline(&self.app, self.open, &self.dana).await
    }
}

#[tokio::test]
async fn an_admin_registers_an_integration_and_sees_its_secret_once() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let body =
        json!({"kind": "alertmanager", "name": "prod-alertmanager", "services": ["checkout-api"]});
    let refused = app
        .post_json("/api/v1/integrations", &dana, body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let created = register(&app, &admin, body).await;
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.len() >= 40, "{created}");
    assert_eq!(
        created["path"],
        format!("/hooks/alertmanager/{}", created["id"])
    );
    let listed = app.get("/api/v1/integrations", Some(&admin)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json()["items"][0]["name"], "prod-alertmanager");
    assert!(!listed.body.contains(secret), "{}", listed.body);
    assert!(!listed.body.contains("credential"), "{}", listed.body);
    // Nor is it anywhere in the audit log.
    let audit = app.get("/api/v1/audit", Some(&admin)).await;
    assert!(audit.body.contains("integration.create"), "{}", audit.body);
    assert!(!audit.body.contains(secret));

    let again = app
        .post_json(
            "/api/v1/integrations",
            &admin,
            json!({"kind": "grafana", "name": "prod-alertmanager"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let wrong = app
        .post_json(
            "/api/v1/integrations",
            &admin,
            json!({"kind": "nagios", "name": "Old Nagios!", "services": ["a b"]}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refusal = wrong.json();
    let fields: Vec<&str> = refusal["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["kind", "name", "services"]);

    let id = created["id"].as_i64().unwrap();
    let deleted = app
        .call(
            "DELETE",
            &format!("/api/v1/integrations/{id}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = deliver(
        &app,
        &format!("/hooks/alertmanager/{id}"),
        &[("authorization", &format!("Bearer {secret}"))],
        ALERTMANAGER,
    )
    .await;
    assert_eq!(gone.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_alert_delivered_twice_becomes_one_entry_per_state_on_the_open_incident_of_its_service()
{
    let scene = Scene::new().await;
    let elsewhere = incident_on(&scene.app, &scene.dana, "search").await;
    let first = scene.deliver(ALERTMANAGER).await;
    assert_eq!(first.status, StatusCode::ACCEPTED, "{}", first.body);
    assert_eq!(first.json()["entries_added"], 2);
    let second = scene.deliver(ALERTMANAGER).await;
    assert_eq!(second.status, StatusCode::ACCEPTED);
    assert_eq!(second.json()["entries_added"], 0);

    let entries = scene.timeline().await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    let fired = entries
        .iter()
        .find(|e| e["text"].as_str().unwrap().contains("fired"))
        .unwrap();
    assert_eq!(
        fired["text"],
        "Alertmanager alert fired: CheckoutErrorRate: 5xx ratio above 5% for 5 minutes"
    );
    assert_eq!(fired["source"], "alert");
    assert_eq!(fired["perspective"], "observed");
    assert_eq!(
        fired["source_url"],
        "https://prometheus.example.com/graph?g0.expr=checkout_5xx_ratio+%3E+0.05&g0.tab=1"
    );
    assert_eq!(fired["at"], "2025-03-14T13:02:11.412Z");
    assert!(
        timeline(&scene.app, elsewhere, &scene.dana)
            .await
            .is_empty()
    );

    // The entries are the integration's, in the incident's history, and can be corrected.
    let history = scene
        .app
        .get(
            &format!("/api/v1/incidents/{}/history", scene.open),
            Some(&scene.dana),
        )
        .await
        .json();
    let actors: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "timeline.add")
        .map(|e| e["actor_handle"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actors, ["integration-1", "integration-1"], "{history}");
    let removed = scene
        .app
        .call(
            "DELETE",
            &format!("/api/v1/incidents/{}/timeline/{}", scene.open, fired["id"]),
            &scene.dana,
            None,
        )
        .await;
    assert!(removed.status.is_success(), "{}", removed.body);
    // A removed entry does not come back with the next delivery of its alert.
    let third = scene.deliver(ALERTMANAGER).await;
    assert_eq!(third.json()["entries_added"], 0);
    assert_eq!(scene.timeline().await.len(), 1);
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_changes_nothing() {
    let scene = Scene::new().await;
    let id = &scene.hook["id"];
    let secret = scene.secret();
    for (path, headers) in [
        (format!("/hooks/alertmanager/{id}"), vec![]),
        (
            format!("/hooks/alertmanager/{id}"),
            vec![("authorization", "Bearer not-the-secret".to_owned())],
        ),
        // The right secret sent to another kind's receiver, or to no integration.
        (
            format!("/hooks/grafana/{id}"),
            vec![("authorization", format!("Bearer {secret}"))],
        ),
        (
            "/hooks/alertmanager/99".to_owned(),
            vec![("authorization", format!("Bearer {secret}"))],
        ),
    ] {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = deliver(&scene.app, &path, &headers, ALERTMANAGER).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(reply.json()["error"]["code"], "unauthenticated");
    }
    assert!(scene.timeline().await.is_empty());
    let kept = scene
        .app
        .get("/api/v1/integrations/deliveries", Some(&scene.admin))
        .await;
    assert_eq!(kept.json()["items"], json!([]));
}

#[tokio::test]
async fn pagerduty_is_checked_by_its_signature() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let open = incident_on(&app, &dana, "payments-db").await;
    let without = app
        .post_json(
            "/api/v1/integrations",
            &admin,
            json!({"kind": "pagerduty", "name": "pagerduty"}),
        )
        .await;
    assert_eq!(without.status, StatusCode::UNPROCESSABLE_ENTITY);
    let signing_secret = "whsec-0123456789abcdef";
    let created = register(
        &app,
        &admin,
        json!({"kind": "pagerduty", "name": "pagerduty", "signing_secret": signing_secret}),
    )
    .await;
    assert_eq!(created["secret"], Value::Null);
    let path = created["path"].as_str().unwrap().to_owned();

    let forged =
        postmortem_hooks::pagerduty_signature(b"another-secret-entirely", PAGERDUTY.as_bytes());
    let refused = deliver(
        &app,
        &path,
        &[("x-pagerduty-signature", &forged)],
        PAGERDUTY,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(timeline(&app, open, &dana).await.is_empty());

    let signed =
        postmortem_hooks::pagerduty_signature(signing_secret.as_bytes(), PAGERDUTY.as_bytes());
    let accepted = deliver(
        &app,
        &path,
        &[("x-pagerduty-signature", &signed)],
        PAGERDUTY,
    )
    .await;
    assert_eq!(accepted.status, StatusCode::ACCEPTED, "{}", accepted.body);
    let entries = timeline(&app, open, &dana).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        entries[0]["source_url"],
        "https://acme.pagerduty.com/incidents/Q2ZHK6JAQJ2BXE"
    );
}

#[tokio::test]
async fn a_body_that_does_not_parse_is_refused_with_the_reason_kept_and_replayable() {
    let scene = Scene::new().await;
    // The second (resolved) alert has no end: the whole body is refused, the first alert too.
    let mut body: Value = serde_json::from_str(ALERTMANAGER).unwrap();
    body["alerts"][1].as_object_mut().unwrap().remove("endsAt");
    let half = scene.deliver(&body.to_string()).await;
    assert_eq!(half.status, StatusCode::BAD_REQUEST, "{}", half.body);
    assert_eq!(half.json()["error"]["code"], "invalid_payload");
    assert!(
        half.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("alerts[1].endsAt"),
        "{}",
        half.body
    );
    let not_json = scene.deliver("{\"alerts\": [").await;
    assert_eq!(not_json.status, StatusCode::BAD_REQUEST);
    assert!(scene.timeline().await.is_empty());

    let app = &scene.app;
    let kept = app
        .get("/api/v1/integrations/deliveries", Some(&scene.admin))
        .await
        .json();
    let items = kept["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["body"], "{\"alerts\": [");
    assert_eq!(items[0]["outcome"], "refused");
    assert!(items[0]["detail"].as_str().unwrap().contains("not JSON"));
    assert_eq!(
        app.get("/api/v1/integrations/deliveries", Some(&scene.dana))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // A good body kept, replayed after the fact, adds nothing twice.
    let good = scene.deliver(ALERTMANAGER).await;
    let admin = scene.admin.as_str();
    let replay = |id: i64| {
        let path = format!("/api/v1/integrations/deliveries/{id}/replay");
        async move { app.call("POST", &path, admin, None).await }
    };
    let replayed = replay(good.json()["delivery"].as_i64().unwrap()).await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.json()["entries_added"], 0);
    assert_eq!(scene.timeline().await.len(), 2);
    let refused_again = replay(items[1]["id"].as_i64().unwrap()).await;
    assert_eq!(refused_again.status, StatusCode::BAD_REQUEST);
    let audit = app
        .get(
            "/api/v1/audit?action=integration.replay",
            Some(&scene.admin),
        )
        .await
        .json();
    assert_eq!(audit["items"].as_array().unwrap().len(), 2, "{audit}");
}

#[tokio::test]
async fn an_alert_appears_live_in_an_open_incident_page() {
    let scene = Scene::new().await;
    let mut stream = EventStream::open(&scene.app, scene.open, &scene.dana).await;
    stream
        .wait_until_live(&scene.app, scene.open, &scene.dana)
        .await;
    scene.deliver(ALERTMANAGER).await;
    let event = stream.next(15).await.flatten().expect("an event");
    assert!(event.contains("event: timeline"), "{event}");
}
