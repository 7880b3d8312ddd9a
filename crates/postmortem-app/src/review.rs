//! The review workflow: moving the post-mortem through its lifecycle (who may make which
//! move, which reviewers are asked, what publishing requires, including confirming the
//! blameless-language checker's findings) and review comments.

use crate::{AppError, Rules, Service, first_words, given};
use postmortem_core::{
    Anchoring, Collector, CommentId, IncidentId, Markdown, PassageQuote, Permission,
    PostmortemStatus, ReviewComment, ReviewDecision, SectionName, User, ValidationError,
    missing_for_publication,
};
use postmortem_markdown::passages::reading_text;
use postmortem_store::IncidentRecord;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

/// A move of the post-mortem through its lifecycle.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"to": "draft"}))]
pub struct TransitionInput {
    /// The status to move to: `draft`, `in_review`, `changes_requested`, `approved`,
    /// `published`, `not_required` or `owed`.
    pub to: String,
    /// Handles of the reviewers asked to review; required for `in_review`.
    pub reviewers: Option<Vec<String>>,
    /// What the reviewer says; required for `not_required` (the reason).
    pub comment: Option<String>,
    /// When publishing: `true` publishes although the blameless-language checker still finds
    /// passages at `warning` or above in the sections; without it such a publish is refused.
    pub confirm_findings: Option<bool>,
}

/// A review comment on a section, or on a passage of it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"section": "summary", "body": "Say what customers saw first.",
    "quote": {"exact": "errors for 20 minutes", "prefix": "Customers saw ", "suffix": ". The cache"}}))]
pub struct CommentInput {
    /// A section of the incident's template, such as `summary`.
    pub section: String,
    /// Markdown.
    pub body: String,
    /// The passage of the section the comment is about; without it the comment is about the
    /// whole section.
    #[serde(default)]
    pub quote: Option<QuoteInput>,
}

/// The passage a comment is about, as the W3C Web Annotation model's `TextQuoteSelector`
/// gives one: the quoted words as the section reads (without Markdown marks) and a little of
/// the text just before and after them, which finds the passage again after the section
/// changes.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteInput {
    /// The quoted words; they must be in the section as it reads now.
    pub exact: String,
    /// Text just before the quote (the last 48 characters are kept).
    #[serde(default)]
    pub prefix: String,
    /// Text just after the quote (the first 48 characters are kept).
    #[serde(default)]
    pub suffix: String,
}

/// A review comment with where its passage stands in the section's current text: `None` for
/// a comment on the whole section.
#[derive(Debug, Clone)]
pub struct PlacedComment<'a> {
    pub comment: &'a ReviewComment,
    pub anchoring: Option<Anchoring>,
    /// The words the passage found holds now (the quote itself, or what replaced it).
    pub passage: Option<String>,
}

/// Every review comment of an incident, in order, each with its passage found again in the
/// section's current reading text (by its words, else by its surroundings, else outdated).
/// Each section with quoted comments is read once.
pub fn place_comments(record: &IncidentRecord) -> Vec<PlacedComment<'_>> {
    let mut readings: std::collections::HashMap<&SectionName, String> =
        std::collections::HashMap::new();
    record
        .comments
        .iter()
        .map(|comment| {
            let Some(quote) = &comment.quote else {
                return PlacedComment {
                    comment,
                    anchoring: None,
                    passage: None,
                };
            };
            let reading = readings.entry(&comment.section).or_insert_with(|| {
                record
                    .postmortem
                    .sections
                    .get(&comment.section)
                    .map_or_else(String::new, |s| reading_text(s.body.as_str()))
            });
            let anchoring = quote.locate(reading);
            let passage = anchoring.range().map(|range| reading[range].to_owned());
            PlacedComment {
                comment,
                anchoring: Some(anchoring),
                passage,
            }
        })
        .collect()
}

/// Parses a quote and checks that its words are in the section as it reads now. A quote
/// copied from the editor's text box may carry Markdown marks (`**`), so a quote not found as
/// given is read as Markdown once more.
fn quote_in_section(
    input: QuoteInput,
    section: &SectionName,
    title: &str,
    record: &IncidentRecord,
) -> Result<PassageQuote, ValidationError> {
    let quote = PassageQuote::parse("quote", &input.exact, &input.prefix, &input.suffix)?;
    let reading = record
        .postmortem
        .sections
        .get(section)
        .map_or_else(String::new, |s| reading_text(s.body.as_str()));
    if matches!(quote.locate(&reading), Anchoring::Exact(_)) {
        return Ok(quote);
    }
    let read = |text: &str| reading_text(text);
    if let Ok(unmarked) = PassageQuote::parse(
        "quote",
        &read(&input.exact),
        &read(&input.prefix),
        &read(&input.suffix),
    ) && matches!(unmarked.locate(&reading), Anchoring::Exact(_))
    {
        return Ok(unmarked);
    }
    Err(ValidationError::new(
        "quote.exact",
        format!(
            "“{}” is not in the section “{title}” as it reads now; select the words again, or copy them exactly",
            first_words(quote.exact())
        ),
    ))
}

/// One finding of the blameless-language checker in a written section.
#[derive(Debug, Clone)]
pub struct SectionFinding {
    pub section: SectionName,
    pub finding: postmortem_lint::Finding,
}

/// The names the checker always takes for people in this incident: whoever the timeline
/// says did something. Capitalised names are recognised anyway; this catches the lower-case
/// handles and nicknames that people type into "Who did it".
pub fn lint_participants(record: &IncidentRecord) -> Vec<String> {
    let mut names: Vec<String> = record
        .timeline
        .iter()
        .filter_map(|entry| entry.actor.as_deref().map(str::trim))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Every written section of the template, in order, with all the checker's findings in it.
fn lint_sections(
    rules: &Rules,
    record: &IncidentRecord,
) -> Vec<(SectionName, Vec<postmortem_lint::Finding>)> {
    let options = postmortem_lint::LintOptions {
        participants: lint_participants(record),
        config: rules.lint.clone(),
    };
    let template = rules.templates.resolve(&record.postmortem.template);
    template
        .sections
        .iter()
        .filter_map(|section| {
            let written = record.postmortem.sections.get(&section.name)?;
            let findings = postmortem_lint::lint(written.body.as_str(), &options);
            Some((section.name.clone(), findings))
        })
        .collect()
}

/// The checker's findings at `warning` or above across the written sections, in template
/// order. The review area counts them and publishing asks for confirmation while any remain.
pub fn blame_findings(rules: &Rules, record: &IncidentRecord) -> Vec<SectionFinding> {
    lint_sections(rules, record)
        .into_iter()
        .flat_map(|(section, findings)| {
            findings
                .into_iter()
                .filter(|f| f.severity >= postmortem_lint::Severity::Warning)
                .map(move |finding| SectionFinding {
                    section: section.clone(),
                    finding,
                })
        })
        .collect()
}

/// What the review area says about the language of the written sections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlameSummary {
    /// Findings at `warning` or above (what publishing asks to confirm).
    pub warnings: usize,
    /// Sentences that put a person at the centre of a failure: those with any blame finding,
    /// the checker's advice included, each counted once.
    pub person_centred: usize,
}

/// Lints the written sections once and sums up [`BlameSummary`].
pub fn blame_summary(rules: &Rules, record: &IncidentRecord) -> BlameSummary {
    let mut summary = BlameSummary::default();
    for (_, findings) in lint_sections(rules, record) {
        summary.warnings += findings
            .iter()
            .filter(|f| f.severity >= postmortem_lint::Severity::Warning)
            .count();
        summary.person_centred += postmortem_lint::person_centred_sentences(&findings);
    }
    summary
}

/// Where a post-mortem stands after a transition.
#[derive(Debug, Clone, Copy)]
pub struct Transitioned {
    pub status: PostmortemStatus,
    pub version: i64,
}

impl Service<'_> {
    /// Moves the post-mortem through its lifecycle, enforcing the review workflow: who may
    /// make which move, which reviewers are asked, and what publishing requires.
    pub async fn transition(
        &self,
        id: IncidentId,
        input: TransitionInput,
    ) -> Result<Transitioned, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "change a post-mortem's status")?;
        let to = PostmortemStatus::parse(&input.to).map_err(AppError::from)?;
        let from = record.postmortem.status;
        from.transition(to)
            .map_err(|error| AppError::IllegalTransition(error.to_string()))?;
        let comment = match given(&input.comment) {
            Some(raw) => {
                Some(postmortem_core::check_prose("comment", raw).map(|()| raw.to_owned())?)
            }
            None => None,
        };
        let store = &self.app.store;
        match to {
            PostmortemStatus::InReview => {
                let reviewers = self.reviewers(input.reviewers.unwrap_or_default()).await?;
                for reviewer in &reviewers {
                    store
                        .set_review(
                            self.actor(),
                            id,
                            reviewer.id,
                            ReviewDecision::Requested,
                            None,
                        )
                        .await?;
                }
            }
            PostmortemStatus::Approved => {
                self.require(Permission::Review, "approve post-mortems")?;
                let reviewer = self.only_a_person("approve post-mortems")?;
                store
                    .set_review(
                        self.actor(),
                        id,
                        reviewer.id,
                        ReviewDecision::Approved,
                        comment.clone(),
                    )
                    .await?;
            }
            PostmortemStatus::ChangesRequested => {
                self.require(Permission::Review, "request changes")?;
                let reviewer = self.only_a_person("request changes")?;
                store
                    .set_review(
                        self.actor(),
                        id,
                        reviewer.id,
                        ReviewDecision::ChangesRequested,
                        comment.clone(),
                    )
                    .await?;
            }
            PostmortemStatus::NotRequired => {
                self.require(Permission::Review, "waive a post-mortem")?;
                if comment.is_none() {
                    return Err(ValidationError::new(
                        "comment",
                        "say why no post-mortem is needed; the reason is kept in the audit log",
                    )
                    .into());
                }
            }
            PostmortemStatus::Published => {
                let mut missing: Vec<serde_json::Value> = Vec::new();
                if !record
                    .reviews
                    .iter()
                    .any(|r| r.decision == ReviewDecision::Approved)
                {
                    missing.push(json!({"code": "no_approval", "message": "no reviewer has approved this post-mortem yet"}));
                }
                let incomplete = missing_for_publication(
                    self.app
                        .rules
                        .templates
                        .resolve(&record.postmortem.template),
                    &record.postmortem,
                    &record.timeline,
                    &record.factors,
                    &record.actions,
                );
                missing.extend(
                    incomplete
                        .iter()
                        .map(|m| json!({"code": m.code, "message": m.message})),
                );
                if !missing.is_empty() {
                    let message = format!(
                        "the post-mortem is not ready to publish: {}",
                        missing
                            .iter()
                            .filter_map(|m| m["message"].as_str())
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    return Err(AppError::Incomplete {
                        message,
                        missing: serde_json::Value::Array(missing),
                    });
                }
                // Blame in a published post-mortem is hard to take back, so publishing over
                // the checker's warnings is a decision someone makes on purpose.
                let findings = blame_findings(&self.app.rules, &record);
                if !findings.is_empty() && input.confirm_findings != Some(true) {
                    let details: Vec<serde_json::Value> = findings
                        .iter()
                        .map(|SectionFinding { section, finding }| {
                            json!({
                                "code": "blame_language",
                                "section": section,
                                "line": finding.line,
                                "column": finding.column,
                                "rule": finding.rule,
                                "severity": finding.severity,
                                "message": format!(
                                    "{}, line {}:{}: {} {}",
                                    section.as_str().replace('_', " "),
                                    finding.line,
                                    finding.column,
                                    finding.message,
                                    finding.suggestion
                                ),
                            })
                        })
                        .collect();
                    let count = findings.len();
                    return Err(AppError::UnconfirmedFindings {
                        message: format!(
                            "the blameless-language checker still finds {count} passage{} that may read as blame; rewrite {} in the editor, or confirm that you publish as it is (`confirm_findings`)",
                            if count == 1 { "" } else { "s" },
                            if count == 1 { "it" } else { "them" },
                        ),
                        findings: serde_json::Value::Array(details),
                    });
                }
            }
            PostmortemStatus::Draft | PostmortemStatus::Owed => {}
        }
        let version = store.set_status(self.actor(), id, to, comment).await?;
        Ok(Transitioned {
            status: to,
            version,
        })
    }

    /// The people asked to review: at least one, each with the reviewer or admin role.
    async fn reviewers(&self, handles: Vec<String>) -> Result<Vec<User>, AppError> {
        let handles: Vec<String> = handles
            .into_iter()
            .filter(|h| !h.trim().is_empty())
            .collect();
        if handles.is_empty() {
            return Err(ValidationError::new(
                "reviewers",
                "name at least one reviewer (a person with the reviewer or admin role)",
            )
            .into());
        }
        let mut errors = Collector::default();
        let mut reviewers: Vec<User> = Vec::new();
        for (n, raw) in handles.iter().enumerate() {
            let field = format!("reviewers[{n}]");
            let Some(user) = errors.ok(self.person(&field, raw).await) else {
                continue;
            };
            if !user.role.can_review() {
                errors.push(ValidationError::new(
                    field,
                    format!(
                        "`{}` is a {}; reviewers need the reviewer or admin role",
                        user.handle, user.role
                    ),
                ));
            } else if !reviewers.iter().any(|r| r.id == user.id) {
                reviewers.push(user);
            }
        }
        if errors.is_empty() {
            Ok(reviewers)
        } else {
            Err(AppError::Invalid(errors.into_errors()))
        }
    }

    pub async fn add_comment(
        &self,
        id: IncidentId,
        input: CommentInput,
    ) -> Result<ReviewComment, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Review, "comment on a review")?;
        let template = self
            .app
            .rules
            .templates
            .resolve(&record.postmortem.template);
        let mut errors = Collector::default();
        let section = SectionName::parse(&input.section)
            .ok()
            .filter(|name| template.sections.iter().any(|s| &s.name == name));
        if section.is_none() {
            let valid: Vec<&str> = template.sections.iter().map(|s| s.name.as_str()).collect();
            errors.push(ValidationError::new(
                "section",
                format!(
                    "`{}` is not a section of the `{}` template; its sections are: {}",
                    input.section.trim(),
                    template.name,
                    valid.join(", ")
                ),
            ));
        }
        let body = errors.ok(Markdown::parse_non_empty("body", input.body));
        let quote = match (&section, input.quote) {
            (Some(section), Some(quote)) => {
                let title = template
                    .sections
                    .iter()
                    .find(|s| &s.name == section)
                    .map_or(section.as_str(), |s| s.title.as_str());
                errors
                    .ok(quote_in_section(quote, section, title, &record))
                    .map(Some)
            }
            _ => Some(None),
        };
        let (Some(section), Some(body), Some(quote)) = (section, body, quote) else {
            return Err(AppError::Invalid(errors.into_errors()));
        };
        Ok(self
            .app
            .store
            .add_comment(self.actor(), id, section, body, quote)
            .await?)
    }

    /// Marks a review comment resolved (`true`) or open again (`false`), where it stands.
    pub async fn set_comment_resolved(
        &self,
        id: IncidentId,
        comment_id: CommentId,
        resolved: bool,
    ) -> Result<(), AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "resolve review comments")?;
        Ok(self
            .app
            .store
            .set_comment_resolved(self.actor(), id, comment_id, resolved)
            .await?)
    }
}
