//! Measurement prototype of a native query front (never shipped; bench/http_throughput.py runs it
//! as the `native-*` servers). Standard library only, so Debian's rustc 1.63 builds it offline.
//!
//! One thread per connection reads HTTP/1.1 requests (keep-alive) and hands each `/sparql`
//! request whole to one of the evaluator processes of `evaluators.py` over a Unix socket, then
//! writes the evaluator's answer back. An evaluator that does not answer within the time limit is
//! SIGKILLed and the request answered 503, as cowkg's evaluator pool does. What a product front
//! would add (slow clients on an event loop, limits on heads and bodies, the other routes) is left
//! out: the question here is what the request path costs when it is not Python.
//!
//! Usage: cowkg-native-front-prototype PORT SOCKET EVALUATORS TIMEOUT_SECONDS
//! Frames: request = u32 length + "method\nquery string\ncontent type\naccept\nhost\n" + body;
//! answer = u16 status, u32 length + "Name: value\r\n" headers, u32 length + body (little endian).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

struct Evaluator {
    conn: UnixStream,
    pid: i32,
}

struct Pool {
    idle: Mutex<Vec<Evaluator>>,
    freed: Condvar,
    socket: String,
    timeout: Duration,
}

fn connect(socket: &str) -> Evaluator {
    loop {
        if let Ok(mut conn) = UnixStream::connect(socket) {
            let mut pid = [0u8; 4];
            if conn.read_exact(&mut pid).is_ok() {
                return Evaluator { conn, pid: i32::from_le_bytes(pid) };
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn read_u32(conn: &mut UnixStream) -> std::io::Result<usize> {
    let mut b = [0u8; 4];
    conn.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b) as usize)
}

fn exchange(ev: &mut Evaluator, frame: &[u8]) -> std::io::Result<(u16, Vec<u8>, Vec<u8>)> {
    ev.conn.write_all(&(frame.len() as u32).to_le_bytes())?;
    ev.conn.write_all(frame)?;
    let mut status = [0u8; 2];
    ev.conn.read_exact(&mut status)?;
    let mut headers = vec![0u8; read_u32(&mut ev.conn)?];
    ev.conn.read_exact(&mut headers)?;
    let mut body = vec![0u8; read_u32(&mut ev.conn)?];
    ev.conn.read_exact(&mut body)?;
    Ok((u16::from_le_bytes(status), headers, body))
}

/// The evaluator's answer, or 503 after killing an evaluator that overran (a fresh connection,
/// to the process that replaces it, takes its place in the pool).
fn evaluate(pool: &Pool, frame: &[u8]) -> (u16, Vec<u8>, Vec<u8>) {
    let mut ev = {
        let mut idle = pool.idle.lock().unwrap();
        while idle.is_empty() {
            idle = pool.freed.wait(idle).unwrap();
        }
        idle.pop().unwrap()
    };
    ev.conn.set_read_timeout(Some(pool.timeout)).ok();
    match exchange(&mut ev, frame) {
        Ok(answer) => {
            pool.idle.lock().unwrap().push(ev);
            pool.freed.notify_one();
            answer
        }
        Err(_) => {
            unsafe {
                kill(ev.pid, 9);
            }
            let fresh = connect(&pool.socket);
            pool.idle.lock().unwrap().push(fresh);
            pool.freed.notify_one();
            let body = b"{\"error\":\"query-timeout\"}".to_vec();
            (503, b"Content-Type: application/json\r\n".to_vec(), body)
        }
    }
}

fn respond(out: &mut TcpStream, status: u16, headers: &[u8], body: &[u8]) -> std::io::Result<()> {
    let mut buf = format!("HTTP/1.1 {} -\r\n", status).into_bytes();
    buf.extend_from_slice(headers);
    buf.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    buf.extend_from_slice(body);
    out.write_all(&buf)
}

fn serve(stream: TcpStream, pool: Arc<Pool>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let (mut length, mut ctype, mut accept, mut host, mut close) = (0usize, String::new(), String::new(), String::new(), false);
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            if header == "\r\n" || header == "\n" {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim().to_string();
                match name.trim().to_ascii_lowercase().as_str() {
                    "content-length" => length = value.parse().unwrap_or(0),
                    "content-type" => ctype = value,
                    "accept" => accept = value,
                    "host" => host = value,
                    "connection" => close = value.eq_ignore_ascii_case("close"),
                    _ => {}
                }
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body)?;
        let mut parts = line.split(' ');
        let method = parts.next().unwrap_or("");
        let target = parts.next().unwrap_or("/");
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if path != "/sparql" {
            respond(&mut out, 404, b"Content-Type: text/plain\r\n", b"not found")?;
        } else {
            let mut frame = format!("{}\n{}\n{}\n{}\n{}\n", method, query, ctype, accept, host).into_bytes();
            frame.extend_from_slice(&body);
            let (status, headers, answer) = evaluate(&pool, &frame);
            respond(&mut out, status, &headers, &answer)?;
        }
        if close {
            return Ok(());
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 5 {
        eprintln!("usage: {} PORT SOCKET EVALUATORS TIMEOUT_SECONDS", args[0]);
        std::process::exit(2);
    }
    let port: u16 = args[1].parse().expect("PORT");
    let count: usize = args[3].parse().expect("EVALUATORS");
    let timeout = Duration::from_secs_f64(args[4].parse().expect("TIMEOUT_SECONDS"));
    let idle = (0..count).map(|_| connect(&args[2])).collect();
    let pool = Arc::new(Pool { idle: Mutex::new(idle), freed: Condvar::new(), socket: args[2].clone(), timeout });
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    for stream in listener.incoming().flatten() {
        let pool = pool.clone();
        std::thread::spawn(move || {
            let _ = serve(stream, pool);
        });
    }
}
