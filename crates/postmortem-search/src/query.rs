//! The search syntax: words, `"phrases"`, `prefix*`, and `field:value` filters, parsed by
//! hand so that no user text ever reaches tantivy's own query parser.
//!
//! Every string is accepted or refused with a message a person can act on; nothing panics.
//! Text that looks like syntax but is not (an unknown `field:`, an unbalanced quote, a stray
//! `*`) is read as plain words, because people paste error messages into search boxes.

use postmortem_core::{FactorCategory, IncidentKind, PostmortemStatus, Severity};
use time::Date;

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1_000;
/// Most words, phrases and filters in one query.
pub const MAX_QUERY_TERMS: usize = 64;
/// Shortest prefix before a `*`: shorter ones match most of the dictionary.
pub const MIN_PREFIX_CHARS: usize = 3;

/// A query the search syntax could not take, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("the query is too long ({chars} characters); shorten it to at most {max}")]
    TooLong { chars: usize, max: usize },
    #[error("the query has too many terms ({terms}); use at most {max} words, phrases and filters")]
    TooManyTerms { terms: usize, max: usize },
    #[error("`{field}:` needs a value, for example `{field}:{example}`")]
    MissingValue {
        field: &'static str,
        example: &'static str,
    },
    #[error("`{field}:{value}` is not a valid filter: {reason}")]
    InvalidValue {
        field: &'static str,
        value: String,
        reason: String,
    },
}

/// One free-text part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextPart {
    /// A word as typed; analysis may split it (`payments-api`) or drop it (`the`).
    Word(String),
    /// Words that must appear together in this order.
    Phrase(String),
    /// The start of a word, folded to lowercase, at least [`MIN_PREFIX_CHARS`] long.
    Prefix(String),
}

/// The filters of a query. Several values of one filter mean any of them; different
/// filters must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    pub services: Vec<String>,
    pub teams: Vec<String>,
    pub severities: Vec<Severity>,
    pub kinds: Vec<IncidentKind>,
    pub statuses: Vec<PostmortemStatus>,
    pub factors: Vec<FactorCategory>,
    /// Handles of action item owners, lowercase, without a leading `@`.
    pub owners: Vec<String>,
    /// Incidents that started on or after this day (UTC).
    pub after: Option<Date>,
    /// Incidents that started before this day (UTC).
    pub before: Option<Date>,
}

impl Filters {
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }
}

/// A parsed query: what to look for and where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    pub text: Vec<TextPart>,
    pub filters: Filters,
}

/// The filters the syntax knows, with an example value for error messages.
const FILTERS: [(&str, &str); 9] = [
    ("service", "checkout"),
    ("team", "payments"),
    ("severity", "SEV1"),
    ("kind", "outage"),
    ("status", "published"),
    ("factor", "capacity"),
    ("owner", "dana"),
    ("after", "2025-01-01"),
    ("before", "2025-07-01"),
];

/// Parses the search syntax.
pub fn parse_query(input: &str) -> Result<ParsedQuery, QueryError> {
    let chars = input.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            chars,
            max: MAX_QUERY_CHARS,
        });
    }
    let mut query = ParsedQuery::default();
    let mut terms = 0;
    let mut rest = input;
    while let Some((token, after)) = next_token(rest) {
        rest = after;
        terms += 1;
        if terms > MAX_QUERY_TERMS {
            return Err(QueryError::TooManyTerms {
                terms: count_terms(input),
                max: MAX_QUERY_TERMS,
            });
        }
        match token {
            Token::Phrase(phrase) => query.text.push(TextPart::Phrase(phrase.to_owned())),
            Token::Filter(field, value) => apply_filter(&mut query.filters, field, value)?,
            Token::Word(word) => query.text.push(word_part(word)),
        }
    }
    Ok(query)
}

/// How many tokens a query has, for the error message only.
fn count_terms(input: &str) -> usize {
    let mut rest = input;
    let mut n = 0;
    while let Some((_, after)) = next_token(rest) {
        rest = after;
        n += 1;
    }
    n
}

#[derive(Debug)]
enum Token<'a> {
    Word(&'a str),
    Phrase(&'a str),
    Filter(&'static str, &'a str),
}

/// The next token of `input` and what follows it.
fn next_token(input: &str) -> Option<(Token<'_>, &str)> {
    let input = input.trim_start();
    if input.is_empty() {
        return None;
    }
    if let Some(quoted) = input.strip_prefix('"') {
        // An unbalanced quote is read as plain words: the quote itself is punctuation.
        return Some(match quoted.split_once('"') {
            Some((phrase, after)) => (Token::Phrase(phrase), after),
            None => {
                let (word, after) = split_word(quoted);
                (Token::Word(word), after)
            }
        });
    }
    let (word, after) = split_word(input);
    if let Some((name, value)) = word.split_once(':')
        && let Some(field) = known_filter(name)
    {
        // A quoted value may hold spaces: `service:"checkout api"`.
        let whole_value = &input[name.len() + 1..];
        if let Some(quoted) = whole_value.strip_prefix('"')
            && let Some((value, after)) = quoted.split_once('"')
        {
            return Some((Token::Filter(field, value), after));
        }
        return Some((Token::Filter(field, value), after));
    }
    if let Some((name, _)) = word.split_once(':')
        && !name.is_empty()
    {
        // `error:timeout` with an unknown field is two words, not a phrase.
        return Some((Token::Word(name), &input[name.len() + 1..]));
    }
    Some((Token::Word(word), after))
}

fn split_word(input: &str) -> (&str, &str) {
    match input.find(char::is_whitespace) {
        Some(end) => (&input[..end], &input[end..]),
        None => (input, ""),
    }
}

fn known_filter(name: &str) -> Option<&'static str> {
    FILTERS
        .iter()
        .find(|(field, _)| field.eq_ignore_ascii_case(name))
        .map(|(field, _)| *field)
}

fn word_part(word: &str) -> TextPart {
    if let Some(stem) = word.strip_suffix('*') {
        let prefix = crate::schema::fold(stem.trim_end_matches('*'));
        // A prefix is only a prefix if it is one word long enough to narrow anything down.
        if prefix.chars().count() >= MIN_PREFIX_CHARS
            && !stem.contains(|c: char| !c.is_alphanumeric() && c != '*')
        {
            return TextPart::Prefix(prefix);
        }
    }
    TextPart::Word(word.to_owned())
}

fn apply_filter(filters: &mut Filters, field: &'static str, raw: &str) -> Result<(), QueryError> {
    let value = raw.trim();
    if value.is_empty() {
        let example = FILTERS
            .iter()
            .find(|(name, _)| *name == field)
            .map_or("", |(_, example)| *example);
        return Err(QueryError::MissingValue { field, example });
    }
    let invalid = |reason: String| QueryError::InvalidValue {
        field,
        value: value.to_owned(),
        reason,
    };
    let rule = |error: postmortem_core::ValidationError| error.rule().to_owned();
    match field {
        "service" => filters.services.push(value.to_lowercase()),
        "team" => filters.teams.push(value.to_lowercase()),
        "owner" => filters
            .owners
            .push(value.trim_start_matches('@').to_lowercase()),
        "severity" => filters.severities.push(
            Severity::parse_in_scale(value, Severity::MAX_LEVELS).map_err(|e| invalid(rule(e)))?,
        ),
        "kind" => filters
            .kinds
            .push(IncidentKind::parse(&value.to_lowercase()).map_err(|e| invalid(rule(e)))?),
        "status" => filters
            .statuses
            .push(PostmortemStatus::parse(&value.to_lowercase()).map_err(|e| invalid(rule(e)))?),
        "factor" => filters
            .factors
            .push(FactorCategory::parse(&value.to_lowercase()).map_err(|e| invalid(rule(e)))?),
        "after" => filters.after = Some(parse_day(value).map_err(invalid)?),
        "before" => filters.before = Some(parse_day(value).map_err(invalid)?),
        _ => unreachable!("every known filter is handled above"),
    }
    Ok(())
}

/// Reads `YYYY-MM-DD`, `YYYY-MM` or `YYYY`, meaning the first day of the period: so
/// `after:2025` starts on New Year's Day and `before:2025` ends before it, as people read them.
fn parse_day(value: &str) -> Result<Date, String> {
    let reason = || "use a date such as 2025-01-31, 2025-01 or 2025".to_owned();
    let mut parts = value.splitn(3, '-');
    let year: i32 = parts
        .next()
        .filter(|y| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()))
        .and_then(|y| y.parse().ok())
        .ok_or_else(reason)?;
    let month: u8 = match parts.next() {
        Some(m) => m.parse().map_err(|_| reason())?,
        None => 1,
    };
    let day: u8 = match parts.next() {
        Some(d) => d.parse().map_err(|_| reason())?,
        None => 1,
    };
    let month = time::Month::try_from(month).map_err(|_| reason())?;
    Date::from_calendar_date(year, month, day).map_err(|_| reason())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_phrases_and_prefixes_are_told_apart() {
        let query = parse_query(r#"timeout "connection pool" migrat*"#).unwrap();
        assert_eq!(
            query.text,
            [
                TextPart::Word("timeout".into()),
                TextPart::Phrase("connection pool".into()),
                TextPart::Prefix("migrat".into()),
            ]
        );
        assert!(query.filters.is_empty());
    }

    #[test]
    fn filters_are_case_insensitive_and_may_repeat() {
        let query =
            parse_query("Service:Checkout service:search severity:sev1 kind:outage status:published factor:capacity owner:@Dana after:2025-01 before:2025-07-01")
                .unwrap();
        let filters = query.filters;
        assert_eq!(filters.services, ["checkout", "search"]);
        assert_eq!(filters.severities, [Severity::parse("SEV1").unwrap()]);
        assert_eq!(filters.kinds, [IncidentKind::Outage]);
        assert_eq!(filters.statuses, [PostmortemStatus::Published]);
        assert_eq!(filters.factors, [FactorCategory::Capacity]);
        assert_eq!(filters.owners, ["dana"]);
        assert_eq!(filters.after, Some(time::macros::date!(2025 - 01 - 01)));
        assert_eq!(filters.before, Some(time::macros::date!(2025 - 07 - 01)));
        assert!(query.text.is_empty());
    }

    #[test]
    fn a_quoted_filter_value_may_hold_spaces() {
        let query = parse_query(r#"team:"Site Reliability" pool"#).unwrap();
        assert_eq!(query.filters.teams, ["site reliability"]);
        assert_eq!(query.text, [TextPart::Word("pool".into())]);
    }

    #[test]
    fn unknown_fields_unbalanced_quotes_and_stray_stars_are_plain_text() {
        let query = parse_query(r#"error: "connection refused * ab* foo:bar"#).unwrap();
        assert_eq!(
            query.text,
            [
                TextPart::Word("error".into()),
                TextPart::Word("connection".into()),
                TextPart::Word("refused".into()),
                TextPart::Word("*".into()),
                TextPart::Word("ab*".into()),
                TextPart::Word("foo".into()),
                TextPart::Word("bar".into()),
            ]
        );
    }

    #[test]
    fn a_filter_without_a_value_is_refused_with_an_example() {
        let error = parse_query("pool service:").unwrap_err();
        assert_eq!(
            error.to_string(),
            "`service:` needs a value, for example `service:checkout`"
        );
    }

    #[test]
    fn invalid_filter_values_say_what_is_accepted() {
        let error = parse_query("severity:critical").unwrap_err().to_string();
        assert!(error.contains("SEV1 (worst)"), "{error}");
        let error = parse_query("factor:human_error").unwrap_err().to_string();
        assert!(error.contains("outdated_docs"), "{error}");
        let error = parse_query("after:yesterday").unwrap_err().to_string();
        assert!(error.contains("2025-01-31"), "{error}");
        assert!(parse_query("before:2025-02-30").is_err());
    }

    #[test]
    fn very_long_queries_are_refused_with_the_limit() {
        let long = "pool ".repeat(300);
        assert_eq!(
            parse_query(&long).unwrap_err(),
            QueryError::TooLong {
                chars: 1500,
                max: MAX_QUERY_CHARS
            }
        );
        let many = "a ".repeat(65);
        assert_eq!(
            parse_query(&many).unwrap_err(),
            QueryError::TooManyTerms {
                terms: 65,
                max: MAX_QUERY_TERMS
            }
        );
    }
}
