//! Post-mortems exported as HTML (Confluence's page export, Google Docs' "Download as HTML")
//! converted to Markdown with `htmd`, so that headings, tables (timeline tables), lists and
//! checklists reach the same mapping as a Markdown file's. A document nested deeper than any
//! real page is refused before it is converted, so a hostile file ends in an error, not in a
//! deep recursion.

use crate::ParseError;
use htmd::options::{BulletListMarker, Options};
use htmd::{HtmlToMarkdown, Node};
use regex::Regex;
use std::rc::Rc;
use std::sync::LazyLock;

/// The deepest element nesting a page may have: real exports stay under 40.
pub const MAX_HTML_DEPTH: usize = 256;

/// Whether a file's text is an HTML document rather than Markdown: it starts (after a byte
/// order mark and blank space) with a doctype, `<html`, `<head>`, `<body>` or `<meta`.
pub fn is_html(text: &str) -> bool {
    let start: String = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    ["<!doctype html", "<html", "<head", "<body", "<meta"]
        .iter()
        .any(|prefix| start.starts_with(prefix))
}

/// A Confluence task (`<li data-inline-task-id=... class="checked">`) or any list item with
/// the class `checked`: marked with a ballot box the conversion turns into `[x]`.
static TASK_ITEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<li\b([^>]*?\bdata-inline-task-id\b[^>]*|[^>]*?\bclass\s*=\s*"[^"]*\bchecked\b[^"]*"[^>]*)>"#)
        .expect("a valid pattern")
});

/// A list item that starts with a ballot box (as Google Docs writes a checklist, and as
/// [`TASK_ITEM`] marks Confluence tasks) or `[ ]`/`[x]`, after the list marker.
static BALLOT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(\s*)[*-]\s+(?:\\?\[( |x|X)\\?\]|(☐)|(☑|☒|✅|✔))\s*")
        .expect("a valid pattern")
});

/// A table, header cells and rows: Google Docs writes tables without `<th>`, Confluence
/// writes facts tables with a `<th>` at the start of each row; the converter makes a pipe
/// table only of a table whose first row is its header, so every table is given one.
static TABLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<table\b.*?</table\s*>").expect("a valid pattern"));
static HEADER_CELL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<(/?)th\b").expect("a valid pattern"));
static FIRST_ROW: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?is)<tr\b.*?</tr\s*>").expect("a valid pattern"));
static DATA_CELL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<(/?)td\b").expect("a valid pattern"));

/// A row of a facts table (Confluence's page properties): a header cell, then one value.
static FACT_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<tr\b[^>]*>\s*<th\b[^>]*>(.*?)</th\s*>\s*<td\b[^>]*>(.*?)</td\s*>\s*</tr\s*>")
        .expect("a valid pattern")
});
static TAG: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"<[^>]*>").expect("a valid pattern"));

/// Every table with its first row, and only it, as header cells; a facts table (each row a
/// header cell and a value) becomes `Key: value` lines, which the mapping reads as facts.
fn with_header_rows(html: &str) -> String {
    TABLE
        .replace_all(html, |table: &regex::Captures<'_>| {
            let rows = FIRST_ROW.find_iter(&table[0]).count();
            let facts: Vec<String> = FACT_ROW
                .captures_iter(&table[0])
                .map(|row| {
                    let key = TAG.replace_all(&row[1], " ");
                    let value = TAG.replace_all(&row[2], " ");
                    format!("<p>{}: {}</p>", key.trim(), value.trim())
                })
                .collect();
            if rows > 0 && facts.len() == rows {
                return facts.join("\n");
            }
            let cells = HEADER_CELL.replace_all(&table[0], "<${1}td");
            FIRST_ROW
                .replace(&cells, |row: &regex::Captures<'_>| {
                    DATA_CELL.replace_all(&row[0], "<${1}th").into_owned()
                })
                .into_owned()
        })
        .into_owned()
}

/// Converts an HTML export to Markdown: `<title>` and `<style>`/`<script>` left out,
/// headings as `#`, tables as pipe tables, lists with `-`, checklists as `- [ ]`/`- [x]`.
pub fn to_markdown(path: &str, html: &str) -> Result<String, ParseError> {
    let tables = with_header_rows(html);
    let marked = TASK_ITEM.replace_all(&tables, |caps: &regex::Captures<'_>| {
        let attributes = &caps[1];
        let checked = attributes.to_ascii_lowercase().contains("checked");
        format!("<li{attributes}>{} ", if checked { "☑" } else { "☐" })
    });
    let converter = HtmlToMarkdown::builder()
        .options(Options {
            bullet_list_marker: BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            ..Options::default()
        })
        .skip_tags(vec!["head", "script", "style", "noscript", "template"])
        .build();
    let tree = converter
        .html_to_tree(&marked)
        .map_err(|error| ParseError::new(path, 1, format!("the HTML cannot be read: {error}")))?;
    let depth = depth_of(&tree);
    if depth > MAX_HTML_DEPTH {
        return Err(ParseError::new(
            path,
            1,
            format!(
                "the HTML nests elements {depth} deep; a post-mortem page may nest at most {MAX_HTML_DEPTH} (export the page again, or save it as Markdown)"
            ),
        ));
    }
    let markdown = converter.tree_to_markdown(&tree);
    Ok(BALLOT
        .replace_all(&markdown, |caps: &regex::Captures<'_>| {
            let done = caps
                .get(2)
                .is_some_and(|mark| mark.as_str().eq_ignore_ascii_case("x"))
                || caps.get(4).is_some();
            format!("{}- [{}] ", &caps[1], if done { "x" } else { " " })
        })
        .into_owned())
}

/// How deep the tree nests, walked with a stack of its own rather than recursion.
fn depth_of(root: &Rc<Node>) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(Rc::clone(root), 0_usize)];
    while let Some((node, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        if depth > MAX_HTML_DEPTH {
            break;
        }
        for child in node.children.borrow().iter() {
            stack.push((Rc::clone(child), depth + 1));
        }
    }
    deepest
}
