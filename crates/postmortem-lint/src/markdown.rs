//! Markdown layer: turns a document into blocks of prose (paragraphs, headings, list items,
//! table cells) with a map back to source byte offsets, skipping what is not prose (code,
//! front matter, HTML, URLs) and collecting `<!-- postmortem-lint ... -->` directives.

use std::ops::Range;

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

use crate::token::CODE_PLACEHOLDER;

/// A run of prose text copied from (or standing in for) a source range.
#[derive(Debug, Clone, Copy)]
struct Piece {
    prose: usize,
    len: usize,
    src: usize,
    src_len: usize,
}

impl Piece {
    /// Byte-for-byte copy of the source: offsets inside it map one to one.
    fn exact(&self) -> bool {
        self.len == self.src_len
    }
}

/// One block of prose and its map to the source.
#[derive(Debug, Default)]
pub(crate) struct Block {
    pub text: String,
    pieces: Vec<Piece>,
    /// Inside a block quote (a pasted chat log): findings are one severity level lower.
    pub quoted: bool,
    /// A heading: a label, not a sentence, so the model does not read it.
    pub heading: bool,
}

impl Block {
    fn push(&mut self, s: &str, src: Range<usize>) {
        if s.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            prose: self.text.len(),
            len: s.len(),
            src: src.start,
            src_len: src.len(),
        });
        self.text.push_str(s);
    }

    fn clear(&mut self) {
        self.text.clear();
        self.pieces.clear();
    }

    fn piece_at(&self, offset: usize) -> &Piece {
        let i = self
            .pieces
            .partition_point(|p| p.prose <= offset)
            .saturating_sub(1);
        &self.pieces[i]
    }

    /// Maps a byte range of the prose text to the source. Ranges inside verbatim pieces map
    /// exactly; ranges touching a replaced piece (an entity, inline code) widen to cover it.
    pub(crate) fn to_source(&self, r: Range<usize>) -> Range<usize> {
        if self.pieces.is_empty() {
            return 0..0;
        }
        let p = self.piece_at(r.start);
        let start = if p.exact() {
            p.src + (r.start - p.prose).min(p.src_len)
        } else {
            p.src
        };
        let last = r.end.saturating_sub(1).max(r.start);
        let q = self.piece_at(last);
        let end = if q.exact() {
            q.src + (r.end - q.prose).min(q.src_len)
        } else {
            q.src + q.src_len
        };
        start..end.max(start)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirectiveKind {
    Disable,
    Enable,
    DisableNextLine,
}

/// A `<!-- postmortem-lint ... -->` comment.
#[derive(Debug, Clone)]
pub(crate) struct Directive {
    pub kind: DirectiveKind,
    /// Rule ids or category names; empty means every rule.
    pub rules: Vec<String>,
    /// Byte offset just past the comment.
    pub offset: usize,
}

fn parse_directives(html: &str, base: usize, out: &mut Vec<Directive>) {
    let mut rest = html;
    let mut offset = base;
    while let Some(open) = rest.find("<!--") {
        let after = &rest[open + 4..];
        let Some(close) = after.find("-->") else {
            return;
        };
        let body = after[..close].trim();
        let end = offset + open + 4 + close + 3;
        if let Some(args) = body.strip_prefix("postmortem-lint") {
            let mut words = args
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|w| !w.is_empty());
            let kind = match words.next() {
                Some("disable") => Some(DirectiveKind::Disable),
                Some("enable") => Some(DirectiveKind::Enable),
                Some("disable-next-line") => Some(DirectiveKind::DisableNextLine),
                _ => None,
            };
            if let Some(kind) = kind {
                out.push(Directive {
                    kind,
                    rules: words.map(str::to_string).collect(),
                    offset: end,
                });
            }
        }
        offset = end;
        rest = &after[close + 3..];
    }
}

fn options() -> Options {
    Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        | Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
}

/// Walks the document, calling `on_block` for every non-empty block of prose.
pub(crate) fn walk(src: &str, directives: &mut Vec<Directive>, mut on_block: impl FnMut(&Block)) {
    let mut block = Block::default();
    let mut quote_depth = 0usize;
    // Nesting counters for regions whose text is not prose.
    let (mut code, mut meta, mut image, mut autolink) = (0usize, 0usize, 0usize, 0usize);
    let mut heading = false;
    let mut flush = |block: &mut Block, quote_depth: usize, heading: bool| {
        if block.text.bytes().any(|b| !b.is_ascii_whitespace()) {
            block.quoted = quote_depth > 0;
            block.heading = heading;
            on_block(block);
        }
        block.clear();
    };
    let mut placeholder = [0u8; 4];
    let placeholder: &str = CODE_PLACEHOLDER.encode_utf8(&mut placeholder);
    for (event, range) in Parser::new_ext(src, options()).into_offset_iter() {
        let skipping = code + meta + image + autolink > 0;
        match event {
            Event::Start(tag) => match tag {
                Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Superscript
                | Tag::Subscript => {}
                Tag::Link {
                    link_type: LinkType::Autolink | LinkType::Email,
                    ..
                } => {
                    if !skipping {
                        block.push(placeholder, range);
                    }
                    autolink += 1;
                }
                Tag::Link { .. } => {}
                Tag::Image { .. } => {
                    if !skipping {
                        block.push(placeholder, range);
                    }
                    image += 1;
                }
                Tag::CodeBlock(_) => {
                    flush(&mut block, quote_depth, heading);
                    code += 1;
                }
                Tag::MetadataBlock(_) => {
                    flush(&mut block, quote_depth, heading);
                    meta += 1;
                }
                Tag::BlockQuote(_) => {
                    flush(&mut block, quote_depth, heading);
                    quote_depth += 1;
                }
                Tag::Heading { .. } => {
                    flush(&mut block, quote_depth, heading);
                    heading = true;
                }
                _ => flush(&mut block, quote_depth, heading),
            },
            Event::End(tag) => match tag {
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript => {}
                TagEnd::Link => autolink = autolink.saturating_sub(1),
                TagEnd::Image => image = image.saturating_sub(1),
                TagEnd::CodeBlock => code = code.saturating_sub(1),
                TagEnd::MetadataBlock(_) => meta = meta.saturating_sub(1),
                TagEnd::Heading(_) => {
                    flush(&mut block, quote_depth, heading);
                    heading = false;
                }
                TagEnd::BlockQuote(_) => {
                    flush(&mut block, quote_depth, heading);
                    quote_depth = quote_depth.saturating_sub(1);
                }
                _ => flush(&mut block, quote_depth, heading),
            },
            Event::Text(text) => {
                if !skipping {
                    block.push(&text, range);
                }
            }
            Event::Code(_) | Event::InlineMath(_) | Event::DisplayMath(_) => {
                if !skipping {
                    block.push(placeholder, range);
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => {
                if html.contains("<!--") {
                    parse_directives(&html, range.start, directives);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if !skipping {
                    block.push("\n", range);
                }
            }
            Event::Rule => flush(&mut block, quote_depth, heading),
            Event::FootnoteReference(_) | Event::TaskListMarker(_) => {}
        }
    }
    flush(&mut block, quote_depth, heading);
}
