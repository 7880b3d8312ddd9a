//! The forms that add, correct and remove what an incident is made of — timeline entries,
//! contributing factors and action items — and the handlers they post to. A correction
//! form sits under its item in a disclosure, opened again with what was typed when refused;
//! every handler calls the same [`Service`] function as the API.

use super::forms::{Fields, FormView, Problem, csrf_field};
use super::incident::{View, instant_fields, lint_attribute, lint_hints};
use super::words::Words;
use maud::{Markup, html};
use postmortem_core::{
    ActionItem, ActionKind, ActionStatus, ContributingFactor, FactorCategory, Marker, Perspective,
    Priority, TimelineEntry, format_date,
};

/// What a form writes: a new item, or a correction of the item with this id.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    New,
    Item(i64),
}

/// The current values of a timeline entry, as its correction form shows them.
fn entry_fields(entry: &TimelineEntry) -> Fields {
    let local = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    let offset = time::macros::format_description!("[offset_hour sign:mandatory]:[offset_minute]");
    let mut fields = vec![
        (
            "at_local".to_owned(),
            entry.at.format(local).unwrap_or_default(),
        ),
        (
            "offset".to_owned(),
            entry.at.offset().format(offset).unwrap_or_default(),
        ),
        ("text".to_owned(), entry.text.as_str().to_owned()),
        ("actor".to_owned(), entry.actor.clone().unwrap_or_default()),
        (
            "marker".to_owned(),
            entry
                .marker
                .map(|m| m.as_str().to_owned())
                .unwrap_or_default(),
        ),
        (
            "perspective".to_owned(),
            entry.perspective.as_str().to_owned(),
        ),
        (
            "source_url".to_owned(),
            entry
                .source_url
                .as_ref()
                .map(|u| u.as_str().to_owned())
                .unwrap_or_default(),
        ),
    ];
    fields.retain(|(_, v)| !v.is_empty());
    Fields(fields)
}

fn factor_fields(factor: &ContributingFactor) -> Fields {
    let mut fields = vec![
        ("category".to_owned(), factor.category.as_str().to_owned()),
        (
            "description".to_owned(),
            factor.description.as_str().to_owned(),
        ),
    ];
    if factor.is_trigger {
        fields.push(("is_trigger".to_owned(), "true".to_owned()));
    }
    Fields(fields)
}

fn action_fields(view: &View, action: &ActionItem) -> Fields {
    let mut fields = vec![
        ("title".to_owned(), action.title.to_string()),
        ("priority".to_owned(), action.priority.as_str().to_owned()),
        ("kind".to_owned(), action.kind.as_str().to_owned()),
        ("status".to_owned(), action.status.as_str().to_owned()),
    ];
    if let Some(owner) = action.owner.and_then(|o| view.people.get(&o)) {
        fields.push(("owner".to_owned(), owner.handle.to_string()));
    }
    if let Some(due_on) = action.due_on {
        fields.push(("due_on".to_owned(), format_date(due_on)));
    }
    if let Some(reason) = &action.wont_do_reason {
        fields.push(("wont_do_reason".to_owned(), reason.clone()));
    }
    if let Some(verification) = &action.verification {
        fields.push(("verification".to_owned(), verification.clone()));
    }
    Fields(fields)
}

/// A correction disclosure under an item: the form to change it and the button to remove it.
/// It opens by itself when its form was just refused, so nothing typed is hidden.
fn correction(
    summary: &str,
    form: &FormView,
    edit: Markup,
    remove_path: String,
    what: &str,
    view: &View,
) -> Markup {
    html! {
        details.correct open[form.refused().is_some()] {
            summary { (summary) }
            (edit)
            form.inline.remove method="post" action=(remove_path) {
                (csrf_field(&view.csrf))
                button.danger type="submit" { "Remove " (what) }
            }
        }
    }
}

/// Under a timeline entry: correct it or remove it.
pub(crate) fn timeline_correction(
    view: &View,
    entry: &TimelineEntry,
    problem: Option<&Problem>,
) -> Markup {
    let defaults = entry_fields(entry);
    let item = entry.id.get();
    let form = FormView::for_item("timeline-edit", item, problem, &defaults);
    let base = format!("/incidents/{}/timeline/{item}", view.id());
    correction(
        "Correct or remove",
        &form,
        timeline_form(view, &form, Target::Item(item)),
        format!("{base}/remove"),
        "this entry",
        view,
    )
}

pub(crate) fn factor_correction(
    view: &View,
    factor: &ContributingFactor,
    problem: Option<&Problem>,
) -> Markup {
    let defaults = factor_fields(factor);
    let item = factor.id.get();
    let form = FormView::for_item("factor-edit", item, problem, &defaults);
    let base = format!("/incidents/{}/factors/{item}", view.id());
    correction(
        "Correct or remove",
        &form,
        factor_form(view, &form, Target::Item(item)),
        format!("{base}/remove"),
        "this factor",
        view,
    )
}

pub(crate) fn action_correction(
    view: &View,
    action: &ActionItem,
    problem: Option<&Problem>,
) -> Markup {
    let defaults = action_fields(view, action);
    let item = action.id.get();
    let form = FormView::for_item("action-edit", item, problem, &defaults);
    let base = format!("/incidents/{}/actions/{item}", view.id());
    correction(
        "Change, mark done or remove",
        &form,
        action_form(view, &form, Target::Item(item)),
        format!("{base}/remove"),
        "this action item",
        view,
    )
}

fn target_path(view: &View, collection: &str, target: Target) -> String {
    match target {
        Target::New => format!("/incidents/{}/{collection}", view.id()),
        Target::Item(item) => format!("/incidents/{}/{collection}/{item}", view.id()),
    }
}

pub(crate) fn timeline_form(view: &View, form: &FormView, target: Target) -> Markup {
    let new = matches!(target, Target::New);
    html! {
        form.card method="post" action=(target_path(view, "timeline", target)) id=[new.then_some("timeline-form")] {
            @if new { h3 { "Add to the timeline" } }
            (form.summary())
            (csrf_field(&view.csrf))
            (instant_fields(form, "When", true))
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
                    @for marker in Marker::ALL { option value=(marker) selected[form.value("marker", "") == marker.as_str()] { (marker.words()) } }
                }
                (form.error_text("marker"))
            }
            p {
                label for=(form.id("perspective")) { "Perspective" }
                select id=(form.id("perspective")) name="perspective" {
                    @for p in Perspective::ALL { option value=(p) selected[form.value("perspective", "happened") == p.as_str()] { (p.words()) } }
                }
            }
            p {
                label for=(form.id("source_url")) { "Link to the source (optional)" }
                input id=(form.id("source_url")) name="source_url" type="url" value=(form.value("source_url", "")) aria-describedby=(form.error_id("source_url"));
                (form.error_text("source_url"))
            }
            button type="submit" { @if new { "Add entry" } @else { "Save the correction" } }
        }
    }
}

pub(crate) fn factor_form(view: &View, form: &FormView, target: Target) -> Markup {
    let new = matches!(target, Target::New);
    let this = match target {
        Target::Item(item) => Some(item),
        Target::New => None,
    };
    // An incident has one trigger: while another factor is the trigger, ticking the box says
    // plainly that this one takes its place.
    let current_trigger = view
        .record
        .factors
        .iter()
        .find(|f| f.is_trigger && Some(f.id.get()) != this);
    html! {
        form.card method="post" action=(target_path(view, "factors", target)) id=[new.then_some("factor-form")] {
            @if new { h3 { "Add a contributing factor" } }
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
                input id=(form.id("is_trigger")) name="is_trigger" type="checkbox" value="true" checked[form.ticked("is_trigger", false)] aria-describedby=(form.error_id("is_trigger"));
                @match current_trigger {
                    Some(trigger) => {
                        input type="hidden" name="replace_trigger" value="true";
                        label for=(form.id("is_trigger")) { "Make this the trigger instead of “" (postmortem_app::first_words(trigger.description.as_str())) "” (that one stays as a condition)" }
                    }
                    None => label for=(form.id("is_trigger")) { "This is the trigger" },
                }
            }
            (form.error_text("is_trigger"))
            button type="submit" { @if new { "Add factor" } @else { "Save the correction" } }
        }
    }
}

pub(crate) fn action_form(view: &View, form: &FormView, target: Target) -> Markup {
    let new = matches!(target, Target::New);
    html! {
        form.card method="post" action=(target_path(view, "actions", target)) id=[new.then_some("action-form")] {
            @if new { h3 { "Add an action item" } }
            (form.summary())
            (csrf_field(&view.csrf))
            p {
                label for=(form.id("title")) { "What will change" }
                input id=(form.id("title")) name="title" type="text" required value=(form.value("title", "")) aria-describedby=(form.error_id("title"));
                (form.error_text("title"))
            }
            @if new {
                p.hint #action-form-needs { "Before the post-mortem can be published, each item needs an owner and a due date (or is marked won't do with a reason)." }
            }
            p {
                label for=(form.id("owner")) { "Owner" }
                select id=(form.id("owner")) name="owner" aria-describedby=(form.error_id("owner")) {
                    option value="" { "nobody yet (needed before publishing)" }
                    @for person in view.people.values() { option value=(person.handle) selected[form.value("owner", "") == person.handle.as_str()] { (person.display_name) } }
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
                select id=(form.id("priority")) name="priority" aria-describedby=(form.error_id("priority")) {
                    @for priority in Priority::ALL { option value=(priority) selected[form.value("priority", "p2") == priority.as_str()] { (priority.words()) } }
                }
                (form.error_text("priority"))
            }
            p {
                label for=(form.id("kind")) { "What it does" }
                select id=(form.id("kind")) name="kind" aria-describedby=(form.error_id("kind")) {
                    @for kind in ActionKind::ALL { option value=(kind) selected[form.value("kind", "prevent") == kind.as_str()] { (kind.words()) } }
                }
                (form.error_text("kind"))
            }
            @if new && !view.record.factors.is_empty() {
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
            @if !new {
                p {
                    label for=(form.id("status")) { "Where it stands" }
                    select id=(form.id("status")) name="status" aria-describedby=(form.error_id("status")) {
                        @for status in ActionStatus::ALL { option value=(status) selected[form.value("status", "open") == status.as_str()] { (status.words()) } }
                    }
                    (form.error_text("status"))
                }
                p {
                    label for=(form.id("wont_do_reason")) { "Why it will not be done (needed for won't do)" }
                    input id=(form.id("wont_do_reason")) name="wont_do_reason" type="text" value=(form.value("wont_do_reason", "")) aria-describedby=(form.error_id("wont_do_reason"));
                    (form.error_text("wont_do_reason"))
                }
            }
            p {
                label for=(form.id("verification")) {
                    @if new { "How we will know it changed the system (optional)" }
                    @else { "How do we know it changed the system? (needed to mark it done)" }
                }
                input id=(form.id("verification")) name="verification" type="text" value=(form.value("verification", "")) aria-describedby=(form.error_id("verification"));
                (form.error_text("verification"))
            }
            button type="submit" { @if new { "Add action item" } @else { "Save the changes" } }
        }
    }
}
