"""Evaluator processes for the native front prototype (``src/main.rs``): measurement only.

A parent builds cowkg's app once (store, caches), then forks ``N`` evaluators that share it
copy-on-write, as ``cowkg serve``'s workers fork theirs. Each accepts one connection from the front
on a Unix socket, sends its pid (the front SIGKILLs an evaluator that overruns the time limit; the
parent forks a replacement), confines itself (``cowkg.sandbox``: no network, bounded memory) and
answers frames (the format is in ``src/main.rs``). Two modes:

- ``full``: what cowkg does for a query request, minus the HTTP server: the protocol request read
  and checked (``read_spec``: the query parsed once, UPDATE and SERVICE refused, nesting limits),
  the response cache, ``evaluate`` (negotiation, the engine, its serialiser) and the answer's
  headers (ETag, CORS, policy), with cowkg's error shape for refusals. So ``native-full`` is the
  request path cowkg would have with a native front and the checks kept in Python;
- ``bare``: the query text straight to pyoxigraph and its serialiser, no checks (a lower bound).

Usage (bench/http_throughput.py starts it): python evaluators.py SOCKET N full|bare
"""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import struct
import sys
from pathlib import Path

import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from cowkg import sandbox  # noqa: E402
from cowkg.answer import evaluate  # noqa: E402
from cowkg.errors import CowkgError  # noqa: E402
from cowkg.web import create_app  # noqa: E402
from cowkg.web.http import CORS_HEADERS, POLICY_HEADERS  # noqa: E402
from cowkg.web.sparql import answer_headers, etag_for, read_spec  # noqa: E402
from cowkg.web.state import app_state  # noqa: E402


def _environ(method: str, query_string: str, ctype: str, accept: str, host: str, body: bytes) -> dict:
    environ = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": "/sparql", "QUERY_STRING": query_string,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
               "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "HTTP_ACCEPT": accept, "HTTP_HOST": host}
    if ctype:
        environ["CONTENT_TYPE"] = ctype
    if body or method == "POST":
        environ["CONTENT_LENGTH"] = str(len(body))
    return environ


def full(app):
    state, cfg = app_state(app), app.config["COWKG"]

    def answer(method, query_string, ctype, accept, host, body):
        try:
            spec = read_spec(app.request_class(_environ(method, query_string, ctype, accept, host, body)), cfg, True)
            key = spec.cache_key()
            found = state.cache.get(key)
            if found is None:
                found = evaluate(state.backend, spec)
                state.cache.put(key, found)
        except CowkgError as exc:
            return exc.http_status, [("Content-Type", "application/json"), *CORS_HEADERS], \
                json.dumps(exc.as_dict()).encode()
        except Exception as exc:  # noqa: BLE001 - a prototype: the front gets a 500, the evaluator lives on
            return 500, [("Content-Type", "text/plain")], repr(exc).encode()
        version = state.catalog.version
        return 200, [*answer_headers(spec, found, etag_for(spec, version), version), *CORS_HEADERS,
                     *POLICY_HEADERS], found.body

    return answer


def bare(app):
    store = app_state(app).backend.kg.store

    def answer(method, query_string, ctype, accept, host, body):
        from urllib.parse import parse_qs

        result = store.query(parse_qs(query_string)["query"][0])
        if isinstance(result, ox.QuerySolutions):
            data, kind = result.serialize(format=ox.QueryResultsFormat.JSON), "application/sparql-results+json"
        elif isinstance(result, ox.QueryTriples):
            data, kind = result.serialize(format=ox.RdfFormat.TURTLE), "text/turtle"
        else:
            data = b'{"head":{},"boolean":%s}' % (b"true" if result else b"false")
            kind = "application/sparql-results+json"
        return 200, [("Content-Type", kind)], data

    return answer


def _read(conn: socket.socket, size: int) -> bytes:
    data = bytearray()
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return bytes(data)


def evaluator(listener: socket.socket, answer, memory: int | None) -> None:
    conn, _ = listener.accept()
    listener.close()
    conn.sendall(struct.pack("<I", os.getpid()))
    sandbox.confine(memory)
    while True:
        try:
            (size,) = struct.unpack("<I", _read(conn, 4))
            frame = _read(conn, size)
        except EOFError:
            os._exit(0)
        method, query_string, ctype, accept, host, body = frame.split(b"\n", 5)
        status, headers, data = answer(method.decode(), query_string.decode(), ctype.decode(), accept.decode(),
                                       host.decode(), body)
        head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode()
        conn.sendall(struct.pack("<HI", status, len(head)) + head + struct.pack("<I", len(data)) + data)


def main() -> None:
    path, count, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    app = create_app()
    cfg = app.config["COWKG"]
    answer = full(app) if mode == "full" else bare(app)
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(64)
    signal.signal(signal.SIGTERM, lambda *_: (os.killpg(0, signal.SIGKILL)))
    os.setpgrp()
    children = set()
    while True:
        while len(children) < count:
            pid = os.fork()
            if pid == 0:
                evaluator(listener, answer, cfg["query_memory"] or None)
            children.add(pid)
        pid, _ = os.wait()
        children.discard(pid)


if __name__ == "__main__":
    main()
