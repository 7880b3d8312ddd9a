//! Web security: the headers every response carries, the session cookie's flags, CSRF on
//! every form, sign-in lockout with back-off, and API tokens with expiry and revocation.

use crate::common::{Reply, TestApp, csrf_of};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use postmortem_server::{AppState, Settings};
use postmortem_store::testing::TestDb;
use serde_json::json;
use std::collections::BTreeSet;
use std::net::SocketAddr;

/// The main pages of a signed-in admin, with incident `id`.
pub(crate) fn main_pages(id: i64) -> Vec<String> {
    let incident = format!("/incidents/{id}");
    let mut pages: Vec<String> = [
        "/",
        "/incidents/new",
        "/follow-through",
        "/insights",
        "/admin/webhooks",
        "/account",
    ]
    .map(str::to_owned)
    .into();
    pages.push(format!("{incident}/edit"));
    pages.push(incident);
    pages
}

/// Makes an API token through the API.
async fn make_token(app: &TestApp, token: &str, body: serde_json::Value) -> Reply {
    app.post_json("/api/v1/tokens", token, body).await
}

/// The fields an `invalid_input` refusal names, in order.
fn refused_fields(reply: &Reply) -> Vec<String> {
    reply.json()["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_owned())
        .collect()
}

/// Every `<form method="post">`'s action on a page.
fn post_form_actions(html: &str) -> Vec<String> {
    html.split("<form")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            tag.contains("method=\"post\"").then_some(())?;
            let start = tag.find("action=\"")? + "action=\"".len();
            Some(tag[start..].split('"').next()?.replace("&amp;", "&"))
        })
        .collect()
}

async fn audit_count(app: &TestApp) -> usize {
    app.db.store.audit_events(None, 10_000).await.unwrap().len()
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    let token = app.person("dana", "contributor").await;
    let cookie = app.sign_in("dana").await;
    let replies = [
        app.get("/login", None).await,
        app.page("/", &cookie).await,
        app.get("/static/app.css", None).await,
        app.get("/api/v1/me", Some(&token)).await,
        app.get("/api/v1/me", None).await,
        app.get("/no/such/page", None).await,
    ];
    for reply in &replies {
        let csp = reply.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap();
        for directive in [
            "script-src 'self'",
            "style-src 'self'",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} in {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{csp}");
        assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(
            reply.headers[header::REFERRER_POLICY],
            "strict-origin-when-cross-origin"
        );
    }
}

#[tokio::test]
async fn no_page_uses_inline_script_or_style() {
    let app = TestApp::new().await;
    let token = app.person("ada", "admin").await;
    let id = app.incident(&token).await;
    let cookie = app.sign_in("ada").await;
    for path in main_pages(id) {
        let page = app.page(&path, &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        for forbidden in [
            "<script>",
            " style=\"",
            "<style",
            " onclick=",
            " onload=",
            "javascript:",
        ] {
            assert!(!page.body.contains(forbidden), "{path} has {forbidden}");
        }
    }
}

#[tokio::test]
async fn the_session_cookie_is_secure_exactly_when_configured() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let sign_in = || {
        Request::post("/login")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("handle=dana&password=correct+horse+battery"))
            .unwrap()
    };
    // HttpOnly and SameSite=Lax are checked by the API tests' sign-in; here, Secure.
    let plain = app.send(sign_in()).await;
    let cookie = plain.headers[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!cookie.contains("Secure"), "not over plain HTTP: {cookie}");

    let behind_tls = TestApp {
        router: postmortem_server::app(AppState::new(
            app.db.store.clone(),
            Settings {
                cookie_secure: true,
                ..Settings::default()
            },
        )),
        db: app.db,
    };
    let secure = behind_tls.send(sign_in()).await;
    let cookie = secure.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"),
        "{cookie}"
    );
}

#[tokio::test]
async fn every_post_form_on_every_page_refuses_a_missing_or_wrong_csrf_token_and_changes_nothing() {
    let app = TestApp::new().await;
    let ada = app.person("ada", "admin").await;
    let id = app.incident(&ada).await;
    let action = app
        .post_json(
            &format!("/api/v1/incidents/{id}/actions"),
            &ada,
            json!({"title": "Alert on pool saturation", "kind": "detect"}),
        )
        .await;
    assert_eq!(action.status, StatusCode::CREATED, "{}", action.body);
    let comment = app
        .post_json(
            &format!("/api/v1/incidents/{id}/comments"),
            &ada,
            json!({"section": "summary", "body": "Say which pool."}),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED, "{}", comment.body);
    let created = make_token(&app, &ada, json!({"label": "laptop"})).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let cookie = app.sign_in("ada").await;

    let mut actions = BTreeSet::new();
    for path in main_pages(id) {
        let page = app.page(&path, &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        actions.extend(post_form_actions(&page.body));
    }
    actions.remove("/login");
    for expected in [
        "/logout".to_owned(),
        "/incidents/new".to_owned(),
        format!("/incidents/{id}/timeline"),
        format!("/incidents/{id}/factors"),
        format!("/incidents/{id}/actions"),
        format!("/incidents/{id}/actions/1"),
        format!("/incidents/{id}/comments"),
        format!("/incidents/{id}/comments/1/resolve"),
        format!("/incidents/{id}/transitions"),
        format!("/incidents/{id}/edit"),
        "/admin/webhooks".to_owned(),
        "/account/tokens".to_owned(),
        "/account/tokens/1/revoke".to_owned(),
    ] {
        assert!(
            actions.contains(&expected),
            "the walk reaches {expected}; found {actions:?}"
        );
    }

    let before = audit_count(&app).await;
    let fields = [
        ("title", "Forged"),
        ("text", "Forged"),
        ("label", "forged"),
        ("url", "https://evil.example/hook"),
        ("secret", "0123456789abcdef0123"),
    ];
    for action in &actions {
        let without = app.post_form(action, &cookie, &fields).await;
        assert_eq!(
            without.status,
            StatusCode::FORBIDDEN,
            "{action} without a token: {}",
            without.body
        );
        let mut forged = fields.to_vec();
        forged.push(("csrf", "0000"));
        let wrong = app.post_form(action, &cookie, &forged).await;
        assert_eq!(
            wrong.status,
            StatusCode::FORBIDDEN,
            "{action} with a wrong token"
        );
    }
    assert_eq!(
        audit_count(&app).await,
        before,
        "no refused form wrote anything"
    );
    assert_eq!(
        app.page("/account", &cookie).await.status,
        StatusCode::OK,
        "the session survived the forged sign-out"
    );

    let page = app.page("/account", &cookie).await;
    let signed_out = app
        .post_form("/logout", &cookie, &[("csrf", &csrf_of(&page.body))])
        .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.page("/account", &cookie).await.status,
        StatusCode::SEE_OTHER,
        "signed out, sent to the sign-in page"
    );
}

/// A sign-in attempt from `address`.
async fn attempt(app: &TestApp, handle: &str, password: &str, address: &str) -> Reply {
    let mut request = Request::post("/login")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "handle={handle}&password={}",
            crate::common::urlencode(password)
        )))
        .unwrap();
    let peer: SocketAddr = format!("{address}:40000").parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    app.send(request).await
}

#[tokio::test]
async fn failed_sign_ins_lock_the_handle_out_for_doubling_periods_and_a_success_resets_the_count() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let right = "correct horse battery";
    for n in 1..=5 {
        let reply = attempt(&app, "dana", "wrong guess", "192.0.2.1").await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "failure {n} is free"
        );
    }
    let sixth = attempt(&app, "dana", "wrong guess", "192.0.2.2").await;
    assert_eq!(sixth.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(sixth.headers[header::RETRY_AFTER], "30");
    assert!(
        sixth.body.contains("Try again in 30 seconds"),
        "{}",
        sixth.body
    );

    let locked = attempt(&app, "DANA", right, "198.51.100.7").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the right password waits too, from any address"
    );
    app.db.clock.advance(time::Duration::seconds(10));
    assert_eq!(
        attempt(&app, "dana", right, "192.0.2.1").await.headers[header::RETRY_AFTER],
        "20"
    );

    app.db.clock.advance(time::Duration::seconds(20));
    let seventh = attempt(&app, "dana", "wrong again", "192.0.2.1").await;
    assert_eq!(seventh.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        seventh.headers[header::RETRY_AFTER],
        "60",
        "the lockout doubles"
    );

    app.db.clock.advance(time::Duration::seconds(60));
    assert_eq!(
        attempt(&app, "dana", right, "192.0.2.1").await.status,
        StatusCode::SEE_OTHER
    );
    for _ in 1..=5 {
        assert_eq!(
            attempt(&app, "dana", "wrong guess", "192.0.2.1")
                .await
                .status,
            StatusCode::UNAUTHORIZED,
            "counting started again"
        );
    }
}

#[tokio::test]
async fn a_lockout_earned_on_one_node_holds_on_another_node_of_the_same_postgresql() {
    let (node, other_node) = TestApp::two_nodes_on_postgres().await;
    node.person("dana", "contributor").await;
    for n in 1..=5 {
        let this_node = if n % 2 == 0 { &node } else { &other_node };
        let reply = attempt(this_node, "dana", "wrong guess", "192.0.2.1").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "failure {n}");
    }
    assert_eq!(
        attempt(&node, "dana", "wrong guess", "192.0.2.1")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS,
        "the sixth failure across two nodes locks dana out"
    );
    let locked = attempt(&other_node, "dana", "correct horse battery", "192.0.2.1").await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "on the other node too"
    );
    assert_eq!(
        attempt(&node, "dana", "correct horse battery", "192.0.2.1")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn one_address_guessing_many_handles_is_locked_out_and_others_are_not() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    for n in 1..=20 {
        let reply = attempt(&app, &format!("someone{n}"), "wrong guess", "203.0.113.5").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "failure {n}");
    }
    let locked = attempt(&app, "someone21", "wrong guess", "203.0.113.5").await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        attempt(&app, "dana", "correct horse battery", "203.0.113.5")
            .await
            .status,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        attempt(&app, "dana", "correct horse battery", "203.0.113.6")
            .await
            .status,
        StatusCode::SEE_OTHER,
        "another address signs in"
    );
}

#[tokio::test]
async fn behind_a_proxy_the_configured_header_names_the_client() {
    let db = TestDb::sqlite().await;
    let settings = Settings {
        client_address_header: Some(header::HeaderName::from_static("x-forwarded-for")),
        ..Settings::default()
    };
    let app = TestApp {
        router: postmortem_server::app(AppState::new(db.store.clone(), settings)),
        db,
    };
    app.person("dana", "contributor").await;
    let from = |client: &str, n: usize| {
        Request::post("/login")
            .header("sec-fetch-site", "same-origin")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-for", format!("{client}, 10.0.0.1"))
            .body(Body::from(format!("handle=nobody{n}&password=wrong+guess")))
            .unwrap()
    };
    // The proxy appends the address it saw; what the client wrote before it is not trusted.
    for n in 0..20 {
        assert_eq!(
            app.send(from("1.1.1.1", n)).await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        app.send(from("2.2.2.2", 20)).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
}

#[tokio::test]
async fn a_token_made_through_the_api_is_shown_once_works_and_is_refused_once_expired() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let created = make_token(
        &app,
        &dana,
        json!({"label": "deploy job", "expires_in_days": 7}),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert_eq!(created.headers[header::CACHE_CONTROL], "no-store");
    let body = created.json();
    let secret = body["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("pm_"));
    assert_eq!(body["label"], "deploy job");
    assert_eq!(body["state"], "live");
    assert_eq!(body["expires_at"], "2026-03-09T09:00:00Z");

    let me = app.get("/api/v1/me", Some(&secret)).await;
    assert_eq!(me.json()["handle"], "dana");
    let listed = app.get("/api/v1/tokens", Some(&secret)).await;
    assert_eq!(listed.status, StatusCode::OK);
    let items = listed.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "this one and the one made with the account");
    assert_eq!(items[0]["label"], "deploy job");
    assert!(
        !listed.body.contains(&secret) && !listed.body.contains("token_hash"),
        "no secret is listed: {}",
        listed.body
    );

    app.db.clock.advance(time::Duration::days(7));
    let expired = app.get("/api/v1/me", Some(&secret)).await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED);
    assert_eq!(expired.json()["error"]["code"], "token_expired");
    assert!(
        expired.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/account")
    );
    assert_eq!(
        app.get("/api/v1/tokens", Some(&dana)).await.json()["items"][0]["state"],
        "expired"
    );
    let unknown = app.get("/api/v1/me", Some("pm_never_made")).await;
    assert_eq!(unknown.json()["error"]["code"], "unauthenticated");
}

#[tokio::test]
async fn a_revoked_token_is_refused_and_only_its_owner_or_an_admin_may_revoke_it() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let sam = app.person("sam", "contributor").await;
    let ada = app.person("ada", "admin").await;
    let made = |token: String| {
        let app = &app;
        async move {
            make_token(app, &token, json!({"label": "spare"}))
                .await
                .json()
        }
    };
    let spare = made(dana.clone()).await;
    let delete = |path: String, token: String| {
        let app = &app;
        async move {
            let request = Request::delete(path.as_str())
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap();
            app.send(request).await
        }
    };
    let path = format!("/api/v1/tokens/{}", spare["id"]);
    assert_eq!(
        delete(path.clone(), sam.clone()).await.status,
        StatusCode::NOT_FOUND,
        "someone else's token does not exist for sam"
    );
    assert_eq!(
        delete("/api/v1/tokens/999".into(), dana.clone())
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let revoked = delete(path.clone(), dana.clone()).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.json()["state"], "revoked");
    let refused = app
        .get("/api/v1/me", Some(spare["token"].as_str().unwrap()))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refused.json()["error"]["code"], "token_revoked");

    let sams_spare = made(sam.clone()).await;
    let by_admin = delete(format!("/api/v1/tokens/{}", sams_spare["id"]), ada).await;
    assert_eq!(
        by_admin.status,
        StatusCode::OK,
        "admins may revoke anyone's"
    );
    assert_eq!(
        app.get("/api/v1/me", Some(sams_spare["token"].as_str().unwrap()))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/api/v1/me", Some(&sam)).await.status,
        StatusCode::OK,
        "sam's other token still works"
    );
}

#[tokio::test]
async fn a_token_request_with_a_bad_label_or_lifetime_is_refused_with_each_rule() {
    let app = TestApp::new().await;
    let dana = app.person("dana", "contributor").await;
    let refused = make_token(&app, &dana, json!({"label": " ", "expires_in_days": 400})).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused_fields(&refused), ["label", "expires_in_days"]);
}

#[tokio::test]
async fn the_account_page_makes_a_token_shows_it_once_and_revokes_it() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let cookie = app.sign_in("dana").await;
    let page = app.page("/account", &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("created with the account"));
    let csrf = csrf_of(&page.body);

    let made = app
        .post_form(
            "/account/tokens",
            &cookie,
            &[
                ("csrf", &csrf),
                ("label", "laptop"),
                ("expires_in_days", "30"),
            ],
        )
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.body);
    let marker = "id=\"new-token\" type=\"text\" readonly value=\"";
    let start = made.body.find(marker).expect("the new token is shown") + marker.len();
    let secret = made.body[start..].split('"').next().unwrap().to_owned();
    assert_eq!(
        app.get("/api/v1/me", Some(&secret)).await.status,
        StatusCode::OK
    );
    let again = app.page("/account", &cookie).await;
    assert!(
        again.body.contains("laptop") && !again.body.contains(&secret),
        "listed, never shown again"
    );

    let refused = app
        .post_form(
            "/account/tokens",
            &cookie,
            &[("csrf", &csrf), ("label", ""), ("expires_in_days", "30")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("must be 1 to 100 characters"),
        "{}",
        refused.body
    );

    let id = app.get("/api/v1/tokens", Some(&secret)).await.json()["items"][0]["id"]
        .as_i64()
        .unwrap();
    let revoked = app
        .post_form(
            &format!("/account/tokens/{id}/revoke"),
            &cookie,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.get("/api/v1/me", Some(&secret)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert!(app.page("/account", &cookie).await.body.contains("revoked"));
}
