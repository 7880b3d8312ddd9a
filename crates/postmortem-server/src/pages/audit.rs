//! `/admin/audit` (the whole audit log, for admins) and `/incidents/{id}/history` (one
//! incident's history, for its members): who changed what and when, with what it was before
//! and after, section text as a word diff. Filters are a plain GET form and pages are links,
//! so there is nothing to protect with a CSRF token and no script.

use super::incident::not_found;
use super::layout;
use super::list::Echo;
use crate::api::audit::invalid_query;
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_app::audit::{AuditParams, HistoryParams};
use postmortem_core::{IncidentId, SystemActor, User, UserId};
use postmortem_store::{AuditEvent, AuditPage};
use serde_json::Value;
use similar::{ChangeTag, TextDiff};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// The kinds of change to filter by, with what the filter calls them.
const KINDS: &[(&str, &str)] = &[
    ("incident", "Incidents recorded or imported"),
    ("section", "Sections"),
    ("postmortem", "Post-mortem status"),
    ("timeline", "Timeline"),
    ("factor", "Contributing factors"),
    ("action", "Action items"),
    ("review", "Reviews"),
    ("comment", "Comments"),
    ("policy", "Policy decisions"),
    ("user", "Accounts"),
    ("token", "API tokens"),
    ("session", "Sign-ins"),
    ("webhook", "Webhooks"),
    ("reminder", "Reminders"),
];

/// Fields of `details` that hold a person's id, shown as the person's name.
const PERSON_FIELDS: &[&str] = &["owner", "reviewer", "user_id", "author", "created_by"];

/// Text longer than this, or on more than one line, is shown as a word diff.
const LONG_TEXT: usize = 80;

pub(crate) async fn admin_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let title = "Audit log";
    if !user.role.is_admin() {
        let body = html! { h1 { (title) } p.error role="alert" { "The audit log is for admins. An incident's members can read its history from the incident's page." } };
        return Ok((StatusCode::FORBIDDEN, layout(title, Some(&user), body)).into_response());
    }
    let people = state.app.acting_for(&user).people().await?;
    let (echo, page) = match params {
        Ok(Query(params)) => {
            let echo = echo(&params);
            (
                echo,
                state
                    .app
                    .acting_for(&user)
                    .audit_log(params)
                    .await
                    .map_err(ApiError::from),
            )
        }
        Err(rejection) => (Echo::default(), Err(invalid_query(rejection))),
    };
    let (status, page, error) = shown(page)?;
    let body = html! {
        h1 { (title) }
        p { "Every change, newest first: who made it, when, and what it was before and after. Passwords, tokens, sessions and webhook secrets are never recorded." }
        (filters("/admin/audit", &echo, &people, true))
        @if let Some(error) = &error { p.error role="alert" { (error.message) } }
        (entries(&page, &people, true))
        (pager("/admin/audit", &echo, &page))
    };
    Ok((status, layout(title, Some(&user), body)).into_response())
}

pub(crate) async fn history_page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (echo, result) = match params {
        Ok(Query(params)) => {
            let echo = echo(&AuditParams {
                actor: params.actor.clone(),
                action: params.action.clone(),
                after: params.after.clone(),
                before: params.before.clone(),
                ..AuditParams::default()
            });
            let viewer = crate::api::viewer(&state, &user).await?;
            let result = state
                .app
                .acting_for(&user)
                .incident_history(IncidentId::new(id), &viewer, params)
                .await
                .map_err(ApiError::from);
            (echo, result)
        }
        Err(rejection) => (Echo::default(), Err(invalid_query(rejection))),
    };
    let incident_title = match &result {
        Ok((record, _)) => record.incident.title.as_str().to_owned(),
        Err(error) if error.status == StatusCode::NOT_FOUND => return Ok(not_found(&user, id)),
        Err(error) if error.status == StatusCode::FORBIDDEN => {
            let body = html! {
                h1 { "History of incident " (id) }
                p.error role="alert" { (error.message) }
                p { a href={ "/incidents/" (id) } { "Back to the incident" } }
            };
            return Ok(
                (StatusCode::FORBIDDEN, layout("History", Some(&user), body)).into_response(),
            );
        }
        Err(_) => format!("Incident {id}"),
    };
    let people = state.app.acting_for(&user).people().await?;
    let (status, page, error) = shown(result.map(|(_, page)| page))?;
    let base = format!("/incidents/{id}/history");
    let title = format!("History: {incident_title}");
    let body = html! {
        h1 { "History of " a href={ "/incidents/" (id) } { (incident_title) } }
        p { "Every change to this incident, newest first: who made it, when, and what it was before and after." }
        (filters(&base, &echo, &people, false))
        @if let Some(error) = &error { p.error role="alert" { (error.message) } }
        (entries(&page, &people, false))
        (pager(&base, &echo, &page))
    };
    Ok((status, layout(&title, Some(&user), body)).into_response())
}

/// Refused filters are shown above an empty list with their status; anything else is an
/// error page.
fn shown(
    page: Result<AuditPage, ApiError>,
) -> Result<(StatusCode, AuditPage, Option<ApiError>), ApiError> {
    match page {
        Ok(page) => Ok((StatusCode::OK, page, None)),
        Err(error)
            if matches!(
                error.status,
                StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
            ) =>
        {
            let empty = AuditPage {
                items: Vec::new(),
                next_cursor: None,
            };
            Ok((error.status, empty, Some(error)))
        }
        Err(error) => Err(error),
    }
}

/// The filters as given, to fill the form and carry into the pager's links.
fn echo(params: &AuditParams) -> Echo {
    let fields = [
        ("actor", &params.actor),
        ("incident", &params.incident),
        ("action", &params.action),
        ("after", &params.after),
        ("before", &params.before),
    ];
    Echo::of_fields(&fields, None)
}

fn filters(
    base: &str,
    echo: &Echo,
    people: &BTreeMap<UserId, User>,
    with_incident: bool,
) -> Markup {
    let actor = echo.get("actor");
    let action = echo.get("action");
    let known_kind = KINDS.iter().any(|(kind, _)| *kind == action);
    html! {
        form.filters method="get" action=(base) role="search" aria-label="Filter the changes" {
            p {
                label for="actor" { "Who" }
                select #actor name="actor" {
                    option value="" { "Anyone" }
                    @for person in people.values() {
                        option value=(person.handle) selected[person.handle.as_str() == actor] { (person.display_name) " (" (person.handle) ")" }
                    }
                    @for system in SystemActor::ALL {
                        option value=(system.name()) selected[system.name() == actor] { (capitalised(system.words())) }
                    }
                }
            }
            @if with_incident {
                p { label for="incident" { "Incident number" } input #incident name="incident" type="number" min="1" size="6" value=(echo.get("incident")); }
            }
            p {
                label for="action" { "What" }
                select #action name="action" {
                    option value="" { "Any change" }
                    @if !action.is_empty() && !known_kind { option value=(action) selected { (action) } }
                    @for (kind, label) in KINDS { option value=(kind) selected[*kind == action] { (label) } }
                }
            }
            p { label for="after" { "From" } input #after name="after" type="date" value=(echo.get("after")); }
            p { label for="before" { "Before" } input #before name="before" type="date" value=(echo.get("before")); }
            p { button type="submit" { "Apply filters" } }
        }
    }
}

fn pager(base: &str, echo: &Echo, page: &AuditPage) -> Markup {
    html! {
        nav.pager aria-label="Pages of changes" {
            a href=(echo.link_at(base, None)) { "Newest changes" }
            @if let Some(cursor) = &page.next_cursor { a href=(echo.link_at(base, Some(cursor))) rel="next" { "Older changes" } }
        }
    }
}

fn entries(page: &AuditPage, people: &BTreeMap<UserId, User>, with_incident: bool) -> Markup {
    html! {
        @if page.items.is_empty() { p { "No changes match." } }
        ol.audit {
            @for event in &page.items { li.audit-entry { (entry(event, people, with_incident)) } }
        }
    }
}

fn entry(event: &AuditEvent, people: &BTreeMap<UserId, User>, with_incident: bool) -> Markup {
    html! {
        p.byline {
            strong { (who(event, people)) } " " (describe(&event.action))
            @if with_incident { @if let Some(id) = event.incident_id { " in " a href={ "/incidents/" (id) } { "incident " (id) } } }
            " · " time datetime=(postmortem_core::format_instant(event.at)) { (when(event.at)) }
            " " code.muted { (event.action) }
        }
        (context(&event.details, people))
        (changes(&event.details, people))
    }
}

fn person(id: Option<UserId>, people: &BTreeMap<UserId, User>) -> String {
    match id {
        None => "The system".to_owned(),
        Some(id) => people
            .get(&id)
            .map_or_else(|| format!("Person {id}"), |p| p.display_name.to_string()),
    }
}

/// Who acted, in words: the person's name, or what part of the system it was.
fn who(event: &AuditEvent, people: &BTreeMap<UserId, User>) -> String {
    match (&event.actor, event.system_actor.as_deref()) {
        (None, Some(name)) => SystemActor::from_name(name).map_or_else(
            || format!("The system ({name})"),
            |system| capitalised(system.words()),
        ),
        (actor, _) => person(*actor, people),
    }
}

/// Words that begin a sentence; system actors' words are ASCII.
fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

fn when(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second] UTC"
        ))
        .unwrap_or_else(|_| postmortem_core::format_instant(at))
}

/// What an action did, as a phrase after the person's name.
fn describe(action: &str) -> &str {
    match action {
        "incident.create" => "recorded the incident",
        "incident.import" => "imported the incident",
        "incident.import.update" => "updated the incident from an imported file",
        "section.save" => "saved sections",
        "postmortem.transition" => "moved the post-mortem",
        "timeline.add" => "added a timeline entry",
        "factor.add" => "added a contributing factor",
        "action.add" => "added an action item",
        "action.update" => "updated an action item",
        "review.set" => "set a review",
        "comment.add" => "commented",
        "comment.resolve" => "resolved a comment",
        "policy.decide" => "recorded the policy's decision",
        "user.create" => "created an account",
        "user.password" => "changed a password",
        "token.create" => "created an API token",
        "session.create" => "signed in",
        "session.delete" => "signed out",
        "webhook.create" => "added a webhook",
        "webhook.update" => "switched a webhook",
        "webhook.enqueue" => "queued webhook deliveries",
        "webhook.deliver" => "delivered a webhook",
        "webhook.fail" => "failed to deliver a webhook",
        "reminder.claim" => "claimed a reminder",
        "reminder.release" => "released a reminder",
        other => other,
    }
}

/// What the event says beside its before and after: which thing, and any note.
fn context(details: &Value, people: &BTreeMap<UserId, User>) -> Markup {
    let Some(object) = details.as_object() else {
        return html! {};
    };
    let extra: Vec<(&String, &Value)> = object
        .iter()
        .filter(|(key, value)| !matches!(key.as_str(), "before" | "after") && !value.is_null())
        .collect();
    html! {
        @if !extra.is_empty() {
            dl.facts {
                @for (key, value) in extra { dt { (label(key)) } dd { (shown_value(key, value, people)) } }
            }
        }
    }
}

/// What changed. An update lists only the fields whose value changed, before and after,
/// long text as a word diff; a creation (or a removal) lists what there was after (before).
fn changes(details: &Value, people: &BTreeMap<UserId, User>) -> Markup {
    let before = fields(details.get("before").unwrap_or(&Value::Null));
    let after = fields(details.get("after").unwrap_or(&Value::Null));
    match (before.is_empty(), after.is_empty()) {
        (true, true) => html! {},
        (true, false) => one_side("After", &after, people),
        (false, true) => one_side("Before", &before, people),
        (false, false) => {
            let value_in = |side: &[(String, Value)], key: &str| {
                side.iter()
                    .find(|(k, _)| k == key)
                    .map_or(Value::Null, |(_, v)| v.clone())
            };
            let mut keys: Vec<&String> = after.iter().map(|(k, _)| k).collect();
            keys.extend(
                before
                    .iter()
                    .map(|(k, _)| k)
                    .filter(|k| !after.iter().any(|(a, _)| a == *k)),
            );
            let rows: Vec<(&String, Value, Value)> = keys
                .into_iter()
                .map(|key| (key, value_in(&before, key), value_in(&after, key)))
                .filter(|(_, old, new)| old != new)
                .collect();
            html! {
                @if !rows.is_empty() {
                    table.diff {
                        caption.visually-hidden { "What changed" }
                        thead { tr { th scope="col" { "Field" } th scope="col" { "Before" } th scope="col" { "After" } } }
                        tbody {
                            @for (key, old, new) in &rows {
                                @if let Some((old_text, new_text)) = long_texts(old, new) {
                                    tr { th scope="row" { (label(key)) } td colspan="2" { (text_diff(old_text, new_text)) } }
                                } @else {
                                    tr { th scope="row" { (label(key)) } td { (shown_value(key, old, people)) } td { (shown_value(key, new, people)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The fields of a thing as it was (or became), for a creation or a removal.
fn one_side(heading: &str, side: &[(String, Value)], people: &BTreeMap<UserId, User>) -> Markup {
    html! {
        table.diff {
            caption.visually-hidden { (heading) }
            thead { tr { th scope="col" { "Field" } th scope="col" { (heading) } } }
            tbody {
                @for (key, value) in side {
                    tr {
                        th scope="row" { (label(key)) }
                        @match value {
                            Value::String(text) if text.contains('\n') => td { div.text-diff { (text) } },
                            other => td { (shown_value(key, other, people)) },
                        }
                    }
                }
            }
        }
    }
}

/// One side of a change as (field, value) pairs in the order the event lists them, nested
/// objects flattened (`impact` → `impact customer_minutes`), so each row is one value.
/// Events from before every side was an object hold a bare value, named `value`.
fn fields(side: &Value) -> Vec<(String, Value)> {
    fn walk(name: &str, value: &Value, out: &mut Vec<(String, Value)>) {
        match value {
            Value::Object(object) => {
                for (key, inner) in object {
                    let inner_name = if name.is_empty() {
                        key.clone()
                    } else {
                        format!("{name} {key}")
                    };
                    walk(&inner_name, inner, out);
                }
            }
            other if name.is_empty() => out.push(("value".to_owned(), other.clone())),
            other => out.push((name.to_owned(), other.clone())),
        }
    }
    let mut out = Vec::new();
    if !side.is_null() {
        walk("", side, &mut out);
    }
    out
}

/// Both sides as text when either is long or spans lines (a side that did not exist is
/// empty text), so the change reads as a diff rather than two walls of text.
fn long_texts<'v>(old: &'v Value, new: &'v Value) -> Option<(&'v str, &'v str)> {
    let text = |value: &'v Value| match value {
        Value::String(s) => Some(s.as_str()),
        Value::Null => Some(""),
        _ => None,
    };
    let (old, new) = (text(old)?, text(new)?);
    let long = |s: &str| s.len() > LONG_TEXT || s.contains('\n');
    (long(old) || long(new)).then_some((old, new))
}

/// A word diff: removed words struck through, added ones underlined, each run of changes
/// announced as "removed" or "added" to screen readers.
fn text_diff(old: &str, new: &str) -> Markup {
    let diff = TextDiff::configure()
        .timeout(std::time::Duration::from_millis(200))
        .diff_words(old, new);
    // Adjacent words with the same fate read as one run.
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for change in diff.iter_all_changes() {
        match runs.last_mut() {
            Some((tag, text)) if *tag == change.tag() => text.push_str(change.value()),
            _ => runs.push((change.tag(), change.value().to_owned())),
        }
    }
    html! {
        div.text-diff {
            @for (tag, text) in &runs {
                @match tag {
                    ChangeTag::Equal => (text),
                    ChangeTag::Delete => del { span.visually-hidden { "[removed: " } (text) span.visually-hidden { "]" } },
                    ChangeTag::Insert => ins { span.visually-hidden { "[added: " } (text) span.visually-hidden { "]" } },
                }
            }
        }
    }
}

/// A field's name as people read it: `wont_do_reason` as "wont do reason".
fn label(key: &str) -> String {
    key.replace('_', " ")
}

fn shown_value(key: &str, value: &Value, people: &BTreeMap<UserId, User>) -> Markup {
    html! {
        @match value {
            Value::Null => span.muted { "none" },
            Value::Bool(true) => "yes",
            Value::Bool(false) => "no",
            Value::Number(n) if PERSON_FIELDS.contains(&key.rsplit(' ').next().unwrap_or(key)) => (n.as_i64().map_or_else(|| n.to_string(), |id| person(Some(UserId::new(id)), people))),
            Value::Number(n) => (n),
            Value::String(s) => (super::words::value_words(key, s).unwrap_or_else(|| s.clone())),
            Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
                @if items.is_empty() { span.muted { "none" } }
                @for (n, item) in items.iter().enumerate() {
                    @if n > 0 { ", " }
                    @match item { Value::String(s) => (s), other => (other.to_string()) }
                }
            },
            other => code { (other.to_string()) },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postmortem_core::{DisplayName, Handle, Role};
    use serde_json::json;

    fn people() -> BTreeMap<UserId, User> {
        let sam = User {
            id: UserId::new(7),
            handle: Handle::parse("sam").unwrap(),
            display_name: DisplayName::parse("Sam Rivera").unwrap(),
            role: Role::Contributor,
            created_at: OffsetDateTime::UNIX_EPOCH,
        };
        BTreeMap::from([(sam.id, sam)])
    }

    #[test]
    fn a_word_diff_marks_each_run_of_removed_and_added_words() {
        let html =
            text_diff("The pool was too small.", "The pool was far too small.").into_string();
        assert_eq!(
            html,
            r#"<div class="text-diff">The pool was <ins><span class="visually-hidden">[added: </span>far <span class="visually-hidden">]</span></ins>too small.</div>"#
        );
        let html = text_diff("Restart the old primary", "Restart the new primary").into_string();
        assert!(
            html.contains("<del><span class=\"visually-hidden\">[removed: </span>old<span"),
            "{html}"
        );
        assert!(
            html.contains("<ins><span class=\"visually-hidden\">[added: </span>new<span"),
            "{html}"
        );
    }

    #[test]
    fn an_update_shows_only_the_fields_that_changed_with_people_by_name() {
        let details = json!({
            "action_id": 3,
            "before": {"title": "Add a canary", "owner": null, "due_on": null},
            "after": {"title": "Add a canary", "owner": 7, "due_on": "2026-04-01"},
        });
        let html = changes(&details, &people()).into_string();
        assert!(
            !html.contains("Add a canary"),
            "the unchanged title is left out: {html}"
        );
        assert!(html.contains(r#"<th scope="row">owner</th><td><span class="muted">none</span></td><td>Sam Rivera</td>"#), "{html}");
        assert!(html.contains(r#"<th scope="row">due on</th>"#), "{html}");
    }

    #[test]
    fn a_creation_lists_what_there_was_with_nested_fields_flattened() {
        let details = json!({"before": null, "after": {"title": "Checkout down", "impact": {"customer_minutes": 47}}});
        let html = changes(&details, &people()).into_string();
        assert!(!html.contains("Before"), "{html}");
        assert!(
            html.contains(r#"<th scope="row">impact customer minutes</th><td>47</td>"#),
            "{html}"
        );
    }

    #[test]
    fn an_event_with_bare_values_on_each_side_still_reads() {
        let html =
            changes(&json!({"before": "draft", "after": "in_review"}), &people()).into_string();
        assert!(
            html.contains(r#"<th scope="row">value</th><td>draft</td><td>in_review</td>"#),
            "{html}"
        );
    }
}
