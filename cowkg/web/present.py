"""How values read on the pages: dates as people write them, sums of money, links to entity pages.

Stage: web (presentation only; no queries). Dates keep the precision the source gives: a day
("4 September 2025"), a month ("November 2025") or a year; a range shares what it can
("19–21 August 2025"). Registered as Jinja filters by ``init_app``.
"""

from __future__ import annotations

import re

from flask import Flask
from markupsafe import Markup

from ..vocab import WD, entity_slug

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
DATE_RE = re.compile(r"^(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def human_date(value: str | None, end: str | None = None) -> str:
    """``2025-09-04`` → "4 September 2025", ``2025-11`` → "November 2025"; with ``end``, a range.

    >>> human_date("2025-09-04"), human_date("2025-11"), human_date("1994")
    ('4 September 2025', 'November 2025', '1994')
    >>> human_date("2025-08-19", "2025-08-21"), human_date("2025-03-24", "2025-04-02")
    ('19–21 August 2025', '24 March – 2 April 2025')
    """
    if not value:
        return ""
    start = _parts(str(value))
    if start is None:
        return str(value)
    if not end or end == value:
        return _write(*start)
    stop = _parts(str(end))
    if stop is None:
        return f"{_write(*start)} – {end}"
    (y1, m1, d1), (y2, m2, d2) = start, stop
    if y1 == y2 and m1 == m2 and d1 and d2:
        return f"{d1}–{d2} {MONTHS[m1 - 1]} {y1}"
    if y1 == y2 and d1 and d2:
        return f"{d1} {MONTHS[m1 - 1]} – {d2} {MONTHS[m2 - 1]} {y1}"
    return f"{_write(*start)} – {_write(*stop)}"


def _parts(value: str) -> tuple[int, int | None, int | None] | None:
    m = DATE_RE.match(value)
    if not m:
        return None
    year, month, day = m.groups()
    return int(year), int(month) if month else None, int(day) if day else None


def _write(year: int, month: int | None, day: int | None) -> str:
    if month is None or not 1 <= month <= 12:
        return str(year)
    if day is None:
        return f"{MONTHS[month - 1]} {year}"
    return f"{day} {MONTHS[month - 1]} {year}"


def money(amount, currency: str | None = None) -> str:
    """A sum as people write it.

    >>> money(1600000000.0, "GBP"), money(226000000, "EUR"), money(5000)
    ('GBP 1.6 billion', 'EUR 226 million', '5,000')
    """
    try:
        value = float(amount)
    except (TypeError, ValueError):
        return str(amount or "")
    for size, word in ((1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            text = f"{value / size:.3f}".rstrip("0").rstrip(".") + " " + word
            break
    else:
        text = f"{value:,.0f}"
    return f"{currency} {text}" if currency else text


def wikidata_id(iri: str | None) -> str:
    """The Q-number of a Wikidata entity IRI ("" for anything else)."""
    if iri and str(iri).startswith(str(WD)):
        return str(iri)[len(str(WD)):]
    return ""


def wikidata_url(iri: str) -> str:
    """The human page of a Wikidata entity."""
    return "https://www.wikidata.org/wiki/" + wikidata_id(iri)


def page_href(iri: str) -> str:
    """Where the HTML page of ``iri`` lives on this server."""
    from urllib.parse import urlencode

    slug = entity_slug(iri)
    if slug and re.match(r"^[A-Za-z0-9][A-Za-z0-9._~-]*$", slug):
        return "/page/" + slug
    return "/page?" + urlencode({"iri": iri})


def link(iri: str, label: str | None = None) -> Markup:
    """An entity link (escaped), its IRI in the title."""
    return Markup('<a href="{}" title="{}">{}</a>').format(page_href(iri), iri, label or iri.rsplit("/", 1)[-1])


def citation(label: str) -> str:
    """The marker of a citation label.

    >>> citation("citation [36]"), citation("citation [86]: 2")
    ('[36]', '[86]: 2')
    """
    m = re.search(r"\[[^\]]+\](?::\s*\S+)?", label or "")
    return m.group(0) if m else (label or "")


def init_app(app: Flask) -> None:
    """Register the filters."""
    app.jinja_env.filters.update(human_date=human_date, money=money, wikidata_id=wikidata_id,
                                 wikidata_url=wikidata_url, page_href=page_href, citation=citation)
    app.jinja_env.globals["entity_link"] = link


__all__ = ["citation", "human_date", "init_app", "link", "money", "page_href", "wikidata_id", "wikidata_url"]
