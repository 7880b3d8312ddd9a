//! The SQL implementation of [`crate::Store`], written once and instantiated for each backend.
//!
//! SQLite and PostgreSQL both accept `$1`-style placeholders, `RETURNING`, `ON CONFLICT` and
//! row-value comparisons, and the schema stores the same primitive types in both (BIGINT
//! keys, millisecond instants, text dates), so one body of statements serves both. The macro
//! exists because sqlx's generic executor bounds would make a generic implementation far
//! harder to read than the SQL it runs; backend-specific steps live in `sqlite.rs` and
//! `postgres.rs` as `lock_for_import`/`after_import`.

macro_rules! impl_store {
    ($store:ident, $db:ty, $backend:expr) => {
        use crate::rows::{
            date_text, from_ms, from_ms_offset, offset_seconds, parse_date, rfc3339, severity,
            stored, to_ms,
        };
        use crate::*;
        use postmortem_core::{
            ActionKind, ActionStatus, CommentId, DisplayName, FactorCategory, FactorId, Impact,
            Incident, IncidentKind, Marker, Name, Perspective, Postmortem, Priority, Review,
            ReviewId, Role, Section, Source, TemplateName, TimelineEntryId, Title, WebLink,
        };
        use sqlx::{QueryBuilder, Row as _};
        use std::collections::{BTreeMap, HashMap};
        use time::OffsetDateTime;

        type Tx = sqlx::Transaction<'static, $db>;
        type DbRow = <$db as sqlx::Database>::Row;
        type Separated<'qb> = sqlx::query_builder::Separated<'qb, 'static, $db, &'static str>;

        const INCIDENT_COLUMNS: &str = "i.id, i.title, i.kind, i.severity, i.started_at, \
            i.started_offset, i.user_visible, i.customer_minutes, i.customers_affected, \
            i.data_loss, i.manual_intervention, i.restricted, i.created_by, i.created_at, \
            i.updated_at, i.version, i.pm_template, i.pm_status, i.pm_due_on, i.sort_at, \
            i.pm_decision, i.pm_reasons";

        const USER_COLUMNS: &str = "u.id, u.handle, u.display_name, u.role, u.created_at";
        const TEAM_COLUMNS: &str = "t.name, t.display_name, t.created_at";

        const TOKEN_COLUMNS: &str = "t.id, t.user_id, t.label, t.created_at, t.expires_at, t.revoked_at";

        fn token_from_row(row: &DbRow) -> Result<ApiToken> {
            Ok(ApiToken {
                id: row.try_get("id")?,
                user_id: UserId::new(row.try_get("user_id")?),
                label: row.try_get("label")?,
                created_at: from_ms(row.try_get("created_at")?)?,
                expires_at: row.try_get::<Option<i64>, _>("expires_at")?.map(from_ms).transpose()?,
                revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(from_ms).transpose()?,
            })
        }

        /// An incident row before its services and teams are attached.
        struct IncidentRow {
            incident: Incident,
            template: TemplateName,
            status: PostmortemStatus,
            due_on: Option<time::Date>,
            sort_at: i64,
            decision: Option<PolicyDecision>,
        }

        fn user_from_row(row: &DbRow) -> Result<User> {
            Ok(User {
                id: UserId::new(row.try_get("id")?),
                handle: stored(Handle::parse(row.try_get::<String, _>("handle")?))?,
                display_name: stored(DisplayName::parse(row.try_get::<String, _>("display_name")?))?,
                role: stored(Role::parse(&row.try_get::<String, _>("role")?))?,
                created_at: from_ms(row.try_get("created_at")?)?,
            })
        }

        fn team_from_row(row: &DbRow) -> Result<Team> {
            Ok(Team {
                name: stored(TeamName::parse(row.try_get::<String, _>("name")?))?,
                display_name: stored(DisplayName::parse(row.try_get::<String, _>("display_name")?))?,
                created_at: from_ms(row.try_get("created_at")?)?,
            })
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
                title: stored(Title::parse(row.try_get::<String, _>("title")?))?,
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

        fn timeline_from_row(row: &DbRow) -> Result<TimelineEntry> {
            Ok(TimelineEntry {
                id: TimelineEntryId::new(row.try_get("id")?),
                incident_id: IncidentId::new(row.try_get("incident_id")?),
                at: from_ms_offset(row.try_get("at")?, row.try_get("at_offset")?)?,
                text: stored(Markdown::parse(row.try_get::<String, _>("body")?))?,
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
                description: stored(Markdown::parse(row.try_get::<String, _>("description")?))?,
                is_trigger: row.try_get("is_trigger")?,
            })
        }

        const ACTION_COLUMNS: &str = "a.id, a.incident_id, a.title, a.owner_id, a.team, \
            a.due_on, a.priority, a.kind, a.status, a.wont_do_reason, a.external_url, \
            a.verification, a.created_at, a.completed_at";

        fn action_from_row(row: &DbRow) -> Result<ActionItem> {
            Ok(ActionItem {
                id: ActionId::new(row.try_get("id")?),
                incident_id: IncidentId::new(row.try_get("incident_id")?),
                title: stored(Title::parse_field("title", row.try_get::<String, _>("title")?))?,
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

        const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, w.url, d.event, d.payload, d.attempts, \
            d.status, d.response_code, d.error, d.created_at, d.next_attempt_at, d.delivered_at";

        fn delivery_from_row(row: &DbRow) -> Result<WebhookDelivery> {
            let status: String = row.try_get("status")?;
            Ok(WebhookDelivery {
                id: row.try_get("id")?,
                webhook_id: row.try_get("webhook_id")?,
                url: row.try_get("url")?,
                event: row.try_get("event")?,
                payload: row.try_get("payload")?,
                attempts: row.try_get("attempts")?,
                status: DeliveryStatus::parse(&status).ok_or_else(|| StoreError::corrupt(format!("delivery status `{status}`")))?,
                response_code: row.try_get("response_code")?,
                error: row.try_get("error")?,
                created_at: from_ms(row.try_get("created_at")?)?,
                next_attempt_at: row.try_get::<Option<i64>, _>("next_attempt_at")?.map(from_ms).transpose()?,
                delivered_at: row.try_get::<Option<i64>, _>("delivered_at")?.map(from_ms).transpose()?,
            })
        }

        fn webhook_events(raw: &str) -> Result<Vec<String>> {
            serde_json::from_str(raw).map_err(|e| StoreError::corrupt(format!("webhook events `{raw}`: {e}")))
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

        /// Checks an audit action filter: `kind` or `kind.verb`, lowercase letters and `_`.
        fn parse_audit_action(raw: &str) -> Result<&str> {
            let raw = raw.trim();
            let word = |w: &str| !w.is_empty() && w.len() <= 32 && w.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            let valid = match raw.split_once('.') {
                Some((kind, verb)) => word(kind) && word(verb),
                None => word(raw),
            };
            if valid {
                Ok(raw)
            } else {
                Err(postmortem_core::ValidationError::new("action", format!("`{raw}` is not an action; give a kind such as `section` or an action such as `section.save`")).into())
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
            /// Inserts a person, and the identity-provider account they sign in with when
            /// there is one, and records both in the audit log as one `user.create` event.
            async fn insert_user(
                tx: &mut Tx,
                now: OffsetDateTime,
                actor: Actor,
                user: NewUser,
                identity: Option<&ExternalIdentity>,
            ) -> Result<User> {
                let id: i64 = sqlx::query_scalar("INSERT INTO users (handle, display_name, role, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(user.handle.as_str())
                    .bind(user.display_name.as_str())
                    .bind(user.role.as_str())
                    .bind(user.password_hash.as_deref())
                    .bind(to_ms(now))
                    .fetch_one(&mut **tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || format!("the handle `{}` is taken", user.handle)))?;
                // Whether a password was set, never the hash.
                let mut details = serde_json::json!({"user_id": id, "before": null, "after": {
                    "handle": user.handle.as_str(), "display_name": user.display_name.as_str(), "role": user.role.as_str(),
                    "password_set": user.password_hash.is_some(),
                }});
                if let Some(identity) = identity {
                    sqlx::query("INSERT INTO external_identities (issuer, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(&identity.issuer)
                        .bind(&identity.subject)
                        .bind(id)
                        .bind(identity.email.as_deref())
                        .bind(to_ms(now))
                        .execute(&mut **tx)
                        .await
                        .map_err(|e| StoreError::or_duplicate(e, || format!("the identity `{}` of {} already belongs to an account", identity.subject, identity.issuer)))?;
                    details["after"]["identity"] = serde_json::json!({"issuer": identity.issuer, "subject": identity.subject, "email": identity.email});
                }
                Self::record(tx, now, actor, "user.create", None, "user", "create", details).await?;
                Ok(User { id: UserId::new(id), handle: user.handle, display_name: user.display_name, role: user.role, created_at: from_ms(to_ms(now))? })
            }

            /// The user a secret (API token or session) belongs to, while it is live. `from_where`
            /// joins the secret's table to `users u` and filters on `$1` (the hash) and `$2` (now).
            async fn user_by_live_secret(&self, from_where: &str, secret_hash: &str) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} {from_where}"))
                    .bind(secret_hash)
                    .bind(to_ms(self.clock.now()))
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }


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
                .bind(actor.0.ok_or(StoreError::NotFound("user"))?.get())
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

            /// Appends the audit event and the change-feed row of a write, inside its
            /// transaction, and returns the change's sequence number.
            #[allow(clippy::too_many_arguments)]
            async fn record(
                tx: &mut Tx,
                now: OffsetDateTime,
                actor: Actor,
                action: &str,
                incident: Option<IncidentId>,
                entity: &str,
                op: &str,
                details: serde_json::Value,
            ) -> Result<i64> {
                sqlx::query("INSERT INTO audit_events (at, actor_id, action, incident_id, details) VALUES ($1, $2, $3, $4, $5)")
                    .bind(to_ms(now))
                    .bind(actor.0.map(UserId::get))
                    .bind(action)
                    .bind(incident.map(IncidentId::get))
                    .bind(details.to_string())
                    .execute(&mut **tx)
                    .await?;
                let seq = Self::next_seq(tx, 1).await?;
                sqlx::query("INSERT INTO change_feed (seq, at, incident_id, entity, op) VALUES ($1, $2, $3, $4, $5)")
                    .bind(seq)
                    .bind(to_ms(now))
                    .bind(incident.map(IncidentId::get))
                    .bind(entity)
                    .bind(op)
                    .execute(&mut **tx)
                    .await?;
                Ok(seq)
            }

            /// Reserves `n` sequence numbers and returns the last. The counter row's lock
            /// makes concurrent writers commit their feed rows in sequence order.
            async fn next_seq(tx: &mut Tx, n: i64) -> Result<i64> {
                Ok(sqlx::query_scalar("UPDATE feed_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq")
                    .bind(n)
                    .fetch_one(&mut **tx)
                    .await?)
            }

            /// Adds (`INSERT`) or removes (`DELETE`) a team member in one audited transaction.
            async fn change_team_member(&self, actor: Actor, team: &TeamName, user: UserId, statement: &str, action: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let exists: Option<String> = sqlx::query_scalar("SELECT name FROM teams WHERE name = $1")
                    .bind(team.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::NotFound("team"));
                }
                let changed = sqlx::query(statement)
                    .bind(team.as_str())
                    .bind(user.get())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => StoreError::NotFound("user"),
                        _ => StoreError::Database(e),
                    })?;
                if changed.rows_affected() > 0 {
                    // Readers of restricted incidents that name the team change with it, so
                    // followers (the search index, its caches) hear of it through the feed.
                    let details = serde_json::json!({"team": team.as_str(), "user_id": user.get()});
                    Self::record(&mut tx, now, actor, action, None, "team", "update", details).await?;
                }
                tx.commit().await?;
                Ok(())
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
                        body: stored(Markdown::parse(row.try_get::<String, _>("body")?))?,
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
                            body: stored(Markdown::parse(row.try_get::<String, _>("body")?))?,
                            resolved: row.try_get("resolved")?,
                            created_at: from_ms(row.try_get("created_at")?)?,
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
                Ok(Some(IncidentRecord { incident, postmortem, decision, timeline, factors, actions, reviews, comments, members }))
            }

            /// Queues one delivery per active webhook that wants `event`, inside a write.
            async fn enqueue_in_tx(tx: &mut Tx, now: OffsetDateTime, event: &str, payload_json: &str) -> Result<i64> {
                // The body is signed and sent as it is stored, so it must already be JSON.
                serde_json::from_str::<serde::de::IgnoredAny>(payload_json).map_err(|e| {
                    StoreError::Invalid(postmortem_core::ValidationError::new("payload", format!("must be JSON: {e}")))
                })?;
                let mut wanted = Vec::new();
                for row in sqlx::query("SELECT id, events FROM webhooks WHERE active = $1 ORDER BY id")
                    .bind(true)
                    .fetch_all(&mut **tx)
                    .await?
                {
                    let events = webhook_events(&row.try_get::<String, _>("events")?)?;
                    if events.iter().any(|e| e == event || e == "*") {
                        wanted.push(row.try_get::<i64, _>("id")?);
                    }
                }
                for webhook_id in &wanted {
                    sqlx::query("INSERT INTO webhook_deliveries (webhook_id, event, payload, attempts, status, created_at, next_attempt_at) VALUES ($1, $2, $3, 0, $4, $5, $5)")
                        .bind(webhook_id)
                        .bind(event)
                        .bind(payload_json)
                        .bind(DeliveryStatus::Pending.as_str())
                        .bind(to_ms(now))
                        .execute(&mut **tx)
                        .await?;
                }
                let count = i64::try_from(wanted.len()).unwrap_or(i64::MAX);
                if count > 0 {
                    let details = serde_json::json!({"before": null, "after": {"event": event, "webhook_ids": wanted}});
                    Self::record(tx, now, Actor::SYSTEM, "webhook.enqueue", None, "delivery", "create", details).await?;
                }
                Ok(count)
            }

            /// Inserts a reminder key unless some node did before; true when this call did.
            async fn claim_in_tx(tx: &mut Tx, key: &str, now: OffsetDateTime) -> Result<bool> {
                let inserted = sqlx::query("INSERT INTO reminders_sent (reminder_key, sent_at) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(key)
                    .bind(to_ms(now))
                    .execute(&mut **tx)
                    .await?;
                if inserted.rows_affected() == 0 {
                    return Ok(false);
                }
                Self::record(tx, now, Actor::SYSTEM, "reminder.claim", None, "reminder", "create", serde_json::json!({"before": null, "after": {"key": key}})).await?;
                Ok(true)
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
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            fn now(&self) -> OffsetDateTime {
                self.clock.now()
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn create_user(&self, actor: Actor, user: NewUser) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let created = Self::insert_user(&mut tx, now, actor, user, None).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn count_users(&self) -> Result<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.reader()).await?)
            }

            async fn user(&self, id: UserId) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                    .bind(id.get())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn user_by_handle(&self, handle: &Handle) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn users(&self) -> Result<Vec<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.handle"))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn credentials(&self, handle: &Handle) -> Result<Option<(User, Option<String>)>> {
                let row = sqlx::query(&format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.handle = $1"))
                    .bind(handle.as_str())
                    .fetch_optional(self.reader())
                    .await?;
                row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?))).transpose()
            }

            async fn set_password_hash(&self, actor: Actor, user: UserId, hash: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let had_password: bool = sqlx::query_scalar("SELECT password_hash IS NOT NULL FROM users WHERE id = $1")
                    .bind(user.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?;
                sqlx::query("UPDATE users SET password_hash = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                // That the password changed, never either hash.
                let details = serde_json::json!({"user_id": user.get(), "before": {"password_set": had_password}, "after": {"password_set": true, "password_changed": true}});
                Self::record(&mut tx, now, actor, "user.password", None, "user", "update", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn create_api_token(&self, actor: Actor, token: NewApiToken) -> Result<i64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let id: i64 = sqlx::query_scalar("INSERT INTO api_tokens (user_id, token_hash, label, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(token.user_id.get())
                    .bind(&token.token_hash)
                    .bind(&token.label)
                    .bind(to_ms(now))
                    .bind(token.expires_at.map(to_ms))
                    .fetch_one(&mut *tx)
                    .await?;
                // What the token is for and until when, never its hash.
                let details = serde_json::json!({"token_id": id, "before": null, "after": {
                    "user_id": token.user_id.get(), "label": token.label, "expires_at": token.expires_at.map(rfc3339),
                }});
                Self::record(&mut tx, now, actor, "token.create", None, "token", "create", details).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn user_by_token_hash(&self, token_hash: &str) -> Result<Option<User>> {
                self.user_by_live_secret(
                    "FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $2)",
                    token_hash,
                )
                .await
            }

            async fn create_session(&self, session: NewSession) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(to_ms(now)).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO sessions (session_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
                    .bind(&session.session_hash)
                    .bind(session.user_id.get())
                    .bind(to_ms(now))
                    .bind(to_ms(session.expires_at))
                    .execute(&mut *tx)
                    .await?;
                // Who signed in and until when, never the session id or its hash.
                let details = serde_json::json!({"before": null, "after": {"user_id": session.user_id.get(), "expires_at": rfc3339(session.expires_at)}});
                Self::record(&mut tx, now, Actor::user(session.user_id), "session.create", None, "session", "create", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn user_by_session_hash(&self, session_hash: &str) -> Result<Option<User>> {
                self.user_by_live_secret(
                    "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.session_hash = $1 AND s.expires_at > $2",
                    session_hash,
                )
                .await
            }

            async fn delete_session(&self, session_hash: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let signed_out: Option<i64> = sqlx::query_scalar("DELETE FROM sessions WHERE session_hash = $1 RETURNING user_id")
                    .bind(session_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(user_id) = signed_out {
                    let details = serde_json::json!({"before": {"user_id": user_id}, "after": null});
                    Self::record(&mut tx, now, Actor::user(UserId::new(user_id)), "session.delete", None, "session", "delete", details).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn save_pending_sign_in(&self, pending: PendingSignIn) -> Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("DELETE FROM oidc_sign_ins WHERE expires_at <= $1").bind(to_ms(self.clock.now())).execute(&mut *tx).await?;
                sqlx::query("INSERT INTO oidc_sign_ins (state_hash, nonce, pkce_verifier, next_path, expires_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&pending.state_hash)
                    .bind(&pending.nonce)
                    .bind(&pending.pkce_verifier)
                    .bind(&pending.next_path)
                    .bind(to_ms(pending.expires_at))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || "this sign-in has already started".to_owned()))?;
                tx.commit().await?;
                Ok(())
            }

            async fn take_pending_sign_in(&self, state_hash: &str) -> Result<Option<PendingSignIn>> {
                let row = sqlx::query("DELETE FROM oidc_sign_ins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, next_path, expires_at")
                    .bind(state_hash)
                    .fetch_optional(self.writer())
                    .await?;
                let Some(row) = row else { return Ok(None) };
                let expires_at = from_ms(row.try_get("expires_at")?)?;
                if expires_at <= self.clock.now() {
                    return Ok(None);
                }
                Ok(Some(PendingSignIn {
                    state_hash: state_hash.to_owned(),
                    nonce: row.try_get("nonce")?,
                    pkce_verifier: row.try_get("pkce_verifier")?,
                    next_path: row.try_get("next_path")?,
                    expires_at,
                }))
            }

            async fn user_by_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM external_identities x JOIN users u ON u.id = x.user_id WHERE x.issuer = $1 AND x.subject = $2"))
                    .bind(issuer)
                    .bind(subject)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()
            }

            async fn create_user_with_identity(&self, actor: Actor, user: NewUser, identity: ExternalIdentity) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let created = Self::insert_user(&mut tx, now, actor, user, Some(&identity)).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn api_tokens(&self, owner: Option<UserId>) -> Result<Vec<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE $1 IS NULL OR t.user_id = $1 ORDER BY t.id DESC"))
                    .bind(owner.map(UserId::get))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(token_from_row)
                    .collect()
            }

            async fn api_token(&self, id: i64) -> Result<Option<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.id = $1"))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(token_from_row)
                    .transpose()
            }

            async fn api_token_by_hash(&self, token_hash: &str) -> Result<Option<ApiToken>> {
                sqlx::query(&format!("SELECT {TOKEN_COLUMNS} FROM api_tokens t WHERE t.token_hash = $1"))
                    .bind(token_hash)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(token_from_row)
                    .transpose()
            }

            async fn revoke_api_token(&self, actor: Actor, id: i64) -> Result<ApiToken> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query(&format!("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1 RETURNING {}", TOKEN_COLUMNS.replace("t.", "")))
                    .bind(id)
                    .bind(to_ms(now))
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("token"))?;
                let token = token_from_row(&row)?;
                // The label and state, never the hash.
                let details = serde_json::json!({"token_id": id, "user_id": token.user_id.get(), "before": {"label": token.label, "revoked": false}, "after": {"label": token.label, "revoked": true}});
                Self::record(&mut tx, now, actor, "token.revoke", None, "token", "update", details).await?;
                tx.commit().await?;
                Ok(token)
            }

            async fn login_locked_until(&self, subject: &str) -> Result<Option<OffsetDateTime>> {
                let until: Option<Option<i64>> = sqlx::query_scalar("SELECT locked_until FROM login_failures WHERE subject = $1 AND locked_until > $2")
                    .bind(subject)
                    .bind(to_ms(self.clock.now()))
                    .fetch_optional(self.reader())
                    .await?;
                until.flatten().map(from_ms).transpose()
            }

            async fn record_login_failure(&self, subject: &str, policy: &LockoutPolicy) -> Result<Option<OffsetDateTime>> {
                let now = self.clock.now();
                let forget_before = to_ms(now - policy.forget_after);
                let mut tx = self.writer().begin().await?;
                // Old failures of every subject go, so the table holds only recent ones.
                sqlx::query("DELETE FROM login_failures WHERE last_failure_at < $1 AND (locked_until IS NULL OR locked_until < $2)")
                    .bind(forget_before)
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await?;
                // The upsert locks the subject's row, so concurrent failures on several nodes
                // each count once.
                let failures: i64 = sqlx::query_scalar(
                    "INSERT INTO login_failures (subject, failures, last_failure_at) VALUES ($1, 1, $2) \
                     ON CONFLICT (subject) DO UPDATE SET failures = login_failures.failures + 1, last_failure_at = $2 \
                     RETURNING failures",
                )
                .bind(subject)
                .bind(to_ms(now))
                .fetch_one(&mut *tx)
                .await?;
                let locked_until = policy.lockout_after(failures).map(|lockout| now + lockout);
                if let Some(until) = locked_until {
                    sqlx::query("UPDATE login_failures SET locked_until = $2 WHERE subject = $1")
                        .bind(subject)
                        .bind(to_ms(until))
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                locked_until.map(|until| from_ms(to_ms(until))).transpose()
            }

            async fn clear_login_failures(&self, subject: &str) -> Result<()> {
                sqlx::query("DELETE FROM login_failures WHERE subject = $1").bind(subject).execute(self.writer()).await?;
                Ok(())
            }

            async fn set_role(&self, actor: Actor, user: UserId, role: Role) -> Result<User> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                // Lock the admins' rows first (a no-op update, valid in both backends): on
                // PostgreSQL two admins demoting each other at once would otherwise both see
                // another admin left.
                sqlx::query("UPDATE users SET role = role WHERE role = $1")
                    .bind(Role::Admin.as_str())
                    .execute(&mut *tx)
                    .await?;
                let before = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"))
                    .bind(user.get())
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(user_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("user"))?;
                if before.role == Role::Admin && role != Role::Admin {
                    let admins: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = $1")
                        .bind(Role::Admin.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                    if admins <= 1 {
                        return Err(StoreError::Invalid(postmortem_core::ValidationError::new(
                            "role",
                            format!("`{}` is the last admin; make someone else an admin first", before.handle),
                        )));
                    }
                }
                sqlx::query("UPDATE users SET role = $2 WHERE id = $1")
                    .bind(user.get())
                    .bind(role.as_str())
                    .execute(&mut *tx)
                    .await?;
                let details = serde_json::json!({"user_id": user.get(), "before": {"role": before.role.as_str()}, "after": {"role": role.as_str()}});
                Self::record(&mut tx, now, actor, "user.role", None, "user", "update", details).await?;
                tx.commit().await?;
                Ok(User { role, ..before })
            }

            async fn create_team(&self, actor: Actor, team: NewTeam) -> Result<Team> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                sqlx::query("INSERT INTO teams (name, display_name, created_at) VALUES ($1, $2, $3)")
                    .bind(team.name.as_str())
                    .bind(team.display_name.as_str())
                    .bind(to_ms(now))
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || format!("the team `{}` exists already", team.name)))?;
                let details = serde_json::json!({"after": {"team": team.name.as_str(), "display_name": team.display_name.as_str()}});
                Self::record(&mut tx, now, actor, "team.create", None, "team", "create", details).await?;
                tx.commit().await?;
                Ok(Team { name: team.name, display_name: team.display_name, created_at: from_ms(to_ms(now))? })
            }

            async fn teams(&self) -> Result<Vec<Team>> {
                sqlx::query(&format!("SELECT {TEAM_COLUMNS} FROM teams t ORDER BY t.name"))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(team_from_row)
                    .collect()
            }

            async fn team(&self, name: &TeamName) -> Result<Option<Team>> {
                sqlx::query(&format!("SELECT {TEAM_COLUMNS} FROM teams t WHERE t.name = $1"))
                    .bind(name.as_str())
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(team_from_row)
                    .transpose()
            }

            async fn team_members(&self, name: &TeamName) -> Result<Vec<User>> {
                sqlx::query(&format!("SELECT {USER_COLUMNS} FROM team_members tm JOIN users u ON u.id = tm.user_id WHERE tm.team = $1 ORDER BY u.handle"))
                    .bind(name.as_str())
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(user_from_row)
                    .collect()
            }

            async fn teams_of(&self, user: UserId) -> Result<Vec<TeamName>> {
                sqlx::query_scalar::<_, String>("SELECT team FROM team_members WHERE user_id = $1 ORDER BY team")
                    .bind(user.get())
                    .fetch_all(self.reader())
                    .await?
                    .into_iter()
                    .map(|name| stored(TeamName::parse(name)))
                    .collect()
            }

            async fn add_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()> {
                self.change_team_member(actor, team, user, "INSERT INTO team_members (team, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", "team.member.add").await
            }

            async fn remove_team_member(&self, actor: Actor, team: &TeamName, user: UserId) -> Result<()> {
                self.change_team_member(actor, team, user, "DELETE FROM team_members WHERE team = $1 AND user_id = $2", "team.member.remove").await
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

            async fn import_bundles(&self, bundles: &[IncidentBundle]) -> Result<Vec<IncidentId>> {
                if bundles.is_empty() {
                    return Ok(Vec::new());
                }
                let now = self.clock.now();
                let now_ms = to_ms(now);
                let mut tx = self.writer().begin().await?;
                Self::lock_for_import(&mut tx).await?;
                let mut user_ids = HashMap::new();
                for row in sqlx::query("SELECT id, handle FROM users").fetch_all(&mut *tx).await? {
                    user_ids.insert(row.try_get::<String, _>("handle")?, row.try_get::<i64, _>("id")?);
                }
                let resolve = |handle: &Handle| -> Result<i64> {
                    user_ids.get(handle.as_str()).copied().ok_or_else(|| {
                        StoreError::Invalid(postmortem_core::ValidationError::new("handle", format!("no user `{handle}` exists; create people before importing incidents that name them")))
                    })
                };
                let mut next_id = HashMap::new();
                for table in ["incidents", "timeline_entries", "factors", "actions", "reviews"] {
                    let max: Option<i64> = sqlx::query_scalar(&format!("SELECT MAX(id) FROM {table}")).fetch_one(&mut *tx).await?;
                    next_id.insert(table, max.unwrap_or(0));
                }
                let mut take = |table: &'static str| -> i64 {
                    let id = next_id.get_mut(table).expect("every imported table has a counter");
                    *id += 1;
                    *id
                };

                type IncidentValues = (i64, String, &'static str, i64, Option<i64>, Option<i64>, i64, bool, i64, i64, bool, bool, bool, i64, i64, String, &'static str, Option<String>, Option<i64>);
                let mut incidents: Vec<IncidentValues> = Vec::with_capacity(bundles.len());
                let mut names: Vec<(&'static str, i64, String)> = Vec::new();
                let mut sections: Vec<(i64, String, String, i64, i64, i64)> = Vec::new();
                let mut timeline: Vec<(i64, i64, i64, i64, String, i64, Option<String>, Option<&'static str>, &'static str, &'static str, Option<String>, i64)> = Vec::new();
                let mut factors: Vec<(i64, i64, &'static str, String, bool)> = Vec::new();
                let mut actions: Vec<(i64, i64, String, Option<i64>, Option<String>, Option<String>, &'static str, &'static str, &'static str, Option<String>, Option<String>, Option<String>, i64, Option<i64>)> = Vec::new();
                let mut links: Vec<(i64, i64)> = Vec::new();
                let mut reviews: Vec<(i64, i64, i64, &'static str, Option<String>, i64)> = Vec::new();
                let mut ids = Vec::with_capacity(bundles.len());

                for bundle in bundles {
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
                    ));
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

                insert_rows(&mut tx, "INSERT INTO incidents (id, title, kind, severity, started_at, started_offset, sort_at, user_visible, customer_minutes, customers_affected, data_loss, manual_intervention, restricted, created_by, created_at, updated_at, version, pm_template, pm_status, pm_due_on, pm_published_at) ", 21, &incidents, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1.clone()).push_bind(r.2).push_bind(r.3).push_bind(r.4).push_bind(r.5).push_bind(r.6)
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9).push_bind(r.10).push_bind(r.11).push_bind(r.12).push_bind(r.13)
                        .push_bind(r.14).push_bind(r.14).push_bind(1_i64).push_bind(r.15.clone()).push_bind(r.16).push_bind(r.17.clone()).push_bind(r.18);
                }).await?;
                for table in ["incident_services", "incident_teams"] {
                    let rows: Vec<_> = names.iter().filter(|n| n.0 == table).collect();
                    let head = if table == "incident_services" { "INSERT INTO incident_services (incident_id, name) " } else { "INSERT INTO incident_teams (incident_id, name) " };
                    insert_rows(&mut tx, head, 2, &rows, |mut b, r| {
                        b.push_bind(r.1).push_bind(r.2.clone());
                    }).await?;
                }
                insert_rows(&mut tx, "INSERT INTO sections (incident_id, name, body, version, updated_by, updated_at) ", 6, &sections, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1.clone()).push_bind(r.2.clone()).push_bind(r.3).push_bind(r.4).push_bind(r.5);
                }).await?;
                insert_rows(&mut tx, "INSERT INTO timeline_entries (id, incident_id, at, at_offset, body, author_id, actor, marker, perspective, source, source_url, created_at) ", 12, &timeline, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5).push_bind(r.6.clone())
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9).push_bind(r.10.clone()).push_bind(r.11);
                }).await?;
                insert_rows(&mut tx, "INSERT INTO factors (id, incident_id, category, description, is_trigger) ", 5, &factors, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3.clone()).push_bind(r.4);
                }).await?;
                insert_rows(&mut tx, "INSERT INTO actions (id, incident_id, title, owner_id, team, due_on, priority, kind, status, wont_do_reason, external_url, verification, created_at, completed_at) ", 14, &actions, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2.clone()).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5.clone()).push_bind(r.6)
                        .push_bind(r.7).push_bind(r.8).push_bind(r.9.clone()).push_bind(r.10.clone()).push_bind(r.11.clone()).push_bind(r.12).push_bind(r.13);
                }).await?;
                insert_rows(&mut tx, "INSERT INTO action_factors (action_id, factor_id) ", 2, &links, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1);
                }).await?;
                insert_rows(&mut tx, "INSERT INTO reviews (id, incident_id, reviewer_id, decision, comment, updated_at) ", 6, &reviews, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3).push_bind(r.4.clone()).push_bind(r.5);
                }).await?;

                let last_seq = Self::next_seq(&mut tx, ids.len() as i64).await?;
                let first_seq = last_seq - ids.len() as i64 + 1;
                let feed: Vec<(i64, i64)> = ids.iter().enumerate().map(|(n, id)| (first_seq + n as i64, id.get())).collect();
                insert_rows(&mut tx, "INSERT INTO change_feed (seq, at, incident_id, entity, op) ", 5, &feed, |mut b, r| {
                    b.push_bind(r.0).push_bind(now_ms).push_bind(r.1).push_bind("incident").push_bind("import");
                }).await?;
                // One audit event per imported incident, so each one's history starts with how
                // it arrived; what it held is in the incident itself, unchanged since.
                let audit: Vec<(i64, String)> = incidents
                    .iter()
                    .map(|r| (r.0, serde_json::json!({"before": null, "after": {"title": r.1, "kind": r.2, "severity": format!("SEV{}", r.3), "restricted": r.12, "status": r.16}}).to_string()))
                    .collect();
                insert_rows(&mut tx, "INSERT INTO audit_events (at, actor_id, action, incident_id, details) ", 5, &audit, |mut b, r| {
                    b.push_bind(now_ms).push_bind(None::<i64>).push_bind("incident.import").push_bind(r.0).push_bind(r.1.clone());
                }).await?;
                Self::after_import(&mut tx).await?;
                tx.commit().await?;
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

            async fn save_sections(&self, actor: Actor, id: IncidentId, base_version: i64, updates: Vec<(SectionName, Markdown)>) -> Result<SaveOutcome> {
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
                        .bind(actor.0.map(UserId::get))
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

            async fn add_timeline_entry(&self, actor: Actor, id: IncidentId, entry: NewTimelineEntry) -> Result<TimelineEntry> {
                let now = self.clock.now();
                let author = actor.0.ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
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
                    .fetch_one(&mut *tx)
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
                Self::record(&mut tx, now, actor, "timeline.add", Some(id), "timeline", "create", details).await?;
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

            async fn add_comment(&self, actor: Actor, id: IncidentId, section: SectionName, body: Markdown) -> Result<ReviewComment> {
                let now = self.clock.now();
                let author = actor.0.ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                Self::bump(&mut tx, id, now).await?;
                let comment_id: i64 = sqlx::query_scalar("INSERT INTO review_comments (incident_id, section, author_id, body, resolved, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                    .bind(id.get())
                    .bind(section.as_str())
                    .bind(author.get())
                    .bind(body.as_str())
                    .bind(false)
                    .bind(to_ms(now))
                    .fetch_one(&mut *tx)
                    .await?;
                let details = serde_json::json!({"comment_id": comment_id, "before": null, "after": {"section": section.as_str(), "body": body.as_str()}});
                Self::record(&mut tx, now, actor, "comment.add", Some(id), "comment", "create", details).await?;
                tx.commit().await?;
                Ok(ReviewComment { id: CommentId::new(comment_id), incident_id: id, section, author, body, resolved: false, created_at: from_ms(to_ms(now))? })
            }

            async fn resolve_comment(&self, actor: Actor, id: IncidentId, comment_id: CommentId) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let updated = sqlx::query("UPDATE review_comments SET resolved = $3 WHERE id = $1 AND incident_id = $2")
                    .bind(comment_id.get())
                    .bind(id.get())
                    .bind(true)
                    .execute(&mut *tx)
                    .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::NotFound("comment"));
                }
                Self::bump(&mut tx, id, now).await?;
                Self::record(&mut tx, now, actor, "comment.resolve", Some(id), "comment", "update", serde_json::json!({"comment_id": comment_id.get(), "before": {"resolved": false}, "after": {"resolved": true}})).await?;
                tx.commit().await?;
                Ok(())
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
                let mut conn = self.reader().acquire().await?;
                let mut qb = QueryBuilder::<'static, $db>::new(format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents i WHERE i.pm_status IN ('owed', 'draft', 'in_review', 'changes_requested', 'approved')"
                ));
                push_visibility(&mut qb, visibility);
                qb.push(" ORDER BY (i.pm_due_on IS NULL), i.pm_due_on, i.id LIMIT 1000");
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

            async fn create_webhook(&self, actor: Actor, url: &str, secret: &str, events: &[String]) -> Result<i64> {
                let url = postmortem_core::WebLink::parse_field("url", url)?;
                if secret.trim().len() < 16 {
                    return Err(postmortem_core::ValidationError::new("secret", "must be at least 16 characters, so signatures cannot be guessed").into());
                }
                let valid_event = |e: &String| e == "*" || (!e.is_empty() && e.len() <= 64 && e.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'));
                if events.is_empty() || !events.iter().all(valid_event) {
                    return Err(postmortem_core::ValidationError::new("events", "must name at least one event, such as `action.overdue`, or `*` for all").into());
                }
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let events_json = serde_json::to_string(events).map_err(StoreError::corrupt)?;
                let id: i64 = sqlx::query_scalar("INSERT INTO webhooks (url, secret, events, active, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
                    .bind(url.as_str())
                    .bind(secret)
                    .bind(&events_json)
                    .bind(true)
                    .bind(to_ms(now))
                    .fetch_one(&mut *tx)
                    .await?;
                // The secret stays out of the audit log, which more people read than admins.
                let details = serde_json::json!({"webhook_id": id, "before": null, "after": {"url": url.as_str(), "events": events, "active": true}});
                Self::record(&mut tx, now, actor, "webhook.create", None, "webhook", "create", details).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn webhooks(&self) -> Result<Vec<Webhook>> {
                sqlx::query("SELECT id, url, events, active, created_at FROM webhooks ORDER BY id")
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(|row| {
                        Ok(Webhook {
                            id: row.try_get("id")?,
                            url: row.try_get("url")?,
                            events: webhook_events(&row.try_get::<String, _>("events")?)?,
                            active: row.try_get("active")?,
                            created_at: from_ms(row.try_get("created_at")?)?,
                        })
                    })
                    .collect()
            }

            async fn set_webhook_active(&self, actor: Actor, id: i64, active: bool) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before: bool = sqlx::query_scalar("SELECT active FROM webhooks WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("webhook"))?;
                if before == active {
                    return Ok(());
                }
                sqlx::query("UPDATE webhooks SET active = $2 WHERE id = $1").bind(id).bind(active).execute(&mut *tx).await?;
                let details = serde_json::json!({"webhook_id": id, "before": {"active": before}, "after": {"active": active}});
                Self::record(&mut tx, now, actor, "webhook.update", None, "webhook", "update", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn enqueue_deliveries(&self, event: &str, payload_json: &str) -> Result<i64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let count = Self::enqueue_in_tx(&mut tx, now, event, payload_json).await?;
                tx.commit().await?;
                Ok(count)
            }

            async fn enqueue_once(&self, key: &str, now: OffsetDateTime, event: &str, payload_json: &str) -> Result<Option<i64>> {
                let mut tx = self.writer().begin().await?;
                if !Self::claim_in_tx(&mut tx, key, now).await? {
                    return Ok(None);
                }
                let count = Self::enqueue_in_tx(&mut tx, now, event, payload_json).await?;
                tx.commit().await?;
                Ok(Some(count))
            }

            async fn due_deliveries(&self, now: OffsetDateTime, limit: i64) -> Result<Vec<DueDelivery>> {
                let mut tx = self.writer().begin().await?;
                let candidates = sqlx::query(
                    "SELECT d.id, d.webhook_id, w.url, w.secret, d.event, d.payload, d.attempts FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                     WHERE d.status = $1 AND d.next_attempt_at <= $2 AND w.active = $3 ORDER BY d.next_attempt_at, d.id LIMIT $4",
                )
                .bind(DeliveryStatus::Pending.as_str())
                .bind(to_ms(now))
                .bind(true)
                .bind(limit.clamp(1, 500))
                .fetch_all(&mut *tx)
                .await?;
                let mut due = Vec::with_capacity(candidates.len());
                for row in &candidates {
                    let id: i64 = row.try_get("id")?;
                    // The lease repeats the due condition, so when two nodes read the same row
                    // on PostgreSQL, the second one's update waits for the first to commit,
                    // finds the row no longer due, and leaves it to the first.
                    let leased = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $2 WHERE id = $1 AND status = $3 AND next_attempt_at <= $4")
                        .bind(id)
                        .bind(to_ms(now + DELIVERY_LEASE))
                        .bind(DeliveryStatus::Pending.as_str())
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?;
                    if leased.rows_affected() == 1 {
                        due.push(DueDelivery {
                            id,
                            webhook_id: row.try_get("webhook_id")?,
                            url: row.try_get("url")?,
                            secret: row.try_get("secret")?,
                            event: row.try_get("event")?,
                            payload: row.try_get("payload")?,
                            attempts: row.try_get("attempts")?,
                        });
                    }
                }
                // A lease is bookkeeping between senders, not a change anyone reads about, so
                // it appends no audit event; the attempt that follows is recorded in full.
                tx.commit().await?;
                Ok(due)
            }

            async fn record_delivery_attempt(&self, id: i64, outcome: DeliveryOutcome) -> Result<WebhookDelivery> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let row = sqlx::query("SELECT attempts, status, response_code, error FROM webhook_deliveries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("delivery"))?;
                let status: String = row.try_get("status")?;
                if status != DeliveryStatus::Pending.as_str() {
                    return Err(postmortem_core::ValidationError::new("delivery", format!("is already {status}; only a pending delivery is attempted")).into());
                }
                let before = serde_json::json!({"attempts": row.try_get::<i64, _>("attempts")?, "status": status, "response_code": row.try_get::<Option<i64>, _>("response_code")?, "error": row.try_get::<Option<String>, _>("error")?});
                let attempts = row.try_get::<i64, _>("attempts")? + 1;
                let (status, response_code, error, next_attempt_at, delivered_at) = match &outcome {
                    DeliveryOutcome::Delivered { response_code } => (DeliveryStatus::Delivered, Some(i64::from(*response_code)), None, None, Some(to_ms(now))),
                    DeliveryOutcome::Failed { response_code, error } => {
                        // Receivers can answer with whole pages; the log keeps the gist.
                        let error: String = error.chars().take(1000).collect();
                        if attempts >= DeliveryStatus::MAX_ATTEMPTS {
                            (DeliveryStatus::Failed, response_code.map(i64::from), Some(error), None, None)
                        } else {
                            (DeliveryStatus::Pending, response_code.map(i64::from), Some(error), Some(to_ms(now + DeliveryStatus::backoff(attempts))), None)
                        }
                    }
                };
                sqlx::query("UPDATE webhook_deliveries SET attempts = $2, status = $3, response_code = $4, error = $5, next_attempt_at = $6, delivered_at = $7 WHERE id = $1")
                    .bind(id)
                    .bind(attempts)
                    .bind(status.as_str())
                    .bind(response_code)
                    .bind(error.as_deref())
                    .bind(next_attempt_at)
                    .bind(delivered_at)
                    .execute(&mut *tx)
                    .await?;
                let action = if status == DeliveryStatus::Delivered { "webhook.deliver" } else { "webhook.fail" };
                let details = serde_json::json!({"delivery_id": id, "before": before, "after": {"attempts": attempts, "status": status.as_str(), "response_code": response_code, "error": error}});
                Self::record(&mut tx, now, Actor::SYSTEM, action, None, "delivery", "update", details).await?;
                let row = sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1"))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                let delivery = delivery_from_row(&row)?;
                tx.commit().await?;
                Ok(delivery)
            }

            async fn webhook_deliveries(&self, limit: i64) -> Result<Vec<WebhookDelivery>> {
                sqlx::query(&format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id ORDER BY d.id DESC LIMIT $1"))
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(delivery_from_row)
                    .collect()
            }

            async fn prune_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let deleted = sqlx::query("DELETE FROM webhook_deliveries WHERE status IN ($1, $2) AND created_at < $3")
                    .bind(DeliveryStatus::Delivered.as_str())
                    .bind(DeliveryStatus::Failed.as_str())
                    .bind(to_ms(before))
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if deleted > 0 {
                    let details = serde_json::json!({"deleted": deleted, "queued_before": before.format(&time::format_description::well_known::Rfc3339).ok()});
                    Self::record(&mut tx, now, Actor::SYSTEM, "webhook.prune", None, "delivery", "delete", details).await?;
                }
                tx.commit().await?;
                Ok(deleted)
            }

            async fn claim_reminder(&self, key: &str, now: OffsetDateTime) -> Result<bool> {
                let mut tx = self.writer().begin().await?;
                let claimed = Self::claim_in_tx(&mut tx, key, now).await?;
                tx.commit().await?;
                Ok(claimed)
            }

            async fn release_reminder(&self, key: &str) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let deleted = sqlx::query("DELETE FROM reminders_sent WHERE reminder_key = $1").bind(key).execute(&mut *tx).await?;
                if deleted.rows_affected() > 0 {
                    Self::record(&mut tx, now, Actor::SYSTEM, "reminder.release", None, "reminder", "delete", serde_json::json!({"before": {"key": key}, "after": null})).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn changes_since(&self, after_seq: i64, limit: i64) -> Result<Vec<Change>> {
                sqlx::query("SELECT seq, at, incident_id, entity, op FROM change_feed WHERE seq > $1 ORDER BY seq LIMIT $2")
                    .bind(after_seq)
                    .bind(limit.clamp(1, 10_000))
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(|row| {
                        Ok(Change {
                            seq: row.try_get("seq")?,
                            at: from_ms(row.try_get("at")?)?,
                            incident_id: row.try_get::<Option<i64>, _>("incident_id")?.map(IncidentId::new),
                            entity: row.try_get("entity")?,
                            op: row.try_get("op")?,
                        })
                    })
                    .collect()
            }

            async fn latest_change_seq(&self) -> Result<i64> {
                let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM change_feed")
                    .fetch_one(self.reader())
                    .await?;
                Ok(seq.unwrap_or(0))
            }

            async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage> {
                let limit = query.limit.clamp(1, 500);
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT id, at, actor_id, action, incident_id, details FROM audit_events WHERE 1 = 1");
                if let Some(actor) = query.actor {
                    qb.push(" AND actor_id = ").push_bind(actor.get());
                }
                if let Some(incident) = query.incident {
                    qb.push(" AND incident_id = ").push_bind(incident.get());
                }
                if let Some(action) = &query.action {
                    let action = parse_audit_action(action)?;
                    if action.contains('.') {
                        qb.push(" AND action = ").push_bind(action.to_owned());
                    } else {
                        // A kind matches its actions by prefix; kinds hold no LIKE wildcards.
                        qb.push(" AND action LIKE ").push_bind(format!("{action}.%"));
                    }
                }
                if let Some(after) = query.after {
                    qb.push(" AND at >= ").push_bind(to_ms(after));
                }
                if let Some(before) = query.before {
                    qb.push(" AND at < ").push_bind(to_ms(before));
                }
                if let Some(cursor) = &query.cursor {
                    let below: i64 = cursor.parse().map_err(|_| StoreError::InvalidCursor(cursor.clone()))?;
                    qb.push(" AND id < ").push_bind(below);
                }
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit + 1);
                let mut items = qb.build()
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(|row| {
                        let details: String = row.try_get("details")?;
                        Ok(AuditEvent {
                            id: row.try_get("id")?,
                            at: from_ms(row.try_get("at")?)?,
                            actor: row.try_get::<Option<i64>, _>("actor_id")?.map(UserId::new),
                            action: row.try_get("action")?,
                            incident_id: row.try_get::<Option<i64>, _>("incident_id")?.map(IncidentId::new),
                            details: serde_json::from_str(&details).map_err(StoreError::corrupt)?,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                let next_cursor = if items.len() as i64 > limit {
                    items.truncate(limit as usize);
                    items.last().map(|last| last.id.to_string())
                } else {
                    None
                };
                Ok(AuditPage { items, next_cursor })
            }
        }
    };
}
