//! Hostile or broken files end in a clear error naming the file and line, in bounded time.

use crate::context;
use postmortem_markdown::{MAX_FILE_BYTES, decode, parse};
use std::time::Instant;

const EXPORT_HEAD: &str = "---\nformat: postmortem/1\nid: 4\ntitle: Checkout down\nkind: outage\nseverity: SEV2\ntemplate: full\nstatus: draft\nrecorded_by: dana\nrecorded_at: 2025-03-14T14:02:00Z\n---\n\n# Checkout down\n\n";

#[test]
fn ten_megabytes_on_one_line_are_refused_before_parsing() {
    let bytes = vec![b'a'; 10 * 1024 * 1024];
    let error = decode("huge.md", &bytes).unwrap_err();
    assert_eq!(error.line, 1);
    assert!(
        error.reason.contains(&MAX_FILE_BYTES.to_string()),
        "{error}"
    );
}

#[test]
fn invalid_utf8_is_reported_on_its_line() {
    let bytes = b"# Title\n\n## Summary\n\nbad \xff byte\n";
    let error = decode("latin1.md", bytes).unwrap_err();
    assert_eq!((error.path.as_str(), error.line), ("latin1.md", 5));
    assert!(error.reason.contains("UTF-8"), "{error}");
}

#[test]
fn a_yaml_bomb_in_front_matter_ends_in_an_error() {
    let mut bomb = String::from(
        "---\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for level in b'b'..=b'z' {
        let previous = (level - 1) as char;
        let level = level as char;
        bomb.push_str(&format!("{level}: &{level} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n"));
    }
    bomb.push_str("---\n# Title\n");
    let started = Instant::now();
    let result = parse("bomb.md", &bomb, &context());
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    let error = result.unwrap_err();
    assert_eq!(error.path, "bomb.md");
    assert!(error.reason.starts_with("front matter:"), "{error}");
}

#[test]
fn a_heading_nested_a_thousand_deep_is_read_in_bounded_time() {
    let mut text = String::from("# Deep\n\n## Summary\n\n");
    text.push_str(&"> ".repeat(1000));
    text.push_str("## Hidden heading\n\n");
    text.push_str(&"- ".repeat(1000));
    text.push_str("item\n");
    let started = Instant::now();
    let parsed = parse("deep.md", &text, &context()).unwrap();
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(parsed.document.bundle.incident.title.as_str(), "Deep");
}

#[test]
fn an_export_with_a_bad_instant_names_the_line_of_the_key() {
    let text = EXPORT_HEAD.replace(
        "recorded_at: 2025-03-14T14:02:00Z",
        "recorded_at: yesterday",
    );
    let error = parse("4-checkout-down.md", &text, &context()).unwrap_err();
    assert_eq!(error.line, 10);
    assert!(error.reason.contains("RFC 3339"), "{error}");
}

#[test]
fn an_export_with_an_unknown_key_is_refused_with_its_line() {
    let text = EXPORT_HEAD.replace("kind: outage\n", "kind: outage\nseverty: SEV1\n");
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert_eq!(error.line, 6, "{error}");
    assert!(error.reason.contains("severty"), "{error}");
}

#[test]
fn an_export_without_its_lists_says_which_heading_is_missing() {
    let text = format!("{EXPORT_HEAD}## Summary\n\nText.\n\n## Timeline\n\n## Factors\n");
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert!(error.reason.contains("## Action items"), "{error}");
}

#[test]
fn a_timeline_entry_without_a_time_zone_is_refused_on_its_line() {
    let text = format!(
        "{EXPORT_HEAD}## Summary\n\nText.\n\n## Timeline\n\n- 2025-03-14T14:02:00 · happened · manual · by @dana\n  Paged.\n\n## Factors\n\n## Action items\n"
    );
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert_eq!(error.line, 21, "{error}");
    assert!(error.reason.contains("time zone"), "{error}");
}

#[test]
fn an_action_naming_a_factor_that_does_not_exist_is_refused() {
    let text = format!(
        "{EXPORT_HEAD}## Timeline\n\n## Factors\n\n## Action items\n\n- [ ] Add an alert\n  - status: open\n  - priority: p2\n  - kind: detect\n  - factors: F3\n"
    );
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert!(error.reason.contains("`F3` names no factor"), "{error}");
    assert_eq!(error.line, 25);
}

#[test]
fn an_action_whose_reason_holds_a_nul_is_refused_naming_it() {
    let text = format!(
        "{EXPORT_HEAD}## Timeline\n\n## Factors\n\n## Action items\n\n- [ ] Add an alert\n  - status: wont_do\n  - priority: p2\n  - kind: detect\n  - won't do: \"replaced\\u0000\"\n"
    );
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert!(error.reason.contains("U+0000 NULL"), "{error}");
}

#[test]
fn a_timeline_entry_whose_actor_holds_a_direction_override_is_refused_on_its_line() {
    let text = format!(
        "{EXPORT_HEAD}## Summary\n\nText.\n\n## Timeline\n\n- 2025-03-14T14:02:00Z · happened · manual · by @dana · actor: \"dana\\u202e\"\n  Paged.\n\n## Factors\n\n## Action items\n"
    );
    let error = parse("4.md", &text, &context()).unwrap_err();
    assert_eq!(error.line, 21, "{error}");
    assert!(
        error.reason.contains("U+202E RIGHT-TO-LEFT OVERRIDE"),
        "{error}"
    );
}
