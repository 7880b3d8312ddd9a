//! `postmortem import PATH...`: Markdown files (exports of this system, or post-mortems
//! written elsewhere) into the database through the app layer's import use case, one
//! transaction per incident, as a person (`--as HANDLE`) or as `system:import`. Files,
//! folders (every `.md` under them, with a progress bar) and `-` for standard input. A file
//! that cannot be read is reported with its path, line and reason and nothing of it is
//! written; the others go on. Importing a file again finds the same incident (by its `id`, or
//! by the slug of its title) and changes nothing when nothing changed; a changed file updates
//! it, unless the incident changed in postmortem since the file was exported (then the file is
//! refused unless `--force`). Each imported incident's audit event keeps the file's path.

use super::{DatabaseArgs, open_app};
use crate::config::Config;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_app::{ImportOptions, ImportOutcome};
use postmortem_core::{Handle, SystemActor};
use postmortem_markdown::MAX_FILE_BYTES;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// Files, folders (every `.md`, `.html` and `.htm` file under them: Markdown, or HTML
    /// exported from Confluence or Google Docs) or `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Show what would be created, left alone or changed (fact by fact, section by section),
    /// and how each file was read, without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Update an incident from its file even when it changed in postmortem since the file
    /// was exported, overwriting those changes.
    #[arg(long)]
    force: bool,
    /// Who imports: what a post-mortem written elsewhere records is theirs, and people a file
    /// names who have no account here are replaced by them. Without it the system imports
    /// (`system:import`), and a file naming someone without an account is refused.
    #[arg(long = "as", value_name = "HANDLE")]
    importer: Option<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (app, location) = open_app(&config, &args.database).await?;
    let person = match &args.importer {
        Some(raw) => {
            let handle = Handle::parse(raw)?;
            let user = app.store().user_by_handle(&handle).await?.with_context(|| {
                format!(
                    "no person `{handle}` in {location}; create them with `postmortem user create`, or leave out --as to import as the system"
                )
            })?;
            Some(user)
        }
        None => None,
    };
    let service = match &person {
        Some(user) => app.acting_for(user),
        None => app.as_system(SystemActor::Import),
    };
    let importer = service.importer().await?;
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
    let options = ImportOptions {
        dry_run: args.dry_run,
        force: args.force,
    };
    let (mut created, mut unchanged, mut updated, mut failed) = (0, 0, 0, 0);
    for path in &files {
        let name = path.display().to_string();
        let result = match read(path) {
            Ok(bytes) => importer
                .import(&name, &bytes, options)
                .await
                .map_err(anyhow::Error::from),
            Err(error) => Err(error),
        };
        let imported = match result {
            Ok(imported) => imported,
            Err(error) => {
                bar.suspend(|| eprintln!("error: {error:#}"));
                failed += 1;
                bar.inc(1);
                continue;
            }
        };
        let was_updated = matches!(imported.outcome, ImportOutcome::Updated { .. });
        let said = match imported.outcome {
            ImportOutcome::Created { id } => {
                created += 1;
                format!("created incident {id}")
            }
            ImportOutcome::WouldCreate => {
                created += 1;
                "would create a new incident".to_owned()
            }
            ImportOutcome::Unchanged { id } => {
                unchanged += 1;
                format!("incident {id} is unchanged")
            }
            ImportOutcome::Updated {
                id,
                version,
                changes,
            } => {
                updated += 1;
                format!(
                    "updated incident {id} to version {version} ({})",
                    parts(&changes)
                )
            }
            ImportOutcome::WouldUpdate { id, changes } => {
                updated += 1;
                let mut said = format!("would update incident {id}:");
                for change in &changes {
                    for line in change.to_string().lines() {
                        said.push_str("\n  ");
                        said.push_str(line);
                    }
                }
                said
            }
        };
        bar.suspend(|| {
            if args.dry_run || files.len() == 1 {
                println!("{name}: {said}");
                for note in &imported.notes {
                    println!("  {note}");
                }
            } else if was_updated {
                println!("{name}: {said}");
            }
        });
        bar.inc(1);
    }
    bar.finish_and_clear();
    let (create, update) = if args.dry_run {
        ("would be created", "would be updated")
    } else {
        ("created", "updated")
    };
    eprintln!(
        "{} files read: {created} {create}, {updated} {update}, {unchanged} unchanged, {failed} could not be imported",
        files.len()
    );
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The parts a file changed, named: `severity, section "Summary"`.
fn parts(changes: &[postmortem_app::FieldChange]) -> String {
    changes
        .iter()
        .map(|change| change.part.as_str())
        .collect::<Vec<_>>()
        .join(", ")
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
            .is_some_and(|ext| ["md", "markdown", "html", "htm"].iter().any(|e| ext == *e))
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
