//! Container log files: Docker json-file, CRI (containerd, CRI-O) and plain text, read in large
//! blocks. The anchor prefilter runs over the raw bytes of a block; only the lines it hits are
//! decoded (JSON unescaped, CRI prefix removed, partial lines joined) and given to the detectors.
//! Lines without an anchor cost a memchr for the line count and nothing else.

use std::borrow::Cow;
use std::io::{self, Read};

use memchr::{memchr, memchr_iter, memrchr};

use super::detect::{Detection, Detectors};

/// Bytes read per block; a block ends at a line end, the rest is carried to the next.
const BLOCK: usize = 8 << 20;
/// How many partial fragments (Docker and CRI split lines at 16 KiB) one message may join.
const MAX_FRAGMENTS: usize = 256;
/// The size of the pieces dockerd's json-file driver cuts long messages into.
const DOCKER_PIECE: usize = 16 << 10;

/// One detection with where it was.
pub struct LineHit {
    pub line: u64,
    pub detection: Detection,
    pub stream: Option<String>,
    pub time: Option<String>,
}

/// What reading one log file found besides credentials.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogStats {
    pub bytes: u64,
    pub lines: u64,
    /// Lines longer than a block, scanned in pieces (a credential across a cut can be missed).
    pub long_lines: u64,
    /// Lines that claimed a format they did not hold (a `{"log":` line that is not JSON).
    pub malformed: u64,
}

/// One physical line, decoded.
struct Fragment<'b> {
    text: Cow<'b, str>,
    /// Docker json-file `log` without its final newline, or a CRI `P` line: the message goes
    /// on in the next line.
    partial: bool,
    stream: Option<String>,
    time: Option<String>,
    malformed: bool,
}

#[derive(serde::Deserialize)]
struct DockerLine {
    log: String,
    #[serde(default)]
    stream: Option<String>,
    #[serde(default)]
    time: Option<String>,
}

fn decode_line(line: &[u8]) -> Fragment<'_> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.starts_with(b"{\"log\":") || line.starts_with(b"{\"log\" :") {
        return match serde_json::from_slice::<DockerLine>(line) {
            Ok(d) => {
                // dockerd splits a long message into 16 KiB pieces, each without the final
                // newline. A short piece without one is a message that simply had none (a
                // process that exited mid-line, or logs written by other tools): not joined.
                let partial = !d.log.ends_with('\n') && d.log.len() >= DOCKER_PIECE;
                let text = d.log.trim_end_matches(['\n', '\r']).to_owned();
                Fragment {
                    text: Cow::Owned(text),
                    partial,
                    stream: d.stream,
                    time: d.time,
                    malformed: false,
                }
            }
            Err(_) => Fragment {
                text: String::from_utf8_lossy(line),
                partial: false,
                stream: None,
                time: None,
                malformed: true,
            },
        };
    }
    if let Some(cri) = decode_cri(line) {
        return cri;
    }
    Fragment {
        text: String::from_utf8_lossy(line),
        partial: false,
        stream: None,
        time: None,
        malformed: false,
    }
}

/// `<RFC3339Nano> stdout|stderr F|P <text>`, as the kubelet's CRI log writers put it.
fn decode_cri(line: &[u8]) -> Option<Fragment<'_>> {
    if !line.first().is_some_and(u8::is_ascii_digit) {
        return None;
    }
    let mut parts = line.splitn(4, |&b| b == b' ');
    let time = parts.next()?;
    let stream = parts.next()?;
    let tag = parts.next()?;
    let text = parts.next().unwrap_or_default();
    if time.len() < 20 || time.get(10) != Some(&b'T') {
        return None;
    }
    if stream != b"stdout" && stream != b"stderr" {
        return None;
    }
    // Tags are `F` or `P`, possibly with more flags after a colon in future runtimes.
    let partial = match tag.split(|&b| b == b':').next()? {
        b"F" => false,
        b"P" => true,
        _ => return None,
    };
    Some(Fragment {
        text: String::from_utf8_lossy(text),
        partial,
        stream: Some(String::from_utf8_lossy(stream).into_owned()),
        time: Some(String::from_utf8_lossy(time).into_owned()),
        malformed: false,
    })
}

/// A message assembled from one or more fragments.
struct Message {
    text: String,
    /// Byte offset (in the block) just past its last line's end.
    end: usize,
    stream: Option<String>,
    time: Option<String>,
    malformed: bool,
}

fn line_start(block: &[u8], at: usize) -> usize {
    memrchr(b'\n', &block[..at]).map_or(0, |i| i + 1)
}

fn line_end(block: &[u8], at: usize) -> (usize, usize) {
    match memchr(b'\n', &block[at..]) {
        Some(i) => (at + i, at + i + 1),
        None => (block.len(), block.len()),
    }
}

enum Assembled {
    Done(Message),
    /// The message goes on past the end of the block.
    NeedMore,
}

/// Assembles the message whose first fragment starts at `start`.
fn assemble(block: &[u8], start: usize, at_eof: bool) -> Assembled {
    let mut pos = start;
    let mut message = Message {
        text: String::new(),
        end: start,
        stream: None,
        time: None,
        malformed: false,
    };
    for n in 0..MAX_FRAGMENTS {
        let (content_end, next) = line_end(block, pos);
        let fragment = decode_line(&block[pos..content_end]);
        if n == 0 {
            message.stream = fragment.stream.clone();
            message.time = fragment.time.clone();
        }
        message.malformed |= fragment.malformed;
        message.text.push_str(&fragment.text);
        message.end = next;
        pos = next;
        if !fragment.partial {
            break;
        }
        if pos >= block.len() {
            if at_eof {
                break;
            }
            return Assembled::NeedMore;
        }
    }
    Assembled::Done(message)
}

/// The start of the partial run the line at `start` belongs to (the line itself when the one
/// before it is complete).
fn run_start(block: &[u8], start: usize) -> (usize, u64) {
    let mut start = start;
    let mut back = 0u64;
    for _ in 0..MAX_FRAGMENTS {
        if start == 0 {
            break;
        }
        let previous = line_start(block, start - 1);
        if !decode_line(&block[previous..start - 1]).partial {
            break;
        }
        start = previous;
        back += 1;
    }
    (start, back)
}

/// Reads a log stream and reports every detection with its line; a read failure ends the
/// stream and is returned beside what was read before it.
pub fn scan_log<R: Read>(
    detectors: &Detectors,
    mut reader: R,
    mut on_hit: impl FnMut(LineHit),
) -> (LogStats, Option<io::Error>) {
    let mut stats = LogStats::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut first_line: u64 = 1;
    let mut eof = false;
    let mut ends_with_newline = true;
    let mut failure = None;
    let mut in_long_line = false;
    loop {
        while !eof && buf.len() < BLOCK {
            // `take` + `read_to_end` grows the buffer as data comes: a small file costs a small
            // buffer.
            let want = (BLOCK - buf.len()) as u64;
            match (&mut reader).take(want).read_to_end(&mut buf) {
                Ok(0) => eof = true,
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // What was read before the failure (a truncated gzip) is still scanned.
                    failure = Some(e);
                    eof = true;
                }
            }
        }
        if buf.is_empty() {
            break;
        }
        // The block ends at its last line end; a block without one is a single huge line,
        // scanned in pieces.
        let (end, cut_line) = if eof {
            (buf.len(), false)
        } else {
            match memrchr(b'\n', &buf) {
                Some(i) => (i + 1, false),
                None => (buf.len(), true),
            }
        };
        let at_eof = eof || cut_line;
        let mut consumed = scan_block(
            detectors,
            &buf[..end],
            at_eof,
            first_line,
            &mut stats,
            &mut on_hit,
        );
        if consumed == 0 && !at_eof {
            // Nothing could finish inside a full block (a message longer than the block):
            // scan what there is rather than wait for ever.
            consumed = scan_block(
                detectors,
                &buf[..end],
                true,
                first_line,
                &mut stats,
                &mut on_hit,
            );
        }
        let newlines = memchr_iter(b'\n', &buf[..consumed]).count() as u64;
        first_line += newlines;
        stats.lines += newlines;
        stats.bytes += consumed as u64;
        // One over-long line may be cut several times; it is counted once.
        if cut_line && !in_long_line {
            stats.long_lines += 1;
        }
        in_long_line = cut_line;
        if consumed > 0 {
            ends_with_newline = buf[consumed - 1] == b'\n';
        }
        buf.drain(..consumed);
        if eof && buf.is_empty() {
            break;
        }
    }
    // A last line without a final newline is still a line.
    if !ends_with_newline {
        stats.lines += 1;
    }
    (stats, failure)
}

/// Scans one block; returns how many bytes are done (the rest is presented again with more
/// data, because a message or its following lines run past the block's end).
fn scan_block(
    detectors: &Detectors,
    block: &[u8],
    at_eof: bool,
    first_line: u64,
    stats: &mut LogStats,
    on_hit: &mut impl FnMut(LineHit),
) -> usize {
    let mut counted_to = 0usize;
    let mut line_no = first_line;
    let mut done_to = 0usize;
    for hit in detectors.candidates(block) {
        if hit < done_to {
            continue;
        }
        let start = line_start(block, hit);
        line_no += memchr_iter(b'\n', &block[counted_to..start]).count() as u64;
        counted_to = start;
        let (run, back) = run_start(block, start);
        let run = run.max(done_to);
        let message_line = line_no - back;
        let message = match assemble(block, run, at_eof) {
            Assembled::Done(m) => m,
            Assembled::NeedMore => return run,
        };
        let (mut detections, needs) = detectors.detect(&message.text, &[]);
        let mut skip_to = message.end;
        if needs.any() {
            let wanted = needs.lines_wanted();
            let mut following = Vec::new();
            let mut pos = message.end;
            let mut complete = false;
            while following.len() < wanted {
                if pos >= block.len() {
                    complete = at_eof;
                    break;
                }
                match assemble(block, pos, at_eof) {
                    Assembled::Done(m) => {
                        pos = m.end;
                        following.push(m);
                    }
                    Assembled::NeedMore => break,
                }
            }
            if following.len() == wanted {
                complete = true;
            }
            if !complete {
                return run;
            }
            let texts: Vec<&str> = following.iter().map(|m| m.text.as_str()).collect();
            detections = detectors.detect(&message.text, &texts).0;
            // The lines that completed a key are part of this finding, not new ones.
            if let Some(used) = detections
                .iter()
                .map(|d| d.lines_used)
                .max()
                .filter(|&n| n > 0)
            {
                skip_to = following[used - 1].end;
            }
        }
        if message.malformed {
            stats.malformed += 1;
        }
        for detection in detections {
            on_hit(LineHit {
                line: message_line,
                detection,
                stream: message.stream.clone(),
                time: message.time.clone(),
            });
        }
        done_to = skip_to;
    }
    block.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_lines(input: &str) -> Vec<(String, u64)> {
        let detectors = Detectors::new();
        let mut out = Vec::new();
        scan_log(&detectors, input.as_bytes(), |h| {
            out.push((h.detection.kind.to_owned(), h.line))
        });
        out
    }

    #[test]
    fn cri_partial_lines_are_joined_and_reported_at_the_first() {
        let token = "ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5";
        let (a, b) = token.split_at(20);
        let log = format!(
            "2026-11-28T10:00:00.1Z stdout F hello\n2026-11-28T10:00:01.1Z stdout P using {a}\n2026-11-28T10:00:01.1Z stdout F {b} now\n"
        );
        assert_eq!(kinds_and_lines(&log), vec![("github_token".to_owned(), 2)]);
    }

    #[test]
    fn docker_json_lines_are_unescaped() {
        let log = "{\"log\":\"ok\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n{\"log\":\"{\\\"password\\\":\\\"Tr0ub4dor\\u00263xQ!\\\"}\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n";
        assert_eq!(
            kinds_and_lines(log),
            vec![("secret_assignment".to_owned(), 2)]
        );
    }

    #[test]
    fn a_private_key_across_lines_is_one_finding() {
        let log = "start\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAvQ1l0Zx3k9yQ2w8r7T5u6V4b3N2m1L0k9J8h7G6f5E4d3C2b\nA1z9Y8x7W6v5U4t3S2r1Q0p9O8n7M6l5K4j3I2h1G0f9E8d7C6b5A4z3Y2x1W0v9\n-----END RSA PRIVATE KEY-----\nafter\n";
        assert_eq!(kinds_and_lines(log), vec![("private_key".to_owned(), 2)]);
    }

    #[test]
    fn line_numbers_survive_block_boundaries() {
        // Enough lines to cross several blocks, with credentials near the ends.
        let filler = "x".repeat(1000);
        let mut log = String::new();
        let mut expected = Vec::new();
        for i in 1..=20_000u64 {
            if i % 7919 == 0 {
                log.push_str("key AKIAZ2QRSTUVWXYZ2345 created\n");
                expected.push(("aws_access_key".to_owned(), i));
            } else {
                log.push_str(&filler);
                log.push('\n');
            }
        }
        assert_eq!(kinds_and_lines(&log), expected);
    }
}
