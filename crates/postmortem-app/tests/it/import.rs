//! Markdown imports through the app: matched again by id or slug, audited with the acting
//! person or system actor and the file's source, hostile files refused in bounded time.

use crate::system::{account, app};
use postmortem_app::{AppError, ImportOutcome};
use postmortem_core::SystemActor;
use postmortem_store::testing::TestDb;
use std::time::Instant;

const EXPORT: &str = "---\nformat: postmortem/1\nid: 4\ntitle: Checkout down\nkind: outage\nseverity: SEV2\ntemplate: full\nstatus: draft\nrecorded_by: dana\nrecorded_at: 2025-03-14T14:02:00Z\n---\n\n# Checkout down\n\n## Summary\n\nCheckout returned 502s for 40 minutes.\n\n## Timeline\n\n## Factors\n\n## Action items\n";

const WRITTEN_ELSEWHERE: &str = "# Search was slow\n\n## Summary\n\nSearch answered in seconds instead of milliseconds.\n\n## Timeline\n\n- 2025-06-02 14:02 UTC Latency alert fired\n";

#[tokio::test]
async fn a_file_imported_again_changes_nothing_and_its_audit_event_names_who_and_the_source() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    app.as_system(SystemActor::Accounts)
        .create_account(account("dana", "contributor"))
        .await
        .unwrap();
    let import = app.as_system(SystemActor::Import);
    let dry = import
        .import_markdown("library/checkout.md", EXPORT.as_bytes(), true)
        .await
        .unwrap();
    assert_eq!(dry.outcome, ImportOutcome::WouldCreate);
    assert!(
        db.store
            .audit_events(None, 10)
            .await
            .unwrap()
            .iter()
            .all(|e| e.action != "incident.import"),
        "a dry run writes nothing"
    );

    let first = import
        .import_markdown("library/checkout.md", EXPORT.as_bytes(), false)
        .await
        .unwrap();
    let ImportOutcome::Created { id } = first.outcome else {
        panic!("created: {first:?}")
    };
    let history = db
        .store
        .audit_events(Some(postmortem_core::IncidentId::new(id)), 10)
        .await
        .unwrap();
    let imported = history
        .iter()
        .find(|e| e.action == "incident.import")
        .unwrap();
    assert_eq!(imported.system_actor.as_deref(), Some("system:import"));
    assert_eq!(imported.details["source"], "library/checkout.md");

    let again = import
        .import_markdown("elsewhere/checkout.md", EXPORT.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged { id });
    let changed = EXPORT.replace("40 minutes", "45 minutes");
    let differs = import
        .import_markdown("library/checkout.md", changed.as_bytes(), false)
        .await
        .unwrap();
    assert!(
        matches!(differs.outcome, ImportOutcome::Differs { id: same, .. } if same == id),
        "{differs:?}"
    );
}

#[tokio::test]
async fn a_post_mortem_written_elsewhere_is_the_importers_and_the_system_will_not_make_up_an_author()
 {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let accounts = app.as_system(SystemActor::Accounts);
    let (dana, _) = accounts
        .create_account(account("dana", "contributor"))
        .await
        .unwrap();
    let (vic, _) = accounts
        .create_account(account("vic", "viewer"))
        .await
        .unwrap();
    let refused = app
        .as_system(SystemActor::Import)
        .import_markdown("search.md", WRITTEN_ELSEWHERE.as_bytes(), false)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("--as HANDLE"), "{refused}");
    let viewer = app
        .acting_for(&vic)
        .import_markdown("api", WRITTEN_ELSEWHERE.as_bytes(), false)
        .await
        .unwrap_err();
    assert_eq!(viewer.code(), "forbidden");

    let imported = app
        .acting_for(&dana)
        .import_markdown("api", WRITTEN_ELSEWHERE.as_bytes(), false)
        .await
        .unwrap();
    let ImportOutcome::Created { id } = imported.outcome else {
        panic!("{imported:?}")
    };
    let record = app
        .acting_for(&dana)
        .incident(postmortem_core::IncidentId::new(id))
        .await
        .unwrap();
    assert_eq!(record.incident.created_by, dana.id);
    assert_eq!(record.timeline.len(), 1);
    let history = db
        .store
        .audit_events(Some(record.incident.id), 10)
        .await
        .unwrap();
    let event = history
        .iter()
        .find(|e| e.action == "incident.import")
        .unwrap();
    assert_eq!(
        (event.actor, event.details["source"].as_str()),
        (Some(dana.id), Some("api"))
    );
    let again = app
        .acting_for(&dana)
        .import_markdown("api", WRITTEN_ELSEWHERE.as_bytes(), false)
        .await
        .unwrap();
    assert_eq!(
        again.outcome,
        ImportOutcome::Unchanged { id },
        "matched by slug and start"
    );
}

#[tokio::test]
async fn hostile_files_end_in_a_clear_error_naming_the_file_in_bounded_time() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let (dana, _) = app
        .as_system(SystemActor::Accounts)
        .create_account(account("dana", "contributor"))
        .await
        .unwrap();
    let mut bomb = String::from(
        "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in b'b'..=b'z' {
        let previous = (level - 1) as char;
        let level = level as char;
        bomb.push_str(&format!("{level}: &{level} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n"));
    }
    bomb.push_str("---\n# Title\n");
    let mut deep = "#".repeat(1000);
    deep.push_str(" Deep\n\n");
    for _ in 0..1000 {
        deep.push_str("> ");
    }
    deep.push_str("## Hidden\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "huge.md",
            vec![b'a'; 10 * 1024 * 1024],
            "huge.md:1: the file is",
        ),
        (
            "latin1.md",
            b"# T\n\nbad \xff\n".to_vec(),
            "latin1.md:3: the file is not UTF-8",
        ),
        ("bomb.md", bomb.into_bytes(), "bomb.md:"),
    ];
    let service = app.acting_for(&dana);
    for (name, bytes, said) in cases {
        let started = Instant::now();
        let error = service
            .import_markdown(name, &bytes, false)
            .await
            .unwrap_err();
        assert!(
            started.elapsed().as_secs() < 5,
            "{name} took {:?}",
            started.elapsed()
        );
        assert!(matches!(error, AppError::Invalid(_)), "{name}: {error}");
        assert!(error.to_string().contains(said), "{name}: {error}");
    }
    let started = Instant::now();
    let nested = service
        .import_markdown("deep.md", deep.as_bytes(), false)
        .await;
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    if let Err(error) = nested {
        assert!(error.to_string().contains("deep.md"), "{error}");
    }
    assert_eq!(
        db.store
            .audit_events(None, 100)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == "incident.import")
            .count(),
        usize::from(nested_created(&db).await),
        "nothing of a refused file is written"
    );
}

/// Whether the deeply nested file made an incident (it is valid Markdown, read in bounded
/// time); the refused ones must not have.
async fn nested_created(db: &TestDb) -> bool {
    db.store
        .list_incidents(&postmortem_store::IncidentQuery::new(
            postmortem_store::Visibility::Everything,
        ))
        .await
        .unwrap()
        .total
        == 1
}
