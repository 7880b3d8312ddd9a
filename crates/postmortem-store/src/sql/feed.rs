//! The change feed and what follows it out of the system: sequence numbers, webhooks, their
//! deliveries and once-only reminders.
//!
//! Part of the SQL written once for both backends; see the parent module.

macro_rules! sql_feed {
    ($store:ident, $db:ty, $backend:expr) => {
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

        impl $store {
            /// Reserves `n` sequence numbers and returns the last. The counter row's lock
            /// makes concurrent writers commit their feed rows in sequence order.
            async fn next_seq(tx: &mut Tx, n: i64) -> Result<i64> {
                Ok(sqlx::query_scalar("UPDATE feed_counter SET seq = seq + $1 WHERE id = 1 RETURNING seq")
                    .bind(n)
                    .fetch_one(&mut **tx)
                    .await?)
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
                    Self::record(tx, now, Actor::NOTIFY, "webhook.enqueue", None, "delivery", "create", details).await?;
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
                Self::record(tx, now, Actor::NOTIFY, "reminder.claim", None, "reminder", "create", serde_json::json!({"before": null, "after": {"key": key}})).await?;
                Ok(true)
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
                Self::record(&mut tx, now, Actor::NOTIFY, action, None, "delivery", "update", details).await?;
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
                    Self::record(&mut tx, now, Actor::NOTIFY, "webhook.prune", None, "delivery", "delete", details).await?;
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
                    Self::record(&mut tx, now, Actor::NOTIFY, "reminder.release", None, "reminder", "delete", serde_json::json!({"before": {"key": key}, "after": null})).await?;
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
        }
    };
}
