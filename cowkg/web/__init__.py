"""Web layer: a thin Flask app over the same library functions the CLI calls.

``create_app(settings=None, backend=None)`` builds the app; tests hand in a prebuilt backend.
Nothing in the library imports this package.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from ..settings import load_settings

log = logging.getLogger(__name__)


def create_app(settings: dict[str, Any] | None = None, backend=None) -> Flask:
    """Build the app. Without ``backend``, load, reason and index the project at settings['root']."""
    app = Flask(__name__)
    app.config["COWKG"] = load_settings(settings)
    app.config["MAX_CONTENT_LENGTH"] = app.config["COWKG"]["max_request_bytes"]
    if backend is None:
        backend = make_backend(app.config["COWKG"])
    app.extensions["cowkg_backend"] = backend

    from . import errors, health, sparql

    errors.init_app(app)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(health.bp)
    return app


def make_backend(cfg: dict[str, Any]):
    """The backend the settings ask for (embedded store by default)."""
    if cfg["backend"] == "embedded":
        from ..backends.embedded import EmbeddedBackend
        from ..store import open_project

        kg = open_project(cfg["root"], reasoner=cfg["reasoner"], cache_dir=cfg["cache_dir"])
        return EmbeddedBackend(kg)
    raise ValueError(f"unknown backend {cfg['backend']!r}")
