//! The sentence engine: tokenizes one sentence, decides which tokens name people, runs the
//! rules, applies the negation, quotation and exemption filters, and records the subjects of
//! failure sentences for the document-level blame-concentration rule.

use std::collections::HashMap;
use std::ops::Range;

use crate::markdown::Block;
use crate::model::{self, Model, Scratch};
use crate::pattern::{IdSet, Match, Sentence};
use crate::rules::{CLAUSE, NEG, NEG_PERSON, PERSON, RuleSet, SYSTEM};
use crate::token::{ALL_CAPS, CAP, INITIAL, Kind, Token, tokenize};
use crate::{Method, Severity};

/// Where a finding came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Index into `RuleSet::rules`.
    Rule(usize),
    /// The document-level blame-concentration rule.
    Concentration,
    /// The model alone, with the index of its category in `model::CATEGORIES`.
    Model(usize),
}

/// A finding before line and column numbers are known.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub source: Source,
    /// The sentence the finding is in (source bytes).
    pub sentence: Range<usize>,
    pub range: Range<usize>,
    pub severity: Severity,
    pub subject: Option<String>,
    pub count: usize,
}

#[derive(Debug)]
struct Subject {
    display: String,
    count: usize,
    first: Range<usize>,
    first_seen: usize,
}

/// Per-call state: options resolved against the rule set, reusable buffers and the
/// concentration tally.
#[derive(Debug)]
pub(crate) struct Engine<'a> {
    rules: &'a RuleSet,
    /// Effective severity for each rule (None: off).
    severity: Vec<Option<Severity>>,
    concentration_severity: Option<Severity>,
    participants: Vec<String>,
    allowed: Vec<String>,
    toks: Vec<Token>,
    ids: IdSet,
    quoted: Vec<bool>,
    exempt: Vec<Range<usize>>,
    next_person: Vec<usize>,
    possible: Vec<bool>,
    subjects: HashMap<String, Subject>,
    total_subject_sentences: usize,
    method: Method,
    /// Effective severity of the model's finding for each category (None: off).
    model_severity: Vec<Option<Severity>>,
    scratch: Scratch,
}

/// Below this blame probability the model overrules a rule's blame finding (a plan, a
/// system counterfactual, talk about blame): chosen on `corpus/dev.jsonl`, never on a blind set.
const VETO: f32 = 0.1;
/// At or above this probability the model reports a sentence the rules passed, as advice
/// (info). The model learns ordinary technical prose from real public post-mortems
/// (`corpus/public.jsonl`) and the demo data, so real documents rarely reach it; chosen on
/// `corpus/dev.jsonl` and the real post-mortems of `tests/it/data/` (see the README).
const ADD: f32 = 0.9;
/// At or above this probability the model's finding is a warning: on the dev split nearly
/// every such sentence is blameful, and on the real post-mortems it raises about one false
/// warning per 9,000 words (see the README).
const WARN: f32 = 0.97;
/// Sentences shorter than this are left to the rules.
const MIN_WORDS: usize = 4;
/// The model's threshold when it works alone (its best balance on the dev split).
const ALONE: f32 = 0.7;

/// Suffixes of ordinary words that a capital letter does not turn into a name.
/// (Endings shared with common given names, such as -ed, -ly, -ence or -ise, are left out:
/// Ahmed, Emily, Florence and Louise are names.)
const NOUN_SUFFIXES: &[&str] = &[
    "ing", "tion", "sion", "ment", "ness", "ity", "ism", "ship", "ies", "ics", "ogy", "ery",
    "able", "ible", "ful", "less", "ous",
];

impl<'a> Engine<'a> {
    pub(crate) fn new(
        rules: &'a RuleSet,
        severity: Vec<Option<Severity>>,
        concentration_severity: Option<Severity>,
        participants: &[String],
        allowed: &[String],
        method: Method,
        model_severity: Vec<Option<Severity>>,
    ) -> Self {
        let mut words = Vec::new();
        for p in participants {
            for w in p.split_whitespace() {
                let w = w
                    .trim_matches(|c: char| !c.is_alphanumeric())
                    .to_lowercase();
                if !w.is_empty() {
                    words.push(w);
                }
            }
        }
        Engine {
            rules,
            severity,
            concentration_severity,
            participants: words,
            allowed: allowed
                .iter()
                .map(|a| a.to_lowercase())
                .filter(|a| !a.is_empty())
                .collect(),
            toks: Vec::new(),
            ids: IdSet::with_capacity(rules.id_count),
            quoted: Vec::new(),
            exempt: Vec::new(),
            next_person: Vec::new(),
            possible: Vec::new(),
            subjects: HashMap::new(),
            total_subject_sentences: 0,
            method,
            model_severity,
            scratch: Scratch::default(),
        }
    }

    /// Lints one sentence (`range` in the block's prose text) with the rules, the model or
    /// both, as configured.
    pub(crate) fn sentence(&mut self, block: &Block, range: Range<usize>, out: &mut Vec<Pending>) {
        let first = out.len();
        if self.method != Method::Model {
            self.rule_sentence(block, range.clone(), out);
        }
        if self.method == Method::Rules || block.heading {
            return;
        }
        let text = &block.text[range.clone()];
        let model = Model::builtin();
        // A quoted phrase is mentioned, not used: the model reads the sentence without it.
        let unquoted = model::unquoted(text);
        let p = model.probability_with(&unquoted, &mut self.scratch);
        // A label or a table cell of a few words gives the model too little to read.
        if self.scratch.word_count() < MIN_WORDS {
            return;
        }
        let rules = self.rules;
        let is_blame = |p: &Pending| match p.source {
            Source::Rule(ri) => rules.rules[ri].info.category.is_blame(),
            Source::Concentration | Source::Model(_) => false,
        };
        let rule_blame = out[first..].iter().any(is_blame);
        if rule_blame {
            if p < VETO {
                // Keep the advisory findings (root cause, people fixes); drop the blame ones.
                let mut i = first;
                while i < out.len() {
                    if is_blame(&out[i]) {
                        out.remove(i);
                    } else {
                        i += 1;
                    }
                }
            }
            return;
        }
        let threshold = if self.method == Method::Model {
            ALONE
        } else {
            ADD
        };
        // Blame needs someone to blame: the model reports only sentences that name a person,
        // a role or a team (as the rules' lexicon and name detection see them), and not those
        // that deny a judgement ("not caused by anyone's negligence") or talk about blame.
        if p < threshold || self.scratch.negated_judgement() || !self.may_blame(text) {
            return;
        }
        let assessment = model.assess(&unquoted);
        let c = model::CATEGORIES
            .iter()
            .position(|&c| c == assessment.category)
            .unwrap_or(0);
        let Some(severity) = self.model_severity[c] else {
            return;
        };
        // Confident findings carry the configured severity (a warning by default); the rest
        // are one level lower (advice).
        let severity = if p >= WARN {
            severity
        } else {
            severity.lower()
        };
        let trimmed = text.trim_end();
        let lead = trimmed.len() - trimmed.trim_start().len();
        let span = range.start + lead..range.start + trimmed.len();
        let span = block.to_source(span);
        out.push(Pending {
            source: Source::Model(c),
            sentence: span.clone(),
            range: span,
            severity: if block.quoted {
                severity.lower()
            } else {
                severity
            },
            subject: Some(model::quote_words(&assessment.words)),
            count: 0,
        });
    }

    /// Runs the rules on one sentence.
    fn rule_sentence(&mut self, block: &Block, range: Range<usize>, out: &mut Vec<Pending>) {
        let text = &block.text[range.clone()];
        let rules = self.rules;
        // Most sentences of clean prose contain none of the words some pattern requires.
        if !rules.prefilter.may_match(&block.text, range.clone()) {
            return;
        }
        let mut toks = std::mem::take(&mut self.toks);
        let mut ids = std::mem::take(&mut self.ids);
        tokenize(text, &rules.lexicon, &mut toks);
        let classes = word_ids(&toks, &mut ids);
        self.lint_tokens(block, range, &mut toks, classes, &ids, out);
        self.toks = toks;
        self.ids = ids;
    }

    fn lint_tokens(
        &mut self,
        block: &Block,
        range: Range<usize>,
        toks: &mut [Token],
        classes: u128,
        ids: &IdSet,
        out: &mut Vec<Pending>,
    ) {
        let text = &block.text[range.clone()];
        let rules = self.rules;
        let open = rules.gates.open(classes, &ids.set);
        if open.is_empty() {
            return;
        }
        // A pattern is tried when its gate opened and all its required words occur.
        let possible_at =
            |bit: usize, p: &crate::pattern::Pattern| open.has(bit) && p.possible(classes, ids);
        let mut rule_possible = std::mem::take(&mut self.possible);
        rule_possible.clear();
        rule_possible.resize(rules.rules.len(), false);
        // Visit only the patterns whose gate opened (usually none or a few).
        for bit in open.bits() {
            if let Some(&(ri, pi)) = rules.pattern_owner.get(bit)
                && !rule_possible[ri]
                && self.severity[ri].is_some()
                && rules.rules[ri].patterns[pi].possible(classes, ids)
            {
                rule_possible[ri] = true;
            }
        }
        let any_rule = rule_possible.iter().any(|&p| p);
        let conc_first = rules.concentration_first;
        let any_conc = self.concentration_severity.is_some()
            && rules
                .concentration
                .patterns
                .iter()
                .enumerate()
                .any(|(i, p)| possible_at(conc_first + i, p));
        let possible = |p: &crate::pattern::Pattern| p.possible(classes, ids);
        if !any_rule && !any_conc {
            self.possible = rule_possible;
            return;
        }
        let has_person = self.mark_people(text, toks);
        let mut next_person = std::mem::take(&mut self.next_person);
        next_person.clear();
        next_person.resize(toks.len(), usize::MAX);
        let mut next = usize::MAX;
        for i in (0..toks.len()).rev() {
            if toks[i].classes & PERSON != 0 {
                next = i;
            }
            next_person[i] = next;
        }
        let toks: &[Token] = toks;
        let s = Sentence {
            toks,
            bits: &rules.bits,
            next_person: &next_person,
        };
        let mut context_ready = false;
        let mut subject: Option<(usize, usize)> = None;
        for (ri, rule) in rules.rules.iter().enumerate() {
            let Some(severity) = self.severity[ri] else {
                continue;
            };
            if !rule_possible[ri] {
                continue;
            }
            if rule.requires_person && !has_person {
                continue;
            }
            let mut found: Option<Match> = None;
            let candidates = rule.patterns.iter().enumerate();
            'patterns: for (_, p) in
                candidates.filter(|&(pi, p)| possible_at(rule.first_pattern + pi, p))
            {
                let mut from = 0;
                while let Some(m) = p.find(&s, from) {
                    from = m.start + 1;
                    if !context_ready {
                        self.prepare_context(text, &s, classes, ids);
                        context_ready = true;
                    }
                    if self.accept(text, &s, &m, rule.negatable) {
                        if found.as_ref().is_none_or(|f| m.focus.0 < f.focus.0) {
                            found = Some(m);
                        }
                        continue 'patterns;
                    }
                }
            }
            let Some(m) = found else { continue };
            // Checked after a match, as most sentences never get this far.
            if rule
                .unless
                .iter()
                .any(|p| possible(p) && p.find(&s, 0).is_some())
                || rule
                    .unless_after
                    .iter()
                    .any(|p| possible(p) && p.find(&s, m.start).is_some())
            {
                continue;
            }
            let span = toks[m.focus.0].start as usize..toks[m.focus.1 - 1].end as usize;
            let mut span = range.start + span.start..range.start + span.end;
            if rule.replacement.as_deref() == Some("") {
                // Deleting a word should take one neighbouring space with it.
                if block.text[span.end..].starts_with(' ') {
                    span.end += 1;
                }
            }
            let subject_text = m.person.map(|p| self.subject_text(text, toks, p));
            if subject.is_none() && rule.info.category.is_blame() {
                subject = m
                    .person
                    .filter(|&(a, b)| !self.is_pronoun_phrase(toks, a, b));
            }
            out.push(Pending {
                source: Source::Rule(ri),
                sentence: block.to_source(range.clone()),
                range: block.to_source(span.clone()),
                severity: if block.quoted {
                    severity.lower()
                } else {
                    severity
                },
                subject: subject_text,
                count: 0,
            });
        }
        if self.concentration_severity.is_some() {
            if subject.is_none() {
                let candidates = rules.concentration.patterns.iter().enumerate();
                for (_, p) in candidates.filter(|&(i, p)| possible_at(conc_first + i, p)) {
                    if let Some(m) = p.find(&s, 0)
                        && let Some(person) = m
                            .person
                            .filter(|&(a, b)| !self.is_pronoun_phrase(toks, a, b))
                        && !self.negated(toks, m.start)
                    {
                        subject = Some(person);
                        break;
                    }
                }
            }
            if let Some((a, b)) = subject {
                self.count_subject(block, &range, text, toks, a, b);
            }
        }
        self.possible = rule_possible;
        self.next_person = next_person;
    }

    /// Does the sentence name a person, a role or a team, without an exemption ("it would be
    /// easy to call this careless", "rather than blaming") that makes it talk about blame?
    fn may_blame(&mut self, text: &str) -> bool {
        let mut toks = std::mem::take(&mut self.toks);
        tokenize(text, &self.rules.lexicon, &mut toks);
        let mut any = self.mark_people(text, &mut toks);
        if any {
            let mut ids = std::mem::take(&mut self.ids);
            let classes = word_ids(&toks, &mut ids);
            let next_person = vec![usize::MAX; toks.len()];
            let s = Sentence {
                toks: &toks,
                bits: &self.rules.bits,
                next_person: &next_person,
            };
            any = !self
                .rules
                .exemptions
                .iter()
                .any(|p| p.possible(classes, &ids) && p.find(&s, 0).is_some());
            self.ids = ids;
        }
        self.toks = toks;
        any
    }

    /// Marks tokens that can name a person; returns whether the sentence mentions anyone.
    fn mark_people(&self, text: &str, toks: &mut [Token]) -> bool {
        let b = &self.rules.bits;
        let mut any = false;
        for i in 0..toks.len() {
            let t = toks[i];
            if t.kind != Kind::Word {
                continue;
            }
            let word = &text[t.start as usize..t.end as usize];
            let mut person = t.classes & (b.pronoun | b.role) != 0
                && (t.shape & ALL_CAPS == 0 || t.classes & b.role != 0);
            if !person && !self.participants.is_empty() {
                person = self.participants.iter().any(|p| {
                    p.eq_ignore_ascii_case(word) || (!word.is_ascii() && *p == word.to_lowercase())
                });
            }
            // A capitalised word is name-shaped when unknown, or when it is only an ordinary
            // word ("Mark", "Will", "June") used mid-sentence or with a possessive.
            let possessive = toks.get(i + 1).is_some_and(|n| n.id == b.id_s);
            let ordinary_only = t.classes & !b.common_only == 0;
            if !person
                && t.shape & CAP != 0
                && (t.id == 0 || (ordinary_only && (t.shape & INITIAL == 0 || possessive)))
            {
                person = self.name_shaped(word, t.shape & INITIAL != 0);
            }
            if person
                && !self.allowed.is_empty()
                && self.allowed.iter().any(|a| a.eq_ignore_ascii_case(word))
            {
                person = false;
            }
            // "they" stands for the nearest plural noun before it, which may be a system
            // ("the pods restarted because they failed ...").
            if person && b.they_ids.contains(&t.id) {
                let antecedent = toks[..i].iter().rev().find(|p| {
                    p.kind == Kind::Word
                        && p.classes & (b.role | SYSTEM) != 0
                        && text.as_bytes()[p.end as usize - 1] == b's'
                });
                person = antecedent.is_none_or(|p| p.classes & b.role != 0);
            }
            let neg = t.classes & b.neg_person != 0
                || (t.id == b.id_one && i > 0 && toks[i - 1].id == b.id_no);
            if neg {
                toks[i].classes |= NEG_PERSON;
            } else if person {
                toks[i].classes |= PERSON;
            }
            any |= person || neg || t.classes & b.poss_pronoun != 0;
        }
        any
    }

    /// A capitalised word not in the lexicon: a name unless it is shaped like an ordinary word.
    fn name_shaped(&self, word: &str, initial: bool) -> bool {
        // Suffix tests only look at the (ASCII, lower-case) tail of a capitalised word.
        let lower = word;
        if word.chars().count() < 2
            || !word
                .chars()
                .all(|c| c.is_alphabetic() || c == '-' || c == '\'')
        {
            return false;
        }
        if NOUN_SUFFIXES
            .iter()
            .any(|s| lower.ends_with(s) && lower.len() > s.len() + 2)
        {
            return false;
        }
        // Sentence-initial plurals ("Retries", "Deploys") are nouns; names rarely end that way.
        if initial
            && lower.ends_with('s')
            && !["as", "os", "us", "is"].iter().any(|s| lower.ends_with(s))
        {
            return false;
        }
        true
    }

    fn is_pronoun_phrase(&self, toks: &[Token], a: usize, b: usize) -> bool {
        let bits = &self.rules.bits;
        toks[a..b].iter().all(|t| {
            t.classes & (bits.pronoun | bits.poss_pronoun | bits.det) != 0 || t.id == bits.id_s
        })
    }

    /// Quotation and exemption context, computed only when some pattern matched.
    fn prepare_context(&mut self, text: &str, s: &Sentence<'_>, classes: u128, ids: &IdSet) {
        quote_flags(text, s.toks, &mut self.quoted);
        self.exempt.clear();
        for p in self
            .rules
            .exemptions
            .iter()
            .filter(|p| p.possible(classes, ids))
        {
            let mut from = 0;
            while let Some(m) = p.find(s, from) {
                let end = (m.end..s.toks.len())
                    .find(|&i| s.toks[i].classes & CLAUSE != 0)
                    .unwrap_or(s.toks.len());
                self.exempt.push(m.start..end);
                from = m.start + 1;
            }
        }
    }

    fn accept(&self, text: &str, s: &Sentence<'_>, m: &Match, negatable: bool) -> bool {
        if negatable && self.negated(s.toks, m.start) {
            return false;
        }
        if self.quoted.get(m.focus.0).copied().unwrap_or(false) {
            return false;
        }
        if self
            .exempt
            .iter()
            .any(|r| r.contains(&m.focus.0) || r.contains(&m.start))
        {
            return false;
        }
        if !self.allowed.is_empty() {
            let span = text
                [s.toks[m.start].start as usize..s.toks[m.end.max(m.start + 1) - 1].end as usize]
                .to_lowercase();
            if self.allowed.iter().any(|a| span.contains(a.as_str())) {
                return false;
            }
        }
        true
    }

    /// Is there a negator shortly before token `start`, in the same clause?
    fn negated(&self, toks: &[Token], start: usize) -> bool {
        let b = &self.rules.bits;
        let lo = start.saturating_sub(6);
        for t in toks[lo..start].iter().rev() {
            if t.classes & CLAUSE != 0 || t.id == b.id_but || t.id == b.id_yet {
                return false;
            }
            if t.classes & (NEG | NEG_PERSON) != 0 {
                return true;
            }
        }
        false
    }

    /// The text of a person phrase for messages: without a trailing possessive, and with a
    /// sentence-initial determiner lower-cased ("the on-call engineer").
    fn subject_text(&self, text: &str, toks: &[Token], (a, mut b): (usize, usize)) -> String {
        let bits = &self.rules.bits;
        while b > a + 1 && (toks[b - 1].id == bits.id_s || toks[b - 1].id == bits.id_apos) {
            b -= 1;
        }
        let mut out = text[toks[a].start as usize..toks[b - 1].end as usize].to_string();
        if toks[a].classes & (bits.det | bits.pronoun) != 0
            && toks[a].shape & CAP != 0
            && out != "I"
        {
            let first = out.chars().next().map(|c| c.len_utf8()).unwrap_or(0);
            out = out[..first].to_lowercase() + &out[first..];
        }
        out
    }

    fn count_subject(
        &mut self,
        block: &Block,
        range: &Range<usize>,
        text: &str,
        toks: &[Token],
        a: usize,
        b: usize,
    ) {
        let bits = &self.rules.bits;
        let mut key = String::new();
        let mut start = a;
        for (i, t) in toks[a..b].iter().enumerate() {
            if t.classes & bits.det != 0 && key.is_empty() {
                start = a + i + 1;
                continue;
            }
            if t.id == bits.id_s || t.id == bits.id_apos {
                continue;
            }
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(&text[t.start as usize..t.end as usize].to_lowercase());
        }
        if key.is_empty() || start >= b {
            return;
        }
        let display = self.subject_text(text, toks, (start, b));
        let span = range.start + toks[start].start as usize..range.start + toks[b - 1].end as usize;
        self.total_subject_sentences += 1;
        let seen = self.subjects.len();
        let entry = self.subjects.entry(key).or_insert_with(|| Subject {
            display,
            count: 0,
            first: block.to_source(span),
            first_seen: seen,
        });
        entry.count += 1;
    }

    /// The document-level finding, if one subject dominates the failure sentences.
    pub(crate) fn finish(&self) -> Option<Pending> {
        let severity = self.concentration_severity?;
        let top = self
            .subjects
            .values()
            .max_by_key(|s| (s.count, std::cmp::Reverse(s.first_seen)))?;
        let min = self.rules.concentration.min_sentences;
        if top.count >= min && top.count * 2 > self.total_subject_sentences {
            Some(Pending {
                source: Source::Concentration,
                sentence: top.first.clone(),
                range: top.first.clone(),
                severity,
                subject: Some(top.display.clone()),
                count: top.count,
            })
        } else {
            None
        }
    }
}

/// Collects the lexicon ids of a sentence's tokens into `ids` and returns the union of their
/// classes: what the gates and patterns need to know which rules could match.
fn word_ids(toks: &[Token], ids: &mut IdSet) -> u128 {
    ids.clear();
    let mut classes = 0u128;
    for t in toks {
        classes |= t.classes;
        if t.id != 0 {
            ids.insert(t.id);
        }
    }
    classes
}

/// Marks tokens inside quotation marks: a quoted blame phrase is being mentioned, not used.
fn quote_flags(text: &str, toks: &[Token], out: &mut Vec<bool>) {
    out.clear();
    out.resize(toks.len(), false);
    let mut open: Option<(usize, char)> = None;
    let n = toks.len();
    for (i, t) in toks.iter().enumerate() {
        if t.kind != Kind::Punct {
            continue;
        }
        let Some(c) = text[t.start as usize..].chars().next() else {
            continue;
        };
        let attached_before =
            i > 0 && toks[i - 1].end == t.start && toks[i - 1].kind != Kind::Punct;
        let attached_after =
            i + 1 < n && toks[i + 1].start == t.end && toks[i + 1].kind != Kind::Punct;
        let close =
            |out: &mut Vec<bool>, o: usize| out[o + 1..i].iter_mut().for_each(|f| *f = true);
        match (c, open) {
            ('"', Some((o, '"'))) | ('”', Some((o, '“'))) => {
                close(out, o);
                open = None;
            }
            ('"' | '“', None) => open = Some((i, c)),
            ('\'' | '’', Some((o, '\'' | '‘'))) if attached_before => {
                close(out, o);
                open = None;
            }
            ('\'' | '‘', None) if attached_after && !attached_before => open = Some((i, '\'')),
            _ => {}
        }
    }
}
