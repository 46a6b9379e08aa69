"""Killable query evaluation: every query runs in a pre-forked child process, killed at the limit.

Stage: between the web views and the backend. pyoxigraph gives no way to interrupt a query from
Python (it releases the GIL but keeps computing), and a deadline checked between result rows
cannot stop a GROUP BY over a cross product that computes for minutes before its first row. Only
a process can be stopped for sure, so each server process keeps a few evaluator children, forked
from it (they share the store copy-on-write) and reached through a pipe. A query that is not
answered within the limit gets its child SIGKILLed (the CPU is free at once), a fresh child is
forked in its place, and the request is answered 503.

Measured with ``bench/timeout_design.py`` (50k triples, label lookup): in-process 0.05 ms, a
persistent child 0.17 ms (+0.11 ms), a child forked per query 4.3 ms (+4.3 ms): the persistent
child costs 40x less, so that is the design.

Children close every inherited file descriptor but their pipe (so they never hold a client socket
or the listening socket open), ignore the server's signals, and die with their parent
(``PR_SET_PDEATHSIG`` on Linux, and end-of-file on the pipe). They are confined
(``cowkg.sandbox``): no network sockets, and at most ``query_memory`` more bytes of address space,
so a query that grows past it ends its child, which is reported as 503 ``query-memory-exceeded``.
A query that runs longer than ``HEAVY_AFTER`` seconds is heavy: its child's CPU priority is
lowered, so new short queries on other evaluators are not slowed by it, and the child is retired
after its answer. At most ``size - RESERVED`` queries of a worker may be heavy at once; a query that
turns heavy past that is stopped with 503 and Retry-After, so ``RESERVED`` evaluators always remain
for short queries however many long ones arrive.
When every evaluator is busy, a query waits at most ``queue_wait`` seconds for one, then is
refused with 503 and Retry-After (``Overloaded``) instead of queueing without bound.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, Pipe
from typing import Any

from .. import sandbox
from ..backends.virtuoso import Prepared
from ..errors import AnswerTooLarge, CowkgError, NotAcceptable, Overloaded, QueryMemoryExceeded, QueryTimeout
from ..media import by_name, choose, content_type
from ..query import NATIVE_FORMATS
from ..querytext import ParsedQuery, parse_query
from ..vocab import BASE

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
#: Seconds after which a running query counts as heavy: its evaluator is reniced, then retired.
HEAVY_AFTER = 1.0
#: Evaluators per worker that heavy queries may never all take: kept for short queries.
RESERVED = 2
_RESET_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD", "SIGABRT")


@dataclass(frozen=True)
class QuerySpec:
    """Everything a worker process needs to answer one protocol request (picklable)."""

    query: str
    infer: bool = False
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    accept: str = ""
    formats: tuple[str, ...] = ()
    max_rows: int | None = None
    timeout: float | None = None
    #: Largest answer body sent (None: no limit): a larger one is refused with 413.
    max_answer_bytes: int | None = None
    #: The query's parse, made once in the request (its checks already passed); travels with the spec.
    parsed: ParsedQuery | None = field(default=None, compare=False, repr=False)

    def cache_key(self) -> tuple:
        """What identifies the response bytes (the time limit does not change a completed answer)."""
        return (self.query, self.infer, self.default_graphs, self.named_graphs, self.accept, self.formats,
                self.max_rows)


@dataclass(frozen=True)
class Answer:
    """A serialised result, ready to send."""

    body: bytes
    content_type: str
    kind: str
    rows: int
    truncated: bool
    seconds: float


def evaluate(backend, spec: QuerySpec) -> Answer | Prepared:
    """Run ``spec`` on ``backend`` and serialise the result in the negotiated format.

    A SELECT asked for in JSON or XML is written by the engine itself when the backend can
    (``query_serialized``, the embedded store); everything else, and results over the row cap,
    take the general path. A remote backend (``prepare``/``execute``) is only prepared here —
    checked and parsed in this confined process — and the ``Prepared`` query is returned for the
    server process to send (``finish``): the evaluator cannot open network connections. Raises the
    backend's CowkgErrors (syntax error, update refused, timeout) and NotAcceptable.
    """
    parsed = spec.parsed or parse_query(spec.query)
    if hasattr(backend, "execute"):
        return Prepared(*backend.prepare(parsed, spec.infer, list(spec.default_graphs) or None,
                                         list(spec.named_graphs) or None))
    if parsed.form == "SELECT":
        fmt = choose("results", spec.accept, spec.formats)
        if fmt.name in NATIVE_FORMATS:
            done = backend.query_serialized(parsed, fmt, infer=spec.infer,
                                            default_graph_uris=list(spec.default_graphs) or None,
                                            named_graph_uris=list(spec.named_graphs) or None, max_rows=spec.max_rows)
            if done is not None:
                return Answer(check_answer_size(done.body, spec.max_answer_bytes), content_type(fmt), "solutions",
                              done.rows, False, done.seconds)
    result = backend.query(parsed, infer=spec.infer, default_graph_uris=list(spec.default_graphs) or None,
                           named_graph_uris=list(spec.named_graphs) or None, max_rows=spec.max_rows,
                           timeout=spec.timeout)
    return serialize_answer(result, spec)


def finish(backend, spec: QuerySpec, prepared: Prepared) -> Answer:
    """The answer to a query a remote backend's evaluator prepared: sent from this process."""
    return serialize_answer(backend.execute(prepared, max_rows=spec.max_rows, timeout=spec.timeout), spec)


#: Where a cut answer points (the head's ``link``): what was cut, and by which setting.
TRUNCATED = BASE + "truncated?max_rows={}"


def serialize_answer(result, spec: QuerySpec) -> Answer:
    """``result`` in the negotiated format, with the truncation marker and the answer-size cap.

    A graph asked for in a results format only (rdflib's SPARQLStore with returnFormat="json")
    gets an RDF format instead of 406, as other endpoints do: JSON-LD when the client asked for
    JSON, else Turtle; the Content-Type says which."""
    if result.kind == "graph":
        try:
            fmt = choose("graph", spec.accept, spec.formats)
        except NotAcceptable:
            if spec.formats:  # a format asked for by name is not second-guessed
                raise
            fmt = by_name("jsonld" if "json" in (spec.accept + " ".join(spec.formats)).lower() else "ttl",
                          ("graph",))
    else:
        fmt = choose("results", spec.accept, spec.formats)
    links = [TRUNCATED.format(spec.max_rows)] if result.truncated else []
    body = result.serialize(fmt, links)
    if result.truncated and result.kind == "graph" and fmt.name in ("ttl", "nt"):
        body = f"# cut at max_rows = {spec.max_rows} triples: {links[0]}\n".encode() + body
    if result.truncated and fmt.name == "json":
        # A marker clients can see without reading headers; SPARQL JSON readers ignore unknown keys.
        marker = json.dumps({"truncated": True, "max_rows": spec.max_rows})
        body = body[:-1] + b', "cowkg": ' + marker.encode() + b"}"
    return Answer(check_answer_size(body, spec.max_answer_bytes), content_type(fmt), result.kind, len(result),
                  result.truncated, result.seconds)


def check_answer_size(body: bytes, limit: int | None) -> bytes:
    """``body``, or AnswerTooLarge (413) when it is over ``limit`` bytes."""
    if limit is not None and len(body) > limit:
        raise AnswerTooLarge(f"the answer has {len(body)} bytes, more than the limit of {limit}",
                             hint="the max_answer_bytes setting limits answers; add LIMIT, select fewer or shorter "
                                  "values", details={"limit_bytes": limit})
    return body


class EvaluatorCrashed(RuntimeError):
    """An evaluator process died while answering (a bug or the machine ran out of memory): a 500."""


class _Child:
    """One evaluator process and the parent's end of its pipe."""

    def __init__(self, work: Callable[[Any], Any], memory_bytes: int | None = None) -> None:
        parent_end, child_end = Pipe()
        forked_from_main = threading.current_thread() is threading.main_thread()
        parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - runs in the child, which never returns
            code = 0
            try:
                _child_setup(child_end, parent_pid, forked_from_main)
                confined = sandbox.confine(memory_bytes)
                child_end.send(("ready", confined))
                _child_loop(child_end, work)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        child_end.close()
        self.pid = pid
        self.conn = parent_end
        self.started = time.monotonic()
        self.answered = 0
        self.reniced = False
        self.confinement: sandbox.Confinement | None = None
        if parent_end.poll(30):
            try:
                _hello, self.confinement = parent_end.recv()
            except (EOFError, OSError):
                pass

    def kill(self) -> None:
        """SIGKILL the process and reap it (it cannot ignore or delay this)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.reap()

    def reap_after_kill(self) -> int | None:
        """Reap a child whose pipe broke: the signal that ended it (it may still be ending)."""
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                time.sleep(0.05)
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == 0:
                os.kill(self.pid, signal.SIGKILL)
                _pid, status = os.waitpid(self.pid, 0)
            self.conn.close()
            return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        except (ChildProcessError, ProcessLookupError):
            self.conn.close()
            return None

    def reap(self) -> int | None:
        """Wait for the process to end and close the pipe; the signal that ended it, if any."""
        signum = None
        try:
            _pid, status = os.waitpid(self.pid, 0)
            if os.WIFSIGNALED(status):
                signum = os.WTERMSIG(status)
        except ChildProcessError:
            pass
        self.conn.close()
        return signum

    def lower_priority(self) -> None:
        """Let shorter queries on other evaluators go first (a process cannot be reniced back up
        without privilege, so a reniced child is retired after its answer)."""
        try:
            os.setpriority(os.PRIO_PROCESS, self.pid, 10)
            self.reniced = True
        except OSError:
            pass


def _child_setup(conn: Connection, parent_pid: int, forked_from_main: bool) -> None:  # pragma: no cover
    for name in _RESET_SIGNALS:
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if forked_from_main and sys.platform.startswith("linux"):
        # PDEATHSIG fires when the forking *thread* ends: only safe from the main thread.
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:
        os._exit(0)
    keep = conn.fileno()
    os.closerange(3, keep)
    os.closerange(keep + 1, 65536)


def _child_loop(conn: Connection, work: Callable[[Any], Any]) -> None:  # pragma: no cover
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            return
        try:
            message = ("ok", work(payload))
        except CowkgError as exc:
            message = ("error", exc)
        except MemoryError:
            message = ("error", _memory_exceeded(sandbox.memory_budget()))
        except Exception:
            message = ("bug", traceback.format_exc())
        try:
            conn.send(message)
        except Exception:
            conn.send(("bug", traceback.format_exc()))


def _memory_exceeded(limit: int | None) -> QueryMemoryExceeded:
    size = f" of {limit / 2**20:.0f} MiB" if limit else ""
    return QueryMemoryExceeded(f"query stopped: it needed more than its memory{size}",
                               hint="the query_memory setting limits each evaluation; narrow the query, add LIMIT, "
                                    "or sort fewer rows", details={"limit_bytes": limit} if limit else {})


class EvaluatorPool:
    """Up to ``size`` evaluator processes per server process, created on first use.

    ``run(payload, timeout)`` returns ``work(payload)`` as computed in a child, re-raises the
    CowkgError it raised, raises QueryTimeout (503) after killing a child that overran,
    QueryMemoryExceeded (503) when a child outgrew ``memory_bytes``, Overloaded (503 + Retry-After)
    when no child became free within ``queue_wait`` seconds, and EvaluatorCrashed when a child
    died otherwise. Safe to share across threads; after a fork the new process starts its own
    children (the inherited ones belong to the parent).
    """

    def __init__(self, work: Callable[[Any], Any], size: int = 4, memory_bytes: int | None = None,
                 queue_wait: float | None = None) -> None:
        self._work = work
        self._size = max(1, size)
        self.memory_bytes = memory_bytes
        self.queue_wait = queue_wait
        self._reset()
        self.killed = 0
        self.refused = 0
        self.heavy_limit = max(1, self._size - RESERVED)

    def _reset(self) -> None:
        self._pid = os.getpid()
        self._idle: list[_Child] = []
        self._all: list[_Child] = []
        self._heavy = 0
        self._cond = threading.Condition()

    def _new_child(self) -> _Child:
        return _Child(self._work, self.memory_bytes)

    def _acquire(self, wait: float | None) -> _Child:
        if os.getpid() != self._pid:
            self._reset()
        deadline = None if wait is None else time.monotonic() + wait
        with self._cond:
            while not self._idle and len(self._all) >= self._size:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    self.refused += 1
                    raise Overloaded(f"all {self._size} query evaluators of this server process are busy",
                                     hint="retry after a few seconds; the evaluators setting sets how many run at once",
                                     details={"evaluators": self._size})
                self._cond.wait(left)
            if self._idle:
                return self._idle.pop()
            child = self._new_child()
            self._all.append(child)
            return child

    def _release(self, child: _Child, healthy: bool) -> None:
        with self._cond:
            if healthy and not child.reniced:
                self._idle.append(child)
            else:
                self._all.remove(child)
                if healthy:
                    child.kill()  # retired: its lowered priority cannot be raised again
            self._cond.notify()

    @property
    def confined(self) -> bool | None:
        """Whether this process's evaluators cannot reach the network (None before the first starts)."""
        children = self._all if os.getpid() == self._pid else []
        known = [c.confinement for c in children if c.confinement is not None]
        return all(c.network for c in known) if known else None

    def run(self, payload: Any, timeout: float | None) -> Any:
        """``work(payload)`` computed in a child within ``timeout`` seconds (None: no limit)."""
        child = self._send(payload)
        healthy = False
        try:
            waited = 0.0
            if timeout is None or timeout > HEAVY_AFTER:
                if not child.conn.poll(HEAVY_AFTER):
                    self._turn_heavy(child)
                    waited = HEAVY_AFTER
            if not child.conn.poll(None if timeout is None else max(0.0, timeout - waited)):
                child.kill()
                self.killed += 1
                log.warning("query stopped at the %g s limit; evaluator %d killed", timeout, child.pid)
                raise QueryTimeout(f"query stopped after {timeout:g} s",
                                   hint="the query_timeout setting limits each query; narrow the query or add LIMIT",
                                   details={"limit_seconds": timeout})
            status, value = child.conn.recv()
            healthy = True
        except (EOFError, OSError) as exc:
            signum = child.reap_after_kill()
            if signum in (signal.SIGABRT, signal.SIGKILL) and self.memory_bytes:
                log.warning("evaluator %d ended by signal %s: query over its memory limit", child.pid, signum)
                raise _memory_exceeded(self.memory_bytes) from None
            raise EvaluatorCrashed(f"evaluator process {child.pid} died while answering: {exc!r}") from None
        finally:
            if child.reniced:
                with self._cond:
                    self._heavy -= 1
            self._release(child, healthy)
        child.answered += 1
        if status == "ok":
            return value
        if status == "error":
            raise value
        raise EvaluatorCrashed(f"evaluator raised:\n{value}")

    def _turn_heavy(self, child: _Child) -> None:
        """Count ``child`` as heavy and lower its priority, or stop it when too many already are."""
        with self._cond:
            room = self._heavy < self.heavy_limit
            if room:
                self._heavy += 1
        if not room:
            child.kill()
            self.killed += 1
            raise Overloaded(f"{self.heavy_limit} long-running queries are already running in this server process",
                             hint="retry after a few seconds; short queries are still answered meanwhile",
                             details={"long_running_limit": self.heavy_limit})
        child.lower_priority()
        if not child.reniced:  # renice refused: count it anyway, it is retired after its answer
            child.reniced = True

    def _send(self, payload: Any) -> _Child:
        """Hand ``payload`` to an idle child; children found dead (OOM killer, kill -9) are replaced."""
        for _attempt in range(self._size + 1):
            child = self._acquire(self.queue_wait)
            try:
                if child.conn.poll(0):  # an idle child has nothing to say: readable means it is gone
                    raise OSError("evaluator gone while idle")
                child.conn.send(payload)
                return child
            except OSError as exc:
                self._release(child, healthy=False)
                child.kill()
                error = exc
        raise EvaluatorCrashed(f"cannot reach a live evaluator process: {error!r}")

    def prestart(self, count: int | None = None) -> None:
        """Fork ``count`` (default: all) evaluators now, e.g. before a server process starts threads."""
        if os.getpid() != self._pid:
            self._reset()
        with self._cond:
            while len(self._all) < min(self._size, count or self._size):
                child = self._new_child()
                self._all.append(child)
                self._idle.append(child)

    def pids(self) -> list[int]:
        """Process ids of the live evaluators of this process."""
        return [c.pid for c in self._all] if os.getpid() == self._pid else []

    def close(self) -> None:
        """Stop every child of this process (used at worker exit and in tests)."""
        if os.getpid() != self._pid:
            return
        with self._cond:
            for child in self._all:
                child.kill()
            self._all.clear()
            self._idle.clear()
