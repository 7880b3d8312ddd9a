//! Passages of a section as a reader sees them: the section's reading text (its words without
//! Markdown marks, which is what a reader selects and quotes) and its HTML with chosen
//! passages of that text marked, so a review comment shows beside the words it is about.
//!
//! Both walk the same events in the same way, so a byte range found in the reading text marks
//! exactly those words in the HTML.

use pulldown_cmark::{CowStr, Event, Options, Parser, TagEnd, html};
use std::ops::Range;

/// The Markdown extensions the pages render with.
pub const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_TASKLISTS);

/// A passage of the reading text to mark, and the comments about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mark {
    pub range: Range<usize>,
    /// The id of the comment about it.
    pub comment: i64,
}

/// Whether the end of this block separates its words from the next block's.
fn ends_block(end: &TagEnd) -> bool {
    matches!(
        end,
        TagEnd::Paragraph
            | TagEnd::Heading(_)
            | TagEnd::BlockQuote(_)
            | TagEnd::CodeBlock
            | TagEnd::Item
            | TagEnd::TableHead
            | TagEnd::TableRow
            | TagEnd::TableCell
            | TagEnd::FootnoteDefinition
            | TagEnd::DefinitionListTitle
            | TagEnd::DefinitionListDefinition
    )
}

/// What an event adds to the reading text: its words, or a space between words.
enum Reading<'a> {
    Words(&'a str),
    Space,
    Nothing,
}

fn reading<'a>(event: &'a Event<'a>) -> Reading<'a> {
    match event {
        Event::Text(text) | Event::Code(text) => Reading::Words(text),
        Event::SoftBreak | Event::HardBreak | Event::Rule => Reading::Space,
        Event::End(end) if ends_block(end) => Reading::Space,
        _ => Reading::Nothing,
    }
}

/// The words of a Markdown text as a reader sees them rendered, blocks separated by a space.
pub fn reading_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, OPTIONS) {
        match reading(&event) {
            Reading::Words(words) => text.push_str(words),
            Reading::Space => text.push(' '),
            Reading::Nothing => {}
        }
    }
    text
}

/// Escapes text for an attribute value or element content.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The text's HTML (not yet cleaned: the caller sanitises it as any rendered Markdown) with
/// each mark's words wrapped in `<mark class="passage" data-comments="ids">`; the first piece
/// of a comment's passage carries `id="passage-{comment}"`. Words marked across blocks or
/// inline elements are wrapped piece by piece, so the HTML stays well nested.
pub fn marked_html(markdown: &str, marks: &[Mark]) -> String {
    let mut events: Vec<Event> = Vec::new();
    let mut at = 0usize;
    let mut started: Vec<i64> = Vec::new();
    // The parser splits text at characters that could have been syntax; joined again, a
    // passage is wrapped in one piece.
    let mut joined: Vec<Event> = Vec::new();
    for event in Parser::new_ext(markdown, OPTIONS) {
        match (joined.last_mut(), event) {
            (Some(Event::Text(before)), Event::Text(more)) => {
                *before = CowStr::from(format!("{before}{more}"));
            }
            (_, event) => joined.push(event),
        }
    }
    for event in joined {
        let (words, code) = match &event {
            Event::Text(text) => (text.to_string(), false),
            Event::Code(text) => (text.to_string(), true),
            _ => {
                if let Reading::Space = reading(&event) {
                    at += 1;
                }
                events.push(event);
                continue;
            }
        };
        let span = at..at + words.len();
        at = span.end;
        // Where inside these words a mark starts or ends.
        let mut cuts: Vec<usize> = vec![span.start, span.end];
        for mark in marks {
            for edge in [mark.range.start, mark.range.end] {
                if span.start < edge && edge < span.end && words.is_char_boundary(edge - span.start)
                {
                    cuts.push(edge);
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        if code {
            events.push(Event::Html(CowStr::from("<code>")));
        }
        for piece in cuts.windows(2) {
            let (from, to) = (piece[0], piece[1]);
            let text = &words[from - span.start..to - span.start];
            let covering: Vec<i64> = marks
                .iter()
                .filter(|m| m.range.start < to && from < m.range.end)
                .map(|m| m.comment)
                .collect();
            if covering.is_empty() {
                events.push(Event::Text(CowStr::from(text.to_owned())));
                continue;
            }
            let ids: Vec<String> = covering.iter().map(i64::to_string).collect();
            let first = covering.iter().find(|id| !started.contains(id)).copied();
            for id in &covering {
                if !started.contains(id) {
                    started.push(*id);
                }
            }
            let id_attribute = first.map_or(String::new(), |id| format!(" id=\"passage-{id}\""));
            events.push(Event::InlineHtml(CowStr::from(format!(
                "<mark class=\"passage\"{id_attribute} data-comments=\"{}\">{}</mark>",
                ids.join(" "),
                escape(text)
            ))));
        }
        if code {
            events.push(Event::Html(CowStr::from("</code>")));
        }
    }
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    out
}

#[cfg(test)]
mod tests {
    use super::{Mark, marked_html, reading_text};

    #[test]
    fn the_reading_text_holds_the_words_without_marks() {
        assert_eq!(
            reading_text("Customers saw **errors** for `20` minutes.\n\n- one\n- two"),
            "Customers saw errors for 20 minutes. one two "
        );
    }

    #[test]
    fn a_marked_passage_wraps_its_words_across_emphasis() {
        let text = "Customers saw **errors** for 20 minutes.";
        let reading = reading_text(text);
        let start = reading.find("saw errors for").unwrap();
        let html = marked_html(
            text,
            &[Mark {
                range: start..start + "saw errors for".len(),
                comment: 7,
            }],
        );
        assert_eq!(
            html.trim(),
            "<p>Customers <mark class=\"passage\" id=\"passage-7\" data-comments=\"7\">saw </mark><strong><mark class=\"passage\" data-comments=\"7\">errors</mark></strong><mark class=\"passage\" data-comments=\"7\"> for</mark> 20 minutes.</p>"
        );
    }

    #[test]
    fn marked_words_are_escaped() {
        let html = marked_html(
            "1 < 2 & 3",
            &[Mark {
                range: 0..9,
                comment: 1,
            }],
        );
        assert!(html.contains(">1 &lt; 2 &amp; 3</mark>"), "{html}");
    }
}
