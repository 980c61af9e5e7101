//! `credwatch coverage policy`: the audit-policy case table (tests/coverage_cases/policies.yml)
//! over upstream policies and constructed ones, and the command line.

mod common;

use credwatch::coverage::{analysis, policy::Policy};
use credwatch::rules::yaml;
use serde_json::Value;

#[test]
fn policy_case_table() {
    let root = common::project_dir();
    let text =
        std::fs::read_to_string(root.join("tests/coverage_cases/policies.yml")).expect("cases");
    let docs = yaml::parse_documents(&text).expect("cases parse");
    let yaml::Value::Seq(nodes) = &docs[0].value else {
        panic!("a list of cases")
    };
    assert!(
        nodes.len() >= 30,
        "at least 30 policy cases, found {}",
        nodes.len()
    );
    let mut failures = Vec::new();
    for node in nodes {
        let case = node.to_json();
        let name = case["name"].as_str().expect("name");
        let (file, policy_text) = match (case.get("file"), case.get("policy")) {
            (Some(Value::String(f)), _) => {
                let path = root.join("tests/fixtures/audit-policies").join(f);
                (
                    f.clone(),
                    std::fs::read_to_string(&path).expect("policy fixture"),
                )
            }
            (_, Some(Value::String(p))) => ("case.yaml".to_owned(), p.clone()),
            _ => panic!("{name}: a case needs file or policy"),
        };
        let mut fail = |m: String| failures.push(format!("line {}: {name}: {m}", node.line));
        let parsed = Policy::parse(&file, &policy_text);
        if let Some(Value::String(wanted)) = case.get("error") {
            match parsed {
                Err(e) if e.to_string().contains(wanted.as_str()) => {}
                Err(e) => fail(format!("error `{e}` does not say `{wanted}`")),
                Ok(_) => fail(format!("accepted; expected an error saying `{wanted}`")),
            }
            continue;
        }
        let policy = match parsed {
            Ok(p) => p,
            Err(e) => {
                fail(format!("refused: {e}"));
                continue;
            }
        };
        let report = analysis::analyse(&file, &policy);
        let findings = serde_json::to_value(&report.findings).expect("json");
        let findings = findings.as_array().expect("array");
        for want in case
            .get("expect")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let found = findings.iter().any(|f| {
                f["kind"] == want["kind"]
                    && want.get("rule").is_none_or(|r| &f["rule"] == r)
                    && want.get("severity").is_none_or(|s| &f["severity"] == s)
                    && want
                        .get("probe")
                        .is_none_or(|p| f["probes"].as_array().is_some_and(|ps| ps.contains(p)))
            });
            if !found {
                fail(format!("no finding {want}; found {}", summary(findings)));
            }
        }
        for kind in case
            .get("absent")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(f) = findings.iter().find(|f| &f["kind"] == kind) {
                fail(format!("unexpected {kind}: {}", f["message"]));
            }
        }
        for (probe, wanted) in case
            .get("levels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let wanted = wanted.as_str().expect("level");
            let Some(row) = report.rows.iter().find(|r| r.id == *probe) else {
                fail(format!("no probe {probe}"));
                continue;
            };
            let got = match row.decision.rule {
                Some(r) => format!("{}@{r}", row.decision.level.as_str()),
                None => row.decision.level.as_str().to_owned(),
            };
            if got != wanted {
                fail(format!("{probe}: {got}, expected {wanted}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn summary(findings: &[Value]) -> String {
    findings
        .iter()
        .map(|f| format!("{}@{}/{}", f["kind"], f["rule"], f["severity"]))
        .collect::<Vec<_>>()
        .join(", ")
}

#[test]
fn apiserver_flags_from_a_static_pod_manifest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let manifest = dir.path().join("kube-apiserver.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    command:\n    - kube-apiserver\n    - --audit-policy-file=/etc/kubernetes/audit.yaml\n    - --audit-log-path=/var/log/kubernetes/audit.log\n    - --audit-log-maxage=30\n    - --audit-log-maxbackup=10\n    - --audit-log-maxsize=100\n    - --audit-webhook-config-file=/etc/kubernetes/webhook.yaml\n    - --audit-webhook-batch-throttle-qps=5\n",
    )
    .expect("write");
    let run = common::credwatch(
        &[
            "coverage",
            "policy",
            "tests/fixtures/audit-policies/gce.yaml",
            "--apiserver",
            manifest.to_str().expect("utf-8"),
            "--event-rate",
            "5000",
            "--format",
            "json",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report: Value = serde_json::from_str(&run.stdout).expect("json report");
    let kinds: Vec<&str> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["kind"].as_str().expect("kind"))
        .collect();
    // 5 batches/s of 400 = 2000 events/s against 5000 produced: the webhook drops events.
    assert_eq!(
        kinds,
        [
            "dropped_events",
            "env_literals_logged",
            "blind_spot",
            "blind_spot",
            "blind_spot"
        ],
        "{}",
        run.stdout
    );
    let retention = report["summary"]["scores"]
        .as_array()
        .expect("scores")
        .iter()
        .find(|s| s["question"] == "retention")
        .expect("retention score");
    assert_eq!(retention["score"], 100);
    assert_eq!(report["probes"].as_array().expect("probes").len(), 47);

    let bare = common::credwatch(
        &[
            "coverage",
            "policy",
            "tests/fixtures/audit-policies/gce.yaml",
            "--apiserver",
            "kube-apiserver --audit-log-path=/var/log/audit.log",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
        ],
        None,
        dir.path(),
    );
    assert_eq!(bare.code, 3, "{}", bare.stderr);
    let cis: Vec<String> = bare
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .filter_map(|f| f["cis"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(cis, ["3.2.1", "1.2.17", "1.2.18", "1.2.19"]);
}

#[test]
fn a_broken_policy_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n    verbs: get\n",
    )
    .expect("write");
    let run = common::credwatch(
        &["coverage", "policy", policy.to_str().expect("utf-8")],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("policy.yaml:5: `verbs` must be a list"),
        "{}",
        run.stderr
    );
}
