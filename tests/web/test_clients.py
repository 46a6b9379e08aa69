"""Real clients against ``cowkg serve`` (a subprocess on 127.0.0.1): SPARQLWrapper in every return
format, rdflib's SPARQLStore, requests and curl. Expectations come from the store itself (a COUNT
through the same endpoint), never from fixed data counts."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import subprocess
import time
import xml.dom.minidom

import pytest
import requests
from conftest import require
from rdflib import Graph, URIRef
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, N3, RDFXML, TSV, TURTLE, XML, SPARQLWrapper

SELECT = "SELECT ?c ?l WHERE { ?c a owl:Class ; rdfs:label ?l } ORDER BY ?c ?l LIMIT 5"
CONSTRUCT = "CONSTRUCT { ?c a owl:Class } WHERE { ?c a owl:Class } LIMIT 5"


@pytest.fixture(scope="module")
def endpoint(project_server):
    return project_server + "/sparql"


def count(endpoint: str, where: str, **params) -> int:
    query = f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"
    r = requests.get(endpoint, params={"query": query, **params}, timeout=30)
    r.raise_for_status()
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def ask(endpoint: str, where: str, **params) -> bool:
    r = requests.get(endpoint, params={"query": f"ASK {{ {where} }}", **params}, timeout=30)
    r.raise_for_status()
    return r.json()["boolean"]


@pytest.fixture(scope="module")
def n_classes(endpoint) -> int:
    return min(5, count(endpoint, "SELECT DISTINCT ?c ?l WHERE { ?c a owl:Class ; rdfs:label ?l }"))


@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
def test_sparqlwrapper_select_in_every_results_format(endpoint, n_classes, fmt):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(SELECT)
    sw.setReturnFormat(fmt)
    result = sw.query()
    data = result.convert()
    if fmt == JSON:
        rows = data["results"]["bindings"]
    elif fmt == XML:
        assert isinstance(data, xml.dom.minidom.Document)
        rows = data.getElementsByTagName("result")
    else:
        text = data.decode("utf-8")
        rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == CSV else "\t"))[1:]
    assert len(rows) == n_classes


@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # inside SPARQLWrapper
@pytest.mark.parametrize("fmt", [TURTLE, N3, RDFXML, JSONLD, XML])
def test_sparqlwrapper_construct_in_every_rdf_format(endpoint, fmt):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(CONSTRUCT)
    sw.setReturnFormat(fmt)
    data = sw.query().convert()
    if isinstance(data, bytes):
        g = Graph().parse(data=data, format={TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt])
    else:
        g = data if isinstance(data, Graph) else Graph().parse(data=data.toxml(), format="xml")
    assert len(g) == min(5, count(endpoint, "?c a owl:Class"))


def test_sparqlwrapper_ask_and_describe(endpoint):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("ASK { ?s a owl:Class }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery("DESCRIBE cowr:source-wikipedia-article")
    sw.setReturnFormat(TURTLE)
    g = Graph().parse(data=sw.query().convert(), format="turtle")
    assert (URIRef("https://w3id.org/cowkg/id/source-wikipedia-article"), None, None) in g


def test_sparqlwrapper_post(endpoint, n_classes):
    sw = SPARQLWrapper(endpoint)
    sw.setMethod("POST")
    sw.setQuery(SELECT)
    sw.setReturnFormat(JSON)
    assert len(sw.query().convert()["results"]["bindings"]) == n_classes


def test_rdflib_sparqlstore(endpoint, n_classes):
    g = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    rows = list(g.query("PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
                        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n" + SELECT))
    assert len(rows) == n_classes
    assert g.query("ASK { ?s ?p ?o }").askAnswer is True


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_sparqlwrapper_malformed_query_is_query_bad_formed_with_the_position(endpoint, method):
    """SPARQLWrapper maps 400 to QueryBadFormed (a 500 would be EndPointInternalError); the
    server's message, with line and column, reaches the user."""
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sw = SPARQLWrapper(endpoint)
    sw.setMethod(method)
    sw.setQuery("SELECT ?s WHERE {\n  ?s ?p ?o\n")
    sw.setReturnFormat(JSON)
    with pytest.raises(QueryBadFormed) as info:
        sw.query()
    assert '"line":3' in str(info.value) and "query-syntax-error" in str(info.value)


def test_rdflib_sparqlstore_malformed_query_fails_cleanly_and_is_a_400(endpoint):
    """SPARQLStore turns any HTTP error into one ValueError; the same request shows it was a 400."""
    query = "SELECT ?s WHERE { ?s ?p ?o } ORDER ?s"
    g = Graph(store=SPARQLStore(endpoint, returnFormat="json"))
    with pytest.raises(ValueError, match="SPARQL query"):
        g.query(query)
    r = requests.get(endpoint, params={"query": query}, headers={"Accept": "application/sparql-results+json"},
                     timeout=30)
    assert r.status_code == 400 and r.json()["message"] == "SPARQL syntax error: expected BY"


def test_requests_conditional_get_is_304(endpoint):
    params = {"query": SELECT}
    first = requests.get(endpoint, params=params, timeout=30)
    assert first.status_code == 200 and first.headers["ETag"]
    second = requests.get(endpoint, params=params, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert second.status_code == 304


def test_requests_infer_parameter_adds_the_inferred_graph(endpoint):
    """The same query over the default graph, with and without infer=true: the triples only the
    reasoner derived are there with it, and only with it."""
    only_inferred = ("GRAPH cowg:inferred { ?s ?p ?o } "
                     "FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } FILTER (?g NOT IN (cowg:inferred, cowg:wikibase)) }")
    derived = count(endpoint, f"SELECT DISTINCT ?s ?p ?o WHERE {{ {only_inferred} }}")
    assert derived > 0
    everything = "SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o }"
    plain, inferred = count(endpoint, everything), count(endpoint, everything, infer="true")
    assert inferred == plain + derived
    # (an IRI of Wikidata's would make the ASK a query in Wikidata's vocabulary: it reads the Wikibase view)
    first = (f"SELECT ?s ?p ?o WHERE {{ {only_inferred} FILTER (isIRI(?s) && isIRI(?o)) "
             "FILTER (!CONTAINS(CONCAT(STR(?s), STR(?p), STR(?o)), 'wikidata.org')) } ORDER BY ?s ?p ?o LIMIT 1")
    row = requests.get(endpoint, params={"query": first}, timeout=30).json()["results"]["bindings"][0]
    triple = " ".join(f"<{row[v]['value']}>" for v in "spo")
    assert not ask(endpoint, triple)
    assert not ask(endpoint, triple, infer="false")
    assert ask(endpoint, triple, infer="true")


def test_curl_from_the_shell(project_server):
    live_server = project_server
    require(shutil.which("curl") is not None, "curl is not installed")
    out = subprocess.run(["curl", "-sS", "-i", "-H", "Accept: text/csv", "--data-urlencode",
                          "query=SELECT ?c WHERE { ?c a owl:Class } LIMIT 2", live_server + "/sparql"],
                         capture_output=True, timeout=30, check=True).stdout.decode()
    head, _, body = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 200") and "text/csv" in head
    assert body.splitlines()[0] == "c" and len(body.splitlines()) == 3
    redirect = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                               "-H", "Accept: text/turtle", live_server + "/id/source-wikipedia-article"],
                              capture_output=True, text=True, timeout=30, check=True).stdout
    assert redirect == f"303 {live_server}/data/source-wikipedia-article.ttl"
    err = subprocess.run(["curl", "-sS", "-G", "--data-urlencode", "query=SELECT * {", live_server + "/sparql"],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert json.loads(err)["error"] == "query-syntax-error"


def test_health_and_access_log(project_server, tmp_path_factory):
    r = requests.get(project_server + "/health", params={"probe": "access-log"}, timeout=10)
    health = r.json()
    assert (health["status"], health["backend"]) == ("ok", "embedded")
    assert health["graphs"]["https://w3id.org/cowkg/graph/data"] > 9000
    log = tmp_path_factory.getbasetemp() / "project-server.log"
    deadline = time.monotonic() + 5
    while '"GET /health?probe=access-log HTTP/1.1" 200' not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "no access-log line for the request"
        time.sleep(0.1)
    line = next(x for x in log.read_text(errors="replace").splitlines() if "probe=access-log" in x)
    # Each line says when: [day/Mon/year:hh:mm:ss zone], as in the common log format.
    stamp = re.match(r'127\.0\.0\.1 \[(\d{2}/\w{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "GET ', line)
    assert stamp, line
    when = dt.datetime.strptime(stamp.group(1), "%d/%b/%Y:%H:%M:%S %z")
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 120
