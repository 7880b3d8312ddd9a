//! Features of the model: a sentence's words (lower-cased, with names, people words and
//! things told apart by the rules' lexicon), hashed into word and character n-grams, plus the
//! two text facts the combination with the rules needs (quotations, denied judgements).

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::rules::RuleSet;

/// The hash of the bias feature (every sentence has it).
const BIAS: u32 = 0x9E37_79B9;
/// The word index of features that belong to no word (bias, end of sentence).
pub(crate) const NO_WORD: u16 = u16::MAX;

const FNV_START: u32 = 0x811C_9DC5;

#[inline]
fn fnv_add(mut h: u32, bytes: &[u8]) -> u32 {
    for &b in bytes {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// FNV's low bits mix poorly; fold the high half in before masking.
#[inline]
fn finish(h: u32) -> u32 {
    h ^ (h >> 15)
}

/// Reusable buffers of the feature extractor.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// The normalised words, one after another.
    lower: String,
    /// Each word: its range in `lower`, and its class (`PLAIN`, `NAME`, `PERSON`, `THING`).
    words: Vec<(u32, u32, u8)>,
    padded: Vec<u8>,
    /// Lexicon classes of recently seen short words: a document repeats its words, and the
    /// lexicon lookup is the feature extractor's most expensive step.
    classes: Vec<CachedClass>,
}

/// One slot of the class cache: a word of up to 15 bytes and its lexicon class.
#[derive(Debug, Clone, Copy, Default)]
struct CachedClass {
    len: u8,
    word: [u8; 15],
    class: u8,
}

const CLASS_CACHE_SLOTS: usize = 1024;

impl Scratch {
    /// `lexicon_class` of `word`, from the cache when this slot last held the same word.
    fn lexicon_class(&mut self, from: usize, to: usize) -> u8 {
        let word = &self.lower.as_bytes()[from..to];
        if word.len() > 15 {
            return lexicon_class(&self.lower[from..to]);
        }
        if self.classes.is_empty() {
            self.classes = vec![CachedClass::default(); CLASS_CACHE_SLOTS];
        }
        let slot = finish(fnv_add(FNV_START, word)) as usize % CLASS_CACHE_SLOTS;
        let cached = self.classes[slot];
        if usize::from(cached.len) == word.len() && cached.word[..word.len()] == *word {
            return cached.class;
        }
        let class = lexicon_class(&self.lower[from..to]);
        let mut entry = CachedClass {
            len: word.len() as u8,
            class,
            ..CachedClass::default()
        };
        entry.word[..word.len()].copy_from_slice(word);
        self.classes[slot] = entry;
        class
    }
}

/// Judgement words whose denial ("nobody was at fault", "not caused by anyone's negligence")
/// is the opposite of blame.
const JUDGEMENTS: &[&str] = &[
    "fault",
    "blame",
    "blamed",
    "negligence",
    "negligent",
    "careless",
    "carelessness",
    "lazy",
    "sloppy",
    "reckless",
    "incompetent",
    "mistake",
    "error",
    "culprit",
    "responsible",
    "accountable",
    "guilty",
];
const NEGATORS: &[&str] = &["not", "no", "never", "nobody", "none", "nothing", "without"];

impl Scratch {
    /// Is a judgement word of the last sentence denied by a negator up to six words before it?
    pub(crate) fn negated_judgement(&self) -> bool {
        (0..self.words.len()).any(|i| {
            JUDGEMENTS.contains(&self.word(i))
                && (i.saturating_sub(6)..i).any(|j| {
                    let w = self.word(j);
                    NEGATORS.contains(&w) || w.ends_with("n't")
                })
        })
    }

    /// Words of the last sentence features were extracted from.
    pub(crate) fn word_count(&self) -> usize {
        self.words.len()
    }

    pub(crate) fn word(&self, i: usize) -> &str {
        let (a, b, _) = self.words[i];
        &self.lower[a as usize..b as usize]
    }
}

const PLAIN: u8 = 0;
const NAME: u8 = 1;
const PERSON: u8 = 2;
const THING: u8 = 3;
const CLASS_TOKENS: [&[u8]; 4] = [b"", b"<name>", b"<person>", b"<thing>"];

/// What the rules' lexicon knows about a word: a person word (role noun, pronoun), a thing
/// (system or product name), or neither.
fn lexicon_class(word: &str) -> u8 {
    /// The rule set and its class bits for people and things, looked up once.
    static CLASSES: LazyLock<(&'static RuleSet, u128, u128)> = LazyLock::new(|| {
        let rules = RuleSet::builtin();
        let people = rules.bits.role | rules.bits.pronoun;
        let things = rules.lexicon.class("tech") | rules.lexicon.class("system");
        (rules, people, things)
    });
    let (rules, people, things) = *CLASSES;
    let (_, classes) = rules.lexicon.lookup(word);
    if classes & people != 0 {
        PERSON
    } else if classes & things != 0 {
        THING
    } else if classes != 0 {
        // Some other known word ("common", a verb class): not a name.
        u8::MAX
    } else {
        PLAIN
    }
}

/// Lower-cased words of a sentence: runs of letters and digits, with "'s" split off as its own
/// word and every number read as "0", each with a class from the rules' lexicon: people words
/// and product names are told apart, and an unknown capitalised word after the first is taken
/// for a name.
fn words(text: &str, scratch: &mut Scratch) {
    scratch.lower.clear();
    scratch.words.clear();
    let bytes = text.as_bytes();
    let char_at = |i: usize| text[i..].chars().next().unwrap_or(' ');
    let letter_at = |i: usize| text[i..].chars().next().is_some_and(char::is_alphabetic);
    let mut i = 0;
    while i < bytes.len() {
        // ASCII bytes are classified directly; only other characters are decoded.
        let first = if bytes[i].is_ascii() {
            char::from(bytes[i])
        } else {
            char_at(i)
        };
        if !first.is_alphanumeric() {
            i += first.len_utf8();
            continue;
        }
        let start = i;
        let mut end = i + first.len_utf8();
        while end < bytes.len() {
            let b = bytes[end];
            if b.is_ascii_alphanumeric() || (b == b'\'' && letter_at(end + 1)) {
                end += 1;
            } else if b.is_ascii() {
                break;
            } else {
                let c = char_at(end);
                if c.is_alphanumeric() || (c == '’' && letter_at(end + c.len_utf8())) {
                    end += c.len_utf8();
                } else {
                    break;
                }
            }
        }
        i = end;
        let raw = &text[start..end];
        let capitalised = !scratch.words.is_empty()
            && first.is_uppercase()
            && raw[first.len_utf8()..].chars().any(char::is_lowercase);
        let from = scratch.lower.len();
        if raw.bytes().all(|b| b.is_ascii_digit()) {
            scratch.lower.push('0');
        } else if raw.is_ascii() {
            scratch.lower.push_str(raw);
            scratch.lower[from..].make_ascii_lowercase();
        } else {
            for c in raw.chars() {
                match c {
                    '’' => scratch.lower.push('\''),
                    c => scratch.lower.extend(c.to_lowercase()),
                }
            }
        }
        let possessive = scratch.lower[from..].ends_with("'s") && scratch.lower.len() - from > 2;
        let to = scratch.lower.len() - if possessive { 2 } else { 0 };
        let class = match scratch.lexicon_class(from, to) {
            PLAIN if capitalised => NAME,
            u8::MAX => PLAIN,
            class => class,
        };
        scratch.words.push((from as u32, to as u32, class));
        if possessive {
            scratch
                .words
                .push((to as u32, scratch.lower.len() as u32, PLAIN));
        }
    }
}

/// Combines two hashes (a tag or a word's hash with the next word's).
#[inline]
fn mix(a: u32, b: u32) -> u32 {
    let x = (a.rotate_left(13) ^ b).wrapping_mul(0x9E37_79B1);
    x ^ (x >> 16)
}

const UNIGRAM: u32 = 0x2545_F491;
const BIGRAM: u32 = 0x6C8E_9CF5;
const CLASS_BIGRAM: u32 = 0x7FEB_352D;
const CLASS_UNIGRAM: u32 = 0x846C_A68B;
const SENTENCE_START: u32 = 0x1B87_3593;
const SENTENCE_END: u32 = 0xCC9E_2D51;

/// Features of one sentence, given to `sink` as (hash, index of the word they come from):
/// word unigrams and bigrams (also with names, people words and things replaced by their
/// class), character 3- to 5-grams of each word longer than three letters but names, and a
/// bias. Each word is hashed once; n-grams of words combine those hashes, and the character
/// n-grams starting at one letter extend one another, since the model reads every sentence.
pub(crate) fn features(text: &str, scratch: &mut Scratch, mut sink: impl FnMut(u32, u16)) {
    words(text, scratch);
    let mut padded = std::mem::take(&mut scratch.padded);
    sink(BIAS, NO_WORD);
    let gram_start = fnv_add(FNV_START, b"g");
    let (mut prev, mut prev_class) = (SENTENCE_START, SENTENCE_START);
    for (i, &(a, b, kind)) in scratch.words.iter().enumerate() {
        let w = u16::try_from(i).unwrap_or(NO_WORD);
        let bytes = &scratch.lower.as_bytes()[a as usize..b as usize];
        let word = fnv_add(FNV_START, bytes);
        let classed = kind != PLAIN;
        let class = if classed {
            fnv_add(FNV_START, CLASS_TOKENS[usize::from(kind)])
        } else {
            word
        };
        sink(mix(UNIGRAM, word), w);
        sink(mix(mix(BIGRAM, prev), word), w);
        if classed || prev_class != prev {
            sink(mix(mix(CLASS_BIGRAM, prev_class), class), w);
        }
        if classed {
            sink(mix(CLASS_UNIGRAM, class), w);
        }
        // A name's letters say nothing about blame, nor do a short word's beyond the word
        // itself; a longer word's may ("careless-ly", "over-looked").
        if bytes.len() > 3 && kind != NAME {
            padded.clear();
            padded.push(b'<');
            padded.extend_from_slice(bytes);
            padded.push(b'>');
            for start in 0..padded.len().saturating_sub(2) {
                let mut h = fnv_add(gram_start, &padded[start..start + 3]);
                sink(finish(h), w);
                for &next in padded.iter().skip(start + 3).take(2) {
                    h = fnv_add(h, &[next]);
                    sink(finish(h), w);
                }
            }
        }
        prev = word;
        prev_class = class;
    }
    sink(mix(mix(BIGRAM, prev), SENTENCE_END), NO_WORD);
    scratch.padded = padded;
}

/// The sentence without its quoted phrases ("we avoided the 'human error' label" mentions the
/// label; it does not use it). Single quotes count only when they open before a word and close
/// after one, so apostrophes stay.
pub(crate) fn unquoted(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    // Curly quotes are U+201C/U+2018 (E2 80 9C / E2 80 98): most sentences have no quote at
    // all, and most single quotes are apostrophes, so nothing is copied until a span is found.
    if memchr::memchr3(b'"', b'\'', 0xE2, bytes).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out: Option<String> = None;
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        let Some(c) = text[i..].chars().next() else {
            break;
        };
        let before = text[..i].chars().next_back();
        let close = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '‘' => Some('’'),
            '\'' if before.is_none_or(|p| !p.is_alphanumeric()) => Some('\''),
            _ => None,
        };
        if let Some(close) = close
            && let Some(end) = text[i + c.len_utf8()..].find(close)
        {
            let after = i + c.len_utf8() + end + close.len_utf8();
            // A closing single quote must not be an apostrophe inside a word.
            let next = text[after..].chars().next();
            if close != '\'' || next.is_none_or(|n| !n.is_alphanumeric()) {
                let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
                o.push_str(&text[copied..i]);
                o.push_str(" … ");
                copied = after;
                i = after;
                continue;
            }
        }
        i += c.len_utf8();
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut o) => {
            o.push_str(&text[copied..]);
            Cow::Owned(o)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_possessives_fold_numbers_and_tell_names_people_and_things_apart() {
        let mut scratch = Scratch::default();
        words("At 14:02 Priya’s push broke checkout.", &mut scratch);
        let got: Vec<(&str, u8)> = (0..scratch.words.len())
            .map(|i| (scratch.word(i), scratch.words[i].2))
            .collect();
        assert_eq!(
            got,
            [
                ("at", PLAIN),
                ("0", PLAIN),
                ("0", PLAIN),
                ("priya", NAME),
                ("'s", PLAIN),
                ("push", PLAIN),
                ("broke", PLAIN),
                ("checkout", PLAIN)
            ]
        );
        words("Then the DBA restarted Kafka.", &mut scratch);
        let classes: Vec<u8> = scratch.words.iter().map(|w| w.2).collect();
        assert_eq!(classes, [PLAIN, PLAIN, PERSON, PLAIN, THING]);
    }

    #[test]
    fn quoted_phrases_are_left_out_but_apostrophes_stay() {
        assert_eq!(
            unquoted("We avoided writing \"the engineer should have known\"."),
            "We avoided writing  … ."
        );
        assert_eq!(
            unquoted("Priya's push and the 'human error' label"),
            "Priya's push and the  …  label"
        );
        assert_eq!(unquoted("No quotes here."), "No quotes here.");
    }

    #[test]
    fn a_denied_judgement_is_noticed() {
        let mut scratch = Scratch::default();
        features(
            "This was not caused by anyone's negligence.",
            &mut scratch,
            |_, _| {},
        );
        assert!(scratch.negated_judgement());
        features(
            "Dana's negligence caused the outage.",
            &mut scratch,
            |_, _| {},
        );
        assert!(!scratch.negated_judgement());
    }
}
