//! Docker Engine API telemetry: dockerd's debug logs in every form and `docker events`, decoded
//! into the one event shape (`platform: docker`), and read back from `events` output.

mod common;

use serde_json::Value;

fn events(path: &str, dir: &std::path::Path) -> (Vec<Value>, String) {
    let run = common::credwatch(&["events", path, "--format", "jsonl"], None, dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let events = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("an event per line"))
        .collect();
    (events, run.stderr)
}

#[test]
fn daemon_logs_and_docker_events_become_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let (decoded, stderr) = events("tests/fixtures/docker/daemon-forms.log", dir.path());
    // (line, verb, resource, subresource, name, format, host)
    type Case<'a> = (
        u64,
        &'a str,
        &'a str,
        Option<&'a str>,
        Option<&'a str>,
        &'a str,
        Option<&'a str>,
    );
    let expected: &[Case] = &[
        (1, "get", "_ping", None, None, "docker_daemon_log", None),
        (
            2,
            "get",
            "containers",
            None,
            Some("app1"),
            "docker_daemon_log",
            None,
        ),
        (
            4,
            "get",
            "containers",
            Some("logs"),
            Some("app1"),
            "docker_daemon_log",
            Some("node-7"),
        ),
        (
            5,
            "get",
            "containers",
            Some("archive"),
            Some("app1"),
            "docker_daemon_log",
            None,
        ),
        (
            7,
            "create",
            "containers",
            Some("exec"),
            Some("app1"),
            "docker_daemon_log",
            None,
        ),
        (
            8,
            "create",
            "exec",
            Some("start"),
            Some("77aa01"),
            "docker_daemon_log",
            Some("node-7"),
        ),
        (
            9,
            "create",
            "containers",
            Some("exec"),
            Some("app1"),
            "docker_events",
            None,
        ),
        (
            10,
            "create",
            "exec",
            Some("start"),
            Some("77aa01"),
            "docker_events",
            None,
        ),
        (
            11,
            "get",
            "containers",
            Some("archive"),
            Some("app1"),
            "docker_events",
            None,
        ),
        (
            12,
            "get",
            "containers",
            Some("export"),
            Some("app1"),
            "docker_events",
            None,
        ),
        (
            13,
            "create",
            "commit",
            None,
            Some("app1"),
            "docker_events",
            None,
        ),
        (
            14,
            "create",
            "images",
            Some("push"),
            Some("registry.example.com/exfil/app1:latest"),
            "docker_events",
            None,
        ),
    ];
    assert_eq!(decoded.len(), expected.len(), "{stderr}");
    for (event, (line, verb, resource, sub, name, format, host)) in decoded.iter().zip(expected) {
        let origin = format!("tests/fixtures/docker/daemon-forms.log:{line}");
        assert_eq!(event["envelope"]["origin"], origin.as_str());
        assert_eq!(event["envelope"]["platform"], "docker", "{event}");
        assert_eq!(event["envelope"]["format"], *format, "{event}");
        assert_eq!(event["verb"], *verb, "{event}");
        assert_eq!(event["objectRef"]["resource"], *resource, "{event}");
        assert_eq!(event["objectRef"]["subresource"].as_str(), *sub, "{event}");
        assert_eq!(event["objectRef"]["name"].as_str(), *name, "{event}");
        assert_eq!(event["annotations"]["credwatch.dev/identity"], "none");
        assert_eq!(
            event["annotations"]["credwatch.dev/docker-host"].as_str(),
            *host,
            "{event}"
        );
        assert!(
            event["user"].get("username").is_none(),
            "dockerd never says who"
        );
        assert!(event["envelope"]["time"].is_string(), "{event}");
    }
    // The info line and the form-data line are dockerd's but no API call: skipped, not rejected.
    assert!(
        stderr.contains("14 records: 12 decoded, 0 rejected, 2 skipped"),
        "{stderr}"
    );

    // `events` output read back keeps the platform.
    let out = dir.path().join("events.jsonl");
    let run = common::credwatch(
        &[
            "events",
            "tests/fixtures/docker/daemon-forms.log",
            "--format",
            "jsonl",
            "-o",
            &out.display().to_string(),
        ],
        None,
        dir.path(),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (again, _) = events(&out.display().to_string(), dir.path());
    assert_eq!(again.len(), expected.len());
    assert!(again.iter().all(|e| e["envelope"]["platform"] == "docker"));
}

#[test]
fn real_dockerd_syslog_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let (decoded, stderr) = events("tests/fixtures/external/other/log-file.txt", dir.path());
    let calls: Vec<(String, String)> = decoded
        .iter()
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or("").to_owned(),
                e["objectRef"]["resource"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        calls,
        [
            ("get".to_owned(), "_ping".to_owned()),
            ("list".to_owned(), "containers".to_owned())
        ]
    );
    assert!(
        decoded
            .iter()
            .all(|e| e["annotations"]["credwatch.dev/docker-host"] == "localhost")
    );
    // 4 systemd lines are not dockerd's: rejected as text; 4 dockerd lines without a call: skipped.
    assert!(
        stderr.contains("10 records: 2 decoded, 4 rejected, 4 skipped"),
        "{stderr}"
    );
}

/// (title, target name, level, exposure, line) of each alert.
fn hunt(args: &[&str], dir: &std::path::Path) -> Vec<(String, String, String, String, String)> {
    let run = common::credwatch(args, None, dir);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let a: Value = serde_json::from_str(l).expect("alert");
            assert_eq!(a["platform"], "docker", "{a}");
            (
                a["rule"]["title"].as_str().unwrap_or("").to_owned(),
                a["target"]["name"].as_str().unwrap_or("").to_owned(),
                a["rule"]["level"].as_str().unwrap_or("").to_owned(),
                a["exposure"]["verdict"].as_str().unwrap_or("").to_owned(),
                a["evidence"][0]["location"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn hunt_finds_docker_credential_access() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let log = "tests/fixtures/docker/daemon-forms.log";
    let alerts = hunt(&["hunt", log, "--format", "jsonl"], dir.path());
    let at = |line: u32| format!("{log}:{line}");
    let expected = vec![
        (
            "Docker archive of a credential path",
            "app1",
            "high",
            "possible",
            at(5),
        ),
        (
            "Docker exec whose command reads credentials",
            "app1",
            "high",
            "possible",
            at(9),
        ),
        (
            "Docker exec whose command reads credentials",
            "77aa01",
            "high",
            "possible",
            at(10),
        ),
        (
            "Docker archive of a credential path",
            "app1",
            "high",
            "possible",
            at(11),
        ),
        (
            "Docker container filesystem exported",
            "app1",
            "medium",
            "possible",
            at(12),
        ),
        (
            "Docker container committed, then pushed",
            "registry.example.com/exfil/app1:latest",
            "high",
            "none",
            at(13),
        ),
    ];
    let expected: Vec<(String, String, String, String, String)> = expected
        .into_iter()
        .map(|(a, b, c, d, e)| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned(), e))
        .collect();
    assert_eq!(alerts, expected);
    // The prefilter passes over nothing a Docker rule could match.
    let unfiltered = hunt(
        &["hunt", log, "--format", "jsonl", "--no-prefilter"],
        dir.path(),
    );
    assert_eq!(alerts, unfiltered);
    // Kubernetes rules see no Docker event and Docker rules no Kubernetes one.
    let k8s = hunt(
        &[
            "hunt",
            log,
            "--format",
            "jsonl",
            "--no-builtin",
            "-r",
            "rules/sigmahq",
        ],
        dir.path(),
    );
    assert!(k8s.is_empty(), "{k8s:?}");
}

#[test]
fn harvests_are_counted_per_host() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let log = dir.path().join("harvest.log");
    let mut text = String::new();
    for i in 0..12 {
        text.push_str(&format!(
            "Nov 20 10:0{m}:{s:02} node-7 dockerd[812]: time=\"2026-11-20T10:0{m}:{s:02}Z\" level=debug msg=\"Calling GET /v1.41/containers/app{i}/json\"\n",
            m = i / 6,
            s = (i % 6) * 10,
        ));
    }
    for i in 0..5 {
        text.push_str(&format!(
            "Nov 20 10:05:{s:02} node-7 dockerd[812]: time=\"2026-11-20T10:05:{s:02}Z\" level=debug msg=\"Calling GET /v1.41/containers/app{i}/logs?stdout=1\"\n",
            s = i * 5,
        ));
    }
    // Another host's reads do not add up with node-7's.
    for i in 0..4 {
        text.push_str(&format!(
            "Nov 20 10:05:{s:02} node-8 dockerd[9]: time=\"2026-11-20T10:05:{s:02}Z\" level=debug msg=\"Calling GET /v1.41/containers/web{i}/logs\"\n",
            s = i * 5 + 1,
        ));
    }
    std::fs::write(&log, text).expect("write");
    let alerts = hunt(
        &["hunt", &log.display().to_string(), "--format", "jsonl"],
        dir.path(),
    );
    let titles: Vec<&str> = alerts.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "Docker environments harvested",
            "Docker container logs harvested"
        ],
        "{alerts:#?}"
    );
}

#[test]
fn socket_proxies_and_authz_plugins_name_the_caller() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let log = "tests/fixtures/docker/proxy-and-authz.log";
    let (decoded, stderr) = events(log, dir.path());
    assert_eq!(decoded.len(), 3, "{stderr}");
    let formats: Vec<&str> = decoded
        .iter()
        .map(|e| e["envelope"]["format"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        formats,
        ["docker_socket_proxy", "docker_socket_proxy", "docker_authz"]
    );
    assert_eq!(decoded[0]["sourceIPs"][0], "172.18.0.5");
    assert_eq!(
        decoded[0]["annotations"]["credwatch.dev/identity"],
        "source-address"
    );
    assert_eq!(decoded[2]["user"]["username"], "ci-runner");
    assert_eq!(
        decoded[2]["annotations"]["credwatch.dev/identity"],
        "mtls-subject"
    );
    let alerts = hunt(&["hunt", log, "--format", "jsonl"], dir.path());
    let titles: Vec<&str> = alerts.iter().map(|a| a.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            // The AuthZ record carries no time: untimed alerts come first.
            "Docker container created with host credentials mounted or privileged",
            "Docker archive of a credential path",
            // The socket proxy knows only the client's address.
            "Docker API reached over TCP with no caller identity",
            "Swarm unlock key or join tokens read",
            "Docker API reached over TCP with no caller identity",
        ]
    );
    let unfiltered = hunt(
        &["hunt", log, "--format", "jsonl", "--no-prefilter"],
        dir.path(),
    );
    assert_eq!(
        alerts, unfiltered,
        "the prefilter passes every Docker record"
    );
    // The body's environment and the registry-auth header appear nowhere.
    common::assert_never_shown(
        &[
            vec!["events", log, "--format", "jsonl"],
            vec!["hunt", log, "--format", "jsonl"],
            vec!["hunt", log, "--format", "table"],
        ],
        &[
            "CANARY-AUTHZ-9d1e",
            "Q0FOQVJZLVJFR0FVVEgtN2M",
            "CANARY-REGAUTH",
        ],
        dir.path(),
    );
}

#[test]
fn credentials_in_exec_commands_are_redacted() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let log = "tests/fixtures/docker/exec-commands.log";
    let (decoded, _) = events(log, dir.path());
    assert_eq!(decoded.len(), 5);
    assert_eq!(
        decoded[0]["requestURI"]
            .as_str()
            .map(|u| u.starts_with("/containers/db/exec?cmd=mysql&cmd=-uroot&cmd=-p[REDACTED")),
        Some(true),
        "{}",
        decoded[0]
    );
    let runs = [
        vec!["events", log, "--format", "jsonl"],
        vec!["events", log, "--format", "table"],
        vec![
            "hunt",
            log,
            "--format",
            "jsonl",
            "--no-builtin",
            "-r",
            "rules/credwatch/docker.yml",
        ],
    ];
    common::assert_never_shown(
        &runs,
        &[
            "CANARY-SHMYSQL-4e2",
            "CANARY-MYSQL-51f2",
            "CANARY-PSQL-77aa",
            "CANARY-BEARER-0b1c",
            "AKIAIOSFODNN7CANARY1",
        ],
        dir.path(),
    );
}

#[test]
fn look_alikes_are_not_docker_calls() {
    let dir = tempfile::tempdir().expect("tempdir");
    common::fixed_key(dir.path());
    let (decoded, stderr) = events("tests/fixtures/docker/not-docker.log", dir.path());
    assert!(decoded.is_empty(), "{decoded:#?}");
    assert!(stderr.contains("5 records: 0 decoded"), "{stderr}");
}
