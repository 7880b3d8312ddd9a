//! Behaviour of the public API: Markdown awareness, people versus systems, positions,
//! suppression comments, configuration and the document-level blame-concentration rule.

use postmortem_lint::{Category, Level, LintConfig, LintOptions, Method, Severity, lint};

fn rules_for(text: &str) -> Vec<String> {
    lint(text, &LintOptions::default())
        .into_iter()
        .map(|f| f.rule)
        .collect()
}

fn lint_with(text: &str, config: LintConfig) -> Vec<postmortem_lint::Finding> {
    lint(
        text,
        &LintOptions {
            config,
            ..Default::default()
        },
    )
}

#[test]
fn a_person_failing_is_flagged_but_a_system_failing_is_not() {
    assert_eq!(
        rules_for("Dana failed to notice the disk alert."),
        ["person-failure"]
    );
    assert!(rules_for("The health check failed to detect the stale cache.").is_empty());
    assert!(rules_for("Kubernetes failed to reschedule the pods.").is_empty());
}

#[test]
fn pronouns_roles_and_participants_are_people() {
    assert_eq!(
        rules_for("She failed to renew the certificate."),
        ["person-failure"]
    );
    assert_eq!(
        rules_for("The on-call SRE failed to renew the certificate."),
        ["person-failure"]
    );
    // A lower-case handle is only a person when the caller says so.
    assert!(rules_for("dkim failed to renew the certificate.").is_empty());
    let options = LintOptions {
        participants: vec!["dkim".into()],
        ..Default::default()
    };
    assert_eq!(
        lint("dkim failed to renew the certificate.", &options)[0].rule,
        "person-failure"
    );
}

#[test]
fn code_front_matter_html_and_urls_are_not_prose() {
    let doc = "---\nnote: Dana failed to notice\n---\n\n```\nDana failed to notice\n```\n\n\
               Run `Dana failed to notice` now.\n\n<div>Dana failed to notice</div>\n\n\
               See <https://example.com/Dana-failed-to-notice>.\n";
    assert!(lint(doc, &LintOptions::default()).is_empty());
}

#[test]
fn block_quotes_are_checked_one_severity_level_lower() {
    let findings = lint(
        "> Dana failed to notice the alert.",
        &LintOptions::default(),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Info);
}

#[test]
fn positions_are_one_based_in_characters_with_an_exclusive_end() {
    let doc = "# Café ☕\n\nÀ 14:02, Zoë failed to notice the alert.";
    let f = &lint(doc, &LintOptions::default())[0];
    assert_eq!(&doc[f.byte_range.clone()], "Zoë failed to");
    assert_eq!((f.line, f.column, f.end_line, f.end_column), (3, 10, 3, 23));
    assert_eq!(f.byte_column, 11, "À is two bytes");
}

#[test]
fn findings_carry_a_message_and_a_suggestion_naming_the_person() {
    let f = &lint(
        "Dana failed to notice the disk alert.",
        &LintOptions::default(),
    )[0];
    assert_eq!(f.category, Category::PersonFailure);
    assert!(f.message.contains("failure verb"));
    assert!(
        f.suggestion.contains("what did Dana see"),
        "{}",
        f.suggestion
    );
}

#[test]
fn quoted_blame_labels_are_mentions_not_uses() {
    assert!(rules_for("We looked past the easy 'human error' label.").is_empty());
    assert!(rules_for("We avoided writing \"the engineer should have known\".").is_empty());
}

#[test]
fn negated_blame_is_not_blame() {
    assert!(rules_for("Nobody was at fault for the paging gap.").is_empty());
    assert!(rules_for("This was not caused by anyone's negligence.").is_empty());
}

#[test]
fn disable_and_enable_comments_suppress_rules_between_them() {
    let doc = "<!-- postmortem-lint disable person-failure -->\n\nDana failed to notice.\n\n\
               <!-- postmortem-lint enable person-failure -->\n\nSam failed to notice.\n";
    let findings = lint(doc, &LintOptions::default());
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].line, 7);
}

#[test]
fn disable_without_a_rule_suppresses_everything_until_enabled() {
    let doc = "<!-- postmortem-lint disable -->\n\nIt was human error. Dana failed to notice.\n\n\
               <!-- postmortem-lint enable -->\n\nIt was human error.\n";
    let findings = lint(doc, &LintOptions::default());
    assert_eq!(findings.iter().map(|f| f.line).collect::<Vec<_>>(), [7]);
}

#[test]
fn disable_next_line_suppresses_only_the_next_line() {
    let doc = "<!-- postmortem-lint disable-next-line human-error -->\nIt was human error.\nIt was human error.\n";
    let findings = lint(doc, &LintOptions::default());
    assert_eq!(findings.iter().map(|f| f.line).collect::<Vec<_>>(), [3]);
}

#[test]
fn config_can_raise_lower_or_turn_off_rules_and_categories() {
    let text = "Dana failed to notice. It was human error.";
    let mut config = LintConfig::default();
    config.rules.insert("person-failure".into(), Level::Error);
    config.categories.insert(Category::HumanError, Level::Off);
    let findings = lint_with(text, config);
    assert_eq!(findings.len(), 1);
    assert_eq!(
        (findings[0].rule.as_str(), findings[0].severity),
        ("person-failure", Severity::Error)
    );
}

#[test]
fn allowed_words_are_never_flagged_or_taken_for_names() {
    let config = LintConfig {
        allowed_words: vec!["Vortex".into(), "human error".into()],
        ..Default::default()
    };
    assert!(
        lint_with(
            "Vortex failed to sync the shards. It was human error.",
            config
        )
        .is_empty()
    );
    assert_eq!(
        rules_for("Vortex failed to sync the shards."),
        ["person-failure"]
    );
}

#[test]
fn the_lint_table_of_postmortem_toml_parses_and_unknown_keys_are_errors() {
    let config = LintConfig::from_postmortem_toml(
        "[incident]\nid = 3\n\n[lint]\nallowed_words = [\"Vortex\"]\nparticipants = [\"Dana\"]\n\
         [lint.rules]\nroot-cause-singular = \"off\"\n[lint.categories]\npeople_fix = \"warning\"\n",
    )
    .unwrap();
    assert_eq!(config.rules["root-cause-singular"], Level::Off);
    assert_eq!(config.categories[&Category::PeopleFix], Level::Warning);
    let unknown_key = LintConfig::from_postmortem_toml("[lint]\nallowed = []\n").unwrap_err();
    assert!(unknown_key.to_string().contains("allowed"), "{unknown_key}");
    let unknown_rule =
        LintConfig::from_postmortem_toml("[lint.rules]\nno-such-rule = \"off\"\n").unwrap_err();
    assert!(
        unknown_rule.to_string().contains("no-such-rule"),
        "{unknown_rule}"
    );
    assert_eq!(
        LintConfig::from_postmortem_toml("").unwrap(),
        LintConfig::default()
    );
}

#[test]
fn one_person_named_in_most_failure_sentences_is_a_blame_concentration() {
    let doc = "Priya deployed the wrong build. Priya skipped the canary because of the freeze. \
               The alert fired at 14:02. Priya misread the lag graph. Priya mistakenly restarted the primary.";
    let findings = lint(doc, &LintOptions::default());
    let c: Vec<_> = findings
        .iter()
        .filter(|f| f.category == Category::BlameConcentration)
        .collect();
    assert_eq!(c.len(), 1, "{findings:#?}");
    assert!(
        c[0].message.contains("Priya") && c[0].message.contains('4'),
        "{}",
        c[0].message
    );
    assert_eq!(&doc[c[0].byte_range.clone()], "Priya");
    assert_eq!(c[0].column, 1);
}

#[test]
fn a_busy_responder_described_neutrally_is_not_a_concentration() {
    let doc = "Dana restarted the pods again. Dana rolled back instead of failing forward. \
               Dana restarted the node without downtime. Dana paged the storage team.";
    // The rules alone raise nothing. With the model, "without downtime" still reads as an
    // omission to it (a known false piece of advice, at info level, listed in the README).
    let rules_only = LintOptions {
        config: LintConfig {
            method: Method::Rules,
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(lint(doc, &rules_only).is_empty());
    let findings = lint(doc, &LintOptions::default());
    assert!(
        findings
            .iter()
            .all(|f| f.severity == Severity::Info && f.category != Category::BlameConcentration),
        "{findings:#?}"
    );
}

#[test]
fn failures_spread_across_people_are_not_a_concentration() {
    let doc = "Priya deployed the wrong build. Sam misread the lag graph. Li skipped the canary without asking.";
    assert!(
        lint(doc, &LintOptions::default())
            .iter()
            .all(|f| f.category != Category::BlameConcentration)
    );
}

#[test]
fn advisory_rules_are_info_and_offer_a_concrete_rewrite_where_they_can() {
    let findings = lint(
        "The root cause was a missing index.",
        &LintOptions::default(),
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].severity, Severity::Info);
    assert_eq!(
        findings[0].replacement.as_deref(),
        Some("One contributing factor")
    );
    let fix = lint(
        "Engineers should be more careful with production configs.",
        &LintOptions::default(),
    );
    assert!(
        fix.iter().any(|f| f.category == Category::PeopleFix),
        "{fix:?}"
    );
}
