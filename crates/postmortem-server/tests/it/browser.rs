//! The pages in a real browser: headless Chromium driven through chromedriver against the
//! real server on 127.0.0.1. These need `chromium` and `chromium-driver` installed, so they
//! only run when `POSTMORTEM_BROWSER_TESTS=1` is set; screenshots of the list and the
//! incident page are left in the test's temporary target directory for a person to look at.

use fantoccini::{Client, ClientBuilder, Locator};
use postmortem_server::accounts::{NewAccount, create_account};
use postmortem_server::{AppState, Settings, serve};
use postmortem_store::Actor;
use postmortem_store::testing::TestDb;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub(crate) fn enabled() -> bool {
    std::env::var("POSTMORTEM_BROWSER_TESTS").as_deref() == Ok("1")
}

/// A chromedriver process, stopped when the test ends.
pub(crate) struct Chromedriver {
    child: Child,
    port: u16,
}

impl Chromedriver {
    pub(crate) async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Self {
            child: Command::new("chromedriver")
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver is installed (apt-get install chromium-driver)"),
            port,
        };
        for _ in 0..50 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return driver;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Dropping the driver stops the process that never answered.
        panic!("chromedriver did not start listening on port {port}");
    }

    pub(crate) async fn browser(&self) -> Client {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({
                "binary": "/usr/bin/chromium",
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                         "--disable-dev-shm-usage", "--window-size=1280,2200"],
            }),
        );
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .expect("a Chromium session")
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn person(db: &TestDb, handle: &str, role: &str) {
    let account = NewAccount {
        handle: handle.into(),
        display_name: format!("{} Example", handle[..1].to_uppercase() + &handle[1..]),
        role: role.into(),
        password: Some("correct horse battery".into()),
        with_token: false,
        token_days: None,
    };
    create_account(db.store.as_ref(), Actor::DEMO, account)
        .await
        .unwrap();
}

pub(crate) async fn sign_in(browser: &Client, base: &str, handle: &str) {
    browser.goto(&format!("{base}/login")).await.unwrap();
    browser
        .find(Locator::Id("handle"))
        .await
        .unwrap()
        .send_keys(handle)
        .await
        .unwrap();
    browser
        .find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("correct horse battery")
        .await
        .unwrap();
    browser
        .find(Locator::Css("form[action='/login'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::LinkText("All incidents"))
        .await
        .unwrap();
}

/// Sets a field's value the way a person's typing would, including for date pickers, whose
/// keyboard entry differs between locales.
pub(crate) async fn set_value(browser: &Client, css: &str, value: &str) {
    browser
        .execute(
            "const el = document.querySelector(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change'));",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap();
}

/// The text of the first element matching `css`, read in one script call: live updates
/// replace fragments at any moment, so a found element may be gone before its text is read.
pub(crate) async fn text_of(browser: &Client, css: &str) -> String {
    browser
        .execute(
            "const el = document.querySelector(arguments[0]); return el ? el.innerText : '';",
            vec![css.into()],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

pub(crate) async fn screenshot(browser: &Client, name: &str) -> std::path::PathBuf {
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&path, browser.screenshot().await.unwrap()).unwrap();
    eprintln!("screenshot: {}", path.display());
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_write_an_incident_together_and_see_each_others_entries_live() {
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = TestDb::sqlite().await;
    person(&db, "dana", "contributor").await;
    person(&db, "rae", "reviewer").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.store.clone(), Settings::default());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let driver = Chromedriver::start().await;

    let dana = driver.browser().await;
    sign_in(&dana, &base, "dana").await;
    dana.find(Locator::LinkText("Record an incident"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.find(Locator::Id("incident-title"))
        .await
        .unwrap()
        .send_keys("Checkout returned 502s")
        .await
        .unwrap();
    dana.find(Locator::Id("incident-severity"))
        .await
        .unwrap()
        .select_by_value("SEV2")
        .await
        .unwrap();
    dana.find(Locator::Id("incident-services"))
        .await
        .unwrap()
        .send_keys("checkout, payments-api")
        .await
        .unwrap();
    dana.find(Locator::Id("incident-customer_minutes"))
        .await
        .unwrap()
        .send_keys("47")
        .await
        .unwrap();
    dana.find(Locator::Css("#incident-user_visible"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.find(Locator::Css(
        "form[action='/incidents/new'] button[type=submit]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    dana.wait()
        .for_element(Locator::Id("timeline-form"))
        .await
        .unwrap();
    assert!(
        dana.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/incidents/1")
    );

    // The offset select follows the browser's zone (UTC in the test container), and a
    // person may still pick another one.
    let offset = dana
        .find(Locator::Id("timeline-offset"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(offset.as_deref(), Some("+00:00"));
    set_value(&dana, "#timeline-at_local", "2026-03-01T14:05").await;
    dana.find(Locator::Id("timeline-offset"))
        .await
        .unwrap()
        .select_by_value("+01:00")
        .await
        .unwrap();
    dana.find(Locator::Id("timeline-text"))
        .await
        .unwrap()
        .send_keys("Checkout alert fired")
        .await
        .unwrap();
    dana.find(Locator::Id("timeline-marker"))
        .await
        .unwrap()
        .select_by_value("detected")
        .await
        .unwrap();
    dana.find(Locator::Css("#timeline-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Css("#part-timeline time.local"))
        .await
        .unwrap();
    let mut shown = text_of(&dana, "#part-timeline time.local").await;
    for _ in 0..20 {
        if !shown.contains("+01:00") {
            break;
        }
        // The script runs after the page has loaded; give it a moment.
        tokio::time::sleep(Duration::from_millis(100)).await;
        shown = text_of(&dana, "#part-timeline time.local").await;
    }
    assert!(
        shown.contains("1:05") || shown.contains("13:05"),
        "the instant is shown in the reader's zone (UTC here): {shown}"
    );

    let rae = driver.browser().await;
    sign_in(&rae, &base, "rae").await;
    rae.goto(&format!("{base}/incidents/1")).await.unwrap();
    rae.wait()
        .for_element(Locator::Css("#part-timeline"))
        .await
        .unwrap();
    // Let the page's event stream connect before the next entry is written.
    tokio::time::sleep(Duration::from_millis(800)).await;

    dana.goto(&format!("{base}/incidents/1")).await.unwrap();
    // Dana adds an entry through her page's form; Rae's page must show it without a reload.
    set_value(&dana, "#timeline-at_local", "2026-03-01T14:20").await;
    dana.find(Locator::Id("timeline-text"))
        .await
        .unwrap()
        .send_keys("Rolled back the pool change")
        .await
        .unwrap();
    dana.find(Locator::Id("timeline-marker"))
        .await
        .unwrap()
        .select_by_value("mitigated")
        .await
        .unwrap();
    dana.find(Locator::Css("#timeline-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    loop {
        let timeline = text_of(&rae, "#part-timeline").await;
        if timeline.contains("Rolled back the pool change") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "Rae's page did not show the new entry live; it shows: {timeline}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "live update reached the other page in {:?}",
        started.elapsed()
    );

    screenshot(&rae, "incident.png").await;
    rae.goto(&format!("{base}/incidents")).await.unwrap();
    rae.wait()
        .for_element(Locator::LinkText("Checkout returned 502s"))
        .await
        .unwrap();
    screenshot(&rae, "list.png").await;
    dana.close().await.unwrap();
    rae.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_lists_blameless_language_hints_while_typing_and_selects_the_span() {
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = TestDb::sqlite().await;
    person(&db, "dana", "contributor").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.store.clone(), Settings::default());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let driver = Chromedriver::start().await;
    let dana = driver.browser().await;
    sign_in(&dana, &base, "dana").await;
    // The page's own session records the incident, as the page's script would call the API.
    let created = dana
        .execute_async(
            "fetch('/api/v1/incidents', {method: 'POST', credentials: 'same-origin',
               headers: {'Content-Type': 'application/json'},
               body: JSON.stringify({title: 'Disk filled', kind: 'outage', severity: 'SEV2'})})
             .then((r) => r.json()).then((j) => arguments[0](j.id));",
            vec![],
        )
        .await
        .unwrap();
    let id = created.as_i64().expect("an incident id");
    dana.goto(&format!("{base}/incidents/{id}/edit"))
        .await
        .unwrap();
    dana.find(Locator::Id("section-summary"))
        .await
        .unwrap()
        .send_keys("The disk filled at 14:02.\nDana failed to notice the disk alert.")
        .await
        .unwrap();
    let item = dana
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Css("#lint-section-summary button.lint-item"))
        .await
        .unwrap();
    let text = item.text().await.unwrap();
    assert!(text.starts_with("2:1"), "line:column first: {text}");
    assert!(text.contains("Dana"), "with the suggestion: {text}");
    // Focusing a hint marks its span behind the text box without moving the writer's cursor.
    let marked = dana
        .execute(
            "document.querySelector('#lint-section-summary button.lint-item').focus(); return document.querySelector('.lint-mirror mark').textContent;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(marked.as_str(), Some("Dana failed to"));
    screenshot(&dana, "editor-lint-focus.png").await;
    item.click().await.unwrap();
    let selected = dana
        .execute(
            "const f = document.getElementById('section-summary'); return f.value.slice(f.selectionStart, f.selectionEnd);",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        selected.as_str().unwrap().starts_with("Dana failed"),
        "clicking a hint selects its span: {selected}"
    );
    screenshot(&dana, "editor-lint.png").await;
    // The rule's rewrite of the span is one click away, and the text is checked again.
    let apply = dana
        .find(Locator::Css("#lint-section-summary button.lint-apply"))
        .await
        .unwrap();
    assert_eq!(apply.text().await.unwrap(), "Rewrite as “Dana did not”");
    apply.click().await.unwrap();
    let value = dana
        .execute(
            "return document.getElementById('section-summary').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        value.as_str(),
        Some("The disk filled at 14:02.\nDana did not notice the disk alert.")
    );
    screenshot(&dana, "editor-lint-rewritten.png").await;
    // Saved, the incident page's review area counts the sentence that still centres on Dana
    // (the rewrite leaves "did not notice" without a reason yet).
    dana.find(Locator::XPath("//button[normalize-space()='Save']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    for _ in 0..50 {
        if !dana
            .current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/edit")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    dana.goto(&format!("{base}/incidents/{id}")).await.unwrap();
    let review = dana
        .wait()
        .at_most(Duration::from_secs(5))
        .for_element(Locator::Id("person-centred"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        review.starts_with("1 sentence puts a person at the centre of a failure"),
        "{review}"
    );
    dana.execute(
        "document.getElementById('person-centred').scrollIntoView();",
        vec![],
    )
    .await
    .unwrap();
    screenshot(&dana, "incident-review-person-centred.png").await;
    dana.close().await.unwrap();
}

/// Every payload tries to set `window.__pwned` and the document's title; if any script runs,
/// one of them shows.
const PAYLOAD_MARKDOWN: &str = r#"Payload text that must stay inert.

<script>window.__pwned = 'script'; document.title = 'pwned'</script>

<img src="x" onerror="window.__pwned = 'img onerror'; document.title = 'pwned'">

[payload markdown link](javascript:window.__pwned='markdown link';document.title='pwned')

<a href="javascript:window.__pwned='html link';document.title='pwned'">payload html link</a>

<a href="data:text/html,<script>window.opener.__pwned='data link'</script>">payload data link</a>

<svg onload="window.__pwned = 'svg onload'; document.title = 'pwned'"><circle r="5"/></svg>

<svg><script>window.__pwned = 'svg script'; document.title = 'pwned'</script></svg>

<iframe src="javascript:parent.__pwned='iframe'"></iframe>

<details open ontoggle="window.__pwned = 'details ontoggle'">payload details</details>

<form action="javascript:window.__pwned='form'"><button>payload form button</button></form>
"#;

/// Reads the Content-Security-Policy violations the browser reported on the current page,
/// including those before this call (`buffered`), as text.
pub(crate) async fn csp_violations(browser: &Client) -> Vec<String> {
    let reports = browser
        .execute(
            "const observer = new ReportingObserver(() => {}, {types: ['csp-violation'], buffered: true});
             observer.observe();
             return observer.takeRecords().map((r) => `${r.body.effectiveDirective} ${r.body.blockedURL} ${r.body.sample || ''}`);",
            vec![],
        )
        .await
        .unwrap();
    reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect()
}

/// Whether any payload ran: `window.__pwned`, or a title that is no longer the page's own.
async fn pwned(browser: &Client) -> Option<String> {
    let state = browser
        .execute(
            "return [window.__pwned === undefined ? null : String(window.__pwned), document.title];",
            vec![],
        )
        .await
        .unwrap();
    let ran = state[0].as_str().map(str::to_owned);
    let title = state[1].as_str().unwrap_or_default();
    ran.or_else(|| {
        (!title.ends_with("· postmortem")).then(|| format!("the title became {title:?}"))
    })
}

/// Calls the API as the signed-in page would, answering the JSON body.
pub(crate) async fn api(
    browser: &Client,
    method: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    browser
        .execute_async(
            "fetch(arguments[1], {method: arguments[0], credentials: 'same-origin',
               headers: {'Content-Type': 'application/json', 'If-Match': arguments[3]},
               body: JSON.stringify(arguments[2])})
             .then((r) => r.json()).then((j) => arguments[4](j));",
            vec![method.into(), path.into(), body, "\"v1\"".into()],
        )
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_markdown_with_script_handlers_javascript_links_and_svg_runs_nothing_and_pages_break_no_csp_rule()
 {
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = TestDb::sqlite().await;
    person(&db, "ada", "admin").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Search is on: its snippets show stored text too.
    let index_dir = tempfile::tempdir().unwrap();
    let index = std::sync::Arc::new(
        postmortem_search::SearchIndex::open(index_dir.path().join("index")).unwrap(),
    );
    let state = AppState::new(db.store.clone(), Settings::default()).with_search(index.clone());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let driver = Chromedriver::start().await;
    let ada = driver.browser().await;
    sign_in(&ada, &base, "ada").await;

    // The detector itself works: an inline handler added to a page is reported.
    let marker = ada
        .execute(
            "document.body.insertAdjacentHTML('beforeend', '<img src=\"/no-such-image\" onerror=\"window.__pwned = 1\">'); return true;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(marker, serde_json::Value::Bool(true));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let deliberate = csp_violations(&ada).await;
    assert!(
        deliberate.iter().any(|v| v.starts_with("script-src")),
        "a deliberate inline handler is reported: {deliberate:?}"
    );
    assert_eq!(pwned(&ada).await, None, "and blocked");

    let title = "<img src=x onerror=\"window.__pwned='title'\"><script>window.__pwned='title script'</script> payload";
    let created = api(
        &ada,
        "POST",
        "/api/v1/incidents",
        serde_json::json!({"title": title, "kind": "outage", "severity": "SEV2"}),
    )
    .await;
    let id = created["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("an incident: {created}"));
    let saved = api(
        &ada,
        "PATCH",
        &format!("/api/v1/incidents/{id}/postmortem"),
        serde_json::json!({"sections": {"summary": PAYLOAD_MARKDOWN, "impact": PAYLOAD_MARKDOWN}}),
    )
    .await;
    assert!(saved.get("error").is_none(), "{saved}");
    let entry = api(
        &ada,
        "POST",
        &format!("/api/v1/incidents/{id}/timeline"),
        serde_json::json!({"at": "2026-03-01T14:05:00+01:00", "text": PAYLOAD_MARKDOWN}),
    )
    .await;
    assert!(entry.get("error").is_none(), "{entry}");
    let comment = api(
        &ada,
        "POST",
        &format!("/api/v1/incidents/{id}/comments"),
        serde_json::json!({"section": "summary", "body": PAYLOAD_MARKDOWN}),
    )
    .await;
    assert!(comment.get("error").is_none(), "{comment}");
    let action = api(
        &ada,
        "POST",
        &format!("/api/v1/incidents/{id}/actions"),
        serde_json::json!({"title": title, "kind": "detect"}),
    )
    .await;
    assert!(action.get("error").is_none(), "{action}");

    index.catch_up(db.store.as_ref()).await.unwrap();
    let incident = format!("{base}/incidents/{id}");
    ada.goto(&incident).await.unwrap();
    ada.wait()
        .for_element(Locator::Css("#part-timeline"))
        .await
        .unwrap();
    let page_text = ada
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page_text.contains("Payload text that must stay inert"),
        "the payloads are on the page"
    );
    assert!(
        page_text.contains("<img src=x"),
        "the title is shown as text, not markup"
    );
    // Let the page's script and the live-update stream start.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(pwned(&ada).await, None, "after load");

    let links = ada
        .find_all(Locator::Css("main a, main button"))
        .await
        .unwrap();
    let mut clicked = 0;
    for index in 0..links.len() {
        let elements = ada
            .find_all(Locator::Css("main a, main button"))
            .await
            .unwrap();
        let Some(element) = elements.get(index) else {
            break;
        };
        let text = element.text().await.unwrap_or_default();
        if !text.contains("payload") {
            continue;
        }
        // A link that still navigated would leave the page; come back to it for the next.
        if element.click().await.is_ok() {
            clicked += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        if ada.current_url().await.unwrap().as_str() != incident {
            ada.goto(&incident).await.unwrap();
        } else {
            assert_eq!(pwned(&ada).await, None, "after clicking {text:?}");
        }
    }
    assert!(
        clicked >= 2,
        "the payload links are on the page and were clicked ({clicked})"
    );
    assert_eq!(pwned(&ada).await, None, "after clicking every payload link");
    screenshot(&ada, "xss-incident.png").await;

    let mut pages = crate::hardening::main_pages(id);
    pages.push("/search?q=payload".to_owned());
    for path in pages {
        ada.goto(&format!("{base}{path}")).await.unwrap();
        ada.wait().for_element(Locator::Css("main")).await.unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(pwned(&ada).await, None, "{path}");
        if path.starts_with("/search") {
            let results = text_of(&ada, "main").await;
            assert!(
                results.contains("<img src=x"),
                "the incident is found, its title shown as text: {results}"
            );
        }
        let violations = csp_violations(&ada).await;
        assert!(
            violations.is_empty(),
            "{path} broke the Content-Security-Policy: {violations:?}"
        );
    }
    ada.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_author_uploads_a_slack_export_chooses_a_window_unticks_one_and_imports_the_rest() {
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = TestDb::sqlite().await;
    person(&db, "dana", "contributor").await;
    person(&db, "ben", "viewer").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.store.clone(), Settings::default());
    tokio::spawn(serve(listener, state, std::future::pending()));
    let export = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("acme-slack-export.zip");
    std::fs::write(&export, crate::chat::slack_export()).unwrap();
    let driver = Chromedriver::start().await;
    let dana = driver.browser().await;
    sign_in(&dana, &base, "dana").await;
    let incident = api(
        &dana,
        "POST",
        "/api/v1/incidents",
        serde_json::json!({
            "title": "Checkout returned 502s", "kind": "outage", "severity": "SEV2",
            "started_at": "2024-03-14T12:40:00Z", "services": ["checkout"],
            "impact": {"user_visible": true, "customer_minutes": 47, "customers_affected": 1200}
        }),
    )
    .await;
    let id = incident["id"].as_i64().unwrap();

    dana.goto(&format!("{base}/incidents/{id}")).await.unwrap();
    dana.find(Locator::LinkText("Add messages from chat"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Id("chat-export"))
        .await
        .unwrap()
        .send_keys(export.to_str().unwrap())
        .await
        .unwrap();
    dana.find(Locator::Css("#chat-upload button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Id("chat-channel"))
        .await
        .unwrap()
        .select_by_value("incident-checkout")
        .await
        .unwrap();
    set_value(&dana, "#chat-from", "2024-03-14T12:00").await;
    set_value(&dana, "#chat-to", "2024-03-14T14:00").await;
    dana.find(Locator::Id("chat-reaction"))
        .await
        .unwrap()
        .send_keys("white_check_mark")
        .await
        .unwrap();
    dana.find(Locator::Css("#chat-window button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Id("chat-import"))
        .await
        .unwrap();
    let ticked = dana
        .execute(
            "return [...document.querySelectorAll('#chat-import input[type=checkbox]')].map((c) => c.checked);",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(ticked, serde_json::json!([false, true, true, true]));
    assert!(
        text_of(&dana, "#chat-import tbody")
            .await
            .contains("Ben Example"),
        "the Slack handle ben is the person ben, shown by name"
    );
    screenshot(&dana, "chat-selection.png").await;

    // "Thanks all, writing it up" is no part of the story: untick it. Mark the recovery.
    dana.find(Locator::Id("msg-3"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.find(Locator::Id("msg-2-marker"))
        .await
        .unwrap()
        .select_by_value("mitigated")
        .await
        .unwrap();
    dana.find(Locator::Css("#chat-import button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Css("div.notice"))
        .await
        .unwrap();
    assert!(
        text_of(&dana, "div.notice")
            .await
            .contains("Added 2 entries to the timeline."),
        "{}",
        text_of(&dana, "main").await
    );
    dana.find(Locator::LinkText("See the timeline"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    dana.wait()
        .for_element(Locator::Css("#part-timeline"))
        .await
        .unwrap();
    let timeline = text_of(&dana, "#part-timeline").await;
    assert!(
        timeline.contains("The 13:48 deploy of checkout-api looks related"),
        "{timeline}"
    );
    assert!(timeline.contains("Error rate back to normal after the rollback"));
    assert!(
        !timeline.contains("Thanks all"),
        "the unticked message stays out"
    );
    assert_eq!(timeline.matches("from chat").count(), 2, "{timeline}");
    assert!(timeline.contains("mitigated"));
    dana.find(Locator::Css(
        "#part-timeline a[href='https://slack.com/archives/C05INC1/p1710421500000300']",
    ))
    .await
    .expect("the entry links to the message in Slack");
    assert_eq!(csp_violations(&dana).await, Vec::<String>::new());
    screenshot(&dana, "chat-timeline.png").await;
}
