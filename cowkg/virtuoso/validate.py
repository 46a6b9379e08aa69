"""SHACL inside Virtuoso: the shapes compiled to SPARQL (``cowkg.shacl_sparql``) run by the server
over the graphs it holds, then the QC queries, as ``cowkg validate`` reports them.

Stage: validation, where the data lives (issue 15: at 10M triples the data exists only in
Virtuoso). Input: a SPARQL endpoint, the shapes graph, the QC queries and, when the graphs were
loaded from the project's files, their ``Sources`` (for file:line). Output: a ``ValidationReport``.

The data graph is what the in-process validation reads: the merge of the asserted graphs
(ontology, data, meta), sent as ``default-graph-uri`` so Virtuoso's other graphs (its own, the
inferred graph, the Wikibase view) stay out. Each query goes through ``RemoteSparqlBackend``
(parsed locally first, form POST, SPARQL XML read by pyoxigraph). A query the server cuts at its
row limit (ResultSetMaxRows) or stops at its time limit is an error, never a shorter report.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence

import rdflib

from ..errors import BackendError
from ..load import Sources
from ..qc import QcQuery
from ..validate import ShaclRun, ValidationReport, build_report
from ..vocab import ASSERTED_GRAPHS

log = logging.getLogger(__name__)

#: Seconds one validation query may run on the server (a 10M-triple class check takes minutes).
QUERY_TIMEOUT = 3600.0


def remote_select(endpoint: str, graphs: Sequence[str] = tuple(str(g) for g in ASSERTED_GRAPHS),
                  timeout: float = QUERY_TIMEOUT):
    """A ``shacl_sparql.Select`` over ``endpoint`` whose default graph is the merge of ``graphs``.

    Raises BackendUnavailable / BackendError / QueryTimeout (exit 4 / 4 / 3) as the remote backend
    does, and BackendError when the server's row limit cut an answer."""
    from ..backends.virtuoso import RemoteSparqlBackend

    backend = RemoteSparqlBackend(endpoint, request_timeout=timeout + 60)

    def select(sparql: str) -> Iterator[dict]:
        result = backend.query(sparql, default_graph_uris=list(graphs), named_graph_uris=[], timeout=timeout)
        if result.truncated:
            raise BackendError(f"{endpoint} cut a validation query at {len(result.rows):,} rows "
                               "(its ResultSetMaxRows): no verdict from a partial answer",
                               hint="raise ResultSetMaxRows in virtuoso.ini")
        names = result.columns or result.variables
        for row in result.rows:
            yield {n: row[n] for n in names}

    return select


def shacl_endpoint(endpoint: str, shapes: rdflib.Graph,
                   graphs: Sequence[str] = tuple(str(g) for g in ASSERTED_GRAPHS)) -> ShaclRun:
    """SHACL alone (compiled to SPARQL) over the graphs ``graphs`` of the server at ``endpoint``:
    the ``sparql`` engine's ShaclRun, its report graph shaped as pySHACL's.

    Raises UnsupportedShape (exit 2) for shapes the compiler does not translate, and
    BackendUnavailable / BackendError (exit 4) when the server cannot be reached or fails."""
    from ..shacl_sparql import validate_select

    start = time.perf_counter()
    conforms, results, owners, queries = validate_select(shapes, remote_select(endpoint, graphs), "virtuoso")
    log.info("SHACL on %s: %d queries in %.1f s", endpoint, queries, time.perf_counter() - start)
    return ShaclRun(conforms, results, f"{len(owners)} results from {queries} SPARQL queries", "sparql", owners)


def validate_endpoint(endpoint: str, shapes: rdflib.Graph, qc: Sequence[QcQuery] = (),
                      sources: Sources | None = None,
                      graphs: Sequence[str] = tuple(str(g) for g in ASSERTED_GRAPHS),
                      run: ShaclRun | None = None) -> ValidationReport:
    """Validate the graphs ``graphs`` that the server at ``endpoint`` holds: SHACL (compiled to
    SPARQL; ``run``, when it already ran) and the QC queries ``qc``, run by the server, reported as
    ``cowkg validate`` reports. ``sources``: the files the graphs were loaded from, for file:line
    (None: the report has none). Raises as ``shacl_endpoint``."""
    run = run if run is not None else shacl_endpoint(endpoint, shapes, graphs)
    select = remote_select(endpoint, graphs)
    rows = []
    for query in qc:
        for row in select(query.sparql):
            if row.get("focus") is None:
                raise BackendError(f"{query.path}: the remote store answered a QC query with a row without ?focus")
            rows.append((query, {k: v for k, v in row.items() if v is not None}))
    return build_report(run, sources, shapes, None, qc_rows=rows)
