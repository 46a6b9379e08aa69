"""SPARQL 1.1 Protocol (query operation) at ``/sparql``: GET, POST form, POST direct.

Read-only: UPDATE is refused (400, whatever way it is sent). The dataset comes from
``default-graph-uri`` / ``named-graph-uri`` (they replace the query's FROM clauses); inference
from ``infer=true|false`` (default: the ``infer_default`` setting, stated in the service
description). Results are negotiated from Accept (q-values honoured) or forced with ``format=``
(or ``output=``). GET without a query answers the service description. Every query runs in a
killable evaluator process (``evaluator.py``); answers are cached per process and revalidated with
ETags, since the data cannot change while the server runs.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.wrappers import Request

from ..answer import Answer, QuerySpec, finish
from ..backends.virtuoso import Prepared
from ..errors import InputError, UnsupportedOperation
from ..query import refuse
from ..querytext import ParsedQuery, parse_plain, parse_query
from .http import CORS_HEADERS, POLICY_HEADERS, host_allowed
from .state import app_state

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"
REFUSED = "SPARQL UPDATE is not accepted: this endpoint is read-only"


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    """A boolean request parameter; raises InputError for anything but true/false (1/0, yes/no)."""
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise InputError(f"{name} must be true or false, not {value!r}")


def read_spec(request: Request, cfg: dict, confined: bool, decided: ParsedQuery | None = None) -> QuerySpec:
    """The query and its dataset, format and inference choice from a protocol request (Flask's, or
    one the front built from a request it answers itself), parsed once and checked (``refuse``,
    with ``confined`` saying whether the evaluators cannot reach the network).

    ``decided``: the plain parse of the query the native front read in this request (its scanner's
    decisions), used when it is of this very text.

    Raises UnsupportedOperation for any update, InputError for protocol misuse (two queries,
    wrong media type, a non-UTF-8 body, a query both in the URL and the body).
    """
    mime = (request.mimetype or "").lower()
    if "update" in request.args or mime == UPDATE or any(k.startswith("using-") for k in request.args):
        raise UnsupportedOperation(REFUSED, hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    params = request.args.copy()
    if request.method in ("GET", "HEAD"):
        queries = request.args.getlist("query")
    elif mime == FORM:
        _require_utf8(request)
        if "update" in request.form:
            raise UnsupportedOperation(REFUSED, hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
        if "query" in request.args:
            raise InputError("send the query in the body or the URL, not both")
        queries = request.form.getlist("query")
        for key, values in request.form.lists():
            if key != "query":
                params.setlist(key, params.getlist(key) + values)
    elif mime == DIRECT:
        _require_utf8(request)
        if "query" in request.args:
            raise InputError("a direct POST carries the query in the body, not in the URL")
        try:
            queries = [request.get_data(cache=False).decode("utf-8")]
        except UnicodeDecodeError as exc:
            raise InputError(f"the request body is not UTF-8 (byte {exc.start})") from None
    else:
        raise InputError(f"unsupported Content-Type {request.mimetype or '(none)'!r} for a query",
                         hint=f"POST the query as {DIRECT}, or as the 'query' field of {FORM}")
    if not queries:
        raise InputError("missing 'query' parameter", hint="e.g. /sparql?query=ASK%7B%7D")
    if len(queries) > 1:
        raise InputError(f"{len(queries)} 'query' parameters; the protocol allows exactly one")
    if not queries[0].strip():
        raise InputError("the query is empty")
    # A plain query's decisions come from the native scanner when it is built (``cowkg.native``).
    if decided is not None and decided.text == queries[0]:
        parsed = decided
    else:
        parsed = parse_plain(queries[0]) or parse_query(queries[0])
    # Before taking an evaluator (refusals cost nothing); a SERVICE only another reading of the
    # text holds is left to the evaluators when they cannot reach the network.
    refuse(parsed, confined=confined)
    parsed.decide()  # here, once: the evaluator gets the decisions, not the text to read again
    return QuerySpec(
        query=queries[0],
        parsed=parsed,
        infer=parse_bool("infer", params.get("infer"), cfg["infer_default"]),
        default_graphs=tuple(params.getlist("default-graph-uri")),
        named_graphs=tuple(params.getlist("named-graph-uri")),
        accept=request.headers.get("Accept", ""),
        formats=tuple(params.getlist("format") + params.getlist("output")),
        max_rows=cfg["max_rows"],
        timeout=cfg["query_timeout"],
        max_answer_bytes=cfg["max_answer_bytes"],
    )


def _require_utf8(request: Request) -> None:
    charset = request.mimetype_params.get("charset")
    if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii"):
        raise InputError(f"charset {charset!r} is not supported: the protocol requires UTF-8")


class ResponseCache:
    """Answers by request, least recently used evicted first, bounded in bytes (per process)."""

    def __init__(self, max_bytes: int = 64 << 20, max_entry: int = 4 << 20) -> None:
        self.max_bytes, self.max_entry = max_bytes, max_entry
        self._data: OrderedDict[tuple, Answer] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Answer | None:
        """The cached answer for ``key``, or None."""
        with self._lock:
            answer = self._data.get(key)
            if answer is not None:
                self._data.move_to_end(key)
            return answer

    def put(self, key: tuple, answer: Answer) -> None:
        """Keep ``answer`` unless it is larger than ``max_entry``; evict the oldest past ``max_bytes``."""
        if len(answer.body) > self.max_entry:
            return
        with self._lock:
            if key in self._data:
                return
            self._data[key] = answer
            self._size += len(answer.body)
            while self._size > self.max_bytes:
                _, old = self._data.popitem(last=False)
                self._size -= len(old.body)


#: Where the front leaves what it already did for a request it hands on (``cowkg.web.front``): the
#: checked spec, and the evaluator's outcome (an answer to send from here, or the error to answer).
SPEC_KEY, OUTCOME_KEY = "cowkg.spec", "cowkg.outcome"


def answer(spec: QuerySpec) -> Answer:
    """The answer to ``spec``: from the cache, else from an evaluator process (then cached)."""
    state = app_state()
    key = spec.cache_key()
    found = state.cache.get(key)
    if found is None:
        found = request.environ.pop(OUTCOME_KEY, None) or state.pool.run(spec, spec.timeout)
        if isinstance(found, Exception):
            raise found
        if isinstance(found, Prepared):  # a remote store: the evaluator checked it, this process sends it
            found = finish(state.backend, spec, found)
        state.cache.put(key, found)
    return found


def etag_for(spec: QuerySpec, version: str) -> str:
    """A validator for the answer to ``spec`` known before evaluating it: data version + request."""
    return hashlib.sha256(repr((version, spec.cache_key())).encode()).hexdigest()[:24]


def answer_headers(spec: QuerySpec, answer: Answer | None, etag: str, version: str) -> list[tuple[str, str]]:
    """The headers of a protocol answer (of a 304 when ``answer`` is None), besides the policy's."""
    headers = [("Vary", "Accept"), ("Cache-Control", "no-cache"), ("X-Cowkg-Version", version),
               ("ETag", f'W/"{etag}"')]
    if answer is not None:
        headers += [("Content-Type", answer.content_type), ("X-Cowkg-Rows", str(answer.rows)),
                    ("Server-Timing", f"query;dur={answer.seconds * 1000:.2f}")]
        if answer.truncated:
            headers.append(("X-Cowkg-Truncated", f"true; max_rows={spec.max_rows}"))
    return headers


def respond(spec: QuerySpec) -> Response:
    """The protocol response for ``spec``, or 304 when the client's ETag is current."""
    version = app_state().catalog.version
    etag = etag_for(spec, version)
    if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(etag):
        return Response(status=304, headers=answer_headers(spec, None, etag, version))
    result = answer(spec)
    return Response(result.body, headers=answer_headers(spec, result, etag, version))


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    """Answer a SPARQL query; GET without one returns the service description."""
    if request.method in ("GET", "HEAD") and "query" not in request.args and "update" not in request.args:
        from .describe import service_description

        return service_description()
    spec = request.environ.get(SPEC_KEY) or read_spec(request, current_app.config["COWKG"],
                                                      bool(app_state().pool.confined))
    return respond(spec)


async def respond_directly(app: Flask, environ: dict) -> tuple[int, list[tuple[str, str]], bytes] | None:
    """The answer to a protocol query read by the front (``cowkg.web.front``) without Flask: the
    common case — a GET or POST with a query, from an allowed host, no conditional header — read,
    checked, taken from the cache or evaluated on the event loop (``EvaluatorPool.run_async``), with
    the same status, body and headers the Flask view gives. None for anything else, and for an
    answer that is an error or must be sent by a remote store: the front then hands the request to
    the Flask view, with the spec and the evaluator's outcome in ``environ`` (nothing is run twice).
    """
    state = app_state(app)
    if environ["REQUEST_METHOD"] not in ("GET", "POST") or "HTTP_IF_NONE_MATCH" in environ \
            or not host_allowed(app, environ.get("HTTP_HOST", "")):
        return None
    cfg = app.config["COWKG"]
    if len(environ["QUERY_STRING"]) > cfg["max_request_bytes"]:
        return None
    try:
        req = app.request_class(environ)
        if req.method == "GET" and "query" not in req.args:
            return None
        spec = read_spec(req, cfg, bool(state.pool.confined))
    except Exception:  # the Flask view answers it, in the one error shape
        return None
    finally:
        environ["wsgi.input"].seek(0)
    environ[SPEC_KEY] = spec
    key = spec.cache_key()
    found = state.cache.get(key)
    if found is None:
        try:
            found = await state.pool.run_async(spec, spec.timeout)
        except Exception as exc:
            environ[OUTCOME_KEY] = exc
            return None
        if isinstance(found, Prepared):
            environ[OUTCOME_KEY] = found
            return None
        state.cache.put(key, found)
    version = state.catalog.version
    headers = answer_headers(spec, found, etag_for(spec, version), version)
    headers += [*CORS_HEADERS, *POLICY_HEADERS, ("Content-Length", str(len(found.body)))]
    return 200, headers, found.body
