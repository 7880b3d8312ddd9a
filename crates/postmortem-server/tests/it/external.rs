//! The external version through the API: a draft that carries no name, handle, host, IP
//! address, email address, chat link or customer identifier from any chosen section, lists
//! each redaction, takes an author's edits against its version, and is published for anyone
//! to read (page and Markdown) until it is taken down, every step audited.

use crate::common::TestApp;
use axum::http::StatusCode;
use serde_json::{Value, json};

/// What is planted in every chosen section; none of it may reach the public.
const SECRETS: &[&str] = &[
    "dana",
    "vic Example",
    "@vic",
    "dana@corp.example.com",
    "db-primary-03",
    "cache.prod.internal",
    "10.20.3.4",
    "2001:db8::7",
    "acme.slack.com",
    "#inc-checkout",
    "grafana.corp.example.com",
    "cus_8812",
    "88123",
];

fn planted(part: &str) -> String {
    format!(
        "{part}: dana Example (@dana, dana@corp.example.com) and vic Example (@vic) restarted \
         db-primary-03 and cache.prod.internal at 10.20.3.4 and 2001:db8::7, talked in \
         #inc-checkout and https://acme.slack.com/archives/C1/p2, watched \
         https://grafana.corp.example.com/d/1; cus_8812 and customer 88123 saw errors."
    )
}

/// An incident of `dana`'s with secrets planted in its summary, impact, detection, a timeline
/// entry and an action item, and a section left out of the external version.
async fn planted_incident(app: &TestApp, dana: &str) -> i64 {
    let id = app.incident(dana).await;
    let etag = app.etag(id, dana).await;
    let sections = json!({"sections": {
        "summary": planted("Summary"),
        "impact": planted("Impact"),
        "detection": planted("Detection"),
        "response": "Not for customers: the runbook was stale.",
    }});
    let saved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}/postmortem"),
            dana,
            Some(&etag),
            sections,
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let entry = json!({"at": "2026-03-01T14:05:00+01:00", "text": planted("Paged")});
    let added = app
        .post_json(&format!("/api/v1/incidents/{id}/timeline"), dana, entry)
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    let action = json!({"title": "Alert on db-primary-03 before dana@corp.example.com notices", "kind": "detect"});
    let added = app
        .post_json(&format!("/api/v1/incidents/{id}/actions"), dana, action)
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    id
}

const CHOSEN: [&str; 5] = ["summary", "impact", "detection", "timeline", "action_items"];

fn assert_no_secret(text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
    }
    assert!(
        !text.contains("runbook"),
        "an unchosen section leaked:\n{text}"
    );
}

/// The incident's audit history, newest first, as its actions.
async fn audited(app: &TestApp, id: i64, token: &str) -> Vec<String> {
    let history = app
        .get(&format!("/api/v1/incidents/{id}/history"), Some(token))
        .await
        .json();
    history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn draft(app: &TestApp, id: i64, token: &str) -> Value {
    let made = app
        .post_json(
            &format!("/api/v1/incidents/{id}/external"),
            token,
            json!({"sections": CHOSEN, "internal_domains": ["corp.example.com"]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    made.json()
}

#[tokio::test]
async fn a_draft_replaces_every_planted_detail_in_every_chosen_section_and_lists_each() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("vic", "viewer").await;
    let id = planted_incident(&app, &dana).await;

    let draft = draft(&app, id, &dana).await;
    let text = draft["markdown"].as_str().unwrap();
    assert_no_secret(text);
    for heading in [
        "## Summary",
        "## Impact",
        "## Detection",
        "## Timeline",
        "## What we are changing",
    ] {
        assert!(text.contains(heading), "{heading} missing:\n{text}");
    }
    assert!(text.contains("an on-call engineer"), "{text}");
    let redactions = draft["redactions"].as_array().unwrap();
    for section in CHOSEN {
        for kind in [
            "person",
            "email",
            "host",
            "ip_address",
            "chat",
            "link",
            "customer",
        ] {
            if section == "action_items" && !["email", "host"].contains(&kind) {
                continue;
            }
            assert!(
                redactions
                    .iter()
                    .any(|r| r["section"] == section && r["kind"] == kind),
                "no {kind} redaction listed in {section}: {redactions:#?}"
            );
        }
    }
    assert_eq!(draft["version"], 1);

    let read = app
        .get(&format!("/api/v1/incidents/{id}/external"), Some(&dana))
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.body);
    assert_eq!(read.json(), draft);
}

#[tokio::test]
async fn an_author_changes_and_adds_redactions_against_the_drafts_version() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let id = planted_incident(&app, &dana).await;
    draft(&app, id, &dana).await;

    let edit = json!({
        "version": 1,
        "changes": [{"found": "db-primary-03", "replaced_by": "our primary database"}],
        "additions": [{"found": "errors", "replaced_by": "failed payments"}],
    });
    let path = format!("/api/v1/incidents/{id}/external");
    let edited = app.call("PATCH", &path, &dana, Some(edit.clone())).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let edited = edited.json();
    let text = edited["markdown"].as_str().unwrap();
    assert!(text.contains("our primary database"), "{text}");
    assert!(text.contains("saw failed payments"), "{text}");
    assert_no_secret(text);
    assert!(
        edited["redactions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "author" && r["found"] == "errors")
    );
    assert_eq!(edited["version"], 2);

    let stale = app.call("PATCH", &path, &dana, Some(edit)).await;
    assert_eq!(
        stale.status,
        StatusCode::PRECONDITION_FAILED,
        "{}",
        stale.body
    );
    assert!(stale.body.contains("version 1"), "{}", stale.body);

    let bad = app
        .call(
            "PATCH",
            &path,
            &dana,
            Some(json!({"version": 2, "sections": ["nonsense"]})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("choose from"), "{}", bad.body);

    let actions = audited(&app, id, &dana).await;
    assert!(
        actions.iter().any(|a| a == "external.draft.create"),
        "{actions:?}"
    );
    assert!(
        actions.iter().any(|a| a == "external.draft.update"),
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_viewer_may_not_draft_and_nobody_reads_a_draft_that_was_not_made() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let id = planted_incident(&app, &dana).await;
    let path = format!("/api/v1/incidents/{id}/external");
    let missing = app.get(&path, Some(&dana)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND, "{}", missing.body);
    let refused = app
        .post_json(&path, &vic, json!({"sections": ["summary"]}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
}

#[tokio::test]
async fn a_reviewer_publishes_the_draft_for_anyone_as_a_page_and_markdown_until_it_is_taken_down() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rev = app.person("rev", "reviewer").await;
    app.person("vic", "viewer").await;
    let id = planted_incident(&app, &dana).await;
    draft(&app, id, &dana).await;
    let publish = format!("/api/v1/incidents/{id}/external/publish");

    let refused = app
        .post_json(&publish, &dana, json!({"accept_redactions": true}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let unaccepted = app
        .post_json(&publish, &rev, json!({"accept_redactions": false}))
        .await;
    assert_eq!(
        unaccepted.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unaccepted.body
    );
    assert!(
        unaccepted.body.contains("redactions"),
        "{}",
        unaccepted.body
    );

    let published = app
        .post_json(&publish, &rev, json!({"accept_redactions": true}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    let url = published.json()["url"].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("/public/incidents/checkout-returned-502s-{id}")
    );

    let page = app.get(&url, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.headers[axum::http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("<h2>Summary</h2>"), "{}", page.body);
    assert_no_secret(&page.body);
    let markdown = app.get(&format!("{url}.md"), None).await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert_eq!(
        markdown.headers[axum::http::header::CONTENT_TYPE],
        "text/markdown; charset=utf-8"
    );
    assert!(markdown.body.contains("## Impact"), "{}", markdown.body);
    assert_no_secret(&markdown.body);
    let negotiated = app
        .send(
            axum::http::Request::get(&url)
                .header(axum::http::header::ACCEPT, "text/markdown, text/html;q=0.5")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(negotiated.body, markdown.body);

    let down = app
        .call(
            "POST",
            &format!("/api/v1/incidents/{id}/external/unpublish"),
            &rev,
            None,
        )
        .await;
    assert_eq!(down.status, StatusCode::NO_CONTENT, "{}", down.body);
    for gone in [url.clone(), format!("{url}.md")] {
        assert_eq!(app.get(&gone, None).await.status, StatusCode::NOT_FOUND);
    }

    let actions = audited(&app, id, &dana).await;
    for step in [
        "external.draft.create",
        "external.publish",
        "external.unpublish",
    ] {
        assert!(
            actions.iter().any(|a| a == step),
            "{step} not audited: {actions:?}"
        );
    }
}

#[tokio::test]
async fn only_an_admin_publishes_a_restricted_incidents_external_version() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let rev = app.person("rev", "reviewer").await;
    let ada = app.person("ada", "admin").await;
    let mut body = crate::common::outage();
    body["kind"] = json!("security");
    let created = app.post_json("/api/v1/incidents", &dana, body).await;
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(created.json()["restricted"], true);
    let named = app
        .call(
            "PUT",
            &format!("/api/v1/incidents/{id}/members/rev"),
            &dana,
            None,
        )
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    let made = app
        .post_json(
            &format!("/api/v1/incidents/{id}/external"),
            &dana,
            json!({"sections": ["summary"]}),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);

    let publish = format!("/api/v1/incidents/{id}/external/publish");
    let refused = app
        .post_json(&publish, &rev, json!({"accept_redactions": true}))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("only an admin"), "{}", refused.body);
    let published = app
        .post_json(&publish, &ada, json!({"accept_redactions": true}))
        .await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_drafts_reads_the_marked_redactions_and_publishes_in_the_browser() {
    use crate::browser::{
        Chromedriver, api, csp_violations, enabled, person, screenshot, sign_in, text_of,
    };
    use fantoccini::Locator;
    use postmortem_server::{AppState, Settings, serve};
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = postmortem_store::testing::TestDb::sqlite().await;
    person(&db, "ada", "admin").await;
    person(&db, "dana", "contributor").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.store.clone(), Settings::default());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let driver = Chromedriver::start().await;
    let ada = driver.browser().await;
    sign_in(&ada, &base, "ada").await;
    let created = api(
        &ada,
        "POST",
        "/api/v1/incidents",
        json!({"title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2"}),
    )
    .await;
    let id = created["id"].as_i64().unwrap();
    let saved = api(&ada, "PATCH", &format!("/api/v1/incidents/{id}/postmortem"), json!({"sections": {
        "summary": "Dana Example (@dana, dana@corp.example.com) restarted db-primary-03 at 10.20.3.4 after customer 88123 reported errors in #inc-checkout.",
        "impact": "Checkout failed for 47 minutes for 3% of customers."}})).await;
    assert!(saved.get("error").is_none(), "{saved}");

    ada.goto(&format!("{base}/incidents/{id}")).await.unwrap();
    ada.find(Locator::LinkText("External version for customers"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.find(Locator::Css("form[action$='/external'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.wait()
        .for_element(Locator::Css("pre.external-draft mark"))
        .await
        .unwrap();
    let draft = text_of(&ada, "pre.external-draft").await;
    for secret in [
        "Dana",
        "dana@",
        "db-primary-03",
        "10.20.3.4",
        "88123",
        "#inc-checkout",
    ] {
        assert!(!draft.contains(secret), "`{secret}` in the draft:\n{draft}");
    }
    let rows = ada
        .find_all(Locator::Css("#redactions + form tbody tr"))
        .await
        .unwrap();
    assert!(rows.len() >= 6, "{} redactions listed", rows.len());
    screenshot(&ada, "external-draft.png").await;

    ada.find(Locator::Id("accept"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    ada.find(Locator::Css("form[action$='/publish'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let link = ada
        .wait()
        .for_element(Locator::Css("#published + p a"))
        .await
        .unwrap();
    link.click().await.unwrap();
    ada.wait()
        .for_element(Locator::Css("article.public h1"))
        .await
        .unwrap();
    let public = text_of(&ada, "main").await;
    assert!(
        public.contains("Checkout failed for 47 minutes"),
        "{public}"
    );
    for secret in ["Dana", "dana@", "db-primary-03", "10.20.3.4", "88123"] {
        assert!(!public.contains(secret), "`{secret}` published:\n{public}");
    }
    assert_eq!(csp_violations(&ada).await, Vec::<String>::new());
    screenshot(&ada, "external-public.png").await;
}
