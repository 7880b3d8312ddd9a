//! `postmortem timeline import`: a chat channel's messages onto an incident's timeline,
//! through `postmortem-app` as the person named with `--as`, exactly as the incident page
//! imports them: `source: chat`, the message's link kept, authors matched to people, and a
//! message imported before skipped, so running it again adds nothing.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use anyhow::Context;
use postmortem_app::chat::{ChatSource, ImportChoices, Selection};
use postmortem_core::{Handle, IncidentId, Perspective, parse_instant};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum TimelineCommand {
    /// Import chat messages (a Slack export's channel, or a CSV/JSON list) as timeline entries.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The incident's id.
    #[arg(long, value_name = "ID")]
    incident: i64,
    /// A Slack workspace export (the zip Slack makes); give the channel with --channel.
    #[arg(
        long,
        value_name = "EXPORT.zip",
        conflicts_with = "messages",
        required_unless_present = "messages"
    )]
    slack: Option<PathBuf>,
    /// The channel of the Slack export, e.g. incident-checkout.
    #[arg(long, value_name = "NAME", requires = "slack")]
    channel: Option<String>,
    /// A CSV (time,author,text,link) or JSON list of messages instead of a Slack export.
    #[arg(long, value_name = "FILE")]
    messages: Option<PathBuf>,
    /// Messages from this instant on (RFC 3339, e.g. 2025-03-14T13:00:00Z).
    #[arg(long, value_name = "T")]
    from: Option<String>,
    /// Messages up to this instant.
    #[arg(long, value_name = "T")]
    to: Option<String>,
    /// Which messages: all, pinned, or keywords (deploy, rollback, mitigated...).
    #[arg(long, value_name = "all|pinned|keywords", default_value = "keywords")]
    select: String,
    /// Whose view the entries record: observed (default), happened or believed.
    #[arg(long, value_name = "PERSPECTIVE", default_value = "observed")]
    perspective: String,
    /// Who imports; the entries and the audit log name them.
    #[arg(long = "as", value_name = "HANDLE")]
    importer: String,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, command: TimelineCommand) -> anyhow::Result<ExitCode> {
    let TimelineCommand::Import(args) = command;
    let (store, location) = open_store(&config, &args.database).await?;
    let handle = Handle::parse(&args.importer)?;
    let person = store.user_by_handle(&handle).await?.with_context(|| {
        format!("no person `{handle}` in {location}; name who imports with --as HANDLE")
    })?;
    let rules = config.rules()?;
    let app = postmortem_app::App::new(store, rules);
    let instant = |field: &str, raw: &Option<String>| {
        raw.as_deref()
            .map(|raw| parse_instant(field, raw))
            .transpose()
    };
    let from = instant("from", &args.from)?;
    let to = instant("to", &args.to)?;
    let selection = Selection::parse(&args.select)?;
    let perspective = Perspective::parse(&args.perspective)?;
    let (path, bytes) = match (&args.slack, &args.messages) {
        (Some(path), _) | (None, Some(path)) => (
            path,
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        ),
        (None, None) => anyhow::bail!("give --slack EXPORT.zip --channel NAME or --messages FILE"),
    };
    let source = match (&args.slack, &args.channel) {
        (Some(_), Some(channel)) => ChatSource::Slack {
            export: &bytes,
            channel,
        },
        (Some(_), None) => anyhow::bail!("name the channel to import with --channel NAME"),
        (None, _) => ChatSource::Generic { bytes: &bytes },
    };
    let imported = app
        .acting_for(&person)
        .import_chat(
            IncidentId::new(args.incident),
            source,
            from,
            to,
            &selection,
            &ImportChoices::all_as(perspective),
        )
        .await
        .with_context(|| format!("cannot import {}", path.display()))?;
    println!(
        "{} message(s) selected: {} added to incident {}, {} on its timeline already",
        imported.selected, imported.added, args.incident, imported.already
    );
    Ok(ExitCode::SUCCESS)
}
