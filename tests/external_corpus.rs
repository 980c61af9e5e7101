//! Every audit record of the real public corpus in `../shared/external/` decodes, and every
//! non-audit file or record is rejected with a reason. The corpus sits beside the repository on
//! the team's machines and in CI; a user's checkout may not have it, so the test then skips,
//! loudly, unless CREDWATCH_REQUIRE_REAL=1 (as `.ci/run` sets) makes its absence a failure.

mod common;

use sonic_rs::JsonValueTrait;
use std::collections::{BTreeMap, BTreeSet};

/// Files holding audit records, with how many each holds (counted from the files themselves:
/// one record per line, Panther's activity-log file excluded as it is not kube-audit).
const AUDIT_FILES: &[(&str, u64)] = &[
    (
        "elastic-integrations-kubernetes-audit_logs/test-audit.log",
        5,
    ),
    (
        "elastic-integrations-kubernetes-audit_logs/test-kube-audit.log",
        1,
    ),
    (
        "gcp-khi-test-logs/_derived_json/k8s_audit__container_recorder_test_1_1.jsonl",
        1,
    ),
    (
        "gcp-khi-test-logs/_derived_json/k8s_audit__container_recorder_test_1_2.jsonl",
        1,
    ),
    (
        "gcp-khi-test-logs/_derived_json/k8s_audit__container_recorder_test_1_3.jsonl",
        1,
    ),
    ("gcp-khi-test-logs/_derived_json/oss__test-log.jsonl", 1),
    ("panther-analysis/panther_rule_tests_aks.jsonl", 34),
    ("panther-analysis/panther_rule_tests_eks.jsonl", 188),
    ("panther-analysis/panther_rule_tests_gke.jsonl", 51),
];

#[test]
fn shared_external_corpus() {
    let root = common::project_dir().join("../shared/external");
    if !root.is_dir() {
        let required = std::env::var("CREDWATCH_REQUIRE_REAL").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "CREDWATCH_REQUIRE_REAL=1 but {} is missing",
            root.display()
        );
        eprintln!(
            "SKIPPED: {} not found; the real-data corpus test did not run",
            root.display()
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let summary_path = dir.path().join("summary.json");
    let run = common::credwatch(
        &[
            "events",
            "--format",
            "jsonl",
            "--all-errors",
            "--summary-json",
            summary_path.to_str().expect("utf-8"),
            "../shared/external",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let prefix = "../shared/external/";

    // Events per file, from the origins in the output.
    let mut events_per_file: BTreeMap<String, u64> = BTreeMap::new();
    for event in common::events(&run.stdout) {
        let origin = event
            .pointer(&["envelope", "origin"])
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let file = origin.rsplit_once(':').map_or(origin, |(f, _)| f);
        *events_per_file
            .entry(file.trim_start_matches(prefix).to_owned())
            .or_default() += 1;
    }
    // Falco's traces: one Event per line in every .json but the deliberately invalid one.
    let falco = root.join("falco-trace-files-k8s-audit");
    let mut want: BTreeMap<String, u64> = AUDIT_FILES
        .iter()
        .map(|(f, n)| (f.to_string(), *n))
        .collect();
    for entry in std::fs::read_dir(&falco).expect("falco traces") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") && name != "fal_01_003.json" {
            let text = std::fs::read_to_string(falco.join(&name)).expect("trace");
            want.insert(
                format!("falco-trace-files-k8s-audit/{name}"),
                text.lines().filter(|l| !l.trim().is_empty()).count() as u64,
            );
        }
    }
    // frangipanni's syslog excerpt: two dockerd API calls among systemd lines (rejected, as text
    // that is no event) and other dockerd lines (skipped).
    assert_eq!(
        events_per_file.remove("frangipanni-dockerd-syslog/log-file.txt"),
        Some(2),
        "dockerd's Calling lines"
    );
    assert_eq!(events_per_file, want, "events decoded per audit file");

    // Every rejection is in a file that is not an audit log, and every such file is reported.
    let mut rejected_files = BTreeSet::new();
    for line in run.stderr.lines() {
        if let Some(rest) = line.strip_prefix(&format!("credwatch: {prefix}")) {
            let file = rest.split([':', ' ']).next().unwrap_or_default();
            rejected_files.insert(file.to_owned());
        }
    }
    for file in want.keys() {
        assert!(
            !rejected_files.contains(file),
            "audit file {file} had rejected records:\n{}",
            run.stderr
        );
    }
    for must_reject in [
        "falco-trace-files-k8s-audit/fal_01_003.json",
        "falco-trace-files-k8s-audit/falco_k8s_audit_tests.yaml",
        "panther-analysis/panther_rule_tests_aks_activitylog.jsonl",
        "gcp-khi-test-logs/_derived_json/k8s_node__kubelet_only_pod_name.jsonl",
        "gcp-khi-test-logs/_derived_json/k8s_audit__container_recorder_test_1_1_manifest.jsonl",
        "frangipanni-dockerd-syslog/log-file.txt",
        "PROVENANCE.md",
    ] {
        assert!(
            rejected_files.contains(must_reject),
            "{must_reject} not reported as rejected"
        );
    }
    assert!(
        run.stderr.contains("fal_01_003.json:1: not_audit_event"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("panther_rule_tests_aks_activitylog.jsonl:1: not_audit_event: Azure record of category \"Administrative\""),
        "{}",
        run.stderr
    );

    // The totals, as the summary gives them.
    let summary = common::summary(&summary_path);
    let n = |path: &[&str]| summary.pointer(path).and_then(|v| v.as_u64()).unwrap_or(0);
    assert_eq!(n(&["events"]), 336);
    assert_eq!(n(&["events_by_format", "docker_daemon_log"]), 2);
    assert_eq!(n(&["events_by_format", "k8s_audit"]), 55);
    assert_eq!(n(&["events_by_format", "log_wrapper"]), 188);
    assert_eq!(n(&["events_by_format", "gke_log_entry"]), 55);
    assert_eq!(n(&["events_by_format", "aks_diagnostic"]), 36);
    assert_eq!(
        n(&["records"]),
        n(&["events"]) + n(&["rejected"]) + n(&["skipped"])
    );
    assert_eq!(n(&["rejected_by_reason", "not_audit_event"]), 23);
    assert_eq!(n(&["inputs_failed"]), 0);
}
