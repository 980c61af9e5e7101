//! Rules: Sigma detection, correlation and filter documents, loaded from files or built in,
//! compiled into a [`RuleSet`] that the engine runs. See `docs/rules.md` for what each Sigma
//! construct means here.

pub mod builtin;
pub mod condition;
pub mod mapping;
pub mod matcher;
pub mod prefilter;
pub mod sigma;
pub mod testing;
pub mod yaml;

use crate::config::Config;
use matcher::{EventView, FieldRef};
use serde::Serialize;
use sigma::{Body, CorrelationDoc, CorrelationKind, CountCmp, Detection, Document, TestEvent};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Informational,
    Low,
    Medium,
    High,
    Critical,
}

impl Level {
    pub fn parse(text: &str) -> Option<Level> {
        Some(match text.to_ascii_lowercase().as_str() {
            "informational" | "info" => Level::Informational,
            "low" => Level::Low,
            "medium" => Level::Medium,
            "high" => Level::High,
            "critical" => Level::Critical,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Informational => "informational",
            Level::Low => "low",
            Level::Medium => "medium",
            Level::High => "high",
            Level::Critical => "critical",
        }
    }
}

/// What a rule says about itself.
#[derive(Debug, Clone)]
pub struct RuleMeta {
    pub id: Option<String>,
    pub name: Option<String>,
    pub title: String,
    pub level: Level,
    pub status: Option<String>,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub playbook: Option<String>,
    pub author: Option<String>,
    /// credwatch extension `credwatch: {standalone: true}`: the rule alerts on its own even when
    /// correlations use it with `generate: false` (Sigma's default silences such rules).
    pub standalone: bool,
    pub file: String,
    pub line: usize,
    pub builtin: bool,
    /// `logsource: {product: docker}`: the rule sees Docker Engine API events only; other rules
    /// see Kubernetes events only.
    pub docker: bool,
}

impl Rule {
    /// Whether the rule matches the event: its log source (Kubernetes or Docker) and its
    /// detection; filters aside.
    pub fn applies(&self, ev: &EventView<'_, '_>) -> bool {
        self.meta.docker == is_docker(ev.event) && self.detection.eval(ev)
    }
}

/// Docker Engine API events carry credwatch's identity annotation (none, uid+pid, …).
pub fn is_docker(event: &crate::event::AuditEvent<'_>) -> bool {
    event
        .annotations
        .get(crate::decode::docker::IDENTITY_ANNOTATION)
        .is_some()
}

impl RuleMeta {
    /// The id the alert carries: the rule's `id`, else its `name`, else its title.
    pub fn key(&self) -> &str {
        self.id
            .as_deref()
            .or(self.name.as_deref())
            .unwrap_or(&self.title)
    }

    fn answers_to(&self, reference: &str) -> bool {
        self.id.as_deref() == Some(reference) || self.name.as_deref() == Some(reference)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A problem found while loading rules, at `file:line`.
#[derive(Debug, Clone, Serialize)]
pub struct Diag {
    pub severity: Severity,
    pub file: String,
    pub line: usize,
    pub message: String,
}

impl Diag {
    pub fn error(file: &str, line: usize, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Error,
            file: file.to_owned(),
            line,
            message: message.into(),
        }
    }

    pub fn warning(file: &str, line: usize, message: impl Into<String>) -> Diag {
        Diag {
            severity: Severity::Warning,
            ..Diag::error(file, line, message)
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        if self.line > 0 {
            write!(f, "{}:{}: {sev}: {}", self.file, self.line, self.message)
        } else {
            write!(f, "{}: {sev}: {}", self.file, self.message)
        }
    }
}

/// Rules failed to load; every problem is listed.
#[derive(Debug, thiserror::Error)]
#[error("{} rule error{} (first: {})", .0.len(), if .0.len() == 1 { "" } else { "s" }, .0.first().map(|d| d.to_string()).unwrap_or_default())]
pub struct LoadError(pub Vec<Diag>);

/// A detection rule ready to run.
#[derive(Debug, Clone)]
pub struct Rule {
    pub meta: RuleMeta,
    pub detection: Detection,
    /// Filters (indices into `RuleSet::filters`) that suppress this rule's matches.
    pub filters: Vec<usize>,
    /// Whether a match becomes an alert of its own (false when only correlations use it).
    pub emits: bool,
    /// (correlation, position of this rule in its `rules`).
    pub correlations: Vec<(usize, usize)>,
    pub tests: Vec<TestEvent>,
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub meta: RuleMeta,
    pub detection: Detection,
}

/// A correlation with its references resolved.
#[derive(Debug, Clone)]
pub struct Correlation {
    pub meta: RuleMeta,
    pub kind: CorrelationKind,
    /// Rule indices, in the order the correlation lists them.
    pub rules: Vec<usize>,
    /// For each listed rule, the fields its events are grouped by.
    pub group_by: Vec<Vec<FieldRef>>,
    /// For each listed rule, the value field (value_count / value_sum / value_avg).
    pub value_field: Vec<Option<FieldRef>>,
    pub timespan_secs: i64,
    pub conditions: Vec<(CountCmp, f64)>,
    /// Event sequences and whether the correlation must fire on them (`rules test`).
    pub tests: Vec<TestEvent>,
}

impl Correlation {
    pub fn holds(&self, n: f64) -> bool {
        self.conditions.iter().all(|(c, v)| c.holds(n, *v))
    }
}

/// Where rules come from.
pub enum RuleSource {
    File(PathBuf),
    Text { name: String, text: String },
}

/// Built-in rules, compiled into the binary: (path, text).
pub static BUILTIN: &[(&str, &str)] = builtin::FILES;

/// Compiled rules, their filters and correlations, an index by resource, and the prefilter.
#[derive(Debug)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub filters: Vec<Filter>,
    pub correlations: Vec<Correlation>,
    /// Rules that can only match one of these `objectRef.resource` values (lowercase), sorted
    /// by resource for a binary search (cheaper than hashing for a few dozen short keys).
    by_resource: Vec<(String, Vec<u32>)>,
    /// Rules that may match any resource.
    unindexed: Vec<u32>,
    pub prefilter: prefilter::Prefilter,
    /// Warnings, and documents skipped for another log source.
    pub notes: Vec<Diag>,
}

/// Loads rules from files, directories (`*.yml`, `*.yaml`, walked in order) and texts. Test
/// files (`*.tests.yml`) attach their events to the rule file of the same stem.
pub fn load(sources: &[RuleSource]) -> Result<RuleSet, LoadError> {
    load_configured(sources, &Config::defaults())
}

/// [`load`] with the given tunables (placeholders, windows, rules switched off).
pub fn load_configured(sources: &[RuleSource], config: &Config) -> Result<RuleSet, LoadError> {
    let mut diags = Vec::new();
    let mut docs: Vec<Document> = Vec::new();
    let mut side_tests: Vec<(String, Vec<TestEvent>)> = Vec::new();
    for source in sources {
        match source {
            RuleSource::Text { name, text } => {
                parse_text(name, text, config, &mut docs, &mut side_tests, &mut diags)
            }
            RuleSource::File(path) => {
                for file in rule_files(path, &mut diags) {
                    let name = file.display().to_string();
                    match std::fs::read_to_string(&file) {
                        Ok(text) => {
                            parse_text(&name, &text, config, &mut docs, &mut side_tests, &mut diags)
                        }
                        Err(e) => diags.push(Diag::error(&name, 0, format!("cannot read: {e}"))),
                    }
                }
            }
        }
    }
    for (stem, tests) in side_tests {
        match docs.iter_mut().find(|d| {
            d.meta
                .file
                .strip_suffix(".yml")
                .or(d.meta.file.strip_suffix(".yaml"))
                == Some(&stem)
        }) {
            Some(doc) => doc.tests.extend(tests),
            None => diags.push(Diag::warning(
                &format!("{stem}.tests.yml"),
                0,
                "no rule file beside these tests",
            )),
        }
    }
    build(docs, diags, config)
}

/// Loads the built-in rules (plus `extra`), marking them built-in.
pub fn load_with_builtin(
    extra: &[RuleSource],
    builtin: bool,
    config: &Config,
) -> Result<RuleSet, LoadError> {
    let mut sources: Vec<RuleSource> = Vec::new();
    if builtin {
        for (path, text) in BUILTIN {
            sources.push(RuleSource::Text {
                name: format!("builtin:{path}"),
                text: (*text).to_owned(),
            });
        }
    }
    for s in extra {
        sources.push(match s {
            RuleSource::File(p) => RuleSource::File(p.clone()),
            RuleSource::Text { name, text } => RuleSource::Text {
                name: name.clone(),
                text: text.clone(),
            },
        });
    }
    load_configured(&sources, config)
}

fn rule_files(path: &Path, diags: &mut Vec<Diag>) -> Vec<PathBuf> {
    let name = path.display().to_string();
    match std::fs::metadata(path) {
        Err(e) => {
            diags.push(Diag::error(&name, 0, format!("cannot read: {e}")));
            Vec::new()
        }
        Ok(m) if m.is_dir() => {
            let mut files = Vec::new();
            for entry in walkdir::WalkDir::new(path).sort_by_file_name() {
                match entry {
                    Ok(e) if e.file_type().is_file() => {
                        let p = e.path();
                        if matches!(p.extension().and_then(|x| x.to_str()), Some("yml" | "yaml")) {
                            files.push(p.to_path_buf());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => diags.push(Diag::error(&name, 0, format!("cannot walk: {e}"))),
                }
            }
            files
        }
        Ok(_) => vec![path.to_path_buf()],
    }
}

fn parse_text(
    name: &str,
    text: &str,
    config: &Config,
    docs: &mut Vec<Document>,
    side_tests: &mut Vec<(String, Vec<TestEvent>)>,
    diags: &mut Vec<Diag>,
) {
    let builtin = name.starts_with("builtin:");
    let parsed = match yaml::parse_documents(text) {
        Ok(p) => p,
        Err(e) => {
            diags.push(Diag::error(
                name,
                e.line,
                format!("invalid YAML: {}", e.message),
            ));
            return;
        }
    };
    if let Some(stem) = name
        .strip_suffix(".tests.yml")
        .or(name.strip_suffix(".tests.yaml"))
    {
        let mut tests = Vec::new();
        for doc in &parsed {
            tests.extend(sigma::parse_test_file(doc, name, diags));
        }
        side_tests.push((stem.to_owned(), tests));
        return;
    }
    for doc in &parsed {
        match sigma::parse_document(doc, name, &config.placeholders, diags) {
            Some(sigma::Parsed::Rule(mut d)) => {
                d.meta.builtin = builtin;
                docs.push(*d);
            }
            Some(sigma::Parsed::OtherLogsource(reason)) => diags.push(Diag::warning(
                name,
                doc.line,
                format!("skipped: {reason} is not Kubernetes audit"),
            )),
            None => {}
        }
    }
}

fn build(docs: Vec<Document>, mut diags: Vec<Diag>, config: &Config) -> Result<RuleSet, LoadError> {
    let mut rules: Vec<Rule> = Vec::new();
    let mut filter_docs = Vec::new();
    let mut corr_docs: Vec<(RuleMeta, CorrelationDoc, Vec<TestEvent>)> = Vec::new();
    for (name, file, line) in &config.disabled {
        if !docs.iter().any(|d| d.meta.answers_to(name)) {
            // A warning: one configuration serves runs with and without the built-in rules.
            diags.push(Diag::warning(
                file,
                *line,
                format!("`disabled` names no loaded rule, correlation or filter `{name}`"),
            ));
        }
    }
    for name in config.timespans.keys() {
        if !docs.iter().any(|d| d.meta.answers_to(name)) {
            diags.push(Diag::warning(
                "--config",
                0,
                format!("`timespans` names no loaded correlation `{name}`"),
            ));
        }
    }
    for doc in docs {
        let off = config.is_disabled(doc.meta.id.as_deref(), doc.meta.name.as_deref());
        match doc.body {
            Body::Detection(detection) => rules.push(Rule {
                meta: doc.meta,
                detection,
                filters: Vec::new(),
                // Switched off: still feeds correlations that are on, never alerts itself.
                emits: !off,
                correlations: Vec::new(),
                tests: doc.tests,
            }),
            Body::Filter(f) if !off => filter_docs.push((doc.meta, f)),
            Body::Correlation(c) if !off => corr_docs.push((doc.meta, c, doc.tests)),
            Body::Filter(_) | Body::Correlation(_) => {}
        }
    }
    // Ids must be unique, or references would be ambiguous.
    let mut seen: HashMap<&str, &RuleMeta> = HashMap::new();
    for r in &rules {
        for key in [r.meta.id.as_deref(), r.meta.name.as_deref()]
            .into_iter()
            .flatten()
        {
            if let Some(first) = seen.insert(key, &r.meta) {
                diags.push(Diag::error(
                    &r.meta.file,
                    r.meta.line,
                    format!(
                        "duplicate rule id or name `{key}` (also {}:{})",
                        first.file, first.line
                    ),
                ));
            }
        }
    }
    let mut filters = Vec::new();
    for (meta, f) in filter_docs {
        let idx = filters.len();
        if f.rules.is_empty() {
            for r in rules
                .iter_mut()
                .filter(|r| r.meta.builtin == meta.builtin || !meta.builtin)
            {
                r.filters.push(idx);
            }
        }
        for (reference, line) in &f.rules {
            let targets: Vec<usize> = rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.meta.answers_to(reference))
                .map(|(i, _)| i)
                .collect();
            if targets.is_empty() {
                diags.push(Diag::error(
                    &meta.file,
                    *line,
                    format!("filter refers to unknown rule `{reference}`"),
                ));
            }
            for t in targets {
                // Built-in filters apply to built-in rules only.
                if !meta.builtin || rules[t].meta.builtin {
                    rules[t].filters.push(idx);
                }
            }
        }
        filters.push(Filter {
            meta,
            detection: f.detection,
        });
    }
    let mut correlations = Vec::new();
    for (meta, c, tests) in corr_docs {
        let mut idxs = Vec::new();
        let mut ok = true;
        for (reference, line) in &c.rules {
            match rules.iter().position(|r| r.meta.answers_to(reference)) {
                Some(i) => idxs.push(i),
                None => {
                    ok = false;
                    let msg = format!(
                        "correlation refers to unknown rule `{reference}` (rules are named by `id` or `name`; a correlation of correlations is unsupported)"
                    );
                    diags.push(Diag::error(&meta.file, *line, msg));
                }
            }
        }
        if !ok {
            continue;
        }
        let field_for = |rule: usize, name: &str| -> Result<FieldRef, String> {
            let alias = c.aliases.iter().find(|(a, _)| a == name);
            let actual = match alias {
                Some((_, per_rule)) => {
                    let rmeta = &rules[rule].meta;
                    per_rule
                        .iter()
                        .find(|(rn, _)| rmeta.answers_to(rn))
                        .map(|(_, f)| f.as_str())
                        .ok_or_else(|| {
                            format!("alias `{name}` names no field for rule `{}`", rmeta.key())
                        })?
                }
                None => name,
            };
            mapping::resolve(actual)
        };
        let mut group_by = Vec::new();
        let mut value_field = Vec::new();
        for &r in &idxs {
            let mut fields = Vec::new();
            for g in &c.group_by {
                match field_for(r, g) {
                    Ok(f) => fields.push(f),
                    Err(e) => {
                        ok = false;
                        diags.push(Diag::error(&meta.file, meta.line, format!("group-by: {e}")));
                    }
                }
            }
            group_by.push(fields);
            value_field.push(c.field.as_deref().and_then(|f| field_for(r, f).ok()));
        }
        if !ok {
            continue;
        }
        let timespan_secs = [meta.name.as_deref(), meta.id.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|k| config.timespans.get(k).copied())
            .unwrap_or(c.timespan_secs);
        let ci = correlations.len();
        for (pos, &r) in idxs.iter().enumerate() {
            let off =
                config.is_disabled(rules[r].meta.id.as_deref(), rules[r].meta.name.as_deref());
            let generate = (c.generate || rules[r].meta.standalone) && !off;
            if rules[r].correlations.is_empty() {
                rules[r].emits = generate;
            } else {
                rules[r].emits |= generate;
            }
            rules[r].correlations.push((ci, pos));
        }
        correlations.push(Correlation {
            meta,
            kind: c.kind,
            rules: idxs,
            group_by,
            value_field,
            timespan_secs,
            conditions: c.conditions,
            tests,
        });
    }
    let (errors, notes): (Vec<Diag>, Vec<Diag>) = diags
        .into_iter()
        .partition(|d| d.severity == Severity::Error);
    if !errors.is_empty() {
        return Err(LoadError(errors));
    }
    let mut by_resource: HashMap<String, Vec<u32>> = HashMap::new();
    let mut unindexed = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match prefilter::required_resources(&r.detection) {
            Some(resources) => {
                for res in resources {
                    by_resource.entry(res).or_default().push(i as u32);
                }
            }
            None => unindexed.push(i as u32),
        }
    }
    let mut by_resource: Vec<(String, Vec<u32>)> = by_resource.into_iter().collect();
    by_resource.sort();
    let prefilter = prefilter::Prefilter::build(&rules);
    Ok(RuleSet {
        rules,
        filters,
        correlations,
        by_resource,
        unindexed,
        prefilter,
        notes,
    })
}

impl RuleSet {
    /// Calls `hit` with the index of every rule that matches (after its filters), in rule order.
    /// Returns how many matches filters suppressed.
    #[inline]
    pub fn matches(&self, ev: &EventView<'_, '_>, hit: &mut impl FnMut(usize)) -> u64 {
        let mut suppressed = 0;
        let docker = is_docker(ev.event);
        let mut check = |i: u32| {
            let rule = &self.rules[i as usize];
            if rule.meta.docker == docker && rule.detection.eval(ev) {
                if rule
                    .filters
                    .iter()
                    .any(|&f| self.filters[f].detection.eval(ev))
                {
                    suppressed += 1;
                } else {
                    hit(i as usize);
                }
            }
        };
        let indexed = ev
            .event
            .object_ref
            .as_ref()
            .and_then(|o| o.resource.as_deref())
            .map(|res| {
                let find = |key: &str| {
                    self.by_resource
                        .binary_search_by(|(k, _)| k.as_str().cmp(key))
                        .ok()
                        .map(|i| &self.by_resource[i].1)
                };
                if res.bytes().any(|b| b.is_ascii_uppercase() || !b.is_ascii()) {
                    // Rare: index keys are lowercase, so look up the folded form.
                    find(&res.to_lowercase())
                } else {
                    find(res)
                }
            });
        match indexed.flatten() {
            None => self.unindexed.iter().for_each(|&i| check(i)),
            Some(list) => {
                // Merge two sorted lists so rules are always tried (and reported) in order.
                let (mut a, mut b) = (self.unindexed.iter().peekable(), list.iter().peekable());
                loop {
                    let next = match (a.peek(), b.peek()) {
                        (Some(&&x), Some(&&y)) if x < y => {
                            a.next();
                            x
                        }
                        (Some(_), Some(&&y)) => {
                            b.next();
                            y
                        }
                        (Some(&&x), None) => {
                            a.next();
                            x
                        }
                        (None, Some(&&y)) => {
                            b.next();
                            y
                        }
                        (None, None) => break,
                    };
                    check(next);
                }
            }
        }
        suppressed
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}
