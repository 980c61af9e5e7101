//! `credwatch events` output: each decoded event in the native audit shape plus its envelope,
//! as JSON lines (itself valid input to credwatch) or as a table for people. Bodies pass through
//! the redactor first, so no credential value is written.

use crate::event::{AuditEvent, Decoded, RawJson};
use crate::redact::{CredentialKind, Redactor};
use serde::Serialize;
use serde_json::Value;
use std::io::{self, Write};
use std::ops::ControlFlow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    Jsonl,
    Table,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EventLine<'e, 'a> {
    #[serde(flatten)]
    event: &'e AuditEvent<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_object: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    response_object: Option<Value>,
    envelope: EnvelopeOut<'e>,
}

#[derive(Serialize)]
struct EnvelopeOut<'e> {
    platform: crate::event::Platform,
    cluster: Option<&'e str>,
    origin: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    item: Option<u32>,
    format: &'static str,
    time: Option<String>,
}

const TABLE_COLUMNS: [(&str, usize); 8] = [
    ("TIME", 27),
    ("VERB", 7),
    ("RESOURCE", 22),
    ("NAMESPACE/NAME", 34),
    ("USER", 36),
    ("SOURCE", 15),
    ("CODE", 4),
    ("DECISION", 8),
];

/// Writes decoded events; the first write error is kept and reported by [`finish`].
///
/// [`finish`]: EventWriter::finish
pub struct EventWriter<'r, W: Write> {
    out: W,
    format: EventFormat,
    redactor: &'r Redactor,
    error: Option<io::Error>,
    header_written: bool,
    /// One serialized line, reused.
    scratch: Vec<u8>,
}

impl<'r, W: Write> EventWriter<'r, W> {
    pub fn new(out: W, format: EventFormat, redactor: &'r Redactor) -> Self {
        EventWriter {
            out,
            format,
            redactor,
            error: None,
            header_written: false,
            scratch: Vec::new(),
        }
    }

    /// Writes one event; breaks once the output has failed, so the run can stop reading.
    pub fn write(&mut self, decoded: &Decoded<'_, '_>) -> ControlFlow<()> {
        if self.error.is_some() {
            return ControlFlow::Break(());
        }
        let result = match self.format {
            EventFormat::Jsonl => self.write_json(decoded),
            EventFormat::Table => self.write_row(decoded),
        };
        match result {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                self.error = Some(e);
                ControlFlow::Break(())
            }
        }
    }

    /// Flushes what was written so far (a live writer, one event at a time); a failed write
    /// surfaces here or at [`finish`](EventWriter::finish).
    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = &self.error {
            return Err(io::Error::new(e.kind(), e.to_string()));
        }
        self.out.flush()
    }

    /// Flushes the output; a failed write anywhere in the run surfaces here.
    pub fn finish(mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }

    fn write_json(&mut self, decoded: &Decoded<'_, '_>) -> io::Result<()> {
        let event = decoded.event;
        let resource = event
            .object_ref
            .as_ref()
            .and_then(|o| o.resource.as_deref());
        let body = |raw: &Option<RawJson<'_>>| {
            raw.as_ref()
                .map(|raw| match serde_json::from_str::<Value>(raw.as_str()) {
                    Ok(mut value) => {
                        self.redactor.redact_body(&mut value, resource);
                        value
                    }
                    // A body that cannot be inspected cannot be shown safely: redact it whole.
                    Err(_) => Value::String(
                        self.redactor
                            .redact(CredentialKind::UnreadableBody, raw.as_str()),
                    ),
                })
        };
        // Credentials in the URI (`?token=`, exec arguments) are redacted like bodies; the
        // event is copied only when there is one.
        let redacted_uri = event
            .request_uri
            .as_deref()
            .map(|u| self.redactor.redact_uri(u))
            .filter(|u| matches!(u, std::borrow::Cow::Owned(_)))
            .map(std::borrow::Cow::into_owned);
        let with_uri;
        let event = match redacted_uri {
            Some(uri) => {
                let mut copy = event.clone();
                copy.request_uri = Some(std::borrow::Cow::Owned(uri));
                with_uri = copy;
                &with_uri
            }
            None => event,
        };
        let line = EventLine {
            event,
            request_object: body(&event.request_object),
            response_object: body(&event.response_object),
            envelope: EnvelopeOut {
                platform: decoded.envelope.platform,
                cluster: decoded.envelope.cluster.as_deref(),
                origin: format!("{}:{}", decoded.origin.source, decoded.origin.line),
                item: decoded.origin.item,
                format: decoded.envelope.format.as_str(),
                time: decoded.time(),
            },
        };
        self.scratch.clear();
        sonic_rs::to_writer(&mut self.scratch, &line).map_err(io::Error::other)?;
        self.scratch.push(b'\n');
        self.out.write_all(&self.scratch)
    }

    fn write_row(&mut self, decoded: &Decoded<'_, '_>) -> io::Result<()> {
        if !self.header_written {
            self.header_written = true;
            let header: Vec<&str> = TABLE_COLUMNS.iter().map(|(name, _)| *name).collect();
            self.write_cells(&header)?;
        }
        let e = decoded.event;
        let object = e.object_ref.as_ref();
        let field = |v: Option<&str>| v.unwrap_or("").to_owned();
        let resource = match object.and_then(|o| o.subresource.as_deref()) {
            Some(sub) => format!(
                "{}/{sub}",
                field(object.and_then(|o| o.resource.as_deref()))
            ),
            None => field(object.and_then(|o| o.resource.as_deref())),
        };
        let target = match (
            object.and_then(|o| o.namespace.as_deref()),
            object.and_then(|o| o.name.as_deref()),
        ) {
            (Some(ns), Some(name)) => format!("{ns}/{name}"),
            (Some(ns), None) => format!("{ns}/*"),
            (None, Some(name)) => name.to_owned(),
            // Across all namespaces; a request with no object at all shows its path.
            (None, None) if object.is_some() => "*/*".to_owned(),
            (None, None) => field(
                e.request_uri
                    .as_deref()
                    .map(|u| self.redactor.redact_uri(u))
                    .as_deref(),
            ),
        };
        let cells = [
            decoded.time().unwrap_or_default(),
            field(e.verb.as_deref()),
            resource,
            target,
            field(e.user.username.as_deref()),
            e.source_ips
                .first()
                .map(|s| s.to_string())
                .unwrap_or_default(),
            e.response_status
                .as_ref()
                .and_then(|r| r.code)
                .map(|c| c.to_string())
                .unwrap_or_default(),
            field(e.decision()),
        ];
        let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
        self.write_cells(&cells)
    }

    fn write_cells(&mut self, cells: &[&str]) -> io::Result<()> {
        let mut line = String::with_capacity(160);
        for (i, (cell, (_, width))) in cells.iter().zip(TABLE_COLUMNS).enumerate() {
            let shown: String = if cell.chars().count() > width {
                let mut cut: String = cell.chars().take(width.saturating_sub(1)).collect();
                cut.push('…');
                cut
            } else {
                (*cell).to_owned()
            };
            if i + 1 == cells.len() {
                line.push_str(&shown);
            } else {
                line.push_str(&format!("{shown:<width$} "));
            }
        }
        // Fields are chosen by whoever wrote the log; they must not drive the terminal.
        writeln!(self.out, "{}", crate::text::printable(line.trim_end()))
    }
}
