//! The words of post-mortems written elsewhere: which headings mean which section, and what
//! a severity, a status, a kind of incident, a kind of action or a factor's category is when
//! people write it in their own words.

use postmortem_core::{
    ActionKind, ActionStatus, BundleTimelineEntry, FactorCategory, IncidentKind, Marker,
    PostmortemStatus, Priority, Severity,
};

/// What a heading is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    Section(&'static str),
    Timeline,
    Actions,
    /// `Stats`, `Key information`: facts, kept as a section too.
    Facts,
}

/// Headings people use, by what they map to. Matched after lowercasing and dropping
/// numbering, emoji and punctuation; the first phrase a heading equals or starts with wins.
pub(super) const SYNONYMS: &[(&str, Target)] = &[
    ("action items", Target::Actions),
    ("action item", Target::Actions),
    ("actions", Target::Actions),
    ("follow up actions", Target::Actions),
    ("follow ups", Target::Actions),
    ("followups", Target::Actions),
    ("corrective and preventative", Target::Actions),
    ("corrective and preventive", Target::Actions),
    ("corrective actions", Target::Actions),
    ("preventive actions", Target::Actions),
    ("preventative actions", Target::Actions),
    ("preventive measures", Target::Actions),
    ("remediation items", Target::Actions),
    ("remediations", Target::Actions),
    ("next steps", Target::Actions),
    ("todo", Target::Actions),
    ("to do", Target::Actions),
    ("incident timeline", Target::Timeline),
    ("timeline", Target::Timeline),
    ("sequence of events", Target::Timeline),
    ("chronology", Target::Timeline),
    ("key timestamps", Target::Facts),
    ("stats", Target::Facts),
    ("key information", Target::Facts),
    ("metadata", Target::Facts),
    ("incident details", Target::Facts),
    ("details", Target::Facts),
    ("executive summary", Target::Section("summary")),
    ("incident summary", Target::Section("summary")),
    ("issue summary", Target::Section("summary")),
    ("summary", Target::Section("summary")),
    ("overview", Target::Section("summary")),
    ("tl dr", Target::Section("summary")),
    ("tldr", Target::Section("summary")),
    ("description", Target::Section("summary")),
    ("what happened", Target::Section("summary")),
    ("impact", Target::Section("impact")),
    ("customer impact", Target::Section("impact")),
    ("user impact", Target::Section("impact")),
    ("business impact", Target::Section("impact")),
    ("trigger", Target::Section("trigger")),
    ("root cause", Target::Section("trigger")),
    ("root causes", Target::Section("trigger")),
    ("cause", Target::Section("trigger")),
    ("causes", Target::Section("trigger")),
    (
        "contributing factors",
        Target::Section("contributing_factors"),
    ),
    (
        "contributing causes",
        Target::Section("contributing_factors"),
    ),
    ("contributors", Target::Section("contributing_factors")),
    ("factors", Target::Section("contributing_factors")),
    ("detection", Target::Section("detection")),
    ("how we found out", Target::Section("detection")),
    ("response", Target::Section("response")),
    ("incident response", Target::Section("response")),
    ("escalation", Target::Section("response")),
    ("recovery", Target::Section("recovery")),
    ("resolution", Target::Section("recovery")),
    ("resolution and recovery", Target::Section("recovery")),
    ("solution", Target::Section("recovery")),
    ("mitigation", Target::Section("recovery")),
    ("remediation", Target::Section("recovery")),
    ("fix", Target::Section("recovery")),
    ("what went well", Target::Section("went_well")),
    ("things that went well", Target::Section("went_well")),
    ("went well", Target::Section("went_well")),
    ("where we got lucky", Target::Section("got_lucky")),
    ("got lucky", Target::Section("got_lucky")),
    ("lucky", Target::Section("got_lucky")),
    ("why we were surprised", Target::Section("surprised")),
    ("surprises", Target::Section("surprised")),
    ("what surprised us", Target::Section("surprised")),
    ("lessons learned", Target::Section("lessons")),
    ("lessons learnt", Target::Section("lessons")),
    ("lessons", Target::Section("lessons")),
    ("learnings", Target::Section("lessons")),
    ("takeaways", Target::Section("lessons")),
    ("key takeaways", Target::Section("lessons")),
];

/// Lowercase words of a heading, without numbering ("1.", "2)"), emoji or punctuation.
pub(super) fn normalise(heading: &str) -> String {
    let words: Vec<String> = heading
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let skip = words
        .iter()
        .take_while(|w| w.chars().all(|c| c.is_ascii_digit()) || *w == "utc")
        .count();
    words[skip..]
        .iter()
        .filter(|w| *w != "utc")
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn target_of(heading: &str) -> Option<&'static Target> {
    let words = normalise(heading);
    if words.is_empty() {
        return None;
    }
    SYNONYMS
        .iter()
        .find(|(phrase, _)| words == *phrase)
        .or_else(|| {
            SYNONYMS.iter().find(|(phrase, _)| {
                words.starts_with(&format!("{phrase} ")) || words.ends_with(&format!(" {phrase}"))
            })
        })
        .map(|(_, target)| target)
}

/// "Post-mortem: Checkout down" is "Checkout down".
pub(super) fn strip_title_label(title: &str) -> &str {
    let lower = title.to_lowercase();
    for label in [
        "post-mortem",
        "postmortem",
        "post mortem",
        "incident postmortem",
        "incident post-mortem",
        "incident report",
        "incident",
    ] {
        if lower.starts_with(label) {
            let rest = title[label.len()..].trim_start_matches([':', '-', '–', '—', ' ']);
            if !rest.is_empty() && rest.len() < title.len() {
                return rest;
            }
        }
    }
    title
}

/// Gives the first entry whose words say so each marker, in time order, one marker an entry.
pub(super) fn mark(timeline: &mut [BundleTimelineEntry]) {
    let rules: [(Marker, &[&str]); 4] = [
        (
            Marker::ImpactStart,
            &[
                "impact start",
                "outage begins",
                "impact begins",
                "outage began",
                "errors began",
                "began failing",
                "started failing",
                "incident began",
                "impact began",
            ],
        ),
        (
            Marker::Detected,
            &[
                "alert",
                "paged",
                "page ",
                "detected",
                "reported",
                "reports of",
                "noticed",
                "pagerduty",
                "opened",
            ],
        ),
        (
            Marker::Mitigated,
            &[
                "mitigat",
                "rolled back",
                "rollback",
                "reverted",
                "workaround",
                "failed over",
                "errors drop",
            ],
        ),
        (
            Marker::Resolved,
            &[
                "resolved",
                "recovered",
                "fully restored",
                "closed",
                "all clear",
                "back to normal",
                "confirmed working",
                "stable",
            ],
        ),
    ];
    for (marker, words) in rules {
        let hit = timeline.iter_mut().find(|entry| {
            let text = entry.entry.text.as_str().to_lowercase();
            entry.entry.marker.is_none() && words.iter().any(|w| text.contains(w))
        });
        if let Some(entry) = hit {
            entry.entry.marker = Some(marker);
        }
    }
}

pub(super) fn kind_of(text: &str) -> Option<IncidentKind> {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if let Ok(kind) = IncidentKind::parse(&lower.replace([' ', '-'], "_")) {
        return Some(kind);
    }
    if has(&["near miss", "near-miss"]) {
        Some(IncidentKind::NearMiss)
    } else if has(&[
        "security",
        "vulnerab",
        "cve-",
        "breach",
        "exploit",
        "log4shell",
        "malicious",
        "compromise",
    ]) {
        Some(IncidentKind::Security)
    } else if has(&["data loss", "lost data", "data was lost"]) {
        Some(IncidentKind::DataLoss)
    } else if has(&[
        "degrad",
        "slow",
        "latency",
        "partial",
        "elevated error",
        "intermittent",
    ]) {
        Some(IncidentKind::Degradation)
    } else if has(&["outage", "down", "unavailable", "503", "502", "504"]) {
        Some(IncidentKind::Outage)
    } else {
        None
    }
}

pub(super) fn severity_of(raw: &str) -> Option<Severity> {
    let lower = raw.to_lowercase();
    let digit = lower
        .replace(['-', ' ', '_'], "")
        .trim_start_matches("sev")
        .trim_start_matches("severity")
        .trim_start_matches('p')
        .chars()
        .next()
        .and_then(|c| c.to_digit(10));
    let level = match digit {
        // SEV0 and P0 are the worst there is; this scale's worst is SEV1.
        Some(d) => d.clamp(1, 4),
        None if lower.contains("critical") => 1,
        None if lower.contains("major") || lower.contains("high") => 2,
        None if lower.contains("minor")
            || lower.contains("medium")
            || lower.contains("moderate") =>
        {
            3
        }
        None if lower.contains("low") => 4,
        None => return None,
    };
    Severity::parse(&format!("SEV{level}")).ok()
}

pub(super) fn status_of(raw: &str) -> PostmortemStatus {
    let lower = raw.to_lowercase();
    if lower.contains("draft") {
        PostmortemStatus::Draft
    } else if lower.contains("review") {
        PostmortemStatus::InReview
    } else {
        PostmortemStatus::Published
    }
}

pub(super) fn action_status_of(raw: &str) -> ActionStatus {
    let lower = raw.to_lowercase();
    if ["won't", "wont", "cancel", "rejected", "not doing"]
        .iter()
        .any(|w| lower.contains(w))
    {
        ActionStatus::WontDo
    } else if [
        "done", "complete", "closed", "fixed", "resolved", "✅", "[x]",
    ]
    .iter()
    .any(|w| lower.contains(w))
    {
        ActionStatus::Done
    } else if ["progress", "doing", "started", "ongoing"]
        .iter()
        .any(|w| lower.contains(w))
    {
        ActionStatus::InProgress
    } else {
        ActionStatus::Open
    }
}

pub(super) fn priority_of(raw: &str) -> Priority {
    let lower = raw.to_lowercase();
    if lower.contains("p1")
        || lower.contains("p0")
        || lower.contains("high")
        || lower.contains("urgent")
    {
        Priority::P1
    } else if lower.contains("p3") || lower.contains("low") {
        Priority::P3
    } else {
        Priority::P2
    }
}

pub(super) fn action_kind_of(lower: &str) -> ActionKind {
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&[
        "monitor",
        "alert",
        "detect",
        "dashboard",
        "metric",
        "observab",
        "page ",
    ]) {
        ActionKind::Detect
    } else if has(&[
        "runbook",
        "document",
        "process",
        "training",
        "communicat",
        "review",
        "playbook",
        "checklist",
    ]) {
        ActionKind::Process
    } else if has(&[
        "mitigat",
        "rollback",
        "roll back",
        "failover",
        "circuit",
        "fallback",
        "throttl",
        "rate limit",
    ]) {
        ActionKind::Mitigate
    } else {
        ActionKind::Prevent
    }
}

pub(super) fn category_of(text: &str) -> FactorCategory {
    let lower = text.to_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&["monitor", "alert", "no visibility", "observab"]) {
        FactorCategory::Alerting
    } else if has(&["runbook", "documentation", "docs", "outdated"]) {
        FactorCategory::OutdatedDocs
    } else if has(&["test"]) {
        FactorCategory::InsufficientTesting
    } else if has(&[
        "capacity",
        "exhaust",
        "starvation",
        "limit",
        "quota",
        "out of memory",
        "disk full",
    ]) {
        FactorCategory::Capacity
    } else if has(&["owner", "ownership"]) {
        FactorCategory::UnclearOwnership
    } else if has(&["depend"]) {
        FactorCategory::HiddenDependency
    } else if has(&["default", "config", "not configured", "misconfig"]) {
        FactorCategory::RiskyDefault
    } else if has(&[
        "deploy",
        "upgrade",
        "release",
        "change",
        "migration",
        "version",
    ]) {
        FactorCategory::ChangeManagement
    } else if has(&["communicat", "informed", "notif"]) {
        FactorCategory::Communication
    } else if has(&[
        "vendor",
        "third party",
        "third-party",
        "provider",
        "aws",
        "gcp",
        "azure",
    ]) {
        FactorCategory::ThirdParty
    } else if has(&["tool", "script"]) {
        FactorCategory::AwkwardTooling
    } else if has(&["tired", "fatigue", "overload", "alone", "busy"]) {
        FactorCategory::Overload
    } else {
        FactorCategory::Other
    }
}

#[cfg(test)]
mod tests {
    use super::super::key_value;
    use super::*;

    #[test]
    fn headings_map_by_name_and_synonym() {
        assert_eq!(target_of("## 3. Timeline (UTC)"), Some(&Target::Timeline));
        assert_eq!(target_of("Root Cause"), Some(&Target::Section("trigger")));
        assert_eq!(target_of("🚨 Summary"), Some(&Target::Section("summary")));
        assert_eq!(
            target_of("Corrective and Preventative Measures"),
            Some(&Target::Actions)
        );
        assert_eq!(
            target_of("Lessons Learned"),
            Some(&Target::Section("lessons"))
        );
        assert_eq!(target_of("Atendees"), None);
    }

    #[test]
    fn key_value_lines_are_read_in_their_usual_shapes() {
        assert_eq!(
            key_value("**Date**: 2025-01-01"),
            Some(("Date", "2025-01-01"))
        );
        assert_eq!(
            key_value("- **Severity:** SEV1"),
            Some(("Severity", "SEV1"))
        );
        assert_eq!(
            key_value("> **Incident ID:** INC-1"),
            Some(("Incident ID", "INC-1"))
        );
        assert_eq!(key_value("https://example.com"), None);
    }

    #[test]
    fn severities_are_read_from_the_words_people_use() {
        let level = |raw| severity_of(raw).map(Severity::level);
        assert_eq!(level("SEV-1"), Some(1));
        assert_eq!(level("P2 (High)"), Some(2));
        assert_eq!(level("Sev 0"), Some(1));
        assert_eq!(level("Minor"), Some(3));
        assert_eq!(level("unknown"), None);
    }
}
