//! Post-mortems written elsewhere (the Google SRE workbook's example, PagerDuty's and
//! Atlassian's templates, company repositories, free-form documents) mapped onto a
//! [`Document`]: the title from the first heading, facts from front matter or `Key: value`
//! lines, headings to template sections by name and synonyms, timeline tables and lists to
//! entries with their instants, action lists and tables to action items, factor lists to
//! factors. Nothing is dropped: an unknown heading stays a section of its own, and whatever a
//! timeline or action list held that could not be read stays as text. Every decision is noted
//! in the [`Mapping`], which `--dry-run` shows.

use crate::parse::{Parsed, split_front_matter};
use crate::syntax::{section_name_of, tidy};
use crate::when::{find_at_start, first_date_in, zone_named_in};
use crate::{Document, ImportContext, ParseError};
use postmortem_core::{
    BundleAction, BundleSection, BundleTimelineEntry, Impact, IncidentBundle, IncidentKind,
    Markdown, Name, NewFactor, NewIncident, NewTimelineEntry, Perspective, PostmortemStatus,
    SectionName, Severity, Source, TemplateName, Title,
};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

mod lists;
mod words;

use lists::{Block, Columns, action_from_text, blocks, file_stem, leftover, table_text, truncate};
use std::ops::Range;
use time::{Date, UtcOffset};
use words::{
    Target, category_of, kind_of, mark, normalise, severity_of, status_of, strip_title_label,
    target_of,
};

/// How a post-mortem written elsewhere was read: one note per decision, in file order.
pub type Mapping = Vec<MappingNote>;

/// One decision of the mapping, such as "`## Root Cause` → section `trigger`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingNote {
    /// 1-based line the note is about (1 for the file as a whole).
    pub line: usize,
    pub note: String,
}

impl std::fmt::Display for MappingNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.note)
    }
}

/// A heading of the document: its level, its text, the line it is on, where its line starts,
/// and where the text under it starts.
#[derive(Debug)]
struct Heading {
    level: usize,
    text: String,
    line: usize,
    start: usize,
    content: usize,
}

/// The facts found in front matter and `Key: value` lines, as written.
#[derive(Debug, Default)]
struct Facts {
    title: Option<String>,
    started: Option<String>,
    severity: Option<String>,
    services: Vec<String>,
    teams: Vec<String>,
    status: Option<String>,
    kind: Option<String>,
    template: Option<String>,
}

impl Facts {
    /// Takes a `key: value` pair if the key names a fact; whether it did.
    fn take(&mut self, key: &str, value: &str) -> bool {
        let value = value.trim().trim_matches(['*', '_', '`']).trim();
        if value.is_empty() || value.starts_with('[') && value.ends_with(']') {
            return false;
        }
        let key = normalise(key);
        let list = |value: &str| -> Vec<String> {
            value
                .split([',', ';'])
                .map(|part| part.trim().to_owned())
                .filter(|part| !part.is_empty())
                .collect()
        };
        match key.as_str() {
            "title" | "incident" | "incident title" | "name" => self.title = Some(value.to_owned()),
            "date" | "incident date" | "started" | "start" | "start time" | "started at"
            | "impact start" | "reported" | "when" => {
                self.started.get_or_insert_with(|| value.to_owned());
            }
            "severity" | "sev" | "severity level" | "priority" | "level" => {
                self.severity = Some(value.to_owned());
            }
            "services" | "service" | "affected services" | "services affected"
            | "affected systems" | "systems affected" | "systems" | "components" => {
                self.services.extend(list(value));
            }
            "team" | "teams" | "owning team" | "owner team" => self.teams.extend(list(value)),
            "status" => self.status = Some(value.to_owned()),
            "type" | "kind" | "incident type" | "category" => self.kind = Some(value.to_owned()),
            "template" => self.template = Some(value.to_owned()),
            _ => return false,
        }
        true
    }
}

/// A `Key: value` line (`**Date**: 2025-01-01`, `- **Severity:** SEV1`, `> Status: Final`).
fn key_value(line: &str) -> Option<(&str, &str)> {
    let bare = line
        .trim()
        .trim_start_matches(['-', '*', '+', '>', ' '])
        .trim_start();
    let (key, value) = bare.split_once(':')?;
    let key = key.trim().trim_matches(['*', '_']).trim();
    let value = value.trim_start_matches(['*', '_']).trim();
    let plain = !key.is_empty()
        && key.len() <= 32
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == ' ' || c == '/' || c == '-');
    (plain && !value.is_empty() && !value.starts_with("//")).then_some((key, value))
}

struct Mapper<'a> {
    path: &'a str,
    context: &'a ImportContext<'a>,
    text: &'a str,
    /// 1-based line of `text`'s first line in the file.
    first_line: usize,
    line_starts: Vec<usize>,
    notes: Mapping,
}

pub(crate) fn map(
    path: &str,
    text: &str,
    context: &ImportContext<'_>,
) -> Result<Parsed, ParseError> {
    let mut facts = Facts::default();
    let mut notes = Vec::new();
    let (body, first_line) = match split_front_matter(text) {
        Some((front, body_line, body)) => {
            read_front_matter(path, front, &mut facts, &mut notes)?;
            (body, body_line)
        }
        None => (text, 1),
    };
    let mut line_starts = vec![0];
    line_starts.extend(body.match_indices('\n').map(|(at, _)| at + 1));
    let mut mapper = Mapper {
        path,
        context,
        text: body,
        first_line,
        line_starts,
        notes,
    };
    let document = mapper.document(facts)?;
    Ok(Parsed {
        document,
        mapping: mapper.notes,
    })
}

fn read_front_matter(
    path: &str,
    front: &str,
    facts: &mut Facts,
    notes: &mut Mapping,
) -> Result<(), ParseError> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(front).map_err(|error| {
        let line = error.location().map_or(1, |at| at.line());
        ParseError::new(path, 1 + line, format!("front matter: {error}"))
    })?;
    let Some(mapping) = value.as_mapping() else {
        return Ok(());
    };
    for (key, value) in mapping {
        let Some(key) = key.as_str() else { continue };
        let text = match value {
            serde_yaml_ng::Value::String(s) => s.clone(),
            serde_yaml_ng::Value::Number(n) => n.to_string(),
            serde_yaml_ng::Value::Sequence(items) => items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect::<Vec<_>>()
                .join(", "),
            _ => continue,
        };
        let line = 1 + crate::syntax::key_line(front, key);
        if facts.take(key, &text) {
            notes.push(MappingNote {
                line,
                note: format!("front matter `{key}` read as a fact"),
            });
        } else {
            notes.push(MappingNote {
                line,
                note: format!("front matter `{key}` is not a fact this system keeps; left out"),
            });
        }
    }
    Ok(())
}

impl<'a> Mapper<'a> {
    fn line_of(&self, offset: usize) -> usize {
        let index = match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(next) => next - 1,
        };
        self.first_line + index
    }

    fn note(&mut self, offset: usize, note: impl Into<String>) {
        let line = self.line_of(offset);
        self.notes.push(MappingNote {
            line,
            note: note.into(),
        });
    }

    fn headings(&self) -> Vec<Heading> {
        let mut headings = Vec::new();
        let mut current: Option<(usize, usize, String)> = None;
        for (event, range) in Parser::new_ext(self.text, Options::ENABLE_TABLES).into_offset_iter()
        {
            match event {
                Event::Start(Tag::Heading { level, .. }) => {
                    current = Some((level as usize, range.start, String::new()));
                }
                Event::Text(text) | Event::Code(text) => {
                    if let Some((_, _, heading)) = current.as_mut() {
                        heading.push_str(&text);
                    }
                }
                Event::End(TagEnd::Heading(_)) => {
                    if let Some((level, start, text)) = current.take() {
                        let line_start = self.text[..start].rfind('\n').map_or(0, |at| at + 1);
                        headings.push(Heading {
                            level,
                            text: text.trim().to_owned(),
                            line: self.line_of(start),
                            start: line_start,
                            content: range.end,
                        });
                    }
                }
                _ => {}
            }
        }
        headings
    }

    fn document(&mut self, mut facts: Facts) -> Result<Document, ParseError> {
        let headings = self.headings();
        // The title: a first-level heading (or the first heading), unless the heading is a
        // label such as "Incident Title", whose paragraph below is the title.
        let title_heading = headings
            .iter()
            .position(|h| h.level == 1)
            .or(if headings.is_empty() { None } else { Some(0) })
            .filter(|&index| {
                target_of(&headings[index].text).is_none()
                    || headings
                        .iter()
                        .filter(|h| h.level == headings[index].level)
                        .count()
                        == 1
            });
        let mut preamble_start = 0;
        if let Some(index) = title_heading {
            let heading = &headings[index];
            preamble_start = heading.content;
            let words = normalise(&heading.text);
            if matches!(words.as_str(), "incident title" | "title" | "incident name") {
                let end = headings.get(index + 1).map_or(self.text.len(), |h| h.start);
                let paragraph = self.text[heading.content..end]
                    .lines()
                    .map(str::trim)
                    .find(|line| !line.is_empty())
                    .map(str::to_owned);
                if let Some(paragraph) = paragraph {
                    let at = self.text[heading.content..]
                        .find(paragraph.as_str())
                        .unwrap_or(0);
                    preamble_start = heading.content + at + paragraph.len();
                    facts.title.get_or_insert(paragraph);
                }
            } else if facts.title.is_none() {
                facts.title = Some(strip_title_label(&heading.text).to_owned());
            }
        }
        // Sections are at the level most headings use (the shallower one on a tie); a
        // shallower heading (a stray `# Stats` among `##` sections) starts a section too.
        let mut counts = [0usize; 7];
        for (index, heading) in headings.iter().enumerate() {
            if Some(index) != title_heading {
                counts[heading.level.min(6)] += 1;
            }
        }
        let section_level = (1..=6)
            .filter(|&level| counts[level] > 0)
            .max_by_key(|&level| (counts[level], std::cmp::Reverse(level)));
        let sections: Vec<&Heading> = headings
            .iter()
            .enumerate()
            .filter(|(index, h)| {
                Some(*index) != title_heading && section_level.is_some_and(|l| h.level <= l)
            })
            .map(|(_, h)| h)
            .collect();

        // Facts in the lines before the first section; the other lines are kept as text.
        let preamble_end = sections.first().map_or(self.text.len(), |h| h.start);
        let mut preamble = String::new();
        if preamble_start < preamble_end {
            for line in self.text[preamble_start..preamble_end].lines() {
                match key_value(line) {
                    Some((key, value)) if facts.take(key, value) => {}
                    _ => {
                        if line.trim() != "---" && line.trim() != "***" {
                            preamble.push_str(line);
                            preamble.push('\n');
                        }
                    }
                }
            }
        }

        let title_text = facts
            .title
            .clone()
            .or_else(|| file_stem(self.path))
            .unwrap_or_else(|| "Imported post-mortem".to_owned());
        let title = Title::parse(truncate(&title_text, Title::MAX_CHARS))
            .map_err(|error| ParseError::new(self.path, 1, error.to_string()))?;

        let zone = zone_named_in(self.text).unwrap_or(UtcOffset::UTC);
        let mut started = facts.started.as_deref().and_then(|raw| {
            let found = find_at_start(raw)?;
            found
                .instant(found.date, zone)
                .or_else(|| found.date.map(|d| d.midnight().assume_offset(zone)))
        });
        let mut day = started
            .map(|s| s.date())
            .or_else(|| first_date_in(&title_text))
            .or_else(|| first_date_in(self.text));

        let mut written: Vec<(SectionName, String)> = Vec::new();
        let mut timeline = Vec::new();
        let mut actions = Vec::new();
        let mut factors = Vec::new();
        for (index, heading) in sections.iter().enumerate() {
            let end = sections.get(index + 1).map_or(self.text.len(), |h| h.start);
            let range = heading.content..end;
            let kept = match target_of(&heading.text) {
                Some(Target::Timeline) => {
                    let zone = zone_named_in(&heading.text).unwrap_or(zone);
                    let (entries, rest) = self.timeline(range.clone(), &mut day, zone);
                    self.note(
                        heading.start,
                        format!("`{}` → {} timeline entries", heading.text, entries.len()),
                    );
                    timeline.extend(entries);
                    rest.map(|rest| ("timeline".to_owned(), rest))
                }
                Some(Target::Actions) => {
                    let (items, rest) = self.actions(range.clone(), day);
                    self.note(
                        heading.start,
                        format!("`{}` → {} action items", heading.text, items.len()),
                    );
                    actions.extend(items);
                    rest.map(|rest| ("action_items".to_owned(), rest))
                }
                Some(Target::Facts) => {
                    for line in self.text[range.clone()].lines() {
                        if let Some((key, value)) = key_value(line) {
                            facts.take(key, value);
                        }
                    }
                    self.note(
                        heading.start,
                        format!("`{}` read for facts and kept as a section", heading.text),
                    );
                    Some((
                        section_name_of(&heading.text),
                        self.text[range.clone()].to_owned(),
                    ))
                }
                Some(Target::Section(name)) => {
                    if *name == "contributing_factors" {
                        let found = self.factors(range.clone());
                        if !found.is_empty() {
                            self.note(
                                heading.start,
                                format!(
                                    "`{}` → {} contributing factors",
                                    heading.text,
                                    found.len()
                                ),
                            );
                        }
                        factors.extend(found);
                    }
                    self.note(
                        heading.start,
                        format!("`{}` → section `{name}`", heading.text),
                    );
                    Some(((*name).to_owned(), self.text[range.clone()].to_owned()))
                }
                None => {
                    let name = section_name_of(&heading.text);
                    self.note(
                        heading.start,
                        format!(
                            "`{}` matches no template section; kept as its own section `{name}`",
                            heading.text
                        ),
                    );
                    Some((name, self.text[range.clone()].to_owned()))
                }
            };
            if let Some((name, body)) = kept {
                let name = SectionName::parse(&name)
                    .map_err(|error| ParseError::new(self.path, heading.line, error.to_string()))?;
                let body = tidy(&body).to_owned();
                if body.is_empty() {
                    continue;
                }
                match written.iter_mut().find(|(n, _)| *n == name) {
                    Some((_, existing)) => {
                        existing.push_str(&format!("\n\n### {}\n\n{body}", heading.text));
                    }
                    None => written.push((name, body)),
                }
            }
        }
        let preamble = tidy(&preamble).to_owned();
        if !preamble.is_empty() {
            let name = if written.iter().any(|(n, _)| n.as_str() == "summary") {
                "background"
            } else {
                "summary"
            };
            self.note(
                preamble_start,
                format!("text before the first section → section `{name}`"),
            );
            written.insert(
                0,
                (SectionName::parse(name).expect("a valid name"), preamble),
            );
        }

        timeline.sort_by_key(|entry: &BundleTimelineEntry| entry.entry.at);
        mark(&mut timeline);
        if started.is_none() {
            started = timeline.first().map(|entry| entry.entry.at);
        }

        let summary_text = written
            .iter()
            .find(|(n, _)| n.as_str() == "summary")
            .map_or("", |(_, body)| body.as_str());
        let kind = facts
            .kind
            .as_deref()
            .and_then(kind_of)
            .or_else(|| kind_of(&format!("{} {summary_text}", title.as_str())))
            .unwrap_or(IncidentKind::Outage);
        let severity = facts.severity.as_deref().and_then(severity_of);
        if severity.is_none() {
            self.notes.push(MappingNote {
                line: 1,
                note: "no severity found; SEV3 assumed".to_owned(),
            });
        }
        let status = facts
            .status
            .as_deref()
            .map(status_of)
            .unwrap_or(PostmortemStatus::Published);
        let template = facts
            .template
            .as_deref()
            .and_then(|raw| TemplateName::parse(raw).ok())
            .unwrap_or_else(TemplateName::full);
        let created_at = started.unwrap_or(self.context.now);
        let importer = self.context.importer.clone();
        let sections = written
            .into_iter()
            .map(|(name, body)| {
                Markdown::parse_field(name.as_str(), body)
                    .map(|body| BundleSection {
                        name,
                        body,
                        updated_by: importer.clone(),
                    })
                    .map_err(|error| ParseError::new(self.path, 1, error.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let services = self.names("services", &facts.services);
        let teams = self.names("teams", &facts.teams);
        Ok(Document {
            id: None,
            version: None,
            bundle: IncidentBundle {
                incident: NewIncident {
                    title,
                    kind,
                    severity: severity.unwrap_or_else(|| Severity::parse("SEV3").expect("valid")),
                    started_at: started,
                    services,
                    teams,
                    impact: Impact::default(),
                    restricted: NewIncident::restricted_by_default(kind),
                    template,
                },
                created_by: importer,
                created_at,
                status,
                due_on: None,
                published_at: (status == PostmortemStatus::Published).then_some(created_at),
                sections,
                timeline,
                factors,
                actions,
                reviews: Vec::new(),
            },
            policy: None,
            members: Vec::new(),
            imported_from: Some(self.path.to_owned()),
        })
    }

    fn names(&mut self, field: &str, raw: &[String]) -> Vec<Name> {
        let mut names = Vec::new();
        for value in raw {
            match Name::parse_field(field, slug::slugify(value)) {
                Ok(name) if !names.contains(&name) => names.push(name),
                Ok(_) => {}
                Err(_) => self.notes.push(MappingNote {
                    line: 1,
                    note: format!(
                        "{field}: `{value}` is not a name this system can keep; left out"
                    ),
                }),
            }
        }
        names
    }

    /// List items, table rows and lines of `range` that start with a time become entries;
    /// what else the section held is returned as text, so nothing is dropped.
    fn timeline(
        &mut self,
        range: Range<usize>,
        day: &mut Option<Date>,
        zone: UtcOffset,
    ) -> (Vec<BundleTimelineEntry>, Option<String>) {
        let mut entries = Vec::new();
        let mut consumed: Vec<Range<usize>> = Vec::new();
        // Table rows that are not entries (a date with no time), kept as a smaller table.
        let mut kept_rows = String::new();
        for block in blocks(self.text, range.clone()) {
            match block {
                Block::Item { range: item, text } | Block::Line { range: item, text } => {
                    if let Some(entry) = self.entry(&text, day, zone) {
                        entries.push(entry);
                        consumed.push(item);
                    }
                }
                Block::Table {
                    range: table,
                    header,
                    rows,
                } => {
                    let mut unread = Vec::new();
                    for row in rows {
                        let joined = row.join(" | ");
                        let only_date = find_at_start(&joined)
                            .filter(|found| found.time.is_none() && found.len == joined.len());
                        if let Some(found) = only_date {
                            *day = found.date.or(*day);
                            continue;
                        }
                        match self.entry(&joined, day, zone) {
                            Some(entry) => entries.push(entry),
                            None => {
                                if let Some(found) = find_at_start(&joined).and_then(|f| f.date) {
                                    *day = Some(found);
                                }
                                unread.push(row);
                            }
                        }
                    }
                    consumed.push(table);
                    if !unread.is_empty() {
                        kept_rows.push_str(&table_text(&header, &unread));
                    }
                }
            }
        }
        let rest = leftover(self.text, range, &consumed);
        let rest = match (rest, kept_rows.is_empty()) {
            (rest, true) => rest,
            (None, false) => Some(kept_rows.trim_end().to_owned()),
            (Some(rest), false) => Some(format!("{rest}\n\n{}", kept_rows.trim_end())),
        };
        (entries, rest)
    }

    fn entry(
        &self,
        text: &str,
        day: &mut Option<Date>,
        zone: UtcOffset,
    ) -> Option<BundleTimelineEntry> {
        let found = find_at_start(text)?;
        if found.date.is_some() {
            *day = found.date;
        }
        let at = found.instant(*day, zone)?;
        let rest = text[found.len..]
            .trim()
            .trim_start_matches(['|', '-', '–', '—', ':', ' '])
            .trim_end_matches(['|', ' '])
            .replace(" | ", " — ");
        let text = Markdown::parse_non_empty("text", rest.trim()).ok()?;
        Some(BundleTimelineEntry {
            author: self.context.importer.clone(),
            entry: NewTimelineEntry {
                at,
                text,
                actor: None,
                marker: None,
                perspective: Perspective::Happened,
                source: Source::Import,
                source_url: None,
            },
        })
    }

    /// Task lists, plain lists and tables under an action heading become action items.
    fn actions(
        &mut self,
        range: Range<usize>,
        day: Option<Date>,
    ) -> (Vec<BundleAction>, Option<String>) {
        let mut items = Vec::new();
        let mut consumed = Vec::new();
        for block in blocks(self.text, range.clone()) {
            match block {
                Block::Item { range: item, text } => {
                    if let Some(action) = action_from_text(&text, None) {
                        items.push(action);
                        consumed.push(item);
                    }
                }
                Block::Table {
                    range: table,
                    header,
                    rows,
                } => {
                    let columns = Columns::of(&header);
                    let mut all = true;
                    for row in rows {
                        match columns.action(&row, day) {
                            Some(action) => items.push(action),
                            None => all = false,
                        }
                    }
                    if all {
                        consumed.push(table);
                    }
                }
                Block::Line { .. } => {}
            }
        }
        (items, leftover(self.text, range, &consumed))
    }

    fn factors(&self, range: Range<usize>) -> Vec<NewFactor> {
        blocks(self.text, range)
            .into_iter()
            .filter_map(|block| match block {
                Block::Item { text, .. } => Some(text),
                _ => None,
            })
            .filter_map(|text| {
                let description = Markdown::parse_non_empty("description", text.trim()).ok()?;
                Some(NewFactor {
                    category: category_of(&text),
                    description,
                    is_trigger: false,
                })
            })
            .collect()
    }
}
