//! Querying the index: searches with facets and snippets, and "similar incidents".

use super::*;

impl SearchIndex {
    /// Searches for `query` as `viewer` sees the incidents: a page of `limit` hits (at most
    /// [`MAX_LIMIT`]) after `offset`, the total and the facet counts over all matches.
    /// Restricted incidents the viewer may not see are filtered inside the search, so they
    /// count nowhere. CPU-bound and quick; call it from a blocking thread if in doubt.
    pub fn search(
        &self,
        query: &str,
        viewer: &Viewer,
        limit: usize,
        offset: usize,
    ) -> Result<SearchResults> {
        let parsed = parse_query(query)?;
        let searcher = self.reader.searcher();
        let built = self.build_query(&searcher, &parsed, viewer)?;
        let limit = limit.min(MAX_LIMIT);
        let offset = offset.min(MAX_OFFSET);
        let mut facet_collector = FacetCollector::for_field("facets");
        for root in FACET_ROOTS {
            facet_collector.add_facet(Facet::from_path([root]));
        }
        // TopDocs refuses a limit of 0; ask for one and drop it, keeping total and facets.
        let top = TopDocs::with_limit(limit.max(1)).and_offset(offset);
        let (mut hits, total, facet_counts) = if built.has_text {
            searcher.search(&*built.query, &(top, Count, facet_collector))?
        } else {
            // Without words there is no relevance: show the newest first.
            let newest = top.order_by_fast_field::<i64>("started", Order::Desc);
            let (hits, total, facets) =
                searcher.search(&*built.query, &(newest, Count, facet_collector))?;
            let hits = hits
                .into_iter()
                .map(|(_, address)| (0.0, address))
                .collect();
            (hits, total, facets)
        };
        hits.truncate(limit);

        let mut items = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let doc: TantivyDocument = searcher.doc(address)?;
            items.push(SearchHit {
                incident_id: self.incident_id(&doc),
                title: first_text(&doc, self.fields.title).to_owned(),
                snippet: self.snippet(&doc, &built.highlight),
                score,
            });
        }
        let mut facets = Facets::default();
        for root in FACET_ROOTS {
            let mut counts: Vec<FacetCount> = facet_counts
                .get(Facet::from_path([root]))
                .filter_map(|(facet, count)| {
                    let value = facet.to_path().last()?.to_string();
                    Some(FacetCount { value, count })
                })
                .collect();
            counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
            if let Some(slot) = facets.get_mut(root) {
                *slot = counts;
            }
        }
        Ok(SearchResults {
            total: total as u64,
            items,
            facets,
        })
    }

    /// The earlier incidents most like `incident`, as `viewer` sees them: by distinctive
    /// words of its title, summary and contributing factors, shared services and shared
    /// factor categories, each with the reason in words. An incident the viewer may not see
    /// is answered exactly like one that does not exist.
    pub fn similar(
        &self,
        incident: IncidentId,
        viewer: &Viewer,
        limit: usize,
    ) -> Result<Vec<SimilarIncident>> {
        let searcher = self.reader.searcher();
        let fields = &self.fields;
        let mut own: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            Box::new(TermQuery::new(
                id_term(fields, incident),
                IndexRecordOption::Basic,
            )),
        )];
        if let Some(visible) = self.visibility_filter(viewer) {
            own.push((Occur::Must, visible));
        }
        let found = searcher.search(&BooleanQuery::new(own), &TopDocs::with_limit(1))?;
        let Some((_, address)) = found.first() else {
            return Err(SearchError::UnknownIncident(incident));
        };
        let source: TantivyDocument = searcher.doc(*address)?;
        let started = source
            .get_first(fields.started)
            .and_then(|v| v.as_i64())
            .unwrap_or(i64::MAX);
        let services = all_text(&source, fields.service);
        let categories = all_text(&source, fields.factor);
        let top_terms = self.distinctive_terms(&searcher, &source)?;

        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let best = top_terms.first().map_or(1.0, |(_, weight)| *weight);
        for (term, weight) in &top_terms {
            for (field, boost) in [
                (fields.title, 2.0),
                (fields.summary, 1.0),
                (fields.factors, 1.0),
            ] {
                let query = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                should.push((Occur::Should, boosted(query, boost * weight / best)));
            }
        }
        for service in &services {
            should.push((
                Occur::Should,
                constant(term_query(fields.service, service), 3.0),
            ));
        }
        for category in &categories {
            should.push((
                Occur::Should,
                constant(term_query(fields.factor, category), 1.5),
            ));
        }
        if should.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, Box::new(BooleanQuery::new(should))),
            (
                Occur::Must,
                constant(
                    Box::new(RangeQuery::new(
                        Bound::Unbounded,
                        Bound::Excluded(Term::from_field_i64(fields.started, started)),
                    )),
                    0.0,
                ),
            ),
            (
                Occur::MustNot,
                Box::new(TermQuery::new(
                    id_term(fields, incident),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        if let Some(visible) = self.visibility_filter(viewer) {
            must.push((Occur::Must, visible));
        }
        let hits = searcher.search(
            &BooleanQuery::new(must),
            &TopDocs::with_limit(limit.min(MAX_LIMIT)),
        )?;
        let mut similar = Vec::with_capacity(hits.len());
        for (score, address) in hits {
            let doc: TantivyDocument = searcher.doc(address)?;
            let their_services = all_text(&doc, fields.service);
            let their_categories = all_text(&doc, fields.factor);
            let their_terms: HashSet<String> = analyse(&about_text(&doc, fields))
                .into_iter()
                .map(|(_, token)| token)
                .collect();
            let shared_services: Vec<String> = services
                .iter()
                .filter(|s| their_services.contains(s))
                .cloned()
                .collect();
            let shared_factors: Vec<String> = categories
                .iter()
                .filter(|c| their_categories.contains(c))
                .cloned()
                .collect();
            let shared_terms: Vec<String> = top_terms
                .iter()
                .filter(|(term, _)| their_terms.contains(term))
                .map(|(term, _)| term.clone())
                .take(5)
                .collect();
            similar.push(SimilarIncident {
                incident_id: self.incident_id(&doc),
                title: first_text(&doc, fields.title).to_owned(),
                score,
                reason: reason(&shared_services, &shared_factors, &shared_terms),
                shared_services,
                shared_factors,
                shared_terms,
            });
        }
        Ok(similar)
    }

    /// The dozen words that best tell this incident apart and can still match others:
    /// frequent in it, rare elsewhere, and found in at least one other incident.
    pub(super) fn distinctive_terms(
        &self,
        searcher: &Searcher,
        doc: &TantivyDocument,
    ) -> Result<Vec<(String, f32)>> {
        let fields = [self.fields.title, self.fields.summary, self.fields.factors];
        let mut frequency: BTreeMap<String, u32> = BTreeMap::new();
        let mut own: Vec<HashSet<String>> = Vec::with_capacity(fields.len());
        for field in fields {
            let mut in_field = HashSet::new();
            for (_, token) in analyse(&all_text(doc, field).join("\n")) {
                if token.chars().count() >= 3 && !token.chars().all(|c| c.is_ascii_digit()) {
                    *frequency.entry(token.clone()).or_default() += 1;
                    in_field.insert(token);
                }
            }
            own.push(in_field);
        }
        let n_docs = searcher.num_docs().max(1) as f32;
        let mut weighted = Vec::with_capacity(frequency.len());
        for (token, tf) in frequency {
            // Documents with the word besides this one, approximated by the field where it
            // is most common: summing fields would count an incident twice.
            let mut others = 0;
            for (field, own) in fields.iter().zip(&own) {
                let df = searcher.doc_freq(&Term::from_field_text(*field, &token))?;
                others = others.max(df.saturating_sub(u64::from(own.contains(&token))));
            }
            if others == 0 {
                continue;
            }
            let df = (others as f32).min(n_docs);
            let idf = (1.0 + (n_docs - df + 0.5) / (df + 0.5)).ln();
            weighted.push((token, (tf as f32).sqrt() * idf));
        }
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        weighted.truncate(12);
        Ok(weighted)
    }

    pub(super) fn incident_id(&self, doc: &TantivyDocument) -> IncidentId {
        let raw = doc
            .get_first(self.fields.id)
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        IncidentId::new(raw as i64)
    }

    /// Turns a parsed query into a tantivy query, built clause by clause: text parts must all
    /// match (each in any text field), filters must all hold, and the viewer's visibility is
    /// one more required clause, so hidden incidents are never scored, counted or faceted.
    pub(super) fn build_query(
        &self,
        searcher: &Searcher,
        parsed: &ParsedQuery,
        viewer: &Viewer,
    ) -> Result<BuiltQuery> {
        let fields = &self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut highlight = Highlight::default();
        let mut has_text = false;
        for part in &parsed.text {
            let clause = match part {
                TextPart::Word(word) => {
                    let tokens = analyse(word);
                    let letters = word.chars().filter(|c| c.is_alphanumeric()).count();
                    match tokens.as_slice() {
                        [] => None,
                        [(_, token)] => Some(self.word_clause(
                            searcher,
                            token,
                            letters >= FUZZY_MIN_CHARS,
                            &mut highlight,
                        )?),
                        _ => Some(self.phrase_clause(&tokens, &mut highlight)),
                    }
                }
                TextPart::Phrase(phrase) => {
                    let tokens = analyse(phrase);
                    match tokens.as_slice() {
                        [] => None,
                        [(_, token)] => {
                            Some(self.word_clause(searcher, token, false, &mut highlight)?)
                        }
                        _ => Some(self.phrase_clause(&tokens, &mut highlight)),
                    }
                }
                TextPart::Prefix(prefix) => {
                    highlight.prefixes.push(prefix.clone());
                    // The stemmed fields score where the stem is as long as the prefix; the
                    // unstemmed words find the rest (`certificat*` in "certificate").
                    let alternatives = weighted_text_fields(fields)
                        .into_iter()
                        .chain([(fields.words, 1.0)])
                        .map(|(field, boost)| {
                            let query = FuzzyTermQuery::new_prefix(
                                Term::from_field_text(field, prefix),
                                0,
                                true,
                            );
                            (Occur::Should, boosted(query, boost))
                        })
                        .collect();
                    Some(Box::new(BooleanQuery::new(alternatives)) as Box<dyn Query>)
                }
            };
            if let Some(clause) = clause {
                has_text = true;
                must.push((Occur::Must, clause));
            }
        }

        let filters = &parsed.filters;
        let groups: [(Field, Vec<String>); 7] = [
            (fields.service, filters.services.clone()),
            (fields.team, filters.teams.clone()),
            (
                fields.severity,
                filters
                    .severities
                    .iter()
                    .map(|s| s.to_string().to_lowercase())
                    .collect(),
            ),
            (
                fields.kind,
                filters
                    .kinds
                    .iter()
                    .map(|k| k.as_str().to_owned())
                    .collect(),
            ),
            (
                fields.status,
                filters
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            ),
            (
                fields.factor,
                filters
                    .factors
                    .iter()
                    .map(|f| f.as_str().to_owned())
                    .collect(),
            ),
            (fields.owner, filters.owners.clone()),
        ];
        for (field, values) in groups {
            if values.is_empty() {
                continue;
            }
            let any = values
                .iter()
                .map(|value| (Occur::Should, term_query(field, value)))
                .collect();
            must.push((Occur::Must, constant(Box::new(BooleanQuery::new(any)), 0.0)));
        }
        if filters.after.is_some() || filters.before.is_some() {
            let at = |date: time::Date| {
                Term::from_field_i64(
                    fields.started,
                    date.midnight().assume_utc().unix_timestamp(),
                )
            };
            let range = RangeQuery::new(
                filters
                    .after
                    .map_or(Bound::Unbounded, |d| Bound::Included(at(d))),
                filters
                    .before
                    .map_or(Bound::Unbounded, |d| Bound::Excluded(at(d))),
            );
            must.push((Occur::Must, constant(Box::new(range), 0.0)));
        }
        if let Some(visible) = self.visibility_filter(viewer) {
            must.push((Occur::Must, visible));
        }
        let query: Box<dyn Query> = if must.is_empty() {
            Box::new(AllQuery)
        } else {
            Box::new(BooleanQuery::new(must))
        };
        Ok(BuiltQuery {
            query,
            has_text,
            highlight,
        })
    }

    /// One analysed word in any text field, weighted by field. A word of five letters or
    /// more that occurs nowhere in the index is probably a typo and also matches words one
    /// edit away; words that do occur never pay for the fuzzy dictionary walk.
    pub(super) fn word_clause(
        &self,
        searcher: &Searcher,
        token: &str,
        may_be_typo: bool,
        highlight: &mut Highlight,
    ) -> Result<Box<dyn Query>> {
        let text_fields = weighted_text_fields(&self.fields);
        let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut occurrences = 0;
        for (field, boost) in text_fields {
            let term = Term::from_field_text(field, token);
            if may_be_typo {
                occurrences += searcher.doc_freq(&term)?;
            }
            let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
            alternatives.push((Occur::Should, boosted(query, boost)));
        }
        highlight.exact.insert(token.to_owned());
        if may_be_typo && occurrences == 0 {
            highlight.fuzzy.push(token.to_owned());
            for (field, boost) in text_fields {
                let query = FuzzyTermQuery::new(Term::from_field_text(field, token), 1, true);
                alternatives.push((Occur::Should, boosted(query, boost * 0.5)));
            }
        }
        Ok(Box::new(BooleanQuery::new(alternatives)))
    }

    /// Analysed words in this order (stop words leave gaps, kept as offsets), in any field.
    pub(super) fn phrase_clause(
        &self,
        tokens: &[(usize, String)],
        highlight: &mut Highlight,
    ) -> Box<dyn Query> {
        let first = tokens.first().map_or(0, |(position, _)| *position);
        let alternatives = weighted_text_fields(&self.fields)
            .into_iter()
            .map(|(field, boost)| {
                let terms = tokens
                    .iter()
                    .map(|(position, token)| {
                        (position - first, Term::from_field_text(field, token))
                    })
                    .collect();
                (
                    Occur::Should,
                    boosted(PhraseQuery::new_with_offset(terms), boost),
                )
            })
            .collect();
        highlight
            .exact
            .extend(tokens.iter().map(|(_, token)| token.clone()));
        Box::new(BooleanQuery::new(alternatives))
    }

    /// `visible(viewer)`: unrestricted, or restricted with the viewer among those allowed,
    /// in person or through one of their teams.
    pub(super) fn visibility_filter(&self, viewer: &Viewer) -> Option<Box<dyn Query>> {
        let Viewer::Person {
            user,
            teams,
            hidden,
        } = viewer
        else {
            return None;
        };
        let mut either: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.restricted, 0),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                Occur::Should,
                Box::new(TermQuery::new(
                    Term::from_field_u64(self.fields.allowed, user.get() as u64),
                    IndexRecordOption::Basic,
                )),
            ),
        ];
        either.extend(teams.iter().map(|team| {
            (
                Occur::Should,
                term_query(self.fields.allowed_team, team.as_str()),
            )
        }));
        let mut visible: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(either)))];
        if !hidden.is_empty() {
            let ids = hidden.iter().map(|id| id_term(&self.fields, *id));
            visible.push((Occur::MustNot, Box::new(TermSetQuery::new(ids))));
        }
        Some(constant(Box::new(BooleanQuery::new(visible)), 0.0))
    }

    /// Escaped HTML from the first of summary, factors and body that holds a match, matches
    /// in `<mark>`; the start of the summary when the match was elsewhere (the title, or a
    /// filter-only query).
    pub(super) fn snippet(&self, doc: &TantivyDocument, highlight: &Highlight) -> String {
        let fields = &self.fields;
        for field in [fields.summary, fields.factors, fields.body] {
            let text = all_text(doc, field).join("\n");
            let terms = highlight.terms_in(&text);
            if terms.is_empty() {
                continue;
            }
            let terms = terms.into_iter().map(|term| (term, 1.0)).collect();
            let generator = SnippetGenerator::new(terms, text_analyzer(), field, SNIPPET_CHARS);
            let mut snippet = generator.snippet(&text);
            if !snippet.is_empty() {
                snippet.set_snippet_prefix_postfix("<mark>", "</mark>");
                // Fragments start and end on words; say when the text goes on either side.
                let fragment = snippet.fragment();
                let start = text.find(fragment).unwrap_or(0);
                let before = if text[..start].trim().is_empty() {
                    ""
                } else {
                    "… "
                };
                let after = if text[start + fragment.len()..].trim().is_empty() {
                    ""
                } else {
                    " …"
                };
                return format!("{before}{}{after}", snippet.to_html().trim());
            }
        }
        let summary = all_text(doc, fields.summary).join("\n");
        let text = if summary.trim().is_empty() {
            all_text(doc, fields.body).join("\n")
        } else {
            summary
        };
        escape_html(&opening(&text, SNIPPET_CHARS))
    }
}

/// The first words of `text` that fit in `chars` characters, cut before a word rather than
/// inside one, with an ellipsis when the text goes on.
pub(super) fn opening(text: &str, chars: usize) -> String {
    let text = text.trim();
    let Some((cut, _)) = text.char_indices().nth(chars) else {
        return text.to_owned();
    };
    let head = &text[..cut];
    // Cut inside a word: go back to where it began (unless one word fills it all).
    let head = if text[cut..].starts_with(char::is_alphanumeric) {
        head.rfind(|c: char| c.is_whitespace())
            .map_or(head, |space| &head[..space])
    } else {
        head
    };
    format!("{} …", head.trim_end())
}

/// The query to run, whether it has words (so relevance means something), and what to mark.
pub(super) struct BuiltQuery {
    pub(super) query: Box<dyn Query>,
    has_text: bool,
    highlight: Highlight,
}

/// What a query matches, for marking snippets: exact analysed terms, and the prefixes and
/// possibly misspelt terms whose matches depend on the document's own words.
#[derive(Debug, Default)]
pub(super) struct Highlight {
    exact: BTreeSet<String>,
    prefixes: Vec<String>,
    fuzzy: Vec<String>,
}

impl Highlight {
    /// The analysed terms of `text` to mark.
    pub(super) fn terms_in(&self, text: &str) -> BTreeSet<String> {
        let mut terms = self.exact.clone();
        if !self.fuzzy.is_empty() {
            for (_, token) in analyse(text) {
                if self.fuzzy.iter().any(|f| within_one_edit(f, &token)) {
                    terms.insert(token);
                }
            }
        }
        if !self.prefixes.is_empty() {
            // Prefixes match the words as written, which may run past their stem
            // (`migratio*` in "migration"); the snippet marks the word's analysed form.
            for word in text.split(|c: char| !c.is_alphanumeric()) {
                let folded = crate::schema::fold(word);
                if !folded.is_empty()
                    && self.prefixes.iter().any(|p| folded.starts_with(p.as_str()))
                {
                    terms.extend(analyse(word).into_iter().map(|(_, token)| token));
                }
            }
        }
        terms
    }
}

/// Whether `a` becomes `b` with at most one insertion, deletion, substitution or swap of
/// neighbours: the distance the fuzzy query uses.
pub(super) fn within_one_edit(a: &str, b: &str) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > 1 {
        return false;
    }
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let (ra, rb) = (&a[prefix..], &b[prefix..]);
    let suffix = ra
        .iter()
        .rev()
        .zip(rb.iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (ma, mb) = (
        ra.len() - suffix.min(ra.len()),
        rb.len() - suffix.min(rb.len()),
    );
    match (ma, mb) {
        (0, 0) | (1, 0) | (0, 1) | (1, 1) => true,
        (2, 2) => ra[0] == rb[1] && ra[1] == rb[0],
        _ => false,
    }
}

pub(super) fn reason(services: &[String], factors: &[String], terms: &[String]) -> String {
    let mut parts = Vec::new();
    match services {
        [] => {}
        [one] => parts.push(format!("same service ({one})")),
        many => parts.push(format!("same services ({})", many.join(", "))),
    }
    match factors.len() {
        0 => {}
        1 => parts.push(format!("1 shared factor category ({})", factors[0])),
        n => parts.push(format!(
            "{n} shared factor categories ({})",
            factors.join(", ")
        )),
    }
    if !terms.is_empty() {
        parts.push(format!("similar words: {}", terms.join(", ")));
    }
    if parts.is_empty() {
        "similar text".to_owned()
    } else {
        parts.join(", ")
    }
}

pub(super) fn boosted(query: impl Query, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(Box::new(query), boost))
}

pub(super) fn constant(query: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(query, score))
}

pub(super) fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, value),
        IndexRecordOption::Basic,
    ))
}

pub(super) fn first_text(doc: &TantivyDocument, field: Field) -> &str {
    doc.get_first(field).and_then(|v| v.as_str()).unwrap_or("")
}

pub(super) fn all_text(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// What an incident is about: its title, summary and contributing factors.
pub(super) fn about_text(doc: &TantivyDocument, fields: &Fields) -> String {
    let mut text = first_text(doc, fields.title).to_owned();
    for field in [fields.summary, fields.factors] {
        for value in all_text(doc, field) {
            text.push('\n');
            text.push_str(&value);
        }
    }
    text
}

pub(super) fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_means_one_insertion_deletion_substitution_or_swap() {
        assert!(within_one_edit("timout", "timeout"));
        assert!(within_one_edit("timeout", "timout"));
        assert!(within_one_edit("timeoat", "timeout"));
        assert!(within_one_edit("tiemout", "timeout"));
        assert!(within_one_edit("timeout", "timeout"));
        assert!(!within_one_edit("tmout", "timeout"));
        assert!(!within_one_edit("tiemuot", "timeout"));
        assert!(!within_one_edit("abcde", "vwxyz"));
    }

    #[test]
    fn reasons_name_what_two_incidents_share() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            reason(
                &s(&["checkout"]),
                &s(&["capacity", "alerting", "third_party"]),
                &[]
            ),
            "same service (checkout), 3 shared factor categories (capacity, alerting, third_party)"
        );
        assert_eq!(
            reason(&[], &s(&["capacity"]), &s(&["pool"])),
            "1 shared factor category (capacity), similar words: pool"
        );
        assert_eq!(reason(&[], &[], &[]), "similar text");
    }

    #[test]
    fn only_files_tantivy_writes_are_ever_wiped() {
        assert!(is_index_file("meta.json"));
        assert!(is_index_file(".managed.json"));
        assert!(is_index_file(".tantivy-writer.lock"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.idx"));
        assert!(is_index_file("0123456789abcdef0123456789abcdef.5.del"));
        assert!(!is_index_file("notes.txt"));
        assert!(!is_index_file("postmortem.db"));
    }
}
