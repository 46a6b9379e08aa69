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
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from .errors import InputError, Location, QuerySyntaxError, QueryTimeout, UnsupportedOperation
from .media import Format
from .serialize import write_boolean, write_table, write_triples
from .store import KnowledgeGraph
from .vocab import COWR, PREFIXES

#: Base IRI of queries without a BASE of their own.
BASE_IRI = str(COWR)

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
    #: The engine's variable order (rows are read by position in it); ``variables`` may differ.
    columns: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows) if self.kind == "solutions" else len(self.triples)

    def serialize(self, fmt: Format) -> bytes:
        """Bytes of the result in ``fmt`` (a results format for SELECT/ASK, an RDF one for graphs)."""
        if self.kind == "graph":
            return write_triples(self.triples, fmt)
        if self.kind == "boolean":
            return write_boolean(bool(self.boolean), fmt.name)
        index = {name: i for i, name in enumerate(self.columns or self.variables)}
        positions = [index[v] for v in self.variables]
        return write_table(self.variables, [tuple(row[i] for i in positions) for row in self.rows], fmt.name)

    def records(self) -> list[dict[str, ox.NamedNode | ox.BlankNode | ox.Literal | None]]:
        """Rows as dicts keyed by variable name (unbound → None)."""
        return [{v: row[v] for v in self.variables} for row in self.rows]


def run_query(kg: KnowledgeGraph, sparql: str, *, infer: bool = False,
              default_graph_uris: Sequence[str] | None = None, named_graph_uris: Sequence[str] | None = None,
              max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
    """Evaluate ``sparql`` on ``kg`` over the dataset the SPARQL 1.1 Protocol prescribes.

    ``default_graph_uris`` / ``named_graph_uris`` (the protocol's ``default-graph-uri`` and
    ``named-graph-uri``) replace the dataset entirely, including any FROM / FROM NAMED in the query
    (protocol §2.1.4): a graph named by neither is invisible. Without them, a query's own FROM /
    FROM NAMED decide; otherwise the default graph is the asserted graphs (plus the inferred one
    when ``infer``) and every graph is available by name. Relative IRIs resolve against the
    entity namespace (``<keir-starmer>`` is ``cowr:keir-starmer``) unless the query has a BASE.

    Raises QuerySyntaxError (with line:column), UnsupportedOperation for SPARQL UPDATE and for
    SERVICE (federation is refused, see ``uses_service``), and
    QueryTimeout when ``timeout`` seconds pass while results are produced. A deadline checked
    between rows cannot stop a query that computes long before its first row: the web layer runs
    queries in killable worker processes for that (cowkg.web.evaluator).
    """
    if uses_service(sparql):
        raise UnsupportedOperation("SERVICE (federated query) is refused: cowkg never calls other endpoints",
                                   hint="run federated queries on an engine that federates; see docs/FEDERATION.md")
    start = time.perf_counter()
    deadline = start + timeout if timeout else None
    kwargs = dataset_arguments(kg, sparql, infer, default_graph_uris, named_graph_uris)
    try:
        result = kg.store.query(sparql, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
    except SyntaxError as exc:
        raise _syntax_error(sparql, exc) from None
    out = _materialise(result, max_rows, deadline, timeout)
    if out.kind == "solutions" and _SELECT_STAR_RE.search(_NOISE_RE.sub(" ", sparql)):
        out.variables = order_of_appearance(sparql, out.variables)
    out.seconds = time.perf_counter() - start
    return out


#: Results formats pyoxigraph writes itself whose row count is cheap to read back from the bytes.
NATIVE_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}
_FORM_RE = re.compile(r"(?i)(?<![\w?$:])(SELECT|ASK|CONSTRUCT|DESCRIBE)\b")


def query_form(sparql: str) -> str | None:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword outside IRIs, strings and comments
    (subqueries come after it), or None when there is none (an update, or not SPARQL)."""
    return _form(_NOISE_RE.sub(" ", sparql))


def _form(stripped: str) -> str | None:
    m = _FORM_RE.search(stripped)
    return m.group(1).upper() if m else None


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


def run_select_serialized(kg: KnowledgeGraph, sparql: str, fmt: Format, *, infer: bool = False,
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
    stripped = _NOISE_RE.sub(" ", sparql)
    if native is None or _form(stripped) != "SELECT" or _SELECT_STAR_RE.search(stripped) or uses_service(sparql):
        return None
    start = time.perf_counter()
    kwargs = dataset_arguments(kg, sparql, infer, default_graph_uris, named_graph_uris)
    try:
        result = kg.store.query(sparql, prefixes=PREFIXES, base_iri=BASE_IRI, **kwargs)
    except SyntaxError:
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


def dataset_arguments(kg: KnowledgeGraph, sparql: str, infer: bool, default_graph_uris: Sequence[str] | None,
                      named_graph_uris: Sequence[str] | None) -> dict:
    """pyoxigraph's ``default_graph`` / ``named_graphs`` arguments for a request's dataset.

    pyoxigraph lets these arguments override the query's FROM clauses, so they are left out when
    the query brings its own dataset and the request does not.
    """
    if default_graph_uris or named_graph_uris:
        return {"default_graph": [_graph_name(u) for u in default_graph_uris or ()],
                "named_graphs": [_graph_name(u) for u in named_graph_uris or ()]}
    if has_dataset_clause(sparql):
        return {}
    return {"default_graph": kg.default_graphs(infer)}


def _graph_name(uri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(uri)
    except ValueError:
        raise InputError(f"not an absolute IRI: {uri!r}", hint="default-graph-uri and named-graph-uri take IRIs") \
            from None


_DATASET_RE = re.compile(r"(?i)(?<![\w?$:])FROM\s+(?:NAMED\s+)?(?:<|[A-Za-z_][\w.-]*:|:)")
_NOISE_RE = re.compile("|".join((
    r'<[^<>"{}|^`\\\s]*>',  # IRIs (a '#' inside one is not a comment)
    r'"""[\s\S]*?"""', r"'''[\s\S]*?'''",  # long strings
    r'"(?:[^"\\\n]|\\.)*"', r"'(?:[^'\\\n]|\\.)*'",  # short strings
    r"#[^\n]*",  # comments
)))


_SELECT_STAR_RE = re.compile(r"(?i)\bSELECT\s+(?:DISTINCT\s+|REDUCED\s+)?\*")


def order_of_appearance(sparql: str, variables: list[str]) -> list[str]:
    """``SELECT *`` variables in the order they first appear in the query (as the W3C results do)."""
    text = _NOISE_RE.sub(" ", sparql)
    first = {}
    for m in re.finditer(r"[?$]([A-Za-z0-9_\u00B7-\uFFFF]+)", text):
        first.setdefault(m.group(1), m.start())
    return sorted(variables, key=lambda v: first.get(v, len(text)))


_SERVICE_RE = re.compile(r"(?i)(?<![\w?$:])SERVICE\b")


def uses_service(sparql: str) -> bool:
    """Whether the query has a SERVICE clause (outside strings, IRIs and comments).

    pyoxigraph would run it itself, against any IRI (loopback included), with its own
    User-Agent and no hook to allow-list or time it: so it is refused (docs/FEDERATION.md).
    """
    return bool(_SERVICE_RE.search(_NOISE_RE.sub(" ", sparql)))


def has_dataset_clause(sparql: str) -> bool:
    """Whether the query names its own dataset (FROM or FROM NAMED), ignoring strings and comments."""
    stripped = _NOISE_RE.sub(lambda m: "<>" if m.group().startswith("<") else " ", sparql)
    return bool(_DATASET_RE.search(stripped))


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


def _syntax_error(sparql: str, exc: SyntaxError) -> Exception:
    message = str(exc.args[0]) if exc.args else str(exc)
    if is_update(sparql):
        return UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only",
                                    hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    m = _POSITION_RE.search(message)
    location = Location("query", int(m.group(1)), int(m.group(2))) if m else Location("query")
    undeclared = undeclared_prefixes(sparql)
    if undeclared:
        names = ", ".join(p + ":" for p in undeclared)
        return QuerySyntaxError(f"SPARQL syntax error: prefix {names} {'is' if len(undeclared) == 1 else 'are'} "
                                "not declared", _first_use(sparql, undeclared[0]) or location,
                                hint="declare it with PREFIX, or use a predeclared prefix (cow:, cowr:, wd:, wdt:, "
                                     "rdfs:, skos:, ... listed in the service description)")
    detail = readable_expectation(_POSITION_RE.sub("", message))
    return QuerySyntaxError(f"SPARQL syntax error: {detail}", location, hint=_excerpt(sparql, location))


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


def is_update(sparql: str) -> bool:
    """Whether the text is a SPARQL Update (after prologue and comments), to refuse it clearly."""
    return bool(_UPDATE_RE.match(_strip_comments(sparql)))


def _strip_comments(sparql: str) -> str:
    return re.sub(r"(?m)^\s*#.*$", "", sparql)


#: Strings, IRIs and comments: where a ``prefix:`` is not a use of the prefix.
_PREFIX_NOISE_RE = re.compile(r'"[^"\n]*"|<[^>\s]*>|#[^\n]*')


def undeclared_prefixes(sparql: str) -> list[str]:
    """Prefixes used but neither declared in the query nor predeclared by the project."""
    text = _PREFIX_NOISE_RE.sub(" ", sparql)
    declared = set(re.findall(r"(?i)PREFIX\s+([A-Za-z][\w.-]*|):", sparql)) | set(PREFIXES)
    used = set(re.findall(r"(?<![\w?$:])([A-Za-z][\w-]*):[A-Za-z_]", text))
    return sorted(used - declared)


def _first_use(sparql: str, prefix: str) -> Location | None:
    """Line and column (1-based) where ``prefix:`` is first used outside strings, IRIs and comments."""
    masked = _PREFIX_NOISE_RE.sub(lambda m: " " * len(m.group()), sparql)
    m = re.search(rf"(?<![\w?$:]){re.escape(prefix)}:", masked)
    if m is None:
        return None
    line = masked.count("\n", 0, m.start()) + 1
    return Location("query", line, m.start() - (masked.rfind("\n", 0, m.start()) + 1) + 1)


def _excerpt(sparql: str, location: Location) -> str | None:
    if location.line is None:
        return None
    lines = sparql.splitlines() or [""]
    if location.line > len(lines):
        return "the query ends too early"
    return f"near: {lines[location.line - 1].strip()[:120]}"
