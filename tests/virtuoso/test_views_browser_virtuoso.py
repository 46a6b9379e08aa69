"""The analyst views' browser tests (tests/browser/test_views_browser.py) against ``cowkg serve --backend virtuoso``.

Each view is drawn from its named queries answered by the session's Virtuoso: the timeline draws as
many items as timeline-count.rq counts, /graph?iri=... draws the neighbourhood entity-graph-count.rq
counts and expands a node on click, the map draws what places-count.rq counts, the attendance matrix
highlights the membership standard although Virtuoso answers its computed booleans as integers (D1,
docs/VIRTUOSO.md). Screenshots are saved as test-artifacts/virtuoso-views-*.png.
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


@pytest.fixture(scope="module")
def live_server(virtuoso_project, tmp_path_factory):
    """``cowkg serve --backend virtuoso --endpoint URL`` over the shipped graphs; yields its base URL."""
    with serve_virtuoso(virtuoso_project.endpoint, tmp_path_factory.mktemp("virtuoso-views") / "server.log") as base:
        yield base
