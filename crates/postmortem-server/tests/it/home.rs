//! The home page starts from the person: reviews asked of them, post-mortems they or their
//! teams owe (overdue first and marked), their open action items, their drafts and what
//! their teams published; empty lists say what to do next.

use crate::common::TestApp;
use axum::http::StatusCode;
use postmortem_core::{
    Handle, Impact, IncidentKind, Name, NewIncident, PostmortemStatus, Severity, TemplateName,
    Title,
};
use postmortem_store::{Actor, PostmortemStart};
use serde_json::json;

/// The position of `needle` in `haystack`, for checking the order things are listed in.
fn at(haystack: &str, needle: &str) -> usize {
    haystack
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not on the page: {haystack}"))
}

#[tokio::test]
async fn a_newcomer_is_told_what_to_do_next_in_every_empty_list() {
    let app = TestApp::new().await;
    app.person("nia", "contributor").await;
    let cookie = app.sign_in("nia").await;
    let home = app.page("/", &cookie).await;
    assert_eq!(home.status, StatusCode::OK);
    for said in [
        "Nobody is waiting for your review",
        "Nothing owed by you or your teams",
        "You own no open action items",
        "No drafts of yours",
        "Nothing published in your teams yet",
        "href=\"/incidents\"",
    ] {
        assert!(home.body.contains(said), "{said}: {}", home.body);
    }
}

#[tokio::test]
async fn the_home_page_lists_what_needs_the_person_overdue_first() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let rae = app.person("rae", "reviewer").await;
    let create_team = app
        .post_json(
            "/api/v1/teams",
            &ada,
            json!({"name": "payments", "display_name": "Payments"}),
        )
        .await;
    assert_eq!(
        create_team.status,
        StatusCode::CREATED,
        "{}",
        create_team.body
    );
    for who in ["dana", "rae"] {
        let joined = app
            .call(
                "PUT",
                &format!("/api/v1/teams/payments/members/{who}"),
                &ada,
                None,
            )
            .await;
        assert!(joined.status.is_success(), "{}", joined.body);
    }
    // Recorded by the admin for the payments team: owed by Dana's team, one long overdue.
    let owed = |title: &str, due_on: time::Date| {
        let title = title.to_owned();
        let store = app.db.store.clone();
        async move {
            let ada = store
                .user_by_handle(&Handle::parse("ada").unwrap())
                .await
                .unwrap()
                .unwrap();
            let new = NewIncident {
                title: Title::parse(title).unwrap(),
                kind: IncidentKind::Outage,
                severity: Severity::parse("SEV1").unwrap(),
                started_at: None,
                services: vec![Name::parse("ledger").unwrap()],
                teams: vec![Name::parse("payments").unwrap()],
                impact: Impact::default(),
                restricted: false,
                template: TemplateName::full(),
            };
            let start = PostmortemStart {
                status: PostmortemStatus::Owed,
                due_on: Some(due_on),
            };
            store
                .create_incident(Actor::user(ada.id), new, start)
                .await
                .unwrap()
                .get()
        }
    };
    let today = time::OffsetDateTime::now_utc().date();
    let late = owed("Refunds queued twice", today + time::Duration::days(20)).await;
    let early = owed("Ledger writes timed out", today - time::Duration::days(30)).await;
    // Dana drafts a third, asks Rae to review a fourth, and owns an overdue action item.
    let drafted = app.incident(&dana).await;
    app.post_json(
        &format!("/api/v1/incidents/{drafted}/postmortem/transitions"),
        &dana,
        json!({"to": "draft"}),
    )
    .await;
    let reviewed = app.incident(&dana).await;
    for body in [
        json!({"to": "draft"}),
        json!({"to": "in_review", "reviewers": ["rae"]}),
    ] {
        let moved = app
            .post_json(
                &format!("/api/v1/incidents/{reviewed}/postmortem/transitions"),
                &dana,
                body,
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    }
    let item = app
        .post_json(
            &format!("/api/v1/incidents/{early}/actions"),
            &ada,
            json!({"title": "Alert on ledger write latency", "kind": "detect", "owner": "dana", "due_on": "2026-03-10"}),
        )
        .await;
    assert_eq!(item.status, StatusCode::CREATED, "{}", item.body);

    let dana_home = app.page("/", &app.sign_in("dana").await).await.body;
    assert!(
        at(&dana_home, "Ledger writes timed out") < at(&dana_home, "Refunds queued twice"),
        "the longest overdue comes first"
    );
    assert!(
        dana_home.contains(&format!(
            "<li class=\"overdue\"><a href=\"/incidents/{early}\">"
        )),
        "the overdue one is marked: {dana_home}"
    );
    assert!(!dana_home.contains(&format!(
        "<li class=\"overdue\"><a href=\"/incidents/{late}\">"
    )));
    assert!(dana_home.contains("Alert on ledger write latency"));
    assert!(at(&dana_home, "Your drafts") < at(&dana_home, &format!("/incidents/{drafted}\"")));
    assert!(dana_home.contains("Nobody is waiting for your review"));

    let rae_home = app.page("/", &app.sign_in("rae").await).await.body;
    assert!(
        at(&rae_home, "Reviews asked of you") < at(&rae_home, &format!("/incidents/{reviewed}\""))
            && at(&rae_home, &format!("/incidents/{reviewed}\""))
                < at(&rae_home, "Post-mortems you or your teams owe"),
        "{rae_home}"
    );
    let _ = rae;
}

#[tokio::test]
async fn an_unknown_page_is_a_real_page_and_a_viewer_is_offered_nothing_they_cannot_use() {
    let app = TestApp::new().await;
    app.person("val", "viewer").await;
    let cookie = app.sign_in("val").await;
    let missing = app.page("/no/such/thing", &cookie).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("There is no such page"),
        "{}",
        missing.body
    );
    assert!(missing.body.contains("<link rel=\"stylesheet\""));
    let api = app.get("/api/v1/no/such/thing", None).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error"]["code"], "not_found");
    let home = app.page("/", &cookie).await;
    assert!(!home.body.contains("Record an incident"), "{}", home.body);
    let new = app.page("/incidents/new", &cookie).await;
    assert!(
        !new.body
            .contains("<form method=\"post\" action=\"/incidents/new\"")
    );
    assert!(new.body.contains("Ask an admin for the contributor role"));
}

#[tokio::test]
async fn a_refused_sign_in_keeps_the_handle_that_was_typed() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let refused = app
        .send(
            axum::http::Request::post("/login")
                .header("sec-fetch-site", "same-origin")
                .header(
                    axum::http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(axum::body::Body::from(
                    "handle=dana&password=wrong+one+here",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert!(refused.body.contains("value=\"dana\""), "{}", refused.body);
}
