//! The rule set: parses the compiled-in `rules.toml` once, builds the word lexicon and compiles
//! every pattern, so that linting only compares integers and bit sets.
//!
//! Over 900 lines: it holds both the lexicon (word classes in a hashed short table) and the rule
//! compiler that reads it, both built from one parse of `rules.toml`. The lexicon
//! (`ShortTable`, `Lexicon`) is the piece to move into its own module when the file grows.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use serde::Deserialize;

use crate::pattern::{Gate, Pattern};
use crate::prefilter::Prefilter;
use crate::{Category, Severity};

/// The rules file, kept as data next to the crate.
pub(crate) const RULES_TOML: &str = include_str!("../rules.toml");

/// Why the rules file could not be loaded. A bug in `rules.toml`, caught by the unit tests.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("rules.toml does not parse: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("rule `{rule}`, pattern `{pattern}`: {reason}")]
    Pattern {
        rule: String,
        pattern: String,
        reason: String,
    },
    #[error("rule id `{0}` is not kebab-case or is not unique")]
    BadId(String),
    #[error("too many patterns ({0}); at most 256 fit the gate masks")]
    TooManyPatterns(usize),
    #[error("too many word classes ({0}); the class bit set holds {1}")]
    TooManyClasses(usize, usize),
}

// ---------------------------------------------------------------------------------------------
// A small, fast hasher for short words (the std SipHash is needlessly slow here and the keys are
// not attacker-chosen in a way that matters: the table is fixed and built from our own data).

#[derive(Default, Clone, Copy, Debug)]
pub(crate) struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8])));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut buf = [0u8; 8];
            buf[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(buf));
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

// ---------------------------------------------------------------------------------------------
// Built-in class bits. Lexicon classes from `[classes]` take the bits above these.

pub(crate) const ADV: u128 = 1 << 0;
pub(crate) const PAST: u128 = 1 << 1;
pub(crate) const SYSTEM: u128 = 1 << 2;
pub(crate) const MIS: u128 = 1 << 3;
/// Set per sentence: the token can head a noun phrase naming a person or group.
pub(crate) const PERSON: u128 = 1 << 4;
/// Set per sentence: "nobody", "no one".
pub(crate) const NEG_PERSON: u128 = 1 << 5;
/// Clause punctuation: gaps never cross it and `^` matches after it.
pub(crate) const CLAUSE: u128 = 1 << 6;
/// Negators: not, no, never, n't-words...
pub(crate) const NEG: u128 = 1 << 7;
/// -ing forms ("had been *paying* attention").
pub(crate) const ING: u128 = 1 << 8;
const FIRST_LEXICON_BIT: u32 = 9;

/// Words ending in -ly that are not adverbs.
const NOT_ADVERBS: &[&str] = &[
    "only", "early", "apply", "reply", "supply", "rely", "comply", "family", "assembly", "july",
    "italy", "anomaly", "fly", "ally", "rally", "tally", "holy", "belly", "bully", "jelly",
    "multiply", "imply", "poly", "silly",
];

/// Word classes and ids.
/// Open-addressing table for words of at most 16 bytes, keyed by two machine words: the hot
/// path of tokenization, where a general hash map spends its time hashing and comparing bytes.
/// One slot holds key and value, so a lookup usually touches one cache line.
#[derive(Debug, Default)]
pub(crate) struct ShortTable {
    mask: usize,
    slots: Vec<Slot>,
    /// Classes, by slot index (kept apart so that probing touches only the small slots).
    classes: Vec<u128>,
    /// One bit per hash value: words whose bit is clear are not in the table (most unknown
    /// words are rejected without touching the slots).
    filter: Vec<u64>,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: [u64; 2],
    id: u32,
    len: u8,
}

const FILTER_BITS: usize = 1 << 16;

impl ShortTable {
    #[inline]
    fn key(word: &[u8]) -> [u64; 2] {
        let mut buf = [0u8; 16];
        buf[..word.len()].copy_from_slice(word);
        let (a, b) = buf.split_at(8);
        [
            u64::from_le_bytes(a.try_into().unwrap_or([0; 8])),
            u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
        ]
    }

    #[inline]
    fn slot(&self, k: [u64; 2]) -> usize {
        let h = (k[0].wrapping_mul(SEED).rotate_left(26) ^ k[1]).wrapping_mul(SEED);
        (h >> 32) as usize & self.mask
    }

    pub(crate) fn build<'a>(
        entries: impl Iterator<Item = (&'a str, (u32, u128))> + Clone,
    ) -> ShortTable {
        let n = entries.clone().count();
        let cap = (n * 2).next_power_of_two().max(16);
        let mut t = ShortTable {
            mask: cap - 1,
            slots: vec![Slot::default(); cap],
            classes: vec![0; cap],
            filter: vec![0; FILTER_BITS / 64],
        };
        for (word, (id, classes)) in entries {
            let key = Self::key(word.as_bytes());
            let f = Self::filter_bit(key);
            t.filter[f / 64] |= 1 << (f % 64);
            let mut i = t.slot(key);
            while t.slots[i].len != 0 {
                i = (i + 1) & t.mask;
            }
            t.slots[i] = Slot {
                key,
                id,
                len: word.len() as u8,
            };
            t.classes[i] = classes;
        }
        t
    }

    #[inline]
    fn get(&self, word: &[u8]) -> (u32, u128) {
        self.get_key(Self::key(word), word.len())
    }

    /// Key of `bytes[start..start + len]`, reading whole machine words when the buffer is long
    /// enough (no variable-length copy).
    #[inline]
    fn key_at(bytes: &[u8], start: usize, len: usize) -> [u64; 2] {
        match bytes.get(start..start + 16) {
            Some(window) => {
                let (a, b) = window.split_at(8);
                let a = u64::from_le_bytes(a.try_into().unwrap_or([0; 8]));
                let b = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
                let [ma, mb] = Self::masks(len);
                [a & ma, b & mb]
            }
            None => Self::key(&bytes[start..start + len]),
        }
    }

    /// Id of the word `bytes[start..start + len]` (at most 16 ASCII letters, digits or `_`)
    /// with every byte OR-ed with 0x20, which folds ASCII case; 0 when absent. The table must
    /// have been built from words folded the same way ([`ShortTable::fold`]).
    #[inline]
    pub(crate) fn get_folded(&self, bytes: &[u8], start: usize, len: usize) -> u32 {
        let [a, b] = Self::key_at(bytes, start, len);
        let [ma, mb] = Self::masks(len);
        let fold = 0x2020_2020_2020_2020u64;
        self.get_key([a | (fold & ma), b | (fold & mb)], len).0
    }

    /// Masks that keep the first `len` (at most 16) bytes of a two-word key.
    #[inline]
    fn masks(len: usize) -> [u64; 2] {
        const fn bits(k: usize) -> u64 {
            if k >= 8 {
                u64::MAX
            } else {
                (1u64 << (k * 8)) - 1
            }
        }
        const MASKS: [[u64; 2]; 17] = {
            let mut t = [[0u64; 2]; 17];
            let mut n = 0;
            while n <= 16 {
                t[n] = [bits(n), bits(n.saturating_sub(8))];
                n += 1;
            }
            t
        };
        MASKS[len.min(16)]
    }

    /// A word folded as [`ShortTable::get_folded`] folds the text it looks up.
    pub(crate) fn fold(word: &str) -> String {
        word.bytes().map(|b| char::from(b | 0x20)).collect()
    }

    #[inline]
    fn filter_bit(k: [u64; 2]) -> usize {
        let h = (k[0] ^ k[1].rotate_left(17)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (h >> 48) as usize
    }

    #[inline]
    fn get_key(&self, key: [u64; 2], len: usize) -> (u32, u128) {
        let f = Self::filter_bit(key);
        if self.filter[f / 64] & (1 << (f % 64)) == 0 {
            return (0, 0);
        }
        let mut i = self.slot(key);
        loop {
            let s = &self.slots[i];
            if s.len == 0 {
                return (0, 0);
            }
            if s.key == key && usize::from(s.len) == len {
                return (s.id, self.classes[i]);
            }
            i = (i + 1) & self.mask;
        }
    }
}

#[derive(Debug)]
pub(crate) struct Lexicon {
    map: FxMap<Box<str>, (u32, u128)>,
    /// The same entries for short words, built once the lexicon is complete.
    short: ShortTable,
    class_bits: BTreeMap<String, u128>,
    /// Class bits that carry a built-in meaning as well.
    adv_bit: u128,
    past_bit: u128,
    system_bits: u128,
    negator_bit: u128,
}

impl Lexicon {
    fn new(classes: &BTreeMap<String, Vec<String>>) -> Result<Self, RulesError> {
        let capacity = 128 - FIRST_LEXICON_BIT as usize;
        if classes.len() > capacity {
            return Err(RulesError::TooManyClasses(classes.len(), capacity));
        }
        let mut lex = Lexicon {
            map: FxMap::default(),
            short: ShortTable::default(),
            class_bits: BTreeMap::new(),
            adv_bit: 0,
            past_bit: 0,
            system_bits: 0,
            negator_bit: 0,
        };
        for (i, name) in classes.keys().enumerate() {
            lex.class_bits
                .insert(name.clone(), 1u128 << (FIRST_LEXICON_BIT + i as u32));
        }
        // Noun classes get their plurals automatically.
        let plural_classes = ["role", "system", "safeguard", "novice"];
        for (name, words) in classes {
            let bit = lex.class_bits[name];
            for w in words {
                lex.add(w, bit);
                if plural_classes.contains(&name.as_str()) {
                    lex.add(&plural(w), bit);
                }
            }
        }
        lex.adv_bit = lex.class("adv");
        lex.past_bit = lex.class("past_irregular");
        lex.system_bits = lex.class("system") | lex.class("tech");
        lex.negator_bit = lex.class("negator");
        for p in [",", ";", ":", "—", "–", "(", ")", "[", "]", "…"] {
            lex.add(p, CLAUSE);
        }
        Ok(lex)
    }

    /// The bit of a named lexicon class (0 if there is no such class).
    pub(crate) fn class(&self, name: &str) -> u128 {
        self.class_bits.get(name).copied().unwrap_or(0)
    }

    /// Resolves `@name` in a pattern: built-ins first, then lexicon classes.
    pub(crate) fn class_for_pattern(&self, name: &str) -> Option<u128> {
        match name {
            "adv" => Some(ADV),
            "past" => Some(PAST),
            "system" => Some(SYSTEM),
            "mis_verb" => Some(MIS),
            "ing" => Some(ING),
            _ => self.class_bits.get(name).copied(),
        }
    }

    fn add(&mut self, word: &str, bits: u128) -> u32 {
        let next = self.map.len() as u32 + 1;
        let entry = self.map.entry(word.into()).or_insert((next, 0));
        entry.1 |= bits;
        entry.0
    }

    /// Id for a literal pattern word, adding it when new.
    pub(crate) fn intern(&mut self, word: &str) -> u32 {
        self.add(word, 0)
    }

    /// Lookup of punctuation or an already lower-cased token.
    #[inline]
    pub(crate) fn lookup(&self, word: &str) -> (u32, u128) {
        if word.len() <= 16 && !self.short.slots.is_empty() {
            return self.short.get(word.as_bytes());
        }
        self.map.get(word).copied().unwrap_or((0, 0))
    }

    /// Every word with its classes.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, u128)> {
        self.map.iter().map(|(w, &(_, classes))| (&**w, classes))
    }

    /// Words indexed by lexicon id (index 0, "not in the lexicon", is empty).
    pub(crate) fn words_by_id(&self) -> Vec<&str> {
        let mut out = vec![""; self.map.len() + 1];
        for (w, &(id, _)) in &self.map {
            if let Some(slot) = out.get_mut(id as usize) {
                *slot = w;
            }
        }
        out
    }

    /// The bits of all `[classes]` word lists (as opposed to built-in, shape-derived bits).
    pub(crate) fn lexicon_class_bits(&self) -> u128 {
        self.class_bits.values().fold(0, |m, &b| m | b)
    }

    /// Builds the fast table; call when no more words will be interned.
    fn freeze(&mut self) {
        // Shape-derived classes of known words are computed once, here.
        let words: Vec<(Box<str>, (u32, u128))> =
            self.map.iter().map(|(w, v)| (w.clone(), *v)).collect();
        for (w, v) in words {
            let full = self.add_shape_classes(&w, v);
            self.map.insert(w, full);
        }
        let short = self
            .map
            .iter()
            .filter(|(w, _)| w.len() <= 16 && !w.is_empty())
            .map(|(w, v)| (&**w, *v));
        self.short = ShortTable::build(short);
    }

    /// Lookup of the lower-case word `text[start..end]`, adding shape-derived classes.
    #[inline]
    pub(crate) fn lookup_in(&self, text: &str, start: usize, end: usize) -> (u32, u128) {
        let word = &text[start..end];
        let found = if word.len() <= 16 && !self.short.slots.is_empty() {
            self.short.get_key(
                ShortTable::key_at(text.as_bytes(), start, word.len()),
                word.len(),
            )
        } else {
            self.lookup(word)
        };
        // Known words got their shape-derived classes when the lexicon was frozen.
        if found.0 != 0 {
            return found;
        }
        self.add_shape_classes(word, found)
    }

    /// Lookup of a lower-cased word, adding shape-derived built-in classes.
    #[inline]
    pub(crate) fn lookup_word(&self, word: &str) -> (u32, u128) {
        let found = self.lookup(word);
        if found.0 != 0 {
            return found;
        }
        self.add_shape_classes(word, found)
    }

    #[inline]
    fn add_shape_classes(&self, word: &str, (id, mut classes): (u32, u128)) -> (u32, u128) {
        let b = word.as_bytes();
        let n = b.len();
        if classes != 0 {
            classes |= builtin_from_classes(classes, self);
        }
        if n < 3 {
            return (id, classes);
        }
        // Suffix tests on the last bytes only.
        let (x, y, z) = (b[n - 3], b[n - 2], b[n - 1]);
        match (y, z) {
            (b'l', b'y') if n >= 4 && !NOT_ADVERBS.contains(&word) => classes |= ADV,
            (b'e', b'd') if n >= 4 => classes |= PAST,
            (b'n', b'g') if x == b'i' && n >= 5 => classes |= ING,
            (b'\'', b't') if x == b'n' => classes |= NEG,
            _ => {}
        }
        // mis-verbs (misread, misjudged), but not "missing" or "mission".
        if n >= 6
            && b.starts_with(b"mis")
            && !b.starts_with(b"miss")
            && classes & (ADV | PAST | ING) != 0
        {
            classes |= MIS;
        }
        (id, classes)
    }
}

/// Built-in bits implied by lexicon classes (adv, past_irregular, system/tech, negator).
#[inline]
fn builtin_from_classes(classes: u128, lex: &Lexicon) -> u128 {
    let mut extra = 0;
    if classes & lex.adv_bit != 0 {
        extra |= ADV;
    }
    if classes & lex.past_bit != 0 {
        extra |= PAST;
    }
    if classes & lex.system_bits != 0 {
        extra |= SYSTEM;
    }
    if classes & lex.negator_bit != 0 {
        extra |= NEG;
    }
    extra
}

fn plural(w: &str) -> String {
    if w.ends_with('s') || w.ends_with("sh") || w.ends_with("ch") || w.ends_with('x') {
        format!("{w}es")
    } else if w.ends_with('y') && !w.ends_with("ay") && !w.ends_with("ey") && !w.ends_with("oy") {
        format!("{}ies", &w[..w.len() - 1])
    } else {
        format!("{w}s")
    }
}

// ---------------------------------------------------------------------------------------------
// The file format.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    classes: BTreeMap<String, Vec<String>>,
    rule: Vec<RuleDef>,
    exemptions: PatternList,
    concentration: ConcentrationDef,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternList {
    patterns: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RuleDef {
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    pub message: String,
    pub suggestion: String,
    #[serde(default)]
    pub replacement: Option<String>,
    pub patterns: Vec<String>,
    #[serde(default)]
    pub unless: Vec<String>,
    #[serde(default)]
    pub unless_after: Vec<String>,
    #[serde(default)]
    pub requires_person: bool,
    #[serde(default = "yes")]
    pub negatable: bool,
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub bad: Vec<String>,
    #[serde(default)]
    #[cfg_attr(not(test), allow(dead_code))]
    pub good: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConcentrationDef {
    id: String,
    category: Category,
    severity: Severity,
    min_sentences: usize,
    message: String,
    suggestion: String,
    patterns: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// The compiled rule set.

/// Public description of one rule, for SARIF rule metadata and documentation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RuleInfo {
    /// Kebab-case id, e.g. `person-failure`.
    pub id: String,
    pub category: Category,
    pub default_severity: Severity,
    /// Why sentences matching this rule read as blame.
    pub message: String,
    /// Suggestion template; `{subject}` stands for the person or team named.
    pub suggestion: String,
    /// A sentence the rule flags (the first `bad` example of `rules.toml`).
    pub example: Option<String>,
    /// A similar sentence it leaves alone (the first `good` example).
    pub counter_example: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub info: RuleInfo,
    pub replacement: Option<String>,
    pub patterns: Vec<Pattern>,
    pub unless: Vec<Pattern>,
    /// Like `unless`, but only matches from the start of the rule's match onwards ("did not
    /// escalate *because* ..." explains; "*because* someone did not ..." does not).
    pub unless_after: Vec<Pattern>,
    /// Bit of the first pattern in the gate masks (pattern `i` has bit `first_pattern + i`).
    pub first_pattern: usize,
    pub requires_person: bool,
    pub negatable: bool,
    #[cfg_attr(not(test), allow(dead_code))]
    pub bad: Vec<String>,
    #[cfg_attr(not(test), allow(dead_code))]
    pub good: Vec<String>,
}

/// Class bits and word ids the engine needs by name.
#[derive(Debug)]
pub(crate) struct Bits {
    pub det: u128,
    pub prep: u128,
    pub pronoun: u128,
    pub neg_person: u128,
    pub poss_pronoun: u128,
    pub role: u128,
    /// Words that cannot be a modifier inside a noun phrase.
    pub nonmod: u128,
    pub id_s: u32,
    pub id_apos: u32,
    pub id_no: u32,
    pub id_one: u32,
    pub id_but: u32,
    pub id_yet: u32,
    pub pp_ids: [u32; 6],
    /// "who", "that": a relative clause after a person ("the developer who wrote it").
    pub relative_ids: [u32; 2],
    /// "they", "them".
    pub they_ids: [u32; 2],
    /// The `common` class plus shape-derived bits: a capitalised word with only these
    /// classes can still be a name ("Mark's blunder").
    pub common_only: u128,
}

#[derive(Debug)]
pub(crate) struct Concentration {
    pub info: RuleInfo,
    pub min_sentences: usize,
    pub patterns: Vec<Pattern>,
}

#[derive(Debug)]
pub(crate) struct RuleSet {
    pub lexicon: Lexicon,
    pub bits: Bits,
    pub rules: Vec<Rule>,
    pub exemptions: Vec<Pattern>,
    pub concentration: Concentration,
    /// Number of lexicon ids (for per-sentence id bit sets).
    pub id_count: usize,
    /// Which patterns (one bit each, numbered across all rules, then the concentration
    /// patterns) a word or class can open.
    pub gates: GateIndex,
    /// Bit of the first concentration pattern.
    pub concentration_first: usize,
    /// For each rule-pattern bit: (rule index, pattern index).
    pub pattern_owner: Vec<(usize, usize)>,
    /// Rejects, from the raw text, sentences that no pattern can match.
    pub prefilter: Prefilter,
}

/// Most patterns a rule set may have (the width of `PatternMask`).
const MAX_PATTERNS: usize = 256;

/// One bit per pattern.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct PatternMask([u64; 4]);

impl PatternMask {
    fn set(&mut self, bit: usize) {
        self.0[bit / 64] |= 1 << (bit % 64);
    }
    #[inline]
    fn union(&mut self, other: &PatternMask) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a |= b;
        }
    }
    #[inline]
    pub(crate) fn has(&self, bit: usize) -> bool {
        self.0[bit / 64] & (1 << (bit % 64)) != 0
    }
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }
    /// The set bits, in increasing order.
    pub(crate) fn bits(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
            let mut rest = word;
            std::iter::from_fn(move || {
                (rest != 0).then(|| {
                    let b = rest.trailing_zeros() as usize;
                    rest &= rest - 1;
                    w * 64 + b
                })
            })
        })
    }
}

#[derive(Debug)]
pub(crate) struct GateIndex {
    pub by_id: Vec<PatternMask>,
    pub by_class: Vec<PatternMask>,
    /// Patterns whose gate is open (always tried).
    pub always: PatternMask,
}

impl GateIndex {
    fn add(&mut self, gate: &Gate, bit: usize) {
        let (classes, ids) = gate.parts();
        if classes == u128::MAX {
            self.always.set(bit);
            return;
        }
        for b in 0..128 {
            if classes & (1 << b) != 0 {
                self.by_class[b].set(bit);
            }
        }
        for id in ids {
            let id = id as usize;
            if self.by_id.len() <= id {
                self.by_id.resize(id + 1, PatternMask::default());
            }
            self.by_id[id].set(bit);
        }
    }

    /// The rules a sentence with these classes and words can possibly match.
    #[inline]
    pub(crate) fn open(&self, mut classes: u128, ids: &[u32]) -> PatternMask {
        let mut mask = self.always;
        while classes != 0 {
            let b = classes.trailing_zeros() as usize;
            mask.union(&self.by_class[b]);
            classes &= classes - 1;
        }
        for &id in ids {
            if let Some(m) = self.by_id.get(id as usize) {
                mask.union(m);
            }
        }
        mask
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl RuleSet {
    pub(crate) fn parse(src: &str) -> Result<RuleSet, RulesError> {
        let file: RuleFile = toml::from_str(src)?;
        let mut lexicon = Lexicon::new(&file.classes)?;
        let compile = |lexicon: &mut Lexicon,
                       rule: &str,
                       list: &[String]|
         -> Result<Vec<Pattern>, RulesError> {
            list.iter()
                .map(|p| {
                    Pattern::parse(p, lexicon).map_err(|reason| RulesError::Pattern {
                        rule: rule.to_string(),
                        pattern: p.clone(),
                        reason,
                    })
                })
                .collect()
        };
        let mut rules = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for def in file.rule {
            if !is_kebab(&def.id) || !seen.insert(def.id.clone()) {
                return Err(RulesError::BadId(def.id));
            }
            let patterns = compile(&mut lexicon, &def.id, &def.patterns)?;
            let unless = compile(&mut lexicon, &def.id, &def.unless)?;
            let unless_after = compile(&mut lexicon, &def.id, &def.unless_after)?;
            rules.push(Rule {
                info: RuleInfo {
                    id: def.id,
                    category: def.category,
                    default_severity: def.severity,
                    message: def.message,
                    suggestion: def.suggestion,
                    example: def.bad.first().cloned(),
                    counter_example: def.good.first().cloned(),
                },
                replacement: def.replacement,
                patterns,
                unless,
                unless_after,
                first_pattern: 0,
                requires_person: def.requires_person,
                negatable: def.negatable,
                bad: def.bad,
                good: def.good,
            });
        }
        let exemptions = compile(&mut lexicon, "exemptions", &file.exemptions.patterns)?;
        let c = file.concentration;
        if !is_kebab(&c.id) || !seen.insert(c.id.clone()) {
            return Err(RulesError::BadId(c.id));
        }
        let concentration = Concentration {
            patterns: compile(&mut lexicon, &c.id, &c.patterns)?,
            info: RuleInfo {
                id: c.id,
                category: c.category,
                default_severity: c.severity,
                message: c.message,
                suggestion: c.suggestion,
                example: None,
                counter_example: None,
            },
            min_sentences: c.min_sentences,
        };
        let mut id = |w: &str| lexicon.intern(w);
        let relative_ids = [id("who"), id("that")];
        let they_ids = [id("they"), id("them")];
        let pp_ids = [
            id("of"),
            id("on"),
            id("from"),
            id("in"),
            id("at"),
            id("for"),
        ];
        let (id_s, id_apos, id_no, id_one, id_but, id_yet) =
            (id("'s"), id("'"), id("no"), id("one"), id("but"), id("yet"));
        let c = |name: &str| lexicon.class(name);
        let bits = Bits {
            det: c("det"),
            prep: c("prep"),
            pronoun: c("pronoun"),
            neg_person: c("neg_person"),
            poss_pronoun: c("poss_pronoun"),
            role: c("role"),
            nonmod: c("prep")
                | c("be")
                | c("modal")
                | c("neg_aux")
                | c("pronoun")
                | c("neg_person")
                | c("det")
                | c("fail_to")
                | c("negator")
                | c("conj")
                | ADV
                | CLAUSE,
            id_s,
            id_apos,
            id_no,
            id_one,
            id_but,
            id_yet,
            pp_ids,
            relative_ids,
            they_ids,
            common_only: c("common") | ADV | PAST | ING | MIS,
        };
        // Gates: pick for each pattern its rarest required word (function words and frequent
        // classes make poor gates), then index the gates by word id and class bit so that one
        // pass over a sentence's words tells which rules can possibly match.
        let function_classes = [
            "det",
            "prep",
            "be",
            "modal",
            "neg_aux",
            "pronoun",
            "poss_pronoun",
        ]
        .iter()
        .chain(&["conj", "negator"])
        .fold(CLAUSE, |m, c| m | lexicon.class(c));
        let frequent_classes = ["adv", "past_irregular", "common", "system", "tech", "role"]
            .iter()
            .chain(&["safeguard"])
            .fold(function_classes | ADV | PAST | ING | SYSTEM, |m, c| {
                m | lexicon.class(c)
            });
        let mut function_ids = vec![false; lexicon.map.len() + 2];
        for (_, &(id, classes)) in lexicon.map.iter() {
            function_ids[id as usize] = classes & function_classes != 0;
        }
        for w in [
            "to", "have", "has", "had", "if", "it", "do", "did", "does", "'s", "'", "one",
        ] {
            let id = lexicon.intern(w) as usize;
            if id >= function_ids.len() {
                function_ids.resize(id + 1, false);
            }
            function_ids[id] = true;
        }
        let common_id = |id: u32| function_ids.get(id as usize).copied().unwrap_or(false);
        let total: usize =
            rules.iter().map(|r| r.patterns.len()).sum::<usize>() + concentration.patterns.len();
        if total > MAX_PATTERNS {
            return Err(RulesError::TooManyPatterns(total));
        }
        let mut gates = GateIndex {
            by_id: Vec::new(),
            by_class: vec![PatternMask::default(); 128],
            always: PatternMask::default(),
        };
        let mut next_bit = 0;
        let mut pattern_owner = Vec::new();
        for (ri, rule) in rules.iter_mut().enumerate() {
            rule.first_pattern = next_bit;
            for (pi, p) in rule.patterns.iter().enumerate() {
                pattern_owner.push((ri, pi));
                gates.add(&p.gate(frequent_classes, common_id), next_bit);
                next_bit += 1;
            }
        }
        let concentration_first = next_bit;
        for p in &concentration.patterns {
            gates.add(&p.gate(frequent_classes, common_id), next_bit);
            next_bit += 1;
        }
        lexicon.freeze();
        let id_count = lexicon.map.len() + 1;
        gates.by_id.resize(id_count, PatternMask::default());
        let all_patterns = rules.iter().flat_map(|r| &r.patterns);
        let prefilter = Prefilter::new(&lexicon, all_patterns.chain(&concentration.patterns));
        Ok(RuleSet {
            prefilter,
            gates,
            concentration_first,
            pattern_owner,
            lexicon,
            bits,
            rules,
            exemptions,
            concentration,
            id_count,
        })
    }

    /// The rule set compiled from the built-in `rules.toml`.
    pub(crate) fn builtin() -> &'static RuleSet {
        static RULES: LazyLock<RuleSet> = LazyLock::new(|| match RuleSet::parse(RULES_TOML) {
            Ok(r) => r,
            // The file is compiled in and checked by the unit tests; failing here is a bug.
            Err(e) => panic!("built-in rules.toml is invalid: {e}"),
        });
        &RULES
    }

    pub(crate) fn rule_by_id(&self, id: &str) -> Option<&RuleInfo> {
        self.rules
            .iter()
            .map(|r| &r.info)
            .chain(std::iter::once(&self.concentration.info))
            .find(|r| r.id == id)
    }
}

/// Metadata for every rule (including the document-level blame-concentration rule).
pub fn rules() -> Vec<RuleInfo> {
    let set = RuleSet::builtin();
    set.rules
        .iter()
        .map(|r| r.info.clone())
        .chain(std::iter::once(set.concentration.info.clone()))
        .chain(crate::model::rule_infos().iter().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LintOptions, lint};

    #[test]
    fn the_builtin_rules_file_parses_and_every_pattern_compiles() {
        let set = RuleSet::parse(RULES_TOML).unwrap_or_else(|e| panic!("{e}"));
        assert!(set.rules.len() >= 9);
    }

    #[test]
    fn every_rule_fires_on_its_bad_examples_and_not_on_its_good_examples() {
        let set = RuleSet::builtin();
        // The examples describe the rules themselves, so the model's veto stays out of it.
        let rules_only = LintOptions {
            config: crate::LintConfig {
                method: crate::Method::Rules,
                ..crate::LintConfig::default()
            },
            ..LintOptions::default()
        };
        let mut failures = Vec::new();
        for rule in &set.rules {
            assert!(
                !rule.bad.is_empty(),
                "rule {} has no bad examples",
                rule.info.id
            );
            assert!(
                !rule.good.is_empty(),
                "rule {} has no good examples",
                rule.info.id
            );
            for bad in &rule.bad {
                if !lint(bad, &rules_only)
                    .iter()
                    .any(|f| f.rule == rule.info.id)
                {
                    failures.push(format!("{} should fire on: {bad}", rule.info.id));
                }
            }
            for good in &rule.good {
                if lint(good, &rules_only)
                    .iter()
                    .any(|f| f.rule == rule.info.id)
                {
                    failures.push(format!("{} should not fire on: {good}", rule.info.id));
                }
            }
        }
        assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    }

    #[test]
    fn a_broken_rules_file_is_an_error_not_a_panic() {
        assert!(matches!(
            RuleSet::parse("nonsense = ["),
            Err(RulesError::Toml(_))
        ));
        let bad_class = RULES_TOML.replacen("@fail_to to", "@no_such_class to", 1);
        assert!(matches!(
            RuleSet::parse(&bad_class),
            Err(RulesError::Pattern { .. })
        ));
    }
}
