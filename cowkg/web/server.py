"""Run the app under gunicorn: forked workers share the prebuilt store, SIGTERM drains requests.

The store, its labels and its counts are computed once in the master before forking, so every
worker (and every evaluator process a worker forks) shares them copy-on-write. Sync workers:
each handles one request at a time and owns one evaluator process (``evaluator.py``), so a
runaway query occupies one worker for at most ``query_timeout`` seconds while the others serve.
SIGTERM / SIGINT: workers finish their request in flight (``graceful_timeout``), then exit; their
evaluators die with them.
"""

from __future__ import annotations

import sys

from flask import Flask
from gunicorn.app.base import BaseApplication

ACCESS_LOG_FORMAT = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


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


def server_options(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> dict:
    """gunicorn settings: a worker is only killed by gunicorn well after the query limit has cut it."""
    timeout = int(app.config["COWKG"]["query_timeout"]) + 30
    return {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "sync",
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
