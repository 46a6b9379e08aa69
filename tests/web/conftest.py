"""Fixtures of the web tests: a small app (test client) and production servers on small stores."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT

from cowkg.web.launch import COWKG_SERVE, serving, with_pythonpath

from .fixture_data import small_kg

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def small():
    return small_kg()


def make_app(kg, **settings):
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.web import create_app

    return create_app({"root": str(ROOT), **settings}, backend=EmbeddedBackend(kg))


@pytest.fixture(scope="session")
def small_app(small):
    """The app on the small graph, with limits small enough to hit in a test."""
    app = make_app(small, query_timeout=1.5, max_rows=50, max_request_bytes=2000)
    yield app
    app.extensions["cowkg_pool"].close()


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
def project_server(tmp_path_factory):
    """``cowkg serve`` (the installed console script, as users run it) on the shipped data."""
    log = tmp_path_factory.getbasetemp() / "project-server.log"
    script = Path(sys.executable).with_name("cowkg")
    cmd = [str(script), "serve"] if script.exists() else list(COWKG_SERVE)
    with serving([*cmd, "--workers", "2"], log=log, cwd=ROOT, wait=240) as server:
        yield server.base
