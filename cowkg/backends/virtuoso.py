"""The remote backend: the same ``query()`` API, answered by a SPARQL endpoint (Virtuoso).

Stage: between store and web/CLI, like the embedded backend. Input: a query and the request's
dataset choice. Output: a ``QueryResult`` whose rows hold pyoxigraph terms, so serialisation,
content negotiation, the row cap and the error shape are the embedded backend's.

What forwarding has to do so that Virtuoso answers as the embedded store would:

- **Parse first, locally.** The query is parsed by pyoxigraph (on an empty store, nothing is
  evaluated), so syntax errors carry the same line:column and message on both backends, UPDATE is
  refused the same way, and the query form (boolean, solutions, graph) is known before sending.
  Virtuoso's own extensions (``DEFINE``, ``bif:``/``sql:`` functions) and ``SERVICE`` are refused.
- **Same dataset.** Virtuoso's default graph is the union of *all* its graphs, its own system
  graphs included; it adds ``default-graph-uri`` to a query's FROM instead of replacing it, and
  a query with FROM only still sees every graph through ``GRAPH ?g``. So the query's FROM / FROM
  NAMED clauses are blanked out (positions kept) and the effective dataset is always sent as
  ``default-graph-uri`` / ``named-graph-uri`` parameters, with a graph that holds nothing
  (``urn:cowkg:empty``) standing for an empty default graph or an empty set of named graphs.
- **Same prefixes.** The project's prefixes are predeclared on the embedded store; here they are
  prepended on the query's first line (so Virtuoso's error line numbers stay right).
- **Spec defaults spelled out.** ``GROUP_CONCAT`` without ``SEPARATOR`` fails on Virtuoso 7.2; the
  spec's default separator (a space) is written into the query.
- **Form POST only** (pitfall P3: a direct ``application/sparql-query`` POST hangs), one
  connection per query (kept-alive connections stall ~40 ms on delayed ACKs), results as SPARQL
  XML parsed by pyoxigraph (4-8x faster than Virtuoso's JSON read in Python), so rows are
  pyoxigraph ``QuerySolution`` objects as on the embedded store.
- **Caps and deadlines.** The time limit is sent as Virtuoso's ``timeout`` (ms); a query cut by
  it comes back 200 with *partial* rows and ``X-SQL-State: S1TAT`` (P9): that is a QueryTimeout,
  never a result. ``X-SPARQL-MaxRows`` says the server's ResultSetMaxRows cut the rows (P7): the
  result is flagged truncated. The row cap is applied here as on the embedded store.
- **Errors.** Unreachable → BackendUnavailable (502); SPARQL compiler errors → QuerySyntaxError
  (400) with the line; transaction timeouts and cost-estimate refusals → QueryTimeout (503);
  security refusals → UnsupportedOperation (400); anything else → BackendError (502), logged.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import pyoxigraph as ox

from ..errors import (
    BackendError,
    BackendUnavailable,
    InputError,
    Location,
    QuerySyntaxError,
    QueryTimeout,
    UnsupportedOperation,
)
from ..media import Format
from ..query import QueryResult, _syntax_error
from ..querytext import ParsedQuery, parse_query, reachable_iris, reachable_words, reaches
from ..vocab import ALL_GRAPHS, ASSERTED_GRAPHS, GEO_WKT, GRAPH_WIKIBASE, PREFIXES
from ..wdqs import uses_wikidata_vocabulary, visible

if TYPE_CHECKING:  # requests is imported where a request is sent: a server on the embedded
    import requests  # store never pays for importing it (0.4 s of its start)

log = logging.getLogger(__name__)

#: A graph IRI that holds nothing: stands for "no graph" in default-graph-uri / named-graph-uri.
EMPTY_GRAPH = "urn:cowkg:empty"
RESULTS_XML = "application/sparql-results+xml"
N_TRIPLES = "application/n-triples"

_LINE_RE = re.compile(r"line (\d+)")
_STATE_RE = re.compile(r"Virtuoso (\w{5}) Error ([^:]*):\s*(.*)")


_INHERITED: list[requests.Session] = []


class Prepared(NamedTuple):
    """A query ready to send: its form, the text for the remote store, the explicit dataset."""

    form: str
    text: str
    dataset: Dataset


@dataclass(frozen=True)
class Dataset:
    """The graphs a query sees: default-graph IRIs and named-graph IRIs (both explicit)."""

    default: tuple[str, ...]
    named: tuple[str, ...]

    def parameters(self) -> list[tuple[str, str]]:
        return ([("default-graph-uri", g) for g in self.default or (EMPTY_GRAPH,)]
                + [("named-graph-uri", g) for g in self.named or (EMPTY_GRAPH,)])


def _blank(text: str) -> str:
    return "".join("\n" if c == "\n" else " " for c in text)


def _parsed(sparql: str | ParsedQuery) -> ParsedQuery:
    return sparql if isinstance(sparql, ParsedQuery) else parse_query(sparql)


def split_dataset(sparql: str | ParsedQuery) -> tuple[str, list[str], list[str]]:
    """Remove the query's FROM / FROM NAMED clauses; return (query, FROM IRIs, FROM NAMED IRIs).

    Removed clauses are replaced by spaces, so every other token keeps its line and column.
    Prefixed names are expanded with the query's PREFIX lines and the project's prefixes.
    """
    parsed = _parsed(sparql)
    clauses = parsed.dataset_clauses
    if not clauses:
        return parsed.text, [], []
    default = [iri for kind, iri, _ in clauses if kind == "default"]
    named = [iri for kind, iri, _ in clauses if kind == "named"]
    text, out, last = parsed.text, [], 0
    for _kind, _iri, (start, end) in clauses:
        out += [text[last:start], _blank(text[start:end])]
        last = end
    out.append(text[last:])
    return "".join(out), default, named


def add_default_separators(sparql: str | ParsedQuery) -> str:
    """``GROUP_CONCAT(x)`` → ``GROUP_CONCAT(x; SEPARATOR=" ")``: the spec's default, spelled out.

    Virtuoso 7.2 fails on GROUP_CONCAT without a separator (SR183: Required argument DELIM not
    supplied). The text is inserted before the closing parenthesis, on the same line.
    """
    parsed = _parsed(sparql)
    if "group_concat" not in parsed.lowered:
        return parsed.text
    code, value = parsed.code, parsed.value
    inserts = []
    for i, t in enumerate(code):
        if t.kind != "word" or value(t).upper() != "GROUP_CONCAT" or i + 1 >= len(code) or value(code[i + 1]) != "(":
            continue
        depth, separated = 0, False
        for t2 in code[i + 1:]:
            c = value(t2) if t2.kind == "punct" else ""
            depth += {"(": 1, ")": -1}.get(c, 0)
            separated |= c == ";" and depth == 1
            if depth == 0:
                if not separated:
                    inserts.append(t2.start)
                break
    text = parsed.text
    for pos in reversed(inserts):
        text = text[:pos] + '; SEPARATOR=" "' + text[pos:]
    return text


def query_form(sparql: str | ParsedQuery) -> str:
    """"boolean", "solutions" or "graph", from a local parse by pyoxigraph on an empty store.

    Raises the embedded backend's QuerySyntaxError / UnsupportedOperation for an invalid query or
    an update. The engine plans (and on an empty store, still evaluates) the query, so this runs
    only after ``refuse_extensions``, and for requests only in a killable, memory-bounded,
    network-less evaluator process (``cowkg.web.evaluator``): a query built of VALUES alone can
    compute for minutes on an empty store.
    """
    parsed = _parsed(sparql)
    try:
        result = ox.Store().query(parsed.text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise _syntax_error(parsed, exc) from None
    except RuntimeError as exc:  # pyoxigraph plans the query: unknown functions fail here
        if "custom function" not in str(exc):
            raise
        raise UnsupportedOperation(str(exc), hint="use SPARQL 1.1 functions") from None
    if isinstance(result, ox.QueryBoolean | bool):
        return "boolean"
    return "solutions" if isinstance(result, ox.QuerySolutions) else "graph"


def refuse_extensions(sparql: str | ParsedQuery) -> None:
    """Refuse what a read-only SPARQL 1.1 endpoint must not forward: UPDATE, SERVICE, Virtuoso's
    DEFINE pragmas and its bif:/sql: built-ins — in any reading of the text (``querytext``).

    Virtuoso's own permissions are the second line: the instance cowkg starts grants the SPARQL
    user no federation, sponging or SQL built-ins (``cowkg.virtuoso.manage``).
    """
    parsed = _parsed(sparql)
    if parsed.form == "UPDATE":
        raise UnsupportedOperation("SPARQL UPDATE is not accepted: this endpoint is read-only",
                                   hint="send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only")
    for keyword in ("service", "define"):
        if reaches(parsed, keyword):
            raise UnsupportedOperation(f"{keyword.upper()} is not forwarded to the remote store",
                                       hint="federated queries and Virtuoso pragmas are disabled on this endpoint")
    lowered = parsed.lowered
    if "bif" not in lowered and "sql" not in lowered and not _SHORT_NAMESPACE_RE.search(lowered):
        return
    words = set(reachable_words(parsed))
    iris = [iri.lower() for iri in reachable_iris(parsed)]
    if words & {"bif", "sql"} or any(iri.startswith(("bif:", "sql:")) for iri in iris):
        raise UnsupportedOperation("Virtuoso built-in functions (bif:, sql:) are not accepted",
                                   hint="use SPARQL 1.1 functions")
    # A namespace that is a start of "bif:" ("b", "bi", ...) spells one with a prefixed name (x:if:exec).
    if any(ns.lower() and ("bif:".startswith(ns.lower()) or "sql:".startswith(ns.lower()))
           for ns in parsed.prefixes.values()):
        raise UnsupportedOperation("Virtuoso built-in functions (bif:, sql:) are not accepted",
                                   hint="use SPARQL 1.1 functions")


#: A PREFIX whose IRI is so short it could start "bif:" or "sql:" (checked in ``refuse_extensions``).
_SHORT_NAMESPACE_RE = re.compile(r"<\s*(?:b|bi|bif|s|sq|sql)?:?\s*>", re.IGNORECASE)


class RemoteSparqlBackend:
    """Forward queries to a SPARQL endpoint; answer with the embedded backend's types and errors.

    ``endpoint`` is the anonymous, read-only ``/sparql`` URL (never an authenticated one: the
    endpoint's own permissions are the second line of defence). ``request_timeout`` bounds every
    HTTP exchange when a query brings no time limit of its own.
    """

    name = "virtuoso"
    sources = None  # the store was loaded by `cowkg virtuoso load`, not by this process
    reasoner = None

    def __init__(self, endpoint: str, *, graphs: Sequence[str] = tuple(str(g) for g in ALL_GRAPHS),
                 asserted: Sequence[str] = tuple(str(g) for g in ASSERTED_GRAPHS), inferred: Sequence[str] = (),
                 connect_timeout: float = 5.0, request_timeout: float = 300.0) -> None:
        if not re.match(r"https?://[^/]+", endpoint or ""):
            raise InputError(f"not an HTTP endpoint URL: {endpoint!r}",
                             hint="e.g. --endpoint http://127.0.0.1:8890/sparql (see `cowkg virtuoso status`)")
        self.endpoint = endpoint
        self.graphs = tuple(graphs)
        self.asserted = tuple(asserted)
        self.wikibase = tuple(g for g in self.graphs if g == str(GRAPH_WIKIBASE))
        self.inferred = tuple(inferred) or tuple(g for g in self.graphs if g not in (*self.asserted, *self.wikibase))
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self._session: requests.Session | None = None
        self._pid = 0

    def __repr__(self) -> str:
        return f"RemoteSparqlBackend({self.endpoint!r})"

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_session"], state["_pid"] = None, 0
        return state

    @property
    def session(self) -> requests.Session:
        """One connection pool per process: a pool inherited through fork would share sockets.

        The inherited pool is kept, never closed: its sockets are the parent's (and a forked
        evaluator has closed their descriptors already).
        """
        if self._session is None or self._pid != os.getpid():
            if self._session is not None:
                _INHERITED.append(self._session)
            import requests

            self._session = requests.Session()
            self._pid = os.getpid()
        return self._session

    # ----------------------------------------------------------------------------------------

    def dataset(self, sparql: str | ParsedQuery, infer: bool, default_graph_uris: Sequence[str] | None,
                named_graph_uris: Sequence[str] | None, wikidata: bool | None = None) -> tuple[str, Dataset]:
        """The query without its FROM clauses and the dataset the embedded store would use
        (``wikidata``: whether the query as written is in Wikidata's vocabulary; default: read it
        from ``sparql``)."""
        stripped, from_default, from_named = split_dataset(sparql)
        if default_graph_uris or named_graph_uris:
            return stripped, Dataset(tuple(default_graph_uris or ()), tuple(named_graph_uris or ()))
        if from_default or from_named:
            return stripped, Dataset(tuple(from_default), tuple(from_named))
        if uses_wikidata_vocabulary(_parsed(sparql)) if wikidata is None else wikidata:
            default = self.asserted + self.wikibase  # as the embedded store (cowkg.store.default_graphs)
        else:
            default = self.asserted + (self.inferred if infer else ())
        return stripped, Dataset(default, self.graphs)

    def prepare(self, sparql: str | ParsedQuery, infer: bool = False,
                default_graph_uris: Sequence[str] | None = None,
                named_graph_uris: Sequence[str] | None = None) -> tuple[str, str, Dataset]:
        """(query form, query text to send, dataset): everything decided before the request."""
        parsed = _parsed(sparql)
        refuse_extensions(parsed.for_engine)  # what is sent: the label service is rewritten away
        form = query_form(parsed)
        text, dataset = self.dataset(add_default_separators(parse_query(parsed.engine_text)), infer,
                                     default_graph_uris, named_graph_uris, uses_wikidata_vocabulary(parsed))
        declared = set(parsed.prefixes)
        prologue = " ".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items() if p not in declared)
        return form, (prologue + " " + text if prologue else text), dataset

    def query(self, sparql: str | ParsedQuery, *, infer: bool = False, default_graph_uris: Sequence[str] | None = None,
              named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """Evaluate ``sparql`` on the remote endpoint over the dataset the embedded store would use.

        Raises QuerySyntaxError, UnsupportedOperation, QueryTimeout, BackendUnavailable or
        BackendError (see the module docstring for which Virtuoso signal maps to which).
        """
        start = time.perf_counter()
        prepared = Prepared(*self.prepare(sparql, infer, default_graph_uris, named_graph_uris))
        result = self.execute(prepared, max_rows=max_rows, timeout=timeout)
        result.seconds = time.perf_counter() - start
        return result

    def execute(self, prepared: Prepared, *, max_rows: int | None = None, timeout: float | None = None) -> QueryResult:
        """Send a query ``prepare`` made ready and read the answer (the network half of ``query``:
        the web layer prepares in a confined evaluator process and sends from the request thread)."""
        form, text, dataset = prepared
        start = time.perf_counter()
        data = [("query", text), *dataset.parameters()]
        if timeout:
            data.append(("timeout", str(max(1, int(timeout * 1000)))))
        read_timeout = (timeout + 10) if timeout else self.request_timeout
        accept = N_TRIPLES if form == "graph" else RESULTS_XML
        import requests

        try:
            # A fresh connection per query: on a kept-alive one, Virtuoso's last partial segment waits
            # for the client's delayed ACK (Nagle), ~40 ms per answer larger than a few KiB.
            resp = self.session.post(self.endpoint, data=data, headers={"Accept": accept, "Connection": "close"},
                                     timeout=(self.connect_timeout, read_timeout))
        except requests.ReadTimeout:
            raise QueryTimeout(f"the remote store did not answer within {read_timeout:g} s",
                               hint="raise query_timeout or narrow the query",
                               details={"limit_seconds": timeout}) from None
        except requests.RequestException as exc:
            raise BackendUnavailable(f"cannot reach the SPARQL endpoint {self.endpoint}: {exc.__class__.__name__}",
                                     hint="is Virtuoso running? `cowkg virtuoso status`") from None
        result = self._result(resp, form, max_rows, timeout)
        result.seconds = time.perf_counter() - start
        return result

    def _result(self, resp: requests.Response, form: str, max_rows: int | None, timeout: float | None) -> QueryResult:
        if resp.status_code != 200:
            raise translate_error(resp.status_code, resp.text, timeout)
        if resp.headers.get("X-SQL-State") == "S1TAT":
            raise QueryTimeout(f"query stopped after {timeout:g} s" if timeout else "query stopped by the remote store",
                               hint="raise query_timeout or narrow the query (Virtuoso returned partial rows)",
                               details={"limit_seconds": timeout})
        server_cap = resp.headers.get("X-SPARQL-MaxRows")
        if form == "graph":
            triples = [q.triple for q in ox.parse(resp.content, format=ox.RdfFormat.N_TRIPLES)]
            truncated = server_cap is not None and len(triples) >= int(server_cap)
            if max_rows is not None and len(triples) > max_rows:
                triples, truncated = triples[:max_rows], True
            return QueryResult("graph", triples=triples, truncated=truncated)
        # Virtuoso labels blank nodes "nodeID://b123", which is no valid blank node identifier.
        body = resp.content.replace(b"<bnode>nodeID://", b"<bnode>")
        try:
            parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.XML)
        except SyntaxError as exc:
            raise BackendError(f"the remote store sent unreadable results: {exc}") from None
        if form == "boolean":
            return QueryResult("boolean", boolean=ask_value(parsed))
        columns = [v.value for v in parsed.variables]
        rows = list(itertools.islice(parsed, max_rows + 1)) if max_rows is not None else list(parsed)
        truncated = server_cap is not None and len(rows) >= int(server_cap)
        if max_rows is not None and len(rows) > max_rows:
            rows, truncated = rows[:max_rows], True
        return QueryResult("solutions", variables=visible(columns), rows=rows, truncated=truncated, columns=columns)

    def query_serialized(self, sparql: str | ParsedQuery, fmt: Format, **_options) -> None:
        """None: answers are read as SPARQL XML and written by ``QueryResult.serialize`` (Virtuoso's own
        JSON and XML differ from the embedded store's in details, e.g. blank node labels)."""
        return None

    def quads(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        """The quads of the named graphs ``graphs``, one query per graph. Raises BackendError when the
        server's row limit (ResultSetMaxRows) cuts a graph short: an export is whole or not at all."""
        for g in graphs:
            res = self.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}", named_graph_uris=[str(g)])
            if res.truncated:
                raise BackendError(f"the remote store cut the graph {g} at {len(res.rows):,} triples",
                                   hint="raise ResultSetMaxRows of the Virtuoso instance (virtuoso.ini)")
            name = ox.NamedNode(str(g))
            for row in res.rows:
                yield ox.Quad(row["s"], row["p"], stored_term(row["o"]), name)

    #: ``version`` follows the triple counts only: nothing is cached on disk under it.
    content_version = False

    def version(self) -> str:
        """Hash of the triple counts per graph: the remote store gives no digest of its data."""
        return hashlib.sha256(repr(self.graph_sizes()).encode()).hexdigest()[:16]

    def graph_sizes(self) -> dict[str, int]:
        """Triples per project graph, counted by the remote store."""
        res = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                         timeout=self.request_timeout)
        sizes = dict.fromkeys(self.graphs, 0)
        for row in res.rows:
            sizes[row["g"].value] = int(row["n"].value)
        return sizes


#: Virtuoso stores a GeoSPARQL WKT literal as its own geometry type, its keyword upper-cased.
VIRTUOSO_GEOMETRY = "http://www.openlinksw.com/schemas/virtrdf#Geometry"


def stored_term(term):
    """The term as it was loaded: ``"POINT(x y)"^^virtrdf:Geometry`` back to the
    ``"Point(x y)"^^geo:wktLiteral`` the Wikibase view writes (cowkg.wikibase), so exported bytes
    are the embedded store's."""
    if isinstance(term, ox.Literal) and term.datatype.value == VIRTUOSO_GEOMETRY:
        value = "Point" + term.value[5:] if term.value.startswith("POINT") else term.value
        return ox.Literal(value, datatype=ox.NamedNode(GEO_WKT))
    return term


def ask_value(parsed) -> bool:
    """The boolean of an ASK answer: a standard boolean result, or Virtuoso's one-row table.

    Virtuoso 7.2 answers ASK as a SELECT of ``__ASK_RETVAL`` (one row ``1`` when true, no rows
    when false).
    """
    if isinstance(parsed, ox.QueryBoolean | bool):
        return bool(parsed)
    for row in parsed:
        return row[0] is not None and row[0].value not in ("0", "false")
    return False


def translate_error(status: int, text: str, timeout: float | None) -> Exception:
    """The cowkg error for a non-200 answer of Virtuoso's SPARQL endpoint."""
    first = text.strip().splitlines()[0] if text.strip() else f"HTTP {status}"
    m = _STATE_RE.search(first)
    code = m.group(2).strip() if m else ""
    message = m.group(3).strip() if m else first
    details = {"backend_status": status, "backend_code": code} if code else {"backend_status": status}
    if "Internal error" in message:
        log.warning("remote store internal error %s %s: %s", status, code, message)
        return BackendError(f"the remote store failed to compile the query: {message}",
                            hint="a defect of the remote store; rephrase the query", details=details)
    if code.startswith("SP0") or (status == 400 and "syntax error" in message):
        line = _LINE_RE.search(message)
        return QuerySyntaxError(f"SPARQL syntax error (remote store): {message}",
                                Location("query", int(line.group(1)) if line else None),
                                hint="the remote store's compiler rejected the query", details=details)
    if code == "SR171" or "timed out" in message or "exceeds the limit" in message:
        return QueryTimeout(f"query stopped by the remote store: {message}",
                            hint="raise query_timeout or narrow the query", details={**details,
                                                                                     "limit_seconds": timeout})
    if code in ("SR158", "SQ070", "SR186") or "SECURITY" in message.upper():
        return UnsupportedOperation(f"the remote store refused the query: {message}",
                                    hint="this endpoint forwards read-only SPARQL 1.1 queries", details=details)
    hints = {"SR353": "ORDER BY with OFFSET + LIMIT above the server's MaxSortedTopRows; sort in a subquery",
             "TR...": "Virtuoso needs one end of a transitive property path (+, *) to be bound"}
    log.warning("remote store error %s %s: %s", status, code, message)
    return BackendError(f"the remote store failed: {message}", hint=hints.get(code), details=details)
