//! Who is on the other end of a connection. On a Unix socket the kernel says (SO_PEERCRED: the
//! uid, gid and pid of the process that connected, fixed at connect time), and `/proc` adds that
//! process's executable and, from its cgroup, the container or pod it runs in. On TCP only the
//! client certificate (mTLS) or, failing that, the source address.

use std::os::fd::AsRawFd;

/// The caller of every request on one connection.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Peer {
    /// `uid+pid`, `mtls-subject` or `source-address` (the identity annotation).
    pub identity: &'static str,
    pub username: Option<String>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub pid: Option<i32>,
    pub exe: Option<String>,
    pub container_id: Option<String>,
    pub pod_uid: Option<String>,
    pub source_ip: Option<String>,
    /// The client certificate's subject (RFC 4514) and SHA-256 (of its DER, hex).
    pub certificate_subject: Option<String>,
    pub certificate_sha256: Option<String>,
}

impl Peer {
    /// The caller of a Unix socket connection, resolved now (the pid may be gone later).
    pub fn of_unix(stream: &std::os::unix::net::UnixStream) -> Peer {
        let Some((pid, uid, gid)) = peer_cred(stream) else {
            return Peer {
                identity: "none",
                ..Peer::default()
            };
        };
        let cgroup = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let (container_id, pod_uid) = workload_of_cgroup(&cgroup);
        Peer {
            identity: "uid+pid",
            username: Some(user_name(uid).unwrap_or_else(|| format!("uid:{uid}"))),
            uid: Some(uid),
            gid: Some(gid),
            pid: Some(pid),
            exe: std::fs::read_link(format!("/proc/{pid}/exe"))
                .ok()
                .map(|p| p.to_string_lossy().into_owned()),
            container_id,
            pod_uid,
            ..Peer::default()
        }
    }

    pub fn of_address(address: std::net::SocketAddr) -> Peer {
        Peer {
            identity: "source-address",
            source_ip: Some(address.ip().to_string()),
            ..Peer::default()
        }
    }

    /// `user.extra` of the events: what is known besides the name, as Kubernetes writes extra
    /// (`map[string][]string`).
    pub fn extra(&self) -> Option<String> {
        let mut extra = serde_json::Map::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(value) = value {
                extra.insert(key.to_owned(), serde_json::json!([value]));
            }
        };
        put("pid", self.pid.map(|p| p.to_string()));
        put("gid", self.gid.map(|g| g.to_string()));
        put("exe", self.exe.clone());
        put("container-id", self.container_id.clone());
        put("pod-uid", self.pod_uid.clone());
        put("certificate-subject", self.certificate_subject.clone());
        put("certificate-sha256", self.certificate_sha256.clone());
        (!extra.is_empty()).then(|| serde_json::Value::Object(extra).to_string())
    }
}

/// (pid, uid, gid) of the process that connected.
fn peer_cred(stream: &std::os::unix::net::UnixStream) -> Option<(i32, u32, u32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, a ucred as SO_PEERCRED expects,
    // on a descriptor the stream owns for the duration of the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    (rc == 0 && len as usize == std::mem::size_of::<libc::ucred>())
        .then_some((cred.pid, cred.uid, cred.gid))
}

/// The account name of a uid, from `/etc/passwd`.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let entry_uid = fields.nth(1)?.parse::<u32>().ok()?;
        (entry_uid == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

/// The container id and pod uid a process's `/proc/<pid>/cgroup` names, cgroup v1 or v2, under
/// Docker (`docker-<id>.scope`, `/docker/<id>`), containerd and CRI-O (`cri-containerd-<id>`,
/// `crio-<id>`) and the kubelet (`pod<uid>`, dashes written as underscores under systemd).
pub fn workload_of_cgroup(cgroup: &str) -> (Option<String>, Option<String>) {
    const RUNTIME_PREFIXES: [&str; 5] = [
        "docker-",
        "cri-containerd-",
        "crio-",
        "libpod-",
        "containerd-",
    ];
    let is_id = |id: &str| id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit());
    let mut container = None;
    let mut pod = None;
    for line in cgroup.lines() {
        let Some(path) = line.splitn(3, ':').nth(2) else {
            continue;
        };
        // A user's own scopes can be named anything (`systemd-run --user --unit=docker-<id>`):
        // only the runtimes' and the kubelet's hierarchies name a workload.
        if path.contains("user.slice") || path.contains("user@") {
            continue;
        }
        let segments: Vec<&str> = path.split('/').collect();
        let kubepods = path.contains("kubepods");
        for (i, segment) in segments.iter().enumerate() {
            let segment = segment
                .strip_suffix(".scope")
                .or_else(|| segment.strip_suffix(".slice"))
                .unwrap_or(segment);
            // `kubepods-besteffort-pod<uid>` or `pod<uid>`.
            if kubepods && let Some(at) = segment.rfind("pod") {
                let uid = &segment[at + 3..];
                if uid.len() == 36
                    && uid
                        .bytes()
                        .all(|b| b.is_ascii_hexdigit() || b == b'-' || b == b'_')
                {
                    pod = Some(uid.replace('_', "-"));
                    continue;
                }
            }
            let prefixed = RUNTIME_PREFIXES
                .iter()
                .find_map(|p| segment.strip_prefix(p))
                .filter(|id| is_id(id));
            // `/docker/<id>` (cgroup v1, or dockerd's cgroupfs driver) and a bare id under a pod.
            let bare = (is_id(segment) && (kubepods || (i > 0 && segments[i - 1] == "docker")))
                .then_some(segment);
            if let Some(id) = prefixed.or(bare) {
                container = Some(id.to_owned());
            }
        }
        if container.is_some() {
            break;
        }
    }
    (container, pod)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroups_name_the_workload() {
        let id = "b89e0c87f4287471168e09c096dcd8965562ac685a0810244a8fead99d20d4b3";
        let pod = "3f9a1c52-7d4e-4b8a-9c61-0e2f5a7b8d90";
        let pod_systemd = pod.replace('-', "_");
        let cases: Vec<(String, Option<&str>, Option<&str>)> = vec![
            (
                format!("0::/system.slice/docker-{id}.scope\n"),
                Some(id),
                None,
            ),
            (
                format!("12:memory:/docker/{id}\n11:cpu:/docker/{id}\n"),
                Some(id),
                None,
            ),
            (
                format!(
                    "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod{pod_systemd}.slice/cri-containerd-{id}.scope\n"
                ),
                Some(id),
                Some(pod),
            ),
            (
                format!("4:pids:/kubepods/burstable/pod{pod}/{id}\n"),
                Some(id),
                Some(pod),
            ),
            (
                format!("0::/machine.slice/libpod-{id}.scope/container\n"),
                Some(id),
                None,
            ),
            (
                "0::/user.slice/user-1000.slice/session-2.scope\n".to_owned(),
                None,
                None,
            ),
            ("0::/\n".to_owned(), None, None),
            ("garbage".to_owned(), None, None),
        ];
        for (cgroup, container, pod_uid) in cases {
            let (c, p) = workload_of_cgroup(&cgroup);
            assert_eq!(c.as_deref(), container, "{cgroup}");
            assert_eq!(p.as_deref(), pod_uid, "{cgroup}");
        }
    }

    #[test]
    fn a_unix_peer_is_this_process() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let peer = Peer::of_unix(&a);
        assert_eq!(peer.identity, "uid+pid");
        assert_eq!(peer.pid, Some(std::process::id() as i32));
        // SAFETY: getuid has no preconditions.
        assert_eq!(peer.uid, Some(unsafe { libc::getuid() }));
        assert!(peer.exe.is_some());
        let extra: serde_json::Value = serde_json::from_str(&peer.extra().unwrap()).unwrap();
        assert_eq!(extra["pid"][0], std::process::id().to_string());
    }
}
