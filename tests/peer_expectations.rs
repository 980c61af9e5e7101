//! Acceptance against two peer projects' own expectations, every disagreement explained.
//!
//! 1. **Panther** (`tests/fixtures/panther/`): the `Tests:` cases of Panther's Kubernetes rules
//!    that express credential-access behaviour credwatch also detects. Each case's `log` is run
//!    through the real pipeline (decoder, built-in rules and filters, `engine::hunt`) and
//!    credwatch "fires" when an alert of one of the mapped rules comes out. Agreement = (Panther
//!    expects the rule to fire ⇔ credwatch fires). Panther's `Kubernetes.BulkSecretAccess` is a
//!    per-event predicate (Panther's dedup and threshold turn it into an alert), so it is
//!    compared with whether the per-event base rule `cw_secret_read` MATCHES the event (it only
//!    feeds the `cw_secrets_read_many` correlation and never alerts alone). A record credwatch
//!    cannot decode counts as a disagreement whatever Panther expects.
//!    The test fails when agreement drops below [`MIN_AGREEMENT`], when a disagreement is not in
//!    [`PANTHER_DISAGREEMENTS`] (with why), or when an entry there no longer disagrees (stale).
//! 2. **Falco** (`tests/fixtures/falco/`): `falco_k8s_audit_tests.yaml` names, per trace file,
//!    the Falco rules expected to fire. Every Falco rule it names is classified here, either as
//!    credential-related with the credwatch rules of the same behaviour
//!    ([`FALCO_CREDENTIAL_RULES`]) or as not ([`FALCO_OTHER_RULES`], with why). Every trace where
//!    Falco expects a credential-related rule must give at least one credwatch alert of a mapped
//!    rule; the listed negative traces must give none.
//!
//! Per-rule agreement numbers are printed (`cargo nextest run --test peer_expectations
//! --no-capture` shows them).

use credwatch::config::Config;
use credwatch::engine::{self, HuntOptions};
use credwatch::redact::Redactor;
use credwatch::rules::{self, RuleSet, testing};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Panther rule id → credwatch rules (`rule.name`) whose alerts express the same behaviour.
const PANTHER_RULES: &[(&str, &[&str])] = &[
    (
        "Kubernetes.Secrets.DumpAllNamespaces",
        &["cw_secrets_list_all_namespaces"],
    ),
    (
        "Kubernetes.Secret.AccessDenied",
        &["cw_secret_access_denied"],
    ),
    (
        "Kubernetes.ServiceAccount.TokenCreated",
        &["cw_token_request"],
    ),
    (
        "Kubernetes.Pod.StealServiceAccountToken",
        &["cw_pod_exec_credential_command"],
    ),
    ("Kubernetes.Pod.Exec", &["cw_pod_exec"]),
    ("GCP.K8s.ExecIntoPod", &["cw_pod_exec"]),
    ("Kubernetes.Kubectl.CP.Operation", &["cw_pod_cp_out"]),
    (
        "Kubernetes.API.AnonymousAccess",
        &["cw_anonymous_allowed", "cw_anonymous_external"],
    ),
    (
        "Amazon.EKS.AnonymousAPIAccess",
        &["cw_anonymous_allowed", "cw_anonymous_external"],
    ),
    (
        "Kubernetes.System.Principal.PublicIP",
        &["cw_sa_token_external_address"],
    ),
    (
        "Amazon.EKS.Audit.SystemNamespaceFromPublicIP",
        &["cw_sa_token_external_address"],
    ),
    (
        "Kubernetes.ClientCertificate.Created",
        &["cw_csr_client_certificate"],
    ),
];

/// Panther rules compared with whether a credwatch base rule (one that does not alert by
/// itself) matches the event: Panther rule id → credwatch rule name.
const PANTHER_PER_EVENT_RULES: &[(&str, &str)] =
    &[("Kubernetes.BulkSecretAccess", "cw_secret_read")];

/// Every case where credwatch and Panther disagree: (rule_id, test_name, why). An unexplained
/// new disagreement, or an entry that no longer disagrees, fails the test.
const PANTHER_DISAGREEMENTS: &[(&str, &str, &str)] = &[
    (
        "Amazon.EKS.Audit.SystemNamespaceFromPublicIP",
        "legitimate EKS node from AWS IP - should not alert",
        "Panther-specific enrichment: Panther clears a node (system:node:*, groups system:nodes) \
         whose address its ipinfo/MISP enrichment (p_enrichment) puts in AWS's AS16509. Raw audit \
         logs carry no ASN; credwatch sees a node credential used from 54.212.83.236, outside the \
         default cluster_ranges, and cw_sa_token_external_address fires. Naming the nodes' public \
         ranges in cluster_ranges silences it.",
    ),
    (
        "Kubernetes.System.Principal.PublicIP",
        "EKS Legitimate Node from AWS IP",
        "Panther-specific enrichment: same event shape as the EKS SystemNamespaceFromPublicIP case \
         (node minting a serviceaccounts/token from 54.212.83.236); Panther exempts it by the \
         ipinfo ASN (AS16509, Amazon) in p_enrichment, which raw logs do not have. credwatch \
         fires cw_sa_token_external_address (address outside default cluster_ranges).",
    ),
    (
        "Kubernetes.API.AnonymousAccess",
        "GCP GKE Anonymous API Access",
        "Decoder gap on Panther's GKE shape: the anonymous identity is only in \
         protoPayload.authenticationInfo.authoritySelector and the caller address in \
         requestMetadata.callerIP (Panther's schema spelling, now read as callerIp). Cloud Audit \
         Logs define authoritySelector as the authority the requester asked for, not the \
         caller, so credwatch does not take it as the user: the event decodes with no user and \
         no anonymous rule can match. Real GKE records name anonymous callers in principalEmail.",
    ),
    (
        "Kubernetes.System.Principal.PublicIP",
        "Pod with Mixed Public and Private IPs",
        "Deliberate: sourceIPs [10.0.1.5, 54.212.83.236]. Kubernetes lists X-Forwarded-For and \
         X-Real-Ip values first and the connection's own address last, and only the last cannot \
         be set by the client. credwatch judges the connection (sourceIPs.peer = 54.212.83.236, \
         public) and fires cw_sa_token_external_address; Panther treats any private entry as \
         internal, which lets a stolen token exempt itself with one X-Forwarded-For header.",
    ),
];

/// Below this share of agreeing cases the test fails.
const MIN_AGREEMENT: f64 = 0.95;

/// Falco rules (names as in `falco_k8s_audit_tests.yaml`) about credentials → credwatch rules
/// (`rule.name`) of the same behaviour.
const FALCO_CREDENTIAL_RULES: &[(&str, &[&str])] = &[
    ("Attach/Exec Pod", &["cw_pod_exec"]),
    (
        "Create/Modify Configmap With Private Credentials",
        &["cw_configmap_credential_values"],
    ),
    (
        "Anonymous Request Allowed",
        &["cw_anonymous_allowed", "cw_anonymous_external"],
    ),
    // Secret writes: credwatch's built-in SigmaHQ rule (alerts carry no `name`; its title
    // identifies it). Falco skips service-account-token and kube-system Secrets in these rules
    // (its two `detect: False` traces); credwatch still reports those writes — a bootstrap
    // token created in kube-system lets a machine join the cluster.
    (
        "K8s Secret Created",
        &["Kubernetes Secrets Modified or Deleted"],
    ),
    (
        "K8s Secret Deleted",
        &["Kubernetes Secrets Modified or Deleted"],
    ),
];

/// Every other Falco rule the yaml names, with why it is not credential access. (The yaml has no
/// `EphemeralContainers Created` test; Falco added that rule after these traces.)
const FALCO_OTHER_RULES: &[(&str, &str)] = &[
    ("Create Disallowed Pod", "workload image policy"),
    ("Create Privileged Pod", "workload hardening"),
    (
        "Create Sensitive Mount Pod",
        "workload hardening (host mounts)",
    ),
    ("Create HostNetwork Pod", "workload hardening"),
    ("Create NodePort Service", "network exposure"),
    (
        "Disallowed K8s User",
        "user allow-list of the test's own rules file",
    ),
    ("Create Disallowed Namespace", "namespace allow-list"),
    ("Pod Created in Kube Namespace", "workload placement"),
    (
        "Service Account Created in Kube Namespace",
        "identity creation, not use of a credential",
    ),
    (
        "System ClusterRole Modified/Deleted",
        "RBAC change (who could read credentials is `inventory`'s question, not an access)",
    ),
    ("Attach to cluster-admin Role", "RBAC change"),
    ("ClusterRole With Wildcard Created", "RBAC change"),
    ("ClusterRole With Write Privileges Created", "RBAC change"),
    (
        "ClusterRole With Pod Exec Created",
        "RBAC change granting exec: a permission, not an access",
    ),
    ("K8s Deployment Created", "activity trail"),
    ("K8s Deployment Deleted", "activity trail"),
    ("K8s Service Created", "activity trail"),
    ("K8s Service Deleted", "activity trail"),
    (
        "K8s ConfigMap Created",
        "activity trail (credential values in ConfigMaps are the Private Credentials rule)",
    ),
    ("K8s ConfigMap Deleted", "activity trail"),
    ("K8s Namespace Created", "activity trail"),
    ("K8s Namespace Deleted", "activity trail"),
    ("K8s Serviceaccount Created", "activity trail"),
    ("K8s Serviceaccount Deleted", "activity trail"),
    ("K8s Role/Clusterrole Created", "activity trail"),
    ("K8s Role/Clusterrole Deleted", "activity trail"),
    ("K8s Role/Clusterrolebinding Created", "activity trail"),
    ("K8s Role/Clusterrolebinding Deleted", "activity trail"),
    (
        "json_pointer_example",
        "Falco engine test with its own one-rule file",
    ),
];

/// Falco tests (yaml entry names) with `detect: False` that are the negative of a
/// credential-related rule: credwatch must give no alert of that rule's mapped rules.
const FALCO_CREDENTIAL_NEGATIVES: &[(&str, &str)] = &[(
    "create_configmap_no_private_creds",
    "Create/Modify Configmap With Private Credentials",
)];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn builtin_rules() -> RuleSet {
    match rules::load_with_builtin(&[], true, &Config::defaults()) {
        Ok(set) => set,
        Err(e) => panic!(
            "built-in rules fail to load: {:?}",
            e.0.iter().map(|d| d.to_string()).collect::<Vec<_>>()
        ),
    }
}

/// What one run of `hunt` over one file gave.
struct HuntResult {
    /// Alert rule names (`rule.name`, else the title for rules without one), one per alert.
    alerts: Vec<String>,
    events: u64,
    rejected: u64,
    skipped: u64,
    diagnostics: String,
}

fn hunt_file(set: &RuleSet, path: &Path, prefilter: bool) -> HuntResult {
    let options = HuntOptions {
        threads: 1,
        prefilter,
        ..HuntOptions::default()
    };
    let run = engine::hunt_collect(
        &[path.to_path_buf()],
        set,
        &options,
        &Redactor::with_key([7; 32]),
    )
    .expect("alerts readable");
    let mut names: Vec<String> = run
        .alerts
        .into_iter()
        .map(|a| a.rule.name.unwrap_or(a.rule.title))
        .collect();
    names.sort();
    let outcome = run.outcome;
    HuntResult {
        alerts: names,
        events: outcome.summary.events,
        rejected: outcome.summary.rejected,
        skipped: outcome.summary.skipped,
        diagnostics: run.diagnostics,
    }
}

/// The fields a reader needs to judge a case, from the event as credwatch decoded it.
fn key_fields(event: &Value) -> String {
    let object = &event["objectRef"];
    let part = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_else(|| "-".into());
    format!(
        "verb={} user={} objectRef={}{}{} ns={} name={} sourceIPs={} code={} requestURI={} stage={}",
        part(&event["verb"]),
        part(&event["user"]["username"]),
        part(&object["resource"]),
        object["subresource"]
            .as_str()
            .map(|s| format!("/{s}"))
            .unwrap_or_default(),
        if object["apiGroup"].is_string() {
            format!(" (group {})", part(&object["apiGroup"]))
        } else {
            String::new()
        },
        part(&object["namespace"]),
        part(&object["name"]),
        event["sourceIPs"],
        event["responseStatus"]["code"],
        part(&event["requestURI"]),
        part(&event["stage"]),
    )
}

/// The verdict on one Panther case.
struct Verdict {
    /// Whether credwatch fired (alerted on a mapped rule / the base rule matched).
    fired: bool,
    /// Why not decoded, when it was not.
    decode_problem: Option<String>,
    /// What credwatch did, for messages.
    did: String,
    /// The decoded event's key fields, for messages.
    fields: String,
}

fn panther_verdict(set: &RuleSet, case: &Value, at: &str, dir: &Path) -> Verdict {
    let rule_id = case["rule_id"].as_str().unwrap_or_default();
    let log = &case["log"];
    let per_event = PANTHER_PER_EVENT_RULES
        .iter()
        .find(|(id, _)| *id == rule_id)
        .map(|(_, name)| {
            set.rules
                .iter()
                .position(|r| r.meta.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("no built-in rule named {name}"))
        });
    // The event as credwatch decodes it (and, for per-event rules, whether the base rule matches).
    let decoded = testing::with_decoded(log, at, |d| {
        (
            serde_json::to_value(d.event).unwrap_or_default(),
            per_event.map(|i| testing::rule_matches(set, i, d)),
        )
    });
    let (fields, base_match) = match &decoded {
        Ok((event, m)) => (key_fields(event), *m),
        Err(_) => ("(not decoded)".to_owned(), None),
    };

    // The real pipeline: the log as one line of a file, through `hunt`.
    let path = dir.join("case.jsonl");
    std::fs::write(&path, format!("{}\n", serde_json::to_string(log).unwrap())).unwrap();
    let with = hunt_file(set, &path, true);
    let without = hunt_file(set, &path, false);
    assert_eq!(
        with.alerts, without.alerts,
        "{at}: the prefilter changes the alerts (with: {:?}, without: {:?})",
        with.alerts, without.alerts
    );
    let decode_problem = if without.events != 1 || without.rejected + without.skipped > 0 {
        Some(format!(
            "hunt decoded {} event(s), rejected {}, skipped {}: {}",
            without.events, without.rejected, without.skipped, without.diagnostics
        ))
    } else {
        decoded.as_ref().err().cloned()
    };
    let mapped: &[&str] = PANTHER_RULES
        .iter()
        .find(|(id, _)| *id == rule_id)
        .map(|(_, names)| *names)
        .unwrap_or(&[]);
    let fired = match base_match {
        Some(m) => m,
        None => without.alerts.iter().any(|a| mapped.contains(&a.as_str())),
    };
    let did = match base_match {
        Some(m) => format!(
            "base rule {} {}; alerts {:?}",
            PANTHER_PER_EVENT_RULES
                .iter()
                .find(|(id, _)| *id == rule_id)
                .map(|(_, n)| *n)
                .unwrap_or_default(),
            if m { "matches" } else { "does not match" },
            without.alerts
        ),
        None => format!("alerts {:?}", without.alerts),
    };
    Verdict {
        fired,
        decode_problem,
        did,
        fields,
    }
}

#[test]
fn panther_rule_tests_agree() {
    let set = builtin_rules();
    let dir = tempfile::tempdir().unwrap();
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut disagreements: BTreeMap<(String, String), String> = BTreeMap::new();
    let mut problems = Vec::new();
    let (mut total, mut agreed) = (0usize, 0usize);
    for platform in ["eks", "gke", "aks"] {
        let file = fixtures().join(format!("panther/panther_rule_tests_{platform}.jsonl"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("panther_rule_tests_{platform}.jsonl:{}", n + 1);
            let case: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{at}: not JSON: {e}"));
            let rule_id = case["rule_id"].as_str().unwrap_or_default().to_owned();
            let test_name = case["test_name"].as_str().unwrap_or_default().to_owned();
            let expected = case["expected_result"]
                .as_bool()
                .unwrap_or_else(|| panic!("{at}: expected_result is not a bool"));
            let known = PANTHER_RULES.iter().any(|(id, _)| *id == rule_id)
                || PANTHER_PER_EVENT_RULES.iter().any(|(id, _)| *id == rule_id);
            if !known {
                problems.push(format!(
                    "{at}: rule_id {rule_id} is not in scope (add it to PANTHER_RULES or remove the line)"
                ));
                continue;
            }
            let verdict = panther_verdict(&set, &case, &at, dir.path());
            let agree = verdict.decode_problem.is_none() && verdict.fired == expected;
            total += 1;
            let entry = per_rule.entry(rule_id.clone()).or_insert((0, 0));
            entry.1 += 1;
            if agree {
                agreed += 1;
                entry.0 += 1;
            } else {
                let what = match &verdict.decode_problem {
                    Some(p) => format!("NOT DECODED ({p}); {}", verdict.did),
                    None => verdict.did.clone(),
                };
                let detail = format!(
                    "{at} [{rule_id} / {test_name}] Panther expects {expected}, credwatch {}: {what}\n      event: {}",
                    if verdict.fired {
                        "fires"
                    } else {
                        "does not fire"
                    },
                    verdict.fields
                );
                if disagreements
                    .insert((rule_id.clone(), test_name.clone()), detail)
                    .is_some()
                {
                    problems.push(format!(
                        "{at}: ({rule_id}, {test_name}) appears twice; the table cannot tell them apart"
                    ));
                }
            }
        }
    }

    println!("Panther agreement per rule (agree/cases):");
    for (rule, (a, t)) in &per_rule {
        println!("  {rule:<48} {a:>3}/{t:<3}");
    }
    let share = agreed as f64 / total.max(1) as f64;
    println!(
        "  {:<48} {agreed:>3}/{total:<3} = {:.1} %",
        "all",
        share * 100.0
    );
    let in_scope = PANTHER_RULES
        .iter()
        .map(|(id, _)| *id)
        .chain(PANTHER_PER_EVENT_RULES.iter().map(|(id, _)| *id));
    for id in in_scope {
        if !per_rule.contains_key(id) {
            problems.push(format!(
                "no Panther case of in-scope rule {id} in tests/fixtures/panther"
            ));
        }
    }

    let table: BTreeMap<(String, String), &str> = PANTHER_DISAGREEMENTS
        .iter()
        .map(|(r, t, why)| ((r.to_string(), t.to_string()), *why))
        .collect();
    if table.len() != PANTHER_DISAGREEMENTS.len() {
        problems.push("PANTHER_DISAGREEMENTS lists a case twice".to_owned());
    }
    if !disagreements.is_empty() {
        println!("Panther disagreements:");
    }
    for (key, detail) in &disagreements {
        let why = table.get(key).copied();
        println!(
            "  {detail}\n      why: {}",
            why.unwrap_or("(not in PANTHER_DISAGREEMENTS)")
        );
        if why.is_none() {
            problems.push(format!(
                "unexplained disagreement: {detail}\n      add (\"{}\", \"{}\", \"<why>\") to PANTHER_DISAGREEMENTS",
                key.0, key.1
            ));
        }
    }
    for (key, _) in table.iter() {
        if !disagreements.contains_key(key) {
            problems.push(format!(
                "stale PANTHER_DISAGREEMENTS entry ({}, {}): credwatch now agrees with Panther (or the case is gone); remove it",
                key.0, key.1
            ));
        }
    }
    if share < MIN_AGREEMENT {
        problems.push(format!(
            "agreement with Panther {agreed}/{total} = {:.1} % is below {:.0} %",
            share * 100.0,
            MIN_AGREEMENT * 100.0
        ));
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// One test of `falco_k8s_audit_tests.yaml`.
struct FalcoTest {
    name: String,
    detect: bool,
    /// (Falco rule, expected count).
    counts: Vec<(String, i64)>,
    /// The trace file's name.
    trace: Option<String>,
}

fn falco_tests() -> Vec<FalcoTest> {
    use yaml_rust2::{Yaml, YamlLoader};
    let path = fixtures().join("falco/falco_k8s_audit_tests.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let docs = YamlLoader::load_from_str(&text).expect("falco_k8s_audit_tests.yaml parses");
    let Some(Yaml::Hash(tests)) = docs.first().map(|d| &d["trace_files"]) else {
        panic!("falco_k8s_audit_tests.yaml: no `trace_files` mapping")
    };
    let mut out = Vec::new();
    for (name, body) in tests {
        let name = name.as_str().expect("test name").to_owned();
        let detect = body["detect"]
            .as_bool()
            .unwrap_or_else(|| panic!("falco test {name}: no `detect`"));
        let mut counts = Vec::new();
        if let Some(list) = body["detect_counts"].as_vec() {
            for item in list {
                let Some(map) = item.as_hash() else {
                    panic!("falco test {name}: detect_counts item is not a mapping")
                };
                for (rule, count) in map {
                    counts.push((
                        rule.as_str().expect("rule name").to_owned(),
                        count.as_i64().expect("count"),
                    ));
                }
            }
        }
        let trace = body["addl_cmdline_opts"].as_str().and_then(|opts| {
            opts.split_whitespace()
                .find_map(|w| w.split("trace_files/k8s_audit/").nth(1))
                .map(str::to_owned)
        });
        out.push(FalcoTest {
            name,
            detect,
            counts,
            trace,
        });
    }
    out
}

/// A Falco test's trace file in the fixtures, or a problem saying why there is none.
fn falco_trace<'t>(
    test: &'t FalcoTest,
    at: &str,
    problems: &mut Vec<String>,
) -> Option<(&'t str, PathBuf)> {
    let Some(trace) = test.trace.as_deref() else {
        problems.push(format!("{at}: no trace file named"));
        return None;
    };
    let path = fixtures().join("falco").join(trace);
    if !path.is_file() {
        problems.push(format!(
            "{at}: trace {trace} is not in tests/fixtures/falco (copy it byte-exact)"
        ));
        return None;
    }
    Some((trace, path))
}

fn falco_mapped(rule: &str) -> Option<&'static [&'static str]> {
    FALCO_CREDENTIAL_RULES
        .iter()
        .find(|(r, _)| *r == rule)
        .map(|(_, names)| *names)
}

#[test]
fn falco_credential_detections_covered() {
    let set = builtin_rules();
    let tests = falco_tests();
    assert!(
        tests.len() > 50,
        "falco_k8s_audit_tests.yaml: only {} tests read",
        tests.len()
    );
    let mut problems = Vec::new();

    // Every Falco rule the yaml names is classified, once.
    let named: BTreeSet<&str> = tests
        .iter()
        .flat_map(|t| t.counts.iter().map(|(r, _)| r.as_str()))
        .collect();
    for rule in &named {
        let credential = falco_mapped(rule).is_some();
        let other = FALCO_OTHER_RULES.iter().any(|(r, _)| r == rule);
        match (credential, other) {
            (false, false) => problems.push(format!(
                "Falco rule `{rule}` is in neither FALCO_CREDENTIAL_RULES nor FALCO_OTHER_RULES: classify it"
            )),
            (true, true) => problems.push(format!(
                "Falco rule `{rule}` is in both FALCO_CREDENTIAL_RULES and FALCO_OTHER_RULES"
            )),
            _ => {}
        }
    }
    for rule in FALCO_CREDENTIAL_RULES
        .iter()
        .map(|(r, _)| *r)
        .chain(FALCO_OTHER_RULES.iter().map(|(r, _)| *r))
    {
        if !named.contains(rule) {
            problems.push(format!(
                "Falco rule `{rule}` is listed here but no test in the yaml expects it (stale)"
            ));
        }
    }

    // Every trace where Falco expects a credential-related rule gives a mapped credwatch alert.
    let mut checked = 0;
    println!("Falco credential-related detections:");
    for test in &tests {
        for (rule, count) in &test.counts {
            let Some(mapped) = falco_mapped(rule) else {
                continue;
            };
            let at = format!("falco test `{}` (Falco rule `{rule}`)", test.name);
            if !test.detect {
                problems.push(format!("{at}: detect_counts under detect: False"));
                continue;
            }
            let Some((trace, path)) = falco_trace(test, &at, &mut problems) else {
                continue;
            };
            checked += 1;
            let run = hunt_file(&set, &path, true);
            let hits = run
                .alerts
                .iter()
                .filter(|a| mapped.contains(&a.as_str()))
                .count();
            println!(
                "  {:<40} {trace:<45} Falco {count} × `{rule}`, credwatch {hits} × {mapped:?} (all alerts: {:?})",
                test.name, run.alerts
            );
            if run.rejected + run.skipped > 0 {
                problems.push(format!(
                    "{at}: {trace}: {} record(s) rejected, {} skipped: {}",
                    run.rejected, run.skipped, run.diagnostics
                ));
            }
            if hits == 0 {
                problems.push(format!(
                    "{at}: {trace} gives no alert of {mapped:?}; credwatch alerts: {:?}",
                    run.alerts
                ));
            }
        }
    }
    if checked == 0 {
        problems.push("no Falco credential-related detection was checked".to_owned());
    }

    // The negatives of credential-related rules give no alert of the mapped rules.
    for (name, rule) in FALCO_CREDENTIAL_NEGATIVES {
        let at = format!("falco negative test `{name}` (of `{rule}`)");
        let Some(test) = tests.iter().find(|t| t.name == *name) else {
            problems.push(format!("{at}: not in the yaml"));
            continue;
        };
        if test.detect {
            problems.push(format!("{at}: the yaml expects a detection"));
            continue;
        }
        let mapped = falco_mapped(rule).unwrap_or_else(|| panic!("{at}: `{rule}` is not mapped"));
        let Some((trace, path)) = falco_trace(test, &at, &mut problems) else {
            continue;
        };
        let run = hunt_file(&set, &path, true);
        let hits: Vec<_> = run
            .alerts
            .iter()
            .filter(|a| mapped.contains(&a.as_str()))
            .collect();
        println!(
            "  {name:<40} {trace:<45} Falco none, credwatch {} × {mapped:?}",
            hits.len()
        );
        if run.events == 0 || run.rejected + run.skipped > 0 {
            problems.push(format!(
                "{at}: {trace}: {} decoded, {} rejected, {} skipped: {}",
                run.events, run.rejected, run.skipped, run.diagnostics
            ));
        }
        if !hits.is_empty() {
            problems.push(format!(
                "{at}: {trace} gives {hits:?}, where Falco expects no detection"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
