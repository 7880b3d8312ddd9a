//! Tokenizer: splits one sentence of prose into word and punctuation tokens with byte offsets,
//! and looks every word up in the lexicon once so that rule matching compares integers.

use crate::rules::Lexicon;

/// Placeholder the Markdown layer puts where inline code or an autolink stood: it reads as one
/// opaque, non-person noun.
pub(crate) const CODE_PLACEHOLDER: char = '\u{FFFC}';

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Punct,
    /// Inline code, a URL or an autolink: never a person, never a pattern word.
    Code,
}

/// Shape bits, computed from the original (not lower-cased) text.
pub(crate) const CAP: u8 = 1;
pub(crate) const ALL_CAPS: u8 = 2;
pub(crate) const INITIAL: u8 = 4;

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    /// Byte offsets into the sentence text.
    pub start: u32,
    pub end: u32,
    pub kind: Kind,
    /// Lexicon id of the lower-cased word (0: not in the lexicon).
    pub id: u32,
    /// Word classes (lexicon classes plus shape-derived built-ins, plus per-sentence person bits).
    pub classes: u128,
    pub shape: u8,
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Characters that may join two word characters into one token ("on-call", "14:02", "1.2.3",
/// "didn't", "copy/paste").
fn is_joiner(c: char) -> bool {
    matches!(c, '-' | '.' | '/' | ':' | '\'' | '’' | '@' | '+' | '&')
}

#[inline]
fn char_at(text: &str, i: usize) -> char {
    text[i..].chars().next().unwrap_or(' ')
}

/// ASCII word bytes (letters, digits and `_`), with what they tell about the word's shape.
const LOWER: u8 = 1;
const UPPER: u8 = 2;
const OTHER: u8 = 4;
/// Not a byte class: the word has a non-ASCII character (or a curly apostrophe).
const NON_ASCII: u8 = 8;
/// Not a byte class: the word has an apostrophe inside ("Dana's", "didn't").
const APOSTROPHE: u8 = 16;
const BYTE_FLAGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 128 {
        let c = i as u8;
        t[i] = if c.is_ascii_lowercase() {
            LOWER
        } else if c.is_ascii_uppercase() {
            UPPER
        } else if c.is_ascii_digit() || c == b'_' {
            OTHER
        } else {
            0
        };
        i += 1;
    }
    t
};

/// Is the character at byte `i` a word character? ASCII is decided from the byte alone.
#[inline(always)]
fn word_char_at(text: &str, i: usize) -> Option<usize> {
    let c = *text.as_bytes().get(i)?;
    if c < 0x80 {
        return (BYTE_FLAGS[usize::from(c)] != 0).then_some(1);
    }
    let ch = char_at(text, i);
    (is_word_char(ch) && ch != CODE_PLACEHOLDER).then(|| ch.len_utf8())
}

/// Tokenizes `text` into `out` (cleared first).
pub(crate) fn tokenize(text: &str, lexicon: &Lexicon, out: &mut Vec<Token>) {
    out.clear();
    let bytes = text.as_bytes();
    let n = bytes.len();
    let mut lower = String::new();
    let mut i = 0;
    while i < n {
        let c = bytes[i];
        if c < 0x80 {
            if c.is_ascii_whitespace() {
                i += 1;
                continue;
            }
            if !(c.is_ascii_alphanumeric() || c == b'_') {
                let (id, classes) = lexicon.lookup_in(text, i, i + 1);
                push(out, i, i + 1, Kind::Punct, id, classes, 0);
                i += 1;
                continue;
            }
        } else {
            let ch = char_at(text, i);
            let len = ch.len_utf8();
            if ch.is_whitespace() {
                i += len;
                continue;
            }
            if ch == CODE_PLACEHOLDER {
                push(out, i, i + len, Kind::Code, 0, 0, 0);
                i += len;
                continue;
            }
            if !is_word_char(ch) {
                let (id, classes) = lexicon.lookup(&text[i..i + len]);
                push(out, i, i + len, Kind::Punct, id, classes, 0);
                i += len;
                continue;
            }
        }
        // A word: word characters, joined by single joiners between word characters.
        let start = i;
        let mut end = i;
        let mut flags = 0u8;
        loop {
            // Tight loop over ASCII word bytes; other characters take the general path.
            while end < n && BYTE_FLAGS[usize::from(bytes[end])] != 0 {
                flags |= BYTE_FLAGS[usize::from(bytes[end])];
                end += 1;
            }
            while let Some(len) = word_char_at(text, end) {
                flags |= NON_ASCII;
                end += len;
                while end < n && BYTE_FLAGS[usize::from(bytes[end])] != 0 {
                    flags |= BYTE_FLAGS[usize::from(bytes[end])];
                    end += 1;
                }
            }
            let prev_digit = end > start && bytes[end - 1].is_ascii_digit();
            if end >= n {
                break;
            }
            let jb = bytes[end];
            if jb < 0x80 && !matches!(jb, b'-' | b'.' | b'/' | b':' | b'\'' | b'@' | b'+' | b'&') {
                break;
            }
            let j = if jb < 0x80 {
                char::from(jb)
            } else {
                char_at(text, end)
            };
            if !is_joiner(j) {
                break;
            }
            if j == '\'' || j == '’' {
                flags |= APOSTROPHE;
            }
            let after = end + j.len_utf8();
            if !j.is_ascii() {
                flags |= NON_ASCII;
            }
            // A colon only joins digits (14:02), so "Cause: DBA" stays two tokens.
            let joins = word_char_at(text, after).is_some()
                && (j != ':' || (prev_digit && bytes[after].is_ascii_digit()));
            if !joins {
                break;
            }
            end = after;
        }
        // "://" after a word starts a URL: swallow it up to the next whitespace.
        if bytes[end..].starts_with(b"://") {
            let mut url_end = text[end..].find(char::is_whitespace).map_or(n, |j| end + j);
            while url_end > end
                && matches!(bytes[url_end - 1], b'.' | b',' | b')' | b';' | b'!' | b'?')
            {
                url_end -= 1;
            }
            push(out, start, url_end, Kind::Code, 0, 0, 0);
            i = url_end;
            continue;
        }
        let word = &text[start..end];
        // Split a possessive "'s" off so that patterns can say `<person's>`.
        let poss = if flags & APOSTROPHE != 0 {
            possessive_split(word)
        } else {
            0
        };
        let base_end = end - poss;
        push_word(out, text, start, base_end, flags, lexicon, &mut lower);
        if poss > 0 {
            let (id, classes) = lexicon.lookup("'s");
            push(out, base_end, end, Kind::Word, id, classes, 0);
        }
        i = end;
    }
    if let Some(first) = out.iter_mut().find(|t| t.kind != Kind::Punct) {
        first.shape |= INITIAL;
    }
}

/// Length in bytes of a trailing possessive `'s` / `’s`, or 0.
fn possessive_split(word: &str) -> usize {
    for suffix in ["'s", "’s", "'S", "’S"] {
        if word.len() > suffix.len() && word.ends_with(suffix) {
            return suffix.len();
        }
    }
    0
}

fn push(
    out: &mut Vec<Token>,
    start: usize,
    end: usize,
    kind: Kind,
    id: u32,
    classes: u128,
    shape: u8,
) {
    out.push(Token {
        start: start as u32,
        end: end as u32,
        kind,
        id,
        classes,
        shape,
    });
}

#[allow(clippy::too_many_arguments)]
fn push_word(
    out: &mut Vec<Token>,
    text: &str,
    start: usize,
    end: usize,
    flags: u8,
    lexicon: &Lexicon,
    lower: &mut String,
) {
    if flags & (UPPER | NON_ASCII) == 0 {
        // The common case: a lower-case ASCII word, looked up in place.
        let (id, classes) = lexicon.lookup_in(text, start, end);
        push(out, start, end, Kind::Word, id, classes, 0);
        return;
    }
    let word = &text[start..end];
    let bytes = word.as_bytes();
    if flags & NON_ASCII == 0 {
        // Fast path: shape and lower-casing from the bytes, no allocation.
        let (mut upper, mut lowers) = (0usize, 0usize);
        for &b in bytes {
            upper += usize::from(b.is_ascii_uppercase());
            lowers += usize::from(b.is_ascii_lowercase());
        }
        let letters = upper + lowers;
        let mut shape = 0;
        if bytes[0].is_ascii_uppercase() {
            if upper == letters && upper >= 2 {
                shape |= ALL_CAPS;
            } else if upper < letters {
                shape |= CAP;
            }
        }
        let (id, classes) = if upper == 0 {
            lexicon.lookup_in(text, start, end)
        } else if bytes.len() <= 32 {
            let mut buf = [0u8; 32];
            buf[..bytes.len()].copy_from_slice(bytes);
            buf[..bytes.len()].make_ascii_lowercase();
            match std::str::from_utf8(&buf[..bytes.len()]) {
                Ok(w) => lexicon.lookup_word(w),
                Err(_) => (0, 0),
            }
        } else {
            (0, 0)
        };
        push(out, start, end, Kind::Word, id, classes, shape);
        return;
    }
    let mut shape = 0;
    let mut chars = word.chars();
    if let Some(first) = chars.next()
        && first.is_uppercase()
    {
        let mut upper = 1;
        let mut lowers = 0;
        for c in chars {
            if c.is_uppercase() {
                upper += 1;
            } else if c.is_lowercase() {
                lowers += 1;
            }
        }
        if lowers == 0 && upper >= 2 {
            shape |= ALL_CAPS;
        } else if lowers > 0 {
            shape |= CAP;
        }
    }
    lower.clear();
    for c in word.chars() {
        if c == '’' {
            lower.push('\'');
        } else {
            lower.extend(c.to_lowercase());
        }
    }
    let (id, classes) = lexicon.lookup_word(lower);
    push(out, start, end, Kind::Word, id, classes, shape);
}
