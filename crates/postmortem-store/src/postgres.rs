//! The scale-out backend: PostgreSQL, shared by several stateless server nodes.

use crate::{Clock, Result};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::{str::FromStr, sync::Arc, time::Duration};

/// A PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    clock: Arc<dyn Clock>,
    records: crate::cache::RecordCache,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Tables whose ids an import assigns itself.
const IMPORTED_TABLES: [&str; 5] = [
    "incidents",
    "timeline_entries",
    "factors",
    "actions",
    "reviews",
];

impl PgStore {
    /// Connects to a `postgres://` URL and migrates the database.
    pub async fn connect(url: &str, clock: Arc<dyn Clock>) -> Result<Self> {
        Self::connect_with(PgConnectOptions::from_str(url)?, clock).await
    }

    /// Connects with explicit options, such as a `search_path` for a test's own schema.
    pub async fn connect_with(options: PgConnectOptions, clock: Arc<dyn Clock>) -> Result<Self> {
        // One direct connection first: when the server is down or the credentials are wrong,
        // this fails at once with the real reason instead of a pool time-out.
        sqlx::ConnectOptions::connect(&options).await?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self {
            pool,
            clock,
            records: crate::cache::RecordCache::default(),
        })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    /// An import assigns ids itself, so other writers to those tables wait until it commits.
    async fn lock_for_import(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<()> {
        sqlx::query(&format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE",
            IMPORTED_TABLES.join(", ")
        ))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Moves the identity sequences past the ids the import assigned.
    async fn after_import(tx: &mut sqlx::Transaction<'static, sqlx::Postgres>) -> Result<()> {
        for table in IMPORTED_TABLES {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            ))
            .execute(&mut **tx)
            .await?;
        }
        Ok(())
    }
}

impl_store!(PgStore, sqlx::Postgres, Backend::Postgres);
