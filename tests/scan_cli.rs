//! `credwatch scan` as users run it: pinned outputs over the bundled sample logs, the
//! `hunt --scan` tie-in, bad input, exit codes, and canaries that must never be printed.

mod common;

use std::io::Write;
use std::path::Path;

const LOGS: &str = "samples/container-logs";
/// The credentials samples/make_container_logs.py planted in the sample logs.
const CANARIES: &[&str] = &[
    "Qm7vX2pLk9Rt4wZs",
    "AKIAR7TQ4WSY3ZP6XN2M",
    "hT4kW9pZ2xQ7mL3vB8nR5cY1dF6gJ0sK2aE4uI7o",
];

fn fixed_key(dir: &Path) {
    std::fs::write(dir.join("fingerprint.key"), [42u8; 32]).expect("key written");
}

fn golden(name: &str, actual: &str) {
    let path = common::project_dir().join("tests/golden").join(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("golden written");
        return;
    }
    let expected =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        actual,
        expected,
        "output differs from {} (UPDATE_GOLDEN=1 to accept)",
        path.display()
    );
}

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
