"""One error shape for every failure: JSON ``{status, error, message, location?, hint?, ...}``.

Browsers (Accept prefers text/html) get the same fields as an HTML page. CowkgError subclasses
answer their own status; HTTP errors raised by Flask/werkzeug keep theirs; anything else is a
bug: logged with its traceback and answered 500, never disguised as a 400.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask, Response, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..errors import CowkgError, PayloadTooLarge
from ..media import negotiate

log = logging.getLogger(__name__)

#: The body of a bug's answer (500): its traceback is logged, never sent.
INTERNAL_ERROR = {"status": 500, "error": "internal-error",
                  "message": "internal error (logged with its traceback); please report it"}


def wants_html() -> bool:
    """True when the client (a browser navigating) prefers HTML to JSON."""
    return negotiate((), request.headers.get("Accept"), ("application/json", "text/html")) == "text/html" \
        and bool(request.headers.get("Accept"))


def server_dirs() -> list[str]:
    """The server's own directories (project root, caches) that an error body must not show."""
    cfg = current_app.config["COWKG"]
    dirs = {str(Path(cfg[k]).resolve()) for k in ("root", "cache_dir", "virtuoso_dir", "wikidata_cache_dir")
            if cfg.get(k)}
    return sorted((d for d in dirs if len(Path(d).parts) > 1), key=len, reverse=True)


def without_server_paths(value, dirs: list[str]):
    """``value`` with the server's directories cut from its strings (paths become relative to them)."""
    if isinstance(value, str):
        for d in dirs:
            value = value.replace(d + os.sep, "").replace(d, ".")
        return value
    if isinstance(value, dict):
        return {k: without_server_paths(v, dirs) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_server_paths(v, dirs) for v in value]
    return value


def render_error(body: dict, headers: dict | None = None) -> Response:
    """The error ``body`` as JSON, or as an HTML page for browsers; same status either way.

    Paths under the server's directories are shown relative to them: error bodies never tell a
    client where the server keeps its files."""
    body = without_server_paths(body, server_dirs())
    if wants_html():
        resp = Response(render_template("error.html", error=body), status=body["status"],
                        content_type="text/html; charset=utf-8")
    else:
        resp = jsonify(body)
        resp.status_code = body["status"]
    resp.headers["Vary"] = "Accept"
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def init_app(app: Flask) -> None:
    """Route every exception to the one error shape."""
    @app.errorhandler(CowkgError)
    def _cowkg(exc: CowkgError):
        retry = getattr(exc, "retry_after", None)
        return render_error(exc.as_dict(), {"Retry-After": str(retry)} if retry else None)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        if isinstance(exc, RequestEntityTooLarge):
            limit = app.config["COWKG"]["max_request_bytes"]
            return render_error(PayloadTooLarge(f"request body exceeds the limit of {limit} bytes",
                                                hint="the max_request_bytes setting limits request bodies and queries",
                                                details={"limit_bytes": limit}).as_dict())
        kind = (exc.name or "error").lower().replace(" ", "-")
        headers = {k: v for k, v in exc.get_headers() if k == "Allow"}
        return render_error({"status": exc.code or 500, "error": kind, "message": exc.description or exc.name},
                            headers)

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.full_path)
        return render_error(dict(INTERNAL_ERROR))
