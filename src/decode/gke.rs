//! Google GKE: Cloud Logging `LogEntry` whose `protoPayload` is an AuditLog written by service
//! `k8s.io`, mapped field by field into the native Event.

use super::{Ctx, Decoder, RejectReason, Sink, short_error};
use crate::event::{
    Annotations, AuditEvent, DECISION_ANNOTATION, ObjectRef, RawJson, ResponseStatus, SourceFormat,
    UserInfo,
};
use serde::Deserialize;
use sonic_rs::LazyValue;
use std::borrow::Cow;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry<'a> {
    #[serde(borrow)]
    proto_payload: ProtoPayload<'a>,
    #[serde(borrow, default)]
    resource: Option<MonitoredResource<'a>>,
    #[serde(borrow, default)]
    labels: Annotations<'a>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    insert_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    operation: Option<Operation<'a>>,
    /// Some exporters (and Panther's fixtures) hoist `authorizationInfo` to the top level.
    #[serde(borrow, default, deserialize_with = "crate::event::bounded_list")]
    authorization_info: Vec<AuthorizationInfo<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ProtoPayload<'a> {
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    service_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    method_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    resource_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    authentication_info: Option<AuthenticationInfo<'a>>,
    #[serde(borrow, default, deserialize_with = "crate::event::bounded_list")]
    authorization_info: Vec<AuthorizationInfo<'a>>,
    #[serde(borrow, default)]
    request_metadata: Option<RequestMetadata<'a>>,
    #[serde(borrow, default)]
    status: Option<Status<'a>>,
    #[serde(borrow, default)]
    request: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    response: Option<LazyValue<'a>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    timestamp: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct MonitoredResource<'a> {
    #[serde(borrow, default)]
    labels: Annotations<'a>,
}

#[derive(Deserialize)]
struct Operation<'a> {
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    id: Option<Cow<'a, str>>,
    #[serde(default)]
    first: Option<bool>,
    #[serde(default)]
    last: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthenticationInfo<'a> {
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    principal_email: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct AuthorizationInfo<'a> {
    #[serde(default)]
    granted: Option<bool>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    resource: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestMetadata<'a> {
    // `callerIP` is how some exporters (Panther's normalisation among them) spell Cloud
    // Logging's `callerIp`.
    #[serde(
        borrow,
        default,
        alias = "callerIP",
        deserialize_with = "crate::event::opt_str"
    )]
    caller_ip: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    caller_supplied_user_agent: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Status<'a> {
    #[serde(default)]
    code: Option<i64>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    message: Option<Cow<'a, str>>,
}

pub(super) fn decode_log_entry<S: Sink>(dec: &Decoder, record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
    let entry: LogEntry = match sonic_rs::from_slice(record) {
        Ok(entry) => entry,
        Err(e) => {
            return sink.reject(
                &ctx.origin,
                RejectReason::InvalidField,
                &format!("GKE LogEntry: {}", short_error(&e)),
            );
        }
    };
    let proto = &entry.proto_payload;
    let method = proto.method_name.as_deref().unwrap_or("");
    let is_k8s = proto.service_name.as_deref() == Some("k8s.io") || method.starts_with("io.k8s.");
    if !is_k8s {
        let service = proto.service_name.as_deref().unwrap_or("unknown");
        let detail =
            format!("Cloud Audit Log of service {service:?} (method {method:?}), not GKE's k8s.io");
        return sink.reject(&ctx.origin, RejectReason::NotAuditEvent, &detail);
    }
    let Some(call) = parse_method(method) else {
        let detail =
            format!("GKE methodName {method:?} is not io.k8s.<group>.<version>.<resource>.<verb>");
        return sink.reject(&ctx.origin, RejectReason::InvalidField, &detail);
    };
    let authz = if proto.authorization_info.is_empty() {
        &entry.authorization_info
    } else {
        &proto.authorization_info
    };
    let path = proto
        .resource_name
        .as_deref()
        .or_else(|| authz.iter().find_map(|a| a.resource.as_deref()));
    let event = to_event(&entry, &call, path, authz);
    let mut child = ctx.nested(SourceFormat::GkeLogEntry);
    if let Some(cluster) = entry
        .resource
        .as_ref()
        .and_then(|r| r.labels.get("cluster_name"))
    {
        child.cluster = Some(Cow::Owned(cluster.to_owned()));
    }
    dec.emit(
        &event,
        record,
        &child,
        child.format.unwrap_or(SourceFormat::GkeLogEntry),
        sink,
    );
}

fn to_event<'e>(
    entry: &'e LogEntry<'_>,
    call: &Method<'e>,
    path: Option<&'e str>,
    authz: &[AuthorizationInfo<'_>],
) -> AuditEvent<'e> {
    let proto = &entry.proto_payload;
    let object_ref = call.resource.map(|resource| {
        let located = path.map(|p| locate(p, resource)).unwrap_or_default();
        ObjectRef {
            resource: Some(Cow::Borrowed(resource)),
            subresource: call.subresource.map(Cow::Borrowed),
            namespace: located.namespace.map(Cow::Borrowed),
            name: located.name.map(Cow::Borrowed),
            // The apiserver leaves apiGroup out for the core group; so does the mapping.
            api_group: (!call.group.is_empty()).then(|| call.group.clone()),
            api_version: call.version.map(Cow::Borrowed),
            ..ObjectRef::default()
        }
    });
    // Non-resource requests (healthz, version, readyz) carry their path in resourceName.
    let request_uri = match (&object_ref, path) {
        (None, Some(p)) => Some(Cow::Owned(format!("/{}", p.trim_start_matches('/')))),
        _ => None,
    };
    let mut annotations = Annotations(
        entry
            .labels
            .0
            .iter()
            .map(|(k, v)| (Cow::Borrowed(k.as_ref()), Cow::Borrowed(v.as_ref())))
            .collect(),
    );
    if annotations.get(DECISION_ANNOTATION).is_none() && !authz.is_empty() {
        // Proto3 JSON leaves `granted: false` out, so an entry without it is a denial.
        let denied = authz.iter().any(|a| a.granted != Some(true));
        let decision = if denied { "forbid" } else { "allow" };
        annotations.set(Cow::Borrowed(DECISION_ANNOTATION), Cow::Borrowed(decision));
    }
    let status = proto.status.as_ref();
    // An absent status means success (DESIGN.md).
    let code = status.and_then(|s| s.code).map_or(200, grpc_to_http);
    let metadata = proto.request_metadata.as_ref();
    let level = match (&proto.request, &proto.response) {
        (_, Some(_)) => "RequestResponse",
        (Some(_), None) => "Request",
        (None, None) => "Metadata",
    };
    let stage = match &entry.operation {
        Some(Operation {
            first: Some(true),
            last: Some(false),
            ..
        }) => "ResponseStarted",
        _ => "ResponseComplete",
    };
    AuditEvent {
        kind: Some(Cow::Borrowed("Event")),
        api_version: Some(Cow::Borrowed("audit.k8s.io/v1")),
        level: Some(Cow::Borrowed(level)),
        audit_id: entry
            .operation
            .as_ref()
            .and_then(|o| o.id.clone())
            .or_else(|| entry.insert_id.clone()),
        stage: Some(Cow::Borrowed(stage)),
        request_uri,
        verb: Some(Cow::Borrowed(call.verb)),
        user: UserInfo {
            username: proto
                .authentication_info
                .as_ref()
                .and_then(|a| a.principal_email.clone()),
            ..UserInfo::default()
        },
        impersonated_user: None,
        source_ips: metadata
            .and_then(|m| m.caller_ip.clone())
            .into_iter()
            .collect(),
        user_agent: metadata.and_then(|m| m.caller_supplied_user_agent.clone()),
        object_ref,
        response_status: Some(ResponseStatus {
            code: Some(code),
            message: status
                .and_then(|s| s.message.clone())
                .filter(|m| !m.is_empty()),
            ..ResponseStatus::default()
        }),
        request_object: proto.request.as_ref().map(|v| RawJson::new(v.as_raw_cow())),
        response_object: proto
            .response
            .as_ref()
            .map(|v| RawJson::new(v.as_raw_cow())),
        request_received_timestamp: entry.timestamp.clone().or_else(|| proto.timestamp.clone()),
        stage_timestamp: None,
        annotations,
        prior_envelope: None,
    }
}

/// gRPC status code (google.rpc.Code) to the HTTP status the apiserver would have returned.
pub(super) fn grpc_to_http(code: i64) -> i64 {
    match code {
        0 => 200,
        1 => 499,
        3 | 9 | 11 => 400,
        4 => 504,
        5 => 404,
        6 | 10 => 409,
        7 => 403,
        8 => 429,
        12 => 501,
        14 => 503,
        16 => 401,
        _ => 500,
    }
}

/// A parsed `methodName`.
#[derive(Debug, PartialEq)]
pub(super) struct Method<'m> {
    pub group: Cow<'m, str>,
    pub version: Option<&'m str>,
    pub resource: Option<&'m str>,
    pub subresource: Option<&'m str>,
    pub verb: &'m str,
}

/// `io.k8s.core.v1.pods.exec.create` → group "", v1, pods, exec, create;
/// `io.k8s.authorization.rbac.v1.roles.create` → group rbac.authorization.k8s.io;
/// `io.k8s.get` (a non-resource request) → verb get only. Custom resources name their group
/// reversed (`io.istio.networking.v1beta1…` → networking.istio.io).
pub(super) fn parse_method(method: &str) -> Option<Method<'_>> {
    let parts: Vec<&str> = method.split('.').collect();
    let verb = *parts.last()?;
    if parts.len() < 3 || verb.is_empty() {
        return None;
    }
    let Some(version_at) = parts.iter().position(|p| is_version(p)) else {
        return (parts.len() == 3 && parts[..2] == ["io", "k8s"]).then_some(Method {
            group: Cow::Borrowed(""),
            version: None,
            resource: None,
            subresource: None,
            verb,
        });
    };
    // `io.k8s.core.v1` (a version and nothing after it) names no resource or verb.
    let middle = parts.get(version_at + 1..parts.len() - 1)?;
    let resource = *middle.first()?;
    // Kubernetes resources and verbs are lower case; other Google APIs use CamelCase methods.
    let lower = |s: &str| !s.is_empty() && !s.bytes().any(|b| b.is_ascii_uppercase());
    if !lower(resource) || !lower(verb) {
        return None;
    }
    let subresource = middle.get(1).copied();
    let mut group_parts = parts[..version_at].to_vec();
    group_parts.reverse();
    let group = group_parts.join(".");
    let group = match group.as_str() {
        "core.k8s.io" => Cow::Borrowed(""),
        "apps.k8s.io" | "batch.k8s.io" | "autoscaling.k8s.io" | "policy.k8s.io"
        | "extensions.k8s.io" => Cow::Owned(group.trim_end_matches(".k8s.io").to_owned()),
        _ => Cow::Owned(group),
    };
    Some(Method {
        group,
        version: Some(parts[version_at]),
        resource: Some(resource),
        subresource,
        verb,
    })
}

fn is_version(part: &str) -> bool {
    let Some(rest) = part.strip_prefix('v') else {
        return false;
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return false;
    }
    let tail = &rest[digits..];
    tail.is_empty()
        || ["alpha", "beta"].iter().any(|stage| {
            tail.strip_prefix(stage)
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
}

#[derive(Debug, Default, PartialEq)]
pub(super) struct Located<'p> {
    pub namespace: Option<&'p str>,
    pub name: Option<&'p str>,
}

/// `resourceName` is `<group>/<version>/[namespaces/<ns>/]<resource>[/<name>[/<subresource>]]`.
pub(super) fn locate<'p>(path: &'p str, resource: &str) -> Located<'p> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    // Skip `<group>/<version>`; the core group is written `core` (or, rarely, left out).
    let start = segments
        .iter()
        .position(|s| is_version(s))
        .map_or(0, |v| v + 1);
    let rest = &segments[start.min(segments.len())..];
    match rest {
        ["namespaces", name] if resource == "namespaces" => Located {
            namespace: None,
            name: Some(name),
        },
        ["namespaces", ns, res, tail @ ..] if *res == resource => Located {
            namespace: Some(ns),
            name: tail.first().copied(),
        },
        [res, tail @ ..] if *res == resource => Located {
            namespace: None,
            name: tail.first().copied(),
        },
        _ => Located::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_names() {
        type Want<'a> = Option<(
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
            &'a str,
        )>;
        let cases: &[(&str, Want)] = &[
            (
                "io.k8s.core.v1.secrets.list",
                Some(("", Some("v1"), Some("secrets"), None, "list")),
            ),
            (
                "io.k8s.core.v1.pods.exec.create",
                Some(("", Some("v1"), Some("pods"), Some("exec"), "create")),
            ),
            (
                "io.k8s.core.v1.serviceaccounts.token.create",
                Some((
                    "",
                    Some("v1"),
                    Some("serviceaccounts"),
                    Some("token"),
                    "create",
                )),
            ),
            (
                "io.k8s.apps.v1.deployments.patch",
                Some(("apps", Some("v1"), Some("deployments"), None, "patch")),
            ),
            (
                "io.k8s.authorization.rbac.v1.clusterrolebindings.create",
                Some((
                    "rbac.authorization.k8s.io",
                    Some("v1"),
                    Some("clusterrolebindings"),
                    None,
                    "create",
                )),
            ),
            (
                "io.k8s.coordination.v1.leases.update",
                Some((
                    "coordination.k8s.io",
                    Some("v1"),
                    Some("leases"),
                    None,
                    "update",
                )),
            ),
            (
                "io.k8s.core.v1.pods.status.patch",
                Some(("", Some("v1"), Some("pods"), Some("status"), "patch")),
            ),
            (
                "io.istio.networking.v1beta1.virtualservices.get",
                Some((
                    "networking.istio.io",
                    Some("v1beta1"),
                    Some("virtualservices"),
                    None,
                    "get",
                )),
            ),
            ("io.k8s.get", Some(("", None, None, None, "get"))),
            ("io.k8s.core.v1", None),
            ("io.k8s.core.v1.list", None),
            ("google.container.v1.ClusterManager.GetCluster", None),
            ("", None),
        ];
        for (method, want) in cases {
            let got = parse_method(method).map(|m| {
                (
                    m.group.into_owned(),
                    m.version,
                    m.resource,
                    m.subresource,
                    m.verb,
                )
            });
            let want = want.map(|(g, v, r, s, verb)| (g.to_owned(), v, r, s, verb));
            assert_eq!(got, want, "method {method}");
        }
    }

    #[test]
    fn resource_names() {
        let cases = [
            (
                "core/v1/namespaces/default/pods/nginx/exec",
                "pods",
                Some("default"),
                Some("nginx"),
            ),
            (
                "core/v1/namespaces/kube-system/secrets",
                "secrets",
                Some("kube-system"),
                None,
            ),
            ("core/v1/secrets", "secrets", None, None),
            (
                "rbac.authorization.k8s.io/v1/clusterroles/admin",
                "clusterroles",
                None,
                Some("admin"),
            ),
            ("core/v1/namespaces/foo", "namespaces", None, Some("foo")),
            (
                "core/v1/namespaces/ns1/serviceaccounts/default/token",
                "serviceaccounts",
                Some("ns1"),
                Some("default"),
            ),
            (
                "core/v1/namespaces/ns/pods/pods",
                "pods",
                Some("ns"),
                Some("pods"),
            ),
            ("elsewhere", "pods", None, None),
        ];
        for (path, resource, namespace, name) in cases {
            assert_eq!(
                locate(path, resource),
                Located { namespace, name },
                "path {path}"
            );
        }
    }

    #[test]
    fn grpc_codes() {
        for (grpc, http) in [
            (0, 200),
            (7, 403),
            (16, 401),
            (5, 404),
            (6, 409),
            (13, 500),
            (99, 500),
        ] {
            assert_eq!(grpc_to_http(grpc), http);
        }
    }
}
