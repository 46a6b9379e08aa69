"""Self-description: the SPARQL Service Description (GET /sparql) and VoID (/.well-known/void).

Stage: web. Every count is computed from the store when first asked (then kept: the data is
read-only while the server runs). The VoID is ``cowkg.void``'s, the one a release's void.ttl
states (same dataset IRI, same statistics), plus what only a live endpoint has. Both documents
are content-negotiated RDF (Turtle by default); a browser (Accept preferring text/html, no
``format=``) gets the same facts as an HTML page (templates ``describe/*.html``) with links to
the RDF. Nodes get fragment IRIs, never blank nodes, so the bytes (and their ETag) are stable.
"""

from __future__ import annotations

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request

from ..errors import NotAcceptable
from ..media import GRAPH_FORMATS, HTML, by_name, content_type, negotiate
from ..serialize import write_triples
from ..vocab import (
    ALL_GRAPHS,
    ASSERTED_GRAPHS,
    COWR,
    DATASET,
    GRAPH_INFERRED,
    RDF,
    RDFS_LABEL,
)
from ..vocab import NS_DCT as DCT
from ..vocab import NS_ENTAILMENT as ENT
from ..vocab import NS_FORMATS as FORMATS
from ..vocab import NS_SCHEMA as SCHEMA
from ..vocab import NS_SD as SD
from ..vocab import NS_VOID as VOID
from ..void import ASSERTED_SUBSET, DatasetSummary, cached_summary, void_triples
from .state import app_state

bp = Blueprint("describe", __name__)

XSD_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
FORMAT_IRIS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
               "Turtle", "N-Triples", "JSON-LD", "RDF_XML")
GRAPH_NOTES = {
    "ontology": "The cowkg ontology, SKOS vocabularies and Wikidata alignment (asserted).",
    "data": "The facts of the dataset (asserted), each node with its provenance.",
    "meta": "Dataset metadata (asserted).",
    "inferred": "The OWL 2 RL closure of the asserted graphs, computed at load time; never mixed with them.",
}


class _Graph(list):
    """Triples under construction, with small helpers for IRIs and literals."""

    def add(self, s, p: str, o) -> None:
        """Add (s, p, o); IRIs may be given as strings."""
        self.append(ox.Triple(_node(s), ox.NamedNode(p), o if isinstance(o, ox.Literal | ox.NamedNode) else
                              _node(o)))

    def lit(self, s, p: str, value) -> None:
        """Add (s, p, literal): booleans and ints get their XSD datatype, text is English."""
        if isinstance(value, bool):
            literal = ox.Literal(str(value).lower(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
        elif isinstance(value, int):
            literal = ox.Literal(str(value), datatype=XSD_INTEGER)
        else:
            literal = ox.Literal(str(value), language="en")
        self.append(ox.Triple(_node(s), ox.NamedNode(p), literal))


def _node(iri) -> ox.NamedNode:
    return iri if isinstance(iri, ox.NamedNode) else ox.NamedNode(str(iri))


def public_base() -> str:
    """The service's public URL without a trailing slash (the public_base setting, else this request's)."""
    return (current_app.config["COWKG"]["public_base"] or request.host_url).rstrip("/")


def browser_asks() -> bool:
    """True when the client prefers an HTML page to every RDF format and names no ``format=``."""
    accept = request.headers.get("Accept")
    return not request.args.get("format") and bool(accept) and \
        negotiate(GRAPH_FORMATS, accept, (HTML,)) == HTML


def html_response(template: str, **context) -> Response:
    resp = Response(render_template(template, **context), content_type="text/html; charset=utf-8")
    resp.headers["Vary"] = "Accept"
    return resp


def rdf_response(triples: list[ox.Triple]) -> Response:
    """``triples`` in the RDF format the client accepts (``format=`` wins), Turtle by default."""
    forced = request.args.get("format")
    if forced:
        fmt = by_name(forced, ("graph",))
        if fmt is None:
            raise NotAcceptable(f"format {forced!r} is not an RDF format", hint="ttl, nt, jsonld or rdfxml")
    else:
        fmt = negotiate(GRAPH_FORMATS, request.headers.get("Accept"))
        if fmt is None:
            raise NotAcceptable("none of the accepted media types is an RDF format this service writes",
                                hint="available: " + ", ".join(f.media_type for f in GRAPH_FORMATS))
    resp = Response(write_triples(sorted(triples, key=str), fmt), content_type=content_type(fmt))
    resp.headers["Vary"] = "Accept"
    return resp


def service_description() -> Response:
    """SPARQL 1.1 Service Description of this endpoint; browsers get it as a page (``describe/service.html``)."""
    cfg = current_app.config["COWKG"]
    endpoint = request.base_url if not cfg["public_base"] else public_base() + "/sparql"
    sizes = _graph_sizes()
    g = _Graph()
    e = ox.NamedNode(endpoint)
    g.add(e, RDF.type, SD + "Service")
    g.add(e, SD + "endpoint", e)
    g.add(e, SD + "supportedLanguage", SD + "SPARQL11Query")
    for name in FORMAT_IRIS:
        g.add(e, SD + "resultFormat", FORMATS + name)
    g.add(e, SD + "feature", SD + "EmptyGraphs")
    g.add(e, SD + "defaultEntailmentRegime", ENT + ("OWL-RDF-Based" if cfg["infer_default"] else "Simple"))
    g.lit(e, DCT + "title", "cowkg SPARQL endpoint (read-only)")
    g.lit(e, DCT + "description",
          "Read-only SPARQL 1.1 query service over the Coalition of the Willing knowledge graph. "
          f"Parameter infer=true|false chooses whether the default graph also holds the inferred graph "
          f"<{GRAPH_INFERRED}> (OWL 2 RL closure); default: infer={'true' if cfg['infer_default'] else 'false'}. "
          "default-graph-uri and named-graph-uri replace the dataset. "
          f"Limits: {cfg['query_timeout']:g} s per query (503 after), {cfg['max_rows']} result rows "
          f"(X-Cowkg-Truncated header when cut), {cfg['max_request_bytes']} bytes per request (413). "
          "UPDATE is refused (400).")
    g.add(e, "http://www.w3.org/2000/01/rdf-schema#seeAlso", public_base() + "/.well-known/void")
    ds = ox.NamedNode(endpoint + "#dataset")
    g.add(e, SD + "defaultDataset", ds)
    g.add(ds, RDF.type, SD + "Dataset")
    default = ox.NamedNode(endpoint + "#default-graph")
    g.add(ds, SD + "defaultGraph", default)
    g.add(default, RDF.type, SD + "Graph")
    g.lit(default, VOID + "triples", sum(sizes.get(str(x), 0) for x in ASSERTED_GRAPHS))
    g.lit(default, DCT + "description", "Without infer=true: the union of the asserted graphs "
          + ", ".join(f"<{x}>" for x in ASSERTED_GRAPHS) + ".")
    for graph in ALL_GRAPHS:
        local = str(graph).rsplit("/", 1)[-1]
        named = ox.NamedNode(f"{endpoint}#graph-{local}")
        inner = ox.NamedNode(f"{endpoint}#graph-{local}-content")
        g.add(ds, SD + "namedGraph", named)
        g.add(named, RDF.type, SD + "NamedGraph")
        g.add(named, SD + "name", str(graph))
        g.add(named, SD + "graph", inner)
        g.add(inner, RDF.type, SD + "Graph")
        g.lit(inner, VOID + "triples", sizes.get(str(graph), 0))
        g.lit(named, DCT + "description", GRAPH_NOTES.get(local, "Named graph."))
        if graph == GRAPH_INFERRED:
            g.add(named, SD + "entailmentRegime", ENT + "OWL-RDF-Based")
            g.add(named, SD + "supportedEntailmentProfile", "http://www.w3.org/ns/owl-profile/RL")
    if browser_asks():
        return html_response("describe/service.html", endpoint=endpoint, cfg=cfg, sizes=sizes,
                             graphs=[(str(x), str(x).rsplit("/", 1)[-1], GRAPH_NOTES.get(str(x).rsplit("/", 1)[-1], ""))
                                     for x in ALL_GRAPHS], asserted=sum(sizes.get(str(x), 0) for x in ASSERTED_GRAPHS),
                             formats=[f.name for f in GRAPH_FORMATS])
    return rdf_response(g)


def _graph_sizes() -> dict[str, int]:
    stats = app_state().stats
    if "sizes" not in stats:
        stats["sizes"] = app_state().backend.graph_sizes()
    return stats["sizes"]


#: What /.well-known/void negotiates (void:feature), as W3C format names.
ENDPOINT_FEATURES = ("Turtle", "N-Triples", "JSON-LD", "RDF_XML")


def void_stats() -> DatasetSummary:
    """What VoID states (``cowkg.void.summarize``, as a release's void.ttl states it), computed once
    from the store, or read from the cache directory where a start on the same data left it."""
    stats = app_state().stats
    if "void" not in stats:
        backend = app_state().backend
        # on disk only where the data version identifies the data (a remote store's follows counts)
        cache_dir = current_app.config["COWKG"]["cache_dir"] if getattr(backend, "content_version", False) else None
        stats["void"] = cached_summary(backend, cache_dir, timeout=60)
    return stats["void"]


def _examples() -> list[str]:
    """Three entities to start from on the page (the first labelled ones, by IRI), computed once."""
    stats = app_state().stats
    if "examples" not in stats:
        stats["examples"] = [r["s"].value for r in app_state().backend.query(
            f"SELECT DISTINCT ?s WHERE {{ ?s <{RDFS_LABEL}> ?l FILTER(STRSTARTS(STR(?s), \"{COWR}\")) }} "
            "ORDER BY ?s LIMIT 3", timeout=60).records()]
    return stats["examples"]


@bp.get("/.well-known/void")
def void():
    """VoID of the dataset (``cowkg.void.void_triples``, as in a release's void.ttl) with what only
    this endpoint has: its SPARQL endpoint, URI lookup and label search."""
    base = public_base()
    doc = base + "/.well-known/void"
    summary = void_stats()
    g = _Graph(void_triples(summary, features=ENDPOINT_FEATURES, replace={VOID + "sparqlEndpoint": [base + "/sparql"]}))
    d = ox.NamedNode(DATASET)
    # A URI lookup takes an IRI and answers its description; the label search takes text (below).
    g.add(d, VOID + "uriLookupEndpoint", base + "/data?iri=")
    search, target = ox.NamedNode(doc + "#label-search"), ox.NamedNode(doc + "#label-search-target")
    g.add(d, SCHEMA + "potentialAction", search)
    g.add(search, RDF.type, SCHEMA + "SearchAction")
    g.lit(search, DCT + "description", "Label search: the entities whose labels match a text, best first, as JSON "
          "(the same results as a page at /search?q=).")
    g.add(search, SCHEMA + "target", target)
    g.add(target, RDF.type, SCHEMA + "EntryPoint")
    g.append(ox.Triple(target, ox.NamedNode(SCHEMA + "urlTemplate"), ox.Literal(base + "/api/search?q={query}")))
    g.append(ox.Triple(target, ox.NamedNode(SCHEMA + "contentType"), ox.Literal("application/json")))
    g.append(ox.Triple(search, ox.NamedNode(SCHEMA + "query-input"), ox.Literal("required name=query")))
    if browser_asks():
        stats = {**summary.counts[ASSERTED_SUBSET], "wikidata_links": summary.wikidata_links,
                 "classes_list": summary.classes, "examples": _examples()}
        return html_response("describe/void.html", base=base, stats=stats, sizes=_graph_sizes(),
                             asserted=summary.counts[ASSERTED_SUBSET]["triples"],
                             graphs=[(str(x), str(x).rsplit("/", 1)[-1], GRAPH_NOTES.get(str(x).rsplit("/", 1)[-1], ""))
                                     for x in ALL_GRAPHS], formats=[f.name for f in GRAPH_FORMATS])
    return rdf_response(g)
