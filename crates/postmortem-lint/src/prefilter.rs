//! Sentence prefilter: one pass over a sentence's raw text tells whether any rule pattern could
//! match it, so that most sentences of clean prose are never tokenized.
//!
//! A pattern can only match when every one of its required words (its anchors) occurs in the
//! sentence. Anchors that are word lists (literal words or lexicon classes) can be looked for in
//! the raw text; a sentence passes when, for some pattern, every such anchor was found. Anchors
//! that depend on shape or context (`@adv`, `@past`, `<person>`...) cannot be checked in text
//! and count as found. So the filter only ever lets through more sentences than the matcher
//! would try, never fewer: skipping a sentence it rejects changes nothing.
//!
//! The text is read as runs of ASCII letters, digits and `_`, each looked up (case folded) in
//! a small hash table. A word of the lexicon is found through one of its runs: "on-call"
//! through "call", "should've" through "should". A token equal to the word has that run with
//! non-word characters around it, so finding the run is necessary for the token, if not
//! sufficient, which is all a prefilter needs.

use std::collections::HashMap;
use std::ops::Range;

use crate::pattern::{Alt, Pattern};
use crate::rules::{Lexicon, MIS, ShortTable};

/// Most anchors the found-set holds; a rule set with more disables the filter.
const ANCHOR_WORDS: usize = 8;
const MAX_ANCHORS: usize = 64 * ANCHOR_WORDS;
/// Most patterns the candidate set holds (as `rules::MAX_PATTERNS`).
const PATTERN_WORDS: usize = 4;
/// Longest run the table holds (its key is two machine words).
const MAX_RUN: usize = 16;

/// Kelvin sign: the one character whose lower case is an ASCII letter, so a word spelt with
/// it would be a lexicon word that the ASCII runs do not show.
const KELVIN: [u8; 3] = [0xE2, 0x84, 0xAA];

#[derive(Debug)]
pub(crate) struct Prefilter {
    /// `None`: some pattern has no anchor that text search can check, so every sentence passes.
    search: Option<Search>,
}

#[derive(Debug)]
struct Search {
    /// Folded run → needle index + 1.
    runs: ShortTable,
    needles: Vec<Needle>,
    /// The anchors satisfied by a run starting with `mis` but not `miss` (`@mis_verb`).
    mis: Option<Needle>,
    /// For each pattern: the indices of its checkable anchors.
    required: Vec<Vec<u16>>,
}

#[derive(Debug, Default, Clone)]
struct Needle {
    /// Anchors this run satisfies.
    anchors: [u64; ANCHOR_WORDS],
    /// Patterns whose first checked anchor this run satisfies (candidates to check).
    keys: [u64; PATTERN_WORDS],
}

impl Needle {
    fn mark(&mut self, anchor: usize, key_of: Option<usize>) {
        self.anchors[anchor / 64] |= 1 << (anchor % 64);
        if let Some(p) = key_of {
            self.keys[p / 64] |= 1 << (p % 64);
        }
    }
}

/// ASCII letters, digits and `_`: the bytes of a run.
const RUN_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 128 {
        t[c] = (c as u8).is_ascii_alphanumeric() || c == b'_' as usize;
        c += 1;
    }
    t
};

#[inline(always)]
fn is_run_byte(c: u8) -> bool {
    RUN_BYTES[usize::from(c)]
}

/// The run a lexicon word is found by: its longest run of word bytes, or `None` when the word
/// is not ASCII or its longest run does not fit the table. `Some("")` for a word that is never
/// one token (one that ends in a joiner, such as "fault:": the tokenizer only takes a joiner in
/// when a word character follows it), which nothing needs to find.
fn run_of(word: &str) -> Option<&str> {
    if !word.is_ascii() {
        return None;
    }
    let b = word.as_bytes();
    if b.len() > 1 && !is_run_byte(b[b.len() - 1]) {
        return Some("");
    }
    let run = word
        .split(|c: char| !is_run_byte(c as u8))
        .max_by_key(|r| r.len())
        .unwrap_or("");
    (!run.is_empty() && run.len() <= MAX_RUN).then_some(run)
}

impl Prefilter {
    /// Builds the filter for `patterns` (every rule and concentration pattern).
    pub(crate) fn new<'a>(lexicon: &Lexicon, patterns: impl Iterator<Item = &'a Pattern>) -> Self {
        Prefilter {
            search: Search::new(lexicon, patterns),
        }
    }

    /// False when no pattern can match the sentence `text[range]`; true when one may. (The
    /// text around the sentence lets word lookups read whole machine words.)
    pub(crate) fn may_match(&self, text: &str, range: Range<usize>) -> bool {
        match &self.search {
            Some(search) => search.may_match(text.as_bytes(), range),
            None => true,
        }
    }
}

impl Search {
    fn new<'a>(lexicon: &Lexicon, patterns: impl Iterator<Item = &'a Pattern>) -> Option<Search> {
        let lexicon_classes = lexicon.lexicon_class_bits();
        let by_id = lexicon.words_by_id();
        let mut class_words: Vec<Vec<&str>> = vec![Vec::new(); 128];
        for (word, classes) in lexicon.entries() {
            for (bit, list) in class_words.iter_mut().enumerate() {
                if classes & lexicon_classes & (1 << bit) != 0 {
                    list.push(word);
                }
            }
        }
        // The runs of a checkable anchor (and whether it is `@mis_verb`), or None.
        let runs_of = |alt: &Alt| -> Option<(Vec<&str>, bool)> {
            let classes = alt.classes();
            if classes & !(lexicon_classes | MIS) != 0 {
                return None;
            }
            let ids = alt.ids().iter();
            let mut words: Vec<&str> = ids
                .map(|&id| by_id.get(id as usize).copied().unwrap_or(""))
                .collect();
            for (bit, list) in class_words.iter().enumerate() {
                if classes & (1 << bit) != 0 {
                    words.extend(list);
                }
            }
            let mut runs = Vec::with_capacity(words.len());
            for w in words {
                match run_of(w)? {
                    "" => {}
                    run => runs.push(run),
                }
            }
            Some((runs, classes & MIS != 0))
        };
        let mut folded: Vec<String> = Vec::new();
        let mut needles: Vec<Needle> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut mis: Option<Needle> = None;
        let mut required = Vec::new();
        let mut anchors = 0usize;
        for (pi, pattern) in patterns.enumerate() {
            if pi >= PATTERN_WORDS * 64 {
                return None;
            }
            let mut checked: Vec<(Vec<&str>, bool)> =
                pattern.anchors().iter().filter_map(runs_of).collect();
            if checked.is_empty() {
                return None;
            }
            // The anchor with the fewest words is looked up first.
            checked.sort_by_key(|(runs, mis)| runs.len() + usize::from(*mis));
            let mut mine = Vec::new();
            for (k, (runs, is_mis)) in checked.into_iter().enumerate() {
                if anchors >= MAX_ANCHORS {
                    return None;
                }
                let a = anchors;
                anchors += 1;
                mine.push(a as u16);
                let key_of = (k == 0).then_some(pi);
                for run in runs {
                    let f = ShortTable::fold(run);
                    let n = *index.entry(f.clone()).or_insert_with(|| {
                        folded.push(f);
                        needles.push(Needle::default());
                        needles.len() - 1
                    });
                    needles[n].mark(a, key_of);
                }
                if is_mis {
                    mis.get_or_insert_with(Needle::default).mark(a, key_of);
                }
            }
            required.push(mine);
        }
        let entries = folded
            .iter()
            .enumerate()
            .map(|(i, f)| (f.as_str(), (i as u32 + 1, 0)));
        Some(Search {
            runs: ShortTable::build(entries),
            needles,
            mis,
            required,
        })
    }

    fn may_match(&self, text: &[u8], range: Range<usize>) -> bool {
        let b = &text[range.clone()];
        let kelvin = memchr::memchr_iter(KELVIN[0], b).any(|i| b[i..].starts_with(&KELVIN));
        if kelvin {
            return true;
        }
        let mut found = [0u64; ANCHOR_WORDS];
        let mut candidates = [0u64; PATTERN_WORDS];
        let mut add = |needle: &Needle| {
            for (f, a) in found.iter_mut().zip(needle.anchors) {
                *f |= a;
            }
            for (c, k) in candidates.iter_mut().zip(needle.keys) {
                *c |= k;
            }
        };
        let n = b.len();
        let mut i = 0;
        while i < n {
            if !is_run_byte(b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            i += 1;
            while i < n && is_run_byte(b[i]) {
                i += 1;
            }
            let len = i - start;
            if len <= MAX_RUN {
                let id = self.runs.get_folded(text, range.start + start, len);
                if id != 0 {
                    add(&self.needles[id as usize - 1]);
                }
            }
            if let Some(needle) = &self.mis
                && len >= 3
                && b[start..start + 3].eq_ignore_ascii_case(b"mis")
                && !b
                    .get(start + 3)
                    .is_some_and(|c| c.eq_ignore_ascii_case(&b's'))
            {
                add(needle);
            }
        }
        let has = |a: u16| found[usize::from(a) / 64] & (1 << (a % 64)) != 0;
        candidates.iter().enumerate().any(|(w, &bits)| {
            let mut rest = bits;
            while rest != 0 {
                let p = w * 64 + rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if self.required[p].iter().all(|&a| has(a)) {
                    return true;
                }
            }
            false
        })
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Prefilter, run_of};
    use crate::rules::RuleSet;

    struct Probe<'a>(&'a Prefilter);

    impl Probe<'_> {
        fn may_match(&self, sentence: &str) -> bool {
            // The sentence inside a longer text, as the engine passes it.
            let text = format!("Before. {sentence} After.");
            self.0.may_match(&text, 8..8 + sentence.len())
        }
    }

    #[test]
    fn a_word_is_found_by_its_longest_run() {
        assert_eq!(run_of("on-call"), Some("call"));
        assert_eq!(run_of("should've"), Some("should"));
        assert_eq!(run_of("fault:"), Some(""));
        assert_eq!(run_of("'s"), Some("s"));
        assert_eq!(run_of("café"), None);
    }

    #[test]
    fn the_builtin_rules_skip_clean_sentences_and_keep_blameful_ones() {
        let prefilter = &RuleSet::builtin().prefilter;
        let p = Probe(prefilter);
        assert!(
            prefilter.search.is_some(),
            "every built-in pattern has a checkable anchor"
        );
        assert!(!p.may_match("Traffic shifted to the secondary region within four minutes."));
        assert!(p.may_match("Dana failed to notice the disk alert."));
        assert!(p.may_match("DANA FAILED TO NOTICE THE DISK ALERT."));
        assert!(p.may_match("The on-call engineer should’ve checked the replica lag."));
        assert!(p.may_match("Sam misconfigured the load balancer, then misread the graph."));
        // The Kelvin sign lower-cases to "k": "chec\u{212A}ed" is the word "checked".
        assert!(p.may_match("Nobody chec\u{212A}ed the replica lag."));
    }

    /// What the matcher itself decides after tokenizing: can any pattern match?
    fn some_pattern_possible(sentence: &str) -> bool {
        let set = RuleSet::builtin();
        let mut toks = Vec::new();
        crate::token::tokenize(sentence, &set.lexicon, &mut toks);
        let mut ids = crate::pattern::IdSet::with_capacity(set.id_count);
        let mut classes = 0;
        for t in &toks {
            classes |= t.classes;
            if t.id != 0 {
                ids.insert(t.id);
            }
        }
        let mut patterns = set.rules.iter().flat_map(|r| &r.patterns);
        patterns.any(|p| p.possible(classes, &ids))
            || set
                .concentration
                .patterns
                .iter()
                .any(|p| p.possible(classes, &ids))
    }

    /// Lexicon words in every spelling the tokenizer accepts for them.
    fn word() -> impl Strategy<Value = String> {
        let words: Vec<String> = RuleSet::builtin()
            .lexicon
            .entries()
            .map(|(w, _)| w.to_string())
            .collect();
        (prop::sample::select(words), 0..5u8).prop_map(|(w, spelling)| match spelling {
            0 => w.to_uppercase(),
            1 => w.replace('\'', "’"),
            2 => format!(
                "{}{}",
                w.get(..1).unwrap_or("").to_uppercase(),
                w.get(1..).unwrap_or("")
            ),
            3 => format!("{w}'s"),
            _ => w,
        })
    }

    proptest! {
        #[test]
        fn the_prefilter_never_rejects_a_sentence_the_matcher_would_try(
            pieces in prop::collection::vec(
                (
                    prop_oneof![word(), "[a-zA-Z0-9_]{1,6}", Just("\u{212A}now".to_string()), "\\PC{1,3}"],
                    prop::sample::select(vec![" ", ", ", "-", "/", ".", "’", "'", ":", " (", "\n", "", "_"]),
                ),
                1..12,
            )
        ) {
            let sentence: String = pieces.iter().map(|(w, sep)| format!("{w}{sep}")).collect();
            if some_pattern_possible(&sentence) {
                prop_assert!(Probe(&RuleSet::builtin().prefilter).may_match(&sentence), "{sentence:?}");
            }
        }
    }
}
