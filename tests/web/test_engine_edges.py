"""Answers to the letter at the edges (issue 16, "Engine and edges"): GROUP_CONCAT gives the
simple literal SPARQL 1.1 defines, a cut answer says so in its body, the default row cap holds the
whole dataset, and a CONSTRUCT asked for in a results format only gets RDF, not 406 (what rdflib's
SPARQLStore(returnFormat="json") needs)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore

from cowkg.backends.embedded import run_query
from cowkg.querytext import parse_query
from cowkg.settings import load_settings

from .conftest import make_app

CONCAT = ('SELECT (GROUP_CONCAT(?l; SEPARATOR=", ") AS ?x) '
          'WHERE { VALUES ?l { "John Healey"@en "Sébastien Lecornu"@en } }')


def test_group_concat_is_a_simple_literal(small):
    value = run_query(small, CONCAT).rows[0]["x"]
    assert value == ox.Literal("John Healey, Sébastien Lecornu")  # xsd:string, no language


def test_group_concat_in_having_compares_as_a_simple_literal(small):
    q = 'SELECT ?g WHERE { VALUES (?g ?l) { (1 "a"@en) (1 "b"@en) } } GROUP BY ?g HAVING (GROUP_CONCAT(?l) = "a b")'
    assert len(run_query(small, q).rows) == 1


def test_a_syntax_error_after_group_concat_points_at_the_written_column(small):
    import pytest

    from cowkg.errors import QuerySyntaxError

    q = "SELECT (GROUP_CONCAT(?l) AS ?x) WHERE { ?s ?p }"
    with pytest.raises(QuerySyntaxError) as info:
        run_query(small, q)
    try:  # where the engine itself places the error in the query as written
        ox.Store().query(q)
    except SyntaxError as exc:
        expected = int(str(exc).split()[2].split(":")[1])
    assert info.value.location.column == expected
    assert parse_query(q).engine_text.startswith("SELECT (STR(GROUP_CONCAT(?l)) AS ?x)")


def test_the_default_row_cap_holds_the_whole_dataset(kg):
    total = sum(kg.graph_sizes().values())
    assert load_settings()["max_rows"] > total


def test_a_cut_answer_says_so_in_its_body(small):
    app = make_app(small, max_rows=5)
    client = app.test_client()
    q = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    body = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    data = json.loads(body.data)
    assert len(data["results"]["bindings"]) == 5
    assert data["head"]["link"] == ["https://w3id.org/cowkg/truncated?max_rows=5"]
    xml = client.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+xml"})
    assert b'<link href="https://w3id.org/cowkg/truncated?max_rows=5"/>' in xml.data
    ttl = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                     headers={"Accept": "text/turtle"})
    assert ttl.data.startswith(b"# cut at max_rows = 5") and len(rdflib.Graph().parse(data=ttl.data)) == 5
    app.extensions["cowkg"].pool.close()


def test_a_construct_asked_in_a_results_format_gets_rdf(sc):
    q = "CONSTRUCT WHERE { ?s a ?c } LIMIT 3"
    resp = sc.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200 and resp.mimetype == "application/ld+json"
    assert len(rdflib.Graph().parse(data=resp.data, format="json-ld")) == 3
    resp = sc.get("/sparql", query_string={"query": q}, headers={"Accept": "application/sparql-results+xml"})
    assert resp.status_code == 200 and resp.mimetype == "text/turtle"
    assert sc.get("/sparql", query_string={"query": q, "format": "csv"}).status_code == 406  # asked by name


def test_rdflib_sparqlstore_with_json_reads_a_construct(live_server):
    store = SPARQLStore(live_server + "/sparql", returnFormat="json")
    graph = rdflib.Graph(store)
    result = graph.query("CONSTRUCT { ?m a <https://w3id.org/cowkg/ontology#CoalitionMeeting> } "
                         "WHERE { ?m a <https://w3id.org/cowkg/ontology#CoalitionMeeting> }")
    assert len(result.graph) >= 10
