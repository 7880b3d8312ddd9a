//! `postmortem user ...`: accounts from the command line, such as the first admin.

use super::{DatabaseArgs, open_app};
use crate::config::Config;
use anyhow::Context;
use postmortem_app::accounts::NewAccount;
use postmortem_core::SystemActor;
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create an account. With --token, prints a new API token alone on stdout.
    Create(CreateArgs),
    /// List accounts.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Sign-in handle, e.g. alex.kim
    handle: String,
    /// Full name shown to others.
    #[arg(long)]
    name: String,
    /// viewer, contributor, reviewer or admin.
    #[arg(long, default_value = "contributor")]
    role: String,
    /// Read a password from the first line of standard input (for browser sign-in).
    #[arg(long)]
    password_stdin: bool,
    /// Create an API token and print it on stdout.
    #[arg(long)]
    token: bool,
    /// Let that token expire after this many days (it does not expire otherwise).
    #[arg(long, requires = "token", value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
    token_days: Option<u32>,
    #[command(flatten)]
    database: DatabaseArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    database: DatabaseArgs,
}

pub async fn run(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    match command {
        UserCommand::Create(args) => create(config, args).await,
        UserCommand::List(args) => {
            let (app, _) = open_app(&config, &args.database).await?;
            for user in app.as_system(SystemActor::Accounts).users().await? {
                println!("{}\t{}\t{}", user.handle, user.role, user.display_name);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn create(config: Config, args: CreateArgs) -> anyhow::Result<ExitCode> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        Some(line.trim_end_matches(['\r', '\n']).to_owned())
    } else {
        None
    };
    let (app, _) = open_app(&config, &args.database).await?;
    let account = NewAccount {
        handle: args.handle,
        display_name: args.name,
        role: args.role,
        password,
        with_token: args.token,
        token_days: args.token_days,
    };
    let (user, token) = app
        .as_system(SystemActor::Accounts)
        .create_account(account)
        .await?;
    eprintln!(
        "created {} ({}, {})",
        user.handle, user.display_name, user.role
    );
    if let Some(token) = token {
        eprintln!("API token (shown once; store it now):");
        println!("{token}");
    }
    Ok(ExitCode::SUCCESS)
}
