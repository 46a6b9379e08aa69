"""The attacks over Virtuoso (issue 17, "the same over Virtuoso"): through ``cowkg serve --backend
virtuoso`` every SERVICE reading, DEFINE pragma and bif:/sql: built-in is refused before it reaches
the store; and the private Virtuoso cowkg starts is a real second line — asked directly, past
cowkg, it neither federates, sponges, loads nor fetches a URL with its built-ins."""

from __future__ import annotations

import pytest
import requests

from .test_nesting import HOSTILE
from .test_ssrf import CORPUS, fill

DIRECT = {
    "service": "SELECT * WHERE {{ SERVICE <{C}> {{ ?s ?p ?o }} }}",
    "sponge": 'DEFINE get:soft "soft" SELECT * FROM <{C}> WHERE {{ ?s ?p ?o }}',
    "sponge-replace": 'DEFINE get:soft "replace" SELECT * FROM NAMED <{C}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}',
    "grab": 'DEFINE input:grab-all "yes" SELECT * WHERE {{ <{C}> ?p ?o }}',
    "load": "LOAD <{C}>",
    "http_get": "SELECT (bif:http_get('{C}') AS ?x) WHERE {{}}",
    "http_get-iri": "SELECT (<bif:http_get>('{C}') AS ?x) WHERE {{}}",
}
VIRTUOSO_ONLY = [
    'DEFINE get:soft "soft" SELECT * FROM <{C}> WHERE {{ ?s ?p ?o }}',
    "SELECT (bif:http_get('{C}') AS ?x) WHERE {{}}",
    "SELECT (<bif:http_get>('{C}') AS ?x) WHERE {{}}",
    "PREFIX b: <bif:> SELECT (b:http_get('{C}') AS ?x) WHERE {{}}",
    "PREFIX x: <b> SELECT (x:if:http_get('{C}') AS ?x) WHERE {{}}",
    "SELECT (<sql:DB.DBA.USER_CREATE>('x', 'y') AS ?x) WHERE {{}}",
    "SELECT * WHERE {{ ?s ?p ?o FILTER(bif:contains(?o, 'x')) }}",
]


@pytest.fixture(scope="module")
def virtuoso_endpoint(virtuoso_server, project_graphs):
    return virtuoso_server.ensure("project", project_graphs).endpoint


@pytest.mark.virtuoso
@pytest.mark.parametrize("name", DIRECT)
def test_the_private_virtuoso_itself_never_calls_out(virtuoso_endpoint, canary, name):
    """Past cowkg, straight to the store's anonymous /sparql: refused, or failed to connect."""
    before = len(canary.seen(0))
    resp = requests.post(virtuoso_endpoint, data={"query": fill(DIRECT[name], canary)}, timeout=60)
    assert resp.status_code != 200, resp.text[:300]
    assert len(canary.seen()) == before


@pytest.mark.virtuoso
@pytest.mark.parametrize("template", CORPUS + VIRTUOSO_ONLY)
@pytest.mark.parametrize("method", ["GET", "POST-direct"])
def test_cowkg_over_virtuoso_refuses_with_400_and_nothing_calls_out(virtuoso_project_server, canary, template,
                                                                     method):
    query = fill(template, canary)
    before = len(canary.seen(0))
    url = virtuoso_project_server + "/sparql"
    if method == "GET":
        resp = requests.get(url, params={"query": query}, timeout=60)
    else:
        resp = requests.post(url, data=query.encode(), headers={"Content-Type": "application/sparql-query"},
                             timeout=60)
    assert resp.status_code == 400, resp.text[:300]
    assert len(canary.seen()) == before


@pytest.mark.virtuoso
@pytest.mark.parametrize("name", HOSTILE)
def test_deep_nesting_over_virtuoso_is_400(virtuoso_project_server, name):
    resp = requests.post(virtuoso_project_server + "/sparql", data=HOSTILE[name].encode(),
                         headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert resp.status_code == 400 and resp.json()["error"] == "query-too-complex"


@pytest.mark.virtuoso
def test_a_query_that_computes_while_being_checked_is_cut_at_the_limit(virtuoso_project_server):
    """VALUES alone make pyoxigraph's check compute for minutes (it evaluates on an empty store):
    the check runs in a killable evaluator, so the request ends at query_timeout with 503."""
    values = " ".join(str(i) for i in range(300))
    query = f"SELECT * {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} VALUES ?c {{ {values} }} }} ORDER BY ?a"
    resp = requests.post(virtuoso_project_server + "/sparql", data=query.encode(),
                         headers={"Content-Type": "application/sparql-query"}, timeout=120)
    assert resp.status_code == 503 and resp.json()["error"] in ("query-timeout", "query-memory-exceeded")
    assert requests.get(virtuoso_project_server + "/health", timeout=10).status_code == 200
