//! Sigma documents → compiled rules. Reads one YAML document at a time and reports every problem
//! it finds (not only the first) with the line it sits on.

use super::condition::{self, Cond};
use super::mapping;
use super::matcher::{Cmp, FieldRef, Item, Matcher, Net, Op, StrKind, Test, TimePart};
use super::yaml::{Node, Scalar, Value};
use super::{Diag, Level, RuleMeta};
use aho_corasick::AhoCorasickBuilder;
use base64::Engine as _;
use regex::RegexBuilder;

/// A compiled detection: named selections and the condition over them.
#[derive(Debug, Clone)]
pub struct Detection {
    pub names: Vec<String>,
    pub selections: Vec<Matcher>,
    pub condition: Cond,
}

impl Detection {
    #[inline]
    pub fn eval(&self, ev: &super::matcher::EventView<'_, '_>) -> bool {
        self.condition.eval(&mut |i| self.selections[i].eval(ev))
    }
}

#[derive(Debug, Clone)]
pub struct CorrelationDoc {
    pub kind: CorrelationKind,
    pub rules: Vec<(String, usize)>,
    pub group_by: Vec<String>,
    /// alias → (rule name → field)
    pub aliases: Vec<(String, Vec<(String, String)>)>,
    pub timespan_secs: i64,
    pub conditions: Vec<(CountCmp, f64)>,
    pub field: Option<String>,
    pub generate: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorrelationKind {
    EventCount,
    ValueCount,
    Temporal,
    TemporalOrdered,
    ValueSum,
    ValueAvg,
}

impl CorrelationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CorrelationKind::EventCount => "event_count",
            CorrelationKind::ValueCount => "value_count",
            CorrelationKind::Temporal => "temporal",
            CorrelationKind::TemporalOrdered => "temporal_ordered",
            CorrelationKind::ValueSum => "value_sum",
            CorrelationKind::ValueAvg => "value_avg",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountCmp {
    Gt,
    Gte,
    Lt,
    Lte,
    Eq,
    Neq,
}

impl CountCmp {
    pub fn holds(self, left: f64, right: f64) -> bool {
        match self {
            CountCmp::Gt => left > right,
            CountCmp::Gte => left >= right,
            CountCmp::Lt => left < right,
            CountCmp::Lte => left <= right,
            CountCmp::Eq => left == right,
            CountCmp::Neq => left != right,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FilterDoc {
    pub rules: Vec<(String, usize)>,
    pub detection: Detection,
}

#[derive(Debug, Clone)]
pub enum Body {
    Detection(Detection),
    Correlation(CorrelationDoc),
    Filter(FilterDoc),
}

/// A test event written beside or inside a rule.
#[derive(Debug, Clone)]
pub struct TestEvent {
    pub file: String,
    pub expect_match: bool,
    /// The event (a detection's test), or a JSON array of events in order (a correlation's).
    pub event: serde_json::Value,
    pub line: usize,
    /// The exposure verdict the match must carry (`exposure:` in the test), when given.
    pub exposure: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Document {
    pub meta: RuleMeta,
    pub body: Body,
    pub tests: Vec<TestEvent>,
}

pub enum Parsed {
    Rule(Box<Document>),
    /// A rule for another log source: not an error, not run.
    OtherLogsource(String),
}

struct Ctx<'d> {
    file: &'d str,
    diags: &'d mut Vec<Diag>,
    failed: bool,
    /// Values of `%name%` placeholders for the `expand` modifier.
    placeholders: &'d Placeholders,
}

/// Placeholder name (without `%`) → its values (see `crate::config`).
pub type Placeholders = std::collections::BTreeMap<String, Vec<String>>;

impl Ctx<'_> {
    fn error(&mut self, line: usize, message: impl Into<String>) {
        self.failed = true;
        self.diags.push(Diag::error(self.file, line, message));
    }

    fn warn(&mut self, line: usize, message: impl Into<String>) {
        self.diags.push(Diag::warning(self.file, line, message));
    }
}

fn scalar_string(node: &Node) -> Option<String> {
    match node.scalar()? {
        Scalar::Str(s) => Some(s.to_owned()),
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Float(_) | Scalar::Bool(_) => node.as_str().map(str::to_owned),
        Scalar::Null => None,
    }
}

fn string_list(node: Option<&Node>) -> Vec<String> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items.iter().filter_map(scalar_string).collect(),
        Some(Value::Scalar(..)) => node.and_then(scalar_string).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Parses and compiles one YAML document. Problems go to `diags`; `None` when the document
/// cannot be used.
pub fn parse_document(
    doc: &Node,
    file: &str,
    placeholders: &Placeholders,
    diags: &mut Vec<Diag>,
) -> Option<Parsed> {
    let mut cx = Ctx {
        file,
        diags,
        failed: false,
        placeholders,
    };
    if doc.entries().is_none() {
        if doc.is_null() {
            return None;
        }
        cx.error(
            doc.line,
            format!("a rule must be a map, found {}", doc.kind_name()),
        );
        return None;
    }
    let title = match doc.get("title").and_then(scalar_string) {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            cx.error(doc.line, "rule has no `title`");
            String::from("(untitled)")
        }
    };
    let level = match doc.get("level") {
        None => Level::Medium,
        Some(node) => match node.as_str().and_then(Level::parse) {
            Some(l) => l,
            None => {
                cx.error(
                    node.line,
                    "`level` must be informational, low, medium, high or critical",
                );
                Level::Medium
            }
        },
    };
    let id = doc.get("id").and_then(scalar_string);
    let name = doc.get("name").and_then(scalar_string);
    let credwatch = doc.get("credwatch");
    let meta = RuleMeta {
        id,
        name,
        title,
        level,
        status: doc.get("status").and_then(scalar_string),
        description: doc.get("description").and_then(scalar_string),
        tags: string_list(doc.get("tags")),
        falsepositives: string_list(doc.get("falsepositives")),
        playbook: credwatch
            .and_then(|c| c.get("playbook"))
            .and_then(scalar_string),
        author: doc.get("author").and_then(scalar_string),
        standalone: credwatch
            .and_then(|c| c.get("standalone"))
            .is_some_and(|n| n.scalar() == Some(Scalar::Bool(true))),
        file: file.to_owned(),
        line: doc.line,
        builtin: false,
        docker: doc
            .get("logsource")
            .and_then(|l| l.get("product"))
            .and_then(scalar_string)
            .is_some_and(|p| p.eq_ignore_ascii_case("docker")),
    };
    let tests = credwatch
        .and_then(|c| c.get("tests"))
        .map(|t| parse_tests(t, &mut cx))
        .unwrap_or_default();

    let body = if let Some(corr) = doc.get("correlation") {
        Body::Correlation(parse_correlation(corr, &mut cx)?)
    } else {
        if let Some(reason) = other_logsource(doc.get("logsource"), &mut cx) {
            return Some(Parsed::OtherLogsource(reason));
        }
        if let Some(filter) = doc.get("filter") {
            let rules = string_list_lined(filter.get("rules"));
            let detection = compile_detection(filter, &mut cx, true);
            Body::Filter(FilterDoc {
                rules,
                detection: detection?,
            })
        } else if let Some(detection) = doc.get("detection") {
            Body::Detection(compile_detection(detection, &mut cx, false)?)
        } else {
            cx.error(
                doc.line,
                "document has none of `detection`, `correlation` or `filter`",
            );
            return None;
        }
    };
    if cx.failed {
        return None;
    }
    Some(Parsed::Rule(Box::new(Document { meta, body, tests })))
}

fn string_list_lined(node: Option<&Node>) -> Vec<(String, usize)> {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items
            .iter()
            .filter_map(|n| scalar_string(n).map(|s| (s, n.line)))
            .collect(),
        Some(Value::Scalar(..)) => node
            .and_then(|n| scalar_string(n).map(|s| (s, n.line)))
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// `Some(reason)` when the rule is for a log source credwatch does not read.
fn other_logsource(node: Option<&Node>, cx: &mut Ctx<'_>) -> Option<String> {
    let Some(node) = node else {
        cx.warn(0, "rule has no `logsource`; run as kubernetes/audit");
        return None;
    };
    let product = node.get("product").and_then(scalar_string);
    let service = node.get("service").and_then(scalar_string);
    match (product.as_deref(), service.as_deref()) {
        // credwatch's own: Docker Engine API calls, whatever record they came from.
        (Some(p), _) if p.eq_ignore_ascii_case("docker") => None,
        (Some(p), _) if !p.eq_ignore_ascii_case("kubernetes") => {
            Some(format!("logsource product `{p}`"))
        }
        (_, Some(s)) if !s.eq_ignore_ascii_case("audit") => {
            Some(format!("logsource service `{s}`"))
        }
        _ => None,
    }
}

fn parse_tests(node: &Node, cx: &mut Ctx<'_>) -> Vec<TestEvent> {
    let Value::Seq(items) = &node.value else {
        cx.error(node.line, "`tests` must be a list of {match, event}");
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        let expect = item.get("match").and_then(|m| match m.scalar() {
            Some(Scalar::Bool(b)) => Some(b),
            _ => None,
        });
        let event = item.get("event");
        let events = item.get("events");
        let exposure = item.get("exposure").and_then(scalar_string);
        if let Some(v) = &exposure
            && !["exposed", "attempted", "possible", "none"].contains(&v.as_str())
        {
            cx.error(
                item.line,
                format!("`exposure: {v}` must be exposed, attempted, possible or none"),
            );
        }
        match (expect, event, events) {
            (Some(expect_match), Some(event), None) if event.entries().is_some() => {
                out.push(TestEvent {
                    file: cx.file.to_owned(),
                    expect_match,
                    event: event.to_json(),
                    line: item.line,
                    exposure: exposure.clone(),
                })
            }
            (Some(expect_match), None, Some(events)) if matches!(events.value, Value::Seq(_)) => {
                out.push(TestEvent {
                    file: cx.file.to_owned(),
                    expect_match,
                    event: events.to_json(),
                    line: item.line,
                    exposure: exposure.clone(),
                })
            }
            _ => cx.error(
                item.line,
                "a test needs `match: true|false` and an `event` map (or, for a correlation, an `events` list)",
            ),
        }
    }
    out
}

/// Parses a `*.tests.yml` file's list.
pub fn parse_test_file(doc: &Node, file: &str, diags: &mut Vec<Diag>) -> Vec<TestEvent> {
    let none = Placeholders::new();
    let mut cx = Ctx {
        file,
        diags,
        failed: false,
        placeholders: &none,
    };
    parse_tests(doc, &mut cx)
}

/// `90s`, `10m`, `2h`, `1d`, `1w` in seconds.
pub fn parse_timespan(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let n: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    let mult = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86400,
        'w' => 7 * 86400,
        _ => return None,
    };
    (n > 0).then_some(n * mult)
}

fn parse_correlation(node: &Node, cx: &mut Ctx<'_>) -> Option<CorrelationDoc> {
    let kind = match node.get("type").and_then(|t| t.as_str()) {
        Some("event_count") => CorrelationKind::EventCount,
        Some("value_count") => CorrelationKind::ValueCount,
        Some("temporal") => CorrelationKind::Temporal,
        Some("temporal_ordered") => CorrelationKind::TemporalOrdered,
        Some("value_sum") => CorrelationKind::ValueSum,
        Some("value_avg") => CorrelationKind::ValueAvg,
        Some(other) => {
            cx.error(
                node.get("type").map_or(node.line, |n| n.line),
                format!("correlation type `{other}` is unsupported (event_count, value_count, temporal, temporal_ordered, value_sum, value_avg)"),
            );
            return None;
        }
        None => {
            cx.error(node.line, "correlation has no `type`");
            return None;
        }
    };
    let rules = string_list_lined(node.get("rules"));
    if rules.is_empty() {
        cx.error(node.line, "correlation has no `rules`");
    }
    let group_by = string_list(node.get("group-by"));
    let timespan_secs = match node.get("timespan") {
        Some(t) => match t.as_str().and_then(parse_timespan) {
            Some(s) => s,
            None => {
                cx.error(
                    t.line,
                    "invalid timespan: write a number and s, m, h or d (`5m`)",
                );
                0
            }
        },
        None => {
            cx.error(node.line, "correlation has no `timespan`");
            0
        }
    };
    let mut aliases = Vec::new();
    if let Some(entries) = node.get("aliases").and_then(Node::entries) {
        for (alias, map) in entries {
            let per_rule = map
                .entries()
                .unwrap_or_default()
                .iter()
                .filter_map(|(k, v)| Some((scalar_string(k)?, scalar_string(v)?)))
                .collect();
            if let Some(alias) = scalar_string(alias) {
                aliases.push((alias, per_rule));
            }
        }
    }
    let mut conditions = Vec::new();
    let mut field = None;
    let needs_field = matches!(
        kind,
        CorrelationKind::ValueCount | CorrelationKind::ValueSum | CorrelationKind::ValueAvg
    );
    match node.get("condition") {
        Some(cond) => match cond.entries() {
            Some(entries) => {
                for (k, v) in entries {
                    let key = k.as_str().unwrap_or_default();
                    if key == "field" {
                        field = scalar_string(v);
                        continue;
                    }
                    let cmp = match key {
                        "gt" => CountCmp::Gt,
                        "gte" => CountCmp::Gte,
                        "lt" => CountCmp::Lt,
                        "lte" => CountCmp::Lte,
                        "eq" => CountCmp::Eq,
                        "neq" => CountCmp::Neq,
                        other => {
                            cx.error(
                                k.line,
                                format!("correlation condition: unknown operator `{other}`"),
                            );
                            continue;
                        }
                    };
                    match v.scalar() {
                        Some(Scalar::Int(i)) => conditions.push((cmp, i as f64)),
                        Some(Scalar::Float(f)) => conditions.push((cmp, f)),
                        _ => cx.error(
                            v.line,
                            "correlation condition: the threshold must be a number",
                        ),
                    }
                }
            }
            None => cx.error(
                cond.line,
                "correlation condition must be a map like `gte: 5`",
            ),
        },
        None => {
            if !matches!(
                kind,
                CorrelationKind::Temporal | CorrelationKind::TemporalOrdered
            ) {
                cx.error(node.line, "correlation has no `condition`");
            }
        }
    }
    if needs_field && field.is_none() {
        cx.error(
            node.line,
            format!("{} needs `field` in its condition", kind.as_str()),
        );
    }
    if let Some(f) = &field
        && let Err(e) = mapping::resolve(f)
    {
        cx.error(node.line, e);
    }
    for g in &group_by {
        if !aliases.iter().any(|(a, _)| a == g)
            && let Err(e) = mapping::resolve(g)
        {
            cx.error(node.line, format!("group-by: {e}"));
        }
    }
    let generate = matches!(
        node.get("generate").and_then(Node::scalar),
        Some(Scalar::Bool(true))
    );
    Some(CorrelationDoc {
        kind,
        rules,
        group_by,
        aliases,
        timespan_secs,
        conditions,
        field,
        generate,
    })
}

/// Compiles a `detection` (or the body of a `filter`): every key but `condition` (and, in a
/// filter, `rules`) is a selection.
fn compile_detection(node: &Node, cx: &mut Ctx<'_>, filter: bool) -> Option<Detection> {
    let Some(entries) = node.entries() else {
        cx.error(
            node.line,
            "`detection` must be a map of selections and a condition",
        );
        return None;
    };
    let mut names = Vec::new();
    let mut selections = Vec::new();
    let mut condition_node = None;
    for (key, value) in entries {
        let Some(name) = key.as_str() else {
            cx.error(key.line, "selection names must be strings");
            continue;
        };
        match name {
            "condition" => condition_node = Some(value),
            "timeframe" => cx.error(
                key.line,
                "`timeframe` is Sigma v1 aggregation; use a correlation rule (unsupported)",
            ),
            "rules" if filter => {}
            _ => {
                if let Some(m) = compile_selection(value, cx) {
                    names.push(name.to_owned());
                    selections.push(m);
                } else {
                    // Keep the name so the condition does not also fail on it.
                    names.push(name.to_owned());
                    selections.push(Matcher::Or(Vec::new()));
                }
            }
        }
    }
    let Some(cond_node) = condition_node else {
        cx.error(node.line, "detection has no `condition`");
        return None;
    };
    let text = match &cond_node.value {
        Value::Scalar(s, _) => s.clone(),
        Value::Seq(items) if items.len() == 1 => items[0].as_str().unwrap_or_default().to_owned(),
        Value::Seq(_) => {
            cx.error(
                cond_node.line,
                "condition: a list of conditions is unsupported; join them with `or`",
            );
            return None;
        }
        Value::Map(_) => {
            cx.error(cond_node.line, "condition must be a string");
            return None;
        }
    };
    let condition = match condition::parse(&text, &names) {
        Ok(c) => c,
        Err(e) => {
            let msg = if e.starts_with("condition") {
                e
            } else {
                format!("condition: {e}")
            };
            cx.error(cond_node.line, msg);
            return None;
        }
    };
    for m in &mut selections {
        m.optimize();
    }
    Some(Detection {
        names,
        selections,
        condition,
    })
}

fn compile_selection(node: &Node, cx: &mut Ctx<'_>) -> Option<Matcher> {
    match &node.value {
        Value::Map(entries) => {
            let mut items = Vec::new();
            for (key, value) in entries {
                let Some(key) = key.as_str() else {
                    cx.error(key.line, "field names must be strings");
                    continue;
                };
                if let Some(m) = compile_item(key, value, cx) {
                    items.push(m);
                }
            }
            if items.is_empty() {
                cx.error(node.line, "selection is empty");
                return None;
            }
            Some(if items.len() == 1 {
                items.remove(0)
            } else {
                Matcher::And(items)
            })
        }
        Value::Seq(items) if items.iter().all(|i| i.entries().is_some()) && !items.is_empty() => {
            let maps: Vec<Matcher> = items
                .iter()
                .filter_map(|i| compile_selection(i, cx))
                .collect();
            Some(Matcher::Or(maps))
        }
        Value::Seq(items) => {
            // Keywords: strings searched for anywhere in the record.
            if items.iter().any(|i| i.entries().is_some()) {
                cx.error(node.line, "a selection list mixes maps and keywords");
                return None;
            }
            compile_values(FieldRef::Raw, "keywords", &[], items, node.line, cx, true)
        }
        Value::Scalar(..) => compile_values(
            FieldRef::Raw,
            "keywords",
            &[],
            std::slice::from_ref(node),
            node.line,
            cx,
            true,
        ),
    }
}

fn compile_item(key: &str, value: &Node, cx: &mut Ctx<'_>) -> Option<Matcher> {
    let mut parts = key.split('|');
    let field_name = parts.next().unwrap_or_default();
    let modifiers: Vec<&str> = parts.collect();
    let values: Vec<Node> = match &value.value {
        Value::Seq(items) => items.clone(),
        Value::Map(_) => {
            cx.error(
                value.line,
                format!("`{key}`: a value must be a scalar or a list, not a map"),
            );
            return None;
        }
        Value::Scalar(..) => vec![value.clone()],
    };
    if field_name.is_empty() {
        return compile_values(
            FieldRef::Raw,
            "keywords",
            &modifiers,
            &values,
            value.line,
            cx,
            true,
        );
    }
    // Value meanings from the mapping layer (`responseStatus.code: ALLOW`) replace those values.
    let mut mapped = Vec::new();
    let mut rest = Vec::new();
    for v in &values {
        match (modifiers.is_empty(), v.as_str()) {
            (true, Some(text)) => match mapping::value_meaning(field_name, text) {
                Some(m) => mapped.push(m),
                None => rest.push(v.clone()),
            },
            _ => rest.push(v.clone()),
        }
    }
    let field = match mapping::resolve(field_name) {
        Ok(f) => f,
        Err(e) => {
            cx.error(value.line, e);
            return None;
        }
    };
    if rest.is_empty() && !mapped.is_empty() {
        return Some(if mapped.len() == 1 {
            mapped.remove(0)
        } else {
            Matcher::Or(mapped)
        });
    }
    let item = compile_values(field, key, &modifiers, &rest, value.line, cx, false)?;
    if mapped.is_empty() {
        Some(item)
    } else {
        mapped.push(item);
        Some(Matcher::Or(mapped))
    }
}

#[derive(Default)]
struct Mods {
    kind: Option<StrKind>,
    all: bool,
    exists: bool,
    cased: bool,
    neq: bool,
    re: bool,
    re_i: bool,
    re_m: bool,
    re_s: bool,
    cidr: bool,
    cmp: Option<Cmp>,
    base64: bool,
    base64offset: bool,
    fieldref: bool,
    expand: bool,
    time: Option<TimePart>,
}

fn parse_mods(modifiers: &[&str], key: &str, line: usize, cx: &mut Ctx<'_>) -> Option<Mods> {
    let mut m = Mods::default();
    let mut ok = true;
    for (i, raw) in modifiers.iter().enumerate() {
        let after_re = i > 0 && modifiers[..i].contains(&"re");
        match *raw {
            "contains" => m.kind = Some(StrKind::Contains),
            "startswith" => m.kind = Some(StrKind::Prefix),
            "endswith" => m.kind = Some(StrKind::Suffix),
            "all" => m.all = true,
            "exists" => m.exists = true,
            "cased" => m.cased = true,
            "neq" => m.neq = true,
            "re" => m.re = true,
            "i" if after_re => m.re_i = true,
            "m" if after_re => m.re_m = true,
            "s" if after_re => m.re_s = true,
            "cidr" => m.cidr = true,
            "lt" => m.cmp = Some(Cmp::Lt),
            "lte" => m.cmp = Some(Cmp::Lte),
            "gt" => m.cmp = Some(Cmp::Gt),
            "gte" => m.cmp = Some(Cmp::Gte),
            "base64" => m.base64 = true,
            "base64offset" => m.base64offset = true,
            "fieldref" => m.fieldref = true,
            "minute" => m.time = Some(TimePart::Minute),
            "hour" => m.time = Some(TimePart::Hour),
            "day" => m.time = Some(TimePart::Day),
            "week" => m.time = Some(TimePart::Week),
            "month" => m.time = Some(TimePart::Month),
            "year" => m.time = Some(TimePart::Year),
            "expand" => m.expand = true,
            "windash" | "utf16" | "utf16le" | "utf16be" | "wide" => {
                cx.error(
                    line,
                    format!("`{key}`: modifier `{raw}` is unsupported for this log source (Kubernetes audit events)"),
                );
                ok = false;
            }
            other => {
                cx.error(line, format!("`{key}`: unknown modifier `{other}`"));
                ok = false;
            }
        }
    }
    ok.then_some(m)
}

fn lit_error(cx: &mut Ctx<'_>, line: usize, key: &str, msg: &str) {
    cx.error(line, format!("`{key}`: {msg}"));
}

/// Compiles `field|mods: values` into one item.
fn compile_values(
    field: FieldRef,
    key: &str,
    modifiers: &[&str],
    values: &[Node],
    line: usize,
    cx: &mut Ctx<'_>,
    keywords: bool,
) -> Option<Matcher> {
    let mods = parse_mods(modifiers, key, line, cx)?;
    let expanded;
    let values = if mods.expand {
        expanded = expand_placeholders(values, key, cx)?;
        if expanded.is_empty() {
            // A placeholder configured with no values: this test matches nothing.
            return Some(Matcher::Or(Vec::new()));
        }
        &expanded[..]
    } else {
        values
    };
    if values.is_empty() {
        lit_error(cx, line, key, "has no values");
        return None;
    }
    if mods.all && values.len() == 1 {
        lit_error(
            cx,
            line,
            key,
            "`all` needs a list of several values (Sigma forbids it on a single value)",
        );
        return None;
    }
    if mods.exists {
        return match (values.len(), values[0].scalar()) {
            (1, Some(Scalar::Bool(b))) => Some(Matcher::Item(Item {
                field,
                test: Test::Exists(b),
            })),
            _ => {
                lit_error(cx, line, key, "`exists` takes `true` or `false`");
                None
            }
        };
    }
    if mods.fieldref {
        let Some(other) = values.first().and_then(scalar_string) else {
            lit_error(cx, line, key, "`fieldref` needs a field name");
            return None;
        };
        let mut refs = Vec::new();
        for v in values {
            let name = scalar_string(v).unwrap_or_default();
            match mapping::resolve(&name) {
                Ok(f) => refs.push(Matcher::Item(Item {
                    field: field.clone(),
                    test: Test::FieldRef {
                        other: f,
                        neq: mods.neq,
                        cased: mods.cased,
                    },
                })),
                Err(e) => {
                    lit_error(cx, v.line, key, &format!("fieldref `{other}`: {e}"));
                    return None;
                }
            }
        }
        return Some(if refs.len() == 1 {
            refs.remove(0)
        } else if mods.all || mods.neq {
            Matcher::And(refs)
        } else {
            Matcher::Or(refs)
        });
    }
    let mut ops = Vec::new();
    let mut or_null = false;
    let mut contains_needles = Vec::new();
    for v in values {
        let scalar = v.scalar();
        let text = match scalar {
            Some(Scalar::Null) | None => {
                if v.entries().is_some() || matches!(v.value, Value::Seq(_)) {
                    lit_error(cx, v.line, key, "values must be scalars");
                    return None;
                }
                if keywords {
                    lit_error(cx, v.line, key, "a keyword cannot be null");
                    return None;
                }
                if values.len() == 1 && !mods.neq {
                    return Some(Matcher::Item(Item {
                        field,
                        test: Test::Null,
                    }));
                }
                or_null = true;
                continue;
            }
            Some(Scalar::Str(s)) => s.to_owned(),
            Some(Scalar::Int(i)) => i.to_string(),
            Some(Scalar::Float(_)) | Some(Scalar::Bool(_)) => {
                v.as_str().unwrap_or_default().to_owned()
            }
        };
        if let Some(cmp) = mods.cmp {
            match text.trim().parse::<f64>() {
                Ok(n) => ops.push(Op::Num(cmp, n)),
                Err(_) => {
                    lit_error(cx, v.line, key, &format!("`{text}` is not a number"));
                    return None;
                }
            }
            continue;
        }
        if let Some(part) = mods.time {
            match text.trim().parse::<i64>() {
                Ok(n) => ops.push(Op::Time(part, n)),
                Err(_) => {
                    lit_error(cx, v.line, key, &format!("`{text}` is not a number"));
                    return None;
                }
            }
            continue;
        }
        if mods.cidr {
            match Net::parse(&text) {
                Ok(net) => ops.push(Op::Cidr(net)),
                Err(e) => {
                    lit_error(cx, v.line, key, &e);
                    return None;
                }
            }
            continue;
        }
        if mods.re {
            let built = RegexBuilder::new(&text)
                .case_insensitive(mods.re_i)
                .multi_line(mods.re_m)
                .dot_matches_new_line(mods.re_s)
                .size_limit(1 << 22)
                .build();
            match built {
                Ok(regex) => ops.push(Op::Regex {
                    regex,
                    literals: Vec::new(),
                }),
                Err(e) => {
                    let first = e.to_string().lines().last().unwrap_or_default().to_owned();
                    lit_error(cx, v.line, key, &format!("invalid regex: {first}"));
                    return None;
                }
            }
            continue;
        }
        if mods.base64 || mods.base64offset {
            let kind = mods.kind.unwrap_or(StrKind::Eq);
            let encoded: Vec<String> = if mods.base64offset {
                base64_offsets(text.as_bytes())
            } else {
                vec![base64::engine::general_purpose::STANDARD.encode(text.as_bytes())]
            };
            for e in encoded {
                // Base64 is case-sensitive by nature.
                ops.push(Op::Str {
                    kind,
                    needle: e.into(),
                    cased: true,
                });
            }
            continue;
        }
        let int_field = matches!(&field, FieldRef::Catalog(def) if def.ty == crate::event::fields::FieldType::Integer);
        if mods.kind.is_none()
            && !mods.cased
            && let Ok(i) = text.parse::<i64>()
            && (int_field || scalar == Some(Scalar::Int(i)))
        {
            ops.push(Op::IntEq(i));
            continue;
        }
        let kind = if keywords {
            StrKind::Contains
        } else {
            mods.kind.unwrap_or(StrKind::Eq)
        };
        match wildcard_op(&text, kind, mods.cased) {
            Ok(WildOp::Plain(needle)) if kind == StrKind::Contains && !mods.cased && !mods.all => {
                contains_needles.push(needle);
            }
            Ok(WildOp::Plain(needle)) => ops.push(Op::Str {
                kind,
                needle: needle.into(),
                cased: mods.cased,
            }),
            Ok(WildOp::Op(op)) => ops.push(op),
            Err(e) => {
                lit_error(cx, v.line, key, &e);
                return None;
            }
        }
    }
    match contains_needles.len() {
        0 => {}
        _ => ops.extend(any_contains(contains_needles)),
    }
    if ops.is_empty() && !or_null {
        lit_error(cx, line, key, "has no values");
        return None;
    }
    Some(Matcher::Item(Item {
        field,
        test: Test::Values {
            ops,
            all: mods.all,
            neq: mods.neq,
            or_null,
        },
    }))
}

/// The `expand` modifier: every `%name%` in a value replaced by each configured value of the
/// placeholder (several placeholders in one value give every combination); `\%` is a plain `%`.
fn expand_placeholders(values: &[Node], key: &str, cx: &mut Ctx<'_>) -> Option<Vec<Node>> {
    let mut out = Vec::new();
    for v in values {
        let Some(text) = scalar_string(v) else {
            lit_error(cx, v.line, key, "`expand` needs string values");
            return None;
        };
        // Alternating literal text and placeholder names.
        let mut variants = vec![String::new()];
        let mut rest = text.as_str();
        while !rest.is_empty() {
            if let Some(after) = rest.strip_prefix("\\%") {
                variants.iter_mut().for_each(|s| s.push('%'));
                rest = after;
            } else if let Some(after) = rest.strip_prefix('%') {
                let Some(end) = after.find('%') else {
                    lit_error(
                        cx,
                        v.line,
                        key,
                        &format!("unclosed placeholder in `{text}`"),
                    );
                    return None;
                };
                let name = &after[..end];
                let Some(replacements) = cx.placeholders.get(name) else {
                    let known: Vec<&str> = cx.placeholders.keys().map(String::as_str).collect();
                    let msg = format!(
                        "unknown placeholder `%{name}%` (configured: {}; set it under `placeholders` in --config)",
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    );
                    lit_error(cx, v.line, key, &msg);
                    return None;
                };
                variants = variants
                    .iter()
                    .flat_map(|prefix| replacements.iter().map(move |r| format!("{prefix}{r}")))
                    .collect();
                rest = &after[end + 1..];
            } else {
                let cut = rest
                    .char_indices()
                    .skip(1)
                    .find(|&(i, c)| c == '%' || (c == '\\' && rest[i..].starts_with("\\%")))
                    .map_or(rest.len(), |(i, _)| i);
                variants.iter_mut().for_each(|s| s.push_str(&rest[..cut]));
                rest = &rest[cut..];
            }
        }
        out.extend(variants.into_iter().map(|text| Node {
            value: Value::Scalar(text, true),
            line: v.line,
        }));
    }
    Some(out)
}

pub fn any_contains(needles: Vec<String>) -> Vec<Op> {
    let build = |kind| {
        AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(kind)
            .build(&needles)
    };
    // A DFA: the haystacks (URIs, user agents) are short, so per-byte speed beats build cost.
    // A list too large for one falls back to the crate's choice.
    match build(Some(aho_corasick::AhoCorasickKind::DFA)).or_else(|_| build(None)) {
        Ok(automaton) => vec![Op::AnyContains { automaton, needles }],
        // Past the automaton's size limits: one substring test per needle, slower but exact.
        Err(_) => needles
            .into_iter()
            .map(|needle| Op::Str {
                kind: StrKind::Contains,
                needle: needle.into(),
                cased: false,
            })
            .collect(),
    }
}

/// pySigma's `base64offset`: the value encoded at each of the three alignments, trimmed to the
/// characters that do not depend on the surrounding bytes.
fn base64_offsets(value: &[u8]) -> Vec<String> {
    let engine = base64::engine::general_purpose::STANDARD;
    (0..3usize)
        .map(|i| {
            let mut padded = vec![b' '; i];
            padded.extend_from_slice(value);
            let enc = engine.encode(&padded);
            let start = [0, 2, 3][i];
            let end_trim = [0, 3, 2][(value.len() + i) % 3];
            let end = enc.len().saturating_sub(end_trim);
            enc.get(start..end.max(start))
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

enum WildOp {
    /// No wildcards: the unescaped, lowercased (unless cased) needle.
    Plain(String),
    Op(Op),
}

/// Turns a Sigma value with `*`, `?` and escapes into the cheapest op that matches it.
fn wildcard_op(text: &str, kind: StrKind, cased: bool) -> Result<WildOp, String> {
    // Split into literal runs and wildcards.
    #[derive(PartialEq)]
    enum Piece {
        Lit(String),
        Star,
        One,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut lit = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.peek() {
                Some(&n @ ('*' | '?' | '\\')) => {
                    lit.push(n);
                    chars.next();
                }
                _ => lit.push('\\'),
            },
            '*' | '?' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let piece = if c == '*' { Piece::Star } else { Piece::One };
                if !(piece == Piece::Star && pieces.last() == Some(&Piece::Star)) {
                    pieces.push(piece);
                }
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Lit(lit));
    }
    let fold = |s: &str| {
        if cased {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    };
    let (lead, trail) = match kind {
        StrKind::Eq => (false, false),
        StrKind::Prefix => (false, true),
        StrKind::Suffix => (true, false),
        StrKind::Contains => (true, true),
    };
    if lead {
        pieces.insert(0, Piece::Star);
    }
    if trail {
        pieces.push(Piece::Star);
    }
    pieces.dedup_by(|a, b| *a == Piece::Star && *b == Piece::Star);
    let has_one = pieces.contains(&Piece::One);
    let lits: Vec<&String> = pieces
        .iter()
        .filter_map(|p| if let Piece::Lit(s) = p { Some(s) } else { None })
        .collect();
    if !has_one {
        match (pieces.as_slice(), lits.len()) {
            ([], _) => {
                return Ok(WildOp::Op(Op::Str {
                    kind: StrKind::Eq,
                    needle: "".into(),
                    cased: true,
                }));
            }
            ([Piece::Star], _) => return Ok(WildOp::Op(Op::Any)),
            ([Piece::Lit(s)], _) => return Ok(plain_or(StrKind::Eq, fold(s), kind, cased)),
            ([Piece::Lit(s), Piece::Star], _) => {
                return Ok(plain_or(StrKind::Prefix, fold(s), kind, cased));
            }
            ([Piece::Star, Piece::Lit(s)], _) => {
                return Ok(plain_or(StrKind::Suffix, fold(s), kind, cased));
            }
            ([Piece::Star, Piece::Lit(s), Piece::Star], _) => {
                return Ok(plain_or(StrKind::Contains, fold(s), kind, cased));
            }
            _ => {}
        }
    }
    let mut pattern = String::from(if cased { "(?s)^" } else { "(?si)^" });
    for p in &pieces {
        match p {
            Piece::Lit(s) => pattern.push_str(&regex::escape(s)),
            Piece::Star => pattern.push_str(".*"),
            Piece::One => pattern.push('.'),
        }
    }
    pattern.push('$');
    let regex = RegexBuilder::new(&pattern)
        .size_limit(1 << 22)
        .build()
        .map_err(|e| format!("value `{text}` cannot be compiled: {e}"))?;
    Ok(WildOp::Op(Op::Regex {
        regex,
        literals: lits.into_iter().map(|s| fold(s)).collect(),
    }))
}

/// A pattern reduced to one string test; `Plain` only when it is the requested kind (so
/// contains-needles can be merged into one automaton).
fn plain_or(found: StrKind, needle: String, requested: StrKind, cased: bool) -> WildOp {
    if found == requested {
        WildOp::Plain(needle)
    } else {
        WildOp::Op(Op::Str {
            kind: found,
            needle: needle.into(),
            cased,
        })
    }
}
