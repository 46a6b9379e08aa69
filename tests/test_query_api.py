"""Query: dataset choice, prefixes, syntax errors with positions, UPDATE refused, row cap."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowkg.backends.embedded import run_query
from cowkg.errors import QuerySyntaxError, UnsupportedOperation
from cowkg.media import by_name
from cowkg.querytext import parse_query


def test_project_prefixes_are_predeclared(kg):
    assert run_query(kg, "ASK { cowr:source-wikipedia-article a cow:Source }").boolean is True


def test_inferred_graph_is_queryable_by_name(kg):
    res = run_query(kg, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH cowg:inferred { ?s ?p ?o } }")
    assert int(res.rows[0]["n"].value) == len(kg.inference.triples)


def test_syntax_error_reports_line_and_column(kg):
    with pytest.raises(QuerySyntaxError) as info:
        run_query(kg, "SELECT ?s WHERE {\n  ?s ?p \n}")
    assert info.value.location.line == 3
    assert info.value.http_status == 400


def test_undeclared_prefix_is_named(kg):
    with pytest.raises(QuerySyntaxError) as info:
        run_query(kg, "SELECT ?s WHERE { ?s ex:p ?o }")
    assert info.value.message == "SPARQL syntax error: prefix ex: is not declared"
    assert (info.value.location.line, info.value.location.column) == (1, 22)
    assert "PREFIX" in info.value.hint
    assert parse_query("PREFIX ex: <http://e/> SELECT * { ?s ex:p foo:o }").undeclared_prefixes() == ["foo"]


def test_update_is_refused(kg):
    assert parse_query("PREFIX ex: <http://e/>\nINSERT DATA { ex:a ex:b ex:c }").form == "UPDATE"
    with pytest.raises(UnsupportedOperation):
        run_query(kg, "INSERT DATA { <http://e/a> <http://e/b> <http://e/c> }")


def test_row_cap_truncates_and_says_so(kg):
    res = run_query(kg, "SELECT ?s WHERE { ?s ?p ?o }", max_rows=5)
    assert len(res) == 5 and res.truncated


def test_serialisations_of_a_select(kg):
    res = run_query(kg, 'SELECT ?x ?l WHERE { VALUES (?x ?l) { (cowr:a "b"@en) } }')
    assert b'"xml:lang": "en"' in res.serialize(by_name("json"))
    assert res.serialize(by_name("csv")).decode() == "x,l\r\nhttps://w3id.org/cowkg/id/a,b\r\n"
    assert res.serialize(by_name("tsv")).decode() == '?x\t?l\n<https://w3id.org/cowkg/id/a>\t"b"@en\n'


# --------------------------------------------------------------------------------------------
# SELECT results written by the engine itself (the web layer's fast path)
# --------------------------------------------------------------------------------------------

COMPETENCY = sorted((Path(__file__).parent.parent / "queries").glob("q*.rq"))


@pytest.mark.parametrize("path", COMPETENCY, ids=[p.stem for p in COMPETENCY])
@pytest.mark.parametrize("infer", [False, True], ids=["asserted", "inferred"])
def test_engine_written_select_has_the_same_bindings_as_the_general_path(kg, path, infer):
    import json

    from cowkg.backends.embedded import run_select_serialized

    sparql = path.read_text(encoding="utf-8")
    fmt = by_name("json", ("results",))
    fast = run_select_serialized(kg, sparql, fmt, infer=infer, max_rows=10_000)
    slow = json.loads(run_query(kg, sparql, infer=infer, max_rows=10_000).serialize(fmt))
    parsed = parse_query(sparql)
    if parsed.form != "SELECT" or parsed.select_star:
        assert fast is None
        return
    got = json.loads(fast.body)
    assert got["head"] == slow["head"]
    assert got["results"]["bindings"] == slow["results"]["bindings"]  # same rows, same order
    assert fast.rows == len(slow["results"]["bindings"])
    xml = run_select_serialized(kg, sparql, by_name("xml", ("results",)), infer=infer)
    assert xml.rows == fast.rows


@pytest.mark.parametrize("sparql, kwargs", [
    ("SELECT * WHERE { ?s a cow:State }", {}),                           # SELECT *: column order by appearance
    ("ASK { ?s a cow:State }", {}),
    ("CONSTRUCT { ?s a cow:State } WHERE { ?s a cow:State }", {}),
    ("SELECT ?s WHERE { ?s a cow:State ", {}),                           # syntax error: run_query reports it
    ("SELECT ?s WHERE { ?s a cow:State }", {"max_rows": 3}),             # over the row cap: run_query cuts it
    ("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"byte_budget": 10_000}),     # over the byte budget
])
def test_engine_written_select_declines_what_the_general_path_must_answer(kg, sparql, kwargs):
    from cowkg.backends.embedded import run_select_serialized

    assert run_select_serialized(kg, sparql, by_name("json", ("results",)), **kwargs) is None


def test_engine_written_select_refuses_service_itself(kg):
    """The fast path checks the parse too: it never hands a SERVICE to the engine."""
    from cowkg.backends.embedded import run_select_serialized

    with pytest.raises(UnsupportedOperation):
        run_select_serialized(kg, "SELECT ?s WHERE { SERVICE <http://e/> { ?s ?p ?o } }", by_name("json", ("results",)))


def test_engine_written_select_only_for_json_and_xml(kg):
    from cowkg.backends.embedded import run_select_serialized

    for name in ("csv", "tsv"):
        assert run_select_serialized(kg, "SELECT ?s WHERE { ?s a cow:State }", by_name(name, ("results",))) is None
