//! Conversions between stored primitive values and domain types. Stored values are parsed
//! with the same constructors as input, so a hand-edited row is reported, not trusted.

use crate::{Result, StoreError};
use postmortem_core::{Severity, ValidationError};
use time::{Date, OffsetDateTime, UtcOffset};

pub(crate) fn to_ms(at: OffsetDateTime) -> i64 {
    (at.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| StoreError::corrupt(format!("instant {ms}: {e}")))
}

pub(crate) fn from_ms_offset(ms: i64, offset_seconds: i64) -> Result<OffsetDateTime> {
    let offset = i32::try_from(offset_seconds)
        .ok()
        .and_then(|s| UtcOffset::from_whole_seconds(s).ok())
        .ok_or_else(|| StoreError::corrupt(format!("time zone offset {offset_seconds}")))?;
    Ok(from_ms(ms)?.to_offset(offset))
}

pub(crate) fn offset_seconds(at: OffsetDateTime) -> i64 {
    i64::from(at.offset().whole_seconds())
}

/// An instant as RFC 3339 text with its offset, as the API shows instants; for audit details.
/// Cut to the millisecond, as the database keeps instants, so the log says what was stored.
pub(crate) fn rfc3339(at: OffsetDateTime) -> String {
    let stored = at.replace_millisecond(at.millisecond()).unwrap_or(at);
    stored
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

pub(crate) fn date_text(date: Option<Date>) -> Option<String> {
    date.map(postmortem_core::format_date)
}

pub(crate) fn parse_date(raw: Option<String>) -> Result<Option<Date>> {
    raw.map(|raw| postmortem_core::parse_date("date", &raw).map_err(StoreError::corrupt))
        .transpose()
}

pub(crate) fn severity(level: i64) -> Result<Severity> {
    Severity::parse_in_scale(&format!("SEV{level}"), Severity::MAX_LEVELS)
        .map_err(StoreError::corrupt)
}

/// Parses a stored value with a domain constructor, reporting failures as corrupt data.
pub(crate) fn stored<T>(parsed: Result<T, ValidationError>) -> Result<T> {
    parsed.map_err(StoreError::corrupt)
}
