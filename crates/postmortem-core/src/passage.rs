//! A passage of a section that a review comment is about, kept the way the W3C Web Annotation
//! model's `TextQuoteSelector` keeps one: the quoted words (`exact`) with a little of the text
//! just before (`prefix`) and after (`suffix`), and finding that passage again after the
//! section was rewritten.
//!
//! Quotes are matched against a section's *reading text* (what a reader sees, without Markdown
//! marks; the caller extracts it) with every run of whitespace read as one space, because a
//! browser's selection and a text box's lines break differently from the stored text.

use crate::{ValidationError, check_prose};
use serde::Serialize;
use std::ops::Range;

/// The longest quote kept, in characters: a comment is about a passage, not a section.
pub const QUOTE_MAX_CHARS: usize = 2_000;
/// How much text before and after the quote is kept to find it again, in characters.
pub const CONTEXT_CHARS: usize = 48;

/// The quoted passage and its surroundings, whitespace already collapsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassageQuote {
    exact: String,
    prefix: String,
    suffix: String,
}

/// Where a quote stands in a section's current reading text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchoring {
    /// The quoted words are there (the occurrence whose surroundings match best).
    Exact(Range<usize>),
    /// The quoted words changed, but the text that surrounded them is still there: the
    /// passage between is where the quote was.
    Moved(Range<usize>),
    /// Neither the words nor their surroundings are there any more.
    Outdated,
}

impl Anchoring {
    /// The byte range in the reading text, when the passage was found.
    pub fn range(&self) -> Option<Range<usize>> {
        match self {
            Anchoring::Exact(range) | Anchoring::Moved(range) => Some(range.clone()),
            Anchoring::Outdated => None,
        }
    }

    /// A stable word for the API: `exact`, `moved` or `outdated`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Anchoring::Exact(_) => "exact",
            Anchoring::Moved(_) => "moved",
            Anchoring::Outdated => "outdated",
        }
    }
}

/// `text` with every run of whitespace as one space, and for each byte of the result the
/// byte of `text` it came from (one more entry for the end).
fn collapse(text: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    let mut in_space = false;
    for (at, c) in text.char_indices() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
                origin.push(at);
            }
            in_space = true;
        } else {
            let start = out.len();
            out.push(c);
            origin.extend(std::iter::repeat_n(at, out.len() - start));
            in_space = false;
        }
    }
    origin.push(text.len());
    (out, origin)
}

fn collapsed(text: &str) -> String {
    collapse(text).0
}

/// The last `n` characters of `text`.
fn last_chars(text: &str, n: usize) -> &str {
    let skip = text.chars().count().saturating_sub(n);
    text.char_indices()
        .nth(skip)
        .map_or("", |(at, _)| &text[at..])
}

/// The first `n` characters of `text`.
fn first_chars(text: &str, n: usize) -> &str {
    text.char_indices()
        .nth(n)
        .map_or(text, |(at, _)| &text[..at])
}

/// How many characters two texts share at their ends (`before`) and starts (`after`).
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .count()
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
}

impl PassageQuote {
    /// Parses a quote as a person or a browser sends it: `exact` must hold words; the
    /// surroundings may be empty (a quote at the start or end of a section) and are cut to
    /// [`CONTEXT_CHARS`]. Field names in errors are `{field}.exact` and so on.
    pub fn parse(
        field: &str,
        exact: &str,
        prefix: &str,
        suffix: &str,
    ) -> Result<Self, ValidationError> {
        for (name, text) in [("exact", exact), ("prefix", prefix), ("suffix", suffix)] {
            check_prose(&format!("{field}.{name}"), text)?;
        }
        let exact_text = collapsed(exact.trim());
        if exact_text.is_empty() {
            return Err(ValidationError::new(
                format!("{field}.exact"),
                "select or type the words of the section the comment is about",
            ));
        }
        if exact_text.chars().count() > QUOTE_MAX_CHARS {
            return Err(ValidationError::new(
                format!("{field}.exact"),
                format!(
                    "quote at most {QUOTE_MAX_CHARS} characters; a comment on a longer passage can be about the whole section"
                ),
            ));
        }
        Ok(Self {
            exact: exact_text,
            prefix: last_chars(&collapsed(prefix), CONTEXT_CHARS).to_owned(),
            suffix: first_chars(&collapsed(suffix), CONTEXT_CHARS).to_owned(),
        })
    }

    /// A quote as stored, without checks, so rows written under older rules still load.
    pub fn from_stored(exact: String, prefix: String, suffix: String) -> Self {
        Self {
            exact,
            prefix,
            suffix,
        }
    }

    pub fn exact(&self) -> &str {
        &self.exact
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    pub fn suffix(&self) -> &str {
        &self.suffix
    }

    /// Finds the passage in a section's reading text: the quoted words first (among several
    /// occurrences, the one whose surroundings match the kept ones best), then the kept
    /// surroundings with whatever now stands between them, else [`Anchoring::Outdated`].
    /// Ranges are byte ranges of `text` as given.
    pub fn locate(&self, text: &str) -> Anchoring {
        let (flat, origin) = collapse(text);
        let back = |range: Range<usize>| origin[range.start]..origin[range.end];
        let prefix = self.prefix.trim();
        let suffix = self.suffix.trim();
        let best = flat
            .match_indices(self.exact.as_str())
            .map(|(at, found)| {
                let before = flat[..at].trim_end();
                let after = flat[at + found.len()..].trim_start();
                let score = common_suffix(before, prefix) + common_prefix(after, suffix);
                (score, at..at + found.len())
            })
            // The first of equally good occurrences: `max_by_key` keeps the last.
            .fold(
                None::<(usize, Range<usize>)>,
                |best, (score, range)| match best {
                    Some((kept, _)) if kept >= score => best,
                    _ => Some((score, range)),
                },
            );
        if let Some((_, range)) = best {
            return Anchoring::Exact(back(range));
        }
        // Too little context would re-anchor on any common word.
        if prefix.chars().count() < 8 || suffix.chars().count() < 8 {
            return Anchoring::Outdated;
        }
        let reach = self.exact.len() * 3 + 200;
        for (at, found) in flat.match_indices(prefix) {
            let start = at + found.len();
            let window_end = (start + reach).min(flat.len());
            let window_end = (window_end..=flat.len())
                .find(|&i| flat.is_char_boundary(i))
                .unwrap_or(flat.len());
            if let Some(offset) = flat[start..window_end].find(suffix) {
                let between = &flat[start..start + offset];
                let lead = between.len() - between.trim_start().len();
                let trimmed = between.trim();
                if trimmed.is_empty() {
                    return Anchoring::Outdated;
                }
                let from = start + lead;
                return Anchoring::Moved(back(from..from + trimmed.len()));
            }
        }
        Anchoring::Outdated
    }
}

#[cfg(test)]
mod tests {
    use super::{Anchoring, PassageQuote};

    fn quote(prefix: &str, exact: &str, suffix: &str) -> PassageQuote {
        PassageQuote::parse("quote", exact, prefix, suffix).expect("a valid quote")
    }

    #[test]
    fn a_quote_is_found_where_its_words_are() {
        let text = "Customers saw errors for 20 minutes. The cache was cold.";
        let found = quote("Customers saw ", "errors for 20 minutes", ". The cache").locate(text);
        assert_eq!(found, Anchoring::Exact(14..35));
        assert_eq!(&text[found.range().unwrap()], "errors for 20 minutes");
    }

    #[test]
    fn line_breaks_and_double_spaces_do_not_hide_a_quote() {
        let text = "Customers saw\nerrors  for 20 minutes.";
        let found = quote("", "saw errors for", "").locate(text);
        assert_eq!(&text[found.range().unwrap()], "saw\nerrors  for");
    }

    #[test]
    fn of_two_occurrences_the_one_in_its_surroundings_is_chosen() {
        let text = "The cache was cold. Later the cache was warm.";
        let found = quote("Later the ", "cache", " was warm").locate(text);
        assert_eq!(found, Anchoring::Exact(30..35));
    }

    #[test]
    fn rewritten_words_between_the_same_surroundings_are_found_by_context() {
        let before = quote(
            "The deploy started at 10:02 and ",
            "the cache was cold",
            " so requests timed out for a while.",
        );
        let text = "The deploy started at 10:02 and the cache held no entries so requests timed out for a while.";
        let found = before.locate(text);
        assert!(matches!(found, Anchoring::Moved(_)), "{found:?}");
        assert_eq!(&text[found.range().unwrap()], "the cache held no entries");
    }

    #[test]
    fn a_passage_rewritten_with_its_surroundings_is_outdated() {
        let found = quote(
            "The deploy started and ",
            "the cache was cold",
            " so it failed.",
        )
        .locate("Entirely new text about something else.");
        assert_eq!(found, Anchoring::Outdated);
    }

    #[test]
    fn a_quote_without_words_is_refused_in_words() {
        let error = PassageQuote::parse("quote", "  \n", "a", "b").unwrap_err();
        assert_eq!(error.field(), "quote.exact");
        assert!(error.rule().contains("select or type"), "{}", error.rule());
    }

    #[test]
    fn surroundings_are_cut_to_what_is_needed_to_find_the_quote_again() {
        let long = "word ".repeat(40);
        let kept = quote(&long, "x", &long);
        assert_eq!(kept.prefix().chars().count(), super::CONTEXT_CHARS);
        assert_eq!(kept.suffix().chars().count(), super::CONTEXT_CHARS);
        assert!(kept.prefix().ends_with("word "));
    }
}
