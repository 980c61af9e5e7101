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

/// The DESIGN.md verdict: did a credential reach the caller?
pub fn exposure(event: &AuditEvent<'_>) -> Exposure {
    let verdict = |v: &str, r: &str| Exposure {
        verdict: v.to_owned(),
        reason: r.to_owned(),
    };
    let code = event.response_status.as_ref().and_then(|s| s.code);
    let decision = event.decision();
    let object = event.object_ref.as_ref();
    let resource = object.and_then(|o| o.resource.as_deref()).unwrap_or("");
    let sub = object.and_then(|o| o.subresource.as_deref()).unwrap_or("");
    let verb = event.verb.as_deref().unwrap_or("");
    let credential_path = match (resource, sub, verb) {
        ("secrets", "", "get" | "list" | "watch") => {
            Some(("exposed", "secret data returned to the caller"))
        }
        ("serviceaccounts", "token", "create") => Some(("exposed", "service-account token minted")),
        ("pods", "exec" | "attach", _) => Some((
            "exposed",
            "interactive session in a workload, with its mounted credentials and environment",
        )),
        ("pods", "log", _) => Some((
            "possible",
            "container logs returned; whether they hold credentials is unknown",
        )),
        ("nodes", "proxy", _) => Some(("possible", "kubelet API reached through the node proxy")),
        ("containers", "logs", _) => Some((
            "possible",
            "container logs returned; whether they hold credentials is unknown",
        )),
        _ => None,
    };
    if decision.is_some_and(|d| d.eq_ignore_ascii_case("forbid")) || code.is_some_and(|c| c >= 400)
    {
        return verdict(
            "attempted",
            &match code {
                Some(c) => format!("request failed or was denied ({c})"),
                None => "request denied".to_owned(),
            },
        );
    }
    match (credential_path, code) {
        (Some((v, r)), Some(_)) => verdict(v, r),
        (Some(_), None) => verdict(
            "possible",
            "credential path reached; the outcome was not recorded",
        ),
        (None, _) => verdict("none", "no credential-bearing response"),
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
        }
    }
}
