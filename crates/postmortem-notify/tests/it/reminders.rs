//! Reminders on a real store: what becomes overdue fires once, across nodes, and never for
//! a restricted incident.

use crate::common::{BASE_URL, SECRET, action, incident, person};
use postmortem_notify::reminders::{LOOKBACK_DAYS, scan};
use postmortem_store::testing::TestDb;
use postmortem_store::{ActionUpdate, Actor, Clock};
use time::macros::date;

async fn catch_all_webhook(db: &TestDb) {
    db.store
        .create_webhook(
            Actor::DEMO,
            "https://chat.example.com/hook",
            SECRET,
            &["*".to_owned()],
        )
        .await
        .unwrap();
}

postmortem_store::backend_tests! {
    async fn an_overdue_review_and_an_overdue_action_each_fire_once(db: TestDb) {
        catch_all_webhook(&db).await;
        let dana = person(&db, "dana").await;
        let id = incident(&db, dana, "Checkout errors after deploy", false, Some(date!(2026-02-27))).await;
        let item = action(&db, dana, id, "Alert on pool saturation", date!(2026-02-28)).await;
        let today = date!(2026-03-02);

        let fired = scan(&*db.store, BASE_URL, today, db.clock.now()).await.unwrap();
        let keys: Vec<&str> = fired.iter().map(|r| r.key.as_str()).collect();
        assert_eq!(keys, [format!("review.overdue:{id}"), format!("action.overdue:{}", item.id)]);
        assert!(fired.iter().all(|r| r.queued == 1));
        assert_eq!(
            fired[0].payload.text,
            format!("The post-mortem of <https://pm.example.com/incidents/{id}|#{id} Checkout errors after deploy> (SEV2, payments) \
                     was due on 2026-02-27 and is still owed. Finishing the review while the incident is fresh keeps what we learned from it.")
        );
        assert!(fired[1].payload.text.starts_with("The action item \u{201c}Alert on pool saturation\u{201d} (owner @dana, team sre) from <https://pm.example.com/incidents/"), "{}", fired[1].payload.text);
        assert_eq!(fired[1].payload.data["due_on"], "2026-02-28");

        let queued = db.store.webhook_deliveries(10).await.unwrap();
        let events: Vec<&str> = queued.iter().map(|d| d.event.as_str()).collect();
        assert_eq!(events, ["action.overdue", "review.overdue"]);
        let body: serde_json::Value = serde_json::from_str(&queued[1].payload).unwrap();
        assert_eq!(body["event"], "review.overdue");
        assert_eq!(body["data"]["url"], format!("https://pm.example.com/incidents/{id}"));

        db.clock.advance(time::Duration::hours(1));
        assert!(scan(&*db.store, BASE_URL, today, db.clock.now()).await.unwrap().is_empty(), "a second scan fires nothing");
        assert!(scan(&*db.store, BASE_URL, date!(2026-03-03), db.clock.now()).await.unwrap().is_empty(), "nor does the next day");
        assert_eq!(db.store.webhook_deliveries(10).await.unwrap().len(), 2);
    }

    async fn restricted_incidents_never_produce_a_reminder(db: TestDb) {
        catch_all_webhook(&db).await;
        let dana = person(&db, "dana").await;
        let id = incident(&db, dana, "Leaked credentials", true, Some(date!(2026-02-27))).await;
        let item = action(&db, dana, id, "Rotate the signing keys", date!(2026-02-28)).await;

        assert!(scan(&*db.store, BASE_URL, date!(2026-03-02), db.clock.now()).await.unwrap().is_empty());
        assert!(db.store.webhook_deliveries(10).await.unwrap().is_empty());
        assert!(db.store.claim_reminder(&format!("review.overdue:{id}"), db.clock.now()).await.unwrap(), "its review was never claimed");
        assert!(db.store.claim_reminder(&format!("action.overdue:{}", item.id), db.clock.now()).await.unwrap(), "nor its action");
    }

    async fn only_what_just_became_overdue_and_is_still_open_fires(db: TestDb) {
        catch_all_webhook(&db).await;
        let dana = person(&db, "dana").await;
        let id = incident(&db, dana, "Queue backlog", false, None).await;
        let today = date!(2026-03-02);
        let due_today = action(&db, dana, id, "Due today", today).await;
        action(&db, dana, id, "Long overdue", today - time::Duration::days(LOOKBACK_DAYS + 1)).await;
        let done = action(&db, dana, id, "Finished late", date!(2026-03-01)).await;
        db.store.update_action(Actor::user(dana), done.id, ActionUpdate {
            status: Some(postmortem_core::ActionStatus::Done),
            verification: Some("the alert fired in the drill".into()),
            ..ActionUpdate::default()
        }).await.unwrap();

        assert!(scan(&*db.store, BASE_URL, today, db.clock.now()).await.unwrap().is_empty(), "nothing became overdue yet");
        let tomorrow = scan(&*db.store, BASE_URL, date!(2026-03-03), db.clock.now()).await.unwrap();
        assert_eq!(tomorrow.iter().map(|r| r.key.clone()).collect::<Vec<_>>(), [format!("action.overdue:{}", due_today.id)]);
    }

    async fn two_nodes_scanning_at_once_queue_each_reminder_once(db: TestDb) {
        catch_all_webhook(&db).await;
        let dana = person(&db, "dana").await;
        for n in 0..5 {
            let id = incident(&db, dana, &format!("Incident {n}"), false, Some(date!(2026-02-27))).await;
            action(&db, dana, id, "Add a runbook", date!(2026-02-28)).await;
        }
        let now = db.clock.now();
        let nodes: Vec<_> = (0..2)
            .map(|_| {
                let store = db.store.clone();
                tokio::spawn(async move { scan(&*store, BASE_URL, date!(2026-03-02), now).await.unwrap().len() })
            })
            .collect();
        let mut fired = 0;
        for node in nodes {
            fired += node.await.unwrap();
        }
        assert_eq!(fired, 10);
        assert_eq!(db.store.webhook_deliveries(100).await.unwrap().len(), 10);
    }

    async fn a_reminder_is_claimed_even_when_no_webhook_listens(db: TestDb) {
        let dana = person(&db, "dana").await;
        incident(&db, dana, "Cache stampede", false, Some(date!(2026-02-27))).await;
        let fired = scan(&*db.store, BASE_URL, date!(2026-03-02), db.clock.now()).await.unwrap();
        assert_eq!(fired.len(), 1);
        assert_eq!(fired[0].queued, 0);
        catch_all_webhook(&db).await;
        assert!(scan(&*db.store, BASE_URL, date!(2026-03-02), db.clock.now()).await.unwrap().is_empty(), "a webhook added later does not get old reminders");
    }
}
