//! Insights: the SQL counts behind `/insights` agree with the incidents written, on both
//! backends, and restricted incidents are only ever counted flagged as hidden.

use super::*;
use postmortem_core::insights::{DurationMetric, InsightCounts, InsightFilter};

fn at(day: &str) -> time::OffsetDateTime {
    parse_instant("started_at", &format!("{day}T10:00:00Z")).unwrap()
}

async fn recorded(
    db: &TestDb,
    who: UserId,
    day: &str,
    service: &str,
    category: FactorCategory,
    restricted: bool,
) -> IncidentId {
    let mut new = incident(&format!("Queue backlog in {service}"), "SEV2", &[service]);
    new.started_at = Some(at(day));
    new.restricted = restricted;
    let id = db
        .store
        .create_incident(Actor::user(who), new, owed())
        .await
        .unwrap();
    db.store
        .add_factor(
            Actor::user(who),
            id,
            NewFactor {
                category,
                description: text("Alerts on the queue depth were missing."),
                is_trigger: false,
            },
        )
        .await
        .unwrap();
    id
}

async fn counts(db: &TestDb, filter: &InsightFilter, visibility: Visibility) -> InsightCounts {
    db.store
        .insight_counts(filter, visibility, time::macros::date!(2026 - 06 - 01))
        .await
        .unwrap()
}

postmortem_store::backend_tests! {
    async fn factors_are_counted_per_category_and_quarter_and_restricted_ones_flagged_hidden(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Viewer).await;
        recorded(&db, dana, "2026-01-10", "queue", FactorCategory::Alerting, false).await;
        recorded(&db, dana, "2026-04-10", "queue", FactorCategory::Alerting, false).await;
        recorded(&db, dana, "2026-04-20", "queue", FactorCategory::Alerting, false).await;
        recorded(&db, dana, "2026-04-21", "queue", FactorCategory::Alerting, true).await;

        let whole = counts(&db, &InsightFilter::default(), Visibility::Person(sam)).await;
        let labels: Vec<String> = whole.quarters.iter().map(|q| q.label()).collect();
        assert_eq!(labels, ["2026 Q1", "2026 Q2"]);
        let mut cells: Vec<(usize, bool, u64)> = whole.factors.iter().map(|c| (c.quarter, c.hidden, c.incidents)).collect();
        cells.sort();
        assert_eq!(cells, [(0, false, 1), (1, false, 2), (1, true, 1)]);

        let narrowed = InsightFilter { service: Some(Name::parse("queue").unwrap()), ..InsightFilter::default() };
        let cells: Vec<(usize, bool, u64)> = counts(&db, &narrowed, Visibility::Person(sam)).await.factors.iter().map(|c| (c.quarter, c.hidden, c.incidents)).collect();
        assert!(cells.iter().all(|(_, hidden, _)| !hidden), "a narrowed report leaves them out: {cells:?}");
        assert_eq!(cells.iter().map(|c| c.2).sum::<u64>(), 3);

        let admin = counts(&db, &InsightFilter::default(), Visibility::Everything).await;
        assert_eq!(admin.factors.iter().map(|c| c.incidents).sum::<u64>(), 4);
        assert!(admin.factors.iter().all(|c| !c.hidden));
        let pair = &admin.factor_services[0];
        assert_eq!((pair.service.as_str(), pair.incidents), ("queue", 4));
    }

    async fn durations_near_misses_and_actions_are_counted_by_outcome(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let first = recorded(&db, dana, "2026-01-10", "queue", FactorCategory::Alerting, false).await;
        db.store.add_timeline_entry(Actor::user(dana), first, entry("2026-01-10T10:20:00Z", Some(Marker::Detected))).await.unwrap();
        db.store.add_timeline_entry(Actor::user(dana), first, entry("2026-01-10T13:00:00Z", Some(Marker::Resolved))).await.unwrap();
        let mut fix = action("Alert on queue depth");
        fix.due_on = Some(time::macros::date!(2026 - 02 - 01));
        let fix = db.store.add_action(Actor::user(dana), first, fix).await.unwrap();
        db.clock.set(at("2026-01-20"));
        db.store.update_action(Actor::user(dana), fix.id, ActionUpdate { status: Some(ActionStatus::Done), verification: Some("Paged in a drill.".into()), ..Default::default() }).await.unwrap();
        let mut late = action("Document the queue");
        late.due_on = Some(time::macros::date!(2026 - 03 - 01));
        db.store.add_action(Actor::user(dana), first, late).await.unwrap();
        // The same condition in the same service, after the fix was done.
        recorded(&db, dana, "2026-02-15", "queue", FactorCategory::Alerting, false).await;
        recorded(&db, dana, "2026-03-01", "queue", FactorCategory::Alerting, false).await;
        let mut near = incident("Queue nearly full", "SEV4", &["queue"]);
        near.kind = IncidentKind::NearMiss;
        near.started_at = Some(at("2026-02-16"));
        db.store.create_incident(Actor::user(dana), near, owed()).await.unwrap();

        let counts = counts(&db, &InsightFilter::default(), Visibility::Everything).await;
        let detect: Vec<(usize, u64)> = counts.durations.iter().filter(|c| c.metric == DurationMetric::Detect).map(|c| (c.bucket, c.incidents)).collect();
        assert_eq!(detect, [(2, 1)], "20 minutes falls under the 30-minute bound");
        let resolve: Vec<usize> = counts.durations.iter().filter(|c| c.metric == DurationMetric::Resolve).map(|c| c.bucket).collect();
        assert_eq!(resolve, [5], "3 hours falls under the 4-hour bound (the sixth)");
        let near_misses: u64 = counts.kinds.iter().filter(|c| c.near_miss).map(|c| c.incidents).sum();
        assert_eq!(near_misses, 1);
        let done = counts.actions.iter().find(|c| c.status == ActionStatus::Done).unwrap();
        assert!(done.verified && done.on_time && done.recurred, "{done:?}");
        let open = counts.actions.iter().find(|c| c.status == ActionStatus::Open).unwrap();
        assert!(open.overdue && !open.recurred, "{open:?}");
        let theme = &counts.themes[0];
        assert_eq!((theme.service.as_str(), theme.incidents, theme.incidents_after_done), ("queue", 3, 2));
        assert_eq!(theme.earliest_done.as_ref().map(|(title, _)| title.as_str()), Some("Alert on queue depth"));
    }

    async fn a_fix_counts_as_not_holding_only_when_it_was_a_prevent_item_aimed_at_the_condition(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let first = recorded(&db, dana, "2026-01-10", "queue", FactorCategory::Alerting, false).await;
        let disk = db.store.add_factor(Actor::user(dana), first, NewFactor {
            category: FactorCategory::Capacity,
            description: text("The disk was small."),
            is_trigger: false,
        }).await.unwrap();
        let mut sooner = action("Page on queue depth");
        sooner.kind = ActionKind::Detect;
        let sooner = db.store.add_action(Actor::user(dana), first, sooner).await.unwrap();
        let mut bigger = action("Grow the queue disk");
        bigger.factor_ids = vec![disk.id];
        let bigger = db.store.add_action(Actor::user(dana), first, bigger).await.unwrap();
        db.clock.set(at("2026-01-20"));
        for id in [sooner.id, bigger.id] {
            db.store.update_action(Actor::user(dana), id, ActionUpdate { status: Some(ActionStatus::Done), verification: Some("Checked.".into()), ..Default::default() }).await.unwrap();
        }
        // Missing alerts came back in the queue; a full disk did not.
        recorded(&db, dana, "2026-02-15", "queue", FactorCategory::Alerting, false).await;
        recorded(&db, dana, "2026-03-01", "queue", FactorCategory::Alerting, false).await;

        let counts = counts(&db, &InsightFilter::default(), Visibility::Everything).await;
        let theme = counts.themes.iter().find(|t| t.category == FactorCategory::Alerting).unwrap();
        assert_eq!((theme.incidents, theme.incidents_after_done), (3, 0), "neither item was a prevent item aimed at alerting");
        assert_eq!(theme.earliest_done, None);
        let recurred = |kind: ActionKind| counts.actions.iter().find(|c| c.kind == kind && c.status == ActionStatus::Done).unwrap().recurred;
        assert!(recurred(ActionKind::Detect), "an item naming no factor answers for its whole incident");
        assert!(!recurred(ActionKind::Prevent), "the disk it was aimed at did not fill again");
    }
}
