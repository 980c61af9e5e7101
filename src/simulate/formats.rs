//! The output formats: the native log line, and the envelopes the webhook backend and the three
//! managed services put around the same Event.
//!
//! GKE is the one format that does not carry the Event itself: Cloud Logging maps it into an
//! AuditLog `protoPayload`, which has no `requestURI` (so exec commands, kubelet proxy paths and
//! query strings are lost), no groups, uid or `user.extra`, no impersonated user, and status
//! codes as gRPC codes (201 and 101 read back as 200).

use super::SimFormat;
use super::model::{
    Ev, Micros, ObjRef, annotations, fnv, fold, pod_suffix, push_embedded, push_ip, push_json_str,
    push_time, push_time_digits, push_u64, push_uuid, write_event,
};
use std::io::{self, Write};

/// Events per batch in the batched formats (EventList, CloudWatch, Azure), as the webhook
/// backend's default `--audit-webhook-batch-max-size` and the services' typical batch sizes.
pub(crate) const BATCH: usize = 100;

const CLUSTER: &str = "sim-cluster";
const EKS_OWNER: &str = "123456789012";
const AKS_RESOURCE_ID: &str = "/SUBSCRIPTIONS/7D1E6A52-3F0B-4C8E-9A21-5B6D4E3C2F10/RESOURCEGROUPS/SIM-RG/PROVIDERS/MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/SIM-CLUSTER";
const GKE_PROJECT: &str = "sim-project";
const GKE_LOCATION: &str = "europe-west1-b";

/// Writes events in one format, batching where the format does.
pub(crate) struct Writer<W: Write> {
    out: W,
    format: SimFormat,
    /// The current event's native JSON.
    event: String,
    /// The line being built (a batch, or one record).
    line: String,
    in_batch: usize,
    written: u64,
    bytes: u64,
    /// Names derived from the seed: the CloudWatch stream, the Azure apiserver pod.
    stream: String,
    pod: String,
}

impl<W: Write> Writer<W> {
    pub(crate) fn new(out: W, format: SimFormat, seed: u64) -> Self {
        let id = fold(u128::from(seed), 0x7374_7265_616d);
        let stream = format!("kube-apiserver-audit-{:032x}", id);
        let pod = format!(
            "kube-apiserver-{:09x}-{}",
            (id >> 64) as u64 & 0xf_ffff_ffff,
            pod_suffix(id as u64)
        );
        Writer {
            out,
            format,
            event: String::with_capacity(4096),
            line: String::with_capacity(if matches!(format, SimFormat::Native | SimFormat::Gke) {
                4096
            } else {
                256 << 10
            }),
            in_batch: 0,
            written: 0,
            bytes: 0,
            stream,
            pod,
        }
    }

    pub(crate) fn push(&mut self, ev: &Ev) -> io::Result<()> {
        self.written += 1;
        self.event.clear();
        match self.format {
            SimFormat::Native => {
                write_event(&mut self.event, ev);
                self.event.push('\n');
                self.bytes += self.event.len() as u64;
                return self.out.write_all(self.event.as_bytes());
            }
            SimFormat::Gke => {
                write_gke(&mut self.event, ev);
                self.event.push('\n');
                self.bytes += self.event.len() as u64;
                return self.out.write_all(self.event.as_bytes());
            }
            _ => write_event(&mut self.event, ev),
        }
        if self.in_batch == 0 {
            self.open_batch();
        } else {
            self.line.push(',');
        }
        match self.format {
            SimFormat::EventList => self.line.push_str(&self.event),
            SimFormat::Eks => {
                let ms = ev.received.div_euclid(1000);
                self.line.push_str("{\"id\":\"");
                // CloudWatch event ids are 56 decimal digits that grow with time.
                push_padded(&mut self.line, ms as u64, 20);
                push_padded(&mut self.line, self.written, 20);
                push_padded(
                    &mut self.line,
                    fnv(&self.stream) % 10_000_000_000_000_000,
                    16,
                );
                self.line.push_str("\",\"timestamp\":");
                push_u64(&mut self.line, ms as u64);
                self.line.push_str(",\"message\":\"");
                push_embedded(&mut self.line, &self.event);
                self.line.push_str("\"}");
            }
            SimFormat::Aks => {
                self.line.push_str("{\"time\":\"");
                push_time_digits(&mut self.line, ev.staged, 7);
                self.line.push_str("\",\"resourceId\":\"");
                self.line.push_str(AKS_RESOURCE_ID);
                self.line.push_str(
                    "\",\"category\":\"kube-audit\",\"operationName\":\"Microsoft.ContainerService/managedClusters/diagnosticLogs/Read\",\"properties\":{\"log\":\"",
                );
                push_embedded(&mut self.line, &self.event);
                self.line.push_str("\",\"stream\":\"stdout\",\"pod\":\"");
                self.line.push_str(&self.pod);
                self.line.push_str("\"}}");
            }
            SimFormat::Native | SimFormat::Gke => {}
        }
        self.in_batch += 1;
        if self.in_batch == BATCH {
            self.close_batch()?;
        }
        Ok(())
    }

    fn open_batch(&mut self) {
        self.line.clear();
        match self.format {
            SimFormat::EventList => self.line.push_str(
                "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"metadata\":{},\"items\":[",
            ),
            SimFormat::Eks => {
                self.line.push_str("{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"");
                self.line.push_str(EKS_OWNER);
                self.line.push_str("\",\"logGroup\":\"/aws/eks/");
                self.line.push_str(CLUSTER);
                self.line.push_str("/cluster\",\"logStream\":\"");
                self.line.push_str(&self.stream);
                self.line
                    .push_str("\",\"subscriptionFilters\":[\"credwatch\"],\"logEvents\":[");
            }
            SimFormat::Aks => self.line.push_str("{\"records\":["),
            SimFormat::Native | SimFormat::Gke => {}
        }
    }

    fn close_batch(&mut self) -> io::Result<()> {
        if self.in_batch == 0 {
            return Ok(());
        }
        self.line.push_str("]}\n");
        self.in_batch = 0;
        self.bytes += self.line.len() as u64;
        self.out.write_all(self.line.as_bytes())
    }

    /// Writes the last partial batch and flushes; returns the bytes written.
    pub(crate) fn finish(mut self) -> io::Result<u64> {
        self.close_batch()?;
        self.out.flush()?;
        Ok(self.bytes)
    }
}

fn push_padded(buf: &mut String, n: u64, width: usize) {
    let mut digits = String::with_capacity(20);
    push_u64(&mut digits, n);
    for _ in digits.len()..width {
        buf.push('0');
    }
    buf.push_str(&digits);
}

/// One Cloud Logging `LogEntry` as GKE writes a Kubernetes audit event.
fn write_gke(buf: &mut String, ev: &Ev) {
    let mut method = String::with_capacity(64);
    push_method(&mut method, ev.obj.as_ref(), ev.verb);
    let mut resource = String::with_capacity(96);
    match &ev.obj {
        Some(o) => push_resource_name(&mut resource, o),
        // Non-resource requests (`/version`, `/readyz`) name their path.
        None => resource.push_str(
            ev.uri
                .split('?')
                .next()
                .unwrap_or("")
                .trim_start_matches('/'),
        ),
    }
    buf.push_str("{\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\",\"authenticationInfo\":{");
    if !ev.user.username.is_empty() {
        buf.push_str("\"principalEmail\":");
        push_json_str(buf, &ev.user.username);
    }
    buf.push('}');
    if let Some(decision) = ev.decision {
        buf.push_str(",\"authorizationInfo\":[{");
        // Proto3 JSON leaves a false `granted` out.
        if decision == "allow" {
            buf.push_str("\"granted\":true,");
        }
        buf.push_str("\"permission\":\"");
        buf.push_str(&method);
        buf.push_str("\",\"resource\":");
        push_json_str(buf, &resource);
        buf.push_str("}]");
    }
    buf.push_str(",\"methodName\":\"");
    buf.push_str(&method);
    buf.push_str("\",\"requestMetadata\":{\"callerIp\":\"");
    push_ip(buf, ev.ip);
    buf.push('"');
    if !ev.ua.is_empty() {
        buf.push_str(",\"callerSuppliedUserAgent\":");
        push_json_str(buf, &ev.ua);
    }
    buf.push_str("},\"resourceName\":");
    push_json_str(buf, &resource);
    buf.push_str(",\"serviceName\":\"k8s.io\"");
    if ev.code >= 400 {
        buf.push_str(",\"status\":{\"code\":");
        push_u64(buf, grpc_code(ev.code));
        if let Some((_, message)) = &ev.failure {
            buf.push_str(",\"message\":");
            push_json_str(buf, message);
        }
        buf.push('}');
    }
    if let Some(body) = &ev.request_object {
        buf.push_str(",\"request\":");
        buf.push_str(body);
    }
    if let Some(body) = &ev.response_object {
        buf.push_str(",\"response\":");
        buf.push_str(body);
    }
    buf.push_str("},\"insertId\":\"");
    push_uuid(buf, fold(ev.audit_id, stage_salt(ev.stage)));
    buf.push_str("\",\"resource\":{\"type\":\"k8s_cluster\",\"labels\":{\"cluster_name\":\"");
    buf.push_str(CLUSTER);
    buf.push_str("\",\"location\":\"");
    buf.push_str(GKE_LOCATION);
    buf.push_str("\",\"project_id\":\"");
    buf.push_str(GKE_PROJECT);
    buf.push_str("\"}},\"timestamp\":\"");
    push_time(buf, ev.received);
    let writes = matches!(
        ev.verb,
        "create" | "update" | "patch" | "delete" | "deletecollection"
    );
    buf.push_str("\",\"severity\":\"");
    buf.push_str(match (ev.code >= 400, writes) {
        (true, _) => "WARNING",
        (false, true) => "NOTICE",
        (false, false) => "INFO",
    });
    buf.push('"');
    let mut labels = annotations(ev).peekable();
    if labels.peek().is_some() {
        buf.push_str(",\"labels\":{");
        for (i, (k, v)) in labels.enumerate() {
            if i > 0 {
                buf.push(',');
            }
            push_json_str(buf, k);
            buf.push(':');
            push_json_str(buf, v);
        }
        buf.push('}');
    }
    buf.push_str(",\"logName\":\"projects/");
    buf.push_str(GKE_PROJECT);
    buf.push_str("/logs/cloudaudit.googleapis.com%2F");
    buf.push_str(if writes { "activity" } else { "data_access" });
    buf.push_str("\",\"operation\":{\"id\":\"");
    push_uuid(buf, ev.audit_id);
    // A long-running request (exec, watch) is one operation logged at its start and its end.
    let streamed = ev.code == 101 || ev.verb == "watch";
    let (first, last) = match ev.stage {
        "ResponseStarted" => (true, false),
        _ if streamed => (false, true),
        _ => (true, true),
    };
    buf.push_str("\",\"producer\":\"k8s.io\",\"first\":");
    buf.push_str(if first { "true" } else { "false" });
    buf.push_str(",\"last\":");
    buf.push_str(if last { "true" } else { "false" });
    buf.push_str("},\"receiveTimestamp\":\"");
    push_time(buf, ev.staged + receive_delay(ev.audit_id));
    buf.push_str("\"}");
}

fn stage_salt(stage: &str) -> u64 {
    match stage {
        "ResponseStarted" => 0x5354_4152,
        _ => 0x434f_4d50,
    }
}

/// Cloud Logging receives an entry a second or two after it was written.
fn receive_delay(id: u128) -> Micros {
    800_000 + (id % 1_500_000) as Micros
}

/// `io.k8s.<group reversed>.<version>.<resource>[.<subresource>].<verb>`; `io.k8s.<verb>` for
/// a non-resource request.
pub(crate) fn push_method(buf: &mut String, obj: Option<&ObjRef>, verb: &str) {
    let Some(o) = obj else {
        buf.push_str("io.k8s.");
        buf.push_str(verb);
        return;
    };
    let group = o.api_group;
    let builtin = matches!(
        group,
        "apps" | "batch" | "autoscaling" | "policy" | "extensions"
    );
    if group.is_empty() {
        buf.push_str("io.k8s.core");
    } else if let Some(short) = group.strip_suffix(".k8s.io").or(builtin.then_some(group)) {
        buf.push_str("io.k8s");
        for part in short.rsplit('.') {
            buf.push('.');
            buf.push_str(part);
        }
    } else {
        for (i, part) in group.rsplit('.').enumerate() {
            if i > 0 {
                buf.push('.');
            }
            buf.push_str(part);
        }
    }
    buf.push('.');
    buf.push_str(o.api_version);
    buf.push('.');
    buf.push_str(o.resource);
    if let Some(sub) = o.subresource {
        buf.push('.');
        buf.push_str(sub);
    }
    buf.push('.');
    buf.push_str(verb);
}

/// `<group or core>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`.
fn push_resource_name(buf: &mut String, o: &ObjRef) {
    buf.push_str(if o.api_group.is_empty() {
        "core"
    } else {
        o.api_group
    });
    buf.push('/');
    buf.push_str(o.api_version);
    if let Some(ns) = &o.namespace {
        buf.push_str("/namespaces/");
        buf.push_str(ns);
    }
    buf.push('/');
    buf.push_str(o.resource);
    if let Some(name) = &o.name {
        buf.push('/');
        buf.push_str(name);
        if let Some(sub) = o.subresource {
            buf.push('/');
            buf.push_str(sub);
        }
    }
}

/// The gRPC code (google.rpc.Code) Cloud Logging gives an HTTP failure.
fn grpc_code(http: u16) -> u64 {
    match http {
        400 | 422 => 3,
        401 => 16,
        403 => 7,
        404 => 5,
        409 => 6,
        429 => 8,
        501 => 12,
        503 => 14,
        504 => 4,
        _ => 13,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        let cases = [
            (
                ObjRef::new("secrets", "v1"),
                "list",
                "io.k8s.core.v1.secrets.list",
            ),
            (
                ObjRef::new("pods", "v1").name("p").sub("exec"),
                "create",
                "io.k8s.core.v1.pods.exec.create",
            ),
            (
                ObjRef::new("deployments", "apps/v1"),
                "patch",
                "io.k8s.apps.v1.deployments.patch",
            ),
            (
                ObjRef::new("clusterroles", "rbac.authorization.k8s.io/v1"),
                "get",
                "io.k8s.authorization.rbac.v1.clusterroles.get",
            ),
            (
                ObjRef::new("certificates", "cert-manager.io/v1"),
                "watch",
                "io.cert-manager.v1.certificates.watch",
            ),
            (
                ObjRef::new("kustomizations", "kustomize.toolkit.fluxcd.io/v1"),
                "list",
                "io.fluxcd.toolkit.kustomize.v1.kustomizations.list",
            ),
        ];
        for (obj, verb, want) in cases {
            let mut got = String::new();
            push_method(&mut got, Some(&obj), verb);
            assert_eq!(got, want);
        }
        let mut got = String::new();
        push_method(&mut got, None, "get");
        assert_eq!(got, "io.k8s.get");
    }
}
