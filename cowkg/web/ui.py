"""The query UI (YASGUI, served from static/vendor/, no CDN) and the label search (page and JSON API).

Stage: web. The UI page (``/query``) carries its configuration as JSON: the endpoint, the project
prefixes (``cowkg.vocab.PREFIXES``) and the example queries of ``queries/*.rq`` (and of
``queries/wikidata/*.rq`` when there are any), grouped so that the ones that run here come first:
competency questions, then queries in Wikidata's vocabulary (they read the Wikibase view by
themselves, ``cowkg.wdqs``), then federated queries, marked as such (this endpoint refuses SERVICE). ``?query=`` opens a
query (the entity pages' "query this" link); without it the editor opens on the first competency
query (``starter``). Results show labels by default: ``/api/labels`` gives the display label and
page of the IRIs in a result.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, current_app, jsonify, render_template, request, url_for

from ..errors import InputError
from ..vocab import PREFIXES, entity_slug
from .catalog import Example, load_examples
from .describe import public_base
from .state import app_state

bp = Blueprint("ui", __name__)

MAX_LIMIT = 50
MAX_LABELS = 1000
#: Competency queries (``q01-...``) run on this endpoint; other examples may not (SERVICE is refused).
COMPETENCY_RE = re.compile(r"^q\d+-")
#: A remote SERVICE call (the label service ``SERVICE wikibase:label`` is answered here, not fetched).
FEDERATED_RE = re.compile(r"\bSERVICE\s+(?:SILENT\s+)?<", re.IGNORECASE)
#: Wikidata's vocabulary in a query: cowkg answers it from the Wikibase view (cowkg.wdqs).
WIKIDATA_VOCAB_RE = re.compile(r"(?<![\w:?$])(?:wdt|wd|p|ps|pq|pr|wikibase):[A-Za-z]", re.IGNORECASE)
GROUPS = (("competency", "Competency questions", "Questions the graph was built to answer; they run here as they are."),
          ("wikidata", "In Wikidata's vocabulary", "Written with wdt:, p:, wd: … as on the Wikidata Query Service; "
           "they read the Wikibase view, with no setting."),
          ("federated", "Federated (run elsewhere)", "They call another endpoint with SERVICE, which this endpoint "
           "refuses: copy them to an engine that federates (docs/FEDERATION.md)."))


def example_group(name: str, text: str) -> str:
    """competency | wikidata | federated: where an example goes in the list."""
    if FEDERATED_RE.search(text):
        return "federated"
    if WIKIDATA_VOCAB_RE.search(_without_prefix_lines(text)) or name.startswith("wikidata/"):
        return "wikidata"
    return "competency"


def _without_prefix_lines(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("#", "PREFIX", "prefix")))


def starter_example(names: list[str]) -> str | None:
    """The example the editor opens on: the first competency query, else the first example."""
    return next((n for n in names if COMPETENCY_RE.match(n)), names[0] if names else None)


def all_examples() -> list[dict]:
    """The example queries in the order the page lists them, each with its group."""
    catalog = app_state().catalog
    found = list(catalog.examples())
    gallery = Path(current_app.config["COWKG"]["root"]) / "queries" / "wikidata"
    if gallery.is_dir():
        found += [Example("wikidata/" + e.name, e.title, e.description, e.query) for e in load_examples(gallery)]
    examples = [{"name": e.name, "title": e.title, "description": e.description, "query": e.query,
                 "group": example_group(e.name, e.query)} for e in found]
    order = {g: i for i, (g, _, _) in enumerate(GROUPS)}
    return sorted(examples, key=lambda e: order[e["group"]])


@bp.get("/query")
def query_ui():
    """YASGUI with the project's prefixes and example queries."""
    examples = all_examples()
    config = {"endpoint": public_base() + "/sparql", "prefixes": PREFIXES, "examples": examples,
              "starter": starter_example([e["name"] for e in examples]), "query": request.args.get("query", ""),
              "infer_default": current_app.config["COWKG"]["infer_default"], "labels": url_for("ui.api_labels"),
              "wikidataVocab": WIKIDATA_VOCAB_RE.pattern}
    groups = [(key, title, note, [e for e in examples if e["group"] == key]) for key, title, note in GROUPS]
    return render_template("ui.html", config=config, examples=examples, groups=groups)


@bp.post("/api/labels")
def api_labels():
    """JSON ``{"iris": [...]}`` → ``{"labels": {iri: {"label", "page"}}}`` for the IRIs the dataset labels
    (the query page shows results with labels)."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("iris"), list):
        raise InputError('send JSON {"iris": ["https://...", ...]}')
    iris = [i for i in body["iris"] if isinstance(i, str)][:MAX_LABELS]
    catalog = app_state().catalog
    out = {}
    for iri in iris:
        if catalog.labels_of(iri):
            slug = entity_slug(iri)
            out[iri] = {"label": catalog.display_label(iri),
                        "page": f"/page/{slug}" if slug else "/page?" + urlencode({"iri": iri})}
    return jsonify({"labels": out})


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
    results = app_state().catalog.search(q, limit)
    return jsonify({"query": q, "results": results})


@bp.get("/search")
def search_page():
    """The search results as a page (the search box works without JavaScript)."""
    q, limit = _search_args()
    results = app_state().catalog.search(q, MAX_LIMIT) if q else []
    return render_template("search.html", q=q, results=results)
