"""Ontology documentation: a model of every class, property and vocabulary of ``ontology/``.

Stage: after the backend. Input: a backend (its ontology graph for the terms, its data graph for
usage counts and examples, read once into a private index). Output: an ``OntologyDoc`` that the web layer renders
(``templates/ontology/ontology.html``) at the ontology IRI, https://w3id.org/cowkg/ontology.
Every term gets an anchor: the local name for ``cow:`` terms, so the hash IRI
``https://w3id.org/cowkg/ontology#CoalitionMeeting`` lands on its section; ``prefix-local`` for
the rest (``wdt-P31``, ``cowv-fact``).

Why not pyLODE: its current release (3.4.1) fails on import (it reads a ``pyproject.toml`` that
its wheel does not ship); 3.2.1 works but derives anchors from labels ("state" next to
"Coalition"), so hash IRIs do not resolve, and it has no place for the Wikidata alignment or
examples from the data. A small model and template cover all of that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from .backends import GraphSource, as_backend
from .vocab import COW, COWA, GRAPH_DATA, GRAPH_ONTOLOGY, ONTOLOGY_IRI, PREFIXES, WD, WDT, shorten
from .vocab import NS_DCT as DCT
from .vocab import NS_OWL as OWL
from .vocab import NS_RDF as RDF
from .vocab import NS_RDFS as RDFS
from .vocab import NS_SKOS as SKOS
from .vocab import NS_VANN as VANN

__all__ = ["Link", "OntologyDoc", "TermDoc", "anchor_for", "ontology_doc", "documented_terms"]


CLASS_TYPES = (OWL + "Class", RDFS + "Class")
PROPERTY_KINDS = {OWL + "ObjectProperty": "object property", OWL + "DatatypeProperty": "datatype property",
                  OWL + "AnnotationProperty": "annotation property", RDF + "Property": "property"}
CHARACTERISTICS = {OWL + "FunctionalProperty": "functional", OWL + "InverseFunctionalProperty": "inverse functional",
                   OWL + "TransitiveProperty": "transitive", OWL + "SymmetricProperty": "symmetric"}
ALIGNMENT_RELATIONS = {OWL + "equivalentClass": "equivalent to", OWL + "equivalentProperty": "equivalent to",
                       RDFS + "subClassOf": "narrower than", RDFS + "subPropertyOf": "narrower than",
                       OWL + "sameAs": "same as"}
EXAMPLES = 3


@dataclass(frozen=True)
class Link:
    """A reference to a term: its IRI, a label, and the anchor on this page if it is documented here."""

    iri: str
    label: str
    anchor: str | None = None

    @property
    def curie(self) -> str:
        return shorten(self.iri)


@dataclass
class TermDoc:
    """One class, property, concept scheme or concept, with everything the page says about it."""

    iri: str
    kind: str
    anchor: str
    label: str
    definition: str = ""
    comments: list[str] = field(default_factory=list)
    parents: list[Link] = field(default_factory=list)  # superclasses / superproperties
    children: list[Link] = field(default_factory=list)
    domains: list[Link] = field(default_factory=list)
    ranges: list[Link] = field(default_factory=list)
    in_domain_of: list[Link] = field(default_factory=list)
    in_range_of: list[Link] = field(default_factory=list)
    inverses: list[Link] = field(default_factory=list)
    characteristics: list[str] = field(default_factory=list)
    alignments: list[tuple[str, Link]] = field(default_factory=list)
    chain: list[Link] = field(default_factory=list)  # owl:propertyChainAxiom, in order
    concepts: list[Link] = field(default_factory=list)  # for concept schemes
    usage: int = 0
    examples: list[tuple[Link, str]] = field(default_factory=list)

    @property
    def curie(self) -> str:
        return shorten(self.iri)


@dataclass
class OntologyDoc:
    """The whole page: metadata, then the terms grouped as the page shows them."""

    iri: str
    title: str
    description: str
    metadata: list[tuple[str, list[str | Link]]]
    classes: list[TermDoc]
    properties: dict[str, list[TermDoc]]  # by kind, in PROPERTY_KINDS order
    alignment: list[TermDoc]  # Wikidata terms declared by the alignment file
    schemes: list[TermDoc]
    concepts: list[TermDoc]
    hierarchy: list[tuple[int, Link]]  # (depth, class) in tree order
    namespaces: list[tuple[str, str]]


def anchor_for(iri: str) -> str:
    """The page anchor of a term: ``cow:`` local names as they are, ``prefix-local`` otherwise."""
    if iri.startswith(str(COW)):
        return iri[len(str(COW)):]
    short = shorten(iri)
    if short != iri:
        return short.replace(":", "-")
    return "t-" + hashlib.sha256(iri.encode()).hexdigest()[:12]


class _Graph:
    """Lookups over the ontology graph (and the data graph for usage), in a private index of the two
    graphs read through the backend (so a remote store answers one query per graph, not thousands)."""

    def __init__(self, source: GraphSource) -> None:
        self.index = ox.Store()
        self.index.extend(as_backend(source).quads([str(GRAPH_ONTOLOGY), str(GRAPH_DATA)]))
        self.onto = ox.NamedNode(str(GRAPH_ONTOLOGY))
        self.data = ox.NamedNode(str(GRAPH_DATA))

    def objects(self, s: str, p: str, graph=None) -> list:
        return [q.object for q in self.index.quads_for_pattern(ox.NamedNode(s), ox.NamedNode(p), None,
                                                                  graph or self.onto)]

    def subjects(self, p: str, o: str, graph=None) -> list:
        return [q.subject for q in self.index.quads_for_pattern(None, ox.NamedNode(p), ox.NamedNode(o),
                                                                   graph or self.onto)]

    def text(self, s: str, *props: str, graph=None) -> str:
        """The English (or untagged) value of the first property that has one."""
        for p in props:
            values = [o for o in self.objects(s, p, graph) if isinstance(o, ox.Literal)]
            values.sort(key=lambda o: (o.language not in ("en", None), o.language or "", o.value))
            if values:
                return values[0].value
        return ""

    def label(self, iri: str) -> str:
        return (self.text(iri, RDFS + "label", SKOS + "prefLabel") or
                self.text(iri, RDFS + "label", SKOS + "prefLabel", graph=self.data) or shorten(iri))

    def rdf_list(self, head) -> list:
        out = []
        while isinstance(head, ox.NamedNode | ox.BlankNode) and head.value != RDF + "nil" and len(out) < 100:
            first = [q.object for q in self.index.quads_for_pattern(head, ox.NamedNode(RDF + "first"), None,
                                                                       self.onto)]
            rest = [q.object for q in self.index.quads_for_pattern(head, ox.NamedNode(RDF + "rest"), None,
                                                                      self.onto)]
            if not first:
                break
            out.append(first[0])
            head = rest[0] if rest else None
        return out


def documented_terms(source: GraphSource | _Graph) -> dict[str, str]:
    """IRI → kind of every class, property, concept scheme and concept declared in the ontology graph."""
    g = source if isinstance(source, _Graph) else _Graph(source)
    kinds: dict[str, str] = {}
    for types, kind in ((CLASS_TYPES, "class"), (tuple(PROPERTY_KINDS), None),
                        ((SKOS + "ConceptScheme",), "concept scheme"), ((SKOS + "Concept",), "concept")):
        for t in types:
            for s in g.subjects(RDF + "type", t):
                if isinstance(s, ox.NamedNode):
                    kinds.setdefault(s.value, kind or PROPERTY_KINDS[t])
    return kinds


def ontology_doc(source: GraphSource) -> OntologyDoc:
    """Build the documentation model from ``source``'s graphs. Deterministic: every list is sorted."""
    g = _Graph(source)
    kinds = documented_terms(g)

    def link(term) -> Link:
        iri = term.value
        return Link(iri, g.label(iri), anchor_for(iri) if iri in kinds else None)

    def links(terms: Iterable) -> list[Link]:
        return sorted({link(t) for t in terms if isinstance(t, ox.NamedNode)}, key=lambda x: (x.label.lower(), x.iri))

    docs: dict[str, TermDoc] = {}
    for iri, kind in kinds.items():
        d = TermDoc(iri, kind, anchor_for(iri), g.label(iri),
                    definition=g.text(iri, SKOS + "definition", DCT + "description"),
                    comments=sorted(o.value for o in g.objects(iri, RDFS + "comment") if isinstance(o, ox.Literal)))
        sub_p = RDFS + "subClassOf" if kind == "class" else RDFS + "subPropertyOf"
        d.parents = links(o for o in g.objects(iri, sub_p) if not _is_wikidata(o))
        d.children = links(s for s in g.subjects(sub_p, iri) if not _is_wikidata(s))
        if kind == "class":
            d.in_domain_of = links(g.subjects(RDFS + "domain", iri))
            d.in_range_of = links(g.subjects(RDFS + "range", iri))
            d.usage, d.examples = _class_usage(g, iri, link)
        elif kind in PROPERTY_KINDS.values():
            d.domains = links(g.objects(iri, RDFS + "domain"))
            d.ranges = links(g.objects(iri, RDFS + "range"))
            d.inverses = links([*g.objects(iri, OWL + "inverseOf"), *g.subjects(OWL + "inverseOf", iri)])
            d.characteristics = sorted(CHARACTERISTICS[t.value] for t in g.objects(iri, RDF + "type")
                                       if t.value in CHARACTERISTICS)
            chains = g.objects(iri, OWL + "propertyChainAxiom")
            d.chain = [link(t) for t in g.rdf_list(chains[0])] if chains else []
            d.usage, d.examples = _property_usage(g, iri, link)
        elif kind == "concept scheme":
            d.concepts = links(g.subjects(SKOS + "inScheme", iri))
        elif kind == "concept":
            d.parents = links(g.objects(iri, SKOS + "inScheme"))
        d.alignments = _alignments(g, iri, link)
        docs[iri] = d

    def sort(ts: Iterable[TermDoc]) -> list[TermDoc]:
        return sorted(ts, key=lambda t: (t.anchor.lower(), t.iri))

    cow_terms = [d for d in docs.values() if d.iri.startswith(str(COW))]
    classes = sort(d for d in cow_terms if d.kind == "class")
    properties = {k: sort(d for d in cow_terms if d.kind == k) for k in PROPERTY_KINDS.values()}
    properties = {k: v for k, v in properties.items() if v}
    other = [d for d in docs.values() if not d.iri.startswith(str(COW))]
    alignment = sorted((d for d in other if d.kind not in ("concept", "concept scheme")),
                       key=lambda t: (len(t.curie), t.curie))
    schemes = sort(d for d in other if d.kind == "concept scheme")
    concepts = sorted((d for d in other if d.kind == "concept"),
                      key=lambda t: ((t.parents[0].label.lower() if t.parents else ""), t.label.lower(), t.iri))
    return OntologyDoc(
        iri=ONTOLOGY_IRI,
        title=g.text(ONTOLOGY_IRI, DCT + "title", RDFS + "label") or "cowkg ontology",
        description=g.text(ONTOLOGY_IRI, DCT + "description", RDFS + "comment"),
        metadata=_metadata(g),
        classes=classes, properties=properties, alignment=alignment, schemes=schemes, concepts=concepts,
        hierarchy=_hierarchy(classes, docs),
        namespaces=sorted(PREFIXES.items()),
    )


def _is_wikidata(term) -> bool:
    return isinstance(term, ox.NamedNode) and term.value.startswith((str(WD), str(WDT)))


def _alignments(g: _Graph, iri: str, link) -> list[tuple[str, Link]]:
    """How a term relates to Wikidata (or, for a Wikidata term, to cowkg's terms)."""
    out = set()
    for p, words in ALIGNMENT_RELATIONS.items():
        for o in g.objects(iri, p):
            if isinstance(o, ox.NamedNode) and _is_wikidata(o) != iri.startswith((str(WD), str(WDT))):
                out.add((words, link(o)))
        for s in g.subjects(p, iri):
            if isinstance(s, ox.NamedNode) and _is_wikidata(s) != iri.startswith((str(WD), str(WDT))):
                out.add(({"narrower than": "broader than"}.get(words, words), link(s)))
    # Rows of the Wikidata alignment table (ontology/alignments/wikidata.ttl): what the Wikibase view
    # states in a Wikidata property from this cowkg term, and the other way round.
    rows = [r for r in g.subjects(str(COWA) + "reads", iri) if isinstance(r, ox.NamedNode)]
    for row in rows:
        for prop in g.objects(row.value, str(COWA) + "property"):
            out.add(("stated in the Wikibase view as", link(prop)))
    for row in g.subjects(str(COWA) + "property", iri):
        if isinstance(row, ox.NamedNode):
            for term in g.objects(row.value, str(COWA) + "reads"):
                out.add(("stated from", link(term)))
    # A cowkg property used in a Wikidata property's chain.
    for q in g.index.quads_for_pattern(None, ox.NamedNode(OWL + "propertyChainAxiom"), None, g.onto):
        if any(t.value == iri for t in g.rdf_list(q.object)):
            out.add(("step of the chain for", link(q.subject)))
    return sorted(out, key=lambda x: (x[0], x[1].curie))


def _class_usage(g: _Graph, iri: str, link) -> tuple[int, list[tuple[Link, str]]]:
    res = g.index.query(f"SELECT ?s WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s a <{iri}> }} }} ORDER BY ?s")
    instances = [row["s"] for row in res]
    return len(instances), [(link(s), "") for s in instances[:EXAMPLES]]


def _property_usage(g: _Graph, iri: str, link) -> tuple[int, list[tuple[Link, str]]]:
    res = g.index.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s <{iri}> ?o }} }}")
    n = int(next(iter(res))["n"].value)
    rows = g.index.query(f"SELECT ?s ?o WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s <{iri}> ?o }} }} ORDER BY ?s ?o "
                            f"LIMIT {EXAMPLES}")
    examples = []
    for row in rows:
        o = row["o"]
        value = g.label(o.value) if isinstance(o, ox.NamedNode) else o.value
        examples.append((link(row["s"]), value if len(value) <= 120 else value[:117] + "…"))
    return n, examples


def _metadata(g: _Graph) -> list[tuple[str, list[str | Link]]]:
    rows: list[tuple[str, list[str | Link]]] = [("IRI", [Link(ONTOLOGY_IRI, ONTOLOGY_IRI)])]
    for label, prop in (("Version IRI", OWL + "versionIRI"), ("Version", OWL + "versionInfo"),
                        ("Creator", DCT + "creator"), ("Created", DCT + "created"), ("Modified", DCT + "modified"),
                        ("Licence", DCT + "license"), ("Preferred prefix", VANN + "preferredNamespacePrefix"),
                        ("Namespace", VANN + "preferredNamespaceUri"), ("See also", RDFS + "seeAlso")):
        values = sorted(g.objects(ONTOLOGY_IRI, prop), key=str)
        if values:
            rows.append((label, [Link(v.value, v.value) if isinstance(v, ox.NamedNode) else v.value for v in values]))
    return rows


def _hierarchy(classes: list[TermDoc], docs: dict[str, TermDoc]) -> list[tuple[int, Link]]:
    """The cow: class tree, depth first; a class with two cow: parents appears under both."""
    by_iri = {c.iri: c for c in classes}
    children: dict[str, list[TermDoc]] = {}
    roots = []
    for c in classes:
        parents = [p.iri for p in c.parents if p.iri in by_iri]
        if not parents:
            roots.append(c)
        for p in parents:
            children.setdefault(p, []).append(c)
    out: list[tuple[int, Link]] = []

    def walk(c: TermDoc, depth: int, path: tuple[str, ...]) -> None:
        out.append((depth, Link(c.iri, c.label, c.anchor)))
        for child in children.get(c.iri, []):
            if child.iri not in path:
                walk(child, depth + 1, (*path, child.iri))

    for r in roots:
        walk(r, 0, (r.iri,))
    return out
