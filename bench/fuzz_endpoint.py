"""Fuzz the HTTP endpoint: malformed and mutated queries, headers, parameters and paths.

Every answer must be a deliberate one (a 2xx/3xx/4xx, or a 503 for a query stopped at the time
limit): a 500 means a bug. The server must still answer /health afterwards. The bounded CI run
is ``tests/web/test_fuzz.py`` (2,000 cases); this script runs longer.

Usage: .venv/bin/python bench/fuzz_endpoint.py [--cases 20000] [--url http://127.0.0.1:8000]
Without --url it starts a production server on the small test graph on a free port.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SEEDS = [
    "SELECT ?s WHERE { ?s a cow:Person }",
    "ASK { cowr:keir-starmer owl:sameAs ?x }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3",
    "DESCRIBE cowr:meeting-04",
    "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
    'SELECT * WHERE { ?s rdfs:label ?l FILTER(CONTAINS(LCASE(?l), "starm")) } ORDER BY ?l',
    "PREFIX x: <http://example.org/> SELECT * FROM x:g WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?r } } LIMIT 5",
    "INSERT DATA { <a:b> <a:c> <a:d> }",
    "SELECT ?x WHERE { BIND(1/0 AS ?x) VALUES ?y { 1 2 } } OFFSET 1",
    'SELECT * WHERE { ?s ?p "\\u00e9"@fr-CA }',
]
TOKENS = ["{", "}", "(", ")", "<", ">", "?", "$", ":", ".", ";", ",", '"', "'", "#", "\\", "*", "^^", "@", "\n",
          "\x00", "SELECT", "WHERE", "FILTER", "GRAPH", "SERVICE", "<http://", "FROM NAMED", "LIMIT -1",
          "99999999999999999999999", "_:b", "\u202e", "\ud7ff", "\U0001f600", "[]", "()", "UNION", "MINUS"]
ACCEPTS = ["application/sparql-results+json", "text/csv;q=0", "*/*;q=abc", "text/*", "image/png", "", ",,,",
           "application/ld+json;q=0.5, text/turtle;q=0.9", "text/html", "application/xml;q=1.5", "*/*"]
CTYPES = ["application/sparql-query", "application/x-www-form-urlencoded", "application/sparql-update",
          "text/plain", "", "application/sparql-query; charset=latin-1", "multipart/form-data; boundary=x",
          "application/x-www-form-urlencoded; charset=utf-16", "application/json"]
PATHS = ["/sparql", "/sparql/", "/rdf-graphs", "/id/", "/page", "/data/", "/api/search", "/search", "/query",
         "/.well-known/void", "/health", "/static/../../etc/passwd"]


@st.composite
def mutated_query(draw) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(0, 4))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        token = draw(st.sampled_from(TOKENS) | st.text(max_size=4))
        if op == "insert":
            text = text[:pos] + token + text[pos:]
        elif op == "delete":
            text = text[:pos] + text[pos + draw(st.integers(1, 8)):]
        else:
            text = text[:pos] + token + text[pos + len(token):]
    return text


@st.composite
def request_case(draw) -> dict:
    query = draw(mutated_query() | st.text(max_size=200) | st.sampled_from(SEEDS))
    method = draw(st.sampled_from(["GET", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]))
    path = draw(st.sampled_from(PATHS))
    params = {}
    if draw(st.booleans()):
        params["query"] = query
    for name in ("format", "infer", "default-graph-uri", "named-graph-uri", "graph", "q", "iri", "limit",
                 "update", "default"):
        if draw(st.integers(0, 6)) == 0:
            params[name] = draw(st.sampled_from(["json", "true", "maybe", "http://x", "not an iri", "",
                                                 "https://w3id.org/cowkg/graph/data", "-1", "ttl"]) |
                                st.text(max_size=30))
    if path in ("/id/", "/data/"):
        path += draw(st.sampled_from(["keir-starmer", "keir-starmer.ttl", "..", "%00", "x.exe"]) |
                     st.text(alphabet="abc-._~%", max_size=12))
    headers = {"Accept": draw(st.sampled_from(ACCEPTS) | st.text(max_size=40))}
    body = None
    if method == "POST":
        headers["Content-Type"] = draw(st.sampled_from(CTYPES) | st.text(max_size=40))
        raw = query.encode("utf-8", "surrogatepass")
        body = draw(st.sampled_from([raw, b"query=" + raw, raw[:3] + b"\xff\xfe" + raw[3:], b"update=CLEAR+ALL"]))
        params.pop("query", None)
    for key, value in list(headers.items()):  # what an HTTP client can send: visible latin-1, no CR/LF
        headers[key] = "".join(c for c in value if " " <= c <= "~" or "\xa0" <= c <= "\xff").strip()
    return {"method": method, "path": path, "params": params, "headers": headers, "body": body}


def send(session: requests.Session, base: str, case: dict) -> int:
    params = {k: v.encode("utf-8", "surrogatepass").decode("utf-8", "replace") for k, v in case["params"].items()}
    r = session.request(case["method"], base + case["path"], params=params, headers=case["headers"],
                        data=case["body"], timeout=30, allow_redirects=False)
    return r.status_code


def run(base: str, cases: int) -> collections.Counter:
    """Send ``cases`` generated requests; returns the count of each status (500s included)."""
    statuses: collections.Counter = collections.Counter()
    failures = []
    session = requests.Session()

    @settings(max_examples=cases, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(request_case())
    def one(case):
        status = send(session, base, case)
        statuses[status] += 1
        if status >= 500 and status != 503:
            failures.append((status, case))

    one()
    statuses["failures"] = len(failures)
    for status, case in failures[:5]:
        print(f"  {status}: {case}", file=sys.stderr)
    return statuses


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--url", help="base URL of a running server (default: start one on the small test graph)")
    args = ap.parse_args()
    if args.url:
        _report(args.url, args.cases)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
    import tempfile

    from web.conftest import fixture_server

    with tempfile.TemporaryDirectory() as tmp, fixture_server(Path(tmp)) as (base, _proc):
        _report(base, args.cases)


def _report(base: str, cases: int) -> None:
    start = time.monotonic()
    statuses = run(base, cases)
    alive = requests.get(base + "/health", timeout=10).status_code == 200
    total = sum(v for k, v in statuses.items() if k != "failures")
    print(f"fuzz: {total} requests in {time.monotonic() - start:.1f} s; statuses "
          + ", ".join(f"{k}: {v}" for k, v in sorted((k, v) for k, v in statuses.items() if k != "failures")))
    print(f"fuzz: responses with status 500: {statuses[500]}; other 5xx except 503: "
          f"{statuses['failures'] - statuses[500]}; server alive after: {alive}")
    sys.exit(0 if statuses["failures"] == 0 and alive else 1)


if __name__ == "__main__":
    main()
