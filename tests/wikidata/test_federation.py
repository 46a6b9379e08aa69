"""Federation: cowkg refuses SERVICE without calling out; the example query runs on an engine that federates."""

from __future__ import annotations

import http.server
import threading

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from cowkg.backends.embedded import run_query
from cowkg.cli import main
from cowkg.errors import UnsupportedOperation
from cowkg.querytext import parse_query, reaches

from .conftest import ROOT
from .replay import entity

QUERY = ROOT / "queries" / "federation-wikidata.rq"
WDQS = "https://query.wikidata.org/sparql"


@pytest.fixture()
def canary():
    """A local HTTP server that records every request: SERVICE must never reach it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(500)
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", hits
    server.shutdown()
    server.server_close()


def test_example_query_has_the_header_and_a_wikidata_service():
    lines = QUERY.read_text().splitlines()
    assert lines[0].startswith("# title: ") and lines[1].startswith("# description: ")
    assert lines[1].rstrip().endswith("?")
    assert f"SERVICE <{WDQS}>" in QUERY.read_text()


@pytest.mark.parametrize("sparql, expected", [
    ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", True),
    ("select * where { service silent <http://x/> { ?s ?p ?o } }", True),
    ("SELECT * WHERE { SERVICE?x{ ?s ?p ?o } }", True),
    ("SELECT ?service WHERE { ?service ?p 'SERVICE' } # SERVICE in a comment", False),
    ("SELECT * WHERE { <http://e/SERVICE> ?p ?o . ?s ex:SERVICE ?o }", False),
])
def test_service_detection(sparql, expected):
    assert reaches(parse_query(sparql), "service") is expected


def test_endpoint_refuses_service_without_calling_out(client, canary):
    url, hits = canary
    resp = client.get("/sparql", query_string={"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["error"] == "unsupported-operation" and "FEDERATION.md" in body["hint"]
    assert hits == []


def test_escaped_keyword_does_not_sneak_a_service_through(kg, canary):
    url, hits = canary
    with pytest.raises(Exception):  # noqa: B017  (a syntax error of some class: the point is no request)
        run_query(kg, f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}")
    assert hits == []


def test_cli_refuses_the_example_with_exit_2():
    res = CliRunner().invoke(main, ["query", "--file", str(QUERY)])
    assert res.exit_code == 2 and "SERVICE (federated query) is refused" in res.output


def test_run_query_raises_unsupported_operation(kg):
    with pytest.raises(UnsupportedOperation):
        run_query(kg, QUERY.read_text())


def test_example_runs_on_an_engine_that_federates(kg, replay):
    """Oxigraph itself (outside cowkg) with the SERVICE IRI pointed at the replay server: France,
    whose recorded entity says P463 European Union and P36 Paris, comes back with its capital."""
    replay.add_entity(entity("Q90", "Paris", "capital of France (stand-in: no Q90 sample exists)"))
    store = ox.Store()
    store.extend(kg.named_quads())
    sparql = QUERY.read_text().replace(WDQS, replay.url + "/sparql")
    rows = list(store.query(sparql, use_default_graph_as_union=True))
    got = {(r["label"].value, r["item"].value, r["capitalLabel"].value) for r in rows}
    assert ("France", "http://www.wikidata.org/entity/Q142", "Paris") in got
    assert any(s.path == "/sparql" for s in replay.seen)
