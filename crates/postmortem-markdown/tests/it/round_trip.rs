//! Render → parse → render is byte-identical, over generated incidents and the demo data.

use crate::{TEMPLATES, context};
use postmortem_core::{
    ActionKind, ActionStatus, BundleAction, BundleReview, BundleSection, BundleTimelineEntry,
    FactorCategory, Handle, Impact, IncidentBundle, IncidentId, IncidentKind, Markdown, Marker,
    Name, NewActionItem, NewFactor, NewIncident, NewTimelineEntry, Perspective, PostmortemStatus,
    Priority, ReviewDecision, SectionName, Severity, Source, TemplateName, Title, WebLink,
    policy::Requirement,
};
use postmortem_demo::{DemoConfig, incidents, organisation};
use postmortem_markdown::{Document, PolicyNote, parse, render};
use proptest::prelude::*;
use proptest::sample::select;
use time::{Date, OffsetDateTime, UtcOffset};

/// Markdown pieces that bodies and entries are made of, including the ones a naive parser
/// would take for structure: list items that look like entries, headings in code blocks,
/// middle dots, tables, indented code.
const FRAGMENTS: &[&str] = &[
    "The deploy pipeline pushed *two* configs at once, and `payments-api` read the old one.",
    "### What the dashboards showed",
    "- a list item",
    "  - a nested item",
    "1. first step",
    "> The alert said the disk was full; it was not.",
    "```\n## Timeline\n- 2025-01-01T00:00:00Z · detected\n```",
    "    indented code line",
    "| when | what |\n|---|---|\n| 10:00 | paged |",
    "Text · with · middle dots · actor: \"not an actor\"",
    "- [ ] looks like an action",
    "- F1 · other",
    "A line with trailing spaces  \nand a hard break.",
    "Ünïcödé and emoji 🔥 are kept.",
    "",
];

fn markdown() -> impl Strategy<Value = String> {
    prop::collection::vec(select(FRAGMENTS), 1..5).prop_map(|pieces| {
        let text = pieces.join("\n\n");
        let tidy = text.trim_end();
        let start = tidy.len() - tidy.trim_start_matches(['\n', ' ']).len();
        let body = tidy[start..].to_owned();
        if body.trim().is_empty() {
            "Something happened.".to_owned()
        } else {
            body
        }
    })
}

fn handle() -> impl Strategy<Value = Handle> {
    "[a-z][a-z0-9._-]{1,12}".prop_filter_map("a valid handle", |raw| Handle::parse(raw).ok())
}

fn name() -> impl Strategy<Value = Name> {
    "[a-z][a-z0-9-]{0,12}".prop_filter_map("a valid name", |raw| Name::parse(raw).ok())
}

fn free_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9 ,.'·:-]{1,40}",
        "\\PC{0,30}",
        Just(" padded ".to_owned()),
        Just("two\nlines".to_owned()),
        Just("\"quoted\" · actor: x".to_owned()),
    ]
}

/// Text the one-line fields take (a timeline entry's actor): no line breaks or controls.
fn line_text() -> impl Strategy<Value = String> {
    free_text().prop_filter("one line", |text| {
        postmortem_core::check_line("actor", text).is_ok()
    })
}

fn instant() -> impl Strategy<Value = OffsetDateTime> {
    (
        1_500_000_000i64..1_800_000_000,
        0i64..1000,
        -48i32..=56,
        any::<bool>(),
    )
        .prop_map(|(seconds, millis, quarter_hours, whole)| {
            let offset = UtcOffset::from_whole_seconds(quarter_hours * 15 * 60).unwrap();
            let at = OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .to_offset(offset);
            if whole {
                at
            } else {
                at + time::Duration::milliseconds(millis)
            }
        })
}

fn date() -> impl Strategy<Value = Date> {
    (2015i32..2030, 1u8..=12, 1u8..=28)
        .prop_map(|(y, m, d)| Date::from_calendar_date(y, m.try_into().unwrap(), d).unwrap())
}

fn link() -> impl Strategy<Value = WebLink> {
    "https://[a-z]{3,10}\\.example\\.com/[a-z0-9/]{0,12}"
        .prop_map(|raw| WebLink::parse(raw).unwrap())
}

fn title() -> impl Strategy<Value = Title> {
    "[A-Za-z0-9][A-Za-z0-9 ,.'#:/-]{0,60}"
        .prop_filter_map("a valid title", |raw| Title::parse(raw).ok())
}

fn entry() -> impl Strategy<Value = BundleTimelineEntry> {
    (
        handle(),
        instant(),
        markdown(),
        prop::option::of(line_text()),
        prop::option::of(select(Marker::ALL)),
        select(Perspective::ALL),
        select(Source::ALL),
        prop::option::of(link()),
    )
        .prop_map(
            |(author, at, text, actor, marker, perspective, source, source_url)| {
                BundleTimelineEntry {
                    author,
                    entry: NewTimelineEntry {
                        at,
                        text: Markdown::parse(text).unwrap(),
                        actor,
                        marker,
                        perspective,
                        source,
                        source_url,
                    },
                }
            },
        )
}

fn factor() -> impl Strategy<Value = NewFactor> {
    (select(FactorCategory::ALL), markdown(), any::<bool>()).prop_map(
        |(category, text, is_trigger)| NewFactor {
            category,
            description: Markdown::parse(text).unwrap(),
            is_trigger,
        },
    )
}

fn action(n_factors: usize) -> impl Strategy<Value = BundleAction> {
    (
        (
            title(),
            prop::option::of(handle()),
            prop::option::of(name()),
            prop::option::of(date()),
        ),
        (
            select(Priority::ALL),
            select(ActionKind::ALL),
            select(ActionStatus::ALL),
        ),
        (
            prop::option::of(free_text()),
            prop::option::of(link()),
            prop::option::of(free_text()),
        ),
        (
            prop::collection::btree_set(0..n_factors.max(1), 0..=n_factors.min(3)),
            prop::option::of(instant()),
        ),
    )
        .prop_map(
            move |(
                (title, owner, team, due_on),
                (priority, kind, status),
                (reason, external_url, verification),
                (factors, completed_at),
            )| {
                let wont_do_reason = match status {
                    ActionStatus::WontDo => Some(
                        reason
                            .filter(|r| !r.trim().is_empty())
                            .unwrap_or_else(|| "superseded".to_owned()),
                    ),
                    _ => reason,
                };
                BundleAction {
                    owner,
                    factor_indexes: factors.into_iter().filter(|&i| i < n_factors).collect(),
                    item: NewActionItem {
                        title,
                        owner: None,
                        team,
                        due_on,
                        priority,
                        kind,
                        status,
                        wont_do_reason,
                        external_url,
                        factor_ids: Vec::new(),
                        verification,
                    },
                    completed_at,
                }
            },
        )
}

fn extra_section_name() -> impl Strategy<Value = SectionName> {
    "[a-z]{2,8}(_[a-z]{1,8}){0,2}".prop_map(|raw| SectionName::parse(raw).unwrap())
}

prop_compose! {
    fn facts()(
        title in title(),
        kind in select(IncidentKind::ALL),
        level in 1u8..=4,
        started_at in prop::option::of(instant()),
        services in prop::collection::btree_set(name(), 0..3),
        teams in prop::collection::btree_set(name(), 0..3),
        impact in (any::<bool>(), any::<u32>(), any::<u64>(), any::<bool>(), any::<bool>()),
        restricted in any::<bool>(),
        full in any::<bool>(),
    ) -> NewIncident {
        NewIncident {
            title,
            kind,
            severity: Severity::parse(&format!("SEV{level}")).unwrap(),
            started_at,
            services: services.into_iter().collect(),
            teams: teams.into_iter().collect(),
            impact: Impact {
                user_visible: impact.0,
                customer_minutes: impact.1,
                customers_affected: impact.2,
                data_loss: impact.3,
                manual_intervention: impact.4,
            },
            restricted,
            template: if full { TemplateName::full() } else { TemplateName::lightweight() },
        }
    }
}

prop_compose! {
    fn document()(
        incident in facts(),
        id in prop::option::of(1i64..1_000_000),
        created_by in handle(),
        created_at in instant(),
        status in select(PostmortemStatus::ALL),
        due_on in prop::option::of(date()),
        published_at in prop::option::of(instant()),
        written in prop::collection::vec((any::<bool>(), markdown(), handle()), 11),
        extras in prop::collection::vec((extra_section_name(), markdown(), handle()), 0..3),
        timeline in prop::collection::vec(entry(), 0..6),
        factors in prop::collection::vec(factor(), 0..4),
        reviews in prop::collection::vec((handle(), select(ReviewDecision::ALL), prop::option::of(free_text())), 0..3),
        policy in prop::option::of((select(Requirement::ALL), prop::collection::vec(free_text(), 0..3))),
        members in prop::collection::vec(handle(), 0..3),
        imported_from in prop::option::of(free_text()),
    )(
        actions in prop::collection::vec(action(factors.len()), 0..4),
        incident in Just(incident), id in Just(id), created_by in Just(created_by),
        created_at in Just(created_at), status in Just(status), due_on in Just(due_on),
        published_at in Just(published_at), written in Just(written), extras in Just(extras),
        timeline in Just(timeline), factors in Just(factors), reviews in Just(reviews),
        policy in Just(policy), members in Just(members), imported_from in Just(imported_from),
    ) -> Document {
        let template = TEMPLATES.resolve(&incident.template);
        let mut sections: Vec<BundleSection> = template
            .sections
            .iter()
            .zip(written)
            .filter(|(_, (present, _, _))| *present)
            .map(|(wanted, (_, body, by))| BundleSection {
                name: wanted.name.clone(),
                body: Markdown::parse(body).unwrap(),
                updated_by: by,
            })
            .collect();
        let titles: Vec<String> = template.sections.iter().map(|s| s.title.to_lowercase()).collect();
        let mut extras = extras;
        extras.sort_by(|a, b| a.0.cmp(&b.0));
        extras.dedup_by(|a, b| a.0 == b.0);
        for (name, body, by) in extras {
            let clashes = sections.iter().any(|s| s.name == name)
                || template.sections.iter().any(|s| s.name == name)
                || titles.contains(&name.as_str().replace('_', " "));
            if !clashes {
                sections.push(BundleSection { name, body: Markdown::parse(body).unwrap(), updated_by: by });
            }
        }
        Document {
            id: id.map(IncidentId::new),
            // Only exports carry a version, and with it their id.
            version: id.map(|id| id % 97 + 1),
            bundle: IncidentBundle {
                incident,
                created_by,
                created_at,
                status,
                due_on,
                published_at,
                sections,
                timeline,
                factors,
                actions,
                reviews: reviews
                    .into_iter()
                    .map(|(reviewer, decision, comment)| BundleReview { reviewer, decision, comment })
                    .collect(),
            },
            policy: policy.map(|(decision, reasons)| PolicyNote { decision, reasons }),
            members,
            imported_from,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn render_then_parse_gives_the_same_incident_and_the_same_bytes(document in document()) {
        let rendered = render(&document, &TEMPLATES);
        let parsed = parse("generated.md", &rendered, &context())
            .unwrap_or_else(|error| panic!("{error}\n{rendered}"));
        prop_assert!(parsed.mapping.is_empty(), "an export is read as one, not mapped");
        prop_assert_eq!(&parsed.document, &document, "{}", rendered);
        prop_assert_eq!(render(&parsed.document, &TEMPLATES), rendered);
    }
}

#[test]
fn the_demo_data_round_trips_byte_for_byte() {
    let org = organisation(7);
    let config = DemoConfig {
        n_incidents: 300,
        seed: 7,
        today: time::macros::date!(2025 - 06 - 30),
    };
    for (index, bundle) in incidents(&org, &config).enumerate() {
        let document = Document {
            id: Some(IncidentId::new(index as i64 + 1)),
            version: Some(index as i64 % 5 + 1),
            bundle,
            policy: Some(PolicyNote {
                decision: Requirement::Required,
                reasons: vec!["severity is SEV2 or worse".to_owned()],
            }),
            members: Vec::new(),
            imported_from: None,
        };
        let rendered = render(&document, &TEMPLATES);
        let parsed = parse("demo.md", &rendered, &context())
            .unwrap_or_else(|error| panic!("{error}\n{rendered}"));
        assert_eq!(
            render(&parsed.document, &TEMPLATES),
            rendered,
            "incident {index}"
        );
    }
}

#[test]
fn an_exported_incident_reads_as_a_reviewer_expects() {
    let org = organisation(3);
    let config = DemoConfig {
        n_incidents: 40,
        seed: 3,
        today: time::macros::date!(2025 - 06 - 30),
    };
    let bundle = incidents(&org, &config)
        .find(|b| b.status == PostmortemStatus::Published && !b.actions.is_empty())
        .unwrap();
    let document = Document {
        id: Some(IncidentId::new(17)),
        version: Some(6),
        bundle,
        policy: Some(PolicyNote {
            decision: Requirement::Required,
            reasons: vec!["customers were affected for 30 minutes or more".to_owned()],
        }),
        members: Vec::new(),
        imported_from: None,
    };
    insta::assert_snapshot!(render(&document, &TEMPLATES));
}
