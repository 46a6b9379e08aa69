"""Entity pages: every IRI of the dataset, for people and for programs.

Stage: web. ``/id/<slug>`` (the IRI ``https://w3id.org/cowkg/id/<slug>`` itself) answers 303 to
``/page/<slug>`` (HTML) or ``/data/<slug>.<ttl|jsonld|nt|rdf>`` by Accept, with ``Vary: Accept``.
The page shows labels, types, every statement grouped by property (inferred ones marked),
incoming links, the provenance of the entity and of each node it links to (status, citation
markers, source), the Wikidata link, a "query this" and a "show as graph" link. The data views
serve the entity's export subgraph (``cowkg.export.describe``), byte for byte what ``cowkg export
--subject`` writes. IRIs outside ``/id/`` (ontology terms, SKOS concepts, graphs) get the same
page at ``/page?iri=...`` and the same description at ``/data?iri=...`` (the URI lookup endpoint
that VoID names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from markupsafe import Markup

from ..errors import NotAcceptable, NotFound
from ..export import description_bytes, export_graphs
from ..media import GRAPH_FORMATS, HTML, by_name, content_type, negotiate
from ..vocab import (
    COW,
    COWR,
    GRAPH_INFERRED,
    GRAPH_WIKIBASE,
    OWL,
    PROV,
    RDF,
    RDFS,
    SKOS,
    WD,
    WDT,
    check_iri,
    entity_slug,
    shorten,
)
from .ontology_page import jsonld_context
from .sparql import parse_bool
from .state import app_state

bp = Blueprint("entities", __name__)

SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$")
DATA_SUFFIXES = {"ttl": "ttl", "jsonld": "jsonld", "nt": "nt", "rdf": "rdfxml"}
PROVENANCE = (str(COW.status), str(COW.citation), str(PROV.wasDerivedFrom), str(COW.sourceSection),
              str(COW.sourceLine), str(COW.excerpt))
LABELS = (str(SKOS.prefLabel), str(RDFS.label), str(SKOS.altLabel))
INCOMING_LIMIT = 500


def page_url(iri: str) -> str:
    """Where the HTML page of ``iri`` lives."""
    slug = entity_slug(iri)
    if slug and SLUG_RE.match(slug):
        return url_for("entities.page", slug=slug)
    return url_for("entities.page_any") + "?" + urlencode({"iri": iri})


@dataclass
class Node:
    """The facts about one IRI that its page shows."""

    iri: str
    outgoing: dict[str, list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal, bool]]] = field(default_factory=dict)
    incoming: dict[str, list[str]] = field(default_factory=dict)
    incoming_total: int = 0
    provenance: dict[str, dict[str, list]] = field(default_factory=dict)


def _backend():
    return app_state().backend


def _timeout() -> float:
    return current_app.config["COWKG"]["query_timeout"]


def exists(iri: str) -> bool:
    """Whether ``iri`` occurs as subject or object in any graph of the dataset."""
    res = _backend().query(f"ASK {{ GRAPH ?g {{ {{ <{iri}> ?p ?o }} UNION {{ ?s ?p <{iri}> }} }} }}",
                           timeout=_timeout())
    return bool(res.boolean)


def load_node(iri: str) -> Node:
    """Statements about ``iri`` (asserted and inferred), incoming links and provenance of the neighbourhood."""
    backend, node = _backend(), Node(iri)
    out = backend.query(f"SELECT ?p ?o ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }} ORDER BY ?p ?o", timeout=_timeout())
    seen = set()
    for r in out.records():
        key = (r["p"].value, str(r["o"]))
        # The Wikibase view (cowg:wikibase) shows here by its truthy wdt: triples, as derived ones;
        # its statement nodes, names and types have their own pages.
        view = r["g"].value == str(GRAPH_WIKIBASE)
        if view and not r["p"].value.startswith(str(WDT)):
            continue
        inferred = view or r["g"].value == str(GRAPH_INFERRED)
        if key in seen:
            continue
        seen.add(key)
        node.outgoing.setdefault(r["p"].value, []).append((r["o"], inferred))
    incoming = backend.query(
        f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} "
        f"FILTER(?g NOT IN (<{GRAPH_INFERRED}>, <{GRAPH_WIKIBASE}>)) }} "
        f"ORDER BY ?p ?s", timeout=_timeout(), max_rows=INCOMING_LIMIT)
    for r in incoming.records():
        node.incoming.setdefault(r["p"].value, []).append(r["s"].value if isinstance(r["s"], ox.NamedNode)
                                                           else str(r["s"]))
    node.incoming_total = len(incoming) if not incoming.truncated else _count_incoming(iri)
    neighbours = {iri}
    neighbours.update(o.value for objs in node.outgoing.values() for o, _ in objs if isinstance(o, ox.NamedNode))
    neighbours.update(s for subs in node.incoming.values() for s in subs if not s.startswith("_:"))
    node.provenance = provenance_of(sorted(neighbours))
    return node


def _count_incoming(iri: str) -> int:
    res = _backend().query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} "
                           f"FILTER(?g NOT IN (<{GRAPH_INFERRED}>, <{GRAPH_WIKIBASE}>)) }}", timeout=_timeout())
    return int(res.records()[0]["n"].value)


def provenance_of(iris: list[str]) -> dict[str, dict[str, list]]:
    """Status, citation markers and sources of each IRI that has any."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    props = " ".join(f"<{p}>" for p in PROVENANCE)
    res = _backend().query(f"SELECT ?n ?p ?v WHERE {{ VALUES ?n {{ {values} }} VALUES ?p {{ {props} }} ?n ?p ?v }} "
                           "ORDER BY ?n ?p ?v", timeout=_timeout())
    out: dict[str, dict[str, list]] = {}
    for r in res.records():
        out.setdefault(r["n"].value, {}).setdefault(shorten(r["p"].value), []).append(r["v"])
    return out


def _iri_for_slug(slug: str) -> str:
    if not SLUG_RE.match(slug):
        raise NotFound(f"no entity {slug!r}: entity names are letters, digits and - . _ ~")
    iri = str(COWR) + slug
    if not exists(iri):
        raise NotFound(f"no entity <{iri}> in this dataset", hint="search the labels: /search?q=...")
    return iri


@bp.get("/id/<slug>")
def resolve(slug: str):
    """303 to the page for browsers, to the data for RDF clients (``Vary: Accept``)."""
    _iri_for_slug(slug)
    # Each format under its aliases too: rdflib asks for N-Triples as text/plain.
    offered = [HTML] + [m for f in GRAPH_FORMATS for m in (f.media_type, *f.aliases)]
    choice = negotiate((), request.headers.get("Accept"), tuple(offered))
    if choice is None:
        raise NotAcceptable("accepts neither HTML nor an RDF format", hint="available: " + ", ".join(offered))
    if choice == HTML:
        target = url_for("entities.page", slug=slug)
    else:
        fmt = by_name(choice, ("graph",))
        suffix = next(k for k, v in DATA_SUFFIXES.items() if v == fmt.name)
        target = url_for("entities.data", slug=slug, ext=suffix)
    resp = redirect(target, code=303)
    resp.headers["Vary"] = "Accept"
    return resp


@bp.get("/data/<slug>.<ext>")
def data(slug: str, ext: str):
    """The entity's description (``cowkg.export.describe``: its statements, the n-ary records that
    point to it, their provenance) as Turtle, JSON-LD, N-Triples or RDF/XML: the same bytes as
    ``cowkg export --subject`` (``?infer=true`` adds the inferred graph, like ``--infer``)."""
    if ext not in DATA_SUFFIXES:
        raise NotFound(f"no data format .{ext}", hint="use .ttl, .jsonld, .nt or .rdf")
    iri = _iri_for_slug(slug)
    fmt = by_name(DATA_SUFFIXES[ext], ("graph",))
    graphs = export_graphs(parse_bool("infer", request.args.get("infer"), False))
    context = jsonld_context() if fmt.name == "jsonld" else None
    body = description_bytes(_backend(), [iri], fmt, graphs, context=context, timeout=_timeout())
    return Response(body, content_type=content_type(fmt))


@bp.get("/data")
def data_any():
    """The description of any IRI of the dataset, ``/data?iri=<IRI>`` (the VoID URI lookup
    endpoint): the RDF format of ``format=`` or Accept (Turtle by default), the same bytes as
    ``/data/<slug>.<ext>`` for an entity; 404 for an IRI the dataset does not have."""
    iri = check_iri(request.args.get("iri"), what="the IRI to describe",
                    hint="e.g. /data?iri=" + str(COWR) + "coalition")
    wanted = request.args.get("format")
    fmt = by_name(wanted, ("graph",)) if wanted else negotiate(GRAPH_FORMATS, request.headers.get("Accept"))
    if fmt is None:
        raise NotAcceptable("the description is available as Turtle, N-Triples, JSON-LD and RDF/XML",
                            hint="format=ttl|nt|jsonld|rdfxml, or Accept: text/turtle, application/ld+json, ...")
    if not exists(iri):
        raise NotFound(f"no IRI <{iri}> in this dataset", hint="search the labels: /search?q=...")
    graphs = export_graphs(parse_bool("infer", request.args.get("infer"), False))
    context = jsonld_context() if fmt.name == "jsonld" else None
    resp = Response(description_bytes(_backend(), [iri], fmt, graphs, context=context, timeout=_timeout()),
                    content_type=content_type(fmt))
    resp.vary.add("Accept")
    return resp


@bp.get("/page/<slug>")
def page(slug: str):
    """The HTML page of a dataset entity."""
    return _render(_iri_for_slug(slug), slug)


@bp.get("/page")
def page_any():
    """The HTML page of any IRI of the dataset (ontology terms, concepts, graphs): ``?iri=``."""
    iri = check_iri(request.args.get("iri"), what="the IRI to show", hint="e.g. /page?iri=" + str(COWR) + "coalition")
    slug = entity_slug(iri)
    if slug and SLUG_RE.match(slug):
        return redirect(url_for("entities.page", slug=slug), code=301)
    if not exists(iri):
        raise NotFound(f"no IRI <{iri}> in this dataset", hint="search the labels: /search?q=...")
    return _render(iri, None)


@dataclass(frozen=True)
class RenderedPage:
    """An entity page as sent, kept in the app's response cache (the data is read-only while serving)."""

    body: bytes


def _render(iri: str, slug: str | None):
    """The entity page, rendered once per dataset version (several queries go to the backend for it)."""
    cache = app_state().cache
    key = ("entity-page", app_state().catalog.version, iri, slug)
    page = cache.get(key)
    if page is None:
        page = RenderedPage(_render_page(iri, slug).encode("utf-8"))
        cache.put(key, page)
    return Response(page.body, content_type="text/html; charset=utf-8")


def _render_page(iri: str, slug: str | None) -> str:
    from .entity_view import GROUPS, PROPERTY_GROUP, fold, group_of_kinds, kinds_of
    from .named import rows
    from .present import human_date

    catalog = app_state().catalog
    node = load_node(iri)
    labels = [(shorten(p), lab.text, lab.lang) for p in LABELS for lab in catalog.labels_of(iri) if lab.prop == p]
    neighbours = sorted({o.value for objs in node.outgoing.values() for o, _ in objs if isinstance(o, ox.NamedNode)}
                        | {iri})
    aliases = same_as(neighbours)
    folded, inferred_types = fold(node.outgoing, aliases)
    superclasses: dict[str, set[str]] = {}
    for r in rows("entity-kinds"):
        superclasses.setdefault(shorten(r["class"]), set()).add(r["kind"])

    def kinds(other: str) -> set[str]:
        return kinds_of(catalog.types_of(other), superclasses)

    own_kinds = kinds(iri)
    types = [row for row in folded if row.prop == str(RDF.type)]
    groups: dict[str, list] = {g: [] for g in GROUPS}
    for row in folded:
        if row.prop in (str(RDF.type), *LABELS):
            continue
        group = PROPERTY_GROUP.get(row.prop)
        if group is None:
            first = row.values[0].term
            if isinstance(first, ox.NamedNode):
                group = group_of_kinds(kinds(first.value)) or "Other links"
            elif row.values[0].human:
                group = "When"
            else:
                group = "What it is"
        groups[group].append(row)
    incoming: dict[str, list] = {g: [] for g in GROUPS}
    for p, subjects in sorted(node.incoming.items(), key=lambda kv: shorten(kv[0])):
        for subject in subjects:
            group = group_of_kinds(kinds(subject)) or "Other links"
            incoming[group].append((p, subject))
    wikidata = [o.value for o, _ in node.outgoing.get(str(OWL.sameAs), [])
                if isinstance(o, ox.NamedNode) and o.value.startswith(str(WD))]
    query = f"SELECT ?p ?o WHERE {{\n  <{iri}> ?p ?o\n}}"
    if slug:
        query = f"SELECT ?p ?o WHERE {{\n  cowr:{slug} ?p ?o\n}}"
    prov = node.provenance.get(iri, {})
    cite = cite_this(iri, catalog.display_label(iri), prov, catalog)
    return render_template("entity.html", iri=iri, slug=slug, title=catalog.display_label(iri), labels=labels,
                           types=types, inferred_types=inferred_types, groups=groups, incoming=incoming,
                           node=node, wikidata=wikidata, kinds=own_kinds, cite=cite, see_in=see_in(iri, own_kinds),
                           in_lists=in_lists(iri), human_date=human_date,
                           query_url="/query?query=" + quote(query), data_links=slug is not None)


def same_as(iris: list[str]) -> dict[str, str]:
    """Wikidata IRI → the dataset IRI among ``iris`` that is (asserted) ``owl:sameAs`` it."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    res = _backend().query(f"SELECT ?n ?w WHERE {{ VALUES ?n {{ {values} }} ?n <{OWL.sameAs}> ?w . "
                           f"FILTER(STRSTARTS(STR(?w), \"{WD}\")) }}", timeout=_timeout())
    return {r["w"].value: r["n"].value for r in res.records()}


def cite_this(iri: str, label: str, prov: dict, catalog) -> dict:
    """The parts of a citation of this record: what, where in cowkg, from which article, which markers."""
    sources = [catalog.display_label(t.value) for t in prov.get("prov:wasDerivedFrom", []) if hasattr(t, "value")]
    markers = [catalog.display_label(t.value).replace("citation ", "") for t in prov.get("cow:citation", [])
               if isinstance(t, ox.NamedNode)]
    lines = sorted({int(t.value) for t in prov.get("cow:sourceLine", []) if t.value.isdigit()})
    status = [catalog.display_label(t.value) for t in prov.get("cow:status", []) if isinstance(t, ox.NamedNode)]
    return {"label": label, "iri": iri, "sources": sources, "markers": markers, "lines": lines, "status": status}


def see_in(iri: str, kinds: set[str]) -> list[dict]:
    """Links to the entity in every analyst view, with what each shows of it."""
    q = urlencode({"focus": iri})
    place = "Place" in kinds
    party = bool(kinds & {"State", "InternationalOrganisation", "GovernmentBody"})
    meeting = "Event" in kinds
    return [
        {"view": "graph", "title": "Graph", "href": url_for("views.graph") + "?" + urlencode({"iri": iri}),
         "what": "its links to and from other entities"},
        {"view": "timeline", "title": "Timeline", "href": url_for("views.timeline") + "?" + q,
         "what": "the dated items it takes part in" if not meeting else "it on the timeline"},
        {"view": "attendance", "title": "Attendance", "href": url_for("views.attendance") + "?" + q,
         "what": "its row of attendances" if party else "its column" if meeting else "the attendances it is part of"},
        {"view": "map", "title": "Map", "href": url_for("views.map_view") + "?" + q,
         "what": "where it is" if place else "the places linked to it"},
    ]


def in_lists(iri: str) -> list[dict]:
    """Links to the browse lists filtered on this entity (statements by it, meetings it chaired, ...)."""
    from .browse import LISTS, facet_members

    out = []
    for list_name, facet_name, text in (("statements", "speaker", "Statements by it"),
                                        ("meetings", "host", "Meetings it hosted or chaired"),
                                        ("meetings", "place", "Meetings there"),
                                        ("documents", "author", "Documents by it"),
                                        ("pledges", "pledger", "Its pledges"),
                                        ("places", "within", "Places within it")):
        members = facet_members(LISTS[list_name], only=facet_name)
        found = members.get(facet_name, {}).get(iri)
        if found:
            out.append({"title": text, "count": len(found[1]),
                        "href": url_for("browse.browse", name=list_name) + "?" + urlencode({facet_name: iri})})
    return out


def render_term(term, catalog=None) -> Markup:
    """HTML for one RDF term: dataset IRIs link to their page with their label, literals show lang/datatype."""
    catalog = catalog or app_state().catalog
    if isinstance(term, str):
        term = ox.BlankNode(term[2:]) if term.startswith("_:") else ox.NamedNode(term)
    if isinstance(term, ox.NamedNode):
        iri = term.value
        if catalog.labels_of(iri) or entity_slug(iri):
            return Markup('<a class="iri" href="{}" title="{}">{}</a>').format(page_url(iri), iri,
                                                                             catalog.display_label(iri))
        if not iri.lower().startswith(("http://", "https://")):
            # javascript:, data:, file: ... in the data are shown, never made clickable.
            return Markup('<span class="iri external">{}</span>').format(iri)
        return Markup('<a class="iri external" rel="nofollow noopener" href="{}">{}</a>').format(iri, shorten(iri))
    if isinstance(term, ox.BlankNode):
        return Markup('<span class="bnode">_:{}</span>').format(term.value)
    if term.language:
        return Markup('<span class="literal">{}</span> <span class="lang">@{}</span>').format(term.value,
                                                                                          term.language)
    dt = term.datatype.value
    if dt == "http://www.w3.org/2001/XMLSchema#string":
        return Markup('<span class="literal">{}</span>').format(term.value)
    return Markup('<span class="literal">{}</span> <span class="datatype">{}</span>').format(term.value, shorten(dt))
