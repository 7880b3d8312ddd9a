//! A cache of "similar past incidents" per incident and reader (the person and the teams
//! they belong to, which decide the restricted incidents they see). The answer depends only on the
//! index, so each entry remembers the index's applied change-feed sequence and is recomputed
//! as soon as the index has moved on; an incident page then costs one lookup, not a
//! more-like-this query, while nothing changes.

use postmortem_core::IncidentId;
use postmortem_search::{SearchIndex, SimilarIncident, Viewer};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Entries kept before the cache starts over; pages of the most-read incidents refill it fast.
const CAPACITY: usize = 4096;

type Key = (IncidentId, Viewer);
/// The index's applied sequence when computed, and the answer.
type Entry = (Option<i64>, Vec<SimilarIncident>);

#[derive(Debug, Default)]
pub struct SimilarCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

impl SimilarCache {
    /// The similar incidents for `viewer`, from the cache while the index is unchanged.
    pub fn get_or_compute(
        &self,
        index: &Arc<SearchIndex>,
        id: IncidentId,
        viewer: &Viewer,
        limit: usize,
    ) -> postmortem_search::Result<Vec<SimilarIncident>> {
        let key = (id, viewer.clone());
        let seq = index.applied_seq();
        if let Some((cached_seq, similar)) = self.lock().get(&key)
            && *cached_seq == seq
        {
            return Ok(similar.clone());
        }
        let similar = index.similar(id, viewer, limit)?;
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (seq, similar.clone()));
        Ok(similar)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
