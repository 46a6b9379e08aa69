"""Query: what every backend shares about a SPARQL 1.1 answer — its result, refusals, caps, errors.

Stage: between the backends and serialisation. ``QueryResult`` (boolean, solutions or triples) is
what every backend answers and the serialiser writes in any format; ``refuse`` says what no
engine may run; row caps, deadlines and syntax errors with line:column are made here. The
embedded engine itself (``run_query``) lives in ``cowkg.backends.embedded``, beside the store. The
default graph is the union of the asserted graphs (ontology, data, meta), plus the inferred graph
when ``infer`` is true; every graph is also available by name (``GRAPH cowg:inferred { }``).
Project prefixes (``cow:``, ``cowr:``, ``wdt:`` ...) are predeclared, as on the Wikidata Query
Service.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

from . import sandbox
from .errors import Location, QuerySyntaxError, QueryTimeout, UnsupportedOperation
from .media import Format
from .querytext import ParsedQuery, keyword_use
from .serialize import write_boolean, write_table, write_triples
from .vocab import COWR

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
    confined = sandbox.network_confined() if confined is None else confined
    if parsed.verdicts.get(("service", confined)):
        return  # passed already, on the same terms (the parse travelled to an evaluator process)
    # The label service is rewritten away (cowkg.wdqs), so the text the engine runs is read; a text
    # without the letters has none however rewritten (rewrites only wrap GROUP_CONCAT in STR()).
    use = keyword_use(parsed.for_engine, "service") if "service" in parsed.lowered else None
    if use == "certain":
        raise UnsupportedOperation(SERVICE_REFUSED, hint=SERVICE_HINT)
    if use == "possible" and not confined:
        raise UnsupportedOperation(SERVICE_REFUSED + " (a reading of the query text holds one)",
                                   hint="if the word is part of an IRI, write that IRI as a prefixed name "
                                        "(e.g. sd:Service); " + SERVICE_HINT)
    parsed.verdicts[("service", confined)] = True


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
