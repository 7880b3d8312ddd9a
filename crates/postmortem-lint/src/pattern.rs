//! The rule pattern language: parsing a pattern string into elements, and matching it against
//! the tokens of one sentence with a small bounded backtracking matcher.
//!
//! Every element consumes at most a handful of tokens (gaps and noun phrases are bounded), so a
//! match attempt is constant work and scanning a sentence is linear in its length.

use crate::rules::{Bits, CLAUSE, Lexicon, NEG_PERSON, PERSON};
use crate::token::{Kind, Token};

/// One alternative set: a token matches when its id is listed or it has one of the classes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Alt {
    ids: Vec<u32>,
    classes: u128,
    /// One bit per id (`id % 64`): a one-word Bloom filter for the pre-check.
    bloom: u64,
}

impl Alt {
    /// The literal words' lexicon ids.
    pub(crate) fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The classes, any of which matches.
    pub(crate) fn classes(&self) -> u128 {
        self.classes
    }

    #[inline]
    pub(crate) fn hit(&self, t: &Token) -> bool {
        (t.classes & self.classes != 0 && t.kind != Kind::Code)
            || (t.id != 0 && self.ids.contains(&t.id))
    }

    /// Could this alternative match any token of a sentence with these classes and ids?
    #[inline]
    pub(crate) fn possible(&self, classes: u128, ids: &IdSet) -> bool {
        self.classes & classes != 0
            || (self.bloom & ids.bloom != 0 && self.ids.iter().any(|&id| ids.contains(id)))
    }
}

/// A quick sentence filter: one of its classes or words must occur for anything behind it to
/// match. Built from the most selective required word of each pattern.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gate {
    classes: u128,
    words: Vec<u64>,
}

impl Gate {
    pub(crate) fn add(&mut self, alt: &Alt) {
        self.classes |= alt.classes;
        for &id in &alt.ids {
            let w = (id / 64) as usize;
            if self.words.len() <= w {
                self.words.resize(w + 1, 0);
            }
            self.words[w] |= 1 << (id % 64);
        }
    }

    /// Every class bit and word id that opens this gate.
    pub(crate) fn parts(&self) -> (u128, impl Iterator<Item = u32> + '_) {
        let ids = self.words.iter().enumerate().flat_map(|(w, &bits)| {
            (0..64)
                .filter(move |b| bits & (1 << b) != 0)
                .map(move |b| (w * 64 + b) as u32)
        });
        (self.classes, ids)
    }

    /// Matches everything (for patterns without a required word).
    pub(crate) fn open() -> Gate {
        Gate {
            classes: u128::MAX,
            words: Vec::new(),
        }
    }
}

#[derive(Debug, Clone)]
enum Elem {
    Tok(Alt),
    Opt(Alt),
    Not(Alt),
    Person { poss: bool },
    Gap(u8),
    ClauseStart,
    FocusStart,
    FocusEnd,
}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    elems: Vec<Elem>,
    /// Required token alternatives: when some of them matches no token of the sentence, the
    /// pattern cannot match, and the sentence is skipped without trying.
    anchors: Vec<Alt>,
    /// The pattern starts with `<person>` in subject position.
    subject_first: bool,
}

/// A set of lexicon ids present in a sentence.
#[derive(Debug, Default)]
pub(crate) struct IdSet {
    words: Vec<u64>,
    pub(crate) set: Vec<u32>,
    /// Bit `id % 64` for every id present.
    bloom: u64,
}

impl IdSet {
    pub(crate) fn with_capacity(ids: usize) -> Self {
        IdSet {
            words: vec![0; ids / 64 + 1],
            set: Vec::new(),
            bloom: 0,
        }
    }
    #[inline]
    pub(crate) fn insert(&mut self, id: u32) {
        let (w, b) = ((id / 64) as usize, id % 64);
        self.bloom |= 1 << b;
        if let Some(word) = self.words.get_mut(w)
            && *word & (1 << b) == 0
        {
            *word |= 1 << b;
            self.set.push(id);
        }
    }
    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        let (w, b) = ((id / 64) as usize, id % 64);
        self.words.get(w).is_some_and(|word| word & (1 << b) != 0)
    }
    pub(crate) fn clear(&mut self) {
        self.bloom = 0;
        for id in self.set.drain(..) {
            self.words[(id / 64) as usize] = 0;
        }
    }
}

/// The result of one match, in token indices.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Match {
    pub start: usize,
    pub end: usize,
    pub focus: (usize, usize),
    pub person: Option<(usize, usize)>,
}

/// What the matcher needs to know about a sentence.
#[derive(Debug)]
pub(crate) struct Sentence<'a> {
    pub toks: &'a [Token],
    pub bits: &'a Bits,
    /// For each token, the index of the first person token at or after it (`usize::MAX`: none).
    pub next_person: &'a [usize],
}

#[derive(Default)]
struct State {
    person: Option<(usize, usize)>,
    focus_start: Option<usize>,
    focus_end: Option<usize>,
    end: usize,
}

fn parse_alt(src: &str, lex: &mut Lexicon) -> Result<Alt, String> {
    let mut alt = Alt::default();
    for part in src.split('|') {
        if part.is_empty() {
            return Err("empty alternative".into());
        }
        if let Some(name) = part.strip_prefix('@') {
            alt.classes |= lex
                .class_for_pattern(name)
                .ok_or_else(|| format!("unknown class @{name}"))?;
        } else {
            if part.chars().any(|c| c.is_uppercase()) {
                return Err(format!("literal `{part}` must be lower-case"));
            }
            let id = lex.intern(part);
            alt.ids.push(id);
            alt.bloom |= 1 << (id % 64);
        }
    }
    Ok(alt)
}

impl Pattern {
    pub(crate) fn parse(src: &str, lex: &mut Lexicon) -> Result<Pattern, String> {
        let mut elems = Vec::new();
        for piece in src.split_whitespace() {
            let elem = match piece {
                "[" => Elem::FocusStart,
                "]" => Elem::FocusEnd,
                "^" => Elem::ClauseStart,
                "<person>" => Elem::Person { poss: false },
                "<person's>" => Elem::Person { poss: true },
                _ if piece.starts_with('~') => {
                    let n: u8 = piece[1..]
                        .parse()
                        .map_err(|_| format!("bad gap `{piece}`"))?;
                    Elem::Gap(n)
                }
                _ if piece.starts_with('!') && piece.len() > 1 => {
                    Elem::Not(parse_alt(&piece[1..], lex)?)
                }
                _ if piece.ends_with('?') && piece.len() > 1 => {
                    Elem::Opt(parse_alt(&piece[..piece.len() - 1], lex)?)
                }
                _ if piece.starts_with('<') => return Err(format!("unknown element `{piece}`")),
                _ => Elem::Tok(parse_alt(piece, lex)?),
            };
            elems.push(elem);
        }
        let tokens = elems
            .iter()
            .filter(|e| {
                matches!(
                    e,
                    Elem::Tok(_) | Elem::Opt(_) | Elem::Person { .. } | Elem::Gap(_)
                )
            })
            .count();
        if tokens == 0 {
            return Err("pattern matches no tokens".into());
        }
        let focus = elems
            .iter()
            .filter(|e| matches!(e, Elem::FocusStart | Elem::FocusEnd))
            .count();
        if focus != 0 && focus != 2 {
            return Err("unbalanced [ ]".into());
        }
        let anchors = elems
            .iter()
            .filter_map(|e| match e {
                Elem::Tok(a) => Some(a.clone()),
                _ => None,
            })
            .collect();
        let subject_first = matches!(elems.first(), Some(Elem::Person { poss: false }));
        Ok(Pattern {
            elems,
            anchors,
            subject_first,
        })
    }

    /// The gate of this pattern: its required word alternative judged rarest (frequent
    /// classes and words such as determiners or "to" make a poor gate).
    pub(crate) fn gate(&self, common_classes: u128, common_id: impl Fn(u32) -> bool) -> Gate {
        let score = |a: &Alt| {
            let common = a.classes & common_classes != 0 || a.ids.iter().any(|&id| common_id(id));
            usize::from(common) * 10_000 + a.classes.count_ones() as usize * 20 + a.ids.len()
        };
        match self.anchors.iter().min_by_key(|a| score(a)) {
            Some(best) => {
                let mut g = Gate::default();
                g.add(best);
                g
            }
            None => Gate::open(),
        }
    }

    /// The required token alternatives.
    pub(crate) fn anchors(&self) -> &[Alt] {
        &self.anchors
    }

    /// Cheap pre-check: false when the pattern cannot match this sentence.
    #[inline]
    pub(crate) fn possible(&self, classes: u128, ids: &IdSet) -> bool {
        self.anchors.iter().all(|a| a.possible(classes, ids))
    }

    /// Can a match start at token `i`? A cheap test on the first element, so that most start
    /// positions cost one comparison. `next_person[i]` is the index of the first person token
    /// at or after `i`.
    #[inline]
    fn may_start(&self, s: &Sentence<'_>, i: usize) -> bool {
        match self.elems.first() {
            Some(Elem::Tok(a)) => a.hit(&s.toks[i]),
            Some(Elem::Person { poss }) => {
                let t = &s.toks[i];
                (*poss && t.classes & s.bits.poss_pronoun != 0) || s.next_person[i] <= i + 4
            }
            _ => true,
        }
    }

    /// The first match starting at or after token `from`.
    pub(crate) fn find(&self, s: &Sentence<'_>, from: usize) -> Option<Match> {
        for start in from..s.toks.len() {
            if !self.may_start(s, start) || (self.subject_first && !subject_position(s, start)) {
                continue;
            }
            let mut st = State::default();
            if self.m(s, 0, start, &mut st) {
                let focus = match (st.focus_start, st.focus_end) {
                    (Some(a), Some(b)) if b > a => (a, b),
                    _ => (start, st.end),
                };
                return Some(Match {
                    start,
                    end: st.end,
                    focus,
                    person: st.person,
                });
            }
        }
        None
    }

    fn m(&self, s: &Sentence<'_>, ei: usize, ti: usize, st: &mut State) -> bool {
        let toks = s.toks;
        let n = toks.len();
        let Some(elem) = self.elems.get(ei) else {
            st.end = ti;
            return true;
        };
        match elem {
            Elem::Tok(a) => ti < n && a.hit(&toks[ti]) && self.m(s, ei + 1, ti + 1, st),
            Elem::Opt(a) => {
                (ti < n && a.hit(&toks[ti]) && self.m(s, ei + 1, ti + 1, st))
                    || self.m(s, ei + 1, ti, st)
            }
            Elem::Not(a) => !(ti < n && a.hit(&toks[ti])) && self.m(s, ei + 1, ti, st),
            Elem::Gap(k) => {
                for g in 0..=usize::from(*k) {
                    let t = ti + g;
                    if t > n || (g > 0 && toks[t - 1].classes & CLAUSE != 0) {
                        break;
                    }
                    if self.m(s, ei + 1, t, st) {
                        return true;
                    }
                }
                false
            }
            Elem::ClauseStart => {
                (ti == 0 || toks[ti - 1].classes & CLAUSE != 0) && self.m(s, ei + 1, ti, st)
            }
            Elem::FocusStart | Elem::FocusEnd => {
                let slot = if matches!(elem, Elem::FocusStart) {
                    &mut st.focus_start
                } else {
                    &mut st.focus_end
                };
                let saved = slot.replace(ti);
                if self.m(s, ei + 1, ti, st) {
                    return true;
                }
                if matches!(elem, Elem::FocusStart) {
                    st.focus_start = saved;
                } else {
                    st.focus_end = saved;
                }
                false
            }
            Elem::Person { poss } => {
                let mut ends = Ends::default();
                noun_phrase_ends(s, ti, *poss, &mut ends);
                for &end in &ends.buf[..ends.len] {
                    let saved = st.person.replace((ti, end));
                    if self.m(s, ei + 1, end, st) {
                        return true;
                    }
                    st.person = saved;
                }
                false
            }
        }
    }
}

#[derive(Default)]
struct Ends {
    buf: [usize; 24],
    len: usize,
}

impl Ends {
    fn push(&mut self, end: usize) {
        if self.len < self.buf.len() && !self.buf[..self.len].contains(&end) {
            self.buf[self.len] = end;
            self.len += 1;
        }
    }
}

#[inline]
fn is_word(t: &Token) -> bool {
    t.kind != Kind::Punct
}

#[inline]
fn is_det(t: &Token, b: &Bits) -> bool {
    t.kind == Kind::Word && t.classes & b.det != 0
}

/// A word that can sit inside a noun phrase before its head ("the *on-call* engineer").
#[inline]
fn is_modifier(t: &Token, b: &Bits) -> bool {
    is_word(t) && t.classes & b.nonmod == 0
}

/// Can a subject noun phrase start at token `i`? Not right after a determiner, a preposition
/// or a possessive ("the cache for *the on-call engineer*"), and not in the middle of a role
/// noun phrase ("the on-call *engineer*" when the phrase starts earlier).
pub(crate) fn subject_position(s: &Sentence<'_>, i: usize) -> bool {
    if i == 0 {
        return true;
    }
    let b = s.bits;
    let prev = &s.toks[i - 1];
    if prev.kind == Kind::Punct {
        return true;
    }
    prev.classes & (b.det | b.prep | b.poss_pronoun | b.role) == 0 && prev.id != b.id_s
}

/// Candidate ends of a noun phrase naming a person that starts at token `ti`.
///
/// Pronouns and names head their phrase alone; role nouns may follow a determiner and up to
/// three modifiers ("the secondary on-call", "our platform team"). A subject phrase may carry
/// a short trailing prepositional phrase ("someone on the platform team", "the author of the
/// migration"). A possessor ends with `'s` (or `'` after a plural) or is a possessive pronoun.
fn noun_phrase_ends(s: &Sentence<'_>, ti: usize, poss: bool, out: &mut Ends) {
    let toks = s.toks;
    let b = s.bits;
    let n = toks.len();
    if ti >= n {
        return;
    }
    let first = &toks[ti];
    if poss && first.kind == Kind::Word && first.classes & b.poss_pronoun != 0 {
        out.push(ti + 1);
    }
    if first.classes & (NEG_PERSON | crate::rules::NEG) != 0 {
        return;
    }
    for h in ti..n.min(ti + 5) {
        if h > ti {
            let p = &toks[h - 1];
            let ok = if h - 1 == ti {
                is_det(p, b) || is_modifier(p, b)
            } else {
                is_modifier(p, b)
            };
            if !ok {
                break;
            }
        }
        let t = &toks[h];
        if t.classes & PERSON == 0 || (h > ti && t.classes & b.role == 0) {
            continue;
        }
        if poss {
            if let Some(next) = toks.get(h + 1) {
                let attached = next.start == t.end;
                if next.id == b.id_s || (attached && next.id == b.id_apos) {
                    out.push(h + 2);
                }
            }
        } else {
            out.push(h + 1);
            if toks
                .get(h + 1)
                .is_some_and(|p| b.relative_ids.contains(&p.id))
            {
                let clause = toks.iter().enumerate().take(n.min(h + 8)).skip(h + 2);
                for (k, tk) in clause {
                    if tk.kind == Kind::Punct {
                        break;
                    }
                    out.push(k + 1);
                }
            }
            if toks.get(h + 1).is_some_and(|p| b.pp_ids.contains(&p.id)) {
                let tail = toks.iter().enumerate().take(n.min(h + 6)).skip(h + 2);
                for (k, tk) in tail {
                    if !(is_modifier(tk, b) || is_det(tk, b)) {
                        break;
                    }
                    out.push(k + 1);
                }
            }
        }
    }
}
