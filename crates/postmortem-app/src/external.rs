//! The external (customer-facing) version of a review: who may draft, edit, publish and take
//! it down, and what a draft is made from. The detection of names and internal details is
//! `postmortem-markdown`'s `external`; this module feeds it the incident as the person may see
//! it, everyone's role on it and the author's choices, keeps the result as a draft, and
//! publishes exactly the draft's text, never a new rendering of the internal record.

use crate::export::{People, document_of};
use crate::{App, AppError, Service};
use postmortem_core::external::upsert_replacement;
use postmortem_core::{
    ExternalDraft, ExternalSpec, IncidentId, Permission, Publication, Replacement, SectionName,
    ValidationError,
};
use postmortem_markdown::{external, slug_of};
use postmortem_store::{IncidentRecord, NewExternalDraft, NewPublication, StoreError};
use serde::Deserialize;
use utoipa::ToSchema;

/// The most sections and domains a draft names: more than any template has.
const MAX_CHOSEN: usize = 64;

/// Sections chosen when nobody chose (the API's `audience=external`) and offered ticked before
/// a first draft: what customers usually read.
pub const SUGGESTED_SECTIONS: &[&str] = &[
    "summary",
    "impact",
    "detection",
    "recovery",
    "lessons",
    "action_items",
];

/// The sections the timeline and the action items are chosen by.
const EXTRA_SECTIONS: &[&str] = &["timeline", "action_items"];

/// A new draft: the sections to share.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalInput {
    /// The sections to share, by name, in any order (they appear in template order);
    /// `timeline` and `action_items` may be chosen too.
    #[schema(example = json!(["summary", "impact", "action_items"]))]
    pub sections: Vec<String>,
    /// The organisation's own domains (`corp.example.com`): their hosts and links are
    /// internal, besides those found anyway (`.internal`, `.corp`, chat services, ...).
    #[serde(default)]
    pub internal_domains: Vec<String>,
}

/// A text to replace and what replaces it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplacementInput {
    #[schema(example = "db-primary-03")]
    pub found: String,
    #[schema(example = "our primary database")]
    pub replaced_by: String,
}

/// An author's edit of a draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExternalPatch {
    /// The draft's version the edit started from (from the draft's `version`).
    pub version: i64,
    /// The sections to share instead, when given.
    pub sections: Option<Vec<String>>,
    /// The organisation's own domains instead, when given.
    pub internal_domains: Option<Vec<String>>,
    /// New replacements for detected texts (by their `found`).
    #[serde(default)]
    pub changes: Vec<ReplacementInput>,
    /// Texts to replace besides those detected.
    #[serde(default)]
    pub additions: Vec<ReplacementInput>,
    /// Added texts (by `found`) to stop replacing.
    #[serde(default)]
    pub remove_additions: Vec<String>,
}

/// Publishing the draft.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishInput {
    /// That the publisher read the draft's redactions and accepts them.
    pub accept_redactions: bool,
}

impl App {
    /// The external version published at `slug`, for anyone, signed in or not.
    pub async fn public_incident(&self, slug: &str) -> Result<Publication, AppError> {
        self.store
            .publication_by_slug(slug)
            .await?
            .ok_or(AppError::NotFound("published incident"))
    }
}

impl Service<'_> {
    /// The incident's draft of its external version, for anyone who may see the incident.
    pub async fn external_draft(&self, id: IncidentId) -> Result<ExternalDraft, AppError> {
        self.incident(id).await?;
        self.app
            .store
            .external_draft(id)
            .await?
            .ok_or(AppError::NotFound("external draft"))
    }

    /// Makes (or replaces) the draft from the chosen sections, with every detected redaction.
    pub async fn make_external_draft(
        &self,
        id: IncidentId,
        input: ExternalInput,
    ) -> Result<ExternalDraft, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "write the external version")?;
        let mut errors = Vec::new();
        let sections = self.chosen_sections(&record, &input.sections, &mut errors);
        let internal_domains = domains(&input.internal_domains, &mut errors);
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let spec = ExternalSpec {
            sections,
            internal_domains,
            ..ExternalSpec::default()
        };
        self.save_draft(&record, spec, None).await
    }

    /// Applies an author's edit to the draft made from the version they started from.
    pub async fn edit_external_draft(
        &self,
        id: IncidentId,
        patch: ExternalPatch,
    ) -> Result<ExternalDraft, AppError> {
        let record = self.incident(id).await?;
        self.require(Permission::Write, "write the external version")?;
        let draft = self
            .app
            .store
            .external_draft(id)
            .await?
            .ok_or(AppError::NotFound("external draft"))?;
        let mut spec = draft.spec;
        let mut errors = Vec::new();
        if let Some(sections) = &patch.sections {
            spec.sections = self.chosen_sections(&record, sections, &mut errors);
        }
        if let Some(given) = &patch.internal_domains {
            spec.internal_domains = domains(given, &mut errors);
        }
        for (field, list, target) in [
            ("changes", &patch.changes, &mut spec.changes),
            ("additions", &patch.additions, &mut spec.additions),
        ] {
            for input in list {
                match Replacement::parse(&input.found, &input.replaced_by) {
                    Ok(replacement) => upsert_replacement(target, replacement),
                    Err(error) => errors.push(ValidationError::new(
                        format!("{field}.{}", error.field()),
                        error.rule(),
                    )),
                }
            }
            if target.len() > MAX_CHOSEN * 4 {
                errors.push(ValidationError::new(
                    field,
                    format!("has more than {} replacements", MAX_CHOSEN * 4),
                ));
            }
        }
        spec.additions.retain(|addition| {
            !patch
                .remove_additions
                .iter()
                .any(|found| addition.is_for(found.trim()))
        });
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.save_draft(&record, spec, Some(patch.version)).await
    }

    /// Publishes the draft as it stands at `/public/incidents/{slug}`: reviewers and admins,
    /// and only admins for a restricted incident; the publisher accepts the redactions.
    pub async fn publish_external(
        &self,
        id: IncidentId,
        input: PublishInput,
    ) -> Result<Publication, AppError> {
        let record = self.incident(id).await?;
        self.may_publish_external(&record)?;
        let draft = self.app.store.external_draft(id).await?.ok_or_else(|| {
            AppError::Invalid(vec![ValidationError::new(
                "draft",
                "there is no external draft to publish: make one first (POST /api/v1/incidents/{id}/external)",
            )])
        })?;
        if !input.accept_redactions {
            return Err(AppError::Invalid(vec![ValidationError::new(
                "accept_redactions",
                format!(
                    "must be true: read the draft's {} redactions, change or add to them, then accept them",
                    draft.redactions.len()
                ),
            )]));
        }
        let publication = NewPublication {
            incident: id,
            slug: format!("{}-{}", slug_of(&draft.title), id.get()),
            title: draft.title,
            markdown: draft.markdown,
        };
        Ok(self
            .app
            .store
            .publish_external(self.actor(), publication)
            .await?)
    }

    /// Takes the published external version down; the same people as publishing.
    pub async fn unpublish_external(&self, id: IncidentId) -> Result<Publication, AppError> {
        let record = self.incident(id).await?;
        self.may_publish_external(&record)?;
        Ok(self.app.store.unpublish_external(self.actor(), id).await?)
    }

    /// The incident's published external version, if any, for anyone who may see it.
    pub async fn publication(&self, id: IncidentId) -> Result<Option<Publication>, AppError> {
        self.incident(id).await?;
        Ok(self.app.store.publication(id).await?)
    }

    /// Whether the person may publish `record`'s external version: reviewers and admins; a
    /// restricted incident, admins only.
    pub fn may_publish_external(&self, record: &IncidentRecord) -> Result<(), AppError> {
        self.require(Permission::Review, "publish an external version")?;
        if record.incident.restricted && !self.role().is_admin() {
            return Err(AppError::Forbidden(
                "only an admin may publish the external version of a restricted incident".into(),
            ));
        }
        Ok(())
    }

    async fn save_draft(
        &self,
        record: &IncidentRecord,
        spec: ExternalSpec,
        expected_version: Option<i64>,
    ) -> Result<ExternalDraft, AppError> {
        let people = People::load(self.app.store.as_ref()).await?;
        let document = document_of(record, &people);
        let made = external(
            &document,
            &spec,
            &people.roles_on(record),
            &self.app.rules.templates,
        );
        let draft = NewExternalDraft {
            incident: record.incident.id,
            spec,
            title: made.title,
            markdown: made.markdown,
            redactions: made.redactions,
            expected_version,
        };
        self.app
            .store
            .save_external_draft(self.actor(), draft)
            .await
            .map_err(|error| match error {
                StoreError::VersionConflict { expected, current } => AppError::VersionConflict(
                    format!(
                        "the external draft changed since version {expected}; it is now at version {current}: read it again and make your edit to it"
                    ),
                ),
                other => other.into(),
            })
    }

    /// The chosen section names, each one the post-mortem has (in its template or written),
    /// or the timeline or the action items.
    fn chosen_sections(
        &self,
        record: &IncidentRecord,
        chosen: &[String],
        errors: &mut Vec<ValidationError>,
    ) -> Vec<SectionName> {
        let template = self
            .app
            .rules
            .templates
            .resolve(&record.postmortem.template);
        let known: Vec<&str> = template
            .sections
            .iter()
            .map(|s| s.name.as_str())
            .chain(record.postmortem.sections.keys().map(SectionName::as_str))
            .chain(EXTRA_SECTIONS.iter().copied())
            .collect();
        if chosen.is_empty() || chosen.len() > MAX_CHOSEN {
            errors.push(ValidationError::new(
                "sections",
                format!(
                    "choose 1 to {MAX_CHOSEN} sections from: {}",
                    known.join(", ")
                ),
            ));
            return Vec::new();
        }
        let mut names: Vec<SectionName> = Vec::new();
        for raw in chosen {
            match SectionName::parse(raw) {
                Ok(name) if known.contains(&name.as_str()) => {
                    if !names.contains(&name) {
                        names.push(name);
                    }
                }
                Ok(name) => errors.push(ValidationError::new(
                    "sections",
                    format!(
                        "`{name}` is not a section of this post-mortem; choose from: {}",
                        known.join(", ")
                    ),
                )),
                Err(error) => errors.push(ValidationError::new("sections", error.rule())),
            }
        }
        names
    }
}

/// The organisation's domains, lowercase, each a DNS name (`corp.example.com`).
fn domains(given: &[String], errors: &mut Vec<ValidationError>) -> Vec<String> {
    if given.len() > MAX_CHOSEN {
        errors.push(ValidationError::new(
            "internal_domains",
            format!("name at most {MAX_CHOSEN} domains"),
        ));
        return Vec::new();
    }
    let mut out = Vec::new();
    for raw in given {
        let domain = raw.trim().trim_matches('.').to_ascii_lowercase();
        let valid = (1..=253).contains(&domain.len())
            && domain.split('.').all(|label| {
                (1..=63).contains(&label.len())
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if valid {
            if !out.contains(&domain) {
                out.push(domain);
            }
        } else {
            errors.push(ValidationError::new(
                "internal_domains",
                format!(
                    "`{}` is not a domain name such as corp.example.com",
                    raw.trim()
                ),
            ));
        }
    }
    out
}

/// Everything the author's page shows: the draft, the publication, what may be chosen and
/// whether the person may publish.
#[derive(Debug, Clone)]
pub struct ExternalView {
    pub record: IncidentRecord,
    pub draft: Option<ExternalDraft>,
    pub publication: Option<Publication>,
    /// The sections that may be chosen, by name, with their titles.
    pub choices: Vec<(String, String)>,
    pub may_write: bool,
    pub may_publish: bool,
}

impl Service<'_> {
    /// What the author's page of the external version shows, for anyone who may see the
    /// incident.
    pub async fn external_view(&self, id: IncidentId) -> Result<ExternalView, AppError> {
        let record = self.incident(id).await?;
        let draft = self.app.store.external_draft(id).await?;
        let publication = self.app.store.publication(id).await?;
        let template = self
            .app
            .rules
            .templates
            .resolve(&record.postmortem.template);
        let mut choices: Vec<(String, String)> = template
            .sections
            .iter()
            .map(|s| (s.name.to_string(), s.title.clone()))
            .collect();
        choices.push(("timeline".into(), "Timeline".into()));
        choices.push(("action_items".into(), "Action items".into()));
        Ok(ExternalView {
            may_write: self.role().may(Permission::Write),
            may_publish: self.may_publish_external(&record).is_ok(),
            record,
            draft,
            publication,
            choices,
        })
    }
}
