//! Whole incidents kept in memory between reads. An incident's version goes up in the same
//! transaction as every write that changes what [`crate::Store::incident`] returns, so a
//! cached record is served only after one indexed query has confirmed that its version is
//! still the stored one. The check reads the database, so it holds across server nodes that
//! share PostgreSQL: a write on one node is never hidden by another node's cache.

use crate::IncidentRecord;
use postmortem_core::IncidentId;
use quick_cache::sync::Cache;
use std::sync::Arc;

/// Incidents kept; the most-read ones stay, and each record is a few tens of kilobytes.
const CAPACITY: usize = 1024;

/// Clones of a store share one cache.
#[derive(Debug, Clone)]
pub(crate) struct RecordCache {
    records: Arc<Cache<IncidentId, Arc<IncidentRecord>>>,
}

impl Default for RecordCache {
    fn default() -> Self {
        Self {
            records: Arc::new(Cache::new(CAPACITY)),
        }
    }
}

impl RecordCache {
    /// The cached incident, if it is the one at `version`.
    pub(crate) fn get(&self, id: IncidentId, version: i64) -> Option<IncidentRecord> {
        self.records
            .get(&id)
            .filter(|record| record.incident.version == version)
            .map(|record| IncidentRecord::clone(&record))
    }

    /// Keeps a record read in one consistent snapshot, unless a newer one is already kept.
    pub(crate) fn put(&self, record: &IncidentRecord) {
        let id = record.incident.id;
        let newer_kept = self
            .records
            .get(&id)
            .is_some_and(|kept| kept.incident.version > record.incident.version);
        if !newer_kept {
            self.records.insert(id, Arc::new(record.clone()));
        }
    }
}
