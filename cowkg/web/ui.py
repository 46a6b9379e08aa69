"""The query UI (YASGUI, served from static/vendor/, no CDN) and the label search (page and JSON API).

Stage: web. The UI page carries its configuration as JSON: the endpoint, the project prefixes
(``cowkg.vocab.PREFIXES``) and the example queries of ``queries/*.rq``; ``?query=`` opens a
query (the entity pages' "query this" link); without it the editor opens on the first competency
query (``starter``), since the examples sort by name and the first may be one this endpoint refuses.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, render_template, request

from ..errors import InputError
from ..vocab import PREFIXES
from .describe import public_base

bp = Blueprint("ui", __name__)

MAX_LIMIT = 50
#: Competency queries (``q01-...``) run on this endpoint; other examples may not (SERVICE is refused).
COMPETENCY_RE = re.compile(r"^q\d+-")


def starter_example(names: list[str]) -> str | None:
    """The example the editor opens on: the first competency query, else the first example."""
    return next((n for n in names if COMPETENCY_RE.match(n)), names[0] if names else None)


@bp.get("/")
@bp.get("/query")
def query_ui():
    """YASGUI with the project's prefixes and example queries."""
    catalog = current_app.extensions["cowkg_catalog"]
    examples = [{"name": e.name, "title": e.title, "description": e.description, "query": e.query}
                for e in catalog.examples()]
    config = {"endpoint": public_base() + "/sparql", "prefixes": PREFIXES, "examples": examples,
              "starter": starter_example([e["name"] for e in examples]), "query": request.args.get("query", ""),
              "infer_default": current_app.config["COWKG"]["infer_default"]}
    return render_template("ui.html", config=config, examples=examples)


def _search_args() -> tuple[str, int]:
    q = request.args.get("q", "").strip()
    try:
        limit = int(request.args.get("limit", "10"))
    except ValueError:
        raise InputError("limit must be a whole number") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(f"limit must be between 1 and {MAX_LIMIT}")
    if len(q) > 200:
        raise InputError("the search text is longer than 200 characters")
    return q, limit


@bp.get("/api/search")
def api_search():
    """JSON: ``{"query": q, "results": [{iri, label, matched, match, types, page}, ...]}``, best first."""
    q, limit = _search_args()
    if not q:
        raise InputError("missing search text: /api/search?q=...")
    results = current_app.extensions["cowkg_catalog"].search(q, limit)
    return jsonify({"query": q, "results": results})


@bp.get("/search")
def search_page():
    """The search results as a page (the search box works without JavaScript)."""
    q, limit = _search_args()
    results = current_app.extensions["cowkg_catalog"].search(q, MAX_LIMIT) if q else []
    return render_template("search.html", q=q, results=results)
