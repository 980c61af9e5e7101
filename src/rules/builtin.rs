//! Rules shipped inside the binary: the files under `rules/`, embedded at build time.
//! `rules/credwatch/` holds credwatch's credential-access pack (playbooks and tests inline);
//! `rules/sigmahq/` holds SigmaHQ's Kubernetes audit rules, unchanged (DRL 1.1; see its README).

macro_rules! embed {
    ($($path:literal),* $(,)?) => { &[$(($path, include_str!(concat!("../../rules/", $path)))),*] };
}

/// (path under `rules/`, text) of every built-in rule and test file.
pub static FILES: &[(&str, &str)] = embed![
    "credwatch/access.yml",
    "credwatch/docker.yml",
    "credwatch/exec.yml",
    "credwatch/filters.yml",
    "credwatch/secrets.yml",
    "credwatch/sequences.yml",
    "credwatch/tokens.yml",
    "sigmahq/kubernetes_audit_change_admission_controller.tests.yml",
    "sigmahq/kubernetes_audit_change_admission_controller.yml",
    "sigmahq/kubernetes_audit_cronjob_modification.tests.yml",
    "sigmahq/kubernetes_audit_cronjob_modification.yml",
    "sigmahq/kubernetes_audit_deployment_deleted.tests.yml",
    "sigmahq/kubernetes_audit_deployment_deleted.yml",
    "sigmahq/kubernetes_audit_events_deleted.tests.yml",
    "sigmahq/kubernetes_audit_events_deleted.yml",
    "sigmahq/kubernetes_audit_exec_into_container.tests.yml",
    "sigmahq/kubernetes_audit_exec_into_container.yml",
    "sigmahq/kubernetes_audit_hostpath_mount.tests.yml",
    "sigmahq/kubernetes_audit_hostpath_mount.yml",
    "sigmahq/kubernetes_audit_pod_in_system_namespace.tests.yml",
    "sigmahq/kubernetes_audit_pod_in_system_namespace.yml",
    "sigmahq/kubernetes_audit_potential_enumeration_activity.tests.yml",
    "sigmahq/kubernetes_audit_potential_enumeration_activity.yml",
    "sigmahq/kubernetes_audit_privileged_pod_creation.tests.yml",
    "sigmahq/kubernetes_audit_privileged_pod_creation.yml",
    "sigmahq/kubernetes_audit_rbac_permisions_listing.tests.yml",
    "sigmahq/kubernetes_audit_rbac_permisions_listing.yml",
    "sigmahq/kubernetes_audit_rolebinding_modification.tests.yml",
    "sigmahq/kubernetes_audit_rolebinding_modification.yml",
    "sigmahq/kubernetes_audit_secrets_enumeration.tests.yml",
    "sigmahq/kubernetes_audit_secrets_enumeration.yml",
    "sigmahq/kubernetes_audit_secrets_modified_or_deleted.tests.yml",
    "sigmahq/kubernetes_audit_secrets_modified_or_deleted.yml",
    "sigmahq/kubernetes_audit_serviceaccount_creation.tests.yml",
    "sigmahq/kubernetes_audit_serviceaccount_creation.yml",
    "sigmahq/kubernetes_audit_sidecar_injection.tests.yml",
    "sigmahq/kubernetes_audit_sidecar_injection.yml",
    "sigmahq/kubernetes_audit_unauthorized_unauthenticated_actions.tests.yml",
    "sigmahq/kubernetes_audit_unauthorized_unauthenticated_actions.yml",
];
