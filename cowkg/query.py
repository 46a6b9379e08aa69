"""Query: SPARQL 1.1 over the asserted graphs, or asserted + inferred, with caps and deadlines.

Stage: after the store. Input: a query string and the request's dataset choice. Output: a
``QueryResult`` (boolean, solutions or triples) that the serialiser writes in any format. The
default graph is the union of the asserted graphs (ontology, data, meta), plus the inferred graph
when ``infer`` is true; every graph is also available by name (``GRAPH cowg:inferred { }``).
Project prefixes (``cow:``, ``cowr:``, ``wdt:`` ...) are predeclared, as on the Wikidata Query
Service.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import Location, QuerySyntaxError, QueryTimeout, UnsupportedOperation
from .media import Format
from .serialize import write_boolean, write_solutions, write_triples
from .store import KnowledgeGraph
from .vocab import ALL_GRAPHS, PREFIXES

_UPDATE_RE = re.compile(
    r"^\s*(?:(?:PREFIX\s+\S*:\s*<[^>]*>|BASE\s+<[^>]*>)\s*)*"
    r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.IGNORECASE)
_POSITION_RE = re.compile(r"error at (\d+):(\d+):?\s*")


@dataclass
class QueryResult:
    """A materialised result; ``truncated`` says when the row cap cut it."""

    kind: str  # "boolean", "solutions" or "graph"
    boolean: bool | None = None
    variables: list[str] = field(default_factory=list)
    rows: list[ox.QuerySolution] = field(default_factory=list)
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "solutions" else len(self.triples)

    def serialize(self, fmt: Format) -> bytes:
        """Bytes of the result in ``fmt`` (a results format for SELECT/ASK, an RDF one for graphs)."""
        if self.kind == "graph":
            return write_triples(self.triples, fmt)
        if self.kind == "boolean":
            return write_boolean(bool(self.boolean), fmt.name)
        return write_solutions(self.variables, self.rows, fmt.name)

    def records(self) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | None]]:
        """Rows as dicts keyed by variable name (unbound → None)."""
        return [{v: row[v] for v in self.variables} for row in self.rows]


def run_query(kg: KnowledgeGraph, sparql: str, *, infer: bool = False,
              default_graph_uris: Sequence[str] | None = None, named_graph_uris: Sequence[str] | None = None,
              max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
    """Evaluate ``sparql`` on ``kg``.

    Raises QuerySyntaxError (with line:column), UnsupportedOperation for SPARQL UPDATE, and
    QueryTimeout when ``timeout`` seconds pass while results are produced.
    """
    start = time.perf_counter()
    deadline = start + timeout if timeout else None
    default = ([ox.NamedNode(u) for u in default_graph_uris] if default_graph_uris
               else kg.default_graphs(infer))
    named = ([ox.NamedNode(u) for u in named_graph_uris] if named_graph_uris is not None and named_graph_uris
             else [ox.NamedNode(str(g)) for g in ALL_GRAPHS])
    try:
        result = kg.store.query(sparql, prefixes=PREFIXES, default_graph=default, named_graphs=named)
    except SyntaxError as exc:
        raise _syntax_error(sparql, exc) from None
    out = _materialise(result, max_rows, deadline, timeout)
    out.seconds = time.perf_counter() - start
    return out


def _materialise(result, max_rows: int | None, deadline: float | None, timeout: float | None) -> QueryResult:
    if isinstance(result, ox.QueryBoolean | bool):
        return QueryResult("boolean", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _take(result, max_rows, deadline, timeout)
        return QueryResult("solutions", variables=variables, rows=rows, truncated=truncated)
    triples, truncated = _take(result, max_rows, deadline, timeout)
    return QueryResult("graph", triples=triples, truncated=truncated)


def _take(iterator: Iterable, max_rows: int | None, deadline: float | None, timeout: float | None):
    items = []
    for n, item in enumerate(iterator):
        if max_rows is not None and n >= max_rows:
            return items, True
        if deadline is not None and n % 256 == 0 and time.perf_counter() > deadline:
            raise QueryTimeout(f"query stopped after {timeout:g} s", hint="raise query_timeout or narrow the query",
                               details={"limit_seconds": timeout})
        items.append(item)
    return items, False


def _syntax_error(sparql: str, exc: SyntaxError) -> Exception:
    message = str(exc.args[0]) if exc.args else str(exc)
    if is_update(sparql):
        return UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only",
                                    hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    m = _POSITION_RE.search(message)
    location = Location("query", int(m.group(1)), int(m.group(2))) if m else Location("query")
    detail = _POSITION_RE.sub("", message)
    undeclared = undeclared_prefixes(sparql)
    hint = (f"prefix {', '.join(p + ':' for p in undeclared)} is not declared" if undeclared
            else _excerpt(sparql, location))
    return QuerySyntaxError(f"SPARQL syntax error: {detail}", location, hint=hint)


def is_update(sparql: str) -> bool:
    return bool(_UPDATE_RE.match(_strip_comments(sparql)))


def _strip_comments(sparql: str) -> str:
    return re.sub(r"(?m)^\s*#.*$", "", sparql)


def undeclared_prefixes(sparql: str) -> list[str]:
    """Prefixes used but neither declared in the query nor predeclared by the project."""
    text = re.sub(r'"[^"\n]*"|<[^>\s]*>|#[^\n]*', " ", sparql)
    declared = set(re.findall(r"(?i)PREFIX\s+([A-Za-z][\w.-]*|):", sparql)) | set(PREFIXES)
    used = set(re.findall(r"(?<![\w?$:])([A-Za-z][\w-]*):[A-Za-z_]", text))
    return sorted(used - declared)


def _excerpt(sparql: str, location: Location) -> str | None:
    if location.line is None:
        return None
    lines = sparql.splitlines() or [""]
    if location.line > len(lines):
        return "the query ends too early"
    return f"near: {lines[location.line - 1].strip()[:120]}"
