//! `inventory workloads`: credentials in plain sight in what the cluster stores — literal
//! environment values in pod and workload specs, ConfigMap data, container arguments,
//! annotations (a whole Secret kept in `last-applied-configuration`), legacy service-account
//! token Secrets still present — and pods mounting the node's container runtime socket, the
//! kubelet's or control plane's credentials, or the host's root. Values are never written: a
//! finding names the credential type, its length and a keyed fingerprint.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use super::assess::RbacReport;
use super::dump::{Dump, Workload};
use crate::findings::Severity;
use crate::redact::Redactor;
use crate::scan::detect::Detectors;

/// A finding about an object: the findings contract plus the redacted credential.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WorkloadFinding {
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    /// `Kind/namespace/name`.
    pub object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Where in the object (`spec.template.spec.containers[0].env[DB_PASSWORD]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// `file:line`.
    pub evidence: String,
    /// The credential's type, length and fingerprint — never its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct WorkloadSummary {
    pub files: usize,
    pub objects: u64,
    pub errors: usize,
    pub workloads: usize,
    pub findings: usize,
    pub by_kind: BTreeMap<String, usize>,
}

pub struct WorkloadReport {
    pub findings: Vec<WorkloadFinding>,
    pub summary: WorkloadSummary,
}

/// Host paths whose mount hands over the node: (path, severity, what it holds).
const HOST_PATHS: &[(&str, Severity, &str)] = &[
    ("/", Severity::Critical, "the host's root filesystem"),
    (
        "/var/run/docker.sock",
        Severity::Critical,
        "the Docker Engine API",
    ),
    (
        "/run/docker.sock",
        Severity::Critical,
        "the Docker Engine API",
    ),
    (
        "/var/run",
        Severity::Critical,
        "the runtime sockets under /var/run",
    ),
    ("/run", Severity::Critical, "the runtime sockets under /run"),
    (
        "/var/run/containerd/containerd.sock",
        Severity::Critical,
        "the containerd API",
    ),
    (
        "/run/containerd/containerd.sock",
        Severity::Critical,
        "the containerd API",
    ),
    ("/run/containerd", Severity::Critical, "the containerd API"),
    (
        "/var/run/crio/crio.sock",
        Severity::Critical,
        "the CRI-O API",
    ),
    (
        "/var/lib/kubelet",
        Severity::High,
        "the kubelet's credentials and every pod's volumes (tokens, Secrets)",
    ),
    (
        "/etc/kubernetes",
        Severity::High,
        "the kubelet's and control plane's credentials",
    ),
    (
        "/var/lib/docker",
        Severity::High,
        "every container's filesystem and logs",
    ),
    ("/var/log/pods", Severity::Medium, "every container's logs"),
    ("/var/log", Severity::Medium, "every container's logs"),
    (
        "/root",
        Severity::High,
        "root's home (kubeconfigs, cloud credentials)",
    ),
    (
        "/etc",
        Severity::High,
        "the host's configuration (shadow, kubelet config)",
    ),
];

fn host_path_risk(path: &str) -> Option<(Severity, &'static str)> {
    let normal = path.trim_end_matches('/');
    let normal = if normal.is_empty() { "/" } else { normal };
    HOST_PATHS
        .iter()
        .find(|(p, ..)| {
            *p == normal
                || (p.len() > 1
                    && normal.starts_with(p)
                    && normal[p.len()..].starts_with('/')
                    && !matches!(*p, "/var/run" | "/run" | "/etc" | "/var/log"))
        })
        .map(|(_, s, what)| (*s, *what))
}

/// Environment names that say "this is a credential".
fn credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const NOT: &[&str] = &[
        "_FILE",
        "_PATH",
        "_DIR",
        "_NAME",
        "_REF",
        "_TTL",
        "_EXPIRY",
        "_LENGTH",
        "_TIMEOUT",
        "_ENABLED",
        "_HEADER",
        "_TYPE",
        "_URL",
        "_HOST",
        "_PORT",
        "_USER",
        "_USERNAME",
        "_ID",
        "_ROTATION",
        "_VERSION",
        "_ALGORITHM",
    ];
    if NOT.iter().any(|s| upper.ends_with(s)) {
        return false;
    }
    const WORDS: &[&str] = &[
        "PASSWORD",
        "PASSWD",
        "PASS",
        "SECRET",
        "TOKEN",
        "APIKEY",
        "API_KEY",
        "ACCESS_KEY",
        "PRIVATE_KEY",
        "CREDENTIAL",
        "AUTH_KEY",
        "CLIENT_KEY",
    ];
    WORDS.iter().any(|w| {
        upper == *w
            || upper.starts_with(&format!("{w}_"))
            || upper.ends_with(&format!("_{w}"))
            || upper.contains(&format!("_{w}_"))
    })
}

/// Literal values that are not credentials: references, switches, empties.
fn placeholder(value: &str) -> bool {
    let v = value.trim();
    v.len() < 4
        || v.starts_with("$(")
        || v.starts_with("${")
        || v.starts_with('/')
        || matches!(
            v.to_ascii_lowercase().as_str(),
            "true" | "false" | "none" | "null" | "disabled" | "enabled" | "<redacted>" | "redacted"
        )
        || v.bytes().all(|b| b.is_ascii_digit())
}

/// Scans the dump files' objects and the typed workloads.
pub fn report(dump: &Dump, rbac: &RbacReport, redactor: &Redactor) -> WorkloadReport {
    let detectors = Detectors::new();
    let mut findings = Vec::new();
    // Detector hits on every object (env, args, ConfigMap data, annotations).
    for file in &dump.files {
        let Ok(bytes) = std::fs::read(file) else {
            continue;
        };
        let Ok(walked) = crate::scan::objects::scan_dump(&detectors, &bytes) else {
            continue;
        };
        for hit in walked.hits {
            if hit.detection.example {
                continue;
            }
            let kind = hit_kind(&hit.object, &hit.field, hit.detection.kind);
            let value = &hit.detection.value;
            findings.push(WorkloadFinding {
                kind: kind.to_owned(),
                severity: hit.detection.severity,
                message: format!(
                    "{} in {} `{}`: {}",
                    hit.detection.kind, hit.object, hit.field, hit.detection.reason
                ),
                namespace: hit.location.namespace.clone(),
                object: hit.object,
                field: Some(hit.field),
                evidence: format!("{}:{}", file.display(), hit.line),
                credential_type: Some(hit.detection.kind.to_owned()),
                length: Some(value.chars().count()),
                fingerprint: Some(redactor.fingerprint(value)),
            });
        }
    }
    let detected_env: HashSet<(String, String)> = findings
        .iter()
        .filter(|f| f.kind == "env_literal")
        .filter_map(|f| {
            let field = f.field.as_deref()?;
            let name = field.rsplit_once(".env[")?.1.strip_suffix(']')?;
            Some((f.object.clone(), name.to_owned()))
        })
        .collect();
    for workload in &dump.workloads {
        env_literals(workload, &detected_env, redactor, &mut findings);
        host_mounts(workload, &mut findings);
    }
    legacy_tokens(dump, rbac, &mut findings);

    findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.kind, &a.object, &a.field).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.kind,
            &b.object,
            &b.field,
        ))
    });
    findings.dedup();
    let mut summary = WorkloadSummary {
        files: dump.files.len(),
        objects: dump.objects,
        errors: dump.errors.len(),
        workloads: dump.workloads.len(),
        findings: findings.len(),
        by_kind: BTreeMap::new(),
    };
    for f in &findings {
        *summary.by_kind.entry(f.kind.clone()).or_default() += 1;
    }
    WorkloadReport { findings, summary }
}

fn hit_kind(object: &str, field: &str, detector: &str) -> &'static str {
    if field.contains("last-applied-configuration") {
        return if detector == "kubernetes_secret_data" {
            "last_applied_secret"
        } else {
            "annotation_credential"
        };
    }
    if field.contains(".env[") {
        return "env_literal";
    }
    if object.starts_with("ConfigMap/") {
        return "configmap_credential";
    }
    if field.ends_with(".command") || field.ends_with(".args") {
        return "argument_credential";
    }
    if field.starts_with("metadata.annotations") {
        return "annotation_credential";
    }
    "credential_in_spec"
}

fn env_literals(
    workload: &Workload,
    detected: &HashSet<(String, String)>,
    redactor: &Redactor,
    findings: &mut Vec<WorkloadFinding>,
) {
    let object = workload.display();
    let mut seen = BTreeSet::new();
    for var in &workload.env {
        if !credential_name(&var.name)
            || placeholder(&var.value)
            || detected.contains(&(object.clone(), var.name.clone()))
            || !seen.insert((&var.container, &var.name))
        {
            continue;
        }
        findings.push(WorkloadFinding {
            kind: "env_literal".to_owned(),
            severity: Severity::Medium,
            message: format!(
                "{object}: container {} sets {} to a literal value (use a Secret: anyone who can read the {} can read it)",
                var.container,
                var.name,
                workload.kind
            ),
            object: object.clone(),
            namespace: Some(workload.namespace.clone()),
            field: Some(format!("containers[{}].env[{}]", var.container, var.name)),
            evidence: workload.origin.to_string(),
            credential_type: Some("env_value".to_owned()),
            length: Some(var.value.chars().count()),
            fingerprint: Some(redactor.fingerprint(&var.value)),
        });
    }
}

fn host_mounts(workload: &Workload, findings: &mut Vec<WorkloadFinding>) {
    let object = workload.display();
    for mount in &workload.host_mounts {
        let Some((severity, what)) = host_path_risk(&mount.path) else {
            continue;
        };
        findings.push(WorkloadFinding {
            kind: "host_mount".to_owned(),
            severity,
            message: format!(
                "{object} mounts the host path {} ({what}): whoever runs code in it holds the node",
                mount.path
            ),
            object: object.clone(),
            namespace: Some(workload.namespace.clone()),
            field: Some(format!("volumes[{}].hostPath {}", mount.volume, mount.path)),
            evidence: workload.origin.to_string(),
            credential_type: None,
            length: None,
            fingerprint: None,
        });
    }
    if workload.privileged {
        findings.push(WorkloadFinding {
            kind: "privileged_container".to_owned(),
            severity: Severity::High,
            message: format!("{object} runs a privileged container: the node's devices and namespaces are its own"),
            object,
            namespace: Some(workload.namespace.clone()),
            field: Some("securityContext.privileged".to_owned()),
            evidence: workload.origin.to_string(),
            credential_type: None,
            length: None,
            fingerprint: None,
        });
    }
}

/// Legacy service-account-token Secrets: long-lived tokens, weighed by what their account can do.
fn legacy_tokens(dump: &Dump, rbac: &RbacReport, findings: &mut Vec<WorkloadFinding>) {
    for secret in dump
        .secrets
        .iter()
        .filter(|s| s.secret_type == "kubernetes.io/service-account-token")
    {
        let account = secret.service_account.as_deref().unwrap_or("?");
        let subject = format!("ServiceAccount:{}:{account}", secret.namespace);
        let reach = rbac
            .service_accounts
            .iter()
            .find(|sa| sa.subject == subject);
        let (severity, powers) = match reach.filter(|sa| sa.severity.is_some()) {
            Some(sa) => (
                sa.severity
                    .unwrap_or(Severity::Medium)
                    .max(Severity::Medium),
                format!("; the account {}", sa.kinds.join(", ")),
            ),
            None => (Severity::Medium, String::new()),
        };
        findings.push(WorkloadFinding {
            kind: "legacy_token_secret".to_owned(),
            severity,
            message: format!(
                "Secret {}/{} holds a non-expiring token of service account {account}{powers}: anyone who can read Secrets in {} holds it",
                secret.namespace, secret.name, secret.namespace
            ),
            object: format!("Secret/{}/{}", secret.namespace, secret.name),
            namespace: Some(secret.namespace.clone()),
            field: None,
            evidence: secret.origin.to_string(),
            credential_type: Some("kubernetes_service_account_token".to_owned()),
            length: None,
            fingerprint: None,
        });
    }
}

pub fn worst(report: &WorkloadReport) -> Option<Severity> {
    report.findings.iter().map(|f| f.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_and_placeholders() {
        for (name, expected) in [
            ("DB_PASSWORD", true),
            ("PASSWORD", true),
            ("STRIPE_API_KEY", true),
            ("GITHUB_TOKEN", true),
            ("TOKEN_FILE", false),
            ("SECRET_NAME", false),
            ("PASSWORD_PATH", false),
            ("TOKEN_TTL", false),
            ("LOG_LEVEL", false),
            ("BYPASS_CACHE", false),
        ] {
            assert_eq!(credential_name(name), expected, "{name}");
        }
        for (value, expected) in [
            ("$(DB_PASSWORD)", true),
            ("/var/run/secrets/token", true),
            ("true", true),
            ("8080", true),
            ("Tr0ub4dor&3", false),
        ] {
            assert_eq!(placeholder(value), expected, "{value}");
        }
        for (path, expected) in [
            ("/var/run/docker.sock", Some(Severity::Critical)),
            ("/", Some(Severity::Critical)),
            ("/var/lib/kubelet/pods", Some(Severity::High)),
            ("/etc/ssl/certs", None),
            ("/var/log/pods/x", Some(Severity::Medium)),
            ("/data", None),
        ] {
            assert_eq!(host_path_risk(path).map(|r| r.0), expected, "{path}");
        }
    }
}
