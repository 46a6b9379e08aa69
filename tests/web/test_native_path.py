"""The endpoint answers the same with the native scanner's plain decisions as without them.

Two apps on the shipped graph, each with its own response cache: one reads queries with the native
scanner (``cowkg.native``, the ``native`` setting empty: the checkout's build), one in Python only
(``native=off``). Every competency query as clients send it (with the project's PREFIX lines), and
the protocol requests of test_direct_path (errors and refusals included), must get the same status,
body and headers from both.
"""

from __future__ import annotations

import pytest
from conftest import ROOT

from cowkg import native
from cowkg.querytext import parse_plain
from cowkg.vocab import sparql_prologue
from cowkg.web.catalog import load_examples

from .conftest import make_app
from .test_direct_path import REQUESTS, comparable

EXTRA = [
    ("GET", {"query": "SELECT ?m (GROUP_CONCAT(?n; SEPARATOR=', ') AS ?names) WHERE { ?m a cow:Meeting ; "
                      "rdfs:label ?n } GROUP BY ?m LIMIT 3"}, {}, None),
    ("GET", {"query": "SELECT ?s WHERE { ?s rdfs:label 'Coalition des volontaires'@fr }"}, {}, None),  # not ASCII
    ("GET", {"query": "SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 # a comment"}, {}, None),
    ("GET", {"query": "ASK {" * 101 + "}" * 101}, {}, None),
]


@pytest.fixture(scope="module")
def apps(kg, native_querytext):
    on, off = make_app(kg, native=""), make_app(kg, native="off")
    yield on.test_client(), off.test_client()
    native.configure("")


def answer(client, setting: str, method, params, headers, body):
    native.configure(setting)
    return client.open("/sparql", method=method, query_string=params, headers={"Accept": "*/*", **headers},
                       data=body)


def competency_requests():
    return [("GET", {"query": sparql_prologue() + ex.query}, {"Accept": "application/sparql-results+json"}, None)
            for ex in load_examples(ROOT / "queries")]


@pytest.mark.parametrize(("method", "params", "headers", "body"), REQUESTS + EXTRA + competency_requests())
def test_the_same_answer_with_and_without_the_native_scanner(apps, method, params, headers, body) -> None:
    with_native, python_only = apps
    a = answer(with_native, "", method, params, headers, body)
    b = answer(python_only, "off", method, params, headers, body)
    assert (a.status_code, a.data) == (b.status_code, b.data)
    assert comparable(a.headers) == comparable(b.headers)


def test_the_native_path_is_taken_for_most_competency_queries(native_querytext) -> None:
    native.configure("")
    plain = [r for r in competency_requests() if parse_plain(r[1]["query"]) is not None]
    assert len(plain) >= 0.75 * len(competency_requests())


def test_a_missing_library_is_reported_and_python_reads(tmp_path, caplog) -> None:
    try:
        native.configure(str(tmp_path / "libcowkg_querytext.so"))
        assert parse_plain("ASK { ?s ?p ?o }") is None
        assert "no such file" in caplog.text
        (tmp_path / "broken.so").write_bytes(b"not a library")
        native.configure(str(tmp_path / "broken.so"))
        assert parse_plain("ASK { ?s ?p ?o }") is None
        assert "does not load" in caplog.text
    finally:
        native.configure("")


def test_a_library_of_another_interface_version_is_not_called(monkeypatch, caplog, native_querytext) -> None:
    """A checkout updated without rebuilding keeps an old library: it is set aside, not misread."""
    try:
        monkeypatch.setattr(native, "ABI_VERSION", native.ABI_VERSION + 1)
        native.configure("")
        assert parse_plain("ASK { ?s ?p ?o }") is None
        assert "built from another version" in caplog.text
        monkeypatch.undo()
        native.configure("")
        assert parse_plain("ASK { ?s ?p ?o }") is not None
    finally:
        native.configure("")
