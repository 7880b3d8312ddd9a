//! Output formats, as pure functions from findings to a `String`: human-readable text, JSON,
//! SARIF 2.1.0 (for GitHub code scanning) and reviewdog's rdjsonl.
//!
//! Every function takes the findings grouped by file: `&[(path, &[Finding])]`.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{Finding, RuleInfo, Severity, fill_template};

/// Name of the tool in SARIF and rdjsonl output.
pub const TOOL_NAME: &str = "postmortem-lint";

/// `path:line:col: severity [rule] message`, then `  suggestion: ...` on the next line.
pub fn text(files: &[(&str, &[Finding])]) -> String {
    let mut out = String::new();
    for (path, findings) in files {
        for f in *findings {
            out.push_str(&format!(
                "{path}:{}:{}: {} [{}] {}\n  suggestion: {}\n",
                f.line,
                f.column,
                f.severity.as_str(),
                f.rule,
                f.message,
                f.suggestion
            ));
        }
    }
    out
}

#[derive(Serialize)]
struct JsonFile<'a> {
    path: &'a str,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    category: crate::Category,
    severity: Severity,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: &'a str,
    suggestion: &'a str,
}

/// `{"files": [{"path", "findings": [{"rule", "category", "severity", "line", "column",
/// "end_line", "end_column", "message", "suggestion"}]}]}`, pretty-printed.
pub fn json(files: &[(&str, &[Finding])]) -> String {
    let files: Vec<JsonFile<'_>> = files
        .iter()
        .map(|(path, findings)| JsonFile {
            path,
            findings: findings
                .iter()
                .map(|f| JsonFinding {
                    rule: &f.rule,
                    category: f.category,
                    severity: f.severity,
                    line: f.line,
                    column: f.column,
                    end_line: f.end_line,
                    end_column: f.end_column,
                    message: &f.message,
                    suggestion: &f.suggestion,
                })
                .collect(),
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&json!({ "files": files })).unwrap_or_default();
    out.push('\n');
    out
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Info => "note",
        Severity::Warning => "warning",
        Severity::Error => "error",
    }
}

/// A message or suggestion template as it reads for the rule in general.
fn rule_text(template: &str) -> String {
    fill_template(template, "the person named", "several")
}

/// How a rule's help reads in SARIF (what GitHub code scanning shows for an alert): why it
/// reads as blame, the suggestion, and an example it flags next to one it leaves alone.
fn rule_help(r: &RuleInfo) -> (String, String) {
    let message = rule_text(&r.message);
    let suggestion = rule_text(&r.suggestion);
    let mut text = format!("{message}\n\nSuggestion: {suggestion}");
    let mut markdown = format!("{message}\n\n**Suggestion:** {suggestion}");
    if let Some(example) = &r.example {
        text.push_str(&format!("\n\nFlagged: \"{example}\""));
        markdown.push_str(&format!("\n\n**Flagged:** \"{example}\""));
    }
    if let Some(fine) = &r.counter_example {
        text.push_str(&format!("\nNot flagged: \"{fine}\""));
        markdown.push_str(&format!("\n\n**Not flagged:** \"{fine}\""));
    }
    (text, markdown)
}

/// SARIF 2.1.0 with one run; columns are counted in Unicode code points
/// (`columnKind: unicodeCodePoints`), end columns are exclusive as SARIF specifies. The
/// optional `informationUri` is left out: the tool has no public home page to point to.
pub fn sarif(files: &[(&str, &[Finding])]) -> String {
    let rules = crate::rules();
    let driver_rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            let (help_text, help_markdown) = rule_help(r);
            let message = rule_text(&r.message);
            json!({
                "id": r.id,
                "name": r.id,
                "shortDescription": { "text": first_sentence(&message) },
                "fullDescription": { "text": message },
                "help": { "text": help_text, "markdown": help_markdown },
                "defaultConfiguration": { "level": sarif_level(r.default_severity) },
                "properties": { "category": r.category.as_str(), "tags": ["blameless", r.category.as_str()] },
            })
        })
        .collect();
    let mut results = Vec::new();
    for (path, findings) in files {
        for f in *findings {
            let mut result = json!({
                "ruleId": f.rule,
                "level": sarif_level(f.severity),
                "message": { "text": format!("{} Suggestion: {}", f.message, f.suggestion) },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": path },
                        "region": {
                            "startLine": f.line,
                            "startColumn": f.column,
                            "endLine": f.end_line,
                            "endColumn": f.end_column,
                        }
                    }
                }],
            });
            if let Some(i) = rules.iter().position(|r| r.id == f.rule) {
                result["ruleIndex"] = json!(i);
            }
            results.push(result);
        }
    }
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": TOOL_NAME,
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": driver_rules,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).unwrap_or_default();
    out.push('\n');
    out
}

fn first_sentence(s: &str) -> &str {
    match s.find(": ").or_else(|| s.find(". ")) {
        Some(i) => &s[..i],
        None => s.trim_end_matches('.'),
    }
}

/// reviewdog rdjsonl: one JSON object per finding per line. Columns follow reviewdog's
/// convention (UTF-8 bytes, end exclusive); `suggestions` is present when the rule has a
/// concrete rewrite of the span.
pub fn rdjsonl(files: &[(&str, &[Finding])]) -> String {
    let mut out = String::new();
    for (path, findings) in files {
        for f in *findings {
            let range = json!({
                "start": { "line": f.line, "column": f.byte_column },
                "end": { "line": f.end_line, "column": f.end_byte_column },
            });
            let mut d = json!({
                "message": format!("{}\nSuggestion: {}", f.message, f.suggestion),
                "location": { "path": path, "range": range },
                "severity": match f.severity {
                    Severity::Info => "INFO",
                    Severity::Warning => "WARNING",
                    Severity::Error => "ERROR",
                },
                "source": { "name": TOOL_NAME },
                "code": { "value": f.rule },
            });
            if let Some(text) = &f.replacement {
                d["suggestions"] = json!([{ "range": range, "text": text }]);
            }
            out.push_str(&serde_json::to_string(&d).unwrap_or_default());
            out.push('\n');
        }
    }
    out
}
