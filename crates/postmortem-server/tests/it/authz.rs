//! The authorisation matrix: every route the server serves, pages and API, asked by every kind
//! of person, about an open and a restricted incident, each with the status it must answer.
//!
//! The routes are read from the server's source (every `.route("...", method(...))`), so a
//! route added without a row here fails `every_route_has_a_row_in_the_matrix`. To add a row:
//! write the method and path as in the source, a request body if the route takes one, and
//! what each person gets.
//!
//! The people, in column order:
//!
//! | column      | who                                                                      |
//! |-------------|--------------------------------------------------------------------------|
//! | anonymous   | no token, no session                                                     |
//! | viewer      | role `viewer`, not a member of the incident                              |
//! | contributor | role `contributor`, not a member                                         |
//! | reviewer    | role `reviewer`, not a member                                            |
//! | admin       | role `admin`, not a member (admins see every incident)                   |
//! | member      | role `contributor`, member of the incident through its team `payments`   |
//! | named       | role `viewer`, named on the incident                                     |
//!
//! Each cell is an HTTP status, or `login` for the redirect of a page to the sign-in form.
//! `open` is asked about an unrestricted incident, `restricted` about a restricted one; a
//! route that names no incident has `same` there and is asked once. Every cell gets an
//! incident of its own (recorded by someone who is none of the columns, with a factor, an
//! action item and a review comment, naming `nam`), so one cell's write never changes
//! another's answer.
//!
//! Paths are filled in like this: `{id}` is the incident (the action item under
//! `/api/v1/actions/`, the webhook under `/api/v1/webhooks/`, the integration under
//! `/api/v1/integrations/` and `/hooks/{kind}/` (`{kind}` is its kind), a delivery it received
//! under `/api/v1/integrations/deliveries/` and `/admin/integrations/deliveries/`, a second
//! integration under `/admin/integrations/`, `{deploy_id}` a deploy to the incidents' service, a fresh token of `nora` under
//! `/api/v1/tokens/` and `/account/tokens/`), `{action_id}`, `{comment_id}`, `{entry_id}`
//! (a timeline entry) and `{factor_id}` belong to it, `{team}` is `payments`, `{handle}` is `nora` (a viewer who
//! is in none of the columns), `{part}` is `facts`, `{slug}` names nothing published, `{upload}` no chat upload. Form bodies get the session's CSRF token
//! added; in bodies, `{column}` is the column's handle, `{version}` is the incident's version (requests to incidents also
//! carry it as `If-Match`).

use crate::common::TestApp;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use postmortem_core::{
    DisplayName, Impact, IncidentKind, Markdown, Name, NewActionItem, NewFactor, NewIncident,
    Permission, PostmortemStatus, Role, SectionName, Severity, TeamName, TemplateName, Title,
    UserId,
};
use postmortem_server::accounts::secret_hash;
use postmortem_store::{Actor, NewSession, NewTeam, PostmortemStart, Visibility};
use std::collections::BTreeSet;
use std::path::Path;
use tower::ServiceExt;

/// `(method, path, body, open, restricted)`. A body starting with `{` is JSON, any other
/// non-empty body a form. Columns: anonymous viewer contributor reviewer admin member named.
#[rustfmt::skip]
const MATRIX: &[(&str, &str, &str, &str, &str)] = &[
    // Health and sign-in.
    ("GET",    "/healthz", "", "200 200 200 200 200 200 200", "same"),
    ("GET",    "/readyz", "", "200 200 200 200 200 200 200", "same"),
    ("GET",    "/login", "", "200 200 200 200 200 200 200", "same"),
    // The same handle fails in every column, so the sixth attempt on is locked out.
    ("POST",   "/login", "handle=nobody&password=wrong+password+here", "401 401 401 401 401 429 429", "same"),
    // Without a session there is no CSRF token to send.
    ("POST",   "/logout", "", "403 login login login login login login", "same"),
    ("GET",    "/login/oidc", "", "404 404 404 404 404 404 404", "same"),
    ("POST",   "/login/oidc", "next=%2F", "404 404 404 404 404 404 404", "same"),
    ("GET",    "/login/oidc/callback", "", "404 404 404 404 404 404 404", "same"),
    ("GET",    "/account", "", "login 200 200 200 200 200 200", "same"),
    ("POST",   "/account/tokens", "label=laptop&expires_in_days=30", "login 200 200 200 200 200 200", "same"),
    ("POST",   "/account/tokens/{id}/revoke", "", "login 404 404 404 303 404 404", "same"),
    ("GET",    "/static/app.css", "", "200 200 200 200 200 200 200", "same"),
    ("GET",    "/static/app.js", "", "200 200 200 200 200 200 200", "same"),

    // Pages: lists and incidents.
    ("GET",    "/", "", "login 200 200 200 200 200 200", "same"),
    ("GET",    "/incidents", "", "login 200 200 200 200 200 200", "same"),
    ("GET",    "/incidents/new", "", "login 200 200 200 200 200 200", "same"),
    ("POST",   "/incidents/new", "title=Queue+stalled&kind=outage&severity=SEV3", "login 403 303 303 303 303 403", "same"),
    ("GET",    "/incidents/{id}", "", "login 200 200 200 200 200 200", "login 404 404 404 200 200 200"),
    ("GET",    "/incidents/{id}/edit", "", "login 403 200 200 200 200 403", "login 404 404 404 200 200 403"),
    ("POST",   "/incidents/{id}/edit", "base_version={version}&section.summary=The+queue+stalled.", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("GET",    "/incidents/{id}/facts", "", "login 403 200 200 200 200 403", "login 404 404 404 200 200 403"),
    ("POST",   "/incidents/{id}/facts", "base_version={version}&title=Checkout+returned+503s&kind=outage&severity=SEV2&services=checkout&teams=payments", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    // The external version's page: anyone who sees the incident reads it; writers make and
    // edit the draft (none exists, so an edit is 404); reviewers and admins publish (no draft:
    // 422) and take down (nothing published: 404).
    ("GET",    "/incidents/{id}/external", "", "login 200 200 200 200 200 200", "login 404 404 404 200 200 200"),
    ("POST",   "/incidents/{id}/external", "sections=summary", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/external/redactions", "version=1&add_found=Acme&add_replaced_by=a+customer", "login 403 404 404 404 404 403", "login 404 404 404 404 404 403"),
    ("POST",   "/incidents/{id}/external/publish", "accept_redactions=true", "login 403 403 422 422 403 403", "login 404 404 404 422 403 403"),
    ("POST",   "/incidents/{id}/external/unpublish", "", "login 403 403 404 404 403 403", "login 404 404 404 404 403 403"),
    ("GET",    "/incidents/{id}/history", "", "login 403 403 403 200 200 200", "login 404 404 404 200 200 200"),
    ("GET",    "/incidents/{id}/fragments/{part}", "", "login 200 200 200 200 200 200", "login 404 404 404 200 200 200"),
    ("GET",    "/incidents/{id}/events", "", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    ("POST",   "/incidents/{id}/timeline", "at_local=2026-03-01T14:05&offset=%2B01:00&text=Alert+fired", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/factors", "category=capacity&description=The+pool+was+small.", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/actions", "title=Size+the+pool&kind=prevent", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    // Action items: their owner, the incident's authors, its reviewers and admins (none of
    // the columns but admins is one of these).
    ("POST",   "/incidents/{id}/actions/{action_id}", "status=in_progress", "login 403 403 403 303 403 403", "login 404 404 404 303 403 403"),
    ("POST",   "/incidents/{id}/actions/{action_id}/remove", "", "login 403 403 403 303 403 403", "login 404 404 404 303 403 403"),
    // Corrections of the timeline and factors: whoever may add to them.
    ("POST",   "/incidents/{id}/timeline/{entry_id}", "at_local=2026-03-01T14:06&offset=%2B01:00&text=Alert+fired+for+checkout", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/timeline/{entry_id}/remove", "", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/factors/{factor_id}", "category=capacity&description=The+pool+was+too+small.&is_trigger=true", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/factors/{factor_id}/remove", "", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/transitions", "to=in_review&reviewers=rev", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/comments", "section=summary&body=Which+pool%3F", "login 403 403 303 303 403 403", "login 404 404 404 303 403 403"),
    ("POST",   "/incidents/{id}/comments/{comment_id}/resolve", "", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/comments/{comment_id}/reopen", "", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/changes/{deploy_id}", "", "login 403 303 303 303 303 403", "login 404 404 404 303 303 403"),
    // The chat selection: for writers who may see the incident. The upload takes multipart
    // only (a plain form is a 400 after the checks); `{upload}` names no upload (404).
    ("GET",    "/incidents/{id}/chat", "", "login 403 200 200 200 200 403", "login 404 404 404 200 200 403"),
    ("POST",   "/incidents/{id}/chat", "export=x", "login 403 400 400 400 400 403", "login 404 404 404 400 400 403"),
    ("GET",    "/incidents/{id}/chat/{upload}", "", "login 403 404 404 404 404 403", "login 404 404 404 404 404 403"),
    ("POST",   "/incidents/{id}/chat/{upload}", "message=x", "login 403 404 404 404 404 403", "login 404 404 404 404 404 403"),
    ("POST",   "/incidents/{id}/members", "handle=nora", "login 403 403 403 303 303 403", "login 404 404 404 303 303 403"),
    ("POST",   "/incidents/{id}/members/{handle}/remove", "", "login 403 403 403 303 303 403", "login 404 404 404 303 303 403"),
    // Published external versions are for anyone; nothing is published in the matrix.
    ("GET",    "/public/incidents/{slug}", "", "404 404 404 404 404 404 404", "same"),
    ("GET",    "/follow-through", "", "login 200 200 200 200 200 200", "same"),
    ("GET",    "/figures", "", "308 308 308 308 308 308 308", "same"),
    ("GET",    "/insights", "", "login 200 200 200 200 200 200", "same"),
    ("GET",    "/search", "", "login 200 200 200 200 200 200", "same"),

    // Pages: teams and administration.
    ("GET",    "/teams", "", "login 200 200 200 200 200 200", "same"),
    ("POST",   "/teams", "name=growth&display_name=Growth", "login 403 403 403 303 403 403", "same"),
    ("GET",    "/teams/{team}", "", "login 200 200 200 200 200 200", "same"),
    ("POST",   "/teams/{team}/members", "handle=nora", "login 403 403 403 303 403 403", "same"),
    ("POST",   "/teams/{team}/members/{handle}/remove", "", "login 403 403 403 303 403 403", "same"),
    ("GET",    "/admin/audit", "", "login 403 403 403 200 403 403", "same"),
    ("GET",    "/admin/webhooks", "", "login 403 403 403 200 403 403", "same"),
    ("POST",   "/admin/webhooks", "url=https%3A%2F%2Fhooks.example.com%2Fb&secret=0123456789abcdef&events=digest", "login 403 403 403 303 403 403", "same"),
    ("GET",    "/admin/integrations", "", "login 403 403 403 200 403 403", "same"),
    ("POST",   "/admin/integrations", "kind=opsgenie&name=opsgenie&services=checkout", "login 403 403 403 200 403 403", "same"),
    ("POST",   "/admin/integrations/{id}/delete", "", "login 403 403 403 303 403 403", "same"),
    ("POST",   "/admin/integrations/deliveries/{id}/replay", "", "login 403 403 403 200 403 403", "same"),

    // API: people and incidents.
    ("GET",    "/api/v1/me", "", "401 200 200 200 200 200 200", "same"),
    ("GET",    "/api/v1/openapi.json", "", "200 200 200 200 200 200 200", "same"),
    ("GET",    "/api/v1/incidents", "", "401 200 200 200 200 200 200", "same"),
    ("POST",   "/api/v1/incidents", r#"{"title": "Queue stalled", "kind": "outage", "severity": "SEV3"}"#, "401 403 201 201 201 201 403", "same"),
    ("GET",    "/api/v1/incidents/{id}", "", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    ("PATCH",  "/api/v1/incidents/{id}", r#"{"title": "Checkout returned 503s"}"#, "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("GET",    "/api/v1/incidents/{id}/markdown", "", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    // The external version: no cell has a draft or a publication, so reading, editing and
    // taking down find none, and publishing lacks a draft (422) once the role may publish.
    ("GET",    "/api/v1/incidents/{id}/external", "", "401 404 404 404 404 404 404", "401 404 404 404 404 404 404"),
    ("POST",   "/api/v1/incidents/{id}/external", r#"{"sections": ["summary"]}"#, "401 403 201 201 201 201 403", "401 404 404 404 201 201 403"),
    ("PATCH",  "/api/v1/incidents/{id}/external", r#"{"version": 1}"#, "401 403 404 404 404 404 403", "401 404 404 404 404 404 403"),
    ("POST",   "/api/v1/incidents/{id}/external/publish", r#"{"accept_redactions": true}"#, "401 403 403 422 422 403 403", "401 404 404 404 422 403 403"),
    ("POST",   "/api/v1/incidents/{id}/external/unpublish", "", "401 403 403 404 404 403 403", "401 404 404 404 404 403 403"),
    ("GET",    "/api/v1/incidents/{id}/changes", "", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    ("POST",   "/api/v1/incidents/{id}/changes/{deploy_id}/timeline", "", "401 403 201 201 201 201 403", "401 404 404 404 201 201 403"),
    ("POST",   "/api/v1/incidents/{id}/chat/preview", "time,author,text\n2026-03-01T13:05:00Z,ana,Rolled back the deploy\n", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    ("POST",   "/api/v1/incidents/{id}/chat/import", "time,author,text\n2026-03-01T13:05:00Z,ana,Rolled back the deploy\n", "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("GET",    "/api/v1/incidents/{id}/history", "", "401 403 403 403 200 200 200", "401 404 404 404 200 200 200"),
    ("GET",    "/api/v1/incidents/{id}/events", "", "401 200 200 200 200 200 200", "401 404 404 404 200 200 200"),
    ("PATCH",  "/api/v1/incidents/{id}/postmortem", r#"{"sections": {"summary": "The queue stalled."}}"#, "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("POST",   "/api/v1/incidents/{id}/postmortem/transitions", r#"{"to": "in_review", "reviewers": ["rev"]}"#, "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("POST",   "/api/v1/incidents/{id}/timeline", r#"{"at": "2026-03-01T14:05:00+01:00", "text": "Alert fired"}"#, "401 403 201 201 201 201 403", "401 404 404 404 201 201 403"),
    ("POST",   "/api/v1/incidents/{id}/factors", r#"{"category": "capacity", "description": "The pool was small."}"#, "401 403 201 201 201 201 403", "401 404 404 404 201 201 403"),
    ("POST",   "/api/v1/incidents/{id}/actions", r#"{"title": "Size the pool", "kind": "prevent"}"#, "401 403 201 201 201 201 403", "401 404 404 404 201 201 403"),
    ("PATCH",  "/api/v1/actions/{id}", r#"{"status": "in_progress"}"#, "401 403 403 403 200 403 403", "401 404 404 404 200 403 403"),
    ("DELETE", "/api/v1/actions/{id}", "", "401 403 403 403 204 403 403", "401 404 404 404 204 403 403"),
    ("PATCH",  "/api/v1/incidents/{id}/timeline/{entry_id}", r#"{"text": "Alert fired for checkout"}"#, "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("DELETE", "/api/v1/incidents/{id}/timeline/{entry_id}", "", "401 403 204 204 204 204 403", "401 404 404 404 204 204 403"),
    ("PATCH",  "/api/v1/incidents/{id}/factors/{factor_id}", r#"{"description": "The pool was too small."}"#, "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("DELETE", "/api/v1/incidents/{id}/factors/{factor_id}", "", "401 403 204 204 204 204 403", "401 404 404 404 204 204 403"),
    ("POST",   "/api/v1/incidents/{id}/comments", r#"{"section": "summary", "body": "Which pool?"}"#, "401 403 403 201 201 403 403", "401 404 404 404 201 403 403"),
    ("POST",   "/api/v1/incidents/{id}/comments/{comment_id}/resolve", "", "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("POST",   "/api/v1/incidents/{id}/comments/{comment_id}/reopen", "", "401 403 200 200 200 200 403", "401 404 404 404 200 200 403"),
    ("PUT",    "/api/v1/incidents/{id}/members/{handle}", "", "401 403 403 403 200 200 403", "401 404 404 404 200 200 403"),
    ("DELETE", "/api/v1/incidents/{id}/members/{handle}", "", "401 403 403 403 200 200 403", "401 404 404 404 200 200 403"),

    // API: follow-through, search and the checker.
    ("GET",    "/api/v1/actions", "", "401 200 200 200 200 200 200", "same"),
    ("GET",    "/api/v1/postmortems/owed", "", "401 200 200 200 200 200 200", "same"),
    ("GET",    "/api/v1/figures", "", "401 200 200 200 200 200 200", "same"),
    ("GET",    "/api/v1/insights", "", "401 200 200 200 200 200 200", "same"),
    // Without `chart=` the download names the charts to choose from.
    ("GET",    "/api/v1/insights.csv", "", "401 422 422 422 422 422 422", "same"),
    ("GET",    "/api/v1/search", "", "401 503 503 503 503 503 503", "same"),
    ("GET",    "/api/v1/search/suggest", "", "401 503 503 503 503 503 503", "same"),
    ("POST",   "/api/v1/lint", r#"{"text": "The deploy went out at noon."}"#, "401 200 200 200 200 200 200", "same"),
    ("POST",   "/api/v1/import", "# Queue stalled for {column}\n\n## Summary\n\nThe queue stalled.\n", "401 403 201 201 201 201 403", "same"),

    // API: teams, people and webhooks.
    ("GET",    "/api/v1/teams", "", "401 200 200 200 200 200 200", "same"),
    ("POST",   "/api/v1/teams", r#"{"name": "platform", "display_name": "Platform"}"#, "401 403 403 403 201 403 403", "same"),
    ("GET",    "/api/v1/teams/{team}", "", "401 200 200 200 200 200 200", "same"),
    ("PUT",    "/api/v1/teams/{team}/members/{handle}", "", "401 403 403 403 204 403 403", "same"),
    ("DELETE", "/api/v1/teams/{team}/members/{handle}", "", "401 403 403 403 204 403 403", "same"),
    ("GET",    "/api/v1/users", "", "401 403 403 403 200 403 403", "same"),
    ("PATCH",  "/api/v1/users/{handle}", r#"{"role": "viewer"}"#, "401 403 403 403 200 403 403", "same"),
    ("GET",    "/api/v1/audit", "", "401 403 403 403 200 403 403", "same"),
    ("GET",    "/api/v1/tokens", "", "401 200 200 200 200 200 200", "same"),
    ("POST",   "/api/v1/tokens", r#"{"label": "laptop", "expires_in_days": 30}"#, "401 201 201 201 201 201 201", "same"),
    ("DELETE", "/api/v1/tokens/{id}", "", "401 404 404 404 200 404 404", "same"),
    ("GET",    "/api/v1/webhooks", "", "401 403 403 403 200 403 403", "same"),
    ("POST",   "/api/v1/webhooks", r#"{"url": "https://hooks.example.com/a", "secret": "0123456789abcdef", "events": ["*"]}"#, "401 403 403 403 201 403 403", "same"),
    ("PATCH",  "/api/v1/webhooks/{id}", r#"{"active": false}"#, "401 403 403 403 200 403 403", "same"),
    ("GET",    "/api/v1/webhooks/deliveries", "", "401 403 403 403 200 403 403", "same"),
    ("GET",    "/api/v1/integrations", "", "401 403 403 403 200 403 403", "same"),
    ("POST",   "/api/v1/integrations", r#"{"kind": "grafana", "name": "grafana"}"#, "401 403 403 403 201 403 403", "same"),
    ("GET",    "/api/v1/integrations/deliveries", "", "401 403 403 403 200 403 403", "same"),
    ("POST",   "/api/v1/integrations/deliveries/{id}/replay", "", "401 403 403 403 200 403 403", "same"),
    ("DELETE", "/api/v1/integrations/{id}", "", "401 403 403 403 204 403 403", "same"),

    // Webhook receivers: tools, not people; without the integration's secret, nobody.
    ("POST",   "/hooks/{kind}/{id}", "", "401 401 401 401 401 401 401", "same"),
];

/// The columns' handles; `None` is the anonymous caller.
const COLUMNS: [Option<&str>; 7] = [
    None,
    Some("vic"),
    Some("con"),
    Some("rev"),
    Some("ada"),
    Some("mem"),
    Some("nam"),
];

/// Every `(METHOD, path)` the router is built from, read from the server's source files.
/// Routes in `src/api.rs` and `src/api/` are nested under `/api/v1` (checked in `lib.rs`).
fn routes_in_source() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(
        lib.contains(r#".nest("/api/v1", api::routes())"#),
        "the API is no longer nested under /api/v1; teach this test where it is"
    );
    let mut files = vec![src.clone()];
    let mut routes = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(&src).unwrap();
        let prefix = if relative.starts_with("api") || relative == Path::new("api.rs") {
            "/api/v1"
        } else {
            ""
        };
        let text = std::fs::read_to_string(&path).unwrap();
        for (start, _) in text.match_indices(".route(") {
            let call = balanced_call(&text[start + ".route".len()..]);
            let path = call.split('"').nth(1).unwrap_or_else(|| {
                panic!(
                    "a route without a literal path in {}: {call}",
                    path.display()
                )
            });
            let methods: Vec<&str> = ["get", "post", "put", "patch", "delete"]
                .into_iter()
                .filter(|m| {
                    call.match_indices(&format!("{m}(")).any(|(i, _)| {
                        i == 0
                            || !call.as_bytes()[i - 1].is_ascii_alphanumeric()
                                && call.as_bytes()[i - 1] != b'_'
                    })
                })
                .collect();
            assert!(!methods.is_empty(), "a route without a method: {call}");
            for method in methods {
                routes.insert((method.to_uppercase(), format!("{prefix}{path}")));
            }
        }
    }
    routes
}

/// The text of a parenthesised call, from its `(` to the matching `)`.
fn balanced_call(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[..=i];
                }
            }
            _ => {}
        }
    }
    panic!("an unbalanced route call: {text}")
}

#[test]
fn every_route_has_a_row_in_the_matrix() {
    let served = routes_in_source();
    let mut rows = BTreeSet::new();
    for (method, path, ..) in MATRIX {
        assert!(
            rows.insert(((*method).to_owned(), (*path).to_owned())),
            "two rows for {method} {path}"
        );
    }
    let without_row: Vec<_> = served.difference(&rows).collect();
    let without_route: Vec<_> = rows.difference(&served).collect();
    assert!(
        without_row.is_empty() && without_route.is_empty(),
        "routes without a row in the matrix: {without_row:?}; rows without a route: {without_route:?}"
    );
    assert!(
        served.len() > 50,
        "the source scan found only {} routes",
        served.len()
    );
}

#[test]
fn the_readmes_roles_matrix_is_the_one_the_server_enforces() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../README.md"))
            .unwrap();
    for permission in Permission::ALL {
        let marker = format!("| `{permission}`: ");
        let row = readme
            .lines()
            .find(|line| line.starts_with(&marker))
            .unwrap_or_else(|| panic!("README.md has no row for `{permission}`"));
        let cells: Vec<&str> = row
            .trim_matches('|')
            .split('|')
            .skip(1)
            .map(str::trim)
            .collect();
        let allowed: Vec<bool> = Role::ALL.iter().map(|role| role.may(*permission)).collect();
        let written: Vec<bool> = cells.iter().map(|cell| *cell == "yes").collect();
        assert_eq!(
            written, allowed,
            "README.md's row for `{permission}`: {row}"
        );
    }
}

/// What one cell got.
fn outcome(status: StatusCode, location: Option<&str>) -> String {
    if status == StatusCode::SEE_OTHER && location.is_some_and(|l| l.starts_with("/login")) {
        "login".to_owned()
    } else {
        status.as_u16().to_string()
    }
}

/// The stored things a cell's request is about.
struct Fixture {
    incident: i64,
    action: i64,
    comment: i64,
    entry: i64,
    factor: i64,
    version: i64,
}

struct World {
    app: TestApp,
    /// API tokens by column handle.
    tokens: Vec<(String, String)>,
    recorder: UserId,
    /// The person every cell's incident names.
    named: UserId,
    webhook: i64,
    /// A deploy integration, a body it received with a deploy to `checkout`, and a second
    /// integration for the admin page to delete.
    integration: i64,
    delivery: i64,
    deploy: i64,
    other_integration: i64,
    sessions: std::cell::Cell<u64>,
}

impl World {
    async fn new() -> Self {
        let app = TestApp::new().await;
        let store = app.db.store.clone();
        let mut tokens = Vec::new();
        for (handle, role) in [
            ("vic", "viewer"),
            ("con", "contributor"),
            ("rev", "reviewer"),
            ("ada", "admin"),
            ("mem", "contributor"),
            ("nam", "viewer"),
        ] {
            tokens.push((handle.to_owned(), app.person(handle, role).await));
        }
        app.person("rcd", "contributor").await;
        app.person("nora", "viewer").await;
        let user = |handle: &'static str| {
            let store = store.clone();
            async move {
                store
                    .user_by_handle(&postmortem_core::Handle::parse(handle).unwrap())
                    .await
                    .unwrap()
                    .unwrap()
                    .id
            }
        };
        let payments = TeamName::parse("payments").unwrap();
        store
            .create_team(
                Actor::DEMO,
                NewTeam {
                    name: payments.clone(),
                    display_name: DisplayName::parse("Payments").unwrap(),
                },
            )
            .await
            .unwrap();
        store
            .add_team_member(Actor::DEMO, &payments, user("mem").await)
            .await
            .unwrap();
        let webhook = store
            .create_webhook(
                Actor::DEMO,
                "https://hooks.example.com/w",
                "0123456789abcdef",
                &["*".to_owned()],
            )
            .await
            .unwrap();
        let integration = store
            .create_integration(
                Actor::DEMO,
                postmortem_store::NewIntegration {
                    kind: "deploy".into(),
                    name: Name::parse("ci").unwrap(),
                    display_name: DisplayName::parse("ci (Deploy hook)").unwrap(),
                    services: vec![],
                    credential: secret_hash("a-secret-nobody-sends"),
                    signing_secret: None,
                },
            )
            .await
            .unwrap();
        let deploy = postmortem_store::NewDeploy {
            key: "checkout@1.2.3".into(),
            service: Name::parse("checkout").unwrap(),
            version: "1.2.3".into(),
            at: postmortem_core::parse_instant("at", "2026-03-01T13:00:00Z").unwrap(),
            by: None,
            link: None,
        };
        let delivery = postmortem_store::NewHookDelivery {
            integration_id: integration.id,
            body: r#"{"service": "checkout", "version": "1.2.3", "at": "2026-03-01T13:00:00Z"}"#
                .into(),
            outcome: postmortem_store::HookOutcome::Applied,
            detail: String::new(),
            replay_of: None,
            replayed_by: None,
        };
        let delivery = store
            .record_deploys(delivery, vec![deploy])
            .await
            .unwrap()
            .0
            .id;
        let deploy = store
            .deploys_between(
                &[Name::parse("checkout").unwrap()],
                time::OffsetDateTime::UNIX_EPOCH,
                time::OffsetDateTime::now_utc() + time::Duration::days(3650),
            )
            .await
            .unwrap()[0]
            .id;
        let other_integration = store
            .create_integration(
                Actor::DEMO,
                postmortem_store::NewIntegration {
                    kind: "grafana".into(),
                    name: Name::parse("old-grafana").unwrap(),
                    display_name: DisplayName::parse("old-grafana (Grafana)").unwrap(),
                    services: vec![],
                    credential: secret_hash("another-secret-nobody-sends"),
                    signing_secret: None,
                },
            )
            .await
            .unwrap()
            .id;
        let recorder = user("rcd").await;
        let named = user("nam").await;
        Self {
            app,
            tokens,
            recorder,
            named,
            webhook,
            integration: integration.id,
            delivery,
            deploy,
            other_integration,
            sessions: std::cell::Cell::new(0),
        }
    }

    /// A fresh incident recorded by `rcd` for one cell, naming `nam`, with a factor, an
    /// action item and a review comment.
    async fn incident(&self, restricted: bool) -> Fixture {
        let store = &self.app.db.store;
        let actor = Actor::user(self.recorder);
        let new = NewIncident {
            title: Title::parse("Checkout returned 502s").unwrap(),
            kind: IncidentKind::Outage,
            severity: Severity::parse("SEV2").unwrap(),
            started_at: None,
            services: vec![Name::parse("checkout").unwrap()],
            teams: vec![Name::parse("payments").unwrap()],
            impact: Impact::default(),
            restricted,
            template: TemplateName::full(),
        };
        let start = PostmortemStart {
            status: PostmortemStatus::Draft,
            due_on: None,
        };
        let id = store.create_incident(actor, new, start).await.unwrap();
        let factor = NewFactor {
            category: postmortem_core::FactorCategory::Capacity,
            description: Markdown::parse("The pool was small.").unwrap(),
            is_trigger: true,
        };
        let factor = store.add_factor(actor, id, factor).await.unwrap();
        let entry = postmortem_core::NewTimelineEntry {
            at: postmortem_core::parse_instant("at", "2026-03-01T14:05:00+01:00").unwrap(),
            text: Markdown::parse("Alert fired").unwrap(),
            actor: None,
            marker: None,
            perspective: postmortem_core::Perspective::Happened,
            source: postmortem_core::Source::Manual,
            source_url: None,
        };
        let entry = store.add_timeline_entry(actor, id, entry).await.unwrap();
        let action = NewActionItem {
            title: Title::parse("Size the pool").unwrap(),
            owner: None,
            team: None,
            due_on: None,
            priority: postmortem_core::Priority::P2,
            kind: postmortem_core::ActionKind::Prevent,
            status: postmortem_core::ActionStatus::Open,
            wont_do_reason: None,
            external_url: None,
            factor_ids: vec![],
            verification: None,
        };
        let action = store.add_action(actor, id, action).await.unwrap();
        let summary = SectionName::parse("summary").unwrap();
        let comment = store
            .add_comment(
                actor,
                id,
                summary,
                Markdown::parse("Which pool?").unwrap(),
                None,
            )
            .await
            .unwrap();
        store
            .add_incident_member(actor, id, self.named)
            .await
            .unwrap();
        let version = store
            .incident(id, Visibility::Everything)
            .await
            .unwrap()
            .unwrap()
            .incident
            .version;
        Fixture {
            incident: id.get(),
            action: action.id.get(),
            comment: comment.id.get(),
            entry: entry.id.get(),
            factor: factor.id.get(),
            version,
        }
    }

    /// A fresh API token of `nora`, who is in none of the columns, for the routes that
    /// revoke a token: only its owner (never a column) and admins may.
    async fn token_of_nora(&self) -> i64 {
        let store = &self.app.db.store;
        let nora = store
            .user_by_handle(&postmortem_core::Handle::parse("nora").unwrap())
            .await
            .unwrap()
            .unwrap();
        let n = self.sessions.get() + 1;
        self.sessions.set(n);
        store
            .create_api_token(
                Actor::DEMO,
                postmortem_store::NewApiToken {
                    user_id: nora.id,
                    token_hash: secret_hash(&format!("matrix-token-{n}")),
                    label: format!("matrix {n}"),
                    expires_at: None,
                },
            )
            .await
            .unwrap()
    }

    /// A new browser session for a column's person: the cookie and its CSRF token.
    async fn session(&self, handle: &str) -> (String, String) {
        let n = self.sessions.get() + 1;
        self.sessions.set(n);
        let secret = format!("matrix-session-{n}");
        let store = &self.app.db.store;
        let user = store
            .user_by_handle(&postmortem_core::Handle::parse(handle).unwrap())
            .await
            .unwrap()
            .unwrap();
        store
            .create_session(NewSession {
                user_id: user.id,
                session_hash: secret_hash(&secret),
                expires_at: time::OffsetDateTime::now_utc() + time::Duration::hours(1),
            })
            .await
            .unwrap();
        // The token every form of this session carries (see `pages::forms::csrf_token`).
        let csrf = secret_hash(&format!("csrf:{secret}"));
        (format!("pm_session={secret}"), csrf)
    }

    /// Sends one cell's request and answers what came back. The body is not read: event
    /// streams never end.
    async fn ask(
        &self,
        column: Option<&str>,
        method: &str,
        path: &str,
        body: &str,
        fixture: Option<&Fixture>,
    ) -> String {
        let mut path = path
            .replace("{team}", "payments")
            .replace("{handle}", "nora")
            .replace("{part}", "facts")
            .replace("{slug}", "nothing-published-1")
            .replace("{upload}", "0123456789abcdef0123456789abcdef");
        // A body naming its column is one no other cell sent (an import made twice is found).
        let mut body = body.replace("{column}", column.unwrap_or("anonymous"));
        let mut request = Request::builder().method(method);
        if let Some(fixture) = fixture {
            let id = if path.starts_with("/api/v1/actions/") {
                fixture.action
            } else {
                fixture.incident
            };
            path = path
                .replace("{id}", &id.to_string())
                .replace("{action_id}", &fixture.action.to_string())
                .replace("{comment_id}", &fixture.comment.to_string())
                .replace("{entry_id}", &fixture.entry.to_string())
                .replace("{factor_id}", &fixture.factor.to_string())
                .replace("{deploy_id}", &self.deploy.to_string());
            body = body.replace("{version}", &fixture.version.to_string());
            request = request.header(header::IF_MATCH, format!("\"v{}\"", fixture.version));
        } else if path.starts_with("/api/v1/tokens/") || path.starts_with("/account/tokens/") {
            path = path.replace("{id}", &self.token_of_nora().await.to_string());
        } else if path.starts_with("/admin/integrations/deliveries/") {
            path = path.replace("{id}", &self.delivery.to_string());
        } else if path.starts_with("/admin/integrations/") {
            path = path.replace("{id}", &self.other_integration.to_string());
        } else if path.starts_with("/api/v1/integrations/deliveries/") {
            path = path.replace("{id}", &self.delivery.to_string());
        } else if path.starts_with("/api/v1/integrations/") || path.starts_with("/hooks/") {
            path = path
                .replace("{id}", &self.integration.to_string())
                .replace("{kind}", "deploy");
        } else {
            path = path.replace("{id}", &self.webhook.to_string());
        }
        let api = path.starts_with("/api/");
        if !api {
            // As a browser on one of this site's pages sends it.
            request = request.header("sec-fetch-site", "same-origin");
        }
        if let Some(handle) = column {
            if api {
                let token = &self.tokens.iter().find(|(h, _)| h == handle).unwrap().1;
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            } else {
                let (cookie, csrf) = self.session(handle).await;
                request = request.header(header::COOKIE, cookie);
                if method == "POST" && path != "/login" {
                    body = if body.is_empty() {
                        format!("csrf={csrf}")
                    } else {
                        format!("{body}&csrf={csrf}")
                    };
                }
            }
        }
        if body.starts_with('#') {
            request = request.header(header::CONTENT_TYPE, "text/markdown");
        } else if body.starts_with('{') {
            request = request.header(header::CONTENT_TYPE, "application/json");
        } else if !body.is_empty() || method == "POST" {
            request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let request = request.uri(&path).body(Body::from(body)).unwrap();
        let response = self.app.router.clone().oneshot(request).await.unwrap();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok());
        outcome(response.status(), location)
    }
}

#[tokio::test]
async fn every_route_answers_every_person_as_the_matrix_says() {
    let world = World::new().await;
    let mut wrong = Vec::new();
    let mut cells = 0;
    for (method, path, body, open, restricted) in MATRIX {
        let about_incident = path.contains("{id}")
            && !path.starts_with("/api/v1/webhooks/")
            && !path.starts_with("/api/v1/tokens/")
            && !path.starts_with("/api/v1/integrations/")
            && !path.starts_with("/hooks/")
            && !path.starts_with("/admin/integrations/")
            && !path.starts_with("/account/tokens/");
        let mut kinds = vec![("open", *open, false)];
        if *restricted != "same" {
            assert!(
                about_incident,
                "{method} {path}: `same` for routes without an incident"
            );
            kinds.push(("restricted", *restricted, true));
        }
        for (kind, expected, is_restricted) in kinds {
            let expected: Vec<&str> = expected.split_whitespace().collect();
            assert_eq!(expected.len(), COLUMNS.len(), "{method} {path} {kind}");
            for (column, want) in COLUMNS.iter().zip(expected) {
                let fixture = if about_incident {
                    Some(world.incident(is_restricted).await)
                } else {
                    None
                };
                let got = world
                    .ask(*column, method, path, body, fixture.as_ref())
                    .await;
                cells += 1;
                if got != want {
                    wrong.push(format!(
                        "{method} {path} ({kind}) as {}: expected {want}, got {got}",
                        column.unwrap_or("anonymous")
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
