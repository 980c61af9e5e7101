//! Benign traffic of a busy EKS-like cluster (21 nodes, ~200 requests a second): node and
//! leader-election leases, controllers, the scheduler, kubelets, node agents, monitoring,
//! GitOps, cert-manager, external-secrets, CI, and a handful of people with kubectl.
//!
//! Nothing here may look like an attack (the scenarios are the attacks): no cluster-wide secret
//! lists but by kube-state-metrics, the garbage collector and Argo CD; no scripted or scanner
//! user agents; no public addresses; anonymous requests only to health and version endpoints;
//! no impersonation; exec only rarely, by a person into their own team's pod with a shell; CSRs
//! only by kubelets and bootstrap tokens; pod logs one or two at a time.

mod addons;
mod cluster;
mod people;
mod system;

use super::model::{Ev, Micros, User, pod_suffix};
use super::{START, STEP_MEAN};
use cluster::{APPS, DaemonSet, Deployment, HUMANS, NODE_IPS, StatefulSet, node_ip};
pub(crate) use cluster::{KUBECTL_LINUX, node_name, sa_uid};
use fastrand::Rng;
use std::collections::VecDeque;

struct Pod {
    app: usize,
    name: String,
    uid: u128,
    node: usize,
    ip: [u8; 4],
    jti: u128,
}

/// One generator of benign events, in time order.
pub(crate) struct Background {
    rng: Rng,
    now: Micros,
    rv: u64,
    pods: Vec<Pod>,
    /// Pod indices per node.
    by_node: Vec<Vec<usize>>,
    /// First pod of each app.
    first_pod: Vec<usize>,
    /// The rest of a multi-request action; `true` keeps the previous event's time.
    queue: VecDeque<(Ev, bool)>,
    /// When each person last read pod logs.
    last_logs: Vec<Micros>,
    /// Each pod's service account as its bound token presents it.
    pod_users: Vec<User>,
}

/// (weight per 100 000, generator).
type Gen = fn(&mut Background) -> Ev;
const MIX: &[(u32, Gen)] = &[
    (17_000, Background::node_lease),
    (4_500, Background::leader_lease),
    (17_000, Background::controller),
    (3_000, Background::scheduler),
    (20_500, Background::kubelet),
    (3_500, Background::node_agent),
    (1_000, Background::coredns),
    (2_500, Background::kube_state_metrics),
    (3_500, Background::prometheus),
    (1_500, Background::cert_manager),
    (3_000, Background::argocd),
    (1_000, Background::external_secrets),
    (2_000, Background::flux),
    (8_000, Background::events),
    (1_500, Background::human),
    (1_500, Background::fluent_bit),
    (1_200, Background::ci),
    (800, Background::health),
    (50, Background::human_logs),
    (25, Background::helm),
    (15, Background::node_csr),
    (2, Background::human_exec),
    (2, Background::bootstrap_csr),
];

impl Background {
    pub(crate) fn new(seed: u64) -> Background {
        let mut rng = Rng::with_seed(seed);
        let mut pods = Vec::new();
        let mut first_pod = Vec::with_capacity(APPS.len());
        let mut by_node = vec![Vec::new(); NODE_IPS.len()];
        for (a, app) in APPS.iter().enumerate() {
            first_pod.push(pods.len());
            let hash = format!("{:x}", rng.u64(0x5_0000_0000..0xf_ffff_ffff));
            let count = if app.kind == DaemonSet {
                NODE_IPS.len()
            } else {
                app.replicas
            };
            for i in 0..count {
                let name = match app.kind {
                    Deployment => format!("{}-{hash}-{}", app.name, pod_suffix(rng.u64(..))),
                    StatefulSet => format!("{}-{i}", app.name),
                    DaemonSet => {
                        format!("{}-{}", app.name, pod_suffix(rng.u64(..)))
                    }
                };
                let node = if app.kind == DaemonSet {
                    i
                } else {
                    rng.usize(..NODE_IPS.len())
                };
                // Host-network agents use the node's address; other pods one of the pod range.
                let ip = if matches!(app.name, "aws-node" | "kube-proxy") {
                    node_ip(node)
                } else {
                    [10, 244, rng.u8(8..60), rng.u8(2..254)]
                };
                by_node[node].push(pods.len());
                pods.push(Pod {
                    app: a,
                    name,
                    uid: rng.u128(..),
                    node,
                    ip,
                    jti: rng.u128(..),
                });
            }
        }
        let pod_users = pods
            .iter()
            .map(|pod| {
                let a = &APPS[pod.app];
                User::service_account(a.ns, a.sa, sa_uid(a.ns, a.sa)).bound_to_pod(
                    &pod.name,
                    pod.uid,
                    &node_name(pod.node),
                    pod.jti,
                )
            })
            .collect();
        Background {
            rng,
            now: START,
            rv: 48_211_904,
            pods,
            by_node,
            first_pod,
            queue: VecDeque::new(),
            last_logs: vec![Micros::MIN / 2; HUMANS.len()],
            pod_users,
        }
    }

    /// The next benign event.
    pub(crate) fn next_event(&mut self) -> Ev {
        let (mut ev, same_time) = match self.queue.pop_front() {
            Some(queued) => queued,
            None => {
                let total: u32 = MIX.iter().map(|(w, _)| w).sum();
                let mut pick = self.rng.u32(..total);
                let mut chosen = MIX[0].1;
                for (w, g) in MIX {
                    if pick < *w {
                        chosen = *g;
                        break;
                    }
                    pick -= w;
                }
                (chosen(self), false)
            }
        };
        if !same_time {
            self.now += self.rng.i64(STEP_MEAN / 10..STEP_MEAN * 19 / 10);
        }
        ev.received = self.now;
        // A queued later stage carries its duration in `staged`.
        ev.staged = match ev.staged {
            0 => self.now + self.latency(&ev),
            duration => self.now + duration,
        };
        if ev.audit_id == 0 {
            ev.audit_id = self.rng.u128(..);
        }
        ev
    }

    fn latency(&mut self, ev: &Ev) -> Micros {
        match (ev.verb, ev.stage) {
            ("watch", "ResponseComplete") => self.rng.i64(300_000_000..600_000_000),
            ("watch", _) => self.rng.i64(200..2_000),
            ("list", _) => self.rng.i64(2_000..180_000),
            ("create" | "update" | "patch" | "delete", _) => self.rng.i64(2_000..40_000),
            _ => self.rng.i64(400..12_000),
        }
    }

    fn next_rv(&mut self) -> u64 {
        self.rv += self.rng.u64(1..40);
        self.rv
    }

    fn node(&mut self) -> usize {
        self.rng.usize(..NODE_IPS.len())
    }

    /// A pod running on node `n`.
    fn pod_on(&mut self, n: usize) -> usize {
        match self.by_node[n].len() {
            0 => 0,
            len => self.by_node[n][self.rng.usize(..len)],
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.rng.usize(..items.len())]
    }

    fn pod_of(&mut self, app: &str) -> usize {
        let a = APPS.iter().position(|x| x.name == app).unwrap_or(0);
        let first = self.first_pod[a];
        let count = self.pods[first..]
            .iter()
            .take_while(|p| p.app == a)
            .count()
            .max(1);
        first + self.rng.usize(..count)
    }

    /// A pod in one of the namespaces given.
    fn pod_in(&mut self, namespaces: &[&str]) -> usize {
        let candidates: Vec<usize> = (0..self.pods.len())
            .filter(|&i| namespaces.contains(&APPS[self.pods[i].app].ns))
            .collect();
        match candidates.len() {
            0 => self.pod_of("hello"),
            len => candidates[self.rng.usize(..len)],
        }
    }

    /// A Deployment of the namespace, if it has one.
    fn deployment_in(&mut self, ns: &str) -> Option<&'static str> {
        let names: Vec<&'static str> = APPS
            .iter()
            .filter(|a| a.ns == ns && a.kind == Deployment)
            .map(|a| a.name)
            .collect();
        match names.len() {
            0 => None,
            len => Some(names[self.rng.usize(..len)]),
        }
    }

    /// The service account of an app's pods, as its in-pod (bound) token presents it.
    fn sa_of(&mut self, app: &str) -> (User, [u8; 4]) {
        let p = self.pod_of(app);
        let pod = &self.pods[p];
        let user = self.pod_users[p].clone();
        (user, pod.ip)
    }

    fn watch_query(&mut self, selector: Option<String>) -> String {
        let timeout = self.rng.u32(300..600);
        let rv = self.rv.saturating_sub(self.rng.u64(0..5_000));
        let mut q = String::from("?allowWatchBookmarks=true");
        if let Some(s) = selector {
            q.push('&');
            q.push_str(&s);
        }
        q.push_str(&format!(
            "&resourceVersion={rv}&timeout={}m{}s&timeoutSeconds={timeout}&watch=true",
            timeout / 60,
            timeout % 60
        ));
        q
    }

    /// A watch of `collection`: its URI (with `selector`) and the stage it is logged at.
    fn watch(&mut self, collection: &str, selector: Option<String>) -> (String, &'static str) {
        let q = self.watch_query(selector);
        (format!("{collection}{q}"), self.watch_stage())
    }

    fn watch_stage(&mut self) -> &'static str {
        if self.rng.bool() {
            "ResponseStarted"
        } else {
            "ResponseComplete"
        }
    }

    // ---- the mix -------------------------------------------------------------------------
}

/// Every person of the background, for tests.
#[cfg(test)]
pub(crate) fn human_names() -> Vec<&'static str> {
    HUMANS.iter().map(|h| h.name).collect()
}
