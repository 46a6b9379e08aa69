"""The embedded backend: queries run in-process on the pyoxigraph store."""

from __future__ import annotations

from collections.abc import Sequence

from ..media import Format
from ..query import QueryResult, SerializedResult, run_query, run_select_serialized
from ..querytext import ParsedQuery
from ..store import KnowledgeGraph


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, kg: KnowledgeGraph) -> None:
        self.kg = kg

    def query(self, sparql: str | ParsedQuery, *, infer: bool = False, default_graph_uris: Sequence[str] | None = None,
              named_graph_uris: Sequence[str] | None = None, max_rows: int | None = None,
              timeout: float | None = None) -> QueryResult:
        return run_query(self.kg, sparql, infer=infer, default_graph_uris=default_graph_uris,
                         named_graph_uris=named_graph_uris, max_rows=max_rows, timeout=timeout)

    def query_serialized(self, sparql: str | ParsedQuery, fmt: Format, *, infer: bool = False,
                         default_graph_uris: Sequence[str] | None = None,
                         named_graph_uris: Sequence[str] | None = None,
                         max_rows: int | None = None) -> SerializedResult | None:
        """A SELECT written by the engine itself, or None (then ``query``): see ``run_select_serialized``."""
        return run_select_serialized(self.kg, sparql, fmt, infer=infer, default_graph_uris=default_graph_uris,
                                     named_graph_uris=named_graph_uris, max_rows=max_rows)

    def graph_sizes(self) -> dict[str, int]:
        return self.kg.graph_sizes()
