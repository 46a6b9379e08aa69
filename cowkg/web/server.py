"""Run the app under gunicorn: forked workers share the prebuilt store, SIGTERM drains requests."""

from __future__ import annotations

import sys

from flask import Flask
from gunicorn.app.base import BaseApplication


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


def run_server(app: Flask, host: str, port: int, workers: int, access_log: bool = True) -> None:
    """Block serving ``app`` on host:port until SIGTERM/SIGINT (graceful: in-flight requests finish)."""
    timeout = int(app.config["COWKG"]["query_timeout"]) + 20
    options = {
        "bind": f"{host}:{port}",
        "workers": max(1, workers),
        "worker_class": "sync",
        "timeout": timeout,
        "graceful_timeout": 10,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "loglevel": "info",
        "limit_request_line": 16384,
    }
    print(f"cowkg: serving http://{host}:{port}/sparql with {options['workers']} workers", file=sys.stderr)
    _Server(app, options).run()
