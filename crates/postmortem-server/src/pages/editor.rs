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
use maud::html;
use postmortem_app::{Conflict, SaveResult, lint_participants};
use postmortem_core::{IncidentId, Permission, User};
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
    let draft = Draft::from_record(&record);
    editor(
        &state.settings.templates,
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
    let mut draft = Draft {
        base_version: fields.get("base_version").parse().unwrap_or(0),
        preview: fields.get("intent") == "preview",
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
                &user,
                &headers,
                &record,
                &draft,
                status,
            )
        }
    }
}

fn editor(
    templates: &postmortem_core::Templates,
    user: &User,
    headers: &HeaderMap,
    record: &IncidentRecord,
    draft: &Draft,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let id = record.incident.id;
    let template = templates.resolve(&record.postmortem.template);
    let lint = lint_attribute(&lint_participants(record));
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
                (csrf_field(&csrf_token(headers)))
                input type="hidden" name="base_version" value=(draft.base_version);
                @for section in &template.sections {
                    @let name = section.name.as_str();
                    @let text = draft.texts.get(name).map(String::as_str).unwrap_or("");
                    @let conflict = draft.conflicts.iter().find(|c| c.section.as_str() == name);
                    div.editor-section {
                        label for={ "section-" (name) } { h2.label { (section.title) } }
                        p.hint id={ "hint-" (name) } { (section.question) }
                        textarea id={ "section-" (name) } name={ "section." (name) } rows="8" aria-describedby={ "hint-" (name) " lint-section-" (name) } data-lint=(lint) { (text) }
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
                }
                p.buttons {
                    button type="submit" name="intent" value="preview" { "Preview" }
                    " "
                    button type="submit" name="intent" value="save" { "Save" }
                }
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
