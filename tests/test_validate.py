"""SHACL: the shipped data conforms, and every shape catches its broken fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH

from cowkg.load import load_project
from cowkg.validate import format_report, load_shapes, validate

ROOT = Path(__file__).resolve().parent.parent
BROKEN = sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ttl"))


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


def expectation(path: Path) -> tuple[str, str | None, str]:
    _, _, focus, prop, node_shape = path.read_text().splitlines()[0].split()
    return focus, None if prop == "-" else prop, node_shape


def test_shipped_data_conforms(shapes):
    report = validate(load_project(ROOT), shapes)
    assert report.conforms, format_report(report, ROOT)


def test_minimal_fixture_conforms(shapes):
    report = validate(load_project(ROOT, data=[ROOT / "tests/fixtures/good/minimal.ttl"]), shapes)
    assert report.conforms, format_report(report)


@pytest.mark.parametrize("fixture", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_fixture_fails_on_expected_focus_and_path(shapes, fixture):
    focus, prop, node_shape = expectation(fixture)
    report = validate(load_project(ROOT, data=[fixture]), shapes)
    assert not report.conforms
    found = {(v.focus, v.path) for v in report.violations}
    assert found == {(focus, prop)}, found
    assert all(node_shape in (v.node_shape or "").split(",") for v in report.violations)
    assert all(v.source and v.source.endswith(fixture.name) and v.line for v in report.violations)


def test_every_node_shape_has_a_broken_fixture(shapes):
    declared = {rdflib.URIRef(str(s)) for s in shapes.subjects(rdflib.RDF.type, SH.NodeShape)
                if isinstance(s, rdflib.URIRef)}
    covered = {expectation(p)[2].replace("cowsh:", "https://w3id.org/cowkg/shapes#") for p in BROKEN}
    assert {str(s) for s in declared} <= covered
