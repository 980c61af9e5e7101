//! The attacks: each scenario is a short script of requests, written the way the tool or the
//! technique it is modelled on sends them, with the rules expected to fire and the exposure
//! verdict expected of the main alert.

use super::ScenarioInfo;
use super::background::{KUBECTL_LINUX, node_name, sa_uid};
use super::model::{Ev, Level, Micros, ObjRef, User, fnv, fold};
use fastrand::Rng;

/// The pod every exec scenario targets, its node and address.
const POD: &str = "api-7d9f-abcde";
const POD_IP: [u8; 4] = [10, 244, 3, 17];
const POD_NODE: usize = 8;

const MALLORY_IP: [u8; 4] = [203, 0, 113, 50];
const CAROL_IP: [u8; 4] = [203, 0, 113, 61];
const ADMIN_REASON: &str = "RBAC: allowed by ClusterRoleBinding \"ops-admin\" of ClusterRole \"cluster-admin\" to User \"mallory@example.com\"";
const CAROL_REASON: &str = "RBAC: allowed by RoleBinding \"developers-edit\" of ClusterRole \"edit\" to Group \"developers\"";
const API_WORKER_REASON: &str = "RBAC: allowed by RoleBinding \"api-worker\" of Role \"api-worker\" to ServiceAccount \"api-worker/payments\"";

/// One scenario being written: its events at offsets from its start.
pub(crate) struct Script {
    rng: Rng,
    t: Micros,
    pub(crate) events: Vec<Ev>,
}

impl Script {
    pub(crate) fn new(seed: u64, name: &str, occurrence: u64) -> Script {
        let mixed = fold(u128::from(seed) << 64 | u128::from(fnv(name)), occurrence);
        let mut rng = Rng::with_seed(mixed as u64 ^ (mixed >> 64) as u64);
        // Not on the second: people do not start on the tick.
        let t = rng.i64(0..1_000_000);
        Script {
            rng,
            t,
            events: Vec::new(),
        }
    }

    /// Moves on by about `secs` seconds (±15%).
    fn wait(&mut self, secs: f64) {
        let jitter = 0.85 + 0.3 * self.rng.f64();
        self.t += (secs * jitter * 1e6) as Micros;
    }

    /// Logs `ev` now, completed a few milliseconds later.
    fn emit(&mut self, mut ev: Ev) {
        ev.received = self.t;
        ev.staged = self.t + self.rng.i64(1_500..45_000);
        ev.audit_id = self.rng.u128(..);
        self.events.push(ev);
        self.t += self.rng.i64(100_000..900_000);
    }

    /// A long-running request (exec, attach, watch): logged when the response starts and again,
    /// with the same audit ID, when it ends `secs` later.
    fn session(&mut self, ev: Ev, secs: f64) {
        let id = self.rng.u128(..);
        let started = Ev {
            received: self.t,
            staged: self.t + self.rng.i64(20_000..90_000),
            audit_id: id,
            ..ev.clone()
        }
        .stage("ResponseStarted");
        let complete = Ev {
            received: self.t,
            staged: self.t + (secs * 1e6) as Micros,
            audit_id: id,
            ..ev
        }
        .stage("ResponseComplete");
        self.events.push(started);
        self.events.push(complete);
        self.t += self.rng.i64(100_000..900_000);
    }

    fn uid(&mut self) -> u128 {
        self.rng.u128(..)
    }

    fn text(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .map(|_| char::from(alphabet[self.rng.usize(..alphabet.len())]))
            .collect()
    }
}

fn mallory() -> User {
    User::new("mallory@example.com", &["system:authenticated"])
}

fn carol() -> User {
    User::new("carol@example.com", &["developers", "system:authenticated"])
}

/// `payments/api-worker` as the token mounted in the target pod presents it.
fn api_worker(s: &mut Script, pod: &str) -> User {
    let pod_uid = fold(u128::from(fnv(pod)), 0x706f64);
    let jti = s.uid();
    User::service_account("payments", "api-worker", sa_uid("payments", "api-worker")).bound_to_pod(
        pod,
        pod_uid,
        &node_name(POD_NODE),
        jti,
    )
}

/// A request by mallory with kubectl from her address, allowed by her binding.
fn by_mallory(verb: &'static str, uri: impl Into<super::model::Str>, obj: ObjRef) -> Ev {
    Ev::new(verb, uri, mallory())
        .obj(obj)
        .ip(MALLORY_IP)
        .ua(KUBECTL_LINUX)
        .reason(ADMIN_REASON)
}

/// `kubectl exec` by carol into the target pod with `query` (commands, container, streams).
fn carol_exec(query: &str) -> Ev {
    let obj = ObjRef::new("pods", "v1")
        .ns("payments")
        .name(POD)
        .sub("exec");
    Ev::new("create", format!("{}?{query}", obj.path()), carol())
        .obj(obj)
        .ip(CAROL_IP)
        .ua(KUBECTL_LINUX)
        .reason(CAROL_REASON)
        .code(101)
}

/// Each argv word as its own URL-encoded `command=` parameter, as kubectl sends them.
fn commands(argv: &[&str]) -> String {
    argv.iter()
        .map(|w| format!("command={}", url_encode(w)))
        .collect::<Vec<_>>()
        .join("&")
}

fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn token_request(expiration: u64) -> String {
    format!(
        "{{\"kind\":\"TokenRequest\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{{\"creationTimestamp\":null}},\"spec\":{{\"audiences\":[],\"expirationSeconds\":{expiration},\"boundObjectRef\":null}},\"status\":{{\"token\":\"\",\"expirationTimestamp\":null}}}}"
    )
}

// ---- the scenarios ---------------------------------------------------------------------------

fn secrets_dump_all_namespaces(s: &mut Script) {
    s.emit(by_mallory(
        "list",
        "/api/v1/secrets?limit=500",
        ObjRef::new("secrets", "v1"),
    ));
}

fn secrets_list_kube_system(s: &mut Script) {
    let obj = ObjRef::new("secrets", "v1").ns("kube-system");
    s.emit(
        Ev::new(
            "list",
            "/api/v1/namespaces/kube-system/secrets?limit=500",
            User::new("dev-ops@example.com", &["ops", "system:authenticated"]),
        )
        .obj(obj)
        .ip([198, 51, 100, 14])
        .ua("kubectl/v1.29.4 (darwin/arm64) kubernetes/55019c8")
        .reason("RBAC: allowed by ClusterRoleBinding \"ops-secrets-admin\" of ClusterRole \"secrets-admin\" to Group \"ops\""),
    );
}

fn secrets_scripted_client(s: &mut Script) {
    let user = api_worker(s, POD);
    let obj = ObjRef::new("secrets", "v1")
        .ns("payments")
        .name("db-credentials");
    s.emit(
        Ev::new("get", obj.path(), user.clone())
            .obj(obj)
            .ip(POD_IP)
            .ua("python-requests/2.31.0")
            .reason(API_WORKER_REASON),
    );
    s.wait(4.0);
    s.emit(
        Ev::new("list", "/api/v1/namespaces/payments/secrets", user)
            .obj(ObjRef::new("secrets", "v1").ns("payments"))
            .ip(POD_IP)
            .ua("curl/8.5.0")
            .reason(API_WORKER_REASON),
    );
}

fn secret_read_external_token(s: &mut Script) {
    // The token was taken from another replica; it still names that pod.
    let user = api_worker(s, "api-7d9f-x2k9q");
    let obj = ObjRef::new("secrets", "v1")
        .ns("payments")
        .name("stripe-api-key");
    s.emit(
        Ev::new("get", obj.path(), user)
            .obj(obj)
            .ip([198, 51, 100, 23])
            .ua(KUBECTL_LINUX)
            .reason(API_WORKER_REASON),
    );
}

fn secrets_denied_burst(s: &mut Script) {
    // The token of a compromised pod of `default/hello`, which runs as `default`.
    let pod = "hello-5f6d8c7b9-q2w4x";
    let jti = s.uid();
    let user = User::service_account("default", "default", sa_uid("default", "default"))
        .bound_to_pod(
            pod,
            fold(u128::from(fnv(pod)), 0x706f64),
            &node_name(3),
            jti,
        );
    let targets = [
        ("kube-system", "cloud-provider-credentials"),
        ("kube-system", "admin-token"),
        ("default", "db-credentials"),
        ("payments", "db-credentials"),
        ("kube-system", "kubernetes-dashboard-key-holder"),
        ("default", "registry-credentials"),
        ("payments", "stripe-api-key"),
        ("kube-system", "aws-credentials"),
        ("payments", "aws-credentials"),
        ("default", "api-keys"),
        ("kube-system", "vault-token"),
        ("payments", "payments-api-tls"),
    ];
    for (i, (ns, name)) in targets.into_iter().enumerate() {
        if i > 0 {
            s.wait(6.0);
        }
        let obj = ObjRef::new("secrets", "v1").ns(ns).name(name);
        s.emit(
            Ev::new("get", obj.path(), user.clone())
                .obj(obj)
                .ip([10, 244, 1, 9])
                .ua(KUBECTL_LINUX)
                .forbidden(),
        );
    }
}

fn secrets_watch(s: &mut Script) {
    let obj = ObjRef::new("secrets", "v1").ns("payments");
    s.session(
        by_mallory(
            "watch",
            "/api/v1/namespaces/payments/secrets?watch=true",
            obj,
        ),
        95.0,
    );
}

fn secrets_read_burst(s: &mut Script) {
    let names = [
        "postgres-superuser",
        "postgres-replication",
        "etl-s3-credentials",
        "snowflake-credentials",
        "kafka-sasl",
        "redis-password",
        "airflow-fernet-key",
        "airflow-webserver-secret",
        "metabase-db",
        "dbt-profiles",
        "grafana-datasource",
        "minio-root",
        "spark-history-s3",
        "looker-api",
        "segment-write-key",
    ];
    let user = User::new("bob@example.com", &["developers", "system:authenticated"]);
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            s.wait(6.0);
        }
        let obj = ObjRef::new("secrets", "v1").ns("data").name(name);
        s.emit(
            Ev::new("get", obj.path(), user.clone())
                .obj(obj)
                .ip([198, 51, 100, 31])
                .ua("kubectl/v1.29.4 (darwin/arm64) kubernetes/55019c8")
                .reason("RBAC: allowed by RoleBinding \"data-engineers\" of ClusterRole \"admin\" to Group \"developers\""),
        );
    }
}

fn token_request_kube_system(s: &mut Script) {
    let obj = ObjRef::new("serviceaccounts", "v1")
        .ns("kube-system")
        .name("clusterrole-aggregation-controller")
        .sub("token");
    s.emit(
        by_mallory("create", obj.path(), obj)
            .code(201)
            .request(Level::Request, token_request(315_360_000)),
    );
}

fn legacy_token_secret(s: &mut Script) {
    let obj = ObjRef::new("secrets", "v1")
        .ns("kube-system")
        .name("ci-bot-token");
    let body = "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"ci-bot-token\",\"namespace\":\"kube-system\",\"creationTimestamp\":null,\"annotations\":{\"kubernetes.io/service-account.name\":\"deployment-controller\"}},\"type\":\"kubernetes.io/service-account-token\"}";
    s.emit(
        by_mallory(
            "create",
            "/api/v1/namespaces/kube-system/secrets?fieldManager=kubectl-create&fieldValidation=Strict",
            obj.clone(),
        )
        .code(201)
        .request(Level::Request, body.to_owned()),
    );
    s.wait(20.0);
    s.emit(by_mallory("get", obj.path(), obj));
}

/// A real PKCS#10 request for `/CN=mallory/O=system:masters` (see data/README.md).
const MALLORY_MASTERS_CSR: &str = include_str!("data/mallory-system-masters.b64");

fn csr_client_cert(s: &mut Script) {
    let obj =
        ObjRef::new("certificatesigningrequests", "certificates.k8s.io/v1").name("mallory-admin");
    let body = format!(
        "{{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\",\"metadata\":{{\"name\":\"mallory-admin\",\"creationTimestamp\":null}},\"spec\":{{\"request\":\"{}\",\"signerName\":\"kubernetes.io/kube-apiserver-client\",\"expirationSeconds\":31536000,\"usages\":[\"client auth\"]}},\"status\":{{}}}}",
        MALLORY_MASTERS_CSR.trim()
    );
    s.emit(
        by_mallory(
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldManager=kubectl-create&fieldValidation=Strict",
            obj.clone(),
        )
        .code(201)
        .request(Level::Request, body),
    );
    s.wait(12.0);
    let approval = obj.clone().sub("approval");
    s.emit(by_mallory("update", approval.path(), approval));
    // `kubectl get csr mallory-admin -o jsonpath='{.status.certificate}'`
    s.wait(5.0);
    s.emit(by_mallory("get", obj.path(), obj));
}

fn exec_into_pod(s: &mut Script) {
    s.session(
        carol_exec("command=sh&container=api&stdin=true&stdout=true&tty=true"),
        240.0,
    );
}

fn exec_read_token(s: &mut Script) {
    let q = format!(
        "{}&container=api&stderr=true&stdout=true",
        commands(&["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"])
    );
    s.session(carol_exec(&q), 1.2);
}

fn exec_cloud_metadata(s: &mut Script) {
    let q = format!(
        "{}&container=api&stderr=true&stdout=true",
        commands(&[
            "curl",
            "-s",
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
        ])
    );
    s.session(carol_exec(&q), 1.5);
}

fn kubectl_cp_out(s: &mut Script) {
    let q = format!(
        "{}&container=api&stderr=true&stdout=true",
        commands(&["tar", "cf", "-", "/etc/app/config"])
    );
    s.session(carol_exec(&q), 2.0);
}

fn ephemeral_container(s: &mut Script) {
    let pod = ObjRef::new("pods", "v1").ns("payments").name(POD);
    let base = |verb, uri: String, obj: ObjRef| {
        Ev::new(verb, uri, carol())
            .obj(obj)
            .ip(CAROL_IP)
            .ua(KUBECTL_LINUX)
            .reason(CAROL_REASON)
    };
    s.emit(base("get", pod.path(), pod.clone()));
    s.wait(1.0);
    let debugger = format!("debugger-{}", super::model::pod_suffix(s.rng.u64(..)));
    let ephemeral = pod.clone().sub("ephemeralcontainers");
    let body = format!(
        "{{\"spec\":{{\"ephemeralContainers\":[{{\"name\":\"{debugger}\",\"image\":\"busybox\",\"resources\":{{}},\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"Always\",\"stdin\":true,\"tty\":true}}]}}}}"
    );
    s.emit(base("patch", ephemeral.path(), ephemeral).request(Level::Request, body));
    // `kubectl debug -it` then attaches to the new container.
    s.wait(3.0);
    let attach = pod.sub("attach");
    let uri = format!(
        "{}?container={debugger}&stdin=true&stdout=true&tty=true",
        attach.path()
    );
    s.session(base("create", uri, attach).code(101), 180.0);
}

fn pod_logs_many(s: &mut Script) {
    // A CI job's pod, running as the runner's service account.
    let pod = "gitlab-runner-7c9f8d6b5-w2x4k";
    let jti = s.uid();
    let user = User::service_account("ci", "gitlab-runner", sa_uid("ci", "gitlab-runner"))
        .bound_to_pod(
            pod,
            fold(u128::from(fnv(pod)), 0x706f64),
            &node_name(12),
            jti,
        );
    let pods = [
        ("payments", "api-7d9f-abcde"),
        ("payments", "api-7d9f-x2k9q"),
        ("payments", "ledger-5c6b8d9f7-k2x4p"),
        ("checkout", "frontend-6f7d8c9b5-q8w2z"),
        ("checkout", "cart-7b9c6d5f4-m3n7r"),
        ("data", "postgres-0"),
        ("data", "postgres-1"),
        ("data", "etl-worker-84d6c7b9f-h5k8s"),
    ];
    for (i, (ns, pod)) in pods.into_iter().enumerate() {
        if i > 0 {
            s.wait(9.0);
        }
        let obj = ObjRef::new("pods", "v1").ns(ns).name(pod).sub("log");
        s.emit(
            Ev::new("get", format!("{}?container=app", obj.path()), user.clone())
                .obj(obj)
                .ip([10, 244, 7, 3])
                .ua(KUBECTL_LINUX)
                .reason("RBAC: allowed by ClusterRoleBinding \"gitlab-runner-deployer\" of ClusterRole \"deployer\" to ServiceAccount \"gitlab-runner/ci\""),
        );
    }
}

fn kubelet_exec_via_nodes_proxy(s: &mut Script) {
    let node = node_name(POD_NODE);
    let obj = ObjRef::new("nodes", "v1").name(node.clone()).sub("proxy");
    let uri = format!(
        "/api/v1/nodes/{node}/proxy/exec/payments/{POD}/api?{}&output=1&error=1",
        commands(&["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"])
    );
    s.session(by_mallory("get", uri, obj.clone()).code(101), 1.0);
    s.wait(8.0);
    let uri = format!("/api/v1/nodes/{node}/proxy/run/kube-system/kube-proxy-6xk2w/kube-proxy");
    s.emit(by_mallory("create", uri, obj));
}

fn kubelet_read_via_nodes_proxy(s: &mut Script) {
    let node = node_name(POD_NODE);
    let obj = ObjRef::new("nodes", "v1").name(node.clone()).sub("proxy");
    for (i, path) in [
        "pods".to_owned(),
        "configz".to_owned(),
        "containerLogs/kube-system/aws-node-q7mzt/aws-node".to_owned(),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            s.wait(5.0);
        }
        s.emit(by_mallory(
            "get",
            format!("/api/v1/nodes/{node}/proxy/{path}"),
            obj.clone(),
        ));
    }
}

fn anonymous_access(s: &mut Script) {
    let base = |verb, uri: &'static str| {
        Ev::new(verb, uri, User::anonymous())
            .ip([198, 51, 100, 77])
            .ua("curl/7.88.1")
    };
    s.emit(base("get", "/version").reason("RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\""));
    s.wait(3.0);
    s.emit(
        base("list", "/api/v1/namespaces/kube-system/secrets")
            .obj(ObjRef::new("secrets", "v1").ns("kube-system"))
            .reason("RBAC: allowed by ClusterRoleBinding \"anon-read\" of ClusterRole \"view-secrets\" to User \"system:anonymous\""),
    );
}

/// A resource path split into what `objectRef` says of it.
fn objref_of(path: &'static str) -> Option<(&'static str, ObjRef)> {
    let (group_version, rest) = if let Some(rest) = path.strip_prefix("/api/v1/") {
        ("v1", rest)
    } else {
        let rest = path.strip_prefix("/apis/")?;
        let mut parts = rest.splitn(3, '/');
        let group = parts.next()?;
        let version = parts.next()?;
        let rest = parts.next()?;
        let gv_len = group.len() + 1 + version.len();
        (&path["/apis/".len().."/apis/".len() + gv_len], rest)
    };
    let segments: Vec<&'static str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let (ns, tail) = match segments.as_slice() {
        ["namespaces", ns, tail @ ..] if !tail.is_empty() => (Some(*ns), tail.to_vec()),
        _ => (None, segments.clone()),
    };
    let resource = *tail.first()?;
    let mut obj = ObjRef::new(resource, group_version);
    if let Some(ns) = ns {
        obj = obj.ns(ns);
    }
    let verb = match tail.get(1) {
        Some(name) => {
            obj = obj.name(*name);
            "get"
        }
        None => "list",
    };
    Some((verb, obj))
}

fn unauthorized_scan(s: &mut Script) {
    let paths = [
        "/api/v1/secrets",
        "/api/v1/namespaces/kube-system/pods",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        "/api",
        "/apis",
        "/version",
        "/api/v1/namespaces/kube-system/secrets",
        "/api/v1/pods",
        "/api/v1/nodes",
        "/api/v1/namespaces",
        "/api/v1/configmaps",
        "/apis/apps/v1/deployments",
        "/api/v1/namespaces/default/serviceaccounts",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        "/api/v1/namespaces/kube-system/configmaps/aws-auth",
        "/apis/batch/v1/cronjobs",
        "/api/v1/services",
        "/api/v1/namespaces/default/secrets",
        "/metrics",
        "/api/v1/persistentvolumes",
        "/apis/certificates.k8s.io/v1/certificatesigningrequests",
        "/api/v1/namespaces/kube-system/serviceaccounts",
        "/debug/pprof/",
        "/apis/apps/v1/daemonsets",
        "/api/v1/endpoints",
        "/logs",
        "/openapi/v2",
        "/api/v1/namespaces/kube-system/secrets/kubernetes-dashboard-key-holder",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        "/api/v1/namespaces/default/pods",
    ];
    for (i, path) in paths.into_iter().enumerate() {
        if i > 0 {
            s.wait(1.0);
        }
        let (verb, obj) = match objref_of(path) {
            Some((verb, obj)) => (verb, Some(obj)),
            None => ("get", None),
        };
        let mut ev = Ev::new(verb, path, User::anonymous())
            .ip([198, 51, 100, 200])
            .ua("python-requests/2.28.2");
        if let Some(obj) = obj {
            ev = ev.obj(obj);
        }
        // Every third probe carries no token and is refused by RBAC; the rest present a
        // forged bearer token and fail authentication.
        let ev = if i % 3 == 1 {
            ev.forbidden()
        } else {
            ev.unauthorized()
        };
        s.emit(ev);
    }
}

fn impersonate_then_read(s: &mut Script) {
    let dave = User::new(
        "dave@example.com",
        &["platform-admins", "system:masters", "system:authenticated"],
    );
    let target = User::new(
        "system:serviceaccount:kube-system:generic-garbage-collector",
        &[
            "system:serviceaccounts",
            "system:serviceaccounts:kube-system",
            "system:authenticated",
        ],
    );
    let reason = "RBAC: allowed by ClusterRoleBinding \"system:controller:generic-garbage-collector\" of ClusterRole \"system:controller:generic-garbage-collector\" to ServiceAccount \"generic-garbage-collector/kube-system\"";
    let base = |verb, uri: String, obj: ObjRef| {
        Ev::new(verb, uri, dave.clone())
            .impersonating(target.clone())
            .obj(obj)
            .ip([203, 0, 113, 77])
            .ua(KUBECTL_LINUX)
            .reason(reason)
    };
    let sa = ObjRef::new("serviceaccounts", "v1")
        .ns("kube-system")
        .name("generic-garbage-collector");
    s.emit(base("get", sa.path(), sa));
    s.wait(30.0);
    let secrets = ObjRef::new("secrets", "v1").ns("kube-system");
    s.emit(base(
        "list",
        "/api/v1/namespaces/kube-system/secrets?limit=500".to_owned(),
        secrets,
    ));
}

fn peirates_discovery(s: &mut Script) {
    let user = api_worker(s, POD);
    let review = ObjRef::new("selfsubjectrulesreviews", "authorization.k8s.io/v1");
    s.emit(
        Ev::new(
            "create",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            user.clone(),
        )
        .obj(review)
        .ip(POD_IP)
        .ua(KUBECTL_LINUX)
        .reason("RBAC: allowed by ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\" to Group \"system:authenticated\"")
        .code(201),
    );
    s.wait(25.0);
    s.emit(
        Ev::new(
            "list",
            "/api/v1/namespaces/payments/secrets?limit=500",
            user,
        )
        .obj(ObjRef::new("secrets", "v1").ns("payments"))
        .ip(POD_IP)
        .ua(KUBECTL_LINUX)
        .reason(API_WORKER_REASON),
    );
}

fn configmap_credentials(s: &mut Script) {
    let aws_auth = ObjRef::new("configmaps", "v1")
        .ns("kube-system")
        .name("aws-auth");
    s.emit(by_mallory("get", aws_auth.path(), aws_auth));
    s.wait(40.0);
    let password = s.text(
        24,
        b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-_",
    );
    let aws_key = s.text(
        40,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+",
    );
    let mut body = String::from(
        "{\"kind\":\"ConfigMap\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"app-env\",\"namespace\":\"payments\",\"creationTimestamp\":null},\"data\":{\"AWS_SECRET_ACCESS_KEY\":",
    );
    super::model::push_json_str(&mut body, &aws_key);
    body.push_str(",\"DB_PASSWORD\":");
    super::model::push_json_str(&mut body, &password);
    body.push_str("}}");
    let obj = ObjRef::new("configmaps", "v1")
        .ns("payments")
        .name("app-env");
    s.emit(
        by_mallory(
            "create",
            "/api/v1/namespaces/payments/configmaps?fieldManager=kubectl-create&fieldValidation=Strict",
            obj,
        )
        .code(201)
        .request(Level::Request, body),
    );
}

fn workload_harvest(s: &mut Script) {
    for (i, (uri, res, gv)) in [
        ("/api/v1/pods?limit=500", "pods", "v1"),
        (
            "/apis/apps/v1/deployments?limit=500",
            "deployments",
            "apps/v1",
        ),
        ("/apis/batch/v1/cronjobs?limit=500", "cronjobs", "batch/v1"),
    ]
    .into_iter()
    .enumerate()
    {
        if i > 0 {
            s.wait(4.0);
        }
        s.emit(by_mallory("list", uri, ObjRef::new(res, gv)));
    }
}

fn exec_then_steal(s: &mut Script) {
    s.session(
        carol_exec("command=sh&container=api&stdin=true&stdout=true&tty=true"),
        150.0,
    );
    s.wait(40.0);
    let user = api_worker(s, POD);
    let secret = ObjRef::new("secrets", "v1")
        .ns("payments")
        .name("db-credentials");
    s.emit(
        Ev::new("get", secret.path(), user.clone())
            .obj(secret)
            .ip(POD_IP)
            .ua(KUBECTL_LINUX)
            .reason(API_WORKER_REASON),
    );
    s.wait(15.0);
    let token = ObjRef::new("serviceaccounts", "v1")
        .ns("payments")
        .name("api-worker")
        .sub("token");
    s.emit(
        Ev::new("create", token.path(), user)
            .obj(token)
            .ip(POD_IP)
            .ua(KUBECTL_LINUX)
            .reason(API_WORKER_REASON)
            .code(201)
            .request(Level::Request, token_request(86_400)),
    );
}

fn token_spraying(s: &mut Script) {
    // Long-lived tokens of legacy token secrets: no pod claims.
    let identities = [
        ("default", "jenkins"),
        ("payments", "billing-sync"),
        ("kube-system", "tiller"),
        ("monitoring", "grafana"),
        ("payments", "reporting"),
        ("kube-system", "kubernetes-dashboard"),
    ];
    for (i, (ns, sa)) in identities.into_iter().enumerate() {
        if i > 0 {
            s.wait(15.0);
        }
        let uid = s.uid();
        let user = User::service_account(ns, sa, uid);
        let review = ObjRef::new("selfsubjectaccessreviews", "authorization.k8s.io/v1");
        let body = format!(
            "{{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"metadata\":{{\"creationTimestamp\":null}},\"spec\":{{\"resourceAttributes\":{{\"namespace\":\"{ns}\",\"verb\":\"list\",\"resource\":\"secrets\"}}}},\"status\":{{\"allowed\":false}}}}"
        );
        s.emit(
            Ev::new(
                "create",
                "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                user.clone(),
            )
            .obj(review)
            .ip([203, 0, 113, 99])
            .ua(KUBECTL_LINUX)
            .reason("RBAC: allowed by ClusterRoleBinding \"system:basic-user\" of ClusterRole \"system:basic-user\" to Group \"system:authenticated\"")
            .code(201)
            .request(Level::RequestResponse, body)
            .response(format!(
                "{{\"kind\":\"SelfSubjectAccessReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"metadata\":{{\"creationTimestamp\":null}},\"spec\":{{\"resourceAttributes\":{{\"namespace\":\"{ns}\",\"verb\":\"list\",\"resource\":\"secrets\"}}}},\"status\":{{\"allowed\":false,\"reason\":\"\"}}}}"
            )),
        );
        if i % 2 == 0 {
            s.wait(2.0);
            let name = ["db-credentials", "admin-token", "aws-credentials"][i / 2 % 3];
            let obj = ObjRef::new("secrets", "v1").ns(ns).name(name);
            s.emit(
                Ev::new("get", obj.path(), user)
                    .obj(obj)
                    .ip([203, 0, 113, 99])
                    .ua(KUBECTL_LINUX)
                    .forbidden(),
            );
        }
    }
}

macro_rules! scenario {
    ($name:literal, $build:ident, $modelled:literal, [$($rule:literal),+], $exposure:literal, $description:literal) => {
        ScenarioInfo {
            name: $name,
            description: $description,
            modelled_on: $modelled,
            expect: &[$($rule),+],
            exposure: $exposure,
            build: $build,
        }
    };
}

pub(crate) static SCENARIOS: &[ScenarioInfo] = &[
    scenario!(
        "secrets-dump-all-namespaces",
        secrets_dump_all_namespaces,
        "Stratus Red Team k8s.credential-access.dump-secrets; Atomic T1552.007 \"List All Secrets\"",
        ["cw_secrets_list_all_namespaces"],
        "exposed",
        "mallory@example.com runs `kubectl get secrets -A -o yaml` from an outside address"
    ),
    scenario!(
        "secrets-list-kube-system",
        secrets_list_kube_system,
        "Atomic T1552.007 \"ListSecrets\" (kubectl get secrets -n kube-system)",
        ["cw_secrets_list_sensitive_namespace"],
        "exposed",
        "dev-ops@example.com lists the secrets of kube-system"
    ),
    scenario!(
        "secrets-scripted-client",
        secrets_scripted_client,
        "Microsoft Threat Matrix for Kubernetes \"List K8S secrets\" from a compromised pod (curl / python-requests)",
        ["cw_secrets_scripted_client"],
        "exposed",
        "payments:api-worker reads a secret with python-requests, then lists the namespace's secrets with curl, from its pod"
    ),
    scenario!(
        "secret-read-external-token",
        secret_read_external_token,
        "Stratus Red Team k8s.credential-access.steal-serviceaccount-token (token used from outside)",
        [
            "cw_secret_read_workload_external",
            "cw_sa_token_external_address"
        ],
        "exposed",
        "a stolen payments:api-worker token reads payments/stripe-api-key from an outside address"
    ),
    scenario!(
        "secrets-denied-burst",
        secrets_denied_burst,
        "Peirates \"dump secrets\" with an unprivileged token; kube-hunter secret probing",
        ["cw_secret_access_denied", "cw_secrets_denied_burst"],
        "attempted",
        "default:default tries 12 secrets across kube-system, default and payments in 90 seconds, all forbidden"
    ),
    scenario!(
        "secrets-watch",
        secrets_watch,
        "Microsoft Threat Matrix for Kubernetes \"List K8S secrets\" (kubectl get secrets -w)",
        ["cw_secrets_watch_non_system"],
        "exposed",
        "mallory@example.com watches the secrets of payments"
    ),
    scenario!(
        "secrets-read-burst",
        secrets_read_burst,
        "Atomic T1552.007 secret reads, one by one (kubectl get secret NAME -o yaml in a loop)",
        ["cw_secrets_read_many"],
        "exposed",
        "bob@example.com reads 15 different secrets of the data namespace within two minutes, from an outside address"
    ),
    scenario!(
        "token-request-kube-system",
        token_request_kube_system,
        "Stratus Red Team k8s.persistence.create-token",
        ["cw_token_request", "cw_token_request_privileged"],
        "exposed",
        "mallory@example.com mints a ten-year token for kube-system/clusterrole-aggregation-controller"
    ),
    scenario!(
        "legacy-token-secret",
        legacy_token_secret,
        "Kubernetes legacy service-account token secret (persistence, e.g. TeamTNT); Peirates token harvesting",
        [
            "cw_legacy_token_secret_created_then_read",
            "cw_legacy_token_secret_created"
        ],
        "exposed",
        "mallory@example.com creates a service-account-token secret for deployment-controller in kube-system, then reads it"
    ),
    scenario!(
        "csr-client-cert",
        csr_client_cert,
        "Stratus Red Team k8s.persistence.create-client-certificate",
        [
            "cw_csr_self_approved",
            "cw_csr_client_certificate",
            "cw_csr_privileged_subject"
        ],
        "exposed",
        "mallory@example.com requests a client certificate (kube-apiserver-client signer), approves it herself and fetches it"
    ),
    scenario!(
        "exec-into-pod",
        exec_into_pod,
        "Atomic T1609 / Microsoft Threat Matrix \"Exec into container\" (kubectl exec -it … sh)",
        ["cw_pod_exec"],
        "exposed",
        "carol@example.com opens an interactive shell in payments/api-7d9f-abcde from an outside address"
    ),
    scenario!(
        "exec-read-token",
        exec_read_token,
        "Atomic T1552.007 \"Cat the contents of a Kubernetes service account token file\"; Stratus steal-serviceaccount-token",
        ["cw_pod_exec", "cw_pod_exec_credential_command"],
        "exposed",
        "carol@example.com runs `cat /var/run/secrets/kubernetes.io/serviceaccount/token` in payments/api-7d9f-abcde"
    ),
    scenario!(
        "exec-cloud-metadata",
        exec_cloud_metadata,
        "Microsoft Threat Matrix \"Access cloud resources\" / Stratus aws.credential-access.ec2-steal-instance-credentials via a pod",
        ["cw_pod_exec", "cw_pod_exec_cloud_metadata"],
        "exposed",
        "carol@example.com curls the instance metadata service's IAM credentials from inside a pod"
    ),
    scenario!(
        "kubectl-cp-out",
        kubectl_cp_out,
        "Peirates kubectl-cp; Panther k8s_kubectl_cp_operation (tar cf - from the pod)",
        ["cw_pod_exec", "cw_pod_cp_out"],
        "exposed",
        "carol@example.com copies /etc/app/config out of a pod with `kubectl cp` (tar cf - over exec)"
    ),
    scenario!(
        "ephemeral-container",
        ephemeral_container,
        "kubectl debug (ephemeral container) as an exec alternative; Microsoft Threat Matrix \"Sidecar injection\"",
        ["cw_ephemeral_container"],
        "exposed",
        "carol@example.com adds a busybox ephemeral container to payments/api-7d9f-abcde and attaches to it"
    ),
    scenario!(
        "pod-logs-many",
        pod_logs_many,
        "Microsoft Threat Matrix \"Application credentials in configuration files\" via container logs",
        ["cw_pod_logs_unusual_identity", "cw_pod_logs_many_pods"],
        "possible",
        "ci:gitlab-runner reads the logs of 8 pods across payments, checkout and data within two minutes"
    ),
    scenario!(
        "kubelet-exec-via-nodes-proxy",
        kubelet_exec_via_nodes_proxy,
        "Stratus Red Team k8s.privilege-escalation.nodes-proxy; Peirates kubelet exec",
        ["cw_nodes_proxy_run"],
        "exposed",
        "mallory@example.com execs `cat <token>` through the apiserver's node proxy to the kubelet, then uses /run"
    ),
    scenario!(
        "kubelet-read-via-nodes-proxy",
        kubelet_read_via_nodes_proxy,
        "Peirates / kubeletctl reconnaissance through nodes/proxy (pods, configz, containerLogs)",
        ["cw_nodes_proxy_read"],
        "possible",
        "mallory@example.com reads the kubelet's pod list, config and a container's logs through the node proxy"
    ),
    scenario!(
        "anonymous-access",
        anonymous_access,
        "Microsoft Threat Matrix \"Exposed sensitive interfaces\"; Panther k8s_anonymous_api_access",
        ["cw_anonymous_allowed"],
        "exposed",
        "an anonymous caller with curl reads /version, then lists kube-system secrets through a binding to system:anonymous"
    ),
    scenario!(
        "unauthorized-scan",
        unauthorized_scan,
        "kube-hunter / internet scanners probing the API server",
        ["cw_unauthorized_burst"],
        "attempted",
        "30 requests in a minute from one outside address: forged tokens (401) and anonymous probes (403)"
    ),
    scenario!(
        "impersonate-then-read",
        impersonate_then_read,
        "Impersonation abuse (kubectl --as) of a controller's service account; Peirates switch identity",
        [
            "cw_impersonated_secret_read",
            "cw_impersonation_privileged",
            "cw_impersonation_then_secret_read"
        ],
        "exposed",
        "dave@example.com impersonates kube-system:generic-garbage-collector and lists kube-system secrets"
    ),
    scenario!(
        "peirates-discovery",
        peirates_discovery,
        "Peirates (kubectl auth can-i --list, then dump secrets) from a compromised pod",
        ["cw_access_review_then_secret_read"],
        "exposed",
        "payments:api-worker asks what it may do (selfsubjectrulesreviews), then lists payments secrets"
    ),
    scenario!(
        "configmap-credentials",
        configmap_credentials,
        "Microsoft Threat Matrix \"Application credentials in configuration files\"; Atomic T1552.007 configmap reads",
        [
            "cw_configmap_credentials_read",
            "cw_configmap_credential_values"
        ],
        "possible",
        "mallory@example.com reads kube-system/aws-auth, then creates a config map holding a password and an AWS secret key"
    ),
    scenario!(
        "workload-harvest",
        workload_harvest,
        "Atomic T1552.007 / TeamTNT environment harvesting: list every pod, deployment and cron job",
        ["cw_workloads_list_all_namespaces"],
        "possible",
        "mallory@example.com lists pods, deployments and cron jobs across all namespaces"
    ),
    scenario!(
        "exec-then-steal",
        exec_then_steal,
        "Stratus Red Team k8s.credential-access.steal-serviceaccount-token, then use of the token from the pod",
        ["cw_pod_exec", "cw_exec_then_sa_credential_access"],
        "exposed",
        "carol@example.com execs into payments/api-7d9f-abcde; the pod's token then reads a secret and mints a new token"
    ),
    scenario!(
        "token-spraying",
        token_spraying,
        "Stolen-token spraying (Peirates / kubectl auth can-i with harvested tokens)",
        ["cw_token_spraying"],
        "attempted",
        "six service-account tokens are tried from one outside address within two minutes: access reviews and forbidden secret reads"
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths() {
        let cases = [
            ("/api/v1/secrets", Some(("list", "secrets", None, None, ""))),
            (
                "/api/v1/namespaces/kube-system/configmaps/aws-auth",
                Some((
                    "get",
                    "configmaps",
                    Some("kube-system"),
                    Some("aws-auth"),
                    "",
                )),
            ),
            (
                "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                Some((
                    "list",
                    "clusterroles",
                    None,
                    None,
                    "rbac.authorization.k8s.io",
                )),
            ),
            (
                "/api/v1/namespaces",
                Some(("list", "namespaces", None, None, "")),
            ),
            ("/metrics", None),
        ];
        for (path, want) in cases {
            let got = objref_of(path).map(|(verb, o)| {
                (
                    verb,
                    o.resource,
                    o.namespace.map(|n| n.into_owned()),
                    o.name.map(|n| n.into_owned()),
                    o.api_group,
                )
            });
            let want =
                want.map(|(v, r, ns, n, g)| (v, r, ns.map(str::to_owned), n.map(str::to_owned), g));
            assert_eq!(got, want, "{path}");
        }
    }

    #[test]
    fn url_encoding() {
        assert_eq!(
            commands(&["cat", "/var/run/secrets/kubernetes.io/serviceaccount/token"]),
            "command=cat&command=%2Fvar%2Frun%2Fsecrets%2Fkubernetes.io%2Fserviceaccount%2Ftoken"
        );
    }
}
