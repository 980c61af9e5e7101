//! What the compiled rules require of a record's text, derived from the rules themselves:
//! the resource index (which rules can match a given `objectRef.resource`), and a literal
//! prefilter that skips records no rule could match before they are decoded.
//!
//! The prefilter is exact by construction: for every rule it keeps clauses of literals such
//! that a matching record must contain at least one literal of each clause (case-insensitively),
//! and a record is decoded when some rule has every kept clause satisfied. A literal from an
//! equality test must stand as a whole JSON scalar (`"create"`, not the `create` inside
//! `createdBy`), one from `startswith` at a scalar's start, one from `endswith` at its end.
//! Where that reasoning does not hold it does not skip: records with JSON escapes that could
//! spell a literal or a scalar's boundary differently (`\u`, `\/`, at any depth of strings
//! holding JSON), non-ASCII text (Unicode case folding), records whose fields are mapped rather
//! than copied (GKE `protoPayload`), and anything not a JSON object. Values the matcher
//! rewrites (a nested body value re-serialized, a computed field) give no literal, or one that
//! may stand anywhere.

use super::Rule;
use super::condition::Cond;
use super::matcher::{FieldRef, Item, Matcher, Op, StrKind, Test};
use super::sigma::Detection;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::BTreeSet;

/// Text that marks a record whose event fields are derived, not copied (so a rule's literal
/// need not appear in it). Every decoder that maps values must add its marker here.
pub static MAPPED_FORMAT_MARKERS: &[&str] = &["protoPayload"];

/// What [`LiteralFinder::each_hit`] reports for a mapped format's mark.
const MAPPED_FORMAT: usize = usize::MAX;

/// The `objectRef.resource` values (lowercase) a detection can only match, if it has such a set.
pub fn required_resources(d: &Detection) -> Option<BTreeSet<String>> {
    cond_resources(&d.condition, d)
}

fn cond_resources(c: &Cond, d: &Detection) -> Option<BTreeSet<String>> {
    match c {
        Cond::Sel(i) => matcher_resources(&d.selections[*i]),
        Cond::Not(_) => None,
        Cond::And(cs) => cs
            .iter()
            .filter_map(|c| cond_resources(c, d))
            .min_by_key(BTreeSet::len),
        Cond::Or(cs) => union_all(cs.iter().map(|c| cond_resources(c, d))),
    }
}

fn union_all(sets: impl Iterator<Item = Option<BTreeSet<String>>>) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for s in sets {
        out.extend(s?);
    }
    Some(out)
}

fn matcher_resources(m: &Matcher) -> Option<BTreeSet<String>> {
    match m {
        Matcher::Item(item) if item.field.is_catalog("objectRef.resource") => match &item.test {
            Test::Values {
                ops,
                neq: false,
                or_null: false,
                ..
            } => ops
                .iter()
                .map(|op| match op {
                    Op::Str {
                        kind: StrKind::Eq,
                        needle,
                        ..
                    } => Some(needle.to_lowercase()),
                    Op::IntEq(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            _ => None,
        },
        Matcher::Item(_) | Matcher::Not(_) => None,
        Matcher::And(ms) => ms
            .iter()
            .filter_map(matcher_resources)
            .min_by_key(BTreeSet::len),
        Matcher::Or(ms) => union_all(ms.iter().map(matcher_resources)),
    }
}

/// Where in the record's text a literal must stand for a rule to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bounds {
    /// Anywhere: `contains`, keywords, regular expressions, values computed from part of
    /// another value.
    Anywhere,
    /// At the start of a JSON scalar (`startswith`). `bare`: the scalar may be a number or
    /// boolean as well as a string; otherwise a quote must open it.
    Start { bare: bool },
    /// At the end of one (`endswith`).
    End { bare: bool },
    /// A whole JSON scalar (equality).
    Whole { bare: bool },
    /// An integer's digits, ending a scalar and starting one after any sign and leading
    /// zeros (an integer test also accepts the number as text: `" +0401"` parses as 401).
    Digits,
}

/// Text a matching record must contain (lowercase), and where.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Literal {
    pub text: String,
    pub bounds: Bounds,
}

impl Literal {
    fn new(text: impl Into<String>, bounds: Bounds) -> Literal {
        Literal {
            text: text.into(),
            bounds,
        }
    }

    fn anywhere(text: impl Into<String>) -> Literal {
        Literal::new(text, Bounds::Anywhere)
    }
}

impl std::fmt::Display for Literal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (open, close) = match self.bounds {
            Bounds::Anywhere
            | Bounds::Digits
            | Bounds::Start { bare: true }
            | Bounds::End { bare: true }
            | Bounds::Whole { bare: true } => ("", ""),
            Bounds::Start { bare: false } => ("\"", ""),
            Bounds::End { bare: false } => ("", "\""),
            Bounds::Whole { bare: false } => ("\"", "\""),
        };
        write!(f, "{open}{}{close}", self.text)
    }
}

/// Literals, one of which must appear.
type Clause = BTreeSet<Literal>;

fn usable(lit: &str) -> bool {
    !lit.is_empty() && !lit.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

/// How a field's values relate to the record's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Each value is one whole JSON value as written.
    Verbatim,
    /// A value inside a body, which may be a nested object the matcher re-serializes
    /// compactly (`{"a":1}` where the record says `{"a": 1}`).
    Body,
    /// Computed from part of another value.
    Derived,
}

fn field_source(field: &FieldRef) -> Option<Source> {
    match field {
        FieldRef::Catalog(def) if def.is_verbatim() => Some(Source::Verbatim),
        FieldRef::Catalog(_) | FieldRef::Raw => Some(Source::Derived),
        FieldRef::Annotation(_) => Some(Source::Verbatim),
        FieldRef::UserExtra(_) | FieldRef::BodyPath { .. } | FieldRef::BodyAnywhere { .. } => {
            Some(Source::Body)
        }
        // Decoded values are not the record's text (`%2Fvar%2Frun…`, base64): no literal.
        FieldRef::ExecCommand | FieldRef::CsrStrings => None,
    }
}

/// The literal a string test needs. Bounds apply only where the value is a whole scalar of the
/// text, and not to needles that read as non-integer numbers (the matcher compares a float in
/// its own spelling: `1.50` is `1.5`).
fn str_literal(kind: StrKind, needle: &str, source: Source) -> Option<Literal> {
    let text = needle.to_lowercase();
    let number_spelling = spells_a_number(&text);
    let float_like = text.parse::<f64>().is_ok() && text.parse::<i64>().is_err();
    // Whether the needle can be (part of) a number or boolean as written, which stands without
    // quotes: the matcher compares those by their text too.
    let bare = |whole: bool| {
        number_spelling
            || ["true", "false"].iter().any(|word| {
                if whole {
                    *word == text
                } else {
                    word.contains(&text)
                }
            })
    };
    let bounds = match kind {
        _ if source == Source::Derived || float_like => Bounds::Anywhere,
        StrKind::Eq => Bounds::Whole { bare: bare(true) },
        StrKind::Prefix => Bounds::Start { bare: bare(false) },
        StrKind::Suffix => Bounds::End { bare: bare(false) },
        StrKind::Contains => Bounds::Anywhere,
    };
    usable_in(&text, bounds, source).then(|| Literal::new(text, bounds))
}

/// Whether a literal can be expected in the text. Inside a body a nested value is compared as
/// its compact serialization, whose punctuation the record may space differently: a literal
/// found anywhere must hold none of it. (A bounded literal cannot equal, start or end such a
/// serialization without a bracket, which is refused.)
fn usable_in(text: &str, bounds: Bounds, source: Source) -> bool {
    let structural = |c: char| matches!(c, '{' | '}' | '[' | ']');
    usable(text)
        // A number inside a body is compared as serde_json writes it again (`1e2` is
        // `100.0`), whose characters the record need not hold at all.
        && !(source == Source::Body && spells_a_number(text))
        && !(source == Source::Body
            && text
                .chars()
                .any(|c| structural(c) || (bounds == Bounds::Anywhere && matches!(c, ',' | ':'))))
        && !(bounds != Bounds::Anywhere && text.chars().any(structural))
}

/// Whether `text` is made only of what numbers are written with.
fn spells_a_number(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b".eE+-".contains(&b))
}

fn op_literals(op: &Op, source: Source) -> Option<Clause> {
    let lits: Clause = match op {
        Op::Str { kind, needle, .. } => [str_literal(*kind, needle, source)?].into(),
        Op::AnyContains { needles, .. } => needles
            .iter()
            .map(|n| {
                let text = n.to_lowercase();
                usable_in(&text, Bounds::Anywhere, source).then(|| Literal::anywhere(text))
            })
            .collect::<Option<_>>()?,
        // The digits alone: `-05` is -5 as text. Anywhere in a value computed from part of
        // another (`system:serviceaccount:123:x`).
        Op::IntEq(n) => {
            let bounds = match source {
                Source::Derived => Bounds::Anywhere,
                _ => Bounds::Digits,
            };
            [Literal::new(n.unsigned_abs().to_string(), bounds)].into()
        }
        Op::Regex { literals, .. } => {
            let text = literals.iter().max_by_key(|l| l.len())?.clone();
            usable_in(&text, Bounds::Anywhere, source).then_some(())?;
            [Literal::anywhere(text)].into()
        }
        _ => return None,
    };
    Some(lits)
}

fn matcher_cnf(m: &Matcher) -> Vec<Clause> {
    match m {
        Matcher::Item(item) => {
            let mut clauses = item_value_cnf(item);
            // A key found anywhere in a body is a key in the record's own JSON text, so any
            // positive test of it needs its name there (`hostPath: '*'` needs `"hostPath"`).
            if let FieldRef::BodyAnywhere { key, .. } = &item.field {
                let positive = matches!(
                    item.test,
                    Test::Exists(true)
                        | Test::Values {
                            neq: false,
                            or_null: false,
                            ..
                        }
                );
                let key = key.to_lowercase();
                let bounds = Bounds::Whole { bare: false };
                if positive && usable_in(&key, bounds, Source::Verbatim) {
                    clauses.push([Literal::new(key, bounds)].into());
                }
            }
            clauses
        }
        Matcher::Not(_) => Vec::new(),
        Matcher::And(ms) => ms.iter().flat_map(matcher_cnf).collect(),
        Matcher::Or(ms) => or_clauses(ms.iter().map(matcher_cnf)),
    }
}

/// The clauses an item's values give.
fn item_value_cnf(item: &Item) -> Vec<Clause> {
    let Some(source) = field_source(&item.field) else {
        return Vec::new();
    };
    match &item.test {
        Test::Values {
            ops,
            all,
            neq: false,
            or_null: false,
        } => {
            if *all {
                ops.iter()
                    .filter_map(|op| op_literals(op, source))
                    .collect()
            } else {
                any_of(ops.iter().map(|op| op_literals(op, source)))
            }
        }
        _ => Vec::new(),
    }
}

/// An OR is implied by one clause: the union of one clause from each side.
fn or_clauses(children: impl Iterator<Item = Vec<Clause>>) -> Vec<Clause> {
    any_of(children.map(best))
}

/// The one clause that holds when any of the alternatives holds: their union. Nothing when an
/// alternative gives no clause (it could match without any literal).
fn any_of(alternatives: impl Iterator<Item = Option<Clause>>) -> Vec<Clause> {
    let mut union = Clause::new();
    for alternative in alternatives {
        match alternative {
            Some(c) => union.extend(c),
            None => return Vec::new(),
        }
    }
    if union.is_empty() {
        Vec::new()
    } else {
        vec![union]
    }
}

/// Replaces literals that share a common part by that part (`/bin/sh`, `/bin/bash` → `/bin/`),
/// so a long contains-list costs the scan a few patterns instead of dozens. Exact: a record
/// holding a literal holds every part of it, anywhere.
fn generalize(clause: Clause) -> Clause {
    const MIN_PART: usize = 4;
    if clause.len() <= 8 {
        return clause;
    }
    let mut texts: BTreeSet<String> = clause.into_iter().map(|l| l.text).collect();
    loop {
        let mut best: Option<(usize, String)> = None;
        for lit in &texts {
            let bytes = lit.as_bytes();
            for start in 0..bytes.len() {
                for end in start + MIN_PART..=bytes.len().min(start + 12) {
                    let Ok(part) = std::str::from_utf8(&bytes[start..end]) else {
                        continue;
                    };
                    let covered = texts.iter().filter(|l| l.contains(part)).count();
                    let better = best.as_ref().is_none_or(|(n, p)| {
                        covered > *n || (covered == *n && part.len() > p.len())
                    });
                    if covered >= 2 && better {
                        best = Some((covered, part.to_owned()));
                    }
                }
            }
        }
        let Some((_, part)) = best else {
            return texts.into_iter().map(Literal::anywhere).collect();
        };
        texts.retain(|l| !l.contains(&part));
        texts.insert(part);
    }
}

/// The most selective clause: longest shortest literal, then fewest literals.
fn best(cnf: Vec<Clause>) -> Option<Clause> {
    cnf.into_iter().max_by_key(selectivity)
}

fn selectivity(c: &Clause) -> (usize, usize) {
    (
        c.iter().map(|l| l.text.len()).min().unwrap_or(0),
        usize::MAX - c.len(),
    )
}

fn cond_cnf(c: &Cond, d: &Detection) -> Vec<Clause> {
    match c {
        Cond::Sel(i) => matcher_cnf(&d.selections[*i]),
        Cond::Not(_) => Vec::new(),
        Cond::And(cs) => cs.iter().flat_map(|c| cond_cnf(c, d)).collect(),
        Cond::Or(cs) => or_clauses(cs.iter().map(|c| cond_cnf(c, d))),
    }
}

/// The clauses a record must satisfy for `d` to match; empty when nothing can be said. Long
/// clauses come generalized, and no clause twice.
pub fn detection_cnf(d: &Detection) -> Vec<Clause> {
    let clauses: BTreeSet<Clause> = cond_cnf(&d.condition, d)
        .into_iter()
        .map(generalize)
        .collect();
    clauses.into_iter().collect()
}

/// At most this many anchor literals are scanned for (the SIMD searcher takes under 128
/// patterns; a record's hits fit in [`Bits`]).
const MAX_ANCHOR_LITERALS: usize = 127;

/// A set of anchor literals by index.
type Bits = u128;

/// Skips records that no rule could match. Every rule has clauses of literals (CNF) that any
/// record it matches must satisfy. One clause per rule is its anchor: a single scan looks for
/// every anchor literal at once, and a record holding none is passed over (most records, at the
/// cost of one scan). For the rest, the other clauses of the rules whose anchor was found are
/// checked one literal search at a time, so `verb: create` with `objectRef.resource:
/// serviceaccounts` needs both. Any choice of anchors is exact; [`Prefilter::tuned`] chooses
/// them so the fewest records of a sample of the input pass the scan, which only changes how
/// much is skipped.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Per rule, its clauses. Empty when some rule can match any record.
    cnfs: Vec<Vec<Clause>>,
    /// `None`: nothing is skipped.
    scan: Option<Scan>,
    /// Why the prefilter is off, for the summary.
    pub off_because: Option<String>,
    /// The anchor literals scanned for, as shown to people (`"create"` stands for a whole
    /// value).
    pub literals: Vec<String>,
    /// The literals of other clauses, checked in records that hold an anchor.
    pub checked: Vec<String>,
}

/// The scan of one prefilter: the anchors' literals, and per rule what else to check.
#[derive(Debug, Clone)]
struct Scan {
    anchors: LiteralFinder,
    /// The anchor literals that settle a record alone: those of rules with no other clause.
    settling: Bits,
    /// Literals of the other clauses, each found by its own search.
    others: Vec<OtherLiteral>,
    rules: Vec<RuleCheck>,
}

/// What a record must hold for one rule.
#[derive(Debug, Clone)]
struct RuleCheck {
    /// The anchor's literals (indexes into the anchor finder's).
    anchor: Bits,
    /// The rule's other clauses, most selective first: indexes into `Scan::others`.
    clauses: Vec<Vec<usize>>,
}

/// A literal looked for only in records that hold an anchor.
#[derive(Debug, Clone)]
struct OtherLiteral {
    finder: memchr::memmem::Finder<'static>,
    bounds: Bounds,
}

impl OtherLiteral {
    fn found(&self, record: &[u8], folded: &[u8]) -> bool {
        let len = self.finder.needle().len();
        // Every occurrence, overlapping ones too: one out of bounds (`aa` in `baaa`, asked to
        // end a value) can hide the next that is not.
        let mut from = 0;
        while let Some(at) = folded.get(from..).and_then(|rest| self.finder.find(rest)) {
            let at = from + at;
            if within(self.bounds, record, at, at + len) {
                return true;
            }
            from = at + 1;
        }
        false
    }
}

/// Bytes of the sample whose three-byte runs are counted.
const TRIGRAM_SAMPLE: usize = 256 << 10;
/// Below this many sample records the skip estimate is not trusted.
const MIN_SAMPLE: usize = 200;
/// The share of sampled records a tuned prefilter must skip to be worth its scan.
const MIN_SKIP_PERCENT: usize = 5;

/// A set of ASCII bytes.
#[derive(Debug, Clone, Copy, Default)]
struct ByteSet(u128);

impl ByteSet {
    fn of<'l>(literals: impl Iterator<Item = &'l str>) -> ByteSet {
        let mut set = 0u128;
        for b in literals.flat_map(str::bytes) {
            if b.is_ascii() {
                set |= 1 << fold(b);
            }
        }
        ByteSet(set)
    }

    fn contains_folded(self, b: u8) -> bool {
        b.is_ascii() && self.0 & (1 << fold(b)) != 0
    }
}

/// Every record a Docker event is decoded from holds one of these (lowercase): dockerd's
/// `Calling METHOD /path`, `docker events`' `"Actor"`, an AuthZ record's `"RequestMethod"`, a
/// socket proxy's ` HTTP/` (HAProxy) or `method=`/`"method"` (wollomatic), or the identity
/// annotation of an event credwatch wrote.
const DOCKER_RECORD_LITERALS: &[&str] = &[
    "calling ",
    "\"actor\"",
    "\"requestmethod\"",
    " http/",
    "method=",
    "\"method\"",
    "credwatch.dev/identity",
];

impl Prefilter {
    pub fn build(rules: &[Rule]) -> Prefilter {
        let mut cnfs = Vec::new();
        for r in rules {
            // A Docker event is made from a record that does not read like it (a daemon log
            // line, a `docker events` object): its rules are anchored on what every such record
            // holds instead.
            let cnf = if r.meta.docker {
                vec![
                    DOCKER_RECORD_LITERALS
                        .iter()
                        .map(|l| Literal::anywhere(*l))
                        .collect(),
                ]
            } else {
                detection_cnf(&r.detection)
            };
            if cnf.is_empty() {
                return Prefilter::off(
                    Vec::new(),
                    format!(
                        "rule `{}` has no literal every match must contain",
                        r.meta.title
                    ),
                );
            }
            cnfs.push(cnf);
        }
        if cnfs.is_empty() {
            return Prefilter::off(cnfs, "no rules".into());
        }
        // Without a sample: each rule's clause whose shortest literal is longest first, then
        // its other clauses from the most selective.
        let orders = cnfs
            .iter()
            .map(|cnf| {
                let mut order: Vec<usize> = (0..cnf.len()).collect();
                order.sort_by_key(|&c| std::cmp::Reverse(selectivity(&cnf[c])));
                order
            })
            .collect();
        Prefilter::with_clauses(cnfs, orders, None)
    }

    fn off(cnfs: Vec<Vec<Clause>>, why: String) -> Prefilter {
        Prefilter {
            cnfs,
            scan: None,
            off_because: Some(why),
            literals: Vec::new(),
            checked: Vec::new(),
        }
    }

    /// A prefilter whose rules check their clauses in the order given, the first the anchor.
    fn with_clauses(
        cnfs: Vec<Vec<Clause>>,
        orders: Vec<Vec<usize>>,
        trigrams: Option<&Trigrams>,
    ) -> Prefilter {
        let anchors: Vec<Literal> = orders
            .iter()
            .zip(&cnfs)
            .flat_map(|(order, cnf)| order.first().map(|&c| cnf[c].iter().cloned()))
            .flatten()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if anchors.len() > MAX_ANCHOR_LITERALS {
            return Prefilter::off(
                cnfs,
                format!("the rules' anchors need over {MAX_ANCHOR_LITERALS} literals"),
            );
        }
        let others: Vec<Literal> = orders
            .iter()
            .zip(&cnfs)
            .flat_map(|(order, cnf)| order.iter().skip(1).flat_map(|&c| cnf[c].iter().cloned()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let finder = match LiteralFinder::build(&anchors, others.iter(), trigrams) {
            Ok(f) => f,
            Err(e) => return Prefilter::off(cnfs, format!("literal automaton: {e}")),
        };
        let rules: Vec<RuleCheck> = orders
            .iter()
            .zip(&cnfs)
            .map(|(order, cnf)| RuleCheck {
                anchor: order.first().map_or(0, |&c| {
                    cnf[c]
                        .iter()
                        .filter_map(|l| anchors.binary_search(l).ok())
                        .fold(0, |bits, i| bits | 1 << i)
                }),
                clauses: order
                    .iter()
                    .skip(1)
                    .map(|&c| {
                        cnf[c]
                            .iter()
                            .filter_map(|l| others.binary_search(l).ok())
                            .collect()
                    })
                    .collect(),
            })
            .collect();
        Prefilter {
            cnfs,
            off_because: None,
            literals: anchors.iter().map(Literal::to_string).collect(),
            checked: others.iter().map(Literal::to_string).collect(),
            scan: Some(Scan {
                settling: rules
                    .iter()
                    .filter(|r| r.clauses.is_empty())
                    .fold(0, |bits, r| bits | r.anchor),
                anchors: finder,
                others: others
                    .iter()
                    .map(|l| OtherLiteral {
                        finder: memchr::memmem::Finder::new(
                            &l.text.bytes().map(fold).collect::<Vec<u8>>(),
                        )
                        .into_owned(),
                        bounds: l.bounds,
                    })
                    .collect(),
                rules,
            }),
        }
    }

    /// The same prefilter with each rule's clauses chosen so that the fewest of `sample`
    /// records pass: the anchors together, then the other clauses from the most selective.
    pub fn tuned<'s>(&self, sample: impl Iterator<Item = &'s [u8]>) -> Prefilter {
        if self.scan.is_none() {
            return self.clone();
        }
        let all: Vec<Literal> = self
            .cnfs
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let Ok(finder) = LiteralFinder::build(&all, std::iter::empty(), None) else {
            return self.clone();
        };
        // Which sample records hold each literal, as bitsets over the records.
        let sample: Vec<&[u8]> = sample.collect();
        let words = sample.len().div_ceil(64);
        let mut holding = vec![vec![0u64; words]; all.len()];
        let folded_sample: Vec<Vec<u8>> = sample
            .iter()
            .map(|record| {
                let mut folded = Vec::new();
                fold_into(record, &mut folded);
                folded
            })
            .collect();
        for (n, (record, folded)) in sample.iter().zip(&folded_sample).enumerate() {
            finder.each_hit(record, folded, &mut |i| {
                if i != MAPPED_FORMAT {
                    holding[i][n / 64] |= 1 << (n % 64);
                }
                std::ops::ControlFlow::Continue(())
            });
        }
        let or_into = |into: &mut [u64], bits: &[u64]| {
            into.iter_mut().zip(bits).for_each(|(a, b)| *a |= b);
        };
        let count = |bits: &[u64]| bits.iter().map(|w| w.count_ones() as usize).sum::<usize>();
        // Per rule, per clause: the sample records satisfying it.
        let passing: Vec<Vec<Vec<u64>>> = self
            .cnfs
            .iter()
            .map(|cnf| {
                cnf.iter()
                    .map(|clause| {
                        let mut bits = vec![0u64; words];
                        for i in clause.iter().filter_map(|l| all.binary_search(l).ok()) {
                            or_into(&mut bits, &holding[i]);
                        }
                        bits
                    })
                    .collect()
            })
            .collect();
        // Start from each rule's rarest clause, then let each rule in turn take the clause that
        // lets the fewest sample records through together with the others' anchors (a clause
        // another rule already scans for costs nothing), until nothing changes.
        let mut choice: Vec<usize> = passing
            .iter()
            .map(|clauses| {
                (0..clauses.len())
                    .min_by_key(|&c| count(&clauses[c]))
                    .unwrap_or(0)
            })
            .collect();
        for _round in 0..4 {
            let mut changed = false;
            for rule in 0..choice.len() {
                let mut others = vec![0u64; words];
                let mut scanned_for = BTreeSet::new();
                for (other, &c) in choice.iter().enumerate().filter(|(o, _)| *o != rule) {
                    or_into(&mut others, &passing[other][c]);
                    scanned_for.extend(self.cnfs[other][c].iter());
                }
                let cost = |c: usize| {
                    let mut union = others.clone();
                    or_into(&mut union, &passing[rule][c]);
                    let new_literals = self.cnfs[rule][c]
                        .iter()
                        .filter(|l| !scanned_for.contains(l))
                        .count();
                    (count(&union), new_literals, count(&passing[rule][c]))
                };
                let best = (0..passing[rule].len())
                    .min_by_key(|&c| cost(c))
                    .unwrap_or(choice[rule]);
                if cost(best) < cost(choice[rule]) {
                    choice[rule] = best;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // After its anchor, a rule's other clauses from the one that passes fewest records.
        let orders: Vec<Vec<usize>> = choice
            .iter()
            .enumerate()
            .map(|(rule, &anchor)| {
                let mut rest: Vec<usize> =
                    (0..passing[rule].len()).filter(|&c| c != anchor).collect();
                rest.sort_by_key(|&c| count(&passing[rule][c]));
                std::iter::once(anchor).chain(rest).collect()
            })
            .collect();
        // The runs are only ranked: the sample's first 256 KiB do it at a quarter of the cost
        // (this runs before any thread starts). Over 100k bench events, callgrind counted 18M
        // fewer instructions in all, the counting's saving: the scan it tunes cost the same.
        let mut counted = 0;
        let trigram_sample = folded_sample
            .iter()
            .take_while(|r| {
                counted += r.len();
                counted - r.len() < TRIGRAM_SAMPLE
            })
            .count();
        let trigrams = Trigrams::count(&all, &folded_sample[..trigram_sample]);
        let tuned = Prefilter::with_clauses(self.cnfs.clone(), orders, Some(&trigrams));
        // A scan that would pass nearly every record costs more than it saves (the scan was
        // ~13 % of a hunt that skipped 0.5 %): off for this input when the sample says so.
        if let (Some(scan), true) = (&tuned.scan, sample.len() >= MIN_SAMPLE) {
            let mut scratch = Vec::new();
            let passed = sample
                .iter()
                .filter(|r| scan.may_match(r, &mut scratch))
                .count();
            if (sample.len() - passed) * 100 < sample.len() * MIN_SKIP_PERCENT {
                return Prefilter::off(
                    self.cnfs.clone(),
                    format!(
                        "it would skip under {MIN_SKIP_PERCENT} % of this input (sampled {} records)",
                        sample.len()
                    ),
                );
            }
        }
        tuned
    }

    pub fn enabled(&self) -> bool {
        self.scan.is_some()
    }

    /// Whether some rule could match this record; `false` only when none can.
    pub fn may_match(&self, record: &[u8]) -> bool {
        let Some(scan) = &self.scan else {
            return true;
        };
        FOLDED.with(|cell| {
            let mut buf = cell.take();
            let may = scan.may_match(record, &mut buf);
            cell.replace(buf);
            may
        })
    }
}

impl Scan {
    fn may_match(&self, record: &[u8], folded: &mut Vec<u8>) -> bool {
        if !fold_into(record, folded) {
            return true;
        }
        // Every anchor literal the record holds; a rule with nothing else to check, or a
        // record whose fields are mapped, settles it.
        let mut found: Bits = 0;
        let mut settled = false;
        self.anchors.each_hit(record, folded, &mut |i| {
            if i == MAPPED_FORMAT {
                settled = true;
                return std::ops::ControlFlow::Break(());
            }
            let bit = 1 << i;
            found |= bit;
            settled = self.settling & bit != 0;
            if settled {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        });
        if settled {
            return true;
        }
        if found != 0 {
            // Each other literal searched for at most once per record (past the first 128,
            // each time it is asked for), without allocating.
            let (mut searched, mut present) = (0u128, 0u128);
            let mut holds = |i: usize| {
                let Some(bit) = 1u128.checked_shl(i as u32) else {
                    return self.others[i].found(record, folded);
                };
                if searched & bit == 0 {
                    searched |= bit;
                    if self.others[i].found(record, folded) {
                        present |= bit;
                    }
                }
                present & bit != 0
            };
            let candidate = |r: &RuleCheck| r.anchor & found != 0;
            if self
                .rules
                .iter()
                .filter(|r| candidate(r))
                .any(|r| r.clauses.iter().all(|c| c.iter().any(|&i| holds(i))))
            {
                return true;
            }
        }
        !safe_to_skip(record, self.anchors.literal_bytes)
    }
}

/// Writes `record` case-folded into `out`; returns whether it is all ASCII.
fn fold_into(record: &[u8], out: &mut Vec<u8>) -> bool {
    out.clear();
    // `extend` over a mapped slice iterator writes without zeroing first, and vectorizes.
    out.extend(record.iter().map(|&b| fold(b)));
    record.is_ascii()
}

/// Case folding for the scan: setting bit 5 maps each ASCII capital to its small letter (and a
/// few punctuation bytes onto others, which can only add matches). Applied to record and
/// literals alike, a literal found case-insensitively is found folded; the branch-free form
/// vectorizes, unlike `to_ascii_lowercase`.
fn fold(b: u8) -> u8 {
    b | 0x20
}

/// How often each three-byte run of the literals occurs in a sample of the input (folded).
#[derive(Debug, Default)]
struct Trigrams(std::collections::HashMap<[u8; 3], usize>);

impl Trigrams {
    /// Counts in `folded_sample`, records already case-folded.
    fn count(literals: &[Literal], folded_sample: &[Vec<u8>]) -> Trigrams {
        let runs: Vec<[u8; 3]> = literals
            .iter()
            .map(|l| l.text.as_bytes())
            .chain(MAPPED_FORMAT_MARKERS.iter().map(|m| m.as_bytes()))
            .flat_map(|t| t.windows(3).map(|w| [fold(w[0]), fold(w[1]), fold(w[2])]))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // A table by the first two bytes (most positions of the sample start none of the
        // runs), then the third among the few runs sharing them: one load per position, where
        // an automaton's overlapping search cost 4x more (this runs before any thread starts).
        let mut by_first_two = vec![0u32; 1 << 16];
        let mut thirds: Vec<Vec<(u8, usize)>> = vec![Vec::new()];
        for (i, run) in runs.iter().enumerate() {
            let slot = &mut by_first_two[usize::from(run[0]) << 8 | usize::from(run[1])];
            if *slot == 0 {
                *slot = u32::try_from(thirds.len()).unwrap_or(u32::MAX);
                thirds.push(Vec::new());
            }
            if let Some(list) = thirds.get_mut(*slot as usize) {
                list.push((run[2], i));
            }
        }
        let mut counts = vec![0usize; runs.len()];
        for folded in folded_sample {
            for w in folded.windows(3) {
                let slot = by_first_two[usize::from(w[0]) << 8 | usize::from(w[1])];
                if let Some(list) = thirds.get(slot as usize).filter(|_| slot != 0) {
                    for &(third, i) in list {
                        if third == w[2] {
                            counts[i] += 1;
                        }
                    }
                }
            }
        }
        Trigrams(runs.into_iter().zip(counts).collect())
    }

    /// Occurrences of a three-byte run (0 when it was not met, or not counted).
    fn get(&self, run: &[u8]) -> usize {
        <[u8; 3]>::try_from(run).map_or(0, |r| self.0.get(&r).copied().unwrap_or(0))
    }
}

/// Finds the literals of a prefilter in a record: a scan for their folded texts, each hit
/// checked against the literal's bounds in the record as written.
#[derive(Debug, Clone)]
struct LiteralFinder {
    scanner: Scanner,
    /// The distinct folded texts of the literals.
    texts: Vec<Vec<u8>>,
    /// Per text, the literals (index, bounds) spelled by it.
    spelled: Vec<Vec<(usize, Bounds)>>,
    /// What the scanner looks for, as it numbers them: each text from its rarest three bytes
    /// on (in the input's sample), since the SIMD search is costly where its first three bytes
    /// are common (`rol` of `rolebindings`, `sec` of `secrets`); the part before is compared
    /// on each match.
    patterns: Vec<Vec<u8>>,
    /// Per pattern, the texts it is the end of: (text, offset of the pattern in it).
    scanned_as: Vec<Vec<(usize, usize)>>,
    /// Per pattern, the other patterns that can match at the same position (one is a prefix
    /// of the other): the scanner reports only one match per position.
    same_start: Vec<Vec<usize>>,
    /// Per pattern, how far past a match of it the next match can start: the first offset
    /// inside it where some pattern could begin, else its length (the scan resumes there, not
    /// at the next byte, unless matches may overlap).
    resume: Vec<usize>,
    /// The folded bytes the literals contain: a JSON escape of any other character cannot
    /// hide a literal.
    literal_bytes: ByteSet,
}

impl LiteralFinder {
    /// A finder of `literals`; `checked_too` are literals searched for separately, whose
    /// bytes an escape must not hide either.
    fn build<'l>(
        literals: &[Literal],
        checked_too: impl Iterator<Item = &'l Literal>,
        trigrams: Option<&Trigrams>,
    ) -> Result<LiteralFinder, aho_corasick::BuildError> {
        let checked_too: Vec<&Literal> = checked_too.collect();
        let folded = |text: &[u8]| text.iter().map(|&b| fold(b)).collect::<Vec<u8>>();
        let texts: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| folded(l.text.as_bytes()))
            .chain(MAPPED_FORMAT_MARKERS.iter().map(|m| folded(m.as_bytes())))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut spelled = vec![Vec::new(); texts.len()];
        for (i, l) in literals.iter().enumerate() {
            if let Ok(t) = texts.binary_search(&folded(l.text.as_bytes())) {
                spelled[t].push((i, l.bounds));
            }
        }
        // The same scan finds the marks of formats whose fields are mapped.
        for m in MAPPED_FORMAT_MARKERS {
            if let Ok(t) = texts.binary_search(&folded(m.as_bytes())) {
                spelled[t].push((MAPPED_FORMAT, Bounds::Anywhere));
            }
        }
        // Each text scanned from its rarest three bytes on; without a sample, whole.
        let offsets: Vec<usize> = texts
            .iter()
            .map(|t| match trigrams {
                Some(counts) if t.len() > 3 => (0..=t.len() - 3)
                    .min_by_key(|&k| counts.get(&t[k..k + 3]))
                    .unwrap_or(0),
                _ => 0,
            })
            .collect();
        let patterns: Vec<Vec<u8>> = texts
            .iter()
            .zip(&offsets)
            .map(|(t, &k)| t[k..].to_vec())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut scanned_as = vec![Vec::new(); patterns.len()];
        for (t, (text, &k)) in texts.iter().zip(&offsets).enumerate() {
            if let Ok(p) = patterns.binary_search(&text[k..].to_vec()) {
                scanned_as[p].push((t, k));
            }
        }
        let same_start = patterns
            .iter()
            .enumerate()
            .map(|(i, a)| {
                (0..patterns.len())
                    .filter(|&j| {
                        j != i && (a.starts_with(&patterns[j]) || patterns[j].starts_with(a))
                    })
                    .collect()
            })
            .collect();
        // A bounded literal also relies on the bytes around a scalar: an escape spelling one
        // of them (`\u0022` for a quote inside a string holding JSON) must not pass unseen.
        let every = || literals.iter().chain(checked_too.iter().copied());
        let bounded = every().any(|l| l.bounds != Bounds::Anywhere);
        // (Vertical tab and form feed too: an integer test trims them off a string.)
        let boundaries = bounded.then_some("\":,[]} \t\n\r\\\x0b\x0c");
        let resume = patterns
            .iter()
            .map(|a| {
                (1..a.len())
                    .find(|&k| {
                        patterns
                            .iter()
                            .any(|b| b.starts_with(&a[k..]) || a[k..].starts_with(b))
                    })
                    .unwrap_or(a.len())
            })
            .collect();
        Ok(LiteralFinder {
            scanner: Scanner::build(&patterns)?,
            resume,
            literal_bytes: ByteSet::of(
                every()
                    .map(|l| l.text.as_str())
                    .chain(boundaries)
                    .chain(MAPPED_FORMAT_MARKERS.iter().copied()),
            ),
            texts,
            spelled,
            patterns,
            scanned_as,
            same_start,
        })
    }

    /// Calls `hit` with the index of every literal found in its bounds (possibly more than
    /// once), or [`MAPPED_FORMAT`] for a mapped format's mark, until it breaks. `folded` is
    /// `record` case-folded.
    fn each_hit(
        &self,
        record: &[u8],
        folded: &[u8],
        hit: &mut dyn FnMut(usize) -> std::ops::ControlFlow<()>,
    ) {
        let mut from = 0;
        while let Some((found, q)) = self.scanner.find(folded, from) {
            for p in std::iter::once(found).chain(self.same_start[found].iter().copied()) {
                let pattern_end = q + self.patterns[p].len();
                if p != found && folded.get(q..pattern_end) != Some(&self.patterns[p][..]) {
                    continue;
                }
                for &(t, k) in &self.scanned_as[p] {
                    // The text's part before the pattern must stand right before it.
                    let Some(at) = q.checked_sub(k) else { continue };
                    if folded[at..q] != self.texts[t][..k] {
                        continue;
                    }
                    for &(literal, bounds) in &self.spelled[t] {
                        if within(bounds, record, at, pattern_end) && hit(literal).is_break() {
                            return;
                        }
                    }
                }
            }
            // Matches may overlap (`jobs` inside `cronjobs`): look again from where the next
            // one can start.
            from = q + self.resume[found];
        }
    }
}

/// Whether `record[at..end]` stands where `bounds` asks.
fn within(bounds: Bounds, record: &[u8], at: usize, end: usize) -> bool {
    // A string opens with a quote (`\"` inside a string holding JSON, as EKS `message` and AKS
    // `properties.log` are). A bare scalar follows `:` `,` `[` or white space, or an escape
    // such as `\n` inside such a string.
    let starts = |bare: bool| {
        at == 0
            || record[at - 1] == b'"'
            || (bare
                && (matches!(
                    record[at - 1],
                    b':' | b',' | b'[' | b'-' | b' ' | b'\t' | b'\n' | b'\r'
                ) || (at >= 2 && record[at - 2] == b'\\')))
    };
    // A string closes with a quote (or `\"`); a bare scalar ends at `,` `}` `]` or white space.
    let ends = |bare: bool| {
        end == record.len()
            || matches!(record[end], b'"' | b'\\')
            || (bare
                && matches!(
                    record[end],
                    b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'
                ))
    };
    match bounds {
        Bounds::Anywhere => true,
        Bounds::Start { bare } => starts(bare),
        Bounds::End { bare } => ends(bare),
        Bounds::Whole { bare } => starts(bare) && ends(bare),
        Bounds::Digits => {
            (starts(true) || matches!(record[at - 1], b'0' | b'+' | b'-')) && ends(true)
        }
    }
}

/// A case-sensitive search for any of the folded literals. The packed (SIMD) searcher alone
/// where it applies, without the automaton's verification loop around it, which the
/// measurements showed as a tenth of the scan's cost; the automaton otherwise.
#[derive(Debug, Clone)]
enum Scanner {
    Packed(aho_corasick::packed::Searcher),
    Automaton(AhoCorasick),
}

impl Scanner {
    fn build(folded: &[Vec<u8>]) -> Result<Scanner, aho_corasick::BuildError> {
        // Fat Teddy (16 buckets) beside slim (8) once there are more literals than slim has
        // buckets: fewer false candidates to verify on ~1 KB records (measured 13 % faster on
        // the bench corpus with 18 anchors). Where it is unavailable, the crate's own choice.
        let packed_with = |fat: Option<bool>| {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .only_teddy_fat(fat)
                .builder()
                .extend(folded)
                .build()
        };
        let packed = if folded.len() > 8 {
            packed_with(Some(true)).or_else(|| packed_with(None))
        } else {
            packed_with(None)
        };
        match packed {
            Some(searcher) => Ok(Scanner::Packed(searcher)),
            None => AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostFirst)
                .build(folded)
                .map(Scanner::Automaton),
        }
    }

    /// The leftmost match starting at or after `from`: (pattern, start).
    fn find(&self, haystack: &[u8], from: usize) -> Option<(usize, usize)> {
        if from >= haystack.len() {
            return None;
        }
        let m = match self {
            Scanner::Packed(s) => s.find_in(
                haystack,
                aho_corasick::Span {
                    start: from,
                    end: haystack.len(),
                },
            )?,
            Scanner::Automaton(a) => a.find(aho_corasick::Input::new(haystack).range(from..))?,
        };
        Some((m.pattern().as_usize(), m.start()))
    }
}

thread_local! {
    /// A scratch buffer per thread for the folded record.
    static FOLDED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Whether the literal reasoning holds for this record's text: a JSON object of a format whose
/// fields are its text, where no escape could spell a literal differently. An escape of a
/// character no literal contains cannot (kube-apiserver writes every `&` of a URI as
/// `\u0026`; no literal holds `&`, so such records stay skippable).
/// (Mapped formats' marks are found by the scan itself.)
fn safe_to_skip(record: &[u8], literal_bytes: ByteSet) -> bool {
    let trimmed = record.trim_ascii();
    let hides_literal = |i: usize| match record.get(i + 1) {
        Some(b'/') => literal_bytes.contains_folded(b'/'),
        Some(b'u') => {
            let escaped = record
                .get(i + 2..i + 6)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u32::from_str_radix(hex, 16).ok());
            match escaped {
                // A control character: a nested value re-serialized writes some as letters
                // (`\u0008` as `\b`).
                Some(c) if c < 0x20 => true,
                Some(c) if c < 0x80 => literal_bytes.contains_folded(c as u8),
                // Non-ASCII or malformed: the literal reasoning does not cover it.
                _ => true,
            }
        }
        _ => false,
    };
    // The byte after a run of backslashes: inside a string holding JSON (EKS `message`, a
    // `log` wrapper) `\\u0063` is the inner text's `\u0063`, so runs of any length count.
    let mut escaped = false;
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', &record[from..]) {
        let mut last = from + at;
        while record.get(last + 1) == Some(&b'\\') {
            last += 1;
        }
        if hides_literal(last) {
            escaped = true;
            break;
        }
        from = last + 1;
        if from >= record.len() {
            break;
        }
    }
    trimmed.first() == Some(&b'{') && trimmed.last() == Some(&b'}') && !escaped
}

#[cfg(test)]
mod tests {
    use crate::rules::{RuleSource, load};

    fn prefilter_for(rule: &str) -> super::Prefilter {
        let text = format!(
            "title: T\nlogsource: {{product: kubernetes, service: audit}}\ndetection:\n  sel:\n    {rule}\n  condition: sel\n"
        );
        load(&[RuleSource::Text {
            name: "t".into(),
            text,
        }])
        .expect("rule loads")
        .prefilter
    }

    /// (rule's selection, record, whether the record must be decoded). A `false` is a record
    /// the scan may pass over; a `true` one it must not (the rule matches it, or the reasoning
    /// cannot rule that out).
    const BOUNDS_CASES: &[(&str, &str, bool)] = &[
        // Equality needs a whole scalar.
        ("verb: create", r#"{"verb":"create"}"#, true),
        ("verb: create", r#"{"verb":"CREATE"}"#, true),
        (
            "verb: create",
            r#"{"verb":"created","x":"recreate"}"#,
            false,
        ),
        (
            "verb: create",
            r#"{"creationTimestamp":"create-me"}"#,
            false,
        ),
        // A word no number or boolean spells stands quoted, not after a `:` inside a string.
        (
            "objectRef.resource: serviceaccounts",
            r#"{"groups":["system:serviceaccounts"]}"#,
            false,
        ),
        (
            "objectRef.resource: serviceaccounts",
            r#"{"objectRef":{"resource":"serviceaccounts"}}"#,
            true,
        ),
        // Pretty-printed, and inside a string holding JSON (EKS `message`).
        ("verb: create", "{\n  \"verb\": \"create\"\n}", true),
        (
            "verb: create",
            r#"{"message":"{\"verb\":\"create\"}"}"#,
            true,
        ),
        (
            "verb: create",
            r#"{"message":"{\n\t\"verb\": \"create\"\n}"}"#,
            true,
        ),
        // An escape that spells a boundary or a literal's letter: not ruled out.
        (
            "verb: create",
            r#"{"message":"{\u0022verb\u0022:\u0022create\u0022}"}"#,
            true,
        ),
        ("verb: create", r#"{"verb":"cr\u0065ate"}"#, true),
        // An escape of something no literal or boundary holds changes nothing.
        (
            "verb: create",
            r#"{"requestURI":"/x?a=1\u0026b=2","verb":"created"}"#,
            false,
        ),
        // Bare scalars: booleans and numbers as written, spaced or not.
        (
            "requestObject.spec.paused: 'true'",
            r#"{"requestObject":{"spec":{"paused":true}}}"#,
            true,
        ),
        (
            "requestObject.spec.paused: 'true'",
            r#"{"requestObject":{"spec":{"paused": true }}}"#,
            true,
        ),
        (
            "requestObject.spec.paused: 'true'",
            r#"{"requestObject":{"spec":{"paused":false}},"x":"untrue"}"#,
            false,
        ),
        // Integers: a number, or the same number as text with sign, zeros or spaces.
        (
            "responseStatus.code: 401",
            r#"{"responseStatus":{"code":401}}"#,
            true,
        ),
        (
            "responseStatus.code: 401",
            r#"{"responseStatus":{"code": 401}}"#,
            true,
        ),
        (
            "responseStatus.code: 401",
            r#"{"requestObject":{"code":"+0401"}}"#,
            true,
        ),
        (
            "responseStatus.code: 401",
            r#"{"requestObject":{"code":" 401 "}}"#,
            true,
        ),
        (
            "responseStatus.code: 401",
            r#"{"requestObject":{"code":"\u000b401"}}"#,
            true,
        ),
        (
            "responseStatus.code: 401",
            r#"{"auditID":"a401b","rv":"1401","n":4010}"#,
            false,
        ),
        // Prefixes and suffixes: at a scalar's start or end.
        (
            "objectRef.name|startswith: kube-",
            r#"{"objectRef":{"name":"kube-proxy"}}"#,
            true,
        ),
        (
            "objectRef.name|startswith: kube-",
            r#"{"objectRef":{"name":"my-kube-proxy"}}"#,
            false,
        ),
        (
            "userAgent|endswith: amd64",
            r#"{"userAgent":"kubectl/linux/amd64"}"#,
            true,
        ),
        (
            "userAgent|endswith: amd64",
            r#"{"userAgent":"amd64-kubectl"}"#,
            false,
        ),
        // Contains: anywhere.
        (
            "userAgent|contains: ubect",
            r#"{"userAgent":"kubectl/1.30"}"#,
            true,
        ),
        (
            "userAgent|contains: ubect",
            r#"{"userAgent":"curl"}"#,
            false,
        ),
        // A value computed from part of another: anywhere.
        (
            "user.serviceaccount.namespace: kube-system",
            r#"{"user":{"username":"system:serviceaccount:kube-system:x"}}"#,
            true,
        ),
        // A float-like needle on a field as written: anywhere.
        (
            "responseStatus.message: '1.5'",
            r#"{"responseStatus":{"message":"ratio 1.50"}}"#,
            true,
        ),
        // A key anywhere in a body stands quoted.
        (
            "hostPath: '*'",
            r#"{"requestObject":{"spec":{"volumes":[{"hostPath":{"path":"/"}}]}}}"#,
            true,
        ),
        (
            "hostPath: '*'",
            r#"{"requestObject":{"spec":{"hostPathType":"x"}}}"#,
            false,
        ),
        // Found by review: an out-of-bounds hit must not hide an overlapping one; a mapped
        // format's mark spelled with an escape; digits in a computed value; an escape inside
        // a string holding JSON (`\\u0063` is the inner `\u0063`); a control character that a
        // re-serialized nested value writes as a letter (`\b`).
        (
            "verb: create\n    objectRef.name|endswith: 'aa'",
            r#"{"verb":"create","objectRef":{"name":"baaa"}}"#,
            true,
        ),
        (
            "verb: create",
            r#"{"\u0070rotoPayload":{"methodName":"io.k8s.core.v1.pods.create"}}"#,
            true,
        ),
        (
            "user.serviceaccount.namespace: 123",
            r#"{"user":{"username":"system:serviceaccount:123:builder"}}"#,
            true,
        ),
        (
            "verb: create",
            r#"{"message":"{\"verb\":\"\\u0063reate\"}"}"#,
            true,
        ),
        (
            "requestObject.spec|contains: 'bcd'",
            r#"{"requestObject":{"spec":{"k":"a\u0008cd"}}}"#,
            true,
        ),
        (
            "responseStatus.code: '0'",
            r#"{"responseStatus":{"code":-0}}"#,
            true,
        ),
        // Mapped formats and non-ASCII text are always decoded.
        (
            "verb: create",
            r#"{"protoPayload":{"methodName":"io.k8s.core.v1.pods.create"}}"#,
            true,
        ),
        ("verb: create", r#"{"verb":"ſreate","x":"é"}"#, true),
    ];

    #[test]
    fn literals_are_found_only_where_a_value_can_stand() {
        for &(rule, record, decoded) in BOUNDS_CASES {
            let p = prefilter_for(rule);
            assert!(p.enabled(), "{rule}: {:?}", p.off_because);
            assert_eq!(
                p.may_match(record.as_bytes()),
                decoded,
                "{rule} on {record}"
            );
        }
    }

    #[test]
    fn body_values_the_matcher_rewrites_give_no_literal() {
        // `{"a":1}` re-serialized compactly need not appear in `{"a": 1}`; a number is
        // compared as serde_json writes it (`1e2` as `100.0`, `1.5e300` as `1.5e300`).
        for rule in [
            "requestObject.spec|contains: 'a:1'",
            "requestObject.spec.ratio: '100.0'",
            "requestObject.spec.ratio|startswith: '1.5e'",
            "requestObject.spec.ratio|contains: '00'",
        ] {
            let p = prefilter_for(rule);
            assert!(!p.enabled(), "{rule}");
            assert!(
                p.off_because.is_some_and(|w| w.contains("no literal")),
                "{rule}"
            );
        }
    }

    #[test]
    fn a_rule_is_checked_on_all_its_clauses() {
        let p = prefilter_for("verb: create\n    objectRef.resource: serviceaccounts");
        let sa = r#"{"verb":"create","objectRef":{"resource":"serviceaccounts"}}"#;
        let pod = r#"{"verb":"create","objectRef":{"resource":"pods"},"user":{"groups":["system:serviceaccounts"]}}"#;
        assert!(p.may_match(sa.as_bytes()));
        assert!(!p.may_match(pod.as_bytes()));
    }

    #[test]
    fn trigrams_are_counted_at_every_position_overlapping_too() {
        let literals = [
            super::Literal::anywhere("aaa"),
            super::Literal::anywhere("AAB"),
            super::Literal::anywhere("xbx"),
        ];
        let sample = [b"aaaab".to_vec(), b"zaab aaa".to_vec(), b"xb".to_vec()];
        let counts = super::Trigrams::count(&literals, &sample);
        assert_eq!(counts.get(b"aaa"), 3);
        assert_eq!(counts.get(b"aab"), 2);
        assert_eq!(counts.get(b"xbx"), 0);
        // The mapped formats' mark is counted too (`protopayload` holds `pro`), where it occurs.
        assert_eq!(counts.get(b"pro"), 0);
        let with_mark = super::Trigrams::count(&literals, &[b"protopayload pro".to_vec()]);
        assert_eq!(with_mark.get(b"pro"), 2);
    }

    #[test]
    fn tuning_turns_the_scan_off_when_it_would_skip_little() {
        let records: Vec<String> = (0..400)
            .map(|i| {
                let verb = if i % 50 == 0 { "delete" } else { "get" };
                format!(r#"{{"kind":"Event","verb":"{verb}","requestURI":"/api/v1/pods/p{i}"}}"#)
            })
            .collect();
        let sample = || records.iter().map(|r| r.as_bytes());
        // Every record holds `get`: a scan would skip nothing.
        let common = prefilter_for("verb: get").tuned(sample());
        assert!(!common.enabled(), "{:?}", common.off_because);
        assert!(common.off_because.is_some_and(|w| w.contains("under 5 %")));
        // `delete` is in 2 % of records: the scan skips the rest.
        let rare = prefilter_for("verb: delete").tuned(sample());
        assert!(rare.enabled());
        assert!(!rare.may_match(records[1].as_bytes()));
        assert!(rare.may_match(records[0].as_bytes()));
        // Too small a sample is not trusted to turn it off.
        let few = prefilter_for("verb: get").tuned(sample().take(50));
        assert!(few.enabled());
    }
}
