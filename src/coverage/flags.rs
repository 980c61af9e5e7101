//! kube-apiserver's audit flags, from a command line or a static pod manifest: is there an
//! audit log at all, how long is it kept, and what the webhook backend drops under load.

use std::collections::BTreeMap;

use super::analysis::PolicyFinding;
use crate::findings::Severity;
use crate::rules::yaml::{self, Node};

/// The flags as given, `--name` → value (`true` for a bare flag).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApiserverFlags {
    pub flags: BTreeMap<String, String>,
    /// Where they came from, for evidence.
    pub source: String,
}

/// Reads flags from a manifest file (a Pod whose container runs kube-apiserver), a file
/// holding a command line, or the command line itself.
pub fn load(arg: &str) -> Result<ApiserverFlags, String> {
    let path = std::path::Path::new(arg);
    if path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{arg}: {e}"))?;
        let args = if text.contains("kind:") || text.trim_start().starts_with('{') {
            manifest_args(arg, &text)?
        } else {
            split_command_line(&text)
        };
        return Ok(parse(&args, arg));
    }
    Ok(parse(&split_command_line(arg), "--apiserver"))
}

fn manifest_args(file: &str, text: &str) -> Result<Vec<String>, String> {
    let documents =
        yaml::parse_documents(text).map_err(|e| format!("{file}:{}: {}", e.line, e.message))?;
    for doc in &documents {
        let containers = doc
            .get("spec")
            .and_then(|s| s.get("containers"))
            .map(|c| match &c.value {
                yaml::Value::Seq(items) => items.clone(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        for c in containers {
            let list = |key: &str| -> Vec<String> {
                match c.get(key).map(|n| &n.value) {
                    Some(yaml::Value::Seq(items)) => items
                        .iter()
                        .filter_map(Node::as_str)
                        .map(str::to_owned)
                        .collect(),
                    _ => Vec::new(),
                }
            };
            let mut args = list("command");
            args.extend(list("args"));
            if args.iter().any(|a| a.contains("kube-apiserver")) {
                return Ok(args);
            }
        }
    }
    Err(format!(
        "{file}: no container running kube-apiserver in this manifest"
    ))
}

/// Splits on whitespace, keeping quoted runs together (enough for flags copied from `ps`).
fn split_command_line(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() || c == '\\' => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (_, c) => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn parse(args: &[String], source: &str) -> ApiserverFlags {
    let mut flags = BTreeMap::new();
    let mut i = 0;
    while i < args.len() {
        if let Some(flag) = args[i].strip_prefix("--") {
            match flag.split_once('=') {
                Some((k, v)) => {
                    flags.insert(k.to_owned(), v.to_owned());
                }
                None => {
                    let value = args.get(i + 1).filter(|v| !v.starts_with("--"));
                    flags.insert(
                        flag.to_owned(),
                        value.cloned().unwrap_or_else(|| "true".to_owned()),
                    );
                    if value.is_some() {
                        i += 1;
                    }
                }
            }
        }
        i += 1;
    }
    ApiserverFlags {
        flags,
        source: source.to_owned(),
    }
}

impl ApiserverFlags {
    fn get(&self, name: &str) -> Option<&str> {
        self.flags.get(name).map(String::as_str)
    }

    fn number(&self, name: &str) -> Option<u64> {
        self.get(name).and_then(|v| v.parse().ok())
    }

    /// `--audit-log-maxage` in days, when set.
    pub fn retention_days(&self) -> Option<u32> {
        self.number("audit-log-maxage")
            .map(|d| d.min(u64::from(u32::MAX)) as u32)
    }

    /// Findings about the flags; `event_rate` is the observed audit events per second, when
    /// known, to check the webhook's throughput against.
    pub fn findings(&self, event_rate: Option<f64>) -> Vec<PolicyFinding> {
        let mut out = Vec::new();
        let mut push = |kind: &str, severity, message: String, fix: &str, cis: Option<&str>| {
            out.push(PolicyFinding {
                kind: kind.to_owned(),
                severity,
                message,
                fix: fix.to_owned(),
                evidence: self.source.clone(),
                rule: None,
                probes: Vec::new(),
                cis: cis.map(str::to_owned),
            });
        };
        if self.get("audit-policy-file").is_none() {
            push(
                "no_audit_policy",
                Severity::Critical,
                "--audit-policy-file is not set: kube-apiserver audits nothing".to_owned(),
                "set --audit-policy-file to a policy that logs credential access at Metadata",
                Some("3.2.1"),
            );
        }
        let log_path = self.get("audit-log-path");
        let webhook = self.get("audit-webhook-config-file");
        if log_path.is_none() && webhook.is_none() {
            push(
                "no_audit_log",
                Severity::Critical,
                "neither --audit-log-path nor --audit-webhook-config-file is set: audit events go nowhere".to_owned(),
                "set --audit-log-path (and ship the file), or configure a webhook backend",
                Some("1.2.16"),
            );
        }
        if let Some(path) = log_path {
            if path == "-" {
                push(
                    "retention",
                    Severity::Low,
                    "--audit-log-path is `-`: events go to stdout, kept only as long as the container runtime keeps the apiserver's log (often 50 MiB)".to_owned(),
                    "write to a file with maxage/maxbackup/maxsize set, or ship stdout off the node",
                    Some("1.2.16"),
                );
            }
            for (flag, minimum, severity, cis, what) in [
                (
                    "audit-log-maxage",
                    30,
                    Severity::Medium,
                    "1.2.17",
                    "days of audit log kept",
                ),
                (
                    "audit-log-maxbackup",
                    10,
                    Severity::Low,
                    "1.2.18",
                    "rotated audit log files kept",
                ),
                (
                    "audit-log-maxsize",
                    100,
                    Severity::Low,
                    "1.2.19",
                    "MB before the audit log rotates",
                ),
            ] {
                match self.number(flag) {
                    Some(v) if v >= minimum => {}
                    Some(v) => push(
                        "retention",
                        severity,
                        format!(
                            "--{flag} is {v}: fewer {what} than the {minimum} CIS {cis} asks for"
                        ),
                        &format!("set --{flag}={minimum} or more"),
                        Some(cis),
                    ),
                    None => push(
                        "retention",
                        severity,
                        format!(
                            "--{flag} is not set ({what}; CIS {cis} asks for {minimum} or more)"
                        ),
                        &format!("set --{flag}={minimum} or more"),
                        Some(cis),
                    ),
                }
            }
            if self.get("audit-log-format") == Some("legacy") {
                push(
                    "hygiene",
                    Severity::Low,
                    "--audit-log-format=legacy writes text lines, not JSON events: most tools (credwatch included) read only JSON".to_owned(),
                    "use --audit-log-format=json (the default)",
                    None,
                );
            }
            if self.get("audit-log-truncate-enabled") == Some("true") {
                let size = self
                    .number("audit-log-truncate-max-event-size")
                    .unwrap_or(102_400);
                push(
                    "truncation",
                    Severity::Info,
                    format!(
                        "audit log events over {size} bytes lose their request and response bodies (--audit-log-truncate-enabled)"
                    ),
                    "expected with RequestResponse policies; make sure the Metadata of such events is enough",
                    None,
                );
            }
        }
        if webhook.is_some() {
            let mode = self.get("audit-webhook-mode").unwrap_or("batch");
            match mode {
                "blocking-strict" => push(
                    "availability",
                    Severity::Medium,
                    "--audit-webhook-mode=blocking-strict: a failing webhook fails API requests (an availability risk)".to_owned(),
                    "use batch mode with a buffer sized for peaks, unless losing no event is worth an outage",
                    None,
                ),
                "batch" => {
                    let buffer = self.number("audit-webhook-batch-buffer-size").unwrap_or(10_000);
                    let max_size = self.number("audit-webhook-batch-max-size").unwrap_or(400);
                    let qps: f64 = self
                        .get("audit-webhook-batch-throttle-qps")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(10.0);
                    let throttled = self.get("audit-webhook-batch-throttle-enable") != Some("false");
                    let capacity = if throttled { qps * max_size as f64 } else { f64::INFINITY };
                    match event_rate {
                        Some(rate) if rate > capacity => push(
                            "dropped_events",
                            Severity::High,
                            format!(
                                "the webhook sends at most {capacity:.0} events/s ({qps} batches/s of {max_size}) but {rate:.0} events/s are produced: its buffer of {buffer} fills in {:.0} s and events are then dropped",
                                buffer as f64 / (rate - capacity)
                            ),
                            "raise --audit-webhook-batch-throttle-qps or --audit-webhook-batch-max-size, or turn the throttle off",
                            None,
                        ),
                        _ => push(
                            "dropped_events",
                            Severity::Info,
                            format!(
                                "the webhook runs in batch mode: when its buffer ({buffer} events) is full, events are dropped (throughput {})",
                                if throttled { format!("{capacity:.0} events/s") } else { "unthrottled".to_owned() }
                            ),
                            "watch apiserver_audit_error_total; size the buffer for peaks",
                            None,
                        ),
                    }
                }
                _ => {}
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_and_flags() {
        let f = load("kube-apiserver --audit-policy-file=/etc/k/audit.yaml --audit-log-path /var/log/a.log --audit-log-maxage=7 --profiling").expect("flags");
        assert_eq!(f.get("audit-log-path"), Some("/var/log/a.log"));
        assert_eq!(f.get("profiling"), Some("true"));
        assert_eq!(f.retention_days(), Some(7));
        let kinds: Vec<(String, Option<String>)> = f
            .findings(None)
            .into_iter()
            .map(|x| (x.kind, x.cis))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("retention".to_owned(), Some("1.2.17".to_owned())),
                ("retention".to_owned(), Some("1.2.18".to_owned())),
                ("retention".to_owned(), Some("1.2.19".to_owned())),
            ]
        );
    }
}
