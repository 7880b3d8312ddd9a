//! Building the index: rebuilding it from the store, and the writer work every change goes
//! through (applying documents, committing them with the feed position, rolling back).

use super::*;

impl SearchIndex {
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

    pub(super) async fn rebuild_locked(
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

    pub(super) async fn fill_from_scratch(
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
        self.with_writer(|writer| delete_everything(writer)).await?;
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

    /// Reads owners' handles again when an incident names an owner the cache does not know.
    pub(super) async fn ensure_handles(
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

    pub(super) async fn apply(&self, ops: Vec<Op>, handles: Handles) -> Result<()> {
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

    pub(super) async fn commit(&self, applied_seq: i64) -> Result<()> {
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

    pub(super) async fn rollback(&self) -> Result<()> {
        self.with_writer(|writer| {
            writer.rollback()?;
            Ok(())
        })
        .await
    }

    /// Runs `work` with the writer on a blocking thread: indexing waits on tantivy's threads
    /// and commits wait on the disk, neither of which may stall the async runtime.
    pub(super) async fn with_writer<T: Send + 'static>(
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
}

/// Deletes every document indexed so far; documents added afterwards stay.
///
/// Not `IndexWriter::delete_all_documents`: it rewinds the writer's operation stamps to the
/// stamp the writer was opened at, which tantivy never moves on after a commit
/// (quickwit-oss/tantivy#2666). The documents of the rebuild then take stamps below those of
/// deletes still queued from earlier commits, and such a delete, read later, removes a
/// document added after it. An indexing thread that received no document in a commit leaves
/// those deletes unread, so which rebuild lost an incident was a race between the two
/// indexing threads. A delete by query takes the next stamp like any other operation.
fn delete_everything(writer: &IndexWriter) -> Result<()> {
    writer.delete_query(Box::new(AllQuery))?;
    Ok(())
}

pub(super) enum Op {
    Replace(Box<IncidentRecord>),
    Delete(IncidentId),
}

pub(super) async fn load_handles(store: &dyn Store) -> Result<Handles> {
    let users = store.users().await?;
    Ok(Arc::new(
        users
            .into_iter()
            .map(|user| (user.id, user.handle.as_str().to_lowercase()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::delete_everything;
    use tantivy::schema::{INDEXED, Schema};
    use tantivy::{Index, IndexWriter, TantivyDocument, Term};

    /// One indexing thread makes the race of two deterministic: a commit whose only
    /// operation is a delete leaves it unread by the thread that indexes the next documents.
    #[test]
    fn a_delete_queued_before_clearing_never_removes_a_document_added_after_it() {
        let mut builder = Schema::builder();
        let id = builder.add_u64_field("id", INDEXED);
        let index = Index::create_in_ram(builder.build());
        let mut writer: IndexWriter = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let add = |writer: &IndexWriter, value: u64| {
            let mut doc = TantivyDocument::default();
            doc.add_u64(id, value);
            writer.add_document(doc).unwrap();
        };
        add(&writer, 1);
        writer.commit().unwrap();
        writer.delete_term(Term::from_field_u64(id, 2));
        writer.commit().unwrap();

        delete_everything(&writer).unwrap();
        for value in [2, 3, 4] {
            add(&writer, value);
        }
        writer.commit().unwrap();

        let reader = index.reader().unwrap();
        assert_eq!(reader.searcher().num_docs(), 3);
    }
}
