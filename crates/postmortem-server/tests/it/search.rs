//! Search through the server: the API, the page with facets, and similar past incidents, with
//! the index kept current from the change feed as `serve` keeps it.

use crate::common::{TestApp, outage};
use axum::http::StatusCode;
use postmortem_search::SearchIndex;
use postmortem_server::{AppState, Settings, app};
use serde_json::json;
use std::sync::Arc;

/// The test application with a search index in a temporary directory.
pub(crate) async fn searchable() -> (TestApp, Arc<SearchIndex>, tempfile::TempDir) {
    let mut test = TestApp::new().await;
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(SearchIndex::open(dir.path().join("index")).unwrap());
    test.router =
        app(AppState::new(test.db.store.clone(), Settings::default()).with_search(index.clone()));
    (test, index, dir)
}

pub(crate) async fn record(
    app: &TestApp,
    token: &str,
    title: &str,
    service: &str,
    restricted: bool,
    started_at: &str,
) -> i64 {
    let mut body = outage();
    body["title"] = json!(title);
    body["services"] = json!([service]);
    body["restricted"] = json!(restricted);
    body["started_at"] = json!(started_at);
    let created = app.post_json("/api/v1/incidents", token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let factor = app
        .post_json(&format!("/api/v1/incidents/{id}/factors"), token, json!({"category": "capacity", "description": "The connection pool was sized for last year's traffic."}))
        .await;
    assert_eq!(factor.status, StatusCode::CREATED, "{}", factor.body);
    id
}

#[tokio::test]
async fn search_finds_what_was_saved_with_snippets_and_facets_but_never_a_restricted_incident() {
    let (app, index, _dir) = searchable().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    record(
        &app,
        &dana,
        "Checkout connection pool exhausted",
        "checkout",
        false,
        "2026-02-01T14:00:00Z",
    )
    .await;
    record(
        &app,
        &dana,
        "Secret connection pool leak in vault",
        "vault",
        true,
        "2026-02-02T14:00:00Z",
    )
    .await;
    index.catch_up(app.db.store.as_ref()).await.unwrap();

    let reply = app
        .get("/api/v1/search?q=connection%20pool", Some(&sam))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let results = reply.json();
    assert_eq!(
        results["total"], 1,
        "sam may not see the restricted incident: {results}"
    );
    assert_eq!(
        results["items"][0]["title"],
        "Checkout connection pool exhausted"
    );
    assert!(
        results["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>"),
        "{results}"
    );
    assert!(
        !reply.body.contains("vault"),
        "not even as a facet: {}",
        reply.body
    );
    let dana_sees = app
        .get("/api/v1/search?q=connection%20pool", Some(&dana))
        .await
        .json();
    assert_eq!(dana_sees["total"], 2);

    let filtered = app
        .get("/api/v1/search?q=pool%20service:checkout", Some(&dana))
        .await
        .json();
    assert_eq!(filtered["total"], 1);
    for odd in [
        "%22unbalanced",
        "service:",
        "a:b:c",
        "(((",
        &"word%20".repeat(500),
    ] {
        let reply = app
            .get(&format!("/api/v1/search?q={odd}"), Some(&dana))
            .await;
        assert!(
            reply.status == StatusCode::OK || reply.status == StatusCode::BAD_REQUEST,
            "{odd}: {}",
            reply.status
        );
    }
    assert_eq!(
        app.get("/api/v1/search?q=pool", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn suggestions_while_typing_complete_the_last_word_and_never_show_a_restricted_incident() {
    let (app, index, _dir) = searchable().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let open = record(
        &app,
        &dana,
        "Checkout certificate expired",
        "checkout",
        false,
        "2026-02-01T14:00:00Z",
    )
    .await;
    let secret = record(
        &app,
        &dana,
        "Vault certification authority compromised",
        "vault",
        true,
        "2026-02-02T14:00:00Z",
    )
    .await;
    index.catch_up(app.db.store.as_ref()).await.unwrap();

    let sam_sees = app
        .get("/api/v1/search/suggest?q=checkout%20Certif", Some(&sam))
        .await;
    assert_eq!(sam_sees.status, StatusCode::OK, "{}", sam_sees.body);
    let sam_sees = sam_sees.json();
    assert_eq!(
        sam_sees["incidents"],
        json!([{"incident_id": open, "title": "Checkout certificate expired"}])
    );
    assert_eq!(
        sam_sees["words"][0],
        json!({"word": "certificate", "query": "checkout certificate"})
    );
    let alone = app.get("/api/v1/search/suggest?q=certif", Some(&sam)).await;
    assert!(
        !alone.body.contains("certification") && !alone.body.contains("Vault"),
        "{}",
        alone.body
    );
    let dana_sees = app
        .get("/api/v1/search/suggest?q=certif", Some(&dana))
        .await
        .json();
    let words: Vec<&str> = dana_sees["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["word"].as_str().unwrap())
        .collect();
    assert!(
        words.contains(&"certification") && words.contains(&"certificate"),
        "{dana_sees}"
    );
    assert!(
        dana_sees["incidents"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["incident_id"] == secret)
    );

    assert_eq!(
        app.get("/api/v1/search/suggest?q=certif", None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let nothing = app
        .get("/api/v1/search/suggest?q=", Some(&sam))
        .await
        .json();
    assert_eq!(nothing, json!({"incidents": [], "words": []}));
}

#[tokio::test]
async fn the_search_page_shows_results_and_facets_and_the_incident_page_similar_ones() {
    let (app, index, _dir) = searchable().await;
    let dana = app.person("dana", "contributor").await;
    let first = record(
        &app,
        &dana,
        "Checkout connection pool exhausted after a deploy",
        "checkout",
        false,
        "2026-02-01T14:00:00Z",
    )
    .await;
    let second = record(
        &app,
        &dana,
        "Checkout connection pool exhausted again during a sale",
        "checkout",
        false,
        "2026-03-01T14:00:00Z",
    )
    .await;
    index.catch_up(app.db.store.as_ref()).await.unwrap();
    let cookie = app.sign_in("dana").await;

    let page = app.page("/search?q=pool", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("2 incidents match"), "{}", page.body);
    assert!(
        page.body
            .contains("href=\"/search?q=pool%20service%3Acheckout\""),
        "facets add a filter: {}",
        page.body
    );
    assert!(page.body.contains("<label for=\"search-q\">"));

    let incident = app.page(&format!("/incidents/{second}"), &cookie).await;
    assert!(incident.body.contains("Similar past incidents"));
    assert!(
        incident
            .body
            .contains(&format!("href=\"/incidents/{first}\"")),
        "the earlier incident is similar: {}",
        incident.body
    );
    let earliest = app.page(&format!("/incidents/{first}"), &cookie).await;
    assert!(
        earliest
            .body
            .contains("No earlier incident looks like this one yet.")
    );

    // Similar incidents are cached per page, but only while the index is unchanged.
    let older = record(
        &app,
        &dana,
        "Checkout connection pool exhausted in the first sale",
        "checkout",
        false,
        "2026-01-01T14:00:00Z",
    )
    .await;
    index.catch_up(app.db.store.as_ref()).await.unwrap();
    let again = app.page(&format!("/incidents/{first}"), &cookie).await;
    assert!(
        again.body.contains(&format!("href=\"/incidents/{older}\"")),
        "the new, older incident shows once indexed: {}",
        again.body
    );
}

#[tokio::test]
async fn without_a_search_index_the_api_says_search_is_unavailable() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let reply = app.get("/api/v1/search?q=pool", Some(&dana)).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.json()["error"]["code"], "search_unavailable");
}

/// `node` with a search index of its own in a temporary directory, as each `serve` has.
fn with_index(
    node: &mut TestApp,
    store: Arc<dyn postmortem_store::Store>,
) -> (Arc<SearchIndex>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let index = Arc::new(SearchIndex::open(dir.path().join("index")).unwrap());
    node.router = app(AppState::new(store, Settings::default()).with_search(index.clone()));
    (index, dir)
}

#[tokio::test]
async fn an_incident_restricted_a_moment_ago_is_found_by_no_one_who_lost_it_on_any_node() {
    let (mut node, mut other_node) = TestApp::two_nodes_on_postgres().await;
    let other_store = postmortem_store::connect(&node.db.url, node.db.clock.clone())
        .await
        .unwrap();
    let store = node.db.store.clone();
    let (index, _dir) = with_index(&mut node, store);
    let (other_index, _other_dir) = with_index(&mut other_node, other_store.clone());
    let admin = node.person("ada", "admin").await;
    let dana = node.person("dana", "contributor").await;
    let sam = node.person("sam", "viewer").await;
    let id = record(
        &node,
        &dana,
        "Payroll export leaked to a shared bucket",
        "payroll",
        false,
        "2026-02-01T14:00:00Z",
    )
    .await;
    index.catch_up(node.db.store.as_ref()).await.unwrap();
    other_index.catch_up(other_store.as_ref()).await.unwrap();
    let query = "/api/v1/search?q=payroll%20bucket";
    assert_eq!(
        other_node.get(query, Some(&sam)).await.json()["total"],
        1,
        "sam finds the open incident"
    );

    let etag = node.etag(id, &admin).await;
    let restricted = node
        .patch_json(
            &format!("/api/v1/incidents/{id}"),
            &admin,
            Some(&etag),
            json!({"restricted": true}),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK, "{}", restricted.body);
    // Neither index has applied the change yet, on either node.
    for (name, app) in [("this node", &node), ("the other node", &other_node)] {
        let results = app.get(query, Some(&sam)).await;
        assert_eq!(results.json()["total"], 0, "{name}: {}", results.body);
        assert!(
            !results.body.contains("Payroll") && !results.body.contains("payroll"),
            "{name}: not even as a facet: {}",
            results.body
        );
        let cookie = app.sign_in("sam").await;
        let page = app.page("/search?q=payroll%20bucket", &cookie).await;
        assert!(
            !page.body.contains("Payroll export"),
            "{name}: the search page shows nothing of it"
        );
        let recorder = app.get(query, Some(&dana)).await.json();
        assert_eq!(
            recorder["total"], 1,
            "{name}: the person who recorded it still finds it"
        );
    }
    // Once the indexes apply the change, the index itself keeps it from sam.
    index.catch_up(node.db.store.as_ref()).await.unwrap();
    other_index.catch_up(other_store.as_ref()).await.unwrap();
    assert_eq!(other_node.get(query, Some(&sam)).await.json()["total"], 0);
}
