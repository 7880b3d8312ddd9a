//! `postmortem digest`: the weekly follow-through summary, for one team or everyone.

use super::{DatabaseArgs, open_app};
use crate::config::Config;
use postmortem_core::SystemActor;
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
    let (app, _) = open_app(&config, &args.database).await?;
    // Read as `system:digest`: a viewer of what a shared channel may see.
    let scope = app
        .as_system(SystemActor::Digest)
        .digest_scope(args.team.as_deref())?;
    let digest = build_digest(scope.store, scope.team.as_ref(), scope.today).await?;
    let format = match args.format {
        Format::Text => DigestFormat::Text,
        Format::Html => DigestFormat::Html,
        Format::Json => DigestFormat::Json,
    };
    print!("{}", digest.render(format));
    Ok(ExitCode::SUCCESS)
}
