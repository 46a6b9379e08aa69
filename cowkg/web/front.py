"""The front of the server: reads whole requests asynchronously, then hands them to Flask in lanes.

Stage: web, between the HTTP server (granian, Rust: ``cowkg.web.server``) and the Flask app.
Why a front: a thread-per-connection server lets a client that sends its headers or its body one
byte a second hold a request thread for as long as it likes (issue 17, finding 3). Here the HTTP
server reads the head (with a time limit of its own) and this module reads the body on the event
loop, within ``body_timeout`` seconds and ``max_request_bytes`` bytes, costing no thread. Only a
complete request reaches Flask, which runs in one of two thread pools (lanes):

- the **query lane** (``/sparql`` with a query): at most as many at once as the worker has
  evaluator processes; a request waits at most ``queue_wait`` seconds for a free one, then is
  answered 503 with Retry-After (``Overloaded``) — never an unbounded queue. The common query is
  answered on the event loop itself (``sparql.respond_directly``: parsed once, evaluated through the
  evaluator's pipe, no thread and no Flask); the rest (errors, conditional requests, the service
  description, a remote store's answers) goes to Flask in the lane's threads;
- the **page lane** (everything else: health, static files, entity pages, views, downloads,
  reconciliation): its own threads, so cheap requests never wait behind running queries.

Responses are sent by the HTTP server, asynchronously: a client that does not read its answer holds
no thread either.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_to_bytes

from flask import Flask

from ..errors import CowkgError, Overloaded, PayloadTooLarge, RequestTimeout
from .sparql import respond_directly
from .state import app_state

log = logging.getLogger(__name__)

#: Threads of the page lane per worker: pages, views and files are short (milliseconds).
PAGE_THREADS = 8
#: Seconds after a worker starts serving when its remaining evaluators are forked.
REST_OF_EVALUATORS_AFTER = 1.0


class Front:
    """An RSGI application (granian's native interface) around a Flask app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        cfg = app.config["COWKG"]
        self.max_body = int(cfg["max_request_bytes"])
        self.body_timeout = float(cfg["body_timeout"])
        self.queue_wait = float(cfg["queue_wait"])
        self.query_threads = max(1, int(cfg["evaluators"]))
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._slots: asyncio.Semaphore | None = None
        self.access_log = logging.getLogger("cowkg.access")

    # -- lanes ------------------------------------------------------------------------------------------------

    def lane(self, name: str) -> ThreadPoolExecutor:
        """The thread pool of a lane, made on first use in the worker process (after the fork)."""
        pool = self._lanes.get(name)
        if pool is None:
            size = self.query_threads if name == "query" else PAGE_THREADS
            pool = self._lanes[name] = ThreadPoolExecutor(size, thread_name_prefix=f"cowkg-{name}")
        return pool

    def slots(self) -> asyncio.Semaphore:
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.query_threads)
        return self._slots

    @staticmethod
    def lane_of(method: str, path: str, query_string: str) -> str:
        """``query`` for a SPARQL protocol request that carries a query, else ``page``."""
        if path == "/sparql" and (method == "POST" or "query=" in query_string or "update=" in query_string):
            return "query"
        return "page"

    # -- RSGI -------------------------------------------------------------------------------------------------

    async def __rsgi__(self, scope, proto) -> None:
        start = time.perf_counter()
        status = 500
        try:
            status = await self._handle(scope, proto)
        finally:
            if self.access_log.isEnabledFor(logging.INFO):
                self.access_log.info('%s %s "%s %s%s HTTP/%s" %s %.2fms "%s"', scope.client.rsplit(":", 1)[0],
                                     time.strftime("[%d/%b/%Y:%H:%M:%S %z]"), scope.method, scope.path,
                                     "?" + scope.query_string if scope.query_string else "", scope.http_version,
                                     status, (time.perf_counter() - start) * 1000,
                                     scope.headers.get("user-agent", "-"))

    def __rsgi_init__(self, loop) -> None:
        """Called by granian once per worker when its event loop starts: the worker's remaining
        evaluators are forked ``REST_OF_EVALUATORS_AFTER`` seconds later (the first few were forked
        before it started, ``server._loader``), so forking all of them no longer delays the
        server's first answer (issue 15: ready in < 1 s)."""
        loop.call_later(REST_OF_EVALUATORS_AFTER, self._start_evaluators)

    def _start_evaluators(self) -> None:
        pool = app_state(self.app).pool
        if pool is None:
            return
        try:
            pool.prestart()
        except Exception:  # a worker short of evaluators still serves; it forks them when needed
            log.exception("could not start this worker's remaining query evaluators")

    def __rsgi_del__(self, loop) -> None:
        for pool in self._lanes.values():
            pool.shutdown(wait=False, cancel_futures=True)

    async def _handle(self, scope, proto) -> int:
        if scope.proto != "http":
            return 400
        try:
            body = await self._read_body(scope, proto)
        except CowkgError as exc:
            return self._error(scope, proto, exc)
        lane = self.lane_of(scope.method, scope.path, scope.query_string)
        loop = asyncio.get_running_loop()
        environ = self._environ(scope, body)
        if lane == "query":
            slots = self.slots()
            try:
                if slots.locked():
                    await asyncio.wait_for(slots.acquire(), self.queue_wait)
                else:
                    await slots.acquire()  # free: taken at once, without a timer
            except TimeoutError:
                return self._error(scope, proto, Overloaded(
                    f"all {self.query_threads} query evaluators of this server process are busy",
                    hint="retry after a few seconds; the evaluators setting sets how many run at once",
                    details={"evaluators": self.query_threads}))
            try:
                direct = await respond_directly(self.app, environ)
                if direct is not None:
                    status, headers, body = direct
                    proto.response_bytes(status, headers, body)
                    return status
                status, headers, chunks = await loop.run_in_executor(self.lane("query"), self._call, environ)
            finally:
                slots.release()
        else:
            status, headers, chunks = await loop.run_in_executor(self.lane("page"), self._call, environ)
        if len(chunks) == 1:
            proto.response_bytes(status, headers, chunks[0])
        elif not chunks:
            proto.response_empty(status, headers)
        else:
            proto.response_bytes(status, headers, b"".join(chunks))
        return status

    async def _read_body(self, scope, proto) -> bytes:
        """The whole body, read on the event loop within ``body_timeout`` and ``max_request_bytes``."""
        length = scope.headers.get("content-length")
        chunked = "chunked" in (scope.headers.get("transfer-encoding") or "").lower()
        if length is None and not chunked:
            return b""
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = -1
            if declared > self.max_body:
                raise too_large(declared, self.max_body)
            if declared == 0:
                return b""
        parts: list[bytes] = []
        size = 0

        async def collect() -> None:
            nonlocal size
            async for chunk in proto:
                parts.append(chunk)
                size += len(chunk)
                if size > self.max_body:
                    raise too_large(None, self.max_body)

        try:
            await asyncio.wait_for(collect(), self.body_timeout)
        except TimeoutError:
            raise body_timeout(self.body_timeout) from None
        return b"".join(parts)

    def _environ(self, scope, body: bytes) -> dict[str, Any]:
        host, _, port = (scope.server or "127.0.0.1:80").rpartition(":")
        return wsgi_environ(scope.method, scope.path, scope.query_string, scope.http_version,
                            scope.client.rsplit(":", 1)[0], (host, port), scope.headers.items(), body,
                            scheme=scope.scheme, threads=True)

    def _call(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], list[bytes]]:
        """Run the Flask app on one request (in a lane thread); the whole response."""
        return call_app(self.app, environ)

    def _error(self, scope, proto, exc: CowkgError) -> int:
        """An error answered here, before Flask: the app's JSON error shape."""
        import json

        body = json.dumps(exc.as_dict()).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))),
                   ("Access-Control-Allow-Origin", "*"), ("X-Content-Type-Options", "nosniff")]
        retry = getattr(exc, "retry_after", None)
        if retry:
            headers.append(("Retry-After", str(retry)))
        if isinstance(exc, RequestTimeout | PayloadTooLarge):
            headers.append(("Connection", "close"))
        proto.response_bytes(exc.http_status, headers, b"" if scope.method == "HEAD" else body)
        return exc.http_status


def wsgi_environ(method: str, path: str, query_string: str, http_version: str, remote: str,
                 server: tuple[str, str], headers: Iterable[tuple[str, str]], body: bytes, *,
                 scheme: str = "http", threads: bool = False) -> dict[str, Any]:
    """The WSGI environ of a request read whole by a front (granian's here, or the native one's:
    ``cowkg.web.framed``): ``path`` still percent-encoded, the body in memory, its real length."""
    environ = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query_string,
        "SERVER_NAME": server[0],
        "SERVER_PORT": server[1],
        "SERVER_PROTOCOL": f"HTTP/{http_version}",
        "REMOTE_ADDR": remote,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": threads,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    if body or method in ("POST", "PUT", "PATCH"):
        environ["CONTENT_LENGTH"] = str(len(body))
    for key, value in headers:
        name = key.upper().replace("-", "_")
        if name == "CONTENT_TYPE":
            environ[name] = value
        elif name in ("CONTENT_LENGTH", "TRANSFER_ENCODING"):
            continue  # the body is read already; Flask sees its real length
        else:
            http = "HTTP_" + name
            environ[http] = f"{environ[http]},{value}" if http in environ else value
    return environ


def call_app(app: Flask, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], list[bytes]]:
    """The whole response of the WSGI ``app`` to ``environ``: status, headers and the body's chunks
    (none for HEAD)."""
    captured: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], exc_info=None):
        captured["status"], captured["headers"] = int(status.split(" ", 1)[0]), headers
        return lambda data: captured.setdefault("written", []).append(data)

    result = app(environ, start_response)
    try:
        chunks = [bytes(c) for c in result if c]
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if environ["REQUEST_METHOD"] == "HEAD":
        return captured["status"], captured["headers"], []
    return captured["status"], captured["headers"], captured.get("written", []) + chunks


def body_timeout(seconds: float) -> RequestTimeout:
    """The answer to a request whose body took longer than ``seconds`` to arrive."""
    return RequestTimeout(f"the request body did not arrive within {seconds:g} s",
                          hint="the body_timeout setting limits how long a request body may take to send",
                          details={"limit_seconds": seconds})


def too_large(size: int | None, limit: int) -> PayloadTooLarge:
    """The answer to a body over ``limit`` bytes (``size``: its declared size, if it said)."""
    what = "request body exceeds the limit of" if size is None else f"request body of {size} bytes exceeds the limit of"
    return PayloadTooLarge(f"{what} {limit}" + (" bytes" if size is None else ""),
                           hint="the max_request_bytes setting limits request bodies and queries",
                           details={"limit_bytes": limit})
