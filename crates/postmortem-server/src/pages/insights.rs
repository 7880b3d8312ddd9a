//! `/insights`: what keeps happening across incidents, as server-rendered SVG charts. Each
//! chart's title states its finding, its data sits in a table under it (`<details>`) and as a
//! CSV download, bars link to the incidents they count, and nothing needs JavaScript.

use super::layout;
use super::list::Echo;
use super::words::Words;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_app::InsightsInput;
use postmortem_core::IncidentKind;
use postmortem_core::insights::{Chart, Distribution, Insights, Linked, Table, minutes_words};

/// A colour-blind-safe palette (Okabe and Ito).
const BLUE: &str = "#0072B2";
const ORANGE: &str = "#E69F00";
const GREEN: &str = "#009E73";
const SKY: &str = "#56B4E9";

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    params: Result<Query<InsightsInput>, QueryRejection>,
) -> Result<Response, ApiError> {
    let input = params.map(|Query(p)| p).unwrap_or_default();
    let echo = echo(&input);
    let report = match state.app.acting_for(&user).insights(&input).await {
        Ok((_, report)) => report,
        Err(error) => {
            let error = ApiError::from(error);
            let body = html! {
                h1 { "Insights" }
                (filters(&echo, state.settings.severity_levels))
                p.error role="alert" { (error.message) }
            };
            return Ok((error.status, layout("Insights", Some(&user), body)).into_response());
        }
    };
    let body = html! {
        h1 { "What keeps happening" }
        p.muted { "Across every incident you may see. Each chart states what it shows; its numbers are in the table under it and as a CSV file, and each bar opens the incidents it counts." }
        (filters(&echo, state.settings.severity_levels))
        @if report.quarters.is_empty() {
            p { "No incidents match these filters yet. Record incidents and their contributing factors, and the patterns across them appear here." }
        } @else {
            (recurring(&report, &echo))
            (top_services(&report, &echo))
            (themes(&report, &echo))
            (effectiveness(&report, &echo))
            (durations(&report, &echo))
            (near_misses(&report, &echo))
        }
    };
    Ok(layout("Insights", Some(&user), body).into_response())
}

fn echo(input: &InsightsInput) -> Echo {
    Echo::of_fields(
        &[
            ("from", &input.from),
            ("to", &input.to),
            ("team", &input.team),
            ("service", &input.service),
            ("kind", &input.kind),
            ("severity", &input.severity),
        ],
        None,
    )
}

fn filters(echo: &Echo, severity_levels: u8) -> Markup {
    html! {
        form.filters method="get" action="/insights" aria-label="Filter insights" {
            p { label for="from" { "From" } input #from name="from" type="date" value=(echo.get("from")); }
            p { label for="to" { "To" } input #to name="to" type="date" value=(echo.get("to")); }
            p { label for="team" { "Team" } input #team name="team" type="text" size="12" value=(echo.get("team")); }
            p { label for="service" { "Service" } input #service name="service" type="text" size="14" value=(echo.get("service")); }
            p {
                label for="kind" { "Kind" }
                select #kind name="kind" {
                    option value="" { "Any" }
                    @for kind in IncidentKind::ALL { option value=(kind.as_str()) selected[echo.get("kind") == kind.as_str()] { (kind.words()) } }
                }
            }
            p {
                label for="severity" { "Severity" }
                select #severity name="severity" {
                    option value="" { "Any" }
                    @for n in 1..=severity_levels { @let v = format!("SEV{n}"); option value=(v) selected[echo.get("severity") == v] { (v) } }
                }
            }
            p { button type="submit" { "Show insights" } }
        }
    }
}

/// One chart's section: the finding as its heading, the chart, its table and its CSV.
fn section(
    chart: Chart,
    finding: &str,
    note: &str,
    figure: Markup,
    table: Markup,
    echo: &Echo,
) -> Markup {
    let id = chart.as_str();
    html! {
        section.insight aria-labelledby={ "h-" (id) } {
            h2 id={ "h-" (id) } { (finding) }
            @if !note.is_empty() { p.muted { (note) } }
            (figure)
            details {
                summary { "The data as a table" }
                (table)
            }
            p { a href=(csv_link(chart, echo)) download { "Download the data as CSV" } }
        }
    }
}

fn csv_link(chart: Chart, echo: &Echo) -> String {
    let base = echo.link_at("/api/v1/insights.csv", None);
    let separator = if base.ends_with('?') { "" } else { "&" };
    format!("{base}{separator}chart={}", chart.as_str())
}

fn plain_table(table: &Table, caption: &str) -> Markup {
    html! {
        table {
            caption { (caption) }
            thead { tr { @for h in &table.headers { th scope="col" { (h) } } } }
            tbody { @for row in &table.rows { tr { @for (n, cell) in row.iter().enumerate() {
                @if n == 0 { th scope="row" { (cell) } } @else { td { (cell) } }
            } } } }
        }
    }
}

/// One bar of a horizontal chart: its label, its segments (value, colour, words) and where
/// it links.
struct Bar {
    label: String,
    segments: Vec<(u64, &'static str, String)>,
    link: Option<String>,
}

/// A horizontal bar chart, stacked when bars have several segments, with a legend.
fn bar_chart(id: &str, title: &str, bars: &[Bar], legend: &[(&'static str, &str)]) -> Markup {
    let max = bars
        .iter()
        .map(|b| b.segments.iter().map(|s| s.0).sum::<u64>())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (label_width, bar_width, row_height) = (300.0, 380.0, 24.0);
    let legend_height = if legend.is_empty() { 0.0 } else { 24.0 };
    let width = label_width + bar_width + 90.0;
    let height = row_height * bars.len() as f64 + 8.0 + legend_height;
    html! {
        figure {
            svg role="img" aria-labelledby=(id) width=(width) height=(height) viewBox={ "0 0 " (width) " " (height) } {
                title id=(id) { (title) }
                @for (n, (colour, words)) in legend.iter().enumerate() {
                    @let x = label_width + n as f64 * 170.0;
                    rect x=(x) y="4" width="14" height="14" fill=(colour) {}
                    text x=(x + 20.0) y="16" font-size="13" { (words) }
                }
                @for (n, bar) in bars.iter().enumerate() {
                    @let y = legend_height + n as f64 * row_height + 4.0;
                    @let total: u64 = bar.segments.iter().map(|s| s.0).sum();
                    text x=(label_width - 8.0) y=(y + 14.0) text-anchor="end" font-size="13" { (bar.label) }
                    @let segments = placed(bar, label_width, bar_width, max);
                    @let inner = html! {
                        @for (x, w, colour, words) in &segments {
                            rect x=(x) y=(y) width=(w) height=(row_height - 6.0) fill=(colour) {
                                title { (words) }
                            }
                        }
                        text x=(label_width + (total as f64 / max) * bar_width + 6.0) y=(y + 14.0) font-size="13" { (total) }
                    };
                    @if let Some(link) = &bar.link { a href=(link) { (inner) } } @else { (inner) }
                }
            }
        }
    }
}

/// Where each segment of a bar starts and how wide it is.
fn placed(bar: &Bar, left: f64, width: f64, max: f64) -> Vec<(f64, f64, &'static str, String)> {
    let mut x = left;
    bar.segments
        .iter()
        .filter(|(value, _, _)| *value > 0)
        .map(|(value, colour, words)| {
            let w = ((*value as f64 / max) * width).max(1.0);
            let segment = (x, w, *colour, words.clone());
            x += w;
            segment
        })
        .collect()
}

fn recurring(report: &Insights, echo: &Echo) -> Markup {
    let factors = &report.recurring_factors;
    let bars: Vec<Bar> = factors
        .by_category
        .iter()
        .take(10)
        .map(|s| Bar {
            label: s.label.to_owned(),
            segments: vec![
                (
                    s.as_trigger,
                    ORANGE,
                    format!("{} as the trigger", s.as_trigger),
                ),
                (
                    s.total.count.saturating_sub(s.as_trigger),
                    BLUE,
                    format!(
                        "{} as a condition",
                        s.total.count.saturating_sub(s.as_trigger)
                    ),
                ),
            ],
            link: s.total.list.clone(),
        })
        .collect();
    let trend_words = |t: &str| match t {
        "up" => "rising",
        "down" => "falling",
        "new" => "new this quarter",
        _ => "steady",
    };
    let table = html! {
        table {
            caption { "Incidents with each condition, per quarter" }
            thead { tr {
                th scope="col" { "Condition" }
                @for q in &report.quarters { th scope="col" { (q.label()) } }
                th scope="col" { "Total" } th scope="col" { "Last quarter" }
            } }
            tbody {
                @for s in &factors.by_category { tr {
                    th scope="row" { (s.label) }
                    @for (cell, restricted) in s.per_quarter.iter().zip(&s.restricted) {
                        td { (linked(cell)) @if *restricted > 0 { " (+" (restricted) " restricted)" } }
                    }
                    td { (linked(&s.total)) }
                    td { (trend_words(s.trend)) }
                } }
                @if factors.restricted_elsewhere.iter().any(|&c| c > 0) { tr {
                    th scope="row" { "Other restricted incidents" }
                    @for c in &factors.restricted_elsewhere { td { (c) } }
                    td {} td {}
                } }
            }
        }
    };
    let note = format!(
        "{} incidents counted a condition as their trigger and {} as a condition that let it bite. Orange: as the trigger; blue: as a condition.",
        factors.triggers, factors.conditions
    );
    section(
        Chart::RecurringFactors,
        &factors.finding,
        &note,
        bar_chart(
            "chart-recurring",
            &factors.finding,
            &bars,
            &[(ORANGE, "as the trigger"), (BLUE, "as a condition")],
        ),
        table,
        echo,
    )
}

fn linked(cell: &Linked) -> Markup {
    html! {
        @match (&cell.list, cell.count) {
            (Some(list), n) if n > 0 => a href=(list) { (n) },
            (_, n) => (n),
        }
    }
}

fn top_services(report: &Insights, echo: &Echo) -> Markup {
    let pairs = &report.recurring_factors.top_services;
    let finding = match pairs.first() {
        Some(top) => format!(
            "{} in {} came back most often: {} incidents",
            top.label, top.service, top.incidents.count
        ),
        None => "No condition has met a service twice yet".to_owned(),
    };
    let bars: Vec<Bar> = pairs
        .iter()
        .map(|p| Bar {
            label: format!("{} · {}", p.service, p.label),
            segments: vec![(
                p.incidents.count,
                SKY,
                format!("{} incidents", p.incidents.count),
            )],
            link: p.incidents.list.clone(),
        })
        .collect();
    section(
        Chart::TopServices,
        &finding,
        "The conditions and services that meet most.",
        bar_chart("chart-services", &finding, &bars, &[]),
        plain_table(
            &report.table(Chart::TopServices),
            "Incidents per condition and service",
        ),
        echo,
    )
}

fn themes(report: &Insights, echo: &Echo) -> Markup {
    let finding = report.themes_finding();
    let figure = html! {
        ul.themes {
            @for theme in &report.themes {
                li {
                    strong { (theme.label) }
                    " — " (linked(&theme.incidents)) " incidents from " (theme.first) " to " (theme.last)
                    @if !theme.teams.is_empty() { ", teams " (theme.teams.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(", ")) }
                    ". " (theme.actions_done) " of " (theme.actions) " action items done."
                    @if let Some(why) = &theme.why { br; span.badge.sev1 { "The fix did not hold" } " " (why) "." }
                }
            }
        }
    };
    section(
        Chart::Themes,
        &finding,
        "Groups of incidents sharing a service and a condition, labelled by the words their titles share.",
        figure,
        plain_table(&report.table(Chart::Themes), "Recurring themes"),
        echo,
    )
}

fn effectiveness(report: &Insights, echo: &Echo) -> Markup {
    let a = &report.action_effectiveness;
    let bars: Vec<Bar> = a
        .by_kind
        .iter()
        .map(|k| Bar {
            label: k.kind.words().to_owned(),
            segments: vec![
                (
                    k.done - k.recurred,
                    GREEN,
                    format!("{} held", k.done - k.recurred),
                ),
                (k.recurred, ORANGE, format!("{} came back", k.recurred)),
            ],
            link: None,
        })
        .collect();
    let percent =
        |s: Option<f64>| s.map_or_else(|| "–".to_owned(), |s| format!("{:.0}%", s * 100.0));
    let table = html! {
        (plain_table(&report.table(Chart::ActionEffectiveness), "Done action items, and whether their condition came back in the same service"))
        table {
            caption { "Follow-through per team" }
            thead { tr { th scope="col" { "Team" } th scope="col" { "Items" } th scope="col" { "Open" } th scope="col" { "Overdue" } th scope="col" { "Done on time" } th scope="col" { "Won't do" } } }
            tbody { @for t in &a.teams { tr {
                th scope="row" { (t.team.as_ref().map_or("no team", |n| n.as_str())) }
                td { (t.total) } td { (t.open) } td { (t.overdue) } td { (percent(t.done_on_time_share)) } td { (percent(t.wont_do_share)) }
            } } }
        }
    };
    let note = format!(
        "Of {} action items: {} done ({} verified), {} won't do, {} overdue; {} of those with a due date were done by it. Green: the condition did not come back; orange: an incident with the same service and condition started after the item was done.",
        a.total,
        a.done,
        a.verified,
        a.wont_do,
        a.overdue,
        percent(a.shares.done_on_time)
    );
    section(
        Chart::ActionEffectiveness,
        &a.finding,
        &note,
        bar_chart(
            "chart-actions",
            &a.finding,
            &bars,
            &[(GREEN, "held"), (ORANGE, "came back")],
        ),
        table,
        echo,
    )
}

/// A histogram as vertical bars, one per bucket.
fn histogram(id: &str, title: &str, d: &Distribution, bounds: &[i64]) -> Markup {
    let max = d.histogram.iter().copied().max().unwrap_or(0).max(1) as f64;
    let (column, height, base) = (56.0, 140.0, 170.0);
    let width = column * d.histogram.len() as f64 + 20.0;
    let label = |n: usize| match bounds.get(n) {
        Some(&m) => format!("≤ {}", compact(m)),
        None => "longer".to_owned(),
    };
    html! {
        figure {
            svg role="img" aria-labelledby=(id) width=(width) height=(base + 24.0) viewBox={ "0 0 " (width) " " (base + 24.0) } {
                title id=(id) { (title) }
                @for (n, &count) in d.histogram.iter().enumerate() {
                    @let h = (count as f64 / max) * height;
                    @let x = 10.0 + n as f64 * column;
                    rect x=(x) y=(base - h) width=(column - 8.0) height=(h) fill=(BLUE) { title { (count) " incidents " (label(n)) } }
                    text x=(x + (column - 8.0) / 2.0) y=(base - h - 4.0) text-anchor="middle" font-size="12" { (count) }
                    text x=(x + (column - 8.0) / 2.0) y=(base + 16.0) text-anchor="middle" font-size="11" { (label(n)) }
                }
            }
        }
    }
}

/// "5m", "2h", "1d", "1w".
fn compact(minutes: i64) -> String {
    match minutes {
        m if m < 60 => format!("{m}m"),
        m if m < 1440 => format!("{}h", m / 60),
        m if m < 10080 => format!("{}d", m / 1440),
        m => format!("{}w", m / 10080),
    }
}

fn durations(report: &Insights, echo: &Echo) -> Markup {
    let d = &report.durations;
    let words = |p: Option<i64>, count: u64| match (p, count) {
        (_, 0) => "not recorded".to_owned(),
        (Some(m), _) => format!("at most {}", minutes_words(m)),
        (None, _) => "over a week".to_owned(),
    };
    let figure = html! {
        @for (name, metric) in [("Time to detect", &d.detect), ("Time to resolve", &d.resolve)] {
            h3 { (name) ": half within " (words(metric.all.p50_at_most_minutes, metric.all.count)) ", nine in ten within " (words(metric.all.p90_at_most_minutes, metric.all.count)) }
            (histogram(&format!("chart-{}", name.to_lowercase().replace(' ', "-")), &format!("{name}, incidents per duration ({} incidents)", metric.all.count), &metric.all, &d.bucket_minutes))
        }
    };
    section(
        Chart::Durations,
        &d.finding,
        "Measured on the timeline from the start of impact to the detected, mitigated and resolved markers. Percentiles are read off the histogram (the bucket they fall in), never an average: a few long incidents would hide the usual one.",
        figure,
        plain_table(
            &report.table(Chart::Durations),
            "Durations by severity and by quarter",
        ),
        echo,
    )
}

fn near_misses(report: &Insights, echo: &Echo) -> Markup {
    let n = &report.near_misses;
    let bars: Vec<Bar> = n
        .teams
        .iter()
        .map(|t| Bar {
            label: t.team.as_ref().map_or("no team", |n| n.as_str()).to_owned(),
            segments: vec![
                (
                    t.near_miss_total.count,
                    GREEN,
                    format!("{} near misses", t.near_miss_total.count),
                ),
                (
                    t.incident_total,
                    BLUE,
                    format!("{} incidents", t.incident_total),
                ),
            ],
            link: t.near_miss_total.list.clone(),
        })
        .collect();
    let lead = match n.lead_time_p50_at_most_days {
        Some(days) => format!(
            "Half of published post-mortems were published within {days} days of being recorded."
        ),
        None if n.lead_time.iter().sum::<u64>() > 0 => {
            "Half of published post-mortems took longer than 90 days.".to_owned()
        }
        None => "No post-mortem published yet.".to_owned(),
    };
    section(
        Chart::NearMisses,
        &n.finding,
        &format!(
            "A team that reports near misses learns cheaply. Green: near misses; blue: incidents. {lead}"
        ),
        bar_chart(
            "chart-near-misses",
            &n.finding,
            &bars,
            &[(GREEN, "near misses"), (BLUE, "incidents")],
        ),
        plain_table(
            &report.table(Chart::NearMisses),
            "Near misses / incidents per team and quarter",
        ),
        echo,
    )
}
