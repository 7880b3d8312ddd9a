//! Markdown to safe HTML: pulldown-cmark renders, ammonia removes anything that could run
//! (scripts, event handlers, `javascript:` links), so stored text never executes.

use pulldown_cmark::{Options, Parser, html};

pub(crate) fn render(markdown: &str) -> maud::PreEscaped<String> {
    let parser = Parser::new_ext(
        markdown,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, parser);
    maud::PreEscaped(
        ammonia::Builder::default()
            .url_schemes(["http", "https", "mailto"].into())
            .link_rel(Some("noopener noreferrer nofollow"))
            .clean(&unsafe_html)
            .to_string(),
    )
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
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render("<script>alert(1)</script><img src=x onerror=alert(1)> [x](javascript:alert(1)) <svg onload=alert(1)>").0;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("onload"), "{html}");
        let link = render("[click](javascript:alert(1)) and [ok](https://example.com)").0;
        assert!(!link.contains("href=\"javascript:"), "{link}");
        assert!(link.contains("href=\"https://example.com\""), "{link}");
    }
}
