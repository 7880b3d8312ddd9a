//! Sign-in, sign-out and the start of single sign-on come only from this site's pages: a POST
//! another site sends (`Sec-Fetch-Site` not `same-origin`, or an `Origin` of another host), or
//! one that says neither where it came from, is refused, so no site can sign a person into an
//! account of its choosing (login CSRF) or out of theirs.

use crate::common::{Reply, TestApp, csrf_of};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};

/// Where a request says it was sent from.
#[derive(Clone, Copy)]
enum From {
    /// `Sec-Fetch-Site: same-origin`, as every current browser sends it from our pages.
    FetchSiteSameOrigin,
    /// `Origin` of this host only, as older browsers send it.
    OriginSameHost,
    CrossSiteFetch,
    SameSiteFetch,
    OtherOrigin,
    NullOrigin,
    /// Neither header: a client that does not say.
    Nowhere,
}

async fn post(app: &TestApp, path: &str, from: From, cookie: Option<&str>, body: &str) -> Reply {
    let mut request = Request::post(path)
        .header(header::HOST, "pm.acme.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    request = match from {
        From::FetchSiteSameOrigin => request.header("sec-fetch-site", "same-origin"),
        From::OriginSameHost => request.header(header::ORIGIN, "https://pm.acme.example"),
        From::CrossSiteFetch => request
            .header("sec-fetch-site", "cross-site")
            .header(header::ORIGIN, "https://evil.example"),
        // A sibling host may be someone else's.
        From::SameSiteFetch => request
            .header("sec-fetch-site", "same-site")
            .header(header::ORIGIN, "https://blog.acme.example"),
        From::OtherOrigin => request.header(header::ORIGIN, "https://evil.example"),
        From::NullOrigin => request.header(header::ORIGIN, "null"),
        From::Nowhere => request,
    };
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    app.send(request.body(Body::from(body.to_owned())).unwrap())
        .await
}

const CREDENTIALS: &str = "handle=dana&password=correct+horse+battery&next=%2Fincidents";

#[tokio::test]
async fn a_sign_in_sent_from_another_site_or_from_nowhere_is_refused_and_starts_no_session() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    for from in [
        From::CrossSiteFetch,
        From::SameSiteFetch,
        From::OtherOrigin,
        From::NullOrigin,
        From::Nowhere,
    ] {
        let refused = post(&app, "/login", from, None, CREDENTIALS).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert!(!refused.headers.contains_key(header::SET_COOKIE));
        assert!(refused.body.contains("Not signed in:"), "{}", refused.body);
        assert!(
            refused.body.contains("value=\"dana\""),
            "the handle is kept"
        );
    }
    let page = post(&app, "/login", From::Nowhere, None, CREDENTIALS).await;
    assert!(
        page.body
            .contains("it has neither an Origin nor a Sec-Fetch-Site header"),
        "{}",
        page.body
    );
    let accepted = post(&app, "/login", From::FetchSiteSameOrigin, None, CREDENTIALS).await;
    assert_eq!(
        accepted.status,
        StatusCode::SEE_OTHER,
        "the refusals locked nobody out"
    );
}

#[tokio::test]
async fn a_sign_in_from_this_sites_form_is_accepted_whichever_header_says_so() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    for from in [From::FetchSiteSameOrigin, From::OriginSameHost] {
        let signed_in = post(&app, "/login", from, None, CREDENTIALS).await;
        assert_eq!(
            signed_in.status,
            StatusCode::SEE_OTHER,
            "{}",
            signed_in.body
        );
        assert_eq!(signed_in.headers[header::LOCATION], "/incidents");
        assert!(signed_in.headers.contains_key(header::SET_COOKIE));
    }
}

#[tokio::test]
async fn a_sign_out_needs_this_sites_word_as_well_as_the_sessions_token() {
    let app = TestApp::new().await;
    app.person("dana", "contributor").await;
    let cookie = app.sign_in("dana").await;
    let csrf = csrf_of(&app.page("/account", &cookie).await.body);
    let body = format!("csrf={csrf}");
    for from in [From::CrossSiteFetch, From::OtherOrigin, From::Nowhere] {
        let refused = post(&app, "/logout", from, Some(&cookie), &body).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
        assert_eq!(
            app.page("/account", &cookie).await.status,
            StatusCode::OK,
            "still signed in"
        );
    }
    let signed_out = post(
        &app,
        "/logout",
        From::FetchSiteSameOrigin,
        Some(&cookie),
        &body,
    )
    .await;
    assert_eq!(signed_out.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.page("/account", &cookie).await.status,
        StatusCode::SEE_OTHER,
        "signed out"
    );
}
