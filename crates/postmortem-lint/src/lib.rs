//! postmortem-lint: a blameless-language checker for incident post-mortems written in Markdown.
//!
//! "You can write polite prose that still smuggles blame into every sentence." This crate
//! finds the sentences that do: people as subjects of failure verbs, counterfactuals about
//! people, "human error", judgements of character, hindsight, fault and blame, passive voice
//! that still judges, single root causes, action items aimed at people, and one person named
//! again and again as the subject of failures.
//!
//! The crate does no I/O. The rules live in `rules.toml`, compiled in and parsed once.
//!
//! ```
//! use postmortem_lint::{lint, LintOptions};
//!
//! let findings = lint("Dana failed to notice the disk alert.", &LintOptions::default());
//! assert_eq!(findings[0].rule, "person-failure");
//! assert_eq!((findings[0].line, findings[0].column), (1, 1));
//! ```
//!
//! Positions: `line` and `column` are 1-based; columns count Unicode scalar values (characters),
//! not bytes; `end_line`/`end_column` point just past the last character of the span (end
//! exclusive). `byte_range` is the same span in UTF-8 bytes, for editors.

mod config;
mod engine;
pub mod format;
mod markdown;
pub mod model;
mod pattern;
mod prefilter;
mod rewrite;
mod rules;
mod sentence;
mod token;

use std::collections::HashSet;
use std::ops::Range;

use serde::{Deserialize, Serialize};

pub use config::{ConfigError, Level, LintConfig, Method};
pub use rules::{RuleInfo, rules};

use engine::{Engine, Pending, Source};
use markdown::{Directive, DirectiveKind};
use rules::RuleSet;

/// How serious a finding is. Ordered: `Info < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    /// One level down (block quotes, i.e. pasted chat logs, are checked at a lower severity).
    pub fn lower(self) -> Severity {
        match self {
            Severity::Error => Severity::Warning,
            Severity::Warning | Severity::Info => Severity::Info,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// What kind of blame a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A person or team is the subject of a failure verb.
    PersonFailure,
    /// What a person should or could have done.
    Counterfactual,
    /// "Human error", "a mistake by ...".
    HumanError,
    /// Judgement of character or diligence: careless, lazy, ignored.
    Character,
    /// Obviousness and minimising words: obviously, any competent engineer.
    Hindsight,
    /// Fault, blame, culprit, "caused by `<person>`".
    Fault,
    /// Passive voice that still judges: "the warning was ignored".
    PassiveBlame,
    /// "The root cause was ..." (info).
    RootCauseSingular,
    /// Action items aimed at people: be more careful, retrain (info).
    PeopleFix,
    /// One person or team is the subject of most failure sentences in the document.
    BlameConcentration,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::PersonFailure => "person_failure",
            Category::Counterfactual => "counterfactual",
            Category::HumanError => "human_error",
            Category::Character => "character",
            Category::Hindsight => "hindsight",
            Category::Fault => "fault",
            Category::PassiveBlame => "passive_blame",
            Category::RootCauseSingular => "root_cause_singular",
            Category::PeopleFix => "people_fix",
            Category::BlameConcentration => "blame_concentration",
        }
    }

    /// The seven sentence-level blame categories (not the two advisory ones, not concentration).
    pub fn is_blame(self) -> bool {
        !matches!(
            self,
            Category::RootCauseSingular | Category::PeopleFix | Category::BlameConcentration
        )
    }
}

/// One problem found in a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Rule id, e.g. `person-failure`.
    pub rule: String,
    pub category: Category,
    pub severity: Severity,
    /// 1-based line of the first character.
    pub line: usize,
    /// 1-based column of the first character, in characters.
    pub column: usize,
    /// 1-based line of the end position.
    pub end_line: usize,
    /// 1-based column just past the last character (exclusive), in characters.
    pub end_column: usize,
    /// The span in UTF-8 bytes of the input.
    pub byte_range: Range<usize>,
    /// 1-based column of the first character, in UTF-8 bytes (reviewdog's convention).
    pub byte_column: usize,
    /// 1-based column just past the end, in UTF-8 bytes (exclusive).
    pub end_byte_column: usize,
    /// Why this reads as blame.
    pub message: String,
    /// A rewrite, or a question that leads to one.
    pub suggestion: String,
    /// A concrete replacement for the span, when the rule has one (empty: delete the span).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
    /// The sentence the finding is in, in UTF-8 bytes of the input (for counting sentences).
    #[serde(skip)]
    pub sentence: Range<usize>,
}

/// How many sentences put a person at the centre of a failure: the sentences with at least
/// one finding in a blame category (a rule's warning or the model's advice), each counted once.
pub fn person_centred_sentences(findings: &[Finding]) -> usize {
    let mut sentences: Vec<&Range<usize>> = findings
        .iter()
        .filter(|f| f.category.is_blame())
        .map(|f| &f.sentence)
        .collect();
    sentences.sort_by_key(|r| (r.start, r.end));
    sentences.dedup();
    sentences.len()
}

/// Per-call options.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// Names of the incident's participants; always recognised as people.
    pub participants: Vec<String>,
    pub config: LintConfig,
}

/// Lints a Markdown document. Findings are sorted by position.
pub fn lint(markdown: &str, options: &LintOptions) -> Vec<Finding> {
    let set = RuleSet::builtin();
    let config = &options.config;
    let severity: Vec<Option<Severity>> = set
        .rules
        .iter()
        .map(|r| config.severity_for(&r.info.id, r.info.category, r.info.default_severity))
        .collect();
    let c = &set.concentration.info;
    let concentration = config.severity_for(&c.id, c.category, c.default_severity);
    let mut participants = options.participants.clone();
    participants.extend(config.participants.iter().cloned());
    let model_severity = model::rule_infos()
        .iter()
        .map(|r| config.severity_for(&r.id, r.category, r.default_severity))
        .collect();
    let mut engine = Engine::new(
        set,
        severity,
        concentration,
        &participants,
        &config.allowed_words,
        config.method,
        model_severity,
    );
    let mut pending = Vec::new();
    let mut directives = Vec::new();
    markdown::walk(markdown, &mut directives, |block| {
        sentence::split(&block.text, |r| engine.sentence(block, r, &mut pending));
    });
    pending.extend(engine.finish());
    finish(markdown, set, pending, &directives)
}

/// The prose sentences of a Markdown document as the checker sees them (headings, code, front
/// matter and HTML left out): what `cargo xtask train-lint` learns from in whole documents.
pub fn prose_sentences(markdown: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut directives = Vec::new();
    markdown::walk(markdown, &mut directives, |block| {
        if !block.heading {
            sentence::split(&block.text, |r| out.push(block.text[r].trim().to_string()));
        }
    });
    out
}

/// Computes positions, applies suppression comments and builds the findings.
fn finish(
    src: &str,
    set: &RuleSet,
    mut pending: Vec<Pending>,
    directives: &[Directive],
) -> Vec<Finding> {
    if pending.is_empty() {
        return Vec::new();
    }
    pending.sort_by_key(|p| (p.range.start, p.range.end));
    let mut offsets: Vec<usize> = pending
        .iter()
        .flat_map(|p| [p.range.start, p.range.end])
        .collect();
    offsets.extend(directives.iter().map(|d| d.offset));
    let positions = Positions::new(src, offsets);
    let mut findings = Vec::with_capacity(pending.len());
    let mut suppress = Suppression::default();
    let mut next_directive = 0;
    for p in pending {
        while next_directive < directives.len()
            && directives[next_directive].offset <= p.range.start
        {
            suppress.apply(
                &directives[next_directive],
                positions.get(directives[next_directive].offset).line,
            );
            next_directive += 1;
        }
        let (info, replacement) = match p.source {
            Source::Rule(i) => (&set.rules[i].info, set.rules[i].replacement.clone()),
            Source::Concentration => (&set.concentration.info, None),
            Source::Model(c) => (&model::rule_infos()[c], None),
        };
        let start = positions.get(p.range.start);
        if suppress.suppressed(&info.id, info.category, start.line) {
            continue;
        }
        let end = positions.get(p.range.end);
        let subject = p.subject.as_deref().unwrap_or("the people involved");
        let count = p.count.to_string();
        let fill = |t: &str| fill_template(t, subject, &count);
        let span_text = &src[p.range.clone()];
        let replacement = replacement
            .map(|r| match_case(span_text, &r))
            .or_else(|| rewrite::span(info.category, span_text));
        let mut suggestion = fill(&info.suggestion);
        if let Some(r) = &replacement
            && p.sentence.start <= p.range.start
            && p.range.end <= p.sentence.end
        {
            let sentence = format!(
                "{}{r}{}",
                &src[p.sentence.start..p.range.start],
                &src[p.range.end..p.sentence.end]
            );
            let sentence = sentence.split_whitespace().collect::<Vec<_>>().join(" ");
            suggestion = format!("Rewrite: \"{sentence}\" {suggestion}");
        }
        let mut message = fill(&info.message);
        if let Source::Model(_) = p.source {
            message.push_str(&format!(" The words that weighed most: {subject}."));
        }
        findings.push(Finding {
            rule: info.id.clone(),
            category: info.category,
            severity: p.severity,
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            byte_range: p.range,
            byte_column: start.byte_column,
            end_byte_column: end.byte_column,
            message,
            suggestion,
            replacement,
            sentence: p.sentence,
        });
    }
    findings
}

/// Fills `{subject}` and `{count}` in a message or suggestion template.
pub(crate) fn fill_template(template: &str, subject: &str, count: &str) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(i) = memchr::memchr(b'{', rest.as_bytes()) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("{subject}") {
            out.push_str(subject);
            rest = after;
        } else if let Some(after) = tail.strip_prefix("{count}") {
            out.push_str(count);
            rest = after;
        } else {
            out.push('{');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// A replacement starts upper-case where the replaced text did.
fn match_case(original: &str, replacement: &str) -> String {
    let upper = original.chars().next().is_some_and(char::is_uppercase);
    let mut chars = replacement.chars();
    match chars.next() {
        Some(c) if upper => c.to_uppercase().chain(chars).collect(),
        _ => replacement.to_string(),
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Position {
    line: usize,
    column: usize,
    byte_column: usize,
}

/// Line and columns (1-based) of a set of byte offsets, found in one pass over the input.
struct Positions {
    offsets: Vec<usize>,
    found: Vec<Position>,
}

impl Positions {
    fn new(src: &str, mut offsets: Vec<usize>) -> Positions {
        offsets.sort_unstable();
        offsets.dedup();
        let bytes = src.as_bytes();
        let mut found = Vec::with_capacity(offsets.len());
        let (mut pos, mut line, mut col, mut line_start) = (0usize, 1usize, 1usize, 0usize);
        // Characters are the bytes that are not UTF-8 continuation bytes.
        let chars = |seg: &[u8]| seg.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        for &target in &offsets {
            let target = target.min(bytes.len());
            let seg = &bytes[pos..target];
            match memchr::memrchr(b'\n', seg) {
                Some(last) => {
                    line += memchr::memchr_iter(b'\n', seg).count();
                    line_start = pos + last + 1;
                    col = 1 + chars(&bytes[line_start..target]);
                }
                None => col += chars(seg),
            }
            pos = target;
            found.push(Position {
                line,
                column: col,
                byte_column: target - line_start + 1,
            });
        }
        Positions { offsets, found }
    }

    fn get(&self, offset: usize) -> Position {
        match self.offsets.binary_search(&offset) {
            Ok(i) => self.found[i],
            Err(_) => Position {
                line: 1,
                column: 1,
                byte_column: 1,
            },
        }
    }
}

/// State of `<!-- postmortem-lint disable/enable -->` comments while walking the findings.
#[derive(Default)]
struct Suppression {
    all: bool,
    disabled: HashSet<String>,
    /// Rules re-enabled while everything else is disabled.
    enabled: HashSet<String>,
    /// (line, rules) from disable-next-line comments.
    next_line: Vec<(usize, Vec<String>)>,
}

impl Suppression {
    fn apply(&mut self, d: &Directive, line: usize) {
        match d.kind {
            DirectiveKind::Disable if d.rules.is_empty() => {
                self.all = true;
                self.enabled.clear();
            }
            DirectiveKind::Disable => {
                for r in &d.rules {
                    self.enabled.remove(r);
                    self.disabled.insert(r.clone());
                }
            }
            DirectiveKind::Enable if d.rules.is_empty() => {
                self.all = false;
                self.disabled.clear();
                self.enabled.clear();
            }
            DirectiveKind::Enable => {
                for r in &d.rules {
                    self.disabled.remove(r);
                    self.enabled.insert(r.clone());
                }
            }
            DirectiveKind::DisableNextLine => self.next_line.push((line + 1, d.rules.clone())),
        }
    }

    fn suppressed(&self, rule: &str, category: Category, line: usize) -> bool {
        let named = |set: &HashSet<String>| set.contains(rule) || set.contains(category.as_str());
        if self.next_line.iter().any(|(l, rules)| {
            *l == line
                && (rules.is_empty() || rules.iter().any(|r| r == rule || r == category.as_str()))
        }) {
            return true;
        }
        if named(&self.disabled) {
            return true;
        }
        self.all && !named(&self.enabled)
    }
}
