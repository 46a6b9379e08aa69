"""RemoteSparqlBackend without a server: query rewriting, refusals, result reading, error mapping."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests

from cowkg.backends.virtuoso import (
    EMPTY_GRAPH,
    RemoteSparqlBackend,
    add_default_separators,
    ask_value,
    refuse_extensions,
    split_dataset,
    translate_error,
)
from cowkg.errors import (
    BackendError,
    BackendUnavailable,
    InputError,
    QuerySyntaxError,
    QueryTimeout,
    UnsupportedOperation,
)
from cowkg.vocab import ALL_GRAPHS, ASSERTED_GRAPHS, GRAPH_DATA, GRAPH_INFERRED

BACKEND = RemoteSparqlBackend("http://127.0.0.1:9/sparql", connect_timeout=0.5)


def test_from_clauses_are_blanked_keeping_positions():
    q = "PREFIX ex: <http://e/>\nSELECT * FROM ex:g1 FROM NAMED <http://e/g2>\nWHERE { ?s ?p ?o } # FROM <x>"
    text, default, named = split_dataset(q)
    assert default == ["http://e/g1"] and named == ["http://e/g2"]
    assert "FROM" not in text.split("#")[0] and len(text) == len(q)
    assert text.splitlines()[2] == q.splitlines()[2]


def test_strings_and_variables_named_from_are_not_dataset_clauses():
    q = 'SELECT ?from WHERE { ?s ?p "FROM <http://x/>" ; cow:from ?from }'
    assert split_dataset(q) == (q, [], [])


@pytest.mark.parametrize("kwargs, default, named", [
    ({}, tuple(str(g) for g in ASSERTED_GRAPHS), tuple(str(g) for g in ALL_GRAPHS)),
    ({"infer": True}, tuple(str(g) for g in (*ASSERTED_GRAPHS, GRAPH_INFERRED)), tuple(str(g) for g in ALL_GRAPHS)),
    ({"default_graph_uris": [str(GRAPH_DATA)]}, (str(GRAPH_DATA),), ()),
    ({"named_graph_uris": [str(GRAPH_DATA)]}, (), (str(GRAPH_DATA),)),
])
def test_the_dataset_is_always_explicit(kwargs, default, named):
    infer = kwargs.pop("infer", False)
    _, dataset = BACKEND.dataset("SELECT * { ?s ?p ?o }", infer, kwargs.get("default_graph_uris"),
                                 kwargs.get("named_graph_uris"))
    assert (dataset.default, dataset.named) == (default, named)
    params = dataset.parameters()
    assert ("default-graph-uri", EMPTY_GRAPH) in params if not default else True
    assert ("named-graph-uri", EMPTY_GRAPH) in params if not named else True


def test_query_from_clauses_become_the_dataset():
    text, dataset = BACKEND.dataset("SELECT * FROM cowg:data { ?s ?p ?o }", False, None, None)
    assert dataset.default == (str(GRAPH_DATA),) and dataset.named == ()
    assert "cowg:data" not in text


def test_project_prefixes_are_added_on_the_first_line():
    form, text, _ = BACKEND.prepare("PREFIX cow: <http://other/>\nASK { cowr:x cow:p ?o }")
    assert form == "boolean"
    first = text.splitlines()[0]
    assert "PREFIX cowr: <https://w3id.org/cowkg/id/>" in first and "<https://w3id.org/cowkg/ontology#>" not in first
    assert len(text.splitlines()) == 2


@pytest.mark.parametrize("query", [
    "PREFIX b: <bif:> SELECT (b:sys_stat('x') AS ?v) {}",
    "SELECT (<sql:ld_dir>('/', '*', 'g') AS ?v) {}",
    "PREFIX x: <b> SELECT (x:if:exec('x') AS ?v) {}",
    "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
])
def test_virtuoso_extensions_and_service_are_refused(query):
    with pytest.raises(UnsupportedOperation):
        refuse_extensions(query)


def test_syntax_errors_and_updates_are_found_before_sending():
    with pytest.raises(QuerySyntaxError) as info:
        BACKEND.prepare("SELECT * WHERE {\n  ?s ?p \n}")
    assert info.value.location.line == 3
    with pytest.raises(UnsupportedOperation):
        BACKEND.prepare("INSERT DATA { <a:b> <a:c> <a:d> }")


def test_unreachable_endpoint_is_backend_unavailable():
    with pytest.raises(BackendUnavailable):
        BACKEND.query("ASK {}", timeout=1)


def test_endpoint_must_be_an_http_url():
    with pytest.raises(InputError):
        RemoteSparqlBackend("")


def response(status: int, body, headers: dict | None = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r.headers.update(headers or {})
    return r


SELECT_BODY = b"""<?xml version="1.0"?>
<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="s"/><variable name="n"/></head>
<results distinct="false" ordered="true">
 <result><binding name="s"><uri>http://e/a</uri></binding>
  <binding name="n"><literal datatype="http://www.w3.org/2001/XMLSchema#integer">1</literal></binding></result>
 <result><binding name="s"><bnode>nodeID://b10005</bnode></binding></result>
 <result><binding name="n"><literal xml:lang="en">x</literal></binding></result>
</results></sparql>"""


def test_xml_rows_are_pyoxigraph_solutions():
    res = BACKEND._result(response(200, SELECT_BODY), "solutions", None, None)
    assert res.variables == ["s", "n"] and len(res) == 3 and not res.truncated
    first = res.rows[0]
    assert isinstance(first, ox.QuerySolution)
    assert first["s"] == ox.NamedNode("http://e/a") == first[0] == first[ox.Variable("s")]
    assert first["n"] == ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert res.rows[1]["s"] == ox.BlankNode("b10005") and res.rows[1]["n"] is None  # Virtuoso's nodeID:// label
    assert res.records()[2] == {"s": None, "n": ox.Literal("x", language="en")}


def test_row_cap_and_server_cap_flag_truncation():
    assert BACKEND._result(response(200, SELECT_BODY), "solutions", 2, None).truncated
    capped = BACKEND._result(response(200, SELECT_BODY, {"X-SPARQL-MaxRows": "3"}), "solutions", None, None)
    assert capped.truncated and len(capped) == 3


def test_partial_results_after_the_time_limit_are_a_timeout_not_an_answer():
    with pytest.raises(QueryTimeout) as info:
        BACKEND._result(response(200, SELECT_BODY, {"X-SQL-State": "S1TAT"}), "solutions", None, 1.5)
    assert info.value.http_status == 503 and info.value.details["limit_seconds"] == 1.5


def ask_xml(rows: str) -> bytes:
    return (b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head><variable name="__ASK_RETVAL"/></head>'
            b"<results>" + rows.encode() + b"</results></sparql>")


def test_ask_answers_in_both_shapes():
    standard = b'<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/><boolean>true</boolean></sparql>'
    assert BACKEND._result(response(200, standard), "boolean", None, None).boolean is True
    one = '<result><binding name="__ASK_RETVAL"><literal datatype="http://www.w3.org/2001/XMLSchema#integer">1' \
          '</literal></binding></result>'
    assert BACKEND._result(response(200, ask_xml(one)), "boolean", None, None).boolean is True
    assert BACKEND._result(response(200, ask_xml("")), "boolean", None, None).boolean is False
    assert ask_value(True) is True


def test_unreadable_results_are_a_backend_error():
    with pytest.raises(BackendError):
        BACKEND._result(response(200, b"<html>proxy error</html>"), "solutions", None, None)


def test_group_concat_gets_the_default_separator_written_out():
    q = 'SELECT (GROUP_CONCAT(DISTINCT STR(?x)) AS ?y) (GROUP_CONCAT(?z; SEPARATOR=";") AS ?w) {}'
    assert add_default_separators(q) == \
        'SELECT (GROUP_CONCAT(DISTINCT STR(?x); SEPARATOR=" ") AS ?y) (GROUP_CONCAT(?z; SEPARATOR=";") AS ?w) {}'


def test_graph_results_are_parsed_and_capped():
    body = b"<http://e/a> <http://e/p> <http://e/b> .\n<http://e/a> <http://e/p> \"x\"@en .\n"
    res = BACKEND._result(response(200, body), "graph", 1, None)
    assert res.kind == "graph" and len(res.triples) == 1 and res.truncated


@pytest.mark.parametrize("status, text, error, kind", [
    (400, "Virtuoso 37000 Error SP030: SPARQL compiler, line 3: syntax error at '}' before '}'",
     QuerySyntaxError, "query-syntax-error"),
    (500, "Virtuoso S1T00 Error SR171: Transaction timed out", QueryTimeout, "query-timeout"),
    (500, "Virtuoso 42000 Error The estimated execution time 5483 (sec) exceeds the limit of 400 (sec).",
     QueryTimeout, "query-timeout"),
    (500, "Virtuoso 42000 Error SR158:SECURITY: Permission denied.", UnsupportedOperation, "unsupported-operation"),
    (500, "Virtuoso 37000 Error TR...: transitive start not given", BackendError, "backend-error"),
    (500, "Virtuoso 37000 Error SP031: SPARQL compiler: Internal error: sparp_gp_deprecate()", BackendError,
     "backend-error"),
    (503, "", BackendError, "backend-error"),
])
def test_virtuoso_errors_map_to_the_error_classes(status, text, error, kind):
    exc = translate_error(status, text, 10)
    assert type(exc) is error and exc.kind == kind
    if error is QuerySyntaxError:
        assert exc.location.line == 3 and exc.http_status == 400
