//! Follow-through across incidents: action items by owner, team and overdue, post-mortems
//! owed, the figures, and their pages; restricted incidents never show.

use crate::common::{TestApp, csrf_of, outage};
use axum::http::StatusCode;
use serde_json::json;

/// An incident with one overdue item owned by dana and one future item owned by sam.
async fn incident_with_actions(app: &TestApp, token: &str, restricted: bool) -> i64 {
    let mut body = outage();
    body["restricted"] = json!(restricted);
    body["title"] = json!(if restricted {
        "Leaked credential"
    } else {
        "Checkout returned 502s"
    });
    let created = app.post_json("/api/v1/incidents", token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    for (title, owner, team, due) in [
        ("Alert on pool saturation", "dana", "sre", "2020-01-10"),
        (
            "Show the pool size in deploy diffs",
            "sam",
            "payments",
            "2999-01-01",
        ),
    ] {
        let title = if restricted {
            format!("Secret: {title}")
        } else {
            title.to_owned()
        };
        let reply = app
            .post_json(
                &format!("/api/v1/incidents/{id}/actions"),
                token,
                json!({"title": title, "owner": owner, "team": team, "due_on": due, "kind": "detect"}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }
    id
}

#[tokio::test]
async fn actions_are_listed_by_owner_team_and_overdue_across_incidents() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    incident_with_actions(&app, &dana, false).await;
    incident_with_actions(&app, &dana, true).await;

    let mine = app
        .get("/api/v1/actions?owner=me", Some(&dana))
        .await
        .json();
    assert_eq!(
        mine["total"], 2,
        "dana sees her item in both incidents: {mine}"
    );
    let overdue = app
        .get("/api/v1/actions?overdue=true", Some(&sam))
        .await
        .json();
    assert_eq!(
        overdue["total"], 1,
        "sam does not see the restricted incident's items: {overdue}"
    );
    assert_eq!(overdue["items"][0]["owner_handle"], "dana");
    assert_eq!(overdue["items"][0]["overdue"], true);
    assert_eq!(
        overdue["items"][0]["incident_title"],
        "Checkout returned 502s"
    );
    let by_team = app
        .get("/api/v1/actions?team=payments&owner=sam", Some(&sam))
        .await
        .json();
    assert_eq!(
        by_team["items"][0]["title"],
        "Show the pool size in deploy diffs"
    );

    let refused = app
        .get(
            "/api/v1/actions?owner=nobody&status=finished&sort=random",
            Some(&sam),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = refused.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["owner", "status", "sort"]);
    assert_eq!(
        app.get("/api/v1/actions?overdue=maybe", Some(&sam))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        app.get("/api/v1/actions", None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn owed_post_mortems_and_figures_leave_out_what_the_reader_may_not_see() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    incident_with_actions(&app, &dana, false).await;
    incident_with_actions(&app, &dana, true).await;

    let owed_for_dana = app
        .get("/api/v1/postmortems/owed", Some(&dana))
        .await
        .json();
    assert_eq!(owed_for_dana["total"], 2, "{owed_for_dana}");
    let owed_for_sam = app.get("/api/v1/postmortems/owed", Some(&sam)).await.json();
    assert_eq!(owed_for_sam["total"], 1);
    assert_eq!(owed_for_sam["items"][0]["postmortem"]["status"], "owed");
    assert!(owed_for_sam["items"][0]["postmortem"]["due_on"].is_string());

    let figures = app.get("/api/v1/figures", Some(&sam)).await.json();
    assert_eq!(figures["overall"]["n_actions"], 2, "{figures}");
    assert_eq!(figures["overall"]["n_overdue"], 1);
    let teams: Vec<&str> = figures["teams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["team"].as_str().unwrap())
        .collect();
    assert_eq!(teams, ["payments", "sre"]);
}

#[tokio::test]
async fn the_follow_through_and_figures_pages_render_for_signed_in_people() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    app.person("sam", "contributor").await;
    incident_with_actions(&app, &dana, false).await;
    incident_with_actions(&app, &dana, true).await;
    let cookie = app.sign_in("sam").await;

    let overdue = app.page("/follow-through?view=overdue", &cookie).await;
    assert_eq!(overdue.status, StatusCode::OK);
    assert!(
        overdue.body.contains("Alert on pool saturation"),
        "{}",
        overdue.body
    );
    assert!(
        !overdue.body.contains("Secret:"),
        "restricted items never show"
    );
    assert!(
        overdue
            .body
            .contains("<td>sre</td><td>dana Example</td><td>1</td>"),
        "{}",
        overdue.body
    );
    let mine = app.page("/follow-through", &cookie).await;
    assert!(mine.body.contains("Show the pool size in deploy diffs"));
    assert!(mine.body.contains("aria-current=\"page\""));
    let owed = app.page("/follow-through?view=owed", &cookie).await;
    assert!(
        owed.body.contains("Checkout returned 502s") && !owed.body.contains("Leaked credential")
    );
    let figures = app.page("/figures", &cookie).await;
    assert_eq!(
        figures.status,
        StatusCode::PERMANENT_REDIRECT,
        "the figures are part of the insights"
    );
    let insights = app.page("/insights", &cookie).await;
    assert_eq!(insights.status, StatusCode::OK);
    assert!(
        insights.body.contains("<svg role=\"img\""),
        "{}",
        insights.body
    );
    assert!(insights.body.contains("Follow-through per team"));
    assert!(!insights.body.contains("Leaked credential"));
}

#[tokio::test]
async fn only_admins_manage_webhooks_and_secrets_are_never_shown_again() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let reviewer = app.person("rae", "reviewer").await;
    let body = json!({"url": "https://hooks.example.com/pm", "secret": "a-long-enough-secret", "events": ["review.overdue", "digest"]});
    let refused = app
        .post_json("/api/v1/webhooks", &reviewer, body.clone())
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/webhooks/deliveries", Some(&reviewer))
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let created = app.post_json("/api/v1/webhooks", &admin, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    let listed = app.get("/api/v1/webhooks", Some(&admin)).await;
    assert_eq!(
        listed.json()["items"][0]["events"],
        json!(["review.overdue", "digest"])
    );
    assert!(
        !listed.body.contains("a-long-enough-secret"),
        "{}",
        listed.body
    );
    let switched = app
        .patch_json(
            &format!("/api/v1/webhooks/{id}"),
            &admin,
            None,
            json!({"active": false}),
        )
        .await;
    assert_eq!(switched.status, StatusCode::OK, "{}", switched.body);
    assert_eq!(
        app.get("/api/v1/webhooks", Some(&admin)).await.json()["items"][0]["active"],
        false
    );
    assert_eq!(
        app.get("/api/v1/webhooks/deliveries", Some(&admin))
            .await
            .json()["items"],
        json!([])
    );

    let bad = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "ftp://x", "secret": "short", "events": []}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
}

#[tokio::test]
async fn the_webhooks_page_adds_a_webhook_through_a_protected_form() {
    let app = TestApp::new().await;
    app.person("ada", "admin").await;
    app.person("sam", "contributor").await;
    let sams = app.sign_in("sam").await;
    assert_eq!(
        app.page("/admin/webhooks", &sams).await.status,
        StatusCode::FORBIDDEN
    );

    let cookie = app.sign_in("ada").await;
    let page = app.page("/admin/webhooks", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("<label for=\"url\">URL</label>"),
        "{}",
        page.body
    );
    let csrf = csrf_of(&page.body);
    let fields = [
        ("csrf", csrf.as_str()),
        ("url", "https://hooks.example.com/x"),
        ("secret", "another-long-secret"),
        ("events", "digest"),
    ];
    let added = app.post_form("/admin/webhooks", &cookie, &fields).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert!(
        app.page("/admin/webhooks", &cookie)
            .await
            .body
            .contains("https://hooks.example.com/x")
    );
    let forged = app
        .post_form(
            "/admin/webhooks",
            &cookie,
            &[
                ("csrf", "wrong"),
                ("url", "https://evil.example.com"),
                ("secret", "another-long-secret"),
                ("events", "*"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(
        !app.page("/admin/webhooks", &cookie)
            .await
            .body
            .contains("evil.example.com")
    );
}

#[tokio::test]
async fn insights_count_what_the_reader_may_see_and_never_single_out_a_restricted_incident() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    for restricted in [false, true] {
        let id = incident_with_actions(&app, &dana, restricted).await;
        let reply = app
            .post_json(
                &format!("/api/v1/incidents/{id}/factors"),
                &dana,
                json!({"category": "alerting", "description": "No alert on pool saturation.", "is_trigger": false}),
            )
            .await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    }

    let count = |report: &serde_json::Value| {
        report["recurring_factors"]["by_category"][0]["total"]["count"].clone()
    };
    let for_dana = app.get("/api/v1/insights", Some(&dana)).await.json();
    assert_eq!(count(&for_dana), 2, "{for_dana}");
    let for_sam = app.get("/api/v1/insights", Some(&sam)).await.json();
    assert_eq!(count(&for_sam), 1, "{for_sam}");
    let restricted = &for_sam["recurring_factors"]["by_category"][0]["restricted"];
    assert!(
        restricted.as_array().unwrap().iter().all(|c| c == 0),
        "one restricted incident is too few to count: {restricted}"
    );
    assert!(!for_sam.to_string().contains("Leaked credential"));
    assert_eq!(
        for_sam["action_effectiveness"]["total"], 2,
        "the restricted incident's items are left out: {for_sam}"
    );
    // Narrowing to the service gives the same count: comparing the two singles nothing out.
    let narrowed = app
        .get("/api/v1/insights?service=checkout", Some(&sam))
        .await
        .json();
    assert_eq!(count(&narrowed), count(&for_sam));
    let list = for_sam["recurring_factors"]["by_category"][0]["total"]["list"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = app
        .get(
            &list.replace("/incidents?", "/api/v1/incidents?"),
            Some(&sam),
        )
        .await
        .json();
    assert_eq!(
        listed["total"], 1,
        "the link lists exactly the incidents counted: {listed}"
    );

    let csv = app
        .get("/api/v1/insights.csv?chart=recurring_factors", Some(&sam))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.body.starts_with("Condition,"), "{}", csv.body);
    assert!(csv.body.contains("Missing or noisy alerting"));
    let unknown = app.get("/api/v1/insights.csv?chart=pie", Some(&sam)).await;
    assert_eq!(
        unknown.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        unknown.body
    );
    let bad = app
        .get("/api/v1/insights?from=2026-05-01&to=2026-04-01", Some(&sam))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("swap them"), "{}", bad.body);
}
