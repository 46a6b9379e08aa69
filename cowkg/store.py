"""Store: the asserted named graphs and the inferred graph in one pyoxigraph store.

Stage: after loading and reasoning. pyoxigraph was chosen by measurement (see bench/engines.py
and the README): 10–80× faster than rdflib's SPARQL engine on this graph's query mix.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .load import Sources, add_to_store, load_project
from .progress import Progress, report
from .reason import Inference, infer
from .vocab import ALL_GRAPHS, ASSERTED_GRAPHS, GRAPH_INFERRED, GRAPH_WIKIBASE
from .wikibase import PendingView, WikibaseView, build_view


@dataclass
class KnowledgeGraph:
    """An in-memory store plus what it was built from (for stats, VoID and entity pages)."""

    store: ox.Store
    sources: Sources | None = None
    inference: Inference | None = None
    built: dict[str, float] = field(default_factory=dict)
    wikibase: WikibaseView | None = None
    #: Stores holding one query dataset each as their only graph (``build_views``), by the graphs
    #: that ``default_graphs`` lists for it.
    views: dict[tuple[str, ...], ox.Store] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        """Fill the store's default graph, if empty, with the merge of the asserted graphs.

        Queries that name no dataset read it (``default_graphs``): ~2x faster on the competency
        queries than a default graph listed as three named graphs, which pyoxigraph merges per
        query, for one more copy of the asserted triples in memory. The default graph is not a
        named graph: GRAPH ?g patterns, the Graph Store Protocol and exports see the named graphs.
        """
        if next(iter(self.store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is None:
            for g in ASSERTED_GRAPHS:  # copied by the engine: 2.5x less CPU than through Python objects
                self.store.update(f"INSERT {{ ?s ?p ?o }} WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")

    def attach_view(self, view: WikibaseView) -> None:
        """Add the Wikibase view's triples as their own named graph."""
        add_to_store(self.store, view.triples, ox.NamedNode(str(GRAPH_WIKIBASE)))
        self.wikibase = view

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph, computed from the store."""
        sizes = {}
        for g in ALL_GRAPHS:
            res = self.store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}")
            sizes[str(g)] = int(next(iter(res))["n"].value)
        return sizes

    @staticmethod
    def default_graphs(infer: bool, wikibase: bool = False) -> list[ox.NamedNode | ox.DefaultGraph]:
        """The default graph of a query that names no dataset: the store's own default graph, which
        ``build_store`` fills with the merge of the asserted graphs (same triples as listing them,
        without merging them per query), plus the inferred graph with ``infer``.

        A query in Wikidata's vocabulary (``wikibase``, see cowkg.wdqs) reads the asserted graphs and
        the Wikibase view instead, whatever ``infer`` says: the view is itself derived from the
        asserted graphs, and the OWL closure would repeat its labels (owl:sameAs copies every name of
        an entity onto its wd: item), so both at once would give duplicate solutions. Neither
        computed graph repeats an asserted triple."""
        if wikibase:
            return [ox.DefaultGraph(), ox.NamedNode(str(GRAPH_WIKIBASE))]
        return [ox.DefaultGraph(), ox.NamedNode(str(GRAPH_INFERRED))] if infer else [ox.DefaultGraph()]

    def build_views(self) -> None:
        """Copy the dataset most queries read — the asserted merge, without inference, the default
        graph of ``default_graphs(False)`` — into a store of its own. The engine then scans only its
        triples, not every graph's: the competency queries take 1.3x less time through ``run_query``
        (bench/results/dataset_views.txt), for one more copy of them in memory. Built by the server
        before it forks (its workers share it); ``dataset_store`` gives a query its view. Queries
        with inference or in Wikidata's vocabulary keep the whole store: copying their datasets too
        would add a quarter of a second to the server's start (and blank nodes must keep their
        labels, so the copy goes through Python objects, not a parser, which relabels them)."""
        graphs = self.default_graphs(False)
        key = tuple(str(g) for g in graphs)
        if key in self.views:
            return
        view = ox.Store()
        for g in graphs:
            view.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                        for q in self.store.quads_for_pattern(None, None, None, g))
        self.views[key] = view

    def dataset_store(self, graphs: list[ox.NamedNode | ox.DefaultGraph]) -> ox.Store | None:
        """The view holding exactly ``graphs`` as its default graph (``build_views``), if built."""
        return self.views.get(tuple(str(g) for g in graphs)) if self.views else None

    def named_quads(self):
        """The quads of the named graphs (the store's default graph only repeats the asserted ones)."""
        for g in ALL_GRAPHS:
            yield from self.store.quads_for_pattern(None, None, None, ox.NamedNode(str(g)))


def build_store(sources: Sources, inference: Inference | None = None,
                wikibase: WikibaseView | bool = True,
                cache_dir: str | Path | None = None) -> KnowledgeGraph:
    """Put each asserted graph, the inferred triples and the Wikibase view into their own named
    graph (the ``KnowledgeGraph`` adds the merge of the asserted ones as the store's default graph).

    ``wikibase``: a view already built, True to build it here (read from ``cache_dir`` if cached
    there), False for none (``open_project`` attaches one built meanwhile, ``PendingView``)."""
    store = ox.Store()
    quads = []
    for graph, triples in sources.graphs.items():
        g = ox.NamedNode(graph)
        quads.extend(ox.Quad(*t, g) for t in triples)
    store.extend(quads)
    del quads
    if inference is not None:
        add_to_store(store, inference.triples, ox.NamedNode(str(GRAPH_INFERRED)))
    kg = KnowledgeGraph(store, sources, inference)
    if wikibase is True:
        wikibase = build_view(sources, cache_dir, store=store)
    if wikibase:
        kg.attach_view(wikibase)
    return kg


def open_project(root: str | Path, *, reasoner: str = "auto", cache_dir: str | Path | None = None,
                 with_inference: bool = True, with_wikibase: bool = True,
                 progress: Progress | None = None,
                 before_view: Callable[[KnowledgeGraph], None] | None = None) -> KnowledgeGraph:
    """Load, reason and index the project at ``root``: the one call the CLI and web app share.

    ``progress`` hears the stages "load" (files), "reason" and "index" (one step each); the index
    stage adds the Wikibase view (cowkg.wikibase) unless ``with_wikibase`` is false. A large
    graph's view is built in a helper process meanwhile (``PendingView``), so ``before_view``
    (validation, say) runs on the store of the asserted and inferred graphs before the view is
    waited for; what it raises stops the helper."""
    sources = load_project(root, progress=progress)
    with PendingView(sources, cache_dir) if with_wikibase else nullcontext() as view:
        inference = None
        if with_inference:
            report(progress, "reason", 0, 1)
            inference = infer(sources, reasoner, cache_dir)
            report(progress, "reason", 1, 1)
        report(progress, "index", 0, 1)
        kg = build_store(sources, inference, wikibase=False)
        if before_view is not None:
            before_view(kg)
        if view is not None:
            kg.attach_view(view.result(kg.store))
        report(progress, "index", 1, 1)
    return kg
