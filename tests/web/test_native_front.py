"""The native front (``native/front``, ``cowkg.web.native_front``) from the outside: two live
``cowkg serve`` on the shipped graph, one with the native front and one with granian, get the same
requests and must give the same answers; then what only the native front does — reading HTTP
strictly, its response cache shared by every worker, its evaluators stopped, killed and replaced —
is checked on the live server, with raw sockets where a client library would tidy the request.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from conftest import ROOT
from servers import COWKG_SERVE, serving

from cowkg.vocab import sparql_prologue
from cowkg.web.catalog import load_examples

from .test_direct_path import ACCEPT_JSON, REQUESTS, comparable
from .test_limits_live import PATHOLOGICAL

LIMITS = {"COWKG_QUERY_TIMEOUT": "3", "COWKG_HEADER_TIMEOUT": "2", "COWKG_BODY_TIMEOUT": "2",
          "COWKG_EVALUATORS": "3", "COWKG_QUEUE_WAIT": "0.5"}


def _serve(tmp_path_factory, cache_dir, front: str):
    log = tmp_path_factory.mktemp(f"front-{front}") / "server.log"
    env = {**os.environ, "COWKG_CACHE_DIR": str(cache_dir), "COWKG_FRONT": front, **LIMITS}
    return serving([*COWKG_SERVE, "--workers", "1"], log=log, env=env, cwd=ROOT, wait=240), log


@pytest.fixture(scope="module")
def native(tmp_path_factory, kg, cache_dir, native_front):
    served, log = _serve(tmp_path_factory, cache_dir, "native")
    with served as server:
        yield server, log


@pytest.fixture(scope="module")
def granian(tmp_path_factory, kg, cache_dir):
    served, _log = _serve(tmp_path_factory, cache_dir, "granian")
    with served as server:
        yield server


# --- the same answers as the granian front ---------------------------------------------------------------

HOSTILE = [  # encodings a front must decode exactly as werkzeug does, or not cache
    ("GET", "query=ASK+%7B+%3Fs+%3Fp+%22a%2Bb%22+%7D", {}),
    ("GET", "query=ASK%20%7B%20%3Fs%20%3Fp%20%22100%%22%20%7D", {}),
    ("GET", "query=ASK%20%7B%20%3Fs%20%3Fp%20%22%zz%4%22%20%7D", {}),
    ("GET", "query=ASK%20%7B%7D&query=ASK%20%7B%7D", {}),
    ("GET", "query=ASK%20%7B%7D&infer=maybe", {}),
    ("GET", "query=ASK%20%7B%7D&update=x", {}),
    ("GET", "query=%FF%FE", {}),
    ("GET", "query=ASK%20%7B%7D&format=%FF", {}),
    ("GET", "query=%20%20", {}),
    ("GET", "query=ASK%20%7B%7D&default-graph-uri=https%3A%2F%2Fw3id.org%2Fcowkg%2Fgraph%2Fdata", {}),
    ("GET", "query=ASK%20%7B%7D&named-graph-uri=not%20an%20iri", {}),
    ("GET", "query=ASK%20%7B%7D&infer=true&infer=false", {}),
    ("POST", "", {"Content-Type": "application/sparql-query; charset=latin-1"}),
    ("POST", "query=ASK%7B%7D", {"Content-Type": "application/x-www-form-urlencoded"}),
    ("POST", "", {"Content-Type": "text/plain"}),
]


def competency():
    return [("GET", {"query": sparql_prologue() + ex.query}, {"Accept": ACCEPT_JSON}, None)
            for ex in load_examples(ROOT / "queries")]


def both(native, granian, method, path, **kwargs):
    (server, _log), other = native, granian
    a = requests.request(method, server.base + path, timeout=60, **kwargs)
    b = requests.request(method, other.base + path, timeout=60, **kwargs)
    return a, b


def same(a, b, validators: bool = True) -> None:
    """The same status, body and headers, but for each server's own address (pages name it, and
    their validator hashes it: ``validators=False``)."""

    def own(r) -> tuple:
        netloc = urlparse(r.url).netloc.encode()
        headers = {k: v.replace(netloc.decode(), "HOST") for k, v in comparable(r.headers).items()}
        if not validators:
            headers.pop("etag", None)
        return r.status_code, r.content.replace(netloc, b"HOST"), headers

    assert own(a) == own(b), a.content[:300]


@pytest.mark.parametrize(("method", "params", "headers", "body"), REQUESTS + competency())
def test_protocol_answers_equal_granian_s_first_and_from_the_cache(native, granian, method, params, headers,
                                                                   body) -> None:
    headers = {"Accept": "*/*", **headers}
    for _ in range(2):  # the second time from each server's response cache
        same(*both(native, granian, method, "/sparql", params=params, headers=headers, data=body))


@pytest.mark.parametrize(("method", "query_string", "headers"), HOSTILE)
def test_hostile_encodings_get_granian_s_answers(native, granian, method, query_string, headers) -> None:
    body = None
    if method == "POST":
        body, query_string = (query_string or "ASK {}").encode(), ""
    for _ in range(2):
        same(*both(native, granian, method, "/sparql?" + query_string, headers={"Accept": "*/*", **headers},
                   data=body))


def test_one_query_is_cached_apart_by_format_and_never_for_a_stranger_host(native, granian) -> None:
    query = "SELECT ?m WHERE { ?m a cow:Meeting } ORDER BY ?m LIMIT 2 # formats"
    for headers, params in (({"Accept": ACCEPT_JSON}, {}), ({"Accept": "application/sparql-results+xml"}, {}),
                            ({"Accept": "text/csv"}, {}), ({"Accept": ACCEPT_JSON}, {"format": "tsv"}),
                            ({"Accept": ACCEPT_JSON}, {"infer": "true"}), ({"Accept": "text/html"}, {}),
                            ({"Accept": ACCEPT_JSON, "Host": "evil.example"}, {}),
                            ({"Accept": ACCEPT_JSON, "Host": "localhost"}, {})):
        for _ in range(2):
            a, b = both(native, granian, "GET", "/sparql", params={"query": query, **params}, headers=headers)
            same(a, b)
    assert a.status_code == 200


@pytest.mark.parametrize(("path", "params", "accept"), [
    ("/rdf-graphs", {"default": ""}, "text/turtle"),
    ("/rdf-graphs", {"graph": "https://w3id.org/cowkg/graph/data"}, "application/n-triples"),
    ("/rdf-graphs", {"graph": "https://w3id.org/cowkg/graph/none"}, "text/turtle"),
    ("/rdf-graphs", {"format": "maybe", "default": "true"}, "text/*"),  # found by the fuzzer: a 500 once
    ("/rdf-graphs", {"query": "DESCRIBE cowr:meeting-04", "default": ""}, ACCEPT_JSON),  # not a protocol query
])
def test_the_graph_store_protocol_equals_granian_s(native, granian, path, params, accept) -> None:
    for _ in range(2):
        same(*both(native, granian, "GET", path, params=params, headers={"Accept": accept}))


@pytest.mark.parametrize("path", ["/", "/sparql", "/id/keir-starmer", "/page/keir-starmer", "/browse/meetings",
                                  "/nothing-here", "/static/../settings.py", "/ontology", "/void"])
def test_pages_equal_granian_s(native, granian, path) -> None:
    for method in ("GET", "HEAD"):
        a, b = both(native, granian, method, path, headers={"Accept": "text/html"}, allow_redirects=False)
        same(a, b, validators=False)


def test_a_conditional_request_gets_304_from_both(native, granian) -> None:
    params = {"query": "ASK { ?s ?p ?o }"}
    a, b = both(native, granian, "GET", "/sparql", params=params)
    same(a, b)
    a, b = both(native, granian, "GET", "/sparql", params=params, headers={"If-None-Match": a.headers["ETag"]})
    assert a.status_code == b.status_code == 304
    same(a, b)


def test_health_names_the_front(native, granian) -> None:
    (server, log) = native
    assert requests.get(server.base + "/health", timeout=30).json()["front"] == "native"
    assert requests.get(granian.base + "/health", timeout=30).json()["front"] == "granian"
    assert "with the native front" in Path(log).read_text()


# --- HTTP read strictly ------------------------------------------------------------------------------------


def raw(base: str, data: bytes, wait: float = 10) -> bytes:
    """What the server sends back for ``data`` sent as is, until it closes or ``wait`` passes."""
    url = urlparse(base)
    with socket.create_connection((url.hostname, url.port), timeout=wait) as s:
        s.sendall(data)
        out = b""
        deadline = time.monotonic() + wait
        try:
            while time.monotonic() < deadline and (chunk := s.recv(65536)):
                out += chunk
        except TimeoutError:
            pass
        return out


@pytest.mark.parametrize(("request_bytes", "status"), [
    (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n"
     b"Content-Type: application/sparql-query\r\n\r\n0\r\n\r\n", b"400"),  # smuggling: both lengths
    (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 6\r\nContent-Length: 7\r\n\r\nASK{}", b"400"),
    (b"GET /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: 1\r\n folded\r\n\r\n", b"400"),
    (b"GET /sparql HTTP/1.1\r\n\r\n", b"400"),  # no Host
    (b"GET /sparql HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", b"400"),
    (b"GET /sparql HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", b"505"),
    (b"GET http://evil/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"400"),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", b"400"),  # TLS to a plain port
    (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\n", b"501"),
    (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", b"400"),
    (b"GET /sparql?query=" + b"A" * 200_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", b"413"),
    (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 900000\r\n\r\n", b"413"),
])
def test_what_http_does_not_allow_is_refused_and_the_connection_closed(native, request_bytes, status) -> None:
    server, _log = native
    answer = raw(server.base, request_bytes)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 " + status), answer[:300]
    assert b"Connection: close" in head and body.startswith(b'{"status":' + status)
    assert requests.get(server.base + "/health", timeout=30).status_code == 200


def test_pipelined_requests_are_answered_in_order(native) -> None:
    server, _log = native
    one = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: " + ACCEPT_JSON.encode() + b"\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    answer = raw(server.base, one + one + last)
    assert answer.count(b"HTTP/1.1 200 OK") == 3
    assert answer.index(b'"boolean": true') < answer.rindex(b'"status":"ok"')


def test_expect_continue_chunked_bodies_and_http_1_0(native) -> None:
    server, _log = native
    query = b"ASK { ?s ?p ?o }"
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Expect: 100-continue\r\nConnection: close\r\n")
    url = urlparse(server.base)
    with socket.create_connection((url.hostname, url.port), timeout=10) as s:
        s.sendall(head + b"Content-Length: %d\r\n\r\n" % len(query))
        assert s.recv(100).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(query)
        assert s.recv(100).startswith(b"HTTP/1.1 200 OK")
    chunked = raw(server.base, head.replace(b"Expect: 100-continue\r\n", b"") + b"Transfer-Encoding: chunked\r\n\r\n"
                  + b"6\r\nASK { \r\n" + b"a\r\n?s ?p ?o }\r\n0\r\n\r\n")
    assert chunked.startswith(b"HTTP/1.1 200 OK") and b'"boolean"' in chunked
    old = raw(server.base, b"GET /sparql?query=ASK%7B%7D HTTP/1.0\r\n\r\n")
    assert old.startswith(b"HTTP/1.1 400") or old.startswith(b"HTTP/1.1 200")  # no Host: the app decides
    assert b"Connection: close" in old


def test_a_slow_head_is_cut_at_header_timeout(native) -> None:
    server, _log = native
    url = urlparse(server.base)
    start = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=20) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        answer = s.recv(4096)
    assert time.monotonic() - start < 6  # header_timeout is 2 s here
    assert answer.startswith(b"HTTP/1.1 503") and b"header_timeout" in answer


# --- the evaluators behind it ------------------------------------------------------------------------------


def evaluators(master: int) -> list[int]:
    """The query evaluators below ``master``: its children under seccomp (the confined ones)."""
    from security.proctree import descendants

    out = []
    for pid in descendants(master):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if pid != master and "\nSeccomp:\t2" in status:
            out.append(pid)
    return out


def test_cached_answers_are_served_while_every_evaluator_is_stopped(native) -> None:
    server, _log = native
    cached = {"query": "SELECT ?m WHERE { ?m a cow:Meeting } ORDER BY ?m LIMIT 2 # cached"}
    first = requests.get(server.base + "/sparql", params=cached, timeout=30)
    stopped = evaluators(server.process.pid)
    assert len(stopped) == 3
    for pid in stopped:
        os.kill(pid, signal.SIGSTOP)
    try:
        again = requests.get(server.base + "/sparql", params={"query": cached["query"] + " and again"}, timeout=30)
        assert (again.status_code, again.content) == (200, first.content)  # the same key: comments do not count
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)


def test_a_query_finding_every_evaluator_busy_is_told_to_retry(native) -> None:
    from concurrent.futures import ThreadPoolExecutor

    server, _log = native
    with ThreadPoolExecutor(3) as pool:
        slow = [pool.submit(requests.get, server.base + "/sparql", params={"query": PATHOLOGICAL + f" # {i}"},
                            timeout=30) for i in range(3)]
        time.sleep(0.3)
        busy = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p 'not cached' }"}, timeout=30)
        outcomes = sorted(f.result().json()["error"] for f in slow)
    assert busy.status_code == 503 and busy.json()["error"] == "overloaded" and busy.headers["Retry-After"] == "2"
    # one of the three may run past HEAVY_AFTER (3 evaluators, 2 reserved): the others are stopped then
    assert outcomes == ["overloaded", "overloaded", "query-timeout"]


def replaced(server, gone: set[int]) -> None:
    """Wait until the server holds its 3 evaluators again, not all of them among ``gone``: the
    master forks a replacement for each that ended, the front connects to it at once."""
    deadline = time.monotonic() + 20
    while len(now := set(evaluators(server.process.pid))) != 3 or now <= gone:
        assert time.monotonic() < deadline, (gone, now)
        time.sleep(0.1)


def test_evaluators_killed_from_outside_or_at_the_limit_are_replaced(native) -> None:
    server, _log = native
    killed = set(evaluators(server.process.pid))
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    replaced(server, killed)
    answered = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p 'after the kill' }"}, timeout=30)
    assert answered.status_code == 200
    before = set(evaluators(server.process.pid))
    start = time.monotonic()
    stopped = requests.get(server.base + "/sparql", params={"query": PATHOLOGICAL}, timeout=30)
    assert stopped.status_code == 503 and stopped.json()["error"] == "query-timeout"
    assert time.monotonic() - start < 8  # query_timeout is 3 s here
    replaced(server, before)
    assert requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p 'later' }"}, timeout=30).status_code \
        == 200


# --- the setting -------------------------------------------------------------------------------------------


def test_the_front_setting_falls_back_or_says_why_not(native_front) -> None:
    from cowkg.errors import InputError
    from cowkg.web.server import front_of

    assert front_of({"front": "auto", "backend": "embedded"}) == "native"
    assert front_of({"front": "auto", "backend": "virtuoso"}) == "granian"
    assert front_of({"front": "granian", "backend": "embedded"}) == "granian"
    with pytest.raises(InputError, match="embedded backend only"):
        front_of({"front": "native", "backend": "virtuoso"})
    with pytest.raises(InputError, match="front must be one of"):
        front_of({"front": "nginx"})
