//! Integrations: registering the tools that send webhooks, keeping what they sent, and writing
//! timeline entries once per source key.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_integrations {
    ($store:ident, $db:ty, $backend:expr) => {
        fn integration_from_row(row: &DbRow) -> Result<Integration> {
            let services: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("services")?)
                .map_err(|e| StoreError::Corrupt(format!("integration services: {e}")))?;
            Ok(Integration {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                name: stored(Name::parse(row.try_get::<String, _>("name")?))?,
                services: services.into_iter().map(|s| stored(Name::parse(s))).collect::<Result<_>>()?,
                actor: UserId::new(row.try_get::<Option<i64>, _>("user_id")?.ok_or_else(|| StoreError::Corrupt("an integration without its person".into()))?),
                created_at: from_ms(row.try_get("created_at")?)?,
                credential: row.try_get("credential")?,
                signing_secret: row.try_get("signing_secret")?,
            })
        }

        fn hook_delivery_from_row(row: &DbRow) -> Result<HookDelivery> {
            let outcome: String = row.try_get("outcome")?;
            Ok(HookDelivery {
                id: row.try_get("id")?,
                integration_id: row.try_get("integration_id")?,
                received_at: from_ms(row.try_get("received_at")?)?,
                body: row.try_get("body")?,
                outcome: HookOutcome::parse(&outcome).ok_or_else(|| StoreError::Corrupt(format!("delivery outcome `{outcome}`")))?,
                detail: row.try_get("detail")?,
                entries_added: row.try_get("entries_added")?,
                replay_of: row.try_get("replay_of")?,
            })
        }

        fn deploy_from_row(row: &DbRow) -> Result<Deploy> {
            Ok(Deploy {
                id: row.try_get("id")?,
                integration_id: row.try_get("integration_id")?,
                key: row.try_get("deploy_key")?,
                service: stored(Name::parse(row.try_get::<String, _>("service")?))?,
                version: row.try_get("version")?,
                at: from_ms_offset(row.try_get("at")?, row.try_get("at_offset")?)?,
                by: row.try_get("deployed_by")?,
                link: row.try_get::<Option<String>, _>("link")?.map(|u| stored(WebLink::parse(u))).transpose()?,
                received_at: from_ms(row.try_get("received_at")?)?,
            })
        }

        impl $store {
            /// Keeps a body received, inside a write, with how many entries it added.
            async fn delivery_insert_in_tx(tx: &mut Tx, now: OffsetDateTime, new: &NewHookDelivery, entries_added: i64) -> Result<HookDelivery> {
                let row = sqlx::query("INSERT INTO hook_deliveries (integration_id, received_at, body, outcome, detail, entries_added, replay_of) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *")
                    .bind(new.integration_id)
                    .bind(to_ms(now))
                    .bind(&new.body)
                    .bind(new.outcome.as_str())
                    .bind(&new.detail)
                    .bind(entries_added)
                    .bind(new.replay_of)
                    .fetch_one(&mut **tx)
                    .await?;
                let kept = hook_delivery_from_row(&row)?;
                if let Some(admin) = new.replayed_by {
                    let details = serde_json::json!({"integration_id": kept.integration_id, "delivery_id": kept.id, "replay_of": kept.replay_of, "entries_added": kept.entries_added, "before": null, "after": null});
                    Self::record(tx, now, Actor::user(admin), "integration.replay", None, "integration", "update", details).await?;
                }
                Ok(kept)
            }

            async fn record_deploys(&self, delivery: NewHookDelivery, deploys: Vec<NewDeploy>) -> Result<(HookDelivery, u64)> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let mut new = 0;
                for deploy in &deploys {
                    new += sqlx::query("INSERT INTO deploys (integration_id, deploy_key, service, version, at, at_offset, deployed_by, link, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (deploy_key) DO NOTHING")
                        .bind(delivery.integration_id)
                        .bind(&deploy.key)
                        .bind(deploy.service.as_str())
                        .bind(&deploy.version)
                        .bind(to_ms(deploy.at))
                        .bind(offset_seconds(deploy.at))
                        .bind(deploy.by.as_deref())
                        .bind(deploy.link.as_ref().map(|l| l.as_str()))
                        .bind(to_ms(now))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                }
                let kept = Self::delivery_insert_in_tx(&mut tx, now, &delivery, 0).await?;
                tx.commit().await?;
                Ok((kept, new))
            }

            async fn deploys_between(&self, services: &[Name], from: OffsetDateTime, to: OffsetDateTime) -> Result<Vec<Deploy>> {
                if services.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT * FROM deploys WHERE at >= ");
                qb.push_bind(to_ms(from)).push(" AND at <= ").push_bind(to_ms(to)).push(" AND service IN (");
                let mut list = qb.separated(", ");
                for service in services {
                    list.push_bind(service.as_str().to_owned());
                }
                qb.push(") ORDER BY at DESC, id DESC LIMIT 200");
                qb.build().fetch_all(self.reader()).await?.iter().map(deploy_from_row).collect()
            }

            async fn deploy(&self, id: i64) -> Result<Option<Deploy>> {
                sqlx::query("SELECT * FROM deploys WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(deploy_from_row)
                    .transpose()
            }

            async fn source_keys(&self, incident: IncidentId, prefix: &str) -> Result<Vec<String>> {
                let keys: Vec<String> = sqlx::query_scalar("SELECT source_key FROM timeline_sources WHERE incident_id = $1 ORDER BY source_key")
                    .bind(incident.get())
                    .fetch_all(self.reader())
                    .await?;
                Ok(keys.into_iter().filter(|k| k.starts_with(prefix)).collect())
            }

            async fn create_integration(&self, actor: Actor, new: NewIntegration) -> Result<Integration> {
                let now = self.clock.now();
                let services = serde_json::to_string(&new.services.iter().map(Name::as_str).collect::<Vec<_>>())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                let mut tx = self.writer().begin().await?;
                let id: i64 = sqlx::query_scalar("INSERT INTO integrations (kind, name, services, credential, signing_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
                    .bind(&new.kind)
                    .bind(new.name.as_str())
                    .bind(&services)
                    .bind(&new.credential)
                    .bind(new.signing_secret.as_deref())
                    .bind(to_ms(now))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| StoreError::or_duplicate(e, || format!("an integration named `{}` exists already", new.name)))?;
                let handle = stored(Handle::parse(format!("integration-{id}")))?;
                let person = NewUser { handle, display_name: new.display_name, role: Role::Viewer, password_hash: None };
                let user = Self::insert_user(&mut tx, now, actor, person, None).await?;
                sqlx::query("UPDATE integrations SET user_id = $2 WHERE id = $1")
                    .bind(id)
                    .bind(user.id.get())
                    .execute(&mut *tx)
                    .await?;
                let created = Integration { id, kind: new.kind, name: new.name, services: new.services, actor: user.id, created_at: from_ms(to_ms(now))?, credential: new.credential, signing_secret: new.signing_secret };
                let details = serde_json::json!({"integration_id": id, "before": null, "after": created});
                Self::record(&mut tx, now, actor, "integration.create", None, "integration", "create", details).await?;
                tx.commit().await?;
                Ok(created)
            }

            async fn integrations(&self) -> Result<Vec<Integration>> {
                sqlx::query("SELECT * FROM integrations ORDER BY id")
                    .fetch_all(self.reader())
                    .await?
                    .iter()
                    .map(integration_from_row)
                    .collect()
            }

            async fn integration(&self, id: i64) -> Result<Option<Integration>> {
                sqlx::query("SELECT * FROM integrations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(integration_from_row)
                    .transpose()
            }

            async fn delete_integration(&self, actor: Actor, id: i64) -> Result<()> {
                let now = self.clock.now();
                let mut tx = self.writer().begin().await?;
                let before = sqlx::query("SELECT * FROM integrations WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .as_ref()
                    .map(integration_from_row)
                    .transpose()?
                    .ok_or(StoreError::NotFound("integration"))?;
                sqlx::query("DELETE FROM hook_deliveries WHERE integration_id = $1").bind(id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM integrations WHERE id = $1").bind(id).execute(&mut *tx).await?;
                let details = serde_json::json!({"integration_id": id, "before": before, "after": null});
                Self::record(&mut tx, now, actor, "integration.delete", None, "integration", "delete", details).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn open_incidents(&self, service: &Name, at: OffsetDateTime) -> Result<Vec<IncidentId>> {
                let ids: Vec<i64> = sqlx::query_scalar(
                    "SELECT i.id FROM incident_services s JOIN incidents i ON i.id = s.incident_id \
                     WHERE s.name = $1 AND i.sort_at >= $2 \
                     AND NOT EXISTS (SELECT 1 FROM timeline_entries t WHERE t.incident_id = i.id AND t.marker = $4 AND t.at <= $3) \
                     ORDER BY i.id",
                )
                .bind(service.as_str())
                .bind(to_ms(at - OPEN_INCIDENT_WINDOW))
                .bind(to_ms(at))
                .bind(Marker::Resolved.as_str())
                .fetch_all(self.reader())
                .await?;
                Ok(ids.into_iter().map(IncidentId::new).collect())
            }

            async fn add_sourced_entries(&self, actor: Actor, delivery: Option<NewHookDelivery>, entries: Vec<SourcedEntry>) -> Result<SourcedOutcome> {
                let now = self.clock.now();
                actor.person().ok_or(StoreError::NotFound("user"))?;
                let mut tx = self.writer().begin().await?;
                let mut added = Vec::new();
                let mut bumped = std::collections::HashSet::new();
                for sourced in entries {
                    // The key first: on PostgreSQL a racing writer of the same key waits here
                    // for this transaction and then inserts nothing.
                    let took: Option<i64> = sqlx::query_scalar("INSERT INTO timeline_sources (incident_id, source_key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING incident_id")
                        .bind(sourced.incident.get())
                        .bind(&sourced.key)
                        .fetch_optional(&mut *tx)
                        .await?;
                    if took.is_none() {
                        continue;
                    }
                    if bumped.insert(sourced.incident) {
                        Self::bump(&mut tx, sourced.incident, now).await?;
                    }
                    let entry = Self::timeline_insert_in_tx(&mut tx, now, actor, sourced.incident, sourced.entry).await?;
                    sqlx::query("UPDATE timeline_sources SET entry_id = $3 WHERE incident_id = $1 AND source_key = $2")
                        .bind(sourced.incident.get())
                        .bind(&sourced.key)
                        .bind(entry.id.get())
                        .execute(&mut *tx)
                        .await?;
                    added.push(entry);
                }
                let delivery = match delivery {
                    None => None,
                    Some(new) => {
                        let count = i64::try_from(added.len()).unwrap_or(i64::MAX);
                        let kept = Self::delivery_insert_in_tx(&mut tx, now, &new, count).await?;
                        Some(kept)
                    }
                };
                tx.commit().await?;
                Ok(SourcedOutcome { delivery, added })
            }

            async fn hook_deliveries(&self, integration: Option<i64>, limit: i64) -> Result<Vec<HookDelivery>> {
                let mut qb = QueryBuilder::<'static, $db>::new("SELECT * FROM hook_deliveries");
                if let Some(integration) = integration {
                    qb.push(" WHERE integration_id = ").push_bind(integration);
                }
                qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit.clamp(1, 500));
                qb.build().fetch_all(self.reader()).await?.iter().map(hook_delivery_from_row).collect()
            }

            async fn hook_delivery(&self, id: i64) -> Result<Option<HookDelivery>> {
                sqlx::query("SELECT * FROM hook_deliveries WHERE id = $1")
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?
                    .as_ref()
                    .map(hook_delivery_from_row)
                    .transpose()
            }

            async fn prune_hook_deliveries(&self, before: OffsetDateTime) -> Result<u64> {
                let deleted = sqlx::query("DELETE FROM hook_deliveries WHERE received_at < $1")
                    .bind(to_ms(before))
                    .execute(self.writer())
                    .await?;
                Ok(deleted.rows_affected())
            }
        }
    };
}
