"""Namespaces, prefixes and named-graph IRIs: the one registry every stage reads.

Stage: shared by all. Nothing here does I/O.
"""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCAT, DCTERMS, FOAF, ORG, OWL, PROV, RDF, RDFS, SDO, SH, SKOS, TIME, VOID, XSD

BASE = "https://w3id.org/cowkg/"

COW = Namespace(BASE + "ontology#")  # classes and properties
COWR = Namespace(BASE + "id/")  # entities of the dataset
COWV = Namespace(BASE + "vocab/")  # SKOS concepts (status, level, format, ...)
COWG = Namespace(BASE + "graph/")  # named graphs
COWSH = Namespace(BASE + "shapes#")
WD = Namespace("http://www.wikidata.org/entity/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")

ONTOLOGY_IRI = BASE + "ontology"
SOURCE_ARTICLE = COWR["source-wikipedia-article"]

#: Named graphs: the asserted ones are loaded from disk; the inferred one is computed.
GRAPH_ONTOLOGY = COWG["ontology"]
GRAPH_DATA = COWG["data"]
GRAPH_META = COWG["meta"]
GRAPH_INFERRED = COWG["inferred"]
ASSERTED_GRAPHS = (GRAPH_ONTOLOGY, GRAPH_DATA, GRAPH_META)
ALL_GRAPHS = (*ASSERTED_GRAPHS, GRAPH_INFERRED)

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


def entity_slug(iri: str) -> str | None:
    """The local part of a dataset entity IRI (``/id/<slug>``), or None when it is not one."""
    ns = str(COWR)
    return iri[len(ns):] if iri.startswith(ns) and len(iri) > len(ns) else None
