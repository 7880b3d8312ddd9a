//! Writes a [`Document`] as a Markdown file: front matter, the title, the sections in template
//! order, then the timeline, the factors and the action items. The output is deterministic, so
//! exporting twice gives the same bytes and a round trip can be checked byte for byte.

use crate::syntax::{
    ACTIONS, DOT, FACTORS, FORMAT, FrontMatter, PolicyMatter, ReviewMatter, TIMELINE, humanize,
    quote, tidy,
};
use crate::{Document, slug_of};
use postmortem_core::{
    ActionStatus, BundleAction, BundleTimelineEntry, IncidentBundle, NewFactor, SectionName,
    Templates, format_date, format_instant,
};
use std::fmt::Write;

/// The file name of an exported incident: `<id>-<slug>.md`, or `<slug>.md` without an id.
pub fn file_name(document: &Document) -> String {
    let slug = slug_of(document.bundle.incident.title.as_str());
    match document.id {
        Some(id) => format!("{id}-{slug}.md"),
        None => format!("{slug}.md"),
    }
}

/// Renders the whole document. Section headings come from the incident's template in
/// `templates` (an unknown template renders as the built-in full one would name its
/// sections); sections the template does not list follow, under their own names.
pub fn render(document: &Document, templates: &Templates) -> String {
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("---\n");
    out.push_str(&front_matter(document));
    out.push_str("---\n\n");
    let bundle = &document.bundle;
    let _ = writeln!(out, "# {}\n", bundle.incident.title);

    let template = templates.resolve(&bundle.incident.template);
    for wanted in &template.sections {
        let body = bundle
            .sections
            .iter()
            .find(|section| section.name == wanted.name)
            .map_or("", |section| section.body.as_str());
        write_section(&mut out, &wanted.title, body);
    }
    let in_template = |name: &SectionName| template.sections.iter().any(|s| &s.name == name);
    // Sections the template does not list follow by name, as the store keeps them, so a
    // file reads the same however its sections arrived.
    let mut extras: Vec<_> = bundle
        .sections
        .iter()
        .filter(|s| !in_template(&s.name))
        .collect();
    extras.sort_by(|a, b| a.name.cmp(&b.name));
    for section in extras {
        write_section(
            &mut out,
            &humanize(section.name.as_str()),
            section.body.as_str(),
        );
    }

    let _ = writeln!(out, "## {TIMELINE}\n");
    out.push_str(&timeline_list(bundle));
    let _ = writeln!(out, "## {FACTORS}\n");
    out.push_str(&factor_list(bundle));
    let _ = writeln!(out, "## {ACTIONS}\n");
    out.push_str(&action_list(bundle));
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// The `## Timeline` list as an export writes it.
pub(crate) fn timeline_list(bundle: &IncidentBundle) -> String {
    let mut out = String::new();
    for entry in &bundle.timeline {
        write_entry(&mut out, entry);
    }
    out
}

/// The `## Factors` list as an export writes it.
pub(crate) fn factor_list(bundle: &IncidentBundle) -> String {
    let mut out = String::new();
    for (index, factor) in bundle.factors.iter().enumerate() {
        write_factor(&mut out, index, factor);
    }
    out
}

/// The `## Action items` list as an export writes it.
pub(crate) fn action_list(bundle: &IncidentBundle) -> String {
    let mut out = String::new();
    for action in &bundle.actions {
        write_action(&mut out, action);
    }
    out
}

/// The front matter's facts as YAML values by key, in the order the file writes them.
pub(crate) fn front_matter_values(document: &Document) -> serde_yaml_ng::Mapping {
    let matter = front_matter_of(document);
    match serde_yaml_ng::to_value(&matter).expect("the front matter is plain data") {
        serde_yaml_ng::Value::Mapping(mapping) => mapping,
        _ => serde_yaml_ng::Mapping::new(),
    }
}

fn front_matter(document: &Document) -> String {
    serde_yaml_ng::to_string(&front_matter_of(document))
        .expect("the front matter is plain data and serialises")
}

fn front_matter_of(document: &Document) -> FrontMatter {
    let bundle = &document.bundle;
    let incident = &bundle.incident;
    FrontMatter {
        format: FORMAT.to_owned(),
        id: document.id.map(|id| id.get()),
        version: document.version,
        title: incident.title.clone(),
        kind: incident.kind,
        severity: incident.severity,
        started_at: incident.started_at.map(format_instant),
        services: incident.services.clone(),
        teams: incident.teams.clone(),
        restricted: incident.restricted,
        impact: incident.impact,
        template: incident.template.clone(),
        status: bundle.status,
        due_on: bundle.due_on.map(format_date),
        published_at: bundle.published_at.map(format_instant),
        recorded_by: bundle.created_by.clone(),
        recorded_at: format_instant(bundle.created_at),
        policy: document.policy.as_ref().map(|policy| PolicyMatter {
            decision: policy.decision,
            reasons: policy.reasons.clone(),
        }),
        section_writers: bundle
            .sections
            .iter()
            .map(|section| (section.name.clone(), section.updated_by.clone()))
            .collect(),
        members: document.members.clone(),
        reviews: bundle
            .reviews
            .iter()
            .map(|review| ReviewMatter {
                reviewer: review.reviewer.clone(),
                decision: review.decision,
                comment: review.comment.clone(),
            })
            .collect(),
        imported_from: document.imported_from.clone(),
    }
}

fn write_section(out: &mut String, title: &str, body: &str) {
    let _ = writeln!(out, "## {title}\n");
    let body = tidy(body);
    if !body.is_empty() {
        out.push_str(body);
        out.push_str("\n\n");
    }
}

/// Writes text under a list item: every line indented by two spaces, blank lines left blank.
fn write_indented(out: &mut String, text: &str) {
    for line in tidy(text).lines() {
        if !line.is_empty() {
            out.push_str("  ");
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn write_entry(out: &mut String, bundled: &BundleTimelineEntry) {
    let entry = &bundled.entry;
    let mut head = vec![format_instant(entry.at)];
    if let Some(marker) = entry.marker {
        head.push(marker.as_str().to_owned());
    }
    head.push(entry.perspective.as_str().to_owned());
    head.push(entry.source.as_str().to_owned());
    head.push(format!("by @{}", bundled.author));
    if let Some(link) = &entry.source_url {
        head.push(format!("<{link}>"));
    }
    if let Some(actor) = &entry.actor {
        head.push(format!("actor: {}", quote(actor)));
    }
    let _ = writeln!(out, "- {}", head.join(DOT));
    write_indented(out, entry.text.as_str());
    out.push('\n');
}

fn write_factor(out: &mut String, index: usize, factor: &NewFactor) {
    let trigger = if factor.is_trigger { " · trigger" } else { "" };
    let _ = writeln!(
        out,
        "- F{}{DOT}{}{trigger}",
        index + 1,
        factor.category.as_str()
    );
    write_indented(out, factor.description.as_str());
    out.push('\n');
}

fn write_action(out: &mut String, action: &BundleAction) {
    let item = &action.item;
    let check = if item.status == ActionStatus::Done {
        "x"
    } else {
        " "
    };
    let _ = writeln!(out, "- [{check}] {}", item.title);
    let mut fact = |key: &str, value: String| {
        let _ = writeln!(out, "  - {key}: {value}");
    };
    fact("status", item.status.as_str().to_owned());
    fact("priority", item.priority.as_str().to_owned());
    fact("kind", item.kind.as_str().to_owned());
    if let Some(owner) = &action.owner {
        fact("owner", format!("@{owner}"));
    }
    if let Some(team) = &item.team {
        fact("team", team.to_string());
    }
    if let Some(due) = item.due_on {
        fact("due", format_date(due));
    }
    if !action.factor_indexes.is_empty() {
        let factors: Vec<String> = action
            .factor_indexes
            .iter()
            .map(|index| format!("F{}", index + 1))
            .collect();
        fact("factors", factors.join(", "));
    }
    if let Some(link) = &item.external_url {
        fact("link", format!("<{link}>"));
    }
    if let Some(verification) = &item.verification {
        fact("verification", quote(verification));
    }
    if let Some(reason) = &item.wont_do_reason {
        fact("won't do", quote(reason));
    }
    if let Some(completed) = action.completed_at {
        fact("completed", format_instant(completed));
    }
    out.push('\n');
}
