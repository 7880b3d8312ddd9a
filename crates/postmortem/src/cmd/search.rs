//! `postmortem reindex` and `postmortem search`: the search index from the command line.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_search::{SearchError, SearchIndex, Viewer, format_json, format_text};
use std::io::IsTerminal;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReindexArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// Words, "phrases", prefix*, and filters such as service:checkout or after:2025-01-01.
    #[arg(required = true, num_args = 1..)]
    query: Vec<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[arg(long, default_value_t = 10)]
    limit: usize,
    #[command(flatten)]
    database: DatabaseArgs,
}

fn open_index(dir: &std::path::Path) -> anyhow::Result<SearchIndex> {
    match SearchIndex::open(dir) {
        Ok(index) => Ok(index),
        Err(SearchError::Locked { dir }) => anyhow::bail!(
            "the search index in {dir} is in use by a running server; search through it (GET /api/v1/search or /search), or stop it to reindex"
        ),
        Err(other) => {
            Err(other).with_context(|| format!("cannot open the search index in {}", dir.display()))
        }
    }
}

/// Rebuilds the index from scratch, with a progress bar.
pub async fn reindex(config: Config, args: ReindexArgs) -> anyhow::Result<ExitCode> {
    let (store, _) = open_store(&config, &args.database).await?;
    let dir = args.database.index_dir(&config);
    let index = open_index(&dir)?;
    let progress = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} incidents ({per_sec}, {eta} left)")
            .expect("a valid progress template"),
    );
    let bar = progress.clone();
    let report = index
        .rebuild(store.as_ref(), move |p| {
            bar.set_length(p.total);
            bar.set_position(p.indexed);
        })
        .await?;
    progress.finish_and_clear();
    let seconds = report.elapsed.as_secs_f64();
    eprintln!(
        "indexed {} incidents in {seconds:.1} s ({:.0}/s) into {} ({:.1} MiB)",
        report.incidents,
        report.incidents as f64 / seconds.max(1e-9),
        dir.display(),
        index.size_on_disk() as f64 / (1024.0 * 1024.0)
    );
    Ok(ExitCode::SUCCESS)
}

/// Searches as someone who sees everything: the command line runs with the server's own
/// rights, like the database it opens.
pub async fn search(config: Config, args: SearchArgs) -> anyhow::Result<ExitCode> {
    let (store, _) = open_store(&config, &args.database).await?;
    let index = open_index(&args.database.index_dir(&config))?;
    index.catch_up(store.as_ref()).await?;
    let query = args.query.join(" ");
    let results = match index.search(
        &query,
        &Viewer::Everything,
        args.limit.clamp(1, postmortem_search::MAX_LIMIT),
        0,
    ) {
        Ok(results) => results,
        Err(SearchError::Query(error)) => {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(2));
        }
        Err(other) => return Err(other.into()),
    };
    match args.format {
        Format::Json => println!("{}", format_json(&results)),
        Format::Text => print!("{}", format_text(&results, std::io::stdout().is_terminal())),
    }
    Ok(ExitCode::SUCCESS)
}
