#!/usr/bin/env python3
"""A large, seeded Kubernetes RBAC dump for benchmarking credwatch's RBAC reading.

    bench/gen_rbac.py [--seed 42] [--roles 5000] [--bindings 20000] [--out FILE]
                      [--service-accounts 2000] [--pods 3000] [--nodes 50] [--secrets 1000]

writes what

    kubectl get clusterroles,clusterrolebindings,roles,rolebindings,serviceaccounts,pods,nodes,secrets -A -o json

prints for a busy multi-team cluster: one `List` (`{"apiVersion": "v1", "items": [...], "kind":
"List", "metadata": {"resourceVersion": ""}}`), pretty-printed with 4-space indentation and
sorted keys as kubectl's JSON printer does (it marshals unstructured maps), items grouped by
resource type in the order asked for and, within a type, in the API server's order (namespace,
then name). `managedFields` are left out, as kubectl does by default.

What is in it (defaults):

* --roles N (5000): about 20% ClusterRoles (the built-in `system:*`, `cluster-admin`, `admin`,
  `edit`, `view` with their bootstrapping labels and aggregation rules, plus operators' and
  teams' roles, a few carrying `rbac.authorization.k8s.io/aggregate-to-*` labels) and 80% Roles
  spread unevenly over about 200 namespaces. Each has 1-8 rules drawn from a palette of core,
  apps, batch, rbac, networking and a few CRD groups (cert-manager.io, argoproj.io,
  monitoring.coreos.com), verbs from get/list/watch up to `*`; about 2% of rules name
  resourceNames, about 1% have wildcard resources or apiGroups; some ClusterRoles have
  nonResourceURLs.
* --bindings M (20000): about 15% ClusterRoleBindings, the rest RoleBindings (each referencing a
  Role of its own namespace or a ClusterRole); 1-4 subjects each (User name@corp.example, Group
  team-x, ServiceAccount ns/name, now and then system:authenticated / system:serviceaccounts);
  about 1% reference a role that does not exist.
* about 2,000 ServiceAccounts (a `default` one per namespace), about 3,000 Pods (owned by
  ReplicaSets, StatefulSets, DaemonSets or Jobs, with serviceAccountName, nodeName over the 50
  Nodes, the projected kube-api-access volume plus a ConfigMap/Secret/emptyDir volume, env vars
  that hold no secrets), 50 Nodes, about 1,000 Secrets (Opaque, kubernetes.io/tls,
  kubernetes.io/service-account-token with its service-account.name/uid annotations,
  kubernetes.io/dockerconfigjson), whose `data` values are random base64 (no real credentials).
* about 30% of the objects a person would `kubectl apply` carry the
  `kubectl.kubernetes.io/last-applied-configuration` annotation (the applied object as compact
  JSON, as kubectl writes it).

The output is byte-identical for a seed (one random stream, no dependence on PYTHONHASHSEED).
Sizes and object counts go to stderr. The defaults write 31,050 items, about 77 MB, in about 6 s
(most of it in the json module's pure-Python indenting encoder).
"""

import argparse
import base64
import calendar
import json
import random
import sys
import time

RBAC_API = "rbac.authorization.k8s.io"
RBAC_V1 = RBAC_API + "/v1"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
CLUSTER_BORN = calendar.timegm((2025, 2, 3, 8, 14, 27))  # cluster creation
DUMP_AT = calendar.timegm((2026, 11, 28, 10, 0, 0))  # when the dump was taken

# ---------------------------------------------------------------------------------------------
# Vocabulary

PLATFORM_NAMESPACES = [
    "kube-system", "kube-public", "kube-node-lease", "default", "ingress-nginx", "cert-manager",
    "argocd", "monitoring", "logging", "external-dns", "external-secrets", "kyverno",
    "istio-system", "velero", "keda", "karpenter", "gatekeeper-system", "vault", "flux-system",
    "calico-system", "tigera-operator", "kube-flannel", "metallb-system", "longhorn-system",
]
PRODUCTS = [
    "payments", "checkout", "cart", "catalog", "orders", "shipping", "inventory", "identity",
    "notifications", "search", "recommendations", "fraud", "billing", "invoicing", "loyalty",
    "pricing", "reviews", "media", "analytics", "reporting", "ledger", "onboarding", "kyc",
    "support", "crm", "gateway", "partner-api", "mobile-bff", "web", "data-platform", "ml-serving",
    "feature-store", "etl", "warehouse", "risk", "compliance", "audit", "tax", "promotions",
]
ENVS = ["prod", "staging", "dev", "qa", "perf", "sandbox"]
TEAMS = [
    "payments", "checkout", "platform", "sre", "data", "ml", "identity", "growth", "mobile",
    "web", "security", "finance-eng", "logistics", "catalog", "search", "support-tools",
    "devex", "infra", "dba", "observability",
]
FIRST = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
         "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter",
         "yusuf", "zoe", "amir", "bea", "chen", "dmitri", "elif", "farah", "goran", "hana", "ines",
         "jonas", "kenji", "lena", "marta", "nikos", "oskar", "priya", "quentin", "rosa", "sven",
         "tariq", "uma", "vera", "wen", "ximena", "yara", "zeno"]
LAST = ["smith", "jones", "garcia", "muller", "rossi", "kowalski", "nguyen", "tanaka", "silva",
        "novak", "hansen", "dubois", "schmidt", "ivanova", "okafor", "haddad", "larsen", "weber",
        "moreau", "costa", "fischer", "yilmaz", "kim", "singh", "patel", "berg", "lindqvist"]
APP_PARTS = ["api", "worker", "web", "consumer", "scheduler", "sync", "gateway", "cron",
             "processor", "exporter", "migrator", "admin", "frontend", "backend", "indexer",
             "notifier", "reconciler", "ingest"]
ROLE_PURPOSES = ["reader", "viewer", "editor", "deployer", "operator", "admin", "debugger",
                 "ci", "cd", "leader-election", "secret-reader", "config-reader", "job-runner",
                 "scaler", "log-reader", "exec", "manager", "controller", "auditor",
                 "release-manager", "oncall", "pipeline", "metrics-reader", "backup"]
OPERATORS = [
    ("cert-manager", "cert-manager", ["controller-certificates", "controller-issuers",
                                      "controller-clusterissuers", "controller-orders",
                                      "controller-challenges", "controller-ingress-shim",
                                      "cainjector", "webhook:subjectaccessreviews", "view",
                                      "edit"]),
    ("argocd", "argocd", ["application-controller", "server", "applicationset-controller",
                          "notifications-controller", "repo-server", "dex-server"]),
    ("monitoring", "prometheus", ["operator", "k8s", "kube-state-metrics", "node-exporter",
                                  "adapter", "blackbox-exporter", "grafana"]),
    ("ingress-nginx", "ingress-nginx", ["", "admission"]),
    ("external-dns", "external-dns", ["", "viewer"]),
    ("external-secrets", "external-secrets", ["controller", "cert-controller", "view", "edit",
                                              "servicebindings"]),
    ("kyverno", "kyverno", ["admission-controller", "background-controller",
                            "cleanup-controller", "reports-controller",
                            "admission-controller:core", "background-controller:core"]),
    ("velero", "velero", ["server"]),
    ("keda", "keda", ["operator", "external-metrics-reader"]),
    ("karpenter", "karpenter", ["", "core", "admin"]),
    ("logging", "fluent-bit", ["", "read"]),
    ("istio-system", "istiod", ["clusterrole-istio-system", "gateway-controller-istio-system"]),
    ("vault", "vault", ["agent-injector-clusterrole", "server-binding"]),
    ("flux-system", "flux", ["crd-controller", "edit", "view"]),
]
BUILTIN_CLUSTER_ROLES = [
    "cluster-admin", "admin", "edit", "view",
    "system:aggregate-to-admin", "system:aggregate-to-edit", "system:aggregate-to-view",
    "system:auth-delegator", "system:basic-user", "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
    "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
    "system:certificates.k8s.io:kube-apiserver-client-approver",
    "system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
    "system:certificates.k8s.io:kubelet-serving-approver",
    "system:certificates.k8s.io:legacy-unknown-approver",
    "system:controller:attachdetach-controller", "system:controller:certificate-controller",
    "system:controller:clusterrole-aggregation-controller", "system:controller:cronjob-controller",
    "system:controller:daemon-set-controller", "system:controller:deployment-controller",
    "system:controller:disruption-controller", "system:controller:endpoint-controller",
    "system:controller:endpointslice-controller", "system:controller:endpointslicemirroring-controller",
    "system:controller:ephemeral-volume-controller", "system:controller:expand-controller",
    "system:controller:generic-garbage-collector", "system:controller:horizontal-pod-autoscaler",
    "system:controller:job-controller", "system:controller:namespace-controller",
    "system:controller:node-controller", "system:controller:persistent-volume-binder",
    "system:controller:pod-garbage-collector", "system:controller:pv-protection-controller",
    "system:controller:pvc-protection-controller", "system:controller:replicaset-controller",
    "system:controller:replication-controller", "system:controller:resourcequota-controller",
    "system:controller:root-ca-cert-publisher", "system:controller:route-controller",
    "system:controller:service-account-controller", "system:controller:service-controller",
    "system:controller:statefulset-controller", "system:controller:ttl-after-finished-controller",
    "system:controller:ttl-controller", "system:coredns", "system:discovery",
    "system:heapster", "system:kube-aggregator", "system:kube-controller-manager",
    "system:kube-dns", "system:kube-scheduler", "system:kubelet-api-admin",
    "system:monitoring", "system:node", "system:node-bootstrapper", "system:node-problem-detector",
    "system:node-proxier", "system:persistent-volume-provisioner", "system:public-info-viewer",
    "system:service-account-issuer-discovery", "system:volume-scheduler",
]
# ClusterRoles a default kubeadm cluster binds with ClusterRoleBindings of the same name.
BUILTIN_BINDINGS = {
    "cluster-admin": [("Group", "system:masters")],
    "system:basic-user": [("Group", "system:authenticated")],
    "system:discovery": [("Group", "system:authenticated")],
    "system:public-info-viewer": [("Group", "system:authenticated"),
                                  ("Group", "system:unauthenticated")],
    "system:kube-controller-manager": [("User", "system:kube-controller-manager")],
    "system:kube-scheduler": [("User", "system:kube-scheduler")],
    "system:kube-dns": [("ServiceAccount", "kube-system/kube-dns")],
    "system:node-proxier": [("User", "system:kube-proxy")],
    "system:monitoring": [("Group", "system:monitoring")],
    "system:service-account-issuer-discovery": [("Group", "system:serviceaccounts")],
    "system:volume-scheduler": [("User", "system:kube-scheduler")],
    "system:coredns": [("ServiceAccount", "kube-system/coredns")],
    "system:node": [],
}

# The rule palette: (weight, apiGroup, resources, verb sets that make sense for them).
READ = ["get", "list", "watch"]
WRITE = ["create", "update", "patch", "delete"]
ALL = READ + WRITE + ["deletecollection"]
VERBSETS = {
    "read": READ,
    "getlist": ["get", "list"],
    "get": ["get"],
    "write": READ + WRITE,
    "all": ALL,
    "star": ["*"],
    "create": ["create"],
    "createget": ["create", "get"],
    "update": ["get", "list", "watch", "update", "patch"],
    "deletes": ["delete", "deletecollection"],
}
PALETTE = [
    (14, "", ["pods"], ["read", "read", "write", "all", "star", "getlist"]),
    (6, "", ["pods/log"], ["getlist", "get"]),
    (3, "", ["pods/exec"], ["create", "createget"]),
    (2, "", ["pods/portforward"], ["create", "createget"]),
    (2, "", ["pods/attach"], ["create", "createget"]),
    (9, "", ["services", "endpoints"], ["read", "write", "all"]),
    (10, "", ["configmaps"], ["read", "getlist", "write", "all", "update"]),
    (6, "", ["secrets"], ["read", "get", "getlist", "write", "all", "star"]),
    (4, "", ["serviceaccounts"], ["read", "write", "all"]),
    (2, "", ["serviceaccounts/token"], ["create"]),
    (3, "", ["nodes"], ["read", "getlist", "update"]),
    (1, "", ["nodes/proxy"], ["get", "getlist", "star"]),
    (1, "", ["nodes/stats", "nodes/metrics"], ["get", "getlist"]),
    (5, "", ["events"], ["create", "write", "read"]),
    (3, "", ["persistentvolumeclaims"], ["read", "write", "all"]),
    (2, "", ["namespaces"], ["read", "getlist", "get"]),
    (1, "", ["resourcequotas", "limitranges"], ["read"]),
    (10, "apps", ["deployments", "statefulsets", "daemonsets", "replicasets"],
     ["read", "write", "all", "star", "update"]),
    (2, "apps", ["deployments/scale", "statefulsets/scale"], ["update", "getlist"]),
    (5, "batch", ["jobs", "cronjobs"], ["read", "write", "all", "deletes"]),
    (3, "rbac.authorization.k8s.io", ["roles", "rolebindings"], ["read", "write", "all", "star"]),
    (4, "networking.k8s.io", ["ingresses", "networkpolicies"], ["read", "write", "all"]),
    (3, "coordination.k8s.io", ["leases"], ["write", "all", "update"]),
    (2, "autoscaling", ["horizontalpodautoscalers"], ["read", "write"]),
    (1, "policy", ["poddisruptionbudgets"], ["read", "write"]),
    (1, "discovery.k8s.io", ["endpointslices"], ["read"]),
    (3, "cert-manager.io", ["certificates", "issuers", "certificaterequests"],
     ["read", "write", "all"]),
    (3, "argoproj.io", ["applications", "appprojects", "applicationsets"],
     ["read", "write", "all", "star"]),
    (3, "monitoring.coreos.com", ["servicemonitors", "podmonitors", "prometheusrules"],
     ["read", "write", "all"]),
    (1, "external-secrets.io", ["externalsecrets", "secretstores"], ["read", "write"]),
    (1, "keda.sh", ["scaledobjects", "scaledjobs"], ["read", "write"]),
]
CLUSTER_ONLY = [
    (3, "rbac.authorization.k8s.io", ["clusterroles", "clusterrolebindings"],
     ["read", "write", "star"]),
    (2, "apiextensions.k8s.io", ["customresourcedefinitions"], ["read", "write"]),
    (2, "admissionregistration.k8s.io",
     ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"], ["read", "update"]),
    (2, "", ["persistentvolumes"], ["read", "write"]),
    (1, "storage.k8s.io", ["storageclasses", "csinodes", "volumeattachments"], ["read"]),
    (1, "authentication.k8s.io", ["tokenreviews"], ["create"]),
    (1, "authorization.k8s.io", ["subjectaccessreviews"], ["create"]),
    (1, "certificates.k8s.io", ["certificatesigningrequests"], ["read", "write"]),
]
NON_RESOURCE = [["/metrics"], ["/healthz", "/livez", "/readyz"], ["/version", "/version/"],
                ["/api", "/api/*", "/apis", "/apis/*"], ["/metrics", "/metrics/cadvisor"]]

IMAGES = {
    "nginx": "nginx:1.27.3", "redis": "redis:7.4.1-alpine", "postgres": "postgres:16.6",
    "envoy": "envoyproxy/envoy:v1.32.2", "busybox": "busybox:1.37",
    "fluent-bit": "cr.fluentbit.io/fluent/fluent-bit:3.2.2",
    "node-exporter": "quay.io/prometheus/node-exporter:v1.8.2",
    "kube-proxy": "registry.k8s.io/kube-proxy:v1.31.4",
    "coredns": "registry.k8s.io/coredns/coredns:v1.11.3",
}
INSTANCE_TYPES = ["m6i.2xlarge", "m6i.4xlarge", "c6i.4xlarge", "r6i.2xlarge", "m7g.2xlarge"]
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


# ---------------------------------------------------------------------------------------------
# Random helpers over one stream


class R:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.rv = 10_000

    def pick(self, seq):
        return seq[int(self.r() * len(seq))]

    def wpick(self, weighted):
        x = self.r() * sum(w[0] for w in weighted)
        for item in weighted:
            x -= item[0]
            if x < 0:
                return item
        return weighted[-1]

    def n(self, a, b):
        return self.rng.randint(a, b)

    def hex(self, n):
        return "%0*x" % (n, self.rng.getrandbits(4 * n))

    def alnum(self, n, alphabet="bcdfghjklmnpqrstvwxz2456789"):
        # Kubernetes' rand.String alphabet (no vowels, no 0/1/3).
        return "".join(alphabet[int(self.r() * len(alphabet))] for _ in range(n))

    def uid(self):
        h = "%032x" % self.rng.getrandbits(128)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3],
                                      h[17:20], h[20:])

    def b64(self, nbytes):
        return base64.b64encode(self.rng.getrandbits(8 * nbytes).to_bytes(nbytes, "big")).decode()

    def ts(self, lo=CLUSTER_BORN, hi=DUMP_AT):
        t = lo + int((hi - lo) * self.r() ** 0.7)
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))

    def resource_version(self):
        # Unique and increasing-ish, like etcd revisions scattered over the objects' lifetimes.
        self.rv += self.n(1, 4000)
        return str(self.rv)

    def person(self):
        return "%s.%s" % (self.pick(FIRST), self.pick(LAST))


def meta(g, name, namespace=None, labels=None, annotations=None, ts=None):
    m = {"creationTimestamp": ts or g.ts(), "name": name, "resourceVersion": g.resource_version(),
         "uid": g.uid()}
    if namespace is not None:
        m["namespace"] = namespace
    if labels:
        m["labels"] = labels
    if annotations:
        m["annotations"] = annotations
    return m


def add_last_applied(obj):
    """kubectl apply's annotation: the applied manifest as compact, key-sorted JSON + newline."""
    md = obj["metadata"]
    applied_md = {"annotations": {k: v for k, v in md.get("annotations", {}).items()
                                  if k != LAST_APPLIED}, "name": md["name"]}
    if "namespace" in md:
        applied_md["namespace"] = md["namespace"]
    if "labels" in md:
        applied_md["labels"] = md["labels"]
    applied = {k: v for k, v in obj.items() if k not in ("metadata", "status")}
    applied["metadata"] = applied_md
    text = json.dumps(applied, sort_keys=True, separators=(",", ":")) + "\n"
    md.setdefault("annotations", {})[LAST_APPLIED] = text


def team_labels(g, app, team, managed_by=None):
    labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": app.split("-")[0]}
    if team:
        labels["team"] = team
    if managed_by or g.r() < 0.5:
        labels["app.kubernetes.io/managed-by"] = managed_by or g.pick(["Helm", "argocd", "kustomize"])
    if labels.get("app.kubernetes.io/managed-by") == "Helm":
        labels["helm.sh/chart"] = "%s-%d.%d.%d" % (app.split("-")[0], g.n(0, 4), g.n(0, 30), g.n(0, 9))
    return labels


# ---------------------------------------------------------------------------------------------
# Namespaces


def make_namespaces(g):
    out = list(PLATFORM_NAMESPACES)
    combos = [(p, e) for p in PRODUCTS for e in ENVS]
    g.rng.shuffle(combos)
    for p, e in combos:
        if len(out) >= 200:
            break
        out.append("%s-%s" % (p, e))
    # Uneven sizes: a few busy namespaces, a long tail.
    weights = {ns: (0.3 if ns in ("kube-public", "kube-node-lease", "default") else
                    min(g.rng.paretovariate(1.6), 6.0)) for ns in out}
    owner = {ns: (g.pick(TEAMS) if ns not in PLATFORM_NAMESPACES else "platform") for ns in out}
    return sorted(out), weights, owner


def spread(g, namespaces, weights, total):
    """total items over namespaces proportionally to weights (at least 0 each)."""
    wsum = sum(weights.values())
    counts = {ns: int(total * weights[ns] / wsum) for ns in namespaces}
    short = total - sum(counts.values())
    for _ in range(short):
        ns = g.wpick([(weights[n], n) for n in namespaces])[1]
        counts[ns] += 1
    return counts


# ---------------------------------------------------------------------------------------------
# Roles


def make_rule(g, cluster):
    palette = PALETTE + (CLUSTER_ONLY if cluster else [])
    _, group, resources, verbsets = g.wpick(palette)
    k = 1 if len(resources) == 1 else g.n(1, len(resources))
    res = resources[:k] if g.r() < 0.6 else sorted(g.rng.sample(resources, k))
    verbs = list(VERBSETS[g.pick(verbsets)])
    rule = {"apiGroups": [group], "resources": res, "verbs": verbs}
    x = g.r()
    named = res[0] in ("secrets", "configmaps", "leases", "deployments", "pods",
                       "serviceaccounts", "services")
    if named and x < 0.04:  # about half the palette can name objects: ~2% of all rules
        names = sorted({"%s-%s" % (g.pick(PRODUCTS), g.pick(["config", "tls", "lock", "creds",
                                                            "leader", "settings", "env"]))
                        for _ in range(g.n(1, 3))})
        rule["resourceNames"] = names
        if "list" in verbs or "watch" in verbs:
            rule["verbs"] = [v for v in verbs if v not in ("list", "watch", "create",
                                                           "deletecollection")] or ["get"]
    elif 0.04 <= x < 0.05:  # ~1% of rules
        which = g.r()
        if which < 0.4:
            rule["resources"] = ["*"]
        elif which < 0.7:
            rule["apiGroups"] = ["*"]
        else:
            rule["apiGroups"], rule["resources"] = ["*"], ["*"]
        if g.r() < 0.5:
            rule["verbs"] = ["*"]
    return rule


def make_rules(g, cluster, purpose):
    n = g.n(1, 8)
    rules = []
    if purpose == "leader-election":
        rules.append({"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
                      "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]})
        rules.append({"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]})
        n = g.n(0, 2)
    elif purpose in ("secret-reader", "config-reader"):
        rules.append({"apiGroups": [""], "resources": ["secrets" if purpose == "secret-reader"
                                                       else "configmaps"],
                      "verbs": ["get", "list", "watch"]})
        n = g.n(0, 2)
    for _ in range(n):
        rules.append(make_rule(g, cluster))
    if cluster and g.r() < 0.05:
        rules.append({"nonResourceURLs": g.pick(NON_RESOURCE), "verbs": ["get"]})
    return rules[:8]


def builtin_cluster_role(g, name):
    labels = {"kubernetes.io/bootstrapping": "rbac-defaults"}
    annotations = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    obj = {"apiVersion": RBAC_V1, "kind": "ClusterRole"}
    if name == "cluster-admin":
        rules = [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                 {"nonResourceURLs": ["*"], "verbs": ["*"]}]
    elif name in ("admin", "edit", "view"):
        agg = "rbac.authorization.k8s.io/aggregate-to-" + name
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {agg: "true"}}]}
        if name == "edit":
            labels["rbac.authorization.k8s.io/aggregate-to-admin"] = "true"
        if name == "view":
            labels["rbac.authorization.k8s.io/aggregate-to-edit"] = "true"
        rules = [make_rule(g, False) for _ in range(g.n(4, 8))]
    elif name.startswith("system:aggregate-to-"):
        labels["rbac.authorization.k8s.io/" + name[len("system:"):]] = "true"
        rules = [make_rule(g, False) for _ in range(g.n(3, 8))]
    elif name in ("system:discovery", "system:public-info-viewer", "system:monitoring"):
        rules = [{"nonResourceURLs": ["/healthz", "/livez", "/readyz", "/version", "/version/"],
                  "verbs": ["get"]}]
        if name == "system:discovery":
            rules[0]["nonResourceURLs"] = ["/api", "/api/*", "/apis", "/apis/*", "/healthz",
                                           "/livez", "/openapi", "/openapi/*", "/readyz",
                                           "/version", "/version/"]
        if name == "system:monitoring":
            rules[0]["nonResourceURLs"] = ["/healthz", "/healthz/*", "/livez", "/livez/*",
                                           "/metrics", "/metrics/slis", "/readyz", "/readyz/*"]
    elif name == "system:kubelet-api-admin":
        rules = [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                 {"apiGroups": [""], "resources": ["nodes"], "verbs": ["proxy"]},
                 {"apiGroups": [""], "resources": ["nodes/log", "nodes/metrics", "nodes/proxy",
                                                   "nodes/stats"], "verbs": ["*"]}]
    else:
        rules = [make_rule(g, True) for _ in range(g.n(1, 8))]
    obj["metadata"] = meta(g, name, labels=labels, annotations=annotations, ts=g.ts(hi=CLUSTER_BORN + 60))
    obj["rules"] = rules
    return obj


def make_cluster_roles(g, count):
    roles = {}
    for name in BUILTIN_CLUSTER_ROLES:
        if len(roles) >= count:
            break
        roles[name] = builtin_cluster_role(g, name)
    candidates = []
    for ns, prefix, parts in OPERATORS:
        for p in parts:
            candidates.append((prefix + ("-" + p if p else ""), prefix, ns))
    for name, prefix, ns in candidates:
        if len(roles) >= count:
            break
        roles[name] = custom_role(g, name, None, prefix, "platform", cluster=True)
    while len(roles) < count:
        product = g.pick(PRODUCTS)
        style = g.r()
        if style < 0.5:
            name = "%s-%s" % (product, g.pick(ROLE_PURPOSES))
        elif style < 0.8:
            name = "%s-%s-%s" % (product, g.pick(APP_PARTS), g.pick(ROLE_PURPOSES))
        else:
            name = "team-%s-%s" % (g.pick(TEAMS), g.pick(ROLE_PURPOSES))
        if name in roles:
            name = "%s-%s" % (name, g.alnum(5))
        if name in roles:
            continue
        roles[name] = custom_role(g, name, None, product, g.pick(TEAMS), cluster=True)
    return roles


def custom_role(g, name, namespace, app, team, cluster):
    purpose = next((p for p in ("leader-election", "secret-reader", "config-reader")
                    if name.endswith(p)), "")
    labels = team_labels(g, app, team)
    if cluster and g.r() < 0.03:
        labels["rbac.authorization.k8s.io/aggregate-to-" + g.pick(["view", "edit", "admin"])] = "true"
    annotations = None
    if g.r() < 0.15:
        annotations = {"meta.helm.sh/release-name": app, "meta.helm.sh/release-namespace":
                       namespace or app}
        labels["app.kubernetes.io/managed-by"] = "Helm"
    elif g.r() < 0.08:
        annotations = {"owner": "%s@corp.example" % g.person(),
                       "description": "%s access for %s" % (name.rsplit("-", 1)[-1], app)}
    obj = {"apiVersion": RBAC_V1, "kind": "ClusterRole" if cluster else "Role",
           "metadata": meta(g, name, namespace, labels, annotations),
           "rules": make_rules(g, cluster, purpose)}
    if g.r() < 0.30:
        add_last_applied(obj)
    return obj


def make_roles(g, namespaces, counts, owner):
    by_ns = {}
    for ns in namespaces:
        roles = {}
        base = ns.rsplit("-", 1)[0] if ns not in PLATFORM_NAMESPACES else ns
        tries = 0
        while len(roles) < counts[ns] and tries < counts[ns] * 20:
            tries += 1
            x = g.r()
            if x < 0.45:
                name = "%s-%s" % (base, g.pick(ROLE_PURPOSES))
            elif x < 0.85:
                name = "%s-%s-%s" % (base, g.pick(APP_PARTS), g.pick(ROLE_PURPOSES))
            else:
                name = g.pick(["leader-election-role", "pod-reader", "secret-reader",
                               "configmap-reader", "ci-deployer", "helm-release-manager",
                               "debug-exec", "job-runner", "view-logs", "argocd-manager"])
            if name in roles:
                name = "%s-%s" % (name, g.alnum(5))
                if name in roles:
                    continue
            roles[name] = custom_role(g, name, ns, base, owner[ns], cluster=False)
        by_ns[ns] = roles
    return by_ns


# ---------------------------------------------------------------------------------------------
# Service accounts


def make_service_accounts(g, namespaces, counts):
    by_ns = {}
    for ns in namespaces:
        sas = {"default": None}
        if ns == "kube-system":  # the controller manager's per-controller identities
            for name in BUILTIN_CLUSTER_ROLES:
                if name.startswith("system:controller:"):
                    sas[name[len("system:controller:"):]] = None
            sas.update({"coredns": None, "kube-proxy": None})
        base = ns.rsplit("-", 1)[0] if ns not in PLATFORM_NAMESPACES else ns
        tries = 0
        while len(sas) < counts[ns] and tries < counts[ns] * 20:
            tries += 1
            x = g.r()
            if ns == "kube-system" and x < 0.5:
                name = g.pick(["coredns", "kube-proxy", "aws-node", "ebs-csi-controller-sa",
                               "metrics-server", "cluster-autoscaler", "attachdetach-controller",
                               "replicaset-controller", "deployment-controller",
                               "generic-garbage-collector", "namespace-controller",
                               "job-controller", "cronjob-controller", "node-controller"])
            elif x < 0.7:
                name = "%s-%s" % (base, g.pick(APP_PARTS))
            else:
                name = g.pick(["ci-deployer", "argocd-manager", "prometheus", "fluent-bit",
                               "vault-auth", "backup", "external-secrets", "migrations",
                               "%s-sa" % base, "%s" % base])
            if name in sas:
                name = "%s-%s" % (name, g.pick(APP_PARTS + ENVS + ["v2", "ro", "rw"]))
            sas.setdefault(name, None)
        for name in sas:
            labels = None if name == "default" else team_labels(g, base, None)
            annotations = None
            if name != "default" and g.r() < 0.2:
                annotations = {"eks.amazonaws.com/role-arn":
                               "arn:aws:iam::%012d:role/%s-%s" % (g.n(10**11, 10**12 - 1), ns, name)}
            obj = {"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": meta(g, name, ns, labels, annotations)}
            if name != "default" and g.r() < 0.15:
                obj["automountServiceAccountToken"] = False
            if g.r() < 0.1:
                obj["imagePullSecrets"] = [{"name": "regcred"}]
            if name != "default" and g.r() < 0.3:
                add_last_applied(obj)
            sas[name] = obj
        by_ns[ns] = sas
    return by_ns


# ---------------------------------------------------------------------------------------------
# Bindings


def make_subjects(g, sa_by_ns, ns):
    subjects = []
    for _ in range(g.wpick([(50, 1), (30, 2), (14, 3), (6, 4)])[1]):
        x = g.r()
        if x < 0.35:
            subjects.append({"apiGroup": RBAC_API, "kind": "User",
                             "name": "%s@corp.example" % g.person()})
        elif x < 0.6:
            subjects.append({"apiGroup": RBAC_API, "kind": "Group",
                             "name": "team-%s" % g.pick(TEAMS)})
        elif x < 0.985:
            sns = ns if (ns and g.r() < 0.8) else g.pick(list(sa_by_ns))
            sa = g.pick(list(sa_by_ns[sns])) if g.r() < 0.97 else "%s-%s" % (
                g.pick(PRODUCTS), g.pick(APP_PARTS))  # now and then one that no longer exists
            subjects.append({"kind": "ServiceAccount", "name": sa, "namespace": sns})
        else:
            subjects.append({"apiGroup": RBAC_API, "kind": "Group",
                             "name": g.pick(["system:authenticated", "system:authenticated",
                                             "system:serviceaccounts",
                                             "system:serviceaccounts:%s" % (ns or "default")])})
    # No duplicates within a binding.
    seen, out = set(), []
    for s in subjects:
        key = (s["kind"], s["name"], s.get("namespace"))
        if key not in seen:
            seen.add(key)
            out.append(s)
    return out


def make_binding(g, kind, name, ns, role_kind, role_name, subjects, app, team):
    labels = team_labels(g, app, team) if g.r() < 0.8 else None
    annotations = None
    if g.r() < 0.1:
        annotations = {"meta.helm.sh/release-name": app, "meta.helm.sh/release-namespace": ns or app}
    obj = {"apiVersion": RBAC_V1, "kind": kind, "metadata": meta(g, name, ns, labels, annotations),
           "roleRef": {"apiGroup": RBAC_API, "kind": role_kind, "name": role_name}}
    if subjects:
        obj["subjects"] = subjects
    if g.r() < 0.30:
        add_last_applied(obj)
    return obj


def missing_role_name(g):
    return "%s-%s-%s" % (g.pick(PRODUCTS), g.pick(ROLE_PURPOSES), g.pick(["old", "legacy", "v1",
                                                                       "tmp", "deprecated"]))


def make_cluster_bindings(g, count, cluster_roles, sa_by_ns):
    out = {}
    for role, subs in BUILTIN_BINDINGS.items():
        if role not in cluster_roles or len(out) >= count:
            continue
        subjects = []
        for kind, nm in subs:
            if kind == "ServiceAccount":
                sns, snm = nm.split("/")
                subjects.append({"kind": kind, "name": snm, "namespace": sns})
            else:
                subjects.append({"apiGroup": RBAC_API, "kind": kind, "name": nm})
        obj = {"apiVersion": RBAC_V1, "kind": "ClusterRoleBinding",
               "metadata": meta(g, role, labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                                annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"},
                                ts=g.ts(hi=CLUSTER_BORN + 60)),
               "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": role}}
        if subjects:
            obj["subjects"] = subjects
        out[role] = obj
    # The controller manager's roles, bound to its per-controller service accounts.
    for role in sorted(cluster_roles):
        if role.startswith("system:controller:") and len(out) < count:
            sa = role[len("system:controller:"):]
            out[role] = {
                "apiVersion": RBAC_V1, "kind": "ClusterRoleBinding",
                "metadata": meta(g, role, labels={"kubernetes.io/bootstrapping": "rbac-defaults"},
                                 annotations={"rbac.authorization.kubernetes.io/autoupdate": "true"},
                                 ts=g.ts(hi=CLUSTER_BORN + 60)),
                "roleRef": {"apiGroup": RBAC_API, "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": "kube-system"}]}
    # Operators' roles, bound to the operator's own service account (as their charts do).
    for ns, prefix, parts in OPERATORS:
        for p in parts:
            role = prefix + ("-" + p if p else "")
            if role not in cluster_roles or role in out or len(out) >= count:
                continue
            sa = prefix if prefix in sa_by_ns.get(ns, {}) else g.pick(sorted(sa_by_ns[ns]))
            out[role] = make_binding(g, "ClusterRoleBinding", role, None, "ClusterRole", role,
                                     [{"kind": "ServiceAccount", "name": sa, "namespace": ns}],
                                     prefix, "platform")
    # People, teams and workloads are bound to the user-facing roles, not to system:* ones.
    names = sorted(n for n in cluster_roles if not n.startswith("system:")
                   or n == "system:auth-delegator")
    while len(out) < count:
        if g.r() < 0.01:
            role = missing_role_name(g)
        else:
            role = g.pick(names)
        x = g.r()
        if x < 0.5:
            name = role.replace("system:", "") + g.pick(["", "-binding", "-crb"])
        elif x < 0.8:
            name = "%s-%s" % (role.replace("system:", ""), g.pick(TEAMS))
        else:
            name = "%s-%s" % (role.replace("system:", ""), g.alnum(5))
        if name in out:
            name = "%s-%s" % (name, g.alnum(5))
            if name in out:
                continue
        app = role.split(":")[-1].split("-")[0]
        out[name] = make_binding(g, "ClusterRoleBinding", name, None, "ClusterRole", role,
                                 make_subjects(g, sa_by_ns, None), app, g.pick(TEAMS))
    return out


def make_role_bindings(g, namespaces, counts, roles_by_ns, cluster_roles, sa_by_ns, owner):
    common_cluster = ["admin", "edit", "view", "admin", "edit", "view", "view"]
    cluster_names = sorted(n for n in cluster_roles if not n.startswith("system:"))
    by_ns = {}
    for ns in namespaces:
        out = {}
        ns_roles = sorted(roles_by_ns[ns])
        base = ns.rsplit("-", 1)[0] if ns not in PLATFORM_NAMESPACES else ns
        tries = 0
        while len(out) < counts[ns] and tries < counts[ns] * 20:
            tries += 1
            x = g.r()
            if x < 0.01:
                kind, role = g.pick(["Role", "ClusterRole"]), missing_role_name(g)
            elif ns_roles and x < 0.70:
                kind, role = "Role", g.pick(ns_roles)
            elif x < 0.85:
                kind, role = "ClusterRole", g.pick(common_cluster)
            else:
                kind, role = "ClusterRole", g.pick(cluster_names)
            y = g.r()
            if y < 0.5:
                name = role.replace("system:", "").replace(":", "-") + g.pick(
                    ["", "-binding", "-rb", "-rolebinding"])
            elif y < 0.8:
                name = "%s-%s" % (role.replace("system:", "").replace(":", "-"), g.pick(TEAMS))
            else:
                name = "%s-%s" % (role.replace("system:", "").replace(":", "-"), g.alnum(5))
            if name in out:
                name = "%s-%s" % (name, g.alnum(5))
                if name in out:
                    continue
            out[name] = make_binding(g, "RoleBinding", name, ns, kind, role,
                                     make_subjects(g, sa_by_ns, ns), base, owner[ns])
        by_ns[ns] = out
    return by_ns


# ---------------------------------------------------------------------------------------------
# Nodes, pods, secrets


def make_nodes(g, count):
    nodes = {}
    while len(nodes) < count:
        subnet = g.n(0, 2)
        ip = "10.0.%d.%d" % (subnet * 16 + g.n(0, 15), g.n(2, 254))
        name = "ip-%s.eu-west-1.compute.internal" % ip.replace(".", "-")
        if name in nodes:
            continue
        it = g.pick(INSTANCE_TYPES)
        zone = ZONES[subnet]
        arch = "arm64" if it.startswith("m7g") else "amd64"
        pool = g.pick(["general", "general", "compute", "memory", "system"])
        cpu = {"2x": 8, "4x": 16}[it.split(".")[1][:2]]
        mem_ki = cpu * 4 * 1024 * 1024 - g.n(400000, 600000)
        labels = {
            "beta.kubernetes.io/arch": arch, "beta.kubernetes.io/instance-type": it,
            "beta.kubernetes.io/os": "linux", "eks.amazonaws.com/capacityType":
                g.pick(["ON_DEMAND", "ON_DEMAND", "SPOT"]),
            "eks.amazonaws.com/nodegroup": "%s-%s" % (pool, zone[-1]),
            "failure-domain.beta.kubernetes.io/region": "eu-west-1",
            "failure-domain.beta.kubernetes.io/zone": zone, "kubernetes.io/arch": arch,
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": it, "topology.kubernetes.io/region": "eu-west-1",
            "topology.kubernetes.io/zone": zone,
        }
        annotations = {"alpha.kubernetes.io/provided-node-ip": ip,
                       "node.alpha.kubernetes.io/ttl": "0",
                       "volumes.kubernetes.io/controller-managed-attach-detach": "true"}
        created = g.ts(lo=DUMP_AT - 40 * 86400)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(DUMP_AT - g.n(5, 60)))
        conds = []
        for ctype, status, reason, msg in [
                ("MemoryPressure", "False", "KubeletHasSufficientMemory",
                 "kubelet has sufficient memory available"),
                ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                ("PIDPressure", "False", "KubeletHasSufficientPID",
                 "kubelet has sufficient PID available"),
                ("Ready", "True", "KubeletReady", "kubelet is posting ready status")]:
            conds.append({"lastHeartbeatTime": now, "lastTransitionTime": created,
                          "message": msg, "reason": reason, "status": status, "type": ctype})
        pod_cidr = "10.244.%d.0/24" % len(nodes)
        obj = {
            "apiVersion": "v1", "kind": "Node",
            "metadata": meta(g, name, None, labels, annotations, ts=created),
            "spec": {"podCIDR": pod_cidr, "podCIDRs": [pod_cidr],
                     "providerID": "aws:///%s/i-0%s" % (zone, g.hex(16))},
            "status": {
                "addresses": [{"address": ip, "type": "InternalIP"},
                              {"address": name, "type": "InternalDNS"},
                              {"address": name, "type": "Hostname"}],
                "allocatable": {"cpu": "%dm" % (cpu * 1000 - 90), "ephemeral-storage":
                                "95551679124", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                                "memory": "%dKi" % (mem_ki - 800000), "pods": "58"},
                "capacity": {"cpu": str(cpu), "ephemeral-storage": "104845292Ki",
                             "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                             "memory": "%dKi" % mem_ki, "pods": "58"},
                "conditions": conds,
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": arch, "bootID": g.uid(),
                    "containerRuntimeVersion": "containerd://1.7.23",
                    "kernelVersion": "6.1.115-126.197.amzn2023.%s" % (
                        "aarch64" if arch == "arm64" else "x86_64"),
                    "kubeProxyVersion": "v1.31.3-eks-56e63d8", "kubeletVersion":
                        "v1.31.3-eks-56e63d8", "machineID": g.hex(32),
                    "operatingSystem": "linux", "osImage": "Amazon Linux 2023.6.20241121",
                    "systemUUID": "ec2" + g.hex(5) + "-" + g.uid()[9:]},
            },
        }
        nodes[name] = obj
    return nodes


def env_vars(g, app, ns, secret_names, cm_names):
    env = [{"name": "LOG_LEVEL", "value": g.pick(["info", "info", "warn", "debug"])},
           {"name": "PORT", "value": str(g.pick([8080, 8000, 3000, 9090, 5000]))}]
    if g.r() < 0.6:
        env.append({"name": "DB_HOST", "value": "%s-db.%s.svc.cluster.local" % (app, ns)})
        env.append({"name": "DB_USER", "value": app.replace("-", "_")})
    if secret_names and g.r() < 0.5:
        env.append({"name": g.pick(["DB_PASSWORD", "API_KEY", "STRIPE_KEY", "SMTP_PASSWORD"]),
                    "valueFrom": {"secretKeyRef": {"key": g.pick(["password", "api-key",
                                                                  "token"]),
                                                   "name": g.pick(secret_names)}}})
    if cm_names and g.r() < 0.3:
        env.append({"name": "FEATURE_FLAGS", "valueFrom": {"configMapKeyRef": {
            "key": "flags", "name": g.pick(cm_names)}}})
    if g.r() < 0.5:
        env.append({"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1",
                                                                   "fieldPath": "metadata.name"}}})
    if g.r() < 0.3:
        env.append({"name": "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "value": "http://otel-collector.monitoring.svc:4317"})
    return env


def make_pods(g, namespaces, counts, sa_by_ns, node_names, secrets_by_ns):
    by_ns = {}
    for ns in namespaces:
        pods = {}
        base = ns.rsplit("-", 1)[0] if ns not in PLATFORM_NAMESPACES else ns
        sa_names = sorted(sa_by_ns[ns])
        secret_names = sorted(n for n, s in secrets_by_ns.get(ns, {}).items()
                              if s["type"] == "Opaque")
        tries = 0
        while len(pods) < counts[ns] and tries < counts[ns] * 20:
            tries += 1
            app = "%s-%s" % (base, g.pick(APP_PARTS))
            owner_kind = g.wpick([(70, "ReplicaSet"), (12, "StatefulSet"), (10, "DaemonSet"),
                                  (8, "Job")])[1]
            if owner_kind == "ReplicaSet":
                rs_hash = g.alnum(10)
                owner_name = "%s-%s" % (app, rs_hash)
                name = "%s-%s" % (owner_name, g.alnum(5))
            elif owner_kind == "StatefulSet":
                owner_name = app
                name = "%s-%d" % (app, g.n(0, 2))
            elif owner_kind == "DaemonSet":
                owner_name = app
                name = "%s-%s" % (app, g.alnum(5))
            else:
                owner_name = "%s-%d" % (app, g.n(29000000, 29999999))
                name = "%s-%s" % (owner_name, g.alnum(5))
            if name in pods:
                continue  # (a StatefulSet ordinal drawn twice; draw again)
            sa = g.pick(sa_names)
            node = g.pick(node_names)
            labels = {"app.kubernetes.io/name": app, "app.kubernetes.io/instance": app}
            if owner_kind == "ReplicaSet":
                labels["pod-template-hash"] = rs_hash
            elif owner_kind == "StatefulSet":
                labels["statefulset.kubernetes.io/pod-name"] = name
                labels["controller-revision-hash"] = "%s-%s" % (app, g.alnum(10))
            elif owner_kind == "DaemonSet":
                labels["controller-revision-hash"] = g.alnum(10)
                labels["pod-template-generation"] = str(g.n(1, 9))
            else:
                labels["batch.kubernetes.io/job-name"] = owner_name
                labels["job-name"] = owner_name
            annotations = None
            if g.r() < 0.4:
                annotations = {"prometheus.io/scrape": "true", "prometheus.io/port": "9090"}
            if g.r() < 0.2:
                annotations = dict(annotations or {})
                annotations["kubectl.kubernetes.io/restartedAt"] = g.ts(lo=DUMP_AT - 30 * 86400)
            md = meta(g, name, ns, labels, annotations, ts=g.ts(lo=DUMP_AT - 30 * 86400))
            if owner_kind in ("ReplicaSet", "DaemonSet", "Job"):
                md["generateName"] = name[:-5]
            md["ownerReferences"] = [{"apiVersion": "batch/v1" if owner_kind == "Job" else "apps/v1",
                                      "blockOwnerDeletion": True, "controller": True,
                                      "kind": owner_kind, "name": owner_name, "uid": g.uid()}]
            api_access = "kube-api-access-%s" % g.alnum(5)
            image = ("registry.corp.example/%s/%s:%d.%d.%d" % (base, app, g.n(0, 3), g.n(0, 40),
                                                               g.n(0, 20))
                     if g.r() < 0.8 else IMAGES[g.pick(sorted(IMAGES))])
            port = g.pick([8080, 8000, 3000, 9090, 5000])
            mounts = [{"mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                       "name": api_access, "readOnly": True}]
            volumes = [{"name": api_access, "projected": {"defaultMode": 420, "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"items": [{"key": "ca.crt", "path": "ca.crt"}],
                               "name": "kube-root-ca.crt"}},
                {"downwardAPI": {"items": [{"fieldRef": {"apiVersion": "v1",
                                                         "fieldPath": "metadata.namespace"},
                                            "path": "namespace"}]}}]}}]
            v = g.r()
            if v < 0.35:
                volumes.append({"configMap": {"defaultMode": 420, "name": "%s-config" % app},
                                "name": "config"})
                mounts.append({"mountPath": "/etc/%s" % app, "name": "config", "readOnly": True})
            elif v < 0.55 and secret_names:
                volumes.append({"name": "secrets", "secret": {"defaultMode": 420,
                                                              "secretName": g.pick(secret_names)}})
                mounts.append({"mountPath": "/var/run/secrets/app", "name": "secrets",
                               "readOnly": True})
            elif v < 0.75:
                volumes.append({"emptyDir": {}, "name": "tmp"})
                mounts.append({"mountPath": "/tmp", "name": "tmp"})
            elif owner_kind == "DaemonSet":
                volumes.append({"hostPath": {"path": "/var/log", "type": ""}, "name": "varlog"})
                mounts.append({"mountPath": "/var/log", "name": "varlog", "readOnly": True})
            elif owner_kind == "StatefulSet":
                volumes.append({"name": "data", "persistentVolumeClaim": {
                    "claimName": "data-%s" % name}})
                mounts.append({"mountPath": "/data", "name": "data"})
            cpu_m = g.pick([50, 100, 200, 250, 500, 1000])
            mem_mi = g.pick([64, 128, 256, 512, 1024, 2048])
            container = {
                "env": env_vars(g, app, ns, secret_names, ["%s-config" % app]),
                "image": image, "imagePullPolicy": g.pick(["IfNotPresent", "IfNotPresent", "Always"]),
                "name": app.rsplit("-", 1)[-1],
                "ports": [{"containerPort": port, "name": "http", "protocol": "TCP"}],
                "resources": {"limits": {"memory": "%dMi" % mem_mi},
                              "requests": {"cpu": "%dm" % cpu_m, "memory": "%dMi" % mem_mi}},
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "volumeMounts": mounts,
            }
            if g.r() < 0.6:
                container["readinessProbe"] = {"failureThreshold": 3, "httpGet": {
                    "path": "/healthz", "port": port, "scheme": "HTTP"}, "periodSeconds": 10,
                    "successThreshold": 1, "timeoutSeconds": 1}
            containers = [container]
            if g.r() < 0.15:
                containers.append({"args": ["proxy", "sidecar"], "image": "docker.io/istio/proxyv2:1.24.1",
                                   "imagePullPolicy": "IfNotPresent", "name": "istio-proxy",
                                   "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
                                   "terminationMessagePath": "/dev/termination-log",
                                   "terminationMessagePolicy": "File",
                                   "volumeMounts": [mounts[0]]})
            spec = {
                "containers": containers, "dnsPolicy": "ClusterFirst",
                "enableServiceLinks": True, "nodeName": node, "preemptionPolicy": "PreemptLowerPriority",
                "priority": 0, "restartPolicy": "Never" if owner_kind == "Job" else "Always",
                "schedulerName": "default-scheduler", "securityContext": {},
                "serviceAccount": sa, "serviceAccountName": sa,
                "terminationGracePeriodSeconds": 30,
                "tolerations": [
                    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready",
                     "operator": "Exists", "tolerationSeconds": 300},
                    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable",
                     "operator": "Exists", "tolerationSeconds": 300}],
                "volumes": volumes,
            }
            if g.r() < 0.1:
                spec["automountServiceAccountToken"] = False
            if g.r() < 0.2:
                spec["securityContext"] = {"fsGroup": 1000, "runAsNonRoot": True, "runAsUser": 1000}
            started = md["creationTimestamp"]
            host_ip = node[3:].split(".")[0].replace("-", ".")
            pod_ip = "10.244.%d.%d" % (node_names.index(node), g.n(2, 250))
            phase = "Succeeded" if owner_kind == "Job" and g.r() < 0.8 else "Running"
            statuses = []
            for c in containers:
                st = {"containerID": "containerd://" + g.hex(64), "image": c["image"],
                      "imageID": c["image"].split(":")[0] + "@sha256:" + g.hex(64),
                      "lastState": {}, "name": c["name"], "ready": phase == "Running",
                      "restartCount": g.pick([0, 0, 0, 0, 1, 2, 7]), "started": phase == "Running"}
                if phase == "Running":
                    st["state"] = {"running": {"startedAt": started}}
                else:
                    st["state"] = {"terminated": {"containerID": st["containerID"], "exitCode": 0,
                                                  "finishedAt": started, "reason": "Completed",
                                                  "startedAt": started}}
                statuses.append(st)
            status = {
                "conditions": [{"lastProbeTime": None, "lastTransitionTime": started,
                                "status": "True", "type": t}
                               for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")],
                "containerStatuses": statuses, "hostIP": host_ip, "hostIPs": [{"ip": host_ip}],
                "phase": phase, "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
                "qosClass": "Burstable", "startTime": started,
            }
            pods[name] = {"apiVersion": "v1", "kind": "Pod", "metadata": md, "spec": spec,
                          "status": status}
        by_ns[ns] = pods
    return by_ns


def make_secrets(g, namespaces, counts, sa_by_ns):
    by_ns = {}
    for ns in namespaces:
        secrets = {}
        base = ns.rsplit("-", 1)[0] if ns not in PLATFORM_NAMESPACES else ns
        tries = 0
        while len(secrets) < counts[ns] and tries < counts[ns] * 20:
            tries += 1
            kind = g.wpick([(35, "Opaque"), (25, "kubernetes.io/tls"),
                            (30, "kubernetes.io/service-account-token"),
                            (10, "kubernetes.io/dockerconfigjson")])[1]
            annotations, labels = None, None
            if kind == "Opaque":
                name = "%s-%s" % (base, g.pick(["db", "api-keys", "smtp", "credentials", "env",
                                                "s3", "oauth", "webhook", "redis", "config"]))
                data = {k: g.b64(g.n(12, 48)) for k in g.rng.sample(
                    ["password", "username", "api-key", "token", "url", "client-id",
                     "client-secret", "access-key", "secret-key"], g.n(1, 4))}
                labels = team_labels(g, base, None)
            elif kind == "kubernetes.io/tls":
                name = "%s-%s" % (g.pick([base, base + "-" + g.pick(APP_PARTS)]),
                                  g.pick(["tls", "cert", "ingress-tls", "webhook-tls"]))
                data = {"ca.crt": g.b64(g.n(900, 1300)), "tls.crt": g.b64(g.n(1100, 1600)),
                        "tls.key": g.b64(g.n(1150, 1250))}
                if g.r() < 0.6:
                    annotations = {"cert-manager.io/alt-names": "%s.corp.example" % base,
                                   "cert-manager.io/certificate-name": name,
                                   "cert-manager.io/common-name": "%s.corp.example" % base,
                                   "cert-manager.io/issuer-group": "cert-manager.io",
                                   "cert-manager.io/issuer-kind": "ClusterIssuer",
                                   "cert-manager.io/issuer-name": "letsencrypt-prod"}
                    labels = {"controller.cert-manager.io/fao": "true"}
            elif kind == "kubernetes.io/service-account-token":
                sa_name = g.pick(sorted(sa_by_ns[ns]))
                name = "%s-token%s" % (sa_name, g.pick(["", "-" + g.alnum(5)]))
                sa = sa_by_ns[ns][sa_name]
                annotations = {"kubernetes.io/service-account.name": sa_name,
                               "kubernetes.io/service-account.uid": sa["metadata"]["uid"]}
                data = {"ca.crt": g.b64(g.n(1000, 1100)),
                        "namespace": base64.b64encode(ns.encode()).decode(),
                        "token": g.b64(g.n(600, 700))}
            else:
                name = g.pick(["regcred", "ghcr-pull", "ecr-pull", "harbor-robot",
                               "%s-registry" % base])
                data = {".dockerconfigjson": g.b64(g.n(120, 260))}
            if name in secrets:
                if kind == "kubernetes.io/service-account-token":
                    continue
                name = "%s-%s" % (name, g.alnum(5))
                if name in secrets:
                    continue
            obj = {"apiVersion": "v1", "data": data, "kind": "Secret",
                   "metadata": meta(g, name, ns, labels, annotations), "type": kind}
            if kind in ("Opaque", "kubernetes.io/dockerconfigjson") and g.r() < 0.3:
                add_last_applied(obj)
            secrets[name] = obj
        by_ns[ns] = secrets
    return by_ns


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--roles", type=int, default=5000, help="ClusterRoles + Roles (20%% / 80%%)")
    ap.add_argument("--bindings", type=int, default=20000,
                    help="ClusterRoleBindings + RoleBindings (15%% / 85%%)")
    ap.add_argument("--service-accounts", type=int, default=2000)
    ap.add_argument("--pods", type=int, default=3000)
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--secrets", type=int, default=1000)
    ap.add_argument("--out", default="-", help="output file (default: stdout)")
    args = ap.parse_args()

    t0 = time.time()
    g = R(args.seed)
    namespaces, weights, owner = make_namespaces(g)

    n_cr = max(1, round(args.roles * 0.2))
    n_r = args.roles - n_cr
    n_crb = round(args.bindings * 0.15)
    n_rb = args.bindings - n_crb

    cluster_roles = make_cluster_roles(g, n_cr)
    roles = make_roles(g, namespaces, spread(g, namespaces, weights, n_r), owner)

    sa_counts = spread(g, namespaces, weights, max(0, args.service_accounts - len(namespaces)))
    sa_counts = {ns: c + 1 for ns, c in sa_counts.items()}  # plus `default`
    sas = make_service_accounts(g, namespaces, sa_counts)

    cluster_bindings = make_cluster_bindings(g, n_crb, cluster_roles, sas)
    bindings = make_role_bindings(g, namespaces, spread(g, namespaces, weights, n_rb), roles,
                                  cluster_roles, sas, owner)

    nodes = make_nodes(g, args.nodes)
    node_names = sorted(nodes)
    secrets = make_secrets(g, namespaces, spread(g, namespaces, weights, args.secrets), sas)
    pods = make_pods(g, namespaces, spread(g, namespaces, weights, args.pods), sas, node_names,
                     secrets)

    def flat(by_ns):
        return [by_ns[ns][n] for ns in sorted(by_ns) for n in sorted(by_ns[ns])]

    groups = [
        ("ClusterRole", [cluster_roles[n] for n in sorted(cluster_roles)]),
        ("ClusterRoleBinding", [cluster_bindings[n] for n in sorted(cluster_bindings)]),
        ("Role", flat(roles)),
        ("RoleBinding", flat(bindings)),
        ("ServiceAccount", flat(sas)),
        ("Pod", flat(pods)),
        ("Node", [nodes[n] for n in node_names]),
        ("Secret", flat(secrets)),
    ]
    items = [obj for _, objs in groups for obj in objs]
    doc = {"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}}
    t1 = time.time()

    # kubectl's printer is Go's json.MarshalIndent(obj, "", "    "): sorted map keys, 4 spaces,
    # non-ASCII left as UTF-8 and <, >, & escaped as \u003c, \u003e, \u0026.
    text = json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False)
    if "<" in text or ">" in text or "&" in text:
        text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    data = (text + "\n").encode("utf-8")
    if args.out == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    else:
        with open(args.out, "wb") as f:
            f.write(data)
    t2 = time.time()

    missing = 0
    cr_names = set(cluster_roles)
    for b in list(cluster_bindings.values()) + flat(bindings):
        ref = b["roleRef"]
        ns = b["metadata"].get("namespace")
        if ref["kind"] == "ClusterRole":
            missing += ref["name"] not in cr_names
        else:
            missing += ref["name"] not in roles.get(ns, {})
    counts = ", ".join("%d %ss" % (len(objs), kind) for kind, objs in groups)
    print("gen_rbac: seed %d, %d namespaces: %s; %d items, %d bindings to missing roles" % (
        args.seed, len(namespaces), counts, len(items), missing), file=sys.stderr)
    print("gen_rbac: %d bytes (%.1f MB) to %s in %.1fs (build %.1fs, encode+write %.1fs)" % (
        len(data), len(data) / 1e6, args.out if args.out != "-" else "stdout", t2 - t0,
        t1 - t0, t2 - t1), file=sys.stderr)


if __name__ == "__main__":
    main()
