//! Training: reading the labelled corpus and fitting both heads of the model by stochastic
//! gradient descent, deterministically for a given seed.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::features::{Scratch, features};
use super::{BLAME_BITS, BLAME_MASK, CATEGORIES, CATEGORY_BITS, CATEGORY_MASK, Model, sigmoid};
use crate::Category;

/// One labelled training sentence.
#[derive(Debug, Clone)]
pub struct Example {
    /// The corpus id (`h…` hand-written, `g…` composed, `s…` supplement), empty if none.
    pub id: String,
    pub text: String,
    /// `Some(category)` for a blameful sentence, `None` for a clean one.
    pub category: Option<Category>,
    /// How much the example counts in training (1: fully).
    pub weight: f32,
}

/// A labelled line of the corpus (`corpus/*.jsonl`, the schema of LABELING.md).
#[derive(Debug, serde::Deserialize)]
struct Row {
    #[serde(default)]
    id: String,
    text: String,
    label: u8,
    category: String,
}

/// Why a corpus file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CorpusError {
    pub line: usize,
    pub message: String,
}

/// Reads a JSONL corpus (one `{"id", "text", "label", "category", "section"}` per line).
pub fn read_corpus(jsonl: &str) -> Result<Vec<Example>, CorpusError> {
    let mut out = Vec::new();
    for (i, line) in jsonl.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let error = |message: String| CorpusError {
            line: i + 1,
            message,
        };
        let row: Row = serde_json::from_str(line).map_err(|e| error(e.to_string()))?;
        let category = match row.label {
            0 => None,
            1 => Some(
                CATEGORIES
                    .iter()
                    .copied()
                    .find(|c| c.as_str() == row.category)
                    .ok_or_else(|| error(format!("unknown blame category {:?}", row.category)))?,
            ),
            other => return Err(error(format!("label must be 0 or 1, not {other}"))),
        };
        out.push(Example {
            id: row.id,
            text: row.text,
            category,
            weight: 1.0,
        });
    }
    Ok(out)
}

/// Training settings; [`TrainOptions::default`] is what `cargo xtask train-lint` uses.
#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    pub seed: u64,
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            seed: 20261205,
            epochs: 12,
            learning_rate: 0.02,
            l2: 1e-4,
        }
    }
}

/// Trains both heads by stochastic gradient descent on the logistic (blame) and softmax
/// (category) losses, visiting the examples in an order drawn from `options.seed`, so the same
/// corpus and seed always give the same weights.
pub fn train(examples: &[Example], options: &TrainOptions) -> Model {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut scratch = Scratch::default();
    let encoded: Vec<(Vec<u32>, Option<usize>, f32)> = examples
        .iter()
        .map(|e| {
            let mut hashes = Vec::new();
            features(&e.text, &mut scratch, |h, _| hashes.push(h));
            let category = e
                .category
                .map(|c| CATEGORIES.iter().position(|&x| x == c).unwrap_or(0));
            (hashes, category, e.weight)
        })
        .collect();
    let row = 1usize << CATEGORY_BITS;
    let mut blame = vec![0f32; 1 << BLAME_BITS];
    let mut category_weights = vec![0f32; CATEGORIES.len() * row];
    let mut order: Vec<usize> = (0..encoded.len()).collect();
    for epoch in 0..options.epochs {
        order.shuffle(&mut rng);
        let rate = options.learning_rate / (1.0 + epoch as f32 * 0.5);
        let decay = 1.0 - rate * options.l2;
        for &i in &order {
            let (hashes, category, weight) = &encoded[i];
            let rate = rate * weight;
            let logit: f32 = hashes
                .iter()
                .map(|h| blame[(h & BLAME_MASK) as usize])
                .sum();
            let target = if category.is_some() { 1.0 } else { 0.0 };
            let step = rate * (target - sigmoid(logit));
            for h in hashes {
                let x = &mut blame[(h & BLAME_MASK) as usize];
                *x = *x * decay + step;
            }
            let Some(category) = *category else { continue };
            let mut scores = [0f32; 7];
            for h in hashes {
                let j = (h & CATEGORY_MASK) as usize;
                for (c, s) in scores.iter_mut().enumerate() {
                    *s += category_weights[c * row + j];
                }
            }
            let top = scores.iter().fold(f32::MIN, |m, &s| m.max(s));
            let exp: Vec<f32> = scores.iter().map(|s| (s - top).exp()).collect();
            let total: f32 = exp.iter().sum();
            for h in hashes {
                let j = (h & CATEGORY_MASK) as usize;
                for (c, e) in exp.iter().enumerate() {
                    let target = if c == category { 1.0 } else { 0.0 };
                    let x = &mut category_weights[c * row + j];
                    *x = *x * decay + rate * (target - e / total);
                }
            }
        }
    }
    Model::quantised(&blame, &category_weights)
}
