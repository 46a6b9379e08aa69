"""cowkg's side of a comparison: what the graph says about an entity that Wikidata can confirm.

Stage: after the backend (reads the asserted graphs with ``Backend.query``). Output: ``LocalEntity``
records (names, classes, existing links, country, dates, coordinates, roles held) that scoring
and ``check`` compare with Wikidata items. No network, no Flask, no click.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..backends import Backend, GraphSource, as_backend
from ..errors import InputError
from ..vocab import COW, COWR, WD
from .kinds import LINKABLE_CLASSES, Kind, kind_of

_POINT_RE = re.compile(r"Point\(\s*([-+0-9.eE]+)\s+([-+0-9.eE]+)\s*\)", re.IGNORECASE)


@dataclass
class RoleFact:
    """A position the graph says a person held: titles as printed, the state's QIDs, dates of context."""

    titles: list[str] = field(default_factory=list)
    org_qids: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)


@dataclass
class LocalEntity:
    """One cowkg entity as reconciliation sees it."""

    iri: str
    label: str
    classes: list[str]
    names: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)  # QIDs of existing owl:sameAs
    country_qids: list[str] = field(default_factory=list)
    coordinates: list[tuple[float, float]] = field(default_factory=list)
    dates: dict[str, list[str]] = field(default_factory=dict)  # founding / date / start / end
    roles: list[RoleFact] = field(default_factory=list)
    active: list[str] = field(default_factory=list)  # dates the entity is attested in the sources

    @property
    def slug(self) -> str:
        return self.iri[len(str(COWR)):] if self.iri.startswith(str(COWR)) else self.iri

    @property
    def kind(self) -> Kind:
        return kind_of(self.classes)

    @property
    def curie(self) -> str:
        return f"cowr:{self.slug}" if self.iri.startswith(str(COWR)) else f"<{self.iri}>"


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


def _class_iri(name: str) -> str:
    name = name.removeprefix("cow:")
    if name.startswith("http"):
        return name
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
        raise InputError(f"not a cowkg class name: {name!r}", hint="e.g. Person, State, City, MediaOutlet")
    return str(COW[name])


def load_entities(source: GraphSource, *, classes: Iterable[str] | None = None,
                  slugs: Iterable[str] | None = None) -> list[LocalEntity]:
    """Entities of ``classes`` (cowkg local names, subclasses included) or the given ``slugs``.

    Without either, every entity of ``LINKABLE_CLASSES``. Raises InputError for an unknown class
    or slug, so a typo does not silently reconcile nothing.
    """
    backend = as_backend(source)
    if slugs:
        wanted = [str(COWR[s.removeprefix("cowr:")]) for s in slugs]
        rows = backend.query(f"SELECT ?e ?cls WHERE {{ VALUES ?e {{ {_values(wanted)} }} ?e a ?cls }}").records()
        found = {r["e"].value for r in rows}
        unknown = [w for w in wanted if w not in found]
        if unknown:
            raise InputError(f"no such entity: {', '.join(u[len(str(COWR)):] for u in unknown)}")
    else:
        roots = [_class_iri(c) for c in (classes or LINKABLE_CLASSES)]
        known = {r["c"].value for r in backend.query(
            f"SELECT ?c WHERE {{ VALUES ?c {{ {_values(roots)} }} ?c a owl:Class }}").records()}
        missing = [r for r in roots if r not in known]
        if missing:
            raise InputError(f"unknown class: {', '.join(m.rsplit('#', 1)[-1] for m in missing)}",
                             hint="classes are cowkg ontology classes such as Person, State, City")
        rows = backend.query(f"""
            SELECT DISTINCT ?e ?cls WHERE {{
              VALUES ?root {{ {_values(roots)} }}
              ?e a ?cls . ?cls rdfs:subClassOf* ?root .
              FILTER(STRSTARTS(STR(?e), STR(cowr:)))
            }}""").records()
    by_iri: dict[str, LocalEntity] = {}
    for r in rows:
        iri = r["e"].value
        ent = by_iri.setdefault(iri, LocalEntity(iri, "", []))
        cls = r["cls"].value
        if cls.startswith(str(COW)):
            name = cls[len(str(COW)):]
            if name not in ent.classes:
                ent.classes.append(name)
    _add_superclasses(backend, by_iri.values())
    _add_names(backend, by_iri)
    _add_facts(backend, by_iri)
    return sorted(by_iri.values(), key=lambda e: e.iri)


def _add_superclasses(backend: Backend, entities: Iterable[LocalEntity]) -> None:
    classes = {c for e in entities for c in e.classes}
    if not classes:
        return
    rows = backend.query(f"""SELECT ?c ?sup WHERE {{ VALUES ?c {{ {_values(str(COW[c]) for c in classes)} }}
                             ?c rdfs:subClassOf+ ?sup . FILTER(STRSTARTS(STR(?sup), STR(cow:))) }}""").records()
    supers: dict[str, list[str]] = {}
    for r in rows:
        supers.setdefault(r["c"].value[len(str(COW)):], []).append(r["sup"].value[len(str(COW)):])
    for e in entities:
        for c in list(e.classes):
            e.classes.extend(s for s in supers.get(c, []) if s not in e.classes)


def _add_names(backend: Backend, by_iri: dict[str, LocalEntity]) -> None:
    if not by_iri:
        return
    rows = backend.query(f"""
        SELECT ?e ?p ?name WHERE {{
          VALUES ?e {{ {_values(by_iri)} }}
          VALUES (?p ?order) {{ (rdfs:label 0) (skos:prefLabel 1) (skos:altLabel 2) (cow:shortName 3)
                                (cow:printedAs 4) }}
          ?e ?p ?name . FILTER(isLiteral(?name))
        }} ORDER BY ?e ?order ?name""").records()
    for r in rows:
        ent = by_iri[r["e"].value]
        name = r["name"].value.strip()
        lang = getattr(r["name"], "language", None)
        if r["p"].value.endswith("#label") and not ent.label and (lang in (None, "", "en") or lang.startswith("en")):
            ent.label = name
        if name and name not in ent.names:
            ent.names.append(name)
    for ent in by_iri.values():
        if not ent.label:
            ent.label = ent.names[0] if ent.names else ent.slug
            if ent.label not in ent.names:
                ent.names.insert(0, ent.label)


def _qid(iri: str) -> str | None:
    return iri[len(str(WD)):] if iri.startswith(str(WD)) else None


def _add_facts(backend: Backend, by_iri: dict[str, LocalEntity]) -> None:
    if not by_iri:
        return
    ents = _values(by_iri)
    for r in backend.query(f"SELECT ?e ?q WHERE {{ VALUES ?e {{ {ents} }} ?e owl:sameAs ?q }}").records():
        q = _qid(r["q"].value)
        if q and q not in by_iri[r["e"].value].links:
            by_iri[r["e"].value].links.append(q)
    for r in backend.query(f"""SELECT ?e ?q WHERE {{ VALUES ?e {{ {ents} }}
                               ?e cow:country ?c . ?c owl:sameAs ?q }}""").records():
        q = _qid(r["q"].value)
        if q and q not in by_iri[r["e"].value].country_qids:
            by_iri[r["e"].value].country_qids.append(q)
    for r in backend.query(f"""
            SELECT ?e ?key ?d WHERE {{ VALUES ?e {{ {ents} }}
              VALUES (?p ?key) {{ (cow:foundingDate "founding") (cow:date "date") (cow:startDate "start")
                                  (cow:endDate "end") }}
              ?e ?p ?d }}""").records():
        by_iri[r["e"].value].dates.setdefault(r["key"].value, []).append(r["d"].value)
    for r in backend.query(f"""
            SELECT ?e ?wkt ?lat ?lon WHERE {{ VALUES ?e {{ {ents} }}
              {{ ?e wdt:P625 ?wkt }} UNION {{ ?e schema:latitude ?lat ; schema:longitude ?lon }}
              UNION {{ ?e schema:geo ?g . ?g schema:latitude ?lat ; schema:longitude ?lon }} }}""").records():
        point = None
        if r["wkt"] is not None:
            m = _POINT_RE.search(r["wkt"].value)
            if m:
                point = (float(m.group(2)), float(m.group(1)))
        elif r["lat"] is not None:
            point = (float(r["lat"].value), float(r["lon"].value))
        if point:
            by_iri[r["e"].value].coordinates.append(point)
    _add_roles(backend, by_iri, ents)


def _add_roles(backend: Backend, by_iri: dict[str, LocalEntity], ents: str) -> None:
    roles: dict[tuple[str, str], RoleFact] = {}
    for r in backend.query(f"""
            SELECT ?e ?role ?title ?asOf ?oq WHERE {{ VALUES ?e {{ {ents} }}
              ?role cow:holder ?e ; cow:status cowv:fact .
              OPTIONAL {{ ?role cow:title ?title }}
              OPTIONAL {{ ?role cow:asOf ?asOf }}
              OPTIONAL {{ ?role cow:roleIn ?org . ?org owl:sameAs ?oq }} }}""").records():
        fact = roles.setdefault((r["e"].value, r["role"].value), RoleFact())
        for key, target in (("title", fact.titles), ("asOf", fact.dates)):
            if r[key] is not None and r[key].value not in target:
                target.append(r[key].value)
        q = _qid(r["oq"].value) if r["oq"] is not None else None
        if q and q not in fact.org_qids:
            fact.org_qids.append(q)
    for (iri, _), fact in sorted(roles.items()):
        ent = by_iri[iri]
        ent.roles.append(fact)
        ent.active.extend(d for d in fact.dates if d not in ent.active)
        for q in fact.org_qids:
            if ent.kind.name == "person" and q not in ent.country_qids:
                ent.country_qids.append(q)
    for r in backend.query(f"""
            SELECT DISTINCT ?e ?d WHERE {{ VALUES ?e {{ {ents} }}
              {{ ?a cow:attendee ?e ; cow:date ?d }} UNION {{ ?s cow:attributedTo ?e ; cow:date ?d }} }}""").records():
        ent = by_iri[r["e"].value]
        if r["d"].value not in ent.active:
            ent.active.append(r["d"].value)
    for ent in by_iri.values():
        ent.active.sort()
