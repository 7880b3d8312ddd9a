//! Integrations: their actors, the bodies they sent, which incidents are open for an alert,
//! and entries written once per source key even when deliveries race.

use super::*;

fn alert_entry(at: &str) -> NewTimelineEntry {
    NewTimelineEntry {
        source: Source::Alert,
        perspective: Perspective::Observed,
        actor: None,
        ..entry(at, None)
    }
}

async fn integration(db: &TestDb, name: &str) -> Integration {
    let admin = person(db, "ada", Role::Admin).await;
    db.store
        .create_integration(
            Actor::user(admin),
            NewIntegration {
                kind: "alertmanager".into(),
                name: Name::parse(name).unwrap(),
                display_name: DisplayName::parse(format!("{name} (Alertmanager)")).unwrap(),
                services: vec![Name::parse("checkout").unwrap()],
                credential: "5f2b-the-hash-of-a-secret".into(),
                signing_secret: None,
            },
        )
        .await
        .unwrap()
}

fn delivery(integration: &Integration, body: &str, outcome: HookOutcome) -> NewHookDelivery {
    NewHookDelivery {
        integration_id: integration.id,
        body: body.into(),
        outcome,
        detail: "why".into(),
        replay_of: None,
        replayed_by: None,
    }
}

postmortem_store::backend_tests! {
    async fn an_integration_acts_as_a_person_of_its_own_and_its_credential_is_never_audited(db: TestDb) {
        let hook = integration(&db, "prod-alertmanager").await;
        let actor = db.store.user(hook.actor).await.unwrap().unwrap();
        assert_eq!(actor.handle.as_str(), format!("integration-{}", hook.id));
        assert_eq!(actor.display_name.as_str(), "prod-alertmanager (Alertmanager)");
        assert_eq!(actor.role, Role::Viewer);
        assert!(db.store.credentials(&actor.handle).await.unwrap().unwrap().1.is_none(), "nobody signs in as it");
        assert_eq!(db.store.integrations().await.unwrap(), std::slice::from_ref(&hook));
        let audit = db.store.audit_events(None, 1).await.unwrap().remove(0);
        assert_eq!(audit.action, "integration.create");
        assert!(!audit.details.to_string().contains("5f2b"), "{}", audit.details);

        let twin = db.store.create_integration(Actor::DEMO, NewIntegration {
            kind: "grafana".into(), name: hook.name.clone(), display_name: DisplayName::parse("twin").unwrap(),
            services: vec![], credential: "x".into(), signing_secret: None,
        }).await.unwrap_err();
        assert!(matches!(twin, StoreError::Duplicate(_)), "{twin}");
    }

    async fn racing_deliveries_of_one_alert_write_it_once(db: TestDb) {
        let hook = integration(&db, "prod-alertmanager").await;
        let dana = person(&db, "dana", Role::Contributor).await;
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout"]), owed()).await.unwrap();
        let version = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap().incident.version;
        let racers = (0..8).map(|_| {
            let store = db.store.clone();
            let delivered = delivery(&hook, "{}", HookOutcome::Applied);
            tokio::spawn(async move {
                let sourced = SourcedEntry { incident: id, key: "alert:alertmanager:8c5e:firing".into(), entry: alert_entry("2026-03-01T14:02:00+01:00") };
                store.add_sourced_entries(Actor::user(hook.actor), Some(delivered), vec![sourced]).await.unwrap()
            })
        });
        let mut added = 0;
        for racer in racers.collect::<Vec<_>>() {
            let outcome = racer.await.unwrap();
            added += outcome.added.len();
            assert_eq!(outcome.delivery.unwrap().entries_added, i64::try_from(outcome.added.len()).unwrap());
        }
        assert_eq!(added, 1);
        let record = db.store.incident(id, Visibility::Everything).await.unwrap().unwrap();
        assert_eq!(record.timeline.len(), 1);
        assert_eq!(record.timeline[0].author, hook.actor);
        assert_eq!(record.timeline[0].source, Source::Alert);
        assert_eq!(record.incident.version, version + 1, "only the write that added bumped the incident");
        assert_eq!(db.store.hook_deliveries(Some(hook.id), 50).await.unwrap().len(), 8, "every delivery is kept");

        // The other state of the same alert is an entry of its own; a removed entry stays removed.
        let resolved = SourcedEntry { incident: id, key: "alert:alertmanager:8c5e:resolved".into(), entry: alert_entry("2026-03-01T14:30:00+01:00") };
        let again = SourcedEntry { incident: id, key: "alert:alertmanager:8c5e:firing".into(), entry: alert_entry("2026-03-01T14:02:00+01:00") };
        let outcome = db.store.add_sourced_entries(Actor::user(hook.actor), None, vec![resolved, again.clone()]).await.unwrap();
        assert_eq!(outcome.added.len(), 1);
        assert!(outcome.delivery.is_none());
        db.store.remove_timeline_entry(Actor::user(dana), id, record.timeline[0].id).await.unwrap();
        assert!(db.store.add_sourced_entries(Actor::user(hook.actor), None, vec![again]).await.unwrap().added.is_empty());
    }

    async fn an_incident_is_open_for_an_alert_of_its_service_until_an_entry_marks_it_resolved(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let checkout = Name::parse("checkout").unwrap();
        // Started 2026-03-01T14:00:00+01:00.
        let id = db.store.create_incident(Actor::user(dana), incident("Checkout down", "SEV2", &["checkout", "payments"]), owed()).await.unwrap();
        db.store.create_incident(Actor::user(dana), incident("Search slow", "SEV3", &["search"]), owed()).await.unwrap();
        let at = |raw: &str| parse_instant("at", raw).unwrap();
        assert_eq!(db.store.open_incidents(&checkout, at("2026-03-01T14:30:00+01:00")).await.unwrap(), [id]);
        assert_eq!(db.store.open_incidents(&checkout, at("2026-03-01T13:55:00+01:00")).await.unwrap(), [id], "an alert just before the start belongs to it");
        assert_eq!(db.store.open_incidents(&Name::parse("payments").unwrap(), at("2026-03-01T14:30:00+01:00")).await.unwrap(), [id]);
        assert!(db.store.open_incidents(&checkout, at("2026-03-09T14:30:00+01:00")).await.unwrap().is_empty(), "more than a week later");
        assert!(db.store.open_incidents(&Name::parse("ledger").unwrap(), at("2026-03-01T14:30:00+01:00")).await.unwrap().is_empty());

        db.store.add_timeline_entry(Actor::user(dana), id, entry("2026-03-01T15:00:00+01:00", Some(Marker::Resolved))).await.unwrap();
        assert_eq!(db.store.open_incidents(&checkout, at("2026-03-01T14:30:00+01:00")).await.unwrap(), [id], "it was open then");
        assert!(db.store.open_incidents(&checkout, at("2026-03-01T15:30:00+01:00")).await.unwrap().is_empty());
    }

    async fn kept_bodies_are_pruned_after_their_time_and_go_with_their_integration(db: TestDb) {
        let hook = integration(&db, "prod-alertmanager").await;
        let actor = Actor::user(hook.actor);
        db.store.add_sourced_entries(actor, Some(delivery(&hook, "{\"alerts\": [", HookOutcome::Refused)), vec![]).await.unwrap();
        db.clock.advance(time::Duration::days(2));
        let cutoff = db.clock.now() - time::Duration::days(1);
        let fresh = db.store.add_sourced_entries(actor, Some(delivery(&hook, "{}", HookOutcome::Ignored)), vec![]).await.unwrap().delivery.unwrap();
        assert_eq!(db.store.prune_hook_deliveries(cutoff).await.unwrap(), 1);
        let kept = db.store.hook_deliveries(None, 50).await.unwrap();
        assert_eq!(kept, std::slice::from_ref(&fresh));
        assert_eq!(db.store.hook_delivery(fresh.id).await.unwrap(), Some(fresh.clone()));
        assert_eq!(fresh.outcome, HookOutcome::Ignored);

        db.store.delete_integration(Actor::DEMO, hook.id).await.unwrap();
        assert!(db.store.integration(hook.id).await.unwrap().is_none());
        assert!(db.store.hook_deliveries(None, 50).await.unwrap().is_empty());
        assert!(db.store.user(hook.actor).await.unwrap().is_some(), "the author of its entries stays");
        let gone = db.store.delete_integration(Actor::DEMO, hook.id).await.unwrap_err();
        assert!(matches!(gone, StoreError::NotFound("integration")), "{gone}");
    }

    async fn a_deploy_reported_twice_is_kept_once_and_found_by_service_and_time(db: TestDb) {
        let hook = integration(&db, "ci").await;
        let checkout = Name::parse("checkout").unwrap();
        let at = |raw: &str| parse_instant("at", raw).unwrap();
        let deploy = NewDeploy {
            key: "checkout@1.2.3@1772366400".into(),
            service: checkout.clone(),
            version: "1.2.3".into(),
            at: at("2026-03-01T13:00:00+01:00"),
            by: Some("deploy-bot".into()),
            link: Some(postmortem_core::WebLink::parse("https://ci.example.com/1").unwrap()),
        };
        let other = NewDeploy { key: "search@9".into(), service: Name::parse("search").unwrap(), ..deploy.clone() };
        let (kept, new) = db.store.record_deploys(delivery(&hook, "{}", HookOutcome::Applied), vec![deploy.clone(), other]).await.unwrap();
        assert_eq!((kept.integration_id, new), (hook.id, 2));
        let (_, new) = db.store.record_deploys(delivery(&hook, "{}", HookOutcome::Applied), vec![deploy.clone()]).await.unwrap();
        assert_eq!(new, 0);

        let found = db.store.deploys_between(std::slice::from_ref(&checkout), at("2026-03-01T12:00:00+01:00"), at("2026-03-01T14:00:00+01:00")).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].version.as_str(), found[0].by.as_deref(), found[0].at), ("1.2.3", Some("deploy-bot"), deploy.at));
        assert_eq!(found[0].at.offset(), deploy.at.offset(), "kept in the offset it was reported in");
        assert_eq!(db.store.deploy(found[0].id).await.unwrap().as_ref(), Some(&found[0]));
        assert!(db.store.deploys_between(std::slice::from_ref(&checkout), at("2026-03-01T13:30:00+01:00"), at("2026-03-01T14:00:00+01:00")).await.unwrap().is_empty());
        assert!(db.store.deploys_between(&[], at("2026-03-01T12:00:00+01:00"), at("2026-03-01T14:00:00+01:00")).await.unwrap().is_empty());
    }
}
