//! The coach's statistical half: a linear classifier over hashed word and character n-grams
//! that reads a whole sentence, so it catches paraphrased blame no word list foresaw and
//! recognises plans, system counterfactuals and talk *about* blame that the rules mistake.
//!
//! Two heads share one feature extractor: a logistic regression for "does this sentence
//! blame someone?" and a softmax over the seven blame categories, asked only when the first
//! says yes. Weights are trained by `cargo xtask train-lint` from `corpus/train.jsonl` with a
//! fixed seed ([`train`]), quantised to 16 bits and compiled in from `model.bin`; nothing is
//! fetched at run time.

mod features;
mod train;

use std::sync::LazyLock;

pub(crate) use features::{Scratch, unquoted};
pub use train::{CorpusError, Example, TrainOptions, read_corpus, train};

use features::{NO_WORD, features};

use crate::{Category, RuleInfo, Severity};

/// The seven sentence-level blame categories, in the category head's order.
pub const CATEGORIES: [Category; 7] = [
    Category::PersonFailure,
    Category::Counterfactual,
    Category::HumanError,
    Category::Character,
    Category::Hindsight,
    Category::Fault,
    Category::PassiveBlame,
];

/// How the model explains a finding of each category (id, why it reads as blame, how to
/// rewrite it, a sentence it flags, a similar one it leaves alone); the finding's message adds
/// the words that weighed most.
const EXPLANATIONS: [(&str, &str, &str, &str, &str); 7] = [
    (
        "model-person-failure",
        "The statistical model reads this as a person's failing: what someone did not do, rather than what they saw and why it made sense.",
        "Describe what the person saw and did, and why it made sense at the time; then ask what would have made the safe action the easy one.",
        "Noor pushed the change without reading the diff.",
        "Noor read the diff; the problem sat in a generated file that the review tool collapses.",
    ),
    (
        "model-counterfactual",
        "The statistical model reads this as a counterfactual about a person: what someone should or could have done is hindsight.",
        "Replace what someone should have done with what the system could change: which check, prompt or alert would have caught it?",
        "A more attentive operator would have noticed the lag before promoting the replica.",
        "A lag check in the failover tool would have refused to promote the replica.",
    ),
    (
        "model-human-error",
        "The statistical model reads this as \"human error\" given as a cause: it ends the investigation where it should start.",
        "Name the action and the conditions around it (the interface, the time pressure, the runbook) instead of calling it an error.",
        "The outage came down to a mistake by the night operator.",
        "The night operator typed the command into a terminal still connected to production, because both prompts look the same.",
    ),
    (
        "model-character",
        "The statistical model reads this as a judgement of someone's character or diligence.",
        "Drop the judgement; describe the action and what made it look reasonable in that moment.",
        "The infra team treated the certificate as someone else's problem.",
        "Ownership of the certificate moved between teams twice this year.",
    ),
    (
        "model-hindsight",
        "The statistical model reads this as hindsight: it was not obvious to the people there, or they would have acted on it.",
        "Say what the people involved could see at the time, and why the signal did not stand out among the others.",
        "Anyone could have seen that the replica was hours behind.",
        "The replica lag graph sat on the third dashboard page, below the fold.",
    ),
    (
        "model-fault",
        "The statistical model reads this as assigning fault to a person or team.",
        "Say what happened and which conditions allowed it, rather than whose fault it was; a named person belongs in the timeline, not in the cause.",
        "Thanks to Omar's brilliant shortcut, refunds stopped for a day.",
        "Refunds stopped for a day after a shortcut in the refund job skipped the currency check.",
    ),
    (
        "model-passive-blame",
        "The statistical model reads this as blame in the passive voice, or as a fix aimed at people: it implies someone neglected a duty.",
        "Say what made the step easy to skip or the warning easy to miss, and aim the fix at that, not at people trying harder.",
        "The engineers must pay closer attention to warnings.",
        "Production configs now go through the same review as code.",
    ),
];

/// The model's findings as rules (one per category), for configuration, SARIF and reports.
pub fn rule_infos() -> &'static [RuleInfo] {
    static INFOS: LazyLock<Vec<RuleInfo>> = LazyLock::new(|| {
        CATEGORIES
            .iter()
            .zip(EXPLANATIONS)
            .map(
                |(&category, (id, message, suggestion, example, counter))| RuleInfo {
                    id: id.to_string(),
                    category,
                    // A confident finding is a warning, a less confident one advice (info): the
                    // engine lowers the severity below its warning threshold.
                    default_severity: Severity::Warning,
                    message: message.to_string(),
                    suggestion: suggestion.to_string(),
                    example: Some(example.to_string()),
                    counter_example: Some(counter.to_string()),
                },
            )
            .collect()
    });
    &INFOS
}

/// "\"sat\", \"ticket\", \"overnight\"" for a finding's message.
pub(crate) fn quote_words(words: &[String]) -> String {
    if words.is_empty() {
        return "the sentence as a whole".to_string();
    }
    words
        .iter()
        .map(|w| format!("\"{w}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The corpus files (in `corpus/`) the built-in model is trained on, in order: the train
/// split, the shared development corpus written for the rules by other hands, the terse
/// supplement and clean sentences of the demo data's post-mortems. Never `dev.jsonl` or
/// `blind.jsonl`.
pub const TRAINING_FILES: [&str; 5] = [
    "train.jsonl",
    "shared-dev.jsonl",
    "supplement.jsonl",
    "demo.jsonl",
    "public.jsonl",
];

/// Buckets of the blame head (2^17) and of each category row (2^13): few enough that the
/// blame head, kept as 16-bit integers (256 KB), stays in a core's L2 cache (the model reads it
/// for every sentence), and enough that collisions cost little on the dev split.
const BLAME_BITS: u32 = 17;
const CATEGORY_BITS: u32 = 13;
const MAGIC: &[u8; 8] = b"PMLINT01";

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ModelError {
    #[error("not a postmortem-lint model file (expected the PMLINT01 header)")]
    BadHeader,
    #[error(
        "the model file is {found} bytes long, expected {expected}: retrain it with `cargo xtask train-lint`"
    )]
    BadLength { expected: usize, found: usize },
}

/// Trained weights of both heads, as stored: the blame head in 16 bits with one scale.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    blame: Vec<i16>,
    blame_scale: f32,
    /// `CATEGORIES.len()` rows of `1 << CATEGORY_BITS` weights (read only for findings).
    category: Vec<f32>,
}

/// What the model makes of one sentence.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// Probability that a careful reviewer would ask for the sentence to be rewritten.
    pub blame: f32,
    /// The most likely blame category (meaningful when `blame` is high).
    pub category: Category,
    /// The words that pushed most towards blame, strongest first (at most three).
    pub words: Vec<String>,
}

pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

const BLAME_MASK: u32 = (1 << BLAME_BITS) - 1;
const CATEGORY_MASK: u32 = (1 << CATEGORY_BITS) - 1;

/// Quantises weights to 16 bits: the scale, and each weight as a multiple of it.
fn quantise(weights: &[f32]) -> (f32, Vec<i16>) {
    let scale = weights.iter().fold(0f32, |m, w| m.max(w.abs())).max(1e-12) / 32767.0;
    let q = weights
        .iter()
        .map(|w| (w / scale).round().clamp(-32767.0, 32767.0) as i16)
        .collect();
    (scale, q)
}

impl Model {
    /// The model compiled into the crate (`model.bin`).
    pub fn builtin() -> &'static Model {
        static MODEL: LazyLock<Model> = LazyLock::new(|| {
            match Model::from_bytes(include_bytes!("../../model.bin")) {
                Ok(m) => m,
                // The file is compiled in and checked by the tests; failing here is a bug.
                Err(e) => panic!("built-in model.bin is invalid: {e}"),
            }
        });
        &MODEL
    }

    /// Builds a model from trained weights, quantised as the file stores them.
    fn quantised(blame: &[f32], category: &[f32]) -> Model {
        let (blame_scale, blame) = quantise(blame);
        let (scale, q) = quantise(category);
        Model {
            blame,
            blame_scale,
            category: q.iter().map(|&w| f32::from(w) * scale).collect(),
        }
    }

    #[inline]
    fn blame_weight(&self, hash: u32) -> i32 {
        i32::from(self.blame[(hash & BLAME_MASK) as usize])
    }

    /// Probability that the sentence blames someone (cheap: one weight per feature).
    pub fn blame_probability(&self, sentence: &str) -> f32 {
        self.probability_with(sentence, &mut Scratch::default())
    }

    pub(crate) fn probability_with(&self, sentence: &str, scratch: &mut Scratch) -> f32 {
        let mut sum = 0i32;
        features(sentence, scratch, |h, _| sum += self.blame_weight(h));
        sigmoid(sum as f32 * self.blame_scale)
    }

    /// The probability, the likely category and the words that weighed most.
    pub fn assess(&self, sentence: &str) -> Assessment {
        let mut scratch = Scratch::default();
        let mut found: Vec<(u32, u16)> = Vec::new();
        features(sentence, &mut scratch, |h, w| found.push((h, w)));
        let sum: i32 = found.iter().map(|&(h, _)| self.blame_weight(h)).sum();
        let blame = sigmoid(sum as f32 * self.blame_scale);
        let row = 1usize << CATEGORY_BITS;
        let mut scores = [0f32; 7];
        for &(h, _) in &found {
            let i = (h & CATEGORY_MASK) as usize;
            for (c, s) in scores.iter_mut().enumerate() {
                *s += self.category[c * row + i];
            }
        }
        let best = (0..CATEGORIES.len())
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap_or(0);
        let n = scratch.word_count();
        let mut weight = vec![0i32; n];
        for &(h, w) in &found {
            if w != NO_WORD
                && let Some(x) = weight.get_mut(usize::from(w))
            {
                *x += self.blame_weight(h);
            }
        }
        let mut order: Vec<usize> = (0..n).filter(|&i| weight[i] > 0).collect();
        order.sort_by(|&a, &b| weight[b].cmp(&weight[a]).then(a.cmp(&b)));
        let mut words = Vec::new();
        for i in order {
            let word = scratch.word(i);
            if word != "'s" && word != "0" && !words.iter().any(|w| w == word) {
                words.push(word.to_string());
            }
            if words.len() == 3 {
                break;
            }
        }
        Assessment {
            blame,
            category: CATEGORIES[best],
            words,
        }
    }

    /// The weights as a compact file: a header, then each head quantised to 16 bits with
    /// its own scale (little-endian).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 2 * (self.blame.len() + self.category.len()));
        out.extend_from_slice(MAGIC);
        let (category_scale, category) = quantise(&self.category);
        for (scale, head) in [(self.blame_scale, &self.blame), (category_scale, &category)] {
            out.extend_from_slice(&scale.to_le_bytes());
            for q in head {
                out.extend_from_slice(&q.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        let blame_len = 1usize << BLAME_BITS;
        let category_len = CATEGORIES.len() << CATEGORY_BITS;
        let expected = MAGIC.len() + 8 + 2 * (blame_len + category_len);
        if !bytes.starts_with(MAGIC) {
            return Err(ModelError::BadHeader);
        }
        if bytes.len() != expected {
            return Err(ModelError::BadLength {
                expected,
                found: bytes.len(),
            });
        }
        let mut rest = &bytes[MAGIC.len()..];
        let mut head = |len: usize| {
            let scale = f32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
            let weights = rest[4..4 + 2 * len]
                .chunks_exact(2)
                .map(|q| i16::from_le_bytes([q[0], q[1]]))
                .collect::<Vec<i16>>();
            rest = &rest[4 + 2 * len..];
            (scale, weights)
        };
        let (blame_scale, blame) = head(blame_len);
        let (scale, category) = head(category_len);
        Ok(Model {
            blame,
            blame_scale,
            category: category.iter().map(|&w| f32::from(w) * scale).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_model_flags_each_rules_example_and_passes_its_counter_example() {
        let model = Model::builtin();
        for info in rule_infos() {
            let flagged = info.example.as_deref().unwrap_or_default();
            let fine = info.counter_example.as_deref().unwrap_or_default();
            // The example leans to blame (the combined checker also has a rule for most).
            assert!(
                model.blame_probability(flagged) >= 0.5,
                "{}: {flagged}",
                info.id
            );
            assert!(model.blame_probability(fine) < 0.5, "{}: {fine}", info.id);
        }
    }

    #[test]
    fn a_model_survives_the_round_trip_through_its_file_up_to_quantisation() {
        let examples = vec![
            Example {
                id: String::new(),
                text: "Dana was careless.".into(),
                category: Some(Category::Character),
                weight: 1.0,
            },
            Example {
                id: String::new(),
                text: "The disk filled.".into(),
                category: None,
                weight: 1.0,
            },
        ];
        let model = train(&examples, &TrainOptions::default());
        let bytes = model.to_bytes();
        let back = Model::from_bytes(&bytes).expect("a valid file");
        assert_eq!(back.to_bytes(), bytes);
        let p = model.blame_probability("Dana was careless.");
        assert!((back.blame_probability("Dana was careless.") - p).abs() < 1e-3);
        assert_eq!(Model::from_bytes(b"nope"), Err(ModelError::BadHeader));
    }
}
