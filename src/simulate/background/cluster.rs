//! The simulated cluster's inventory: nodes, workloads, people, controllers and their clients.
//! An EKS-like cluster in eu-west-1 running Kubernetes v1.29.4.

use crate::simulate::model::{fnv, fold};
use fastrand::Rng;

pub(crate) const K8S: &str = "v1.29.4";
pub(crate) const KUBECTL_LINUX: &str = "kubectl/v1.29.4 (linux/amd64) kubernetes/55019c8";
pub(crate) const KUBECTL_MAC: &str = "kubectl/v1.29.4 (darwin/arm64) kubernetes/55019c8";
pub(crate) const KUBECTL_WIN: &str = "kubectl/v1.28.8 (windows/amd64) kubernetes/fc11ff3";
pub(crate) const K9S: &str = "k9s/v0.32.4 (darwin/arm64) kubernetes/$Format";
pub(crate) const LENS: &str = "Lens/6.5.2 (darwin/arm64) kubernetes/$Format";
pub(crate) const KUBELET_UA: &str = "kubelet/v1.29.4 (linux/amd64) kubernetes/55019c8";

/// The worker nodes: `ip-10-0-<a>-<b>.eu-west-1.compute.internal` at 10.0.a.b.
#[rustfmt::skip]
pub(crate) const NODE_IPS: [[u8; 2]; 21] = [
    [1, 11], [1, 42], [1, 77], [1, 103], [1, 150], [1, 201], [1, 230],
    [2, 14], [2, 42], [2, 88], [2, 119], [2, 163], [2, 205], [2, 241],
    [3, 9], [3, 57], [3, 96], [3, 131], [3, 178], [3, 212], [3, 250],
];

pub(crate) fn node_name(i: usize) -> String {
    let [a, b] = NODE_IPS[i % NODE_IPS.len()];
    format!("ip-10-0-{a}-{b}.eu-west-1.compute.internal")
}

pub(crate) fn node_ip(i: usize) -> [u8; 4] {
    let [a, b] = NODE_IPS[i % NODE_IPS.len()];
    [10, 0, a, b]
}

/// Control-plane addresses (the apiserver's view of the controller manager and scheduler).
pub(crate) const CONTROL_PLANE: [[u8; 4]; 2] = [[10, 0, 100, 12], [10, 0, 101, 34]];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
}

pub(crate) use Kind::{DaemonSet, Deployment, StatefulSet};

/// A workload and what its pods mount.
pub(crate) struct App {
    pub ns: &'static str,
    pub name: &'static str,
    pub sa: &'static str,
    pub kind: Kind,
    /// Pods (a DaemonSet has one per node whatever this says).
    pub replicas: usize,
    pub secrets: &'static [&'static str],
    pub configmaps: &'static [&'static str],
    pub image: &'static str,
}

macro_rules! apps {
    ($(($ns:literal, $name:literal, $sa:literal, $kind:ident, $replicas:literal, [$($secret:literal),*], [$($cm:literal),*], $image:literal)),* $(,)?) => {
        &[$(App { ns: $ns, name: $name, sa: $sa, kind: $kind, replicas: $replicas, secrets: &[$($secret),*], configmaps: &[$($cm),*], image: $image }),*]
    };
}

/// (namespace, name, service account, kind, replicas, secrets mounted, config maps mounted, image)
#[rustfmt::skip]
pub(crate) static APPS: &[App] = apps![
    ("payments", "api", "api-worker", Deployment, 3, ["db-credentials", "stripe-api-key"], ["api-config"], "registry.example.com/payments/api:1.42.3"),
    ("payments", "ledger", "ledger", Deployment, 2, ["ledger-db"], ["ledger-config"], "registry.example.com/payments/ledger:2.7.0"),
    ("payments", "stripe-webhook", "stripe-webhook", Deployment, 2, ["stripe-webhook-secret"], [], "registry.example.com/payments/stripe-webhook:0.9.14"),
    ("checkout", "frontend", "default", Deployment, 4, ["frontend-session-key"], ["frontend-config"], "registry.example.com/checkout/frontend:5.3.1"),
    ("checkout", "cart", "cart", Deployment, 3, ["redis-password"], ["cart-config"], "registry.example.com/checkout/cart:3.1.0"),
    ("search", "indexer", "indexer", StatefulSet, 3, ["opensearch-credentials"], ["indexer-config"], "registry.example.com/search/indexer:8.2.4"),
    ("search", "search-api", "search-api", Deployment, 3, ["opensearch-credentials"], ["search-api-config"], "registry.example.com/search/api:8.2.4"),
    ("data", "postgres", "postgres", StatefulSet, 2, ["postgres-superuser", "postgres-replication"], ["postgres-config"], "registry.example.com/data/postgres:16.2"),
    ("data", "etl-worker", "etl", Deployment, 2, ["etl-s3-credentials"], ["etl-config"], "registry.example.com/data/etl:2026.2.1"),
    ("default", "hello", "default", Deployment, 1, [], ["hello-config"], "registry.example.com/platform/hello:1.0.0"),
    ("monitoring", "prometheus-server", "prometheus", StatefulSet, 2, [], ["prometheus-config", "prometheus-rules"], "quay.io/prometheus/prometheus:v2.51.2"),
    ("monitoring", "kube-state-metrics", "kube-state-metrics", Deployment, 1, [], [], "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0"),
    ("monitoring", "grafana", "grafana-server", Deployment, 1, ["grafana-admin"], ["grafana-dashboards"], "docker.io/grafana/grafana:10.4.1"),
    ("cert-manager", "cert-manager", "cert-manager", Deployment, 1, [], [], "quay.io/jetstack/cert-manager-controller:v1.14.4"),
    ("argocd", "argocd-application-controller", "argocd-application-controller", StatefulSet, 1, ["argocd-secret"], ["argocd-cm", "argocd-rbac-cm"], "quay.io/argoproj/argocd:v2.10.7"),
    ("argocd", "argocd-repo-server", "argocd-repo-server", Deployment, 2, [], ["argocd-cm"], "quay.io/argoproj/argocd:v2.10.7"),
    ("external-secrets", "external-secrets", "external-secrets", Deployment, 1, [], [], "ghcr.io/external-secrets/external-secrets:v0.9.14"),
    ("flux-system", "kustomize-controller", "kustomize-controller", Deployment, 1, [], [], "ghcr.io/fluxcd/kustomize-controller:v1.2.2"),
    ("flux-system", "source-controller", "source-controller", Deployment, 1, [], [], "ghcr.io/fluxcd/source-controller:v1.2.4"),
    ("ingress-nginx", "ingress-nginx-controller", "ingress-nginx", Deployment, 2, [], ["ingress-nginx-controller"], "registry.k8s.io/ingress-nginx/controller:v1.10.0"),
    ("kube-system", "coredns", "coredns", Deployment, 2, [], ["coredns"], "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/coredns:v1.11.1-eksbuild.4"),
    ("ci", "gitlab-runner", "gitlab-runner", Deployment, 1, ["gitlab-runner-token"], ["gitlab-runner-config"], "registry.gitlab.com/gitlab-org/gitlab-runner:v16.11.0"),
    ("kube-system", "aws-node", "aws-node", DaemonSet, 1, [], ["amazon-vpc-cni"], "602401143452.dkr.ecr.eu-west-1.amazonaws.com/amazon-k8s-cni:v1.18.1-eksbuild.1"),
    ("kube-system", "kube-proxy", "kube-proxy", DaemonSet, 1, [], ["kube-proxy", "kube-proxy-config"], "602401143452.dkr.ecr.eu-west-1.amazonaws.com/eks/kube-proxy:v1.29.3-eksbuild.2"),
    ("logging", "fluent-bit", "fluent-bit", DaemonSet, 1, [], ["fluent-bit-config"], "cr.fluentbit.io/fluent/fluent-bit:3.0.3"),
];

/// Namespaces the people and CI deploy to.
pub(crate) const APP_NAMESPACES: [&str; 5] = ["payments", "checkout", "search", "data", "default"];

/// A person: groups, VPN address, clients, and the namespaces of their team.
pub(crate) struct Human {
    pub name: &'static str,
    pub groups: &'static [&'static str],
    pub ip: [u8; 4],
    pub uas: &'static [&'static str],
    pub namespaces: &'static [&'static str],
}

#[rustfmt::skip]
pub(crate) static HUMANS: &[Human] = &[
    Human { name: "alice@example.com", groups: &["developers", "system:authenticated"], ip: [10, 100, 12, 34], uas: &[KUBECTL_MAC, K9S], namespaces: &["payments", "checkout"] },
    Human { name: "bob@example.com", groups: &["developers", "system:authenticated"], ip: [10, 100, 7, 21], uas: &[K9S, KUBECTL_MAC], namespaces: &["data", "search"] },
    Human { name: "carol@example.com", groups: &["developers", "system:authenticated"], ip: [10, 100, 9, 45], uas: &[KUBECTL_LINUX], namespaces: &["payments", "checkout"] },
    Human { name: "dave@example.com", groups: &["platform-admins", "system:masters", "system:authenticated"], ip: [10, 100, 3, 8], uas: &[KUBECTL_LINUX, K9S], namespaces: &["monitoring", "ingress-nginx", "cert-manager", "kube-system"] },
    Human { name: "erin@example.com", groups: &["developers", "system:authenticated"], ip: [10, 101, 2, 77], uas: &[LENS, KUBECTL_WIN], namespaces: &["search", "data"] },
    Human { name: "frank@example.com", groups: &["sre", "system:masters", "system:authenticated"], ip: [10, 101, 4, 19], uas: &[KUBECTL_MAC], namespaces: &["monitoring", "logging", "argocd", "default"] },
];

/// kube-controller-manager's controllers and the resources each works on.
#[rustfmt::skip]
pub(crate) const CONTROLLERS: &[(&str, &[(&str, &str)])] = &[
    ("replicaset-controller", &[("replicasets", "apps/v1"), ("pods", "v1")]),
    ("deployment-controller", &[("deployments", "apps/v1"), ("replicasets", "apps/v1")]),
    ("endpointslice-controller", &[("endpointslices", "discovery.k8s.io/v1"), ("services", "v1")]),
    ("endpointslicemirroring-controller", &[("endpointslices", "discovery.k8s.io/v1")]),
    ("statefulset-controller", &[("statefulsets", "apps/v1"), ("pods", "v1")]),
    ("daemon-set-controller", &[("daemonsets", "apps/v1"), ("controllerrevisions", "apps/v1")]),
    ("job-controller", &[("jobs", "batch/v1"), ("pods", "v1")]),
    ("cronjob-controller", &[("cronjobs", "batch/v1"), ("jobs", "batch/v1")]),
    ("horizontal-pod-autoscaler", &[("horizontalpodautoscalers", "autoscaling/v2")]),
    ("node-controller", &[("nodes", "v1")]),
    ("namespace-controller", &[("namespaces", "v1")]),
    ("generic-garbage-collector", &[("pods", "v1"), ("replicasets", "apps/v1")]),
    ("pvc-protection-controller", &[("persistentvolumeclaims", "v1")]),
    ("ttl-after-finished-controller", &[("jobs", "batch/v1")]),
];

/// What the garbage collector and kube-state-metrics list and watch cluster-wide.
#[rustfmt::skip]
pub(crate) const CLUSTER_WIDE: &[(&str, &str)] = &[
    ("pods", "v1"), ("secrets", "v1"), ("configmaps", "v1"), ("services", "v1"),
    ("namespaces", "v1"), ("nodes", "v1"), ("persistentvolumeclaims", "v1"),
    ("deployments", "apps/v1"), ("replicasets", "apps/v1"), ("statefulsets", "apps/v1"),
    ("daemonsets", "apps/v1"), ("jobs", "batch/v1"), ("cronjobs", "batch/v1"),
    ("ingresses", "networking.k8s.io/v1"), ("leases", "coordination.k8s.io/v1"),
    ("certificatesigningrequests", "certificates.k8s.io/v1"),
    ("horizontalpodautoscalers", "autoscaling/v2"),
];

/// What Argo CD's cluster cache watches everywhere (secrets only in its own namespace).
#[rustfmt::skip]
pub(crate) const ARGO_WATCHES: &[(&str, &str)] = &[
    ("pods", "v1"), ("services", "v1"), ("configmaps", "v1"), ("serviceaccounts", "v1"),
    ("deployments", "apps/v1"), ("replicasets", "apps/v1"), ("statefulsets", "apps/v1"),
    ("ingresses", "networking.k8s.io/v1"), ("endpointslices", "discovery.k8s.io/v1"),
    ("roles", "rbac.authorization.k8s.io/v1"), ("rolebindings", "rbac.authorization.k8s.io/v1"),
    ("cronjobs", "batch/v1"),
];

/// A stable uid for a service account.
pub(crate) fn sa_uid(ns: &str, name: &str) -> u128 {
    fold(u128::from(fnv(ns)) << 64 | u128::from(fnv(name)), 0x5341)
}

/// A base64 PEM certificate request of a plausible size (random content).
pub(crate) fn fake_csr(rng: &mut Rng) -> String {
    use base64::Engine;
    let engine = base64::engine::general_purpose::STANDARD;
    let der: Vec<u8> = (0..420).map(|_| rng.u8(..)).collect();
    let body = engine.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE REQUEST-----\n");
    for chunk in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).unwrap_or(""));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE REQUEST-----\n");
    engine.encode(pem)
}
