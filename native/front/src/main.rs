//! cowkg's native HTTP front (issue 15: the request path at the engine's speed).
//!
//! Started by `cowkg serve` (`cowkg.web.native_front`), never by hand: the Python master builds the
//! store, forks the worker processes that share it, binds the listening socket and passes it here
//! (fd 3), with a configuration file written from cowkg's settings. This process then:
//!
//! - reads each request (`request`), strictly, within `header_timeout`, `body_timeout` and
//!   `max_request_bytes`: a slow client costs one small thread and is cut at the limit;
//! - answers a protocol query from its response cache when it can (`cache`, keyed by the
//!   scanner's reading of the query: `route`), else hands it to a query evaluator (`workers`),
//!   killed at `query_timeout`; a plain query's decisions, taken here by the scanner
//!   (`cowkg_querytext`), go with it, so the evaluator does not read the text again;
//! - hands every other request to a page worker (Flask, in Python).
//!
//! Error bodies come from cowkg's own error classes: the master writes them into the configuration,
//! so a refusal here reads exactly like one from Python. stdin closing (or "stop") stops the server
//! gracefully: no new connection is accepted, requests in flight are answered.

mod cache;
mod request;
mod route;
mod workers;

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::io::{AsRawFd, FromRawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cache::{Cache, Response};
use request::{Conn, Limits, Refusal, Request};
use workers::{Deaths, Outcome, Pool};

extern "C" {
    fn shutdown(fd: i32, how: i32) -> i32;
}

/// The configuration file: `key=value` lines; a key may repeat.
struct Config(HashMap<String, Vec<String>>);

impl Config {
    fn read(path: &str) -> Config {
        let file = File::open(path).unwrap_or_else(|e| fail(&format!("cannot read {}: {}", path, e)));
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        for line in std::io::BufReader::new(file).lines().flatten() {
            if let Some((k, v)) = line.split_once('=') {
                map.entry(k.to_string()).or_default().push(v.to_string());
            }
        }
        Config(map)
    }

    fn text(&self, key: &str) -> String {
        self.0.get(key).and_then(|v| v.first()).cloned().unwrap_or_else(|| fail(&format!("no {} in the configuration", key)))
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }

    fn number(&self, key: &str) -> f64 {
        self.text(key).parse().unwrap_or_else(|_| fail(&format!("{} is not a number", key)))
    }

    fn seconds(&self, key: &str) -> Duration {
        Duration::from_secs_f64(self.number(key).max(0.001))
    }
}

fn fail(message: &str) -> ! {
    eprintln!("cowkg-front: {}", message);
    std::process::exit(2);
}

/// What every connection thread shares.
struct Server {
    limits: Limits,
    idle: Duration,
    queries: Arc<Pool>,
    pages: Arc<Pool>,
    queue_wait: Duration,
    page_wait: Duration,
    cache: Cache,
    wikidata: cowkg_querytext::Wikidata,
    /// Error bodies by name, from cowkg's error classes; `error_headers` go with each.
    errors: HashMap<String, String>,
    error_headers: Vec<u8>,
    access_log: bool,
    retry_after: String,
    stopping: AtomicBool,
    busy: AtomicUsize,
    connections: AtomicUsize,
    max_connections: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 2 || args[1] == "--help" {
        eprintln!("usage: cowkg-front CONFIG (started by `cowkg serve`, which passes it the listening socket and \
                   the pipe of the workers' ends, named in CONFIG)");
        std::process::exit(2);
    }
    let cfg = Config::read(&args[1]);
    let mut errors = HashMap::new();
    for line in cfg.all("error") {
        if let Some((name, body)) = line.split_once(' ') {
            errors.insert(name.to_string(), body.to_string());
        }
    }
    let mut error_headers = Vec::new();
    for h in cfg.all("error_header") {
        error_headers.extend_from_slice(h.as_bytes());
        error_headers.extend_from_slice(b"\r\n");
    }
    let namespaces: Vec<String> = cfg.text("wikidata_namespaces").split_whitespace().map(String::from).collect();
    let predeclared = cfg.text("prefixes").split_whitespace()
        .filter_map(|p| p.split_once('=').map(|(n, ns)| (n.to_string(), ns.to_string()))).collect();
    let deaths = Deaths::new();
    {
        let deaths = deaths.clone();
        let pipe = unsafe { File::from_raw_fd(cfg.number("deaths_fd") as i32) };
        std::thread::spawn(move || deaths.listen(pipe));
    }
    let query_timeout = cfg.seconds("query_timeout");
    let evaluators = cfg.number("evaluators") as usize;
    let heavy_limit = (evaluators.saturating_sub(cfg.number("reserved") as usize)).max(1);
    let queries = Pool::new("query", &cfg.text("query_socket"), evaluators, cfg.number("initial_evaluators") as usize,
                            query_timeout, Some((cfg.seconds("heavy_after"), heavy_limit)), deaths.clone());
    let pages = Pool::new("page", &cfg.text("page_socket"), cfg.number("page_workers") as usize,
                          cfg.number("initial_page_workers") as usize, cfg.seconds("page_timeout"), None,
                          deaths.clone());
    deaths.watch(queries.clone());
    deaths.watch(pages.clone());
    let max_body = cfg.number("max_request_bytes") as usize;
    let server = Arc::new(Server {
        limits: Limits { header_timeout: cfg.seconds("header_timeout"), body_timeout: cfg.seconds("body_timeout"),
                         head_limit: max_body + 65536, max_body },
        idle: cfg.seconds("keep_alive"),
        queries,
        pages,
        queue_wait: cfg.seconds("queue_wait"),
        page_wait: cfg.seconds("page_wait"),
        cache: Cache::new(cfg.number("cache_bytes") as usize, cfg.number("cache_entry") as usize),
        wikidata: cowkg_querytext::Wikidata { namespaces, predeclared },
        errors,
        error_headers,
        access_log: cfg.text("access_log") == "1",
        retry_after: cfg.text("retry_after"),
        stopping: AtomicBool::new(false),
        busy: AtomicUsize::new(0),
        connections: AtomicUsize::new(0),
        max_connections: cfg.number("max_connections") as usize,
    });
    let listener = unsafe { TcpListener::from_raw_fd(cfg.number("listen_fd") as i32) };
    let listen_fd = listener.as_raw_fd();
    {
        let server = server.clone();
        std::thread::spawn(move || {
            // stdin: "stop", or its end (the master is gone), stops the server.
            let stdin = std::io::stdin();
            let mut line = String::new();
            while stdin.lock().read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line.trim() != "stop" {
                line.clear();
            }
            server.stopping.store(true, Ordering::SeqCst);
            unsafe {
                shutdown(listen_fd, 2);
            }
        });
    }
    eprintln!("cowkg-front: ready ({} query evaluators, {} page workers)", server.queries.size, server.pages.size);
    for stream in listener.incoming() {
        if server.stopping.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(s) => s,
            Err(_) => continue,
        };
        let server = server.clone();
        if server.connections.fetch_add(1, Ordering::SeqCst) >= server.max_connections {
            server.connections.fetch_sub(1, Ordering::SeqCst);
            let _ = std::thread::Builder::new().stack_size(64 << 10).spawn(move || {
                let mut stream = stream;
                let (status, body) = server.error("connections");
                let _ = stream.write_all(&server.closing_error(status, &body));
            });
            continue;
        }
        let spawned = std::thread::Builder::new().stack_size(256 << 10).spawn(move || {
            serve_connection(&server, stream);
            server.connections.fetch_sub(1, Ordering::SeqCst);
        });
        if spawned.is_err() {
            eprintln!("cowkg-front: could not start a connection thread");
        }
    }
    // Stopping: answer what is in flight (at most the longest a query may take, and some).
    let deadline = Instant::now() + query_timeout + Duration::from_secs(5);
    while server.busy.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::process::exit(0);
}

fn serve_connection(server: &Server, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let client = stream.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|_| "-".into());
    let mut conn = Conn::new(stream);
    loop {
        if server.stopping.load(Ordering::SeqCst) {
            return;
        }
        let request = match conn.read_request(&server.limits, server.idle) {
            Ok(r) => r,
            Err(refusal) => {
                if let Some(answer) = server.refusal(refusal) {
                    let _ = conn.stream.write_all(&answer);
                    let _ = conn.stream.shutdown(Shutdown::Write);
                    drain(&mut conn.stream);
                }
                return;
            }
        };
        server.busy.fetch_add(1, Ordering::SeqCst);
        let start = Instant::now();
        let (status, head, body) = server.handle(&request, &client);
        let close = !request.keep_alive || server.stopping.load(Ordering::SeqCst)
            || contains(&head, b"\r\nConnection: close\r\n") || head.starts_with(b"Connection: close\r\n");
        let mut out = Vec::with_capacity(head.len() + body.len() + 64);
        out.extend_from_slice(format!("HTTP/1.1 {} {}\r\n", status, reason(status)).as_bytes());
        out.extend_from_slice(&head);
        if close && !contains(&head, b"Connection: close\r\n") {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        let written = if request.method == "HEAD" || status == 304 || status == 204 {
            conn.stream.write_all(&out)
        } else if body.len() < 65536 {
            out.extend_from_slice(&body);
            conn.stream.write_all(&out)
        } else {
            conn.stream.write_all(&out).and_then(|_| conn.stream.write_all(&body))
        };
        server.busy.fetch_sub(1, Ordering::SeqCst);
        if server.access_log {
            log_access(&client, &request, status, start.elapsed());
        }
        if written.is_err() || close {
            let _ = conn.stream.shutdown(Shutdown::Write);
            return;
        }
    }
}

/// Read what the client still sends (briefly) so closing does not reset the connection before it
/// has read our answer.
fn drain(stream: &mut TcpStream) {
    use std::io::Read;
    let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
    let mut sink = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(1);
    while Instant::now() < deadline {
        match stream.read(&mut sink) {
            Ok(n) if n > 0 => continue,
            _ => return,
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

impl Server {
    /// The answer to a complete request: status, head (header lines) and body.
    fn handle(&self, request: &Request, client: &str) -> (u16, Vec<u8>, Arc<Vec<u8>>) {
        if !route::is_query(request) {
            return self.hand(&self.pages, request, client, None, self.page_wait);
        }
        let query = match route::query_of(request) {
            Some(q) if request.path() == "/sparql" => q,
            _ => return self.hand(&self.queries, request, client, None, self.queue_wait),
        };
        let chars: Vec<char> = query.text.chars().collect();
        let plain = cowkg_querytext::plain(&chars, &self.wikidata);
        let key = route::cache_key(plain.as_ref().map(|p| p.cache_text.as_str()), &query.text, &query.others, request);
        if let Some(hit) = self.cache.get(&key) {
            return (200, hit.head.clone(), hit.body.clone());
        }
        let decided = Decided { query: &query, plain: plain.as_ref() };
        let (status, head, body, cacheable) = self.exchange(&self.queries, request, client, Some(&decided),
                                                            self.queue_wait);
        if cacheable && status == 200 {
            self.cache.put(key, Arc::new(Response { head: head.clone(), body: body.clone() }));
        }
        (status, head, body)
    }

    fn hand(&self, pool: &Arc<Pool>, request: &Request, client: &str, decided: Option<&Decided>, wait: Duration)
            -> (u16, Vec<u8>, Arc<Vec<u8>>) {
        let (status, head, body, _) = self.exchange(pool, request, client, decided, wait);
        (status, head, body)
    }

    /// Hand `request` to a worker of `pool`: its answer and whether it may be cached, or the error
    /// for what became of it (busy, timed out, died).
    fn exchange(&self, pool: &Arc<Pool>, request: &Request, client: &str, decided: Option<&Decided>,
                wait: Duration) -> (u16, Vec<u8>, Arc<Vec<u8>>, bool) {
        let mut headers = Vec::with_capacity(512);
        for (name, value) in &request.headers {
            headers.extend_from_slice(name.as_bytes());
            headers.push(b'\n');
            headers.extend_from_slice(value.as_bytes());
            headers.push(b'\n');
        }
        let empty: &[u8] = b"";
        let (text, form, key, spans, params) = match decided {
            Some(d) => {
                let params = if d.query.params_ok { b"1" as &[u8] } else { empty };
                match d.plain {
                    Some(p) => {
                        let spans: Vec<String> = p.group_concat.iter().map(|(a, b)| format!("{},{}", a, b)).collect();
                        let form = format!("{}{}", p.form, if p.names_graphs { "g" } else { "" });
                        (d.query.text.as_str(), form, p.cache_text.as_str(), spans.join(" "), params)
                    }
                    None => (d.query.text.as_str(), String::new(), "", String::new(), params),
                }
            }
            None => ("", String::new(), "", String::new(), empty),
        };
        let has_text = if decided.is_some() { "1" } else { "0" };
        let decoded: &[u8] = match decided {
            Some(d) if d.query.params_ok => &d.query.params,
            _ => empty,
        };
        let message = workers::frame(&[request.method.as_bytes(), request.target.as_bytes(),
                                       request.version.as_bytes(), &headers, &request.body, client.as_bytes(),
                                       has_text.as_bytes(), text.as_bytes(), form.as_bytes(), key.as_bytes(),
                                       spans.as_bytes(), params, decoded]);
        match pool.run(&message, wait) {
            Outcome::Answered(a) => (a.status, a.head, Arc::new(a.body), a.flags & 1 == 1),
            other => {
                let name = match other {
                    Outcome::Busy if pool.name == "query" => "overloaded",
                    Outcome::Busy => "pages_busy",
                    Outcome::TimedOut if pool.name == "query" => "query_timeout",
                    Outcome::TimedOut => "page_timeout",
                    Outcome::TooManyHeavy => "heavy",
                    Outcome::Died(Some(sig)) if pool.name == "query" && (sig == workers::SIGKILL || sig == workers::SIGABRT)
                        && self.errors.contains_key("memory") => "memory",
                    _ => "crashed",
                };
                if name == "crashed" || name == "page_timeout" {
                    eprintln!("cowkg-front: a {} worker {} on {} {}", pool.name,
                              if name == "crashed" { "died while answering" } else { "overran its time and was stopped" },
                              request.method, request.path());
                }
                let (status, body) = self.error(name);
                let head = self.error_head(&body, name == "overloaded" || name == "heavy" || name == "pages_busy");
                (status, head, Arc::new(body.into_bytes()), false)
            }
        }
    }

    /// An error body from cowkg's error classes (the configuration's), and its status.
    fn error(&self, name: &str) -> (u16, String) {
        let body = self.errors.get(name).cloned().unwrap_or_else(|| {
            format!("{{\"status\":500,\"error\":\"internal-error\",\"message\":\"{}\"}}", name)
        });
        let status = body.split("\"status\":").nth(1).and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|s| s.parse().ok()).unwrap_or(500);
        (status, body)
    }

    fn error_head(&self, body: &str, retry: bool) -> Vec<u8> {
        let mut head = self.error_headers.clone();
        if retry {
            head.extend_from_slice(format!("Retry-After: {}\r\n", self.retry_after).as_bytes());
        }
        head.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        head
    }

    /// A whole error response after which the connection closes.
    fn closing_error(&self, status: u16, body: &str) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", status, reason(status)).into_bytes();
        out.extend_from_slice(&self.error_head(body, status == 503));
        out.extend_from_slice(b"Connection: close\r\n\r\n");
        out.extend_from_slice(body.as_bytes());
        out
    }

    /// The answer to a request that could not be read (the connection closes after it).
    fn refusal(&self, refusal: Refusal) -> Option<Vec<u8>> {
        let (status, body) = match refusal {
            Refusal::Gone => return None,
            Refusal::Bad(status, message) => {
                let kind = if status == 400 { "bad-request" } else if status == 505 { "http-version-not-supported" }
                           else { "not-implemented" };
                (status, format!("{{\"status\":{},\"error\":\"{}\",\"message\":\"{}\"}}", status, kind,
                                 json_escape(&message)))
            }
            Refusal::HeadTimeout => self.error("header_timeout"),
            Refusal::BodyTimeout => self.error("body_timeout"),
            Refusal::HeadTooLarge => self.error("head_too_large"),
            Refusal::TooLarge(Some(size)) => {
                let (status, body) = self.error("too_large_declared");
                (status, body.replace("987654321987", &size.to_string()))
            }
            Refusal::TooLarge(None) => self.error("too_large"),
        };
        Some(self.closing_error(status, &body))
    }
}

/// A query request's text and parameters and, when it is plain, the scanner's decisions.
struct Decided<'a> {
    query: &'a route::Query,
    plain: Option<&'a cowkg_querytext::Plain>,
}

fn json_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 || c as u32 >= 0x7f => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "-",
    }
}

/// One line per request on stdout, in the format of cowkg's Python front.
fn log_access(client: &str, request: &Request, status: u16, took: Duration) {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // civil from days (Howard Hinnant's algorithm)
    let z = days + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let line = format!("{} [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/{}\" {} {:.2}ms \"{}\"\n", client, day,
                       MONTHS[(month - 1) as usize], year, rem / 3600, rem / 60 % 60, rem % 60, request.method,
                       request.target, request.version, status, took.as_secs_f64() * 1000.0,
                       request.header("user-agent").unwrap_or("-"));
    let _ = std::io::stdout().lock().write_all(line.as_bytes());
}
