//! Timeline entries: what happened, what people saw and what they believed, and when.

use crate::{IncidentId, Markdown, TimelineEntryId, UserId, ValidationError, WebLink};
use serde::Serialize;
use time::{Duration, OffsetDateTime, format_description::well_known::Rfc3339};

closed_set!(
    /// A lifecycle point of the incident that an entry marks.
    Marker, field = "marker" {
        ImpactStart => "impact_start",
        Detected => "detected",
        Mitigated => "mitigated",
        Resolved => "resolved",
    }
);

closed_set!(
    /// Whose view an entry records: a fact, something a person saw, or what they believed.
    Perspective, field = "perspective" {
        Happened => "happened",
        Observed => "observed",
        Believed => "believed",
    }
);

closed_set!(
    /// Where an entry came from.
    Source, field = "source" {
        Manual => "manual",
        Chat => "chat",
        Alert => "alert",
        Deploy => "deploy",
        Import => "import",
    }
);

/// Parses an instant that carries its time zone offset, such as `2025-03-14T14:02:00+01:00`
/// or `2025-03-14T13:02:00Z`. A local time with no offset is ambiguous, so it is refused.
pub fn parse_instant(field: &str, raw: &str) -> Result<OffsetDateTime, ValidationError> {
    OffsetDateTime::parse(raw.trim(), &Rfc3339).map_err(|_| {
        ValidationError::new(
            field,
            format!(
                "`{}` is not an instant with a time zone; write it as RFC 3339, e.g. 2025-03-14T14:02:00+01:00 or 2025-03-14T13:02:00Z",
                raw.trim()
            ),
        )
    })
}

/// Parses a calendar date written `YYYY-MM-DD`.
pub fn parse_date(field: &str, raw: &str) -> Result<time::Date, ValidationError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw.trim(), format).map_err(|_| {
        ValidationError::new(
            field,
            format!(
                "`{}` is not a date; write it as YYYY-MM-DD, e.g. 2025-03-31",
                raw.trim()
            ),
        )
    })
}

/// Formats a date as `YYYY-MM-DD`.
pub fn format_date(date: time::Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    date.format(format).expect("a calendar date always formats")
}

/// Serialises an optional date as `YYYY-MM-DD` (or null): serde's default for `time::Date`
/// is a `[year, ordinal day]` pair, which no reader of the API expects.
pub fn serialize_date_option<S: serde::Serializer>(
    date: &Option<time::Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serializer.serialize_str(&format_date(*date)),
        None => serializer.serialize_none(),
    }
}

/// Formats an instant as RFC 3339 in its own offset.
pub fn format_instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339)
        .expect("an instant within years 0..=9999 always formats")
}

/// A validated request to add a timeline entry.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTimelineEntry {
    /// When it happened, in the writer's time zone (kept, so it reads as they wrote it).
    pub at: OffsetDateTime,
    pub text: Markdown,
    /// Who did it, if a person did; the author is whoever wrote the entry down.
    pub actor: Option<String>,
    pub marker: Option<Marker>,
    pub perspective: Perspective,
    pub source: Source,
    pub source_url: Option<WebLink>,
}

/// A timeline entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub id: TimelineEntryId,
    pub incident_id: IncidentId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub text: Markdown,
    pub author: UserId,
    pub actor: Option<String>,
    pub marker: Option<Marker>,
    pub perspective: Perspective,
    pub source: Source,
    pub source_url: Option<WebLink>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The lifecycle instants of an incident as its timeline marks them (the earliest entry with
/// each marker), and the durations people ask about first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MarkerTimes {
    #[serde(with = "time::serde::rfc3339::option")]
    pub impact_start: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub detected: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub mitigated: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved: Option<OffsetDateTime>,
}

impl MarkerTimes {
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a TimelineEntry>) -> Self {
        let mut times = Self::default();
        for entry in entries {
            let Some(marker) = entry.marker else { continue };
            let slot = match marker {
                Marker::ImpactStart => &mut times.impact_start,
                Marker::Detected => &mut times.detected,
                Marker::Mitigated => &mut times.mitigated,
                Marker::Resolved => &mut times.resolved,
            };
            if slot.is_none_or(|earlier| entry.at < earlier) {
                *slot = Some(entry.at);
            }
        }
        times
    }

    /// From impact to detection.
    pub fn time_to_detect(&self) -> Option<Duration> {
        Some(self.detected? - self.impact_start?)
    }

    /// From impact to mitigation.
    pub fn time_to_mitigate(&self) -> Option<Duration> {
        Some(self.mitigated? - self.impact_start?)
    }

    /// From impact to resolution.
    pub fn time_to_resolve(&self) -> Option<Duration> {
        Some(self.resolved? - self.impact_start?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn an_instant_keeps_the_writers_offset() {
        let at = parse_instant("at", "2025-03-14T14:02:00+01:00").unwrap();
        assert_eq!(at, datetime!(2025-03-14 13:02 UTC));
        assert_eq!(format_instant(at), "2025-03-14T14:02:00+01:00");
    }

    #[test]
    fn an_instant_without_a_time_zone_is_refused() {
        let error = parse_instant("at", "2025-03-14T14:02:00").unwrap_err();
        assert_eq!(error.field(), "at");
        assert!(error.rule().contains("time zone"), "{error}");
    }

    #[test]
    fn a_due_date_that_is_not_a_date_is_refused() {
        assert!(parse_date("due_on", "2025-02-30").is_err());
        assert!(parse_date("due_on", "next week").is_err());
        assert_eq!(
            format_date(parse_date("due_on", "2025-02-28").unwrap()),
            "2025-02-28"
        );
    }

    #[test]
    fn a_due_date_serialises_as_year_month_day() {
        #[derive(serde::Serialize)]
        struct Due {
            #[serde(serialize_with = "serialize_date_option")]
            due_on: Option<time::Date>,
        }
        let due = Due {
            due_on: Some(time::macros::date!(2025 - 11 - 03)),
        };
        assert_eq!(
            serde_json::to_string(&due).unwrap(),
            r#"{"due_on":"2025-11-03"}"#
        );
        let none = Due { due_on: None };
        assert_eq!(serde_json::to_string(&none).unwrap(), r#"{"due_on":null}"#);
    }

    fn entry(at: OffsetDateTime, marker: Option<Marker>) -> TimelineEntry {
        TimelineEntry {
            id: TimelineEntryId::new(1),
            incident_id: IncidentId::new(1),
            at,
            text: Markdown::parse("x").unwrap(),
            author: UserId::new(1),
            actor: None,
            marker,
            perspective: Perspective::Happened,
            source: Source::Manual,
            source_url: None,
            created_at: at,
        }
    }

    #[test]
    fn marker_times_take_the_earliest_entry_of_each_marker() {
        let entries = [
            entry(datetime!(2025-01-01 10:00 UTC), Some(Marker::ImpactStart)),
            entry(datetime!(2025-01-01 10:20 UTC), Some(Marker::Detected)),
            entry(datetime!(2025-01-01 10:12 +01:00), Some(Marker::Detected)),
            entry(datetime!(2025-01-01 10:30 UTC), None),
            entry(datetime!(2025-01-01 11:00 UTC), Some(Marker::Resolved)),
        ];
        let times = MarkerTimes::from_entries(&entries);
        assert_eq!(times.detected, Some(datetime!(2025-01-01 10:12 +01:00)));
        assert_eq!(times.time_to_detect(), Some(Duration::minutes(-48)));
        assert_eq!(times.time_to_resolve(), Some(Duration::hours(1)));
        assert_eq!(times.time_to_mitigate(), None);
    }
}
