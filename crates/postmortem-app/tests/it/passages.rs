//! Review comments on a passage, found again after the section changes, and revisions of a
//! published post-mortem that say what changed: on both backends.

use crate::system::{account, app};
use postmortem_app::{App, AppError, CommentInput, QuoteInput, SaveResult, place_comments};
use postmortem_core::{Anchoring, IncidentId, PostmortemStatus, SystemActor, User};
use postmortem_store::Actor;
use std::collections::BTreeMap;

async fn person(app: &App, handle: &str, role: &str) -> User {
    app.as_system(SystemActor::Accounts)
        .create_account(account(handle, role))
        .await
        .unwrap()
        .0
}

async fn incident_with_summary(app: &App, author: &User, summary: &str) -> IncidentId {
    let record = app
        .acting_for(author)
        .create_incident(postmortem_app::IncidentInput {
            title: "Checkout down".into(),
            kind: "outage".into(),
            severity: "SEV2".into(),
            services: Some(vec!["checkout".into()]),
            ..Default::default()
        })
        .await
        .unwrap();
    save(app, author, record.incident.id, summary, None)
        .await
        .unwrap();
    record.incident.id
}

async fn save(
    app: &App,
    author: &User,
    id: IncidentId,
    summary: &str,
    revision: Option<&str>,
) -> Result<SaveResult, AppError> {
    let service = app.acting_for(author);
    let version = service.incident(id).await?.incident.version;
    let sections = BTreeMap::from([("summary".to_owned(), summary.to_owned())]);
    service
        .save_sections(id, Some(version), sections, revision.map(str::to_owned))
        .await
}

fn on(exact: &str, prefix: &str, suffix: &str, body: &str) -> CommentInput {
    CommentInput {
        section: "summary".into(),
        body: body.into(),
        quote: Some(QuoteInput {
            exact: exact.into(),
            prefix: prefix.into(),
            suffix: suffix.into(),
        }),
    }
}

const SUMMARY: &str = "Customers saw **errors** for 20 minutes while the deploy ran. The cache was cold after the restart, so requests timed out.";

postmortem_store::backend_tests! {
    async fn a_comment_on_a_passage_follows_its_words_then_its_surroundings_then_is_outdated(db: TestDb) {
        let app = app(&db);
        let dana = person(&app, "dana", "contributor").await;
        let rae = person(&app, "rae", "reviewer").await;
        let id = incident_with_summary(&app, &dana, SUMMARY).await;
        let reviewer = app.acting_for(&rae);
        // As a reader selects it on the page: the words as they read, without Markdown marks.
        let comment = reviewer.add_comment(id, on(
            "the cache was cold after the restart",
            "for 20 minutes while the deploy ran. ",
            ", so requests timed out.",
            "Which cache?",
        )).await;
        assert!(comment.is_err(), "the quote's words must be in the section as written (case too)");
        let comment = reviewer.add_comment(id, on(
            "The cache was cold after the restart",
            "errors for 20 minutes while the deploy ran. ",
            ", so requests timed out.",
            "Which cache?",
        )).await.unwrap();
        // As the editor's text box gives it: with the Markdown marks.
        let marked = reviewer.add_comment(id, on("saw **errors** for", "Customers ", " 20 minutes", "Which errors?")).await.unwrap();
        assert_eq!(marked.quote.as_ref().unwrap().exact(), "saw errors for", "kept as the words read");

        let placed = |record| place_comments(record).into_iter().map(|p| (p.comment.id, p.anchoring.map(|a| a.as_str()), p.passage)).collect::<Vec<_>>();
        let record = app.acting_for(&dana).incident(id).await.unwrap();
        assert_eq!(placed(&record)[0], (comment.id, Some("exact"), Some("The cache was cold after the restart".to_owned())));

        save(&app, &dana, id, "Customers saw errors for 20 minutes while the deploy ran. The cache held no entries after the restart, so requests timed out.", None).await.unwrap();
        let record = app.acting_for(&dana).incident(id).await.unwrap();
        let now = placed(&record);
        assert_eq!(now[0], (comment.id, Some("moved"), Some("The cache held no entries after the restart".to_owned())), "found by its surroundings");
        assert_eq!(now[1].1, Some("exact"));

        save(&app, &dana, id, "A different account of the incident altogether.", None).await.unwrap();
        let record = app.acting_for(&dana).incident(id).await.unwrap();
        let places = place_comments(&record);
        assert_eq!(places[0].anchoring, Some(Anchoring::Outdated));
        assert_eq!(places[0].comment.quote.as_ref().unwrap().exact(), "The cache was cold after the restart", "an outdated comment keeps what it quoted");

        app.acting_for(&dana).set_comment_resolved(id, comment.id, true).await.unwrap();
        let record = app.acting_for(&rae).incident(id).await.unwrap();
        assert!(record.comments.iter().find(|c| c.id == comment.id).unwrap().resolved);
        app.acting_for(&rae).set_comment_resolved(id, comment.id, false).await.unwrap();
        let viewer = person(&app, "vic", "viewer").await;
        let refused = app.acting_for(&viewer).set_comment_resolved(id, comment.id, true).await.unwrap_err();
        assert_eq!(refused.code(), "forbidden");
    }

    async fn a_comment_whose_quote_is_not_in_the_section_is_refused_in_words(db: TestDb) {
        let app = app(&db);
        let dana = person(&app, "dana", "contributor").await;
        let rae = person(&app, "rae", "reviewer").await;
        let id = incident_with_summary(&app, &dana, SUMMARY).await;
        let error = app.acting_for(&rae).add_comment(id, on("a database failover", "", "", "Which one?")).await.unwrap_err();
        let AppError::Invalid(errors) = error else { panic!("{error}") };
        assert_eq!(errors[0].field(), "quote.exact");
        assert!(errors[0].rule().contains("is not in the section “Summary” as it reads now"), "{}", errors[0].rule());
        let unanchored = app.acting_for(&rae).add_comment(id, CommentInput { section: "summary".into(), body: "Shorter, please.".into(), quote: None }).await.unwrap();
        assert_eq!(unanchored.quote, None, "comments on the whole section still work");
    }

    async fn a_published_post_mortem_changes_only_as_a_revision_that_says_what_changed(db: TestDb) {
        let app = app(&db);
        let dana = person(&app, "dana", "contributor").await;
        let rae = person(&app, "rae", "reviewer").await;
        let id = incident_with_summary(&app, &dana, SUMMARY).await;
        db.store.set_review(Actor::user(dana.id), id, rae.id, postmortem_core::ReviewDecision::Approved, None).await.unwrap();
        for to in [PostmortemStatus::Draft, PostmortemStatus::InReview, PostmortemStatus::Approved, PostmortemStatus::Published] {
            db.store.set_status(Actor::user(dana.id), id, to, None).await.unwrap();
        }
        let silent = save(&app, &dana, id, "Customers saw errors for 42 minutes.", None).await.unwrap_err();
        let AppError::Invalid(errors) = &silent else { panic!("{silent}") };
        assert_eq!(errors[0].field(), "revision");
        assert!(errors[0].rule().contains("say in a few words what changed"), "{}", errors[0].rule());
        let blank = save(&app, &dana, id, "Customers saw errors for 42 minutes.", Some("   ")).await.unwrap_err();
        assert_eq!(blank.code(), "invalid_input");
        let record = app.acting_for(&dana).incident(id).await.unwrap();
        assert!(record.postmortem.sections.values().any(|s| s.body.as_str() == SUMMARY), "nothing changed silently");

        save(&app, &dana, id, "Customers saw errors for 42 minutes.", Some("Corrected the duration to 42 minutes")).await.unwrap();
        let record = app.acting_for(&rae).incident(id).await.unwrap();
        assert_eq!(record.postmortem.status, PostmortemStatus::Published, "a revision stays published");
        let revision = &record.revisions[0];
        assert_eq!((revision.note.as_str(), revision.revised_by), ("Corrected the duration to 42 minutes", Some(dana.id)));
        assert_eq!(revision.sections.iter().map(|s| s.as_str()).collect::<Vec<_>>(), ["summary"]);
        let audit = db.store.audit_events(Some(id), 1).await.unwrap();
        assert_eq!(audit[0].action, "postmortem.revise");
    }
}
