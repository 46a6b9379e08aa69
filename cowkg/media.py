"""Media types: the one table linking short names, media types, file suffixes and serialisers.

Stage: shared by serialisation, content negotiation, exports and tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    name: str  # short name used by --format and ?format=
    media_type: str
    suffix: str
    kind: str  # "results" (SELECT/ASK), "graph" (triples), "dataset" (quads)
    ox_format: ox.QueryResultsFormat | ox.RdfFormat | None = None
    aliases: tuple[str, ...] = ()


RESULT_FORMATS = (
    Format("json", "application/sparql-results+json", ".srj", "results", ox.QueryResultsFormat.JSON,
           ("application/json",)),
    Format("xml", "application/sparql-results+xml", ".srx", "results", ox.QueryResultsFormat.XML,
           ("application/xml", "text/xml")),
    Format("csv", "text/csv", ".csv", "results", ox.QueryResultsFormat.CSV),
    Format("tsv", "text/tab-separated-values", ".tsv", "results", ox.QueryResultsFormat.TSV),
)

GRAPH_FORMATS = (
    Format("ttl", "text/turtle", ".ttl", "graph", ox.RdfFormat.TURTLE, ("application/x-turtle",)),
    Format("nt", "application/n-triples", ".nt", "graph", ox.RdfFormat.N_TRIPLES, ("text/plain",)),
    Format("jsonld", "application/ld+json", ".jsonld", "graph", ox.RdfFormat.JSON_LD, ("application/json",)),
    Format("rdfxml", "application/rdf+xml", ".rdf", "graph", ox.RdfFormat.RDF_XML, ("application/xml",)),
)

DATASET_FORMATS = (
    Format("trig", "application/trig", ".trig", "dataset", ox.RdfFormat.TRIG),
    Format("nq", "application/n-quads", ".nq", "dataset", ox.RdfFormat.N_QUADS),
)

ALL_FORMATS = RESULT_FORMATS + GRAPH_FORMATS + DATASET_FORMATS
BY_NAME = {f.name: f for f in ALL_FORMATS} | {"turtle": GRAPH_FORMATS[0], "ntriples": GRAPH_FORMATS[1],
                                             "json-ld": GRAPH_FORMATS[2], "rdf": GRAPH_FORMATS[3]}


def by_name(name: str, kinds: tuple[str, ...] = ("results", "graph", "dataset")) -> Format | None:
    """Look up a format by short name or media type, restricted to ``kinds``."""
    key = name.strip().lower()
    fmt = BY_NAME.get(key)
    if fmt is None:
        fmt = next((f for f in ALL_FORMATS if f.kind in kinds and (f.media_type == key or key in f.aliases)),
                   None)
    return fmt if fmt is not None and fmt.kind in kinds else None


def formats_for(kind: str) -> tuple[Format, ...]:
    return {"results": RESULT_FORMATS, "graph": GRAPH_FORMATS, "dataset": DATASET_FORMATS}[kind]


def content_type(fmt: Format) -> str:
    """The Content-Type header value, with charset for text formats."""
    if fmt.media_type.startswith("text/") or fmt.media_type.endswith(("json", "+xml", "n-triples")):
        return f"{fmt.media_type}; charset=utf-8"
    return fmt.media_type
