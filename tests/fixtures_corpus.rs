//! The fixtures kept inside the project (tests/fixtures, sources named in their READMEs) decode
//! as their READMEs say, on any checkout.

mod common;

use sonic_rs::JsonValueTrait;
use std::collections::{BTreeMap, BTreeSet};

fn run_jsonl(target: &str, extra: &[&str]) -> (Vec<sonic_rs::Value>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut args = vec!["events", "--format", "jsonl", "--all-errors"];
    args.extend_from_slice(extra);
    args.push(target);
    let run = common::credwatch(&args, None, dir.path());
    assert_eq!(run.code, 0, "{target}: {}", run.stderr);
    (common::events(&run.stdout), run.stderr)
}

fn text<'v>(event: &'v sonic_rs::Value, path: &[&str]) -> Option<&'v str> {
    event.pointer(path).and_then(|v| v.as_str())
}

#[test]
fn eks_envelopes_written_from_aws_documentation() {
    // (file, events, format, cluster): the table of tests/fixtures/eks/README.md.
    let cases = [
        ("filter-log-events.json", 7, "eks_filter_log_events", None),
        ("subscription.json", 5, "eks_subscription", Some("prod-eks")),
        ("subscription-control.json", 0, "", None),
        (
            "subscription-batches.gz",
            5,
            "eks_subscription",
            Some("prod-eks"),
        ),
        ("export.txt", 5, "eks_export_text", None),
        ("export.txt.gz", 5, "eks_export_text", None),
        ("log-events.jsonl", 4, "eks_log_event", Some("prod-eks")),
    ];
    for (file, count, format, cluster) in cases {
        let target = format!("tests/fixtures/eks/{file}");
        let (events, stderr) = run_jsonl(&target, &[]);
        assert_eq!(events.len(), count, "{file}: {stderr}");
        assert!(stderr.contains(" 0 rejected"), "{file}: {stderr}");
        for event in &events {
            assert_eq!(text(event, &["envelope", "format"]), Some(format), "{file}");
            assert_eq!(text(event, &["envelope", "cluster"]), cluster, "{file}");
            assert!(
                text(event, &["verb"]).is_some(),
                "{file}: every event has a verb"
            );
        }
    }
    let (_, stderr) = run_jsonl("tests/fixtures/eks/subscription-control.json", &[]);
    assert!(
        stderr.contains("skipped: cloudwatch_control_message 1"),
        "{stderr}"
    );
    // Exec commands reach the event as the apiserver wrote them, `\u0026` escapes undone.
    let (events, _) = run_jsonl(
        "tests/fixtures/eks/filter-log-events.json",
        &["--cluster", "given"],
    );
    let exec = events
        .iter()
        .find(|e| text(e, &["objectRef", "subresource"]) == Some("exec"))
        .expect("an exec event");
    let uri = text(exec, &["requestURI"]).unwrap_or_default();
    assert!(
        uri.contains("?command=") && uri.contains("&container="),
        "{uri}"
    );
    assert_eq!(
        text(exec, &["envelope", "cluster"]),
        Some("given"),
        "--cluster labels unlabelled events"
    );
}

#[test]
fn external_subset_kept_in_the_project() {
    let (events, stderr) = run_jsonl("tests/fixtures/external", &[]);
    let mut per_file: BTreeMap<String, usize> = BTreeMap::new();
    for event in &events {
        let origin = text(event, &["envelope", "origin"]).unwrap_or_default();
        let file = origin.rsplit_once(':').map_or(origin, |(f, _)| f);
        *per_file
            .entry(
                file.trim_start_matches("tests/fixtures/external/")
                    .to_owned(),
            )
            .or_default() += 1;
    }
    let want: BTreeMap<String, usize> = [
        ("falco/anonymous_creates_namespace_foo.json", 1),
        ("falco/attach_pod.json", 1),
        ("falco/create_configmap_sensitive_values.json", 6),
        ("falco/create_kube_system_secret.json", 1),
        ("falco/create_nginx_pod_privileged.json", 1),
        ("falco/create_nginx_pod_sensitive_mount.json", 1),
        ("falco/create_secret.json", 1),
        ("falco/create_service_account_token_secret.json", 1),
        ("falco/exec_pod.json", 1),
        ("khi/k8s_audit__container_recorder_test_1_2.jsonl", 1),
        ("khi/oss__test-log.jsonl", 1),
        // Two dockerd API calls among syslog lines.
        ("other/log-file.txt", 2),
        ("panther/panther_rule_tests_aks.jsonl", 34),
        ("panther/panther_rule_tests_eks.jsonl", 188),
        ("panther/panther_rule_tests_gke.jsonl", 51),
    ]
    .into_iter()
    .map(|(f, n)| (f.to_owned(), n))
    .collect();
    assert_eq!(per_file, want);
    let rejected: BTreeSet<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix("credwatch: tests/fixtures/external/"))
        .filter_map(|rest| rest.split([':', ' ']).next())
        .collect();
    let expected_rejects: BTreeSet<&str> = [
        "README.md",
        "falco/fal_01_003.json",
        "khi/k8s_node__kubelet_only_pod_name.jsonl",
        "other/log-file.txt",
        "panther/panther_rule_tests_aks_activitylog.jsonl",
    ]
    .into_iter()
    .collect();
    assert_eq!(rejected, expected_rejects, "{stderr}");
}

#[test]
fn time_range_keeps_events_without_a_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("times.jsonl");
    let at = |t: &str| {
        format!(
            r#"{{"kind":"Event","verb":"get","objectRef":{{"resource":"secrets"}},"requestReceivedTimestamp":"{t}"}}"#
        )
    };
    let untimed = r#"{"kind":"Event","verb":"list","objectRef":{"resource":"secrets"}}"#;
    let lines = [
        at("2026-10-14T08:59:59Z"),
        at("2026-10-14T09:00:00Z"),
        untimed.to_owned(),
        at("2026-10-14T09:30:00Z"),
        at("2026-10-14T10:00:01Z"),
    ];
    std::fs::write(&path, lines.join("\n")).expect("written");
    let target = path.to_str().expect("utf-8");
    let run = common::credwatch(
        &[
            "events",
            "--format",
            "jsonl",
            "--from",
            "2026-10-14T09:00:00Z",
            "--to",
            "2026-10-14T10:00:00Z",
            target,
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let verbs_and_times: Vec<(Option<String>, Option<String>)> = common::events(&run.stdout)
        .iter()
        .map(|e| {
            (
                text(e, &["verb"]).map(str::to_owned),
                text(e, &["envelope", "time"]).map(str::to_owned),
            )
        })
        .collect();
    assert_eq!(
        verbs_and_times,
        [
            (Some("get".into()), Some("2026-10-14T09:00:00Z".into())),
            (Some("list".into()), None),
            (Some("get".into()), Some("2026-10-14T09:30:00Z".into())),
        ]
    );
    assert!(
        run.stderr.contains("2 outside --from/--to"),
        "{}",
        run.stderr
    );
    let bad = common::credwatch(&["events", "--from", "yesterday", target], None, dir.path());
    assert_eq!(
        bad.code, 2,
        "an unreadable time is a usage error: {}",
        bad.stderr
    );
}
