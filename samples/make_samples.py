#!/usr/bin/env python3
"""Writes credwatch's bundled sample audit logs (deterministic; run from the repo root).

A short story in one cluster's day, in every format credwatch reads: routine controller
traffic, then a developer's laptop token used from an outside address to list secrets across
all namespaces, read one at RequestResponse level, exec into a pod and mint a service-account
token; a denied attempt; the same cluster's events as EKS, GKE and AKS would export them.
Secret values here are fake and exist to show redaction.
"""
import base64, gzip, json, os

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "audit")
os.makedirs(OUT, exist_ok=True)

def ev(n, t, verb, uri, user, groups, ip, ua, obj, code, decision="allow", level="Metadata", stage="ResponseComplete", reason="", req=None, resp=None):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": level,
         "auditID": f"5a1e{n:04d}-7c2b-4e1f-9d3a-0c6b8e2f{n:04d}", "stage": stage, "requestURI": uri,
         "verb": verb, "user": {"username": user, "groups": groups}, "sourceIPs": [ip], "userAgent": ua,
         "objectRef": obj, "responseStatus": {"metadata": {}, "code": code},
         "requestReceivedTimestamp": f"2026-10-14T09:{t}Z", "stageTimestamp": f"2026-10-14T09:{t}Z",
         "annotations": {"authorization.k8s.io/decision": decision, "authorization.k8s.io/reason": reason}}
    if req is not None:
        e["requestObject"] = req
    if resp is not None:
        e["responseObject"] = resp
    return e

KUBECTL = "kubectl/v1.30.2 (darwin/arm64) kubernetes/3b2a1f0"
DEV = "dev-laptop@acme.example"
SA = "system:serviceaccount:kube-system:replicaset-controller"
fake = base64.b64encode(b"sample-password-not-real").decode()

native = [
    ev(1, "00:01.100000", "get", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager", "system:kube-controller-manager", ["system:authenticated"], "10.0.0.10", "kube-controller-manager/v1.30.2", {"resource": "leases", "namespace": "kube-system", "name": "kube-controller-manager", "apiGroup": "coordination.k8s.io", "apiVersion": "v1"}, 200),
    ev(2, "00:02.200000", "list", "/api/v1/namespaces/payments/pods?limit=500", SA, ["system:serviceaccounts", "system:authenticated"], "10.0.0.11", "kube-controller-manager/v1.30.2", {"resource": "pods", "namespace": "payments", "apiVersion": "v1"}, 200),
    ev(3, "05:10.000000", "list", "/api/v1/secrets?limit=500", DEV, ["developers", "system:authenticated"], "203.0.113.45", KUBECTL, {"resource": "secrets", "apiVersion": "v1"}, 200, reason='RBAC: allowed by ClusterRoleBinding "developers-view" of ClusterRole "secret-reader" to Group "developers"'),
    ev(4, "05:14.500000", "get", "/api/v1/namespaces/payments/secrets/stripe-api", DEV, ["developers", "system:authenticated"], "203.0.113.45", KUBECTL, {"resource": "secrets", "namespace": "payments", "name": "stripe-api", "apiVersion": "v1"}, 200, level="RequestResponse",
       resp={"kind": "Secret", "apiVersion": "v1", "metadata": {"name": "stripe-api", "namespace": "payments"}, "type": "Opaque", "data": {"api-key": fake}}),
    ev(5, "06:02.000000", "create", "/api/v1/namespaces/payments/pods/checkout-7d9f8-x2x4q/exec?command=sh&command=-c&command=env&container=app&stderr=true&stdout=true", DEV, ["developers", "system:authenticated"], "203.0.113.45", KUBECTL, {"resource": "pods", "namespace": "payments", "name": "checkout-7d9f8-x2x4q", "apiVersion": "v1", "subresource": "exec"}, 101, stage="ResponseStarted"),
    ev(6, "06:40.000000", "create", "/api/v1/namespaces/payments/serviceaccounts/checkout/token", DEV, ["developers", "system:authenticated"], "203.0.113.45", KUBECTL, {"resource": "serviceaccounts", "namespace": "payments", "name": "checkout", "apiVersion": "v1", "subresource": "token"}, 201, level="RequestResponse",
       req={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "spec": {"expirationSeconds": 86400}},
       resp={"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1", "status": {"token": "eyJhbGciOiJSUzI1NiJ9.c2FtcGxlLW5vdC1yZWFs.c2ln", "expirationTimestamp": "2026-10-15T09:06:40Z"}}),
    ev(7, "07:00.000000", "get", "/api/v1/namespaces/kube-system/secrets/cloud-provider-creds", DEV, ["developers", "system:authenticated"], "203.0.113.45", "python-requests/2.32.3", {"resource": "secrets", "namespace": "kube-system", "name": "cloud-provider-creds", "apiVersion": "v1"}, 403, decision="forbid"),
]
with open(os.path.join(OUT, "apiserver-audit.log"), "w") as f:
    for e in native:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")

# EKS: the same kind of activity as a Firehose object of CloudWatch subscription batches (gzip).
eks_events = [
    ev(11, "10:00.000000", "watch", "/api/v1/secrets?watch=true", "arn:aws:sts::123456789012:assumed-role/ci-deployer/gh-actions", ["system:authenticated"], "198.51.100.23", "Go-http-client/2.0", {"resource": "secrets", "apiVersion": "v1"}, 200),
    ev(12, "10:05.000000", "get", "/api/v1/namespaces/default/pods/web-0/log?container=web", "arn:aws:sts::123456789012:assumed-role/ci-deployer/gh-actions", ["system:authenticated"], "198.51.100.23", "Go-http-client/2.0", {"resource": "pods", "namespace": "default", "name": "web-0", "apiVersion": "v1", "subresource": "log"}, 200),
]
batch = {"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "/aws/eks/prod-eks/cluster",
         "logStream": "kube-apiserver-audit-5d1c2b7f0e3a4c9b8a6d1e2f3a4b5c6d", "subscriptionFilters": ["credwatch"],
         "logEvents": [{"id": str(37000000000000000000000000000000000000000000000000000000 + i), "timestamp": 1792141800000 + i * 5000, "message": json.dumps(e, separators=(",", ":"))} for i, e in enumerate(eks_events)]}
control = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "", "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1792141790000, "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
with open(os.path.join(OUT, "eks-firehose-object.gz"), "wb") as f:
    for doc in (control, batch):
        f.write(gzip.compress((json.dumps(doc, separators=(",", ":")) + "\n").encode(), mtime=0))

# GKE: a Cloud Logging export line.
gke = {"protoPayload": {"@type": "type.googleapis.com/google.cloud.audit.AuditLog", "serviceName": "k8s.io",
       "methodName": "io.k8s.core.v1.pods.exec.create", "resourceName": "core/v1/namespaces/search/pods/indexer-0/exec",
       "authenticationInfo": {"principalEmail": "ops@acme.example"},
       "authorizationInfo": [{"granted": True, "permission": "io.k8s.core.v1.pods.exec.create", "resource": "core/v1/namespaces/search/pods/indexer-0/exec"}],
       "requestMetadata": {"callerIp": "192.0.2.80", "callerSuppliedUserAgent": KUBECTL}},
       "insertId": "a1b2c3d4-0001", "resource": {"type": "k8s_cluster", "labels": {"cluster_name": "gke-search", "location": "europe-west1", "project_id": "acme-search"}},
       "timestamp": "2026-10-14T09:20:00.000000Z", "labels": {"authorization.k8s.io/decision": "allow"},
       "logName": "projects/acme-search/logs/cloudaudit.googleapis.com%2Factivity", "operation": {"id": "a1b2c3d4-0001", "producer": "k8s.io", "first": True, "last": True}}
with open(os.path.join(OUT, "gke-cloud-logging.jsonl"), "w") as f:
    f.write(json.dumps(gke, separators=(",", ":")) + "\n")

# AKS: an Event Hubs batch of diagnostic records.
aks_event = ev(21, "30:00.000000", "list", "/api/v1/namespaces/kube-system/secrets", "masterclient", ["system:masters", "system:authenticated"], "100.64.3.9", "kubectl/v1.29.4 (windows/amd64) kubernetes/55019c8", {"resource": "secrets", "namespace": "kube-system", "apiVersion": "v1"}, 200)
aks = {"records": [{"category": "kube-audit", "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
        "properties": {"log": json.dumps(aks_event, separators=(",", ":")), "stream": "stdout", "pod": "kube-apiserver-6b7c9d-abcde"},
        "resourceId": "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/RG-PROD/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/AKS-PROD",
        "time": "2026-10-14T09:30:00.0000000Z"}]}
with open(os.path.join(OUT, "aks-event-hubs.json"), "w") as f:
    f.write(json.dumps(aks, indent=2) + "\n")
