"""Browse without SPARQL: list pages of meetings, states, people, organisations, documents, statements,
pledges and places, with facets, sorting, counts, a text filter, an "as of" date and CSV/JSON of what is shown.

Stage: web. Each list is the named query ``queries/views/list-<name>.rq`` (one row per item); each
facet is ``queries/views/facet-<name>-<facet>.rq`` (one row per item and value). Both are answered
by the backend like any query (so the pages work over Virtuoso too) and cached per dataset version.
The ``as_of`` date is a parameter of the list query (its ``VALUES ?asOf`` rows); choosing facet
values, a date range, a text filter and the order only narrows and orders the list's rows here,
and each facet counts the items that the *other* filters leave (choosing a value never hides the
other values of the same facet). ``format=csv|json`` answers exactly the rows shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, jsonify, render_template, request, url_for

from ..errors import InputError
from .catalog import fold
from .named import bind, check_date, entries, header, named_query, rows, rows_of
from .present import human_date, money

bp = Blueprint("browse", __name__)

MAX_VALUES = 40  # chosen values per facet
#: Parameters of every list page; a facet may not be named like one (tests/web/test_pages.py checks).
RESERVED = frozenset({"q", "from", "to", "sort", "order", "as_of", "format"})


@dataclass(frozen=True)
class Column:
    """One column of a list: the query variable it shows and how (``kind``)."""

    var: str
    heading: str
    #: text | item (link to the row's page) | entries ("label <iri>" lines) | lines | date | number |
    #: status | wikidata | money | citations
    kind: str = "text"
    sortable: bool = True


@dataclass(frozen=True)
class Facet:
    """A facet: the named query ``facet-<list>-<name>.rq``."""

    name: str
    title: str


@dataclass(frozen=True)
class BrowseList:
    """One list page."""

    name: str
    title: str
    noun: str  # "meetings": "12 of 26 meetings"
    intro: str
    columns: tuple[Column, ...]
    facets: tuple[Facet, ...]
    sort: str
    order: str = "asc"
    dated: bool = False  # rows have ?date: the date range applies
    as_of_note: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def query(self) -> str:
        return f"list-{self.name}"

    def facet_query(self, facet: Facet) -> str:
        return f"facet-{self.name}-{facet.name}"


STATUS = Column("statusLabel", "Status", "status")
LISTS = {b.name: b for b in (
    BrowseList("meetings", "Meetings", "meetings",
               "The fourteen numbered meetings of the coalition and the other meetings the article names.",
               (Column("number", "No.", "number"), Column("date", "Date", "date"), Column("label", "Meeting", "item"),
                Column("kindLabel", "Kind"), Column("hosts", "Host or chair", "entries"),
                Column("places", "Place", "entries"), Column("format", "Format"),
                Column("participants", "Participants", "number"), STATUS),
               (Facet("kind", "Kind"), Facet("mode", "Format"), Facet("place", "Place"),
                Facet("host", "Host or chair"), Facet("status", "Status")),
               sort="date", dated=True, as_of_note="meetings held or planned on or before that day"),
    BrowseList("states", "States", "states",
               "States the article names, with their part in the coalition and the coalition meetings they "
               "attended; the membership standard counts three cabinet-level participations.",
               (Column("label", "State", "item"), Column("relations", "Part in the coalition", "lines"),
                Column("attended", "Coalition meetings attended", "number"),
                Column("cabinet", "At cabinet level", "number"), Column("absent", "Recorded as absent", "number"),
                Column("pledges", "Pledges", "number"), Column("wikidata", "Wikidata", "wikidata", False)),
               (Facet("relation", "Part in the coalition"), Facet("meeting", "Coalition meeting attended")),
               sort="label", as_of_note="attendance counted up to that day"),
    BrowseList("people", "People", "people",
               "People the article names, with their titles as printed and what they did.",
               (Column("label", "Person", "item"), Column("titles", "Titles as printed", "entries"),
                Column("country", "Country", "entries"), Column("chaired", "Meetings hosted or chaired", "number"),
                Column("attended", "Attendances", "number"), Column("statements", "Statements", "number"),
                Column("wikidata", "Wikidata", "wikidata", False)),
               (Facet("country", "Country"), Facet("part", "Part")),
               sort="label", as_of_note="meetings and statements counted up to that day"),
    BrowseList("organisations", "Organisations", "organisations",
               "International organisations, government bodies, media outlets, research organisations, the coalition, "
               "the planned force and its working groups.",
               (Column("label", "Organisation", "item"), Column("kindLabel", "Kind"),
                Column("relations", "Part", "lines"), Column("people", "People with a title in it", "entries"),
                Column("statements", "Statements and reports", "number"),
                Column("wikidata", "Wikidata", "wikidata", False)),
               (Facet("kind", "Kind"), Facet("part", "Part")), sort="label"),
    BrowseList("documents", "Documents", "documents",
               "Declarations, agreements, official statements, publications, plans and peace-plan versions.",
               (Column("date", "Date", "date"), Column("label", "Document", "item"), Column("kindLabel", "Kind"),
                Column("authors", "Author or parties", "entries"), STATUS,
                Column("replacedBy", "Replaced by", "entries")),
               (Facet("kind", "Kind"), Facet("status", "Status"), Facet("author", "Author or party")),
               sort="date", dated=True, as_of_note="documents dated on or before that day (undated ones too)"),
    BrowseList("statements", "Statements", "statements",
               "What people, governments, outlets and analysts said, as the article attributes it: the graph "
               "records that it was said, never that it is true.",
               (Column("date", "Date", "date"), Column("label", "Statement", "item"),
                Column("speakers", "Said or reported by", "entries"), Column("kindLabel", "Kind"), STATUS,
                Column("citations", "Citations", "citations", False)),
               (Facet("speaker", "Said or reported by"), Facet("kind", "Kind"), Facet("status", "Status")),
               sort="date", dated=True, as_of_note="statements dated on or before that day (undated ones too)"),
    BrowseList("pledges", "Pledges", "pledges",
               "Contributions the article states as pledged; announced or claimed ones are statements.",
               (Column("pledgers", "Pledged by", "entries"), Column("label", "Pledge", "item"),
                Column("kinds", "Kind"), Column("amount", "Amount", "money"), Column("date", "Date", "date"),
                STATUS, Column("citations", "Citations", "citations", False)),
               (Facet("pledger", "Pledged by"), Facet("kind", "Kind"), Facet("status", "Status")),
               sort="pledgers", dated=True, as_of_note="pledges dated on or before that day (undated ones too)"),
    BrowseList("places", "Places", "places",
               "Cities, regions and venues, and what the graph locates there.",
               (Column("label", "Place", "item"), Column("kindLabel", "Kind"), Column("within", "Lies in", "entries"),
                Column("thingCount", "Things located there", "number"), Column("things", "What", "entries", False),
                Column("wikidata", "Wikidata", "wikidata", False)),
               (Facet("kind", "Kind"), Facet("within", "Lies in")), sort="label"),
)}


def sort_key(value) -> tuple:
    """Numbers by value, text case- and accent-blind, dates as written; missing values last."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    return (1, fold(str(value)))


def date_start(value: str) -> str:
    """A date as printed → its first day (``2025-11`` → ``2025-11-01``), for range comparisons."""
    value = str(value)
    return value + "-01-01"[len(value) - 4:] if len(value) in (4, 7) else value[:10]


@dataclass
class Selection:
    """What the reader asked for: facet values, date range, text, order, as-of date."""

    values: dict[str, list[str]]
    date_from: str | None
    date_to: str | None
    text: str
    sort: str
    order: str
    as_of: str | None


def read_selection(blist: BrowseList) -> Selection:
    args = request.args
    values = {}
    for facet in blist.facets:
        chosen = [v for v in args.getlist(facet.name) if v][:MAX_VALUES]
        if chosen:
            values[facet.name] = chosen
    sortable = {c.var for c in blist.columns if c.sortable}
    sort = args.get("sort") or blist.sort
    if sort not in sortable:
        raise InputError(f"cannot sort {blist.name} by {sort!r}", hint="sort by " + ", ".join(sorted(sortable)))
    order = args.get("order") or blist.order
    if order not in ("asc", "desc"):
        raise InputError("order is asc or desc")
    text = (args.get("q") or "").strip()
    if len(text) > 200:
        raise InputError("the filter text is longer than 200 characters")
    return Selection(values, check_date(args.get("from"), "from"), check_date(args.get("to"), "to"), text, sort, order,
                     check_date(args.get("as_of")))


def facet_members(blist: BrowseList, only: str | None = None) -> dict[str, dict[str, tuple[str, set[str]]]]:
    """For each facet (or only the one named ``only``): value → (label, items having it)."""
    out = {}
    for facet in blist.facets:
        if only is not None and facet.name != only:
            continue
        values: dict[str, tuple[str, set[str]]] = {}
        for r in rows(blist.facet_query(facet)):
            if "item" not in r or "value" not in r:
                continue
            value = str(r["value"])
            label, items = values.setdefault(value, (str(r.get("valueLabel") or value), set()))
            items.add(str(r["item"]))
        out[facet.name] = values
    return out


def matches(row: dict, blist: BrowseList, sel: Selection) -> bool:
    """Whether ``row`` passes the date range and the text filter."""
    if sel.date_from or sel.date_to:
        date = row.get("date")
        if not date:
            return False
        start = date_start(date)
        if sel.date_from and start < sel.date_from:
            return False
        if sel.date_to and start > sel.date_to:
            return False
    if sel.text:
        needle = fold(sel.text)
        hay = " ".join(str(v) for k, v in row.items() if k != "item")
        if needle not in fold(hay):
            return False
    return True


def select(blist: BrowseList, sel: Selection) -> dict:
    """The rows shown, in order, with the counts of every facet value."""
    all_rows = rows(blist.query, as_of=sel.as_of)
    members = facet_members(blist)
    base = [r for r in all_rows if matches(r, blist, sel)]

    def allowed(row: dict, skip: str | None = None) -> bool:
        for name, chosen in sel.values.items():
            if name == skip:
                continue
            values = members.get(name, {})
            if not any(row["item"] in values.get(v, ("", set()))[1] for v in chosen):
                return False
        return True

    shown = [r for r in base if allowed(r)]
    facets = []
    for facet in blist.facets:
        pool = {r["item"] for r in base if allowed(r, skip=facet.name)}
        chosen = sel.values.get(facet.name, [])
        counted = []
        for value, (label, items) in members[facet.name].items():
            n = len(items & pool)
            if n or value in chosen:
                counted.append({"value": value, "label": label, "count": n, "chosen": value in chosen})
        counted.sort(key=lambda v: (-v["count"], fold(v["label"])))
        facets.append({"name": facet.name, "title": facet.title, "values": counted,
                       "query": blist.facet_query(facet)})
    column = next(c for c in blist.columns if c.var == sel.sort)
    tie = [c.var for c in blist.columns if c.kind == "item"]

    def key(row: dict) -> tuple:
        value = row.get(sel.sort)
        if column.kind == "entries":
            value = ", ".join(e["label"] for e in entries(value)) or None
        return (sort_key(value), *(sort_key(row.get(t)) for t in tie))

    present = sorted((r for r in shown if r.get(sel.sort) not in (None, "")), key=key,
                     reverse=sel.order == "desc")
    missing = sorted((r for r in shown if r.get(sel.sort) in (None, "")), key=key)
    return {"rows": present + missing, "total": len(all_rows), "facets": facets,
            "undated": sum(1 for r in shown if blist.dated and not r.get("date"))}


def cell_text(row: dict, column: Column) -> str:
    """A cell as plain text (CSV)."""
    value = row.get(column.var)
    if value is None:
        return ""
    if column.kind in ("entries", "citations"):
        return "; ".join(e["label"] for e in entries(value))
    if column.kind == "lines":
        return "; ".join(v for v in str(value).split("\n") if v)
    if column.kind == "date":
        return str(value) + (f"/{row['end']}" if row.get("end") else "")
    if column.kind == "money":
        return money(value, row.get("currency")) if value != "" else ""
    return str(value)


def cell_iris(row: dict, column: Column) -> str:
    if column.kind in ("entries", "citations"):
        return " ".join(e["iri"] for e in entries(row.get(column.var)) if e["iri"])
    if column.kind == "item":
        return str(row.get("item", ""))
    if column.kind == "wikidata":
        return str(row.get(column.var, ""))
    return ""


def as_csv(blist: BrowseList, shown: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    heads = []
    for c in blist.columns:
        heads.append(c.heading)
        if c.kind in ("entries", "citations", "item"):
            heads.append(c.heading + " (IRI)")
    writer.writerow(heads)
    for r in shown:
        line = []
        for c in blist.columns:
            line.append(cell_text(r, c))
            if c.kind in ("entries", "citations", "item"):
                line.append(cell_iris(r, c))
        writer.writerow(line)
    return out.getvalue()


def as_json(blist: BrowseList, sel: Selection, result: dict) -> dict:
    columns = [c.var for c in blist.columns]
    return {"list": blist.name, "title": blist.title, "as_of": sel.as_of,
            "filters": {**sel.values, **({"from": sel.date_from} if sel.date_from else {}),
                        **({"to": sel.date_to} if sel.date_to else {}), **({"q": sel.text} if sel.text else {})},
            "sort": sel.sort, "order": sel.order, "shown": len(result["rows"]), "total": result["total"],
            "columns": [{"var": c.var, "heading": c.heading} for c in blist.columns],
            "rows": [{"item": r["item"], **{k: r[k] for k in columns if k in r and k != "item"},
                      **{k: r[k] for k in ("end", "currency", "content", "participantsUnit", "formatBasis",
                                           "dateBasis", "statements") if k in r}} for r in result["rows"]],
            "facets": [{"name": f["name"], "title": f["title"],
                        "values": [{k: v[k] for k in ("value", "label", "count")} for v in f["values"]]}
                       for f in result["facets"]]}


def query_links(blist: BrowseList, sel: Selection) -> list[dict]:
    """"View the query" links: the list query (with the as-of date set) and each facet query."""
    from .views import query_ui_url

    text = bind(named_query(blist.query), as_of=sel.as_of)
    out = [{"name": blist.query, "title": header(text).get("title", blist.query), "ui": query_ui_url(text),
            "api": url_for("views.api_query", name=blist.query, **({"as_of": sel.as_of} if sel.as_of else {}))}]
    for facet in blist.facets:
        name = blist.facet_query(facet)
        facet_text = named_query(name)
        out.append({"name": name, "title": header(facet_text).get("title", name), "ui": query_ui_url(facet_text),
                    "api": url_for("views.api_query", name=name)})
    return out


def url_with(**changes) -> str:
    """This page's URL with some parameters changed (None removes one)."""
    args = request.args.copy()
    for k, v in changes.items():
        args.pop(k, None)
        if v is not None:
            if isinstance(v, list):
                for x in v:
                    args.add(k, x)
            else:
                args[k] = v
    query = "&".join(f"{k}={_quote(v)}" for k, vs in args.lists() for v in vs)
    return request.path + ("?" + query if query else "")


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(str(value), safe="")


@bp.get("/browse/")
def index():
    """The lists, each with its number of items."""
    counts = {name: len(rows(b.query)) for name, b in LISTS.items()}
    return render_template("browse/index.html", lists=LISTS.values(), counts=counts)


@bp.get("/browse/<name>")
def browse(name: str):
    """One list: ``?<facet>=<value>`` (repeatable), ``from`` / ``to`` (dates), ``q`` (text), ``sort`` /
    ``order``, ``as_of`` (a date: the list as the graph says it stood that day), ``format=csv|json``."""
    blist = LISTS.get(name)
    if blist is None:
        abort(404)
    sel = read_selection(blist)
    result = select(blist, sel)
    fmt = request.args.get("format", "html")
    if fmt == "csv":
        resp = Response(as_csv(blist, result["rows"]), content_type="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = f'attachment; filename="cowkg-{name}.csv"'
        return resp
    if fmt == "json":
        return jsonify(as_json(blist, sel, result))
    if fmt != "html":
        raise InputError(f"unknown format {fmt!r}", hint="format is html, csv or json")
    return render_template("browse/list.html", blist=blist, sel=sel, result=result, lists=LISTS.values(),
                           queries=query_links(blist, sel), url_with=url_with, entries=entries,
                           human_date=human_date, as_of_label=human_date(sel.as_of) if sel.as_of else "")


def list_counts() -> dict[str, int]:
    """How many items each list has (no filters): the home page shows them."""
    return {name: len(rows_of(named_query(b.query))) for name, b in LISTS.items()}


__all__ = ["LISTS", "BrowseList", "Column", "Facet", "bp", "list_counts", "select"]
