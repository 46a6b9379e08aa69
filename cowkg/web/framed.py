"""The worker side of the native front: a forked process that answers the requests the front
(``native/front``, Rust) hands it over a Unix socket, in one of two roles.

Stage: web, behind ``cowkg.web.native_front`` (which forks these processes) and in front of the
Flask app. A **query evaluator** answers protocol queries: confined like the evaluators of
``cowkg.web.evaluator`` (no network, bounded memory), and killed by the front when it overruns
``query_timeout``, so it evaluates in its own process. The common query (a GET or POST from an
allowed host, no conditional header) takes the direct path of ``sparql.respond_directly``: read
once (a plain query's decisions come from the front's scanner, so the text is not read again
here), evaluated, its headers added; anything else — errors, 304s, the service description, a
remote store — goes through the Flask app, in this process, with the same status, body and
headers. A **page worker** runs the Flask app for everything that is not a query.

The frame format is in native/front/src/workers.rs. An answer is flagged cacheable (the front
keeps it) only when it came from the direct path for exactly the text the front decoded: a front
that read the request differently would then lose a cache entry, never serve a wrong answer.
"""

from __future__ import annotations

import json
import os
import socket
import struct
from typing import Any

from flask import Flask

from .. import sandbox
from ..answer import QuerySpec, evaluate
from ..backends.virtuoso import Prepared
from ..errors import CowkgError
from ..native import FORMS
from ..query import refuse
from ..querytext import ParsedQuery, plain_parse
from .errors import INTERNAL_ERROR
from .evaluator import memory_exceeded
from .front import call_app, wsgi_environ
from .http import CORS_HEADERS, POLICY_HEADERS, host_allowed
from .sparql import OUTCOME_KEY, SPEC_KEY, answer_headers, etag_for, parse_bool, read_spec
from .state import app_state

#: Headers of a Flask answer that belong to one connection, not to the answer: the front sets its own.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
CACHEABLE = 1


class Frame:
    """One request as the front hands it on."""

    __slots__ = ("method", "target", "version", "headers", "body", "remote", "has_text", "text", "decided", "params")

    def __init__(self, fields: list[bytes]) -> None:
        method, target, version, headers, body, remote, has_text, text, form, key, spans, params_ok, params = fields
        self.method, self.target, self.version = method.decode("latin-1"), target.decode("latin-1"), version.decode()
        lines = headers.decode("latin-1").split("\n")
        self.headers = list(zip(lines[0:-1:2], lines[1::2], strict=True))
        self.body, self.remote = body, remote.decode()
        self.has_text = has_text == b"1"
        self.text = text.decode("utf-8") if self.has_text else None
        self.decided: ParsedQuery | None = None
        if form and self.text is not None:  # the form's number, "g" after it when GRAPH may be there
            pairs = [tuple(map(int, pair.split(b","))) for pair in spans.split()]
            self.decided = plain_parse(self.text, FORMS[int(form[:1])], key.decode("utf-8"), pairs,
                                       form.endswith(b"g"))
        #: The other parameters of a query request, decoded by the front: name -> values, in order.
        self.params: dict[str, list[str]] | None = None
        if params_ok == b"1":
            decoded = [field.decode("utf-8") for field in _fields(params)]
            self.params = {}
            for name, value in zip(decoded[0::2], decoded[1::2], strict=True):
                self.params.setdefault(name, []).append(value)

    def header(self, name: str) -> str | None:
        """The headers called ``name`` (lower case), joined as in the WSGI environ; None if absent."""
        values = [v for n, v in self.headers if n == name]
        return ",".join(values) if values else None

    def environ(self, server: tuple[str, str]) -> dict[str, Any]:
        """The WSGI environ of this request, as the granian front builds it (``front.wsgi_environ``)."""
        path, _, query_string = self.target.partition("?")
        return wsgi_environ(self.method, path, query_string, self.version, self.remote, server, self.headers,
                            self.body)


Answer = tuple[int, int, list[tuple[str, str]], bytes]


class Worker:
    """Answers frames with ``app``: ``query`` (an evaluator: the direct path, else Flask) or ``page``."""

    def __init__(self, app: Flask, role: str, server: tuple[str, str], confined: bool) -> None:
        self.app, self.role, self.server, self.confined = app, role, server, confined
        self.state = app_state(app)
        self.cfg = app.config["COWKG"]

    def answer(self, frame: Frame) -> Answer:
        """The whole answer to ``frame``: the direct path for a query when it applies, else Flask."""
        handed: dict[str, Any] = {}
        if self.role == "query" and frame.has_text:
            direct = self.direct(frame, handed)
            if direct is not None:
                return direct
        environ = frame.environ(self.server)
        environ.update(handed)
        return self.through_flask(environ)

    def direct(self, frame: Frame, handed: dict[str, Any]) -> Answer | None:
        """``sparql.respond_directly`` in this process: None when Flask must answer (then with the
        spec and the outcome in ``handed``, for its environ: nothing is read or run twice)."""
        if frame.method not in ("GET", "POST") or frame.target.partition("?")[0] != "/sparql" \
                or frame.header("if-none-match") is not None \
                or not host_allowed(self.app, frame.header("host") or "") \
                or len(frame.target.partition("?")[2]) > self.cfg["max_request_bytes"]:
            return None
        try:
            spec = self.decided_spec(frame)
            if spec is None:
                environ = frame.environ(self.server)
                spec = read_spec(self.app.request_class(environ), self.cfg, self.confined, frame.decided)
        except Exception:  # the Flask view answers it, in the one error shape
            return None
        handed[SPEC_KEY] = spec
        try:
            found = evaluate(self.state.backend, spec)
        except CowkgError as exc:
            handed[OUTCOME_KEY] = exc
            return None
        except MemoryError:
            handed[OUTCOME_KEY] = memory_exceeded(sandbox.memory_budget())
            return None
        if isinstance(found, Prepared):
            handed[OUTCOME_KEY] = found
            return None
        version = self.state.catalog.version
        headers = answer_headers(spec, found, etag_for(spec, version), version)
        headers += [*CORS_HEADERS, *POLICY_HEADERS, ("Content-Length", str(len(found.body)))]
        return 200, CACHEABLE if spec.query == frame.text else 0, headers, found.body

    def decided_spec(self, frame: Frame) -> QuerySpec | None:
        """``read_spec``'s answer for a plain query whose request the front read whole: the text,
        its decisions and the other parameters came decoded, after the front checked what
        ``read_spec`` checks of the request (one query, no update, a known media type and charset);
        None for anything else (``read_spec`` then reads the request)."""
        params, parsed = frame.params, frame.decided
        if params is None or parsed is None:
            return None
        infer = params.get("infer")
        refuse(parsed, confined=self.confined)
        parsed.decide()
        return QuerySpec(
            query=frame.text,
            parsed=parsed,
            infer=parse_bool("infer", infer[0] if infer else None, self.cfg["infer_default"]),
            default_graphs=tuple(params.get("default-graph-uri", ())),
            named_graphs=tuple(params.get("named-graph-uri", ())),
            accept=frame.header("accept") or "",
            formats=(*params.get("format", ()), *params.get("output", ())),
            max_rows=self.cfg["max_rows"],
            timeout=self.cfg["query_timeout"],
            max_answer_bytes=self.cfg["max_answer_bytes"],
        )

    def through_flask(self, environ: dict[str, Any]) -> Answer:
        """The Flask app's whole answer to ``environ``."""
        status, flask_headers, chunks = call_app(self.app, environ)
        body = b"".join(chunks)
        headers = [(k, v) for k, v in flask_headers if k.lower() not in HOP_BY_HOP]
        if environ["REQUEST_METHOD"] == "HEAD":  # the length a GET would have, when Flask said it
            headers += [(k, v) for k, v in flask_headers if k.lower() == "content-length"][:1]
        elif status not in (204, 304):  # answers that never have a body say no length
            headers.append(("Content-Length", str(len(body))))
        return status, 0, headers, body


def _read(conn: socket.socket, size: int) -> bytes:
    data = bytearray(size)
    view, got = memoryview(data), 0
    while got < size:
        n = conn.recv_into(view[got:])
        if not n:
            raise EOFError
        got += n
    return bytes(data)


def _fields(data: bytes) -> list[bytes]:
    fields, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from("<I", data, at)
        fields.append(data[at + 4:at + 4 + size])
        at += 4 + size
    return fields


def serve(conn: socket.socket, worker: Worker) -> None:
    """Answer frames on ``conn`` until the front closes it (then return)."""
    while True:
        try:
            (size,) = struct.unpack("<I", _read(conn, 4))
            frame = Frame(_fields(_read(conn, size)))
        except EOFError:
            return
        try:
            status, flags, headers, body = worker.answer(frame)
        except Exception:  # a bug: answered 500 in the one error shape, logged with its traceback
            import logging

            logging.getLogger(__name__).exception("the %s worker failed on %s %s", worker.role, frame.method,
                                                  frame.target[:200])
            body = json.dumps(INTERNAL_ERROR).encode()
            status, flags = 500, 0
            headers = [("Content-Type", "application/json"), *CORS_HEADERS, *POLICY_HEADERS,
                       ("Content-Length", str(len(body)))]
        head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("latin-1")
        conn.sendall(b"".join((struct.pack("<HBI", status, flags, len(head)), head, struct.pack("<I", len(body)),
                               body)))


def hello(conn: socket.socket) -> None:
    """Tell the front which process it is talking to (it SIGKILLs an evaluator that overruns)."""
    conn.sendall(struct.pack("<I", os.getpid()))
