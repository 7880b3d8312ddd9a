//! The index on disk: opening (and healing) it, rebuilding it from the store, following the
//! change feed, and answering searches and "similar incidents".

use crate::error::{Result, SearchError};
use crate::query::{ParsedQuery, TextPart, parse_query};
use crate::results::{FacetCount, Facets, SearchHit, SearchResults, SimilarIncident};
use crate::schema::{
    FACET_ROOTS, FORMAT_VERSION, Fields, TEXT_ANALYZER, analyse, build_schema, document, id_term,
    text_analyzer, weighted_text_fields,
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

    /// Rebuilds the index from scratch from every incident in the store, calling `progress`
    /// after each batch. Searches keep answering from the old index until the new one is
    /// committed; a failure leaves the old one in place.
    pub async fn rebuild(
        &self,
        store: &dyn Store,
        mut progress: impl FnMut(RebuildProgress) + Send,
    ) -> Result<RebuildReport> {
        let mut state = self.state.lock().await;
        self.rebuild_locked(&mut state, store, &mut progress).await
    }

    async fn rebuild_locked(
        &self,
        state: &mut FollowState,
        store: &dyn Store,
        progress: &mut (dyn FnMut(RebuildProgress) + Send),
    ) -> Result<RebuildReport> {
        let started = Instant::now();
        let outcome = self.fill_from_scratch(state, store, progress).await;
        match outcome {
            Ok((incidents, applied_seq)) => {
                self.commit(applied_seq).await?;
                state.applied_seq = Some(applied_seq);
                Ok(RebuildReport {
                    incidents,
                    elapsed: started.elapsed(),
                    applied_seq,
                })
            }
            Err(error) => {
                // Never let a later commit publish a half-built index.
                self.rollback().await?;
                Err(error)
            }
        }
    }

    async fn fill_from_scratch(
        &self,
        state: &mut FollowState,
        store: &dyn Store,
        progress: &mut (dyn FnMut(RebuildProgress) + Send),
    ) -> Result<(u64, i64)> {
        // Read the feed position first: changes committed while we read are then applied
        // again by the next catch-up, which is harmless, rather than missed.
        let head = store.latest_change_seq().await?;
        let mut count = IncidentQuery::new(Visibility::Everything);
        count.limit = 1;
        let total = store.list_incidents(&count).await?.total.max(0) as u64;
        state.handles = load_handles(store).await?;
        self.with_writer(|writer| {
            writer.delete_all_documents()?;
            Ok(())
        })
        .await?;
        let mut after = None;
        let mut indexed = 0;
        loop {
            let batch = store.incidents_after(after, REBUILD_BATCH).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.incident.id);
            indexed += batch.len() as u64;
            self.ensure_handles(state, store, &batch).await?;
            let ops = batch
                .into_iter()
                .map(|r| Op::Replace(Box::new(r)))
                .collect();
            self.apply(ops, state.handles.clone()).await?;
            progress(RebuildProgress {
                indexed,
                total: total.max(indexed),
            });
        }
        Ok((indexed, head))
    }

    /// Applies the change-feed rows after the last applied one: every incident they touch is
    /// read again whole and its document replaced (or deleted, if it is gone), then the new
    /// position is committed with the documents. An index never built is rebuilt instead.
    pub async fn catch_up(&self, store: &dyn Store) -> Result<CatchUpReport> {
        let mut state = self.state.lock().await;
        let Some(mut seq) = state.applied_seq else {
            let report = self
                .rebuild_locked(&mut state, store, &mut |_: RebuildProgress| {})
                .await?;
            return Ok(CatchUpReport {
                changes: 0,
                incidents: report.incidents,
                rebuilt: true,
                applied_seq: report.applied_seq,
            });
        };
        let mut report = CatchUpReport {
            changes: 0,
            incidents: 0,
            rebuilt: false,
            applied_seq: seq,
        };
        loop {
            let changes = store.changes_since(seq, CATCH_UP_BATCH).await?;
            let Some(last) = changes.last() else { break };
            let next_seq = last.seq;
            if changes.iter().any(|change| change.entity == "user") {
                state.handles = load_handles(store).await?;
            }
            let touched: BTreeSet<IncidentId> = changes
                .iter()
                .filter_map(|change| change.incident_id)
                .collect();
            let mut ops = Vec::with_capacity(touched.len());
            let mut records = Vec::new();
            for id in touched {
                match store.incident(id, Visibility::Everything).await? {
                    Some(record) => records.push(record),
                    None => ops.push(Op::Delete(id)),
                }
            }
            self.ensure_handles(&mut state, store, &records).await?;
            report.incidents += (ops.len() + records.len()) as u64;
            ops.extend(records.into_iter().map(|r| Op::Replace(Box::new(r))));
            let applied = async {
                self.apply(ops, state.handles.clone()).await?;
                self.commit(next_seq).await
            };
            if let Err(error) = applied.await {
                self.rollback().await?;
                return Err(error);
            }
            seq = next_seq;
            state.applied_seq = Some(seq);
            report.changes += changes.len() as u64;
            report.applied_seq = seq;
            if (changes.len() as i64) < CATCH_UP_BATCH {
                break;
            }
        }
        Ok(report)
    }

    /// Catches up every `interval` (200 ms keeps a saved change searchable within a second),
    /// forever: spawn it and abort the task to stop. Failures are logged and retried at the
    /// next tick, since the store may be briefly unreachable.
    pub async fn follow(&self, store: &dyn Store, interval: Duration) -> Infallible {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            ticker.tick().await;
            match self.catch_up(store).await {
                Ok(report) => {
                    if failing {
                        tracing::info!(
                            applied_seq = report.applied_seq,
                            "search index caught up again"
                        );
                    }
                    failing = false;
                }
                Err(error) => {
                    // Log the first failure of a run, not one line per tick.
                    if !failing {
                        tracing::warn!(%error, "search index could not catch up; retrying");
                    }
                    failing = true;
                }
            }
        }
    }

    /// Reads owners' handles again when an incident names an owner the cache does not know.
    async fn ensure_handles(
        &self,
        state: &mut FollowState,
        store: &dyn Store,
        records: &[IncidentRecord],
    ) -> Result<()> {
        let unknown = records
            .iter()
            .flat_map(|record| &record.actions)
            .filter_map(|action| action.owner)
            .any(|owner| !state.handles.contains_key(&owner));
        if unknown {
            state.handles = load_handles(store).await?;
        }
        Ok(())
    }

    async fn apply(&self, ops: Vec<Op>, handles: Handles) -> Result<()> {
        let fields = self.fields;
        self.with_writer(move |writer| {
            for op in ops {
                match op {
                    Op::Delete(id) => {
                        writer.delete_term(id_term(&fields, id));
                    }
                    Op::Replace(record) => {
                        writer.delete_term(id_term(&fields, record.incident.id));
                        writer.add_document(document(&fields, &record, &handles))?;
                    }
                }
            }
            Ok(())
        })
        .await
    }

    async fn commit(&self, applied_seq: i64) -> Result<()> {
        let payload = serde_json::to_string(&Payload {
            format: FORMAT_VERSION,
            applied_seq,
        })
        .expect("a payload always serialises");
        self.with_writer(move |writer| {
            let mut prepared = writer.prepare_commit()?;
            prepared.set_payload(&payload);
            prepared.commit()?;
            Ok(())
        })
        .await?;
        self.reader.reload()?;
        self.applied.store(applied_seq, Ordering::Release);
        Ok(())
    }

    async fn rollback(&self) -> Result<()> {
        self.with_writer(|writer| {
            writer.rollback()?;
            Ok(())
        })
        .await
    }

    /// Runs `work` with the writer on a blocking thread: indexing waits on tantivy's threads
    /// and commits wait on the disk, neither of which may stall the async runtime.
    async fn with_writer<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut IndexWriter) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            // A panic while holding the lock left the writer as tantivy left it; its own
            // consistency does not depend on our mutex, so carry on.
            let mut writer = writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut writer)
        })
        .await?
    }

    /// Searches for `query` as `viewer` sees the incidents: a page of `limit` hits (at most
    /// [`MAX_LIMIT`]) after `offset`, the total and the facet counts over all matches.
    /// Restricted incidents the viewer may not see are filtered inside the search, so they
    /// count nowhere. CPU-bound and quick; call it from a blocking thread if in doubt.
    pub fn search(
        &self,
        query: &str,
        viewer: &Viewer,
        limit: usize,
        offset: usize,
    ) -> Result<SearchResults> {
        let parsed = parse_query(query)?;
        let searcher = self.reader.searcher();
        let built = self.build_query(&searcher, &parsed, viewer)?;
        let limit = limit.min(MAX_LIMIT);
        let offset = offset.min(MAX_OFFSET);
        let mut facet_collector = FacetCollector::for_field("facets");
        for root in FACET_ROOTS {
            facet_collector.add_facet(Facet::from_path([root]));
        }
        // TopDocs refuses a limit of 0; ask for one and drop it, keeping total and facets.
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (mut hits, total, facet_counts) = if built.has_text {
            searcher.search(&*built.query, &(top, Count, facet_collector))?
        } else {
            // Without words there is no relevance: show the newest first.
            let newest = top.order_by_fast_field::<i64>("started", Order::Desc);
            let (hits, total, facets) =
                searcher.search(&*built.query, &(newest, Count, facet_collector))?;
            let hits = hits
                .into_iter()
                .map(|(_, address)| (0.0, address))
                .collect();
            (hits, total, facets)
        };
        hits.truncate(limit);

        let mut items = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let doc: TantivyDocument = searcher.doc(address)?;
            items.push(SearchHit {
                incident_id: self.incident_id(&doc),
                title: first_text(&doc, self.fields.title).to_owned(),
                snippet: self.snippet(&doc, &built.highlight),
                score,
            });
        }
        let mut facets = Facets::default();
        for root in FACET_ROOTS {
            let mut counts: Vec<FacetCount> = facet_counts
                .get(Facet::from_path([root]))
                .filter_map(|(facet, count)| {
                    let value = facet.to_path().last()?.to_string();
                    Some(FacetCount { value, count })
                })
                .collect();
            counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            if let Some(slot) = facets.get_mut(root) {
                *slot = counts;
            }
        }
        Ok(SearchResults {
            total: total as u64,
            items,
            facets,
        })
    }

    /// The earlier incidents most like `incident`, as `viewer` sees them: by distinctive
    /// words of its title, summary and contributing factors, shared services and shared
    /// factor categories, each with the reason in words. An incident the viewer may not see
    /// is answered exactly like one that does not exist.
    pub fn similar(
        &self,
        incident: IncidentId,
        viewer: &Viewer,
        limit: usize,
    ) -> Result<Vec<SimilarIncident>> {
        let searcher = self.reader.searcher();
        let fields = &self.fields;
        let mut own: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(TermQuery::new(
                id_term(fields, incident),
                IndexRecordOption::Basic,
            )),
        )];
        if let Some(visible) = self.visibility_filter(viewer) {
            own.push((Occur::Must, visible));
        }
        let found = searcher.search(&BooleanQuery::new(own), &TopDocs::with_limit(1))?;
        let Some((_, address)) = found.first() else {
            return Err(SearchError::UnknownIncident(incident));
        };
        let source: TantivyDocument = searcher.doc(*address)?;
        let started = source
            .get_first(fields.started)
            .and_then(|v| v.as_i64())
            .unwrap_or(i64::MAX);
        let services = all_text(&source, fields.service);
        let categories = all_text(&source, fields.factor);
        let top_terms = self.distinctive_terms(&searcher, &source)?;

        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let best = top_terms.first().map_or(1.0, |(_, weight)| *weight);
        for (term, weight) in &top_terms {
            for (field, boost) in [
                (fields.title, 2.0),
                (fields.summary, 1.0),
                (fields.factors, 1.0),
            ] {
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                should.push((Occur::Should, boosted(query, boost * weight / best)));
            }
        }
        for service in &services {
            should.push((
                Occur::Should,
                constant(term_query(fields.service, service), 3.0),
            ));
        }
        for category in &categories {
            should.push((
                Occur::Should,
                constant(term_query(fields.factor, category), 1.5),
            ));
        }
        if should.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(BooleanQuery::new(should))),
            (
                Occur::Must,
                constant(
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_i64(fields.started, started)),
                    )),
                    0.0,
                ),
            ),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    id_term(fields, incident),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        if let Some(visible) = self.visibility_filter(viewer) {
            must.push((Occur::Must, visible));
        }
        let hits = searcher.search(
            &BooleanQuery::new(must),
            &TopDocs::with_limit(limit.min(MAX_LIMIT)),
        )?;
        let mut similar = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let doc: TantivyDocument = searcher.doc(address)?;
            let their_services = all_text(&doc, fields.service);
            let their_categories = all_text(&doc, fields.factor);
            let their_terms: HashSet<String> = analyse(&about_text(&doc, fields))
                .into_iter()
                .map(|(_, token)| token)
                .collect();
            let shared_services: Vec<String> = services
                .iter()
                .filter(|s| their_services.contains(s))
                .cloned()
                .collect();
            let shared_factors: Vec<String> = categories
                .iter()
                .filter(|c| their_categories.contains(c))
                .cloned()
                .collect();
            let shared_terms: Vec<String> = top_terms
                .iter()
                .filter(|(term, _)| their_terms.contains(term))
                .map(|(term, _)| term.clone())
                .take(5)
                .collect();
            similar.push(SimilarIncident {
                incident_id: self.incident_id(&doc),
                title: first_text(&doc, fields.title).to_owned(),
                score,
                reason: reason(&shared_services, &shared_factors, &shared_terms),
                shared_services,
                shared_factors,
                shared_terms,
            });
        }
        Ok(similar)
    }

    /// The dozen words that best tell this incident apart and can still match others:
    /// frequent in it, rare elsewhere, and found in at least one other incident.
    fn distinctive_terms(
        &self,
        searcher: &Searcher,
        doc: &TantivyDocument,
    ) -> Result<Vec<(String, f32)>> {
        let fields = [self.fields.title, self.fields.summary, self.fields.factors];
        let mut frequency: BTreeMap<String, u32> = BTreeMap::new();
        let mut own: Vec<HashSet<String>> = Vec::with_capacity(fields.len());
        for field in fields {
            let mut in_field = HashSet::new();
            for (_, token) in analyse(&all_text(doc, field).join("\n")) {
                if token.chars().count() >= 3 && !token.chars().all(|c| c.is_ascii_digit()) {
                    *frequency.entry(token.clone()).or_default() += 1;
                    in_field.insert(token);
                }
            }
            own.push(in_field);
        }
        let n_docs = searcher.num_docs().max(1) as f32;
        let mut weighted = Vec::with_capacity(frequency.len());
        for (token, tf) in frequency {
            // Documents with the word besides this one, approximated by the field where it
            // is most common: summing fields would count an incident twice.
            let mut others = 0;
            for (field, own) in fields.iter().zip(&own) {
                let df = searcher.doc_freq(&Term::from_field_text(*field, &token))?;
                others = others.max(df.saturating_sub(u64::from(own.contains(&token))));
            }
            if others == 0 {
                continue;
            }
            let df = (others as f32).min(n_docs);
            let idf = (1.0 + (n_docs - df + 0.5) / (df + 0.5)).ln();
            weighted.push((token, (tf as f32).sqrt() * idf));
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(12);
        Ok(weighted)
    }

    fn incident_id(&self, doc: &TantivyDocument) -> IncidentId {
        let raw = doc
            .get_first(self.fields.id)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        IncidentId::new(raw as i64)
    }

    /// Turns a parsed query into a tantivy query, built clause by clause: text parts must all
    /// match (each in any text field), filters must all hold, and the viewer's visibility is
    /// one more required clause, so hidden incidents are never scored, counted or faceted.
    fn build_query(
        &self,
        searcher: &Searcher,
        parsed: &ParsedQuery,
        viewer: &Viewer,
    ) -> Result<BuiltQuery> {
        let fields = &self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut highlight = Highlight::default();
        let mut has_text = false;
        for part in &parsed.text {
            let clause = match part {
                TextPart::Word(word) => {
                    let tokens = analyse(word);
                    let letters = word.chars().filter(|c| c.is_alphanumeric()).count();
                    match tokens.as_slice() {
                        [] => None,
                        [(_, token)] => Some(self.word_clause(
                            searcher,
                            token,
                            letters >= FUZZY_MIN_CHARS,
                            &mut highlight,
                        )?),
                        _ => Some(self.phrase_clause(&tokens, &mut highlight)),
                    }
                }
                TextPart::Phrase(phrase) => {
                    let tokens = analyse(phrase);
                    match tokens.as_slice() {
                        [] => None,
                        [(_, token)] => {
                            Some(self.word_clause(searcher, token, false, &mut highlight)?)
                        }
                        _ => Some(self.phrase_clause(&tokens, &mut highlight)),
                    }
                }
                TextPart::Prefix(prefix) => {
                    highlight.prefixes.push(prefix.clone());
                    let alternatives = weighted_text_fields(fields)
                        .into_iter()
                        .map(|(field, boost)| {
                            let query = FuzzyTermQuery::new_prefix(
                                Term::from_field_text(field, prefix),
                                0,
                                true,
                            );
                            (Occur::Should, boosted(query, boost))
                        })
                        .collect();
                    Some(Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>)
                }
            };
            if let Some(clause) = clause {
                has_text = true;
                must.push((Occur::Must, clause));
            }
        }

        let filters = &parsed.filters;
        let groups: [(Field, Vec<String>); 7] = [
            (fields.service, filters.services.clone()),
            (fields.team, filters.teams.clone()),
            (
                fields.severity,
                filters
                    .severities
                    .iter()
                    .map(|s| s.to_string().to_lowercase())
                    .collect(),
            ),
            (
                fields.kind,
                filters
                    .kinds
                    .iter()
                    .map(|k| k.as_str().to_owned())
                    .collect(),
            ),
            (
                fields.status,
                filters
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            ),
            (
                fields.factor,
                filters
                    .factors
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect(),
            ),
            (fields.owner, filters.owners.clone()),
        ];
        for (field, values) in groups {
            if values.is_empty() {
                continue;
            }
            let any = values
                .iter()
                .map(|value| (Occur::Should, term_query(field, value)))
                .collect();
            must.push((Occur::Must, constant(Box::new(BooleanQuery::new(any)), 0.0)));
        }
        if filters.after.is_some() || filters.before.is_some() {
            let at = |date: time::Date| {
                Term::from_field_i64(
                    fields.started,
                    date.midnight().assume_utc().unix_timestamp(),
                )
            };
            let range = RangeQuery::new(
                filters
                    .after
                    .map_or(Bound::Unbounded, |d| Bound::Included(at(d))),
                filters
                    .before
                    .map_or(Bound::Unbounded, |d| Bound::Excluded(at(d))),
            );
            must.push((Occur::Must, constant(Box::new(range), 0.0)));
        }
        if let Some(visible) = self.visibility_filter(viewer) {
            must.push((Occur::Must, visible));
        }
        let query: Box<dyn Query> = if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        };
        Ok(BuiltQuery {
            query,
            has_text,
            highlight,
        })
    }

    /// One analysed word in any text field, weighted by field. A word of five letters or
    /// more that occurs nowhere in the index is probably a typo and also matches words one
    /// edit away; words that do occur never pay for the fuzzy dictionary walk.
    fn word_clause(
        &self,
        searcher: &Searcher,
        token: &str,
        may_be_typo: bool,
        highlight: &mut Highlight,
    ) -> Result<Box<dyn Query>> {
        let text_fields = weighted_text_fields(&self.fields);
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut occurrences = 0;
        for (field, boost) in text_fields {
            let term = Term::from_field_text(field, token);
            if may_be_typo {
                occurrences += searcher.doc_freq(&term)?;
            }
            let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
            alternatives.push((Occur::Should, boosted(query, boost)));
        }
        highlight.exact.insert(token.to_owned());
        if may_be_typo && occurrences == 0 {
            highlight.fuzzy.push(token.to_owned());
            for (field, boost) in text_fields {
                let query = FuzzyTermQuery::new(Term::from_field_text(field, token), 1, true);
                alternatives.push((Occur::Should, boosted(query, boost * 0.5)));
            }
        }
        Ok(Box::new(BooleanQuery::new(alternatives)))
    }

    /// Analysed words in this order (stop words leave gaps, kept as offsets), in any field.
    fn phrase_clause(
        &self,
        tokens: &[(usize, String)],
        highlight: &mut Highlight,
    ) -> Box<dyn Query> {
        let first = tokens.first().map_or(0, |(position, _)| *position);
        let alternatives = weighted_text_fields(&self.fields)
            .into_iter()
            .map(|(field, boost)| {
                let terms = tokens
                    .iter()
                    .map(|(position, token)| {
                        (position - first, Term::from_field_text(field, token))
                    })
                    .collect();
                (
                    Occur::Should,
                    boosted(PhraseQuery::new_with_offset(terms), boost),
                )
            })
            .collect();
        highlight
            .exact
            .extend(tokens.iter().map(|(_, token)| token.clone()));
        Box::new(BooleanQuery::new(alternatives))
    }

    /// `visible(viewer)`: unrestricted, or restricted with the viewer among those allowed,
    /// in person or through one of their teams.
    fn visibility_filter(&self, viewer: &Viewer) -> Option<Box<dyn Query>> {
        let Viewer::Person {
            user,
            teams,
            hidden,
        } = viewer
        else {
            return None;
        };
        let mut either: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.restricted, 0),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.allowed, user.get() as u64),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        either.extend(teams.iter().map(|team| {
            (
                Occur::Should,
                term_query(self.fields.allowed_team, team.as_str()),
            )
        }));
        let mut visible: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(either)))];
        if !hidden.is_empty() {
            let ids = hidden.iter().map(|id| id_term(&self.fields, *id));
            visible.push((Occur::MustNot, Box::new(TermSetQuery::new(ids))));
        }
        Some(constant(Box::new(BooleanQuery::new(visible)), 0.0))
    }

    /// Escaped HTML from the first of summary, factors and body that holds a match, matches
    /// in `<mark>`; the start of the summary when the match was elsewhere (the title, or a
    /// filter-only query).
    fn snippet(&self, doc: &TantivyDocument, highlight: &Highlight) -> String {
        let fields = &self.fields;
        for field in [fields.summary, fields.factors, fields.body] {
            let text = all_text(doc, field).join("\n");
            let terms = highlight.terms_in(&text);
            if terms.is_empty() {
                continue;
            }
            let terms = terms.into_iter().map(|term| (term, 1.0)).collect();
            let generator = SnippetGenerator::new(terms, text_analyzer(), field, SNIPPET_CHARS);
            let mut snippet = generator.snippet(&text);
            if !snippet.is_empty() {
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                return snippet.to_html();
            }
        }
        let summary = all_text(doc, fields.summary).join("\n");
        let text = if summary.trim().is_empty() {
            all_text(doc, fields.body).join("\n")
        } else {
            summary
        };
        let start: String = text.chars().take(SNIPPET_CHARS).collect();
        escape_html(start.trim())
    }
}

/// The query to run, whether it has words (so relevance means something), and what to mark.
struct BuiltQuery {
    query: Box<dyn Query>,
    has_text: bool,
    highlight: Highlight,
}

/// What a query matches, for marking snippets: exact analysed terms, and the prefixes and
/// possibly misspelt terms whose matches depend on the document's own words.
#[derive(Debug, Default)]
struct Highlight {
    exact: BTreeSet<String>,
    prefixes: Vec<String>,
    fuzzy: Vec<String>,
}

impl Highlight {
    /// The analysed terms of `text` to mark.
    fn terms_in(&self, text: &str) -> BTreeSet<String> {
        let mut terms = self.exact.clone();
        if !self.prefixes.is_empty() || !self.fuzzy.is_empty() {
            for (_, token) in analyse(text) {
                let folded = crate::schema::fold(&token);
                let matches = self.prefixes.iter().any(|p| folded.starts_with(p.as_str()))
                    || self.fuzzy.iter().any(|f| within_one_edit(f, &token));
                if matches {
                    terms.insert(token);
                }
            }
        }
        terms
    }
}

enum Op {
    Replace(Box<IncidentRecord>),
    Delete(IncidentId),
}

/// Whether `a` becomes `b` with at most one insertion, deletion, substitution or swap of
/// neighbours: the distance the fuzzy query uses.
fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (
        ra.len() - suffix.min(ra.len()),
        rb.len() - suffix.min(rb.len()),
    );
    match (ma, mb) {
        (0, 0) | (1, 0) | (0, 1) | (1, 1) => true,
        (2, 2) => ra[0] == rb[1] && ra[1] == rb[0],
        _ => false,
    }
}

fn reason(services: &[String], factors: &[String], terms: &[String]) -> String {
    let mut parts = Vec::new();
    match services {
        [] => {}
        [one] => parts.push(format!("same service ({one})")),
        many => parts.push(format!("same services ({})", many.join(", "))),
    }
    match factors.len() {
        0 => {}
        1 => parts.push(format!("1 shared factor category ({})", factors[0])),
        n => parts.push(format!(
            "{n} shared factor categories ({})",
            factors.join(", ")
        )),
    }
    if !terms.is_empty() {
        parts.push(format!("similar words: {}", terms.join(", ")));
    }
    if parts.is_empty() {
        "similar text".to_owned()
    } else {
        parts.join(", ")
    }
}

fn boosted(query: impl Query, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), boost))
}

fn constant(query: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

fn first_text(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

fn all_text(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// What an incident is about: its title, summary and contributing factors.
fn about_text(doc: &TantivyDocument, fields: &Fields) -> String {
    let mut text = first_text(doc, fields.title).to_owned();
    for field in [fields.summary, fields.factors] {
        for value in all_text(doc, field) {
            text.push('\n');
            text.push_str(&value);
        }
    }
    text
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

async fn load_handles(store: &dyn Store) -> Result<Handles> {
    let users = store.users().await?;
    Ok(Arc::new(
        users
            .into_iter()
            .map(|user| (user.id, user.handle.as_str().to_lowercase()))
            .collect(),
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_means_one_insertion_deletion_substitution_or_swap() {
        assert!(within_one_edit("timout", "timeout"));
        assert!(within_one_edit("timeout", "timout"));
        assert!(within_one_edit("timeoat", "timeout"));
        assert!(within_one_edit("tiemout", "timeout"));
        assert!(within_one_edit("timeout", "timeout"));
        assert!(!within_one_edit("tmout", "timeout"));
        assert!(!within_one_edit("tiemuot", "timeout"));
        assert!(!within_one_edit("abcde", "vwxyz"));
    }

    #[test]
    fn reasons_name_what_two_incidents_share() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            reason(
                &s(&["checkout"]),
                &s(&["capacity", "alerting", "third_party"]),
                &[]
            ),
            "same service (checkout), 3 shared factor categories (capacity, alerting, third_party)"
        );
        assert_eq!(
            reason(&[], &s(&["capacity"]), &s(&["pool"])),
            "1 shared factor category (capacity), similar words: pool"
        );
        assert_eq!(reason(&[], &[], &[]), "similar text");
    }

    #[test]
    fn only_files_tantivy_writes_are_ever_wiped() {
        assert!(is_index_file("meta.json"));
        assert!(is_index_file(".managed.json"));
        assert!(is_index_file(".tantivy-writer.lock"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.idx"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.5.del"));
        assert!(!is_index_file("notes.txt"));
        assert!(!is_index_file("postmortem.db"));
    }
}
