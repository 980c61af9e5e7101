//! The cluster running itself: leases, controllers, the scheduler, kubelets, node agents,
//! DNS, events and node certificates.

use super::Background;
use super::cluster::*;
use crate::simulate::model::{Ev, Level, ObjRef, Str, User, pod_suffix, push_time, uuid};
use std::borrow::Cow;

impl Background {
    pub(super) fn node_lease(&mut self) -> Ev {
        let n = self.node();
        let node = node_name(n);
        let verb = if self.rng.u8(..10) < 8 {
            "update"
        } else {
            "get"
        };
        let obj = ObjRef::new("leases", "coordination.k8s.io/v1")
            .ns("kube-node-lease")
            .name(node.clone());
        let obj = if verb == "update" {
            let rv = self.next_rv();
            obj.rv(rv)
        } else {
            obj
        };
        let uri = format!("{}?timeout=10s", obj.path());
        Ev::new(verb, uri, User::node(&node))
            .obj(obj)
            .ip(node_ip(n))
            .ua(KUBELET_UA)
    }

    pub(super) fn leader_lease(&mut self) -> Ev {
        let which = self.rng.u8(..10);
        let (user, ua, ip, name, reason): (User, Str, [u8; 4], &str, Str) = match which {
            0..=4 => (
                User::new("system:kube-controller-manager", &["system:authenticated"]),
                Cow::Owned(format!(
                    "kube-controller-manager/{K8S} (linux/amd64) kubernetes/55019c8/leader-election"
                )),
                CONTROL_PLANE[0],
                "kube-controller-manager",
                Cow::Borrowed(
                    "RBAC: allowed by ClusterRoleBinding \"system:kube-controller-manager\" of ClusterRole \"system:kube-controller-manager\" to User \"system:kube-controller-manager\"",
                ),
            ),
            5..=8 => (
                User::new("system:kube-scheduler", &["system:authenticated"]),
                Cow::Owned(format!(
                    "kube-scheduler/{K8S} (linux/amd64) kubernetes/55019c8/leader-election"
                )),
                CONTROL_PLANE[1],
                "kube-scheduler",
                Cow::Borrowed(
                    "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\"",
                ),
            ),
            _ => {
                let (user, ip) = self.sa_of("cert-manager");
                (
                    user,
                    Cow::Borrowed(
                        "cert-manager-leader-election/v1.14.4 (linux/amd64) cert-manager/f9e3a4b0c2d8e7a6b5c4d3e2f1a0b9c8d7e6f5a4",
                    ),
                    ip,
                    "cert-manager-controller",
                    Cow::Borrowed(
                        "RBAC: allowed by RoleBinding \"cert-manager:leaderelection/kube-system\" of Role \"cert-manager:leaderelection\" to ServiceAccount \"cert-manager/cert-manager\"",
                    ),
                )
            }
        };
        let verb = if self.rng.bool() { "update" } else { "get" };
        let mut obj = ObjRef::new("leases", "coordination.k8s.io/v1")
            .ns("kube-system")
            .name(name);
        if verb == "update" {
            obj = obj.rv(self.next_rv());
        }
        let uri = format!("{}?timeout=5s", obj.path());
        let mut ev = Ev::new(verb, uri, user)
            .obj(obj)
            .ip(ip)
            .ua(ua)
            .reason(reason);
        if verb == "update" && self.rng.u8(..10) < 3 {
            ev = ev.failed(
                409,
                "Conflict",
                format!("Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
            );
        }
        ev
    }

    pub(super) fn controller(&mut self) -> Ev {
        let (c, resources) = self.pick(CONTROLLERS);
        let user = User::service_account("kube-system", c, sa_uid("kube-system", c));
        let ua = format!(
            "kube-controller-manager/{K8S} (linux/amd64) kubernetes/55019c8/system:serviceaccount:kube-system:{c}"
        );
        let ip = CONTROL_PLANE[0];
        let reason = format!(
            "RBAC: allowed by ClusterRoleBinding \"system:controller:{c}\" of ClusterRole \"system:controller:{c}\" to ServiceAccount \"{c}/kube-system\""
        );
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(ua.clone())
                .reason(reason.clone())
        };
        // The garbage collector keeps metadata informers on every resource, secrets included.
        if c == "generic-garbage-collector" && self.rng.u8(..3) > 0 {
            let (res, gv) = self.pick(CLUSTER_WIDE);
            let obj = ObjRef::new(res, gv);
            return if self.rng.u8(..4) == 0 {
                let uri = format!("{}?limit=500&resourceVersion=0", obj.path());
                base("list", uri, obj)
            } else {
                let (uri, stage) = self.watch(&obj.path(), None);
                base("watch", uri, obj).stage(stage)
            };
        }
        // The namespace controller sweeps a deleted preview namespace.
        if c == "namespace-controller" && self.rng.bool() {
            let ns = format!("preview-pr-{}", 4100 + self.rng.u32(..400));
            let (res, gv) = self.pick(&CLUSTER_WIDE[..12]);
            let obj = ObjRef::new(res, gv).ns(ns);
            let (verb, q) = if self.rng.bool() {
                ("list", "?limit=500")
            } else {
                ("deletecollection", "")
            };
            let uri = format!("{}{q}", obj.path());
            return base(verb, uri, obj);
        }
        let (res, gv) = self.pick(resources);
        let verb = match self.rng.u8(..100) {
            0..=29 => "get",
            30..=39 => "list",
            40..=54 => "watch",
            55..=79 => "update",
            80..=91 => "patch",
            92..=97 => "create",
            _ => "delete",
        };
        let cluster_scoped = matches!(res, "nodes" | "namespaces");
        let ns = if cluster_scoped {
            None
        } else {
            let a = self.rng.usize(..APPS.len());
            Some(APPS[a].ns)
        };
        if res == "pods" && verb == "create" {
            return self.pod_create(base, ns.unwrap_or("default"));
        }
        let mut obj = ObjRef::new(res, gv);
        if let Some(ns) = ns {
            obj = obj.ns(ns);
        }
        match verb {
            "list" => {
                let uri = format!("{}?limit=500&resourceVersion=0", obj.path());
                base(verb, uri, obj)
            }
            "watch" => {
                let (uri, stage) = self.watch(&obj.path(), None);
                base(verb, uri, obj).stage(stage)
            }
            _ => {
                let name = if cluster_scoped {
                    if res == "nodes" {
                        let n = self.node();
                        node_name(n)
                    } else {
                        self.pick(&APP_NAMESPACES).to_owned()
                    }
                } else {
                    let p = self.rng.usize(..self.pods.len());
                    let app = APPS[self.pods[p].app].name;
                    match res {
                        "pods" => self.pods[p].name.clone(),
                        "replicasets" | "controllerrevisions" => {
                            format!("{app}-{:x}", self.rng.u64(0x5_0000_0000..0xf_ffff_ffff))
                        }
                        "jobs" => format!("{app}-{}", 29_000_000 + self.rng.u32(..600_000)),
                        _ => app.to_owned(),
                    }
                };
                let mut obj = obj.name(name.clone());
                let status = matches!(verb, "update" | "patch")
                    && !matches!(res, "pods" | "endpointslices" | "services");
                if status {
                    obj = obj.sub("status");
                }
                if matches!(verb, "update" | "patch") {
                    obj = obj.rv(self.next_rv());
                }
                let uri = obj.path();
                let code = if verb == "create" { 201 } else { 200 };
                let mut ev = base(verb, uri, obj).code(code);
                let roll = self.rng.u8(..100);
                if verb == "update" && roll < 4 {
                    let group = if gv.contains('/') {
                        format!(".{}", gv.rsplit_once('/').map_or("", |(g, _)| g))
                    } else {
                        String::new()
                    };
                    ev = ev.failed(
                        409,
                        "Conflict",
                        format!("Operation cannot be fulfilled on {res}{group} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"),
                    );
                } else if verb == "get" && roll < 5 {
                    ev = ev.failed(404, "NotFound", format!("{res} \"{name}\" not found"));
                } else if verb == "patch" && res == "endpointslices" {
                    ev = ev.request(
                        Level::Request,
                        format!(
                            "{{\"endpoints\":[{{\"addresses\":[\"10.244.{}.{}\"],\"conditions\":{{\"ready\":true,\"serving\":true,\"terminating\":false}},\"nodeName\":\"{}\",\"targetRef\":{{\"kind\":\"Pod\",\"name\":\"{name}\",\"namespace\":\"{}\"}}}}]}}",
                            self.rng.u8(8..60),
                            self.rng.u8(2..254),
                            node_name(self.rng.usize(..NODE_IPS.len())),
                            ns.unwrap_or("default")
                        ),
                    );
                }
                ev
            }
        }
    }

    /// A controller creating a pod: the Request-level body is the pod spec.
    pub(super) fn pod_create(
        &mut self,
        base: impl Fn(&'static str, String, ObjRef) -> Ev,
        ns: &str,
    ) -> Ev {
        let candidates: Vec<usize> = (0..APPS.len())
            .filter(|&a| APPS[a].ns == ns && APPS[a].kind == Deployment)
            .collect();
        let a = if candidates.is_empty() {
            0
        } else {
            candidates[self.rng.usize(..candidates.len())]
        };
        let app = &APPS[a];
        let hash = format!("{:x}", self.rng.u64(0x5_0000_0000..0xf_ffff_ffff));
        let name = format!("{}-{hash}-{}", app.name, pod_suffix(self.rng.u64(..)));
        let obj = ObjRef::new("pods", "v1").ns(app.ns).name(name.clone());
        let uri = format!("/api/v1/namespaces/{}/pods", app.ns);
        let secret_env = app.secrets.first().map_or(String::new(), |s| {
            format!(
                ",\"env\":[{{\"name\":\"APP_SECRET_FILE\",\"value\":\"/etc/secrets/{s}\"}}],\"volumeMounts\":[{{\"name\":\"{s}\",\"readOnly\":true,\"mountPath\":\"/etc/secrets\"}}]"
            )
        });
        let body = format!(
            "{{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{{\"generateName\":\"{}-{hash}-\",\"namespace\":\"{}\",\"creationTimestamp\":null,\"labels\":{{\"app.kubernetes.io/name\":\"{}\",\"pod-template-hash\":\"{hash}\"}},\"ownerReferences\":[{{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"{}-{hash}\",\"uid\":\"{}\",\"controller\":true,\"blockOwnerDeletion\":true}}]}},\"spec\":{{\"containers\":[{{\"name\":\"app\",\"image\":\"{}\",\"ports\":[{{\"name\":\"http\",\"containerPort\":8080,\"protocol\":\"TCP\"}}],\"resources\":{{\"limits\":{{\"memory\":\"512Mi\"}},\"requests\":{{\"cpu\":\"100m\",\"memory\":\"256Mi\"}}}}{secret_env},\"readinessProbe\":{{\"httpGet\":{{\"path\":\"/healthz\",\"port\":\"http\",\"scheme\":\"HTTP\"}},\"timeoutSeconds\":1,\"periodSeconds\":10,\"successThreshold\":1,\"failureThreshold\":3}},\"terminationMessagePath\":\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":\"IfNotPresent\",\"securityContext\":{{\"runAsNonRoot\":true,\"allowPrivilegeEscalation\":false}}}}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"{}\",\"securityContext\":{{}},\"schedulerName\":\"default-scheduler\",\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"}},\"status\":{{}}}}",
            app.name,
            app.ns,
            app.name,
            app.name,
            uuid(self.rng.u128(..)),
            app.image,
            app.sa,
        );
        base("create", uri, obj)
            .code(201)
            .request(Level::Request, body)
            .annotate(
                "pod-security.kubernetes.io/enforce-policy",
                "baseline:latest",
            )
    }

    pub(super) fn scheduler(&mut self) -> Ev {
        let user = User::new("system:kube-scheduler", &["system:authenticated"]);
        let ua = format!("kube-scheduler/{K8S} (linux/amd64) kubernetes/55019c8/scheduler");
        let reason = "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\"";
        let roll = self.rng.u8(..10);
        if roll < 5 {
            let p = self.rng.usize(..self.pods.len());
            let pod = &self.pods[p];
            let ns = APPS[pod.app].ns;
            let node = node_name(pod.node);
            let name = pod.name.clone();
            let obj = ObjRef::new("pods", "v1")
                .ns(ns)
                .name(name.clone())
                .sub("binding");
            let body = format!(
                "{{\"kind\":\"Binding\",\"apiVersion\":\"v1\",\"metadata\":{{\"name\":\"{name}\",\"namespace\":\"{ns}\",\"uid\":\"{}\",\"creationTimestamp\":null}},\"target\":{{\"kind\":\"Node\",\"name\":\"{node}\"}}}}",
                uuid(pod.uid)
            );
            return Ev::new("create", obj.path(), user)
                .obj(obj)
                .ip(CONTROL_PLANE[1])
                .ua(ua)
                .reason(reason)
                .code(201)
                .request(Level::Request, body);
        }
        let (res, gv) = self.pick(&[
            ("pods", "v1"),
            ("nodes", "v1"),
            ("persistentvolumeclaims", "v1"),
            ("csinodes", "storage.k8s.io/v1"),
            ("poddisruptionbudgets", "policy/v1"),
            ("namespaces", "v1"),
        ]);
        let obj = ObjRef::new(res, gv);
        let selector = (res == "pods").then(|| {
            "fieldSelector=status.phase%21%3DSucceeded%2Cstatus.phase%21%3DFailed".to_owned()
        });
        let (uri, stage) = self.watch(&obj.path(), selector);
        Ev::new("watch", uri, user)
            .obj(obj)
            .ip(CONTROL_PLANE[1])
            .ua(ua)
            .reason(reason)
            .stage(stage)
    }

    pub(super) fn kubelet(&mut self) -> Ev {
        let n = self.node();
        let node = node_name(n);
        let user = User::node(&node);
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(node_ip(n))
                .ua(KUBELET_UA)
        };
        let p = self.pod_on(n);
        let pod_name = self.pods[p].name.clone();
        let pod_uid = self.pods[p].uid;
        let app = &APPS[self.pods[p].app];
        match self.rng.u8(..100) {
            // Secrets and config maps of the node's pods: watched by name, fetched at start.
            0..=29 => {
                let (res, names) = if !app.secrets.is_empty() && self.rng.bool() {
                    ("secrets", app.secrets)
                } else if !app.configmaps.is_empty() {
                    ("configmaps", app.configmaps)
                } else {
                    ("configmaps", &["kube-root-ca.crt"][..])
                };
                let name = self.pick(names);
                let obj = ObjRef::new(res, "v1").ns(app.ns).name(name);
                let list = format!("/api/v1/namespaces/{}/{res}", app.ns);
                let selector = format!("fieldSelector=metadata.name%3D{name}");
                match self.rng.u8(..10) {
                    0..=5 => {
                        let (uri, stage) = self.watch(&list, Some(selector));
                        base("watch", uri, obj).stage(stage)
                    }
                    6..=7 => base(
                        "list",
                        format!("{list}?{selector}&limit=500&resourceVersion=0"),
                        obj,
                    ),
                    _ => base("get", format!("{list}/{name}"), obj),
                }
            }
            30..=41 => {
                let obj = ObjRef::new("pods", "v1");
                let (uri, stage) = self.watch(
                    "/api/v1/pods",
                    Some(format!("fieldSelector=spec.nodeName%3D{node}")),
                );
                base("watch", uri, obj).stage(stage)
            }
            42..=51 => {
                let obj = ObjRef::new("pods", "v1").ns(app.ns).name(pod_name.clone());
                base("get", obj.path(), obj)
            }
            52..=69 => {
                let obj = ObjRef::new("pods", "v1")
                    .ns(app.ns)
                    .name(pod_name.clone())
                    .sub("status")
                    .rv(self.next_rv());
                let mut started = String::new();
                push_time(
                    &mut started,
                    self.now - self.rng.i64(60..86_400) * 1_000_000,
                );
                let started = &started[..19];
                let restarts = self.rng.u8(..3);
                let body = format!(
                    "{{\"metadata\":{{\"uid\":\"{}\"}},\"status\":{{\"$setElementOrder/conditions\":[{{\"type\":\"PodReadyToStartContainers\"}},{{\"type\":\"Initialized\"}},{{\"type\":\"Ready\"}},{{\"type\":\"ContainersReady\"}},{{\"type\":\"PodScheduled\"}}],\"conditions\":[{{\"lastProbeTime\":null,\"lastTransitionTime\":\"{started}Z\",\"status\":\"True\",\"type\":\"Ready\"}},{{\"lastProbeTime\":null,\"lastTransitionTime\":\"{started}Z\",\"status\":\"True\",\"type\":\"ContainersReady\"}}],\"containerStatuses\":[{{\"containerID\":\"containerd://{:016x}{:016x}{:016x}{:016x}\",\"image\":\"{}\",\"imageID\":\"{}@sha256:{:016x}{:016x}{:016x}{:016x}\",\"lastState\":{{}},\"name\":\"app\",\"ready\":true,\"restartCount\":{restarts},\"started\":true,\"state\":{{\"running\":{{\"startedAt\":\"{started}Z\"}}}}}}]}}}}",
                    uuid(pod_uid),
                    self.rng.u64(..),
                    self.rng.u64(..),
                    self.rng.u64(..),
                    self.rng.u64(..),
                    app.image,
                    app.image.split(':').next().unwrap_or(app.image),
                    self.rng.u64(..),
                    self.rng.u64(..),
                    self.rng.u64(..),
                    self.rng.u64(..),
                );
                base("patch", obj.path(), obj).request(Level::Request, body)
            }
            70..=79 => {
                let obj = ObjRef::new("nodes", "v1")
                    .name(node.clone())
                    .sub("status")
                    .rv(self.next_rv());
                let uri = format!("{}?timeout=10s", obj.path());
                base("patch", uri, obj)
            }
            80..=86 => {
                let obj = ObjRef::new("nodes", "v1").name(node.clone());
                let uri = format!("{}?resourceVersion=0&timeout=10s", obj.path());
                base("get", uri, obj)
            }
            // TokenRequest for the projected service-account volume of a pod it runs.
            _ => {
                let obj = ObjRef::new("serviceaccounts", "v1")
                    .ns(app.ns)
                    .name(app.sa)
                    .sub("token");
                let body = format!(
                    "{{\"kind\":\"TokenRequest\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{{\"name\":\"{}\",\"namespace\":\"{}\",\"creationTimestamp\":null}},\"spec\":{{\"audiences\":[\"https://kubernetes.default.svc\"],\"expirationSeconds\":3607,\"boundObjectRef\":{{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"name\":\"{pod_name}\",\"uid\":\"{}\"}}}},\"status\":{{\"token\":\"\",\"expirationTimestamp\":null}}}}",
                    app.sa,
                    app.ns,
                    uuid(pod_uid)
                );
                base("create", obj.path(), obj)
                    .code(201)
                    .request(Level::Request, body)
            }
        }
    }

    pub(super) fn node_agent(&mut self) -> Ev {
        let n = self.node();
        let proxy = self.rng.bool();
        let app_name = if proxy { "kube-proxy" } else { "aws-node" };
        let p = self.by_node[n]
            .iter()
            .copied()
            .find(|&p| APPS[self.pods[p].app].name == app_name)
            .unwrap_or(0);
        let user = self.pod_users[p].clone();
        let ua: Str = if proxy {
            Cow::Borrowed("kube-proxy/v1.29.3 (linux/amd64) kubernetes/6813625")
        } else {
            Cow::Borrowed("aws-k8s-agent/v1.18.1 (linux/amd64) kubernetes/$Format")
        };
        let reason = format!(
            "RBAC: allowed by ClusterRoleBinding \"{}\" of ClusterRole \"{}\" to ServiceAccount \"{app_name}/kube-system\"",
            if proxy { "eks:kube-proxy" } else { "aws-node" },
            if proxy {
                "system:node-proxier"
            } else {
                "aws-node"
            },
        );
        let (res, gv) = if proxy {
            self.pick(&[
                ("endpointslices", "discovery.k8s.io/v1"),
                ("services", "v1"),
                ("nodes", "v1"),
            ])
        } else {
            self.pick(&[
                ("pods", "v1"),
                ("nodes", "v1"),
                ("eniconfigs", "crd.k8s.amazonaws.com/v1alpha1"),
            ])
        };
        let obj = ObjRef::new(res, gv);
        let (verb, uri, obj) = if res == "nodes" && self.rng.bool() {
            let obj = obj.name(node_name(n));
            ("get", obj.path(), obj)
        } else {
            let selector = match res {
                "pods" => Some(format!("fieldSelector=spec.nodeName%3D{}", node_name(n))),
                "services" => Some("labelSelector=%21service.kubernetes.io%2Fheadless%2C%21service.kubernetes.io%2Fservice-proxy-name".to_owned()),
                _ => None,
            };
            let q = self.watch_query(selector);
            ("watch", format!("{}{q}", obj.path()), obj)
        };
        let stage = if verb == "watch" {
            self.watch_stage()
        } else {
            "ResponseComplete"
        };
        Ev::new(verb, uri, user)
            .obj(obj)
            .ip(node_ip(n))
            .ua(ua)
            .reason(reason)
            .stage(stage)
    }

    pub(super) fn coredns(&mut self) -> Ev {
        let (user, ip) = self.sa_of("coredns");
        let (res, gv) = self.pick(&[
            ("endpointslices", "discovery.k8s.io/v1"),
            ("services", "v1"),
            ("namespaces", "v1"),
        ]);
        let obj = ObjRef::new(res, gv);
        let (uri, stage) = self.watch(&obj.path(), None);
        Ev::new("watch", uri, user)
            .obj(obj)
            .ip(ip)
            .ua("coredns/v1.11.1 (linux/amd64) kubernetes/$Format")
            .reason("RBAC: allowed by ClusterRoleBinding \"system:coredns\" of ClusterRole \"system:coredns\" to ServiceAccount \"coredns/kube-system\"")
            .stage(stage)
    }

    pub(super) fn events(&mut self) -> Ev {
        let p = self.rng.usize(..self.pods.len());
        let pod = &self.pods[p];
        let ns = APPS[pod.app].ns;
        let event_name = format!("{}.{:016x}", pod.name, self.rng.u64(..) >> 4);
        let (user, ua, ip, reason): (User, Str, [u8; 4], Str) = match self.rng.u8(..10) {
            0..=5 => (
                User::node(&node_name(pod.node)),
                Cow::Borrowed(KUBELET_UA),
                node_ip(pod.node),
                Cow::Borrowed(""),
            ),
            6..=7 => {
                let c = self.pick(&[
                    "replicaset-controller",
                    "deployment-controller",
                    "job-controller",
                    "statefulset-controller",
                ]);
                (
                    User::service_account("kube-system", c, sa_uid("kube-system", c)),
                    Cow::Owned(format!(
                        "kube-controller-manager/{K8S} (linux/amd64) kubernetes/55019c8/system:serviceaccount:kube-system:{c}"
                    )),
                    CONTROL_PLANE[0],
                    Cow::Owned(format!(
                        "RBAC: allowed by ClusterRoleBinding \"system:controller:{c}\" of ClusterRole \"system:controller:{c}\" to ServiceAccount \"{c}/kube-system\""
                    )),
                )
            }
            _ => (
                User::new("system:kube-scheduler", &["system:authenticated"]),
                Cow::Owned(format!(
                    "kube-scheduler/{K8S} (linux/amd64) kubernetes/55019c8/scheduler"
                )),
                CONTROL_PLANE[1],
                Cow::Borrowed(
                    "RBAC: allowed by ClusterRoleBinding \"system:kube-scheduler\" of ClusterRole \"system:kube-scheduler\" to User \"system:kube-scheduler\"",
                ),
            ),
        };
        let core = self.rng.bool();
        let gv = if core { "v1" } else { "events.k8s.io/v1" };
        let create = self.rng.u8(..10) < 6;
        let obj = ObjRef::new("events", gv).ns(ns).name(event_name);
        if create {
            let uri = format!(
                "{}/namespaces/{ns}/events",
                if core {
                    "/api/v1"
                } else {
                    "/apis/events.k8s.io/v1"
                }
            );
            Ev::new("create", uri, user)
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
                .code(201)
        } else {
            let obj = obj.rv(self.next_rv());
            Ev::new("patch", obj.path(), user)
                .obj(obj)
                .ip(ip)
                .ua(ua)
                .reason(reason)
        }
    }

    /// A kubelet rotating its serving certificate: its CSR, approved by the controller.
    pub(super) fn node_csr(&mut self) -> Ev {
        let n = self.node();
        let node = node_name(n);
        let name = format!("csr-{}", pod_suffix(self.rng.u64(..)));
        let request = fake_csr(&mut self.rng);
        let obj =
            ObjRef::new("certificatesigningrequests", "certificates.k8s.io/v1").name(name.clone());
        let body = format!(
            "{{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\",\"metadata\":{{\"generateName\":\"csr-\",\"creationTimestamp\":null}},\"spec\":{{\"request\":\"{request}\",\"signerName\":\"kubernetes.io/kubelet-serving\",\"usages\":[\"digital signature\",\"server auth\"]}},\"status\":{{}}}}"
        );
        let create = Ev::new(
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            User::node(&node),
        )
        .obj(obj.clone())
        .ip(node_ip(n))
        .ua(KUBELET_UA)
        .reason("RBAC: allowed by ClusterRoleBinding \"system:node\" of ClusterRole \"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient\" to Group \"system:nodes\"")
        .code(201)
        .request(Level::Request, body);
        let c = "certificate-controller";
        let approval = obj.clone().sub("approval").rv(self.next_rv());
        let approve = Ev::new(
            "update",
            approval.path(),
            User::service_account("kube-system", c, sa_uid("kube-system", c)),
        )
        .obj(approval)
        .ip(CONTROL_PLANE[0])
        .ua(format!("kube-controller-manager/{K8S} (linux/amd64) kubernetes/55019c8/system:serviceaccount:kube-system:{c}"))
        .reason(format!("RBAC: allowed by ClusterRoleBinding \"system:controller:{c}\" of ClusterRole \"system:controller:{c}\" to ServiceAccount \"{c}/kube-system\""));
        self.queue.push_back((approve, false));
        create
    }

    /// A new node joining with a bootstrap token asks for its client certificate.
    pub(super) fn bootstrap_csr(&mut self) -> Ev {
        let n = self.node();
        let name = format!("node-csr-{}", pod_suffix(self.rng.u64(..)));
        let request = fake_csr(&mut self.rng);
        let obj = ObjRef::new("certificatesigningrequests", "certificates.k8s.io/v1").name(name);
        let body = format!(
            "{{\"kind\":\"CertificateSigningRequest\",\"apiVersion\":\"certificates.k8s.io/v1\",\"metadata\":{{\"generateName\":\"node-csr-\",\"creationTimestamp\":null}},\"spec\":{{\"request\":\"{request}\",\"signerName\":\"kubernetes.io/kube-apiserver-client-kubelet\",\"usages\":[\"digital signature\",\"client auth\"]}},\"status\":{{}}}}"
        );
        Ev::new(
            "create",
            "/apis/certificates.k8s.io/v1/certificatesigningrequests",
            User::new("system:bootstrap:x7k2pq", &["system:bootstrappers", "system:bootstrappers:worker", "system:authenticated"]),
        )
        .obj(obj)
        .ip(node_ip(n))
        .ua(KUBELET_UA)
        .reason("RBAC: allowed by ClusterRoleBinding \"kubeadm:kubelet-bootstrap\" of ClusterRole \"system:node-bootstrapper\" to Group \"system:bootstrappers:worker\"")
        .code(201)
        .request(Level::Request, body)
    }
}
