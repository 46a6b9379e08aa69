"""Run the app in production: granian (Rust HTTP) workers forked from a master that built the store.

The store, its labels and counts are computed once in the master before forking, so every worker
(and every evaluator process a worker forks) shares them copy-on-write. Each worker runs the
``Front`` (``front.py``): granian reads request heads with a time limit (``header_timeout``), the
front reads bodies on the event loop (``body_timeout``) and hands complete requests to Flask in two
lanes — queries, bounded by the worker's evaluator processes, and everything else — so slow or
many clients cost neither threads nor evaluation capacity. Why granian: measured side by side
(``bench/serving_stack.py``, bench/results/serving_stack.txt), it reads slow clients without a
thread each and is the fastest candidate on this workload: gunicorn's threaded workers gave 0.82x
its throughput on unique queries and no answer at all beside 50 slow clients (each connection
holds a thread for as long as its client takes to send the request); gunicorn's gevent workers
break the evaluators' pipes (monkey-patching).

SIGTERM / SIGINT: workers stop accepting, finish requests in flight, then exit; their evaluators
die with them.
"""

from __future__ import annotations

import errno
import logging
import socket
import sys

from flask import Flask

from .. import native
from ..errors import InputError
from .state import app_state

log = logging.getLogger(__name__)


def warm(app: Flask) -> None:
    """Compute labels, counts, the data version and the dataset views (``KnowledgeGraph.build_views``)
    once, before workers fork and share them."""
    from . import downloads
    from .describe import _graph_sizes, void_stats

    state = app_state(app)
    state.catalog.warm()
    kg = getattr(state.backend, "kg", None)
    if kg is not None:
        kg.build_views()
    with app.app_context():
        _graph_sizes()
        void_stats()
        downloads.warm()


def check_port(host: str, port: int) -> None:
    """Fail early and plainly when the address is taken (rather than with a worker's traceback)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} is in use on {host}", hint="choose another with --port (or "
                                 "`make serve PORT=...`), or stop the server that holds it") from None
            raise InputError(f"cannot listen on {host}:{port}: {exc.strerror}",
                             hint="check --host and --port") from None


def _loader(app: Flask):
    """What each worker serves: the front around ``app``, the evaluators that answer its first
    queries forked now (the worker is still single-threaded; the front forks the rest just after
    the worker starts serving: ``Front.__rsgi_init__``), its access log on stdout."""
    from .evaluator import RESERVED
    from .front import Front

    def load(_target: str = ""):
        pool = app_state(app).pool
        if pool is not None:
            pool.prestart(RESERVED)
            if pool.confined is False:
                log.warning("query evaluators are NOT network-confined on this platform (no seccomp): "
                            "the SERVICE check of the query text is the only line of defence")
        return Front(app)

    return load


FRONTS = ("granian", "native", "auto")


def front_of(cfg: dict) -> str:
    """The HTTP front the ``front`` setting chooses on this machine: ``granian`` or ``native``."""
    from . import native_front

    choice = (cfg.get("front") or "granian").lower()
    if choice not in FRONTS:
        raise InputError(f"front must be one of {', '.join(FRONTS)}, not {choice!r}")
    if choice == "granian":
        return "granian"
    reasons = [why for why, missing in (
        ("the native front is not built (run scripts/setup.sh, which needs cargo)", not native_front.available()),
        ("the native front serves the embedded backend only", cfg.get("backend", "embedded") != "embedded"),
        ("the native front needs the native scanner (COWKG_NATIVE is off or the library is not built)",
         native.library() is None)) if missing]
    if not reasons:
        return "native"
    if choice == "native":
        raise InputError(f"cannot serve with the native front: {'; '.join(reasons)}",
                         hint="set front to granian or auto")
    return "granian"


def run_server(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> None:
    """Block serving ``app`` on host:port until SIGTERM/SIGINT (graceful: in-flight requests finish),
    behind the front the ``front`` setting chooses (``front_of``)."""
    if front_of(app.config["COWKG"]) == "native":
        from .native_front import run_native

        check_port(host, port)
        run_native(app, host, port, workers, access_log)
        return
    from granian.constants import Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.server import Server

    check_port(host, port)
    cfg = app.config["COWKG"]
    cfg["bind_host"] = host
    if host in ("0.0.0.0", "::") and not (cfg["public_base"] or cfg["allowed_hosts"]):
        log.warning("listening on all interfaces with neither public_base nor allowed_hosts set: only requests "
                    "naming localhost or 127.0.0.1 as Host are answered (400 for others)")
    warm(app)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("cowkg.access")
    access.handlers[:] = [handler]
    access.setLevel(logging.INFO if access_log else logging.WARNING)
    access.propagate = False
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s] %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    server = Server(
        "cowkg",
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        # asyncio's own loop, named: granian's "auto" takes rloop or uvloop whenever either is
        # importable, and the server should run on the loop it is tested on. uvloop made the
        # evaluators' pipes non-blocking (61 wrong 503s in 2,594 requests, fixed since:
        # bench/results/event_loop_before_fix.txt); fixed, it is no clear gain (event_loop.txt).
        loop=Loops.asyncio,
        workers=max(1, workers),
        http1_settings=HTTP1Settings(header_read_timeout=int(cfg["header_timeout"] * 1000)),
        backlog=2048,
        log_enabled=True,
        log_access=False,
        websockets=False,
        workers_kill_timeout=max(5, int(cfg["query_timeout"]) + 10),
    )
    scanner = "the native scanner for plain queries" if native.library() is not None else "Python only"
    print(f"cowkg: serving http://{host}:{port}/ (SPARQL at /sparql) with {server.workers} workers "
          f"x {cfg['evaluators']} query evaluators; query texts read by {scanner}", file=sys.stderr, flush=True)
    server.serve(target_loader=_loader(app))
