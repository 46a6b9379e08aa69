"""QuickStatements V1 export: facts cowkg holds about linked entities that Wikidata lacks.

Stage: after the store; uses the Wikidata client to see what Wikidata already says. Input: the
asserted graphs and the Wikidata alignment (``ontology/alignments/wikidata.ttl``: a cowkg
property equivalent to, or a sub-property of, a ``wdt:`` property, or a property chain through
an n-ary record). Output: one QuickStatements V1 line per missing statement, e.g.::

    Q142<TAB>P463<TAB>Q…<TAB>S854<TAB>"https://en.wikipedia.org/wiki/…"<TAB>S813<TAB>+2025-12-00T00:00:00Z/10

Only facts: the node that carries the triple (the entity, or the record of a chain) must have
``cow:status cowv:fact``; plans, proposals, claims, reports, views and everything else are
never exported. Both ends must be linked (``owl:sameAs wd:Q…``) for item values. Every line
cites the article (S854 reference URL) and the date the copy of it was taken (S813 retrieved,
from the source's ``dcterms:date``). Wikidata items that are missing or redirected get nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .errors import InputError
from .query import run_query
from .store import KnowledgeGraph
from .vocab import SOURCE_ARTICLE, WD, WDT
from .wikidata.client import WikidataClient
from .wikidata.model import Entity, WDTime

XSD = "http://www.w3.org/2001/XMLSchema#"
#: Datatypes of the Wikidata properties the alignment uses (a statement must fit its property).
WD_DATATYPES = {
    "P17": "wikibase-item", "P112": "wikibase-item", "P159": "wikibase-item", "P276": "wikibase-item",
    "P463": "wikibase-item", "P488": "wikibase-item", "P664": "wikibase-item", "P710": "wikibase-item",
    "P2936": "wikibase-item", "P571": "time", "P580": "time", "P582": "time", "P585": "time",
    "P1132": "quantity", "P1114": "quantity", "P2130": "quantity-with-unit", "P1813": "monolingualtext",
}
NEVER = {"P31"}  # cowkg classes are not Wikidata items: rdf:type is never exported


@dataclass(frozen=True)
class Mapping:
    """How a Wikidata property is read from cowkg: a direct property, or a chain through a record."""

    pid: str
    path: tuple[str, ...]


@dataclass
class Candidate:
    """One statement cowkg could add: subject QID, property, QuickStatements value, and for comparisons."""

    qid: str
    pid: str
    value: str
    raw: object
    entity: str


@dataclass
class QuickStatementsExport:
    """The V1 lines, the statements left out (each with its reason) and the client's notices."""

    lines: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def as_bytes(self) -> bytes:
        return "".join(line + "\n" for line in self.lines).encode("utf-8")


def _pid(iri: str) -> str | None:
    return iri[len(str(WDT)):] if iri.startswith(str(WDT)) else None


def alignment(kg: KnowledgeGraph) -> list[Mapping]:
    """Mappings read from the ontology: equivalent / sub-properties of ``wdt:`` ones, and chains."""
    direct = run_query(kg, """
        SELECT DISTINCT ?cp ?wp WHERE {
          { ?cp owl:equivalentProperty ?wp } UNION { ?wp owl:equivalentProperty ?cp }
          UNION { ?cp rdfs:subPropertyOf ?wp }
          FILTER(STRSTARTS(STR(?cp), STR(cow:)) && STRSTARTS(STR(?wp), STR(wdt:)))
        }""").records()
    chains = run_query(kg, """
        SELECT ?p ?a ?b WHERE { ?p owl:propertyChainAxiom ?l . ?l rdf:first ?a ; rdf:rest ?r . ?r rdf:first ?b ;
                                rdf:rest rdf:nil }""").records()
    chain_of = {r["p"].value: (r["a"].value, r["b"].value) for r in chains}
    out: set[Mapping] = set()
    for r in direct:
        pid = _pid(r["wp"].value)
        if pid and pid not in NEVER:
            cp = r["cp"].value
            out.add(Mapping(pid, chain_of.get(cp, (cp,))))
    for p, chain in chain_of.items():
        pid = _pid(p)
        if pid and pid not in NEVER:
            out.add(Mapping(pid, chain))
    return sorted(out, key=lambda m: (int(m.pid[1:]), m.path))


def _inverses(kg: KnowledgeGraph) -> dict[str, str]:
    rows = run_query(kg, "SELECT ?p ?q WHERE { ?p owl:inverseOf ?q }").records()
    inv = {}
    for r in rows:
        inv[r["p"].value] = r["q"].value
        inv[r["q"].value] = r["p"].value
    return inv


def candidates(kg: KnowledgeGraph) -> tuple[list[Candidate], list[str]]:
    """Statements about linked entities that cowkg states as facts, with reasons for those left out."""
    inverses = _inverses(kg)
    found: list[Candidate] = []
    skipped: list[str] = []
    for m in alignment(kg):
        if len(m.path) == 1:
            pattern = f"?e <{m.path[0]}> ?v . ?e cow:status cowv:fact ."
        elif len(m.path) == 2:
            first = f"{{ ?e <{m.path[0]}> ?rec }}"
            if m.path[0] in inverses:
                first += f" UNION {{ ?rec <{inverses[m.path[0]]}> ?e }}"
            pattern = f"{first} ?rec <{m.path[1]}> ?v ; cow:status cowv:fact . ?e cow:status cowv:fact ."
        else:
            continue
        # Wikidata gives people a country through P27 (citizenship), which cowkg does not state.
        not_people = "FILTER NOT EXISTS { ?e a cow:Person }" if m.pid == "P17" else ""
        rows = run_query(kg, f"""
            SELECT DISTINCT ?e ?q ?v ?vq WHERE {{
              {pattern} {not_people}
              ?e owl:sameAs ?q .
              FILTER(STRSTARTS(STR(?e), STR(cowr:)) && STRSTARTS(STR(?q), STR(wd:)))
              OPTIONAL {{ ?v owl:sameAs ?vq . FILTER(STRSTARTS(STR(?vq), STR(wd:))) }}
            }}""").records()
        for r in rows:
            qid = r["q"].value[len(str(WD)):]
            entity = r["e"].value
            value, raw, reason = _qs_value(m.pid, r["v"], r["vq"])
            if value is None:
                skipped.append(f"{qid} {m.pid} {r['v'].value}: {reason}")
                continue
            found.append(Candidate(qid, m.pid, value, raw, entity))
    unique = {(c.qid, c.pid, c.value): c for c in found}
    return sorted(unique.values(), key=lambda c: (int(c.qid[1:]), int(c.pid[1:]), c.value)), sorted(set(skipped))


def _qs_value(pid: str, v, vq) -> tuple[str | None, object, str]:
    """(QuickStatements value, comparable value, reason when None)."""
    kind = WD_DATATYPES.get(pid)
    if kind is None:
        return None, None, f"datatype of {pid} unknown to cowkg"
    if not hasattr(v, "datatype"):  # an IRI
        if kind != "wikibase-item":
            return None, None, f"{pid} takes a {kind}, not an item"
        if vq is None:
            return None, None, "the value has no Wikidata link"
        q = vq.value[len(str(WD)):]
        return q, q, ""
    text = v.value
    if any(c in text for c in '"\t\n'):
        return None, None, "text with quotes, tabs or newlines cannot be written in QuickStatements V1"
    dt = v.datatype.value if v.datatype else ""
    if kind == "time":
        t = _time(text, dt)
        return (t[0], t[1], "") if t else (None, None, f"not a date: {dt}")
    if kind == "quantity" and dt[len(XSD):] in ("integer", "decimal", "nonNegativeInteger", "positiveInteger"):
        return text, float(text), ""
    if kind == "monolingualtext" and getattr(v, "language", None):
        return f'{v.language}:"{text}"', (v.language, text), ""
    if kind == "quantity-with-unit":
        return None, None, f"{pid} needs a unit item, which cowkg does not link"
    return None, None, f"{pid} takes a {kind}; the value is {dt.rsplit('#', 1)[-1] or 'a plain literal'}"


def _time(text: str, datatype: str) -> tuple[str, WDTime] | None:
    kind = datatype[len(XSD):] if datatype.startswith(XSD) else ""
    m = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text[:10] if kind == "dateTime" else text)
    if not m or kind not in ("date", "gYearMonth", "gYear", "dateTime"):
        return None
    year, month, day = int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0)
    precision = 11 if day else 10 if month else 9
    return f"+{year:04d}-{month:02d}-{day:02d}T00:00:00Z/{precision}", WDTime(year, month, day, precision)


def _already(entity: Entity, c: Candidate, redirects: dict[str, str]) -> bool:
    for st in entity.statements(c.pid, best=False):
        v = st.value
        if isinstance(c.raw, str) and isinstance(v, str) and redirects.get(v, v) == c.raw:
            return True
        if isinstance(c.raw, WDTime) and isinstance(v, WDTime):
            p = min(c.raw.precision, v.precision)
            if (v.year, v.month if p >= 10 else 0, v.day if p >= 11 else 0) == \
                    (c.raw.year, c.raw.month if p >= 10 else 0, c.raw.day if p >= 11 else 0):
                return True
        if isinstance(c.raw, float):
            try:
                if float(str(v).lstrip("+")) == c.raw:
                    return True
            except ValueError:
                pass
        if isinstance(c.raw, tuple) and isinstance(v, str) and v.casefold() == c.raw[1].casefold():
            return True
    return False


def reference(kg: KnowledgeGraph) -> tuple[str, str]:
    """(S854 URL, S813 date) from the article's ``schema:url`` and ``dcterms:date``. Raises InputError."""
    rows = run_query(kg, f"""SELECT ?url ?date WHERE {{ <{SOURCE_ARTICLE}> schema:url ?url .
                              OPTIONAL {{ <{SOURCE_ARTICLE}> dcterms:date ?date }} }}""").records()
    if not rows:
        raise InputError("the source article has no schema:url to cite", hint="see data/sources.ttl")
    url = rows[0]["url"].value
    date = rows[0]["date"]
    t = _time(date.value, date.datatype.value) if date is not None else None
    if t is None:
        raise InputError("the source article has no dcterms:date to use as the retrieved date (S813)")
    return url, t[0]


def export_quickstatements(kg: KnowledgeGraph, client: WikidataClient) -> QuickStatementsExport:
    """QuickStatements V1 lines for facts Wikidata lacks. Raises BackendUnavailable when unreachable."""
    url, retrieved = reference(kg)
    found, skipped = candidates(kg)
    out = QuickStatementsExport(skipped=skipped)
    batch = client.get_entities(sorted({c.qid for c in found}, key=lambda q: int(q[1:])))
    linked_values = sorted({c.raw for c in found if isinstance(c.raw, str)}, key=lambda q: int(q[1:]))
    values = client.get_entities(linked_values, props=("info",), report=False) if linked_values else None
    value_redirects = values.redirects if values else {}
    for c in found:
        item = batch.get(c.qid)
        if item is None or c.qid in batch.redirects:
            why = "redirected to " + batch.redirects[c.qid] if c.qid in batch.redirects else "missing on Wikidata"
            out.skipped.append(f"{c.qid} {c.pid} {c.value}: the subject is {why}")
            continue
        if _already(item, c, value_redirects):
            out.skipped.append(f"{c.qid} {c.pid} {c.value}: already on Wikidata")
            continue
        out.lines.append("\t".join((c.qid, c.pid, c.value, "S854", f'"{url}"', "S813", retrieved)))
    out.notices = list(client.notices)
    return out


__all__ = ["export_quickstatements", "alignment", "candidates"]
