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

import asyncio
import ctypes
import logging
import os
import pickle
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Generator
from multiprocessing.connection import Connection, Pipe
from typing import Any

from .. import sandbox
from ..errors import CowkgError, Overloaded, QueryMemoryExceeded, QueryTimeout

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1
#: Seconds after which a running query counts as heavy: its evaluator is reniced, then retired.
HEAVY_AFTER = 1.0
#: Evaluators per worker that heavy queries may never all take: kept for short queries.
RESERVED = 2
#: Seconds a child whose pipe broke is given to finish ending by itself (one that ran out of memory
#: may still be releasing it) before it is taken for alive and killed.
ENDING_WAIT = 1.0
_RESET_SIGNALS = ("SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGCHLD", "SIGABRT")


class EvaluatorCrashed(RuntimeError):
    """An evaluator process died while answering (a bug or the machine ran out of memory): a 500."""


class _Child:
    """One evaluator process and the parent's end of its pipe."""

    def __init__(self, work: Callable[[Any], Any], memory_bytes: int | None = None, *, wait: bool = True) -> None:
        """Fork the process; with ``wait``, also wait until it is confined and ready (``handshake``)."""
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
        if wait:
            self.handshake()

    def handshake(self) -> None:
        """Wait (at most 30 s) for the child's "ready" and how it is confined."""
        if self.conn.poll(30):
            try:
                _hello, self.confinement = self.conn.recv()
            except (EOFError, OSError):
                pass

    def kill(self) -> None:
        """SIGKILL the process and reap it (it cannot ignore or delay this)."""
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.reap()

    def reap_after_kill(self) -> tuple[bool, int | None]:
        """Reap a child whose pipe broke: whether it had ended by itself (it may still be ending),
        and the signal that ended it. A child still alive is killed here; its SIGKILL then says
        nothing about the query, so (False, None)."""
        try:
            deadline = time.monotonic() + ENDING_WAIT
            while (found := os.waitpid(self.pid, os.WNOHANG))[0] == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            pid, status = found
            if pid == 0:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                return False, None
            return True, (os.WTERMSIG(status) if os.WIFSIGNALED(status) else None)
        except (ChildProcessError, ProcessLookupError):
            return True, None
        finally:
            self.conn.close()

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
            payload = pickle.loads(conn.recv_bytes())
        except (EOFError, OSError):
            return
        try:
            message = ("ok", work(payload))
        except CowkgError as exc:
            message = ("error", exc)
        except MemoryError:
            message = ("error", memory_exceeded(sandbox.memory_budget()))
        except Exception:
            message = ("bug", traceback.format_exc())
        try:
            conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
        except Exception:
            conn.send_bytes(pickle.dumps(("bug", traceback.format_exc())))


def overloaded(size: int) -> Overloaded:
    """The refusal of a query when all ``size`` evaluators stayed busy for ``queue_wait``."""
    return Overloaded(f"all {size} query evaluators of this server process are busy",
                      hint="retry after a few seconds; the evaluators setting sets how many run at once",
                      details={"evaluators": size})


def query_timeout(timeout: float) -> QueryTimeout:
    """The answer to a query stopped at ``timeout`` seconds."""
    return QueryTimeout(f"query stopped after {timeout:g} s",
                        hint="the query_timeout setting limits each query; narrow the query or add LIMIT",
                        details={"limit_seconds": timeout})


def too_many_heavy(limit: int) -> Overloaded:
    """The refusal of a query that turned heavy while ``limit`` heavy ones already ran."""
    return Overloaded(f"{limit} long-running queries are already running in this server process",
                      hint="retry after a few seconds; short queries are still answered meanwhile",
                      details={"long_running_limit": limit})


def memory_exceeded(limit: int | None) -> QueryMemoryExceeded:
    """The answer to a query whose evaluation outgrew ``limit`` bytes."""
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
            while (child := self._take()) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise self._overloaded()
                self._cond.wait(left)
            return child

    def _take(self) -> _Child | None:
        """An idle child, or a new one while there is room; None when all are busy (holding the lock)."""
        if self._idle:
            return self._idle.pop()
        if len(self._all) >= self._size:
            return None
        child = self._new_child()
        self._all.append(child)
        return child

    def _overloaded(self) -> Overloaded:
        self.refused += 1
        return overloaded(self._size)

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
        child = self._send(payload, self._acquire(self.queue_wait))
        steps, ready = self._answer(child, timeout), None
        while not (step := _advance(steps, ready))[0]:
            ready = _polled(child.conn, step[1])
        return step[1]

    async def run_async(self, payload: Any, timeout: float | None) -> Any:
        """``run`` for an event loop: the same limits, and no thread waits for the child — the loop
        is told when its pipe is readable (the request path of ``cowkg.web.front``)."""
        child = self._send(payload, await self._acquire_async(self.queue_wait))
        steps, ready = self._answer(child, timeout), None
        while not (step := _advance(steps, ready))[0]:
            ready = await _readable(child.conn, step[1])
        return step[1]

    def _answer(self, child: _Child, timeout: float | None) -> Generator[float | None, bool, Any]:
        """The limits of one answer, for either way of waiting (``run``, ``run_async``): yields how
        long to wait for ``child``'s pipe and is sent whether it became readable. A child that
        overruns ``HEAVY_AFTER`` turns heavy; one that overruns ``timeout`` is killed (503)."""
        healthy = False
        try:
            waited = 0.0
            if timeout is None or timeout > HEAVY_AFTER:
                if not (yield HEAVY_AFTER):
                    self._turn_heavy(child)
                    waited = HEAVY_AFTER
            if not (yield None if timeout is None else max(0.0, timeout - waited)):
                raise self._stop(child, timeout)
            status, value = _receive(child)
            healthy = True
        except (EOFError, OSError, pickle.UnpicklingError) as exc:
            raise self._broken(child, exc) from None
        finally:
            self._finish(child, healthy)
        return _outcome(status, value)

    async def _acquire_async(self, wait: float | None) -> _Child:
        """An idle child without blocking the loop: at once when one is free (the front admits no
        more queries than there are evaluators), else checked again every few milliseconds."""
        if os.getpid() != self._pid:
            self._reset()
        deadline = None if wait is None else time.monotonic() + wait
        while True:
            with self._cond:
                child = self._take()
            if child is not None:
                return child
            if deadline is not None and time.monotonic() >= deadline:
                raise self._overloaded()
            await asyncio.sleep(0.005)

    def _stop(self, child: _Child, timeout: float | None) -> QueryTimeout:
        """Kill ``child``, which overran ``timeout``: the error to answer."""
        child.kill()
        self.killed += 1
        log.warning("query stopped at the %g s limit; evaluator %d killed", timeout, child.pid)
        return query_timeout(timeout)

    def _broken(self, child: _Child, exc: BaseException) -> Exception:
        """The error for a child whose pipe broke: over its memory, crashed, or alive under a
        broken pipe (then stopped)."""
        ended, signum = child.reap_after_kill()
        if not ended:
            return EvaluatorCrashed(f"the pipe to evaluator process {child.pid} broke while it was answering "
                                    f"({exc!r}); the process was stopped")
        if signum in (signal.SIGABRT, signal.SIGKILL) and self.memory_bytes:
            log.warning("evaluator %d ended by signal %s: query over its memory limit", child.pid, signum)
            return memory_exceeded(self.memory_bytes)
        return EvaluatorCrashed(f"evaluator process {child.pid} died while answering: {exc!r}")

    def _finish(self, child: _Child, healthy: bool) -> None:
        if child.reniced:
            with self._cond:
                self._heavy -= 1
        self._release(child, healthy)
        if healthy:
            child.answered += 1

    def _turn_heavy(self, child: _Child) -> None:
        """Count ``child`` as heavy and lower its priority, or stop it when too many already are."""
        with self._cond:
            room = self._heavy < self.heavy_limit
            if room:
                self._heavy += 1
        if not room:
            child.kill()
            self.killed += 1
            raise too_many_heavy(self.heavy_limit)
        child.lower_priority()
        if not child.reniced:  # renice refused: count it anyway, it is retired after its answer
            child.reniced = True

    def _send(self, payload: Any, child: _Child) -> _Child:
        """Hand ``payload`` to ``child``, an idle child; children found dead (OOM killer, kill -9)
        are replaced (by the next idle one, without waiting)."""
        data = pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)
        for _attempt in range(self._size + 1):
            try:
                if _has_input(child.conn):  # an idle child has nothing to say: readable means it is gone
                    raise OSError("evaluator gone while idle")
                child.conn.send_bytes(data)
                return child
            except OSError as exc:
                self._release(child, healthy=False)
                child.kill()
                error = exc
            with self._cond:
                child = self._take()
            if child is None:
                break
        raise EvaluatorCrashed(f"cannot reach a live evaluator process: {error!r}")

    def prestart(self, count: int | None = None) -> None:
        """Fork ``count`` (default: all) evaluators now, e.g. before a server process starts threads."""
        if os.getpid() != self._pid:
            self._reset()
        with self._cond:
            # forked first, then greeted: the children confine themselves side by side (a worker's
            # 8 evaluators were ~0.2 s of a server's start one after another)
            born = [_Child(self._work, self.memory_bytes, wait=False)
                    for _ in range(min(self._size, count or self._size) - len(self._all))]
            for child in born:
                child.handshake()
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


def _receive(child: _Child) -> tuple[str, Any]:
    return pickle.loads(child.conn.recv_bytes())


def _outcome(status: str, value: Any) -> Any:
    """The child's answer, or the error it raised (a bug in it is EvaluatorCrashed)."""
    if status == "ok":
        return value
    if status == "error":
        raise value
    raise EvaluatorCrashed(f"evaluator raised:\n{value}")


def _advance(steps: Generator, ready: bool | Exception | None) -> tuple[bool, Any]:
    """Tell ``_answer`` what the wait gave (readable, or the pipe's error); (done, outcome) or
    (False, how long to wait next)."""
    try:
        return False, steps.throw(ready) if isinstance(ready, Exception) else steps.send(ready)
    except StopIteration as done:
        return True, done.value


def _polled(conn: Connection, seconds: float | None) -> bool | Exception:
    """Whether ``conn`` became readable within ``seconds`` (blocking), or the error of a broken pipe."""
    try:
        return conn.poll(seconds)
    except (EOFError, OSError) as exc:
        return exc


async def _readable(conn: Connection, seconds: float | None) -> bool | Exception:
    """Whether ``conn`` has something to read within ``seconds``, waiting on the event loop (or
    the error of a broken pipe)."""
    try:
        return await _wait_readable(conn, seconds)
    except (EOFError, OSError) as exc:
        return exc


async def _wait_readable(conn: Connection, seconds: float | None) -> bool:
    loop = asyncio.get_running_loop()
    ready = loop.create_future()
    fd = conn.fileno()
    loop.add_reader(fd, _settle, ready, True)
    timer = None if seconds is None else loop.call_later(seconds, _settle, ready, False)
    try:
        return await ready
    finally:
        loop.remove_reader(fd)
        if timer is not None:
            timer.cancel()
        if not os.get_blocking(fd):  # uvloop (libuv) makes what it watches non-blocking: the
            os.set_blocking(fd, True)  # answer is then read in pieces, never waited for


def _settle(future: asyncio.Future, value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _has_input(conn: Connection) -> bool:
    """Whether ``conn`` is readable now (one system call; an idle child's pipe never is, unless
    the child is gone)."""
    return bool(select.select([conn.fileno()], [], [], 0)[0])
