//! Sentence segmentation for one block of prose: splits at sentence-final punctuation
//! followed by a new sentence, but not inside abbreviations ("e.g.", "U.S."), times (14:02),
//! version numbers (1.2.3) or decimals (0.5), and splits at line breaks that start a new
//! timeline entry.

use std::ops::Range;

/// Abbreviations whose final period does not end a sentence.
const ABBREVIATIONS: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "approx", "no", "nos", "fig", "cf", "inc", "ltd",
    "jr", "sr", "dept", "est", "al", "ca", "resp", "incl", "min", "max", "avg", "sec", "hr", "hrs",
    "mins", "e.g", "i.e", "a.m", "p.m",
];

fn is_abbreviation(text: &str, dot: usize) -> bool {
    let before = &text[..dot];
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '.')
        .last()
        .map_or(dot, |(i, _)| i);
    let word = &before[start..];
    if word.is_empty() {
        return false;
    }
    // "U.S", "e.g": internal periods; "J": an initial.
    if word.contains('.') || (word.chars().count() == 1 && word.chars().all(char::is_uppercase)) {
        return true;
    }
    ABBREVIATIONS.iter().any(|a| a.eq_ignore_ascii_case(word))
}

fn trimmed(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    if r.start >= r.end {
        return None;
    }
    let s = &text[r.clone()];
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    (lead + trail < s.len()).then(|| r.start + lead..r.end - trail)
}

/// Calls `f` with the byte range of every sentence of `text`, in order.
pub(crate) fn split(text: &str, mut f: impl FnMut(Range<usize>)) {
    let b = text.as_bytes();
    let n = b.len();
    let mut start = 0;
    let mut i = 0;
    let next_non_space = |mut k: usize| {
        while k < n && matches!(b[k], b' ' | b'\t' | b'\n' | b'\r') {
            k += 1;
        }
        k
    };
    // Next sentence-final punctuation and next line break at or after `i` (found with memchr,
    // each searched again only once passed, so the scan stays linear).
    let find_term =
        |from: usize| memchr::memchr3(b'.', b'!', b'?', &b[from..]).map_or(n, |j| from + j);
    let find_nl = |from: usize| memchr::memchr(b'\n', &b[from..]).map_or(n, |j| from + j);
    let (mut next_term, mut next_nl) = (find_term(0), find_nl(0));
    while i < n {
        if next_term < i {
            next_term = find_term(i);
        }
        if next_nl < i {
            next_nl = find_nl(i);
        }
        i = next_term.min(next_nl);
        if i >= n {
            break;
        }
        match b[i] {
            b'.' | b'!' | b'?' => {
                let mut j = i + 1;
                while j < n && matches!(b[j], b'.' | b'!' | b'?') {
                    j += 1;
                }
                // Closing quotes and brackets stay with the sentence they end.
                let mut k = j;
                loop {
                    if k < n && matches!(b[k], b'"' | b'\'' | b')' | b']' | b'*' | b'_') {
                        k += 1;
                    } else if text[k..].starts_with('”') || text[k..].starts_with('’') {
                        k += '”'.len_utf8();
                    } else {
                        break;
                    }
                }
                if k >= n {
                    break;
                }
                if matches!(b[k], b' ' | b'\t' | b'\n' | b'\r') {
                    let m = next_non_space(k);
                    let single_dot = b[i] == b'.' && j == i + 1;
                    let next_lower = text[m..].chars().next().is_some_and(char::is_lowercase);
                    if m < n && !next_lower && !(single_dot && is_abbreviation(text, i)) {
                        if let Some(r) = trimmed(text, start..k) {
                            f(r);
                        }
                        start = m;
                    }
                }
                i = k.max(i + 1);
            }
            b'\n' => {
                // A soft line break followed by a time stamp or list marker starts a new entry.
                let m = next_non_space(i + 1);
                if i > start
                    && m < n
                    && (b[m].is_ascii_digit() || matches!(b[m], b'-' | b'*' | b'+'))
                {
                    if let Some(r) = trimmed(text, start..i) {
                        f(r);
                    }
                    start = m;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if start < n
        && let Some(r) = trimmed(text, start..n)
    {
        f(r);
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    fn sentences(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        split(text, |r| out.push(&text[r]));
        out
    }

    #[test]
    fn splits_at_sentence_ends() {
        assert_eq!(
            sentences("The page fired. Dana acked it! Why? Nobody knew."),
            ["The page fired.", "Dana acked it!", "Why?", "Nobody knew."]
        );
    }

    #[test]
    fn keeps_abbreviations_times_versions_and_decimals_inside_a_sentence() {
        assert_eq!(
            sentences(
                "At 14:02 the U.S. region, e.g. us-east-1, ran v1.2.3 with 0.5 s timeouts. Then it recovered."
            ),
            [
                "At 14:02 the U.S. region, e.g. us-east-1, ran v1.2.3 with 0.5 s timeouts.",
                "Then it recovered."
            ]
        );
        assert_eq!(
            sentences("Dr. Smith approved it."),
            ["Dr. Smith approved it."]
        );
    }

    #[test]
    fn splits_timeline_lines_joined_by_soft_breaks() {
        assert_eq!(
            sentences("14:02 Alex paged the DBA\n14:05 Dana joined"),
            ["14:02 Alex paged the DBA", "14:05 Dana joined"]
        );
    }

    #[test]
    fn lowercase_after_a_period_continues_the_sentence() {
        assert_eq!(
            sentences("It took approx. five minutes."),
            ["It took approx. five minutes."]
        );
    }
}
