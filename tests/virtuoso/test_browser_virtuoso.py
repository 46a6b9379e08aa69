"""The browser tests of tests/web/test_browser.py against ``cowkg serve --backend virtuoso``.

``project_server`` here is the real command line, serving the shipped data from the session's
Virtuoso, so the UI, the entity pages and the search box are driven over the remote backend.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT, free_port, wait_for
from web.test_browser import (  # noqa: F401  (fixture and tests run here with this module's server)
    browser_page,
    test_search_box_suggests_labels,
    test_ui_runs_an_example_query_and_opens_an_entity_page,
)

pytestmark = pytest.mark.virtuoso


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
