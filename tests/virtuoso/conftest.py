"""A private Virtuoso for the test session: started with ``up``, loaded with ``load``, stopped with ``down``.

One server per session (start-up takes 2-8 s). Test modules ask for the graphs they need through
``virtuoso_with``; the holder reloads only when a module needs other graphs than those loaded
(reloading replaces: that is tested too). Under CI=true a missing Virtuoso fails instead of
skipping (``require``).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT, require

from cowkg.vocab import ALL_GRAPHS
from cowkg.web.launch import COWKG_SERVE, serving

#: The test server is small: ~160 MiB of buffers is plenty for the project's ~20k triples.
TEST_BUFFERS = 20_000


def kg_graphs(kg) -> dict[str, list[ox.Triple]]:
    """A KnowledgeGraph's named graphs as lists of triples (every project graph, empty ones too)."""
    graphs = {str(g): [] for g in ALL_GRAPHS}
    for q in kg.named_quads():
        graphs.setdefault(q.graph_name.value, []).append(q.triple)
    return graphs


@contextmanager
def serve_virtuoso(endpoint: str, log: Path) -> Iterator[str]:
    """``cowkg serve --backend virtuoso --endpoint URL`` (the real CLI) on a free port; yields its base URL."""
    argv = [*COWKG_SERVE, "--workers", "2", "--backend", "virtuoso", "--endpoint", endpoint]
    with serving(argv, log=log, cwd=ROOT, wait=120) as server:
        yield server.base


class Holder:
    """The session's server and the name of the graphs it holds."""

    def __init__(self, instance) -> None:
        self.instance = instance
        self.loaded: str | None = None

    def ensure(self, name: str, graphs: dict[str, list[ox.Triple]]):
        from cowkg.virtuoso import manage

        if self.loaded != name:
            report = manage.load(self.instance, graphs)
            assert report.complete, f"Virtuoso holds other counts than loaded: {report}"
            self.loaded = name
        return self.instance


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory):
    """A running private Virtuoso (empty at first); shut down with ``shutdown;`` at the end."""
    require(shutil.which("virtuoso-t") is not None and shutil.which("isql-vt") is not None,
            "Virtuoso is not installed (apt-get install virtuoso-opensource-7; scripts/setup.sh --test does it)")
    from cowkg.virtuoso import manage

    instance = manage.up(tmp_path_factory.mktemp("virtuoso"), buffers=TEST_BUFFERS, max_query_seconds=60,
                         die_with_parent=True)
    holder = Holder(instance)
    try:
        yield holder
    finally:
        manage.down(instance, purge=True)


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

