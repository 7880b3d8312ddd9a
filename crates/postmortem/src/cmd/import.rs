//! `postmortem import PATH...`: Markdown files (exports of this system, or post-mortems
//! written elsewhere) into the database, one transaction per incident. Files, folders (every
//! `.md` under them, with a progress bar) and `-` for standard input. A file that cannot be
//! read is reported with its path, line and reason and nothing of it is written; the others
//! go on. Importing a file again finds the same incident (by its `id`, or by the slug of its
//! title) and changes nothing when nothing changed.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_app::export::{People, document_of};
use postmortem_core::{Handle, IncidentId, Templates};
use postmortem_markdown::{
    Document, ImportContext, MAX_FILE_BYTES, decode, parse, render, slug_of,
};
use postmortem_store::{Actor, Store, Visibility};
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files, folders (every `.md` file under them) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Show what would be created, left alone or changed, and how each file was read,
    /// without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Who imports: what a post-mortem written elsewhere records is theirs, and people a file
    /// names who have no account here are replaced by them.
    #[arg(long = "as", value_name = "HANDLE", default_value = "demo")]
    importer: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

/// What importing one file did, or would do.
enum Outcome {
    Created(IncidentId),
    WouldCreate,
    Unchanged(IncidentId),
    /// The file matches an incident whose content differs: the first line that does, as the
    /// incident's export has it and as the file has it.
    Differs(IncidentId, usize, String, String),
}

pub async fn run(config: Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let templates = config.templates()?;
    let (store, location) = open_store(&config, &args.database).await?;
    let importer = Handle::parse(&args.importer)?;
    let people = People::load(store.as_ref()).await?;
    let known: HashSet<Handle> = store.users().await?.into_iter().map(|u| u.handle).collect();
    if !known.contains(&importer) && !args.dry_run {
        anyhow::bail!(
            "no person `{importer}` in {location}; name who imports with --as HANDLE (create them with `postmortem user create`)"
        );
    }
    let files = collect(&args.paths)?;
    let bar = if files.len() > 1 {
        ProgressBar::new(files.len() as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} files, {per_sec}, {eta} left")
            .expect("a valid template"),
    );
    let slugs = existing_slugs(store.as_ref()).await?;
    let context = ImportContext {
        templates: &templates,
        importer: &importer,
        now: store.now(),
    };
    let importing = Importing {
        store: store.as_ref(),
        templates: &templates,
        people: &people,
        known: &known,
        slugs: &slugs,
        dry_run: args.dry_run,
    };
    let (mut created, mut unchanged, mut differs, mut failed) = (0, 0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let result = read(path).and_then(|bytes| {
            let text = decode(&name, &bytes)?;
            Ok(parse(&name, text, &context)?)
        });
        let parsed = match result {
            Ok(parsed) => parsed,
            Err(error) => {
                bar.suspend(|| eprintln!("error: {error:#}"));
                failed += 1;
                bar.inc(1);
                continue;
            }
        };
        let mut document = parsed.document;
        let mut notes: Vec<String> = parsed.mapping.iter().map(ToString::to_string).collect();
        notes.extend(importing.resolve_people(&mut document, &importer));
        match importing.apply(document).await {
            Ok(outcome) => {
                let said = match outcome {
                    Outcome::Created(id) => {
                        created += 1;
                        format!("created incident {id}")
                    }
                    Outcome::WouldCreate => {
                        created += 1;
                        "would create a new incident".to_owned()
                    }
                    Outcome::Unchanged(id) => {
                        unchanged += 1;
                        format!("incident {id} is unchanged")
                    }
                    Outcome::Differs(id, line, stored, incoming) => {
                        differs += 1;
                        format!(
                            "incident {id} differs from the file (line {line} of its export is `{stored}`, the file has `{incoming}`); updating an incident from a file is not supported yet, so it was left as it is"
                        )
                    }
                };
                bar.suspend(|| {
                    if args.dry_run || files.len() == 1 {
                        println!("{name}: {said}");
                        for note in &notes {
                            println!("  {note}");
                        }
                    }
                });
            }
            Err(error) => {
                bar.suspend(|| eprintln!("error: {name}:1: {error:#}"));
                failed += 1;
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let verb = if args.dry_run {
        "would be created"
    } else {
        "created"
    };
    eprintln!(
        "{} files read: {created} {verb}, {unchanged} unchanged, {differs} differing left alone, {failed} could not be imported",
        files.len()
    );
    Ok(if failed > 0 || differs > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Every file the paths name: files as they are, `.md` and `.markdown` files under folders
/// (sorted, so an import runs in the same order every time), `-` for standard input.
fn collect(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path == Path::new("-") || path.is_file() {
            files.push(path.clone());
        } else if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            // Exports are named `<id>-<slug>.md`: in id order, ids come out the same in an
            // empty database.
            found.sort_by_key(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let number: Option<u64> = name.split('-').next().and_then(|n| n.parse().ok());
                (number.is_none(), number, name)
            });
            files.extend(found);
        } else {
            anyhow::bail!("{}: no such file or folder", path.display());
        }
    }
    Ok(files)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found)?;
        } else if path
            .extension()
            .is_some_and(|ext| ext == "md" || ext == "markdown")
            && !is_repository_file(&path)
        {
            found.push(path);
        }
    }
    Ok(())
}

/// A folder's README, licence, changelog or contribution guide: found beside post-mortems in
/// the repositories that collect them, and not one of them. Named on the command line, such a
/// file is imported like any other.
fn is_repository_file(path: &Path) -> bool {
    let name = path
        .file_stem()
        .map(|stem| stem.to_string_lossy().to_ascii_uppercase())
        .unwrap_or_default();
    [
        "README",
        "LICENSE",
        "LICENCE",
        "CHANGELOG",
        "CONTRIBUTING",
        "CODE_OF_CONDUCT",
    ]
    .contains(&name.as_str())
}

/// A file's bytes, at most [`MAX_FILE_BYTES`] and one more, so that `decode` can refuse a
/// larger one without reading it all.
fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = MAX_FILE_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Every incident by the slug of its title and when it started: what finds the incident a
/// file without an id is about. Titles alone repeat ("All services returning 503"), so the
/// start tells such incidents apart.
async fn existing_slugs(store: &dyn Store) -> anyhow::Result<HashMap<Key, IncidentId>> {
    let mut slugs = HashMap::new();
    let mut after = None;
    loop {
        let records = store.incidents_after(after, 500).await?;
        let Some(last) = records.last() else { break };
        after = Some(last.incident.id);
        for record in &records {
            let key = (
                slug_of(record.incident.title.as_str()),
                record.incident.started_at,
            );
            slugs.entry(key).or_insert(record.incident.id);
        }
    }
    Ok(slugs)
}

/// A title's slug and the instant the incident started.
type Key = (String, Option<time::OffsetDateTime>);

struct Importing<'a> {
    store: &'a dyn Store,
    templates: &'a Templates,
    people: &'a People,
    known: &'a HashSet<Handle>,
    slugs: &'a HashMap<Key, IncidentId>,
    dry_run: bool,
}

impl Importing<'_> {
    /// People a file names who have no account here: owners are left unassigned, anyone else
    /// (authors, writers, reviewers) becomes the importer. Each replacement is noted.
    fn resolve_people(&self, document: &mut Document, importer: &Handle) -> Vec<String> {
        let mut notes = Vec::new();
        let mut replace = |handle: &mut Handle, what: &str| {
            if !self.known.contains(handle) {
                notes.push(format!(
                    "{what} `{handle}` has no account here; recorded as `{importer}`"
                ));
                *handle = importer.clone();
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
        notes
    }

    async fn apply(&self, mut document: Document) -> anyhow::Result<Outcome> {
        let matched = match document.id {
            Some(id) => self
                .store
                .incident(id, Visibility::Everything)
                .await?
                .map(|record| (id, record)),
            None => match self
                .slugs
                .get(&(document.slug(), document.bundle.incident.started_at))
            {
                Some(&id) => self
                    .store
                    .incident(id, Visibility::Everything)
                    .await?
                    .map(|record| (id, record)),
                None => None,
            },
        };
        if let Some((id, record)) = matched {
            // A file without an id (written elsewhere) has no recorded instant of its own;
            // an export's is compared as an instant, the store keeping milliseconds in UTC.
            let same_instant = (document.bundle.created_at - record.incident.created_at).abs()
                < time::Duration::milliseconds(1);
            if document.id.is_none() || same_instant {
                document.bundle.created_at = record.incident.created_at;
            }
            document.id = Some(id);
            let stored = render(&document_of(&record, self.people), self.templates);
            let mut incoming = document.clone();
            // Facts the store does not keep are not differences.
            incoming.imported_from = None;
            incoming.bundle.published_at = None;
            let incoming = render(&incoming, self.templates);
            let first_difference = stored
                .lines()
                .zip(incoming.lines().chain(std::iter::repeat("")))
                .enumerate()
                .find(|(_, (a, b))| a != b)
                .map(|(index, (a, b))| (index + 1, a.to_owned(), b.to_owned()));
            return Ok(match first_difference {
                None if stored.len() == incoming.len() => Outcome::Unchanged(id),
                None => Outcome::Differs(
                    id,
                    stored.lines().count() + 1,
                    String::new(),
                    "…".to_owned(),
                ),
                Some((line, a, b)) => Outcome::Differs(id, line, a, b),
            });
        }
        if self.dry_run {
            return Ok(Outcome::WouldCreate);
        }
        let ids = self
            .store
            .import_bundles(Actor::IMPORT, None, &[document.bundle])
            .await?;
        let id = ids[0];
        // The policy's decision and the people named on the incident are not part of a
        // bundle; they follow in writes of their own.
        if let Some(policy) = &document.policy {
            self.store
                .set_policy_decision(Actor::IMPORT, id, policy.decision, &policy.reasons)
                .await?;
        }
        for member in &document.members {
            if let Some(user) = self.store.user_by_handle(member).await? {
                self.store
                    .add_incident_member(Actor::IMPORT, id, user.id)
                    .await?;
            }
        }
        Ok(Outcome::Created(id))
    }
}
