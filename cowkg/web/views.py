"""Analyst views: timeline, attendance matrix, entity graph and map, each drawn from named SPARQL queries.

Stage: web. Every picture is computed in the browser from the results of the named queries in
``queries/views/<name>.rq``, fetched as SPARQL JSON (or CSV) from ``/api/views/<name>``; nothing is
drawn from hand-made data. The pages (``/timeline``, ``/attendance``, ``/graph``, ``/map``) carry
their configuration as JSON: the API URLs, the query texts and the "view the query" links into the
query UI. The browser libraries come from npm (``frontend/build.mjs`` copies them into
``static/vendor/``), so no request leaves the server's origin.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, current_app, render_template, request, url_for

from ..errors import InputError, NotFound
from ..media import by_name, content_type
from ..vocab import COWR
from .entities import exists

bp = Blueprint("views", __name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: The VALUES row of a query that takes an entity (``VALUES ?iri { <...> }``), replaced per request.
IRI_VALUES_RE = re.compile(r"VALUES\s+\?iri\s*\{[^}]*\}")
#: Characters an IRI reference may not contain (SPARQL IRIREF), so a requested IRI cannot break out.
BAD_IRI_RE = re.compile(r'[\x00-\x20<>"{}|^`\\]')
DEFAULT_ENTITY = str(COWR) + "coalition"


@dataclass(frozen=True)
class Cached:
    """A view query's serialised answer, kept in the app's response cache (the data is read-only while serving)."""

    body: bytes
    rows: int
    truncated: bool


@dataclass(frozen=True)
class View:
    """One analyst view: its page, title, the named queries it draws and the test count queries."""

    name: str
    title: str
    summary: str
    queries: tuple[str, ...]


VIEWS = {v.name: v for v in (
    View("timeline", "Timeline", "Dated meetings, events, documents, statements, pledges and status observations "
         "(as of a date), November 2024 – December 2025; planned and proposed items drawn apart from what happened.",
         ("timeline",)),
    View("attendance", "Attendance", "States and organisations × meetings: who was represented, at what level, "
         "and the participants per meeting.", ("attendance", "attendance-per-meeting")),
    View("graph", "Entity graph", "The links of one entity to and from others; click a node to expand it.",
         ("entity-graph",)),
    View("map", "Map", "The places of the graph: cities, regions, venues and headquarters sites.", ("places",)),
)}


def queries_dir() -> Path:
    return Path(current_app.config["COWKG"]["root"]) / "queries" / "views"


def named_query(name: str) -> str:
    """The text of ``queries/views/<name>.rq``; raises NotFound for an unknown name."""
    path = queries_dir() / f"{name}.rq"
    if not NAME_RE.match(name) or not path.is_file():
        names = sorted(p.stem for p in queries_dir().glob("*.rq"))
        raise NotFound(f"no view query named {name!r}", hint="the view queries are " + ", ".join(names))
    return path.read_text(encoding="utf-8")


def check_iri(iri: str) -> str:
    """``iri`` if it is an absolute IRI that can stand in a query; raises InputError otherwise."""
    if not iri or len(iri) > 2000 or BAD_IRI_RE.search(iri):
        raise InputError(f"not an IRI that can be queried: {iri[:200]!r}", hint="e.g. iri=" + DEFAULT_ENTITY)
    try:
        ox.NamedNode(iri)
    except ValueError:
        raise InputError(f"not an absolute IRI: {iri[:200]!r}", hint="e.g. iri=" + DEFAULT_ENTITY) from None
    return iri


def bind_iri(query: str, iri: str) -> str:
    """The query with its ``VALUES ?iri { ... }`` row set to ``iri`` (already checked by ``check_iri``)."""
    if not IRI_VALUES_RE.search(query):
        raise InputError("this view query takes no iri parameter")
    return IRI_VALUES_RE.sub(lambda _m: f"VALUES ?iri {{ <{iri}> }}", query, count=1)


def query_ui_url(query: str) -> str:
    """The query UI with ``query`` in its editor ("view the query")."""
    return url_for("ui.query_ui") + "?" + urlencode({"query": query})


@bp.get("/api/views/<name>")
def api_query(name: str):
    """Results of the named view query: SPARQL JSON by default, ``format=csv|tsv|xml`` for downloads.

    ``iri=`` sets the entity of queries with a ``VALUES ?iri`` row. Caps and deadline are the
    endpoint's (``max_rows``, ``query_timeout``); ``X-Cowkg-Truncated`` says when rows were cut. Answers
    are kept in the app's response cache, keyed by the dataset version and the query text.
    """
    cfg = current_app.config["COWKG"]
    query = named_query(name)
    if "iri" in request.args:
        query = bind_iri(query, check_iri(request.args["iri"]))
    fmt = by_name(request.args.get("format", "json"), ("results",))
    if fmt is None:
        raise InputError(f"unknown format {request.args['format']!r}", hint="format is json, csv, tsv or xml")
    cache = current_app.extensions["cowkg_cache"]
    key = ("views", current_app.extensions["cowkg_catalog"].version, query, fmt.name)
    cached = cache.get(key)
    if cached is None:
        result = current_app.extensions["cowkg_backend"].query(query, max_rows=cfg["max_rows"],
                                                                 timeout=cfg["query_timeout"])
        cached = Cached(result.serialize(fmt), len(result), result.truncated)
        cache.put(key, cached)
    resp = Response(cached.body, content_type=content_type(fmt))
    resp.headers["X-Cowkg-Rows"] = str(cached.rows)
    if cached.truncated:
        resp.headers["X-Cowkg-Truncated"] = f"true; max_rows={cfg['max_rows']}"
    if fmt.name != "json":
        resp.headers["Content-Disposition"] = f'attachment; filename="{name}{fmt.suffix}"'
    return resp


def render_view(name: str, **extra):
    """A view page: the template ``views/<name>.html`` with its configuration as JSON."""
    view = VIEWS[name]
    params = {k: v for k, v in extra.items() if k == "iri"}
    queries = {}
    for q in view.queries:
        text = named_query(q)
        if params.get("iri"):
            text = bind_iri(text, params["iri"])
        queries[q] = {"api": url_for("views.api_query", name=q, **params), "ui": query_ui_url(text),
                      "csv": url_for("views.api_query", name=q, format="csv", **params)}
    config = {"view": name, "queries": queries, "graphApi": url_for("views.api_query", name="entity-graph"),
              **extra}
    return render_template(f"views/{name}.html", view=view, views=VIEWS.values(), config=config, queries=queries)


@bp.get("/timeline")
def timeline():
    """Every dated item, Nov 2024 – Dec 2025, with zoom, pan and filters by kind, actor and status."""
    return render_view("timeline")


@bp.get("/attendance")
def attendance():
    """States and organisations × meetings, sortable; the membership standard; participants per meeting."""
    return render_view("attendance")


@bp.get("/graph")
def graph():
    """The neighbourhood of ``iri`` (default: the coalition) as a node-link diagram; 404 for an IRI
    the dataset does not have (an empty picture would look like an entity without links)."""
    iri = check_iri(request.args.get("iri", DEFAULT_ENTITY))
    if not exists(iri):
        raise NotFound(f"no IRI <{iri}> in this dataset", hint="search the labels: /search?q=...")
    return render_view("graph", iri=iri)


@bp.get("/map")
def map_view():
    """The places of the graph on a world map drawn from npm-shipped vector data."""
    atlas = url_for("static", filename="vendor/world-atlas/countries-50m.json")
    return render_view("map", atlas=atlas)


__all__ = ["VIEWS", "View", "bind_iri", "bp", "check_iri", "named_query"]
