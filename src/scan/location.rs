//! Where a container log came from, read from its path as the kubelet and Docker lay logs out:
//!
//! - `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restart>.log[.<date>][.gz]`
//! - `/var/log/containers/<pod>_<namespace>_<container>-<container id>.log`
//! - `/var/lib/docker/containers/<id>/<id>-json.log[.N]`
//!
//! Kubernetes names cannot hold `_`, which is what makes these splits unambiguous.

use std::path::Path;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Location {
    pub namespace: Option<String>,
    pub pod: Option<String>,
    pub container: Option<String>,
    pub container_id: Option<String>,
}

fn is_uid(s: &str) -> bool {
    s.len() >= 32 && s.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
}

fn is_container_id(s: &str) -> bool {
    s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The file name without its `.log`, rotation and compression suffixes.
fn log_stem(name: &str) -> Option<&str> {
    name.find(".log").map(|i| &name[..i])
}

pub fn from_path(path: &Path) -> Location {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    let Some((file, dirs)) = parts.split_last() else {
        return Location::default();
    };
    // /var/log/pods/<ns>_<pod>_<uid>/<container>/N.log
    if let [.., pod_dir, container] = dirs
        && let [namespace, pod, uid] = pod_dir.split('_').collect::<Vec<_>>().as_slice()
        && is_uid(uid)
        && !namespace.is_empty()
        && !pod.is_empty()
    {
        return Location {
            namespace: Some((*namespace).to_owned()),
            pod: Some((*pod).to_owned()),
            container: Some((*container).to_owned()),
            container_id: None,
        };
    }
    let Some(stem) = log_stem(file) else {
        return Location::default();
    };
    // /var/log/containers/<pod>_<ns>_<container>-<id>.log
    if let [pod, namespace, rest] = stem.split('_').collect::<Vec<_>>().as_slice()
        && let Some((container, id)) = rest.rsplit_once('-')
        && is_container_id(id)
        && !container.is_empty()
    {
        return Location {
            namespace: Some((*namespace).to_owned()),
            pod: Some((*pod).to_owned()),
            container: Some(container.to_owned()),
            container_id: Some(id.to_owned()),
        };
    }
    // /var/lib/docker/containers/<id>/<id>-json.log
    if let Some(id) = stem.strip_suffix("-json")
        && is_container_id(id)
    {
        return Location {
            container_id: Some(id.to_owned()),
            ..Location::default()
        };
    }
    Location::default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubelet_and_docker_layouts() {
        let id = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let cases: Vec<(String, Location)> = vec![
            (
                "/var/log/pods/payments_api-7d9f8b6c5-x2x7q_3f1c2e4a-1111-2222-3333-444455556666/api/0.log".into(),
                Location {
                    namespace: Some("payments".into()),
                    pod: Some("api-7d9f8b6c5-x2x7q".into()),
                    container: Some("api".into()),
                    container_id: None,
                },
            ),
            (
                "/var/log/pods/payments_api-7d9f8b6c5-x2x7q_3f1c2e4a-1111-2222-3333-444455556666/api/0.log.20261128-100000.gz".into(),
                Location {
                    namespace: Some("payments".into()),
                    pod: Some("api-7d9f8b6c5-x2x7q".into()),
                    container: Some("api".into()),
                    container_id: None,
                },
            ),
            (
                format!("/var/log/containers/web-5c6d7e8f9-abcde_shop_nginx-{id}.log"),
                Location {
                    namespace: Some("shop".into()),
                    pod: Some("web-5c6d7e8f9-abcde".into()),
                    container: Some("nginx".into()),
                    container_id: Some(id.into()),
                },
            ),
            (
                format!("/var/lib/docker/containers/{id}/{id}-json.log.1"),
                Location {
                    container_id: Some(id.into()),
                    ..Location::default()
                },
            ),
            ("/tmp/app.log".into(), Location::default()),
            ("/var/log/containers/not_a_kubelet_name.log".into(), Location::default()),
        ];
        for (path, expected) in cases {
            assert_eq!(from_path(Path::new(&path)), expected, "{path}");
        }
    }
}
