"""Real clients against ``cowkg serve`` (a subprocess on 127.0.0.1): SPARQLWrapper in every return
format, rdflib's SPARQLStore, requests and curl. Expectations come from the store itself (a COUNT
through the same endpoint), never from fixed data counts."""

from __future__ import annotations

import csv
import io
import json
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


def count(endpoint: str, where: str) -> int:
    r = requests.get(endpoint, params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}"}, timeout=30)
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


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


def test_requests_conditional_get_is_304(endpoint):
    params = {"query": SELECT}
    first = requests.get(endpoint, params=params, timeout=30)
    assert first.status_code == 200 and first.headers["ETag"]
    second = requests.get(endpoint, params=params, headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert second.status_code == 304


def test_requests_infer_parameter_adds_the_inferred_graph(endpoint):
    where = "GRAPH cowg:inferred { ?s ?p ?o } FILTER EXISTS { ?s ?p ?o }"
    plain = count(endpoint, where)
    r = requests.get(endpoint, params={"query": f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}", "infer": "true"},
                     timeout=30)
    inferred = int(r.json()["results"]["bindings"][0]["n"]["value"])
    assert inferred >= plain
    assert inferred == count(endpoint, "GRAPH cowg:inferred { ?s ?p ?o }")


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
    assert r.json() == {"status": "ok", "backend": "embedded"}
    log = tmp_path_factory.getbasetemp() / "project-server.log"
    deadline = time.monotonic() + 5
    while '"GET /health?probe=access-log HTTP/1.1" 200' not in log.read_text(errors="replace"):
        assert time.monotonic() < deadline, "no access-log line for the request"
        time.sleep(0.1)
