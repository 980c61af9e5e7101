//! The generator against the real decoder: determinism, every scenario in every format, the
//! formats agreeing with each other, and a background that never looks like an attack.

use super::*;
use crate::decode::{Decoder, RejectReason, Sink, SkipReason};
use crate::event::{Decoded, Origin};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What the tests look at in one decoded event.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    verb: String,
    resource: String,
    subresource: String,
    namespace: String,
    name: String,
    api_group: String,
    username: String,
    groups: Vec<String>,
    impersonated: String,
    code: i64,
    decision: String,
    stage: String,
    time: String,
    audit_id: String,
    uri: String,
    ua: String,
    ip: String,
    level: String,
    extra: String,
    request: String,
    format: String,
}

#[derive(Default)]
struct Collect {
    rows: Vec<Row>,
    problems: Vec<String>,
}

fn s(v: Option<&str>) -> String {
    v.unwrap_or("").to_owned()
}

impl Sink for Collect {
    fn event(&mut self, d: &Decoded<'_, '_>) {
        let e = d.event;
        let o = e.object_ref.clone().unwrap_or_default();
        self.rows.push(Row {
            verb: s(e.verb.as_deref()),
            resource: s(o.resource.as_deref()),
            subresource: s(o.subresource.as_deref()),
            namespace: s(o.namespace.as_deref()),
            name: s(o.name.as_deref()),
            api_group: s(o.api_group.as_deref()),
            username: s(e.user.username.as_deref()),
            groups: e.user.groups.iter().map(|g| g.to_string()).collect(),
            impersonated: s(e
                .impersonated_user
                .as_ref()
                .and_then(|u| u.username.as_deref())),
            code: e
                .response_status
                .as_ref()
                .and_then(|r| r.code)
                .unwrap_or(-1),
            decision: s(e.decision()),
            stage: s(e.stage.as_deref()),
            time: d.time().unwrap_or_default(),
            audit_id: s(e.audit_id.as_deref()),
            uri: s(e.request_uri.as_deref()),
            ua: s(e.user_agent.as_deref()),
            ip: e
                .source_ips
                .first()
                .map(|i| i.to_string())
                .unwrap_or_default(),
            level: s(e.level.as_deref()),
            extra: e
                .user
                .extra
                .as_ref()
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default(),
            request: e
                .request_object
                .as_ref()
                .map(|x| x.as_str().to_owned())
                .unwrap_or_default(),
            format: d.envelope.format.as_str().to_owned(),
        });
    }

    fn reject(&mut self, origin: &Origin<'_>, reason: RejectReason, detail: &str) {
        self.problems
            .push(format!("{origin}: rejected ({reason}): {detail}"));
    }

    fn skip(&mut self, origin: &Origin<'_>, reason: SkipReason) {
        self.problems
            .push(format!("{origin}: skipped ({})", reason.as_str()));
    }
}

fn options(
    scenarios: Vec<&'static ScenarioInfo>,
    background: u64,
    seed: u64,
    format: SimFormat,
) -> SimulateOptions {
    SimulateOptions {
        scenarios,
        background,
        seed,
        format,
    }
}

fn all() -> Vec<&'static ScenarioInfo> {
    scenarios().iter().collect()
}

fn generate(opts: &SimulateOptions) -> (Vec<u8>, SimStats) {
    let mut out = Vec::new();
    let stats = write(opts, &mut out).expect("writes to memory");
    assert_eq!(stats.bytes, out.len() as u64, "bytes counted");
    (out, stats)
}

fn decode(bytes: &[u8]) -> Collect {
    let mut sink = Collect::default();
    let decoder = Decoder::new(None);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        if !line.is_empty() {
            decoder.decode_record(line, "sim", i as u64 + 1, &mut sink);
        }
    }
    sink
}

fn run(opts: &SimulateOptions) -> (Vec<Row>, SimStats) {
    let (bytes, stats) = generate(opts);
    let decoded = decode(&bytes);
    assert!(
        decoded.problems.is_empty(),
        "{:?}: {:?}",
        opts.format,
        &decoded.problems[..decoded.problems.len().min(5)]
    );
    (decoded.rows, stats)
}

#[test]
fn same_options_same_bytes() {
    for format in SimFormat::ALL {
        let a = generate(&options(all(), 1_500, 7, format)).0;
        let b = generate(&options(all(), 1_500, 7, format)).0;
        let c = generate(&options(all(), 1_500, 8, format)).0;
        assert!(a == b, "{format:?}: same seed, different output");
        assert!(a != c, "{format:?}: different seed, same output");
    }
}

#[test]
fn background_does_not_depend_on_scenarios() {
    let alone = run(&options(Vec::new(), 3_000, 3, SimFormat::Native)).0;
    let mixed = run(&options(all(), 3_000, 3, SimFormat::Native)).0;
    let scenario_users: BTreeSet<&str> = [
        "mallory@example.com",
        "dev-ops@example.com",
        "system:serviceaccount:payments:api-worker",
    ]
    .into();
    let ids: BTreeSet<&str> = alone.iter().map(|r| r.audit_id.as_str()).collect();
    let kept: Vec<&Row> = mixed
        .iter()
        .filter(|r| ids.contains(r.audit_id.as_str()))
        .collect();
    assert!(
        kept.iter().copied().eq(alone.iter()),
        "same background, same order"
    );
    assert!(
        alone
            .iter()
            .all(|r| !scenario_users.contains(r.username.as_str()))
    );
}

#[test]
fn every_scenario_decodes_in_every_format() {
    for info in scenarios() {
        for format in SimFormat::ALL {
            let (rows, stats) = run(&options(vec![info], 0, 11, format));
            assert_eq!(rows.len() as u64, stats.events, "{} {format:?}", info.name);
            assert_eq!(stats.events, stats.scenario_events, "{}", info.name);
            assert!(stats.events > 0, "{} has events", info.name);
        }
    }
}

/// The fields every format carries; GKE's mapping keeps fewer.
fn comparable(r: &Row, gke: bool) -> Row {
    let mut r = r.clone();
    r.format.clear();
    if gke {
        // Lost in GKE's mapping: see `SimFormat::Gke`.
        r.groups.clear();
        r.impersonated.clear();
        r.extra.clear();
        r.uri = if r.resource.is_empty() {
            r.uri.split('?').next().unwrap_or("").to_owned()
        } else {
            String::new()
        };
        if r.code < 400 {
            r.code = 200;
        }
    }
    r
}

#[test]
fn formats_agree_with_native() {
    let native = run(&options(all(), 2_500, 5, SimFormat::Native)).0;
    assert!(native.iter().all(|r| r.format == "k8s_audit"));
    let cases = [
        (SimFormat::EventList, "k8s_event_list"),
        (SimFormat::Eks, "eks_subscription"),
        (SimFormat::Gke, "gke_log_entry"),
        (SimFormat::Aks, "aks_diagnostic"),
    ];
    for (format, name) in cases {
        let rows = run(&options(all(), 2_500, 5, format)).0;
        assert_eq!(rows.len(), native.len(), "{format:?}");
        let gke = format == SimFormat::Gke;
        for (i, (got, want)) in rows.iter().zip(&native).enumerate() {
            assert_eq!(got.format, name);
            assert_eq!(
                comparable(got, gke),
                comparable(want, gke),
                "{format:?}, event {i}"
            );
        }
    }
}

#[test]
fn native_times_never_go_back() {
    let (bytes, _) = generate(&options(Vec::new(), 20_000, 9, SimFormat::Native));
    let last_line = bytes.split(|&b| b == b'\n').rfind(|l| !l.is_empty());
    let end: serde_json::Value =
        serde_json::from_slice(last_line.unwrap_or_default()).expect("the last line is JSON");
    let end = end["requestReceivedTimestamp"].as_str().unwrap_or_default();
    assert!(
        end.starts_with("2026-03-02T09:01:"),
        "20k events ≈ 100 s: {end}"
    );
    let (bytes, _) = generate(&options(all(), 20_000, 9, SimFormat::Native));
    let mut last = String::new();
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("each line is JSON");
        let t = v["requestReceivedTimestamp"].as_str().unwrap_or_default();
        assert_eq!(t.len(), 27, "{t}");
        assert!(t >= last.as_str(), "{t} after {last}");
        last = t.to_owned();
        assert!(
            v["stageTimestamp"].as_str().unwrap_or_default() >= t,
            "stage before receipt"
        );
    }
}

#[test]
fn audit_ids_are_unique_but_for_the_stages_of_one_request() {
    let (rows, _) = run(&options(all(), 20_000, 2, SimFormat::Native));
    let mut seen: HashMap<&str, Vec<&Row>> = HashMap::new();
    for r in &rows {
        seen.entry(r.audit_id.as_str()).or_default().push(r);
    }
    for (id, group) in seen {
        match group.as_slice() {
            [_] => {}
            [a, b] => {
                assert_eq!(
                    (a.stage.as_str(), b.stage.as_str()),
                    ("ResponseStarted", "ResponseComplete"),
                    "{id}"
                );
                assert_eq!((&a.time, &a.uri), (&b.time, &b.uri), "{id}");
            }
            more => panic!("audit ID {id} used {} times", more.len()),
        }
    }
}

#[test]
fn events_average_about_a_kilobyte() {
    let (bytes, stats) = generate(&options(Vec::new(), 20_000, 42, SimFormat::Native));
    let mean = stats.bytes / stats.events;
    assert!((850..=1300).contains(&mean), "mean {mean} bytes");
    assert!(!bytes.is_empty());
}

#[test]
fn scenario_table() {
    let mut names = BTreeSet::new();
    for info in scenarios() {
        assert!(names.insert(info.name), "{} twice", info.name);
        assert!(find(info.name).is_some_and(|f| std::ptr::eq(f, info)));
        assert!(
            ["exposed", "attempted", "possible"].contains(&info.exposure),
            "{}",
            info.name
        );
        assert!(!info.expect.is_empty() && info.expect.iter().all(|r| r.starts_with("cw_")));
        assert!(!info.description.is_empty() && !info.modelled_on.is_empty());
    }
    assert_eq!(names.len(), 26);
    assert!(find("no-such-scenario").is_none());
}

/// Scenarios sit inside the background's span when it is long enough, one after another just
/// after its start when it is not, and never overlap.
#[test]
fn scenario_placement() {
    let list = all();
    for (background, within) in [(1_000_000u64, true), (0, false), (2_000, false)] {
        let events = plan(&list, background, 1);
        assert!(events.windows(2).all(|w| w[0].received <= w[1].received));
        assert!(events.iter().all(|e| e.received > START));
        if within {
            let end = START + background as Micros * STEP_MEAN;
            assert!(events.iter().all(|e| e.received < end), "{background}");
        } else {
            assert!(
                events[0].received < START + 2_000_000,
                "just after the start"
            );
        }
    }
    // Each scenario's own events: seconds apart, within its window.
    for info in scenarios() {
        let events = plan(&[info], 0, 4);
        let first = events.iter().map(|e| e.received).min().unwrap_or(0);
        let last = events.iter().map(|e| e.received).max().unwrap_or(0);
        let limit: Micros = match info.name {
            "unauthorized-scan" | "peirates-discovery" => 60_000_000,
            "secrets-denied-burst" => 90_000_000,
            "exec-then-steal" => 180_000_000,
            _ => 120_000_000,
        };
        assert!(
            last - first <= limit,
            "{} spans {} s",
            info.name,
            (last - first) / 1_000_000
        );
    }
}

type Check = fn(&[Row]) -> bool;
type RowCheck<'a> = dyn Fn(&Row) -> bool + 'a;

/// What each scenario must contain, as the brief describes the attack.
#[test]
fn scenarios_look_like_their_attack() {
    fn exec_pair(rows: &[Row], needle: &str) -> bool {
        let execs: Vec<&Row> = rows.iter().filter(|r| r.subresource == "exec").collect();
        execs.len() == 2
            && execs
                .iter()
                .all(|r| r.code == 101 && r.verb == "create" && r.uri.contains(needle))
            && execs[0].audit_id == execs[1].audit_id
            && execs[0].stage == "ResponseStarted"
            && execs[1].stage == "ResponseComplete"
    }
    let cases: &[(&str, Check)] = &[
        ("secrets-dump-all-namespaces", |r| {
            r.len() == 1
                && r[0].verb == "list"
                && r[0].uri == "/api/v1/secrets?limit=500"
                && r[0].namespace.is_empty()
                && r[0].ip == "203.0.113.50"
                && r[0].groups == ["system:authenticated"]
        }),
        ("secrets-list-kube-system", |r| {
            r[0].username == "dev-ops@example.com"
                && r[0].namespace == "kube-system"
                && r[0].code == 200
        }),
        ("secrets-scripted-client", |r| {
            r[0].ua == "python-requests/2.31.0"
                && r[1].ua == "curl/8.5.0"
                && r[1].verb == "list"
                && r[0].ip == "10.244.3.17"
        }),
        ("secret-read-external-token", |r| {
            r[0].ip == "198.51.100.23"
                && r[0].name == "stripe-api-key"
                && r[0].username.ends_with("payments:api-worker")
        }),
        ("secrets-denied-burst", |r| {
            let names: BTreeSet<_> = r.iter().map(|x| (&x.namespace, &x.name)).collect();
            r.len() == 12
                && names.len() == 12
                && r.iter().all(|x| x.code == 403 && x.decision == "forbid")
        }),
        ("secrets-watch", |r| {
            r.iter().all(|x| {
                x.verb == "watch" && x.uri == "/api/v1/namespaces/payments/secrets?watch=true"
            })
        }),
        ("secrets-read-burst", |r| {
            let names: BTreeSet<_> = r.iter().map(|x| &x.name).collect();
            names.len() == 15
                && r.iter()
                    .all(|x| x.namespace == "data" && x.username == "bob@example.com")
        }),
        ("token-request-kube-system", |r| {
            r[0].subresource == "token"
                && r[0].name == "clusterrole-aggregation-controller"
                && r[0].code == 201
                && r[0].level == "Request"
                && r[0].request.contains("\"expirationSeconds\":315360000")
        }),
        ("legacy-token-secret", |r| {
            r.len() == 2
                && r[0].request.contains("kubernetes.io/service-account-token")
                && r[1].verb == "get"
                && r[1].name == "ci-bot-token"
        }),
        ("csr-client-cert", |r| {
            r[0].request
                .contains("kubernetes.io/kube-apiserver-client\"")
                && r[1].subresource == "approval"
                && r[1].verb == "update"
        }),
        ("exec-into-pod", |r| {
            exec_pair(
                r,
                "command=sh&container=api&stdin=true&stdout=true&tty=true",
            )
        }),
        ("exec-read-token", |r| {
            exec_pair(
                r,
                "command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken",
            ) && !r[0].uri.contains("tty")
        }),
        ("exec-cloud-metadata", |r| {
            exec_pair(
                r,
                "command=curl&command=-s&command=http%3A%2F%2F169.254.169.254%2F",
            )
        }),
        ("kubectl-cp-out", |r| {
            exec_pair(
                r,
                "command=tar&command=cf&command=-&command=%2Fetc%2Fapp%2Fconfig",
            )
        }),
        ("ephemeral-container", |r| {
            r.iter().any(|x| {
                x.verb == "patch"
                    && x.subresource == "ephemeralcontainers"
                    && x.uri
                        == "/api/v1/namespaces/payments/pods/api-7d9f-abcde/ephemeralcontainers"
            })
        }),
        ("pod-logs-many", |r| {
            let pods: BTreeSet<_> = r.iter().map(|x| &x.name).collect();
            pods.len() == 8
                && r.iter().all(|x| {
                    x.subresource == "log"
                        && x.ip == "10.244.7.3"
                        && x.uri.ends_with("/log?container=app")
                })
        }),
        ("kubelet-exec-via-nodes-proxy", |r| {
            r[0].uri
                .contains("/proxy/exec/payments/api-7d9f-abcde/api?command=cat&command=%2Fvar")
                && r[0].code == 101
                && r.last().is_some_and(|x| {
                    x.verb == "create" && x.uri.contains("/proxy/run/kube-system/")
                })
        }),
        ("kubelet-read-via-nodes-proxy", |r| {
            r.len() == 3
                && r.iter()
                    .all(|x| x.subresource == "proxy" && x.resource == "nodes")
                && r[2].uri.contains("/proxy/containerLogs/kube-system/")
        }),
        ("anonymous-access", |r| {
            r.iter().any(|x| {
                x.username == "system:anonymous"
                    && x.namespace == "kube-system"
                    && x.resource == "secrets"
                    && x.decision == "allow"
            }) && r.iter().any(|x| x.uri == "/version")
        }),
        ("unauthorized-scan", |r| {
            let unauthorized = r
                .iter()
                .filter(|x| x.code == 401 && x.decision.is_empty())
                .count();
            r.len() == 30
                && unauthorized >= 15
                && r.iter().all(|x| x.ip == "198.51.100.200")
                && r.iter().any(|x| x.code == 403)
        }),
        ("impersonate-then-read", |r| {
            r.len() == 2
                && r.iter().all(|x| {
                    x.username == "dave@example.com"
                        && x.impersonated
                            == "system:serviceaccount:kube-system:generic-garbage-collector"
                })
                && r[1].verb == "list"
                && r[1].resource == "secrets"
        }),
        ("peirates-discovery", |r| {
            r[0].resource == "selfsubjectrulesreviews"
                && r[0].code == 201
                && r[1].verb == "list"
                && r[1].namespace == "payments"
        }),
        ("configmap-credentials", |r| {
            r[0].name == "aws-auth"
                && r[1].request.contains("\"DB_PASSWORD\"")
                && r[1].request.contains("\"AWS_SECRET_ACCESS_KEY\"")
        }),
        ("workload-harvest", |r| {
            r.len() == 3 && r.iter().all(|x| x.verb == "list" && x.namespace.is_empty())
        }),
        ("exec-then-steal", |r| {
            let stolen: Vec<_> = r
                .iter()
                .filter(|x| x.username == "system:serviceaccount:payments:api-worker")
                .collect();
            stolen.len() == 2
                && stolen.iter().all(|x| {
                    x.extra
                        .contains("\"authentication.kubernetes.io/pod-name\":[\"api-7d9f-abcde\"]")
                        && x.ip == "10.244.3.17"
                })
                && stolen[1].subresource == "token"
        }),
        ("token-spraying", |r| {
            let users: BTreeSet<_> = r.iter().map(|x| &x.username).collect();
            users.len() == 6
                && r.iter().all(|x| x.ip == "203.0.113.99")
                && r.iter().any(|x| x.code == 201)
                && r.iter().any(|x| x.code == 403)
        }),
    ];
    assert_eq!(cases.len(), scenarios().len());
    for (name, check) in cases {
        let info = find(name).unwrap_or_else(|| panic!("{name} exists"));
        let rows = run(&options(vec![info], 0, 1, SimFormat::Native)).0;
        assert!(check(&rows), "{name}: {rows:#?}");
    }
}

/// The users of the scenarios that are not people working here too.
fn scenario_only_users() -> BTreeSet<String> {
    let rows = run(&options(all(), 0, 1, SimFormat::Native)).0;
    let shared: BTreeSet<&str> = [
        "carol@example.com",
        "bob@example.com",
        "dave@example.com",
        "system:serviceaccount:ci:gitlab-runner",
        "system:anonymous",
        // Impersonated by dave, not a user of its own there.
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "",
    ]
    .into();
    rows.iter()
        .flat_map(|r| [r.username.clone(), r.impersonated.clone()])
        .filter(|u| !shared.contains(u.as_str()))
        .collect()
}

#[test]
fn background_is_benign() {
    let (rows, _) = run(&options(Vec::new(), 120_000, 42, SimFormat::Native));
    let forbidden_users = scenario_only_users();
    let humans = background::human_names();
    let health = [
        "/healthz",
        "/livez",
        "/readyz",
        "/readyz?verbose",
        "/version",
    ];
    let cluster_secret_readers = [
        "system:serviceaccount:monitoring:kube-state-metrics",
        "system:serviceaccount:kube-system:generic-garbage-collector",
        "system:serviceaccount:kube-system:namespace-controller",
        "system:serviceaccount:argocd:argocd-application-controller",
    ];
    let bad_agents = [
        "curl",
        "python",
        "wget",
        "go-http-client",
        "scanner",
        "hunter",
        "nmap",
        "zgrab",
    ];
    let cases: &[(&str, &RowCheck)] = &[
        ("no scenario-only user", &|r| {
            !forbidden_users.contains(&r.username)
        }),
        ("internal addresses only", &|r| r.ip.starts_with("10.")),
        ("no scripted or scanner clients", &|r| {
            let ua = r.ua.to_ascii_lowercase();
            !bad_agents.iter().any(|b| ua.contains(b))
        }),
        ("anonymous only to health and version", &|r| {
            r.username != "system:anonymous"
                || (health.contains(&r.uri.as_str()) && r.resource.is_empty())
        }),
        ("no impersonation", &|r| r.impersonated.is_empty()),
        ("no failed authentication", &|r| {
            r.code != 401 && !r.username.is_empty()
        }),
        ("no attach or ephemeral containers", &|r| {
            !matches!(
                r.subresource.as_str(),
                "attach" | "ephemeralcontainers" | "portforward"
            )
        }),
        ("exec only a shell, by alice or erin", &|r| {
            r.subresource != "exec"
                || (["alice@example.com", "erin@example.com"].contains(&r.username.as_str())
                    && r.uri.contains("?command=sh&container=app"))
        }),
        (
            "cluster-wide secret lists only by the allowed readers",
            &|r| {
                !(r.resource == "secrets"
                    && r.namespace.is_empty()
                    && matches!(r.verb.as_str(), "list" | "watch"))
                    || cluster_secret_readers.contains(&r.username.as_str())
            },
        ),
        ("no secrets in kube-system", &|r| {
            !(r.resource == "secrets" && r.namespace == "kube-system")
        }),
        (
            "people list secrets only for Helm, never in kube-system or default",
            &|r| {
                !(humans.contains(&r.username.as_str())
                    && r.resource == "secrets"
                    && r.verb == "list")
                    || (r.ua.starts_with("Helm/")
                        && !["kube-system", "default"].contains(&r.namespace.as_str()))
            },
        ),
        ("secrets never denied", &|r| {
            !(r.resource == "secrets" && r.code == 403)
        }),
        ("CSRs only by kubelets and bootstrap tokens", &|r| {
            !(r.resource == "certificatesigningrequests" && r.verb == "create")
                || r.username.starts_with("system:node:")
                || r.username.starts_with("system:bootstrap:")
        }),
        ("no aws-auth or kubeadm-config reads", &|r| {
            !(r.resource == "configmaps"
                && ["aws-auth", "kubeadm-config"].contains(&r.name.as_str()))
        }),
        ("tokens minted only by kubelets", &|r| {
            r.subresource != "token" || r.username.starts_with("system:node:")
        }),
        ("no access reviews", &|r| {
            !r.resource.starts_with("selfsubject")
        }),
        ("node proxy only for metrics by prometheus", &|r| {
            !(r.resource == "nodes" && r.subresource == "proxy")
                || (r.username == "system:serviceaccount:monitoring:prometheus"
                    && r.uri.contains("/proxy/metrics"))
        }),
        ("pod logs only by people", &|r| {
            r.subresource != "log" || humans.contains(&r.username.as_str())
        }),
        ("the scenarios' pod is never named", &|r| {
            !r.uri.contains("api-7d9f-abcde") && !r.extra.contains("api-7d9f-abcde")
        }),
        ("workloads never listed cluster-wide by people", &|r| {
            !(humans.contains(&r.username.as_str())
                && r.verb == "list"
                && r.namespace.is_empty()
                && r.resource != "namespaces"
                && !r.resource.is_empty())
        }),
    ];
    for (what, ok) in cases {
        let bad: Vec<&Row> = rows.iter().filter(|r| !ok(r)).take(3).collect();
        assert!(bad.is_empty(), "{what}: {bad:#?}");
    }
    // Nobody reads many secrets or many pods' logs in a short while.
    let two_minutes = |rows: &[&Row], max: usize, what: &str| {
        let mut by_user: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
        for r in rows {
            let t = r
                .time
                .parse::<jiff::Timestamp>()
                .map_or(0, |x| x.as_second());
            by_user.entry(&r.username).or_default().push((t, &r.name));
        }
        for (user, seen) in by_user {
            for (i, (t, _)) in seen.iter().enumerate() {
                let distinct: BTreeSet<&str> = seen[i..]
                    .iter()
                    .take_while(|(u, _)| *u <= t + 120)
                    .map(|(_, n)| *n)
                    .collect();
                assert!(
                    distinct.len() <= max,
                    "{user}: {} {what} within 2 minutes",
                    distinct.len()
                );
            }
        }
    };
    let secret_reads: Vec<&Row> = rows
        .iter()
        .filter(|r| r.resource == "secrets" && r.verb == "get")
        .collect();
    two_minutes(&secret_reads, 10, "secrets");
    let logs: Vec<&Row> = rows.iter().filter(|r| r.subresource == "log").collect();
    assert!(!logs.is_empty(), "people read some logs");
    two_minutes(&logs, 3, "pods' logs");
}

#[test]
fn write_errors_are_reported() {
    struct Full;
    impl std::io::Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let result = write(&options(all(), 100, 1, SimFormat::Eks), &mut Full);
    assert!(matches!(result, Err(SimulateError::Io(_))));
}

#[test]
fn a_scenarios_audit_ids_do_not_depend_on_background_or_format() {
    for info in scenarios().iter().take(4) {
        let ids: BTreeSet<String> = scenario_audit_ids(info, 5).into_iter().collect();
        assert!(!ids.is_empty(), "{}", info.name);
        for (background, format) in [(0, SimFormat::Native), (1_000, SimFormat::Aks)] {
            let (rows, _) = run(&options(vec![info], background, 5, format));
            let seen: BTreeSet<String> = rows.into_iter().map(|r| r.audit_id).collect();
            assert!(
                ids.is_subset(&seen),
                "{} with {background} background events in {}",
                info.name,
                format.as_str()
            );
        }
    }
}
