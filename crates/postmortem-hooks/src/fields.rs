//! Reading fields out of a JSON payload with errors that name the field and what was expected.

use crate::PayloadError;
use postmortem_core::{Name, WebLink};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

/// The longest summary kept; providers allow kilobytes of description, a timeline line does not.
pub const MAX_SUMMARY_CHARS: usize = 500;
/// The longest fingerprint, key, version or person kept.
pub const MAX_KEY_CHARS: usize = 200;

/// The object at `field` of `object`, or a refusal naming it.
pub fn object<'a>(
    object: &'a Value,
    field: &str,
    path: &str,
) -> Result<&'a Map<String, Value>, PayloadError> {
    match object.get(field) {
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(PayloadError::invalid(path, "must be a JSON object")),
        None => Err(PayloadError::invalid(path, "is missing")),
    }
}

/// The text at `field`, if present and a string; a number is read as its text.
pub fn text<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object.get(field).and_then(Value::as_str)
}

/// The non-blank text at `field`, or a refusal naming it.
pub fn required_text<'a>(
    object: &'a Value,
    field: &str,
    path: &str,
) -> Result<&'a str, PayloadError> {
    match object.get(field) {
        Some(Value::String(text)) if !text.trim().is_empty() => Ok(text.trim()),
        Some(Value::String(_)) => Err(PayloadError::invalid(path, "is blank")),
        Some(_) => Err(PayloadError::invalid(path, "must be a string")),
        None => Err(PayloadError::invalid(path, "is missing")),
    }
}

/// An RFC 3339 instant such as `2021-10-12T09:51:03.157076+02:00`.
pub fn instant(raw: &str, path: &str) -> Result<OffsetDateTime, PayloadError> {
    let at = OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
        PayloadError::invalid(
            path,
            format!(
                "`{}` is not an RFC 3339 instant such as 2025-03-14T13:02:00Z",
                cut(raw, 60)
            ),
        )
    })?;
    if is_zero_time(at) {
        return Err(PayloadError::invalid(path, "is the zero time (year 1)"));
    }
    Ok(at)
}

/// Go's zero `time.Time`, which Alertmanager and Grafana send as `endsAt` of firing alerts.
pub fn is_zero_time(at: OffsetDateTime) -> bool {
    at.year() <= 1
}

/// `text` cut to at most `max` characters, trimmed, one line.
pub fn cut(text: &str, max: usize) -> String {
    let one_line: String = text
        .trim()
        .chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.trim().to_owned()
}

/// A service name if `raw` is one the system can hold (lowercased), otherwise none: an alert
/// with an odd label still counts for the integration's own services.
pub fn service(raw: Option<&str>) -> Option<Name> {
    raw.and_then(|raw| Name::parse(raw).ok())
}

/// A link if `raw` is an absolute http(s) link; relative links (a Prometheus behind a path)
/// and anything else are dropped rather than failing the alert.
pub fn link(raw: Option<&str>) -> Option<WebLink> {
    raw.filter(|raw| !raw.trim().is_empty())
        .and_then(|raw| WebLink::parse(raw).ok())
}

/// A stable fingerprint of a label set, for senders that do not send one: the SHA-256 of the
/// sorted `name=value` lines, as 16 hex digits like Alertmanager's own.
pub fn fingerprint_of_labels(labels: &Map<String, Value>) -> String {
    let mut pairs: Vec<(&String, String)> = labels
        .iter()
        .map(|(name, value)| {
            (
                name,
                value
                    .as_str()
                    .map_or_else(|| value.to_string(), str::to_owned),
            )
        })
        .collect();
    pairs.sort();
    let mut hasher = Sha256::new();
    for (name, value) in pairs {
        hasher.update(name.as_bytes());
        hasher.update(b"=");
        hasher.update(value.as_bytes());
        hasher.update(b"\n");
    }
    hex::encode(&hasher.finalize()[..8])
}
