//! Updating an incident from an imported file: the whole incident made to say what the file
//! says, in one transaction against the version the importer compared with.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_import {
    ($store:ident, $db:ty, $backend:expr) => {
        impl $store {
            /// The ids of the people `handles` name, in as few queries as the bind limits
            /// allow; a handle nobody has is missing from the map.
            async fn user_ids_of(tx: &mut Tx, mut handles: Vec<&str>) -> Result<HashMap<String, i64>> {
                handles.sort_unstable();
                handles.dedup();
                let mut user_ids = HashMap::new();
                for chunk in handles.chunks(500) {
                    let mut qb = QueryBuilder::<'static, $db>::new("SELECT id, handle FROM users WHERE handle IN (");
                    let mut separated = qb.separated(", ");
                    for handle in chunk {
                        separated.push_bind(handle.to_string());
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut **tx).await? {
                        user_ids.insert(row.try_get::<String, _>("handle")?, row.try_get::<i64, _>("id")?);
                    }
                }
                Ok(user_ids)
            }

            /// Every handle a bundle (and what comes with it) names.
            fn handles_of<'b>(bundle: &'b IncidentBundle, extras: &'b ImportExtras) -> impl Iterator<Item = &'b str> {
                std::iter::once(bundle.created_by.as_str())
                    .chain(bundle.sections.iter().map(|s| s.updated_by.as_str()))
                    .chain(bundle.timeline.iter().map(|e| e.author.as_str()))
                    .chain(bundle.actions.iter().filter_map(|a| a.owner.as_ref().map(Handle::as_str)))
                    .chain(bundle.reviews.iter().map(|r| r.reviewer.as_str()))
                    .chain(extras.members.iter().map(Handle::as_str))
            }

            /// Makes incident `id` say what `bundle` says, if it is still at `base_version`:
            /// facts, the post-mortem's template, status and due date, the policy's decision
            /// (kept when `extras` has none), sections, timeline, factors, action items,
            /// reviews and named people. Rows that already say the same are left as they are
            /// (a section keeps its version, an entry its id); the others are changed in
            /// place, in order, and what the bundle no longer has is removed. One audit event
            /// (`incident.import.update`, with `details` built by the caller from the record
            /// it compared at `base_version`) and one change-feed row.
            async fn update_from_bundle(
                &self,
                actor: Actor,
                id: IncidentId,
                base_version: i64,
                bundle: &IncidentBundle,
                extras: &ImportExtras,
                details: serde_json::Value,
            ) -> Result<FactsOutcome> {
                let now = self.clock.now();
                let now_ms = to_ms(now);
                let mut tx = self.writer().begin().await?;
                // Compare and bump in one statement: a writer that got there first has moved
                // the version on, and this one finds no row.
                let bumped: Option<i64> = sqlx::query_scalar("UPDATE incidents SET version = version + 1, updated_at = $3 WHERE id = $1 AND version = $2 RETURNING version")
                    .bind(id.get())
                    .bind(base_version)
                    .bind(now_ms)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(version) = bumped else {
                    let current: i64 = sqlx::query_scalar("SELECT version FROM incidents WHERE id = $1")
                        .bind(id.get())
                        .fetch_optional(&mut *tx)
                        .await?
                        .ok_or(StoreError::NotFound("incident"))?;
                    return Ok(FactsOutcome::Stale { current_version: current });
                };
                let users = Self::user_ids_of(&mut tx, Self::handles_of(bundle, extras).collect()).await?;
                let resolve = |handle: &Handle| -> Result<i64> {
                    users.get(handle.as_str()).copied().ok_or_else(|| {
                        StoreError::Invalid(postmortem_core::ValidationError::new("handle", format!("no user `{handle}` exists; create people before importing incidents that name them")))
                    })
                };
                let new = &bundle.incident;
                sqlx::query("UPDATE incidents SET title = $2, kind = $3, severity = $4, started_at = $5, started_offset = $6, sort_at = COALESCE($5, created_at), user_visible = $7, customer_minutes = $8, customers_affected = $9, data_loss = $10, manual_intervention = $11, restricted = $12, pm_template = $13, pm_status = $14, pm_due_on = $15, pm_decision = COALESCE($16, pm_decision), pm_reasons = COALESCE($17, pm_reasons) WHERE id = $1")
                    .bind(id.get())
                    .bind(new.title.as_str())
                    .bind(new.kind.as_str())
                    .bind(i64::from(new.severity.level()))
                    .bind(new.started_at.map(to_ms))
                    .bind(new.started_at.map(offset_seconds))
                    .bind(new.impact.user_visible)
                    .bind(i64::from(new.impact.customer_minutes))
                    .bind(i64::try_from(new.impact.customers_affected).unwrap_or(i64::MAX))
                    .bind(new.impact.data_loss)
                    .bind(new.impact.manual_intervention)
                    .bind(new.restricted)
                    .bind(new.template.as_str())
                    .bind(bundle.status.as_str())
                    .bind(date_text(bundle.due_on))
                    .bind(extras.decision.as_ref().map(|d| d.decision.as_str()))
                    .bind(extras.decision.as_ref().map(|d| serde_json::to_string(&d.reasons).expect("strings serialise")))
                    .execute(&mut *tx)
                    .await?;
                Self::replace_names(&mut tx, id, &new.services, &new.teams).await?;

                let stored_sections: Vec<(String, String, Option<i64>)> = sqlx::query("SELECT name, body, updated_by FROM sections WHERE incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("name")?, row.try_get("body")?, row.try_get("updated_by")?)))
                    .collect::<Result<_>>()?;
                for section in &bundle.sections {
                    let writer = resolve(&section.updated_by)?;
                    let same = stored_sections.iter().any(|(name, body, by)| {
                        name == section.name.as_str() && body == section.body.as_str() && *by == Some(writer)
                    });
                    if !same {
                        sqlx::query("INSERT INTO sections (incident_id, name, body, version, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
                                     ON CONFLICT (incident_id, name) DO UPDATE SET body = excluded.body, version = excluded.version, updated_by = excluded.updated_by, updated_at = excluded.updated_at")
                            .bind(id.get())
                            .bind(section.name.as_str())
                            .bind(section.body.as_str())
                            .bind(version)
                            .bind(writer)
                            .bind(now_ms)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for (name, _, _) in &stored_sections {
                    if !bundle.sections.iter().any(|s| s.name.as_str() == name) {
                        sqlx::query("DELETE FROM sections WHERE incident_id = $1 AND name = $2")
                            .bind(id.get())
                            .bind(name)
                            .execute(&mut *tx)
                            .await?;
                    }
                }

                // Timeline entries, factors and action items are paired with the stored ones
                // in the order an export lists them, so an unchanged row keeps its id and the
                // order reads back as the file has it.
                type EntryValues = (i64, i64, String, i64, Option<String>, Option<String>, String, String, Option<String>);
                let stored_entries: Vec<(i64, EntryValues)> = sqlx::query("SELECT id, at, at_offset, body, author_id, actor, marker, perspective, source, source_url FROM timeline_entries WHERE incident_id = $1 ORDER BY at, id")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| {
                        Ok((row.try_get("id")?, (
                            row.try_get("at")?, row.try_get("at_offset")?, row.try_get("body")?, row.try_get("author_id")?, row.try_get("actor")?,
                            row.try_get("marker")?, row.try_get("perspective")?, row.try_get("source")?, row.try_get("source_url")?,
                        )))
                    })
                    .collect::<Result<_>>()?;
                for (index, bundled) in bundle.timeline.iter().enumerate() {
                    let e = &bundled.entry;
                    let values: EntryValues = (
                        to_ms(e.at), offset_seconds(e.at), e.text.as_str().to_owned(), resolve(&bundled.author)?, e.actor.clone(),
                        e.marker.map(|m| m.as_str().to_owned()), e.perspective.as_str().to_owned(), e.source.as_str().to_owned(),
                        e.source_url.as_ref().map(|u| u.as_str().to_owned()),
                    );
                    let statement = match stored_entries.get(index) {
                        Some((_, stored)) if *stored == values => continue,
                        Some((entry_id, _)) => sqlx::query("UPDATE timeline_entries SET at = $2, at_offset = $3, body = $4, author_id = $5, actor = $6, marker = $7, perspective = $8, source = $9, source_url = $10 WHERE id = $1 AND incident_id = $11").bind(*entry_id),
                        None => sqlx::query("INSERT INTO timeline_entries (created_at, at, at_offset, body, author_id, actor, marker, perspective, source, source_url, incident_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)").bind(now_ms),
                    };
                    statement
                        .bind(values.0).bind(values.1).bind(values.2).bind(values.3).bind(values.4)
                        .bind(values.5).bind(values.6).bind(values.7).bind(values.8).bind(id.get())
                        .execute(&mut *tx)
                        .await?;
                }
                for (entry_id, _) in stored_entries.iter().skip(bundle.timeline.len()) {
                    sqlx::query("DELETE FROM timeline_entries WHERE id = $1").bind(*entry_id).execute(&mut *tx).await?;
                }

                let stored_factors: Vec<(i64, String, String, bool)> = sqlx::query("SELECT id, category, description, is_trigger FROM factors WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("id")?, row.try_get("category")?, row.try_get("description")?, row.try_get("is_trigger")?)))
                    .collect::<Result<_>>()?;
                let mut factor_ids = Vec::with_capacity(bundle.factors.len());
                for (index, factor) in bundle.factors.iter().enumerate() {
                    let category = factor.category.as_str();
                    let description = factor.description.as_str();
                    match stored_factors.get(index) {
                        Some((factor_id, c, d, t)) if c == category && d == description && *t == factor.is_trigger => factor_ids.push(*factor_id),
                        Some((factor_id, ..)) => {
                            sqlx::query("UPDATE factors SET category = $2, description = $3, is_trigger = $4 WHERE id = $1")
                                .bind(*factor_id).bind(category).bind(description).bind(factor.is_trigger)
                                .execute(&mut *tx)
                                .await?;
                            factor_ids.push(*factor_id);
                        }
                        None => {
                            let factor_id: i64 = sqlx::query_scalar("INSERT INTO factors (incident_id, category, description, is_trigger) VALUES ($1, $2, $3, $4) RETURNING id")
                                .bind(id.get()).bind(category).bind(description).bind(factor.is_trigger)
                                .fetch_one(&mut *tx)
                                .await?;
                            factor_ids.push(factor_id);
                        }
                    }
                }
                for (factor_id, ..) in stored_factors.iter().skip(bundle.factors.len()) {
                    sqlx::query("DELETE FROM factors WHERE id = $1").bind(*factor_id).execute(&mut *tx).await?;
                }

                type ActionValues = (String, Option<i64>, Option<String>, Option<String>, String, String, String, Option<String>, Option<String>, Option<String>, Option<i64>);
                let stored_actions: Vec<(i64, ActionValues)> = sqlx::query("SELECT id, title, owner_id, team, due_on, priority, kind, status, wont_do_reason, external_url, verification, completed_at FROM actions WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| {
                        Ok((row.try_get("id")?, (
                            row.try_get("title")?, row.try_get("owner_id")?, row.try_get("team")?, row.try_get("due_on")?, row.try_get("priority")?,
                            row.try_get("kind")?, row.try_get("status")?, row.try_get("wont_do_reason")?, row.try_get("external_url")?,
                            row.try_get("verification")?, row.try_get("completed_at")?,
                        )))
                    })
                    .collect::<Result<_>>()?;
                let mut links: Vec<(i64, i64)> = sqlx::query("SELECT af.action_id, af.factor_id FROM action_factors af JOIN actions a ON a.id = af.action_id WHERE a.incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("action_id")?, row.try_get("factor_id")?)))
                    .collect::<Result<_>>()?;
                links.sort_unstable();
                for (index, action) in bundle.actions.iter().enumerate() {
                    let item = &action.item;
                    item.check()?;
                    let values: ActionValues = (
                        item.title.as_str().to_owned(), action.owner.as_ref().map(&resolve).transpose()?,
                        item.team.as_ref().map(|t| t.as_str().to_owned()), date_text(item.due_on), item.priority.as_str().to_owned(),
                        item.kind.as_str().to_owned(), item.status.as_str().to_owned(), item.wont_do_reason.clone(),
                        item.external_url.as_ref().map(|u| u.as_str().to_owned()), item.verification.clone(), action.completed_at.map(to_ms),
                    );
                    let mut wanted_links = action
                        .factor_indexes
                        .iter()
                        .map(|&index| {
                            factor_ids.get(index).copied().ok_or_else(|| {
                                StoreError::Invalid(postmortem_core::ValidationError::new("factor_indexes", format!("no factor at index {index}")))
                            })
                        })
                        .collect::<Result<Vec<i64>>>()?;
                    wanted_links.sort_unstable();
                    wanted_links.dedup();
                    let action_id = match stored_actions.get(index) {
                        Some((action_id, stored)) => {
                            if *stored != values {
                                sqlx::query("UPDATE actions SET title = $2, owner_id = $3, team = $4, due_on = $5, priority = $6, kind = $7, status = $8, wont_do_reason = $9, external_url = $10, verification = $11, completed_at = $12 WHERE id = $1")
                                    .bind(*action_id)
                                    .bind(values.0).bind(values.1).bind(values.2).bind(values.3).bind(values.4).bind(values.5)
                                    .bind(values.6).bind(values.7).bind(values.8).bind(values.9).bind(values.10)
                                    .execute(&mut *tx)
                                    .await?;
                            }
                            *action_id
                        }
                        None => sqlx::query_scalar("INSERT INTO actions (incident_id, created_at, title, owner_id, team, due_on, priority, kind, status, wont_do_reason, external_url, verification, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
                            .bind(id.get()).bind(now_ms)
                            .bind(values.0).bind(values.1).bind(values.2).bind(values.3).bind(values.4).bind(values.5)
                            .bind(values.6).bind(values.7).bind(values.8).bind(values.9).bind(values.10)
                            .fetch_one(&mut *tx)
                            .await?,
                    };
                    let stored_links: Vec<i64> = links.iter().filter(|(a, _)| *a == action_id).map(|(_, f)| *f).collect();
                    if stored_links != wanted_links {
                        sqlx::query("DELETE FROM action_factors WHERE action_id = $1").bind(action_id).execute(&mut *tx).await?;
                        for factor_id in wanted_links {
                            sqlx::query("INSERT INTO action_factors (action_id, factor_id) VALUES ($1, $2)").bind(action_id).bind(factor_id).execute(&mut *tx).await?;
                        }
                    }
                }
                for (action_id, _) in stored_actions.iter().skip(bundle.actions.len()) {
                    sqlx::query("DELETE FROM actions WHERE id = $1").bind(*action_id).execute(&mut *tx).await?;
                }

                let stored_reviews: Vec<(i64, String, Option<String>)> = sqlx::query("SELECT reviewer_id, decision, comment FROM reviews WHERE incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|row| Ok((row.try_get("reviewer_id")?, row.try_get("decision")?, row.try_get("comment")?)))
                    .collect::<Result<_>>()?;
                let mut reviewers = Vec::with_capacity(bundle.reviews.len());
                for review in &bundle.reviews {
                    let reviewer = resolve(&review.reviewer)?;
                    reviewers.push(reviewer);
                    let same = stored_reviews.iter().any(|(r, d, c)| *r == reviewer && d == review.decision.as_str() && *c == review.comment);
                    if !same {
                        sqlx::query("INSERT INTO reviews (incident_id, reviewer_id, decision, comment, updated_at) VALUES ($1, $2, $3, $4, $5) \
                                     ON CONFLICT (incident_id, reviewer_id) DO UPDATE SET decision = excluded.decision, comment = excluded.comment, updated_at = excluded.updated_at")
                            .bind(id.get()).bind(reviewer).bind(review.decision.as_str()).bind(review.comment.clone()).bind(now_ms)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for (reviewer, ..) in &stored_reviews {
                    if !reviewers.contains(reviewer) {
                        sqlx::query("DELETE FROM reviews WHERE incident_id = $1 AND reviewer_id = $2").bind(id.get()).bind(*reviewer).execute(&mut *tx).await?;
                    }
                }

                let stored_members: Vec<i64> = sqlx::query_scalar("SELECT user_id FROM incident_members WHERE incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *tx)
                    .await?;
                let members = extras.members.iter().map(&resolve).collect::<Result<Vec<i64>>>()?;
                for member in &members {
                    if !stored_members.contains(member) {
                        sqlx::query("INSERT INTO incident_members (incident_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id.get()).bind(*member).execute(&mut *tx).await?;
                    }
                }
                for member in &stored_members {
                    if !members.contains(member) {
                        sqlx::query("DELETE FROM incident_members WHERE incident_id = $1 AND user_id = $2").bind(id.get()).bind(*member).execute(&mut *tx).await?;
                    }
                }

                Self::record(&mut tx, now, actor, "incident.import.update", Some(id), "incident", "update", details).await?;
                tx.commit().await?;
                Ok(FactsOutcome::Updated { version })
            }
        }
    };
}
