//! Ingest: drives sources → framing → decoding for a list of paths, hands each event to the
//! caller, reports every rejected record with its location, and counts everything.

use crate::decode::{Decoder, RejectReason, Sink, SkipReason};
use crate::event::{Decoded, Origin, SourceFormat};
use crate::source::framing::{Frame, FrameError, Framer, Lent};
use crate::source::mapped::MappedFile;
use crate::source::{self, Compression, Input};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, mpsc};

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
    /// Bytes of records read so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
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
            progress: None,
        }
    }
}

/// What a run read, decoded, rejected and skipped.
/// `records = events + rejected + skipped + prefiltered`.
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
    /// Records the rules' literal prefilter showed no rule could match; not decoded (so not
    /// validated either; `hunt --no-prefilter` decodes every record).
    pub prefiltered: u64,
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
        if self.prefiltered > 0 {
            out.push_str(&format!(
                ", {} passed over by the rules' prefilter",
                self.prefiltered
            ));
        }
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

impl Summary {
    /// Adds another part of the same run (a worker's counts).
    pub fn merge(&mut self, other: Summary) {
        self.inputs += other.inputs;
        self.inputs_failed += other.inputs_failed;
        self.inputs_empty += other.inputs_empty;
        self.bytes += other.bytes;
        self.lines += other.lines;
        self.records += other.records;
        self.events += other.events;
        self.rejected += other.rejected;
        self.skipped += other.skipped;
        self.outside_time_range += other.outside_time_range;
        self.prefiltered += other.prefiltered;
        self.compressed_inputs += other.compressed_inputs;
        for (mine, theirs) in [
            (&mut self.rejected_by_reason, other.rejected_by_reason),
            (&mut self.skipped_by_reason, other.skipped_by_reason),
            (&mut self.events_by_format, other.events_by_format),
        ] {
            for (k, v) in theirs {
                *mine.entry(k).or_default() += v;
            }
        }
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

/// Decides, from a record's raw text, whether it can be passed over without decoding.
pub type Prefilter<'p> = &'p (dyn Fn(&[u8]) -> bool + Sync);

/// What every collector of one run shares: rejection counts per input (for the per-input cap)
/// and the stop flag.
struct Shared {
    errors_per_input: Vec<AtomicU64>,
    stop_requested: AtomicBool,
}

impl Shared {
    fn new(inputs: usize) -> Shared {
        Shared {
            errors_per_input: (0..inputs.max(1)).map(|_| AtomicU64::new(0)).collect(),
            stop_requested: AtomicBool::new(false),
        }
    }
}

/// Connects the decoder to the caller's event handler, the diagnostics stream and the counters.
struct Collector<'o, F, W> {
    on_event: F,
    diagnostics: W,
    options: &'o IngestOptions,
    shared: &'o Shared,
    summary: Summary,
    input: u32,
    events_by_format: [u64; SourceFormat::ALL.len()],
    stop: Option<StrictStop>,
    /// The consumer asked to stop (its output is gone, e.g. a closed pipe).
    halted: bool,
}

impl<F: FnMut(u32, &Decoded<'_, '_>) -> ControlFlow<()>, W: Write> Sink for Collector<'_, F, W> {
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
        if (self.on_event)(self.input, decoded).is_break() {
            self.halted = true;
            self.shared.stop_requested.store(true, Ordering::Relaxed);
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
        let count = self
            .shared
            .errors_per_input
            .get(self.input as usize)
            .map_or(1, |c| c.fetch_add(1, Ordering::Relaxed) + 1);
        let within_cap = self
            .options
            .max_errors_per_input
            .is_none_or(|cap| count <= cap);
        if within_cap {
            // One write per line, so lines from several workers never interleave. Diagnostics
            // are best effort: a closed stderr must not stop the run.
            let line = format!(
                "{}\n",
                crate::text::printable(&format!("credwatch: {location}: {reason}: {detail}"))
            );
            let _ = self.diagnostics.write_all(line.as_bytes());
        }
        if self.options.strict && self.stop.is_none() {
            self.shared.stop_requested.store(true, Ordering::Relaxed);
            self.stop = Some(StrictStop {
                location,
                reason,
                detail: detail.to_owned(),
            });
        }
    }

    fn stopping(&self) -> bool {
        self.stop.is_some() || self.halted || self.shared.stop_requested.load(Ordering::Relaxed)
    }

    fn finish(&mut self) {
        for format in SourceFormat::ALL {
            let count = self.events_by_format[format as usize];
            if count > 0 {
                *self
                    .summary
                    .events_by_format
                    .entry(format.as_str().to_owned())
                    .or_default() += count;
            }
        }
        self.events_by_format = [0; SourceFormat::ALL.len()];
    }
}

/// Reports inputs whose rejections went over the cap.
fn report_hidden_errors<W: Write>(
    names: &[String],
    shared: &Shared,
    options: &IngestOptions,
    diagnostics: &mut W,
) {
    let cap = options.max_errors_per_input.unwrap_or(u64::MAX);
    for (name, count) in names.iter().zip(&shared.errors_per_input) {
        let count = count.load(Ordering::Relaxed);
        if count > cap {
            let more = count - cap;
            let _ = writeln!(
                diagnostics,
                "credwatch: {name}: {more} more rejected record{} not shown (--all-errors shows them)",
                if more == 1 { "" } else { "s" }
            );
        }
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
    mut on_event: F,
) -> Outcome
where
    F: FnMut(&Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    ingest_indexed(paths, options, None, diagnostics, |_, d| on_event(d))
}

/// As [`ingest`], also telling the handler which input (0-based, in reading order) each event
/// came from, and passing over records the prefilter rules out.
pub fn ingest_indexed<F, W>(
    paths: &[PathBuf],
    options: &IngestOptions,
    prefilter: Option<Prefilter<'_>>,
    diagnostics: &mut W,
    on_event: F,
) -> Outcome
where
    F: FnMut(u32, &Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    let decoder = Decoder::new(options.cluster.clone());
    let (inputs, listing_errors) = source::expand(paths);
    let names: Vec<String> = inputs.iter().map(Input::display_name).collect();
    let shared = Shared::new(inputs.len() + listing_errors.len());
    let mut collector = Collector {
        on_event,
        diagnostics: &mut *diagnostics,
        options,
        shared: &shared,
        summary: Summary::default(),
        input: 0,
        events_by_format: [0; SourceFormat::ALL.len()],
        stop: None,
        halted: false,
    };
    listing_failures(&listing_errors, inputs.len(), &mut collector);
    for (index, input) in inputs.iter().enumerate() {
        if collector.stopping() {
            break;
        }
        collector.input = index as u32;
        read_input(
            &names[index],
            input,
            options,
            &mut collector,
            false,
            |lent, _, c| {
                if let Lent::Frame(frame, _) = lent {
                    decode_frame(&decoder, &names[index], frame, options, prefilter, c);
                }
            },
        );
    }
    collector.finish();
    let stopped = collector.stop.take();
    let summary = std::mem::take(&mut collector.summary);
    drop(collector);
    report_hidden_errors(&names, &shared, options, diagnostics);
    Outcome { summary, stopped }
}

fn listing_failures<F, W: Write>(
    errors: &[source::SourceError],
    first_index: usize,
    collector: &mut Collector<'_, F, W>,
) {
    for (i, error) in errors.iter().enumerate() {
        collector.input = (first_index + i) as u32;
        collector.summary.inputs += 1;
        collector.summary.inputs_failed += 1;
        collector.record_rejection(
            error.path.clone(),
            RejectReason::ReadError,
            &error.source.to_string(),
        );
    }
}

fn decode_frame<F, W>(
    decoder: &Decoder,
    name: &str,
    frame: Frame<'_>,
    options: &IngestOptions,
    prefilter: Option<Prefilter<'_>>,
    collector: &mut Collector<'_, F, W>,
) where
    F: FnMut(u32, &Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    if let (Some(progress), Frame::Record { bytes, .. }) = (&options.progress, &frame) {
        progress.fetch_add(bytes.len() as u64 + 1, Ordering::Relaxed);
    }
    match frame {
        Frame::Record { bytes, line } => {
            if prefilter.is_some_and(|p| !p(bytes)) {
                collector.summary.records += 1;
                collector.summary.prefiltered += 1;
            } else {
                decoder.decode_record(bytes, name, line, collector)
            }
        }
        Frame::TooLarge { line, bytes } => collector.record_rejection(
            format!("{name}:{line}"),
            RejectReason::TooLarge,
            &format!(
                "record of {bytes} bytes is over the {} byte limit (--max-record-mb)",
                options.max_record_bytes
            ),
        ),
    }
}

/// Memory of a mapped input is handed back this many bytes at a time: each hand-back
/// interrupts the other cores (their TLBs are flushed), so not per batch (2,753 flushes in a
/// 2-thread hunt of the 1.15 GB bench corpus, against 57 reading it).
const RELEASE_STEP: usize = 4 << 20;

/// Opens and frames one input, handing each frame to `on_frame` (and, when `lending`, the read
/// buffers the records are slices of: see [`Framer::run_lending`]); read failures are reported
/// through `collector`. A plain file is mapped (see [`MappedFile`]): `on_frame` is then given
/// the map, which the offsets of lent lines refer to, and nothing is handed over.
fn read_input<F, W, H>(
    name: &str,
    input: &Input,
    options: &IngestOptions,
    collector: &mut Collector<'_, F, W>,
    lending: bool,
    mut on_frame: H,
) where
    W: Write,
    H: FnMut(Lent<'_>, Option<&Arc<MappedFile>>, &mut Collector<'_, F, W>),
{
    collector.summary.inputs += 1;
    let mapped = match input {
        // SAFETY: credwatch reads logs and archives, which are appended to or cut short, not
        // rewritten in place; a truncation is handled (see `MappedFile`).
        Input::File(path) => unsafe { MappedFile::open(path, source::COMPRESSION_MAGICS) },
        Input::Stdin => None,
    }
    .map(Arc::new);
    let mut frames = 0u64;
    // Hands each frame on, counted, until the run stops.
    let mut each = |lent: Lent<'_>, collector: &mut Collector<'_, F, W>| {
        frames += u64::from(matches!(lent, Lent::Frame(..)));
        on_frame(lent, mapped.as_ref(), collector);
        if collector.stopping() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    if let Some(map) = &mapped {
        let (mut released, mut next_check) = (0, RELEASE_STEP);
        // What the framer is done with goes back, but not what a batch being decoded still
        // reads (with one thread a record is done with once handed on).
        let passed = |at: usize| {
            if at < next_check {
                return;
            }
            let upto = map.held_from().map_or(at, |held| held.min(at));
            if upto >= released + RELEASE_STEP {
                map.release(released..upto);
                released = upto;
                next_check = upto + RELEASE_STEP;
            } else {
                next_check = at + RELEASE_STEP / 4;
            }
        };
        let framer = Framer::new(std::io::empty(), options.max_record_bytes);
        let result = framer.run_over(map.bytes(), passed, |lent| each(lent, collector));
        report_shrunk(map, name, collector);
        frame_outcome(name, result, frames, Compression::None, collector);
        return;
    }
    let (reader, compression) = match source::open(input) {
        Ok(opened) => opened,
        Err(e) => {
            collector.summary.inputs_failed += 1;
            collector.record_rejection(
                name.to_owned(),
                RejectReason::ReadError,
                &e.source.to_string(),
            );
            return;
        }
    };
    if compression != Compression::None {
        collector.summary.compressed_inputs += 1;
    }
    let framer = Framer::new(reader, options.max_record_bytes);
    let result = if lending {
        framer
            .chunk(BATCH_BYTES)
            .run_lending(|lent| each(lent, collector))
    } else {
        framer.run(|frame| each(Lent::Frame(frame, None), collector))
    };
    frame_outcome(name, result, frames, compression, collector);
}

/// Reports a mapped input that shrank while it was read (once, whichever thread notices: a
/// worker may be the first to read past the new end).
fn report_shrunk<F, W: Write>(map: &MappedFile, name: &str, collector: &mut Collector<'_, F, W>) {
    if map.shrank_unreported() {
        collector.summary.inputs_failed += 1;
        collector.record_rejection(
            name.to_owned(),
            RejectReason::ReadError,
            "the file shrank while it was read (truncated by another process?): what lay past its new end read as zeros, and the records there were rejected",
        );
    }
}

/// Reports how framing an input ended.
fn frame_outcome<F, W: Write>(
    name: &str,
    result: Result<source::framing::FrameStats, FrameError>,
    frames: u64,
    compression: Compression,
    collector: &mut Collector<'_, F, W>,
) {
    match result {
        Ok(stats) => {
            collector.summary.bytes += stats.bytes;
            collector.summary.lines += stats.lines;
            if stats.bytes == 0 {
                collector.summary.inputs_empty += 1;
                let _ = writeln!(collector.diagnostics, "credwatch: {name}: empty input");
            } else if frames == 0 {
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
            collector.record_rejection(name.to_owned(), reason, &e.to_string());
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
}

/// A consumer of events on one worker thread.
pub trait Handler: Send {
    fn event(&mut self, input: u32, decoded: &Decoded<'_, '_>);
}

/// Records framed by the reader and handed to a worker, in the order the framer gave them
/// (line order, as one thread reads them: `--strict` stops at the first rejection). Lines stay
/// in the read buffer the framer lent (copying them into a batch cost a 2-thread hunt ~15 % more
/// work than one thread's); multi-line documents are copied.
struct Batch {
    input: u32,
    name: Arc<str>,
    /// A read buffer the framer lent, once the batch is full: its lines are records.
    buffer: Vec<u8>,
    /// The mapped file the lines are slices of instead (nothing to wait for: a batch goes as
    /// soon as it holds enough).
    mapped: Option<Arc<MappedFile>>,
    /// Copied records, one after another.
    data: Vec<u8>,
    records: Vec<(Slot, u64)>,
    /// Where the records that are slices of `buffer` or `mapped` lie: from the first's start
    /// to the last's end (in a buffer, they wait for it before the batch may go).
    lent_span: Option<(usize, usize)>,
}

impl Drop for Batch {
    fn drop(&mut self) {
        self.let_go();
    }
}

/// Where a record of a batch is, with its line.
#[derive(Clone, Copy)]
enum Slot {
    Lent {
        start: usize,
        end: usize,
    },
    Copied {
        start: usize,
        end: usize,
    },
    /// Over the size limit: only its length was kept.
    TooLarge {
        bytes: u64,
    },
}

impl Batch {
    fn new(input: u32, name: Arc<str>) -> Batch {
        Batch {
            input,
            name,
            buffer: Vec::new(),
            mapped: None,
            data: Vec::new(),
            records: Vec::with_capacity(1024),
            lent_span: None,
        }
    }

    /// Takes one thing a lending framer handed out; `true` when the batch is ready to go: the
    /// buffer its lines were lent from was handed over (the batch keeps it and leaves the
    /// framer the spare buffer it brought), or copied documents fill it while no line waits
    /// for its buffer. Lines of a mapped file wait for nothing.
    fn take(&mut self, lent: Lent<'_>, limit: usize) -> bool {
        match lent {
            Lent::Frame(Frame::Record { bytes, line }, Some(start)) => {
                let end = start + bytes.len();
                self.records.push((Slot::Lent { start, end }, line));
                let first = self.lent_span.map_or(start, |(first, _)| first);
                if self.lent_span.is_none()
                    && let Some(map) = &self.mapped
                {
                    // Its pages must stay until it is decoded.
                    map.hold(start);
                }
                self.lent_span = Some((first, end));
                self.mapped.is_some() && self.bytes() >= limit
            }
            Lent::Frame(Frame::Record { bytes, line }, None) => {
                let start = self.data.len();
                self.data.extend_from_slice(bytes);
                let end = self.data.len();
                self.records.push((Slot::Copied { start, end }, line));
                (self.lent_span.is_none() || self.mapped.is_some()) && self.bytes() >= limit
            }
            Lent::Frame(Frame::TooLarge { line, bytes }, _) => {
                self.records.push((Slot::TooLarge { bytes }, line));
                false
            }
            // A buffer no line was lent from stays with the framer.
            Lent::Done(_) if self.lent_span.is_none() => false,
            Lent::Done(buffer) => {
                std::mem::swap(&mut self.buffer, buffer);
                true
            }
        }
    }

    /// The bytes of its records (lent lines from the first's start to the last's end).
    fn bytes(&self) -> usize {
        self.data.len() + self.lent_span.map_or(0, |(start, end)| end - start)
    }

    fn frames(&self) -> impl Iterator<Item = Frame<'_>> {
        let lent_from: &[u8] = self
            .mapped
            .as_deref()
            .map_or(&self.buffer, MappedFile::bytes);
        self.records.iter().map(move |&(slot, line)| match slot {
            Slot::Lent { start, end } => Frame::Record {
                bytes: &lent_from[start..end],
                line,
            },
            Slot::Copied { start, end } => Frame::Record {
                bytes: &self.data[start..end],
                line,
            },
            Slot::TooLarge { bytes } => Frame::TooLarge { line, bytes },
        })
    }

    fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Its lines in a mapped file are decoded: their pages may go (and it forgets where they
    /// lay).
    fn let_go(&mut self) {
        if let (Some(map), Some((start, _))) = (&self.mapped, self.lent_span.take()) {
            map.let_go(start);
        }
    }

    /// Empties it for reuse, keeping its allocations (but not a buffer grown for a long line:
    /// every batch would come to hold one).
    fn clear(&mut self) {
        if self.buffer.len() > BATCH_BYTES {
            self.buffer = Vec::new();
        }
        self.let_go();
        self.mapped = None;
        self.data.clear();
        self.records.clear();
    }
}

/// Decodes every record of a batch into `collector`.
fn process_batch<F, W>(
    decoder: &Decoder,
    batch: &Batch,
    options: &IngestOptions,
    prefilter: Option<Prefilter<'_>>,
    collector: &mut Collector<'_, F, W>,
) where
    F: FnMut(u32, &Decoded<'_, '_>) -> ControlFlow<()>,
    W: Write,
{
    collector.input = batch.input;
    for frame in batch.frames() {
        decode_frame(decoder, &batch.name, frame, options, prefilter, collector);
    }
    if let Some(map) = &batch.mapped {
        report_shrunk(map, &batch.name, collector);
    }
}

/// Records per batch: big enough that the channel is cheap, small enough that a large file is
/// shared evenly between workers.
const BATCH_BYTES: usize = 512 << 10;

/// A `Write` several threads share, one `write` call per lock (so whole lines stay whole).
struct SharedWriter<'m, 'w, W>(&'m Mutex<&'w mut W>);

impl<W: Write> Write for SharedWriter<'_, '_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(buf)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).flush()
    }
}

/// Reads every path on this thread and decodes on `handlers.len() - 1` worker threads, one
/// handler each; the first handler stays on this thread, which decodes a batch itself whenever
/// every worker is busy. Files are framed in order and cut into batches at record boundaries,
/// so one large file is spread over all workers. Events reach the handlers in no particular order: callers that
/// need an order sort what the handlers collected. With one handler everything runs on the
/// calling thread.
pub fn ingest_parallel<H, W>(
    paths: &[PathBuf],
    options: &IngestOptions,
    prefilter: Option<Prefilter<'_>>,
    diagnostics: &mut W,
    mut handlers: Vec<H>,
) -> (Outcome, Vec<H>)
where
    H: Handler,
    W: Write + Send,
{
    if handlers.len() <= 1 {
        let Some(mut handler) = handlers.pop() else {
            return (
                Outcome {
                    summary: Summary::default(),
                    stopped: None,
                },
                handlers,
            );
        };
        let outcome = ingest_indexed(paths, options, prefilter, diagnostics, |input, d| {
            handler.event(input, d);
            ControlFlow::Continue(())
        });
        return (outcome, vec![handler]);
    }
    let decoder = Decoder::new(options.cluster.clone());
    let (inputs, listing_errors) = source::expand(paths);
    let names: Vec<String> = inputs.iter().map(Input::display_name).collect();
    let shared = Shared::new(inputs.len() + listing_errors.len());
    let diagnostics = Mutex::new(diagnostics);
    // The first handler stays with the reader, which decodes a batch itself whenever the workers
    // are all busy, so no core idles while the reader waits.
    let mut reader_handler = handlers.remove(0);
    let workers = handlers.len();
    let (to_workers, from_reader) = mpsc::sync_channel::<Batch>(workers * 2);
    let from_reader = Mutex::new(from_reader);
    let (recycle, recycled) = mpsc::channel::<Batch>();
    let (summaries, stops, mut handlers) = std::thread::scope(|scope| {
        let mut joins = Vec::new();
        for mut handler in handlers {
            let (from_reader, recycle) = (&from_reader, recycle.clone());
            let (decoder, shared, diagnostics) = (&decoder, &shared, &diagnostics);
            joins.push(scope.spawn(move || {
                let mut collector = Collector {
                    on_event: |input: u32, d: &Decoded<'_, '_>| {
                        handler.event(input, d);
                        ControlFlow::Continue(())
                    },
                    diagnostics: SharedWriter(diagnostics),
                    options,
                    shared,
                    summary: Summary::default(),
                    input: 0,
                    events_by_format: [0; SourceFormat::ALL.len()],
                    stop: None,
                    halted: false,
                };
                loop {
                    let next = from_reader.lock().unwrap_or_else(|e| e.into_inner()).recv();
                    let Ok(mut batch) = next else { break };
                    process_batch(decoder, &batch, options, prefilter, &mut collector);
                    batch.clear();
                    let _ = recycle.send(batch);
                }
                collector.finish();
                let summary = std::mem::take(&mut collector.summary);
                let stop = collector.stop.take();
                drop(collector);
                (summary, stop, handler)
            }));
        }
        drop(recycle);
        // The reader: this thread frames each input and ships batches.
        let mut reader = Collector {
            on_event: |input: u32, d: &Decoded<'_, '_>| {
                reader_handler.event(input, d);
                ControlFlow::Continue(())
            },
            diagnostics: SharedWriter(&diagnostics),
            options,
            shared: &shared,
            summary: Summary::default(),
            input: 0,
            events_by_format: [0; SourceFormat::ALL.len()],
            stop: None,
            halted: false,
        };
        listing_failures(&listing_errors, inputs.len(), &mut reader);
        // Batches the reader decoded itself, kept for reuse beside those the workers send back.
        let mut spare: Vec<Batch> = Vec::new();
        let new_batch = |input: u32, name: &Arc<str>, spare: &mut Vec<Batch>| {
            let mut b = spare
                .pop()
                .or_else(|| recycled.try_recv().ok())
                .unwrap_or_else(|| Batch::new(input, name.clone()));
            b.input = input;
            b.name = name.clone();
            b
        };
        'inputs: for (index, input) in inputs.iter().enumerate() {
            if reader.stopping() {
                break;
            }
            reader.input = index as u32;
            let name: Arc<str> = Arc::from(names[index].as_str());
            let mut batch = new_batch(index as u32, &name, &mut spare);
            let mut gone = false;
            read_input(
                &names[index],
                input,
                options,
                &mut reader,
                true,
                |lent, mapped, collector| {
                    // A batch of a mapped file points into it from its first record on.
                    if batch.mapped.is_none() {
                        batch.mapped = mapped.cloned();
                    }
                    if !batch.take(lent, BATCH_BYTES) {
                        return;
                    }
                    let next = new_batch(index as u32, &name, &mut spare);
                    let full = std::mem::replace(&mut batch, next);
                    match to_workers.try_send(full) {
                        Ok(()) => {}
                        Err(mpsc::TrySendError::Full(mut own)) => {
                            process_batch(&decoder, &own, options, prefilter, collector);
                            own.clear();
                            spare.push(own);
                        }
                        Err(mpsc::TrySendError::Disconnected(_)) => gone = true,
                    }
                },
            );
            if !batch.is_empty() {
                gone |= to_workers.send(batch).is_err();
            }
            if gone {
                break 'inputs;
            }
        }
        drop(to_workers);
        reader.finish();
        let mut summaries = vec![std::mem::take(&mut reader.summary)];
        let mut stops = vec![reader.stop.take()];
        drop(reader);
        let mut handlers = Vec::new();
        for join in joins {
            match join.join() {
                Ok((summary, stop, handler)) => {
                    summaries.push(summary);
                    stops.push(stop);
                    handlers.push(handler);
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (summaries, stops, handlers)
    });
    handlers.insert(0, reader_handler);
    let mut summary = Summary::default();
    for s in summaries {
        summary.merge(s);
    }
    let stopped = stops
        .into_iter()
        .flatten()
        .min_by(|a, b| a.location.cmp(&b.location));
    let diagnostics = diagnostics.into_inner().unwrap_or_else(|e| e.into_inner());
    report_hidden_errors(&names, &shared, options, diagnostics);
    (Outcome { summary, stopped }, handlers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The least read buffer a framer uses.
    const SMALL_CHUNK: usize = 8 << 10;

    /// Lines, pretty-printed documents in runs and alone, and a line over the record limit.
    fn mixed_input() -> Vec<u8> {
        let mut input = Vec::new();
        for k in 0..3000u32 {
            let pad = "x".repeat((k as usize * 37) % 300);
            let doc = match k {
                1234 => format!("{{\"n\":{k},\"pad\":\"{}\"}}\n", "y".repeat(5000)),
                _ if (k / 400) % 2 == 1 || k % 3 == 0 => {
                    format!(
                        "{{\n  \"n\": {k},\n  \"pad\": \"{pad}\",\n  \"items\": [\n    1\n  ]\n}}\n"
                    )
                }
                _ => format!("{{\"n\":{k},\"pad\":\"{pad}\"}}\n"),
            };
            input.extend_from_slice(doc.as_bytes());
        }
        input
    }

    fn describe(frame: &Frame<'_>) -> (u64, String) {
        match frame {
            Frame::Record { bytes, line } => (*line, String::from_utf8_lossy(bytes).into_owned()),
            Frame::TooLarge { bytes, line } => (*line, format!("too large: {bytes}")),
        }
    }

    /// The records of `batches`, batch after batch, in each batch's order.
    fn records_of(batches: &[Batch]) -> Vec<(u64, String)> {
        batches
            .iter()
            .flat_map(|b| b.frames().map(|frame| describe(&frame)).collect::<Vec<_>>())
            .collect()
    }

    /// Lines lent in read buffers and documents copied beside them reach the workers whole,
    /// however batches fill up: every record of the plain framing, once.
    #[test]
    fn batches_carry_every_record_whole() {
        let input = mixed_input();
        let mut expected = Vec::new();
        Framer::new(&input[..], 4096)
            .run(|frame| {
                expected.push(describe(&frame));
                ControlFlow::Continue(())
            })
            .expect("frames");
        assert!(expected.len() == 3000 && input.len() > 20 * SMALL_CHUNK);
        // Read buffers of 8 KiB and 64 KiB; batches that copied documents fill at once, at a
        // few documents, or never.
        for (chunk, limit) in [
            (SMALL_CHUNK, 1),
            (SMALL_CHUNK, 1000),
            (SMALL_CHUNK, usize::MAX),
            (64 << 10, 1),
        ] {
            let mut batches = Vec::new();
            let mut batch = Batch::new(0, "mixed".into());
            Framer::new(&input[..], 4096)
                .chunk(chunk)
                .run_lending(|lent| {
                    if batch.take(lent, limit) {
                        // The framer reads on into the spare buffer: short and dirty here.
                        let mut next = Batch::new(0, "mixed".into());
                        next.buffer = vec![b'#'; 3];
                        batches.push(std::mem::replace(&mut batch, next));
                    }
                    ControlFlow::Continue(())
                })
                .expect("frames");
            batches.push(batch);
            // Batches in order, each record once, in line order within each batch.
            let got = records_of(&batches);
            assert!(got == expected, "chunk {chunk}, limit {limit}");
            assert!(
                batches.len() > 10,
                "chunk {chunk}, limit {limit}: {}",
                batches.len()
            );
        }
        // The same input as a mapped file: batches of lines go once they hold `limit` bytes,
        // each pointing into the map.
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(&input).expect("write");
        // SAFETY: a test file no other process rewrites.
        let map = Arc::new(unsafe { MappedFile::open(file.path(), &[]) }.expect("mapped"));
        for limit in [1, 1000, SMALL_CHUNK] {
            let mut batches = Vec::new();
            let mut batch = Batch::new(0, "mixed".into());
            batch.mapped = Some(map.clone());
            Framer::new(std::io::empty(), 4096)
                .run_over(
                    map.bytes(),
                    |_| {},
                    |lent| {
                        if batch.take(lent, limit) {
                            let mut next = Batch::new(0, "mixed".into());
                            next.mapped = Some(map.clone());
                            batches.push(std::mem::replace(&mut batch, next));
                        }
                        ControlFlow::Continue(())
                    },
                )
                .expect("frames");
            batches.push(batch);
            assert!(
                batches[..batches.len() - 1]
                    .iter()
                    .all(|b| b.bytes() >= limit)
            );
            let got = records_of(&batches);
            assert!(got == expected, "mapped, limit {limit}");
            assert!(
                batches.len() > 10,
                "mapped, limit {limit}: {}",
                batches.len()
            );
        }
    }
}
