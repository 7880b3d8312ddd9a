//! `postmortem insights`: what keeps happening, across incidents, as the `/insights` page and
//! `GET /api/v1/insights` tell it: a readable summary, the API's JSON, or one chart as CSV.

use super::{DatabaseArgs, open_app};
use crate::config::Config;
use anyhow::Context;
use postmortem_app::InsightsInput;
use postmortem_app::insights::{chart, report_json, table_csv};
use postmortem_core::insights::{Chart, Distribution, InsightFilter, Insights, minutes_words};
use postmortem_core::{Handle, SystemActor};
use std::fmt::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct InsightsArgs {
    /// Only incidents naming this team.
    #[arg(long)]
    team: Option<String>,
    /// Only incidents naming this service.
    #[arg(long)]
    service: Option<String>,
    /// Incidents that started on or after this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    from: Option<String>,
    /// Incidents that started on or before this day (YYYY-MM-DD).
    #[arg(long, value_name = "DAY")]
    to: Option<String>,
    /// Only this kind: outage, degradation, data_loss, security or near_miss.
    #[arg(long)]
    kind: Option<String>,
    /// Only this severity (SEV1 ...).
    #[arg(long)]
    severity: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    /// With --format csv, the chart: recurring_factors, top_services, themes,
    /// action_effectiveness, durations or near_misses.
    #[arg(long)]
    chart: Option<String>,
    /// Read as this person (restricted incidents they may see included); without it, as
    /// `system:digest`, which sees what a shared channel may see.
    #[arg(long = "as", value_name = "HANDLE")]
    as_person: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: InsightsArgs) -> anyhow::Result<ExitCode> {
    let (app, location) = open_app(&config, &args.database).await?;
    let input = InsightsInput {
        from: args.from,
        to: args.to,
        team: args.team,
        service: args.service,
        kind: args.kind,
        severity: args.severity,
        chart: args.chart,
    };
    let chart = match args.format {
        Format::Csv => Some(chart(&input)?),
        _ => None,
    };
    let person = match &args.as_person {
        Some(handle) => {
            let handle = Handle::parse(handle.as_str())?;
            let person = app
                .store()
                .user_by_handle(&handle)
                .await?
                .with_context(|| format!("no person `{handle}` in {location}"))?;
            Some(person)
        }
        None => None,
    };
    let service = match &person {
        Some(person) => app.acting_for(person),
        None => app.as_system(SystemActor::Digest),
    };
    let (filter, report) = service.insights(&input).await?;
    match (args.format, chart) {
        (Format::Json, _) => println!(
            "{}",
            serde_json::to_string_pretty(&report_json(&filter, &report))?
        ),
        (Format::Csv, Some(chart)) => print!("{}", table_csv(&report.table(chart))),
        _ => print!("{}", summary(&filter, &report)),
    }
    Ok(ExitCode::SUCCESS)
}

/// Which incidents the report covers, in words.
fn scope(filter: &InsightFilter) -> String {
    let mut parts = Vec::new();
    if let Some(team) = &filter.team {
        parts.push(format!("team {team}"));
    }
    if let Some(service) = &filter.service {
        parts.push(format!("service {service}"));
    }
    if let Some(kind) = filter.kind {
        parts.push(kind.as_str().replace('_', " "));
    }
    if let Some(severity) = filter.severity {
        parts.push(severity.to_string());
    }
    match (filter.from, filter.to) {
        (Some(from), Some(to)) => parts.push(format!(
            "{} to {}",
            postmortem_core::format_date(from),
            postmortem_core::format_date(to)
        )),
        (Some(from), None) => parts.push(format!("from {}", postmortem_core::format_date(from))),
        (None, Some(to)) => parts.push(format!("until {}", postmortem_core::format_date(to))),
        (None, None) => {}
    }
    if parts.is_empty() {
        "every incident".to_owned()
    } else {
        parts.join(", ")
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

fn at_most(minutes: Option<i64>) -> String {
    minutes.map_or_else(|| "over a week".to_owned(), minutes_words)
}

fn distribution(d: &Distribution) -> String {
    if d.count == 0 {
        return "no incident recorded it".to_owned();
    }
    format!(
        "half within {}, nine in ten within {}, 99 in 100 within {} ({} incidents)",
        at_most(d.p50_at_most_minutes),
        at_most(d.p90_at_most_minutes),
        at_most(d.p99_at_most_minutes),
        d.count
    )
}

/// The headline findings, each with the few lines behind it; links are the incident list's.
fn summary(filter: &InsightFilter, report: &Insights) -> String {
    let mut out = String::new();
    let span = match (report.quarters.first(), report.quarters.last()) {
        (Some(first), Some(last)) if first != last => {
            format!(", {} to {}", first.label(), last.label())
        }
        (Some(only), _) => format!(", {}", only.label()),
        _ => String::new(),
    };
    let _ = writeln!(out, "What keeps happening: {}{span}\n", scope(filter));

    let factors = &report.recurring_factors;
    let _ = writeln!(out, "{}", factors.finding);
    for series in factors.by_category.iter().take(5) {
        let trend = match series.trend {
            "up" => "up on the quarter before",
            "down" => "down on the quarter before",
            "new" => "new last quarter",
            _ => "as many as the quarter before",
        };
        let _ = writeln!(
            out,
            "  {:<28} {:>5} incidents ({} as trigger, {} as condition), {trend}",
            series.label, series.total.count, series.as_trigger, series.as_condition
        );
    }

    let _ = writeln!(out, "\n{}", report.themes_finding());
    for (n, theme) in report.themes.iter().enumerate() {
        let teams: Vec<&str> = theme.teams.iter().map(|t| t.as_str()).collect();
        let _ = writeln!(
            out,
            "  {}. {} — {} incidents, {} to {}{}",
            n + 1,
            theme.label,
            theme.incidents.count,
            theme.first,
            theme.last,
            if teams.is_empty() {
                String::new()
            } else {
                format!(", {}", teams.join(", "))
            }
        );
        if let Some(why) = &theme.why {
            let _ = writeln!(out, "     The fix did not hold: {why}.");
        }
        if let Some(list) = &theme.incidents.list {
            let _ = writeln!(out, "     {list}");
        }
    }

    let actions = &report.action_effectiveness;
    let _ = writeln!(out, "\n{}", actions.finding);
    for kind in &actions.by_kind {
        let _ = writeln!(
            out,
            "  {:<28} {:>5} done, the condition came back after {}, held {}",
            kind.kind.words(),
            kind.done,
            kind.recurred,
            percent(kind.held)
        );
    }
    let _ = writeln!(
        out,
        "  {} action items: {} done ({} verified), {} won't do, {} overdue; {} of those with a due date done by it",
        actions.total,
        actions.done,
        actions.verified,
        actions.wont_do,
        actions.overdue,
        percent(actions.shares.done_on_time)
    );

    let durations = &report.durations;
    let _ = writeln!(out, "\n{}", durations.finding);
    for (words, metric) in [
        ("Time to detect", &durations.detect),
        ("Time to mitigate", &durations.mitigate),
        ("Time to resolve", &durations.resolve),
    ] {
        let _ = writeln!(out, "  {words:<17} {}", distribution(&metric.all));
    }

    let near = &report.near_misses;
    let _ = writeln!(out, "\n{}", near.finding);
    let mut teams: Vec<_> = near.teams.iter().filter(|t| t.team.is_some()).collect();
    teams.sort_by(|a, b| {
        b.near_miss_total
            .count
            .cmp(&a.near_miss_total.count)
            .then(a.team.cmp(&b.team))
    });
    for team in teams.iter().filter(|t| t.near_miss_total.count > 0) {
        let _ = writeln!(
            out,
            "  {:<28} {:>5} near {} beside {} incidents",
            team.team.as_ref().map_or("", |t| t.as_str()),
            team.near_miss_total.count,
            if team.near_miss_total.count == 1 {
                "miss"
            } else {
                "misses"
            },
            team.incident_total
        );
    }
    let silent: Vec<&str> = teams
        .iter()
        .filter(|t| t.near_miss_total.count == 0)
        .filter_map(|t| t.team.as_ref().map(|t| t.as_str()))
        .collect();
    if !silent.is_empty() {
        let _ = writeln!(out, "  No near miss reported by {}", silent.join(", "));
    }
    if let Some(days) = near.lead_time_p50_at_most_days {
        let _ = writeln!(
            out,
            "  Half of published post-mortems were published within {days} days of being recorded"
        );
    }
    let _ = writeln!(
        out,
        "\nEach chart's data: postmortem insights --format csv --chart NAME ({})",
        Chart::ALL
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}
