"""SHACL and the QC queries: the shipped data conforms, and every shape and every QC query catches
its broken fixture."""

from __future__ import annotations

from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import SH

from cowkg.load import load_project, to_rdflib
from cowkg.qc import load_qc
from cowkg.validate import format_report, load_shapes
from cowkg.validate import validate as validate_with
from cowkg.vocab import COWSH, GRAPH_DATA, GRAPH_META, GRAPH_ONTOLOGY, shorten

ROOT = Path(__file__).resolve().parent.parent
BROKEN = sorted((ROOT / "tests" / "fixtures" / "broken").glob("*.ttl"))
DATE_TYPES = ("date", "gYearMonth", "gYear", "dateTime")


QC = load_qc(ROOT / "queries")


def validate(sources, shapes):
    """SHACL and every QC query of queries/qc, as ``cowkg validate`` runs them."""
    return validate_with(sources, shapes, QC)


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(ROOT / "shapes")


@pytest.fixture(scope="module")
def project():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def data(project):
    """The shipped data graph alone (data/*.ttl), without ontology or dataset description."""
    return to_rdflib(project.triples([str(GRAPH_DATA)]))


def expectation(path: Path) -> tuple[str, str | None, str]:
    _, _, focus, prop, node_shape = path.read_text().splitlines()[0].split()
    return focus, None if prop == "-" else prop, node_shape


def test_shipped_data_conforms(shapes, project):
    report = validate(project, shapes)
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
    assert found == {(focus, prop)}, format_report(report)
    assert all(node_shape in (v.node_shape or "").split(",") for v in report.violations)
    assert all(v.source and v.source.endswith(fixture.name) and v.line for v in report.violations)


def test_every_node_shape_has_a_broken_fixture(shapes):
    declared = {rdflib.URIRef(str(s)) for s in shapes.subjects(rdflib.RDF.type, SH.NodeShape)
                if isinstance(s, rdflib.URIRef)}
    covered = {expectation(p)[2].replace("cowsh:", "https://w3id.org/cowkg/shapes#") for p in BROKEN}
    assert {str(s) for s in declared} <= covered


def test_every_qc_query_has_a_broken_fixture():
    assert QC, "no QC queries found under queries/qc"
    covered = {expectation(p)[2] for p in BROKEN}
    assert {f"qc:{q.name}" for q in QC} <= covered


def test_qc_rows_are_reported_by_the_cli_with_their_query(tmp_path):
    """``cowkg validate`` runs the QC queries: a row is a violation naming its query, file and line."""
    from click.testing import CliRunner

    from cowkg.cli import main

    fixture = ROOT / "tests/fixtures/broken/date-neither-printed-nor-derived.ttl"
    res = CliRunner().invoke(main, ["validate", "--data", str(fixture)])
    assert res.exit_code == 1
    assert "[qc:date-neither-printed-nor-derived]" in res.output and f"{fixture.name}:" in res.output


def test_every_class_used_in_the_data_has_a_shape(shapes, project):
    """Each rdf:type in data/ and data/meta/ is a target class of some shape, itself or through a
    superclass.

    A superclass counts because sh:targetClass reaches instances of subclasses (the ontology's
    rdfs:subClassOf axioms are in the validated graph).
    """
    ontology = to_rdflib(project.triples([str(GRAPH_ONTOLOGY)]))
    targeted = set(shapes.objects(None, SH.targetClass))
    data = to_rdflib(project.triples([str(GRAPH_DATA), str(GRAPH_META)]))
    used = {row.c for row in data.query("SELECT DISTINCT ?c WHERE { ?s a ?c }")}
    unchecked = {shorten(str(c)) for c in used
                 if not targeted & set(ontology.transitive_objects(c, rdflib.RDFS.subClassOf))}
    assert not unchecked, f"classes no shape targets: {sorted(unchecked)}"


def test_every_date_valued_property_is_checked_wherever_it_appears(shapes, data):
    """A property with date values in data/ is a target of DatesShape (or, for the interval's two
    days, of IntervalShape), whatever the subject's type."""
    values = ", ".join(f"xsd:{t}" for t in DATE_TYPES)
    query = f"SELECT DISTINCT ?p WHERE {{ ?s ?p ?o FILTER (datatype(?o) IN ({values})) }}"
    used = {row.p for row in data.query(query, initNs={"xsd": rdflib.XSD})}
    targeted = set(shapes.objects(COWSH.DatesShape, SH.targetSubjectsOf)) | \
        set(shapes.objects(COWSH.IntervalShape, SH.targetSubjectsOf))
    assert used, "no date values found: the query is wrong"
    assert not used - targeted, sorted(shorten(str(p)) for p in used - targeted)



def test_a_miss_shared_by_several_node_shapes_is_reported_once_naming_the_shapes_that_target_it(shapes, tmp_path):
    """An org:Organization with a status but no provenance misses the property shape that
    OrganisationShape and SourcedRecordShape share (and Person/Place/State shapes, which do not
    target it): one violation, naming the two shapes that apply."""
    text = (ROOT / "tests/fixtures/broken/organization-without-provenance.ttl").read_text()
    broken = tmp_path / "org-with-status-without-provenance.ttl"
    broken.write_text(text.replace('rdfs:label "X"@en .', 'rdfs:label "X"@en ; cow:status cowv:fact .'))
    report = validate(load_project(ROOT, data=[broken]), shapes)
    assert [(v.focus, v.path, v.node_shape) for v in report.violations] == [
        ("cowr:x", "prov:wasDerivedFrom", "cowsh:OrganisationShape,cowsh:SourcedRecordShape")]


COUNTED_BY_JENA_AND_PYSHACL = {"geo-latitude-not-decimal": 3, "geo-without-label": 2, "person-without-label": 2}


@pytest.mark.parametrize("name,expected", sorted(COUNTED_BY_JENA_AND_PYSHACL.items()))
def test_constraints_sharing_a_message_are_reported_apart(shapes, name, expected):
    """A latitude that is a string breaks sh:datatype, sh:minInclusive and sh:maxInclusive (the
    last two share a message); a missing label breaks sh:minCount and sh:qualifiedMinCount: one
    result per broken constraint, as pySHACL and Jena count them, each naming its constraint."""
    report = validate(load_project(ROOT, data=[ROOT / f"tests/fixtures/broken/{name}.ttl"]), shapes)
    assert len(report.violations) == expected, format_report(report)
    assert len({(v.message, v.component) for v in report.violations}) == expected
    assert all(f"[{v.constraint()}]" in format_report(report) for v in report.violations)


#: The fixtures of the constraints added for issue 16 (tagged text, one preferred label per
#: language, intervals, statements never facts, attendance and counts in one place, founders on
#: the infobox record), besides the three whose counts differed.
NEWER_CONSTRAINTS = ["keyphrase-untagged", "two-english-preferred-labels", "language-two-english-names",
                     "interval-without-latest", "interval-not-a-date", "interval-reversed", "interval-two-latest",
                     "statement-stated-as-fact", "meeting-participant-without-attendance", "meeting-participant-count",
                     "attendance-meeting-not-meeting", "coalition-founded-by-as-fact", "founder-person"]


JENA_COMPARED = [None, *sorted(COUNTED_BY_JENA_AND_PYSHACL), *NEWER_CONSTRAINTS]


def jena_project(name: str | None):
    """The project as validated for the comparison with Jena: the shipped data, or it and one broken fixture."""
    return load_project(ROOT, data=[ROOT / f"tests/fixtures/broken/{name}.ttl"] if name else None)


@pytest.fixture(scope="module")
def jena_reports(shapes, tmp_path_factory):
    """jena-shacl's report on each graph of ``JENA_COMPARED`` (the ontology + data + metadata graphs
    of ``jena_project``, with the same shapes), all validated in one JVM (tests/jena.py ``batch``)."""
    from jena import batch, require_jena

    require_jena()
    tmp = tmp_path_factory.mktemp("jena-shacl")
    shapes_file = tmp / "shapes.ttl"
    shapes.serialize(shapes_file, format="turtle")
    jobs = []
    for n, name in enumerate(JENA_COMPARED):
        data = tmp / f"data-{n}.nt"
        to_rdflib(jena_project(name).triples(str(g) for g in (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_META))).serialize(
            data, format="nt", encoding="utf-8")
        jobs.append(("shacl", shapes_file, data))
    return dict(zip(JENA_COMPARED, batch(jobs, tmp / "batch"), strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("name", JENA_COMPARED)
def test_jena_reports_the_same_results(shapes, jena_reports, name):
    """Jena's SHACL engine, given the same shapes and the same (ontology + data) graph, reports the
    same results: one per focus node, path and constraint component (the QC queries are cowkg's
    own and not part of this comparison)."""
    from jena import report_results

    theirs = report_results(jena_reports[name].value())
    ours = sorted((expand(v.focus), expand(v.path) if v.path else None, expand(v.component))
                  for v in validate_with(jena_project(name), shapes).violations)
    assert ours == theirs


def expand(curie: str) -> str:
    from cowkg.vocab import PREFIXES

    prefix, _, local = curie.partition(":")
    return PREFIXES[prefix] + local if prefix in PREFIXES and not local.startswith("//") else curie
