//! Markdown to safe HTML: pulldown-cmark renders, ammonia removes anything that could run
//! (scripts, event handlers, `javascript:` links), so stored text never executes.

//!
//! Rendering and cleaning cost more than the rest of an incident page together, and the same
//! texts are shown again and again, so the safe HTML of recent texts is kept in memory, keyed
//! by the text itself: a text always renders to the same HTML, so nothing ever goes stale.

use pulldown_cmark::{Options, Parser, html};
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

pub(crate) fn render(markdown: &str) -> maud::PreEscaped<Arc<str>> {
    if let Some(html) = RENDERED.get(markdown) {
        return maud::PreEscaped(html);
    }
    let html: Arc<str> = render_uncached(markdown).into();
    RENDERED.insert(markdown.into(), html.clone());
    maud::PreEscaped(html)
}

fn render_uncached(markdown: &str) -> String {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
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
