//! The field catalogue: one table of every field rules and outputs can name, with its type, a
//! description and how to read it from an [`AuditEvent`]. It drives `credwatch fields` and the
//! rule compiler's field resolution, so a field is added here once and nowhere else.

use super::{AuditEvent, DECISION_ANNOTATION, REASON_ANNOTATION};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    String,
    StringList,
    Integer,
    /// A nested JSON value kept raw (request and response bodies).
    Object,
}

impl FieldType {
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::StringList => "string[]",
            FieldType::Integer => "integer",
            FieldType::Object => "object",
        }
    }
}

/// A field's value in one event, borrowed from it.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue<'e> {
    Str(&'e str),
    List(&'e [Cow<'e, str>]),
    Int(i64),
    /// Raw JSON text of a nested value.
    Raw(&'e str),
}

pub type Getter = for<'e, 'a> fn(&'e AuditEvent<'a>) -> Option<FieldValue<'e>>;

impl std::fmt::Debug for FieldDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

pub struct FieldDef {
    pub name: &'static str,
    pub ty: FieldType,
    pub description: &'static str,
    pub get: Getter,
}

fn s<'e>(v: &'e Option<Cow<'_, str>>) -> Option<FieldValue<'e>> {
    v.as_deref().map(FieldValue::Str)
}

fn list<'e>(v: &'e [Cow<'_, str>]) -> Option<FieldValue<'e>> {
    (!v.is_empty()).then_some(FieldValue::List(v))
}

macro_rules! obj {
    ($e:expr, $f:ident) => {
        $e.object_ref.as_ref().and_then(|o| s(&o.$f))
    };
}

/// Every field, in the order `credwatch fields` lists them.
pub static FIELDS: &[FieldDef] = &[
    FieldDef {
        name: "kind",
        ty: FieldType::String,
        description: "Record kind: `Event` for audit events",
        get: |e| s(&e.kind),
    },
    FieldDef {
        name: "apiVersion",
        ty: FieldType::String,
        description: "audit.k8s.io/v1 or v1beta1",
        get: |e| s(&e.api_version),
    },
    FieldDef {
        name: "level",
        ty: FieldType::String,
        description: "Audit level the policy chose: None, Metadata, Request, RequestResponse",
        get: |e| s(&e.level),
    },
    FieldDef {
        name: "auditID",
        ty: FieldType::String,
        description: "Unique id of the request; shared by its stages",
        get: |e| s(&e.audit_id),
    },
    FieldDef {
        name: "stage",
        ty: FieldType::String,
        description: "RequestReceived, ResponseStarted (exec, attach, watch), ResponseComplete or Panic",
        get: |e| s(&e.stage),
    },
    FieldDef {
        name: "requestURI",
        ty: FieldType::String,
        description: "Request path and query as sent; the exec command is only here, URL-encoded",
        get: |e| s(&e.request_uri),
    },
    FieldDef {
        name: "verb",
        ty: FieldType::String,
        description: "Kubernetes verb: get, list, watch, create, update, patch, delete, deletecollection (exec over websocket is get)",
        get: |e| s(&e.verb),
    },
    FieldDef {
        name: "user.username",
        ty: FieldType::String,
        description: "Authenticated caller, e.g. system:serviceaccount:ns:name, system:node:host, an email or IAM ARN",
        get: |e| s(&e.user.username),
    },
    FieldDef {
        name: "user.uid",
        ty: FieldType::String,
        description: "Caller's uid when the authenticator gives one",
        get: |e| s(&e.user.uid),
    },
    FieldDef {
        name: "user.groups",
        ty: FieldType::StringList,
        description: "Caller's groups, e.g. system:masters, system:authenticated",
        get: |e| list(&e.user.groups),
    },
    FieldDef {
        name: "user.extra",
        ty: FieldType::Object,
        description: "Authenticator extras (EKS: arn, accessKeyId, sessionName), raw",
        get: |e| e.user.extra.as_ref().map(|v| FieldValue::Raw(v.as_str())),
    },
    FieldDef {
        name: "user.serviceaccount.namespace",
        ty: FieldType::String,
        description: "credwatch: the namespace of a service-account caller (system:serviceaccount:NAMESPACE:NAME)",
        get: |e| {
            e.user
                .username
                .as_deref()
                .and_then(|u| u.strip_prefix("system:serviceaccount:"))
                .and_then(|rest| rest.split_once(':'))
                .map(|(ns, _)| FieldValue::Str(ns))
        },
    },
    FieldDef {
        name: "impersonatedUser.username",
        ty: FieldType::String,
        description: "User the caller impersonated (Impersonate-User header)",
        get: |e| e.impersonated_user.as_ref().and_then(|u| s(&u.username)),
    },
    FieldDef {
        name: "impersonatedUser.groups",
        ty: FieldType::StringList,
        description: "Groups the caller impersonated",
        get: |e| e.impersonated_user.as_ref().and_then(|u| list(&u.groups)),
    },
    FieldDef {
        name: "sourceIPs",
        ty: FieldType::StringList,
        description: "Client address, then any X-Forwarded-For hops",
        get: |e| list(&e.source_ips),
    },
    FieldDef {
        name: "sourceIPs.peer",
        ty: FieldType::String,
        description: "The connection's own address: the last of sourceIPs (the others come from X-Forwarded-For / X-Real-Ip, which any client can set)",
        get: |e| e.source_ips.last().map(|ip| FieldValue::Str(ip)),
    },
    FieldDef {
        name: "userAgent",
        ty: FieldType::String,
        description: "Client user agent as sent (kubectl/…, python-requests/…, curl/…)",
        get: |e| s(&e.user_agent),
    },
    FieldDef {
        name: "objectRef.resource",
        ty: FieldType::String,
        description: "Resource type: secrets, pods, serviceaccounts, configmaps, nodes, …",
        get: |e| obj!(e, resource),
    },
    FieldDef {
        name: "objectRef.subresource",
        ty: FieldType::String,
        description: "Subresource: exec, attach, log, token, proxy, portforward, ephemeralcontainers, …",
        get: |e| obj!(e, subresource),
    },
    FieldDef {
        name: "objectRef.namespace",
        ty: FieldType::String,
        description: "Namespace; absent for cluster-scoped and all-namespace requests",
        get: |e| obj!(e, namespace),
    },
    FieldDef {
        name: "objectRef.name",
        ty: FieldType::String,
        description: "Object name; absent for list and watch",
        get: |e| obj!(e, name),
    },
    FieldDef {
        name: "objectRef.uid",
        ty: FieldType::String,
        description: "Object uid",
        get: |e| obj!(e, uid),
    },
    FieldDef {
        name: "objectRef.apiGroup",
        ty: FieldType::String,
        description: "API group; empty for the core group",
        get: |e| obj!(e, api_group),
    },
    FieldDef {
        name: "objectRef.apiVersion",
        ty: FieldType::String,
        description: "API version of the resource",
        get: |e| obj!(e, api_version),
    },
    FieldDef {
        name: "objectRef.resourceVersion",
        ty: FieldType::String,
        description: "Resource version of the object",
        get: |e| obj!(e, resource_version),
    },
    FieldDef {
        name: "responseStatus.code",
        ty: FieldType::Integer,
        description: "HTTP status: 200/201 success, 101 upgraded stream (exec, attach), 401, 403, 404",
        get: |e| {
            e.response_status
                .as_ref()
                .and_then(|r| r.code)
                .map(FieldValue::Int)
        },
    },
    FieldDef {
        name: "responseStatus.status",
        ty: FieldType::String,
        description: "Success or Failure, when given",
        get: |e| e.response_status.as_ref().and_then(|r| s(&r.status)),
    },
    FieldDef {
        name: "responseStatus.reason",
        ty: FieldType::String,
        description: "Machine-readable failure reason (Forbidden, NotFound, …)",
        get: |e| e.response_status.as_ref().and_then(|r| s(&r.reason)),
    },
    FieldDef {
        name: "responseStatus.message",
        ty: FieldType::String,
        description: "Human-readable failure message",
        get: |e| e.response_status.as_ref().and_then(|r| s(&r.message)),
    },
    FieldDef {
        name: "requestObject",
        ty: FieldType::Object,
        description: "Request body (levels Request, RequestResponse), raw",
        get: |e| {
            e.request_object
                .as_ref()
                .map(|v| FieldValue::Raw(v.as_str()))
        },
    },
    FieldDef {
        name: "responseObject",
        ty: FieldType::Object,
        description: "Response body (level RequestResponse), raw; Secret data is redacted on output",
        get: |e| {
            e.response_object
                .as_ref()
                .map(|v| FieldValue::Raw(v.as_str()))
        },
    },
    FieldDef {
        name: "requestReceivedTimestamp",
        ty: FieldType::String,
        description: "When the apiserver received the request (RFC 3339)",
        get: |e| s(&e.request_received_timestamp),
    },
    FieldDef {
        name: "stageTimestamp",
        ty: FieldType::String,
        description: "When this stage was logged (RFC 3339)",
        get: |e| s(&e.stage_timestamp),
    },
    FieldDef {
        name: "annotations.authorization.k8s.io/decision",
        ty: FieldType::String,
        description: "Authorizer decision: allow or forbid",
        get: |e| e.annotations.get(DECISION_ANNOTATION).map(FieldValue::Str),
    },
    FieldDef {
        name: "annotations.authorization.k8s.io/reason",
        ty: FieldType::String,
        description: "Why the authorizer decided so (the RBAC binding that allowed it)",
        get: |e| e.annotations.get(REASON_ANNOTATION).map(FieldValue::Str),
    },
];

/// Fields credwatch derives from others, resolved by the rule compiler (not read by a getter):
/// (name, type, description).
pub static DERIVED: &[(&str, FieldType, &str)] = &[
    (
        "requestURI.command",
        FieldType::String,
        "credwatch: the command of an exec, attach or kubelet exec request, decoded from requestURI's command= parameters and joined by spaces",
    ),
    (
        "requestObject.spec.request.strings",
        FieldType::String,
        "credwatch: the printable strings (subject names, extensions) of a CertificateSigningRequest's PKCS#10 request, decoded from its base64 PEM (Request level)",
    ),
];

/// (name, type, description) of every field rules can name: the catalogue, then the derived.
pub fn all_fields() -> impl Iterator<Item = (&'static str, FieldType, &'static str)> {
    FIELDS
        .iter()
        .map(|f| (f.name, f.ty, f.description))
        .chain(DERIVED.iter().copied())
}

/// Looks a field up by its dotted name. Annotation keys beyond the two listed are open-ended:
/// read them with `AuditEvent::annotations.get(key)`.
pub fn lookup(name: &str) -> Option<&'static FieldDef> {
    FIELDS.iter().find(|f| f.name == name)
}

/// Fields whose value is computed from part of another field's text rather than copied whole
/// from one JSON value of the record: the rules' prefilter may only expect their values
/// somewhere in the text, not as whole JSON scalars.
const COMPUTED: &[&str] = &["user.serviceaccount.namespace"];

impl FieldDef {
    /// Whether every value of this field is one whole JSON value of the record's text (a
    /// string, number or nested value as written).
    pub fn is_verbatim(&self) -> bool {
        !COMPUTED.contains(&self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_resolvable() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(
                FIELDS[..i].iter().all(|g| g.name != f.name),
                "duplicate field {}",
                f.name
            );
            assert!(lookup(f.name).is_some());
        }
        assert!(lookup("no.such.field").is_none());
    }

    #[test]
    fn getters_read_a_decoded_event() {
        let raw = br#"{"kind":"Event","verb":"get","user":{"username":"alice","groups":["g1","g2"]},"objectRef":{"resource":"secrets","namespace":"kube-system"},"responseStatus":{"code":403},"annotations":{"authorization.k8s.io/decision":"forbid"}}"#;
        let event: AuditEvent = sonic_rs::from_slice(raw).expect("valid event");
        let cases: &[(&str, Option<FieldValue>)] = &[
            ("verb", Some(FieldValue::Str("get"))),
            ("user.username", Some(FieldValue::Str("alice"))),
            ("objectRef.resource", Some(FieldValue::Str("secrets"))),
            ("objectRef.name", None),
            ("responseStatus.code", Some(FieldValue::Int(403))),
            (
                "annotations.authorization.k8s.io/decision",
                Some(FieldValue::Str("forbid")),
            ),
            ("sourceIPs", None),
            ("sourceIPs.peer", None),
        ];
        for (name, want) in cases {
            let field = lookup(name).expect("known field");
            assert_eq!((field.get)(&event), *want, "field {name}");
        }
        let proxied: AuditEvent = sonic_rs::from_slice(
            br#"{"kind":"Event","verb":"get","sourceIPs":["10.0.0.5","198.51.100.23"]}"#,
        )
        .expect("valid event");
        assert_eq!(
            (lookup("sourceIPs.peer").expect("known").get)(&proxied),
            Some(FieldValue::Str("198.51.100.23")),
            "the connection's address is the last; the first came from X-Forwarded-For"
        );
        match (lookup("user.groups").expect("known").get)(&event) {
            Some(FieldValue::List(groups)) => assert_eq!(groups, ["g1", "g2"]),
            other => panic!("user.groups gave {other:?}"),
        }
    }
}
