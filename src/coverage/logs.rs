//! `credwatch coverage logs`: what the audit logs actually show, per cluster and source format —
//! time span, events per day, gaps, retention, completeness of the fields an investigation
//! needs, whether credential access is visible at all, the levels credential-bearing resources
//! are logged at (and any record that carries a credential), and the share of activity that is
//! hard to attribute to an owner. Runs on the same parallel ingest as `hunt`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use serde::Serialize;

use super::analysis::{PolicyFinding, Score};
use crate::event::{AuditEvent, Decoded, Platform};
use crate::findings::Severity;
use crate::ingest::{self, Handler, IngestOptions, Summary};

/// Fields an investigation needs, counted per resource kind.
const FIELDS: [&str; 8] = [
    "user",
    "source_ip",
    "user_agent",
    "verb",
    "resource",
    "response_code",
    "decision",
    "final_stage",
];

#[derive(Debug, Default, Clone, Serialize)]
pub struct FieldCounts {
    pub events: u64,
    /// Events that have each of [`FIELDS`], in that order.
    pub present: [u64; 8],
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Activity {
    pub secret_reads: u64,
    pub secret_writes: u64,
    pub token_requests: u64,
    pub token_reviews: u64,
    pub exec_attach: u64,
    pub pod_logs: u64,
    pub node_proxy: u64,
    /// Any get, list or watch at all.
    pub reads: u64,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct Attribution {
    /// Credential-relevant events counted below.
    pub relevant: u64,
    pub node_credentials: u64,
    pub anonymous: u64,
    /// Service-account tokens not bound to a pod (legacy or TokenRequest without a pod).
    pub unbound_service_account: u64,
    pub impersonated: u64,
    /// By service accounts whose tokens several workloads use (bound to pods of two or more
    /// Deployments, StatefulSets, …): which of them acted is not in the event's owner.
    pub shared_service_account: u64,
}

/// What one source (cluster × format) shows.
#[derive(Debug, Default, Clone)]
struct SourceStats {
    platform: Option<Platform>,
    events: u64,
    first: Option<i64>,
    last: Option<i64>,
    /// Events per minute since the epoch, for gaps.
    /// Minutes (since the epoch) with events, appended when the minute changes: logs are
    /// mostly in time order, so this is a comparison per event, not a hash.
    minutes: Vec<i64>,
    /// resource → subresource ("" for none) → counts.
    fields: HashMap<String, HashMap<String, FieldCounts>>,
    activity: Activity,
    attribution: Attribution,
    /// (resource, level) → events, for credential-bearing resources.
    levels: BTreeMap<(String, String), u64>,
    /// Records that carry a credential: count and the first one's location (input, line,
    /// item — the order of the inputs, whatever thread read them).
    leaks: u64,
    first_leak: Option<((u32, u64, u32), String)>,
    /// Long-running requests (watch, exec, …) seen at RequestReceived/ResponseStarted whose
    /// ResponseComplete this worker has not seen: auditID → resource kind.
    started: HashMap<u64, Request>,
    /// Service account → the workloads whose pods used its token, and its credential-relevant
    /// events.
    service_accounts: HashMap<String, (std::collections::HashSet<String>, u64)>,
    /// ResponseComplete of long-running requests whose start this worker did not see.
    completed_elsewhere: std::collections::HashSet<u64>,
}

impl SourceStats {
    /// Notes which workload used a service account's token for a credential-relevant request.
    fn note_service_account(&mut self, e: &AuditEvent<'_>) {
        let Some(user) = e.user.username.as_deref() else {
            return;
        };
        if !user.starts_with("system:serviceaccount:") {
            return;
        }
        let Some(pod) = e.user.extra.as_ref().and_then(|x| bound_pod(x.as_str())) else {
            return;
        };
        if !self.service_accounts.contains_key(user) {
            self.service_accounts
                .insert(user.to_owned(), Default::default());
        }
        if let Some((workloads, events)) = self.service_accounts.get_mut(user) {
            let workload = workload_of(pod);
            if !workloads.contains(workload) {
                workloads.insert(workload.to_owned());
            }
            *events += 1;
        }
    }

    /// The counts of a resource kind, allocating its keys only the first time it is seen.
    fn counts(&mut self, resource: &str, sub: &str) -> Option<&mut FieldCounts> {
        if !self.fields.contains_key(resource) {
            self.fields.insert(resource.to_owned(), HashMap::new());
        }
        let subs = self.fields.get_mut(resource)?;
        if !subs.contains_key(sub) {
            subs.insert(sub.to_owned(), FieldCounts::default());
        }
        subs.get_mut(sub)
    }

    /// Counts per resource kind (`pods/exec`), for the report.
    fn kinds(&self) -> BTreeMap<String, FieldCounts> {
        let mut out = BTreeMap::new();
        for (resource, subs) in &self.fields {
            for (sub, c) in subs {
                let kind = if sub.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{sub}")
                };
                out.insert(kind, c.clone());
            }
        }
        out
    }

    fn merge(&mut self, other: SourceStats) {
        self.platform = self.platform.or(other.platform);
        self.events += other.events;
        self.first = min_opt(self.first, other.first);
        self.last = max_opt(self.last, other.last);
        self.minutes.extend(other.minutes);
        for (resource, subs) in other.fields {
            for (sub, c) in subs {
                if let Some(mine) = self.counts(&resource, &sub) {
                    mine.events += c.events;
                    for (a, b) in mine.present.iter_mut().zip(c.present) {
                        *a += b;
                    }
                }
            }
        }
        let (a, b) = (&mut self.activity, other.activity);
        a.secret_reads += b.secret_reads;
        a.secret_writes += b.secret_writes;
        a.token_requests += b.token_requests;
        a.token_reviews += b.token_reviews;
        a.exec_attach += b.exec_attach;
        a.pod_logs += b.pod_logs;
        a.node_proxy += b.node_proxy;
        a.reads += b.reads;
        let (a, b) = (&mut self.attribution, other.attribution);
        a.relevant += b.relevant;
        a.node_credentials += b.node_credentials;
        a.anonymous += b.anonymous;
        a.unbound_service_account += b.unbound_service_account;
        a.impersonated += b.impersonated;
        for (sa, (workloads, events)) in other.service_accounts {
            let mine = self.service_accounts.entry(sa).or_default();
            mine.0.extend(workloads);
            mine.1 += events;
        }
        for (k, n) in other.levels {
            *self.levels.entry(k).or_default() += n;
        }
        self.leaks += other.leaks;
        self.first_leak = match (self.first_leak.take(), other.first_leak) {
            (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
            (a, b) => a.or(b),
        };
        for (id, kind) in other.started {
            if !self.completed_elsewhere.remove(&id) {
                self.started.insert(id, kind);
            }
        }
        for id in other.completed_elsewhere {
            if self.started.remove(&id).is_none() {
                self.completed_elsewhere.insert(id);
            }
        }
    }
}

fn min_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Request IDs kept to match early stages with their completion, per worker.
const MAX_TRACKED: usize = 2_000_000;

/// One worker's tally, per source (a handful: a linear search beats hashing an owned key).
#[derive(Default)]
struct Tally {
    sources: Vec<((String, &'static str), SourceStats)>,
    last: usize,
    /// The inputs log early stages (RequestReceived): every completion is kept to be matched
    /// with an early record another worker may have read.
    track_completions: bool,
}

impl Tally {
    fn source(&mut self, cluster: &str, format: &'static str) -> &mut SourceStats {
        let same = |k: &(String, &'static str)| k.0 == cluster && k.1 == format;
        if !self.sources.get(self.last).is_some_and(|(k, _)| same(k)) {
            self.last = match self.sources.iter().position(|(k, _)| same(k)) {
                Some(i) => i,
                None => {
                    self.sources
                        .push(((cluster.to_owned(), format), SourceStats::default()));
                    self.sources.len() - 1
                }
            };
        }
        &mut self.sources[self.last].1
    }
}

const CREDENTIAL_BEARING: &[&str] = &["secrets", "configmaps", "serviceaccounts", "tokenreviews"];

impl Handler for Tally {
    fn event(&mut self, input: u32, d: &Decoded<'_, '_>) {
        let e = d.event;
        let track_completions = self.track_completions;
        let s = self.source(
            d.envelope.cluster.as_deref().unwrap_or("-"),
            d.envelope.format.as_str(),
        );
        s.platform = Some(d.envelope.platform);
        s.events += 1;
        if let Some(t) = d.timestamp() {
            let secs = t.as_second();
            s.first = min_opt(s.first, Some(secs));
            s.last = max_opt(s.last, Some(secs));
            let minute = secs.div_euclid(60);
            if s.minutes.last() != Some(&minute) {
                s.minutes.push(minute);
            }
        }
        let object = e.object_ref.as_ref();
        let resource = object.and_then(|o| o.resource.as_deref());
        let sub = object.and_then(|o| o.subresource.as_deref());
        let verb = e.verb.as_deref().unwrap_or("");
        let Some(counts) = s.counts(resource.unwrap_or("(non-resource)"), sub.unwrap_or("")) else {
            return;
        };
        counts.events += 1;
        // A request may be logged at several stages. An early record (RequestReceived,
        // ResponseStarted of a watch or exec) counts as having its outcome until the end shows
        // that no ResponseComplete followed it.
        let stage = e.stage.as_deref();
        let early = matches!(stage, Some("RequestReceived" | "ResponseStarted"));
        let id = e.audit_id.as_deref().filter(|id| !id.is_empty());
        let has_code = e.response_status.as_ref().and_then(|r| r.code).is_some();
        let has_decision = e.decision().is_some();
        let present = [
            e.user.username.as_deref().is_some_and(|u| !u.is_empty()),
            !e.source_ips.is_empty(),
            e.user_agent.as_deref().is_some_and(|u| !u.is_empty()),
            !verb.is_empty(),
            resource.is_some() || e.request_uri.as_deref().is_some_and(non_resource_path),
            // An early record has no response and (at RequestReceived) no decision yet: its
            // request's last record carries them.
            has_code || (early && id.is_some()),
            has_decision || (early && id.is_some()),
            matches!(stage, Some("ResponseComplete" | "Panic")) || (early && id.is_some()),
        ];
        for (n, p) in counts.present.iter_mut().zip(present) {
            *n += u64::from(p);
        }
        if let Some(r) = resource.filter(|r| CREDENTIAL_BEARING.contains(r)) {
            let level = e.level.as_deref().unwrap_or("(unknown)").to_owned();
            let shown = match sub {
                Some(sub) => format!("{r}/{sub}"),
                None => r.to_owned(),
            };
            *s.levels.entry((shown, level)).or_default() += 1;
            if carries_credential(e, r, sub) {
                s.leaks += 1;
                let at = (input, d.origin.line, d.origin.item.unwrap_or(0));
                if s.first_leak.as_ref().is_none_or(|(first, _)| at < *first) {
                    s.first_leak = Some((at, d.origin.to_string()));
                }
            }
        }
        // Activity is counted once per request, at its last record. An early record waits
        // (by auditID) for its request's last one, which may be read by another worker; one
        // whose request never completes in the log is counted at the end.
        let (resource, sub) = (resource.unwrap_or(""), sub.unwrap_or(""));
        // Hashed only when something waits to be matched: most logs have no early stages.
        let matching =
            early || track_completions || !s.started.is_empty() || long_running(verb, sub);
        match id.filter(|_| matching).map(id_hash) {
            Some(hash) if early && s.started.len() < MAX_TRACKED => {
                s.started.entry(hash).or_insert_with(|| Request {
                    resource: resource.into(),
                    sub: sub.into(),
                    verb: known_verb(verb),
                    who: Who::of(e),
                    lacked: [!has_code, !has_decision, true],
                });
            }
            Some(hash) if !early => {
                let unmatched = s.started.remove(&hash).is_none();
                // Its early record may have been read by another worker.
                let keep = unmatched
                    && (track_completions || long_running(verb, sub))
                    && s.completed_elsewhere.len() < MAX_TRACKED;
                if keep {
                    s.completed_elsewhere.insert(hash);
                }
            }
            _ => {}
        }
        // A request's last record (or its only one): its activity is counted now.
        if (!early || id.is_none())
            && count(
                &mut s.activity,
                &mut s.attribution,
                resource,
                sub,
                verb,
                || Who::of(e),
            )
        {
            s.note_service_account(e);
        }
    }
}

/// A request URI that names no resource: anything outside /api and /apis, and the discovery
/// paths inside them (`/api`, `/api/v1`, `/apis`, `/apis/apps`, `/apis/apps/v1`).
fn non_resource_path(uri: &str) -> bool {
    let path = uri.split('?').next().unwrap_or(uri);
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.first() {
        Some(&"api") => parts.len() <= 2,
        Some(&"apis") => parts.len() <= 3,
        _ => true,
    }
}

/// Whose credential a request used, as far as attribution goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Who {
    Node,
    Anonymous,
    /// A service-account token not bound to a pod.
    UnboundServiceAccount,
    #[default]
    Owned,
}

impl Who {
    fn of(e: &AuditEvent<'_>) -> (Who, bool) {
        let user = e.user.username.as_deref().unwrap_or("");
        let who = if user.starts_with("system:node:") {
            Who::Node
        } else if user.is_empty() || user == "system:anonymous" {
            Who::Anonymous
        } else if user.starts_with("system:serviceaccount:")
            && !e
                .user
                .extra
                .as_ref()
                .is_some_and(|x| x.as_str().contains("authentication.kubernetes.io/pod-name"))
        {
            Who::UnboundServiceAccount
        } else {
            Who::Owned
        };
        (who, e.impersonated_user.is_some())
    }
}

/// What activity counting needs of a request, kept (by a hash of its auditID) while its early
/// record waits for the last one.
#[derive(Debug, Clone)]
struct Request {
    resource: Box<str>,
    sub: Box<str>,
    verb: &'static str,
    /// Whose credential, and whether it was impersonated.
    who: (Who, bool),
    /// Of response code, decision and final stage, those its early record lacked (counted as
    /// coming with the request's last record).
    lacked: [bool; 3],
}

fn id_hash(id: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    // SipHash with fixed keys: the same ID hashes alike on every worker.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    id.hash(&mut h);
    h.finish()
}

/// The verbs activity counting tells apart.
fn known_verb(verb: &str) -> &'static str {
    match verb {
        "get" => "get",
        "list" => "list",
        "watch" => "watch",
        "create" => "create",
        "update" => "update",
        "patch" => "patch",
        _ => "other",
    }
}

fn long_running(verb: &str, sub: &str) -> bool {
    verb == "watch" || matches!(sub, "exec" | "attach" | "portforward" | "proxy" | "log")
}

impl Request {
    fn count(&self, a: &mut Activity, attribution: &mut Attribution) {
        count(a, attribution, &self.resource, &self.sub, self.verb, || {
            self.who
        });
    }
}

/// The pod a service-account token is bound to, from `user.extra`.
fn bound_pod(extra: &str) -> Option<&str> {
    let at = extra.find("\"authentication.kubernetes.io/pod-name\"")?;
    let rest = &extra[at..];
    let open = rest.find('[')?;
    let rest = &rest[open + 1..];
    let start = rest.find('"')? + 1;
    let len = rest[start..].find('"')?;
    Some(&rest[start..start + len])
}

/// The workload a pod belongs to: its name without the ReplicaSet/DaemonSet/Job suffix and
/// pod-template hash, or without the StatefulSet ordinal.
fn workload_of(pod: &str) -> &str {
    let lower_alnum = |s: &str| {
        s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let random = |s: &str| s.len() == 5 && lower_alnum(s);
    let hash = |s: &str| {
        (8..=10).contains(&s.len()) && lower_alnum(s) && s.bytes().any(|b| b.is_ascii_digit())
    };
    let ordinal = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let without = |name: &str, last: &dyn Fn(&str) -> bool| -> Option<usize> {
        let (head, tail) = name.rsplit_once('-')?;
        (!head.is_empty() && last(tail)).then_some(head.len())
    };
    if let Some(end) = without(pod, &random) {
        let name = &pod[..end];
        return match without(name, &hash) {
            Some(end) => &name[..end],
            None => name,
        };
    }
    match without(pod, &ordinal) {
        Some(end) => &pod[..end],
        None => pod,
    }
}

/// Counts one request's credential activity and, for credential-relevant ones, whose
/// credential it used.
fn count(
    a: &mut Activity,
    attribution: &mut Attribution,
    resource: &str,
    sub: &str,
    verb: &str,
    // Whose credential: worked out only for credential-relevant requests (off the common path).
    who: impl FnOnce() -> (Who, bool),
) -> bool {
    let reading = matches!(verb, "get" | "list" | "watch");
    a.reads += u64::from(reading);
    let relevant = match (resource, sub) {
        ("secrets", "") if reading => {
            a.secret_reads += 1;
            true
        }
        ("secrets", "") if matches!(verb, "create" | "update" | "patch") => {
            a.secret_writes += 1;
            true
        }
        ("serviceaccounts", "token") => {
            a.token_requests += 1;
            true
        }
        ("tokenreviews", _) => {
            a.token_reviews += 1;
            false
        }
        ("pods", "exec" | "attach") => {
            a.exec_attach += 1;
            true
        }
        ("pods", "log") => {
            a.pod_logs += 1;
            true
        }
        ("nodes", "proxy") => {
            a.node_proxy += 1;
            true
        }
        _ => false,
    };
    if !relevant {
        return false;
    }
    let (who, impersonated) = who();
    attribution.relevant += 1;
    attribution.impersonated += u64::from(impersonated);
    match who {
        Who::Node => attribution.node_credentials += 1,
        Who::Anonymous => attribution.anonymous += 1,
        Who::UnboundServiceAccount => attribution.unbound_service_account += 1,
        Who::Owned => {}
    }
    true
}

/// Whether a record's bodies hold a credential: Secret data, a TokenReview's token, a minted
/// token. Bodies are only parsed for these resources, which are rare.
fn carries_credential(e: &AuditEvent<'_>, resource: &str, sub: Option<&str>) -> bool {
    let bodies = [e.request_object.as_ref(), e.response_object.as_ref()];
    bodies.into_iter().flatten().any(|raw| {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(raw.as_str()) else {
            return false;
        };
        let filled = |v: Option<&serde_json::Value>| {
            v.and_then(|x| x.as_object()).is_some_and(|m| !m.is_empty())
        };
        let token = |v: &serde_json::Value, path: &[&str]| {
            path.iter()
                .try_fold(v, |v, k| v.get(k))
                .and_then(|t| t.as_str())
                .is_some_and(|t| !t.is_empty())
        };
        // A JSON Patch writing data: `[{"op":"add","path":"/data/password","value":"…"}]`.
        let patches_data = v.as_array().is_some_and(|ops| {
            ops.iter().any(|op| {
                op.get("path")
                    .and_then(|p| p.as_str())
                    .is_some_and(|p| p.starts_with("/data") || p.starts_with("/stringData"))
                    && op.get("value").is_some_and(|v| !v.is_null())
            })
        });
        match (resource, sub) {
            ("secrets", None) => {
                patches_data
                    || filled(v.get("data"))
                    || filled(v.get("stringData"))
                    || v.get("items")
                        .and_then(|i| i.as_array())
                        .is_some_and(|items| items.iter().any(|i| filled(i.get("data"))))
            }
            ("tokenreviews", _) => token(&v, &["spec", "token"]),
            ("serviceaccounts", Some("token")) => token(&v, &["status", "token"]),
            _ => false,
        }
    })
}

/// One source's part of the report.
#[derive(Debug, Clone, Serialize)]
pub struct SourceReport {
    pub cluster: String,
    pub platform: &'static str,
    pub format: &'static str,
    pub events: u64,
    pub first: Option<String>,
    pub last: Option<String>,
    pub span_days: f64,
    pub events_per_day: Option<f64>,
    pub gaps: Vec<Gap>,
    /// Field → share of events that have it (0–1), over all events.
    pub completeness: BTreeMap<&'static str, f64>,
    pub fields_by_resource: BTreeMap<String, FieldCounts>,
    pub activity: Activity,
    pub attribution: Attribution,
    pub levels: Vec<LevelCount>,
    pub scores: Vec<Score>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub from: String,
    pub to: String,
    pub minutes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LevelCount {
    pub resource: String,
    pub level: String,
    pub events: u64,
}

pub struct LogsReport {
    pub sources: Vec<SourceReport>,
    pub findings: Vec<PolicyFinding>,
    pub ingest: Summary,
}

#[derive(Debug, Clone)]
pub struct LogsOptions {
    pub threads: usize,
    /// A period without events longer than this is a gap.
    pub gap_minutes: i64,
    /// Retention the logs should cover, in days.
    pub retention_days: f64,
}

impl Default for LogsOptions {
    fn default() -> Self {
        LogsOptions {
            threads: 1,
            gap_minutes: 15,
            retention_days: 30.0,
        }
    }
}

/// Whether the inputs log requests at RequestReceived (a policy that does not omit it): then
/// every request's stages must be matched, and completions are kept for workers to compare.
/// Decided from the head of the first inputs, before reading, so that every worker does the same.
fn logs_early_stages(paths: &[PathBuf]) -> bool {
    use std::io::Read;
    let (inputs, _) = crate::source::expand(paths);
    inputs
        .iter()
        .filter(|i| matches!(i, crate::source::Input::File(_)))
        .take(16)
        .any(|input| {
            let mut head = Vec::new();
            if let Ok((reader, _)) = crate::source::open(input) {
                let _ = reader.take(256 << 10).read_to_end(&mut head);
            }
            memchr::memmem::find(&head, b"RequestReceived").is_some()
        })
}

fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs).map_or_else(|_| secs.to_string(), |t| t.to_string())
}

/// Reads the logs and reports what they show.
pub fn logs_report<W: std::io::Write + Send>(
    paths: &[PathBuf],
    ingest_options: &IngestOptions,
    options: &LogsOptions,
    diagnostics: &mut W,
) -> LogsReport {
    let track_completions = logs_early_stages(paths);
    let handlers: Vec<Tally> = (0..options.threads.max(1))
        .map(|_| Tally {
            track_completions,
            ..Tally::default()
        })
        .collect();
    let (outcome, tallies) =
        ingest::ingest_parallel(paths, ingest_options, None, diagnostics, handlers);
    let mut merged: BTreeMap<(String, &'static str), SourceStats> = BTreeMap::new();
    for tally in tallies {
        for (k, s) in tally.sources {
            merged.entry(k).or_default().merge(s);
        }
    }
    let mut sources = Vec::new();
    let mut findings = Vec::new();
    for ((cluster, format), s) in merged {
        let report = source_report(&cluster, format, &s, options, &mut findings);
        sources.push(report);
    }
    blind_spots(&sources, &mut findings);
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    LogsReport {
        sources,
        findings,
        ingest: outcome.summary,
    }
}

fn finding(
    kind: &str,
    severity: Severity,
    message: String,
    fix: &str,
    evidence: String,
) -> PolicyFinding {
    PolicyFinding {
        kind: kind.to_owned(),
        severity,
        message,
        fix: fix.to_owned(),
        evidence,
        rule: None,
        probes: Vec::new(),
        cis: None,
    }
}

fn source_report(
    cluster: &str,
    format: &'static str,
    s: &SourceStats,
    options: &LogsOptions,
    findings: &mut Vec<PolicyFinding>,
) -> SourceReport {
    let name = format!("cluster {cluster}, {format}");
    let span_secs = match (s.first, s.last) {
        (Some(a), Some(b)) => (b - a).max(0),
        _ => 0,
    };
    let span_days = span_secs as f64 / 86_400.0;
    let events_per_day = (span_secs >= 3_600).then(|| s.events as f64 / span_days);
    // Gaps: consecutive minutes with events further apart than the threshold.
    let mut minutes = s.minutes.clone();
    minutes.sort_unstable();
    minutes.dedup();
    let gaps: Vec<Gap> = minutes
        .windows(2)
        .filter(|w| w[1] - w[0] > options.gap_minutes)
        .map(|w| Gap {
            from: rfc3339((w[0] + 1) * 60),
            to: rfc3339(w[1] * 60),
            minutes: w[1] - w[0] - 1,
        })
        .collect();
    for gap in &gaps {
        findings.push(finding(
            "gap",
            Severity::Medium,
            format!(
                "{name}: no events for {} minutes, {} to {} (an outage, a lost rotated file, or a collector that stopped)",
                gap.minutes, gap.from, gap.to
            ),
            "check the log shipper and the apiserver's log rotation for that period",
            name.clone(),
        ));
    }
    if s.first.is_some() && span_days < options.retention_days {
        findings.push(finding(
            "retention",
            if span_days < 7.0 { Severity::Medium } else { Severity::Low },
            format!(
                "{name}: the logs cover {span_days:.1} days ({} to {}); an investigation needs {} (CIS 1.2.17 asks for 30)",
                rfc3339(s.first.unwrap_or_default()),
                rfc3339(s.last.unwrap_or_default()),
                options.retention_days
            ),
            "keep audit logs for at least 30 days where they are collected (or give coverage all of them)",
            name.clone(),
        ));
    }
    if s.first.is_none() && s.events > 0 {
        findings.push(finding(
            "missing_field",
            Severity::High,
            format!("{name}: no event has a timestamp: nothing can be placed in time"),
            "fix the collector: the audit Event's stageTimestamp must survive",
            name.clone(),
        ));
    }
    // Completeness over all events, and the resource kinds that lack a field most.
    let mut kinds = s.kinds();
    // Early-stage records whose request never completed in the log: no outcome after all.
    let mut activity = s.activity.clone();
    let mut attribution = s.attribution.clone();
    attribution.shared_service_account = s
        .service_accounts
        .values()
        .filter(|(workloads, _)| workloads.len() > 1)
        .map(|(_, events)| events)
        .sum();
    for request in s.started.values() {
        request.count(&mut activity, &mut attribution);
        let resource: &str = if request.resource.is_empty() {
            "(non-resource)"
        } else {
            &request.resource
        };
        let kind = if request.sub.is_empty() {
            resource.to_owned()
        } else {
            format!("{resource}/{}", request.sub)
        };
        if let Some(c) = kinds.get_mut(&kind) {
            // Response code, decision and final stage: counted as coming, never came.
            for (present, lacked) in c.present[5..8].iter_mut().zip(request.lacked) {
                *present = present.saturating_sub(u64::from(lacked));
            }
        }
    }
    let mut totals = [0u64; 8];
    let mut all = 0u64;
    for c in kinds.values() {
        all += c.events;
        for (t, p) in totals.iter_mut().zip(c.present) {
            *t += p;
        }
    }
    let mut completeness = BTreeMap::new();
    for (i, field) in FIELDS.iter().enumerate() {
        let share = if all == 0 {
            0.0
        } else {
            totals[i] as f64 / all as f64
        };
        completeness.insert(*field, share);
        if all > 0 && share < 0.99 {
            let mut lacking: Vec<(&String, u64)> = kinds
                .iter()
                .filter(|(_, c)| c.present[i] < c.events)
                .map(|(k, c)| (k, c.events - c.present[i]))
                .collect();
            lacking.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
            let worst: Vec<String> = lacking
                .iter()
                .take(5)
                .map(|(k, missing)| format!("{k} ({missing})"))
                .collect();
            let (severity, why) = match *field {
                "user" => (Severity::High, "who did it"),
                "source_ip" => (Severity::High, "from where"),
                "verb" | "resource" => (Severity::High, "what was done to what"),
                "response_code" => (Severity::Medium, "whether it succeeded"),
                "final_stage" => (Severity::Medium, "the outcome (ResponseComplete events)"),
                "decision" => (Severity::Low, "the authorization decision"),
                _ => (Severity::Low, "which client"),
            };
            findings.push(finding(
                "missing_field",
                severity,
                format!(
                    "{name}: {field} is missing from {:.1}% of events ({}): {why} cannot be proven for them; most affected: {}",
                    (1.0 - share) * 100.0,
                    all - totals[i],
                    worst.join(", ")
                ),
                "log at Metadata or above and keep ResponseComplete; check the collector keeps the Event whole",
                name.clone(),
            ));
        }
    }
    // Is credential access visible at all?
    let a = &activity;
    let busy = s.events >= 1_000;
    if busy && a.secret_reads == 0 {
        let cause = if a.reads == 0 {
            match format {
                "aks_diagnostic" => {
                    "no get, list or watch at all: this looks like the kube-audit-admin category, which leaves reads out"
                }
                "gke_log_entry" => {
                    "no reads at all: GKE writes reads to the Data Access audit log, which is off by default"
                }
                _ => "no reads at all: the policy or the collector drops get, list and watch",
            }
        } else {
            "reads of other resources are there: a policy rule sets Secrets to None, or a filter drops them"
        };
        findings.push(finding(
            "reads_not_visible",
            Severity::High,
            format!(
                "{name}: {} events and not one Secret read: {cause}; Secret theft through the API would leave no trace",
                s.events
            ),
            match format {
                "aks_diagnostic" => "export the kube-audit category (it includes get and list), not only kube-audit-admin",
                "gke_log_entry" => "turn on Data Access audit logs (DATA_READ) for the Kubernetes Engine API",
                _ => "log secrets at Metadata for every verb (credwatch coverage policy shows which rule drops them)",
            },
            name.clone(),
        ));
    }
    // Levels of credential-bearing resources, and records that carry a credential.
    let levels: Vec<LevelCount> = s
        .levels
        .iter()
        .map(|((resource, level), n)| LevelCount {
            resource: resource.clone(),
            level: level.clone(),
            events: *n,
        })
        .collect();
    if s.leaks > 0 {
        findings.push(finding(
            "credential_leak",
            Severity::Critical,
            format!(
                "{name}: {} records carry credentials in their bodies (Secret data, a token under review, a minted token), the first at {}; anyone who reads these logs holds them (values not shown)",
                s.leaks,
                s.first_leak.as_ref().map_or("?", |(_, at)| at.as_str())
            ),
            "log secrets, tokenreviews and serviceaccounts/token at Metadata; rotate what was logged; restrict who reads the logs",
            s.first_leak
                .as_ref()
                .map_or_else(|| name.clone(), |(_, at)| at.clone()),
        ));
    }
    let at = &attribution;
    if at.relevant >= 10 {
        let hard = at.node_credentials
            + at.anonymous
            + at.unbound_service_account
            + at.shared_service_account;
        let share = hard as f64 / at.relevant as f64;
        if share > 0.2 {
            findings.push(finding(
                "hard_to_attribute",
                Severity::Low,
                format!(
                    "{name}: {:.0}% of credential-relevant events are hard to tie to an owner: {} by node credentials, {} anonymous, {} by service-account tokens not bound to a pod, {} by service accounts several workloads share, {} impersonated",
                    share * 100.0,
                    at.node_credentials,
                    at.anonymous,
                                        at.unbound_service_account,
                    at.shared_service_account,
                    at.impersonated
                ),
                "use bound tokens (TokenRequest with a pod), one service account per workload, and name owners in annotations",
                name.clone(),
            ));
        }
    }
    let pct = |f: &str| completeness.get(f).map(|s| (s * 100.0).floor() as u32);
    let scores = vec![
        Score {
            question: "identity",
            score: pct("user"),
            basis: "events with a user name".to_owned(),
        },
        Score {
            question: "source",
            score: pct("source_ip"),
            basis: "events with a source address".to_owned(),
        },
        Score {
            question: "action",
            score: pct("verb"),
            basis: "events with a verb".to_owned(),
        },
        Score {
            question: "resource",
            score: pct("resource"),
            basis: "events naming their resource (or a non-resource path)".to_owned(),
        },
        Score {
            question: "result",
            score: pct("response_code"),
            basis: "events with a response code".to_owned(),
        },
        Score {
            question: "retention",
            score: Some(((span_days / options.retention_days) * 100.0).min(100.0) as u32),
            basis: format!(
                "{span_days:.1} days covered against {}",
                options.retention_days
            ),
        },
    ];
    SourceReport {
        cluster: cluster.to_owned(),
        platform: match s.platform {
            Some(Platform::Docker) => "docker",
            Some(Platform::Kubelet) => "kubelet",
            _ => "kubernetes",
        },
        format,
        events: s.events,
        first: s.first.map(rfc3339),
        last: s.last.map(rfc3339),
        span_days,
        events_per_day,
        gaps,
        completeness,
        fields_by_resource: kinds,
        activity,
        attribution,
        levels,
        scores,
    }
}

/// What no audit log can show, stated with the evidence the inputs give.
fn blind_spots(sources: &[SourceReport], findings: &mut Vec<PolicyFinding>) {
    if sources.is_empty() {
        return;
    }
    findings.push(finding(
        "blind_spot",
        Severity::Info,
        "direct kubelet API access (port 10250: exec, logs, /pods) never reaches the API server's audit log; only nodes/proxy through the API server is seen".to_owned(),
        "restrict 10250 to the control plane by network policy; watch kubelet logs or node telemetry for direct use",
        "all inputs".to_owned(),
    ));
    if sources.iter().any(|s| s.platform == "docker") {
        return;
    }
    findings.push(finding(
        "blind_spot",
        Severity::Info,
        "no Docker Engine API telemetry among these inputs: `docker logs`, `inspect`, `exec` and `cp` on hosts with a Docker socket are not seen".to_owned(),
        "run dockerd with debug logging or an authorization plugin, or put credwatch's docker-proxy in front of the socket",
        "all inputs".to_owned(),
    ));
}
