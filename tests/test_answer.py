"""Answers (cowkg.answer) and what the endpoint's speed rests on: JSON rows counted without
parsing, a response cache keyed on the query as the engine reads it, and the benchmark's
"unique" requests answered exactly as the plain queries."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cowkg.answer import QuerySpec, evaluate
from cowkg.backends.embedded import EmbeddedBackend, json_rows
from cowkg.querytext import parse_query
from cowkg.vocab import sparql_prologue

ROOT = Path(__file__).resolve().parent.parent
COMPETENCY = sorted(ROOT.glob("queries/q*.rq"))
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def backend(kg):
    return EmbeddedBackend(kg)


def test_there_are_competency_queries() -> None:
    assert len(COMPETENCY) >= 25


@pytest.mark.parametrize("path", COMPETENCY, ids=lambda p: p.stem)
def test_rows_counted_without_parsing_equal_the_parsed_count(backend, path) -> None:
    answer = evaluate(backend, QuerySpec(query=sparql_prologue() + path.read_text(), accept=JSON))
    if answer.kind == "solutions" and answer.content_type.startswith(JSON):
        assert answer.rows == json_rows(answer.body) == len(json.loads(answer.body)["results"]["bindings"])


@pytest.mark.parametrize("path", COMPETENCY, ids=lambda p: p.stem)
def test_a_trailing_values_nonce_changes_no_answer(backend, path) -> None:
    """bench/http_throughput.py makes requests unique this way; it must not change the work's answer."""
    text = sparql_prologue() + path.read_text()
    plain = evaluate(backend, QuerySpec(query=text, accept=JSON))
    nonced = evaluate(backend, QuerySpec(query=text + "\nVALUES ?cowkg_nonce { 123456 }", accept=JSON))
    assert nonced.body == plain.body


#: Text that looks like the JSON around it: braces, quotes, escapes, the words the counter keys on.
_TRICKY = st.lists(st.sampled_from(['{', '}', '"', ',', ':', '[', ']', '\\', '{"', '{}', ',{"', '{"type":', 'triple',
                                    '"triple"', 'a', ' ', '\n', 'é']), max_size=8).map("".join)
_CELL = st.one_of(st.none(), _TRICKY.map(ox.Literal), _TRICKY.map(lambda t: ox.Literal(t, language="en")),
                  st.integers(-5, 5).map(ox.Literal), st.sampled_from([ox.NamedNode("http://e/%7Bx%7D"),
                                                                       ox.NamedNode("http://e/a")]))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_CELL, _CELL), max_size=8))
def test_rows_counted_without_parsing_on_any_result_pyoxigraph_writes(rows) -> None:
    """Literals holding what the counter looks for (``{"``, ``{}``, ``"triple"``, escapes), unbound
    cells and rows with no binding at all: the count is always the parsed one."""
    cells = " ".join("(" + " ".join("UNDEF" if c is None else str(c) for c in row) + ")" for row in rows)
    body = ox.Store().query(f"SELECT ?a ?b WHERE {{ VALUES (?a ?b) {{ {cells} }} }}").serialize(
        format=ox.QueryResultsFormat.JSON)
    assert json_rows(body) == len(json.loads(body)["results"]["bindings"]) == len(rows)


@pytest.mark.parametrize(("a", "b", "same"), [
    ("ASK { ?s ?p 1 }", "ASK {\n  ?s  ?p 1 # one\n}", True),
    ("ASK { ?s ?p 'a b' }", "ASK { ?s ?p 'a  b' }", False),  # inside a string layout counts
    ("ASK { ?s ?p 1 }", "ASK { ?s ?p 2 }", False),
    ("ASK { ?s ?p ex:a\\#b }", "ASK { ?s ?p ex:a\\#c }", False),  # an escape: the exact text
    ("ASK { FILTER(?a<?b+'>') } # x", "ASK { FILTER(?a<?b+'>') }", False),  # a quote in an IRI-like run
])
def test_the_cache_key_ignores_layout_and_comments_only_where_safe(a, b, same) -> None:
    key_a = QuerySpec(query=a, parsed=parse_query(a)).cache_key()
    key_b = QuerySpec(query=b, parsed=parse_query(b)).cache_key()
    assert (key_a == key_b) is same


def test_a_parse_travels_small_and_keeps_its_decisions() -> None:
    text = sparql_prologue() + (ROOT / "queries/q06-states-three-plus-meetings.rq").read_text()
    parsed = parse_query(text)
    decided = (parsed.form, parsed.select_star, parsed.dataset, parsed.engine_text, parsed.wikidata_vocabulary)
    data = pickle.dumps(parsed)
    assert len(data) < 3 * len(text.encode())  # the text (and the rewritten text), not the tokens
    copy = pickle.loads(data)
    assert (copy.form, copy.select_star, copy.dataset, copy.engine_text, copy.wikidata_vocabulary) == decided
    assert [tuple(t) for t in copy.code] == [tuple(t) for t in parsed.code]  # read again on demand
