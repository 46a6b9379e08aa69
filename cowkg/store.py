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

    def __post_init__(self) -> None:
        """Fill the store's default graph, if empty, with the merge of the asserted graphs.

        Queries that name no dataset read it (``default_graphs``): ~2x faster on the competency
        queries than a default graph listed as three named graphs, which pyoxigraph merges per
        query, for one more copy of the asserted triples in memory. The default graph is not a
        named graph: GRAPH ?g patterns, the Graph Store Protocol and exports see the named graphs.
        """
        if next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None:
            self.store.extend([ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                               for g in ASSERTED_GRAPHS
                               for q in self.store.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))])

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
    def default_graphs(infer: bool) -> list[ox.NamedNode | ox.DefaultGraph]:
        """The default graph of a query that names no dataset: the store's own default graph, which
        ``build_store`` fills with the merge of the asserted graphs, plus the inferred graph with
        ``infer``. Same triples as listing the asserted graphs, without merging them per query."""
        return [ox.DefaultGraph(), ox.NamedNode(str(GRAPH_INFERRED))] if infer else [ox.DefaultGraph()]

    def named_quads(self):
        """The quads of the named graphs (the store's default graph only repeats the asserted ones)."""
        for g in ALL_GRAPHS:
            yield from self.store.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))


def build_store(sources: Sources, inference: Inference | None = None) -> KnowledgeGraph:
    """Put each asserted graph, and the inferred triples, into their own named graph (the
    ``KnowledgeGraph`` adds the merge of the asserted ones as the store's default graph)."""
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
