//! Who could read secrets, mint tokens or exec: per binding subject, the dangerous capabilities
//! its roles grant, where, and through which bindings; service accounts joined to the pods that
//! mount their tokens and the nodes that run them; platform identities marked with the reason.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::dump::{Binding, Dump, PolicyRule, Role, Subject, SubjectKind};
use super::rbac::{Match, Rbac, Request, Scope, rule_match};
use crate::findings::Severity;

/// One inventory finding (the findings contract, DESIGN.md).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InventoryFinding {
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    /// `User:NAME`, `Group:NAME`, `ServiceAccount:NS:NAME` (or the role or node a finding is
    /// about).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    /// What is granted, as `resource/subresource verb` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Where: a namespace, or none for cluster-wide.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Bindings and roles that grant it, with `file:line`.
    pub evidence: Vec<String>,
    /// Granted only for these object names (`resourceNames`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub names: Option<Vec<String>>,
    /// Pods that mount this service account's token, and the nodes that run them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pods: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<String>,
    /// A platform identity (control plane, default RBAC, add-on), reported in its own section.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_reason: Option<String>,
    /// The subject itself, for joining (not part of the output).
    #[serde(skip)]
    pub subject_key: Option<Subject>,
    /// The bindings that grant it (indices into the dump's bindings).
    #[serde(skip)]
    pub binding_indices: Vec<usize>,
    /// The severity before it was raised for a broad subject: what the finding weighs for one
    /// identity holding it (a service account through its groups).
    #[serde(skip, default = "info")]
    pub weight: Severity,
}

fn info() -> Severity {
    Severity::Info
}

/// A probe: verbs on a resource, and whether only ClusterRoleBindings can grant it.
struct Probe {
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    sub: Option<&'static str>,
    cluster_only: bool,
}

const fn probe(
    verbs: &'static [&'static str],
    group: &'static str,
    resource: &'static str,
    sub: Option<&'static str>,
    cluster_only: bool,
) -> Probe {
    Probe {
        verbs,
        group,
        resource,
        sub,
        cluster_only,
    }
}

const READ: &[&str] = &["get", "list", "watch"];
const CREATE: &[&str] = &["create"];
const WRITE: &[&str] = &["create", "update", "patch"];
const RBAC: &str = "rbac.authorization.k8s.io";
const ADMISSION: &str = "admissionregistration.k8s.io";

/// A dangerous capability: every part must be granted (by any of the subject's bindings).
struct Capability {
    kind: &'static str,
    parts: &'static [&'static [Probe]],
}

/// Writing roles or creating role bindings: what `escalate` and `bind` need to be used. Not
/// reported on its own.
const RBAC_WRITE: &str = "rbac_write";

const CAPABILITIES: &[Capability] = &[
    Capability {
        kind: RBAC_WRITE,
        parts: &[&[
            probe(WRITE, RBAC, "roles", None, false),
            probe(WRITE, RBAC, "clusterroles", None, true),
            probe(CREATE, RBAC, "rolebindings", None, false),
            probe(CREATE, RBAC, "clusterrolebindings", None, true),
        ]],
    },
    Capability {
        kind: "can_read_secrets",
        parts: &[&[probe(READ, "", "secrets", None, false)]],
    },
    Capability {
        kind: "can_mint_tokens",
        parts: &[&[
            probe(CREATE, "", "serviceaccounts", Some("token"), false),
            probe(CREATE, "", "secrets", None, false),
        ]],
    },
    Capability {
        kind: "exec_equivalent",
        parts: &[&[
            probe(&["create", "get"], "", "pods", Some("exec"), false),
            probe(&["create", "get"], "", "pods", Some("attach"), false),
            probe(
                &["update", "patch"],
                "",
                "pods",
                Some("ephemeralcontainers"),
                false,
            ),
            probe(&["get", "create"], "", "nodes", Some("proxy"), true),
        ]],
    },
    Capability {
        kind: "can_create_pods",
        parts: &[&[
            probe(CREATE, "", "pods", None, false),
            probe(CREATE, "apps", "deployments", None, false),
            probe(CREATE, "apps", "replicasets", None, false),
            probe(CREATE, "apps", "statefulsets", None, false),
            probe(CREATE, "apps", "daemonsets", None, false),
            probe(CREATE, "batch", "jobs", None, false),
            probe(CREATE, "batch", "cronjobs", None, false),
            probe(CREATE, "", "replicationcontrollers", None, false),
        ]],
    },
    Capability {
        kind: "can_impersonate",
        parts: &[&[
            probe(&["impersonate"], "", "users", None, true),
            probe(&["impersonate"], "", "groups", None, true),
            probe(&["impersonate"], "", "serviceaccounts", None, false),
            probe(
                &["impersonate"],
                "authentication.k8s.io",
                "uids",
                None,
                true,
            ),
            probe(
                &["impersonate"],
                "authentication.k8s.io",
                "userextras",
                Some("scopes"),
                true,
            ),
        ]],
    },
    Capability {
        kind: "can_escalate",
        parts: &[&[
            probe(&["escalate", "bind"], RBAC, "roles", None, false),
            probe(&["bind"], RBAC, "clusterroles", None, false),
            probe(&["escalate"], RBAC, "clusterroles", None, true),
        ]],
    },
    Capability {
        kind: "can_approve_csr",
        parts: &[
            &[probe(
                &["update", "patch"],
                "certificates.k8s.io",
                "certificatesigningrequests",
                Some("approval"),
                true,
            )],
            &[probe(
                &["approve"],
                "certificates.k8s.io",
                "signers",
                None,
                true,
            )],
        ],
    },
    Capability {
        kind: "webhook_control",
        parts: &[&[
            probe(
                WRITE,
                ADMISSION,
                "mutatingwebhookconfigurations",
                None,
                true,
            ),
            probe(
                WRITE,
                ADMISSION,
                "validatingwebhookconfigurations",
                None,
                true,
            ),
        ]],
    },
    Capability {
        kind: "aggregation_control",
        parts: &[&[probe(WRITE, RBAC, "clusterroles", None, true)]],
    },
];

/// Kinds whose reach is the service accounts of their scope (a pod can mount any of them, a
/// token can be minted for any, any can be impersonated).
const REACHES_SERVICE_ACCOUNTS: &[&str] =
    &["can_create_pods", "can_mint_tokens", "can_impersonate"];

/// What one role grants for one capability part in one kind of scope.
#[derive(Debug, Clone, Default)]
struct PartHit {
    /// `resource/sub verb` entries granted in full.
    full: BTreeSet<String>,
    /// Entries granted only for names, and those names.
    named: BTreeSet<String>,
    names: BTreeSet<String>,
}

impl PartHit {
    fn is_empty(&self) -> bool {
        self.full.is_empty() && self.named.is_empty()
    }

    fn merge(&mut self, other: &PartHit) {
        self.full.extend(other.full.iter().cloned());
        self.named.extend(other.named.iter().cloned());
        self.names.extend(other.names.iter().cloned());
    }
}

/// Capability hits of one role: (capability index, part index) → hit.
type RoleHits = Vec<((usize, usize), PartHit)>;

fn role_hits(role: &Role, cluster: bool) -> RoleHits {
    let mut hits = Vec::new();
    for (c, capability) in CAPABILITIES.iter().enumerate() {
        for (p, part) in capability.parts.iter().enumerate() {
            let mut hit = PartHit::default();
            for probe in part.iter().filter(|probe| cluster || !probe.cluster_only) {
                for verb in probe.verbs {
                    let mut request = Request::resource(verb, probe.group, probe.resource);
                    if let Some(sub) = probe.sub {
                        request = request.with_subresource(sub);
                    }
                    let mut full = false;
                    let mut names = BTreeSet::new();
                    for rule in &role.rules {
                        match rule_match(rule, &request) {
                            Match::Yes => full = true,
                            Match::Names(n) => names.extend(n),
                            Match::No => {}
                        }
                    }
                    if full {
                        hit.full.insert(request.describe());
                    } else if !names.is_empty() {
                        hit.named.insert(request.describe());
                        hit.names.extend(names);
                    }
                }
            }
            if !hit.is_empty() {
                hits.push(((c, p), hit));
            }
        }
    }
    hits
}

fn is_full_control(rule: &PolicyRule) -> bool {
    let star = |v: &[String]| v.iter().any(|s| s == "*");
    star(&rule.verbs) && star(&rule.api_groups) && star(&rule.resources)
}

/// Bindings kubeadm creates (with their namespace, for the namespaced ones).
const KUBEADM_BINDINGS: &[(Option<&str>, &str)] = &[
    (None, "kubeadm:cluster-admins"),
    (None, "kubeadm:get-nodes"),
    (None, "kubeadm:kubelet-bootstrap"),
    (None, "kubeadm:node-autoapprove-bootstrap"),
    (None, "kubeadm:node-autoapprove-certificate-rotation"),
    (None, "kubeadm:node-proxier"),
    (None, "system:coredns"),
    (Some("kube-system"), "kubeadm:nodes-kubeadm-config"),
    (Some("kube-system"), "kubeadm:kubelet-config"),
    (Some("kube-system"), "kube-proxy"),
    (Some("kube-public"), "kubeadm:bootstrap-signer-clusterinfo"),
];

/// Roles every identity is meant to hold: discovery and public information.
const PUBLIC_ROLES: &[&str] = &[
    "system:basic-user",
    "system:discovery",
    "system:public-info-viewer",
    "system:service-account-issuer-discovery",
    "kubeadm:bootstrap-signer-clusterinfo",
];

/// Which default a binding is: Kubernetes' bootstrap policy (a `system:` name with the
/// `rbac-defaults` label) or kubeadm's (one of the names it creates).
fn default_binding(binding: &Binding) -> Option<&'static str> {
    let labelled = binding
        .labels
        .get("kubernetes.io/bootstrapping")
        .is_some_and(|v| v == "rbac-defaults");
    // The bootstrap policy's bindings: `system:*`, and cluster-admin's own.
    if labelled && (binding.name.starts_with("system:") || binding.name == "cluster-admin") {
        return Some("Kubernetes default RBAC (kubernetes.io/bootstrapping=rbac-defaults)");
    }
    let namespace = binding.namespace.as_deref().filter(|_| !binding.cluster);
    KUBEADM_BINDINGS
        .iter()
        .any(|(ns, name)| *ns == namespace && *name == binding.name)
        .then_some("kubeadm default RBAC")
}

/// Subjects that name a component rather than a person: `system:` and `kubeadm:` names, and
/// kube-system's service accounts.
fn system_identity(subject: &Subject) -> bool {
    match subject.kind {
        SubjectKind::ServiceAccount => subject.namespace.as_deref() == Some("kube-system"),
        _ => subject.name.starts_with("system:") || subject.name.starts_with("kubeadm:"),
    }
}

/// Why a subject's grants (through `bindings`) belong to the platform, if they do: every
/// binding is a default one (Kubernetes' or kubeadm's) and the subject is a component, or a
/// group of everyone holding only discovery roles. A user or team group bound by a binding that
/// merely looks default (a `system:controller:` name, the label) is not platform.
pub fn platform_reason(subject: &Subject, bindings: &[&Binding]) -> Option<String> {
    if bindings.is_empty() {
        return None;
    }
    let reasons: Vec<&str> = bindings
        .iter()
        .map(|b| default_binding(b))
        .collect::<Option<Vec<_>>>()?;
    if broad(subject).is_some() {
        if !bindings
            .iter()
            .all(|b| PUBLIC_ROLES.contains(&b.role_name.as_str()))
        {
            return None;
        }
    } else if !system_identity(subject) {
        return None;
    }
    let what = match (subject.kind, subject.name.as_str()) {
        (SubjectKind::Group, "system:masters") => "bootstrap superuser group (client certificates)",
        (SubjectKind::Group, "kubeadm:cluster-admins") => "kubeadm's admin group (admin.conf)",
        (SubjectKind::Group, "system:nodes") => "kubelet identities",
        (SubjectKind::Group, name) if name.starts_with("system:bootstrappers") => {
            "node bootstrap tokens"
        }
        (SubjectKind::User, name) if name.starts_with("system:node:") => "kubelet identity",
        (SubjectKind::User, _) => "control-plane component",
        (SubjectKind::ServiceAccount, "kube-proxy" | "coredns") => "kubeadm add-on",
        (SubjectKind::ServiceAccount, _) => "Kubernetes controller",
        _ => "default grant",
    };
    let mut sources: Vec<&str> = reasons;
    sources.sort_unstable();
    sources.dedup();
    Some(format!("{what}; {}", sources.join(" and ")))
}

/// Subjects that stand for many identities at once.
fn broad(subject: &Subject) -> Option<&'static str> {
    match (subject.kind, subject.name.as_str()) {
        (SubjectKind::Group, "system:authenticated") => Some("every authenticated user"),
        (SubjectKind::Group, "system:unauthenticated") => Some("every anonymous request"),
        (SubjectKind::User, "system:anonymous") => Some("every anonymous request"),
        (SubjectKind::Group, "system:serviceaccounts") => Some("every service account"),
        (SubjectKind::Group, name) if name.starts_with("system:serviceaccounts:") => {
            Some("every service account of the namespace")
        }
        _ => None,
    }
}

fn is_anonymous(subject: &Subject) -> bool {
    matches!(
        (subject.kind, subject.name.as_str()),
        (SubjectKind::User, "system:anonymous") | (SubjectKind::Group, "system:unauthenticated")
    )
}

fn base_severity(kind: &str, scope: &Scope, names_only: bool) -> Severity {
    let ns = scope.namespace();
    let privileged_ns = ns.is_some_and(|ns| ns == "kube-system");
    let wide = ns.is_none() || privileged_ns;
    use Severity::*;
    match kind {
        "full_control" => {
            if wide {
                Critical
            } else {
                High
            }
        }
        "can_read_secrets" | "can_mint_tokens" | "exec_equivalent" | "can_impersonate"
        | "can_escalate" => match (names_only, wide) {
            (true, _) => Medium,
            (false, true) => Critical,
            (false, false) => High,
        },
        "can_create_pods" => match (privileged_ns, ns.is_none()) {
            (true, _) => Critical,
            (_, true) => High,
            _ => Medium,
        },
        "can_approve_csr" => Critical,
        "webhook_control" | "aggregation_control" => High,
        _ => Medium,
    }
}

/// The report of `inventory rbac`.
#[derive(Debug, Clone, Serialize)]
pub struct RbacReport {
    pub findings: Vec<InventoryFinding>,
    pub service_accounts: Vec<ServiceAccountReach>,
    /// Every subject recognised as a platform identity, with the reason.
    pub platform_identities: Vec<PlatformIdentity>,
    pub summary: RbacSummary,
}

/// A service account with dangerous permissions, where its token is mounted, and the Secrets
/// that hold legacy tokens for it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccountReach {
    pub subject: String,
    /// The worst of what it can do; none when nothing dangerous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    pub kinds: Vec<String>,
    pub pods: Vec<String>,
    pub nodes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub token_secrets: Vec<String>,
    /// A platform identity (every finding about it is a platform finding).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub platform: bool,
}

/// A subject that belongs to the platform (control plane, default RBAC, add-ons).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlatformIdentity {
    pub subject: String,
    pub reason: String,
    pub bindings: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RbacSummary {
    pub files: usize,
    pub objects: u64,
    pub errors: usize,
    pub roles: usize,
    pub bindings: usize,
    pub subjects: usize,
    pub findings: usize,
    pub platform_findings: usize,
    pub by_kind: BTreeMap<String, usize>,
    pub by_severity: BTreeMap<String, usize>,
}

/// Capability hits accumulated for one subject in one scope.
#[derive(Default)]
struct Held {
    /// (capability, part) → hit and the bindings giving it.
    parts: HashMap<(usize, usize), (PartHit, BTreeSet<usize>)>,
    full_control: BTreeSet<usize>,
}

/// Where each service account's token is mounted: (ns, name) → pods, nodes.
pub struct Mounts {
    pub pods: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<String>)>,
}

impl Mounts {
    pub fn new(dump: &Dump) -> Mounts {
        let automount: HashMap<(&str, &str), Option<bool>> = dump
            .service_accounts
            .iter()
            .map(|sa| ((sa.namespace.as_str(), sa.name.as_str()), sa.automount))
            .collect();
        let mut pods: BTreeMap<(String, String), (BTreeSet<String>, BTreeSet<String>)> =
            BTreeMap::new();
        for pod in dump.pods() {
            let sa_automount = automount
                .get(&(pod.namespace.as_str(), pod.service_account.as_str()))
                .copied()
                .flatten();
            // The pod's own setting wins over the service account's; the default is to mount.
            let mounted = pod.automount.or(sa_automount).unwrap_or(true) || pod.projected_token;
            if !mounted {
                continue;
            }
            let entry = pods
                .entry((pod.namespace.clone(), pod.service_account.clone()))
                .or_default();
            entry.0.insert(format!("{}/{}", pod.namespace, pod.name));
            if let Some(node) = &pod.node {
                entry.1.insert(node.clone());
            }
        }
        Mounts { pods }
    }

    fn of(&self, subject: &Subject) -> (Vec<String>, Vec<String>) {
        match (subject.kind, &subject.namespace) {
            (SubjectKind::ServiceAccount, Some(ns)) => self
                .pods
                .get(&(ns.clone(), subject.name.clone()))
                .map(|(p, n)| (p.iter().cloned().collect(), n.iter().cloned().collect()))
                .unwrap_or_default(),
            _ => Default::default(),
        }
    }
}

fn evidence_of(rbac: &Rbac<'_>, bindings: &BTreeSet<usize>) -> Vec<String> {
    bindings
        .iter()
        .map(|&i| {
            let b = &rbac.bindings[i];
            format!("{} → {} ({})", b.display(), b.role_display(), b.origin)
        })
        .collect()
}

/// A service account: (namespace, name).
type ServiceAccountKey = (String, String);
/// The worst severity of what a subject can do, and the kinds.
type Powers = (Severity, BTreeSet<String>);

/// Resolves every binding and reports what each subject could do.
pub fn assess(dump: &Dump) -> RbacReport {
    let rbac = Rbac::new(dump);
    let mounts = Mounts::new(dump);
    let mut cache: HashMap<(usize, bool), RoleHits> = HashMap::new();

    // subject → scope → what it holds.
    let mut held: BTreeMap<Subject, BTreeMap<Scope, Held>> = BTreeMap::new();
    let mut findings = Vec::new();
    let mut bindings_of: HashMap<Subject, Vec<usize>> = HashMap::new();

    for (bi, binding) in dump.bindings.iter().enumerate() {
        for subject in &binding.subjects {
            bindings_of.entry(subject.clone()).or_default().push(bi);
        }
        let Some(ri) = rbac.role_index_of(binding) else {
            dangling(bi, binding, &mut findings);
            continue;
        };
        let role = &dump.roles[ri];
        let scope = Rbac::scope_of(binding);
        let cluster = scope == Scope::Cluster;
        let hits = cache
            .entry((ri, cluster))
            .or_insert_with(|| role_hits(role, cluster));
        let full = role.rules.iter().any(is_full_control);
        for subject in &binding.subjects {
            let entry = held
                .entry(subject.clone())
                .or_default()
                .entry(scope.clone())
                .or_default();
            if full {
                entry.full_control.insert(bi);
            }
            for (key, hit) in hits.iter() {
                let slot = entry.parts.entry(*key).or_default();
                slot.0.merge(hit);
                slot.1.insert(bi);
            }
        }
    }

    let mut capability_findings = Vec::new();
    for (subject, scopes) in &held {
        capability_findings.extend(subject_findings(&rbac, subject, scopes));
    }

    // What each service account can do — through its own bindings, its user name and its
    // implicit groups — to weigh the kinds that reach service accounts.
    let accounts = all_accounts(dump, &mounts);
    // Subjects holding part of a capability that needs several (a CSR approval's halves).
    let partial: HashMap<&Subject, BTreeSet<PartKey>> = held
        .iter()
        .filter_map(|(subject, scopes)| {
            let parts = partial_parts(scopes);
            (!parts.is_empty()).then_some((subject, parts))
        })
        .collect();
    let merged_extras: BTreeMap<ServiceAccountKey, Vec<InventoryFinding>> = accounts
        .iter()
        .filter_map(|(ns, name)| {
            let holders = holders(ns, name);
            // Only when the holders' halves together complete a capability in some scope.
            let halves: BTreeSet<&PartKey> = holders
                .iter()
                .filter_map(|s| partial.get(s))
                .flatten()
                .collect();
            if !completes(&halves) {
                return None;
            }
            let extras = merged_only_findings(&rbac, &held, &holders);
            (!extras.is_empty()).then(|| ((ns.clone(), name.clone()), extras))
        })
        .collect();
    let sa_direct = account_powers(&accounts, &capability_findings, &merged_extras, false);
    // What a pod creation, token mint or impersonation in a scope reaches: the worst account
    // there and a few of them by name, worked out once per scope.
    let mut reach_of: HashMap<Option<String>, Option<(Severity, String)>> = HashMap::new();
    for f in &mut capability_findings {
        if !REACHES_SERVICE_ACCOUNTS.contains(&f.kind.as_str()) {
            continue;
        }
        let reached = reach_of
            .entry(f.namespace.clone())
            .or_insert_with(|| reached_accounts(&sa_direct, f.namespace.as_deref()));
        if let Some((worst, listed)) = reached {
            f.severity = f.severity.max(*worst);
            f.weight = f.severity;
            f.message.push_str(listed);
        }
    }
    let sa_powers = account_powers(&accounts, &capability_findings, &merged_extras, true);

    // Broad subjects: every identity at once.
    for f in &mut capability_findings {
        if let Some(who) = f.subject_key.as_ref().and_then(broad) {
            f.severity = Severity::Critical;
            f.message = format!("{who}: {}", f.message);
        }
    }
    findings.extend(capability_findings);

    anonymous(&rbac, &mut findings);
    ineffective_rules(dump, &rbac, &mut findings);
    aggregates_into_builtin(dump, &mut findings);

    // Platform marking (by the bindings that grant each finding) and mounts.
    for f in &mut findings {
        let Some(subject) = f.subject_key.clone() else {
            continue;
        };
        let granting: Vec<&Binding> = f
            .binding_indices
            .iter()
            .map(|&i| &dump.bindings[i])
            .collect();
        if let Some(reason) = platform_reason(&subject, &granting) {
            f.platform = true;
            f.platform_reason = Some(reason);
            // A platform grant to a broad group is what every cluster has: not critical.
            if broad(&subject).is_some() {
                f.severity = f.weight;
            }
        }
        let (pods, nodes) = mounts.of(&subject);
        f.pods = pods;
        f.nodes = nodes;
    }

    let service_accounts = reach(dump, &findings, &accounts, &sa_powers, &mounts);
    node_blast_radius(&service_accounts, &mut findings);

    findings.sort_by(|a, b| {
        (
            a.platform,
            std::cmp::Reverse(a.severity),
            &a.kind,
            &a.subject,
            &a.namespace,
        )
            .cmp(&(
                b.platform,
                std::cmp::Reverse(b.severity),
                &b.kind,
                &b.subject,
                &b.namespace,
            ))
    });
    let mut summary = RbacSummary {
        files: dump.files.len(),
        objects: dump.objects,
        errors: dump.errors.len(),
        roles: dump.roles.len(),
        bindings: dump.bindings.len(),
        subjects: bindings_of.len(),
        findings: findings.iter().filter(|f| !f.platform).count(),
        platform_findings: findings.iter().filter(|f| f.platform).count(),
        ..RbacSummary::default()
    };
    for f in findings.iter().filter(|f| !f.platform) {
        *summary.by_kind.entry(f.kind.clone()).or_default() += 1;
        *summary
            .by_severity
            .entry(f.severity.as_str().to_owned())
            .or_default() += 1;
    }
    let mut platform_identities: Vec<PlatformIdentity> = bindings_of
        .iter()
        .filter_map(|(subject, indices)| {
            let bindings: Vec<&Binding> = indices.iter().map(|&i| &dump.bindings[i]).collect();
            platform_reason(subject, &bindings).map(|reason| PlatformIdentity {
                subject: subject.to_string(),
                reason,
                bindings: bindings.iter().map(|b| b.display()).collect(),
            })
        })
        .collect();
    platform_identities.sort_by(|a, b| a.subject.cmp(&b.subject));
    RbacReport {
        findings,
        service_accounts,
        platform_identities,
        summary,
    }
}

/// The capability findings of one subject from what it holds per scope: full control
/// replaces the rest in its scope; a kind held cluster-wide is not repeated per namespace.
fn subject_findings(
    rbac: &Rbac<'_>,
    subject: &Subject,
    scopes: &BTreeMap<Scope, Held>,
) -> Vec<InventoryFinding> {
    let mut out = Vec::new();
    let cluster_full = scopes
        .get(&Scope::Cluster)
        .is_some_and(|h| !h.full_control.is_empty());
    let granted_in: Vec<(&Scope, &Held, Vec<Granted>)> = scopes
        .iter()
        .map(|(scope, h)| (scope, h, granted_capabilities(h)))
        .collect();
    let cluster_kinds: BTreeSet<usize> = granted_in
        .iter()
        .find(|(scope, ..)| **scope == Scope::Cluster)
        .map(|(.., granted)| granted.iter().map(|g| g.0).collect())
        .unwrap_or_default();
    let rbac_write = CAPABILITIES
        .iter()
        .position(|c| c.kind == RBAC_WRITE)
        .unwrap_or(usize::MAX);
    for (scope, h, granted) in granted_in {
        let namespace = scope.namespace().map(str::to_owned);
        if !h.full_control.is_empty() {
            if *scope != Scope::Cluster && cluster_full {
                continue;
            }
            out.push(new_finding(
                rbac,
                subject,
                "full_control",
                base_severity("full_control", scope, false),
                namespace.clone(),
                Some("* * (every verb on every resource)".to_owned()),
                None,
                &h.full_control,
            ));
            continue;
        }
        if cluster_full {
            continue;
        }
        let can_write_rbac =
            cluster_kinds.contains(&rbac_write) || granted.iter().any(|g| g.0 == rbac_write);
        for (c, hit, bindings) in granted {
            let kind = CAPABILITIES[c].kind;
            if kind == RBAC_WRITE || (*scope != Scope::Cluster && cluster_kinds.contains(&c)) {
                continue;
            }
            let names_only = hit.full.is_empty();
            let mut entries: Vec<String> = hit.full.iter().cloned().collect();
            entries.extend(hit.named.iter().map(|e| format!("{e} (named)")));
            let names = (!hit.names.is_empty()).then(|| hit.names.iter().cloned().collect());
            let mut severity = base_severity(kind, scope, names_only);
            let mut caveat = None;
            if kind == "can_escalate" && !can_write_rbac {
                severity = severity.min(Severity::Medium);
                caveat =
                    Some("; using it also needs writing roles or role bindings, which it cannot");
            }
            if kind == "can_impersonate"
                && !entries
                    .iter()
                    .any(|e| e.starts_with("users ") || e.starts_with("serviceaccounts "))
            {
                // Impersonating groups, uids or extras is refused without impersonating a user.
                severity = severity.min(Severity::Low);
                caveat =
                    Some("; only groups, uids or extras, which need a user to impersonate too");
            }
            let mut finding = new_finding(
                rbac,
                subject,
                kind,
                severity,
                namespace.clone(),
                Some(entries.join(", ")),
                if names_only { names } else { None },
                &bindings,
            );
            if let Some(caveat) = caveat {
                finding.message.push_str(caveat);
            }
            out.push(finding);
        }
    }
    out
}

/// A capability granted in a scope: its index, what grants it, the bindings.
type Granted = (usize, PartHit, BTreeSet<usize>);

/// Capabilities whose every part is granted in this scope.
fn granted_capabilities(h: &Held) -> Vec<Granted> {
    let mut out = Vec::new();
    for (c, capability) in CAPABILITIES.iter().enumerate() {
        let mut hit = PartHit::default();
        let mut bindings = BTreeSet::new();
        let all = (0..capability.parts.len()).all(|p| match h.parts.get(&(c, p)) {
            Some((part, b)) => {
                hit.merge(part);
                bindings.extend(b.iter().copied());
                true
            }
            None => false,
        });
        if all {
            out.push((c, hit, bindings));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn new_finding(
    rbac: &Rbac<'_>,
    subject: &Subject,
    kind: &str,
    severity: Severity,
    namespace: Option<String>,
    resource: Option<String>,
    names: Option<Vec<String>>,
    bindings: &BTreeSet<usize>,
) -> InventoryFinding {
    let place = match &namespace {
        Some(ns) => format!("in namespace {ns}"),
        None => "cluster-wide".to_owned(),
    };
    let what = match kind {
        "full_control" => "has full control",
        "can_read_secrets" => "can read Secrets",
        "can_mint_tokens" => "can mint service-account tokens",
        "exec_equivalent" => "can run commands in containers",
        "can_create_pods" => "can create pods (and mount any service account's token)",
        "can_impersonate" => "can impersonate",
        "can_escalate" => "can escalate or bind roles beyond its own permissions",
        "can_approve_csr" => "can approve certificate signing requests",
        "webhook_control" => "can install admission webhooks (which see every request)",
        "aggregation_control" => {
            "can write ClusterRoles (including ones that aggregate into admin, edit or view)"
        }
        other => other,
    };
    let limited = match &names {
        Some(n) => format!(" (only {})", n.join(", ")),
        None => String::new(),
    };
    InventoryFinding {
        kind: kind.to_owned(),
        severity,
        message: format!("{subject} {what} {place}{limited}"),
        subject: Some(subject.to_string()),
        resource,
        namespace,
        evidence: evidence_of(rbac, bindings),
        names,
        pods: Vec::new(),
        nodes: Vec::new(),
        platform: false,
        platform_reason: None,
        subject_key: Some(subject.clone()),
        binding_indices: bindings.iter().copied().collect(),
        weight: severity,
    }
}

fn dangling(index: usize, binding: &Binding, findings: &mut Vec<InventoryFinding>) {
    let subjects: Vec<String> = binding.subjects.iter().map(ToString::to_string).collect();
    findings.push(InventoryFinding {
        kind: "dangling_binding".to_owned(),
        severity: Severity::Low,
        message: format!(
            "{} (for {}) refers to {}, which does not exist: it grants nothing now, and whatever \
             that role holds as soon as someone creates it",
            binding.display(),
            if subjects.is_empty() {
                "no subject".to_owned()
            } else {
                subjects.join(", ")
            },
            binding.role_display()
        ),
        subject: Some(binding_subject(binding)),
        subject_key: None,
        binding_indices: vec![index],
        weight: Severity::Low,
        resource: None,
        namespace: binding.namespace.clone().filter(|_| !binding.cluster),
        evidence: vec![format!("{} ({})", binding.display(), binding.origin)],
        names: None,
        pods: Vec::new(),
        nodes: Vec::new(),
        platform: false,
        platform_reason: None,
    });
}

/// `RoleBinding:NS:NAME` or `ClusterRoleBinding:NAME`, for findings about the binding itself.
fn binding_subject(binding: &Binding) -> String {
    match (&binding.namespace, binding.cluster) {
        (Some(ns), false) => format!("RoleBinding:{ns}:{}", binding.name),
        _ => format!("ClusterRoleBinding:{}", binding.name),
    }
}

/// Grants to `system:anonymous` and `system:unauthenticated`.
fn anonymous(rbac: &Rbac<'_>, findings: &mut Vec<InventoryFinding>) {
    for (index, binding) in rbac.bindings.iter().enumerate() {
        let Some(role) = rbac.role_of(binding) else {
            continue;
        };
        for subject in binding.subjects.iter().filter(|s| is_anonymous(s)) {
            let capable = findings.iter().any(|f| {
                f.subject_key.as_ref() == Some(subject) && f.binding_indices.contains(&index)
            });
            let reads_resources = role.rules.iter().any(|r| !r.resources.is_empty());
            let severity = if capable {
                Severity::Critical
            } else if reads_resources {
                Severity::High
            } else {
                Severity::Low
            };
            let granted: Vec<String> = role.rules.iter().map(describe_rule).collect();
            findings.push(InventoryFinding {
                kind: "anonymous_access".to_owned(),
                severity,
                message: format!(
                    "requests without credentials ({subject}) are granted {} through {}",
                    role.display(),
                    binding.display()
                ),
                subject: Some(subject.to_string()),
                subject_key: Some(subject.clone()),
                binding_indices: vec![index],
                weight: severity,
                resource: Some(granted.join("; ")),
                namespace: binding.namespace.clone().filter(|_| !binding.cluster),
                evidence: vec![format!(
                    "{} → {} ({})",
                    binding.display(),
                    binding.role_display(),
                    binding.origin
                )],
                names: None,
                pods: Vec::new(),
                nodes: Vec::new(),
                platform: false,
                platform_reason: None,
            });
        }
    }
}

fn describe_rule(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    if !rule.non_resource_urls.is_empty() {
        return format!("{verbs} {}", rule.non_resource_urls.join(","));
    }
    let resources = rule.resources.join(",");
    if rule.resource_names.is_empty() {
        format!("{verbs} {resources}")
    } else {
        format!("{verbs} {resources} [{}]", rule.resource_names.join(","))
    }
}

/// Rules that look like they grant something and do not: `pods/*` (not a wildcard in RBAC),
/// verbs or resources in capitals (matched exactly).
fn ineffective_rules(dump: &Dump, rbac: &Rbac<'_>, findings: &mut Vec<InventoryFinding>) {
    for (ri, role) in dump.roles.iter().enumerate() {
        let mut problems = Vec::new();
        for rule in &role.rules {
            for resource in &rule.resources {
                if let Some((base, "*")) = resource.split_once('/')
                    && base != "*"
                {
                    problems.push(format!(
                        "`{resource}` matches no subresource (RBAC wildcards are `*` and `*/sub` only)"
                    ));
                }
                if resource.chars().any(|c| c.is_ascii_uppercase()) {
                    problems.push(format!(
                        "resource `{resource}` is matched exactly, in lower case"
                    ));
                }
            }
            for verb in &rule.verbs {
                if verb.chars().any(|c| c.is_ascii_uppercase()) {
                    problems.push(format!("verb `{verb}` is matched exactly, in lower case"));
                }
            }
        }
        if problems.is_empty() {
            continue;
        }
        let bound: Vec<&Binding> = rbac
            .bindings
            .iter()
            .filter(|b| rbac.role_index_of(b) == Some(ri))
            .collect();
        let subjects: BTreeSet<String> = bound
            .iter()
            .flat_map(|b| b.subjects.iter().map(ToString::to_string))
            .collect();
        let held_by = if subjects.is_empty() {
            "bound to nobody".to_owned()
        } else {
            format!(
                "held by {}",
                subjects.into_iter().collect::<Vec<_>>().join(", ")
            )
        };
        findings.push(InventoryFinding {
            kind: "ineffective_rule".to_owned(),
            severity: Severity::Info,
            message: format!("{} ({held_by}): {}", role.display(), problems.join("; ")),
            subject: Some(role_subject(role)),
            subject_key: None,
            resource: None,
            namespace: role.namespace.clone(),
            evidence: vec![format!("{} ({})", role.display(), role.origin)],
            names: None,
            pods: Vec::new(),
            nodes: Vec::new(),
            platform: false,
            platform_reason: None,
            binding_indices: Vec::new(),
            weight: Severity::Info,
        });
    }
}

fn role_subject(role: &Role) -> String {
    match (&role.namespace, role.cluster) {
        (Some(ns), false) => format!("Role:{ns}:{}", role.name),
        _ => format!("ClusterRole:{}", role.name),
    }
}

/// ClusterRoles whose rules flow into admin, edit or view and hand out secrets or exec.
fn aggregates_into_builtin(dump: &Dump, findings: &mut Vec<InventoryFinding>) {
    const TARGETS: &[(&str, &str)] = &[
        ("rbac.authorization.k8s.io/aggregate-to-view", "view"),
        ("rbac.authorization.k8s.io/aggregate-to-edit", "edit"),
        ("rbac.authorization.k8s.io/aggregate-to-admin", "admin"),
    ];
    for role in dump.roles.iter().filter(|r| r.cluster) {
        let into: Vec<&str> = TARGETS
            .iter()
            .filter(|(label, _)| role.labels.get(*label).is_some_and(|v| v == "true"))
            .map(|(_, target)| *target)
            .collect();
        if into.is_empty() {
            continue;
        }
        let hits = role_hits(role, true);
        let dangerous: Vec<&str> = hits
            .iter()
            .map(|((c, _), _)| CAPABILITIES[*c].kind)
            .filter(|k| matches!(*k, "can_read_secrets" | "exec_equivalent"))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if dangerous.is_empty() {
            continue;
        }
        let default = role
            .labels
            .get("kubernetes.io/bootstrapping")
            .is_some_and(|v| v == "rbac-defaults");
        // admin and edit hold secrets and exec by design; view never does.
        if default && !into.contains(&"view") {
            continue;
        }
        let aggregate_severity = if into.contains(&"view") {
            Severity::High
        } else {
            Severity::Medium
        };
        findings.push(InventoryFinding {
            kind: "aggregates_into_builtin".to_owned(),
            severity: aggregate_severity,
            message: format!(
                "{} aggregates into {} and grants {}: everyone bound to {} gets it",
                role.display(),
                into.join(", "),
                dangerous.join(", "),
                into.join(" or ")
            ),
            subject: Some(role_subject(role)),
            resource: Some(
                role.rules
                    .iter()
                    .map(describe_rule)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            namespace: None,
            evidence: vec![format!("{} ({})", role.display(), role.origin)],
            names: None,
            pods: Vec::new(),
            nodes: Vec::new(),
            platform: false,
            platform_reason: None,
            subject_key: None,
            binding_indices: Vec::new(),
            weight: aggregate_severity,
        });
    }
}

/// Service accounts with findings of their own, their pods, nodes and legacy token Secrets.
fn reach(
    dump: &Dump,
    findings: &[InventoryFinding],
    accounts: &BTreeSet<ServiceAccountKey>,
    powers: &BTreeMap<ServiceAccountKey, Powers>,
    mounts: &Mounts,
) -> Vec<ServiceAccountReach> {
    // Platform: every finding about the account itself is a platform one.
    let mut platform: HashMap<String, bool> = HashMap::new();
    for f in findings {
        if let Some(subject) = f.subject.as_deref()
            && subject.starts_with("ServiceAccount:")
        {
            *platform.entry(subject.to_owned()).or_insert(true) &= f.platform;
        }
    }
    let mut token_secrets: HashMap<ServiceAccountKey, Vec<String>> = HashMap::new();
    for secret in &dump.secrets {
        if secret.secret_type == "kubernetes.io/service-account-token"
            && let Some(account) = &secret.service_account
        {
            token_secrets
                .entry((secret.namespace.clone(), account.clone()))
                .or_default()
                .push(format!("{}/{}", secret.namespace, secret.name));
        }
    }
    accounts
        .iter()
        .map(|key| {
            let subject = Subject::service_account(&key.0, &key.1);
            let (pods, nodes) = mounts.of(&subject);
            let display = subject.to_string();
            let (severity, kinds) = match powers.get(key) {
                Some((severity, kinds)) => (Some(*severity), kinds.iter().cloned().collect()),
                None => (None, Vec::new()),
            };
            ServiceAccountReach {
                platform: platform.get(&display).copied().unwrap_or(false),
                subject: display,
                severity,
                kinds,
                pods,
                nodes,
                token_secrets: token_secrets.remove(key).unwrap_or_default(),
            }
        })
        .collect()
}

/// The accounts with high or critical permissions in a namespace (all namespaces for none):
/// the worst severity and "; reaches the service accounts a (kinds), b (kinds) and N more".
fn reached_accounts(
    powers: &BTreeMap<ServiceAccountKey, Powers>,
    namespace: Option<&str>,
) -> Option<(Severity, String)> {
    let reachable: Vec<(&ServiceAccountKey, &Powers)> = powers
        .iter()
        .filter(|((ns, _), (severity, _))| {
            *severity >= Severity::High && namespace.is_none_or(|scope| scope == ns)
        })
        .collect();
    let worst = reachable.iter().map(|(_, (s, _))| *s).max()?;
    let listed: Vec<String> = reachable
        .iter()
        .take(5)
        .map(|((ns, name), (_, kinds))| {
            let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
            format!("{ns}/{name} ({})", kinds.join(", "))
        })
        .collect();
    let more = reachable.len().saturating_sub(listed.len());
    let more = if more > 0 {
        format!(" and {more} more")
    } else {
        String::new()
    };
    Some((
        worst,
        format!("; reaches the service accounts {}{more}", listed.join(", ")),
    ))
}

/// Every service account: declared, bound, or used by a pod.
fn all_accounts(dump: &Dump, mounts: &Mounts) -> BTreeSet<ServiceAccountKey> {
    let mut accounts: BTreeSet<ServiceAccountKey> = dump
        .service_accounts
        .iter()
        .map(|sa| (sa.namespace.clone(), sa.name.clone()))
        .collect();
    accounts.extend(mounts.pods.keys().cloned());
    for binding in &dump.bindings {
        for subject in &binding.subjects {
            if let (SubjectKind::ServiceAccount, Some(ns)) = (subject.kind, &subject.namespace) {
                accounts.insert((ns.clone(), subject.name.clone()));
            }
        }
    }
    accounts
}

/// The binding subjects whose grants a service account holds: itself, a User of its user
/// name, and its implicit groups.
fn holders(ns: &str, name: &str) -> [Subject; 5] {
    let group = |name: String| Subject {
        kind: SubjectKind::Group,
        name,
        namespace: None,
    };
    [
        Subject::service_account(ns, name),
        Subject {
            kind: SubjectKind::User,
            name: format!("system:serviceaccount:{ns}:{name}"),
            namespace: None,
        },
        group("system:serviceaccounts".to_owned()),
        group(format!("system:serviceaccounts:{ns}")),
        group("system:authenticated".to_owned()),
    ]
}

/// Capabilities a service account holds only by combining several holders' grants (a CSR
/// approval whose two halves come through different subjects): worked out on the merged
/// grants, only when some holder has part of such a capability.
fn merged_only_findings(
    rbac: &Rbac<'_>,
    held: &BTreeMap<Subject, BTreeMap<Scope, Held>>,
    holders: &[Subject; 5],
) -> Vec<InventoryFinding> {
    let present: Vec<&BTreeMap<Scope, Held>> = holders.iter().filter_map(|s| held.get(s)).collect();
    let mut merged: BTreeMap<Scope, Held> = BTreeMap::new();
    for scopes in &present {
        for (scope, h) in scopes.iter() {
            let into = merged.entry(scope.clone()).or_default();
            into.full_control.extend(h.full_control.iter().copied());
            for (key, (hit, bindings)) in &h.parts {
                let slot = into.parts.entry(*key).or_default();
                slot.0.merge(hit);
                slot.1.extend(bindings.iter().copied());
            }
        }
    }
    let subject = &holders[0];
    subject_findings(rbac, subject, &merged)
        .into_iter()
        .filter(|f| {
            CAPABILITIES
                .iter()
                .any(|c| c.kind == f.kind && c.parts.len() > 1)
        })
        .collect()
}

/// A part of a capability held in a scope: (scope, capability, part).
type PartKey = (Scope, usize, usize);

/// The parts a subject holds of capabilities that need several, where it lacks the rest.
fn partial_parts(scopes: &BTreeMap<Scope, Held>) -> BTreeSet<PartKey> {
    let mut out = BTreeSet::new();
    for (scope, h) in scopes {
        for (c, capability) in CAPABILITIES.iter().enumerate() {
            let parts = capability.parts.len();
            let held: Vec<usize> = (0..parts)
                .filter(|p| h.parts.contains_key(&(c, *p)))
                .collect();
            if parts > 1 && !held.is_empty() && held.len() < parts {
                out.extend(held.into_iter().map(|p| (scope.clone(), c, p)));
            }
        }
    }
    out
}

/// Whether parts held by several subjects complete a capability in one scope (or with the
/// cluster-wide ones).
fn completes(halves: &BTreeSet<&PartKey>) -> bool {
    halves.iter().any(|(scope, c, _)| {
        (0..CAPABILITIES[*c].parts.len()).all(|p| {
            halves.contains(&(scope.clone(), *c, p)) || halves.contains(&(Scope::Cluster, *c, p))
        })
    })
}

/// Per service account, the worst weight and the kinds of what its holders can do (the kinds
/// that reach other service accounts only when `with_reach`).
fn account_powers(
    accounts: &BTreeSet<ServiceAccountKey>,
    findings: &[InventoryFinding],
    merged_extras: &BTreeMap<ServiceAccountKey, Vec<InventoryFinding>>,
    with_reach: bool,
) -> BTreeMap<ServiceAccountKey, Powers> {
    let mut by_subject: HashMap<&Subject, Vec<&InventoryFinding>> = HashMap::new();
    for f in findings {
        if let Some(subject) = &f.subject_key {
            by_subject.entry(subject).or_default().push(f);
        }
    }
    let mut powers = BTreeMap::new();
    for (ns, name) in accounts {
        let key = (ns.clone(), name.clone());
        let mut entry: Option<Powers> = None;
        let own = holders(ns, name);
        let from_holders = own
            .iter()
            .filter_map(|s| by_subject.get(s))
            .flatten()
            .copied();
        let extras = merged_extras.get(&key).into_iter().flatten();
        for f in from_holders.chain(extras) {
            if !with_reach && REACHES_SERVICE_ACCOUNTS.contains(&f.kind.as_str()) {
                continue;
            }
            let e = entry.get_or_insert((Severity::Info, BTreeSet::new()));
            e.0 = e.0.max(f.weight);
            e.1.insert(f.kind.clone());
        }
        if let Some(e) = entry {
            powers.insert(key, e);
        }
    }
    powers
}

/// Per node: the dangerous service-account tokens a compromise of it yields.
fn node_blast_radius(
    service_accounts: &[ServiceAccountReach],
    findings: &mut Vec<InventoryFinding>,
) {
    let mut per_node: BTreeMap<&str, Vec<&ServiceAccountReach>> = BTreeMap::new();
    for sa in service_accounts
        .iter()
        .filter(|sa| sa.severity >= Some(Severity::High))
    {
        for node in &sa.nodes {
            per_node.entry(node).or_default().push(sa);
        }
    }
    for (node, accounts) in per_node {
        let severity = accounts
            .iter()
            .filter_map(|a| a.severity)
            .max()
            .unwrap_or(Severity::High);
        let listed: Vec<String> = accounts
            .iter()
            .map(|a| format!("{} ({})", a.subject, a.kinds.join(", ")))
            .collect();
        let mut pods: Vec<String> = accounts
            .iter()
            .flat_map(|a| a.pods.iter().cloned())
            .collect();
        pods.sort();
        findings.push(InventoryFinding {
            kind: "node_blast_radius".to_owned(),
            severity,
            message: format!(
                "whoever compromises node {node} gets the tokens of {}",
                listed.join(", ")
            ),
            subject: Some(format!("Node:{node}")),
            resource: None,
            namespace: None,
            evidence: accounts.iter().map(|a| a.subject.clone()).collect(),
            names: None,
            pods,
            nodes: vec![node.to_owned()],
            platform: false,
            platform_reason: None,
            subject_key: None,
            binding_indices: Vec::new(),
            weight: severity,
        });
    }
}
