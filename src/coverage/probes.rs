//! The requests a policy is tried against: every way to reach a credential through the API
//! server, by the identities that matter (a person, a workload, a node, an anonymous caller).

use super::policy::{Request, Target};

/// What logging a probe's request body or response would write into the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Nothing sensitive in either.
    Plain,
    /// The response carries a credential (a Secret read, a minted token).
    CredentialInResponse,
    /// The request carries a credential (a Secret written, a token under review).
    CredentialInRequest,
    /// A ConfigMap: credentials put there reach the log.
    ConfigMap,
    /// A pod or workload spec: its env literals reach the log.
    PodSpec,
}

#[derive(Debug, Clone)]
pub struct Probe {
    /// Stable id, e.g. `secrets.get.kube-system`.
    pub id: String,
    pub description: String,
    pub request: Request,
    /// A credential can be reached this way: the probe must be logged, with its outcome.
    pub relevant: bool,
    pub body: Body,
}

struct Who {
    user: &'static str,
    groups: &'static [&'static str],
}

const PERSON: Who = Who {
    user: "alice@example.com",
    groups: &["system:authenticated"],
};
const WORKLOAD: Who = Who {
    user: "system:serviceaccount:payments:api",
    groups: &[
        "system:serviceaccounts",
        "system:serviceaccounts:payments",
        "system:authenticated",
    ],
};
const NODE: Who = Who {
    user: "system:node:ip-10-0-1-23",
    groups: &["system:nodes", "system:authenticated"],
};
const ANONYMOUS: Who = Who {
    user: "system:anonymous",
    groups: &["system:unauthenticated"],
};

#[allow(clippy::too_many_arguments)]
fn probe(
    who: &Who,
    verb: &str,
    group: &str,
    resource: &str,
    subresource: Option<&str>,
    namespace: &str,
    name: &str,
    relevant: bool,
    body: Body,
) -> Probe {
    let what = match subresource {
        Some(sub) => format!("{resource}/{sub}"),
        None => resource.to_owned(),
    };
    let scope = if namespace.is_empty() {
        "cluster-wide".to_owned()
    } else {
        format!("in {namespace}")
    };
    let who_id = match who.user {
        u if u == PERSON.user => "",
        u if u == WORKLOAD.user => ".by-serviceaccount",
        u if u == NODE.user => ".by-node",
        _ => ".by-anonymous",
    };
    Probe {
        id: format!(
            "{what}.{verb}.{}{who_id}",
            if namespace.is_empty() {
                "cluster"
            } else {
                namespace
            }
        ),
        description: format!("{verb} {what} {scope} by {}", who.user),
        request: Request {
            user: who.user.to_owned(),
            groups: who.groups.iter().map(|g| (*g).to_owned()).collect(),
            verb: verb.to_owned(),
            target: Target::Resource {
                group: group.to_owned(),
                resource: resource.to_owned(),
                subresource: subresource.map(str::to_owned),
                namespace: namespace.to_owned(),
                name: name.to_owned(),
            },
        },
        relevant,
        body,
    }
}

/// The probe set, in the order reports list it.
pub fn all() -> Vec<Probe> {
    use Body::*;
    let mut probes = Vec::new();
    // Secrets: every verb, in kube-system, in an application namespace, and across all.
    for (namespace, name) in [
        ("kube-system", "bootstrap-token-abcdef"),
        ("payments", "db"),
    ] {
        for verb in ["get", "list", "watch"] {
            let name = if verb == "get" { name } else { "" };
            probes.push(probe(
                &PERSON,
                verb,
                "",
                "secrets",
                None,
                namespace,
                name,
                true,
                CredentialInResponse,
            ));
        }
        for verb in ["create", "update", "patch"] {
            probes.push(probe(
                &PERSON,
                verb,
                "",
                "secrets",
                None,
                namespace,
                name,
                true,
                CredentialInRequest,
            ));
        }
        probes.push(probe(
            &PERSON, "delete", "", "secrets", None, namespace, name, true, Plain,
        ));
    }
    for verb in ["list", "watch"] {
        probes.push(probe(
            &PERSON,
            verb,
            "",
            "secrets",
            None,
            "",
            "",
            true,
            CredentialInResponse,
        ));
    }
    probes.push(probe(
        &WORKLOAD,
        "list",
        "",
        "secrets",
        None,
        "",
        "",
        true,
        CredentialInResponse,
    ));
    probes.push(probe(
        &NODE,
        "get",
        "",
        "secrets",
        None,
        "payments",
        "db",
        true,
        CredentialInResponse,
    ));
    probes.push(probe(
        &ANONYMOUS,
        "get",
        "",
        "secrets",
        None,
        "kube-system",
        "bootstrap-token-abcdef",
        true,
        CredentialInResponse,
    ));
    // ConfigMaps hold credentials more often than they should.
    probes.push(probe(
        &PERSON,
        "get",
        "",
        "configmaps",
        None,
        "payments",
        "app-config",
        true,
        ConfigMap,
    ));
    probes.push(probe(
        &PERSON,
        "update",
        "",
        "configmaps",
        None,
        "payments",
        "app-config",
        false,
        ConfigMap,
    ));
    // Tokens.
    for namespace in ["payments", "kube-system"] {
        probes.push(probe(
            &PERSON,
            "create",
            "",
            "serviceaccounts",
            Some("token"),
            namespace,
            "default",
            true,
            CredentialInResponse,
        ));
    }
    probes.push(probe(
        &WORKLOAD,
        "create",
        "",
        "serviceaccounts",
        Some("token"),
        "payments",
        "api",
        true,
        CredentialInResponse,
    ));
    probes.push(probe(
        &PERSON,
        "create",
        "authentication.k8s.io",
        "tokenreviews",
        None,
        "",
        "",
        true,
        CredentialInRequest,
    ));
    // Into workloads and nodes.
    for (verb, sub) in [
        ("create", "exec"),
        ("get", "exec"),
        ("create", "attach"),
        ("create", "portforward"),
        ("get", "proxy"),
        ("patch", "ephemeralcontainers"),
        ("get", "log"),
    ] {
        probes.push(probe(
            &PERSON,
            verb,
            "",
            "pods",
            Some(sub),
            "payments",
            "api-1",
            true,
            Plain,
        ));
    }
    probes.push(probe(
        &WORKLOAD,
        "create",
        "",
        "pods",
        Some("exec"),
        "payments",
        "api-1",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "get",
        "",
        "services",
        Some("proxy"),
        "payments",
        "api",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "get",
        "",
        "nodes",
        Some("proxy"),
        "",
        "ip-10-0-1-23",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "create",
        "",
        "nodes",
        Some("proxy"),
        "",
        "ip-10-0-1-23",
        true,
        Plain,
    ));
    // Workload specs: their env literals.
    probes.push(probe(
        &PERSON, "create", "", "pods", None, "payments", "api-1", false, PodSpec,
    ));
    probes.push(probe(
        &PERSON,
        "update",
        "apps",
        "deployments",
        None,
        "payments",
        "api",
        false,
        PodSpec,
    ));
    // Who may become whom, and grant what.
    for resource in ["users", "groups", "serviceaccounts"] {
        probes.push(probe(
            &PERSON,
            "impersonate",
            "",
            resource,
            None,
            "",
            "",
            false,
            Plain,
        ));
    }
    probes.push(probe(
        &PERSON,
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        None,
        "",
        "",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "create",
        "rbac.authorization.k8s.io",
        "rolebindings",
        None,
        "payments",
        "",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "escalate",
        "rbac.authorization.k8s.io",
        "roles",
        None,
        "payments",
        "",
        false,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "bind",
        "rbac.authorization.k8s.io",
        "clusterroles",
        None,
        "",
        "",
        false,
        Plain,
    ));
    // Client certificates.
    probes.push(probe(
        &PERSON,
        "create",
        "certificates.k8s.io",
        "certificatesigningrequests",
        None,
        "",
        "",
        true,
        Plain,
    ));
    probes.push(probe(
        &PERSON,
        "update",
        "certificates.k8s.io",
        "certificatesigningrequests",
        Some("approval"),
        "",
        "csr-x",
        true,
        Plain,
    ));
    probes
}
