//! `hunt --inventory DUMP`: a credential read or minted matters more when it belongs to a
//! service account that can do much. The index maps legacy token Secrets, token requests and
//! pods (exec, attach: the pod's token is in reach) to their service account and what that
//! account can do; alerts on them carry a `blast_radius` and are raised one level when the
//! account's worst permission is high or critical.

use std::collections::HashMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::assess::{self, ServiceAccountReach};
use super::dump::{self, DumpError};
use crate::alert::Alert;
use crate::findings::Severity;

/// What the credential in an alert opens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlastRadius {
    /// `ServiceAccount:NS:NAME`.
    pub service_account: String,
    pub severity: Severity,
    /// Finding kinds of the account (`full_control`, `can_read_secrets`, …).
    pub kinds: Vec<String>,
    /// How the alert reaches the account's token.
    pub via: String,
    /// Pods that mount the token and the nodes that run them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
}

#[derive(Debug, Default)]
pub struct BlastIndex {
    /// (namespace, name) → the account's reach (only accounts with dangerous permissions).
    accounts: HashMap<(String, String), ServiceAccountReach>,
    /// (namespace, Secret) → service account of a legacy token Secret.
    token_secrets: HashMap<(String, String), String>,
    /// (namespace, pod) → service account whose token it mounts.
    pods: HashMap<(String, String), String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlastIndexError {
    #[error("--inventory: no Kubernetes objects read from the dump ({} unreadable)", .errors.len())]
    Empty { errors: Vec<DumpError> },
}

impl BlastIndex {
    /// Reads dumps (the same input as `inventory rbac`). Objects that cannot be used are
    /// returned to be reported; a dump with no object at all is an error.
    pub fn load(paths: &[PathBuf]) -> Result<(BlastIndex, Vec<DumpError>), BlastIndexError> {
        let dump = dump::load(paths);
        if dump.objects == 0 {
            return Err(BlastIndexError::Empty {
                errors: dump.errors,
            });
        }
        Ok((BlastIndex::from_dump(&dump), dump.errors))
    }

    pub fn from_dump(dump: &dump::Dump) -> BlastIndex {
        let report = assess::assess(dump);
        let split = |subject: &str| -> Option<(String, String)> {
            let (ns, name) = subject.strip_prefix("ServiceAccount:")?.split_once(':')?;
            Some((ns.to_owned(), name.to_owned()))
        };
        let mut index = BlastIndex::default();
        for sa in report.service_accounts {
            let Some(key) = split(&sa.subject) else {
                continue;
            };
            for secret in &sa.token_secrets {
                if let Some((ns, name)) = secret.split_once('/') {
                    index
                        .token_secrets
                        .insert((ns.to_owned(), name.to_owned()), key.1.clone());
                }
            }
            for pod in &sa.pods {
                if let Some((ns, name)) = pod.split_once('/') {
                    index
                        .pods
                        .insert((ns.to_owned(), name.to_owned()), key.1.clone());
                }
            }
            if sa.severity.is_some() {
                index.accounts.insert(key, sa);
            }
        }
        index
    }

    fn radius(&self, namespace: &str, account: &str, via: String) -> Option<BlastRadius> {
        let sa = self
            .accounts
            .get(&(namespace.to_owned(), account.to_owned()))?;
        Some(BlastRadius {
            service_account: sa.subject.clone(),
            severity: sa.severity?,
            kinds: sa.kinds.clone(),
            via,
            pods: sa.pods.clone(),
            nodes: sa.nodes.clone(),
        })
    }

    /// The account an alert's target reaches, if the inventory knows one with dangerous
    /// permissions: the worst when a request reaches several (a list of Secrets).
    pub fn radius_of(&self, alert: &Alert) -> Option<BlastRadius> {
        let t = &alert.target;
        let verb = t.verb.as_deref().unwrap_or("");
        let ns = t.namespace.as_deref();
        match (t.resource.as_deref(), t.subresource.as_deref()) {
            (Some("secrets"), None) if matches!(verb, "get" | "list" | "watch") => {
                match (ns, t.name.as_deref()) {
                    (Some(ns), Some(name)) => {
                        let account = self.token_secrets.get(&(ns.to_owned(), name.to_owned()))?;
                        self.radius(ns, account, format!("legacy token Secret {ns}/{name}"))
                    }
                    (ns, None) => self
                        .token_secrets
                        .iter()
                        .filter(|((secret_ns, _), _)| ns.is_none_or(|ns| ns == secret_ns))
                        .filter_map(|((secret_ns, name), account)| {
                            self.radius(
                                secret_ns,
                                account,
                                format!("legacy token Secret {secret_ns}/{name} (in the listing)"),
                            )
                        })
                        .max_by(|a, b| {
                            (a.severity, &b.service_account).cmp(&(b.severity, &a.service_account))
                        }),
                    _ => None,
                }
            }
            (Some("serviceaccounts"), Some("token")) if verb == "create" => {
                let (ns, name) = (ns?, t.name.as_deref()?);
                self.radius(ns, name, format!("token minted for {ns}/{name}"))
            }
            (Some("pods"), Some("exec" | "attach" | "ephemeralcontainers")) => {
                let (ns, pod) = (ns?, t.name.as_deref()?);
                let account = self.pods.get(&(ns.to_owned(), pod.to_owned()))?;
                self.radius(
                    ns,
                    account,
                    format!("commands in pod {ns}/{pod}, which mounts the token"),
                )
            }
            (Some("nodes"), Some("proxy")) => {
                // The kubelet API: /exec|/run|/attach/<ns>/<pod>/<container>.
                let uri = t.uri.as_deref()?;
                let (_, rest) = uri.split_once("/proxy/")?;
                let mut parts = rest.split(['?', '#']).next()?.split('/');
                if !matches!(parts.next()?, "exec" | "run" | "attach") {
                    return None;
                }
                let (ns, pod) = (parts.next()?, parts.next()?);
                let account = self.pods.get(&(ns.to_owned(), pod.to_owned()))?;
                self.radius(
                    ns,
                    account,
                    format!(
                        "commands in pod {ns}/{pod} through the kubelet, which mounts the token"
                    ),
                )
            }
            _ => None,
        }
    }

    /// Fills `blast_radius` and raises the level (see [`raise_level`]).
    pub fn refine(&self, alert: &mut Alert) {
        alert.blast_radius = self.radius_of(alert);
    }
}

/// One level up, up to critical, when the credential opens an account whose worst permission
/// is high or critical — unless the request was refused (nothing was obtained).
pub fn raise_level(alert: &mut Alert) {
    let Some(radius) = &alert.blast_radius else {
        return;
    };
    if radius.severity < Severity::High || alert.exposure.verdict == "attempted" {
        return;
    }
    let raised = match alert.rule.level.as_str() {
        "informational" => "low",
        "low" => "medium",
        "medium" => "high",
        "high" | "critical" => "critical",
        _ => return,
    };
    alert.rule.level = raised.to_owned();
}

/// The rule credwatch's inventory alerts carry (no Sigma rule flagged the request, the
/// inventory did).
pub fn reach_rule() -> &'static crate::rules::RuleMeta {
    static META: std::sync::OnceLock<crate::rules::RuleMeta> = std::sync::OnceLock::new();
    META.get_or_init(|| crate::rules::RuleMeta {
        id: Some("credwatch-inventory-powerful-token-reached".to_owned()),
        name: Some("cw_inventory_powerful_token_reached".to_owned()),
        title: "Token of a powerful service account reached".to_owned(),
        level: crate::rules::Level::High,
        status: Some("stable".to_owned()),
        description: Some(
            "The request returned, minted or ran next to the token of a service account that the RBAC inventory (hunt --inventory) shows can do much; no Sigma rule flagged it."
                .to_owned(),
        ),
        tags: vec![
            "attack.credential-access".to_owned(),
            "attack.t1552.007".to_owned(),
        ],
        falsepositives: vec!["Operators handling that account's credentials on purpose".to_owned()],
        playbook: None,
        author: Some("credwatch".to_owned()),
        standalone: true,
        file: "<inventory>".to_owned(),
        line: 0,
        builtin: true,
        docker: false,
    })
}
