"""Reasoning: the OWL 2 RL closure lands in its own graph and makes the Wikidata view work."""

from __future__ import annotations

from pathlib import Path

import pytest

from cowkg.backends.embedded import run_query
from cowkg.load import load_project
from cowkg.reason import infer, pick_reasoner

ROOT = Path(__file__).resolve().parent.parent


def test_inferred_triples_are_apart_from_asserted(kg):
    asserted = run_query(kg, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH cowg:inferred { ?s ?p ?o } "
                             "GRAPH ?g { ?s ?p ?o } FILTER(?g IN (cowg:ontology, cowg:data, cowg:meta)) }")
    assert int(asserted.rows[0]["n"].value) == 0
    assert len(kg.inference.triples) > 100


def test_wikidata_vocabulary_is_the_wikibase_view_not_the_owl_closure(kg):
    """Wikidata's properties are stated by the Wikibase view (cowkg.wikibase), with ranks and
    qualifiers, never inferred: OWL axioms cannot keep plans out of truthy wdt: triples."""
    q = "ASK { GRAPH ?g { ?m wdt:P585 ?d ; wdt:P31 cow:CoalitionMeeting } }"
    assert run_query(kg, q.replace("?g", "cowg:wikibase")).boolean is True
    assert run_query(kg, q.replace("?g", "cowg:inferred")).boolean is False


def test_cache_is_reused_and_equal(tmp_path):
    sources = load_project(ROOT)
    first = infer(sources, "owlrl", tmp_path)
    second = infer(sources, "owlrl", tmp_path)
    assert not first.cached and second.cached
    assert set(first.triples) == set(second.triples)


def test_auto_picks_by_size():
    assert pick_reasoner("auto", 10) == "owlrl"
    assert pick_reasoner("auto", 10_000_000) == "rules"
    with pytest.raises(ValueError):
        pick_reasoner("hermit", 1)


ANONYMOUS_SUMMIT = """@prefix cow: <https://w3id.org/cowkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
[] a cow:LeadersSummit ; rdfs:label "an unnamed summit"@en .
"""


@pytest.mark.parametrize("reasoner", ["rules", "owlrl"])
def test_a_warm_cache_types_anonymous_nodes_as_a_cold_start_does(tmp_path, reasoner):
    """The inferred graph read from the cache must speak of the blank nodes of this load, not of
    the load that wrote it: Turtle's ``[]`` gets a new label each time a file is parsed."""
    from cowkg.store import build_store

    extra = tmp_path / "anonymous.ttl"
    extra.write_text(ANONYMOUS_SUMMIT, encoding="utf-8")
    query = "SELECT ?label WHERE { ?m a cow:Meeting ; rdfs:label ?label FILTER(STR(?label) = 'an unnamed summit') }"
    answers = []
    for _ in range(2):  # cold, then warm
        sources = load_project(ROOT, extra=[extra])
        kg = build_store(sources, infer(sources, reasoner, tmp_path / "cache"), wikibase=False)
        answers.append([r["label"].value for r in run_query(kg, query, infer=True).rows])
        orphans = run_query(kg, "SELECT (COUNT(*) AS ?n) WHERE { GRAPH cowg:inferred { ?s ?p ?o } FILTER(isBlank(?s)) "
                                "FILTER NOT EXISTS { GRAPH ?g { ?s ?x ?y } FILTER(?g != cowg:inferred) } }")
        assert int(orphans.rows[0]["n"].value) == 0
    assert kg.inference.cached
    assert answers == [["an unnamed summit"], ["an unnamed summit"]]
