//! The built-in credential-access pack (`rules/credwatch/`): every rule carries what an analyst
//! needs (ATT&CK tags, false-positive notes, a playbook, tests), its tests pass, exposure
//! verdicts hold for succeeded, denied and unknown outcomes, and the configuration tunes it.

use credwatch::config::Config;
use credwatch::rules::testing::{complete_event, hunt_events, rule_matches, run, with_decoded};
use credwatch::rules::{self, RuleMeta, RuleSet};

mod common;

fn pack(config: &Config) -> RuleSet {
    rules::load_with_builtin(&[], true, config).expect("built-in rules load")
}

fn ours(meta: &RuleMeta) -> bool {
    meta.file.starts_with("builtin:credwatch/")
}

#[test]
fn every_rule_carries_tags_notes_playbook_and_tests() {
    let set = pack(&Config::defaults());
    let mut problems = Vec::new();
    let mut emitting = 0;
    for rule in set.rules.iter().filter(|r| ours(&r.meta)) {
        let m = &rule.meta;
        let name = m.name.clone().unwrap_or_default();
        if !name.starts_with("cw_") {
            problems.push(format!("{}: rules are named cw_*", m.title));
        }
        let positives = rule.tests.iter().filter(|t| t.expect_match).count();
        if positives == 0 || positives == rule.tests.len() {
            problems.push(format!("{name}: needs positive and negative tests"));
        }
        if !m.tags.iter().any(|t| t.starts_with("attack.")) {
            problems.push(format!("{name}: no ATT&CK tag"));
        }
        if rule.emits {
            emitting += 1;
            if !m.tags.iter().any(|t| t.starts_with("attack.t")) {
                problems.push(format!("{name}: no ATT&CK technique tag"));
            }
            if m.falsepositives.is_empty() {
                problems.push(format!("{name}: no false-positive notes"));
            }
            if m.playbook.as_deref().is_none_or(|p| p.lines().count() < 2) {
                problems.push(format!("{name}: no playbook"));
            }
            if !rule
                .tests
                .iter()
                .any(|t| t.expect_match && t.exposure.is_some())
            {
                problems.push(format!(
                    "{name}: no positive test states its exposure verdict"
                ));
            }
        }
    }
    for c in set.correlations.iter().filter(|c| ours(&c.meta)) {
        let name = c.meta.name.clone().unwrap_or_default();
        if c.meta.playbook.is_none() || c.meta.falsepositives.is_empty() {
            problems.push(format!(
                "{name}: correlation without playbook or false-positive notes"
            ));
        }
        if !c.meta.tags.iter().any(|t| t.starts_with("attack.t")) {
            problems.push(format!("{name}: no ATT&CK technique tag"));
        }
        let positives = c.tests.iter().filter(|t| t.expect_match).count();
        if positives == 0 || positives == c.tests.len() {
            problems.push(format!("{name}: needs positive and negative sequences"));
        }
    }
    for f in set.filters.iter().filter(|f| ours(&f.meta)) {
        if f.meta.description.is_none() || f.meta.title.len() < 20 {
            problems.push(format!("filter {}: needs a one-line reason", f.meta.key()));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(emitting >= 25, "the pack emits from {emitting} rules");
    assert!(
        set.correlations.iter().filter(|c| ours(&c.meta)).count() >= 10,
        "sequences and bursts are correlations"
    );
}

#[test]
fn rule_tests_pass() {
    let set = pack(&Config::defaults());
    let results = run(&set);
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed())
        .map(|r| format!("{} {}: {:?} {:?}", r.location, r.rule, r.matched, r.error))
        .collect();
    assert!(failed.is_empty(), "{}", failed.join("\n"));
    assert!(results.len() >= 200, "{} tests", results.len());
}

/// Every positive test event, rewritten as denied and as of unknown outcome: whenever the rule
/// still matches, the verdict must be `attempted` for the denial and never `exposed` when the
/// outcome is unknown.
#[test]
fn exposure_verdicts_follow_the_outcome() {
    let set = pack(&Config::defaults());
    let mut problems = Vec::new();
    let (mut denied_checked, mut unknown_checked) = (0, 0);
    for (i, rule) in set.rules.iter().enumerate() {
        if !ours(&rule.meta) || !rule.emits {
            continue;
        }
        for (n, test) in rule
            .tests
            .iter()
            .enumerate()
            .filter(|(_, t)| t.expect_match)
        {
            let mut denied = test.event.clone();
            denied["responseStatus"] =
                serde_json::json!({"status": "Failure", "reason": "Forbidden", "code": 403});
            denied["annotations"] = serde_json::json!({"authorization.k8s.io/decision": "forbid"});
            let mut unknown = test.event.clone();
            if let Some(map) = unknown.as_object_mut() {
                map.remove("responseStatus");
                map.remove("annotations");
            }
            for (variant, mut event) in [("denied", denied), ("unknown", unknown)] {
                complete_event(&mut event, n);
                let got = with_decoded(&event, "variant", |d| {
                    (
                        rule_matches(&set, i, d),
                        credwatch::alert::exposure(d.event),
                    )
                })
                .expect("variant decodes");
                let (matched, exposure) = got;
                if !matched {
                    continue;
                }
                let ok = match variant {
                    "denied" => {
                        denied_checked += 1;
                        exposure.verdict == "attempted"
                    }
                    _ => {
                        unknown_checked += 1;
                        exposure.verdict == "possible" || exposure.verdict == "none"
                    }
                };
                if !ok {
                    problems.push(format!(
                        "{} test {} {variant}: {} ({})",
                        rule.meta.title, n, exposure.verdict, exposure.reason
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(
        denied_checked >= 15,
        "denied variants checked: {denied_checked}"
    );
    assert!(
        unknown_checked >= 25,
        "unknown variants checked: {unknown_checked}"
    );
}

fn hunt_names(set: &RuleSet, events: &[serde_json::Value]) -> Vec<String> {
    hunt_events(set, events, &credwatch::engine::HuntOptions::default())
        .expect("events hunt")
        .alerts
        .into_iter()
        .map(|a| a.rule.name.unwrap_or_default())
        .collect()
}

#[test]
fn configuration_tunes_the_pack() {
    let exec = serde_json::json!({"verb": "create", "stage": "ResponseStarted", "requestURI": "/api/v1/namespaces/p/pods/a/exec?command=sh", "user": {"username": "breakglass@example.com"}, "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "p", "name": "a"}, "responseStatus": {"code": 101}});
    // Ten distinct Secrets read over eight minutes: outside the default 5-minute window.
    let reads: Vec<_> = (0..10)
        .map(|i| serde_json::json!({"verb": "get", "user": {"username": "bob@example.com"}, "objectRef": {"resource": "secrets", "namespace": "data", "name": format!("s{i}")}, "responseStatus": {"code": 200}, "requestReceivedTimestamp": format!("2026-01-01T00:{:02}:00Z", i * 53 / 60)}))
        .collect();
    let helm = |uri: &str| serde_json::json!({"verb": "list", "requestURI": uri, "user": {"username": "alice@example.com"}, "objectRef": {"resource": "secrets", "namespace": "default"}, "responseStatus": {"code": 200}});
    let helm_list = helm("/api/v1/namespaces/default/secrets?labelSelector=owner%3Dhelm");
    let forged = helm("/api/v1/namespaces/default/secrets?limit=500&x=labelSelector=owner%3Dhelm");
    const EXEC: &str = "cw_pod_exec";
    const LIST: &str = "cw_secrets_list_sensitive_namespace";
    const BURST: &str = "cw_secrets_read_many";
    // (what, configuration, events, the rule whose alert is looked for, whether it comes out)
    let cases: [(&str, &str, Vec<serde_json::Value>, &str, bool); 9] = [
        (
            "helm release list: filtered",
            "",
            vec![helm_list.clone()],
            LIST,
            false,
        ),
        (
            "filter switched off",
            "disabled: [cw_flt_helm_releases]\n",
            vec![helm_list],
            LIST,
            true,
        ),
        (
            "a forged selector is not Helm's",
            "",
            vec![forged],
            LIST,
            true,
        ),
        ("defaults: exec alerts", "", vec![exec.clone()], EXEC, true),
        (
            "expected identity exempted",
            "placeholders:\n  expected_identities: [breakglass@example.com]\n",
            vec![exec.clone()],
            EXEC,
            false,
        ),
        (
            "rule switched off",
            "disabled: [cw_pod_exec]\n",
            vec![exec],
            EXEC,
            false,
        ),
        (
            "burst outside the default window",
            "",
            reads.clone(),
            BURST,
            false,
        ),
        (
            "burst inside a widened window",
            "timespans:\n  cw_secrets_read_many: 10m\n",
            reads.clone(),
            BURST,
            true,
        ),
        (
            "correlation switched off",
            "timespans:\n  cw_secrets_read_many: 10m\ndisabled: [cw_secrets_read_many]\n",
            reads,
            BURST,
            false,
        ),
    ];
    for (what, text, events, target, want) in cases {
        let config = Config::parse("test.yml", text, Config::defaults()).expect(what);
        let set = pack(&config);
        let names = hunt_names(&set, &events);
        assert_eq!(
            names.iter().any(|n| n == target),
            want,
            "{what}: alerts {names:?}"
        );
    }
}

/// Credentials planted in an exec command, a ConfigMap and a pod's environment never appear in
/// `events` or `hunt` output, while the rules still see them.
#[test]
fn planted_credentials_never_reach_the_output() {
    const CANARY: &str = "Xq7CANARYzz91";
    let events = [
        serde_json::json!({"verb": "create", "stage": "ResponseStarted", "requestURI": format!("/api/v1/namespaces/p/pods/a/exec?command=mysql&command=--password%3D{CANARY}&command=-e&command=select+1"), "user": {"username": "mallory@example.com"}, "objectRef": {"resource": "pods", "subresource": "exec", "namespace": "p", "name": "a"}, "responseStatus": {"code": 101}}),
        serde_json::json!({"verb": "create", "level": "Request", "requestURI": "/api/v1/namespaces/p/configmaps", "user": {"username": "mallory@example.com"}, "objectRef": {"resource": "configmaps", "namespace": "p", "name": "app-env"}, "requestObject": {"kind": "ConfigMap", "data": {"DB_PASSWORD": CANARY, "aws_secret_access_key": CANARY}}, "responseStatus": {"code": 201}}),
        serde_json::json!({"verb": "create", "level": "Request", "requestURI": "/api/v1/namespaces/p/pods", "user": {"username": "mallory@example.com"}, "objectRef": {"resource": "pods", "namespace": "p", "name": "web"}, "requestObject": {"kind": "Pod", "spec": {"containers": [{"name": "web", "env": [{"name": "API_TOKEN", "value": CANARY}]}]}}, "responseStatus": {"code": 201}}),
    ];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("planted.jsonl");
    let text: String = events
        .iter()
        .enumerate()
        .map(|(n, e)| {
            let mut e = e.clone();
            complete_event(&mut e, n);
            format!("{e}\n")
        })
        .collect();
    std::fs::write(&path, text).unwrap();
    let p = path.to_str().unwrap();
    for args in [
        vec!["events", "--format", "jsonl", p],
        vec!["events", "--format", "table", p],
        vec!["hunt", "--format", "jsonl", p],
        vec!["hunt", "--format", "table", p],
        vec!["hunt", "--format", "csv", p],
    ] {
        let run = common::credwatch(&args, None, dir.path());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert!(
            !run.stdout.contains(CANARY) && !run.stderr.contains(CANARY),
            "{args:?} printed a planted credential:\n{}\n{}",
            run.stdout,
            run.stderr
        );
        if args[0] == "hunt" && args[2] == "jsonl" {
            for rule in ["cw_pod_exec", "cw_configmap_credential_values"] {
                assert!(run.stdout.contains(rule), "{rule} fires: {}", run.stdout);
            }
        }
    }
}
