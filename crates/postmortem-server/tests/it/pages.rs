//! The pages and their forms: new incident, the incident page with its timeline, factor,
//! action and review forms, the section editor with conflict-safe saves, CSRF protection,
//! restricted incidents, and that every field has a label and every button a name.

use crate::common::{TestApp, csrf_of, outage};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::json;

/// The value of one attribute in a tag's text.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let marker = format!(" {name}=\"");
    let start = tag.find(&marker)? + marker.len();
    tag[start..].split('"').next()
}

/// Checks that every visible form control has a `<label for>` and every button visible text.
pub(crate) fn assert_accessible(html: &str) {
    for kind in ["<input", "<select", "<textarea"] {
        for (n, _) in html.match_indices(kind) {
            let tag = &html[n..n + html[n..].find('>').unwrap()];
            if attribute(tag, "type") == Some("hidden") {
                continue;
            }
            let id = attribute(tag, "id").unwrap_or_else(|| panic!("a control without id: {tag}"));
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "no label for `{id}`: {tag}"
            );
        }
    }
    for (n, _) in html.match_indices("<button") {
        let end = n + html[n..].find("</button>").unwrap();
        let inner = &html[n + html[n..].find('>').unwrap() + 1..end];
        let text: String = inner
            .split('<')
            .map(|part| part.split_once('>').map_or(part, |(_, text)| text))
            .collect();
        assert!(
            !text.trim().is_empty(),
            "a button without a name: {}",
            &html[n..end]
        );
    }
}

pub(crate) async fn signed_in(app: &TestApp, handle: &str, role: &str) -> (String, String) {
    let token = app.person(handle, role).await;
    let cookie = app.sign_in(handle).await;
    (token, cookie)
}

#[tokio::test]
async fn a_new_incident_is_recorded_through_the_form_with_errors_that_keep_the_typing() {
    let app = TestApp::new().await;
    let (_, cookie) = signed_in(&app, "dana", "contributor").await;
    let form = app.page("/incidents/new", &cookie).await;
    assert_eq!(form.status, StatusCode::OK);
    assert_accessible(&form.body);
    let csrf = csrf_of(&form.body);

    let refused = app
        .post_form(
            "/incidents/new",
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Checkout returned 502s"),
                ("kind", "outage"),
                ("severity", "SEV9"),
                ("services", "checkout, Bad Name"),
                ("customer_minutes", "lots"),
                ("at_local", ""),
                ("offset", "+01:00"),
            ],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("value=\"Checkout returned 502s\""),
        "the title is kept"
    );
    assert!(
        refused.body.contains("value=\"checkout, Bad Name\""),
        "the services are kept"
    );
    assert!(
        refused
            .body
            .contains("id=\"incident-customer_minutes-error\""),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("must be a whole number"));

    let refused = app
        .post_form(
            "/incidents/new",
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Checkout returned 502s"),
                ("kind", "outage"),
                ("severity", "SEV9"),
                ("services", "checkout, Bad Name"),
            ],
        )
        .await;
    assert!(
        refused.body.contains("id=\"incident-severity-error\""),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"incident-services-error\""),
        "{}",
        refused.body
    );
    assert_accessible(&refused.body);

    let created = app
        .post_form(
            "/incidents/new",
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Checkout returned 502s"),
                ("kind", "outage"),
                ("severity", "SEV2"),
                ("services", "checkout, payments-api"),
                ("at_local", "2026-03-01T14:00"),
                ("offset", "+01:00"),
                ("user_visible", "true"),
                ("customer_minutes", "47"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.headers[header::LOCATION], "/incidents/1");
    let page = app.page("/incidents/1", &cookie).await;
    assert!(
        page.body.contains("datetime=\"2026-03-01T14:00:00+01:00\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("payments-api"));
}

#[tokio::test]
async fn forms_without_the_sessions_token_or_from_another_site_are_refused() {
    let app = TestApp::new().await;
    let (token, cookie) = signed_in(&app, "dana", "contributor").await;
    let id = app.incident(&token).await;
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    let csrf = csrf_of(&page.body);
    let path = format!("/incidents/{id}/timeline");
    let fields = [
        ("at_local", "2026-03-01T14:05"),
        ("offset", "+01:00"),
        ("text", "Alert fired"),
    ];

    let without = app.post_form(&path, &cookie, &fields).await;
    assert_eq!(without.status, StatusCode::FORBIDDEN);
    let mut forged = fields.to_vec();
    forged.push(("csrf", "0000"));
    assert_eq!(
        app.post_form(&path, &cookie, &forged).await.status,
        StatusCode::FORBIDDEN
    );

    let mut genuine = fields.to_vec();
    genuine.push(("csrf", &csrf));
    let body: String = genuine
        .iter()
        .map(|(k, v)| format!("{k}={}", crate::common::urlencode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let cross_site = Request::post(&path)
        .header(header::COOKIE, &cookie)
        .header(header::HOST, "localhost")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    assert_eq!(app.send(cross_site).await.status, StatusCode::FORBIDDEN);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(read["timeline"], json!([]), "nothing was written");

    let other_session = {
        app.person("sam", "contributor").await;
        app.sign_in("sam").await
    };
    assert_eq!(
        app.post_form(&path, &other_session, &genuine).await.status,
        StatusCode::FORBIDDEN,
        "a token is only good for its own session"
    );
    assert_eq!(
        app.post_form(&path, &cookie, &genuine).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_incident_page_adds_timeline_entries_factors_and_actions_through_its_forms() {
    let app = TestApp::new().await;
    let (token, cookie) = signed_in(&app, "dana", "contributor").await;
    app.person("omar", "contributor").await;
    let id = app.incident(&token).await;
    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_accessible(&page.body);
    let csrf = csrf_of(&page.body);

    let missing_text = app
        .post_form(
            &format!("/incidents/{id}/timeline"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("at_local", "2026-03-01T14:05"),
                ("offset", "+01:00"),
                ("text", " "),
                ("actor", "Priya"),
            ],
        )
        .await;
    assert_eq!(missing_text.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing_text.body.contains("id=\"timeline-text-error\""),
        "{}",
        missing_text.body
    );
    assert!(
        missing_text.body.contains("value=\"Priya\""),
        "what was typed is kept"
    );
    assert_accessible(&missing_text.body);

    let added = app
        .post_form(
            &format!("/incidents/{id}/timeline"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("at_local", "2026-03-01T14:05"),
                ("offset", "+01:00"),
                ("text", "Checkout **alert** fired"),
                ("actor", "Priya"),
                ("marker", "detected"),
                ("perspective", "observed"),
            ],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    assert_eq!(
        added.headers[header::LOCATION],
        format!("/incidents/{id}#timeline")
    );

    let factor = app
        .post_form(
            &format!("/incidents/{id}/factors"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("category", "alerting"),
                ("description", "No alert on pool saturation"),
                ("is_trigger", "true"),
            ],
        )
        .await;
    assert_eq!(factor.status, StatusCode::SEE_OTHER, "{}", factor.body);
    let action = app
        .post_form(
            &format!("/incidents/{id}/actions"),
            &cookie,
            &[
                ("csrf", &csrf),
                ("title", "Alert on saturation"),
                ("owner", "omar"),
                ("due_on", "2026-04-01"),
                ("priority", "p1"),
                ("kind", "detect"),
                ("factor_ids", "1"),
            ],
        )
        .await;
    assert_eq!(action.status, StatusCode::SEE_OTHER, "{}", action.body);
    let wont_do = app
        .post_form(
            &format!("/incidents/{id}/actions/1"),
            &cookie,
            &[("csrf", &csrf), ("status", "wont_do")],
        )
        .await;
    assert_eq!(wont_do.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wont_do.body.contains("wont_do_reason"), "{}", wont_do.body);

    let page = app.page(&format!("/incidents/{id}"), &cookie).await;
    assert!(
        page.body.contains("<strong>alert</strong>"),
        "entries render as Markdown"
    );
    assert!(page.body.contains("datetime=\"2026-03-01T14:05:00+01:00\""));
    assert!(
        page.body
            .contains("Done by Priya. Written by dana Example."),
        "who contributed what"
    );
    assert!(page.body.contains("Missing or noisy alerting"));
    assert!(page.body.contains("omar Example"), "the owner by name");
    assert!(page.body.contains("added 1 timeline entry"));
    assert_accessible(&page.body);

    let fragment = app
        .page(&format!("/incidents/{id}/fragments/timeline"), &cookie)
        .await;
    assert_eq!(fragment.status, StatusCode::OK);
    assert!(
        fragment.body.starts_with("<div id=\"part-timeline\""),
        "{}",
        fragment.body
    );
    assert!(!fragment.body.contains("<html"));
}

#[tokio::test]
async fn a_stale_section_save_shows_both_texts_and_saves_nothing() {
    let app = TestApp::new().await;
    let (token, dana) = signed_in(&app, "dana", "contributor").await;
    app.person("sam", "contributor").await;
    let sam = app.sign_in("sam").await;
    let id = app.incident(&token).await;
    let editor = format!("/incidents/{id}/edit");
    let dana_page = app.page(&editor, &dana).await;
    let sam_page = app.page(&editor, &sam).await;
    assert_accessible(&dana_page.body);
    assert!(
        dana_page
            .body
            .contains("What happened, in three or four sentences"),
        "guiding questions as hints"
    );
    let base = |html: &str| {
        let marker = "name=\"base_version\" value=\"";
        let start = html.find(marker).unwrap() + marker.len();
        html[start..].split('"').next().unwrap().to_owned()
    };
    let (dana_base, sam_base) = (base(&dana_page.body), base(&sam_page.body));

    let preview = app
        .post_form(
            &editor,
            &dana,
            &[
                ("csrf", &csrf_of(&dana_page.body)),
                ("base_version", &dana_base),
                ("intent", "preview"),
                ("section.summary", "Checkout *failed*."),
                ("orig.summary", ""),
            ],
        )
        .await;
    assert_eq!(preview.status, StatusCode::OK);
    assert!(
        preview.body.contains("<em>failed</em>"),
        "the preview is rendered by the server"
    );
    assert_eq!(
        app.etag(id, &token).await,
        "\"v1\"",
        "a preview saves nothing"
    );

    let saved = app
        .post_form(
            &editor,
            &sam,
            &[
                ("csrf", &csrf_of(&sam_page.body)),
                ("base_version", &sam_base),
                ("intent", "save"),
                ("section.summary", "Sam's summary.\r\nTwo lines."),
                ("orig.summary", ""),
                ("section.impact", ""),
                ("orig.impact", ""),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let stale = app
        .post_form(
            &editor,
            &dana,
            &[
                ("csrf", &csrf_of(&dana_page.body)),
                ("base_version", &dana_base),
                ("intent", "save"),
                ("section.summary", "Dana's summary."),
                ("orig.summary", ""),
                ("section.lessons", "Dana's lessons."),
                ("orig.lessons", ""),
            ],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("Dana's summary."), "your text is kept");
    assert!(
        stale.body.contains("Sam's summary.\nTwo lines."),
        "their text is shown"
    );
    assert!(
        stale.body.contains("saved by sam Example"),
        "{}",
        stale.body
    );
    assert!(
        stale.body.contains("Dana's lessons."),
        "other edits are kept too"
    );
    assert_accessible(&stale.body);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(
        read["postmortem"]["sections"]["summary"], "Sam's summary.\nTwo lines.",
        "line breaks are stored as newlines"
    );
    assert_eq!(
        read["postmortem"]["sections"].get("lessons"),
        None,
        "nothing of the stale save was stored"
    );

    let merged = app
        .post_form(
            &editor,
            &dana,
            &[
                ("csrf", &csrf_of(&stale.body)),
                ("base_version", &base(&stale.body)),
                ("intent", "save"),
                ("section.summary", "Merged summary."),
                ("orig.summary", "Sam's summary.\nTwo lines."),
                ("section.lessons", "Dana's lessons."),
                ("orig.lessons", ""),
            ],
        )
        .await;
    assert_eq!(merged.status, StatusCode::SEE_OTHER, "{}", merged.body);
    let read = app
        .get(&format!("/api/v1/incidents/{id}"), Some(&token))
        .await
        .json();
    assert_eq!(read["postmortem"]["sections"]["summary"], "Merged summary.");
    assert_eq!(read["postmortem"]["sections"]["lessons"], "Dana's lessons.");
}

#[tokio::test]
async fn the_review_workflow_runs_in_the_browser_and_publishing_lists_what_is_missing() {
    let app = TestApp::new().await;
    let (token, dana) = signed_in(&app, "dana", "contributor").await;
    app.person("rae", "reviewer").await;
    let rae = app.sign_in("rae").await;
    let id = app.incident(&token).await;
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    let csrf = csrf_of(&page.body);
    let transitions = format!("/incidents/{id}/transitions");
    assert!(page.body.contains("Start the draft"));
    let draft = app
        .post_form(&transitions, &dana, &[("csrf", &csrf), ("to", "draft")])
        .await;
    assert_eq!(draft.status, StatusCode::SEE_OTHER);

    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(
        page.body.contains("rae Example (reviewer)"),
        "reviewers to choose from"
    );
    let nobody = app
        .post_form(&transitions, &dana, &[("csrf", &csrf), ("to", "in_review")])
        .await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        nobody.body.contains("id=\"transition-reviewers-error\""),
        "{}",
        nobody.body
    );
    let asked = app
        .post_form(
            &transitions,
            &dana,
            &[("csrf", &csrf), ("to", "in_review"), ("reviewers", "rae")],
        )
        .await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{}", asked.body);

    let rae_page = app.page(&format!("/incidents/{id}"), &rae).await;
    assert_accessible(&rae_page.body);
    let rae_csrf = csrf_of(&rae_page.body);
    let commented = app
        .post_form(
            &format!("/incidents/{id}/comments"),
            &rae,
            &[
                ("csrf", &rae_csrf),
                ("section", "impact"),
                ("body", "How many customers?"),
            ],
        )
        .await;
    assert_eq!(commented.status, StatusCode::SEE_OTHER);
    let by_author = app
        .post_form(
            &format!("/incidents/{id}/comments"),
            &dana,
            &[("csrf", &csrf), ("section", "impact"), ("body", "x")],
        )
        .await;
    assert_eq!(by_author.status, StatusCode::FORBIDDEN);
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(page.body.contains("How many customers?"));
    assert!(page.body.contains("1 open comment"));
    let resolved = app
        .post_form(
            &format!("/incidents/{id}/comments/1/resolve"),
            &dana,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(resolved.status, StatusCode::SEE_OTHER);

    let approved = app
        .post_form(
            &transitions,
            &rae,
            &[
                ("csrf", &rae_csrf),
                ("to", "approved"),
                ("comment", "Clear and blameless."),
            ],
        )
        .await;
    assert_eq!(approved.status, StatusCode::SEE_OTHER);
    let page = app.page(&format!("/incidents/{id}"), &dana).await;
    assert!(page.body.contains("Clear and blameless."));
    let incomplete = app
        .post_form(&transitions, &dana, &[("csrf", &csrf), ("to", "published")])
        .await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    for missing in [
        "the `summary` section is not written yet",
        "the timeline has no entry marked `detected`",
        "add at least one contributing factor besides the trigger",
    ] {
        assert!(
            incomplete.body.contains(missing),
            "{missing}: {}",
            incomplete.body
        );
    }
}

#[tokio::test]
async fn viewers_see_no_forms_and_restricted_incidents_are_not_found_on_any_page() {
    let app = TestApp::new().await;
    let (token, dana) = signed_in(&app, "dana", "contributor").await;
    let (_, vic) = signed_in(&app, "vic", "viewer").await;
    let mut body = outage();
    body["kind"] = json!("security");
    let restricted = app
        .post_json("/api/v1/incidents", &token, body)
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let open = app.incident(&token).await;
    let page = app.page(&format!("/incidents/{open}"), &vic).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("Add entry"),
        "no writing forms for a viewer"
    );
    assert!(page.body.contains("writing needs the contributor role"));
    let csrf = csrf_of(&app.page("/incidents/new", &vic).await.body);
    let refused = app
        .post_form(
            &format!("/incidents/{open}/timeline"),
            &vic,
            &[
                ("csrf", &csrf),
                ("at_local", "2026-03-01T14:05"),
                ("offset", "+00:00"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    for path in [
        format!("/incidents/{restricted}"),
        format!("/incidents/{restricted}/edit"),
        format!("/incidents/{restricted}/fragments/timeline"),
        format!("/incidents/{restricted}/events"),
    ] {
        assert_eq!(
            app.page(&path, &vic).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let attempt = app
        .post_form(
            &format!("/incidents/{restricted}/timeline"),
            &vic,
            &[
                ("csrf", &csrf),
                ("at_local", "2026-03-01T14:05"),
                ("offset", "+00:00"),
                ("text", "x"),
            ],
        )
        .await;
    assert_eq!(attempt.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.page(&format!("/incidents/{restricted}"), &dana)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_list_links_to_a_new_incident_and_the_script_is_served() {
    let app = TestApp::new().await;
    let (_, cookie) = signed_in(&app, "dana", "contributor").await;
    let home = app.page("/", &cookie).await;
    assert!(home.body.contains("href=\"/incidents/new\""));
    let script = app.get("/static/app.js", None).await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.body.contains("EventSource"));
}
