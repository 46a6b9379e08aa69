"""Scoring a Wikidata candidate against a cowkg entity: label similarity AND agreement of facts.

Stage: pure functions, no I/O. Input: a ``LocalEntity``, a candidate ``Entity`` and a function
naming other items (for readable evidence). Output: a ``Score`` with the points, and the
evidence that matched and that conflicted, each a short sentence a reviewer can check.

Points (0–100): 60 × label similarity, then per fact +weight when it matches and −weight when it
conflicts: type (P31) +20/−40, country (P17, or P27 for people) +10/−30, dates (P571 inception,
P585/P580 for events; for people P569/P570 against the dates the sources show them active)
+10/−35, position held (P39, people) +10 when held at the role's date or undated, −20 when every
matching P39 is dated outside it, coordinates (P625, places) +10/−30. An exact name with
a confirmed type reaches 80 ("strong" when 10 points ahead of the next candidate). A candidate
with any conflicting fact is flagged, whatever its points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .kinds import judge_type, named
from .local import LocalEntity
from .model import Entity, WDTime, haversine_km

WEIGHTS = {"type": (20, 40), "country": (10, 30), "date": (10, 35), "position": (10, 20), "coordinates": (10, 30)}
LABEL_WEIGHT = 60
_STOP = {"the", "of", "and", "for", "de", "la", "le", "du", "des", "der", "die", "a", "an", "in"}


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-blind form of a name (``"Élysée Palace"`` → ``"elysee palace"``)."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def similarity(a: str, b: str) -> float:
    """1.0 for the same name, 0.98 for the same words in another order, at least 0.85 when one
    name's words all occur in the other, twice as long at most ("Putin" / "Vladimir Putin"), else
    a sequence ratio.

    >>> similarity("Élysée Palace", "the elysee palace"), similarity("Starmer Keir", "Keir Starmer")
    (1.0, 0.98)
    >>> similarity("Putin", "Vladimir Putin"), similarity("Keir Starmer", "Emmanuel Macron") < 0.5
    (0.85, True)
    """
    na, nb = normalise(a), normalise(b)
    if not na or not nb:
        return 0.0
    if na == nb:
        return 1.0
    if sorted(na.split()) == sorted(nb.split()):
        return 0.98
    ratio = round(SequenceMatcher(None, na, nb).ratio(), 3)
    small, large = sorted((_tokens(a), _tokens(b)), key=len)
    if small and small <= large and len(small) * 2 >= len(large):
        return max(ratio, 0.85)
    return ratio


def best_name_match(names: list[str], candidate_names: list[str]) -> tuple[float, str, str]:
    """The most similar (local name, Wikidata name) pair and its similarity."""
    best = (0.0, "", "")
    for a in names:
        for b in candidate_names:
            s = similarity(a, b)
            if s > best[0]:
                best = (s, a, b)
    return best


def _tokens(text: str) -> set[str]:
    return {t for t in normalise(text).split() if t not in _STOP}


def _date_key(lexical: str) -> tuple[int, int, int] | None:
    m = re.match(r"^(-?\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", lexical)
    if not m:
        return None
    return (int(m.group(1)), int(m.group(2) or 0), int(m.group(3) or 0))


def _same_date(local: str, wd: WDTime) -> bool | None:
    """True/False when comparable at the coarser precision of the two; None when not comparable."""
    key = _date_key(local)
    if key is None:
        return None
    if key[0] != wd.year:
        return False
    if key[1] and wd.precision >= 10 and wd.month:
        if key[1] != wd.month:
            return False
        if key[2] and wd.precision >= 11 and wd.day:
            return key[2] == wd.day
    return True


def _before(wd: WDTime, local: str) -> bool:
    """True when the Wikidata date certainly lies before the local date."""
    key = _date_key(local)
    if key is None:
        return False
    if wd.precision <= 9 or not wd.month:
        return wd.year < key[0]
    if wd.precision == 10 or not wd.day:
        return (wd.year, wd.month) < key[:2]
    return wd.key() < (key[0], key[1] or 12, key[2] or 31)


@dataclass
class Score:
    """Points and evidence for one candidate."""

    points: float
    label_similarity: float
    matched: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def conflict(self) -> bool:
        return bool(self.conflicted)


def score_candidate(local: LocalEntity, cand: Entity, label_of: Callable[[str], str]) -> Score:
    """Score ``cand`` as a match for ``local``; see the module docstring for the points."""
    sim, ours, theirs = best_name_match(local.names or [local.label], cand.names())
    score = Score(LABEL_WEIGHT * sim, sim)
    if sim >= 0.9:
        score.matched.append(f"name '{ours}' ~ '{theirs}' ({sim:.2f})")
    elif sim < 0.6:
        score.conflicted.append(f"no Wikidata name close to '{local.label}' (best '{theirs}', {sim:.2f})")
    else:
        score.notes.append(f"name '{ours}' ~ '{theirs}' ({sim:.2f})")

    def add(kind: str, ok: bool, text: str) -> None:
        plus, minus = WEIGHTS[kind]
        score.points += plus if ok else -minus
        (score.matched if ok else score.conflicted).append(text)

    kind = local.kind
    verdict = judge_type(kind, cand.item_values("P31"), label_of)
    if verdict.state == "unconfirmed":
        score.notes.append(verdict.text)
    else:
        add("type", verdict.state == "matched", verdict.text)

    prop = kind.country_property
    if prop and local.country_qids:
        theirs_c = cand.item_values(prop)
        if theirs_c:
            common = [q for q in theirs_c if q in local.country_qids]
            if common:
                add("country", True, f"{prop} {named(common[0], label_of)}")
            else:
                add("country", False, f"{prop} is {', '.join(named(q, label_of) for q in theirs_c)}; cowkg says "
                                      f"{', '.join(named(q, label_of) for q in local.country_qids)}")

    _score_dates(local, cand, add, score)
    if kind.name == "person":
        _score_positions(local, cand, label_of, add)
    if kind.radius_km and local.coordinates:
        _score_coordinates(local, cand, kind.radius_km, add, score)
    score.points = round(max(0.0, min(100.0, score.points)), 1)
    return score


def _score_dates(local: LocalEntity, cand: Entity, add, score: Score) -> None:
    pairs = [("founding", "P571", "inception"), ("date", "P585", "point in time"), ("start", "P580", "start time"),
             ("date", "P580", "start time"), ("end", "P582", "end time")]
    done = set()
    for key, pid, name in pairs:
        for ours in local.dates.get(key, []):
            for theirs in cand.times(pid):
                if (key, ours) in done:
                    continue
                same = _same_date(ours, theirs)
                if same is None:
                    continue
                done.add((key, ours))
                add("date", same, f"{pid} {name} {theirs.iso()} {'=' if same else '≠'} cowkg {ours}")
    if local.kind.name != "person" or not local.active:
        return
    first, last = local.active[0], local.active[-1]
    for death in cand.times("P570"):
        if _before(death, first):
            add("date", False, f"P570 died {death.iso()}, before cowkg shows them active ({first})")
            return
    births = cand.times("P569")
    for birth in births:
        if not _before(birth, last):
            add("date", False, f"P569 born {birth.iso()}, not before cowkg shows them active ({last})")
            return
    if births and not cand.times("P570"):
        add("date", True, f"P569 born {births[0].iso()}, no date of death: alive when active ({first})")


def _score_positions(local: LocalEntity, cand: Entity, label_of, add) -> None:
    """A P39 like a cowkg title is evidence only when held at the role's date: held counts for,
    dated but never held then counts against, undated on either side counts for (a weak sign)."""
    held, undated, not_held = [], [], []
    for role in local.roles:
        for st in cand.statements("P39", best=False):
            if not isinstance(st.value, str):
                continue
            position = label_of(st.value)
            title = next((t for t in role.titles if _titles_overlap(position, t)), None)
            if title is None:
                continue
            start, end = st.qualifier_time("P580"), st.qualifier_time("P582")
            span = f" ({start.iso() if start else '?'}–{end.iso() if end else ''})" if start or end else ""
            text = f"P39 {position}{span} ~ '{title}'"
            if not role.dates or not span:
                undated.append(f"{text}, no dates to compare")
                continue
            on = [d for d in role.dates if _held_on(d, start, end)]
            if on:
                held.append(f"{text}, held on {on[0]}")
            else:
                not_held.append(f"{text}, not held on {', '.join(role.dates)}")
    if held or undated:
        add("position", True, (held or undated)[0])
    elif not_held:
        add("position", False, not_held[0])


def _titles_overlap(position: str, title: str) -> bool:
    """Most words of the shorter name occur in the other ("Prime Minister" / "Prime Minister of X")."""
    ptoks, ttoks = _tokens(position), _tokens(title)
    return bool(ptoks and ttoks) and len(ptoks & ttoks) / min(len(ptoks), len(ttoks)) >= 0.6


def _held_on(local: str, start: WDTime | None, end: WDTime | None) -> bool:
    """False only when the local date certainly lies before the start or after the end."""
    return (start is None or not _before_local(local, start)) and (end is None or not _before(end, local))


def _before_local(local: str, wd: WDTime) -> bool:
    """True when the local date certainly lies before the Wikidata date."""
    key = _date_key(local)
    return key is not None and (key[0], key[1] or 12, key[2] or 31) < (wd.year, wd.month or 1, wd.day or 1)


def _score_coordinates(local: LocalEntity, cand: Entity, radius: float, add, score: Score) -> None:
    theirs = cand.coordinates()
    if not theirs:
        return
    dist = min(haversine_km(a, b) for a in local.coordinates for b in theirs)
    if dist <= radius:
        add("coordinates", True, f"P625 {dist:.1f} km from cowkg's coordinates")
    elif dist > 5 * radius:
        add("coordinates", False, f"P625 {dist:.0f} km from cowkg's coordinates")
    else:
        score.notes.append(f"P625 {dist:.0f} km from cowkg's coordinates")
