"""VoID: one builder for both VoID documents, and the statistics they state.

Stage: after the backend (read through it, embedded or remote). A release's ``void.ttl``
(``void_turtle``, written by ``cowkg dump``) and the endpoint's ``/.well-known/void``
(cowkg.web.describe) are built by one function, ``void_triples``, from one ``DatasetSummary``, so
they describe the same dataset with the same numbers:

* the dataset is https://w3id.org/cowkg/dataset (``vocab.DATASET``): the IRI data/meta/dataset.ttl
  describes and ``/dataset`` dereferences; its counts are of all named graphs (each distinct triple
  once), the inferred and Wikibase-view graphs included;
* its asserted part is ``…/dataset#asserted`` (the default graph of a query that names none), with
  the class and property partitions (``…/dataset#class-<prefix>-<name>``, ``#property-…``);
* each named graph is a subset under its own IRI (cowg:data, ...), with its counts;
* the owl:sameAs links to Wikidata are the linkset ``…/dataset#wikidata-links`` (target
  ``…/dataset#wikidata``, Wikidata as this description knows it).

Each document adds only what it alone has: the release its version, dates and files (one
dcat:Distribution each); the endpoint its live SPARQL endpoint, URI lookup and label search.
Counts are of distinct triples, by SPARQL, so a remote store gives the embedded store's numbers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from .backends import GraphSource, as_backend
from .export import canonical_quads, write_turtle
from .files import read_cached, set_aside, write_atomically
from .vocab import (
    ALL_GRAPHS,
    ASSERTED_GRAPHS,
    ASSERTED_SUBSET,
    BASE,
    COWR,
    DATASET,
    GRAPH_META,
    ONTOLOGY_IRI,
    OWL_SAMEAS,
    WD,
    shorten,
)
from .vocab import NS_DCAT as DCAT
from .vocab import NS_DCT as DCT
from .vocab import NS_FOAF as FOAF
from .vocab import NS_FORMATS as FORMATS
from .vocab import NS_OWL as OWL
from .vocab import NS_RDF as RDF
from .vocab import NS_SPDX as SPDX
from .vocab import NS_VOID as VOID
from .vocab import NS_XSD as XSD

if TYPE_CHECKING:
    from .release import ReleaseFile

log = logging.getLogger(__name__)

__all__ = ["ASSERTED_SUBSET", "DATASET", "WIKIDATA_LINKS", "DatasetSummary", "cached_summary", "summarize",
           "summary_key", "void_counts", "void_partitions", "void_triples", "void_turtle"]

WIKIDATA_LINKS = DATASET + "#wikidata-links"
WIKIDATA = DATASET + "#wikidata"
LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
IANA = "https://www.iana.org/assignments/media-types/"
#: The vocabularies the data uses (void:vocabulary), besides those data/meta/dataset.ttl names.
VOCABULARIES = (ONTOLOGY_IRI, "http://www.w3.org/ns/prov#", "http://www.w3.org/2004/02/skos/core#",
                "http://www.w3.org/ns/org#", "https://schema.org/")
#: What a release's files are written in (void:feature), as W3C format IRIs.
RELEASE_FEATURES = ("Turtle", "N-Triples", "JSON-LD", "TriG", "N-Quads")


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


def _wikidata_links_query(graphs: Sequence[str]) -> str:
    froms = " ".join(f"FROM <{g}>" for g in graphs)
    return (f"SELECT (COUNT(*) AS ?n) {froms} WHERE {{ SELECT DISTINCT ?s ?o WHERE {{ ?s <{OWL_SAMEAS}> ?o "
            f"FILTER(isIRI(?o) && STRSTARTS(STR(?o), \"{WD}\")) }} }}")


@dataclass(frozen=True)
class DatasetSummary:
    """What both VoID documents state about the dataset, read from the graph once.

    ``description``: the metadata graph (data/meta/dataset.ttl) as loaded; ``counts``: the VoID
    statistics (``void_counts``) of the dataset, its asserted part and each named graph, by IRI;
    ``classes``/``properties``: the partitions of the asserted part; ``wikidata_links``: distinct
    asserted owl:sameAs links to Wikidata items.
    """

    description: tuple[ox.Triple, ...]
    counts: Mapping[str, Mapping[str, int]]
    classes: tuple[tuple[str, int], ...]
    properties: tuple[tuple[str, int], ...]
    wikidata_links: int

    def stated(self, prop: str) -> set[str]:
        """The values the metadata gives the dataset for ``prop`` (e.g. its dcat:version)."""
        return {t.object.value for t in self.description if t.subject.value == DATASET and t.predicate.value == prop}


def summarize(source: GraphSource, timeout: float | None = None) -> DatasetSummary:
    """Read what the VoID documents state from ``source``: one pass of SPARQL counts (each query
    bounded by ``timeout`` seconds, if given). Raises what the backend raises."""
    backend = as_backend(source)
    every = [str(g) for g in ALL_GRAPHS]
    asserted = [str(g) for g in ASSERTED_GRAPHS]
    counts = {DATASET: void_counts(backend, every, timeout), ASSERTED_SUBSET: void_counts(backend, asserted, timeout)}
    for g in every:
        counts[g] = void_counts(backend, [g], timeout)
    classes, props = void_partitions(backend, asserted, timeout)
    links = backend.query(_wikidata_links_query(asserted), timeout=timeout).rows[0]["n"]
    return DatasetSummary(tuple(q.triple for q in backend.quads([str(GRAPH_META)])), counts, tuple(classes),
                          tuple(props), int(links.value))


#: Bumped whenever ``summarize`` changes what it counts: a summary cached by an older one is not used.
SUMMARY_VERSION = 1


def summary_key(source: GraphSource) -> str:
    """What a cached summary must have been computed from: the backend's data version (for files,
    their digest and what derives the computed graphs from them) and ``SUMMARY_VERSION``. Only a
    backend whose version identifies its data (``content_version``) should have it cached."""
    return hashlib.sha256(repr((as_backend(source).version(), SUMMARY_VERSION)).encode()).hexdigest()


def cached_summary(source: GraphSource, cache_dir: str | Path | None, timeout: float | None = None) -> DatasetSummary:
    """``summarize(source)``, kept in ``cache_dir`` (``void-summary-<key>.json``, see ``summary_key``)
    so that a server restarted on unchanged data does not count again (a fifth of ``cowkg serve``'s
    start on the shipped graph).

    The file carries a checksum of its own: one that is damaged, forged or from other data is
    logged, ignored and replaced; one that cannot be written costs only the next start's time."""
    key = summary_key(source)
    cache_file = Path(cache_dir) / f"void-summary-{key[:32]}.json" if cache_dir else None
    if cache_file is not None:
        found = _read_summary(cache_file, key)
        if found is not None:
            return found
    summary = summarize(source, timeout)
    if cache_file is not None:
        data = {"key": key, "description": ox.serialize(summary.description, format=ox.RdfFormat.N_TRIPLES).decode(),
                "counts": summary.counts, "classes": summary.classes, "properties": summary.properties,
                "wikidata_links": summary.wikidata_links}
        entry = {"sha256": _checksum(data), "body": data}
        try:
            write_atomically(cache_file, json.dumps(entry))
        except OSError as exc:
            log.warning("VoID statistics not cached in %s (%s)", cache_file.parent, exc.strerror or exc)
    return summary


def _checksum(data: dict) -> str:
    """SHA-256 of ``data`` as canonical JSON (tuples and the lists they come back as agree)."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _read_summary(path: Path, key: str) -> DatasetSummary | None:
    """The summary in ``path`` when its checksum holds and it was made under ``key``; else None
    (after logging why and setting a damaged file aside)."""
    raw = read_cached(path, "VoID statistics cache", log, "counting again")
    if raw is None:
        return None
    try:
        entry = json.loads(raw)
        data = entry["body"]
        if entry["sha256"] != _checksum(data):
            raise ValueError("checksum mismatch (edited or truncated)")
        if data["key"] != key:
            raise ValueError("made from other data")
        return DatasetSummary(
            tuple(q.triple for q in ox.parse(data["description"].encode(), format=ox.RdfFormat.N_TRIPLES)),
            {graph: {name: int(n) for name, n in counts.items()} for graph, counts in data["counts"].items()},
            tuple((str(iri), int(n)) for iri, n in data["classes"]),
            tuple((str(iri), int(n)) for iri, n in data["properties"]), int(data["wikidata_links"]))
    except (ValueError, KeyError, TypeError, AttributeError, SyntaxError) as exc:
        log.warning("VoID statistics cache %s is damaged (%s): setting it aside and counting again", path, exc)
        set_aside(path)
        return None


def _node(term: str | ox.NamedNode | ox.Literal) -> ox.NamedNode | ox.Literal:
    return term if isinstance(term, ox.Literal | ox.NamedNode) else ox.NamedNode(term)


def _literal(value, datatype: str | None = None, lang: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    return ox.Literal(str(value), datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(str(value))


def void_triples(summary: DatasetSummary, *, features: Iterable[str],
                 replace: Mapping[str, Sequence[str | ox.NamedNode | ox.Literal]] | None = None) -> list[ox.Triple]:
    """The VoID description of the dataset both documents share (see the module docstring).

    ``features`` names the formats the document's reader can fetch (W3C format names such as
    ``Turtle``: a release's files, or what the endpoint negotiates). ``replace`` maps a property
    of the dataset to the values this document states instead of the metadata's (the release's
    own version, the endpoint that serves the document): the dataset never gets two versions.
    """
    replace = replace or {}
    t: list[ox.Triple] = [x for x in summary.description if not (x.subject.value == DATASET
                                                                  and x.predicate.value in replace)]

    def add(s: str, p: str, o: str | ox.NamedNode | ox.Literal) -> None:
        t.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), _node(o)))

    for prop, values in replace.items():
        for value in values:
            add(DATASET, prop, value)
    every = [str(g) for g in ALL_GRAPHS]
    asserted = [str(g) for g in ASSERTED_GRAPHS]
    for s in (DATASET, ASSERTED_SUBSET, *every):
        add(s, RDF + "type", VOID + "Dataset")
        for key, n in summary.counts[s].items():
            add(s, VOID + key, _literal(n, XSD + "integer"))
    add(ASSERTED_SUBSET, DCT + "title", _literal("cowkg, asserted triples", lang="en"))
    add(DATASET, VOID + "subset", ASSERTED_SUBSET)
    for g in every:
        add(ASSERTED_SUBSET if g in asserted else DATASET, VOID + "subset", g)
    add(DATASET, VOID + "uriSpace", ox.Literal(str(COWR)))
    for vocabulary in VOCABULARIES:
        add(DATASET, VOID + "vocabulary", vocabulary)
    for name in features:
        add(DATASET, VOID + "feature", FORMATS + name)
    for cls, n in summary.classes:
        part = f"{DATASET}#class-{_slug(cls)}"
        add(ASSERTED_SUBSET, VOID + "classPartition", part)
        add(part, VOID + "class", cls)
        add(part, VOID + "entities", _literal(n, XSD + "integer"))
    for prop, n in summary.properties:
        part = f"{DATASET}#property-{_slug(prop)}"
        add(ASSERTED_SUBSET, VOID + "propertyPartition", part)
        add(part, VOID + "property", prop)
        add(part, VOID + "triples", _literal(n, XSD + "integer"))
    add(WIKIDATA, RDF + "type", VOID + "Dataset")
    add(WIKIDATA, DCT + "title", _literal("Wikidata", lang="en"))
    add(WIKIDATA, FOAF + "homepage", "https://www.wikidata.org/")
    add(WIKIDATA, VOID + "sparqlEndpoint", "https://query.wikidata.org/sparql")
    add(WIKIDATA, VOID + "uriSpace", ox.Literal(str(WD)))
    add(DATASET, VOID + "subset", WIKIDATA_LINKS)
    add(WIKIDATA_LINKS, RDF + "type", VOID + "Linkset")
    add(WIKIDATA_LINKS, VOID + "linkPredicate", OWL_SAMEAS)
    add(WIKIDATA_LINKS, VOID + "subjectsTarget", DATASET)
    add(WIKIDATA_LINKS, VOID + "objectsTarget", WIKIDATA)
    add(WIKIDATA_LINKS, VOID + "target", DATASET)
    add(WIKIDATA_LINKS, VOID + "target", WIKIDATA)
    add(WIKIDATA_LINKS, VOID + "triples", _literal(summary.wikidata_links, XSD + "integer"))
    add(WIKIDATA_LINKS, DCT + "description", _literal("owl:sameAs links from dataset entities to Wikidata items, "
                                                      "only for identifiers verified against Wikidata.", lang="en"))
    return t


def void_turtle(source: GraphSource | DatasetSummary, files: Iterable[ReleaseFile], *, release: str,
                issued: dt.date, base_url: str = BASE) -> bytes:
    """VoID + DCAT for a release: ``void_triples`` (the dataset, its asserted part and each named
    graph with their counts, the partitions, the Wikidata linkset), the release's dates and one
    dcat:Distribution per file (download URL, media type, byte size, SHA-256) attached to the
    (sub)dataset it holds.

    The version described is ``release``, the name of the release being written: it is the
    dataset's ``dcat:version`` (and ``owl:versionInfo``, when the metadata gives one) in this VoID.
    A different version in data/meta/dataset.ttl (``cowkg dump --release 0.1.1`` before the file
    is bumped) is replaced here, not repeated beside it, and the header comment says so; the
    asserted files keep the meta graph as loaded.
    """
    summary = source if isinstance(source, DatasetSummary) else summarize(source)
    stated = summary.stated(DCAT + "version") | summary.stated(OWL + "versionInfo")
    replace: dict[str, list] = {DCAT + "version": [_literal(release)]}
    if summary.stated(OWL + "versionInfo"):
        replace[OWL + "versionInfo"] = [_literal(release)]
    t = void_triples(summary, features=RELEASE_FEATURES, replace=replace)

    def add(s: str, p: str, o: str | ox.NamedNode | ox.Literal) -> None:
        t.append(ox.Triple(ox.NamedNode(s), ox.NamedNode(p), _node(o)))

    day = _literal(issued.isoformat(), XSD + "date")
    add(DATASET, DCT + "issued", day)
    add(DATASET, DCT + "modified", day)
    for f in files:
        if f.subset is None:
            continue
        url = f"{base_url}download/{f.name}"
        add(f.subset, VOID + "dataDump", url)
        add(f.subset, DCAT + "distribution", url)
        add(url, RDF + "type", DCAT + "Distribution")
        add(url, DCT + "title", _literal(f.name))
        add(url, DCT + "description", _literal(f.description, lang="en"))
        add(url, DCAT + "downloadURL", url)
        add(url, DCAT + "mediaType", IANA + f.media_type)
        if f.compressed:
            add(url, DCAT + "compressFormat", IANA + "application/gzip")
        add(url, DCAT + "byteSize", _literal(len(f.content), XSD + "nonNegativeInteger"))
        add(url, DCT + "license", LICENSE)
        add(url, DCT + "issued", day)
        add(url, SPDX + "checksum", url + "#sha256")
        add(url + "#sha256", RDF + "type", SPDX + "Checksum")
        add(url + "#sha256", SPDX + "algorithm", SPDX + "checksumAlgorithm_sha256")
        add(url + "#sha256", SPDX + "checksumValue", _literal(f.sha256, XSD + "hexBinary"))
    header = (f"# VoID + DCAT description of cowkg release {release}, written by `cowkg dump` on {issued}.\n"
              "# Counts are computed by SPARQL over the named graphs; each distribution says whether it\n"
              "# holds inferred triples (cowkg-asserted: none, cowkg-inferred: only those, cowkg-full: both).\n")
    other = stated - {release}
    if other:
        header += (f"# dcat:version is the release name {release}; data/meta/dataset.ttl says "
                   f"{', '.join(sorted(other))}.\n")
    return header.encode() + write_turtle([q.triple for q in canonical_quads(
        ox.Quad(x.subject, x.predicate, x.object, ox.DefaultGraph()) for x in set(t))])
