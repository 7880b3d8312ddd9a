//! A small library of hand-written incidents, written through the store's own API, and the
//! people who wrote them.

use postmortem_core::{
    ActionKind, ActionStatus, DisplayName, FactorCategory, Handle, Impact, IncidentId,
    IncidentKind, Markdown, Name, NewActionItem, NewFactor, NewIncident, NewTimelineEntry,
    Perspective, PostmortemStatus, Priority, Role, SectionName, Severity, Source, TemplateName,
    Title, UserId, parse_instant,
};
use postmortem_search::{SearchIndex, SearchResults, Viewer};
use postmortem_store::testing::TestDb;
use postmortem_store::{Actor, NewUser, PostmortemStart, SaveOutcome, Store};

/// The people of the library: `dana` and `rae` write, `sam` only reads.
#[derive(Debug, Clone, Copy)]
pub struct People {
    pub dana: UserId,
    pub rae: UserId,
    pub sam: UserId,
}

/// The incidents of the library.
#[derive(Debug, Clone, Copy)]
pub struct Library {
    pub people: People,
    /// Checkout, SEV1 outage, March 2025: connection pool exhausted after a deploy.
    pub pool: IncidentId,
    /// Search, SEV3 degradation, November 2024: slow during an index migration.
    pub migration: IncidentId,
    /// Checkout and payments, SEV2 outage, June 2025: retries double-charged customers.
    pub retries: IncidentId,
    /// Checkout, SEV1 security incident recorded by rae, April 2025, restricted.
    pub leak: IncidentId,
}

pub async fn person(store: &dyn Store, handle: &str) -> UserId {
    store
        .create_user(
            Actor::DEMO,
            NewUser {
                handle: Handle::parse(handle).unwrap(),
                display_name: DisplayName::parse(format!("{handle} Example")).unwrap(),
                role: Role::Contributor,
                password_hash: None,
            },
        )
        .await
        .unwrap()
        .id
}

/// What an incident is, for [`write_incident`].
pub struct Draft<'a> {
    pub title: &'a str,
    pub kind: IncidentKind,
    pub severity: &'a str,
    pub started: &'a str,
    pub services: &'a [&'a str],
    pub teams: &'a [&'a str],
    pub restricted: bool,
    pub status: PostmortemStatus,
    pub sections: &'a [(&'a str, &'a str)],
    pub timeline: &'a [&'a str],
    pub factors: &'a [(FactorCategory, &'a str)],
    pub actions: &'a [(&'a str, Option<UserId>)],
}

pub async fn write_incident(store: &dyn Store, author: UserId, draft: Draft<'_>) -> IncidentId {
    let actor = Actor::user(author);
    let new = NewIncident {
        title: Title::parse(draft.title).unwrap(),
        kind: draft.kind,
        severity: Severity::parse(draft.severity).unwrap(),
        started_at: Some(parse_instant("started_at", draft.started).unwrap()),
        services: draft
            .services
            .iter()
            .map(|s| Name::parse(*s).unwrap())
            .collect(),
        teams: draft
            .teams
            .iter()
            .map(|t| Name::parse(*t).unwrap())
            .collect(),
        impact: Impact::default(),
        restricted: draft.restricted,
        template: TemplateName::full(),
    };
    let start = PostmortemStart {
        status: draft.status,
        due_on: None,
    };
    let id = store.create_incident(actor, new, start).await.unwrap();
    if !draft.sections.is_empty() {
        save(store, author, id, draft.sections).await;
    }
    for text in draft.timeline {
        let entry = NewTimelineEntry {
            at: parse_instant("at", draft.started).unwrap(),
            text: Markdown::parse(*text).unwrap(),
            actor: None,
            marker: None,
            perspective: Perspective::Observed,
            source: Source::Manual,
            source_url: None,
        };
        store.add_timeline_entry(actor, id, entry).await.unwrap();
    }
    for (category, description) in draft.factors {
        let factor = NewFactor {
            category: *category,
            description: Markdown::parse(*description).unwrap(),
            is_trigger: false,
        };
        store.add_factor(actor, id, factor).await.unwrap();
    }
    for (title, owner) in draft.actions {
        let action = NewActionItem {
            title: Title::parse(*title).unwrap(),
            owner: *owner,
            team: None,
            due_on: None,
            priority: Priority::P2,
            kind: ActionKind::Prevent,
            status: ActionStatus::Open,
            wont_do_reason: None,
            external_url: None,
            factor_ids: vec![],
            verification: None,
        };
        store.add_action(actor, id, action).await.unwrap();
    }
    id
}

/// Saves sections over whatever version the incident is at.
pub async fn save(store: &dyn Store, author: UserId, id: IncidentId, sections: &[(&str, &str)]) {
    let version = store
        .incident(id, postmortem_store::Visibility::Everything)
        .await
        .unwrap()
        .unwrap()
        .incident
        .version;
    let sections = sections
        .iter()
        .map(|(name, body)| {
            (
                SectionName::parse(*name).unwrap(),
                Markdown::parse(*body).unwrap(),
            )
        })
        .collect();
    let outcome = store
        .save_sections(Actor::user(author), id, version, sections)
        .await
        .unwrap();
    assert!(matches!(outcome, SaveOutcome::Saved { .. }), "{outcome:?}");
}

/// Writes the library into `db`.
pub async fn library(db: &TestDb) -> Library {
    let store = db.store.as_ref();
    let dana = person(store, "dana").await;
    let rae = person(store, "rae").await;
    let sam = person(store, "sam").await;
    let pool = write_incident(
        store,
        dana,
        Draft {
            title: "Checkout outage from connection pool exhaustion",
            kind: IncidentKind::Outage,
            severity: "SEV1",
            started: "2025-03-10T14:00:00+01:00",
            services: &["checkout"],
            teams: &["payments"],
            restricted: false,
            status: PostmortemStatus::Published,
            sections: &[
                ("summary", "Checkout requests failed for forty minutes because the database connection pool was exhausted after a deploy doubled the worker count."),
                ("response", "The on-call engineer rolled back the deploy once the saturation graph made the cause plain."),
            ],
            timeline: &["Error rate alert fired for checkout", "Deploy rolled back"],
            factors: &[
                (FactorCategory::Capacity, "The connection pool size was never revisited after the migration to the new cluster."),
                (FactorCategory::ChangeManagement, "The deploy changed the worker count without a capacity review."),
                (FactorCategory::Alerting, "No alert fired on pool saturation, only on errors."),
            ],
            actions: &[("Alert on connection pool saturation", Some(dana))],
        },
    )
    .await;
    let migration = write_incident(
        store,
        dana,
        Draft {
            title: "Search latency degradation during index migration",
            kind: IncidentKind::Degradation,
            severity: "SEV3",
            started: "2024-11-02T09:30:00Z",
            services: &["search"],
            teams: &["discovery"],
            restricted: false,
            status: PostmortemStatus::Draft,
            sections: &[(
                "summary",
                "Search results were slow (p99 > 2s) for two hours while the index migration ran on the primary cluster.",
            )],
            timeline: &["Request timeout errors climbed on the search API"],
            factors: &[
                (FactorCategory::InsufficientTesting, "The migration script was never rehearsed against production-sized data."),
                (FactorCategory::OutdatedDocs, "The runbook still described the old cluster layout."),
            ],
            actions: &[("Rehearse migrations on a production-sized copy", Some(sam))],
        },
    )
    .await;
    let retries = write_incident(
        store,
        rae,
        Draft {
            title: "Payment retries charged customers twice",
            kind: IncidentKind::Outage,
            severity: "SEV2",
            started: "2025-06-01T18:00:00Z",
            services: &["checkout", "payments-api"],
            teams: &["payments"],
            restricted: false,
            status: PostmortemStatus::InReview,
            sections: &[(
                "summary",
                "A retry loop in the payments client resent captures when the gateway answered slowly, so some customers were charged twice.",
            )],
            timeline: &["Support reported duplicate charges"],
            factors: &[
                (FactorCategory::ThirdParty, "The payment gateway timeouts were longer than its documentation said."),
                (FactorCategory::Capacity, "The connection pool of the payments client was too small for the retry storm."),
            ],
            actions: &[("Make captures idempotent", Some(rae))],
        },
    )
    .await;
    let leak = write_incident(
        store,
        rae,
        Draft {
            title: "Credentials printed in build logs",
            kind: IncidentKind::Security,
            severity: "SEV1",
            started: "2025-04-01T08:00:00Z",
            services: &["checkout"],
            teams: &["security"],
            restricted: true,
            status: PostmortemStatus::Draft,
            sections: &[(
                "summary",
                "Database credentials for the checkout connection pool were printed in build logs by a verbose zeppelin flag.",
            )],
            timeline: &["Secret scanner flagged the build log"],
            factors: &[(FactorCategory::RiskyDefault, "Verbose logging was on by default in the build image.")],
            actions: &[("Rotate the checkout database credentials", Some(rae))],
        },
    )
    .await;
    Library {
        people: People { dana, rae, sam },
        pool,
        migration,
        retries,
        leak,
    }
}

/// The ids of a page of results, in order.
pub fn ids(results: &SearchResults) -> Vec<IncidentId> {
    results.items.iter().map(|hit| hit.incident_id).collect()
}

/// The ids of a page of results, sorted, for tests that do not care about order.
pub fn sorted_ids(results: &SearchResults) -> Vec<IncidentId> {
    let mut ids = ids(results);
    ids.sort();
    ids
}

/// Searches as `viewer`, first page of ten, expecting the query to be accepted.
pub fn search(index: &SearchIndex, query: &str, viewer: &Viewer) -> SearchResults {
    index
        .search(query, viewer, 10, 0)
        .unwrap_or_else(|e| panic!("`{query}` was refused: {e}"))
}

/// A built index of the library in a fresh directory.
pub async fn built(db: &TestDb) -> (tempfile::TempDir, SearchIndex) {
    let dir = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(dir.path().join("index")).unwrap();
    index.catch_up(db.store.as_ref()).await.unwrap();
    (dir, index)
}
