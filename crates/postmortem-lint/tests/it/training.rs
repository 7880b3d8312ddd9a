//! The committed model is reproducible: training again from the committed corpus files with
//! the fixed seed gives the same weights, byte for byte, as `model.bin` (what
//! `cargo xtask train-lint` wrote).

use postmortem_lint::model::{self, Model, TrainOptions};

const MODEL_BIN: &[u8] = include_bytes!("../../model.bin");

fn training_set() -> Vec<model::Example> {
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/");
    let mut out = Vec::new();
    for name in model::TRAINING_FILES {
        let text = std::fs::read_to_string(format!("{corpus}{name}")).expect("a corpus file");
        out.extend(model::read_corpus(&text).expect("a valid corpus file"));
    }
    out
}

#[test]
fn training_from_the_committed_corpus_with_the_fixed_seed_gives_the_committed_weights() {
    let examples = training_set();
    let options = TrainOptions::default();
    let first = model::train(&examples, &options).to_bytes();
    let second = model::train(&examples, &options).to_bytes();
    assert!(first == second, "two runs with one seed differ");
    assert!(
        first == MODEL_BIN,
        "model.bin is not what the corpus trains to: run `cargo xtask train-lint`"
    );
    assert!(Model::from_bytes(MODEL_BIN).is_ok());
}

#[test]
fn another_seed_gives_other_weights() {
    let examples = training_set();
    let options = TrainOptions {
        seed: 1,
        ..TrainOptions::default()
    };
    assert!(model::train(&examples, &options).to_bytes() != MODEL_BIN);
}
