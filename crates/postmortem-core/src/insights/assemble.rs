//! The report assembled from the store's counts: series per quarter, trends, themes, shares,
//! histogram percentiles and the findings in words.

use super::*;
use std::collections::BTreeMap;

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

impl Insights {
    /// The themes' finding in words: how many came back after a fix was done.
    pub fn themes_finding(&self) -> String {
        let failed = self.themes.iter().filter(|t| t.fix_did_not_hold).count();
        match (self.themes.len(), failed) {
            (0, _) => {
                "No recurring theme yet: no condition met the same service three times".to_owned()
            }
            (n, 0) => format!("{n} recurring themes; none came back after a fix was done"),
            (n, f) => format!("{f} of {n} recurring themes came back after a fix was done"),
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

/// Words too common in titles to label a theme, units of time among them.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "the", "of", "to", "in", "on", "for", "at", "by", "from", "with", "after",
    "during", "while", "was", "were", "is", "are", "not", "no", "into", "over", "under", "via",
    "as", "its", "it", "be", "then", "when", "seconds", "minutes", "hours", "days",
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
    pub(super) fn add(&mut self, bucket: usize, count: u64) {
        if self.histogram.is_empty() {
            self.histogram = vec![0; DURATION_BUCKETS_MINUTES.len() + 1];
        }
        if let Some(slot) = self.histogram.get_mut(bucket) {
            *slot += count;
            self.count += count;
        }
    }

    pub(super) fn read_percentiles(mut self, bounds: &[i64]) -> Self {
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
