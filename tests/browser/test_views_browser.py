"""The analyst views in Debian's chromium (headless, through Playwright) against ``cowkg serve``.

Each view is loaded on a real server; the items it draws are counted in the page and compared with
the view's count query; a click leads to an entity page; the SVG and PNG downloads are produced;
a screenshot goes to test-artifacts/views-<name>.png. Every request the browser makes is recorded,
and none may leave 127.0.0.1.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from conftest import BACKENDS, ROOT, launch_chromium, loopback_only, name_shots, served_over, shot

STARMER = "https://w3id.org/cowkg/id/keir-starmer"
READY = "document.body.dataset.viewReady === 'true' || !!document.body.dataset.viewError"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """Every test of this module runs on the embedded store, then on Virtuoso (which answers the
    attendance matrix's computed booleans as integers, D1 in docs/VIRTUOSO.md)."""
    return request.param


@pytest.fixture(scope="module")
def live_server(backend, live_server, request):
    return served_over(backend, live_server, request)


@pytest.fixture(scope="module")
def browser(live_server):
    """One chromium for the module; yields (context factory state): context, base URL, requests seen."""
    seen: list[str] = []
    outside: list[str] = []
    with launch_chromium() as chromium:
        context = chromium.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)

        context.route("**/*", loopback_only(outside, seen))
        yield context, live_server, seen, outside
        context.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"


@pytest.fixture()
def page(browser, request):
    context, base, seen, outside = browser
    pg = context.new_page()
    name_shots(pg, request)
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg, base, errors
    pg.close()
    assert not errors, errors
    assert not outside, f"requests left 127.0.0.1: {outside}"


def count(base: str, name: str, var: str, **params) -> int:
    r = requests.get(f"{base}/api/views/{name}", params=params, timeout=30)
    r.raise_for_status()
    return int(r.json()["results"]["bindings"][0][var]["value"])


def rows(base: str, name: str, **params) -> list[dict]:
    r = requests.get(f"{base}/api/views/{name}", params=params, timeout=30)
    r.raise_for_status()
    return r.json()["results"]["bindings"]


def wait_until(pg, expression: str, timeout: float = 10) -> None:
    """Poll ``expression`` from the test: Playwright's wait_for_function re-evaluates a string with
    eval() inside the page, which the Content-Security-Policy (no 'unsafe-eval') blocks."""
    deadline = time.monotonic() + timeout
    while not pg.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {expression}"
        pg.wait_for_timeout(100)


def open_view(pg, base: str, path: str) -> dict:
    pg.goto(base + path)
    wait_until(pg, READY, timeout=20)
    assert not pg.evaluate("document.body.dataset.viewError || ''")
    return pg.evaluate("window.cowkgViewReady.counts")


def check_query_link(pg, name: str, text: str | None = None) -> None:
    href = pg.locator(f"a.view-query[data-query='{name}']").get_attribute("href")
    url = urlparse(href)
    assert url.path == "/query"
    expected = text if text is not None else (ROOT / "queries" / "views" / f"{name}.rq").read_text()
    assert parse_qs(url.query)["query"] == [expected]


def check_downloads(pg, name: str) -> None:
    with pg.expect_download() as svg_info:
        pg.click("button.download-svg")
    svg = Path(svg_info.value.path()).read_text()
    assert svg.startswith("<?xml") and "<svg" in svg
    with pg.expect_download() as png_info:
        pg.click("button.download-png")
    assert Path(png_info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert png_info.value.suggested_filename == f"cowkg-{name}.png"


def test_timeline_draws_every_dated_item_and_links_to_entity_pages(page):
    pg, base, _ = page
    drawn = open_view(pg, base, "/timeline")
    expected = count(base, "timeline-count", "items")
    assert drawn == {"items": expected, "drawn": expected}
    assert pg.locator("#timeline .tl-item").count() == expected
    assert pg.locator("#timeline-table tbody tr").count() == expected
    assert pg.locator("#timeline .vis-item.st-planned").count() >= 2, "plans are drawn apart"
    check_query_link(pg, "timeline")
    pg.screenshot(path=shot(pg, "views-timeline.png"))
    check_downloads(pg, "timeline")

    # Filters: the planned items only, then one actor.
    pg.uncheck("input[name=status][value=happened]")
    pg.uncheck("input[name=status][value=said]")
    planned = [r for r in rows(base, "timeline") if r["status"]["value"].rsplit("/", 1)[-1] in ("plan", "proposal")]
    assert pg.locator("#timeline .tl-item").count() == len(planned) == pg.locator("#timeline-table tbody tr").count()
    pg.check("input[name=status][value=happened]")
    pg.check("input[name=status][value=said]")
    pg.select_option("#actor-select", STARMER)
    with_starmer = [r for r in rows(base, "timeline") if f"<{STARMER}>" in r.get("actors", {}).get("value", "")]
    assert pg.locator("#timeline-table tbody tr").count() == len(with_starmer) > 0
    pg.select_option("#actor-select", "")

    # Dated status observations (e.g. the Paris headquarters named, as of November 2025) are a kind of their own.
    observations = [r for r in rows(base, "timeline") if r["kind"]["value"] == "status observation"]
    assert any(r["item"]["value"].endswith("/status-hq-paris-named-2025-11") for r in observations)
    assert pg.locator("#timeline-table tbody tr[data-iri$='/status-hq-paris-named-2025-11']").count() == 1
    pg.uncheck("input[name=kind][value='status observation']")
    left = expected - len(observations)
    assert pg.locator("#timeline .tl-item").count() == left == pg.locator("#timeline-table tbody tr").count()
    pg.check("input[name=kind][value='status observation']")
    assert pg.locator("#timeline .tl-item").count() == expected

    # Keyboard: focus the timeline, zoom in with "+".
    before = pg.evaluate("(() => { const w = cowkgTimeline.getWindow(); return w.end - w.start; })()")
    pg.focus("#timeline")
    pg.keyboard.press("+")
    after = pg.evaluate("(() => { const w = cowkgTimeline.getWindow(); return w.end - w.start; })()")
    assert after < before

    link = pg.locator("#timeline .tl-item a").first
    iri = link.get_attribute("title")
    link.click()
    pg.wait_for_url("**/page/**")
    assert pg.locator("article.entity").get_attribute("data-iri") == iri


def test_attendance_matrix_and_chart_equal_the_queries(page):
    pg, base, _ = page
    drawn = open_view(pg, base, "/attendance")
    parties = count(base, "attendance-count", "parties")
    cells = count(base, "attendance-count", "cells")
    meetings = rows(base, "attendance-per-meeting")
    assert drawn["rows"] == parties == pg.locator("#matrix tbody tr").count()
    assert drawn["cells"] == cells == pg.locator("#matrix td.cell:not(.empty)").count()
    other = {r["meeting"]["value"] for r in rows(base, "attendance")
             if r["coalition"]["value"] in ("false", "0")}  # "0": Virtuoso answers booleans as integers (D1)
    assert pg.locator("#matrix thead th.meeting").count() == len(meetings) + len(other)
    bars = pg.locator("#participants-chart g.participants-bar line, #participants-chart g.participants-missing line")
    assert bars.count() == len(meetings) == pg.locator("#participants-table tbody tr").count()
    # The membership standard: Albania (4 participations, membership recorded) is highlighted.
    albania = pg.locator("#matrix tbody tr[data-iri='https://w3id.org/cowkg/id/albania']")
    assert "standard" in albania.get_attribute("class") and albania.locator(".badge.member").count() == 1
    check_query_link(pg, "attendance")
    check_query_link(pg, "attendance-per-meeting")
    pg.screenshot(path=shot(pg, "views-attendance.png"), full_page=True)
    check_downloads(pg, "attendance")

    # Sorting from the keyboard: focus the name column's button and press Enter.
    pg.focus("#matrix th[data-sort=label] button")
    pg.keyboard.press("Enter")
    assert pg.locator("#matrix th[data-sort=label]").get_attribute("aria-sort") == "descending"
    names = pg.locator("#matrix tbody th.party a").all_inner_texts()
    assert names == sorted(names, reverse=True)

    cell = pg.locator("#matrix td.cell:not(.empty) a").first
    target = cell.get_attribute("href")
    cell.click()
    pg.wait_for_url("**" + target)
    assert pg.locator("article.entity").count() == 1


def test_entity_graph_draws_the_neighbourhood_and_expands_on_click(page):
    pg, base, _ = page
    drawn = open_view(pg, base, "/graph?iri=" + STARMER)
    links = count(base, "entity-graph-count", "links", iri=STARMER)
    neighbours = count(base, "entity-graph-count", "neighbours", iri=STARMER)
    assert drawn == {"nodes": neighbours + 1, "edges": links, "shown": neighbours + 1, "more": 0}
    assert pg.evaluate("cowkgGraph.overlaps()") == [], "labels of the nodes drawn overlap"
    assert pg.locator("#links-table tbody tr").count() == links
    text = (ROOT / "queries" / "views" / "entity-graph.rq").read_text().replace(
        "VALUES ?iri { cowr:coalition }", f"VALUES ?iri {{ <{STARMER}> }}")
    check_query_link(pg, "entity-graph", text)
    pg.screenshot(path=shot(pg, "views-graph.png"))
    check_downloads(pg, "graph")

    # Click the node of the United Kingdom on the canvas: it expands and shows its details.
    uk = "https://w3id.org/cowkg/id/united-kingdom"
    box = pg.locator("#cy").bounding_box()
    pos = pg.evaluate(f"cowkgGraph.cy().getElementById('{uk}').renderedPosition()")
    pg.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
    wait_until(pg, f"cowkgGraph.cy().getElementById('{uk}').hasClass('expanded')")
    uk_links = count(base, "entity-graph-count", "links", iri=uk)
    total = pg.evaluate("cowkgGraph.cy().edges().length")
    assert total > links and total <= links + uk_links
    pg.click("#entity-page-link")
    pg.wait_for_url("**/page/united-kingdom")
    assert pg.locator("article.entity").get_attribute("data-iri") == uk


def positions(place_rows: list[dict]) -> dict[str, tuple[float, float]]:
    """The query's rows that have a position: place IRI → (latitude, longitude)."""
    return {r["place"]["value"]: (float(r["lat"]["value"]), float(r["lon"]["value"]))
            for r in place_rows if "lat" in r and "lon" in r}


def drawn_markers(pg) -> dict[str, tuple[float, float]]:
    """The markers on the map: place IRI → the (latitude, longitude) each was drawn at."""
    found = pg.eval_on_selector_all("#map a.marker", "ms => ms.map(m => [m.dataset.iri, m.dataset.lat, m.dataset.lon])")
    assert len({iri for iri, _, _ in found}) == len(found), "one marker per place"
    return {iri: (float(lat), float(lon)) for iri, lat, lon in found}


def test_map_draws_a_marker_for_each_place_the_graph_positions(page):
    """Markers come from the places query's ?lat/?lon (the graph's schema:geo nodes), one per row with
    a position, at that position; every place, positioned or not, is a row of the table."""
    pg, base, _ = page
    drawn = open_view(pg, base, "/map")
    places = count(base, "places-count", "places")
    expected = positions(rows(base, "places"))
    assert len(expected) == places, "every place of the shipped data has a position in data/geo.ttl"
    assert drawn == {"places": places, "markers": len(expected), "unplaced": places - len(expected)}
    assert drawn_markers(pg) == expected
    assert pg.locator("#places-table tbody tr").count() == places
    assert len(pg.locator("#map path.land").get_attribute("d")) > 10_000, "country shapes drawn from world-atlas"
    check_query_link(pg, "places")
    pg.screenshot(path=shot(pg, "views-map.png"))
    check_downloads(pg, "map")

    # Keyboard: the markers are links; zoom with "+" on the focused map.
    pg.focus("#map")
    pg.keyboard.press("+")
    pg.click("button[aria-label='Show on map: Paris']")
    marker = pg.locator("#map a.marker[data-iri='https://w3id.org/cowkg/id/paris']")
    marker.focus()
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/page/paris")
    assert pg.locator("article.entity").get_attribute("data-iri") == "https://w3id.org/cowkg/id/paris"


def test_map_lists_a_place_without_a_position_in_the_table_only(page):
    """A place the query returns without ?lat/?lon gets no marker and a table row saying so (the
    shipped data positions every place, so the answer is edited on its way to the page)."""
    pg, base, _ = page
    dropped = "https://w3id.org/cowkg/id/black-sea"

    def without_position(route):
        response = route.fetch()
        body = response.json()
        for b in body["results"]["bindings"]:
            if b["place"]["value"] == dropped:
                b.pop("lat"), b.pop("lon")
        route.fulfill(response=response, json=body)

    pg.route(lambda url: urlparse(url).path == "/api/views/places", without_position)
    drawn = open_view(pg, base, "/map")
    places = count(base, "places-count", "places")
    assert drawn == {"places": places, "markers": places - 1, "unplaced": 1}
    markers = drawn_markers(pg)
    assert dropped not in markers and len(markers) == places - 1
    row = pg.locator("#places-table tbody tr").filter(has=pg.locator("td:first-child a[href$='/page/black-sea']"))
    assert row.count() == 1 and "no position in the graph" in row.inner_text()
    assert "1 without a position in the graph" in pg.locator(".view-status").inner_text()


def test_no_request_left_the_machine(browser):
    _, _, seen, outside = browser
    assert seen and not outside
    assert all(url.startswith(("data:", "blob:")) or urlparse(url).hostname == "127.0.0.1" for url in seen)


def test_entity_graph_of_a_busy_entity_opens_on_a_readable_subset(page):
    """The coalition has 126 neighbours: the view draws its states, people, places and meetings, puts
    records behind "+ N more" nodes (one per class), draws no label over another, and opens a class on
    a click; the class boxes hide and show a class."""
    pg, base, _ = page
    drawn = open_view(pg, base, "/graph")
    neighbours = count(base, "entity-graph-count", "neighbours", iri="https://w3id.org/cowkg/id/coalition")
    assert drawn["nodes"] == neighbours + 1 and drawn["shown"] <= 40 and drawn["more"] >= 5
    assert pg.evaluate("cowkgGraph.overlaps()") == []
    shown = pg.evaluate("cowkgGraph.cy().nodes(':visible').not('.more').map(n => n.data('cls'))")
    assert {"State", "Coalition"} <= set(shown)
    more = pg.evaluate("cowkgGraph.cy().getElementById('more:Statement').data('label')")
    assert more.startswith("+ ") and "more Statement" in more
    before = len(shown)
    pg.evaluate("cowkgGraph.unfold('Statement')")
    after = pg.evaluate("cowkgGraph.cy().nodes(':visible').not('.more').length")
    assert after == before + int(more.split()[1])
    assert pg.evaluate("cowkgGraph.overlaps()") == []
    pg.uncheck("#graph-legend input[data-class='Statement']")
    assert pg.evaluate("cowkgGraph.cy().nodes(':visible').filter(n => n.data('cls') === 'Statement').length") == 0
    pg.screenshot(path=shot(pg, "views-graph-coalition.png"))


def test_map_labels_every_place_it_has_room_for_and_never_one_over_another(page):
    """At the default (Europe) zoom and zoomed on London: no two labels overlap; zoomed on London,
    every London venue has its label (they had none before)."""
    pg, base, _ = page
    open_view(pg, base, "/map")

    def overlapping(boxes):
        return [(a["label"], b["label"]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
                if min(a["x2"], b["x2"]) - max(a["x1"], b["x1"]) > 0.5
                and min(a["y2"], b["y2"]) - max(a["y1"], b["y1"]) > 0.5]

    boxes = pg.evaluate("cowkgMap.labelBoxes()")
    assert {"London", "Paris", "Kyiv"} <= {b["label"] for b in boxes} and overlapping(boxes) == []
    pg.click("button[data-region='london']")
    pg.wait_for_timeout(600)
    boxes = pg.evaluate("cowkgMap.labelBoxes()")
    assert overlapping(boxes) == []
    venues = {r["label"]["value"] for r in rows(base, "places") if r["class"]["value"].endswith("#Venue")
              and r.get("withinLabel", {}).get("value") in ("London", "Westminster")}
    assert venues and venues <= {b["label"] for b in boxes}, venues - {b["label"] for b in boxes}
    pg.screenshot(path=shot(pg, "views-map-london.png"))


def test_views_focus_the_entity_they_are_opened_for(page):
    """Entity pages link to every view with ?focus=<iri>: the timeline filters on an actor, the
    attendance matrix marks a party's row, the map zooms to a place."""
    pg, base, _ = page
    open_view(pg, base, "/timeline?focus=" + STARMER)
    assert pg.locator("#actor-select").input_value() == STARMER
    with_starmer = [r for r in rows(base, "timeline") if f"<{STARMER}>" in r.get("actors", {}).get("value", "")]
    assert pg.locator("#timeline-table tbody tr").count() == len(with_starmer) > 0
    open_view(pg, base, "/attendance?focus=https://w3id.org/cowkg/id/albania")
    assert "focused" in pg.locator("#matrix tbody tr[data-iri='https://w3id.org/cowkg/id/albania']").get_attribute("class")
    open_view(pg, base, "/map?focus=https://w3id.org/cowkg/id/paris")
    assert pg.locator("#map a.marker.focused").get_attribute("data-iri") == "https://w3id.org/cowkg/id/paris"
    assert "Paris" in pg.locator(".view-status").inner_text()


def test_attendance_chart_labels_do_not_overlap(page):
    pg, base, _ = page
    open_view(pg, base, "/attendance")
    boxes = pg.evaluate("""() => Array.from(document.querySelectorAll('#participants-chart svg text'))
        .map(t => { const b = t.getBoundingClientRect(); return [t.textContent, b.left, b.top, b.right, b.bottom]; })
        .filter(b => b[3] > b[1])""")
    clashes = [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1:]
               if min(a[3], b[3]) - max(a[1], b[1]) > 0.5 and min(a[4], b[4]) - max(a[2], b[2]) > 0.5]
    assert clashes == []
