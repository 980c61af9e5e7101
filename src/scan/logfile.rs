//! Container log files: Docker json-file, CRI (containerd, CRI-O) and plain text, read in large
//! blocks. The anchor prefilter runs over the raw bytes of a block; only the lines it hits are
//! decoded (JSON unescaped, CRI prefix removed, partial lines joined) and given to the detectors.
//! Lines without an anchor cost a memchr for the line count and nothing else.

use std::borrow::Cow;
use std::io::{self, Read};

use std::collections::HashSet;

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
    /// Byte offset (in the block) just past its last fragment's line end.
    end: usize,
    /// Where each of its fragments' lines starts.
    fragments: Vec<usize>,
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

fn fragment_at(block: &[u8], start: usize) -> (Fragment<'_>, usize) {
    let (content_end, next) = line_end(block, start);
    (decode_line(&block[start..content_end]), next)
}

/// Lines of the other stream a partial message may be interleaved with (CRI writes stdout and
/// stderr into one file).
const MAX_INTERLEAVED: usize = 16;

enum Assembled {
    Done(Message),
    /// The message goes on past the end of the block.
    NeedMore,
}

/// Assembles the message whose first fragment starts at `start`: a partial fragment goes on in
/// the next line of the same stream.
fn assemble(block: &[u8], start: usize, at_eof: bool) -> Assembled {
    let (first, mut pos) = fragment_at(block, start);
    let mut message = Message {
        text: first.text.into_owned(),
        end: pos,
        fragments: vec![start],
        stream: first.stream,
        time: first.time,
        malformed: first.malformed,
    };
    let mut partial = first.partial;
    let mut skipped = 0;
    while partial && message.fragments.len() < MAX_FRAGMENTS {
        if pos >= block.len() {
            if at_eof {
                break;
            }
            return Assembled::NeedMore;
        }
        let (fragment, next) = fragment_at(block, pos);
        if fragment.stream != message.stream {
            skipped += 1;
            if skipped > MAX_INTERLEAVED {
                break;
            }
            pos = next;
            continue;
        }
        message.text.push_str(&fragment.text);
        message.malformed |= fragment.malformed;
        message.fragments.push(pos);
        message.end = next;
        partial = fragment.partial;
        pos = next;
    }
    Assembled::Done(message)
}

/// The start of the partial run the line at `start` belongs to: the earliest line of the same
/// stream whose message goes on into this one (the line itself when none does).
fn run_start(block: &[u8], start: usize) -> usize {
    let (this, _) = fragment_at(block, start);
    let stream = this.stream;
    let mut run = start;
    let mut cursor = start;
    let mut fragments = 0;
    let mut skipped = 0;
    while cursor > 0 && fragments < MAX_FRAGMENTS && skipped <= MAX_INTERLEAVED {
        let previous = line_start(block, cursor - 1);
        let (fragment, _) = fragment_at(block, previous);
        cursor = previous;
        if fragment.stream != stream {
            skipped += 1;
            continue;
        }
        if !fragment.partial {
            break;
        }
        run = previous;
        fragments += 1;
        skipped = 0;
    }
    run
}

/// Where the block's unfinished messages begin: a partial line near the end whose message
/// goes on in the next block is carried over whole.
fn carry_point(block: &[u8]) -> usize {
    let mut carry = block.len();
    let mut cursor = block.len();
    for _ in 0..=MAX_INTERLEAVED {
        if cursor == 0 {
            break;
        }
        let start = line_start(block, cursor - 1);
        if let Assembled::NeedMore = assemble(block, start, false) {
            carry = carry.min(run_start(block, start));
        }
        cursor = start;
    }
    carry
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
    let carry = if at_eof {
        block.len()
    } else {
        carry_point(block)
    };
    let mut counted_to = 0usize;
    let mut line_no = first_line;
    // Lines already part of a finding's message (its fragments, a key's body): a hit there is
    // not a new message.
    let mut consumed: HashSet<usize> = HashSet::new();
    let mut last_line = usize::MAX;
    for hit in detectors.candidates(block) {
        let start = line_start(block, hit);
        if start == last_line || consumed.contains(&start) {
            continue;
        }
        if start >= carry {
            return carry;
        }
        last_line = start;
        line_no += memchr_iter(b'\n', &block[counted_to..start]).count() as u64;
        counted_to = start;
        let mut run = run_start(block, start);
        if consumed.contains(&run) {
            run = start; // the run's head was a capped message of its own
        }
        let mut message = match assemble(block, run, at_eof) {
            Assembled::Done(m) => m,
            Assembled::NeedMore => return run,
        };
        if !message.fragments.contains(&start) {
            // A run longer than a message may be: the hit's line begins a message of its own.
            run = start;
            message = match assemble(block, run, at_eof) {
                Assembled::Done(m) => m,
                Assembled::NeedMore => return run,
            };
        }
        let message_line = line_no - memchr_iter(b'\n', &block[run..start]).count() as u64;
        let (mut detections, needs) = detectors.detect(&message.text, &[]);
        let mut following: Vec<Message> = Vec::new();
        if needs.any() {
            let wanted = needs.lines_wanted();
            let only_pem = needs.pem_body && !needs.aws_secret && !needs.json_block;
            let mut pos = message.end;
            let mut complete = false;
            let mut looked = 0;
            while following.len() < wanted && looked < wanted * 4 {
                if pos >= block.len() {
                    complete = at_eof;
                    break;
                }
                looked += 1;
                let m = match assemble(block, pos, at_eof) {
                    Assembled::Done(m) => m,
                    Assembled::NeedMore => break,
                };
                pos = m.end;
                if m.stream != message.stream {
                    continue; // the other stream's lines are their own messages
                }
                // A key's body is base64 lines up to its END line; anything else ends it.
                let ends_body = only_pem
                    && (m.text.contains("-----END") || !super::detect::is_pem_body_line(&m.text));
                following.push(m);
                if ends_body {
                    complete = true;
                    break;
                }
            }
            if following.len() == wanted || looked >= wanted * 4 {
                complete = true;
            }
            if !complete {
                return run;
            }
            let texts: Vec<&str> = following.iter().map(|m| m.text.as_str()).collect();
            detections = detectors.detect(&message.text, &texts).0;
        }
        consumed.extend(message.fragments.iter().copied());
        for d in &detections {
            let used = d.lines_used.min(following.len());
            if used == 0 {
                continue;
            }
            // An AWS secret a few lines down is that one line; a key's body is every line to it.
            let lines = if d.kind == "aws_access_key" {
                &following[used - 1..used]
            } else {
                &following[..used]
            };
            for m in lines {
                consumed.extend(m.fragments.iter().copied());
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
    }
    carry
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
    fn partial_lines_join_within_their_own_stream() {
        // CRI interleaves stdout and stderr: the stdout pieces join across the stderr line.
        let log = "2026-11-28T10:00:00.1Z stdout P token ghp_aB3dE5gH7jK9mN1pQ3\n2026-11-28T10:00:00.2Z stderr F warning: slow\n2026-11-28T10:00:00.3Z stdout F sT5vW7yZ9bC1dE3fG5 end\n";
        assert_eq!(kinds_and_lines(log), vec![("github_token".to_owned(), 1)]);
    }

    #[test]
    fn lines_between_a_key_id_and_its_secret_are_still_scanned() {
        let log = "AWS_ACCESS_KEY_ID=AKIAZ2QRSTUVWXYZ2345\nGITHUB_TOKEN=ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5\nAWS_SECRET_ACCESS_KEY=Ab3dEfGh1jKlMn0pQrStUvWxYz0123456789AbCd\n";
        assert_eq!(
            kinds_and_lines(log),
            vec![
                ("aws_access_key".to_owned(), 1),
                ("github_token".to_owned(), 2)
            ]
        );
    }

    #[test]
    fn a_docker_escaped_ampersand_in_a_url_password() {
        let log = "{\"log\":\"db postgres://app:p\\u0026ssw0rd9Qz@db:5432/app\\n\",\"stream\":\"stdout\",\"time\":\"t\"}\n";
        assert_eq!(
            kinds_and_lines(log),
            vec![("url_credentials".to_owned(), 1)]
        );
    }

    #[test]
    fn a_partial_run_longer_than_a_message_still_finds_its_credentials() {
        let mut log = String::new();
        for i in 1..=300 {
            let text = if i == 281 {
                "token ghp_aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5 "
            } else {
                "x"
            };
            log.push_str(&format!("2026-11-28T10:00:00.1Z stdout P {text}\n"));
        }
        log.push_str("2026-11-28T10:00:00.1Z stdout F end\n");
        assert_eq!(
            kinds_and_lines(&log),
            vec![("github_token".to_owned(), 281)]
        );
    }

    #[test]
    fn a_partial_run_across_a_block_boundary_is_carried_whole() {
        // 1,001-byte lines put the 8 MiB block boundary inside line 8,381: a CRI partial run
        // from line 8,378 to 8,384 holds an AWS key id (in its first piece) and its secret (in
        // a later one), with no anchor in the block's part of it but the key id.
        let filler = format!("{}\n", "x".repeat(1000));
        let mut log = filler.repeat(8377);
        log.push_str("2026-11-28T10:00:00.1Z stdout P key AKIAZ2QRSTUVWXYZ2345 \n");
        for _ in 0..5 {
            log.push_str(&format!(
                "2026-11-28T10:00:00.1Z stdout P {}\n",
                "y".repeat(960)
            ));
        }
        log.push_str("2026-11-28T10:00:00.1Z stdout F aws_secret_access_key=Ab3dEfGh1jKlMn0pQrStUvWxYz0123456789AbCd\n");
        log.push_str(&filler);
        let detectors = Detectors::new();
        let mut found = Vec::new();
        let (stats, failure) = scan_log(&detectors, log.as_bytes(), |h| {
            found.push((h.detection.kind, h.line, h.detection.severity))
        });
        assert!(failure.is_none());
        assert_eq!(stats.lines, 8385);
        assert_eq!(
            found,
            vec![("aws_access_key", 8378, crate::findings::Severity::Critical)]
        );
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
