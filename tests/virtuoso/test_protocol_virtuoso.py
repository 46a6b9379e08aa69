"""The SPARQL protocol over Virtuoso: what only the remote backend does.

The protocol tests of tests/web/test_protocol.py run on Virtuoso too, through the parametrised
``any_small_app`` fixture. Here: the app says which backend it uses, Virtuoso stops a runaway query
itself, its extensions and system graphs stay out of reach, and an unreachable endpoint is a 502.
The app is ``create_app(settings, backend=RemoteSparqlBackend(...))`` with the limits of the
embedded small app (``SMALL_LIMITS``), and Virtuoso holds the same small graph.
"""

from __future__ import annotations

import time

import pytest
from web.conftest import SMALL_LIMITS, make_virtuoso_app
from web.fixture_data import small_kg
from web.test_protocol import PATHOLOGICAL

from .conftest import kg_graphs

pytestmark = pytest.mark.virtuoso


@pytest.fixture(scope="module")
def small_virtuoso(virtuoso_server):
    return virtuoso_server.ensure("small", kg_graphs(small_kg()))


@pytest.fixture(scope="module")
def small_app(small_virtuoso):
    app = make_virtuoso_app(small_virtuoso.endpoint, **SMALL_LIMITS)
    yield app
    app.extensions["cowkg"].pool.close()


@pytest.fixture()
def sc(small_app):
    return small_app.test_client()


def test_health_names_the_backend(sc):
    r = sc.get("/health")
    assert r.status_code == 200
    assert r.get_json()["backend"] == "virtuoso"


def test_pathological_query_is_stopped_at_the_limit_with_503(sc):
    start = time.monotonic()
    r = sc.get("/sparql", query_string={"query": PATHOLOGICAL})
    elapsed = time.monotonic() - start
    assert r.status_code == 503
    body = r.get_json()
    assert body["error"] == "query-timeout" and body["limit_seconds"] == 1.5
    assert elapsed < 6
    assert sc.get("/sparql", query_string={"query": "ASK {}"}).status_code == 200


def test_virtuoso_extensions_are_refused(sc):
    for q in ("PREFIX b: <bif:> SELECT (b:sys_stat('st_dbms_ver') AS ?v) {}",
              "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"):
        r = sc.get("/sparql", query_string={"query": q})
        assert r.status_code == 400, q
        assert r.get_json()["error"] == "unsupported-operation"


def test_unreachable_virtuoso_is_502_with_the_error_shape(small_virtuoso):
    from conftest import free_port

    app = make_virtuoso_app(f"http://127.0.0.1:{free_port()}/sparql", query_timeout=5)
    try:
        r = app.test_client().get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o } LIMIT 1"})
    finally:
        app.extensions["cowkg"].pool.close()
    assert r.status_code == 502
    assert r.get_json()["error"] == "backend-unavailable"


def test_system_graphs_of_virtuoso_are_invisible(sc):
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(!STRSTARTS(STR(?g), STR(cowg:))) }"
    assert sc.get("/sparql", query_string={"query": q}).get_json()["results"]["bindings"][0]["n"]["value"] == "0"
    q = "ASK { <http://www.openlinksw.com/schemas/virtrdf#QuadStorage> ?p ?o }"
    assert sc.get("/sparql", query_string={"query": q}).get_json()["boolean"] is False
