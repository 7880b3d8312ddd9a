//! Snapshot tests of the four output formats over one small document with findings of several
//! kinds, including a concrete rewrite (for rdjsonl suggestions) and non-ASCII columns.

use postmortem_lint::{Finding, LintOptions, format, lint};

const DOC: &str = "# Café outage\n\nThe root cause was operator error.\n\n\
                   > Zoë: Dana obviously didn't read the page\n\nDana failed to notice the alert.\n";

fn findings() -> Vec<Finding> {
    lint(DOC, &LintOptions::default())
}

#[test]
fn text_output_has_one_line_per_finding_and_an_indented_suggestion() {
    let f = findings();
    insta::assert_snapshot!(format::text(&[("incidents/2026-03-12.md", &f)]));
}

#[test]
fn json_output_groups_findings_by_file() {
    let f = findings();
    let out = format::json(&[("incidents/2026-03-12.md", &f), ("empty.md", &[])]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        value["files"][1]["findings"].as_array().map(Vec::len),
        Some(0)
    );
    insta::assert_snapshot!(out);
}

#[test]
fn sarif_output_is_a_sarif_2_1_0_log_with_rules_and_regions() {
    let f = findings();
    let out = format::sarif(&[("incidents/2026-03-12.md", &f)]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(value["version"], "2.1.0");
    let run = &value["runs"][0];
    assert_eq!(run["tool"]["driver"]["name"], "postmortem-lint");
    for result in run["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            run["tool"]["driver"]["rules"][index]["id"],
            result["ruleId"]
        );
        assert!(["note", "warning", "error"].contains(&result["level"].as_str().unwrap()));
    }
    // The rule catalogue is long and covered by the rules test; snapshot the results only.
    insta::assert_json_snapshot!(run["results"]);
}

#[test]
fn every_sarif_rule_has_help_with_a_suggestion_and_examples_and_no_placeholder() {
    let out = format::sarif(&[("incidents/2026-03-12.md", &findings())]);
    let value: serde_json::Value = serde_json::from_str(&out).unwrap();
    let driver = &value["runs"][0]["tool"]["driver"];
    assert!(
        driver.get("informationUri").is_none(),
        "no placeholder home page"
    );
    let rules = driver["rules"].as_array().unwrap();
    for rule in rules {
        let help = rule["help"]["markdown"].as_str().unwrap();
        assert!(help.contains("**Suggestion:**"), "{help}");
        assert!(!help.contains('{'), "unfilled template in {help}");
        assert!(!rule["fullDescription"]["text"].as_str().unwrap().is_empty());
        if rule["id"] != "blame-concentration" {
            assert!(help.contains("**Flagged:**") && help.contains("**Not flagged:**"));
        }
    }
    let person_failure = rules.iter().find(|r| r["id"] == "person-failure").unwrap();
    insta::assert_json_snapshot!(person_failure);
}

#[test]
fn rdjsonl_output_is_one_diagnostic_per_line_with_suggestions_for_rewrites() {
    let f = findings();
    let out = format::rdjsonl(&[("incidents/2026-03-12.md", &f)]);
    for line in out.lines() {
        let d: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(d["source"]["name"], "postmortem-lint");
    }
    assert!(out.lines().any(|l| l.contains("\"suggestions\"")));
    insta::assert_snapshot!(out);
}
