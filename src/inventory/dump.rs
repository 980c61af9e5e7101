//! Reading what users can hand over without giving us cluster access: `kubectl get … -A -o json`
//! (a `List`), single objects, or directories of YAML/JSON manifests (multi-document YAML).
//! Every object remembers `file:line`; an object that cannot be read is named and counted, and
//! the rest of the dump is still used. A Secret's `data` is never read: only its type, name and
//! annotations are kept.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// Where an object was written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// An object or file that could not be used, with where it is.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{location}: {message}")]
pub struct DumpError {
    pub location: String,
    pub message: String,
}

/// One rule of a Role or ClusterRole, as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default, deserialize_with = "strings")]
    pub verbs: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub api_groups: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub resources: Vec<String>,
    #[serde(default, deserialize_with = "strings")]
    pub resource_names: Vec<String>,
    #[serde(default, rename = "nonResourceURLs", deserialize_with = "strings")]
    pub non_resource_urls: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Role {
    /// A ClusterRole (else a Role of `namespace`).
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    pub rules: Vec<PolicyRule>,
    pub labels: BTreeMap<String, String>,
    /// `aggregationRule.clusterRoleSelectors`: the ClusterRoles whose rules flow into this one.
    pub aggregation: Vec<LabelSelector>,
    pub origin: Origin,
}

/// A label selector (matchLabels and matchExpressions).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    #[serde(default, deserialize_with = "string_map")]
    pub match_labels: BTreeMap<String, String>,
    #[serde(default)]
    pub match_expressions: Option<Vec<LabelExpression>>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct LabelExpression {
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub operator: String,
    #[serde(default, deserialize_with = "strings")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Kubernetes' semantics; an empty selector selects everything.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().flatten().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

impl Role {
    pub fn display(&self) -> String {
        match (&self.namespace, self.cluster) {
            (Some(ns), false) => format!("Role/{ns}/{}", self.name),
            _ => format!("ClusterRole/{}", self.name),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectKind {
    User,
    Group,
    ServiceAccount,
}

/// A binding's subject. A ServiceAccount always carries its namespace (a RoleBinding's
/// namespace when the subject leaves it out, as the authorizer does).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Subject {
    pub kind: SubjectKind,
    pub name: String,
    pub namespace: Option<String>,
}

impl Subject {
    pub fn service_account(namespace: &str, name: &str) -> Subject {
        Subject {
            kind: SubjectKind::ServiceAccount,
            name: name.to_owned(),
            namespace: Some(namespace.to_owned()),
        }
    }

    /// The user name the API server gives this subject (`system:serviceaccount:ns:name`).
    pub fn username(&self) -> Option<String> {
        match self.kind {
            SubjectKind::User => Some(self.name.clone()),
            SubjectKind::ServiceAccount => self
                .namespace
                .as_ref()
                .map(|ns| format!("system:serviceaccount:{ns}:{}", self.name)),
            SubjectKind::Group => None,
        }
    }
}

impl fmt::Display for Subject {
    /// `User:NAME`, `Group:NAME`, `ServiceAccount:NS:NAME`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.kind, &self.namespace) {
            (SubjectKind::User, _) => write!(f, "User:{}", self.name),
            (SubjectKind::Group, _) => write!(f, "Group:{}", self.name),
            (SubjectKind::ServiceAccount, Some(ns)) => {
                write!(f, "ServiceAccount:{ns}:{}", self.name)
            }
            (SubjectKind::ServiceAccount, None) => write!(f, "ServiceAccount:?:{}", self.name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Binding {
    /// A ClusterRoleBinding (else a RoleBinding of `namespace`).
    pub cluster: bool,
    pub namespace: Option<String>,
    pub name: String,
    /// `roleRef.kind == ClusterRole`.
    pub role_is_cluster: bool,
    pub role_name: String,
    pub subjects: Vec<Subject>,
    pub labels: BTreeMap<String, String>,
    pub origin: Origin,
}

impl Binding {
    pub fn display(&self) -> String {
        match (&self.namespace, self.cluster) {
            (Some(ns), false) => format!("RoleBinding/{ns}/{}", self.name),
            _ => format!("ClusterRoleBinding/{}", self.name),
        }
    }

    pub fn role_display(&self) -> String {
        match (&self.namespace, self.role_is_cluster) {
            (Some(ns), false) => format!("Role/{ns}/{}", self.role_name),
            _ => format!("ClusterRole/{}", self.role_name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub namespace: String,
    pub name: String,
    pub automount: Option<bool>,
    pub origin: Origin,
}

/// A host path a pod mounts.
#[derive(Debug, Clone, PartialEq)]
pub struct HostMount {
    pub volume: String,
    pub path: String,
}

/// An environment variable with a literal value (not `valueFrom`). The value is kept only long
/// enough to be checked; reports carry its redaction.
#[derive(Debug, Clone)]
pub struct EnvLiteral {
    pub container: String,
    pub name: String,
    pub value: String,
}

/// A pod, or a workload's pod template.
#[derive(Debug, Clone)]
pub struct Workload {
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub service_account: String,
    pub node: Option<String>,
    /// Whether the service account token is mounted (automount, or a projected token volume).
    pub mounts_token: bool,
    /// `spec.automountServiceAccountToken`, to be combined with the service account's.
    pub automount: Option<bool>,
    pub projected_token: bool,
    pub host_mounts: Vec<HostMount>,
    pub privileged: bool,
    pub env: Vec<EnvLiteral>,
    pub origin: Origin,
}

impl Workload {
    pub fn display(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

#[derive(Debug, Clone)]
pub struct SecretMeta {
    pub namespace: String,
    pub name: String,
    pub secret_type: String,
    /// `kubernetes.io/service-account.name` for service-account-token Secrets.
    pub service_account: Option<String>,
    pub origin: Origin,
}

/// Everything read from the dumps.
#[derive(Debug, Default)]
pub struct Dump {
    pub roles: Vec<Role>,
    pub bindings: Vec<Binding>,
    pub service_accounts: Vec<ServiceAccount>,
    /// Pods and workload templates.
    pub workloads: Vec<Workload>,
    pub nodes: Vec<String>,
    pub secrets: Vec<SecretMeta>,
    pub files: Vec<PathBuf>,
    pub objects: u64,
    /// Objects given more than once (same kind, namespace and name): the first is used.
    pub duplicates: u64,
    pub errors: Vec<DumpError>,
}

impl Dump {
    /// Completes a dump once every file is read: duplicates dropped (a directory and the same
    /// cluster's List given together), and aggregated ClusterRoles written without rules (a
    /// manifest, before the aggregation controller fills them) given the rules of the roles
    /// their selectors pick. Rules as written are used as they are: in a live dump they are
    /// what the controller put there.
    pub fn finish(&mut self) {
        let mut seen = std::collections::HashSet::new();
        let before = self.roles.len()
            + self.bindings.len()
            + self.workloads.len()
            + self.secrets.len()
            + self.service_accounts.len();
        self.roles
            .retain(|r| seen.insert(("role", r.cluster, r.namespace.clone(), r.name.clone())));
        self.bindings
            .retain(|b| seen.insert(("binding", b.cluster, b.namespace.clone(), b.name.clone())));
        self.service_accounts
            .retain(|a| seen.insert(("sa", false, Some(a.namespace.clone()), a.name.clone())));
        self.secrets
            .retain(|x| seen.insert(("secret", false, Some(x.namespace.clone()), x.name.clone())));
        let mut workload_seen = std::collections::HashSet::new();
        self.workloads.retain(|w| {
            workload_seen.insert((w.kind.clone(), w.namespace.clone(), w.name.clone()))
        });
        let after = self.roles.len()
            + self.bindings.len()
            + self.workloads.len()
            + self.secrets.len()
            + self.service_accounts.len();
        self.duplicates += (before - after) as u64;
        self.nodes.sort();
        self.nodes.dedup();
        let aggregated: Vec<(usize, Vec<PolicyRule>)> = self
            .roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.cluster && !r.aggregation.is_empty() && r.rules.is_empty())
            .map(|(i, role)| {
                let mut rules = role.rules.clone();
                for other in self
                    .roles
                    .iter()
                    .filter(|o| o.cluster && o.name != role.name)
                {
                    if role.aggregation.iter().any(|s| s.matches(&other.labels)) {
                        for rule in &other.rules {
                            if !rules.contains(rule) {
                                rules.push(rule.clone());
                            }
                        }
                    }
                }
                (i, rules)
            })
            .collect();
        for (i, rules) in aggregated {
            self.roles[i].rules = rules;
        }
    }

    pub fn pods(&self) -> impl Iterator<Item = &Workload> {
        self.workloads.iter().filter(|w| w.kind == "Pod")
    }
}

/// Reads every dump file (and every `.json`/`.yaml`/`.yml` file under a directory).
pub fn load(paths: &[PathBuf]) -> Dump {
    let mut dump = Dump::default();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = walkdir::WalkDir::new(path)
                .follow_links(true)
                .into_iter()
                .filter_map(|entry| match entry {
                    Ok(entry) => Some(entry),
                    Err(e) => {
                        dump.errors.push(DumpError {
                            location: path.display().to_string(),
                            message: format!("cannot walk: {e}"),
                        });
                        None
                    }
                })
                .filter(|e| e.file_type().is_file() && is_manifest(e.path()))
                .map(walkdir::DirEntry::into_path)
                .collect();
            files.sort();
            for file in files {
                load_file(&mut dump, &file);
            }
        } else {
            load_file(&mut dump, path);
        }
    }
    dump.finish();
    dump
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "yaml" | "yml")
    )
}

/// Dumps larger than this are refused (a kubectl dump of a 5,000-node cluster is far smaller).
const MAX_DUMP_BYTES: u64 = 2 << 30;

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_DUMP_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_DUMP_BYTES {
        return Err(format!(
            "larger than {} GiB: not a dump",
            MAX_DUMP_BYTES >> 30
        ));
    }
    Ok(bytes)
}

fn load_file(dump: &mut Dump, path: &Path) {
    let name: Arc<str> = path.display().to_string().into();
    dump.files.push(path.to_owned());
    let bytes = match read_capped(path) {
        Ok(bytes) => bytes,
        Err(message) => {
            dump.errors.push(DumpError {
                location: name.to_string(),
                message,
            });
            return;
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        dump.errors.push(DumpError {
            location: name.to_string(),
            message: "not UTF-8 text: not a Kubernetes object dump".to_owned(),
        });
        return;
    };
    load_text(dump, &name, text);
}

/// Reads one file's text (JSON or YAML).
pub fn load_text(dump: &mut Dump, file: &Arc<str>, text: &str) {
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        load_json(dump, file, text);
        return;
    }
    match crate::rules::yaml::parse_documents(text) {
        Ok(documents) => {
            for document in documents {
                if document.is_null() {
                    continue;
                }
                if let Some(items) = document.get("items")
                    && let crate::rules::yaml::Value::Seq(items) = &items.value
                {
                    for item in items {
                        let origin = Origin {
                            file: file.clone(),
                            line: item.line as u64,
                        };
                        add_value(dump, item.to_json(), origin);
                    }
                    continue;
                }
                let origin = Origin {
                    file: file.clone(),
                    line: document.line as u64,
                };
                add_value(dump, document.to_json(), origin);
            }
        }
        Err(e) => dump.errors.push(DumpError {
            location: format!("{file}:{}", e.line),
            message: format!("invalid YAML: {}", e.message),
        }),
    }
}

#[derive(Deserialize)]
struct ListShape<'a> {
    #[serde(borrow, default)]
    items: Option<Vec<&'a RawValue>>,
}

fn load_json(dump: &mut Dump, file: &Arc<str>, text: &str) {
    let list: ListShape = match serde_json::from_str(text) {
        Ok(list) => list,
        Err(e) => {
            dump.errors.push(DumpError {
                location: format!("{file}:{}", e.line()),
                message: format!("invalid JSON: {e}"),
            });
            return;
        }
    };
    let Some(items) = list.items else {
        add_raw(
            dump,
            text,
            Origin {
                file: file.clone(),
                line: 1 + count_lines(&text[..text.len() - text.trim_start().len()]),
            },
        );
        return;
    };
    // Lines are counted incrementally: items come in order.
    let mut counted = 0usize;
    let mut line = 1u64;
    let base = text.as_ptr() as usize;
    for item in items {
        let offset = (item.get().as_ptr() as usize).saturating_sub(base);
        line += count_lines(&text[counted..offset]);
        counted = offset;
        add_raw(
            dump,
            item.get(),
            Origin {
                file: file.clone(),
                line,
            },
        );
    }
}

fn count_lines(text: &str) -> u64 {
    memchr::memchr_iter(b'\n', text.as_bytes()).count() as u64
}

/// The fields credwatch reads from any object; everything else (a Secret's `data` included)
/// is skipped by the parser, never stored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Object {
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    metadata: Metadata,
    #[serde(default)]
    rules: Option<Vec<PolicyRule>>,
    #[serde(default)]
    aggregation_rule: Option<AggregationRule>,
    /// A List inside a List.
    #[serde(default)]
    items: Option<Vec<Value>>,
    #[serde(default)]
    role_ref: Option<RoleRef>,
    #[serde(default)]
    subjects: Option<Vec<RawSubject>>,
    #[serde(default)]
    spec: Option<Value>,
    #[serde(default, rename = "type")]
    secret_type: Option<String>,
    #[serde(default)]
    automount_service_account_token: Option<bool>,
}

#[derive(Deserialize, Default)]
struct Metadata {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default, deserialize_with = "string_map")]
    labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "string_map")]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AggregationRule {
    #[serde(default)]
    cluster_role_selectors: Option<Vec<LabelSelector>>,
}

#[derive(Deserialize)]
struct RoleRef {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

#[derive(Deserialize)]
struct RawSubject {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    namespace: Option<String>,
}

fn add_raw(dump: &mut Dump, json: &str, origin: Origin) {
    match serde_json::from_str::<Object>(json) {
        Ok(object) => add_object(dump, object, origin),
        Err(e) => reject(dump, &origin, &without_values(&e)),
    }
}

fn add_value(dump: &mut Dump, value: Value, origin: Origin) {
    match serde_json::from_value::<Object>(value) {
        Ok(object) => add_object(dump, object, origin),
        Err(e) => reject(dump, &origin, &without_values(&e)),
    }
}

/// The parser's complaint without the offending value, which may be a credential
/// (`invalid type: string "-----BEGIN …", expected a sequence` → `a value of the wrong type
/// (expected a sequence)`).
fn without_values(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.find("expected") {
        Some(at) if message[..at].contains('"') || message[..at].contains('`') => {
            let expected = message[at..].split(" at line ").next().unwrap_or_default();
            format!("a value of the wrong type or form ({expected})")
        }
        Some(_) | None if message.contains('"') || message.contains('`') => {
            "a value of the wrong type or form".to_owned()
        }
        _ => message,
    }
}

fn reject(dump: &mut Dump, origin: &Origin, message: &str) {
    dump.errors.push(DumpError {
        location: origin.to_string(),
        message: format!("not a readable Kubernetes object: {message}"),
    });
}

fn add_object(dump: &mut Dump, mut object: Object, origin: Origin) {
    // A List inside a List: its items are objects of their own.
    if let Some(items) = object.items.take() {
        for item in items {
            add_value(dump, item, origin.clone());
        }
        return;
    }
    let errors = dump.errors.len();
    add_kind(dump, object, origin);
    // Counted when used whole; a rejected object is counted with the errors.
    if dump.errors.len() == errors {
        dump.objects += 1;
    }
}

fn add_kind(dump: &mut Dump, object: Object, origin: Origin) {
    let Some(kind) = object.kind.as_deref() else {
        reject(dump, &origin, "no `kind`");
        return;
    };
    let meta = object.metadata;
    let name = meta.name.clone().unwrap_or_default();
    let namespaced = |dump: &mut Dump| -> Option<String> {
        match meta.namespace.clone().filter(|ns| !ns.is_empty()) {
            Some(ns) => Some(ns),
            None => {
                reject(dump, &origin, &format!("{kind} {name} has no namespace"));
                None
            }
        }
    };
    if name.is_empty() && kind != "List" {
        reject(dump, &origin, &format!("{kind} without metadata.name"));
        return;
    }
    match kind {
        "ClusterRole" | "Role" => {
            let cluster = kind == "ClusterRole";
            let namespace = if cluster {
                None
            } else {
                let Some(ns) = namespaced(dump) else { return };
                Some(ns)
            };
            dump.roles.push(Role {
                cluster,
                namespace,
                name,
                rules: object.rules.unwrap_or_default(),
                labels: meta.labels,
                aggregation: object
                    .aggregation_rule
                    .and_then(|a| a.cluster_role_selectors)
                    .unwrap_or_default(),
                origin,
            });
        }
        "ClusterRoleBinding" | "RoleBinding" => {
            let cluster = kind == "ClusterRoleBinding";
            let namespace = if cluster {
                None
            } else {
                let Some(ns) = namespaced(dump) else { return };
                Some(ns)
            };
            let Some(role_ref) = object.role_ref else {
                reject(dump, &origin, &format!("{kind} {name} has no roleRef"));
                return;
            };
            let role_is_cluster = match role_ref.kind.as_str() {
                "ClusterRole" => true,
                "Role" if !cluster => false,
                other => {
                    reject(
                        dump,
                        &origin,
                        &format!("{kind} {name}: roleRef kind {other:?} is not valid here"),
                    );
                    return;
                }
            };
            let mut subjects = Vec::new();
            for s in object.subjects.unwrap_or_default() {
                let kind_of = match s.kind.as_str() {
                    "User" => SubjectKind::User,
                    "Group" => SubjectKind::Group,
                    "ServiceAccount" => SubjectKind::ServiceAccount,
                    other => {
                        reject(
                            dump,
                            &origin,
                            &format!(
                                "{kind} {name}: subject kind {other:?} is not User, Group or ServiceAccount"
                            ),
                        );
                        continue;
                    }
                };
                let namespace = match kind_of {
                    // The authorizer defaults a service account's namespace to the binding's.
                    SubjectKind::ServiceAccount => s
                        .namespace
                        .filter(|ns| !ns.is_empty())
                        .or_else(|| namespace.clone()),
                    _ => None,
                };
                subjects.push(Subject {
                    kind: kind_of,
                    name: s.name,
                    namespace,
                });
            }
            dump.bindings.push(Binding {
                cluster,
                namespace,
                name,
                role_is_cluster,
                role_name: role_ref.name,
                subjects,
                labels: meta.labels,
                origin,
            });
        }
        "ServiceAccount" => {
            let Some(namespace) = namespaced(dump) else {
                return;
            };
            dump.service_accounts.push(ServiceAccount {
                namespace,
                name,
                automount: object.automount_service_account_token,
                origin,
            });
        }
        "Node" => dump.nodes.push(name),
        "Secret" => {
            let Some(namespace) = namespaced(dump) else {
                return;
            };
            let service_account = meta
                .annotations
                .get("kubernetes.io/service-account.name")
                .cloned();
            dump.secrets.push(SecretMeta {
                namespace,
                name,
                secret_type: object.secret_type.unwrap_or_else(|| "Opaque".to_owned()),
                service_account,
                origin,
            });
        }
        "Pod"
        | "Deployment"
        | "ReplicaSet"
        | "StatefulSet"
        | "DaemonSet"
        | "Job"
        | "CronJob"
        | "ReplicationController" => {
            let Some(namespace) = namespaced(dump) else {
                return;
            };
            let spec = object.spec.unwrap_or(Value::Null);
            let pod_spec = match kind {
                "Pod" => Some(&spec),
                "CronJob" => spec.pointer("/jobTemplate/spec/template/spec"),
                _ => spec.pointer("/template/spec"),
            };
            if let Some(pod_spec) = pod_spec {
                dump.workloads
                    .push(workload(kind, namespace, name, pod_spec, origin));
            }
        }
        _ => {}
    }
}

fn workload(kind: &str, namespace: String, name: String, spec: &Value, origin: Origin) -> Workload {
    let text = |k: &str| {
        spec.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let service_account = text("serviceAccountName")
        .or_else(|| text("serviceAccount"))
        .unwrap_or("default")
        .to_owned();
    let automount = spec
        .get("automountServiceAccountToken")
        .and_then(Value::as_bool);
    let volumes = spec.get("volumes").and_then(Value::as_array);
    let mut host_mounts = Vec::new();
    let mut projected_token = false;
    for volume in volumes.into_iter().flatten() {
        let volume_name = volume.get("name").and_then(Value::as_str).unwrap_or("?");
        if let Some(path) = volume.pointer("/hostPath/path").and_then(Value::as_str) {
            host_mounts.push(HostMount {
                volume: volume_name.to_owned(),
                path: path.to_owned(),
            });
        }
        let sources = volume
            .pointer("/projected/sources")
            .and_then(Value::as_array);
        // A projected token volume other than the automounted `kube-api-access-*` one.
        if !volume_name.starts_with("kube-api-access-")
            && sources
                .into_iter()
                .flatten()
                .any(|s| s.get("serviceAccountToken").is_some())
        {
            projected_token = true;
        }
    }
    let mut env = Vec::new();
    let mut privileged = false;
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for container in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let container_name = container.get("name").and_then(Value::as_str).unwrap_or("?");
            privileged |= container
                .pointer("/securityContext/privileged")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            for var in container
                .get("env")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let (Some(name), Some(value)) = (
                    var.get("name").and_then(Value::as_str),
                    var.get("value").and_then(Value::as_str),
                ) {
                    env.push(EnvLiteral {
                        container: container_name.to_owned(),
                        name: name.to_owned(),
                        value: value.to_owned(),
                    });
                }
            }
        }
    }
    Workload {
        kind: kind.to_owned(),
        namespace,
        name,
        service_account,
        node: text("nodeName").map(str::to_owned),
        mounts_token: false,
        automount,
        projected_token,
        host_mounts,
        privileged,
        env,
        origin,
    }
}

/// A list of strings; `null` is empty, a lone string is one item.
fn strings<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Strings {
        Many(Vec<String>),
        One(String),
    }
    Ok(match Option::<Strings>::deserialize(d)? {
        None => Vec::new(),
        Some(Strings::Many(v)) => v,
        Some(Strings::One(s)) => vec![s],
    })
}

/// Labels and annotations; YAML may leave `"true"` unquoted, so scalars are taken as text.
fn string_map<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map = Option::<BTreeMap<String, Value>>::deserialize(d)?.unwrap_or_default();
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str) -> Dump {
        let mut dump = Dump::default();
        load_text(&mut dump, &Arc::from("t.yaml"), text);
        dump
    }

    #[test]
    fn json_list_items_carry_their_lines() {
        let text = "{\n  \"kind\": \"List\",\n  \"items\": [\n    {\n      \"kind\": \"ClusterRole\",\n      \"metadata\": {\"name\": \"a\"},\n      \"rules\": [{\"verbs\": [\"get\"], \"apiGroups\": [\"\"], \"resources\": [\"secrets\"]}]\n    },\n    {\n      \"kind\": \"Secret\",\n      \"metadata\": {\"name\": \"s\", \"namespace\": \"n\"},\n      \"data\": {\"token\": \"c2VjcmV0\"}\n    }\n  ]\n}\n";
        let dump = load_str(text);
        assert!(dump.errors.is_empty(), "{:?}", dump.errors);
        assert_eq!(dump.roles[0].origin.line, 4);
        assert_eq!(dump.secrets[0].origin.line, 9);
        assert_eq!(dump.secrets[0].secret_type, "Opaque");
    }

    #[test]
    fn yaml_documents_and_bad_objects() {
        let text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: b, namespace: ns}\nroleRef: {kind: Role, name: r}\nsubjects:\n- {kind: ServiceAccount, name: sa}\n---\nkind: Role\nmetadata: {name: x}\nrules: []\n---\nkind: ClusterRole\nmetadata: {name: y}\nrules: not-a-list\n";
        let dump = load_str(text);
        assert_eq!(dump.bindings.len(), 1);
        assert_eq!(
            dump.bindings[0].subjects[0],
            Subject::service_account("ns", "sa")
        );
        let errors: Vec<String> = dump.errors.iter().map(ToString::to_string).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("t.yaml:8: "), "{errors:?}");
        assert!(errors[1].starts_with("t.yaml:12: "), "{errors:?}");
    }
}
