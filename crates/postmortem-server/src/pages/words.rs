//! The words a person reads for the closed vocabularies the API spells in `snake_case`:
//! statuses, kinds, markers and the like. Pages show these, never the wire spelling.

use maud::{Markup, html};
use postmortem_core::policy::Requirement;
use postmortem_core::{
    ActionKind, ActionStatus, FactorCategory, IncidentKind, Marker, Perspective, PostmortemStatus,
    Priority, ReviewDecision, Role, Source, format_instant,
};
use time::{Date, OffsetDateTime};

/// A calendar day as people write it: "1 Mar 2026".
pub(crate) fn day(date: Date) -> String {
    let format = time::macros::format_description!("[day padding:none] [month repr:short] [year]");
    date.format(format)
        .unwrap_or_else(|_| postmortem_core::format_date(date))
}

/// An instant in words, in its own offset ("1 Mar 2026, 14:05 UTC+01:00"), marked up so the
/// page's script can show it in the reader's own zone.
pub(crate) fn instant(at: OffsetDateTime) -> Markup {
    let time = time::macros::format_description!("[hour]:[minute]");
    let offset = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    let zone = if at.offset().is_utc() {
        "UTC".to_owned()
    } else {
        format!("UTC{}", at.offset().format(offset).unwrap_or_default())
    };
    let shown = format!(
        "{}, {} {zone}",
        day(at.date()),
        at.time().format(time).unwrap_or_default()
    );
    html! { time.local datetime=(format_instant(at)) title=(shown) { (shown) } }
}

/// A factor category's wire spelling in words, for values that arrive as text (search).
pub(crate) fn category_words(raw: &str) -> String {
    FactorCategory::parse(raw).map_or_else(|_| raw.replace('_', " "), |c| c.label().to_lowercase())
}

/// A search facet's value in words: statuses, kinds and factor categories arrive spelled
/// as the API spells them; services, teams, severities and years are names already.
pub(crate) fn facet_value(facet: &str, raw: &str) -> String {
    let words = match facet {
        "status" => PostmortemStatus::parse(raw)
            .ok()
            .map(|s| s.words().to_owned()),
        "kind" => IncidentKind::parse(raw).ok().map(|k| k.words().to_owned()),
        "factor" => Some(category_words(raw)),
        _ => None,
    };
    words.unwrap_or_else(|| raw.to_owned())
}

/// A stored value of a named field in words, when the field holds a closed vocabulary
/// (`status`, `kind`, `marker`, ...; the last word of a nested name such as `postmortem
/// status`); `None` for any other field or value. For pages that show stored records, such
/// as the audit log's before and after.
pub(crate) fn value_words(field: &str, raw: &str) -> Option<String> {
    fn first<T: Words>(parsed: Result<T, postmortem_core::ValidationError>) -> Option<String> {
        parsed.ok().map(|value| value.words().to_owned())
    }
    match field.rsplit(' ').next().unwrap_or(field) {
        "status" => first(PostmortemStatus::parse(raw)).or_else(|| first(ActionStatus::parse(raw))),
        "kind" => first(IncidentKind::parse(raw)).or_else(|| first(ActionKind::parse(raw))),
        "marker" => first(Marker::parse(raw)),
        "perspective" => first(Perspective::parse(raw)),
        "source" => first(Source::parse(raw)),
        "priority" => first(Priority::parse(raw)),
        "decision" => first(ReviewDecision::parse(raw)).or_else(|| first(Requirement::parse(raw))),
        "role" => first(Role::parse(raw)),
        "category" => FactorCategory::parse(raw)
            .ok()
            .map(|c| c.label().to_lowercase()),
        _ => None,
    }
}

/// Why an earlier incident looks like this one, in words: shared services, shared kinds of
/// contributing factor, and the words both use. The index gives word stems ("outag"); each
/// is shown as the first word of this incident that begins with it ("outage"), and left
/// out when there is none.
pub(crate) fn similar_reason(
    similar: &postmortem_search::SimilarIncident,
    record: &postmortem_store::IncidentRecord,
) -> String {
    let mut parts = Vec::new();
    match similar.shared_services.as_slice() {
        [] => {}
        [one] => parts.push(format!("same service, {one}")),
        many => parts.push(format!("same services, {}", many.join(", "))),
    }
    if !similar.shared_factors.is_empty() {
        let factors: Vec<String> = similar
            .shared_factors
            .iter()
            .map(|f| category_words(f))
            .collect();
        parts.push(format!("also {}", factors.join(", ")));
    }
    let text = incident_words(record);
    let terms: Vec<&str> = similar
        .shared_terms
        .iter()
        .filter_map(|stem| {
            text.iter()
                .find(|w| w.starts_with(stem.as_str()))
                .map(String::as_str)
        })
        .take(4)
        .collect();
    if !terms.is_empty() {
        parts.push(format!("both mention {}", terms.join(", ")));
    }
    if parts.is_empty() {
        "similar wording".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The lower-case words of an incident's title, sections and factors, in order.
fn incident_words(record: &postmortem_store::IncidentRecord) -> Vec<String> {
    let mut text = record.incident.title.to_string();
    for section in record.postmortem.sections.values() {
        text.push(' ');
        text.push_str(section.body.as_str());
    }
    for factor in &record.factors {
        text.push(' ');
        text.push_str(factor.description.as_str());
    }
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect()
}

/// A value as a person reads it.
pub(crate) trait Words: Copy {
    fn words(self) -> &'static str;
}

impl Words for ActionStatus {
    fn words(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in progress",
            ActionStatus::Done => "done",
            ActionStatus::WontDo => "won't do",
        }
    }
}

impl Words for ActionKind {
    fn words(self) -> &'static str {
        // The core's words, which the CSV downloads and the command line share.
        ActionKind::words(self)
    }
}

impl Words for Priority {
    fn words(self) -> &'static str {
        match self {
            Priority::P1 => "P1, urgent",
            Priority::P2 => "P2, soon",
            Priority::P3 => "P3, when we can",
        }
    }
}

impl Words for Marker {
    fn words(self) -> &'static str {
        match self {
            Marker::ImpactStart => "impact started",
            Marker::Detected => "detected",
            Marker::Mitigated => "mitigated",
            Marker::Resolved => "resolved",
        }
    }
}

impl Words for Perspective {
    fn words(self) -> &'static str {
        match self {
            Perspective::Happened => "what happened",
            Perspective::Observed => "what someone saw",
            Perspective::Believed => "what someone believed",
        }
    }
}

impl Words for Source {
    fn words(self) -> &'static str {
        match self {
            Source::Manual => "written by hand",
            Source::Chat => "from chat",
            Source::Alert => "from an alert",
            Source::Deploy => "from a deploy",
            Source::Import => "imported",
        }
    }
}

impl Words for IncidentKind {
    fn words(self) -> &'static str {
        match self {
            IncidentKind::Outage => "outage",
            IncidentKind::Degradation => "degradation",
            IncidentKind::DataLoss => "data loss",
            IncidentKind::Security => "security",
            IncidentKind::NearMiss => "near miss",
        }
    }
}

impl Words for PostmortemStatus {
    fn words(self) -> &'static str {
        match self {
            PostmortemStatus::NotRequired => "no review needed",
            PostmortemStatus::Owed => "owed, not started",
            PostmortemStatus::Draft => "draft",
            PostmortemStatus::InReview => "in review",
            PostmortemStatus::ChangesRequested => "changes requested",
            PostmortemStatus::Approved => "approved",
            PostmortemStatus::Published => "published",
        }
    }
}

impl Words for Requirement {
    fn words(self) -> &'static str {
        match self {
            Requirement::NotRequired => "not required",
            Requirement::Recommended => "recommended",
            Requirement::Required => "required",
        }
    }
}

impl Words for ReviewDecision {
    fn words(self) -> &'static str {
        match self {
            ReviewDecision::Requested => "review requested",
            ReviewDecision::Approved => "approved",
            ReviewDecision::ChangesRequested => "changes requested",
        }
    }
}

impl Words for Role {
    fn words(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Contributor => "contributor",
            Role::Reviewer => "reviewer",
            Role::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Words;
    use postmortem_core::{ActionStatus, IncidentKind, PostmortemStatus};

    #[test]
    fn no_word_is_spelled_like_the_wire() {
        let words: Vec<&str> = ActionStatus::ALL
            .iter()
            .map(|s| s.words())
            .chain(IncidentKind::ALL.iter().map(|k| k.words()))
            .chain(PostmortemStatus::ALL.iter().map(|s| s.words()))
            .collect();
        assert!(words.iter().all(|w| !w.contains('_')), "{words:?}");
    }
}
