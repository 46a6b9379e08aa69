"""The inferred graph computed inside a private Virtuoso: ``cowkg.rules`` run where the data lives.

Stage: after the bulk load of the asserted graphs (``manage.load``). Input: a running private
instance holding the ontology, data and meta graphs. Output: its inferred graph, the same triples
``reason.infer`` computes in process (up to the literal forms Virtuoso canonicalises, as it does
for the asserted graphs: docs/VIRTUOSO.md, N2/N3), computed by SPARQL updates in Virtuoso itself —
no triple of the data crosses into this process.

Updates go through isql as ``dba`` (the private instance's login, loopback only) with row-by-row
autocommit and no transaction log (``log_enable(2)``: a 10M-triple INSERT in one logged
transaction would not fit), and one ``checkpoint`` at the end makes them durable (P5). Queries
(counts, the T-box) go to the read-only HTTP endpoint. The closure is built in work graphs
(``urn:cowkg:rules:*``) and moved onto the inferred graph only when complete; on any failure
the work graphs are dropped and the previous inferred graph stays as it was.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyoxigraph as ox
import requests

from ..errors import BackendError, BackendUnavailable
from ..rules import WORK, Fixpoint, Layout, reason_in
from ..vocab import ASSERTED_GRAPHS, GRAPH_INFERRED
from .isql import run_isql
from .manage import Instance

log = logging.getLogger(__name__)

#: Virtuoso's default, transactional mode: each rule's update commits whole (with ``log_enable(2)``,
#: row-by-row autocommit without a log, a run lost triples the next isql session should have seen;
#: ``log_enable(3, 1)`` gave the right closure 3-4x slower). Large updates need the instance's
#: ``TransactionAfterImageLimit`` (``manage.AFTER_IMAGE_LIMIT``).
LOG_MODE = ""
STAGING, DELTA, NEXT = WORK + "staging", WORK + "delta", WORK + "next"


class VirtuosoRunner:
    """``cowkg.rules.Runner`` over a private instance: updates by isql, SELECTs over HTTP."""

    def __init__(self, instance: Instance, *, timeout: float = 6 * 3600) -> None:
        self.instance = instance
        self.timeout = timeout

    def update(self, texts: Sequence[str]) -> None:
        if texts:
            self.sql([f"SPARQL {t};" for t in texts])

    def sql(self, statements: Sequence[str]) -> None:
        """Run SQL ``statements`` (each ending with ``;``) in one isql session."""
        run_isql(self.instance.sql_address, LOG_MODE + "\n".join(statements), timeout=self.timeout)

    def select(self, text: str) -> list[tuple]:
        try:
            r = requests.post(self.instance.endpoint, data={"query": text}, timeout=self.timeout,
                              headers={"Accept": "application/sparql-results+json"})
        except requests.RequestException as exc:
            raise BackendUnavailable(f"cannot reach {self.instance.endpoint}: {exc.__class__.__name__}") from None
        if r.status_code != 200:
            raise BackendError(f"{self.instance.endpoint} answered {r.status_code}: {r.text[:300]}")
        if r.headers.get("X-SPARQL-MaxRows"):
            raise BackendError(f"{self.instance.endpoint} cut the answer at {r.headers['X-SPARQL-MaxRows']} rows "
                               "(ResultSetMaxRows, P7): the T-box would be incomplete")
        data = r.json()
        names = data["head"]["vars"]
        return [tuple(_term(b[n]) if n in b else None for n in names) for b in data["results"]["bindings"]]

    def count(self, graph: str) -> int:
        return int(self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")[0][0].value)

    def after_round(self, layout: Layout) -> int:
        """Keep in ``next`` only the triples no source graph holds; move them on; how many."""
        parts = -(-self.count(layout.next) // CHUNK_ROWS)
        if parts <= 1:
            self.update([f"DELETE {{ GRAPH <{layout.next}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{layout.next}> "
                         f"{{ ?s ?p ?o }} GRAPH <{g}> {{ ?s ?p ?o }} }}" for g in layout.sources])
        else:
            self.sql(_known_removed(layout, parts))
        n = self.count(layout.next)
        self.update([f"ADD <{layout.next}> TO <{layout.staging}>", f"MOVE <{layout.next}> TO <{layout.delta}>"])
        return n


#: Most rows of ``next`` one statement removes: Virtuoso runs a DELETE over a join as one vectored
#: step, refused past its MaxVectorSize of 1,000,000 rows (FRVEC at 10M triples, where the first
#: round derives 1.4M; raising the limit to 20M crashed the server). Larger rounds are removed in
#: parts, by the subjects' internal ids.
CHUNK_ROWS = 400_000


def _known_removed(layout: Layout, parts: int) -> list[str]:
    """SQL deleting, part by part, the quads of ``next`` that a source graph holds."""
    quad = "DB.DBA.RDF_QUAD"
    known = " OR ".join(f"k.G = iri_to_id('{g}')" for g in layout.sources)
    return [f"DELETE FROM {quad} WHERE {quad}.G = iri_to_id('{layout.next}') "
            f"AND mod(iri_id_num({quad}.S), {parts}) = {i} AND EXISTS (SELECT 1 FROM {quad} k WHERE ({known}) "
            f"AND k.S = {quad}.S AND k.P = {quad}.P AND k.O = {quad}.O);" for i in range(parts)]


def _term(b: dict) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind, value = b["type"], b["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value.removeprefix("nodeID://").removeprefix("_:"))
    if "xml:lang" in b:
        return ox.Literal(value, language=b["xml:lang"])
    if "datatype" in b:
        return ox.Literal(value, datatype=ox.NamedNode(b["datatype"]))
    return ox.Literal(value)


@dataclass
class InStoreInference:
    """What ``reason_in_virtuoso`` did: the inferred graph's size, rounds and seconds."""

    triples: int
    rounds: int
    added: list[int]
    seconds: float
    rules: list[str]


def layout() -> Layout:
    return Layout(sources=(*map(str, ASSERTED_GRAPHS), STAGING), staging=STAGING, delta=DELTA, next=NEXT,
                  per_row=True, pinned=True)


def reason_in_virtuoso(instance: Instance, *, on_round: Callable[[int, int], None] | None = None,
                       runner: VirtuosoRunner | None = None) -> InStoreInference:
    """Replace the instance's inferred graph by the closure of its asserted graphs, computed inside it.

    Raises UnsupportedConstruct (a construct the rule compiler lacks), BackendUnavailable
    (Virtuoso unreachable) or BackendError (Virtuoso refused an update); in each case the work
    graphs are dropped and the inferred graph is left as it was."""
    runner = runner or VirtuosoRunner(instance)
    work = layout()
    drop = [f"DROP SILENT GRAPH <{g}>" for g in (STAGING, DELTA, NEXT)]
    start = time.perf_counter()
    runner.update(drop)
    try:
        done: Fixpoint = reason_in(runner, work, on_round=on_round)
        runner.update([f"MOVE <{STAGING}> TO <{GRAPH_INFERRED}>", *drop])
    except BaseException:
        try:
            runner.update(drop)
        except (BackendError, BackendUnavailable) as exc:
            log.warning("could not drop the work graphs after a failure: %s", exc)
        raise
    run_isql(instance.sql_address, "checkpoint;", timeout=runner.timeout)
    assert done.rules is not None
    return InStoreInference(runner.count(str(GRAPH_INFERRED)), done.rounds, done.added,
                            time.perf_counter() - start, done.rules.describe())
