//! One simulated request and how kube-apiserver writes it: the `audit.k8s.io/v1` Event as one
//! line of compact JSON, written by hand into a reused buffer (no value trees on the hot path).
//!
//! Strings are escaped as Go's `encoding/json` does for the log backend, including its HTML
//! escapes: a `&` in a `requestURI` is written `\u0026`, as in real audit logs.

use std::borrow::Cow;

/// A string that is usually a constant from a table and sometimes built.
pub(crate) type Str = Cow<'static, str>;

/// Microseconds since the Unix epoch.
pub(crate) type Micros = i64;

/// The audit level an event was logged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    Metadata,
    Request,
    RequestResponse,
}

impl Level {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Level::Metadata => "Metadata",
            Level::Request => "Request",
            Level::RequestResponse => "RequestResponse",
        }
    }
}

/// `user` or `impersonatedUser`. An empty username writes `{}` (a request that failed
/// authentication).
#[derive(Debug, Clone, Default)]
pub(crate) struct User {
    pub username: Str,
    pub uid: Option<Str>,
    pub groups: Vec<Str>,
    /// `extra` as raw JSON (an object of string lists).
    pub extra: Option<String>,
}

impl User {
    pub(crate) fn new(username: impl Into<Str>, groups: &[&'static str]) -> User {
        User {
            username: username.into(),
            uid: None,
            groups: groups.iter().map(|g| Cow::Borrowed(*g)).collect(),
            extra: None,
        }
    }

    /// A service account: its three groups and a uid.
    pub(crate) fn service_account(ns: &str, name: &str, uid: u128) -> User {
        User {
            username: Cow::Owned(format!("system:serviceaccount:{ns}:{name}")),
            uid: Some(Cow::Owned(uuid(uid))),
            groups: vec![
                Cow::Borrowed("system:serviceaccounts"),
                Cow::Owned(format!("system:serviceaccounts:{ns}")),
                Cow::Borrowed("system:authenticated"),
            ],
            extra: None,
        }
    }

    /// A kubelet: `system:node:<node>`.
    pub(crate) fn node(node: &str) -> User {
        User::new(
            format!("system:node:{node}"),
            &["system:nodes", "system:authenticated"],
        )
    }

    /// Adds the claims a kubelet-bound (projected) service-account token carries.
    pub(crate) fn bound_to_pod(mut self, pod: &str, pod_uid: u128, node: &str, jti: u128) -> User {
        let mut extra = String::with_capacity(256);
        extra.push_str("{\"authentication.kubernetes.io/credential-id\":[\"JTI=");
        push_uuid(&mut extra, jti);
        extra.push_str("\"],\"authentication.kubernetes.io/node-name\":[");
        push_json_str(&mut extra, node);
        extra.push_str("],\"authentication.kubernetes.io/node-uid\":[\"");
        push_uuid(&mut extra, fold(u128::from(fnv(node)), 0x6e6f6465));
        extra.push_str("\"],\"authentication.kubernetes.io/pod-name\":[");
        push_json_str(&mut extra, pod);
        extra.push_str("],\"authentication.kubernetes.io/pod-uid\":[\"");
        push_uuid(&mut extra, pod_uid);
        extra.push_str("\"]}");
        self.extra = Some(extra);
        self
    }

    /// The anonymous user.
    pub(crate) fn anonymous() -> User {
        User::new("system:anonymous", &["system:unauthenticated"])
    }
}

/// `objectRef`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjRef {
    pub resource: &'static str,
    pub namespace: Option<Str>,
    pub name: Option<Str>,
    /// Empty for the core group.
    pub api_group: &'static str,
    pub api_version: &'static str,
    pub resource_version: Option<u64>,
    pub subresource: Option<&'static str>,
}

impl ObjRef {
    /// `group_version` is `v1` for the core group, else `group/version`.
    pub(crate) fn new(resource: &'static str, group_version: &'static str) -> ObjRef {
        let (api_group, api_version) = match group_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", group_version),
        };
        ObjRef {
            resource,
            api_group,
            api_version,
            ..ObjRef::default()
        }
    }

    pub(crate) fn ns(mut self, ns: impl Into<Str>) -> ObjRef {
        self.namespace = Some(ns.into());
        self
    }

    pub(crate) fn name(mut self, name: impl Into<Str>) -> ObjRef {
        self.name = Some(name.into());
        self
    }

    pub(crate) fn sub(mut self, subresource: &'static str) -> ObjRef {
        self.subresource = Some(subresource);
        self
    }

    pub(crate) fn rv(mut self, rv: u64) -> ObjRef {
        self.resource_version = Some(rv);
        self
    }

    /// The request path of this reference (no query): `/api/v1/namespaces/x/secrets/y`.
    pub(crate) fn path(&self) -> String {
        let mut p = String::with_capacity(96);
        if self.api_group.is_empty() {
            p.push_str("/api/");
        } else {
            p.push_str("/apis/");
            p.push_str(self.api_group);
            p.push('/');
        }
        p.push_str(self.api_version);
        if let Some(ns) = &self.namespace {
            p.push_str("/namespaces/");
            p.push_str(ns);
        }
        p.push('/');
        p.push_str(self.resource);
        if let Some(name) = &self.name {
            p.push('/');
            p.push_str(name);
            if let Some(sub) = self.subresource {
                p.push('/');
                p.push_str(sub);
            }
        }
        p
    }
}

/// One audit event.
#[derive(Debug, Clone)]
pub(crate) struct Ev {
    /// `requestReceivedTimestamp`.
    pub received: Micros,
    /// `stageTimestamp`.
    pub staged: Micros,
    pub audit_id: u128,
    pub level: Level,
    pub stage: &'static str,
    pub uri: Str,
    pub verb: &'static str,
    pub user: User,
    pub impersonated: Option<User>,
    pub ip: [u8; 4],
    pub ua: Str,
    pub obj: Option<ObjRef>,
    pub code: u16,
    /// For failures: (`reason`, `message`).
    pub failure: Option<(&'static str, Str)>,
    pub request_object: Option<String>,
    pub response_object: Option<String>,
    /// `authorization.k8s.io/decision`; `None` leaves the authorization annotations out (a
    /// request that never reached authorization).
    pub decision: Option<&'static str>,
    pub reason: Str,
    /// Further annotations (admission, pod security).
    pub annotations: Vec<(&'static str, Str)>,
}

impl Ev {
    /// A completed, allowed Metadata-level request with status 200; callers set the rest.
    pub(crate) fn new(verb: &'static str, uri: impl Into<Str>, user: User) -> Ev {
        Ev {
            received: 0,
            staged: 0,
            audit_id: 0,
            level: Level::Metadata,
            stage: "ResponseComplete",
            uri: uri.into(),
            verb,
            user,
            impersonated: None,
            ip: [10, 0, 0, 1],
            ua: Cow::Borrowed(""),
            obj: None,
            code: 200,
            failure: None,
            request_object: None,
            response_object: None,
            decision: Some("allow"),
            reason: Cow::Borrowed(""),
            annotations: Vec::new(),
        }
    }

    pub(crate) fn obj(mut self, obj: ObjRef) -> Ev {
        self.obj = Some(obj);
        self
    }

    pub(crate) fn ip(mut self, ip: [u8; 4]) -> Ev {
        self.ip = ip;
        self
    }

    pub(crate) fn ua(mut self, ua: impl Into<Str>) -> Ev {
        self.ua = ua.into();
        self
    }

    pub(crate) fn code(mut self, code: u16) -> Ev {
        self.code = code;
        self
    }

    pub(crate) fn reason(mut self, reason: impl Into<Str>) -> Ev {
        self.reason = reason.into();
        self
    }

    pub(crate) fn stage(mut self, stage: &'static str) -> Ev {
        self.stage = stage;
        self
    }

    pub(crate) fn request(mut self, level: Level, body: String) -> Ev {
        self.level = level;
        self.request_object = Some(body);
        self
    }

    pub(crate) fn response(mut self, body: String) -> Ev {
        self.level = Level::RequestResponse;
        self.response_object = Some(body);
        self
    }

    pub(crate) fn impersonating(mut self, user: User) -> Ev {
        self.impersonated = Some(user);
        self
    }

    pub(crate) fn annotate(mut self, key: &'static str, value: impl Into<Str>) -> Ev {
        self.annotations.push((key, value.into()));
        self
    }

    /// Denied by the authorizer: 403 with the message kube-apiserver writes.
    pub(crate) fn forbidden(mut self) -> Ev {
        let who = if self.user.username.is_empty() {
            "system:anonymous".to_owned()
        } else {
            self.user.username.to_string()
        };
        let message = match &self.obj {
            Some(o) => {
                let what = match o.subresource {
                    Some(sub) => format!("{}/{}", o.resource, sub),
                    None => o.resource.to_owned(),
                };
                let mut m = format!(
                    "{} \"{}\" is forbidden: User \"{who}\" cannot {} resource \"{what}\" in API group \"{}\"",
                    o.resource,
                    o.name.as_deref().unwrap_or(""),
                    self.verb,
                    o.api_group
                );
                match &o.namespace {
                    Some(ns) => m.push_str(&format!(" in the namespace \"{ns}\"")),
                    None => m.push_str(" at the cluster scope"),
                }
                m
            }
            None => format!(
                "forbidden: User \"{who}\" cannot {} path \"{}\"",
                self.verb,
                self.uri.split('?').next().unwrap_or("")
            ),
        };
        self.code = 403;
        self.decision = Some("forbid");
        self.reason = Cow::Borrowed("");
        self.failure = Some(("Forbidden", Cow::Owned(message)));
        self
    }

    /// Failed authentication: 401, no user, logged once at ResponseStarted with no
    /// authorization annotations, as kube-apiserver's failed-authentication audit does.
    pub(crate) fn unauthorized(mut self) -> Ev {
        self.user = User::default();
        self.code = 401;
        self.stage = "ResponseStarted";
        self.decision = None;
        self.failure = Some(("Unauthorized", Cow::Borrowed("Unauthorized")));
        self
    }

    pub(crate) fn failed(mut self, code: u16, reason: &'static str, message: String) -> Ev {
        self.code = code;
        self.failure = Some((reason, Cow::Owned(message)));
        self
    }
}

/// Writes `ev` as kube-apiserver's log backend does (field order included), without newline.
pub(crate) fn write_event(buf: &mut String, ev: &Ev) {
    buf.push_str("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"");
    buf.push_str(ev.level.as_str());
    buf.push_str("\",\"auditID\":\"");
    push_uuid(buf, ev.audit_id);
    buf.push_str("\",\"stage\":\"");
    buf.push_str(ev.stage);
    buf.push_str("\",\"requestURI\":");
    push_json_str(buf, &ev.uri);
    buf.push_str(",\"verb\":\"");
    buf.push_str(ev.verb);
    buf.push_str("\",\"user\":");
    write_user(buf, &ev.user);
    if let Some(imp) = &ev.impersonated {
        buf.push_str(",\"impersonatedUser\":");
        write_user(buf, imp);
    }
    buf.push_str(",\"sourceIPs\":[\"");
    push_ip(buf, ev.ip);
    buf.push_str("\"]");
    if !ev.ua.is_empty() {
        buf.push_str(",\"userAgent\":");
        push_json_str(buf, &ev.ua);
    }
    if let Some(o) = &ev.obj {
        buf.push_str(",\"objectRef\":");
        write_obj(buf, o);
    }
    buf.push_str(",\"responseStatus\":{\"metadata\":{}");
    if let Some((reason, message)) = &ev.failure {
        buf.push_str(",\"status\":\"Failure\",\"message\":");
        push_json_str(buf, message);
        buf.push_str(",\"reason\":\"");
        buf.push_str(reason);
        buf.push('"');
        if let Some(o) = ev.obj.as_ref().filter(|_| ev.code == 403 || ev.code == 404) {
            buf.push_str(",\"details\":{");
            if let Some(name) = &o.name {
                buf.push_str("\"name\":");
                push_json_str(buf, name);
                buf.push(',');
            }
            buf.push_str("\"kind\":\"");
            buf.push_str(o.resource);
            buf.push_str("\"}");
        }
    }
    buf.push_str(",\"code\":");
    push_u64(buf, u64::from(ev.code));
    buf.push('}');
    if let Some(body) = &ev.request_object {
        buf.push_str(",\"requestObject\":");
        buf.push_str(body);
    }
    if let Some(body) = &ev.response_object {
        buf.push_str(",\"responseObject\":");
        buf.push_str(body);
    }
    buf.push_str(",\"requestReceivedTimestamp\":\"");
    push_time(buf, ev.received);
    buf.push_str("\",\"stageTimestamp\":\"");
    push_time(buf, ev.staged);
    buf.push('"');
    if ev.decision.is_some() || !ev.annotations.is_empty() {
        buf.push_str(",\"annotations\":{");
        let mut first = true;
        for (k, v) in annotations(ev) {
            if !first {
                buf.push(',');
            }
            first = false;
            push_json_str(buf, k);
            buf.push(':');
            push_json_str(buf, v);
        }
        buf.push('}');
    }
    buf.push('}');
}

/// The event's annotations in the order the apiserver writes them (sorted keys).
pub(crate) fn annotations(ev: &Ev) -> impl Iterator<Item = (&str, &str)> {
    let decision = ev
        .decision
        .map(|d| ("authorization.k8s.io/decision", d))
        .into_iter()
        .chain(
            ev.decision
                .map(|_| ("authorization.k8s.io/reason", ev.reason.as_ref())),
        );
    decision.chain(ev.annotations.iter().map(|(k, v)| (*k, v.as_ref())))
}

fn write_user(buf: &mut String, u: &User) {
    buf.push('{');
    if !u.username.is_empty() {
        buf.push_str("\"username\":");
        push_json_str(buf, &u.username);
        if let Some(uid) = &u.uid {
            buf.push_str(",\"uid\":");
            push_json_str(buf, uid);
        }
        buf.push_str(",\"groups\":[");
        for (i, g) in u.groups.iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            push_json_str(buf, g);
        }
        buf.push(']');
        if let Some(extra) = &u.extra {
            buf.push_str(",\"extra\":");
            buf.push_str(extra);
        }
    }
    buf.push('}');
}

fn write_obj(buf: &mut String, o: &ObjRef) {
    buf.push_str("{\"resource\":\"");
    buf.push_str(o.resource);
    buf.push('"');
    if let Some(ns) = &o.namespace {
        buf.push_str(",\"namespace\":");
        push_json_str(buf, ns);
    }
    if let Some(name) = &o.name {
        buf.push_str(",\"name\":");
        push_json_str(buf, name);
    }
    if !o.api_group.is_empty() {
        buf.push_str(",\"apiGroup\":\"");
        buf.push_str(o.api_group);
        buf.push('"');
    }
    buf.push_str(",\"apiVersion\":\"");
    buf.push_str(o.api_version);
    buf.push('"');
    if let Some(rv) = o.resource_version {
        buf.push_str(",\"resourceVersion\":\"");
        push_u64(buf, rv);
        buf.push('"');
    }
    if let Some(sub) = o.subresource {
        buf.push_str(",\"subresource\":\"");
        buf.push_str(sub);
        buf.push('"');
    }
    buf.push('}');
}

/// Appends `s` as a JSON string with Go's escaping (`<`, `>`, `&` as `\u003c`, `\u003e`,
/// `\u0026`; U+2028 and U+2029 too).
pub(crate) fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    push_escaped(buf, s, true);
    buf.push('"');
}

/// Bytes that need escaping inside a JSON string: `"`, `\\` and controls; with `html` also
/// `<`, `>`, `&` and the lead byte of U+2028 / U+2029.
const fn escape_table(html: bool) -> [bool; 256] {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = true;
        b += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    if html {
        t[b'<' as usize] = true;
        t[b'>' as usize] = true;
        t[b'&' as usize] = true;
        t[0xe2] = true;
    }
    t
}

static ESCAPE_JSON: [bool; 256] = escape_table(false);
static ESCAPE_GO: [bool; 256] = escape_table(true);

/// Appends the inside of a JSON string. `html` adds Go's HTML escapes; envelopes written by
/// other services (CloudWatch, Azure, Cloud Logging) escape only what JSON requires.
pub(crate) fn push_escaped(buf: &mut String, s: &str, html: bool) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let table = if html { &ESCAPE_GO } else { &ESCAPE_JSON };
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        while i < bytes.len() && !table[usize::from(bytes[i])] {
            i += 1;
        }
        if i == bytes.len() {
            break;
        }
        let b = bytes[i];
        let escape: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            // U+2028 / U+2029 are E2 80 A8 / E2 80 A9; other characters led by E2 pass.
            0xe2 => match (bytes.get(i + 1), bytes.get(i + 2)) {
                (Some(0x80), Some(0xa8)) => "\\u2028",
                (Some(0x80), Some(0xa9)) => "\\u2029",
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => "",
        };
        buf.push_str(&s[start..i]);
        if escape.is_empty() {
            buf.push_str("\\u00");
            buf.push(char::from(HEX[usize::from(b >> 4)]));
            buf.push(char::from(HEX[usize::from(b & 0xf)]));
        } else {
            buf.push_str(escape);
        }
        i += if b == 0xe2 { 3 } else { 1 };
        start = i;
    }
    buf.push_str(&s[start..]);
}

/// Appends JSON text this module wrote (which holds no raw control characters but the line
/// end) as the inside of a JSON string, as an envelope embeds a log line: a vectorized scan for
/// the three bytes that need escaping.
pub(crate) fn push_embedded(buf: &mut String, json: &str) {
    let bytes = json.as_bytes();
    let mut start = 0;
    for i in memchr::memchr3_iter(b'"', b'\\', b'\n', bytes) {
        buf.push_str(&json[start..i]);
        buf.push_str(match bytes[i] {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            _ => "\\n",
        });
        start = i + 1;
    }
    buf.push_str(&json[start..]);
}

pub(crate) fn push_u64(buf: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        buf.push(char::from(d));
    }
}

pub(crate) fn push_ip(buf: &mut String, ip: [u8; 4]) {
    for (i, part) in ip.iter().enumerate() {
        if i > 0 {
            buf.push('.');
        }
        push_u64(buf, u64::from(*part));
    }
}

fn push_digits(buf: &mut String, n: u64, width: u32) {
    let mut div = 10u64.pow(width - 1);
    while div > 0 {
        buf.push(char::from(b'0' + ((n / div) % 10) as u8));
        div /= 10;
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
pub(crate) const fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day number.
fn civil_from_days(z: i64) -> (i64, u64, u64) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m as u64, d as u64)
}

/// Appends RFC 3339 UTC with microseconds: `2026-03-02T09:00:00.000000Z`.
pub(crate) fn push_time(buf: &mut String, us: Micros) {
    push_time_digits(buf, us, 6);
}

/// Appends RFC 3339 UTC with `frac` fractional digits (6 or 7; 7 pads with a zero, as Azure).
pub(crate) fn push_time_digits(buf: &mut String, us: Micros, frac: u32) {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000) as u64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u64;
    push_digits(buf, y.max(0) as u64, 4);
    buf.push('-');
    push_digits(buf, m, 2);
    buf.push('-');
    push_digits(buf, d, 2);
    buf.push('T');
    push_digits(buf, sod / 3600, 2);
    buf.push(':');
    push_digits(buf, sod / 60 % 60, 2);
    buf.push(':');
    push_digits(buf, sod % 60, 2);
    buf.push('.');
    push_digits(buf, micros, 6);
    for _ in 6..frac {
        buf.push('0');
    }
    buf.push('Z');
}

/// A random 128-bit value shaped as a version-4 UUID.
pub(crate) fn push_uuid(buf: &mut String, x: u128) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let x = (x & !(0xf << 76) & !(0x3 << 62)) | (0x4 << 76) | (0x2 << 62);
    for i in 0..32 {
        if matches!(i, 8 | 12 | 16 | 20) {
            buf.push('-');
        }
        let nibble = (x >> (124 - 4 * i)) & 0xf;
        buf.push(char::from(HEX[nibble as usize]));
    }
}

pub(crate) fn uuid(x: u128) -> String {
    let mut s = String::with_capacity(36);
    push_uuid(&mut s, x);
    s
}

/// Five characters as a ReplicaSet's pod suffix uses (no vowels, no confusable digits).
pub(crate) fn pod_suffix(mut x: u64) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut s = String::with_capacity(5);
    for _ in 0..5 {
        s.push(char::from(ALPHABET[(x % ALPHABET.len() as u64) as usize]));
        x /= ALPHABET.len() as u64;
    }
    s
}

/// FNV-1a of a string: a stable number for a name (a node's uid, a stream's id).
pub(crate) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Mixes two values into a third (SplitMix64 finalizer on each half), for ids derived from
/// others without drawing from a generator.
pub(crate) fn fold(x: u128, salt: u64) -> u128 {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let (a, b) = ((x >> 64) as u64, x as u64);
    let hi = mix(a ^ mix(b ^ salt));
    let lo = mix(b ^ hi.rotate_left(17) ^ salt);
    (u128::from(hi) << 64) | u128::from(lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_match_jiff() {
        let cases: [Micros; 5] = [
            0,
            1_772_442_000_000_000,
            1_772_442_000_123_456,
            951_782_400_000_001, // 2000-02-29
            4_102_444_799_999_999,
        ];
        for us in cases {
            let mut mine = String::new();
            push_time(&mut mine, us);
            let want = jiff::Timestamp::from_microsecond(us)
                .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string())
                .unwrap_or_default();
            assert_eq!(mine, want, "{us}");
        }
        assert_eq!(days_from_civil(2026, 3, 2) * 86_400, 1_772_409_600);
    }

    #[test]
    fn escaping() {
        let cases = [
            ("plain", true, "plain"),
            ("a&b<c>", true, "a\\u0026b\\u003cc\\u003e"),
            ("a&b", false, "a&b"),
            ("q\"\\\n\u{1}", false, "q\\\"\\\\\\n\\u0001"),
            ("x\u{2028}y", true, "x\\u2028y"),
            ("é€", true, "é€"),
        ];
        for (input, html, want) in cases {
            let mut out = String::new();
            push_escaped(&mut out, input, html);
            assert_eq!(out, want, "{input:?}");
            let back: String = serde_json::from_str(&format!("\"{out}\"")).unwrap_or_default();
            assert_eq!(back, input);
        }
    }

    #[test]
    fn embedding() {
        let mut event = String::new();
        push_json_str(&mut event, "a\"b\\c&d\ne\u{1}");
        let mut embedded = String::from("\"");
        push_embedded(&mut embedded, &event);
        embedded.push('"');
        let back: String = serde_json::from_str(&embedded).unwrap_or_default();
        assert_eq!(back, event);
    }

    #[test]
    fn uuids_are_v4_shaped() {
        let id = uuid(u128::MAX);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
    }
}
