"""Fixtures of the Virtuoso tests: the session's Virtuoso (``virtuoso_server``, in tests/conftest.py
so the web tests can run on it too) holding the project's graphs, backends over it, and
``cowkg serve --backend virtuoso``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, kg_graphs  # noqa: F401  (kg_graphs: imported from here by the tests)

from cowkg.web.launch import COWKG_SERVE, serving


@contextmanager
def serve_virtuoso(endpoint: str, log: Path) -> Iterator[str]:
    """``cowkg serve --backend virtuoso --endpoint URL`` (the real CLI) on a free port; yields its base URL."""
    argv = [*COWKG_SERVE, "--workers", "2", "--backend", "virtuoso", "--endpoint", endpoint]
    with serving(argv, log=log, cwd=ROOT, wait=120) as server:
        yield server.base


@pytest.fixture(scope="module")
def virtuoso_project(virtuoso_server, kg):
    """The server holding exactly the ``kg`` fixture's graphs (asserted + inferred)."""
    return virtuoso_server.ensure("project", kg_graphs(kg))


@pytest.fixture(scope="module")
def project_backend(virtuoso_project):
    from cowkg.backends.virtuoso import RemoteSparqlBackend

    return RemoteSparqlBackend(virtuoso_project.endpoint)


@pytest.fixture(scope="module")
def embedded(kg):
    from cowkg.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(kg)

