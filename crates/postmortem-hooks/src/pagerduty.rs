//! PagerDuty v3 webhooks: one event per delivery in an envelope,
//! `{"event": {"id", "event_type": "incident.triggered", "resource_type": "incident",
//! "occurred_at", "agent", "client", "data": {"id", "type": "incident", "html_url", "number",
//! "status", "incident_key", "title", "service": {"id", "summary", "html_url"}, "urgency", …}}}`.
//! `incident.triggered` and `incident.resolved` change the alert's state; the other incident
//! events (acknowledged, annotated, escalated, …) are accepted and ignored.

use crate::fields::{self, MAX_KEY_CHARS, MAX_SUMMARY_CHARS};
use crate::{AlertEvent, AlertState, Parsed, PayloadError};
use serde_json::Value;

pub fn parse(body: &Value) -> Result<Parsed, PayloadError> {
    let Some(event) = body.get("event").filter(|event| event.is_object()) else {
        return Err(PayloadError::invalid(
            "event",
            "is missing; PagerDuty v3 webhooks wrap each event in {\"event\": {…}} (v2 webhooks, with `messages`, are not read)",
        ));
    };
    let event_type = fields::required_text(event, "event_type", "event.event_type")?;
    let state = match event_type {
        "incident.triggered" => AlertState::Firing,
        "incident.resolved" => AlertState::Resolved,
        "pagey.ping" => {
            return Ok(Parsed::Ignored {
                reason: "a test ping from PagerDuty".to_owned(),
            });
        }
        other => {
            return Ok(Parsed::Ignored {
                reason: format!(
                    "`{}` does not start or end an alert",
                    fields::cut(other, 60)
                ),
            });
        }
    };
    let data = event
        .get("data")
        .filter(|data| data.is_object())
        .ok_or_else(|| PayloadError::invalid("event.data", "is missing or not an object"))?;
    let at = fields::instant(
        fields::required_text(event, "occurred_at", "event.occurred_at")?,
        "event.occurred_at",
    )?;
    let incident_id = fields::required_text(data, "id", "event.data.id")?;
    let title = fields::text(data, "title")
        .filter(|title| !title.trim().is_empty())
        .unwrap_or("PagerDuty incident");
    let number = data.get("number").and_then(Value::as_u64);
    let summary = match number {
        Some(number) => format!("#{number} {title}"),
        None => title.to_owned(),
    };
    let service = data
        .get("service")
        .and_then(|service| fields::service(fields::text(service, "summary")));
    Ok(Parsed::Alerts {
        alerts: vec![AlertEvent {
            fingerprint: fields::cut(incident_id, MAX_KEY_CHARS),
            state,
            service,
            summary: fields::cut(&summary, MAX_SUMMARY_CHARS),
            link: fields::link(fields::text(data, "html_url")),
            at,
            pages: fields::text(data, "urgency") == Some("high"),
        }],
    })
}
