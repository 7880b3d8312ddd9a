//! `postmortem`: the one binary of the post-mortem system.

mod cmd;
mod config;
mod log;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "postmortem",
    version,
    about = "Write, review, share and learn from blameless incident post-mortems."
)]
struct Cli {
    /// Configuration file; `postmortem.toml` in the current directory is read when present.
    #[arg(long, global = true, env = "POSTMORTEM_CONFIG", value_name = "PATH")]
    config: Option<std::path::PathBuf>,

    /// How the log on stderr is written: `text` for people (coloured only on a terminal) or
    /// `json`, one object per line, for log shippers.
    #[arg(
        long,
        global = true,
        env = "POSTMORTEM_LOG_FORMAT",
        value_enum,
        default_value_t = log::LogFormat::Text
    )]
    log_format: log::LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web server and API.
    Serve(cmd::serve::ServeArgs),
    /// Manage people's accounts.
    #[command(subcommand)]
    User(cmd::user::UserCommand),
    /// Fill the database with realistic demo incidents.
    Demo(cmd::demo::DemoArgs),
    /// The weekly follow-through digest: reviews owed, overdue actions, what changed lately.
    Digest(cmd::digest::DigestArgs),
    /// What keeps happening, across incidents: recurring conditions, themes, whether fixes
    /// held, durations and near misses.
    Insights(cmd::insights::InsightsArgs),
    /// Rebuild this node's search index from the database.
    Reindex(cmd::search::ReindexArgs),
    /// Search past incidents.
    Search(cmd::search::SearchArgs),
    /// Write incidents as Markdown files, one per incident.
    Export(cmd::export::ExportArgs),
    /// Read Markdown post-mortems (exports, or written elsewhere) into the database.
    Import(cmd::import::ImportArgs),
    /// An incident's timeline: import chat messages onto it.
    #[command(subcommand)]
    Timeline(cmd::timeline::TimelineCommand),
    /// Check Markdown post-mortems for blameful language.
    Lint(cmd::lint::LintArgs),
    /// When a post-mortem is owed: check an incident, explain the rules.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    log::init(cli.log_format);
    let result = config::Config::load(cli.config.as_deref()).and_then(|config| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            match cli.command {
                Command::Serve(args) => cmd::serve::run(config, args).await,
                Command::User(command) => cmd::user::run(config, command).await,
                Command::Demo(args) => cmd::demo::run(config, args).await,
                Command::Policy(command) => cmd::policy::run(config, command),
                Command::Lint(args) => cmd::lint::run(config, args),
                Command::Reindex(args) => cmd::search::reindex(config, args).await,
                Command::Search(args) => cmd::search::search(config, args).await,
                Command::Digest(args) => cmd::digest::run(config, args).await,
                Command::Insights(args) => cmd::insights::run(config, args).await,
                Command::Export(args) => cmd::export::run(config, args).await,
                Command::Import(args) => cmd::import::run(config, args).await,
                Command::Timeline(command) => cmd::timeline::run(config, command).await,
            }
        })
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            // One line, with the chain of causes, instead of a panic or a debug dump.
            log::failed(&error);
            ExitCode::FAILURE
        }
    }
}
