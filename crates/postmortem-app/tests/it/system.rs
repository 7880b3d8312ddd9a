//! Named system actors: what the command line writes goes through the same rules as the web
//! and is audited under the actor's name.

use postmortem_app::accounts::NewAccount;
use postmortem_app::{App, AppError, Rules, TeamInput};
use postmortem_core::{Severity, SystemActor};
use postmortem_demo::{DemoConfig, incidents, organisation};
use postmortem_store::AuditQuery;
use postmortem_store::testing::TestDb;

pub fn app(db: &TestDb) -> App {
    let rules = Rules {
        severity_levels: Severity::DEFAULT_LEVELS,
        ..Rules::default()
    };
    App::new(db.store.clone(), rules)
}

pub fn account(handle: &str, role: &str) -> NewAccount {
    NewAccount {
        handle: handle.to_owned(),
        display_name: format!("{handle} Example"),
        role: role.to_owned(),
        password: None,
        with_token: false,
        token_days: None,
    }
}

#[tokio::test]
async fn the_demo_generator_writes_people_teams_and_incidents_audited_as_system_demo() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let demo = app.as_system(SystemActor::Demo);
    let org = organisation(7);
    for person in &org.people {
        demo.create_account(account(person.handle.as_str(), person.role.as_str()))
            .await
            .unwrap();
    }
    demo.create_team(TeamInput {
        name: "payments".into(),
        display_name: "Payments".into(),
    })
    .await
    .unwrap();
    let config = DemoConfig {
        n_incidents: 25,
        seed: 7,
        today: time::Date::from_calendar_date(2026, time::Month::December, 1).unwrap(),
    };
    let batch: Vec<_> = incidents(&org, &config).collect();
    let ids = demo.import_bundles(None, &batch).await.unwrap();
    assert_eq!(ids.len(), 25);

    let log = db
        .store
        .audit_log(&AuditQuery {
            limit: 500,
            ..AuditQuery::default()
        })
        .await
        .unwrap();
    assert!(!log.items.is_empty());
    for event in &log.items {
        assert_eq!(
            (event.actor, event.system_actor.as_deref()),
            (None, Some("system:demo")),
            "{} is audited as the demo generator",
            event.action
        );
    }
    let imports = log
        .items
        .iter()
        .filter(|e| e.action == "incident.import")
        .count();
    assert_eq!(imports, 25, "one audit event per imported incident");
}

#[tokio::test]
async fn a_system_actor_obeys_the_same_rules_as_a_person_of_its_role() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let demo = app.as_system(SystemActor::Demo);
    let refused = demo
        .create_team(TeamInput {
            name: "Not A Slug!".into(),
            display_name: "x".into(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(refused, AppError::Invalid(_)),
        "the same parsing as the web: {refused}"
    );
    // The digest reads for a shared channel: a viewer, who may not change anything.
    let digest = app.as_system(SystemActor::Digest);
    let forbidden = digest
        .create_account(account("dana", "contributor"))
        .await
        .unwrap_err();
    assert_eq!(forbidden.code(), "forbidden");
    assert!(digest.digest_scope(Some("payments")).is_ok());
    let bad_team = digest.digest_scope(Some("Payments Team!")).unwrap_err();
    assert_eq!(bad_team.code(), "invalid_input");
}

#[tokio::test]
async fn what_only_a_person_can_do_is_refused_to_the_system_naming_it() {
    let db = TestDb::sqlite().await;
    let app = app(&db);
    let refused = app.as_system(SystemActor::Import).work().await.unwrap_err();
    assert_eq!(refused.code(), "forbidden");
    assert!(
        refused
            .to_string()
            .contains("system:import is part of the system"),
        "{refused}"
    );
}
