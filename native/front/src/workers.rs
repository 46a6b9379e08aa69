//! The Python worker processes a request is handed to, in two pools: the query evaluators (each
//! answer within `query_timeout`, else the process is SIGKILLed; a query running past
//! `heavy_after` is reniced and its process retired after the answer, and at most `heavy_limit` may
//! be so at once) and the page workers (everything else).
//!
//! A worker is a process forked by cowkg's Python master (`cowkg.web.native_front`); it accepts one
//! connection on its pool's Unix socket and tells its pid. The master forks a new one whenever one
//! ends, and reports every end on the deaths pipe, so a worker that vanished while answering can be
//! told apart: killed for its memory (SIGKILL or SIGABRT when its address space ran out) or crashed.
//!
//! Frames: request = u32 length + fields, each u32 length + bytes; answer = u16 status, u8 flags,
//! u32 length + head ("Name: value\r\n" lines), u32 length + body. All little endian.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
    fn setpriority(which: i32, who: u32, prio: i32) -> i32;
}

pub const SIGABRT: i32 = 6;
/// How long a request waits for the replacement of a worker found dead.
const REPLACEMENT_WAIT: Duration = Duration::from_secs(10);
pub const SIGKILL: i32 = 9;

/// A worker's answer.
pub struct Answer {
    pub status: u16,
    /// Bit 0: the answer may be cached under the request's key.
    pub flags: u8,
    pub head: Vec<u8>,
    pub body: Vec<u8>,
}

/// What became of a request handed to a pool.
pub enum Outcome {
    Answered(Answer),
    /// No worker became free within the wait.
    Busy,
    /// Killed at the time limit.
    TimedOut,
    /// Too many long-running queries already: this one was stopped.
    TooManyHeavy,
    /// The worker died while answering, by this signal (None: unknown, or it exited).
    Died(Option<i32>),
}

/// Ends of worker processes, as the master reports them: pid → signal (0 when it exited).
pub struct Deaths {
    ended: Mutex<HashMap<i32, i32>>,
    told: Condvar,
    /// The pools to tell, so an idle worker that ended is replaced at once, not when next tried.
    pools: Mutex<Vec<Arc<Pool>>>,
}

impl Deaths {
    pub fn new() -> Arc<Deaths> {
        Arc::new(Deaths { ended: Mutex::new(HashMap::new()), told: Condvar::new(), pools: Mutex::new(Vec::new()) })
    }

    /// Tell `pool` of every worker that ends from now on.
    pub fn watch(&self, pool: Arc<Pool>) {
        self.pools.lock().unwrap().push(pool);
    }

    /// Read "pid signal" lines from the master until it closes the pipe.
    pub fn listen(self: Arc<Self>, pipe: impl Read) {
        let reader = io::BufReader::new(pipe);
        for line in io::BufRead::lines(reader).flatten() {
            let mut parts = line.split_whitespace().map(|p| p.parse::<i32>().unwrap_or(0));
            if let (Some(pid), Some(sig)) = (parts.next(), parts.next()) {
                let mut ended = self.ended.lock().unwrap();
                if ended.len() > 4096 {
                    ended.clear();
                }
                ended.insert(pid, sig);
                self.told.notify_all();
                drop(ended);
                for pool in self.pools.lock().unwrap().iter() {
                    pool.forget(pid);
                }
            }
        }
    }

    /// How `pid` ended, waiting up to `wait` for the master to say; None if it did not.
    fn wait_for(&self, pid: i32, wait: Duration) -> Option<i32> {
        let deadline = Instant::now() + wait;
        let mut ended = self.ended.lock().unwrap();
        loop {
            if let Some(sig) = ended.remove(&pid) {
                return Some(sig);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            ended = self.told.wait_timeout(ended, deadline - now).unwrap().0;
        }
    }
}

struct Worker {
    conn: UnixStream,
    pid: i32,
}

struct State {
    idle: Vec<Worker>,
    heavy: usize,
}

pub struct Pool {
    pub name: &'static str,
    socket: String,
    state: Mutex<State>,
    freed: Condvar,
    deaths: Arc<Deaths>,
    pub size: usize,
    timeout: Duration,
    /// (after how long a query is heavy, how many may be at once); None for the page pool.
    heavy: Option<(Duration, usize)>,
}

fn connect(socket: &str) -> Worker {
    loop {
        if let Ok(mut conn) = UnixStream::connect(socket) {
            let mut pid = [0u8; 4];
            if conn.read_exact(&mut pid).is_ok() {
                return Worker { conn, pid: i32::from_le_bytes(pid) };
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Pool {
    /// A pool of `size` workers of the master's socket `socket`: `initial` connected now (the
    /// master forked them first, so the server answers at once), the rest as they start.
    pub fn new(name: &'static str, socket: &str, size: usize, initial: usize, timeout: Duration,
               heavy: Option<(Duration, usize)>, deaths: Arc<Deaths>) -> Arc<Pool> {
        let idle = (0..initial.min(size)).map(|_| connect(socket)).collect();
        let pool = Arc::new(Pool { name, socket: socket.to_string(), state: Mutex::new(State { idle, heavy: 0 }),
                                   freed: Condvar::new(), deaths, size, timeout, heavy });
        for _ in initial.min(size)..size {
            pool.replace();
        }
        pool
    }

    /// An idle worker that ended (killed from outside, say) leaves the pool for a fresh one.
    fn forget(self: &Arc<Self>, pid: i32) {
        let found = {
            let mut state = self.state.lock().unwrap();
            let before = state.idle.len();
            state.idle.retain(|w| w.pid != pid);
            state.idle.len() < before
        };
        if found {
            self.replace();
        }
    }

    fn acquire(&self, wait: Duration) -> Option<Worker> {
        let deadline = Instant::now() + wait;
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(w) = state.idle.pop() {
                return Some(w);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            state = self.freed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    fn release(&self, worker: Worker) {
        self.state.lock().unwrap().idle.push(worker);
        self.freed.notify_one();
    }

    /// A fresh worker in place of one that ended, connected in the background (the master forks it).
    fn replace(self: &Arc<Self>) {
        let pool = self.clone();
        std::thread::spawn(move || {
            let fresh = connect(&pool.socket);
            pool.release(fresh);
        });
    }

    fn kill(&self, worker: Worker) {
        unsafe {
            kill(worker.pid, SIGKILL);
        }
    }

    /// Hand `frame` to a worker (waiting at most `wait` for a free one) and return its answer, or
    /// what became of the request.
    pub fn run(self: &Arc<Self>, frame: &[u8], wait: Duration) -> Outcome {
        let mut worker = match self.acquire(wait) {
            Some(w) => w,
            None => return Outcome::Busy,
        };
        // A worker found dead while idle (killed from outside, or out of memory) is replaced and
        // the next one tried, as cowkg's evaluator pool does; its replacement is waited for longer
        // than a busy pool is (the master forks it at once: that is no overload).
        let mut attempts = 0;
        loop {
            let mut message = Vec::with_capacity(frame.len() + 4);
            message.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            message.extend_from_slice(frame);
            if worker.conn.write_all(&message).is_ok() {
                break;
            }
            self.kill(worker);
            self.replace();
            attempts += 1;
            if attempts > self.size {
                return Outcome::Died(None);
            }
            worker = match self.acquire(wait.max(REPLACEMENT_WAIT)) {
                Some(w) => w,
                None => return Outcome::Busy,
            };
        }
        self.answer(worker)
    }

    fn answer(self: &Arc<Self>, mut worker: Worker) -> Outcome {
        let start = Instant::now();
        let mut heavy = false;
        let mut first = [0u8; 1];
        loop {
            let limit = match self.heavy {
                Some((after, _)) if !heavy && self.timeout > after => after,
                _ => self.timeout,
            };
            let left = (start + limit).saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
            let _ = worker.conn.set_read_timeout(Some(left));
            match worker.conn.read(&mut first) {
                Ok(1) => break,
                Ok(_) => return self.died(worker, heavy),
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                    if Instant::now() < start + limit {
                        continue;
                    }
                    match self.heavy {
                        Some((after, most)) if !heavy && self.timeout > after => {
                            let room = {
                                let mut state = self.state.lock().unwrap();
                                let room = state.heavy < most;
                                if room {
                                    state.heavy += 1;
                                }
                                room
                            };
                            if !room {
                                self.kill(worker);
                                self.replace();
                                return Outcome::TooManyHeavy;
                            }
                            heavy = true;
                            unsafe {
                                setpriority(0, worker.pid as u32, 10);
                            }
                        }
                        _ => {
                            self.kill(worker);
                            self.replace();
                            self.unheavy(heavy);
                            return Outcome::TimedOut;
                        }
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return self.died(worker, heavy),
            }
        }
        // The answer has begun: the rest follows at once (the worker writes it whole).
        let _ = worker.conn.set_read_timeout(Some(Duration::from_secs(30)));
        let rest = read_answer(&mut worker.conn, first[0]);
        self.unheavy(heavy);
        match rest {
            Ok(answer) => {
                if heavy {
                    // retired: its lowered priority cannot be raised again
                    self.kill(worker);
                    self.replace();
                } else {
                    self.release(worker);
                }
                Outcome::Answered(answer)
            }
            Err(_) => self.died(worker, false),
        }
    }

    fn unheavy(&self, heavy: bool) {
        if heavy {
            self.state.lock().unwrap().heavy -= 1;
        }
    }

    fn died(self: &Arc<Self>, worker: Worker, heavy: bool) -> Outcome {
        self.unheavy(heavy);
        let pid = worker.pid;
        drop(worker);
        let how = self.deaths.wait_for(pid, Duration::from_secs(1));
        if how.is_none() {
            unsafe {
                kill(pid, SIGKILL);
            }
        }
        self.replace();
        Outcome::Died(how.filter(|&s| s != 0))
    }
}

fn read_answer(conn: &mut UnixStream, first: u8) -> io::Result<Answer> {
    let mut fixed = [0u8; 2];
    conn.read_exact(&mut fixed)?;
    let status = u16::from_le_bytes([first, fixed[0]]);
    let flags = fixed[1];
    let head = read_field(conn)?;
    let body = read_field(conn)?;
    Ok(Answer { status, flags, head, body })
}

fn read_field(conn: &mut UnixStream) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 4];
    conn.read_exact(&mut len)?;
    let mut data = vec![0u8; u32::from_le_bytes(len) as usize];
    conn.read_exact(&mut data)?;
    Ok(data)
}

/// A request frame: each field as u32 length + bytes.
pub fn frame(fields: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(fields.iter().map(|f| f.len() + 4).sum());
    for f in fields {
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    out
}
