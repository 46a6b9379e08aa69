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

from flask import Blueprint, Response, current_app, request

from ..backends.virtuoso import Prepared
from ..errors import InputError, UnsupportedOperation
from ..query import refuse
from ..querytext import parse_query
from .evaluator import Answer, QuerySpec, finish
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


def read_spec() -> QuerySpec:
    """The query and its dataset, format and inference choice from a protocol request.

    Raises UnsupportedOperation for any update, InputError for protocol misuse (two queries,
    wrong media type, a non-UTF-8 body, a query both in the URL and the body).
    """
    cfg = current_app.config["COWKG"]
    mime = (request.mimetype or "").lower()
    if "update" in request.args or mime == UPDATE or any(k.startswith("using-") for k in request.args):
        raise UnsupportedOperation(REFUSED, hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    params = request.args.copy()
    if request.method in ("GET", "HEAD"):
        queries = request.args.getlist("query")
    elif mime == FORM:
        _require_utf8()
        if "update" in request.form:
            raise UnsupportedOperation(REFUSED, hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
        if "query" in request.args:
            raise InputError("send the query in the body or the URL, not both")
        queries = request.form.getlist("query")
        for key, values in request.form.lists():
            if key != "query":
                params.setlist(key, params.getlist(key) + values)
    elif mime == DIRECT:
        _require_utf8()
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
    parsed = parse_query(queries[0])
    # Before taking an evaluator (refusals cost nothing); a SERVICE only another reading of the
    # text holds is left to the evaluators when they cannot reach the network.
    refuse(parsed, confined=bool(app_state().pool.confined))
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


def _require_utf8() -> None:
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


def answer(spec: QuerySpec) -> Answer:
    """The answer to ``spec``: from the cache, else from an evaluator process (then cached)."""
    cache: ResponseCache = app_state().cache
    key = spec.cache_key()
    found = cache.get(key)
    if found is None:
        found = app_state().pool.run(spec, spec.timeout)
        if isinstance(found, Prepared):  # a remote store: the evaluator checked it, this process sends it
            found = finish(app_state().backend, spec, found)
        cache.put(key, found)
    return found


def etag_for(spec: QuerySpec) -> str:
    """A validator for the answer to ``spec`` known before evaluating it: data version + request."""
    version = app_state().catalog.version
    return hashlib.sha256(repr((version, spec.cache_key())).encode()).hexdigest()[:24]


def respond(spec: QuerySpec) -> Response:
    """The protocol response for ``spec``, or 304 when the client's ETag is current."""
    etag = etag_for(spec)
    headers = {"Vary": "Accept", "Cache-Control": "no-cache",
               "X-Cowkg-Version": app_state().catalog.version}
    if request.method in ("GET", "HEAD") and request.if_none_match.contains_weak(etag):
        resp = Response(status=304, headers=headers)
        resp.set_etag(etag, weak=True)
        return resp
    result = answer(spec)
    resp = Response(result.body, content_type=result.content_type, headers=headers)
    resp.set_etag(etag, weak=True)
    resp.headers["X-Cowkg-Rows"] = str(result.rows)
    resp.headers["Server-Timing"] = f"query;dur={result.seconds * 1000:.2f}"
    if result.truncated:
        resp.headers["X-Cowkg-Truncated"] = f"true; max_rows={spec.max_rows}"
    return resp


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    """Answer a SPARQL query; GET without one returns the service description."""
    if request.method in ("GET", "HEAD") and "query" not in request.args and "update" not in request.args:
        from .describe import service_description

        return service_description()
    return respond(read_spec())
