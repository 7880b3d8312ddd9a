//! The digest on a real store: what it lists, what it counts, and what it never shows.

use postmortem_core::{
    ActionKind, ActionStatus, DisplayName, FactorCategory, Handle, Impact, IncidentKind, Markdown,
    Name, NewActionItem, NewFactor, NewIncident, PostmortemStatus, Priority, Role, Severity,
    TeamName, TemplateName, Title, UserId,
};
use postmortem_notify::{DigestFormat, build_digest};
use postmortem_store::testing::TestDb;
use postmortem_store::{ActionUpdate, Actor, NewTeam, NewUser, PostmortemStart};
use time::macros::date;

async fn person(db: &TestDb, handle: &str) -> UserId {
    let user = NewUser {
        handle: Handle::parse(handle).unwrap(),
        display_name: DisplayName::parse(handle).unwrap(),
        role: Role::Contributor,
        password_hash: None,
    };
    db.store.create_user(Actor::DEMO, user).await.unwrap().id
}

fn incident(title: &str, team: &str, restricted: bool) -> NewIncident {
    NewIncident {
        title: Title::parse(title).unwrap(),
        kind: IncidentKind::Outage,
        severity: Severity::parse("SEV2").unwrap(),
        started_at: None,
        services: vec![Name::parse("checkout").unwrap()],
        teams: vec![Name::parse(team).unwrap()],
        impact: Impact::default(),
        restricted,
        template: TemplateName::full(),
    }
}

fn action(title: &str, owner: UserId, team: &str, due_on: time::Date) -> NewActionItem {
    NewActionItem {
        title: Title::parse(title).unwrap(),
        owner: Some(owner),
        team: Some(Name::parse(team).unwrap()),
        due_on: Some(due_on),
        priority: Priority::P2,
        kind: ActionKind::Prevent,
        status: ActionStatus::Open,
        wont_do_reason: None,
        external_url: None,
        factor_ids: vec![],
        verification: None,
    }
}

#[tokio::test]
async fn the_digest_lists_owed_reviews_overdue_actions_and_recent_completions_but_no_restricted_incident()
 {
    let db = TestDb::sqlite().await;
    let dana = person(&db, "dana").await;
    let owed = |due| PostmortemStart {
        status: PostmortemStatus::Owed,
        due_on: Some(due),
    };
    let open = db
        .store
        .create_incident(
            Actor::user(dana),
            incident("Checkout 502s", "payments", false),
            owed(date!(2026 - 02 - 20)),
        )
        .await
        .unwrap();
    let secret = db
        .store
        .create_incident(
            Actor::user(dana),
            incident("Leaked credential", "payments", true),
            owed(date!(2026 - 02 - 20)),
        )
        .await
        .unwrap();
    db.store
        .add_action(
            Actor::user(dana),
            open,
            action(
                "Alert on pool saturation",
                dana,
                "payments",
                date!(2026 - 02 - 25),
            ),
        )
        .await
        .unwrap();
    db.store
        .add_action(
            Actor::user(dana),
            secret,
            action("Rotate every key", dana, "payments", date!(2026 - 02 - 25)),
        )
        .await
        .unwrap();
    let done = db
        .store
        .add_action(
            Actor::user(dana),
            open,
            action(
                "Show the pool size in deploy diffs",
                dana,
                "payments",
                date!(2026 - 03 - 10),
            ),
        )
        .await
        .unwrap();
    db.store
        .update_action(
            Actor::user(dana),
            done.id,
            ActionUpdate {
                status: Some(ActionStatus::Done),
                verification: Some(
                    "The 2026-03-01 deploy diff showed 40 -> 20 and was stopped.".into(),
                ),
                ..ActionUpdate::default()
            },
        )
        .await
        .unwrap();

    // The team's members may read the restricted incident, but the digest goes to a shared
    // channel: it is built with the unrestricted view, which belongs to no team.
    let payments = TeamName::parse("payments").unwrap();
    let team = NewTeam {
        name: payments.clone(),
        display_name: DisplayName::parse("Payments").unwrap(),
    };
    db.store.create_team(Actor::DEMO, team).await.unwrap();
    db.store
        .add_team_member(Actor::DEMO, &payments, dana)
        .await
        .unwrap();

    let today = date!(2026 - 03 - 03);
    let digest = build_digest(
        db.store.as_ref(),
        Some(&Name::parse("payments").unwrap()),
        today,
    )
    .await
    .unwrap();
    assert_eq!((digest.n_reviews_owed, digest.n_reviews_overdue), (1, 1));
    assert_eq!(digest.n_overdue_actions, 1);
    assert_eq!(digest.overdue_by_owner, [("dana".to_owned(), 1)]);
    assert_eq!(digest.recently_completed.len(), 1);
    assert_eq!(
        digest.figures.n_actions, 2,
        "the restricted incident's action is not counted"
    );

    let text = digest.render(DigestFormat::Text);
    assert!(
        text.contains("Follow-through digest for team payments, 2026-03-03"),
        "{text}"
    );
    assert!(
        text.contains("#1 Checkout 502s (owed, due 2026-02-20) OVERDUE"),
        "{text}"
    );
    assert!(
        text.contains("Alert on pool saturation (incident #1), owner dana, 6 days overdue"),
        "{text}"
    );
    assert!(
        text.contains("verified: The 2026-03-01 deploy diff"),
        "{text}"
    );
    for format in [DigestFormat::Text, DigestFormat::Html, DigestFormat::Json] {
        let rendered = digest.render(format);
        assert!(
            !rendered.contains("Leaked credential") && !rendered.contains("Rotate every key"),
            "{rendered}"
        );
    }
    let json: serde_json::Value = serde_json::from_str(&digest.render(DigestFormat::Json)).unwrap();
    assert_eq!(json["generated_on"], "2026-03-03");
    assert!(
        digest
            .render(DigestFormat::Html)
            .contains("<h2>Overdue action items: 1</h2>")
    );

    let other_team = build_digest(
        db.store.as_ref(),
        Some(&Name::parse("search").unwrap()),
        today,
    )
    .await
    .unwrap();
    assert_eq!(
        (other_team.n_reviews_owed, other_team.n_overdue_actions),
        (0, 0)
    );
}

#[tokio::test]
async fn the_digest_names_what_keeps_happening_with_its_incidents_and_never_a_restricted_one() {
    let db = TestDb::sqlite().await;
    let dana = person(&db, "dana").await;
    let mut recorded = Vec::new();
    for (day, restricted) in [
        ("2026-01-10", false),
        ("2026-02-10", false),
        ("2026-02-20", false),
        ("2026-02-25", true),
    ] {
        let mut new = incident("Queue backlog in checkout", "payments", restricted);
        new.title = Title::parse(if restricted {
            "Leaked credential in checkout"
        } else {
            "Queue backlog in checkout"
        })
        .unwrap();
        new.started_at = Some(
            time::OffsetDateTime::parse(
                &format!("{day}T10:00:00Z"),
                &time::format_description::well_known::Rfc3339,
            )
            .unwrap(),
        );
        let id = db
            .store
            .create_incident(
                Actor::user(dana),
                new,
                PostmortemStart {
                    status: PostmortemStatus::Owed,
                    due_on: None,
                },
            )
            .await
            .unwrap();
        db.store
            .add_factor(
                Actor::user(dana),
                id,
                NewFactor {
                    category: FactorCategory::Alerting,
                    description: Markdown::parse("No alert on the queue depth.").unwrap(),
                    is_trigger: false,
                },
            )
            .await
            .unwrap();
        recorded.push(id);
    }

    let digest = build_digest(db.store.as_ref(), None, date!(2026 - 03 - 03))
        .await
        .unwrap();
    assert_eq!(
        digest.recurring_themes.len(),
        1,
        "{:?}",
        digest.recurring_themes
    );
    let theme = &digest.recurring_themes[0];
    assert_eq!(theme.service.as_str(), "checkout");
    assert_eq!(
        theme.incidents.count, 3,
        "the restricted incident is not counted in a shared channel's digest"
    );
    let list = theme.incidents.list.as_deref().unwrap();
    assert!(
        list.contains("factor=alerting") && list.contains("service=checkout"),
        "{list}"
    );

    let text = digest.render(DigestFormat::Text);
    assert!(
        text.contains("What keeps happening: 1 recurring themes"),
        "{text}"
    );
    assert!(
        text.contains("3 incidents in checkout, 2026-01-10 to 2026-02-20"),
        "{text}"
    );
    assert!(text.contains(&format!("incidents: {list}")), "{text}");
    let html = digest.render(DigestFormat::Html);
    assert!(html.contains("<h2>What keeps happening</h2>"), "{html}");
    for format in [DigestFormat::Text, DigestFormat::Html, DigestFormat::Json] {
        assert!(!digest.render(format).contains("Leaked credential"));
    }
}
