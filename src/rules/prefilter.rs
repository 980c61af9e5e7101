//! What the compiled rules require of a record's text, derived from the rules themselves:
//! the resource index (which rules can match a given `objectRef.resource`), and a literal
//! prefilter that skips records no rule could match before they are decoded.
//!
//! The prefilter is exact by construction: for every rule it keeps clauses of literals such
//! that a matching record must contain at least one literal of each clause (case-insensitively).
//! Where that reasoning does not hold it does not skip: records with JSON escapes that could
//! spell a literal differently (`\u`, `\/`), non-ASCII text (Unicode case folding), records whose
//! fields are mapped rather than copied (GKE `protoPayload`), and anything not a JSON object.

use super::Rule;
use super::condition::Cond;
use super::matcher::{Matcher, Op, StrKind, Test};
use super::sigma::Detection;
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use std::collections::BTreeSet;

/// Text that marks a record whose event fields are derived, not copied (so a rule's literal
/// need not appear in it). Every decoder that maps values must add its marker here.
pub static MAPPED_FORMAT_MARKERS: &[&[u8]] = &[b"protoPayload"];

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

/// Literals, one of which must appear.
type Clause = BTreeSet<String>;

fn usable(lit: &str) -> bool {
    !lit.is_empty() && !lit.chars().any(|c| c == '"' || c == '\\' || c.is_control())
}

fn op_literals(op: &Op) -> Option<Clause> {
    let lits: Clause = match op {
        Op::Str { needle, .. } => [needle.to_lowercase()].into(),
        Op::AnyContains { needles, .. } => needles.iter().map(|n| n.to_lowercase()).collect(),
        Op::IntEq(n) => [n.to_string()].into(),
        Op::Regex { literals, .. } => [literals.iter().max_by_key(|l| l.len())?.clone()].into(),
        _ => return None,
    };
    lits.iter().all(|l| usable(l)).then_some(lits)
}

fn matcher_cnf(m: &Matcher) -> Vec<Clause> {
    match m {
        Matcher::Item(item) => match &item.test {
            Test::Values {
                ops,
                all,
                neq: false,
                or_null: false,
            } => {
                if *all {
                    ops.iter().filter_map(op_literals).collect()
                } else {
                    let mut clause = Clause::new();
                    for op in ops {
                        match op_literals(op) {
                            Some(l) => clause.extend(l),
                            None => return Vec::new(),
                        }
                    }
                    if clause.is_empty() {
                        Vec::new()
                    } else {
                        vec![clause]
                    }
                }
            }
            _ => Vec::new(),
        },
        Matcher::Not(_) => Vec::new(),
        Matcher::And(ms) => ms.iter().flat_map(matcher_cnf).collect(),
        Matcher::Or(ms) => or_clauses(ms.iter().map(matcher_cnf)),
    }
}

/// An OR is implied by one clause: the union of one clause from each side.
fn or_clauses(children: impl Iterator<Item = Vec<Clause>>) -> Vec<Clause> {
    let mut union = Clause::new();
    for cnf in children {
        match best(cnf) {
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

/// The most selective clause: longest shortest literal, then fewest literals.
fn best(cnf: Vec<Clause>) -> Option<Clause> {
    cnf.into_iter().max_by_key(|c| {
        (
            c.iter().map(String::len).min().unwrap_or(0),
            usize::MAX - c.len(),
        )
    })
}

fn cond_cnf(c: &Cond, d: &Detection) -> Vec<Clause> {
    match c {
        Cond::Sel(i) => matcher_cnf(&d.selections[*i]),
        Cond::Not(_) => Vec::new(),
        Cond::And(cs) => cs.iter().flat_map(|c| cond_cnf(c, d)).collect(),
        Cond::Or(cs) => or_clauses(cs.iter().map(|c| cond_cnf(c, d))),
    }
}

/// The clauses a record must satisfy for `d` to match; empty when nothing can be said.
pub fn detection_cnf(d: &Detection) -> Vec<Clause> {
    cond_cnf(&d.condition, d)
}

/// Skips records that no rule could match: each rule's clauses are bitmasks over one literal
/// automaton; a record passes when, for some rule, every clause has a literal in the record.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// `None`: some rule can match any record, so nothing is skipped.
    automaton: Option<AhoCorasick>,
    /// Per rule, its clauses as bitmasks over the literals.
    rules: Vec<Vec<Vec<u64>>>,
    /// Per literal, the literals it contains (itself included): finding it finds them too.
    implied: Vec<Vec<u64>>,
    words: usize,
    /// Why the prefilter is off, for the summary.
    pub off_because: Option<String>,
    /// The literals, lowercase.
    pub literals: Vec<String>,
}

impl Prefilter {
    pub fn build(rules: &[Rule]) -> Prefilter {
        let off = |why: String| Prefilter {
            automaton: None,
            rules: Vec::new(),
            implied: Vec::new(),
            words: 0,
            off_because: Some(why),
            literals: Vec::new(),
        };
        if rules.is_empty() {
            return off("no rules".into());
        }
        let mut cnfs = Vec::new();
        for r in rules {
            let cnf = detection_cnf(&r.detection);
            if cnf.is_empty() {
                return off(format!(
                    "rule `{}` has no literal every match must contain",
                    r.meta.title
                ));
            }
            cnfs.push(cnf);
        }
        let literals: Vec<String> = cnfs
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let words = literals.len().div_ceil(64);
        let mask_of = |pred: &dyn Fn(&str) -> bool| {
            let mut mask = vec![0u64; words];
            for (i, l) in literals.iter().enumerate() {
                if pred(l) {
                    mask[i / 64] |= 1 << (i % 64);
                }
            }
            mask
        };
        let rule_masks = cnfs
            .iter()
            .map(|cnf| {
                cnf.iter()
                    .map(|clause| mask_of(&|l| clause.contains(l)))
                    .collect()
            })
            .collect();
        let implied = literals
            .iter()
            .map(|outer| mask_of(&|inner| outer.contains(inner)))
            .collect();
        // Case-sensitive over lowercase literals: records are lowercased before the scan, which
        // lets the automaton use its SIMD prefilter (unavailable for case-insensitive search).
        let automaton = match AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&literals)
        {
            Ok(a) => a,
            Err(e) => return off(format!("literal automaton: {e}")),
        };
        Prefilter {
            automaton: Some(automaton),
            rules: rule_masks,
            implied,
            words,
            off_because: None,
            literals,
        }
    }

    pub fn enabled(&self) -> bool {
        self.automaton.is_some()
    }

    /// Whether some rule could match this record; `false` only when none can.
    pub fn may_match(&self, record: &[u8]) -> bool {
        let Some(automaton) = &self.automaton else {
            return true;
        };
        if !record.is_ascii() {
            return true;
        }
        let mut seen = [0u64; 8];
        let mut heap;
        let seen: &mut [u64] = if self.words <= seen.len() {
            &mut seen[..self.words]
        } else {
            heap = vec![0u64; self.words];
            &mut heap
        };
        LOWERED.with(|cell| {
            let mut buf = cell.take();
            buf.clear();
            buf.extend(record.iter().map(u8::to_ascii_lowercase));
            // Every occurrence of every literal: the leftmost-longest match at each start,
            // restarting one byte after it; shorter literals inside it are implied by it.
            let mut at = 0;
            while at < buf.len() {
                let Some(m) =
                    automaton.find(aho_corasick::Input::new(&buf[..]).span(at..buf.len()))
                else {
                    break;
                };
                for (s, i) in seen.iter_mut().zip(&self.implied[m.pattern().as_usize()]) {
                    *s |= i;
                }
                at = m.start() + 1;
            }
            cell.replace(buf);
        });
        let any_rule = self.rules.iter().any(|clauses| {
            clauses
                .iter()
                .all(|mask| mask.iter().zip(seen.iter()).any(|(m, s)| m & s != 0))
        });
        any_rule || !safe_to_skip(record)
    }
}

thread_local! {
    /// A scratch buffer per thread for the lowercased record.
    static LOWERED: std::cell::Cell<Vec<u8>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Whether the literal reasoning holds for this record's text.
fn safe_to_skip(record: &[u8]) -> bool {
    let trimmed = record.trim_ascii();
    trimmed.first() == Some(&b'{')
        && trimmed.last() == Some(&b'}')
        && record.is_ascii()
        && memchr::memmem::find(record, b"\\u").is_none()
        && memchr::memmem::find(record, b"\\/").is_none()
        && MAPPED_FORMAT_MARKERS
            .iter()
            .all(|m| memchr::memmem::find(record, m).is_none())
}
