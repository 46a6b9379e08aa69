"""``cowkg virtuoso load --reason``: the inferred graph computed inside a real Virtuoso equals the
in-process closure (owlrl) on the project; a failure mid-way leaves the inferred graph as it was;
an unsupported construct and an unreachable server are clear errors."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import ROOT

from cowkg.cli import main
from cowkg.errors import BackendError, BackendUnavailable, UnsupportedConstruct
from cowkg.virtuoso import manage
from cowkg.virtuoso.manage import Instance, free_port
from cowkg.virtuoso.reason import STAGING, VirtuosoRunner, reason_in_virtuoso
from cowkg.vocab import ASSERTED_GRAPHS, GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY

pytestmark = pytest.mark.virtuoso
EXPECTED = "urn:cowkg:test:expected"


@pytest.fixture
def server(virtuoso_server):
    """The session's server; the graphs these tests leave are not the ones other modules expect."""
    yield virtuoso_server
    virtuoso_server.loaded = None


def load(server, graphs: dict) -> Instance:
    report = manage.load(server.instance, graphs)
    assert report.complete, report
    return server.instance


def differences(instance: Instance) -> tuple[list, list]:
    runner = VirtuosoRunner(instance)
    query = "SELECT ?s ?p ?o WHERE {{ GRAPH <{a}> {{ ?s ?p ?o }} FILTER NOT EXISTS {{ GRAPH <{b}> {{ ?s ?p ?o }} }} }}"
    return (runner.select(query.format(a=GRAPH_INFERRED, b=EXPECTED)),
            runner.select(query.format(a=EXPECTED, b=GRAPH_INFERRED)))


def test_the_closure_computed_in_virtuoso_is_the_in_process_one(server, kg):
    """Both sides go through Virtuoso's own literal forms (the owlrl closure is loaded beside the
    asserted graphs), so the comparison is exact."""
    graphs = {str(g): list(kg.sources.graphs.get(str(g), [])) for g in ASSERTED_GRAPHS}
    instance = load(server, {**graphs, str(GRAPH_INFERRED): [], EXPECTED: kg.inference.triples})
    done = reason_in_virtuoso(instance)
    only_virtuoso, only_owlrl = differences(instance)
    assert not only_virtuoso and not only_owlrl, f"virtuoso only: {only_virtuoso[:5]}\nowlrl only: {only_owlrl[:5]}"
    assert done.triples == len(set(kg.inference.triples)) and done.rounds >= 2
    assert manage.graph_counts(instance.endpoint, [STAGING])[STAGING] == 0  # the work graphs are gone


def test_a_round_too_large_for_one_statement_is_removed_in_parts(server, kg, monkeypatch):
    """At 10M triples a round's new triples are more than Virtuoso's vectored DELETE takes in one
    statement (FRVEC past 1M rows): with parts of 200 rows, the project's rounds take several
    statements each, and the closure is still the in-process one."""
    import cowkg.virtuoso.reason as reason

    statements = []
    run = reason.run_isql
    monkeypatch.setattr(reason, "CHUNK_ROWS", 200)
    monkeypatch.setattr(reason, "run_isql", lambda address, script, **kw: (statements.append(script), run(
        address, script, **kw))[1])
    graphs = {str(g): list(kg.sources.graphs.get(str(g), [])) for g in ASSERTED_GRAPHS}
    instance = load(server, {**graphs, str(GRAPH_INFERRED): [], EXPECTED: kg.inference.triples})
    done = reason.reason_in_virtuoso(instance)
    assert any(script.count("DELETE FROM DB.DBA.RDF_QUAD") >= 3 for script in statements)
    only_virtuoso, only_owlrl = differences(instance)
    assert not only_virtuoso and not only_owlrl, f"virtuoso only: {only_virtuoso[:5]}\nowlrl only: {only_owlrl[:5]}"
    assert done.triples == len(set(kg.inference.triples))


class FailingRunner(VirtuosoRunner):
    """A real runner whose second round sends Virtuoso an update it refuses."""

    rounds = 0

    def after_round(self, layout):
        self.rounds += 1
        if self.rounds == 2:
            self.update(["INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> } }"])  # not SPARQL: Virtuoso says so
        return super().after_round(layout)


def test_a_failure_mid_way_leaves_the_inferred_graph_as_it_was(server, kg):
    graphs = {str(g): list(kg.sources.graphs.get(str(g), [])) for g in ASSERTED_GRAPHS}
    before = [ox.Triple(ox.NamedNode("urn:cowkg:test:s"), ox.NamedNode("urn:cowkg:test:p"), ox.Literal("old"))]
    instance = load(server, {**graphs, str(GRAPH_INFERRED): before})
    with pytest.raises(BackendError):
        reason_in_virtuoso(instance, runner=FailingRunner(instance))
    counts = manage.graph_counts(instance.endpoint, [str(GRAPH_INFERRED), STAGING, "urn:cowkg:rules:delta"])
    assert counts == {str(GRAPH_INFERRED): 1, STAGING: 0, "urn:cowkg:rules:delta": 0}


def test_an_unsupported_construct_is_refused_before_anything_is_written(server):
    parse = lambda text: [q.triple for q in ox.parse(text, format=ox.RdfFormat.TURTLE)]  # noqa: E731
    owl = "@prefix owl: <http://www.w3.org/2002/07/owl#> . @prefix ex: <http://example.org/> . "
    instance = load(server, {str(GRAPH_ONTOLOGY): parse(owl + "ex:R owl:onProperty ex:p ; owl:someValuesFrom ex:C ."),
                             str(GRAPH_DATA): parse(owl + "ex:a ex:p ex:b ."), str(GRAPH_INFERRED): []})
    with pytest.raises(UnsupportedConstruct, match="someValuesFrom"):
        reason_in_virtuoso(instance)


def test_an_unreachable_virtuoso_is_a_clear_error_and_exit_4(tmp_path):
    closed = Instance(tmp_path, free_port(), free_port(), pid=None)
    with pytest.raises(BackendUnavailable) as err:
        reason_in_virtuoso(closed)
    assert err.value.exit_code == 4
    # A private instance recorded in --dir whose server is gone.
    (tmp_path / "stage").mkdir()
    (tmp_path / manage.STATE_FILE).write_text(json.dumps({"directory": str(tmp_path), "sql_port": free_port(),
                                                          "http_port": free_port(), "pid": 2 ** 22 + 7}))
    result = CliRunner().invoke(main, ["--root", str(ROOT), "virtuoso", "load", "--reason", "--dir", str(tmp_path)])
    assert result.exit_code == 4, result.output
    assert "not running" in result.output and "cowkg virtuoso up" in result.output


def test_cli_load_reason_fills_the_inferred_graph(server, kg):
    directory = server.instance.directory
    result = CliRunner().invoke(main, ["--root", str(ROOT), "virtuoso", "load", "--reason", "--dir", str(directory)])
    assert result.exit_code == 0, result.output
    assert f"reasoned in Virtuoso: {len(set(kg.inference.triples))} inferred triples" in result.output
