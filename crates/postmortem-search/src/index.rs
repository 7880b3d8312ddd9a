//! The index on disk: opening (and healing) it here; rebuilding it from the store in
//! [`build`], following the change feed in [`catch_up`], and answering searches and "similar
//! incidents" in [`search`], suggesting while typing in [`suggest`].

mod build;
mod catch_up;
mod search;
mod suggest;

use crate::error::{Result, SearchError};
use crate::query::{ParsedQuery, TextPart, parse_query};
use crate::results::{FacetCount, Facets, SearchHit, SearchResults, SimilarIncident};
use crate::schema::{
    FACET_ROOTS, FORMAT_VERSION, Fields, PLAIN_ANALYZER, TEXT_ANALYZER, analyse, build_schema,
    document, id_term, text_analyzer, weighted_text_fields,
};
use postmortem_core::{IncidentId, TeamName, UserId};
use postmortem_store::{IncidentQuery, IncidentRecord, Store, Visibility};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::convert::Infallible;
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::collector::{Count, FacetCollector, TopDocs};
use tantivy::directory::error::LockError;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query,
    RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{Facet, Field, IndexRecordOption, Schema, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    Index, IndexReader, IndexWriter, Order, ReloadPolicy, Searcher, TantivyDocument, TantivyError,
    Term,
};

/// Whose eyes a search is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Viewer {
    /// Sees every incident (admins, and the system itself).
    Everything,
    /// Sees unrestricted incidents and the restricted ones they belong to: they recorded it,
    /// are named on it, or belong to one of the teams it names (`teams`, from the store at
    /// the time of the search, so a change of membership counts at once), except `hidden`:
    /// incidents the store says they may no longer see although the index, which has not
    /// applied that change yet, would still show them (see [`SearchIndex::hidden_from`]).
    Person {
        user: UserId,
        teams: Vec<TeamName>,
        hidden: Vec<IncidentId>,
    },
}

impl Viewer {
    pub fn person(user: UserId, teams: Vec<TeamName>) -> Self {
        Viewer::Person {
            user,
            teams,
            hidden: Vec::new(),
        }
    }

    /// The same viewer, who must not be shown `incidents` whatever the index says.
    pub fn hiding(self, incidents: Vec<IncidentId>) -> Self {
        match self {
            Viewer::Person { user, teams, .. } => Viewer::Person {
                user,
                teams,
                hidden: incidents,
            },
            Viewer::Everything => Viewer::Everything,
        }
    }
}

/// How an index directory was found when it was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome {
    /// A sound index, current up to this change-feed sequence number.
    Opened { applied_seq: i64 },
    /// A sound index that was never filled; the next catch-up rebuilds it.
    Empty,
    /// There was no index; a new, empty one was created.
    Created,
    /// The index was unreadable (damaged files, an older format); it was wiped and will be
    /// rebuilt by the next catch-up.
    Recreated { reason: String },
}

/// How far a rebuild has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    pub indexed: u64,
    /// Incidents in the store when the rebuild started (more may arrive during it).
    pub total: u64,
}

/// What a rebuild did.
#[derive(Debug, Clone, PartialEq)]
pub struct RebuildReport {
    pub incidents: u64,
    pub elapsed: Duration,
    /// The change-feed position the rebuilt index is current to.
    pub applied_seq: i64,
}

/// What one catch-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatchUpReport {
    /// Change-feed rows applied.
    pub changes: u64,
    /// Incident documents replaced or deleted (or, after a rebuild, written).
    pub incidents: u64,
    /// Whether the index had to be rebuilt from scratch first.
    pub rebuilt: bool,
    pub applied_seq: i64,
}

/// What the index remembers in each commit, atomically with the documents: the change-feed
/// position they reflect. Kept in tantivy's commit payload rather than a file beside it, so
/// a crash can never leave the two disagreeing.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    format: u32,
    applied_seq: i64,
}

/// Incidents read from the store per round trip during a rebuild.
const REBUILD_BATCH: i64 = 500;
/// Change-feed rows applied per commit.
const CATCH_UP_BATCH: i64 = 1_000;
/// Indexing threads and their shared memory budget; two threads match the machines we run
/// on, and rebuild speed is bounded by reading the store anyway.
const WRITER_THREADS: usize = 2;
const WRITER_MEMORY: usize = 120_000_000;
/// Words at least this long tolerate one typo.
const FUZZY_MIN_CHARS: usize = 5;
/// Longest snippet, in characters.
const SNIPPET_CHARS: usize = 200;
/// Most results per page and deepest page, so one request cannot ask for the whole index.
pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;

/// Handles of action item owners, by user id, shared with the indexing task.
type Handles = Arc<HashMap<UserId, String>>;

#[derive(Debug)]
struct FollowState {
    applied_seq: Option<i64>,
    handles: Handles,
}

/// A full-text index of incidents, derived from the store: it can be deleted at any time and
/// is rebuilt from the store, and it follows the store's change feed to stay current.
///
/// One process owns an index directory at a time (tantivy holds a lock file in it).
pub struct SearchIndex {
    dir: PathBuf,
    fields: Fields,
    reader: IndexReader,
    /// The writer, behind a blocking mutex because every use of it runs on a blocking thread.
    writer: Arc<Mutex<IndexWriter>>,
    /// Serialises rebuilds and catch-ups, which interleave store reads (async) and writes.
    state: tokio::sync::Mutex<FollowState>,
    /// The last applied sequence number (-1 for none), readable without waiting for `state`.
    applied: AtomicI64,
    opened: OpenOutcome,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.dir)
            .field("applied_seq", &self.applied_seq())
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating the directory and the index if needed. An index
    /// that cannot be read (damaged files, a schema from another version) is wiped and
    /// recreated empty: it is derived data, and the next [`catch_up`](Self::catch_up)
    /// rebuilds it from the store.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        let (schema, fields) = build_schema();
        let (index, opened) = match open_existing(&dir, &schema) {
            Ok(Some((index, Some(applied_seq)))) => (index, OpenOutcome::Opened { applied_seq }),
            Ok(Some((index, None))) => (index, OpenOutcome::Empty),
            Ok(None) => {
                wipe(&dir)?;
                (Index::create_in_dir(&dir, schema)?, OpenOutcome::Created)
            }
            Err(reason) => {
                tracing::warn!(dir = %dir.display(), %reason, "search index unreadable; recreating it");
                wipe(&dir)?;
                (
                    Index::create_in_dir(&dir, schema)?,
                    OpenOutcome::Recreated { reason },
                )
            }
        };
        index.tokenizers().register(TEXT_ANALYZER, text_analyzer());
        index
            .tokenizers()
            .register(PLAIN_ANALYZER, crate::schema::plain_analyzer());
        let writer = index
            .writer_with_num_threads(WRITER_THREADS, WRITER_MEMORY)
            .map_err(|error| match error {
                TantivyError::LockFailure(LockError::LockBusy, _) => SearchError::Locked {
                    dir: dir.display().to_string(),
                },
                other => other.into(),
            })?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let applied_seq = match opened {
            OpenOutcome::Opened { applied_seq } => Some(applied_seq),
            _ => None,
        };
        Ok(Self {
            dir,
            fields,
            reader,
            writer: Arc::new(Mutex::new(writer)),
            state: tokio::sync::Mutex::new(FollowState {
                applied_seq,
                handles: Arc::default(),
            }),
            applied: AtomicI64::new(applied_seq.unwrap_or(-1)),
            opened,
        })
    }

    /// How the directory was found when it was opened.
    pub fn opened(&self) -> &OpenOutcome {
        &self.opened
    }

    /// The change-feed position the index reflects, or `None` before its first build.
    pub fn applied_seq(&self) -> Option<i64> {
        Some(self.applied.load(Ordering::Acquire)).filter(|seq| *seq >= 0)
    }

    /// How many incidents are searchable.
    pub fn num_incidents(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Bytes the index takes on disk.
    pub fn size_on_disk(&self) -> u64 {
        std::fs::read_dir(&self.dir)
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok()?.metadata().ok())
                    .filter(|meta| meta.is_file())
                    .map(|meta| meta.len())
                    .sum()
            })
            .unwrap_or(0)
    }
}

/// Opens the index in `dir` if there is a sound one: `Ok(None)` when there is none at all,
/// `Err(reason)` when there is one we cannot trust. Reads every file to check its checksum,
/// because a damaged segment would otherwise only show up in the middle of a search.
fn open_existing(dir: &Path, schema: &Schema) -> Result<Option<(Index, Option<i64>)>, String> {
    if !dir.join("meta.json").exists() {
        let has_segments = std::fs::read_dir(dir)
            .map_err(|e| e.to_string())?
            .filter_map(|entry| entry.ok())
            .any(|entry| is_index_file(&entry.file_name().to_string_lossy()));
        return if has_segments {
            Err("meta.json is missing".to_owned())
        } else {
            Ok(None)
        };
    }
    let index = Index::open_in_dir(dir).map_err(|e| format!("cannot open: {e}"))?;
    let same_schema =
        serde_json::to_value(index.schema()).ok() == serde_json::to_value(schema).ok();
    if !same_schema {
        return Err("the schema changed".to_owned());
    }
    let damaged = index
        .validate_checksum()
        .map_err(|e| format!("cannot check: {e}"))?;
    if !damaged.is_empty() {
        let names: Vec<String> = damaged.iter().map(|p| p.display().to_string()).collect();
        return Err(format!("damaged files: {}", names.join(", ")));
    }
    let metas = index
        .load_metas()
        .map_err(|e| format!("cannot read: {e}"))?;
    let applied_seq = match metas.payload.as_deref() {
        None => None,
        Some(raw) => {
            let payload: Payload =
                serde_json::from_str(raw).map_err(|e| format!("unreadable payload: {e}"))?;
            if payload.format != FORMAT_VERSION {
                return Err(format!(
                    "written in format {}, this version reads format {FORMAT_VERSION}",
                    payload.format
                ));
            }
            Some(payload.applied_seq)
        }
    };
    // Open a reader once so unreadable segments are found now rather than mid-search.
    index
        .reader()
        .map_err(|e| format!("cannot read segments: {e}"))?;
    Ok(Some((index, applied_seq)))
}

/// Whether a file name is one tantivy writes: only those are ever deleted, so pointing the
/// index at the wrong directory cannot destroy anything else in it.
fn is_index_file(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    name == "meta.json"
        || name == ".managed.json"
        || (name.starts_with(".tantivy-") && name.ends_with(".lock"))
        || (stem.len() == 32 && stem.chars().all(|c| c.is_ascii_hexdigit()) && name.contains('.'))
}

fn wipe(dir: &Path) -> Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() && is_index_file(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}
