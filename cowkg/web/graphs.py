"""SPARQL 1.1 Graph Store HTTP Protocol, read-only: ``GET /rdf-graphs?graph=<iri>`` or ``?default``.

Stage: web. Each graph is fetched with a CONSTRUCT through the same killable evaluators, cache
and ETags as ``/sparql`` (never cut by the row cap: a partial graph would be a wrong graph).
Writes (PUT, POST, DELETE, PATCH) answer 405 with ``Allow: GET, HEAD, OPTIONS``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from ..answer import QuerySpec
from ..errors import InputError, NotFound
from ..vocab import check_iri
from .sparql import parse_bool, respond
from .state import app_state

bp = Blueprint("graphs", __name__)


@bp.route("/rdf-graphs", methods=["GET"])
def graph_store():
    """One named graph (``graph=``) or the default graph (``default``) as RDF."""
    cfg = current_app.config["COWKG"]
    graph = request.args.get("graph")
    is_default = "default" in request.args
    if bool(graph) == is_default:
        raise InputError("give exactly one of ?graph=<IRI> or ?default",
                         hint="e.g. /rdf-graphs?graph=https://w3id.org/cowkg/graph/data")
    infer = parse_bool("infer", request.args.get("infer"), cfg["infer_default"])
    if graph:
        check_iri(graph, what="a graph IRI", hint="e.g. /rdf-graphs?graph=https://w3id.org/cowkg/graph/data")
        exists = app_state().backend.query(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                                                               timeout=cfg["query_timeout"])
        if not exists.boolean:
            raise NotFound(f"no graph named <{graph}> in this dataset",
                           hint="the service description (GET /sparql) lists the named graphs")
        query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    else:
        query = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    spec = QuerySpec(query=query, infer=infer, accept=request.headers.get("Accept", ""),
                     formats=tuple(request.args.getlist("format")), max_rows=None, timeout=cfg["query_timeout"])
    return respond(spec)
