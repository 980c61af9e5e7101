//! `inventory docker`: Docker daemons and containers exposed beyond their intended paths, from
//! `daemon.json`, dockerd command lines (systemd units and drop-ins, `ps` output, a bare command
//! line) and `docker inspect` output. Environment values in inspect output are never read.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Serialize;
use serde_json::Value;

use crate::findings::Severity;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DockerFinding {
    pub kind: String,
    pub severity: Severity,
    pub message: String,
    /// The daemon configuration or container the finding is about.
    pub subject: String,
    /// `file:line`.
    pub evidence: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DockerSummary {
    pub files: usize,
    pub daemon_configs: usize,
    pub containers: usize,
    pub errors: usize,
    pub findings: usize,
    pub by_kind: BTreeMap<String, usize>,
}

pub struct DockerReport {
    pub findings: Vec<DockerFinding>,
    pub errors: Vec<String>,
    pub summary: DockerSummary,
}

/// A daemon's settings, from whichever source.
#[derive(Debug, Default)]
struct Daemon {
    hosts: Vec<String>,
    tls: bool,
    tlsverify: bool,
    /// The setting that turned debug logging on, as written.
    debug: Option<String>,
    authz_plugins: Vec<String>,
}

/// Reads every file. With `one_host`, the daemon configurations found (daemon.json, the unit's
/// flags) are one daemon's, as dockerd itself combines them; otherwise each is judged alone.
pub fn report(paths: &[PathBuf], one_host: bool) -> DockerReport {
    let mut report = DockerReport {
        findings: Vec::new(),
        errors: Vec::new(),
        summary: DockerSummary::default(),
    };
    let mut daemons: Vec<(Daemon, String, String)> = Vec::new();
    for path in paths {
        report.summary.files += 1;
        let name = path.display().to_string();
        let text = match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    report.errors.push(format!("{name}: not UTF-8 text"));
                    continue;
                }
            },
            Err(e) => {
                report.errors.push(format!("{name}: cannot read: {e}"));
                continue;
            }
        };
        read_file(&name, &text, &mut report, &mut daemons);
    }
    if one_host && daemons.len() > 1 {
        let mut merged = Daemon::default();
        let (mut names, mut evidence) = (Vec::new(), Vec::new());
        for (daemon, name, at) in daemons {
            merged.hosts.extend(daemon.hosts);
            merged.tls |= daemon.tls;
            merged.tlsverify |= daemon.tlsverify;
            merged.debug = merged.debug.or(daemon.debug);
            merged.authz_plugins.extend(daemon.authz_plugins);
            names.push(name);
            evidence.push(at);
        }
        assess_daemon(
            &merged,
            &names.join(" + "),
            &evidence.join(", "),
            &mut report,
        );
    } else {
        for (daemon, name, at) in daemons {
            assess_daemon(&daemon, &name, &at, &mut report);
        }
    }
    report.findings.sort_by(|a, b| {
        (std::cmp::Reverse(a.severity), &a.kind, &a.subject).cmp(&(
            std::cmp::Reverse(b.severity),
            &b.kind,
            &b.subject,
        ))
    });
    report.summary.errors = report.errors.len();
    report.summary.findings = report.findings.len();
    for f in &report.findings {
        *report.summary.by_kind.entry(f.kind.clone()).or_default() += 1;
    }
    report
}

fn read_file(
    name: &str,
    text: &str,
    report: &mut DockerReport,
    daemons: &mut Vec<(Daemon, String, String)>,
) {
    let trimmed = text.trim_start();
    // `[Unit]` starts a systemd unit, not a JSON array.
    let unit = trimmed.starts_with("[Unit]") || trimmed.starts_with("[Service]");
    if !unit && (trimmed.starts_with('{') || trimmed.starts_with('[')) {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(items)) => inspect(name, text, &items, report),
            Ok(object @ Value::Object(_)) if object.get("HostConfig").is_some() => {
                inspect(name, text, std::slice::from_ref(&object), report)
            }
            Ok(Value::Object(settings)) => {
                report.summary.daemon_configs += 1;
                daemons.push((daemon_json(&settings), name.to_owned(), format!("{name}:1")));
            }
            Ok(_) => report.errors.push(format!(
                "{name}: neither daemon.json nor docker inspect output"
            )),
            Err(e) => report
                .errors
                .push(format!("{name}:{}: invalid JSON: {e}", e.line())),
        }
        return;
    }
    let mut found = false;
    for (line_no, command) in command_lines(text) {
        found = true;
        report.summary.daemon_configs += 1;
        daemons.push((
            dockerd_flags(&command),
            name.to_owned(),
            format!("{name}:{line_no}"),
        ));
    }
    if !found {
        report.errors.push(format!(
            "{name}: no dockerd command line, daemon.json or docker inspect output found"
        ));
    }
}

fn daemon_json(settings: &serde_json::Map<String, Value>) -> Daemon {
    let strings = |key: &str| -> Vec<String> {
        settings
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let flag = |key: &str| settings.get(key).and_then(Value::as_bool).unwrap_or(false);
    Daemon {
        hosts: strings("hosts"),
        tls: flag("tls"),
        tlsverify: flag("tlsverify"),
        debug: if flag("debug") {
            Some("\"debug\": true".to_owned())
        } else if settings.get("log-level").and_then(Value::as_str) == Some("debug") {
            Some("\"log-level\": \"debug\"".to_owned())
        } else {
            None
        },
        authz_plugins: strings("authorization-plugins"),
    }
}

/// dockerd invocations in a text: a systemd unit (the last `ExecStart=` wins, an empty one
/// resets, `\` continues a line), `ps` output, or a command line. (line, words after dockerd).
fn command_lines(text: &str) -> Vec<(usize, Vec<String>)> {
    let mut joined: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let (start, mut acc) = pending.take().unwrap_or((i + 1, String::new()));
        let body = line.trim_end();
        if let Some(head) = body.strip_suffix('\\') {
            acc.push_str(head);
            acc.push(' ');
            pending = Some((start, acc));
        } else {
            acc.push_str(body);
            joined.push((start, acc));
        }
    }
    if let Some(rest) = pending {
        joined.push(rest);
    }
    let mut commands = Vec::new();
    let mut exec_start: Option<(usize, Vec<String>)> = None;
    let mut unit = false;
    for (line, content) in joined {
        let content = content.trim();
        if let Some(value) = content.strip_prefix("ExecStart=") {
            unit = true;
            // An empty ExecStart= clears the ones before it (drop-in overrides).
            exec_start = dockerd_words(value).map(|words| (line, words));
            continue;
        }
        if content.starts_with('#') || content.starts_with(';') {
            continue;
        }
        if let Some(words) = dockerd_words(content) {
            commands.push((line, words));
        }
    }
    if unit {
        // In a unit only the effective ExecStart counts.
        commands.retain(|_| false);
        commands.extend(exec_start);
    }
    commands
}

/// The words after `dockerd` on a line that runs it.
fn dockerd_words(line: &str) -> Option<Vec<String>> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.ends_with("/dockerd") || *w == "dockerd")?;
    // dockerd must be what runs (after `ps` columns or a wrapper), not the argument of another
    // program (`grep dockerd`, `systemctl status dockerd`).
    const NOT_RUNNING: &[&str] = &[
        "grep",
        "egrep",
        "fgrep",
        "pgrep",
        "pkill",
        "pidof",
        "less",
        "more",
        "cat",
        "tail",
        "head",
        "vi",
        "vim",
        "nano",
        "man",
        "which",
        "whereis",
        "type",
        "systemctl",
        "journalctl",
        "strace",
        "ltrace",
        "gdb",
        "kill",
        "killall",
        "ls",
        "file",
    ];
    let runs = words[..at].iter().all(|w| {
        let program = w.rsplit('/').next().unwrap_or(w);
        !NOT_RUNNING.contains(&program)
    });
    if !runs {
        return None;
    }
    Some(
        words[at + 1..]
            .iter()
            .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_owned())
            .collect(),
    )
}

fn dockerd_flags(words: &[String]) -> Daemon {
    let mut daemon = Daemon::default();
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        let (flag, inline) = match word.split_once('=') {
            Some((f, v)) if f.starts_with('-') => (f, Some(v.to_owned())),
            _ => (word, None),
        };
        let mut value = || -> Option<String> {
            inline.clone().or_else(|| {
                i += 1;
                words.get(i).cloned()
            })
        };
        match flag {
            "-H" | "--host" => daemon.hosts.extend(value()),
            "--tls" => daemon.tls = inline.as_deref() != Some("false"),
            "--tlsverify" => daemon.tlsverify = inline.as_deref() != Some("false"),
            "-D" | "--debug" => {
                daemon.debug = (inline.as_deref() != Some("false")).then(|| word.to_owned())
            }
            "-l" | "--log-level" if value().as_deref() == Some("debug") => {
                daemon.debug = Some(format!("{flag} debug"));
            }
            "--authorization-plugin" => daemon.authz_plugins.extend(value()),
            _ => {}
        }
        i += 1;
    }
    daemon
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[');
    host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("::1")
}

fn assess_daemon(daemon: &Daemon, file: &str, evidence: &str, report: &mut DockerReport) {
    let mut push = |kind: &str, severity: Severity, message: String| {
        report.findings.push(DockerFinding {
            kind: kind.to_owned(),
            severity,
            message,
            subject: format!("dockerd ({file})"),
            evidence: evidence.to_owned(),
        });
    };
    // dockerd reads a host without a scheme (`-H 0.0.0.0:2375`, `-H :2375`) as TCP.
    let tcp: Vec<&str> = daemon
        .hosts
        .iter()
        .filter_map(|h| {
            h.strip_prefix("tcp://")
                .or_else(|| (!h.contains("://") && h.contains(':')).then_some(h.as_str()))
        })
        .collect();
    for address in &tcp {
        let everywhere = address.is_empty()
            || address.starts_with(':')
            || address.starts_with("0.0.0.0")
            || address.starts_with("[::]");
        let loopback = is_loopback(address);
        if daemon.tlsverify {
            continue;
        }
        if daemon.tls {
            push(
                "tls_without_verify",
                Severity::High,
                format!(
                    "dockerd listens on tcp://{address} with TLS but without --tlsverify: any client that can connect controls the daemon (and every container's secrets)"
                ),
            );
        } else {
            let severity = if loopback {
                Severity::High
            } else {
                Severity::Critical
            };
            let reach = if everywhere {
                "on every interface"
            } else if loopback {
                "on loopback (every local user and container with host networking)"
            } else {
                "on the network"
            };
            push(
                "tcp_without_tls",
                severity,
                format!(
                    "dockerd listens on tcp://{address} {reach} without TLS: anyone who reaches it is root on the host and reads every container's environment, logs and files"
                ),
            );
        }
    }
    if !tcp.is_empty() && daemon.authz_plugins.is_empty() {
        let listeners: Vec<String> = tcp.iter().map(|a| format!("tcp://{a}")).collect();
        push(
            "no_authz_plugin",
            Severity::Low,
            format!(
                "no AuthZ plugin on {}: every API call is allowed and no record names the caller (credwatch docker-proxy can)",
                listeners.join(", ")
            ),
        );
    }
    if let Some(setting) = &daemon.debug {
        push(
            "debug_logging",
            Severity::Info,
            format!(
                "debug logging is on ({setting}): dockerd logs each API call (method and path, without the caller) — credwatch can read them"
            ),
        );
    } else {
        push(
            "api_calls_not_logged",
            Severity::Info,
            "debug logging is off: dockerd does not log API calls, so Docker API access leaves no trace (enable --debug, an AuthZ plugin or credwatch docker-proxy)".to_owned(),
        );
    }
}

const SOCKETS: &[&str] = &[
    "/var/run/docker.sock",
    "/run/docker.sock",
    "/var/run/containerd/containerd.sock",
    "/run/containerd/containerd.sock",
    "/var/run/crio/crio.sock",
];

/// `docker inspect` output: one JSON array of containers. Only names, mounts, privileges and
/// ports are read.
fn inspect(file: &str, text: &str, containers: &[Value], report: &mut DockerReport) {
    for container in containers {
        report.summary.containers += 1;
        let name = container
            .get("Name")
            .and_then(Value::as_str)
            .map(|n| n.trim_start_matches('/').to_owned())
            .or_else(|| {
                container
                    .get("Id")
                    .and_then(Value::as_str)
                    .map(|id| id.chars().take(12).collect())
            })
            .unwrap_or_else(|| "?".to_owned());
        let id = container.get("Id").and_then(Value::as_str).unwrap_or("");
        let line = line_of(text, id);
        let evidence = format!("{file}:{line}");
        let subject = format!("container {name}");
        let mut push = |kind: &str, severity: Severity, message: String| {
            report.findings.push(DockerFinding {
                kind: kind.to_owned(),
                severity,
                message,
                subject: subject.clone(),
                evidence: evidence.clone(),
            });
        };
        let mut sockets: Vec<(String, bool)> = Vec::new();
        for mount in container
            .get("Mounts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let source = mount.get("Source").and_then(Value::as_str).unwrap_or("");
            let rw = mount.get("RW").and_then(Value::as_bool).unwrap_or(true);
            if SOCKETS.contains(&source) {
                sockets.push((source.to_owned(), rw));
            }
        }
        for bind in container
            .pointer("/HostConfig/Binds")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let source = bind.split(':').next().unwrap_or("");
            if SOCKETS.contains(&source) && !sockets.iter().any(|(s, _)| s == source) {
                sockets.push((source.to_owned(), !bind.ends_with(":ro")));
            }
        }
        for (socket, rw) in sockets {
            push(
                "docker_socket_mount",
                Severity::High,
                format!(
                    "container {name} mounts {socket}{}: whoever runs code in it controls the engine and reads every container's environment, logs and files",
                    if rw {
                        ""
                    } else {
                        " read-only (which still allows every API call)"
                    }
                ),
            );
        }
        if container
            .pointer("/HostConfig/Privileged")
            .and_then(Value::as_bool)
            .unwrap_or(false)
        {
            push(
                "privileged_container",
                Severity::High,
                format!(
                    "container {name} is privileged: the host's devices and namespaces are its own"
                ),
            );
        }
        let mut published: Vec<(String, String, String)> = Vec::new();
        for ports in [
            container.pointer("/NetworkSettings/Ports"),
            container.pointer("/HostConfig/PortBindings"),
        ]
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        {
            for (port, bindings) in ports {
                for binding in bindings.as_array().into_iter().flatten() {
                    let host_ip = binding.get("HostIp").and_then(Value::as_str).unwrap_or("");
                    let host_port = binding
                        .get("HostPort")
                        .and_then(Value::as_str)
                        .unwrap_or("");
                    let entry = (port.clone(), host_ip.to_owned(), host_port.to_owned());
                    if !published.contains(&entry) {
                        published.push(entry);
                    }
                }
            }
        }
        for (port, host_ip, host_port) in published {
            let container_port = port.split('/').next().unwrap_or("");
            let docker_port = |p: &str| p == "2375" || p == "2376";
            if !docker_port(container_port) && !docker_port(&host_port) {
                continue;
            }
            let everywhere = matches!(host_ip.as_str(), "" | "0.0.0.0" | "::");
            let plain = container_port == "2375" || host_port == "2375";
            let severity = match (plain, everywhere, is_loopback(&host_ip)) {
                (true, true, _) => Severity::Critical,
                (_, _, true) => Severity::Medium,
                _ => Severity::High,
            };
            let shown_ip = if host_ip.is_empty() {
                "0.0.0.0"
            } else {
                &host_ip
            };
            push(
                "docker_port_published",
                severity,
                format!(
                    "container {name} publishes a Docker API port ({port} on {shown_ip}:{host_port}){}",
                    if plain { ", the plain-text one" } else { "" }
                ),
            );
        }
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    if needle.is_empty() {
        return 1;
    }
    text.find(needle)
        .map(|at| text[..at].matches('\n').count() + 1)
        .unwrap_or(1)
}

pub fn worst(report: &DockerReport) -> Option<Severity> {
    report.findings.iter().map(|f| f.severity).max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_in_units_and_ps_output() {
        let unit = "[Service]\nExecStart=\nExecStart=/usr/bin/dockerd -H fd:// \\\n  -H tcp://0.0.0.0:2375 --debug\n";
        let commands = command_lines(unit);
        assert_eq!(commands.len(), 1);
        let daemon = dockerd_flags(&commands[0].1);
        assert_eq!(daemon.hosts, ["fd://", "tcp://0.0.0.0:2375"]);
        assert_eq!(daemon.debug.as_deref(), Some("--debug"));
        let ps = "  PID ARGS\n  812 /usr/bin/dockerd -H=tcp://127.0.0.1:2375 --tlsverify=false\n  900 grep dockerd\n";
        let aux = "root  812  0.5  1.2 1860000 80000 ?  Ssl  10:00  0:12 /usr/bin/dockerd -H :2375\nroot 901 0.0 0.0 6000 700 pts/0 S+ 10:01 0:00 grep --color=auto dockerd\n";
        let commands = command_lines(aux);
        assert_eq!(commands.len(), 1, "{commands:?}");
        assert_eq!(dockerd_flags(&commands[0].1).hosts, [":2375"]);
        let commands = command_lines(ps);
        assert_eq!(commands.len(), 1, "{commands:?}");
        let daemon = dockerd_flags(&commands[0].1);
        assert_eq!(daemon.hosts, ["tcp://127.0.0.1:2375"]);
        assert!(!daemon.tlsverify);
    }
}
