"""QuickStatements export: statements cowkg holds about linked entities that Wikidata lacks.

Stage: after the store; uses the Wikidata client to see what Wikidata already says. Input: the
Wikibase view (``cowg:wikibase``, built by cowkg.wikibase from the alignment table): its
statements about ``wd:`` items, with their qualifiers and references. Output: one QuickStatements
command per missing statement, in both formats QuickStatements reads:

- V1 commands (tab-separated): ``Q142<TAB>P463<TAB>Q…<TAB>P585<TAB>+2025-12-00T00:00:00Z/10<TAB>
  S854<TAB>"https://en.wikipedia.org/wiki/…"<TAB>S813<TAB>+2025-12-00T00:00:00Z/10<TAB>S958<TAB>"[36]"``;
- CSV: a header ``qid,P463,qal585,S854,S813,S958,…`` (a ``qal`` column qualifies, an ``S`` column
  sources, the statement column to its left) and one row per statement.

Only facts: a statement the view qualifies with P5102 (plan, proposal, claim, report, view,
reference excerpt, derived) is never exported, nor one whose record names no source. Every value
must be expressible on Wikidata: item values must be linked, a quantity's unit too; a statement
whose essential qualifier cannot be written (what a count counts, "about", "more than": a cowkg
concept) is left out whole, since without it the number means another thing; another qualifier
that cannot be written (an attendance level) is left out alone, and the report says so. References cite the
article (S854), the date of its copy (S813), the citation marker (S958), its page (S304) and, for
records that are not the item itself, the quoted phrase (S1683). Statements Wikidata already has
(same property and value, redirects followed) and subjects missing or redirected on Wikidata get
nothing; each left-out statement is listed with its reason.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field

from .backends import Backend, GraphSource, as_backend
from .errors import InputError
from .vocab import GRAPH_WIKIBASE, WD, WIKIBASE
from .wikidata.client import WikidataClient
from .wikidata.model import Entity, WDTime

UNIT_ONE = str(WD) + "Q199"
#: Properties never written: P31's values are cowkg classes (no verified Wikidata class items).
NEVER = {"P31", "P279"}
#: Reference properties that are written, in this order (P248 stated in names the article as a cowkg source).
SOURCE_PROPERTIES = ("P854", "P813", "P958", "P304", "P1683")
#: Qualifiers that change what a value means (what a count counts, "about", "more than"): a statement
#: whose essential qualifier cannot be written is left out; other qualifiers are left out alone.
ESSENTIAL = {"P459", "P1480", "P518"}


@dataclass(frozen=True)
class Snak:
    """One property-value pair in QuickStatements syntax, with a comparable form of the value."""

    pid: str
    value: str
    raw: object = None


@dataclass
class Candidate:
    """One statement cowkg could add: subject QID, main snak, qualifiers, sources."""

    qid: str
    main: Snak
    qualifiers: list[Snak]
    sources: list[Snak]
    entity: str

    @property
    def pid(self) -> str:
        return self.main.pid

    @property
    def value(self) -> str:
        return self.main.value

    @property
    def raw(self) -> object:
        return self.main.raw

    def v1(self) -> str:
        """The V1 command: entity, property, value, then qualifier and source pairs."""
        parts = [self.qid, self.pid, self.value]
        for q in self.qualifiers:
            parts += [q.pid, q.value]
        for s in self.sources:
            parts += ["S" + s.pid[1:], s.value]
        return "\t".join(parts)

    def columns(self) -> tuple[str, ...]:
        """The CSV columns this statement fills, in order (after ``qid``)."""
        return (self.pid, *("qal" + q.pid[1:] for q in self.qualifiers), *("S" + s.pid[1:] for s in self.sources))


@dataclass
class QuickStatementsExport:
    """The commands, the statements left out (each with its reason) and the client's notices."""

    statements: list[Candidate] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [c.v1() for c in self.statements]

    def as_bytes(self, fmt: str = "v1") -> bytes:
        """V1 commands, one per line, or (``fmt="csv"``) the CSV format."""
        if fmt == "csv":
            return self.csv().encode("utf-8")
        return "".join(line + "\n" for line in self.lines).encode("utf-8")

    def csv(self) -> str:
        """One header for all statements: a group of columns per kind of statement (its property,
        qualifiers and sources), each row filling its own group and leaving the others empty."""
        groups: list[tuple[str, ...]] = []
        for c in self.statements:
            if c.columns() not in groups:
                groups.append(c.columns())
        header = ["qid", *(col for g in groups for col in g)]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for c in self.statements:
            row = [c.qid]
            for g in groups:
                if g == c.columns():
                    row += [c.value, *(q.value for q in c.qualifiers), *(s.value for s in c.sources)]
                else:
                    row += [""] * len(g)
            writer.writerow(row)
        return out.getvalue()


def _qid(iri: str) -> str | None:
    return iri[len(str(WD)):] if iri.startswith(str(WD) + "Q") else None


def _time(stamp: str, precision: int) -> tuple[str, WDTime]:
    """``2025-12-01T00:00:00Z`` at month precision → ``+2025-12-00T00:00:00Z/10`` (QuickStatements zeroes
    what the precision does not cover, as Wikidata stores it)."""
    year, month, day = int(stamp[:4]), int(stamp[5:7]), int(stamp[8:10])
    month = month if precision >= 10 else 0
    day = day if precision >= 11 else 0
    return f"+{year:04d}-{month:02d}-{day:02d}T00:00:00Z/{precision}", WDTime(year, month, day, precision)


def _string(text: str) -> str | None:
    return None if any(c in text for c in '"\t\n\r|') else f'"{text}"'


def snak(pid: str, kind: str, value, node: dict[str, str]) -> tuple[Snak | None, str]:
    """A value of the view as a QuickStatements snak, or (None, why it cannot be written)."""
    text = value.value
    if kind == "WikibaseItem":
        qid = _qid(text)
        return (Snak(pid, qid, qid), "") if qid else (None, "the value has no Wikidata link")
    if kind == "Time":
        precision = int(node.get("timePrecision", "11"))
        qs, raw = _time(text, precision)
        return Snak(pid, qs, raw), ""
    if kind == "Quantity":
        unit = node.get("quantityUnit", UNIT_ONE)
        amount = text if text.startswith(("-", "+")) else "+" + text
        if "quantityLowerBound" in node and "quantityUpperBound" in node:
            lower, upper = float(node["quantityLowerBound"]), float(node["quantityUpperBound"])
            if abs((float(text) - lower) - (upper - float(text))) < 1e-9:
                amount += f"~{upper - float(text):g}"
        if unit != UNIT_ONE:
            unit_qid = _qid(unit)
            if unit_qid is None:
                return None, f"P{pid[1:]} needs a unit item, which cowkg does not link"
            amount += "U" + unit_qid[1:]
        return Snak(pid, amount, float(text)), ""
    if kind == "Monolingualtext":
        body = _string(text)
        if body is None:
            return None, "text with quotes, tabs or newlines cannot be written in QuickStatements"
        return Snak(pid, f"{value.language}:{body}", (value.language, text)), ""
    if kind in ("String", "ExternalId", "Url"):
        body = _string(text)
        return (Snak(pid, body, text), "") if body else \
            (None, "text with quotes, tabs or newlines cannot be written in QuickStatements")
    if kind == "GlobeCoordinate":
        lat, lon = node.get("geoLatitude"), node.get("geoLongitude")
        return (Snak(pid, f"@{lat}/{lon}", (lat, lon)), "") if lat and lon else (None, "no coordinates")
    return None, f"{pid} is a {kind}, which the export does not write"


def candidates(source: GraphSource) -> tuple[list[Candidate], list[str]]:
    """The view's fact statements about linked items, with the reasons for those left out."""
    backend = as_backend(source)
    g = f"<{GRAPH_WIKIBASE}>"
    rows = backend.query(f"""SELECT ?item ?st ?pid ?type ?v WHERE {{ GRAPH {g} {{
        ?prop wikibase:claim ?claim ; wikibase:statementProperty ?ps ; wikibase:propertyType ?type .
        ?item ?claim ?st . ?st ?ps ?v .
        FILTER(STRSTARTS(STR(?item), STR(wd:Q)))
        FILTER NOT EXISTS {{ ?st pq:P5102 ?nature }}
        BIND(STRAFTER(STR(?prop), STR(wd:)) AS ?pid) }} }} ORDER BY ?item ?pid ?st""").records()
    nodes = _value_nodes(backend)
    quals = _parts(backend, "qualifier", "?st ?p ?v", nodes)
    refs = _parts(backend, "reference", "?st prov:wasDerivedFrom ?ref . ?ref ?p ?v", nodes)
    entity_of = {r["q"].value: r["e"].value for r in backend.query(
        "SELECT ?e ?q WHERE { ?e owl:sameAs ?q . FILTER(STRSTARTS(STR(?q), STR(wd:))) }").records()}
    found: dict[tuple, Candidate] = {}
    skipped: list[str] = []
    for r in rows:
        pid, st, qid = r["pid"].value, r["st"].value, _qid(r["item"].value)
        if pid in NEVER or qid is None:
            continue
        main, why = snak(pid, _kind(r["type"]), r["v"], nodes.get((st, "statement", pid), {}))
        if main is None:
            skipped.append(f"{qid} {pid} {_short(r['v'].value)}: {why}")
            continue
        qualifiers, reason, dropped = [], "", []
        for qpid, kind, value, node in quals.get(st, []):
            q, why = snak(qpid, kind, value, node)
            if q is not None:
                qualifiers.append(q)
            elif qpid in ESSENTIAL:
                reason = f"its qualifier {qpid} cannot be written ({why}), and without it the value means another thing"
                break
            else:
                dropped.append(f"{qpid} ({why})")
        if reason:
            skipped.append(f"{qid} {pid} {main.value}: {reason}")
            continue
        sources = []
        for spid, kind, value, node in refs.get(st, []):
            if spid in SOURCE_PROPERTIES:
                s, _ = snak(spid, kind, value, node)
                if s is not None and s not in sources:
                    sources.append(s)
        if not any(s.pid == "P854" for s in sources):
            skipped.append(f"{qid} {pid} {main.value}: no reference (its record names no source with a URL)")
            continue
        c = Candidate(qid, main, sorted(set(qualifiers), key=_order),
                      sorted(sources, key=lambda s: (SOURCE_PROPERTIES.index(s.pid), s.value)),
                      entity_of.get(r["item"].value, r["item"].value))
        if dropped:
            left = ", ".join(sorted(set(dropped)))
            skipped.append(f"{qid} {pid} {main.value}: exported without its qualifier {left}")
        found.setdefault((qid, pid, main.value, tuple(q.value for q in c.qualifiers)), c)
    ordered = sorted(found.values(), key=lambda c: (int(c.qid[1:]), int(c.pid[1:]), c.value,
                                                     [q.value for q in c.qualifiers]))
    return ordered, sorted(set(skipped))


def _order(s: Snak) -> tuple:
    return int(s.pid[1:]), s.value


def _short(text: str) -> str:
    return text.rsplit("/", 1)[-1] if text.startswith("http") else text


def _kind(term) -> str:
    return term.value[len(str(WIKIBASE)):]


def _value_nodes(backend: Backend) -> dict[tuple[str, str, str], dict[str, str]]:
    """Full values (time precision, quantity unit and bounds, coordinates) by (node, part, property)."""
    out: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    for part, link in (("statement", "wikibase:statementValue"), ("qualifier", "wikibase:qualifierValue"),
                       ("reference", "wikibase:referenceValue")):
        for r in backend.query(f"""SELECT ?s ?pid ?k ?x WHERE {{ GRAPH <{GRAPH_WIKIBASE}> {{
                ?prop {link} ?pv . ?s ?pv ?node . ?node ?k ?x . FILTER(?k != rdf:type)
                BIND(STRAFTER(STR(?prop), STR(wd:)) AS ?pid) }} }}""").records():
            out[(r["s"].value, part, r["pid"].value)][r["k"].value[len(str(WIKIBASE)):]] = r["x"].value
    return out


def _parts(backend: Backend, part: str, where: str, nodes) -> dict[str, list[tuple]]:
    """Qualifiers (or reference snaks) of every statement: (pid, kind, value, full value)."""
    holder = "?ref" if part == "reference" else "?st"
    out: dict[str, list[tuple]] = defaultdict(list)
    for r in backend.query(f"""SELECT ?st {holder if holder != '?st' else ''} ?pid ?type ?v WHERE {{
            GRAPH <{GRAPH_WIKIBASE}> {{ ?prop wikibase:{part} ?p ; wikibase:propertyType ?type . {where}
            BIND(STRAFTER(STR(?prop), STR(wd:)) AS ?pid) }} }} ORDER BY ?st ?pid ?v""").records():
        owner = r["ref"].value if part == "reference" else r["st"].value
        out[r["st"].value].append((r["pid"].value, _kind(r["type"]), r["v"], nodes.get((owner, part, r["pid"].value),
                                                                                        {})))
    return out


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


def export_quickstatements(source: GraphSource, client: WikidataClient) -> QuickStatementsExport:
    """QuickStatements commands for facts Wikidata lacks. Raises InputError when the graph has no
    Wikibase view, BackendUnavailable when Wikidata is unreachable and the cache lacks the answer."""
    backend = as_backend(source)
    if not backend.query(f"ASK {{ GRAPH <{GRAPH_WIKIBASE}> {{ ?s ?p ?o }} }}").boolean:
        raise InputError("the graph was loaded without its Wikibase view", hint="open it with open_project()")
    found, skipped = candidates(backend)
    out = QuickStatementsExport(skipped=skipped)
    batch = client.get_entities(sorted({c.qid for c in found}, key=lambda q: int(q[1:])))
    linked = sorted({s.raw for c in found for s in (c.main, *c.qualifiers) if isinstance(s.raw, str)
                     and s.raw.startswith("Q") and s.raw[1:].isdigit()}, key=lambda q: int(q[1:]))
    values = client.get_entities(linked, props=("info",), report=False) if linked else None
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
        out.statements.append(c)
    out.notices = list(client.notices)
    return out


__all__ = ["export_quickstatements", "candidates", "QuickStatementsExport", "Candidate", "Snak"]
