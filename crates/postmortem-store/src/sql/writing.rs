//! Writing the post-mortem: sections, the lifecycle's status, timeline, contributing factors,
//! reviews and review comments.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_writing {
    ($store:ident, $db:ty, $backend:expr) => {
        fn timeline_from_row(row: &DbRow) -> Result<TimelineEntry> {
            Ok(TimelineEntry {
                id: TimelineEntryId::new(row.try_get("id")?),
                incident_id: IncidentId::new(row.try_get("incident_id")?),
                at: from_ms_offset(row.try_get("at")?, row.try_get("at_offset")?)?,
                text: Markdown::from_stored(row.try_get::<String, _>("body")?),
                author: UserId::new(row.try_get("author_id")?),
                actor: row.try_get("actor")?,
                marker: row
                    .try_get::<Option<String>, _>("marker")?
                    .map(|m| stored(Marker::parse(&m)))
                    .transpose()?,
                perspective: stored(Perspective::parse(&row.try_get::<String, _>("perspective")?))?,
                source: stored(Source::parse(&row.try_get::<String, _>("source")?))?,
                source_url: row
                    .try_get::<Option<String>, _>("source_url")?
                    .map(|u| stored(WebLink::parse(u)))
                    .transpose()?,
                created_at: from_ms(row.try_get("created_at")?)?,
            })
        }

        fn factor_from_row(row: &DbRow) -> Result<ContributingFactor> {
            Ok(ContributingFactor {
                id: FactorId::new(row.try_get("id")?),
                incident_id: IncidentId::new(row.try_get("incident_id")?),
                category: stored(FactorCategory::parse(&row.try_get::<String, _>("category")?))?,
                description: Markdown::from_stored(row.try_get::<String, _>("description")?),
                is_trigger: row.try_get("is_trigger")?,
            })
        }

        impl $store {
            /// Moves the post-mortem to `to` inside a write, checking the lifecycle, audited as
            /// `action`; the caller bumps the version.
            #[allow(clippy::too_many_arguments)]
            async fn status_in_tx(tx: &mut Tx, now: OffsetDateTime, actor: Actor, id: IncidentId, to: PostmortemStatus, note: Option<String>, action: &str) -> Result<()> {
                let from: String = sqlx::query_scalar("SELECT pm_status FROM incidents WHERE id = $1")
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("incident"))?;
                let from = stored(PostmortemStatus::parse(&from))?;
                from.transition(to)?;
                // The first publication is when the organisation could first read it; a later
                // amendment does not move it.
                sqlx::query("UPDATE incidents SET pm_status = $2, pm_published_at = COALESCE(pm_published_at, $3) WHERE id = $1")
                    .bind(id.get())
                    .bind(to.as_str())
                    .bind(to.is_published().then(|| to_ms(now)))
                    .execute(&mut **tx)
                    .await?;
                let details = serde_json::json!({"before": {"status": from.as_str()}, "after": {"status": to.as_str()}, "note": note});
                Self::record(tx, now, actor, action, Some(id), "postmortem", "update", details).await?;
                Ok(())
            }

            async fn timeline_entry_in_tx(tx: &mut Tx, id: IncidentId, entry_id: TimelineEntryId) -> Result<TimelineEntry> {
                let row = sqlx::query("SELECT * FROM timeline_entries WHERE id = $1 AND incident_id = $2")
                    .bind(entry_id.get())
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("timeline entry"))?;
                timeline_from_row(&row)
            }

            async fn factor_in_tx(tx: &mut Tx, id: IncidentId, factor_id: FactorId) -> Result<ContributingFactor> {
                let row = sqlx::query("SELECT * FROM factors WHERE id = $1 AND incident_id = $2")
                    .bind(factor_id.get())
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("contributing factor"))?;
                factor_from_row(&row)
            }

            /// Keeps one trigger at most: when `factor_id` is the trigger, every other factor
            /// of the incident stops being one. Returns the ids of those that were.
            async fn one_trigger(tx: &mut Tx, id: IncidentId, factor_id: FactorId, is_trigger: bool) -> Result<Vec<i64>> {
                if !is_trigger {
                    return Ok(Vec::new());
                }
                Ok(sqlx::query_scalar("UPDATE factors SET is_trigger = $3 WHERE incident_id = $1 AND id <> $2 AND is_trigger = $4 RETURNING id")
                    .bind(id.get())
                    .bind(factor_id.get())
                    .bind(false)
                    .bind(true)
                    .fetch_all(&mut **tx)
                    .await?)
            }

            async fn save_sections(&self, actor: Actor, id: IncidentId, base_version: i64, updates: Vec<(SectionName, Markdown)>) -> Result<SaveOutcome> {
                Self::save_sections_noted(self, actor, id, base_version, updates, None).await
            }

            async fn revise_sections(&self, actor: Actor, id: IncidentId, base_version: i64, updates: Vec<(SectionName, Markdown)>, revision: NewRevision) -> Result<SaveOutcome> {
                Self::save_sections_noted(self, actor, id, base_version, updates, Some(revision)).await
            }

            /// Saves sections; with a revision, also records it (who, when, what changed,
            /// which sections), audits it and queues its notice, in the same transaction.
            async fn save_sections_noted(&self, actor: Actor, id: IncidentId, base_version: i64, updates: Vec<(SectionName, Markdown)>, revision: Option<NewRevision>) -> Result<SaveOutcome> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                // Bump first: the UPDATE takes the incident's row lock, so on PostgreSQL a
                // concurrent save waits here until this one commits or rolls back, and the
                // sections read below are the latest committed ones (each statement of a
                // READ COMMITTED transaction sees what committed before it began). On SQLite
                // the one writer connection serialises saves anyway. A conflict returns
                // before commit, so the bump is rolled back with the transaction.
                let version = Self::bump(&mut tx, id, now).await?;
                let current_version = version - 1;
                let mut stored_sections = HashMap::new();
                for row in sqlx::query("SELECT name, body, version, updated_by FROM sections WHERE incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let name: String = row.try_get("name")?;
                    stored_sections.insert(name, (row.try_get::<String, _>("body")?, row.try_get::<i64, _>("version")?, row.try_get::<Option<i64>, _>("updated_by")?));
                }
                // A section conflicts when someone saved it after the writer's base version
                // and the texts differ; saving the same text twice is not a conflict.
                let conflicts: Vec<ConflictingSection> = updates
                    .iter()
                    .filter_map(|(name, body)| {
                        let (current_body, version, updated_by) = stored_sections.get(name.as_str())?;
                        (*version > base_version && current_body != body.as_str()).then(|| ConflictingSection {
                            name: name.clone(),
                            current_body: current_body.clone(),
                            current_version: *version,
                            updated_by: updated_by.map(UserId::new),
                        })
                    })
                    .collect();
                if !conflicts.is_empty() || base_version > current_version {
                    tx.rollback().await?;
                    return Ok(SaveOutcome::Conflict { current_version, sections: conflicts });
                }
                let mut before_texts = serde_json::Map::new();
                let mut after_texts = serde_json::Map::new();
                for (name, body) in &updates {
                    let before = stored_sections.get(name.as_str()).map(|s| s.0.as_str());
                    if before == Some(body.as_str()) {
                        continue;
                    }
                    sqlx::query("INSERT INTO sections (incident_id, name, body, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                                 ON CONFLICT (incident_id, name) DO UPDATE SET body = excluded.body, version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                        .bind(id.get())
                        .bind(name.as_str())
                        .bind(body.as_str())
                        .bind(version)
                        .bind(actor.person().map(UserId::get))
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?;
                    before_texts.insert(name.as_str().to_owned(), before.into());
                    after_texts.insert(name.as_str().to_owned(), body.as_str().into());
                }
                // Each changed section by name, its whole text before (`null` when it was
                // never written) and after, so readers can show exactly what changed.
                let details = serde_json::json!({"before": before_texts, "after": after_texts});
                Self::record(&mut tx, now, actor, "section.save", Some(id), "section", "update", details).await?;
                // A save that changed no text revised nothing.
                if let Some(revision) = revision.filter(|_| !after_texts.is_empty()) {
                    let sections: Vec<&String> = after_texts.keys().collect();
                    let sections_json = serde_json::to_string(&sections).expect("section names serialise");
                    let revision_id: i64 = sqlx::query_scalar("INSERT INTO postmortem_revisions (incident_id, revised_by, revised_at, note, sections, version) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                        .bind(id.get())
                        .bind(actor.person().map(UserId::get))
                        .bind(to_ms(now))
                        .bind(revision.note.as_str())
                        .bind(&sections_json)
                        .bind(version)
                        .fetch_one(&mut *tx)
                        .await?;
                    let details = serde_json::json!({"revision_id": revision_id, "before": null, "after": {"note": revision.note, "sections": sections, "version": version}});
                    Self::record(&mut tx, now, actor, "postmortem.revise", Some(id), "revision", "create", details).await?;
                    if let Some((event, payload)) = &revision.notice {
                        Self::enqueue_in_tx(&mut tx, now, event, payload).await?;
                    }
                }
                tx.commit().await?;
                Ok(SaveOutcome::Saved { version })
            }

            async fn set_status(&self, actor: Actor, id: IncidentId, to: PostmortemStatus, note: Option<String>) -> Result<i64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let version = Self::bump(&mut tx, id, now).await?;
                Self::status_in_tx(&mut tx, now, actor, id, to, note, "postmortem.transition").await?;
                tx.commit().await?;
                Ok(version)
            }

            /// Writes a timeline entry inside a write, audited as `timeline.add`; the caller
            /// bumps the version.
            async fn timeline_insert_in_tx(tx: &mut Tx, now: OffsetDateTime, actor: Actor, id: IncidentId, entry: NewTimelineEntry) -> Result<TimelineEntry> {
                let author = actor.person().ok_or(StoreError::NotFound("user"))?;
                let entry_id: i64 = sqlx::query_scalar("INSERT INTO timeline_entries (incident_id, at, at_offset, body, author_id, actor, marker, perspective, source, source_url, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id")
                    .bind(id.get())
                    .bind(to_ms(entry.at))
                    .bind(offset_seconds(entry.at))
                    .bind(entry.text.as_str())
                    .bind(author.get())
                    .bind(entry.actor.as_deref())
                    .bind(entry.marker.map(Marker::as_str))
                    .bind(entry.perspective.as_str())
                    .bind(entry.source.as_str())
                    .bind(entry.source_url.as_ref().map(|u| u.as_str()))
                    .bind(to_ms(now))
                    .fetch_one(&mut **tx)
                    .await?;
                let added = TimelineEntry {
                    id: TimelineEntryId::new(entry_id),
                    incident_id: id,
                    at: from_ms_offset(to_ms(entry.at), offset_seconds(entry.at))?,
                    text: entry.text,
                    author,
                    actor: entry.actor,
                    marker: entry.marker,
                    perspective: entry.perspective,
                    source: entry.source,
                    source_url: entry.source_url,
                    created_at: from_ms(to_ms(now))?,
                };
                let details = serde_json::json!({"entry_id": entry_id, "before": null, "after": added});
                Self::record(tx, now, actor, "timeline.add", Some(id), "timeline", "create", details).await?;
                Ok(added)
            }

            async fn add_timeline_entry(&self, actor: Actor, id: IncidentId, entry: NewTimelineEntry) -> Result<TimelineEntry> {
                let now = self.clock.now();
                actor.person().ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let added = Self::timeline_insert_in_tx(&mut tx, now, actor, id, entry).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn add_factor(&self, actor: Actor, id: IncidentId, factor: NewFactor) -> Result<ContributingFactor> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let factor_id: i64 = sqlx::query_scalar("INSERT INTO factors (incident_id, category, description, is_trigger) VALUES ($1, $2, $3, $4) RETURNING id")
                    .bind(id.get())
                    .bind(factor.category.as_str())
                    .bind(factor.description.as_str())
                    .bind(factor.is_trigger)
                    .fetch_one(&mut *tx)
                    .await?;
                let replaced = Self::one_trigger(&mut tx, id, FactorId::new(factor_id), factor.is_trigger).await?;
                let added = ContributingFactor { id: FactorId::new(factor_id), incident_id: id, category: factor.category, description: factor.description, is_trigger: factor.is_trigger };
                let details = serde_json::json!({"factor_id": factor_id, "before": null, "after": added, "trigger_replaced": replaced});
                Self::record(&mut tx, now, actor, "factor.add", Some(id), "factor", "create", details).await?;
                tx.commit().await?;
                Ok(added)
            }

            async fn update_timeline_entry(&self, actor: Actor, id: IncidentId, entry_id: TimelineEntryId, entry: NewTimelineEntry) -> Result<TimelineEntry> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let before = Self::timeline_entry_in_tx(&mut tx, id, entry_id).await?;
                sqlx::query("UPDATE timeline_entries SET at = $3, at_offset = $4, body = $5, actor = $6, marker = $7, perspective = $8, source = $9, source_url = $10 WHERE id = $1 AND incident_id = $2")
                    .bind(entry_id.get())
                    .bind(id.get())
                    .bind(to_ms(entry.at))
                    .bind(offset_seconds(entry.at))
                    .bind(entry.text.as_str())
                    .bind(entry.actor.as_deref())
                    .bind(entry.marker.map(Marker::as_str))
                    .bind(entry.perspective.as_str())
                    .bind(entry.source.as_str())
                    .bind(entry.source_url.as_ref().map(|u| u.as_str()))
                    .execute(&mut *tx)
                    .await?;
                let after = Self::timeline_entry_in_tx(&mut tx, id, entry_id).await?;
                let details = serde_json::json!({"entry_id": entry_id.get(), "before": before, "after": after});
                Self::record(&mut tx, now, actor, "timeline.update", Some(id), "timeline", "update", details).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn remove_timeline_entry(&self, actor: Actor, id: IncidentId, entry_id: TimelineEntryId) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let before = Self::timeline_entry_in_tx(&mut tx, id, entry_id).await?;
                sqlx::query("DELETE FROM timeline_entries WHERE id = $1 AND incident_id = $2")
                    .bind(entry_id.get())
                    .bind(id.get())
                    .execute(&mut *tx)
                    .await?;
                let details = serde_json::json!({"entry_id": entry_id.get(), "before": before, "after": null});
                Self::record(&mut tx, now, actor, "timeline.remove", Some(id), "timeline", "delete", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn update_factor(&self, actor: Actor, id: IncidentId, factor_id: FactorId, factor: NewFactor) -> Result<ContributingFactor> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let before = Self::factor_in_tx(&mut tx, id, factor_id).await?;
                sqlx::query("UPDATE factors SET category = $3, description = $4, is_trigger = $5 WHERE id = $1 AND incident_id = $2")
                    .bind(factor_id.get())
                    .bind(id.get())
                    .bind(factor.category.as_str())
                    .bind(factor.description.as_str())
                    .bind(factor.is_trigger)
                    .execute(&mut *tx)
                    .await?;
                let replaced = Self::one_trigger(&mut tx, id, factor_id, factor.is_trigger).await?;
                let after = Self::factor_in_tx(&mut tx, id, factor_id).await?;
                let details = serde_json::json!({"factor_id": factor_id.get(), "before": before, "after": after, "trigger_replaced": replaced});
                Self::record(&mut tx, now, actor, "factor.update", Some(id), "factor", "update", details).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn remove_factor(&self, actor: Actor, id: IncidentId, factor_id: FactorId) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let before = Self::factor_in_tx(&mut tx, id, factor_id).await?;
                let addressed_by: Vec<i64> = sqlx::query_scalar("SELECT action_id FROM action_factors WHERE factor_id = $1 ORDER BY action_id")
                    .bind(factor_id.get())
                    .fetch_all(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM action_factors WHERE factor_id = $1").bind(factor_id.get()).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM factors WHERE id = $1 AND incident_id = $2")
                    .bind(factor_id.get())
                    .bind(id.get())
                    .execute(&mut *tx)
                    .await?;
                let details = serde_json::json!({"factor_id": factor_id.get(), "before": before, "after": null, "unlinked_action_ids": addressed_by});
                Self::record(&mut tx, now, actor, "factor.remove", Some(id), "factor", "delete", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn set_review(&self, actor: Actor, id: IncidentId, reviewer: UserId, decision: ReviewDecision, comment: Option<String>) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let before = sqlx::query("SELECT decision, comment FROM reviews WHERE incident_id = $1 AND reviewer_id = $2")
                    .bind(id.get())
                    .bind(reviewer.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .map(|row| Ok::<_, sqlx::Error>(serde_json::json!({"decision": row.try_get::<String, _>("decision")?, "comment": row.try_get::<Option<String>, _>("comment")?})))
                    .transpose()?;
                sqlx::query("INSERT INTO reviews (incident_id, reviewer_id, decision, comment, updated_at) VALUES ($1, $2, $3, $4, $5) \
                             ON CONFLICT (incident_id, reviewer_id) DO UPDATE SET decision = excluded.decision, comment = excluded.comment, updated_at = excluded.updated_at")
                    .bind(id.get())
                    .bind(reviewer.get())
                    .bind(decision.as_str())
                    .bind(comment.as_deref())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                let details = serde_json::json!({"reviewer": reviewer.get(), "before": before, "after": {"decision": decision.as_str(), "comment": comment}});
                Self::record(&mut tx, now, actor, "review.set", Some(id), "review", "update", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_comment(&self, actor: Actor, id: IncidentId, section: SectionName, body: Markdown, quote: Option<PassageQuote>) -> Result<ReviewComment> {
                let now = self.clock.now();
                let author = actor.person().ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let comment_id: i64 = sqlx::query_scalar("INSERT INTO review_comments (incident_id, section, author_id, body, resolved, created_at, quote_exact, quote_prefix, quote_suffix) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id")
                    .bind(id.get())
                    .bind(section.as_str())
                    .bind(author.get())
                    .bind(body.as_str())
                    .bind(false)
                    .bind(to_ms(now))
                    .bind(quote.as_ref().map(PassageQuote::exact))
                    .bind(quote.as_ref().map(PassageQuote::prefix))
                    .bind(quote.as_ref().map(PassageQuote::suffix))
                    .fetch_one(&mut *tx)
                    .await?;
                let details = serde_json::json!({"comment_id": comment_id, "before": null, "after": {"section": section.as_str(), "body": body.as_str(), "quote": quote}});
                Self::record(&mut tx, now, actor, "comment.add", Some(id), "comment", "create", details).await?;
                tx.commit().await?;
                Ok(ReviewComment { id: CommentId::new(comment_id), incident_id: id, section, author, body, resolved: false, created_at: from_ms(to_ms(now))?, quote })
            }

            async fn set_comment_resolved(&self, actor: Actor, id: IncidentId, comment_id: CommentId, resolved: bool) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before: bool = sqlx::query_scalar("SELECT resolved FROM review_comments WHERE id = $1 AND incident_id = $2")
                    .bind(comment_id.get())
                    .bind(id.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("comment"))?;
                sqlx::query("UPDATE review_comments SET resolved = $3, resolved_by = $4, resolved_at = $5 WHERE id = $1 AND incident_id = $2")
                    .bind(comment_id.get())
                    .bind(id.get())
                    .bind(resolved)
                    .bind(if resolved { actor.person().map(UserId::get) } else { None })
                    .bind(resolved.then(|| to_ms(now)))
                    .execute(&mut *tx)
                    .await?;
                Self::bump(&mut tx, id, now).await?;
                let action = if resolved { "comment.resolve" } else { "comment.reopen" };
                Self::record(&mut tx, now, actor, action, Some(id), "comment", "update", serde_json::json!({"comment_id": comment_id.get(), "before": {"resolved": before}, "after": {"resolved": resolved}})).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
