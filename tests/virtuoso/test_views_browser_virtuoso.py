"""The analyst views' browser tests (tests/browser/test_views_browser.py) against ``cowkg serve --backend virtuoso``.

Each view is drawn from its named queries answered by the session's Virtuoso: the timeline draws as
many items as timeline-count.rq counts, /graph?iri=... draws the neighbourhood entity-graph-count.rq
counts and expands a node on click, the map draws what places-count.rq counts. The attendance test is
a strict expected failure for D1 (docs/VIRTUOSO.md): Virtuoso projects the view's computed booleans
as integers, which the test and the page read as JSON booleans only.
"""

from __future__ import annotations

import pytest
from browser import test_views_browser as views_tests

from .conftest import serve_virtuoso

pytestmark = [pytest.mark.virtuoso, pytest.mark.browser]

# Every test of tests/browser/test_views_browser.py, with its fixtures, runs here against this module's server.
browser = views_tests.browser
page = views_tests.page
for _name in dir(views_tests):
    if _name.startswith("test_"):
        globals()[_name] = getattr(views_tests, _name)


@pytest.mark.xfail(strict=True, reason="D1: ?coalition and ?cabinet come back as integers (0/1, the IN position); "
                   "the test compares ?coalition with \"false\" and attendance.js tests ?cabinet === true, so "
                   "the membership standard is not highlighted over Virtuoso")
def test_attendance_matrix_and_chart_equal_the_queries(page):
    views_tests.test_attendance_matrix_and_chart_equal_the_queries(page)


@pytest.fixture(scope="module")
def live_server(virtuoso_project, tmp_path_factory):
    """``cowkg serve --backend virtuoso --endpoint URL`` over the shipped graphs; yields its base URL."""
    with serve_virtuoso(virtuoso_project.endpoint, tmp_path_factory.mktemp("virtuoso-views") / "server.log") as base:
        yield base
