//! Robustness: arbitrary and Markdown-shaped input never panics, every finding's span lies
//! inside the input on character boundaries, and line/column agree with the byte range. Large
//! inputs finish in linear time.

use std::time::{Duration, Instant};

use postmortem_lint::{Finding, LintOptions, lint};
use proptest::prelude::*;

/// Recomputes line and column (1-based, characters) of a byte offset the slow, obvious way.
fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, src[line_start..offset].chars().count() + 1)
}

fn check_spans(src: &str, findings: &[Finding]) -> Result<(), TestCaseError> {
    for f in findings {
        let r = &f.byte_range;
        prop_assert!(
            r.start <= r.end && r.end <= src.len(),
            "{r:?} outside {}",
            src.len()
        );
        prop_assert!(src.is_char_boundary(r.start) && src.is_char_boundary(r.end));
        prop_assert_eq!(line_col(src, r.start), (f.line, f.column));
        prop_assert_eq!(line_col(src, r.end), (f.end_line, f.end_column));
    }
    Ok(())
}

/// Fragments that exercise the Markdown layer and the rules together.
fn markdownish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "Dana failed to notice the alert. ",
        "The on-call engineer should have checked. ",
        "It was human error",
        "**Zoë** _ignored_ the page",
        "`code`",
        "<https://example.com>",
        "[link](http://x.y)",
        "\n\n",
        "\n",
        "> ",
        "- ",
        "1. ",
        "# ",
        "```\n",
        "---\n",
        "<!-- postmortem-lint disable -->",
        "<!-- postmortem-lint enable person-failure -->",
        "<!-- postmortem-lint disable-next-line -->\n",
        "&amp; ",
        "\\*",
        "| a | b |\n| --- | --- |\n",
        "e.g. 14:02 v1.2.3 ",
        "’s ",
        "'quoted' ",
        "\"double\" ",
        "☕ ",
        "\r\n",
        "\t",
        "![alt](img.png)",
        "[^1]",
        "Priya skipped the canary. ",
    ]);
    prop::collection::vec(pieces, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_utf8_input_lints_without_panicking_and_with_valid_spans(src in any::<String>()) {
        let findings = lint(&src, &LintOptions::default());
        check_spans(&src, &findings)?;
    }

    #[test]
    fn markdown_shaped_input_lints_without_panicking_and_with_valid_spans(src in markdownish()) {
        let findings = lint(&src, &LintOptions::default());
        check_spans(&src, &findings)?;
    }

    #[test]
    fn markdown_shaped_input_with_participants_keeps_valid_spans(src in markdownish(), name in "[A-Za-zé]{1,8}") {
        let options = LintOptions { participants: vec![name], ..Default::default() };
        let findings = lint(&src, &options);
        check_spans(&src, &findings)?;
    }
}

const PARAGRAPH: &str = "At 14:02 Dana failed to notice the alert, and the on-call engineer should have \
    checked the replica lag. The health check failed to detect the stale cache. ";

fn time(src: &str) -> (Duration, usize) {
    let start = Instant::now();
    let n = lint(src, &LintOptions::default()).len();
    (start.elapsed(), n)
}

#[test]
fn a_two_megabyte_single_line_finishes_quickly() {
    let line = PARAGRAPH.repeat(2_000_000 / PARAGRAPH.len());
    let (elapsed, findings) = time(&line);
    assert!(findings > 1000);
    // Generous even for an unoptimised debug build; quadratic behaviour would take minutes.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

#[test]
fn a_two_megabyte_line_without_any_sentence_break_finishes_quickly() {
    let words = "dana failed to notice the alert and the team should have checked ";
    let line = words.repeat(2_000_000 / words.len());
    let (elapsed, _) = time(&line);
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

/// The fastest of a few runs, so that a busy machine does not make the test flaky.
fn best_time(src: &str) -> Duration {
    (0..3).map(|_| time(src).0).min().unwrap_or_default()
}

#[test]
fn quadrupling_the_input_does_not_take_sixteen_times_as_long() {
    let small = PARAGRAPH.repeat(4_000);
    let large = PARAGRAPH.repeat(16_000);
    let t_small = best_time(&small);
    let t_large = best_time(&large);
    // Linear is 4x; quadratic would be 16x. Allow generous noise in between.
    assert!(
        t_large < t_small * 10 + Duration::from_millis(100),
        "{t_small:?} vs {t_large:?}"
    );
}

#[test]
#[ignore = "50 MB input; run with --ignored (use --release)"]
fn fifty_megabytes_of_markdown_and_a_ten_megabyte_line_finish() {
    let doc = format!("# Incident\n\n{}\n\n", PARAGRAPH.repeat(8))
        .repeat(50_000_000 / (PARAGRAPH.len() * 8 + 16));
    let (elapsed, n) = time(&doc);
    println!("50 MB document: {elapsed:?}, {n} findings");
    let line = PARAGRAPH.repeat(10_000_000 / PARAGRAPH.len());
    let (elapsed, n) = time(&line);
    println!("10 MB line: {elapsed:?}, {n} findings");
}
