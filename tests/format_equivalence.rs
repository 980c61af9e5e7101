//! The same logical event written in every supported format decodes to identical normalized
//! fields. Each format is built here from one canonical Event, so the table cannot drift.

mod common;

use flate2::Compression;
use flate2::write::GzEncoder;
use sonic_rs::{JsonValueMutTrait, JsonValueTrait, Value, json};
use std::io::Write;

const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"6d2f1a9e-4c1b-4f0e-9a57-2b1f9e0c7d11","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/kube-system/secrets/db-creds","verb":"get","user":{"username":"alice@example.com","groups":["system:authenticated","devs"]},"sourceIPs":["203.0.113.7"],"userAgent":"kubectl/v1.30.2 (linux/amd64) kubernetes/abc1234","objectRef":{"resource":"secrets","namespace":"kube-system","name":"db-creds","apiVersion":"v1"},"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-10-01T12:00:00.123456Z","stageTimestamp":"2026-10-01T12:00:00.130000Z","annotations":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"devs\" of ClusterRole \"secret-reader\""}}"#;

const GKE: &str = r#"{"protoPayload":{"@type":"type.googleapis.com/google.cloud.audit.AuditLog","authenticationInfo":{"principalEmail":"alice@example.com"},"authorizationInfo":[{"granted":true,"permission":"io.k8s.core.v1.secrets.get","resource":"core/v1/namespaces/kube-system/secrets/db-creds"}],"methodName":"io.k8s.core.v1.secrets.get","requestMetadata":{"callerIp":"203.0.113.7","callerSuppliedUserAgent":"kubectl/v1.30.2 (linux/amd64) kubernetes/abc1234"},"resourceName":"core/v1/namespaces/kube-system/secrets/db-creds","serviceName":"k8s.io"},"insertId":"6d2f1a9e-4c1b-4f0e-9a57-2b1f9e0c7d11","resource":{"type":"k8s_cluster","labels":{"cluster_name":"gke-prod","location":"europe-west1","project_id":"acme"}},"timestamp":"2026-10-01T12:00:00.123456Z","labels":{"authorization.k8s.io/decision":"allow","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"devs\" of ClusterRole \"secret-reader\""},"logName":"projects/acme/logs/cloudaudit.googleapis.com%2Fdata_access","operation":{"id":"6d2f1a9e-4c1b-4f0e-9a57-2b1f9e0c7d11","producer":"k8s.io","first":true,"last":true},"receiveTimestamp":"2026-10-01T12:00:01.5Z"}"#;

const AKS_ID: &str = "/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD";

fn as_json_string(text: &str) -> String {
    sonic_rs::to_string(text).expect("string serializes")
}

fn gzip_members(members: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for member in members {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(member.as_bytes()).expect("gzip writes");
        out.extend(enc.finish().expect("gzip finishes"));
    }
    out
}

/// (name, file content, expected format, expected cluster, events in the file, groups logged)
type Variant = (
    &'static str,
    Vec<u8>,
    &'static str,
    Option<&'static str>,
    usize,
    bool,
);

fn variants() -> Vec<Variant> {
    let event: Value = sonic_rs::from_str(EVENT).expect("canonical event");
    let message = as_json_string(EVENT);
    let subscription = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/eks/prod-eks/cluster","logStream":"kube-apiserver-audit-0a1b2c","subscriptionFilters":["credwatch"],"logEvents":[{{"id":"37000000000000000000000000000000000000000000000000000000","timestamp":1790856000123,"message":{message}}}]}}"#
    );
    let aks_string = format!(
        r#"{{"category":"kube-audit","operationName":"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read","properties":{{"log":{message},"stream":"stdout","pod":"kube-apiserver-7d9f"}},"resourceId":"{AKS_ID}","time":"2026-10-01T12:00:00.2Z"}}"#
    );
    let aks_object = format!(
        r#"{{"category":"kube-audit-admin","properties":{{"log":{EVENT},"stream":"stdout"}},"resourceId":"{AKS_ID}","time":"2026-10-01T12:00:00.2Z"}}"#
    );
    let pretty = |v: &Value| sonic_rs::to_string_pretty(v).expect("pretty JSON");
    vec![
        ("native line", format!("{EVENT}\n").into_bytes(), "k8s_audit", None, 1, true),
        (
            "event list, one line",
            format!(r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{EVENT},{EVENT}]}}"#).into_bytes(),
            "k8s_event_list",
            None,
            2,
            true,
        ),
        (
            "event list, indented document",
            pretty(&json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [event.clone()]})).into_bytes(),
            "k8s_event_list",
            None,
            1,
            true,
        ),
        ("json array, indented", pretty(&json!([event.clone(), event.clone()])).into_bytes(), "json_array", None, 2, true),
        (
            "eks filter-log-events output",
            pretty(&json!({"events": [{"logStreamName": "kube-apiserver-audit-0a1b2c", "timestamp": 1790856000123u64, "message": EVENT, "ingestionTime": 1790856001000u64, "eventId": "37000000000000000000000000000000000000000000000000000000"}], "searchedLogStreams": []}))
                .into_bytes(),
            "eks_filter_log_events",
            None,
            1,
            true,
        ),
        ("eks subscription", format!("{subscription}\n").into_bytes(), "eks_subscription", Some("prod-eks"), 1, true),
        (
            "eks subscription, firehose gzip members",
            gzip_members(&[format!("{subscription}\n"), format!("{subscription}\n")]),
            "eks_subscription",
            Some("prod-eks"),
            2,
            true,
        ),
        (
            "eks log event",
            format!(r#"{{"timestamp":1790856000123,"message":{message},"logStreamName":"kube-apiserver-audit-0a1b2c","logGroupName":"/aws/eks/prod-eks/cluster"}}"#).into_bytes(),
            "eks_log_event",
            Some("prod-eks"),
            1,
            true,
        ),
        ("eks export text", format!("2026-10-01T12:00:00.123Z {EVENT}\n").into_bytes(), "eks_export_text", None, 1, true),
        ("eks export text, gzip", gzip_members(&[format!("2026-10-01T12:00:00.123Z {EVENT}\n")]), "eks_export_text", None, 1, true),
        ("gke log entry", format!("{GKE}\n").into_bytes(), "gke_log_entry", Some("gke-prod"), 1, false),
        ("aks, log as string", format!("{aks_string}\n").into_bytes(), "aks_diagnostic", Some("aks-prod"), 1, true),
        ("aks, log as object", format!("{aks_object}\n").into_bytes(), "aks_diagnostic", Some("aks-prod"), 1, true),
        (
            "aks records batch",
            format!(r#"{{"records":[{aks_string},{aks_object}]}}"#).into_bytes(),
            "aks_diagnostic",
            Some("aks-prod"),
            2,
            true,
        ),
        ("native, zstd", zstd::encode_all(format!("{EVENT}\n").as_bytes(), 3).expect("zstd"), "k8s_audit", None, 1, true),
    ]
}

/// The fields a rule or an analyst relies on, as decoded.
fn normalized(event: &Value, with_groups: bool) -> Value {
    let get = |path: &[&str]| event.pointer(path).cloned().unwrap_or_default();
    json!({
        "verb": get(&["verb"]),
        "user.username": get(&["user", "username"]),
        "user.groups": if with_groups { get(&["user", "groups"]) } else { Value::default() },
        "sourceIPs": get(&["sourceIPs"]),
        "userAgent": get(&["userAgent"]),
        "objectRef": get(&["objectRef"]),
        "responseStatus.code": get(&["responseStatus", "code"]),
        "decision": get(&["annotations", "authorization.k8s.io/decision"]),
        "reason": get(&["annotations", "authorization.k8s.io/reason"]),
        "requestReceivedTimestamp": get(&["requestReceivedTimestamp"]),
        "time": get(&["envelope", "time"]),
    })
}

#[test]
fn every_format_gives_the_same_event() {
    let dir = tempfile::tempdir().expect("temp dir");
    let canonical: Value = sonic_rs::from_str(EVENT).expect("canonical");
    for (name, content, format, cluster, count, groups) in variants() {
        let path = dir.path().join(name.replace([' ', ','], "_"));
        std::fs::write(&path, &content).expect("fixture written");
        let path_text = path.to_str().expect("utf-8 temp path");
        let run = common::credwatch(
            &["events", "--format", "jsonl", path_text],
            None,
            dir.path(),
        );
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        let events = common::events(&run.stdout);
        assert_eq!(
            events.len(),
            count,
            "{name}: events decoded; stderr: {}",
            run.stderr
        );
        assert!(run.stderr.contains(" 0 rejected"), "{name}: {}", run.stderr);
        let mut want = normalized(&canonical, groups);
        if let Some(obj) = want.as_object_mut() {
            obj.insert("time", json!("2026-10-01T12:00:00.123456Z"));
        }
        for event in &events {
            assert_eq!(normalized(event, groups), want, "{name}: normalized fields");
            assert_eq!(
                event
                    .pointer(&["envelope", "format"])
                    .and_then(|v| v.as_str()),
                Some(format),
                "{name}"
            );
            assert_eq!(
                event
                    .pointer(&["envelope", "cluster"])
                    .and_then(|v| v.as_str()),
                cluster,
                "{name}"
            );
            assert_eq!(
                event
                    .pointer(&["envelope", "platform"])
                    .and_then(|v| v.as_str()),
                Some("kubernetes"),
                "{name}"
            );
            let origin = event
                .pointer(&["envelope", "origin"])
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            assert!(
                origin.starts_with(path_text) && origin.contains(':'),
                "{name}: origin {origin}"
            );
        }
    }
}

#[test]
fn output_of_events_is_valid_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = dir.path().join("in.jsonl");
    let aks = format!(
        r#"{{"category":"kube-audit","properties":{{"log":{}}},"resourceId":"{AKS_ID}"}}"#,
        as_json_string(EVENT)
    );
    std::fs::write(&first, format!("{EVENT}\n{GKE}\n{aks}\n")).expect("written");
    let once = common::credwatch(
        &[
            "events",
            "--format",
            "jsonl",
            first.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(common::events(&once.stdout).len(), 3, "{}", once.stderr);
    let again = common::credwatch(
        &["events", "--format", "jsonl", "-"],
        Some(once.stdout.as_bytes()),
        dir.path(),
    );
    let (a, b) = (common::events(&once.stdout), common::events(&again.stdout));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(normalized(x, true), normalized(y, true));
        let cluster = |e: &Value| e.pointer(&["envelope", "cluster"]).cloned();
        assert_eq!(cluster(x), cluster(y), "the cluster survives a second pass");
    }
    assert!(a.iter().any(|e| {
        e.pointer(&["envelope", "cluster"])
            .and_then(|v| v.as_str())
            .is_some()
    }));
    assert!(again.stderr.contains(" 0 rejected"), "{}", again.stderr);
}
