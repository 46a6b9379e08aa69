"""Media types: the one table linking short names, media types, file suffixes and serialisers.

Stage: shared by serialisation, content negotiation, exports and tests. ``choose`` picks the
output format of a result from a ``format=`` parameter or an Accept header (q-values honoured);
it imports no web framework, so the query evaluator can negotiate in a worker process.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox


@dataclass(frozen=True)
class Format:
    """One serialisation: its short name, media type, file suffix, result kind and pyoxigraph format."""

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
#: What ``cowkg export`` writes (and a release holds): graph and dataset formats, RDF/XML aside.
EXPORT_FORMATS = ("ttl", "nt", "jsonld", "trig", "nq")
BY_NAME = {f.name: f for f in ALL_FORMATS} | {"turtle": GRAPH_FORMATS[0], "ntriples": GRAPH_FORMATS[1],
                                             "json-ld": GRAPH_FORMATS[2], "rdf": GRAPH_FORMATS[3],
                                             "n3": GRAPH_FORMATS[0], "rdf+xml": GRAPH_FORMATS[3]}
#: What a results-format name means for a graph result (clients such as SPARQLWrapper send
#: ``format=xml`` or ``format=json`` whatever the query form).
_GRAPH_READING = {"xml": "rdfxml", "json": "jsonld", "srx": "rdfxml", "srj": "jsonld"}


def by_name(name: str, kinds: tuple[str, ...] = ("results", "graph", "dataset")) -> Format | None:
    """Look up a format by short name or media type, restricted to ``kinds``."""
    key = name.strip().lower()
    if "graph" in kinds and "results" not in kinds and key in _GRAPH_READING:
        key = _GRAPH_READING[key]
    fmt = BY_NAME.get(key)
    if fmt is None:
        fmt = next((f for f in ALL_FORMATS if f.kind in kinds and (f.media_type == key or key in f.aliases)),
                   None)
    return fmt if fmt is not None and fmt.kind in kinds else None


def formats_for(kind: str) -> tuple[Format, ...]:
    """The formats that can express a result of ``kind``, the default first."""
    return {"results": RESULT_FORMATS, "graph": GRAPH_FORMATS, "dataset": DATASET_FORMATS}[kind]


def content_type(fmt: Format) -> str:
    """The Content-Type header value, with charset for text formats."""
    if fmt.media_type.startswith("text/") or fmt.media_type.endswith(("json", "+xml", "n-triples")):
        return f"{fmt.media_type}; charset=utf-8"
    return fmt.media_type


HTML = "text/html"


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values, best first (RFC 9110 §12.5.1).

    Malformed entries and q-values are ignored rather than rejected: a bad header must not turn a
    good request into an error. Ties keep header order, more specific ranges win over wildcards.

    >>> parse_accept("text/*;q=0.5, text/csv, */*;q=0.1, application/json;q=bad")
    [('text/csv', 1.0), ('text/*', 0.5), ('*/*', 0.1)]
    """
    ranges = []
    for pos, part in enumerate((header or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            continue
        q: float | None = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = None
        if q is None:
            continue
        specificity = 0 if media == "*/*" else 1 if media.endswith("/*") else 2
        ranges.append((media, q, specificity, pos))
    ranges.sort(key=lambda r: (-r[1], -r[2], r[3]))
    return [(m, q) for m, q, _, _ in ranges]


def _quality(media_type: str, ranges: list[tuple[str, float]]) -> float:
    """The q-value the most specific matching range gives ``media_type`` (0 when none matches)."""
    best_spec, best_q = -1, 0.0
    major = media_type.split("/")[0]
    for media, q in ranges:
        spec = 2 if media == media_type else 1 if media == f"{major}/*" else 0 if media == "*/*" else -1
        if spec > best_spec:
            best_spec, best_q = spec, q
    return best_q


def negotiate(offered: tuple[Format, ...], accept: str | None, extra: tuple[str, ...] = ()) -> Format | str | None:
    """The offered format (or one of the ``extra`` media types, e.g. text/html) the client prefers.

    No Accept header, or only ``*/*``, gives the first offered format. Returns None when the
    client accepts none of them (the caller answers 406).
    """
    ranges = parse_accept(accept)
    if not ranges:
        return offered[0] if offered else (extra[0] if extra else None)
    best, best_key = None, (0.0, 0)
    candidates = [(f.media_type, f) for f in offered] + [(a, f) for f in offered for a in f.aliases] + \
                 [(m, m) for m in extra]
    for rank, (media_type, choice) in enumerate(candidates):
        q = _quality(media_type, ranges)
        explicit = any(m == media_type for m, _ in ranges)
        key = (q, 1 if explicit else 0)
        if q > 0 and (best is None or key > best_key or (key == best_key and rank < best[0])):
            best, best_key = (rank, choice), key
    return best[1] if best else None


def choose(kind: str, accept: str | None = None, format_param: str | list[str] | tuple[str, ...] = "") -> Format:
    """The output format for a result ``kind`` ("results" or "graph") from ``format=`` or Accept.

    ``format_param`` may hold several values (SPARQLWrapper sends a name and a media type): the
    first one that names a format of this kind wins. Raises NotAcceptable (406) naming the
    formats on offer.
    """
    from .errors import NotAcceptable

    offered = formats_for(kind)
    values = [format_param] if isinstance(format_param, str) else list(format_param)
    values = [v for v in values if v and v.strip()]
    if values:
        for value in values:
            fmt = by_name(value, (kind,))
            if fmt is not None:
                return fmt
        raise NotAcceptable(f"format {values[0]!r} cannot express this result",
                            hint="use one of " + ", ".join(f.name for f in offered))
    fmt = negotiate(offered, accept)
    if fmt is None:
        raise NotAcceptable(f"none of the accepted media types ({accept}) can express this result",
                            hint="available: " + ", ".join(f.media_type for f in offered))
    return fmt
