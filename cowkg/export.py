"""Export: the whole graph (or a chosen set of named graphs) as deterministic files.

Stage: after the store. Output bytes are the same for the same input: triples are sorted and
blank nodes get canonical labels (RDFC-1.0 via pyoxigraph) and are skolemised to IRIs under the
dataset namespace, so two exports diff cleanly. ``write_atomic`` never leaves a half file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError
from .media import Format, by_name
from .serialize import used_prefixes
from .store import KnowledgeGraph
from .vocab import ASSERTED_GRAPHS, BASE, GRAPH_INFERRED

GENID = BASE + ".well-known/genid/"
EXPORT_FORMATS = ("ttl", "nt", "jsonld", "trig", "nq")


def export_graphs(infer: bool) -> list[str]:
    """Which named graphs an export contains: asserted ones, plus the inferred one on request."""
    graphs = [str(g) for g in ASSERTED_GRAPHS]
    return graphs + [str(GRAPH_INFERRED)] if infer else graphs


def collect_quads(kg: KnowledgeGraph, graphs: Iterable[str]) -> list[ox.Quad]:
    """Quads of ``graphs`` with canonical, skolemised blank nodes, sorted."""
    dataset = ox.Dataset(q for g in graphs for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(g)))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    quads = [_skolemise(q) for q in dataset]
    quads.sort(key=_sort_key)
    return quads


def _skolem(term):
    return ox.NamedNode(GENID + term.value) if isinstance(term, ox.BlankNode) else term


def _skolemise(q: ox.Quad) -> ox.Quad:
    return ox.Quad(_skolem(q.subject), q.predicate, _skolem(q.object), q.graph_name)


def _sort_key(q: ox.Quad) -> tuple[str, str, str, str]:
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def serialize_export(quads: list[ox.Quad], fmt: Format) -> bytes:
    """Bytes of an export. Graph formats merge the graphs; dataset formats keep them apart."""
    if fmt.kind == "dataset":
        return ox.serialize(quads, format=fmt.ox_format, prefixes=used_prefixes(q.triple for q in quads)) \
            if fmt.ox_format == ox.RdfFormat.TRIG else ox.serialize(quads, format=fmt.ox_format)
    triples = sorted({q.triple for q in quads}, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if fmt.ox_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD):
        return ox.serialize(triples, format=fmt.ox_format, prefixes=used_prefixes(triples))
    return ox.serialize(triples, format=fmt.ox_format)


def export_bytes(kg: KnowledgeGraph, fmt_name: str, infer: bool = False) -> bytes:
    fmt = by_name(fmt_name, ("graph", "dataset"))
    if fmt is None or fmt.name not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt_name!r}", hint=f"choose one of {', '.join(EXPORT_FORMATS)}")
    return serialize_export(collect_quads(kg, export_graphs(infer)), fmt)


def write_atomic(path: str | Path, content: bytes) -> None:
    """Write to a temporary file beside ``path`` then rename: readers see old or new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
