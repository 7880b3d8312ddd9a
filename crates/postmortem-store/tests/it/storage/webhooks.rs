//! Webhooks and their deliveries (queued per event, retried with back-off, leased to one
//! sender, pruned), and reminders claimed once across nodes.

use super::*;

postmortem_store::backend_tests! {
    async fn deliveries_are_queued_for_each_active_webhook_that_wants_the_event(db: TestDb) {
        let admin = person(&db, "ada", Role::Admin).await;
        let events = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let reviews = db.store.create_webhook(Actor::user(admin), "https://chat.example.com/hook/1", "a-secret-of-sixteen", &events(&["review.overdue"])).await.unwrap();
        let all = db.store.create_webhook(Actor::user(admin), "https://chat.example.com/hook/2", "a-secret-of-sixteen", &events(&["*"])).await.unwrap();
        let off = db.store.create_webhook(Actor::user(admin), "https://chat.example.com/hook/3", "a-secret-of-sixteen", &events(&["action.overdue"])).await.unwrap();
        db.store.set_webhook_active(Actor::user(admin), off, false).await.unwrap();

        assert_eq!(db.store.enqueue_deliveries("review.overdue", r#"{"event":"review.overdue"}"#).await.unwrap(), 2);
        assert_eq!(db.store.enqueue_deliveries("action.overdue", r#"{"event":"action.overdue"}"#).await.unwrap(), 1, "only the catch-all webhook is active for it");
        let log = db.store.webhook_deliveries(10).await.unwrap();
        let queued: Vec<(i64, &str)> = log.iter().map(|d| (d.webhook_id, d.event.as_str())).collect();
        assert_eq!(queued, [(all, "action.overdue"), (all, "review.overdue"), (reviews, "review.overdue")], "newest first");
        assert!(log.iter().all(|d| d.status == DeliveryStatus::Pending && d.attempts == 0));

        let listed = db.store.webhooks().await.unwrap();
        assert_eq!(listed.iter().map(|w| (w.id, w.active)).collect::<Vec<_>>(), [(reviews, true), (all, true), (off, false)]);
        let audit = db.store.audit_events(None, 50).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "webhook.create"));
        assert!(audit.iter().all(|e| !e.details.to_string().contains("a-secret-of-sixteen")), "the secret never reaches the audit log");
    }

    async fn a_webhook_with_a_bad_url_short_secret_or_no_events_is_refused(db: TestDb) {
        let events = vec!["digest".to_owned()];
        let bad_url = db.store.create_webhook(Actor::DEMO, "ftp://example.com", "a-secret-of-sixteen", &events).await.unwrap_err();
        assert!(bad_url.to_string().contains("url"), "{bad_url}");
        let short = db.store.create_webhook(Actor::DEMO, "https://example.com/h", "short", &events).await.unwrap_err();
        assert!(short.to_string().contains("secret"), "{short}");
        let none = db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &[]).await.unwrap_err();
        assert!(none.to_string().contains("events"), "{none}");
        assert!(db.store.webhooks().await.unwrap().is_empty());
    }

    async fn a_failed_delivery_is_retried_with_growing_backoff_until_it_is_given_up(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        db.store.enqueue_deliveries("digest", "{}").await.unwrap();
        let mut waits = Vec::new();
        for attempt in 1..=DeliveryStatus::MAX_ATTEMPTS {
            let due = db.store.due_deliveries(db.clock.now(), 10).await.unwrap();
            assert_eq!(due.len(), 1, "attempt {attempt} is due");
            assert_eq!(due[0].secret, "a-secret-of-sixteen");
            assert_eq!(due[0].attempts, attempt - 1);
            let after = db.store.record_delivery_attempt(due[0].id, DeliveryOutcome::Failed { response_code: Some(503), error: "unavailable".into() }).await.unwrap();
            assert_eq!(after.attempts, attempt);
            match after.next_attempt_at {
                Some(next) => {
                    waits.push((next - db.clock.now()).whole_seconds());
                    assert!(db.store.due_deliveries(next - time::Duration::seconds(1), 10).await.unwrap().is_empty(), "not due before its backoff");
                    db.clock.set(next);
                }
                None => assert_eq!(attempt, DeliveryStatus::MAX_ATTEMPTS),
            }
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920]);
        let log = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!(log[0].status, DeliveryStatus::Failed);
        assert_eq!(log[0].response_code, Some(503));
        db.clock.advance(time::Duration::days(1));
        assert!(db.store.due_deliveries(db.clock.now(), 10).await.unwrap().is_empty(), "a given-up delivery is never due again");
        assert_eq!(DeliveryStatus::backoff(12), time::Duration::hours(1), "the wait is capped at an hour");
    }

    async fn a_due_delivery_is_handed_to_one_sender_until_its_lease_runs_out(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        db.store.enqueue_deliveries("digest", "{}").await.unwrap();
        let now = db.clock.now();
        let (first, second) = tokio::join!(db.store.due_deliveries(now, 10), db.store.due_deliveries(now, 10));
        assert_eq!(first.unwrap().len() + second.unwrap().len(), 1, "two senders asking at once share one delivery between them");
        assert!(db.store.due_deliveries(now + DELIVERY_LEASE - time::Duration::seconds(1), 10).await.unwrap().is_empty());
        let again = db.store.due_deliveries(now + DELIVERY_LEASE, 10).await.unwrap();
        assert_eq!(again.len(), 1, "a sender that stopped without recording leaves it due again");
        let delivered = db.store.record_delivery_attempt(again[0].id, DeliveryOutcome::Delivered { response_code: 204 }).await.unwrap();
        assert_eq!((delivered.status, delivered.response_code, delivered.delivered_at), (DeliveryStatus::Delivered, Some(204), Some(db.clock.now())));
        let refused = db.store.record_delivery_attempt(again[0].id, DeliveryOutcome::Delivered { response_code: 200 }).await.unwrap_err();
        assert!(refused.to_string().contains("already delivered"), "{refused}");
    }

    async fn an_inactive_webhooks_pending_deliveries_wait_until_it_is_active_again(db: TestDb) {
        let hook = db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        db.store.enqueue_deliveries("digest", "{}").await.unwrap();
        db.store.set_webhook_active(Actor::DEMO, hook, false).await.unwrap();
        assert!(db.store.due_deliveries(db.clock.now(), 10).await.unwrap().is_empty());
        db.store.set_webhook_active(Actor::DEMO, hook, true).await.unwrap();
        assert_eq!(db.store.due_deliveries(db.clock.now(), 10).await.unwrap().len(), 1);
        assert!(matches!(db.store.set_webhook_active(Actor::DEMO, hook + 100, true).await, Err(StoreError::NotFound("webhook"))));
    }

    async fn pruning_deletes_finished_deliveries_queued_before_the_cutoff_and_keeps_pending_ones(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        let queued_at = db.clock.now();
        for event in ["delivered", "failed", "pending"] {
            db.store.enqueue_deliveries(event, "{}").await.unwrap();
        }
        for due in db.store.due_deliveries(queued_at, 10).await.unwrap() {
            let outcome = match due.event.as_str() {
                "delivered" => DeliveryOutcome::Delivered { response_code: 200 },
                "failed" => DeliveryOutcome::Failed { response_code: Some(500), error: "down".into() },
                _ => continue,
            };
            if due.event == "failed" {
                // Given up: every attempt but the last is recorded directly.
                for _ in 1..DeliveryStatus::MAX_ATTEMPTS {
                    db.store.record_delivery_attempt(due.id, outcome.clone()).await.unwrap();
                }
            }
            db.store.record_delivery_attempt(due.id, outcome).await.unwrap();
        }
        db.clock.advance(time::Duration::days(2));
        db.store.enqueue_deliveries("recent", "{}").await.unwrap();
        let recent = db.store.due_deliveries(db.clock.now(), 10).await.unwrap();
        let recent = recent.iter().find(|d| d.event == "recent").unwrap();
        db.store.record_delivery_attempt(recent.id, DeliveryOutcome::Delivered { response_code: 200 }).await.unwrap();

        assert_eq!(db.store.prune_deliveries(queued_at).await.unwrap(), 0, "nothing was queued before the cutoff");
        let cutoff = queued_at + time::Duration::days(1);
        assert_eq!(db.store.prune_deliveries(cutoff).await.unwrap(), 2);
        let mut left: Vec<(String, DeliveryStatus)> = db.store.webhook_deliveries(10).await.unwrap().into_iter().map(|d| (d.event, d.status)).collect();
        left.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(left, [("pending".to_owned(), DeliveryStatus::Pending), ("recent".to_owned(), DeliveryStatus::Delivered)]);
        let audit = db.store.audit_events(None, 50).await.unwrap();
        let pruned: Vec<_> = audit.iter().filter(|e| e.action == "webhook.prune").collect();
        assert_eq!(pruned.len(), 1, "a prune that deletes nothing leaves no audit event");
        assert_eq!(pruned[0].details["deleted"], 2);
    }

    async fn a_payload_that_is_not_json_is_refused(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        assert!(db.store.enqueue_deliveries("digest", "not json").await.is_err());
        assert!(db.store.webhook_deliveries(10).await.unwrap().is_empty());
    }

    async fn a_reminder_is_claimed_once_across_concurrent_claimers(db: TestDb) {
        let now = db.clock.now();
        let claimers: Vec<_> = (0..8)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move { store.claim_reminder("action.overdue:42", now).await.unwrap() })
            })
            .collect();
        let mut claimed = 0;
        for claimer in claimers {
            claimed += usize::from(claimer.await.unwrap());
        }
        assert_eq!(claimed, 1, "exactly one of eight concurrent claimers wins");
        assert!(!db.store.claim_reminder("action.overdue:42", now).await.unwrap());
        assert!(db.store.claim_reminder("action.overdue:43", now).await.unwrap(), "another key is its own reminder");
        db.store.release_reminder("action.overdue:42").await.unwrap();
        assert!(db.store.claim_reminder("action.overdue:42", now).await.unwrap(), "a released key can be claimed again");
        let audit = db.store.audit_events(None, 50).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "reminder.claim").count(), 3);
    }

    async fn enqueue_once_queues_a_reminder_only_for_its_first_claimer(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["review.overdue".to_owned()]).await.unwrap();
        let now = db.clock.now();
        assert_eq!(db.store.enqueue_once("review.overdue:7", now, "review.overdue", "{}").await.unwrap(), Some(1));
        assert_eq!(db.store.enqueue_once("review.overdue:7", now, "review.overdue", "{}").await.unwrap(), None);
        assert!(db.store.enqueue_once("review.overdue:8", now, "review.overdue", "not json").await.is_err());
        assert!(db.store.claim_reminder("review.overdue:8", now).await.unwrap(), "a refused enqueue leaves its key unclaimed");
        assert_eq!(db.store.webhook_deliveries(10).await.unwrap().len(), 1);
    }
}
