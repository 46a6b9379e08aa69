"""Wikibase view: the whole graph in Wikidata's RDF dump format, built from one alignment table.

Stage: after loading, beside reasoning (it reads only asserted triples). Input: the asserted graphs
(``Sources``), whose ontology graph holds the alignment table (``ontology/alignments/wikidata.ttl``:
one row per kind of fact, a SPARQL pattern and the Wikidata property it has). Output: the triples
of the named graph ``cowg:wikibase``, as the Wikibase RDF dump format writes an item:

- items (``wd:Q…`` where a verified link exists, the cowkg IRI otherwise) with ``rdfs:label``,
  ``skos:prefLabel``, ``schema:name`` (one per language), ``schema:description``, ``skos:altLabel``;
- for each fact a statement node ``?item p:Pn ?st . ?st ps:Pn ?value ; wikibase:rank ?r``, with
  full values (``psv:``/``pqv:``/``prv:`` time, quantity and coordinate nodes), qualifiers
  (``pq:``) and a reference (``prov:wasDerivedFrom`` → ``pr:P248`` stated in, ``pr:P854`` URL,
  ``pr:P813`` retrieved, ``pr:P958`` citation marker, ``pr:P1683`` quote, ...);
- a statement whose record is not a fact (plan, proposal, claim, report, view, reference excerpt,
  derived) carries ``pq:P5102`` (nature of statement) = its status concept and is never best rank;
  the latest "as of" (P585) fact of a ``cowa:rankByPointInTime`` property is preferred rank;
- truthy ``wdt:`` triples for the best-rank statements (``a wikibase:BestRank``), as Wikidata
  derives them, and the ``wd:Pn`` property entities (``wikibase:directClaim`` ...).

Nothing here is per property: the rows say what maps to what; this module only evaluates them.
The view is computed once per input (cached on disk by the input hash and this module's code, like
the inferred graph) and never holds a triple that is also asserted, so a default graph that merges
it with the asserted graphs has no duplicate solutions.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from . import forked
from .files import write_atomically
from .load import CachedTriples, Sources
from .vocab import (
    ASSERTED_GRAPHS,
    COW,
    COWA,
    COWREF,
    COWS,
    COWVAL,
    GEO_WKT,
    PQ,
    PQV,
    PR,
    PROV_DERIVED,
    PRV,
    PS,
    PSV,
    QUERY_PREFIXES,
    RDF_TYPE,
    RDFS_LABEL,
    SCHEMA_NAME,
    WD,
    WDNO,
    WDT,
    WIKIBASE,
    P,
)
from .vocab import NS_OWL as OWL
from .vocab import NS_SKOS as SKOS
from .vocab import NS_XSD as XSD

log = logging.getLogger(__name__)

#: The dump format writes names and descriptions with http://schema.org/; cowkg's ``schema:`` prefix
#: is https://schema.org/, so descriptions are written in both and found by copied WDQS queries.
SCHEMA_DESCRIPTIONS = ("http://schema.org/description", "https://schema.org/description")
#: Constants of the format itself: the unit of unitless quantities, the proleptic Gregorian
#: calendar, the Earth as the globe of coordinates.
UNIT_ONE = str(WD) + "Q199"
GREGORIAN = str(WD) + "Q1985727"
EARTH = str(WD) + "Q2"
P5102 = "P5102"
P585 = "P585"

#: Wikibase datatypes (``wikibase:propertyType``) and the value kinds this module writes for them.
DATATYPES = {"WikibaseItem": "item", "Time": "time", "Quantity": "quantity", "String": "string",
             "Monolingualtext": "monolingual", "Url": "url", "GlobeCoordinate": "globe",
             "ExternalId": "string"}
_CHUNK = 2000
#: Prefixes of the table's patterns: every query prefix, and the table's own.
TABLE_PREFIXES = {**QUERY_PREFIXES, "cowa": str(COWA)}


def _code_hash() -> str:
    """This module's code, part of the cache key (read through its loader: it may sit in a zip)."""
    try:
        source = __spec__.loader.get_data(__spec__.origin)
    except (AttributeError, OSError, TypeError):
        from . import __version__

        source = __version__.encode()
    return hashlib.sha256(source).hexdigest()[:16]


#: Identifies the code that builds the view: part of its cache key and of the data version.
VIEW_CODE_HASH = _code_hash()

Term = ox.NamedNode | ox.Literal


# --------------------------------------------------------------------------------------------
# The table
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Prop:
    """A Wikidata property as the table declares it."""

    pid: str
    label: str
    kind: str  # item, time, quantity, string, monolingual, url, globe
    datatype: str  # the wikibase:propertyType local name
    rank_by_time: bool = False
    rank_within: tuple[str, ...] = ()


@dataclass(frozen=True)
class Pattern:
    """A row, a qualifier of a row, a common qualifier or a reference snak: a property and a pattern."""

    iri: str
    pid: str
    where: str
    qualifiers: tuple[Pattern, ...] = ()


@dataclass
class Table:
    """The alignment: properties, rows, common qualifiers, reference snaks and the status policy."""

    properties: dict[str, Prop]
    rows: list[Pattern]
    common: list[Pattern]
    snaks: list[Pattern]
    fact_statuses: frozenset[str]
    omitted_statuses: frozenset[str]
    default_status: str


def _pid(iri: str) -> str:
    if not iri.startswith(str(WDT)):
        raise ValueError(f"the alignment names {iri}, not a Wikidata property (wdt:Pn)")
    return iri[len(str(WDT)):]


def read_table(store: ox.Store, graph: ox.NamedNode | ox.DefaultGraph) -> Table:
    """Read the alignment table from ``graph`` of ``store``. Raises ValueError if it is malformed."""
    def select(query: str) -> list[ox.QuerySolution]:
        return list(store.query(query, prefixes=TABLE_PREFIXES, default_graph=graph))

    props = {}
    for r in select("""SELECT ?p ?label ?type (SAMPLE(?rt) AS ?byTime) (GROUP_CONCAT(?within) AS ?w) WHERE {
                         ?p wikibase:propertyType ?type ; rdfs:label ?label .
                         OPTIONAL { ?p cowa:rankByPointInTime ?rt } OPTIONAL { ?p cowa:rankWithin ?within } }
                       GROUP BY ?p ?label ?type"""):
        pid = _pid(r["p"].value)
        dtype = r["type"].value.rsplit("#", 1)[-1]
        if dtype not in DATATYPES:
            raise ValueError(f"wdt:{pid}: datatype {dtype} is not one the Wikibase view writes")
        label = re.sub(r"\s*\(Wikidata P\d+\)$", "", r["label"].value)
        within = tuple(_pid(w) for w in r["w"].value.split()) if r["w"] is not None and r["w"].value else ()
        props[pid] = Prop(pid, label, DATATYPES[dtype], dtype,
                          r["byTime"] is not None and r["byTime"].value == "true", within)

    def patterns(cls: str) -> list[Pattern]:
        out = []
        for r in select(f"SELECT ?m ?p ?w WHERE {{ ?m a cowa:{cls} ; cowa:property ?p ; cowa:where ?w }} ORDER BY ?m"):
            quals = tuple(Pattern(q["q"].value, _pid(q["p"].value), q["w"].value) for q in select(
                f"SELECT ?q ?p ?w WHERE {{ <{r['m'].value}> cowa:qualifier ?q . ?q cowa:property ?p ; cowa:where ?w }} "
                "ORDER BY ?p ?w"))
            out.append(Pattern(r["m"].value, _pid(r["p"].value), r["w"].value, quals))
        return out

    rows, common, snaks = patterns("StatementMapping"), patterns("CommonQualifier"), patterns("ReferenceSnak")
    for p in (*rows, *common, *snaks, *(q for r in rows for q in r.qualifiers)):
        if p.pid not in props:
            raise ValueError(f"{p.iri} uses wdt:{p.pid}, which the table does not declare (wikibase:propertyType)")
    policy = select("SELECT ?a ?k ?s WHERE { ?a a cowa:Alignment ; ?k ?s . "
                    "VALUES ?k { cowa:factStatus cowa:omittedStatus cowa:defaultStatus } }")
    by_key: dict[str, set[str]] = defaultdict(set)
    for r in policy:
        by_key[r["k"].value.rsplit("#", 1)[-1]].add(r["s"].value)
    if not by_key["factStatus"] or len(by_key["defaultStatus"]) != 1:
        raise ValueError("the alignment needs cowa:factStatus values and one cowa:defaultStatus")
    return Table(props, rows, common, snaks, frozenset(by_key["factStatus"]),
                 frozenset(by_key["omittedStatus"]), next(iter(by_key["defaultStatus"])))


# --------------------------------------------------------------------------------------------
# Values in the dump format
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Value:
    """A value as the dump writes it: the simple value, and (for time, quantity, coordinates) the
    triples of its full value node."""

    simple: Term
    node: tuple[tuple[str, Term], ...] = ()
    node_iri: ox.NamedNode | None = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # the IRI of the full value node, computed once: a value is written once per statement
        iri = None
        if self.node:
            digest = hashlib.sha1("\n".join(f"{p} {o}" for p, o in self.node).encode()).hexdigest()
            iri = ox.NamedNode(str(COWVAL) + digest)
        object.__setattr__(self, "node_iri", iri)


def _decimal(text: str) -> str | None:
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if not d.is_finite():
        return None
    out = format(d.normalize(), "f")
    return out if out not in ("-0",) else "0"


def _lit(value: str, datatype: str | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(datatype)) if datatype else ox.Literal(value)


def time_value(term: Term) -> Value | None:
    """xsd:date / gYearMonth / gYear / dateTime → xsd:dateTime at midnight UTC, precision 11/10/9."""
    if not isinstance(term, ox.Literal):
        return None
    dt = term.datatype.value[len(XSD):] if term.datatype.value.startswith(XSD) else ""
    text = term.value[:10] if dt == "dateTime" else term.value
    m = re.fullmatch(r"(-?\d{4,})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if not m or dt not in ("date", "gYearMonth", "gYear", "dateTime"):
        return None
    year, month, day = m.group(1), m.group(2), m.group(3)
    precision = 11 if day else 10 if month else 9
    stamp = f"{year}-{month or '01'}-{day or '01'}T00:00:00Z"
    simple = _lit(stamp, XSD + "dateTime")
    return Value(simple, ((RDF_TYPE, ox.NamedNode(str(WIKIBASE) + "TimeValue")),
                          (str(WIKIBASE) + "timeValue", simple),
                          (str(WIKIBASE) + "timePrecision", _lit(str(precision), XSD + "integer")),
                          (str(WIKIBASE) + "timeTimezone", _lit("0", XSD + "integer")),
                          (str(WIKIBASE) + "timeCalendarModel", ox.NamedNode(GREGORIAN))))


def quantity_value(term: Term, unit: Term | None = None, lower: Term | None = None,
                   upper: Term | None = None) -> Value | None:
    """A number → xsd:decimal, with its unit (unitless: Q199, as Wikibase writes it) and bounds."""
    if not isinstance(term, ox.Literal):
        return None
    amount = _decimal(term.value)
    if amount is None:
        return None
    simple = _lit(amount, XSD + "decimal")
    node = [(RDF_TYPE, ox.NamedNode(str(WIKIBASE) + "QuantityValue")), (str(WIKIBASE) + "quantityAmount", simple),
            (str(WIKIBASE) + "quantityUnit", unit if isinstance(unit, ox.NamedNode) else ox.NamedNode(UNIT_ONE))]
    for name, bound in (("quantityLowerBound", lower), ("quantityUpperBound", upper)):
        b = _decimal(bound.value) if isinstance(bound, ox.Literal) else None
        if b is not None:
            node.append((str(WIKIBASE) + name, _lit(b, XSD + "decimal")))
    return Value(simple, tuple(node))


def globe_value(term: Term) -> Value | None:
    """A ``Point(lon lat)`` WKT literal, with its latitude and longitude on the Earth."""
    if not isinstance(term, ox.Literal):
        return None
    m = re.fullmatch(r"Point\((-?[\d.]+) (-?[\d.]+)\)", term.value)
    if not m:
        return None
    lon, lat = m.group(1), m.group(2)
    simple = _lit(f"Point({lon} {lat})", GEO_WKT)
    return Value(simple, ((RDF_TYPE, ox.NamedNode(str(WIKIBASE) + "GlobecoordinateValue")),
                          (str(WIKIBASE) + "geoLatitude", _lit(lat, XSD + "double")),
                          (str(WIKIBASE) + "geoLongitude", _lit(lon, XSD + "double")),
                          (str(WIKIBASE) + "geoGlobe", ox.NamedNode(EARTH))))


def convert(kind: str, term: Term, items: dict[str, str], unit: Term | None = None, lower: Term | None = None,
            upper: Term | None = None) -> Value | None:
    """``term`` as a value of a property of ``kind``, or None when it cannot be one (it is skipped)."""
    if kind == "item":
        return Value(ox.NamedNode(items.get(term.value, term.value))) if isinstance(term, ox.NamedNode) else None
    if kind == "time":
        return time_value(term)
    if kind == "quantity":
        return quantity_value(term, unit and ox.NamedNode(items.get(unit.value, unit.value)), lower, upper)
    if kind == "globe":
        return globe_value(term)
    if kind == "url":
        if isinstance(term, ox.NamedNode):
            return Value(term)
        return Value(ox.NamedNode(term.value)) if re.match(r"https?://\S+$", term.value) else None
    if not isinstance(term, ox.Literal):
        return None
    if kind == "monolingual":
        return Value(ox.Literal(term.value, language=term.language or "und"))
    return Value(ox.Literal(term.value))


# --------------------------------------------------------------------------------------------
# Evaluating the rows
# --------------------------------------------------------------------------------------------

@dataclass
class Fact:
    """One match of a row: the cowkg terms, before they are written as a statement."""

    item: ox.NamedNode
    value: Term
    record: ox.NamedNode
    status: str | None
    unit: Term | None = None
    lower: Term | None = None
    upper: Term | None = None
    qualifiers: set[tuple[str, Term]] = field(default_factory=set)


def _sparql(term: Term) -> str:
    return str(term)


def _chunks(items: list, size: int = _CHUNK) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


class _Runner:
    """Runs the table's patterns over the asserted triples of one store."""

    def __init__(self, store: ox.Store, graphs: list[ox.NamedNode | ox.DefaultGraph]) -> None:
        self.store = store
        self.graphs = graphs
        #: (where, row variables, out) → ``_solve``'s answer: a common qualifier or snak is
        #: evaluated once, not once per row of the table
        self._solved: dict[tuple, tuple | None] = {}
        #: predicate (or, for rdf:type, class) → whether the asserted graphs use it at all
        self._occurs: dict[ox.Term, bool] = {}

    def select(self, query: str) -> Iterable[ox.QuerySolution]:
        try:
            return self.store.query(query, prefixes=TABLE_PREFIXES, default_graph=self.graphs)
        except SyntaxError as exc:
            raise ValueError(f"the alignment table has a malformed pattern: {exc}\n{query}") from None

    def pairs(self, predicate: str) -> Iterator[tuple[ox.NamedNode | ox.BlankNode, ox.Term]]:
        """(subject, object) of every triple with ``predicate``: a scan of one index, where a
        VALUES join would be a nested loop."""
        p = ox.NamedNode(predicate)
        for graph in self.graphs:
            for quad in self.store.quads_for_pattern(None, p, None, graph):
                yield quad.subject, quad.object

    def asserted(self, triple: ox.Triple) -> bool:
        """Whether the asserted graphs hold ``triple``. Only a triple whose predicate (and, for
        rdf:type, whose class) occurs there at all can be: most of the view's triples are
        answered from that memo, the rest (labels, mostly) by the store."""
        p = triple.predicate
        if p == _RDF_TYPE:
            key: ox.Term = triple.object
            if key not in self._occurs:
                self._occurs[key] = self._any(p, triple.object)
        else:
            key = p
            if key not in self._occurs:
                self._occurs[key] = self._any(p, None)
        return self._occurs[key] and any(ox.Quad(triple.subject, p, triple.object, g) in self.store
                                         for g in self.graphs)

    def _any(self, predicate: ox.NamedNode, obj: ox.Term | None) -> bool:
        return any(next(self.store.quads_for_pattern(None, predicate, obj, g), None) is not None
                   for g in self.graphs)

    def facts(self, row: Pattern) -> list[Fact]:
        out = []
        # solutions read by position: reading them by name costs 5x as much (~1.8 µs a lookup)
        for item, value, record, status, unit, lower, upper in self.select(
                f"SELECT DISTINCT ?item ?value ?record ?status ?unit ?lower ?upper WHERE {{ {row.where} }}"):
            record = record or item
            if not (isinstance(item, ox.NamedNode) and isinstance(record, ox.NamedNode)
                    and isinstance(value, ox.NamedNode | ox.Literal)):
                continue
            out.append(Fact(item, value, record, status.value if status is not None else None, unit, lower, upper))
        return out

    def matches(self, variables: tuple[str, ...], rows: list[tuple[Term, ...]], where: str, out: str) \
            -> Iterator[tuple[tuple[Term, ...], Term]]:
        """Distinct (bound row, ``?out``) for each of ``rows`` (values of ``variables``) that ``where`` matches.

        The engine joins a VALUES block by nested loops (4 s for 2,000 rows at 300k triples), so
        where it gives the same answers ``where`` is evaluated once over the whole graph and
        joined with ``rows`` here, by hash; see ``_joinable``.
        """
        if not rows:
            return
        solved = self._solve(variables, where, out)
        if solved is None:
            yield from self._matches_by_values(variables, rows, where, out)
            return
        shared, index, partial = solved
        positions = [variables.index(v) for v in shared]
        for row in dict.fromkeys(rows):  # distinct rows, and distinct values per key
            found = index.get(tuple(row[i] for i in positions), [])
            yield from ((row, value) for value in found)
            if partial:  # unbound in a branch of a UNION: compatible with any value there
                extra = {value: None for key, value in partial if value not in found
                         and all(k is None or k == row[i] for k, i in zip(key, positions, strict=True))}
                yield from ((row, value) for value in extra)

    def _solve(self, variables: tuple[str, ...], where: str, out: str) \
            -> tuple[list[str], dict[tuple, list[Term]], list[tuple[tuple, Term]]] | None:
        """``where`` evaluated alone: the row variables to join on, the distinct ``?out`` values
        per value of those, and the solutions where some of them are unbound; None when only the
        bound evaluation is right (``_joinable``)."""
        memo = (where, variables, out)
        if memo not in self._solved:
            solutions = self.select(f"SELECT * WHERE {{ {where} }}")
            position = {v.value: i for i, v in enumerate(solutions.variables)}
            shared = _joinable(where, variables, out, set(position))
            if shared is None:
                self._solved[memo] = None
                return None
            index: dict[tuple, dict[Term, None]] = defaultdict(dict)
            partial: dict[tuple[tuple, Term], None] = {}
            at_out, at_shared = position[out], [position[v] for v in shared]
            for solution in solutions:
                value = solution[at_out]
                if value is None or isinstance(value, ox.BlankNode):
                    continue
                key = tuple([solution[i] for i in at_shared])
                if None in key:
                    partial[(key, value)] = None
                else:
                    index[key][value] = None
            self._solved[memo] = (shared, {k: list(v) for k, v in index.items()}, list(partial))
        return self._solved[memo]

    def _matches_by_values(self, variables: tuple[str, ...], rows: list[tuple[Term, ...]], where: str,
                           out: str) -> Iterator[tuple[tuple[Term, ...], Term]]:
        head = " ".join("?" + v for v in variables)
        for chunk in _chunks(rows):
            values = " ".join("(" + " ".join(_sparql(t) for t in row) + ")" for row in chunk)
            for r in self.select(f"SELECT DISTINCT {head} ?{out} WHERE {{ VALUES ({head}) {{ {values} }} {where} }}"):
                if r[out] is not None and not isinstance(r[out], ox.BlankNode):
                    yield tuple(r[v] for v in variables), r[out]


_VARIABLE = re.compile(r"[?$]([A-Za-z_0-9]+)")
_LEFT_JOINS = re.compile(r"\b(?:OPTIONAL|MINUS)\b", re.IGNORECASE)


def _joinable(where: str, variables: tuple[str, ...], out: str, scope: set[str]) -> list[str] | None:
    """The row variables to join ``where``'s own solutions on, or None when that join could differ
    from evaluating ``where`` with the rows bound first.

    It can differ only when a row variable is used but not bound by ``where`` (a FILTER, BIND or
    EXISTS reading it would see the row's value only in the bound evaluation) or under OPTIONAL or
    MINUS (whose left join keeps or drops solutions depending on what is bound before). Otherwise
    the join of the rows with ``where``'s solutions is the same algebra in another order.

    >>> _joinable("?record a cow:Attendance ; cow:attendanceLevel ?qualifier .",
    ...           ("item", "value", "record"), "qualifier", {"record", "qualifier"})
    ['record']
    >>> _joinable("?record cow:keyPhrase ?snak . FILTER(?record != ?item)", ("item", "record"), "snak",
    ...           {"record", "snak"}) is None
    True
    """
    used = set(_VARIABLE.findall(where))
    shared = [v for v in variables if v in used]
    if out not in scope or not set(shared) <= scope or _LEFT_JOINS.search(where):
        return None
    return shared


# --------------------------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------------------------

@dataclass
class Statement:
    item: str
    pid: str
    value: Value
    qualifiers: tuple[tuple[str, Value], ...]
    references: set[tuple[tuple[str, Value], ...]] = field(default_factory=set)
    eligible: bool = True
    rank: str = "NormalRank"
    best: bool = False

    key: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # what makes two statements one (item, property, value, qualifiers): fixed at creation
        self.key = (self.item, self.pid, str(self.value.simple),
                    tuple((p, str(v.simple)) for p, v in self.qualifiers))

    def iri(self) -> ox.NamedNode:
        digest = hashlib.sha1(repr(self.key).encode()).hexdigest()[:16]
        return ox.NamedNode(f"{COWS}{_local(self.item)}-{self.pid}-{digest}")

    def point_in_time(self) -> str | None:
        times = [v.simple.value for p, v in self.qualifiers if p == P585]
        return max(times) if times else None


def _local(iri: str) -> str:
    tail = re.split(r"[/#]", iri.rstrip("/#"))[-1]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", tail) or "item"


def rank(statements: list[Statement], props: dict[str, Prop]) -> None:
    """Ranks and best rank per (item, property), as the table's policy says (see module docstring)."""
    groups: dict[tuple[str, str], list[Statement]] = defaultdict(list)
    for st in statements:
        groups[(st.item, st.pid)].append(st)
    for (_, pid), group in groups.items():
        prop = props[pid]
        if prop.rank_by_time:
            within: dict[tuple, list[Statement]] = defaultdict(list)
            for st in group:
                if st.eligible and st.point_in_time():
                    within[tuple(sorted(str(v.simple) for p, v in st.qualifiers if p in prop.rank_within))].append(st)
            for dated in within.values():
                times = {st.point_in_time() for st in dated}
                if len(times) > 1:
                    latest = max(times)
                    for st in dated:
                        if st.point_in_time() == latest:
                            st.rank = "PreferredRank"
        eligible = [st for st in group if st.eligible]
        preferred = [st for st in eligible if st.rank == "PreferredRank"]
        for st in preferred or eligible:
            st.best = True


@dataclass
class WikibaseView:
    """The view's triples, and how they were obtained."""

    triples: Sequence[ox.Triple]  # a CachedTriples when read from the cache
    seconds: float
    statements: int = 0
    cached: bool = False


def build_view(sources: Sources, cache_dir: str | Path | None = None, store: ox.Store | None = None) -> WikibaseView:
    """The Wikibase view of ``sources`` (read from ``cache_dir`` when it holds this input's view).

    ``store`` may be a store whose default graph already holds the asserted triples (the
    ``KnowledgeGraph``'s): it is queried instead of building a private one. Raises ValueError when
    the alignment table is malformed.
    """
    return PendingView(sources, cache_dir, beside=False).result(store)


def _computed(sources: Sources, store: ox.Store | None = None) -> WikibaseView:
    start = time.perf_counter()
    if store is None:
        store = ox.Store()
        store.extend(ox.Quad(*t, ox.DefaultGraph())
                     for t in sources.triples(str(g) for g in ASSERTED_GRAPHS))
    triples, count = _build(store, [ox.DefaultGraph()])
    view = WikibaseView(triples, time.perf_counter() - start, count)
    log.info("built the Wikibase view: %d statements, %d triples in %.2fs", count, len(triples), view.seconds)
    return view


#: From this many asserted triples a build computes the view in a forked helper, beside its
#: reasoning, indexing and validation (``PendingView``): 1M triples build in ~45 s instead of ~75 s
#: on two cores (bench/results/scale_pipeline_view.txt). Below it the view takes less than a second
#: and the fork is not worth its start.
BESIDE_MIN_TRIPLES = 50_000


class PendingView:
    """The Wikibase view of ``sources``, being built while the caller does other work.

    Read from the cache when it is there; otherwise, when ``beside`` (default: from
    ``BESIDE_MIN_TRIPLES`` asserted triples, with a second CPU and fork), built in a forked helper
    (``cowkg.forked``) from the same triples, the way ``build_view`` builds it; otherwise built
    by ``result``. A helper that dies without an answer costs only time: ``result`` logs a warning
    and builds the view here. ``cancel`` (or the ``with`` block's end) stops a helper whose view is
    no longer wanted.
    """

    def __init__(self, sources: Sources, cache_dir: str | Path | None = None, beside: bool | None = None) -> None:
        self.sources = sources
        self._cache_file = Path(cache_dir) / f"wikibase-{VIEW_CODE_HASH}-{sources.digest[:32]}.nt" \
            if cache_dir else None
        self._view = _read_cache(self._cache_file) if self._cache_file is not None else None
        self._job: forked.Forked | None = None
        if beside is None:
            beside = sources.count() >= BESIDE_MIN_TRIPLES and forked.available()
        #: whether a helper process was started for it (not when the cache held it)
        self.beside = bool(beside) and self._view is None
        if self.beside:
            log.info("building the Wikibase view of %d asserted triples in a helper process", sources.count())
            try:
                self._job = forked.Forked(_view_in_helper, sources)
            except OSError as exc:  # no process to spare (ulimit, memory): the view is built here
                log.warning("cannot start a helper process (%s): the Wikibase view is built in this one", exc)
                self.beside = False

    def result(self, store: ox.Store | None = None) -> WikibaseView:
        """The view (waiting for the helper). ``store``: as ``build_view``'s, for building it here.
        Raises ValueError when the alignment table is malformed."""
        if self._view is None and self._job is not None:
            job, self._job = self._job, None
            try:
                body, count, statements, seconds = job.result()
            except forked.HelperLost as exc:
                log.warning("%s: building the Wikibase view in this process", exc.message)
            else:
                self._view = WikibaseView(CachedTriples(body, count), seconds, statements)
                if self._cache_file is not None:
                    _write_cache(self._cache_file, self._view, body)
        if self._view is None:
            self._view = _computed(self.sources, store)
            if self._cache_file is not None:
                _write_cache(self._cache_file, self._view)
        return self._view

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancel()
            self._job = None

    def __enter__(self) -> PendingView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def _view_in_helper(sources: Sources) -> tuple[bytes, int, int, float]:
    """In the helper: the view as N-Triples (what crosses the pipe), triples, statements, seconds."""
    view = _computed(sources)
    return ox.serialize(view.triples, format=ox.RdfFormat.N_TRIPLES), len(view.triples), view.statements, view.seconds


def _build(store: ox.Store, graphs: list) -> tuple[list[ox.Triple], int]:
    runner = _Runner(store, graphs)
    table = read_table(store, graphs[0])
    items = {r["e"].value: r["q"].value for r in runner.select(
        "SELECT ?e (MIN(?q) AS ?q) WHERE { ?e owl:sameAs ?q . FILTER(isIRI(?e) && STRSTARTS(STR(?q), STR(wd:))) } "
        "GROUP BY ?e HAVING (COUNT(?q) = 1)")}

    facts_by_row: list[tuple[Pattern, list[Fact]]] = [(row, runner.facts(row)) for row in table.rows]
    every = [f for _, facts in facts_by_row for f in facts]
    # statuses of records that the row did not set
    unknown = {f.record.value for f in every if f.status is None}
    status_of: dict[str, str] = {}
    if unknown:
        for record, status in runner.pairs(str(COW) + "status"):
            if record.value in unknown:
                status_of[record.value] = status.value
    for f in every:
        if f.status is None:
            f.status = status_of.get(f.record.value, table.default_status)

    # qualifiers: the row's own, then the common ones
    for row, facts in facts_by_row:
        keyed = {(f.item, f.value, f.record): f for f in facts}
        for q in (*row.qualifiers, *table.common):
            for (item, value, record), qv in runner.matches(("item", "value", "record"), list(keyed), q.where,
                                                            "qualifier"):
                keyed[(item, value, record)].qualifiers.add((q.pid, qv))

    # references: one per record (and item, for the quote filter)
    snaks: dict[tuple[str, str], set[tuple[str, Term]]] = defaultdict(set)
    pairs = sorted({(f.item, f.record) for f in every}, key=lambda p: (p[0].value, p[1].value))
    for s in table.snaks:
        for (item, record), sv in runner.matches(("item", "record"), pairs, s.where, "snak"):
            snaks[(item.value, record.value)].add((s.pid, sv))

    statements: dict[tuple, Statement] = {}
    skipped = 0
    for row, facts in facts_by_row:
        prop = table.properties[row.pid]
        for f in facts:
            if f.status in table.omitted_statuses:
                continue
            value = convert(prop.kind, f.value, items, f.unit, f.lower, f.upper)
            if value is None:
                skipped += 1
                log.debug("%s: %s is no %s value", row.iri, f.value, prop.kind)
                continue
            quals = set()
            for pid, qv in f.qualifiers:
                converted = convert(table.properties[pid].kind, qv, items)
                if converted is not None:
                    quals.add((pid, converted))
            eligible = f.status in table.fact_statuses
            if not eligible:
                quals.add((P5102, Value(ox.NamedNode(f.status))))
            qualifiers = tuple(sorted(quals, key=lambda q: (int(q[0][1:]), str(q[1].simple))))
            reference = []
            for pid, sv in snaks.get((f.item.value, f.record.value), ()):
                converted = convert(table.properties[pid].kind, sv, items)
                if converted is not None:
                    reference.append((pid, converted))
            st = Statement(items.get(f.item.value, f.item.value), row.pid, value, qualifiers, eligible=eligible)
            st = statements.setdefault(st.key, st)
            if reference:
                st.references.add(tuple(sorted(reference, key=lambda s: (int(s[0][1:]), str(s[1].simple)))))
    if skipped:
        log.info("Wikibase view: %d matches skipped (value not of the property's datatype)", skipped)
    ordered = sorted(statements.values(), key=lambda s: s.key)
    rank(ordered, table.properties)
    triples = dict.fromkeys(_write(ordered, table, runner, items))
    return [t for t in triples if not runner.asserted(t)], len(ordered)


def _write(statements: list[Statement], table: Table, runner: _Runner, items: dict[str, str]) -> Iterator[ox.Triple]:
    # One object per IRI within this build (few predicates and classes, named millions of times);
    # the memo ends with the build, so no process keeps the IRIs of every view it built.
    n = functools.lru_cache(maxsize=None)(ox.NamedNode)
    wb = str(WIKIBASE)
    used_props: set[str] = set()
    entities: set[str] = set()

    def value_triples(subject: ox.NamedNode, simple_ns, value_ns, pid: str, value: Value) -> Iterator[ox.Triple]:
        yield ox.Triple(subject, n(f"{simple_ns}{pid}"), value.simple)
        node = value.node_iri
        if node is not None:
            yield ox.Triple(subject, n(f"{value_ns}{pid}"), node)
            for p, o in value.node:
                yield ox.Triple(node, n(p), o)
        if table.properties[pid].kind == "item":
            entities.add(value.simple.value)
        for p, o in value.node:  # a quantity's unit is an item too (unitless Q199 is Wikibase's own)
            if p.endswith("#quantityUnit") and o.value != UNIT_ONE:
                entities.add(o.value)

    for st in statements:
        used_props.add(st.pid)
        entities.add(st.item)
        item, node = n(st.item), st.iri()
        yield ox.Triple(item, n(f"{P}{st.pid}"), node)
        yield ox.Triple(node, n(RDF_TYPE), n(wb + "Statement"))
        if st.best:
            yield ox.Triple(node, n(RDF_TYPE), n(wb + "BestRank"))
            yield ox.Triple(item, n(f"{WDT}{st.pid}"), st.value.simple)
        yield ox.Triple(node, n(wb + "rank"), n(wb + st.rank))
        yield from value_triples(node, PS, PSV, st.pid, st.value)
        for pid, qv in st.qualifiers:
            used_props.add(pid)
            yield from value_triples(node, PQ, PQV, pid, qv)
        for reference in sorted(st.references, key=lambda r: [(p, str(v.simple)) for p, v in r]):
            ref = n(str(COWREF) + hashlib.sha1(repr([(p, str(v.simple)) for p, v in reference]).encode()).hexdigest())
            yield ox.Triple(node, n(PROV_DERIVED), ref)
            yield ox.Triple(ref, n(RDF_TYPE), n(wb + "Reference"))
            for pid, sv in reference:
                used_props.add(pid)
                yield from value_triples(ref, PR, PRV, pid, sv)
    yield from _entity_terms(sorted(entities), runner, items)
    for pid in sorted(used_props, key=lambda p: int(p[1:])):
        yield from _property_entity(table.properties[pid])


_RDF_TYPE = ox.NamedNode(RDF_TYPE)


def _entity_terms(entities: list[str], runner: _Runner, items: dict[str, str]) -> Iterator[ox.Triple]:
    """Labels, descriptions and aliases of the view's items, from their cowkg entity."""
    source_of = {q: e for e, q in items.items()}
    sources = {e: source_of.get(e, e) for e in entities}
    found: dict[str, dict[str, list[ox.Literal]]] = defaultdict(lambda: defaultdict(list))
    keys = set(sources.values())
    for predicate in (SKOS + "prefLabel", RDFS_LABEL, str(COW) + "description", SKOS + "definition",
                      SKOS + "altLabel", str(COW) + "shortName"):
        for entity, literal in runner.pairs(predicate):
            if isinstance(literal, ox.Literal) and entity.value in keys:
                found[entity.value][predicate].append(literal)
    for terms in found.values():  # in a fixed order: the first label of a language becomes its name
        for literals in terms.values():
            literals.sort(key=lambda lit: (lit.language or "", lit.value))
    for entity in entities:
        terms = found.get(sources[entity], {})
        subject = ox.NamedNode(entity)
        yield ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(str(WIKIBASE) + "Item"))
        # A cowkg item keeps its own rdfs:label / skos:prefLabel: one per language, as on Wikidata.
        own = {p: set(_by_language(terms.get(p, []))) if entity == sources[entity] else set()
               for p in (RDFS_LABEL, SKOS + "prefLabel")}
        names = _by_language([*terms.get(SKOS + "prefLabel", []), *terms.get(RDFS_LABEL, [])])
        for lang, labels in names.items():
            name = ox.Literal(labels[0].value, language=lang)
            yield ox.Triple(subject, ox.NamedNode(SCHEMA_NAME), name)
            for p in (RDFS_LABEL, SKOS + "prefLabel"):
                if lang not in own[p]:
                    yield ox.Triple(subject, ox.NamedNode(p), name)
            for other in labels[1:]:
                yield ox.Triple(subject, ox.NamedNode(SKOS + "altLabel"), ox.Literal(other.value, language=lang))
        for lang, descriptions in _by_language([*terms.get(str(COW) + "description", []),
                                                *terms.get(SKOS + "definition", [])]).items():
            for p in SCHEMA_DESCRIPTIONS:
                yield ox.Triple(subject, ox.NamedNode(p), ox.Literal(descriptions[0].value, language=lang))
        for lang, aliases in _by_language([*terms.get(SKOS + "altLabel", []),
                                           *terms.get(str(COW) + "shortName", [])]).items():
            for alias in aliases:
                yield ox.Triple(subject, ox.NamedNode(SKOS + "altLabel"), ox.Literal(alias.value, language=lang))


def _by_language(literals: list[ox.Literal]) -> dict[str, list[ox.Literal]]:
    """Literals per language tag, in the order given (duplicates dropped); untagged ones count as English."""
    out: dict[str, list[ox.Literal]] = defaultdict(list)
    for lit in literals:
        lang = lit.language or "en"
        if lit.value not in (x.value for x in out[lang]):
            out[lang].append(lit)
    return out


def _property_entity(prop: Prop) -> Iterator[ox.Triple]:
    """``wd:Pn`` as the dump describes a property: label, datatype and its predicates."""
    wb = str(WIKIBASE)
    entity = ox.NamedNode(f"{WD}{prop.pid}")
    yield ox.Triple(entity, ox.NamedNode(RDF_TYPE), ox.NamedNode(wb + "Property"))
    for p in (RDFS_LABEL, SKOS + "prefLabel", SCHEMA_NAME):
        yield ox.Triple(entity, ox.NamedNode(p), ox.Literal(prop.label, language="en"))
    yield ox.Triple(entity, ox.NamedNode(wb + "propertyType"), ox.NamedNode(wb + prop.datatype))
    links = (("directClaim", WDT), ("claim", P), ("statementProperty", PS), ("statementValue", PSV),
             ("qualifier", PQ), ("qualifierValue", PQV), ("reference", PR), ("referenceValue", PRV),
             ("novalue", WDNO))
    object_like = prop.kind in ("item", "url")
    for name, ns in links:
        predicate = ox.NamedNode(f"{ns}{prop.pid}")
        yield ox.Triple(entity, ox.NamedNode(wb + name), predicate)
        if ns == WDNO:
            continue
        is_value = ns in (PSV, PQV, PRV) or ns == P or object_like
        yield ox.Triple(predicate, ox.NamedNode(RDF_TYPE),
                        ox.NamedNode(OWL + ("ObjectProperty" if is_value else "DatatypeProperty")))


# --------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------

_HEADER = re.compile(rb"^# cowkg wikibase view: (\d+) statements, (\d+) triples, sha256 ([0-9a-f]{64})\n")


def _read_cache(path: Path) -> WikibaseView | None:
    """The cached view, or None when there is none or it is damaged (then it is rebuilt)."""
    if not path.is_file():
        return None
    start = time.perf_counter()
    try:
        data = path.read_bytes()
    except OSError as exc:
        log.warning("cannot read the Wikibase view cache %s (%s): rebuilding it", path, exc)
        return None
    m = _HEADER.match(data)
    body = data[m.end():] if m else b""
    if not m or hashlib.sha256(body).hexdigest() != m.group(3).decode():
        log.warning("the Wikibase view cache %s is damaged: rebuilding it", path)
        return None
    lines = body.count(b"\n")  # one triple per line, as written (the checksum holds)
    if lines != int(m.group(2)):
        log.warning("the Wikibase view cache %s is incomplete: rebuilding it", path)
        return None
    return WikibaseView(CachedTriples(body, lines), time.perf_counter() - start, int(m.group(1)), cached=True)


def _write_cache(path: Path, view: WikibaseView, body: bytes | None = None) -> None:
    """Atomic write with a digest of the body (``view``'s triples as N-Triples, serialised here
    unless given); a cache directory that cannot be written is not fatal."""
    if body is None:
        body = ox.serialize(view.triples, format=ox.RdfFormat.N_TRIPLES)
    header = (f"# cowkg wikibase view: {view.statements} statements, {len(view.triples)} triples, "
              f"sha256 {hashlib.sha256(body).hexdigest()}\n").encode()
    try:
        write_atomically(path, header + body)
    except OSError as exc:
        log.warning("cannot write the Wikibase view cache in %s (%s): kept in memory only", path.parent, exc)


__all__ = ["PendingView", "WikibaseView", "build_view", "read_table", "Table"]
