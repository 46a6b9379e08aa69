"""Wikidata entities as Python values: labels, aliases and the claim values the tools compare.

Stage: inside the Wikidata package. Input: one entity object of a ``wbgetentities`` or
``Special:EntityData`` answer (both the current format and the older one without ``id`` in
item values). Output: an ``Entity`` with typed accessors, so scoring code never walks raw JSON.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

QID_RE = re.compile(r"^[QPL][1-9][0-9]*$")
_TIME_RE = re.compile(r"^([+-])0*(\d{1,})-(\d{2})-(\d{2})T")


def is_entity_id(value: str) -> bool:
    """True for well-formed Wikidata IDs (Q42, P31, L1); Q0 and free text are not."""
    return bool(QID_RE.match(value or ""))


@dataclass(frozen=True)
class WDTime:
    """A Wikidata time value: year, month, day (0 when unknown) and precision (9 year, 10 month, 11 day)."""

    year: int
    month: int
    day: int
    precision: int

    @classmethod
    def parse(cls, value: dict[str, Any]) -> WDTime | None:
        """From a ``time`` datavalue (``+2001-05-11T00:00:00Z``, old 11-digit years too); None if unreadable."""
        m = _TIME_RE.match(str(value.get("time", "")))
        if not m:
            return None
        year = int(m.group(2)) * (-1 if m.group(1) == "-" else 1)
        return cls(year, int(m.group(3)), int(m.group(4)), int(value.get("precision", 11)))

    def iso(self) -> str:
        """The date to the precision Wikidata knows: ``2001``, ``2001-05`` or ``2001-05-11``."""
        if self.precision <= 9 or self.month == 0:
            return f"{self.year:04d}"
        if self.precision == 10 or self.day == 0:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"

    def key(self) -> tuple[int, int, int]:
        return (self.year, self.month, self.day)


@dataclass(frozen=True)
class Statement:
    """One claim: its main value (an ID, a WDTime, a (lat, lon), a string ...), rank and qualifiers."""

    property: str
    value: Any
    rank: str
    qualifiers: dict[str, list[Any]] = field(default_factory=dict)

    def qualifier_time(self, pid: str) -> WDTime | None:
        for v in self.qualifiers.get(pid, []):
            if isinstance(v, WDTime):
                return v
        return None


def _snak_value(snak: dict[str, Any]) -> Any:
    if snak.get("snaktype") not in (None, "value"):
        return None
    dv = snak.get("datavalue") or {}
    value = dv.get("value")
    kind = dv.get("type")
    if kind == "wikibase-entityid" and isinstance(value, dict):
        if value.get("id"):
            return value["id"]
        prefix = {"item": "Q", "property": "P", "lexeme": "L"}.get(value.get("entity-type", "item"), "Q")
        return f"{prefix}{value.get('numeric-id')}"
    if kind == "time" and isinstance(value, dict):
        return WDTime.parse(value)
    if kind == "globecoordinate" and isinstance(value, dict):
        try:
            return (float(value["latitude"]), float(value["longitude"]))
        except (KeyError, TypeError, ValueError):
            return None
    if kind == "monolingualtext" and isinstance(value, dict):
        return value.get("text")
    if kind == "quantity" and isinstance(value, dict):
        return value.get("amount")
    return value


@dataclass
class Entity:
    """A Wikidata entity (item or property) reduced to what cowkg compares."""

    id: str
    labels: dict[str, str] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, list[str]] = field(default_factory=dict)
    claims: dict[str, list[Statement]] = field(default_factory=dict)
    datatype: str | None = None
    modified: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Entity:
        """Parse one entity object; tolerant of missing sections (``props`` may have left them out)."""
        claims: dict[str, list[Statement]] = {}
        raw_claims = doc.get("claims") or {}
        if isinstance(raw_claims, dict):
            for pid, stmts in raw_claims.items():
                for st in stmts or []:
                    snak = st.get("mainsnak") or {}
                    quals = {q: [_snak_value(s) for s in snaks] for q, snaks in (st.get("qualifiers") or {}).items()}
                    claims.setdefault(pid, []).append(
                        Statement(pid, _snak_value(snak), st.get("rank", "normal"), quals))
        return cls(
            id=doc.get("id", ""),
            labels={k: v.get("value", "") for k, v in (doc.get("labels") or {}).items()},
            descriptions={k: v.get("value", "") for k, v in (doc.get("descriptions") or {}).items()},
            aliases={k: [a.get("value", "") for a in v] for k, v in (doc.get("aliases") or {}).items()},
            claims=claims,
            datatype=doc.get("datatype"),
            modified=doc.get("modified"),
            raw=doc,
        )

    def label(self, lang: str = "en") -> str:
        """The label in ``lang``, else English, else any label, else the ID."""
        return self.labels.get(lang) or self.labels.get("en") or next(iter(self.labels.values()), self.id)

    def description(self, lang: str = "en") -> str:
        return self.descriptions.get(lang) or self.descriptions.get("en") or ""

    def names(self, languages: tuple[str, ...] | None = None) -> list[str]:
        """Labels and aliases (in ``languages``, or all), de-duplicated, English first."""
        langs = list(languages) if languages else sorted(set(self.labels) | set(self.aliases),
                                                        key=lambda lang: (lang != "en", lang))
        seen: dict[str, None] = {}
        for lang in langs:
            for name in [self.labels.get(lang, "")] + self.aliases.get(lang, []):
                if name:
                    seen.setdefault(name, None)
        return list(seen)

    def statements(self, pid: str, *, best: bool = True) -> list[Statement]:
        """Statements of ``pid`` with a value; ``best`` keeps the preferred ones when any, drops deprecated."""
        stmts = [s for s in self.claims.get(pid, []) if s.value is not None and s.rank != "deprecated"]
        if best:
            preferred = [s for s in stmts if s.rank == "preferred"]
            return preferred or stmts
        return stmts

    def values(self, pid: str, *, best: bool = False) -> list[Any]:
        """All (non-deprecated) values of ``pid``; types matched loosely, duplicates removed."""
        out: list[Any] = []
        for s in self.statements(pid, best=best):
            if s.value not in out:
                out.append(s.value)
        return out

    def item_values(self, pid: str, *, best: bool = False) -> list[str]:
        return [v for v in self.values(pid, best=best) if isinstance(v, str) and is_entity_id(v)]

    def times(self, pid: str) -> list[WDTime]:
        return [v for v in self.values(pid) if isinstance(v, WDTime)]

    def coordinates(self, pid: str = "P625") -> list[tuple[float, float]]:
        return [v for v in self.values(pid) if isinstance(v, tuple)]


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (lat, lon) points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
