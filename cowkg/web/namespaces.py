"""Every other namespace the dataset mints dereferences like ``/id/``: SKOS concepts, graphs, the dataset.

Stage: web. The data mints IRIs in these namespaces under https://w3id.org/cowkg/: ``id/``
(entities, served by ``cowkg.web.entities``), ``ontology`` (``cowkg.web.ontology_page``), and the
ones served here:

* ``vocab/<name>``: the SKOS concepts and concept schemes (``cowv:plan``, ``cowv:statusScheme``);
* ``graph/<name>``: the named graphs (``cowg:data``, ``cowg:inferred`` ...), described in the
  metadata graph;
* ``dataset``: the dataset itself (its ``#developers`` fragment resolves with it);
* ``alignment``: the Wikidata alignment table (its ``#`` terms resolve with it);
* ``statement/<id>``, ``reference/<id>``, ``value/<id>``: the Wikibase view's statement,
  reference and value nodes (``cowkg.wikibase``).

Each answers like ``/id/<slug>``: 303 See Other, by the Accept header (``Vary: Accept``), to the
HTML page (``/page?iri=``) or to the IRI's description in an RDF format (``/data?iri=&format=``),
which ``cowkg.web.entities`` serves for any IRI of the dataset; 404 for an IRI the dataset does
not have, 406 when the client accepts neither HTML nor RDF.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, redirect, request, url_for

from ..errors import NotAcceptable, NotFound
from ..media import GRAPH_FORMATS, HTML, by_name, negotiate
from ..vocab import BASE, COWG, COWREF, COWS, COWV, COWVAL, DATASET
from .entities import SLUG_RE, exists

bp = Blueprint("namespaces", __name__)

#: What the client may ask for: the page, or each RDF format under its media type and aliases
#: (rdflib asks for N-Triples as text/plain), as /id/<slug> offers them.
OFFERED = (HTML, *(m for f in GRAPH_FORMATS for m in (f.media_type, *f.aliases)))


def see_other(iri: str):
    """303 to the page or the description of ``iri`` (which must exist in the dataset) by Accept."""
    if not exists(iri):
        raise NotFound(f"no IRI <{iri}> in this dataset", hint="search the labels: /search?q=...")
    choice = negotiate((), request.headers.get("Accept"), OFFERED)
    if choice is None:
        raise NotAcceptable("accepts neither HTML nor an RDF format", hint="available: " + ", ".join(OFFERED))
    if choice == HTML:
        target = url_for("entities.page_any") + "?" + urlencode({"iri": iri})
    else:
        fmt = by_name(choice, ("graph",))
        target = url_for("entities.data_any") + "?" + urlencode({"iri": iri, "format": fmt.name})
    resp = redirect(target, code=303)
    resp.headers["Vary"] = "Accept"
    return resp


def _local(namespace: str, name: str) -> str:
    if not SLUG_RE.match(name):
        raise NotFound(f"no IRI {namespace}{name!r}: names are letters, digits and - . _ ~")
    return namespace + name


@bp.get("/vocab/<name>")
def concept(name: str):
    """A SKOS concept or concept scheme of ``cowv:`` (https://w3id.org/cowkg/vocab/<name>)."""
    return see_other(_local(str(COWV), name))


@bp.get("/graph/<name>")
def graph(name: str):
    """A named graph of the dataset (https://w3id.org/cowkg/graph/<name>), described in the metadata
    graph; its triples themselves are at ``/rdf-graphs?graph=<IRI>`` (Graph Store Protocol)."""
    return see_other(_local(str(COWG), name))


@bp.get("/dataset")
def dataset():
    """The dataset (https://w3id.org/cowkg/dataset): its DCAT/VoID description in the metadata graph."""
    return see_other(DATASET)


@bp.get("/alignment")
def alignment():
    """The Wikidata alignment table (https://w3id.org/cowkg/alignment, an owl:Ontology in the
    ontology graph); its ``cowa:`` terms are fragments of it."""
    return see_other(BASE + "alignment")


@bp.get("/statement/<name>")
def statement(name: str):
    """A statement node of the Wikibase view (``p:Pn`` → ``ps:Pn`` value, qualifiers, rank)."""
    return see_other(_local(str(COWS), name))


@bp.get("/reference/<name>")
def reference(name: str):
    """A reference node of the Wikibase view (``prov:wasDerivedFrom`` of a statement)."""
    return see_other(_local(str(COWREF), name))


@bp.get("/value/<name>")
def value(name: str):
    """A full value node of the Wikibase view (``psv:``/``pqv:``: time or quantity with its precision)."""
    return see_other(_local(str(COWVAL), name))
