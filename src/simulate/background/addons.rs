//! Add-ons: monitoring, cert-manager, Argo CD, external-secrets, Flux and the log shipper.

use super::Background;
use super::cluster::*;
use crate::simulate::model::{Ev, Level, ObjRef, push_time};
use std::borrow::Cow;

impl Background {
    pub(super) fn kube_state_metrics(&mut self) -> Ev {
        let (user, ip) = self.sa_of("kube-state-metrics");
        let (res, gv) = self.pick(CLUSTER_WIDE);
        let obj = ObjRef::new(res, gv);
        let reason = "RBAC: allowed by ClusterRoleBinding \"kube-state-metrics\" of ClusterRole \"kube-state-metrics\" to ServiceAccount \"kube-state-metrics/monitoring\"";
        let ua = "kube-state-metrics/v2.12.0 (linux/amd64) kubernetes/a96b8a6";
        if self.rng.u8(..4) == 0 {
            let uri = format!("{}?limit=500&resourceVersion=0", obj.path());
            Ev::new("list", uri, user)
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
        } else {
            let (uri, stage) = self.watch(&obj.path(), None);
            Ev::new("watch", uri, user)
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
                .stage(stage)
        }
    }

    pub(super) fn prometheus(&mut self) -> Ev {
        let (user, ip) = self.sa_of("prometheus-server");
        let reason = "RBAC: allowed by ClusterRoleBinding \"prometheus-server\" of ClusterRole \"prometheus-server\" to ServiceAccount \"prometheus/monitoring\"";
        let ua = "Prometheus/2.51.2";
        if self.rng.u8(..10) < 7 {
            // Scrapes through the apiserver's node proxy: kubelet and cAdvisor metrics.
            let n = self.node();
            let node = node_name(n);
            let path = if self.rng.bool() {
                "metrics"
            } else {
                "metrics/cadvisor"
            };
            let obj = ObjRef::new("nodes", "v1").name(node.clone()).sub("proxy");
            return Ev::new("get", format!("/api/v1/nodes/{node}/proxy/{path}"), user)
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason);
        }
        let (res, gv) = self.pick(&[
            ("pods", "v1"),
            ("services", "v1"),
            ("endpoints", "v1"),
            ("endpointslices", "discovery.k8s.io/v1"),
            ("nodes", "v1"),
            ("ingresses", "networking.k8s.io/v1"),
        ]);
        let obj = ObjRef::new(res, gv);
        let (uri, stage) = self.watch(&obj.path(), None);
        Ev::new("watch", uri, user)
            .obj(obj)
            .ip(ip)
            .ua(ua)
            .reason(reason)
            .stage(stage)
    }

    pub(super) fn cert_manager(&mut self) -> Ev {
        let (user, ip) = self.sa_of("cert-manager");
        let ua = "cert-manager-certificates-issuing/v1.14.4 (linux/amd64) cert-manager/f9e3a4b0c2d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4";
        let reason = "RBAC: allowed by ClusterRoleBinding \"cert-manager-controller-certificates\" of ClusterRole \"cert-manager-controller-certificates\" to ServiceAccount \"cert-manager/cert-manager\"";
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
        };
        let ns = self.pick(&[
            "payments",
            "checkout",
            "search",
            "argocd",
            "monitoring",
            "cert-manager",
        ]);
        let tls = match ns {
            "payments" => "payments-api-tls",
            "checkout" => "shop-tls",
            "search" => "search-tls",
            "argocd" => "argocd-server-tls",
            "monitoring" => "grafana-tls",
            _ => "letsencrypt-prod-account-key",
        };
        match self.rng.u8(..10) {
            0..=3 => {
                let (res, gv) = self.pick(&[
                    ("certificates", "cert-manager.io/v1"),
                    ("certificaterequests", "cert-manager.io/v1"),
                    ("orders", "acme.cert-manager.io/v1"),
                    ("issuers", "cert-manager.io/v1"),
                ]);
                let obj = ObjRef::new(res, gv);
                let (uri, stage) = self.watch(&obj.path(), None);
                base("watch", uri, obj).stage(stage)
            }
            4..=5 => {
                let obj = ObjRef::new("secrets", "v1").ns(ns);
                let (uri, stage) = self.watch(
                    &obj.path(),
                    Some("labelSelector=controller.cert-manager.io%2Ffao%3Dtrue".to_owned()),
                );
                base("watch", uri, obj).stage(stage)
            }
            6..=8 => {
                let obj = ObjRef::new("secrets", "v1").ns(ns).name(tls);
                base("get", obj.path(), obj)
            }
            _ => {
                let obj = ObjRef::new("secrets", "v1")
                    .ns(ns)
                    .name(tls)
                    .rv(self.next_rv());
                base("update", obj.path(), obj)
            }
        }
    }

    pub(super) fn argocd(&mut self) -> Ev {
        let (user, ip) = self.sa_of("argocd-application-controller");
        let ua = "argocd-application-controller/v2.10.7+b060053 (linux/amd64) kubernetes/$Format";
        let reason = "RBAC: allowed by ClusterRoleBinding \"argocd-application-controller\" of ClusterRole \"argocd-application-controller\" to ServiceAccount \"argocd-application-controller/argocd\"";
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
        };
        match self.rng.u8(..10) {
            0..=5 => {
                let (res, gv) = self.pick(ARGO_WATCHES);
                let obj = ObjRef::new(res, gv);
                if self.rng.u8(..5) == 0 {
                    let uri = format!("{}?limit=500", obj.path());
                    base("list", uri, obj)
                } else {
                    let (uri, stage) = self.watch(&obj.path(), None);
                    base("watch", uri, obj).stage(stage)
                }
            }
            6 => {
                let obj = ObjRef::new("secrets", "v1").ns("argocd");
                let (uri, stage) = self.watch(
                    &obj.path(),
                    Some("labelSelector=argocd.argoproj.io%2Fsecret-type".to_owned()),
                );
                base("watch", uri, obj).stage(stage)
            }
            _ => {
                let app = self.pick(&APP_NAMESPACES);
                let obj = ObjRef::new("applications", "argoproj.io/v1alpha1")
                    .ns("argocd")
                    .name(app)
                    .rv(self.next_rv());
                let revision = format!(
                    "{:016x}{:016x}{:08x}",
                    self.rng.u64(..),
                    self.rng.u64(..),
                    self.rng.u32(..)
                );
                let mut at = String::new();
                push_time(&mut at, self.now);
                let body = format!(
                    "{{\"status\":{{\"reconciledAt\":\"{}Z\",\"sync\":{{\"comparedTo\":{{\"destination\":{{\"namespace\":\"{app}\",\"server\":\"https://kubernetes.default.svc\"}},\"source\":{{\"path\":\"apps/{app}/overlays/prod\",\"repoURL\":\"https://git.example.com/platform/deploy.git\",\"targetRevision\":\"main\"}}}},\"revision\":\"{revision}\",\"status\":\"Synced\"}},\"health\":{{\"status\":\"Healthy\"}}}}}}",
                    &at[..19]
                );
                base("patch", obj.path(), obj).request(Level::Request, body)
            }
        }
    }

    pub(super) fn external_secrets(&mut self) -> Ev {
        let (user, ip) = self.sa_of("external-secrets");
        let ua = "external-secrets/v0.9.14 (linux/amd64) kubernetes/$Format";
        let reason = "RBAC: allowed by ClusterRoleBinding \"external-secrets-controller\" of ClusterRole \"external-secrets-controller\" to ServiceAccount \"external-secrets/external-secrets\"";
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
        };
        let (ns, name) = self.pick(&[
            ("payments", "ledger-db"),
            ("payments", "stripe-webhook-secret"),
            ("checkout", "redis-password"),
            ("search", "opensearch-credentials"),
            ("data", "etl-s3-credentials"),
            ("monitoring", "grafana-admin"),
        ]);
        match self.rng.u8(..10) {
            0..=2 => {
                let obj = ObjRef::new("externalsecrets", "external-secrets.io/v1beta1");
                let (uri, stage) = self.watch(&obj.path(), None);
                base("watch", uri, obj).stage(stage)
            }
            3..=4 => {
                let obj = ObjRef::new("externalsecrets", "external-secrets.io/v1beta1")
                    .ns(ns)
                    .name(name)
                    .sub("status")
                    .rv(self.next_rv());
                base("update", obj.path(), obj)
            }
            5..=6 => {
                let obj = ObjRef::new("secrets", "v1").ns(ns).name(name);
                base("get", obj.path(), obj)
            }
            7 => {
                let obj = ObjRef::new("secrets", "v1").ns(ns).name(name);
                let uri = format!("/api/v1/namespaces/{ns}/secrets?fieldManager=external-secrets");
                // Mostly a secret that is there already; now and then a new one.
                if self.rng.u8(..4) == 0 {
                    base("create", uri, obj).code(201)
                } else {
                    base("create", uri, obj).failed(
                        409,
                        "AlreadyExists",
                        format!("secrets \"{name}\" already exists"),
                    )
                }
            }
            _ => {
                let obj = ObjRef::new("secrets", "v1")
                    .ns(ns)
                    .name(name)
                    .rv(self.next_rv());
                let uri = format!("{}?fieldManager=external-secrets", obj.path());
                base("update", uri, obj)
            }
        }
    }

    pub(super) fn flux(&mut self) -> Ev {
        let kustomize = self.rng.u8(..3) > 0;
        let app = if kustomize {
            "kustomize-controller"
        } else {
            "source-controller"
        };
        let (user, ip) = self.sa_of(app);
        let ua = if kustomize {
            "kustomize-controller/v1.2.2 (linux/amd64) kubernetes/$Format"
        } else {
            "source-controller/v1.2.4 (linux/amd64) kubernetes/$Format"
        };
        let reason = "RBAC: allowed by ClusterRoleBinding \"cluster-reconciler-flux-system\" of ClusterRole \"cluster-admin\" to ServiceAccount \"kustomize-controller/flux-system\"";
        let reason = if kustomize {
            Cow::Borrowed(reason)
        } else {
            Cow::Owned(reason.replace("kustomize-controller/", "source-controller/"))
        };
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason.clone())
        };
        if !kustomize {
            let obj = ObjRef::new("gitrepositories", "source.toolkit.fluxcd.io/v1")
                .ns("flux-system")
                .name("platform");
            return if self.rng.bool() {
                let obj = obj.sub("status").rv(self.next_rv());
                base("patch", obj.path(), obj)
            } else {
                base("get", obj.path(), obj)
            };
        }
        let ns = self.pick(&["ingress-nginx", "logging", "monitoring", "cert-manager"]);
        let (res, gv, name) = self.pick(&[
            ("deployments", "apps/v1", "controller"),
            ("services", "v1", "controller"),
            ("configmaps", "v1", "config"),
            ("serviceaccounts", "v1", "controller"),
            ("kustomizations", "kustomize.toolkit.fluxcd.io/v1", "infra"),
        ]);
        let name = format!("{ns}-{name}");
        if res == "kustomizations" {
            let obj = ObjRef::new(res, gv)
                .ns("flux-system")
                .name(name)
                .sub("status")
                .rv(self.next_rv());
            return base("patch", obj.path(), obj);
        }
        let obj = ObjRef::new(res, gv).ns(ns).name(name);
        if self.rng.bool() {
            base("get", obj.path(), obj)
        } else {
            let uri = format!(
                "{}?fieldManager=kustomize-controller&force=true",
                obj.path()
            );
            base("patch", uri, obj.rv(self.next_rv()))
        }
    }

    pub(super) fn fluent_bit(&mut self) -> Ev {
        let n = self.node();
        let agent = self.by_node[n]
            .iter()
            .copied()
            .find(|&p| APPS[self.pods[p].app].name == "fluent-bit")
            .unwrap_or(0);
        let agent_pod = &self.pods[agent];
        let user = self.pod_users[agent].clone();
        let ip = agent_pod.ip;
        let p = self.pod_on(n);
        let obj = ObjRef::new("pods", "v1")
            .ns(APPS[self.pods[p].app].ns)
            .name(self.pods[p].name.clone());
        Ev::new("get", obj.path(), user)
            .obj(obj)
            .ip(ip)
            .ua("fluent-bit/3.0.3")
            .reason("RBAC: allowed by ClusterRoleBinding \"fluent-bit\" of ClusterRole \"fluent-bit-read\" to ServiceAccount \"fluent-bit/logging\"")
    }
}
