//! `cargo xtask train-lint`: writes the demo data's clean sentences to `corpus/demo.jsonl`,
//! trains the blameless-language model of `postmortem-lint` from the corpus files it names
//! (`model::TRAINING_FILES`) with the fixed seed, writes `model.bin`, and prints how the model
//! alone does on `corpus/dev.jsonl` (never the blind split).

use std::fs;

use postmortem_lint::model::{self, Model, TrainOptions};

use crate::workspace_root;

pub(crate) fn train_lint() -> Result<(), String> {
    let crate_dir = workspace_root().join("crates/postmortem-lint");
    let corpus = crate_dir.join("corpus");
    let demo_path = corpus.join("demo.jsonl");
    let demo: String = demo_sentences(DEMO_SENTENCES)
        .iter()
        .map(|text| {
            format!(
                "{}\n",
                serde_json::json!({"text": text, "label": 0, "category": "clean"})
            )
        })
        .collect();
    fs::write(&demo_path, demo)
        .map_err(|e| format!("cannot write {}: {e}", demo_path.display()))?;
    let read = |name: &str| {
        let path = corpus.join(name);
        let text = fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        model::read_corpus(&text).map_err(|e| format!("{}: {e}", path.display()))
    };
    let mut train = Vec::new();
    for name in model::TRAINING_FILES {
        train.extend(read(name)?);
    }
    let dev = read("dev.jsonl")?;
    let options = TrainOptions::default();
    let trained = model::train(&train, &options);
    let bytes = trained.to_bytes();
    let out = crate_dir.join("model.bin");
    fs::write(&out, &bytes).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    eprintln!(
        "trained on {} sentences of {} (seed {}, {} epochs); wrote {} ({} bytes)",
        train.len(),
        model::TRAINING_FILES.join(", "),
        options.seed,
        options.epochs,
        out.display(),
        bytes.len()
    );
    // Report the quantised model, as shipped.
    let shipped = Model::from_bytes(&bytes).map_err(|e| e.to_string())?;
    report("dev", &shipped, &dev);
    Ok(())
}

/// How many sentences of whole, blameless post-mortems the model learns from: the demo data's
/// phrase banks are written to stay blameless, and teach the model what ordinary technical
/// post-mortem prose (terse timeline lines, system descriptions, action items) looks like.
const DEMO_SENTENCES: usize = 2000;

fn demo_sentences(limit: usize) -> Vec<String> {
    use postmortem_demo::{DemoConfig, incidents, organisation};
    let org = organisation(7);
    let config = DemoConfig {
        n_incidents: 2_000,
        seed: 7,
        today: time::macros::date!(2025 - 06 - 30),
    };
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for bundle in incidents(&org, &config) {
        let mut doc = String::new();
        for section in &bundle.sections {
            doc.push_str(section.body.as_str());
            doc.push_str("\n\n");
        }
        for entry in &bundle.timeline {
            doc.push_str(&format!("- {}\n", entry.entry.text.as_str()));
        }
        for sentence in postmortem_lint::prose_sentences(&doc) {
            if sentence.split_whitespace().count() >= 4 && seen.insert(sentence.clone()) {
                out.push(sentence);
                if out.len() == limit {
                    return out;
                }
            }
        }
    }
    out
}

fn report(name: &str, shipped: &Model, dev: &[model::Example]) {
    for threshold in [0.3, 0.5, 0.7, 0.8, 0.9] {
        let (mut tp, mut fp, mut fn_) = (0, 0, 0);
        for e in dev {
            let hit = shipped.blame_probability(&e.text) >= threshold;
            match (e.category.is_some(), hit) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => {}
            }
        }
        eprintln!(
            "{name}, model alone, threshold {threshold:.1}: precision {:.3} recall {:.3} (tp {tp}, fp {fp}, fn {fn_})",
            f64::from(tp) / f64::from((tp + fp).max(1)),
            f64::from(tp) / f64::from((tp + fn_).max(1)),
        );
    }
}
