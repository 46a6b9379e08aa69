"""Render query results as a plain-text table for people at a terminal."""

from __future__ import annotations

import pyoxigraph as ox

from .query import QueryResult
from .vocab import shorten


def term_text(term) -> str:
    """A short human form of a term: CURIEs for IRIs, bare lexical forms for literals."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        return shorten(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        return f"{term.value}@{term.language}" if term.language else term.value
    return str(term)


def render_table(result: QueryResult, max_width: int = 60) -> str:
    if result.kind == "boolean":
        return "true" if result.boolean else "false"
    if result.kind == "graph":
        rows = [[term_text(t.subject), term_text(t.predicate), term_text(t.object)] for t in result.triples]
        header = ["subject", "predicate", "object"]
    else:
        header = result.variables
        rows = [[term_text(r[v]) for v in header] for r in result.rows]
    rows = [[c if len(c) <= max_width else c[: max_width - 1] + "…" for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    note = f"({len(rows)} row{'s' if len(rows) != 1 else ''}{', truncated' if result.truncated else ''})"
    return "\n".join(out + [note])
