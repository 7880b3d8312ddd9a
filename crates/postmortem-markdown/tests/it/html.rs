//! HTML exports (a Confluence page export, a Google Docs "Download as HTML") read through the
//! same mapping as Markdown: headings to sections, timeline tables to entries, checklists to
//! action items; hostile HTML refused in bounded time.

use crate::context;
use postmortem_core::ActionStatus;
use postmortem_markdown::{Parsed, decode, html_to_markdown, is_html, parse};
use std::time::Instant;

fn fixture(name: &str) -> Parsed {
    let path = format!(
        "{}/tests/it/fixtures/html/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(is_html(&html), "{name} is read as HTML");
    let markdown = html_to_markdown(name, &html).unwrap_or_else(|error| panic!("{error}"));
    parse(name, &markdown, &context()).unwrap_or_else(|error| panic!("{error}\n{markdown}"))
}

fn sections(parsed: &Parsed) -> Vec<&str> {
    let mut names: Vec<&str> = parsed
        .document
        .bundle
        .sections
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    names.sort_unstable();
    names
}

fn actions(parsed: &Parsed) -> Vec<(&str, ActionStatus)> {
    parsed
        .document
        .bundle
        .actions
        .iter()
        .map(|a| (a.item.title.as_str(), a.item.status))
        .collect()
}

#[test]
fn a_confluence_page_export_maps_its_headings_timeline_table_and_task_list() {
    let parsed = fixture("confluence-page-export.html");
    let bundle = &parsed.document.bundle;
    assert!(
        bundle.incident.title.as_str().contains("Payments API 502s"),
        "{}",
        bundle.incident.title
    );
    assert_eq!(bundle.incident.severity.to_string(), "SEV2");
    assert!(
        sections(&parsed).contains(&"summary"),
        "{:?}",
        sections(&parsed)
    );
    assert!(
        sections(&parsed).contains(&"impact"),
        "{:?}",
        sections(&parsed)
    );
    assert_eq!(bundle.timeline.len(), 3, "{:#?}", parsed.mapping);
    assert_eq!(
        bundle.timeline[0].entry.at,
        time::macros::datetime!(2025-03-14 14:02 UTC)
    );
    assert_eq!(
        actions(&parsed),
        [
            ("Roll back the pool limit", ActionStatus::Done),
            ("Alert on pool saturation", ActionStatus::Open)
        ]
    );
}

#[test]
fn a_google_docs_download_maps_its_headings_timeline_table_and_checklist() {
    let parsed = fixture("google-docs-download.html");
    let bundle = &parsed.document.bundle;
    assert_eq!(bundle.incident.title.as_str(), "Search latency incident");
    assert!(
        sections(&parsed).contains(&"summary"),
        "{:?}",
        sections(&parsed)
    );
    assert!(
        sections(&parsed).contains(&"lessons"),
        "{:?}",
        sections(&parsed)
    );
    assert_eq!(bundle.timeline.len(), 2, "{:#?}", parsed.mapping);
    assert_eq!(
        actions(&parsed),
        [
            ("Pause rebuilds during peak hours", ActionStatus::Done),
            ("Rate-limit index rebuilds", ActionStatus::Open)
        ]
    );
    let style_leaked = bundle
        .sections
        .iter()
        .any(|s| s.body.as_str().contains("list-style-type"));
    assert!(!style_leaked, "the style sheet is not text");
}

#[test]
fn hostile_html_ends_in_a_clear_error_in_bounded_time() {
    let started = Instant::now();
    let deep = format!(
        "<!DOCTYPE html><html><body>{}x{}</body></html>",
        "<div>".repeat(1000),
        "</div>".repeat(1000)
    );
    let error = html_to_markdown("deep.html", &deep).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("deep.html:1: the HTML nests elements")
            && error.to_string().contains("at most 256"),
        "{error}"
    );
    let unclosed = format!("<html><body>{}", "<span><b>".repeat(5000));
    assert!(html_to_markdown("unclosed.html", &unclosed).is_err());
    let huge = format!(
        "<html><body><p>{}</p></body></html>",
        "a".repeat(10 * 1024 * 1024)
    );
    let error = decode("huge.html", huge.as_bytes()).unwrap_err();
    assert!(error.to_string().contains("may be at most"), "{error}");
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}
