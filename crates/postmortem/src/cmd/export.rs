//! `postmortem export`: every incident (or one) as a Markdown file `DIR/<id>-<slug>.md`, with a
//! progress bar; `--external` writes the customer-facing version instead.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use postmortem_app::export::{People, document_of};
use postmortem_core::{IncidentId, SectionName, Templates, parse_date};
use postmortem_markdown::{Document, ExternalSpec, external, file_name, render};
use postmortem_store::{IncidentRecord, Visibility};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Incidents read from the database at a time.
const PAGE: i64 = 500;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Directory to write the files to (created if missing); `-` writes to standard output.
    #[arg(long, value_name = "DIR", default_value = "postmortems")]
    out: PathBuf,
    /// Export only this incident.
    #[arg(long, value_name = "ID")]
    incident: Option<i64>,
    /// Export only incidents that started (or were recorded) on or after this day, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    since: Option<String>,
    /// Write the customer-facing version: chosen sections, people as roles, internal hosts,
    /// addresses and links replaced.
    #[arg(long)]
    external: bool,
    /// With `--external`: the sections to share.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "summary,impact,detection,recovery,lessons,action_items"
    )]
    sections: Vec<String>,
    /// With `--external`: the organisation's own domains, whose hosts and links are internal.
    #[arg(long, value_delimiter = ',', value_name = "DOMAIN")]
    internal_domain: Vec<String>,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let templates = config.templates()?;
    let (store, location) = open_store(&config, &args.database).await?;
    let since = args
        .since
        .as_deref()
        .map(|raw| parse_date("since", raw))
        .transpose()?;
    let sections = args
        .sections
        .iter()
        .map(SectionName::parse)
        .collect::<Result<Vec<_>, _>>()?;
    let people = People::load(store.as_ref()).await?;
    let mut writer = Writer {
        out: &args.out,
        templates: &templates,
        external: args
            .external
            .then_some((&sections, &people, &args.internal_domain)),
        existing: HashMap::new(),
    };
    if writer.out != Path::new("-") {
        std::fs::create_dir_all(writer.out)
            .with_context(|| format!("cannot create {}", writer.out.display()))?;
        writer.existing = existing_files(writer.out)?;
    }

    if let Some(id) = args.incident {
        let record = store
            .incident(IncidentId::new(id), Visibility::Everything)
            .await?
            .with_context(|| format!("no incident {id} in {location}"))?;
        writer.write(&document_of(&record, &people))?;
        return Ok(ExitCode::SUCCESS);
    }

    let wanted = |record: &IncidentRecord| {
        since.is_none_or(|since| {
            record
                .incident
                .started_at
                .unwrap_or(record.incident.created_at)
                .date()
                >= since
        })
    };
    let total = store
        .list_incidents(&postmortem_store::IncidentQuery::new(
            Visibility::Everything,
        ))
        .await
        .ok()
        .and_then(|page| page.total.try_into().ok());
    let bar = match total {
        Some(total) if writer.out != Path::new("-") => ProgressBar::new(total),
        _ => ProgressBar::hidden(),
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} incidents, {per_sec}, {eta} left")
            .expect("a valid template"),
    );
    let mut after = None;
    let mut written = 0;
    loop {
        let records = store.incidents_after(after, PAGE).await?;
        let Some(last) = records.last() else { break };
        after = Some(last.incident.id);
        for record in records.iter().filter(|record| wanted(record)) {
            writer.write(&document_of(record, &people))?;
            written += 1;
        }
        bar.inc(records.len() as u64);
    }
    bar.finish_and_clear();
    if writer.out != Path::new("-") {
        eprintln!(
            "{written} incidents exported from {location} to {}",
            writer.out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

struct Writer<'a> {
    out: &'a Path,
    templates: &'a Templates,
    external: Option<(&'a Vec<SectionName>, &'a People, &'a Vec<String>)>,
    /// Files of earlier exports in `out`, by incident id.
    existing: HashMap<i64, Vec<String>>,
}

/// The `<id>-<slug>.md` files in `dir`, by id, read once.
fn existing_files(dir: &Path) -> anyhow::Result<HashMap<i64, Vec<String>>> {
    let mut files: HashMap<i64, Vec<String>> = HashMap::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        let id = name
            .strip_suffix(".md")
            .and_then(|stem| stem.split_once('-'))
            .and_then(|(id, _)| id.parse::<i64>().ok());
        if let Some(id) = id {
            files.entry(id).or_default().push(name);
        }
    }
    Ok(files)
}

impl Writer<'_> {
    fn write(&mut self, document: &Document) -> anyhow::Result<()> {
        let text = match self.external {
            None => render(document, self.templates),
            Some((sections, people, domains)) => {
                let spec = ExternalSpec {
                    sections: sections.clone(),
                    internal_domains: domains.clone(),
                    ..ExternalSpec::default()
                };
                external(document, &spec, &people.as_roles(), self.templates).markdown
            }
        };
        if self.out == Path::new("-") {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(text.as_bytes())?;
            stdout.write_all(b"\n")?;
            return Ok(());
        }
        let name = file_name(document);
        // A renamed incident's old file goes, so the folder holds each incident once.
        if let Some(old_files) = document.id.and_then(|id| self.existing.remove(&id.get())) {
            for old in old_files.iter().filter(|old| **old != name) {
                std::fs::remove_file(self.out.join(old))?;
            }
        }
        let path = self.out.join(&name);
        let partial = self.out.join(format!(".{name}.partial"));
        std::fs::write(&partial, text.as_bytes())
            .with_context(|| format!("cannot write {}", partial.display()))?;
        std::fs::rename(&partial, &path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(())
    }
}
