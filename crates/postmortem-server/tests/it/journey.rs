//! The whole journey in a real browser, as five people, without the API: Dana (contributor)
//! records an incident and writes it up, Sam (contributor) corrects the timeline and owns an
//! action item, Rae (reviewer) is asked to review from her home page and approves, Dana
//! publishes, Sam marks the item done with how we know, and Val (viewer) reads the result
//! with nothing offered she cannot use. Ada (admin) only watches. Each step asserts on what
//! the person sees; screenshots are left in the test's target directory for a person to look
//! at. Runs with the other browser tests (`POSTMORTEM_BROWSER_TESTS=1`).

use crate::browser::{
    Chromedriver, csp_violations, enabled, person, screenshot, set_value, sign_in, text_of,
};
use fantoccini::{Client, Locator};
use postmortem_server::{AppState, Settings, serve};
use postmortem_store::testing::TestDb;
use std::time::Duration;

async fn fill(browser: &Client, id: &str, text: &str) {
    let field = browser.find(Locator::Id(id)).await.unwrap();
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

async fn choose(browser: &Client, id: &str, value: &str) {
    browser
        .find(Locator::Id(id))
        .await
        .unwrap()
        .select_by_value(value)
        .await
        .unwrap();
}

async fn click(browser: &Client, css: &str) {
    browser
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// Waits until the element's text contains `wanted`, for up to three seconds.
async fn sees(browser: &Client, css: &str, wanted: &str) -> String {
    let started = std::time::Instant::now();
    loop {
        let text = text_of(browser, css).await;
        if text.contains(wanted) {
            return text;
        }
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{css} does not show {wanted:?}; it shows: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn no_csp_violation(browser: &Client) {
    let violations = csp_violations(browser).await;
    assert!(violations.is_empty(), "{violations:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_people_take_an_incident_from_recording_to_a_published_post_mortem_and_a_verified_action()
 {
    if !enabled() {
        eprintln!("skipped: set POSTMORTEM_BROWSER_TESTS=1 to run the browser tests");
        return;
    }
    let db = TestDb::sqlite().await;
    for (handle, role) in [
        ("ada", "admin"),
        ("dana", "contributor"),
        ("sam", "contributor"),
        ("rae", "reviewer"),
        ("val", "viewer"),
    ] {
        person(&db, handle, role).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    // Search follows the change feed as `serve` keeps it, for the suggestions while typing.
    let index_dir = tempfile::tempdir().unwrap();
    let index = std::sync::Arc::new(
        postmortem_search::SearchIndex::open(index_dir.path().join("index")).unwrap(),
    );
    let follower = {
        let (index, store) = (index.clone(), db.store.clone());
        tokio::spawn(async move {
            index
                .follow(store.as_ref(), Duration::from_millis(200))
                .await
        })
    };
    let state = AppState::new(db.store.clone(), Settings::default()).with_search(index);
    tokio::spawn(serve(listener, state, std::future::pending()));
    let driver = Chromedriver::start().await;

    // Dana starts from her home page, which tells her what to do next.
    let dana = driver.browser().await;
    sign_in(&dana, &base, "dana").await;
    let home = text_of(&dana, "main").await;
    assert!(home.contains("What needs you, Dana Example"), "{home}");
    assert!(home.contains("Nothing owed by you or your teams"), "{home}");
    screenshot(&dana, "journey-01-home-empty.png").await;
    click(&dana, "a[href='/incidents/new']").await;
    fill(&dana, "incident-title", "Checkout returned 502s").await;
    choose(&dana, "incident-severity", "SEV2").await;
    fill(&dana, "incident-services", "checkout").await;
    fill(&dana, "incident-customer_minutes", "47").await;
    click(&dana, "#incident-user_visible").await;
    click(&dana, "form[action='/incidents/new'] button[type=submit]").await;
    dana.wait()
        .for_element(Locator::Id("timeline-form"))
        .await
        .unwrap();
    let incident = dana.current_url().await.unwrap().path().to_owned();
    let facts = text_of(&dana, "#part-facts").await;
    assert!(facts.contains("outage"), "{facts}");
    assert!(
        !facts.contains("not_required") && !facts.contains('_'),
        "{facts}"
    );

    // The timeline, with a typo Sam will correct.
    for (at, text, marker) in [
        ("2026-03-01T14:05", "Checkout alret fired", "detected"),
        (
            "2026-03-01T14:52",
            "Pool change rolled back, errors stopped",
            "resolved",
        ),
    ] {
        set_value(&dana, "#timeline-at_local", at).await;
        fill(&dana, "timeline-text", text).await;
        choose(&dana, "timeline-marker", marker).await;
        click(&dana, "#timeline-form button[type=submit]").await;
        sees(&dana, "#part-timeline", &text[..12]).await;
    }

    // Two factors, both ticked as the trigger: the second form says plainly it takes over.
    choose(&dana, "factor-category", "change_management").await;
    fill(
        &dana,
        "factor-description",
        "A pool size change went to every region at once.",
    )
    .await;
    click(&dana, "#factor-is_trigger").await;
    click(&dana, "#factor-form button[type=submit]").await;
    sees(&dana, "#part-factors", "every region at once").await;
    let choice = text_of(&dana, "label[for='factor-is_trigger']").await;
    assert!(
        choice.contains(
            "Make this the trigger instead of “A pool size change went to every region at once.”"
        ),
        "{choice}"
    );
    choose(&dana, "factor-category", "capacity").await;
    fill(
        &dana,
        "factor-description",
        "The pool was sized for last year's traffic.",
    )
    .await;
    click(&dana, "#factor-form button[type=submit]").await;
    let factors = sees(&dana, "#part-factors", "last year").await;
    assert_eq!(factors.matches("the trigger").count(), 1, "{factors}");

    // An action item added without owner or due date says so where it was added.
    fill(
        &dana,
        "action-title",
        "Canary pool changes in one region first",
    )
    .await;
    click(&dana, "#action-form button[type=submit]").await;
    let actions = sees(&dana, "#part-actions", "Canary pool changes").await;
    assert!(
        actions.contains("no owner yet") && actions.contains("no due date yet"),
        "{actions}"
    );
    assert!(
        actions.contains("Needs an owner and a due date before the post-mortem can be published")
    );
    screenshot(&dana, "journey-02-incident-recorded.png").await;
    no_csp_violation(&dana).await;

    // Sam corrects the typo; Dana's open page shows the correction without a reload.
    let sam = driver.browser().await;
    sign_in(&sam, &base, "sam").await;
    sam.goto(&format!("{base}{incident}")).await.unwrap();
    click(&sam, "#entry-1 details.correct summary").await;
    fill(&sam, "timeline-edit-1-text", "Checkout alert fired").await;
    click(
        &sam,
        "#entry-1 details.correct form.card button[type=submit]",
    )
    .await;
    sees(&sam, "#part-timeline", "Checkout alert fired").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    sees(&dana, "#part-timeline", "Checkout alert fired").await;

    // Dana gives the item to Sam with a due date (a half-typed one is refused, not dropped),
    // writes the sections and asks Rae.
    dana.goto(&format!("{base}{incident}")).await.unwrap();
    click(&dana, "#action-1 details.correct summary").await;
    choose(&dana, "action-edit-1-owner", "sam").await;
    dana.find(Locator::Id("action-edit-1-due_on"))
        .await
        .unwrap()
        .send_keys("01")
        .await
        .unwrap();
    click(
        &dana,
        "#action-1 details.correct form.card button[type=submit]",
    )
    .await;
    let refused = text_of(&dana, "#action-edit-1-due_on-incomplete").await;
    assert!(refused.contains("This date is not complete"), "{refused:?}");
    assert!(
        dana.current_url()
            .await
            .unwrap()
            .path()
            .ends_with(&incident),
        "the form was not sent"
    );
    set_value(&dana, "#action-edit-1-due_on", "2027-01-15").await;
    click(
        &dana,
        "#action-1 details.correct form.card button[type=submit]",
    )
    .await;
    let actions = sees(&dana, "#part-actions", "owner Sam Example").await;
    assert!(!actions.contains("no owner yet"), "{actions}");
    click(&dana, "form.inline input[value='draft'] ~ button").await;
    dana.goto(&format!("{base}{incident}/edit")).await.unwrap();
    fill(&dana, "section-summary", "Checkout returned 502 errors for 47 minutes after a connection pool change reached every region at once.").await;
    fill(&dana, "section-impact", "About 1,200 customers could not pay for 47 minutes; orders resumed once the change was rolled back.").await;
    click(&dana, "button[name=intent][value=save]").await;
    dana.wait()
        .for_element(Locator::Id("request-review"))
        .await
        .unwrap();
    click(&dana, "#reviewer-4").await;
    click(&dana, "#request-review button[type=submit]").await;
    sees(&dana, "#part-review", "in review").await;

    // Rae finds the request on her home page and approves.
    let rae = driver.browser().await;
    sign_in(&rae, &base, "rae").await;
    let home = sees(&rae, "main", "Reviews asked of you").await;
    assert!(
        !home.contains("Nobody is waiting for your review"),
        "{home}"
    );
    screenshot(&rae, "journey-03-reviewer-home.png").await;
    click(&rae, "section[aria-labelledby='asked-heading'] a").await;
    rae.wait().for_element(Locator::Id("decide")).await.unwrap();
    fill(&rae, "decide-comment", "Clear, factual and blameless.").await;
    click(&rae, "#decide button[value=approved]").await;
    sees(&rae, "#part-review", "approved").await;
    no_csp_violation(&rae).await;

    // Dana publishes.
    dana.goto(&format!("{base}{incident}")).await.unwrap();
    if dana.find(Locator::Id("confirm-findings")).await.is_ok() {
        click(&dana, "#confirm-findings").await;
    }
    click(&dana, "#publish button[type=submit]").await;
    sees(&dana, "#part-facts", "published").await;

    // Sam marks his item done: the form asks how we know, keeping what he chose.
    sam.goto(&format!("{base}{incident}")).await.unwrap();
    click(&sam, "#action-1 details.correct summary").await;
    choose(&sam, "action-edit-1-status", "done").await;
    click(
        &sam,
        "#action-1 details.correct form.card button[type=submit]",
    )
    .await;
    let error = sees(
        &sam,
        "#action-edit-1-verification-error",
        "how do we know it changed the system?",
    )
    .await;
    assert!(!error.is_empty());
    let kept = sam
        .find(Locator::Id("action-edit-1-status"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some("done"),
        "the refused form keeps the chosen status"
    );
    screenshot(&sam, "journey-04-done-asks-how-we-know.png").await;
    fill(
        &sam,
        "action-edit-1-verification",
        "A pool change on 3 March stopped at the canary region.",
    )
    .await;
    click(
        &sam,
        "#action-1 details.correct form.card button[type=submit]",
    )
    .await;
    sees(&sam, "#part-actions", "done and verified").await;

    // Val reads the published post-mortem with nothing offered she cannot use.
    let val = driver.browser().await;
    sign_in(&val, &base, "val").await;
    let nav = text_of(&val, "header").await;
    assert!(!nav.contains("Record an incident"), "{nav}");
    val.goto(&format!("{base}{incident}")).await.unwrap();
    let page = sees(&val, "main", "published").await;
    assert!(page.contains("done and verified"), "{page}");
    for offer in [
        "Correct or remove",
        "Add to the timeline",
        "Edit the sections",
        "Correct the facts",
    ] {
        assert!(
            !page.contains(offer),
            "a viewer is offered {offer:?}: {page}"
        );
    }
    screenshot(&val, "journey-05-viewer-wide.png").await;
    val.set_window_size(375, 1800).await.unwrap();
    val.goto(&format!("{base}{incident}")).await.unwrap();
    let overflow = val
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            vec![],
        )
        .await
        .unwrap();
    screenshot(&val, "journey-06-viewer-375.png").await;
    assert!(
        overflow.as_i64().unwrap_or(0) <= 0,
        "the page scrolls sideways at 375 px by {overflow}"
    );
    no_csp_violation(&val).await;
    val.goto(&format!("{base}/no/such/page")).await.unwrap();
    assert!(
        text_of(&val, "main")
            .await
            .contains("There is no such page")
    );

    // Val finds it again from the search box: suggestions while typing, by keyboard.
    val.set_window_size(1400, 1000).await.unwrap();
    val.goto(&format!("{base}/")).await.unwrap();
    let search = val.find(Locator::Id("quick-q")).await.unwrap();
    assert_eq!(
        search.attr("role").await.unwrap().as_deref(),
        Some("combobox")
    );
    search.send_keys("Checko").await.unwrap();
    let options = sees(&val, "#quick-q-suggestions", "Checkout returned 502s").await;
    assert!(options.contains("checkout"), "{options}");
    assert_eq!(
        search.attr("aria-expanded").await.unwrap().as_deref(),
        Some("true")
    );
    screenshot(&val, "journey-07-search-suggestions.png").await;
    search.send_keys("\u{E00C}").await.unwrap(); // Escape closes the list
    assert_eq!(
        search.attr("aria-expanded").await.unwrap().as_deref(),
        Some("false")
    );
    // Arrow keys walk the options (words first, then incidents); Enter opens the incident.
    let options = val
        .find_all(Locator::Css("#quick-q-suggestions [role=option]"))
        .await
        .unwrap()
        .len();
    for _ in 0..options {
        search.send_keys("\u{E015}").await.unwrap(); // Arrow down
    }
    let chosen = text_of(&val, "#quick-q-suggestions [aria-selected=true]").await;
    assert!(chosen.contains("Checkout returned 502s"), "{chosen}");
    assert_eq!(
        search.attr("aria-activedescendant").await.unwrap(),
        Some(format!("quick-q-suggestions-{}", options - 1))
    );
    search.send_keys("\u{E00C}").await.unwrap();
    search.send_keys("\u{E015}\u{E015}").await.unwrap();
    search.send_keys("\u{E007}").await.unwrap(); // Enter
    sees(&val, "h1", "Checkout returned 502s").await;
    assert!(val.current_url().await.unwrap().path().ends_with(&incident));
    // A word taken searches with the completed query.
    val.goto(&format!("{base}/search")).await.unwrap();
    let search = val.find(Locator::Id("search-q")).await.unwrap();
    search.send_keys("checkout retur").await.unwrap();
    sees(&val, "#search-q-suggestions", "checkout returned").await;
    search.send_keys("\u{E015}\u{E007}").await.unwrap();
    sees(&val, "main", "1 incident matches checkout returned").await;
    assert_eq!(
        val.find(Locator::Id("search-q"))
            .await
            .unwrap()
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some("checkout returned")
    );
    no_csp_violation(&val).await;
    follower.abort();

    for browser in [dana, sam, rae, val] {
        browser.close().await.unwrap();
    }
}
