"""What an entity page shows, grouped by meaning: what it is, when, where, who, meetings and events,
documents, statements, sources; inferred duplicates folded into the values they repeat.

Stage: web (page model; ``entities.py`` loads the node and renders). Rules:

- A value the reasoner added only because it is ``owl:sameAs`` a value already shown (``wd:Q3052772``
  beside "Emmanuel Macron") is not a second value: the shown value carries "Wikidata: Q…".
- A statement the reasoner added under another property with a value already shown (``wdt:P664``,
  ``schema:location``, ``dcterms:date`` repeating ``cow:hostOrChair``, ``cow:location``, ``cow:date``)
  is folded into that statement as "also as …". What the reasoner adds that is new stays, marked
  inferred, in its group; inferred types are listed apart.
- Properties go to a group by a table of the ontology's properties, else by the kind of their value
  (a date, a place, a person, a state, ...); links *to* the entity go to the group of the linking
  node's kind (a statement about it, a meeting it attended, a role it holds).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from ..vocab import COW, OWL, PROV, RDF, WD, shorten
from .present import human_date

GROUPS = ("What it is", "When", "Where", "Who", "Meetings and events", "Documents", "Statements",
          "Records about it", "Other links", "Sources")
_C = str(COW)
#: Properties of the ontology whose group does not depend on their value.
PROPERTY_GROUP = {
    **{_C + p: "When" for p in ("date", "startDate", "endDate", "plannedDate", "confirmedDate", "asOf", "foundingDate",
                                "establishedDate", "inaugurationDate", "memberSince", "datePrecision", "dateDerived")},
    **{_C + p: "Where" for p in ("location", "plannedLocation", "inPlace", "foundingPlace", "site", "seat",
                                 "manufacturedIn", "rotatesTo", "deliveredAt")},
    **{_C + p: "Who" for p in ("hostOrChair", "host", "chair", "participant", "attributedTo", "reportedBy",
                               "addressedBy", "author", "party", "pledgedBy", "pledgedVia", "beneficiary", "holder",
                               "member", "ledBy", "coChair", "foundedBy", "attendee", "represents", "absentParty",
                               "holderNationality", "holderService", "postHolder", "addressee", "affiliation",
                               "country", "roleIn")},
    **{_C + p: "Sources" for p in ("status", "citation", "sourceSection", "sourceLine", "excerpt", "inventoryId")},
    str(PROV.wasDerivedFrom): "Sources",
}
#: The kinds of node a value (or a linking node) can be, each with the group it belongs to, most specific first.
KIND_GROUP = (("Statement", "Statements"), ("Document", "Documents"), ("Event", "Meetings and events"),
              ("Attendance", "Meetings and events"), ("NonAttendance", "Meetings and events"),
              ("Role", "What it is"), ("Place", "Where"), ("Person", "Who"), ("State", "Who"),
              ("InternationalOrganisation", "Who"), ("GovernmentBody", "Who"), ("MediaOutlet", "Who"),
              ("ResearchOrganisation", "Who"), ("UnnamedGroup", "Who"), ("Coalition", "Who"),
              ("MultinationalForce", "Who"), ("WorkingGroup", "Who"), ("SourcedRecord", "Records about it"))
DATE_TYPES = {"http://www.w3.org/2001/XMLSchema#" + t for t in ("date", "gYearMonth", "gYear", "dateTime")}


@dataclass
class Value:
    """One value of a statement on the page."""

    term: ox.NamedNode | ox.BlankNode | ox.Literal
    inferred: bool
    wikidata: list[str] = field(default_factory=list)  # Q-ids this value is the same as
    human: str | None = None  # a date as people write it


@dataclass
class Row:
    """One property and its values; ``also`` lists the inferred properties that repeat it."""

    prop: str
    values: list[Value]
    also: list[str] = field(default_factory=list)
    inferred: bool = False
    incoming: bool = False


def kinds_of(types: list[str], superclasses: dict[str, set[str]]) -> set[str]:
    """The local names of every class (and superclass) of a node, from its asserted types (CURIEs)."""
    out = set()
    for t in types:
        out.add(t.rsplit(":", 1)[-1])
        out.update(superclasses.get(t, ()))
    return out


def group_of_kinds(kinds: set[str]) -> str | None:
    return next((g for k, g in KIND_GROUP if k in kinds), None)


def fold(outgoing: dict[str, list[tuple]], aliases: dict[str, str]) -> tuple[list[Row], list[Value]]:
    """Rows of the entity's statements with inferred duplicates folded; and its inferred types.

    ``aliases``: Wikidata IRI → the dataset IRI it is ``owl:sameAs`` (asserted). Asserted statements
    first; then inferred ones in the ontology's own vocabulary; then the rest (alignments such as
    ``wdt:``, ``schema:``, ``dcterms:``). An inferred value already shown under its own property is
    dropped; under another property, that property gets an "also as" note."""
    rows: dict[str, Row] = {}
    holders: dict[str, list[str]] = {}  # value key → properties whose rows show it
    inferred_types: list[Value] = []
    also: dict[str, set[str]] = {}
    ordered = sorted(((p, o, inferred) for p, objs in outgoing.items() for o, inferred in objs),
                     key=lambda t: (t[2], 0 if t[0].startswith(_C) or t[0] == str(RDF.type) else 1))
    for p, o, inferred in ordered:
        if p == str(OWL.sameAs) and isinstance(o, ox.NamedNode) and o.value.startswith(str(WD)):
            continue  # shown as "Wikidata: Q…" beside the label
        key = _key(o, aliases)
        if inferred:
            if p == str(RDF.type):
                if str(RDF.type) not in holders.get(key, []):
                    inferred_types.append(Value(o, True))
                    holders.setdefault(key, []).append(p)
                continue
            owners = holders.get(key, [])
            if p in owners:
                continue  # the same value, reached through owl:sameAs
            if owners:
                for q in owners:
                    also.setdefault(q, set()).add(p)
                continue
        row = rows.setdefault(p, Row(p, []))
        row.values.append(Value(o, inferred, human=_human(o)))
        holders.setdefault(key, []).append(p)
    for p, extra in also.items():
        if p in rows:
            rows[p].also = sorted(shorten(x) for x in extra)
    for row in rows.values():
        row.inferred = all(v.inferred for v in row.values)
        for v in row.values:
            if isinstance(v.term, ox.NamedNode):
                v.wikidata = sorted(w.rsplit("/", 1)[-1] for w, src in aliases.items() if src == v.term.value)
    return list(rows.values()), inferred_types


def _key(term, aliases: dict[str, str]) -> str:
    if isinstance(term, ox.NamedNode):
        return aliases.get(term.value, term.value)
    if isinstance(term, ox.Literal):
        return "lit:" + term.value
    return str(term)


def _human(term) -> str | None:
    if isinstance(term, ox.Literal) and term.datatype.value in DATE_TYPES:
        return human_date(term.value)
    return None


__all__ = ["GROUPS", "KIND_GROUP", "PROPERTY_GROUP", "Row", "Value", "fold", "group_of_kinds", "kinds_of"]
