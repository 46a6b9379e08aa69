"""Web layer: a thin Flask app over the same library functions the CLI calls.

``create_app(settings=None, backend=None)`` builds the app; tests hand in a prebuilt backend.
One blueprint per URL space: ``sparql`` (protocol), ``describe`` (service description, VoID),
``graphs`` (read-only graph store), ``entities`` (/id, /page, /data), ``namespaces`` (/vocab,
/graph, /dataset: the other IRIs the data mints), ``home`` (/, the coalition as of a date),
``browse`` (/browse/<list>), ``ui`` (query UI, search), ``health``. Nothing in the library imports
this package.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from flask import Flask

from .. import native
from ..backends import open_backend
from ..settings import load_settings

log = logging.getLogger(__name__)


def create_app(settings: dict[str, Any] | None = None, backend=None) -> Flask:
    """Build the app. Without ``backend``, load, reason and index the project at settings['root']."""
    from pathlib import Path

    from ..answer import evaluate
    from .catalog import Catalog
    from .evaluator import EvaluatorPool
    from .formdata import Request
    from .sparql import ResponseCache
    from .state import AppState

    app = Flask(__name__)
    app.request_class = Request
    app.config["COWKG"] = cfg = load_settings(settings)
    native.configure(cfg["native"])
    # One byte past the limit, so http.check_size can tell a chunked body at the limit from a longer one.
    app.config["MAX_CONTENT_LENGTH"] = cfg["max_request_bytes"] + 1
    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.json.sort_keys = False
    if backend is None:
        backend = open_backend(cfg, check=True)
    pool = EvaluatorPool(functools.partial(evaluate, backend), size=cfg["evaluators"],
                         memory_bytes=cfg["query_memory"] or None, queue_wait=cfg["queue_wait"])
    app.extensions["cowkg"] = AppState(backend, pool, ResponseCache(), Catalog(backend, Path(cfg["root"])))

    from . import browse, describe, entities, errors, graphs, health, home, http, present, reconcile, sparql, ui, views

    http.init_app(app)
    errors.init_app(app)
    present.init_app(app)
    app.jinja_env.globals["term"] = entities.render_term
    app.register_blueprint(home.bp)
    app.register_blueprint(browse.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(describe.bp)
    app.register_blueprint(graphs.bp)
    app.register_blueprint(entities.bp)
    app.register_blueprint(ui.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(reconcile.bp)
    from . import downloads, namespaces, ontology_page  # exports: /download/, /ontology, /context.jsonld
    app.register_blueprint(downloads.bp)
    app.register_blueprint(ontology_page.bp)
    app.register_blueprint(namespaces.bp)  # /vocab/<name>, /graph/<name>, /dataset
    return app
