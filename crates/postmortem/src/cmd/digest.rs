//! `postmortem digest`: the weekly follow-through summary, for one team or everyone.

use super::{DatabaseArgs, open_store};
use crate::config::Config;
use postmortem_core::Name;
use postmortem_notify::{DigestFormat, build_digest};
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Html,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// Only this team's reviews and actions.
    #[arg(long)]
    team: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, args: DigestArgs) -> anyhow::Result<ExitCode> {
    let team = args
        .team
        .as_deref()
        .map(|t| Name::parse_field("team", t))
        .transpose()?;
    let (store, _) = open_store(&config, &args.database).await?;
    let policy = postmortem_core::policy::Policy::from_config(config.policy.clone())?;
    let today = policy.today(time::OffsetDateTime::now_utc());
    let digest = build_digest(store.as_ref(), team.as_ref(), today).await?;
    let format = match args.format {
        Format::Text => DigestFormat::Text,
        Format::Html => DigestFormat::Html,
        Format::Json => DigestFormat::Json,
    };
    print!("{}", digest.render(format));
    Ok(ExitCode::SUCCESS)
}
