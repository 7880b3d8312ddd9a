//! The embedded backend: SQLite in WAL mode with foreign keys on, created on first use.

use crate::{Clock, Result};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::{str::FromStr, sync::Arc, time::Duration};

/// A SQLite database. Writes go through a pool of one connection, so they queue in the
/// process instead of failing with "database is locked"; reads use several connections,
/// which WAL mode lets run beside the writer.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    read_pool: SqlitePool,
    write_pool: SqlitePool,
    clock: Arc<dyn Clock>,
    records: crate::cache::RecordCache,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

impl SqliteStore {
    /// Opens (creating if needed) the database at a `sqlite://PATH` URL and migrates it.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-32000");
        let write_pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write_pool).await?;
        let read_pool = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Self {
            read_pool,
            write_pool,
            clock,
            records: crate::cache::RecordCache::default(),
        })
    }

    fn reader(&self) -> &SqlitePool {
        &self.read_pool
    }

    fn writer(&self) -> &SqlitePool {
        &self.write_pool
    }

    /// SQLite has one writer at a time already; nothing to lock.
    async fn lock_for_import(_tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<()> {
        Ok(())
    }

    /// SQLite's `INTEGER PRIMARY KEY` continues after the largest id; nothing to adjust.
    async fn after_import(_tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>) -> Result<()> {
        Ok(())
    }
}

impl_store!(SqliteStore, sqlx::Sqlite, Backend::Sqlite);
