//! Insights across incidents: which conditions recur and where, whether fixes changed the
//! system, how long incidents take to detect, mitigate and resolve, and how cheaply teams
//! learn from near misses.
//!
//! The store counts (SQL aggregates, so no request reads every incident); this module turns
//! those counts into the report: quarters, trends, percentiles from histograms, findings in
//! words, and the rule that keeps restricted incidents anonymous. Pure: no I/O.

mod tables;

pub use tables::{Chart, Table};

use crate::{ActionKind, FactorCategory, IncidentKind, Name, Severity};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, Month};

/// Restricted incidents a reader may not see are counted only in cells of at least this
/// many incidents.
pub const MIN_ANONYMOUS_CELL: u64 = 5;

/// The most quarters a report spans; older incidents are left out of quarterly series.
pub const MAX_QUARTERS: usize = 40;

/// Which incidents a report covers. Every field narrows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InsightFilter {
    /// Incidents that started on or after this day.
    pub from: Option<Date>,
    /// Incidents that started on or before this day.
    pub to: Option<Date>,
    pub team: Option<Name>,
    pub service: Option<Name>,
    pub kind: Option<IncidentKind>,
    pub severity: Option<Severity>,
}

impl InsightFilter {
    /// Whether nothing narrows the report. Only then may restricted incidents a reader cannot
    /// see be counted (anonymously): comparing two narrowed reports could otherwise single
    /// one out.
    pub fn is_everything(&self) -> bool {
        *self == Self::default()
    }

    /// The query string of the incident list showing the same incidents, plus `extra`.
    fn list_link(&self, extra: &[(&str, String)]) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if let Some(team) = &self.team {
            pairs.push(("team", team.as_str().to_owned()));
        }
        if let Some(service) = &self.service {
            pairs.push(("service", service.as_str().to_owned()));
        }
        if let Some(kind) = self.kind {
            pairs.push(("kind", kind.as_str().to_owned()));
        }
        if let Some(severity) = self.severity {
            pairs.push(("severity", severity.to_string()));
        }
        if let Some(from) = self.from {
            pairs.push(("from", crate::format_date(from)));
        }
        if let Some(to) = self.to.and_then(Date::next_day) {
            pairs.push(("until", crate::format_date(to)));
        }
        for (key, value) in extra {
            // A narrower bound from `extra` replaces the filter's own.
            pairs.retain(|(k, _)| k != key);
            pairs.push((key, value.clone()));
        }
        let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("/incidents?{}", query.join("&"))
    }
}

/// A calendar quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    year: i32,
    /// 1 to 4.
    number: u8,
}

impl Quarter {
    pub fn of(day: Date) -> Self {
        Self {
            year: day.year(),
            number: (u8::from(day.month()) - 1) / 3 + 1,
        }
    }

    pub fn first_day(self) -> Date {
        let month = Month::try_from((self.number - 1) * 3 + 1).unwrap_or(Month::January);
        Date::from_calendar_date(self.year, month, 1).unwrap_or(Date::MIN)
    }

    pub fn next(self) -> Self {
        if self.number == 4 {
            Self {
                year: self.year + 1,
                number: 1,
            }
        } else {
            Self {
                year: self.year,
                number: self.number + 1,
            }
        }
    }

    /// The first day after the quarter.
    pub fn end(self) -> Date {
        self.next().first_day()
    }

    /// "2026 Q3".
    pub fn label(self) -> String {
        format!("{} Q{}", self.year, self.number)
    }

    /// The quarters from the one holding `first` to the one holding `last`, at most
    /// [`MAX_QUARTERS`] of them (the latest ones).
    pub fn span(first: Date, last: Date) -> Vec<Quarter> {
        let (first, last) = (Self::of(first.min(last)), Self::of(first.max(last)));
        let mut quarters = vec![first];
        while let Some(&current) = quarters.last() {
            if current >= last {
                break;
            }
            quarters.push(current.next());
        }
        let skip = quarters.len().saturating_sub(MAX_QUARTERS);
        quarters.split_off(skip)
    }
}

impl Serialize for Quarter {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.label())
    }
}

/// Upper bounds, in minutes, of the duration histogram's buckets; a last bucket holds the rest.
pub const DURATION_BUCKETS_MINUTES: [i64; 10] = [5, 15, 30, 60, 120, 240, 480, 1440, 2880, 10080];

/// Upper bounds, in days, of the lead-time histogram's buckets; a last bucket holds the rest.
pub const LEAD_TIME_BUCKETS_DAYS: [i64; 7] = [1, 3, 7, 14, 30, 60, 90];

/// Which duration a histogram measures, each from the start of impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DurationMetric {
    Detect,
    Mitigate,
    Resolve,
}

impl DurationMetric {
    pub const ALL: [DurationMetric; 3] = [Self::Detect, Self::Mitigate, Self::Resolve];

    /// The timeline marker that ends the duration.
    pub fn marker(self) -> &'static str {
        match self {
            Self::Detect => "detected",
            Self::Mitigate => "mitigated",
            Self::Resolve => "resolved",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Self::Detect => "Time to detect",
            Self::Mitigate => "Time to mitigate",
            Self::Resolve => "Time to resolve",
        }
    }
}

// ---- What the store counts -------------------------------------------------------------

/// Incidents with factors of one category in one quarter. `hidden` cells hold restricted
/// incidents the reader may not see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorCell {
    pub category: FactorCategory,
    pub quarter: usize,
    pub hidden: bool,
    /// Incidents where a factor of the category was the trigger.
    pub as_trigger: u64,
    /// Incidents where a factor of the category was a condition (not the trigger).
    pub as_condition: u64,
    /// Incidents with the category at all.
    pub incidents: u64,
}

/// A contributing-factor category and a service that keep meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactorService {
    pub category: FactorCategory,
    pub service: Name,
    pub incidents: u64,
}

/// Incidents whose duration fell in one histogram bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DurationCell {
    pub metric: DurationMetric,
    pub severity: Severity,
    pub quarter: usize,
    /// Index into [`DURATION_BUCKETS_MINUTES`], or its length for the rest.
    pub bucket: usize,
    pub incidents: u64,
}

/// Incidents (near misses or not) of one team in one quarter. `team` is `None` for
/// incidents naming no team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KindCell {
    pub team: Option<Name>,
    pub quarter: usize,
    pub near_miss: bool,
    pub incidents: u64,
}

/// Action items sharing kind, team and outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionCell {
    pub kind: ActionKind,
    pub team: Option<Name>,
    pub status: crate::ActionStatus,
    /// Done with a written verification.
    pub verified: bool,
    /// Still open past its due date.
    pub overdue: bool,
    /// Has a due date.
    pub due: bool,
    /// Done by its due date.
    pub on_time: bool,
    /// Done, and an incident with one of its incident's services and factor categories
    /// started after it was done.
    pub recurred: bool,
    pub actions: u64,
}

/// A group of incidents sharing a service and a factor category, as the store found it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThemeFacts {
    pub category: FactorCategory,
    pub service: Name,
    pub incidents: u64,
    pub first: Date,
    pub last: Date,
    pub teams: Vec<Name>,
    /// Titles of the theme's latest incidents, for its label.
    pub titles: Vec<String>,
    pub actions: u64,
    pub actions_done: u64,
    /// The earliest action done in the theme, and how many of the theme's incidents
    /// started after it was done.
    pub earliest_done: Option<(String, Date)>,
    pub incidents_after_done: u64,
}

/// Everything the store counted for one report.
#[derive(Debug, Clone, Default)]
pub struct InsightCounts {
    pub quarters: Vec<Quarter>,
    pub factors: Vec<FactorCell>,
    pub factor_services: Vec<FactorService>,
    pub durations: Vec<DurationCell>,
    pub kinds: Vec<KindCell>,
    /// Days from recording to publishing, by bucket of [`LEAD_TIME_BUCKETS_DAYS`].
    pub lead_times: Vec<(usize, u64)>,
    pub actions: Vec<ActionCell>,
    pub themes: Vec<ThemeFacts>,
}

// ---- The report --------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct Insights {
    pub quarters: Vec<Quarter>,
    pub recurring_factors: RecurringFactors,
    pub themes: Vec<Theme>,
    pub action_effectiveness: ActionEffectiveness,
    pub durations: Durations,
    pub near_misses: NearMisses,
}

/// A count and the incident list that shows exactly those incidents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Linked {
    pub count: u64,
    /// Where the incidents are listed; `None` for counts that hold incidents the reader may
    /// not see.
    pub list: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecurringFactors {
    /// The finding, in words, such as "Missing or noisy alerting doubled since 2026 Q2".
    pub finding: String,
    pub by_category: Vec<CategorySeries>,
    /// Per quarter, restricted incidents the reader may not see, counted only where at least
    /// [`MIN_ANONYMOUS_CELL`] share a cell; never named, never linked.
    pub restricted_elsewhere: Vec<u64>,
    pub triggers: u64,
    pub conditions: u64,
    pub top_services: Vec<CategoryService>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategorySeries {
    pub category: FactorCategory,
    pub label: &'static str,
    /// Incidents per quarter, aligned with [`Insights::quarters`].
    pub per_quarter: Vec<Linked>,
    pub total: Linked,
    pub as_trigger: u64,
    pub as_condition: u64,
    /// The last quarter against the one before it: "up", "down", "flat" or "new".
    pub trend: &'static str,
    /// Restricted incidents the reader may not see, per quarter, in cells of at least
    /// [`MIN_ANONYMOUS_CELL`] (else 0: folded into `restricted_elsewhere`).
    pub restricted: Vec<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryService {
    pub category: FactorCategory,
    pub label: &'static str,
    pub service: Name,
    pub incidents: Linked,
}

#[derive(Debug, Clone, Serialize)]
pub struct Theme {
    /// Its most distinctive words and where it happens.
    pub label: String,
    pub category: FactorCategory,
    pub service: Name,
    pub incidents: Linked,
    pub first: String,
    pub last: String,
    pub teams: Vec<Name>,
    pub actions: u64,
    pub actions_done: u64,
    /// An incident of the theme started after an earlier incident's action was done: that
    /// action did not change the system.
    pub fix_did_not_hold: bool,
    /// In words, when the flag is set.
    pub why: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionEffectiveness {
    pub finding: String,
    pub by_kind: Vec<KindEffect>,
    pub total: u64,
    pub done: u64,
    pub verified: u64,
    pub wont_do: u64,
    pub overdue: u64,
    pub done_on_time: u64,
    /// Shares of all items, 0 to 1 (`None` when there are no items).
    pub shares: Shares,
    pub teams: Vec<TeamFollowThrough>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Shares {
    pub done: Option<f64>,
    pub verified: Option<f64>,
    pub wont_do: Option<f64>,
    pub overdue: Option<f64>,
    /// Of the items done that had a due date, those done by it.
    pub done_on_time: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KindEffect {
    pub kind: ActionKind,
    pub done: u64,
    /// Done, and the same condition came back in the same service afterwards.
    pub recurred: u64,
    /// Share of done items after which the condition did not come back.
    pub held: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamFollowThrough {
    /// `None` for items no team owns.
    pub team: Option<Name>,
    pub total: u64,
    pub open: u64,
    pub overdue: u64,
    pub done_on_time_share: Option<f64>,
    pub wont_do_share: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Durations {
    pub finding: String,
    /// Upper bounds of the histogram buckets, in minutes; the last bucket is "longer".
    pub bucket_minutes: Vec<i64>,
    pub detect: MetricDurations,
    pub mitigate: MetricDurations,
    pub resolve: MetricDurations,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricDurations {
    pub all: Distribution,
    pub by_severity: Vec<(Severity, Distribution)>,
    /// Aligned with [`Insights::quarters`].
    pub by_quarter: Vec<Distribution>,
}

/// A histogram with the percentiles read off it: each percentile is the upper bound of the
/// bucket holding it (`None` past the last bound), never a mean.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Distribution {
    pub count: u64,
    pub histogram: Vec<u64>,
    pub p50_at_most_minutes: Option<i64>,
    pub p90_at_most_minutes: Option<i64>,
    pub p99_at_most_minutes: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NearMisses {
    pub finding: String,
    pub teams: Vec<TeamNearMisses>,
    pub bucket_days: Vec<i64>,
    /// Recorded to published, in days, by bucket of `bucket_days` (the last is "longer").
    pub lead_time: Vec<u64>,
    pub lead_time_p50_at_most_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TeamNearMisses {
    pub team: Option<Name>,
    /// Per quarter, aligned with [`Insights::quarters`].
    pub near_misses: Vec<u64>,
    pub incidents: Vec<u64>,
    pub near_miss_total: Linked,
    pub incident_total: u64,
}

// ---- Assembly ------------------------------------------------------------------------------

impl Insights {
    /// The report for `filter` from what the store counted.
    pub fn from_counts(filter: &InsightFilter, counts: InsightCounts) -> Self {
        let quarters = counts.quarters.clone();
        Self {
            recurring_factors: recurring_factors(filter, &counts),
            themes: themes(filter, &counts),
            action_effectiveness: action_effectiveness(&counts),
            durations: durations(&counts),
            near_misses: near_misses(filter, &counts),
            quarters,
        }
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn quarter_link(filter: &InsightFilter, quarter: Quarter, extra: &[(&str, String)]) -> String {
    let mut pairs = vec![
        ("from", crate::format_date(quarter.first_day())),
        ("until", crate::format_date(quarter.end())),
    ];
    pairs.extend(extra.iter().cloned());
    filter.list_link(&pairs)
}

fn recurring_factors(filter: &InsightFilter, counts: &InsightCounts) -> RecurringFactors {
    let n = counts.quarters.len();
    let mut series: BTreeMap<FactorCategory, CategorySeries> = BTreeMap::new();
    let mut small_hidden = vec![0u64; n];
    let (mut triggers, mut conditions) = (0, 0);
    for cell in &counts.factors {
        if cell.quarter >= n {
            continue;
        }
        let entry = series
            .entry(cell.category)
            .or_insert_with(|| CategorySeries {
                category: cell.category,
                label: cell.category.label(),
                per_quarter: vec![
                    Linked {
                        count: 0,
                        list: None
                    };
                    n
                ],
                total: Linked {
                    count: 0,
                    list: Some(filter.list_link(&[("factor", cell.category.as_str().to_owned())])),
                },
                as_trigger: 0,
                as_condition: 0,
                trend: "flat",
                restricted: vec![0; n],
            });
        if cell.hidden {
            // Only the whole, unnarrowed report counts them, and only in big enough cells.
            if !filter.is_everything() {
                continue;
            }
            if cell.incidents >= MIN_ANONYMOUS_CELL {
                entry.restricted[cell.quarter] += cell.incidents;
            } else {
                small_hidden[cell.quarter] += cell.incidents;
            }
            continue;
        }
        let quarter = counts.quarters[cell.quarter];
        let slot = &mut entry.per_quarter[cell.quarter];
        slot.count += cell.incidents;
        slot.list = Some(quarter_link(
            filter,
            quarter,
            &[("factor", cell.category.as_str().to_owned())],
        ));
        entry.total.count += cell.incidents;
        entry.as_trigger += cell.as_trigger;
        entry.as_condition += cell.as_condition;
        triggers += cell.as_trigger;
        conditions += cell.as_condition;
    }
    let restricted_elsewhere = small_hidden
        .into_iter()
        .map(|c| if c >= MIN_ANONYMOUS_CELL { c } else { 0 })
        .collect();
    let mut by_category: Vec<CategorySeries> = series
        .into_values()
        .filter(|s| s.total.count > 0 || s.restricted.iter().any(|&c| c > 0))
        .collect();
    for s in &mut by_category {
        s.trend = trend(&s.per_quarter);
    }
    by_category.sort_by(|a, b| {
        b.total
            .count
            .cmp(&a.total.count)
            .then(a.category.cmp(&b.category))
    });
    let finding = factor_finding(&by_category, &counts.quarters);
    RecurringFactors {
        finding,
        by_category,
        restricted_elsewhere,
        triggers,
        conditions,
        top_services: counts
            .factor_services
            .iter()
            .take(10)
            .map(|pair| CategoryService {
                category: pair.category,
                label: pair.category.label(),
                service: pair.service.clone(),
                incidents: Linked {
                    count: pair.incidents,
                    list: Some(filter.list_link(&[
                        ("factor", pair.category.as_str().to_owned()),
                        ("service", pair.service.as_str().to_owned()),
                    ])),
                },
            })
            .collect(),
    }
}

fn trend(per_quarter: &[Linked]) -> &'static str {
    match per_quarter {
        [.., previous, last] => match (previous.count, last.count) {
            (0, 0) => "flat",
            (0, _) => "new",
            (p, l) if l * 4 >= p * 5 => "up",
            (p, l) if l * 5 <= p * 4 => "down",
            _ => "flat",
        },
        _ => "flat",
    }
}

/// The sentence a chart's title states: the category that grew most, else the commonest.
fn factor_finding(series: &[CategorySeries], quarters: &[Quarter]) -> String {
    let [.., previous_quarter, _] = quarters else {
        return match series.first() {
            Some(top) => format!("{} is the commonest condition", top.label),
            None => "No contributing factors recorded yet".to_owned(),
        };
    };
    let growth = |s: &CategorySeries| -> (u64, u64) {
        let n = s.per_quarter.len();
        (s.per_quarter[n - 2].count, s.per_quarter[n - 1].count)
    };
    let grown = series
        .iter()
        .filter(|s| {
            let (p, l) = growth(s);
            p > 0 && l >= p * 2 && l >= 3
        })
        .max_by_key(|s| growth(s).1);
    match (grown, series.first()) {
        (Some(s), _) => {
            let (p, l) = growth(s);
            let factor = l as f64 / p as f64;
            let how = if factor >= 3.0 {
                format!("grew {factor:.0}×")
            } else {
                "doubled".to_owned()
            };
            format!("{} {how} since {}", s.label, previous_quarter.label())
        }
        (None, Some(top)) => format!(
            "{} is the commonest condition: {} incidents",
            top.label, top.total.count
        ),
        (None, None) => "No contributing factors recorded yet".to_owned(),
    }
}

/// Words too common in titles to label a theme.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "of", "to", "in", "on", "for", "at", "by", "from", "with", "after",
    "during", "while", "was", "were", "is", "are", "not", "no", "into", "over", "under", "via",
    "as", "its", "it", "be", "then", "when",
];

fn theme_label(facts: &ThemeFacts) -> String {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let service_words: Vec<String> = facts
        .service
        .as_str()
        .split(['-', '_', '.'])
        .map(str::to_owned)
        .collect();
    for title in &facts.titles {
        let mut seen = Vec::new();
        for word in title
            .split(|c: char| !c.is_alphanumeric())
            .map(str::to_lowercase)
            .filter(|w| w.len() > 2 && !STOP_WORDS.contains(&w.as_str()))
        {
            if !seen.contains(&word) && !service_words.contains(&word) {
                seen.push(word.clone());
                *counts.entry(word).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().filter(|(_, c)| *c >= 2).collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let top: Vec<&str> = words.iter().take(3).map(|(w, _)| w.as_str()).collect();
    if top.is_empty() {
        format!("{} in {}", facts.category.label(), facts.service)
    } else {
        format!(
            "{}: {} in {}",
            top.join(", "),
            facts.category.label().to_lowercase(),
            facts.service
        )
    }
}

fn themes(filter: &InsightFilter, counts: &InsightCounts) -> Vec<Theme> {
    counts
        .themes
        .iter()
        .map(|facts| {
            let fix_did_not_hold = facts.incidents_after_done > 0;
            let why = facts
                .earliest_done
                .as_ref()
                .filter(|_| fix_did_not_hold)
                .map(|(title, day)| {
                    format!(
                        "“{title}” was done on {}, and {} incident{} of this theme started after it",
                        crate::format_date(*day),
                        facts.incidents_after_done,
                        if facts.incidents_after_done == 1 { "" } else { "s" }
                    )
                });
            Theme {
                label: theme_label(facts),
                category: facts.category,
                service: facts.service.clone(),
                incidents: Linked {
                    count: facts.incidents,
                    list: Some(filter.list_link(&[
                        ("factor", facts.category.as_str().to_owned()),
                        ("service", facts.service.as_str().to_owned()),
                    ])),
                },
                first: crate::format_date(facts.first),
                last: crate::format_date(facts.last),
                teams: facts.teams.clone(),
                actions: facts.actions,
                actions_done: facts.actions_done,
                fix_did_not_hold,
                why,
            }
        })
        .collect()
}

fn action_effectiveness(counts: &InsightCounts) -> ActionEffectiveness {
    use crate::ActionStatus;
    let mut by_kind: BTreeMap<ActionKind, (u64, u64)> = BTreeMap::new();
    // Per team: items, open, overdue, done on time, done with a due date, won't do.
    type TeamCounts = (u64, u64, u64, u64, u64, u64);
    let mut teams: BTreeMap<Option<Name>, TeamCounts> = BTreeMap::new();
    let (mut total, mut done, mut verified, mut wont_do, mut overdue, mut on_time, mut due_done) =
        (0, 0, 0, 0, 0, 0, 0);
    for cell in &counts.actions {
        let n = cell.actions;
        total += n;
        let team = teams.entry(cell.team.clone()).or_default();
        team.0 += n;
        match cell.status {
            ActionStatus::Done => {
                done += n;
                let kind = by_kind.entry(cell.kind).or_default();
                kind.0 += n;
                if cell.recurred {
                    kind.1 += n;
                }
                if cell.verified {
                    verified += n;
                }
                if cell.on_time {
                    on_time += n;
                    team.3 += n;
                }
                if cell.due {
                    due_done += n;
                    team.4 += n;
                }
            }
            ActionStatus::WontDo => {
                wont_do += n;
                team.5 += n;
            }
            ActionStatus::Open | ActionStatus::InProgress => {
                team.1 += n;
                if cell.overdue {
                    overdue += n;
                    team.2 += n;
                }
            }
        }
    }
    let by_kind: Vec<KindEffect> = by_kind
        .into_iter()
        .map(|(kind, (done, recurred))| KindEffect {
            kind,
            done,
            recurred,
            held: share(done - recurred, done),
        })
        .collect();
    let finding = match by_kind
        .iter()
        .filter(|k| k.done >= 5)
        .min_by(|a, b| a.held.unwrap_or(1.0).total_cmp(&b.held.unwrap_or(1.0)))
    {
        Some(worst) if worst.recurred > 0 => format!(
            "After {} of {} done {} items the same condition came back in the same service",
            worst.recurred,
            worst.done,
            worst.kind.as_str()
        ),
        _ => format!("{done} of {total} action items are done; {verified} of them verified"),
    };
    ActionEffectiveness {
        finding,
        by_kind,
        total,
        done,
        verified,
        wont_do,
        overdue,
        done_on_time: on_time,
        shares: Shares {
            done: share(done, total),
            verified: share(verified, total),
            wont_do: share(wont_do, total),
            overdue: share(overdue, total),
            done_on_time: share(on_time, due_done),
        },
        teams: teams
            .into_iter()
            .map(
                |(team, (total, open, overdue, on_time, done, wont_do))| TeamFollowThrough {
                    team,
                    total,
                    open,
                    overdue,
                    done_on_time_share: share(on_time, done),
                    wont_do_share: share(wont_do, total),
                },
            )
            .collect(),
    }
}

impl Distribution {
    fn add(&mut self, bucket: usize, count: u64) {
        if self.histogram.is_empty() {
            self.histogram = vec![0; DURATION_BUCKETS_MINUTES.len() + 1];
        }
        if let Some(slot) = self.histogram.get_mut(bucket) {
            *slot += count;
            self.count += count;
        }
    }

    fn read_percentiles(mut self, bounds: &[i64]) -> Self {
        let at = |p: u64| -> Option<i64> {
            // The smallest bucket whose cumulative count reaches p percent of the whole.
            let rank = (self.count * p).div_ceil(100).max(1);
            let mut seen = 0;
            for (bucket, &count) in self.histogram.iter().enumerate() {
                seen += count;
                if seen >= rank {
                    return bounds.get(bucket).copied();
                }
            }
            None
        };
        if self.count > 0 {
            self.p50_at_most_minutes = at(50);
            self.p90_at_most_minutes = at(90);
            self.p99_at_most_minutes = at(99);
        }
        self
    }
}

fn durations(counts: &InsightCounts) -> Durations {
    let n = counts.quarters.len();
    let metric = |metric: DurationMetric| {
        let mut all = Distribution::default();
        let mut by_severity: BTreeMap<Severity, Distribution> = BTreeMap::new();
        let mut by_quarter = vec![Distribution::default(); n];
        for cell in counts.durations.iter().filter(|c| c.metric == metric) {
            all.add(cell.bucket, cell.incidents);
            by_severity
                .entry(cell.severity)
                .or_default()
                .add(cell.bucket, cell.incidents);
            if let Some(q) = by_quarter.get_mut(cell.quarter) {
                q.add(cell.bucket, cell.incidents);
            }
        }
        let bounds = &DURATION_BUCKETS_MINUTES;
        MetricDurations {
            all: all.read_percentiles(bounds),
            by_severity: by_severity
                .into_iter()
                .map(|(s, d)| (s, d.read_percentiles(bounds)))
                .collect(),
            by_quarter: by_quarter
                .into_iter()
                .map(|d| d.read_percentiles(bounds))
                .collect(),
        }
    };
    let (detect, mitigate, resolve) = (
        metric(DurationMetric::Detect),
        metric(DurationMetric::Mitigate),
        metric(DurationMetric::Resolve),
    );
    let finding = match (
        detect.all.p50_at_most_minutes,
        resolve.all.p50_at_most_minutes,
    ) {
        (Some(d), Some(r)) => format!(
            "Half of incidents are detected within {} and resolved within {}",
            minutes_words(d),
            minutes_words(r)
        ),
        _ if resolve.all.count > 0 => {
            "Half of incidents take longer than a week to resolve".to_owned()
        }
        _ => "No detection or resolution times recorded on timelines yet".to_owned(),
    };
    Durations {
        finding,
        bucket_minutes: DURATION_BUCKETS_MINUTES.to_vec(),
        detect,
        mitigate,
        resolve,
    }
}

/// "45 minutes", "2 hours", "1 day".
pub fn minutes_words(minutes: i64) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if minutes < 60 {
        plural(minutes, "minute")
    } else if minutes < 1440 {
        plural(minutes / 60, "hour")
    } else if minutes < 10080 {
        plural(minutes / 1440, "day")
    } else {
        plural(minutes / 10080, "week")
    }
}

fn near_misses(filter: &InsightFilter, counts: &InsightCounts) -> NearMisses {
    let n = counts.quarters.len();
    let mut teams: BTreeMap<Option<Name>, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
    for cell in &counts.kinds {
        if cell.quarter >= n {
            continue;
        }
        let (near, all) = teams
            .entry(cell.team.clone())
            .or_insert_with(|| (vec![0; n], vec![0; n]));
        if cell.near_miss {
            near[cell.quarter] += cell.incidents;
        } else {
            all[cell.quarter] += cell.incidents;
        }
    }
    let teams: Vec<TeamNearMisses> = teams
        .into_iter()
        .map(|(team, (near, all))| {
            let mut extra = vec![("kind", IncidentKind::NearMiss.as_str().to_owned())];
            if let Some(team) = &team {
                extra.push(("team", team.as_str().to_owned()));
            }
            TeamNearMisses {
                near_miss_total: Linked {
                    count: near.iter().sum(),
                    list: team.as_ref().map(|_| filter.list_link(&extra)),
                },
                incident_total: all.iter().sum(),
                team,
                near_misses: near,
                incidents: all,
            }
        })
        .collect();
    let mut lead_time = vec![0u64; LEAD_TIME_BUCKETS_DAYS.len() + 1];
    for &(bucket, count) in &counts.lead_times {
        if let Some(slot) = lead_time.get_mut(bucket) {
            *slot += count;
        }
    }
    let lead = Distribution {
        count: lead_time.iter().sum(),
        histogram: lead_time.clone(),
        ..Distribution::default()
    }
    .read_percentiles(&LEAD_TIME_BUCKETS_DAYS);
    let learning = teams
        .iter()
        .filter(|t| t.team.is_some() && t.near_miss_total.count > 0)
        .max_by_key(|t| t.near_miss_total.count);
    let finding = match learning {
        Some(team) => format!(
            "{} reported the most near misses: {} beside {} incidents",
            team.team.as_ref().map(Name::as_str).unwrap_or_default(),
            team.near_miss_total.count,
            team.incident_total
        ),
        None => "No near misses reported: they are the cheapest lessons".to_owned(),
    };
    NearMisses {
        finding,
        teams,
        bucket_days: LEAD_TIME_BUCKETS_DAYS.to_vec(),
        lead_time,
        lead_time_p50_at_most_days: lead.p50_at_most_minutes,
    }
}

#[cfg(test)]
mod tests {
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
}
