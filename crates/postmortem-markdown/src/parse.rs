//! Reads a Markdown file back into a [`Document`]. A file whose front matter says
//! `format: postmortem/1` was written by [`crate::render`] and is read strictly, every problem
//! reported with its line; any other file is a post-mortem written elsewhere and goes through
//! [`crate::foreign`]'s mapping.

use crate::foreign;
use crate::syntax::{
    ACTIONS, DOT, FACTORS, FORMAT, FrontMatter, TIMELINE, humanize, key_line, section_name_of,
    tidy, unquote,
};
use crate::{Document, ImportContext, MappingNote, ParseError, PolicyNote};
use postmortem_core::{
    ActionKind, ActionStatus, BundleAction, BundleReview, BundleSection, BundleTimelineEntry,
    FactorCategory, Handle, IncidentBundle, IncidentId, Markdown, Marker, Name, NewActionItem,
    NewFactor, NewIncident, NewTimelineEntry, Perspective, Priority, SectionName, Source,
    Templates, Title, ValidationError, WebLink, check_line, check_prose, parse_date, parse_instant,
};
use pulldown_cmark::{Event, HeadingLevel, Parser, Tag};

/// A file read as an incident, with how a post-mortem written elsewhere was mapped (empty for
/// files in this system's own format).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub document: Document,
    pub mapping: Vec<MappingNote>,
}

/// Reads `text` (the file at `path`) as an incident.
pub fn parse(path: &str, text: &str, context: &ImportContext<'_>) -> Result<Parsed, ParseError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match split_front_matter(text) {
        Some((front, body_line, body)) if is_ours(front) => Ok(Parsed {
            document: Native {
                path,
                templates: context.templates,
            }
            .document(front, body_line, body)?,
            mapping: Vec::new(),
        }),
        _ => foreign::map(path, text, context),
    }
}

/// Splits `---` front matter from the body: the front matter's text, the 1-based line where the
/// body starts, and the body.
pub(crate) fn split_front_matter(text: &str) -> Option<(&str, usize, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for (index, line) in rest.split_inclusive('\n').enumerate() {
        let bare = line.trim_end();
        if bare == "---" || bare == "..." {
            let front = &rest[..offset];
            let body = &rest[offset + line.len()..];
            return Some((front, index + 3, body));
        }
        offset += line.len();
    }
    None
}

fn is_ours(front: &str) -> bool {
    front.lines().any(|line| {
        line.strip_prefix("format:").is_some_and(|value| {
            value
                .trim()
                .trim_matches(['"', '\''])
                .starts_with("postmortem/")
        })
    })
}

struct Native<'a> {
    path: &'a str,
    templates: &'a Templates,
}

/// One list item of the export: its first line (after `- `), the lines under it with the
/// two-space indent taken off, and the line it starts on.
struct Item<'t> {
    line: usize,
    head: &'t str,
    rest: Vec<&'t str>,
}

impl Item<'_> {
    fn text(&self) -> String {
        tidy(&self.rest.join("\n")).to_owned()
    }
}

impl<'a> Native<'a> {
    fn error(&self, line: usize, reason: impl Into<String>) -> ParseError {
        ParseError::new(self.path, line, reason)
    }

    fn invalid(&self, line: usize, error: ValidationError) -> ParseError {
        self.error(line, error.to_string())
    }

    fn document(&self, front: &str, body_line: usize, body: &str) -> Result<Document, ParseError> {
        let matter: FrontMatter = serde_yaml_ng::from_str(front).map_err(|error| {
            let line = error.location().map_or(1, |at| at.line());
            self.error(1 + line, format!("front matter: {error}"))
        })?;
        if matter.format != FORMAT {
            return Err(self.error(
                1 + key_line(front, "format"),
                format!(
                    "front matter: format `{}` is not one this version reads; it reads `{FORMAT}`",
                    matter.format
                ),
            ));
        }
        let instant = |key: &str, raw: &Option<String>| {
            raw.as_deref()
                .map(|raw| parse_instant(key, raw))
                .transpose()
                .map_err(|error| self.invalid(1 + key_line(front, key), error))
        };
        let started_at = instant("started_at", &matter.started_at)?;
        let published_at = instant("published_at", &matter.published_at)?;
        let recorded_at = instant("recorded_at", &Some(matter.recorded_at.clone()))?
            .expect("a present value parses to a present instant");
        let due_on = matter
            .due_on
            .as_deref()
            .map(|raw| parse_date("due_on", raw))
            .transpose()
            .map_err(|error| self.invalid(1 + key_line(front, "due_on"), error))?;
        for review in &matter.reviews {
            if let Some(comment) = &review.comment {
                check_prose("reviews.comment", comment)
                    .map_err(|error| self.invalid(1 + key_line(front, "reviews"), error))?;
            }
        }

        let lines: Vec<&str> = body.lines().collect();
        let find_last = |heading: &str, before: usize| {
            let wanted = format!("## {heading}");
            lines[..before]
                .iter()
                .rposition(|line| line.trim_end() == wanted)
        };
        let missing = |heading: &str| {
            self.error(
                body_line,
                format!("the file says `format: {FORMAT}` but has no `## {heading}` heading; an export always has `## {TIMELINE}`, `## {FACTORS}` and `## {ACTIONS}`, in that order, after the sections"),
            )
        };
        let actions_at = find_last(ACTIONS, lines.len()).ok_or_else(|| missing(ACTIONS))?;
        let factors_at = find_last(FACTORS, actions_at).ok_or_else(|| missing(FACTORS))?;
        let timeline_at = find_last(TIMELINE, factors_at).ok_or_else(|| missing(TIMELINE))?;

        let template = self.templates.resolve(&matter.template);
        let extra_names: Vec<&SectionName> = matter
            .section_writers
            .keys()
            .filter(|name| !template.sections.iter().any(|s| &s.name == *name))
            .collect();
        let mut sections =
            self.sections(&lines[..timeline_at], body_line, template, &extra_names)?;
        for section in &mut sections {
            section.updated_by = matter
                .section_writers
                .get(&section.name)
                .unwrap_or(&matter.recorded_by)
                .clone();
        }
        let timeline = self
            .items(&lines, timeline_at + 1..factors_at, body_line)?
            .iter()
            .map(|item| self.entry(item))
            .collect::<Result<Vec<_>, _>>()?;
        let factors = self
            .items(&lines, factors_at + 1..actions_at, body_line)?
            .iter()
            .enumerate()
            .map(|(index, item)| self.factor(index, item))
            .collect::<Result<Vec<_>, _>>()?;
        let actions = self
            .items(&lines, actions_at + 1..lines.len(), body_line)?
            .iter()
            .map(|item| self.action(item, factors.len()))
            .collect::<Result<Vec<_>, _>>()?;

        let bundle = IncidentBundle {
            incident: NewIncident {
                title: matter.title,
                kind: matter.kind,
                severity: matter.severity,
                started_at,
                services: matter.services,
                teams: matter.teams,
                impact: matter.impact,
                restricted: matter.restricted,
                template: matter.template,
            },
            created_by: matter.recorded_by,
            created_at: recorded_at,
            status: matter.status,
            due_on,
            published_at,
            sections,
            timeline,
            factors,
            actions,
            reviews: matter
                .reviews
                .into_iter()
                .map(|review| BundleReview {
                    reviewer: review.reviewer,
                    decision: review.decision,
                    comment: review.comment,
                })
                .collect(),
        };
        Ok(Document {
            id: matter.id.map(IncidentId::new),
            version: matter.version,
            bundle,
            policy: matter.policy.map(|policy| PolicyNote {
                decision: policy.decision,
                reasons: policy.reasons,
            }),
            members: matter.members,
            imported_from: matter.imported_from,
        })
    }

    /// The `##` sections before the timeline. Headings are found with a Markdown parser, so a
    /// `## ` line inside a code block is text, not a heading.
    fn sections(
        &self,
        lines: &[&str],
        body_line: usize,
        template: &postmortem_core::Template,
        extra_names: &[&SectionName],
    ) -> Result<Vec<BundleSection>, ParseError> {
        let region = lines.join("\n");
        // Only the headings of the template's sections and of the other sections the front
        // matter lists start a section; any other `##` heading belongs to a section's text.
        let heading_lines: Vec<usize> = atx_heading_lines(&region, HeadingLevel::H2)
            .into_iter()
            .filter(|&index| {
                let heading = lines[index][3..].trim();
                template.sections.iter().any(|s| s.title == heading)
                    || extra_names
                        .iter()
                        .any(|name| humanize(name.as_str()) == heading)
            })
            .collect();
        let mut sections: Vec<BundleSection> = Vec::new();
        let first = heading_lines.first().copied().unwrap_or(lines.len());
        if let Some(stray) = lines[..first]
            .iter()
            .position(|line| !line.trim().is_empty() && !line.starts_with("# "))
        {
            return Err(self.error(
                body_line + stray,
                "text before the first `##` section; in an export everything but the title belongs to a section",
            ));
        }
        for (at, &heading_index) in heading_lines.iter().enumerate() {
            let heading = lines[heading_index][3..].trim();
            let end = heading_lines.get(at + 1).copied().unwrap_or(lines.len());
            let taken = |name: &SectionName| sections.iter().any(|s| &s.name == name);
            let name = match template
                .sections
                .iter()
                .find(|s| s.title == heading && !taken(&s.name))
            {
                Some(known) => known.name.clone(),
                None => SectionName::parse(section_name_of(heading))
                    .map_err(|error| self.invalid(body_line + heading_index, error))?,
            };
            if taken(&name) {
                return Err(self.error(
                    body_line + heading_index,
                    format!("section `{heading}` appears twice; merge the two into one"),
                ));
            }
            let body = tidy(&lines[heading_index + 1..end].join("\n")).to_owned();
            if body.is_empty() {
                continue;
            }
            let body = Markdown::parse_field(name.as_str(), body)
                .map_err(|error| self.invalid(body_line + heading_index, error))?;
            sections.push(BundleSection {
                name,
                body,
                // Filled in from the front matter's `section_writers` by the caller.
                updated_by: Handle::parse("unknown").expect("a valid handle"),
            });
        }
        Ok(sections)
    }

    /// The list items of the lines in `range`: each starts with `- ` at the start of a line;
    /// the lines under it are indented by two spaces or blank.
    fn items<'t>(
        &self,
        lines: &[&'t str],
        range: std::ops::Range<usize>,
        body_line: usize,
    ) -> Result<Vec<Item<'t>>, ParseError> {
        let mut items: Vec<Item<'t>> = Vec::new();
        for index in range {
            let line = lines[index];
            if let Some(head) = line.strip_prefix("- ") {
                items.push(Item {
                    line: body_line + index,
                    head,
                    rest: Vec::new(),
                });
            } else if line.is_empty() || line.starts_with("  ") {
                match items.last_mut() {
                    Some(item) => item.rest.push(line.get(2..).unwrap_or("")),
                    None if line.trim().is_empty() => {}
                    None => return Err(self.stray(body_line + index)),
                }
            } else if line.trim().is_empty() {
                if let Some(item) = items.last_mut() {
                    item.rest.push("");
                }
            } else {
                return Err(self.stray(body_line + index));
            }
        }
        Ok(items)
    }

    fn stray(&self, line: usize) -> ParseError {
        self.error(
            line,
            "a line that is not part of a list item; under the timeline, factors and action items every line is an item (`- ...`) or indented under one",
        )
    }

    fn entry(&self, item: &Item<'_>) -> Result<BundleTimelineEntry, ParseError> {
        let invalid = |error| self.invalid(item.line, error);
        let (facts, actor) = match item.head.split_once(" · actor: ") {
            Some((facts, actor)) => {
                let actor = unquote(actor).map_err(|reason| self.error(item.line, reason))?;
                check_line("actor", &actor).map_err(invalid)?;
                (facts, Some(actor))
            }
            None => (item.head, None),
        };
        let mut parts = facts.split(DOT);
        let at = parse_instant("at", parts.next().unwrap_or("")).map_err(invalid)?;
        let mut marker = None;
        let mut perspective = None;
        let mut source = None;
        let mut author = None;
        let mut source_url = None;
        for part in parts {
            if let Some(handle) = part.strip_prefix("by @") {
                author = Some(Handle::parse(handle).map_err(invalid)?);
            } else if let Some(link) = part.strip_prefix('<').and_then(|p| p.strip_suffix('>')) {
                source_url = Some(WebLink::parse_field("source_url", link).map_err(invalid)?);
            } else if let (None, None, Ok(found)) = (marker, perspective, Marker::parse(part)) {
                marker = Some(found);
            } else if let (None, Ok(found)) = (perspective, Perspective::parse(part)) {
                perspective = Some(found);
            } else if let (None, Ok(found)) = (source, Source::parse(part)) {
                source = Some(found);
            } else {
                return Err(self.error(
                    item.line,
                    format!("timeline entry: `{part}` is not a marker, perspective, source, `by @handle` or `<link>`"),
                ));
            }
        }
        let need = |what: &str| {
            self.error(
                item.line,
                format!("timeline entry: the first line names no {what}"),
            )
        };
        Ok(BundleTimelineEntry {
            author: author.ok_or_else(|| need("author (`by @handle`)"))?,
            entry: NewTimelineEntry {
                at,
                text: Markdown::parse_non_empty("text", item.text()).map_err(invalid)?,
                actor,
                marker,
                perspective: perspective.ok_or_else(|| need("perspective"))?,
                source: source.ok_or_else(|| need("source"))?,
                source_url,
            },
        })
    }

    fn factor(&self, index: usize, item: &Item<'_>) -> Result<NewFactor, ParseError> {
        let mut parts = item.head.split(DOT);
        let label = format!("F{}", index + 1);
        if parts.next() != Some(label.as_str()) {
            return Err(self.error(
                item.line,
                format!("factor: expected it to start with `{label}`; factors are numbered F1, F2, ... in order"),
            ));
        }
        let category = FactorCategory::parse(parts.next().unwrap_or(""))
            .map_err(|error| self.invalid(item.line, error))?;
        let is_trigger = match parts.next() {
            None => false,
            Some("trigger") => true,
            Some(other) => {
                return Err(self.error(item.line, format!("factor: `{other}` is not `trigger`")));
            }
        };
        Ok(NewFactor {
            category,
            description: Markdown::parse_non_empty("description", item.text())
                .map_err(|error| self.invalid(item.line, error))?,
            is_trigger,
        })
    }

    fn action(&self, item: &Item<'_>, n_factors: usize) -> Result<BundleAction, ParseError> {
        let title = item
            .head
            .strip_prefix("[ ] ")
            .or_else(|| item.head.strip_prefix("[x] "))
            .ok_or_else(|| {
                self.error(
                    item.line,
                    "action item: expected `- [ ] title` or `- [x] title`",
                )
            })?;
        let mut status = None;
        let mut priority = None;
        let mut kind = None;
        let mut action = BundleAction {
            owner: None,
            factor_indexes: Vec::new(),
            item: NewActionItem {
                title: Title::parse_field("title", title)
                    .map_err(|error| self.invalid(item.line, error))?,
                owner: None,
                team: None,
                due_on: None,
                priority: Priority::P2,
                kind: ActionKind::Prevent,
                status: ActionStatus::Open,
                wont_do_reason: None,
                external_url: None,
                factor_ids: Vec::new(),
                verification: None,
            },
            completed_at: None,
        };
        for (offset, line) in item.rest.iter().enumerate() {
            let at = item.line + 1 + offset;
            if line.trim().is_empty() {
                continue;
            }
            let invalid = |error| self.invalid(at, error);
            let (key, value) = line
                .strip_prefix("- ")
                .and_then(|fact| fact.split_once(": "))
                .ok_or_else(|| {
                    self.error(
                        at,
                        "action item: expected a fact as `- key: value` under the title",
                    )
                })?;
            let text = || unquote(value).map_err(|reason| self.error(at, reason));
            let bracketed = value.strip_prefix('<').and_then(|v| v.strip_suffix('>'));
            match key {
                "status" => status = Some(ActionStatus::parse(value).map_err(invalid)?),
                "priority" => priority = Some(Priority::parse(value).map_err(invalid)?),
                "kind" => kind = Some(ActionKind::parse(value).map_err(invalid)?),
                "owner" => {
                    let handle = value.strip_prefix('@').unwrap_or(value);
                    action.owner = Some(Handle::parse(handle).map_err(invalid)?);
                }
                "team" => {
                    action.item.team = Some(Name::parse_field("team", value).map_err(invalid)?)
                }
                "due" => action.item.due_on = Some(parse_date("due", value).map_err(invalid)?),
                "factors" => {
                    for label in value.split(',').map(str::trim) {
                        let index = label
                            .strip_prefix('F')
                            .and_then(|n| n.parse::<usize>().ok())
                            .filter(|n| (1..=n_factors).contains(n))
                            .ok_or_else(|| {
                                self.error(at, format!("action item: `{label}` names no factor; there are {n_factors}"))
                            })?;
                        action.factor_indexes.push(index - 1);
                    }
                }
                "link" => {
                    let link = bracketed.unwrap_or(value);
                    action.item.external_url =
                        Some(WebLink::parse_field("link", link).map_err(invalid)?);
                }
                "verification" => {
                    let text = text()?;
                    check_prose("verification", &text).map_err(invalid)?;
                    action.item.verification = Some(text);
                }
                "won't do" => {
                    let text = text()?;
                    check_prose("won't do", &text).map_err(invalid)?;
                    action.item.wont_do_reason = Some(text);
                }
                "completed" => {
                    action.completed_at = Some(parse_instant("completed", value).map_err(invalid)?)
                }
                other => {
                    return Err(self.error(
                        at,
                        format!("action item: `{other}` is not a fact of an action item; use status, priority, kind, owner, team, due, factors, link, verification, won't do or completed"),
                    ));
                }
            }
        }
        let need =
            |what: &str| self.error(item.line, format!("action item: no `{what}:` under it"));
        action.item.status = status.ok_or_else(|| need("status"))?;
        action.item.priority = priority.ok_or_else(|| need("priority"))?;
        action.item.kind = kind.ok_or_else(|| need("kind"))?;
        action
            .item
            .check()
            .map_err(|error| self.invalid(item.line, error))?;
        Ok(action)
    }
}

/// The 0-based lines of `text` where an ATX heading of `level` starts at the start of the line
/// (not in a code block, a list or a quote).
pub(crate) fn atx_heading_lines(text: &str, level: HeadingLevel) -> Vec<usize> {
    let marker = "#".repeat(level as usize) + " ";
    let mut found = Vec::new();
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(at, _)| at + 1));
    for (event, range) in Parser::new(text).into_offset_iter() {
        if let Event::Start(Tag::Heading { level: got, .. }) = event
            && got == level
            && text[range.start..].starts_with(&marker)
            && let Ok(line) = line_starts.binary_search(&range.start)
        {
            found.push(line);
        }
    }
    found
}
