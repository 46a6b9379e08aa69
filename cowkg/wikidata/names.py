"""Matching a name as typed against an entity's names: every word counts, distinguishing ones most.

Stage: pure functions under the reconciliation service (no I/O). Input: the text of a query
("Coalition meeting 12", "President Macron", "4 September 2025 summit", "J. D. Vance") and what an
entity is called and known by: its names, the words that describe it (titles of its roles, its
places, its description), its numbers (a meeting's ordinal, a plan's count of points) and dates.
Output: a ``NameMatch`` with a score from 0 to 100 and the reasons.

Why not a string ratio alone: a long label ("Coalition meeting 12: leaders' summit, FCDO
building, Westminster, London, 24 October 2025") shares few characters with a short query, so a
ratio ranks other meetings with shorter labels first and gives "12" no weight at all. Here each
word of the query is looked for among the entity's words:

- a name word counts fully; a word of its description or context (a title such as "President",
  a place) counts 0.7; a near spelling (Zelensky / Zelenskyy) 0.9; an initial ("K." for Keir,
  "J. D." for JD), or an acronym of several name words ("UN" for United Nations), 0.9;
- a date written in the query (``24 October 2025``, ``October 24, 2025``, ``2025-10-24``,
  ``October 2025``) matches the entity's dates, and its words then count as matched;
- distinguishing words — numbers, initials, dates — must match: each one missing halves the score;
  a number that follows the same word in a name ("meeting 12") earns a bonus over one that merely
  occurs ("12 April");
- the score mixes how much of the query is found (75%) with how much of the entity's best name
  the query covers (25%), so "UK" prefers the United Kingdom to a longer name containing it.

>>> m = match("Coalition meeting 12", NameIndex(["Coalition meeting 12: leaders' summit, London"], numbers={"12"}))
>>> m.score > 80, m.missing
(True, [])
>>> match("Coalition meeting 12", NameIndex(["Coalition meeting 8: virtual summit"], numbers={"8"})).missing
['12']
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from .scoring import normalise

#: Words that say nothing about which entity is meant.
STOP = frozenset({"the", "of", "and", "for", "de", "la", "le", "du", "des", "der", "die", "a", "an", "in", "on",
                  "at", "to", "no", "nr", "number", "n", "st", "th"})
MONTHS = {m: i for i, m in enumerate(("january", "february", "march", "april", "may", "june", "july", "august",
                                      "september", "october", "november", "december"), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
MONTHS["sept"] = 9
CONTEXT_WEIGHT = 0.7
NEAR_WEIGHT = 0.9
INITIAL_WEIGHT = 0.9
ORDINAL_BONUS = 6.0
DATE_BONUS = 8.0


def words(text: str) -> list[str]:
    """The words of ``text``, normalised (case, accents, punctuation), with "28-point" as "28 point"."""
    return [w for w in normalise(text).replace("_", " ").split() if w]


@dataclass
class NameIndex:
    """What an entity is called and known by, ready for matching."""

    names: list[str]
    context: list[str] = field(default_factory=list)
    numbers: set[str] = field(default_factory=set)
    dates: set[str] = field(default_factory=set)  # ISO: 2025-10-24, 2025-10, 2025

    def __post_init__(self) -> None:
        self.name_words = [words(n) for n in self.names]
        self.name_set = {w for ws in self.name_words for w in ws}
        self.context_set = {w for t in self.context for w in words(t)} - self.name_set
        self.bigrams = {(a, b) for ws in self.name_words for a, b in zip(ws, ws[1:], strict=False)}


@dataclass
class NameMatch:
    score: float
    found: float
    covered: float
    missing: list[str]
    date: str | None = None


def dates_in(text: str) -> list[tuple[str, list[str]]]:
    """Dates written in ``text``: (ISO date, the normalised words that wrote it)."""
    t = normalise(text.replace("/", "-"))
    out = []
    for m in re.finditer(r"\b(\d{4}) (\d{1,2}) (\d{1,2})\b", t):  # 2025-10-24 (dashes became spaces)
        y, mo, d = m.groups()
        if 1 <= int(mo) <= 12 and 1 <= int(d) <= 31:
            out.append((f"{y}-{int(mo):02d}-{int(d):02d}", [y, mo, d]))
    months = "|".join(sorted(MONTHS, key=len, reverse=True))
    for m in re.finditer(rf"\b(\d{{1,2}}) ({months}) (\d{{4}})\b", t):
        d, mo, y = m.groups()
        out.append((f"{y}-{MONTHS[mo]:02d}-{int(d):02d}", [d, mo, y]))
    for m in re.finditer(rf"\b({months}) (\d{{1,2}}) (\d{{4}})\b", t):
        mo, d, y = m.groups()
        out.append((f"{y}-{MONTHS[mo]:02d}-{int(d):02d}", [mo, d, y]))
    if not out:
        for m in re.finditer(rf"\b({months}) (\d{{4}})\b", t):
            mo, y = m.groups()
            out.append((f"{y}-{MONTHS[mo]:02d}", [mo, y]))
    return out


def _distinguishing(word: str) -> bool:
    return word.isdigit() or len(word) == 1


def _acronym(word: str, name_words: list[list[str]]) -> bool:
    """``word`` spells the initials of consecutive words of a name ("un" → united nations, "jd" → j d)."""
    if len(word) < 2:
        return False
    for ws in name_words:
        content = [w for w in ws if w not in STOP]
        for i in range(len(content) - len(word) + 1):
            if "".join(w[0] for w in content[i:i + len(word)]) == word:
                return True
    return False


def _word_weight(word: str, index: NameIndex, initials: list[str]) -> float:
    if word in index.name_set:
        return 1.0
    if len(word) == 1:  # an initial: the first letter of a name word, or part of a run of initials
        if any(n.startswith(word) for n in index.name_set if not n.isdigit()):
            return INITIAL_WEIGHT
        return 0.0
    if word.isdigit():
        return 1.0 if word in index.numbers else 0.0
    if _acronym(word, index.name_words):
        return INITIAL_WEIGHT
    if len(word) >= 4 and any(len(n) >= 4 and SequenceMatcher(None, word, n).ratio() >= 0.85 for n in index.name_set):
        return NEAR_WEIGHT
    if word in index.context_set:
        return CONTEXT_WEIGHT
    return 0.0


def match(query: str, index: NameIndex) -> NameMatch:
    """How well ``query`` names the entity of ``index`` (see the module docstring)."""
    qwords = words(query)
    date, date_words = None, set()
    for iso, ws in dates_in(query):
        if any(d == iso or d.startswith(iso) or iso.startswith(d) and len(d) >= 7 for d in index.dates):
            date, date_words = iso, set(ws)
            break
    content = [w for w in qwords if w not in STOP or w.isdigit()]
    if not content:
        content = qwords
    # runs of single letters ("j d vance") also count as one acronym ("jd")
    initials = [w for w in content if len(w) == 1]
    joined = "".join(initials)
    weights, missing = [], []
    for w in content:
        if w in date_words:
            weights.append(1.0)
            continue
        weight = _word_weight(w, index, initials)
        if weight == 0.0 and len(w) == 1 and len(joined) > 1 and joined in index.name_set:
            weight = INITIAL_WEIGHT
        weights.append(weight)
        if weight == 0.0 and _distinguishing(w):
            missing.append(w)
    found = sum(weights) / len(weights) if weights else 0.0
    covered = 0.0
    qset = set(content) | date_words
    for ws in index.name_words:
        ws = [w for w in ws if w not in STOP] or ws
        if ws:
            hit = [w in qset or any(len(q) == 1 and w.startswith(q) for q in qset) for w in ws]
            for q in qset:  # name words spelled by an acronym of the query ("un" covers united nations)
                for i in range(len(ws) - len(q) + 1):
                    if len(q) > 1 and "".join(w[0] for w in ws[i:i + len(q)]) == q:
                        hit[i:i + len(q)] = [True] * len(q)
            covered = max(covered, sum(hit) / len(ws))
    score = 100 * (0.75 * found + 0.25 * covered)
    ordinals = sum(1 for a, b in zip(content, content[1:], strict=False) if b.isdigit() and (a, b) in index.bigrams)
    score += ORDINAL_BONUS * ordinals + (DATE_BONUS if date else 0.0)
    score *= 0.5 ** len(missing)
    return NameMatch(round(min(score, 100.0), 2), found, covered, missing, date)


__all__ = ["NameIndex", "NameMatch", "match", "dates_in", "words"]
