//! Prometheus Alertmanager's webhook (version 4) and Grafana alerting's webhook contact
//! point, which sends the same shape with a few fields more (`orgId`, `silenceURL`,
//! `dashboardURL`, `panelURL`, `values`).
//!
//! ```json
//! {"version": "4", "groupKey": "…", "truncatedAlerts": 0, "status": "firing|resolved",
//!  "receiver": "…", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
//!  "externalURL": "…",
//!  "alerts": [{"status": "firing|resolved", "labels": {}, "annotations": {},
//!              "startsAt": "<rfc3339>", "endsAt": "<rfc3339>", "generatorURL": "…",
//!              "fingerprint": "…"}]}
//! ```

use crate::fields::{self, MAX_KEY_CHARS, MAX_SUMMARY_CHARS};
use crate::{AlertEvent, AlertState, MAX_EVENTS_PER_PAYLOAD, Parsed, PayloadError};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Alertmanager,
    Grafana,
}

/// Labels that name the service an alert is about, in the order they are trusted.
const SERVICE_LABELS: [&str; 4] = ["service", "app", "application", "job"];
/// Severity label values that mean someone is paged.
const PAGING_SEVERITIES: [&str; 4] = ["critical", "page", "p1", "sev1"];

pub fn parse(body: &Value, flavour: Flavour) -> Result<Parsed, PayloadError> {
    if flavour == Flavour::Alertmanager
        && let Some(version) = body.get("version")
        && version.as_str() != Some("4")
    {
        return Err(PayloadError::invalid(
            "version",
            format!("is {version}; this receiver reads Alertmanager's webhook version \"4\""),
        ));
    }
    let alerts = match body.get("alerts") {
        Some(Value::Array(alerts)) => alerts,
        Some(_) => return Err(PayloadError::invalid("alerts", "must be an array")),
        None => {
            return Err(PayloadError::invalid(
                "alerts",
                "is missing; is this an Alertmanager or Grafana webhook body?",
            ));
        }
    };
    if alerts.len() > MAX_EVENTS_PER_PAYLOAD {
        return Err(PayloadError::invalid(
            "alerts",
            format!(
                "holds {} alerts, more than the {MAX_EVENTS_PER_PAYLOAD} one payload may carry; lower max_alerts",
                alerts.len()
            ),
        ));
    }
    let parsed = alerts
        .iter()
        .enumerate()
        .map(|(index, alert)| parse_alert(alert, &format!("alerts[{index}]"), flavour))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Parsed::Alerts { alerts: parsed })
}

fn parse_alert(alert: &Value, path: &str, flavour: Flavour) -> Result<AlertEvent, PayloadError> {
    if !alert.is_object() {
        return Err(PayloadError::invalid(path, "must be a JSON object"));
    }
    let labels = fields::object(alert, "labels", &format!("{path}.labels"))?;
    let annotations = alert.get("annotations").and_then(Value::as_object);
    let state = match fields::required_text(alert, "status", &format!("{path}.status"))? {
        "firing" => AlertState::Firing,
        "resolved" => AlertState::Resolved,
        other => {
            return Err(PayloadError::invalid(
                format!("{path}.status"),
                format!(
                    "is `{}`; expected `firing` or `resolved`",
                    fields::cut(other, 40)
                ),
            ));
        }
    };
    let at = match state {
        AlertState::Firing => {
            let raw = fields::required_text(alert, "startsAt", &format!("{path}.startsAt"))?;
            fields::instant(raw, &format!("{path}.startsAt"))?
        }
        AlertState::Resolved => {
            let raw = fields::required_text(alert, "endsAt", &format!("{path}.endsAt"))?;
            fields::instant(raw, &format!("{path}.endsAt"))?
        }
    };
    let fingerprint = match fields::text(alert, "fingerprint").filter(|f| !f.trim().is_empty()) {
        Some(fingerprint) => fields::cut(fingerprint, MAX_KEY_CHARS),
        None => fields::fingerprint_of_labels(labels),
    };
    let label = |name: &str| labels.get(name).and_then(Value::as_str);
    let annotation = |name: &str| {
        annotations
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
    };
    let alert_name = label("alertname").unwrap_or("alert");
    let summary = annotation("summary")
        .or_else(|| annotation("description"))
        .or_else(|| annotation("message"))
        .filter(|s| !s.trim().is_empty())
        .map_or_else(|| alert_name.to_owned(), |s| format!("{alert_name}: {s}"));
    let service = SERVICE_LABELS
        .iter()
        .find_map(|name| fields::service(label(name)));
    let link = match flavour {
        // Grafana's panel shows the graph someone looked at; its rule link is the fallback.
        Flavour::Grafana => fields::link(fields::text(alert, "panelURL"))
            .or_else(|| fields::link(fields::text(alert, "dashboardURL")))
            .or_else(|| fields::link(fields::text(alert, "generatorURL"))),
        Flavour::Alertmanager => fields::link(fields::text(alert, "generatorURL")),
    };
    let pages = label("severity").is_some_and(|severity| {
        PAGING_SEVERITIES.contains(&severity.trim().to_lowercase().as_str())
    });
    Ok(AlertEvent {
        fingerprint,
        state,
        service,
        summary: fields::cut(&summary, MAX_SUMMARY_CHARS),
        link,
        at,
        pages,
    })
}
