//! What the index must not show yet: incidents whose visibility changed in the store after
//! the last change-feed row the index applied.
//!
//! The index follows the feed a beat behind every write (and on other nodes, a beat behind
//! theirs). For most changes that only delays what a search finds; for a change that takes
//! an incident away from someone (it becomes restricted, loses the team or the person that
//! let them see it) it would show them what they may no longer read. So before a search the
//! feed rows the index has not applied are read, and the incidents whose facts or named
//! people they touch are checked against the store, the source of truth: those the person
//! may not see now are hidden from the search itself, so they count nowhere (hits, snippets,
//! totals, facets, similar incidents). Team membership needs no such check: the person's
//! teams are read from the store for each search.

use crate::error::Result;
use crate::index::SearchIndex;
use postmortem_core::{IncidentId, UserId};
use postmortem_store::{Store, Visibility};
use std::collections::BTreeSet;

/// Feed rows read per round trip while looking for changes the index has not applied.
const PAGE: i64 = 1000;

impl SearchIndex {
    /// The incidents `user` may not see now that this index, behind the store by the feed
    /// rows it has not applied, might still show them. Usually the index is current and this
    /// is one indexed query that finds no row.
    pub async fn hidden_from(&self, store: &dyn Store, user: UserId) -> Result<Vec<IncidentId>> {
        // An index that was never filled shows nothing.
        let Some(mut after) = self.applied_seq() else {
            return Ok(Vec::new());
        };
        let mut touched = BTreeSet::new();
        loop {
            let changes = store.changes_since(after, PAGE).await?;
            touched.extend(
                changes
                    .iter()
                    .filter(|change| matches!(change.entity.as_str(), "incident" | "member"))
                    .filter_map(|change| change.incident_id),
            );
            match changes.last() {
                Some(last) if changes.len() as i64 == PAGE => after = last.seq,
                _ => break,
            }
        }
        if touched.is_empty() {
            return Ok(Vec::new());
        }
        let touched: Vec<IncidentId> = touched.into_iter().collect();
        let visible: BTreeSet<IncidentId> = store
            .visible_incidents(&touched, Visibility::Person(user))
            .await?
            .into_iter()
            .collect();
        Ok(touched
            .into_iter()
            .filter(|id| !visible.contains(id))
            .collect())
    }
}
