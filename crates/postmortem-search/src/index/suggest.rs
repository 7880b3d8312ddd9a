//! Suggestions while typing: a few incident titles and the words that complete the query's
//! last word, taken only from incidents the reader may see.

use super::search::{all_text, first_text};
use super::*;
use crate::results::{SuggestedIncident, SuggestedWord, Suggestions};

/// Matching incidents whose words are read for completions.
const WORDS_FROM: usize = 50;
/// Completions offered for the last word.
const MOST_WORDS: usize = 5;

impl SearchIndex {
    /// What `query` may be heading for, as `viewer` sees it: up to `limit` incidents it finds
    /// when its last word is read as a prefix (unless a space follows it), and the words of
    /// those incidents that begin with it, most widely used first, each with the query it
    /// completes. Restricted incidents count exactly as in [`search`](Self::search): they
    /// give no title and no word to someone who may not see them.
    pub fn suggest(&self, query: &str, viewer: &Viewer, limit: usize) -> Result<Suggestions> {
        let Some(typing) = Typing::of(query) else {
            return Ok(Suggestions::default());
        };
        let parsed = parse_query(&typing.search)?;
        let searcher = self.reader.searcher();
        let built = self.build_query(&searcher, &parsed, viewer)?;
        let top = TopDocs::with_limit(WORDS_FROM.max(limit).max(1));
        let hits = searcher.search(&*built.query, &top)?;
        let mut suggestions = Suggestions::default();
        let mut uses: HashMap<String, usize> = HashMap::new();
        for (_, address) in hits {
            let doc: TantivyDocument = searcher.doc(address)?;
            if suggestions.incidents.len() < limit {
                suggestions.incidents.push(SuggestedIncident {
                    incident_id: self.incident_id(&doc),
                    title: first_text(&doc, self.fields.title).to_owned(),
                });
            }
            let Some(prefix) = &typing.prefix else {
                continue;
            };
            let mut words = BTreeSet::new();
            let fields = [
                self.fields.title,
                self.fields.summary,
                self.fields.factors,
                self.fields.body,
            ];
            for text in fields.into_iter().flat_map(|field| all_text(&doc, field)) {
                for word in text.split(|c: char| !c.is_alphanumeric()) {
                    if word.chars().count() > prefix.chars().count()
                        && crate::schema::fold(word).starts_with(prefix.as_str())
                    {
                        words.insert(word.to_lowercase());
                    }
                }
            }
            for word in words {
                *uses.entry(word).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = uses.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        suggestions.words = ranked
            .into_iter()
            .take(MOST_WORDS)
            .map(|(word, _)| SuggestedWord {
                query: format!("{}{word}", typing.before),
                word,
            })
            .collect();
        Ok(suggestions)
    }
}

/// A query as it is being typed.
#[derive(Debug, PartialEq)]
struct Typing {
    /// What the search runs: the query with its last word as a prefix.
    search: String,
    /// The last word, folded as the index folds words, when it is a word being typed.
    prefix: Option<String>,
    /// The query before its last word, which a completion keeps.
    before: String,
}

impl Typing {
    fn of(query: &str) -> Option<Self> {
        if query.trim().is_empty() {
            return None;
        }
        // After the last space, whatever its width: U+00A0 and U+3000 take more than a byte.
        let last_start = query
            .char_indices()
            .rev()
            .find(|(_, c)| c.is_whitespace())
            .map_or(0, |(at, space)| at + space.len_utf8());
        let last = &query[last_start..];
        // Only a plain word is a prefix: not a filter (`service:chec`), a phrase or a prefix
        // already marked.
        let in_phrase = query.matches('"').count() % 2 == 1;
        let is_word = !in_phrase && !last.is_empty() && last.chars().all(char::is_alphanumeric);
        let folded = crate::schema::fold(last);
        if !is_word || folded.is_empty() {
            return Some(Typing {
                search: query.to_owned(),
                prefix: None,
                before: query.to_owned(),
            });
        }
        Some(Typing {
            search: format!("{query}*"),
            prefix: Some(folded),
            before: query[..last_start].to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Typing;

    #[test]
    fn the_last_word_is_a_prefix_unless_it_is_a_filter_or_a_space_follows_it() {
        let typing = Typing::of("payments Certif").unwrap();
        assert_eq!(typing.search, "payments Certif*");
        assert_eq!(typing.prefix.as_deref(), Some("certif"));
        assert_eq!(typing.before, "payments ");
        let done = Typing::of("payments certificate ").unwrap();
        assert_eq!(
            (done.search.as_str(), done.prefix),
            ("payments certificate ", None)
        );
        assert_eq!(Typing::of("service:chec").unwrap().prefix, None);
        assert_eq!(Typing::of("\"connection po").unwrap().prefix, None);
        assert!(Typing::of("   ").is_none());
    }

    #[test]
    fn a_word_after_a_wide_space_is_the_prefix() {
        for space in ['\u{a0}', '\u{3000}', '\u{2003}'] {
            let typing = Typing::of(&format!("payments{space}certif")).unwrap();
            assert_eq!(typing.prefix.as_deref(), Some("certif"));
            assert_eq!(typing.before, format!("payments{space}"));
        }
    }

    proptest::proptest! {
        #[test]
        fn any_typed_text_is_read_without_a_panic(query in "\\PC{0,40}") {
            if let Some(typing) = Typing::of(&query) {
                proptest::prop_assert!(query.starts_with(&typing.before));
            }
        }
    }
}
