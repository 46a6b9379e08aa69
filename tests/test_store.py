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
