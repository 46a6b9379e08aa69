"""Fixtures of the web tests: a small app (test client) on each backend and production servers on small stores."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import BACKENDS, ROOT, kg_graphs
from servers import COWKG_SERVE, serving, with_pythonpath

from .fixture_data import small_kg

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def small():
    return small_kg()


def make_app(kg, **settings):
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.web import create_app

    return create_app({"root": str(ROOT), **settings}, backend=EmbeddedBackend(kg))


#: Limits of the small apps: small enough to hit in a test.
SMALL_LIMITS = {"query_timeout": 1.5, "max_rows": 50, "max_request_bytes": 2000}


@pytest.fixture(scope="session")
def small_app(small):
    """The app on the small graph (embedded store), with ``SMALL_LIMITS``."""
    app = make_app(small, **SMALL_LIMITS)
    yield app
    app.extensions["cowkg"].pool.close()


def make_virtuoso_app(endpoint: str, **settings):
    """The app over a SPARQL endpoint (``RemoteSparqlBackend``), as ``cowkg serve --backend virtuoso`` builds it."""
    from cowkg.backends.virtuoso import RemoteSparqlBackend
    from cowkg.web import create_app

    return create_app({"root": str(ROOT), **settings}, backend=RemoteSparqlBackend(endpoint))


@pytest.fixture(scope="session")
def small_graphs(small):
    return kg_graphs(small)


@pytest.fixture(scope="session")
def small_virtuoso_app(virtuoso_server, small_graphs):
    """The app over the session's Virtuoso holding the small graph, with ``SMALL_LIMITS``."""
    app = make_virtuoso_app(virtuoso_server.ensure("small", small_graphs).endpoint, **SMALL_LIMITS)
    yield app
    app.extensions["cowkg"].pool.close()


@pytest.fixture(params=BACKENDS)
def any_small_app(request, small_graphs):
    """The small app on each backend in turn: a test that asks for it runs on the embedded store and
    on Virtuoso (holding the same graph), so the two cannot drift apart unnoticed."""
    if request.param == "embedded":
        return request.getfixturevalue("small_app")
    app = request.getfixturevalue("small_virtuoso_app")
    request.getfixturevalue("virtuoso_server").ensure("small", small_graphs)  # another module may have reloaded it
    return app


@pytest.fixture()
def sc(small_app):
    """A test client of ``small_app``."""
    return small_app.test_client()


@contextmanager
def fixture_server(tmp_path: Path, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """``tests/web/fixture_data.py`` under gunicorn on a free port; yields (base URL, process)."""
    log = tmp_path / f"server-{hashlib.sha256(repr(args).encode()).hexdigest()[:12]}.log"  # args may hold paths
    with serving([sys.executable, str(HERE / "fixture_data.py"), *args], log=log, env=with_pythonpath(ROOT),
                 cwd=ROOT, wait=60) as server:
        yield server


@pytest.fixture(scope="session")
def tight_server(tmp_path_factory):
    """A production server on the small graph with a 2 s query limit and a 50-row cap."""
    with fixture_server(tmp_path_factory.mktemp("tight"), "--timeout", "2", "--max-rows", "50") as server:
        yield server


@pytest.fixture(scope="session")
def project_server(tmp_path_factory, checkout_cache):
    """``cowkg serve`` (the installed console script, as users run it) on the shipped data, with the
    checkout's cache (holding the session's closure: ``checkout_cache``)."""
    log = tmp_path_factory.getbasetemp() / "project-server.log"
    script = Path(sys.executable).with_name("cowkg")
    cmd = [str(script), "serve"] if script.exists() else list(COWKG_SERVE)
    with serving([*cmd, "--workers", "2"], log=log, cwd=ROOT, wait=240) as server:
        yield server.base
