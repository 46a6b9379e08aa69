"""VoID: the statistics of the dataset and the VoID + DCAT description of a release.

Stage: after the backend (read through it, embedded or remote). One place for VoID: ``void_counts``
and ``void_partitions`` compute the statistics both VoID documents state — a release's
``void.ttl`` (``void_turtle``, written by ``cowkg dump``) and the endpoint's ``/.well-known/void``
(cowkg.web.describe, which adds the SPARQL endpoint, the URI lookup and the Wikidata linkset).
Counts are of distinct triples, by SPARQL, so a remote store gives the embedded store's numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .backends import GraphSource, as_backend
from .export import canonical_quads, write_turtle
from .vocab import ALL_GRAPHS, ASSERTED_GRAPHS, BASE, COWR, GRAPH_META, shorten
from .vocab import NS_DCAT as DCAT
from .vocab import NS_DCT as DCT
from .vocab import NS_OWL as OWL
from .vocab import NS_RDF as RDF
from .vocab import NS_SPDX as SPDX
from .vocab import NS_VOID as VOID
from .vocab import NS_XSD as XSD

if TYPE_CHECKING:
    from .dump import ReleaseFile

__all__ = ["ASSERTED_SUBSET", "DATASET", "void_counts", "void_partitions", "void_turtle"]

DATASET = BASE + "dataset"
ASSERTED_SUBSET = DATASET + "#asserted"
LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
IANA = "https://www.iana.org/assignments/media-types/"


# --------------------------------------------------------------------------------------------

def _count_query(graphs: Sequence[str]) -> str:
    froms = " ".join(f"FROM <{g}>" for g in graphs)
    return f"""SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) (COUNT(DISTINCT ?p) AS ?properties)
        (COUNT(DISTINCT ?o) AS ?objects) (COUNT(DISTINCT ?e) AS ?entities) (COUNT(DISTINCT ?c) AS ?classes)
        {froms} WHERE {{
          {{ SELECT DISTINCT ?s ?p ?o WHERE {{ ?s ?p ?o }} }}
          BIND(IF(isIRI(?s) && STRSTARTS(STR(?s), "{COWR}"), ?s, ?unbound) AS ?e)
          BIND(IF(?p = <{RDF}type>, ?o, ?unbound) AS ?c)
        }}"""


def void_counts(source: GraphSource, graphs: Sequence[str], timeout: float | None = None) -> dict[str, int]:
    """VoID statistics of the union of ``graphs`` (each distinct triple once), computed by SPARQL.

    Keys: triples, distinctSubjects, properties, distinctObjects, entities (subjects in the
    ``void:uriSpace`` https://w3id.org/cowkg/id/), classes (distinct objects of rdf:type).
    """
    row = as_backend(source).query(_count_query(graphs), timeout=timeout).rows[0]
    return {"triples": int(row["triples"].value), "distinctSubjects": int(row["subjects"].value),
            "properties": int(row["properties"].value), "distinctObjects": int(row["objects"].value),
            "entities": int(row["entities"].value), "classes": int(row["classes"].value)}


def void_partitions(source: GraphSource, graphs: Sequence[str],
                    timeout: float | None = None) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Class partitions (distinct instances per class) and property partitions (distinct triples per
    property) of the union of ``graphs``, sorted by IRI."""
    backend = as_backend(source)
    froms = " ".join(f"FROM <{g}>" for g in graphs)
    classes = backend.query(f"SELECT ?c (COUNT(DISTINCT ?s) AS ?n) {froms} WHERE {{ ?s a ?c FILTER(isIRI(?c)) }} "
                            "GROUP BY ?c ORDER BY ?c", timeout=timeout).rows
    props = backend.query(f"SELECT ?p (COUNT(*) AS ?n) {froms} WHERE {{ SELECT DISTINCT ?s ?p ?o "
                          "WHERE { ?s ?p ?o } } GROUP BY ?p ORDER BY ?p", timeout=timeout).rows
    return ([(r["c"].value, int(r["n"].value)) for r in classes], [(r["p"].value, int(r["n"].value)) for r in props])


def _slug(iri: str) -> str:
    short = shorten(iri)
    if short != iri:
        return short.replace(":", "-")
    return hashlib.sha256(iri.encode()).hexdigest()[:16]


def void_turtle(source: GraphSource, files: Iterable[ReleaseFile], *, release: str, issued: dt.date,
                base_url: str = BASE) -> bytes:
    """VoID + DCAT for a release: the dataset (all four graphs), its asserted part and each named
    graph with their counts, class and property partitions, and one dcat:Distribution per file
    (download URL, media type, byte size, SHA-256) attached to the (sub)dataset it holds.

    The version described is ``release``, the name of the release being written: it is the
    dataset's ``dcat:version`` (and ``owl:versionInfo``, when the metadata gives one) in this VoID.
    A different version in data/meta/dataset.ttl (``cowkg dump --release 0.1.1`` before the file
    is bumped) is replaced here, not repeated beside it, and the header comment says so; the
    asserted files keep the meta graph as loaded.
    """
    backend = as_backend(source)
    t: list[ox.Triple] = []

    def add(s: str, p: str, o) -> None:
        obj = o if isinstance(o, ox.Literal | ox.NamedNode) else ox.NamedNode(o)
        t.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), obj))

    def lit(value, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
        if lang:
            return ox.Literal(str(value), language=lang)
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(str(value))

    def describe_counts(s: str, graphs: Sequence[str]) -> None:
        add(s, RDF + "type", VOID + "Dataset")
        for key, n in void_counts(backend, graphs).items():
            add(s, VOID + key, lit(n, XSD + "integer"))

    # The static description (data/meta/dataset.ttl) travels with the release, its version
    # statements replaced by the release's own.
    stated: dict[str, set[str]] = {DCAT + "version": set(), OWL + "versionInfo": set()}
    for q in backend.quads([str(GRAPH_META)]):
        if q.subject.value == DATASET and q.predicate.value in stated:
            stated[q.predicate.value].add(q.object.value)
        else:
            t.append(q.triple)
    add(DATASET, DCAT + "version", lit(release))
    if stated[OWL + "versionInfo"]:
        add(DATASET, OWL + "versionInfo", lit(release))
    every = [str(g) for g in ALL_GRAPHS]
    asserted = [str(g) for g in ASSERTED_GRAPHS]
    describe_counts(DATASET, every)
    describe_counts(ASSERTED_SUBSET, asserted)
    add(ASSERTED_SUBSET, DCT + "title", lit("cowkg, asserted triples", lang="en"))
    add(DATASET, VOID + "subset", ASSERTED_SUBSET)
    for g in every:
        describe_counts(g, [g])
        add(ASSERTED_SUBSET if g in asserted else DATASET, VOID + "subset", g)
    add(DATASET, DCT + "issued", lit(issued.isoformat(), XSD + "date"))
    add(DATASET, DCT + "modified", lit(issued.isoformat(), XSD + "date"))
    add(DATASET, VOID + "feature", "http://www.w3.org/ns/formats/Turtle")
    for fmt in ("N-Triples", "JSON-LD", "TriG", "N-Quads"):
        add(DATASET, VOID + "feature", f"http://www.w3.org/ns/formats/{fmt}")
    classes, props = void_partitions(backend, asserted)
    for cls, n in classes:
        part = f"{DATASET}#class-{_slug(cls)}"
        add(ASSERTED_SUBSET, VOID + "classPartition", part)
        add(part, VOID + "class", cls)
        add(part, VOID + "entities", lit(n, XSD + "integer"))
    for prop, n in props:
        part = f"{DATASET}#property-{_slug(prop)}"
        add(ASSERTED_SUBSET, VOID + "propertyPartition", part)
        add(part, VOID + "property", prop)
        add(part, VOID + "triples", lit(n, XSD + "integer"))
    for f in files:
        if f.subset is None:
            continue
        url = f"{base_url}download/{f.name}"
        add(f.subset, VOID + "dataDump", url)
        add(f.subset, DCAT + "distribution", url)
        add(url, RDF + "type", DCAT + "Distribution")
        add(url, DCT + "title", lit(f.name))
        add(url, DCT + "description", lit(f.description, lang="en"))
        add(url, DCAT + "downloadURL", url)
        add(url, DCAT + "mediaType", IANA + f.media_type)
        if f.compressed:
            add(url, DCAT + "compressFormat", IANA + "application/gzip")
        add(url, DCAT + "byteSize", lit(len(f.content), XSD + "nonNegativeInteger"))
        add(url, DCT + "license", LICENSE)
        add(url, DCT + "issued", lit(issued.isoformat(), XSD + "date"))
        add(url, SPDX + "checksum", url + "#sha256")
        add(url + "#sha256", RDF + "type", SPDX + "Checksum")
        add(url + "#sha256", SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        add(url + "#sha256", SPDX + "checksumValue", lit(f.sha256, XSD + "hexBinary"))
    header = (f"# VoID + DCAT description of cowkg release {release}, written by `cowkg dump` on {issued}.\n"
              "# Counts are computed by SPARQL over the named graphs; each distribution says whether it\n"
              "# holds inferred triples (cowkg-asserted: none, cowkg-inferred: only those, cowkg-full: both).\n")
    other = set().union(*stated.values()) - {release}
    if other:
        header += (f"# dcat:version is the release name {release}; data/meta/dataset.ttl says "
                   f"{', '.join(sorted(other))}.\n")
    return header.encode() + write_turtle([q.triple for q in canonical_quads(
        ox.Quad(x.subject, x.predicate, x.object, ox.DefaultGraph()) for x in set(t))])
