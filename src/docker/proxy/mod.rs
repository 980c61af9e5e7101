//! `credwatch docker-proxy`: a transparent Docker Engine API proxy that records every call in the
//! one event shape with the caller named — on a Unix socket the uid, gid, pid, executable and
//! container or pod of the process that connected (SO_PEERCRED, resolved at connect time), on TCP
//! the client certificate or the source address.
//!
//! Bytes pass through as they arrived: heads unchanged, bodies by their framing, hijacked streams
//! (exec, attach: `101 UPGRADED` or dockerd's raw-stream 200) spliced both ways. The proxy reads
//! only what rules need: the head, and the JSON body of a container create (binds, privileged), an
//! exec create (the command) and a service create/update (secret names), up to [`BODY_LIMIT`];
//! the exec create's response for the exec id. It never reads registry credentials
//! (`X-Registry-Auth`), `/auth` bodies or secret values, and the events it writes pass through the
//! redactor like every event credwatch writes.
//!
//! One thread per connection (two while a stream is spliced), each with a fixed buffer: a slow
//! client stalls only itself, and memory is bounded by `--max-connections`.

pub mod http;
pub mod peer;
pub mod tls;

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;

use self::http::{Framing, HttpError, Reader, Tap};
use self::peer::Peer;
use crate::decode::docker::{self as records, DaemonCall};
use crate::docker::api::ApiCall;
use crate::event::{Decoded, Envelope, Origin, Platform, RawJson, SourceFormat};
use crate::redact::Redactor;
use crate::rules::RuleSet;
use crate::rules::matcher::EventView;
use crate::sinks::events::{EventFormat, EventWriter};

/// Request bodies read for their facts (container create, exec create, service create/update)
/// are JSON of a few KiB; larger ones pass through unread.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// How long a client may take to send a request head, and how long an idle kept-alive
/// connection stays open (Go's HTTP client keeps idle connections 90 s).
const HEAD_TIMEOUT: Duration = Duration::from_secs(120);
/// Exec ids remembered to name the container and command of an exec start.
const EXEC_MEMORY: usize = 4096;
/// Annotation naming the deny rule that refused a call.
pub const DENIED_ANNOTATION: &str = "credwatch.dev/denied-by";
/// Annotation saying why a call passed on to dockerd has no known outcome.
pub const ERROR_ANNOTATION: &str = "credwatch.dev/proxy-error";

/// Where the proxy listens or its daemon is: `unix:PATH` or `tcp:HOST:PORT` (`unix://`,
/// `tcp://` as Docker writes them are accepted too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(String),
}

impl std::str::FromStr for Endpoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let unix = text
            .strip_prefix("unix://")
            .or_else(|| text.strip_prefix("unix:"));
        let tcp = text
            .strip_prefix("tcp://")
            .or_else(|| text.strip_prefix("tcp:"));
        match (unix, tcp) {
            (Some(path), _) if !path.is_empty() => Ok(Endpoint::Unix(PathBuf::from(path))),
            (_, Some(address)) if address.contains(':') => {
                Ok(Endpoint::Tcp(address.trim_end_matches('/').to_owned()))
            }
            _ => Err(format!(
                "`{text}`: expected unix:PATH or tcp:HOST:PORT (e.g. unix:/var/run/docker.sock)"
            )),
        }
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix:{}", path.display()),
            Endpoint::Tcp(address) => write!(f, "tcp:{address}"),
        }
    }
}

impl Endpoint {
    fn connect(&self) -> io::Result<Stream> {
        match self {
            Endpoint::Unix(path) => UnixStream::connect(path).map(Stream::Unix),
            Endpoint::Tcp(address) => {
                let stream = TcpStream::connect(address)?;
                stream.set_nodelay(true)?;
                Ok(Stream::Tcp(stream))
            }
        }
    }
}

/// One side of a relayed connection.
pub enum Stream {
    Unix(UnixStream),
    Tcp(TcpStream),
}

impl Stream {
    pub fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Unix(s) => Stream::Unix(s.try_clone()?),
            Stream::Tcp(s) => Stream::Tcp(s.try_clone()?),
        })
    }

    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.shutdown(how),
            Stream::Tcp(s) => s.shutdown(how),
        }
    }

    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_read_timeout(timeout),
            Stream::Tcp(s) => s.set_read_timeout(timeout),
        }
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Unix(s) => s.set_write_timeout(timeout),
            Stream::Tcp(s) => s.set_write_timeout(timeout),
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.read(buf),
            Stream::Tcp(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Unix(s) => s.write(buf),
            Stream::Tcp(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error("cannot listen on {endpoint}: {source}")]
    Listen { endpoint: String, source: io::Error },
    #[error("{0}")]
    DenyRules(String),
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

pub struct ProxyOptions {
    pub listen: Endpoint,
    pub upstream: Endpoint,
    /// The host name events carry (`credwatch.dev/docker-host`).
    pub host: String,
    /// Calls any of these rules match are refused with 403.
    pub deny: Option<RuleSet>,
    pub max_connections: usize,
    /// Connections one caller (uid, or client address) may hold at once.
    pub max_per_caller: usize,
    /// Server certificate, key and client CA: TCP clients must present a certificate.
    pub tls: Option<tls::TlsFiles>,
}

/// Deny rules decide one call as it arrives: correlations cannot, and a rule for Kubernetes
/// events would never apply.
pub fn check_deny_rules(rules: &RuleSet) -> Result<(), ProxyError> {
    if let Some(c) = rules.correlations.first() {
        return Err(ProxyError::DenyRules(format!(
            "deny rule `{}` is a correlation: a deny rule decides one call as it arrives",
            c.meta.title
        )));
    }
    if let Some(rule) = rules.rules.iter().find(|r| !r.meta.docker) {
        return Err(ProxyError::DenyRules(format!(
            "deny rule `{}` is not for Docker (`logsource: {{product: docker}}`): it would never apply",
            rule.meta.title
        )));
    }
    if rules.rules.is_empty() {
        return Err(ProxyError::DenyRules("no deny rules found".to_owned()));
    }
    Ok(())
}

/// Runs the proxy until the process ends; `on_ready` is called once it listens. Events are
/// written and flushed one at a time, so nothing recorded is lost when the process is stopped.
pub fn run(
    options: ProxyOptions,
    events: Box<dyn Write + Send>,
    redactor: &Redactor,
    on_ready: impl FnOnce(&str),
) -> Result<(), ProxyError> {
    if let Some(deny) = &options.deny {
        check_deny_rules(deny)?;
    }
    let tls = options.tls.as_ref().map(tls::server_config).transpose()?;
    let listen_error = |source| ProxyError::Listen {
        endpoint: options.listen.to_string(),
        source,
    };
    let listener = match &options.listen {
        Endpoint::Unix(path) => {
            remove_stale_socket(path).map_err(listen_error)?;
            Listener::Unix(UnixListener::bind(path).map_err(listen_error)?)
        }
        Endpoint::Tcp(address) => Listener::Tcp(TcpListener::bind(address).map_err(listen_error)?),
    };
    let shared = Shared {
        upstream: options.upstream.clone(),
        host: options.host.clone(),
        deny: options.deny,
        recorder: Mutex::new(Recorder {
            writer: EventWriter::new(events, EventFormat::Jsonl, redactor),
            sequence: 0,
        }),
        recording_failed: AtomicBool::new(false),
        execs: Mutex::new(ExecMemory::default()),
        active: AtomicUsize::new(0),
        per_caller: Mutex::new(HashMap::new()),
    };
    on_ready(&match &listener {
        Listener::Unix(_) => options.listen.to_string(),
        Listener::Tcp(l) => l
            .local_addr()
            .map_or_else(|_| options.listen.to_string(), |a| format!("tcp:{a}")),
    });
    std::thread::scope(|scope| {
        loop {
            let accepted = match &listener {
                Listener::Unix(l) => l.accept().map(|(s, _)| {
                    let peer = Peer::of_unix(&s);
                    (Stream::Unix(s), peer)
                }),
                Listener::Tcp(l) => l.accept().map(|(s, address)| {
                    let _ = s.set_nodelay(true);
                    (Stream::Tcp(s), Peer::of_address(address))
                }),
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or an aborted handshake: report, breathe, go on.
                    eprintln!("docker-proxy: accept on {}: {e}", options.listen);
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            // One caller (a uid, or an address before any certificate is seen) may not take
            // every slot.
            let caller = match (peer.uid, &peer.source_ip) {
                (Some(uid), _) => format!("uid:{uid}"),
                (None, Some(ip)) => ip.clone(),
                (None, None) => String::new(),
            };
            let held = shared
                .per_caller
                .lock()
                .map(|held| held.get(&caller).copied().unwrap_or(0))
                .unwrap_or(0);
            if held >= options.max_per_caller {
                let mut stream = stream;
                let _ = respond(
                    &mut stream,
                    false,
                    503,
                    "credwatch docker-proxy: too many connections from this caller (--max-per-caller)",
                    false,
                );
                eprintln!(
                    "docker-proxy: refused a connection from {}: it holds {held}",
                    describe(&peer)
                );
                continue;
            }
            if shared.active.load(Ordering::Relaxed) >= options.max_connections {
                let mut stream = stream;
                let _ = respond(
                    &mut stream,
                    false,
                    503,
                    "credwatch docker-proxy: too many connections (--max-connections)",
                    false,
                );
                eprintln!(
                    "docker-proxy: refused a connection from {}: {} connections open",
                    describe(&peer),
                    options.max_connections
                );
                continue;
            }
            shared.active.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut held) = shared.per_caller.lock() {
                *held.entry(caller.clone()).or_insert(0) += 1;
            }
            let shared = &shared;
            let release = move || {
                shared.active.fetch_sub(1, Ordering::Relaxed);
                if let Ok(mut held) = shared.per_caller.lock()
                    && let Some(count) = held.get_mut(&caller)
                {
                    *count = count.saturating_sub(1);
                    if *count == 0 {
                        held.remove(&caller);
                    }
                }
            };
            let release_on_failure = release.clone();
            let tls = tls.clone();
            let spawned = std::thread::Builder::new().spawn_scoped(scope, move || {
                let mut peer = peer;
                let result = match (stream, tls) {
                    (Stream::Tcp(tcp), Some(config)) => tls::accept(tcp, config, &mut peer)
                        .and_then(|plain| serve(shared, plain, &peer)),
                    (stream, _) => serve(shared, stream, &peer),
                };
                if let Err(e) = result
                    && !is_disconnect(&e)
                {
                    eprintln!("docker-proxy: {}: {e}", describe(&peer));
                }
                release();
            });
            if let Err(e) = spawned {
                // The connection was moved into the closure and is closed with it.
                release_on_failure();
                eprintln!("docker-proxy: cannot start a thread for a connection: {e}");
            }
        }
    })
}

enum Listener {
    Unix(UnixListener),
    Tcp(TcpListener),
}

/// A socket file left by a proxy that is gone is replaced; a live one or any other file is not.
fn remove_stale_socket(path: &std::path::Path) -> io::Result<()> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if UnixStream::connect(path).is_ok() {
                return Err(io::Error::new(
                    io::ErrorKind::AddrInUse,
                    "another process is listening on this socket",
                ));
            }
            std::fs::remove_file(path)
        }
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a file that is not a socket is in the way",
        )),
        Err(_) => Ok(()),
    }
}

fn describe(peer: &Peer) -> String {
    match (&peer.username, peer.pid, &peer.source_ip) {
        (Some(user), Some(pid), _) => format!("{user} (pid {pid})"),
        (Some(user), None, Some(ip)) => format!("{user} from {ip}"),
        (_, _, Some(ip)) => ip.clone(),
        (Some(user), None, None) => user.clone(),
        (None, _, None) => "unknown caller".to_owned(),
    }
}

fn is_disconnect(e: &ServeError) -> bool {
    let io = match e {
        ServeError::Io(e) | ServeError::Http(HttpError::Io(e)) => e,
        _ => return false,
    };
    matches!(
        io.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("{0}")]
    Tls(String),
    #[error("the Docker daemon closed the connection without a response")]
    DaemonClosed,
}

struct Shared<'r> {
    upstream: Endpoint,
    host: String,
    deny: Option<RuleSet>,
    recorder: Mutex<Recorder<'r>>,
    recording_failed: AtomicBool,
    execs: Mutex<ExecMemory>,
    active: AtomicUsize,
    /// Open connections per caller key.
    per_caller: Mutex<HashMap<String, usize>>,
}

struct Recorder<'r> {
    writer: EventWriter<'r, Box<dyn Write + Send>>,
    sequence: u64,
}

/// Exec ids to (container, command query), oldest forgotten first.
#[derive(Default)]
struct ExecMemory {
    by_id: HashMap<String, (String, String)>,
    order: VecDeque<String>,
}

impl ExecMemory {
    fn remember(&mut self, id: String, container: String, command: String) {
        if self.order.len() == EXEC_MEMORY
            && let Some(old) = self.order.pop_front()
        {
            self.by_id.remove(&old);
        }
        self.order.push_back(id.clone());
        self.by_id.insert(id, (container, command));
    }
}

/// One API call as it is recorded.
struct Call {
    daemon: DaemonCall,
    /// What the path names, as dockerd routes it.
    classified: Option<ApiCall>,
    /// For an exec create: the container and the command, to name them at the exec's start.
    exec_create: Option<(String, String)>,
    denied_by: Option<String>,
    /// Why the call's outcome is unknown (a connection broke after it was passed on).
    error: Option<String>,
    /// A body whose facts rules need could not be parsed (dockerd's decoder may still accept it).
    body_unreadable: bool,
}

impl Call {
    fn new(shared: &Shared<'_>, peer: &Peer, request: &http::Request) -> Call {
        let mut target = crate::docker::api::canonical_target(&request.target);
        let classified = crate::docker::api::classify(&request.method, &target);
        // An exec start names only the exec: the container and command come from its create.
        if let Some(c) = &classified
            && c.resource == "exec"
            && c.subresource.as_deref() == Some("start")
        {
            let remembered = c.name.as_ref().and_then(|id| {
                shared
                    .execs
                    .lock()
                    .ok()
                    .and_then(|m| m.by_id.get(id).cloned())
            });
            target = records::without_query_keys(&target, &["cmd", "container"]);
            if let Some((container, command)) = remembered {
                let mut extra = format!("container={container}");
                if !command.is_empty() {
                    extra = format!("{extra}&{command}");
                }
                records::append_query(&mut target, &extra);
            }
        }
        Call {
            daemon: DaemonCall {
                time: Some(jiff::Timestamp::now().to_string()),
                method: request.method.clone(),
                target,
                host: Some(shared.host.clone()),
                status: None,
                user: peer.username.clone(),
                source_ip: peer.source_ip.clone(),
                identity: peer.identity,
                facts: Vec::new(),
                stage: None,
            },
            classified,
            exec_create: None,
            denied_by: None,
            error: None,
            body_unreadable: false,
        }
    }

    /// What the request's JSON body tells rules (facts only, no value).
    fn learn_from_body(&mut self, body: &[u8]) {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => self.exec_create = self.daemon.apply_body(&value),
            Err(_) => self.body_unreadable = true,
        }
    }

    fn event(&self, peer: &Peer) -> crate::event::AuditEvent<'static> {
        let mut event = records::event_of_any(&self.daemon);
        event.audit_id = Some(Cow::Owned(audit_id()));
        event.user.uid = peer.uid.map(|u| Cow::Owned(u.to_string()));
        event.user.extra = peer.extra().map(|e| RawJson::new(Cow::Owned(e)));
        if let Some(error) = &self.error {
            event
                .annotations
                .set(Cow::Borrowed(ERROR_ANNOTATION), Cow::Owned(error.clone()));
        }
        if let Some(rule) = &self.denied_by {
            event
                .annotations
                .set(Cow::Borrowed(DENIED_ANNOTATION), Cow::Owned(rule.clone()));
        }
        event
    }
}

fn audit_id() -> String {
    let (a, b) = (fastrand::u64(..), fastrand::u64(..));
    let hex = format!("{a:016x}{b:016x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// The calls whose request body rules need: container create, exec create, service create and
/// update.
fn wants_body(method: &str, classified: Option<&ApiCall>) -> bool {
    method == "POST"
        && classified.is_some_and(|c| {
            matches!(
                (c.resource.as_str(), c.subresource.as_deref(), c.verb),
                ("containers", None, "create")
                    | ("containers", Some("exec"), _)
                    | ("services", None, "create" | "update")
            )
        })
}

impl Shared<'_> {
    /// Writes the call's event and flushes it. A failure stops the proxy from passing further
    /// calls (it answers 503): an unrecorded call is what the proxy exists to prevent.
    fn record(&self, call: &Call, peer: &Peer) {
        let event = call.event(peer);
        let Ok(mut recorder) = self.recorder.lock() else {
            self.recording_failed.store(true, Ordering::Relaxed);
            return;
        };
        recorder.sequence += 1;
        let origin = Origin {
            source: "docker-proxy",
            line: recorder.sequence,
            item: None,
        };
        let envelope = Envelope {
            platform: Platform::Docker,
            cluster: None,
            format: SourceFormat::DockerProxy,
            envelope_time: None,
        };
        let decoded = Decoded {
            event: &event,
            raw: b"",
            envelope: &envelope,
            origin: &origin,
        };
        let _ = recorder.writer.write(&decoded);
        if let Err(e) = recorder.writer.flush()
            && !self.recording_failed.swap(true, Ordering::Relaxed)
        {
            eprintln!("docker-proxy: cannot write events ({e}); refusing further calls");
        }
    }

    /// The title of the first deny rule the call matches.
    fn denied_by(&self, call: &Call, peer: &Peer) -> Option<String> {
        let rules = self.deny.as_ref()?;
        let event = call.event(peer);
        let raw = serde_json::to_vec(&event).unwrap_or_default();
        let view = EventView::from_parts(&event, &raw);
        let mut first = None;
        rules.matches(&view, &mut |i| {
            first.get_or_insert(i);
        });
        first.map(|i| rules.rules[i].meta.title.clone())
    }
}

/// A JSON error as dockerd writes them (`{"message": …}`), which the docker CLI prints as
/// "Error response from daemon: …". A HEAD request gets the head alone.
fn respond(
    out: &mut impl Write,
    head_only: bool,
    status: u16,
    message: &str,
    keep_alive: bool,
) -> io::Result<()> {
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let body = serde_json::json!({ "message": message }).to_string();
    let connection = if keep_alive {
        ""
    } else {
        "Connection: close\r\n"
    };
    write!(
        out,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{connection}\r\n{}",
        body.len(),
        if head_only { "" } else { &body }
    )
}

/// Answers a request that cannot be relayed safely with 400, and ends the connection (nothing
/// after it can be framed).
fn refuse_malformed(out: &mut Stream, e: HttpError) -> Result<(), ServeError> {
    let _ = respond(
        out,
        false,
        400,
        &format!("credwatch docker-proxy: {e}"),
        false,
    );
    Err(e.into())
}

/// Relays one client connection, request after request, until either side closes or a stream
/// is hijacked.
/// Records a call dockerd never answered as a 502 and tells the client so, closing the
/// connection.
fn bad_gateway(
    shared: &Shared<'_>,
    call: &mut Call,
    peer: &Peer,
    to_client: &mut impl Write,
    head_only: bool,
    message: &str,
) -> Result<(), ServeError> {
    call.daemon.status = Some(502);
    shared.record(call, peer);
    respond(to_client, head_only, 502, message, false)?;
    Ok(())
}

fn serve(shared: &Shared<'_>, client: Stream, peer: &Peer) -> Result<(), ServeError> {
    // A client that stops reading holds its own connection only, and not for ever.
    client.set_write_timeout(Some(HEAD_TIMEOUT))?;
    let mut from_client = Reader::new(client.try_clone()?);
    let mut to_client = client;
    let mut upstream: Option<(Reader<Stream>, Stream)> = None;
    loop {
        from_client.inner.set_read_timeout(Some(HEAD_TIMEOUT))?;
        let request = match from_client.read_request() {
            Ok(Some(request)) => request,
            Ok(None) => return Ok(()),
            Err(HttpError::Io(e))
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Ok(());
            }
            Err(e) => return refuse_malformed(&mut to_client, e),
        };
        from_client.inner.set_read_timeout(None)?;
        let framing = match request.framing() {
            Ok(framing) => framing,
            Err(e) => return refuse_malformed(&mut to_client, e),
        };
        let head_only = request.method == "HEAD";
        let mut call = Call::new(shared, peer, &request);
        let wants_body = wants_body(&request.method, call.classified.as_ref());
        // A small sized body is read before the decision, so deny rules see its facts.
        let mut body = None;
        if let (true, Framing::Length(n)) = (wants_body, framing)
            && n <= BODY_LIMIT as u64
        {
            let read = from_client.read_exact_body(n)?;
            call.learn_from_body(&read);
            body = Some(read);
        }
        if shared.recording_failed.load(Ordering::Relaxed) {
            respond(
                &mut to_client,
                head_only,
                503,
                "credwatch docker-proxy cannot record events; calls are refused until it can",
                false,
            )?;
            return Ok(());
        }
        // Deny rules cannot judge a body they cannot see: such calls are refused while rules are
        // in force (the docker CLI sends these bodies sized and small).
        let unjudgeable =
            shared.deny.is_some() && wants_body && (body.is_none() || call.body_unreadable);
        let refusal = if unjudgeable {
            Some("its body could not be inspected: chunked, over 1 MiB or not JSON".to_owned())
        } else {
            shared.denied_by(&call, peer)
        };
        if let Some(rule) = refusal {
            let keep_alive = request.keep_alive() && (framing == Framing::None || body.is_some());
            call.daemon.status = Some(403);
            call.denied_by = Some(rule.clone());
            shared.record(&call, peer);
            respond(
                &mut to_client,
                head_only,
                403,
                &format!("credwatch docker-proxy denied this call (rule: {rule})"),
                keep_alive,
            )?;
            if keep_alive {
                continue;
            }
            return Ok(());
        }
        if upstream.is_none() {
            match shared.upstream.connect() {
                Ok(stream) => upstream = Some((Reader::new(stream.try_clone()?), stream)),
                Err(e) => {
                    let message = format!(
                        "credwatch docker-proxy cannot reach the Docker daemon at {}: {e}",
                        shared.upstream
                    );
                    return bad_gateway(
                        shared,
                        &mut call,
                        peer,
                        &mut to_client,
                        head_only,
                        &message,
                    );
                }
            }
        }
        let Some((from_daemon, to_daemon)) = upstream.as_mut() else {
            return Ok(());
        };
        // From here dockerd may act on the call: whatever happens, it is recorded before the
        // client hears anything (a client that hangs up must not erase its call).
        let exchanged = (|| -> Result<http::Response, ServeError> {
            to_daemon.write_all(&request.headers.raw)?;
            match &body {
                Some(body) => to_daemon.write_all(body)?,
                None => {
                    let mut tap = Tap::new(if wants_body { BODY_LIMIT } else { 0 });
                    from_client.relay_body(to_daemon, framing, &mut tap)?;
                    if let Some(data) = tap.complete() {
                        call.learn_from_body(data);
                    }
                }
            }
            // Interim responses (100 Continue) pass through; 101 is the switch itself.
            loop {
                match from_daemon.read_response()? {
                    Some(r) if (100..200).contains(&r.status) && r.status != 101 => {
                        to_client.write_all(&r.headers.raw)?;
                    }
                    Some(r) => return Ok(r),
                    None => return Err(ServeError::DaemonClosed),
                }
            }
        })();
        let response = match exchanged {
            Ok(response) => response,
            Err(ServeError::DaemonClosed) => {
                return bad_gateway(
                    shared,
                    &mut call,
                    peer,
                    &mut to_client,
                    head_only,
                    "credwatch docker-proxy: the Docker daemon closed the connection without a response",
                );
            }
            Err(e) => {
                call.error = Some(e.to_string());
                shared.record(&call, peer);
                return Err(e);
            }
        };
        call.daemon.status = Some(i64::from(response.status));
        let framing = match response.framing(&request.method) {
            Ok(framing) => framing,
            Err(e) => {
                call.error = Some(e.to_string());
                shared.record(&call, peer);
                return Err(e.into());
            }
        };
        let hijacked = response.status == 101
            || (response.is_raw_stream()
                && framing == Framing::UntilClose
                && request.method == "POST");
        if hijacked {
            call.daemon.stage = Some("ResponseStarted");
        }
        shared.record(&call, peer);
        to_client.write_all(&response.headers.raw)?;
        if hijacked {
            let Some((from_daemon, to_daemon)) = upstream.take() else {
                return Ok(());
            };
            return splice(from_client, to_client, from_daemon, to_daemon).map_err(Into::into);
        }
        let remember_exec = call.exec_create.is_some() && response.status == 201;
        let mut tap = Tap::new(if remember_exec { 64 * 1024 } else { 0 });
        from_daemon.relay_body(&mut to_client, framing, &mut tap)?;
        if let (Some((container, command)), Some(data)) = (call.exec_create.take(), tap.complete())
        {
            let id = serde_json::from_slice::<Value>(data)
                .ok()
                .and_then(|v| v.get("Id").and_then(Value::as_str).map(str::to_owned));
            if let (Some(id), Ok(mut execs)) = (id, shared.execs.lock()) {
                execs.remember(id, container, command);
            }
        }
        if !request.keep_alive() || !response.keep_alive() || framing == Framing::UntilClose {
            return Ok(());
        }
    }
}

/// Passes a hijacked connection's bytes both ways until both directions end: the client's
/// half-close (end of stdin) is passed on; when the daemon's side ends, the client's connection
/// is closed.
fn splice(
    mut from_client: Reader<Stream>,
    mut to_client: Stream,
    mut from_daemon: Reader<Stream>,
    mut to_daemon: Stream,
) -> io::Result<()> {
    to_daemon.write_all(&from_client.take_buffered())?;
    to_client.write_all(&from_daemon.take_buffered())?;
    let client_control = to_client.try_clone()?;
    std::thread::scope(|scope| {
        let upward = scope.spawn(move || {
            let copied = io::copy(&mut from_client.inner, &mut to_daemon);
            let _ = to_daemon.shutdown(Shutdown::Write);
            copied
        });
        let downward = io::copy(&mut from_daemon.inner, &mut to_client);
        // Wakes the upward copy if the client is still connected.
        let _ = client_control.shutdown(Shutdown::Both);
        let upward = upward
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("splice thread failed")));
        downward.and(upward).map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_as_docker_writes_them() {
        let cases: [(&str, Option<Endpoint>); 8] = [
            (
                "unix:/run/p.sock",
                Some(Endpoint::Unix("/run/p.sock".into())),
            ),
            (
                "unix:///var/run/docker.sock",
                Some(Endpoint::Unix("/var/run/docker.sock".into())),
            ),
            (
                "tcp:127.0.0.1:2376",
                Some(Endpoint::Tcp("127.0.0.1:2376".into())),
            ),
            (
                "tcp://0.0.0.0:2375/",
                Some(Endpoint::Tcp("0.0.0.0:2375".into())),
            ),
            ("tcp:[::1]:2376", Some(Endpoint::Tcp("[::1]:2376".into()))),
            ("tcp:localhost", None),
            ("unix:", None),
            ("/var/run/docker.sock", None),
        ];
        for (text, expected) in cases {
            assert_eq!(text.parse::<Endpoint>().ok(), expected, "{text}");
        }
    }

    #[test]
    fn only_bodies_with_facts_are_read() {
        let cases = [
            ("POST", "/v1.41/containers/create?name=a", true),
            ("POST", "/containers/app1/exec", true),
            ("POST", "/v1.41/services/create", true),
            ("POST", "/v1.41/services/s1/update?version=3", true),
            ("POST", "/v1.41/containers/app1/start", false),
            ("PUT", "/v1.41/containers/app1/archive?path=/tmp", false),
            ("POST", "/v1.41/auth", false),
            ("POST", "/v1.41/secrets/create", false),
            ("POST", "/v1.41/images/create?fromImage=x", false),
            ("GET", "/v1.41/containers/create", false),
        ];
        for (method, target, expected) in cases {
            let classified = crate::docker::api::classify(method, target);
            assert_eq!(
                wants_body(method, classified.as_ref()),
                expected,
                "{method} {target}"
            );
        }
    }

    #[test]
    fn exec_memory_is_bounded() {
        let mut memory = ExecMemory::default();
        for i in 0..EXEC_MEMORY + 10 {
            memory.remember(format!("id{i}"), "app".into(), String::new());
        }
        assert_eq!(memory.by_id.len(), EXEC_MEMORY);
        assert!(!memory.by_id.contains_key("id0"));
        assert!(memory.by_id.contains_key(&format!("id{}", EXEC_MEMORY + 9)));
    }

    #[test]
    fn refusals_speak_dockerd_errors() {
        let mut out = Vec::new();
        respond(&mut out, false, 403, "denied (rule: x)", true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        assert!(text.ends_with("\r\n\r\n{\"message\":\"denied (rule: x)\"}"));
        assert!(!text.contains("Connection: close"));
        let mut out = Vec::new();
        respond(&mut out, true, 502, "gone", false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.ends_with("Connection: close\r\n\r\n"),
            "a HEAD answer has no body"
        );
    }

    #[test]
    fn exec_bodies_name_the_command_and_creates_their_binds() {
        let peer = Peer::default();
        let request = |target: &str| http::Request {
            method: "POST".into(),
            target: target.into(),
            http10: false,
            headers: http::Headers::default(),
        };
        let shared_events: Box<dyn Write + Send> = Box::new(Vec::new());
        let redactor = Redactor::with_key([7; 32]);
        let shared = Shared {
            upstream: Endpoint::Unix("/nonexistent".into()),
            host: "h".into(),
            deny: None,
            recorder: Mutex::new(Recorder {
                writer: EventWriter::new(shared_events, EventFormat::Jsonl, &redactor),
                sequence: 0,
            }),
            recording_failed: AtomicBool::new(false),
            execs: Mutex::new(ExecMemory::default()),
            active: AtomicUsize::new(0),
            per_caller: Mutex::new(HashMap::new()),
        };
        let mut exec = Call::new(&shared, &peer, &request("/v1.41/containers/app1/exec"));
        exec.learn_from_body(br#"{"Cmd":["sh","-c","cat /run/secrets/db"],"Env":["X=1"]}"#);
        assert_eq!(
            exec.daemon.target,
            "/v1.41/containers/app1/exec?cmd=sh&cmd=-c&cmd=cat&cmd=/run/secrets/db"
        );
        let (container, command) = exec.exec_create.clone().unwrap();
        shared
            .execs
            .lock()
            .unwrap()
            .remember("e1".into(), container, command);
        let start = Call::new(&shared, &peer, &request("/v1.41/exec/e1/start"));
        assert_eq!(
            start.daemon.target,
            "/v1.41/exec/e1/start?container=app1&cmd=sh&cmd=-c&cmd=cat&cmd=/run/secrets/db"
        );
        // Query pairs the client planted, an encoded path, Go's case-insensitive JSON keys.
        let mut planted = Call::new(
            &shared,
            &peer,
            &request("/v1.41/containers/app1/%65xec?cmd=ls&container=other"),
        );
        assert!(wants_body("POST", planted.classified.as_ref()));
        planted.learn_from_body(br#"{"Cmd":["true"],"cmd":["env"]}"#);
        assert_eq!(planted.daemon.target, "/v1.41/containers/app1/exec?cmd=env");
        let start = Call::new(
            &shared,
            &peer,
            &request("/v1.41/exec/e1/start?container=decoy&cmd=ls"),
        );
        assert!(!start.daemon.target.contains("decoy") && !start.daemon.target.contains("cmd=ls&"));
        let mut lower = Call::new(&shared, &peer, &request("/containers/create"));
        lower.learn_from_body(
            br#"{"hostconfig":{"privileged":true,"binds":["/etc/kubernetes:/k"]}}"#,
        );
        assert_eq!(
            lower.daemon.facts,
            [
                (records::BINDS_ANNOTATION, "/etc/kubernetes".to_owned()),
                (records::PRIVILEGED_ANNOTATION, "true".to_owned())
            ]
        );
        let mut broken = Call::new(&shared, &peer, &request("/containers/create"));
        broken.learn_from_body(b"{\"HostConfig\": {\"Privileged\": true}, \"x\": \"\\ud800\"}");
        assert!(
            broken.body_unreadable,
            "deny rules refuse what they cannot read"
        );
        let mut create = Call::new(&shared, &peer, &request("/containers/create"));
        create.learn_from_body(
            br#"{"Env":["PASSWORD=hunter2"],"HostConfig":{"Binds":["/:/host:ro"],"Mounts":[{"Type":"bind","Source":"/var/run/docker.sock","Target":"/s"},{"Type":"volume","Source":"data"}],"Privileged":true}}"#,
        );
        let event = create.event(&peer);
        let text = serde_json::to_string(&event).unwrap();
        assert!(
            text.contains(r#""credwatch.dev/docker-binds":"/,/var/run/docker.sock""#),
            "{text}"
        );
        assert!(text.contains(r#""credwatch.dev/docker-privileged":"true""#));
        assert!(!text.contains("hunter2"), "env values are never kept");
    }
}
