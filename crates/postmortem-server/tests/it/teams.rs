//! Teams, roles and restricted incidents through the API and the pages: admins manage teams
//! and roles, everyone reads teams, and a restricted incident is seen by its members only.

use crate::common::csrf_of;
use crate::common::{EventStream, TestApp, outage};
use crate::pages::{assert_accessible, signed_in};
use axum::http::StatusCode;
use serde_json::json;

/// A restricted security incident of the `payments` team, recorded by `token`'s person.
async fn restricted_incident(app: &TestApp, token: &str) -> i64 {
    let mut body = outage();
    body["title"] = json!("Leaked signing key");
    body["kind"] = json!("security");
    body["teams"] = json!(["payments"]);
    let created = app.post_json("/api/v1/incidents", token, body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let incident = created.json();
    assert_eq!(
        incident["restricted"], true,
        "security incidents start restricted"
    );
    incident["id"].as_i64().unwrap()
}

async fn create_team(app: &TestApp, admin: &str, name: &str) {
    let created = app
        .post_json(
            "/api/v1/teams",
            admin,
            json!({"name": name, "display_name": "Payments"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
}

#[tokio::test]
async fn an_admin_creates_a_team_and_manages_its_members_and_everyone_reads_them() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let viewer = app.person("vic", "viewer").await;
    app.person("dana", "contributor").await;
    create_team(&app, &admin, "Payments").await;
    let again = app
        .post_json(
            "/api/v1/teams",
            &admin,
            json!({"name": "payments", "display_name": "Again"}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    let bad = app
        .post_json(
            "/api/v1/teams",
            &admin,
            json!({"name": "pay ments", "display_name": ""}),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refusal = bad.json();
    let fields: Vec<&str> = refusal["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["team", "display_name"],
        "every wrong field is named"
    );

    let added = app
        .call("PUT", "/api/v1/teams/payments/members/dana", &admin, None)
        .await;
    assert_eq!(added.status, StatusCode::NO_CONTENT, "{}", added.body);
    let nobody = app
        .call("PUT", "/api/v1/teams/payments/members/nobody", &admin, None)
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    let no_team = app
        .call("PUT", "/api/v1/teams/growth/members/dana", &admin, None)
        .await;
    assert_eq!(no_team.status, StatusCode::NOT_FOUND);

    let listed = app.get("/api/v1/teams", Some(&viewer)).await;
    assert_eq!(listed.json()["items"][0]["name"], "payments");
    let team = app
        .get("/api/v1/teams/payments", Some(&viewer))
        .await
        .json();
    assert_eq!(team["members"][0]["handle"], "dana");
    assert_eq!(team["display_name"], "Payments");

    let removed = app
        .call(
            "DELETE",
            "/api/v1/teams/payments/members/dana",
            &admin,
            None,
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let team = app
        .get("/api/v1/teams/payments", Some(&viewer))
        .await
        .json();
    assert_eq!(team["members"], json!([]));
}

#[tokio::test]
async fn nobody_but_an_admin_creates_teams_or_changes_their_members() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    create_team(&app, &admin, "payments").await;
    for role in ["viewer", "contributor", "reviewer"] {
        let token = app.person(&format!("{role}1"), role).await;
        let create = app
            .post_json(
                "/api/v1/teams",
                &token,
                json!({"name": "growth", "display_name": "Growth"}),
            )
            .await;
        assert_eq!(create.status, StatusCode::FORBIDDEN, "{role}");
        let join = app
            .call(
                "PUT",
                &format!("/api/v1/teams/payments/members/{role}1"),
                &token,
                None,
            )
            .await;
        assert_eq!(join.status, StatusCode::FORBIDDEN, "{role}");
        assert_eq!(
            app.get("/api/v1/users", Some(&token)).await.status,
            StatusCode::FORBIDDEN
        );
    }
}

#[tokio::test]
async fn an_admin_changes_roles_but_the_last_admin_stays_one() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let users = app.get("/api/v1/users", Some(&admin)).await.json();
    assert_eq!(users["items"].as_array().unwrap().len(), 2);

    let last = app
        .patch_json(
            "/api/v1/users/ada",
            &admin,
            None,
            json!({"role": "reviewer"}),
        )
        .await;
    assert_eq!(
        last.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        last.body
    );
    assert!(last.body.contains("the last admin"), "{}", last.body);
    let unknown = app
        .patch_json("/api/v1/users/dana", &admin, None, json!({"role": "owner"}))
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown
            .body
            .contains("viewer, contributor, reviewer, admin")
    );
    let nobody = app
        .patch_json(
            "/api/v1/users/nobody",
            &admin,
            None,
            json!({"role": "viewer"}),
        )
        .await;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);

    let promoted = app
        .patch_json("/api/v1/users/dana", &admin, None, json!({"role": "admin"}))
        .await;
    assert_eq!(promoted.status, StatusCode::OK, "{}", promoted.body);
    assert_eq!(promoted.json()["role"], "admin");
    // The new role counts from the next request on.
    assert_eq!(
        app.get("/api/v1/users", Some(&dana)).await.status,
        StatusCode::OK
    );
    let stepped_down = app
        .patch_json("/api/v1/users/ada", &admin, None, json!({"role": "viewer"}))
        .await;
    assert_eq!(stepped_down.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/users", Some(&admin)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_restricted_incident_is_read_by_members_of_its_teams_and_people_named_on_it_only() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let tess = app.person("tess", "viewer").await;
    let nora = app.person("nora", "contributor").await;
    let otto = app.person("otto", "reviewer").await;
    create_team(&app, &admin, "payments").await;
    let id = restricted_incident(&app, &dana).await;
    let path = format!("/api/v1/incidents/{id}");
    let total = |token: String| {
        let app = &app;
        async move { app.get("/api/v1/incidents", Some(&token)).await.json()["total"].clone() }
    };

    assert_eq!(
        app.get(&path, Some(&tess)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(total(tess.clone()).await, 0);
    app.call("PUT", "/api/v1/teams/payments/members/tess", &admin, None)
        .await;
    assert_eq!(
        app.get(&path, Some(&tess)).await.status,
        StatusCode::OK,
        "through the team"
    );
    assert_eq!(total(tess.clone()).await, 1);

    // A viewer who is a member reads, but may not name others.
    let by_viewer = app
        .call("PUT", &format!("{path}/members/nora"), &tess, None)
        .await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
    // A non-member does not learn that the incident exists.
    let by_outsider = app
        .call("PUT", &format!("{path}/members/otto"), &otto, None)
        .await;
    assert_eq!(by_outsider.status, StatusCode::NOT_FOUND);
    // The contributor who recorded it names nora, who then reads it.
    let named = app
        .call("PUT", &format!("{path}/members/nora"), &dana, None)
        .await;
    assert_eq!(named.status, StatusCode::OK, "{}", named.body);
    assert_eq!(
        app.get(&path, Some(&nora)).await.json()["members"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // nora, now a member with the contributor role, takes herself off again.
    let off = app
        .call("DELETE", &format!("{path}/members/nora"), &nora, None)
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(
        app.get(&path, Some(&nora)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(&path, Some(&otto)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&path, Some(&admin)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_teams_pages_list_teams_and_let_admins_create_them_and_change_members() {
    let app = TestApp::new().await;
    let (_, admin) = signed_in(&app, "ada", "admin").await;
    let (_, viewer) = signed_in(&app, "vic", "viewer").await;
    let (_, dana) = signed_in(&app, "dana", "contributor").await;

    let page = app.page("/teams", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_accessible(&page.body);
    let csrf = csrf_of(&page.body);
    let refused = app
        .post_form(
            "/teams",
            &admin,
            &[
                ("csrf", &csrf),
                ("name", "Pay Ments"),
                ("display_name", "Payments"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("value=\"Pay Ments\""),
        "the typing is kept"
    );
    let created = app
        .post_form(
            "/teams",
            &admin,
            &[
                ("csrf", &csrf),
                ("name", "payments"),
                ("display_name", "Payments"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.headers["location"], "/teams/payments");

    let team = app.page("/teams/payments", &admin).await;
    assert_accessible(&team.body);
    let csrf = csrf_of(&team.body);
    let added = app
        .post_form(
            "/teams/payments/members",
            &admin,
            &[("csrf", &csrf), ("handle", "dana")],
        )
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let team = app.page("/teams/payments", &viewer).await;
    assert!(team.body.contains("dana Example"));
    assert!(
        !team.body.contains("<form method=\"post\""),
        "viewers get no forms"
    );
    let forged = app
        .post_form(
            "/teams/payments/members/dana/remove",
            &viewer,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    let dana_csrf = csrf_of(&app.page("/incidents/new", &dana).await.body);
    let not_admin = app
        .post_form(
            "/teams/payments/members/dana/remove",
            &dana,
            &[("csrf", &dana_csrf)],
        )
        .await;
    assert_eq!(not_admin.status, StatusCode::FORBIDDEN);
    let removed = app
        .post_form(
            "/teams/payments/members/dana/remove",
            &admin,
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let team = app.page("/teams/payments", &admin).await;
    assert!(team.body.contains("Nobody is in this team yet."));
    assert!(
        team.body.contains("<option value=\"dana\">"),
        "offered again"
    );
    assert_eq!(
        app.page("/teams/growth", &admin).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn the_incident_page_names_people_on_a_restricted_incident() {
    let app = TestApp::new().await;
    let (dana_token, dana) = signed_in(&app, "dana", "contributor").await;
    let (_, nora) = signed_in(&app, "nora", "viewer").await;
    let id = restricted_incident(&app, &dana_token).await;
    let page_path = format!("/incidents/{id}");
    assert_eq!(
        app.page(&page_path, &nora).await.status,
        StatusCode::NOT_FOUND
    );

    let page = app.page(&page_path, &dana).await;
    assert!(page.body.contains("Who may see it"));
    assert_accessible(&page.body);
    let named = app
        .post_form(
            &format!("{page_path}/members"),
            &dana,
            &[("csrf", &csrf_of(&page.body)), ("handle", "nora")],
        )
        .await;
    assert_eq!(named.status, StatusCode::SEE_OTHER, "{}", named.body);
    assert_eq!(named.headers["location"], format!("{page_path}#members"));
    let seen = app.page(&page_path, &nora).await;
    assert_eq!(seen.status, StatusCode::OK);
    assert!(
        !seen.body.contains("Name them"),
        "a viewer may read but not name people"
    );

    let page = app.page(&page_path, &dana).await;
    let off = app
        .post_form(
            &format!("{page_path}/members/nora/remove"),
            &dana,
            &[("csrf", &csrf_of(&page.body))],
        )
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.page(&page_path, &nora).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn search_finds_a_restricted_incident_for_members_of_its_team_as_soon_as_they_join() {
    let (app, index, _dir) = crate::search::searchable().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let tess = app.person("tess", "viewer").await;
    create_team(&app, &admin, "payments").await;
    let secret = "Secret connection pool leak in vault";
    crate::search::record(&app, &dana, secret, "vault", true, "2026-02-02T14:00:00Z").await;
    index.catch_up(app.db.store.as_ref()).await.unwrap();
    let found = |token: String| {
        let app = &app;
        async move {
            let reply = app.get("/api/v1/search?q=vault", Some(&token)).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
            reply.json()["total"].clone()
        }
    };
    assert_eq!(found(tess.clone()).await, 0);
    app.call("PUT", "/api/v1/teams/payments/members/tess", &admin, None)
        .await;
    // Nothing to re-index: the team is on the incident's document, tess's teams on her query.
    assert_eq!(found(tess.clone()).await, 1);
    app.call(
        "DELETE",
        "/api/v1/teams/payments/members/tess",
        &admin,
        None,
    )
    .await;
    assert_eq!(found(tess).await, 0);
}

#[tokio::test]
async fn the_documented_team_has_the_keys_the_api_answers_with() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    create_team(&app, &admin, "payments").await;
    let answered = app.get("/api/v1/teams/payments", Some(&admin)).await.json();
    let doc = app.get("/api/v1/openapi.json", None).await.json();
    let documented: std::collections::BTreeSet<&String> = doc["components"]["schemas"]["TeamView"]
        ["properties"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    let keys: std::collections::BTreeSet<&String> = answered.as_object().unwrap().keys().collect();
    assert_eq!(documented, keys);
}

#[tokio::test]
async fn an_event_stream_ends_when_its_reader_leaves_the_incidents_team() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let tess = app.person("tess", "viewer").await;
    create_team(&app, &admin, "payments").await;
    app.call("PUT", "/api/v1/teams/payments/members/tess", &admin, None)
        .await;
    let id = restricted_incident(&app, &dana).await;
    let mut stream = EventStream::open(&app, id, &tess).await;
    stream.wait_until_live(&app, id, &dana).await;

    app.call(
        "DELETE",
        "/api/v1/teams/payments/members/tess",
        &admin,
        None,
    )
    .await;
    let left_at = app.db.store.latest_change_seq().await.unwrap();
    let entry =
        json!({"at": "2026-03-01T14:05:00+01:00", "text": "Key found in a public repository"});
    app.post_json(&format!("/api/v1/incidents/{id}/timeline"), &dana, entry)
        .await;
    stream.assert_ends_without_changes_from(left_at).await;
}

#[tokio::test]
async fn an_event_stream_ends_when_its_incident_is_restricted() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let vic = app.person("vic", "viewer").await;
    let id = app.incident(&dana).await;
    let mut stream = EventStream::open(&app, id, &vic).await;
    stream.wait_until_live(&app, id, &dana).await;

    let etag = app.etag(id, &admin).await;
    let restricted_from = app.db.store.latest_change_seq().await.unwrap() + 1;
    let restricted = app
        .patch_json(
            &format!("/api/v1/incidents/{id}"),
            &admin,
            Some(&etag),
            json!({"restricted": true}),
        )
        .await;
    assert_eq!(restricted.status, StatusCode::OK, "{}", restricted.body);
    stream
        .assert_ends_without_changes_from(restricted_from)
        .await;
}

#[tokio::test]
async fn an_event_stream_ends_when_the_readers_team_is_taken_off_the_incident() {
    let app = TestApp::new().await;
    let admin = app.person("ada", "admin").await;
    let dana = app.person("dana", "contributor").await;
    let tess = app.person("tess", "viewer").await;
    create_team(&app, &admin, "payments").await;
    app.call("PUT", "/api/v1/teams/payments/members/tess", &admin, None)
        .await;
    let id = restricted_incident(&app, &dana).await;
    let mut stream = EventStream::open(&app, id, &tess).await;
    stream.wait_until_live(&app, id, &dana).await;

    let etag = app.etag(id, &dana).await;
    let moved_from = app.db.store.latest_change_seq().await.unwrap() + 1;
    let moved = app
        .patch_json(
            &format!("/api/v1/incidents/{id}"),
            &dana,
            Some(&etag),
            json!({"teams": ["storage"]}),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.body);
    stream.assert_ends_without_changes_from(moved_from).await;
}
