//! Searching a small library of hand-written incidents: the query syntax, filters, facets,
//! snippets, similar incidents, and restricted incidents never leaking.

use crate::common::{Draft, built, ids, library, search, sorted_ids, write_incident};
use postmortem_core::{IncidentKind, PostmortemStatus, TeamName};
use postmortem_search::{SearchError, Viewer};
use postmortem_store::Actor;
use postmortem_store::testing::TestDb;

const ALL: Viewer = Viewer::Everything;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phrase_matches_only_words_that_stand_together() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, r#""connection pool""#, &ALL);
    assert_eq!(sorted_ids(&found), [lib.pool, lib.retries, lib.leak]);
    assert_eq!(found.total, 3);
    // The title says "connection pool", so the incident about it ranks first.
    assert_eq!(ids(&found)[0], lib.pool);
    assert_eq!(search(&index, r#""pool connection""#, &ALL).total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_long_word_still_finds_what_was_meant_but_a_short_one_does_not() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "timout", &ALL);
    assert_eq!(sorted_ids(&found), [lib.migration, lib.retries]);
    let snippets: Vec<_> = found.items.iter().map(|hit| hit.snippet.as_str()).collect();
    assert!(
        snippets.iter().all(|s| s.contains("<mark>timeout")),
        "{snippets:?}"
    );
    // "pol" is three letters: one edit away from far too many words to guess.
    assert_eq!(search(&index, "pol", &ALL).total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prefix_finds_every_word_it_starts() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "migrat*", &ALL);
    assert_eq!(sorted_ids(&found), [lib.pool, lib.migration]);
    assert!(
        found
            .items
            .iter()
            .all(|hit| hit.snippet.contains("<mark>migration</mark>")),
        "{found:?}"
    );
    assert_eq!(search(&index, "zepp*", &ALL).total, 1);
    // Longer than the word's stem (`migrat`): half-typed words are found all the same.
    let typed_further = search(&index, "migratio*", &ALL);
    assert_eq!(sorted_ids(&typed_further), [lib.pool, lib.migration]);
    assert!(
        typed_further
            .items
            .iter()
            .all(|hit| hit.snippet.contains("<mark>migration</mark>")),
        "{typed_further:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_filter_narrows_the_results_to_what_it_names() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let cases = [
        ("service:checkout", vec![lib.pool, lib.retries, lib.leak]),
        ("service:payments-api", vec![lib.retries]),
        ("team:discovery", vec![lib.migration]),
        ("severity:SEV1", vec![lib.pool, lib.leak]),
        ("severity:sev3", vec![lib.migration]),
        ("kind:degradation", vec![lib.migration]),
        ("status:draft", vec![lib.migration, lib.leak]),
        ("factor:third_party", vec![lib.retries]),
        ("factor:capacity", vec![lib.pool, lib.retries]),
        ("owner:sam", vec![lib.migration]),
        ("owner:@Dana", vec![lib.pool]),
        ("after:2025-01-01", vec![lib.pool, lib.retries, lib.leak]),
        ("before:2025-01-01", vec![lib.migration]),
        ("after:2025-03 before:2025-05", vec![lib.pool, lib.leak]),
        (
            "service:search service:payments-api",
            vec![lib.migration, lib.retries],
        ),
        ("pool service:checkout severity:SEV2", vec![lib.retries]),
        ("kind:near_miss", vec![]),
    ];
    for (query, expected) in cases {
        let found = search(&index, query, &ALL);
        let mut expected = expected;
        expected.sort();
        assert_eq!(sorted_ids(&found), expected, "{query}");
        assert_eq!(found.total as usize, expected.len(), "{query}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_without_words_lists_the_newest_first() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "", &ALL);
    assert_eq!(
        ids(&found),
        [lib.retries, lib.leak, lib.pool, lib.migration]
    );
    assert!(found.items.iter().all(|hit| hit.score == 0.0));
    let page = index.search("service:checkout", &ALL, 1, 1).unwrap();
    assert_eq!(ids(&page), [lib.leak]);
    assert_eq!(page.total, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facets_count_every_match_not_just_the_page() {
    let db = TestDb::sqlite().await;
    library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = index.search("pool", &ALL, 1, 0).unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.total, 3);
    let count = |facet: &[postmortem_search::FacetCount], value: &str| {
        facet
            .iter()
            .find(|c| c.value == value)
            .map_or(0, |c| c.count)
    };
    assert_eq!(count(&found.facets.service, "checkout"), 3);
    assert_eq!(count(&found.facets.service, "payments-api"), 1);
    assert_eq!(count(&found.facets.severity, "SEV1"), 2);
    assert_eq!(count(&found.facets.severity, "SEV2"), 1);
    assert_eq!(count(&found.facets.kind, "security"), 1);
    assert_eq!(count(&found.facets.factor, "capacity"), 2);
    assert_eq!(count(&found.facets.year, "2025"), 3);
    assert_eq!(count(&found.facets.team, "payments"), 2);
    // Largest first.
    assert_eq!(found.facets.service[0].value, "checkout");
    let zero = index.search("pool", &ALL, 0, 0).unwrap();
    assert!(zero.items.is_empty());
    assert_eq!(zero.total, 3);
    assert_eq!(zero.facets, found.facets);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippets_quote_the_rendered_text_and_are_cut_between_words() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let filler = "Before anyone looked at the dashboards the queue had grown for an hour, \
        and the people on call were asleep in three different time zones that night. ";
    let summary = format!(
        "{filler}{filler}The `reconciler` job **stalled** on a [lock](https://wiki.example/locks) \
         held by _nightly_ maintenance. {filler}{filler}"
    );
    let id = write_incident(
        db.store.as_ref(),
        lib.people.dana,
        Draft {
            title: "Ledger reconciliation stopped overnight",
            kind: IncidentKind::Degradation,
            severity: "SEV3",
            started: "2026-02-01T02:00:00Z",
            services: &["ledger"],
            teams: &["payments"],
            restricted: false,
            status: PostmortemStatus::Draft,
            sections: vec![("summary", summary.as_str())].leak(),
            timeline: &[],
            factors: &[],
            actions: &[],
        },
    )
    .await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "stalled", &ALL);
    assert_eq!(ids(&found), [id]);
    let snippet = &found.items[0].snippet;
    assert!(
        snippet.contains("reconciler job <mark>stalled</mark> on a lock held by nightly"),
        "{snippet}"
    );
    for syntax in ["`", "**", "_", "[", "](", "wiki.example"] {
        assert!(!snippet.contains(syntax), "{syntax} in {snippet}");
    }
    assert!(
        snippet.starts_with("… ") && snippet.ends_with(" …"),
        "{snippet}"
    );
    let words: Vec<&str> = filler.split_whitespace().collect();
    let shown = snippet.trim_matches(|c| c == '…' || c == ' ');
    let first = shown.split_whitespace().next().unwrap();
    let last = shown.split_whitespace().last().unwrap();
    assert!(
        words.contains(&first) || first == "The",
        "{first} is cut: {snippet}"
    );
    assert!(words.contains(&last), "{last} is cut: {snippet}");

    // Found by the title, the snippet is the summary's opening, also cut between words.
    let found = search(&index, "ledger", &ALL);
    let snippet = &found.items[0].snippet;
    assert!(snippet.starts_with("Before anyone looked"), "{snippet}");
    assert!(snippet.ends_with(" …"), "{snippet}");
    let last = snippet
        .trim_end_matches(" …")
        .split_whitespace()
        .last()
        .unwrap();
    assert!(
        words.contains(&last) || "`reconciler`".contains(last),
        "{last} is cut: {snippet}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snippets_mark_where_the_query_matched_and_escape_the_rest() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "exhausted", &ALL);
    assert_eq!(ids(&found), [lib.pool]);
    assert!(
        found.items[0].snippet.contains("<mark>exhausted</mark>"),
        "{:?}",
        found.items[0]
    );

    let found = search(&index, "slow cluster", &ALL);
    assert_eq!(ids(&found), [lib.migration]);
    let snippet = &found.items[0].snippet;
    assert!(snippet.contains("<mark>slow</mark>"), "{snippet}");
    assert!(snippet.contains("p99 &gt; 2s"), "{snippet}");

    // Found through a factor: the snippet comes from the factor, not the summary.
    let found = search(&index, "rehearsed", &ALL);
    assert_eq!(ids(&found), [lib.migration]);
    assert!(
        found.items[0].snippet.contains("<mark>rehearsed</mark>"),
        "{:?}",
        found.items[0]
    );
    assert_eq!(
        found.items[0].title,
        "Search latency degradation during index migration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn titles_and_summaries_outweigh_the_rest() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let store = db.store.as_ref();
    let in_a_section = |title, section, body| Draft {
        title,
        kind: IncidentKind::Outage,
        severity: "SEV3",
        started: "2025-02-01T10:00:00Z",
        services: &[],
        teams: &[],
        restricted: false,
        status: PostmortemStatus::Draft,
        sections: vec![(section, body)].leak(),
        timeline: &[],
        factors: &[],
        actions: &[],
    };
    let in_body = write_incident(
        store,
        lib.people.dana,
        in_a_section(
            "Queue stalled",
            "response",
            "We suspected a brownout of the gateway.",
        ),
    )
    .await;
    let in_summary = write_incident(
        store,
        lib.people.dana,
        in_a_section(
            "Queue stalled again",
            "summary",
            "A brownout of the gateway stalled the queue.",
        ),
    )
    .await;
    let in_title = write_incident(
        store,
        lib.people.dana,
        in_a_section("Gateway brownout", "response", "We waited for the gateway."),
    )
    .await;
    let (_dir, index) = built(&db).await;

    let found = search(&index, "brownout", &ALL);
    assert_eq!(ids(&found), [in_title, in_summary, in_body]);
    assert!(
        found.items.windows(2).all(|w| w[0].score > w[1].score),
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_incident_never_shows_to_someone_who_may_not_see_it() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    let sam = Viewer::person(lib.people.sam, vec![]);
    let rae = Viewer::person(lib.people.rae, vec![]);

    for query in [
        "zeppelin",
        "credentials",
        "kind:security",
        "team:security",
        "factor:risky_default",
    ] {
        let hidden = search(&index, query, &sam);
        assert_eq!(hidden.total, 0, "{query}");
        assert!(hidden.items.is_empty(), "{query}");
        assert!(
            hidden
                .facets
                .named()
                .iter()
                .all(|(_, counts)| counts.is_empty()),
            "{query}: {:?}",
            hidden.facets
        );
        assert_eq!(ids(&search(&index, query, &rae)), [lib.leak], "{query}");
        assert_eq!(ids(&search(&index, query, &ALL)), [lib.leak], "{query}");
    }

    let seen_by_sam = search(&index, "pool", &sam);
    assert_eq!(seen_by_sam.total, 2);
    assert!(!ids(&seen_by_sam).contains(&lib.leak));
    let checkout = seen_by_sam
        .facets
        .service
        .iter()
        .find(|c| c.value == "checkout")
        .unwrap();
    assert_eq!(checkout.count, 2);
    assert!(
        seen_by_sam
            .facets
            .kind
            .iter()
            .all(|c| c.value != "security")
    );
    assert!(
        seen_by_sam
            .items
            .iter()
            .all(|hit| !hit.snippet.contains("zeppelin"))
    );
    assert_eq!(search(&index, "pool", &rae).total, 3);
    assert_eq!(search(&index, "", &sam).total, 3);
    assert_eq!(search(&index, "", &ALL).total, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_incident_shows_to_members_of_its_teams_and_people_named_on_it() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    let team = |name: &str| TeamName::parse(name).unwrap();
    let in_security = Viewer::person(lib.people.sam, vec![team("payments"), team("security")]);
    let elsewhere = Viewer::person(lib.people.sam, vec![team("payments")]);
    assert_eq!(ids(&search(&index, "zeppelin", &in_security)), [lib.leak]);
    assert_eq!(search(&index, "team:security", &in_security).total, 1);
    assert_eq!(search(&index, "zeppelin", &elsewhere).total, 0);
    let nobody = Viewer::person(postmortem_core::UserId::new(0), vec![]);
    assert_eq!(search(&index, "", &nobody).total, 3);
    assert_eq!(
        index.similar(lib.leak, &in_security, 5).unwrap(),
        index.similar(lib.leak, &ALL, 5).unwrap()
    );
    assert!(
        index.similar(lib.leak, &elsewhere, 5).is_err(),
        "hidden like one that does not exist"
    );

    // Naming sam on the incident reaches the index through the change feed.
    let sam = Viewer::person(lib.people.sam, vec![]);
    db.store
        .add_incident_member(Actor::user(lib.people.rae), lib.leak, lib.people.sam)
        .await
        .unwrap();
    index.catch_up(db.store.as_ref()).await.unwrap();
    assert_eq!(ids(&search(&index, "zeppelin", &sam)), [lib.leak]);
    db.store
        .remove_incident_member(Actor::user(lib.people.rae), lib.leak, lib.people.sam)
        .await
        .unwrap();
    index.catch_up(db.store.as_ref()).await.unwrap();
    assert_eq!(search(&index, "zeppelin", &sam).total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_incidents_are_earlier_ones_with_the_reason_in_words() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let similar = index.similar(lib.retries, &ALL, 5).unwrap();
    let found: Vec<_> = similar.iter().map(|s| s.incident_id).collect();
    assert_eq!(found[0], lib.pool, "{similar:#?}");
    assert!(found.contains(&lib.leak), "{similar:#?}");
    let closest = &similar[0];
    assert_eq!(closest.shared_services, ["checkout"]);
    assert_eq!(closest.shared_factors, ["capacity"]);
    assert!(
        closest
            .reason
            .starts_with("same service (checkout), 1 shared factor category (capacity)"),
        "{}",
        closest.reason
    );
    assert!(
        closest.shared_terms.contains(&"pool".to_owned()),
        "{closest:?}"
    );

    // Only earlier incidents: nothing came before the oldest one.
    assert!(index.similar(lib.migration, &ALL, 5).unwrap().is_empty());
    let after_pool: Vec<_> = index
        .similar(lib.pool, &ALL, 5)
        .unwrap()
        .iter()
        .map(|s| s.incident_id)
        .collect();
    assert!(
        !after_pool.contains(&lib.retries) && !after_pool.contains(&lib.leak),
        "{after_pool:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn similar_incidents_never_include_or_reveal_a_restricted_one() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;
    let sam = Viewer::person(lib.people.sam, vec![]);
    let rae = Viewer::person(lib.people.rae, vec![]);

    let for_sam: Vec<_> = index
        .similar(lib.retries, &sam, 5)
        .unwrap()
        .iter()
        .map(|s| s.incident_id)
        .collect();
    assert!(!for_sam.contains(&lib.leak), "{for_sam:?}");
    assert!(for_sam.contains(&lib.pool));
    let for_rae: Vec<_> = index
        .similar(lib.retries, &rae, 5)
        .unwrap()
        .iter()
        .map(|s| s.incident_id)
        .collect();
    assert!(for_rae.contains(&lib.leak), "{for_rae:?}");

    let hidden = index.similar(lib.leak, &sam, 5).unwrap_err();
    let missing = index
        .similar(postmortem_core::IncidentId::new(999), &sam, 5)
        .unwrap_err();
    assert!(matches!(hidden, SearchError::UnknownIncident(_)));
    assert_eq!(
        hidden.to_string().replace(&lib.leak.to_string(), "N"),
        missing.to_string().replace("999", "N")
    );
    assert!(!index.similar(lib.leak, &rae, 5).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_read_as_text_or_refused_with_a_message_never_a_panic() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    assert_eq!(ids(&search(&index, r#""exhausted"#, &ALL)), [lib.pool]);
    assert_eq!(ids(&search(&index, "exhausted: *", &ALL)), [lib.pool]);
    assert_eq!(ids(&search(&index, "error:exhausted", &ALL)), [lib.pool]);
    assert_eq!(search(&index, "the of and", &ALL).total, 4);
    for (query, message) in [
        ("service:", "`service:` needs a value"),
        ("severity:SEV12", "is not a valid filter"),
        ("after:soon", "use a date such as"),
        (&"pool ".repeat(250), "the query is too long"),
    ] {
        let error = index.search(query, &ALL, 10, 0).unwrap_err();
        assert!(matches!(error, SearchError::Query(_)), "{error:?}");
        assert!(error.to_string().contains(message), "{error}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_serialise_in_the_shape_the_api_serves() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    let json = serde_json::to_value(search(&index, "exhausted", &ALL)).unwrap();
    assert_eq!(json["total"], 1);
    assert_eq!(json["items"][0]["incident_id"], lib.pool.get());
    assert_eq!(
        json["items"][0]["title"],
        "Checkout outage from connection pool exhaustion"
    );
    assert!(json["items"][0]["score"].as_f64().unwrap() > 0.0);
    assert!(
        json["items"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<mark>")
    );
    assert_eq!(json["facets"]["service"][0]["value"], "checkout");
    let text = postmortem_search::format_text(&search(&index, "exhausted", &ALL), false);
    assert!(text.contains("[exhausted]"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suggestions_complete_the_last_word_from_incidents_the_reader_may_see() {
    let db = TestDb::sqlite().await;
    let lib = library(&db).await;
    let (_dir, index) = built(&db).await;

    // The last word is half typed, past its stem: "migratio" still offers "migration".
    let typed = index.suggest("slow Migratio", &ALL, 5).unwrap();
    assert_eq!(
        typed
            .incidents
            .iter()
            .map(|i| i.incident_id)
            .collect::<Vec<_>>(),
        [lib.migration]
    );
    assert_eq!(typed.words[0].word, "migration", "{typed:?}");
    assert_eq!(typed.words[0].query, "slow migration");
    assert!(typed.words.iter().all(|w| w.word.starts_with("migratio")));

    // A space after the word: it is whole, and nothing is completed.
    let whole = index.suggest("pool ", &ALL, 5).unwrap();
    assert!(whole.words.is_empty());
    assert!(whole.incidents.iter().any(|i| i.incident_id == lib.pool));
    assert!(index.suggest("  ", &ALL, 5).unwrap().incidents.is_empty());

    // Restricted incidents give no title and no word to those who may not see them.
    let sam = Viewer::person(lib.people.sam, vec![]);
    let hidden = index.suggest("zepp", &sam, 5).unwrap();
    assert!(
        hidden.incidents.is_empty() && hidden.words.is_empty(),
        "{hidden:?}"
    );
    let rae = Viewer::person(lib.people.rae, vec![]);
    let seen = index.suggest("zepp", &rae, 5).unwrap();
    assert_eq!(seen.incidents[0].incident_id, lib.leak);
    assert_eq!(seen.words[0].word, "zeppelin");
    let credentials = index.suggest("credent", &sam, 5).unwrap();
    assert!(
        credentials.words.iter().all(|w| w.word != "credentials"),
        "{credentials:?}"
    );
}
