"""Store: the asserted named graphs and the inferred graph in one pyoxigraph store.

Stage: after loading and reasoning. pyoxigraph was chosen by measurement (see bench/engines.py
and the README): 10–80× faster than rdflib's SPARQL engine on this graph's query mix.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .load import Sources, load_project
from .progress import Progress, report
from .reason import Inference, infer
from .vocab import ALL_GRAPHS, ASSERTED_GRAPHS, GRAPH_INFERRED


@dataclass
class KnowledgeGraph:
    """An in-memory store plus what it was built from (for stats, VoID and entity pages)."""

    store: ox.Store
    sources: Sources | None = None
    inference: Inference | None = None
    built: dict[str, float] = field(default_factory=dict)

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph, computed from the store."""
        sizes = {}
        for g in ALL_GRAPHS:
            res = self.store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
            sizes[str(g)] = int(next(iter(res))["n"].value)
        return sizes

    def has_inference(self) -> bool:
        return self.inference is not None

    @staticmethod
    def default_graphs(infer: bool) -> list[ox.NamedNode]:
        graphs = ALL_GRAPHS if infer else ASSERTED_GRAPHS
        return [ox.NamedNode(str(g)) for g in graphs]


def build_store(sources: Sources, inference: Inference | None = None) -> KnowledgeGraph:
    """Put each asserted graph, and the inferred triples, into their own named graph."""
    store = ox.Store()
    quads = []
    for graph, triples in sources.graphs.items():
        g = ox.NamedNode(graph)
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in triples)
    if inference is not None:
        g = ox.NamedNode(str(GRAPH_INFERRED))
        quads.extend(ox.Quad(t.subject, t.predicate, t.object, g) for t in inference.triples)
    store.extend(quads)
    return KnowledgeGraph(store, sources, inference)


def open_project(root: str | Path, *, reasoner: str = "auto", cache_dir: str | Path | None = None,
                 with_inference: bool = True, progress: Progress | None = None) -> KnowledgeGraph:
    """Load, reason and index the project at ``root``: the one call the CLI and web app share.

    ``progress`` hears the stages "load" (files), "reason" and "index" (one step each)."""
    sources = load_project(root, progress=progress)
    inference = None
    if with_inference:
        report(progress, "reason", 0, 1)
        inference = infer(sources, reasoner, cache_dir)
        report(progress, "reason", 1, 1)
    report(progress, "index", 0, 1)
    kg = build_store(sources, inference)
    report(progress, "index", 1, 1)
    return kg
