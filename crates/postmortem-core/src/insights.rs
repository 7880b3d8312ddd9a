//! Insights across incidents: which conditions recur and where, whether fixes changed the
//! system, how long incidents take to detect, mitigate and resolve, and how cheaply teams
//! learn from near misses.
//!
//! The store counts (SQL aggregates, so no request reads every incident); this module turns
//! those counts into the report: quarters, trends, percentiles from histograms, findings in
//! words, and the rule that keeps restricted incidents anonymous. Pure: no I/O.

mod assemble;
mod tables;
#[cfg(test)]
mod tests;

pub use assemble::minutes_words;
pub use tables::{Chart, Table};

use crate::{ActionKind, FactorCategory, IncidentKind, Name, Severity};
use serde::Serialize;
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
    /// Done, and an incident with one of its incident's services and the category of a
    /// factor it addresses (any of its incident's, when it names none) started after it was
    /// done.
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
    /// The earliest prevent action item done in the theme that addresses its condition (or
    /// names no factor), and how many of the theme's incidents started after it was done.
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
    /// An incident of the theme started after a prevent action item of an earlier one,
    /// aimed at the theme's condition, was done: that fix did not change the system.
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
