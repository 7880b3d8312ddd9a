//! The lists and tables of a post-mortem written elsewhere: top-level items, table rows and
//! paragraph lines of a section, what is left of a section once entries were taken from it,
//! and action items from an item's text or a table row.

use super::words::{action_kind_of, action_status_of, normalise, priority_of};
use crate::syntax::tidy;
use crate::when::find_at_start;
use postmortem_core::{ActionStatus, BundleAction, Handle, NewActionItem, Title, WebLink};
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::ops::Range;
use time::Date;

/// What a section holds, as far as import cares: top-level list items, table rows, and
/// lines of paragraphs.
pub(super) enum Block {
    Item {
        range: Range<usize>,
        text: String,
    },
    Line {
        range: Range<usize>,
        text: String,
    },
    Table {
        range: Range<usize>,
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

/// A table being read: where it is, its header, its rows, and whether the header is still
/// being read.
type TableInProgress = (Range<usize>, Vec<String>, Vec<Vec<String>>, bool);

pub(super) fn blocks(text: &str, range: Range<usize>) -> Vec<Block> {
    let section = &text[range.clone()];
    let base = range.start;
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut table: Option<TableInProgress> = None;
    let mut cell: Option<Range<usize>> = None;
    let mut row: Vec<String> = Vec::new();
    for (event, at) in Parser::new_ext(section, Options::ENABLE_TABLES | Options::ENABLE_TASKLISTS)
        .into_offset_iter()
    {
        match event {
            Event::Start(Tag::List(_)) => depth += 1,
            Event::End(TagEnd::List(_)) => depth = depth.saturating_sub(1),
            Event::Start(Tag::Item) if depth == 1 => {
                let raw = &section[at.clone()];
                out.push(Block::Item {
                    range: base + at.start..base + at.end,
                    text: item_text(raw),
                });
            }
            Event::Start(Tag::Paragraph) if depth == 0 && table.is_none() => {
                let mut offset = at.start;
                for line in section[at.clone()].split_inclusive('\n') {
                    let bare = line.trim();
                    if !bare.is_empty() {
                        out.push(Block::Line {
                            range: base + offset..base + offset + line.len(),
                            text: bare.to_owned(),
                        });
                    }
                    offset += line.len();
                }
            }
            Event::Start(Tag::Table(_)) => {
                table = Some((base + at.start..base + at.end, Vec::new(), Vec::new(), true))
            }
            Event::End(TagEnd::TableHead) => {
                if let Some((_, header, _, in_head)) = table.as_mut() {
                    *header = std::mem::take(&mut row);
                    *in_head = false;
                }
            }
            Event::Start(Tag::TableCell) => cell = Some(at),
            Event::End(TagEnd::TableCell) => {
                if let Some(cell) = cell.take() {
                    row.push(section[cell].trim().trim_matches('|').trim().to_owned());
                }
            }
            Event::End(TagEnd::TableRow) => {
                if let Some((_, _, rows, _)) = table.as_mut() {
                    let cells = std::mem::take(&mut row);
                    if cells
                        .iter()
                        .any(|c| !c.is_empty() && c != "…" && c != "...")
                    {
                        rows.push(cells);
                    }
                }
            }
            Event::End(TagEnd::Table) => {
                if let Some((range, header, rows, _)) = table.take() {
                    out.push(Block::Table {
                        range,
                        header,
                        rows,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// A list item's text without its marker, and the lines under it joined with line breaks.
pub(super) fn item_text(raw: &str) -> String {
    let mut lines = raw.lines();
    let first = lines.next().unwrap_or("").trim_start();
    let first = first
        .strip_prefix(['-', '*', '+'])
        .map(str::trim_start)
        .unwrap_or_else(|| {
            first
                .trim_start_matches(|c: char| c.is_ascii_digit())
                .trim_start_matches(['.', ')'])
                .trim_start()
        });
    let mut text = first.to_owned();
    for line in lines {
        text.push('\n');
        text.push_str(line.trim());
    }
    text.trim().to_owned()
}

/// A Markdown table of `rows` under `header`.
pub(super) fn table_text(header: &[String], rows: &[Vec<String>]) -> String {
    let line = |cells: &[String]| format!("| {} |\n", cells.join(" | "));
    let mut text = line(header);
    text.push_str(&line(&vec!["---".to_owned(); header.len().max(1)]));
    for row in rows {
        text.push_str(&line(row));
    }
    text.push('\n');
    text
}

/// The text of `range` without the `consumed` parts, if anything but blank lines is left.
pub(super) fn leftover(
    text: &str,
    range: Range<usize>,
    consumed: &[Range<usize>],
) -> Option<String> {
    let mut rest = String::new();
    let mut at = range.start;
    let mut sorted = consumed.to_vec();
    sorted.sort_by_key(|r| r.start);
    for taken in sorted {
        if taken.start > at {
            rest.push_str(&text[at..taken.start]);
        }
        at = at.max(taken.end);
    }
    if at < range.end {
        rest.push_str(&text[at..range.end]);
    }
    let tidied = tidy(&rest);
    (!tidied.is_empty()).then(|| tidied.to_owned())
}

/// The columns of an action table, found by their headers.
pub(super) struct Columns {
    title: Option<usize>,
    owner: Option<usize>,
    due: Option<usize>,
    status: Option<usize>,
    priority: Option<usize>,
    link: Option<usize>,
}

impl Columns {
    pub(super) fn of(header: &[String]) -> Self {
        let find = |words: &[&str]| {
            header
                .iter()
                .position(|h| words.iter().any(|w| normalise(h).contains(w)))
        };
        let owner = find(&["owner", "assignee", "who", "responsible"]);
        let title = find(&[
            "task",
            "action",
            "item",
            "description",
            "what",
            "title",
            "remediation",
        ])
        .or_else(|| (0..header.len()).find(|&i| Some(i) != owner));
        Self {
            title,
            owner,
            due: find(&["due", "deadline", "by when", "date"]),
            status: find(&["status", "state", "done"]),
            priority: find(&["priority"]),
            link: find(&["ticket", "issue", "link", "jira", "bug", "tracking"]),
        }
    }

    pub(super) fn action(&self, row: &[String], day: Option<Date>) -> Option<BundleAction> {
        let cell = |index: Option<usize>| {
            index
                .and_then(|i| row.get(i))
                .map(String::as_str)
                .filter(|c| !c.is_empty())
        };
        let mut action = action_from_text(cell(self.title)?, cell(self.status))?;
        if let Some(owner) = cell(self.owner) {
            action.owner = Handle::derive(owner.trim_start_matches('@'));
        }
        if let Some(due) = cell(self.due) {
            action.item.due_on = find_at_start(due).and_then(|f| f.date).or_else(|| {
                // "June 28": a month and a day, in the incident's year.
                let with_year = format!("{due} {}", day?.year());
                find_at_start(&with_year).and_then(|f| f.date)
            });
        }
        if let Some(priority) = cell(self.priority) {
            action.item.priority = priority_of(priority);
        }
        if let Some(link) = cell(self.link).and_then(first_link) {
            action.item.external_url = Some(link);
        }
        Some(action)
    }
}

/// An action item from a line of text: `[x]` marks it done, `@handle` names its owner, a link
/// becomes its external link, and the words say what kind of change it is.
pub(super) fn action_from_text(text: &str, status: Option<&str>) -> Option<BundleAction> {
    let (checked, rest) = if let Some(rest) = text
        .strip_prefix("[x]")
        .or_else(|| text.strip_prefix("[X]"))
    {
        (true, rest)
    } else {
        (false, text.strip_prefix("[ ]").unwrap_or(text))
    };
    let first_line = rest.lines().next().unwrap_or("").trim();
    let plain = plain_text(first_line);
    if plain.is_empty() {
        return None;
    }
    let title = Title::parse_field("title", truncate(&plain, Title::MAX_CHARS)).ok()?;
    let mut status = match status {
        Some(status) => action_status_of(status),
        None if checked => ActionStatus::Done,
        None => ActionStatus::Open,
    };
    let owner = rest
        .split_whitespace()
        .find_map(|word| word.trim_start_matches(['(', '[']).strip_prefix('@'))
        .and_then(|handle| Handle::parse(handle.trim_end_matches([',', '.', ')'])).ok());
    let wont_do_reason = (status == ActionStatus::WontDo).then(|| status_reason(text));
    if wont_do_reason.as_deref().is_some_and(str::is_empty) {
        status = ActionStatus::Open;
    }
    let lower = plain.to_lowercase();
    Some(BundleAction {
        owner,
        factor_indexes: Vec::new(),
        item: NewActionItem {
            title,
            owner: None,
            team: None,
            due_on: None,
            priority: priority_of(&lower),
            kind: action_kind_of(&lower),
            status,
            wont_do_reason: wont_do_reason.filter(|r| !r.is_empty()),
            external_url: first_link(rest),
            factor_ids: Vec::new(),
            verification: None,
        },
        completed_at: None,
    })
}

pub(super) fn status_reason(text: &str) -> String {
    format!(
        "marked as not to be done in the imported post-mortem: {}",
        plain_text(text)
    )
}

/// Markdown inline text as plain words: emphasis, code marks and link targets taken out.
pub(super) fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new(markdown) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub(super) fn first_link(text: &str) -> Option<WebLink> {
    text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '[' | ']'))
        .find(|word| word.starts_with("https://") || word.starts_with("http://"))
        .and_then(|word| WebLink::parse(word.trim_end_matches(['.', ',', ';'])).ok())
}

pub(super) fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max_chars - 1).collect();
        format!("{}…", cut.trim_end())
    }
}

pub(super) fn file_stem(path: &str) -> Option<String> {
    let name = path.rsplit(['/', '\\']).next()?;
    let stem = name
        .strip_suffix(".md")
        .or_else(|| name.strip_suffix(".markdown"))
        .unwrap_or(name);
    (!stem.is_empty() && stem != "-").then(|| stem.to_owned())
}
