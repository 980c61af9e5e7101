//! `credwatch scan`: the detector case table (tests/scan_cases/cases.yml), real container logs
//! that must give nothing, the same logs with planted credentials that must give exactly those,
//! object dumps, and canaries that must never reach any output.

use credwatch::findings::ReportFormat as ScanFormat;
use credwatch::redact::Redactor;
use credwatch::rules::yaml::{self, Node};
use credwatch::scan::detect::Detectors;
use credwatch::scan::{self, ScanFinding, ScanOptions, ScanReport};
use std::path::{Path, PathBuf};

fn redactor() -> Redactor {
    Redactor::with_key([7; 32])
}

fn scan_dir(paths: &[PathBuf], include_examples: bool) -> ScanReport {
    // Compiled once: the detectors' regexes are slow to build in a debug build.
    static DETECTORS: std::sync::OnceLock<Detectors> = std::sync::OnceLock::new();
    let options = ScanOptions {
        threads: 2,
        include_examples,
    };
    scan::scan_paths_with(
        DETECTORS.get_or_init(Detectors::new),
        paths,
        &options,
        &redactor(),
    )
}

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

fn strings(node: Option<&Node>) -> Vec<String> {
    let Some(node) = node else { return vec![] };
    match node.to_json() {
        serde_json::Value::Array(items) => items
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec![],
    }
}

#[test]
fn detector_case_table() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scan_cases/cases.yml");
    let text = std::fs::read_to_string(&path).expect("case table");
    let documents = yaml::parse_documents(&text).expect("case table parses");
    let cases = documents[0].to_json();
    let cases = cases.as_array().expect("a list of cases");
    let nodes = match &documents[0].value {
        yaml::Value::Seq(items) => items,
        _ => panic!("a list of cases"),
    };
    assert!(
        cases.len() >= 60,
        "at least 60 cases, found {}",
        cases.len()
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut failures = Vec::new();
    for (case, node) in cases.iter().zip(nodes) {
        let name = case["name"].as_str().expect("case name");
        let text = case["text"].as_str().expect("case text");
        let expect = strings(node.get("expect"));
        let examples = strings(node.get("examples"));
        let file = dir.path().join("case.log");
        std::fs::write(&file, text).expect("write case");
        let report = scan_dir(std::slice::from_ref(&file), true);
        let found: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| !f.example)
            .map(|f| f.kind.as_str())
            .collect();
        let found_examples: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.example)
            .map(|f| f.kind.as_str())
            .collect();
        if found != expect || found_examples != examples {
            failures.push(format!(
                "line {}: {name}: expected {expect:?} (examples {examples:?}), found {found:?} (examples {found_examples:?})",
                node.line
            ));
            continue;
        }
        if let Some(details) = case.get("details").and_then(|d| d.as_object()) {
            let first = &report
                .findings
                .iter()
                .find(|f| !f.example)
                .expect("a finding")
                .details;
            for (k, v) in details {
                let got = first.get(k);
                // YAML scalars may be written quoted or not.
                let same = got.is_some_and(|g| {
                    g == v || g.to_string().trim_matches('"') == v.to_string().trim_matches('"')
                });
                if !same {
                    failures.push(format!(
                        "line {}: {name}: details.{k}: expected {v}, found {got:?}",
                        node.line
                    ));
                }
            }
        }
        // The value never appears in any output.
        for format in [ScanFormat::Json, ScanFormat::Jsonl, ScanFormat::Table] {
            let mut out = Vec::new();
            scan::write_report(&mut out, format, &report).expect("write");
            let out = String::from_utf8(out).expect("utf-8");
            for f in &report.findings {
                assert_ne!(f.length, 0, "{name}");
            }
            if !expect.is_empty() {
                for secret in secret_parts(text) {
                    assert!(
                        !out.contains(&secret),
                        "{name}: output holds {} characters of the credential",
                        secret.len()
                    );
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Long high-entropy runs of a case's text — the parts that are credentials — that an output
/// must not contain.
fn secret_parts(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || "+/_-".contains(c)))
        .filter(|w| w.len() >= 24)
        .filter(|w| {
            w.bytes().any(|b| b.is_ascii_digit()) && w.bytes().any(|b| b.is_ascii_alphabetic())
        })
        .filter(|w| credwatch::scan::detect::entropy(w) > 3.8)
        .map(str::to_owned)
        .collect()
}

fn require_real() -> bool {
    std::env::var_os("CREDWATCH_REQUIRE_REAL").is_some()
}

#[test]
fn real_container_logs_hold_no_credentials() {
    let dir = fixture("container-logs/fluent-bit");
    if !dir.exists() {
        assert!(!require_real(), "missing {}", dir.display());
        return;
    }
    let report = scan_dir(&[dir], false);
    assert!(report.summary.files >= 50, "{:?}", report.summary);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(
        report.findings,
        Vec::<ScanFinding>::new(),
        "benign fluent-bit logs gave findings"
    );
}

/// file, line, kind, namespace, pod, container
type PlantedRow = (
    String,
    u64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);
/// kind, object, field, container
type ObjectRow = (String, Option<String>, Option<String>, Option<String>);

struct Planted {
    file: String,
    line: u64,
    kind: String,
    namespace: Option<String>,
    pod: Option<String>,
    container: Option<String>,
    value: String,
}

fn planted() -> Vec<Planted> {
    let text = std::fs::read_to_string(fixture("container-logs/planted/expected.tsv"))
        .expect("expected.tsv");
    let dash = |s: &str| (s != "-").then(|| s.to_owned());
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 7, "expected.tsv row: {l}");
            Planted {
                file: f[0].to_owned(),
                line: f[1].parse().expect("line number"),
                kind: f[2].to_owned(),
                namespace: dash(f[3]),
                pod: dash(f[4]),
                container: dash(f[5]),
                value: f[6].to_owned(),
            }
        })
        .collect()
}

#[test]
fn planted_credentials_give_exactly_those_findings() {
    let root = fixture("container-logs/planted");
    // The planted logs, not the table of what was planted.
    let report = scan_dir(&[root.join("fluent-bit"), root.join("var")], false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let prefix = format!("{}/", root.display());
    let mut found: Vec<PlantedRow> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.file.strip_prefix(&prefix).unwrap_or(&f.file).to_owned(),
                f.line,
                f.kind.clone(),
                f.namespace.clone(),
                f.pod.clone(),
                f.container.clone(),
            )
        })
        .collect();
    let planted = planted();
    let mut expected: Vec<_> = planted
        .iter()
        .map(|p| {
            (
                p.file.clone(),
                p.line,
                p.kind.clone(),
                p.namespace.clone(),
                p.pod.clone(),
                p.container.clone(),
            )
        })
        .collect();
    found.sort();
    expected.sort();
    assert_eq!(found, expected);
    // Every kind the detectors know is planted somewhere.
    let kinds: std::collections::BTreeSet<&str> = planted.iter().map(|p| p.kind.as_str()).collect();
    assert!(kinds.len() >= 18, "planted kinds: {kinds:?}");
    for format in [ScanFormat::Json, ScanFormat::Jsonl, ScanFormat::Table] {
        let mut out = Vec::new();
        scan::write_report(&mut out, format, &report).expect("write");
        let out = String::from_utf8(out).expect("utf-8");
        for p in &planted {
            assert!(
                !out.contains(&p.value),
                "{format:?} output holds the planted {}",
                p.kind
            );
        }
    }
}

#[test]
fn object_dumps_report_literals_and_secrets_in_annotations() {
    let report = scan_dir(&[fixture("container-logs/objects/dump.yaml")], false);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let got: Vec<ObjectRow> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.kind.clone(),
                f.object.clone(),
                f.field.clone(),
                f.container.clone(),
            )
        })
        .collect();
    let s = |v: &str| Some(v.to_owned());
    assert_eq!(
        got,
        vec![
            (
                "url_credentials".to_owned(),
                s("Deployment/shop/checkout"),
                s("spec.template.spec.containers[0].args"),
                s("checkout")
            ),
            (
                "secret_assignment".to_owned(),
                s("Deployment/shop/checkout"),
                s("spec.template.spec.containers[0].env[DB_PASSWORD]"),
                s("checkout")
            ),
            (
                "stripe_key".to_owned(),
                s("Deployment/shop/checkout"),
                s("spec.template.spec.containers[0].env[STRIPE_KEY]"),
                s("checkout")
            ),
            (
                "aws_access_key".to_owned(),
                s("ConfigMap/shop/aws-config"),
                s("data.credentials"),
                None
            ),
            (
                "kubernetes_secret_data".to_owned(),
                s("Secret/shop/db"),
                s(
                    "metadata.annotations[kubectl.kubernetes.io/last-applied-configuration].data[password]"
                ),
                None
            ),
        ]
    );
    // The line of each finding is where its value is written.
    assert!(
        report.findings.iter().all(|f| f.line > 1),
        "{:?}",
        report.findings
    );
    assert_eq!(report.summary.objects, 4);
}

#[test]
fn the_same_value_in_two_objects_is_two_findings_on_their_own_lines() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pods.yaml");
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  containers:\n  - name: app\n    env:\n    - name: API_TOKEN\n      value: Xq7pLm2Vz9Rw4Tk8Jn3B\n"
        )
    };
    std::fs::write(&file, format!("{}---\n{}", pod("a"), pod("b"))).expect("write");
    let report = scan_dir(&[file], false);
    let got: Vec<(Option<String>, u64)> = report
        .findings
        .iter()
        .map(|f| (f.pod.clone(), f.line))
        .collect();
    assert_eq!(
        got,
        vec![(Some("a".to_owned()), 9), (Some("b".to_owned()), 19)]
    );
}
