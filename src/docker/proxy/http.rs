//! Just enough HTTP/1.1 to relay the Docker API faithfully: request and response heads parsed
//! with `httparse` (and forwarded as the bytes that arrived), bodies relayed by their framing —
//! a length, chunks, or until the connection closes — piece by piece as they arrive, so a
//! followed log or an event stream reaches the client at once. Memory per connection is the
//! read buffer plus at most one head.

use std::io::{self, Read, Write};

/// Largest request or response head accepted (dockerd's own limit is Go's 1 MiB; real heads are
/// well under 8 KiB).
pub const MAX_HEAD: usize = 64 * 1024;
const MAX_HEADERS: usize = 128;
/// A chunk-size line or trailer line longer than this is not HTTP.
const MAX_LINE: usize = 4096;
const BUFFER: usize = 64 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("{what} head larger than {MAX_HEAD} bytes")]
    HeadTooLarge { what: &'static str },
    #[error("malformed {what} head: {reason}")]
    Malformed { what: &'static str, reason: String },
    #[error("connection closed inside a {what}")]
    Truncated { what: &'static str },
    #[error("malformed chunked body: {0}")]
    BadChunk(&'static str),
}

/// A stream read through one reusable buffer, so bytes read past a head (the start of a body or
/// of a hijacked stream) are kept for whoever reads next.
pub struct Reader<R> {
    pub inner: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
}

impl<R: Read> Reader<R> {
    pub fn new(inner: R) -> Self {
        Reader {
            inner,
            buf: vec![0; BUFFER].into_boxed_slice(),
            start: 0,
            end: 0,
        }
    }

    fn buffered(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
    }

    /// Reads more into the buffer; Ok(0) at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.end == self.buf.len() {
            if self.start == 0 {
                // Full with nothing consumed: only a head can do this, and it is capped.
                return Err(io::Error::other("read buffer full"));
            }
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Bytes read ahead and not yet consumed (handed over when a stream is hijacked).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let out = self.buffered().to_vec();
        self.consume(out.len());
        out
    }

    /// Reads one head (request or response). `None` when the peer closed cleanly before sending
    /// anything.
    fn read_head<T>(
        &mut self,
        what: &'static str,
        parse: impl Fn(&[u8]) -> Result<Option<(usize, T)>, String>,
    ) -> Result<Option<(Vec<u8>, T)>, HttpError> {
        loop {
            if !self.buffered().is_empty() {
                match parse(self.buffered()) {
                    Ok(Some((len, parsed))) => {
                        let raw = self.buffered()[..len].to_vec();
                        self.consume(len);
                        return Ok(Some((raw, parsed)));
                    }
                    Ok(None) if self.buffered().len() >= MAX_HEAD => {
                        return Err(HttpError::HeadTooLarge { what });
                    }
                    Ok(None) => {}
                    Err(reason) => return Err(HttpError::Malformed { what, reason }),
                }
            }
            if self.fill()? == 0 {
                return if self.buffered().is_empty() {
                    Ok(None)
                } else {
                    Err(HttpError::Truncated { what })
                };
            }
        }
    }

    pub fn read_request(&mut self) -> Result<Option<Request>, HttpError> {
        let parsed = self.read_head("request", |buf| {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(buf) {
                Ok(httparse::Status::Complete(len)) => Ok(Some((
                    len,
                    Request {
                        method: req.method.unwrap_or_default().to_owned(),
                        target: req.path.unwrap_or_default().to_owned(),
                        http10: req.version == Some(0),
                        headers: Headers::of(req.headers),
                    },
                ))),
                Ok(httparse::Status::Partial) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        })?;
        Ok(parsed.map(|(raw, mut request)| {
            request.headers.raw = raw;
            request
        }))
    }

    pub fn read_response(&mut self) -> Result<Option<Response>, HttpError> {
        let parsed = self.read_head("response", |buf| {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(buf) {
                Ok(httparse::Status::Complete(len)) => Ok(Some((
                    len,
                    Response {
                        status: resp.code.unwrap_or_default(),
                        http10: resp.version == Some(0),
                        headers: Headers::of(resp.headers),
                    },
                ))),
                Ok(httparse::Status::Partial) => Ok(None),
                Err(e) => Err(e.to_string()),
            }
        })?;
        Ok(parsed.map(|(raw, mut response)| {
            response.headers.raw = raw;
            response
        }))
    }

    /// Reads more, first sending what `out` holds: bytes are coalesced into few writes while
    /// more are at hand, and never held back while we wait.
    fn fill_flushing(&mut self, out: &mut impl Write) -> io::Result<usize> {
        out.flush()?;
        self.fill()
    }

    /// One CRLF-terminated line (chunk size or trailer), consumed.
    fn read_line(&mut self, out: &mut impl Write) -> Result<Vec<u8>, HttpError> {
        loop {
            if let Some(at) = memchr::memchr(b'\n', self.buffered()) {
                let line = self.buffered()[..=at].to_vec();
                self.consume(at + 1);
                return Ok(line);
            }
            if self.buffered().len() > MAX_LINE {
                return Err(HttpError::BadChunk("line too long"));
            }
            if self.fill_flushing(out)? == 0 {
                return Err(HttpError::Truncated {
                    what: "chunked body",
                });
            }
        }
    }

    /// Relays up to `n` bytes as they arrive; a copy of the first `tap.limit` bytes is kept.
    fn relay_exact(
        &mut self,
        out: &mut impl Write,
        mut n: u64,
        tap: &mut Tap,
        what: &'static str,
    ) -> Result<(), HttpError> {
        while n > 0 {
            if self.buffered().is_empty() && self.fill_flushing(out)? == 0 {
                return Err(HttpError::Truncated { what });
            }
            let take = self
                .buffered()
                .len()
                .min(usize::try_from(n).unwrap_or(usize::MAX));
            let piece = &self.buf[self.start..self.start + take];
            tap.keep(piece);
            out.write_all(piece)?;
            self.consume(take);
            n -= take as u64;
        }
        Ok(())
    }

    /// Relays a body by its framing. Chunked bodies pass through as written (sizes, extensions,
    /// trailers); the tap sees the data only. Everything is sent when this returns.
    pub fn relay_body(
        &mut self,
        out: &mut impl Write,
        framing: Framing,
        tap: &mut Tap,
    ) -> Result<(), HttpError> {
        // dockerd writes its chunks 4 KiB at a time: gathered, they cost one write, not three.
        let mut out = io::BufWriter::with_capacity(BUFFER, out);
        self.relay_framed(&mut out, framing, tap)?;
        out.flush()?;
        Ok(())
    }

    fn relay_framed(
        &mut self,
        out: &mut impl Write,
        framing: Framing,
        tap: &mut Tap,
    ) -> Result<(), HttpError> {
        match framing {
            Framing::None => Ok(()),
            Framing::Length(n) => self.relay_exact(out, n, tap, "body"),
            Framing::Chunked => loop {
                let line = self.read_line(out)?;
                out.write_all(&line)?;
                let size = chunk_size(&line)?;
                if size == 0 {
                    // Trailers, then the empty line.
                    loop {
                        let trailer = self.read_line(out)?;
                        out.write_all(&trailer)?;
                        if trailer == b"\r\n" || trailer == b"\n" {
                            return Ok(());
                        }
                    }
                }
                self.relay_exact(out, size, tap, "chunk")?;
                let end = self.read_line(out)?;
                if end != b"\r\n" && end != b"\n" {
                    return Err(HttpError::BadChunk("chunk data longer than its size"));
                }
                out.write_all(&end)?;
            },
            Framing::UntilClose => loop {
                if self.buffered().is_empty() && self.fill_flushing(out)? == 0 {
                    return Ok(());
                }
                let piece = self.buffered();
                tap.keep(piece);
                out.write_all(piece)?;
                let n = piece.len();
                self.consume(n);
            },
        }
    }

    /// Reads a whole body of known length into memory (for bodies whose facts decide the call,
    /// never more than `limit`).
    pub fn read_exact_body(&mut self, n: u64) -> Result<Vec<u8>, HttpError> {
        let mut body = Vec::with_capacity(usize::try_from(n).unwrap_or(0));
        let mut tap = Tap::new(0);
        self.relay_exact(&mut body, n, &mut tap, "body")?;
        Ok(body)
    }
}

fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let text = std::str::from_utf8(line).map_err(|_| HttpError::BadChunk("size not text"))?;
    let hex = text
        .trim_end_matches(['\r', '\n'])
        .split(';')
        .next()
        .unwrap_or("");
    // Strictly hex digits, as Go's reader wants: `+5` or ` 5` is how framings start to differ.
    if hex.is_empty() || hex.len() > 15 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(HttpError::BadChunk("bad chunk size"));
    }
    u64::from_str_radix(hex, 16).map_err(|_| HttpError::BadChunk("bad chunk size"))
}

/// A copy of a body's first bytes, for the facts rules need (a create's binds, an exec's
/// command, an exec id); nothing past `limit` is kept.
pub struct Tap {
    pub data: Vec<u8>,
    limit: usize,
    pub overflowed: bool,
}

impl Tap {
    pub fn new(limit: usize) -> Self {
        Tap {
            data: Vec::new(),
            limit,
            overflowed: false,
        }
    }

    fn keep(&mut self, piece: &[u8]) {
        if self.limit == 0 {
            return;
        }
        let room = self.limit.saturating_sub(self.data.len());
        if piece.len() > room {
            self.overflowed = true;
        }
        self.data.extend_from_slice(&piece[..piece.len().min(room)]);
    }

    /// The whole body, when it fitted.
    pub fn complete(&self) -> Option<&[u8]> {
        (self.limit > 0 && !self.overflowed).then_some(self.data.as_slice())
    }
}

/// How a body ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// The headers a relay needs, and the head as it arrived.
#[derive(Debug, Default)]
pub struct Headers {
    pub raw: Vec<u8>,
    content_length: Option<Result<u64, ()>>,
    transfer_encoding: bool,
    chunked: bool,
    connection_close: bool,
    connection_keep_alive: bool,
    pub content_type: Option<String>,
    pub upgrade: bool,
}

impl Headers {
    fn of(headers: &[httparse::Header<'_>]) -> Headers {
        let mut out = Headers::default();
        for h in headers {
            let value = String::from_utf8_lossy(h.value);
            let value = value.trim();
            if h.name.eq_ignore_ascii_case("content-length") {
                let parsed = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
                    value.parse::<u64>().map_err(|_| ())
                } else {
                    Err(())
                };
                // Two different lengths are as bad as an unreadable one.
                out.content_length = match out.content_length {
                    Some(Ok(before)) if parsed != Ok(before) => Some(Err(())),
                    _ => Some(parsed),
                };
            } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                out.transfer_encoding = true;
                out.chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
            } else if h.name.eq_ignore_ascii_case("connection") {
                for token in value.split(',') {
                    let token = token.trim();
                    out.connection_close |= token.eq_ignore_ascii_case("close");
                    out.connection_keep_alive |= token.eq_ignore_ascii_case("keep-alive");
                    out.upgrade |= token.eq_ignore_ascii_case("upgrade");
                }
            } else if h.name.eq_ignore_ascii_case("content-type") {
                out.content_type = Some(value.to_owned());
            }
        }
        out
    }

    /// The framing the headers declare (`None`: neither header), or why they cannot be trusted.
    /// A coding other than chunked ends with the connection (RFC 9112 §6.3).
    fn declared(&self) -> Result<Option<Framing>, &'static str> {
        match (self.transfer_encoding, self.chunked, self.content_length) {
            (true, false, _) => Ok(Some(Framing::UntilClose)),
            // Transfer-Encoding wins over a length, but both at once is how request smuggling
            // starts: refused.
            (true, true, Some(_)) => Err("conflicting Content-Length / Transfer-Encoding"),
            (true, true, None) => Ok(Some(Framing::Chunked)),
            (false, _, Some(Ok(n))) => Ok(Some(Framing::Length(n))),
            (false, _, Some(Err(()))) => Err("conflicting or malformed Content-Length"),
            (false, _, None) => Ok(None),
        }
    }

    /// Whether the connection stays open after this message.
    fn keep_alive(&self, http10: bool) -> bool {
        if http10 {
            self.connection_keep_alive
        } else {
            !self.connection_close
        }
    }
}

#[derive(Debug)]
pub struct Request {
    pub method: String,
    pub target: String,
    pub http10: bool,
    pub headers: Headers,
}

impl Request {
    /// A request body's framing; requests without either header have none. A request cannot
    /// end with its connection, and HTTP/1.0 with a Transfer-Encoding (which Go ignores) has no
    /// length both sides agree on.
    pub fn framing(&self) -> Result<Framing, HttpError> {
        let malformed = |reason: &str| HttpError::Malformed {
            what: "request",
            reason: reason.to_owned(),
        };
        if self.http10 && self.headers.transfer_encoding {
            return Err(malformed("Transfer-Encoding on HTTP/1.0"));
        }
        match self.headers.declared() {
            Ok(Some(Framing::UntilClose)) => Err(malformed("Transfer-Encoding other than chunked")),
            Ok(declared) => Ok(declared.unwrap_or(Framing::None)),
            Err(reason) => Err(malformed(reason)),
        }
    }

    pub fn keep_alive(&self) -> bool {
        self.headers.keep_alive(self.http10)
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub http10: bool,
    pub headers: Headers,
}

impl Response {
    /// A response body's framing (RFC 9112 §6.3): none for HEAD, 1xx, 204 and 304; else as
    /// declared; else until the connection closes.
    pub fn framing(&self, request_method: &str) -> Result<Framing, HttpError> {
        if request_method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(Framing::None);
        }
        match self.headers.declared() {
            Ok(declared) => Ok(declared.unwrap_or(Framing::UntilClose)),
            Err(reason) => Err(HttpError::Malformed {
                what: "response",
                reason: reason.to_owned(),
            }),
        }
    }

    pub fn keep_alive(&self) -> bool {
        self.headers.keep_alive(self.http10)
    }

    /// dockerd's raw streams (attach, exec start): after this head the connection carries the
    /// container's stdio both ways, with or without a 101 upgrade.
    pub fn is_raw_stream(&self) -> bool {
        self.headers.content_type.as_deref().is_some_and(|t| {
            t.starts_with("application/vnd.docker.raw-stream")
                || t.starts_with("application/vnd.docker.multiplexed-stream")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(input: &[u8], framing: Framing) -> (Result<(), HttpError>, Vec<u8>, Tap) {
        let mut reader = Reader::new(input);
        let mut out = Vec::new();
        let mut tap = Tap::new(8);
        let result = reader.relay_body(&mut out, framing, &mut tap);
        (result, out, tap)
    }

    #[test]
    fn bodies_relay_by_their_framing() {
        let chunked = b"4\r\nWiki\r\n5;ext=1\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (result, out, tap) = relay(chunked, Framing::Chunked);
        assert!(result.is_ok());
        assert_eq!(out, &chunked[..chunked.len() - 4]);
        assert_eq!(tap.data, b"Wikipedi");
        assert!(tap.overflowed);

        let (result, out, tap) = relay(b"hello world", Framing::Length(5));
        assert!(result.is_ok());
        assert_eq!(out, b"hello");
        assert_eq!(tap.complete(), Some(&b"hello"[..]));

        let (result, out, _) = relay(b"to the end", Framing::UntilClose);
        assert!(result.is_ok());
        assert_eq!(out, b"to the end");

        let cases: [(&[u8], Framing); 7] = [
            (b"abc", Framing::Length(5)),
            (b"zz\r\nabc", Framing::Chunked),
            (b"3\r\nabcdef\r\n0\r\n\r\n", Framing::Chunked),
            (b"3\r\nab", Framing::Chunked),
            (b"fffffffffffffffff\r\n", Framing::Chunked),
            (b"+3\r\nabc\r\n0\r\n\r\n", Framing::Chunked),
            (b" 3\r\nabc\r\n0\r\n\r\n", Framing::Chunked),
        ];
        for (input, framing) in cases {
            let (result, _, _) = relay(input, framing);
            assert!(result.is_err(), "{:?}", String::from_utf8_lossy(input));
        }
    }

    #[test]
    fn heads_parse_and_keep_what_follows() {
        let wire = b"POST /v1.41/exec/ab/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 2\r\n\r\n{}rest";
        let mut reader = Reader::new(&wire[..]);
        let request = reader.read_request().unwrap().unwrap();
        assert_eq!(request.method, "POST");
        assert_eq!(request.target, "/v1.41/exec/ab/start");
        assert!(request.headers.upgrade);
        assert_eq!(request.framing().unwrap(), Framing::Length(2));
        assert_eq!(request.headers.raw, &wire[..wire.len() - 6]);
        assert_eq!(reader.take_buffered(), b"{}rest");

        let smuggling =
            b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n";
        let request = Reader::new(&smuggling[..]).read_request().unwrap().unwrap();
        assert!(request.framing().is_err());
        for ambiguous in [
            &b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"[..],
            b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\n",
            b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
        ] {
            let request = Reader::new(ambiguous).read_request().unwrap().unwrap();
            assert!(
                request.framing().is_err(),
                "{}",
                String::from_utf8_lossy(ambiguous)
            );
        }

        assert!(Reader::new(&b""[..]).read_request().unwrap().is_none());
        assert!(matches!(
            Reader::new(&b"GET / HTTP/1.1\r\nHost"[..]).read_request(),
            Err(HttpError::Truncated { .. })
        ));
        assert!(matches!(
            Reader::new(&b"\x16\x03\x01 not http\r\n\r\n"[..]).read_request(),
            Err(HttpError::Malformed { .. })
        ));
        let huge = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        assert!(matches!(
            Reader::new(&huge[..]).read_request(),
            Err(HttpError::HeadTooLarge { .. })
        ));

        let response =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n";
        let response = Reader::new(&response[..]).read_response().unwrap().unwrap();
        assert!(response.is_raw_stream());
        assert_eq!(response.framing("POST").unwrap(), Framing::UntilClose);
        assert_eq!(response.framing("HEAD").unwrap(), Framing::None);
        let closing = b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n";
        let closing = Reader::new(&closing[..]).read_response().unwrap().unwrap();
        assert!(!closing.keep_alive());
    }
}
