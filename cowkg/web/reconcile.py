"""W3C Reconciliation Service API at ``/reconcile``, as OpenRefine calls it.

``GET|POST /reconcile`` answers the manifest, or a batch of queries (``queries=`` JSON), or a
data extension (``extend=`` JSON), form-encoded in a POST (what OpenRefine sends) or in the
URL. Suggest (``/reconcile/suggest/entity|type|property?prefix=``) with its flyouts
(``/reconcile/flyout/entity|type|property?id=``), ``/reconcile/preview?id=`` and
``/reconcile/propose_properties?type=`` complete the service. Every JSON answer may be
wrapped for JSONP with ``callback=``; CORS lets any origin read (never with credentials). The
logic lives in ``cowkg.reconciliation``; the index is built on first use, once per worker.
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ..errors import InputError, NotFound
from ..reconciliation import DEFAULT_LIMIT, MAX_LIMIT, ReconciliationService
from .state import app_state

bp = Blueprint("reconcile", __name__, url_prefix="/reconcile")
_CALLBACK_RE = re.compile(r"^[A-Za-z_$][\w$]{0,63}(?:\.[A-Za-z_$][\w$]{0,63}){0,4}$")
_lock = threading.Lock()


def service() -> ReconciliationService:
    """The app's reconciliation index, built from its backend on first use."""
    state = app_state()
    if state.reconcile is None:
        with _lock:
            if state.reconcile is None:
                state.reconcile = ReconciliationService.from_backend(state.backend)
    return state.reconcile


def reply(payload: Any, status: int = 200) -> Response:
    """JSON, or JSONP when a safe ``callback`` name is given (anything else is refused)."""
    callback = request.values.get("callback")
    if not callback:
        resp = jsonify(payload)
        resp.status_code = status
        return resp
    if not _CALLBACK_RE.match(callback):
        raise InputError("callback must be a JavaScript identifier (letters, digits, _, $ and dots)")
    body = f"/**/{callback}({json.dumps(payload, ensure_ascii=False)});"
    return Response(body, status=status, mimetype="application/javascript")


def _json_param(name: str) -> Any:
    raw = request.values.get(name, "")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise InputError(f"the {name!r} parameter is not valid JSON: {exc}",
                         hint="OpenRefine sends it form-encoded in a POST body") from None


def _int(name: str, default: int, low: int = 0, high: int = MAX_LIMIT) -> int:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InputError(f"{name} must be an integer, not {raw!r}") from None
    return max(low, min(high, value))


def _base() -> str:
    return current_app.config["COWKG"].get("public_base") or request.url_root.rstrip("/")


@bp.after_request
def _cors(resp: Response) -> Response:
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Content-Type"
    return resp


@bp.route("", methods=["GET", "POST"], strict_slashes=False)
def endpoint():
    """Manifest, batch reconciliation (``queries``), data extension (``extend``), or the old ``query``."""
    svc = service()
    deadline = time.monotonic() + current_app.config["COWKG"]["request_timeout"]
    if "queries" in request.values:
        return reply(svc.reconcile(_json_param("queries"), deadline=deadline))
    if "extend" in request.values:
        return reply(svc.extend(_json_param("extend")))
    if "query" in request.values:  # the deprecated single-query mode of the 2013 API
        raw = request.values["query"]
        query = _json_param("query") if raw.lstrip().startswith("{") else {"query": raw}
        return reply({"result": svc.reconcile({"q": query}, deadline=deadline)["q"]["result"]})
    return reply(svc.manifest(_base()))


@bp.get("/suggest/entity")
def suggest_entity():
    """Entity auto-completion: ``prefix``, optional ``type`` (repeatable), ``cursor``, ``limit``."""
    types = request.args.getlist("type")
    return reply(service().suggest_entities(request.args.get("prefix", ""), types=types,
                                            cursor=_int("cursor", 0, high=10**6),
                                            limit=_int("limit", DEFAULT_LIMIT, 1)))


@bp.get("/suggest/type")
def suggest_type():
    """Type auto-completion over cowkg classes."""
    return reply(service().suggest_types(request.args.get("prefix", ""), cursor=_int("cursor", 0, high=10**6),
                                         limit=_int("limit", DEFAULT_LIMIT, 1)))


@bp.get("/suggest/property")
def suggest_property():
    """Property auto-completion over cowkg properties and ``sameAs``."""
    return reply(service().suggest_properties(request.args.get("prefix", ""), cursor=_int("cursor", 0, high=10**6),
                                              limit=_int("limit", DEFAULT_LIMIT, 1)))


@bp.get("/propose_properties")
def propose_properties():
    """Properties to offer for data extension of a column of ``type``."""
    return reply(service().propose_properties(request.args.get("type") or None, _int("limit", DEFAULT_LIMIT, 1)))


@bp.get("/flyout/<kind>")
def flyout(kind: str):
    """The flyout OpenRefine's suggest widget shows beside a suggestion (``?id=``, JSONP with
    ``callback=``): ``{"id", "html"}``; 404 when the id is unknown."""
    rid = request.args.get("id", "")
    found = service().flyout(kind, rid)
    if found is None:
        raise NotFound(f"no {kind} {rid!r} in this reconciliation service")
    return reply(found)


@bp.get("/preview")
def preview():
    """An HTML card of one entity for OpenRefine's preview iframe (404 when unknown)."""
    rid = request.args.get("id", "")
    page = service().preview(rid)
    if page is None:
        raise NotFound(f"no entity {rid!r} in this reconciliation service")
    resp = Response(page, mimetype="text/html")
    resp.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return resp
