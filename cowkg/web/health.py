"""Liveness and what is served: ``/health`` answers when the backend can run a trivial query, and
says how many triples each graph holds, which release of the dataset this is, how queries are
confined and whether the native query-text scanner reads them — so a monitor sees a short graph or
a lost sandbox, not only a dead process."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import native
from .state import app_state

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 ``{"status": "ok", ...}`` when the backend answers a trivial query, else 503."""
    from .describe import _graph_sizes

    backend = app_state().backend
    ok = backend.query("ASK { }", timeout=5).boolean is True
    catalog = app_state().catalog
    pool = app_state().pool
    body = {"status": "ok" if ok else "degraded", "backend": backend.name,
            "release": catalog.release, "data_version": catalog.version,
            "graphs": _graph_sizes(),
            "evaluators": {"per_worker": current_app.config["COWKG"]["evaluators"],
                           "network_confined": pool.confined,
                           "memory_per_query": current_app.config["COWKG"]["query_memory"] or None},
            "native_scanner": native.library() is not None,
            "front": current_app.config.get("COWKG_FRONT", "granian")}
    return jsonify(body), (200 if ok else 503)
