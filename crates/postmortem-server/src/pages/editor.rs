//! The section editor at `/incidents/{id}/edit`: a text box per section with its guiding
//! question, a server-rendered preview, and conflict-safe saves. The form carries the version
//! it started from and each section's original text; only sections the writer changed are
//! sent, and when someone else saved one of them meanwhile, nothing is saved and the page
//! shows both texts side by side, so no one's words are lost. With JavaScript, each box gets
//! live blameless-language hints from `POST /api/v1/lint` while the writer types.

use super::forms::{Fields, check_origin_and_token, csrf_field, csrf_token};
use super::incident::{instant, lint_attribute, lint_hints, not_found, refusal};
use super::{layout, markdown};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use postmortem_app::{
    Conflict, PlacedComment, SaveResult, first_words, lint_participants, place_comments,
};
use postmortem_core::{Anchoring, IncidentId, Permission, PostmortemStatus, User, UserId};
use postmortem_store::IncidentRecord;
use std::collections::BTreeMap;

/// What the editor shows besides the stored text.
#[derive(Debug, Default)]
struct Draft {
    base_version: i64,
    /// Section name to the text in its box.
    texts: BTreeMap<String, String>,
    /// Section name to the text the writer started from.
    originals: BTreeMap<String, String>,
    preview: bool,
    /// What changed, for a revision of a published post-mortem.
    revision: String,
    conflicts: Vec<Conflict>,
    error: Option<ApiError>,
}

impl Draft {
    fn from_record(record: &IncidentRecord) -> Self {
        let stored: BTreeMap<String, String> = record
            .postmortem
            .sections
            .iter()
            .map(|(name, s)| (name.to_string(), s.body.to_string()))
            .collect();
        Self {
            base_version: record.incident.version,
            texts: stored.clone(),
            originals: stored,
            ..Self::default()
        }
    }
}

/// Browsers send text box contents with CRLF line breaks; stored Markdown uses LF.
fn normalise(text: &str) -> String {
    text.replace("\r\n", "\n")
}

async fn load(state: &AppState, user: &User, id: i64) -> Result<Option<IncidentRecord>, ApiError> {
    match state
        .app
        .acting_for(user)
        .incident(IncidentId::new(id))
        .await
        .map_err(ApiError::from)
    {
        Ok(record) => Ok(Some(record)),
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(None),
        Err(error) => Err(error),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(record) = load(&state, &user, id).await? else {
        return Ok(not_found(&user, id));
    };
    // A viewer would fill in boxes only to have the save refused.
    if !user.role.may(Permission::Write) {
        return Ok(refusal(&user, &ApiError::forbidden("write post-mortems")));
    }
    let people = state.app.acting_for(&user).people().await?;
    let draft = Draft::from_record(&record);
    editor(
        &state.settings.templates,
        &people,
        &user,
        &headers,
        &record,
        &draft,
        StatusCode::OK,
    )
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    if let Err(error) = check_origin_and_token(&headers, &fields) {
        return Ok(refusal(&user, &error));
    }
    let Some(record) = load(&state, &user, id).await? else {
        return Ok(not_found(&user, id));
    };
    let people = state.app.acting_for(&user).people().await?;
    let mut draft = Draft {
        base_version: fields.get("base_version").parse().unwrap_or(0),
        preview: fields.get("intent") == "preview",
        revision: fields.get("revision"),
        ..Draft::default()
    };
    for (key, value) in &fields.0 {
        if let Some(name) = key.strip_prefix("section.") {
            draft.texts.insert(name.to_owned(), normalise(value));
        } else if let Some(name) = key.strip_prefix("orig.") {
            draft.originals.insert(name.to_owned(), normalise(value));
        }
    }
    if draft.preview {
        return editor(
            &state.settings.templates,
            &people,
            &user,
            &headers,
            &record,
            &draft,
            StatusCode::OK,
        );
    }
    let changed: BTreeMap<String, String> = draft
        .texts
        .iter()
        .filter(|(name, text)| {
            draft
                .originals
                .get(*name)
                .map_or(!text.trim().is_empty(), |o| o != *text)
        })
        .map(|(name, text)| (name.clone(), text.clone()))
        .collect();
    if changed.is_empty() {
        return Ok(Redirect::to(&format!("/incidents/{id}#postmortem-heading")).into_response());
    }
    let result = state
        .app
        .acting_for(&user)
        .save_sections(
            record.incident.id,
            Some(draft.base_version),
            changed.clone(),
            Some(draft.revision.clone()),
        )
        .await
        .map_err(ApiError::from);
    match result {
        Ok(SaveResult::Saved { .. }) => {
            Ok(Redirect::to(&format!("/incidents/{id}#postmortem-heading")).into_response())
        }
        Ok(SaveResult::Refused { conflicts, .. }) => {
            // Start again from what is stored now, keeping every text the writer changed, so
            // that saving the merged text is based on the current version.
            let current = load(&state, &user, id).await?.unwrap_or(record);
            let mut fresh = Draft::from_record(&current);
            for (name, text) in changed {
                fresh.texts.insert(name, text);
            }
            fresh.conflicts = conflicts;
            editor(
                &state.settings.templates,
                &people,
                &user,
                &headers,
                &current,
                &fresh,
                StatusCode::CONFLICT,
            )
        }
        Err(error) if error.status == StatusCode::FORBIDDEN => Ok(refusal(&user, &error)),
        Err(error) if error.status.is_server_error() => Err(error),
        Err(error) => {
            let status = error.status;
            draft.error = Some(error);
            editor(
                &state.settings.templates,
                &people,
                &user,
                &headers,
                &record,
                &draft,
                status,
            )
        }
    }
}

/// The review comments on one section, beside its text box: each with the passage it is about
/// (a button that shows it in the box, with JavaScript) or the words it quoted when they are
/// gone. They are resolved on the incident page, where resolving does not leave this form.
fn editor_comments(
    people: &BTreeMap<UserId, User>,
    title: &str,
    section: &str,
    comments: &[&PlacedComment],
) -> Markup {
    let name = |id: UserId| {
        people
            .get(&id)
            .map_or_else(|| format!("person #{id}"), |u| u.display_name.to_string())
    };
    html! {
        aside.editor-comments aria-label={ "Comments on " (title) } {
            h3.small { "Comments on " (title) }
            ol.comments {
                @for placed in comments {
                    @let comment = placed.comment;
                    @let outdated = matches!(placed.anchoring, Some(Anchoring::Outdated));
                    li id={ "comment-" (comment.id) } class={ "comment" @if comment.resolved { " resolved" } @if outdated { " outdated" } } {
                        @match (&comment.quote, &placed.anchoring, &placed.passage) {
                            (Some(_), Some(Anchoring::Outdated), _) | (Some(_), _, None) => {
                                p.quote { span.badge.outdated { "outdated" } " It was about “" (comment.quote.as_ref().map_or("", |q| q.exact())) "”, which is no longer in the text." }
                            }
                            (Some(quote), Some(anchoring), Some(passage)) => {
                                p.quote { "On “" (first_words(passage)) "”" }
                                @if matches!(anchoring, Anchoring::Moved(_)) {
                                    p.muted.small { "The passage was rewritten since; it read “" (quote.exact()) "”." }
                                }
                                button.secondary.show-passage type="button" hidden data-section=(section) data-passage=(passage) { "Show in the text" }
                            }
                            _ => { p.quote.muted { "On the whole section" } }
                        }
                        p.byline { strong { (name(comment.author)) } ", " (instant(comment.created_at))
                            @if comment.resolved { " " span.badge { "resolved" } } }
                        (markdown::render(comment.body.as_str()))
                    }
                }
            }
        }
    }
}

/// The form to comment on a passage from the editor: outside the editor's own form (forms do
/// not nest), filled by "Comment on the selection" or by hand.
fn comment_form(id: IncidentId, template: &postmortem_core::Template, csrf: &str) -> Markup {
    html! {
        form.card method="post" action={ "/incidents/" (id) "/comments" } #comment-form {
            h2 { "Comment on a passage" }
            (csrf_field(csrf))
            p {
                label for="comment-section" { "Section" }
                select #comment-section name="section" {
                    @for section in &template.sections { option value=(section.name) { (section.title) } }
                }
            }
            p {
                label for="comment-quote" { "The words it is about (optional)" }
                input #comment-quote name="quote" type="text" aria-describedby="comment-quote-hint";
                span.hint #comment-quote-hint { "Select them in a text box and choose “Comment on the selection”, or copy them here. Leave it empty to comment on the whole section." }
                input type="hidden" name="quote_prefix";
                input type="hidden" name="quote_suffix";
            }
            p {
                label for="comment-body" { "Comment" }
                textarea #comment-body name="body" rows="3" required {}
            }
            button type="submit" { "Add comment" }
        }
    }
}

fn editor(
    templates: &postmortem_core::Templates,
    people: &BTreeMap<UserId, User>,
    user: &User,
    headers: &HeaderMap,
    record: &IncidentRecord,
    draft: &Draft,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let id = record.incident.id;
    let template = templates.resolve(&record.postmortem.template);
    let lint = lint_attribute(&lint_participants(record));
    let published = record.postmortem.status == PostmortemStatus::Published;
    let placed = place_comments(record);
    let may_comment = user.role.may(Permission::Review);
    let csrf = csrf_token(headers);
    let body = html! {
        div #editor data-incident=(id) {
            h1 { "Edit the post-mortem" }
            p { a href={ "/incidents/" (id) } { "Back to " (record.incident.title) } }
            p.live-status role="status" aria-live="polite" #live-status {}
            @if let Some(error) = &draft.error {
                div.error role="alert" { p { (error.message) } }
            }
            @if !draft.conflicts.is_empty() {
                div.error role="alert" {
                    p { "Nothing was saved: someone else saved "
                        @for (n, c) in draft.conflicts.iter().enumerate() { @if n > 0 { ", " } (c.section.as_str().replace('_', " ")) }
                        " while you were editing. Your text is kept in its box; their text is shown under it. Merge the two and save again." }
                }
            }
            form method="post" action={ "/incidents/" (id) "/edit" } {
                (csrf_field(&csrf))
                input type="hidden" name="base_version" value=(draft.base_version);
                @for section in &template.sections {
                    @let name = section.name.as_str();
                    @let text = draft.texts.get(name).map(String::as_str).unwrap_or("");
                    @let conflict = draft.conflicts.iter().find(|c| c.section.as_str() == name);
                    @let comments: Vec<&PlacedComment> = placed.iter().filter(|p| p.comment.section == section.name).collect();
                    div class={ "editor-section" @if !comments.is_empty() { " has-comments" } } {
                        div.editor-main {
                        label for={ "section-" (name) } { h2.label { (section.title) } }
                        p.hint id={ "hint-" (name) } { (section.question) }
                        textarea id={ "section-" (name) } name={ "section." (name) } data-section=(name) rows="8" aria-describedby={ "hint-" (name) " lint-section-" (name) } data-lint=(lint) { (text) }
                        @if may_comment {
                            button.secondary type="button" id={ "comment-selection-" (name) } hidden { "Comment on the selection" }
                        }
                        (lint_hints(&format!("section-{name}")))
                        input type="hidden" name={ "orig." (name) } value=(draft.originals.get(name).map(String::as_str).unwrap_or(""));
                        @if draft.preview && !text.trim().is_empty() {
                            div.preview aria-label={ "Preview of " (section.title) } { (markdown::render(text)) }
                        }
                        @if let Some(conflict) = conflict {
                            div.conflict {
                                h3 { "Their text, saved by "
                                    (conflict.updated_by.as_ref().map_or_else(|| "someone".to_owned(), |u| u.display_name.to_string()))
                                    @if let Some(saved) = record.postmortem.sections.get(&conflict.section).and_then(|s| s.updated_at) { ", " (instant(saved)) } }
                                label for={ "theirs-" (name) } { "Their text, to copy from" }
                                textarea id={ "theirs-" (name) } readonly rows="6" { (conflict.current_text) }
                                div.preview { (markdown::render(&conflict.current_text)) }
                            }
                        }
                        }
                        @if !comments.is_empty() {
                            (editor_comments(people, &section.title, name, &comments))
                        }
                    }
                }
                @if published {
                    fieldset.revision #revision-note {
                        legend { "Revise published post-mortem" }
                        p.hint #revision-hint { "This post-mortem is published. Saving changes it as a revision: readers see “Revised on <date>: <what changed>” on the incident page, the audit log keeps it and the reviewers are told. To have it reviewed again instead, reopen it for review from the incident page." }
                        p {
                            label for="revision" { "What changed (required)" }
                            input #revision type="text" name="revision" maxlength="500" required value=(draft.revision) aria-describedby="revision-hint";
                        }
                    }
                }
                p.buttons {
                    button type="submit" name="intent" value="preview" formnovalidate { "Preview" }
                    " "
                    @if published {
                        button type="submit" name="intent" value="save" { "Save revision" }
                    } @else {
                        button type="submit" name="intent" value="save" { "Save" }
                    }
                }
            }
            @if may_comment {
                (comment_form(id, template, &csrf))
            }
        }
    };
    Ok((status, layout("Edit the post-mortem", Some(user), body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn text_box_line_breaks_become_newlines() {
        assert_eq!(normalise("a\r\nb\r\n"), "a\nb\n");
    }
}
