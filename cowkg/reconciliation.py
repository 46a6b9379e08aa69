"""The W3C Reconciliation Service API (0.2, read by OpenRefine 3.x) over cowkg's own entities.

Stage: library code under the web layer (no Flask here): ``web/reconcile.py`` parses requests and
calls these methods. It serves cowkg's entities to reconciliation clients and never calls Wikidata:
the Wikidata client and cowkg's own reconciliation against Wikidata are ``cowkg.wikidata``. Input: a
query backend (embedded store or Virtuoso). The index is built once from SPARQL over the asserted
graphs: every ``cowr:`` entity typed with a cowkg class (citations and excerpts left out), its names
(label, preferred and alternative labels, short names), its description, its types with their
superclasses, and its ``cow:`` property values and ``owl:sameAs`` Wikidata links.

Identifiers: entities by slug (``keir-starmer`` = ``https://w3id.org/cowkg/id/keir-starmer``,
the manifest's ``identifierSpace``), types by class local name (``Person``), properties by local
name (``country``) plus ``sameAs`` (the Wikidata QID). Responses follow the spec's JSON Schemas
(https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/).
"""

from __future__ import annotations

import html
import math
import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .errors import InputError, RequestTimeout
from .vocab import COW, COWR, OWL_SAMEAS, WD
from .vocab import NS_XSD as XSD
from .wikidata.names import NameIndex
from .wikidata.names import match as name_match
from .wikidata.scoring import normalise, similarity

SPEC = "https://www.w3.org/community/reports/reconciliation/CG-FINAL-specs-0.2-20230410/"
EXCLUDED_CLASSES = {"Citation", "Excerpt"}
#: Bookkeeping properties: kept out of previews and property proposals (still available to extend).
BOOKKEEPING = {"citation", "sourceLine", "sourceSection", "inventoryId", "status", "note", "description", "printedAs",
               "excerpt"}
SAME_AS = "sameAs"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_QUERIES = 200
#: Longest query string scored: names are short; a longer text only costs time (issue 17, finding 5).
MAX_QUERY_CHARS = 300
MATCH_SCORE = 95.0
MIN_SCORE = 35.0  # below this a candidate is noise (a shared word at best)
DEFAULT_TYPES = ("Person", "State", "InternationalOrganisation", "Place", "CoalitionMeeting", "Document", "Event")
#: Records of facts (a role, an attendance, a count ...), not things a column of names stands for:
#: candidates only when a query asks for their type.
RECORD_CLASSES = {"Role", "Attendance", "NonAttendance", "CoalitionMembership", "MembershipCriterion",
                  "CountObservation", "StatusObservation", "InfoboxEntry", "DerivedRecord", "LostContent",
                  "Ambiguity", "AgendaItem", "Statement", "Report", "Characterisation"}
#: The article's main kinds of thing: with no type asked, they win a near tie with a side entity (the
#: Paris summit of 4 September 2025 before the announcement made after it).
MAIN_CLASSES = {"CoalitionMeeting", "Person", "State", "InternationalOrganisation", "Coalition", "MultinationalForce"}
MAIN_BONUS = 3.0
#: Properties whose values say which one of several similar entities is meant.
NUMBER_PROPERTIES = ("meetingNumber", "pointCount")
DATE_PROPERTIES = ("date", "startDate", "endDate", "foundingDate", "establishedDate", "inaugurationDate", "plannedDate")


@dataclass
class Value:
    """A property value: an IRI (``iri``) or a literal (``text`` with ``datatype``)."""

    text: str
    iri: bool = False
    datatype: str = ""


@dataclass
class Record:
    """One reconcilable entity."""

    id: str
    name: str
    names: list[str] = field(default_factory=list)
    description: str = ""
    types: list[str] = field(default_factory=list)  # own classes first, then superclasses
    props: dict[str, list[Value]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)
    context: list[str] = field(default_factory=list)  # titles of its roles, names of its places
    index: NameIndex | None = None

    @property
    def is_record(self) -> bool:
        """A record of a fact rather than a named thing (see RECORD_CLASSES)."""
        own = [t for t in self.types if t != "SourcedRecord"]
        return not own or own[0] in RECORD_CLASSES or set(self.types) <= RECORD_CLASSES | {"SourcedRecord"}


@dataclass
class Term:
    """A type (class) or a property of the schema space."""

    id: str
    name: str
    description: str = ""
    broader: list[str] = field(default_factory=list)  # classes: direct superclasses
    range: str = ""  # properties: a cowkg class, when the ontology gives one


def _records(result) -> list[dict[str, Any]]:
    return result.records()


def _local(iri: str, ns: str) -> str | None:
    return iri[len(ns):] if iri.startswith(ns) and len(iri) > len(ns) else None


class ReconciliationService:
    """Manifest, batch reconciliation, suggest, preview, property proposals and data extension."""

    def __init__(self, records: dict[str, Record], types: dict[str, Term], properties: dict[str, Term]) -> None:
        self.records = records
        self.types = types
        self.properties = properties
        self._token_index: dict[str, set[str]] = {}
        for rec in records.values():
            for tok in rec.tokens:
                self._token_index.setdefault(tok, set()).add(rec.id)

    # -- building --------------------------------------------------------------------------

    @classmethod
    def from_backend(cls, backend) -> ReconciliationService:
        """Build the index with a few SPARQL queries over the asserted graphs."""

        def q(sparql: str) -> list[dict[str, Any]]:
            return _records(backend.query(sparql, infer=False))

        types, supers = cls._schema_types(q)
        properties = cls._schema_properties(q)
        records: dict[str, Record] = {}
        for r in q("""SELECT ?e ?t WHERE { ?e a ?t .
                        FILTER(STRSTARTS(STR(?e), STR(cowr:)) && STRSTARTS(STR(?t), STR(cow:))) } ORDER BY ?e ?t"""):
            slug, cls_name = _local(r["e"].value, str(COWR)), _local(r["t"].value, str(COW))
            if not slug or not cls_name:
                continue
            rec = records.setdefault(slug, Record(slug, slug))
            if cls_name not in rec.types:
                rec.types.append(cls_name)
        for slug in [s for s, rec in records.items() if set(rec.types) & EXCLUDED_CLASSES]:
            del records[slug]
        for rec in records.values():
            for t in list(rec.types):
                rec.types.extend(s for s in supers.get(t, []) if s not in rec.types)
        for r in q("""SELECT ?e ?p ?l WHERE {
                        VALUES (?p ?o) { (rdfs:label 0) (skos:prefLabel 1) (skos:altLabel 2) (cow:shortName 3) }
                        ?e ?p ?l . FILTER(isLiteral(?l) && STRSTARTS(STR(?e), STR(cowr:))) } ORDER BY ?e ?o ?l"""):
            rec = records.get(_local(r["e"].value, str(COWR)) or "")
            if rec is None:
                continue
            text = r["l"].value.strip()
            lang = r["l"].language or ""
            if r["p"].value.endswith("#label") and rec.name == rec.id and lang in ("", "en"):
                rec.name = text
            if text and text not in rec.names:
                rec.names.append(text)
        for r in q("""SELECT ?e ?d WHERE { VALUES ?p { cow:description rdfs:comment }
                        ?e ?p ?d . FILTER(STRSTARTS(STR(?e), STR(cowr:)) && LANGMATCHES(LANG(?d), "en")) }
                      ORDER BY ?e ?d"""):
            rec = records.get(_local(r["e"].value, str(COWR)) or "")
            if rec is not None and not rec.description:
                rec.description = r["d"].value
        for r in q("""SELECT ?e ?p ?o WHERE { ?e ?p ?o .
                        FILTER(STRSTARTS(STR(?e), STR(cowr:)))
                        FILTER(STRSTARTS(STR(?p), STR(cow:)) || ?p = owl:sameAs) } ORDER BY ?e ?p ?o"""):
            rec = records.get(_local(r["e"].value, str(COWR)) or "")
            if rec is None:
                continue
            pid = SAME_AS if r["p"].value == OWL_SAMEAS else _local(r["p"].value, str(COW))
            o = r["o"]
            value = Value(o.value, True) if not hasattr(o, "datatype") else \
                Value(o.value, False, o.datatype.value if o.datatype else "")
            rec.props.setdefault(pid, []).append(value)
        # Words that describe an entity without naming it: its titles, its places, its country.
        for r in q("""SELECT ?e ?text WHERE {
                        { ?role cow:holder ?e ; cow:title ?text }
                        UNION { ?e cow:location|cow:country|cow:inPlace|cow:site|cow:plannedLocation ?place .
                                ?place skos:prefLabel|rdfs:label ?text }
                        FILTER(STRSTARTS(STR(?e), STR(cowr:))) } ORDER BY ?e ?text"""):
            rec = records.get(_local(r["e"].value, str(COWR)) or "")
            if rec is not None and r["text"].value not in rec.context:
                rec.context.append(r["text"].value)
        for rec in records.values():
            if rec.name == rec.id and rec.names:
                rec.name = rec.names[0]
            if not rec.names:
                rec.names.append(rec.name)
            rec.tokens = {t for n in rec.names for t in normalise(n).split()}
            numbers = {v.text for p in NUMBER_PROPERTIES for v in rec.props.get(p, [])}
            dates = {v.text[:10] for p in DATE_PROPERTIES for v in rec.props.get(p, []) if not v.iri}
            rec.index = NameIndex(rec.names, [*rec.context, rec.description], numbers, dates)
        return cls(records, types, properties)

    @staticmethod
    def _schema_types(q) -> tuple[dict[str, Term], dict[str, list[str]]]:
        types: dict[str, Term] = {}
        for r in q("""SELECT ?c ?l ?d WHERE { ?c a owl:Class . FILTER(STRSTARTS(STR(?c), STR(cow:)))
                        OPTIONAL { ?c rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en")) }
                        OPTIONAL { ?c skos:definition ?d FILTER(LANGMATCHES(LANG(?d), "en")) } } ORDER BY ?c"""):
            cid = _local(r["c"].value, str(COW))
            if cid and cid not in types:
                types[cid] = Term(cid, r["l"].value if r["l"] else cid, r["d"].value if r["d"] else "")
        # Direct edges only, closed here: Virtuoso refuses a transitive path with neither end bound.
        direct: dict[str, list[str]] = {}
        for r in q("""SELECT ?c ?s WHERE { ?c rdfs:subClassOf ?s .
                        FILTER(STRSTARTS(STR(?c), STR(cow:)) && STRSTARTS(STR(?s), STR(cow:))) } ORDER BY ?c ?s"""):
            c, s = _local(r["c"].value, str(COW)), _local(r["s"].value, str(COW))
            if c and s and s not in direct.setdefault(c, []):
                direct[c].append(s)
        supers: dict[str, list[str]] = {}
        for c, parents in direct.items():
            if c in types:
                types[c].broader = list(parents)
            seen: list[str] = []
            todo = list(parents)
            while todo:
                s = todo.pop(0)
                if s not in seen and s != c:
                    seen.append(s)
                    todo.extend(direct.get(s, []))
            supers[c] = seen
        return types, supers

    @staticmethod
    def _schema_properties(q) -> dict[str, Term]:
        props: dict[str, Term] = {SAME_AS: Term(SAME_AS, "Wikidata item (owl:sameAs)",
                                                "The Wikidata QID this entity is linked to")}
        for r in q("""SELECT ?p ?l ?d ?range WHERE {
                        VALUES ?kind { owl:ObjectProperty owl:DatatypeProperty } ?p a ?kind .
                        FILTER(STRSTARTS(STR(?p), STR(cow:)))
                        OPTIONAL { ?p rdfs:label ?l FILTER(LANGMATCHES(LANG(?l), "en")) }
                        OPTIONAL { ?p skos:definition ?d FILTER(LANGMATCHES(LANG(?d), "en")) }
                        OPTIONAL { ?p rdfs:range ?range FILTER(STRSTARTS(STR(?range), STR(cow:))) } } ORDER BY ?p"""):
            pid = _local(r["p"].value, str(COW))
            if pid and pid not in props:
                props[pid] = Term(pid, r["l"].value if r["l"] else pid, r["d"].value if r["d"] else "",
                                  range=_local(r["range"].value, str(COW)) if r["range"] else "")
        return props

    # -- manifest ----------------------------------------------------------------------------

    def manifest(self, base: str) -> dict[str, Any]:
        """The service manifest; ``base`` is the URL the service is reached at, without ``/reconcile``."""
        base = base.rstrip("/")

        def service(path: str, flyout: str | None = None) -> dict[str, str]:
            out = {"service_url": base, "service_path": f"/reconcile/{path}"}
            if flyout:  # OpenRefine's suggest widget shows it beside each suggestion
                out["flyout_service_path"] = f"/reconcile/flyout/{flyout}?id=${{id}}"
            return out

        return {
            "versions": ["0.1", "0.2"],
            "name": "cowkg: Coalition of the Willing (2025) entities",
            "identifierSpace": str(COWR),
            "schemaSpace": str(COW),
            "serviceVersion": __version__,
            "documentation": SPEC,
            "view": {"url": str(COWR) + "{{id}}"},
            "preview": {"url": f"{base}/reconcile/preview?id={{{{id}}}}", "width": 400, "height": 160},
            "defaultTypes": [self._type(t) for t in DEFAULT_TYPES if t in self.types],
            "suggest": {"entity": service("suggest/entity", "entity"), "type": service("suggest/type", "type"),
                        "property": service("suggest/property", "property")},
            "extend": {"propose_properties": service("propose_properties"),
                       "property_settings": [{"name": "limit", "label": "Limit", "type": "number", "default": 0,
                                              "help_text": "Most values to return per row (0 for no limit)"}]},
        }

    def _type(self, tid: str) -> dict[str, str]:
        t = self.types.get(tid)
        return {"id": tid, "name": t.name if t else tid}

    # -- reconciliation queries --------------------------------------------------------------

    def reconcile(self, queries: Any, deadline: float | None = None) -> dict[str, Any]:
        """Answer a batch ``{key: query}``. Raises InputError (naming the key and the spec rule),
        and RequestTimeout when the batch is still not answered at ``deadline`` (``time.monotonic``)."""
        if not isinstance(queries, dict):
            raise InputError("queries must be a JSON object mapping keys to queries",
                             hint=SPEC + "#reconciliation-queries")
        if len(queries) > MAX_QUERIES:
            raise InputError(f"{len(queries)} queries in one batch; at most {MAX_QUERIES}",
                             hint="send smaller batches (OpenRefine's batch size setting)")
        out = {}
        for key, q in queries.items():
            if deadline is not None and time.monotonic() > deadline:
                raise RequestTimeout(f"the reconciliation batch was not answered in time ({len(out)} of "
                                     f"{len(queries)} queries done)",
                                     hint="the request_timeout setting limits each request; send smaller batches",
                                     details={"answered": len(out)})
            out[key] = {"result": self._one(key, q)}
        return out

    def _one(self, key: str, query: Any) -> list[dict[str, Any]]:
        if not isinstance(query, dict):
            raise InputError(f"query {key!r} is not a JSON object", hint=SPEC + "#reconciliation-queries")
        unknown = set(query) - {"query", "type", "limit", "properties", "type_strict"}
        if unknown:
            raise InputError(f"query {key!r} has unknown field(s) {', '.join(sorted(unknown))}",
                             hint=SPEC + "#reconciliation-queries")
        text = query.get("query")
        props = query.get("properties") or []
        if text is not None and not isinstance(text, str):
            raise InputError(f"query {key!r}: 'query' must be a string")
        if text is not None and len(text) > MAX_QUERY_CHARS:
            raise InputError(f"query {key!r}: the query string has {len(text)} characters; at most "
                             f"{MAX_QUERY_CHARS} are scored", hint="send the name, not a text")
        if not isinstance(props, list) or any(not isinstance(p, dict) or "v" not in p or
                                              not ("pid" in p or "p" in p) for p in props):
            raise InputError(f"query {key!r}: 'properties' must be a list of {{pid, v}} objects")
        if not (text or "").strip() and not props:
            raise InputError(f"query {key!r} has neither a query string nor properties",
                             hint=SPEC + "#reconciliation-queries")
        types = query.get("type") or []
        types = [types] if isinstance(types, str) else types
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise InputError(f"query {key!r}: 'type' must be a string or a list of strings")
        strict = query.get("type_strict", "any")
        if strict not in ("any", "all", "should"):
            raise InputError(f"query {key!r}: type_strict must be any, all or should")
        limit = query.get("limit", DEFAULT_LIMIT)
        if not isinstance(limit, int | float) or isinstance(limit, bool) or not math.isfinite(limit) or limit < 1:
            raise InputError(f"query {key!r}: limit must be a positive number, not {limit!r}")
        limit = min(int(limit), MAX_LIMIT)

        pool = self._pool(text) if (text or "").strip() else set(self.records)
        scored = []
        for rid in pool:
            rec = self.records[rid]
            if rec.is_record and not (types and self._type_ok(rec, types, "any")):
                continue
            type_ok = self._type_ok(rec, types, strict)
            if type_ok is False and strict != "should":
                continue
            scored.append(self._score(rec, text, props, types, type_ok))
        scored = [s for s in scored if s["score"] >= MIN_SCORE]
        scored.sort(key=lambda c: (-c["score"], c["name"], c["id"]))
        if scored and scored[0]["match"] and len(scored) > 1 and scored[1]["score"] > scored[0]["score"] - 10:
            scored[0]["match"] = False  # two close candidates: let a person decide
        return scored[:limit]

    def _pool(self, text: str) -> set[str]:
        toks = normalise(text).split()
        pool: set[str] = set()
        for tok in toks:
            pool |= self._token_index.get(tok, set())
            if len(tok) >= 3:
                for other, ids in self._token_index.items():
                    if other.startswith(tok) or tok.startswith(other) and len(other) >= 3:
                        pool |= ids
        return pool

    def _type_ok(self, rec: Record, types: list[str], strict: str) -> bool | None:
        """Whether ``rec`` has the asked types (all of them for ``type_strict: all``); None when none asked.

        ``any`` and ``all`` filter candidates; ``should`` keeps the others with a lower score.
        """
        if not types:
            return None
        hits = [t for t in types if t.removeprefix("cow:") in rec.types]
        return len(hits) == len(types) if strict == "all" else bool(hits)

    def _score(self, rec: Record, text: str | None, props: list[dict], types: list[str],
               type_ok: bool | None) -> dict[str, Any]:
        features: list[dict[str, Any]] = []
        name_sim = None
        if (text or "").strip():
            exact = max((similarity(text, n) for n in rec.names), default=0.0)
            words = name_match(text, rec.index) if rec.index else None
            name_sim = exact if exact >= 0.98 else max(words.score / 100 if words else 0.0, 0.0)
            if not types and MAIN_CLASSES & set(rec.types) and exact < 0.98:
                name_sim = min(name_sim + MAIN_BONUS / 100, 0.97)
            features.append({"id": "name", "value": round(name_sim, 3)})
            if words and words.date:
                features.append({"id": "date", "value": True})
        matches = []
        for p in props:
            if p["v"] in ("", [], None):
                continue  # an empty cell constrains nothing
            pid = self._pid(str(p.get("pid") or p.get("p")))
            ok = self._property_matches(rec, pid, p["v"])
            matches.append(ok)
            features.append({"id": pid, "value": ok})
        if type_ok is not None:
            features.append({"id": "type", "value": bool(type_ok)})
        prop_frac = sum(matches) / len(matches) if matches else None
        if name_sim is None:
            score = 100 * (prop_frac or 0)
        elif prop_frac is None:
            score = 100 * name_sim
        else:
            score = 70 * name_sim + 30 * prop_frac
        if type_ok is False:
            score *= 0.8  # only with type_strict "should": a wrong type lowers the score
        match = ((name_sim is None or name_sim >= 0.98) and score >= MATCH_SCORE and all(matches)
                 and type_ok is not False)
        cand = {"id": rec.id, "name": rec.name, "score": round(score, 2), "match": bool(match),
                "type": [self._type(t) for t in rec.types if t in self.types][:3], "features": features}
        if rec.description:
            cand["description"] = rec.description
        return cand

    def _pid(self, pid: str) -> str:
        pid = pid.strip()
        for prefix in (str(COW), "cow:"):
            pid = pid.removeprefix(prefix)
        if pid in ("owl:sameAs", OWL_SAMEAS):
            return SAME_AS
        return pid

    def _property_matches(self, rec: Record, pid: str, wanted: Any) -> bool:
        values = rec.props.get(pid, [])
        wanted_list = wanted if isinstance(wanted, list) else [wanted]
        return any(self._value_matches(v, w) for v in values for w in wanted_list)

    def _value_matches(self, value: Value, wanted: Any) -> bool:
        if isinstance(wanted, dict):
            wanted = wanted.get("id") or wanted.get("name") or ""
        if isinstance(wanted, bool):
            return value.text == str(wanted).lower()
        if isinstance(wanted, int | float):
            try:
                return float(value.text) == float(wanted)
            except ValueError:
                return value.text.startswith(str(int(wanted))) if float(wanted).is_integer() else False
        wanted = str(wanted).strip()
        if not wanted:
            return False
        if value.iri:
            qid = _local(value.text, str(WD))
            if qid:
                return wanted in (qid, value.text)
            slug = _local(value.text, str(COWR))
            if slug:
                target = self.records.get(slug)
                return wanted in (slug, value.text) or bool(
                    target and max(similarity(wanted, n) for n in target.names) >= 0.9)
            return wanted == value.text
        if value.datatype.startswith(XSD) and value.datatype[len(XSD):] in ("date", "gYearMonth", "gYear", "dateTime"):
            return value.text.startswith(wanted) or wanted.startswith(value.text)
        return similarity(wanted, value.text) >= 0.9

    # -- suggest -------------------------------------------------------------------------------

    def suggest_entities(self, prefix: str, *, types: Iterable[str] = (), cursor: int = 0,
                         limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """Entities whose name (or a word of it) starts with ``prefix``; best first."""
        p = normalise(prefix)
        wanted = [t.removeprefix("cow:") for t in types if t]
        hits = []
        for rec in self.records.values():
            if wanted and not set(wanted) & set(rec.types):
                continue
            rank = None
            for n in rec.names:
                nn = normalise(n)
                r = 0 if nn == p else 1 if nn.startswith(p) else 2 if any(w.startswith(p) for w in nn.split()) else None
                if r is not None and (rank is None or r < rank):
                    rank = r
            if rank is not None and p:
                # Named things (people, states, places) before records (statements, events, roles).
                hits.append(("SourcedRecord" in rec.types, rank, rec.name.casefold(), rec.id, rec))
        hits.sort(key=lambda h: h[:4])
        page = hits[cursor:cursor + limit]
        return {"result": [self._suggest_item(rec) for *_, rec in page]}

    def _suggest_item(self, rec: Record) -> dict[str, Any]:
        item: dict[str, Any] = {"id": rec.id, "name": rec.name,
                                "notable": [self._type(t) for t in rec.types if t in self.types][:3]}
        if rec.description:
            item["description"] = rec.description
        return item

    def suggest_types(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """cowkg classes whose name, id or a word of them starts with ``prefix``, with broader classes."""
        p = normalise(prefix)
        hits = sorted((t for t in self.types.values() if _term_matches(t, p)), key=lambda t: (t.name.casefold(), t.id))
        out = []
        for t in hits[cursor:cursor + limit]:
            item: dict[str, Any] = {"id": t.id, "name": t.name}
            if t.description:
                item["description"] = t.description
            if t.broader:
                item["broader"] = [self._type(b) for b in t.broader]
            out.append(item)
        return {"result": out}

    def suggest_properties(self, prefix: str, *, cursor: int = 0, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """cowkg properties (and ``sameAs``) whose name, id or a word of them starts with ``prefix``."""
        p = normalise(prefix)
        hits = sorted((t for t in self.properties.values() if _term_matches(t, p)),
                      key=lambda t: (t.name.casefold(), t.id))
        out = []
        for t in hits[cursor:cursor + limit]:
            item = {"id": t.id, "name": t.name}
            if t.description:
                item["description"] = t.description
            out.append(item)
        return {"result": out}

    # -- preview ------------------------------------------------------------------------------

    def preview(self, rid: str) -> str | None:
        """A small HTML card for OpenRefine's preview iframe; None for an unknown id. All text escaped."""
        rec = self.records.get(rid)
        if rec is None:
            return None
        e = html.escape
        types = ", ".join(self._type(t)["name"] for t in rec.types if t in self.types)
        links = [v.text for v in rec.props.get(SAME_AS, []) if v.iri]
        facts = []
        for pid in sorted(rec.props):
            if pid == SAME_AS or pid in BOOKKEEPING or pid not in self.properties:
                continue
            shown = [self._display(v) for v in rec.props[pid][:3]]
            facts.append(f"<li><b>{e(self.properties[pid].name)}</b>: {e('; '.join(shown))}</li>")
        wd = "".join(f' <a href="{e(u)}" target="_blank" rel="noopener">{e(u.rsplit("/", 1)[-1])}</a>' for u in links)
        return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + e(rec.name) + "</title>"
                "<style>body{font:13px sans-serif;margin:6px}h1{font-size:15px;margin:0}p{margin:2px 0;color:#555}"
                "ul{margin:4px 0;padding-left:16px}</style></head><body>"
                f"<h1><a href=\"{e(str(COWR) + rec.id)}\" target=\"_blank\" rel=\"noopener\">{e(rec.name)}</a></h1>"
                f"<p>{e(types)}{(' · Wikidata' + wd) if wd else ''}</p>"
                + (f"<p>{e(rec.description)}</p>" if rec.description else "")
                + (f"<ul>{''.join(facts[:6])}</ul>" if facts else "") + "</body></html>")

    def flyout(self, kind: str, rid: str) -> dict[str, str] | None:
        """The flyout of a suggested entity, type or property: ``{"id", "html"}`` (escaped), or None
        when ``rid`` is unknown. OpenRefine's suggest widget shows it beside a suggestion."""
        e = html.escape
        if kind == "entity":
            rec = self.records.get(rid)
            if rec is None:
                return None
            types = ", ".join(self._type(t)["name"] for t in rec.types if t in self.types and t != "SourcedRecord")
            qids = [_local(v.text, str(WD)) for v in rec.props.get(SAME_AS, []) if v.iri and _local(v.text, str(WD))]
            lines = [f'<p style="font-size: 1.1em; margin: 0"><b>{e(rec.name)}</b></p>',
                     f'<p style="color: #555; margin: 2px 0">{e(types)}'
                     + (f" · Wikidata {e(', '.join(qids))}" if qids else "") + "</p>"]
            if rec.description:
                lines.append(f'<p style="font-size: 0.9em; margin: 2px 0">{e(rec.description)}</p>')
            return {"id": rid, "html": "".join(lines)}
        terms = self.types if kind == "type" else self.properties if kind == "property" else None
        if terms is None:
            raise InputError(f"no flyout for {kind!r}: entity, type or property")
        term = terms.get(rid.removeprefix("cow:"))
        if term is None:
            return None
        body = f'<p style="margin: 0"><b>{e(term.name)}</b> <span style="color: #555">({e(term.id)})</span></p>'
        if term.description:
            body += f'<p style="font-size: 0.9em; margin: 2px 0">{e(term.description)}</p>'
        return {"id": term.id, "html": body}

    def _display(self, v: Value) -> str:
        if v.iri:
            slug = _local(v.text, str(COWR))
            if slug and slug in self.records:
                return self.records[slug].name
            qid = _local(v.text, str(WD))
            return qid or slug or v.text
        return v.text

    # -- data extension -----------------------------------------------------------------------

    def propose_properties(self, type_id: str | None, limit: int = DEFAULT_LIMIT) -> dict[str, Any]:
        """Properties most used by entities of ``type_id`` (all entities when None)."""
        tid = (type_id or "").removeprefix("cow:")
        if tid and tid not in self.types:
            raise InputError(f"unknown type {type_id!r}", hint="see /reconcile/suggest/type")
        counts: Counter[str] = Counter()
        for rec in self.records.values():
            if not tid or tid in rec.types:
                counts.update(p for p in rec.props if p in self.properties and p not in BOOKKEEPING)
        ranked = sorted(counts, key=lambda p: (-counts[p], p))[:limit]
        out: dict[str, Any] = {"properties": [{"id": p, "name": self.properties[p].name} for p in ranked],
                               "limit": limit}
        if tid:
            out["type"] = tid
        return out

    def extend(self, request: Any) -> dict[str, Any]:
        """Property values for ``{"ids": [...], "properties": [{"id", "settings"?}]}``. Raises InputError."""
        if not isinstance(request, dict) or not isinstance(request.get("ids"), list) or \
                not isinstance(request.get("properties"), list):
            raise InputError("extend must be a JSON object with 'ids' and 'properties' lists",
                             hint=SPEC + "#data-extension-service")
        ids = [str(i) for i in request["ids"]]
        meta, specs = [], []
        for p in request["properties"]:
            if not isinstance(p, dict) or "id" not in p:
                raise InputError("each extend property needs an 'id'")
            pid = self._pid(str(p["id"]))
            settings = p.get("settings") or {}
            try:
                limit = int(settings.get("limit", 0) or 0)
            except (TypeError, ValueError):
                raise InputError(f"setting 'limit' of {pid} must be a number") from None
            term = self.properties.get(pid)
            entry: dict[str, Any] = {"id": str(p["id"]), "name": term.name if term else str(p["id"])}
            if term and term.range in self.types:
                entry["type"] = self._type(term.range)
            meta.append(entry)
            specs.append((str(p["id"]), pid, limit))
        rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for rid in ids:
            rec = self.records.get(rid)
            row: dict[str, list[dict[str, Any]]] = {}
            for key, pid, limit in specs:
                cells = [self._cell(v) for v in (rec.props.get(pid, []) if rec else [])]
                row[key] = cells[:limit] if limit > 0 else cells
            rows[rid] = row
        return {"meta": meta, "rows": rows}

    def _cell(self, v: Value) -> dict[str, Any]:
        if v.iri:
            slug = _local(v.text, str(COWR))
            if slug and slug in self.records:
                return {"id": slug, "name": self.records[slug].name}
            qid = _local(v.text, str(WD))
            return {"str": qid or v.text}
        dt = v.datatype[len(XSD):] if v.datatype.startswith(XSD) else ""
        if dt == "date" and re.fullmatch(r"-?\d{4,}-\d{2}-\d{2}", v.text):
            return {"date": f"{v.text}T00:00:00+00:00"}
        if dt == "dateTime" and re.fullmatch(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?",
                                             v.text):
            return {"date": v.text}
        if dt in ("integer", "int", "long", "nonNegativeInteger", "positiveInteger"):
            try:
                return {"int": int(v.text)}
            except ValueError:
                pass
        if dt in ("decimal", "double", "float"):
            try:
                return {"float": float(v.text)}
            except ValueError:
                pass
        return {"str": v.text}


def _term_matches(term: Term, prefix: str) -> bool:
    if not prefix:
        return True
    for text in (term.name, term.id, re.sub(r"(?<!^)(?=[A-Z])", " ", term.id)):
        n = normalise(text)
        if n.startswith(prefix) or any(w.startswith(prefix) for w in n.split()):
            return True
    return False
