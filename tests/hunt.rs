//! `credwatch hunt` and `credwatch rules`: the SigmaHQ rules as shipped, the alert contract,
//! output independent of thread count, the prefilter's exactness, and rule linting.

mod common;

use credwatch::engine::{self, HuntOptions};
use credwatch::ingest::IngestOptions;
use credwatch::redact::Redactor;
use credwatch::rules::{self, RuleSource};
use std::io::Write;
use std::path::{Path, PathBuf};

fn key_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("fingerprint.key"), [42u8; 32]).expect("key written");
    dir
}

#[test]
fn sigmahq_rules_ship_unchanged_and_pass_their_tests() {
    let ours = common::project_dir().join("rules/sigmahq");
    let upstream = common::project_dir().join("../shared/external/sigmahq-kubernetes-audit");
    let mut rule_files: Vec<PathBuf> = std::fs::read_dir(&ours)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".yml") && !name.ends_with(".tests.yml")
        })
        .collect();
    rule_files.sort();
    assert_eq!(
        rule_files.len(),
        16,
        "the 16 SigmaHQ Kubernetes audit rules"
    );
    if upstream.is_dir() {
        for f in &rule_files {
            let theirs = upstream.join(f.file_name().unwrap());
            assert_eq!(
                std::fs::read(f).unwrap(),
                std::fs::read(&theirs).unwrap(),
                "{} differs from upstream",
                f.display()
            );
        }
    } else {
        assert!(
            std::env::var("CREDWATCH_REQUIRE_REAL").is_err(),
            "{} is missing",
            upstream.display()
        );
    }
    let set = rules::load(&[RuleSource::File(ours)]).expect("all 16 load unchanged");
    assert_eq!(set.rules.len(), 16);
    for r in &set.rules {
        let positive = r.tests.iter().filter(|t| t.expect_match).count();
        let negative = r.tests.len() - positive;
        assert!(
            positive >= 1 && negative >= 1,
            "{}: {positive} firing and {negative} near-miss tests",
            r.meta.title
        );
    }
    let results = rules::testing::run(&set);
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
}

#[test]
fn rules_test_cli_runs_builtin_tests() {
    let dir = key_dir();
    let run = common::credwatch(&["rules", "test"], None, dir.path());
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains(" 0 failed"), "{}", run.stdout);
}

const STATUS: &[&str] = &["exposed", "attempted", "possible", "none"];
const KINDS: &[&str] = &["user", "serviceaccount", "node", "anonymous", "system"];
const LEVELS: &[&str] = &["informational", "low", "medium", "high", "critical"];

fn opt_str(v: &serde_json::Value, what: &str) {
    assert!(
        v.is_null() || v.is_string(),
        "{what} must be a string or null: {v}"
    );
}

/// Checks one alert against DESIGN.md's alert contract.
fn check_contract(a: &serde_json::Value) {
    // null only for an event that carries no time at all.
    if let Some(time) = a["time"].as_str() {
        assert!(
            time.parse::<jiff::Timestamp>().is_ok(),
            "time is RFC 3339: {time}"
        );
    } else {
        assert!(a["time"].is_null() && a.get("time").is_some());
    }
    let rule = &a["rule"];
    assert!(rule["id"].as_str().is_some_and(|s| !s.is_empty()));
    opt_str(&rule["name"], "rule.name");
    assert!(rule["title"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(LEVELS.contains(&rule["level"].as_str().unwrap()));
    assert!(rule["tags"].is_array());
    assert!(["kubernetes", "kubelet", "docker"].contains(&a["platform"].as_str().unwrap()));
    opt_str(&a["cluster"], "cluster");
    let actor = &a["actor"];
    opt_str(&actor["username"], "actor.username");
    assert!(
        actor["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.is_string())
    );
    assert!(KINDS.contains(&actor["kind"].as_str().unwrap()));
    opt_str(&actor["impersonated_by"], "actor.impersonated_by");
    assert!(
        a["source"]["ips"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g.is_string())
    );
    opt_str(&a["source"]["user_agent"], "source.user_agent");
    for f in [
        "verb",
        "resource",
        "subresource",
        "namespace",
        "name",
        "uri",
    ] {
        assert!(a["target"].get(f).is_some(), "target.{f} present");
        opt_str(&a["target"][f], f);
    }
    assert!(
        a["outcome"]
            .get("code")
            .is_some_and(|c| c.is_null() || c.is_i64())
    );
    opt_str(&a["outcome"]["decision"], "outcome.decision");
    assert!(STATUS.contains(&a["exposure"]["verdict"].as_str().unwrap()));
    assert!(a["exposure"]["reason"].is_string());
    assert!(a["count"].as_u64().is_some_and(|c| c >= 1));
    let evidence = a["evidence"].as_array().expect("evidence");
    assert!(!evidence.is_empty());
    for e in evidence {
        let loc = e["location"].as_str().unwrap();
        let (_, line) = loc.rsplit_once(':').expect("file:line");
        assert!(line.parse::<u64>().is_ok(), "{loc}");
        opt_str(&e["audit_id"], "evidence.audit_id");
    }
}

#[test]
fn jsonl_alerts_carry_every_contract_field() {
    let dir = key_dir();
    let run = common::credwatch(
        &[
            "hunt",
            "--format",
            "jsonl",
            "samples/audit",
            "tests/fixtures/external",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let alerts: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        alerts.len() >= 6,
        "alerts expected from the samples: {}",
        run.stderr
    );
    alerts.iter().for_each(check_contract);
    // The samples all carry times (the Panther test records in the external fixtures do not).
    let from_samples = alerts.iter().filter(|a| {
        a["evidence"][0]["location"]
            .as_str()
            .unwrap()
            .starts_with("samples/")
    });
    assert!(from_samples.clone().count() >= 6);
    assert!(from_samples.clone().all(|a| a["time"].is_string()));
    // A correlation alert too: count > 1 and several evidence entries.
    let rules_dir = tempfile::tempdir().unwrap();
    std::fs::write(rules_dir.path().join("c.yml"), "title: Secret list\nname: secret_list\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  s: {objectRef.resource: secrets}\n  condition: s\n---\ntitle: Secret reads by one actor\ncorrelation:\n  type: event_count\n  rules: [secret_list]\n  group-by: [user.username]\n  timespan: 1d\n  condition: {gte: 1}\nlevel: high\n").unwrap();
    let rules_path = rules_dir.path().join("c.yml");
    let run = common::credwatch(
        &[
            "hunt",
            "--no-builtin",
            "-r",
            rules_path.to_str().unwrap(),
            "--format",
            "jsonl",
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let alerts: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!alerts.is_empty());
    alerts.iter().for_each(check_contract);
}

#[test]
fn table_and_csv_outputs_and_fail_on() {
    let dir = key_dir();
    let table = common::credwatch(
        &["hunt", "--format", "table", "samples/audit"],
        None,
        dir.path(),
    );
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("TIME"), "{}", table.stdout);
    assert!(table.stdout.contains("Kubernetes Secrets Enumeration"));
    let csv = common::credwatch(
        &["hunt", "--format", "csv", "samples/audit"],
        None,
        dir.path(),
    );
    assert_eq!(csv.code, 0);
    assert_eq!(csv.stdout.lines().count(), table.stdout.lines().count());
    let fail = common::credwatch(
        &[
            "hunt",
            "--format",
            "jsonl",
            "--fail-on",
            "medium",
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(fail.code, 3, "a medium alert with --fail-on medium exits 3");
    let pass = common::credwatch(
        &[
            "hunt",
            "--format",
            "jsonl",
            "--fail-on",
            "critical",
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert_eq!(pass.code, 0, "the samples hold no critical alert");
    let level = common::credwatch(
        &[
            "hunt",
            "--format",
            "jsonl",
            "--level",
            "medium",
            "samples/audit",
        ],
        None,
        dir.path(),
    );
    assert!(
        level.stdout.lines().all(|l| ["medium", "high", "critical"]
            .iter()
            .any(|v| l.contains(&format!("\"level\":\"{v}\"")))),
        "{}",
        level.stdout
    );
    assert!(level.stdout.contains("\"level\":\"medium\""));
}

#[test]
fn rules_lint_reports_every_problem_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.yml"), "title: A\nlogsource: {product: kubernetes}\ndetection:\n  sel:\n    verb|windash: get\n  condition: sel\n").unwrap();
    std::fs::write(dir.path().join("b.yml"), "title: B\nlogsource: {product: kubernetes}\ndetection:\n  sel:\n    nosuchfield: x\n  condition: sel and other\n").unwrap();
    std::fs::write(dir.path().join("c.yml"), "title: C\ndetection: [unclosed\n").unwrap();
    let keys = key_dir();
    let run = common::credwatch(
        &["rules", "lint", dir.path().to_str().unwrap()],
        None,
        keys.path(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let a = format!("{}:5:", dir.path().join("a.yml").display());
    let b5 = format!("{}:5:", dir.path().join("b.yml").display());
    let b6 = format!("{}:6:", dir.path().join("b.yml").display());
    let c = format!("{}:", dir.path().join("c.yml").display());
    for (want, what) in [
        (&a, "unsupported"),
        (&b5, "unknown field"),
        (&b6, "other"),
        (&c, "YAML"),
    ] {
        assert!(
            run.stderr
                .lines()
                .any(|l| l.starts_with(want.as_str()) && l.contains(what)),
            "missing `{want} … {what}` in:\n{}",
            run.stderr
        );
    }
    // And hunt refuses to run on them, saying why.
    let hunt = common::credwatch(
        &["hunt", "-r", dir.path().to_str().unwrap(), "samples/audit"],
        None,
        keys.path(),
    );
    assert_eq!(hunt.code, 1);
    assert!(hunt.stderr.contains("rule error"), "{}", hunt.stderr);
    let clean = common::credwatch(&["rules", "lint", "rules/sigmahq"], None, keys.path());
    assert_eq!(clean.code, 0, "{}", clean.stderr);
}

/// A small deterministic generator (xorshift), so the property tests need no extra crate and
/// every failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete", "GET", "Create",
];
const RESOURCES: &[&str] = &[
    "pods",
    "secrets",
    "configmaps",
    "serviceaccounts",
    "deployments",
    "events",
    "Secrets",
    "leases",
];
const SUBS: &[&str] = &["exec", "log", "token", "status", "attach"];
const NAMESPACES: &[&str] = &["default", "kube-system", "payments", "ci"];
const USERS: &[&str] = &[
    "alice",
    "system:serviceaccount:ci:deployer",
    "system:node:n1",
    "Bob",
    "system:kube-scheduler",
    "system:serviceaccount:kube-system:builder",
    "system:serviceaccount:123:builder",
];
const AGENTS: &[&str] = &[
    "kubectl/v1.30.2",
    "trufflehog/3.1",
    "Go-http-client/2.0",
    "python-requests/2.31",
];
const CODES: &[i64] = &[200, 201, 101, 401, 403, 404, 500];
const WORDS: &[&str] = &[
    "sec",
    "pod",
    "exec",
    "kube",
    "a",
    "cr",
    "list",
    "ALI",
    "token",
    "/bin/sh",
    "%2Fbin%2Fsh",
    "401",
    "é",
    "ſecrets",
];

fn random_event(rng: &mut Rng, n: usize) -> serde_json::Value {
    let resource = *rng.pick(RESOURCES);
    let ns = *rng.pick(NAMESPACES);
    let mut uri = format!("/api/v1/namespaces/{ns}/{resource}");
    if rng.chance(30) {
        uri.push_str("/x/exec?command=%2Fbin%2Fsh&container=app&stdin=true");
    }
    let mut object = serde_json::json!({"resource": resource, "namespace": ns, "name": format!("obj-{}", rng.next() % 50)});
    if rng.chance(30) {
        object["subresource"] = (*rng.pick(SUBS)).into();
    }
    let mut e = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata",
        "auditID": format!("{:08x}-0000-4000-8000-{:012x}", rng.next() as u32, n),
        "stage": "ResponseComplete", "requestURI": uri, "verb": rng.pick(VERBS),
        "user": {"username": rng.pick(USERS), "groups": ["system:authenticated", rng.pick(&["dev", "ops", "system:serviceaccounts"])]},
        "sourceIPs": [rng.pick(&["10.0.0.7", "203.0.113.9", "fd00::1"])],
        "userAgent": rng.pick(AGENTS), "objectRef": object,
        "responseStatus": {"code": rng.pick(CODES)},
        "requestReceivedTimestamp": format!("2026-01-01T00:{:02}:{:02}.000000Z", (n / 60) % 60, n % 60),
    });
    if rng.chance(50) {
        e["annotations"] =
            serde_json::json!({"authorization.k8s.io/decision": rng.pick(&["allow", "forbid"])});
    }
    if rng.chance(10) {
        // Escapes and non-ASCII text, which the prefilter must not be fooled by.
        e["userAgent"] = rng
            .pick(&["kub\u{e9}ctl", "tr\u{fc}ffle", "\u{17f}ecret"])
            .to_string()
            .into();
    }
    if rng.chance(10) {
        // Other cases of the same words: matching is case-insensitive, and so must the
        // prefilter's scan be.
        let verb = e["verb"].as_str().unwrap_or_default().to_uppercase();
        e["verb"] = verb.into();
        let resource = e["objectRef"]["resource"].as_str().unwrap_or_default();
        let capitalized = resource[..1].to_uppercase() + &resource[1..];
        e["objectRef"]["resource"] = capitalized.into();
    }
    if rng.chance(15) {
        e["requestObject"] =
            serde_json::json!({"spec": {"volumes": [{"hostPath": {"path": "/etc"}}]}});
    }
    if rng.chance(20) {
        // `ratio` is written as the text given (see `event_text`): numbers that serde_json
        // spells otherwise.
        let ratio = rng.pick(&["1e2", "1.50", "15e-1", "100.0", "-0"]);
        e["requestObject"] = serde_json::json!({"spec": {"replicas": rng.pick(&[1, 3, 40, 401]), "paused": rng.chance(50), "ratio": format!("__NUM:{ratio}__")}});
    }
    if rng.chance(40) {
        e["objectRef"]["apiGroup"] = (*rng.pick(API_GROUPS)).into();
    }
    if rng.chance(20) {
        e["user"]["extra"] =
            serde_json::json!({"sessionName": [rng.pick(&["ci-run", "alice-laptop", "kube"])]});
    }
    e
}

const API_GROUPS: &[&str] = &["", "apps", "batch", "rbac.authorization.k8s.io", "Apps"];

/// How a round writes its events: one compact line each (kube-apiserver's log), pretty-printed
/// documents, or inside CloudWatch subscription messages (EKS), where each Event is a string
/// whose quotes are escaped.
#[derive(Debug, Clone, Copy)]
enum Layout {
    Lines,
    Pretty,
    Eks,
}

fn random_value(rng: &mut Rng) -> String {
    let base = match rng.next() % 4 {
        0 => rng.pick(VERBS).to_string(),
        1 => rng.pick(RESOURCES).to_string(),
        2 => rng.pick(USERS).to_string(),
        _ => rng.pick(WORDS).to_string(),
    };
    match rng.next() % 6 {
        0 => format!("{base}*"),
        1 => format!("*{base}"),
        2 => format!("*{}*", &base[..base.len().min(3)]),
        3 => base.replace('e', "?"),
        _ => base,
    }
}

/// Modifiers that place one value in a field.
const PLACEMENTS: &[&str] = &["", "|contains", "|startswith", "|endswith"];

/// Fields a random rule gives one value: (field, modifiers, values as YAML writes them, so
/// `1` is an integer and `'0'` a string). Numbers in bodies are spelled as serde_json would not
/// write them again (`1.5e`, `-0.0`), and a service account's namespace can be a number.
const SINGLE_VALUE_FIELDS: &[(&str, &[&str], &[&str])] = &[
    (
        "requestObject.spec.replicas",
        PLACEMENTS,
        &["1", "3", "40", "401", "'0'", "'01'"],
    ),
    (
        "requestObject.spec.paused",
        &[""],
        &["'true'", "'false'", "true"],
    ),
    (
        "requestObject.spec.ratio",
        PLACEMENTS,
        &["'100.0'", "'1.5'", "'00'", "'1.5e'", "'0'", "'-0.0'"],
    ),
    (
        "user.serviceaccount.namespace",
        PLACEMENTS,
        &["'default'", "'kube-system'", "'ci'", "'123'"],
    ),
    (
        "objectRef.apiGroup",
        PLACEMENTS,
        &[
            "''",
            "'apps'",
            "'batch'",
            "'rbac.authorization.k8s.io'",
            "'Apps'",
        ],
    ),
    (
        "user.extra.sessionName",
        PLACEMENTS,
        &["'ci-run'", "'alice-laptop'", "'kube'", "'ci'"],
    ),
];

fn random_rule(rng: &mut Rng, i: usize) -> String {
    let fields = [
        "verb",
        "objectRef.resource",
        "objectRef.subresource",
        "objectRef.namespace",
        "user.username",
        "user.groups",
        "userAgent",
        "requestURI",
        "responseStatus.code",
        "hostPath",
        "user.serviceaccount.namespace",
        "objectRef.apiGroup",
        "requestObject.spec.replicas",
        "requestObject.spec.paused",
        "requestObject.spec.ratio",
        "user.extra.sessionName",
    ];
    let mods = [
        "",
        "|contains",
        "|startswith",
        "|endswith",
        "|contains|all",
        "|cased",
    ];
    let mut sels = String::new();
    let names = ["a", "b", "c"];
    for name in names {
        sels.push_str(&format!("  {name}:\n"));
        for _ in 0..=rng.next() % 2 {
            let field = *rng.pick(&fields);
            if field == "responseStatus.code" {
                sels.push_str(&format!("    {field}: {}\n", rng.pick(CODES)));
                continue;
            }
            if field == "hostPath" {
                sels.push_str("    hostPath: '*'\n");
                continue;
            }
            if let Some((_, modifiers, values)) =
                SINGLE_VALUE_FIELDS.iter().find(|(f, ..)| *f == field)
            {
                let m = rng.pick(modifiers);
                sels.push_str(&format!("    {field}{m}: {}\n", rng.pick(values)));
                continue;
            }
            let m = *rng.pick(&mods);
            let values: Vec<String> = (0..if m.contains("all") {
                2
            } else {
                1 + rng.next() % 3
            })
                .map(|_| random_value(rng))
                .collect();
            let quoted: Vec<String> = values
                .iter()
                .map(|v| format!("'{}'", v.replace('\'', "''")))
                .collect();
            sels.push_str(&format!("    {field}{m}: [{}]\n", quoted.join(", ")));
        }
    }
    let condition = rng.pick(&[
        "a",
        "a and b",
        "a or b",
        "a and not b",
        "1 of them",
        "all of them",
        "(a or b) and c",
        "a or (b and not c)",
    ]);
    format!(
        "title: Random {i}\nid: random-{i}\nlogsource: {{product: kubernetes, service: audit}}\ndetection:\n{sels}  condition: {condition}\nlevel: medium\n"
    )
}

/// Rewrites characters inside JSON strings as `\uXXXX`: every `&` (as Go's encoder does) and
/// about one letter in twenty.
fn escape_some(json: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(json.len() * 2);
    let (mut in_string, mut after_backslash) = (false, false);
    for c in json.chars() {
        if after_backslash {
            after_backslash = false;
            out.push(c);
            continue;
        }
        match c {
            '\\' if in_string => {
                after_backslash = true;
                out.push(c);
            }
            '"' => {
                in_string = !in_string;
                out.push(c);
            }
            '&' if in_string => out.push_str("\\u0026"),
            c if in_string && c.is_ascii_alphabetic() && rng.next().is_multiple_of(20) => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

fn write_events(path: &Path, events: &[serde_json::Value]) {
    write_events_as(path, events, Layout::Lines, None);
}

/// An event's JSON text, with `"__NUM:x__"` placeholders written as the bare number `x`.
fn event_text(e: &serde_json::Value, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(e).unwrap()
    } else {
        serde_json::to_string(e).unwrap()
    };
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("\"__NUM:") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "\"__NUM:".len()..];
        let end = after.find("__\"").unwrap();
        out.push_str(&after[..end]);
        rest = &after[end + "__\"".len()..];
    }
    out.push_str(rest);
    out
}

/// Writes events in `layout`; `inner_escapes` also spells characters of each EKS message's
/// Event as escapes inside it (so the file holds `\\u0063` for the Event's `\u0063`).
fn write_events_as(
    path: &Path,
    events: &[serde_json::Value],
    layout: Layout,
    mut inner_escapes: Option<&mut Rng>,
) {
    let mut f = std::fs::File::create(path).unwrap();
    match layout {
        Layout::Lines => {
            for e in events {
                writeln!(f, "{}", event_text(e, false)).unwrap();
            }
        }
        Layout::Pretty => {
            for e in events {
                writeln!(f, "{}", event_text(e, true)).unwrap();
            }
        }
        Layout::Eks => {
            for (n, batch) in events.chunks(7).enumerate() {
                let log_events: Vec<serde_json::Value> = batch
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let mut message = event_text(e, false);
                        if let Some(rng) = inner_escapes.as_deref_mut() {
                            message = escape_some(&message, rng);
                        }
                        serde_json::json!({"id": format!("{n}-{i}"), "timestamp": 1_767_225_600_000u64 + i as u64, "message": message})
                    })
                    .collect();
                let message = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/eks/prod/cluster", "logStream": "kube-apiserver-audit-1", "subscriptionFilters": ["all"], "logEvents": log_events});
                writeln!(f, "{}", serde_json::to_string(&message).unwrap()).unwrap();
            }
        }
    }
}

fn hunt_lines(set: &rules::RuleSet, paths: &[PathBuf], threads: usize, prefilter: bool) -> Vec<u8> {
    let options = HuntOptions {
        threads,
        prefilter,
        ..HuntOptions::default()
    };
    hunt_with(set, paths, &options).0
}

fn hunt_with(
    set: &rules::RuleSet,
    paths: &[PathBuf],
    options: &HuntOptions,
) -> (Vec<u8>, engine::HuntStats) {
    let mut diagnostics = Vec::new();
    let (_, alerts, stats) = engine::hunt(
        paths,
        &IngestOptions::default(),
        set,
        options,
        &Redactor::with_key([1; 32]),
        &mut diagnostics,
    );
    let mut out = Vec::new();
    alerts
        .try_for_each_line(|l| {
            out.extend_from_slice(l);
            out.push(b'\n');
            Ok(())
        })
        .unwrap();
    (out, stats)
}

#[test]
fn prefilter_never_changes_the_alerts_on_random_events_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let mut total_alerts = 0;
    let mut skipping_rounds = 0;
    for seed in 1..=60u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let events: Vec<_> = (0..300).map(|n| random_event(&mut rng, n)).collect();
        let path = dir.path().join(format!("events-{seed}.jsonl"));
        let layout = match seed % 6 {
            1 => Layout::Pretty,
            3 | 4 => Layout::Eks,
            _ => Layout::Lines,
        };
        let inner = (seed % 6 == 4).then_some(&mut rng);
        write_events_as(&path, &events, layout, inner);
        // Half the rounds spell some characters as JSON escapes, as kube-apiserver does for
        // `&` (and as any writer may for any character): the prefilter must see through them.
        if seed % 2 == 0 {
            let text = std::fs::read_to_string(&path).unwrap();
            std::fs::write(&path, escape_some(&text, &mut rng)).unwrap();
        }
        let text: String = (0..4)
            .map(|i| random_rule(&mut rng, i))
            .collect::<Vec<_>>()
            .join("---\n");
        let set = match rules::load(&[RuleSource::Text {
            name: format!("seed-{seed}"),
            text: text.clone(),
        }]) {
            Ok(s) => s,
            Err(e) => panic!("seed {seed}: generated rules must load: {e:?}\n{text}"),
        };
        if set.prefilter.enabled() {
            skipping_rounds += 1;
        }
        let paths = [path];
        let off = hunt_lines(&set, &paths, 1, false);
        let on = hunt_lines(&set, &paths, 1, true);
        assert_eq!(
            String::from_utf8_lossy(&on),
            String::from_utf8_lossy(&off),
            "seed {seed} ({layout:?}): prefilter changed the alerts\n{text}"
        );
        let two = hunt_lines(&set, &paths, 2, true);
        assert_eq!(on, two, "seed {seed}: threads changed the alerts");
        total_alerts += off.iter().filter(|&&b| b == b'\n').count();
    }
    assert!(
        total_alerts > 100,
        "the generator must produce matches to compare ({total_alerts})"
    );
    assert!(
        skipping_rounds > 10,
        "the prefilter must be active in most rounds ({skipping_rounds})"
    );
}

#[test]
fn hunt_output_is_identical_for_any_thread_count() {
    // Several inputs, one large enough to be split into many batches, and a correlation that
    // spans them.
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng(0xC0FFEE);
    let mut paths = Vec::new();
    for (i, n) in [(0, 9000), (1, 500), (2, 3000)] {
        let events: Vec<_> = (0..n).map(|k| random_event(&mut rng, k)).collect();
        let p = dir.path().join(format!("part-{i}.jsonl"));
        write_events(&p, &events);
        paths.push(p);
    }
    // Lines and pretty-printed documents in runs longer than a read buffer (lines are handed to
    // workers in the buffer they were read into, documents copied), and a gzip input (short
    // reads).
    let mixed = dir.path().join("part-3-mixed.jsonl");
    let mut text = String::new();
    let (mut run, mut longest_run) = (0, 0);
    for k in 0..4000 {
        let pretty = (k / 700) % 2 == 1 || k % 2 == 0;
        let event = event_text(&random_event(&mut rng, k), pretty);
        run = if pretty { run + event.len() + 1 } else { 0 };
        longest_run = longest_run.max(run);
        text.push_str(&event);
        text.push('\n');
    }
    assert!(
        longest_run > 512 << 10,
        "documents span read buffers: {longest_run}"
    );
    std::fs::write(&mixed, &text).unwrap();
    paths.push(mixed);
    let gz = dir.path().join("part-4.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for k in 0..3000 {
        writeln!(encoder, "{}", event_text(&random_event(&mut rng, k), false)).unwrap();
    }
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    paths.push(gz);
    let rules_text = "title: Secret access\nname: secret_access\nlogsource: {product: kubernetes, service: audit}\ndetection:\n  s: {objectRef.resource: secrets}\n  condition: s\n---\ntitle: Secret burst\ncorrelation:\n  type: event_count\n  rules: [secret_access]\n  group-by: [user.username]\n  timespan: 2m\n  condition: {gte: 20}\n  generate: true\n";
    let set = rules::load_with_builtin(
        &[RuleSource::Text {
            name: "corr".into(),
            text: rules_text.into(),
        }],
        true,
        &credwatch::config::Config::defaults(),
    )
    .unwrap();
    let one = hunt_lines(&set, &paths, 1, false);
    assert!(one.len() > 10_000, "enough alerts to compare");
    assert!(String::from_utf8_lossy(&one).contains("Secret burst"));
    for input in ["part-3-mixed.jsonl", "part-4.jsonl.gz"] {
        assert!(
            String::from_utf8_lossy(&one).contains(input),
            "{input} read"
        );
    }
    for threads in [2, 3] {
        assert!(
            one == hunt_lines(&set, &paths, threads, false),
            "threads {threads} differ"
        );
    }
    // Alerts and correlation hits written out to sorted runs on disk and merged back give the
    // same output, whether every alert is its own run or runs hold a few.
    for (threads, alert_memory) in [(1, 1), (1, 100 << 10), (2, 1), (3, 200 << 10)] {
        let options = HuntOptions {
            threads,
            prefilter: false,
            alert_memory,
            ..HuntOptions::default()
        };
        let (spilled, stats) = hunt_with(&set, &paths, &options);
        assert!(
            stats.alerts_spilled > 0 && stats.correlation_hits_spilled > 0,
            "{alert_memory} bytes must force runs of alerts and of correlation hits"
        );
        assert!(stats.alert_spill_error.is_none());
        assert!(
            one == spilled,
            "threads {threads}, {alert_memory} bytes in memory: output differs"
        );
    }
}
