//! Full-text search over past incidents: a tantivy index derived from the store, never the
//! source of truth.
//!
//! [`SearchIndex`] opens (or creates, or heals) an index in a directory, [`rebuilds`] it from
//! the store, and [`follows`] the store's change feed so a saved change is searchable within
//! a second. Searches understand words, `"phrases"`, `prefixes*`, typos in longer words and
//! `field:value` filters (see [`query`]); they answer a page of hits with highlighted
//! snippets, the total and facet counts over every match, and never show a restricted
//! incident to someone who may not see it: visibility is a clause of the search itself.
//!
//! The crate uses tokio for the follow loop and to keep indexing off the async threads.
//!
//! [`rebuilds`]: SearchIndex::rebuild
//! [`follows`]: SearchIndex::follow

mod error;
mod freshness;
mod index;
pub mod query;
mod results;
mod schema;

pub use error::{Result, SearchError};
pub use index::{
    CatchUpReport, MAX_LIMIT, MAX_OFFSET, OpenOutcome, RebuildProgress, RebuildReport, SearchIndex,
    Viewer,
};
pub use query::{ParsedQuery, QueryError, parse_query};
pub use results::{
    FacetCount, Facets, SearchHit, SearchResults, SimilarIncident, SuggestedIncident,
    SuggestedWord, Suggestions, format_json, format_text,
};
