"""Query backends: the one door to the graph, over the embedded store or a remote SPARQL endpoint.

Stage: between store and web/CLI. Everything that reads the graph — the web layer, the CLI, exports,
releases, the ontology documentation, coverage, QuickStatements and the Wikidata tools — talks to a
``Backend``; only this package holds the pyoxigraph store of the project. The embedded backend
wraps the in-process store (``cowkg.store``), the remote one (``virtuoso``) forwards to a SPARQL
endpoint and translates its answers and errors into the same ``QueryResult`` and error classes.
``open_backend(settings)`` builds the one the settings ask for: the CLI and the web app share it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import pyoxigraph as ox

from ..load import Sources
from ..media import Format
from ..progress import Progress
from ..query import QueryResult, SerializedResult
from ..querytext import ParsedQuery
from ..store import KnowledgeGraph
from ..vocab import ALL_GRAPHS

__all__ = ["BACKENDS", "Backend", "GraphSource", "as_backend", "local_copy", "open_backend"]

log = logging.getLogger(__name__)

#: The backends ``open_backend`` builds (the ``backend`` setting, ``cowkg serve --backend``).
BACKENDS = ("embedded", "virtuoso")


class Backend(Protocol):
    """What every reader of the graph may ask: queries, the quads of named graphs, sizes, a version."""

    name: str
    #: The files the graph was loaded from (for file:line in reports), None for a remote store.
    sources: Sources | None
    #: The OWL 2 RL engine that computed the inferred graph, None when not known here.
    reasoner: str | None

    def query(self, sparql: str | ParsedQuery, *, infer: bool = False, default_graph_uris: Sequence[str] | None = None,
              named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
              timeout: float | None = None) -> QueryResult:
        """Evaluate ``sparql`` over the dataset the request chose (or the default one); raises the
        error classes of ``cowkg.errors`` (syntax 400, timeout 503, unreachable store 502, ...)."""

    def query_serialized(self, sparql: str | ParsedQuery, fmt: Format, *, infer: bool = False,
                         default_graph_uris: Sequence[str] | None = None,
                         named_graph_uris: Sequence[str] | None = None,
                         max_rows: int | None = None) -> SerializedResult | None:
        """A SELECT straight to the bytes of ``fmt`` when the backend can write them itself, else
        None (the caller then uses ``query`` and ``QueryResult.serialize``)."""

    def quads(self, graphs: Iterable[str]) -> Iterator[ox.Quad]:
        """Every quad of the named graphs ``graphs`` (IRIs), graph by graph: what exports read."""

    def graph_sizes(self) -> dict[str, int]:
        """Triples per named graph of the project."""

    def version(self) -> str:
        """A short hash of the data served: it changes whenever a triple does (keys ETags, caches)."""


#: What library functions accept: a backend, or a ``KnowledgeGraph`` built in-process (wrapped by ``as_backend``).
GraphSource = Backend | KnowledgeGraph


def as_backend(source: KnowledgeGraph | Backend) -> Backend:
    """A backend for ``source``: a ``KnowledgeGraph`` gets the embedded one, a backend is itself.

    Library functions take a backend; a ``KnowledgeGraph`` (what tests and scripts build) is
    wrapped here so they can be handed one directly.
    """
    if isinstance(source, KnowledgeGraph):
        from .embedded import EmbeddedBackend

        return EmbeddedBackend(source)
    return source


def local_copy(source: GraphSource) -> Backend:
    """A backend that answers in this process: ``source`` itself when it does, else an embedded
    backend over a copy of the remote store's named graphs (read once, one query per graph).

    For work that asks hundreds of queries (a release's framed files describe every entity): over
    Virtuoso each description takes seconds, over the copy milliseconds. The copy is made from the
    store being served, never from the project's files.
    """
    from .embedded import EmbeddedBackend

    backend = as_backend(source)
    if isinstance(backend, EmbeddedBackend):
        return backend
    store = ox.Store()
    store.extend(backend.quads(str(g) for g in ALL_GRAPHS))
    return EmbeddedBackend(KnowledgeGraph(store))


def open_backend(cfg: dict[str, Any], *, check: bool = False, with_inference: bool = True,
                 progress: Progress | None = None) -> Backend:
    """The backend the settings ask for (``backend``: the embedded store by default).

    Embedded: the project at ``cfg['root']`` is loaded, reasoned (unless ``with_inference`` is
    false) and indexed; with ``check`` it must conform to the shapes and QC queries first (raises
    ValidationFailed, unless ``allow_invalid``). Virtuoso: the ``endpoint`` setting, else the
    private instance of ``virtuoso_dir`` (``cowkg virtuoso up``); nothing is loaded here.
    """
    if cfg["backend"] == "embedded":
        from ..settings import project_paths
        from ..store import open_project
        from ..validate import check_project
        from .embedded import EmbeddedBackend

        def checked(kg) -> None:  # before the Wikibase view is waited for: a helper may still build it
            paths = project_paths(cfg["root"])
            check_project(kg.sources, paths["shapes"], cfg["cache_dir"], cfg["root"], paths["queries"],
                          cfg["shacl_engine"], kg.store)

        if check and cfg["allow_invalid"]:
            log.warning("allow_invalid: serving the data without checking it against the shapes")
        kg = open_project(cfg["root"], reasoner=cfg["reasoner"], cache_dir=cfg["cache_dir"],
                          with_inference=with_inference, progress=progress,
                          before_view=checked if check and not cfg["allow_invalid"] else None)
        return EmbeddedBackend(kg)
    if cfg["backend"] == "virtuoso":
        from ..virtuoso import find_instance
        from .virtuoso import RemoteSparqlBackend

        private = find_instance(cfg["virtuoso_dir"])  # `cowkg virtuoso up` without --endpoint
        return RemoteSparqlBackend(cfg["endpoint"] or (private.endpoint if private else ""))
    raise ValueError(f"unknown backend {cfg['backend']!r}")
