//! Reading HTTP/1.1 requests from a client, strictly and within limits: the request line and
//! headers within `header_timeout` seconds and `head_limit` bytes, the body (Content-Length or
//! chunked) within `body_timeout` seconds and `max_body` bytes. Anything ambiguous is refused
//! rather than guessed (both Content-Length and Transfer-Encoding, two different lengths, folded
//! or malformed header lines, a transfer coding other than chunked), so no proxy in front of this
//! server and this server can ever disagree about where a request ends.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// A complete request.
pub struct Request {
    pub method: String,
    pub target: String,
    /// "1.0" or "1.1".
    pub version: String,
    /// Header names in lower case, values trimmed, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Whether the connection stays open after the answer.
    pub keep_alive: bool,
}

impl Request {
    /// The value of the first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The path, before any `?`.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The query string, after the first `?` (empty without one).
    pub fn query_string(&self) -> &str {
        self.target.split_once('?').map(|(_, q)| q).unwrap_or("")
    }
}

/// Why no request could be read: the answer the client gets (the connection closes after it), or
/// none when the client left or sent nothing at all before the idle limit.
pub enum Refusal {
    /// The client closed, or kept an idle connection past the limit without starting a request.
    Gone,
    /// A malformed request: 400 (or `status`), with this message.
    Bad(u16, String),
    /// The head took longer than `header_timeout`.
    HeadTimeout,
    /// The body took longer than `body_timeout`.
    BodyTimeout,
    /// The body is larger than `max_body` (its declared size when it declared one).
    TooLarge(Option<u64>),
    /// The head is larger than `head_limit`.
    HeadTooLarge,
}

pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub head_limit: usize,
    pub max_body: usize,
}

/// A client connection with the bytes read past the last request (pipelining).
pub struct Conn {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

enum Filled {
    More,
    Closed,
    TimedOut,
}

impl Conn {
    pub fn new(stream: TcpStream) -> Conn {
        Conn { stream, buf: Vec::with_capacity(8192) }
    }

    /// Read more bytes into the buffer, waiting until `deadline` at most.
    fn fill(&mut self, deadline: Instant) -> io::Result<Filled> {
        let now = Instant::now();
        if now >= deadline {
            return Ok(Filled::TimedOut);
        }
        self.stream.set_read_timeout(Some(deadline - now))?;
        let start = self.buf.len();
        self.buf.resize(start + 16384, 0);
        let got = self.stream.read(&mut self.buf[start..]);
        match got {
            Ok(0) => {
                self.buf.truncate(start);
                Ok(Filled::Closed)
            }
            Ok(n) => {
                self.buf.truncate(start + n);
                Ok(Filled::More)
            }
            Err(e) => {
                self.buf.truncate(start);
                match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Ok(Filled::TimedOut),
                    io::ErrorKind::Interrupted => Ok(Filled::More),
                    _ => Err(e),
                }
            }
        }
    }

    /// The next request, or why there is none.
    pub fn read_request(&mut self, limits: &Limits, idle: Duration) -> Result<Request, Refusal> {
        // The head: its first byte may wait `idle` (a kept-alive connection between requests),
        // the whole head then takes at most `header_timeout` from when it started.
        let mut started: Option<Instant> = if self.buf.is_empty() { None } else { Some(Instant::now()) };
        let waiting_since = Instant::now();
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end + 4;
            }
            if self.buf.len() > limits.head_limit {
                return Err(Refusal::HeadTooLarge);
            }
            let deadline = match started {
                Some(t) => t + limits.header_timeout,
                None => waiting_since + idle,
            };
            match self.fill(deadline) {
                Ok(Filled::More) => {
                    if started.is_none() && !self.buf.is_empty() {
                        started = Some(Instant::now());
                    }
                }
                Ok(Filled::Closed) => return Err(Refusal::Gone),
                Ok(Filled::TimedOut) => {
                    return Err(if started.is_none() { Refusal::Gone } else { Refusal::HeadTimeout });
                }
                Err(_) => return Err(Refusal::Gone),
            }
        };
        if head_end > limits.head_limit {
            return Err(Refusal::HeadTooLarge);
        }
        let head: Vec<u8> = self.buf.drain(..head_end).collect();
        let mut request = parse_head(&head[..head.len() - 4])?;
        let body_start = Instant::now();
        request.body = self.read_body(&request, limits, body_start + limits.body_timeout)?;
        Ok(request)
    }

    fn read_body(&mut self, request: &Request, limits: &Limits, deadline: Instant) -> Result<Vec<u8>, Refusal> {
        let chunked = match request.header("transfer-encoding") {
            None => false,
            Some(te) if te.eq_ignore_ascii_case("chunked") => true,
            Some(te) => return Err(Refusal::Bad(501, format!("transfer coding {:?} is not supported", te))),
        };
        let lengths: Vec<&str> = request.headers.iter().filter(|(n, _)| n == "content-length")
            .map(|(_, v)| v.as_str()).collect();
        if chunked && !lengths.is_empty() {
            return Err(Refusal::Bad(400, "a request may not carry both Content-Length and Transfer-Encoding".into()));
        }
        if chunked {
            self.continue_if_expected(request);
            return self.read_chunked(limits, deadline);
        }
        let length = match lengths.first() {
            None => return Ok(Vec::new()),
            Some(first) => {
                if lengths.iter().any(|l| l != first) {
                    return Err(Refusal::Bad(400, "two different Content-Length headers".into()));
                }
                if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) || first.len() > 18 {
                    return Err(Refusal::Bad(400, format!("Content-Length {:?} is not a length", first)));
                }
                first.parse::<u64>().unwrap_or(u64::MAX)
            }
        };
        if length > limits.max_body as u64 {
            return Err(Refusal::TooLarge(Some(length)));
        }
        let length = length as usize;
        if length > self.buf.len() {
            self.continue_if_expected(request);
        }
        while self.buf.len() < length {
            match self.fill(deadline) {
                Ok(Filled::More) => {}
                Ok(Filled::TimedOut) => return Err(Refusal::BodyTimeout),
                _ => return Err(Refusal::Gone),
            }
        }
        Ok(self.buf.drain(..length).collect())
    }

    /// "100 Continue" for a client that waits for it before sending its body (curl does, for
    /// bodies over 1 kB).
    fn continue_if_expected(&mut self, request: &Request) {
        if request.version == "1.1" && request.header("expect").map_or(false, |e| e.eq_ignore_ascii_case("100-continue")) {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    fn read_chunked(&mut self, limits: &Limits, deadline: Instant) -> Result<Vec<u8>, Refusal> {
        let mut body = Vec::new();
        loop {
            let line_end = self.line(deadline, 1024)?;
            let line: Vec<u8> = self.buf.drain(..line_end + 2).collect();
            let size_text = String::from_utf8_lossy(&line[..line_end]).to_string();
            let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
            if size_text.is_empty() || size_text.len() > 15 || !size_text.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(Refusal::Bad(400, format!("chunk size {:?} is not hexadecimal", size_text)));
            }
            let size = usize::from_str_radix(&size_text, 16).unwrap_or(usize::MAX);
            if size == 0 {
                // trailers, up to the empty line
                loop {
                    let end = self.line(deadline, 8192)?;
                    self.buf.drain(..end + 2);
                    if end == 0 {
                        return Ok(body);
                    }
                }
            }
            if body.len() + size > limits.max_body {
                return Err(Refusal::TooLarge(None));
            }
            while self.buf.len() < size + 2 {
                match self.fill(deadline) {
                    Ok(Filled::More) => {}
                    Ok(Filled::TimedOut) => return Err(Refusal::BodyTimeout),
                    _ => return Err(Refusal::Gone),
                }
            }
            if &self.buf[size..size + 2] != b"\r\n" {
                return Err(Refusal::Bad(400, "a chunk does not end with CRLF".into()));
            }
            body.extend(self.buf.drain(..size));
            self.buf.drain(..2);
        }
    }

    /// Where the next CRLF is in the buffer (reading until one arrives).
    fn line(&mut self, deadline: Instant, longest: usize) -> Result<usize, Refusal> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                return Ok(end);
            }
            if self.buf.len() > longest {
                return Err(Refusal::Bad(400, "a chunk line is too long".into()));
            }
            match self.fill(deadline) {
                Ok(Filled::More) => {}
                Ok(Filled::TimedOut) => return Err(Refusal::BodyTimeout),
                _ => return Err(Refusal::Gone),
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The request line and headers (without the final CRLF CRLF).
fn parse_head(head: &[u8]) -> Result<Request, Refusal> {
    let bad = |m: &str| Refusal::Bad(400, m.to_string());
    let text = std::str::from_utf8(head).map_err(|_| bad("the request head is not UTF-8"))?;
    let mut lines = text.split("\r\n");
    // A client may send empty lines before the request line (RFC 9112, 2.2).
    let mut line = lines.next().unwrap_or("");
    while line.is_empty() {
        line = match lines.next() {
            Some(l) => l,
            None => return Err(bad("no request line")),
        };
    }
    let parts: Vec<&str> = line.split(' ').collect();
    if parts.len() != 3 {
        return Err(bad("the request line is not METHOD TARGET HTTP/1.1"));
    }
    let (method, target, protocol) = (parts[0], parts[1], parts[2]);
    if !is_token(method) {
        return Err(bad("the method is not a token"));
    }
    let version = match protocol {
        "HTTP/1.1" => "1.1",
        "HTTP/1.0" => "1.0",
        _ if protocol.starts_with("HTTP/") => return Err(Refusal::Bad(505, format!("{} is not supported", protocol))),
        _ => return Err(bad("the request line does not end with the HTTP version")),
    };
    if !(target.starts_with('/') || (target == "*" && method == "OPTIONS"))
        || target.bytes().any(|b| b <= b' ' || b == 0x7f || b >= 0x80)
    {
        return Err(bad("the request target is not an absolute path"));
    }
    let mut headers = Vec::new();
    for line in lines {
        if line.starts_with(' ') || line.starts_with('\t') {
            return Err(bad("folded header lines are not accepted"));
        }
        let (name, value) = line.split_once(':').ok_or_else(|| bad("a header line without a colon"))?;
        if !is_token(name) {
            return Err(bad("a header name is not a token"));
        }
        if value.bytes().any(|b| (b < b' ' && b != b'\t') || b == 0x7f) {
            return Err(bad("a header value holds a control character"));
        }
        headers.push((name.to_ascii_lowercase(), value.trim_matches(|c| c == ' ' || c == '\t').to_string()));
    }
    let connection = headers.iter().filter(|(n, _)| n == "connection")
        .map(|(_, v)| v.to_ascii_lowercase()).collect::<Vec<_>>().join(",");
    let tokens: Vec<&str> = connection.split(',').map(|t| t.trim()).collect();
    let keep_alive = if version == "1.1" { !tokens.contains(&"close") } else { tokens.contains(&"keep-alive") };
    if version == "1.1" && !headers.iter().any(|(n, _)| n == "host") {
        return Err(bad("an HTTP/1.1 request must name its Host"));
    }
    if headers.iter().filter(|(n, _)| n == "host").count() > 1 {
        return Err(bad("two Host headers"));
    }
    Ok(Request { method: method.to_string(), target: target.to_string(), version: version.to_string(), headers,
                 body: Vec::new(), keep_alive })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<Request, Refusal> {
        parse_head(text.as_bytes())
    }

    #[test]
    fn reads_a_request_line_and_headers() {
        let r = head("GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nAccept:  text/csv \r\nConnection: close").ok().unwrap();
        assert_eq!((r.method.as_str(), r.path(), r.query_string()), ("GET", "/sparql", "query=ASK%7B%7D"));
        assert_eq!(r.header("accept"), Some("text/csv"));
        assert!(!r.keep_alive);
    }

    #[test]
    fn refuses_what_is_ambiguous() {
        for bad in ["GET /x HTTP/1.1\r\nHost: x\r\n folded", "GET /x HTTP/1.1", "GET  /x HTTP/1.1\r\nHost: x",
                    "GET x HTTP/1.1\r\nHost: x", "GET /x HTTP/1.1\r\nHost: x\r\nHost: y",
                    "GET /x HTTP/1.1\r\nHo st: x", "GET /x HTTP/1.1\r\nHost: x\r\nX: a\x01b"] {
            assert!(matches!(head(bad), Err(Refusal::Bad(400, _))), "{:?}", bad);
        }
        assert!(matches!(head("GET /x HTTP/2.0\r\nHost: x"), Err(Refusal::Bad(505, _))));
    }
}
