//! The incident page at `/incidents/{id}`: the facts, the post-mortem, the timeline,
//! contributing factors, action items, reviews and comments, who contributed what, and the
//! forms to add to each. Parts that change while people watch are also served alone as
//! fragments, which the page's script swaps in when the live event stream says they changed.
//!
//! Over 900 lines: the page's parts share one `View` (the record, the reader's permissions,
//! the refused form) and the fragment renderers the live updates call; the parts already live
//! in `items.rs`, `changes.rs` and `markdown.rs`, and the review and comments part is the next
//! to move out when the page grows.

use super::forms::{FormView, Problem, csrf_field, csrf_token};
use super::items::{self, Target};
use super::words::Words;
use super::{layout, markdown};
use crate::auth::PageUser;
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use postmortem_app::{
    BlameSummary, PlacedComment, blame_summary, first_words, lint_participants, may_edit_action,
    place_comments,
};
use postmortem_core::{
    ActionStatus, Anchoring, IncidentId, MarkerTimes, PostmortemStatus, Role, Template, User,
    UserId,
};
use postmortem_markdown::passages::Mark;
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
    /// `warning` or above (publishing asks for confirmation while any remain), and how many
    /// sentences put a person at the centre of a failure.
    pub blame: BlameSummary,
    /// The names the checker takes for people, for the live hints of the timeline form.
    pub lint_participants: Vec<String>,
    /// Whether the reader may read the incident's history (admins and its members).
    pub may_read_history: bool,
    /// Whether the reader may name people on the incident or take them off.
    pub manage_members: bool,
    /// Deploys to its services before it started (empty in fragments).
    pub changes: Vec<postmortem_app::ChangeBefore>,
}

impl View<'_> {
    pub(crate) fn id(&self) -> IncidentId {
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
    let service = state.app.acting_for(user);
    let record = match service
        .incident(IncidentId::new(id))
        .await
        .map_err(ApiError::from)
    {
        Ok(record) => record,
        Err(error) if error.status == StatusCode::NOT_FOUND => return Ok(not_found(user, id)),
        Err(error) => return Err(error),
    };
    let people = service.people().await?;
    // The person as search sees them, with their teams: asked for once, used twice.
    let viewer = crate::api::viewer(state, user).await?;
    let similar = similar_incidents(state, viewer.clone(), record.incident.id).await;
    let manage_members = service.may_manage_members(&record).await?;
    let changes = service.changes_before(record.incident.id, None).await?;
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
        blame: count_blame_findings(state, &record),
        lint_participants: lint_participants(&record),
        may_read_history: postmortem_app::audit::may_read_history(
            state.store.as_ref(),
            user,
            &viewer,
            &record,
        )
        .await?,
        manage_members,
        changes,
    };
    let status = problem.as_ref().map_or(StatusCode::OK, |p| p.status);
    let body = whole_page(&view, problem.as_ref());
    Ok((
        status,
        layout(record.incident.title.as_str(), Some(user), body),
    )
        .into_response())
}

/// What the review area counts, computed once per incident version.
fn count_blame_findings(state: &AppState, record: &IncidentRecord) -> BlameSummary {
    let id = record.incident.id;
    let version = record.incident.version;
    if let Some((counted_at, summary)) = state.blame_counts.get(&id)
        && counted_at == version
    {
        return summary;
    }
    let summary = blame_summary(state.app.rules(), record);
    state.blame_counts.insert(id, (version, summary));
    summary
}

/// One part of the page alone, for the live script to swap in.
pub(crate) async fn fragment(
    State(state): State<AppState>,
    PageUser(user): PageUser,
    Path((id, part)): Path<(i64, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let service = state.app.acting_for(&user);
    let record = match service
        .incident(IncidentId::new(id))
        .await
        .map_err(ApiError::from)
    {
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
        blame: count_blame_findings(&state, &record),
        lint_participants: lint_participants(&record),
        // The history link sits outside every fragment.
        may_read_history: false,
        // The fragments do not hold the members' forms.
        manage_members: false,
        changes: Vec::new(),
    };
    let markup = match part.as_str() {
        "facts" => facts(&view),
        "sections" => sections(&view),
        "timeline" => timeline(&view, None),
        "factors" => factors(&view, None),
        "actions" => actions(&view, None),
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
            p { a href={ "/incidents/" (incident.id) "/external" } { "External version for customers" } }
            p.live-status role="status" aria-live="polite" #live-status {}
            section aria-labelledby="postmortem-heading" {
                h2 #postmortem-heading { "Post-mortem" }
                @if can_write { p { a.button href={ "/incidents/" (incident.id) "/edit" } { "Edit the sections" } } }
                (sections(view))
            }
            section aria-labelledby="timeline-heading" #timeline {
                h2 #timeline-heading { "Timeline" }
                (timeline(view, problem))
                @if can_write { p { a.button href={ "/incidents/" (incident.id) "/chat" } { "Add messages from chat" } } }
                @if can_write { (items::timeline_form(view, &FormView::of("timeline", problem), Target::New)) }
            }
            (super::changes::panel(view, &view.changes))
            section aria-labelledby="factors-heading" #factors {
                h2 #factors-heading { "Contributing factors" }
                (factors(view, problem))
                @if can_write { (items::factor_form(view, &FormView::of("factor", problem), Target::New)) }
            }
            section aria-labelledby="actions-heading" #actions {
                h2 #actions-heading { "Action items" }
                (actions(view, problem))
                @if can_write { (items::action_form(view, &FormView::of("action", problem), Target::New)) }
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
    }
}

/// An instant as written, in its own offset; the page's script shows it in the reader's zone.
pub(crate) fn instant(at: OffsetDateTime) -> Markup {
    super::words::instant(at)
}

fn facts(view: &View) -> Markup {
    let incident = &view.record.incident;
    let postmortem = &view.record.postmortem;
    let markers = MarkerTimes::from_entries(&view.record.timeline);
    // Each duration runs from the impact's start to a later mark; say which one is missing.
    let minutes = |d: Option<time::Duration>, end: Option<OffsetDateTime>, end_name: &str| match d {
        Some(d) => format!("{} min", d.whole_minutes()),
        None if markers.impact_start.is_none() && end.is_some() => {
            "not known: no timeline entry marks when the impact started".to_owned()
        }
        None if markers.impact_start.is_none() => {
            format!(
                "not known: the timeline marks neither the impact's start nor when it was {end_name}"
            )
        }
        None => format!("not known: no timeline entry marks when it was {end_name}"),
    };
    html! {
        dl.facts #part-facts data-part="facts" {
            dt { "Severity" } dd { span class={ "badge sev" (incident.severity.level()) } { (incident.severity) } }
            dt { "Kind" } dd { (incident.kind.words()) }
            dt { "Services" } dd { @for (n, s) in incident.services.iter().enumerate() { @if n > 0 { ", " } (s) } }
            dt { "Teams" } dd { @if incident.teams.is_empty() { span.muted { "none named" } } @for (n, t) in incident.teams.iter().enumerate() { @if n > 0 { ", " } (t) } }
            dt { "Started" } dd { @if let Some(at) = incident.started_at { (instant(at)) } @else { "not recorded" } }
            dt { "Customer impact" } dd { (impact_words(&incident.impact)) }
            dt { "Time to detect" } dd { (minutes(markers.time_to_detect(), markers.detected, "detected")) }
            dt { "Time to mitigate" } dd { (minutes(markers.time_to_mitigate(), markers.mitigated, "mitigated")) }
            dt { "Time to resolve" } dd { (minutes(markers.time_to_resolve(), markers.resolved, "resolved")) }
            dt { "Post-mortem" } dd { strong { (status_label(postmortem.status)) } " (" (postmortem.template) " template)"
                @if let Some(due_on) = postmortem.due_on { @if postmortem.status.is_owed_work() { ", due " (super::words::day(due_on)) } } }
            @if let Some(decision) = &view.record.decision {
                dt { "Policy" } dd { "a post-mortem is " (decision.decision.words()) ": " (decision.reasons.join("; ")) }
            }
        }
    }
}

pub(crate) fn status_label(status: PostmortemStatus) -> String {
    status.words().to_owned()
}

/// The impact as recorded; an impact nobody entered reads "not recorded", not "0 min".
fn impact_words(impact: &postmortem_core::Impact) -> String {
    let mut parts = Vec::new();
    if impact.customer_minutes > 0 {
        parts.push(format!("{} customer-minutes", impact.customer_minutes));
    }
    if impact.customers_affected > 0 {
        parts.push(format!("{} customers affected", impact.customers_affected));
    }
    if impact.user_visible {
        parts.push("visible to users".to_owned());
    }
    if impact.data_loss {
        parts.push("data lost".to_owned());
    }
    if impact.manual_intervention {
        parts.push("needed manual intervention".to_owned());
    }
    if parts.is_empty() {
        "not recorded".to_owned()
    } else {
        parts.join(", ")
    }
}

fn sections(view: &View) -> Markup {
    let postmortem = &view.record.postmortem;
    let placed = place_comments(view.record);
    html! {
        div #part-sections data-part="sections" {
            @if !view.record.revisions.is_empty() {
                ul.revisions aria-label="Revisions after publication" {
                    @for revision in view.record.revisions.iter().rev() {
                        li { strong { "Revised on " (super::words::day(revision.revised_at.date())) } ": " (revision.note)
                            span.muted { " — "
                                @if let Some(by) = revision.revised_by { (view.name(by)) ", " }
                                (instant(revision.revised_at)) } }
                    }
                }
            }
            @for section in &view.template.sections {
                @let written = postmortem.sections.get(&section.name).filter(|s| !s.body.is_blank());
                @let comments: Vec<&PlacedComment> = placed.iter().filter(|p| p.comment.section == section.name).collect();
                @let open_comments = comments.iter().filter(|p| !p.comment.resolved).count();
                section.pm-section aria-labelledby={ "s-" (section.name) } {
                    h3 id={ "s-" (section.name) } { (section.title)
                        @if open_comments > 0 { " " a.badge href={ "#comments-" (section.name) } { (open_comments) " open comment" @if open_comments > 1 { "s" } } } }
                    div class={ "section-with-comments" @if !comments.is_empty() { " has-comments" } } {
                        div.section-main {
                            @match written {
                                Some(written) => {
                                    div.section-text data-section=(section.name) {
                                        (markdown::render_marked(written.body.as_str(), &passage_marks(&comments)))
                                    }
                                    @if let Some(author) = written.updated_by {
                                        p.muted.byline { "Last written by " (view.name(author))
                                            @if let Some(at) = written.updated_at { ", " (instant(at)) } }
                                    }
                                }
                                None => p.muted { em { (section.question) } },
                            }
                        }
                        @if !comments.is_empty() {
                            (section_comments(view, &section.title, &section.name, &comments))
                        }
                    }
                }
            }
        }
    }
}

/// The passages open comments are about, to mark in the section's text.
fn passage_marks(comments: &[&PlacedComment]) -> Vec<Mark> {
    comments
        .iter()
        .filter(|p| !p.comment.resolved)
        .filter_map(|p| {
            let range = p.anchoring.as_ref()?.range()?;
            Some(Mark {
                range,
                comment: p.comment.id.get(),
            })
        })
        .collect()
}

/// The review comments on one section, beside its text: each with the passage it is about
/// (a link to the marked words, or the words it quoted when they are gone) and its resolve or
/// reopen button where it stands.
pub(crate) fn section_comments(
    view: &View,
    title: &str,
    section: &postmortem_core::SectionName,
    comments: &[&PlacedComment],
) -> Markup {
    let can_write = view.user.role.can_write();
    html! {
        aside.section-comments id={ "comments-" (section) } aria-label={ "Comments on " (title) } {
            ol.comments {
                @for placed in comments {
                    @let comment = placed.comment;
                    @let outdated = matches!(placed.anchoring, Some(Anchoring::Outdated));
                    li id={ "comment-" (comment.id) } class={ "comment" @if comment.resolved { " resolved" } @if outdated { " outdated" } } {
                        @if let (Some(quote), Some(anchoring)) = (&comment.quote, &placed.anchoring) {
                            @match anchoring {
                                Anchoring::Exact(_) => {
                                    p.quote { "On " a href={ "#passage-" (comment.id) } { "“" (first_words(placed.passage.as_deref().unwrap_or(quote.exact()))) "”" } }
                                }
                                Anchoring::Moved(_) => {
                                    p.quote { "On " a href={ "#passage-" (comment.id) } { "“" (first_words(placed.passage.as_deref().unwrap_or(quote.exact()))) "”" } }
                                    p.muted.small { "The passage was rewritten since; it read “" (quote.exact()) "”." }
                                }
                                Anchoring::Outdated => {
                                    p.quote { span.badge.outdated { "outdated" } " It was about “" (quote.exact()) "”, which is no longer in the text." }
                                }
                            }
                        } @else {
                            p.quote.muted { "On the whole section" }
                        }
                        p.byline { strong { (view.name(comment.author)) } ", " (instant(comment.created_at))
                            @if comment.resolved { " " span.badge { "resolved" } } }
                        (markdown::render(comment.body.as_str()))
                        @if can_write {
                            @let verb = if comment.resolved { "reopen" } else { "resolve" };
                            form.inline method="post" action={ "/incidents/" (view.id()) "/comments/" (comment.id) "/" (verb) } {
                                (csrf_field(&view.csrf))
                                @if comment.resolved {
                                    button type="submit" { "Reopen comment" }
                                } @else {
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

fn timeline(view: &View, problem: Option<&Problem>) -> Markup {
    let can_write = view.user.role.can_write();
    html! {
        div #part-timeline data-part="timeline" {
            @if view.record.timeline.is_empty() {
                p.muted { "Nothing on the timeline yet. Add what happened, what people saw and what they believed, in order." }
            } @else {
                ol.timeline {
                    @for entry in &view.record.timeline {
                        li class={ "entry " (entry.perspective) } id={ "entry-" (entry.id) } {
                            (instant(entry.at))
                            @if let Some(marker) = entry.marker { " " span.badge.marker { (marker.words()) } }
                            " " span.badge { (entry.perspective.words()) }
                            @if entry.source != postmortem_core::Source::Manual { " " span.badge { (entry.source.words()) } }
                            div.entry-text { (markdown::render(entry.text.as_str())) }
                            p.muted.byline {
                                @if let Some(actor) = &entry.actor { "Done by " (actor) ". " }
                                "Written by " (view.name(entry.author)) "."
                                @if let Some(url) = &entry.source_url { " " a href=(url.as_str()) rel="noopener noreferrer" { "Source" } }
                            }
                            @if can_write { (items::timeline_correction(view, entry, problem)) }
                        }
                    }
                }
            }
        }
    }
}

fn factors(view: &View, problem: Option<&Problem>) -> Markup {
    let can_write = view.user.role.can_write();
    html! {
        div #part-factors data-part="factors" {
            @if view.record.factors.is_empty() {
                p.muted { "No contributing factors yet. Which conditions let the trigger bite?" }
            } @else {
                ul.factors {
                    @for factor in &view.record.factors {
                        li id={ "factor-" (factor.id) } {
                            strong { (factor.category.label()) } @if factor.is_trigger { " " span.badge.trigger { "the trigger" } } ": "
                            (markdown::render(factor.description.as_str()))
                            @if can_write { (items::factor_correction(view, factor, problem)) }
                        }
                    }
                }
            }
        }
    }
}

/// How an action item stands, in words and a look of its own: done and verified, done but
/// not yet verified, won't do (with why), open or in progress.
fn action_state(action: &postmortem_core::ActionItem) -> Markup {
    html! {
        @match (action.status, &action.verification) {
            (ActionStatus::Done, Some(_)) => span.badge.state-verified { "done and verified" },
            (ActionStatus::Done, None) => span.badge.state-done { "done, not verified" },
            (ActionStatus::WontDo, _) => span.badge.state-wont-do { "won't do" },
            (status, _) => span class={ "badge state-" (status) } { (status.words()) },
        }
    }
}

fn actions(view: &View, problem: Option<&Problem>) -> Markup {
    let today = view.today;
    html! {
        div #part-actions data-part="actions" {
            @if view.record.actions.is_empty() {
                p.muted { "No action items yet." }
            } @else {
                ul.actions {
                    @for action in &view.record.actions {
                        @let owes = action.status != ActionStatus::WontDo && (action.owner.is_none() || action.due_on.is_none());
                        li class={ "action state-" (action.status) } id={ "action-" (action.id) } {
                            p.action-title { strong { (action.title) } " " (action_state(action))
                                @if action.is_overdue(today) { " " span.badge.overdue { "overdue" } }
                                @if let Some(url) = &action.external_url { " " a href=(url.as_str()) rel="noopener noreferrer" { "ticket" } } }
                            p.muted.action-facts {
                                (action.kind.words()) " · " (action.priority.words()) " · "
                                @match action.owner { Some(owner) => { "owner " (view.name(owner)) }, None => span.needs { "no owner yet" } }
                                " · "
                                @match action.due_on { Some(due_on) => { "due " (super::words::day(due_on)) }, None => span.needs { "no due date yet" } }
                            }
                            @if owes {
                                p.needs-note { "Needs an owner and a due date before the post-mortem can be published, or mark it won't do with a reason." }
                            }
                            @if let Some(reason) = &action.wont_do_reason { @if action.status == ActionStatus::WontDo { p { "Won't do, because: " (reason) } } }
                            @if let Some(note) = &action.verification { p { "How we know it changed the system: " (note) } }
                            @if may_edit_action(view.user, view.record, action) { (items::action_correction(view, action, problem)) }
                        }
                    }
                }
            }
        }
    }
}

fn review(view: &View) -> Markup {
    let record = view.record;
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
                            strong { (review.decision.words()) }
                            @if let Some(comment) = &review.comment { " — " (comment) }
                        }
                    }
                }
            }
            h3 { "Comments" }
            @if record.comments.is_empty() { p.muted { "No review comments." } }
            @else {
                @let open = record.comments.iter().filter(|c| !c.resolved).count();
                p { (open) " open, " (record.comments.len() - open) " resolved. Each shows beside the text it is about:" }
                ul.comment-sections {
                    @for section in &view.template.sections {
                        @let on_section: Vec<_> = record.comments.iter().filter(|c| c.section == section.name).collect();
                        @if !on_section.is_empty() {
                            @let open_here = on_section.iter().filter(|c| !c.resolved).count();
                            li { a href={ "#comments-" (section.name) } { "On " (section.title) } ": " (open_here) " open of " (on_section.len()) }
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
    let count = view.blame.warnings;
    let centred = view.blame.person_centred;
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
        @if centred > 0 {
            p #person-centred {
                strong { (centred) " sentence" @if centred > 1 { "s" } }
                @if centred > 1 { " put" } @else { " puts" }
                " a person at the centre of a failure (counting the checker's advice as well as its warnings)."
            }
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
                                    label for={ "reviewer-" (reviewer.id) } { (reviewer.display_name) " (" (reviewer.role.words()) ")" }
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
                    @if view.blame.warnings > 0 {
                        p.check {
                            input #confirm-findings name="confirm_findings" type="checkbox" value="true"
                                aria-describedby="blame-findings" checked[form.ticked("confirm_findings", false)];
                            label for="confirm-findings" { "Publish although " (view.blame.warnings) " passage"
                                @if view.blame.warnings > 1 { "s" } " may still read as blame" }
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
                    label for=(comment.id("quote")) { "The words it is about (optional)" }
                    input id=(comment.id("quote")) name="quote" type="text" value=(comment.value("quote", "")) aria-describedby={ (comment.id("quote")) "-hint " (comment.error_id("quote.exact")) };
                    span.hint id={ (comment.id("quote")) "-hint" } { "Copy them from the section, or select them in the text above and choose “Comment on the selection”. Leave it empty to comment on the whole section." }
                    (comment.error_text("quote.exact"))
                    input type="hidden" name="quote_prefix" value=(comment.value("quote_prefix", ""));
                    input type="hidden" name="quote_suffix" value=(comment.value("quote_suffix", ""));
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
                            @for person in &candidates { option value=(person.handle) selected[form.value("handle", "") == person.handle.as_str()] { (person.display_name) } }
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
                        " " span.muted { "(" (super::words::similar_reason(similar, view.record)) ")" }
                    }
                }
            }
        }
    }
}
