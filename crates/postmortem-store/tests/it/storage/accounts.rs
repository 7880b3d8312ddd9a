//! People and their ways in: accounts, API tokens, sign-in lockouts, sessions, identities from
//! an identity provider and pending single sign-ons.

use super::*;

postmortem_store::backend_tests! {
    async fn a_created_user_is_found_by_handle(db: TestDb) {
        let id = person(&db, "dana", Role::Contributor).await;
        let found = db.store.user_by_handle(&Handle::parse("dana").unwrap()).await.unwrap().unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.role, Role::Contributor);
        assert_eq!(db.store.count_users().await.unwrap(), 1);
    }

    async fn a_taken_handle_is_refused_and_the_first_user_is_kept(db: TestDb) {
        person(&db, "dana", Role::Admin).await;
        let error = db.store.create_user(Actor::DEMO, NewUser {
            handle: Handle::parse("dana").unwrap(),
            display_name: DisplayName::parse("Another Dana").unwrap(),
            role: Role::Viewer,
            password_hash: None,
        }).await.unwrap_err();
        assert_eq!(error.to_string(), "the handle `dana` is taken");
        let kept = db.store.user_by_handle(&Handle::parse("dana").unwrap()).await.unwrap().unwrap();
        assert_eq!(kept.role, Role::Admin);
        assert_eq!(db.store.count_users().await.unwrap(), 1);
    }

    async fn a_token_works_until_it_expires(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let expires_at = db.clock.now() + time::Duration::days(1);
        db.store.create_api_token(Actor::DEMO, NewApiToken { user_id: dana, token_hash: "abc".into(), label: "ci".into(), expires_at: Some(expires_at) }).await.unwrap();
        assert_eq!(db.store.user_by_token_hash("abc").await.unwrap().unwrap().id, dana);
        assert!(db.store.user_by_token_hash("abd").await.unwrap().is_none());
        db.clock.advance(time::Duration::days(2));
        assert!(db.store.user_by_token_hash("abc").await.unwrap().is_none());
    }

    async fn a_revoked_token_no_longer_signs_in_and_stays_listed_with_its_revocation(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let rae = person(&db, "rae", Role::Contributor).await;
        let first = db.store.create_api_token(Actor::DEMO, NewApiToken { user_id: dana, token_hash: "h1".into(), label: "laptop".into(), expires_at: None }).await.unwrap();
        let second = db.store.create_api_token(Actor::DEMO, NewApiToken { user_id: dana, token_hash: "h2".into(), label: "ci".into(), expires_at: None }).await.unwrap();
        db.store.create_api_token(Actor::DEMO, NewApiToken { user_id: rae, token_hash: "h3".into(), label: "rae".into(), expires_at: None }).await.unwrap();
        let danas: Vec<i64> = db.store.api_tokens(Some(dana)).await.unwrap().iter().map(|t| t.id).collect();
        assert_eq!(danas, [second, first], "newest first, and only hers");
        assert_eq!(db.store.api_tokens(None).await.unwrap().len(), 3);

        let revoked = db.store.revoke_api_token(Actor::user(dana), first).await.unwrap();
        assert_eq!(revoked.revoked_at, Some(db.clock.now()));
        assert!(db.store.user_by_token_hash("h1").await.unwrap().is_none());
        assert_eq!(db.store.api_token_by_hash("h1").await.unwrap().unwrap().state(db.clock.now()), TokenState::Revoked);
        assert_eq!(db.store.user_by_token_hash("h2").await.unwrap().unwrap().id, dana);

        db.clock.advance(time::Duration::hours(1));
        let again = db.store.revoke_api_token(Actor::user(dana), first).await.unwrap();
        assert_eq!(again.revoked_at, revoked.revoked_at, "the first revocation is kept");
        assert!(matches!(db.store.revoke_api_token(Actor::user(dana), 999).await, Err(StoreError::NotFound("token"))));
        let audit = db.store.audit_events(None, 10).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "token.revoke"), "the revocation is audited");
    }

    async fn failed_sign_ins_lock_a_subject_out_for_doubling_periods_until_cleared(db: TestDb) {
        let policy = lockout(2, time::Duration::hours(24));
        let now = db.clock.now();
        assert_eq!(db.store.record_login_failure("handle:dana", &policy).await.unwrap(), None);
        assert_eq!(db.store.record_login_failure("handle:dana", &policy).await.unwrap(), None);
        assert_eq!(db.store.login_locked_until("handle:dana").await.unwrap(), None);
        let locked = db.store.record_login_failure("handle:dana", &policy).await.unwrap();
        assert_eq!(locked, Some(now + time::Duration::seconds(30)));
        assert_eq!(db.store.login_locked_until("handle:dana").await.unwrap(), locked);
        assert_eq!(db.store.login_locked_until("handle:rae").await.unwrap(), None, "other subjects are not locked");

        db.clock.advance(time::Duration::seconds(30));
        assert_eq!(db.store.login_locked_until("handle:dana").await.unwrap(), None, "the lockout ends");
        let longer = db.store.record_login_failure("handle:dana", &policy).await.unwrap();
        assert_eq!(longer, Some(db.clock.now() + time::Duration::seconds(60)), "and the next failure doubles it");

        db.store.clear_login_failures("handle:dana").await.unwrap();
        assert_eq!(db.store.login_locked_until("handle:dana").await.unwrap(), None);
        assert_eq!(db.store.record_login_failure("handle:dana", &policy).await.unwrap(), None, "counting starts again");
    }

    async fn failed_sign_ins_are_forgotten_a_while_after_the_last_one(db: TestDb) {
        let policy = lockout(1, time::Duration::hours(1));
        assert_eq!(db.store.record_login_failure("address:192.0.2.1", &policy).await.unwrap(), None);
        db.clock.advance(time::Duration::hours(2));
        // Another subject's failure sweeps the old row away.
        db.store.record_login_failure("address:192.0.2.2", &policy).await.unwrap();
        assert_eq!(db.store.record_login_failure("address:192.0.2.1", &policy).await.unwrap(), None);
    }

    async fn a_session_signs_in_until_deleted(db: TestDb) {
        let dana = person(&db, "dana", Role::Contributor).await;
        let expires_at = db.clock.now() + time::Duration::hours(8);
        db.store.create_session(NewSession { user_id: dana, session_hash: "s1".into(), expires_at }).await.unwrap();
        assert_eq!(db.store.user_by_session_hash("s1").await.unwrap().unwrap().id, dana);
        db.store.delete_session("s1").await.unwrap();
        assert!(db.store.user_by_session_hash("s1").await.unwrap().is_none());
    }

    async fn a_person_from_an_identity_provider_is_found_by_issuer_and_subject(db: TestDb) {
        let created = db.store.create_user_with_identity(Actor::DEMO, new_user("ada", Role::Viewer), identity("https://sso.acme.example", "0001")).await.unwrap();
        let found = db.store.user_by_identity("https://sso.acme.example", "0001").await.unwrap().unwrap();
        assert_eq!(found, created);
        assert!(db.store.user_by_identity("https://other.example", "0001").await.unwrap().is_none(), "a subject means nothing under another issuer");
        assert!(db.store.credentials(&Handle::parse("ada").unwrap()).await.unwrap().unwrap().1.is_none(), "no password is set");
        let event = &db.store.audit_events(None, 1).await.unwrap()[0];
        assert_eq!(event.action, "user.create");
        assert_eq!(event.details["after"]["identity"]["issuer"], "https://sso.acme.example");
        assert_eq!(event.details["after"]["identity"]["email"], "0001@acme.example");
    }

    async fn an_identity_linked_twice_is_refused_and_creates_no_second_person(db: TestDb) {
        db.store.create_user_with_identity(Actor::DEMO, new_user("ada", Role::Viewer), identity("https://sso.acme.example", "0001")).await.unwrap();
        let error = db.store.create_user_with_identity(Actor::DEMO, new_user("ada-2", Role::Viewer), identity("https://sso.acme.example", "0001")).await.unwrap_err();
        assert!(matches!(error, StoreError::Duplicate(_)), "{error}");
        assert_eq!(db.store.count_users().await.unwrap(), 1, "the refused person was rolled back with the identity");
    }

    async fn a_pending_sign_in_is_taken_once_and_never_after_it_expires(db: TestDb) {
        let pending = |state_hash: &str| PendingSignIn {
            state_hash: state_hash.into(),
            nonce: "n".into(),
            pkce_verifier: "v".into(),
            next_path: "/incidents/4".into(),
            expires_at: db.clock.now() + time::Duration::minutes(10),
        };
        db.store.save_pending_sign_in(pending("s1")).await.unwrap();
        db.store.save_pending_sign_in(pending("s2")).await.unwrap();
        assert_eq!(db.store.take_pending_sign_in("s1").await.unwrap(), Some(pending("s1")));
        assert_eq!(db.store.take_pending_sign_in("s1").await.unwrap(), None, "a state is honoured once");
        db.clock.advance(time::Duration::minutes(11));
        assert_eq!(db.store.take_pending_sign_in("s2").await.unwrap(), None, "an expired sign-in is refused");
    }
}
