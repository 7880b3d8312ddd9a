//! Opsgenie's outgoing webhook integration: `{"action": "Create", "alert": {"alertId",
//! "message", "alias", "tinyId", "entity", "tags", "createdAt" (ms), "updatedAt" (ns),
//! "priority", …}, "source": {…}, "integrationId", "integrationName"}`. `Create` fires the
//! alert and `Close` resolves it; other actions (Acknowledge, AddNote, …) are ignored.
//! The body carries no link, so the alert's page in Opsgenie is built from its id.

use crate::fields::{self, MAX_KEY_CHARS, MAX_SUMMARY_CHARS};
use crate::{AlertEvent, AlertState, Parsed, PayloadError};
use postmortem_core::WebLink;
use serde_json::Value;

pub fn parse(body: &Value) -> Result<Parsed, PayloadError> {
    let action = fields::required_text(body, "action", "action")?;
    let state = match action {
        "Create" => AlertState::Firing,
        "Close" => AlertState::Resolved,
        other => {
            return Ok(Parsed::Ignored {
                reason: format!(
                    "the `{}` action does not start or end an alert",
                    fields::cut(other, 60)
                ),
            });
        }
    };
    let alert = body
        .get("alert")
        .filter(|alert| alert.is_object())
        .ok_or_else(|| PayloadError::invalid("alert", "is missing or not an object"))?;
    let alert_id = fields::required_text(alert, "alertId", "alert.alertId")?;
    // The alias is Opsgenie's de-duplication key: the same alias is the same alert.
    let fingerprint = fields::text(alert, "alias")
        .filter(|alias| !alias.trim().is_empty())
        .unwrap_or(alert_id);
    let at = match state {
        AlertState::Firing => instant(alert, "createdAt", 1_000_000)?,
        // `updatedAt` is in nanoseconds; a Close is the alert's last update.
        AlertState::Resolved => instant(alert, "updatedAt", 1)?,
    };
    let message = fields::text(alert, "message")
        .filter(|message| !message.trim().is_empty())
        .unwrap_or("Opsgenie alert");
    let tags: Vec<&str> = alert
        .get("tags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().take(100).filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let service = tags
        .iter()
        .find_map(|tag| fields::service(tag.strip_prefix("service:")))
        .or_else(|| fields::service(fields::text(alert, "entity")));
    let link = WebLink::parse(format!(
        "https://app.opsgenie.com/alert/detail/{}/details",
        fields::cut(alert_id, 100)
    ))
    .ok();
    Ok(Parsed::Alerts {
        alerts: vec![AlertEvent {
            fingerprint: fields::cut(fingerprint, MAX_KEY_CHARS),
            state,
            service,
            summary: fields::cut(message, MAX_SUMMARY_CHARS),
            link,
            at,
            pages: fields::text(alert, "priority") == Some("P1"),
        }],
    })
}

/// The instant at `field`, a count of `nanos_per_unit` nanoseconds since 1970.
fn instant(
    alert: &Value,
    field: &str,
    nanos_per_unit: i128,
) -> Result<time::OffsetDateTime, PayloadError> {
    let path = format!("alert.{field}");
    let count = alert
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| PayloadError::invalid(&path, "is missing or not a whole number"))?;
    let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(count) * nanos_per_unit)
        .map_err(|_| PayloadError::invalid(&path, "is not a time since 1970"))?;
    if at.year() < 2000 {
        return Err(PayloadError::invalid(
            &path,
            "is before 2000; is it in the wrong unit?",
        ));
    }
    Ok(at)
}
