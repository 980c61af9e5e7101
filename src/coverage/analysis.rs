//! Findings about an audit policy: what it fails to log (too low), what credentials it writes
//! into the log (too high), and rules that do not say what their author meant (hygiene). Each
//! names the rule that decided (0-based index and line) and how to fix it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::policy::{Decision, Level, Policy, PolicyRule, Target};
use super::probes::{self, Body, Probe};
use crate::findings::Severity;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PolicyFinding {
    /// `too_low`, `credential_leak`, `body_logged`, `env_literals_logged`, `hygiene`, or a flag
    /// finding's kind (`no_audit_log`, `retention`, …).
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    pub fix: String,
    /// `file:line` of the rule (or flag source) at fault.
    pub evidence: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub probes: Vec<String>,
    /// The CIS Kubernetes Benchmark item, where one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cis: Option<String>,
}

/// One probe's row in the report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ProbeRow {
    pub id: String,
    pub description: String,
    pub relevant: bool,
    #[serde(flatten)]
    pub decision: Decision,
}

pub struct PolicyAnalysis {
    pub rows: Vec<ProbeRow>,
    pub findings: Vec<PolicyFinding>,
}

fn evidence(file: &str, rule: Option<&PolicyRule>) -> String {
    match rule {
        Some(r) => format!("{file}:{}", r.line),
        None => format!("{file}:end"),
    }
}

fn rule_name(rule: Option<&PolicyRule>) -> String {
    match rule {
        Some(r) => format!("rule {} (line {})", r.index, r.line),
        None => "no rule (the default, None)".to_owned(),
    }
}

fn resource_of(probe: &Probe) -> String {
    match &probe.request.target {
        Target::Resource {
            group,
            resource,
            subresource,
            ..
        } => {
            let what = match subresource {
                Some(s) => format!("{resource}/{s}"),
                None => resource.clone(),
            };
            if group.is_empty() {
                format!("\"{what}\"")
            } else {
                format!("\"{what}\" (group {group})")
            }
        }
        Target::NonResource { path } => path.clone(),
    }
}

/// Whether logging at `level` writes a credential of this probe into the log.
fn leaks(probe: &Probe, level: Level) -> bool {
    match probe.body {
        Body::CredentialInResponse => level >= Level::RequestResponse,
        Body::CredentialInRequest => level >= Level::Request,
        _ => false,
    }
}

fn body_logged(probe: &Probe, level: Level) -> bool {
    let writing = matches!(probe.request.verb.as_str(), "create" | "update" | "patch");
    match probe.body {
        Body::ConfigMap | Body::PodSpec => {
            level >= Level::RequestResponse || (writing && level >= Level::Request)
        }
        _ => false,
    }
}

/// Groups that stand for everybody of a kind.
const BROAD_GROUPS: &[&str] = &[
    "system:authenticated",
    "system:unauthenticated",
    "system:serviceaccounts",
    "system:nodes",
];

const KNOWN_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    // Non-resource requests use HTTP verbs in lower case.
    "post",
    "put",
    "head",
    "options",
];

pub fn analyse(file: &str, policy: &Policy) -> PolicyAnalysis {
    let probes = probes::all();
    let mut rows = Vec::new();
    // (kind, rule) → probes, so one finding names every probe the same rule decides.
    let mut grouped: BTreeMap<(&'static str, Option<usize>), Vec<&Probe>> = BTreeMap::new();
    let mut decisions = Vec::new();
    for p in &probes {
        let d = policy.decide(&p.request);
        if p.relevant && d.level == Level::None {
            grouped.entry(("too_low", d.rule)).or_default().push(p);
        } else if p.relevant && !d.logs_response_complete() {
            grouped.entry(("no_outcome", d.rule)).or_default().push(p);
        }
        if leaks(p, d.level) {
            grouped
                .entry(("credential_leak", d.rule))
                .or_default()
                .push(p);
        }
        if body_logged(p, d.level) {
            let kind = if p.body == Body::ConfigMap {
                "body_logged"
            } else {
                "env_literals_logged"
            };
            grouped.entry((kind, d.rule)).or_default().push(p);
        }
        rows.push(ProbeRow {
            id: p.id.clone(),
            description: p.description.clone(),
            relevant: p.relevant,
            decision: d.clone(),
        });
        decisions.push(d);
    }
    let rule_at = |i: Option<usize>| i.and_then(|i| policy.rules.get(i));
    let mut findings = Vec::new();
    for ((kind, rule), ps) in grouped {
        let r = rule_at(rule);
        let list: Vec<String> = ps.iter().map(|p| p.description.clone()).collect();
        let ids = ps.iter().map(|p| p.id.clone()).collect();
        let first = ps[0];
        let (kind, severity, message, fix) = match kind {
            "too_low" => {
                let secrets = ps
                    .iter()
                    .any(|p| p.id.starts_with("secrets") || p.id.contains("token"));
                (
                    "too_low",
                    if secrets {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    format!(
                        "not logged at all ({} sets None): {}",
                        rule_name(r),
                        list.join("; ")
                    ),
                    format!(
                        "add a rule `level: Metadata` for {} before {}",
                        resource_of(first),
                        r.map_or("the end of the rules".to_owned(), |r| format!(
                            "rule {}",
                            r.index
                        ))
                    ),
                )
            }
            "no_outcome" => (
                "too_low",
                Severity::Medium,
                format!(
                    "logged without its ResponseComplete stage ({}): whether the request succeeded is never recorded: {}",
                    rule_name(r),
                    list.join("; ")
                ),
                "remove ResponseComplete from `omitStages` (omit RequestReceived instead)"
                    .to_owned(),
            ),
            "credential_leak" => (
                "credential_leak",
                Severity::Critical,
                format!(
                    "credentials written into the audit log: {} logs {} at {}: {}",
                    rule_name(r),
                    resource_of(first),
                    r.map_or("None", |r| r.level.as_str()),
                    list.join("; ")
                ),
                format!(
                    "log {} at Metadata in a rule before {}",
                    resource_of(first),
                    r.map_or("the end".to_owned(), |r| format!("rule {}", r.index))
                ),
            ),
            "body_logged" => (
                "body_logged",
                Severity::Low,
                format!(
                    "ConfigMap bodies are logged ({}): credentials kept in ConfigMaps reach the audit log: {}",
                    rule_name(r),
                    list.join("; ")
                ),
                "log configmaps at Metadata unless their content is needed".to_owned(),
            ),
            _ => (
                "env_literals_logged",
                Severity::Low,
                format!(
                    "pod and workload specs are logged with their bodies ({}): env literals (passwords set as plain `value:`) reach the audit log: {}",
                    rule_name(r),
                    list.join("; ")
                ),
                "log pods and workloads at Metadata, or move credentials to Secrets".to_owned(),
            ),
        };
        findings.push(PolicyFinding {
            kind: kind.to_owned(),
            severity,
            message,
            fix,
            evidence: evidence(file, r),
            rule,
            probes: ids,
            cis: matches!(kind, "too_low").then(|| "3.2.2".to_owned()),
        });
    }
    for rule in &policy.rules {
        rule_findings(file, policy, rule, &probes, &decisions, &mut findings);
    }
    for (line, warning) in &policy.warnings {
        findings.push(PolicyFinding {
            kind: "hygiene".to_owned(),
            severity: Severity::Medium,
            message: warning.clone(),
            fix: "use only the keys of audit.k8s.io PolicyRule".to_owned(),
            evidence: format!("{file}:{line}"),
            rule: None,
            probes: Vec::new(),
            cis: None,
        });
    }
    if policy.omit_stages.iter().any(|s| s == "ResponseComplete") {
        findings.push(PolicyFinding {
            kind: "too_low".to_owned(),
            severity: Severity::High,
            message: "the policy omits the ResponseComplete stage for every request: no event says whether a request succeeded".to_owned(),
            fix: "omit RequestReceived instead".to_owned(),
            evidence: format!("{file}:1"),
            rule: None,
            probes: Vec::new(),
            cis: Some("3.2.2".to_owned()),
        });
    }
    // What no audit policy can make the API server record.
    for (message, fix) in [
        (
            "direct kubelet API access (port 10250: exec, logs, /pods) bypasses the API server: no audit policy records it; only nodes/proxy through the API server is probed here",
            "restrict 10250 to the control plane; watch kubelet or node telemetry for direct use",
        ),
        (
            "the Docker Engine API on hosts with a Docker socket (`docker logs`, `inspect`, `exec`, `cp`) is outside Kubernetes auditing",
            "enable dockerd debug logging or an authorization plugin, or front the socket with credwatch's docker-proxy",
        ),
        (
            "on managed clusters the provider's pipeline decides what reaches you: GKE writes reads to Data Access logs (off by default), AKS's kube-audit-admin category leaves get and list out, EKS's policy is fixed",
            "check what the logs hold with `credwatch coverage logs`",
        ),
    ] {
        findings.push(PolicyFinding {
            kind: "blind_spot".to_owned(),
            severity: Severity::Info,
            message: message.to_owned(),
            fix: fix.to_owned(),
            evidence: file.to_owned(),
            rule: None,
            probes: Vec::new(),
            cis: None,
        });
    }
    findings.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.rule.cmp(&b.rule)));
    PolicyAnalysis { rows, findings }
}

/// Findings about one rule as written.
fn rule_findings(
    file: &str,
    policy: &Policy,
    rule: &PolicyRule,
    probes: &[Probe],
    decisions: &[Decision],
    out: &mut Vec<PolicyFinding>,
) {
    let mut push = |kind: &str, severity, message: String, fix: &str, line: usize| {
        out.push(PolicyFinding {
            kind: kind.to_owned(),
            severity,
            message,
            fix: fix.to_owned(),
            evidence: format!("{file}:{line}"),
            rule: Some(rule.index),
            probes: Vec::new(),
            cis: None,
        });
    };
    // None for a whole population, not narrowed to harmless resources.
    if rule.level == Level::None {
        let broad: Vec<&String> = rule
            .user_groups
            .iter()
            .filter(|g| {
                BROAD_GROUPS.contains(&g.as_str()) || g.starts_with("system:serviceaccounts:")
            })
            .collect();
        let narrowed_to_harmless = !rule.non_resource_urls.is_empty()
            || (!rule.resources.is_empty()
                && !probes
                    .iter()
                    .filter(|p| p.relevant)
                    .any(|p| rule_covers_resource(rule, p)));
        if !broad.is_empty() && !narrowed_to_harmless {
            push(
                "too_low",
                Severity::High,
                format!(
                    "rule {} sets None for the whole group {}: their credential access goes unrecorded",
                    rule.index,
                    broad
                        .iter()
                        .map(|g| format!("`{g}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                "narrow the rule to the noisy, harmless resources and verbs it was meant for",
                rule.line,
            );
        }
    }
    for gr in &rule.resources {
        if gr.group.contains('/') {
            push(
                "hygiene",
                Severity::Medium,
                format!(
                    "rule {}: group `{}` has a version; groups are matched without one, so this entry matches nothing",
                    rule.index, gr.group
                ),
                "write the group without its version (`apps`, not `apps/v1`)",
                gr.line,
            );
        }
        // `pods` alone does not cover `pods/exec`: check what the subresources get instead.
        if gr.resources.iter().any(|r| r == "pods")
            && !gr
                .resources
                .iter()
                .any(|r| r == "*" || r == "pods/*" || r == "pods/exec")
            && gr.group.is_empty()
        {
            let exec = probes
                .iter()
                .position(|p| p.id.starts_with("pods/exec.create"))
                .map(|i| &decisions[i]);
            if let Some(d) = exec.filter(|d| d.level < rule.level) {
                push(
                    "hygiene",
                    if d.level == Level::None {
                        Severity::Medium
                    } else {
                        Severity::Info
                    },
                    format!(
                        "rule {} lists `pods`, which does not match subresources: pods/exec gets {} from {}, not {}",
                        rule.index,
                        d.level.as_str(),
                        rule_name(d.rule.and_then(|i| policy.rules.get(i))),
                        rule.level.as_str()
                    ),
                    "add `pods/exec`, `pods/attach`, `pods/portforward` (or `pods/*`) if they were meant",
                    gr.line,
                );
            }
        }
        if !gr.resource_names.is_empty()
            && (rule.verbs.is_empty()
                || rule
                    .verbs
                    .iter()
                    .any(|v| matches!(v.as_str(), "list" | "watch" | "create")))
        {
            push(
                "hygiene",
                Severity::Info,
                format!(
                    "rule {}: `resourceNames` cannot match list, watch or create requests (they name no object); those fall through to later rules",
                    rule.index
                ),
                "state the verbs the names apply to (get, update, patch, delete)",
                gr.line,
            );
        }
    }
    for url in &rule.non_resource_urls {
        if url.contains('*') && !url.ends_with('*') || url.matches('*').count() > 1 {
            push(
                "hygiene",
                Severity::Medium,
                format!(
                    "rule {}: nonResourceURL `{url}` has a `*` that is not at the end; only a trailing `*` is a wildcard",
                    rule.index
                ),
                "use a prefix ending in `*` (`/healthz*`)",
                rule.line,
            );
        }
    }
    for verb in &rule.verbs {
        if !KNOWN_VERBS.contains(&verb.as_str()) {
            push(
                "hygiene",
                Severity::Medium,
                format!(
                    "rule {}: verb `{verb}` is not a request verb (get, list, watch, create, update, patch, delete, deletecollection); it never matches",
                    rule.index
                ),
                "use request verbs; RBAC verbs such as impersonate, bind or escalate are not audited as such",
                rule.line,
            );
        }
    }
    for stage in &rule.omit_stages {
        if !super::policy::STAGES.contains(&stage.as_str()) {
            push(
                "hygiene",
                Severity::Low,
                format!("rule {}: unknown stage `{stage}` in omitStages", rule.index),
                "stages are RequestReceived, ResponseStarted, ResponseComplete, Panic",
                rule.line,
            );
        }
    }
}

/// Whether a rule's resource selectors (ignoring users and verbs) take in a probe's resource.
fn rule_covers_resource(rule: &PolicyRule, probe: &Probe) -> bool {
    let widened = PolicyRule {
        users: Vec::new(),
        user_groups: Vec::new(),
        verbs: Vec::new(),
        ..rule.clone()
    };
    widened.matches(&probe.request)
}

/// The seed's questions, scored from what the policy records for the credential-relevant
/// probes: identity, source, action and resource are in every event at Metadata or above;
/// the result needs ResponseComplete.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Score {
    pub question: &'static str,
    /// 0–100; None when the input cannot tell.
    pub score: Option<u32>,
    pub basis: String,
}

pub fn scores(rows: &[ProbeRow], retention_days: Option<u32>, retention_known: bool) -> Vec<Score> {
    let relevant: Vec<&ProbeRow> = rows.iter().filter(|r| r.relevant).collect();
    let n = relevant.len().max(1) as u32;
    let logged = relevant
        .iter()
        .filter(|r| r.decision.level > Level::None)
        .count() as u32;
    let outcome = relevant
        .iter()
        .filter(|r| r.decision.logs_response_complete())
        .count() as u32;
    let share = |k: u32| Some(k * 100 / n);
    let logged_basis = format!("{logged} of {n} credential-relevant probes produce an event");
    let mut out: Vec<Score> = ["identity", "source", "action", "resource"]
        .into_iter()
        .map(|question| Score {
            question,
            score: share(logged),
            basis: logged_basis.clone(),
        })
        .collect();
    out.push(Score {
        question: "result",
        score: share(outcome),
        basis: format!("{outcome} of {n} credential-relevant probes are logged with their ResponseComplete stage (the response code)"),
    });
    out.push(match (retention_known, retention_days) {
        (false, _) => Score {
            question: "retention",
            score: None,
            basis: "no apiserver flags given (--apiserver)".to_owned(),
        },
        (true, Some(days)) => Score {
            question: "retention",
            score: Some((days * 100 / 30).min(100)),
            basis: format!("--audit-log-maxage {days} days against the 30 CIS 1.2.17 asks for"),
        },
        (true, None) => Score {
            question: "retention",
            score: Some(0),
            basis: "no audit log file retention set (--audit-log-maxage missing)".to_owned(),
        },
    });
    out
}
