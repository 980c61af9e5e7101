//! RBAC resolution with the API server's exact semantics (the RBAC authorizer and
//! `evaluation_helpers.go`): which bindings apply to a request's namespace, how a binding's
//! subjects match a user, and how a rule matches a verb, API group, resource, subresource, name
//! or non-resource URL.
//!
//! - A ClusterRoleBinding grants its ClusterRole everywhere; a RoleBinding grants its Role, or
//!   a ClusterRole, only in its own namespace. A binding to a role that does not exist grants
//!   nothing (yet).
//! - Requests for cluster-scoped resources and non-resource URLs carry no namespace, so only
//!   ClusterRoleBindings grant them. The one exception is `bind` on ClusterRoles, checked in
//!   the namespace of the RoleBinding being written.
//! - Resources: `*` matches every resource and subresource, `*/sub` any resource's `sub`;
//!   anything else matches exactly — `pods` is not `pods/exec`, and `pods/*` matches nothing.
//! - `resourceNames` narrows a rule to named objects; requests without a name (`list`, `watch`,
//!   `create`, `deletecollection`) are not granted by it, except `list`/`watch` narrowed to one
//!   object with `fieldSelector=metadata.name=…`, which carry the name. Without a name, a query
//!   answers "only these names" for verbs that can carry one, and no for `create` and
//!   `deletecollection` of the resource itself.
//! - Users get implicit groups: `system:authenticated` (every authenticated user),
//!   `system:serviceaccounts` and `system:serviceaccounts:<ns>` (service accounts);
//!   `system:anonymous` is in `system:unauthenticated` only.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::dump::{Binding, Dump, PolicyRule, Role, Subject, SubjectKind};

/// What is asked: a resource request, or a non-resource URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub verb: String,
    pub api_group: String,
    pub resource: String,
    pub subresource: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    /// A non-resource URL (`/healthz`); when set, the resource fields are ignored.
    pub path: Option<String>,
}

impl Request {
    pub fn resource(verb: &str, api_group: &str, resource: &str) -> Request {
        Request {
            verb: verb.to_owned(),
            api_group: api_group.to_owned(),
            resource: resource.to_owned(),
            subresource: None,
            namespace: None,
            name: None,
            path: None,
        }
    }

    pub fn with_subresource(mut self, subresource: &str) -> Request {
        self.subresource = Some(subresource.to_owned());
        self
    }

    pub fn in_namespace(mut self, namespace: Option<&str>) -> Request {
        self.namespace = namespace.map(str::to_owned);
        self
    }

    pub fn named(mut self, name: Option<&str>) -> Request {
        self.name = name.map(str::to_owned);
        self
    }

    pub fn non_resource(verb: &str, path: &str) -> Request {
        Request {
            path: Some(path.to_owned()),
            ..Request::resource(verb, "", "")
        }
    }

    /// A query as people write it: `RESOURCE[/SUB]`, `RESOURCE.GROUP[/SUB]` or a `/url`. The group
    /// is `api_group`, else the one written, else the resource's well-known one; the flag says
    /// it was assumed to be the core group for a resource credwatch does not know.
    pub fn query(verb: &str, target: &str, api_group: Option<&str>) -> (Request, bool) {
        if target.starts_with('/') {
            return (Request::non_resource(verb, target), false);
        }
        let (resource, subresource) = match target.split_once('/') {
            Some((r, sub)) => (r, Some(sub)),
            None => (target, None),
        };
        let (resource, group, assumed) = match (api_group, resource.split_once('.')) {
            (Some(group), _) => (resource, group, false),
            (None, Some((r, group))) => (r, group, false),
            (None, None) => match default_group(resource) {
                Some(group) => (resource, group, false),
                None => (resource, "", true),
            },
        };
        let mut request = Request::resource(verb, group, resource);
        request.subresource = subresource.map(str::to_owned);
        (request, assumed)
    }

    /// `resource/subresource verb` (the findings contract's form), or `path verb`.
    pub fn describe(&self) -> String {
        match (&self.path, &self.subresource) {
            (Some(path), _) => format!("{path} {}", self.verb),
            (None, Some(sub)) => format!("{}/{sub} {}", self.qualified(), self.verb),
            (None, None) => format!("{} {}", self.qualified(), self.verb),
        }
    }

    fn qualified(&self) -> String {
        if self.api_group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.api_group)
        }
    }

    /// The namespace the authorizer sees: none for cluster-scoped resources and URLs.
    fn effective_namespace(&self) -> Option<&str> {
        if self.path.is_some() {
            return None;
        }
        let bind_cluster_role = self.verb == "bind" && self.resource == "clusterroles";
        if is_cluster_scoped(&self.resource) && !bind_cluster_role {
            return None;
        }
        self.namespace.as_deref().filter(|ns| !ns.is_empty())
    }
}

/// Resources without a namespace (the built-in ones credwatch asks about).
pub fn is_cluster_scoped(resource: &str) -> bool {
    matches!(
        resource,
        "nodes"
            | "namespaces"
            | "persistentvolumes"
            | "clusterroles"
            | "clusterrolebindings"
            | "certificatesigningrequests"
            | "signers"
            | "users"
            | "groups"
            | "uids"
            | "userextras"
            | "mutatingwebhookconfigurations"
            | "validatingwebhookconfigurations"
            | "validatingadmissionpolicies"
            | "validatingadmissionpolicybindings"
            | "customresourcedefinitions"
            | "apiservices"
            | "storageclasses"
            | "priorityclasses"
            | "csidrivers"
            | "csinodes"
            | "volumeattachments"
            | "runtimeclasses"
            | "ingressclasses"
            | "tokenreviews"
            | "subjectaccessreviews"
            | "selfsubjectaccessreviews"
            | "selfsubjectrulesreviews"
            | "selfsubjectreviews"
    )
}

/// The API group of a well-known resource, for queries that name only the resource.
pub fn default_group(resource: &str) -> Option<&'static str> {
    Some(match resource {
        "pods"
        | "secrets"
        | "configmaps"
        | "serviceaccounts"
        | "services"
        | "endpoints"
        | "nodes"
        | "namespaces"
        | "persistentvolumes"
        | "persistentvolumeclaims"
        | "events"
        | "replicationcontrollers"
        | "users"
        | "groups"
        | "limitranges"
        | "resourcequotas"
        | "podtemplates"
        | "componentstatuses"
        | "bindings" => "",
        "deployments" | "replicasets" | "statefulsets" | "daemonsets" | "controllerrevisions" => {
            "apps"
        }
        "jobs" | "cronjobs" => "batch",
        "roles" | "clusterroles" | "rolebindings" | "clusterrolebindings" => {
            "rbac.authorization.k8s.io"
        }
        "certificatesigningrequests" | "signers" => "certificates.k8s.io",
        "uids" | "userextras" | "tokenreviews" | "selfsubjectreviews" => "authentication.k8s.io",
        "subjectaccessreviews"
        | "selfsubjectaccessreviews"
        | "selfsubjectrulesreviews"
        | "localsubjectaccessreviews" => "authorization.k8s.io",
        "mutatingwebhookconfigurations"
        | "validatingwebhookconfigurations"
        | "validatingadmissionpolicies"
        | "validatingadmissionpolicybindings" => "admissionregistration.k8s.io",
        "customresourcedefinitions" => "apiextensions.k8s.io",
        "apiservices" => "apiregistration.k8s.io",
        "ingresses" | "networkpolicies" | "ingressclasses" => "networking.k8s.io",
        "leases" => "coordination.k8s.io",
        "storageclasses" | "csidrivers" | "csinodes" | "volumeattachments" => "storage.k8s.io",
        "priorityclasses" => "scheduling.k8s.io",
        "runtimeclasses" => "node.k8s.io",
        "horizontalpodautoscalers" => "autoscaling",
        "poddisruptionbudgets" => "policy",
        _ => return None,
    })
}

pub fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

pub fn group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

pub fn resource_matches(rule: &PolicyRule, resource: &str, subresource: Option<&str>) -> bool {
    rule.resources.iter().any(|r| {
        if r == "*" {
            return true;
        }
        match subresource {
            None => r == resource,
            Some(sub) => {
                r.strip_prefix(resource)
                    .and_then(|rest| rest.strip_prefix('/'))
                    .is_some_and(|rest| rest == sub)
                    || r.strip_prefix("*/").is_some_and(|rest| rest == sub)
            }
        }
    })
}

pub fn url_matches(rule: &PolicyRule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*"
            || u == path
            || u.strip_suffix('*')
                .is_some_and(|prefix| path.starts_with(prefix))
    })
}

/// How a rule answers a request, names aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    No,
    Yes,
    /// Granted only for these object names.
    Names(Vec<String>),
}

/// Whether `rule` grants `request`. Without a name in the request, a rule narrowed by
/// `resourceNames` answers [`Match::Names`] (the authorizer itself would deny).
pub fn rule_match(rule: &PolicyRule, request: &Request) -> Match {
    if !verb_matches(rule, &request.verb) {
        return Match::No;
    }
    if let Some(path) = &request.path {
        return if url_matches(rule, path) {
            Match::Yes
        } else {
            Match::No
        };
    }
    if !group_matches(rule, &request.api_group)
        || !resource_matches(rule, &request.resource, request.subresource.as_deref())
    {
        return Match::No;
    }
    if rule.resource_names.is_empty() {
        return Match::Yes;
    }
    match &request.name {
        Some(name) if rule.resource_names.iter().any(|n| n == name) => Match::Yes,
        Some(_) => Match::No,
        // A create or deletecollection of the resource itself never carries a name: no
        // names-limited rule can grant it (a subresource's create names its parent object).
        None if request.subresource.is_none()
            && matches!(request.verb.as_str(), "create" | "deletecollection") =>
        {
            Match::No
        }
        None => Match::Names(rule.resource_names.clone()),
    }
}

/// A user as the authorizer sees it.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    pub groups: BTreeSet<String>,
}

impl User {
    /// A user with the groups the API server adds: `system:authenticated` for everyone but
    /// `system:anonymous`; the service-account groups for `system:serviceaccount:NS:NAME`.
    pub fn new(name: &str, extra_groups: &[String]) -> User {
        let mut groups: BTreeSet<String> = extra_groups.iter().cloned().collect();
        if name == "system:anonymous" {
            groups.insert("system:unauthenticated".to_owned());
        } else {
            groups.insert("system:authenticated".to_owned());
            if let Some((ns, _)) = name
                .strip_prefix("system:serviceaccount:")
                .and_then(|rest| rest.split_once(':'))
            {
                groups.insert("system:serviceaccounts".to_owned());
                groups.insert(format!("system:serviceaccounts:{ns}"));
            }
        }
        User {
            name: name.to_owned(),
            groups,
        }
    }
}

/// `appliesToUser`: a User subject by name (a service account's full user name included), a
/// Group by membership, a ServiceAccount by its user name.
pub fn subject_applies(subject: &Subject, user: &User) -> bool {
    match subject.kind {
        SubjectKind::User => subject.name == user.name,
        SubjectKind::Group => user.groups.contains(&subject.name),
        SubjectKind::ServiceAccount => subject.username().is_some_and(|u| u == user.name),
    }
}

/// Where a grant holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Cluster,
    Namespace(String),
}

impl Scope {
    pub fn namespace(&self) -> Option<&str> {
        match self {
            Scope::Cluster => None,
            Scope::Namespace(ns) => Some(ns),
        }
    }
}

/// One subject's way to a request: through which binding and role, where, and whether only
/// for some names.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub subject: Subject,
    pub scope: Scope,
    pub binding: String,
    pub role: String,
    pub names: Option<Vec<String>>,
    pub evidence: String,
}

/// Roles and bindings, indexed for resolution.
pub struct Rbac<'d> {
    pub roles: &'d [Role],
    pub bindings: &'d [Binding],
    /// (cluster, namespace, name) → role index.
    index: HashMap<(bool, Option<&'d str>, &'d str), usize>,
    /// Bindings that apply everywhere, and those per namespace.
    cluster_bindings: Vec<usize>,
    namespace_bindings: HashMap<&'d str, Vec<usize>>,
}

impl<'d> Rbac<'d> {
    pub fn new(dump: &'d Dump) -> Rbac<'d> {
        let mut index = HashMap::with_capacity(dump.roles.len());
        for (i, role) in dump.roles.iter().enumerate() {
            let ns = if role.cluster {
                None
            } else {
                role.namespace.as_deref()
            };
            index.insert((role.cluster, ns, role.name.as_str()), i);
        }
        let mut cluster_bindings = Vec::new();
        let mut namespace_bindings: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, binding) in dump.bindings.iter().enumerate() {
            match (&binding.namespace, binding.cluster) {
                (Some(ns), false) => namespace_bindings.entry(ns).or_default().push(i),
                _ => cluster_bindings.push(i),
            }
        }
        Rbac {
            roles: &dump.roles,
            bindings: &dump.bindings,
            index,
            cluster_bindings,
            namespace_bindings,
        }
    }

    /// The role a binding refers to, if it exists.
    pub fn role_of(&self, binding: &Binding) -> Option<&'d Role> {
        self.role_index_of(binding).map(|i| &self.roles[i])
    }

    /// The index (in the dump's roles) of the role a binding refers to, if it exists.
    pub fn role_index_of(&self, binding: &Binding) -> Option<usize> {
        let key = if binding.role_is_cluster {
            (true, None, binding.role_name.as_str())
        } else {
            (
                false,
                binding.namespace.as_deref(),
                binding.role_name.as_str(),
            )
        };
        self.index.get(&key).copied()
    }

    pub fn scope_of(binding: &Binding) -> Scope {
        match (&binding.namespace, binding.cluster) {
            (Some(ns), false) => Scope::Namespace(ns.clone()),
            _ => Scope::Cluster,
        }
    }

    /// Bindings the authorizer visits for a request in `namespace` (none: cluster-wide only).
    fn bindings_for(&self, namespace: Option<&str>) -> impl Iterator<Item = &'d Binding> + '_ {
        let local = namespace
            .and_then(|ns| self.namespace_bindings.get(ns))
            .map(Vec::as_slice)
            .unwrap_or_default();
        self.cluster_bindings
            .iter()
            .chain(local)
            .map(|&i| &self.bindings[i])
    }

    /// `kubectl auth can-i --as`: whether the RBAC authorizer allows `user` the request.
    pub fn allows(&self, user: &User, request: &Request) -> bool {
        self.bindings_for(request.effective_namespace()).any(|b| {
            b.subjects.iter().any(|s| subject_applies(s, user))
                && self.role_of(b).is_some_and(|role| {
                    role.rules
                        .iter()
                        .any(|rule| rule_match(rule, request) == Match::Yes)
                })
        })
    }

    /// Every binding subject some grant of which matches the request. With a namespace: grants
    /// effective there; without one, for a namespaced resource: grants anywhere.
    pub fn who_can(&self, request: &Request) -> Vec<Answer> {
        let namespace = request.effective_namespace();
        let anywhere = namespace.is_none()
            && request.path.is_none()
            && (!is_cluster_scoped(&request.resource)
                || (request.verb == "bind" && request.resource == "clusterroles"));
        let bindings: Vec<&Binding> = if anywhere {
            self.bindings.iter().collect()
        } else {
            self.bindings_for(namespace).collect()
        };
        let mut answers = Vec::new();
        for binding in bindings {
            let Some(role) = self.role_of(binding) else {
                continue;
            };
            let mut names: Option<BTreeSet<String>> = None;
            let mut full = false;
            for rule in &role.rules {
                match rule_match(rule, request) {
                    Match::Yes => full = true,
                    Match::Names(n) => names.get_or_insert_with(BTreeSet::new).extend(n),
                    Match::No => {}
                }
            }
            if !full && names.is_none() {
                continue;
            }
            for subject in &binding.subjects {
                answers.push(Answer {
                    subject: subject.clone(),
                    scope: Rbac::scope_of(binding),
                    binding: binding.display(),
                    role: role.display(),
                    names: if full {
                        None
                    } else {
                        names.clone().map(|n| n.into_iter().collect())
                    },
                    evidence: binding.origin.to_string(),
                });
            }
        }
        answers.sort_by(|a, b| {
            (&a.subject, &a.scope, &a.binding).cmp(&(&b.subject, &b.scope, &b.binding))
        });
        answers
    }
}

/// Answers grouped per subject: the subject, and whether all its grants are name-limited.
pub fn subjects_of(answers: &[Answer]) -> BTreeMap<Subject, bool> {
    let mut subjects: BTreeMap<Subject, bool> = BTreeMap::new();
    for answer in answers {
        let only_names = answer.names.is_some();
        subjects
            .entry(answer.subject.clone())
            .and_modify(|o| *o &= only_names)
            .or_insert(only_names);
    }
    subjects
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
        let v = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect();
        PolicyRule {
            verbs: v(verbs),
            api_groups: v(groups),
            resources: v(resources),
            ..PolicyRule::default()
        }
    }

    #[test]
    fn resource_matching_follows_the_api_server() {
        let cases: &[(&[&str], &str, Option<&str>, bool)] = &[
            (&["*"], "pods", Some("exec"), true),
            (&["pods"], "pods", Some("exec"), false),
            (&["pods/exec"], "pods", Some("exec"), true),
            (&["*/exec"], "pods", Some("exec"), true),
            (&["pods/*"], "pods", Some("exec"), false),
            (&["pods/*"], "pods", None, false),
            (&["*/scale"], "deployments", Some("scale"), true),
            (&["*/scale"], "deployments", None, false),
            (&["pods/exec"], "pods", None, false),
            (&["podsx/exec"], "pods", Some("exec"), false),
            (&["Pods"], "pods", None, false),
        ];
        for (resources, resource, sub, expected) in cases {
            let r = rule(&["get"], &[""], resources);
            assert_eq!(
                resource_matches(&r, resource, *sub),
                *expected,
                "{resources:?} vs {resource}/{sub:?}"
            );
        }
    }

    #[test]
    fn urls_and_names() {
        let mut r = rule(&["get"], &[], &[]);
        r.non_resource_urls = vec!["/healthz".into(), "/api/*".into()];
        assert!(url_matches(&r, "/healthz"));
        assert!(url_matches(&r, "/api/v1"));
        assert!(!url_matches(&r, "/healthz/ready"));
        let mut named = rule(&["get", "list"], &[""], &["secrets"]);
        named.resource_names = vec!["db".into()];
        let get = Request::resource("get", "", "secrets").named(Some("db"));
        assert_eq!(rule_match(&named, &get), Match::Yes);
        let list = Request::resource("list", "", "secrets");
        assert_eq!(rule_match(&named, &list), Match::Names(vec!["db".into()]));
        named.verbs.push("create".into());
        let create = Request::resource("create", "", "secrets");
        assert_eq!(rule_match(&named, &create), Match::No);
        named.resources.push("serviceaccounts/token".into());
        let mint = Request::resource("create", "", "serviceaccounts").with_subresource("token");
        assert_eq!(rule_match(&named, &mint), Match::Names(vec!["db".into()]));
    }

    #[test]
    fn implicit_groups() {
        let sa = User::new("system:serviceaccount:ci:runner", &[]);
        assert!(sa.groups.contains("system:serviceaccounts:ci"));
        assert!(sa.groups.contains("system:authenticated"));
        let anonymous = User::new("system:anonymous", &[]);
        assert_eq!(
            anonymous.groups.iter().collect::<Vec<_>>(),
            ["system:unauthenticated"]
        );
    }
}
