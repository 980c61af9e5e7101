//! `hunt --scan FILE`: a scan's findings, indexed by pod and container, turn "container logs
//! were returned (whether they hold credentials is unknown)" into "exposed: the logs hold an AWS
//! key pair and a GitHub token". The index holds only kinds and counts, never values.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use crate::alert::{Alert, Exposure};

use super::ScanFinding;

/// The credential kinds found per container of a pod.
#[derive(Debug, Default, Clone)]
pub struct ScanIndex {
    /// (namespace, pod) → container → kinds.
    pods: HashMap<(String, String), HashMap<String, BTreeSet<String>>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanIndexError {
    #[error("{path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}:{line}: not a scan finding: {message}")]
    Finding {
        path: String,
        line: usize,
        message: String,
    },
}

impl ScanIndex {
    /// Reads what `credwatch scan` wrote: `--format json` (one document) or `jsonl`.
    pub fn load(path: &Path) -> Result<ScanIndex, ScanIndexError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ScanIndexError::Read {
            path: name.clone(),
            message: e.to_string(),
        })?;
        #[derive(serde::Deserialize)]
        struct Document {
            findings: Vec<ScanFinding>,
        }
        if let Ok(document) = serde_json::from_str::<Document>(&text) {
            return Ok(ScanIndex::from_findings(&document.findings));
        }
        let mut findings = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let finding =
                serde_json::from_str::<ScanFinding>(line).map_err(|e| ScanIndexError::Finding {
                    path: name.clone(),
                    line: i + 1,
                    message: e.to_string(),
                })?;
            findings.push(finding);
        }
        Ok(ScanIndex::from_findings(&findings))
    }

    pub fn from_findings(findings: &[ScanFinding]) -> ScanIndex {
        let mut index = ScanIndex::default();
        // Only what logs hold: a credential in a Pod manifest is not in its container's logs.
        for f in findings.iter().filter(|f| !f.example && f.object.is_none()) {
            let (Some(namespace), Some(pod)) = (&f.namespace, &f.pod) else {
                continue;
            };
            index
                .pods
                .entry((namespace.clone(), pod.clone()))
                .or_default()
                .entry(f.container.clone().unwrap_or_default())
                .or_default()
                .insert(f.kind.clone());
        }
        index
    }

    pub fn is_empty(&self) -> bool {
        self.pods.is_empty()
    }

    /// The kinds found in the logs of a pod's container (any container when `container` is
    /// None: `kubectl logs` without `-c` reads the pod's default container).
    pub fn kinds(&self, namespace: &str, pod: &str, container: Option<&str>) -> BTreeSet<String> {
        let Some(containers) = self.pods.get(&(namespace.to_owned(), pod.to_owned())) else {
            return BTreeSet::new();
        };
        match container {
            Some(c) => containers.get(c).cloned().unwrap_or_default(),
            None => containers.values().flatten().cloned().collect(),
        }
    }

    /// Raises a successful container-log read of a pod whose logs hold credentials to
    /// `exposed`, naming the kinds: `pods/log` through the API server, and the kubelet's
    /// `containerLogs` through `nodes/proxy`.
    pub fn refine(&self, alert: &mut Alert) {
        if !matches!(alert.exposure.verdict.as_str(), "possible") {
            return; // denied, failed or already exposed: the scan adds nothing
        }
        let target = &alert.target;
        let read = match (target.resource.as_deref(), target.subresource.as_deref()) {
            (Some("pods"), Some("log")) => {
                let (Some(ns), Some(pod)) = (target.namespace.as_deref(), target.name.as_deref())
                else {
                    return;
                };
                let container = target
                    .uri
                    .as_deref()
                    .and_then(|u| query_value(u, "container"));
                Some((ns.to_owned(), pod.to_owned(), container))
            }
            (Some("nodes"), Some("proxy")) => target
                .uri
                .as_deref()
                .and_then(|u| u.split_once("/proxy/containerLogs/"))
                .and_then(|(_, rest)| {
                    let mut parts = rest.split(['?', '#']).next()?.split('/');
                    Some((
                        parts.next()?.to_owned(),
                        parts.next()?.to_owned(),
                        parts.next().filter(|c| !c.is_empty()).map(str::to_owned),
                    ))
                }),
            _ => None,
        };
        let Some((namespace, pod, container)) = read else {
            return;
        };
        let kinds = self.kinds(&namespace, &pod, container.as_deref());
        if kinds.is_empty() {
            return;
        }
        let which = match &container {
            Some(c) => format!("container {c} of pod {namespace}/{pod}"),
            None => format!("pod {namespace}/{pod}"),
        };
        alert.exposure = Exposure {
            verdict: "exposed".to_owned(),
            reason: format!(
                "returned: container logs of {which}, which hold credentials ({}; found by credwatch scan)",
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            ),
        };
    }
}

/// A query parameter's value, percent-decoding not needed for container names.
fn query_value<'u>(uri: &'u str, key: &str) -> Option<String> {
    let (_, query) = uri.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v): (&str, &'u str)| v.to_owned())
        .filter(|v| !v.is_empty())
}
