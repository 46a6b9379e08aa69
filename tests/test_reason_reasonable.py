"""The fast reasoning path (reasonable + schema rules + property chains) gives owlrl's triples."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from cowkg.load import Sources
from cowkg.reason import infer, pick_reasoner
from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

TOY_ONTOLOGY = """
@prefix ex: <http://example.org/> . @prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
ex:Summit rdfs:subClassOf ex:Meeting . ex:Meeting owl:equivalentClass ex:Gathering .
ex:attendedBy owl:propertyChainAxiom ( ex:hasRecord ex:attendee ) ; rdfs:subPropertyOf ex:participant .
ex:chair rdfs:range ex:Person . ex:instanceOf owl:equivalentProperty rdf:type .
rdf:type rdfs:subPropertyOf ex:typeOf .
ex:status a owl:FunctionalProperty .
"""
TOY_DATA = """
@prefix ex: <http://example.org/> .
ex:m1 a ex:Summit ; ex:hasRecord ex:r1 ; ex:chair ex:keir ; ex:label "plain" , "tagged"@en .
ex:r1 ex:attendee ex:emmanuel .
ex:r1 ex:status ex:fact , ex:certain . ex:fact ex:rank 1 .
"""


def toy_sources() -> Sources:
    graphs = {str(GRAPH_ONTOLOGY): [t.triple for t in ox.parse(TOY_ONTOLOGY, format=ox.RdfFormat.TURTLE)],
              str(GRAPH_DATA): [t.triple for t in ox.parse(TOY_DATA, format=ox.RdfFormat.TURTLE)]}
    return Sources(graphs=graphs)


def test_both_reasoners_agree_on_chains_schema_rules_and_literals():
    sources = toy_sources()
    owlrl, fast = infer(sources, "owlrl"), infer(sources, "reasonable")
    assert fast.reasoner == "reasonable" and owlrl.reasoner == "owlrl"
    assert set(fast.triples) == set(owlrl.triples)
    ex = "http://example.org/"
    got = {(t.subject.value, t.predicate.value, t.object.value) for t in fast.triples}
    assert (ex + "m1", ex + "attendedBy", ex + "emmanuel") in got  # prp-spo2 (reasonable lacks it)
    assert (ex + "m1", ex + "participant", ex + "emmanuel") in got  # ... then prp-spo1 on its result
    assert (ex + "Summit", "http://www.w3.org/2000/01/rdf-schema#subClassOf", ex + "Gathering") in got  # scm
    assert (ex + "fact", "http://www.w3.org/2002/07/owl#sameAs", ex + "certain") in got  # prp-fp, done here
    assert (ex + "certain", ex + "rank", "1") in got  # ... and its equality consequences (eq-rep-s)
    assert not any(t.object.value == "http://www.w3.org/2002/07/owl#Thing" for t in fast.triples)
    literals = {t.object.value for t in fast.triples if isinstance(t.object, ox.Literal)}
    assert literals == {"1"}  # the rank copied by eq-rep; asserted plain literals are not re-inferred


@pytest.mark.slow
def test_reasonable_gives_exactly_the_owlrl_closure_on_the_project(kg):
    """The project's inferred graph (built with owlrl by the ``kg`` fixture) equals the fast path's."""
    assert kg.inference.reasoner == "owlrl"
    fast = infer(kg.sources, "reasonable")
    reference = set(kg.inference.triples)
    only_owlrl = sorted(str(t) for t in reference - set(fast.triples))
    only_fast = sorted(str(t) for t in set(fast.triples) - reference)
    assert not only_owlrl and not only_fast, f"owlrl only: {only_owlrl[:5]}\nreasonable only: {only_fast[:5]}"


def test_auto_says_which_reasoner_ran():
    sources = toy_sources()
    assert infer(sources, "auto").reasoner == pick_reasoner("auto", sources.count()) == "owlrl"
