"""Fixtures of the Virtuoso tests: the session's Virtuoso (``virtuoso_server``, in tests/conftest.py
so the web and browser tests can run on it too) holding the project's graphs, and backends over it.
"""

from __future__ import annotations

import pytest
from conftest import kg_graphs, serve_virtuoso  # noqa: F401  (imported from here by the tests)


@pytest.fixture(scope="module")
def virtuoso_project(virtuoso_server, project_graphs):
    """The server holding exactly the ``kg`` fixture's graphs (asserted + inferred)."""
    return virtuoso_server.ensure("project", project_graphs)


@pytest.fixture(scope="module")
def project_backend(virtuoso_project):
    from cowkg.backends.virtuoso import RemoteSparqlBackend

    return RemoteSparqlBackend(virtuoso_project.endpoint)


@pytest.fixture(scope="module")
def embedded(kg):
    from cowkg.backends.embedded import EmbeddedBackend

    return EmbeddedBackend(kg)

