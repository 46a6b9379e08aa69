"""Namespaces, prefixes and named-graph IRIs: the one registry every stage reads, and the one IRI check.

Stage: shared by all. Nothing here does I/O.
"""

from __future__ import annotations

import re

import pyoxigraph as ox
from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SDO, SH, SKOS, TIME, VOID, XSD

from .errors import InputError

BASE = "https://w3id.org/cowkg/"

COW = Namespace(BASE + "ontology#")  # classes and properties
COWR = Namespace(BASE + "id/")  # entities of the dataset
COWV = Namespace(BASE + "vocab/")  # SKOS concepts (status, level, format, ...)
COWG = Namespace(BASE + "graph/")  # named graphs
COWSH = Namespace(BASE + "shapes#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")

ONTOLOGY_IRI = BASE + "ontology"
#: The dataset itself: described in data/meta/dataset.ttl, by both VoID documents (a release's
#: void.ttl, /.well-known/void) and dereferenced at /dataset.
DATASET = BASE + "dataset"
#: Its asserted part (ontology, data and metadata graphs: the default graph of /sparql), a VoID subset.
ASSERTED_SUBSET = DATASET + "#asserted"
SOURCE_ARTICLE = COWR["source-wikipedia-article"]

#: Named graphs: the asserted ones are loaded from disk; the inferred and Wikibase ones are computed.
GRAPH_ONTOLOGY = COWG["ontology"]
GRAPH_DATA = COWG["data"]
GRAPH_META = COWG["meta"]
GRAPH_INFERRED = COWG["inferred"]
GRAPH_WIKIBASE = COWG["wikibase"]
ASSERTED_GRAPHS = (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_META)
ALL_GRAPHS = (*ASSERTED_GRAPHS, GRAPH_INFERRED, GRAPH_WIKIBASE)
#: Short names of the named graphs (``data`` for cowg:data), as ``cowkg export --graph`` takes them.
GRAPH_NAMES = {str(g).rsplit("/", 1)[-1]: str(g) for g in ALL_GRAPHS}

#: Wikidata's RDF namespaces (the Wikibase RDF dump format), besides ``WD`` and ``WDT``.
WIKIBASE = Namespace("http://wikiba.se/ontology#")
P = Namespace("http://www.wikidata.org/prop/")
PS = Namespace("http://www.wikidata.org/prop/statement/")
PSV = Namespace("http://www.wikidata.org/prop/statement/value/")
PQ = Namespace("http://www.wikidata.org/prop/qualifier/")
PQV = Namespace("http://www.wikidata.org/prop/qualifier/value/")
PR = Namespace("http://www.wikidata.org/prop/reference/")
PRV = Namespace("http://www.wikidata.org/prop/reference/value/")
WDNO = Namespace("http://www.wikidata.org/prop/novalue/")
BD = Namespace("http://www.bigdata.com/rdf#")
#: Where cowkg's Wikibase view puts its statement, reference and value nodes (never Wikidata's own
#: wds:/wdref:/wdv: namespaces: these nodes are cowkg's, not Wikidata's).
COWS = Namespace(BASE + "statement/")
COWREF = Namespace(BASE + "reference/")
COWVAL = Namespace(BASE + "value/")
#: The alignment table's own terms (ontology/alignments/wikidata.ttl).
COWA = Namespace(BASE + "alignment#")

#: Namespaces and a few terms as plain strings, for IRIs written as text (SPARQL, pyoxigraph terms): an
#: rdflib ``URIRef`` (what the ``Namespace`` objects above make) never equals a ``str``.
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
NS_OWL = "http://www.w3.org/2002/07/owl#"
NS_XSD = "http://www.w3.org/2001/XMLSchema#"
NS_SKOS = "http://www.w3.org/2004/02/skos/core#"
NS_DCT = "http://purl.org/dc/terms/"
NS_DCAT = "http://www.w3.org/ns/dcat#"
NS_VOID = "http://rdfs.org/ns/void#"
NS_PROV = "http://www.w3.org/ns/prov#"
NS_SPDX = "http://spdx.org/rdf/terms#"
NS_VANN = "http://purl.org/vocab/vann/"
NS_SD = "http://www.w3.org/ns/sparql-service-description#"
NS_FORMATS = "http://www.w3.org/ns/formats/"
NS_ENTAILMENT = "http://www.w3.org/ns/entailment/"
NS_FOAF = "http://xmlns.com/foaf/0.1/"
NS_SCHEMA = "https://schema.org/"
RDF_TYPE = NS_RDF + "type"
RDF_LANGSTRING = NS_RDF + "langString"
XSD_STRING = NS_XSD + "string"
RDFS_LABEL = NS_RDFS + "label"
OWL_SAMEAS = NS_OWL + "sameAs"
PROV_DERIVED = NS_PROV + "wasDerivedFrom"
SCHEMA_NAME = "http://schema.org/name"
GEO_WKT = "http://www.opengis.net/ont/geosparql#wktLiteral"

#: Prefixes declared in exports, preloaded in the query UI and prepended to CLI queries.
PREFIXES: dict[str, str] = {
    "cow": str(COW),
    "cowr": str(COWR),
    "cowv": str(COWV),
    "cowg": str(COWG),
    "cowsh": str(COWSH),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "dcat": str(DCAT),
    "void": str(VOID),
    "prov": str(PROV),
    "org": str(ORG),
    "time": str(TIME),
    "schema": str(SDO),
    "foaf": str(FOAF),
    "sh": str(SH),
    "wd": str(WD),
    "wdt": str(WDT),
}


#: The prefixes the Wikidata Query Service predeclares that cowkg's own do not already cover, so
#: that a query copied from WDQS runs unchanged: they are part of ``PREFIXES`` (predeclared in every
#: query, offered by the query UI, used by exports where their namespaces occur). ``schema:`` stays
#: cowkg's (https://schema.org/): the Wikibase view writes descriptions in both schema.org
#: namespaces; WDQS's ``dct:`` is cowkg's ``dcterms:``.
WIKIBASE_PREFIXES: dict[str, str] = {
    "wikibase": str(WIKIBASE),
    "p": str(P),
    "ps": str(PS),
    "psv": str(PSV),
    "pq": str(PQ),
    "pqv": str(PQV),
    "pr": str(PR),
    "prv": str(PRV),
    "wdno": str(WDNO),
    "wds": "http://www.wikidata.org/entity/statement/",
    "wdv": "http://www.wikidata.org/value/",
    "wdref": "http://www.wikidata.org/reference/",
    "wdata": "http://www.wikidata.org/wiki/Special:EntityData/",
    "wdtn": "http://www.wikidata.org/prop/direct-normalized/",
    "psn": "http://www.wikidata.org/prop/statement/value-normalized/",
    "pqn": "http://www.wikidata.org/prop/qualifier/value-normalized/",
    "prn": "http://www.wikidata.org/prop/reference/value-normalized/",
    "bd": str(BD),
    "hint": "http://www.bigdata.com/queryHints#",
    "geo": "http://www.opengis.net/ont/geosparql#",
}
PREFIXES.update(WIKIBASE_PREFIXES)
#: Prefixes every query may use without declaring them (the project's, which include WDQS's).
QUERY_PREFIXES = PREFIXES


def sparql_prologue(prefixes: dict[str, str] | None = None) -> str:
    """PREFIX lines for the project's prefixes, so short queries can be written by hand."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in (prefixes or PREFIXES).items())


def shorten(iri: str) -> str:
    """Return a CURIE for ``iri`` when a project prefix covers it, else the IRI itself.

    >>> shorten("https://w3id.org/cowkg/id/meeting-04"), shorten("http://www.wikidata.org/prop/direct/P664")
    ('cowr:meeting-04', 'wdt:P664')
    >>> shorten("https://w3id.org/cowkg/id/a/b")  # a local part a CURIE cannot hold stays whole
    'https://w3id.org/cowkg/id/a/b'
    """
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            local = iri[len(ns):]
            if local and all(c.isalnum() or c in "-_." for c in local):
                best = ns
                curie = f"{prefix}:{local}"
    return curie if best else iri


#: Characters an IRI reference may not contain (SPARQL IRIREF, N-Triples), so an IRI given by a
#: user cannot break out of the ``<...>`` it is written into.
_NOT_IN_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\]')


def check_iri(iri: str | None, *, what: str = "an IRI", hint: str | None = None,
              max_length: int | None = None) -> str:
    """``iri`` if it is an absolute IRI that can stand between ``<`` and ``>`` in a query, an
    N-Triples line or a Virtuoso statement: the one check for IRIs that come from users (request
    parameters, command-line options).

    Raises InputError (HTTP 400, exit 2) saying it is not ``what`` (empty, too long for
    ``max_length``, or a character an IRI may not hold) or not absolute, with ``hint``.

    >>> check_iri("https://w3id.org/cowkg/id/coalition")
    'https://w3id.org/cowkg/id/coalition'
    >>> check_iri("https://e.org/a> } DROP ALL { <x")
    Traceback (most recent call last):
    cowkg.errors.InputError: not an IRI: 'https://e.org/a> } DROP ALL { <x'
    """
    if not iri or (max_length is not None and len(iri) > max_length) or _NOT_IN_IRI.search(iri):
        raise InputError(f"not {what}: {(iri or '')[:200]!r}", hint=hint)
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise InputError(f"not an absolute IRI: {iri[:200]!r}", hint=hint) from None
    return iri


def entity_slug(iri: str) -> str | None:
    """The local part of a dataset entity IRI (``/id/<slug>``), or None when it is not one."""
    ns = str(COWR)
    return iri[len(ns):] if iri.startswith(ns) and len(iri) > len(ns) else None
