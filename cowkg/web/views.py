"""Analyst views: timeline, attendance matrix, entity graph and map, each drawn from named SPARQL queries.

Stage: web. Every picture is computed in the browser from the results of the named queries in
``queries/views/<name>.rq``, fetched as SPARQL JSON (or CSV) from ``/api/views/<name>``; nothing is
drawn from hand-made data. The pages (``/timeline``, ``/attendance``, ``/graph``, ``/map``) carry
their configuration as JSON: the API URLs, the query texts and the "view the query" links into the
query UI. The browser libraries come from npm (``frontend/build.mjs`` copies them into
``static/vendor/``), so no request leaves the server's origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, render_template, request, url_for

from ..errors import InputError, NotFound
from ..media import by_name, content_type
from .entities import exists
from .named import DEFAULT_ENTITY, answer, bind, bind_iri, check_iri, named_query

bp = Blueprint("views", __name__)


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


def query_ui_url(query: str) -> str:
    """The query UI with ``query`` in its editor ("view the query")."""
    return url_for("ui.query_ui") + "?" + urlencode({"query": query})


@bp.get("/api/views/<name>")
def api_query(name: str):
    """Results of the named view query: SPARQL JSON by default, ``format=csv|tsv|xml`` for downloads.

    ``iri=`` sets the entity of queries with a ``VALUES ?iri`` row, ``as_of=YYYY-MM-DD`` the date of
    queries with ``VALUES ?asOf`` rows (the "as of" control: home, browse lists, asof-*). Caps and deadline are the
    endpoint's (``max_rows``, ``query_timeout``); ``X-Cowkg-Truncated`` says when rows were cut. Answers
    are kept in the app's response cache, keyed by the dataset version and the query text.
    """
    cfg = current_app.config["COWKG"]
    query = bind(named_query(name), iri=request.args.get("iri"), as_of=request.args.get("as_of") or None)
    fmt = by_name(request.args.get("format", "json"), ("results",))
    if fmt is None:
        raise InputError(f"unknown format {request.args['format']!r}", hint="format is json, csv, tsv or xml")
    cached = answer(query, fmt)
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
