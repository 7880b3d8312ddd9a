//! What can go wrong in searching and indexing.

use crate::query::QueryError;
use postmortem_core::IncidentId;

/// An error of the search index.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query could not be read; the message says how to fix it.
    #[error(transparent)]
    Query(#[from] QueryError),
    /// No such incident, or none the viewer may see: the two are told apart nowhere, so
    /// that a restricted incident's existence does not leak.
    #[error("no incident {0}")]
    UnknownIncident(IncidentId),
    /// Another process is writing to the index directory.
    #[error("the search index in {dir} is in use by another process")]
    Locked { dir: String },
    #[error("reading the store: {0}")]
    Store(#[from] postmortem_store::StoreError),
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index directory: {0}")]
    Io(#[from] std::io::Error),
    #[error("the indexing task stopped unexpectedly: {0}")]
    Task(#[from] tokio::task::JoinError),
}

pub type Result<T, E = SearchError> = std::result::Result<T, E>;
