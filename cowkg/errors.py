"""One error hierarchy: each error knows its HTTP status, its CLI exit code and where it happened.

Stage: shared by all. The web layer turns these into one JSON error shape; the CLI prints
``str(error)`` and exits with ``exit_code``. Anything that is not a ``CowkgError`` is a bug (500).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Location:
    """Where an error happened: a file (or query) and a 1-based line and column.

    >>> str(Location("data/meetings.ttl", 12, 5)), str(Location("q.rq")), str(Location())
    ('data/meetings.ttl:12:5', 'q.rq', '<input>')
    """

    source: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.source or "<input>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (("source", self.source), ("line", self.line), ("column", self.column))
                if v is not None}


@dataclass
class CowkgError(Exception):
    """Base class. ``message`` says what went wrong; ``location`` where; ``hint`` what to do.

    The CLI prints ``str(error)`` and exits with ``exit_code``; HTTP answers ``as_dict()`` with
    ``http_status``:

    >>> err = NotFound("no such query file: q.rq", hint="cowkg query --help")
    >>> print(err)
    no such query file: q.rq
      hint: cowkg query --help
    >>> err.exit_code, err.http_status, err.as_dict()["error"]
    (2, 404, 'not-found')
    """

    message: str
    location: Location | None = None
    hint: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    http_status = 500
    exit_code = 1
    kind = "error"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location else ""
        hint = f"\n  hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.http_status, "error": self.kind, "message": self.message}
        if self.location:
            body["location"] = self.location.as_dict()
        if self.hint:
            body["hint"] = self.hint
        body.update(self.details)
        return body


class InputError(CowkgError):
    """Bad input from the user: exit 2 on the CLI, 400 over HTTP."""

    http_status = 400
    exit_code = 2
    kind = "bad-request"


class ParseError(InputError):
    """A data, ontology or shapes file (or an uploaded document) is not valid RDF."""

    kind = "parse-error"


class UnsupportedConstruct(InputError):
    """The ontology uses an OWL construct a component does not implement (it would give a smaller result)."""

    kind = "unsupported-construct"


class QuerySyntaxError(InputError):
    """The SPARQL query does not parse."""

    kind = "query-syntax-error"


class UnsupportedOperation(InputError):
    """A request the read-only service refuses on purpose (e.g. SPARQL UPDATE)."""

    kind = "unsupported-operation"


class QueryTooComplex(InputError):
    """A query nested too deep, with too many tokens, or too intricate to check before evaluating."""

    kind = "query-too-complex"


class HostNotAllowed(InputError):
    """A request whose ``Host`` header names no host this service answers for (``allowed_hosts``)."""

    kind = "host-not-allowed"


class NotFound(CowkgError):
    """An IRI, graph, file or query that does not exist."""

    http_status = 404
    exit_code = 2
    kind = "not-found"


class NotAcceptable(CowkgError):
    """No serialisation matches what the client accepts."""

    http_status = 406
    exit_code = 2
    kind = "not-acceptable"


class PayloadTooLarge(InputError):
    """A request body or query longer than the configured maximum."""

    http_status = 413
    kind = "payload-too-large"


class QueryTimeout(CowkgError):
    """A query ran past the configured time limit and was stopped."""

    http_status = 503
    exit_code = 3
    kind = "query-timeout"


class QueryMemoryExceeded(CowkgError):
    """A query needed more memory than one evaluation may take (``query_memory``) and was stopped."""

    http_status = 503
    exit_code = 3
    kind = "query-memory-exceeded"


class AnswerTooLarge(CowkgError):
    """An answer larger than ``max_answer_bytes``: the client must ask for less."""

    http_status = 413
    exit_code = 3
    kind = "answer-too-large"


class RequestTimeout(CowkgError):
    """A request (reconciliation batch, page, download build) ran past its deadline."""

    http_status = 503
    exit_code = 3
    kind = "request-timeout"


class Overloaded(CowkgError):
    """Every evaluator is busy: the client should retry after ``retry_after`` seconds (503 +
    Retry-After) instead of waiting in an unbounded queue."""

    http_status = 503
    exit_code = 4
    kind = "overloaded"
    retry_after = 2


class ValidationFailed(CowkgError):
    """The graph does not conform to the SHACL shapes (CLI exit 1)."""

    http_status = 422
    exit_code = 1
    kind = "validation-failed"


class ReleaseUnavailable(CowkgError):
    """A release on disk that cannot be published as it is: missing SHA256SUMS, a listed file
    missing or not matching its digest, or a directory that keeps changing while it is read."""

    http_status = 503
    exit_code = 1
    kind = "release-unavailable"


class BackendUnavailable(CowkgError):
    """A remote store or service (Virtuoso, Wikidata) cannot be reached."""

    http_status = 502
    exit_code = 4
    kind = "backend-unavailable"


class BackendError(CowkgError):
    """A remote store answered with an error that maps to no other class (its message is kept)."""

    http_status = 502
    exit_code = 4
    kind = "backend-error"
