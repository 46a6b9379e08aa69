"""Answer: one query in, the negotiated, serialised bytes out — the one path every front door takes.

Stage: between the backend and the transport (HTTP or the terminal). ``QuerySpec`` says what was
asked (the query, parsed once, its dataset, inference, the client's Accept or format, the caps);
``evaluate`` runs it on a backend and writes the answer in the negotiated format (``Answer``).
The endpoint runs ``evaluate`` in its killable evaluator processes (``cowkg.web.evaluator``), the
views' API and ``cowkg query`` call it directly, so every door gives the same bytes, the same
truncation marker and the same caps for the same query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .backends.virtuoso import Prepared
from .errors import AnswerTooLarge, NotAcceptable
from .media import by_name, choose, content_type
from .query import NATIVE_FORMATS
from .querytext import ParsedQuery, parse_query
from .vocab import BASE


@dataclass(frozen=True)
class QuerySpec:
    """Everything a worker process needs to answer one protocol request (picklable)."""

    query: str
    infer: bool = False
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    accept: str = ""
    formats: tuple[str, ...] = ()
    max_rows: int | None = None
    timeout: float | None = None
    #: Largest answer body sent (None: no limit): a larger one is refused with 413.
    max_answer_bytes: int | None = None
    #: The query's parse, made once in the request (its checks already passed); travels with the spec.
    parsed: ParsedQuery | None = field(default=None, compare=False, repr=False)

    def cache_key(self) -> tuple:
        """What identifies the response bytes: the query as the engine reads it (``cache_text``:
        comments and layout do not count), the dataset, inference, format and cap (the time limit
        does not change a completed answer)."""
        text = self.parsed.cache_text if self.parsed is not None else self.query
        return (text, self.infer, self.default_graphs, self.named_graphs, self.accept, self.formats, self.max_rows)


@dataclass(frozen=True)
class Answer:
    """A serialised result, ready to send."""

    body: bytes
    content_type: str
    kind: str
    rows: int
    truncated: bool
    seconds: float


def evaluate(backend, spec: QuerySpec) -> Answer | Prepared:
    """Run ``spec`` on ``backend`` and serialise the result in the negotiated format.

    A SELECT asked for in JSON or XML is written by the engine itself when the backend can
    (``query_serialized``, the embedded store); everything else, and results over the row cap,
    take the general path. A remote backend (``prepare``/``execute``) is only prepared here —
    checked and parsed in this confined process — and the ``Prepared`` query is returned for the
    server process to send (``finish``): the evaluator cannot open network connections. Raises the
    backend's CowkgErrors (syntax error, update refused, timeout) and NotAcceptable.
    """
    parsed = spec.parsed or parse_query(spec.query)
    if hasattr(backend, "execute"):
        return Prepared(*backend.prepare(parsed, spec.infer, list(spec.default_graphs) or None,
                                         list(spec.named_graphs) or None))
    if parsed.form == "SELECT":
        fmt = choose("results", spec.accept, spec.formats)
        if fmt.name in NATIVE_FORMATS:
            done = backend.query_serialized(parsed, fmt, infer=spec.infer,
                                            default_graph_uris=list(spec.default_graphs) or None,
                                            named_graph_uris=list(spec.named_graphs) or None, max_rows=spec.max_rows)
            if done is not None:
                return Answer(check_answer_size(done.body, spec.max_answer_bytes), content_type(fmt), "solutions",
                              done.rows, False, done.seconds)
    result = backend.query(parsed, infer=spec.infer, default_graph_uris=list(spec.default_graphs) or None,
                           named_graph_uris=list(spec.named_graphs) or None, max_rows=spec.max_rows,
                           timeout=spec.timeout)
    return serialize_answer(result, spec)


def answer_here(backend, spec: QuerySpec) -> Answer:
    """``evaluate`` and, for a remote store, ``finish`` in this process: the answer for a caller
    that needs no evaluator process (the views' API with its fixed queries, ``cowkg query``)."""
    done = evaluate(backend, spec)
    return finish(backend, spec, done) if isinstance(done, Prepared) else done


def finish(backend, spec: QuerySpec, prepared: Prepared) -> Answer:
    """The answer to a query a remote backend's evaluator prepared: sent from this process."""
    return serialize_answer(backend.execute(prepared, max_rows=spec.max_rows, timeout=spec.timeout), spec)


#: Where a cut answer points (the head's ``link``): what was cut, and by which setting.
TRUNCATED = BASE + "truncated?max_rows={}"


def serialize_answer(result, spec: QuerySpec) -> Answer:
    """``result`` in the negotiated format, with the truncation marker and the answer-size cap.

    A graph asked for in a results format only (rdflib's SPARQLStore with returnFormat="json")
    gets an RDF format instead of 406, as other endpoints do: JSON-LD when the client asked for
    JSON, else Turtle; the Content-Type says which."""
    if result.kind == "graph":
        try:
            fmt = choose("graph", spec.accept, spec.formats)
        except NotAcceptable:
            if spec.formats:  # a format asked for by name is not second-guessed
                raise
            fmt = by_name("jsonld" if "json" in (spec.accept + " ".join(spec.formats)).lower() else "ttl",
                          ("graph",))
    else:
        fmt = choose("results", spec.accept, spec.formats)
    links = [TRUNCATED.format(spec.max_rows)] if result.truncated else []
    body = result.serialize(fmt, links)
    if result.truncated and result.kind == "graph" and fmt.name in ("ttl", "nt"):
        body = f"# cut at max_rows = {spec.max_rows} triples: {links[0]}\n".encode() + body
    if result.truncated and fmt.name == "json":
        # A marker clients can see without reading headers; SPARQL JSON readers ignore unknown keys.
        marker = json.dumps({"truncated": True, "max_rows": spec.max_rows})
        body = body[:-1] + b', "cowkg": ' + marker.encode() + b"}"
    return Answer(check_answer_size(body, spec.max_answer_bytes), content_type(fmt), result.kind, len(result),
                  result.truncated, result.seconds)


def check_answer_size(body: bytes, limit: int | None) -> bytes:
    """``body``, or AnswerTooLarge (413) when it is over ``limit`` bytes."""
    if limit is not None and len(body) > limit:
        raise AnswerTooLarge(f"the answer has {len(body)} bytes, more than the limit of {limit}",
                             hint="the max_answer_bytes setting limits answers; add LIMIT, select fewer or shorter "
                                  "values", details={"limit_bytes": limit})
    return body
