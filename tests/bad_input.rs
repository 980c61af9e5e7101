//! Bad input, as DESIGN.md requires: every record decoded or reported with its location and a
//! reason, the run goes on, the summary counts it, and nothing panics, hangs or grows without
//! bound.

mod common;

use flate2::Compression;
use flate2::write::GzEncoder;
use sonic_rs::JsonValueTrait;
use std::io::Write;
use std::path::Path;

const EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"a1","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/secrets","verb":"list","user":{"username":"bob"},"sourceIPs":["10.0.0.1"],"objectRef":{"resource":"secrets","namespace":"default","apiVersion":"v1"},"responseStatus":{"code":200},"requestReceivedTimestamp":"2026-10-01T12:00:00Z"}"#;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).expect("gzip writes");
    enc.finish().expect("gzip finishes")
}

fn lines(n: usize) -> String {
    (0..n).map(|_| format!("{EVENT}\n")).collect()
}

struct Expect {
    events: u64,
    rejected: &'static [(&'static str, u64)],
    /// Fragments stderr must contain (locations and reasons).
    stderr: &'static [&'static str],
}

fn check(name: &str, dir: &Path, target: &str, extra_args: &[&str], want: Expect) -> common::Run {
    let summary_path = dir.join(format!("{name}.summary.json"));
    let summary_arg = summary_path.to_str().expect("utf-8");
    let mut args = vec!["events", "--format", "jsonl", "--summary-json", summary_arg];
    args.extend_from_slice(extra_args);
    args.push(target);
    let run = common::credwatch(&args, None, dir);
    assert_eq!(run.code, 0, "{name}: exit code; stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
    let summary = common::summary(&summary_path);
    let count = |key: &str| summary.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
    assert_eq!(
        count("events"),
        want.events,
        "{name}: events; stderr: {}",
        run.stderr
    );
    assert_eq!(
        common::events(&run.stdout).len() as u64,
        want.events,
        "{name}: events written"
    );
    let total_rejected: u64 = want.rejected.iter().map(|(_, n)| n).sum();
    assert_eq!(
        count("rejected"),
        total_rejected,
        "{name}: rejected; stderr: {}",
        run.stderr
    );
    for (reason, n) in want.rejected {
        let got = summary
            .pointer(&["rejected_by_reason", reason])
            .and_then(|v| v.as_u64())
            .unwrap_or(0);
        assert_eq!(got, *n, "{name}: rejected {reason}; stderr: {}", run.stderr);
    }
    assert_eq!(
        count("records"),
        count("events") + count("rejected") + count("skipped"),
        "{name}: every record accounted"
    );
    for fragment in want.stderr {
        let fragment = fragment.replace("{dir}", dir.to_str().expect("utf-8"));
        assert!(
            run.stderr.contains(&fragment),
            "{name}: stderr lacks {fragment:?}:\n{}",
            run.stderr
        );
    }
    run
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = gzip(lines(2000).as_bytes());
    let cut = &whole[..whole.len() * 2 / 3];
    std::fs::write(dir.path().join("cut.gz"), cut).expect("written");
    let target = dir.path().join("cut.gz");
    let summary = dir.path().join("s.json");
    let run = common::credwatch(
        &[
            "events",
            "--format",
            "jsonl",
            "--summary-json",
            summary.to_str().expect("utf-8"),
            target.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("truncated gzip stream"),
        "{}",
        run.stderr
    );
    let s = common::summary(&summary);
    let events = s.get("events").and_then(|v| v.as_u64()).unwrap_or(0);
    assert!(
        events > 500 && events < 2000,
        "decoded {events} of 2000 before the cut"
    );
    assert_eq!(
        s.pointer(&["rejected_by_reason", "read_error"])
            .and_then(|v| v.as_u64()),
        Some(1)
    );
    assert_eq!(s.get("inputs_failed").and_then(|v| v.as_u64()), Some(1));
}

#[test]
fn bad_input_table() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let write = |name: &str, data: &[u8]| {
        let path = d.join(name);
        std::fs::write(&path, data).expect("fixture written");
        path.to_str().expect("utf-8").to_owned()
    };

    let binary: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    check(
        "binary",
        d,
        &write("binary.bin", &binary),
        &[],
        Expect {
            events: 0,
            rejected: &[("binary", 1)],
            stderr: &["binary.bin: binary: binary content"],
        },
    );

    let mut invalid = format!("{EVENT}\n").into_bytes();
    invalid.extend_from_slice(
        b"{\"kind\":\"Event\",\"verb\":\"get\",\"user\":{\"username\":\"\xff\xfe\"}}\n",
    );
    invalid.extend_from_slice(format!("{EVENT}\n").as_bytes());
    check(
        "invalid utf-8",
        d,
        &write("utf8.jsonl", &invalid),
        &[],
        Expect {
            events: 2,
            rejected: &[("invalid_utf8", 1)],
            stderr: &["utf8.jsonl:2: invalid_utf8: invalid UTF-8 at byte"],
        },
    );

    check(
        "kind 0",
        d,
        &write("kind0.json", b"{\"kind\": 0}"),
        &[],
        Expect {
            events: 0,
            rejected: &[("not_audit_event", 1)],
            stderr: &["kind0.json:1: not_audit_event"],
        },
    );

    let list = format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[{EVENT},{{"kind":"Event","verb":"get","objectRef":"secrets"}},{EVENT}]}}"#
    );
    check(
        "event list with one bad item",
        d,
        &write("list.json", list.as_bytes()),
        &[],
        Expect {
            events: 2,
            rejected: &[("invalid_field", 1)],
            stderr: &["list.json:1 (item 2): invalid_field"],
        },
    );

    check(
        "empty file",
        d,
        &write("empty.log", b""),
        &[],
        Expect {
            events: 0,
            rejected: &[],
            stderr: &["empty.log: empty input"],
        },
    );

    let mixed = format!(
        "{EVENT}\nnot json at all\n\n{EVENT}\n{{\"kind\":\"Event\",\"verb\":\"get\"\n{EVENT}\n"
    );
    check(
        "text and a cut-off record among good ones",
        d,
        &write("mixed.log", mixed.as_bytes()),
        &[],
        Expect {
            events: 3,
            rejected: &[("not_json", 1), ("incomplete", 1)],
            stderr: &["mixed.log:2: not_json", "mixed.log:5: incomplete"],
        },
    );

    let many_bad: String = (0..25).map(|i| format!("garbage {i}\n")).collect();
    check(
        "errors beyond the per-input cap are counted",
        d,
        &write("noisy.log", many_bad.as_bytes()),
        &[],
        Expect {
            events: 0,
            rejected: &[("not_json", 25)],
            stderr: &[
                "noisy.log:10: not_json",
                "noisy.log: 15 more rejected records not shown",
            ],
        },
    );
}

#[test]
fn directory_with_unreadable_entries_goes_on() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(logs.join("sub")).expect("dirs");
    std::fs::write(logs.join("a.log"), lines(3)).expect("a");
    std::fs::write(logs.join("sub/b.log"), lines(2)).expect("b");
    std::os::unix::fs::symlink(logs.join("gone.log"), logs.join("dangling.log")).expect("symlink");
    // Permissions do not stop root, so the unreadable case is a dangling symlink everywhere and
    // a mode-000 file where the tests do not run as root.
    let locked = logs.join("locked.log");
    std::fs::write(&locked, lines(1)).expect("locked");
    let is_root = unsafe { libc::geteuid() } == 0;
    if !is_root {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    }
    let run = check(
        "directory",
        dir.path(),
        logs.to_str().expect("utf-8"),
        &[],
        Expect {
            events: if is_root { 6 } else { 5 },
            rejected: if is_root {
                &[("read_error", 1)]
            } else {
                &[("read_error", 2)]
            },
            stderr: &["dangling.log: read_error"],
        },
    );
    // Stable order: a.log, then locked.log, then sub/b.log.
    let origins: Vec<String> = common::events(&run.stdout)
        .iter()
        .filter_map(|e| {
            e.pointer(&["envelope", "origin"])
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        })
        .collect();
    let mut sorted = origins.clone();
    sorted.sort();
    assert_eq!(origins, sorted, "directory walked in name order");
}

#[test]
fn hundred_megabyte_line_is_bounded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("huge.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        f.write_all(br#"{"kind":"Event","verb":"get","requestObject":{"blob":""#)
            .expect("w");
        let chunk = vec![b'A'; 1 << 20];
        for _ in 0..100 {
            f.write_all(&chunk).expect("w");
        }
        f.write_all(b"\"}}\n").expect("w");
        f.write_all(format!("{EVENT}\n").as_bytes()).expect("w");
    }
    let run = check(
        "100 MB line",
        dir.path(),
        path.to_str().expect("utf-8"),
        &["--max-record-mb", "16"],
        Expect {
            events: 1,
            rejected: &[("too_large", 1)],
            stderr: &["huge.jsonl:1: too_large: record of 104857"],
        },
    );
    // The line is read through, never held: peak memory stays far below its size.
    assert!(
        run.max_rss_kib < 64 * 1024,
        "peak RSS {} KiB for a 100 MB line",
        run.max_rss_kib
    );
}

/// A large file is read through a memory map whose pages are handed back as they are passed:
/// pretty-printed documents (copied, not lent) and runs of over-long lines included, with one
/// thread or two, memory stays far below the file's size.
#[test]
fn a_large_mapped_file_is_hunted_in_bounded_memory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("pretty.json");
    // An event no rule matches: only the reading is measured.
    let quiet = EVENT
        .replace("secrets", "configmaps")
        .replace("\"list\"", "\"get\"");
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&quiet).expect("event"),
    )
    .expect("pretty");
    let long_line = format!("{}\n", "y".repeat((1 << 20) + 10));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        let mut written = 0;
        let mut documents = 0u64;
        while written < 80 << 20 {
            for _ in 0..2000 {
                f.write_all(pretty.as_bytes()).expect("w");
                f.write_all(b"\n").expect("w");
                written += pretty.len() + 1;
                documents += 1;
            }
            f.write_all(long_line.as_bytes()).expect("w");
            written += long_line.len();
        }
        assert!(documents > 80_000);
    }
    for threads in ["1", "2"] {
        let run = common::credwatch(
            &[
                "hunt",
                "--no-builtin",
                "-r",
                "rules/sigmahq",
                "--max-record-mb",
                "1",
                "--threads",
                threads,
                "--format",
                "jsonl",
                "-o",
                "/dev/null",
                path.to_str().expect("utf-8"),
            ],
            None,
            dir.path(),
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
        assert!(run.stderr.contains("too_large"), "{}", run.stderr);
        assert!(
            run.max_rss_kib < 64 * 1024,
            "peak RSS {} KiB for an 80 MB file, {threads} thread(s)",
            run.max_rss_kib
        );
    }
}

#[test]
fn strict_fails_at_the_first_bad_record() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("x.log");
    std::fs::write(&path, format!("{EVENT}\nnope\n{EVENT}\n")).expect("written");
    let run = common::credwatch(
        &[
            "events",
            "--strict",
            "--format",
            "jsonl",
            path.to_str().expect("utf-8"),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("x.log:2"), "{}", run.stderr);
    assert!(run.stderr.contains("--strict"), "{}", run.stderr);
    assert_eq!(
        common::events(&run.stdout).len(),
        1,
        "events before the bad record are still written"
    );
    // Without --strict the same input is a completed run.
    let lenient = common::credwatch(
        &["events", "--format", "jsonl", path.to_str().expect("utf-8")],
        None,
        dir.path(),
    );
    assert_eq!(
        (lenient.code, common::events(&lenient.stdout).len()),
        (0, 2)
    );
}

#[test]
fn stdin_and_usage_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let gz = gzip(lines(3).as_bytes());
    let run = common::credwatch(&["events", "--format", "jsonl", "-"], Some(&gz), dir.path());
    assert_eq!(
        (run.code, common::events(&run.stdout).len()),
        (0, 3),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("\"origin\":\"<stdin>:1\""),
        "{}",
        run.stdout
    );
    let usage = common::credwatch(&["events"], None, dir.path());
    assert_eq!(
        usage.code, 2,
        "missing PATH is a usage error: {}",
        usage.stderr
    );
    let bad_flag = common::credwatch(&["events", "--format", "xml", "x"], None, dir.path());
    assert_eq!(bad_flag.code, 2);
    let missing = common::credwatch(&["events", "/nonexistent/audit.log"], None, dir.path());
    assert_eq!(
        missing.code, 0,
        "a missing input is reported, the run completes"
    );
    assert!(
        missing
            .stderr
            .contains("/nonexistent/audit.log: read_error"),
        "{}",
        missing.stderr
    );
}
