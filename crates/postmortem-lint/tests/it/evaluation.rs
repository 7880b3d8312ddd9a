//! Honest figures for the checker: precision and recall on the development corpus, on the
//! sealed blind set (`data/blind.jsonl`, never tuned on) and warnings per 1,000 words on real
//! public post-mortems (`data/real/`), with floors set from the measured blind figures.
//!
//! `cargo test -p postmortem-lint --test it evaluation -- --nocapture` prints the table the
//! crate README quotes. The blind set prints aggregates only, by design: reading its
//! per-sentence results would turn it into a tuning set.

use std::collections::BTreeMap;
use std::path::Path;

use postmortem_lint::{LintOptions, Severity, lint};
use serde::Deserialize;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/data");
const DEV: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/dev.jsonl"
);

#[derive(Deserialize)]
struct Row {
    text: String,
    label: u8,
    category: String,
}

/// Aggregate figures of one labelled set.
#[derive(Debug, Default)]
struct Score {
    true_positives: usize,
    false_positives: usize,
    false_negatives: usize,
    traps: usize,
    traps_flagged: usize,
    recall_by_category: BTreeMap<String, (usize, usize)>,
}

impl Score {
    fn precision(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_positives).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.true_positives as f64 / (self.true_positives + self.false_negatives).max(1) as f64
    }
    fn report(&self, name: &str) {
        println!(
            "{name}: precision {:.3} recall {:.3} (tp {}, fp {}, fn {}); trigger-word traps flagged {}/{}",
            self.precision(),
            self.recall(),
            self.true_positives,
            self.false_positives,
            self.false_negatives,
            self.traps_flagged,
            self.traps
        );
        for (category, (caught, of)) in &self.recall_by_category {
            println!("  {category:<16} recall {caught}/{of}");
        }
    }
}

fn rows(path: &Path) -> Option<Vec<Row>> {
    let data = std::fs::read_to_string(path).ok()?;
    Some(
        data.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("a labelled JSON line"))
            .collect(),
    )
}

fn flagged(text: &str) -> bool {
    lint(text, &LintOptions::default())
        .iter()
        .any(|f| f.category.is_blame())
}

fn score(rows: &[Row]) -> Score {
    let mut score = Score::default();
    for row in rows {
        let hit = flagged(&row.text);
        if row.label == 1 {
            let entry = score
                .recall_by_category
                .entry(row.category.clone())
                .or_default();
            entry.1 += 1;
            if hit {
                entry.0 += 1;
                score.true_positives += 1;
            } else {
                score.false_negatives += 1;
            }
        } else {
            if row.category == "trap" {
                score.traps += 1;
                score.traps_flagged += usize::from(hit);
            }
            score.false_positives += usize::from(hit);
        }
    }
    score
}

#[test]
fn blind_set_precision_and_recall_stay_above_the_measured_floor() {
    let rows = rows(&Path::new(DATA).join("blind.jsonl")).expect("the blind set is in the crate");
    let blind = score(&rows);
    blind.report("blind (sealed, 180 sentences)");
    if let Some(dev) = rows_of_dev() {
        score(&dev).report("dev (shared/corpus/dev.jsonl, tuned on)");
    }
    assert!(blind.precision() >= BLIND_PRECISION_FLOOR, "{blind:?}");
    assert!(blind.recall() >= BLIND_RECALL_FLOOR, "{blind:?}");
    assert!(
        blind.traps_flagged * 100 <= blind.traps * BLIND_TRAPS_FLAGGED_PERCENT_CEILING,
        "{blind:?}"
    );
}

/// Floors from the measured blind figures (see the README), a little below them so that an
/// unrelated wording change does not fail the build, but a real regression does.
const BLIND_PRECISION_FLOOR: f64 = 0.90;
const BLIND_RECALL_FLOOR: f64 = 0.50;
const BLIND_TRAPS_FLAGGED_PERCENT_CEILING: usize = 5;

fn rows_of_dev() -> Option<Vec<Row>> {
    rows(Path::new(DEV))
}

#[test]
fn real_public_post_mortems_raise_few_warnings_per_thousand_words() {
    let dir = Path::new(DATA).join("real");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the real post-mortems are in the crate")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md") && !p.ends_with("SOURCE.md"))
        .collect();
    files.sort();
    let (mut words, mut warnings) = (0usize, 0usize);
    for path in &files {
        let text = std::fs::read_to_string(path).expect("a readable post-mortem");
        words += text.split_whitespace().count();
        for finding in lint(&text, &LintOptions::default()) {
            if finding.severity >= Severity::Warning {
                warnings += 1;
                println!(
                    "{}:{} [{}] {}",
                    path.file_name().unwrap().to_string_lossy(),
                    finding.line,
                    finding.rule,
                    &text[finding.byte_range.clone()]
                );
            }
        }
    }
    let per_thousand = warnings as f64 * 1000.0 / words as f64;
    println!(
        "real post-mortems: {} files, {words} words, {warnings} warnings, {per_thousand:.2} per 1,000 words",
        files.len()
    );
    assert!(files.len() >= 39, "{files:?}");
    assert!(per_thousand <= REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING);
}

const REAL_WARNINGS_PER_THOUSAND_WORDS_CEILING: f64 = 0.6;
