"""Small graphs for the web tests: built in code, so no test depends on the shipped data's counts.

``small_kg()`` holds a few entities shaped like cowkg's (labels, provenance, a Wikidata link, an
inferred triple) plus ``filler`` triples, enough for a cross-product query that never ends.
``serve(...)`` runs the production server (gunicorn, ``cowkg.web.server``) on such a store: the
W3C harness and the timeout tests start it as a subprocess.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pyoxigraph as ox

from cowkg.store import KnowledgeGraph
from cowkg.vocab import GRAPH_DATA, GRAPH_INFERRED, GRAPH_META, GRAPH_ONTOLOGY

COW = "https://w3id.org/cowkg/ontology#"
ID = "https://w3id.org/cowkg/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

SMALL_TTL = """
@prefix cow: <https://w3id.org/cowkg/ontology#> .
@prefix cowr: <https://w3id.org/cowkg/id/> .
@prefix cowv: <https://w3id.org/cowkg/vocab/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix wd: <http://www.wikidata.org/entity/> .

cowr:keir-starmer a cow:Person ; rdfs:label "Keir Starmer"@en ; skos:prefLabel "Keir Starmer"@en ;
    skos:altLabel "Starmer"@en ; owl:sameAs wd:Q6383 ;
    cow:status cowv:fact ; prov:wasDerivedFrom cowr:source-wikipedia-article .
cowr:emmanuel-macron a cow:Person ; rdfs:label "Emmanuel Macron"@en ; skos:prefLabel "Emmanuel Macron"@en ;
    skos:altLabel "Macron"@fr ; cow:status cowv:fact ; prov:wasDerivedFrom cowr:source-wikipedia-article .
cowr:statement-starmer-japan a cow:Statement ; rdfs:label "Starmer: Japan joined"@en ;
    cow:attributedTo cowr:keir-starmer ; cow:status cowv:claim ; cow:citation cowr:cite-44 ;
    prov:wasDerivedFrom cowr:source-wikipedia-article .
cowr:meeting-04 a cow:CoalitionMeeting ; rdfs:label "Coalition meeting 4"@en ;
    cow:hostOrChair cowr:keir-starmer , cowr:emmanuel-macron ; cow:date "2025-04-10"^^xsd:date ;
    cow:status cowv:fact ; cow:citation cowr:cite-92 ; prov:wasDerivedFrom cowr:source-wikipedia-article .
cowr:cite-44 rdfs:label "[44]" . cowr:cite-92 rdfs:label "[92]" .
cowr:source-wikipedia-article rdfs:label "Wikipedia article"@en .
"""
ONTOLOGY_TTL = """
@prefix cow: <https://w3id.org/cowkg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
cow:Person rdfs:subClassOf cow:Agent ; rdfs:label "person"@en .
cow:Agent rdfs:label "agent"@en .
"""


def small_kg(filler: int = 2000) -> KnowledgeGraph:
    """The small fixture graph: asserted ontology/data/meta graphs and an inferred graph."""
    store = ox.Store()
    quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(str(GRAPH_DATA)))
             for t in ox.parse(SMALL_TTL, format=ox.RdfFormat.TURTLE)]
    quads += [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(str(GRAPH_ONTOLOGY)))
              for t in ox.parse(ONTOLOGY_TTL, format=ox.RdfFormat.TURTLE)]
    meta = ox.NamedNode(str(GRAPH_META))
    quads.append(ox.Quad(ox.NamedNode(ID + "dataset"), ox.NamedNode(RDF_TYPE),
                         ox.NamedNode("http://rdfs.org/ns/void#Dataset"), meta))
    inferred = ox.NamedNode(str(GRAPH_INFERRED))
    for person in ("keir-starmer", "emmanuel-macron"):
        quads.append(ox.Quad(ox.NamedNode(ID + person), ox.NamedNode(RDF_TYPE), ox.NamedNode(COW + "Agent"), inferred))
    filler_graph = ox.NamedNode(str(GRAPH_DATA))
    for i in range(filler):
        quads.append(ox.Quad(ox.NamedNode(f"{ID}filler-{i}"), ox.NamedNode(COW + "value"),
                             ox.Literal(str(i), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                             filler_graph))
    store.extend(quads)
    return KnowledgeGraph(store)


def graphs_kg(graph_files: list[tuple[str, Path]]) -> KnowledgeGraph:
    """A store whose named graphs are given as (graph IRI, file) pairs (the W3C test data)."""
    store = ox.Store()
    for name, path in graph_files:
        fmt = ox.RdfFormat.N_TRIPLES if path.suffix == ".nt" else ox.RdfFormat.TURTLE
        g = ox.NamedNode(name)
        store.extend(ox.Quad(t.subject, t.predicate, t.object, g)
                     for t in ox.parse(path=str(path), format=fmt, base_iri=path.as_uri()))
    return KnowledgeGraph(store)


def serve(argv: list[str] | None = None) -> None:
    """``python tests/web/fixture_data.py --port P [--timeout S] [--max-rows N] [--graph IRI=FILE ...]``."""
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.web import create_app
    from cowkg.web.server import run_server

    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--max-rows", type=int, default=10000)
    ap.add_argument("--max-request-bytes", type=int, default=100_000)
    ap.add_argument("--graph", action="append", default=[], help="IRI=FILE: load FILE as named graph IRI")
    args = ap.parse_args(argv)
    kg = graphs_kg([(g.split("=", 1)[0], Path(g.split("=", 1)[1])) for g in args.graph]) if args.graph \
        else small_kg()
    app = create_app({"query_timeout": args.timeout, "max_rows": args.max_rows,
                      "max_request_bytes": args.max_request_bytes}, backend=EmbeddedBackend(kg))
    run_server(app, "127.0.0.1", args.port, args.workers, access_log=False)


if __name__ == "__main__":
    serve()
