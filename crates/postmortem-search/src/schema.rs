//! The index schema, the text analysis shared by indexing and querying, and the document an
//! incident becomes.

use postmortem_core::{IncidentId, UserId};
use postmortem_store::IncidentRecord;
use std::collections::HashMap;
use tantivy::schema::{
    FAST, Facet, FacetOptions, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{TantivyDocument, Term};

/// Bumped whenever the schema or the analysis changes, so an index written by an older build
/// is rebuilt rather than read with the wrong assumptions.
pub(crate) const FORMAT_VERSION: u32 = 3;

/// The analyzer of every free-text field.
pub(crate) const TEXT_ANALYZER: &str = "pm_en";

/// The analyser of the unstemmed `words` field: lowercased and folded words, so that a
/// prefix matches every word it begins (`certificat*` finds "certificate", whose stem
/// `certif` is shorter than what was typed).
pub(crate) const PLAIN_ANALYZER: &str = "pm_plain";

pub(crate) fn plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// English analysis: words, lowercased and folded to ASCII, without stop words, stemmed, so
/// "migrations" finds "migration" and "the" never has to match.
pub(crate) fn text_analyzer() -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter);
    match StopWordFilter::new(Language::English) {
        Some(stop_words) => builder
            .filter(stop_words)
            .filter(Stemmer::new(Language::English))
            .build(),
        None => builder.filter(Stemmer::new(Language::English)).build(),
    }
}

/// Lowercases and folds a word without stemming it: the form prefixes are matched in, since
/// a stemmer would cut `migrat*` at an unpredictable place.
pub(crate) fn fold(word: &str) -> String {
    let mut analyzer = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build();
    let mut stream = analyzer.token_stream(word);
    let mut folded = String::new();
    while let Some(token) = stream.next() {
        folded.push_str(&token.text);
    }
    folded
}

/// The analysed tokens of `text` with their positions.
pub(crate) fn analyse(text: &str) -> Vec<(usize, String)> {
    let mut analyzer = text_analyzer();
    let mut stream = analyzer.token_stream(text);
    let mut tokens = Vec::new();
    while let Some(token) = stream.next() {
        tokens.push((token.position, token.text.clone()));
    }
    tokens
}

/// The fields of the index.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields {
    pub id: Field,
    pub title: Field,
    pub summary: Field,
    /// Descriptions of the contributing factors.
    pub factors: Field,
    /// Every other section, the timeline and the action items.
    pub body: Field,
    /// All of the free text above again, unstemmed, for prefixes.
    pub words: Field,
    pub service: Field,
    pub team: Field,
    pub severity: Field,
    pub kind: Field,
    pub status: Field,
    /// Factor categories.
    pub factor: Field,
    /// Handles of action item owners.
    pub owner: Field,
    /// When the incident started (or was recorded), in Unix seconds.
    pub started: Field,
    /// 1 for a restricted incident, 0 otherwise.
    pub restricted: Field,
    /// Who may see a restricted incident: its creator and the people named on it.
    pub allowed: Field,
    /// Whose members may see a restricted incident: the teams it names.
    pub allowed_team: Field,
    pub facets: Field,
}

/// The free-text fields with their weights: title and summary say what an incident was about.
pub(crate) fn weighted_text_fields(fields: &Fields) -> [(Field, f32); 4] {
    [
        (fields.title, 3.0),
        (fields.summary, 2.0),
        (fields.factors, 1.2),
        (fields.body, 1.0),
    ]
}

pub(crate) fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TEXT_ANALYZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        id: builder.add_u64_field("id", INDEXED | FAST | STORED),
        title: builder.add_text_field("title", text.clone()),
        summary: builder.add_text_field("summary", text.clone()),
        factors: builder.add_text_field("factors", text.clone()),
        body: builder.add_text_field("body", text),
        words: builder.add_text_field(
            "words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(PLAIN_ANALYZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        service: builder.add_text_field("service", STRING | STORED),
        team: builder.add_text_field("team", STRING | STORED),
        severity: builder.add_text_field("severity", STRING | STORED),
        kind: builder.add_text_field("kind", STRING | STORED),
        status: builder.add_text_field("status", STRING | STORED),
        factor: builder.add_text_field("factor", STRING | STORED),
        owner: builder.add_text_field("owner", STRING),
        started: builder.add_i64_field("started", INDEXED | FAST | STORED),
        restricted: builder.add_u64_field("restricted", INDEXED | FAST),
        allowed: builder.add_u64_field("allowed", INDEXED),
        allowed_team: builder.add_text_field("allowed_team", STRING),
        facets: builder.add_facet_field("facets", FacetOptions::default()),
    };
    (builder.build(), fields)
}

/// The term that names an incident's document, for replacing or deleting it.
pub(crate) fn id_term(fields: &Fields, id: IncidentId) -> Term {
    Term::from_field_u64(fields.id, id.get() as u64)
}

/// The facet roots counted for every query, in the order they are reported.
pub(crate) const FACET_ROOTS: [&str; 6] = ["service", "team", "severity", "kind", "factor", "year"];

/// Turns an incident into its document. `handles` names the owners of action items.
pub(crate) fn document(
    fields: &Fields,
    record: &IncidentRecord,
    handles: &HashMap<UserId, String>,
) -> TantivyDocument {
    let incident = &record.incident;
    let mut doc = TantivyDocument::default();
    doc.add_u64(fields.id, incident.id.get() as u64);
    doc.add_text(fields.title, incident.title.as_str());

    let mut body = String::new();
    for (name, section) in &record.postmortem.sections {
        if name.as_str() == "summary" {
            doc.add_text(fields.summary, plain_text(section.body.as_str()));
        } else {
            push_paragraph(&mut body, &plain_text(section.body.as_str()));
        }
    }
    for entry in &record.timeline {
        push_paragraph(&mut body, &plain_text(entry.text.as_str()));
    }
    for action in &record.actions {
        push_paragraph(&mut body, action.title.as_str());
        if let Some(verification) = &action.verification {
            push_paragraph(&mut body, verification);
        }
        if let Some(reason) = &action.wont_do_reason {
            push_paragraph(&mut body, reason);
        }
    }
    doc.add_text(fields.body, &body);
    doc.add_text(fields.words, incident.title.as_str());
    doc.add_text(fields.words, &body);
    for (name, section) in &record.postmortem.sections {
        if name.as_str() == "summary" {
            doc.add_text(fields.words, plain_text(section.body.as_str()));
        }
    }
    for factor in &record.factors {
        let description = plain_text(factor.description.as_str());
        doc.add_text(fields.factors, &description);
        doc.add_text(fields.words, description);
    }

    let mut facets = Vec::new();
    for service in &incident.services {
        let service = service.as_str().to_lowercase();
        facets.push(Facet::from_path(["service", service.as_str()]));
        doc.add_text(fields.service, service);
    }
    for team in &incident.teams {
        let team = team.as_str().to_lowercase();
        facets.push(Facet::from_path(["team", team.as_str()]));
        doc.add_text(fields.team, team);
    }
    let severity = incident.severity.to_string();
    facets.push(Facet::from_path(["severity", severity.as_str()]));
    doc.add_text(fields.severity, severity.to_lowercase());
    facets.push(Facet::from_path(["kind", incident.kind.as_str()]));
    doc.add_text(fields.kind, incident.kind.as_str());
    doc.add_text(fields.status, record.postmortem.status.as_str());
    let mut categories: Vec<&str> = record.factors.iter().map(|f| f.category.as_str()).collect();
    categories.sort_unstable();
    categories.dedup();
    for category in categories {
        facets.push(Facet::from_path(["factor", category]));
        doc.add_text(fields.factor, category);
    }
    let mut owners: Vec<&str> = record
        .actions
        .iter()
        .filter_map(|action| action.owner)
        .filter_map(|owner| handles.get(&owner).map(String::as_str))
        .collect();
    owners.sort_unstable();
    owners.dedup();
    for owner in owners {
        doc.add_text(fields.owner, owner.to_lowercase());
    }

    let started = incident.started_at.unwrap_or(incident.created_at);
    doc.add_i64(fields.started, started.unix_timestamp());
    let year = started.year().to_string();
    facets.push(Facet::from_path(["year", year.as_str()]));
    for facet in facets {
        doc.add_facet(fields.facets, facet);
    }

    doc.add_u64(fields.restricted, u64::from(incident.restricted));
    if incident.restricted {
        let mut allowed: Vec<u64> = record.members.iter().map(|m| m.get() as u64).collect();
        allowed.push(incident.created_by.get() as u64);
        allowed.sort_unstable();
        allowed.dedup();
        for user in allowed {
            doc.add_u64(fields.allowed, user);
        }
        for team in &incident.teams {
            doc.add_text(fields.allowed_team, team.as_str());
        }
    }
    doc
}

/// The words a reader sees when Markdown is rendered: no backticks, asterisks, link targets
/// or heading marks, so a snippet quotes the page rather than its source. Blocks end in a
/// line break, inline breaks become spaces.
pub(crate) fn plain_text(markdown: &str) -> String {
    use pulldown_cmark::{Event, Parser, TagEnd};
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new(markdown) {
        match event {
            Event::Text(words) | Event::Code(words) | Event::InlineMath(words) => {
                text.push_str(&words);
            }
            Event::SoftBreak | Event::End(TagEnd::TableCell) => text.push(' '),
            Event::HardBreak | Event::Rule => text.push('\n'),
            Event::End(
                TagEnd::Paragraph
                | TagEnd::Heading(_)
                | TagEnd::Item
                | TagEnd::CodeBlock
                | TagEnd::TableRow
                | TagEnd::BlockQuote(_),
            ) if !text.is_empty() && !text.ends_with(['\n', ' ']) => text.push('\n'),
            _ => {}
        }
    }
    text.truncate(text.trim_end().len());
    text
}

fn push_paragraph(body: &mut String, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    if !body.is_empty() {
        body.push_str("\n\n");
    }
    body.push_str(text);
}
