"""Query backends: one ``query()`` API over the embedded store or a remote SPARQL endpoint.

Stage: between store and web/CLI. The web layer and the CLI only talk to a ``Backend``; the
embedded backend wraps the in-process pyoxigraph store, the remote one (``virtuoso``) forwards
to a SPARQL endpoint and translates its answers and errors into the same ``QueryResult`` and
error classes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..query import QueryResult
from ..querytext import ParsedQuery
from ..store import KnowledgeGraph


class Backend(Protocol):
    name: str

    def query(self, sparql: str | ParsedQuery, *, infer: bool = False, default_graph_uris: Sequence[str] | None = None,
              named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
              timeout: float | None = None) -> QueryResult: ...

    def graph_sizes(self) -> dict[str, int]: ...


def as_backend(source: KnowledgeGraph | Backend) -> Backend:
    """A backend for ``source``: a ``KnowledgeGraph`` gets the embedded one, a backend is itself.

    Library functions that must also run against a remote store (``cowkg.export.describe``,
    ``cowkg.context.build_context``, ``cowkg.dump.void_counts``) take either and query through this.
    """
    if isinstance(source, KnowledgeGraph):
        from .embedded import EmbeddedBackend

        return EmbeddedBackend(source)
    return source
