//! The subcommands of the binary, one module each.

pub mod demo;
pub mod digest;
pub mod export;
pub mod import;
pub mod insights;
pub mod lint;
pub mod policy;
pub mod search;
pub mod serve;
pub mod timeline;
pub mod user;

use crate::config::Config;
use anyhow::Context;
use postmortem_store::{Store, SystemClock};
use std::path::PathBuf;
use std::sync::Arc;

/// Where to find the database, shared by every command that opens it.
#[derive(Debug, Clone, clap::Args)]
pub struct DatabaseArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST/DB (default: SQLite in the data directory).
    #[arg(long, env = "POSTMORTEM_DATABASE_URL", value_name = "URL")]
    pub database: Option<String>,
    /// Directory for the embedded SQLite database.
    #[arg(long, env = "POSTMORTEM_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Directory of this node's search index (default: search-index in the data directory).
    #[arg(long, env = "POSTMORTEM_INDEX_DIR", value_name = "DIR")]
    pub index_dir: Option<PathBuf>,
}

impl DatabaseArgs {
    pub fn index_dir(&self, config: &Config) -> PathBuf {
        config.index_dir(self.index_dir.as_deref(), self.data_dir.as_deref())
    }
}

/// An opened, migrated store and a printable description of where the data lives.
pub async fn open_store(
    config: &Config,
    args: &DatabaseArgs,
) -> anyhow::Result<(Arc<dyn Store>, String)> {
    let (url, data_dir) =
        config.database_url(args.database.as_deref(), args.data_dir.as_deref())?;
    let store = postmortem_store::connect(&url, Arc::new(SystemClock))
        .await
        .with_context(|| format!("cannot open the database at {}", redact(&url)))?;
    let location = match data_dir {
        Some(dir) => format!("{} (SQLite)", dir.canonicalize().unwrap_or(dir).display()),
        None => redact(&url),
    };
    Ok((store, location))
}

/// The app layer over the opened store, with the configuration's rules: what every command
/// that writes or reads incidents goes through, as a named system actor or a person.
pub async fn open_app(
    config: &Config,
    args: &DatabaseArgs,
) -> anyhow::Result<(postmortem_app::App, String)> {
    let rules = config.rules()?;
    let (store, location) = open_store(config, args).await?;
    Ok((postmortem_app::App::new(store, rules), location))
}

/// A URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_kept_out_of_messages() {
        assert_eq!(
            super::redact("postgres://pm:secret@db/pm"),
            "postgres://pm:***@db/pm"
        );
        assert_eq!(super::redact("postgres://pm@db/pm"), "postgres://pm@db/pm");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
