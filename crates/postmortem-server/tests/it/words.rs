//! No page shows a raw internal value: every page a person reads, about incidents whose
//! statuses, kinds, markers and factor categories are spelled with underscores on the wire,
//! shows none of those spellings in its visible text.

use crate::search::searchable;
use axum::http::StatusCode;
use serde_json::json;

/// Every wire spelling of the core's closed vocabularies that a person could not mistake for
/// a word: those joined by an underscore (`not_required`, `near_miss`, `third_party`, ...).
/// Read from the enums themselves, so a value added later is checked too.
fn raw_spellings() -> Vec<String> {
    use postmortem_core::insights::Chart;
    use postmortem_core::policy::Requirement;
    use postmortem_core::{
        ActionKind, ActionStatus, FactorCategory, IncidentKind, Marker, Permission, Perspective,
        PostmortemStatus, Priority, RedactionKind, ReviewDecision, Role, Source,
    };
    fn spellings<T: Copy>(all: &[T], spell: fn(T) -> &'static str) -> Vec<String> {
        all.iter().map(|value| spell(*value).to_owned()).collect()
    }
    let mut raw = [
        spellings(ActionKind::ALL, ActionKind::as_str),
        spellings(ActionStatus::ALL, ActionStatus::as_str),
        spellings(Priority::ALL, Priority::as_str),
        spellings(Marker::ALL, Marker::as_str),
        spellings(Perspective::ALL, Perspective::as_str),
        spellings(Source::ALL, Source::as_str),
        spellings(ReviewDecision::ALL, ReviewDecision::as_str),
        spellings(Role::ALL, Role::as_str),
        spellings(Permission::ALL, Permission::as_str),
        spellings(PostmortemStatus::ALL, PostmortemStatus::as_str),
        spellings(FactorCategory::ALL, FactorCategory::as_str),
        spellings(IncidentKind::ALL, IncidentKind::as_str),
        spellings(Requirement::ALL, Requirement::as_str),
        spellings(Chart::ALL, Chart::as_str),
    ]
    .concat();
    for kind in [
        RedactionKind::Person,
        RedactionKind::Email,
        RedactionKind::Host,
        RedactionKind::IpAddress,
        RedactionKind::Link,
        RedactionKind::Chat,
        RedactionKind::Customer,
        RedactionKind::Author,
    ] {
        raw.push(
            serde_json::to_value(kind)
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    raw.retain(|spelling| spelling.contains('_'));
    raw
}

#[test]
fn the_raw_spellings_come_from_the_core_vocabularies() {
    let raw = raw_spellings();
    for known in [
        "not_required",
        "in_review",
        "changes_requested",
        "near_miss",
        "wont_do",
        "third_party",
        "impact_start",
        "ip_address",
    ] {
        assert!(
            raw.iter().any(|r| r == known),
            "{known} missing from {raw:?}"
        );
    }
}

/// The text a person sees: the page without its tags, scripts, styles and attribute values.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        text.push_str(&rest[..start]);
        text.push(' ');
        let after = &rest[start..];
        let skip_to = if after.starts_with("<script") {
            after.find("</script>").map(|e| e + "</script>".len())
        } else if after.starts_with("<style") {
            after.find("</style>").map(|e| e + "</style>".len())
        } else {
            after.find('>').map(|e| e + 1)
        };
        rest = &after[skip_to.unwrap_or(after.len())..];
    }
    text.push_str(rest);
    text
}

fn raw_values_in(html: &str) -> Vec<String> {
    let text = visible_text(html);
    raw_spellings()
        .into_iter()
        .filter(|raw| text.contains(raw.as_str()))
        .collect()
}

#[test]
fn the_visible_text_leaves_out_tags_and_attribute_values() {
    let html = r#"<p title="in_progress">In progress <script>let x = "wont_do";</script><option value="near_miss">near miss</option></p>"#;
    assert!(raw_values_in(html).is_empty());
    assert_eq!(raw_values_in("<td>in_progress</td>"), ["in_progress"]);
}

#[tokio::test]
async fn no_page_shows_a_raw_internal_value() {
    let (app, index, _dir) = searchable().await;
    let ada = app.person("ada", "admin").await;
    app.person("rae", "reviewer").await;
    let near_miss = app
        .post_json(
            "/api/v1/incidents",
            &ada,
            json!({"title": "Certificate nearly expired on the payments gateway", "kind": "near_miss", "severity": "SEV3", "services": ["payments"], "teams": ["payments"]}),
        )
        .await;
    assert_eq!(near_miss.status, StatusCode::CREATED, "{}", near_miss.body);
    let id = near_miss.json()["id"].as_i64().unwrap();
    let earlier = app
        .post_json(
            "/api/v1/incidents",
            &ada,
            json!({"title": "Certificate expired on the payments gateway", "kind": "data_loss", "severity": "SEV2", "services": ["payments"]}),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    for incident in [id, earlier] {
        for (category, description) in [
            (
                "third_party",
                "The certificate authority's renewal mail went to a shared inbox.",
            ),
            (
                "unclear_ownership",
                "Nobody owned the certificate's renewal.",
            ),
        ] {
            let added = app
                .post_json(
                    &format!("/api/v1/incidents/{incident}/factors"),
                    &ada,
                    json!({"category": category, "description": description}),
                )
                .await;
            assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
        }
    }
    app.post_json(
        &format!("/api/v1/incidents/{id}/timeline"),
        &ada,
        json!({"at": "2026-03-01T14:05:00+01:00", "text": "Expiry warning seen", "marker": "impact_start", "perspective": "observed"}),
    )
    .await;
    for (title, status) in [
        ("Automate renewal", "in_progress"),
        ("Move the inbox", "wont_do"),
    ] {
        let item = app
            .post_json(
                &format!("/api/v1/incidents/{id}/actions"),
                &ada,
                json!({"title": title, "kind": "prevent", "owner": "ada", "due_on": "2026-01-05"}),
            )
            .await
            .json();
        let patched = app
            .call(
                "PATCH",
                &format!("/api/v1/actions/{}", item["id"]),
                &ada,
                Some(json!({"status": status, "wont_do_reason": "The inbox is going away"})),
            )
            .await;
        assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    }
    for (to, reviewers) in [("draft", None), ("in_review", Some(json!(["rae"])))] {
        let mut body = json!({"to": to});
        if let Some(reviewers) = reviewers {
            body["reviewers"] = reviewers;
        }
        let moved = app
            .post_json(
                &format!("/api/v1/incidents/{id}/postmortem/transitions"),
                &ada,
                body,
            )
            .await;
        assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    }
    index.catch_up(app.db.store.as_ref()).await.unwrap();

    let cookie = app.sign_in("ada").await;
    let pages = [
        "/".to_owned(),
        "/incidents".to_owned(),
        "/incidents/new".to_owned(),
        format!("/incidents/{id}"),
        format!("/incidents/{id}/facts"),
        format!("/incidents/{id}/edit"),
        "/follow-through".to_owned(),
        "/follow-through?view=overdue".to_owned(),
        "/follow-through?view=owed".to_owned(),
        "/search?q=certificate".to_owned(),
        "/account".to_owned(),
        "/teams".to_owned(),
        "/insights".to_owned(),
        "/incidents?status=in_review&kind=near_miss&factor=third_party".to_owned(),
        format!("/incidents/{id}/history"),
        "/admin/audit".to_owned(),
        "/admin/webhooks".to_owned(),
        "/admin/integrations".to_owned(),
    ];
    let mut leaks = Vec::new();
    for path in &pages {
        let page = app.page(path, &cookie).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        let raw = raw_values_in(&page.body);
        if !raw.is_empty() {
            leaks.push((path.clone(), raw));
        }
    }
    assert!(leaks.is_empty(), "raw values shown: {leaks:?}");
    // The pages did show these values, in words.
    let incident = visible_text(&app.page(&format!("/incidents/{id}"), &cookie).await.body);
    for words in [
        "near miss",
        "won't do",
        "in progress",
        "impact started",
        "Third party",
        "in review",
    ] {
        assert!(incident.contains(words), "{words} missing from: {incident}");
    }
    let search = visible_text(&app.page("/search?q=certificate", &cookie).await.body);
    assert!(search.contains("third party"), "{search}");
}
