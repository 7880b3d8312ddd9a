//! Importing whole incidents: the batch path the demo generator writes through (thousands of
//! incidents a transaction, at the store's bulk speed) and Markdown files (exports of this
//! system, or post-mortems written elsewhere) from `postmortem import` and
//! `POST /api/v1/import`, each under the same permission check and audit as any other write,
//! with its source (a path, `api`) in its audit event.
//!
//! A file is matched to the incident it is about by its `id`, else by the slug of its title
//! and when it started, among the incidents the importer may see; importing it again changes
//! nothing. A file that differs from its incident is reported with the first line that does
//! and left alone: updating an incident from a file is not done yet.

use crate::export::{People, document_of};
use crate::{AppError, Service};
use postmortem_core::{Handle, IncidentBundle, IncidentId, Permission, ValidationError};
use postmortem_markdown::{Document, ImportContext, decode, parse, render, slug_of};
use postmortem_store::IncidentQuery;
use serde::Serialize;
use std::collections::HashSet;
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
    /// The file matches an incident whose content differs: the first line that does, as the
    /// incident's export has it and as the file has it. The incident was left as it is.
    Differs {
        id: i64,
        line: usize,
        stored: String,
        incoming: String,
    },
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
        dry_run: bool,
    ) -> Result<Imported, AppError> {
        self.importer().await?.import(source, bytes, dry_run).await
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
        dry_run: bool,
    ) -> Result<Imported, AppError> {
        let app = self.service.app;
        let unreadable = |error: postmortem_markdown::ParseError| {
            AppError::Invalid(vec![ValidationError::new("file", error.to_string())])
        };
        let text = decode(source, bytes).map_err(unreadable)?;
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
        let outcome = self.apply(source, document, dry_run).await?;
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
        dry_run: bool,
    ) -> Result<ImportOutcome, AppError> {
        let app = self.service.app;
        let templates = &app.rules.templates;
        if let Some(record) = self.matching(&document).await? {
            let id = record.incident.id;
            // A file without an id (written elsewhere) has no recorded instant of its own;
            // an export's is compared as an instant, the store keeping milliseconds in UTC.
            let same_instant = (document.bundle.created_at - record.incident.created_at).abs()
                < time::Duration::milliseconds(1);
            if document.id.is_none() || same_instant {
                document.bundle.created_at = record.incident.created_at;
            }
            document.id = Some(id);
            let stored = render(&document_of(&record, &self.people), templates);
            let mut incoming = document;
            // Facts the store does not keep are not differences.
            incoming.imported_from = None;
            incoming.bundle.published_at = None;
            let incoming = render(&incoming, templates);
            let first_difference = stored
                .lines()
                .zip(incoming.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(index, (a, b))| (index + 1, a.to_owned(), b.to_owned()));
            return Ok(match first_difference {
                None if stored.len() == incoming.len() => ImportOutcome::Unchanged { id: id.get() },
                None => ImportOutcome::Differs {
                    id: id.get(),
                    line: stored.lines().count() + 1,
                    stored: String::new(),
                    incoming: "…".to_owned(),
                },
                Some((line, stored, incoming)) => ImportOutcome::Differs {
                    id: id.get(),
                    line,
                    stored,
                    incoming,
                },
            });
        }
        if dry_run {
            return Ok(ImportOutcome::WouldCreate);
        }
        let store = app.store.as_ref();
        let actor = self.service.actor();
        let ids = store
            .import_bundles(actor, Some(source), std::slice::from_ref(&document.bundle))
            .await?;
        let id = ids[0];
        // The policy's decision and the people named on the incident are not part of a
        // bundle; they follow in writes of their own.
        if let Some(policy) = &document.policy {
            store
                .set_policy_decision(actor, id, policy.decision, &policy.reasons)
                .await?;
        }
        for member in &document.members {
            if let Some(user) = store.user_by_handle(member).await? {
                store.add_incident_member(actor, id, user.id).await?;
            }
        }
        Ok(ImportOutcome::Created { id: id.get() })
    }
}
