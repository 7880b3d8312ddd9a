//! The post-mortem document: its template, sections, reviews, and what publishing requires.

use crate::{
    ActionItem, ActionStatus, CommentId, ContributingFactor, IncidentId, Markdown, Marker,
    PostmortemStatus, ReviewId, TimelineEntry, UserId, ValidationError,
};
use serde::{Deserialize, Serialize};
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
    crate::characters::check_line(field, raw)?;
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

/// One `[[templates.sections]]` entry of `postmortem.toml`, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionConfig {
    /// Lowercase letters, digits and `_`, such as `what_we_believed`.
    pub name: String,
    pub title: String,
    /// The guiding question shown while writing the section.
    pub question: String,
}

/// One `[[templates]]` entry of `postmortem.toml`, before it is checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateConfig {
    /// Lowercase letters, digits, `_` and `-`; not `full` or `lightweight`.
    pub name: String,
    pub title: String,
    pub sections: Vec<SectionConfig>,
}

/// The templates in force: the built-in `full` and `lightweight`, then the configured ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Templates {
    all: Vec<Template>,
}

impl Default for Templates {
    fn default() -> Self {
        Self {
            all: vec![Template::full(), Template::lightweight()],
        }
    }
}

impl Templates {
    /// Checks configured templates: valid and unique template names (the built-in ones are
    /// taken), valid and unique section names, and a title and question for every section.
    /// The error names the entry, such as `templates[1].sections[0].name`.
    pub fn from_config(configs: Vec<TemplateConfig>) -> Result<Self, ValidationError> {
        let mut templates = Self::default();
        for (n, config) in configs.into_iter().enumerate() {
            let at = |field: &str| format!("templates[{n}].{field}");
            let name = TemplateName::parse(&config.name)
                .map_err(|e| ValidationError::new(at("name"), e.rule()))?;
            if templates.get(&name).is_some() {
                let why = if matches!(name.as_str(), "full" | "lightweight") {
                    format!("`{name}` is a built-in template; give yours another name")
                } else {
                    format!("`{name}` is declared twice; template names must be unique")
                };
                return Err(ValidationError::new(at("name"), why));
            }
            if config.title.trim().is_empty() {
                return Err(ValidationError::new(at("title"), "must not be empty"));
            }
            if config.sections.is_empty() {
                return Err(ValidationError::new(
                    at("sections"),
                    "a template needs at least one section, such as [[templates.sections]] name = \"summary\"",
                ));
            }
            let mut sections: Vec<TemplateSection> = Vec::new();
            for (k, section) in config.sections.into_iter().enumerate() {
                let at = |field: &str| at(&format!("sections[{k}].{field}"));
                let name = SectionName::parse(&section.name)
                    .map_err(|e| ValidationError::new(at("name"), e.rule()))?;
                if sections.iter().any(|s| s.name == name) {
                    return Err(ValidationError::new(
                        at("name"),
                        format!("section `{name}` appears twice in this template"),
                    ));
                }
                for (field, value) in [("title", &section.title), ("question", &section.question)] {
                    if value.trim().is_empty() {
                        return Err(ValidationError::new(
                            at(field),
                            "must not be empty; the question is what writers see while writing",
                        ));
                    }
                }
                sections.push(TemplateSection {
                    name,
                    title: section.title.trim().to_owned(),
                    question: section.question.trim().to_owned(),
                });
            }
            templates
                .all
                .push(Template::new(name, config.title.trim(), sections)?);
        }
        Ok(templates)
    }

    /// The template of this name, if there is one.
    pub fn get(&self, name: &TemplateName) -> Option<&Template> {
        self.all.iter().find(|t| &t.name == name)
    }

    /// The template a stored post-mortem follows. A name no longer configured falls back to
    /// `full`, so the post-mortem stays readable after its template was removed.
    pub fn resolve(&self, name: &TemplateName) -> &Template {
        self.get(name).unwrap_or(&self.all[0])
    }

    /// Every template, built-in ones first.
    pub fn all(&self) -> &[Template] {
        &self.all
    }

    /// The names of every template, for messages that list them.
    pub fn names(&self) -> String {
        self.all
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
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

/// A review comment on a section, or on a passage of it (`quote`), resolved by the authors.
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
    /// The passage the comment is about, as it read when the comment was written; `None`
    /// for a comment on the whole section.
    pub quote: Option<crate::PassageQuote>,
}

/// A change to a published post-mortem, made on purpose and said in words, which readers see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Revision {
    pub id: i64,
    pub incident_id: IncidentId,
    pub revised_by: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    pub revised_at: OffsetDateTime,
    /// What changed, in the reviser's words.
    pub note: String,
    /// The sections whose text changed.
    pub sections: Vec<SectionName>,
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
/// item that will be done with an owner and a due date. A custom template without a `summary` or an `impact`
/// section is not asked for it; when it has one, it must be written. An empty list means
/// complete.
pub fn missing_for_publication(
    template: &Template,
    postmortem: &Postmortem,
    timeline: &[TimelineEntry],
    factors: &[ContributingFactor],
    actions: &[ActionItem],
) -> Vec<Missing> {
    let mut missing = Vec::new();
    for name in ["summary", "impact"] {
        if !template.sections.iter().any(|s| s.name.as_str() == name) {
            continue;
        }
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
    // An item that will not be done, with its reason, owes no owner and no date: it is a
    // decision on the record, not work to track.
    for action in actions.iter().filter(|a| a.status != ActionStatus::WontDo) {
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

    const CONFIGURED: &str = r#"[
        {"name": "security", "title": "Security review", "sections": [
            {"name": "summary", "title": "Summary", "question": "What happened?"},
            {"name": "what_we_believed", "title": "What we believed",
             "question": "What did we believe at the time, and why did it make sense?"}
        ]}
    ]"#;

    #[test]
    fn configured_templates_join_the_built_in_ones_with_their_questions() {
        let configs: Vec<TemplateConfig> = serde_json::from_str(CONFIGURED).unwrap();
        let templates = Templates::from_config(configs).unwrap();
        assert_eq!(templates.names(), "full, lightweight, security");
        let security = templates
            .get(&TemplateName::parse("security").unwrap())
            .unwrap();
        assert_eq!(security.title, "Security review");
        assert_eq!(
            security.sections[1].question,
            "What did we believe at the time, and why did it make sense?"
        );
        let gone = TemplateName::parse("retired").unwrap();
        assert_eq!(templates.resolve(&gone).name, TemplateName::full());
    }

    fn refusal(json: &str) -> String {
        let configs: Vec<TemplateConfig> = serde_json::from_str(json).unwrap();
        Templates::from_config(configs).unwrap_err().to_string()
    }

    #[test]
    fn template_mistakes_are_refused_naming_the_entry() {
        let section = r#"{"name": "summary", "title": "Summary", "question": "What?"}"#;
        assert_eq!(
            refusal(&format!(
                r#"[{{"name": "full", "title": "Mine", "sections": [{section}]}}]"#
            )),
            "templates[0].name: `full` is a built-in template; give yours another name"
        );
        assert_eq!(
            refusal(&format!(
                r#"[{{"name": "a", "title": "A", "sections": [{section}]}}, {{"name": "A", "title": "B", "sections": [{section}]}}]"#
            )),
            "templates[1].name: `a` is declared twice; template names must be unique"
        );
        assert!(
            refusal(&format!(r#"[{{"name": "a", "title": "A", "sections": [{section}, {{"name": "What we believed", "title": "T", "question": "Q"}}]}}]"#))
                .starts_with("templates[0].sections[1].name: `What we believed` is not a valid name")
        );
        assert_eq!(
            refusal(&format!(
                r#"[{{"name": "a", "title": "A", "sections": [{section}, {section}]}}]"#
            )),
            "templates[0].sections[1].name: section `summary` appears twice in this template"
        );
        assert!(
            refusal(r#"[{"name": "a", "title": "A", "sections": [{"name": "summary", "title": "Summary", "question": " "}]}]"#)
                .starts_with("templates[0].sections[0].question: must not be empty")
        );
        assert!(
            refusal(r#"[{"name": "a", "title": "A", "sections": []}]"#)
                .starts_with("templates[0].sections:")
        );
        assert!(
            serde_json::from_str::<Vec<TemplateConfig>>(
                r#"[{"name": "a", "title": "A", "sections": [], "colour": "red"}]"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_custom_template_without_summary_or_impact_is_not_asked_for_them() {
        let configs: Vec<TemplateConfig> = serde_json::from_str(
            r#"[{"name": "short", "title": "Short", "sections": [
                {"name": "impact", "title": "Impact", "question": "Who?"},
                {"name": "lessons", "title": "Lessons", "question": "What now?"}]}]"#,
        )
        .unwrap();
        let templates = Templates::from_config(configs).unwrap();
        let short = templates
            .get(&TemplateName::parse("short").unwrap())
            .unwrap();
        let postmortem = Postmortem {
            incident_id: IncidentId::new(1),
            template: short.name.clone(),
            status: PostmortemStatus::Approved,
            due_on: None,
            sections: BTreeMap::new(),
            version: 1,
        };
        let messages: Vec<_> = missing_for_publication(short, &postmortem, &[], &[], &[])
            .into_iter()
            .filter(|m| m.code == "section_empty")
            .map(|m| m.message)
            .collect();
        assert_eq!(messages, ["the `impact` section is not written yet"]);
    }

    #[test]
    fn an_item_that_will_not_be_done_owes_no_owner_or_date_but_one_that_will_does() {
        let postmortem = Postmortem {
            incident_id: IncidentId::new(1),
            template: TemplateName::full(),
            status: PostmortemStatus::Approved,
            due_on: None,
            sections: BTreeMap::new(),
            version: 1,
        };
        let item = |id: i64, status: ActionStatus, reason: Option<&str>| ActionItem {
            id: crate::ActionId::new(id),
            incident_id: IncidentId::new(1),
            title: crate::Title::parse("Alert on pool saturation").unwrap(),
            owner: None,
            team: None,
            due_on: None,
            priority: crate::Priority::P2,
            kind: crate::ActionKind::Detect,
            status,
            wont_do_reason: reason.map(str::to_owned),
            external_url: None,
            factor_ids: Vec::new(),
            verification: None,
            created_at: time::macros::datetime!(2026-03-01 12:00 UTC),
            completed_at: None,
        };
        let actions = [
            item(
                1,
                ActionStatus::WontDo,
                Some("The service is retired next month."),
            ),
            item(2, ActionStatus::Open, None),
        ];
        let codes: Vec<_> =
            missing_for_publication(&Template::full(), &postmortem, &[], &[], &actions)
                .into_iter()
                .filter(|m| m.code.starts_with("action"))
                .map(|m| m.message)
                .collect();
        assert_eq!(
            codes,
            [
                "action item #2 (Alert on pool saturation) has no owner",
                "action item #2 (Alert on pool saturation) has no due date"
            ]
        );
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
        let codes: Vec<_> = missing_for_publication(&Template::full(), &postmortem, &[], &[], &[])
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
