//! Every text field keeps hostile text byte for byte on both backends: emoji and their joiner
//! sequences, combining marks, right-to-left scripts, very long lines, tabs, CRLF, zero-width
//! characters, noncharacters, quotes and SQL. Whatever the character rules of
//! `postmortem_core::characters` accept, SQLite and PostgreSQL must store alike.

use postmortem_core::policy::Requirement;
use postmortem_core::{
    ActionKind, ActionStatus, DisplayName, FactorCategory, Handle, Impact, IncidentKind, Markdown,
    NewActionItem, NewFactor, NewIncident, NewTimelineEntry, Perspective, PostmortemStatus,
    Priority, ReviewDecision, Role, SectionName, Severity, Source, TeamName, TemplateName, Title,
    parse_instant,
};
use postmortem_store::testing::TestDb;
use postmortem_store::*;

/// Text for one-line fields (titles, names, a timeline entry's actor): no surrounding
/// whitespace, so the parsers keep it exactly as written.
fn hostile_lines() -> Vec<String> {
    vec![
        "Checkout 🔥 down 👩‍👩‍👧‍👦 🏳️‍🌈 🇩🇰 👍🏽".into(),
        "Ze\u{301}ro cafe\u{301} Z̤͔ͧ̑̓ä͖̭̈̇lͮ̒ͫǫ̗ͤ a\u{20DD}".into(),
        "שלום עולם: incident 42 مرحبا بالعالم".into(),
        "\u{200F}עברית\u{200E} 123 \u{061C}with direction marks".into(),
        "'; DROP TABLE incidents; -- \\x00 \\0 %_ $1 ? \"quoted\" `tick`".into(),
        "\u{FEFF}BOM, ZWNJ\u{200C}, ZWSP\u{200B}, word joiner\u{2060}, soft\u{AD}hyphen".into(),
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 astral 𠜎 noncharacters \u{FFFE}\u{FFFF}\u{10FFFF} private \u{E000}".into(),
        "<script>alert(1)</script> &amp; <b>bold</b> ${x} {{y}}".into(),
        "ﷺ ﷽ ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ 𒐫 ௵".into(),
        "non\u{A0}breaking\u{202F}spaces and\u{3000}ideographic".into(),
        "é".repeat(Title::MAX_CHARS),
    ]
}

/// Text for prose fields: everything above, and tabs, line breaks of every kind, blank
/// lines and surrounding whitespace, and lines longer than any screen.
fn hostile_prose() -> Vec<String> {
    let mut prose = hostile_lines();
    prose.extend([
        "\ttab\tseparated\tcolumns\r\nCRLF line\r\nand a lone CR\rend\t".to_owned(),
        "\n\n  leading blank lines, trailing spaces  \n\n".to_owned(),
        "```\nNUL-free code\n```\n<!-- comment -->\n| a | b |\n|---|---|".to_owned(),
        "ab🙂\u{301}".repeat(20_000),
        "line\u{2028}separator\u{2029}paragraph \u{202E}override in prose".to_owned(),
    ]);
    prose
}

fn new_incident(title: Title) -> NewIncident {
    NewIncident {
        title,
        kind: IncidentKind::Outage,
        severity: Severity::parse("SEV2").unwrap(),
        started_at: Some(parse_instant("started_at", "2026-03-01T14:00:00+01:00").unwrap()),
        services: vec![],
        teams: vec![],
        impact: Impact::default(),
        restricted: false,
        template: TemplateName::full(),
    }
}

fn owed() -> PostmortemStart {
    PostmortemStart {
        status: PostmortemStatus::Owed,
        due_on: None,
    }
}

/// The start of a hostile text cut to `max` characters, as a one-line field may hold it.
fn cut(text: &str, max: usize) -> String {
    text.chars().take(max).collect::<String>().trim().to_owned()
}

/// Writes text the way an older version of the system could have, past today's rules.
async fn write_past_the_rules(db: &TestDb, sql: &str, text: &str, id: i64) {
    if db.url.starts_with("sqlite") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        sqlx::query(sql)
            .bind(text)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        sqlx::query(sql)
            .bind(text)
            .bind(id)
            .execute(&pool)
            .await
            .unwrap();
    }
}

postmortem_store::backend_tests! {
    async fn every_text_field_keeps_hostile_text_byte_for_byte(db: TestDb) {
        let lines = hostile_lines();
        let prose = hostile_prose();
        for (n, line) in lines.iter().enumerate() {
            let name = cut(line, 100);
            let user = db.store.create_user(Actor::DEMO, NewUser {
                handle: Handle::parse(format!("person-{n}")).unwrap(),
                display_name: DisplayName::parse(&name).unwrap(),
                role: Role::Reviewer,
                password_hash: None,
            }).await.unwrap();
            let read = db.store.user(user.id).await.unwrap().unwrap();
            assert_eq!(read.display_name.as_str(), name, "a person's name");
            let team = TeamName::parse(format!("team-{n}")).unwrap();
            db.store.create_team(Actor::DEMO, NewTeam {
                name: team.clone(),
                display_name: DisplayName::parse(&name).unwrap(),
            }).await.unwrap();
            let read = db.store.team(&team).await.unwrap().unwrap();
            assert_eq!(read.display_name.as_str(), name, "a team's name");
        }
        let author = db.store.users().await.unwrap()[0].id;
        for (n, text) in prose.iter().enumerate() {
            let line = cut(text.lines().next().unwrap_or("x"), Title::MAX_CHARS);
            let line = if postmortem_core::check_line("title", &line).is_ok() && !line.is_empty() { line } else { format!("line {n}") };
            let title = Title::parse(&line).unwrap();
            assert_eq!(title.as_str(), line, "the title parser keeps the text as written");
            let body = Markdown::parse(text.as_str()).unwrap();
            let id = db.store.create_incident_decided(
                Actor::user(author), new_incident(title), owed(), Requirement::Required, vec![text.clone()],
            ).await.unwrap();
            let mut version = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().incident.version;
            let summary = SectionName::parse("summary").unwrap();
            let outcome = db.store.save_sections(Actor::user(author), id, version, vec![(summary.clone(), body.clone())]).await.unwrap();
            assert!(matches!(outcome, SaveOutcome::Saved { .. }));
            db.store.add_timeline_entry(Actor::user(author), id, NewTimelineEntry {
                at: parse_instant("at", "2026-03-01T14:05:00+01:00").unwrap(),
                text: body.clone(),
                actor: Some(line.clone()),
                marker: None,
                perspective: Perspective::Believed,
                source: Source::Chat,
                source_url: None,
            }).await.unwrap();
            db.store.add_factor(Actor::user(author), id, NewFactor {
                category: FactorCategory::Other,
                description: body.clone(),
                is_trigger: false,
            }).await.unwrap();
            db.store.add_action(Actor::user(author), id, NewActionItem {
                title: Title::parse_field("title", &line).unwrap(),
                owner: None,
                team: None,
                due_on: None,
                priority: Priority::P2,
                kind: ActionKind::Prevent,
                status: ActionStatus::WontDo,
                wont_do_reason: Some(text.clone()),
                external_url: None,
                factor_ids: vec![],
                verification: Some(text.clone()),
            }).await.unwrap();
            db.store.set_review(Actor::user(author), id, author, ReviewDecision::ChangesRequested, Some(text.clone())).await.unwrap();
            db.store.add_comment(Actor::user(author), id, summary.clone(), body.clone(), None).await.unwrap();
            version = db.store.set_status(Actor::user(author), id, PostmortemStatus::Draft, Some(text.clone())).await.unwrap();

            let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
            assert_eq!(record.incident.version, version);
            assert_eq!(record.incident.title.as_str(), line, "the title of incident {n}");
            let section = &record.postmortem.sections[&summary];
            assert_eq!(section.body.as_str(), text, "a section of incident {n}");
            assert_eq!(record.decision.unwrap().reasons, std::slice::from_ref(text), "the policy's reasons");
            let entry = &record.timeline[0];
            assert_eq!(entry.text.as_str(), text, "a timeline entry's text");
            assert_eq!(entry.actor.as_deref(), Some(line.as_str()), "a timeline entry's actor");
            assert_eq!(record.factors[0].description.as_str(), text, "a factor");
            let action = &record.actions[0];
            assert_eq!(action.title.as_str(), line, "an action item's title");
            assert_eq!(action.wont_do_reason.as_deref(), Some(text.as_str()), "a reason");
            assert_eq!(action.verification.as_deref(), Some(text.as_str()), "a verification");
            assert_eq!(record.reviews[0].comment.as_deref(), Some(text.as_str()), "a review");
            assert_eq!(record.comments[0].body.as_str(), text, "a review comment");
        }
    }

    async fn text_stored_before_the_character_rules_still_loads(db: TestDb) {
        let user = db.store.create_user(Actor::DEMO, NewUser {
            handle: Handle::parse("dana").unwrap(),
            display_name: DisplayName::parse("Dana").unwrap(),
            role: Role::Admin,
            password_hash: None,
        }).await.unwrap();
        let id = db.store.create_incident(Actor::user(user.id), new_incident(Title::parse("Disk full").unwrap()), owed()).await.unwrap();
        db.store.add_timeline_entry(Actor::user(user.id), id, NewTimelineEntry {
            at: parse_instant("at", "2026-03-01T14:05:00+01:00").unwrap(),
            text: Markdown::parse("Alert fired").unwrap(),
            actor: None,
            marker: None,
            perspective: Perspective::Happened,
            source: Source::Manual,
            source_url: None,
        }).await.unwrap();
        let title = "Disk full \u{202E}txt.exe\u{1}\tagain";
        let text = "\u{1b}[31mAlert fired\u{7}\u{85}";
        write_past_the_rules(&db, "UPDATE incidents SET title = $1, version = version + 1 WHERE id = $2", title, id.get()).await;
        write_past_the_rules(&db, "UPDATE timeline_entries SET body = $1 WHERE incident_id = $2", text, id.get()).await;
        write_past_the_rules(&db, "UPDATE users SET display_name = $1 WHERE id = $2", title, user.id.get()).await;

        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.incident.title.as_str(), title);
        assert_eq!(record.timeline[0].text.as_str(), text);
        assert_eq!(db.store.user(user.id).await.unwrap().unwrap().display_name.as_str(), title);
    }
}
