//! `credwatch inventory`: the RBAC resolution case table (tests/inventory_cases/cases.yml), the
//! hand-checked kubeadm cluster (tests/fixtures/inventory/kubeadm, expected answers in
//! kubeadm-expected.yml), the Docker fixtures, and the command line.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use credwatch::inventory::assess::{self, InventoryFinding};
use credwatch::inventory::dump::{self, Dump};
use credwatch::inventory::rbac::{Rbac, Request, User, subjects_of};
use credwatch::rules::yaml;
use serde_json::Value;

fn yaml_list(path: &str) -> Vec<(usize, Value)> {
    let text = std::fs::read_to_string(common::project_dir().join(path)).expect(path);
    let docs = yaml::parse_documents(&text).expect("parses");
    let yaml::Value::Seq(nodes) = &docs[0].value else {
        panic!("{path}: a list")
    };
    nodes.iter().map(|n| (n.line, n.to_json())).collect()
}

fn text<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key).and_then(Value::as_str)
}

fn strings(v: &Value, key: &str) -> BTreeSet<String> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// A request as the case files write it.
fn request(v: &Value) -> Request {
    let verb = text(v, "verb").expect("verb");
    if let Some(path) = text(v, "path") {
        return Request::non_resource(verb, path);
    }
    let resource = text(v, "resource").expect("resource");
    let target = match text(v, "subresource") {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };
    let (request, _) = Request::query(verb, &target, text(v, "api_group"));
    request
        .in_namespace(text(v, "namespace"))
        .named(text(v, "name"))
}

/// Checks `can`, `who_can` and `findings` entries against a dump; returns the failures.
fn check(dump: &Dump, case: &Value) -> Vec<String> {
    let rbac = Rbac::new(dump);
    let mut failures = Vec::new();
    for can in case
        .get("can")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let groups: Vec<String> = strings(can, "groups").into_iter().collect();
        let user = User::new(text(can, "as").expect("as"), &groups);
        let expected = can["allowed"].as_bool().expect("allowed");
        let got = rbac.allows(&user, &request(can));
        if got != expected {
            failures.push(format!("can {can}: got {got}"));
        }
    }
    for query in case
        .get("who_can")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let answers = rbac.who_can(&request(query));
        let got = subjects_of(&answers);
        let subjects: BTreeSet<String> = got.keys().map(ToString::to_string).collect();
        let only_names: BTreeSet<String> = got
            .iter()
            .filter(|(_, only)| **only)
            .map(|(s, _)| s.to_string())
            .collect();
        let expected = strings(query, "subjects");
        if subjects != expected {
            failures.push(format!(
                "who_can {query}: missing {:?}, unexpected {:?}",
                expected.difference(&subjects).collect::<Vec<_>>(),
                subjects.difference(&expected).collect::<Vec<_>>()
            ));
        }
        let expected_names = strings(query, "only_names");
        if only_names != expected_names {
            failures.push(format!(
                "who_can {query}: only_names {only_names:?}, expected {expected_names:?}"
            ));
        }
    }
    let findings = case
        .get("findings")
        .and_then(Value::as_array)
        .filter(|f| !f.is_empty());
    if let Some(expected) = findings {
        let report = assess::assess(dump);
        for e in expected {
            failures.extend(check_finding(&report.findings, e));
        }
    }
    failures
}

fn check_finding(findings: &[InventoryFinding], e: &Value) -> Option<String> {
    let kind = text(e, "kind").expect("kind");
    let subject = text(e, "subject").expect("subject");
    let namespace = text(e, "namespace");
    let absent = e.get("absent").and_then(Value::as_bool).unwrap_or(false);
    let same = |f: &&InventoryFinding| f.kind == kind && f.subject.as_deref() == Some(subject);
    // No namespace: cluster-wide. `severity` and `platform`, when given, must match too.
    let severity = text(e, "severity");
    let platform = e.get("platform").and_then(Value::as_bool);
    let present = findings.iter().any(|f| {
        same(&f)
            && f.namespace.as_deref() == namespace
            && severity.is_none_or(|s| f.severity.as_str() == s)
            && platform.is_none_or(|p| f.platform == p)
    });
    if present == absent {
        let of_subject: Vec<String> = findings
            .iter()
            .filter(|f| f.subject.as_deref() == Some(subject))
            .map(|f| format!("{}@{}", f.kind, f.namespace.as_deref().unwrap_or("cluster")))
            .collect();
        return Some(format!(
            "finding {e}: {} (subject has {of_subject:?})",
            if absent { "reported" } else { "missing" }
        ));
    }
    None
}

#[test]
fn rbac_resolution_case_table() {
    let cases = yaml_list("tests/inventory_cases/cases.yml");
    assert!(
        cases.len() >= 40,
        "at least 40 cases, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (line, case) in &cases {
        let name = text(case, "name").expect("name");
        assert!(names.insert(name.to_owned()), "duplicate case name {name}");
        let mut dump = Dump::default();
        dump::load_text(
            &mut dump,
            &Arc::from("case.yaml"),
            text(case, "objects").expect("objects"),
        );
        dump.finish();
        if !dump.errors.is_empty() {
            failures.push(format!("line {line}: {name}: objects: {:?}", dump.errors));
            continue;
        }
        for failure in check(&dump, case) {
            failures.push(format!("line {line}: {name}: {failure}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn kubeadm_dir() -> PathBuf {
    common::project_dir().join("tests/fixtures/inventory/kubeadm")
}

#[test]
fn kubeadm_cluster_answers_as_checked_by_hand() {
    let expected = {
        let path = "tests/fixtures/inventory/kubeadm-expected.yml";
        let text = std::fs::read_to_string(common::project_dir().join(path)).expect(path);
        yaml::parse_documents(&text).expect("parses")[0].to_json()
    };
    // The same objects as a directory of manifests and as one `kubectl get -o json` List.
    let from_dir = dump::load(&[kubeadm_dir()]);
    let from_list =
        dump::load(&[common::project_dir().join("tests/fixtures/inventory/kubeadm.json")]);
    for dump in [&from_dir, &from_list] {
        assert!(dump.errors.is_empty(), "{:?}", dump.errors);
    }
    assert_eq!(from_dir.objects, from_list.objects);
    assert_eq!(from_dir.bindings.len(), from_list.bindings.len());
    for (which, dump) in [("directory", &from_dir), ("List", &from_list)] {
        let failures = check(dump, &expected);
        assert!(
            failures.is_empty(),
            "{which}: {} failures:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    let report = assess::assess(&from_dir);
    let platform_of = |subject: &str| -> Vec<bool> {
        report
            .findings
            .iter()
            .filter(|f| f.subject.as_deref() == Some(subject))
            .map(|f| f.platform)
            .collect()
    };
    let identities: BTreeSet<&str> = report
        .platform_identities
        .iter()
        .map(|p| p.subject.as_str())
        .collect();
    for subject in strings(&expected, "platform") {
        assert!(
            identities.contains(subject.as_str()),
            "{subject} must be listed as a platform identity"
        );
        let marks = platform_of(&subject);
        assert!(
            marks.iter().all(|p| *p),
            "{subject}: its findings are platform findings: {marks:?}"
        );
    }
    for subject in strings(&expected, "not_platform") {
        assert!(
            !identities.contains(subject.as_str()),
            "{subject} is not a platform identity"
        );
        let marks = platform_of(&subject);
        assert!(
            marks.iter().all(|p| !*p),
            "{subject} must not be marked platform: {marks:?}"
        );
    }
    for sa in expected["service_accounts"]
        .as_array()
        .expect("service_accounts")
    {
        let subject = text(sa, "subject").expect("subject");
        let reach = report
            .service_accounts
            .iter()
            .find(|r| r.subject == subject)
            .unwrap_or_else(|| panic!("{subject} in service_accounts"));
        let pods: BTreeSet<String> = reach.pods.iter().cloned().collect();
        let nodes: BTreeSet<String> = reach.nodes.iter().cloned().collect();
        assert_eq!(pods, strings(sa, "pods"), "{subject} pods");
        assert_eq!(nodes, strings(sa, "nodes"), "{subject} nodes");
    }
}

#[test]
fn kubeadm_workloads_as_checked_by_hand() {
    let expected = {
        let path = "tests/fixtures/inventory/kubeadm-expected.yml";
        let text = std::fs::read_to_string(common::project_dir().join(path)).expect(path);
        yaml::parse_documents(&text).expect("parses")[0].to_json()
    };
    let dump = dump::load(&[kubeadm_dir()]);
    let rbac = assess::assess(&dump);
    let redactor = credwatch::redact::Redactor::with_key([42; 32]);
    let report = credwatch::inventory::workloads::report(&dump, &rbac, &redactor);
    let mut failures = Vec::new();
    for e in expected["workloads"].as_array().expect("workloads") {
        let kind = text(e, "kind").expect("kind");
        let object = text(e, "object").expect("object");
        let field = text(e, "field_contains");
        let absent = e.get("absent").and_then(Value::as_bool).unwrap_or(false);
        let present = report.findings.iter().any(|f| {
            f.kind == kind
                && f.object == object
                && field
                    .is_none_or(|needle| f.field.as_deref().is_some_and(|got| got.contains(needle)))
        });
        if present == absent {
            failures.push(format!(
                "{e}: {}",
                if absent { "reported" } else { "missing" }
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn docker_fixtures_as_expected() {
    let dir = common::project_dir().join("tests/fixtures/inventory/docker");
    let expected = yaml_list("tests/fixtures/inventory/docker/expected.yml");
    let files = [
        "daemon-insecure.json",
        "daemon-tls.json",
        "daemon-tls-noverify.json",
        "docker.service",
        "override.conf",
        "ps-dockerd.txt",
        "inspect.json",
    ];
    for file in files {
        let report = credwatch::inventory::docker::report(&[dir.join(file)], false);
        assert!(report.errors.is_empty(), "{file}: {:?}", report.errors);
        // Each expected finding once; nothing else but the informational "not logged" note.
        let mut unmatched: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.kind != "api_calls_not_logged")
            .collect();
        for (line, e) in expected
            .iter()
            .filter(|(_, e)| text(e, "file") == Some(file))
        {
            let (kind, severity, needle) = (
                text(e, "kind").expect("kind"),
                text(e, "severity").expect("severity"),
                text(e, "contains").expect("contains"),
            );
            let at = unmatched.iter().position(|f| {
                f.kind == kind
                    && f.severity.as_str() == severity
                    && (f.message.contains(needle)
                        || f.evidence.contains(needle)
                        || f.subject.contains(needle))
            });
            match at {
                Some(i) => {
                    unmatched.remove(i);
                }
                None => panic!(
                    "{file}: expected.yml line {line}: {e} not reported: {:#?}",
                    report.findings
                ),
            }
        }
        assert!(unmatched.is_empty(), "{file}: unexpected {unmatched:#?}");
        let not_logged = report
            .findings
            .iter()
            .any(|f| f.kind == "api_calls_not_logged");
        let debug = report.findings.iter().any(|f| f.kind == "debug_logging");
        let daemon = report.summary.daemon_configs > 0;
        assert_eq!(not_logged, daemon && !debug, "{file}: the not-logged note");
    }
}

/// Values planted in the fixtures' Secrets, env, ConfigMaps and annotations (see the fixtures'
/// README files), and their base64 forms.
const CANARIES: &[&str] = &[
    "CANARY-TOKEN-7f3a9c2e1b",
    "glrt-CANARY-runner-auth-0c6e2a9f",
    "CANARY-DB-PASSWORD-b81d4c07",
    "CANARY-STRIPE-SECRET-e35a90d2",
    "CANARY-WEB-DBPASS-2b8e5f1c",
    "CANARY-WAREHOUSE-PASS-f2a61e9b",
    "CANARY-LASTAPPLIED-DBPASS-9e2c",
    "CANARY-LASTAPPLIED-SESSION-61fa0b3d",
    "CANARY-DOCKER-ENV-4be1",
    "c4n4ry9d4e1f7a2c",
    "Tr0ub4dor&3-payments",
    "sk_live_ri1RtSvNuSrVqco0quDQov5S",
    "AKIAYOTX4YIPTRBWAACS",
];

fn assert_no_canary(what: &str, output: &str) {
    use base64::Engine as _;
    for canary in CANARIES {
        let encoded = base64::engine::general_purpose::STANDARD.encode(canary);
        for needle in [canary.to_string(), encoded] {
            assert!(!output.contains(&needle), "{what} shows {needle}");
        }
    }
}

#[test]
fn command_line_never_prints_a_credential() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let kubeadm = "tests/fixtures/inventory/kubeadm";
    let list = "tests/fixtures/inventory/kubeadm.json";
    let docker = "tests/fixtures/inventory/docker/inspect.json";
    for format in ["table", "json", "jsonl"] {
        let runs: Vec<Vec<&str>> = vec![
            vec!["inventory", "rbac", kubeadm, "--format", format],
            vec!["inventory", "rbac", list, "--format", format],
            vec!["inventory", "workloads", kubeadm, "--format", format],
            vec!["inventory", "workloads", list, "--format", format],
            vec![
                "inventory",
                "who-can",
                "get",
                "secrets",
                kubeadm,
                "--format",
                format,
            ],
            vec!["inventory", "docker", docker, "--format", format],
        ];
        for args in runs {
            let run = common::credwatch(&args, None, dir.path());
            assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
            assert!(!run.stdout.is_empty(), "{args:?}");
            assert_no_canary(&format!("{args:?} stdout"), &run.stdout);
            assert_no_canary(&format!("{args:?} stderr"), &run.stderr);
        }
    }
}

#[test]
fn command_line_reports_and_exit_status() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let kubeadm = "tests/fixtures/inventory/kubeadm";
    let run = common::credwatch(
        &["inventory", "rbac", kubeadm, "--format", "json"],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    for key in [
        "findings",
        "platform_findings",
        "service_accounts",
        "platform_identities",
        "summary",
    ] {
        assert!(doc.get(key).is_some(), "{key} in the document");
    }
    for finding in doc["findings"].as_array().expect("findings") {
        for field in ["kind", "severity", "message", "evidence"] {
            assert!(finding.get(field).is_some(), "{field} in {finding}");
        }
        assert!(
            finding.get("platform").is_none(),
            "platform findings apart: {finding}"
        );
    }
    assert!(doc["summary"]["by_kind"]["full_control"].as_u64() > Some(0));
    assert!(
        run.stderr
            .contains("read 305 objects from 14 file(s), 0 rejected"),
        "{}",
        run.stderr
    );

    let run = common::credwatch(
        &[
            "inventory",
            "rbac",
            kubeadm,
            "--fail-on",
            "critical",
            "-o",
            "/dev/null",
        ],
        None,
        dir.path(),
    );
    assert_eq!(
        run.code, 3,
        "a critical finding fails the run: {}",
        run.stderr
    );

    let run = common::credwatch(
        &[
            "inventory",
            "who-can",
            "create",
            "pods/exec",
            "-n",
            "web",
            kubeadm,
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("who can create pods/exec in namespace web:"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("User:bob@example.com"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Group:system:masters (bootstrap superusers)"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("User:alice@example.com"),
        "{}",
        run.stdout
    );
}

#[test]
fn bad_input_is_named_counted_and_skipped() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let dumps = dir.path().join("dumps");
    std::fs::create_dir(&dumps).expect("dir");
    std::fs::write(
        dumps.join("good.yaml"),
        "kind: ClusterRoleBinding\nmetadata: {name: b}\nroleRef: {kind: ClusterRole, name: r}\nsubjects: [{kind: User, name: eve}]\n---\nkind: ClusterRole\nmetadata: {name: r}\nrules: [{verbs: [get], apiGroups: [''], resources: [secrets]}]\n---\nkind: Role\nmetadata: {name: no-namespace}\n---\nkind: ClusterRole\nmetadata: {name: bad}\nrules: 42\n",
    )
    .expect("write");
    std::fs::write(
        dumps.join("broken.yaml"),
        "kind: Role\nmetadata: [unclosed\n",
    )
    .expect("write");
    std::fs::write(dumps.join("binary.json"), [0xff, 0xfe, 0x00, 0x01]).expect("write");
    std::fs::write(
        dumps.join("truncated.json"),
        "{\"kind\": \"List\", \"items\": [{\"kind\": \"Role\"",
    )
    .expect("write");
    let path = dumps.display().to_string();
    let run = common::credwatch(
        &["inventory", "rbac", &path, "--format", "jsonl"],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("\"subject\":\"User:eve\""),
        "the good part is used: {}",
        run.stdout
    );
    for needle in [
        "good.yaml:10: not a readable Kubernetes object: Role no-namespace has no namespace",
        "good.yaml:13: not a readable Kubernetes object",
        "broken.yaml:3: invalid YAML",
        "binary.json: not UTF-8 text",
        "truncated.json:1: invalid JSON",
        "read 2 objects from 4 file(s), 5 rejected",
    ] {
        assert!(
            run.stderr.contains(needle),
            "stderr names {needle:?}: {}",
            run.stderr
        );
    }
    let missing = dir.path().join("missing.json").display().to_string();
    let run = common::credwatch(&["inventory", "rbac", &missing], None, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("missing.json: cannot read"),
        "{}",
        run.stderr
    );
}

/// (rule id prefix or title, target name, level, blast radius account) of each alert.
fn hunt_alerts(
    args: &[&str],
    dir: &std::path::Path,
) -> Vec<(String, String, String, Option<String>)> {
    let run = common::credwatch(args, None, dir);
    assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    run.stdout
        .lines()
        .map(|line| {
            let alert: Value = serde_json::from_str(line).expect("an alert per line");
            (
                alert["rule"]["title"].as_str().expect("title").to_owned(),
                alert["target"]["name"].as_str().unwrap_or("").to_owned(),
                alert["rule"]["level"].as_str().expect("level").to_owned(),
                alert["blast_radius"]["service_account"]
                    .as_str()
                    .map(str::to_owned),
            )
        })
        .collect()
}

#[test]
fn hunt_weighs_alerts_by_the_inventory() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let log = "tests/fixtures/inventory/audit-blast.jsonl";
    let kubeadm = "tests/fixtures/inventory/kubeadm";
    let plain = hunt_alerts(&["hunt", log, "--format", "jsonl"], dir.path());
    let weighed = hunt_alerts(
        &["hunt", log, "--format", "jsonl", "--inventory", kubeadm],
        dir.path(),
    );
    assert!(plain.iter().all(|a| a.3.is_none()), "{plain:#?}");
    let find = |alerts: &[(String, String, String, Option<String>)], title: &str, name: &str| {
        alerts
            .iter()
            .find(|a| a.0 == title && a.1 == name)
            .cloned()
            .unwrap_or_else(|| panic!("{title} on {name} in {alerts:#?}"))
    };
    let controller = "argocd-application-controller";
    let runner_pod = "gitlab-runner-6d4b8c5f9-x2k9p";
    // (title, target, level without, level with, account)
    let cases = [
        (
            "Service-account token minted",
            controller,
            "medium",
            "high",
            "ServiceAccount:argocd:argocd-application-controller",
        ),
        (
            "Token minted for a privileged service account or for a long lifetime",
            controller,
            "high",
            "critical",
            "ServiceAccount:argocd:argocd-application-controller",
        ),
        (
            "Potential Remote Command Execution In Pod Container",
            runner_pod,
            "medium",
            "high",
            "ServiceAccount:ci:gitlab-runner",
        ),
        // Refused: the account is named, the level stays.
        (
            "Secret read denied",
            "gitlab-runner-token",
            "low",
            "low",
            "ServiceAccount:ci:gitlab-runner",
        ),
    ];
    for (title, name, before, after, account) in cases {
        assert_eq!(
            find(&plain, title, name).2,
            before,
            "{title} without --inventory"
        );
        let with = find(&weighed, title, name);
        assert_eq!(with.2, after, "{title} with --inventory");
        assert_eq!(with.3.as_deref(), Some(account), "{title}");
    }
    // A plain read of the runner's legacy token Secret: no rule flags it, the inventory does.
    assert!(
        !plain
            .iter()
            .any(|a| a.1 == "gitlab-runner-token" && a.2 == "high")
    );
    let reached = find(
        &weighed,
        "Token of a powerful service account reached",
        "gitlab-runner-token",
    );
    assert_eq!(reached.2, "high");
    assert_eq!(
        reached.3.as_deref(),
        Some("ServiceAccount:ci:gitlab-runner")
    );
    // web-tls is no token: nothing changes for it.
    assert!(!weighed.iter().any(|a| a.1 == "web-tls" && a.3.is_some()));
    // --level applies to the raised level.
    let high = hunt_alerts(
        &[
            "hunt",
            log,
            "--format",
            "jsonl",
            "--inventory",
            kubeadm,
            "--level",
            "high",
        ],
        dir.path(),
    );
    assert_eq!(
        high.len(),
        weighed
            .iter()
            .filter(|a| a.2 == "high" || a.2 == "critical")
            .count()
    );
    assert!(high.iter().any(|a| a.0 == "Service-account token minted"));

    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kind: Role\nmetadata: [oops\n").expect("write");
    let run = common::credwatch(
        &["hunt", log, "--inventory", &bad.display().to_string()],
        None,
        dir.path(),
    );
    assert_eq!(
        run.code, 1,
        "a broken inventory stops the hunt: {}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--inventory:") && run.stderr.contains("bad.yaml:"),
        "{}",
        run.stderr
    );
}

#[test]
fn command_line_goldens() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let kubeadm = "tests/fixtures/inventory/kubeadm";
    let d = "tests/fixtures/inventory/docker";
    let runs: [(&str, Vec<String>); 4] = [
        (
            "inventory-rbac.txt",
            vec!["inventory".into(), "rbac".into(), kubeadm.into()],
        ),
        (
            "inventory-who-can.txt",
            [
                "inventory",
                "who-can",
                "get",
                "secrets",
                "-n",
                "payments",
                kubeadm,
            ]
            .map(String::from)
            .to_vec(),
        ),
        (
            "inventory-workloads.jsonl",
            ["inventory", "workloads", kubeadm, "--format", "jsonl"]
                .map(String::from)
                .to_vec(),
        ),
        (
            "inventory-docker.txt",
            [
                "daemon-insecure.json",
                "docker.service",
                "override.conf",
                "ps-dockerd.txt",
                "inspect.json",
            ]
            .iter()
            .map(|f| format!("{d}/{f}"))
            .fold(
                vec!["inventory".to_owned(), "docker".to_owned()],
                |mut v, f| {
                    v.push(f);
                    v
                },
            ),
        ),
    ];
    for (golden, args) in runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = common::credwatch(&args, None, dir.path());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        common::golden(golden, &run.stdout);
    }
}

/// Review findings: a service account's groups count for it; a bad value is never quoted; a
/// directory and its List together are read once; one host's files are combined.
#[test]
fn service_accounts_hold_what_their_groups_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let dump_path = dir.path().join("groups.yaml");
    std::fs::write(
        &dump_path,
        r#"apiVersion: v1
kind: ServiceAccount
metadata: {name: builder, namespace: ci}
---
apiVersion: v1
kind: Secret
metadata:
  name: builder-token
  namespace: ci
  annotations: {kubernetes.io/service-account.name: builder}
type: kubernetes.io/service-account-token
---
kind: ClusterRole
metadata: {name: secret-reader}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
---
kind: RoleBinding
metadata: {name: ci-sas-read, namespace: ci}
roleRef: {kind: ClusterRole, name: secret-reader}
subjects: [{kind: Group, name: "system:serviceaccounts:ci"}]
---
kind: ClusterRole
metadata: {name: approval}
rules: [{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}]
---
kind: ClusterRole
metadata: {name: signer}
rules: [{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kube-apiserver-client]}]
---
kind: ClusterRoleBinding
metadata: {name: builder-approval}
roleRef: {kind: ClusterRole, name: approval}
subjects: [{kind: ServiceAccount, name: builder, namespace: ci}]
---
kind: ClusterRoleBinding
metadata: {name: all-sas-signer}
roleRef: {kind: ClusterRole, name: signer}
subjects: [{kind: Group, name: "system:serviceaccounts"}]
"#,
    )
    .expect("write");
    let dump = dump::load(std::slice::from_ref(&dump_path));
    assert!(dump.errors.is_empty(), "{:?}", dump.errors);
    let report = assess::assess(&dump);
    let builder = report
        .service_accounts
        .iter()
        .find(|sa| sa.subject == "ServiceAccount:ci:builder")
        .expect("listed");
    assert!(
        builder.kinds.contains(&"can_read_secrets".to_owned()),
        "{builder:?}"
    );
    assert!(
        builder.kinds.contains(&"can_approve_csr".to_owned()),
        "{builder:?}"
    );
    assert_eq!(builder.token_secrets, ["ci/builder-token"]);

    // Its legacy token read is weighed by what it holds through its groups.
    let log = dir.path().join("audit.jsonl");
    std::fs::write(
        &log,
        r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"6c0e5c1e-1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/ci/secrets/builder-token","verb":"get","user":{"username":"dev@example.com","groups":["system:authenticated"]},"sourceIPs":["10.0.0.9"],"userAgent":"kubectl/v1.30.2","objectRef":{"resource":"secrets","namespace":"ci","name":"builder-token","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-11-20T10:00:00Z","stageTimestamp":"2026-11-20T10:00:00Z","annotations":{"authorization.k8s.io/decision":"allow"}}
"#,
    )
    .expect("write");
    let alerts = hunt_alerts(
        &[
            "hunt",
            &log.display().to_string(),
            "--format",
            "jsonl",
            "--inventory",
            &dump_path.display().to_string(),
        ],
        dir.path(),
    );
    assert!(
        alerts
            .iter()
            .any(|a| a.3.as_deref() == Some("ServiceAccount:ci:builder")),
        "{alerts:#?}"
    );
}

#[test]
fn bad_values_are_not_quoted_and_duplicates_are_read_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "kind: ClusterRole\nmetadata: {name: r}\nrules: \"ghp_R4nd0mT0k3nV4lu3ThatIsNotReal0123456\"\n---\nkind: Role\nmetadata: {name: x, namespace: n, labels: [\"-----BEGIN PRIVATE KEY----- MIIEvQIBADANBg\"]}\n",
    )
    .expect("write");
    let path = bad.display().to_string();
    for args in [
        vec!["inventory", "rbac", path.as_str()],
        vec!["inventory", "workloads", path.as_str()],
        vec!["inventory", "who-can", "get", "secrets", path.as_str()],
    ] {
        let run = common::credwatch(&args, None, dir.path());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("bad.yaml:1: not a readable Kubernetes object"),
            "{}",
            run.stderr
        );
        for secret in [
            "ghp_R4nd0mT0k3nV4lu3",
            "BEGIN PRIVATE KEY",
            "MIIEvQIBADANBg",
        ] {
            assert!(
                !run.stderr.contains(secret),
                "{args:?} quotes {secret}: {}",
                run.stderr
            );
            assert!(!run.stdout.contains(secret), "{args:?} prints {secret}");
        }
    }

    let run = common::credwatch(
        &[
            "inventory",
            "rbac",
            "tests/fixtures/inventory/kubeadm",
            "tests/fixtures/inventory/kubeadm.json",
            "--format",
            "json",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["summary"]["bindings"], 88, "each binding once");
    assert!(
        run.stderr.contains("given twice (read once)"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_hosts_docker_files_are_combined() {
    let d = common::project_dir().join("tests/fixtures/inventory/docker");
    // The unit listens on 0.0.0.0:2375; on its own that is TCP without TLS. With a daemon.json
    // that turns on tlsverify, dockerd verifies clients.
    let files = [d.join("daemon-tls.json"), d.join("docker.service")];
    let alone = credwatch::inventory::docker::report(&files, false);
    assert!(alone.findings.iter().any(|f| f.kind == "tcp_without_tls"));
    let together = credwatch::inventory::docker::report(&files, true);
    assert!(
        !together
            .findings
            .iter()
            .any(|f| f.kind == "tcp_without_tls"),
        "{:#?}",
        together.findings
    );
    assert!(together.findings.iter().all(|f| f.subject.contains(" + ")));
}
