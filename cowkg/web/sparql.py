"""SPARQL 1.1 Protocol (query operation) at ``/sparql``: GET, POST form, POST direct.

Read-only: UPDATE is refused. The dataset comes from ``default-graph-uri`` / ``named-graph-uri``;
inference from ``infer=true|false`` (default: the ``infer_default`` setting). Results are
negotiated from Accept (q-values honoured) or forced with ``format=``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..errors import InputError, NotAcceptable, UnsupportedOperation
from ..media import Format, by_name, content_type, formats_for

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"
UPDATE = "application/sparql-update"


def _truthy(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise InputError(f"infer must be true or false, not {value!r}")


def read_request() -> tuple[str, list[str], list[str], dict[str, str]]:
    """Pull the query and dataset out of a protocol request. Raises InputError on misuse."""
    if request.method == "GET":
        params = request.args
        queries = params.getlist("query")
        if "update" in params:
            raise UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only")
    else:
        mime = (request.mimetype or "").lower()
        if mime == FORM:
            params = request.form
            if "update" in params:
                raise UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only")
            queries = params.getlist("query")
            if request.args.get("query"):
                raise InputError("send the query in the body or the URL, not both")
        elif mime == DIRECT:
            params = request.args
            if params.getlist("query"):
                raise InputError("a direct POST carries the query in the body, not in the URL")
            try:
                queries = [request.get_data(as_text=False).decode("utf-8")]
            except UnicodeDecodeError:
                raise InputError("the request body is not UTF-8") from None
        elif mime == UPDATE:
            raise UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only")
        else:
            raise InputError(f"unsupported Content-Type {request.mimetype or '(none)'!r}",
                             hint=f"use {FORM} or {DIRECT}")
    if len(queries) != 1 or not queries[0].strip():
        raise InputError("exactly one non-empty 'query' parameter is required" if queries else
                         "missing 'query' parameter", hint="e.g. /sparql?query=ASK%7B%7D")
    merged = request.args.copy()
    if request.method == "POST" and (request.mimetype or "").lower() == FORM:
        merged.update(request.form)
    extras = {k: merged.get(k, "") for k in ("format", "infer")}
    return queries[0], merged.getlist("default-graph-uri"), merged.getlist("named-graph-uri"), extras


def negotiate(kind: str, format_param: str = "") -> Format:
    """Pick the output format for a result kind from ``format=`` or the Accept header."""
    offered = formats_for("graph" if kind == "graph" else "results")
    if format_param:
        fmt = by_name(format_param, ("graph",) if kind == "graph" else ("results",))
        if fmt is None:
            raise NotAcceptable(f"format {format_param!r} cannot express a {kind} result",
                                hint=", ".join(f.name for f in offered))
        return fmt
    header = request.accept_mimetypes
    if not header or header.best == "*/*" and not request.headers.get("Accept"):
        return offered[0]
    candidates = [f.media_type for f in offered] + [a for f in offered for a in f.aliases]
    best = header.best_match(candidates)
    if best is None:
        raise NotAcceptable("none of the accepted media types can express this result",
                            hint="available: " + ", ".join(f.media_type for f in offered))
    return by_name(best, ("graph",) if kind == "graph" else ("results",)) or offered[0]


@bp.route("/sparql", methods=["GET", "POST"])
def sparql():
    cfg = current_app.config["COWKG"]
    backend = current_app.extensions["cowkg_backend"]
    query, default_graphs, named_graphs, extras = read_request()
    result = backend.query(query, infer=_truthy(extras["infer"], cfg["infer_default"]),
                           default_graph_uris=default_graphs or None, named_graph_uris=named_graphs or None,
                           max_rows=cfg["max_rows"], timeout=cfg["query_timeout"])
    fmt = negotiate(result.kind, extras["format"])
    resp = Response(result.serialize(fmt), content_type=content_type(fmt))
    resp.headers["Vary"] = "Accept"
    if result.truncated:
        resp.headers["X-Cowkg-Truncated"] = f"results cut at {cfg['max_rows']} rows"
    return resp
