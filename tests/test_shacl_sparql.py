"""The ``sparql`` SHACL engine (cowkg.shacl_sparql run by pyoxigraph) gives exactly pySHACL's
results: on the shipped graph, every fixture, a 10k synthetic graph and a shapes graph that uses
every SHACL Core construct the compiler translates; shapes it cannot translate are refused by name,
and a store that fails gives no verdict."""

from __future__ import annotations

import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import SH

from cowkg import shacl_sparql
from cowkg.cli import main
from cowkg.errors import BackendError
from cowkg.load import default_layout, load_files, load_project, to_rdflib
from cowkg.qc import load_qc
from cowkg.shacl_sparql import UnsupportedShape, compile_shapes
from cowkg.validate import (
    asserted_store,
    build_report,
    check_project,
    load_shapes,
    result_set,
    run_shacl,
    run_shacl_store,
    validate,
)
from cowkg.vocab import ASSERTED_GRAPHS, GRAPH_DATA, GRAPH_ONTOLOGY

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "good").glob("*.ttl")) + \
    sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ttl"))
CORE = ROOT / "tests" / "fixtures" / "shacl"
QC = load_qc(ROOT / "queries")


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


def same_as_pyshacl(sources, shapes) -> tuple:
    """Run pySHACL on the asserted graphs as rdflib and the compiled queries on a pyoxigraph store
    of the same triples; assert the same verdict, result set and cowkg report; return both runs."""
    data = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS))
    reference = run_shacl(data, shapes, "pyshacl")
    store = asserted_store(sources)
    ours = run_shacl_store(store, shapes)
    assert ours.engine == "sparql"
    assert ours.conforms == reference.conforms
    assert result_set(ours.results) == result_set(reference.results)
    mine = build_report(ours, sources, shapes, None, QC, store)
    theirs = build_report(reference, sources, shapes, data, QC)
    assert [v.as_dict() for v in mine.violations] == [v.as_dict() for v in theirs.violations]
    assert mine.conforms == theirs.conforms
    return ours, reference, mine


@pytest.mark.parametrize("fixture", [None, *FIXTURES],
                         ids=["shipped", *(f"{p.parent.name}/{p.stem}" for p in FIXTURES)])
def test_sparql_gives_exactly_pyshacls_results(shapes, fixture):
    """Focus node, path, value, source shape (anonymous ones compared by content), constraint
    component, severity and messages of every result, and the cowkg report with file:line."""
    sources = load_project(ROOT, data=[fixture] if fixture else None)
    _, _, report = same_as_pyshacl(sources, shapes)
    if fixture is not None and fixture.parent.name == "broken":
        assert not report.conforms, "a broken fixture that conforms compares nothing"


def test_the_project_triples_survive_the_store_unchanged(shapes):
    """The equality above is about the same data: the store keeps numbers in canonical form
    (pyoxigraph writes 34.0 as 34), so a value the store rewrote would be reported otherwise than
    pySHACL reports it. None of the project's literals that break a shape is such a value."""
    sources = load_project(ROOT)
    store = asserted_store(sources)
    rewritten = set(sources.triples(str(g) for g in ASSERTED_GRAPHS)) - {q.triple for q in store}
    assert all(t.object.datatype.value.endswith("#decimal") for t in rewritten)  # 34.0 -> 34
    assert len({str(t.subject) for t in rewritten}) == len(rewritten)


def test_every_translated_construct_against_pyshacl():
    """tests/fixtures/shacl: every constraint component, target kind and path kind the compiler
    knows, nested shapes (sh:node with pySHACL's sh:detail, sh:or, sh:and, sh:xone, sh:not,
    qualified counts with disjoint siblings), severities; each breaks somewhere in the data."""
    shapes = rdflib.Graph().parse(CORE / "core-shapes.ttl")
    sources = load_files([(CORE / "core-data.ttl", str(GRAPH_DATA))])
    ours, _, _ = same_as_pyshacl(sources, shapes)
    components = Counter(str(o) for o in ours.results.objects(None, SH.sourceConstraintComponent))
    assert set(components) == {str(c) for c in shacl_sparql._COMPONENTS.values()} | \
        {str(SH.QualifiedMaxCountConstraintComponent)}
    severities = {str(o).rsplit("#")[-1] for o in ours.results.objects(None, SH.resultSeverity)}
    assert severities == {"Violation", "Warning", "Info"}
    assert len(list(ours.results.objects(None, SH.detail))) >= 1


def test_a_10k_synthetic_graph_against_pyshacl(shapes):
    sys.path.insert(0, str(ROOT / "bench"))
    from generate import write

    path, _ = write(10_000, 1, ROOT / ".cache" / "bench")
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    ours, _, _ = same_as_pyshacl(load_files(layout), shapes)
    assert len(result_set(ours.results)) > 10, "a synthetic graph without results compares little"


UNSUPPORTED = {
    "closed": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:closed true ; sh:message 'm' .",
               r"sh:closed on <http://example.org/S>"),
    "sparql-constraint": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message 'm' ; "
                          "sh:sparql [ sh:select 'SELECT $this WHERE { }' ] .",
                          r"sh:sparql on <http://example.org/S>"),
    "no-message": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .",
                   r"an anonymous shape on ex:p in <http://example.org/S> has no sh:message"),
    "recursive": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message 'm' ; "
                  "sh:property [ sh:path ex:p ; sh:node ex:S ; sh:message 'm' ] .",
                  r"<http://example.org/S> refers to itself"),
    "custom-target": ("ex:S a sh:NodeShape ; sh:target [ a ex:MyTarget ] ; sh:message 'm' ; sh:nodeKind sh:IRI .",
                      r"the target of <http://example.org/S> \(ex:MyTarget\)"),
    "unknown-parameter": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message 'm' ; sh:minCont 1 .",
                          r"sh:minCont on <http://example.org/S> is not translated"),
    "bad-path": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:property [ sh:path [ ex:p ex:q ] ; "
                 "sh:minCount 1 ; sh:message 'm' ] .", r"the sh:path of an anonymous shape in <http://example.org/S>"),
    "bad-node-kind": ("ex:S a sh:NodeShape ; sh:targetClass ex:C ; sh:message 'm' ; sh:nodeKind ex:Thing .",
                      r"sh:nodeKind ex:Thing of <http://example.org/S>"),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_a_construct_the_compiler_does_not_translate_is_refused_by_name(case):
    """Never a silently shorter report: the error names the construct and the shape."""
    body, message = UNSUPPORTED[case]
    shapes = rdflib.Graph().parse(data="@prefix sh: <http://www.w3.org/ns/shacl#> . "
                                       f"@prefix ex: <http://example.org/> . {body}", format="turtle")
    with pytest.raises(UnsupportedShape, match=message) as info:
        compile_shapes(shapes)
    assert info.value.exit_code == 2


def test_cli_validate_with_untranslatable_shapes_exits_2_without_traceback(tmp_path):
    for name in ("ontology", "data", "queries", "shapes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    with open(tmp_path / "shapes" / "cowkg-shapes.ttl", "a", encoding="utf-8") as fh:
        fh.write("\ncowsh:ClosedShape a sh:NodeShape ; sh:targetClass cow:Person ; sh:closed true .\n")
    res = CliRunner().invoke(main, ["--root", str(tmp_path), "validate", "--shacl-engine", "sparql"])
    assert res.exit_code == 2, res.output
    assert "sh:closed on <https://w3id.org/cowkg/shapes#ClosedShape>" in res.output
    assert "Traceback" not in res.output


def test_a_store_that_fails_mid_run_gives_no_verdict(shapes, monkeypatch):
    """The third query fails: a BackendError (exit 4) that says where, not a shorter report."""
    sources = load_project(ROOT, data=[ROOT / "tests/fixtures/broken/person-without-label.ttl"])
    real = shacl_sparql.store_select
    calls = []

    def failing(store, default_graph=None):
        select = real(store, default_graph)

        def run(sparql):
            calls.append(sparql)
            if len(calls) == 3:
                raise OSError("disk gone")
            return select(sparql)
        return run

    monkeypatch.setattr(shacl_sparql, "store_select", failing)
    with pytest.raises(BackendError, match=r"the store failed at SHACL query 2 of \d+ .*OSError: disk gone") as info:
        validate(sources, shapes, QC, "sparql")
    assert info.value.exit_code == 4


def test_validate_reads_the_given_store_instead_of_a_copy(shapes, monkeypatch):
    """``serve`` hands in the store it built (default graph = the asserted graphs): no second one."""
    sources = load_project(ROOT, data=[ROOT / "tests/fixtures/broken/person-without-label.ttl"])
    store = asserted_store(sources)
    monkeypatch.setattr("cowkg.validate.asserted_store", lambda _s: pytest.fail("built a second store"))
    report = validate(sources, shapes, QC, "sparql", store)
    assert report.engine == "sparql" and report.counts == {"Violation": 2}


def test_the_sparql_verdict_is_cached_like_the_others(tmp_path, monkeypatch):
    sources = load_project(ROOT)
    runs = []
    real = run_shacl_store

    def counting(store, shapes, default_graph=None):
        runs.append(1)
        return real(store, shapes, default_graph)

    monkeypatch.setattr("cowkg.validate.run_shacl_store", counting)
    for _ in range(2):
        assert check_project(sources, ROOT / "shapes", tmp_path, ROOT, ROOT / "queries", engine="sparql").conforms
    assert len(runs) == 1


def test_cli_validate_with_the_sparql_engine():
    res = CliRunner().invoke(main, ["validate", "--shacl-engine", "sparql", "--format", "json", "--data",
                                    "tests/fixtures/broken/geo-latitude-not-decimal.ttl"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert out["engine"] == "sparql" and out["counts"] == {"Violation": 3}


def test_a_run_on_named_graphs_reads_only_those(shapes):
    """The store of ``serve`` also holds the inferred graph; validation reads the graphs it is given."""
    sources = load_project(ROOT, data=[ROOT / "tests/fixtures/broken/person-without-label.ttl"])
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g))
                 for g in (str(x) for x in ASSERTED_GRAPHS) for t in sources.graphs.get(g, []))
    run = run_shacl_store(store, shapes, [ox.NamedNode(str(g)) for g in ASSERTED_GRAPHS])
    assert len(result_set(run.results)) == 2
    assert len(result_set(run_shacl_store(store, shapes).results)) == 0  # the empty default graph
