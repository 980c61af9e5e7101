//! `simulate` + `validate`: every attack scenario is detected with its expected exposure in
//! every log format that can carry it, and the benign part of a large simulated cluster raises
//! no alert of level high or above.

mod common;

use credwatch::config::Config;
use credwatch::engine::{self, HuntOptions};
use credwatch::redact::Redactor;
use credwatch::rules::{self, Level, RuleSet};
use credwatch::simulate::{self, SimFormat, SimulateOptions};
use credwatch::validate::{self, ValidateOptions};
use std::collections::HashSet;

fn pack() -> RuleSet {
    rules::load_with_builtin(&[], true, &Config::defaults()).expect("built-in rules load")
}

/// Scenarios a format cannot show, and why: GKE's Cloud Audit Logs carry no `requestURI` (exec
/// commands, kubelet proxy paths), no `user.extra` (the pod a token is bound to) and no
/// impersonated user.
fn cannot_show(format: SimFormat) -> &'static [&'static str] {
    match format {
        SimFormat::Gke => &[
            "exec-read-token",
            "exec-cloud-metadata",
            "kubectl-cp-out",
            "kubelet-exec-via-nodes-proxy",
            "kubelet-read-via-nodes-proxy",
            "impersonate-then-read",
            "exec-then-steal",
        ],
        _ => &[],
    }
}

#[test]
fn every_scenario_is_detected_in_every_format() {
    let set = pack();
    for format in SimFormat::ALL {
        let report = validate::run(
            &set,
            &ValidateOptions {
                scenarios: simulate::scenarios().iter().collect(),
                background: 300,
                benign: 0,
                seed: 11,
                format,
                threads: 2,
            },
            |_| {},
        )
        .unwrap_or_else(|e| panic!("{}: {e}", format.as_str()));
        assert_eq!(report.scenarios.len(), simulate::scenarios().len());
        let gaps = cannot_show(format);
        for row in &report.scenarios {
            let expected_to_pass = !gaps.contains(&row.scenario);
            assert_eq!(
                row.passed(),
                expected_to_pass,
                "{} {}: detected {}, missing {:?}, exposure {:?} (expected {}), alerts {:?}",
                format.as_str(),
                row.scenario,
                row.detected,
                row.missing,
                row.exposure,
                row.expected_exposure,
                row.alerts
            );
        }
    }
}

/// The background is the same whichever scenarios are mixed in, so the benign part of a mixed
/// log is known: its audit IDs are those of the background alone.
#[test]
fn benign_part_of_a_large_cluster_raises_nothing_high() {
    const BACKGROUND: u64 = 150_000;
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, scenarios| {
        let path = dir.path().join(name);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        simulate::write(
            &SimulateOptions {
                scenarios,
                background: BACKGROUND,
                seed: 3,
                format: SimFormat::Native,
            },
            &mut file,
        )
        .unwrap();
        drop(file);
        path
    };
    let mixed = write("mixed.jsonl", simulate::scenarios().iter().collect());
    let background = write("background.jsonl", Vec::new());
    let text = std::fs::read_to_string(&background).unwrap();
    assert_eq!(text.lines().count() as u64, BACKGROUND);
    // Long-running requests (watch, exec) log two stages under one audit ID.
    let benign_ids: HashSet<String> = text
        .lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            e["auditID"].as_str().unwrap().to_owned()
        })
        .collect();

    let set = pack();
    let run = engine::hunt_collect(
        &[mixed],
        &set,
        &HuntOptions {
            threads: 2,
            ..HuntOptions::default()
        },
        &Redactor::with_key([3; 32]),
    )
    .unwrap();
    assert_eq!(run.outcome.summary.rejected, 0);
    let (mut high_on_scenarios, mut high_on_benign) = (0, Vec::new());
    let mut fired: HashSet<String> = HashSet::new();
    for a in &run.alerts {
        if let Some(name) = &a.rule.name {
            fired.insert(name.clone());
        }
        if Level::parse(&a.rule.level).is_none_or(|l| l < Level::High) {
            continue;
        }
        // Benign when no scenario event is behind it (a correlation window may hold benign
        // events beside the attack's).
        let benign = a
            .evidence
            .iter()
            .all(|e| e.audit_id.as_ref().is_none_or(|id| benign_ids.contains(id)));
        if benign {
            high_on_benign.push(format!(
                "{} {} by {:?}",
                a.rule.level, a.rule.title, a.actor.username
            ));
        } else {
            high_on_scenarios += 1;
        }
    }
    assert!(
        high_on_benign.is_empty(),
        "{} high alerts on benign events:\n{}",
        high_on_benign.len(),
        high_on_benign.join("\n")
    );
    assert!(
        high_on_scenarios >= 20,
        "the scenarios raise high alerts ({high_on_scenarios})"
    );
    let missing: Vec<&str> = simulate::scenarios()
        .iter()
        .flat_map(|s| s.expect.iter().copied())
        .filter(|name| !fired.contains(*name))
        .collect();
    assert!(
        missing.is_empty(),
        "not fired in the mixed log: {missing:?}"
    );
}

#[test]
fn simulate_is_deterministic_and_validate_cli_reports_the_matrix() {
    let keys = tempfile::tempdir().unwrap();
    let a = common::credwatch(
        &["simulate", "all", "--background", "2000", "--seed", "5"],
        None,
        keys.path(),
    );
    let b = common::credwatch(
        &["simulate", "all", "--background", "2000", "--seed", "5"],
        None,
        keys.path(),
    );
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout, "same seed, same bytes");
    assert!(a.stdout.lines().count() > 2000);

    let run = common::credwatch(
        &[
            "validate",
            "--background",
            "200",
            "--benign",
            "5000",
            "--threads",
            "2",
        ],
        None,
        keys.path(),
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let total = simulate::scenarios().len();
    assert!(
        run.stdout
            .contains(&format!("{total}/{total} scenarios detected")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("0 of level high or above"),
        "{}",
        run.stdout
    );

    let unknown = common::credwatch(&["validate", "no-such-scenario"], None, keys.path());
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("exec-then-steal"),
        "names the scenarios"
    );
}
