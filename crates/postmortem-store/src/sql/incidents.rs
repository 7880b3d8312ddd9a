//! Incidents: recording (one at a time or in batches), reading with visibility, listing with filters
//! and cursors, membership, facts and the policy's decision.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_incidents {
    ($store:ident, $db:ty, $backend:expr) => {
        const INCIDENT_COLUMNS: &str = "i.id, i.title, i.kind, i.severity, i.started_at, \
            i.started_offset, i.user_visible, i.customer_minutes, i.customers_affected, \
            i.data_loss, i.manual_intervention, i.restricted, i.created_by, i.created_at, \
            i.updated_at, i.version, i.pm_template, i.pm_status, i.pm_due_on, i.sort_at, \
            i.pm_decision, i.pm_reasons";

        /// An incident row before its services and teams are attached.
        struct IncidentRow {
            incident: Incident,
            template: TemplateName,
            status: PostmortemStatus,
            due_on: Option<time::Date>,
            sort_at: i64,
            decision: Option<PolicyDecision>,
        }

        fn incident_from_row(row: &DbRow) -> Result<IncidentRow> {
            let started_at = match (
                row.try_get::<Option<i64>, _>("started_at")?,
                row.try_get::<Option<i64>, _>("started_offset")?,
            ) {
                (Some(ms), offset) => Some(from_ms_offset(ms, offset.unwrap_or(0))?),
                (None, _) => None,
            };
            let incident = Incident {
                id: IncidentId::new(row.try_get("id")?),
                title: Title::from_stored(row.try_get::<String, _>("title")?),
                kind: stored(IncidentKind::parse(&row.try_get::<String, _>("kind")?))?,
                severity: severity(row.try_get("severity")?)?,
                started_at,
                services: Vec::new(),
                teams: Vec::new(),
                impact: Impact {
                    user_visible: row.try_get("user_visible")?,
                    customer_minutes: u32::try_from(row.try_get::<i64, _>("customer_minutes")?)
                        .map_err(StoreError::corrupt)?,
                    customers_affected: u64::try_from(
                        row.try_get::<i64, _>("customers_affected")?,
                    )
                    .map_err(StoreError::corrupt)?,
                    data_loss: row.try_get("data_loss")?,
                    manual_intervention: row.try_get("manual_intervention")?,
                },
                restricted: row.try_get("restricted")?,
                created_by: UserId::new(row.try_get("created_by")?),
                created_at: from_ms(row.try_get("created_at")?)?,
                updated_at: from_ms(row.try_get("updated_at")?)?,
                version: row.try_get("version")?,
            };
            Ok(IncidentRow {
                incident,
                template: stored(TemplateName::parse(row.try_get::<String, _>("pm_template")?))?,
                status: stored(PostmortemStatus::parse(&row.try_get::<String, _>("pm_status")?))?,
                due_on: parse_date(row.try_get("pm_due_on")?)?,
                sort_at: row.try_get("sort_at")?,
                decision: match (row.try_get::<Option<String>, _>("pm_decision")?, row.try_get::<Option<String>, _>("pm_reasons")?) {
                    (Some(decision), Some(reasons)) => Some(PolicyDecision {
                        decision: stored(postmortem_core::policy::Requirement::parse(&decision))?,
                        reasons: serde_json::from_str(&reasons).map_err(StoreError::corrupt)?,
                    }),
                    _ => None,
                },
            })
        }

        /// `(i is the person's incident)`: they recorded it, are named on it, or belong to a
        /// team it names.
        fn push_membership(qb: &mut QueryBuilder<'static, $db>, user: UserId) {
            qb.push("(i.created_by = ")
                .push_bind(user.get())
                .push(" OR EXISTS (SELECT 1 FROM incident_members m WHERE m.incident_id = i.id AND m.user_id = ")
                .push_bind(user.get())
                .push(") OR EXISTS (SELECT 1 FROM incident_teams it JOIN team_members tm ON tm.team = it.name WHERE it.incident_id = i.id AND tm.user_id = ")
                .push_bind(user.get())
                .push("))");
        }

        fn push_visibility(qb: &mut QueryBuilder<'static, $db>, visibility: Visibility) {
            if let Visibility::Person(user) = visibility {
                qb.push(" AND (i.restricted = ").push_bind(false).push(" OR ");
                push_membership(qb, user);
                qb.push(")");
            }
        }

        fn push_filters(qb: &mut QueryBuilder<'static, $db>, query: &IncidentQuery) {
            push_visibility(qb, query.visibility);
            if let Some(status) = query.status {
                qb.push(" AND i.pm_status = ").push_bind(status.as_str());
            }
            if let Some(severity) = query.severity {
                qb.push(" AND i.severity = ").push_bind(i64::from(severity.level()));
            }
            if let Some(kind) = query.kind {
                qb.push(" AND i.kind = ").push_bind(kind.as_str());
            }
            if let Some(service) = &query.service {
                qb.push(" AND EXISTS (SELECT 1 FROM incident_services s WHERE s.incident_id = i.id AND s.name = ")
                    .push_bind(service.as_str().to_owned())
                    .push(")");
            }
            if let Some(team) = &query.team {
                qb.push(" AND EXISTS (SELECT 1 FROM incident_teams t WHERE t.incident_id = i.id AND t.name = ")
                    .push_bind(team.as_str().to_owned())
                    .push(")");
            }
            if let Some(category) = query.factor {
                qb.push(" AND EXISTS (SELECT 1 FROM factors f WHERE f.incident_id = i.id AND f.category = ")
                    .push_bind(category.as_str())
                    .push(")");
            }
            if let Some(from) = query.from {
                qb.push(" AND i.sort_at >= ").push_bind(to_ms(from));
            }
            if let Some(until) = query.until {
                qb.push(" AND i.sort_at < ").push_bind(to_ms(until));
            }
            if let Some(words) = &query.title_contains {
                for word in words.split_whitespace().take(8) {
                    let escaped = word.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    qb.push(" AND LOWER(i.title) LIKE ")
                        .push_bind(format!("%{escaped}%"))
                        .push(" ESCAPE '\\'");
                }
            }
        }

        /// Parses a cursor `<severity>.<sort_at>.<id>` handed out by `list_incidents`.
        fn parse_cursor(raw: &str) -> Result<(i64, i64, i64)> {
            let mut parts = raw.splitn(3, '.').map(str::parse::<i64>);
            match (parts.next(), parts.next(), parts.next()) {
                (Some(Ok(severity)), Some(Ok(sort_at)), Some(Ok(id))) => Ok((severity, sort_at, id)),
                _ => Err(StoreError::InvalidCursor(raw.to_owned())),
            }
        }

        /// A batch insert with as many rows per statement as the bind limits allow.
        async fn insert_rows<T>(
            tx: &mut Tx,
            head: &'static str,
            n_columns: usize,
            rows: &[T],
            mut push: impl FnMut(Separated<'_>, &T),
        ) -> Result<()> {
            for chunk in rows.chunks((30_000 / n_columns).max(1)) {
                let mut qb = QueryBuilder::<'static, $db>::new(head);
                qb.push_values(chunk, |row_builder, row| push(row_builder, row));
                qb.build().execute(&mut **tx).await?;
            }
            Ok(())
        }

        impl $store {
            /// Records an incident, with the policy's decision when there is one.
            async fn insert_incident(
                &self,
                actor: Actor,
                new: NewIncident,
                postmortem: PostmortemStart,
                decision: Option<(postmortem_core::policy::Requirement, Vec<String>)>,
            ) -> Result<IncidentId> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let sort_at = to_ms(new.started_at.unwrap_or(now));
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO incidents (title, kind, severity, started_at, started_offset, sort_at, user_visible, customer_minutes, customers_affected, data_loss, manual_intervention, restricted, created_by, created_at, updated_at, version, pm_template, pm_status, pm_due_on, pm_decision, pm_reasons) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1, $15, $16, $17, $18, $19) RETURNING id",
                )
                .bind(new.title.as_str())
                .bind(new.kind.as_str())
                .bind(i64::from(new.severity.level()))
                .bind(new.started_at.map(to_ms))
                .bind(new.started_at.map(offset_seconds))
                .bind(sort_at)
                .bind(new.impact.user_visible)
                .bind(i64::from(new.impact.customer_minutes))
                .bind(i64::try_from(new.impact.customers_affected).unwrap_or(i64::MAX))
                .bind(new.impact.data_loss)
                .bind(new.impact.manual_intervention)
                .bind(new.restricted)
                .bind(actor.person().ok_or(StoreError::NotFound("user"))?.get())
                .bind(to_ms(now))
                .bind(new.template.as_str())
                .bind(postmortem.status.as_str())
                .bind(date_text(postmortem.due_on))
                .bind(decision.as_ref().map(|(decision, _)| decision.as_str()))
                .bind(decision.as_ref().map(|(_, reasons)| serde_json::to_string(reasons).expect("strings serialise")))
                .fetch_one(&mut *tx)
                .await?;
                Self::replace_names(&mut tx, IncidentId::new(id), &new.services, &new.teams).await?;
                let details = serde_json::json!({
                    "before": null,
                    "after": {"title": new.title.as_str(), "kind": new.kind.as_str(), "severity": new.severity.to_string(),
                              "started_at": new.started_at.map(rfc3339), "services": new.services, "teams": new.teams,
                              "impact": new.impact, "restricted": new.restricted, "template": new.template.as_str(),
                              "status": postmortem.status.as_str(), "due_on": date_text(postmortem.due_on),
                              "decision": decision.as_ref().map(|(d, _)| d.as_str()), "reasons": decision.as_ref().map(|(_, r)| r)}
                });
                let incident_id = IncidentId::new(id);
                Self::record(&mut tx, now, actor, "incident.create", Some(incident_id), "incident", "create", details).await?;
                tx.commit().await?;
                Ok(incident_id)
            }

            /// Names (`INSERT`) or un-names (`DELETE`) a person on an incident, bumping its
            /// version, in one audited transaction.
            async fn change_incident_member(&self, actor: Actor, id: IncidentId, user: UserId, statement: &str, action: &str) -> Result<i64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let version = Self::bump(&mut tx, id, now).await?;
                sqlx::query(statement)
                    .bind(id.get())
                    .bind(user.get())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("user"),
                        _ => StoreError::Database(e),
                    })?;
                let details = serde_json::json!({"user_id": user.get()});
                Self::record(&mut tx, now, actor, action, Some(id), "member", "update", details).await?;
                tx.commit().await?;
                Ok(version)
            }

            /// Bumps an incident's version inside a write; the incident must exist.
            async fn bump(tx: &mut Tx, id: IncidentId, now: OffsetDateTime) -> Result<i64> {
                sqlx::query_scalar("UPDATE incidents SET version = version + 1, updated_at = $2 WHERE id = $1 RETURNING version")
                    .bind(id.get())
                    .bind(to_ms(now))
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("incident"))
            }

            /// Records the policy's decision inside a write, audited, and says whether it
            /// changed; an unchanged decision writes nothing. The caller bumps the version.
            async fn decide_in_tx(
                tx: &mut Tx,
                now: OffsetDateTime,
                actor: Actor,
                id: IncidentId,
                decision: postmortem_core::policy::Requirement,
                reasons: &[String],
            ) -> Result<bool> {
                let before: Option<(Option<String>, Option<String>)> = sqlx::query("SELECT pm_decision, pm_reasons FROM incidents WHERE id = $1")
                    .bind(id.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .map(|row| Ok::<_, sqlx::Error>((row.try_get("pm_decision")?, row.try_get("pm_reasons")?)))
                    .transpose()?;
                let (before_decision, before_reasons) = before.ok_or(StoreError::NotFound("incident"))?;
                let reasons_json = serde_json::to_string(reasons).map_err(StoreError::corrupt)?;
                if before_decision.as_deref() == Some(decision.as_str()) && before_reasons.as_deref() == Some(reasons_json.as_str()) {
                    return Ok(false);
                }
                sqlx::query("UPDATE incidents SET pm_decision = $2, pm_reasons = $3 WHERE id = $1")
                    .bind(id.get())
                    .bind(decision.as_str())
                    .bind(&reasons_json)
                    .execute(&mut **tx)
                    .await?;
                let details = serde_json::json!({
                    "before": {"decision": before_decision, "reasons": before_reasons.and_then(|r| serde_json::from_str::<serde_json::Value>(&r).ok())},
                    "after": {"decision": decision.as_str(), "reasons": reasons},
                });
                Self::record(tx, now, actor, "policy.decide", Some(id), "postmortem", "update", details).await?;
                Ok(true)
            }

            /// Sets an incident's services and teams inside a write.
            async fn replace_names(tx: &mut Tx, id: IncidentId, services: &[Name], teams: &[Name]) -> Result<()> {
                for (table, names) in [("incident_services", services), ("incident_teams", teams)] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE incident_id = $1")).bind(id.get()).execute(&mut **tx).await?;
                    for name in names {
                        sqlx::query(&format!("INSERT INTO {table} (incident_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING"))
                            .bind(id.get())
                            .bind(name.as_str())
                            .execute(&mut **tx)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn names_of(
                conn: &mut <$db as sqlx::Database>::Connection,
                table: &'static str,
                ids: &[i64],
            ) -> Result<HashMap<i64, Vec<Name>>> {
                let mut names: HashMap<i64, Vec<Name>> = HashMap::new();
                if ids.is_empty() {
                    return Ok(names);
                }
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT incident_id, name FROM {table} WHERE incident_id IN ("
                ));
                let mut separated = qb.separated(", ");
                for id in ids {
                    separated.push_bind(*id);
                }
                qb.push(") ORDER BY incident_id, name");
                for row in qb.build().fetch_all(&mut *conn).await? {
                    let name = stored(Name::parse(row.try_get::<String, _>("name")?))?;
                    names.entry(row.try_get("incident_id")?).or_default().push(name);
                }
                Ok(names)
            }

            async fn load_record(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: IncidentId,
                viewer: Visibility,
            ) -> Result<Option<IncidentRecord>> {
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.id = "
                ));
                qb.push_bind(id.get());
                push_visibility(&mut qb, viewer);
                let Some(row) = qb.build().fetch_optional(&mut *conn).await? else {
                    return Ok(None);
                };
                let IncidentRow { mut incident, template, status, due_on, decision, .. } = incident_from_row(&row)?;
                incident.services = Self::names_of(conn, "incident_services", &[id.get()]).await?.remove(&id.get()).unwrap_or_default();
                incident.teams = Self::names_of(conn, "incident_teams", &[id.get()]).await?.remove(&id.get()).unwrap_or_default();

                let mut sections = BTreeMap::new();
                for row in sqlx::query("SELECT name, body, version, updated_by, updated_at FROM sections WHERE incident_id = $1")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                {
                    let name = stored(SectionName::parse(row.try_get::<String, _>("name")?))?;
                    sections.insert(name.clone(), Section {
                        name,
                        body: Markdown::from_stored(row.try_get::<String, _>("body")?),
                        version: row.try_get("version")?,
                        updated_by: row.try_get::<Option<i64>, _>("updated_by")?.map(UserId::new),
                        updated_at: row.try_get::<Option<i64>, _>("updated_at")?.map(from_ms).transpose()?,
                    });
                }
                let timeline = sqlx::query("SELECT * FROM timeline_entries WHERE incident_id = $1 ORDER BY at, id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(timeline_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let factors = sqlx::query("SELECT * FROM factors WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(factor_from_row)
                    .collect::<Result<Vec<_>>>()?;
                let mut actions = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions a WHERE a.incident_id = $1 ORDER BY a.id"))
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(action_from_row)
                    .collect::<Result<Vec<_>>>()?;
                if !actions.is_empty() {
                    let links = sqlx::query("SELECT af.action_id, af.factor_id FROM action_factors af JOIN actions a ON a.id = af.action_id WHERE a.incident_id = $1 ORDER BY af.factor_id")
                        .bind(id.get())
                        .fetch_all(&mut *conn)
                        .await?;
                    for link in links {
                        let action_id: i64 = link.try_get("action_id")?;
                        if let Some(action) = actions.iter_mut().find(|a| a.id.get() == action_id) {
                            action.factor_ids.push(FactorId::new(link.try_get("factor_id")?));
                        }
                    }
                }
                let reviews = sqlx::query("SELECT * FROM reviews WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|row| {
                        Ok(Review {
                            id: ReviewId::new(row.try_get("id")?),
                            incident_id: id,
                            reviewer: UserId::new(row.try_get("reviewer_id")?),
                            decision: stored(ReviewDecision::parse(&row.try_get::<String, _>("decision")?))?,
                            comment: row.try_get("comment")?,
                            updated_at: from_ms(row.try_get("updated_at")?)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let comments = sqlx::query("SELECT * FROM review_comments WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|row| {
                        Ok(ReviewComment {
                            id: CommentId::new(row.try_get("id")?),
                            incident_id: id,
                            section: stored(SectionName::parse(row.try_get::<String, _>("section")?))?,
                            author: UserId::new(row.try_get("author_id")?),
                            body: Markdown::from_stored(row.try_get::<String, _>("body")?),
                            resolved: row.try_get("resolved")?,
                            created_at: from_ms(row.try_get("created_at")?)?,
                            quote: row.try_get::<Option<String>, _>("quote_exact")?.map(|exact| -> Result<PassageQuote> {
                                Ok(PassageQuote::from_stored(
                                    exact,
                                    row.try_get::<Option<String>, _>("quote_prefix")?.unwrap_or_default(),
                                    row.try_get::<Option<String>, _>("quote_suffix")?.unwrap_or_default(),
                                ))
                            }).transpose()?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let revisions = sqlx::query("SELECT * FROM postmortem_revisions WHERE incident_id = $1 ORDER BY id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .iter()
                    .map(|row| {
                        let names: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("sections")?)
                            .map_err(|e| StoreError::Corrupt(format!("a revision's sections: {e}")))?;
                        Ok(Revision {
                            id: row.try_get("id")?,
                            incident_id: id,
                            revised_by: row.try_get::<Option<i64>, _>("revised_by")?.map(UserId::new),
                            revised_at: from_ms(row.try_get("revised_at")?)?,
                            note: row.try_get("note")?,
                            sections: names.into_iter().map(|n| stored(SectionName::parse(n))).collect::<Result<_>>()?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let members = sqlx::query_scalar::<_, i64>("SELECT user_id FROM incident_members WHERE incident_id = $1 ORDER BY user_id")
                    .bind(id.get())
                    .fetch_all(&mut *conn)
                    .await?
                    .into_iter()
                    .map(UserId::new)
                    .collect();
                let postmortem = Postmortem {
                    incident_id: id,
                    template,
                    status,
                    due_on,
                    sections,
                    version: incident.version,
                };
                Ok(Some(IncidentRecord { incident, postmortem, decision, timeline, factors, actions, reviews, comments, revisions, members }))
            }

            async fn is_incident_member(&self, id: IncidentId, user: UserId) -> Result<bool> {
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT COUNT(*) FROM incidents i WHERE i.id = ");
                qb.push_bind(id.get()).push(" AND ");
                push_membership(&mut qb, user);
                let count: i64 = qb.build_query_scalar().fetch_one(self.reader()).await?;
                Ok(count > 0)
            }

            async fn add_incident_member(&self, actor: Actor, id: IncidentId, user: UserId) -> Result<i64> {
                self.change_incident_member(actor, id, user, "INSERT INTO incident_members (incident_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", "incident.member.add").await
            }

            async fn remove_incident_member(&self, actor: Actor, id: IncidentId, user: UserId) -> Result<i64> {
                self.change_incident_member(actor, id, user, "DELETE FROM incident_members WHERE incident_id = $1 AND user_id = $2", "incident.member.remove").await
            }

            async fn create_incident(&self, actor: Actor, new: NewIncident, postmortem: PostmortemStart) -> Result<IncidentId> {
                self.insert_incident(actor, new, postmortem, None).await
            }

            async fn create_incident_decided(
                &self,
                actor: Actor,
                new: NewIncident,
                postmortem: PostmortemStart,
                decision: postmortem_core::policy::Requirement,
                reasons: Vec<String>,
            ) -> Result<IncidentId> {
                self.insert_incident(actor, new, postmortem, Some((decision, reasons))).await
            }

            async fn import_bundles(&self, actor: Actor, source: Option<&str>, bundles: &[IncidentBundle]) -> Result<Vec<IncidentId>> {
                if bundles.is_empty() {
                    return Ok(Vec::new());
                }
                let extras = ImportExtras::default();
                let items: Vec<_> = bundles.iter().map(|bundle| (bundle, &extras)).collect();
                let mut tx = self.writer().begin().await?;
                Self::lock_for_import(&mut tx).await?;
                let ids = Self::insert_bundles(&mut tx, self.clock.now(), actor, source, &items).await?;
                Self::after_import(&mut tx).await?;
                tx.commit().await?;
                Ok(ids)
            }

            async fn import_bundle(&self, actor: Actor, source: Option<&str>, bundle: &IncidentBundle, extras: &ImportExtras) -> Result<IncidentId> {
                let mut tx = self.writer().begin().await?;
                Self::lock_for_import(&mut tx).await?;
                let ids = Self::insert_bundles(&mut tx, self.clock.now(), actor, source, &[(bundle, extras)]).await?;
                Self::after_import(&mut tx).await?;
                tx.commit().await?;
                Ok(ids[0])
            }

            /// Writes whole incidents inside a write, with explicit ids after the largest of
            /// each table, in as few statements as the bind limits allow: what makes both the
            /// demo's batches and one imported file a transaction of a few statements.
            async fn insert_bundles(tx: &mut Tx, now: OffsetDateTime, actor: Actor, source: Option<&str>, items: &[(&IncidentBundle, &ImportExtras)]) -> Result<Vec<IncidentId>> {
                let now_ms = to_ms(now);
                // Only the people the bundles name are read: a file names a handful, the
                // organisation may have thousands.
                let named = items.iter().flat_map(|(bundle, extras)| Self::handles_of(bundle, extras)).collect();
                let user_ids = Self::user_ids_of(tx, named).await?;
                let resolve = |handle: &Handle| -> Result<i64> {
                    user_ids.get(handle.as_str()).copied().ok_or_else(|| {
                        StoreError::Invalid(postmortem_core::ValidationError::new("handle", format!("no user `{handle}` exists; create people before importing incidents that name them")))
                    })
                };
                let mut next_id = HashMap::new();
                for table in ["incidents", "timeline_entries", "factors", "actions", "reviews"] {
                    let max: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(id) FROM {table}")).fetch_one(&mut **tx).await?;
                    next_id.insert(table, max.unwrap_or(0));
                }
                let mut take = |table: &'static str| -> i64 {
                    let id = next_id.get_mut(table).expect("every imported table has a counter");
                    *id += 1;
                    *id
                };

                type IncidentValues = (i64, String, &'static str, i64, Option<i64>, Option<i64>, i64, bool, i64, i64, bool, bool, bool, i64, i64, String, &'static str, Option<String>, Option<i64>, i64, Option<&'static str>, Option<String>);
                let mut incidents: Vec<IncidentValues> = Vec::with_capacity(items.len());
                let mut names: Vec<(&'static str, i64, String)> = Vec::new();
                let mut sections: Vec<(i64, String, String, i64, i64, i64)> = Vec::new();
                let mut timeline: Vec<(i64, i64, i64, i64, String, i64, Option<String>, Option<&'static str>, &'static str, &'static str, Option<String>, i64)> = Vec::new();
                let mut factors: Vec<(i64, i64, &'static str, String, bool)> = Vec::new();
                let mut actions: Vec<(i64, i64, String, Option<i64>, Option<String>, Option<String>, &'static str, &'static str, &'static str, Option<String>, Option<String>, Option<String>, i64, Option<i64>)> = Vec::new();
                let mut links: Vec<(i64, i64)> = Vec::new();
                let mut reviews: Vec<(i64, i64, i64, &'static str, Option<String>, i64)> = Vec::new();
                let mut members: Vec<(i64, i64)> = Vec::new();
                let mut ids = Vec::with_capacity(items.len());

                for (bundle, extras) in items {
                    let id = take("incidents");
                    ids.push(IncidentId::new(id));
                    let new = &bundle.incident;
                    let created_ms = to_ms(bundle.created_at);
                    incidents.push((
                        id,
                        new.title.as_str().to_owned(),
                        new.kind.as_str(),
                        i64::from(new.severity.level()),
                        new.started_at.map(to_ms),
                        new.started_at.map(offset_seconds),
                        to_ms(new.started_at.unwrap_or(bundle.created_at)),
                        new.impact.user_visible,
                        i64::from(new.impact.customer_minutes),
                        i64::try_from(new.impact.customers_affected).unwrap_or(i64::MAX),
                        new.impact.data_loss,
                        new.impact.manual_intervention,
                        new.restricted,
                        resolve(&bundle.created_by)?,
                        created_ms,
                        new.template.as_str().to_owned(),
                        bundle.status.as_str(),
                        date_text(bundle.due_on),
                        bundle.published_at.map(to_ms),
                        extras.version.unwrap_or(1),
                        extras.decision.as_ref().map(|d| d.decision.as_str()),
                        extras.decision.as_ref().map(|d| serde_json::to_string(&d.reasons).expect("strings serialise")),
                    ));
                    for member in &extras.members {
                        members.push((id, resolve(member)?));
                    }
                    for service in &new.services {
                        names.push(("incident_services", id, service.as_str().to_owned()));
                    }
                    for team in &new.teams {
                        names.push(("incident_teams", id, team.as_str().to_owned()));
                    }
                    for section in &bundle.sections {
                        sections.push((id, section.name.as_str().to_owned(), section.body.as_str().to_owned(), 1, resolve(&section.updated_by)?, created_ms));
                    }
                    for entry in &bundle.timeline {
                        let e = &entry.entry;
                        timeline.push((
                            take("timeline_entries"), id, to_ms(e.at), offset_seconds(e.at), e.text.as_str().to_owned(),
                            resolve(&entry.author)?, e.actor.clone(), e.marker.map(Marker::as_str), e.perspective.as_str(),
                            e.source.as_str(), e.source_url.as_ref().map(|u| u.as_str().to_owned()), created_ms,
                        ));
                    }
                    let mut factor_ids = Vec::with_capacity(bundle.factors.len());
                    for factor in &bundle.factors {
                        let factor_id = take("factors");
                        factor_ids.push(factor_id);
                        factors.push((factor_id, id, factor.category.as_str(), factor.description.as_str().to_owned(), factor.is_trigger));
                    }
                    for action in &bundle.actions {
                        let item = &action.item;
                        item.check()?;
                        let action_id = take("actions");
                        actions.push((
                            action_id, id, item.title.as_str().to_owned(), action.owner.as_ref().map(&resolve).transpose()?,
                            item.team.as_ref().map(|t| t.as_str().to_owned()), date_text(item.due_on), item.priority.as_str(),
                            item.kind.as_str(), item.status.as_str(), item.wont_do_reason.clone(),
                            item.external_url.as_ref().map(|u| u.as_str().to_owned()), item.verification.clone(), created_ms,
                            action.completed_at.map(to_ms),
                        ));
                        for &index in &action.factor_indexes {
                            let factor_id = factor_ids.get(index).ok_or_else(|| {
                                StoreError::Invalid(postmortem_core::ValidationError::new("factor_indexes", format!("no factor at index {index}")))
                            })?;
                            links.push((action_id, *factor_id));
                        }
                    }
                    for review in &bundle.reviews {
                        reviews.push((take("reviews"), id, resolve(&review.reviewer)?, review.decision.as_str(), review.comment.clone(), created_ms));
                    }
                }

                insert_rows(tx, "INSERT INTO incidents (id, title, kind, severity, started_at, started_offset, sort_at, user_visible, customer_minutes, customers_affected, data_loss, manual_intervention, restricted, created_by, created_at, updated_at, version, pm_template, pm_status, pm_due_on, pm_published_at, pm_decision, pm_reasons) ", 23, &incidents, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1.clone()).push_bind(r.2).push_bind(r.3).push_bind(r.4).push_bind(r.5).push_bind(r.6)
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9).push_bind(r.10).push_bind(r.11).push_bind(r.12).push_bind(r.13)
                        .push_bind(r.14).push_bind(r.14).push_bind(r.19).push_bind(r.15.clone()).push_bind(r.16).push_bind(r.17.clone()).push_bind(r.18)
                        .push_bind(r.20).push_bind(r.21.clone());
                }).await?;
                members.sort_unstable();
                members.dedup();
                insert_rows(tx, "INSERT INTO incident_members (incident_id, user_id) ", 2, &members, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1);
                }).await?;
                for table in ["incident_services", "incident_teams"] {
                    let rows: Vec<_> = names.iter().filter(|n| n.0 == table).collect();
                    let head = if table == "incident_services" { "INSERT INTO incident_services (incident_id, name) " } else { "INSERT INTO incident_teams (incident_id, name) " };
                    insert_rows(tx, head, 2, &rows, |mut b, r| {
                        b.push_bind(r.1).push_bind(r.2.clone());
                    }).await?;
                }
                insert_rows(tx, "INSERT INTO sections (incident_id, name, body, version, updated_by, updated_at) ", 6, &sections, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1.clone()).push_bind(r.2.clone()).push_bind(r.3).push_bind(r.4).push_bind(r.5);
                }).await?;
                insert_rows(tx, "INSERT INTO timeline_entries (id, incident_id, at, at_offset, body, author_id, actor, marker, perspective, source, source_url, created_at) ", 12, &timeline, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5).push_bind(r.6.clone())
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9).push_bind(r.10.clone()).push_bind(r.11);
                }).await?;
                insert_rows(tx, "INSERT INTO factors (id, incident_id, category, description, is_trigger) ", 5, &factors, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3.clone()).push_bind(r.4);
                }).await?;
                insert_rows(tx, "INSERT INTO actions (id, incident_id, title, owner_id, team, due_on, priority, kind, status, wont_do_reason, external_url, verification, created_at, completed_at) ", 14, &actions, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2.clone()).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5.clone()).push_bind(r.6)
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9.clone()).push_bind(r.10.clone()).push_bind(r.11.clone()).push_bind(r.12).push_bind(r.13);
                }).await?;
                insert_rows(tx, "INSERT INTO action_factors (action_id, factor_id) ", 2, &links, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1);
                }).await?;
                insert_rows(tx, "INSERT INTO reviews (id, incident_id, reviewer_id, decision, comment, updated_at) ", 6, &reviews, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5);
                }).await?;

                let last_seq = Self::next_seq(tx, ids.len() as i64).await?;
                let first_seq = last_seq - ids.len() as i64 + 1;
                let feed: Vec<(i64, i64)> = ids.iter().enumerate().map(|(n, id)| (first_seq + n as i64, id.get())).collect();
                insert_rows(tx, "INSERT INTO change_feed (seq, at, incident_id, entity, op) ", 5, &feed, |mut b, r| {
                    b.push_bind(r.0).push_bind(now_ms).push_bind(r.1).push_bind("incident").push_bind("import");
                }).await?;
                // One audit event per imported incident, so each one's history starts with how
                // it arrived; what it held is in the incident itself, unchanged since.
                let audit: Vec<(i64, String)> = incidents
                    .iter()
                    .map(|r| {
                        let mut details = serde_json::json!({"before": null, "after": {"title": r.1, "kind": r.2, "severity": format!("SEV{}", r.3), "restricted": r.12, "status": r.16, "decision": r.20}});
                        if let Some(source) = source {
                            details["source"] = source.into();
                        }
                        (r.0, details.to_string())
                    })
                    .collect();
                insert_rows(tx, "INSERT INTO audit_events (at, actor_id, actor_name, action, incident_id, details) ", 6, &audit, |mut b, r| {
                    b.push_bind(now_ms).push_bind(actor.person().map(UserId::get)).push_bind(actor.system_name()).push_bind("incident.import").push_bind(r.0).push_bind(r.1.clone());
                }).await?;
                Ok(ids)
            }

            async fn incident(&self, id: IncidentId, viewer: Visibility) -> Result<Option<IncidentRecord>> {
                let mut conn = self.reader().acquire().await?;
                // One indexed query says whether the reader may see the incident and which
                // version is stored; the whole record is read only when that version is not
                // the one in memory.
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT i.version FROM incidents i WHERE i.id = ");
                qb.push_bind(id.get());
                push_visibility(&mut qb, viewer);
                let Some(version) = qb.build_query_scalar::<i64>().fetch_optional(&mut *conn).await? else {
                    return Ok(None);
                };
                if let Some(record) = self.records.get(id, version) {
                    return Ok(Some(record));
                }
                // The record's parts come from several queries; one snapshot keeps them from
                // mixing two versions, which the cache would otherwise keep until the next write.
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                if matches!($backend, Backend::Postgres) {
                    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY").execute(&mut *tx).await?;
                }
                let record = Self::load_record(&mut tx, id, viewer).await?;
                tx.commit().await?;
                if let Some(record) = &record {
                    self.records.put(record);
                }
                Ok(record)
            }

            async fn visible_incidents(&self, ids: &[IncidentId], viewer: Visibility) -> Result<Vec<IncidentId>> {
                let mut visible = Vec::with_capacity(ids.len());
                // Bounded statements: a bind per id, in chunks both backends accept.
                for chunk in ids.chunks(500) {
                    let mut qb = QueryBuilder::<'static, $db>::new("SELECT i.id FROM incidents i WHERE i.id IN (");
                    let mut separated = qb.separated(", ");
                    for id in chunk {
                        separated.push_bind(id.get());
                    }
                    qb.push(")");
                    push_visibility(&mut qb, viewer);
                    let rows: Vec<i64> = qb.build_query_scalar().fetch_all(self.reader()).await?;
                    visible.extend(rows.into_iter().map(IncidentId::new));
                }
                Ok(visible)
            }

            async fn incidents_after(&self, after: Option<IncidentId>, limit: i64) -> Result<Vec<IncidentRecord>> {
                let mut conn = self.reader().acquire().await?;
                let ids = sqlx::query_scalar::<_, i64>("SELECT id FROM incidents WHERE id > $1 ORDER BY id LIMIT $2")
                    .bind(after.map_or(i64::MIN, IncidentId::get))
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(&mut *conn)
                    .await?;
                let mut records = Vec::with_capacity(ids.len());
                for id in ids {
                    // Read on the same connection; an incident cannot disappear in between,
                    // as incidents are never deleted, but skip one rather than fail if it did.
                    if let Some(record) = Self::load_record(&mut conn, IncidentId::new(id), Visibility::Everything).await? {
                        records.push(record);
                    }
                }
                Ok(records)
            }

            async fn list_incidents(&self, query: &IncidentQuery) -> Result<IncidentPage> {
                let limit = query.limit.clamp(1, 500);
                let mut conn = self.reader().acquire().await?;

                let mut count = QueryBuilder::<'static, $db>::new("SELECT COUNT(*) FROM incidents i WHERE 1 = 1");
                push_filters(&mut count, query);
                let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;

                let mut qb = QueryBuilder::<'static, $db>::new(format!("SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE 1 = 1"));
                push_filters(&mut qb, query);
                if let Some(cursor) = &query.cursor {
                    let (severity, sort_at, id) = parse_cursor(cursor)?;
                    match query.sort {
                        IncidentSort::Newest => {
                            qb.push(" AND (i.sort_at, i.id) < (").push_bind(sort_at).push(", ").push_bind(id).push(")");
                        }
                        IncidentSort::Oldest => {
                            qb.push(" AND (i.sort_at, i.id) > (").push_bind(sort_at).push(", ").push_bind(id).push(")");
                        }
                        IncidentSort::Severity => {
                            qb.push(" AND (i.severity > ").push_bind(severity)
                                .push(" OR (i.severity = ").push_bind(severity)
                                .push(" AND (i.sort_at, i.id) < (").push_bind(sort_at).push(", ").push_bind(id).push(")))");
                        }
                    }
                }
                qb.push(match query.sort {
                    IncidentSort::Newest => " ORDER BY i.sort_at DESC, i.id DESC",
                    IncidentSort::Oldest => " ORDER BY i.sort_at ASC, i.id ASC",
                    IncidentSort::Severity => " ORDER BY i.severity ASC, i.sort_at DESC, i.id DESC",
                });
                qb.push(" LIMIT ").push_bind(limit + 1);
                let rows = qb.build().fetch_all(&mut *conn).await?;
                let mut incident_rows = rows.iter().map(incident_from_row).collect::<Result<Vec<_>>>()?;
                let next_cursor = if incident_rows.len() as i64 > limit {
                    incident_rows.truncate(limit as usize);
                    incident_rows.last().map(|last| format!("{}.{}.{}", last.incident.severity.level(), last.sort_at, last.incident.id))
                } else {
                    None
                };
                let ids: Vec<i64> = incident_rows.iter().map(|r| r.incident.id.get()).collect();
                let mut services = Self::names_of(&mut conn, "incident_services", &ids).await?;
                let mut teams = Self::names_of(&mut conn, "incident_teams", &ids).await?;
                let items = incident_rows
                    .into_iter()
                    .map(|row| {
                        let mut incident = row.incident;
                        incident.services = services.remove(&incident.id.get()).unwrap_or_default();
                        incident.teams = teams.remove(&incident.id.get()).unwrap_or_default();
                        IncidentSummary { incident, status: row.status, template: row.template, due_on: row.due_on }
                    })
                    .collect();
                Ok(IncidentPage { items, next_cursor, total })
            }

            async fn update_facts(&self, actor: Actor, id: IncidentId, base_version: i64, facts: IncidentFacts, reevaluation: Reevaluation) -> Result<FactsOutcome> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query(&format!("SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.id = $1"))
                    .bind(id.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("incident"))?;
                let mut before = incident_from_row(&row)?;
                // Compare and bump in one statement: on PostgreSQL a concurrent writer that
                // got there first has moved the version on, and this one finds no row.
                let bumped: Option<i64> = sqlx::query_scalar("UPDATE incidents SET version = version + 1, updated_at = $3 WHERE id = $1 AND version = $2 RETURNING version")
                    .bind(id.get())
                    .bind(base_version)
                    .bind(to_ms(now))
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(version) = bumped.filter(|_| before.incident.version == base_version) else {
                    return Ok(FactsOutcome::Stale { current_version: before.incident.version });
                };
                for (table, names) in [("incident_services", &mut before.incident.services), ("incident_teams", &mut before.incident.teams)] {
                    *names = Self::names_of(&mut tx, table, &[id.get()]).await?.remove(&id.get()).unwrap_or_default();
                }
                sqlx::query("UPDATE incidents SET title = $2, kind = $3, severity = $4, started_at = $5, started_offset = $6, sort_at = $7, user_visible = $8, customer_minutes = $9, customers_affected = $10, data_loss = $11, manual_intervention = $12, restricted = $13 WHERE id = $1")
                    .bind(id.get())
                    .bind(facts.title.as_str())
                    .bind(facts.kind.as_str())
                    .bind(i64::from(facts.severity.level()))
                    .bind(facts.started_at.map(to_ms))
                    .bind(facts.started_at.map(offset_seconds))
                    .bind(to_ms(facts.started_at.unwrap_or(before.incident.created_at)))
                    .bind(facts.impact.user_visible)
                    .bind(i64::from(facts.impact.customer_minutes))
                    .bind(i64::try_from(facts.impact.customers_affected).unwrap_or(i64::MAX))
                    .bind(facts.impact.data_loss)
                    .bind(facts.impact.manual_intervention)
                    .bind(facts.restricted)
                    .execute(&mut *tx)
                    .await?;
                Self::replace_names(&mut tx, id, &facts.services, &facts.teams).await?;
                let details = serde_json::json!({"before": before.incident.facts(), "after": &facts});
                Self::record(&mut tx, now, actor, "incident.update", Some(id), "incident", "update", details).await?;
                Self::decide_in_tx(&mut tx, now, actor, id, reevaluation.decision, &reevaluation.reasons).await?;
                if let Some((start, template)) = reevaluation.postmortem {
                    let note = format!("the facts changed; the policy now says {}", reevaluation.decision);
                    Self::status_in_tx(&mut tx, now, actor, id, start.status, Some(note), "postmortem.reevaluate").await?;
                    sqlx::query("UPDATE incidents SET pm_due_on = $2, pm_template = $3 WHERE id = $1")
                        .bind(id.get())
                        .bind(date_text(start.due_on))
                        .bind(template.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(FactsOutcome::Updated { version })
            }

            async fn set_policy_decision(
                &self,
                actor: Actor,
                id: IncidentId,
                decision: postmortem_core::policy::Requirement,
                reasons: &[String],
            ) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                if Self::decide_in_tx(&mut tx, now, actor, id, decision, reasons).await? {
                    Self::bump(&mut tx, id, now).await?;
                    tx.commit().await?;
                }
                Ok(())
            }

            async fn policy_decision(&self, id: IncidentId) -> Result<Option<(postmortem_core::policy::Requirement, Vec<String>)>> {
                let row = sqlx::query("SELECT pm_decision, pm_reasons FROM incidents WHERE id = $1")
                    .bind(id.get())
                    .fetch_optional(self.reader())
                    .await?;
                let Some(row) = row else { return Ok(None) };
                match (row.try_get::<Option<String>, _>("pm_decision")?, row.try_get::<Option<String>, _>("pm_reasons")?) {
                    (Some(decision), Some(reasons)) => Ok(Some((
                        stored(postmortem_core::policy::Requirement::parse(&decision))?,
                        serde_json::from_str(&reasons).map_err(StoreError::corrupt)?,
                    ))),
                    _ => Ok(None),
                }
            }
        }
    };
}
