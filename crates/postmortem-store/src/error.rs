//! What can go wrong in the store, in terms the server can turn into an HTTP answer.

use postmortem_core::ValidationError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing does not exist, or the caller may not know that it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken, such as a handle.
    #[error("{0}")]
    Duplicate(String),
    /// The write was based on an older version than the one stored.
    #[error("the incident changed since version {expected}; it is now at version {current}")]
    VersionConflict { expected: i64, current: i64 },
    /// A value passed to the store broke a rule that needs the stored data to check.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// A lifecycle transition the state machine does not allow.
    #[error(transparent)]
    Transition(#[from] postmortem_core::TransitionError),
    /// A pagination cursor that this store did not hand out.
    #[error("the cursor `{0}` is not one this server handed out; start again without it")]
    InvalidCursor(String),
    /// The URL names a database this program does not speak.
    #[error(
        "unsupported database URL `{0}`: use sqlite://PATH (e.g. sqlite://./postmortem-data/postmortem.db) or postgres://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// A stored value no longer parses: the database was edited by hand or by a newer version.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    pub(crate) fn corrupt(what: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }

    /// Maps a unique-constraint violation to a readable duplicate error.
    pub(crate) fn or_duplicate(error: sqlx::Error, message: impl FnOnce() -> String) -> Self {
        match &error {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Duplicate(message())
            }
            _ => StoreError::Database(error),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
