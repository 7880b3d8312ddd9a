//! What keeps happening: the insights report across the incidents a person may see, with
//! restricted ones they may not see counted only anonymously (see
//! [`postmortem_core::insights`]).

use crate::{AppError, Service, given};
use postmortem_core::insights::{Chart, InsightFilter, Insights, Table};
use postmortem_core::{Collector, IncidentKind, Name, Permission, Severity, ValidationError};
use serde::Deserialize;

/// The filters of a report as a person typed them (query string, command line).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InsightsInput {
    /// First day, `YYYY-MM-DD`.
    #[param(schema_with = crate::vocabulary::day)]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (included).
    #[param(schema_with = crate::vocabulary::day)]
    pub to: Option<String>,
    #[param(schema_with = crate::vocabulary::name)]
    pub team: Option<String>,
    #[param(schema_with = crate::vocabulary::name)]
    pub service: Option<String>,
    /// `outage`, `degradation`, `data_loss`, `security` or `near_miss`.
    #[param(schema_with = crate::vocabulary::incident_kind)]
    pub kind: Option<String>,
    /// `SEV1` (worst) and up.
    #[param(schema_with = crate::vocabulary::severity)]
    pub severity: Option<String>,
    /// For the CSV download: which chart (`recurring_factors`, `top_services`, `themes`,
    /// `action_effectiveness`, `durations`, `near_misses`).
    #[param(schema_with = crate::vocabulary::chart)]
    pub chart: Option<String>,
}

impl Service<'_> {
    /// The insights report for the filters, as this person may see it.
    pub async fn insights(
        &self,
        input: &InsightsInput,
    ) -> Result<(InsightFilter, Insights), AppError> {
        self.require(Permission::Read, "read insights")?;
        let filter = self.insight_filter(input)?;
        let today = self.app.rules.policy.today(time::OffsetDateTime::now_utc());
        let counts = self
            .app
            .store
            .insight_counts(&filter, self.seen(), today)
            .await?;
        let report = Insights::from_counts(&filter, counts);
        Ok((filter, report))
    }

    fn insight_filter(&self, input: &InsightsInput) -> Result<InsightFilter, AppError> {
        let mut errors = Collector::default();
        let day = |errors: &mut Collector, field: &str, raw: &Option<String>| {
            given(raw).and_then(|raw| errors.ok(postmortem_core::parse_date(field, raw)))
        };
        let filter = InsightFilter {
            from: day(&mut errors, "from", &input.from),
            to: day(&mut errors, "to", &input.to),
            team: given(&input.team).and_then(|raw| errors.ok(Name::parse_field("team", raw))),
            service: given(&input.service)
                .and_then(|raw| errors.ok(Name::parse_field("service", raw))),
            kind: given(&input.kind).and_then(|raw| errors.ok(IncidentKind::parse(raw))),
            severity: given(&input.severity).and_then(|raw| {
                errors.ok(Severity::parse_in_scale(
                    raw,
                    self.app.rules.severity_levels,
                ))
            }),
        };
        if let (Some(from), Some(to)) = (filter.from, filter.to)
            && from > to
        {
            errors.push(ValidationError::new(
                "to",
                format!(
                    "{} is before the first day {}; swap them",
                    postmortem_core::format_date(to),
                    postmortem_core::format_date(from)
                ),
            ));
        }
        if errors.is_empty() {
            Ok(filter)
        } else {
            Err(AppError::Invalid(errors.into_errors()))
        }
    }
}

/// The report as the API answers it: the report with the filters it was made for.
pub fn report_json(filter: &InsightFilter, report: &Insights) -> serde_json::Value {
    let mut body = serde_json::to_value(report).unwrap_or_default();
    body["filter"] = serde_json::json!({
        "from": filter.from.map(postmortem_core::format_date),
        "to": filter.to.map(postmortem_core::format_date),
        "team": filter.team,
        "service": filter.service,
        "kind": filter.kind,
        "severity": filter.severity.map(|s| s.to_string()),
    });
    body
}

/// The chart the filters name for a CSV download; naming none is refused with the choices.
pub fn chart(input: &InsightsInput) -> Result<Chart, AppError> {
    match input.chart.as_deref().map(str::trim) {
        None | Some("") => {
            let names: Vec<&str> = Chart::ALL.iter().map(|c| c.as_str()).collect();
            Err(AppError::Invalid(vec![ValidationError::new(
                "chart",
                format!("name the chart to download, one of: {}", names.join(", ")),
            )]))
        }
        Some(raw) => Chart::parse(raw).map_err(|e| AppError::Invalid(vec![e])),
    }
}

/// A chart's table as CSV text: a header row, then one row per line of the chart.
pub fn table_csv(table: &Table) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    // Writing to memory cannot fail.
    let _ = writer.write_record(&table.headers);
    for row in &table.rows {
        let _ = writer.write_record(row);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}
