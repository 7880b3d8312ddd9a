//! Clean, well-written post-mortem prose must raise (almost) nothing: the seed's good-practice
//! text and a realistic clean post-mortem fixture produce no warnings at all.

use postmortem_lint::{LintOptions, Severity, lint};

const SEED: &str = include_str!("../../../../../shared/seed/blameless-post-mortem.txt");
const CLEAN_POSTMORTEM: &str = include_str!("fixtures/clean-postmortem.md");

fn warnings(text: &str) -> Vec<String> {
    lint(text, &LintOptions::default())
        .into_iter()
        .filter(|f| f.severity >= Severity::Warning)
        .map(|f| {
            format!(
                "{}:{} [{}] {}",
                f.line, f.column, f.rule, &text[f.byte_range]
            )
        })
        .collect()
}

#[test]
fn the_seed_article_on_blameless_practice_raises_no_warnings() {
    assert_eq!(warnings(SEED), Vec::<String>::new());
}

#[test]
fn a_realistic_clean_post_mortem_raises_nothing_at_all() {
    let findings = lint(CLEAN_POSTMORTEM, &LintOptions::default());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn clean_post_mortem_with_its_participants_named_still_raises_nothing() {
    let options = LintOptions {
        participants: vec!["Dana Reyes".into(), "Sam Okafor".into()],
        ..Default::default()
    };
    assert!(lint(CLEAN_POSTMORTEM, &options).is_empty());
}
