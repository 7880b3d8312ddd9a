//! Custom templates from `[[templates]]`: chosen by a policy rule or by the writer, their
//! guiding questions shown in the editor, their sections the only ones accepted, and the
//! completeness check asking for summary and impact only when the template has them.

use crate::common::TestApp;
use axum::http::StatusCode;
use postmortem_core::policy::{Policy, PolicyConfig};
use postmortem_core::{TemplateConfig, Templates};
use postmortem_server::Settings;
use postmortem_store::testing::TestDb;
use serde_json::{Value, json};

const BELIEVED: &str = "What did we believe at the time, and why did it make sense?";

async fn app() -> TestApp {
    let templates: Vec<TemplateConfig> = serde_json::from_value(json!([
        {"name": "security", "title": "Security review", "sections": [
            {"name": "summary", "title": "Summary", "question": "What happened?"},
            {"name": "impact", "title": "Impact", "question": "Whose data, and how much?"},
            {"name": "what_we_believed", "title": "What we believed", "question": BELIEVED}
        ]},
        {"name": "short", "title": "Short review", "sections": [
            {"name": "impact", "title": "Impact", "question": "Who was affected?"},
            {"name": "lessons", "title": "Lessons", "question": "What do we know now?"}
        ]}
    ]))
    .unwrap();
    let policy: PolicyConfig = serde_json::from_value(json!({"rules": [
        {"name": "security", "decision": "required", "template": "security", "when": {"kind": "security"}},
        {"name": "outage", "decision": "required", "when": {"kind": "outage"}}
    ]}))
    .unwrap();
    let templates = Templates::from_config(templates).unwrap();
    let policy = Policy::from_config(policy).unwrap();
    policy.check_templates(&templates).unwrap();
    let settings = Settings {
        templates,
        policy,
        ..Settings::default()
    };
    TestApp::configured(TestDb::sqlite().await, settings)
}

#[tokio::test]
async fn a_policy_rule_chooses_a_custom_template_whose_questions_the_editor_shows() {
    let app = app().await;
    let dana = app.person("dana", "contributor").await;
    let created = app
        .post_json(
            "/api/v1/incidents",
            &dana,
            json!({"title": "Tokens readable in logs", "kind": "security", "severity": "SEV2"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.json()["postmortem"]["template"], "security");

    let cookie = app.sign_in("dana").await;
    let editor = app.page(&format!("/incidents/{id}/edit"), &cookie).await;
    assert_eq!(editor.status, StatusCode::OK);
    assert!(editor.body.contains(BELIEVED), "{}", editor.body);
    assert!(editor.body.contains("name=\"section.what_we_believed\""));
    assert!(
        !editor.body.contains("name=\"section.trigger\""),
        "only the template's sections"
    );

    let etag = app.etag(id, &dana).await;
    let path = format!("/api/v1/incidents/{id}/postmortem");
    let outside = app
        .patch_json(
            &path,
            &dana,
            Some(&etag),
            json!({"sections": {"trigger": "x"}}),
        )
        .await;
    assert_eq!(outside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        outside
            .body
            .contains("its sections are: summary, impact, what_we_believed"),
        "{}",
        outside.body
    );
    let saved = app
        .patch_json(
            &path,
            &dana,
            Some(&etag),
            json!({"sections": {"what_we_believed": "That the log filter covered tokens."}}),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(
        page.body.contains("What we believed"),
        "the incident page uses the template too"
    );
}

#[tokio::test]
async fn the_api_and_the_new_incident_form_offer_the_custom_templates() {
    let app = app().await;
    let dana = app.person("dana", "contributor").await;
    let mut body = crate::common::outage();
    body["template"] = json!("short");
    let created = app
        .post_json("/api/v1/incidents", &dana, body.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.json()["postmortem"]["template"], "short");
    body["template"] = json!("retro");
    let unknown = app.post_json("/api/v1/incidents", &dana, body).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains(
            "`retro` is not a template here; use one of: full, lightweight, security, short"
        ),
        "{}",
        unknown.body
    );
    let cookie = app.sign_in("dana").await;
    let form = app.page("/incidents/new", &cookie).await;
    assert!(
        form.body
            .contains("<option value=\"short\">Short review</option>"),
        "{}",
        form.body
    );
}

#[tokio::test]
async fn publishing_asks_for_summary_and_impact_only_when_the_template_has_them() {
    let app = app().await;
    let dana = app.person("dana", "contributor").await;
    app.person("rae", "reviewer").await;
    let rae = app.person("rob", "reviewer").await;
    let mut body = crate::common::outage();
    body["template"] = json!("short");
    let id = app.post_json("/api/v1/incidents", &dana, body).await.json()["id"]
        .as_i64()
        .unwrap();
    let etag = app.etag(id, &dana).await;
    app.patch_json(
        &format!("/api/v1/incidents/{id}/postmortem"),
        &dana,
        Some(&etag),
        json!({"sections": {"lessons": "Pools need alerts."}}),
    )
    .await;
    let transitions = format!("/api/v1/incidents/{id}/postmortem/transitions");
    let asked = app
        .post_json(
            &transitions,
            &dana,
            json!({"to": "in_review", "reviewers": ["rob"]}),
        )
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    let approved = app
        .post_json(&transitions, &rae, json!({"to": "approved"}))
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.body);
    let refused = app
        .post_json(&transitions, &dana, json!({"to": "published"}))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let empty: Vec<Value> = refused.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "section_empty")
        .map(|d| d["message"].clone())
        .collect();
    assert_eq!(empty, [json!("the `impact` section is not written yet")]);
}
