"""Debian's chromium (headless, through Playwright) drives the UI like a person: runs an example
query, reads the result table, opens an entity page from a result, uses the search box. Screenshots
go to test-artifacts/. Every request the browser makes is checked: none may leave 127.0.0.1."""

from __future__ import annotations

import pytest
from conftest import BACKENDS, ROOT, launch_chromium, loopback_only, name_shots, served_over, shot


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """Every test of this module runs on the embedded store, then on Virtuoso."""
    return request.param


@pytest.fixture(scope="module")
def project_server(backend, project_server, request):
    return served_over(backend, project_server, request)


@pytest.fixture(scope="module")
def browser_page(project_server, request):
    requests_seen: list[str] = []
    outside: list[str] = []
    errors: list[str] = []
    with launch_chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        name_shots(page, request)

        context.route("**/*", loopback_only(outside, requests_seen))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, project_server, requests_seen, outside, errors
        context.close()


@pytest.mark.browser
def test_ui_opens_on_the_first_competency_query_and_it_runs(browser_page):
    """Not on the alphabetically first example (federation-wikidata.rq: SERVICE, refused with 400)."""
    page, base, _seen, outside, errors = browser_page
    first = sorted((ROOT / "queries").glob("q[0-9]*-*.rq"))[0].read_text()
    page.goto(base + "/query")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=20_000)
    text = page.evaluate("cowkgYasgui.getTab().getYasqe().getValue()")
    assert first.splitlines()[0] in text and "SERVICE" not in text
    body = first[first.index("SELECT"):]
    assert body in text
    page.evaluate("cowkgYasgui.getTab().getYasqe().query()")
    page.wait_for_selector(".yasr .simple-results tbody tr td", timeout=30_000)
    assert page.locator(".yasr .simple-results tbody tr").count() >= 1
    assert page.locator(".yasr .errorResult").count() == 0
    assert outside == [] and errors == []


@pytest.mark.browser
def test_ui_runs_an_example_query_and_opens_an_entity_page(browser_page):
    page, base, seen, outside, errors = browser_page
    page.goto(base + "/query")
    page.wait_for_selector(".yasqe .CodeMirror", timeout=20_000)
    assert page.evaluate("cowkgYasgui.getTab().getEndpoint()").endswith("/sparql?infer=false")
    page.check("#infer")
    assert page.evaluate("cowkgYasgui.getTab().getEndpoint()").endswith("/sparql?infer=true")
    page.uncheck("#infer")
    # A competency query (q01, q02, ...) when there is one: other examples may be refused (SERVICE).
    numbered = page.locator("button.example[data-name^='q0']")
    first = numbered.first if numbered.count() else page.locator("button.example").first
    title = first.inner_text()
    first.click()
    page.wait_for_selector(".yasr .simple-results[data-labelled='true'] tbody tr td", timeout=30_000)
    headers = [h.strip() for h in page.locator(".yasr .simple-results thead th").all_inner_texts()]
    rows = page.locator(".yasr .simple-results tbody tr")
    assert rows.count() >= 1, f"example {title!r} returned no rows"
    assert len([h for h in headers if h]) >= 1
    # The simple view shows labels, not raw terms ("1"^^xsd:integer, full IRIs).
    assert "XMLSchema#" not in page.locator(".yasr .simple-results").inner_text()
    page.screenshot(path=shot(page, "browser-query-ui.png"), full_page=True)
    link = page.locator(".yasr .simple-results tbody a.labelled[href^='/page/']").first
    slug = link.get_attribute("href").rsplit("/", 1)[-1]
    label = link.inner_text()
    assert not label.startswith(("cowr:", "http"))
    link.click()
    page.wait_for_url(f"**/page/{slug}", timeout=15_000)
    page.wait_for_selector("article.entity h1")
    assert page.locator("article.entity h1").inner_text() == label
    assert page.locator("section.provenance").count() == 1
    assert page.locator("#query-this").get_attribute("href").startswith("/query?query=")
    page.screenshot(path=shot(page, "browser-entity-page.png"), full_page=True)
    assert any("/sparql" in url for url in seen)
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == []


@pytest.mark.browser
def test_search_box_suggests_labels(browser_page):
    page, base, _seen, outside, _errors = browser_page
    page.goto(base + "/page/coalition")
    page.fill("#search-box", "coalit")
    page.wait_for_selector("#search-suggestions li a", timeout=10_000)
    assert page.locator("#search-suggestions li a").count() >= 1
    page.screenshot(path=shot(page, "browser-search.png"))
    page.locator("#search-suggestions li a").first.click()
    page.wait_for_selector("article.entity h1")
    assert outside == []
