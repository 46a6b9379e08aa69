"""The SPARQL protocol tests of tests/web/test_protocol.py, through the app over Virtuoso.

The app is ``create_app(settings, backend=RemoteSparqlBackend(...))`` with the limits of the
embedded ``small_app`` (1.5 s, 50 rows, 2,000 bytes), and Virtuoso holds the same small graph.
The embedded tests are imported by name and run here with this module's ``sc`` fixture. Left
out, because they test the embedded store rather than the protocol: the pathological-query test
(it counts evaluator kills; Virtuoso stops the query itself, see the test below) and the 500 test
(it builds its own embedded app).
"""

from __future__ import annotations

import time

import pytest
from web import test_protocol as embedded_tests
from web.fixture_data import small_kg

from .conftest import kg_graphs

pytestmark = pytest.mark.virtuoso

SHARED = (
    "test_get_query_answers_json_by_default",
    "test_post_form_and_post_direct_give_the_same_answer",
    "test_select_format_follows_accept_with_q_values",
    "test_construct_format_param_wins",
    "test_describe_format_follows_accept",
    "test_unacceptable_format_is_406_with_the_choices",
    "test_protocol_dataset_replaces_the_default_graph",
    "test_named_graph_uri_limits_the_named_graphs",
    "test_infer_must_be_a_boolean",
    "test_update_is_refused_with_400",
    "test_syntax_error_has_line_and_column",
    "test_browsers_get_the_error_as_an_html_page",
    "test_protocol_misuse_is_400_with_a_message",
    "test_wrong_method_is_405_with_allow",
    "test_oversized_body_is_413_with_the_limit",
    "test_oversized_url_is_413",
    "test_row_cap_cuts_and_says_so",
    "test_answers_under_the_cap_are_not_flagged",
    "test_cors_allows_reads_without_credentials",
    "test_etag_revalidation_answers_304_without_a_body",
    "test_unknown_path_is_404_json",
    "test_json_results_of_a_select_are_w3c_shaped",
)
for _name in SHARED:
    if hasattr(embedded_tests, _name):
        globals()[_name] = getattr(embedded_tests, _name)


def make_virtuoso_app(endpoint: str, **settings):
    from conftest import ROOT

    from cowkg.backends.virtuoso import RemoteSparqlBackend
    from cowkg.web import create_app

    return create_app({"root": str(ROOT), **settings}, backend=RemoteSparqlBackend(endpoint))


@pytest.fixture(scope="module")
def small_virtuoso(virtuoso_server):
    return virtuoso_server.ensure("small", kg_graphs(small_kg()))


@pytest.fixture(scope="module")
def small_app(small_virtuoso):
    app = make_virtuoso_app(small_virtuoso.endpoint, query_timeout=1.5, max_rows=50, max_request_bytes=2000)
    yield app
    app.extensions["cowkg_pool"].close()


@pytest.fixture()
def sc(small_app):
    return small_app.test_client()


def test_most_protocol_tests_are_shared():
    assert sum(hasattr(embedded_tests, n) for n in SHARED) >= len(SHARED) - 3


def test_health_names_the_backend(sc):
    r = sc.get("/health")
    assert r.status_code == 200
    assert r.get_json()["backend"] == "virtuoso"


def test_pathological_query_is_stopped_at_the_limit_with_503(sc):
    start = time.monotonic()
    r = sc.get("/sparql", query_string={"query": embedded_tests.PATHOLOGICAL})
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
        app.extensions["cowkg_pool"].close()
    assert r.status_code == 502
    assert r.get_json()["error"] == "backend-unavailable"


def test_system_graphs_of_virtuoso_are_invisible(sc):
    q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(!STRSTARTS(STR(?g), STR(cowg:))) }"
    assert sc.get("/sparql", query_string={"query": q}).get_json()["results"]["bindings"][0]["n"]["value"] == "0"
    q = "ASK { <http://www.openlinksw.com/schemas/virtrdf#QuadStorage> ?p ?o }"
    assert sc.get("/sparql", query_string={"query": q}).get_json()["boolean"] is False
