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
use postmortem_core::{Handle, IncidentId, Templates};
use postmortem_markdown::{Document, ImportContext, MAX_FILE_BYTES, decode, parse, render, slug_of};
use postmortem_server::export::{People, document_of};
use postmortem_store::{Store, Visibility};
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
    /// The file matches an incident whose content differs.
    Differs(IncidentId),
}

pub async fn run(config: Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let templates = config.templates()?;
    let (store, location) = open_store(&config, &args.database).await?;
    let importer = Handle::parse(&args.importer)?;
    let people = People::load(store.as_ref()).await?;
    let known: HashSet<Handle> = store.users().await?.into_iter().map(|u| u.handle).collect();
    if !known.contains(&importer) && !args.dry_run {
        anyhow::bail!("no person `{importer}` in {location}; name who imports with --as HANDLE (create them with `postmortem user create`)");
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
                    Outcome::Differs(id) => {
                        differs += 1;
                        format!("incident {id} differs from the file; updating an incident from a file is not supported yet, so it was left as it is")
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
    let verb = if args.dry_run { "would be created" } else { "created" };
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
            found.sort();
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
        {
            found.push(path);
        }
    }
    Ok(())
}

/// A file's bytes, at most [`MAX_FILE_BYTES`] and one more, so that `decode` can refuse a
/// larger one without reading it all.
fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = MAX_FILE_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if path == Path::new("-") {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(path)
            .with_context(|| format!("cannot open {}", path.display()))?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// The slug of every incident's title, to find the incident a file without an id is about.
async fn existing_slugs(store: &dyn Store) -> anyhow::Result<HashMap<String, IncidentId>> {
    let mut slugs = HashMap::new();
    let mut after = None;
    loop {
        let records = store.incidents_after(after, 500).await?;
        let Some(last) = records.last() else { break };
        after = Some(last.incident.id);
        for record in &records {
            slugs
                .entry(slug_of(record.incident.title.as_str()))
                .or_insert(record.incident.id);
        }
    }
    Ok(slugs)
}

struct Importing<'a> {
    store: &'a dyn Store,
    templates: &'a Templates,
    people: &'a People,
    known: &'a HashSet<Handle>,
    slugs: &'a HashMap<String, IncidentId>,
    dry_run: bool,
}

impl Importing<'_> {
    /// People a file names who have no account here: owners are left unassigned, anyone else
    /// (authors, writers, reviewers) becomes the importer. Each replacement is noted.
    fn resolve_people(&self, document: &mut Document, importer: &Handle) -> Vec<String> {
        let mut notes = Vec::new();
        let mut replace = |handle: &mut Handle, what: &str| {
            if !self.known.contains(handle) {
                notes.push(format!("{what} `{handle}` has no account here; recorded as `{importer}`"));
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
                notes.push(format!("owner `{owner}` of “{}” has no account here; left unassigned", action.item.title));
            }
        }
        document.members.retain(|member| self.known.contains(member));
        notes
    }

    async fn apply(&self, mut document: Document) -> anyhow::Result<Outcome> {
        let matched = match document.id {
            Some(id) => self
                .store
                .incident(id, Visibility::Everything)
                .await?
                .map(|record| (id, record)),
            None => match self.slugs.get(&document.slug()) {
                Some(&id) => self
                    .store
                    .incident(id, Visibility::Everything)
                    .await?
                    .map(|record| (id, record)),
                None => None,
            },
        };
        if let Some((id, record)) = matched {
            document.id = Some(id);
            let stored = render(&document_of(&record, self.people), self.templates);
            let mut incoming = document.clone();
            // Facts the store does not keep are not differences.
            incoming.imported_from = None;
            incoming.bundle.published_at = None;
            return Ok(if render(&incoming, self.templates) == stored {
                Outcome::Unchanged(id)
            } else {
                Outcome::Differs(id)
            });
        }
        if self.dry_run {
            return Ok(Outcome::WouldCreate);
        }
        let ids = self.store.import_bundles(&[document.bundle]).await?;
        Ok(Outcome::Created(ids[0]))
    }
}
