//! The incident page at `/incidents/{id}`: the facts, the post-mortem, the timeline,
//! contributing factors, action items, reviews and comments, who contributed what, and the
//! forms to add to each. Parts that change while people watch are also served alone as
//! fragments, which the page's script swaps in when the live event stream says they changed.

use super::forms::{FormView, Problem, csrf_field, csrf_token};
use super::{layout, markdown};
use crate::auth::PageUser;
use crate::service::{Service, blame_findings, lint_participants, may_edit_action};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_core::{
    ActionKind, ActionStatus, FactorCategory, IncidentId, Marker, MarkerTimes, Perspective,
    PostmortemStatus, Priority, ReviewDecision, Role, Template, User, UserId, format_date,
    format_instant,
};
use postmortem_store::IncidentRecord;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Everything the parts of the page need.
pub(crate) struct View<'a> {
    pub record: &'a IncidentRecord,
    pub people: &'a BTreeMap<UserId, User>,
    pub template: Template,
    pub user: &'a User,
    pub csrf: String,
    /// Earlier incidents most like this one, from the search index (empty when search is off).
    pub similar: Vec<postmortem_search::SimilarIncident>,
    /// The organisation's calendar day, on which overdue is judged.
    pub today: time::Date,
    /// How many passages of the written sections the blameless-language checker finds at
    /// `warning` or above; publishing asks for confirmation while any remain.
    pub blame_findings: usize,
    /// The names the checker takes for people, for the live hints of the timeline form.
    pub lint_participants: Vec<String>,
    /// Whether the reader may read the incident's history (admins and its members).
    pub may_read_history: bool,
    /// Whether the reader may name people on the incident or take them off.
    pub manage_members: bool,
}

impl View<'_> {
    fn id(&self) -> IncidentId {
        self.record.incident.id
    }

    /// A person's display name; someone whose account is gone is shown by number.
    fn name(&self, id: UserId) -> String {
        self.people
            .get(&id)
            .map(|u| u.display_name.to_string())
            .unwrap_or_else(|| format!("person #{id}"))
    }
}

/// The page shown for an incident that does not exist or that the reader may not see; the
/// two look the same so a restricted incident's existence does not leak.
pub(crate) fn not_found(user: &User, id: i64) -> Response {
    let body = html! {
        h1 { "Incident not found" }
        p { "There is no incident " (id) ", or you may not see it. " a href="/" { "Back to the list" } }
    };
    (StatusCode::NOT_FOUND, layout("Not found", Some(user), body)).into_response()
}

/// A refusal that is not about a form's fields, such as a missing permission.
pub(crate) fn refusal(user: &User, error: &ApiError) -> Response {
    let body = html! {
        h1 { "That did not work" }
        p.error role="alert" { (error.message) }
        p { a href="javascript:history.back()" { "Go back" } " or " a href="/" { "return to the list" } "." }
    };
    (error.status, layout("Refused", Some(user), body)).into_response()
}

pub(crate) async fn page(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    render(&state, &user, &headers, id, None).await
}

/// Renders the page, with a refused form's values and errors when there is one.
pub(crate) async fn render(
    state: &AppState,
    user: &User,
    headers: &HeaderMap,
    id: i64,
    problem: Option<Problem>,
) -> Result<Response, ApiError> {
    let service = Service::new(state, user);
    let record = match service.incident(IncidentId::new(id)).await {
        Ok(record) => record,
        Err(error) if error.status == StatusCode::NOT_FOUND => return Ok(not_found(user, id)),
        Err(error) => return Err(error),
    };
    let people = service.people().await?;
    // The person as search sees them, with their teams: asked for once, used twice.
    let viewer = crate::api::viewer(state, user).await?;
    let similar = similar_incidents(state, viewer.clone(), record.incident.id).await;
    let manage_members = service.may_manage_members(&record).await?;
    let view = View {
        template: state
            .settings
            .templates
            .resolve(&record.postmortem.template)
            .clone(),
        record: &record,
        people: &people,
        user,
        csrf: csrf_token(headers),
        similar,
        today: state.settings.policy.today(OffsetDateTime::now_utc()),
        blame_findings: count_blame_findings(state, &record),
        lint_participants: lint_participants(&record),
        may_read_history: crate::audit::may_read_history(
            state.store.as_ref(),
            user,
            &viewer,
            &record,
        )
        .await?,
        manage_members,
    };
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let body = whole_page(&view, problem.as_ref());
    Ok((
        status,
        layout(record.incident.title.as_str(), Some(user), body),
    )
        .into_response())
}

/// How many findings the review area counts, computed once per incident version.
fn count_blame_findings(state: &AppState, record: &IncidentRecord) -> usize {
    let id = record.incident.id;
    let version = record.incident.version;
    if let Some((counted_at, count)) = state.blame_counts.get(&id)
        && counted_at == version
    {
        return count;
    }
    let count = blame_findings(&state.settings, record).len();
    state.blame_counts.insert(id, (version, count));
    count
}

/// One part of the page alone, for the live script to swap in.
pub(crate) async fn fragment(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, part)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let service = Service::new(&state, &user);
    let record = match service.incident(IncidentId::new(id)).await {
        Ok(record) => record,
        Err(error) if error.status == StatusCode::NOT_FOUND => return Ok(not_found(&user, id)),
        Err(error) => return Err(error),
    };
    let people = service.people().await?;
    let view = View {
        template: state
            .settings
            .templates
            .resolve(&record.postmortem.template)
            .clone(),
        record: &record,
        people: &people,
        user: &user,
        csrf: csrf_token(&headers),
        similar: Vec::new(),
        today: state.settings.policy.today(OffsetDateTime::now_utc()),
        blame_findings: count_blame_findings(&state, &record),
        lint_participants: lint_participants(&record),
        // The history link sits outside every fragment.
        may_read_history: false,
        // The fragments do not hold the members' forms.
        manage_members: false,
    };
    let markup = match part.as_str() {
        "facts" => facts(&view),
        "sections" => sections(&view),
        "timeline" => timeline(&view),
        "factors" => factors(&view),
        "actions" => actions(&view),
        "review" => review(&view),
        "contributors" => contributors(&view),
        _ => return Err(ApiError::not_found("page part")),
    };
    Ok(markup.into_response())
}

fn whole_page(view: &View, problem: Option<&Problem>) -> Markup {
    let incident = &view.record.incident;
    let can_write = view.user.role.can_write();
    html! {
        div #incident data-incident=(incident.id) {
            h1 { (incident.title) }
            @if incident.restricted { p { span.badge { "restricted" } " Only its members and admins can see this incident." } }
            (facts(view))
            @if can_write { p { a.button href={ "/incidents/" (incident.id) "/facts" } { "Correct the facts" } } }
            @if view.may_read_history { p { a href={ "/incidents/" (incident.id) "/history" } { "History of changes" } } }
            p.live-status role="status" aria-live="polite" #live-status {}
            section aria-labelledby="postmortem-heading" {
                h2 #postmortem-heading { "Post-mortem" }
                @if can_write { p { a.button href={ "/incidents/" (incident.id) "/edit" } { "Edit the sections" } } }
                (sections(view))
            }
            section aria-labelledby="timeline-heading" #timeline {
                h2 #timeline-heading { "Timeline" }
                (timeline(view))
                @if can_write { (timeline_form(view, FormView::of("timeline", problem))) }
            }
            section aria-labelledby="factors-heading" #factors {
                h2 #factors-heading { "Contributing factors" }
                (factors(view))
                @if can_write { (factor_form(view, FormView::of("factor", problem))) }
            }
            section aria-labelledby="actions-heading" #actions {
                h2 #actions-heading { "Action items" }
                (FormView::of("action-update", problem).summary())
                (actions(view))
                @if can_write { (action_form(view, FormView::of("action", problem))) }
            }
            section aria-labelledby="review-heading" #review {
                h2 #review-heading { "Review" }
                (review(view))
                (workflow_forms(view, problem))
            }
            section aria-labelledby="similar-heading" {
                h2 #similar-heading { "Similar past incidents" }
                (similar_list(view))
            }
            @if incident.restricted { (members(view, problem)) }
            section aria-labelledby="contributors-heading" {
                h2 #contributors-heading { "Who contributed" }
                (contributors(view))
            }
        }
        script src="/static/app.js" defer {}
    }
}

/// An instant as written, in its own offset; the page's script shows it in the reader's zone.
pub(crate) fn instant(at: OffsetDateTime) -> Markup {
    let format = time::macros::format_description!(
        "[year]-[month]-[day] [hour]:[minute] [offset_hour sign:mandatory]:[offset_minute]"
    );
    let shown = at.format(format).unwrap_or_else(|_| format_instant(at));
    html! { time.local datetime=(format_instant(at)) title=(shown) { (shown) } }
}

fn facts(view: &View) -> Markup {
    let incident = &view.record.incident;
    let postmortem = &view.record.postmortem;
    let markers = MarkerTimes::from_entries(&view.record.timeline);
    let minutes = |d: Option<time::Duration>| {
        d.map(|d| format!("{} min", d.whole_minutes()))
            .unwrap_or_else(|| "not marked on the timeline".into())
    };
    html! {
        dl.facts #part-facts data-part="facts" {
            dt { "Severity" } dd { span class={ "badge sev" (incident.severity.level()) } { (incident.severity) } }
            dt { "Kind" } dd { (incident.kind.as_str().replace('_', " ")) }
            dt { "Services" } dd { @for (n, s) in incident.services.iter().enumerate() { @if n > 0 { ", " } (s) } }
            dt { "Teams" } dd { @for (n, t) in incident.teams.iter().enumerate() { @if n > 0 { ", " } (t) } }
            dt { "Started" } dd { @if let Some(at) = incident.started_at { (instant(at)) } @else { "not recorded" } }
            dt { "Customer impact" } dd { (incident.impact.customer_minutes) " min, " (incident.impact.customers_affected) " customers"
                @if incident.impact.user_visible { ", user-visible" }
                @if incident.impact.data_loss { ", data lost" } @if incident.impact.manual_intervention { ", manual intervention" } }
            dt { "Time to detect" } dd { (minutes(markers.time_to_detect())) }
            dt { "Time to mitigate" } dd { (minutes(markers.time_to_mitigate())) }
            dt { "Time to resolve" } dd { (minutes(markers.time_to_resolve())) }
            dt { "Post-mortem" } dd { strong { (status_label(postmortem.status)) } " (" (postmortem.template) " template)"
                @if let Some(due_on) = postmortem.due_on { @if postmortem.status.is_owed_work() { ", due " (format_date(due_on)) } } }
            @if let Some(decision) = &view.record.decision {
                dt { "Policy" } dd { (decision.decision.as_str().replace('_', " ")) ": " (decision.reasons.join("; ")) }
            }
        }
    }
}

pub(crate) fn status_label(status: PostmortemStatus) -> String {
    status.as_str().replace('_', " ")
}

fn sections(view: &View) -> Markup {
    let postmortem = &view.record.postmortem;
    html! {
        div #part-sections data-part="sections" {
            @for section in &view.template.sections {
                @let written = postmortem.sections.get(&section.name).filter(|s| !s.body.is_blank());
                @let open_comments = view.record.comments.iter().filter(|c| c.section == section.name && !c.resolved).count();
                section.pm-section aria-labelledby={ "s-" (section.name) } {
                    h3 id={ "s-" (section.name) } { (section.title)
                        @if open_comments > 0 { " " a.badge href={ "#comments-" (section.name) } { (open_comments) " open comment" @if open_comments > 1 { "s" } } } }
                    @match written {
                        Some(written) => {
                            (markdown::render(written.body.as_str()))
                            @if let Some(author) = written.updated_by {
                                p.muted.byline { "Last written by " (view.name(author))
                                    @if let Some(at) = written.updated_at { ", " (instant(at)) } }
                            }
                        }
                        None => p.muted { em { (section.question) } },
                    }
                }
            }
        }
    }
}

fn timeline(view: &View) -> Markup {
    html! {
        div #part-timeline data-part="timeline" {
            @if view.record.timeline.is_empty() {
                p.muted { "Nothing on the timeline yet. Add what happened, what people saw and what they believed, in order." }
            } @else {
                ol.timeline {
                    @for entry in &view.record.timeline {
                        li class={ "entry " (entry.perspective) } {
                            (instant(entry.at))
                            @if let Some(marker) = entry.marker { " " span.badge.marker { (marker.as_str().replace('_', " ")) } }
                            " " span.badge { (entry.perspective) }
                            @if entry.source != postmortem_core::Source::Manual { " " span.badge { "from " (entry.source) } }
                            div.entry-text { (markdown::render(entry.text.as_str())) }
                            p.muted.byline {
                                @if let Some(actor) = &entry.actor { "Done by " (actor) ". " }
                                "Written by " (view.name(entry.author)) "."
                                @if let Some(url) = &entry.source_url { " " a href=(url.as_str()) rel="noopener noreferrer" { "Source" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn factors(view: &View) -> Markup {
    html! {
        div #part-factors data-part="factors" {
            @if view.record.factors.is_empty() {
                p.muted { "No contributing factors yet. Which conditions let the trigger bite?" }
            } @else {
                ul.factors {
                    @for factor in &view.record.factors {
                        li { strong { (factor.category.label()) } @if factor.is_trigger { " " span.badge { "trigger" } } ": "
                             (markdown::render(factor.description.as_str())) }
                    }
                }
            }
        }
    }
}

fn actions(view: &View) -> Markup {
    let today = view.today;
    html! {
        div #part-actions data-part="actions" {
            @if view.record.actions.is_empty() {
                p.muted { "No action items yet." }
            } @else {
                table.actions {
                    thead { tr { th scope="col" { "Action" } th scope="col" { "Kind" } th scope="col" { "Priority" } th scope="col" { "Owner" } th scope="col" { "Due" } th scope="col" { "Status" } } }
                    tbody { @for action in &view.record.actions { tr {
                        td { (action.title)
                            @if let Some(url) = &action.external_url { " " a href=(url.as_str()) rel="noopener noreferrer" { "ticket" } }
                            @if let Some(note) = &action.verification { br; span.muted { "Verified by: " (note) } } }
                        td { (action.kind) }
                        td { (action.priority) }
                        td { @match action.owner { Some(owner) => (view.name(owner)), None => span.muted { "nobody yet" } } }
                        td { @if let Some(due_on) = action.due_on { (format_date(due_on)) @if action.is_overdue(today) { " " span.badge.overdue { "overdue" } } } }
                        td {
                            @if may_edit_action(view.user, view.record, action) {
                                form.inline method="post" action={ "/incidents/" (view.id()) "/actions/" (action.id) } {
                                    (csrf_field(&view.csrf))
                                    label for={ "status-" (action.id) } { span.visually-hidden { "Status of " (action.title) } }
                                    select id={ "status-" (action.id) } name="status" {
                                        @for status in ActionStatus::ALL { option value=(status) selected[*status == action.status] { (status.as_str().replace('_', " ")) } }
                                    }
                                    label for={ "reason-" (action.id) } { span.visually-hidden { "Reason, if it will not be done" } }
                                    input id={ "reason-" (action.id) } name="wont_do_reason" type="text" placeholder="reason if won't do" value=[action.wont_do_reason.as_deref()];
                                    button type="submit" { "Update" span.visually-hidden { " " (action.title) } }
                                }
                            } @else { (action.status.as_str().replace('_', " ")) }
                        }
                    } } }
                }
            }
        }
    }
}

fn review(view: &View) -> Markup {
    let record = view.record;
    let can_write = view.user.role.can_write();
    html! {
        div #part-review data-part="review" {
            p { "Status: " strong { (status_label(record.postmortem.status)) } }
            (blame_count(view))
            @if record.reviews.is_empty() {
                p.muted { "Nobody has been asked to review yet." }
            } @else {
                ul.reviews {
                    @for review in &record.reviews {
                        li { (view.name(review.reviewer)) ": "
                            strong { @match review.decision {
                                ReviewDecision::Requested => "review requested",
                                ReviewDecision::Approved => "approved",
                                ReviewDecision::ChangesRequested => "changes requested",
                            } }
                            @if let Some(comment) = &review.comment { " — " (comment) }
                        }
                    }
                }
            }
            h3 { "Comments" }
            @if record.comments.is_empty() { p.muted { "No review comments." } }
            @for section in &view.template.sections {
                @let comments: Vec<_> = record.comments.iter().filter(|c| c.section == section.name).collect();
                @if !comments.is_empty() {
                    h4 id={ "comments-" (section.name) } { "On " (section.title) }
                    ul.comments {
                        @for comment in comments {
                            li class={ "comment" @if comment.resolved { " resolved" } } {
                                p.byline { strong { (view.name(comment.author)) } ", " (instant(comment.created_at))
                                    @if comment.resolved { " " span.badge { "resolved" } } }
                                (markdown::render(comment.body.as_str()))
                                @if can_write && !comment.resolved {
                                    form.inline method="post" action={ "/incidents/" (view.id()) "/comments/" (comment.id) "/resolve" } {
                                        (csrf_field(&view.csrf))
                                        button type="submit" { "Mark resolved" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// How many passages of the written sections may read as blame, with the way to them.
fn blame_count(view: &View) -> Markup {
    let written = view
        .record
        .postmortem
        .sections
        .values()
        .any(|s| !s.body.is_blank());
    let count = view.blame_findings;
    html! {
        @if count > 0 {
            p.lint-count #blame-findings {
                strong { (count) " passage" @if count > 1 { "s" } }
                " in the written sections may read as blame (blameless-language checker, warning or above). "
                a href={ "/incidents/" (view.id()) "/edit" } { "Review " @if count > 1 { "them" } @else { "it" } " in the editor" }
                "."
            }
        } @else if written {
            p.muted #blame-findings { "The blameless-language checker finds no passage that reads as blame in the written sections." }
        }
    }
}

fn contributors(view: &View) -> Markup {
    let record = view.record;
    // Counted per person: what each wrote, so that the work of writing is visible.
    let mut work: BTreeMap<UserId, (usize, usize, usize, usize)> = BTreeMap::new();
    work.entry(record.incident.created_by).or_default();
    for section in record.postmortem.sections.values() {
        if let Some(author) = section.updated_by {
            work.entry(author).or_default().0 += 1;
        }
    }
    for entry in &record.timeline {
        work.entry(entry.author).or_default().1 += 1;
    }
    for comment in &record.comments {
        work.entry(comment.author).or_default().2 += 1;
    }
    for review in &record.reviews {
        work.entry(review.reviewer).or_default().3 += 1;
    }
    html! {
        ul.contributors #part-contributors data-part="contributors" {
            @for (person, (sections, entries, comments, reviews)) in &work {
                li { strong { (view.name(*person)) }
                    @if *person == record.incident.created_by { " recorded the incident" }
                    @if *sections > 0 { "; last wrote " (sections) " section" @if *sections > 1 { "s" } }
                    @if *entries > 0 { "; added " (entries) " timeline entr" @if *entries > 1 { "ies" } @else { "y" } }
                    @if *comments > 0 { "; left " (comments) " review comment" @if *comments > 1 { "s" } }
                    @if *reviews > 0 { "; reviewer" }
                }
            }
        }
    }
}

/// The `data-lint` attribute that asks the page's script for live blameless-language hints
/// on a text box: the participants' names as JSON.
pub(crate) fn lint_attribute(participants: &[String]) -> String {
    serde_json::to_string(participants).unwrap_or_else(|_| "[]".to_owned())
}

/// Where the script lists the hints for the text box `field`; empty, and so hidden, without
/// JavaScript.
pub(crate) fn lint_hints(field: &str) -> Markup {
    html! {
        div.lint-hints id={ "lint-" (field) } role="status" aria-live="polite" {}
    }
}

/// Offsets from UTC a timeline instant may carry, in the order people look for them.
pub(crate) fn offsets() -> Vec<String> {
    let mut minutes: Vec<i32> = (-12 * 60..=14 * 60).step_by(60).collect();
    minutes.extend([-570, -210, 210, 270, 330, 345, 390, 525, 570, 630, 765]);
    minutes.sort_unstable();
    minutes
        .into_iter()
        .map(|m| {
            let sign = if m < 0 { '-' } else { '+' };
            format!("{sign}{:02}:{:02}", m.abs() / 60, m.abs() % 60)
        })
        .collect()
}

/// A date-and-time field with an explicit offset, so that an instant is never ambiguous.
/// Without JavaScript the offset defaults to UTC; the script picks the browser's own.
pub(crate) fn instant_fields(form: &FormView, label: &str, required: bool) -> Markup {
    let offset = form.value("offset", "+00:00");
    html! {
        fieldset.instant {
            legend { (label) }
            div {
                label for=(form.id("at_local")) { "Date and time" }
                input id=(form.id("at_local")) name="at_local" type="datetime-local" step="1" required[required]
                    value=(form.value("at_local", "")) aria-describedby=(form.error_id("at"));
            }
            div {
                label for=(form.id("offset")) { "Offset from UTC" }
                select.offset id=(form.id("offset")) name="offset" data-user-set=[form.has_chosen_values().then_some("1")] {
                    @for choice in offsets() { option value=(choice) selected[choice == offset] { "UTC" (choice) } }
                }
            }
            (form.error_text("at"))
        }
    }
}

fn timeline_form(view: &View, form: FormView) -> Markup {
    html! {
        form.card method="post" action={ "/incidents/" (view.id()) "/timeline" } #timeline-form {
            h3 { "Add to the timeline" }
            (form.summary())
            (csrf_field(&view.csrf))
            (instant_fields(&form, "When", true))
            p {
                label for=(form.id("text")) { "What happened, was seen or was believed" }
                textarea id=(form.id("text")) name="text" rows="3" required aria-describedby={ (form.error_id("text")) " lint-" (form.id("text")) }
                    data-lint=(lint_attribute(&view.lint_participants)) { (form.value("text", "")) }
                (form.error_text("text"))
                (lint_hints(&form.id("text")))
            }
            p {
                label for=(form.id("actor")) { "Who did it (optional)" }
                input id=(form.id("actor")) name="actor" type="text" value=(form.value("actor", ""));
            }
            p {
                label for=(form.id("marker")) { "Marks" }
                select id=(form.id("marker")) name="marker" aria-describedby=(form.error_id("marker")) {
                    option value="" { "no lifecycle point" }
                    @for marker in Marker::ALL { option value=(marker) selected[form.value("marker", "") == marker.as_str()] { (marker.as_str().replace('_', " ")) } }
                }
                (form.error_text("marker"))
            }
            p {
                label for=(form.id("perspective")) { "Perspective" }
                select id=(form.id("perspective")) name="perspective" {
                    @for p in Perspective::ALL { option value=(p) selected[form.value("perspective", "happened") == p.as_str()] { (p) } }
                }
            }
            p {
                label for=(form.id("source_url")) { "Link to the source (optional)" }
                input id=(form.id("source_url")) name="source_url" type="url" value=(form.value("source_url", "")) aria-describedby=(form.error_id("source_url"));
                (form.error_text("source_url"))
            }
            button type="submit" { "Add entry" }
        }
    }
}

fn factor_form(view: &View, form: FormView) -> Markup {
    html! {
        form.card method="post" action={ "/incidents/" (view.id()) "/factors" } #factor-form {
            h3 { "Add a contributing factor" }
            (form.summary())
            (csrf_field(&view.csrf))
            p {
                label for=(form.id("category")) { "Category" }
                select id=(form.id("category")) name="category" aria-describedby=(form.error_id("category")) {
                    @for category in FactorCategory::ALL { option value=(category) selected[form.value("category", "") == category.as_str()] { (category.label()) } }
                }
                (form.error_text("category"))
            }
            p {
                label for=(form.id("description")) { "Which condition, and how it let the incident happen" }
                textarea id=(form.id("description")) name="description" rows="2" required aria-describedby=(form.error_id("description")) { (form.value("description", "")) }
                (form.error_text("description"))
            }
            p.check {
                input id=(form.id("is_trigger")) name="is_trigger" type="checkbox" value="true" checked[form.ticked("is_trigger", false)];
                label for=(form.id("is_trigger")) { "This is the trigger" }
            }
            button type="submit" { "Add factor" }
        }
    }
}

fn action_form(view: &View, form: FormView) -> Markup {
    html! {
        form.card method="post" action={ "/incidents/" (view.id()) "/actions" } #action-form {
            h3 { "Add an action item" }
            (form.summary())
            (csrf_field(&view.csrf))
            p {
                label for=(form.id("title")) { "What will change" }
                input id=(form.id("title")) name="title" type="text" required value=(form.value("title", "")) aria-describedby=(form.error_id("title"));
                (form.error_text("title"))
            }
            p {
                label for=(form.id("owner")) { "Owner" }
                select id=(form.id("owner")) name="owner" aria-describedby=(form.error_id("owner")) {
                    option value="" { "nobody yet" }
                    @for person in view.people.values() { option value=(person.handle) selected[form.value("owner", "") == person.handle.as_str()] { (person.display_name) " (" (person.handle) ")" } }
                }
                (form.error_text("owner"))
            }
            p {
                label for=(form.id("due_on")) { "Due on" }
                input id=(form.id("due_on")) name="due_on" type="date" value=(form.value("due_on", "")) aria-describedby=(form.error_id("due_on"));
                (form.error_text("due_on"))
            }
            p {
                label for=(form.id("priority")) { "Priority" }
                select id=(form.id("priority")) name="priority" {
                    @for priority in Priority::ALL { option value=(priority) selected[form.value("priority", "p2") == priority.as_str()] { (priority) } }
                }
            }
            p {
                label for=(form.id("kind")) { "Kind" }
                select id=(form.id("kind")) name="kind" aria-describedby=(form.error_id("kind")) {
                    @for kind in ActionKind::ALL { option value=(kind) selected[form.value("kind", "prevent") == kind.as_str()] { (kind) } }
                }
                (form.error_text("kind"))
            }
            @if !view.record.factors.is_empty() {
                fieldset {
                    legend { "Factors it addresses" }
                    @for factor in &view.record.factors {
                        @let value = factor.id.to_string();
                        p.check {
                            input id={ "action-factor-" (factor.id) } name="factor_ids" type="checkbox" value=(value)
                                checked[form.refused().is_some_and(|p| p.fields.all("factor_ids").contains(&value))];
                            label for={ "action-factor-" (factor.id) } { (factor.category.label()) ": " (factor.description) }
                        }
                    }
                }
            }
            p {
                label for=(form.id("verification")) { "How we will know it changed the system (optional)" }
                input id=(form.id("verification")) name="verification" type="text" value=(form.value("verification", ""));
            }
            button type="submit" { "Add action item" }
        }
    }
}

/// The moves the reader may make from the current status, each as its own small form.
fn workflow_forms(view: &View, problem: Option<&Problem>) -> Markup {
    let status = view.record.postmortem.status;
    let role = view.user.role;
    let reviewers: Vec<&User> = view
        .people
        .values()
        .filter(|u| u.role.can_review())
        .collect();
    let action = format!("/incidents/{}/transitions", view.id());
    let form = FormView::of("transition", problem);
    let comment = FormView::of("comment", problem);
    let next = status.next();
    html! {
        (form.summary())
        @if role.can_write() {
            @if next.contains(&PostmortemStatus::Draft) && status != PostmortemStatus::InReview {
                form.inline method="post" action=(action) {
                    (csrf_field(&view.csrf))
                    input type="hidden" name="to" value="draft";
                    button type="submit" { @if status == PostmortemStatus::Published { "Reopen as a draft" } @else { "Start the draft" } }
                }
            }
            @if next.contains(&PostmortemStatus::InReview) {
                form.card method="post" action=(action) #request-review {
                    h3 { "Request review" }
                    (csrf_field(&view.csrf))
                    input type="hidden" name="to" value="in_review";
                    @if reviewers.is_empty() {
                        p.muted { "Nobody has the reviewer role yet; an admin can give it." }
                    } @else {
                        fieldset {
                            legend { "Reviewers" }
                            @for reviewer in &reviewers {
                                p.check {
                                    input id={ "reviewer-" (reviewer.id) } name="reviewers" type="checkbox" value=(reviewer.handle)
                                        checked[match form.refused() {
                                            Some(p) => p.fields.all("reviewers").contains(&reviewer.handle.to_string()),
                                            // Asking again after changes goes to the same people by default.
                                            None => view.record.reviews.iter().any(|r| r.reviewer == reviewer.id),
                                        }];
                                    label for={ "reviewer-" (reviewer.id) } { (reviewer.display_name) " (" (reviewer.role) ")" }
                                }
                            }
                            (form.error_text("reviewers"))
                        }
                        button type="submit" { "Request review" }
                    }
                }
            }
            @if role.can_review() && status == PostmortemStatus::InReview {
                form.card method="post" action=(action) #decide {
                    h3 { "Your review" }
                    (csrf_field(&view.csrf))
                    p {
                        label for="decide-comment" { "Comment for the authors (optional)" }
                        textarea #decide-comment name="comment" rows="2" { (form.value("comment", "")) }
                    }
                    button type="submit" name="to" value="approved" { "Approve" }
                    " "
                    button type="submit" name="to" value="changes_requested" { "Request changes" }
                }
            }
            @if next.contains(&PostmortemStatus::Published) {
                form.card method="post" action=(action) #publish {
                    h3 { "Publish" }
                    p.muted { "Publishing checks that summary and impact are written, the timeline marks detection and resolution, a contributing factor besides the trigger is named, and every action item has an owner and a due date." }
                    (csrf_field(&view.csrf))
                    input type="hidden" name="to" value="published";
                    @if view.blame_findings > 0 {
                        p.check {
                            input #confirm-findings name="confirm_findings" type="checkbox" value="true"
                                aria-describedby="blame-findings" checked[form.ticked("confirm_findings", false)];
                            label for="confirm-findings" { "Publish although " (view.blame_findings) " passage"
                                @if view.blame_findings > 1 { "s" } " may still read as blame" }
                        }
                    }
                    button type="submit" { "Publish" }
                }
            }
            @if role.can_review() && next.contains(&PostmortemStatus::NotRequired) {
                form.card method="post" action=(action) #waive {
                    h3 { "Waive the post-mortem" }
                    (csrf_field(&view.csrf))
                    input type="hidden" name="to" value="not_required";
                    p {
                        label for="waive-comment" { "Why no post-mortem is needed" }
                        textarea #waive-comment name="comment" rows="2" required aria-describedby="transition-comment-error" { }
                        (form.error_text("comment"))
                    }
                    button type="submit" { "Waive" }
                }
            }
            @if next.contains(&PostmortemStatus::Owed) {
                form.inline method="post" action=(action) {
                    (csrf_field(&view.csrf))
                    input type="hidden" name="to" value="owed";
                    button type="submit" { "Mark a post-mortem as owed" }
                }
            }
        }
        @if role.can_review() {
            form.card method="post" action={ "/incidents/" (view.id()) "/comments" } #comment-form {
                h3 { "Comment on a section" }
                (comment.summary())
                (csrf_field(&view.csrf))
                p {
                    label for=(comment.id("section")) { "Section" }
                    select id=(comment.id("section")) name="section" {
                        @for section in &view.template.sections { option value=(section.name) selected[comment.value("section", "") == section.name.as_str()] { (section.title) } }
                    }
                }
                p {
                    label for=(comment.id("body")) { "Comment" }
                    textarea id=(comment.id("body")) name="body" rows="3" required aria-describedby=(comment.error_id("body")) { (comment.value("body", "")) }
                    (comment.error_text("body"))
                }
                button type="submit" { "Add comment" }
            }
        }
        @if role == Role::Viewer { p.muted { "You can read this incident; writing needs the contributor role." } }
    }
}

/// The closest earlier incidents the reader may see. Search is a help here, not a
/// requirement: when the index is off or fails, the page shows without them.
async fn similar_incidents(
    state: &AppState,
    viewer: postmortem_search::Viewer,
    id: IncidentId,
) -> Vec<postmortem_search::SimilarIncident> {
    let Some(index) = state.search.clone() else {
        return Vec::new();
    };
    let cache = state.similar.clone();
    match tokio::task::spawn_blocking(move || cache.get_or_compute(&index, id, &viewer, 5)).await {
        Ok(Ok(similar)) => similar,
        Ok(Err(error)) => {
            tracing::warn!(%error, incident = %id, "similar incidents unavailable");
            Vec::new()
        }
        Err(error) => {
            tracing::warn!(%error, "similar incidents task failed");
            Vec::new()
        }
    }
}

/// Who may see a restricted incident, with the forms to name people on it or take them off.
fn members(view: &View, problem: Option<&Problem>) -> Markup {
    let record = view.record;
    let id = record.incident.id;
    let named = &record.members;
    let candidates: Vec<&User> = view
        .people
        .values()
        .filter(|p| p.id != record.incident.created_by && !named.contains(&p.id))
        .collect();
    let form = FormView::of("member", problem);
    html! {
        section aria-labelledby="members-heading" #members {
            h2 #members-heading { "Who may see it" }
            p { "Besides admins: " (view.name(record.incident.created_by)) ", who recorded it"
                @if !record.incident.teams.is_empty() {
                    ", the members of "
                    @for (n, team) in record.incident.teams.iter().enumerate() {
                        @if n > 0 { ", " } a href={ "/teams/" (team) } { (team) }
                    }
                }
                @if named.is_empty() { "." } @else { ", and the people named here:" }
            }
            @if !named.is_empty() {
                ul { @for person in named { li {
                    (view.name(*person))
                    @if view.manage_members { @if let Some(user) = view.people.get(person) {
                        " "
                        form.inline method="post" action={ "/incidents/" (id) "/members/" (user.handle) "/remove" } {
                            (csrf_field(&view.csrf))
                            button type="submit" { "Take " (user.display_name) " off this incident" }
                        }
                    } }
                } } }
            }
            @if view.manage_members && !candidates.is_empty() {
                form method="post" action={ "/incidents/" (id) "/members" } {
                    (form.summary())
                    (csrf_field(&view.csrf))
                    p { label for=(form.id("handle")) { "Name a person on this incident" }
                        select id=(form.id("handle")) name="handle" required {
                            @for person in &candidates { option value=(person.handle) selected[form.value("handle", "") == person.handle.as_str()] { (person.display_name) " (" (person.handle) ")" } }
                        } }
                    button type="submit" { "Name them" }
                }
            }
        }
    }
}

fn similar_list(view: &View<'_>) -> Markup {
    html! {
        @if view.similar.is_empty() {
            p.muted { "No earlier incident looks like this one yet." }
        } @else {
            ul.similar {
                @for similar in &view.similar {
                    li {
                        a href={ "/incidents/" (similar.incident_id) } { (similar.title) }
                        " " span.muted { "(" (similar.reason) ")" }
                    }
                }
            }
        }
    }
}
