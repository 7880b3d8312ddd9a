//! What a search answers, in the JSON shape the API serves, and its text form for the CLI.

use postmortem_core::IncidentId;
use serde::Serialize;
use std::fmt::Write as _;

/// One page of search results, with the total and facet counts over every match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchResults {
    /// How many incidents match, in all (not just this page).
    pub total: u64,
    pub items: Vec<SearchHit>,
    pub facets: Facets,
}

/// One matching incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchHit {
    pub incident_id: IncidentId,
    pub title: String,
    /// Where the incident matches: HTML, already escaped, with matches in `<mark>`.
    pub snippet: String,
    /// Relevance; higher is better. 0 when the query has no words (newest first then).
    pub score: f32,
}

/// What a query being typed may be heading for.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Suggestions {
    /// Incidents it finds with its last word read as a prefix, best first.
    pub incidents: Vec<SuggestedIncident>,
    /// Words that complete its last word, most widely used first.
    pub words: Vec<SuggestedWord>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedIncident {
    pub incident_id: IncidentId,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuggestedWord {
    /// The word as written (lower case), such as `certificate`.
    pub word: String,
    /// The whole query with its last word completed to `word`.
    pub query: String,
}

/// Counts of the matching incidents by value, largest first, over every match.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Facets {
    pub service: Vec<FacetCount>,
    pub team: Vec<FacetCount>,
    pub severity: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub factor: Vec<FacetCount>,
    pub year: Vec<FacetCount>,
}

impl Facets {
    /// The facets with their names, in the order they are shown.
    pub fn named(&self) -> [(&'static str, &[FacetCount]); 6] {
        [
            ("service", &self.service),
            ("team", &self.team),
            ("severity", &self.severity),
            ("kind", &self.kind),
            ("factor", &self.factor),
            ("year", &self.year),
        ]
    }

    pub(crate) fn get_mut(&mut self, name: &str) -> Option<&mut Vec<FacetCount>> {
        match name {
            "service" => Some(&mut self.service),
            "team" => Some(&mut self.team),
            "severity" => Some(&mut self.severity),
            "kind" => Some(&mut self.kind),
            "factor" => Some(&mut self.factor),
            "year" => Some(&mut self.year),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// An earlier incident like a given one, and why it is like it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SimilarIncident {
    pub incident_id: IncidentId,
    pub title: String,
    pub score: f32,
    pub shared_services: Vec<String>,
    pub shared_factors: Vec<String>,
    /// Distinctive words both incidents use (as analysed: stemmed, lowercase).
    pub shared_terms: Vec<String>,
    /// The above in one line for people: "same service (checkout), 3 shared factor categories".
    pub reason: String,
}

/// How many facet values the text form shows per facet.
const TEXT_FACET_VALUES: usize = 5;

/// The results as text for a terminal: one block per hit with its snippet, then the facets.
/// With `color`, matches are bold; without, they are wrapped in `[` `]`.
pub fn format_text(results: &SearchResults, color: bool) -> String {
    let mut out = String::new();
    let noun = if results.total == 1 {
        "incident"
    } else {
        "incidents"
    };
    let _ = writeln!(out, "{} {noun} match", results.total);
    for hit in &results.items {
        let _ = writeln!(out, "\n#{}  {}", hit.incident_id, hit.title);
        let snippet = snippet_text(&hit.snippet, color);
        for line in snippet.lines().filter(|line| !line.trim().is_empty()) {
            let _ = writeln!(out, "    {}", line.trim());
        }
    }
    let facets: Vec<_> = results
        .facets
        .named()
        .into_iter()
        .filter(|(_, counts)| !counts.is_empty())
        .collect();
    if !facets.is_empty() {
        out.push('\n');
    }
    for (name, counts) in facets {
        let shown: Vec<String> = counts
            .iter()
            .take(TEXT_FACET_VALUES)
            .map(|c| format!("{} ({})", c.value, c.count))
            .collect();
        let more = counts.len().saturating_sub(TEXT_FACET_VALUES);
        let more = if more > 0 {
            format!(", {more} more")
        } else {
            String::new()
        };
        let _ = writeln!(out, "{name}: {}{more}", shown.join(", "));
    }
    out
}

/// The results as the JSON the API serves.
pub fn format_json(results: &SearchResults) -> String {
    serde_json::to_string_pretty(results).expect("search results always serialise")
}

/// Turns a snippet's escaped HTML into terminal text.
fn snippet_text(html: &str, color: bool) -> String {
    let (open, close) = if color {
        ("\x1b[1m", "\x1b[0m")
    } else {
        ("[", "]")
    };
    html.replace("<mark>", open)
        .replace("</mark>", close)
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn results() -> SearchResults {
        SearchResults {
            total: 2,
            items: vec![SearchHit {
                incident_id: IncidentId::new(7),
                title: "Checkout outage".into(),
                snippet: "the <mark>connection</mark> pool &amp; &lt;db&gt;".into(),
                score: 3.5,
            }],
            facets: Facets {
                service: vec![FacetCount {
                    value: "checkout".into(),
                    count: 2,
                }],
                ..Facets::default()
            },
        }
    }

    #[test]
    fn results_serialise_in_the_api_shape() {
        let json: serde_json::Value = serde_json::from_str(&format_json(&results())).unwrap();
        assert_eq!(json["total"], 2);
        assert_eq!(json["items"][0]["incident_id"], 7);
        assert_eq!(json["items"][0]["title"], "Checkout outage");
        assert_eq!(json["items"][0]["score"], 3.5);
        assert!(
            json["items"][0]["snippet"]
                .as_str()
                .unwrap()
                .contains("<mark>")
        );
        assert_eq!(json["facets"]["service"][0]["value"], "checkout");
        assert_eq!(json["facets"]["service"][0]["count"], 2);
        let mut keys: Vec<_> = json.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["facets", "items", "total"]);
        let mut item_keys: Vec<_> = json["items"][0]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        item_keys.sort();
        assert_eq!(item_keys, ["incident_id", "score", "snippet", "title"]);
    }

    #[test]
    fn the_text_form_unescapes_snippets_and_brackets_matches() {
        let text = format_text(&results(), false);
        assert!(text.starts_with("2 incidents match\n"), "{text}");
        assert!(text.contains("#7  Checkout outage"), "{text}");
        assert!(text.contains("the [connection] pool & <db>"), "{text}");
        assert!(text.contains("service: checkout (2)"), "{text}");
    }
}
