"""Run the app under gunicorn: forked workers share the prebuilt store, SIGTERM drains requests.

The store, its labels and its counts are computed once in the master before forking, so every
worker (and every evaluator process a worker forks) shares them copy-on-write. Threaded workers
(``THREADS`` per process, HTTP keep-alive): each thread waits on its own evaluator process
(``evaluator.py``, forked right after the worker starts, before its threads do), so a runaway
query holds one thread for at most ``query_timeout`` seconds while the others serve.
SIGTERM / SIGINT: workers finish their request in flight (``graceful_timeout``), then exit; their
evaluators die with them.
"""

from __future__ import annotations

import sys

from flask import Flask
from gunicorn.app.base import BaseApplication

#: Request threads per worker process; each gets its own evaluator process (EvaluatorPool size).
#: Measured (bench/http_throughput.py, 4 clients, query mix): 4 threads with keep-alive served
#: 2.1x the requests of single-threaded sync workers (1024 vs 477 req/s cached, 329 vs 183 evaluated).
THREADS = 4
#: One line per request: client, time ([10/Oct/2025:13:55:36 +0000], as in the common log format),
#: request line, status, bytes, duration, user agent.
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


class _Server(BaseApplication):
    def __init__(self, app: Flask, options: dict) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def _worker_exit(server, worker) -> None:
    """Stop this worker's evaluator processes before it exits."""
    pool = worker.app.application.extensions.get("cowkg_pool") if hasattr(worker.app, "application") else None
    if pool is not None:
        pool.close()


def _post_fork(server, worker) -> None:
    """Fork this worker's evaluator processes now, while it has a single thread."""
    pool = worker.app.application.extensions.get("cowkg_pool") if hasattr(worker.app, "application") else None
    if pool is not None:
        pool.prestart()


def server_options(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> dict:
    """gunicorn settings: a worker is only killed by gunicorn well after the query limit has cut it."""
    timeout = int(app.config["COWKG"]["query_timeout"]) + 30
    return {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "gthread",
        "threads": THREADS,
        "keepalive": 5,
        "post_fork": _post_fork,
        "timeout": timeout,
        "graceful_timeout": 15,
        "accesslog": "-" if access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": "info",
        # 0 = gunicorn's own 1 MiB ceiling; the app answers 413 past max_request_bytes itself.
        "limit_request_line": 0,
        "worker_exit": _worker_exit,
    }


def warm(app: Flask) -> None:
    """Compute labels, counts and the data version once, before workers fork and share them."""
    from .describe import _graph_sizes, void_stats

    app.extensions["cowkg_catalog"].warm()
    with app.app_context():
        _graph_sizes()
        void_stats()


def run_server(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> None:
    """Block serving ``app`` on host:port until SIGTERM/SIGINT (graceful: in-flight requests finish)."""
    warm(app)
    options = server_options(app, host, port, workers, access_log)
    print(f"cowkg: serving http://{host}:{port}/ (SPARQL at /sparql) with {options['workers']} workers",
          file=sys.stderr)
    _Server(app, options).run()
