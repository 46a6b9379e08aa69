"""Query: the dataset a request sees (protocol parameters vs FROM clauses), SELECT * order,
relative IRIs, the row cap, the deadline, and format negotiation from Accept headers."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from cowkg.backends.embedded import run_query
from cowkg.errors import NotAcceptable, QueryTimeout
from cowkg.media import choose, negotiate, parse_accept
from cowkg.query import order_of_appearance
from cowkg.querytext import parse_query
from cowkg.store import KnowledgeGraph
from cowkg.vocab import GRAPH_DATA, GRAPH_INFERRED, GRAPH_META

A, B = "http://example.org/a", "http://example.org/b"


@pytest.fixture(scope="module")
def tiny() -> KnowledgeGraph:
    store = ox.Store()
    p = ox.NamedNode("http://example.org/p")
    for graph, value in ((GRAPH_DATA, "data"), (GRAPH_META, "meta"), (GRAPH_INFERRED, "inferred"), (A, "a"),
                         (B, "b")):
        subject = ox.NamedNode(f"http://example.org/s-{value}")
        store.add(ox.Quad(subject, p, ox.Literal(value), ox.NamedNode(str(graph))))
    for i in range(30):
        store.add(ox.Quad(ox.NamedNode(f"http://example.org/n{i}"), p, ox.Literal(i), ox.NamedNode(str(GRAPH_DATA))))
    return KnowledgeGraph(store)


def values(result) -> list[str]:
    return sorted(r["o"].value for r in result.rows)


Q = "SELECT ?o WHERE { ?s <http://example.org/p> ?o FILTER(isLiteral(?o) && DATATYPE(?o) = xsd:string) }"


def test_default_graph_is_the_asserted_graphs(tiny):
    assert values(run_query(tiny, Q)) == ["data", "meta"]


def test_infer_adds_the_inferred_graph(tiny):
    assert values(run_query(tiny, Q, infer=True)) == ["data", "inferred", "meta"]


def test_query_from_clause_is_respected(tiny):
    q = Q.replace("WHERE", f"FROM <{A}> WHERE")
    assert values(run_query(tiny, q)) == ["a"]


def test_protocol_default_graph_overrides_from(tiny):
    q = Q.replace("WHERE", f"FROM <{A}> WHERE")
    assert values(run_query(tiny, q, default_graph_uris=[B])) == ["b"]


def test_protocol_dataset_hides_unnamed_graphs(tiny):
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    only_default = run_query(tiny, q, default_graph_uris=[A])
    assert only_default.rows == []
    named = run_query(tiny, q, named_graph_uris=[A])
    assert [r["g"].value for r in named.rows] == [A]


def test_every_graph_is_available_by_name_without_a_protocol_dataset(tiny):
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    assert {r["g"].value for r in run_query(tiny, q).rows} == {str(GRAPH_DATA), str(GRAPH_META),
                                                               str(GRAPH_INFERRED), A, B}


@pytest.mark.parametrize("query, expected", [
    ("SELECT * FROM <http://x> { }", True),
    ("SELECT * FROM NAMED cowg:data { }", True),
    ('SELECT * { ?s ?p "FROM <http://x>" }', False),
    ("# FROM <http://x>\nASK {}", False),
    ("PREFIX a: <http://x#> SELECT * FROM a:g { }", True),
    ("SELECT ?from { FILTER(?a < 1 && ?b > 2) }", False),
])
def test_dataset_clause_detection_ignores_strings_comments_and_iris(query, expected):
    assert bool(parse_query(query).dataset) is expected


def test_select_star_keeps_the_order_variables_appear_in(tiny):
    res = run_query(tiny, "SELECT * WHERE { ?zeta <http://example.org/p> ?alpha OPTIONAL { ?alpha ?mid ?x } }")
    assert res.variables == ["zeta", "alpha", "mid", "x"]
    assert order_of_appearance(parse_query("SELECT * { ?b ?a ?c }"), ["a", "b", "c"]) == ["b", "a", "c"]


def test_relative_iris_resolve_in_the_entity_namespace(tiny):
    res = run_query(tiny, "SELECT ?x WHERE { BIND(<keir-starmer> AS ?x) }")
    assert res.rows[0]["x"].value == "https://w3id.org/cowkg/id/keir-starmer"


def test_row_cap_truncates_and_flags(tiny):
    res = run_query(tiny, "SELECT ?s WHERE { ?s ?p ?o }", max_rows=10)
    assert len(res) == 10 and res.truncated
    assert not run_query(tiny, "SELECT ?s WHERE { ?s ?p ?o }", max_rows=100).truncated


def test_deadline_between_rows_raises_query_timeout(tiny):
    with pytest.raises(QueryTimeout) as info:
        run_query(tiny, "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }", timeout=1e-9)
    assert info.value.http_status == 503
    assert info.value.details == {"limit_seconds": 1e-9}


@pytest.mark.parametrize("accept, expected", [
    ("text/csv;q=0.5, text/tab-separated-values", "tsv"),
    ("application/*", "json"),
    ("text/*;q=0.9, application/sparql-results+xml;q=0.8", "csv"),
    ("*/*;q=0.1, application/sparql-results+xml", "xml"),
    ("application/json", "json"),
    ("", "json"),
    ("garbage, ;;;, text/csv;q=x", "json"),
])
def test_results_format_negotiation(accept, expected):
    assert choose("results", accept).name == expected


def test_format_parameter_accepts_names_and_media_types():
    assert choose("graph", "text/csv", ["xml"]).name == "rdfxml"
    assert choose("results", "", ["tsv", "text/tab-separated-values"]).name == "tsv"
    assert choose("graph", "", ["json-ld"]).name == "jsonld"
    with pytest.raises(NotAcceptable):
        choose("results", "", ["ttl"])
    with pytest.raises(NotAcceptable):
        choose("results", "image/png")


def test_accept_parsing_orders_by_quality_then_specificity():
    assert parse_accept("text/*;q=0.5, text/csv;q=0.5, */*;q=0.1") == [("text/csv", 0.5), ("text/*", 0.5),
                                                                       ("*/*", 0.1)]
    assert negotiate((), "text/html,application/json;q=0.9", ("application/json", "text/html")) == "text/html"
