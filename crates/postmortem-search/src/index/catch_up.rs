//! Catching up: applying the change feed after the last applied row, once or forever.

use super::build::{Op, load_handles};
use super::*;

impl SearchIndex {
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
}
