"""The compiled OWL 2 RL rules (cowkg.rules) give exactly reason.infer's closure, whoever runs them.

The same rule table runs as SPARQL updates in a real pyoxigraph store (``reasoner="sparql"``) and
over Python sets (``reasoner="rules"``, cowkg.ruleeval); both are compared with owlrl (the
reference) and reasonable on the shipped project, on the synthetic 10k graph and on small graphs
built to trigger each rule; bad input (a construct the compiler lacks, owl:sameAs to a literal) is
refused by name. tests/virtuoso/test_reason_virtuoso.py runs the SPARQL rules in Virtuoso.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from cowkg.errors import UnsupportedConstruct
from cowkg.load import Sources, default_layout, load_files
from cowkg.reason import infer
from cowkg.rules import SAME_AS, OxigraphRunner, compile_rules, harvest_tbox, render_rule
from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

ROOT = Path(__file__).resolve().parent.parent
PREFIXES = """@prefix ex: <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> . @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
"""


def sources(ontology: str, data: str) -> Sources:
    parse = lambda text: [q.triple for q in ox.parse(PREFIXES + text, format=ox.RdfFormat.TURTLE)]  # noqa: E731
    return Sources(graphs={str(GRAPH_ONTOLOGY): parse(ontology), str(GRAPH_DATA): parse(data)})


def differences(a, b) -> tuple[list[str], list[str]]:
    a, b = set(a), set(b)
    return sorted(map(str, a - b))[:5], sorted(map(str, b - a))[:5]


COMPILED = pytest.mark.parametrize("reasoner", ["sparql", "rules"])


def same_as_owlrl(src: Sources, reasoner: str) -> set:
    compiled, owlrl = infer(src, reasoner), infer(src, "owlrl")
    assert compiled.reasoner == reasoner
    only_compiled, only_owlrl = differences(compiled.triples, owlrl.triples)
    assert not only_compiled and not only_owlrl, f"{reasoner} only: {only_compiled}\nowlrl only: {only_owlrl}"
    return {(t.subject.value, t.predicate.value, t.object.value) for t in compiled.triples}


EX = "http://example.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


@COMPILED
def test_every_compiled_rule_gives_owlrls_triples(reasoner):
    """Subclass and equivalent classes, domain, range, subproperty and equivalent properties,
    inverse, symmetric, transitive, functional and inverse-functional properties, a property
    chain, owl:sameAs (symmetry, transitivity, replacement in each position)."""
    got = same_as_owlrl(sources("""
        ex:Summit rdfs:subClassOf ex:Meeting . ex:Meeting owl:equivalentClass ex:Gathering .
        ex:chair rdfs:domain ex:Meeting ; rdfs:range ex:Person ; rdfs:subPropertyOf ex:participant .
        ex:participant owl:equivalentProperty ex:attendee . ex:hasPart owl:inverseOf ex:partOf .
        ex:near a owl:SymmetricProperty . ex:inPlace a owl:TransitiveProperty .
        ex:status a owl:FunctionalProperty . ex:passport a owl:InverseFunctionalProperty .
        ex:attendedBy owl:propertyChainAxiom ( ex:hasRecord ex:attendee ) .
        ex:Person a owl:Class .
    """, """
        ex:m1 a ex:Summit ; ex:chair ex:keir ; ex:hasRecord ex:r1 ; ex:hasPart ex:session .
        ex:r1 ex:attendee ex:emmanuel ; ex:status ex:fact , ex:certain .
        ex:paris ex:inPlace ex:france . ex:france ex:inPlace ex:europe . ex:paris ex:near ex:versailles .
        ex:keir ex:passport "GB1" . ex:starmer ex:passport "GB1" ; ex:born "1962" .
        ex:emmanuel owl:sameAs ex:macron . ex:macron owl:sameAs ex:president .
    """), reasoner)
    for triple in [(EX + "m1", RDF_TYPE, EX + "Gathering"), (EX + "keir", RDF_TYPE, EX + "Person"),
                   (EX + "m1", EX + "attendee", EX + "keir"), (EX + "session", EX + "partOf", EX + "m1"),
                   (EX + "versailles", EX + "near", EX + "paris"), (EX + "paris", EX + "inPlace", EX + "europe"),
                   (EX + "fact", SAME_AS.value, EX + "certain"), (EX + "keir", EX + "born", "1962"),
                   (EX + "m1", EX + "attendedBy", EX + "president"),
                   (EX + "president", SAME_AS.value, EX + "emmanuel")]:
        assert triple in got, triple


@COMPILED
def test_schema_inferred_from_data_recompiles_the_rules(reasoner):
    """A class made equal to another by owl:sameAs in the data: its axioms move to the other
    class (eq-rep-s on the T-box), and the rules are compiled again with them."""
    got = same_as_owlrl(sources("ex:Summit rdfs:subClassOf ex:Meeting . ex:Meeting rdfs:subClassOf ex:Event .",
                                "ex:Conference owl:sameAs ex:Summit . ex:c1 a ex:Conference ."), reasoner)
    assert (EX + "c1", RDF_TYPE, EX + "Event") in got


@COMPILED
def test_disjointness_violation_gives_owlrls_error_messages(reasoner):
    src = sources("ex:Attendance owl:disjointWith ex:NonAttendance .",
                  "ex:r1 a ex:Attendance , ex:NonAttendance . ex:n a owl:Nothing .")
    messages = {
        name: sorted(t.object.value for t in infer(src, name).triples
                     if t.predicate.value == "http://www.daml.org/2002/03/agents/agent-ont#error")
        for name in (reasoner, "owlrl")}
    assert messages[reasoner] == messages["owlrl"] and len(messages[reasoner]) == 2


@COMPILED
def test_literal_forms_come_back_as_asserted(reasoner):
    """A store keeps ``2000000000.0`` as ``2000000000``; the inferred copy has the asserted form, as
    owlrl's rdflib graph holds it (which reads ``"01"^^xsd:integer`` as ``"1"``)."""
    got = same_as_owlrl(sources("ex:amount rdfs:subPropertyOf ex:value .",
                                'ex:p ex:amount 2000000000.0 , "01"^^<http://www.w3.org/2001/XMLSchema#integer> , '
                                '"1"^^<http://www.w3.org/2001/XMLSchema#integer> ; ex:label "x"@EN-gb .'), reasoner)
    values = {o for s, p, o in got if p == EX + "value"}
    assert values == {"2000000000.0", "1"}


@pytest.mark.parametrize("construct, ontology", [
    ("someValuesFrom", "ex:R owl:onProperty ex:p ; owl:someValuesFrom ex:C ."),
    ("AllDisjointClasses", "[] a owl:AllDisjointClasses ; owl:members ( ex:A ex:B ) ."),
    ("IrreflexiveProperty", "ex:p a owl:IrreflexiveProperty ."),
    ("hasKey", "ex:C owl:hasKey ( ex:p ) ."),
])
@COMPILED
def test_an_unsupported_construct_is_refused_by_name(construct, ontology, reasoner):
    with pytest.raises(UnsupportedConstruct, match=construct) as err:
        infer(sources(ontology, "ex:a ex:p ex:b ."), reasoner)
    assert err.value.exit_code == 2


@COMPILED
def test_same_as_a_literal_is_refused_not_reasoned_smaller(reasoner):
    """owl:sameAs to a literal (asserted, or from a functional property with a literal value) needs
    a triple with a literal subject, which no RDF store holds."""
    with pytest.raises(UnsupportedConstruct, match="literal"):
        infer(sources("", 'ex:a owl:sameAs "x" .'), reasoner)
    with pytest.raises(UnsupportedConstruct, match="literal"):
        infer(sources("ex:code a owl:FunctionalProperty .", 'ex:a ex:code ex:b , "B" .'), reasoner)
    with pytest.raises(UnsupportedConstruct, match="literal"):
        infer(sources("ex:code a owl:FunctionalProperty .", 'ex:a ex:code "A" , "B" . ex:z ex:label "B" .'),
              reasoner)


def test_the_rule_table_is_compiled_from_the_tbox_it_is_given():
    """Only the rules the T-box triggers, each with the T-box's constants in its table."""
    src = sources("ex:A rdfs:subClassOf ex:B . ex:B rdfs:subClassOf ex:C .", "ex:x a ex:A .")
    runner = OxigraphRunner(src.triples())
    rules = compile_rules(harvest_tbox(runner, runner.layout))
    names = [r.name for r in rules.rules]
    assert names[0] == "cax-sco" and not any(n.startswith(("prp-", "cax-dw")) for n in names)
    rows = {tuple(x.value for x in row) for row in rules.rules[0].table[1]}
    assert rows == {(EX + "A", EX + "B"), (EX + "A", EX + "C"), (EX + "B", EX + "C")}
    update = render_rule(rules.rules[0], runner.layout, None)[0]
    assert update.startswith("INSERT") and "VALUES (?c1 ?c2)" in update and "FILTER NOT EXISTS" in update


@pytest.mark.slow
@COMPILED
def test_the_project_closure_equals_owlrls_and_reasonables(kg, reasoner):
    """On the shipped graph: the compiled rules give the ``kg`` fixture's inferred graph (owlrl),
    which tests/test_reason_reasonable.py shows reasonable gives too."""
    assert kg.inference.reasoner == "owlrl"
    compiled = infer(kg.sources, reasoner)
    only_compiled, only_owlrl = differences(compiled.triples, kg.inference.triples)
    assert not only_compiled and not only_owlrl, f"{reasoner} only: {only_compiled}\nowlrl only: {only_owlrl}"
    assert len(compiled.triples) > 6000


@pytest.mark.slow
@COMPILED
def test_the_synthetic_10k_closure_equals_reasonables(tmp_path, reasoner):
    sys.path.insert(0, str(ROOT / "bench"))
    import generate

    path, _ = generate.write(10_000, 1, tmp_path)
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    src = load_files(layout)
    compiled, fast = infer(src, reasoner), infer(src, "reasonable")
    only_compiled, only_fast = differences(compiled.triples, fast.triples)
    assert not only_compiled and not only_fast, f"{reasoner} only: {only_compiled}\nreasonable only: {only_fast}"
    assert len(compiled.triples) > 5000


def test_sparql_reasoning_is_cached_like_the_others(tmp_path):
    src = sources("ex:A rdfs:subClassOf ex:B .", "ex:x a ex:A .")
    src.files = []
    first, second = infer(src, "sparql", tmp_path), infer(src, "sparql", tmp_path)
    assert not first.cached and second.cached and set(first.triples) == set(second.triples)
    assert [p.name.split("-")[1] for p in tmp_path.iterdir()] == ["sparql"]


def test_the_literal_forms_kept_without_rdflib_are_the_ones_rdflib_keeps():
    """``rules._as_owlrl_reads`` skips rdflib for forms it keeps; every shortcut agrees with rdflib."""
    from cowkg.load import term_from_rdflib, term_to_rdflib
    from cowkg.rules import _as_owlrl_reads

    xsd = "http://www.w3.org/2001/XMLSchema#"
    samples = [("0", "integer"), ("17", "integer"), ("-3", "integer"), ("01", "integer"), ("+5", "integer"),
               ("2000000000.0", "decimal"), ("1.50", "decimal"), ("-5", "decimal"), ("01.5", "decimal"),
               (".5", "decimal"),
               ("2025-01-31", "date"), ("2025-01-31Z", "date"), ("2025-02-30", "date"), ("2025-03", "gYearMonth"),
               ("2025", "gYear"), ("1", "boolean"), ("1.0E3", "double"), ("2025-01-01T10:00:00Z", "dateTime")]
    for value, datatype in samples:
        literal = ox.Literal(value, datatype=ox.NamedNode(xsd + datatype))
        assert _as_owlrl_reads(literal) == term_from_rdflib(term_to_rdflib(literal)), literal
    tagged = ox.Literal("x", language="EN-gb")
    assert _as_owlrl_reads(tagged) == term_from_rdflib(term_to_rdflib(tagged))


def test_auto_falls_back_to_reasonable_when_the_rules_lack_a_construct(monkeypatch):
    """Above the size threshold ``auto`` picks the compiled rules; an ontology they cannot reason
    with is reasoned by reasonable, with a warning, not refused."""
    import cowkg.reason

    monkeypatch.setattr(cowkg.reason, "AUTO_THRESHOLD", 1)
    src = sources("ex:p a owl:IrreflexiveProperty . ex:A rdfs:subClassOf ex:B .", "ex:x a ex:A . ex:x ex:p ex:y .")
    assert infer(src, "auto").reasoner == "reasonable"
    assert infer(sources("ex:A rdfs:subClassOf ex:B .", "ex:x a ex:A . ex:y a ex:A ."), "auto").reasoner == "rules"
