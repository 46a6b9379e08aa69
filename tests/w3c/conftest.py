"""The W3C SPARQL 1.1 test suites (read from ../shared at test time, never copied) against a live server.

One production server (gunicorn, ``tests/web/fixture_data.py``) holds the suites' data: the
protocol tests' graphs under the IRIs their manifest names (``ut:graphData`` labels), and each
result-format suite's data file as a named graph under its file IRI, selected per test with
``default-graph-uri`` (so the protocol's dataset rules are exercised too).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SHARED, require
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from web.conftest import fixture_server

SUITES = SHARED / "w3c" / "rdf-tests" / "sparql" / "sparql11"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
QT = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-query#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")


def load_manifest(suite: str) -> tuple[Graph, list[URIRef]]:
    """The manifest graph of ``suite`` and its entries in manifest order (empty when absent)."""
    path = SUITES / suite / "manifest.ttl"
    if not path.is_file():
        return Graph(), []
    g = Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = next(g.subjects(MF.entries, None))
    return g, list(Collection(g, g.value(manifest, MF.entries)))


def data_graphs() -> list[tuple[str, Path]]:
    """(graph IRI, file) for every data file the suites use."""
    out = []
    g, entries = load_manifest("protocol")
    for test in entries:
        for gd in g.objects(test, UT.graphData):
            out.append((str(g.value(gd, URIRefLabel)), Path(str(g.value(gd, UT.graph)).removeprefix("file://"))))
    for suite in ("json-res", "csv-tsv-res"):
        for path in sorted((SUITES / suite).glob("*.ttl")):
            if path.name != "manifest.ttl":
                out.append((path.as_uri(), path))
    return sorted(set(out))


URIRefLabel = URIRef("http://www.w3.org/2000/01/rdf-schema#label")


@pytest.fixture(scope="session")
def w3c_server(tmp_path_factory):
    """Base URL of a server holding the W3C suites' data."""
    require(SUITES.is_dir(), f"{SUITES} is missing")
    args = [a for name, path in data_graphs() for a in ("--graph", f"{name}={path}")]
    with fixture_server(tmp_path_factory.mktemp("w3c"), *args) as (base, _proc):
        yield base
