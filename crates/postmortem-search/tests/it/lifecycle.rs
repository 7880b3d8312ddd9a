//! The index's life beside the store: built from it, kept current by the change feed,
//! resumed after a restart from the position it committed, and rebuilt when damaged.

use crate::common::{Draft, built, ids, library, save, search, write_incident};
use postmortem_core::{IncidentKind, PostmortemStatus};
use postmortem_search::{OpenOutcome, SearchIndex, Viewer};
use postmortem_store::testing::TestDb;
use std::path::Path;
use std::time::{Duration, Instant};

const ALL: Viewer = Viewer::Everything;

fn quiet(title: &'static str, summary: &'static str) -> Draft<'static> {
    Draft {
        title,
        kind: IncidentKind::NearMiss,
        severity: "SEV4",
        started: "2026-03-01T10:00:00Z",
        services: &["billing"],
        teams: &["payments"],
        restricted: false,
        status: PostmortemStatus::Draft,
        sections: vec![("summary", summary)].leak(),
        timeline: &[],
        factors: &[],
        actions: &[],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_index_is_built_from_the_store_on_its_first_catch_up() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path().join("index")).unwrap();
    assert_eq!(index.opened(), &OpenOutcome::Created);
    assert_eq!(index.applied_seq(), None);
    assert_eq!(search(&index, "", &ALL).total, 0);

    let report = index.catch_up(db.store.as_ref()).await.unwrap();
    assert!(report.rebuilt);
    assert_eq!(report.incidents, 4);
    let head = db.store.latest_change_seq().await.unwrap();
    assert_eq!(report.applied_seq, head);
    assert_eq!(index.applied_seq(), Some(head));
    assert_eq!(search(&index, "", &ALL).total, 4);
    assert!(index.size_on_disk() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_reports_progress_and_replaces_everything() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let (_dir, index) = built(&db).await;
    let mut seen = Vec::new();
    let report = index
        .rebuild(db.store.as_ref(), |progress| seen.push(progress))
        .await
        .unwrap();
    assert_eq!(report.incidents, 4);
    let last = seen.last().unwrap();
    assert_eq!((last.indexed, last.total), (4, 4));
    // Rebuilding twice leaves one document per incident.
    assert_eq!(search(&index, "", &ALL).total, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_change_is_searchable_after_catch_up_and_replaces_the_old_text() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    let store = db.store.as_ref();

    let id = write_incident(
        store,
        lib.people.dana,
        quiet("Invoice run skipped", "The kerfuffle began at midnight."),
    )
    .await;
    assert_eq!(search(&index, "kerfuffle", &ALL).total, 0);
    let report = index.catch_up(store).await.unwrap();
    assert!(!report.rebuilt);
    assert_eq!(report.incidents, 1);
    assert!(report.changes >= 2, "{report:?}");
    assert_eq!(ids(&search(&index, "kerfuffle", &ALL)), [id]);

    save(
        store,
        lib.people.dana,
        id,
        &[("summary", "The hullabaloo began at midnight.")],
    )
    .await;
    index.catch_up(store).await.unwrap();
    assert_eq!(search(&index, "kerfuffle", &ALL).total, 0);
    assert_eq!(ids(&search(&index, "hullabaloo", &ALL)), [id]);
    assert_eq!(search(&index, "invoice", &ALL).total, 1);

    // Nothing new: nothing applied, nothing committed.
    let idle = index.catch_up(store).await.unwrap();
    assert_eq!((idle.changes, idle.incidents), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_committed_position() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let applied = {
        let index = SearchIndex::open(&path).unwrap();
        index.catch_up(db.store.as_ref()).await.unwrap().applied_seq
    };
    let id = write_incident(
        db.store.as_ref(),
        lib.people.dana,
        quiet("Invoice run skipped", "The kerfuffle began at midnight."),
    )
    .await;

    let index = SearchIndex::open(&path).unwrap();
    assert_eq!(
        index.opened(),
        &OpenOutcome::Opened {
            applied_seq: applied
        }
    );
    assert_eq!(search(&index, "", &ALL).total, 4);
    let report = index.catch_up(db.store.as_ref()).await.unwrap();
    assert!(!report.rebuilt, "{report:?}");
    assert_eq!(report.incidents, 1);
    let new_rows = db.store.changes_since(applied, 1000).await.unwrap().len() as u64;
    assert_eq!(report.changes, new_rows);
    assert_eq!(ids(&search(&index, "kerfuffle", &ALL)), [id]);
    assert_eq!(search(&index, "", &ALL).total, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_makes_a_saved_change_searchable_within_a_second() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    let index = std::sync::Arc::new(index);
    let store = db.store.clone();
    let follower = {
        let index = index.clone();
        tokio::spawn(async move {
            index
                .follow(store.as_ref(), Duration::from_millis(200))
                .await
        })
    };

    let id = write_incident(
        db.store.as_ref(),
        lib.people.dana,
        quiet("Invoice run skipped", "The kerfuffle began at midnight."),
    )
    .await;
    let saved = Instant::now();
    while search(&index, "kerfuffle", &ALL).total == 0 {
        assert!(
            saved.elapsed() < Duration::from_secs(1),
            "not searchable after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(ids(&search(&index, "kerfuffle", &ALL)), [id]);
    follower.abort();
}

/// Opens the index at `path` after `damage`, expecting it recreated and then rebuilt whole.
async fn heals_after(db: &TestDb, path: &Path, damage: impl FnOnce(&Path)) {
    damage(path);
    let expected_recreated = path.exists();
    let index = SearchIndex::open(path).unwrap();
    match index.opened() {
        OpenOutcome::Recreated { reason } => assert!(expected_recreated, "{reason}"),
        OpenOutcome::Created => assert!(!expected_recreated),
        other => panic!("the damage went unnoticed: {other:?}"),
    }
    let report = index.catch_up(db.store.as_ref()).await.unwrap();
    assert!(report.rebuilt);
    assert_eq!(search(&index, "", &ALL).total, 4);
    assert_eq!(search(&index, "zeppelin", &ALL).total, 1);
}

fn segment_files(path: &Path, extension: &str) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(path)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_or_missing_index_is_rebuilt_not_fatal() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let build = || async {
        let index = SearchIndex::open(&path).unwrap();
        index.catch_up(db.store.as_ref()).await.unwrap();
    };

    build().await;
    heals_after(&db, &path, |path| {
        std::fs::write(path.join("meta.json"), b"{ not json").unwrap()
    })
    .await;

    heals_after(&db, &path, |path| {
        for file in segment_files(path, "store") {
            let mut bytes = std::fs::read(&file).unwrap();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0xff;
            std::fs::write(&file, bytes).unwrap();
        }
    })
    .await;

    heals_after(&db, &path, |path| {
        for file in segment_files(path, "idx") {
            std::fs::remove_file(file).unwrap();
        }
    })
    .await;

    heals_after(&db, &path, |path| {
        for file in segment_files(path, "term") {
            let bytes = std::fs::read(&file).unwrap();
            std::fs::write(&file, &bytes[..bytes.len() / 3]).unwrap();
        }
    })
    .await;

    heals_after(&db, &path, |path| std::fs::remove_dir_all(path).unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiping_a_damaged_index_leaves_other_files_alone() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    {
        let index = SearchIndex::open(&path).unwrap();
        index.catch_up(db.store.as_ref()).await.unwrap();
    }
    std::fs::write(path.join("notes.txt"), "keep me").unwrap();
    heals_after(&db, &path, |path| {
        std::fs::write(path.join("meta.json"), b"").unwrap()
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(path.join("notes.txt")).unwrap(),
        "keep me"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_on_the_same_directory_is_refused_clearly() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let (dir, _index) = built(&db).await;
    let error = SearchIndex::open(dir.path().join("index")).unwrap_err();
    assert!(
        error.to_string().contains("in use by another process"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres_catch_up_follows_the_change_feed() {
    let db = TestDb::postgres().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    assert_eq!(search(&index, "", &ALL).total, 4);
    assert_eq!(
        search(&index, "zeppelin", &Viewer::person(lib.people.sam, vec![])).total,
        0
    );
    assert_eq!(
        search(&index, "zeppelin", &Viewer::person(lib.people.rae, vec![])).total,
        1
    );

    let id = write_incident(
        db.store.as_ref(),
        lib.people.dana,
        quiet("Invoice run skipped", "The kerfuffle began at midnight."),
    )
    .await;
    let report = index.catch_up(db.store.as_ref()).await.unwrap();
    assert!(!report.rebuilt);
    assert_eq!(
        report.applied_seq,
        db.store.latest_change_seq().await.unwrap()
    );
    assert_eq!(ids(&search(&index, "kerfuffle", &ALL)), [id]);
    save(
        db.store.as_ref(),
        lib.people.dana,
        id,
        &[("summary", "The hullabaloo began at midnight.")],
    )
    .await;
    index.catch_up(db.store.as_ref()).await.unwrap();
    assert_eq!(search(&index, "kerfuffle", &ALL).total, 0);
    assert_eq!(ids(&search(&index, "hullabaloo", &ALL)), [id]);
}
