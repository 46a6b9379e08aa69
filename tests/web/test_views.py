"""The analyst views (cowkg.web.views): pages, and JSON/CSV endpoints that equal the SPARQL results.

Every named query of ``queries/views/`` answers at ``/api/views/<name>`` exactly what the SPARQL
endpoint answers for the same text; the count queries agree with the rows the views draw; the
entity-graph query takes its IRI safely; the places query gives every place its position from the graph.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import BACKENDS, ROOT, require

from cowkg.web.views import VIEWS, bind_iri, check_iri

QUERIES = sorted(p.stem for p in (ROOT / "queries" / "views").glob("*.rq"))
STARMER = "https://w3id.org/cowkg/id/keir-starmer"


@pytest.fixture(scope="module")
def vclient(tmp_path_factory):
    """A test client on the shipped data (asserted graphs only: the view queries need no inference)."""
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.store import open_project
    from cowkg.web import create_app

    kg = open_project(ROOT, with_inference=False)
    app = create_app({"root": str(ROOT)}, backend=EmbeddedBackend(kg))
    yield app.test_client()
    app.extensions["cowkg"].pool.close()


def sparql_json(client, query: str) -> dict:
    r = client.post("/sparql", data={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


def values(result: dict) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in b.items()} for b in result["results"]["bindings"]]


def first_number(client, name: str, var: str, **params) -> int:
    r = client.get(f"/api/views/{name}", query_string=params)
    assert r.status_code == 200
    return int(values(r.get_json())[0][var])


def test_every_view_has_its_named_queries_and_count_queries():
    for view in VIEWS.values():
        for name in view.queries:
            assert name in QUERIES, f"{view.name} draws queries/views/{name}.rq"
    for name in ("timeline-count", "attendance-count", "entity-graph-count", "places-count"):
        assert name in QUERIES
    for name in QUERIES:
        head = (ROOT / "queries" / "views" / f"{name}.rq").read_text().splitlines()[:2]
        assert head[0].startswith("# title: ") and head[1].startswith("# description: "), name


@pytest.mark.parametrize("name", QUERIES)
def test_api_answers_what_the_sparql_endpoint_answers(vclient, name):
    text = (ROOT / "queries" / "views" / f"{name}.rq").read_text()
    r = vclient.get(f"/api/views/{name}")
    assert r.status_code == 200
    assert r.mimetype == "application/sparql-results+json"
    assert r.get_json() == sparql_json(vclient, text)
    assert int(r.headers["X-Cowkg-Rows"]) == len(r.get_json()["results"]["bindings"])


@pytest.mark.parametrize("name", ["timeline", "attendance", "places"])
def test_csv_download_has_the_same_rows(vclient, name):
    as_json = values(vclient.get(f"/api/views/{name}").get_json())
    r = vclient.get(f"/api/views/{name}?format=csv")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name}.csv"'
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == len(as_json) > 0
    assert [row[next(iter(row))] for row in rows] == [row[next(iter(row))] for row in as_json]


def test_timeline_items_are_dated_in_range_with_lanes_and_statuses(vclient):
    rows = values(vclient.get("/api/views/timeline").get_json())
    assert len(rows) == first_number(vclient, "timeline-count", "items")
    assert len({r["item"] for r in rows}) == len(rows)
    assert all("2024-11" <= r["start"] < "2026" for r in rows)
    assert {r["lane"] for r in rows} <= {"coalition meetings", "other meetings and events", "documents and plans",
                                         "statements, reports and views", "pledges", "statuses (as of)"}
    statuses = {r.get("status", "").rsplit("/", 1)[-1] for r in rows}
    assert {"fact", "plan", "proposal", "claim"} <= statuses
    meetings = [r for r in rows if r["lane"] == "coalition meetings"]
    assert len(meetings) == 14
    # Plans never carry cow:date: a planned item's date comes from cow:plannedDate.
    planned = {r["item"].rsplit("/", 1)[-1] for r in rows if r.get("status", "").endswith("/plan")}
    assert "event-2025-03-24-planning-days" in planned


def test_timeline_includes_dated_status_observations_as_their_own_kind(vclient):
    """HQ and force milestones recorded as cow:StatusObservation (dated by cow:asOf) are timeline items."""
    observations = values(sparql_json(vclient, """SELECT ?o (STR(?d) AS ?asOf) WHERE {
        ?o a cow:StatusObservation . OPTIONAL { ?o cow:asOf ?d } }"""))
    in_range = {r["o"] for r in observations if "2024-11" <= r.get("asOf", "") < "2026"}
    assert "https://w3id.org/cowkg/id/status-hq-paris-named-2025-11" in in_range
    rows = {r["item"]: r for r in values(vclient.get("/api/views/timeline").get_json())}
    assert in_range <= set(rows)
    assert {o["o"] for o in observations} - in_range, "an undated observation exists and stays out"
    assert not ({o["o"] for o in observations} - in_range) & set(rows)
    paris = rows["https://w3id.org/cowkg/id/status-hq-paris-named-2025-11"]
    assert (paris["start"], paris["kind"], paris["lane"]) == ("2025-11", "status observation", "statuses (as of)")
    assert {a.rsplit(" ", 1)[-1] for a in paris["actors"].splitlines()} == {  # what it is about
        "<https://w3id.org/cowkg/id/hq-paris>", "<https://w3id.org/cowkg/id/mnf-u>"}
    assert {rows[i]["kind"] for i in in_range} == {"status observation"}
    assert len(rows) == first_number(vclient, "timeline-count", "items")


def test_attendance_cells_count_and_membership_standard(vclient):
    rows = values(vclient.get("/api/views/attendance").get_json())
    cells = {(r["party"], r["meeting"]) for r in rows}
    assert len(cells) == first_number(vclient, "attendance-count", "cells")
    assert {r["required"] for r in rows} == {"3"}
    albania = [r for r in rows if r["party"].endswith("/albania") and r["coalition"] == "true"]
    assert len(albania) == 4 and {r["memberStated"] for r in albania} == {"true"}
    absent = [r for r in rows if r["present"] == "false"]
    assert absent and all("level" not in r for r in absent)
    per = values(vclient.get("/api/views/attendance-per-meeting").get_json())
    assert [int(r["meetingNumber"]) for r in per] == list(range(1, 15))


def test_entity_graph_takes_an_iri_and_agrees_with_its_count(vclient):
    r = vclient.get("/api/views/entity-graph", query_string={"iri": STARMER})
    rows = values(r.get_json())
    assert rows and all(STARMER in (row["s"], row["o"]) for row in rows)
    neighbours = {row["o"] if row["s"] == STARMER else row["s"] for row in rows}
    assert len(neighbours) == first_number(vclient, "entity-graph-count", "neighbours", iri=STARMER)
    assert len(rows) == first_number(vclient, "entity-graph-count", "links", iri=STARMER)
    text = bind_iri((ROOT / "queries" / "views" / "entity-graph.rq").read_text(), STARMER)
    assert r.get_json() == sparql_json(vclient, text)


@pytest.mark.parametrize("iri", ["not an iri", "https://x.org/a>} ; DROP", "relative/path", 'https://x.org/"q"', ""])
def test_entity_graph_refuses_iris_that_could_break_the_query(vclient, iri):
    r = vclient.get("/api/views/entity-graph", query_string={"iri": iri})
    assert r.status_code == 400
    assert r.get_json()["error"] == "bad-request"
    assert vclient.get("/graph", query_string={"iri": iri}).status_code == 400


def test_check_and_bind_iri():
    assert check_iri(STARMER) == STARMER
    query = "SELECT * WHERE {\n  VALUES ?iri { cowr:coalition }\n  ?iri ?p ?o }"
    assert "VALUES ?iri { <https://w3id.org/cowkg/id/keir-starmer> }" in bind_iri(query, STARMER)


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_unknown_view_query_404_names_the_queries_without_server_paths(vclient, accept):
    r = vclient.get("/api/views/no-such-query", headers={"Accept": accept})
    assert r.status_code == 404 and r.mimetype == accept
    body = r.get_data(as_text=True)
    assert str(ROOT) not in body and "queries/views" not in body and str(ROOT.parent) not in body
    assert "timeline" in body and "entity-graph-count" in body


def test_error_bodies_never_show_the_server_root(vclient):
    """A library error that names a file under the project root shows the path relative to it."""
    from cowkg.errors import NotFound
    from cowkg.web.errors import render_error

    with vclient.application.test_request_context("/x", headers={"Accept": "application/json"}):
        body = NotFound(f"no file {ROOT}/queries/x.rq", hint=f"see {ROOT}/queries").as_dict()
        text = render_error(body).get_data(as_text=True)
    assert str(ROOT) not in text and "queries/x.rq" in text


@pytest.mark.parametrize("accept, mimetype", [("application/json", "application/json"),
                                              ("text/html,*/*;q=0.8", "text/html")])
def test_graph_of_an_iri_not_in_the_data_is_404(vclient, accept, mimetype):
    r = vclient.get("/graph", query_string={"iri": "https://example.org/not-in-the-data"}, headers={"Accept": accept})
    assert r.status_code == 404 and r.mimetype == mimetype
    if mimetype == "application/json":
        assert r.get_json()["error"] == "not-found"
        assert r.get_json()["message"] == "no IRI <https://example.org/not-in-the-data> in this dataset"
    else:
        assert "404 · not-found" in r.get_data(as_text=True)
    assert vclient.get("/graph", query_string={"iri": STARMER}).status_code == 200
    assert vclient.get("/graph").status_code == 200  # the default entity, the coalition


def test_unknown_view_query_is_404_and_iri_only_where_taken(vclient):
    assert vclient.get("/api/views/no-such-query").status_code == 404
    assert vclient.get("/api/views/..%2Fq01-meetings-by-date").status_code == 404
    assert vclient.get("/api/views/timeline", query_string={"iri": STARMER}).status_code == 400
    assert vclient.get("/api/views/timeline?format=yaml").status_code == 400


@pytest.mark.parametrize("path, queries", [("/timeline", ["timeline"]),
                                           ("/attendance", ["attendance", "attendance-per-meeting"]),
                                           ("/graph?iri=" + STARMER, ["entity-graph"]), ("/map", ["places"])])
def test_view_pages_link_their_queries_downloads_and_local_assets(vclient, path, queries):
    r = vclient.get(path)
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    config = json.loads(re.search(r'<script type="application/json" id="view-config">(.*?)</script>', html, re.S)
                        .group(1))
    assert sorted(config["queries"]) == sorted(queries)
    for name, q in config["queries"].items():
        text = (ROOT / "queries" / "views" / f"{name}.rq").read_text()
        if "iri=" in path:
            text = bind_iri(text, STARMER)
        ui = urlparse(q["ui"])
        assert ui.path == "/query" and parse_qs(ui.query)["query"] == [text]
        assert q["csv"].startswith(f"/api/views/{name}?") and "format=csv" in q["csv"]
    assert 'class="download-svg"' in html and 'class="download-png"' in html
    assert "View the query" in html
    for src in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not src.startswith(("http:", "https:", "//")), f"{path} loads {src} from another origin"


def test_map_positions_come_from_the_graph_for_every_place(vclient):
    """The map draws ?lat/?lon of the places query (data/geo.ttl), not a hand-made table beside the graph."""
    rows = values(vclient.get("/api/views/places").get_json())
    assert rows and [r["place"] for r in rows if "lat" not in r or "lon" not in r] == []
    for r in rows:
        assert -90 <= float(r["lat"]) <= 90 and -180 <= float(r["lon"]) <= 180
    assert not (ROOT / "cowkg" / "web" / "static" / "views" / "place-coords.json").exists()
    html = vclient.get("/map").get_data(as_text=True)
    assert "place-coords" not in html


def test_vendor_assets_the_views_load_are_built(vclient):
    manifest = ROOT / "cowkg" / "web" / "static" / "vendor" / "manifest.json"
    require(manifest.exists(), "frontend assets not built (scripts/setup.sh runs npm run build)")
    built = json.loads(manifest.read_text())
    for asset in ("vis-timeline/vis-timeline-graph2d.min.js", "d3/d3.min.js", "plot/plot.umd.min.js",
                  "cytoscape/cytoscape.min.js", "topojson-client/topojson-client.min.js",
                  "world-atlas/countries-50m.json"):
        assert asset in built
        r = vclient.get("/static/vendor/" + asset)
        assert r.status_code == 200
        r.close()
    assert Path(ROOT / "frontend" / "package.json").read_text().count('"world-atlas"') == 1


# --- issue 14: the coalition as of a date ---------------------------------------------------------

@pytest.fixture(scope="module", params=BACKENDS)
def aclient(request, vclient):
    """The app on the shipped data over each backend: the embedded store (``vclient``), then the
    session's Virtuoso holding the project's graphs (a RemoteSparqlBackend)."""
    if request.param == "embedded":
        yield vclient
        return
    from cowkg.backends.virtuoso import RemoteSparqlBackend
    from cowkg.web import create_app

    endpoint = request.getfixturevalue("virtuoso_server").ensure(
        "project", request.getfixturevalue("project_graphs")).endpoint
    app = create_app({"root": str(ROOT)}, backend=RemoteSparqlBackend(endpoint))
    yield app.test_client()
    app.extensions["cowkg"].pool.close()

#
# The expected answers are written by hand from the article (../shared/seed/000_cd87492ed5ae2ee9.txt,
# ../shared/reference/fact-inventory.md), not read from the graph:
# - members: 35 countries "as of" December 2025 (lead, L36, F-MEMB-01): stated from December 2025 on;
#   the article gives no member count for an earlier date (the 26 of 15 March are leaders at a
#   meeting, the 26 of 4 September troop pledgers, AMB-01);
# - committed countries: 34, confirmed at the meeting of 25 November 2025 (L113, F-MEMB-02);
# - nations pledging troops: 26, Macron's announcement after the Paris summit of 4 September 2025
#   (L75, F-TIME-36), a claim;
# - founders: 16 nations and 2 organisations, at the founding on 2 March 2025 (infobox, F-INFO-10);
# - expected size: more than 30 countries, a forecast of 17 March 2025 (F-MEMB-06), a claim.
AS_OF_COUNTS = {
    "2025-03-15": {"members": None, "committedCountries": None, "founders": [16, 12, 2, 2], "expectedSize": None,
                   "troopPledgers": None},
    "2025-09-04": {"members": None, "committedCountries": None, "founders": [16, 12, 2, 2], "expectedSize": [30],
                   "troopPledgers": [26]},
    "2025-11-25": {"members": None, "committedCountries": [34], "founders": [16, 12, 2, 2], "expectedSize": [30],
                   "troopPledgers": [26]},
    "2025-12-11": {"members": [35], "committedCountries": [34], "founders": [16, 12, 2, 2], "expectedSize": [30],
                   "troopPledgers": [26]},
}
#: The meeting held on each of those days and the participants the article gives for it (F-TIME-08:
#: leaders of 26 countries on 15 March; F-MEET-11-N, -13-N: 35 countries; #14: the cell was lost).
MEETING_ON_THE_DAY = {"2025-03-15": ("meeting-02", 26), "2025-09-04": ("meeting-11", 35),
                      "2025-11-25": ("meeting-13", 35), "2025-12-11": ("meeting-14", None)}


def coalition(client, as_of: str) -> dict:
    r = client.get("/api/coalition", query_string={"as_of": as_of})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.mark.parametrize("as_of", sorted(AS_OF_COUNTS))
def test_as_of_member_counts_match_the_article(aclient, as_of):
    data = coalition(aclient, as_of)
    counts = {c["scope"]: c for c in data["counts"]}
    for scope, expected in AS_OF_COUNTS[as_of].items():
        if expected is None:
            assert scope not in counts or not counts[scope]["stated"], (as_of, scope, counts.get(scope))
        else:
            assert counts[scope]["stated"] and counts[scope]["when"] <= as_of
            assert sorted((v["value"] for v in counts[scope]["values"]), reverse=True) == expected, (as_of, scope)
    assert counts["members"]["stated"] == (as_of >= "2025-12")
    # The page says the same, with "not stated" where the source is silent.
    html = aclient.get("/", query_string={"as_of": as_of}).get_data(as_text=True)
    members = re.search(r'<dd data-scope="members".*?</dd>', html, re.S).group(0)
    committed = re.search(r'<dd data-scope="committedCountries".*?</dd>', html, re.S).group(0)
    if as_of >= "2025-12":
        assert "<strong>35</strong> countries" in members and "as of December 2025" in members
    else:
        assert "not stated" in members and "35" not in members
    if as_of >= "2025-11-25":
        assert "<strong>34</strong> countries" in committed and "as of 25 November 2025" in committed
    else:
        assert "not stated" in committed
    slug, participants = MEETING_ON_THE_DAY[as_of]
    on_the_day = [m for m in data["meetings_on_the_day"] if m["item"].endswith("/" + slug)]
    assert len(on_the_day) == 1 and on_the_day[0].get("participants") == participants
    assert f'href="/page/{slug}"' in re.search(r"On this day:.*?</p>", html, re.S).group(0)


def test_as_of_named_members_follow_their_dates(aclient):
    """Founders (Turkey, Ukraine, EU, NATO) from 2 March 2025 (F-INFO-11); Japan announced as joined on
    15 March 2025, a claim by Starmer (F-MEMB-20); Albania a member as of November 2025 (F-MEMB-16)."""
    def named(as_of):
        return {r["party"].rsplit("/", 1)[-1]: r["basis"] for r in coalition(aclient, as_of)["members"]}

    founders = {"turkey": "founder", "ukraine": "founder", "european-union": "founder", "nato": "founder"}
    assert named("2025-03-01") == {}
    assert named("2025-03-14") == founders
    assert named("2025-03-15") == {**founders, "japan": "announced"}
    assert named("2025-10-31") == {**founders, "japan": "announced"}
    assert named("2025-11-25") == {**founders, "japan": "announced", "albania": "membership"}


def test_as_of_the_force_and_its_headquarters_before_and_after_17_november(aclient):
    """The Paris joint command HQ was established in September 2025 and formally inaugurated on
    17 November 2025 (L74, L76, F-HQ-01, F-HQ-05); the force was "in planning" as of November 2025
    (F-MNFU-20) and "not mandated" as of December 2025 (F-MNFU-19); nothing on the force before."""
    def status(as_of):
        return {s["iri"].rsplit("/", 1)[-1]: s for s in coalition(aclient, as_of)["status"]}

    october = status("2025-10-15")
    assert "mnf-u" not in october  # the force's status is not stated before November 2025
    assert [m["what"] for m in october["hq-paris"]["milestones"]] == ["established"]
    before = status("2025-11-16")
    assert [m["what"] for m in before["hq-paris"]["milestones"]] == ["established"]
    assert [m["when"] for m in before["hq-paris"]["milestones"]] == ["2025-09"]
    assert {x["what"] for x in before["mnf-u"]["current"]} == {"in planning", "articulated"}
    for day in ("2025-11-17", "2025-11-18"):
        after = status(day)
        assert [(m["what"], m["when"]) for m in after["hq-paris"]["milestones"]] == [
            ("established", "2025-09"), ("formally inaugurated", "2025-11-17")]
    december = status("2025-12-11")
    assert "not mandated" in {x["what"] for x in december["mnf-u"]["current"]}
    assert {x["when"] for x in december["mnf-u"]["current"]} == {"2025-12"}
    html = aclient.get("/", query_string={"as_of": "2025-11-16"}).get_data(as_text=True)
    assert "Formally inaugurated" not in html and "Established: <strong>September 2025</strong>" in html
    html = aclient.get("/", query_string={"as_of": "2025-11-17"}).get_data(as_text=True)
    assert "Formally inaugurated: <strong>17 November 2025</strong>" in html
    html = aclient.get("/", query_string={"as_of": "2025-10-15"}).get_data(as_text=True)
    assert "The force's status: not stated by this date." in html


def test_as_of_is_a_parameter_of_the_views_api(aclient):
    r = aclient.get("/api/views/asof-counts", query_string={"as_of": "2025-11-25"})
    assert r.status_code == 200
    scopes = {row["scope"].rsplit("/", 1)[-1]: row["value"] for row in values(r.get_json())}
    assert scopes["committedCountries"] == "34" and "members" not in scopes
    text = (ROOT / "queries" / "views" / "asof-counts.rq").read_text().replace('"9999-12-31"', '"2025-11-25"')
    assert r.get_json() == sparql_json(aclient, text)
    assert aclient.get("/api/views/asof-counts", query_string={"as_of": "2025-13-01"}).status_code == 400
    assert aclient.get("/api/views/asof-counts", query_string={"as_of": "25/11/2025"}).status_code == 400
    assert aclient.get("/api/views/timeline", query_string={"as_of": "2025-11-25"}).status_code == 400
    assert aclient.get("/", query_string={"as_of": "yesterday"}).status_code == 400


# --- issue 14: browse without SPARQL --------------------------------------------------------------

LISTS = ("meetings", "states", "people", "organisations", "documents", "statements", "pledges", "places")


def browse(client, name: str, **params) -> dict:
    r = client.get(f"/browse/{name}", query_string={**params, "format": "json"})
    assert r.status_code == 200, r.get_data(as_text=True)
    return r.get_json()


@pytest.mark.parametrize("name", LISTS)
def test_each_list_is_its_named_query_and_each_facet_count_is_what_filtering_shows(aclient, name):
    listed = values(aclient.get(f"/api/views/list-{name}").get_json())
    page = browse(aclient, name)
    assert page["total"] == page["shown"] == len(listed) > 0
    assert sorted(r["item"] for r in page["rows"]) == sorted(r["item"] for r in listed)
    items = {r["item"] for r in listed}
    assert page["facets"], name
    for facet in page["facets"]:
        pairs = values(aclient.get(f"/api/views/facet-{name}-{facet['name']}").get_json())
        for v in facet["values"]:
            having = {p["item"] for p in pairs if p["value"] == v["value"]} & items
            assert v["count"] == len(having) > 0, (name, facet["name"], v)
        top = facet["values"][0]
        chosen = browse(aclient, name, **{facet["name"]: top["value"]})
        assert chosen["shown"] == top["count"]
        assert {r["item"] for r in chosen["rows"]} == {p["item"] for p in pairs if p["value"] == top["value"]} & items
    html = aclient.get(f"/browse/{name}").get_data(as_text=True)
    assert f"{len(listed)} of {len(listed)}" in html
    assert html.count('<tr data-iri="') == len(listed)
    assert 'href="/query?query=' in html and f"queries/views/list-{name}.rq" in html


def test_list_filters_combine_and_csv_json_give_what_is_shown(aclient):
    macron = "https://w3id.org/cowkg/id/emmanuel-macron"
    page = browse(aclient, "meetings", host=macron, sort="date", order="desc")
    assert [r["number"] for r in page["rows"]] == [13, 11, 8, 3]  # F-MEET-03/08/11/13-H
    host_facet = next(f for f in page["facets"] if f["name"] == "host")
    assert next(v["count"] for v in host_facet["values"] if v["value"] == macron) == 4
    assert len(host_facet["values"]) > 1, "choosing a host keeps the other hosts on offer"
    virtual = browse(aclient, "meetings", host=macron, mode="virtual")
    assert [r["number"] for r in virtual["rows"]] == [13]
    dated = browse(aclient, "meetings", **{"from": "2025-09-01", "to": "2025-09-30"})
    assert [r.get("number") for r in dated["rows"]] == [10, 11]
    text = browse(aclient, "pledges", q="portugal")
    assert {r["item"].rsplit("/", 1)[-1] for r in text["rows"]} == {"pledge-portugal-226m", "pledge-portugal-training"}
    r = aclient.get("/browse/meetings", query_string={"host": macron, "sort": "date", "order": "desc", "format": "csv"})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="cowkg-meetings.csv"'
    lines = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert [line["No."] for line in lines] == ["13", "11", "8", "3"]
    assert lines[0]["Meeting (IRI)"] == "https://w3id.org/cowkg/id/meeting-13"
    assert aclient.get("/browse/meetings", query_string={"sort": "nonsense"}).status_code == 400
    assert aclient.get("/browse/meetings", query_string={"format": "yaml"}).status_code == 400
    assert aclient.get("/browse/nothing").status_code == 404


def test_lists_as_of_a_date(aclient):
    """As of 4 September 2025 eleven numbered meetings had been held (the table's rows 1-11, F-MEET-*-D);
    as of 24 October 2025 Albania had attended three coalition meetings (F-MEMB-ALB1..3)."""
    meetings = browse(aclient, "meetings", as_of="2025-09-04")
    assert sorted(r["number"] for r in meetings["rows"] if "number" in r) == list(range(1, 12))
    assert all(r.get("date", "") <= "2025-09-04" for r in meetings["rows"])
    states = {r["item"].rsplit("/", 1)[-1]: r for r in browse(aclient, "states", as_of="2025-10-24")["rows"]}
    assert states["albania"]["attended"] == 3
    assert {r["item"].rsplit("/", 1)[-1]: r for r in browse(aclient, "states")["rows"]}["albania"]["attended"] == 4
    html = aclient.get("/browse/meetings", query_string={"as_of": "2025-09-04"}).get_data(as_text=True)
    assert "as of 4 September 2025" in html
