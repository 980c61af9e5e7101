//! The compiled form of Sigma detections: a small tree of typed tests over field references,
//! evaluated directly on the borrowed event. Strings compare case-insensitively by default with
//! cheap ASCII paths; contains-sets use Aho-Corasick; regex only where a rule asks for it or a
//! wildcard sits inside a value.

use crate::event::fields::{FieldDef, FieldValue};
use crate::event::{AuditEvent, Decoded, parse_timestamp};
use aho_corasick::AhoCorasick;
use regex::Regex;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::net::IpAddr;

/// Where a rule's field reads from.
#[derive(Debug, Clone)]
pub enum FieldRef {
    Catalog(&'static FieldDef),
    Annotation(String),
    UserExtra(String),
    /// A dotted path into the request (`false`) or response (`true`) body.
    BodyPath {
        response: bool,
        path: Vec<String>,
    },
    /// A key anywhere inside the request or response body (`requestObject..hostPath`).
    BodyAnywhere {
        response: bool,
        key: String,
    },
    /// The whole raw record (keywords).
    Raw,
    /// The command of an exec, attach or kubelet exec/run request, decoded from the
    /// `command=` parameters of `requestURI` (`requestURI.command`).
    ExecCommand,
    /// The printable strings of a CertificateSigningRequest's PKCS#10 request
    /// (`requestObject.spec.request.strings`): its subject names and extensions.
    CsrStrings,
}

impl FieldRef {
    pub fn name(&self) -> String {
        match self {
            FieldRef::Catalog(def) => def.name.to_owned(),
            FieldRef::Annotation(key) => format!("annotations.{key}"),
            FieldRef::UserExtra(key) => format!("user.extra.{key}"),
            FieldRef::BodyPath { response, path } => {
                format!("{}.{}", body_name(*response), path.join("."))
            }
            FieldRef::BodyAnywhere { response, key } => format!("{}..{key}", body_name(*response)),
            FieldRef::Raw => "(keywords)".to_owned(),
            FieldRef::ExecCommand => EXEC_COMMAND.to_owned(),
            FieldRef::CsrStrings => CSR_STRINGS.to_owned(),
        }
    }

    pub fn is_catalog(&self, name: &str) -> bool {
        matches!(self, FieldRef::Catalog(def) if def.name == name)
    }
}

/// The name rules use for [`FieldRef::ExecCommand`].
pub const EXEC_COMMAND: &str = "requestURI.command";
/// The name rules use for [`FieldRef::CsrStrings`].
pub const CSR_STRINGS: &str = "requestObject.spec.request.strings";

fn body_name(response: bool) -> &'static str {
    if response {
        "responseObject"
    } else {
        "requestObject"
    }
}

/// One value of a field in one event.
#[derive(Debug, Clone, PartialEq)]
pub enum Val<'v> {
    Str(Cow<'v, str>),
    Int(i64),
}

impl Val<'_> {
    fn text(&self) -> Cow<'_, str> {
        match self {
            Val::Str(s) => Cow::Borrowed(s.as_ref()),
            Val::Int(i) => Cow::Owned(i.to_string()),
        }
    }
}

/// An event seen by rules: the typed event, the raw record, and lazily parsed bodies.
pub struct EventView<'e, 'a> {
    pub event: &'e AuditEvent<'a>,
    pub raw: &'e [u8],
    request: OnceCell<Option<serde_json::Value>>,
    response: OnceCell<Option<serde_json::Value>>,
    extra: OnceCell<Option<serde_json::Value>>,
    command: OnceCell<Option<String>>,
    csr: OnceCell<Option<String>>,
}

impl<'e, 'a> EventView<'e, 'a> {
    pub fn new(decoded: &'e Decoded<'e, 'a>) -> Self {
        Self::from_parts(decoded.event, decoded.raw)
    }

    pub fn from_parts(event: &'e AuditEvent<'a>, raw: &'e [u8]) -> Self {
        EventView {
            event,
            raw,
            request: OnceCell::new(),
            response: OnceCell::new(),
            extra: OnceCell::new(),
            command: OnceCell::new(),
            csr: OnceCell::new(),
        }
    }

    fn body(&self, response: bool) -> Option<&serde_json::Value> {
        let (cell, raw) = if response {
            (&self.response, &self.event.response_object)
        } else {
            (&self.request, &self.event.request_object)
        };
        cell.get_or_init(|| {
            raw.as_ref()
                .and_then(|r| serde_json::from_str(r.as_str()).ok())
        })
        .as_ref()
    }

    fn body_text(&self, response: bool) -> Option<&str> {
        let raw = if response {
            &self.event.response_object
        } else {
            &self.event.request_object
        };
        raw.as_ref().map(|r| r.as_str())
    }

    /// Every value of `field` in this event; empty when absent or null.
    pub fn values(&self, field: &FieldRef) -> Vec<Val<'_>> {
        let mut out = Vec::new();
        self.each_value(field, &mut |v| {
            out.push(v);
            false
        });
        out
    }

    /// Calls `f` on each value until it returns true; returns whether any did. Absent fields
    /// call nothing.
    #[inline]
    pub fn each_value<'s>(&'s self, field: &FieldRef, f: &mut dyn FnMut(Val<'s>) -> bool) -> bool {
        match field {
            FieldRef::Catalog(def) => match (def.get)(self.event) {
                None => false,
                Some(FieldValue::Str(s)) | Some(FieldValue::Raw(s)) => {
                    f(Val::Str(Cow::Borrowed(s)))
                }
                Some(FieldValue::Int(i)) => f(Val::Int(i)),
                Some(FieldValue::List(items)) => {
                    items.iter().any(|s| f(Val::Str(Cow::Borrowed(s.as_ref()))))
                }
            },
            FieldRef::Annotation(key) => self
                .event
                .annotations
                .get(key)
                .is_some_and(|v| f(Val::Str(Cow::Borrowed(v)))),
            FieldRef::UserExtra(key) => {
                let extra = self.extra.get_or_init(|| {
                    self.event
                        .user
                        .extra
                        .as_ref()
                        .and_then(|r| serde_json::from_str(r.as_str()).ok())
                });
                match extra.as_ref().and_then(|e| e.get(key)) {
                    Some(v) => json_values(v, f),
                    None => false,
                }
            }
            FieldRef::BodyPath { response, path } => {
                let Some(mut node) = self.body(*response) else {
                    return false;
                };
                for step in path {
                    let next = match node {
                        serde_json::Value::Object(map) => map.get(step),
                        serde_json::Value::Array(items) => {
                            step.parse::<usize>().ok().and_then(|i| items.get(i))
                        }
                        _ => None,
                    };
                    match next {
                        Some(n) => node = n,
                        None => return false,
                    }
                }
                json_values(node, f)
            }
            FieldRef::BodyAnywhere { response, key } => {
                // Most bodies do not mention the key at all: a substring test spares the parse.
                // An escaped key (`\u0068ostPath`) could hide from it, so escapes force the parse.
                match self.body_text(*response) {
                    None => return false,
                    Some(text) => {
                        let quoted = format!("\"{key}\"");
                        if !text.contains(&quoted) && !text.contains("\\u") {
                            return false;
                        }
                    }
                }
                let Some(body) = self.body(*response) else {
                    return false;
                };
                let mut found = false;
                visit_key(body, key, &mut |v| {
                    found = match v {
                        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                            f(Val::Str(Cow::Owned(v.to_string())))
                        }
                        other => json_values(other, f),
                    };
                    found
                });
                found
            }
            FieldRef::Raw => match std::str::from_utf8(self.raw) {
                Ok(text) => f(Val::Str(Cow::Borrowed(text))),
                Err(_) => false,
            },
            FieldRef::ExecCommand => {
                let command = self.command.get_or_init(|| {
                    self.event
                        .request_uri
                        .as_deref()
                        .and_then(crate::event::exec_command)
                        .or_else(|| {
                            // Logged at Request level, the PodExecOptions body lists it too.
                            let words = self.body(false)?.get("command")?.as_array()?;
                            let words: Vec<&str> =
                                words.iter().filter_map(|w| w.as_str()).collect();
                            (!words.is_empty()).then(|| words.join(" "))
                        })
                });
                command
                    .as_deref()
                    .is_some_and(|c| f(Val::Str(Cow::Borrowed(c))))
            }
            FieldRef::CsrStrings => {
                let strings = self.csr.get_or_init(|| {
                    let request = self.body(false)?.get("spec")?.get("request")?.as_str()?;
                    crate::event::csr_strings(request)
                });
                strings
                    .as_deref()
                    .is_some_and(|c| f(Val::Str(Cow::Borrowed(c))))
            }
        }
    }

    pub fn present(&self, field: &FieldRef) -> bool {
        match field {
            FieldRef::Catalog(def) => (def.get)(self.event).is_some(),
            _ => self.each_value(field, &mut |_| true),
        }
    }
}

fn json_values<'v>(v: &serde_json::Value, f: &mut dyn FnMut(Val<'v>) -> bool) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => f(Val::Str(Cow::Owned(s.clone()))),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => f(Val::Int(i)),
            None => f(Val::Str(Cow::Owned(n.to_string()))),
        },
        serde_json::Value::Bool(b) => f(Val::Str(Cow::Borrowed(if *b { "true" } else { "false" }))),
        serde_json::Value::Array(items) => items.iter().any(|i| json_values(i, f)),
        serde_json::Value::Object(_) => f(Val::Str(Cow::Owned(v.to_string()))),
    }
}

fn visit_key(
    v: &serde_json::Value,
    key: &str,
    f: &mut dyn FnMut(&serde_json::Value) -> bool,
) -> bool {
    match v {
        serde_json::Value::Object(map) => map.iter().any(|(k, child)| {
            (k == key && !child.is_null() && f(child)) || visit_key(child, key, f)
        }),
        serde_json::Value::Array(items) => items.iter().any(|i| visit_key(i, key, f)),
        _ => false,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrKind {
    Eq,
    Prefix,
    Suffix,
    Contains,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Lte,
    Gt,
    Gte,
}

impl Cmp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            Cmp::Lt => left < right,
            Cmp::Lte => left <= right,
            Cmp::Gt => left > right,
            Cmp::Gte => left >= right,
        }
    }
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    pub fn parse(text: &str) -> Result<Net, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("invalid cidr `{text}`: not an IP address"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("invalid cidr `{text}`: prefix must be 0..={max}"))?,
        };
        Ok(Net { addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - self.prefix as u32).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - self.prefix as u32).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePart {
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

impl TimePart {
    fn of(self, text: &str) -> Option<i64> {
        let ts = parse_timestamp(text)?;
        let z = ts.to_zoned_datetime(jiff::tz::TimeZone::UTC);
        Some(match self {
            TimePart::Minute => z.minute() as i64,
            TimePart::Hour => z.hour() as i64,
            TimePart::Day => z.day() as i64,
            TimePart::Week => z.date().iso_week_date().week() as i64,
            TimePart::Month => z.month() as i64,
            TimePart::Year => z.year() as i64,
        })
    }
}

/// A test of one value.
#[derive(Debug, Clone)]
pub enum Op {
    /// `needle` is lowercased unless `cased`.
    Str {
        kind: StrKind,
        needle: Box<str>,
        cased: bool,
    },
    /// Any of several substrings (case-insensitive), one automaton.
    AnyContains {
        automaton: AhoCorasick,
        needles: Vec<String>,
    },
    /// An integer literal: equal numbers, or the same digits as text.
    IntEq(i64),
    /// A wildcard pattern with `*` or `?` inside, or a `re` value. `literals` are fixed parts a
    /// matching value must contain (for the prefilter), lowercased.
    Regex {
        regex: Regex,
        literals: Vec<String>,
    },
    /// Any value at all (`*`).
    Any,
    Cidr(Net),
    Num(Cmp, f64),
    Time(TimePart, i64),
}

#[inline]
fn ascii_prefix_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

impl Op {
    #[inline]
    pub fn test(&self, value: &Val<'_>) -> bool {
        match self {
            Op::IntEq(n) => match value {
                Val::Int(i) => i == n,
                Val::Str(s) => s.trim().parse::<i64>().is_ok_and(|i| i == *n),
            },
            Op::Num(cmp, n) => {
                let left = match value {
                    Val::Int(i) => *i as f64,
                    Val::Str(s) => match s.trim().parse::<f64>() {
                        Ok(f) => f,
                        Err(_) => return false,
                    },
                };
                cmp.holds(left, *n)
            }
            Op::Any => true,
            Op::Cidr(net) => match value {
                Val::Str(s) => s.trim().parse::<IpAddr>().is_ok_and(|ip| net.contains(ip)),
                Val::Int(_) => false,
            },
            Op::Time(part, want) => match value {
                Val::Str(s) => part.of(s).is_some_and(|got| got == *want),
                Val::Int(_) => false,
            },
            Op::Regex { regex, .. } => regex.is_match(&value.text()),
            Op::Str {
                kind,
                needle,
                cased,
            } => {
                let text = value.text();
                let hay: &str = &text;
                if *cased {
                    return match kind {
                        StrKind::Eq => hay == &**needle,
                        StrKind::Prefix => hay.starts_with(&**needle),
                        StrKind::Suffix => hay.ends_with(&**needle),
                        StrKind::Contains => hay.contains(&**needle),
                    };
                }
                if hay.is_ascii() {
                    let (h, n) = (hay.as_bytes(), needle.as_bytes());
                    match kind {
                        StrKind::Eq => h.len() == n.len() && h.eq_ignore_ascii_case(n),
                        StrKind::Prefix => ascii_prefix_ci(h, n),
                        StrKind::Suffix => {
                            h.len() >= n.len() && h[h.len() - n.len()..].eq_ignore_ascii_case(n)
                        }
                        StrKind::Contains => {
                            n.is_empty()
                                || (h.len() >= n.len()
                                    && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n)))
                        }
                    }
                } else {
                    let lower = hay.to_lowercase();
                    match kind {
                        StrKind::Eq => *lower == **needle,
                        StrKind::Prefix => lower.starts_with(&**needle),
                        StrKind::Suffix => lower.ends_with(&**needle),
                        StrKind::Contains => lower.contains(&**needle),
                    }
                }
            }
            Op::AnyContains { automaton, .. } => {
                let text = value.text();
                if text.is_ascii() {
                    automaton.is_match(text.as_ref())
                } else {
                    automaton.is_match(&text.to_lowercase())
                }
            }
        }
    }
}

/// What an item asks of its field.
#[derive(Debug, Clone)]
pub enum Test {
    /// `field: null`: absent or null.
    Null,
    Exists(bool),
    /// Values ORed (ANDed with `all`); `neq`: present and no value matches. `or_null`: a `null`
    /// among the values also accepts an absent field.
    Values {
        ops: Vec<Op>,
        all: bool,
        neq: bool,
        or_null: bool,
    },
    /// Equal to (or, with `neq`, different from) another field of the same event.
    FieldRef {
        other: FieldRef,
        neq: bool,
        cased: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Item {
    pub field: FieldRef,
    pub test: Test,
}

impl Item {
    #[inline]
    pub fn eval(&self, ev: &EventView<'_, '_>) -> bool {
        match &self.test {
            Test::Null => !ev.present(&self.field),
            Test::Exists(want) => ev.present(&self.field) == *want,
            Test::Values {
                ops,
                all,
                neq,
                or_null,
            } => {
                if *neq {
                    let mut present = false;
                    let hit = ev.each_value(&self.field, &mut |v| {
                        present = true;
                        ops.iter().any(|op| op.test(&v))
                    });
                    return present && !hit;
                }
                if *all {
                    return ops
                        .iter()
                        .all(|op| ev.each_value(&self.field, &mut |v| op.test(&v)));
                }
                let mut present = false;
                let hit = ev.each_value(&self.field, &mut |v| {
                    present = true;
                    ops.iter().any(|op| op.test(&v))
                });
                hit || (*or_null && !present)
            }
            Test::FieldRef { other, neq, cased } => {
                let left = ev.values(&self.field);
                let right = ev.values(other);
                if left.is_empty() || right.is_empty() {
                    return false;
                }
                let same = left.iter().any(|l| {
                    right.iter().any(|r| {
                        let (l, r) = (l.text(), r.text());
                        if *cased {
                            l == r
                        } else {
                            l.to_lowercase() == r.to_lowercase()
                        }
                    })
                });
                same != *neq
            }
        }
    }

    /// Rough cost, so cheap tests run first inside an AND.
    pub fn cost(&self) -> u32 {
        let field = match &self.field {
            FieldRef::Catalog(def) if def.ty == crate::event::fields::FieldType::Object => 50,
            FieldRef::Catalog(_) | FieldRef::Annotation(_) => 1,
            FieldRef::UserExtra(_) | FieldRef::ExecCommand => 20,
            FieldRef::CsrStrings => 50,
            FieldRef::BodyPath { .. } | FieldRef::BodyAnywhere { .. } => 50,
            FieldRef::Raw => 30,
        };
        let op = match &self.test {
            Test::Values { ops, .. } => ops
                .iter()
                .map(|op| match op {
                    Op::Regex { .. } => 10,
                    Op::AnyContains { .. } => 3,
                    Op::Str {
                        kind: StrKind::Contains,
                        ..
                    } => 3,
                    _ => 1,
                })
                .max()
                .unwrap_or(1),
            Test::FieldRef { .. } => 10,
            _ => 1,
        };
        field * op
    }
}

/// A compiled selection or filter: items combined by AND / OR / NOT.
#[derive(Debug, Clone)]
pub enum Matcher {
    Item(Item),
    And(Vec<Matcher>),
    Or(Vec<Matcher>),
    Not(Box<Matcher>),
}

impl Matcher {
    #[inline]
    pub fn eval(&self, ev: &EventView<'_, '_>) -> bool {
        match self {
            Matcher::Item(item) => item.eval(ev),
            Matcher::And(ms) => ms.iter().all(|m| m.eval(ev)),
            Matcher::Or(ms) => ms.iter().any(|m| m.eval(ev)),
            Matcher::Not(m) => !m.eval(ev),
        }
    }

    pub fn cost(&self) -> u32 {
        match self {
            Matcher::Item(item) => item.cost(),
            Matcher::And(ms) | Matcher::Or(ms) => ms.iter().map(Matcher::cost).sum(),
            Matcher::Not(m) => m.cost(),
        }
    }

    /// Orders the children of every AND cheapest first (AND has no side effects).
    pub fn optimize(&mut self) {
        match self {
            Matcher::And(ms) => {
                ms.iter_mut().for_each(Matcher::optimize);
                ms.sort_by_key(Matcher::cost);
            }
            Matcher::Or(ms) => ms.iter_mut().for_each(Matcher::optimize),
            Matcher::Not(m) => m.optimize(),
            Matcher::Item(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_table() {
        let cases = [
            ("10.0.0.0/8", "10.1.2.3", true),
            ("10.0.0.0/8", "11.0.0.1", false),
            ("0.0.0.0/0", "8.8.8.8", true),
            ("192.168.1.7", "192.168.1.7", true),
            ("fd00::/8", "fd12::1", true),
            ("fd00::/8", "fe80::1", false),
            ("10.0.0.0/8", "fd00::1", false),
        ];
        for (net, ip, want) in cases {
            let n = Net::parse(net).unwrap();
            assert_eq!(n.contains(ip.parse().unwrap()), want, "{net} {ip}");
        }
        assert!(Net::parse("10.0.0.0/33").is_err());
        assert!(Net::parse("nope/8").is_err());
    }
}
