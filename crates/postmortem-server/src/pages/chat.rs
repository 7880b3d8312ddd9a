//! The chat selection page at `/incidents/{id}/chat`: an author uploads a Slack workspace
//! export or a CSV/JSON list of messages, picks a channel and a time window, ticks the
//! messages that become timeline entries (offered ticked: pinned, with the chosen reaction,
//! or naming deploy, rollback, mitigated...), sets their perspective and marker, and imports.
//!
//! One plain form per step, so it works without JavaScript: the upload (multipart) keeps the
//! file in the upload directory (`uploads.rs`) and leads to `/incidents/{id}/chat/{upload}`,
//! whose GET form chooses the window and whose POST form imports; the import deletes the
//! upload and comes back to the first step with what it added.

use super::forms::{Fields, check_origin_and_token, check_same_origin, cross_site, csrf_field};
use super::incident::{not_found, refusal};
use super::layout;
use super::words::{Words, instant};
use crate::auth::PageUser;
use crate::uploads::{UploadError, UploadId};
use crate::{ApiError, AppState};
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use maud::{Markup, html};
use postmortem_app::chat::{ChatExport, ChatSource, ImportChoices, PreviewMessage, Selection};
use postmortem_core::{
    IncidentId, Marker, MarkerTimes, Perspective, User, ValidationError, format_instant,
};
use postmortem_store::IncidentRecord;
use serde::Deserialize;
use time::{Duration, OffsetDateTime, PrimitiveDateTime};

/// The most messages one selection shows; a longer window is asked to be narrowed.
const MAX_SHOWN: usize = 2_000;

/// How far before the incident's start and after its end the window reaches by default.
const MARGIN: Duration = Duration::hours(1);

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/incidents/{id}/chat",
            get(start)
                .post(upload)
                .layer(DefaultBodyLimit::max(crate::limits::CHAT_EXPORT)),
        )
        .route("/incidents/{id}/chat/{upload}", get(choose).post(import))
}

/// What the first step says after an import.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Done {
    added: Option<usize>,
    already: Option<usize>,
}

/// The incident as the person may see it, or the page to answer instead.
async fn incident_for(
    state: &AppState,
    user: &User,
    id: i64,
) -> Result<Result<IncidentRecord, Response>, ApiError> {
    match state
        .app
        .acting_for(user)
        .incident(IncidentId::new(id))
        .await
        .map_err(ApiError::from)
    {
        Ok(record) => Ok(Ok(record)),
        Err(error) if error.status == StatusCode::NOT_FOUND => Ok(Err(not_found(user, id))),
        Err(error) => Err(error),
    }
}

fn may_not_write(user: &User) -> Response {
    refusal(
        user,
        &ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Your role may not write post-mortems, so it may not add chat to a timeline",
        ),
    )
}

async fn start(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = match incident_for(&state, &user, id).await? {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    if !user.role.can_write() {
        return Ok(may_not_write(&user));
    }
    let csrf = super::forms::csrf_token(&headers);
    Ok(start_page(
        &user,
        &record,
        &csrf,
        &done,
        None,
        StatusCode::OK,
    ))
}

fn incident_link(record: &IncidentRecord) -> Markup {
    html! {
        p { "For " a href={ "/incidents/" (record.incident.id) "#timeline" } { (record.incident.title) } "." }
    }
}

fn start_page(
    user: &User,
    record: &IncidentRecord,
    csrf: &str,
    done: &Done,
    problem: Option<&str>,
    status: StatusCode,
) -> Response {
    let id = record.incident.id;
    let body = html! {
        h1 { "Add chat to the timeline" }
        (incident_link(record))
        @if let Some(added) = done.added {
            div.notice role="status" {
                p { "Added " (count(added, "entry", "entries")) " to the timeline."
                    @if let Some(already) = done.already.filter(|n| *n > 0) {
                        " " (already) " already in the timeline: importing them again adds nothing." }
                }
                p { a href={ "/incidents/" (id) "#timeline" } { "See the timeline" } }
            }
        }
        form.card method="post" action={ "/incidents/" (id) "/chat" } enctype="multipart/form-data" #chat-upload {
            h2 { "Upload the messages" }
            (csrf_field(csrf))
            @if let Some(problem) = problem {
                p.error role="alert" #chat-upload-error { (problem) }
            }
            p {
                label for="chat-export" { "A Slack workspace export (.zip), or a CSV or JSON list of messages" }
                input #chat-export name="export" type="file" required accept=".zip,.csv,.json,application/zip,text/csv,application/json"
                    aria-describedby={ "chat-export-help" @if problem.is_some() { " chat-upload-error" } };
            }
            p.muted #chat-export-help {
                "Slack: Workspace settings, Import/Export data, Export. A CSV has the columns "
                code { "time,author,text,link" } " (time with its offset, such as " code { "2025-03-14T13:02:00Z" }
                "); a JSON list has objects with those keys. Up to " (crate::limits::in_words(crate::limits::CHAT_EXPORT))
                ". The file is kept on the server for an hour at most, and deleted when you import."
            }
            button type="submit" { "Upload" }
        }
    };
    (status, layout("Add chat to the timeline", Some(user), body)).into_response()
}

fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn upload_refused(error: UploadError) -> ApiError {
    match error {
        UploadError::Gone => ApiError::new(StatusCode::NOT_FOUND, "not_found", error.to_string()),
        UploadError::Full => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "full", error.to_string())
        }
        UploadError::Io(io) => ApiError::internal(io),
    }
}

fn multipart_refused(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "invalid_form",
        format!("the upload could not be read ({error}); choose the file and send it again"),
    )
}

async fn upload(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    if let Err(why) = check_same_origin(&headers, false) {
        return Ok(refusal(&user, &cross_site(why)));
    }
    let record = match incident_for(&state, &user, id).await? {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    if !user.role.can_write() {
        return Ok(may_not_write(&user));
    }
    let mut multipart = multipart.map_err(multipart_refused)?;
    // The file goes to disk part by part as it arrives; only the small fields are held.
    let mut fields = Fields::default();
    let mut file = None;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_refused)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "export" {
            let file_name = field.file_name().unwrap_or_default().to_owned();
            let mut pending = state.uploads.start().map_err(upload_refused)?;
            while let Some(chunk) = field.chunk().await.map_err(multipart_refused)? {
                pending.write(&chunk).map_err(upload_refused)?;
            }
            file = Some((pending, file_name));
        } else if name == "csrf" {
            fields
                .0
                .push((name, field.text().await.map_err(multipart_refused)?));
        }
    }
    if let Err(error) = check_origin_and_token(&headers, &fields) {
        return Ok(refusal(&user, &error));
    }
    let csrf = fields.get("csrf");
    let Some((pending, file_name)) = file.filter(|(p, _)| p.written() > 0) else {
        return Ok(start_page(
            &user,
            &record,
            &csrf,
            &Done::default(),
            Some("Choose a file to upload: the form arrived without one, or it was empty."),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    };
    let incident = IncidentId::new(id);
    let upload = state
        .uploads
        .finish(pending, incident, user.id, &file_name)
        .map_err(upload_refused)?;
    // Read it now, so a file that is no export is refused at once, with the reason.
    let (_, bytes) = state
        .uploads
        .read(&upload, incident, user.id)
        .await
        .map_err(upload_refused)?;
    match state
        .app
        .acting_for(&user)
        .read_chat_export(incident, &bytes)
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/incidents/{id}/chat/{}", upload.as_str())).into_response())
        }
        Err(error) => {
            state.uploads.remove(&upload);
            let error = ApiError::from(error);
            let message = refusal_words(&error);
            Ok(start_page(
                &user,
                &record,
                &csrf,
                &Done::default(),
                Some(&format!("That file could not be read: {message}")),
                error.status,
            ))
        }
    }
}

/// An error's message with its fields' rules, for a sentence on the page.
fn refusal_words(error: &ApiError) -> String {
    let rules: Vec<&str> = error
        .details
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["rule"].as_str())
        .collect();
    if rules.is_empty() {
        error.message.clone()
    } else {
        rules.join("; ")
    }
}

/// The window and channel the person chose (query of the window form, hidden fields of the
/// import form).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Window {
    channel: Option<String>,
    from: Option<String>,
    to: Option<String>,
    reaction: Option<String>,
}

impl Window {
    fn from_fields(fields: &Fields) -> Self {
        Self {
            channel: fields.given("channel"),
            from: fields.given("from"),
            to: fields.given("to"),
            reaction: fields.given("reaction"),
        }
    }

    fn reaction(&self) -> Option<&str> {
        self.reaction
            .as_deref()
            .map(|r| r.trim().trim_matches(':'))
            .filter(|r| !r.is_empty())
    }
}

/// A time from a `datetime-local` field (`2024-03-14T12:00`, read as UTC), or with its offset.
fn parse_time(field: &str, raw: &str) -> Result<OffsetDateTime, ValidationError> {
    let raw = raw.trim();
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let with_seconds =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(raw, local)
        .or_else(|_| PrimitiveDateTime::parse(raw, with_seconds))
        .map(PrimitiveDateTime::assume_utc)
        .or_else(|_| postmortem_core::parse_instant(field, raw))
        .map_err(|_| {
            ValidationError::new(
                field,
                format!("`{raw}` is not a date and time such as 2024-03-14T12:00 (UTC)"),
            )
        })
}

/// What a `datetime-local` field shows for an instant, in UTC.
fn local_value(at: OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

/// The incident's start and end with a margin: from an hour before it started (or was
/// recorded) to an hour after the timeline marks it resolved, or its last entry, or four
/// hours after its start when neither says more.
fn default_window(record: &IncidentRecord) -> (OffsetDateTime, OffsetDateTime) {
    let start = record
        .incident
        .started_at
        .unwrap_or(record.incident.created_at);
    let markers = MarkerTimes::from_entries(&record.timeline);
    let last = record.timeline.iter().map(|e| e.at).max();
    let end = markers
        .resolved
        .or(last)
        .filter(|end| *end > start)
        .unwrap_or(start + Duration::hours(4));
    (start - MARGIN, end + MARGIN)
}

/// What the window form and the table are drawn from.
struct Selecting<'a> {
    record: &'a IncidentRecord,
    upload: &'a UploadId,
    file_name: &'a str,
    export: &'a ChatExport,
    csrf: &'a str,
    channel: Option<String>,
    from: String,
    to: String,
    reaction: String,
    /// The messages of the window, once a channel is chosen (or for a list at once).
    messages: Option<Vec<PreviewMessage>>,
    /// A refused window or import, in words.
    problem: Option<String>,
    /// What the refused import had ticked and chosen, shown again.
    submitted: Option<Fields>,
}

async fn choose(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, upload)): Path<(i64, String)>,
    Query(window): Query<Window>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let csrf = super::forms::csrf_token(&headers);
    selection(&state, &user, id, &upload, &window, &csrf, None, None).await
}

/// Draws the selection: the window form, and the messages when a channel is chosen.
#[allow(clippy::too_many_arguments)]
async fn selection(
    state: &AppState,
    user: &User,
    id: i64,
    upload: &str,
    window: &Window,
    csrf: &str,
    problem: Option<String>,
    submitted: Option<Fields>,
) -> Result<Response, ApiError> {
    let record = match incident_for(state, user, id).await? {
        Ok(record) => record,
        Err(page) => return Ok(page),
    };
    if !user.role.can_write() {
        return Ok(may_not_write(user));
    }
    let incident = IncidentId::new(id);
    let gone = |user: &User| {
        let body = html! {
            h1 { "This upload is no longer here" }
            p { (UploadError::Gone.to_string()) "." }
            p { a.button href={ "/incidents/" (id) "/chat" } { "Upload the file again" } }
        };
        (
            StatusCode::NOT_FOUND,
            layout("Upload gone", Some(user), body),
        )
            .into_response()
    };
    let Some(upload) = UploadId::parse(upload) else {
        return Ok(gone(user));
    };
    let (info, bytes) = match state.uploads.read(&upload, incident, user.id).await {
        Ok(read) => read,
        Err(UploadError::Gone) => return Ok(gone(user)),
        Err(error) => return Err(upload_refused(error)),
    };
    let service = state.app.acting_for(user);
    let export = service.read_chat_export(incident, &bytes).await?;
    let (default_from, default_to) = default_window(&record);
    let mut problem = problem;
    let mut parsed = |field: &str, raw: &Option<String>, default: OffsetDateTime| match raw {
        None => Some(default),
        Some(raw) => match parse_time(field, raw) {
            Ok(at) => Some(at),
            Err(error) => {
                problem.get_or_insert_with(|| error.rule().to_owned());
                None
            }
        },
    };
    let from = parsed("from", &window.from, default_from);
    let to = parsed("to", &window.to, default_to);
    let channel = match &export {
        ChatExport::Slack { channels } => window
            .channel
            .clone()
            .or_else(|| (channels.len() == 1).then(|| channels[0].name.clone())),
        ChatExport::Generic { .. } => None,
    };
    let wants_messages = matches!(export, ChatExport::Generic { .. }) || channel.is_some();
    let mut status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut messages = None;
    if let (true, Some(from), Some(to)) = (wants_messages, from, to) {
        if from > to {
            problem.get_or_insert_with(|| "The window ends before it starts.".to_owned());
            status = StatusCode::UNPROCESSABLE_ENTITY;
        } else {
            let source = match &channel {
                Some(channel) => ChatSource::Slack {
                    export: &bytes,
                    channel,
                },
                None => ChatSource::Generic { bytes: &bytes },
            };
            match service
                .preview_chat(incident, source, Some(from), Some(to), window.reaction())
                .await
            {
                Ok(found) => messages = Some(found),
                Err(error) => {
                    let error = ApiError::from(error);
                    problem.get_or_insert_with(|| refusal_words(&error));
                    status = error.status;
                }
            }
        }
    }
    if submitted.is_some() && problem.is_some() {
        status = StatusCode::UNPROCESSABLE_ENTITY;
    }
    let selecting = Selecting {
        record: &record,
        upload: &upload,
        file_name: &info.file_name,
        export: &export,
        csrf,
        channel,
        from: window
            .from
            .clone()
            .unwrap_or_else(|| local_value(default_from)),
        to: window.to.clone().unwrap_or_else(|| local_value(default_to)),
        reaction: window.reaction.clone().unwrap_or_default(),
        messages,
        problem,
        submitted,
    };
    Ok((
        status,
        layout(
            "Choose chat messages",
            Some(user),
            selection_body(&selecting),
        ),
    )
        .into_response())
}

fn selection_body(s: &Selecting) -> Markup {
    let id = s.record.incident.id;
    let action = format!("/incidents/{id}/chat/{}", s.upload.as_str());
    html! {
        h1 { "Choose chat messages for the timeline" }
        (incident_link(s.record))
        p.muted { "From " strong { (s.file_name) } ". " a href={ "/incidents/" (id) "/chat" } { "Upload another file" } }
        @if let Some(problem) = &s.problem {
            p.error role="alert" #chat-problem { (problem) }
        }
        form.card method="get" action=(action) #chat-window {
            h2 { "Which messages" }
            @if let ChatExport::Slack { channels } = s.export {
                p {
                    label for="chat-channel" { "Channel" }
                    select #chat-channel name="channel" required {
                        @if s.channel.is_none() { option value="" { "Choose a channel" } }
                        @for channel in channels {
                            option value=(channel.name) selected[s.channel.as_deref() == Some(channel.name.as_str())] {
                                "#" (channel.name) " (" (count(channel.days, "day", "days")) ")"
                            }
                        }
                    }
                }
            }
            p {
                label for="chat-from" { "From (UTC)" }
                input #chat-from name="from" type="datetime-local" value=(s.from) aria-describedby="chat-window-help";
            }
            p {
                label for="chat-to" { "To (UTC)" }
                input #chat-to name="to" type="datetime-local" value=(s.to) aria-describedby="chat-window-help";
            }
            p.muted #chat-window-help { "By default an hour before the incident started to an hour after it was resolved." }
            p {
                label for="chat-reaction" { "A reaction that marks a message worth keeping (optional)" }
                input #chat-reaction name="reaction" type="text" value=(s.reaction) placeholder="white_check_mark";
            }
            button type="submit" { "Show the messages" }
        }
        @if let Some(messages) = &s.messages {
            (messages_form(s, &action, messages))
        }
    }
}

fn messages_form(s: &Selecting, action: &str, messages: &[PreviewMessage]) -> Markup {
    let shown = &messages[..messages.len().min(MAX_SHOWN)];
    let already = messages.iter().filter(|m| m.imported).count();
    let offered = messages
        .iter()
        .filter(|m| m.preselected && !m.imported)
        .count();
    let submitted = s.submitted.as_ref();
    let ticked = |m: &PreviewMessage| match submitted {
        Some(fields) => fields.all("message").contains(&m.message.id),
        None => m.preselected && !m.imported,
    };
    let chosen = |name: String| submitted.map(|f| f.get(&name)).unwrap_or_default();
    let all_perspective = submitted
        .and_then(|f| f.given("perspective"))
        .unwrap_or_else(|| Perspective::Observed.as_str().to_owned());
    let all_marker = chosen("marker".to_owned());
    let place = match &s.channel {
        Some(channel) => format!("#{channel}"),
        None => "the list".to_owned(),
    };
    html! {
        form method="post" action=(action) #chat-import {
            h2 { "Messages" }
            (csrf_field(s.csrf))
            @if let Some(channel) = &s.channel { input type="hidden" name="channel" value=(channel); }
            input type="hidden" name="from" value=(s.from);
            input type="hidden" name="to" value=(s.to);
            input type="hidden" name="reaction" value=(s.reaction);
            p role="status" #chat-summary {
                (count(messages.len(), "message", "messages")) " in " (place) " in this window; "
                (offered) " ticked for you (pinned"
                @if !s.reaction.trim().is_empty() { ", with :" (s.reaction.trim().trim_matches(':')) ":" }
                ", or naming deploy, rollback, revert, mitigated or resolved)"
                @if already > 0 { "; " (already) " already in the timeline (importing them again adds nothing)" }
                "."
            }
            @if messages.len() > shown.len() {
                p.notice { "Only the first " (MAX_SHOWN) " are shown: narrow the window to see the others." }
            }
            @if messages.is_empty() {
                p.muted { "No messages in this window. Widen it, or choose another channel." }
            } @else {
                fieldset #chat-for-all {
                    legend { "For every ticked message" }
                    p {
                        label for="chat-perspective" { "Perspective" }
                        select #chat-perspective name="perspective" {
                            @for p in Perspective::ALL { option value=(p) selected[all_perspective == p.as_str()] { (p.words()) } }
                        }
                    }
                    p {
                        label for="chat-marker" { "Marks" }
                        select #chat-marker name="marker" {
                            option value="" { "no lifecycle point" }
                            @for m in Marker::ALL { option value=(m) selected[all_marker == m.as_str()] { (m.words()) } }
                        }
                    }
                    p.muted { "A message's own choice below takes the place of these." }
                }
                table.chat-messages {
                    caption.visually-hidden { "Messages in " (place) "; tick those to import" }
                    thead { tr {
                        th scope="col" { "Import" } th scope="col" { "When" } th scope="col" { "Who" }
                        th scope="col" { "Message" } th scope="col" { "Perspective" } th scope="col" { "Marks" }
                    } }
                    tbody {
                        @for (n, message) in shown.iter().enumerate() {
                            @let m = &message.message;
                            @let who = message.person_name.clone().unwrap_or_else(|| m.author.name.clone());
                            @let own_perspective = chosen(format!("perspective:{}", m.id));
                            @let own_marker = chosen(format!("marker:{}", m.id));
                            tr.imported[message.imported] {
                                td {
                                    input type="checkbox" id={ "msg-" (n) } name="message" value=(m.id) checked[ticked(message)];
                                    label.visually-hidden for={ "msg-" (n) } { "Import the message of " (who) " at " (format_instant(m.at)) }
                                }
                                td { (instant(m.at)) }
                                td {
                                    @if let Some(name) = &message.person_name { strong { (name) } }
                                    @else { (m.author.name) br; span.muted { "no account here" } }
                                }
                                td {
                                    div.chat-text { (m.text) }
                                    p.muted {
                                        @if m.pinned { span.badge { "pinned" } " " }
                                        @for reaction in &m.reactions { span.badge { ":" (reaction) ":" } " " }
                                        @if message.imported { span.badge { "already in the timeline" } " " }
                                        @if let Some(link) = &m.link { a href=(link.as_str()) rel="noopener noreferrer" { "the message" } }
                                    }
                                    @if !message.findings.is_empty() {
                                        ul.chat-findings aria-label="What the blameless-language checker says" {
                                            @for finding in &message.findings { li { (finding) } }
                                        }
                                    }
                                }
                                td {
                                    label.visually-hidden for={ "msg-" (n) "-perspective" } { "Perspective of the message of " (who) }
                                    select id={ "msg-" (n) "-perspective" } name={ "perspective:" (m.id) } {
                                        option value="" { "as for all" }
                                        @for p in Perspective::ALL { option value=(p) selected[own_perspective == p.as_str()] { (p.words()) } }
                                    }
                                }
                                td {
                                    label.visually-hidden for={ "msg-" (n) "-marker" } { "Marks, for the message of " (who) }
                                    select id={ "msg-" (n) "-marker" } name={ "marker:" (m.id) } {
                                        option value="" { "as for all" }
                                        @for m in Marker::ALL { option value=(m) selected[own_marker == m.as_str()] { (m.words()) } }
                                    }
                                }
                            }
                        }
                    }
                }
                button type="submit" { "Import the ticked messages" }
            }
        }
    }
}

/// The choices of the import form: the perspective and marker for all, and each message's
/// own where one was chosen.
fn choices(fields: &Fields) -> Result<ImportChoices, ValidationError> {
    let mut choices = ImportChoices::all_as(
        fields
            .given("perspective")
            .map_or(Ok(Perspective::Observed), |p| Perspective::parse(&p))?,
    );
    choices.marker = fields
        .given("marker")
        .map(|m| Marker::parse(&m))
        .transpose()?;
    for (name, value) in &fields.0 {
        if value.trim().is_empty() {
            continue;
        }
        if let Some(message) = name.strip_prefix("perspective:") {
            choices
                .perspectives
                .insert(message.to_owned(), Perspective::parse(value)?);
        } else if let Some(message) = name.strip_prefix("marker:") {
            choices
                .markers
                .insert(message.to_owned(), Marker::parse(value)?);
        }
    }
    Ok(choices)
}

async fn import(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, upload)): Path<(i64, String)>,
    headers: HeaderMap,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let fields = Fields(fields);
    if let Err(error) = check_origin_and_token(&headers, &fields) {
        return Ok(refusal(&user, &error));
    }
    let csrf = fields.get("csrf");
    let window = Window::from_fields(&fields);
    let again = |problem: String, fields: Fields| {
        let state = state.clone();
        let user = user.clone();
        let upload = upload.clone();
        let csrf = csrf.clone();
        async move {
            let window = Window::from_fields(&fields);
            selection(
                &state,
                &user,
                id,
                &upload,
                &window,
                &csrf,
                Some(problem),
                Some(fields),
            )
            .await
        }
    };
    let ids: std::collections::BTreeSet<String> = fields.all("message").into_iter().collect();
    if ids.is_empty() {
        return again(
            "Tick at least one message to import.".to_owned(),
            fields.clone(),
        )
        .await;
    }
    let choices = match choices(&fields) {
        Ok(choices) => choices,
        Err(error) => return again(error.rule().to_owned(), fields.clone()).await,
    };
    let (from, to) = match (
        window
            .from
            .as_deref()
            .map(|raw| parse_time("from", raw))
            .transpose(),
        window
            .to
            .as_deref()
            .map(|raw| parse_time("to", raw))
            .transpose(),
    ) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(error), _) | (_, Err(error)) => {
            return again(error.rule().to_owned(), fields.clone()).await;
        }
    };
    let incident = IncidentId::new(id);
    let Some(upload_id) = UploadId::parse(&upload) else {
        return again(UploadError::Gone.to_string(), fields.clone()).await;
    };
    let bytes = match state.uploads.read(&upload_id, incident, user.id).await {
        Ok((_, bytes)) => bytes,
        // The selection page says the upload is gone and offers to upload again.
        Err(UploadError::Gone) => return again(String::new(), fields.clone()).await,
        Err(error) => return Err(upload_refused(error)),
    };
    let source = match window
        .channel
        .as_deref()
        .filter(|_| ChatExport::is_zip(&bytes))
    {
        Some(channel) => ChatSource::Slack {
            export: &bytes,
            channel,
        },
        None => ChatSource::Generic { bytes: &bytes },
    };
    let imported = state
        .app
        .acting_for(&user)
        .import_chat(incident, source, from, to, &Selection::Ids(ids), &choices)
        .await;
    match imported {
        Ok(imported) => {
            state.uploads.remove(&upload_id);
            Ok(Redirect::to(&format!(
                "/incidents/{id}/chat?added={}&already={}",
                imported.added, imported.already
            ))
            .into_response())
        }
        Err(error) => {
            let error = ApiError::from(error);
            if error.status == StatusCode::NOT_FOUND || error.status == StatusCode::FORBIDDEN {
                return Ok(refusal(&user, &error));
            }
            again(refusal_words(&error), fields.clone()).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_time_is_read_as_utc_or_with_its_offset() {
        assert_eq!(
            parse_time("from", "2024-03-14T12:00").unwrap(),
            time::macros::datetime!(2024-03-14 12:00 UTC)
        );
        assert_eq!(
            parse_time("from", "2024-03-14T12:00:30").unwrap(),
            time::macros::datetime!(2024-03-14 12:00:30 UTC)
        );
        assert_eq!(
            parse_time("to", "2024-03-14T13:00:00+01:00").unwrap(),
            time::macros::datetime!(2024-03-14 12:00 UTC)
        );
        let refused = parse_time("to", "yesterday").unwrap_err();
        assert!(refused.rule().contains("`yesterday`"), "{}", refused.rule());
    }

    #[test]
    fn the_form_values_of_an_instant_are_in_utc() {
        assert_eq!(
            local_value(time::macros::datetime!(2024-03-14 13:05 +01:00)),
            "2024-03-14T12:05"
        );
    }
}
