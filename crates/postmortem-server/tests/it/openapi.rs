//! The OpenAPI document describes exactly the routes the router serves.

use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;

/// Every API route the router serves, as (method, OpenAPI path).
const API_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/me"),
    ("get", "/api/v1/incidents"),
    ("post", "/api/v1/incidents"),
    ("get", "/api/v1/incidents/{id}"),
    ("patch", "/api/v1/incidents/{id}"),
    ("patch", "/api/v1/incidents/{id}/postmortem"),
    ("post", "/api/v1/incidents/{id}/postmortem/transitions"),
    ("post", "/api/v1/incidents/{id}/timeline"),
    ("post", "/api/v1/incidents/{id}/factors"),
    ("post", "/api/v1/incidents/{id}/actions"),
    ("patch", "/api/v1/actions/{id}"),
    ("delete", "/api/v1/actions/{id}"),
    ("patch", "/api/v1/incidents/{id}/timeline/{entry_id}"),
    ("delete", "/api/v1/incidents/{id}/timeline/{entry_id}"),
    ("patch", "/api/v1/incidents/{id}/factors/{factor_id}"),
    ("delete", "/api/v1/incidents/{id}/factors/{factor_id}"),
    ("post", "/api/v1/incidents/{id}/comments"),
    (
        "post",
        "/api/v1/incidents/{id}/comments/{comment_id}/resolve",
    ),
    (
        "post",
        "/api/v1/incidents/{id}/comments/{comment_id}/reopen",
    ),
    ("get", "/api/v1/incidents/{id}/events"),
    ("get", "/api/v1/actions"),
    ("get", "/api/v1/postmortems/owed"),
    ("get", "/api/v1/figures"),
    ("get", "/api/v1/insights"),
    ("get", "/api/v1/insights.csv"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("patch", "/api/v1/webhooks/{id}"),
    ("get", "/api/v1/webhooks/deliveries"),
    ("get", "/api/v1/integrations"),
    ("post", "/api/v1/integrations"),
    ("delete", "/api/v1/integrations/{id}"),
    ("get", "/api/v1/integrations/deliveries"),
    ("post", "/api/v1/integrations/deliveries/{id}/replay"),
    ("get", "/api/v1/incidents/{id}/changes"),
    ("post", "/api/v1/incidents/{id}/chat/preview"),
    ("post", "/api/v1/incidents/{id}/chat/import"),
    (
        "post",
        "/api/v1/incidents/{id}/changes/{deploy_id}/timeline",
    ),
    ("get", "/api/v1/audit"),
    ("get", "/api/v1/incidents/{id}/history"),
    ("get", "/api/v1/teams"),
    ("post", "/api/v1/teams"),
    ("get", "/api/v1/teams/{team}"),
    ("put", "/api/v1/teams/{team}/members/{handle}"),
    ("delete", "/api/v1/teams/{team}/members/{handle}"),
    ("get", "/api/v1/users"),
    ("patch", "/api/v1/users/{handle}"),
    ("put", "/api/v1/incidents/{id}/members/{handle}"),
    ("delete", "/api/v1/incidents/{id}/members/{handle}"),
    ("get", "/api/v1/search"),
    ("get", "/api/v1/search/suggest"),
    ("post", "/api/v1/lint"),
    ("get", "/api/v1/tokens"),
    ("post", "/api/v1/tokens"),
    ("delete", "/api/v1/tokens/{id}"),
    ("get", "/api/v1/incidents/{id}/markdown"),
    ("get", "/api/v1/incidents/{id}/external"),
    ("post", "/api/v1/incidents/{id}/external"),
    ("patch", "/api/v1/incidents/{id}/external"),
    ("post", "/api/v1/incidents/{id}/external/publish"),
    ("post", "/api/v1/incidents/{id}/external/unpublish"),
    ("post", "/api/v1/import"),
];

async fn document(app: &TestApp) -> Value {
    let reply = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(reply.status, StatusCode::OK);
    reply.json()
}

#[tokio::test]
async fn every_route_of_the_router_appears_in_the_document_and_nothing_else() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect();
    let served: BTreeSet<(String, String)> = API_ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, served);
    for (method, path) in API_ROUTES {
        // The router answers every listed route (asking for credentials), so the list above
        // is the router's and not a wish.
        let concrete = path
            .replace("{id}", "1")
            .replace("{comment_id}", "1")
            .replace("{team}", "payments")
            .replace("{handle}", "dana");
        let request = Request::builder()
            .method(method.to_uppercase().as_str())
            .uri(&concrete)
            .body(Body::empty())
            .unwrap();
        let reply = app.send(request).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{method} {path}");
    }
}

#[tokio::test]
async fn every_operation_declares_bearer_security_and_its_refusals() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    for (method, path) in API_ROUTES {
        let operation = &doc["paths"][path][method];
        assert!(
            operation["security"][0].get("bearer").is_some(),
            "{method} {path}"
        );
        assert!(
            operation["responses"].get("401").is_some(),
            "{method} {path}"
        );
        // Every path that names a stored thing says what happens when it does not exist.
        if path.contains('{') {
            assert!(
                operation["responses"].get("404").is_some(),
                "{method} {path}"
            );
        }
        // A JSON body can be refused before the handler runs: not JSON, not sent as JSON,
        // or not of the documented shape.
        if operation.get("requestBody").is_some() {
            for status in ["400", "415", "422"] {
                assert!(
                    operation["responses"].get(status).is_some(),
                    "{method} {path} {status}"
                );
            }
        }
    }
    let save = &doc["paths"]["/api/v1/incidents/{id}/postmortem"]["patch"]["responses"];
    for status in ["200", "412", "422", "428"] {
        assert!(save.get(status).is_some(), "{status}");
    }
    assert!(doc["components"]["schemas"]["TimelineInput"]["properties"]["at"].is_object());
}

#[tokio::test]
async fn the_documented_incident_has_the_keys_the_api_answers_with() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let id = app.incident(&token).await;
    let doc = document(&app).await;
    let incident = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    for (schema, value) in [
        ("IncidentView", &incident),
        ("PostmortemView", &incident["postmortem"]),
    ] {
        let documented: BTreeSet<&String> = doc["components"]["schemas"][schema]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        let answered: BTreeSet<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(documented, answered, "{schema}");
    }
}

#[tokio::test]
async fn closed_vocabularies_are_enums_and_text_rules_are_patterns_in_the_document() {
    let app = TestApp::new().await;
    let doc = document(&app).await;
    let parameter = |path: &str, name: &str| {
        doc["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{path} has no parameter {name}"))["schema"]
            .clone()
    };
    let kinds: Vec<&str> = postmortem_core::IncidentKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        parameter("/api/v1/incidents", "kind")["enum"],
        serde_json::json!(kinds)
    );
    assert_eq!(
        parameter("/api/v1/incidents", "sort")["enum"],
        serde_json::json!(["newest", "oldest", "severity"])
    );
    assert_eq!(
        parameter("/api/v1/insights.csv", "chart")["enum"][0],
        "recurring_factors"
    );
    assert_eq!(parameter("/api/v1/insights", "from")["format"], "date");
    assert_eq!(
        parameter("/api/v1/incidents/{id}/changes", "hours")["maximum"],
        168
    );
    let facts = &doc["components"]["schemas"]["FactsPatch"]["properties"];
    assert_eq!(facts["kind"]["enum"], serde_json::json!(kinds));
    assert_eq!(facts["severity"]["pattern"], "^SEV[1-9]$");
    assert_eq!(facts["started_at"]["format"], "date-time");
    assert_eq!(facts["title"]["maxLength"], 200);
    assert_eq!(
        doc["components"]["schemas"]["IntegrationInput"]["properties"]["kind"]["enum"],
        serde_json::json!(["alertmanager", "grafana", "pagerduty", "opsgenie", "deploy"])
    );
}
