//! Markdown imports through the app: matched again by id or slug, audited with the acting
//! person or system actor and the file's source, hostile files refused in bounded time.

use crate::system::{account, app};
use postmortem_app::export::{People, document_of};
use postmortem_app::{App, AppError, ImportOptions, ImportOutcome};
use postmortem_core::{IncidentId, SystemActor};
use postmortem_markdown::render;
use postmortem_store::Visibility;
use postmortem_store::testing::TestDb;
use std::time::Instant;

const DRY_RUN: ImportOptions = ImportOptions {
    dry_run: true,
    force: false,
};

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
        .import_markdown("library/checkout.md", EXPORT.as_bytes(), DRY_RUN)
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
        .import_markdown(
            "library/checkout.md",
            EXPORT.as_bytes(),
            ImportOptions::default(),
        )
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
        .import_markdown(
            "elsewhere/checkout.md",
            EXPORT.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged { id });
    let changed = EXPORT.replace("40 minutes", "45 minutes");
    let refused = import
        .import_markdown(
            "library/checkout.md",
            changed.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "version_conflict", "{refused}");
    assert!(
        refused.to_string().contains("has no `version:`")
            && refused.to_string().contains("--force"),
        "a file without the version it was exported at cannot tell what changed since: {refused}"
    );
}

/// The incident's export, as `postmortem export` writes it.
async fn export(app: &App, id: i64) -> String {
    let record = app
        .store()
        .incident(IncidentId::new(id), Visibility::Everything)
        .await
        .unwrap()
        .unwrap();
    let people = People::load(app.store().as_ref()).await.unwrap();
    render(&document_of(&record, &people), &app.rules().templates)
}

/// An incident imported from `EXPORT` by `dana`, who then edits its export.
async fn imported_by_dana(db: &TestDb) -> (App, postmortem_core::User, i64) {
    let app = app(db);
    let accounts = app.as_system(SystemActor::Accounts);
    let (dana, _) = accounts
        .create_account(account("dana", "contributor"))
        .await
        .unwrap();
    accounts
        .create_account(account("lee", "contributor"))
        .await
        .unwrap();
    let created = app
        .acting_for(&dana)
        .import_markdown("checkout.md", EXPORT.as_bytes(), ImportOptions::default())
        .await
        .unwrap();
    let ImportOutcome::Created { id } = created.outcome else {
        panic!("{created:?}")
    };
    (app, dana, id)
}

/// Dana's edits of an export: a worse severity, a longer outage, a new timeline entry and a
/// new action item.
fn edited(export: &str) -> String {
    export
        .replace("severity: SEV2", "severity: SEV1")
        .replace("for 40 minutes.", "for 45 minutes.\n\nThe payment provider's sandbox was unaffected.")
        .replace(
            "## Factors",
            "- 2025-03-14T14:02:00Z · detected · observed · alert · by @dana\n  Checkout error rate alert fired.\n\n## Factors",
        )
        + "\n- [ ] Alert on 502s at the edge\n  - status: open\n  - priority: p1\n  - kind: process\n  - owner: @lee\n"
}

async fn history(app: &App, id: i64) -> Vec<postmortem_store::AuditEvent> {
    app.store()
        .audit_events(Some(IncidentId::new(id)), 100)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_changed_export_updates_its_incident_part_by_part_and_importing_it_again_changes_nothing()
{
    let db = TestDb::sqlite().await;
    let (app, dana, id) = imported_by_dana(&db).await;
    let file = edited(&export(&app, id).await);
    let feed_before = app.store().latest_change_seq().await.unwrap();

    let updated = app
        .acting_for(&dana)
        .import_markdown(
            "library/checkout.md",
            file.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    let ImportOutcome::Updated {
        id: same,
        version,
        changes,
    } = updated.outcome.clone()
    else {
        panic!("{updated:?}")
    };
    assert_eq!(same, id);
    let parts: Vec<&str> = changes.iter().map(|c| c.part.as_str()).collect();
    assert_eq!(
        parts,
        [
            "severity",
            "section \"Summary\"",
            "timeline",
            "action items"
        ]
    );

    let record = app
        .acting_for(&dana)
        .incident(IncidentId::new(id))
        .await
        .unwrap();
    assert_eq!(record.incident.severity.to_string(), "SEV1");
    assert_eq!(record.incident.version, version);
    assert_eq!(record.timeline.len(), 1);
    assert_eq!(record.actions.len(), 1);
    assert!(
        record.actions[0].owner.is_some(),
        "lee has an account and owns it"
    );
    assert_eq!(
        export(&app, id).await,
        file.replace("version: 1", &format!("version: {version}")),
        "the incident now says what the file says"
    );
    let event = history(&app, id)
        .await
        .into_iter()
        .find(|e| e.action == "incident.import.update")
        .unwrap();
    assert_eq!(
        event.actor,
        Some(dana.id),
        "audited as the importing person's update"
    );
    assert_eq!(event.details["source"], "library/checkout.md");
    assert_eq!(event.details["before"]["severity"], "SEV2");
    assert_eq!(event.details["after"]["severity"], "SEV1");
    assert_eq!(
        app.store().latest_change_seq().await.unwrap(),
        feed_before + 1,
        "one change-feed row for the whole update"
    );

    let events = history(&app, id).await.len();
    let again = app
        .acting_for(&dana)
        .import_markdown(
            "library/checkout.md",
            file.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(
        again.outcome,
        ImportOutcome::Unchanged { id },
        "nothing changed since"
    );
    let exported_again = export(&app, id).await;
    let again = app
        .acting_for(&dana)
        .import_markdown(
            "library/checkout.md",
            exported_again.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged { id });
    assert_eq!(
        history(&app, id).await.len(),
        events,
        "no audit event for a no-op"
    );
    assert_eq!(
        app.store().latest_change_seq().await.unwrap(),
        feed_before + 1,
        "no feed row for a no-op"
    );
}

#[tokio::test]
async fn a_file_exported_before_the_incident_changed_is_refused_unless_forced() {
    let db = TestDb::sqlite().await;
    let (app, dana, id) = imported_by_dana(&db).await;
    let file = edited(&export(&app, id).await);
    let mut sections = std::collections::BTreeMap::new();
    sections.insert(
        "summary".to_owned(),
        "Checkout returned 502s; written in the app.".to_owned(),
    );
    app.acting_for(&dana)
        .save_sections(IncidentId::new(id), Some(1), sections, None)
        .await
        .unwrap();
    let events = history(&app, id).await.len();

    let refused = app
        .acting_for(&dana)
        .import_markdown(
            "library/checkout.md",
            file.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "version_conflict");
    let message = refused.to_string();
    assert!(
        message.contains("library/checkout.md: incident 1 changed in postmortem since this file was exported at version 1; it is at version 2")
            && message.contains("Export it again and re-apply your edits, or pass --force"),
        "{message}"
    );
    assert_eq!(
        history(&app, id).await.len(),
        events,
        "a refused file writes nothing"
    );
    assert!(export(&app, id).await.contains("written in the app"));
    let dry = app
        .acting_for(&dana)
        .import_markdown("library/checkout.md", file.as_bytes(), DRY_RUN)
        .await
        .unwrap_err();
    assert_eq!(dry.code(), "version_conflict", "a dry run says the same");

    let forced = app
        .acting_for(&dana)
        .import_markdown(
            "library/checkout.md",
            file.as_bytes(),
            ImportOptions {
                dry_run: false,
                force: true,
            },
        )
        .await
        .unwrap();
    assert!(
        matches!(forced.outcome, ImportOutcome::Updated { .. }),
        "{forced:?}"
    );
    assert!(!export(&app, id).await.contains("written in the app"));
    let event = history(&app, id)
        .await
        .into_iter()
        .find(|e| e.action == "incident.import.update")
        .unwrap();
    assert_eq!(event.details["forced"], true);
}

#[tokio::test]
async fn a_file_cannot_move_the_post_mortem_through_its_lifecycle() {
    let db = TestDb::sqlite().await;
    let (app, dana, id) = imported_by_dana(&db).await;
    let file = export(&app, id)
        .await
        .replace("status: draft", "status: published");
    let refused = app
        .acting_for(&dana)
        .import_markdown("checkout.md", file.as_bytes(), ImportOptions::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "invalid_input");
    assert!(
        refused.to_string().contains("from `draft` to `published`"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_dry_run_lists_each_changed_fact_and_section_and_writes_nothing() {
    let db = TestDb::sqlite().await;
    let (app, dana, id) = imported_by_dana(&db).await;
    let file = edited(&export(&app, id).await);
    let events = history(&app, id).await.len();
    let dry = app
        .acting_for(&dana)
        .import_markdown("library/checkout.md", file.as_bytes(), DRY_RUN)
        .await
        .unwrap();
    let ImportOutcome::WouldUpdate { changes, .. } = dry.outcome else {
        panic!("{dry:?}")
    };
    let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
    insta::assert_snapshot!(shown.join("\n"));
    assert_eq!(history(&app, id).await.len(), events);
    assert!(export(&app, id).await.contains("severity: SEV2"));
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
        .import_markdown(
            "search.md",
            WRITTEN_ELSEWHERE.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("--as HANDLE"), "{refused}");
    let viewer = app
        .acting_for(&vic)
        .import_markdown(
            "api",
            WRITTEN_ELSEWHERE.as_bytes(),
            ImportOptions::default(),
        )
        .await
        .unwrap_err();
    assert_eq!(viewer.code(), "forbidden");

    let imported = app
        .acting_for(&dana)
        .import_markdown(
            "api",
            WRITTEN_ELSEWHERE.as_bytes(),
            ImportOptions::default(),
        )
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
        .import_markdown(
            "api",
            WRITTEN_ELSEWHERE.as_bytes(),
            ImportOptions::default(),
        )
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
            .import_markdown(name, &bytes, ImportOptions::default())
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
        .import_markdown("deep.md", deep.as_bytes(), ImportOptions::default())
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

#[tokio::test]
async fn a_google_docs_html_export_is_imported_through_the_same_mapping_and_found_again() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let (dana, _) = app
        .as_system(SystemActor::Accounts)
        .create_account(account("dana", "contributor"))
        .await
        .unwrap();
    let page = include_str!(
        "../../../postmortem-markdown/tests/it/fixtures/html/google-docs-download.html"
    );
    let created = app
        .acting_for(&dana)
        .import_markdown("search.html", page.as_bytes(), ImportOptions::default())
        .await
        .unwrap();
    let ImportOutcome::Created { id } = created.outcome else {
        panic!("{created:?}")
    };
    let record = app
        .acting_for(&dana)
        .incident(IncidentId::new(id))
        .await
        .unwrap();
    assert_eq!(record.incident.title.as_str(), "Search latency incident");
    assert_eq!((record.timeline.len(), record.actions.len()), (2, 2));
    let again = app
        .acting_for(&dana)
        .import_markdown("search.html", page.as_bytes(), ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(again.outcome, ImportOutcome::Unchanged { id });
}
