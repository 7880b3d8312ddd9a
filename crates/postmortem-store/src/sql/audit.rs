//! The audit log: the one helper every write calls to append its audit event and change-feed row,
//! and reading the log back with filters.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_audit {
    ($store:ident, $db:ty, $backend:expr) => {
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

        impl $store {
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
                sqlx::query("INSERT INTO audit_events (at, actor_id, actor_name, action, incident_id, details) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(to_ms(now))
                    .bind(actor.person().map(UserId::get))
                    .bind(actor.system_name())
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

            async fn audit_log(&self, query: &AuditQuery) -> Result<AuditPage> {
                let limit = query.limit.clamp(1, 500);
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT id, at, actor_id, actor_name, action, incident_id, details FROM audit_events WHERE 1 = 1");
                if let Some(actor) = query.actor {
                    qb.push(" AND actor_id = ").push_bind(actor.get());
                }
                if let Some(name) = &query.system_actor {
                    qb.push(" AND actor_name = ").push_bind(name.clone());
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
                            system_actor: row.try_get("actor_name")?,
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
