//! The storage test suite, run against SQLite and PostgreSQL alike: each test gets a fresh
//! database (a new SQLite file or a new PostgreSQL schema).

use postmortem_core::{
    ActionKind, ActionStatus, BundleAction, BundleReview, BundleSection, BundleTimelineEntry,
    DisplayName, FactorCategory, Handle, Impact, IncidentBundle, IncidentId, IncidentKind,
    Markdown, Marker, Name, NewActionItem, NewFactor, NewIncident, NewTimelineEntry, Perspective,
    PostmortemStatus, Priority, ReviewDecision, Role, SectionName, Severity, Source, TeamName,
    TemplateName, Title, UserId, parse_instant,
};
use postmortem_store::testing::TestDb;
use postmortem_store::*;

async fn person(db: &TestDb, handle: &str, role: Role) -> UserId {
    db.store
        .create_user(Actor::DEMO, new_user(handle, role))
        .await
        .unwrap()
        .id
}

fn new_user(handle: &str, role: Role) -> NewUser {
    NewUser {
        handle: Handle::parse(handle).unwrap(),
        display_name: DisplayName::parse(format!("{handle} Example")).unwrap(),
        role,
        password_hash: None,
    }
}

fn identity(issuer: &str, subject: &str) -> ExternalIdentity {
    ExternalIdentity {
        issuer: issuer.into(),
        subject: subject.into(),
        email: Some(format!("{subject}@acme.example")),
    }
}

fn incident(title: &str, severity: &str, services: &[&str]) -> NewIncident {
    NewIncident {
        title: Title::parse(title).unwrap(),
        kind: IncidentKind::Outage,
        severity: Severity::parse(severity).unwrap(),
        started_at: Some(parse_instant("started_at", "2026-03-01T14:00:00+01:00").unwrap()),
        services: services.iter().map(|s| Name::parse(*s).unwrap()).collect(),
        teams: vec![Name::parse("payments").unwrap()],
        impact: Impact {
            user_visible: true,
            customer_minutes: 42,
            ..Impact::default()
        },
        restricted: false,
        template: TemplateName::full(),
    }
}

/// Lockouts of 30 seconds doubling up to 10 minutes, after `free_failures`.
fn lockout(free_failures: i64, forget_after: time::Duration) -> LockoutPolicy {
    LockoutPolicy {
        free_failures,
        first_lockout: time::Duration::seconds(30),
        longest_lockout: time::Duration::minutes(10),
        forget_after,
    }
}

fn team(name: &str) -> TeamName {
    TeamName::parse(name).unwrap()
}

async fn make_team(db: &TestDb, name: &str) {
    let new = NewTeam {
        name: team(name),
        display_name: DisplayName::parse(name).unwrap(),
    };
    db.store.create_team(Actor::DEMO, new).await.unwrap();
}

fn owed() -> PostmortemStart {
    PostmortemStart {
        status: PostmortemStatus::Owed,
        due_on: None,
    }
}

fn section(name: &str) -> SectionName {
    SectionName::parse(name).unwrap()
}

fn text(body: &str) -> Markdown {
    Markdown::parse(body).unwrap()
}

fn entry(at: &str, marker: Option<Marker>) -> NewTimelineEntry {
    NewTimelineEntry {
        at: parse_instant("at", at).unwrap(),
        text: text("Checkout error rate alert fired"),
        actor: Some("dana".into()),
        marker,
        perspective: Perspective::Observed,
        source: Source::Alert,
        source_url: None,
    }
}

fn action(title: &str) -> NewActionItem {
    NewActionItem {
        title: Title::parse(title).unwrap(),
        owner: None,
        team: None,
        due_on: None,
        priority: Priority::P2,
        kind: ActionKind::Prevent,
        status: ActionStatus::Open,
        wont_do_reason: None,
        external_url: None,
        factor_ids: vec![],
        verification: None,
    }
}

postmortem_store::backend_tests! {

    async fn a_created_incident_reads_back_whole(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout", "payments-api"]), owed()).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.incident.title.as_str(), "Checkout down");
        assert_eq!(record.incident.severity.to_string(), "SEV2");
        assert_eq!(record.incident.services.iter().map(Name::as_str).collect::<Vec<_>>(), ["checkout", "payments-api"]);
        assert_eq!(record.incident.started_at.unwrap().offset().whole_hours(), 1, "the writer's time zone is kept");
        assert_eq!(record.incident.impact.customer_minutes, 42);
        assert_eq!(record.incident.created_by, dana);
        assert_eq!(record.incident.version, 1);
        assert_eq!(record.postmortem.status, PostmortemStatus::Owed);
        assert!(record.timeline.is_empty());
    }

    async fn a_write_on_one_node_is_read_at_once_on_another_that_had_the_incident_in_memory(db: TestDb) {
        // A second store on the same database stands for a second server node.
        let other_node = postmortem_store::connect(&db.url, db.clock.clone()).await.unwrap();
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let everyone = Visibility::Everything;
        assert!(other_node.incident(id, everyone).await.unwrap().unwrap().timeline.is_empty());
        assert!(other_node.incident(id, everyone).await.unwrap().unwrap().timeline.is_empty(), "read twice, the second from memory");

        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T14:02:00Z", Some(Marker::Detected))).await.unwrap();
        db.store.save_sections(Actor::user(dana), id, 2, vec![(section("summary"), text("Checkout failed."))]).await.unwrap();

        for store in [&db.store, &other_node] {
            let record = store.incident(id, everyone).await.unwrap().unwrap();
            assert_eq!(record.timeline.len(), 1);
            assert_eq!(record.postmortem.sections[&section("summary")].body.as_str(), "Checkout failed.");
            assert_eq!(record.incident.version, 3);
        }
    }

    async fn an_incident_read_from_memory_is_still_hidden_from_people_who_may_not_see_it(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let mut secret = incident("Leaked keys", "SEV1", &["vault"]);
        secret.restricted = true;
        let id = db.store.create_incident(Actor::user(dana), secret, owed()).await.unwrap();
        assert!(db.store.incident(id, Visibility::Person(dana)).await.unwrap().is_some(), "now in memory");
        assert!(db.store.incident(id, Visibility::Person(sam)).await.unwrap().is_none());
        assert!(db.store.incident(id, Visibility::Everything).await.unwrap().is_some());
    }

    async fn every_write_appends_an_audit_event_and_a_strictly_increasing_change(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T14:02:00Z", Some(Marker::Detected))).await.unwrap();
        db.store.save_sections(Actor::user(dana), id, 2, vec![(section("summary"), text("Checkout failed."))]).await.unwrap();
        let changes = db.store.changes_since(0, 100).await.unwrap();
        let seqs: Vec<i64> = changes.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, [1, 2, 3, 4], "user, incident, timeline, section");
        assert_eq!(changes[2].incident_id, Some(id));
        assert_eq!(db.store.changes_since(2, 100).await.unwrap().len(), 2);
        let audit = db.store.audit_events(Some(id), 10).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["section.save", "timeline.add", "incident.create"]);
        assert!(audit.iter().all(|e| e.actor == Some(dana)));
        assert_eq!(audit[0].details["after"]["summary"], "Checkout failed.");
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.incident.version, 3);
    }

    async fn the_incident_list_filters_and_pages_without_gaps_or_repeats(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        for n in 0..23 {
            let severity = ["SEV1", "SEV2", "SEV3"][n % 3];
            let service = if n % 2 == 0 { "checkout" } else { "search" };
            let mut new = incident(&format!("Incident number {n}"), severity, &[service]);
            new.started_at = Some(parse_instant("s", &format!("2026-02-{:02}T10:00:00Z", 1 + n % 5)).unwrap());
            db.store.create_incident(Actor::user(dana), new, owed()).await.unwrap();
        }
        for sort in [IncidentSort::Newest, IncidentSort::Oldest, IncidentSort::Severity] {
            let mut query = IncidentQuery::new(Visibility::Everything);
            query.sort = sort;
            query.limit = 5;
            let mut seen = Vec::new();
            loop {
                let page = db.store.list_incidents(&query).await.unwrap();
                assert_eq!(page.total, 23);
                seen.extend(page.items.iter().map(|i| i.incident.id));
                match page.next_cursor {
                    Some(cursor) => query.cursor = Some(cursor),
                    None => break,
                }
            }
            let mut unique = seen.clone();
            unique.sort();
            unique.dedup();
            assert_eq!((seen.len(), unique.len()), (23, 23), "{sort:?}");
        }
        let mut query = IncidentQuery::new(Visibility::Everything);
        query.service = Some(Name::parse("checkout").unwrap());
        query.severity = Some(Severity::parse("SEV1").unwrap());
        let page = db.store.list_incidents(&query).await.unwrap();
        assert_eq!(page.total, 4, "n in 0, 6, 12, 18");
        assert!(page.items.iter().all(|i| i.incident.services[0].as_str() == "checkout"));
        query.title_contains = Some("NUMBER 12".into());
        assert_eq!(db.store.list_incidents(&query).await.unwrap().total, 1);
    }

    async fn a_foreign_cursor_is_refused_clearly(db: TestDb) {
        let mut query = IncidentQuery::new(Visibility::Everything);
        query.cursor = Some("not-a-cursor".into());
        let error = db.store.list_incidents(&query).await.unwrap_err();
        assert!(matches!(error, StoreError::InvalidCursor(_)));
    }

    async fn restricted_incidents_are_hidden_from_people_who_are_not_in_them(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let mut secret = incident("Credential leak", "SEV1", &["auth"]);
        secret.restricted = true;
        let secret_id = db.store.create_incident(Actor::user(dana), secret, owed()).await.unwrap();
        db.store.create_incident(Actor::user(dana), incident("Open one", "SEV3", &["auth"]), owed()).await.unwrap();
        assert!(db.store.incident(secret_id, Visibility::Person(sam)).await.unwrap().is_none());
        assert!(db.store.incident(secret_id, Visibility::Person(dana)).await.unwrap().is_some());
        assert!(db.store.incident(secret_id, Visibility::Everything).await.unwrap().is_some());
        let sams_list = db.store.list_incidents(&IncidentQuery::new(Visibility::Person(sam))).await.unwrap();
        assert_eq!(sams_list.total, 1, "not even counted");
        assert_eq!(sams_list.items.len(), 1);
    }

    async fn a_team_is_created_once_and_listed_by_name(db: TestDb) {
        let admin = person(&db, "ada", Role::Admin).await;
        for (name, display) in [("site-reliability", "Site Reliability"), ("payments", "Payments")] {
            db.store.create_team(Actor::user(admin), NewTeam { name: team(name), display_name: DisplayName::parse(display).unwrap() }).await.unwrap();
        }
        let again = db.store.create_team(Actor::user(admin), NewTeam { name: team("payments"), display_name: DisplayName::parse("Other").unwrap() }).await.unwrap_err();
        assert_eq!(again.to_string(), "the team `payments` exists already");
        let names: Vec<String> = db.store.teams().await.unwrap().into_iter().map(|t| t.name.into_inner()).collect();
        assert_eq!(names, ["payments", "site-reliability"]);
        assert_eq!(db.store.team(&team("payments")).await.unwrap().unwrap().display_name.as_str(), "Payments");
        assert!(db.store.team(&team("growth")).await.unwrap().is_none());
        let audit = db.store.audit_events(None, 10).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "team.create" && e.actor == Some(admin)));
    }

    async fn team_members_are_added_once_removed_and_listed_both_ways(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Viewer).await;
        make_team(&db, "payments").await;
        make_team(&db, "growth").await;
        let before = db.store.latest_change_seq().await.unwrap();
        for (who, name) in [(dana, "payments"), (dana, "payments"), (sam, "payments"), (dana, "growth")] {
            db.store.add_team_member(Actor::DEMO, &team(name), who).await.unwrap();
        }
        let handles: Vec<String> = db.store.team_members(&team("payments")).await.unwrap().into_iter().map(|u| u.handle.into_inner()).collect();
        assert_eq!(handles, ["dana", "sam"]);
        assert_eq!(db.store.teams_of(dana).await.unwrap(), [team("growth"), team("payments")]);
        let feed = db.store.changes_since(before, 100).await.unwrap();
        assert_eq!(feed.len(), 3, "adding someone twice changes nothing the second time");
        assert!(feed.iter().all(|c| c.entity == "team"));
        db.store.remove_team_member(Actor::DEMO, &team("payments"), dana).await.unwrap();
        db.store.remove_team_member(Actor::DEMO, &team("payments"), dana).await.unwrap();
        assert_eq!(db.store.teams_of(dana).await.unwrap(), [team("growth")]);
        assert!(matches!(db.store.add_team_member(Actor::DEMO, &team("nope"), dana).await, Err(StoreError::NotFound("team"))));
        assert!(matches!(db.store.add_team_member(Actor::DEMO, &team("growth"), UserId::new(999)).await, Err(StoreError::NotFound("user"))));
    }

    async fn a_restricted_incident_is_seen_by_its_creator_named_people_and_members_of_its_teams(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let named = person(&db, "nora", Role::Viewer).await;
        let teammate = person(&db, "tess", Role::Viewer).await;
        let outsider = person(&db, "otto", Role::Reviewer).await;
        make_team(&db, "payments").await;
        make_team(&db, "growth").await;
        db.store.add_team_member(Actor::DEMO, &team("payments"), teammate).await.unwrap();
        db.store.add_team_member(Actor::DEMO, &team("growth"), outsider).await.unwrap();
        let mut secret = incident("Credential leak", "SEV1", &["auth"]);
        secret.restricted = true;
        let id = db.store.create_incident(Actor::user(dana), secret, owed()).await.unwrap();
        db.store.add_action(Actor::user(dana), id, action("Rotate the keys")).await.unwrap();
        let version = db.store.add_incident_member(Actor::user(dana), id, named).await.unwrap();
        assert_eq!(db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().members, [named]);
        assert_eq!(version, 3, "naming someone is a change to the incident");
        for (who, sees) in [(dana, true), (named, true), (teammate, true), (outsider, false), (UserId::new(0), false)] {
            let view = Visibility::Person(who);
            assert_eq!(db.store.incident(id, view).await.unwrap().is_some(), sees, "{who}");
            let unknown = postmortem_core::IncidentId::new(9999);
            assert_eq!(db.store.visible_incidents(&[id, unknown], view).await.unwrap(), if sees { vec![id] } else { vec![] }, "{who}");
            assert_eq!(db.store.is_incident_member(id, who).await.unwrap(), sees, "{who}");
            assert_eq!(db.store.list_incidents(&IncidentQuery::new(view)).await.unwrap().total, i64::from(sees), "{who}");
            assert_eq!(db.store.owed_postmortems(view).await.unwrap().len(), usize::from(sees), "{who}");
            let today = time::macros::date!(2026 - 03 - 02);
            assert_eq!(db.store.list_actions(&ActionQuery::new(view, today)).await.unwrap().total, i64::from(sees), "{who}");
        }
        // Leaving the team, or being taken off the incident, ends access at once.
        db.store.remove_team_member(Actor::DEMO, &team("payments"), teammate).await.unwrap();
        db.store.remove_incident_member(Actor::user(dana), id, named).await.unwrap();
        for who in [teammate, named] {
            assert!(db.store.incident(id, Visibility::Person(who)).await.unwrap().is_none());
        }
        let feed = db.store.changes_since(0, 100).await.unwrap();
        assert_eq!(feed.iter().filter(|c| c.entity == "member" && c.incident_id == Some(id)).count(), 2, "followers re-read the incident");
    }

    async fn naming_someone_who_does_not_exist_on_an_incident_changes_nothing(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let error = db.store.add_incident_member(Actor::user(dana), id, UserId::new(999)).await.unwrap_err();
        assert!(matches!(error, StoreError::NotFound("user")), "{error}");
        assert_eq!(db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().incident.version, 1);
        assert!(matches!(db.store.add_incident_member(Actor::user(dana), IncidentId::new(999), dana).await, Err(StoreError::NotFound("incident"))));
    }

    async fn a_role_changes_but_the_last_admin_stays_an_admin(db: TestDb) {
        let ada = person(&db, "ada", Role::Admin).await;
        let dana = person(&db, "dana", Role::Contributor).await;
        let refused = db.store.set_role(Actor::user(ada), ada, Role::Viewer).await.unwrap_err();
        assert!(refused.to_string().contains("the last admin"), "{refused}");
        assert_eq!(db.store.set_role(Actor::user(ada), dana, Role::Admin).await.unwrap().role, Role::Admin);
        assert_eq!(db.store.set_role(Actor::user(dana), ada, Role::Reviewer).await.unwrap().role, Role::Reviewer);
        assert_eq!(db.store.user(ada).await.unwrap().unwrap().role, Role::Reviewer);
        assert!(db.store.set_role(Actor::user(dana), dana, Role::Viewer).await.is_err());
        assert!(matches!(db.store.set_role(Actor::DEMO, UserId::new(999), Role::Viewer).await, Err(StoreError::NotFound("user"))));
        let audit = db.store.audit_events(None, 10).await.unwrap();
        let promotion = audit.iter().find(|e| e.action == "user.role" && e.details["user_id"] == dana.get()).unwrap();
        assert_eq!(promotion.details["before"]["role"], "contributor");
        assert_eq!(promotion.details["after"]["role"], "admin");
    }

    async fn a_stale_section_save_is_refused_with_the_current_text_and_nothing_is_lost(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let base = 1;
        let saved = db.store.save_sections(Actor::user(dana), id, base, vec![(section("summary"), text("Dana's summary"))]).await.unwrap();
        assert_eq!(saved, SaveOutcome::Saved { version: 2 });
        // Sam started from version 1 too and saves the same section: refused.
        let outcome = db.store.save_sections(Actor::user(sam), id, base, vec![(section("summary"), text("Sam's summary"))]).await.unwrap();
        let SaveOutcome::Conflict { current_version, sections } = outcome else { panic!("expected a conflict") };
        assert_eq!(current_version, 2);
        assert_eq!(sections[0].current_body, "Dana's summary");
        assert_eq!(sections[0].updated_by, Some(dana));
        // Sam's save of another section from the same base does not conflict.
        let other = db.store.save_sections(Actor::user(sam), id, base, vec![(section("impact"), text("Sam's impact"))]).await.unwrap();
        assert_eq!(other, SaveOutcome::Saved { version: 3 });
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.postmortem.sections[&section("summary")].body.as_str(), "Dana's summary");
        assert_eq!(record.postmortem.sections[&section("impact")].body.as_str(), "Sam's impact");
        assert_eq!(record.postmortem.sections[&section("impact")].version, 3);
    }

    async fn an_illegal_transition_is_refused_and_the_status_stays(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let error = db.store.set_status(Actor::user(dana), id, PostmortemStatus::Published, None).await.unwrap_err();
        assert!(matches!(error, StoreError::Transition(_)), "{error}");
        db.store.set_status(Actor::user(dana), id, PostmortemStatus::Draft, None).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.postmortem.status, PostmortemStatus::Draft);
        assert_eq!(record.incident.version, 2, "the refused write did not bump the version");
    }

    async fn timeline_factors_actions_reviews_and_comments_are_kept(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Reviewer).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T15:30:00+01:00", Some(Marker::Resolved))).await.unwrap();
        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T13:05:00Z", Some(Marker::Detected))).await.unwrap();
        let factor = db.store.add_factor(Actor::user(dana), id, NewFactor { category: FactorCategory::OutdatedDocs, description: text("The runbook named the old replica."), is_trigger: false }).await.unwrap();
        let mut new_action = action("Update the failover runbook");
        new_action.owner = Some(dana);
        new_action.factor_ids = vec![factor.id];
        new_action.due_on = Some(time::macros::date!(2026 - 03 - 20));
        let item = db.store.add_action(Actor::user(dana), id, new_action).await.unwrap();
        assert_eq!(item.factor_ids, [factor.id]);
        db.store.set_review(Actor::user(dana), id, rae, ReviewDecision::Requested, None).await.unwrap();
        db.store.set_review(Actor::user(rae), id, rae, ReviewDecision::Approved, Some("Clear and factual".into())).await.unwrap();
        let comment = db.store.add_comment(Actor::user(rae), id, section("summary"), text("Say which replica."), None).await.unwrap();
        db.store.set_comment_resolved(Actor::user(dana), id, comment.id, true).await.unwrap();

        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        let markers: Vec<_> = record.timeline.iter().map(|e| e.marker).collect();
        assert_eq!(markers, [Some(Marker::Detected), Some(Marker::Resolved)], "ordered by instant");
        assert_eq!(record.timeline[1].at.offset().whole_hours(), 1);
        assert_eq!(record.factors[0].category, FactorCategory::OutdatedDocs);
        assert_eq!(record.actions[0].owner, Some(dana));
        assert_eq!(record.actions[0].due_on, Some(time::macros::date!(2026 - 03 - 20)));
        assert_eq!(record.reviews.len(), 1, "one standing per reviewer");
        assert_eq!(record.reviews[0].decision, ReviewDecision::Approved);
        assert!(record.comments[0].resolved);
    }

    async fn an_action_cannot_link_another_incidents_factor(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let first = db.store.create_incident(Actor::user(dana), incident("First", "SEV2", &["a"]), owed()).await.unwrap();
        let second = db.store.create_incident(Actor::user(dana), incident("Second", "SEV2", &["b"]), owed()).await.unwrap();
        let factor = db.store.add_factor(Actor::user(dana), first, NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true }).await.unwrap();
        let mut new_action = action("Raise the pool size");
        new_action.factor_ids = vec![factor.id];
        let error = db.store.add_action(Actor::user(dana), second, new_action).await.unwrap_err();
        assert!(error.to_string().contains("not a contributing factor of this incident"), "{error}");
        let record = db.store.incident(second, Visibility::Everything).await.unwrap().unwrap();
        assert!(record.actions.is_empty());
        assert_eq!(record.incident.version, 1, "the refused write left no trace");
    }

    async fn an_action_marked_wont_do_needs_a_reason_and_done_records_when(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let item = db.store.add_action(Actor::user(dana), id, action("Add a canary stage")).await.unwrap();
        let error = db.store.update_action(Actor::user(dana), item.id, ActionUpdate { status: Some(ActionStatus::WontDo), ..Default::default() }).await.unwrap_err();
        assert!(error.to_string().contains("wont_do_reason"), "{error}");
        let done = db.store.update_action(Actor::user(dana), item.id, ActionUpdate {
            status: Some(ActionStatus::Done),
            verification: Some("A bad config was stopped by the canary on 2026-03-10.".into()),
            ..Default::default()
        }).await.unwrap();
        assert_eq!(done.completed_at, Some(db.clock.now()));
        let read_back = db.store.action(item.id).await.unwrap().unwrap();
        assert_eq!((read_back.incident_id, read_back.status), (id, ActionStatus::Done));
        assert!(db.store.action(postmortem_core::ActionId::new(9_999)).await.unwrap().is_none());
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].details["before"]["status"], "open");
        assert_eq!(audit[0].details["after"]["status"], "done");
    }

    async fn timeline_entries_factors_and_actions_are_corrected_and_removed_with_an_audit_trail(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let other = db.store.create_incident(Actor::user(dana), incident("Search slow", "SEV3", &["search"]), owed()).await.unwrap();
        let entry = db.store.add_timeline_entry(Actor::user(dana), id, NewTimelineEntry {
            at: time::macros::datetime!(2026-03-01 14:05 +01:00),
            text: text("Alert fird"),
            actor: None,
            marker: None,
            perspective: Perspective::Happened,
            source: Source::Manual,
            source_url: None,
        }).await.unwrap();
        let corrected = NewTimelineEntry {
            at: time::macros::datetime!(2026-03-01 14:07 +01:00),
            text: text("Alert fired"),
            actor: Some("pager".into()),
            marker: Some(Marker::Detected),
            perspective: Perspective::Observed,
            source: Source::Alert,
            source_url: None,
        };
        let error = db.store.update_timeline_entry(Actor::user(dana), other, entry.id, corrected.clone()).await.unwrap_err();
        assert!(matches!(error, StoreError::NotFound("timeline entry")), "another incident's entry is not found: {error}");
        let updated = db.store.update_timeline_entry(Actor::user(dana), id, entry.id, corrected.clone()).await.unwrap();
        assert_eq!((updated.text.as_str(), updated.marker, updated.author), ("Alert fired", Some(Marker::Detected), dana));
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].action, "timeline.update");
        assert_eq!(audit[0].details["before"]["text"], "Alert fird");
        assert_eq!(audit[0].details["after"]["text"], "Alert fired");

        let first = db.store.add_factor(Actor::user(dana), id, NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true }).await.unwrap();
        let second = db.store.add_factor(Actor::user(dana), id, NewFactor { category: FactorCategory::ChangeManagement, description: text("Config pushed everywhere at once."), is_trigger: false }).await.unwrap();
        let mut item = action("Raise the pool size");
        item.factor_ids = vec![first.id, second.id];
        let item = db.store.add_action(Actor::user(dana), id, item).await.unwrap();
        db.store.update_factor(Actor::user(dana), id, second.id, NewFactor { category: FactorCategory::ChangeManagement, description: text("Config pushed to every region at once."), is_trigger: true }).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        let triggers: Vec<_> = record.factors.iter().filter(|f| f.is_trigger).map(|f| f.id).collect();
        assert_eq!(triggers, [second.id], "one trigger at most: the new one replaced the old");
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].details["trigger_replaced"], serde_json::json!([first.id.get()]));

        db.store.remove_factor(Actor::user(dana), id, first.id).await.unwrap();
        db.store.remove_timeline_entry(Actor::user(dana), id, entry.id).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert!(record.timeline.is_empty());
        assert_eq!(record.factors.iter().map(|f| f.id).collect::<Vec<_>>(), [second.id]);
        assert_eq!(record.actions[0].factor_ids, [second.id], "the removed factor's link went with it");

        let renamed = db.store.update_action(Actor::user(dana), item.id, ActionUpdate {
            title: Some(Title::parse("Raise the pool size to 40").unwrap()),
            priority: Some(Priority::P1),
            ..Default::default()
        }).await.unwrap();
        assert_eq!((renamed.title.as_str(), renamed.priority), ("Raise the pool size to 40", Priority::P1));
        db.store.remove_action(Actor::user(dana), item.id).await.unwrap();
        assert!(db.store.action(item.id).await.unwrap().is_none());
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].action, "action.remove");
        assert_eq!(audit[0].details["before"]["title"], "Raise the pool size to 40");
        assert_eq!(record.incident.version + 2, db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().incident.version);
    }

    async fn a_persons_incidents_are_the_reviews_asked_of_them_their_drafts_and_what_their_teams_owe(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Reviewer).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        make_team(&db, "payments").await;
        db.store.add_team_member(Actor::DEMO, &team("payments"), dana).await.unwrap();
        let due = |day| PostmortemStart { status: PostmortemStatus::Owed, due_on: Some(time::Date::from_calendar_date(2026, time::Month::April, day).unwrap()) };
        let later = db.store.create_incident(Actor::user(sam), incident("Refunds queued twice", "SEV2", &["refunds"]), due(20)).await.unwrap();
        let sooner = db.store.create_incident(Actor::user(sam), incident("Ledger timed out", "SEV1", &["ledger"]), due(3)).await.unwrap();
        let mut elsewhere = incident("Search slow", "SEV3", &["search"]);
        elsewhere.teams = vec![Name::parse("search").unwrap()];
        let elsewhere = db.store.create_incident(Actor::user(sam), elsewhere, owed()).await.unwrap();
        let drafted = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        db.store.set_status(Actor::user(dana), drafted, PostmortemStatus::Draft, None).await.unwrap();
        db.store.set_status(Actor::user(sam), sooner, PostmortemStatus::Draft, None).await.unwrap();
        db.store.set_status(Actor::user(sam), sooner, PostmortemStatus::InReview, None).await.unwrap();
        db.store.set_review(Actor::user(sam), sooner, rae, ReviewDecision::Requested, None).await.unwrap();

        let ids = |list: &[IncidentSummary]| list.iter().map(|s| s.incident.id).collect::<Vec<_>>();
        let danas = db.store.personal_incidents(dana, Visibility::Person(dana)).await.unwrap();
        assert_eq!(ids(&danas.owed), [later, drafted], "the team's and her own, soonest due first; in review is not owed work");
        assert_eq!(ids(&danas.drafts), [drafted]);
        assert!(danas.review_requests.is_empty());
        let raes = db.store.personal_incidents(rae, Visibility::Person(rae)).await.unwrap();
        assert_eq!(ids(&raes.review_requests), [sooner]);
        db.store.set_review(Actor::user(rae), sooner, rae, ReviewDecision::Approved, None).await.unwrap();
        let raes = db.store.personal_incidents(rae, Visibility::Person(rae)).await.unwrap();
        assert!(raes.review_requests.is_empty(), "an answered review is no longer asked");
        let sams = db.store.personal_incidents(sam, Visibility::Person(sam)).await.unwrap();
        assert_eq!(ids(&sams.owed), [later, elsewhere], "someone in no team owes what they recorded, soonest due first");
    }

    async fn imported_bundles_read_back_and_later_writes_get_fresh_ids(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        person(&db, "rae", Role::Reviewer).await;
        let dana_handle = Handle::parse("dana").unwrap();
        let bundle = IncidentBundle {
            incident: incident("Imported outage", "SEV1", &["checkout"]),
            created_by: dana_handle.clone(),
            created_at: db.clock.now(),
            status: PostmortemStatus::Published,
            due_on: Some(time::macros::date!(2026 - 03 - 10)),
            published_at: Some(db.clock.now()),
            sections: vec![BundleSection { name: section("summary"), body: text("It broke."), updated_by: dana_handle.clone() }],
            timeline: vec![BundleTimelineEntry { author: dana_handle.clone(), entry: entry("2026-03-01T13:05:00Z", Some(Marker::Detected)) }],
            factors: vec![
                NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true },
                NewFactor { category: FactorCategory::Alerting, description: text("No saturation alert."), is_trigger: false },
            ],
            actions: vec![BundleAction { owner: Some(dana_handle.clone()), factor_indexes: vec![1], item: action("Alert on pool saturation"), completed_at: None }],
            reviews: vec![BundleReview { reviewer: Handle::parse("rae").unwrap(), decision: ReviewDecision::Approved, comment: None }],
        };
        let ids = db.store.import_bundles(Actor::DEMO, None, &[bundle.clone(), bundle]).await.unwrap();
        assert_eq!(ids.len(), 2);
        let record = db.store.incident(ids[1], Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.postmortem.status, PostmortemStatus::Published);
        assert_eq!(record.timeline.len(), 1);
        assert_eq!(record.actions[0].factor_ids, [record.factors[1].id]);
        assert_eq!(record.actions[0].owner, Some(dana));
        assert_eq!(record.reviews[0].decision, ReviewDecision::Approved);
        let changes = db.store.changes_since(0, 100).await.unwrap();
        assert_eq!(changes.iter().filter(|c| c.op == "import").count(), 2);
        let later = db.store.create_incident(Actor::user(dana), incident("After import", "SEV3", &["x"]), owed()).await.unwrap();
        assert!(later > ids[1]);
        db.store.add_factor(Actor::user(dana), later, NewFactor { category: FactorCategory::Other, description: text("x"), is_trigger: false }).await.unwrap();
    }

    async fn an_imported_file_writes_its_incident_decision_and_people_at_once_and_an_update_keeps_unchanged_rows(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Reviewer).await;
        let dana_handle = Handle::parse("dana").unwrap();
        let mut bundle = IncidentBundle {
            incident: incident("Imported outage", "SEV2", &["checkout"]),
            created_by: dana_handle.clone(),
            created_at: db.clock.now(),
            status: PostmortemStatus::Draft,
            due_on: None,
            published_at: None,
            sections: vec![
                BundleSection { name: section("summary"), body: text("It broke."), updated_by: dana_handle.clone() },
                BundleSection { name: section("impact"), body: text("Slow pages."), updated_by: dana_handle.clone() },
            ],
            timeline: vec![
                BundleTimelineEntry { author: dana_handle.clone(), entry: entry("2026-03-01T13:05:00Z", Some(Marker::Detected)) },
                BundleTimelineEntry { author: dana_handle.clone(), entry: entry("2026-03-01T13:35:00Z", None) },
            ],
            factors: vec![NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true }],
            actions: vec![BundleAction { owner: Some(dana_handle.clone()), factor_indexes: vec![0], item: action("Grow the pool"), completed_at: None }],
            reviews: vec![],
        };
        let extras = ImportExtras {
            version: Some(7),
            decision: Some(PolicyDecision { decision: postmortem_core::policy::Requirement::Required, reasons: vec!["SEV2".into()] }),
            members: vec![Handle::parse("rae").unwrap()],
        };
        let id = db.store.import_bundle(Actor::IMPORT, Some("a.md"), &bundle, &extras).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.incident.version, 7, "an export's version is kept");
        assert_eq!(record.decision.as_ref().unwrap().reasons, ["SEV2"]);
        assert_eq!(record.members, [rae]);
        let feed = db.store.latest_change_seq().await.unwrap();

        bundle.incident.severity = Severity::parse("SEV1").unwrap();
        bundle.sections[1].body = text("Slow pages for an hour.");
        bundle.timeline[1].entry.text = text("Pool grown.");
        bundle.factors.push(NewFactor { category: FactorCategory::Alerting, description: text("No alert."), is_trigger: false });
        bundle.actions[0].factor_indexes = vec![0, 1];
        let stale = db.store.update_from_bundle(Actor::user(dana), id, 6, &bundle, &extras, serde_json::json!({})).await.unwrap();
        assert_eq!(stale, FactsOutcome::Stale { current_version: 7 });
        assert_eq!(db.store.latest_change_seq().await.unwrap(), feed, "a stale update writes nothing");
        let outcome = db.store.update_from_bundle(Actor::user(dana), id, 7, &bundle, &ImportExtras::default(), serde_json::json!({"source": "a.md"})).await.unwrap();
        assert_eq!(outcome, FactsOutcome::Updated { version: 8 });
        let after = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(after.incident.severity.to_string(), "SEV1");
        assert_eq!(after.postmortem.sections[&section("summary")].version, record.postmortem.sections[&section("summary")].version, "an unchanged section keeps its version");
        assert_eq!(after.postmortem.sections[&section("impact")].version, 8);
        assert_eq!(after.timeline.iter().map(|e| e.id).collect::<Vec<_>>(), record.timeline.iter().map(|e| e.id).collect::<Vec<_>>(), "entries are changed in place");
        assert_eq!(after.timeline[1].text.as_str(), "Pool grown.");
        assert_eq!(after.actions[0].factor_ids, [after.factors[0].id, after.factors[1].id]);
        assert_eq!(after.decision, record.decision, "a file without a decision keeps the stored one");
        assert!(after.members.is_empty(), "the people named are the file's");
        assert_eq!(db.store.latest_change_seq().await.unwrap(), feed + 1, "one feed row");
        let event = db.store.audit_events(Some(id), 1).await.unwrap().remove(0);
        assert_eq!((event.action.as_str(), event.details["source"].as_str()), ("incident.import.update", Some("a.md")));

        bundle.timeline.pop();
        bundle.factors.pop();
        bundle.actions.clear();
        db.store.update_from_bundle(Actor::user(dana), id, 8, &bundle, &ImportExtras::default(), serde_json::json!({})).await.unwrap();
        let shorter = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!((shorter.timeline.len(), shorter.factors.len(), shorter.actions.len()), (1, 1, 0));
    }

    async fn incidents_after_pages_through_every_incident_whatever_its_visibility(db: TestDb) {
        assert_eq!(db.store.latest_change_seq().await.unwrap(), 0);
        let dana = person(&db, "dana", Role::Contributor).await;
        let mut secret = incident("Secret outage", "SEV1", &["vault"]);
        secret.restricted = true;
        let first = db.store.create_incident(Actor::user(dana), incident("Open outage", "SEV2", &["checkout"]), owed()).await.unwrap();
        let second = db.store.create_incident(Actor::user(dana), secret, owed()).await.unwrap();
        let third = db.store.create_incident(Actor::user(dana), incident("Later outage", "SEV3", &["search"]), owed()).await.unwrap();
        db.store.add_factor(Actor::user(dana), second, NewFactor { category: FactorCategory::Capacity, description: text("Pool too small."), is_trigger: true }).await.unwrap();

        let page = db.store.incidents_after(None, 2).await.unwrap();
        let ids: Vec<_> = page.iter().map(|r| r.incident.id).collect();
        assert_eq!(ids, [first, second]);
        assert!(page[1].incident.restricted);
        assert_eq!(page[1].factors.len(), 1);
        let rest = db.store.incidents_after(Some(second), 2).await.unwrap();
        assert_eq!(rest.iter().map(|r| r.incident.id).collect::<Vec<_>>(), [third]);
        assert!(db.store.incidents_after(Some(third), 2).await.unwrap().is_empty());

        let newest = db.store.changes_since(0, 100).await.unwrap().last().unwrap().seq;
        assert_eq!(db.store.latest_change_seq().await.unwrap(), newest);
    }

    async fn a_bundle_naming_an_unknown_person_is_refused_whole(db: TestDb) {
        person(&db, "dana", Role::Contributor).await;
        let bundle = IncidentBundle {
            incident: incident("Imported outage", "SEV1", &["checkout"]),
            created_by: Handle::parse("ghost").unwrap(),
            created_at: db.clock.now(),
            status: PostmortemStatus::Owed,
            due_on: None,
            published_at: None,
            sections: vec![],
            timeline: vec![],
            factors: vec![],
            actions: vec![],
            reviews: vec![],
        };
        let error = db.store.import_bundles(Actor::DEMO, None, &[bundle]).await.unwrap_err();
        assert!(error.to_string().contains("no user `ghost`"), "{error}");
        assert_eq!(db.store.list_incidents(&IncidentQuery::new(Visibility::Everything)).await.unwrap().total, 0);
    }

    async fn concurrent_writers_each_get_their_own_sequence_number(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Busy incident", "SEV2", &["checkout"]), owed()).await.unwrap();
        let writers: Vec<_> = (0..16)
            .map(|n| {
                let store = db.store.clone();
                tokio::spawn(async move {
                    store.add_timeline_entry(Actor::user(dana), id, entry(&format!("2026-03-01T14:{n:02}:00Z"), None)).await.unwrap();
                })
            })
            .collect();
        for writer in writers {
            writer.await.unwrap();
        }
        let seqs: Vec<i64> = db.store.changes_since(0, 100).await.unwrap().iter().map(|c| c.seq).collect();
        assert_eq!(seqs, (1..=18).collect::<Vec<_>>());
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.timeline.len(), 16);
        assert_eq!(record.incident.version, 17);
    }

    async fn actions_are_listed_across_incidents_by_owner_team_and_overdue(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let sam = person(&db, "sam", Role::Contributor).await;
        let first = db.store.create_incident(Actor::user(dana), incident("First", "SEV2", &["a"]), owed()).await.unwrap();
        let mut secret = incident("Secret", "SEV1", &["vault"]);
        secret.restricted = true;
        let hidden = db.store.create_incident(Actor::user(dana), secret, owed()).await.unwrap();
        let add = |id, title: &str, owner, team: &str, due: time::Date| {
            let mut item = action(title);
            item.owner = Some(owner);
            item.team = Some(Name::parse(team).unwrap());
            item.due_on = Some(due);
            let store = db.store.clone();
            async move { store.add_action(Actor::user(dana), id, item).await.unwrap() }
        };
        add(first, "Overdue for dana", dana, "sre", time::macros::date!(2026 - 02 - 01)).await;
        let later = add(first, "Later for sam", sam, "payments", time::macros::date!(2026 - 04 - 01)).await;
        add(hidden, "Hidden for dana", dana, "sre", time::macros::date!(2026 - 01 - 01)).await;
        let today = time::macros::date!(2026 - 03 - 02);

        let mut query = ActionQuery::new(Visibility::Everything, today);
        let all = db.store.list_actions(&query).await.unwrap();
        assert_eq!(all.total, 3);
        assert_eq!(all.items[0].action.title.as_str(), "Hidden for dana", "longest overdue first");
        query.overdue = true;
        let overdue = db.store.list_actions(&query).await.unwrap();
        assert_eq!(overdue.items.iter().map(|i| i.action.title.as_str()).collect::<Vec<_>>(), ["Hidden for dana", "Overdue for dana"]);
        assert!(overdue.items.iter().all(|i| i.overdue && i.owner_handle.as_deref() == Some("dana")));
        assert_eq!(overdue.items[1].incident_title, "First");

        let mut sams_view = ActionQuery::new(Visibility::Person(sam), today);
        assert_eq!(db.store.list_actions(&sams_view).await.unwrap().total, 2, "the restricted incident's action is not even counted");
        sams_view.owner = Some(sam);
        assert_eq!(db.store.list_actions(&sams_view).await.unwrap().items[0].action.id, later.id);
        sams_view.owner = None;
        sams_view.team = Some(Name::parse("sre").unwrap());
        assert_eq!(db.store.list_actions(&sams_view).await.unwrap().total, 1);
    }

    async fn owed_reviews_are_listed_soonest_due_first_until_published(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let due = |d| PostmortemStart { status: PostmortemStatus::Owed, due_on: Some(d) };
        let late = db.store.create_incident(Actor::user(dana), incident("Due later", "SEV2", &["a"]), due(time::macros::date!(2026 - 03 - 20))).await.unwrap();
        let soon = db.store.create_incident(Actor::user(dana), incident("Due soon", "SEV2", &["a"]), due(time::macros::date!(2026 - 03 - 05))).await.unwrap();
        db.store.create_incident(Actor::user(dana), incident("Not required", "SEV4", &["a"]), PostmortemStart { status: PostmortemStatus::NotRequired, due_on: None }).await.unwrap();
        let owed_list = db.store.owed_postmortems(Visibility::Everything).await.unwrap();
        assert_eq!(owed_list.iter().map(|s| s.incident.id).collect::<Vec<_>>(), [soon, late]);
        for to in [PostmortemStatus::Draft, PostmortemStatus::InReview, PostmortemStatus::Approved, PostmortemStatus::Published] {
            db.store.set_status(Actor::user(dana), soon, to, None).await.unwrap();
        }
        let owed_list = db.store.owed_postmortems(Visibility::Everything).await.unwrap();
        assert_eq!(owed_list.iter().map(|s| s.incident.id).collect::<Vec<_>>(), [late]);
    }

    async fn follow_through_facts_carry_resolution_and_publication_times(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Published one", "SEV2", &["a"]), owed()).await.unwrap();
        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T13:00:00Z", Some(Marker::Resolved))).await.unwrap();
        let mut item = action("Alert on pool saturation");
        item.team = Some(Name::parse("sre").unwrap());
        db.store.add_action(Actor::user(dana), id, item).await.unwrap();
        for to in [PostmortemStatus::Draft, PostmortemStatus::InReview, PostmortemStatus::Approved, PostmortemStatus::Published] {
            db.store.set_status(Actor::user(dana), id, to, None).await.unwrap();
        }
        let (actions, publications) = db.store.follow_through_facts(Visibility::Everything).await.unwrap();
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].team.as_ref().map(Name::as_str), Some("sre"));
        assert_eq!(publications[0].published_at, Some(db.clock.now()));
        assert_eq!(publications[0].resolved_at, Some(time::macros::datetime!(2026-03-01 13:00 UTC)));
        assert_eq!(publications[0].teams.iter().map(Name::as_str).collect::<Vec<_>>(), ["payments"]);
    }

    async fn a_policy_decision_is_stored_with_its_reasons_and_audited_when_it_changes(db: TestDb) {
        use postmortem_core::policy::Requirement;
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Outage", "SEV2", &["a"]), owed()).await.unwrap();
        assert_eq!(db.store.policy_decision(id).await.unwrap(), None);
        let reasons = vec!["data loss".to_owned()];
        db.store.set_policy_decision(Actor::user(dana), id, Requirement::Required, &reasons).await.unwrap();
        db.store.set_policy_decision(Actor::user(dana), id, Requirement::Required, &reasons).await.unwrap();
        assert_eq!(db.store.policy_decision(id).await.unwrap(), Some((Requirement::Required, reasons)));
        let audit = db.store.audit_events(Some(id), 10).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "policy.decide").count(), 1, "an unchanged decision is not written again");
    }

    async fn new_facts_are_stored_with_the_policys_new_decision_in_one_audited_write(db: TestDb) {
        use postmortem_core::policy::Requirement;
        let dana = person(&db, "dana", Role::Contributor).await;
        let start = PostmortemStart { status: PostmortemStatus::NotRequired, due_on: None };
        let mut new = incident("Slow search", "SEV4", &["search"]);
        new.template = TemplateName::lightweight();
        let id = db.store.create_incident_decided(Actor::user(dana), new, start, Requirement::NotRequired, vec!["no rule of the policy matched".into()]).await.unwrap();
        let before = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        let mut facts = before.incident.facts();
        facts.title = Title::parse("Search lost saved queries").unwrap();
        facts.kind = IncidentKind::DataLoss;
        facts.severity = Severity::parse("SEV2").unwrap();
        facts.started_at = Some(parse_instant("started_at", "2026-02-27T08:30:00-05:00").unwrap());
        facts.services = vec![Name::parse("profiles").unwrap(), Name::parse("search").unwrap()]; // stored sorted
        facts.teams = vec![Name::parse("discovery").unwrap()];
        facts.impact.data_loss = true;
        let due = time::macros::date!(2026 - 03 - 09);
        let reevaluation = Reevaluation {
            decision: Requirement::Required,
            reasons: vec!["data loss".into()],
            postmortem: Some((PostmortemStart { status: PostmortemStatus::Owed, due_on: Some(due) }, TemplateName::full())),
        };
        let outcome = db.store.update_facts(Actor::user(dana), id, before.incident.version, facts.clone(), reevaluation).await.unwrap();
        assert_eq!(outcome, FactsOutcome::Updated { version: before.incident.version + 1 }, "one write, one version");

        let after = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(after.incident.facts(), facts);
        assert_eq!(after.incident.created_by, dana);
        assert_eq!((after.postmortem.status, after.postmortem.due_on, after.postmortem.template.as_str()), (PostmortemStatus::Owed, Some(due), "full"));
        assert_eq!(after.decision, Some(PolicyDecision { decision: Requirement::Required, reasons: vec!["data loss".into()] }));
        let listed = db.store.list_incidents(&IncidentQuery { service: Some(Name::parse("profiles").unwrap()), ..IncidentQuery::new(Visibility::Everything) }).await.unwrap();
        assert_eq!(listed.items.len(), 1, "the new services are what lists filter on");
        let audit: Vec<String> = db.store.audit_events(Some(id), 10).await.unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(audit[..3], ["postmortem.reevaluate", "policy.decide", "incident.update"]);
        let update = &db.store.audit_events(Some(id), 10).await.unwrap()[2];
        assert_eq!(update.details["before"]["title"], "Slow search");
        assert_eq!(update.details["after"]["title"], "Search lost saved queries");
    }

    async fn a_facts_edit_from_an_old_version_changes_nothing(db: TestDb) {
        use postmortem_core::policy::Requirement;
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Outage", "SEV2", &["a"]), owed()).await.unwrap();
        let before = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        db.store.save_sections(Actor::user(dana), id, before.incident.version, vec![(section("summary"), text("Down."))]).await.unwrap();
        let mut facts = before.incident.facts();
        facts.title = Title::parse("Renamed").unwrap();
        let keep = Reevaluation { decision: Requirement::Required, reasons: vec!["x".into()], postmortem: None };
        let outcome = db.store.update_facts(Actor::user(dana), id, before.incident.version, facts, keep).await.unwrap();
        assert_eq!(outcome, FactsOutcome::Stale { current_version: before.incident.version + 1 });
        let after = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(after.incident.title.as_str(), "Outage");
        assert_eq!(after.decision, None);
        assert!(db.store.audit_events(Some(id), 10).await.unwrap().iter().all(|e| e.action != "incident.update"));
        let missing = db.store.update_facts(Actor::user(dana), postmortem_core::IncidentId::new(999), 1, before.incident.facts(), Reevaluation { decision: Requirement::Required, reasons: vec![], postmortem: None }).await;
        assert!(matches!(missing, Err(StoreError::NotFound("incident"))));
    }

    async fn an_incident_recorded_with_a_decision_keeps_it_and_its_reasons(db: TestDb) {
        use postmortem_core::policy::Requirement;
        let dana = person(&db, "dana", Role::Contributor).await;
        let reasons = vec!["data loss".to_owned(), "manual intervention to recover".to_owned()];
        let id = db.store.create_incident_decided(Actor::user(dana), incident("Lost rows", "SEV2", &["ledger"]), owed(), Requirement::Required, reasons.clone()).await.unwrap();
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.decision, Some(PolicyDecision { decision: Requirement::Required, reasons: reasons.clone() }));
        assert_eq!(record.incident.version, 1, "one write, one version");
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].details["after"]["reasons"][0], "data loss");
        let plain = db.store.create_incident(Actor::user(dana), incident("No decision", "SEV4", &["ledger"]), owed()).await.unwrap();
        assert_eq!(db.store.incident(plain, Visibility::Everything).await.unwrap().unwrap().decision, None);
    }

    async fn the_store_answers_a_ping(db: TestDb) {
        db.store.ping().await.unwrap();
    }
}

#[tokio::test]
async fn an_unknown_database_scheme_is_refused_with_the_accepted_forms() {
    let error = postmortem_store::connect("mysql://localhost/x", std::sync::Arc::new(SystemClock))
        .await
        .unwrap_err();
    assert!(error.to_string().contains("use sqlite://PATH"), "{error}");
}

mod accounts;
mod audit;
mod external;
mod insights;
mod integrations;
mod passages;
mod webhooks;
