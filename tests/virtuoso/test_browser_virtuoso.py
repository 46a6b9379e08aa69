"""The browser tests of tests/web/test_browser.py against ``cowkg serve --backend virtuoso``.

``project_server`` here is the real command line, serving the shipped data from the session's
Virtuoso, so the UI, the entity pages and the search box are driven over the remote backend.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, free_port, wait_for
from web import test_browser as browser_tests

pytestmark = pytest.mark.virtuoso

# Every browser test of tests/web/test_browser.py, with its fixture, runs here against this module's server.
browser_page = browser_tests.browser_page
for _name in dir(browser_tests):
    if _name.startswith("test_"):
        globals()[_name] = getattr(browser_tests, _name)


@pytest.fixture(scope="module")
def project_server(virtuoso_project, tmp_path_factory):
    """``cowkg serve --backend virtuoso --endpoint URL`` on a free port; yields its base URL."""
    port = free_port()
    log = tmp_path_factory.mktemp("virtuoso-server") / "server.log"
    cmd = [sys.executable, "-c", "from cowkg.cli import main; main()", "serve", "--port", str(port),
           "--workers", "2", "--backend", "virtuoso", "--endpoint", virtuoso_project.endpoint]
    with open(log, "wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/health", proc, 120)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
