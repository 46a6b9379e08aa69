"""What a cowkg class expects of a Wikidata item: which P31 values confirm it, which refute it.

Stage: shared by reconciliation (scoring candidates) and ``check`` (re-verifying links). The
tables hold well-known Wikidata classes; an item whose P31 is outside them is "unconfirmed",
not wrong, except for the strict kinds (people must be humans, states must be states) and the
Wikimedia-internal classes (disambiguation pages, categories, lists, names) that never stand for
a real-world entity.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Wikimedia pages and name items: never the real-world thing a cowkg entity is.
NEVER = {
    "Q4167410": "Wikimedia disambiguation page",
    "Q4167836": "Wikimedia category",
    "Q13406463": "Wikimedia list article",
    "Q11266439": "Wikimedia template",
    "Q202444": "given name",
    "Q12308941": "male given name",
    "Q11879590": "female given name",
    "Q101352": "family name",
}
HUMAN = "Q5"


@dataclass(frozen=True)
class Kind:
    """A family of cowkg classes and the Wikidata P31 values that confirm a candidate of it.

    ``strict``: a candidate whose P31 has none of ``accept`` is a conflict, not just unconfirmed.
    ``country_property``: where the item's country is stated (P17, or P27 citizenship for people).
    ``radius_km``: how far coordinates may lie from ours and still match (conflict beyond 5×).
    """

    name: str
    accept: frozenset[str]
    strict: bool = False
    country_property: str | None = "P17"
    radius_km: float | None = None


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("person", frozenset({HUMAN}), strict=True, country_property="P27"),
    Kind("state", frozenset({"Q3624078", "Q6256", "Q7275", "Q185441", "Q179164"}), strict=True,
         country_property=None),
    Kind("city", frozenset({"Q515", "Q1549591", "Q5119", "Q1637706", "Q200250", "Q3957", "Q486972",
                            "Q1093829", "Q484170", "Q747074", "Q2074737"}), radius_km=30),
    Kind("region", frozenset({"Q82794", "Q10864048", "Q3336843", "Q165", "Q1620908", "Q35657",
                              "Q180673", "Q23397"}), radius_km=300),
    Kind("venue", frozenset({"Q41176", "Q16560", "Q811979", "Q57821", "Q1785071", "Q33506"}), radius_km=2),
    Kind("place", frozenset({"Q515", "Q82794", "Q41176", "Q486972", "Q2221906"}), radius_km=50),
    Kind("organisation", frozenset({"Q484652", "Q245065", "Q43229", "Q1127126", "Q327333", "Q2659904",
                                    "Q35749", "Q176799"})),
    Kind("media", frozenset({"Q11032", "Q1110794", "Q1193236", "Q1002697", "Q15265344", "Q1331793",
                             "Q41298"})),
    Kind("research", frozenset({"Q1664720", "Q31855", "Q43229"})),
    Kind("event", frozenset({"Q1190554", "Q1656682", "Q198", "Q2761147", "Q625994", "Q132241"})),
    Kind("document", frozenset({"Q131569", "Q49848", "Q7748", "Q820655"})),
    Kind("position", frozenset({"Q4164871", "Q294414"})),
    Kind("language", frozenset({"Q34770", "Q1288568", "Q33742"})),
    Kind("other", frozenset()),
)}

#: cowkg class (local name) → kind, most specific first; the first class of an entity found here wins.
CLASS_KINDS: dict[str, str] = {
    "Person": "person",
    "State": "state",
    "City": "city",
    "Region": "region",
    "Venue": "venue",
    "Place": "place",
    "InternationalOrganisation": "organisation",
    "GovernmentBody": "organisation",
    "Coalition": "organisation",
    "MultinationalForce": "organisation",
    "WorkingGroup": "organisation",
    "MediaOutlet": "media",
    "ResearchOrganisation": "research",
    "Meeting": "event",
    "Event": "event",
    "Document": "document",
    "Position": "position",
    "Language": "language",
}

#: The classes ``cowkg reconcile`` looks at when none is named: things Wikidata may describe.
LINKABLE_CLASSES = ("Person", "State", "Place", "InternationalOrganisation", "GovernmentBody", "MediaOutlet",
                    "ResearchOrganisation", "Coalition", "MultinationalForce", "Document", "Event",
                    "Position", "Language")


def kind_of(classes: list[str]) -> Kind:
    """The kind of an entity from its cowkg classes (local names, any order)."""
    for cls, kind in CLASS_KINDS.items():
        if cls in classes:
            return KINDS[kind]
    return KINDS["other"]


@dataclass(frozen=True)
class TypeVerdict:
    """``state`` is "matched", "conflicted" or "unconfirmed"; ``text`` says why, for people."""

    state: str
    text: str


def named(qid: str, label_of) -> str:
    """``label (Q…)`` when the item's label is known, else the bare ID."""
    label = label_of(qid)
    return f"{label} ({qid})" if label and label != qid else qid


def judge_type(kind: Kind, p31: list[str], label_of) -> TypeVerdict:
    """Compare a candidate's P31 values with what ``kind`` expects. ``label_of(qid)`` names a class."""
    named_all = ", ".join(named(q, label_of) for q in p31) or "none"
    bad = [q for q in p31 if q in NEVER]
    if bad:
        return TypeVerdict("conflicted", f"P31 is {', '.join(f'{NEVER[q]} ({q})' for q in bad)}")
    if kind.name == "person":
        if HUMAN in p31:
            return TypeVerdict("matched", f"P31 human ({HUMAN})")
        return TypeVerdict("conflicted", f"not a human: P31 {named_all}")
    if HUMAN in p31:
        return TypeVerdict("conflicted", f"a human (P31 {HUMAN}), expected a {kind.name}")
    hits = [q for q in p31 if q in kind.accept]
    if hits:
        return TypeVerdict("matched", "P31 " + ", ".join(named(q, label_of) for q in hits))
    if kind.strict and p31:
        return TypeVerdict("conflicted", f"P31 {named_all} is not a {kind.name}")
    return TypeVerdict("unconfirmed", f"P31 {named_all} not known for a {kind.name}")
