"""Fixtures of the web tests: a small app (test client) and production servers on small stores."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ROOT, free_port, wait_for

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
    port = free_port()
    log = tmp_path / f"server-{port}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen([sys.executable, str(HERE / "fixture_data.py"), "--port", str(port), *args],
                                stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/health", proc, 60)
            yield base, proc
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="session")
def tight_server(tmp_path_factory):
    """A production server on the small graph with a 2 s query limit and a 50-row cap."""
    with fixture_server(tmp_path_factory.mktemp("tight"), "--timeout", "2", "--max-rows", "50") as server:
        yield server


@pytest.fixture(scope="session")
def project_server(tmp_path_factory):
    """``cowkg serve`` (the installed console script, as users run it) on the shipped data."""
    port = free_port()
    log = tmp_path_factory.getbasetemp() / "project-server.log"
    script = Path(sys.executable).with_name("cowkg")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "from cowkg.cli import main; main()"]
    with open(log, "wb") as fh:
        proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--workers", "2"], stdout=fh,
                                stderr=subprocess.STDOUT, cwd=ROOT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(base + "/health", proc, 240)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
