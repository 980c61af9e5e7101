//! What users see: `credwatch events` over the bundled samples, pinned as golden files, and the
//! promise that no credential value reaches any output.
//!
//! Regenerate the golden files after an intended change with `UPDATE_GOLDEN=1 cargo test`.

mod common;

use common::{fixed_key, golden};

const SAMPLES: &str = "samples/audit";
/// Values planted in the samples (samples/make_samples.py) that must never be printed.
const CANARIES: &[&str] = &[
    "c2FtcGxlLXBhc3N3b3JkLW5vdC1yZWFs", // base64 of the fake Secret value
    "sample-password-not-real",
    "eyJhbGciOiJSUzI1NiJ9.c2FtcGxlLW5vdC1yZWFs.c2ln", // the fake minted token
];

#[test]
fn events_jsonl_and_table_are_pinned() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    for (format, file) in [
        ("jsonl", "samples-events.jsonl"),
        ("table", "samples-events.txt"),
    ] {
        let run = common::credwatch(&["events", "--format", format, SAMPLES], None, dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(file, &run.stdout);
        golden(&format!("{file}.stderr"), &run.stderr);
    }
}

#[test]
fn hunt_outputs_are_pinned() {
    let dir = tempfile::tempdir().expect("temp dir");
    fixed_key(dir.path());
    for (format, file) in [
        ("jsonl", "samples-hunt.jsonl"),
        ("table", "samples-hunt.txt"),
        ("csv", "samples-hunt.csv"),
    ] {
        let run = common::credwatch(&["hunt", "--format", format, SAMPLES], None, dir.path());
        assert_eq!(run.code, 0, "{}", run.stderr);
        golden(file, &run.stdout);
    }
    let run = common::credwatch(&["rules", "list"], None, dir.path());
    assert_eq!(run.code, 0, "{}", run.stderr);
    golden("rules-list.txt", &run.stdout);
}

#[test]
fn no_credential_value_reaches_any_output() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out_file = dir.path().join("out.jsonl");
    let runs = [
        common::credwatch(&["events", "--format", "jsonl", SAMPLES], None, dir.path()),
        common::credwatch(&["events", "--format", "table", SAMPLES], None, dir.path()),
        common::credwatch(&["hunt", "--format", "jsonl", SAMPLES], None, dir.path()),
        common::credwatch(&["hunt", "--format", "table", SAMPLES], None, dir.path()),
        common::credwatch(&["hunt", "--format", "csv", SAMPLES], None, dir.path()),
        common::credwatch(
            &[
                "events",
                "--format",
                "jsonl",
                "-o",
                out_file.to_str().expect("utf-8"),
                SAMPLES,
            ],
            None,
            dir.path(),
        ),
    ];
    let written = std::fs::read_to_string(&out_file).expect("-o file written");
    for canary in CANARIES {
        for run in &runs {
            assert!(
                !run.stdout.contains(canary) && !run.stderr.contains(canary),
                "{canary} leaked"
            );
        }
        assert!(!written.contains(canary), "{canary} leaked into -o file");
    }
    // Redacted, not dropped: the type, length and fingerprint stay.
    assert!(
        written.contains("[REDACTED type=secret_data len=32 fp="),
        "{written}"
    );
    assert!(
        written.contains("[REDACTED type=token len=46 fp="),
        "{written}"
    );
    // Samples must really hold the canaries, or this test proves nothing.
    let raw = std::fs::read_to_string(
        common::project_dir()
            .join(SAMPLES)
            .join("apiserver-audit.log"),
    )
    .expect("sample");
    assert!(
        CANARIES.iter().filter(|c| raw.contains(*c)).count() == 2,
        "canaries planted in the samples"
    );
}

#[test]
fn fields_lists_the_catalogue() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = common::credwatch(&["fields"], None, dir.path());
    assert_eq!(run.code, 0);
    golden("fields.txt", &run.stdout);
    let json = common::credwatch(&["fields", "--format", "json"], None, dir.path());
    let rows: Vec<sonic_rs::Value> = sonic_rs::from_str(json.stdout.trim()).expect("fields JSON");
    assert_eq!(rows.len(), run.stdout.lines().count());
}
