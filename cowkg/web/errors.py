"""One error shape for every failure: JSON ``{status, error, message, location?, hint?}``.

CowkgError subclasses map to their own status; HTTP errors raised by Flask/werkzeug keep theirs;
anything else is a bug: logged with its traceback and answered 500.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

from ..errors import CowkgError

log = logging.getLogger(__name__)


def error_response(status: int, kind: str, message: str, **extra):
    body = {"status": status, "error": kind, "message": message, **{k: v for k, v in extra.items() if v}}
    resp = jsonify(body)
    resp.status_code = status
    return resp


def init_app(app: Flask) -> None:
    @app.errorhandler(CowkgError)
    def _cowkg(exc: CowkgError):
        resp = jsonify(exc.as_dict())
        resp.status_code = exc.http_status
        return resp

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        kind = (exc.name or "error").lower().replace(" ", "-")
        resp = error_response(exc.code or 500, kind, exc.description or exc.name)
        for header in ("Allow",):
            if exc.get_headers() and dict(exc.get_headers()).get(header):
                resp.headers[header] = dict(exc.get_headers())[header]
        return resp

    @app.errorhandler(Exception)
    def _bug(exc: Exception):
        log.exception("unhandled error")
        return error_response(500, "internal-error", "internal error (logged); please report it")
