//! Measures precision and recall on the labelled development corpus
//! (`../shared/corpus/dev.jsonl`, relative to the workspace) and holds them above a floor.
//!
//! A sentence counts as flagged when any finding in one of the seven blame categories fires
//! (the advisory `root_cause_singular` and `people_fix` rules are not part of the labels).
//! Per-category recall: the share of sentences labelled with the category that are flagged
//! (by any rule). Per-category precision: the share of sentences where a rule of that
//! category fires that are labelled blameful (any category).

use std::collections::BTreeMap;

use postmortem_lint::{LintOptions, lint};
use serde::Deserialize;

const CORPUS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/corpus/dev.jsonl"
);

#[derive(Deserialize)]
struct Row {
    id: String,
    text: String,
    label: u8,
    category: String,
}

#[derive(Default)]
struct Counts {
    labelled: usize,
    recalled: usize,
    fired: usize,
    fired_correct: usize,
}

#[test]
fn corpus_precision_and_recall_stay_above_the_floor() {
    let Ok(data) = std::fs::read_to_string(CORPUS) else {
        eprintln!("corpus not found at {CORPUS}; skipping");
        return;
    };
    let rows: Vec<Row> = data
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let options = LintOptions::default();
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let mut per: BTreeMap<String, Counts> = BTreeMap::new();
    let verbose = std::env::var_os("CORPUS_VERBOSE").is_some();
    for row in &rows {
        let findings = lint(&row.text, &options);
        let blame: Vec<_> = findings.iter().filter(|f| f.category.is_blame()).collect();
        let flagged = !blame.is_empty();
        if row.label == 1 {
            per.entry(row.category.clone()).or_default().labelled += 1;
        }
        match (row.label == 1, flagged) {
            (true, true) => {
                tp += 1;
                per.entry(row.category.clone()).or_default().recalled += 1;
            }
            (false, true) => {
                fp += 1;
                if verbose {
                    let rules: Vec<_> = blame.iter().map(|f| f.rule.as_str()).collect();
                    println!("FP {} [{}] {:?}: {}", row.id, row.category, rules, row.text);
                }
            }
            (true, false) => {
                fn_ += 1;
                if verbose {
                    println!("FN {} [{}]: {}", row.id, row.category, row.text);
                }
            }
            (false, false) => {}
        }
        let mut cats: Vec<_> = blame.iter().map(|f| f.category.as_str()).collect();
        cats.sort_unstable();
        cats.dedup();
        for c in cats {
            let e = per.entry(c.to_string()).or_default();
            e.fired += 1;
            if row.label == 1 {
                e.fired_correct += 1;
            }
        }
    }
    let precision = tp as f64 / (tp + fp).max(1) as f64;
    let recall = tp as f64 / (tp + fn_).max(1) as f64;
    println!(
        "corpus: {} sentences, tp {tp}, fp {fp}, fn {fn_}",
        rows.len()
    );
    println!("overall precision {precision:.3} recall {recall:.3}");
    println!("{:<16} {:>9} {:>7}", "category", "precision", "recall");
    for (cat, c) in &per {
        let p = if c.fired == 0 {
            f64::NAN
        } else {
            c.fired_correct as f64 / c.fired as f64
        };
        let r = if c.labelled == 0 {
            f64::NAN
        } else {
            c.recalled as f64 / c.labelled as f64
        };
        println!("{cat:<16} {p:>9.3} {r:>7.3}");
    }
    assert!(precision >= 0.90, "precision {precision:.3} below 0.90");
    assert!(recall >= 0.85, "recall {recall:.3} below 0.85");
}
