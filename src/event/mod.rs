//! The one event shape: the Kubernetes audit `Event` (audit.k8s.io/v1), decoded typed and
//! borrowed, plus the envelope that says where it came from.
//!
//! Every decoder (native, EKS, GKE, AKS, later Docker) produces an [`AuditEvent`]. Strings borrow
//! from the record when they carry no JSON escapes; nested bodies (`requestObject`,
//! `responseObject`, `user.extra`) stay raw until something asks for them.

mod csr;
pub mod fields;
mod time;
mod uri;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use sonic_rs::LazyValue;
use std::borrow::Cow;
use std::fmt;

pub use csr::csr_strings;
pub use time::{normalize_timestamp, parse_timestamp};
pub use uri::{exec_command, percent_decode};

/// Who made the request (`user` and `impersonatedUser`).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct UserInfo<'a> {
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub username: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub uid: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "borrowed_list")]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: StrList<'a>,
    /// `map[string][]string`; kept raw because rules rarely look inside it.
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub extra: Option<RawJson<'a>>,
}

/// What the request was about (`objectRef`).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef<'a> {
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub namespace: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub uid: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_group: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub resource_version: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub subresource: Option<Cow<'a, str>>,
}

/// The response status (`responseStatus`, a `metav1.Status`).
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct ResponseStatus<'a> {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub status: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub reason: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub message: Option<Cow<'a, str>>,
}

/// `annotations`: a small ordered list, cheaper than a map for the two or three entries an
/// event carries.
#[derive(Debug, Default, Clone)]
pub struct Annotations<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl<'a> Annotations<'a> {
    /// The value of `key`; of a key given twice, the last, as JSON readers take it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k.as_ref() == key)
            .map(|(_, v)| v.as_ref())
    }

    pub fn set(&mut self, key: Cow<'a, str>, value: Cow<'a, str>) {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Annotations<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Annotations<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map of string annotations")
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(Annotations::default())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::with_capacity(2);
                while let Some((k, v)) = map.next_entry::<CowStr<'a>, CowStr<'a>>()? {
                    if out.len() == MAX_LIST {
                        return Err(serde::de::Error::custom(TOO_MANY));
                    }
                    out.push((k.0, v.0));
                }
                Ok(Annotations(out))
            }
        }
        de.deserialize_map(V(std::marker::PhantomData))
    }
}

impl Serialize for Annotations<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref())))
    }
}

/// One audit event in the native `audit.k8s.io/v1` shape, whatever format it arrived in.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent<'a> {
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub kind: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub level: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        rename = "auditID",
        skip_serializing_if = "Option::is_none"
    )]
    pub audit_id: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub stage: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        rename = "requestURI",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_uri: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub verb: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    #[serde(deserialize_with = "null_as_default")]
    pub user: UserInfo<'a>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub impersonated_user: Option<Box<UserInfo<'a>>>,
    #[serde(
        borrow,
        default,
        rename = "sourceIPs",
        deserialize_with = "borrowed_list"
    )]
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub source_ips: StrList<'a>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub user_agent: Option<Cow<'a, str>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub object_ref: Option<ObjectRef<'a>>,
    #[serde(borrow, default, skip_serializing_if = "Option::is_none")]
    pub response_status: Option<ResponseStatus<'a>>,
    /// Raw request body; present at level Request and RequestResponse.
    #[serde(borrow, default, skip_serializing)]
    pub request_object: Option<RawJson<'a>>,
    /// Raw response body; present at level RequestResponse.
    #[serde(borrow, default, skip_serializing)]
    pub response_object: Option<RawJson<'a>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub request_received_timestamp: Option<Cow<'a, str>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "opt_str",
        skip_serializing_if = "Option::is_none"
    )]
    pub stage_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "null_as_default")]
    #[serde(skip_serializing_if = "Annotations::is_empty")]
    pub annotations: Annotations<'a>,
    /// The envelope credwatch wrote beside the event (`events` output read back in), so what
    /// it said about the source survives a second pass.
    #[serde(borrow, default, rename = "envelope", skip_serializing)]
    pub prior_envelope: Option<PriorEnvelope<'a>>,
}

/// The part of a prior `envelope` that a second pass keeps.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct PriorEnvelope<'a> {
    #[serde(borrow, default, deserialize_with = "opt_str")]
    pub cluster: Option<Cow<'a, str>>,
}

/// A nested JSON value kept as its raw text, borrowed from the record: decoded only when an
/// output or a rare rule asks for it.
#[derive(Debug, Clone)]
pub struct RawJson<'a>(Cow<'a, str>);

impl<'a> RawJson<'a> {
    pub fn new(text: Cow<'a, str>) -> Self {
        RawJson(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for RawJson<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        Ok(RawJson(LazyValue::deserialize(de)?.as_raw_cow()))
    }
}

impl Serialize for RawJson<'_> {
    /// Written back as the JSON it is, through sonic-rs (which accepted it). Serialized for
    /// `user.extra` only; bodies go through the redactor instead.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match sonic_rs::from_str::<LazyValue>(&self.0) {
            Ok(value) => value.serialize(s),
            Err(e) => Err(serde::ser::Error::custom(e)),
        }
    }
}

/// A string that borrows from the record when it has no escapes. Plain `Cow<str>` always
/// allocates inside collections (serde borrows only for fields marked `borrow`).
struct CowStr<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for CowStr<'a> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = CowStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(CowStr(Cow::Owned(v)))
            }
        }
        de.deserialize_str(V(std::marker::PhantomData))
    }
}

/// Lists and maps inside one event hold at most this many entries: a record of tiny repeated
/// items would otherwise take ten times its size in memory.
pub const MAX_LIST: usize = 4096;
const TOO_MANY: &str = "more than 4096 entries in one list or map";

/// A list of any item type, bounded by [`MAX_LIST`].
pub(crate) fn bounded_list<'de, D, T>(de: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element()? {
                if out.len() == MAX_LIST {
                    return Err(serde::de::Error::custom(TOO_MANY));
                }
                out.push(item);
            }
            Ok(out)
        }
    }
    de.deserialize_any(V(std::marker::PhantomData))
}

/// A list of strings (groups, source addresses).
pub type StrList<'a> = Vec<Cow<'a, str>>;

/// A list of strings, borrowed where possible; `null` is an empty list.
fn borrowed_list<'de: 'a, 'a, D: Deserializer<'de>>(de: D) -> Result<StrList<'a>, D::Error> {
    struct V<'a>(std::marker::PhantomData<&'a ()>);
    impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
        type Value = StrList<'a>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of strings")
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(StrList::new())
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = StrList::new();
            while let Some(item) = seq.next_element::<CowStr<'a>>()? {
                if out.len() == MAX_LIST {
                    return Err(serde::de::Error::custom(TOO_MANY));
                }
                out.push(item.0);
            }
            Ok(out)
        }
    }
    de.deserialize_any(V(std::marker::PhantomData))
}

/// An optional string, borrowed where possible.
pub(crate) fn opt_str<'de: 'a, 'a, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    Ok(Option::<CowStr<'a>>::deserialize(de)?.map(|s| s.0))
}

/// Kubernetes writes `null` for empty lists and maps; treat it as empty rather than an error.
fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

pub const DECISION_ANNOTATION: &str = "authorization.k8s.io/decision";
pub const REASON_ANNOTATION: &str = "authorization.k8s.io/reason";

impl<'a> AuditEvent<'a> {
    /// A record is an audit event when it says so, or has the shape of one: a verb with an
    /// objectRef or a requestURI (DESIGN.md, `events` output).
    pub fn looks_like_event(&self) -> bool {
        // Core `v1` and `events.k8s.io` Events share the kind but are cluster events, not audit.
        if self
            .api_version
            .as_deref()
            .is_some_and(|v| !v.starts_with("audit.k8s.io/"))
        {
            return false;
        }
        match self.kind.as_deref() {
            Some("Event") => true,
            Some(_) => false,
            None => {
                self.verb.is_some() && (self.object_ref.is_some() || self.request_uri.is_some())
            }
        }
    }

    pub fn decision(&self) -> Option<&str> {
        self.annotations.get(DECISION_ANNOTATION)
    }

    /// The event's time as it was written: when the request was received, else when this stage
    /// was logged.
    pub fn raw_time(&self) -> Option<&str> {
        self.request_received_timestamp
            .as_deref()
            .or(self.stage_timestamp.as_deref())
    }
}

/// Which API surface an event describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Kubernetes,
    Kubelet,
    Docker,
}

/// The record format an event was recognised in; the most specific envelope wins (a Panther or
/// Fluent Bit `log` wrapper around an AKS record is `aks_diagnostic`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceFormat {
    /// One `audit.k8s.io` Event (v1 or v1beta1), as the log backend writes it.
    K8sAudit,
    /// `{"kind":"EventList","items":[…]}`, as the webhook backend posts it.
    K8sEventList,
    /// A JSON array of records.
    JsonArray,
    /// A record wrapped in a `log` member (container log collectors, test harnesses).
    LogWrapper,
    /// `aws logs filter-log-events` output: `{"events":[{"message":…}]}`.
    EksFilterLogEvents,
    /// A CloudWatch Logs subscription `DATA_MESSAGE`.
    EksSubscription,
    /// One CloudWatch log event object `{"timestamp","message",…}`.
    EksLogEvent,
    /// CloudWatch export text: `<timestamp> <message>`.
    EksExportText,
    /// Google Cloud Logging `LogEntry` with an AuditLog `protoPayload` for `k8s.io`.
    GkeLogEntry,
    /// Azure diagnostic record, category `kube-audit` or `kube-audit-admin`.
    AksDiagnostic,
    /// A dockerd debug log line or record (`Calling GET /v1.41/…`): text, JSON or journald.
    DockerDaemonLog,
    /// `docker events --format '{{json .}}'`.
    DockerEvents,
    /// An AuthZ plugin's request/response record (`User`, `RequestMethod`, `RequestUri`, …).
    DockerAuthz,
    /// A Docker socket proxy's access log (HAProxy httplog, wollomatic socket-proxy).
    DockerSocketProxy,
    /// A call `credwatch docker-proxy` passed, with its caller.
    DockerProxy,
}

impl SourceFormat {
    pub const ALL: [SourceFormat; 15] = [
        SourceFormat::K8sAudit,
        SourceFormat::K8sEventList,
        SourceFormat::JsonArray,
        SourceFormat::LogWrapper,
        SourceFormat::EksFilterLogEvents,
        SourceFormat::EksSubscription,
        SourceFormat::EksLogEvent,
        SourceFormat::EksExportText,
        SourceFormat::GkeLogEntry,
        SourceFormat::AksDiagnostic,
        SourceFormat::DockerDaemonLog,
        SourceFormat::DockerEvents,
        SourceFormat::DockerAuthz,
        SourceFormat::DockerSocketProxy,
        SourceFormat::DockerProxy,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::K8sAudit => "k8s_audit",
            SourceFormat::K8sEventList => "k8s_event_list",
            SourceFormat::JsonArray => "json_array",
            SourceFormat::LogWrapper => "log_wrapper",
            SourceFormat::EksFilterLogEvents => "eks_filter_log_events",
            SourceFormat::EksSubscription => "eks_subscription",
            SourceFormat::EksLogEvent => "eks_log_event",
            SourceFormat::EksExportText => "eks_export_text",
            SourceFormat::GkeLogEntry => "gke_log_entry",
            SourceFormat::AksDiagnostic => "aks_diagnostic",
            SourceFormat::DockerDaemonLog => "docker_daemon_log",
            SourceFormat::DockerEvents => "docker_events",
            SourceFormat::DockerAuthz => "docker_authz",
            SourceFormat::DockerSocketProxy => "docker_socket_proxy",
            SourceFormat::DockerProxy => "docker_proxy",
        }
    }

    /// Generic containers give way to a cloud format found inside them.
    pub fn is_generic(self) -> bool {
        matches!(
            self,
            SourceFormat::K8sAudit
                | SourceFormat::K8sEventList
                | SourceFormat::JsonArray
                | SourceFormat::LogWrapper
        )
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a record came from: `file:line` (line of the record's first byte, 1-based), and for an
/// item of a batch (EventList, array, CloudWatch batch) its 1-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin<'s> {
    pub source: &'s str,
    pub line: u64,
    pub item: Option<u32>,
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.line)?;
        if let Some(item) = self.item {
            write!(f, " (item {item})")?;
        }
        Ok(())
    }
}

/// What surrounds an event: platform, cluster, where it came from, in which format.
#[derive(Debug, Clone)]
pub struct Envelope<'a> {
    pub platform: Platform,
    pub cluster: Option<Cow<'a, str>>,
    pub format: SourceFormat,
    /// Time given by the envelope (CloudWatch ingestion, GKE `timestamp`), used when the event
    /// itself carries none.
    pub envelope_time: Option<Cow<'a, str>>,
}

/// A decoded event with its envelope and origin, lent to the consumer for the duration of a
/// callback.
pub struct Decoded<'e, 'a> {
    pub event: &'e AuditEvent<'a>,
    /// The record the event was decoded from (the Event JSON, or the GKE LogEntry it was
    /// mapped from), for outputs and the rare rule that reaches past the typed fields.
    pub raw: &'e [u8],
    pub envelope: &'e Envelope<'e>,
    pub origin: &'e Origin<'e>,
}

impl Decoded<'_, '_> {
    /// Event time normalized to RFC 3339 UTC, or `None` when no timestamp is present or it
    /// cannot be read.
    pub fn time(&self) -> Option<String> {
        self.timestamp().map(|t| t.to_string())
    }

    /// Event time as an instant, for time windows and ordering.
    pub fn timestamp(&self) -> Option<jiff::Timestamp> {
        // An unreadable event time falls back to the envelope's rather than hiding it.
        self.event.raw_time().and_then(parse_timestamp).or_else(|| {
            self.envelope
                .envelope_time
                .as_deref()
                .and_then(parse_timestamp)
        })
    }
}
