"""Liveness: ``/health`` answers when the backend can run a trivial query."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """200 ``{"status": "ok"}`` when the backend answers a trivial query, else 503."""
    backend = current_app.extensions["cowkg_backend"]
    ok = backend.query("ASK { }", timeout=5).boolean is True
    return jsonify({"status": "ok" if ok else "degraded", "backend": backend.name}), (200 if ok else 503)
