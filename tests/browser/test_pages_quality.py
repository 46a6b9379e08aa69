"""Every page in Debian's chromium at 1,366 and 390 px (issue 14): axe-core finds no serious or critical
accessibility violation, nothing is wider than the window, no request leaves 127.0.0.1, the
Content-Security-Policy refuses nothing, no script fails; a screenshot of each page at both widths
goes to test-artifacts/page-<name>-<width>.png. The keyboard reaches and works every control.

axe-core comes from the npm package (frontend/package.json); frontend/build.mjs copies it to
static/vendor/axe-core/, so the page loads it from its own origin like any other script.
"""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from conftest import ROOT, launch_chromium, loopback_only, name_shots, require, shot

WIDTHS = (1366, 390)
AXE = "/static/vendor/axe-core/axe.min.js"
COWR = "https://w3id.org/cowkg/id/"

#: Every kind of page, by name: home (also as of a date), each list (also filtered), entity pages of
#: each kind, search, the query editor, the four views, downloads, ontology, VoID, the endpoint, a 404.
PAGES = {
    "home": "/", "home-as-of": "/?as_of=2025-11-25", "browse": "/browse/",
    **{f"list-{n}": f"/browse/{n}" for n in ("meetings", "states", "people", "organisations", "documents",
                                           "statements", "pledges", "places")},
    "list-filtered": "/browse/meetings?mode=virtual&as_of=2025-12-31&sort=date&order=desc",
    "person": "/page/emmanuel-macron", "meeting": "/page/meeting-11", "state": "/page/albania",
    "place": "/page/paris", "statement": "/page/statement-macron-2025-09-04-troop-pledges",
    "document": "/page/doc-lancaster-declaration", "force": "/page/mnf-u",
    "term": "/page?iri=" + quote("https://w3id.org/cowkg/ontology#Person", safe=""),
    "search": "/search?q=macron", "query": "/query",
    "timeline": "/timeline", "attendance": "/attendance", "graph": "/graph",
    "graph-person": "/graph?iri=" + quote(COWR + "keir-starmer", safe=""), "map": "/map",
    "downloads": "/download/", "ontology": "/ontology", "void": "/.well-known/void", "endpoint": "/sparql",
    "not-found": "/page/nobody-at-all",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    require((ROOT / "cowkg" / "web" / "static" / "vendor" / "axe-core" / "axe.min.js").exists(),
            "axe-core not built (scripts/setup.sh runs npm install and npm run build)")
    with launch_chromium() as browser:
        yield browser


@pytest.fixture(scope="module", autouse=True)
def release_built(live_server):
    """The server builds its release (the files /download/ lists) on the first request for it, which
    takes seconds of CPU; it is asked for here, with time to spare, so that the downloads page is
    then opened and checked like every other page instead of racing the build against the browser's
    navigation timeout on a loaded machine."""
    from urllib.request import urlopen

    with urlopen(live_server + "/download/", timeout=600) as r:
        assert r.status == 200


class Visit:
    """One page in one viewport, with what went wrong on the way."""

    def __init__(self, browser, request, width: int) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.context.route("**/*", loopback_only(self.outside))
        self.page = self.context.new_page()
        name_shots(self.page, request)
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("console", lambda m: self.problems.append(f"CSP: {m.text}")
                     if "Refused to" in m.text or "Content Security Policy" in m.text else None)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_load_state("load")
        for _ in range(300):
            state = self.page.evaluate("() => [document.body.dataset.pageReady, document.body.dataset.viewReady,"
                                       " document.body.dataset.viewError]")
            assert not state[2], f"{url}: {state[2]}"
            if "true" in state[:2]:
                break
            self.page.wait_for_timeout(100)
        else:
            raise AssertionError(f"{url} never said it was ready")
        self.page.wait_for_timeout(150)

    def axe(self) -> list[dict]:
        """axe-core's serious and critical violations on the page as it is."""
        self.page.add_script_tag(url=AXE)
        result = self.page.evaluate("""async () => {
            const r = await axe.run(document, { resultTypes: ["violations"] });
            return r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary.split("\\n")[1])}));
        }""")
        return result

    def overflow(self) -> list[str]:
        """The elements that stick out of the window on the right (none may: no horizontal scroll)."""
        return self.page.evaluate("""() => {
            const w = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= w + 1) return [];
            // Report the elements that stick out and sit in no scrolling or clipping box of their own.
            const inBox = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement) {
                if (getComputedStyle(a).overflowX !== "visible") return true; } return false; };
            return Array.from(document.querySelectorAll("body *")).filter(e => {
                const r = e.getBoundingClientRect();
                return r.right > w + 1 && r.width > 0 && getComputedStyle(e).position !== "fixed" && !inBox(e);
            }).slice(0, 8).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
                (e.className && typeof e.className === "string" ? "." + e.className.split(" ").join(".") : "") +
                " right=" + Math.round(e.getBoundingClientRect().right));
        }""")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_is_accessible_fits_the_window_and_stays_on_this_server(chromium, live_server, request, name, width):
    visit = Visit(chromium, request, width)
    try:
        visit.open(live_server + PAGES[name])
        visit.page.screenshot(path=shot(visit.page, f"page-{name}-{width}.png"), full_page=True)
        overflow = visit.overflow()
        violations = visit.axe()
    finally:
        visit.context.close()
    assert not overflow, f"{name} at {width} px is wider than the window: {overflow}"
    assert not violations, f"{name} at {width} px: " + json.dumps(violations, indent=1)
    assert not visit.outside, f"{name}: requests left 127.0.0.1: {visit.outside}"
    assert not visit.problems, f"{name}: {visit.problems}"


def tab_to(page, selector: str, limit: int = 200) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_reaches_and_works_every_control(chromium, live_server, request):
    """The site menu, the search box, the as-of form, a list's filters, sorting and downloads, an
    entity page's view links, and the query page's examples all work from the keyboard alone."""
    visit = Visit(chromium, request, 1366)
    page = visit.page
    try:
        visit.open(live_server + "/")
        focus_ring = page.evaluate("""() => { const a = document.querySelector("nav.site a");
            a.focus(); return getComputedStyle(a).outlineStyle; }""")
        assert focus_ring != "none", "focused links show a focus ring"
        # The as-of control: type a date, Enter.
        tab_to(page, "#as-of-date")
        page.keyboard.type("11252025")  # chromium's date field takes the digits in the locale's order (en-US)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "as_of=2025-11-25" in page.url
        assert "34 countries" in page.locator("dd[data-scope='committedCountries']").inner_text()
        # A list: reach a facet box, tick it with Space, apply with Enter on the Apply button.
        visit.open(live_server + "/browse/meetings")
        tab_to(page, "fieldset[data-facet='mode'] input[value='virtual']")
        with page.expect_navigation():
            page.keyboard.press("Space")  # the form applies a changed box at once
        assert "mode=virtual" in page.url
        assert page.locator("#list-table tbody tr").count() == 5
        tab_to(page, "#list-table thead a")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "sort=" in page.url
        # An entity page: the view links are links in the tab order.
        visit.open(live_server + "/page/paris")
        tab_to(page, "ul.see-in a[data-view='map']")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "/map?focus=" in page.url
        # The query page: an example runs from the keyboard.
        visit.open(live_server + "/query")
        tab_to(page, "button.example")
        page.keyboard.press("Enter")
        page.locator(".yasr .simple-results tbody tr").first.wait_for(timeout=30_000)
        # On a phone the site menu folds behind a button that opens with Enter.
        page.set_viewport_size({"width": 390, "height": 900})
        visit.open(live_server + "/")
        assert page.locator("#site-nav-groups").is_hidden()
        tab_to(page, ".menu-toggle")
        page.keyboard.press("Enter")
        assert page.locator("#site-nav-groups").is_visible()
        assert page.locator(".menu-toggle").get_attribute("aria-expanded") == "true"
    finally:
        visit.context.close()
    assert not visit.outside and not visit.problems, (visit.outside, visit.problems)
