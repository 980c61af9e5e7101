//! People with kubectl, k9s, Lens and Helm; the CI runner; health checks.

use super::Background;
use super::cluster::*;
use crate::simulate::model::{Ev, Level, ObjRef, Str, User, push_time};
use std::borrow::Cow;

impl Background {
    pub(super) fn human_identity(&mut self, h: &Human) -> (User, Str, Str) {
        let ua = self.pick(h.uas);
        let user = User::new(h.name, h.groups);
        let reason: Str = if h.groups.contains(&"system:masters") {
            Cow::Borrowed("")
        } else {
            Cow::Borrowed(
                "RBAC: allowed by RoleBinding \"developers-edit\" of ClusterRole \"edit\" to Group \"developers\"",
            )
        };
        (user, Cow::Borrowed(ua), reason)
    }

    pub(super) fn human(&mut self) -> Ev {
        let h = &HUMANS[self.rng.usize(..HUMANS.len())];
        let (user, ua, reason) = self.human_identity(h);
        let ns = self.pick(h.namespaces);
        let base = |verb, uri: String, obj: Option<ObjRef>| {
            let ev = Ev::new(verb, uri, user.clone())
                .ip(h.ip)
                .ua(ua.clone())
                .reason(reason.clone());
            match obj {
                Some(o) => ev.obj(o),
                None => ev,
            }
        };
        let p = self.pod_in(&[ns]);
        let pod = self.pods[p].name.clone();
        let deployment = self.deployment_in(ns);
        let app = deployment.unwrap_or("");
        let mut roll = self.rng.u8(..100);
        if deployment.is_none() && matches!(roll, 50..=56 | 85..=87) {
            roll = 0;
        }
        match roll {
            0..=24 => {
                let obj = ObjRef::new("pods", "v1").ns(ns);
                let uri = format!("{}?limit=500", obj.path());
                base("list", uri, Some(obj))
            }
            25..=39 => {
                let obj = ObjRef::new("pods", "v1").ns(ns).name(pod.clone());
                let ev = base("get", obj.path(), Some(obj));
                if self.rng.u8(..20) == 0 {
                    ev.failed(404, "NotFound", format!("pods \"{pod}\" not found"))
                } else {
                    ev
                }
            }
            40..=49 => {
                let obj = ObjRef::new("deployments", "apps/v1").ns(ns);
                let uri = format!("{}?limit=500", obj.path());
                base("list", uri, Some(obj))
            }
            50..=56 => {
                let obj = ObjRef::new("deployments", "apps/v1").ns(ns).name(app);
                base("get", obj.path(), Some(obj))
            }
            57..=62 => {
                let obj = ObjRef::new("services", "v1").ns(ns);
                let uri = format!("{}?limit=500", obj.path());
                base("list", uri, Some(obj))
            }
            // `kubectl describe pod`: the pod, then its events.
            63..=68 => {
                let obj = ObjRef::new("events", "v1").ns(ns);
                let uri = format!(
                    "{}?fieldSelector=involvedObject.name%3D{pod}%2CinvolvedObject.namespace%3D{ns}%2CinvolvedObject.kind%3DPod&limit=500",
                    obj.path()
                );
                let events = base("list", uri, Some(obj));
                self.queue.push_back((events, false));
                let obj = ObjRef::new("pods", "v1").ns(ns).name(pod);
                base("get", obj.path(), Some(obj))
            }
            // Discovery, as kubectl does before its first request.
            69..=76 => {
                let path = self.pick(&["/api?timeout=32s", "/apis?timeout=32s"]);
                base("get", path.to_owned(), None)
            }
            77..=80 => {
                let obj = ObjRef::new("pods", "metrics.k8s.io/v1beta1").ns(ns);
                base("list", obj.path(), Some(obj))
            }
            81..=84 => {
                let name = self.pick(&["app-config", "feature-flags", "kube-root-ca.crt"]);
                let obj = ObjRef::new("configmaps", "v1").ns(ns).name(name);
                let ev = base("get", obj.path(), Some(obj));
                if name != "kube-root-ca.crt" && self.rng.bool() {
                    ev.failed(404, "NotFound", format!("configmaps \"{name}\" not found"))
                } else {
                    ev
                }
            }
            // `kubectl rollout restart`, then `rollout status`.
            85..=86 => {
                let obj = ObjRef::new("deployments", "apps/v1")
                    .ns(ns)
                    .name(app)
                    .rv(self.next_rv());
                let mut at = String::new();
                push_time(&mut at, self.now);
                let body = format!(
                    "{{\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"kubectl.kubernetes.io/restartedAt\":\"{}Z\"}}}}}}}}}}",
                    &at[..19]
                );
                let uri = format!("{}?fieldManager=kubectl-rollout", obj.path());
                let watch_obj = ObjRef::new("deployments", "apps/v1").ns(ns).name(app);
                let q = self.watch_query(Some(format!("fieldSelector=metadata.name%3D{app}")));
                let watch = base(
                    "watch",
                    format!("/apis/apps/v1/namespaces/{ns}/deployments{q}"),
                    Some(watch_obj),
                )
                .stage("ResponseStarted");
                self.queue.push_back((watch, false));
                base("patch", uri, Some(obj)).request(Level::Request, body)
            }
            // `kubectl scale`.
            87 => {
                let obj = ObjRef::new("deployments", "apps/v1")
                    .ns(ns)
                    .name(app)
                    .sub("scale");
                let replicas = 2 + self.rng.u8(..4);
                base("patch", obj.path(), Some(obj)).request(
                    Level::Request,
                    format!("{{\"spec\":{{\"replicas\":{replicas}}}}}"),
                )
            }
            88..=89 => {
                let n = self.node();
                let obj = ObjRef::new("nodes", "v1").name(node_name(n));
                base("get", obj.path(), Some(obj))
            }
            // Someone looks where their role does not reach: an ordinary denial.
            90..=91 => {
                let obj = ObjRef::new("pods", "v1").ns("kube-system");
                let uri = format!("{}?limit=500", obj.path());
                let ev = base("list", uri, Some(obj));
                if h.groups.contains(&"system:masters") {
                    ev
                } else {
                    ev.forbidden()
                }
            }
            _ => {
                let obj = ObjRef::new("namespaces", "v1");
                let uri = format!("{}?limit=500", obj.path());
                base("list", uri, Some(obj))
            }
        }
    }

    /// Logs of one pod (now and then two) of the person's own team, at most every ten minutes.
    pub(super) fn human_logs(&mut self) -> Ev {
        let i = self.rng.usize(..HUMANS.len());
        // One look at a time: a person who just read logs does something else.
        if self.now - self.last_logs[i] < 600_000_000 {
            return self.human();
        }
        self.last_logs[i] = self.now;
        let h = &HUMANS[i];
        let (user, ua, reason) = self.human_identity(h);
        let ns = self.pick(h.namespaces);
        let p = self.pod_in(&[ns]);
        let logs = |bg: &mut Background, p: usize| {
            let pod = bg.pods[p].name.clone();
            let pns = APPS[bg.pods[p].app].ns;
            let obj = ObjRef::new("pods", "v1")
                .ns(pns)
                .name(pod.clone())
                .sub("log");
            let query = bg.pick(&[
                "?container=app&tailLines=200",
                "?container=app&follow=true",
                "?container=app&previous=true",
            ]);
            Ev::new("get", format!("{}{query}", obj.path()), user.clone())
                .obj(obj)
                .ip(h.ip)
                .ua(ua.clone())
                .reason(reason.clone())
        };
        if self.rng.u8(..4) == 0 {
            let q = self.pod_in(&[ns]);
            let second = logs(self, q);
            self.queue.push_back((second, false));
        }
        logs(self, p)
    }

    /// `helm upgrade` by a person: release history (secrets by label), the last release, and
    /// the new release secret.
    pub(super) fn helm(&mut self) -> Ev {
        let h = &HUMANS[self.rng.usize(..HUMANS.len())];
        let (user, _, reason) = self.human_identity(h);
        let ns = self.pick(h.namespaces);
        // Releases live in the teams' and add-ons' namespaces, not in kube-system or default.
        let ns = match ns {
            "kube-system" | "default" => "monitoring",
            other => other,
        };
        let release = match ns {
            "monitoring" => "kube-prometheus-stack",
            "ingress-nginx" => "ingress-nginx",
            "cert-manager" => "cert-manager",
            "logging" => "fluent-bit",
            "argocd" => "argo-cd",
            other => other,
        };
        let version = 3 + self.rng.u32(..40);
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(h.ip)
                .ua("Helm/3.14.2")
                .reason(reason.clone())
        };
        let list_obj = ObjRef::new("secrets", "v1").ns(ns);
        let list = base(
            "list",
            format!(
                "/api/v1/namespaces/{ns}/secrets?labelSelector=name%3D{release}%2Cowner%3Dhelm"
            ),
            list_obj,
        );
        let last = format!("sh.helm.release.v1.{release}.v{version}");
        let get_obj = ObjRef::new("secrets", "v1").ns(ns).name(last);
        let get = base("get", get_obj.path(), get_obj);
        let next = format!("sh.helm.release.v1.{release}.v{}", version + 1);
        let create_obj = ObjRef::new("secrets", "v1").ns(ns).name(next);
        let create = base(
            "create",
            format!("/api/v1/namespaces/{ns}/secrets"),
            create_obj,
        )
        .code(201);
        self.queue.push_back((get, false));
        self.queue.push_back((create, false));
        list
    }

    /// The CI runner's deploy jobs: `kubectl apply` of a new image, then rollout status.
    pub(super) fn ci(&mut self) -> Ev {
        let p = self.pod_of("gitlab-runner");
        let user = self.pod_users[p].clone();
        let ip = [10, 244, 7, 2 + self.rng.u8(..60)];
        let reason = "RBAC: allowed by ClusterRoleBinding \"gitlab-runner-deployer\" of ClusterRole \"deployer\" to ServiceAccount \"gitlab-runner/ci\"";
        let base = |verb, uri: String, obj: ObjRef| {
            Ev::new(verb, uri, user.clone())
                .obj(obj)
                .ip(ip)
                .ua(KUBECTL_LINUX)
                .reason(reason)
        };
        let deployable: Vec<usize> = (0..APPS.len())
            .filter(|&a| APP_NAMESPACES.contains(&APPS[a].ns) && APPS[a].kind == Deployment)
            .collect();
        let a = match deployable.len() {
            0 => 0,
            len => deployable[self.rng.usize(..len)],
        };
        let app = &APPS[a];
        match self.rng.u8(..10) {
            0..=3 => {
                let name = app.configmaps.first().copied().unwrap_or("app-config");
                let obj = ObjRef::new("configmaps", "v1").ns(app.ns).name(name);
                base("get", obj.path(), obj)
            }
            4..=5 => {
                let obj = ObjRef::new("deployments", "apps/v1")
                    .ns(app.ns)
                    .name(app.name);
                base("get", obj.path(), obj)
            }
            _ => {
                let get_obj = ObjRef::new("deployments", "apps/v1")
                    .ns(app.ns)
                    .name(app.name);
                let get = base("get", get_obj.path(), get_obj);
                let obj = ObjRef::new("deployments", "apps/v1")
                    .ns(app.ns)
                    .name(app.name)
                    .rv(self.next_rv());
                let image = app.image.split(':').next().unwrap_or(app.image);
                let tag = format!(
                    "{}.{}.{}",
                    1 + self.rng.u8(..9),
                    self.rng.u8(..60),
                    self.rng.u8(..20)
                );
                let body = format!(
                    "{{\"metadata\":{{\"annotations\":{{\"kubectl.kubernetes.io/last-applied-configuration\":\"{{\\\"apiVersion\\\":\\\"apps/v1\\\",\\\"kind\\\":\\\"Deployment\\\",\\\"metadata\\\":{{\\\"name\\\":\\\"{}\\\",\\\"namespace\\\":\\\"{}\\\"}},\\\"spec\\\":{{\\\"template\\\":{{\\\"spec\\\":{{\\\"containers\\\":[{{\\\"image\\\":\\\"{image}:{tag}\\\",\\\"name\\\":\\\"app\\\"}}]}}}}}}}}\\n\"}}}},\"spec\":{{\"template\":{{\"spec\":{{\"$setElementOrder/containers\":[{{\"name\":\"app\"}}],\"containers\":[{{\"image\":\"{image}:{tag}\",\"name\":\"app\"}}]}}}}}}}}",
                    app.name, app.ns
                );
                let uri = format!(
                    "{}?fieldManager=kubectl-client-side-apply&fieldValidation=Strict",
                    obj.path()
                );
                let patch = base("patch", uri, obj).request(Level::Request, body);
                self.queue.push_back((patch, false));
                get
            }
        }
    }

    /// Load balancer and probe checks: anonymous, to health and version endpoints only.
    pub(super) fn health(&mut self) -> Ev {
        let path = self.pick(&[
            "/readyz",
            "/livez",
            "/healthz",
            "/version",
            "/readyz?verbose",
        ]);
        let ua = self.pick(&["kube-probe/1.29", "ELB-HealthChecker/2.0"]);
        let ip = [10, 0, self.pick(&[1u8, 2, 3]), 4 + self.rng.u8(..8)];
        Ev::new("get", path, User::anonymous())
            .ip(ip)
            .ua(ua)
            .reason("RBAC: allowed by ClusterRoleBinding \"system:public-info-viewer\" of ClusterRole \"system:public-info-viewer\" to Group \"system:unauthenticated\"")
    }

    /// Rare: a developer opens a shell in one of their team's pods.
    pub(super) fn human_exec(&mut self) -> Ev {
        // Not carol: her exec is a scenario, and the background must not look like one.
        let h = &HUMANS[self.pick(&[0usize, 4])];
        let (user, ua, reason) = self.human_identity(h);
        let ns = self.pick(h.namespaces);
        let p = self.pod_in(&[ns]);
        let obj = ObjRef::new("pods", "v1")
            .ns(APPS[self.pods[p].app].ns)
            .name(self.pods[p].name.clone())
            .sub("exec");
        let uri = format!(
            "{}?command=sh&container=app&stdin=true&stdout=true&tty=true",
            obj.path()
        );
        let started = Ev::new("create", uri, user)
            .obj(obj)
            .ip(h.ip)
            .ua(ua)
            .reason(reason)
            .code(101)
            .stage("ResponseStarted");
        let started = Ev {
            audit_id: self.rng.u128(..),
            ..started
        };
        let mut complete = started.clone().stage("ResponseComplete");
        complete.staged = self.rng.i64(20..600) * 1_000_000;
        self.queue.push_back((complete, true));
        started
    }
}
