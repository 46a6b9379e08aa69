"""JSON-LD: the ``@context`` generated from the ontology, and the documents written with it.

Stage: exports (and the web layer, which serves the context at ``/context.jsonld``, the document
``https://w3id.org/cowkg/context.jsonld`` names). Input: the ontology graph, read
through a backend. Output: a context that gives every class and property of ``cow:`` a short key
(``CoalitionMeeting``, ``date``, ``ofMeeting``), declares the project prefixes, coerces object
properties to ``@id`` and single-datatype properties to their XSD type, and adds a few keys for
the shared vocabularies (``label``, ``prefLabel``, ``sameAs``, ``wasDerivedFrom``, ...).

The writers compact directly from sorted triples (no JSON-LD library on the hot path), so the
bytes are deterministic: one node a line, keys and values sorted. A value that does not fit a
key's coercion (a ``cow:date`` given as ``xsd:gYearMonth``) is written under the prefixed key
with its explicit type, so the document always expands to exactly the triples it was made from;
tests check that with pyld and rdflib. Exported documents embed the context, so they parse
offline; the published copy is the same object.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

import pyoxigraph as ox

from .backends import GraphSource, as_backend
from .vocab import BASE, COW, GRAPH_ONTOLOGY, PREFIXES, RDF_TYPE
from .vocab import NS_OWL as OWL
from .vocab import NS_RDFS as RDFS
from .vocab import NS_SKOS as SKOS
from .vocab import NS_XSD as XSD

__all__ = ["CONTEXT_URL", "build_context", "context_document", "write_framed", "write_jsonld"]

CONTEXT_URL = BASE + "context.jsonld"
_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,19})")
_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")

#: Short keys for terms of shared vocabularies the data uses everywhere (cow: terms win a clash).
EXTERNAL_TERMS: tuple[tuple[str, str, str | None], ...] = (
    ("label", RDFS + "label", None),
    ("comment", RDFS + "comment", None),
    ("seeAlso", RDFS + "seeAlso", "@id"),
    ("subClassOf", RDFS + "subClassOf", "@id"),
    ("subPropertyOf", RDFS + "subPropertyOf", "@id"),
    ("domain", RDFS + "domain", "@id"),
    ("range", RDFS + "range", "@id"),
    ("sameAs", OWL + "sameAs", "@id"),
    ("prefLabel", SKOS + "prefLabel", None),
    ("altLabel", SKOS + "altLabel", None),
    ("definition", SKOS + "definition", None),
    ("inScheme", SKOS + "inScheme", "@id"),
    ("wasDerivedFrom", "http://www.w3.org/ns/prov#wasDerivedFrom", "@id"),
    ("url", "https://schema.org/url", "@id"),
)

_KINDS = {OWL + "Class": "class", RDFS + "Class": "class", OWL + "ObjectProperty": "object",
          OWL + "DatatypeProperty": "datatype", OWL + "AnnotationProperty": "annotation",
          "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property": "annotation"}


def build_context(source: GraphSource) -> dict:
    """The ``@context`` object for the ontology graph of ``source`` (a backend, possibly a remote
    store, or a ``KnowledgeGraph``): prefixes, then cow: terms, then shared ones.

    Deterministic: the same ontology gives the same dict, in the same key order.
    """
    backend = as_backend(source)
    kinds: dict[str, set[str]] = {}
    ranges: dict[str, set[str]] = {}
    res = backend.query(f"SELECT ?s ?o WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?s a ?o "
                        f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), \"{COW}\")) }} }}")
    for row in res.records():
        if row["o"].value in _KINDS:
            kinds.setdefault(row["s"].value, set()).add(_KINDS[row["o"].value])
    res = backend.query(f"SELECT ?s ?o WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?s <{RDFS}range> ?o "
                        "FILTER(isIRI(?o)) } }")
    for row in res.records():
        ranges.setdefault(row["s"].value, set()).add(row["o"].value)
    ctx: dict = dict(sorted(PREFIXES.items()))
    for iri in sorted(kinds, key=lambda i: (i[len(str(COW)):].lower(), i)):
        name = iri[len(str(COW)):]
        if not _LOCAL.fullmatch(name) or name in ctx:
            continue
        curie = "cow:" + name
        kind = kinds[iri]
        if "object" in kind:
            ctx[name] = {"@id": curie, "@type": "@id"}
        elif "datatype" in kind and len(ranges.get(iri, ())) == 1:
            (rng,) = ranges[iri]
            # Strings, integers and booleans are native JSON values already; coercing them would
            # turn 4 into "4".
            native = (XSD + "string", XSD + "integer", XSD + "boolean")
            ctx[name] = {"@id": curie, "@type": "xsd:" + rng[len(XSD):]} \
                if rng.startswith(XSD) and rng not in native else curie
        else:
            ctx[name] = curie
    for name, iri, coercion in EXTERNAL_TERMS:
        if name not in ctx:
            ctx[name] = {"@id": _curie(iri), "@type": coercion} if coercion else _curie(iri)
    return ctx


def context_document(context: dict) -> bytes:
    """The context as a standalone JSON-LD document (what ``/context.jsonld`` serves)."""
    return (json.dumps({"@context": context}, indent=2, ensure_ascii=False) + "\n").encode()


def _curie(iri: str) -> str:
    for prefix, ns in sorted(PREFIXES.items()):
        if iri.startswith(ns) and _LOCAL.fullmatch(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


class Compactor:
    """Writes terms and node objects in the compact form a given context allows."""

    def __init__(self, context: dict) -> None:
        self.prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}
        self.ns_index = {v: k for k, v in sorted(self.prefixes.items(), reverse=True)}
        self.terms: dict[str, tuple[str, str | None]] = {}
        for name, definition in context.items():
            if name in self.prefixes or name.startswith("@"):
                continue
            ref, coercion = (definition, None) if isinstance(definition, str) else \
                (definition["@id"], definition.get("@type"))
            iri = self._expand(ref)
            if coercion and coercion not in ("@id", "@vocab"):
                coercion = self._expand(coercion)
            self.terms.setdefault(iri, (name, coercion))

    def _expand(self, ref: str) -> str:
        prefix, _, local = ref.partition(":")
        return self.prefixes[prefix] + local if prefix in self.prefixes else ref

    def iri(self, iri: str) -> str:
        """A compact IRI (``cowr:meeting-04``) when a prefix covers ``iri``, else the IRI itself."""
        cut = max(iri.rfind("#"), iri.rfind("/")) + 1
        prefix = self.ns_index.get(iri[:cut])
        return f"{prefix}:{iri[cut:]}" if prefix and _LOCAL.fullmatch(iri[cut:]) else iri

    def vocab(self, iri: str) -> str:
        """A key or @type value: the term for ``iri`` if the context has one, else a compact IRI."""
        term = self.terms.get(iri)
        return term[0] if term else self.iri(iri)

    def plain(self, term):
        """A value in the form that needs no coercion from its key."""
        if isinstance(term, ox.NamedNode):
            return {"@id": self.iri(term.value)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        dt = term.datatype.value
        if dt == XSD + "string":
            return term.value
        if dt == XSD + "integer" and _INTEGER.fullmatch(term.value):
            return int(term.value)
        if dt == XSD + "boolean" and term.value in ("true", "false"):
            return term.value == "true"
        return {"@value": term.value, "@type": self.iri(dt)}

    def key_value(self, predicate: str, obj) -> tuple[str, object]:
        """The key and value for one statement, using the term's coercion only where it fits."""
        term = self.terms.get(predicate)
        if term is None:
            return self.iri(predicate), self.plain(obj)
        name, coercion = term
        if coercion is None:
            return name, self.plain(obj)
        if coercion == "@id" and isinstance(obj, ox.NamedNode):
            return name, self.iri(obj.value)
        if isinstance(obj, ox.Literal) and not obj.language and obj.datatype.value == coercion:
            return name, obj.value
        return self.iri(predicate), self.plain(obj)


def _node(c: Compactor, subject: str, triples: Sequence[ox.Triple], embed=None) -> dict:
    """One node object: @id, @type, then keys sorted; values sorted by their N-Triples form.

    ``embed(iri)`` may return a node object to write in place of a reference to ``iri``.
    """
    node: dict = {"@id": c.iri(subject)}
    types = sorted(c.vocab(t.object.value) for t in triples
                   if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode))
    if types:
        node["@type"] = types[0] if len(types) == 1 else types
    values: dict[str, list] = {}
    for t in sorted(triples, key=lambda t: str(t.object)):
        if t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode):
            continue
        key, value = c.key_value(t.predicate.value, t.object)
        if embed is not None and isinstance(t.object, ox.NamedNode):
            inner = embed(t.object.value)
            if inner is not None:
                value = inner
        values.setdefault(key, []).append(value)
    for key in sorted(values):
        vs = values[key]
        node[key] = vs[0] if len(vs) == 1 else vs
    return node


def _document(context: dict, nodes: Iterable[dict]) -> bytes:
    """``{"@context": ..., "@graph": [...]}`` with the context indented and one node a line."""
    ctx = json.dumps(context, indent=2, ensure_ascii=False).replace("\n", "\n  ")
    lines = [json.dumps(n, ensure_ascii=False) for n in nodes]
    graph = "[\n    " + ",\n    ".join(lines) + "\n  ]" if lines else "[]"
    return f'{{\n  "@context": {ctx},\n  "@graph": {graph}\n}}\n'.encode()


def _by_subject(triples: Iterable[ox.Triple]) -> dict[str, list[ox.Triple]]:
    out: dict[str, list[ox.Triple]] = {}
    for t in triples:
        if not isinstance(t.subject, ox.NamedNode):
            raise ValueError("JSON-LD export expects skolemised blank nodes")
        out.setdefault(t.subject.value, []).append(t)
    return out


def write_jsonld(triples: Iterable[ox.Triple], context: dict) -> bytes:
    """A flat, compacted JSON-LD document: one node object per subject, sorted by IRI."""
    c = Compactor(context)
    subjects = _by_subject(triples)
    return _document(context, (_node(c, s, subjects[s]) for s in sorted(subjects)))


def write_framed(quads: Sequence[ox.Quad], roots: Sequence[str], context: dict) -> bytes:
    """A framed JSON-LD document: one tree per entity of ``roots`` (e.g. every instance of a class).

    Each root carries its n-ary records under ``@reverse`` (e.g. a meeting's attendances under
    ``"@reverse": {"ofMeeting": [...]}``); any other described node (citations, the source) is
    embedded where it is first referenced and referenced by IRI afterwards, like JSON-LD
    framing's ``@embed: @once``. Nothing of ``quads`` is lost: it expands to the same triples.
    """
    c = Compactor(context)
    subjects = _by_subject(q.triple for q in quads)
    top = sorted(set(roots) & subjects.keys())
    pointing: dict[str, list[tuple[str, str]]] = {}
    for s, ts in subjects.items():
        for t in ts:
            if isinstance(t.object, ox.NamedNode) and t.predicate.value != RDF_TYPE:
                pointing.setdefault(t.object.value, []).append((s, t.predicate.value))
    done: set[str] = set(top)

    def embed(iri: str):
        if iri in done or iri not in subjects:
            return None
        done.add(iri)
        return _node(c, iri, subjects[iri], embed)

    trees = []
    for s in top:
        node = _node(c, s, subjects[s], embed)
        reverse: dict[str, list] = {}
        for record, pred in sorted(pointing.get(s, ())):
            if record not in done:
                reverse.setdefault(c.vocab(pred), []).append(embed(record))
        if reverse:
            node["@reverse"] = {k: reverse[k] for k in sorted(reverse)}
        trees.append(node)
    for s in sorted(subjects):
        if s not in done:
            done.add(s)
            trees.append(_node(c, s, subjects[s], embed))
    return _document(context, trees)
