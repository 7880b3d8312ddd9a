//! Markdown to safe HTML: pulldown-cmark renders, ammonia removes anything that could run
//! (scripts, event handlers, `javascript:` links), so stored text never executes.

//!
//! Rendering and cleaning cost more than the rest of an incident page together, and the same
//! texts are shown again and again, so the safe HTML of recent texts is kept in memory, keyed
//! by the text itself: a text always renders to the same HTML, so nothing ever goes stale.

use pulldown_cmark::{Parser, html};
use quick_cache::Weighter;
use quick_cache::sync::Cache;
use std::sync::{Arc, LazyLock};

/// Bytes of Markdown and HTML kept, together.
const KEPT_BYTES: u64 = 32 * 1024 * 1024;

#[derive(Debug, Clone)]
struct TextBytes;

impl Weighter<Box<str>, Arc<str>> for TextBytes {
    fn weight(&self, markdown: &Box<str>, html: &Arc<str>) -> u64 {
        (markdown.len() + html.len()) as u64
    }
}

static RENDERED: LazyLock<Cache<Box<str>, Arc<str>, TextBytes>> =
    LazyLock::new(|| Cache::with_weighter(16_384, KEPT_BYTES, TextBytes));

/// Only web and mail links survive; every link is marked so it passes no referrer or rank.
static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"));
    cleaner
});

/// The same cleaning, with the passage marks review comments put on a section kept.
static MARKED_CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut cleaner = ammonia::Builder::default();
    cleaner
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tags(["mark"])
        .add_tag_attributes("mark", ["class", "id", "data-comments"]);
    cleaner
});

/// A section's text with the passages review comments are about marked (`<mark
/// class="passage" id="passage-{comment}">`). Not kept in memory: marks change with comments,
/// and only sections with open comments on passages are rendered this way.
pub(crate) fn render_marked(
    markdown: &str,
    marks: &[postmortem_markdown::passages::Mark],
) -> maud::PreEscaped<String> {
    if marks.is_empty() {
        return maud::PreEscaped(render(markdown).0.to_string());
    }
    let unsafe_html = postmortem_markdown::passages::marked_html(markdown, marks);
    maud::PreEscaped(MARKED_CLEANER.clean(&unsafe_html).to_string())
}

pub(crate) fn render(markdown: &str) -> maud::PreEscaped<Arc<str>> {
    if let Some(html) = RENDERED.get(markdown) {
        return maud::PreEscaped(html);
    }
    let html: Arc<str> = render_uncached(markdown).into();
    RENDERED.insert(markdown.into(), html.clone());
    maud::PreEscaped(html)
}

fn render_uncached(markdown: &str) -> String {
    let parser = Parser::new_ext(markdown, postmortem_markdown::passages::OPTIONS);
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    CLEANER.clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_to_html() {
        assert_eq!(
            render("**bold** `code`").0.trim(),
            "<p><strong>bold</strong> <code>code</code></p>"
        );
    }

    #[test]
    fn a_text_rendered_again_gives_the_same_html() {
        let text = "A *second* rendering of this text comes from memory.";
        assert_eq!(render(text).0, render(text).0);
        assert_eq!(&*render(text).0, super::render_uncached(text));
    }

    #[test]
    fn a_marked_passage_keeps_its_mark_and_nothing_else_passes() {
        let mark = postmortem_markdown::passages::Mark {
            range: 0..5,
            comment: 3,
        };
        let html = super::render_marked("Hello <script>x</script> world", &[mark]).0;
        assert!(
            html.contains(r#"<mark class="passage" id="passage-3" data-comments="3">Hello</mark>"#),
            "{html}"
        );
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render("<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) <svg onload=alert(1)>").0;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onload"), "{html}");
        let link = render("[click](javascript:alert(1)) and [ok](https://example.com)").0;
        assert!(
            link.contains("rel=\"noopener noreferrer nofollow\""),
            "{link}"
        );
        assert!(!link.contains("href=\"javascript:"), "{link}");
        assert!(link.contains("href=\"https://example.com\""), "{link}");
    }
}
