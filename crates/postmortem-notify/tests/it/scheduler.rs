//! The notification loop on a real store, a real webhook receiver and a real SMTP server,
//! with the test moving the clock: the digest goes out once per week at its hour, reminders
//! and deliveries go out every tick, and `run` stops when told.

use crate::common::{
    BASE_URL, Receiver, SECRET, SmtpServer, action, closed_port, incident, person,
};
use postmortem_notify::scheduler::{
    EMAIL_RETRY, Notifier, NotifyConfig, PRUNE_EVERY, parse_offset, run,
};
use postmortem_store::testing::TestDb;
use postmortem_store::{Actor, Clock};
use std::sync::Arc;
use time::macros::{date, datetime};

const CONFIG: &str = r#"
base_url = "https://pm.example.com"
digest_weekday = "monday"
digest_hour = 9
utc_offset = "+01:00"

[smtp]
host = "smtp.example.com"
port = 587
starttls = true
username = "postmortem"
password = "a-long-password"
from = "Post-mortems <postmortem@example.com>"
to = ["engineering@example.com"]
"#;

#[test]
fn the_notify_table_reads_as_documented() {
    let config: NotifyConfig = toml::from_str(CONFIG).unwrap();
    assert_eq!(config.digest_weekday, time::Weekday::Monday);
    assert_eq!(config.utc_offset, parse_offset("+01:00").unwrap());
    assert_eq!(config.smtp.as_ref().unwrap().effective_port(), 587);
    config.check().unwrap();
    let minimal: NotifyConfig = toml::from_str(r#"base_url = "https://pm.example.com""#).unwrap();
    assert_eq!(
        minimal,
        NotifyConfig::new("https://pm.example.com"),
        "everything but the base URL has a default"
    );
}

#[test]
fn mistakes_in_the_notify_table_are_refused_with_what_to_write() {
    let unknown = toml::from_str::<NotifyConfig>(
        "base_url = \"https://pm.example.com\"\ndigest_day = \"monday\"",
    )
    .unwrap_err();
    assert!(
        unknown.to_string().contains("unknown field `digest_day`"),
        "{unknown}"
    );
    let day = toml::from_str::<NotifyConfig>(
        "base_url = \"https://pm.example.com\"\ndigest_weekday = \"mondays\"",
    )
    .unwrap_err();
    assert!(day.to_string().contains("write monday, tuesday"), "{day}");
    let offset = toml::from_str::<NotifyConfig>(
        "base_url = \"https://pm.example.com\"\nutc_offset = \"CET\"",
    )
    .unwrap_err();
    assert!(
        offset.to_string().contains("write it as +01:00"),
        "{offset}"
    );
    let mut late = NotifyConfig::new("https://pm.example.com");
    late.digest_hour = 24;
    assert_eq!(
        late.check().unwrap_err().to_string(),
        "notify.digest_hour: 24 is not an hour; use 0 to 23"
    );
    let mut forgetful = NotifyConfig::new("https://pm.example.com");
    forgetful.keep_deliveries_days = 0;
    assert!(
        forgetful
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("notify.keep_deliveries_days: 0 would delete deliveries")
    );
    let relative = NotifyConfig::new("pm.example.com");
    assert!(
        relative
            .check()
            .unwrap_err()
            .to_string()
            .starts_with("notify.base_url:")
    );
}

fn config(smtp: Option<postmortem_notify::SmtpConfig>) -> NotifyConfig {
    let mut config = NotifyConfig::new(BASE_URL);
    config.utc_offset = parse_offset("+01:00").unwrap();
    config.smtp = smtp;
    config
}

fn notifier(db: &TestDb, config: NotifyConfig) -> Notifier {
    Notifier::new(db.store.clone(), config, db.clock.clone()).unwrap()
}

postmortem_store::backend_tests! {
    async fn the_digest_goes_out_once_a_week_at_nine_in_the_organisations_offset(db: TestDb) {
        let receiver = Receiver::start(SECRET, &[]).await;
        db.store.create_webhook(Actor::DEMO, &receiver.url, SECRET, &["digest".to_owned()]).await.unwrap();
        let dana = person(&db, "dana").await;
        incident(&db, dana, "Checkout errors after deploy", false, Some(date!(2026-03-10))).await;
        let smtp = SmtpServer::start();
        let node = notifier(&db, config(Some(smtp.config())));

        // 07:59 UTC on Monday is 08:59 at +01:00: not yet.
        db.clock.set(datetime!(2026-03-02 07:59 UTC));
        let early = node.tick().await;
        assert!(early.errors.is_empty(), "{:?}", early.errors);
        assert_eq!((early.digest_queued, early.digest_emailed), (None, false));

        db.clock.set(datetime!(2026-03-02 08:00 UTC));
        let due = node.tick().await;
        assert!(due.errors.is_empty(), "{:?}", due.errors);
        assert_eq!(due.digest_queued.as_deref(), Some("digest:2026-W10"));
        assert!(due.digest_emailed);
        assert_eq!(due.delivered, 1, "what a tick queues, it delivers in the same tick");
        let received = receiver.received();
        let body: serde_json::Value = serde_json::from_str(&received[0].body).unwrap();
        assert_eq!(body["event"], "digest");
        assert!(body["text"].as_str().unwrap().starts_with("Follow-through digest for all teams, 2026-03-02: 1 post-mortem owed (0 overdue)"), "{}", body["text"]);
        assert_eq!(body["data"]["n_reviews_owed"], 1);
        assert_eq!(smtp.messages().len(), 1);
        assert_eq!(smtp.messages()[0]["subject"], "Follow-through digest for all teams, 2026-03-02");

        db.clock.advance(time::Duration::minutes(30));
        let again = node.tick().await;
        assert_eq!((again.digest_queued, again.digest_emailed), (None, false));
        let other_node = notifier(&db, config(Some(smtp.config())));
        let other = other_node.tick().await;
        assert!(other.errors.is_empty(), "{:?}", other.errors);
        assert_eq!((other.digest_queued, other.digest_emailed), (None, false), "another node finds this week's digest sent");
        assert_eq!(smtp.messages().len(), 1);
        assert_eq!(receiver.received().len(), 1);

        db.clock.set(datetime!(2026-03-09 08:00 UTC));
        let next_week = node.tick().await;
        assert_eq!(next_week.digest_queued.as_deref(), Some("digest:2026-W11"));
        assert!(next_week.digest_emailed);
        assert_eq!(smtp.messages().len(), 2);
    }

    async fn a_refused_digest_email_is_tried_again_after_a_pause(db: TestDb) {
        let port = closed_port();
        let node = notifier(&db, config(Some(SmtpServer::config_for(port))));
        db.clock.set(datetime!(2026-03-02 08:00 UTC));
        let first = node.tick().await;
        assert_eq!(first.digest_queued.as_deref(), Some("digest:2026-W10"), "webhooks do not wait for email");
        assert_eq!(first.errors.len(), 1);
        assert!(first.errors[0].to_string().contains(&format!("127.0.0.1:{port}")), "{}", first.errors[0]);
        db.clock.advance(EMAIL_RETRY - time::Duration::seconds(1));
        assert!(node.tick().await.errors.is_empty(), "no new attempt during the pause");
        db.clock.advance(time::Duration::seconds(1));
        let retried = node.tick().await;
        assert_eq!(retried.errors.len(), 1, "tried again after the pause");
        assert_eq!(retried.digest_queued, None, "the webhook part is not queued twice");
    }

    async fn each_tick_queues_reminders_and_delivers_them(db: TestDb) {
        let receiver = Receiver::start(SECRET, &[]).await;
        db.store.create_webhook(Actor::DEMO, &receiver.url, SECRET, &["action.overdue".to_owned(), "review.overdue".to_owned()]).await.unwrap();
        let dana = person(&db, "dana").await;
        let id = incident(&db, dana, "Checkout errors after deploy", false, None).await;
        action(&db, dana, id, "Alert on pool saturation", date!(2026-03-01)).await;
        // Sunday 23:30 UTC is already Monday at +01:00, so the item due on Sunday is overdue.
        db.clock.set(datetime!(2026-03-01 23:30 UTC));
        let node = notifier(&db, config(None));
        let report = node.tick().await;
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        assert_eq!(report.reminders.len(), 1);
        assert_eq!(report.delivered, 1);
        assert_eq!(receiver.received()[0].event, "action.overdue");
        assert!(node.tick().await.reminders.is_empty());
    }

    async fn run_works_until_it_is_told_to_stop(db: TestDb) {
        let receiver = Receiver::start(SECRET, &[]).await;
        db.store.create_webhook(Actor::DEMO, &receiver.url, SECRET, &["*".to_owned()]).await.unwrap();
        db.clock.set(datetime!(2026-03-02 08:00 UTC));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(run(db.store.clone(), config(None), db.clock.clone() as Arc<dyn Clock>, async move {
            let _ = stopped.await;
        }));
        // Wait for the receiver, not for a date: the first tick runs at once.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while receiver.received().is_empty() {
            assert!(std::time::Instant::now() < deadline, "the digest never arrived");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert_eq!(receiver.received()[0].event, "digest");
        stop.send(()).unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(10), running).await.expect("run stops promptly").unwrap().unwrap();
    }

    async fn settled_deliveries_are_deleted_once_older_than_the_configured_days_at_most_hourly(db: TestDb) {
        let receiver = Receiver::start(SECRET, &[]).await;
        db.store.create_webhook(Actor::DEMO, &receiver.url, SECRET, &["action.overdue".to_owned()]).await.unwrap();
        db.store.enqueue_deliveries("action.overdue", r#"{"event":"action.overdue","text":"overdue"}"#).await.unwrap();
        let node = notifier(&db, config(None));
        let sent = node.tick().await;
        assert!(sent.errors.is_empty(), "{:?}", sent.errors);
        assert_eq!((sent.delivered, sent.pruned), (1, 0));

        db.clock.advance(time::Duration::days(30) - time::Duration::minutes(1));
        assert_eq!(node.tick().await.pruned, 0, "29 days and 23:59 old: kept");
        db.clock.advance(time::Duration::minutes(2));
        assert_eq!(node.tick().await.pruned, 0, "old enough, but this node pruned less than an hour ago");
        db.clock.advance(PRUNE_EVERY);
        let pruned = node.tick().await;
        assert!(pruned.errors.is_empty(), "{:?}", pruned.errors);
        assert_eq!(pruned.pruned, 1);
        assert!(db.store.webhook_deliveries(10).await.unwrap().is_empty());
    }

    async fn a_configuration_that_cannot_work_stops_run_before_it_starts(db: TestDb) {
        let mut bad = config(None);
        bad.digest_hour = 25;
        let error = run(db.store.clone(), bad, db.clock.clone(), std::future::pending()).await.unwrap_err();
        assert!(error.to_string().starts_with("notify.digest_hour"), "{error}");
    }
}
