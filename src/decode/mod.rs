//! Decoding: one framed record (a line or a JSON document) into zero or more audit events.
//!
//! The format is recognised by content, record by record. The native Event is tried first and
//! parsed once (the hot path); anything else is parsed again as an envelope and dispatched to the
//! cloud format it belongs to. Envelopes nest (a `log` wrapper around an AKS record whose
//! `properties.log` holds the Event as a string), so dispatch recurses, to a fixed depth.

mod aks;
pub mod docker;
mod eks;
mod gke;

use crate::event::{AuditEvent, Decoded, Envelope, Origin, Platform, SourceFormat};
use serde::Deserialize;
use sonic_rs::{JsonType, JsonValueTrait, LazyValue};
use std::borrow::Cow;
use std::fmt;

/// Envelopes nest at most this deep; deeper records are rejected rather than recursed into.
const MAX_DEPTH: u8 = 6;

/// JSON nesting accepted in one record. The parser recurses per level, so a deeper record could
/// exhaust the stack; no real audit event comes near (serde_json, which redaction uses, stops at
/// 128 too).
pub const MAX_NESTING: usize = 128;

/// Whether brackets nest deeper than `limit` outside strings. Most records have fewer brackets
/// than the limit in all, which a count settles without the byte-by-byte walk (a byte-wide
/// counting loop vectorizes; an iterator over matches pays per bracket).
fn nests_deeper_than(record: &[u8], limit: usize) -> bool {
    let brackets: usize = record
        .chunks(255)
        .map(|c| {
            usize::from(
                c.iter()
                    .fold(0u8, |n, &b| n + u8::from(b == b'{' || b == b'[')),
            )
        })
        .sum::<usize>();
    if brackets <= limit {
        return false;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in record {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Why a record was not decoded. The summary counts by this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// Not JSON and not a recognised text framing.
    NotJson,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// Valid JSON that is no audit event nor a known envelope.
    NotAuditEvent,
    /// An audit event or envelope with a field of the wrong type.
    InvalidField,
    /// A JSON document cut off before its end.
    Incomplete,
    /// Longer than the configured record limit.
    TooLarge,
    /// A file whose content is binary.
    Binary,
    /// Text in an encoding other than UTF-8 (UTF-16).
    Encoding,
    /// The input could not be read to its end (I/O error, truncated compression).
    ReadError,
    /// Envelopes nested deeper than credwatch follows.
    TooDeep,
}

impl RejectReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::NotJson => "not_json",
            RejectReason::InvalidUtf8 => "invalid_utf8",
            RejectReason::NotAuditEvent => "not_audit_event",
            RejectReason::InvalidField => "invalid_field",
            RejectReason::Incomplete => "incomplete",
            RejectReason::TooLarge => "too_large",
            RejectReason::Binary => "binary",
            RejectReason::Encoding => "unsupported_encoding",
            RejectReason::ReadError => "read_error",
            RejectReason::TooDeep => "too_deep",
        }
    }
}

impl fmt::Display for RejectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Records that are understood but hold no audit event, counted rather than rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    /// CloudWatch Logs subscription health check.
    CloudWatchControlMessage,
    /// A CloudWatch log event from another EKS control-plane stream (authenticator, scheduler…).
    EksNonAuditStream,
    /// A batch with no items.
    EmptyBatch,
    /// A dockerd log line that is not an API call (startup, plugins, containerd).
    DockerNonApiLine,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::CloudWatchControlMessage => "cloudwatch_control_message",
            SkipReason::EksNonAuditStream => "eks_non_audit_stream",
            SkipReason::EmptyBatch => "empty_batch",
            SkipReason::DockerNonApiLine => "docker_non_api_line",
        }
    }
}

/// Receives what decoding finds. Generic so the hot path is monomorphized.
pub trait Sink {
    fn event(&mut self, decoded: &Decoded<'_, '_>);
    fn reject(&mut self, origin: &Origin<'_>, reason: RejectReason, detail: &str);
    fn skip(&mut self, origin: &Origin<'_>, reason: SkipReason);
}

/// Decoding settings that hold for a whole run.
#[derive(Debug, Clone, Default)]
pub struct Decoder {
    /// `--cluster`: labels events whose source does not name a cluster.
    pub default_cluster: Option<String>,
}

/// What the enclosing envelopes have said so far about the records inside them.
#[derive(Clone)]
struct Ctx<'c> {
    origin: Origin<'c>,
    cluster: Option<Cow<'c, str>>,
    format: Option<SourceFormat>,
    envelope_time: Option<Cow<'c, str>>,
    depth: u8,
}

impl<'c> Ctx<'c> {
    /// The context for a record nested in this one, in `format`; cloud formats override generic
    /// containers, never the other way round.
    fn nested(&self, format: SourceFormat) -> Ctx<'c> {
        let mut child = self.clone();
        child.depth += 1;
        child.format = match self.format {
            Some(outer) if format.is_generic() || !outer.is_generic() => Some(outer),
            _ => Some(format),
        };
        child
    }

    fn item(mut self, index: usize) -> Self {
        self.origin.item = Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
        self
    }
}

impl Decoder {
    pub fn new(default_cluster: Option<String>) -> Self {
        Decoder { default_cluster }
    }

    /// Decodes one framed record found at `source:line`.
    pub fn decode_record<S: Sink>(&self, record: &[u8], source: &str, line: u64, sink: &mut S) {
        let ctx = Ctx {
            origin: Origin {
                source,
                line,
                item: None,
            },
            cluster: None,
            format: None,
            envelope_time: None,
            depth: 0,
        };
        self.decode_value(record, &ctx, sink);
    }

    fn decode_value<S: Sink>(&self, record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
        if ctx.depth > MAX_DEPTH {
            sink.reject(
                &ctx.origin,
                RejectReason::TooDeep,
                "envelopes nested too deep",
            );
            return;
        }
        if nests_deeper_than(record, MAX_NESTING) {
            let detail = format!("JSON nested more than {MAX_NESTING} levels deep");
            sink.reject(&ctx.origin, RejectReason::TooDeep, &detail);
            return;
        }
        let trimmed = record.trim_ascii();
        match trimmed.first() {
            Some(b'{') => self.decode_object(trimmed, ctx, sink),
            Some(b'[') => self.decode_array(trimmed, ctx, sink),
            Some(b) if b.is_ascii_digit() => self.decode_export_line(trimmed, ctx, sink),
            _ if self.decode_docker_text(trimmed, ctx, sink) => {}
            _ => reject_text(trimmed, ctx, sink),
        }
    }

    fn decode_object<S: Sink>(&self, record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
        // Hot path: a native Event, parsed once into the typed borrowed struct.
        let native_error = match sonic_rs::from_slice::<AuditEvent>(record) {
            Ok(event) if event.looks_like_event() => {
                let format = ctx.format.unwrap_or(SourceFormat::K8sAudit);
                self.emit(&event, record, ctx, format, sink);
                return;
            }
            Ok(_) => None,
            Err(e) => {
                if !e.is_unmatched_type() {
                    let (reason, detail) = classify_json_error(&e, record);
                    sink.reject(&ctx.origin, reason, &detail);
                    return;
                }
                Some(e)
            }
        };
        let wrapper = match sonic_rs::from_slice::<Wrapper>(record) {
            Ok(w) => w,
            // Docker records are tried only once the audit shapes are ruled out, so the cloud
            // envelopes never pay for them.
            Err(_) if self.decode_docker_json(record, ctx, sink) => return,
            Err(e) => {
                // The record is JSON but neither an Event nor an envelope we know in shape.
                let detail = short_error(native_error.as_ref().unwrap_or(&e));
                sink.reject(&ctx.origin, RejectReason::InvalidField, &detail);
                return;
            }
        };
        self.decode_wrapper(&wrapper, record, native_error, ctx, sink);
    }

    fn decode_wrapper<S: Sink>(
        &self,
        w: &Wrapper<'_>,
        record: &[u8],
        native_error: Option<sonic_rs::Error>,
        ctx: &Ctx<'_>,
        sink: &mut S,
    ) {
        let is_event_list = w
            .kind
            .as_ref()
            .is_none_or(|k| k.as_str() == Some("EventList"));
        if let (Some(items), true) = (&w.items, is_event_list) {
            return self.decode_items(items, ctx.nested(SourceFormat::K8sEventList), sink);
        }
        if w.message_type.is_some() || w.log_events.is_some() {
            return eks::decode_subscription(self, w, ctx, sink);
        }
        if let Some(events) = &w.events {
            return eks::decode_filter_output(self, events, ctx, sink);
        }
        if w.message.is_some() && (w.timestamp.is_some() || w.log_stream_name.is_some()) {
            return eks::decode_log_event(self, w, ctx, sink);
        }
        if w.proto_payload.is_some() {
            return gke::decode_log_entry(self, record, ctx, sink);
        }
        if let Some(category) = &w.category {
            return aks::decode_record(self, category, w, ctx, sink);
        }
        if let Some(records) = &w.records {
            // Azure's batch shape; each record says for itself whether it is kube-audit.
            return self.decode_items(records, ctx.nested(SourceFormat::JsonArray), sink);
        }
        if let Some(log) = &w.log {
            return self.decode_embedded(log, ctx.nested(SourceFormat::LogWrapper), sink);
        }
        if self.decode_docker_json(record, ctx, sink) {
            return;
        }
        let keys = describe_keys(record);
        match native_error {
            Some(e) if has_event_shape(record) => {
                let detail = format!(
                    "audit event with a field of the wrong type: {}",
                    short_error(&e)
                );
                sink.reject(&ctx.origin, RejectReason::InvalidField, &detail);
            }
            Some(e) => {
                let detail = format!(
                    "no audit event or known envelope ({keys}); {}",
                    short_error(&e)
                );
                sink.reject(&ctx.origin, RejectReason::NotAuditEvent, &detail);
            }
            None => {
                let detail = format!("no audit event or known envelope ({keys})");
                sink.reject(&ctx.origin, RejectReason::NotAuditEvent, &detail);
            }
        }
    }

    fn decode_array<S: Sink>(&self, record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
        match sonic_rs::from_slice::<LazyValue>(record) {
            Ok(items) => self.decode_items(&items, ctx.nested(SourceFormat::JsonArray), sink),
            Err(e) => {
                let (reason, detail) = classify_json_error(&e, record);
                sink.reject(&ctx.origin, reason, &detail);
            }
        }
    }

    /// Decodes each element of a JSON array as a record of its own.
    fn decode_items<S: Sink>(&self, items: &LazyValue<'_>, ctx: Ctx<'_>, sink: &mut S) {
        for_each_item(items, ctx, "batch items", sink, |value, item_ctx, sink| {
            self.decode_embedded(value, item_ctx, sink)
        });
    }

    /// A record embedded in an envelope, either as a JSON value or as a string holding JSON.
    fn decode_embedded<S: Sink>(&self, value: &LazyValue<'_>, ctx: Ctx<'_>, sink: &mut S) {
        match value.get_type() {
            JsonType::String => match value.as_str() {
                Some(text) => self.decode_value(text.as_bytes(), &ctx, sink),
                None => sink.reject(&ctx.origin, RejectReason::InvalidField, "unreadable string"),
            },
            JsonType::Object | JsonType::Array => {
                let raw = value.as_raw_str();
                self.decode_value(raw.as_bytes(), &ctx, sink)
            }
            other => sink.reject(
                &ctx.origin,
                RejectReason::NotAuditEvent,
                &format!("embedded record is a {other:?}, not an object"),
            ),
        }
    }

    /// CloudWatch export text: `<timestamp> <message>`.
    fn decode_export_line<S: Sink>(&self, record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
        let split = memchr::memchr(b' ', record);
        let (stamp, rest) = match split {
            Some(at) => (&record[..at], record[at + 1..].trim_ascii_start()),
            None => (record, &record[..0]),
        };
        let stamp = std::str::from_utf8(stamp).ok();
        let is_time = stamp.is_some_and(|s| crate::event::normalize_timestamp(s).is_some());
        if !is_time || !rest.starts_with(b"{") {
            // A socket proxy's access line starts with the client's address.
            if self.decode_docker_text(record, ctx, sink) {
                return;
            }
            return reject_text(record, ctx, sink);
        }
        let mut child = ctx.nested(SourceFormat::EksExportText);
        child.envelope_time = stamp.map(|s| Cow::Owned(s.to_owned()));
        self.decode_value(rest, &child, sink);
    }

    /// Hands a decoded event to the sink with its envelope.
    fn emit<S: Sink>(
        &self,
        event: &AuditEvent<'_>,
        raw: &[u8],
        ctx: &Ctx<'_>,
        format: SourceFormat,
        sink: &mut S,
    ) {
        // Events credwatch wrote from Docker records say so when they are read back.
        let platform = match event.annotations.get(docker::IDENTITY_ANNOTATION) {
            Some(_) => Platform::Docker,
            None => Platform::Kubernetes,
        };
        self.emit_platform(event, raw, ctx, format, platform, sink);
    }

    /// Hands a decoded event to the sink with its envelope, on a given platform.
    fn emit_platform<S: Sink>(
        &self,
        event: &AuditEvent<'_>,
        raw: &[u8],
        ctx: &Ctx<'_>,
        format: SourceFormat,
        platform: Platform,
        sink: &mut S,
    ) {
        let prior = event
            .prior_envelope
            .as_ref()
            .and_then(|p| p.cluster.as_deref());
        let cluster = ctx
            .cluster
            .clone()
            .or_else(|| prior.map(Cow::Borrowed))
            .or_else(|| self.default_cluster.as_deref().map(Cow::Borrowed));
        let envelope = Envelope {
            platform,
            cluster,
            format,
            envelope_time: ctx.envelope_time.clone(),
        };
        sink.event(&Decoded {
            event,
            raw,
            envelope: &envelope,
            origin: &ctx.origin,
        });
    }
}

/// Hands each element of a batch to `decode` with its item index; a bad element is reported
/// with that index and the others survive. A syntax error ends the batch, as nothing after it
/// can be found reliably.
fn for_each_item<'v, S: Sink>(
    items: &LazyValue<'v>,
    ctx: Ctx<'_>,
    what: &str,
    sink: &mut S,
    mut decode: impl FnMut(&LazyValue<'v>, Ctx<'_>, &mut S),
) {
    let Some(iter) = items.clone().into_array_iter() else {
        let detail = format!("{what} are not an array");
        return sink.reject(&ctx.origin, RejectReason::InvalidField, &detail);
    };
    let mut seen = 0;
    for (index, item) in iter.enumerate() {
        seen += 1;
        let item_ctx = ctx.clone().item(index);
        match item {
            Ok(value) => decode(&value, item_ctx, sink),
            Err(e) => {
                return sink.reject(&item_ctx.origin, RejectReason::NotJson, &short_error(&e));
            }
        }
    }
    if seen == 0 {
        sink.skip(&ctx.origin, SkipReason::EmptyBatch);
    }
}

/// Every top-level key any envelope uses, parsed lazily; unknown keys are skipped.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct Wrapper<'a> {
    #[serde(borrow, default)]
    kind: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    items: Option<LazyValue<'a>>,
    // CloudWatch Logs (EKS)
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    message_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    log_group: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    log_group_name: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    log_stream: Option<Cow<'a, str>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    log_stream_name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    log_events: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    events: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    message: Option<LazyValue<'a>>,
    #[serde(borrow, default)]
    timestamp: Option<LazyValue<'a>>,
    // Cloud Logging (GKE)
    #[serde(borrow, default)]
    proto_payload: Option<LazyValue<'a>>,
    // Azure diagnostics (AKS)
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    category: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    properties: Option<LazyValue<'a>>,
    #[serde(
        borrow,
        default,
        deserialize_with = "crate::event::opt_str",
        rename = "resourceId"
    )]
    resource_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    records: Option<LazyValue<'a>>,
    #[serde(borrow, default, deserialize_with = "crate::event::opt_str")]
    time: Option<Cow<'a, str>>,
    // Container log collectors and test harnesses
    #[serde(borrow, default)]
    log: Option<LazyValue<'a>>,
}

/// Says what a JSON error means for the user: bad bytes, a cut-off document or bad syntax.
fn classify_json_error(e: &sonic_rs::Error, record: &[u8]) -> (RejectReason, String) {
    if let Err(u) = std::str::from_utf8(record) {
        return (
            RejectReason::InvalidUtf8,
            format!("invalid UTF-8 at byte {}", u.valid_up_to()),
        );
    }
    if e.is_eof() {
        return (
            RejectReason::Incomplete,
            format!("JSON ends early: {}", short_error(e)),
        );
    }
    if e.is_unmatched_type() {
        return (RejectReason::InvalidField, short_error(e));
    }
    (
        RejectReason::NotJson,
        format!("invalid JSON: {}", short_error(e)),
    )
}

/// Says what went wrong without quoting the record: sonic-rs and serde put the surrounding input
/// and the offending value in their messages, and a record may hold a credential. Quoted parts
/// are elided; the position stays.
pub(super) fn short_error(e: &sonic_rs::Error) -> String {
    let text = e.to_string();
    let first = text.lines().next().unwrap_or("");
    let mut out = String::with_capacity(first.len());
    let mut quote: Option<char> = None;
    for c in first.chars() {
        match (quote, c) {
            (None, '"' | '`') => {
                quote = Some(c);
                out.push(c);
                out.push('…');
            }
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    format!("{out} (byte {})", e.offset())
}

fn reject_text<S: Sink>(record: &[u8], ctx: &Ctx<'_>, sink: &mut S) {
    if let Err(e) = std::str::from_utf8(record) {
        let detail = format!("invalid UTF-8 at byte {}", e.valid_up_to());
        return sink.reject(&ctx.origin, RejectReason::InvalidUtf8, &detail);
    }
    let detail = match ctx.format {
        Some(format) if ctx.depth > 0 => {
            format!("{format} record holds a text line, not an audit event")
        }
        _ => "not JSON (a text line)".to_owned(),
    };
    sink.reject(&ctx.origin, RejectReason::NotJson, &detail);
}

/// Says an object is meant as an audit event (`kind: Event`, or a `verb`), so a field of the
/// wrong type is a broken event rather than some other JSON.
fn has_event_shape(record: &[u8]) -> bool {
    let kind = sonic_rs::get_from_slice(record, &["kind"]).ok();
    kind.as_ref().and_then(|k| k.as_str()) == Some("Event")
        || sonic_rs::get_from_slice(record, &["verb"]).is_ok()
}

/// Names the first top-level keys of a JSON object, to say what a rejected record looked like
/// without quoting its values.
fn describe_keys(record: &[u8]) -> String {
    let Ok(iter) = std::str::from_utf8(record).map(sonic_rs::to_object_iter) else {
        return "unreadable".into();
    };
    let mut keys = Vec::new();
    for entry in iter.take(6) {
        match entry {
            Ok((key, _)) => keys.push(key.into_owned()),
            Err(_) => break,
        }
    }
    if keys.is_empty() {
        "empty object".into()
    } else {
        format!("keys: {}", keys.join(", "))
    }
}

#[cfg(test)]
mod tests;
