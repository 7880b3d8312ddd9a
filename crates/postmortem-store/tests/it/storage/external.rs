//! The external version: one draft per incident, edited against its version, and its
//! publication, every write audited.

use super::*;
use postmortem_core::{ExternalSpec, Redaction, RedactionKind};

fn draft(incident: IncidentId, markdown: &str, expected_version: Option<i64>) -> NewExternalDraft {
    NewExternalDraft {
        incident,
        spec: ExternalSpec {
            sections: vec![section("summary")],
            ..ExternalSpec::default()
        },
        title: "Checkout down".into(),
        markdown: markdown.into(),
        redactions: vec![Redaction {
            kind: RedactionKind::Host,
            section: "summary".into(),
            found: "db-7".into(),
            replaced_by: "[internal host]".into(),
        }],
        expected_version,
    }
}

postmortem_store::backend_tests! {
    async fn a_draft_is_made_replaced_and_edited_only_from_its_current_version(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        assert!(db.store.external_draft(id).await.unwrap().is_none());

        let first = db.store.save_external_draft(Actor::user(dana), draft(id, "one", None)).await.unwrap();
        assert_eq!((first.version, first.markdown.as_str()), (1, "one"));
        assert_eq!(db.store.external_draft(id).await.unwrap().unwrap(), first);
        let replaced = db.store.save_external_draft(Actor::user(dana), draft(id, "two", None)).await.unwrap();
        assert_eq!(replaced.version, 2);
        let edited = db.store.save_external_draft(Actor::user(dana), draft(id, "three", Some(2))).await.unwrap();
        assert_eq!((edited.version, edited.redactions.len()), (3, 1));

        let stale = db.store.save_external_draft(Actor::user(dana), draft(id, "lost", Some(2))).await.unwrap_err();
        assert!(matches!(stale, StoreError::VersionConflict { expected: 2, current: 3 }), "{stale}");
        assert_eq!(db.store.external_draft(id).await.unwrap().unwrap().markdown, "three");

        let audit = db.store.audit_events(Some(id), 1).await.unwrap().remove(0);
        assert_eq!(audit.action, "external.draft.update");
        assert_eq!(audit.details["before"]["markdown"], "two");
        assert_eq!(audit.details["after"]["markdown"], "three");
    }

    async fn a_publication_is_found_by_its_slug_until_it_is_taken_down(db: TestDb) {
        let ada = person(&db, "ada", Role::Admin).await;
        let id = db.store.create_incident(Actor::user(ada), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let other = db.store.create_incident(Actor::user(ada), incident("Search slow", "SEV3", &["search"]), owed()).await.unwrap();
        let published = db.store.publish_external(Actor::user(ada), NewPublication { incident: id, slug: "checkout-down".into(), title: "Checkout down".into(), markdown: "# Checkout down".into() }).await.unwrap();
        assert_eq!(db.store.publication_by_slug("checkout-down").await.unwrap().unwrap(), published);
        assert_eq!(db.store.publication(id).await.unwrap().unwrap().published_by, ada);

        let taken = db.store.publish_external(Actor::user(ada), NewPublication { incident: other, slug: "checkout-down".into(), title: "x".into(), markdown: "x".into() }).await.unwrap_err();
        assert!(matches!(taken, StoreError::Duplicate(_)), "{taken}");

        db.store.unpublish_external(Actor::user(ada), id).await.unwrap();
        assert!(db.store.publication_by_slug("checkout-down").await.unwrap().is_none());
        let again = db.store.unpublish_external(Actor::user(ada), id).await.unwrap_err();
        assert!(matches!(again, StoreError::NotFound(_)), "{again}");
        let actions: Vec<String> = db.store.audit_events(Some(id), 5).await.unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(&actions[..2], ["external.unpublish", "external.publish"]);
    }
}
