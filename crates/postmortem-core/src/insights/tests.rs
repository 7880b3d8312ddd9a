//! The insights report from counts: quarters, percentiles, findings and the anonymity rule.

use super::*;
use time::macros::date;

#[test]
fn quarters_span_the_calendar_and_keep_the_latest() {
    let span = Quarter::span(date!(2025 - 11 - 30), date!(2026 - 04 - 01));
    let labels: Vec<String> = span.iter().map(|q| q.label()).collect();
    assert_eq!(labels, ["2025 Q4", "2026 Q1", "2026 Q2"]);
    assert_eq!(span[0].end(), date!(2026 - 01 - 01));
    assert_eq!(
        Quarter::span(date!(2000 - 01 - 01), date!(2026 - 01 - 01)).len(),
        MAX_QUARTERS
    );
}

#[test]
fn percentiles_are_read_off_the_histogram_as_bucket_bounds() {
    let mut d = Distribution::default();
    d.add(0, 50); // under 5 minutes
    d.add(3, 40); // under an hour
    d.add(10, 10); // over a week
    let d = d.read_percentiles(&DURATION_BUCKETS_MINUTES);
    assert_eq!(d.p50_at_most_minutes, Some(5));
    assert_eq!(d.p90_at_most_minutes, Some(60));
    assert_eq!(d.p99_at_most_minutes, None, "past the last bound");
}

fn cell(category: FactorCategory, quarter: usize, hidden: bool, n: u64) -> FactorCell {
    FactorCell {
        category,
        quarter,
        hidden,
        as_trigger: 0,
        as_condition: n,
        incidents: n,
    }
}

fn counts(factors: Vec<FactorCell>) -> InsightCounts {
    InsightCounts {
        quarters: Quarter::span(date!(2026 - 01 - 01), date!(2026 - 06 - 30)),
        factors,
        ..InsightCounts::default()
    }
}

#[test]
fn a_category_that_doubled_is_the_finding() {
    let report = Insights::from_counts(
        &InsightFilter::default(),
        counts(vec![
            cell(FactorCategory::Alerting, 0, false, 3),
            cell(FactorCategory::Alerting, 1, false, 6),
            cell(FactorCategory::Capacity, 0, false, 8),
            cell(FactorCategory::Capacity, 1, false, 8),
        ]),
    );
    assert_eq!(
        report.recurring_factors.finding,
        "Missing or noisy alerting doubled since 2026 Q1"
    );
    let by_category = &report.recurring_factors.by_category;
    assert_eq!(
        by_category[0].category,
        FactorCategory::Capacity,
        "most incidents first"
    );
    let alerting = &by_category[1];
    assert_eq!(alerting.trend, "up");
    assert_eq!(
        alerting.per_quarter[1].list.as_deref(),
        Some("/incidents?from=2026-04-01&until=2026-07-01&factor=alerting")
    );
}

#[test]
fn restricted_incidents_count_only_in_big_cells_of_the_whole_report() {
    let cells = vec![
        cell(FactorCategory::Alerting, 0, false, 2),
        cell(FactorCategory::Alerting, 0, true, 5),
        cell(FactorCategory::Capacity, 0, true, 1),
        cell(FactorCategory::Overload, 1, true, 4),
    ];
    let whole = Insights::from_counts(&InsightFilter::default(), counts(cells.clone()));
    let alerting = &whole.recurring_factors.by_category[0];
    assert_eq!(alerting.total.count, 2, "hidden incidents are never linked");
    assert_eq!(alerting.restricted, [5, 0]);
    assert_eq!(
        whole.recurring_factors.restricted_elsewhere,
        [0, 0],
        "one and four are each too few, even folded together per quarter"
    );
    let narrowed = InsightFilter {
        team: Some(Name::parse("payments").unwrap()),
        ..InsightFilter::default()
    };
    let report = Insights::from_counts(&narrowed, counts(cells));
    assert!(
        report
            .recurring_factors
            .by_category
            .iter()
            .all(|s| s.restricted.iter().all(|&c| c == 0)),
        "a narrowed report never counts them"
    );
}
