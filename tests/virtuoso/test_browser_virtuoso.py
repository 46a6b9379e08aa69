"""The browser tests of tests/web/test_browser.py against ``cowkg serve --backend virtuoso``.

``project_server`` here is the real command line, serving the shipped data from the session's
Virtuoso, so the UI, the entity pages and the search box are driven over the remote backend.
"""

from __future__ import annotations

import pytest
from web import test_browser as browser_tests

from .conftest import serve_virtuoso

pytestmark = pytest.mark.virtuoso

# Every browser test of tests/web/test_browser.py, with its fixture, runs here against this module's server.
browser_page = browser_tests.browser_page
for _name in dir(browser_tests):
    if _name.startswith("test_"):
        globals()[_name] = getattr(browser_tests, _name)


@pytest.fixture(scope="module")
def project_server(virtuoso_project, tmp_path_factory):
    """``cowkg serve --backend virtuoso --endpoint URL`` on a free port; yields its base URL."""
    with serve_virtuoso(virtuoso_project.endpoint, tmp_path_factory.mktemp("virtuoso-server") / "server.log") as base:
        yield base
