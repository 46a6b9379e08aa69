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
from conftest import ROOT, require

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
    app.extensions["cowkg_pool"].close()


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
