"""Queries written for the Wikidata Query Service run unchanged (cowkg/wdqs.py).

No cowkg parameter: a query in Wikidata's vocabulary reads the Wikibase view by itself, and
``SERVICE wikibase:label`` is answered inside cowkg (several languages, fallback, manual mode)
while every other SERVICE stays refused. Checked in process, then over HTTP on the embedded store
and on Virtuoso with a real SPARQL client (SPARQLWrapper, as WDQS users' scripts are written).
"""

from __future__ import annotations

import pytest
import requests
from conftest import BACKENDS, served_over
from SPARQLWrapper import JSON, SPARQLWrapper

from cowkg.errors import QuerySyntaxError, UnsupportedOperation
from cowkg.query import run_query
from cowkg.querytext import parse_query
from cowkg.wdqs import uses_wikidata_vocabulary

LABELS_FR_EN = 'SERVICE wikibase:label { bd:serviceParam wikibase:language "fr,en". }'


def rows(kg, sparql: str) -> list[dict[str, str | None]]:
    return [{k: (v.value if v is not None else None) for k, v in r.items()} for r in run_query(kg, sparql).records()]


# --- the dataset is chosen from the vocabulary ----------------------------------------------------------

@pytest.mark.parametrize(("query", "wikidata"), [
    ("SELECT ?x WHERE { ?x wdt:P31 ?c }", True),
    ("SELECT ?st WHERE { ?i p:P463 ?st . ?st pq:P585 ?d }", True),
    ("PREFIX w: <http://www.wikidata.org/prop/direct/> SELECT ?x WHERE { ?x w:P17 ?c }", True),
    ("SELECT ?x WHERE { ?x <http://wikiba.se/ontology#rank> ?r }", True),
    ("SELECT ?x WHERE { ?x a cow:CoalitionMeeting }", False),
    ("PREFIX wdt: <http://www.wikidata.org/prop/direct/> SELECT ?x WHERE { ?x a cow:Person }", False),
    ("SELECT ?x WHERE { ?x rdfs:comment 'wdt:P31 http://www.wikidata.org/' }", False),
])
def test_wikidata_vocabulary_is_recognised_from_the_terms_used(query, wikidata):
    assert uses_wikidata_vocabulary(parse_query(query)) is wikidata


def test_a_wdqs_query_finds_statements_qualifiers_and_truthy_values_without_a_parameter(kg):
    """Both member counts coexist with their dates; the later one is preferred and truthy."""
    counts = rows(kg, """SELECT ?n ?when ?rank WHERE { ?c wdt:P31 ?type ; p:P2124 ?st .
                         ?st ps:P2124 ?n ; pq:P585 ?when ; wikibase:rank ?rank } ORDER BY ?when""")
    assert [(r["n"], r["when"][:10], r["rank"].rsplit("#")[-1]) for r in counts] == [
        ("34", "2025-11-25", "NormalRank"), ("35", "2025-12-01", "PreferredRank")]
    assert rows(kg, "SELECT ?n WHERE { ?c wdt:P2124 ?n }") == [{"n": "35"}]
    # the same question in cowkg's vocabulary still reads only the asserted graphs
    assert rows(kg, "SELECT ?n WHERE { ?c wdt:P2124 ?n FILTER(?c = cow:nothing) }") == []
    assert not any(r.startswith("http://www.wikidata.org/prop/") for r in
                   (x["p"] for x in rows(kg, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")))


def test_plans_are_never_truthy_facts(kg):
    """A statement qualified as a plan (P5102) has no wdt: triple of its own."""
    leaked = rows(kg, """SELECT ?item ?prop ?v WHERE {
        ?item ?claim ?st . ?st pq:P5102 ?nature ; wikibase:rank ?rank .
        ?prop wikibase:claim ?claim ; wikibase:statementProperty ?ps ; wikibase:directClaim ?wdt .
        ?st ?ps ?v . ?item ?wdt ?v .
        FILTER NOT EXISTS { ?item ?claim ?other . FILTER(?other != ?st) ?other ?ps ?v
                            FILTER NOT EXISTS { ?other pq:P5102 ?n2 } } }""")
    assert leaked == []


# --- the label service ------------------------------------------------------------------------------------

def test_label_service_binds_label_description_and_aliases_with_language_fallback(kg):
    found = rows(kg, f"""SELECT ?c ?cLabel ?cAltLabel WHERE {{ BIND(cowr:coalition AS ?c) {LABELS_FR_EN} }}""")
    assert found == [{"c": "https://w3id.org/cowkg/id/coalition", "cLabel": "Coalition des Volontaires",
                      "cAltLabel": "CdV"}]
    english = rows(kg, """SELECT ?cLabel WHERE { BIND(cowr:coalition AS ?c)
                          SERVICE wikibase:label { bd:serviceParam wikibase:language "de,en". } }""")
    assert english[0]["cLabel"] != "Coalition des Volontaires" and english[0]["cLabel"]
    # Starmer has no French label: English is the fallback, a position's label in English too.
    starmer = rows(kg, f"""SELECT ?pLabel ?posLabel WHERE {{ wd:Q6383803 p:P39/ps:P39 ?pos .
                            BIND(wd:Q6383803 AS ?p) {LABELS_FR_EN} }}""")
    assert {"pLabel": "Keir Starmer", "posLabel": "Prime Minister of the United Kingdom"} in starmer


def test_label_falls_back_to_the_identifier_and_a_description_to_nothing(kg):
    found = rows(kg, """SELECT ?xLabel ?xDescription WHERE { BIND(wd:Q999999999 AS ?x)
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""")
    assert found == [{"xLabel": "Q999999999", "xDescription": None}]


def test_an_unbound_entity_gets_no_label_and_multiplies_no_row(kg):
    found = rows(kg, """SELECT ?x ?xLabel WHERE { OPTIONAL { cowr:coalition wdt:P9999 ?x }
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""")
    assert found == [{"x": None, "xLabel": None}]


def test_manual_mode_and_select_star_show_only_the_query_variables(kg):
    result = run_query(kg, """SELECT * WHERE { BIND(wd:Q6383803 AS ?p)
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en" . ?p rdfs:label ?name } }""")
    assert result.variables == ["p", "name"]
    assert [r["name"].value for r in result.records()] == ["Keir Starmer"]


def test_a_label_service_in_a_subquery_labels_its_own_rows(kg):
    found = rows(kg, """SELECT ?o ?oLabel WHERE { { SELECT ?o ?oLabel WHERE { cowr:meeting-11 wdt:P664 ?o .
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } } } }""")
    assert found == [{"o": "http://www.wikidata.org/entity/Q3052772", "oLabel": "Emmanuel Macron"}]


@pytest.mark.parametrize("query", [
    # another SERVICE beside the label service
    "SELECT * WHERE { ?s ?p ?o SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' } "
    "SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    # wikibase: redefined: the block is an ordinary remote call
    "PREFIX wikibase: <http://127.0.0.1:9/> SELECT * WHERE { ?s ?p ?o "
    "SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' } }",
    # a SERVICE inside the label block is no label parameter
    "SELECT * WHERE { ?s ?p ?o SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' . "
    "SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } } }",
    # the escape trick of issue 17 around a label service
    "PREFIX ex: <http://ex/> SELECT ?x WHERE { VALUES ?v { ex:a\\#b } SERVICE wikibase:label { "
    "bd:serviceParam wikibase:language 'en' } SERVICE <http://127.0.0.1:9/sparql> { ?x ?y ?z } }",
])
def test_every_other_service_is_still_refused(kg, query):
    with pytest.raises((UnsupportedOperation, QuerySyntaxError)):
        run_query(kg, query)


def test_a_label_block_without_language_says_what_and_where(kg):
    with pytest.raises(QuerySyntaxError) as err:
        run_query(kg, "SELECT ?xLabel WHERE { ?x a cow:Person .\n  SERVICE wikibase:label { } }")
    assert "language" in err.value.message and err.value.location.line == 2


def test_syntax_errors_after_a_label_block_point_at_the_text_as_written(kg):
    query = ("SELECT ?xLabel WHERE { ?x wdt:P31 ?c . SERVICE wikibase:label { bd:serviceParam "
             "wikibase:language 'en' } }\nLIMIT x")
    with pytest.raises(QuerySyntaxError) as err:
        run_query(kg, query)
    assert (err.value.location.line, err.value.location.column) == (2, 7)


# --- over HTTP, on each backend ------------------------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def endpoint(backend, live_server, request):
    return served_over(backend, live_server, request) + "/sparql"


def wdqs(endpoint: str, query: str) -> list[dict[str, str]]:
    client = SPARQLWrapper(endpoint)
    client.setQuery(query)
    client.setReturnFormat(JSON)
    return [{k: v["value"] for k, v in b.items()} for b in client.queryAndConvert()["results"]["bindings"]]


def test_wdqs_query_with_labels_over_http(endpoint):
    found = wdqs(endpoint, """SELECT ?meeting ?organiser ?organiserLabel WHERE {
          ?meeting wdt:P31 cow:CoalitionMeeting ; p:P179 [ pq:P1545 "11" ] ; wdt:P664 ?organiser .
          SERVICE wikibase:label { bd:serviceParam wikibase:language "[AUTO_LANGUAGE],en". } }""")
    assert found == [{"meeting": "https://w3id.org/cowkg/id/meeting-11",
                      "organiser": "http://www.wikidata.org/entity/Q3052772", "organiserLabel": "Emmanuel Macron"}]


def test_other_service_over_http_is_400(endpoint):
    r = requests.get(endpoint, params={"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } "
                                                "SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' } }"},
                     headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert r.status_code == 400 and r.json()["error"] == "unsupported-operation"
