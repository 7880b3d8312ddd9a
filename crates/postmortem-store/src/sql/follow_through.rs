//! Follow-through: action items, their changes and listings, and the figures about owed
//! post-mortems and finished work.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_follow_through {
    ($store:ident, $db:ty, $backend:expr) => {
        const ACTION_COLUMNS: &str = "a.id, a.incident_id, a.title, a.owner_id, a.team, \
            a.due_on, a.priority, a.kind, a.status, a.wont_do_reason, a.external_url, \
            a.verification, a.created_at, a.completed_at";

        fn action_from_row(row: &DbRow) -> Result<ActionItem> {
            Ok(ActionItem {
                id: ActionId::new(row.try_get("id")?),
                incident_id: IncidentId::new(row.try_get("incident_id")?),
                title: Title::from_stored(row.try_get::<String, _>("title")?),
                owner: row.try_get::<Option<i64>, _>("owner_id")?.map(UserId::new),
                team: row
                    .try_get::<Option<String>, _>("team")?
                    .map(|t| stored(Name::parse_field("team", t)))
                    .transpose()?,
                due_on: parse_date(row.try_get("due_on")?)?,
                priority: stored(Priority::parse(&row.try_get::<String, _>("priority")?))?,
                kind: stored(ActionKind::parse(&row.try_get::<String, _>("kind")?))?,
                status: stored(ActionStatus::parse(&row.try_get::<String, _>("status")?))?,
                wont_do_reason: row.try_get("wont_do_reason")?,
                external_url: row
                    .try_get::<Option<String>, _>("external_url")?
                    .map(|u| stored(WebLink::parse(u)))
                    .transpose()?,
                factor_ids: Vec::new(),
                verification: row.try_get("verification")?,
                created_at: from_ms(row.try_get("created_at")?)?,
                completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(from_ms).transpose()?,
            })
        }

        /// The fields of an action item people change, as the audit log keeps them before and
        /// after a change: dates as `YYYY-MM-DD`, instants as RFC 3339.
        fn action_state(item: &ActionItem) -> serde_json::Value {
            serde_json::json!({
                "title": item.title.as_str(), "owner": item.owner, "team": item.team, "due_on": date_text(item.due_on),
                "priority": item.priority, "kind": item.kind, "status": item.status, "wont_do_reason": item.wont_do_reason,
                "external_url": item.external_url, "factor_ids": item.factor_ids, "verification": item.verification,
                "completed_at": item.completed_at.map(rfc3339),
            })
        }

        impl $store {
            async fn action_in_tx(tx: &mut Tx, action_id: ActionId) -> Result<ActionItem> {
                let row = sqlx::query(&format!("SELECT {ACTION_COLUMNS} FROM actions a WHERE a.id = $1"))
                    .bind(action_id.get())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("action item"))?;
                let mut action = action_from_row(&row)?;
                action.factor_ids = sqlx::query_scalar::<_, i64>("SELECT factor_id FROM action_factors WHERE action_id = $1 ORDER BY factor_id")
                    .bind(action_id.get())
                    .fetch_all(&mut **tx)
                    .await?
                    .into_iter()
                    .map(FactorId::new)
                    .collect();
                Ok(action)
            }

            async fn remove_action(&self, actor: Actor, action_id: ActionId) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before = Self::action_in_tx(&mut tx, action_id).await?;
                Self::bump(&mut tx, before.incident_id, now).await?;
                sqlx::query("DELETE FROM action_factors WHERE action_id = $1").bind(action_id.get()).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM actions WHERE id = $1").bind(action_id.get()).execute(&mut *tx).await?;
                let details = serde_json::json!({"action_id": action_id.get(), "before": action_state(&before), "after": null});
                Self::record(&mut tx, now, actor, "action.remove", Some(before.incident_id), "action", "delete", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_action(&self, actor: Actor, id: IncidentId, action: NewActionItem) -> Result<ActionItem> {
                action.check()?;
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                for factor_id in &action.factor_ids {
                    let belongs: Option<i64> = sqlx::query_scalar("SELECT id FROM factors WHERE id = $1 AND incident_id = $2")
                        .bind(factor_id.get())
                        .bind(id.get())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if belongs.is_none() {
                        return Err(StoreError::Invalid(postmortem_core::ValidationError::new("factor_ids", format!("factor {factor_id} is not a contributing factor of this incident"))));
                    }
                }
                if let Some(owner) = action.owner {
                    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(owner.get()).fetch_optional(&mut *tx).await?;
                    if exists.is_none() {
                        return Err(StoreError::Invalid(postmortem_core::ValidationError::new("owner", format!("no user with id {owner}"))));
                    }
                }
                let done = !action.status.is_open();
                let action_id: i64 = sqlx::query_scalar("INSERT INTO actions (incident_id, title, owner_id, team, due_on, priority, kind, status, wont_do_reason, external_url, verification, created_at, completed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id")
                    .bind(id.get())
                    .bind(action.title.as_str())
                    .bind(action.owner.map(UserId::get))
                    .bind(action.team.as_ref().map(|t| t.as_str()))
                    .bind(date_text(action.due_on))
                    .bind(action.priority.as_str())
                    .bind(action.kind.as_str())
                    .bind(action.status.as_str())
                    .bind(action.wont_do_reason.as_deref())
                    .bind(action.external_url.as_ref().map(|u| u.as_str()))
                    .bind(action.verification.as_deref())
                    .bind(to_ms(now))
                    .bind(done.then(|| to_ms(now)))
                    .fetch_one(&mut *tx)
                    .await?;
                for factor_id in &action.factor_ids {
                    sqlx::query("INSERT INTO action_factors (action_id, factor_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(action_id)
                        .bind(factor_id.get())
                        .execute(&mut *tx)
                        .await?;
                }
                let item = Self::action_in_tx(&mut tx, ActionId::new(action_id)).await?;
                let details = serde_json::json!({"action_id": action_id, "before": null, "after": action_state(&item)});
                Self::record(&mut tx, now, actor, "action.add", Some(id), "action", "create", details).await?;
                tx.commit().await?;
                Ok(item)
            }

            async fn action(&self, action_id: ActionId) -> Result<Option<ActionItem>> {
                let mut tx = self.reader().begin().await?;
                match Self::action_in_tx(&mut tx, action_id).await {
                    Ok(action) => Ok(Some(action)),
                    Err(StoreError::NotFound(_)) => Ok(None),
                    Err(other) => Err(other),
                }
            }

            async fn update_action(&self, actor: Actor, action_id: ActionId, update: ActionUpdate) -> Result<ActionItem> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before = Self::action_in_tx(&mut tx, action_id).await?;
                let status = update.status.unwrap_or(before.status);
                let reason = update.wont_do_reason.clone().or_else(|| before.wont_do_reason.clone()).filter(|_| status == ActionStatus::WontDo);
                postmortem_core::action::check_reason(status, reason.as_deref())?;
                let owner = update.owner.unwrap_or(before.owner);
                let due_on = update.due_on.unwrap_or(before.due_on);
                let verification = update.verification.clone().or_else(|| before.verification.clone());
                let completed_at = match (before.status.is_open(), status.is_open()) {
                    (true, false) => Some(to_ms(now)),
                    (false, false) => before.completed_at.map(to_ms),
                    (_, true) => None,
                };
                let title = update.title.clone().unwrap_or_else(|| before.title.clone());
                let kind = update.kind.unwrap_or(before.kind);
                let priority = update.priority.unwrap_or(before.priority);
                Self::bump(&mut tx, before.incident_id, now).await?;
                sqlx::query("UPDATE actions SET status = $2, wont_do_reason = $3, owner_id = $4, due_on = $5, verification = $6, completed_at = $7, title = $8, kind = $9, priority = $10 WHERE id = $1")
                    .bind(action_id.get())
                    .bind(status.as_str())
                    .bind(reason.as_deref())
                    .bind(owner.map(UserId::get))
                    .bind(date_text(due_on))
                    .bind(verification.as_deref())
                    .bind(completed_at)
                    .bind(title.as_str())
                    .bind(kind.as_str())
                    .bind(priority.as_str())
                    .execute(&mut *tx)
                    .await?;
                let after = Self::action_in_tx(&mut tx, action_id).await?;
                let details = serde_json::json!({"action_id": action_id.get(), "before": action_state(&before), "after": action_state(&after)});
                Self::record(&mut tx, now, actor, "action.update", Some(before.incident_id), "action", "update", details).await?;
                tx.commit().await?;
                Ok(after)
            }

            async fn list_actions(&self, query: &ActionQuery) -> Result<ActionPage> {
                let today = postmortem_core::format_date(query.today);
                let push_filters = |qb: &mut QueryBuilder<'static, $db>| {
                    push_visibility(qb, query.visibility);
                    if let Some(owner) = query.owner {
                        qb.push(" AND a.owner_id = ").push_bind(owner.get());
                    }
                    if let Some(team) = &query.team {
                        qb.push(" AND a.team = ").push_bind(team.as_str().to_owned());
                    }
                    if let Some(status) = query.status {
                        qb.push(" AND a.status = ").push_bind(status.as_str());
                    }
                    if query.overdue {
                        qb.push(" AND a.status IN ('open', 'in_progress') AND a.due_on < ").push_bind(today.clone());
                    }
                };
                let mut conn = self.reader().acquire().await?;
                let mut count = QueryBuilder::<'static, $db>::new("SELECT COUNT(*) FROM actions a JOIN incidents i ON i.id = a.incident_id WHERE 1 = 1");
                push_filters(&mut count);
                let total: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT {ACTION_COLUMNS}, i.title AS incident_title, u.handle AS owner_handle FROM actions a JOIN incidents i ON i.id = a.incident_id LEFT JOIN users u ON u.id = a.owner_id WHERE 1 = 1"
                ));
                push_filters(&mut qb);
                qb.push(match query.sort {
                    ActionSort::DueFirst => " ORDER BY (a.due_on IS NULL), a.due_on, a.id",
                    ActionSort::RecentlyCompleted => " ORDER BY (a.completed_at IS NULL), a.completed_at DESC, a.id DESC",
                });
                qb.push(" LIMIT ").push_bind(query.limit.clamp(1, 500)).push(" OFFSET ").push_bind(query.offset.max(0));
                let rows = qb.build().fetch_all(&mut *conn).await?;
                let mut items = Vec::with_capacity(rows.len());
                for row in &rows {
                    let action = action_from_row(row)?;
                    let overdue = action.is_overdue(query.today);
                    items.push(ActionListItem {
                        incident_title: row.try_get("incident_title")?,
                        owner_handle: row.try_get("owner_handle")?,
                        overdue,
                        action,
                    });
                }
                if !items.is_empty() {
                    let mut links = QueryBuilder::<'static, $db>::new("SELECT action_id, factor_id FROM action_factors WHERE action_id IN (");
                    let mut separated = links.separated(", ");
                    for item in &items {
                        separated.push_bind(item.action.id.get());
                    }
                    links.push(") ORDER BY factor_id");
                    for link in links.build().fetch_all(&mut *conn).await? {
                        let action_id: i64 = link.try_get("action_id")?;
                        if let Some(item) = items.iter_mut().find(|i| i.action.id.get() == action_id) {
                            item.action.factor_ids.push(FactorId::new(link.try_get("factor_id")?));
                        }
                    }
                }
                Ok(ActionPage { items, total })
            }

            async fn owed_postmortems(&self, visibility: Visibility) -> Result<Vec<IncidentSummary>> {
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.pm_status IN ('owed', 'draft', 'in_review', 'changes_requested', 'approved')"
                ));
                push_visibility(&mut qb, visibility);
                qb.push(" ORDER BY (i.pm_due_on IS NULL), i.pm_due_on, i.id LIMIT 1000");
                self.summaries(qb).await
            }

            async fn personal_incidents(&self, person: UserId, visibility: Visibility) -> Result<PersonalIncidents> {
                let statuses = |list: &str| format!("SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.pm_status IN ({list})");
                let mut asked = QueryBuilder::<'static, $db>::new(statuses("'in_review'"));
                asked.push(" AND EXISTS (SELECT 1 FROM reviews r WHERE r.incident_id = i.id AND r.decision = 'requested' AND r.reviewer_id = ")
                    .push_bind(person.get())
                    .push(")");
                push_visibility(&mut asked, visibility);
                asked.push(" ORDER BY i.updated_at, i.id LIMIT 50");
                let mut drafts = QueryBuilder::<'static, $db>::new(statuses("'draft', 'changes_requested'"));
                drafts.push(" AND (i.created_by = ")
                    .push_bind(person.get())
                    // From the person's own edits (an index), not a test of every draft.
                    .push(" OR i.id IN (SELECT s.incident_id FROM sections s WHERE s.updated_by = ")
                    .push_bind(person.get())
                    .push("))");
                push_visibility(&mut drafts, visibility);
                drafts.push(" ORDER BY i.updated_at DESC, i.id DESC LIMIT 50");
                // Someone in no team and named on no incident has only the incidents they
                // recorded: found from those (an index) rather than by testing each published
                // incident for a membership they do not have.
                let memberships: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM team_members WHERE user_id = $1 UNION ALL SELECT 1 FROM incident_members WHERE user_id = $1 LIMIT 1) AS any_membership",
                )
                .bind(person.get())
                .fetch_one(self.reader())
                .await?;
                let push_theirs = |qb: &mut QueryBuilder<'static, $db>| {
                    qb.push(" AND ");
                    if memberships > 0 {
                        push_membership(qb, person);
                    } else {
                        qb.push("i.id IN (SELECT c.id FROM incidents c WHERE c.created_by = ").push_bind(person.get()).push(")");
                    }
                };
                let mut owed = QueryBuilder::<'static, $db>::new(statuses("'owed', 'draft', 'changes_requested'"));
                push_theirs(&mut owed);
                push_visibility(&mut owed, visibility);
                owed.push(" ORDER BY (i.pm_due_on IS NULL), i.pm_due_on, i.id LIMIT 100");
                let mut published = QueryBuilder::<'static, $db>::new(statuses("'published'"));
                push_theirs(&mut published);
                push_visibility(&mut published, visibility);
                published.push(" ORDER BY i.pm_published_at DESC, i.id DESC LIMIT 10");
                Ok(PersonalIncidents {
                    review_requests: self.summaries(asked).await?,
                    drafts: self.summaries(drafts).await?,
                    owed: self.summaries(owed).await?,
                    recently_published: self.summaries(published).await?,
                })
            }

            /// Runs a query for incident rows and returns them as summaries with their
            /// services and teams.
            async fn summaries(&self, mut qb: QueryBuilder<'static, $db>) -> Result<Vec<IncidentSummary>> {
                let mut conn = self.reader().acquire().await?;
                let rows = qb.build().fetch_all(&mut *conn).await?;
                let incident_rows = rows.iter().map(incident_from_row).collect::<Result<Vec<_>>>()?;
                let ids: Vec<i64> = incident_rows.iter().map(|r| r.incident.id.get()).collect();
                let mut services = Self::names_of(&mut conn, "incident_services", &ids).await?;
                let mut teams = Self::names_of(&mut conn, "incident_teams", &ids).await?;
                Ok(incident_rows
                    .into_iter()
                    .map(|row| {
                        let mut incident = row.incident;
                        incident.services = services.remove(&incident.id.get()).unwrap_or_default();
                        incident.teams = teams.remove(&incident.id.get()).unwrap_or_default();
                        IncidentSummary { incident, status: row.status, template: row.template, due_on: row.due_on }
                    })
                    .collect())
            }

            async fn follow_through_facts(
                &self,
                visibility: Visibility,
            ) -> Result<(Vec<postmortem_core::figures::ActionFact>, Vec<postmortem_core::figures::PublicationFact>)> {
                let mut conn = self.reader().acquire().await?;
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT a.team, a.status, a.due_on, a.created_at, a.completed_at FROM actions a JOIN incidents i ON i.id = a.incident_id WHERE 1 = 1");
                push_visibility(&mut qb, visibility);
                let mut actions = Vec::new();
                for row in qb.build().fetch_all(&mut *conn).await? {
                    actions.push(postmortem_core::figures::ActionFact {
                        team: row.try_get::<Option<String>, _>("team")?.map(|t| stored(Name::parse_field("team", t))).transpose()?,
                        status: stored(ActionStatus::parse(&row.try_get::<String, _>("status")?))?,
                        due_on: parse_date(row.try_get("due_on")?)?,
                        created_at: from_ms(row.try_get("created_at")?)?,
                        completed_at: row.try_get::<Option<i64>, _>("completed_at")?.map(from_ms).transpose()?,
                    });
                }
                let mut qb = QueryBuilder::<'static, $db>::new(
                    "SELECT i.id, i.pm_published_at, (SELECT MIN(t.at) FROM timeline_entries t WHERE t.incident_id = i.id AND t.marker = 'resolved') AS resolved_at FROM incidents i WHERE 1 = 1",
                );
                push_visibility(&mut qb, visibility);
                let rows = qb.build().fetch_all(&mut *conn).await?;
                let ids: Vec<i64> = rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<_, _>>()?;
                let mut teams = HashMap::new();
                for chunk in ids.chunks(5_000) {
                    teams.extend(Self::names_of(&mut conn, "incident_teams", chunk).await?);
                }
                let mut publications = Vec::with_capacity(rows.len());
                for row in &rows {
                    let id: i64 = row.try_get("id")?;
                    publications.push(postmortem_core::figures::PublicationFact {
                        teams: teams.remove(&id).unwrap_or_default(),
                        resolved_at: row.try_get::<Option<i64>, _>("resolved_at")?.map(from_ms).transpose()?,
                        published_at: row.try_get::<Option<i64>, _>("pm_published_at")?.map(from_ms).transpose()?,
                    });
                }
                Ok((actions, publications))
            }
        }
    };
}
