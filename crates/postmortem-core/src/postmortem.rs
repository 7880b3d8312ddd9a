//! The post-mortem document: its template, sections, reviews, and what publishing requires.

use crate::{
    ActionItem, CommentId, ContributingFactor, IncidentId, Markdown, Marker, PostmortemStatus,
    ReviewId, TimelineEntry, UserId, ValidationError,
};
use serde::Serialize;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

parsed_string!(
    /// The name of a template, such as `full`, `lightweight` or a custom one from the
    /// configuration: lowercase letters, digits, `_` and `-`.
    TemplateName
);

parsed_string!(
    /// The name of a section, such as `summary` or `contributing_factors`: lowercase letters,
    /// digits and `_`, starting with a letter.
    SectionName
);

fn parse_identifier(field: &str, raw: &str, extra: &[char]) -> Result<String, ValidationError> {
    let folded = raw.trim().to_ascii_lowercase();
    let valid = (1..=48).contains(&folded.len())
        && folded.starts_with(|c: char| c.is_ascii_lowercase())
        && folded.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || extra.contains(&c)
        });
    if valid {
        Ok(folded)
    } else {
        Err(ValidationError::new(
            field,
            format!(
                "`{}` is not a valid name: use 1 to 48 lowercase letters, digits or `_`, starting with a letter",
                raw.trim()
            ),
        ))
    }
}

impl TemplateName {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        parse_identifier("template", raw.as_ref(), &['-']).map(Self)
    }

    pub fn full() -> Self {
        Self("full".to_owned())
    }

    pub fn lightweight() -> Self {
        Self("lightweight".to_owned())
    }
}

impl SectionName {
    pub fn parse(raw: impl AsRef<str>) -> Result<Self, ValidationError> {
        parse_identifier("section", raw.as_ref(), &[]).map(Self)
    }

    fn known(name: &str) -> Self {
        Self(name.to_owned())
    }
}

/// One section a template asks for, with the question shown to the writer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateSection {
    pub name: SectionName,
    pub title: String,
    pub question: String,
}

/// A post-mortem template: which sections, in which order, with which guiding questions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Template {
    pub name: TemplateName,
    pub title: String,
    pub sections: Vec<TemplateSection>,
}

impl Template {
    /// Builds a template, refusing one without sections or with a section twice.
    pub fn new(
        name: TemplateName,
        title: impl Into<String>,
        sections: Vec<TemplateSection>,
    ) -> Result<Self, ValidationError> {
        if sections.is_empty() {
            return Err(ValidationError::new(
                "sections",
                "a template needs at least one section",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        if let Some(dup) = sections.iter().find(|s| !seen.insert(&s.name)) {
            return Err(ValidationError::new(
                "sections",
                format!("section `{}` appears twice", dup.name),
            ));
        }
        Ok(Self {
            name,
            title: title.into(),
            sections,
        })
    }

    /// The full template, for outages and anything with real impact.
    pub fn full() -> Self {
        let sections = [
            (
                "summary",
                "Summary",
                "What happened, in three or four sentences a newcomer would understand?",
            ),
            (
                "impact",
                "Impact",
                "Who was affected, how, and for how long? Give numbers where you have them.",
            ),
            (
                "trigger",
                "Trigger",
                "What change or event set the incident off? It is one condition among several.",
            ),
            (
                "contributing_factors",
                "Contributing factors",
                "Which conditions let the trigger bite: tooling, alerting, ownership, load, defaults, documents?",
            ),
            (
                "detection",
                "Detection",
                "How did we find out, and how could we have found out sooner?",
            ),
            (
                "response",
                "Response",
                "What did people see and believe at each point, and why did their actions make sense at the time?",
            ),
            (
                "recovery",
                "Recovery",
                "What brought the system back, and what made recovery slow or fast?",
            ),
            (
                "went_well",
                "What went well",
                "What worked that we should keep doing?",
            ),
            (
                "got_lucky",
                "Where we got lucky",
                "What could have made this much worse, and did not?",
            ),
            (
                "surprised",
                "Why we were surprised",
                "Which of our beliefs about the system turned out to be wrong?",
            ),
            (
                "lessons",
                "Lessons",
                "What do we understand now that we did not before?",
            ),
        ];
        Self::builtin("full", "Full post-mortem", &sections)
    }

    /// The lightweight template, for near misses and small incidents.
    pub fn lightweight() -> Self {
        let sections = [
            ("summary", "Summary", "What happened, or nearly happened?"),
            (
                "impact",
                "Impact",
                "Who was affected, or who would have been?",
            ),
            (
                "contributing_factors",
                "Contributing factors",
                "Which conditions made this possible?",
            ),
            (
                "got_lucky",
                "Where we got lucky",
                "What stopped it from becoming worse?",
            ),
            ("lessons", "Lessons", "What will we do differently?"),
        ];
        Self::builtin("lightweight", "Lightweight post-mortem", &sections)
    }

    fn builtin(name: &str, title: &str, sections: &[(&str, &str, &str)]) -> Self {
        Self {
            name: TemplateName(name.to_owned()),
            title: title.to_owned(),
            sections: sections
                .iter()
                .map(|(name, title, question)| TemplateSection {
                    name: SectionName::known(name),
                    title: (*title).to_owned(),
                    question: (*question).to_owned(),
                })
                .collect(),
        }
    }
}

/// One written section of a post-mortem, versioned on its own so that two people editing
/// different sections never conflict, and two editing the same one never overwrite silently.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub name: SectionName,
    pub body: Markdown,
    pub version: i64,
    pub updated_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub updated_at: Option<OffsetDateTime>,
}

/// The post-mortem of one incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Postmortem {
    pub incident_id: IncidentId,
    pub template: TemplateName,
    pub status: PostmortemStatus,
    #[serde(serialize_with = "crate::serialize_date_option")]
    pub due_on: Option<Date>,
    pub sections: BTreeMap<SectionName, Section>,
    /// Bumped by every change to the document; the basis of its ETag.
    pub version: i64,
}

closed_set!(
    /// What a reviewer decided, or that their review was requested.
    ReviewDecision, field = "decision" {
        Requested => "requested",
        Approved => "approved",
        ChangesRequested => "changes_requested",
    }
);

/// A reviewer's standing on a post-mortem.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub id: ReviewId,
    pub incident_id: IncidentId,
    pub reviewer: UserId,
    pub decision: ReviewDecision,
    pub comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// A review comment anchored to a section, resolved by the authors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewComment {
    pub id: CommentId,
    pub incident_id: IncidentId,
    pub section: SectionName,
    pub author: UserId,
    pub body: Markdown,
    pub resolved: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// Something a post-mortem lacks before it may be published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// A stable code, such as `section_empty` or `marker_missing`.
    pub code: &'static str,
    /// What is missing, in words a person can act on.
    pub message: String,
}

/// The completeness check run before publishing: summary and impact written, `detected` and
/// `resolved` on the timeline, a contributing factor besides the trigger, and every action
/// item with an owner and a due date. An empty list means complete.
pub fn missing_for_publication(
    postmortem: &Postmortem,
    timeline: &[TimelineEntry],
    factors: &[ContributingFactor],
    actions: &[ActionItem],
) -> Vec<Missing> {
    let mut missing = Vec::new();
    for name in ["summary", "impact"] {
        let written = postmortem
            .sections
            .get(&SectionName::known(name))
            .is_some_and(|s| !s.body.is_blank());
        if !written {
            missing.push(Missing {
                code: "section_empty",
                message: format!("the `{name}` section is not written yet"),
            });
        }
    }
    for marker in [Marker::Detected, Marker::Resolved] {
        if !timeline.iter().any(|e| e.marker == Some(marker)) {
            missing.push(Missing {
                code: "marker_missing",
                message: format!("the timeline has no entry marked `{marker}`"),
            });
        }
    }
    if !factors.iter().any(|f| !f.is_trigger) {
        missing.push(Missing {
            code: "no_contributing_factor",
            message: "add at least one contributing factor besides the trigger: which conditions let it bite?".to_owned(),
        });
    }
    for action in actions {
        if action.owner.is_none() {
            missing.push(Missing {
                code: "action_without_owner",
                message: format!("action item #{} ({}) has no owner", action.id, action.title),
            });
        }
        if action.due_on.is_none() {
            missing.push(Missing {
                code: "action_without_due_date",
                message: format!(
                    "action item #{} ({}) has no due date",
                    action.id, action.title
                ),
            });
        }
    }
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_full_template_asks_the_practices_questions() {
        let full = Template::full();
        let names: Vec<_> = full.sections.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "summary",
                "impact",
                "trigger",
                "contributing_factors",
                "detection",
                "response",
                "recovery",
                "went_well",
                "got_lucky",
                "surprised",
                "lessons"
            ]
        );
        assert!(Template::lightweight().sections.len() < full.sections.len());
    }

    #[test]
    fn a_template_with_a_repeated_section_is_refused() {
        let section = TemplateSection {
            name: SectionName::parse("summary").unwrap(),
            title: "Summary".into(),
            question: "What?".into(),
        };
        let error = Template::new(
            TemplateName::parse("custom").unwrap(),
            "Custom",
            vec![section.clone(), section],
        )
        .unwrap_err();
        assert!(error.to_string().contains("appears twice"));
    }

    #[test]
    fn section_names_are_identifiers() {
        assert!(SectionName::parse("what_we_believed").is_ok());
        assert!(SectionName::parse("1st").is_err());
        assert!(SectionName::parse("what we believed").is_err());
    }

    #[test]
    fn an_empty_post_mortem_lists_everything_it_lacks() {
        let postmortem = Postmortem {
            incident_id: IncidentId::new(1),
            template: TemplateName::full(),
            status: PostmortemStatus::Approved,
            due_on: None,
            sections: BTreeMap::new(),
            version: 1,
        };
        let codes: Vec<_> = missing_for_publication(&postmortem, &[], &[], &[])
            .iter()
            .map(|m| m.code)
            .collect();
        assert_eq!(
            codes,
            [
                "section_empty",
                "section_empty",
                "marker_missing",
                "marker_missing",
                "no_contributing_factor"
            ]
        );
    }
}
