//! Each chart of the insights report as a table of words and numbers: the same rows feed the
//! accessible table beside a chart, the CSV download and the command line's text.

use super::{Distribution, Insights, minutes_words};

closed_set!(
    /// A chart of the insights report.
    Chart, field = "chart" {
        RecurringFactors => "recurring_factors",
        TopServices => "top_services",
        Themes => "themes",
        ActionEffectiveness => "action_effectiveness",
        Durations => "durations",
        NearMisses => "near_misses",
    }
);

/// A chart's data: column headings and rows of cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

fn at_most(minutes: Option<i64>, count: u64) -> String {
    match (minutes, count) {
        (_, 0) => "–".to_owned(),
        (Some(m), _) => format!("≤ {}", minutes_words(m)),
        (None, _) => "over a week".to_owned(),
    }
}

fn distribution_row(label: String, metric: &str, d: &Distribution) -> Vec<String> {
    vec![
        label,
        metric.to_owned(),
        d.count.to_string(),
        at_most(d.p50_at_most_minutes, d.count),
        at_most(d.p90_at_most_minutes, d.count),
        at_most(d.p99_at_most_minutes, d.count),
    ]
}

impl Insights {
    /// The data of one chart.
    pub fn table(&self, chart: Chart) -> Table {
        let strings = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        match chart {
            Chart::RecurringFactors => {
                let mut headers = strings(&["Condition"]);
                headers.extend(self.quarters.iter().map(|q| q.label()));
                headers.extend(strings(&["Total", "As trigger", "As condition", "Trend"]));
                let rows = self
                    .recurring_factors
                    .by_category
                    .iter()
                    .map(|s| {
                        let mut row = vec![s.label.to_owned()];
                        row.extend(s.per_quarter.iter().zip(&s.restricted).map(|(c, r)| {
                            if *r > 0 {
                                format!("{} (+{r} restricted)", c.count)
                            } else {
                                c.count.to_string()
                            }
                        }));
                        row.extend([
                            s.total.count.to_string(),
                            s.as_trigger.to_string(),
                            s.as_condition.to_string(),
                            s.trend.to_owned(),
                        ]);
                        row
                    })
                    .collect();
                Table { headers, rows }
            }
            Chart::TopServices => Table {
                headers: strings(&["Condition", "Service", "Incidents"]),
                rows: self
                    .recurring_factors
                    .top_services
                    .iter()
                    .map(|p| {
                        vec![
                            p.label.to_owned(),
                            p.service.to_string(),
                            p.incidents.count.to_string(),
                        ]
                    })
                    .collect(),
            },
            Chart::Themes => Table {
                headers: strings(&[
                    "Theme",
                    "Incidents",
                    "First",
                    "Last",
                    "Teams",
                    "Actions done",
                    "Did the fix hold?",
                ]),
                rows: self
                    .themes
                    .iter()
                    .map(|t| {
                        vec![
                            t.label.clone(),
                            t.incidents.count.to_string(),
                            t.first.clone(),
                            t.last.clone(),
                            t.teams
                                .iter()
                                .map(|n| n.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                            format!("{} of {}", t.actions_done, t.actions),
                            t.why.clone().unwrap_or_else(|| {
                                if t.actions_done > 0 {
                                    "no incident since its first fix".to_owned()
                                } else {
                                    "no fix done yet".to_owned()
                                }
                            }),
                        ]
                    })
                    .collect(),
            },
            Chart::ActionEffectiveness => {
                let mut rows: Vec<Vec<String>> = self
                    .action_effectiveness
                    .by_kind
                    .iter()
                    .map(|k| {
                        vec![
                            k.kind.words().to_owned(),
                            k.done.to_string(),
                            k.recurred.to_string(),
                            percent(k.held),
                        ]
                    })
                    .collect();
                let a = &self.action_effectiveness;
                rows.push(vec![
                    "all kinds".to_owned(),
                    a.done.to_string(),
                    a.by_kind
                        .iter()
                        .map(|k| k.recurred)
                        .sum::<u64>()
                        .to_string(),
                    percent((a.done > 0).then(|| {
                        let recurred: u64 = a.by_kind.iter().map(|k| k.recurred).sum();
                        (a.done - recurred) as f64 / a.done as f64
                    })),
                ]);
                Table {
                    headers: strings(&["Kind", "Done", "Condition came back", "Held"]),
                    rows,
                }
            }
            Chart::Durations => {
                let mut rows = Vec::new();
                for (metric, d) in [
                    ("detect", &self.durations.detect),
                    ("mitigate", &self.durations.mitigate),
                    ("resolve", &self.durations.resolve),
                ] {
                    rows.push(distribution_row("all".to_owned(), metric, &d.all));
                    for (severity, dist) in &d.by_severity {
                        rows.push(distribution_row(severity.to_string(), metric, dist));
                    }
                    for (quarter, dist) in self.quarters.iter().zip(&d.by_quarter) {
                        rows.push(distribution_row(quarter.label(), metric, dist));
                    }
                }
                Table {
                    headers: strings(&["Incidents", "Time to", "Count", "p50", "p90", "p99"]),
                    rows,
                }
            }
            Chart::NearMisses => {
                let mut headers = strings(&["Team"]);
                headers.extend(self.quarters.iter().map(|q| q.label()));
                headers.extend(strings(&["Near misses", "Incidents"]));
                let rows = self
                    .near_misses
                    .teams
                    .iter()
                    .map(|t| {
                        let mut row =
                            vec![t.team.as_ref().map_or("no team", |n| n.as_str()).to_owned()];
                        row.extend(
                            t.near_misses
                                .iter()
                                .zip(&t.incidents)
                                .map(|(n, i)| format!("{n} / {i}")),
                        );
                        row.push(t.near_miss_total.count.to_string());
                        row.push(t.incident_total.to_string());
                        row
                    })
                    .collect();
                Table { headers, rows }
            }
        }
    }
}
