//! Deploys: the deploy hook and GitHub's `deployment_status` are kept as changes, listed as
//! "Changes before this incident" through the API and on the incident page, and one click adds
//! one to the timeline, once. The admin page registers integrations and replays bodies.

use crate::common::{TestApp, csrf_of};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

const PLAIN: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../postmortem-hooks/tests/it/fixtures/deploy_plain.json"
));
const GITHUB: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../postmortem-hooks/tests/it/fixtures/github_deployment_status.json"
));

/// An admin, a contributor, a viewer, an incident on `checkout-api` that started an hour
/// after the fixtures' deploys, and a deploy integration that also takes GitHub's signature.
struct Deploys {
    app: TestApp,
    dana: String,
    vic: String,
    incident: i64,
    path: String,
    bearer: String,
}

const GITHUB_SECRET: &str = "github-webhook-secret-1234";

impl Deploys {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let admin = app.person("ada", "admin").await;
        let dana = app.person("dana", "contributor").await;
        let vic = app.person("vic", "viewer").await;
        let reply = app
            .post_json(
                "/api/v1/incidents",
                &dana,
                json!({"title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2",
                       "started_at": "2025-03-14T12:50:00Z", "services": ["checkout-api"]}),
            )
            .await;
        let incident = reply.json()["id"].as_i64().unwrap();
        let hook = app
            .post_json(
                "/api/v1/integrations",
                &admin,
                json!({"kind": "deploy", "name": "ci", "signing_secret": GITHUB_SECRET}),
            )
            .await
            .json();
        Self {
            path: hook["path"].as_str().unwrap().to_owned(),
            bearer: format!("Bearer {}", hook["secret"].as_str().unwrap()),
            app,
            dana,
            vic,
            incident,
        }
    }

    async fn send(&self, header_name: &str, value: &str, body: &str) -> StatusCode {
        let request = Request::post(&self.path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header_name, value)
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.app.send(request).await.status
    }

    async fn changes(&self, token: &str) -> Vec<Value> {
        let reply = self
            .app
            .get(
                &format!("/api/v1/incidents/{}/changes", self.incident),
                Some(token),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.json()["items"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn deploys_from_the_hook_and_github_are_listed_before_the_incident_and_added_once() {
    let d = Deploys::new().await;
    assert_eq!(
        d.send("authorization", &d.bearer, PLAIN).await,
        StatusCode::ACCEPTED
    );
    assert_eq!(
        d.send("authorization", &d.bearer, PLAIN).await,
        StatusCode::ACCEPTED,
        "a repeated deploy is accepted and kept once"
    );
    let forged = postmortem_hooks::github_signature(b"not-the-secret-at-all", GITHUB.as_bytes());
    assert_eq!(
        d.send("x-hub-signature-256", &forged, GITHUB).await,
        StatusCode::UNAUTHORIZED
    );
    let signed = postmortem_hooks::github_signature(GITHUB_SECRET.as_bytes(), GITHUB.as_bytes());
    assert_eq!(
        d.send("x-hub-signature-256", &signed, GITHUB).await,
        StatusCode::ACCEPTED
    );

    let changes = d.changes(&d.vic).await;
    let versions: Vec<&str> = changes
        .iter()
        .map(|c| c["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["2025.03.14-2", "v2.14.0 (7c3f2e9a0b1d)"]);
    assert_eq!(changes[1]["by"], "ana-ruiz");
    assert_eq!(changes[0]["on_timeline"], false);
    let wide = d
        .app
        .get(
            &format!("/api/v1/incidents/{}/changes?hours=500", d.incident),
            Some(&d.vic),
        )
        .await;
    assert_eq!(wide.status, StatusCode::UNPROCESSABLE_ENTITY);

    let add = format!(
        "/api/v1/incidents/{}/changes/{}/timeline",
        d.incident, changes[0]["id"]
    );
    assert_eq!(
        d.app.call("POST", &add, &d.vic, None).await.status,
        StatusCode::FORBIDDEN
    );
    let added = d.app.call("POST", &add, &d.dana, None).await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let entry = added.json();
    assert_eq!(entry["source"], "deploy");
    assert_eq!(
        entry["text"],
        "Deploy of checkout-api 2025.03.14-2 went out"
    );
    assert_eq!(entry["actor"], "deploy-bot");
    assert_eq!(entry["at"], "2025-03-14T12:48:00+01:00");
    assert_eq!(entry["source_url"], "https://ci.example.com/pipelines/8812");
    let again = d.app.call("POST", &add, &d.dana, None).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["added"], false);
    assert_eq!(d.changes(&d.vic).await[0]["on_timeline"], true);
}

#[tokio::test]
async fn the_incident_page_offers_the_changes_before_it_and_adds_one_with_a_click() {
    let d = Deploys::new().await;
    d.send("authorization", &d.bearer, PLAIN).await;
    let cookie = d.app.sign_in("dana").await;
    let page = d
        .app
        .page(&format!("/incidents/{}", d.incident), &cookie)
        .await;
    assert!(
        page.body.contains("Changes before this incident"),
        "{}",
        page.body
    );
    assert!(page.body.contains("2025.03.14-2"));
    let deploy = d.changes(&d.dana).await[0]["id"].as_i64().unwrap();
    let action = format!("/incidents/{}/changes/{deploy}", d.incident);
    assert!(page.body.contains(&action), "{}", page.body);
    let csrf = csrf_of(&page.body);
    let added = d.app.post_form(&action, &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let page = d
        .app
        .page(&format!("/incidents/{}", d.incident), &cookie)
        .await;
    assert!(page.body.contains("on the timeline"), "{}", page.body);
    assert!(
        page.body
            .contains("Deploy of checkout-api 2025.03.14-2 went out")
    );

    let viewer = d.app.sign_in("vic").await;
    let read_only = d
        .app
        .page(&format!("/incidents/{}", d.incident), &viewer)
        .await;
    assert!(read_only.body.contains("Changes before this incident"));
    assert!(!read_only.body.contains("Add to the timeline"));
}

#[tokio::test]
async fn the_admin_page_registers_an_integration_shows_its_secret_once_and_replays_a_body() {
    let app = TestApp::new().await;
    app.person("ada", "admin").await;
    let cookie = app.sign_in("ada").await;
    let page = app.page("/admin/integrations", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    let registered = app
        .post_form(
            "/admin/integrations",
            &cookie,
            &[
                ("csrf", &csrf),
                ("kind", "alertmanager"),
                ("name", "prod-alertmanager"),
                ("services", "checkout-api, payments-db"),
                ("signing_secret", ""),
            ],
        )
        .await;
    assert_eq!(registered.status, StatusCode::OK, "{}", registered.body);
    let secret = registered
        .body
        .split("id=\"new-secret\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the secret on the page")
        .to_owned();
    assert!(registered.body.contains("/hooks/alertmanager/1"));
    assert!(registered.body.contains("checkout-api, payments-db"));

    let request = Request::post("/hooks/alertmanager/1")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::from("not json"))
        .unwrap();
    assert_eq!(app.send(request).await.status, StatusCode::BAD_REQUEST);
    let page = app.page("/admin/integrations", &cookie).await;
    assert!(!page.body.contains(&secret), "the secret is shown once");
    assert!(page.body.contains("Refused"));
    assert!(page.body.contains("not json"));
    let replayed = app
        .post_form(
            "/admin/integrations/deliveries/1/replay",
            &cookie,
            &[("csrf", &csrf_of(&page.body))],
        )
        .await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    assert!(
        replayed.body.contains("the body is not JSON"),
        "{}",
        replayed.body
    );

    let wrong = app
        .post_form(
            "/admin/integrations",
            &cookie,
            &[("csrf", &csrf), ("kind", "pagerduty"), ("name", "pd")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("signing secret PagerDuty showed"));
}
