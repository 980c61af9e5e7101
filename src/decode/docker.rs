//! Docker Engine API activity in the one event shape, from the daemon's own records:
//!
//! - dockerd debug logs, `Calling GET /v1.41/containers/app1/json`, as written under systemd
//!   (`time="…" level=debug msg="Calling …"`), through syslog (`May 10 04:00:00 host
//!   dockerd-current: time=…`), to a terminal (`DEBU[2024-…] Calling …`), in dockerd's JSON log
//!   format (`{"level":"debug","msg":"Calling …","time":"…"}`) and as `journalctl -o json`
//!   records (`MESSAGE`, `_HOSTNAME`, `__REALTIME_TIMESTAMP`);
//! - `docker events --format '{{json .}}'` (exec_create/exec_start with the command, archive-path,
//!   export, commit, push, …).
//!
//! None of these says who called: the events carry no user, and the annotation
//! `credwatch.dev/identity` says so (`none`). The daemon's host, when the record names it, is in
//! `credwatch.dev/docker-host`.

use std::borrow::Cow;

use serde_json::Value;

use super::{Ctx, Decoder, Sink};
use crate::docker::api;
use crate::event::{Annotations, AuditEvent, ObjectRef, ResponseStatus, SourceFormat, UserInfo};

pub const IDENTITY_ANNOTATION: &str = "credwatch.dev/identity";
pub const HOST_ANNOTATION: &str = "credwatch.dev/docker-host";
/// Host paths a created container binds (from an AuthZ record's body), comma-separated.
pub const BINDS_ANNOTATION: &str = "credwatch.dev/docker-binds";
pub const PRIVILEGED_ANNOTATION: &str = "credwatch.dev/docker-privileged";
/// Swarm secrets a created or updated service mounts, by name, comma-separated.
pub const SECRETS_ANNOTATION: &str = "credwatch.dev/docker-secrets";

/// One API call a daemon record shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DaemonCall {
    pub time: Option<String>,
    pub method: String,
    pub target: String,
    pub host: Option<String>,
    pub status: Option<i64>,
    /// Who called, when the source knows: an AuthZ plugin's user, a proxy's client.
    pub user: Option<String>,
    pub source_ip: Option<String>,
    /// How well the caller is known: `none`, `source-address`, `authz-user`, `mtls-subject`.
    pub identity: &'static str,
    /// Facts from the request body that rules need (binds, privileged), never its values.
    pub facts: Vec<(&'static str, String)>,
    /// The audit stage when not `ResponseComplete` (dockerd's `handling … request`, logged
    /// before the call runs, is `RequestReceived`; a hijacked stream is `ResponseStarted`).
    pub stage: Option<&'static str>,
}

impl DaemonCall {
    /// Learns what rules need from the request's JSON body, keeping no value: a create's binds
    /// and privileges, a service's secrets, an exec's command — appended to the target as one
    /// `cmd=` pair per word, as every exec source is written. Returns (container, command
    /// query) for an exec create.
    pub fn apply_body(&mut self, body: &Value) -> Option<(String, String)> {
        self.facts = body_facts(body);
        let c = api::classify(&self.method, &self.target)?;
        if c.resource != "containers" || c.subresource.as_deref() != Some("exec") {
            return None;
        }
        let words: Vec<&str> = json_field(body, "Cmd")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let command = command_query(words);
        // Pairs the client put in the query itself name nothing dockerd runs.
        self.target = without_query_keys(&self.target, &["cmd", "container"]);
        if !command.is_empty() {
            append_query(&mut self.target, &command);
        }
        Some((c.name.unwrap_or_default(), command))
    }
}

/// Appends query pairs to a target (`?` or `&` as needed).
pub fn append_query(target: &mut String, pairs: &str) {
    target.push(if target.contains('?') { '&' } else { '?' });
    target.push_str(pairs);
}

/// The target without the query pairs named `keys`.
pub fn without_query_keys(target: &str, keys: &[&str]) -> String {
    let Some((path, query)) = target.split_once('?') else {
        return target.to_owned();
    };
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or(pair);
            !keys.iter().any(|k| k.eq_ignore_ascii_case(key))
        })
        .collect();
    if kept.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", kept.join("&"))
    }
}

/// dockerd ≥ v28 (`api/server/middleware/debug.go`): `handling GET request` before the call
/// runs, with `request-url` and, for a small JSON POST, `form-data` (secret keys masked by
/// dockerd); `error response for GET request` after a failed one, with its `status`. Other
/// messages are not calls.
fn handled_call(message: &str, field: &dyn Fn(&str) -> Option<String>) -> Option<DaemonCall> {
    let message = message.trim();
    let (method, failed) = if let Some(rest) = message.strip_prefix("handling ") {
        (rest.strip_suffix(" request")?, false)
    } else if let Some(rest) = message.strip_prefix("error response for ") {
        (rest.strip_suffix(" request")?, true)
    } else {
        return None;
    };
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let target = field("request-url").filter(|t| t.starts_with('/'))?;
    let mut call = DaemonCall {
        method: method.to_owned(),
        target,
        ..DaemonCall::default()
    };
    if failed {
        call.status = field("status").and_then(|s| s.trim().parse::<i64>().ok());
    } else {
        call.stage = Some("RequestReceived");
        // Only the form's facts are kept; the form itself is never stored.
        if let Some(form) = field("form-data").and_then(|f| serde_json::from_str::<Value>(&f).ok())
        {
            call.apply_body(&form);
        }
    }
    Some(call)
}

/// `Calling GET /path` → (method, target).
fn calling(message: &str) -> Option<(String, String)> {
    let rest = message.trim().strip_prefix("Calling ")?;
    let (method, target) = rest.split_once(' ')?;
    let target = target.split_whitespace().next()?;
    (method.bytes().all(|b| b.is_ascii_uppercase()) && target.starts_with('/'))
        .then(|| (method.to_owned(), target.to_owned()))
}

/// logfmt pairs (`key=value`, `key="quoted \"value\""`).
fn logfmt(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut rest = text.trim_start();
    while let Some(eq) = rest.find('=') {
        let key = rest[..eq].trim().to_owned();
        if key.is_empty() || key.contains(' ') {
            break;
        }
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let mut out = String::new();
            let mut end = quoted.len();
            let mut chars = quoted.char_indices();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, next)) = chars.next() {
                            out.push(next);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => out.push(c),
                }
            }
            value = out;
            rest = quoted.get(end..).unwrap_or("");
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            value = rest[..end].to_owned();
            rest = &rest[end..];
        }
        pairs.push((key, value));
        rest = rest.trim_start();
    }
    pairs
}

/// A dockerd text line in any of its forms, with a syslog prefix or not.
pub fn parse_text_line(line: &str) -> Option<DaemonCall> {
    let (host, body) = split_syslog(line);
    let body = body.trim();
    // Terminal form: `DEBU[2024-03-01T10:00:00.000000000Z] Calling GET /…`.
    if body.len() > 5
        && body.as_bytes()[4] == b'['
        && body[..4].bytes().all(|b| b.is_ascii_uppercase())
    {
        let close = body.find(']')?;
        let stamp = &body[5..close];
        // `DEBU[0042]` counts seconds since the daemon started: no time.
        let absolute = stamp.contains('-') && stamp.contains('T');
        let time = (absolute && crate::event::normalize_timestamp(stamp).is_some())
            .then(|| stamp.to_owned());
        let rest = &body[close + 1..];
        let mut call = match calling(rest) {
            Some((method, target)) => DaemonCall {
                method,
                target,
                ..DaemonCall::default()
            },
            None => {
                // The message, then its fields after a run of spaces.
                let rest = rest.trim_start();
                let (message, fields) = rest.split_once("  ").unwrap_or((rest, ""));
                let pairs = logfmt(fields);
                handled_call(message, &|k| {
                    pairs
                        .iter()
                        .find(|(key, _)| key == k)
                        .map(|(_, v)| v.clone())
                })?
            }
        };
        call.time = time;
        call.host = host;
        return Some(call);
    }
    if !body.contains("msg=") {
        return None;
    }
    let pairs = logfmt(body);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let message = get("msg")?;
    let mut call = match calling(message) {
        Some((method, target)) => DaemonCall {
            method,
            target,
            ..DaemonCall::default()
        },
        None => handled_call(message, &|k| get(k).map(str::to_owned))?,
    };
    call.time = get("time").map(str::to_owned);
    call.host = host;
    Some(call)
}

/// A dockerd log line that is not an API call (startup, plugins, containerd): under syslog with
/// a dockerd program name, or in the terminal form.
fn is_dockerd_line(line: &str) -> bool {
    let (host, body) = split_syslog(line);
    let body = body.trim_start();
    let terminal = body.len() > 5
        && body.as_bytes()[4] == b'['
        && matches!(
            &body[..4],
            "DEBU" | "INFO" | "WARN" | "ERRO" | "FATA" | "PANI" | "TRAC"
        );
    // dockerd writing to a file or pipe: logrus's text format.
    let logrus = body.starts_with("time=\"") && body.contains(" level=") && body.contains(" msg=");
    host.is_some() || terminal || logrus
}

/// `May 10 04:00:00 host dockerd-current[123]: rest` → (host, rest); other lines unchanged.
fn split_syslog(line: &str) -> (Option<String>, &str) {
    let Some(at) = line.find(" dockerd") else {
        return (None, line);
    };
    let after = &line[at + 1..];
    let Some(colon) = after.find(": ") else {
        return (None, line);
    };
    let program = &after[..colon];
    if program.contains(' ') {
        return (None, line);
    }
    let host = line[..at]
        .rsplit(' ')
        .next()
        .filter(|h| !h.is_empty())
        .map(str::to_owned);
    (host, &after[colon + 2..])
}

/// A JSON record from dockerd (JSON log format), journald (`journalctl -o json`) or
/// `docker events`; `None` when it is none of them.
pub fn parse_json(record: &[u8]) -> Option<Vec<DaemonCall>> {
    // Cheap look before parsing: these keys are what tells the forms apart.
    let text = std::str::from_utf8(record).ok()?;
    if !(text.contains("\"msg\"")
        || text.contains("\"MESSAGE\"")
        || text.contains("\"Actor\"")
        || text.contains("\"RequestMethod\""))
    {
        return None;
    }
    let value: Value = serde_json::from_str(text).ok()?;
    let str_of = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    if let Some(message) = value.get("MESSAGE").and_then(Value::as_str) {
        let mut call = parse_text_line(message)?;
        call.host = call.host.or_else(|| str_of(&value, "_HOSTNAME"));
        if call.time.is_none() {
            // Microseconds since the epoch.
            call.time = value
                .get("__REALTIME_TIMESTAMP")
                .and_then(|t| {
                    t.as_str()
                        .and_then(|s| s.parse::<i64>().ok())
                        .or(t.as_i64())
                })
                .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
                .map(|t| t.to_string());
        }
        return Some(vec![call]);
    }
    if value.get("RequestMethod").is_some() {
        return authz_record(&value).map(|call| vec![call]);
    }
    if let Some(call) = socket_proxy_json(&value) {
        return Some(vec![call]);
    }
    if let Some(message) = value.get("msg").and_then(Value::as_str) {
        let mut call = match calling(message) {
            Some((method, target)) => DaemonCall {
                method,
                target,
                ..DaemonCall::default()
            },
            // dockerd's JSON formatter writes `form-data` as an object, `status` as a number.
            None => handled_call(message, &|k| {
                value.get(k).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })?,
        };
        call.time = str_of(&value, "time");
        return Some(vec![call]);
    }
    docker_event(&value).map(|call| vec![call])
}

/// An AuthZ plugin's request (and response) record — what dockerd sends a plugin, as plugins
/// log it: the user (from the client certificate) and how it was authenticated, the method and
/// URI, the body (base64) and the response status. Headers (`X-Registry-Auth`, `Authorization`)
/// are never read; of the body only facts rules need are kept (binds, privileged).
fn authz_record(value: &Value) -> Option<DaemonCall> {
    let text = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let method = text("RequestMethod")?.to_owned();
    let target = text("RequestUri")
        .or_else(|| text("RequestURI"))?
        .to_owned();
    let user = text("User").map(str::to_owned);
    let mtls = value
        .get("RequestPeerCertificates")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty())
        || text("UserAuthNMethod").is_some_and(|m| m.eq_ignore_ascii_case("TLS"));
    let identity = match (&user, mtls) {
        (Some(_), true) => "mtls-subject",
        (Some(_), false) => "authz-user",
        (None, _) => "none",
    };
    let facts = text("RequestBody")
        .and_then(|b| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.decode(b).ok()
        })
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .map(|body| body_facts(&body))
        .unwrap_or_default();
    Some(DaemonCall {
        time: text("time").or_else(|| text("Time")).map(str::to_owned),
        method,
        target,
        status: value.get("ResponseStatusCode").and_then(Value::as_i64),
        user,
        identity,
        facts,
        ..DaemonCall::default()
    })
}

/// What rules need from a request body, never its values: the host paths a created container
/// binds (`Binds` and bind `Mounts`), whether it is privileged, the secrets (by name) a swarm
/// service mounts.
pub fn body_facts(body: &Value) -> Vec<(&'static str, String)> {
    let mut facts = Vec::new();
    let host_config = json_field(body, "HostConfig");
    let binds = host_config
        .and_then(|h| json_field(h, "Binds"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(|b| b.split(':').next());
    let mounts = host_config
        .and_then(|h| json_field(h, "Mounts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|m| json_field(m, "Type").and_then(Value::as_str) == Some("bind"))
        .filter_map(|m| json_field(m, "Source").and_then(Value::as_str));
    let binds: Vec<&str> = binds.chain(mounts).collect();
    if !binds.is_empty() {
        facts.push((BINDS_ANNOTATION, binds.join(",")));
    }
    if host_config
        .and_then(|h| json_field(h, "Privileged"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
    {
        facts.push((PRIVILEGED_ANNOTATION, "true".to_owned()));
    }
    let secrets: Vec<&str> = json_field(body, "TaskTemplate")
        .and_then(|t| json_field(t, "ContainerSpec"))
        .and_then(|c| json_field(c, "Secrets"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| json_field(s, "SecretName").and_then(Value::as_str))
        .collect();
    if !secrets.is_empty() {
        facts.push((SECRETS_ANNOTATION, secrets.join(",")));
    }
    facts
}

/// A member of a JSON object as dockerd's Go decoder finds it: the name matched without regard
/// to case, the last of several winning (`{"hostconfig":…}` is `HostConfig` to dockerd).
pub fn json_field<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    object
        .as_object()?
        .iter()
        .rfind(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

/// An exec's command as query pairs, one `cmd=` per word, as Kubernetes writes an exec's
/// `command=`: the redactor then sees `-p`, `--password=…` and their values as the arguments
/// they are, and rules read every form of exec alike.
pub fn command_query<'w>(words: impl IntoIterator<Item = &'w str>) -> String {
    words
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(|word| format!("cmd={}", query_encode(word)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query value (unreserved characters and `/` kept).
fn query_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A socket proxy's JSON log line (wollomatic socket-proxy): `{"msg":"allowed request",
/// "method":"GET","URL":"/v1.45/_ping","client":"172.18.0.5:41234"}`.
fn socket_proxy_json(value: &Value) -> Option<DaemonCall> {
    wollomatic_call(|k| value.get(k).and_then(Value::as_str))
}

/// A wollomatic socket-proxy record, JSON or logfmt, by its fields: the verdict (`msg`), the
/// request, and the client's address when it gives one.
fn wollomatic_call<'v>(get: impl Fn(&str) -> Option<&'v str>) -> Option<DaemonCall> {
    let message = get("msg").filter(|m| is_proxy_verdict(m))?;
    let target = get("URL").or_else(|| get("url")).or_else(|| get("path"))?;
    let client = get("client").or_else(|| get("remote_addr"));
    Some(DaemonCall {
        time: get("time").map(str::to_owned),
        method: get("method")?.to_owned(),
        target: target.to_owned(),
        status: message.contains("blocked").then_some(403),
        source_ip: client.map(strip_port).filter(|ip| is_address(ip)),
        identity: if client.is_some() {
            "source-address"
        } else {
            "none"
        },
        ..DaemonCall::default()
    })
}

/// A socket proxy's message about a request it let through or refused (wollomatic:
/// `allowed request`, `blocked request`), not any application's log line.
fn is_proxy_verdict(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("request")
        && (m.contains("allowed") || m.contains("blocked") || m.contains("denied"))
}

/// Something that parses as an IP address (a proxy's `-` or an empty field does not).
fn is_address(text: &str) -> bool {
    text.parse::<std::net::IpAddr>().is_ok()
}

/// `172.18.0.5:41234` → `172.18.0.5`; `[::1]:8080` → `::1`; `::ffff:1.2.3.4:80` → `1.2.3.4`.
fn strip_port(address: &str) -> String {
    let address = address.trim();
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest).to_owned();
    }
    let host = match address.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !host.is_empty() => host,
        _ => address,
    };
    host.strip_prefix("::ffff:").unwrap_or(host).to_owned()
}

/// A socket proxy's text log line: HAProxy's httplog as docker-socket-proxy (Tecnativa) writes
/// it (`172.18.0.5:43344 [29/Nov/2026:10:00:00.123] dockerfrontend dockerbackend/dockersocket
/// 0/0/0/2/2 200 1234 - - ---- 1/1/0/0/0 0/0 "GET /v1.41/containers/json HTTP/1.1"`), or a
/// wollomatic socket-proxy logfmt line (`msg="allowed request" method=GET URL=/v1.45/_ping
/// client=…`).
pub fn parse_socket_proxy_line(line: &str) -> Option<DaemonCall> {
    if let Some(open) = line.find(" [")
        && let Some(quote) = line.find(" \"")
        && quote > open
    {
        let request = line[quote + 2..].trim_end().trim_end_matches('"');
        let mut parts = request.split(' ');
        let (method, target) = (parts.next()?, parts.next()?);
        if !method.bytes().all(|b| b.is_ascii_uppercase()) || !target.starts_with('/') {
            return None;
        }
        let client = line[..open].rsplit(' ').next()?;
        let close = line[open..].find(']')? + open;
        let stamp = &line[open + 2..close];
        let fields: Vec<&str> = line.get(close + 1..quote)?.split_whitespace().collect();
        // HAProxy's httplog, not any access log: `host:port [date] frontend backend/server
        // Tq/Tw/Tc/Tr/Ta status bytes …`.
        let numeric = |t: &str| !t.is_empty() && t.parse::<i64>().is_ok();
        let client_port = client.rsplit_once(':').map(|(_, p)| p);
        let timers: Vec<&str> = fields
            .get(2)
            .map(|t| t.split('/').collect())
            .unwrap_or_default();
        let is_httplog = client_port.is_some_and(numeric)
            && fields.get(1).is_some_and(|b| b.contains('/'))
            && timers.len() >= 4
            && timers.iter().all(|t| numeric(t));
        if !is_httplog {
            return None;
        }
        // frontend backend/server timers status bytes …
        let status = fields.get(3).and_then(|s| s.parse::<i64>().ok());
        return Some(DaemonCall {
            time: haproxy_time(stamp),
            method: method.to_owned(),
            target: target.to_owned(),
            status,
            source_ip: Some(strip_port(client)).filter(|ip| is_address(ip)),
            identity: "source-address",
            ..DaemonCall::default()
        });
    }
    if !line.contains("msg=") || !line.contains("method=") {
        return None;
    }
    let pairs = logfmt(line.trim());
    wollomatic_call(|k| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    })
}

/// HAProxy's `29/Nov/2026:10:00:00.123` (local time, no zone: taken as UTC).
fn haproxy_time(stamp: &str) -> Option<String> {
    let parsed = jiff::civil::DateTime::strptime("%d/%b/%Y:%H:%M:%S%.f", stamp)
        .or_else(|_| jiff::civil::DateTime::strptime("%d/%b/%Y:%H:%M:%S", stamp))
        .ok()?;
    // A civil date-time printed with `Z` is that instant in UTC.
    Some(format!("{parsed}Z"))
}

/// `docker events` records, as the API call that caused each (the events API names the
/// container and, for exec, the command).
fn docker_event(value: &Value) -> Option<DaemonCall> {
    let kind = value.get("Type").and_then(Value::as_str)?;
    let action = value.get("Action").and_then(Value::as_str)?;
    let actor = value.get("Actor")?;
    let attributes = actor.get("Attributes");
    let attribute = |k: &str| attributes.and_then(|a| a.get(k)).and_then(Value::as_str);
    let id = actor.get("ID").and_then(Value::as_str).unwrap_or("");
    let name = attribute("name").filter(|n| !n.is_empty()).unwrap_or(id);
    // Without a name or id there is no object to point at.
    if name.is_empty() {
        return None;
    }
    let (verb_action, detail) = match action.split_once(": ") {
        Some((a, d)) => (a, Some(d)),
        None => (action, None),
    };
    let encode = query_encode;
    let command = command_query(detail);
    let (method, target) = match (kind, verb_action) {
        ("container", "exec_create") => ("POST", format!("/containers/{name}/exec?{command}")),
        ("container", "exec_start") => {
            let exec = attribute("execID").unwrap_or("");
            (
                "POST",
                format!("/exec/{exec}/start?container={name}&{command}"),
            )
        }
        ("container", "archive-path") => (
            "GET",
            format!(
                "/containers/{name}/archive?path={}",
                encode(attribute("path").unwrap_or(""))
            ),
        ),
        ("container", "extract-to-dir") => (
            "PUT",
            format!(
                "/containers/{name}/archive?path={}",
                encode(attribute("path").unwrap_or(""))
            ),
        ),
        ("container", "export") => ("GET", format!("/containers/{name}/export")),
        ("container", "commit") => ("POST", format!("/commit?container={name}")),
        ("container", "attach") => ("POST", format!("/containers/{name}/attach")),
        ("container", "top") => ("GET", format!("/containers/{name}/top")),
        ("container", "create") => ("POST", format!("/containers/create?name={name}")),
        ("container", "start" | "stop" | "kill" | "restart" | "pause" | "unpause") => {
            ("POST", format!("/containers/{name}/{verb_action}"))
        }
        ("container", "destroy") => ("DELETE", format!("/containers/{name}")),
        ("image", "push") => ("POST", format!("/images/{name}/push")),
        ("image", "save") => ("GET", format!("/images/{name}/get")),
        ("image", "pull") => ("POST", format!("/images/create?fromImage={}", encode(name))),
        ("secret", "create") => ("POST", "/secrets/create".to_owned()),
        ("config", "create") => ("POST", "/configs/create".to_owned()),
        ("service", "create") => ("POST", "/services/create".to_owned()),
        ("service", "update") => ("POST", format!("/services/{name}/update")),
        _ => return None,
    };
    let time = value
        .get("timeNano")
        .and_then(Value::as_i64)
        .and_then(|ns| jiff::Timestamp::from_nanosecond(i128::from(ns)).ok())
        .or_else(|| {
            value
                .get("time")
                .and_then(Value::as_i64)
                .and_then(|s| jiff::Timestamp::from_second(s).ok())
        })
        .map(|t| t.to_string());
    Some(DaemonCall {
        time,
        method: method.to_owned(),
        target,
        host: None,
        status: None,
        ..DaemonCall::default()
    })
}

/// The event a call makes: verb and object from the API path, no user (dockerd's records do not
/// say who called), the host when known.
pub fn event_of(call: &DaemonCall) -> Option<AuditEvent<'static>> {
    api::classify(&call.method, &call.target).map(|classified| event_with(call, Some(classified)))
}

/// [`event_of`] for any path, API or not (a proxy records every call it passes): a path outside
/// the Engine API has its method's verb and no object.
pub fn event_of_any(call: &DaemonCall) -> AuditEvent<'static> {
    event_with(call, api::classify(&call.method, &call.target))
}

fn event_with(call: &DaemonCall, classified: Option<api::ApiCall>) -> AuditEvent<'static> {
    let verb = classified
        .as_ref()
        .map_or_else(|| api::method_verb(&call.method), |c| c.verb);
    let identity = if call.identity.is_empty() {
        "none"
    } else {
        call.identity
    };
    let mut annotations = vec![(Cow::Borrowed(IDENTITY_ANNOTATION), Cow::Borrowed(identity))];
    if let Some(host) = &call.host {
        annotations.push((Cow::Borrowed(HOST_ANNOTATION), Cow::Owned(host.clone())));
    }
    for (key, value) in &call.facts {
        annotations.push((Cow::Borrowed(*key), Cow::Owned(value.clone())));
    }
    AuditEvent {
        kind: Some(Cow::Borrowed("Event")),
        api_version: Some(Cow::Borrowed("audit.k8s.io/v1")),
        level: Some(Cow::Borrowed("Metadata")),
        stage: Some(Cow::Borrowed(call.stage.unwrap_or("ResponseComplete"))),
        request_uri: Some(Cow::Owned(call.target.clone())),
        verb: Some(Cow::Borrowed(verb)),
        user: UserInfo {
            username: call.user.clone().map(Cow::Owned),
            ..UserInfo::default()
        },
        source_ips: call.source_ip.clone().map(Cow::Owned).into_iter().collect(),
        object_ref: classified.map(|classified| ObjectRef {
            resource: Some(Cow::Owned(classified.resource)),
            subresource: classified.subresource.map(Cow::Owned),
            name: classified.name.map(Cow::Owned),
            api_version: classified.api_version.map(Cow::Owned),
            ..ObjectRef::default()
        }),
        response_status: call.status.map(|code| ResponseStatus {
            code: Some(code),
            ..ResponseStatus::default()
        }),
        request_received_timestamp: call.time.clone().map(Cow::Owned),
        annotations: Annotations(annotations),
        ..AuditEvent::default()
    }
}

impl Decoder {
    /// A text line from dockerd: an API call becomes an event, any other dockerd line is
    /// skipped (counted); false when the line is not dockerd's.
    pub(super) fn decode_docker_text<S: Sink>(
        &self,
        record: &[u8],
        ctx: &Ctx<'_>,
        sink: &mut S,
    ) -> bool {
        let Ok(text) = std::str::from_utf8(record) else {
            return false;
        };
        if let Some(call) = parse_text_line(text)
            && self.emit_docker(&call, record, ctx, SourceFormat::DockerDaemonLog, sink)
        {
            return true;
        }
        if let Some(call) = parse_socket_proxy_line(text)
            && self.emit_docker(&call, record, ctx, SourceFormat::DockerSocketProxy, sink)
        {
            return true;
        }
        if is_dockerd_line(text) {
            sink.skip(&ctx.origin, super::SkipReason::DockerNonApiLine);
            return true;
        }
        false
    }

    /// A JSON record from dockerd, journald or `docker events`; false when it is none.
    pub(super) fn decode_docker_json<S: Sink>(
        &self,
        record: &[u8],
        ctx: &Ctx<'_>,
        sink: &mut S,
    ) -> bool {
        let Some(calls) = parse_json(record) else {
            return false;
        };
        let has = |key: &[u8]| record.windows(key.len()).any(|w| w == key);
        let format = if has(b"\"Actor\"") {
            SourceFormat::DockerEvents
        } else if has(b"\"RequestMethod\"") {
            SourceFormat::DockerAuthz
        } else if has(b"\"method\"") {
            SourceFormat::DockerSocketProxy
        } else {
            SourceFormat::DockerDaemonLog
        };
        let mut any = false;
        for call in &calls {
            any |= self.emit_docker(call, record, ctx, format, sink);
        }
        any
    }

    fn emit_docker<S: Sink>(
        &self,
        call: &DaemonCall,
        record: &[u8],
        ctx: &Ctx<'_>,
        format: SourceFormat,
        sink: &mut S,
    ) -> bool {
        let Some(event) = event_of(call) else {
            return false;
        };
        self.emit_platform(
            &event,
            record,
            ctx,
            format,
            crate::event::Platform::Docker,
            sink,
        );
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daemon_lines_in_every_form() {
        // (line, method, target, time, host)
        type Case<'a> = (&'a str, &'a str, &'a str, Option<&'a str>, Option<&'a str>);
        let cases: &[Case] = &[
            // Real lines: ../shared/external/frangipanni-dockerd-syslog (MIT).
            (
                r#"May 10 04:00:00 localhost dockerd-current: time="2020-05-10T04:00:00.629849861+10:00" level=debug msg="Calling GET /_ping""#,
                "GET",
                "/_ping",
                Some("2020-05-10T04:00:00.629849861+10:00"),
                Some("localhost"),
            ),
            (
                r#"May 10 04:00:00 localhost dockerd-current: time="2020-05-10T04:00:00.630684502+10:00" level=debug msg="Calling GET /v1.26/containers/json?all=1&filters=%7B%22status%22%3A%7B%22dead%22%3Atrue%7D%7D""#,
                "GET",
                "/v1.26/containers/json?all=1&filters=%7B%22status%22%3A%7B%22dead%22%3Atrue%7D%7D",
                Some("2020-05-10T04:00:00.630684502+10:00"),
                Some("localhost"),
            ),
            (
                r#"time="2024-03-01T10:00:00.123456789Z" level=debug msg="Calling GET /v1.41/containers/app1/json""#,
                "GET",
                "/v1.41/containers/app1/json",
                Some("2024-03-01T10:00:00.123456789Z"),
                None,
            ),
            (
                "Mar 01 10:00:01 node-7 dockerd[812]: time=\"2024-03-01T10:00:01Z\" level=debug msg=\"Calling POST /v1.41/containers/app1/exec\"",
                "POST",
                "/v1.41/containers/app1/exec",
                Some("2024-03-01T10:00:01Z"),
                Some("node-7"),
            ),
            (
                "DEBU[2024-03-01T10:00:02.000000000Z] Calling GET /v1.41/containers/app1/logs?stdout=1",
                "GET",
                "/v1.41/containers/app1/logs?stdout=1",
                Some("2024-03-01T10:00:02.000000000Z"),
                None,
            ),
            // A relative stamp (seconds since start) is no time.
            (
                "DEBU[0042] Calling HEAD /_ping",
                "HEAD",
                "/_ping",
                None,
                None,
            ),
        ];
        for (line, method, target, time, host) in cases {
            let call = parse_text_line(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(
                (
                    call.method.as_str(),
                    call.target.as_str(),
                    call.time.as_deref(),
                    call.host.as_deref()
                ),
                (*method, *target, *time, *host),
                "{line}"
            );
        }
        for not_a_call in [
            r#"May 10 04:00:00 localhost dockerd-current: time="2020-05-10T04:00:00Z" level=debug msg="authorization plugin: {Action=docker.ps, LoginUID=4294967295, PID=1}""#,
            "May 10 04:00:00 localhost systemd: Started Docker Application Container Engine.",
            r#"time="2024-03-01T10:00:00Z" level=info msg="API listen on /run/docker.sock""#,
            "Calling the doctor",
        ] {
            assert!(parse_text_line(not_a_call).is_none(), "{not_a_call}");
        }
    }

    #[test]
    fn dockerd_v28_handling_and_error_lines() {
        // dockerd ≥ v28's debug middleware, as logrus writes it to a file, a terminal, in JSON
        // and through journald. (line, method, target, status, stage, facts)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            Option<i64>,
            Option<&'a str>,
            &'a [(&'a str, &'a str)],
        );
        let cases: &[Case] = &[
            (
                r#"time="2025-06-10T08:15:30.123456789Z" level=debug msg="handling GET request" method=GET module=api request-url=/v1.49/containers/app1/json vars="map[name:app1 version:1.49]""#,
                "GET",
                "/v1.49/containers/app1/json",
                None,
                Some("RequestReceived"),
                &[],
            ),
            (
                r#"time="2025-06-10T08:15:31Z" level=debug msg="handling POST request" form-data="{\"AttachStderr\":true,\"AttachStdout\":true,\"Cmd\":[\"sh\",\"-c\",\"cat /run/secrets/db\"],\"Env\":[\"X=1\"],\"Tty\":false}" method=POST module=api request-url=/v1.49/containers/app1/exec vars="map[name:app1 version:1.49]""#,
                "POST",
                "/v1.49/containers/app1/exec?cmd=sh&cmd=-c&cmd=cat&cmd=/run/secrets/db",
                None,
                Some("RequestReceived"),
                &[],
            ),
            (
                r#"time="2025-06-10T08:15:32Z" level=debug msg="handling POST request" form-data="{\"Env\":[\"PASSWORD=*****\"],\"HostConfig\":{\"Binds\":[\"/var/run/docker.sock:/s\"],\"Privileged\":true},\"Image\":\"alpine\"}" method=POST module=api request-url="/v1.49/containers/create?name=rooted" vars="map[version:1.49]""#,
                "POST",
                "/v1.49/containers/create?name=rooted",
                None,
                Some("RequestReceived"),
                &[
                    (BINDS_ANNOTATION, "/var/run/docker.sock"),
                    (PRIVILEGED_ANNOTATION, "true"),
                ],
            ),
            (
                r#"time="2025-06-10T08:15:33Z" level=debug msg="error response for GET request" error-response="No such container: nope" method=GET module=api request-url=/v1.49/containers/nope/json status=404 vars="map[name:nope version:1.49]""#,
                "GET",
                "/v1.49/containers/nope/json",
                Some(404),
                None,
                &[],
            ),
            (
                "DEBU[2025-06-10T08:15:34.000000000Z] handling GET request                          method=GET module=api request-url=/v1.49/containers/app1/logs?stdout=1 vars=\"map[name:app1 version:1.49]\"",
                "GET",
                "/v1.49/containers/app1/logs?stdout=1",
                None,
                Some("RequestReceived"),
                &[],
            ),
            (
                "DEBU[2025-06-10T08:15:35.000000000Z] error response for GET request                error-response=\"No such container: nope\" method=GET module=api request-url=/v1.49/containers/nope/archive?path=%2Fetc status=404",
                "GET",
                "/v1.49/containers/nope/archive?path=%2Fetc",
                Some(404),
                None,
                &[],
            ),
        ];
        let check = |call: &DaemonCall, case: &Case, what: &str| {
            let (_, method, target, status, stage, facts) = case;
            assert_eq!(
                (
                    call.method.as_str(),
                    call.target.as_str(),
                    call.status,
                    call.stage
                ),
                (*method, *target, *status, *stage),
                "{what}"
            );
            let facts: Vec<(&str, &str)> = facts.to_vec();
            let got: Vec<(&str, &str)> = call.facts.iter().map(|(k, v)| (*k, v.as_str())).collect();
            assert_eq!(got, facts, "{what}");
            assert!(
                !format!("{call:?}").contains("X=1"),
                "form values are never kept"
            );
        };
        for case in cases {
            let call = parse_text_line(case.0).unwrap_or_else(|| panic!("{}", case.0));
            check(&call, case, case.0);
            assert!(call.time.is_some());
            // The same line through journald.
            let journald = serde_json::json!({"MESSAGE": case.0, "_HOSTNAME": "node-9"});
            let call = &parse_json(journald.to_string().as_bytes()).expect("journald")[0];
            check(call, case, case.0);
            assert_eq!(call.host.as_deref(), Some("node-9"));
        }
        // dockerd's JSON formatter: form-data an object, status a number.
        let json: &[(&str, &Case)] = &[
            (
                r#"{"form-data":{"Cmd":["sh","-c","cat /run/secrets/db"],"Env":["X=1"]},"level":"debug","method":"POST","module":"api","msg":"handling POST request","request-url":"/v1.49/containers/app1/exec","time":"2025-06-10T08:15:31Z","vars":{"name":"app1","version":"1.49"}}"#,
                &cases[1],
            ),
            (
                r#"{"error-response":{},"level":"debug","method":"GET","module":"api","msg":"error response for GET request","request-url":"/v1.49/containers/nope/json","status":404,"time":"2025-06-10T08:15:33Z","vars":{"name":"nope","version":"1.49"}}"#,
                &cases[3],
            ),
        ];
        for (record, case) in json {
            let call = &parse_json(record.as_bytes()).expect("dockerd JSON")[0];
            check(call, case, record);
        }
        for not_a_call in [
            r#"time="2025-06-10T08:15:30Z" level=debug msg="handling GET request" method=GET module=api"#,
            r#"time="2025-06-10T08:15:30Z" level=debug msg="handling the shutdown request" request-url=/x"#,
            r#"time="2025-06-10T08:15:30Z" level=info msg="Processing signal 'terminated'""#,
        ] {
            assert!(parse_text_line(not_a_call).is_none(), "{not_a_call}");
        }
    }

    #[test]
    fn json_records_in_every_form() {
        let dockerd = br#"{"level":"debug","msg":"Calling GET /v1.41/containers/app1/json","time":"2024-03-01T10:00:00.000000000Z"}"#;
        let call = &parse_json(dockerd).expect("dockerd JSON")[0];
        assert_eq!(
            (call.method.as_str(), call.target.as_str()),
            ("GET", "/v1.41/containers/app1/json")
        );
        let journal = br#"{"__REALTIME_TIMESTAMP":"1709287200000000","_HOSTNAME":"node-7","_SYSTEMD_UNIT":"docker.service","MESSAGE":"time=\"2024-03-01T10:00:00Z\" level=debug msg=\"Calling GET /v1.41/containers/app1/archive?path=%2Frun%2Fsecrets\""}"#;
        let call = &parse_json(journal).expect("journald")[0];
        assert_eq!(call.host.as_deref(), Some("node-7"));
        assert_eq!(
            call.target,
            "/v1.41/containers/app1/archive?path=%2Frun%2Fsecrets"
        );
        let event = br#"{"status":"exec_start: env","id":"9f2c","from":"local/busybox:1","Type":"container","Action":"exec_start: env","Actor":{"ID":"9f2c","Attributes":{"execID":"77aa","image":"local/busybox:1","name":"app1"}},"scope":"local","time":1709287200,"timeNano":1709287200123456789}"#;
        let call = &parse_json(event).expect("docker events")[0];
        assert_eq!(call.target, "/exec/77aa/start?container=app1&cmd=env");
        assert_eq!(call.time.as_deref(), Some("2024-03-01T10:00:00.123456789Z"));
        let archive = br#"{"Type":"container","Action":"archive-path","Actor":{"ID":"9f2c","Attributes":{"name":"app1","path":"/run/secrets"}},"time":1709287200}"#;
        let e = event_of(&parse_json(archive).expect("archive")[0]).expect("event");
        let object = e.object_ref.expect("object");
        assert_eq!(
            (
                e.verb.as_deref(),
                object.resource.as_deref(),
                object.subresource.as_deref(),
                object.name.as_deref()
            ),
            (
                Some("get"),
                Some("containers"),
                Some("archive"),
                Some("app1")
            )
        );
        assert!(parse_json(br#"{"kind":"Event","verb":"get"}"#).is_none());
    }

    #[test]
    fn authz_records_name_the_caller_and_keep_only_facts() {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(
            r#"{"Image":"busybox","Env":["DB_PASSWORD=CANARY-AUTHZ-9d1e"],"HostConfig":{"Binds":["/var/run/docker.sock:/var/run/docker.sock","/etc:/host/etc:ro"],"Privileged":true}}"#,
        );
        let record = format!(
            r#"{{"User":"ci-runner","UserAuthNMethod":"TLS","RequestMethod":"POST","RequestUri":"/v1.41/containers/create?name=x","RequestBody":"{body}","RequestHeaders":{{"X-Registry-Auth":"c2VjcmV0"}},"RequestPeerCertificates":["MIIB"],"ResponseStatusCode":201}}"#
        );
        let call = &parse_json(record.as_bytes()).expect("authz")[0];
        assert_eq!(call.user.as_deref(), Some("ci-runner"));
        assert_eq!(call.identity, "mtls-subject");
        assert_eq!(call.status, Some(201));
        assert_eq!(
            call.facts,
            [
                (BINDS_ANNOTATION, "/var/run/docker.sock,/etc".to_owned()),
                (PRIVILEGED_ANNOTATION, "true".to_owned())
            ]
        );
        let event = event_of(call).expect("event");
        let shown = serde_json::to_string(&event).expect("json");
        assert!(
            !shown.contains("CANARY-AUTHZ-9d1e") && !shown.contains("c2VjcmV0"),
            "{shown}"
        );
    }

    #[test]
    fn authz_service_bodies_name_their_secrets() {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(
            r#"{"Name":"web","TaskTemplate":{"ContainerSpec":{"Image":"nginx","Secrets":[{"SecretName":"db_password","SecretID":"x1"},{"SecretName":"stripe_key"}]}}}"#,
        );
        let record = format!(
            r#"{{"User":"deployer","RequestMethod":"POST","RequestUri":"/v1.41/services/create","RequestBody":"{body}"}}"#
        );
        let call = &parse_json(record.as_bytes()).expect("authz")[0];
        assert_eq!(call.identity, "authz-user");
        assert_eq!(
            call.facts,
            [(SECRETS_ANNOTATION, "db_password,stripe_key".to_owned())]
        );
    }

    #[test]
    fn socket_proxy_lines() {
        // (line, method, target, source, status, time)
        type Case<'a> = (
            &'a str,
            &'a str,
            &'a str,
            &'a str,
            Option<i64>,
            Option<&'a str>,
        );
        let cases: &[Case] = &[
            (
                r#"172.18.0.5:43344 [29/Nov/2026:10:00:00.123] dockerfrontend dockerbackend/dockersocket 0/0/0/2/2 200 1234 - - ---- 1/1/0/0/0 0/0 "GET /v1.41/containers/json HTTP/1.1""#,
                "GET",
                "/v1.41/containers/json",
                "172.18.0.5",
                Some(200),
                Some("2026-11-29T10:00:00.123Z"),
            ),
            (
                r#"Nov 29 10:00:01 proxy haproxy[7]: ::ffff:172.18.0.9:50000 [29/Nov/2026:10:00:01.000] dockerfrontend dockerfrontend/<NOSRV> 0/-1/-1/-1/0 403 192 - - PR-- 1/1/0/0/0 0/0 "POST /v1.41/containers/app1/exec HTTP/1.1""#,
                "POST",
                "/v1.41/containers/app1/exec",
                "172.18.0.9",
                Some(403),
                Some("2026-11-29T10:00:01Z"),
            ),
            (
                r#"time=2026-11-29T10:00:02.000Z level=INFO msg="allowed request" method=GET URL=/v1.45/containers/app1/logs client=172.18.0.7:41234"#,
                "GET",
                "/v1.45/containers/app1/logs",
                "172.18.0.7",
                None,
                Some("2026-11-29T10:00:02.000Z"),
            ),
            (
                r#"time=2026-11-29T10:00:03.000Z level=WARN msg="blocked request" method=GET URL=/v1.45/containers/app1/archive client=172.18.0.7:41235 reason="method not allowed""#,
                "GET",
                "/v1.45/containers/app1/archive",
                "172.18.0.7",
                Some(403),
                Some("2026-11-29T10:00:03.000Z"),
            ),
        ];
        for (line, method, target, source, status, time) in cases {
            let call = parse_socket_proxy_line(line).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(
                (
                    call.method.as_str(),
                    call.target.as_str(),
                    call.source_ip.as_deref(),
                    call.status,
                    call.time.as_deref(),
                    call.identity
                ),
                (
                    *method,
                    *target,
                    Some(*source),
                    *status,
                    *time,
                    "source-address"
                ),
                "{line}"
            );
        }
        let json = br#"{"time":"2026-11-29T10:00:04Z","level":"INFO","msg":"allowed request","method":"GET","URL":"/v1.45/_ping","client":"[::1]:41234"}"#;
        let call = &parse_json(json).expect("wollomatic JSON")[0];
        assert_eq!(
            (call.target.as_str(), call.source_ip.as_deref()),
            ("/v1.45/_ping", Some("::1"))
        );
        assert!(parse_socket_proxy_line("127.0.0.1 [x] not a request").is_none());
    }
}
