//! Webhook deliveries to a real HTTP receiver: signed, retried with backoff, logged.

use crate::common::{Receiver, SECRET, closed_port};
use postmortem_notify::webhook::{DIGEST, Deliverer, DeliveryReport, Payload};
use postmortem_store::testing::TestDb;
use postmortem_store::{Actor, Clock, DeliveryStatus};
use std::time::Duration;

async fn webhook(db: &TestDb, url: &str, secret: &str) -> i64 {
    db.store
        .create_webhook(Actor::DEMO, url, secret, &["*".to_owned()])
        .await
        .unwrap()
}

fn payload() -> String {
    Payload::new(
        DIGEST,
        "Follow-through digest for all teams".into(),
        serde_json::json!({"n_reviews_owed": 1}),
    )
    .to_json()
}

postmortem_store::backend_tests! {
    async fn a_delivery_refused_once_is_retried_after_its_backoff_and_then_delivered(db: TestDb) {
        let receiver = Receiver::start(SECRET, &[500, 200]).await;
        webhook(&db, &receiver.url, SECRET).await;
        let body = payload();
        assert_eq!(db.store.enqueue_deliveries(DIGEST, &body).await.unwrap(), 1);
        let deliverer = Deliverer::new(db.store.clone(), db.clock.clone()).unwrap();

        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport { delivered: 0, failed: 1 });
        let log = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!((log[0].status, log[0].attempts, log[0].response_code), (DeliveryStatus::Pending, 1, Some(500)));
        assert_eq!(log[0].next_attempt_at, Some(db.clock.now() + time::Duration::seconds(30)));
        assert!(log[0].error.as_deref().unwrap().contains("500"), "{:?}", log[0].error);

        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport::default(), "not due again before its backoff");
        db.clock.advance(time::Duration::seconds(30));
        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport { delivered: 1, failed: 0 });

        let log = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!(log.len(), 1, "a retry is the same delivery, not a new one");
        assert_eq!((log[0].status, log[0].attempts, log[0].response_code, log[0].error.as_deref()), (DeliveryStatus::Delivered, 2, Some(200), None));
        assert_eq!(log[0].delivered_at, Some(db.clock.now()));
        let attempts: Vec<String> = db.store.audit_events(None, 50).await.unwrap().into_iter()
            .filter(|e| e.action.starts_with("webhook.") && e.details["delivery_id"] == log[0].id)
            .map(|e| format!("{} {}", e.action, e.details["after"]["response_code"]))
            .collect();
        assert_eq!(attempts, ["webhook.deliver 200", "webhook.fail 500"], "the audit log shows both attempts, newest first");

        let received = receiver.received();
        assert_eq!(received.len(), 2);
        for request in &received {
            assert!(request.verified, "each attempt is signed with the webhook's secret");
            assert_eq!(request.event, "digest");
            assert_eq!(request.delivery, log[0].id.to_string());
            assert_eq!(request.body, body);
        }
    }

    async fn a_receiver_holding_another_secret_refuses_and_the_refusal_is_logged(db: TestDb) {
        let receiver = Receiver::start("the-receivers-own-secret", &[]).await;
        webhook(&db, &receiver.url, SECRET).await;
        db.store.enqueue_deliveries(DIGEST, &payload()).await.unwrap();
        let deliverer = Deliverer::new(db.store.clone(), db.clock.clone()).unwrap();
        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport { delivered: 0, failed: 1 });
        assert!(!receiver.received()[0].verified);
        let log = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!((log[0].status, log[0].response_code), (DeliveryStatus::Pending, Some(401)));
    }

    async fn an_unreachable_receiver_is_a_failed_attempt_with_the_reason(db: TestDb) {
        webhook(&db, &format!("http://127.0.0.1:{}/hook", closed_port()), SECRET).await;
        db.store.enqueue_deliveries(DIGEST, &payload()).await.unwrap();
        let deliverer = Deliverer::new(db.store.clone(), db.clock.clone()).unwrap();
        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport { delivered: 0, failed: 1 });
        let log = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!(log[0].response_code, None);
        let error = log[0].error.as_deref().unwrap();
        assert!(error.to_lowercase().contains("connect"), "{error}");
    }

    async fn a_slow_receiver_times_out_without_holding_up_a_fast_one(db: TestDb) {
        let slow = Receiver::start_slow(SECRET, &[], Duration::from_secs(5)).await;
        let fast = Receiver::start(SECRET, &[]).await;
        webhook(&db, &slow.url, SECRET).await;
        webhook(&db, &fast.url, SECRET).await;
        db.store.enqueue_deliveries(DIGEST, &payload()).await.unwrap();
        let deliverer = Deliverer::with_timeout(db.store.clone(), db.clock.clone(), Duration::from_millis(300)).unwrap();
        let started = std::time::Instant::now();
        assert_eq!(deliverer.deliver_due().await.unwrap(), DeliveryReport { delivered: 1, failed: 1 });
        assert!(started.elapsed() < Duration::from_secs(3), "took {:?}", started.elapsed());
        let log = db.store.webhook_deliveries(10).await.unwrap();
        let slow_attempt = log.iter().find(|d| d.url == slow.url).unwrap();
        assert!(slow_attempt.error.as_deref().unwrap().starts_with("no answer within 0.3 seconds"), "{:?}", slow_attempt.error);
        assert_eq!(fast.received().len(), 1);
    }
}
