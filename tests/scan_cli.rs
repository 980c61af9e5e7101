//! `credwatch scan` as users run it: pinned outputs over the bundled sample logs, the
//! `hunt --scan` tie-in, bad input, exit codes, and canaries that must never be printed.

mod common;

use common::{fixed_key, golden};

use std::io::Write;

const LOGS: &str = "samples/container-logs";
/// The credentials samples/make_container_logs.py planted in the sample logs.
const CANARIES: &[&str] = &[
    "Qm7vX2pLk9Rt4wZs",
    "AKIAR7TQ4WSY3ZP6XN2M",
    "hT4kW9pZ2xQ7mL3vB8nR5cY1dF6gJ0sK2aE4uI7o",
];

fn assert_no_canary(what: &str, text: &str) {
    for canary in CANARIES {
        assert!(
            !text.contains(canary),
            "{what} printed a planted credential"
        );
    }
}

#[test]
fn scan_outputs_are_pinned_and_hold_no_credential() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    for (format, file) in [
        ("jsonl", "samples-scan.jsonl"),
        ("table", "samples-scan.txt"),
        ("json", "samples-scan.json"),
    ] {
        let run = common::credwatch(
            &["scan", "--format", format, "--threads", "2", LOGS],
            None,
            dir.path(),
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(file, &run.stdout);
        assert_no_canary(format, &run.stdout);
        assert_no_canary(format, &run.stderr);
    }
    // Same findings whatever the number of threads.
    let one = common::credwatch(
        &["scan", "--format", "jsonl", "--threads", "1", LOGS],
        None,
        dir.path(),
    );
    let pinned =
        std::fs::read_to_string(common::project_dir().join("tests/golden/samples-scan.jsonl"))
            .expect("golden");
    assert_eq!(one.stdout, pinned);
}

#[test]
fn hunt_with_scan_findings_marks_the_log_read_exposed() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    let findings = dir.path().join("findings.jsonl");
    let findings_arg = findings.to_str().expect("utf-8 path");
    let run = common::credwatch(&["scan", LOGS, "-o", findings_arg], None, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log_read = |args: &[&str]| -> serde_json::Value {
        let run = common::credwatch(args, None, dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_no_canary("hunt", &run.stdout);
        assert_no_canary("hunt's diagnostics", &run.stderr);
        run.stdout
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("alert json"))
            .find(|a| a["rule"]["name"] == "cw_pod_logs_unusual_identity")
            .expect("the sample's log read is alerted")
    };
    let without = log_read(&["hunt", "--format", "jsonl", "samples/audit"]);
    assert_eq!(without["exposure"]["verdict"], "possible");
    let with = log_read(&[
        "hunt",
        "--format",
        "jsonl",
        "--scan",
        findings_arg,
        "samples/audit",
    ]);
    assert_eq!(with["exposure"]["verdict"], "exposed");
    let reason = with["exposure"]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("container web of pod default/web-0")
            && reason.contains("aws_access_key")
            && reason.contains("url_credentials"),
        "{reason}"
    );
    // The JSON document form is read as well.
    let document = dir.path().join("findings.json");
    let run = common::credwatch(
        &[
            "scan",
            LOGS,
            "--format",
            "json",
            "-o",
            document.to_str().expect("utf-8 path"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let again = log_read(&[
        "hunt",
        "--format",
        "jsonl",
        "--scan",
        document.to_str().expect("utf-8"),
        "samples/audit",
    ]);
    assert_eq!(again["exposure"], with["exposure"]);
}

#[test]
fn a_broken_scan_file_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("findings.jsonl");
    std::fs::write(&bad, "{\"kind\":\"aws_access_key\"}\n").expect("write");
    let run = common::credwatch(
        &[
            "hunt",
            "--scan",
            bad.to_str().expect("utf-8"),
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("findings.jsonl:1: not a scan finding"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_input_is_named_counted_and_the_rest_still_scanned() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).expect("mkdir");
    // A gzip cut short after a credential line: what was read is still scanned.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut text = String::from("token leaked: ghp_R4nD0mT0k3nV4lu3F0rT3st1ngABCDEFGHIJ\n");
    for i in 0..20_000 {
        text.push_str(&format!("filler line {i} with nothing in it\n"));
    }
    gz.write_all(text.as_bytes()).expect("gzip");
    let whole = gz.finish().expect("gzip");
    std::fs::write(logs.join("a-truncated.log.gz"), &whole[..whole.len() / 2]).expect("write");
    // Binary noise and a line far longer than a read block.
    let noise: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(logs.join("b-binary.bin"), noise).expect("write");
    let mut long = "x".repeat(20 << 20);
    long.push_str(" password=Zq8#Lm2!Vx7pRt4w\n");
    std::fs::write(logs.join("c-long-line.log"), long).expect("write");
    // A manifest that does not parse: said so, and scanned as text all the same.
    std::fs::write(
        logs.join("d-broken.yaml"),
        "apiVersion: v1\nkind: ConfigMap\ndata:\n  a: [unclosed\n  token: Xq7pLm2Vz9Rw4Tk8Jn3B\n",
    )
    .expect("write");
    let missing = dir.path().join("missing.log");
    let run = common::credwatch(
        &[
            "scan",
            "--format",
            "jsonl",
            logs.to_str().expect("utf-8"),
            missing.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("a-truncated.log.gz: read failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("missing.log"), "{}", run.stderr);
    assert!(run.stderr.contains("2 unreadable files"), "{}", run.stderr);
    assert!(run.stderr.contains("1 over-long lines"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("d-broken.yaml: looks like a Kubernetes object dump but is not one (line")
            && run.stderr.contains("1 unparsed object dumps"),
        "{}",
        run.stderr
    );
    let kinds: Vec<String> = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["kind"]
                .as_str()
                .expect("kind")
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["github_token", "secret_assignment", "secret_assignment"]
    );
    for value in ["ghp_R4nD0m", "Zq8#Lm2", "Xq7pLm2Vz9"] {
        assert!(!run.stdout.contains(value) && !run.stderr.contains(value));
    }
}

#[test]
fn fail_on_sets_the_exit_status() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = common::credwatch(&["scan", "--fail-on", "critical", LOGS], None, dir.path());
    assert_eq!(run.code, 3, "{}", run.stderr);
    let clean = common::credwatch(
        &[
            "scan",
            "--fail-on",
            "low",
            "tests/fixtures/container-logs/fluent-bit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(clean.code, 0, "{}", clean.stderr);
}

#[test]
fn a_node_log_tree_is_read_once_and_json_lines_stay_logs() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    let root = dir.path().join("node");
    let pod_dir = root.join("var/log/pods/shop_cart-1_0c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f/cart");
    std::fs::create_dir_all(&pod_dir).expect("mkdir");
    std::fs::write(
        pod_dir.join("0.log"),
        "2026-11-28T10:00:00.1Z stdout F token ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\n",
    )
    .expect("write");
    let containers = root.join("var/log/containers");
    std::fs::create_dir_all(&containers).expect("mkdir");
    let id = "ab".repeat(32);
    std::os::unix::fs::symlink(
        pod_dir.join("0.log"),
        containers.join(format!("cart-1_shop_cart-{id}.log")),
    )
    .expect("symlink");
    // An audit log: JSON lines with apiVersion and kind, which is a log, not an object dump.
    std::fs::write(
        root.join("audit.log"),
        "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":\"get\",\"requestURI\":\"/api?access_token=Zq8vL2mQ7xR4tY9wPz3dE5fG\"}\n{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"verb\":\"list\"}\n",
    )
    .expect("write");
    let run = common::credwatch(
        &["scan", "--format", "jsonl", root.to_str().expect("utf-8")],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let findings: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let got: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["kind"].as_str().expect("kind"),
                f["pod"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    // The symlinked name is scanned; its target is the same file and is not scanned again.
    assert_eq!(
        got,
        [("secret_assignment", "-"), ("github_token", "cart-1")],
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("0 objects"), "{}", run.stderr);
}

#[test]
fn a_credential_in_a_manifest_does_not_make_log_reads_exposed() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    let manifest = dir.path().join("web-0.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Pod\nmetadata: {name: web-0, namespace: default}\nspec:\n  containers:\n  - name: web\n    env:\n    - name: DB_PASSWORD\n      value: Hn4q9WzX2Lr7Vb8K\n",
    )
    .expect("write");
    let findings = dir.path().join("findings.jsonl");
    let run = common::credwatch(
        &[
            "scan",
            manifest.to_str().expect("utf-8"),
            "-o",
            findings.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        std::fs::read_to_string(&findings)
            .expect("findings")
            .contains("\"object\":\"Pod/default/web-0\"")
    );
    let hunt = common::credwatch(
        &[
            "hunt",
            "--format",
            "jsonl",
            "--scan",
            findings.to_str().expect("utf-8"),
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(hunt.code, 0, "{}", hunt.stderr);
    let read = hunt
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .find(|a| a["rule"]["name"] == "cw_pod_logs_unusual_identity")
        .expect("the log read");
    assert_eq!(read["exposure"]["verdict"], "possible");
}
