//! Honest figures for the checker, for the rules alone, the model alone and both together:
//! precision and recall per category on the blind split of the corpus (`corpus/blind.jsonl`,
//! frozen before any tuning), on the older sealed blind set (`data/blind.jsonl`) and on the
//! dev split (tuned on), the share of innocent trigger-word sentences flagged, and warnings per
//! 1,000 words on real public post-mortems (`data/real/`). Floors come from the measured
//! figures.
//!
//! `cargo test -p postmortem-lint --test it evaluation -- --nocapture --test-threads 1` prints
//! the tables the crate README quotes. The blind sets print aggregates only, by design:
//! reading their per-sentence results would turn them into tuning sets.

use std::collections::BTreeMap;
use std::path::Path;

use postmortem_lint::{Category, LintConfig, LintOptions, Method, Severity, lint, model};

const CRATE: &str = env!("CARGO_MANIFEST_DIR");
/// What is measured: a method, and the lowest severity that counts as flagging a sentence.
/// The model's own findings are advice (info) by default; the rules' are warnings.
const METHODS: [(Method, Severity, &str); 4] = [
    (Method::Rules, Severity::Warning, "rules only"),
    (Method::Model, Severity::Info, "model only"),
    (Method::Both, Severity::Warning, "both: warnings"),
    (
        Method::Both,
        Severity::Info,
        "both: warnings + model advice",
    ),
];
/// The words a naive checker trips on; an innocent sentence using one is a "trigger-word"
/// sentence whatever its label says.
const TRIGGERS: &[&str] = &[
    "should",
    "failed",
    "fail",
    "fails",
    "error",
    "errors",
    "careless",
    "obviously",
    "obvious",
    "fault",
    "blame",
    "mistake",
    "mistakes",
    "must",
    "just",
];

/// A labelled sentence, read with the crate's own corpus reader.
struct Row {
    id: String,
    text: String,
    label: u8,
    category: String,
}

/// Aggregate figures of one labelled set under one method.
#[derive(Debug, Default)]
struct Score {
    true_positives: usize,
    false_positives: usize,
    false_negatives: usize,
    innocent_triggers: usize,
    innocent_triggers_flagged: usize,
    /// Labelled category: (caught, of).
    recall_by_category: BTreeMap<String, (usize, usize)>,
    /// Category of a finding: (sentences where it fired that are blameful, sentences where it fired).
    precision_by_category: BTreeMap<&'static str, (usize, usize)>,
}

impl Score {
    fn precision(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_positives).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_negatives).max(1) as f64
    }
    fn trigger_rate(&self) -> f64 {
        self.innocent_triggers_flagged as f64 / self.innocent_triggers.max(1) as f64
    }
}

fn options(method: Method) -> LintOptions {
    LintOptions {
        config: LintConfig {
            method,
            ..LintConfig::default()
        },
        ..LintOptions::default()
    }
}

fn rows(path: &Path) -> Vec<Row> {
    let data = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let examples = model::read_corpus(&data).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    examples
        .into_iter()
        .map(|e| Row {
            id: e.id,
            text: e.text,
            label: u8::from(e.category.is_some()),
            category: e.category.map_or("clean", |c| c.as_str()).to_string(),
        })
        .collect()
}

fn has_trigger(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric())
        .any(|w| TRIGGERS.iter().any(|t| t.eq_ignore_ascii_case(w)))
}

fn score(rows: &[&Row], method: Method, at_least: Severity) -> Score {
    let options = options(method);
    let mut score = Score::default();
    for row in rows {
        let categories: Vec<Category> = lint(&row.text, &options)
            .iter()
            .filter(|f| f.category.is_blame() && f.severity >= at_least)
            .map(|f| f.category)
            .collect();
        let hit = !categories.is_empty();
        let blameful = row.label == 1;
        let mut seen: Vec<Category> = Vec::new();
        for c in categories {
            if !seen.contains(&c) {
                seen.push(c);
                let entry = score.precision_by_category.entry(c.as_str()).or_default();
                entry.0 += usize::from(blameful);
                entry.1 += 1;
            }
        }
        if blameful {
            let entry = score
                .recall_by_category
                .entry(row.category.clone())
                .or_default();
            entry.1 += 1;
            entry.0 += usize::from(hit);
            if hit {
                score.true_positives += 1;
            } else {
                score.false_negatives += 1;
            }
        } else {
            score.false_positives += usize::from(hit);
            if has_trigger(&row.text) {
                score.innocent_triggers += 1;
                score.innocent_triggers_flagged += usize::from(hit);
            }
        }
    }
    score
}

/// Prints one set's table (all three methods) and returns the combined method's score.
fn report(name: &str, rows: &[&Row]) -> Vec<Score> {
    let scores: Vec<Score> = METHODS
        .iter()
        .map(|&(m, at_least, _)| score(rows, m, at_least))
        .collect();
    println!("\n{name} ({} sentences)\n", rows.len());
    println!(
        "| P / R | {} |",
        METHODS.map(|(_, _, n)| n.to_string()).join(" | ")
    );
    println!("| --- | --- | --- | --- | --- |");
    let cell = |p: f64, r: f64| format!("{p:.3} / {r:.3}");
    println!(
        "| **overall** | {} |",
        scores
            .iter()
            .map(|s| cell(s.precision(), s.recall()))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    let categories: Vec<&String> = scores[0].recall_by_category.keys().collect();
    for c in categories {
        let cells: Vec<String> = scores
            .iter()
            .map(|s| {
                let (tp, fired) = s
                    .precision_by_category
                    .get(c.as_str())
                    .copied()
                    .unwrap_or((0, 0));
                let (caught, of) = s.recall_by_category[c];
                let p = if fired == 0 {
                    "–".to_string()
                } else {
                    format!("{:.3}", tp as f64 / fired as f64)
                };
                format!("{p} / {:.3}", caught as f64 / of as f64)
            })
            .collect();
        println!("| {c} | {} |", cells.join(" | "));
    }
    println!(
        "| innocent trigger-word sentences flagged | {} |",
        scores
            .iter()
            .map(|s| format!(
                "{}/{} ({:.1}%)",
                s.innocent_triggers_flagged,
                s.innocent_triggers,
                100.0 * s.trigger_rate()
            ))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    scores
}

#[test]
fn the_dev_split_keeps_precision_and_recall_above_the_measured_floor() {
    let dev = rows(&Path::new(CRATE).join("corpus/dev.jsonl"));
    let scores = report(
        "corpus/dev.jsonl (tuned on)",
        &dev.iter().collect::<Vec<_>>(),
    );
    let handwritten: Vec<&Row> = dev.iter().filter(|r| r.id.starts_with('h')).collect();
    report("corpus/dev.jsonl, hand-written part", &handwritten);
    let composed: Vec<&Row> = dev.iter().filter(|r| r.id.starts_with('g')).collect();
    report("corpus/dev.jsonl, composed part", &composed);
    // Measured: warnings alone 1.000 / 0.739, with advice 1.000 / 0.824, no innocent
    // trigger-word sentence flagged.
    let (warnings, with_advice) = (&scores[2], &scores[3]);
    assert!(warnings.precision() >= 0.98, "{warnings:?}");
    assert!(warnings.recall() >= 0.7, "{warnings:?}");
    assert!(with_advice.recall() >= 0.8, "{with_advice:?}");
    assert!(with_advice.trigger_rate() <= 0.03, "{with_advice:?}");
}

/// Reads the blind splits: run only for a final measurement, and say in the crate README how
/// many times it was run (`-- --ignored blind_splits`). Every run, even one read as pass or
/// fail, tells its reader something about sentences nobody may tune on.
#[test]
#[ignore = "reads the blind splits: only for a final, counted measurement"]
fn blind_splits_keep_precision_and_recall_above_the_measured_floor() {
    let blind = rows(&Path::new(CRATE).join("corpus/blind.jsonl"));
    let all: Vec<&Row> = blind.iter().collect();
    let both = report("corpus/blind.jsonl, blind split", &all);
    let handwritten: Vec<&Row> = blind.iter().filter(|r| r.id.starts_with('h')).collect();
    report("corpus/blind.jsonl, hand-written part", &handwritten);
    let composed: Vec<&Row> = blind.iter().filter(|r| r.id.starts_with('g')).collect();
    report("corpus/blind.jsonl, composed part", &composed);
    let old = rows(&Path::new(CRATE).join("tests/it/data/blind.jsonl"));
    let old_scores = report(
        "tests/it/data/blind.jsonl, the older sealed set",
        &old.iter().collect::<Vec<_>>(),
    );

    // The default product: the rules' warnings after the model's veto, plus the model's advice.
    let new = &both[3];
    let old = &old_scores[3];
    assert!(new.precision() >= BLIND_PRECISION_FLOOR, "{new:?}");
    assert!(new.recall() >= BLIND_RECALL_FLOOR, "{new:?}");
    assert!(new.trigger_rate() <= TRIGGER_RATE_CEILING, "{new:?}");
    assert!(old.precision() >= OLD_BLIND_PRECISION_FLOOR, "{old:?}");
    assert!(old.recall() >= OLD_BLIND_RECALL_FLOOR, "{old:?}");
    assert!(old.trigger_rate() <= TRIGGER_RATE_CEILING, "{old:?}");
    // Together they beat the rules alone on recall, and the veto costs the rules no precision.
    for (name, s) in [("new", &both), ("old", &old_scores)] {
        assert!(s[3].recall() > s[0].recall(), "{name}: {s:?}");
        assert!(s[2].precision() >= s[0].precision(), "{name}: {s:?}");
    }
}

/// Floors a little below the measured figures of the combined checker (see the README), so
/// that retraining on a slightly changed corpus does not fail the build but a real regression
/// does.
const BLIND_PRECISION_FLOOR: f64 = 0.97;
const BLIND_RECALL_FLOOR: f64 = 0.68;
const OLD_BLIND_PRECISION_FLOOR: f64 = 0.93;
const OLD_BLIND_RECALL_FLOOR: f64 = 0.66;
/// One sentence in twenty of the older set's innocent trigger-word sentences is flagged today.
const TRIGGER_RATE_CEILING: f64 = 0.06;

#[test]
fn real_public_post_mortems_raise_few_warnings_per_thousand_words() {
    let per_thousand = real_documents("tests/it/data/real", 39);
    assert!(per_thousand[2] <= REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING);
    assert!(per_thousand[3] <= REAL_FINDINGS_PER_THOUSAND_WORDS_CEILING);
}

#[test]
fn other_real_post_mortems_nobody_tuned_on_raise_few_warnings_too() {
    let per_thousand = real_documents("tests/it/data/public", 7);
    assert!(per_thousand[2] <= OTHER_REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING);
    assert!(per_thousand[3] <= REAL_FINDINGS_PER_THOUSAND_WORDS_CEILING);
}

/// Lints every Markdown post-mortem of `dir` with each method, prints every finding and the
/// findings per 1,000 words, and returns those rates (in `METHODS` order).
fn real_documents(dir: &str, at_least_files: usize) -> Vec<f64> {
    let dir = Path::new(CRATE).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the real post-mortems are in the crate")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("SOURCE.md"))
        .collect();
    files.sort();
    assert!(files.len() >= at_least_files, "{files:?}");
    let mut per_thousand = Vec::new();
    for (method, at_least, name) in METHODS {
        let (mut words, mut flagged) = (0usize, 0usize);
        for path in &files {
            let text = std::fs::read_to_string(path).expect("a readable post-mortem");
            words += text.split_whitespace().count();
            for finding in lint(&text, &options(method)) {
                if finding.severity >= at_least && finding.category.is_blame() {
                    flagged += 1;
                    println!(
                        "{name}: {}:{} [{}] {}",
                        path.file_name().unwrap().to_string_lossy(),
                        finding.line,
                        finding.rule,
                        &text[finding.byte_range.clone()]
                    );
                }
            }
        }
        let rate = flagged as f64 * 1000.0 / words as f64;
        println!(
            "{name}: {} files, {words} words, {flagged} findings, {rate:.2} per 1,000 words\n",
            files.len()
        );
        per_thousand.push(rate);
    }
    per_thousand
}

/// The target, at most one false warning per 5,000 words (measured: 0.17 warnings and
/// 0.63 findings with the model's advice per 1,000 words on DFDS's post-mortems).
const REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING: f64 = 0.2;
/// mybinder.org's later reports are short (4,411 words): one warning is 0.23 per 1,000 (measured:
/// 0.23 warnings and 0.23 findings).
const OTHER_REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING: f64 = 0.3;
const REAL_FINDINGS_PER_THOUSAND_WORDS_CEILING: f64 = 1.0;
