"""The home page: the coalition at a glance, as the graph says it stood on any date.

Stage: web. ``/`` shows the coalition's counts and named members, the force's and its headquarters'
status and command structure, the roles people held, the latest meetings and documents, a search
box and a door to every list, view, download and the query editor. ``?as_of=YYYY-MM-DD`` shows the
same as of that day (``/api/coalition?as_of=`` answers it as JSON). Everything comes from named
queries (``asof-counts``, ``asof-members``, ``asof-status``, ``asof-roles``, ``home-command``,
``list-meetings``, ``list-documents``), each with the date set in its ``VALUES ?asOf`` rows, so
the rule "a statement holds from the date it is stated for until a later one of the same kind" is
written once, in SPARQL, and runs on every backend. Where the source is silent the page says
"not stated"; counts of different kinds (members, committed countries, troop pledgers) are never
reconciled into one number.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, request, send_from_directory, url_for

from .browse import LISTS, list_counts
from .named import check_date, entries, rows
from .present import human_date
from .views import VIEWS

bp = Blueprint("home", __name__)

#: The kinds of count the home page always shows, with "not stated" when the source gives none by then.
KEY_SCOPES = ("members", "committedCountries")
SCOPE_ORDER = ("members", "committedCountries", "troopPledgers", "founders", "expectedSize", "duration")
#: Dates the "as of" control offers in one click: the acceptance dates of issue 14 and the day the
#: Paris headquarters was inaugurated (and the day before).
PRESETS = ("2025-03-15", "2025-09-04", "2025-11-16", "2025-11-17", "2025-11-25", "2025-12-11")
SUBJECT_ORDER = ("coalition", "mnf-u", "hq-paris", "hq-kyiv")


def local(iri: str) -> str:
    return str(iri).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def counts_as_of(as_of: str | None) -> list[dict]:
    """One entry per kind of count: the latest value(s) by ``as_of``, or not stated."""
    by_scope: dict[str, dict] = {}
    for r in rows("asof-counts", as_of=as_of):
        scope = local(r["scope"])
        entry = by_scope.setdefault(scope, {"scope": scope, "title": r.get("scopeLabel") or scope,
                                            "when": r["when"], "values": []})
        entry["values"].append({"value": r["value"], "qualifier": r.get("qualifier"), "unit": r.get("unit"),
                                "record": r["obs"], "label": r.get("label"), "status": local(r.get("status", "")),
                                "statusLabel": r.get("statusLabel")})
    for scope in KEY_SCOPES:
        by_scope.setdefault(scope, {"scope": scope, "title": {"members": "members",
                                                              "committedCountries": "committed countries"}[scope],
                                    "when": None, "values": []})
    order = {s: i for i, s in enumerate(SCOPE_ORDER)}
    for entry in by_scope.values():
        entry["values"].sort(key=lambda v: -(v["value"] if isinstance(v["value"], int | float) else 0))
        entry["stated"] = bool(entry["values"])
    return sorted(by_scope.values(), key=lambda e: (order.get(e["scope"], len(order)), e["scope"]))


def status_as_of(as_of: str | None) -> list[dict]:
    """Per subject (coalition, force, each headquarters): its latest statuses and its milestones."""
    subjects: dict[str, dict] = {}
    for r in rows("asof-status", as_of=as_of):
        s = subjects.setdefault(r["subject"], {"iri": r["subject"], "label": r["subjectLabel"], "statuses": [],
                                               "milestones": []})
        item = {"what": r["valueLabel"], "when": r["when"], "record": r["record"],
                "recordLabel": r.get("recordLabel"), "status": local(r.get("status", "")),
                "statusLabel": r.get("statusLabel")}
        (s["statuses"] if r["kind"] == "status" else s["milestones"]).append(item)
    for s in subjects.values():
        latest = max((x["when"] for x in s["statuses"]), default=None)
        s["current"] = [x for x in s["statuses"] if x["when"] == latest]
        s["earlier"] = [x for x in s["statuses"] if x["when"] != latest]
        s["milestones"].sort(key=lambda x: x["when"])
    order = {k: i for i, k in enumerate(SUBJECT_ORDER)}
    return sorted(subjects.values(), key=lambda s: (order.get(local(s["iri"]), 99), s["label"]))


def snapshot(as_of: str | None) -> dict:
    """Everything the home page says about the coalition on ``as_of`` (None: the latest the graph says)."""
    meetings = rows("list-meetings", as_of=as_of)
    coalition_meetings = [m for m in meetings if m.get("number") is not None]
    documents = [d for d in rows("list-documents", as_of=as_of) if d.get("date")]
    status = status_as_of(as_of)
    force = next((s for s in status if local(s["iri"]) == "mnf-u"), None)
    return {
        "as_of": as_of,
        "counts": counts_as_of(as_of),
        "members": rows("asof-members", as_of=as_of),
        "status": status,
        "force_status": [x["what"] for x in force["current"]] if force else [],
        "roles": rows("asof-roles", as_of=as_of),
        "command": rows("home-command"),
        "meetings_so_far": len(coalition_meetings),
        "latest_meetings": sorted(coalition_meetings, key=lambda m: (m.get("date") or "", m["number"]),
                                  reverse=True)[:5],
        "on_the_day": [m for m in meetings if as_of and m.get("date") == as_of],
        "latest_documents": sorted(documents, key=lambda d: d["date"], reverse=True)[:6],
    }


@bp.get("/")
def home():
    """The coalition at a glance (``?as_of=YYYY-MM-DD``: as the graph says it stood that day)."""
    as_of = check_date(request.args.get("as_of"))
    data = snapshot(as_of)
    doors = {"lists": [(b, url_for("browse.browse", name=b.name)) for b in LISTS.values()],
             "views": [(v, url_for("views." + ("map_view" if v.name == "map" else v.name))) for v in VIEWS.values()]}
    return render_template("home.html", s=data, as_of=as_of, as_of_label=human_date(as_of) if as_of else "",
                           presets=[(d, human_date(d)) for d in PRESETS], doors=doors, counts=list_counts(),
                           entries=entries, human_date=human_date, local=local)


@bp.get("/api/coalition")
def api_coalition():
    """The home page's facts as JSON: ``{as_of, counts, members, status, roles, command, meetings, documents}``.

    Each count kind carries ``stated`` (false: the source gives no count of that kind by then) and
    the date it is stated for; ``as_of`` absent means the latest the graph says."""
    as_of = check_date(request.args.get("as_of"))
    s = snapshot(as_of)
    return jsonify({"as_of": as_of, "counts": s["counts"], "members": s["members"], "status": s["status"],
                    "force_status": s["force_status"], "roles": s["roles"], "command": s["command"],
                    "coalition_meetings_so_far": s["meetings_so_far"], "latest_meetings": s["latest_meetings"],
                    "meetings_on_the_day": s["on_the_day"], "latest_documents": s["latest_documents"]})


@bp.get("/favicon.ico")
def favicon():
    """The site's icon (browsers ask for it at this path)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)


__all__ = ["bp", "counts_as_of", "snapshot", "status_as_of"]
