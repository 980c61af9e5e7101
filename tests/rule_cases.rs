//! The rule-case table: `tests/rule_cases/*.yml`, each group a rule set (YAML text) with events
//! and what must happen — run through the real decoder, engine and correlation stage.
//! Format and semantics: `docs/rules.md`; the files say what each case checks.

use credwatch::alert::Alert;
use credwatch::engine::HuntOptions;
use credwatch::rules::yaml::{Node, Value, parse_documents};
use credwatch::rules::{self, RuleSource};
use std::collections::BTreeMap;
use std::path::Path;

fn alerts_for(
    set: &rules::RuleSet,
    events: &[serde_json::Value],
    threads: usize,
    prefilter: bool,
) -> Vec<Alert> {
    let options = HuntOptions {
        threads,
        prefilter,
        ..HuntOptions::default()
    };
    rules::testing::hunt_events(set, events, &options)
        .unwrap_or_else(|e| panic!("test events must hunt: {e}"))
        .alerts
}

fn string(node: Option<&Node>) -> Option<String> {
    node.and_then(|n| n.as_str()).map(str::to_owned)
}

#[test]
fn rule_case_table() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/rule_cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut cases = 0;
    let mut failures = Vec::new();
    let mut per_file = BTreeMap::new();
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|x| x == "yml"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        let docs = parse_documents(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let Some(Value::Seq(groups)) = docs.first().map(|d| &d.value) else {
            panic!("{}: expected a list of groups", file.display())
        };
        let fname = file.file_name().unwrap().to_string_lossy().to_string();
        for group in groups {
            let name = string(group.get("name")).unwrap_or_default();
            let at = format!("{fname}:{} ({name})", group.line);
            let rules_text = string(group.get("rules")).unwrap_or_default();
            let loaded = rules::load(&[RuleSource::Text {
                name: format!("{fname}:{}", group.line),
                text: rules_text,
            }]);
            if let Some(expected) = string(group.get("error")) {
                cases += 1;
                *per_file.entry(fname.clone()).or_insert(0) += 1;
                match loaded {
                    Ok(_) => failures.push(format!(
                        "{at}: loaded, but an error containing `{expected}` was expected"
                    )),
                    Err(e) => {
                        let all: Vec<String> = e.0.iter().map(|d| d.to_string()).collect();
                        if !all
                            .iter()
                            .any(|m| m.to_lowercase().contains(&expected.to_lowercase()))
                        {
                            failures
                                .push(format!("{at}: errors {all:?} do not mention `{expected}`"));
                        }
                    }
                }
                continue;
            }
            let set = match loaded {
                Ok(set) => set,
                Err(e) => {
                    failures.push(format!(
                        "{at}: rules fail to load: {:?}",
                        e.0.iter().map(|d| d.to_string()).collect::<Vec<_>>()
                    ));
                    continue;
                }
            };
            if let Some(Value::Seq(tests)) = group.get("tests").map(|t| &t.value) {
                for (n, test) in tests.iter().enumerate() {
                    cases += 1;
                    *per_file.entry(fname.clone()).or_insert(0) += 1;
                    let want = test.get("match").and_then(|m| m.as_str()) == Some("true");
                    let mut event = test.get("event").expect("event").to_json();
                    // Each event alone, but with the time it would have at its position.
                    rules::testing::complete_event(&mut event, n);
                    for prefilter in [true, false] {
                        let got = alerts_for(&set, std::slice::from_ref(&event), 1, prefilter);
                        if got.is_empty() == want {
                            failures.push(format!("{at} test {} (line {}, prefilter {prefilter}): expected match={want}, got {} alerts", n + 1, test.line, got.len()));
                        }
                    }
                }
            }
            if let Some(Value::Seq(seq)) = group.get("sequence").map(|t| &t.value) {
                cases += 1;
                *per_file.entry(fname.clone()).or_insert(0) += 1;
                let events: Vec<_> = seq.iter().map(Node::to_json).collect();
                let mut want: BTreeMap<String, u64> = BTreeMap::new();
                if let Some(entries) = group.get("expect").and_then(Node::entries) {
                    for (k, v) in entries {
                        let n: u64 = v.as_str().unwrap().parse().unwrap();
                        if n > 0 {
                            want.insert(k.as_str().unwrap().to_owned(), n);
                        }
                    }
                }
                for threads in [1, 2] {
                    let got_alerts = alerts_for(&set, &events, threads, threads == 1);
                    let mut got: BTreeMap<String, u64> = BTreeMap::new();
                    for a in &got_alerts {
                        *got.entry(a.rule.title.clone()).or_default() += 1;
                    }
                    if got != want {
                        failures.push(format!(
                            "{at} (threads {threads}): expected {want:?}, got {got:?}"
                        ));
                    }
                }
            }
        }
    }
    eprintln!("rule cases per file: {per_file:?}");
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        cases >= 150,
        "the table must hold at least 150 cases, has {cases}"
    );
}
