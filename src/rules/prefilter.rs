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
use super::matcher::{FieldRef, Item, Matcher, Op, StrKind, Test};
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
        Matcher::Item(item) => {
            let mut clauses = item_value_cnf(item);
            // A key found anywhere in a body is a key in the record's own JSON text, so any
            // positive test of it needs its name there (`hostPath: '*'` needs `hostPath`).
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
                if positive && usable(&key) {
                    clauses.push([key].into());
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
    // Decoded values are not the record's text (`%2Fvar%2Frun…`, base64): no literal to require.
    if matches!(item.field, FieldRef::ExecCommand | FieldRef::CsrStrings) {
        return Vec::new();
    }
    match &item.test {
        Test::Values {
            ops,
            all,
            neq: false,
            or_null: false,
        } => {
            if *all {
                ops.iter().filter_map(op_literals).collect()
            } else {
                any_of(ops.iter().map(op_literals))
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
/// holding a literal holds every part of it.
fn generalize(mut clause: Clause) -> Clause {
    const MIN_PART: usize = 4;
    if clause.len() <= 8 {
        return clause;
    }
    loop {
        let mut best: Option<(usize, String)> = None;
        for lit in &clause {
            let bytes = lit.as_bytes();
            for start in 0..bytes.len() {
                for end in start + MIN_PART..=bytes.len().min(start + 12) {
                    let Ok(part) = std::str::from_utf8(&bytes[start..end]) else {
                        continue;
                    };
                    let covered = clause.iter().filter(|l| l.contains(part)).count();
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
            return clause;
        };
        clause.retain(|l| !l.contains(&part));
        clause.insert(part);
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

/// Skips records that no rule could match. Every rule has clauses of literals (CNF) that any
/// record it matches must satisfy; the prefilter picks one clause per rule (its anchor) and
/// passes over records that contain no anchor literal at all. Any choice of anchors is exact;
/// [`Prefilter::tuned`] chooses them together so the fewest records of a sample of the input
/// pass, which only changes how much is skipped.
#[derive(Debug, Clone)]
pub struct Prefilter {
    /// Per rule, its clauses. Empty when some rule can match any record.
    cnfs: Vec<Vec<Clause>>,
    /// `None`: nothing is skipped.
    automaton: Option<Scanner>,
    /// Why the prefilter is off, for the summary.
    pub off_because: Option<String>,
    /// The anchor literals, lowercase.
    pub literals: Vec<String>,
    /// The folded bytes the literals contain: a JSON escape of any other character cannot
    /// hide a literal.
    literal_bytes: ByteSet,
}

/// Below this many sample records the skip estimate is not trusted.
const MIN_SAMPLE: usize = 200;
/// The share of sampled records a tuned prefilter must skip to be worth its scan.
const MIN_SKIP_PERCENT: usize = 5;

/// A set of ASCII bytes.
#[derive(Debug, Clone, Copy, Default)]
struct ByteSet(u128);

impl ByteSet {
    fn of(literals: &[String]) -> ByteSet {
        let mut set = 0u128;
        for b in literals.iter().flat_map(|l| l.bytes()) {
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
        let off = |why: String| Prefilter {
            cnfs: Vec::new(),
            automaton: None,
            off_because: Some(why),
            literals: Vec::new(),
            literal_bytes: ByteSet::default(),
        };
        if rules.is_empty() {
            return off("no rules".into());
        }
        let mut cnfs = Vec::new();
        for r in rules {
            // A Docker event is made from a record that does not read like it (a daemon log
            // line, a `docker events` object): its rules are anchored on what every such record
            // holds instead.
            let cnf = if r.meta.docker {
                vec![
                    DOCKER_RECORD_LITERALS
                        .iter()
                        .map(|l| (*l).to_owned())
                        .collect(),
                ]
            } else {
                detection_cnf(&r.detection)
            };
            if cnf.is_empty() {
                return off(format!(
                    "rule `{}` has no literal every match must contain",
                    r.meta.title
                ));
            }
            cnfs.push(cnf);
        }
        // Without a sample, the clause whose shortest literal is longest.
        let anchors = cnfs
            .iter()
            .map(|cnf| best(cnf.clone()).unwrap_or_default())
            .collect();
        Prefilter::with_anchors(cnfs, anchors)
    }

    fn with_anchors(cnfs: Vec<Vec<Clause>>, anchors: Vec<Clause>) -> Prefilter {
        let literals: Vec<String> = anchors
            .into_iter()
            .flat_map(generalize)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        match Scanner::build(&literals) {
            Ok(a) => Prefilter {
                cnfs,
                automaton: Some(a),
                off_because: None,
                literal_bytes: ByteSet::of(&literals),
                literals,
            },
            Err(e) => Prefilter {
                cnfs,
                automaton: None,
                off_because: Some(format!("literal automaton: {e}")),
                literals: Vec::new(),
                literal_bytes: ByteSet::default(),
            },
        }
    }

    /// The same prefilter with each rule's anchor chosen so that the fewest of `sample`
    /// records hold any anchor literal.
    pub fn tuned<'s>(&self, sample: impl Iterator<Item = &'s [u8]>) -> Prefilter {
        if self.automaton.is_none() {
            return self.clone();
        }
        let all: Vec<String> = self
            .cnfs
            .iter()
            .flatten()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let Ok(finder) = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&all)
        else {
            return self.clone();
        };
        // Which sample records hold each literal, as bitsets over the records.
        let sample: Vec<&[u8]> = sample.collect();
        let words = sample.len().div_ceil(64);
        let mut holding = vec![vec![0u64; words]; all.len()];
        for (n, record) in sample.iter().enumerate() {
            for m in finder.find_overlapping_iter(*record) {
                holding[m.pattern().as_usize()][n / 64] |= 1 << (n % 64);
            }
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
        // A scan that would pass nearly every record costs more than it saves (the scan was
        // ~13 % of a hunt that skipped 0.5 %): off for this input when the sample says so.
        let mut union = vec![0u64; words];
        for (rule, &c) in choice.iter().enumerate() {
            or_into(&mut union, &passing[rule][c]);
        }
        if sample.len() >= MIN_SAMPLE
            && (sample.len() - count(&union)) * 100 < sample.len() * MIN_SKIP_PERCENT
        {
            return Prefilter {
                off_because: Some(format!(
                    "it would skip under {MIN_SKIP_PERCENT} % of this input (sampled {} records)",
                    sample.len()
                )),
                automaton: None,
                literals: Vec::new(),
                literal_bytes: ByteSet::default(),
                cnfs: self.cnfs.clone(),
            };
        }
        let anchors = choice
            .iter()
            .zip(&self.cnfs)
            .map(|(&c, cnf)| cnf.get(c).cloned().unwrap_or_default())
            .collect();
        Prefilter::with_anchors(self.cnfs.clone(), anchors)
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
        let found = FOLDED.with(|cell| {
            let mut buf = cell.take();
            buf.clear();
            buf.extend(record.iter().map(|&b| fold(b)));
            let found = automaton.is_match(&buf);
            cell.replace(buf);
            found
        });
        found || !safe_to_skip(record, self.literal_bytes)
    }
}

/// Case folding for the scan: setting bit 5 maps each ASCII capital to its small letter (and a
/// few punctuation bytes onto others, which can only add matches). Applied to record and
/// literals alike, a literal found case-insensitively is found folded; the branch-free form
/// vectorizes, unlike `to_ascii_lowercase`.
fn fold(b: u8) -> u8 {
    b | 0x20
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
    fn build(literals: &[String]) -> Result<Scanner, aho_corasick::BuildError> {
        let folded: Vec<Vec<u8>> = literals
            .iter()
            .map(|l| l.bytes().map(fold).collect())
            .collect();
        // Fat Teddy (16 buckets) beside slim (8) once there are more literals than slim has
        // buckets: fewer false candidates to verify on ~1 KB records (measured 13 % faster on
        // the bench corpus with 18 anchors). Where it is unavailable, the crate's own choice.
        let packed_with = |fat: Option<bool>| {
            aho_corasick::packed::Config::new()
                .match_kind(aho_corasick::packed::MatchKind::LeftmostFirst)
                .only_teddy_fat(fat)
                .builder()
                .extend(&folded)
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
                .build(&folded)
                .map(Scanner::Automaton),
        }
    }

    fn is_match(&self, haystack: &[u8]) -> bool {
        match self {
            Scanner::Packed(s) => s.find(haystack).is_some(),
            Scanner::Automaton(a) => a.is_match(haystack),
        }
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
fn safe_to_skip(record: &[u8], literal_bytes: ByteSet) -> bool {
    static MARKERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::LazyLock::new(|| {
            MAPPED_FORMAT_MARKERS
                .iter()
                .map(memchr::memmem::Finder::new)
                .collect()
        });
    let trimmed = record.trim_ascii();
    let hides_literal = |i: usize| match record.get(i + 1) {
        Some(b'/') => literal_bytes.contains_folded(b'/'),
        Some(b'u') => {
            let escaped = record
                .get(i + 2..i + 6)
                .and_then(|hex| std::str::from_utf8(hex).ok())
                .and_then(|hex| u32::from_str_radix(hex, 16).ok());
            match escaped {
                Some(c) if c < 0x80 => literal_bytes.contains_folded(c as u8),
                // Non-ASCII or malformed: the literal reasoning does not cover it.
                _ => true,
            }
        }
        _ => false,
    };
    // `\\` escapes a backslash, whose next byte is then plain text: step over the pair.
    let mut escaped = false;
    let mut from = 0;
    while let Some(at) = memchr::memchr(b'\\', &record[from..]) {
        let i = from + at;
        if hides_literal(i) {
            escaped = true;
            break;
        }
        from = i + 2;
        if from >= record.len() {
            break;
        }
    }
    trimmed.first() == Some(&b'{')
        && trimmed.last() == Some(&b'}')
        && !escaped
        && MARKERS.iter().all(|m| m.find(record).is_none())
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
