"""The SPARQL 1.1 Protocol at /sparql through the Flask test client, on the small fixture graph.

Every test that asks for ``sc`` runs twice: on the embedded store and on Virtuoso holding the same
graph (``any_small_app``, tests/web/conftest.py). The few that test the embedded store itself are
listed in ``EMBEDDED_ONLY`` with the reason; a test below keeps the two lists complete.
"""

from __future__ import annotations

import inspect
import json
import re

import pytest

PATHOLOGICAL = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

#: The tests of this module that run on the embedded store only, and why.
EMBEDDED_ONLY = {
    "test_pathological_query_is_stopped_at_the_limit_with_503":
        "counts the embedded evaluator pool's kills; Virtuoso stops a query itself "
        "(tests/virtuoso/test_protocol_virtuoso.py tests that)",
    "test_bugs_are_500_logged_with_traceback": "adds a failing route to an app of its own",
    "test_an_evaluator_killed_from_outside_is_replaced_without_an_error": "kills the embedded evaluator processes",
}


@pytest.fixture()
def sc(any_small_app):
    """A test client of the small app, on each backend in turn."""
    return any_small_app.test_client()


def test_get_query_answers_json_by_default(sc):
    r = sc.get("/sparql", query_string={"query": "ASK { cowr:keir-starmer a cow:Person }"})
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    assert r.get_json() == {"head": {}, "boolean": True}
    assert r.headers["Vary"] == "Accept"


def test_post_form_and_post_direct_give_the_same_answer(sc):
    q = "SELECT ?l WHERE { cowr:keir-starmer rdfs:label ?l }"
    a = sc.post("/sparql", data={"query": q})
    b = sc.post("/sparql", data=q.encode(), content_type="application/sparql-query")
    assert a.status_code == b.status_code == 200
    assert a.get_json() == b.get_json()
    assert a.get_json()["results"]["bindings"][0]["l"] == {"type": "literal", "value": "Keir Starmer",
                                                           "xml:lang": "en"}


@pytest.mark.parametrize("accept, mimetype", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    ("text/csv;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
    ("application/sparql-results+xml;q=0.1, text/csv;q=0.9", "text/csv"),
    ("text/html, */*;q=0.1", "application/sparql-results+json"),
])
def test_select_format_follows_accept_with_q_values(sc, accept, mimetype):
    r = sc.get("/sparql", query_string={"query": "SELECT * WHERE { ?s a cow:Person }"}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.mimetype == mimetype


@pytest.mark.parametrize("fmt, mimetype", [("ttl", "text/turtle"), ("nt", "application/n-triples"),
                                            ("jsonld", "application/ld+json"), ("rdfxml", "application/rdf+xml"),
                                            ("xml", "application/rdf+xml"), ("json", "application/ld+json")])
def test_construct_format_param_wins(sc, fmt, mimetype):
    r = sc.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s a cow:Person }", "format": fmt},
               headers={"Accept": "text/csv"})
    assert r.status_code == 200, r.get_data()
    assert r.mimetype == mimetype
    assert b"keir-starmer" in r.get_data()


@pytest.mark.parametrize("accept, mimetype", [("text/turtle", "text/turtle"),
                                               ("application/n-triples", "application/n-triples"),
                                               ("application/ld+json", "application/ld+json"),
                                               ("application/rdf+xml", "application/rdf+xml"),
                                               ("*/*", "text/turtle")])
def test_describe_format_follows_accept(sc, accept, mimetype):
    r = sc.get("/sparql", query_string={"query": "DESCRIBE cowr:keir-starmer"}, headers={"Accept": accept})
    assert r.status_code == 200
    assert r.mimetype == mimetype


def test_unacceptable_format_is_406_with_the_choices(sc):
    r = sc.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    body = r.get_json()
    assert body["error"] == "not-acceptable"
    assert "application/sparql-results+json" in body["hint"]


def test_protocol_dataset_replaces_the_default_graph(sc):
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s a cow:Agent }"
    plain = sc.get("/sparql", query_string={"query": q}).get_json()
    inferred = sc.get("/sparql", query_string={"query": q, "infer": "true"}).get_json()
    only = sc.get("/sparql", query_string={"query": q, "default-graph-uri": "https://w3id.org/cowkg/graph/inferred"})
    assert plain["results"]["bindings"][0]["n"]["value"] == "0"
    assert inferred["results"]["bindings"][0]["n"]["value"] == "2"
    assert only.get_json()["results"]["bindings"][0]["n"]["value"] == "2"


def test_named_graph_uri_limits_the_named_graphs(sc):
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    r = sc.get("/sparql", query_string={"query": q, "named-graph-uri": "https://w3id.org/cowkg/graph/meta"})
    assert [b["g"]["value"] for b in r.get_json()["results"]["bindings"]] == ["https://w3id.org/cowkg/graph/meta"]


def test_infer_must_be_a_boolean(sc):
    r = sc.get("/sparql", query_string={"query": "ASK {}", "infer": "maybe"})
    assert r.status_code == 400
    assert r.get_json()["message"] == "infer must be true or false, not 'maybe'"


@pytest.mark.parametrize("kwargs", [
    {"method": "GET", "query_string": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": {"update": "CLEAR ALL"}},
    {"method": "POST", "data": b"CLEAR ALL", "content_type": "application/sparql-update"},
    {"method": "POST", "data": b"INSERT DATA { <a:b> <a:c> <a:d> }", "content_type": "application/sparql-query"},
])
def test_update_is_refused_with_400(sc, kwargs):
    r = sc.open("/sparql", **kwargs)
    assert r.status_code == 400
    assert r.get_json() == {"status": 400, "error": "unsupported-operation",
                            "message": "SPARQL UPDATE is not accepted: this endpoint is read-only",
                            "hint": "send queries (SELECT, ASK, CONSTRUCT, DESCRIBE) only"}


@pytest.mark.parametrize("query, body", [
    ("SELECT * WHERE {\n  ?s ?p ?o\n",
     {"status": 400, "error": "query-syntax-error",
      "message": 'SPARQL syntax error: expected one of ",", ".", ";", "{", "{|", "}", "~" or another character',
      "location": {"source": "query", "line": 3, "column": 1}, "hint": "the query ends too early"}),
    ("SELECT ?s WHERE { ?s ?p ?o } ORDER ?s",
     {"status": 400, "error": "query-syntax-error", "message": "SPARQL syntax error: expected BY",
      "location": {"source": "query", "line": 1, "column": 38}, "hint": "near: SELECT ?s WHERE { ?s ?p ?o } ORDER ?s"}),
    ("ASK { ?s ?p ?o } LIMIT x",
     {"status": 400, "error": "query-syntax-error",
      "message": "SPARQL syntax error: expected one of HAVING, OFFSET, OPTIONAL, VALUES or a digit",
      "location": {"source": "query", "line": 1, "column": 24}, "hint": "near: ASK { ?s ?p ?o } LIMIT x"}),
    ("SELECT ?x WHERE {\n ?x foo:bar ?y }",
     {"status": 400, "error": "query-syntax-error", "message": "SPARQL syntax error: prefix foo: is not declared",
      "location": {"source": "query", "line": 2, "column": 5},
      "hint": "declare it with PREFIX, or use a predeclared prefix (cow:, cowr:, wd:, wdt:, rdfs:, skos:, ... "
              "listed in the service description)"}),
])
def test_malformed_query_gets_the_exact_error_body(sc, query, body):
    """Status, kind, a message in words (the parser's character classes named), line and column."""
    for r in (sc.get("/sparql", query_string={"query": query}),
              sc.post("/sparql", data=query.encode(), content_type="application/sparql-query")):
        assert r.status_code == 400
        assert r.mimetype == "application/json"
        assert r.get_json() == body


def test_browsers_get_the_error_as_an_html_page(sc):
    r = sc.get("/sparql", query_string={"query": "SELECT * WHERE {"}, headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    assert b"query-syntax-error" in r.get_data() and b"line 1" in r.get_data()


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "GET", "query_string": [("query", "ASK {}"), ("query", "ASK {}")]},
     "2 'query' parameters; the protocol allows exactly one"),
    ({"method": "POST", "data": b"ASK {}", "content_type": "text/plain"},
     "unsupported Content-Type 'text/plain' for a query"),
    ({"method": "POST", "data": "ASK {}".encode("utf-16"), "content_type": "application/sparql-query; charset=UTF-16"},
     "charset 'UTF-16' is not supported: the protocol requires UTF-8"),
    ({"method": "POST", "data": b"ASK {\xff}", "content_type": "application/sparql-query"},
     "the request body is not UTF-8 (byte 5)"),
    ({"method": "POST", "data": {"format": "json"}}, "missing 'query' parameter"),
])
def test_protocol_misuse_is_400_with_a_message(sc, kwargs, message):
    r = sc.open("/sparql", **kwargs)
    assert r.status_code == 400
    assert r.get_json()["message"] == message


def test_wrong_method_is_405_with_allow(sc):
    r = sc.put("/sparql", data=b"ASK {}")
    assert r.status_code == 405
    assert r.get_json()["error"] == "method-not-allowed"
    assert "GET" in r.headers["Allow"] and "POST" in r.headers["Allow"]


def test_oversized_body_is_413_with_the_limit(sc):
    r = sc.post("/sparql", data=b"ASK {} #" + b"x" * 3000, content_type="application/sparql-query")
    assert r.status_code == 413
    assert r.get_json() == {"status": 413, "error": "payload-too-large",
                            "message": "request body of 3008 bytes exceeds the limit of 2000",
                            "hint": "the max_request_bytes setting limits request bodies and queries",
                            "limit_bytes": 2000}


def test_oversized_url_is_413(sc):
    r = sc.get("/sparql", query_string={"query": "ASK {} #" + "x" * 3000})
    assert r.status_code == 413
    assert r.get_json()["error"] == "payload-too-large"


def test_row_cap_cuts_and_says_so(sc):
    r = sc.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s cow:value ?v }"})
    assert r.status_code == 200
    body = r.get_json()
    assert len(body["results"]["bindings"]) == 50
    assert body["cowkg"] == {"truncated": True, "max_rows": 50}
    assert r.headers["X-Cowkg-Truncated"] == "true; max_rows=50"
    assert r.headers["X-Cowkg-Rows"] == "50"
    csv = sc.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s cow:value ?v }", "format": "csv"})
    assert csv.headers["X-Cowkg-Truncated"] == "true; max_rows=50"
    assert len(csv.get_data().splitlines()) == 51


def test_answers_under_the_cap_are_not_flagged(sc):
    r = sc.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s a cow:Person }"})
    assert r.status_code == 200, r.get_data()
    body = r.get_json()
    assert 0 < len(body["results"]["bindings"]) < 50  # an answer, and one the 50-row cap leaves whole
    assert r.headers["X-Cowkg-Rows"] == str(len(body["results"]["bindings"]))
    assert "X-Cowkg-Truncated" not in r.headers
    assert "cowkg" not in body


def test_pathological_query_is_stopped_at_the_limit_with_503(small_app):
    import time

    sc = small_app.test_client()
    pool = small_app.extensions["cowkg"].pool
    before = pool.killed
    start = time.monotonic()
    r = sc.get("/sparql", query_string={"query": PATHOLOGICAL})
    elapsed = time.monotonic() - start
    assert r.status_code == 503
    assert r.get_json() == {"status": 503, "error": "query-timeout", "message": "query stopped after 1.5 s",
                            "hint": "the query_timeout setting limits each query; narrow the query or add LIMIT",
                            "limit_seconds": 1.5}
    assert 1.5 <= elapsed < 3.0
    assert pool.killed == before + 1
    assert sc.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_cors_allows_reads_without_credentials(sc):
    r = sc.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in r.headers
    assert "X-Cowkg-Truncated" in r.headers["Access-Control-Expose-Headers"]
    pre = sc.options("/sparql", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST",
                                         "Access-Control-Request-Headers": "content-type"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in pre.headers


@pytest.mark.parametrize("path, methods", [("/sparql", {"GET", "HEAD", "POST", "OPTIONS"}),
                                           ("/rdf-graphs", {"GET", "HEAD", "OPTIONS"}),
                                           ("/reconcile", {"GET", "HEAD", "POST", "OPTIONS"}),
                                           ("/page/keir-starmer", {"GET", "HEAD", "OPTIONS"})])
def test_cors_preflight_advertises_only_the_methods_the_route_accepts(sc, path, methods):
    pre = sc.options(path, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200
    advertised = {m.strip() for m in pre.headers["Access-Control-Allow-Methods"].split(",")}
    assert advertised == methods
    if "POST" not in advertised:
        refused = sc.post(path, data=b"", headers={"Origin": "https://example.org"})
        assert refused.status_code == 405
        assert {m.strip() for m in refused.headers["Allow"].split(",")} == advertised


def test_cors_preflight_on_every_route_matches_what_it_answers(sc, any_small_app):
    """No route advertises a method that then answers 405."""
    for rule in any_small_app.url_map.iter_rules():
        path = rule.rule.replace("<path:filename>", "cowkg.css").replace("<slug>.<ext>", "keir-starmer.ttl")
        path = re.sub(r"<[^>]+>", "x", path)
        pre = sc.options(path, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"})
        advertised = {m.strip() for m in pre.headers["Access-Control-Allow-Methods"].split(",")}
        assert advertised == set(rule.methods), rule.rule


def test_etag_revalidation_answers_304_without_a_body(sc):
    q = {"query": "SELECT ?s WHERE { ?s a cow:Person } ORDER BY ?s"}
    first = sc.get("/sparql", query_string=q)
    etag = first.headers["ETag"]
    again = sc.get("/sparql", query_string=q, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    other = sc.get("/sparql", query_string=q, headers={"If-None-Match": etag, "Accept": "text/csv"})
    assert other.status_code == 200


def test_unknown_path_is_404_json(sc):
    r = sc.get("/nope")
    assert r.status_code == 404
    assert r.get_json()["error"] == "not-found"


def test_bugs_are_500_logged_with_traceback(small, caplog):
    from web.conftest import make_app

    app = make_app(small)

    @app.get("/boom")
    def boom():
        raise RuntimeError("kaboom")

    r = app.test_client().get("/boom")
    assert r.status_code == 500
    assert r.get_json() == {"status": 500, "error": "internal-error",
                            "message": "internal error (logged with its traceback); please report it"}
    assert any(rec.exc_info and "kaboom" in str(rec.exc_info[1]) for rec in caplog.records)
    app.extensions["cowkg"].pool.close()


def test_json_results_of_a_select_are_w3c_shaped(sc):
    r = sc.get("/sparql", query_string={"query": "SELECT ?d WHERE { cowr:meeting-04 cow:date ?d }"})
    assert json.loads(r.get_data()) == {"head": {"vars": ["d"]}, "results": {"bindings": [
        {"d": {"type": "literal", "value": "2025-04-10", "datatype": "http://www.w3.org/2001/XMLSchema#date"}}]}}


def test_an_evaluator_killed_from_outside_is_replaced_without_an_error(small_app):
    import os
    import signal
    import time

    sc = small_app.test_client()
    pool = small_app.extensions["cowkg"].pool
    assert sc.get("/sparql", query_string={"query": "ASK { ?s ?p 1 }"}).status_code == 200
    for pid in pool.pids():
        os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    r = sc.get("/sparql", query_string={"query": "ASK { ?s ?p 2 }"})
    assert r.status_code == 200
    assert r.get_json()["boolean"] is True


def test_every_test_here_runs_on_both_backends_or_says_why():
    """A new test that takes ``small_app`` instead of ``sc`` would run on one backend only: it has
    to be listed in EMBEDDED_ONLY with its reason, or this fails."""
    tests = {name: fn for name, fn in globals().items() if name.startswith("test_") and inspect.isfunction(fn)}
    del tests["test_every_test_here_runs_on_both_backends_or_says_why"]
    on_both = {name for name, fn in tests.items() if {"sc", "any_small_app"} & set(inspect.signature(fn).parameters)}
    assert set(tests) - on_both == set(EMBEDDED_ONLY)
    assert len(on_both) >= 20
