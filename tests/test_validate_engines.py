"""The SHACL engines of cowkg.validate: pyshacl-turbo gives exactly pySHACL's results (the
reference) on the shipped graph and on every fixture, and a turbo that cannot run hands over to
pySHACL instead of giving a verdict of its own; the default, auto, runs the shapes as SPARQL
(tests/test_shacl_sparql.py) when they compile and turbo otherwise."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pyshacl_turbo
import pytest
import rdflib
from click.testing import CliRunner
from rdflib.namespace import SH

from cowkg.cli import main
from cowkg.errors import InputError
from cowkg.load import load_project, to_rdflib
from cowkg.qc import load_qc
from cowkg.validate import (
    SHACL_ENGINES,
    build_report,
    check_project,
    engine_version,
    load_shapes,
    result_set,
    run_shacl,
    validate,
)
from cowkg.vocab import ASSERTED_GRAPHS

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted((ROOT / "tests" / "fixtures" / "good").glob("*.ttl")) + \
    sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ttl"))
QC = load_qc(ROOT / "queries")


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


@pytest.mark.parametrize("fixture", [None, *FIXTURES],
                         ids=["shipped", *(f"{p.parent.name}/{p.stem}" for p in FIXTURES)])
def test_turbo_gives_exactly_pyshacls_results(shapes, fixture):
    """Same verdict, same results (focus node, path, source shape, constraint component, severity,
    value, messages; blank nodes compared by what they hold) and the same cowkg report, file:line
    and owning node shapes included. Turbo must have run itself, not fallen back."""
    sources = load_project(ROOT, data=[fixture] if fixture else None)
    data = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS))
    reference = run_shacl(data, shapes, "pyshacl")
    turbo = run_shacl(data, shapes, "turbo")
    assert (reference.engine, turbo.engine) == ("pyshacl", "turbo")
    assert turbo.conforms == reference.conforms
    assert result_set(turbo.results) == result_set(reference.results)
    ours, theirs = (build_report(run, sources, shapes, data, QC) for run in (turbo, reference))
    assert [v.as_dict() for v in ours.violations] == [v.as_dict() for v in theirs.violations]
    assert ours.conforms == theirs.conforms
    if fixture is not None and fixture.parent.name == "broken":
        assert not ours.conforms, "a broken fixture that conforms compares nothing"


def test_the_comparison_sees_a_difference(shapes):
    """result_set is not blind: one changed value, one dropped result, one other anonymous shape
    each make two reports differ, while relabelled blank nodes do not."""
    sources = load_project(ROOT, data=[ROOT / "tests/fixtures/broken/geo-latitude-not-decimal.ttl"])
    results = run_shacl(to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS)), shapes, "turbo").results
    baseline = result_set(results)
    assert len(baseline) == 3

    relabelled = rdflib.Graph()
    fresh: dict = {}
    for triple in results:
        relabelled.add(tuple(fresh.setdefault(t, rdflib.BNode()) if isinstance(t, rdflib.BNode) else t
                             for t in triple))
    assert result_set(relabelled) == baseline

    first = next(iter(results.subjects(rdflib.RDF.type, SH.ValidationResult)))
    changed = rdflib.Graph() + results
    changed.set((first, SH.value, rdflib.Literal("51.508")))
    assert result_set(changed) != baseline
    dropped = rdflib.Graph() + results
    dropped.remove((first, rdflib.RDF.type, SH.ValidationResult))
    assert result_set(dropped) != baseline
    other_shape = rdflib.Graph() + results
    shape = other_shape.value(first, SH.sourceShape)
    other_shape.add((shape, SH.message, rdflib.Literal("another shape")))
    assert result_set(other_shape) != baseline


@pytest.fixture()
def broken():
    return load_project(ROOT, data=[ROOT / "tests/fixtures/broken/person-without-label.ttl"])


def expected(broken, shapes):
    return [v.as_dict() for v in validate(broken, shapes, QC, "pyshacl").violations]


def test_turbo_that_cannot_be_imported_hands_over_to_pyshacl(shapes, broken, monkeypatch, caplog):
    monkeypatch.setitem(__import__("sys").modules, "pyshacl_turbo", None)  # import fails
    with caplog.at_level(logging.WARNING, logger="cowkg.validate"):
        report = validate(broken, shapes, QC, "turbo")
    assert report.engine == "pyshacl" and not report.conforms
    assert [v.as_dict() for v in report.violations] == expected(broken, shapes)
    assert "pyshacl-turbo cannot be imported" in caplog.text


class RustPanic(BaseException):
    """What a panic in a pyo3 extension raises: pyo3's PanicException derives from BaseException."""


@pytest.mark.parametrize("failure", [RuntimeError("engine crashed"), RustPanic("index out of bounds")],
                         ids=["exception", "panic"])
def test_turbo_that_fails_hands_over_to_pyshacl(shapes, broken, monkeypatch, caplog, failure):
    def crash(*_args, **_kwargs):
        raise failure

    monkeypatch.setattr(pyshacl_turbo, "validate", crash)
    with caplog.at_level(logging.WARNING, logger="cowkg.validate"):
        report = validate(broken, shapes, QC, "turbo")
    assert report.engine == "pyshacl" and not report.conforms
    assert [v.as_dict() for v in report.violations] == expected(broken, shapes)
    assert f"pyshacl-turbo failed ({type(failure).__name__}" in caplog.text


def test_turbo_whose_verdict_contradicts_its_report_is_not_believed(shapes, broken, monkeypatch, caplog):
    """A report with violations that claims to conform (or the reverse) means the engine is wrong
    somewhere: pySHACL decides."""
    real = pyshacl_turbo.validate

    def lying(*args, **kwargs):
        conforms, results, text = real(*args, **kwargs)
        return not conforms, results, text

    monkeypatch.setattr(pyshacl_turbo, "validate", lying)
    with caplog.at_level(logging.WARNING, logger="cowkg.validate"):
        report = validate(broken, shapes, QC, "turbo")
    assert report.engine == "pyshacl" and not report.conforms
    assert "contradicts its verdict" in caplog.text


def test_an_unknown_engine_is_an_input_error(shapes, broken):
    with pytest.raises(InputError, match="unknown SHACL engine 'jena'"):
        validate(broken, shapes, QC, "jena")


def test_the_cached_verdict_belongs_to_the_engine_that_gave_it(tmp_path, monkeypatch):
    """A conforming verdict cached by pySHACL is not taken for turbo's: each engine validates once,
    then its restart reads its own marker."""
    sources = load_project(ROOT)
    paths = (ROOT / "shapes", tmp_path, ROOT, ROOT / "queries")
    runs: list[str] = []
    real = run_shacl

    def counting(data, shapes, engine="turbo"):
        run = real(data, shapes, engine)
        runs.append(run.engine)
        return run

    monkeypatch.setattr("cowkg.validate.run_shacl", counting)
    for engine in ("pyshacl", "turbo", "pyshacl", "turbo"):
        assert check_project(sources, *paths, engine=engine).conforms
    assert runs == ["pyshacl", "turbo"]
    assert len(list(tmp_path.glob("conforms-*.json"))) == 2


@pytest.mark.parametrize("engine", SHACL_ENGINES)
def test_cli_validate_says_which_engine_ran(engine):
    res = CliRunner().invoke(main, ["validate", "--shacl-engine", engine, "--format", "json", "--data",
                                    "tests/fixtures/broken/person-without-label.ttl"])
    assert res.exit_code == 1, res.output
    out = json.loads(res.output)
    assert out["engine"] == ("sparql" if engine == "auto" else engine) and out["counts"] == {"Violation": 2}


def test_auto_is_the_default_and_runs_the_compiled_shapes():
    """The default engine (the shacl_engine setting) is auto: the project's shapes all compile, so
    the SPARQL engine validates (bench/results/scale_pipeline.txt: the fastest at every size)."""
    from cowkg.settings import load_settings

    assert load_settings(environ={})["shacl_engine"] == "auto"
    res = CliRunner().invoke(main, ["validate", "--format", "json", "--data",
                                    "tests/fixtures/broken/geo-latitude-not-decimal.ttl"])
    assert res.exit_code == 1, res.output
    assert json.loads(res.output)["engine"] == "sparql"


@pytest.mark.parametrize("fixture", [None, *FIXTURES],
                         ids=["shipped", *(f"{p.parent.name}/{p.stem}" for p in FIXTURES)])
def test_auto_gives_the_sparql_engines_report(shapes, fixture):
    """On this project auto is the sparql engine, whose report is pySHACL's on every fixture
    (tests/test_shacl_sparql.py)."""
    sources = load_project(ROOT, data=[fixture] if fixture else None)
    ours, sparql = validate(sources, shapes, QC, "auto"), validate(sources, shapes, QC, "sparql")
    assert ours.engine == "sparql"
    assert [v.as_dict() for v in ours.violations] == [v.as_dict() for v in sparql.violations]
    assert ours.conforms == sparql.conforms


CLOSED_SHAPE = "\ncowsh:ClosedShape a sh:NodeShape ; sh:targetClass cow:Person ; sh:closed true .\n"


def test_auto_with_shapes_the_compiler_cannot_translate_validates_with_turbo(tmp_path, caplog):
    """A project whose shapes use what the SPARQL compiler does not translate (sh:closed) is still
    validated — by turbo, with a warning naming the construct — never refused, never cut short."""
    for name in ("ontology", "data", "queries", "shapes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    with open(tmp_path / "shapes" / "cowkg-shapes.ttl", "a", encoding="utf-8") as fh:
        fh.write(CLOSED_SHAPE)
    sources, shapes = load_project(tmp_path), load_shapes(tmp_path / "shapes")
    with caplog.at_level(logging.WARNING, logger="cowkg.validate"):
        report = validate(sources, shapes, QC, "auto")
    assert report.engine == "turbo" and not report.conforms
    assert "sh:closed on <https://w3id.org/cowkg/shapes#ClosedShape>" in caplog.text
    assert "validating with turbo" in caplog.text
    assert [v.as_dict() for v in report.violations] == \
        [v.as_dict() for v in validate(sources, shapes, QC, "turbo").violations]
    # the same results as pySHACL's but for the wording of sh:closed's message
    assert [{**v.as_dict(), "message": None} for v in report.violations] == \
        [{**v, "message": None} for v in expected(sources, shapes)]
    data = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS))
    assert run_shacl(data, shapes, "auto").engine == "turbo"
    res = CliRunner().invoke(main, ["--root", str(tmp_path), "validate", "--format", "json"])
    assert res.exit_code == 1 and json.loads(res.output[res.output.index("{"):])["engine"] == "turbo"


def test_auto_run_on_an_rdflib_graph_compiles_the_shapes(shapes, broken):
    data = to_rdflib(broken.triples(str(g) for g in ASSERTED_GRAPHS))
    run, reference = run_shacl(data, shapes, "auto"), run_shacl(data, shapes, "pyshacl")
    assert run.engine == "sparql" and result_set(run.results) == result_set(reference.results)


def test_the_auto_verdict_is_cached_apart_and_read_without_importing_turbo(tmp_path, monkeypatch):
    """auto's verdict is its own (not sparql's marker), kept under the engine it ran; a restart
    finds it without importing pyshacl-turbo (0.3 s of a warm start)."""
    sources = load_project(ROOT)
    paths = (ROOT / "shapes", tmp_path, ROOT, ROOT / "queries")
    for engine in ("auto", "sparql"):
        assert check_project(sources, *paths, engine=engine).conforms
    assert len(list(tmp_path.glob("conforms-*.json"))) == 2
    both = engine_version("auto")
    assert engine_version("sparql") in both and str(engine_version("turbo")) in both
    import cowkg.validate as module

    monkeypatch.setattr(module, "validate", lambda *a, **k: pytest.fail("validated again"))
    real_version = module.engine_version

    def version(engine: str) -> str | None:
        if engine == "turbo":
            pytest.fail("asked turbo's version")
        return real_version(engine)

    monkeypatch.setattr(module, "engine_version", version)
    assert check_project(sources, *paths, engine="auto").conforms


def test_the_auto_verdict_after_turbo_stood_in_is_cached_as_turbos(tmp_path, caplog):
    """Shapes the compiler does not translate: auto validates with turbo once, then a restart
    finds turbo's verdict without validating again."""
    for name in ("ontology", "data", "queries", "shapes"):
        shutil.copytree(ROOT / name, tmp_path / name)
    with open(tmp_path / "shapes" / "cowkg-shapes.ttl", "a", encoding="utf-8") as fh:
        fh.write("\ncowsh:Closed a sh:NodeShape ; sh:targetClass cow:Nothing ; sh:closed true .\n")
    sources, cache = load_project(tmp_path), tmp_path / "cache"
    paths = (tmp_path / "shapes", cache, tmp_path, tmp_path / "queries")
    with caplog.at_level(logging.WARNING, logger="cowkg.validate"):
        assert check_project(sources, *paths, engine="auto").engine == "turbo"
        assert check_project(sources, *paths, engine="auto").engine is None  # the cached verdict
    assert caplog.text.count("validating with turbo") == 1
    assert len(list(cache.glob("conforms-*.json"))) == 1


def test_cli_validate_reads_the_engine_setting(monkeypatch):
    monkeypatch.setenv("COWKG_SHACL_ENGINE", "pyshacl")
    res = CliRunner().invoke(main, ["validate", "--format", "json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["engine"] == "pyshacl"
    monkeypatch.setenv("COWKG_SHACL_ENGINE", "fast")
    res = CliRunner().invoke(main, ["validate"])
    assert res.exit_code == 2 and "unknown SHACL engine 'fast'" in res.output
