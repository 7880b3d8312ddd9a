//! Review comments on a passage (the quote kept with its surroundings, resolved and opened
//! again where they stand) and revisions of a published post-mortem, every write audited.

use super::*;
use postmortem_core::PassageQuote;

fn quote(prefix: &str, exact: &str, suffix: &str) -> PassageQuote {
    PassageQuote::parse("quote", exact, prefix, suffix).unwrap()
}

postmortem_store::backend_tests! {
    async fn a_comment_keeps_the_passage_it_quotes_and_is_resolved_and_reopened_where_it_stands(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Reviewer).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let passage = quote("Customers saw ", "errors for 20 minutes", ". The cache was cold.");
        let on_passage = db.store.add_comment(Actor::user(rae), id, section("summary"), text("Which errors?"), Some(passage.clone())).await.unwrap();
        let on_section = db.store.add_comment(Actor::user(rae), id, section("impact"), text("Say how many customers."), None).await.unwrap();

        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.comments[0].quote.as_ref(), Some(&passage));
        assert_eq!(record.comments[0].id, on_passage.id);
        assert_eq!(record.comments[1].quote, None, "a comment on the whole section has no quote");

        db.store.set_comment_resolved(Actor::user(dana), id, on_passage.id, true).await.unwrap();
        let resolved = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert!(resolved.comments[0].resolved);
        assert_eq!(resolved.comments[0].quote.as_ref(), Some(&passage), "resolving keeps the passage");
        db.store.set_comment_resolved(Actor::user(rae), id, on_passage.id, false).await.unwrap();
        let reopened = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert!(!reopened.comments[0].resolved);
        assert!(reopened.incident.version > resolved.incident.version, "each change bumps the version readers cache by");

        let events = db.store.audit_events(Some(id), 10).await.unwrap();
        let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(&actions[..4], ["comment.reopen", "comment.resolve", "comment.add", "comment.add"], "newest first");
        assert_eq!(events[0].details["before"]["resolved"], true);
        assert_eq!(events[3].details["after"]["quote"]["exact"], "errors for 20 minutes");

        let missing = db.store.set_comment_resolved(Actor::user(dana), id, on_section.id, true).await;
        assert!(missing.is_ok());
        let elsewhere = db.store.create_incident(Actor::user(dana), incident("Other", "SEV3", &["search"]), owed()).await.unwrap();
        let refused = db.store.set_comment_resolved(Actor::user(dana), elsewhere, on_passage.id, true).await.unwrap_err();
        assert!(matches!(refused, StoreError::NotFound("comment")), "a comment is resolved only on its own incident");
    }

    async fn a_revision_is_saved_with_its_sections_audited_and_its_notice_queued_in_one_write(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let admin = person(&db, "ada", Role::Admin).await;
        db.store.create_webhook(Actor::user(admin), "https://chat.example.com/hook/1", "a-secret-of-sixteen", &["postmortem.revised".to_owned()]).await.unwrap();
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.save_sections(Actor::user(dana), id, 1, vec![(section("summary"), text("Checkout failed for 40 minutes."))]).await.unwrap();
        let base = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().incident.version;
        let revision = NewRevision {
            note: "Corrected the duration to 42 minutes".into(),
            notice: Some(("postmortem.revised".into(), r#"{"event":"postmortem.revised","text":"revised","data":{}}"#.into())),
        };
        let outcome = db.store.revise_sections(Actor::user(dana), id, base, vec![
            (section("summary"), text("Checkout failed for 42 minutes.")),
            (section("impact"), text("")),
        ], revision).await.unwrap();
        let SaveOutcome::Saved { version } = outcome else { panic!("{outcome:?}") };

        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.postmortem.sections[&section("summary")].body.as_str(), "Checkout failed for 42 minutes.");
        assert_eq!(record.revisions.len(), 1);
        let kept = &record.revisions[0];
        assert_eq!((kept.revised_by, kept.note.as_str()), (Some(dana), "Corrected the duration to 42 minutes"));
        assert_eq!(kept.sections, [section("impact"), section("summary")], "the sections whose text changed");
        let events = db.store.audit_events(Some(id), 3).await.unwrap();
        assert_eq!((events[0].action.as_str(), events[1].action.as_str()), ("postmortem.revise", "section.save"));
        assert_eq!(events[0].details["after"]["note"], "Corrected the duration to 42 minutes");
        assert_eq!(events[0].details["after"]["version"], version);
        let deliveries = db.store.webhook_deliveries(10).await.unwrap();
        assert_eq!(deliveries.iter().map(|d| d.event.as_str()).collect::<Vec<_>>(), ["postmortem.revised"]);

        let stale = NewRevision { note: "Lost".into(), notice: None };
        let refused = db.store.revise_sections(Actor::user(dana), id, base, vec![(section("summary"), text("Another text."))], stale).await.unwrap();
        assert!(matches!(refused, SaveOutcome::Conflict { .. }), "{refused:?}");
        let after = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(after.revisions.len(), 1, "a refused revision leaves nothing behind");
        assert_eq!(db.store.webhook_deliveries(10).await.unwrap().len(), 1);
    }
}
