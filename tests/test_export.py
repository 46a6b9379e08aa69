"""Exports: every format parses back (rdflib and pyoxigraph) to the graph it came from, bytes are
stable across runs and processes, JSON-LD expands (pyld, rdflib) to the same triples, and entity
descriptions hold exactly the entity, its n-ary records and their provenance."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pyoxigraph as ox
import pytest
import rdflib
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from pyld import jsonld
from rdflib.compare import isomorphic

from cowkg.cli import main
from cowkg.errors import InputError, NotFound
from cowkg.export import (
    GENID,
    NARY_CLASSES,
    PROVENANCE_PROPERTIES,
    collect_quads,
    describe,
    expand_iri,
    export_bytes,
    export_graphs,
    instances_of,
)
from cowkg.jsonld import build_context
from cowkg.load import to_rdflib
from cowkg.store import KnowledgeGraph
from cowkg.vocab import ASSERTED_GRAPHS, COW, GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OX_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
              "trig": ox.RdfFormat.TRIG, "nq": ox.RdfFormat.N_QUADS}
RDFLIB_FORMATS = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "trig": "trig", "nq": "nquads"}
GRAPH_FORMATS = ("ttl", "nt", "jsonld")
CLI = [sys.executable, "-c", "from cowkg.cli import main; main()"]
DATASET_FORMATS = ("trig", "nq")


def triples_of(quads) -> set[ox.Triple]:
    return {q.triple for q in quads}


def same_graph(a: rdflib.Graph, b: rdflib.Graph) -> bool:
    """Isomorphism; for graphs without blank nodes (skolemised exports) that is plain set equality."""
    if any(isinstance(t, rdflib.BNode) for g in (a, b) for triple in g for t in triple):
        return isomorphic(a, b)
    return set(a) == set(b)


def pyld_triples(document: bytes) -> set[ox.Triple]:
    nquads = jsonld.to_rdf(json.loads(document), {"format": "application/n-quads"})
    return triples_of(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))


@pytest.fixture(scope="module")
def asserted(kg) -> list[ox.Quad]:
    return collect_quads(kg, export_graphs(False))


@pytest.fixture(scope="module")
def everything(kg) -> list[ox.Quad]:
    return collect_quads(kg, export_graphs(True))


@pytest.fixture(scope="module")
def exports(kg) -> dict[str, bytes]:
    """Graph formats of the asserted graphs; dataset formats with the inferred graph as well."""
    out = {f: export_bytes(kg, f) for f in GRAPH_FORMATS}
    out.update({f: export_bytes(kg, f, infer=True) for f in DATASET_FORMATS})
    return out


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_graph_export_parses_back_with_pyoxigraph_to_the_same_triples(exports, asserted, fmt):
    parsed = triples_of(ox.parse(exports[fmt], format=OX_FORMATS[fmt]))
    assert parsed == triples_of(asserted)


@pytest.mark.parametrize("fmt", DATASET_FORMATS)
def test_dataset_export_parses_back_with_pyoxigraph_graph_by_graph(exports, everything, fmt):
    parsed = set(ox.parse(exports[fmt], format=OX_FORMATS[fmt]))
    assert parsed == set(everything)
    assert {q.graph_name.value for q in parsed} == {str(g) for g in (*ASSERTED_GRAPHS, GRAPH_INFERRED)
                                                    if any(True for q in everything if q.graph_name.value == str(g))}


@pytest.mark.parametrize("fmt", GRAPH_FORMATS)
def test_graph_export_parses_back_with_rdflib_into_an_isomorphic_graph(exports, asserted, fmt):
    graph = rdflib.Graph().parse(data=exports[fmt], format=RDFLIB_FORMATS[fmt])
    assert same_graph(graph, to_rdflib(triples_of(asserted)))


@pytest.mark.parametrize("fmt", DATASET_FORMATS)
def test_dataset_export_parses_back_with_rdflib_isomorphic_per_named_graph(exports, everything, fmt):
    dataset = rdflib.Dataset().parse(data=exports[fmt], format=RDFLIB_FORMATS[fmt])
    expected: dict[str, set] = {}
    for q in everything:
        expected.setdefault(q.graph_name.value, set()).add(q.triple)
    for name, triples in expected.items():
        assert same_graph(dataset.graph(rdflib.URIRef(name)), to_rdflib(triples)), name


def test_skolem_iris_stand_for_the_blank_nodes_of_the_store(kg, exports):
    """Turning the skolem IRIs back into blank nodes gives a graph isomorphic to the stored one."""
    parsed = rdflib.Graph().parse(data=exports["ttl"], format="turtle")
    assert any(str(s).startswith(GENID) for s in parsed.subjects()), "the ontology's RDF lists have blank nodes"
    back = rdflib.Graph()
    bnode = {}
    for s, p, o in parsed:
        s, o = (bnode.setdefault(t, rdflib.BNode()) if str(t).startswith(GENID) else t for t in (s, o))
        back.add((s, p, o))
    stored = to_rdflib(q.triple for g in ASSERTED_GRAPHS
                       for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(str(g))))
    assert isomorphic(back, stored)


def test_jsonld_expands_with_pyld_and_rdflib_to_the_same_triples(exports, asserted):
    expected = triples_of(asserted)
    assert pyld_triples(exports["jsonld"]) == expected
    graph = rdflib.Graph().parse(data=exports["jsonld"], format="json-ld")
    assert same_graph(graph, to_rdflib(expected))


def test_jsonld_context_gives_every_ontology_term_a_short_key(kg):
    context = build_context(kg)
    onto = ox.NamedNode(str(GRAPH_ONTOLOGY))
    terms = {q.subject.value[len(str(COW)):]
             for q in kg.store.quads_for_pattern(None, ox.NamedNode(str(rdflib.RDF.type)), None, onto)
             if q.subject.value.startswith(str(COW)) and q.object.value in (
                 str(rdflib.OWL.Class), str(rdflib.OWL.ObjectProperty), str(rdflib.OWL.DatatypeProperty))}
    assert terms and terms <= context.keys()
    assert context["ofMeeting"] == {"@id": "cow:ofMeeting", "@type": "@id"}
    assert context["CoalitionMeeting"] == "cow:CoalitionMeeting"


def test_jsonld_uses_short_keys(exports):
    doc = json.loads(exports["jsonld"])
    meeting = next(n for n in doc["@graph"] if n["@id"] == "cowr:meeting-04")
    assert "CoalitionMeeting" in meeting["@type"]
    assert meeting["meetingNumber"] == 4
    assert meeting["status"] == "cowv:fact"


def test_framed_jsonld_holds_one_tree_per_instance_and_expands_to_their_description(kg):
    cls = str(COW.CoalitionMeeting)
    framed = export_bytes(kg, "jsonld", classes=["cow:CoalitionMeeting"], framed=True)
    doc = json.loads(framed)
    ids = [n["@id"] for n in doc["@graph"]]
    meetings = [i.replace(str(rdflib.URIRef("https://w3id.org/cowkg/id/")), "cowr:") for i in instances_of(kg, cls)]
    assert ids[:len(meetings)] == meetings
    assert any("@reverse" in n for n in doc["@graph"]), "attendances are embedded under their meeting"
    expected = triples_of(describe(kg, instances_of(kg, cls)))
    assert pyld_triples(framed) == expected
    assert same_graph(rdflib.Graph().parse(data=framed, format="json-ld"), to_rdflib(expected))


@pytest.mark.parametrize("fmt", [*GRAPH_FORMATS, *DATASET_FORMATS])
def test_two_exports_are_byte_identical(kg, exports, fmt):
    assert export_bytes(kg, fmt, infer=fmt in DATASET_FORMATS) == exports[fmt]


def test_exports_are_byte_identical_across_processes(tmp_path):
    """Two CLI runs with different hash seeds write the bytes this process writes (on a frozen copy)."""
    from cowkg.store import open_project

    root = tmp_path / "project"
    for part in ("ontology", "data"):
        shutil.copytree(os.path.join(ROOT, part), root / part)
    kg = open_project(root, with_inference=False)
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "COWKG_CACHE_DIR": str(tmp_path / "cache")}
        for fmt in ("ttl", "jsonld", "trig"):
            out = tmp_path / f"{seed}.{fmt}"
            subprocess.run([*CLI, "--root", str(root), "export", "--format", fmt, "-o", str(out)],
                           check=True, cwd=ROOT, env=env, capture_output=True, timeout=300)
            assert out.read_bytes() == export_bytes(kg, fmt), f"{fmt} with PYTHONHASHSEED={seed}"


def test_turtle_declares_only_used_prefixes_sorted_and_groups_sorted_subjects(exports):
    text = exports["ttl"].decode()
    assert text.startswith("# cowkg export of the named graphs ontology, data, meta: asserted triples only")
    head, _, body = text.partition("\n\n")
    prefixes = [line.split()[1].rstrip(":") for line in head.splitlines() if not line.startswith("#")]
    assert prefixes == sorted(prefixes)
    assert all(f"{p}:" in body for p in prefixes)
    graph = rdflib.Graph().parse(data=text, format="turtle")
    blocks = [b for b in body.split("\n\n") if b.strip()]
    assert len(blocks) == len(set(graph.subjects()))


def test_ntriples_are_sorted_one_triple_a_line(exports, asserted):
    lines = exports["nt"].splitlines()
    assert lines == sorted(lines)
    assert len(lines) == len(triples_of(asserted))


def test_inferred_only_export_holds_the_inferred_graph(kg):
    data = export_bytes(kg, "nt", graphs=["inferred"])
    assert len(data.splitlines()) == kg.graph_sizes()[str(GRAPH_INFERRED)]


def test_description_holds_the_entity_its_records_and_their_provenance(kg):
    """Expected by SPARQL: the meeting, the n-ary records pointing to it, what they cite."""
    meeting = "https://w3id.org/cowkg/id/meeting-04"
    nary = " ".join(f"<{c}>" for c in NARY_CLASSES)
    prov = " ".join(f"<{p}>" for p in PROVENANCE_PROPERTIES)
    res = kg.store.query(f"""SELECT DISTINCT ?n WHERE {{
        {{ BIND(<{meeting}> AS ?n) }}
        UNION {{ ?n ?p <{meeting}> ; a/rdfs:subClassOf* ?c . VALUES ?c {{ {nary} }} }}
        UNION {{ VALUES ?pp {{ {prov} }} {{ <{meeting}> ?pp ?n }} UNION
                 {{ ?r ?p <{meeting}> ; a/rdfs:subClassOf* ?c ; ?pp ?n . VALUES ?c {{ {nary} }} }} }}
    }}""", default_graph=[ox.NamedNode(str(g)) for g in ASSERTED_GRAPHS],
        prefixes={"rdfs": str(rdflib.RDFS)})
    expected_nodes = {row["n"].value for row in res}
    quads = describe(kg, [meeting])
    assert {q.subject.value for q in quads} == expected_nodes
    assert any(q.subject.value != meeting for q in quads), "meeting 4 has attendance records"
    for node in expected_nodes:
        stored = {q.triple for q in kg.store.quads_for_pattern(ox.NamedNode(node), None, None,
                                                               ox.NamedNode(str(GRAPH_DATA)))}
        assert stored <= triples_of(quads), node


def test_subject_export_in_every_format_round_trips(kg):
    expected = triples_of(describe(kg, ["https://w3id.org/cowkg/id/meeting-04"]))
    for fmt in GRAPH_FORMATS:
        data = export_bytes(kg, fmt, subjects=["cowr:meeting-04"])
        assert triples_of(ox.parse(data, format=OX_FORMATS[fmt])) == expected, fmt


def test_description_follows_blank_nodes_however_deep_and_stops_at_cycles_and_iris():
    """Blank-node chains deeper than the first query reaches, a blank-node cycle, and a blank node
    reached only through another IRI (not part of the description)."""
    data = """@prefix ex: <https://example.org/> .
        ex:a ex:list (1 2 3 4 5 6 7 8 9 10 11 12) ; ex:loop _:x ; ex:other ex:b .
        _:x ex:next _:y . _:y ex:next _:x .
        ex:b ex:has [ ex:deep 1 ] ."""
    g = ox.NamedNode(str(GRAPH_DATA))
    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in ox.parse(data, format=ox.RdfFormat.TURTLE))
    quads = describe(KnowledgeGraph(store), ["https://example.org/a"])
    assert len(quads) == 3 + 12 * 2 + 2
    assert not any(q.predicate.value == "https://example.org/deep" for q in quads)


def test_unknown_subject_is_not_found(kg):
    with pytest.raises(NotFound):
        export_bytes(kg, "ttl", subjects=["cowr:no-such-entity"])


@pytest.mark.parametrize("text, iri", [
    ("cowr:meeting-04", "https://w3id.org/cowkg/id/meeting-04"),
    ("<https://example.org/x>", "https://example.org/x"),
    ("https://w3id.org/cowkg/id/x", "https://w3id.org/cowkg/id/x"),
])
def test_expand_iri(text, iri):
    assert expand_iri(text) == iri


@pytest.mark.parametrize("text", ["meeting-04", "nope:thing"])
def test_expand_iri_refuses_what_is_no_iri(text):
    with pytest.raises(InputError):
        expand_iri(text)


def test_cli_export_class_and_errors(tmp_path):
    run = CliRunner().invoke
    out = tmp_path / "meetings.ttl"
    res = run(main, ["export", "--class", "cow:CoalitionMeeting", "-o", str(out)])
    assert res.exit_code == 0, res.output
    graph = rdflib.Graph().parse(out)
    assert (rdflib.URIRef("https://w3id.org/cowkg/id/meeting-04"), rdflib.RDF.type, COW.CoalitionMeeting) in graph
    assert run(main, ["export", "--subject", "cowr:no-such-entity"]).exit_code == 2
    res = run(main, ["export", "--framed"])
    assert res.exit_code == 2 and "--framed" in res.output


# --------------------------------------------------------------------------------------------
# The writers on awkward terms: a small graph built here, and generated literals
# --------------------------------------------------------------------------------------------

def small_kg(triples) -> KnowledgeGraph:
    """A store with ``triples`` in the data graph and a two-term ontology (for the JSON-LD context)."""
    onto = ox.NamedNode(str(GRAPH_ONTOLOGY))
    data = ox.NamedNode(str(GRAPH_DATA))
    rdf_type, rng = ox.NamedNode(str(rdflib.RDF.type)), ox.NamedNode(str(rdflib.RDFS.range))
    store = ox.Store()
    store.extend([
        ox.Quad(ox.NamedNode(str(COW.amount)), rdf_type, ox.NamedNode(str(rdflib.OWL.DatatypeProperty)), onto),
        ox.Quad(ox.NamedNode(str(COW.amount)), rng, ox.NamedNode(str(rdflib.XSD.decimal)), onto),
        ox.Quad(ox.NamedNode(str(COW.about)), rdf_type, ox.NamedNode(str(rdflib.OWL.ObjectProperty)), onto),
        *(ox.Quad(t.subject, t.predicate, t.object, data) for t in triples)])
    return KnowledgeGraph(store)


XSD_NS = "http://www.w3.org/2001/XMLSchema#"
S = ox.NamedNode("https://w3id.org/cowkg/id/s")
AWKWARD = [
    ox.Literal('quote " backslash \\ newline \n tab \t cr \r nul \x00 del \x7f bell \x07'),
    ox.Literal(""), ox.Literal("é ü ñ 🇺🇦 ї \u2028 \u0301"), ox.Literal("Київ", language="uk"),
    ox.Literal("colour", language="en-GB"),
    ox.Literal("007", datatype=ox.NamedNode(XSD_NS + "integer")),
    ox.Literal("+5", datatype=ox.NamedNode(XSD_NS + "integer")),
    ox.Literal("-12", datatype=ox.NamedNode(XSD_NS + "integer")),
    ox.Literal("123456789012345678901234567890", datatype=ox.NamedNode(XSD_NS + "integer")),
    ox.Literal("1", datatype=ox.NamedNode(XSD_NS + "boolean")),
    ox.Literal("true", datatype=ox.NamedNode(XSD_NS + "boolean")),
    ox.Literal("1.50", datatype=ox.NamedNode(XSD_NS + "decimal")),
    ox.Literal("2025-09", datatype=ox.NamedNode(XSD_NS + "gYearMonth")),
    ox.Literal("x", datatype=ox.NamedNode("http://example.org/dt#custom")),
    ox.NamedNode("https://en.wikipedia.org/wiki/Coalition_of_the_willing_(Russo-Ukrainian_war)"),
    ox.NamedNode("https://w3id.org/cowkg/id/ends-with-dot."), ox.NamedNode("https://w3id.org/cowkg/id/a.b"),
    ox.NamedNode("https://w3id.org/cowkg/id/100%25"), ox.NamedNode("https://w3id.org/cowkg/id/"),
    ox.NamedNode("urn:isbn:0451450523"),
]


def awkward_triples() -> list[ox.Triple]:
    out = [ox.Triple(S, ox.NamedNode(f"https://w3id.org/cowkg/ontology#p{i}"), o) for i, o in enumerate(AWKWARD)]
    bnode = ox.BlankNode()
    out += [ox.Triple(S, ox.NamedNode(str(COW.amount)), ox.Literal("12", datatype=ox.NamedNode(XSD_NS + "integer"))),
            ox.Triple(S, ox.NamedNode(str(COW.amount)), ox.Literal("2.5", datatype=ox.NamedNode(XSD_NS + "decimal"))),
            ox.Triple(S, ox.NamedNode(str(COW.about)), ox.Literal("not an IRI")),
            ox.Triple(S, ox.NamedNode(str(COW.about)), bnode),
            ox.Triple(bnode, ox.NamedNode(str(rdflib.RDFS.label)), ox.Literal("a blank node"))]
    return out


@pytest.mark.parametrize("fmt", [*GRAPH_FORMATS, *DATASET_FORMATS])
def test_awkward_terms_round_trip_in_every_format(fmt):
    kg = small_kg(awkward_triples())
    expected = collect_quads(kg, [str(GRAPH_DATA)])
    data = export_bytes(kg, fmt, graphs=["data"])
    parsed = ox.parse(data, format=OX_FORMATS[fmt])
    if fmt in DATASET_FORMATS:
        assert set(parsed) == set(expected)
    else:
        assert triples_of(parsed) == triples_of(expected)
    graph = rdflib.Dataset() if fmt in DATASET_FORMATS else rdflib.Graph()
    graph.parse(data=data, format=RDFLIB_FORMATS[fmt])
    triples = graph.graph(rdflib.URIRef(str(GRAPH_DATA))) if fmt in DATASET_FORMATS else graph
    assert same_graph(triples, to_rdflib(triples_of(expected)))
    if fmt == "jsonld":
        assert pyld_triples(data) == triples_of(expected)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",))), min_size=1, max_size=5),
       lang=st.sampled_from([None, "en", "fr-CA"]))
def test_any_string_round_trips_through_turtle_ntriples_and_jsonld(values, lang):
    triples = [ox.Triple(S, ox.NamedNode(str(COW.note)), ox.Literal(v, language=lang) if lang else ox.Literal(v))
               for v in values]
    kg = small_kg(triples)
    for fmt in GRAPH_FORMATS:
        data = export_bytes(kg, fmt, graphs=["data"])
        assert triples_of(ox.parse(data, format=OX_FORMATS[fmt])) == set(triples), fmt
    assert pyld_triples(export_bytes(kg, "jsonld", graphs=["data"])) == set(triples)
