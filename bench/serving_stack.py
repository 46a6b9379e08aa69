"""Which HTTP server should carry `cowkg serve`? The candidates on this workload, side by side.

The same cowkg app (the store built once in the master, then forked: 2 workers, confined evaluator
processes, every defence on) behind each candidate:

- ``granian``: `cowkg serve` as shipped — granian (Rust HTTP) and the RSGI front of
  ``cowkg.web.front`` (request heads read by granian within ``header_timeout``, bodies on the event
  loop, queries answered on the loop);
- ``gunicorn-gthread``: gunicorn's threaded workers (8 threads each) around the Flask app, the
  stack before issue 17;
- ``gunicorn-gevent``: gunicorn's gevent workers (greenlets, monkey-patched) around the Flask app.
  Its monkey-patching breaks the pipes of the evaluator processes (500 "evaluator died": its errors
  column), so it cannot carry the killable evaluator as built.

Two measurements per candidate, in one run:

- **unique queries**: the competency mix, every request unique (``bench/http_throughput.py``'s
  client and ``VALUES ?cowkg_nonce``), 4 clients: requests per second, p50 and p99 latency, errors;
- **beside slow clients**: ``--slow`` connections (default 50) each sending a request head one
  byte every 0.5 s, while one normal client sends unique queries for ``--seconds``: its requests
  per second, p50 latency and errors (a stack that gives each connection a thread stalls here).

Usage: .venv/bin/python bench/serving_stack.py [--seconds 10] [--slow 50] [--only granian,gunicorn-gthread]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_throughput as ht  # noqa: E402  (the same client, query mix and helpers)

ROOT = ht.ROOT
APP = "cowkg.web:create_app()"
CANDIDATES = {
    "granian": None,  # `cowkg serve` as shipped
    "gunicorn-gthread": ["-k", "gthread", "--threads", "8"],
    "gunicorn-gevent": ["-k", "gevent", "--worker-connections", "1000"],
}


def start(name: str, port: int, log: Path) -> subprocess.Popen:
    if CANDIDATES[name] is None:
        cmd = [sys.executable, "-m", "cowkg", "serve", "--port", str(port), "--workers", "2", "--no-access-log"]
    else:
        # --limit-request-line 0: gunicorn's default (4,094 bytes) refuses the mix's longer GETs with 414
        cmd = [sys.executable, "-m", "gunicorn", "--preload", "-w", "2", *CANDIDATES[name], "--timeout", "60",
               "--limit-request-line", "0", "-b", f"127.0.0.1:{port}", APP]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            env={**os.environ, "COWKG_ROOT": str(ROOT)})


class Dripper(threading.Thread):
    """A connection that sends a request head one byte every ``pause`` seconds until stopped."""

    HEAD = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000

    def __init__(self, port: int, pause: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.port, self.pause, self.stop = port, pause, False

    def run(self) -> None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=30) as s:
                for i in range(len(self.HEAD)):
                    if self.stop:
                        return
                    s.send(self.HEAD[i:i + 1])
                    time.sleep(self.pause)
        except OSError:
            pass  # cut by the server (header_timeout): what a defended server does


def beside_slow_clients(port: int, queries: list[str], seconds: float, slow: int) -> dict:
    """One normal client's unique queries while ``slow`` drippers hold connections."""
    drippers = [Dripper(port) for _ in range(slow)]
    for d in drippers:
        d.start()
    time.sleep(1.0)
    try:
        return ht.load(port, "/sparql", queries, 1, seconds, True)
    finally:
        for d in drippers:
            d.stop = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--slow", type=int, default=50)
    ap.add_argument("--only", default=",".join(CANDIDATES))
    args = ap.parse_args()
    names = args.only.split(",")
    rows = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        mix, _heavy, _data = ht.prepare(tmp)
        queries = [q for _, q in mix]
        for name in names:
            port = ht.free_port()
            proc = start(name, port, tmp / f"{name}.log")
            try:
                ht.wait_up(port, "/sparql?query=ASK%7B%7D", proc)
                ht.load(port, "/sparql", queries, args.clients, 1.0, True)  # warm-up
                unique = ht.load(port, "/sparql", queries, args.clients, args.seconds, True, proc.pid)
                slow = beside_slow_clients(port, queries, args.seconds, args.slow)
                rows[name] = (unique, slow)
                print(f"{name:<17} unique: {unique['rps']:7.1f} req/s  p50 {unique['p50'] * 1e3:7.2f} ms  "
                      f"p99 {unique['p99'] * 1e3:7.2f} ms  errors {unique['errors']}/{unique['requests']}  |  "
                      f"beside {args.slow} slow clients: {slow['rps']:7.1f} req/s  p50 {slow['p50'] * 1e3:8.2f} ms  "
                      f"errors {slow['errors']}/{slow['requests']}", flush=True)
            except RuntimeError as exc:
                print(f"{name:<17} did not start: {exc}; its log ends:\n"
                      + (tmp / f"{name}.log").read_text(errors="replace")[-1500:], flush=True)
            finally:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    if "granian" in rows:
        print(f"\nratios to granian (as shipped; {args.clients} clients, {args.seconds:g} s per measurement, "
              "one run on this machine):")
        ours_u, ours_s = rows["granian"]
        for name, (u, s) in rows.items():
            if name != "granian":
                print(f"  {name:<17} unique throughput {u['rps'] / ours_u['rps']:5.2f}x  "
                      f"p50 {u['p50'] / ours_u['p50']:5.2f}x  |  beside slow clients: throughput "
                      f"{s['rps'] / ours_s['rps']:5.2f}x  "
                      f"p50 {s['p50'] / ours_s['p50']:6.2f}x")


if __name__ == "__main__":
    main()
