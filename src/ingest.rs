//! Ingest: drives sources → framing → decoding for a list of paths, hands each event to the
//! caller, reports every rejected record with its location, and counts everything.

use crate::decode::{Decoder, RejectReason, Sink, SkipReason};
use crate::event::{Decoded, Origin, SourceFormat};
use crate::source::framing::{Frame, FrameError, Framer};
use crate::source::{self, Compression, Input};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;

/// Settings of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Records (lines or documents) longer than this are reported and skipped.
    pub max_record_bytes: usize,
    /// Stop at the first rejected record.
    pub strict: bool,
    /// Labels events whose source names no cluster.
    pub cluster: Option<String>,
    /// Rejections printed per input before the rest are only counted; `None` prints all.
    pub max_errors_per_input: Option<u64>,
    /// `--from` / `--to`, both inclusive. Events without a readable time pass through.
    pub from: Option<jiff::Timestamp>,
    pub to: Option<jiff::Timestamp>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            max_record_bytes: 64 << 20,
            strict: false,
            cluster: None,
            max_errors_per_input: Some(10),
            from: None,
            to: None,
        }
    }
}

/// What a run read, decoded, rejected and skipped. `records = events + rejected + skipped`.
#[derive(Debug, Default, Clone, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub inputs: u64,
    pub inputs_failed: u64,
    pub inputs_empty: u64,
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    pub events: u64,
    pub rejected: u64,
    pub skipped: u64,
    /// Decoded, but outside `--from` / `--to`, so not handed on.
    pub outside_time_range: u64,
    pub rejected_by_reason: BTreeMap<String, u64>,
    pub skipped_by_reason: BTreeMap<String, u64>,
    pub events_by_format: BTreeMap<String, u64>,
    pub compressed_inputs: u64,
}

impl Summary {
    /// Two lines for people, on stderr.
    pub fn human(&self) -> String {
        let mut out = format!(
            "credwatch: {} input{} ({} unreadable, {} empty), {} records: {} decoded, {} rejected, {} skipped",
            self.inputs,
            if self.inputs == 1 { "" } else { "s" },
            self.inputs_failed,
            self.inputs_empty,
            self.records,
            self.events,
            self.rejected,
            self.skipped
        );
        if self.outside_time_range > 0 {
            out.push_str(&format!(
                ", {} outside --from/--to",
                self.outside_time_range
            ));
        }
        for (label, map) in [
            ("rejected", &self.rejected_by_reason),
            ("skipped", &self.skipped_by_reason),
            ("decoded by format", &self.events_by_format),
        ] {
            if !map.is_empty() {
                let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
                out.push_str(&format!("\ncredwatch: {label}: {}", parts.join(", ")));
            }
        }
        out
    }
}

/// The run stopped early under `--strict`.
#[derive(Debug, thiserror::Error)]
#[error("stopped at the first rejected record (--strict): {location}: {reason}: {detail}")]
pub struct StrictStop {
    pub location: String,
    pub reason: RejectReason,
    pub detail: String,
}

/// Connects the decoder to the caller's event handler, the diagnostics stream and the counters.
struct Collector<'o, F, W> {
    on_event: F,
    diagnostics: &'o mut W,
    options: &'o IngestOptions,
    summary: Summary,
    errors_in_input: u64,
    events_by_format: [u64; SourceFormat::ALL.len()],
    stop: Option<StrictStop>,
    /// The consumer asked to stop (its output is gone, e.g. a closed pipe).
    halted: bool,
}

impl<F: FnMut(&Decoded<'_, '_>) -> ControlFlow<()>, W: Write> Sink for Collector<'_, F, W> {
    fn event(&mut self, decoded: &Decoded<'_, '_>) {
        self.summary.records += 1;
        self.summary.events += 1;
        // Counted in an array on the hot path; named in the summary at the end.
        self.events_by_format[decoded.envelope.format as usize] += 1;
        if self.options.from.is_some() || self.options.to.is_some() {
            let outside = decoded.timestamp().is_some_and(|t| {
                self.options.from.is_some_and(|from| t < from)
                    || self.options.to.is_some_and(|to| t > to)
            });
            if outside {
                self.summary.outside_time_range += 1;
                return;
            }
        }
        if (self.on_event)(decoded).is_break() {
            self.halted = true;
        }
    }

    fn reject(&mut self, origin: &Origin<'_>, reason: RejectReason, detail: &str) {
        self.record_rejection(origin.to_string(), reason, detail);
    }

    fn skip(&mut self, _origin: &Origin<'_>, reason: SkipReason) {
        self.summary.records += 1;
        self.summary.skipped += 1;
        *self
            .summary
            .skipped_by_reason
            .entry(reason.as_str().to_owned())
            .or_default() += 1;
    }
}

impl<F, W: Write> Collector<'_, F, W> {
    fn record_rejection(&mut self, location: String, reason: RejectReason, detail: &str) {
        self.summary.records += 1;
        self.summary.rejected += 1;
        *self
            .summary
            .rejected_by_reason
            .entry(reason.as_str().to_owned())
            .or_default() += 1;
        self.errors_in_input += 1;
        let within_cap = self
            .options
            .max_errors_per_input
            .is_none_or(|cap| self.errors_in_input <= cap);
        if within_cap {
            // Diagnostics are best effort: a closed stderr must not stop the run.
            let line = format!("credwatch: {location}: {reason}: {detail}");
            let _ = writeln!(self.diagnostics, "{}", crate::text::printable(&line));
        }
        if self.options.strict && self.stop.is_none() {
            self.stop = Some(StrictStop {
                location,
                reason,
                detail: detail.to_owned(),
            });
        }
    }

    fn finish_input(&mut self, name: &str) {
        let cap = self.options.max_errors_per_input.unwrap_or(u64::MAX);
        if self.errors_in_input > cap {
            let more = self.errors_in_input - cap;
            let _ = writeln!(
                self.diagnostics,
                "credwatch: {name}: {more} more rejected record{} not shown (--all-errors shows them)",
                if more == 1 { "" } else { "s" }
            );
        }
        self.errors_in_input = 0;
    }
}

/// How a run ended: its counts, and whether `--strict` stopped it early.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    pub stopped: Option<StrictStop>,
}

/// Reads every path, calling `on_event` for each decoded event. Bad records are reported on
/// `diagnostics` and counted; under `--strict` the first one stops the run.
pub fn ingest<F, W>(
    paths: &[PathBuf],
    options: &IngestOptions,
    diagnostics: &mut W,
    on_event: F,
) -> Outcome
where
    F: FnMut(&Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    let decoder = Decoder::new(options.cluster.clone());
    let (inputs, listing_errors) = source::expand(paths);
    let mut collector = Collector {
        on_event,
        diagnostics,
        options,
        summary: Summary::default(),
        errors_in_input: 0,
        events_by_format: [0; SourceFormat::ALL.len()],
        stop: None,
        halted: false,
    };
    for error in listing_errors {
        collector.summary.inputs += 1;
        collector.summary.inputs_failed += 1;
        collector.record_rejection(
            error.path.clone(),
            RejectReason::ReadError,
            &error.source.to_string(),
        );
    }
    for input in &inputs {
        if collector.stop.is_some() || collector.halted {
            break;
        }
        read_input(&decoder, input, options, &mut collector);
    }
    for format in SourceFormat::ALL {
        let count = collector.events_by_format[format as usize];
        if count > 0 {
            collector
                .summary
                .events_by_format
                .insert(format.as_str().to_owned(), count);
        }
    }
    Outcome {
        stopped: collector.stop.take(),
        summary: collector.summary,
    }
}

fn read_input<F, W>(
    decoder: &Decoder,
    input: &Input,
    options: &IngestOptions,
    collector: &mut Collector<'_, F, W>,
) where
    F: FnMut(&Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    let name = input.display_name();
    collector.summary.inputs += 1;
    let (reader, compression) = match source::open(input) {
        Ok(opened) => opened,
        Err(e) => {
            collector.summary.inputs_failed += 1;
            collector.record_rejection(
                name.clone(),
                RejectReason::ReadError,
                &e.source.to_string(),
            );
            collector.finish_input(&name);
            return;
        }
    };
    if compression != Compression::None {
        collector.summary.compressed_inputs += 1;
    }
    let records_before = collector.summary.records;
    let framer = Framer::new(reader, options.max_record_bytes);
    let result = framer.run(|frame| {
        match frame {
            Frame::Record { bytes, line } => decoder.decode_record(bytes, &name, line, collector),
            Frame::TooLarge { line, bytes } => collector.record_rejection(
                format!("{name}:{line}"),
                RejectReason::TooLarge,
                &format!(
                    "record of {bytes} bytes is over the {} byte limit (--max-record-mb)",
                    options.max_record_bytes
                ),
            ),
        }
        if collector.stop.is_some() || collector.halted {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    match result {
        Ok(stats) => {
            collector.summary.bytes += stats.bytes;
            collector.summary.lines += stats.lines;
            if stats.bytes == 0 {
                collector.summary.inputs_empty += 1;
                let _ = writeln!(collector.diagnostics, "credwatch: {name}: empty input");
            } else if collector.summary.records == records_before {
                let _ = writeln!(
                    collector.diagnostics,
                    "credwatch: {name}: no records (only blank lines)"
                );
            }
        }
        Err(e @ (FrameError::Binary | FrameError::Utf16)) => {
            collector.summary.inputs_failed += 1;
            let reason = match e {
                FrameError::Utf16 => RejectReason::Encoding,
                _ => RejectReason::Binary,
            };
            collector.record_rejection(name.clone(), reason, &e.to_string());
        }
        Err(FrameError::Read { line, source }) => {
            collector.summary.inputs_failed += 1;
            let what = match (compression, source.kind()) {
                (Compression::Gzip, std::io::ErrorKind::UnexpectedEof) => {
                    "truncated gzip stream".to_owned()
                }
                (Compression::Zstd, std::io::ErrorKind::UnexpectedEof) => {
                    "truncated zstd stream".to_owned()
                }
                _ => source.to_string(),
            };
            collector.record_rejection(
                format!("{name}:{line}"),
                RejectReason::ReadError,
                &format!("{what}; records before this point were read"),
            );
        }
    }
    collector.finish_input(&name);
}
