//! The demo data keeps the promises a newcomer and a benchmark rely on, checked over 2,000 incidents.

use postmortem_core::{
    ActionStatus, FactorCategory, Handle, IncidentBundle, IncidentKind, Marker, Perspective,
    PostmortemStatus, ReviewDecision, Source, Template, TemplateName,
};
use postmortem_demo::{DemoConfig, DemoOrg, incidents, organisation};
use std::collections::{HashMap, HashSet};
use time::{Duration, macros::date};

const TODAY: time::Date = date!(2025 - 06 - 30);

fn demo(seed: u64, n: usize) -> (DemoOrg, Vec<IncidentBundle>) {
    let org = organisation(seed);
    let config = DemoConfig {
        n_incidents: n,
        seed,
        today: TODAY,
    };
    let bundles = incidents(&org, &config).collect();
    (org, bundles)
}

#[test]
fn every_kind_severity_and_status_appears() {
    let (_, bundles) = demo(1, 2_000);
    let kinds: HashSet<_> = bundles.iter().map(|b| b.incident.kind).collect();
    let severities: HashSet<_> = bundles
        .iter()
        .map(|b| b.incident.severity.level())
        .collect();
    let statuses: HashSet<_> = bundles.iter().map(|b| b.status).collect();
    assert_eq!(kinds.len(), IncidentKind::ALL.len());
    assert_eq!(severities, HashSet::from([1, 2, 3, 4]));
    assert_eq!(statuses.len(), PostmortemStatus::ALL.len(), "{statuses:?}");
}

#[test]
fn severities_are_skewed_towards_the_mild() {
    let (_, bundles) = demo(1, 2_000);
    let count = |level| {
        bundles
            .iter()
            .filter(|b| b.incident.severity.level() == level)
            .count()
    };
    assert!(count(1) * 5 < count(3), "{} vs {}", count(1), count(3));
    assert!(count(1) * 5 < count(4));
}

#[test]
fn incidents_fall_in_the_two_years_before_today_in_order() {
    let (_, bundles) = demo(2, 2_000);
    let now = TODAY.midnight().assume_utc();
    let mut previous = None;
    for bundle in &bundles {
        let started = bundle
            .incident
            .started_at
            .expect("every incident has a start");
        assert!(started < now && started > now - Duration::days(731));
        assert!(previous.is_none_or(|p| p <= started));
        previous = Some(started);
        assert!(bundle.created_at <= now);
    }
}

#[test]
fn timelines_have_ordered_markers_several_authors_and_links() {
    let (_, bundles) = demo(3, 2_000);
    let now = TODAY.midnight().assume_utc();
    let mut unresolved = 0;
    let mut offsets = HashSet::new();
    for bundle in &bundles {
        let timeline = &bundle.timeline;
        assert!((4..=14).contains(&timeline.len()));
        assert_eq!(timeline[0].entry.marker, Some(Marker::ImpactStart));
        assert_eq!(timeline[1].entry.marker, Some(Marker::Detected));
        assert!(
            timeline.windows(2).all(|w| w[0].entry.at <= w[1].entry.at),
            "{}",
            bundle.incident.title
        );
        assert!(timeline.iter().all(|e| e.entry.at < now));
        assert_eq!(Some(timeline[0].entry.at), bundle.incident.started_at);
        let markers: Vec<_> = timeline.iter().filter_map(|e| e.entry.marker).collect();
        if !markers.contains(&Marker::Resolved) {
            unresolved += 1;
            assert!(timeline[0].entry.at > now - Duration::days(4));
        } else {
            assert_eq!(markers.last(), Some(&Marker::Resolved));
        }
        for entry in timeline {
            offsets.insert(entry.entry.at.offset());
            let has_link = entry.entry.source_url.is_some();
            let linkable = matches!(
                entry.entry.source,
                Source::Chat | Source::Alert | Source::Deploy
            );
            assert_eq!(has_link, linkable);
        }
        let authors: HashSet<_> = timeline.iter().map(|e| &e.author).collect();
        assert!(authors.len() >= 2);
    }
    assert!(unresolved > 0, "some recent incidents are still open");
    assert!(offsets.len() >= 4, "{offsets:?}");
}

#[test]
fn most_timelines_say_what_someone_believed() {
    let (_, bundles) = demo(4, 2_000);
    let with_belief = bundles
        .iter()
        .filter(|b| {
            b.timeline
                .iter()
                .any(|e| e.entry.perspective == Perspective::Believed)
        })
        .count();
    assert!(with_belief * 2 > bundles.len(), "{with_belief}");
}

#[test]
fn impact_and_restriction_agree_with_the_kind() {
    let (_, bundles) = demo(5, 2_000);
    let mut restricted_others = 0;
    for bundle in &bundles {
        let incident = &bundle.incident;
        match incident.kind {
            IncidentKind::NearMiss => {
                assert!(!incident.impact.user_visible);
                assert_eq!(incident.template, TemplateName::lightweight());
            }
            IncidentKind::DataLoss => assert!(incident.impact.data_loss),
            IncidentKind::Security => assert!(incident.restricted),
            _ => restricted_others += usize::from(incident.restricted),
        }
        assert!(incident.impact.customer_minutes <= 600);
        assert!(!incident.services.is_empty() && incident.services.len() <= 3);
        assert!(!incident.teams.is_empty());
    }
    assert!(restricted_others > 0 && restricted_others < bundles.len() / 10);
}

#[test]
fn sections_match_the_status_and_template() {
    let (_, bundles) = demo(6, 2_000);
    for bundle in &bundles {
        let template = if bundle.incident.template == TemplateName::lightweight() {
            Template::lightweight()
        } else {
            Template::full()
        };
        let expected: Vec<_> = template.sections.iter().map(|s| &s.name).collect();
        let written: Vec<_> = bundle.sections.iter().map(|s| &s.name).collect();
        match bundle.status {
            PostmortemStatus::NotRequired | PostmortemStatus::Owed => assert!(written.is_empty()),
            PostmortemStatus::Draft => {
                assert!(!written.is_empty() && written.len() < expected.len());
                assert!(written.iter().all(|name| expected.contains(name)));
                assert!(written.is_sorted_by_key(|name| expected.iter().position(|e| e == name)));
            }
            _ => assert_eq!(written, expected),
        }
        assert!(bundle.sections.iter().all(|s| !s.body.is_blank()));
        if bundle.status == PostmortemStatus::NotRequired {
            assert_eq!(bundle.due_on, None);
        } else {
            let started = bundle.incident.started_at.unwrap().date();
            let due = bundle.due_on.expect("required reviews have a due date");
            // 5 to 10 business days: at least 5 calendar days (from a Sunday), at most 14.
            assert!(due >= started + Duration::days(5) && due <= started + Duration::days(14));
        }
    }
}

#[test]
fn reviews_agree_with_the_status() {
    let (org, bundles) = demo(7, 2_000);
    for bundle in &bundles {
        let decisions: Vec<_> = bundle.reviews.iter().map(|r| r.decision).collect();
        match bundle.status {
            PostmortemStatus::InReview => assert_eq!(decisions[0], ReviewDecision::Requested),
            PostmortemStatus::ChangesRequested => {
                assert!(decisions.contains(&ReviewDecision::ChangesRequested))
            }
            PostmortemStatus::Approved | PostmortemStatus::Published => {
                assert!(!decisions.is_empty());
                assert!(decisions.iter().all(|d| *d == ReviewDecision::Approved));
            }
            _ => assert!(decisions.is_empty()),
        }
        assert!(decisions.len() <= 2);
        for review in &bundle.reviews {
            let person = org
                .person(&review.reviewer)
                .expect("reviewer is in the org");
            assert!(person.role.can_review());
        }
    }
}

#[test]
fn factors_name_one_trigger_and_show_recurring_patterns() {
    let (org, bundles) = demo(8, 2_000);
    let mut one_trigger = 0;
    let mut by_service: HashMap<&str, HashMap<FactorCategory, usize>> = HashMap::new();
    for bundle in &bundles {
        assert!((1..=4).contains(&bundle.factors.len()));
        let triggers = bundle.factors.iter().filter(|f| f.is_trigger).count();
        assert!(triggers <= 1);
        one_trigger += usize::from(triggers == 1);
        let counts = by_service
            .entry(bundle.incident.services[0].as_str())
            .or_default();
        for factor in &bundle.factors {
            *counts.entry(factor.category).or_default() += 1;
        }
    }
    assert!(one_trigger * 10 > bundles.len() * 8, "{one_trigger}");
    // Each service's most frequent factor is its weak spot, for most services.
    let matching = org
        .services
        .iter()
        .filter(|service| {
            by_service.get(service.name.as_str()).is_some_and(|counts| {
                counts.iter().max_by_key(|(_, n)| **n).map(|(c, _)| *c) == Some(service.weak_spot)
            })
        })
        .count();
    assert!(matching * 4 > org.services.len() * 3, "{matching}");
}

#[test]
fn action_items_are_in_every_state_and_consistent() {
    let (_, bundles) = demo(9, 2_000);
    let mut statuses = HashSet::new();
    let (mut overdue, mut linked) = (0, 0);
    for bundle in &bundles {
        assert!(bundle.actions.len() <= 5);
        for action in &bundle.actions {
            let item = &action.item;
            statuses.insert(item.status);
            item.check().expect("wont_do items carry a reason");
            assert!(action.owner.is_some() && item.due_on.is_some() && item.team.is_some());
            assert!(!action.factor_indexes.is_empty());
            assert!(
                action
                    .factor_indexes
                    .iter()
                    .all(|&i| i < bundle.factors.len())
            );
            match item.status {
                ActionStatus::Done => {
                    assert!(action.completed_at.is_some() && item.verification.is_some());
                }
                ActionStatus::WontDo => {
                    assert!(action.completed_at.is_some() && item.wont_do_reason.is_some());
                }
                _ => assert!(action.completed_at.is_none()),
            }
            if let Some(done) = action.completed_at {
                assert!(done > bundle.incident.started_at.unwrap());
                assert!(done < TODAY.midnight().assume_utc());
            }
            overdue += usize::from(item.status.is_open() && item.due_on.unwrap() < TODAY);
            linked += usize::from(item.external_url.is_some());
        }
    }
    assert_eq!(statuses.len(), ActionStatus::ALL.len());
    assert!(overdue > 0 && linked > 0);
}

#[test]
fn everyone_named_belongs_to_the_organisation() {
    let (org, bundles) = demo(10, 2_000);
    let handles: HashSet<&Handle> = org.people.iter().map(|p| &p.handle).collect();
    for bundle in &bundles {
        assert!(handles.contains(&bundle.created_by));
        let named = bundle
            .timeline
            .iter()
            .map(|e| &e.author)
            .chain(bundle.sections.iter().map(|s| &s.updated_by))
            .chain(bundle.actions.iter().filter_map(|a| a.owner.as_ref()))
            .chain(bundle.reviews.iter().map(|r| &r.reviewer));
        for handle in named {
            assert!(handles.contains(handle), "{handle}");
            assert!(org.person(handle).unwrap().role.can_write());
        }
    }
}

#[test]
fn titles_are_mostly_distinct() {
    let (_, bundles) = demo(11, 2_000);
    let titles: HashSet<_> = bundles.iter().map(|b| b.incident.title.as_str()).collect();
    assert!(titles.len() * 10 > bundles.len() * 9, "{}", titles.len());
}

#[test]
fn the_same_seed_gives_the_same_data_and_another_seed_does_not() {
    assert_eq!(demo(12, 300), demo(12, 300));
    assert_ne!(demo(12, 300).1, demo(13, 300).1);
}

#[test]
fn any_incident_can_be_generated_alone_or_from_a_split() {
    let org = organisation(14);
    let config = DemoConfig {
        n_incidents: 100,
        seed: 14,
        today: TODAY,
    };
    let all: Vec<_> = incidents(&org, &config).collect();
    let (first, second) = incidents(&org, &config).split_at(40);
    assert_eq!(first.len(), 40);
    let rejoined: Vec<_> = first.chain(second).collect();
    assert_eq!(rejoined, all);
    assert_eq!(incidents(&org, &config).bundle(73), all[73]);
    assert_eq!(incidents(&org, &config).nth(73).as_ref(), Some(&all[73]));
}

/// Incidents naming `service` with a factor of `category`, by start.
fn with_condition<'a>(
    bundles: &'a [IncidentBundle],
    service: &str,
    category: FactorCategory,
) -> Vec<&'a IncidentBundle> {
    bundles
        .iter()
        .filter(|b| {
            b.incident.services.iter().any(|s| s.as_str() == service)
                && b.factors.iter().any(|f| f.category == category)
        })
        .collect()
}

/// When the first prevent item on `category` among `incidents` was done.
fn first_fix(incidents: &[&IncidentBundle], category: FactorCategory) -> time::OffsetDateTime {
    incidents
        .iter()
        .flat_map(|b| {
            b.actions.iter().filter(|a| {
                a.item.kind == postmortem_core::ActionKind::Prevent
                    && a.item.status == ActionStatus::Done
                    && a.factor_indexes
                        .iter()
                        .any(|&i| b.factors[i].category == category)
            })
        })
        .filter_map(|a| a.completed_at)
        .min()
        .expect("the story's fix was done")
}

#[test]
fn a_fix_that_held_ends_its_condition_and_one_that_did_not_is_followed_by_more() {
    let (_, bundles) = demo(15, 2_000);
    let pool = with_condition(&bundles, "payments-api", FactorCategory::Capacity);
    assert!(pool.len() >= 30, "{}", pool.len());
    let fixed = first_fix(&pool, FactorCategory::Capacity);
    assert!(pool.iter().all(|b| b.incident.started_at.unwrap() < fixed));

    let certificates = with_condition(&bundles, "tls-certs", FactorCategory::Alerting);
    let fixed = first_fix(&certificates, FactorCategory::Alerting);
    let after = certificates
        .iter()
        .filter(|b| b.incident.started_at.unwrap() > fixed)
        .count();
    assert!(
        after * 2 > certificates.len(),
        "{after} of {}",
        certificates.len()
    );
}

#[test]
fn some_teams_report_near_misses_and_some_never_do() {
    let (_, bundles) = demo(16, 2_000);
    let near_misses = |team: &str| {
        bundles
            .iter()
            .filter(|b| b.incident.kind == IncidentKind::NearMiss)
            .filter(|b| b.incident.teams.iter().any(|t| t.as_str() == team))
            .count()
    };
    assert_eq!(near_misses("billing"), 0);
    assert_eq!(near_misses("mobile"), 0);
    assert!(near_misses("sre") > 20, "{}", near_misses("sre"));
}

#[test]
fn identity_detects_faster_in_its_last_half_year_than_in_its_first() {
    let (_, bundles) = demo(17, 2_000);
    let now = TODAY.midnight().assume_utc();
    let median_detection = |from_days_ago: i64, until_days_ago: i64| {
        let mut minutes: Vec<i64> = bundles
            .iter()
            .filter(|b| b.incident.services[0].as_str() == "auth-service")
            .filter(|b| {
                let started = b.incident.started_at.unwrap();
                started >= now - Duration::days(from_days_ago)
                    && started < now - Duration::days(until_days_ago)
            })
            .map(|b| (b.timeline[1].entry.at - b.timeline[0].entry.at).whole_minutes())
            .collect();
        minutes.sort_unstable();
        minutes[minutes.len() / 2]
    };
    let (first, last) = (median_detection(731, 548), median_detection(183, 0));
    assert!(last * 2 < first, "{first} then {last}");
}
