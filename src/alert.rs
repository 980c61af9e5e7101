//! Alerts: what a rule match becomes. The JSON shape is a contract (DESIGN.md "Alert
//! contract"): fields may be added, never renamed.

use crate::event::{AuditEvent, Decoded, Platform};
use crate::redact::Redactor;
use crate::rules::RuleMeta;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AlertRule {
    pub id: String,
    pub name: Option<String>,
    pub title: String,
    pub level: String,
    pub tags: Vec<String>,
    /// The rule's author, which the Detection Rule License asks views of matches to name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
}

impl AlertRule {
    pub fn from_meta(meta: &RuleMeta) -> AlertRule {
        AlertRule {
            id: meta.key().to_owned(),
            name: meta.name.clone(),
            title: meta.title.clone(),
            level: meta.level.as_str().to_owned(),
            tags: meta.tags.clone(),
            author: meta.author.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Actor {
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// user | serviceaccount | node | anonymous | system
    pub kind: String,
    /// The real caller when the request impersonated `username`.
    pub impersonated_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub ips: Vec<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target {
    pub verb: Option<String>,
    pub resource: Option<String>,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub uri: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Outcome {
    pub code: Option<i64>,
    pub decision: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Exposure {
    /// exposed | attempted | possible | none
    pub verdict: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Evidence {
    /// `file:line`
    pub location: String,
    /// 1-based index inside a batch record (EventList, CloudWatch batch), when it was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<u32>,
    pub audit_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Alert {
    pub time: Option<String>,
    pub rule: AlertRule,
    pub platform: String,
    pub cluster: Option<String>,
    pub actor: Actor,
    pub source: Source,
    pub target: Target,
    pub outcome: Outcome,
    pub exposure: Exposure,
    pub count: u64,
    pub evidence: Vec<Evidence>,
    /// Evidence entries left out of a large correlation (the first and last are kept).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub evidence_omitted: u64,
    /// What the credential opens, from `hunt --inventory`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<crate::inventory::blast::BlastRadius>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// How many events of a correlation alert are listed as evidence.
pub const MAX_EVIDENCE: usize = 50;

fn own(s: Option<&str>) -> Option<String> {
    s.map(str::to_owned)
}

pub fn actor_kind(username: Option<&str>) -> &'static str {
    match username {
        None | Some("") | Some("system:anonymous") => "anonymous",
        Some(u) if u.starts_with("system:serviceaccount:") => "serviceaccount",
        Some(u) if u.starts_with("system:node:") => "node",
        Some(u) if u.starts_with("system:") => "system",
        Some(_) => "user",
    }
}

/// Kubelet API paths (after `nodes/<node>/proxy/`) that run something in a container.
const KUBELET_RUN_PATHS: &[&str] = &["exec", "run", "attach", "portforward", "checkpoint"];

/// Workload kinds whose specs carry environment values.
const WORKLOAD_RESOURCES: &[&str] = &[
    "pods",
    "deployments",
    "replicasets",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
    "replicationcontrollers",
];

/// What a request touched: `ns/name`, or every `kind` of a namespace or of the cluster.
fn scope(object: Option<&crate::event::ObjectRef<'_>>, kind: &str) -> String {
    let ns = object.and_then(|o| o.namespace.as_deref());
    let name = object.and_then(|o| o.name.as_deref());
    match (ns, name) {
        (Some(ns), Some(name)) => format!("{ns}/{name}"),
        (None, Some(name)) => name.to_owned(),
        (Some(ns), None) => format!("every {kind} in namespace {ns}"),
        (None, None) => format!("every {kind} in the cluster"),
    }
}

/// A top-level string of a raw JSON body (`type`, …), parsed only for the rare events whose
/// level logged a body.
fn body_string(raw: Option<&crate::event::RawJson<'_>>, path: &[&str]) -> Option<String> {
    use sonic_rs::{JsonType, JsonValueTrait};
    // A lazy lookup: only the path is parsed, not the whole body (a Secret list can be large).
    let node = sonic_rs::get(raw?.as_str(), path).ok()?;
    match node.get_type() {
        JsonType::String => node.as_str().map(str::to_owned),
        JsonType::Number => Some(node.as_raw_str().to_owned()),
        _ => None,
    }
}

/// What a Docker Engine API call returns that may hold credentials: a container's
/// configuration (its environment), logs, files or whole filesystem, a command run in it, the
/// swarm's join tokens or unlock key, a plugin's settings.
fn docker_path(
    event: &AuditEvent<'_>,
    resource: &str,
    sub: &str,
    verb: &str,
) -> Option<(&'static str, &'static str, String)> {
    let name = event
        .object_ref
        .as_ref()
        .and_then(|o| o.name.as_deref())
        .unwrap_or("?");
    let uri = event.request_uri.as_deref().unwrap_or("");
    Some(match (resource, sub, verb) {
        ("containers", "", "get") => (
            "possible",
            "returned",
            format!("the configuration of container {name} (its environment may hold credentials)"),
        ),
        ("containers", "logs", "get") => (
            "possible",
            "returned",
            format!("the logs of container {name}"),
        ),
        ("containers", "archive", "get") => {
            let path = crate::docker::api::query_value(uri, "path").unwrap_or_default();
            (
                "possible",
                "returned",
                format!("files at {path} in container {name}"),
            )
        }
        ("containers", "export", "get") => (
            "possible",
            "returned",
            format!("the whole filesystem of container {name}"),
        ),
        ("containers", "exec" | "attach", _) | ("exec", "start", _) => {
            // An exec start names the exec; its container, when known, is in `container=`.
            let container = crate::docker::api::query_value(uri, "container")
                .filter(|_| resource == "exec")
                .unwrap_or_else(|| name.to_owned());
            (
                "possible",
                "ran",
                format!(
                    "a command in container {container} (it sees the container's environment and files)"
                ),
            )
        }
        ("swarm", "unlockkey", "get") => {
            ("possible", "returned", "the swarm unlock key".to_owned())
        }
        ("swarm", "", "get") => ("possible", "returned", "the swarm's join tokens".to_owned()),
        ("plugins", "", "get") | ("plugins", "privileges", "get") => (
            "possible",
            "returned",
            format!("the settings of plugin {name} (its environment may hold credentials)"),
        ),
        _ => return None,
    })
}

/// The DESIGN.md verdict: did a credential reach the caller? The reason names what was (or
/// would have been) exposed, and the Secret's type when the event's level shows it.
pub fn exposure(event: &AuditEvent<'_>) -> Exposure {
    let code = event.response_status.as_ref().and_then(|s| s.code);
    let decision = event.decision();
    let object = event.object_ref.as_ref();
    let resource = object.and_then(|o| o.resource.as_deref()).unwrap_or("");
    let sub = object.and_then(|o| o.subresource.as_deref()).unwrap_or("");
    let verb = event.verb.as_deref().unwrap_or("");
    let reading = matches!(verb, "get" | "list" | "watch");
    // (verdict on success, what happens on success, what it concerns)
    let docker_path =
        crate::rules::is_docker(event).then(|| docker_path(event, resource, sub, verb));
    let credential_path: Option<(&str, &str, String)> = match (resource, sub) {
        _ if docker_path.is_some() => docker_path.flatten(),
        ("secrets", "") if reading => {
            let kind = body_string(event.response_object.as_ref(), &["type"])
                .map(|t| format!(" (type {t})"))
                .unwrap_or_default();
            Some((
                "exposed",
                "returned",
                format!("Secret data of {}{kind}", scope(object, "Secret")),
            ))
        }
        ("secrets", "") if verb == "create" => {
            match body_string(event.request_object.as_ref(), &["type"]) {
                Some(t) if t == "kubernetes.io/service-account-token" => Some((
                    "possible",
                    "created",
                    format!(
                        "a long-lived service-account token Secret {} (reading it returns the token)",
                        scope(object, "Secret")
                    ),
                )),
                _ => None,
            }
        }
        ("serviceaccounts", "token") if verb == "create" => {
            let lifetime = body_string(
                event.request_object.as_ref(),
                &["spec", "expirationSeconds"],
            )
            .map(|s| format!(" ({s} s lifetime requested)"))
            .unwrap_or_default();
            Some((
                "exposed",
                "minted",
                format!(
                    "a service-account token for {}{lifetime}",
                    scope(object, "service account")
                ),
            ))
        }
        ("certificatesigningrequests", "approval") if matches!(verb, "update" | "patch") => Some((
            "exposed",
            "approved",
            format!(
                "client certificate request {} (its requester can fetch the certificate)",
                scope(object, "request")
            ),
        )),
        ("certificatesigningrequests", "") if verb == "create" => Some((
            "possible",
            "created",
            format!(
                "certificate signing request {} (a credential once approved)",
                scope(object, "request")
            ),
        )),
        ("pods", "exec" | "attach") => Some((
            "exposed",
            "opened",
            format!(
                "a session in pod {}, with its mounted credentials and environment",
                scope(object, "pod")
            ),
        )),
        ("pods", "ephemeralcontainers") if !reading => Some((
            "exposed",
            "added",
            format!(
                "a debug container in pod {}, with its mounted credentials",
                scope(object, "pod")
            ),
        )),
        ("pods", "log") => Some((
            "possible",
            "returned",
            format!(
                "container logs of pod {} (whether they hold credentials is unknown)",
                scope(object, "pod")
            ),
        )),
        ("nodes", "proxy") => {
            let path = event
                .request_uri
                .as_deref()
                .and_then(|u| u.split_once("/proxy/"))
                .map(|(_, p)| {
                    // `/proxy/cri/exec/…` is the CRI streaming form of the same endpoints.
                    let p = p.strip_prefix("cri/").unwrap_or(p);
                    p.split(['/', '?'])
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase()
                })
                .unwrap_or_default();
            let node = scope(object, "node");
            if KUBELET_RUN_PATHS.contains(&path.as_str()) {
                Some((
                    "exposed",
                    "reached",
                    format!("kubelet {path} on node {node}, with the container's credentials"),
                ))
            } else {
                Some((
                    "possible",
                    "reached",
                    format!("the kubelet API of node {node} (/{path})"),
                ))
            }
        }
        ("containers", "logs") => Some((
            "possible",
            "returned",
            format!(
                "container logs of {} (whether they hold credentials is unknown)",
                scope(object, "container")
            ),
        )),
        ("configmaps", "") if reading => Some((
            "possible",
            "returned",
            format!(
                "ConfigMap data of {} (it may hold credentials)",
                scope(object, "ConfigMap")
            ),
        )),
        ("configmaps", "") if matches!(verb, "create" | "update" | "patch") => Some((
            "none",
            "written",
            format!(
                "ConfigMap {} (any credential in it is readable by every ConfigMap reader)",
                scope(object, "ConfigMap")
            ),
        )),
        (r, "") if reading && WORKLOAD_RESOURCES.contains(&r) => Some((
            "possible",
            "returned",
            format!(
                "{} specs of {} (their environment values may hold credentials)",
                r.trim_end_matches('s'),
                scope(object, r.trim_end_matches('s'))
            ),
        )),
        _ => None,
    };
    let denied = decision.is_some_and(|d| d.eq_ignore_ascii_case("forbid"));
    if denied || code.is_some_and(|c| c >= 400) {
        let why = match code {
            Some(c) => format!("request failed or was denied ({c})"),
            None => "request denied".to_owned(),
        };
        return Exposure {
            verdict: "attempted".to_owned(),
            reason: match credential_path {
                Some((_, happened, what)) => format!("{why}; not {happened}: {what}"),
                None => why,
            },
        };
    }
    match (credential_path, code) {
        // Nothing reaches the caller on this path whatever the outcome (a ConfigMap write).
        (Some(("none", happened, what)), _) => Exposure {
            verdict: "none".to_owned(),
            reason: format!("{happened}: {what}"),
        },
        (Some((verdict, happened, what)), Some(_)) => Exposure {
            verdict: verdict.to_owned(),
            reason: format!("{happened}: {what}"),
        },
        (Some((_, _, what)), None) => Exposure {
            verdict: "possible".to_owned(),
            reason: format!("outcome not recorded: {what}"),
        },
        (None, _) => Exposure {
            verdict: "none".to_owned(),
            reason: "no credential-bearing response".to_owned(),
        },
    }
}

impl Alert {
    /// The alert for one event matching one rule.
    pub fn from_event(meta: &RuleMeta, d: &Decoded<'_, '_>, redactor: &Redactor) -> Alert {
        let e = d.event;
        let (username, groups, impersonated_by) = match &e.impersonated_user {
            Some(imp) => (
                imp.username.as_deref(),
                &imp.groups,
                own(e.user.username.as_deref()),
            ),
            None => (e.user.username.as_deref(), &e.user.groups, None),
        };
        let object = e.object_ref.as_ref();
        Alert {
            time: d.time(),
            rule: AlertRule::from_meta(meta),
            platform: match d.envelope.platform {
                Platform::Kubernetes => "kubernetes",
                Platform::Kubelet => "kubelet",
                Platform::Docker => "docker",
            }
            .to_owned(),
            cluster: own(d.envelope.cluster.as_deref()),
            actor: Actor {
                username: own(username),
                groups: groups.iter().map(|g| g.to_string()).collect(),
                kind: actor_kind(username).to_owned(),
                impersonated_by,
            },
            source: Source {
                ips: e.source_ips.iter().map(|s| s.to_string()).collect(),
                user_agent: own(e.user_agent.as_deref()),
            },
            target: Target {
                verb: own(e.verb.as_deref()),
                resource: own(object.and_then(|o| o.resource.as_deref())),
                subresource: own(object.and_then(|o| o.subresource.as_deref())),
                namespace: own(object.and_then(|o| o.namespace.as_deref())),
                name: own(object.and_then(|o| o.name.as_deref())),
                uri: e
                    .request_uri
                    .as_deref()
                    .map(|u| redactor.redact_uri(u).into_owned()),
            },
            outcome: Outcome {
                code: e.response_status.as_ref().and_then(|s| s.code),
                decision: own(e.decision()),
            },
            exposure: exposure(e),
            count: 1,
            evidence: vec![Evidence {
                location: format!("{}:{}", d.origin.source, d.origin.line),
                item: d.origin.item,
                audit_id: own(e.audit_id.as_deref()),
            }],
            evidence_omitted: 0,
            blast_radius: None,
        }
    }
}
