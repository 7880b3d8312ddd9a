//! Test fixtures: a fresh database per test, on either backend.
//!
//! SQLite tests get a new file in a temporary directory. PostgreSQL tests get a new schema
//! (`pmtest_<pid>_<n>`) in the database named by `POSTMORTEM_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); `cargo xtask test` drops old test schemas
//! before a run.

use crate::{Clock, ManualClock, PgStore, SqliteStore, Store};
use sqlx::postgres::PgConnectOptions;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// The default PostgreSQL of the development and CI machines.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A store on a fresh database, with a clock the test controls. Keep it alive for as long
/// as the store is used: dropping it removes the SQLite directory.
#[derive(Debug)]
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    /// The URL a second process (or a second store) would use to reach the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

fn test_clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        time::macros::datetime!(2026-03-02 09:00 UTC),
    ))
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("test.db").display());
        let clock = test_clock();
        let store = SqliteStore::connect(&url, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("a fresh SQLite database");
        Self {
            store: Arc::new(store),
            clock,
            url,
            _dir: Some(dir),
        }
    }

    pub async fn postgres() -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let base = std::env::var("POSTMORTEM_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let schema = format!(
            "pmtest_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let admin =
            PgConnectOptions::from_str(&base).expect("a valid POSTMORTEM_TEST_POSTGRES_URL");
        let mut conn = sqlx::ConnectOptions::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "cannot reach PostgreSQL at {base}: {e}. Start it (cargo xtask test does) or set POSTMORTEM_TEST_POSTGRES_URL"
            )
        });
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .expect("a fresh schema");
        let options = admin.options([("search_path", schema.as_str())]);
        let clock = test_clock();
        let store = PgStore::connect_with(options, clock.clone() as Arc<dyn Clock>)
            .await
            .expect("a migrated PostgreSQL schema");
        let url = format!("{base}?options=-c%20search_path%3D{schema}");
        Self {
            store: Arc::new(store),
            clock,
            url,
            _dir: None,
        }
    }
}

/// Declares each test once per backend: `mod sqlite { fn name() }` and `mod postgres { ... }`.
/// Each test body is an async block given `db: TestDb`.
#[macro_export]
macro_rules! backend_tests {
    ($($(#[$meta:meta])* async fn $name:ident($db:ident: TestDb) $body:block)*) => {
        mod sqlite {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $db = $crate::testing::TestDb::sqlite().await;
                    $body
                }
            )*
        }
        mod postgres {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[$meta])*
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let $db = $crate::testing::TestDb::postgres().await;
                    $body
                }
            )*
        }
    };
}
