//! Writing the post-mortem: saving sections against the version the writer started from
//! (never silently over someone else's), and adding, correcting and removing timeline
//! entries and contributing factors (one trigger at most). Changing a published post-mortem
//! is a revision said in words, which readers see and its reviewers are told about.

use crate::{AppError, Service, double_option, given, line};
use postmortem_core::{
    Collector, ContributingFactor, FactorCategory, FactorId, IncidentId, Markdown, Marker,
    NewFactor, NewTimelineEntry, Permission, Perspective, PostmortemStatus, SectionName, Source,
    TimelineEntry, TimelineEntryId, User, ValidationError, WebLink, check_prose, format_instant,
    parse_instant,
};
use postmortem_store::{IncidentRecord, NewRevision, SaveOutcome};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// A new timeline entry.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"at": "2026-03-01T14:05:00+01:00", "text": "Error rate alert fired for checkout", "marker": "detected", "source": "alert"}))]
pub struct TimelineInput {
    /// When it happened: RFC 3339 with an offset; a local time without one is refused.
    pub at: String,
    /// What happened, was seen or was believed, in Markdown.
    pub text: String,
    /// Who did it, if a person did.
    pub actor: Option<String>,
    /// `impact_start`, `detected`, `mitigated` or `resolved`.
    pub marker: Option<String>,
    /// `happened` (default), `observed` or `believed`.
    pub perspective: Option<String>,
    /// `manual` (default), `chat`, `alert`, `deploy` or `import`.
    pub source: Option<String>,
    pub source_url: Option<String>,
}

impl TimelineInput {
    fn parse(self) -> Result<NewTimelineEntry, Vec<ValidationError>> {
        let mut errors = Collector::default();
        let at = errors.ok(parse_instant("at", &self.at));
        let text = errors.ok(Markdown::parse_non_empty("text", self.text.clone()));
        let marker = given(&self.marker).and_then(|raw| errors.ok(Marker::parse(raw)));
        let perspective = given(&self.perspective).map_or(Some(Perspective::Happened), |raw| {
            errors.ok(Perspective::parse(raw))
        });
        let source =
            given(&self.source).map_or(Some(Source::Manual), |raw| errors.ok(Source::parse(raw)));
        let source_url = given(&self.source_url)
            .and_then(|raw| errors.ok(WebLink::parse_field("source_url", raw)));
        let actor = given(&self.actor).and_then(|raw| line(&mut errors, "actor", raw));
        match (at, text, perspective, source, errors.is_empty()) {
            (Some(at), Some(text), Some(perspective), Some(source), true) => Ok(NewTimelineEntry {
                at,
                text,
                actor,
                marker,
                perspective,
                source,
                source_url,
            }),
            _ => Err(errors.into_errors()),
        }
    }
}

/// A new contributing factor.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"category": "risky_default", "description": "The pool size default was sized for the old traffic", "is_trigger": false}))]
pub struct FactorInput {
    /// One of the taxonomy: `unclear_ownership`, `awkward_tooling`, `alerting`, `overload`,
    /// `confusing_interface`, `risky_default`, `hidden_dependency`, `outdated_docs`,
    /// `unrehearsed_path`, `insufficient_testing`, `capacity`, `change_management`,
    /// `communication`, `third_party`, `other`.
    pub category: String,
    pub description: String,
    /// The trigger is one factor among the conditions that let it bite. An incident has one
    /// trigger at most: while another factor is the trigger, this is refused unless
    /// `replace_trigger` is also `true`.
    pub is_trigger: Option<bool>,
    /// `true` makes this factor the trigger in place of the current one.
    pub replace_trigger: Option<bool>,
}

/// A section someone else saved after the writer's base version, with who saved it.
#[derive(Debug, Clone)]
pub struct Conflict {
    pub section: SectionName,
    pub current_text: String,
    pub current_version: i64,
    pub updated_by: Option<User>,
}

/// What became of a save of sections.
#[derive(Debug, Clone)]
pub enum SaveResult {
    Saved {
        version: i64,
    },
    Refused {
        current_version: i64,
        conflicts: Vec<Conflict>,
    },
}

impl Service<'_> {
    /// Saves sections against the incident version the writer started from, which is
    /// required: a save without one could silently overwrite someone. Sections
    /// someone else changed since are not overwritten: the whole save is refused and the
    /// current texts come back, so the writer can merge by hand.
    ///
    /// A published post-mortem never changes silently: saving its sections needs `revision`,
    /// a short note of what changed, which readers see as "Revised on <date>: <note>"; the
    /// revision is audited and its reviewers are told through the webhooks
    /// (`postmortem.revised`). `revision` is not used for a post-mortem not yet published.
    pub async fn save_sections(
        &self,
        id: IncidentId,
        base_version: Option<i64>,
        sections: BTreeMap<String, String>,
        revision: Option<String>,
    ) -> Result<SaveResult, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "write post-mortems")?;
        let Some(base_version) = base_version else {
            return Err(AppError::IfMatchRequired);
        };
        let template = self
            .app
            .rules
            .templates
            .resolve(&record.postmortem.template);
        let valid: Vec<&str> = template.sections.iter().map(|s| s.name.as_str()).collect();
        let mut errors = Collector::default();
        if sections.is_empty() {
            errors.push(ValidationError::new(
                "sections",
                "name at least one section to save",
            ));
        }
        let mut updates = Vec::new();
        for (raw_name, body) in sections {
            let field = format!("sections.{raw_name}");
            let name = SectionName::parse(&raw_name)
                .ok()
                .filter(|name| valid.contains(&name.as_str()));
            let Some(name) = name else {
                errors.push(ValidationError::new(
                    field,
                    format!(
                        "`{raw_name}` is not a section of the `{}` template; its sections are: {}",
                        template.name,
                        valid.join(", ")
                    ),
                ));
                continue;
            };
            if let Some(body) = errors.ok(Markdown::parse_field(&field, body)) {
                updates.push((name, body));
            }
        }
        let published = record.postmortem.status == PostmortemStatus::Published;
        let note = if published {
            errors.ok(revision_note(revision))
        } else {
            None
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors.into_errors()));
        }
        let saved = match note {
            Some(note) => {
                let notice = self.revision_notice(&record, &note, &updates).await?;
                let revision = NewRevision {
                    note,
                    notice: Some((REVISED_EVENT.to_owned(), notice.to_string())),
                };
                self.app
                    .store
                    .revise_sections(self.actor(), id, base_version, updates, revision)
                    .await?
            }
            None => {
                self.app
                    .store
                    .save_sections(self.actor(), id, base_version, updates)
                    .await?
            }
        };
        match saved {
            SaveOutcome::Saved { mut version } => {
                // Writing starts the draft of an owed post-mortem, and any change to an
                // approved one sends it back to draft, so an approval always covers the text
                // that gets published.
                let status = record.postmortem.status;
                if matches!(status, PostmortemStatus::Owed | PostmortemStatus::Approved) {
                    let note = format!("sections edited while `{status}`");
                    version = self
                        .app
                        .store
                        .set_status(self.actor(), id, PostmortemStatus::Draft, Some(note))
                        .await?;
                }
                Ok(SaveResult::Saved { version })
            }
            SaveOutcome::Conflict {
                current_version,
                sections,
            } => {
                let mut conflicts = Vec::with_capacity(sections.len());
                for section in sections {
                    let updated_by = match section.updated_by {
                        Some(user_id) => self.app.store.user(user_id).await?,
                        None => None,
                    };
                    conflicts.push(Conflict {
                        section: section.name,
                        current_text: section.current_body,
                        current_version: section.current_version,
                        updated_by,
                    });
                }
                Ok(SaveResult::Refused {
                    current_version,
                    conflicts,
                })
            }
        }
    }

    /// The webhook body that tells a revised post-mortem's reviewers what changed, shaped as
    /// every notice is (`event`, a Slack-style `text`, `data` for programs).
    async fn revision_notice(
        &self,
        record: &IncidentRecord,
        note: &str,
        updates: &[(SectionName, Markdown)],
    ) -> Result<serde_json::Value, AppError> {
        let mut reviewers = Vec::new();
        for review in &record.reviews {
            if let Some(user) = self.app.store.user(review.reviewer).await? {
                reviewers.push(user);
            }
        }
        let changed: Vec<&str> = updates
            .iter()
            .filter(|(name, body)| {
                record
                    .postmortem
                    .sections
                    .get(name)
                    .is_none_or(|s| s.body.as_str() != body.as_str())
            })
            .map(|(name, _)| name.as_str())
            .collect();
        let by = match self.actor().person() {
            Some(person) => self.app.store.user(person).await?.map_or_else(
                || format!("person #{person}"),
                |u| u.display_name.to_string(),
            ),
            None => self
                .actor()
                .system_name()
                .unwrap_or("the system")
                .to_owned(),
        };
        let escape = |text: &str| {
            text.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let names: Vec<String> = reviewers.iter().map(|u| format!("@{}", u.handle)).collect();
        let text = format!(
            "The published post-mortem of incident {} “{}” was revised by {}: {}{}",
            record.incident.id,
            escape(record.incident.title.as_str()),
            escape(&by),
            escape(note),
            if names.is_empty() {
                String::new()
            } else {
                format!(" (reviewers: {})", names.join(", "))
            }
        );
        Ok(json!({
            "event": REVISED_EVENT,
            "text": text,
            "data": {
                "incident": record.incident.id,
                "title": record.incident.title.as_str(),
                "note": note,
                "sections": changed,
                "revised_by": by,
                "reviewers": reviewers.iter().map(|u| u.handle.as_str()).collect::<Vec<_>>(),
            },
        }))
    }

    pub async fn add_timeline_entry(
        &self,
        id: IncidentId,
        input: TimelineInput,
    ) -> Result<TimelineEntry, AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "add to the timeline")?;
        let entry = input.parse().map_err(AppError::Invalid)?;
        Ok(self
            .app
            .store
            .add_timeline_entry(self.actor(), id, entry)
            .await?)
    }

    pub async fn add_factor(
        &self,
        id: IncidentId,
        input: FactorInput,
    ) -> Result<ContributingFactor, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "add contributing factors")?;
        let factor = parse_factor(&record, None, input)?;
        Ok(self.app.store.add_factor(self.actor(), id, factor).await?)
    }
}

/// A correction of a timeline entry; absent fields stay as they are, `null` clears an
/// optional one.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"text": "Error rate alert fired for checkout and payments", "marker": "detected"}))]
pub struct TimelinePatch {
    /// RFC 3339 with an offset.
    pub at: Option<String>,
    pub text: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub actor: Option<Option<String>>,
    /// `impact_start`, `detected`, `mitigated` or `resolved`; `null` for none.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub marker: Option<Option<String>>,
    /// `happened`, `observed` or `believed`.
    pub perspective: Option<String>,
    /// `manual`, `chat`, `alert`, `deploy` or `import`.
    pub source: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub source_url: Option<Option<String>>,
}

impl TimelinePatch {
    /// The whole entry as it will be: the patch over what is stored.
    fn over(self, entry: &TimelineEntry) -> TimelineInput {
        TimelineInput {
            at: self.at.unwrap_or_else(|| format_instant(entry.at)),
            text: self.text.unwrap_or_else(|| entry.text.as_str().to_owned()),
            actor: self.actor.unwrap_or_else(|| entry.actor.clone()),
            marker: self
                .marker
                .unwrap_or_else(|| entry.marker.map(|m| m.as_str().to_owned())),
            perspective: Some(
                self.perspective
                    .unwrap_or_else(|| entry.perspective.as_str().to_owned()),
            ),
            source: Some(
                self.source
                    .unwrap_or_else(|| entry.source.as_str().to_owned()),
            ),
            source_url: self
                .source_url
                .unwrap_or_else(|| entry.source_url.as_ref().map(|u| u.as_str().to_owned())),
        }
    }
}

/// A correction of a contributing factor; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"is_trigger": true, "replace_trigger": true}))]
pub struct FactorPatch {
    pub category: Option<String>,
    pub description: Option<String>,
    /// Whether this factor is the trigger; while another one is, needs `replace_trigger`.
    pub is_trigger: Option<bool>,
    /// `true` makes this factor the trigger in place of the current one.
    pub replace_trigger: Option<bool>,
}

impl Service<'_> {
    pub async fn update_timeline_entry(
        &self,
        id: IncidentId,
        entry_id: TimelineEntryId,
        patch: TimelinePatch,
    ) -> Result<TimelineEntry, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "correct the timeline")?;
        let existing = record
            .timeline
            .iter()
            .find(|e| e.id == entry_id)
            .ok_or(AppError::NotFound("timeline entry"))?;
        let entry = patch.over(existing).parse().map_err(AppError::Invalid)?;
        Ok(self
            .app
            .store
            .update_timeline_entry(self.actor(), id, entry_id, entry)
            .await?)
    }

    pub async fn remove_timeline_entry(
        &self,
        id: IncidentId,
        entry_id: TimelineEntryId,
    ) -> Result<(), AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "remove timeline entries")?;
        Ok(self
            .app
            .store
            .remove_timeline_entry(self.actor(), id, entry_id)
            .await?)
    }

    pub async fn update_factor(
        &self,
        id: IncidentId,
        factor_id: FactorId,
        patch: FactorPatch,
    ) -> Result<ContributingFactor, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "correct contributing factors")?;
        let existing = record
            .factors
            .iter()
            .find(|f| f.id == factor_id)
            .ok_or(AppError::NotFound("contributing factor"))?;
        let input = FactorInput {
            category: patch
                .category
                .unwrap_or_else(|| existing.category.as_str().to_owned()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.as_str().to_owned()),
            is_trigger: Some(patch.is_trigger.unwrap_or(existing.is_trigger)),
            replace_trigger: patch.replace_trigger,
        };
        let factor = parse_factor(&record, Some(factor_id), input)?;
        Ok(self
            .app
            .store
            .update_factor(self.actor(), id, factor_id, factor)
            .await?)
    }

    pub async fn remove_factor(&self, id: IncidentId, factor_id: FactorId) -> Result<(), AppError> {
        self.incident(id).await?;
        self.require(Permission::Write, "remove contributing factors")?;
        Ok(self
            .app
            .store
            .remove_factor(self.actor(), id, factor_id)
            .await?)
    }
}

/// Parses a factor for `record`, keeping one trigger at most: ticking the trigger while
/// another factor is the trigger is refused unless `replace_trigger` says to move it.
pub(crate) fn parse_factor(
    record: &IncidentRecord,
    this: Option<FactorId>,
    input: FactorInput,
) -> Result<NewFactor, AppError> {
    let mut errors = Collector::default();
    let category = errors.ok(FactorCategory::parse(&input.category));
    let description = errors.ok(Markdown::parse_non_empty("description", input.description));
    let is_trigger = input.is_trigger.unwrap_or(false);
    let current_trigger = record
        .factors
        .iter()
        .find(|f| f.is_trigger && Some(f.id) != this);
    if let Some(current) = current_trigger
        && is_trigger
        && !input.replace_trigger.unwrap_or(false)
    {
        errors.push(ValidationError::new(
            "is_trigger",
            format!(
                "“{}” is already the trigger, and an incident has one: choose to make this one the trigger instead (`replace_trigger`), or leave it a condition",
                first_words(current.description.as_str())
            ),
        ));
    }
    match (category, description, errors.is_empty()) {
        (Some(category), Some(description), true) => Ok(NewFactor {
            category,
            description,
            is_trigger,
        }),
        _ => Err(AppError::Invalid(errors.into_errors())),
    }
}

/// The webhook event that tells reviewers a published post-mortem was revised.
pub const REVISED_EVENT: &str = "postmortem.revised";

/// The longest note of what changed in a revision, in characters.
const REVISION_NOTE_MAX: usize = 500;

/// What changed in a revision of a published post-mortem: required, short, one paragraph.
fn revision_note(raw: Option<String>) -> Result<String, ValidationError> {
    let raw = raw.unwrap_or_default();
    let note = raw.trim();
    if note.is_empty() {
        return Err(ValidationError::new(
            "revision",
            "this post-mortem is published, so a change is a revision readers see: say in a few words what changed (for example “corrected the duration to 42 minutes”), or reopen it for review first",
        ));
    }
    check_prose("revision", note)?;
    if note.chars().count() > REVISION_NOTE_MAX {
        return Err(ValidationError::new(
            "revision",
            format!(
                "say what changed in at most {REVISION_NOTE_MAX} characters; the sections themselves hold the detail"
            ),
        ));
    }
    Ok(note.to_owned())
}

/// The start of a text, cut at a word boundary, for naming it in a message.
pub fn first_words(text: &str) -> String {
    const LIMIT: usize = 60;
    let text = text.trim();
    if text.chars().count() <= LIMIT {
        return text.to_owned();
    }
    let cut: String = text.chars().take(LIMIT).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

#[cfg(test)]
mod tests {
    use super::first_words;

    #[test]
    fn a_long_text_is_named_by_its_first_whole_words() {
        assert_eq!(first_words("Pool too small."), "Pool too small.");
        let long = "The connection pool default was sized for the traffic of two years ago, before the launch";
        assert_eq!(
            first_words(long),
            "The connection pool default was sized for the traffic of…"
        );
    }
}
