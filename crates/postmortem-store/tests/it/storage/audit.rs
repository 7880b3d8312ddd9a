//! The audit log: every kind of write records who did what, when, and the state before and
//! after, without secrets; and the log pages with filters.

use super::*;
use serde_json::{Value, json};

/// The newest audit event, which the write just before it appended.
async fn newest(db: &TestDb) -> AuditEvent {
    db.store.audit_events(None, 1).await.unwrap().remove(0)
}

/// What and which incident, for each event a query finds.
async fn by(db: &TestDb, query: AuditQuery) -> Vec<(String, Option<postmortem_core::IncidentId>)> {
    let page = db.store.audit_log(&query).await.unwrap();
    page.items
        .into_iter()
        .map(|e| (e.action, e.incident_id))
        .collect()
}

postmortem_store::backend_tests! {
    async fn a_section_save_records_each_changed_sections_text_before_and_after(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.save_sections(Actor::user(dana), id, 1, vec![(section("summary"), text("Checkout failed.")), (section("impact"), text("Orders lost."))]).await.unwrap();
        let first = newest(&db).await;
        assert_eq!((first.action.as_str(), first.actor, first.incident_id), ("section.save", Some(dana), Some(id)));
        assert_eq!(first.details["before"], json!({"summary": null, "impact": null}), "neither section was written before");
        db.store.save_sections(Actor::user(dana), id, 2, vec![(section("summary"), text("Checkout failed for 40 minutes.")), (section("impact"), text("Orders lost."))]).await.unwrap();
        let second = newest(&db).await;
        assert_eq!(second.details["before"], json!({"summary": "Checkout failed."}), "the unchanged impact section is left out");
        assert_eq!(second.details["after"], json!({"summary": "Checkout failed for 40 minutes."}));
        assert_eq!(second.at, db.clock.now());
    }

    async fn racing_saves_of_one_section_have_one_winner_per_version_and_an_unbroken_audit_chain(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        for (round, version) in (1..=12).enumerate() {
            // Eight writers who all read the incident at `version` save the summary at once.
            let saves: Vec<_> = (0..8).map(|writer| {
                let store = db.store.clone();
                let body = text(&format!("Round {round}, writer {writer}"));
                tokio::spawn(async move { store.save_sections(Actor::user(dana), id, version, vec![(section("summary"), body)]).await })
            }).collect();
            let mut outcomes = Vec::new();
            for save in saves {
                outcomes.push(save.await.unwrap().unwrap());
            }
            let winners: Vec<i64> = outcomes.iter().filter_map(|o| match o { SaveOutcome::Saved { version } => Some(*version), _ => None }).collect();
            assert_eq!(winners, vec![version + 1], "round {round}: exactly one save wins, at the next version: {outcomes:?}");
        }
        let mut saves = db.store.audit_events(Some(id), 100).await.unwrap();
        saves.retain(|e| e.action == "section.save");
        saves.reverse();
        assert_eq!(saves.len(), 12);
        assert_eq!(saves[0].details["before"]["summary"], Value::Null);
        for pair in saves.windows(2) {
            assert_eq!(pair[1].details["before"]["summary"], pair[0].details["after"]["summary"], "each save's before is the previous save's after");
        }
    }

    async fn a_refused_save_or_transition_appends_no_audit_event(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.save_sections(Actor::user(dana), id, 1, vec![(section("summary"), text("Dana's text"))]).await.unwrap();
        let before = db.store.audit_events(Some(id), 50).await.unwrap().len();
        let outcome = db.store.save_sections(Actor::user(sam), id, 1, vec![(section("summary"), text("Sam's text"))]).await.unwrap();
        assert!(matches!(outcome, SaveOutcome::Conflict { .. }));
        assert!(db.store.set_status(Actor::user(sam), id, PostmortemStatus::Published, None).await.is_err());
        assert_eq!(db.store.audit_events(Some(id), 50).await.unwrap().len(), before);
    }

    async fn a_transition_records_the_status_before_and_after_with_its_note(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.set_status(Actor::user(dana), id, PostmortemStatus::Draft, Some("Starting the write-up.".into())).await.unwrap();
        let event = newest(&db).await;
        assert_eq!(event.action, "postmortem.transition");
        assert_eq!(event.details["before"], json!({"status": "owed"}));
        assert_eq!(event.details["after"], json!({"status": "draft"}));
        assert_eq!(event.details["note"], "Starting the write-up.");
    }

    async fn a_new_incident_records_its_whole_starting_state(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.action.as_str(), event.incident_id), ("incident.create", Some(id)));
        assert_eq!(event.details["before"], Value::Null);
        let after = &event.details["after"];
        assert_eq!(after["title"], "Checkout down");
        assert_eq!(after["severity"], "SEV2");
        assert_eq!(after["started_at"], "2026-03-01T14:00:00+01:00");
        assert_eq!(after["services"], json!(["checkout"]));
        assert_eq!(after["teams"], json!(["payments"]));
        assert_eq!(after["impact"]["customer_minutes"], 42);
        assert_eq!((after["restricted"].clone(), after["status"].clone()), (json!(false), json!("owed")));
    }

    async fn each_imported_incident_starts_its_history_with_its_import(db: TestDb) {
        person(&db, "dana", Role::Contributor).await;
        let bundle = |title: &str| IncidentBundle {
            incident: incident(title, "SEV3", &["search"]),
            created_by: Handle::parse("dana").unwrap(),
            created_at: db.clock.now(),
            status: PostmortemStatus::Draft,
            due_on: None,
            published_at: None,
            sections: vec![],
            timeline: vec![],
            factors: vec![],
            actions: vec![],
            reviews: vec![],
        };
        let ids = db.store.import_bundles(Actor::IMPORT, Some("library/checkout.md"), &[bundle("First import"), bundle("Second import")]).await.unwrap();
        for (id, title) in ids.iter().zip(["First import", "Second import"]) {
            let history = db.store.audit_events(Some(*id), 10).await.unwrap();
            assert_eq!(history.len(), 1);
            assert_eq!((history[0].action.as_str(), history[0].actor), ("incident.import", None));
            assert_eq!(history[0].system_actor.as_deref(), Some("system:import"), "the system actor is named");
            assert_eq!(history[0].details["source"], "library/checkout.md");
            assert_eq!(history[0].details["after"]["title"], title);
            assert_eq!(history[0].details["after"]["status"], "draft");
        }
    }

    async fn additions_record_everything_they_added(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let entry = db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T14:02:00+01:00", Some(Marker::Detected))).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.action.as_str(), event.details["before"].clone()), ("timeline.add", Value::Null));
        assert_eq!(event.details["entry_id"], entry.id.get());
        assert_eq!(event.details["after"]["text"], "Checkout error rate alert fired");
        assert_eq!(event.details["after"]["marker"], "detected");
        assert_eq!(event.details["after"]["perspective"], "observed");

        let factor = db.store.add_factor(Actor::user(dana), id, NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true }).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.action.as_str(), event.details["factor_id"].clone()), ("factor.add", json!(factor.id.get())));
        assert_eq!(event.details["after"]["description"], "Pool too small.");
        assert_eq!(event.details["after"]["is_trigger"], true);

        let mut new_action = action("Raise the pool size");
        new_action.factor_ids = vec![factor.id];
        new_action.owner = Some(dana);
        let item = db.store.add_action(Actor::user(dana), id, new_action).await.unwrap();
        let event = newest(&db).await;
        assert_eq!(event.action, "action.add");
        assert_eq!(event.details["action_id"], item.id.get());
        assert_eq!(event.details["after"]["title"], "Raise the pool size");
        assert_eq!(event.details["after"]["owner"], dana.get());
        assert_eq!(event.details["after"]["factor_ids"], json!([factor.id.get()]));
        assert_eq!(event.details["after"]["status"], "open");

        let comment = db.store.add_comment(Actor::user(dana), id, section("summary"), text("Which pool?"), None).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.action.as_str(), event.details["comment_id"].clone()), ("comment.add", json!(comment.id.get())));
        assert_eq!(event.details["after"], json!({"section": "summary", "body": "Which pool?", "quote": null}));
        db.store.set_comment_resolved(Actor::user(dana), id, comment.id, true).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.details["before"].clone(), event.details["after"].clone()), (json!({"resolved": false}), json!({"resolved": true})));
    }

    async fn an_action_update_records_every_field_before_and_after(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let item = db.store.add_action(Actor::user(dana), id, action("Add a canary stage")).await.unwrap();
        let updated = db.store.update_action(Actor::user(sam), item.id, ActionUpdate {
            owner: Some(Some(sam)),
            due_on: Some(Some(time::macros::date!(2026 - 04 - 01))),
            ..Default::default()
        }).await.unwrap();
        let event = newest(&db).await;
        assert_eq!((event.action.as_str(), event.actor, event.incident_id), ("action.update", Some(sam), Some(id)));
        assert_eq!((event.details["before"]["owner"].clone(), event.details["before"]["due_on"].clone()), (Value::Null, Value::Null));
        assert_eq!(event.details["before"]["title"], item.title.as_str());
        assert_eq!(event.details["after"]["title"], updated.title.as_str());
        assert_eq!(event.details["after"]["owner"], sam.get());
        assert_eq!(event.details["after"]["due_on"], "2026-04-01");
    }

    async fn a_review_records_the_standing_it_replaced(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Reviewer).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.set_review(Actor::user(dana), id, rae, ReviewDecision::Requested, None).await.unwrap();
        let requested = newest(&db).await;
        assert_eq!((requested.action.as_str(), requested.details["reviewer"].clone()), ("review.set", json!(rae.get())));
        assert_eq!(requested.details["before"], Value::Null);
        db.store.set_review(Actor::user(rae), id, rae, ReviewDecision::ChangesRequested, Some("Name the replica.".into())).await.unwrap();
        let decided = newest(&db).await;
        assert_eq!(decided.details["before"], json!({"decision": "requested", "comment": null}));
        assert_eq!(decided.details["after"], json!({"decision": "changes_requested", "comment": "Name the replica."}));
    }

    async fn a_changed_policy_decision_records_the_decision_it_replaced(db: TestDb) {
        use postmortem_core::policy::Requirement;
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident_decided(Actor::user(dana), incident("Outage", "SEV3", &["a"]), owed(), Requirement::Recommended, vec!["user visible".into()]).await.unwrap();
        db.store.set_policy_decision(Actor::user(dana), id, Requirement::Required, &["data loss".to_owned()]).await.unwrap();
        let event = newest(&db).await;
        assert_eq!(event.action, "policy.decide");
        assert_eq!(event.details["before"], json!({"decision": "recommended", "reasons": ["user visible"]}));
        assert_eq!(event.details["after"], json!({"decision": "required", "reasons": ["data loss"]}));
    }

    async fn a_system_actor_is_recorded_by_name_and_a_person_by_id_alone(db: TestDb) {
        let ada = db.store.create_user(Actor::ACCOUNTS, NewUser {
            handle: Handle::parse("ada").unwrap(),
            display_name: DisplayName::parse("Ada Admin").unwrap(),
            role: Role::Admin,
            password_hash: None,
        }).await.unwrap().id;
        let by_system = newest(&db).await;
        assert_eq!((by_system.actor, by_system.system_actor.as_deref()), (None, Some("system:accounts")));
        db.store.create_team(Actor::user(ada), NewTeam { name: TeamName::parse("payments").unwrap(), display_name: DisplayName::parse("Payments").unwrap() }).await.unwrap();
        let by_person = newest(&db).await;
        assert_eq!((by_person.actor, by_person.system_actor), (Some(ada), None));
    }

    async fn people_and_credentials_are_audited_without_any_secret(db: TestDb) {
        let ada = person(&db, "ada", Role::Admin).await;
        let dana = db.store.create_user(Actor::user(ada), NewUser {
            handle: Handle::parse("dana").unwrap(),
            display_name: DisplayName::parse("Dana Example").unwrap(),
            role: Role::Contributor,
            password_hash: Some("$argon2id$first-password-hash".into()),
        }).await.unwrap().id;
        let created = newest(&db).await;
        assert_eq!((created.action.as_str(), created.actor), ("user.create", Some(ada)));
        assert_eq!(created.details["after"], json!({"handle": "dana", "display_name": "Dana Example", "role": "contributor", "password_set": true}));
        db.store.set_password_hash(Actor::user(dana), dana, "$argon2id$second-password-hash").await.unwrap();
        let changed = newest(&db).await;
        assert_eq!(changed.details["before"], json!({"password_set": true}));
        assert_eq!(changed.details["after"]["password_changed"], true);
        let expires_at = db.clock.now() + time::Duration::days(30);
        let token_id = db.store.create_api_token(Actor::user(dana), NewApiToken { user_id: dana, token_hash: "token-hash-0123456789".into(), label: "ci".into(), expires_at: Some(expires_at) }).await.unwrap();
        let token = newest(&db).await;
        assert_eq!((token.action.as_str(), token.details["token_id"].clone()), ("token.create", json!(token_id)));
        assert_eq!(token.details["after"]["label"], "ci");
        assert_eq!(token.details["after"]["expires_at"], "2026-04-01T09:00:00Z");
        let in_between = expires_at + time::Duration::nanoseconds(1_234_567);
        db.store.create_session(NewSession { user_id: dana, session_hash: "session-hash-0123456789".into(), expires_at: in_between }).await.unwrap();
        let signed_in = newest(&db).await;
        assert_eq!(signed_in.action, "session.create");
        assert_eq!(signed_in.details["after"], json!({"user_id": dana.get(), "expires_at": "2026-04-01T09:00:00.001Z"}), "to the millisecond, as stored");
        db.store.delete_session("session-hash-0123456789").await.unwrap();
        let signed_out = newest(&db).await;
        assert_eq!((signed_out.action.as_str(), signed_out.actor), ("session.delete", Some(dana)));
        db.store.delete_session("no-such-session").await.unwrap();
        assert_eq!(newest(&db).await.id, signed_out.id, "signing out a session that is gone changes nothing");
        db.store.create_webhook(Actor::user(ada), "https://chat.example.com/hook", "webhook-secret-0123456789", &["*".to_owned()]).await.unwrap();

        let log = db.store.audit_events(None, 100).await.unwrap().iter().map(|e| e.details.to_string()).collect::<Vec<_>>().join("\n");
        for secret in ["first-password-hash", "second-password-hash", "token-hash-0123456789", "session-hash-0123456789", "webhook-secret-0123456789"] {
            assert!(!log.contains(secret), "`{secret}` reached the audit log");
        }
    }

    async fn delivery_attempts_record_the_delivery_before_and_after(db: TestDb) {
        db.store.create_webhook(Actor::DEMO, "https://example.com/h", "a-secret-of-sixteen", &["*".to_owned()]).await.unwrap();
        db.store.enqueue_deliveries("digest", "{}").await.unwrap();
        let queued = newest(&db).await;
        assert_eq!((queued.action.as_str(), queued.details["after"]["event"].clone()), ("webhook.enqueue", json!("digest")));
        let due = db.store.due_deliveries(db.clock.now(), 10).await.unwrap();
        db.store.record_delivery_attempt(due[0].id, DeliveryOutcome::Failed { response_code: Some(503), error: "unavailable".into() }).await.unwrap();
        let failed = newest(&db).await;
        assert_eq!(failed.details["before"], json!({"attempts": 0, "status": "pending", "response_code": null, "error": null}));
        assert_eq!(failed.details["after"]["attempts"], 1);
        assert_eq!(failed.details["after"]["response_code"], 503);
    }

    async fn the_audit_log_pages_newest_first_without_gaps_or_repeats(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        for n in 0..11 {
            db.store.save_sections(Actor::user(dana), id, 1 + n, vec![(section("summary"), text(&format!("Version {n}")))]).await.unwrap();
        }
        let everything = db.store.audit_events(None, 100).await.unwrap();
        assert_eq!(everything.len(), 13, "user, incident, eleven saves");
        let mut query = AuditQuery { limit: 5, ..AuditQuery::default() };
        let mut seen = Vec::new();
        loop {
            let page = db.store.audit_log(&query).await.unwrap();
            assert!(page.items.len() <= 5);
            seen.extend(page.items.iter().map(|e| e.id));
            // A write between pages must not shift what the next page holds.
            person(&db, &format!("late{}", seen.len()), Role::Viewer).await;
            match page.next_cursor {
                Some(cursor) => query.cursor = Some(cursor),
                None => break,
            }
        }
        assert_eq!(seen, everything.iter().map(|e| e.id).collect::<Vec<_>>(), "every event once, newest first");
    }

    async fn the_audit_log_filters_by_actor_incident_kind_and_time(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let first = db.store.create_incident(Actor::user(dana), incident("First", "SEV2", &["a"]), owed()).await.unwrap();
        let second = db.store.create_incident(Actor::user(sam), incident("Second", "SEV2", &["b"]), owed()).await.unwrap();
        db.clock.advance(time::Duration::hours(1));
        let later = db.clock.now();
        db.store.save_sections(Actor::user(sam), first, 1, vec![(section("summary"), text("Sam wrote this."))]).await.unwrap();
        db.store.set_status(Actor::user(dana), second, PostmortemStatus::Draft, None).await.unwrap();

        assert_eq!(by(&db, AuditQuery { actor: Some(sam), ..Default::default() }).await,
            [("section.save".to_owned(), Some(first)), ("incident.create".to_owned(), Some(second))]);
        assert_eq!(by(&db, AuditQuery { incident: Some(first), ..Default::default() }).await,
            [("section.save".to_owned(), Some(first)), ("incident.create".to_owned(), Some(first))]);
        assert_eq!(by(&db, AuditQuery { action: Some("incident".into()), ..Default::default() }).await.len(), 2, "a kind matches all its actions");
        assert_eq!(by(&db, AuditQuery { action: Some("incident.create".into()), actor: Some(dana), ..Default::default() }).await,
            [("incident.create".to_owned(), Some(first))]);
        assert_eq!(by(&db, AuditQuery { action: Some("user".into()), ..Default::default() }).await.len(), 2);
        assert_eq!(by(&db, AuditQuery { after: Some(later), ..Default::default() }).await.len(), 2, "from the instant on");
        assert_eq!(by(&db, AuditQuery { before: Some(later), ..Default::default() }).await.len(), 4, "up to the instant");
        assert_eq!(by(&db, AuditQuery { after: Some(later), incident: Some(second), ..Default::default() }).await,
            [("postmortem.transition".to_owned(), Some(second))]);
    }

    async fn a_bad_audit_cursor_or_action_is_refused_clearly(db: TestDb) {
        let cursor = db.store.audit_log(&AuditQuery { cursor: Some("yesterday".into()), ..Default::default() }).await.unwrap_err();
        assert!(matches!(cursor, StoreError::InvalidCursor(_)), "{cursor}");
        let action = db.store.audit_log(&AuditQuery { action: Some("section%".into()), ..Default::default() }).await.unwrap_err();
        assert!(action.to_string().contains("such as `section.save`"), "{action}");
    }
}
