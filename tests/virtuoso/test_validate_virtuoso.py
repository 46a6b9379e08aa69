"""SHACL inside a real Virtuoso (cowkg.virtuoso.validate, ``cowkg virtuoso load --validate``): the
same verdict, result set and report as pySHACL on the project and on broken fixtures, and clear
errors (exit 4, no traceback) when Virtuoso cannot be reached or dies during the run."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner
from conftest import ROOT, TEST_BUFFERS, require

from cowkg.cli import main
from cowkg.errors import BackendUnavailable
from cowkg.load import load_project, to_rdflib
from cowkg.qc import load_qc
from cowkg.validate import build_report, load_shapes, result_set, run_shacl
from cowkg.virtuoso import manage
from cowkg.virtuoso.validate import shacl_endpoint, validate_endpoint
from cowkg.vocab import ASSERTED_GRAPHS

pytestmark = pytest.mark.virtuoso

QC = load_qc(ROOT / "queries")
#: Broken fixtures that, between them, break every kind of constraint the shapes hold (each
#: component, SPARQL-based targets, shared and anonymous property shapes, sh:or, qualified counts,
#: property pairs) and the QC queries. (Every broken fixture was compared while building this;
#: these keep the suite short.)
FIXTURES = ["agent-without-name", "attendance-bad-level", "attendance-nobody", "citation-bad-marker",
            "claim-without-speaker", "count-two-values", "date-neither-printed-nor-derived",
            "event-series-ends-before-start", "founder-person", "geo-latitude-not-decimal", "geo-longitude-double",
            "language-two-english-names", "membership-claimed", "plan-with-location", "position-without-post-in",
            "record-without-english-label", "sameas-not-wikidata", "source-url-literal", "untagged-foreign-text"]


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


def asserted(sources) -> dict[str, list]:
    return {str(g): list(sources.graphs.get(str(g), [])) for g in ASSERTED_GRAPHS}


def assert_same_as_pyshacl(endpoint: str, sources, shapes, graphs=tuple(str(g) for g in ASSERTED_GRAPHS)):
    """Virtuoso's run and pySHACL's: same verdict, result set and cowkg report (QC rows included)."""
    data = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS))
    reference = run_shacl(data, shapes, "pyshacl")
    run = shacl_endpoint(endpoint, shapes, graphs)
    assert run.conforms == reference.conforms
    assert result_set(run.results) == result_set(reference.results)
    ours = validate_endpoint(endpoint, shapes, QC, sources, graphs, run)
    theirs = build_report(reference, sources, shapes, data, QC)
    assert [v.as_dict() for v in ours.violations] == [v.as_dict() for v in theirs.violations]
    assert ours.conforms == theirs.conforms and ours.engine == "sparql"
    return ours


def test_the_project_inside_virtuoso_gives_pyshacls_results(virtuoso_project, shapes):
    """Virtuoso holds the asserted and the inferred graphs (and the Wikibase view): validation
    reads the asserted ones, as the in-process validation does."""
    report = assert_same_as_pyshacl(virtuoso_project.endpoint, load_project(ROOT), shapes)
    assert report.conforms


@pytest.mark.parametrize("name", FIXTURES)
def test_broken_fixtures_inside_virtuoso_give_pyshacls_results(virtuoso_server, shapes, name):
    sources = load_project(ROOT, data=[ROOT / "tests" / "fixtures" / "broken" / f"{name}.ttl"])
    instance = virtuoso_server.ensure(f"fixture {name}", asserted(sources))
    report = assert_same_as_pyshacl(instance.endpoint, sources, shapes)
    assert not report.conforms


@pytest.fixture()
def own(tmp_path_factory):
    """A Virtuoso of the test's own (it may be killed), holding a broken fixture's asserted graphs."""
    require(shutil.which("virtuoso-t") is not None, "Virtuoso is not installed")
    instance = manage.up(tmp_path_factory.mktemp("validate-virtuoso"), buffers=TEST_BUFFERS, die_with_parent=True)
    yield instance
    manage.kill(instance)


def test_cli_load_validate_reports_like_cowkg_validate(own, tmp_path):
    for name in ("ontology", "data", "queries", "shapes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "tests/fixtures/broken/person-without-label.ttl", tmp_path / "data")
    args = ["--root", str(tmp_path), "virtuoso", "load", "--dir", str(own.directory), "--no-infer", "--validate"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1, res.output
    expected = CliRunner().invoke(main, ["--root", str(tmp_path), "validate", "--shacl-engine", "pyshacl"])
    assert expected.exit_code == 1
    report = res.output.split("loaded ", 1)[1].split("\n", 1)[1].rsplit("validated inside Virtuoso", 1)[0]
    assert report == expected.output  # the same lines, file:line included
    assert "does not conform: 2 violations" in res.output

    (tmp_path / "data" / "person-without-label.ttl").unlink()
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert "\nconforms\nvalidated inside Virtuoso in " in ok.output


def test_virtuoso_dying_during_validation_is_exit_4_without_traceback(own, monkeypatch, tmp_path):
    """The server is killed after a few queries: no verdict, no partial report."""
    import cowkg.virtuoso.validate as remote

    real = remote.remote_select

    def dying(endpoint, *args, **kwargs):
        select = real(endpoint, *args, **kwargs)
        calls = []

        def run(sparql):
            calls.append(1)
            if len(calls) == 5:
                manage.kill(own)
            return select(sparql)
        return run

    monkeypatch.setattr(remote, "remote_select", dying)
    res = CliRunner().invoke(main, ["--root", str(ROOT), "virtuoso", "load", "--dir", str(own.directory), "--no-infer",
                                    "--validate"])
    assert res.exit_code == 4, res.output
    assert "error:" in res.output and "Traceback" not in res.output
    assert "conform" not in res.output


def test_an_unreachable_virtuoso_is_exit_4(shapes):
    port = manage.free_port()
    with pytest.raises(BackendUnavailable) as info:
        validate_endpoint(f"http://127.0.0.1:{port}/sparql", shapes, QC)
    assert info.value.exit_code == 4
