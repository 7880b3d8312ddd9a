//! Any string is a query: it is answered or refused with a message, never a panic, and never
//! shows a restricted incident to someone who may not see it.

use crate::common::{Library, built, library};
use postmortem_search::{SearchError, SearchIndex, Viewer};
use postmortem_store::testing::TestDb;
use proptest::prelude::*;
use std::sync::OnceLock;

struct Fixture {
    index: SearchIndex,
    lib: Library,
    // Kept alive for as long as the index is used.
    _db: TestDb,
    _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (db, lib, dir, index) = runtime.block_on(async {
            let db = TestDb::sqlite().await;
            let lib = library(&db).await;
            let (dir, index) = built(&db).await;
            (db, lib, dir, index)
        });
        Fixture {
            index,
            lib,
            _db: db,
            _dir: dir,
            _runtime: runtime,
        }
    })
}

/// Strings made of the pieces that mean something to the syntax, so the interesting paths
/// (filters, quotes, prefixes, typos) are hit far more often than by random text.
fn syntax_soup() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "\"",
        ":",
        "*",
        " ",
        "  ",
        "service:",
        "severity:",
        "SEV1",
        "sev9",
        "kind:",
        "status:",
        "factor:",
        "capacity",
        "owner:",
        "@",
        "after:",
        "before:",
        "2025",
        "2025-13-01",
        "2025-02-29",
        "team:",
        "pool",
        "connection",
        "timout",
        "migrat*",
        "m*",
        "zeppelin",
        "the",
        "-",
        "(",
        ")",
        "AND",
        "OR",
        "NOT",
        "~2",
        "^3",
        "\\",
        "\u{0}",
        "é",
        "ß",
        "日本",
        "\u{202e}",
        "\t",
        "\n",
        "<b>",
        "&amp;",
        "'",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

fn check(query: &str) -> Result<(), TestCaseError> {
    let Fixture { index, lib, .. } = fixture();
    let sam = Viewer::person(lib.people.sam, vec![]);
    match (
        index.search(query, &sam, 10, 0),
        index.search(query, &Viewer::Everything, 10, 0),
    ) {
        (Ok(seen_by_sam), Ok(seen_by_all)) => {
            prop_assert!(seen_by_sam.items.len() <= 10);
            prop_assert!(seen_by_sam.total >= seen_by_sam.items.len() as u64);
            prop_assert!(
                seen_by_sam
                    .items
                    .iter()
                    .all(|hit| hit.incident_id != lib.leak)
            );
            prop_assert!(seen_by_sam.total <= seen_by_all.total);
            for hit in &seen_by_sam.items {
                prop_assert_eq!(
                    hit.snippet.matches("<mark>").count(),
                    hit.snippet.matches("</mark>").count()
                );
                prop_assert!(!hit.snippet.contains("<b>"));
            }
        }
        (Err(SearchError::Query(a)), Err(SearchError::Query(b))) => {
            prop_assert_eq!(&a, &b);
            prop_assert!(!a.to_string().is_empty());
        }
        (a, b) => prop_assert!(false, "`{query:?}` answered {a:?} and {b:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn any_string_is_answered_or_refused_with_a_message(query in any::<String>()) {
        check(&query)?;
    }

    #[test]
    fn any_mix_of_syntax_is_answered_or_refused_with_a_message(query in syntax_soup()) {
        check(&query)?;
    }

    #[test]
    fn similar_incidents_never_panic_or_leak(id in 0i64..8, limit in 0usize..200) {
        let Fixture { index, lib, .. } = fixture();
        let sam = Viewer::person(lib.people.sam, vec![]);
        match index.similar(postmortem_core::IncidentId::new(id), &sam, limit) {
            Ok(similar) => {
                prop_assert!(similar.len() <= limit);
                prop_assert!(similar.iter().all(|s| s.incident_id != lib.leak));
            }
            Err(error) => prop_assert!(matches!(error, SearchError::UnknownIncident(_)), "{error}"),
        }
    }
}
