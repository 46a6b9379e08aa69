"""``cowkg serve`` with the native front: a Rust HTTP front (``native/front``) before Python
worker processes that share the store (issue 15: the request path at the engine's speed).

Stage: web, the alternative to ``cowkg.web.server`` (granian) that the ``front`` setting chooses.
This process is the master: it builds the store once (``create_app``, ``server.warm``), binds the
listening socket, forks the workers — query evaluators, confined (``cowkg.sandbox``: no network,
``query_memory``) and killed by the front at ``query_timeout``, and page workers for everything
else (``cowkg.web.framed``) — and starts the front with the socket. It then only supervises:
each worker that ends is reported to the front (how it ended tells a query over its memory from a
crash) and replaced by a fresh fork; SIGTERM/SIGINT stop the front gracefully (requests in flight
are answered), then the workers.

Why: measured side by side (bench/results/native_front.txt, native_plain.txt), a Python HTTP path
costs more per request than the engine itself on the competency queries; the front reads requests,
takes a plain query's decisions with the native scanner, keeps the response cache for all workers,
and enforces the same limits as the granian front (``header_timeout``, ``body_timeout``,
``max_request_bytes``, ``queue_wait``, the heavy-query rules of ``cowkg.web.evaluator``).
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import resource
import signal
import socket
import sys
import tempfile
from pathlib import Path

from flask import Flask

from .. import native, sandbox
from ..errors import CowkgError, InputError, Overloaded, PayloadTooLarge, RequestTimeout
from .errors import INTERNAL_ERROR
from .evaluator import HEAVY_AFTER, RESERVED, memory_exceeded, overloaded, query_timeout, too_many_heavy
from .front import body_timeout, too_large
from .http import CORS_HEADERS, POLICY_HEADERS

log = logging.getLogger(__name__)

#: Page workers per worker of the ``workers`` setting (each answers one page at a time).
PAGE_WORKERS = 4
#: Seconds a kept-alive connection may stay idle between requests.
KEEP_ALIVE = 30.0
#: Seconds a page request waits for a free page worker, and a page may take, before a 503.
PAGE_WAIT, PAGE_TIMEOUT = 10.0, 120.0
#: Bytes of answers the front keeps (as ``sparql.ResponseCache``), and the largest it keeps.
CACHE_BYTES, CACHE_ENTRY = 64 << 20, 4 << 20
#: A number no real request size has, for the front to put the declared size in its place.
SIZE_MARK = 987654321987
_PR_SET_PDEATHSIG = 1


def available() -> bool:
    """Whether this machine can run the native front (it is built, and this is Linux)."""
    return sys.platform.startswith("linux") and native.front_binary() is not None


class _Here:
    """The evaluator pool of a query evaluator, which is itself the evaluator: the Flask view's
    queries run here (the front kills the process at the limit)."""

    def __init__(self, work, confined: bool | None) -> None:
        self._work, self._confined = work, confined

    @property
    def confined(self) -> bool | None:
        return self._confined

    def run(self, payload, timeout):
        try:
            return self._work(payload)
        except MemoryError:
            raise memory_exceeded(sandbox.memory_budget()) from None

    def prestart(self, count: int | None = None) -> None:
        """Nothing to start: this process is the evaluator."""


class _Elsewhere:
    """The evaluator pool of a page worker, which is not confined: it says how the evaluators are
    (the master's probe, for ``/health``), and a query a page runs — none should: the front sends
    ``/sparql`` and ``/rdf-graphs`` to the evaluators — goes to evaluator processes of its own,
    forked on first use, as under granian."""

    def __init__(self, pool, confined: bool | None) -> None:
        self._pool, self._confined = pool, confined

    @property
    def confined(self) -> bool | None:
        return self._confined

    def run(self, payload, timeout):
        return self._pool.run(payload, timeout)

    def prestart(self, count: int | None = None) -> None:
        """Nothing to start before a page needs it."""


def error_config(cfg: dict, size: int, workers: int) -> list[str]:
    """The front's error bodies, made by cowkg's error classes (the same words as the granian path)."""

    def line(name: str, exc: CowkgError) -> str:
        return f"error={name} " + json.dumps(exc.as_dict(), separators=(",", ":"))

    limit = int(cfg["max_request_bytes"])
    errors = [
        line("overloaded", overloaded(size)),
        line("query_timeout", query_timeout(cfg["query_timeout"])),
        line("heavy", too_many_heavy(max(1, size - RESERVED))),
        line("body_timeout", body_timeout(cfg["body_timeout"])),
        line("header_timeout", RequestTimeout(
            f"the request line and headers did not arrive within {cfg['header_timeout']:g} s",
            hint="the header_timeout setting limits how long a request's line and headers may take to send",
            details={"limit_seconds": cfg["header_timeout"]})),
        line("too_large", too_large(None, limit)),
        line("too_large_declared", too_large(SIZE_MARK, limit)),
        line("head_too_large", PayloadTooLarge(
            f"the request line and headers exceed the limit of {limit + 65536} bytes",
            hint="send long queries with POST; max_request_bytes limits them", details={"limit_bytes": limit})),
        line("pages_busy", Overloaded(f"all {workers} page workers of this server are busy",
                                      hint="retry after a few seconds", details={"page_workers": workers})),
        line("page_timeout", RequestTimeout(f"the page was not ready within {PAGE_TIMEOUT:g} s",
                                            hint="retry later; this page takes unusually long")),
        line("connections", Overloaded("this server holds as many connections as it may",
                                       hint="retry after a few seconds")),
    ]
    if cfg["query_memory"]:
        errors.append(line("memory", memory_exceeded(int(cfg["query_memory"]))))
    errors.append("error=crashed " + json.dumps(INTERNAL_ERROR, separators=(",", ":")))
    headers = [("Content-Type", "application/json"), ("Vary", "Accept"), *CORS_HEADERS, *POLICY_HEADERS]
    return errors + [f"error_header={name}: {value}" for name, value in headers]


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}", hint="check --host and --port") from None
    sock.listen(2048)
    return sock


def _probe_confinement(memory: int | None) -> bool:
    """Whether an evaluator forked from here can be confined (asked of a short-lived child)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, b"1" if sandbox.confine(memory).network else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.close(read)
    os.waitpid(pid, 0)
    return answer == b"1"


class Master:
    """Forks and replaces the workers, runs the front, stops everything on a signal."""

    def __init__(self, app: Flask, host: str, port: int, workers: int, access_log: bool) -> None:
        self.app, self.host, self.port, self.access_log = app, host, port, access_log
        self.cfg = app.config["COWKG"]
        self.evaluators = max(1, workers) * max(1, int(self.cfg["evaluators"]))
        self.page_workers = max(1, workers) * PAGE_WORKERS
        self.children: dict[int, str] = {}
        self.stopping = False
        self.front_pid = 0
        self.front_stdin = -1

    def run(self) -> None:
        from .server import warm

        warm(self.app)
        self.app.config["COWKG_FRONT"] = "native"
        listener = _listen(self.host, self.port)
        self.confined = _probe_confinement(self.cfg["query_memory"] or None)
        if not self.confined:
            log.warning("query evaluators are NOT network-confined on this platform (no seccomp): "
                        "the SERVICE check of the query text is the only line of defence")
        with tempfile.TemporaryDirectory(prefix="cowkg-front-") as tmp:
            self.sockets = {role: self._unix_listener(Path(tmp) / f"{role}.sock") for role in ("query", "page")}
            self.listener = listener
            deaths_read, self.deaths = os.pipe()
            first = min(RESERVED, self.evaluators)
            for _ in range(first):
                self._fork("query")
            self._fork("page")
            config = Path(tmp) / "front.conf"
            config.write_text(self._config(listener.fileno(), deaths_read, first), encoding="utf-8")
            self._start_front(config, listener.fileno(), deaths_read)
            os.close(deaths_read)
            listener.close()
            print(f"cowkg: serving http://{self.host}:{self.port}/ (SPARQL at /sparql) with the native front, "
                  f"{self.evaluators} query evaluators and {self.page_workers} page workers; query texts read by "
                  "the native scanner", file=sys.stderr, flush=True)
            for _ in range(self.evaluators - first):
                self._fork("query")
            for _ in range(self.page_workers - 1):
                self._fork("page")
            self._supervise()

    def _unix_listener(self, path: Path) -> socket.socket:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(256)
        return sock

    def _config(self, listen_fd: int, deaths_fd: int, first: int) -> str:
        from ..vocab import PREFIXES
        from ..wdqs import WIKIDATA_NAMESPACES

        cfg = self.cfg
        values = {
            "listen_fd": listen_fd, "deaths_fd": deaths_fd,
            "query_socket": self.sockets["query"].getsockname(), "page_socket": self.sockets["page"].getsockname(),
            "evaluators": self.evaluators, "initial_evaluators": first, "reserved": RESERVED,
            "heavy_after": HEAVY_AFTER, "page_workers": self.page_workers, "initial_page_workers": 1,
            "query_timeout": cfg["query_timeout"], "page_timeout": PAGE_TIMEOUT, "page_wait": PAGE_WAIT,
            "header_timeout": cfg["header_timeout"], "body_timeout": cfg["body_timeout"],
            "keep_alive": KEEP_ALIVE, "queue_wait": cfg["queue_wait"],
            "max_request_bytes": cfg["max_request_bytes"], "cache_bytes": CACHE_BYTES, "cache_entry": CACHE_ENTRY,
            "max_connections": _connection_room(), "retry_after": Overloaded.retry_after,
            "access_log": int(self.access_log),
            "wikidata_namespaces": " ".join(WIKIDATA_NAMESPACES),
            "prefixes": " ".join(f"{name}={namespace}" for name, namespace in PREFIXES.items()),
        }
        lines = [f"{key}={value}" for key, value in values.items()]
        return "\n".join(lines + error_config(cfg, self.evaluators, self.page_workers)) + "\n"

    def _start_front(self, config: Path, listen_fd: int, deaths_fd: int) -> None:
        read, write = os.pipe()
        binary = str(native.front_binary())
        pid = os.fork()
        if pid == 0:  # pragma: no cover - becomes the front
            try:
                os.dup2(read, 0)
                for fd in (listen_fd, deaths_fd):
                    os.set_inheritable(fd, True)
                os.execv(binary, [binary, str(config)])
            finally:
                os._exit(127)
        os.close(read)
        self.front_pid, self.front_stdin = pid, write

    def _fork(self, role: str) -> None:
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the worker, until the front closes its connection
            code = 0
            try:
                self._become_worker(role)
            except BaseException:
                logging.getLogger(__name__).exception("a %s worker failed", role)
                code = 1
            finally:
                os._exit(code)
        self.children[pid] = role

    def _become_worker(self, role: str) -> None:  # pragma: no cover - runs in the worker
        from .framed import Worker, hello, serve
        from .state import app_state

        for name in ("SIGTERM", "SIGINT", "SIGHUP", "SIGCHLD", "SIGUSR1", "SIGUSR2"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        listener = self.sockets[role]
        keep = listener.fileno()
        os.closerange(3, keep)
        os.closerange(keep + 1, 65536)
        conn, _ = listener.accept()
        listener.close()
        state = app_state(self.app)
        state.cache.max_bytes = state.cache.max_entry = 0  # the front keeps the answers, for every worker
        confined = self.confined
        if role == "query":
            confined = sandbox.confine(self.cfg["query_memory"] or None).network
        state.pool = _Here(state.pool._work, confined) if role == "query" else _Elsewhere(state.pool, confined)
        hello(conn)
        serve(conn, Worker(self.app, role, (self.host, str(self.port)), bool(confined)))

    def _supervise(self) -> None:
        def stop(_signum, _frame) -> None:
            if not self.stopping:
                self.stopping = True
                try:
                    os.write(self.front_stdin, b"stop\n")
                except OSError:
                    pass

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        code = 0
        while True:
            pid, status = os.wait()
            if pid == self.front_pid:
                if not self.stopping:
                    log.error("the native front ended unexpectedly (status %s); stopping", status)
                    code = 1
                break
            role = self.children.pop(pid, None)
            signum = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
            try:
                os.write(self.deaths, f"{pid} {signum}\n".encode())
            except OSError:
                pass
            if role is not None and not self.stopping:
                self._fork(role)
        for pid in list(self.children):
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        if code:
            sys.exit(code)


def _connection_room() -> int:
    """How many client connections the front may hold: its open-file limit raised to the hard one,
    less some room for the workers' sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (OSError, ValueError):
            pass
    return max(64, min(soft - 256, 20000))


def run_native(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> None:
    """Block serving ``app`` on host:port with the native front until SIGTERM/SIGINT."""
    cfg = app.config["COWKG"]
    cfg["bind_host"] = host
    if host in ("0.0.0.0", "::") and not (cfg["public_base"] or cfg["allowed_hosts"]):
        log.warning("listening on all interfaces with neither public_base nor allowed_hosts set: only requests "
                    "naming localhost or 127.0.0.1 as Host are answered (400 for others)")
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    Master(app, host, port, workers, access_log).run()
