//! Importing whole incidents: the batch path the demo generator writes through (thousands of
//! incidents a transaction, at the store's bulk speed) and Markdown files (exports of this
//! system, or post-mortems written elsewhere) from `postmortem import` and
//! `POST /api/v1/import`, each under the same permission check and audit as any other write,
//! with its source (a path, `api`) in its audit event.
//!
//! A file is matched to the incident it is about by its `id`, else by the slug of its title
//! and when it started, among the incidents the importer may see. Importing it again changes
//! nothing when nothing changed (no audit event, no feed row); a changed file updates the
//! incident to say what it says, in one transaction audited as the importer's update, unless
//! the incident changed in postmortem since the file was exported (its `version:`): then the
//! file is refused, so nobody's edits are silently overwritten, unless the importer forces it.

use crate::export::{People, document_of};
use crate::{AppError, Service};
use postmortem_core::{
    Handle, IncidentBundle, IncidentId, Permission, ValidationError, format_instant,
};
use postmortem_markdown::{
    Change, Document, ImportContext, changes, decode, html_to_markdown, is_html, parse, slug_of,
};
use postmortem_store::{FactsOutcome, ImportExtras, IncidentQuery, PolicyDecision};
use serde::Serialize;
use std::collections::HashSet;
use std::fmt;
use utoipa::ToSchema;

/// The handle what a post-mortem written elsewhere records stands under when the system
/// imports it: unless someone has this handle, such a file is refused with what to do.
const NOBODY: &str = "system-import";

/// What importing one file did, or would do with `dry_run`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ImportOutcome {
    /// A new incident was made from the file.
    Created { id: i64 },
    /// A new incident would be made (dry run).
    WouldCreate,
    /// The file matches an incident that already says the same; nothing was written.
    Unchanged { id: i64 },
    /// The incident was changed to say what the file says; it is now at `version`.
    Updated {
        id: i64,
        version: i64,
        changes: Vec<FieldChange>,
    },
    /// The incident would be changed so (dry run).
    WouldUpdate { id: i64, changes: Vec<FieldChange> },
}

/// One part of an incident a file changes: a fact (`severity`), a section
/// (`section "Summary"`), `timeline`, `factors` or `action items`, before and after in the
/// export's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldChange {
    pub part: String,
    pub before: String,
    pub after: String,
}

impl From<Change> for FieldChange {
    fn from(change: Change) -> Self {
        Self {
            part: change.part,
            before: change.before,
            after: change.after,
        }
    }
}

/// `severity: SEV3 → SEV2`, or the part and its lines taken out and put in.
impl fmt::Display for FieldChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Change {
            part: self.part.clone(),
            before: self.before.clone(),
            after: self.after.clone(),
        }
        .fmt(f)
    }
}

/// How to import: `dry_run` writes nothing and says what would happen; `force` updates an
/// incident even when it changed in postmortem since the file was exported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    pub dry_run: bool,
    pub force: bool,
}

/// The answer of an import: what happened, and how the file was read (headings mapped,
/// people replaced), one note a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Imported {
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    pub notes: Vec<String>,
}

/// Imports of many files by one person or system actor: who may be named and who imports,
/// read once.
#[derive(Debug)]
pub struct Importer<'a> {
    service: Service<'a>,
    people: People,
    known: HashSet<Handle>,
    /// The person importing; `None` for `system:import`.
    importer: Option<Handle>,
}

impl<'a> Service<'a> {
    /// Writes whole incidents in one transaction, each audited as imported by whoever acts
    /// (a person or a system actor), with `source` (a path, `api`) when given. The bundles
    /// are already domain values, parsed where they were made; the store refuses a bundle
    /// that names someone without an account, and then writes none of the batch.
    pub async fn import_bundles(
        &self,
        source: Option<&str>,
        bundles: &[IncidentBundle],
    ) -> Result<Vec<IncidentId>, AppError> {
        self.require(Permission::Write, "import incidents")?;
        Ok(self
            .app
            .store
            .import_bundles(self.actor(), source, bundles)
            .await?)
    }

    /// Prepares to import Markdown files as whoever acts.
    pub async fn importer(&self) -> Result<Importer<'a>, AppError> {
        self.require(Permission::Write, "import incidents")?;
        let people = People::load(self.app.store.as_ref()).await?;
        let known = self
            .app
            .store
            .users()
            .await?
            .into_iter()
            .map(|u| u.handle)
            .collect();
        Ok(Importer {
            service: *self,
            people,
            known,
            importer: self.person_acting().map(|user| user.handle.clone()),
        })
    }

    /// Imports one Markdown file (`source` names it in messages and in the audit log).
    pub async fn import_markdown(
        &self,
        source: &str,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<Imported, AppError> {
        self.importer().await?.import(source, bytes, options).await
    }
}

impl Importer<'_> {
    /// Reads, matches and (unless `dry_run`) writes one file, in one transaction. A file that
    /// cannot be read is refused with its source, line and reason, and nothing of it is
    /// written.
    pub async fn import(
        &self,
        source: &str,
        bytes: &[u8],
        options: ImportOptions,
    ) -> Result<Imported, AppError> {
        let app = self.service.app;
        let unreadable = |error: postmortem_markdown::ParseError| {
            AppError::Invalid(vec![ValidationError::new("file", error.to_string())])
        };
        let text = decode(source, bytes).map_err(unreadable)?;
        // An HTML export (Confluence, Google Docs) is read as the Markdown it converts to.
        let converted;
        let text = if is_html(text) {
            converted = html_to_markdown(source, text).map_err(unreadable)?;
            converted.as_str()
        } else {
            text
        };
        let nobody = Handle::parse(NOBODY).expect("a valid handle");
        let context = ImportContext {
            templates: &app.rules.templates,
            importer: self.importer.as_ref().unwrap_or(&nobody),
            now: app.store.now(),
        };
        let parsed = parse(source, text, &context).map_err(unreadable)?;
        let mut document = parsed.document;
        let mut notes: Vec<String> = parsed.mapping.iter().map(ToString::to_string).collect();
        notes.extend(self.resolve_people(&mut document)?);
        let outcome = self.apply(source, document, options).await?;
        Ok(Imported { outcome, notes })
    }

    /// People a file names who have no account here: owners are left unassigned; anyone else
    /// (recorder, writers, reviewers) becomes the person importing, or, when the system
    /// imports, the file is refused naming them. Each replacement is noted.
    fn resolve_people(&self, document: &mut Document) -> Result<Vec<String>, AppError> {
        let mut notes = Vec::new();
        let mut missing = Vec::new();
        let mut replace = |handle: &mut Handle, what: &str| {
            if self.known.contains(handle) {
                return;
            }
            match &self.importer {
                Some(importer) => {
                    notes.push(format!(
                        "{what} `{handle}` has no account here; recorded as `{importer}`"
                    ));
                    *handle = importer.clone();
                }
                None if handle.as_str() == NOBODY => missing.push(None),
                None => missing.push(Some(format!("the {what} `{handle}`"))),
            }
        };
        let bundle = &mut document.bundle;
        replace(&mut bundle.created_by, "recorder");
        for section in &mut bundle.sections {
            replace(&mut section.updated_by, "writer");
        }
        for entry in &mut bundle.timeline {
            replace(&mut entry.author, "timeline author");
        }
        for review in &mut bundle.reviews {
            replace(&mut review.reviewer, "reviewer");
        }
        if missing.iter().any(|m| m.is_none()) {
            return Err(AppError::Invalid(vec![ValidationError::new(
                "file",
                "a post-mortem written elsewhere names nobody with an account here; import it as a person (`--as HANDLE`) to record it as theirs",
            )]));
        }
        if !missing.is_empty() {
            let mut names: Vec<String> = missing.into_iter().flatten().collect();
            names.dedup();
            return Err(AppError::Invalid(vec![ValidationError::new(
                "file",
                format!(
                    "{} {} no account here; create them (`postmortem user create`) or import as a person (`--as HANDLE`) to record what they wrote as yours",
                    names.join(", "),
                    if names.len() == 1 { "has" } else { "have" }
                ),
            )]));
        }
        for action in &mut bundle.actions {
            if let Some(owner) = action.owner.take_if(|owner| !self.known.contains(owner)) {
                notes.push(format!(
                    "owner `{owner}` of “{}” has no account here; left unassigned",
                    action.item.title
                ));
            }
        }
        document
            .members
            .retain(|member| self.known.contains(member));
        Ok(notes)
    }

    /// The incident the file is about, among those the importer may see: by its `id`, else
    /// (or when no incident has that id here) by the slug of its title and when it started (titles alone repeat).
    async fn matching(
        &self,
        document: &Document,
    ) -> Result<Option<postmortem_store::IncidentRecord>, AppError> {
        let store = self.service.app.store.as_ref();
        let seen = self.service.seen();
        // An id this database gave no incident (the file came from another one) falls back
        // to the slug, so importing it twice still finds the first import.
        if let Some(id) = document.id
            && let Some(record) = store.incident(id, seen).await?
        {
            return Ok(Some(record));
        }
        let incident = &document.bundle.incident;
        let mut query = IncidentQuery::new(seen);
        match incident.started_at {
            Some(at) => {
                query.from = Some(at);
                query.until = Some(at + time::Duration::milliseconds(1));
            }
            None => query.title_contains = Some(incident.title.as_str().to_owned()),
        }
        query.limit = 50;
        let slug = document.slug();
        let found = store
            .list_incidents(&query)
            .await?
            .items
            .into_iter()
            .find(|summary| {
                slug_of(summary.incident.title.as_str()) == slug
                    && summary.incident.started_at == incident.started_at
            });
        match found {
            Some(summary) => Ok(store.incident(summary.incident.id, seen).await?),
            None => Ok(None),
        }
    }

    async fn apply(
        &self,
        source: &str,
        mut document: Document,
        options: ImportOptions,
    ) -> Result<ImportOutcome, AppError> {
        let app = self.service.app;
        if let Some(record) = self.matching(&document).await? {
            // A file without an id (written elsewhere) has no recorded instant of its own;
            // an export's is compared as an instant, the store keeping milliseconds in UTC.
            let same_instant = (document.bundle.created_at - record.incident.created_at).abs()
                < time::Duration::milliseconds(1);
            if document.id.is_none() || same_instant {
                document.bundle.created_at = record.incident.created_at;
            }
            return self.update(source, &record, document, options).await;
        }
        if options.dry_run {
            return Ok(ImportOutcome::WouldCreate);
        }
        let extras = ImportExtras {
            version: document.version,
            decision: document.policy.map(|policy| PolicyDecision {
                decision: policy.decision,
                reasons: policy.reasons,
            }),
            members: document.members,
        };
        let id = app
            .store
            .import_bundle(
                self.service.actor(),
                Some(source),
                &document.bundle,
                &extras,
            )
            .await?;
        Ok(ImportOutcome::Created { id: id.get() })
    }

    /// Makes the matched incident say what the file says, part by part, unless nothing
    /// differs (nothing written) or the incident changed since the file was exported.
    async fn update(
        &self,
        source: &str,
        record: &postmortem_store::IncidentRecord,
        mut incoming: Document,
        options: ImportOptions,
    ) -> Result<ImportOutcome, AppError> {
        let app = self.service.app;
        let id = record.incident.id;
        let current = record.incident.version;
        let stored = document_of(record, &self.people);
        let exported_at = incoming.version;
        incoming.id = Some(id);
        incoming.version = stored.version;
        // Facts the store does not keep are not differences, and a file that does not say
        // what the policy decided leaves the decision as it is.
        incoming.imported_from = None;
        incoming.bundle.published_at = None;
        if incoming.policy.is_none() {
            incoming.policy.clone_from(&stored.policy);
        }
        let found = changes(&stored, &incoming, &app.rules.templates);
        if found.is_empty() {
            return Ok(ImportOutcome::Unchanged { id: id.get() });
        }
        if exported_at != Some(current) && !options.force {
            let since = match exported_at {
                Some(version) => format!("since this file was exported at version {version}"),
                None => "since it was imported (this file has no `version:`, so it was not exported by postmortem and cannot tell what changed)".to_owned(),
            };
            return Err(AppError::VersionConflict(format!(
                "{source}: incident {id} changed in postmortem {since}; it is at version {current}, last changed {}. Export it again and re-apply your edits, or pass --force to overwrite what changed",
                format_instant(record.incident.updated_at)
            )));
        }
        if incoming.bundle.status != stored.bundle.status {
            return Err(AppError::Invalid(vec![ValidationError::new(
                "status",
                format!(
                    "{source}: the file moves the post-mortem of incident {id} from `{}` to `{}`; the lifecycle moves in postmortem (review, approval, publishing), not by import: put `status: {}` back",
                    stored.bundle.status.as_str(),
                    incoming.bundle.status.as_str(),
                    stored.bundle.status.as_str()
                ),
            )]));
        }
        let found: Vec<FieldChange> = found.into_iter().map(FieldChange::from).collect();
        if options.dry_run {
            return Ok(ImportOutcome::WouldUpdate {
                id: id.get(),
                changes: found,
            });
        }
        let mut before = serde_json::Map::new();
        let mut after = serde_json::Map::new();
        for change in &found {
            before.insert(change.part.clone(), change.before.clone().into());
            after.insert(change.part.clone(), change.after.clone().into());
        }
        let details = serde_json::json!({
            "source": source,
            "exported_at_version": exported_at,
            "forced": exported_at != Some(current),
            "before": before,
            "after": after,
        });
        let extras = ImportExtras {
            version: None,
            decision: incoming.policy.map(|policy| PolicyDecision {
                decision: policy.decision,
                reasons: policy.reasons,
            }),
            members: incoming.members,
        };
        match app
            .store
            .update_from_bundle(
                self.service.actor(),
                id,
                current,
                &incoming.bundle,
                &extras,
                details,
            )
            .await?
        {
            FactsOutcome::Updated { version } => Ok(ImportOutcome::Updated {
                id: id.get(),
                version,
                changes: found,
            }),
            FactsOutcome::Stale { current_version } => Err(AppError::VersionConflict(format!(
                "{source}: incident {id} changed in postmortem while the file was being imported (it is at version {current_version} now); import it again"
            ))),
        }
    }
}
