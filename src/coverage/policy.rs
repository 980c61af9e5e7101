//! The Kubernetes audit policy (`audit.k8s.io/v1` and `v1beta1` `Policy`): parsed with the line
//! of every rule, and evaluated exactly as kube-apiserver does (`apiserver/pkg/audit/policy`):
//! the first rule that matches decides the level; no match means `None`; omitted stages are the
//! policy's and the rule's together.

use crate::rules::yaml::{self, Node};

/// How much of a request an audit event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Level {
    None,
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "None" => Level::None,
            "Metadata" => Level::Metadata,
            "Request" => Level::Request,
            "RequestResponse" => Level::RequestResponse,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "None",
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

pub const STAGES: [&str; 4] = [
    "RequestReceived",
    "ResponseStarted",
    "ResponseComplete",
    "Panic",
];

/// One `resources` entry of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResources {
    pub group: String,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PolicyRule {
    /// 0-based, as kube-apiserver and the docs count them.
    pub index: usize,
    pub line: usize,
    pub level: Level,
    pub users: Vec<String>,
    pub user_groups: Vec<String>,
    pub verbs: Vec<String>,
    pub resources: Vec<GroupResources>,
    pub namespaces: Vec<String>,
    pub non_resource_urls: Vec<String>,
    pub omit_stages: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub api_version: String,
    pub omit_stages: Vec<String>,
    pub rules: Vec<PolicyRule>,
    /// Problems that do not stop the analysis (unknown keys), with their lines.
    pub warnings: Vec<(usize, String)>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

/// A request as the policy checker sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub user: String,
    pub groups: Vec<String>,
    pub verb: String,
    pub target: Target,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Resource {
        group: String,
        resource: String,
        subresource: Option<String>,
        /// Empty for cluster-scoped resources.
        namespace: String,
        name: String,
    },
    NonResource {
        path: String,
    },
}

/// What the policy does with one request.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Decision {
    pub level: Level,
    /// The rule that decided; None when no rule matched (the default level `None`).
    pub rule: Option<usize>,
    /// Stages that produce an event (all four minus the omitted ones).
    pub stages: Vec<&'static str>,
}

impl Decision {
    pub fn logs_response_complete(&self) -> bool {
        self.level > Level::None && self.stages.contains(&"ResponseComplete")
    }
}

impl Policy {
    pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let error = |line: usize, message: String| PolicyError {
            file: file.to_owned(),
            line,
            message,
        };
        let documents = yaml::parse_documents(text).map_err(|e| error(e.line, e.message))?;
        let Some(root) = documents.into_iter().find(|d| !d.is_null()) else {
            return Err(error(1, "empty: no Policy document".to_owned()));
        };
        if root.entries().is_none() {
            return Err(error(
                root.line,
                format!("expected a Policy map, found {}", root.kind_name()),
            ));
        }
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or_default();
        if kind != "Policy" {
            return Err(error(
                root.get("kind").map_or(root.line, |n| n.line),
                format!("kind is `{kind}`, expected `Policy` (audit.k8s.io)"),
            ));
        }
        let api_version = root
            .get("apiVersion")
            .and_then(Node::as_str)
            .unwrap_or_default()
            .to_owned();
        if !matches!(
            api_version.as_str(),
            "audit.k8s.io/v1" | "audit.k8s.io/v1beta1" | "audit.k8s.io/v1alpha1"
        ) {
            return Err(error(
                root.get("apiVersion").map_or(root.line, |n| n.line),
                format!(
                    "apiVersion `{api_version}` is not an audit policy version (audit.k8s.io/v1)"
                ),
            ));
        }
        let mut warnings = Vec::new();
        let strings = |node: Option<&Node>, what: &str| -> Result<Vec<String>, PolicyError> {
            let Some(node) = node.filter(|n| !n.is_null()) else {
                return Ok(Vec::new());
            };
            let yaml::Value::Seq(items) = &node.value else {
                return Err(error(
                    node.line,
                    format!("`{what}` must be a list, found {}", node.kind_name()),
                ));
            };
            items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| error(i.line, format!("`{what}` entries must be strings")))
                })
                .collect()
        };
        let omit_stages = strings(root.get("omitStages"), "omitStages")?;
        let rules_node = root
            .get("rules")
            .ok_or_else(|| error(root.line, "no `rules`: the policy logs nothing".to_owned()))?;
        let yaml::Value::Seq(rule_nodes) = &rules_node.value else {
            return Err(error(
                rules_node.line,
                format!("`rules` must be a list, found {}", rules_node.kind_name()),
            ));
        };
        let mut rules = Vec::new();
        for (index, node) in rule_nodes.iter().enumerate() {
            let Some(entries) = node.entries() else {
                return Err(error(
                    node.line,
                    format!("rule {index} must be a map, found {}", node.kind_name()),
                ));
            };
            for (key, _) in entries {
                let k = key.as_str().unwrap_or_default();
                if !matches!(
                    k,
                    "level"
                        | "users"
                        | "userGroups"
                        | "verbs"
                        | "resources"
                        | "namespaces"
                        | "nonResourceURLs"
                        | "omitStages"
                        | "omitManagedFields"
                ) {
                    warnings.push((key.line, format!("rule {index}: unknown key `{k}`: kube-apiserver refuses or ignores it; either way it does not do what it says")));
                }
            }
            let level_node = node
                .get("level")
                .ok_or_else(|| error(node.line, format!("rule {index} has no `level`")))?;
            let level_text = level_node.as_str().unwrap_or_default();
            let level = Level::parse(level_text).ok_or_else(|| {
                error(
                    level_node.line,
                    format!("rule {index}: level `{level_text}` is not None, Metadata, Request or RequestResponse"),
                )
            })?;
            let mut resources = Vec::new();
            if let Some(list) = node.get("resources").filter(|n| !n.is_null()) {
                let yaml::Value::Seq(items) = &list.value else {
                    return Err(error(
                        list.line,
                        format!("rule {index}: `resources` must be a list of {{group, resources}}"),
                    ));
                };
                for item in items {
                    if item.entries().is_none() {
                        return Err(error(
                            item.line,
                            format!(
                                "rule {index}: a `resources` entry must be a map with `group` and `resources`"
                            ),
                        ));
                    }
                    resources.push(GroupResources {
                        group: item
                            .get("group")
                            .and_then(Node::as_str)
                            .unwrap_or_default()
                            .to_owned(),
                        resources: strings(item.get("resources"), "resources")?,
                        resource_names: strings(item.get("resourceNames"), "resourceNames")?,
                        line: item.line,
                    });
                }
            }
            rules.push(PolicyRule {
                index,
                line: node.line,
                level,
                users: strings(node.get("users"), "users")?,
                user_groups: strings(node.get("userGroups"), "userGroups")?,
                verbs: strings(node.get("verbs"), "verbs")?,
                resources,
                namespaces: strings(node.get("namespaces"), "namespaces")?,
                non_resource_urls: strings(node.get("nonResourceURLs"), "nonResourceURLs")?,
                omit_stages: strings(node.get("omitStages"), "omitStages")?,
            });
        }
        Ok(Policy {
            api_version,
            omit_stages,
            rules,
            warnings,
        })
    }

    /// The decision for one request: first match wins.
    pub fn decide(&self, request: &Request) -> Decision {
        for rule in &self.rules {
            if rule.matches(request) {
                let stages = STAGES
                    .iter()
                    .copied()
                    .filter(|s| {
                        !self.omit_stages.iter().any(|o| o == s)
                            && !rule.omit_stages.iter().any(|o| o == s)
                    })
                    .collect();
                return Decision {
                    level: rule.level,
                    rule: Some(rule.index),
                    stages: if rule.level == Level::None {
                        Vec::new()
                    } else {
                        stages
                    },
                };
            }
        }
        Decision {
            level: Level::None,
            rule: None,
            stages: Vec::new(),
        }
    }
}

impl PolicyRule {
    /// kube-apiserver's `ruleMatches`.
    pub fn matches(&self, request: &Request) -> bool {
        if !self.users.is_empty() && !self.users.contains(&request.user) {
            return false;
        }
        if !self.user_groups.is_empty()
            && !request.groups.iter().any(|g| self.user_groups.contains(g))
        {
            return false;
        }
        if !self.verbs.is_empty() && !self.verbs.contains(&request.verb) {
            return false;
        }
        if !self.namespaces.is_empty() || !self.resources.is_empty() {
            return self.matches_resource(&request.target);
        }
        if !self.non_resource_urls.is_empty() {
            return match &request.target {
                Target::NonResource { path } => self
                    .non_resource_urls
                    .iter()
                    .any(|spec| path_matches(path, spec)),
                Target::Resource { .. } => false,
            };
        }
        true
    }

    fn matches_resource(&self, target: &Target) -> bool {
        let Target::Resource {
            group,
            resource,
            subresource,
            namespace,
            name,
        } = target
        else {
            return false;
        };
        // Non-namespaced resources are selected by the empty string.
        if !self.namespaces.is_empty() && !self.namespaces.contains(namespace) {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let combined = match subresource {
            Some(sub) => format!("{resource}/{sub}"),
            None => resource.clone(),
        };
        for gr in self.resources.iter().filter(|gr| &gr.group == group) {
            if gr.resources.is_empty() {
                return true;
            }
            if !gr.resource_names.is_empty() && !gr.resource_names.contains(name) {
                continue;
            }
            for res in &gr.resources {
                if *res == combined || res == "*" {
                    return true;
                }
                if let (Some(sub), Some(wanted)) = (subresource, res.strip_prefix("*/"))
                    && sub == wanted
                {
                    return true;
                }
                if let Some(base) = res.strip_suffix("/*")
                    && base == resource
                {
                    return true;
                }
            }
        }
        false
    }
}

/// kube-apiserver's `pathMatches`: exact, `*`, or a prefix ending in `*`.
fn path_matches(path: &str, spec: &str) -> bool {
    spec == "*"
        || spec == path
        || spec
            .strip_suffix('*')
            .is_some_and(|prefix| path.starts_with(prefix))
}
