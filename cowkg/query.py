"""Query: SPARQL 1.1 over the asserted graphs, or asserted + inferred, with caps and deadlines.

Stage: after the store. Input: a query string and the request's dataset choice. Output: a
``QueryResult`` (boolean, solutions or triples) that the serialiser writes in any format. The
default graph is the union of the asserted graphs (ontology, data, meta), plus the inferred graph
when ``infer`` is true; every graph is also available by name (``GRAPH cowg:inferred { }``).
Project prefixes (``cow:``, ``cowr:``, ``wdt:`` ...) are predeclared, as on the Wikidata Query
Service.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from . import sandbox
from .errors import InputError, Location, QuerySyntaxError, QueryTimeout, UnsupportedOperation
from .media import Format
from .querytext import ParsedQuery, keyword_use, parse_query
from .serialize import write_boolean, write_table, write_triples
from .store import KnowledgeGraph
from .vocab import COWR, PREFIXES
from .wdqs import uses_wikidata_vocabulary, visible

log = logging.getLogger(__name__)

#: Base IRI of queries without a BASE of their own.
BASE_IRI = str(COWR)

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
    #: The engine's variable order (rows are read by position in it); ``variables`` may differ.
    columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "solutions" else len(self.triples)

    def serialize(self, fmt: Format, links: Sequence[str] = ()) -> bytes:
        """Bytes of the result in ``fmt`` (a results format for SELECT/ASK, an RDF one for graphs);
        ``links`` go in a results head (see ``write_table``)."""
        if self.kind == "graph":
            return write_triples(self.triples, fmt)
        if self.kind == "boolean":
            return write_boolean(bool(self.boolean), fmt.name)
        index = {name: i for i, name in enumerate(self.columns or self.variables)}
        positions = [index[v] for v in self.variables]
        return write_table(self.variables, [tuple(row[i] for i in positions) for row in self.rows], fmt.name,
                           links)

    def records(self) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | None]]:
        """Rows as dicts keyed by variable name (unbound → None)."""
        return [{v: row[v] for v in self.variables} for row in self.rows]


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
    kwargs = dataset_arguments(kg, parsed, infer, default_graph_uris, named_graph_uris)
    try:
        result = kg.store.query(parsed.engine_text, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
        out = _materialise(result, max_rows, deadline, timeout)
    except SyntaxError as exc:
        raise _syntax_error(parsed, exc) from None
    except (RuntimeError, OSError) as exc:  # the engine's evaluation errors (e.g. an unknown function)
        raise _engine_error(exc) from None
    if out.kind == "solutions" and parsed.select_star:
        out.variables = order_of_appearance(parsed, visible(out.variables))
    out.seconds = time.perf_counter() - start
    return out


SERVICE_REFUSED = "SERVICE (federated query) is refused: cowkg never calls other endpoints"
SERVICE_HINT = "run federated queries on an engine that federates; see docs/FEDERATION.md"


def refuse(parsed: ParsedQuery, *, confined: bool | None = None) -> None:
    """Refuse, before any engine sees it, what a read-only endpoint that never calls out must not
    run: SPARQL UPDATE, and SERVICE (``querytext.keyword_use``).

    The engine (pyoxigraph) would run a SERVICE itself, against any IRI — loopback and cowkg
    itself included — with no hook to forbid it. A SERVICE in the plain reading of the text is
    always refused. One that only another reading of the text holds (e.g. an IRI with "service" in
    it right after a variable, which the engine could read as "less than") is run only where the
    process cannot open network connections (``confined``, default: this process's
    ``cowkg.sandbox`` state): there a SERVICE fails before any packet is sent, so no correct query
    is refused for a false alarm. Elsewhere (the CLI, a platform without seccomp) it is refused.
    """
    if parsed.form == "UPDATE":
        raise UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only",
                                   hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    use = keyword_use(parsed.for_engine, "service")  # the label service is rewritten away (cowkg.wdqs)
    if use == "certain":
        raise UnsupportedOperation(SERVICE_REFUSED, hint=SERVICE_HINT)
    if use == "possible" and not (sandbox.network_confined() if confined is None else confined):
        raise UnsupportedOperation(SERVICE_REFUSED + " (a reading of the query text holds one)",
                                   hint="if the word is part of an IRI, write that IRI as a prefixed name "
                                        "(e.g. sd:Service); " + SERVICE_HINT)


def _engine_error(exc: RuntimeError) -> Exception:
    """An evaluation error of the engine as a cowkg error: the sandbox's refusal of a network
    connection (a SERVICE call that got past ``refuse``) is the refusal; an unknown function is
    bad input; anything else stays a bug (500)."""
    message = str(exc)
    if isinstance(exc, OSError) and sandbox.network_confined():
        log.error("SECURITY: the engine tried to open a network connection (refused by the sandbox): %s", message)
        return UnsupportedOperation(SERVICE_REFUSED, hint=SERVICE_HINT)
    if "custom function" in message or "not supported" in message.lower():
        return UnsupportedOperation(f"the query uses what this endpoint does not support: {message}",
                                    hint="use SPARQL 1.1 functions")
    return exc


#: Results formats pyoxigraph writes itself whose row count is cheap to read back from the bytes.
NATIVE_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}


@dataclass
class SerializedResult:
    """SELECT results already written in their format: the bytes and the number of rows."""

    body: bytes
    rows: int
    seconds: float


class _OverBudget(Exception):
    pass


class _BudgetWriter:
    """A write-only file that refuses to grow past ``limit`` bytes (pyoxigraph writes 8 KiB chunks)."""

    def __init__(self, limit: int) -> None:
        self.buffer = bytearray()
        self.limit = limit

    def write(self, chunk: bytes) -> int:
        self.buffer += chunk
        if len(self.buffer) > self.limit:
            raise _OverBudget
        return len(chunk)

    def flush(self) -> None:
        pass


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
    kwargs = dataset_arguments(kg, parsed, infer, default_graph_uris, named_graph_uris)
    try:
        result = kg.store.query(parsed.engine_text, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
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
    rows = len(json.loads(body)["results"]["bindings"]) if fmt.name == "json" else body.count(b"<result>")
    if max_rows is not None and rows > max_rows:
        return None
    return SerializedResult(body, rows, time.perf_counter() - start)


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
    return {"default_graph": kg.default_graphs(infer, wikibase=uses_wikidata_vocabulary(parsed))}


def _graph_name(uri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(uri)
    except ValueError:
        raise InputError(f"not an absolute IRI: {uri!r}", hint="default-graph-uri and named-graph-uri take IRIs") \
            from None


def order_of_appearance(parsed: ParsedQuery, variables: list[str]) -> list[str]:
    """``SELECT *`` variables in the order they first appear in the query (as the W3C results do)."""
    first = {name: i for i, name in enumerate(parsed.variables)}
    return sorted(variables, key=lambda v: first.get(v, len(first)))


def _materialise(result, max_rows: int | None, deadline: float | None, timeout: float | None) -> QueryResult:
    if isinstance(result, ox.QueryBoolean | bool):
        return QueryResult("boolean", boolean=bool(result))
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows, truncated = _take(result, max_rows, deadline, timeout)
        return QueryResult("solutions", variables=variables, rows=rows, truncated=truncated, columns=list(variables))
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


def _syntax_error(parsed: ParsedQuery, exc: SyntaxError) -> Exception:
    message = str(exc.args[0]) if exc.args else str(exc)
    if parsed.form == "UPDATE":
        return UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only",
                                    hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    m = _POSITION_RE.search(message)
    location = Location("query", int(m.group(1)), _original_column(parsed, int(m.group(1)), int(m.group(2)))) \
        if m else Location("query")
    undeclared = parsed.undeclared_prefixes()
    if undeclared:
        names = ", ".join(p + ":" for p in undeclared)
        return QuerySyntaxError(f"SPARQL syntax error: prefix {names} {'is' if len(undeclared) == 1 else 'are'} "
                                "not declared", parsed.first_use(undeclared[0]) or location,
                                hint="declare it with PREFIX, or use a predeclared prefix (cow:, cowr:, wd:, wdt:, "
                                     "rdfs:, skos:, ... listed in the service description)")
    detail = readable_expectation(_POSITION_RE.sub("", message))
    return QuerySyntaxError(f"SPARQL syntax error: {detail}", location, hint=_excerpt(parsed.text, location))


_CHAR_CLASS_RE = re.compile(r"\[(?:'(?:[^'\\]|\\.)*'|[^\]'])*\]")


def readable_expectation(detail: str) -> str:
    """The parser's "expected one of ..." with its character classes (``['A' ..= 'Z' | ...]``,
    several lines of Unicode ranges) named in words: a letter, a digit, another character."""
    detail = " ".join(detail.split())
    head, sep, rest = detail.partition("expected one of ")
    if not sep:
        return detail
    words = []
    for cls in _CHAR_CLASS_RE.findall(rest):
        word = "a letter" if "'A'" in cls or "'a'" in cls else "a digit" if "'0'" in cls else "another character"
        if word not in words:
            words.append(word)
    tokens = [t.strip() for t in _CHAR_CLASS_RE.sub("", rest).split(", ")]
    tokens = [t for t in tokens if t and t != "Prefix not found"]
    items = tokens + words
    if len(items) == 1:
        return f"{head}expected {items[0]}"
    return f"{head}expected one of {', '.join(items[:-1])} or {items[-1]}"


def _original_column(parsed: ParsedQuery, line: int, column: int) -> int:
    """A column of ``engine_text`` as a column of the query as written (``STR(`` and ``)`` were
    inserted around GROUP_CONCAT calls)."""
    engine = parsed.engine_text
    if engine == parsed.text:
        return column
    offset = sum(len(x) + 1 for x in engine.split("\n")[: line - 1]) + column - 1
    written = parsed.written_offset(offset)
    return written - (parsed.text.rfind("\n", 0, written) + 1) + 1


def _excerpt(sparql: str, location: Location) -> str | None:
    if location.line is None:
        return None
    lines = sparql.splitlines() or [""]
    if location.line > len(lines):
        return "the query ends too early"
    return f"near: {lines[location.line - 1].strip()[:120]}"
