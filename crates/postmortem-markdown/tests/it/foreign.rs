//! Post-mortems written elsewhere: real public files (DFDS's post-mortem repository, MIT
//! licensed, copied unchanged into `fixtures/dfds`) and the shapes of common templates.

use crate::context;
use postmortem_core::{ActionKind, ActionStatus, IncidentKind, Marker, PostmortemStatus, Source};
use postmortem_markdown::{Parsed, parse};
use time::macros::datetime;

fn fixture(name: &str) -> Parsed {
    let path = format!(
        "{}/tests/it/fixtures/dfds/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    parse(name, &text, &context()).unwrap_or_else(|error| panic!("{error}"))
}

fn section<'a>(parsed: &'a Parsed, name: &str) -> Option<&'a str> {
    parsed
        .document
        .bundle
        .sections
        .iter()
        .find(|s| s.name.as_str() == name)
        .map(|s| s.body.as_str())
}

#[test]
fn a_dfds_post_mortem_maps_title_sections_timeline_factors_and_actions() {
    let parsed = fixture("PM2021-004 - ADFS outage.md");
    let bundle = &parsed.document.bundle;
    // "# Incident Title" is a label; the title is the line under it.
    assert_eq!(bundle.incident.title.as_str(), "ADFS Outage");
    assert!(
        section(&parsed, "summary")
            .unwrap()
            .starts_with("On Wednesday 31st March")
    );
    assert!(
        section(&parsed, "lessons")
            .unwrap()
            .contains("not monitoring the ADFS")
    );
    assert_eq!(bundle.timeline.len(), 8);
    let first = &bundle.timeline[0].entry;
    assert_eq!(first.at, datetime!(2021-03-31 12:06 UTC));
    assert_eq!(first.source, Source::Import);
    assert!(
        first
            .text
            .as_str()
            .starts_with("Token-decrypting and token-signing certificates")
    );
    let reported = &bundle.timeline[1].entry;
    assert!(
        reported
            .text
            .as_str()
            .starts_with("Reports of issues signing into the AWS web console")
    );
    assert_eq!(reported.marker, Some(Marker::Detected));
    assert_eq!(
        bundle.incident.started_at,
        Some(datetime!(2021-03-31 12:06 UTC))
    );
    assert_eq!(bundle.factors.len(), 4);
    assert_eq!(bundle.actions.len(), 3);
    assert_eq!(bundle.actions[0].item.kind, ActionKind::Detect);
    assert!(
        bundle
            .actions
            .iter()
            .all(|a| a.item.status == ActionStatus::Open)
    );
    // Nothing dropped: unknown headings are sections of their own, "All times in UTC." stays.
    assert!(section(&parsed, "atendees").unwrap().contains("RF, PW"));
    assert!(
        section(&parsed, "stats")
            .unwrap()
            .contains("Authentication/Authorisation")
    );
    assert_eq!(section(&parsed, "timeline"), Some("All times in UTC."));
    assert_eq!(
        parsed.document.imported_from.as_deref(),
        Some("PM2021-004 - ADFS outage.md")
    );
    assert_eq!(bundle.status, PostmortemStatus::Published);
}

#[test]
fn a_timeline_table_with_date_only_rows_and_spaced_times_is_read() {
    let parsed = fixture("PM2021-011 - Log4Shell.md");
    let bundle = &parsed.document.bundle;
    assert_eq!(bundle.incident.kind, IncidentKind::Security);
    assert!(
        bundle.incident.restricted,
        "security incidents start restricted"
    );
    // Rows with a date and no time are not entries; they are kept with the timeline's text.
    assert_eq!(bundle.timeline.len(), 23, "{:#?}", parsed.mapping);
    assert_eq!(
        bundle.timeline.last().unwrap().entry.at,
        datetime!(2022-01-04 11:03 UTC)
    );
    let kept = section(&parsed, "timeline").unwrap();
    assert!(
        kept.contains("| 2021-12-17 | log4j 2.17 published |"),
        "{kept}"
    );
    assert!(
        !kept.contains("Started scanning Docker images"),
        "entries are not kept twice: {kept}"
    );
    assert_eq!(bundle.actions.len(), 6);
    let lessons = section(&parsed, "lessons").unwrap();
    assert!(lessons.contains("### Reflections on external collaboration"));
}

#[test]
fn every_real_fixture_maps_without_losing_a_heading() {
    for name in [
        "PM2019-009 - Kubernetes network infrastructure IP starvation.md",
        "PM2021-006 - All services returning 503 in Kubernetes.md",
    ] {
        let parsed = fixture(name);
        let path = format!(
            "{}/tests/it/fixtures/dfds/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(path).unwrap();
        let headings = text.lines().filter(|l| l.starts_with("## ")).count();
        let noted: std::collections::BTreeSet<usize> = parsed
            .mapping
            .iter()
            .filter(|n| n.note.starts_with('`'))
            .map(|n| n.line)
            .collect();
        let noted = noted.len();
        assert_eq!(noted, headings, "{name}: {:#?}", parsed.mapping);
        assert!(!parsed.document.bundle.timeline.is_empty(), "{name}");
    }
}

#[test]
fn a_free_form_document_with_front_matter_lists_and_a_checklist_is_mapped() {
    let text = "---\ntitle: Checkout failures after the Friday deploy\ndate: 2024-11-08\nseverity: SEV-2\nservices: [Checkout API, payments]\ntags: [deploy]\n---\n\nWritten by the payments team.\n\n## What happened\n\nA config push left checkout without its payment keys.\n\n## Timeline (PST)\n\n- 14:02 - Error rate alert fired for checkout\n- 14:10 — On-call engineer rolled back the config\n- **14:31** Checkout fully restored\n- Later that day we wrote this up\n\n## Root cause\n\nTwo config sources disagreed.\n\n## Follow-up actions\n\n- [x] Roll back automatically when keys are missing (@dana) https://tracker.example.com/PAY-12\n- [ ] Add a dashboard for key freshness\n\n| Task | Owner | Due | Status |\n|---|---|---|---|\n| Write the key-rotation runbook | Alex Kim | 2024-12-01 | in progress |\n";
    let parsed = parse("checkout.md", text, &context()).unwrap();
    let bundle = &parsed.document.bundle;
    assert_eq!(
        bundle.incident.title.as_str(),
        "Checkout failures after the Friday deploy"
    );
    assert_eq!(bundle.incident.severity.level(), 2);
    let services: Vec<&str> = bundle
        .incident
        .services
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert_eq!(services, ["checkout-api", "payments"]);
    assert_eq!(bundle.timeline.len(), 3);
    assert_eq!(bundle.timeline[0].entry.at, datetime!(2024-11-08 14:02 -8));
    assert_eq!(bundle.timeline[0].entry.marker, Some(Marker::Detected));
    assert_eq!(bundle.timeline[1].entry.marker, Some(Marker::Mitigated));
    assert_eq!(bundle.timeline[2].entry.marker, Some(Marker::Resolved));
    assert_eq!(
        section(&parsed, "timeline"),
        Some("- Later that day we wrote this up")
    );
    assert!(
        section(&parsed, "trigger")
            .unwrap()
            .contains("Two config sources")
    );
    assert!(section(&parsed, "summary").unwrap().contains("config push"));
    assert!(
        section(&parsed, "background")
            .unwrap()
            .contains("Written by the payments team")
    );
    assert_eq!(bundle.actions.len(), 3);
    let first = &bundle.actions[0];
    assert_eq!(first.item.status, ActionStatus::Done);
    assert_eq!(first.owner.as_ref().map(|h| h.as_str()), Some("dana"));
    assert_eq!(
        first.item.external_url.as_ref().map(|l| l.as_str()),
        Some("https://tracker.example.com/PAY-12")
    );
    let table = &bundle.actions[2];
    assert_eq!(table.item.title.as_str(), "Write the key-rotation runbook");
    assert_eq!(table.owner.as_ref().map(|h| h.as_str()), Some("alex-kim"));
    assert_eq!(table.item.status, ActionStatus::InProgress);
    assert_eq!(table.item.kind, ActionKind::Process);
    assert!(
        parsed
            .mapping
            .iter()
            .any(|n| n.note.contains("`tags` is not a fact")),
        "{:#?}",
        parsed.mapping
    );
}

#[test]
fn the_mapping_says_where_each_heading_went() {
    let parsed = fixture("PM2021-006 - All services returning 503 in Kubernetes.md");
    let notes: Vec<String> = parsed.mapping.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(notes.join("\n"));
}

/// The shape of the Google SRE workbook's example post-mortem (written here in our own words):
/// facts as `**Key:**` lines, "Root Causes" and "Trigger", lessons with sub-headings, an
/// action table with a type column, and a timeline of plain lines under a date line.
const WORKBOOK_SHAPE: &str = "# Search Suggest Outage (incident #512)\n\n**Date:** 2021-10-21\n\n**Authors:** ana, ben\n\n**Status:** Complete, action items in progress\n\n**Summary:** Search suggestions were down for 66 minutes during a traffic spike.\n\n**Impact:** An estimated 1.2 million suggestion requests failed.\n\n**Root Causes:** A cascading failure from a file-descriptor leak under load.\n\n**Trigger:** A latent bug met a sudden surge of traffic.\n\n## Lessons Learned\n\n### Things that went well\n\n- Monitoring caught the high error rate quickly.\n\n### Where we got lucky\n\n- A spare cluster was already provisioned.\n\n## Action Items\n\n| Action Item | Type | Owner | Bug |\n| --- | --- | --- | --- |\n| Update the playbook with steps for a cascading failure | mitigate | jennifer | n/a **DONE** |\n| Add a load test for file-descriptor exhaustion | prevent | martin | https://bugs.example.com/5554825 |\n\n## Timeline\n\n2021-10-21 (all times UTC)\n\n14:51 News reports that a new sonnet was found.\n\n14:53 Traffic to search suggest rises 88x.\n\n14:54 OUTAGE BEGINS: search suggest starts failing.\n\n15:01 Pager alerts on the error rate.\n\n15:26 Traffic routed to the spare cluster; errors drop.\n\n16:00 OUTAGE MITIGATED, incident resolved.\n";

#[test]
fn the_sre_workbook_shape_maps_facts_lessons_actions_and_a_timeline_of_plain_lines() {
    let parsed = parse("workbook.md", WORKBOOK_SHAPE, &context()).unwrap();
    let bundle = &parsed.document.bundle;
    assert_eq!(
        bundle.incident.title.as_str(),
        "Search Suggest Outage (incident #512)"
    );
    let background = section(&parsed, "summary").unwrap();
    assert!(
        background.contains("**Root Causes:** A cascading failure"),
        "{background}"
    );
    let lessons = section(&parsed, "lessons").unwrap();
    assert!(lessons.contains("### Where we got lucky"), "{lessons}");
    assert_eq!(bundle.timeline.len(), 6, "{:#?}", parsed.mapping);
    assert_eq!(bundle.timeline[0].entry.at, datetime!(2021-10-21 14:51 UTC));
    let marked = |marker| {
        bundle
            .timeline
            .iter()
            .find(|e| e.entry.marker == Some(marker))
            .map(|e| e.entry.at)
    };
    assert_eq!(
        marked(Marker::ImpactStart),
        Some(datetime!(2021-10-21 14:54 UTC))
    );
    assert_eq!(
        marked(Marker::Detected),
        Some(datetime!(2021-10-21 15:01 UTC))
    );
    assert_eq!(
        marked(Marker::Mitigated),
        Some(datetime!(2021-10-21 15:26 UTC))
    );
    assert_eq!(
        section(&parsed, "timeline"),
        Some("2021-10-21 (all times UTC)")
    );
    assert_eq!(bundle.actions.len(), 2);
    assert_eq!(bundle.actions[0].item.kind, ActionKind::Process);
    assert_eq!(
        bundle.actions[0].owner.as_ref().map(|h| h.as_str()),
        Some("jennifer")
    );
    assert_eq!(
        bundle.actions[1]
            .item
            .external_url
            .as_ref()
            .map(|l| l.as_str()),
        Some("https://bugs.example.com/5554825")
    );
}
