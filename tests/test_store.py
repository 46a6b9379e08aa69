"""The store (cowkg.store): the same quads whether the inferred graph and the Wikibase view come
fresh or from their verified caches, which the engine loads without a Python object per triple."""

from __future__ import annotations

import pyoxigraph as ox
from conftest import ROOT

from cowkg.load import CachedTriples, load_project
from cowkg.reason import infer
from cowkg.store import build_store
from cowkg.vocab import GRAPH_INFERRED, GRAPH_WIKIBASE


def quads(kg) -> set[ox.Quad]:
    return set(kg.store)


def test_a_store_built_from_the_caches_holds_exactly_the_fresh_quads(tmp_path):
    sources = load_project(ROOT)
    fresh = build_store(sources, infer(sources, "reasonable", tmp_path), cache_dir=tmp_path)
    inference = infer(sources, "reasonable", tmp_path)
    cached = build_store(sources, inference, cache_dir=tmp_path)
    assert inference.cached and isinstance(inference.triples, CachedTriples)
    assert cached.wikibase.cached and isinstance(cached.wikibase.triples, CachedTriples)
    assert not inference.triples.parsed, "the cache was parsed into Python objects to be loaded"
    assert quads(cached) == quads(fresh)
    for graph in (GRAPH_INFERRED, GRAPH_WIKIBASE):
        assert len(list(cached.store.quads_for_pattern(None, None, None, ox.NamedNode(str(graph))))) > 1000
    # the triples are still there for whoever asks (stats, Virtuoso loading)
    assert set(inference.triples) == set(fresh.inference.triples)
    assert len(inference.triples) == len(fresh.inference.triples)


# --- dataset views (``KnowledgeGraph.build_views``) -------------------------------------------------------


def _answers(kg, texts: list[str], infer: bool) -> list:
    """Each query's answer as comparable values, up to what SPARQL leaves open: the order of rows
    that ORDER BY does not decide and of the items GROUP_CONCAT joins (each cell is compared as the
    multiset of its space- or comma-separated parts, the rows as a multiset)."""
    import re

    from cowkg.backends.embedded import run_query

    def cell(term) -> tuple:
        if term is None:
            return ()
        kind = (type(term).__name__, str(getattr(term, "datatype", "")), getattr(term, "language", None) or "")
        return (*kind, *sorted(re.split(r"[ ,]+", term.value)))

    out = []
    for text in texts:
        r = run_query(kg, text, infer=infer)
        out.append((r.kind, r.boolean, r.variables, sorted(tuple(map(cell, row)) for row in r.rows),
                    sorted(map(str, r.triples))))
    return out


def test_dataset_views_give_every_query_the_answer_of_the_whole_store(kg) -> None:
    """The competency queries, queries in Wikidata's vocabulary and queries that read named graphs
    (GRAPH, FROM NAMED) answer the same from the views as from the whole store, inferred or not."""
    import dataclasses

    from cowkg.vocab import sparql_prologue
    from cowkg.web.catalog import load_examples

    texts = [sparql_prologue() + ex.query for ex in load_examples(ROOT / "queries") if "SERVICE" not in ex.query]
    texts += [
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GrApH<https://w3id.org/cowkg/graph/inferred>{?s ?p ?o} }"
        " }",
        "SELECT (COUNT(*) AS ?n) FROM NAMED <https://w3id.org/cowkg/graph/data> WHERE { GRAPH ?g { ?s ?p ?o } }",
        "PREFIX wdt: <http://www.wikidata.org/prop/direct/> SELECT (COUNT(*) AS ?n) WHERE { ?s wdt:P31 ?o }",
        "SELECT ?l WHERE { ?s rdfs:label ?l FILTER(CONTAINS(?l, 'graph')) } ORDER BY ?l",
    ]
    whole = dataclasses.replace(kg, views={})
    viewed = dataclasses.replace(kg, views={})
    viewed.build_views()
    assert len(viewed.views) == 1
    for inferred in (False, True):
        expected = _answers(whole, texts, inferred)
        assert _answers(viewed, texts, inferred) == expected
        assert expected[len(texts) - 6][3] and expected[len(texts) - 5][3][0] != ("0",)  # GRAPH reads named graphs


def test_only_a_query_of_the_default_dataset_without_graph_runs_on_a_view(kg) -> None:
    import dataclasses

    from cowkg.backends.embedded import dataset_arguments, engine_for
    from cowkg.querytext import parse_query

    viewed = dataclasses.replace(kg, views={})
    viewed.build_views()

    def store_of(text: str, default=None, named=None, infer: bool = False):
        parsed = parse_query(text)
        store, _ = engine_for(viewed, parsed, dataset_arguments(viewed, parsed, infer, default, named))
        return store

    assert store_of("ASK { ?s ?p 'graph' }") is not kg.store
    data = ["https://w3id.org/cowkg/graph/data"]
    for text, default, named, inferred in (
            ("ASK { ?s ?p ?o }", None, None, True),  # with inference: the whole store
            ("PREFIX wdt: <http://www.wikidata.org/prop/direct/> ASK { ?s wdt:P31 ?o }", None, None, False),
            ("ASK { GRAPH ?g { ?s ?p ?o } }", None, None, False),
            ("ASK FROM <https://w3id.org/cowkg/graph/data> { ?s ?p ?o }", None, None, False),
            ("ASK { ?s ?p ?o }", data, None, False),
            ("ASK { ?s ?p ?o }", None, data, False),
            ("ASK { ?s ?p '\\u0067raph' }", None, None, False)):
        assert store_of(text, default, named, inferred) is kg.store, text
