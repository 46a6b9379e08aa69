"""The embedded backend: queries run in-process on the project's pyoxigraph store.

Stage: backend. Input: a ``KnowledgeGraph`` (``cowkg.store``) and queries. Output: the shared
``QueryResult`` (``cowkg.query``), the quads of named graphs, sizes and a data version. This is the
one module that evaluates SPARQL on the project's store: ``run_query`` and ``run_select_serialized``
are the engine the backend wraps (tests and benchmarks call them on a prebuilt graph).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

from ..errors import InputError
from ..media import Format
from ..query import (
    BASE_IRI,
    NATIVE_FORMATS,
    QueryResult,
    SerializedResult,
    _BudgetWriter,
    _engine_error,
    _materialise,
    _OverBudget,
    _syntax_error,
    order_of_appearance,
    refuse,
)
from ..querytext import ParsedQuery, parse_query
from ..store import KnowledgeGraph
from ..vocab import PREFIXES
from ..wdqs import visible

__all__ = ["EmbeddedBackend", "run_query", "run_select_serialized"]


class EmbeddedBackend:
    """The ``Backend`` over an in-process ``KnowledgeGraph`` (what ``open_backend`` builds by default)."""

    name = "embedded"

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg
        self.sources = kg.sources
        self.reasoner = kg.inference.reasoner if kg.inference is not None else None

    def query(self, sparql: str | ParsedQuery, *, infer: bool = False, default_graph_uris: Sequence[str] | None = None,
              named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """``run_query`` on this backend's graph."""
        return run_query(self.kg, sparql, infer=infer, default_graph_uris=default_graph_uris,
                         named_graph_uris=named_graph_uris, max_rows=max_rows, timeout=timeout)

    def query_serialized(self, sparql: str | ParsedQuery, fmt: Format, *, infer: bool = False,
                         default_graph_uris: Sequence[str] | None = None,
                         named_graph_uris: Sequence[str] | None = None,
                         max_rows: int | None = None) -> SerializedResult | None:
        """A SELECT written by the engine itself, or None (then ``query``): see ``run_select_serialized``."""
        return run_select_serialized(self.kg, sparql, fmt, infer=infer, default_graph_uris=default_graph_uris,
                                     named_graph_uris=named_graph_uris, max_rows=max_rows)

    def quads(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        """The quads of the named graphs ``graphs``, straight from the store."""
        for g in graphs:
            yield from self.kg.store.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph, counted by the store."""
        return self.kg.graph_sizes()

    #: ``version`` identifies the data itself (not only its size): what is cached under it stays true.
    content_version = True

    def version(self) -> str:
        """Hash of the data: the source files' digest and what derives the computed graphs from
        them (the reasoner and closure version, the Wikibase view's code) when the graph was
        loaded from files, else the sorted quads of its named graphs."""
        from ..reason import CLOSURE_VERSION
        from ..wikibase import VIEW_CODE_HASH

        kg, h = self.kg, hashlib.sha256()
        if kg.sources is not None and kg.sources.files:
            h.update(kg.sources.digest.encode())
            if kg.inference is not None:
                h.update(f"{kg.inference.reasoner}:{CLOSURE_VERSION}:{len(kg.inference.triples)}".encode())
            if kg.wikibase is not None:
                h.update(f"wikibase:{VIEW_CODE_HASH}:{len(kg.wikibase.triples)}".encode())
        else:
            for line in sorted(str(q) for q in kg.named_quads()):
                h.update(line.encode())
        return h.hexdigest()[:16]


def run_query(kg: KnowledgeGraph, sparql: str | ParsedQuery, *, infer: bool = False,
              default_graph_uris: Sequence[str] | None = None, named_graph_uris: Sequence[str] | None = None,
              max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
    """Evaluate ``sparql`` on ``kg`` over the dataset the SPARQL 1.1 Protocol prescribes.

    ``default_graph_uris`` / ``named_graph_uris`` (the protocol's ``default-graph-uri`` and
    ``named-graph-uri``) replace the dataset entirely, including any FROM / FROM NAMED in the query
    (protocol §2.1.4): a graph named by neither is invisible. Without them, a query's own FROM /
    FROM NAMED decide; otherwise the default graph is the asserted graphs (plus the inferred one
    when ``infer``, or the Wikibase view for a query in Wikidata's vocabulary, see ``cowkg.wdqs``)
    and every graph is available by name. Relative IRIs resolve against the
    entity namespace (``<keir-starmer>`` is ``cowr:keir-starmer``) unless the query has a BASE.

    ``sparql`` may be the text or its parse (``cowkg.querytext``), which decides before the engine
    runs: raises QueryTooComplex for a nesting the engine's parser cannot take, UnsupportedOperation
    for SPARQL UPDATE and for SERVICE (federation is refused, see ``refuse``), QuerySyntaxError
    (with line:column), and QueryTimeout when ``timeout`` seconds pass while results are produced.
    A deadline checked between rows cannot stop a query that computes long before its first row:
    the web layer runs queries in killable, memory-bounded worker processes for that
    (cowkg.web.evaluator).
    """
    parsed = sparql if isinstance(sparql, ParsedQuery) else parse_query(sparql)
    refuse(parsed)
    start = time.perf_counter()
    deadline = start + timeout if timeout else None
    store, kwargs = engine_for(kg, parsed, dataset_arguments(kg, parsed, infer, default_graph_uris, named_graph_uris))
    try:
        result = store.query(parsed.engine_text, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
        out = _materialise(result, max_rows, deadline, timeout)
    except SyntaxError as exc:
        raise _syntax_error(parsed, exc) from None
    except (RuntimeError, OSError) as exc:  # the engine's evaluation errors (e.g. an unknown function)
        raise _engine_error(exc) from None
    if out.kind == "solutions" and parsed.select_star:
        out.variables = order_of_appearance(parsed, visible(out.variables))
    out.seconds = time.perf_counter() - start
    return out



def run_select_serialized(kg: KnowledgeGraph, sparql: str | ParsedQuery, fmt: Format, *, infer: bool = False,
                          default_graph_uris: Sequence[str] | None = None,
                          named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
                          byte_budget: int = 4_000_000) -> SerializedResult | None:
    """A SELECT answered in JSON or XML written by pyoxigraph itself, never materialised in Python:
    2-5x cheaper than ``run_query`` + ``QueryResult.serialize`` on results of a few hundred rows.

    Same dataset and relative-IRI rules as ``run_query``. Returns None where this path does not
    apply and the caller must use ``run_query`` (which applies the row cap and reports errors): not
    a SELECT, another format, ``SELECT *`` (``run_query`` orders its columns by appearance), SERVICE,
    a syntax error, more than ``max_rows`` rows, or more than ``byte_budget`` bytes (writing stops
    there, so a huge result costs no more than the budget before the capped path takes over).
    """
    native = NATIVE_FORMATS.get(fmt.name)
    parsed = sparql if isinstance(sparql, ParsedQuery) else parse_query(sparql)
    if native is None or parsed.form != "SELECT" or parsed.select_star:
        return None
    refuse(parsed)
    start = time.perf_counter()
    store, kwargs = engine_for(kg, parsed, dataset_arguments(kg, parsed, infer, default_graph_uris, named_graph_uris))
    try:
        result = store.query(parsed.engine_text, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
    except (SyntaxError, RuntimeError):
        return None
    if not isinstance(result, ox.QuerySolutions):
        return None
    out = _BudgetWriter(byte_budget)
    try:
        result.serialize(out, format=native)
    except _OverBudget:
        return None
    body = bytes(out.buffer)
    rows = json_rows(body) if fmt.name == "json" else body.count(b"<result>")
    if max_rows is not None and rows > max_rows:
        return None
    return SerializedResult(body, rows, time.perf_counter() - start)


def json_rows(body: bytes) -> int:
    """The number of solutions in a SPARQL JSON results document as pyoxigraph writes it (no white
    space), counted without building it (``json.loads`` took longer than many queries).

    Inside a JSON string a quote is always escaped, so ``{"`` there can only be a string's last
    character and its closing quote, followed by ``,`` ``}`` ``]`` or ``:``. Every other ``{"``
    opens an object: the root, the head, the results, one per term (``{"type":``) and one per
    solution. A string ending in ``{``, rows with no binding (``{}``) and triple terms
    (``_NOT_COUNTABLE``) take the slower exact way: with the strings cut out, only the bindings
    array has objects as elements, each after ``[`` or ``,``.

    >>> json_rows(b'{"head":{"vars":["a"]},"results":{"bindings":[{"a":{"type":"literal","value":"},{\\\\\\""}},{}]}}')
    2
    >>> json_rows(b'{"head":{"vars":["a"]},"results":{"bindings":[{"a":{"type":"literal","value":"{"}}]}}')
    1
    """
    if _NOT_COUNTABLE.search(body) is None:
        return body.count(b'{"') - body.count(b'{"type":') - 3
    code = b"".join(body.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[0::2])
    return code.count(b"[{") + code.count(b",{")


#: What the quick count of ``json_rows`` cannot take: a string that ends in ``{`` (``{"`` then a
#: closing quote's follower), ``{}`` (a row with no binding, or in a string) and a triple term
#: (nested objects). One pattern, every branch opening with ``{``, so the scan jumps from brace to
#: brace: with the two counts, 2.8x faster than the eight ``bytes.count`` passes it replaced on a
#: 100 kB answer (0.64 ms, about a third of the query's own time).
_NOT_COUNTABLE = re.compile(rb'\{(?:"[,}\]:]|\}|"type":"triple")')


def dataset_arguments(kg: KnowledgeGraph, parsed: ParsedQuery, infer: bool,
                      default_graph_uris: Sequence[str] | None, named_graph_uris: Sequence[str] | None) -> dict:
    """pyoxigraph's ``default_graph`` / ``named_graphs`` arguments for a request's dataset.

    pyoxigraph lets these arguments override the query's FROM clauses, so they are left out when
    the query brings its own dataset and the request does not.
    """
    if default_graph_uris or named_graph_uris:
        return {"default_graph": [_graph_name(u) for u in default_graph_uris or ()],
                "named_graphs": [_graph_name(u) for u in named_graph_uris or ()]}
    if parsed.dataset:
        return {}
    return {"default_graph": kg.default_graphs(infer, wikibase=parsed.wikidata_vocabulary)}


def engine_for(kg: KnowledgeGraph, parsed: ParsedQuery, kwargs: dict) -> tuple[ox.Store, dict]:
    """The store to run ``parsed`` on, and its arguments: the view of its dataset
    (``KnowledgeGraph.build_views``) when the query reads its default dataset only, else the whole
    store with ``kwargs``. Only a GRAPH pattern reaches a named graph when no FROM NAMED and no
    named-graph-uri say otherwise (those give other ``kwargs``), so a query without the keyword
    (``ParsedQuery.may_name_graphs``) reads its default graph alone."""
    if kg.views and list(kwargs) == ["default_graph"] and not parsed.may_name_graphs:
        view = kg.dataset_store(kwargs["default_graph"])
        if view is not None:
            return view, {}
    return kg.store, kwargs


def _graph_name(uri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(uri)
    except ValueError:
        raise InputError(f"not an absolute IRI: {uri!r}", hint="default-graph-uri and named-graph-uri take IRIs") \
            from None
