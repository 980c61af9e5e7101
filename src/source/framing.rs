//! Framing: a byte stream into records. Kept apart from decoding (DESIGN.md): it knows lines
//! and JSON document boundaries, not formats.
//!
//! Most inputs are one record per line and take the fast path: a memchr over a 256 KiB buffer
//! (small enough to stay in cache between the kernel's copy and the parse),
//! records lent as slices of it, never copied. A line that opens a JSON value without closing it
//! starts a multi-line document (pretty-printed `aws logs` output, an indented EventList), which
//! is gathered until its brackets balance. Memory is bounded by the record limit: a longer line
//! is read through without being kept, and reported.

use std::io::{self, Read};
use std::ops::ControlFlow;

const CHUNK: usize = 256 << 10;
const UTF8_BOM: &[u8] = &[0xef, 0xbb, 0xbf];
/// Bytes looked at to tell binary content from text.
const SNIFF: usize = 8 << 10;

/// What a lending framer hands out (see [`Framer::run_lending`]).
#[derive(Debug)]
pub enum Lent<'b> {
    /// A frame; `at` is the record's offset in the framer's buffer when it is a slice of it (a
    /// line), `None` when it was gathered elsewhere (a multi-line document).
    Frame(Frame<'b>, Option<usize>),
    /// The framer is done with its buffer: every record lent at an offset since the previous
    /// `Done` lies in it. The receiver may take it, leaving another (of any length) in its place.
    Done(&'b mut Vec<u8>),
}

/// What the framer hands out.
#[derive(Debug)]
pub enum Frame<'b> {
    /// One record: a line, or a multi-line JSON document, starting at `line` (1-based).
    Record { bytes: &'b [u8], line: u64 },
    /// A record longer than the limit, read through and dropped.
    TooLarge { line: u64, bytes: u64 },
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("binary content (a NUL byte in the first {SNIFF} bytes); not a log file")]
    Binary,
    #[error("UTF-16 text; credwatch reads UTF-8 (convert with: iconv -f UTF-16 -t UTF-8)")]
    Utf16,
    #[error("read failed after line {line}: {source}")]
    Read { line: u64, source: io::Error },
}

/// Totals of one framed stream.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FrameStats {
    pub bytes: u64,
    pub lines: u64,
}

/// Tracks a multi-line JSON document across its lines: nesting, strings, and enough of the
/// grammar to tell whether a new line can continue it.
#[derive(Debug, Default, Clone)]
struct Depth {
    depth: i64,
    in_string: bool,
    escaped: bool,
    /// Open containers, innermost last (`{` or `[`), up to a bound.
    open: Vec<u8>,
    /// Last significant byte outside strings (`"` when a string closed).
    last: u8,
}

/// Open containers tracked for the continuation check; deeper documents are still framed by
/// depth alone.
const TRACKED_NESTING: usize = 256;

impl Depth {
    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if b == b'\\' {
                    self.escaped = true;
                } else if b == b'"' {
                    self.in_string = false;
                    self.last = b'"';
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    if self.open.len() < TRACKED_NESTING {
                        self.open.push(b);
                    }
                }
                b'}' | b']' => {
                    self.depth -= 1;
                    self.open.pop();
                }
                _ => {}
            }
            if !b.is_ascii_whitespace() && b != b'"' {
                self.last = b;
            }
        }
    }

    /// Whether a line whose first significant byte is `first` can continue the document. A
    /// line that cannot means the document was cut off: it is reported, and the line is read
    /// afresh, so a truncated record never swallows the good ones after it.
    fn continues_with(&self, first: u8) -> bool {
        let value_start = matches!(
            first,
            b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n'
        );
        let in_object = self.open.last() == Some(&b'{');
        match self.last {
            b'{' => matches!(first, b'"' | b'}'),
            b',' if in_object => first == b'"',
            b',' | b':' => value_start,
            b'[' => value_start || first == b']',
            _ => matches!(first, b',' | b'}' | b']'),
        }
    }
}

/// A multi-line document being gathered.
struct Pending {
    bytes: Vec<u8>,
    line: u64,
    depth: Depth,
    /// Grew past the limit: still scanned to find its end, no longer kept.
    dropped_bytes: Option<u64>,
}

pub struct Framer<R> {
    reader: R,
    max_record: usize,
    chunk: usize,
    buf: Vec<u8>,
    pending: Option<Pending>,
    stats: FrameStats,
    /// Whether buffers are lent away (`Lent::Done`) instead of reused.
    lending: bool,
    /// The unframed end of a buffer lent away, carried to the next one.
    carry: Vec<u8>,
}

impl<R: Read> Framer<R> {
    pub fn new(reader: R, max_record: usize) -> Self {
        Framer {
            reader,
            max_record: max_record.max(1),
            chunk: CHUNK,
            buf: Vec::new(),
            pending: None,
            stats: FrameStats::default(),
            lending: false,
            carry: Vec::new(),
        }
    }

    /// Reads `bytes` at a time (more when a record needs it) instead of 256 KiB.
    pub fn chunk(mut self, bytes: usize) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// Frames the whole stream, calling `emit` per record; `emit` may stop it early.
    pub fn run<F>(self, mut emit: F) -> Result<FrameStats, FrameError>
    where
        F: FnMut(Frame<'_>) -> ControlFlow<()>,
    {
        self.frame_all(|lent| match lent {
            Lent::Frame(frame, _) => emit(frame),
            Lent::Done(_) => ControlFlow::Continue(()),
        })
    }

    /// Frames the whole stream without copying lines: each line is lent as a slice of the read
    /// buffer with its offset there, and before each refill (and at the end, however the run
    /// ends) the buffer is offered with `Lent::Done`, so whoever takes it can hand its records
    /// to another thread as they are.
    pub fn run_lending<F>(mut self, emit: F) -> Result<FrameStats, FrameError>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        self.lending = true;
        self.frame_all(emit)
    }

    /// Frames `data`, a whole input already in memory (a mapped file), as [`Framer::run_lending`]
    /// frames a stream: lines are lent as slices of `data` with their offset there, multi-line
    /// documents gathered elsewhere. No `Lent::Done`: `data` outlives the run. `passed` is
    /// told, after each line and as the search for the end of an over-long line goes, the
    /// offset before which the framer needs nothing more (a mapped file's pages can go).
    pub fn run_over<F, P>(
        mut self,
        data: &[u8],
        mut passed: P,
        mut emit: F,
    ) -> Result<FrameStats, FrameError>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
        P: FnMut(usize),
    {
        let mut start = sniff(data)?;
        self.stats.bytes = data.len() as u64;
        let mut line_no = 1u64;
        while start < data.len() {
            // The newline looked for a window at a time, so that a line found to be over the
            // limit is released as the search goes.
            let mut from = start;
            let (end, newline) = loop {
                let window = (from + CHUNK).min(data.len());
                if let Some(at) = memchr::memchr(b'\n', &data[from..window]) {
                    break (from + at, true);
                }
                if window == data.len() {
                    break (data.len(), false);
                }
                from = window;
                if from - start > self.max_record {
                    passed(from);
                }
            };
            // (Counted as the streaming framer counts: a last line without a newline before
            // it is handled, the others after.)
            if !newline {
                self.stats.lines += 1;
            }
            let flow = if end - start > self.max_record {
                self.overflow(line_no, (end - start) as u64, &mut emit)
            } else {
                self.handle_line(&data[start..end], line_no, Some(start), &mut emit)
            };
            if flow.is_break() {
                return Ok(self.stats);
            }
            if newline {
                self.stats.lines += 1;
            }
            line_no += 1;
            start = end + 1;
            // A document's lines were copied: nothing before the next line is read again.
            passed(start.min(data.len()));
        }
        let _ = self.flush_pending(&mut emit);
        Ok(self.stats)
    }

    fn frame_all<F>(mut self, mut emit: F) -> Result<FrameStats, FrameError>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        let result = self.frame_stream(&mut emit);
        if self.lending {
            let _ = emit(Lent::Done(&mut self.buf));
        }
        result
    }

    fn frame_stream<F>(&mut self, mut emit: F) -> Result<FrameStats, FrameError>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        let initial = self.chunk.min(self.max_record.saturating_add(1)).max(SNIFF);
        self.buf = vec![0u8; initial];
        let mut start = 0usize; // first unconsumed byte
        let mut end = 0usize; // end of valid data
        let mut scanned = 0usize; // bytes of buf[start..end] known to hold no newline
        let mut line_no = 1u64;
        let mut eof = false;
        let mut first_read = true;
        // Length of an over-long line being read through, when one is.
        let mut skipping: Option<u64> = None;

        loop {
            if let Some(pos) = memchr::memchr(b'\n', &self.buf[start + scanned..end]) {
                let nl = start + scanned + pos;
                if skipping.is_some() || nl - start > self.max_record {
                    let total = skipping.take().unwrap_or(0) + (nl - start) as u64;
                    if self.overflow(line_no, total, &mut emit).is_break() {
                        return Ok(self.stats);
                    }
                } else {
                    let (line_start, buf) = (start, std::mem::take(&mut self.buf));
                    let line = &buf[line_start..nl];
                    let flow = self.handle_line(line, line_no, Some(line_start), &mut emit);
                    self.buf = buf;
                    if flow.is_break() {
                        return Ok(self.stats);
                    }
                }
                self.stats.lines += 1;
                line_no += 1;
                start = nl + 1;
                scanned = 0;
                continue;
            }
            scanned = end - start;
            if eof {
                // (A line being read through may have ended right at a refill.)
                if start < end || skipping.is_some() {
                    self.stats.lines += 1;
                    if skipping.is_some() || end - start > self.max_record {
                        let total = skipping.take().unwrap_or(0) + (end - start) as u64;
                        if self.overflow(line_no, total, &mut emit).is_break() {
                            return Ok(self.stats);
                        }
                    } else {
                        let buf = std::mem::take(&mut self.buf);
                        let flow =
                            self.handle_line(&buf[start..end], line_no, Some(start), &mut emit);
                        self.buf = buf;
                        if flow.is_break() {
                            return Ok(self.stats);
                        }
                    }
                }
                let _ = self.flush_pending(&mut emit);
                return Ok(self.stats);
            }
            // Need more bytes: make room.
            if start > 0 && self.lending {
                // The framed part goes with the buffer; the rest moves to the next one.
                self.carry.clear();
                self.carry.extend_from_slice(&self.buf[start..end]);
                if emit(Lent::Done(&mut self.buf)).is_break() {
                    return Ok(self.stats);
                }
                // Back to the usual size: a buffer grown for one long line is not passed on.
                let want = initial.max(self.carry.len());
                if self.buf.len() < want {
                    self.buf.resize(want, 0);
                }
                self.buf[..self.carry.len()].copy_from_slice(&self.carry);
                end -= start;
                start = 0;
            } else if start > 0 {
                self.buf.copy_within(start..end, 0);
                end -= start;
                start = 0;
            }
            if end == self.buf.len() {
                if skipping.is_some() || end > self.max_record {
                    // Over the limit: drop what we hold and keep reading to the newline.
                    *skipping.get_or_insert(0) += end as u64;
                    end = 0;
                    scanned = 0;
                } else {
                    let grown = (self.buf.len() * 2).min(self.max_record.saturating_add(1));
                    self.buf.resize(grown.max(self.buf.len() + 1), 0);
                }
            }
            let n = match read_retrying(&mut self.reader, &mut self.buf[end..]) {
                Ok(n) => n,
                Err(source) => {
                    // Hand out what arrived before the failure, then report it.
                    if start < end && skipping.is_none() && end - start <= self.max_record {
                        let buf = std::mem::take(&mut self.buf);
                        let _ = self.handle_line(&buf[start..end], line_no, Some(start), &mut emit);
                        self.buf = buf;
                    }
                    let _ = self.flush_pending(&mut emit);
                    return Err(FrameError::Read {
                        line: line_no,
                        source,
                    });
                }
            };
            if first_read {
                first_read = false;
                start += sniff(&self.buf[end..end + n])?;
            }
            self.stats.bytes += n as u64;
            end += n;
            eof = n == 0;
        }
    }

    /// A line over the limit: reported on its own, or, inside a multi-line document, as the
    /// document it belongs to (whose end can no longer be found).
    fn overflow<F>(&mut self, line_no: u64, bytes: u64, emit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        match self.pending.take() {
            Some(doc) => {
                let held = doc.dropped_bytes.unwrap_or(doc.bytes.len() as u64);
                emit(Lent::Frame(
                    Frame::TooLarge {
                        line: doc.line,
                        bytes: held + bytes,
                    },
                    None,
                ))
            }
            None => emit(Lent::Frame(
                Frame::TooLarge {
                    line: line_no,
                    bytes,
                },
                None,
            )),
        }
    }

    fn handle_line<F>(
        &mut self,
        line: &[u8],
        line_no: u64,
        at: Option<usize>,
        emit: &mut F,
    ) -> ControlFlow<()>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(doc) = &self.pending {
            let Some(&first) = line.trim_ascii_start().first() else {
                return ControlFlow::Continue(()); // blank line inside a document
            };
            if doc.depth.continues_with(first) {
                return self.extend_pending(line, emit);
            }
            self.flush_pending(emit)?;
        }
        let trimmed = line.trim_ascii();
        let (Some(&first), Some(&last)) = (trimmed.first(), trimmed.last()) else {
            return ControlFlow::Continue(()); // blank line
        };
        if matches!(first, b'{' | b'[') && !matches!(last, b'}' | b']') {
            let mut depth = Depth::default();
            depth.scan(line);
            if depth.depth > 0 && !depth.in_string {
                let mut bytes = Vec::with_capacity(line.len() * 4);
                bytes.extend_from_slice(line);
                bytes.push(b'\n');
                self.pending = Some(Pending {
                    bytes,
                    line: line_no,
                    depth,
                    dropped_bytes: None,
                });
                return ControlFlow::Continue(());
            }
        }
        emit(Lent::Frame(
            Frame::Record {
                bytes: line,
                line: line_no,
            },
            at,
        ))
    }

    fn extend_pending<F>(&mut self, line: &[u8], emit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        let Some(doc) = self.pending.as_mut() else {
            return ControlFlow::Continue(());
        };
        doc.depth.scan(line);
        match doc.dropped_bytes.as_mut() {
            Some(dropped) => *dropped += line.len() as u64 + 1,
            None if doc.bytes.len() + line.len() + 1 > self.max_record => {
                doc.dropped_bytes = Some((doc.bytes.len() + line.len() + 1) as u64);
                doc.bytes = Vec::new();
            }
            None => {
                doc.bytes.extend_from_slice(line);
                doc.bytes.push(b'\n');
            }
        }
        // A JSON string never spans lines, so ending a line inside one means the document is
        // broken; a depth back at zero means it is complete.
        if doc.depth.in_string || doc.depth.depth <= 0 {
            return self.flush_pending(emit);
        }
        ControlFlow::Continue(())
    }

    fn flush_pending<F>(&mut self, emit: &mut F) -> ControlFlow<()>
    where
        F: FnMut(Lent<'_>) -> ControlFlow<()>,
    {
        match self.pending.take() {
            None => ControlFlow::Continue(()),
            Some(Pending {
                dropped_bytes: Some(bytes),
                line,
                ..
            }) => emit(Lent::Frame(Frame::TooLarge { line, bytes }, None)),
            Some(Pending { bytes, line, .. }) => emit(Lent::Frame(
                Frame::Record {
                    bytes: &bytes,
                    line,
                },
                None,
            )),
        }
    }
}

/// Refuses binary and UTF-16 content by its first bytes; the length of a UTF-8 byte order mark
/// to pass over (editors on Windows write one; it is no content).
fn sniff(head: &[u8]) -> Result<usize, FrameError> {
    let head = &head[..head.len().min(SNIFF)];
    if head.starts_with(&[0xff, 0xfe]) || head.starts_with(&[0xfe, 0xff]) {
        return Err(FrameError::Utf16);
    }
    if memchr::memchr(0, head).is_some() {
        return Err(FrameError::Binary);
    }
    Ok(if head.starts_with(UTF8_BOM) {
        UTF8_BOM.len()
    } else {
        0
    })
}

fn read_retrying<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames `input` and lists what came out (see [`shown`]), after checking that lending
    /// frames, in one read or a few bytes at a time, and framing over memory give the same.
    fn frames(input: &[u8], max_record: usize) -> (Vec<String>, Result<FrameStats, String>) {
        let mut out = Vec::new();
        let result = Framer::new(input, max_record).run(|frame| {
            out.push(shown(&frame));
            ControlFlow::Continue(())
        });
        let result = result.map_err(|e| e.to_string());
        let lent_whole = lending_frames(input, max_record);
        assert_eq!(
            (&lent_whole.0, &lent_whole.1),
            (&out, &result),
            "lent, one read"
        );
        let lent_trickled = lending_frames(Trickle(input, 0), max_record);
        assert_eq!(
            (&lent_trickled.0, &lent_trickled.1),
            (&out, &result),
            "lent, trickled"
        );
        let over = framed_over(input, max_record);
        assert_eq!((&over.0, &over.1), (&out, &result), "framed over memory");
        (out, result)
    }

    /// `line:text` for a record, `line:too_large:N` for one over the limit.
    fn shown(frame: &Frame<'_>) -> String {
        match frame {
            Frame::Record { bytes, line } => format!("{line}:{}", String::from_utf8_lossy(bytes)),
            Frame::TooLarge { line, bytes } => format!("{line}:too_large:{bytes}"),
        }
    }

    /// Frames `input` as a mapped file is framed, each line read back at the offset it was lent
    /// at.
    fn framed_over(input: &[u8], max_record: usize) -> (Vec<String>, Result<FrameStats, String>) {
        let mut out = Vec::new();
        // Nothing is lent from before what the framer said it was done with.
        let done_before = std::cell::Cell::new(0);
        let passed = |at: usize| {
            assert!(at >= done_before.get() && at <= input.len());
            done_before.set(at);
        };
        let result = Framer::new(io::empty(), max_record).run_over(input, passed, |lent| {
            let Lent::Frame(frame, at) = lent else {
                panic!("nothing is handed over when framing memory");
            };
            if let (Frame::Record { bytes, line }, Some(at)) = (&frame, at) {
                assert_eq!(
                    &input[at..at + bytes.len()],
                    *bytes,
                    "offset of line {line}"
                );
                assert!(
                    at >= done_before.get(),
                    "line {line} lent after it was passed"
                );
            }
            out.push(shown(&frame));
            ControlFlow::Continue(())
        });
        (out, result.map_err(|e| e.to_string()))
    }

    /// Hands out 16 bytes on the first read (the binary and UTF-16 sniff looks at it), then 3
    /// per read, so a record spans many refills of a lending framer.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf
                .len()
                .min(if self.1 == 0 { 16 } else { 3 })
                .min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            self.1 += 1;
            Ok(n)
        }
    }

    /// Frames as `run_lending`'s receiver would: lines are read from the buffers as they are
    /// handed over, each of which is taken and replaced by an empty or a short dirty one.
    fn lending_frames<R: Read>(
        reader: R,
        max_record: usize,
    ) -> (Vec<String>, Result<FrameStats, String>) {
        let mut out: Vec<String> = Vec::new();
        let mut waiting = Vec::new();
        let mut handed = 0;
        let result = Framer::new(reader, max_record).run_lending(|lent| {
            match lent {
                Lent::Frame(Frame::Record { bytes, line }, Some(at)) => {
                    waiting.push((out.len(), at, bytes.len()));
                    out.push(format!("{line}:"));
                }
                Lent::Frame(frame, _) => out.push(shown(&frame)),
                Lent::Done(buffer) => {
                    for (slot, at, len) in waiting.drain(..) {
                        let text = String::from_utf8_lossy(&buffer[at..at + len]);
                        out[slot].push_str(&text);
                    }
                    handed += 1;
                    *buffer = if handed % 2 == 0 {
                        Vec::new()
                    } else {
                        vec![b'#'; 5]
                    };
                }
            }
            ControlFlow::Continue(())
        });
        assert!(
            waiting.is_empty(),
            "lines lent in a buffer never handed over"
        );
        (out, result.map_err(|e| e.to_string()))
    }

    #[test]
    fn framing_cases() {
        let cases: &[(&str, &[u8], usize, &[&str])] = &[
            (
                "ndjson",
                b"{\"a\":1}\n{\"b\":2}\n",
                1024,
                &["1:{\"a\":1}", "2:{\"b\":2}"],
            ),
            (
                "no trailing newline",
                b"{\"a\":1}\n{\"b\":2}",
                1024,
                &["1:{\"a\":1}", "2:{\"b\":2}"],
            ),
            (
                "crlf and blank lines",
                b"{\"a\":1}\r\n\r\n  \n{\"b\":2}\r\n",
                1024,
                &["1:{\"a\":1}", "4:{\"b\":2}"],
            ),
            (
                "pretty document",
                b"{\n  \"items\": [\n    {\"v\": \"}\"}\n  ]\n}\n{\"c\":3}\n",
                1024,
                &[
                    "1:{\n  \"items\": [\n    {\"v\": \"}\"}\n  ]\n}\n",
                    "6:{\"c\":3}",
                ],
            ),
            (
                "truncated record does not swallow the next",
                b"{\"kind\":\"Event\",\"verb\":\"g\n{\"ok\":1}\n",
                1024,
                &["1:{\"kind\":\"Event\",\"verb\":\"g", "2:{\"ok\":1}"],
            ),
            (
                "unclosed document at end of input",
                b"{\n  \"a\": [1,\n",
                1024,
                &["1:{\n  \"a\": [1,\n"],
            ),
            (
                "text lines pass through",
                b"hello world\n2026-01-01T00:00:00Z {\"a\":1}\n",
                1024,
                &["1:hello world", "2:2026-01-01T00:00:00Z {\"a\":1}"],
            ),
            (
                "too long line",
                b"{\"a\":\"0123456789\"}\n{\"b\":1}\n",
                8,
                &["1:too_large:18", "2:{\"b\":1}"],
            ),
            (
                "too long document",
                b"[\n  11,\n  22,\n  33\n]\n{\"b\":1}\n",
                8,
                &["1:too_large:21", "6:{\"b\":1}"],
            ),
            (
                "too long line in a document",
                b"[\n  1111111111\n]\n{\"b\":1}\n",
                8,
                &["1:too_large:14", "3:]", "4:{\"b\":1}"],
            ),
            ("empty input", b"", 1024, &[]),
            (
                "array of one element per line at column 0 (indent=0)",
                b"[\n{\"a\":1},\n{\"b\":2}\n]\n{\"c\":3}\n",
                1024,
                &["1:[\n{\"a\":1},\n{\"b\":2}\n]\n", "5:{\"c\":3}"],
            ),
            (
                "cut-off object followed by indented records",
                b"{\"kind\":\"Event\",\"objectRef\":{\n  {\"ok\":1}\n  {\"ok\":2}\n",
                1024,
                &[
                    "1:{\"kind\":\"Event\",\"objectRef\":{\n",
                    "2:  {\"ok\":1}",
                    "3:  {\"ok\":2}",
                ],
            ),
            (
                "cut-off object followed by export text lines",
                b"{\"a\":{\n2026-10-14T09:00:00Z {\"ok\":1}\n",
                1024,
                &["1:{\"a\":{\n", "2:2026-10-14T09:00:00Z {\"ok\":1}"],
            ),
        ];
        for (name, input, max, want) in cases {
            let (got, result) = frames(input, *max);
            assert_eq!(got, *want, "case {name}");
            assert!(result.is_ok(), "case {name}: {result:?}");
        }
    }

    /// Lines of the limit's length, one byte shorter and one longer, last or not, with read
    /// buffers that grow to exactly the limit: the streaming and the in-memory framer agree, and
    /// a line of the limit's length is a record.
    #[test]
    fn lines_at_the_limit_frame_alike_from_a_stream_and_from_memory() {
        let limit = 32 << 10;
        // Lengths, not the long texts.
        let sized = |frame: Frame<'_>| match frame {
            Frame::Record { bytes, line } => format!("{line}:{}", bytes.len()),
            Frame::TooLarge { line, bytes } => format!("{line}:too_large:{bytes}"),
        };
        for len in [limit - 1, limit, limit + 1, 3 * limit] {
            for last in [false, true] {
                let mut input = b"{}\n".to_vec();
                input.extend(std::iter::repeat_n(b'x', len));
                if !last {
                    input.extend_from_slice(b"\n{}\n");
                }
                let mut streamed = Vec::new();
                let stats = Framer::new(&input[..], limit)
                    .chunk(8 << 10)
                    .run(|frame| {
                        streamed.push(sized(frame));
                        ControlFlow::Continue(())
                    })
                    .map_err(|e| e.to_string());
                let mut over = Vec::new();
                let over_stats = Framer::new(io::empty(), limit)
                    .run_over(
                        &input,
                        |_| {},
                        |lent| {
                            if let Lent::Frame(frame, _) = lent {
                                over.push(sized(frame));
                            }
                            ControlFlow::Continue(())
                        },
                    )
                    .map_err(|e| e.to_string());
                assert_eq!(
                    (&streamed, &stats),
                    (&over, &over_stats),
                    "{len} bytes, last {last}"
                );
                let expected = if len <= limit {
                    format!("2:{len}")
                } else {
                    format!("2:too_large:{len}")
                };
                assert_eq!(streamed[1], expected, "{len} bytes, last {last}");
            }
        }
    }

    /// A buffer grown for one long line is not what the following reads go into: every batch
    /// handed on would come to hold one that size.
    #[test]
    fn lent_buffers_return_to_their_size_after_a_long_line() {
        let mut input = vec![b'x'; 100 << 10];
        input.push(b'\n');
        for k in 0..2000 {
            input.extend_from_slice(
                format!("{{\"n\":{k},\"pad\":\"{}\"}}\n", "y".repeat(40)).as_bytes(),
            );
        }
        let mut sizes = Vec::new();
        Framer::new(&input[..], 1 << 20)
            .chunk(SNIFF)
            .run_lending(|lent| {
                if let Lent::Done(buffer) = lent {
                    sizes.push(buffer.len());
                    *buffer = Vec::new();
                }
                ControlFlow::Continue(())
            })
            .expect("frames");
        assert!(
            sizes.iter().any(|&n| n > 100 << 10),
            "the long line grew one: {sizes:?}"
        );
        assert!(
            sizes.len() > 5 && sizes[2..].iter().all(|&n| n == SNIFF),
            "{sizes:?}"
        );
    }

    #[test]
    fn byte_order_marks() {
        let (got, result) = frames(b"\xef\xbb\xbf{\"a\":1}\n", 1024);
        assert_eq!(
            (got, result.is_ok()),
            (vec!["1:{\"a\":1}".to_owned()], true)
        );
        let (got, result) = frames(b"\xff\xfe{\x00\"\x00", 1024);
        assert!(got.is_empty());
        assert!(result.unwrap_err().contains("UTF-16"));
    }

    #[test]
    fn binary_is_refused() {
        let (got, result) = frames(b"\x7fELF\x02\x01\x01\x00\x00\x00", 1024);
        assert!(got.is_empty());
        assert!(result.unwrap_err().contains("binary"));
    }

    #[test]
    fn long_line_across_many_reads_is_bounded() {
        let mut input = vec![b'x'; 3 * CHUNK + 17];
        input.extend_from_slice(b"\n{\"b\":1}\n");
        let (got, _) = frames(&input, CHUNK);
        assert_eq!(
            got,
            [
                format!("1:too_large:{}", 3 * CHUNK + 17),
                "2:{\"b\":1}".to_owned()
            ]
        );
    }

    #[test]
    fn read_error_is_reported_with_its_line() {
        struct Failing(usize);
        impl Read for Failing {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stream cut"));
                }
                self.0 -= 1;
                let data = b"{\"a\":1}\n{\"b\"";
                buf[..data.len()].copy_from_slice(data);
                Ok(data.len())
            }
        }
        let mut out = Vec::new();
        let err = Framer::new(Failing(1), 1024)
            .run(|f| {
                if let Frame::Record { bytes, line } = f {
                    out.push(format!("{line}:{}", String::from_utf8_lossy(bytes)));
                }
                ControlFlow::Continue(())
            })
            .unwrap_err();
        // The cut-off line opens a JSON value, so it is handed out as an unfinished document.
        assert_eq!(out, ["1:{\"a\":1}", "2:{\"b\"\n"]);
        assert!(err.to_string().contains("after line 2"), "{err}");
    }
}
