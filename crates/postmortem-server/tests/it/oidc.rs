//! Sign-in through an identity provider, against a real one: npm's certified `oidc-provider`
//! started from `tests/oidc/provider.mjs`, with its own login and consent forms. A
//! cookie-keeping HTTP client plays the browser across both servers.
//!
//! Node and the provider's packages (`npm ci` in `tests/oidc`, which `cargo xtask test` runs)
//! must be installed. Without Node these tests fail under `CI=true` and say they are skipped
//! elsewhere.

use postmortem_server::accounts::{NewAccount, create_account};
use postmortem_server::oidc::{IdentityProvider, OidcConfig};
use postmortem_server::{AppState, Settings, serve};
use postmortem_store::Actor;
use postmortem_store::testing::TestDb;
use reqwest::StatusCode;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

const CLIENT_ID: &str = "postmortem";
const CLIENT_SECRET: &str = "a-test-client-secret";
const BUTTON: &str = "Sign in with Acme SSO";

/// The provider process; it exits when this is dropped (its standard input closes).
struct Provider {
    issuer: String,
    child: Child,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether Node is here to run the provider. Missing Node fails the test in CI, where it
/// must be installed, and skips it loudly elsewhere.
fn node_available() -> bool {
    let found = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
        assert!(
            !ci,
            "Node is not installed, so the OpenID Connect tests cannot run (install nodejs)"
        );
        eprintln!("SKIPPED: Node is not installed, so the OpenID Connect tests did not run");
    }
    found
}

impl Provider {
    /// Starts the provider with the client registered for `redirect_uri`.
    fn start(redirect_uri: &str) -> Provider {
        let dir = provider_dir();
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "the test provider's packages are missing: run `npm ci` in {} (cargo xtask test does)",
            dir.display()
        );
        // One provider starts at a time: each makes an RSA key and loads a few hundred
        // modules, and several at once on a loaded two-core machine outran the time limit.
        static STARTING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = STARTING
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        // Both pipes are drained for as long as it runs: a closed or full pipe would stop it.
        let mut stderr = child.stderr.take().unwrap();
        let warnings = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            text
        });
        let (first_line, announced) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            let mut lines = stdout.lines();
            let _ = first_line.send(lines.next());
            lines.for_each(drop);
        });
        let line = announced
            .recv_timeout(std::time::Duration::from_secs(120))
            .ok()
            .flatten()
            .and_then(Result::ok)
            .unwrap_or_default();
        let issuer = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|line| line["issuer"].as_str().map(str::to_owned));
        match issuer {
            Some(issuer) => Provider { issuer, child },
            None => {
                let _ = child.kill();
                panic!(
                    "the provider did not start ({line:?}): {}",
                    warnings.join().unwrap_or_default()
                );
            }
        }
    }
}

/// This server on a real socket, signing people in through `provider` (or through an
/// issuer nobody answers at, for `None`).
struct Server {
    base: String,
    db: TestDb,
    provider: Option<Provider>,
}

async fn server_with(
    allowed_email_domains: Option<Vec<String>>,
    with_provider: bool,
) -> Option<Server> {
    if with_provider && !node_available() {
        return None;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = with_provider.then(|| Provider::start(&format!("{base}/login/oidc/callback")));
    let issuer = match &provider {
        Some(provider) => provider.issuer.clone(),
        None => {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", closed.local_addr().unwrap())
        }
    };
    let settings = OidcConfig {
        issuer_url: Some(issuer),
        client_id: Some(CLIENT_ID.into()),
        client_secret: Some(CLIENT_SECRET.into()),
        base_url: Some(base.clone()),
        button_label: Some(BUTTON.into()),
        default_role: None,
        allowed_email_domains,
    }
    .check()
    .unwrap();
    let identity_provider = IdentityProvider::new(settings).unwrap();
    if with_provider {
        identity_provider.discover().await.unwrap();
    }
    let db = TestDb::sqlite().await;
    let state =
        AppState::new(db.store.clone(), Settings::default()).with_oidc(Arc::new(identity_provider));
    tokio::spawn(serve(listener, state, std::future::pending()));
    Some(Server { base, db, provider })
}

/// A browser: keeps cookies for both servers and follows redirects.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap()
}

/// A browser that stops where the provider sends it back to this server, so the test can
/// look at (and tamper with) the callback.
fn browser_stopping_at_the_callback() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().path() == "/login/oidc/callback" {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .build()
        .unwrap()
}

/// The `action` of the first form on a page.
fn form_action(html: &str) -> &str {
    let form = &html[html
        .find("<form")
        .unwrap_or_else(|| panic!("no form on the page: {html}"))..];
    let start = form.find("action=\"").expect("the form has an action") + "action=\"".len();
    &form[start..start + form[start..].find('"').unwrap()]
}

/// Presses the single sign-on button of a page of `server`, as a browser sends the form.
async fn start(browser: &reqwest::Client, server: &Server, next: &str) -> reqwest::Response {
    browser
        .post(format!("{}/login/oidc", server.base))
        .header("origin", &server.base)
        .header("sec-fetch-site", "same-origin")
        .form(&[("next", next)])
        .send()
        .await
        .unwrap()
}

/// Clicks the sign-in button on `/login`, then fills the provider's login form as `login`
/// and accepts its consent form when it asks, and returns the last response.
async fn sign_in(browser: &reqwest::Client, server: &Server, login: &str) -> reqwest::Response {
    let page = browser
        .get(format!("{}/login?next=/follow-through", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(BUTTON), "{page}");
    assert!(
        page.contains("<form class=\"single-sign-on\" method=\"post\" action=\"/login/oidc\"><input type=\"hidden\" name=\"next\" value=\"/follow-through\">"),
        "{page}"
    );
    let mut response = start(browser, server, "/follow-through").await;
    // At most a login form and a consent form stand between the person and the callback.
    for _ in 0..3 {
        let at_provider = response.url().as_str().starts_with(&provider_of(server));
        if !at_provider || response.status().is_redirection() {
            return response;
        }
        let url = response.url().clone();
        let html = response.text().await.unwrap();
        let action = url.join(form_action(&html)).unwrap();
        let fields: &[(&str, &str)] = if html.contains("name=\"login\"") {
            &[("prompt", "login"), ("login", login), ("password", "any")]
        } else {
            &[("prompt", "consent")]
        };
        response = browser.post(action).form(fields).send().await.unwrap();
    }
    panic!("the provider kept asking: {}", response.url());
}

fn provider_of(server: &Server) -> String {
    server.provider.as_ref().unwrap().issuer.clone()
}

/// Goes through the provider's forms with a browser that stops at the callback, and returns
/// the callback URL the provider sent it to.
async fn callback_url(browser: &reqwest::Client, server: &Server, login: &str) -> reqwest::Url {
    let response = sign_in(browser, server, login).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()["location"].to_str().unwrap();
    let url = reqwest::Url::parse(location).unwrap();
    assert!(url.as_str().starts_with(&server.base), "{url}");
    url
}

fn with_query(url: &reqwest::Url, key: &str, value: &str) -> reqwest::Url {
    let mut changed = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == key {
                value.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    changed.query_pairs_mut().clear().extend_pairs(pairs);
    changed
}

#[tokio::test]
async fn a_first_sign_in_creates_the_person_and_the_second_finds_them() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let first = sign_in(&browser(), &server, "ada").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.url().path(),
        "/follow-through",
        "the safe `next` is honoured"
    );
    let page = first.text().await.unwrap();
    assert!(page.contains("Ada Lovelace (viewer)"), "{page}");

    let users = server.db.store.users().await.unwrap();
    assert_eq!(users.len(), 1);
    let ada = &users[0];
    assert_eq!(ada.handle.as_str(), "ada", "from preferred_username");
    assert_eq!(ada.display_name.as_str(), "Ada Lovelace", "from name");
    let created = server.db.store.audit_events(None, 10).await.unwrap();
    let event = created.iter().find(|e| e.action == "user.create").unwrap();
    assert_eq!(
        event.details["after"]["identity"]["issuer"],
        provider_of(&server)
    );
    assert_eq!(event.details["after"]["identity"]["subject"], "acme-0001");

    // Another browser, so the provider asks again; the same person comes back.
    let second = sign_in(&browser(), &server, "ada").await;
    assert_eq!(second.status(), StatusCode::OK);
    assert!(second.text().await.unwrap().contains("Ada Lovelace"));
    assert_eq!(server.db.store.users().await.unwrap(), users);
}

#[tokio::test]
async fn a_person_without_a_username_gets_a_unique_handle_from_their_email() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let local = NewAccount {
        handle: "grace.hopper".into(),
        display_name: "Another Grace".into(),
        role: "admin".into(),
        password: Some("correct horse battery".into()),
        with_token: false,
        token_days: None,
    };
    create_account(server.db.store.as_ref(), Actor::DEMO, local)
        .await
        .unwrap();
    let response = sign_in(&browser(), &server, "grace").await;
    assert_eq!(response.status(), StatusCode::OK);
    let grace = server
        .db
        .store
        .users()
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.display_name.as_str() == "Grace Hopper")
        .unwrap();
    assert_eq!(grace.handle.as_str(), "grace.hopper-2");
    assert_eq!(
        grace.role.as_str(),
        "viewer",
        "the local admin's role is not taken over"
    );
}

#[tokio::test]
async fn a_callback_with_another_state_is_refused_and_the_real_one_still_signs_in() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let browser = browser_stopping_at_the_callback();
    let callback = callback_url(&browser, &server, "ada").await;

    let forged = browser
        .get(with_query(&callback, "state", "forged-state"))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    assert!(
        forged
            .text()
            .await
            .unwrap()
            .contains("This sign-in cannot be completed"),
        "a clear page, not an error"
    );
    assert_eq!(server.db.store.count_users().await.unwrap(), 0);

    let real = browser.get(callback.clone()).send().await.unwrap();
    assert_eq!(real.status(), StatusCode::OK);
    assert_eq!(
        real.url().path(),
        "/follow-through",
        "signed in and sent on"
    );
    assert_eq!(server.db.store.count_users().await.unwrap(), 1);

    let replayed = browser.get(callback).send().await.unwrap();
    assert_eq!(
        replayed.status(),
        StatusCode::BAD_REQUEST,
        "a state is honoured once"
    );
}

#[tokio::test]
async fn a_callback_from_another_browser_is_refused() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let callback = callback_url(&browser_stopping_at_the_callback(), &server, "ada").await;
    // Someone else's browser, handed the link: it never started this sign-in.
    let elsewhere = browser().get(callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert_eq!(server.db.store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn a_callback_with_a_tampered_code_is_refused_by_the_provider_and_signs_nobody_in() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let browser = browser_stopping_at_the_callback();
    let callback = callback_url(&browser, &server, "ada").await;
    let code = callback
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tampered = browser
        .get(with_query(&callback, "code", &format!("{code}x")))
        .send()
        .await
        .unwrap();
    assert_eq!(tampered.status(), StatusCode::BAD_REQUEST);
    let page = tampered.text().await.unwrap();
    assert!(page.contains("answer was refused"), "{page}");
    assert!(page.contains("Back to sign in"), "{page}");
    assert_eq!(server.db.store.count_users().await.unwrap(), 0);
    let home = browser
        .get(format!("{}/", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(home.url().path(), "/login", "no session was made");
}

#[tokio::test]
async fn a_provider_that_goes_down_before_the_callback_shows_a_page_not_a_server_error() {
    let Some(mut server) = server_with(None, true).await else {
        return;
    };
    let browser = browser_stopping_at_the_callback();
    let callback = callback_url(&browser, &server, "ada").await;
    drop(server.provider.take());
    let response = browser.get(callback).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The identity provider cannot be reached"),
        "{page}"
    );
    assert_eq!(server.db.store.count_users().await.unwrap(), 0);
}

#[tokio::test]
async fn declining_at_the_provider_shows_a_page_saying_so() {
    let Some(server) = server_with(None, true).await else {
        return;
    };
    let browser = browser();
    let login_form = start(&browser, &server, "/").await;
    let url = login_form.url().clone();
    let action = form_action(&login_form.text().await.unwrap()).to_owned();
    let declined = browser
        .get(url.join(&format!("{action}/abort")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(declined.status(), StatusCode::FORBIDDEN);
    assert!(declined.url().as_str().starts_with(&server.base));
    let page = declined.text().await.unwrap();
    assert!(page.contains("You were not signed in"), "{page}");
    assert!(page.contains("access_denied"), "{page}");
}

#[tokio::test]
async fn an_email_outside_the_allowed_domains_is_refused() {
    let Some(server) = server_with(Some(vec!["acme.example".into()]), true).await else {
        return;
    };
    let refused = sign_in(&browser(), &server, "mallory").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("mallory@elsewhere.example")
    );
    assert_eq!(server.db.store.count_users().await.unwrap(), 0);

    let allowed = sign_in(&browser(), &server, "ada").await;
    assert_eq!(allowed.status(), StatusCode::OK);
}

#[tokio::test]
async fn an_unreachable_provider_shows_a_page_not_a_server_error() {
    let server = server_with(None, false).await.unwrap();
    let response = start(&browser(), &server, "/").await;
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("The identity provider cannot be reached"),
        "{page}"
    );
}

#[tokio::test]
async fn without_a_provider_there_is_no_button_and_the_route_says_so() {
    let app = crate::common::TestApp::new().await;
    let login = app.get("/login", None).await;
    assert!(!login.body.contains("/login/oidc"), "{}", login.body);
    let start = app.get("/login/oidc", None).await;
    assert_eq!(start.status, axum::http::StatusCode::NOT_FOUND);
    assert!(start.body.contains("Single sign-on is not set up"));
}

#[tokio::test]
async fn only_this_sites_sign_in_page_may_start_a_single_sign_on() {
    let server = server_with(None, false).await.unwrap();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/login/oidc", server.base);
    let from_elsewhere = [
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![("origin", "https://evil.example")],
        vec![("sec-fetch-site", "same-site")],
        vec![],
    ];
    for headers in from_elsewhere {
        let mut request = no_redirects.post(&url).form(&[("next", "/")]);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "{headers:?}");
        assert!(
            refused.headers().get("set-cookie").is_none(),
            "no sign-in began"
        );
        let page = refused.text().await.unwrap();
        assert!(page.contains("This sign-in was not started here"), "{page}");
    }
    // A link to the start leads to the sign-in page and its button, and starts nothing.
    let link = no_redirects
        .get(format!("{url}?next=%2Ffigures"))
        .send()
        .await
        .unwrap();
    assert_eq!(link.status(), StatusCode::SEE_OTHER);
    assert_eq!(link.headers()["location"], "/login?next=/figures");
    // From this site, the check passes and the flow goes on to the (unreachable) provider.
    let started = start(&no_redirects, &server, "/").await;
    assert_eq!(started.status(), StatusCode::BAD_GATEWAY);
}
