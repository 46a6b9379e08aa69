"""Analyst journeys (issue 14): questions a journalist or analyst asks, answered in Debian's chromium
by clicking and typing only, each started from ``/`` on a real ``cowkg serve``.

Every journey counts its clicks (``Journey.click``; typing and pressing Enter are not clicks) and
must stay within its budget (at most five). The answer is asserted on the screen, as text the
reader sees, with the expected values written by hand from the article (fact-inventory IDs in the
docstrings). The pages a journey passes through are photographed at 1,366 and 390 px
(test-artifacts/journey-<name>-<width>.png). Every request must stay on 127.0.0.1 and the pages
must raise no Content-Security-Policy violation ("Refused to ...") and no script error. Every
journey runs on the embedded store, then over Virtuoso (the answers are the same).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from conftest import BACKENDS, launch_chromium, loopback_only, name_shots, served_over, shot

WIDE, PHONE = 1366, 390
BUDGET = 5

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """Every journey runs on the embedded store, then on Virtuoso."""
    return request.param


@pytest.fixture(scope="module")
def live_server(backend, live_server, request):
    return served_over(backend, live_server, request)


@pytest.fixture(scope="module")
def chromium():
    with launch_chromium() as browser:
        yield browser


class Journey:
    """One analyst's way through the site: clicks counted, pages photographed, problems collected."""

    def __init__(self, browser, base: str, name: str, request, width: int = WIDE) -> None:
        self.base, self.name, self.clicks, self.width = base, name, 0, width
        self.context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
        self.outside: list[str] = []
        self.problems: list[str] = []
        self.visited: list[str] = []
        self.context.route("**/*", loopback_only(self.outside))
        self.page = self.context.new_page()
        name_shots(self.page, request)
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))
        self.page.on("console", self._console)
        self.page.on("framenavigated", lambda frame: self.visited.append(frame.url) if frame == self.page.main_frame
                     else None)

    def _console(self, message) -> None:
        if "Refused to" in message.text or "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    def start(self) -> Journey:
        self.page.goto(self.base + "/")
        self.ready()
        return self

    def ready(self) -> None:
        """Wait until the page says it is ready (a view: its picture drawn)."""
        self.page.wait_for_load_state("load")
        for _ in range(200):
            state = self.page.evaluate("() => [document.body.dataset.pageReady, document.body.dataset.viewReady,"
                                       " document.body.dataset.viewError]")
            if state[2]:
                raise AssertionError(f"{self.name}: the view failed: {state[2]}")
            if state[0] == "true" or state[1] == "true":
                return
            self.page.wait_for_timeout(100)
        raise AssertionError(f"{self.name}: {self.page.url} never said it was ready")

    def click(self, target, navigates: bool = True) -> None:
        """One click (a locator or a CSS selector); waits for the next page when it navigates."""
        locator = self.page.locator(target) if isinstance(target, str) else target
        self.clicks += 1
        if navigates:
            with self.page.expect_navigation():
                locator.first.click()
            self.ready()
        else:
            locator.first.click()

    def type(self, target: str, text: str, enter: bool = False) -> None:
        """Typing (no click: the field is focused by the keyboard, Tab from the previous control)."""
        field = self.page.locator(target).first
        field.focus()
        field.fill(text)
        if enter:
            with self.page.expect_navigation():
                field.press("Enter")
            self.ready()

    def sees(self, text: str, within: str = "main") -> None:
        body = self.page.locator(within).first.inner_text()
        assert text in body, f"{self.name}: {text!r} is not on {self.page.url}"

    def finish(self, budget: int = BUDGET) -> None:
        """Photograph the last page at both widths; check the click budget and the page's hygiene."""
        self.page.screenshot(path=shot(self.page, f"journey-{self.name}-{self.width}.png"), full_page=True)
        other = PHONE if self.width == WIDE else WIDE
        self.page.set_viewport_size({"width": other, "height": 900})
        self.page.wait_for_timeout(200)
        self.page.screenshot(path=shot(self.page, f"journey-{self.name}-{other}.png"), full_page=True)
        width = self.page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        self.context.close()
        assert self.clicks <= budget, f"{self.name}: {self.clicks} clicks, budget {budget}"
        assert not self.outside, f"{self.name}: requests left 127.0.0.1: {self.outside}"
        assert not self.problems, f"{self.name}: {self.problems}"
        assert width[0] <= width[1] + 1, f"{self.name}: the last page is wider than the window at {other} px: {width}"


@pytest.fixture()
def journey(chromium, live_server, request):
    made: list[Journey] = []

    def make(name: str, width: int = WIDE) -> Journey:
        j = Journey(chromium, live_server, name, request, width)
        made.append(j)
        return j.start()

    yield make
    for j in made:
        if not j.context.pages == []:
            try:
                j.context.close()
            except Exception:  # noqa: BLE001 - already closed by finish()
                pass


def row_of(page, table: str, text: str):
    """The table row that contains ``text``."""
    return page.locator(f"{table} tbody tr").filter(has_text=text).first


def test_who_chaired_the_4_september_2025_meeting(journey):
    """F-MEET-11-H: Emmanuel Macron, at the Élysée Palace, Paris; 35 countries (F-MEET-11-N)."""
    j = journey("chair-4-september")
    j.click(j.page.get_by_role("link", name="Meetings", exact=True))
    row = row_of(j.page, "#list-table", "4 September 2025")
    assert "Emmanuel Macron" in row.inner_text()
    j.click(row.get_by_role("link", name=re.compile("Coalition meeting 11")))
    j.sees("Emmanuel Macron")
    j.sees("4 September 2025")
    assert "host or chair" in j.page.locator("section[data-group='Who']").inner_text()
    j.finish(budget=2)


def test_how_many_countries_had_committed_as_of_25_november_2025(journey):
    """F-MEMB-02: 34 committed countries, confirmed on 25 November 2025; the 35 members are as of
    December 2025 (F-MEMB-01), so on 25 November the member count is not stated."""
    j = journey("committed-25-november")
    j.type("#as-of-date", "2025-11-25")
    j.click(j.page.get_by_role("button", name="Show"))
    committed = j.page.locator("dd[data-scope='committedCountries']").inner_text()
    assert "34 countries" in committed and "25 November 2025" in committed
    assert "not stated" in j.page.locator("dd[data-scope='members']").inner_text()
    j.finish(budget=1)


def test_what_portugal_pledged(journey):
    """F-PLEDGE-07, -08: EUR 226 million for weapons and equipment, and training for pilots and drone operators."""
    j = journey("portugal-pledges")
    j.click(j.page.get_by_role("link", name="Pledges", exact=True))
    j.click(j.page.locator("fieldset[data-facet='pledger'] label").filter(has_text="Portugal").locator("input"))
    rows = j.page.locator("#list-table tbody tr")
    assert rows.count() == 2
    text = j.page.locator("#list-table").inner_text()
    assert "EUR 226 million" in text and "training for pilots and drone operators" in text
    j.finish(budget=2)


def test_who_commands_the_force_from_where(journey):
    """F-HQ-09, -10, -08: a French three-star commander at the joint command HQ in Paris (Fort
    Mont-Valérien), a British two-star deputy at a coordination HQ planned in Kyiv; no one named."""
    j = journey("command")
    card = j.page.locator("#command").inner_text()
    assert "three-star" in card and "two-star" in card and "Fort Mont-Valérien" in card and "Kyiv" in card
    j.click(j.page.locator("#command").get_by_role("link", name=re.compile(r"^Commander of MNF-U")))
    j.sees("three-star")
    j.sees("MNF-U joint command headquarters")
    j.sees("France")
    j.finish(budget=1)


def test_when_the_paris_headquarters_opened(journey):
    """F-HQ-01, -05: established in September 2025, formally inaugurated on 17 November 2025."""
    j = journey("paris-hq")
    j.click(j.page.locator("#force").get_by_role("link", name=re.compile("joint command headquarters, Paris")))
    when = j.page.locator("section[data-group='When']").inner_text()
    assert "17 November 2025" in when and "September 2025" in when
    j.finish(budget=1)


def test_which_meetings_albania_attended_and_why_it_counts_as_a_member(journey):
    """F-MEMB-ALB1..4: meetings 4, 11, 12 and 13 (10 April, 4 September, 24 October, 25 November 2025);
    F-MEMB-16: a member as of November 2025 under the standard of three cabinet-level participations."""
    j = journey("albania")
    j.click(j.page.get_by_role("link", name="States", exact=True))
    row = row_of(j.page, "#list-table", "Albania")
    assert "membership recorded" in row.inner_text()
    j.click(row.get_by_role("link", name="Albania"))
    events = j.page.locator("section[data-group='Meetings and events']").inner_text()
    for meeting in ("meeting 4", "meeting 11", "meeting 12", "meeting 13"):
        assert f"Albania at coalition {meeting}" in events, meeting
    j.click(j.page.get_by_role("link", name=re.compile("Albania's membership of the coalition")))
    j.sees("three")
    j.sees("cabinet level")
    j.sees("November 2025")
    j.finish(budget=3)


def test_every_statement_by_macron(journey):
    """Four statements are attributed to Macron: the 26 troop-pledging nations (4 September 2025,
    F-TIME-36), the working group (25 November 2025, F-TIME-48), "Russia has no intention of a
    ceasefire" (an excerpt, F-STATEMENT-15) and the ceasefire condition in his 4 September wording
    (AMB-23); all of them, and only them, are listed."""
    j = journey("macron-statements")
    j.type("#home-search", "Macron", enter=True)
    j.click(j.page.locator("ol.results").get_by_role("link", name="Emmanuel Macron", exact=True))
    j.click(j.page.get_by_role("link", name=re.compile(r"^Statements by it \(4\)")))
    rows = j.page.locator("#list-table tbody tr")
    assert rows.count() == 4
    for i in range(4):
        assert "Emmanuel Macron" in rows.nth(i).locator("td[data-label='Said or reported by']").inner_text()
    text = j.page.locator("#list-table").inner_text()
    assert "26 nations" in text and "working group" in text and "ceasefire" in text
    j.sees("4 of 79 statements")
    j.finish(budget=2)


def test_download_the_turtle_dump_and_its_checksum(journey):
    """The Turtle file's bytes hash to the SHA-256 the downloads page and SHA256SUMS give."""
    j = journey("download-turtle")
    # The server builds its release once, on the first request for it (over Virtuoso, tens of
    # seconds on a loaded machine): that is set-up, not part of the user's wait being tested.
    import requests

    assert requests.get(j.base + "/download/", timeout=600).status_code == 200
    j.click(j.page.get_by_role("link", name="Downloads", exact=True))
    link = j.page.locator("table.downloads a[href$='.ttl']").filter(has_text="asserted").first
    name = link.inner_text()
    shown = j.page.locator("table.downloads tr").filter(has=j.page.locator(f"a[href='{name}']")).locator("code")
    shown = shown.first.inner_text().strip()
    with j.page.expect_download() as info:
        j.click(link, navigates=False)
    data = Path(info.value.path()).read_bytes()
    assert hashlib.sha256(data).hexdigest() == shown
    assert b"@prefix" in data[:2000] or b"PREFIX" in data[:2000]
    with j.page.expect_download() as sums:
        j.click(j.page.locator("table.downloads a[href='SHA256SUMS']"), navigates=False)
    listed = Path(sums.value.path()).read_text()
    assert f"{shown}  {name}" in listed
    j.finish(budget=3)


def test_the_force_before_and_after_17_november_2025(journey):
    """F-HQ-05: inaugurated 17 November 2025; the day before, the HQ is established (September 2025) only."""
    j = journey("force-17-november")
    j.type("#as-of-date", "2025-11-16")
    j.click(j.page.get_by_role("button", name="Show"))
    card = j.page.locator("#force").inner_text()
    assert "Established: September 2025" in card and "inaugurated" not in card.lower().replace("inaugurated:", "x")
    j.type("#as-of-date", "2025-11-18")
    j.click(j.page.get_by_role("button", name="Show"))
    assert "Formally inaugurated: 17 November 2025" in j.page.locator("#force").inner_text()
    j.finish(budget=2)


def test_which_coalition_meetings_were_virtual(journey):
    """F-MEET-02-F, -13-F, -14-F: meetings 2, 13 and 14 were held by video (and two other virtual meetings)."""
    j = journey("virtual-meetings")
    j.click(j.page.get_by_role("link", name="Meetings", exact=True))
    j.click(j.page.locator("fieldset[data-facet='mode'] label").filter(has_text="virtual").locator("input"))
    j.click(j.page.locator("fieldset[data-facet='kind'] label").filter(has_text="leaders' summit").locator("input"))
    numbers = [t.strip() for t in j.page.locator("#list-table tbody td[data-label='No.']").all_inner_texts()]
    assert sorted(numbers, key=int) == ["2", "13", "14"]
    j.finish(budget=3)


def test_how_many_coalition_meetings_by_4_september_2025(journey):
    """Rows 1-11 of the meetings table are dated up to 4 September 2025 (F-MEET-01-D .. -11-D)."""
    j = journey("meetings-by-4-september")
    j.click(j.page.get_by_role("link", name="4 September 2025"))
    assert "11 numbered coalition meetings" in j.page.locator("#meetings").inner_text()
    j.click(j.page.get_by_role("link", name=re.compile("^All meetings by 4 September 2025")))
    numbers = [t.strip() for t in j.page.locator("#list-table tbody td[data-label='No.']").all_inner_texts()]
    assert sorted(int(n) for n in numbers if n) == list(range(1, 12))
    j.finish(budget=2)


def test_ask_a_competency_question_in_the_query_editor(journey):
    """The query page opens on a runnable example; choosing another runs it and shows labels, not IRIs."""
    j = journey("query-editor")
    j.click(j.page.get_by_role("link", name="Query (SPARQL)", exact=True))
    j.click(j.page.get_by_role("button", name="Who hosted or chaired which meeting"), navigates=False)
    j.page.locator(".yasr .simple-results[data-labelled='true']").wait_for(timeout=30_000)
    results = j.page.locator(".yasr .simple-results").inner_text()
    assert "Keir Starmer" in results and "https://w3id.org" not in results
    assert j.page.locator(".yasqe").is_visible()
    assert j.page.evaluate("() => document.querySelector('.yasqe').getBoundingClientRect().top") < 900
    j.finish(budget=2)


def test_a_wikidata_shaped_query_reads_the_wikibase_view(journey):
    """q19 uses wdt:P31/P585/P664: it finds the meetings with inference left off, and the page says why."""
    j = journey("wikidata-query")
    j.click(j.page.get_by_role("link", name="Query (SPARQL)", exact=True))
    j.click(j.page.get_by_role("button", name="The graph in Wikidata's vocabulary"), navigates=False)
    j.page.locator(".yasr .simple-results tbody tr").first.wait_for(timeout=30_000)
    assert not j.page.locator("#infer").is_checked()
    assert "Wikibase view" in j.page.locator("#infer-note").inner_text()
    assert j.page.locator(".yasr .simple-results tbody tr").count() >= 10
    j.finish(budget=2)


def test_where_the_coalition_met_in_paris_on_the_map(journey):
    """F-PLACE-03, -04: Paris, with the Élysée Palace (meetings 3 and 11) and Fort Mont-Valérien (the HQ)."""
    j = journey("paris-map")
    j.click(j.page.get_by_role("link", name="Places", exact=True))
    j.click(row_of(j.page, "#list-table", "Paris").get_by_role("link", name="Paris", exact=True))
    j.click(j.page.locator("ul.see-in").get_by_role("link", name=re.compile("^Map")))
    focused = j.page.locator("#map a.marker.focused")
    assert focused.count() >= 1 and focused.first.get_attribute("data-iri") == "https://w3id.org/cowkg/id/paris"
    assert "Paris" in j.page.locator(".view-status").inner_text()
    j.finish(budget=3)
