"""Shared fixtures: the project's graph built once, a Flask test client, and a real server.

Fixture tiers: ``kg`` (the shipped data, built once per session), small graphs built inside
tests, and ``live_server`` (``cowkg serve`` as a subprocess on a free 127.0.0.1 port) for the
tests that must go through real HTTP clients.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"


def pytest_report_header(config):
    import owlrl
    import pyoxigraph
    import pyshacl
    import rdflib

    return (f"rdflib {rdflib.__version__}, pyoxigraph {pyoxigraph.__version__}, pyshacl {pyshacl.__version__}, "
            f"owlrl {owlrl.__version__}; CI={os.environ.get('CI', '')}")


def name_shots(page, request) -> None:
    """Screenshots of ``page`` go under the backend's name: the browser tests of tests/web and
    tests/browser run again over Virtuoso (tests/virtuoso), whose shots are virtuoso-*.png."""
    page.cowkg_shot_prefix = "virtuoso-" if "virtuoso" in request.module.__name__ else ""


def shot(page, name: str) -> str:
    """Where a screenshot named ``name`` of ``page`` goes (see ``name_shots``)."""
    return str(ARTIFACTS / f"{getattr(page, 'cowkg_shot_prefix', '')}{name}")


def require(condition: bool, reason: str) -> None:
    """Skip locally when a real component is missing; under CI=true a missing component fails."""
    if condition:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    require(SHARED.is_dir(), f"{SHARED} is missing")
    return SHARED


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cowkg-cache")


@pytest.fixture(scope="session")
def kg(cache_dir):
    """The shipped ontology + data + inferred graph, built once."""
    from cowkg.store import open_project

    return open_project(ROOT, reasoner="owlrl", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def app(kg):
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.web import create_app

    return create_app({"root": str(ROOT)}, backend=EmbeddedBackend(kg))


@pytest.fixture()
def client(app):
    return app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """``cowkg serve`` in a subprocess on a free loopback port; yields its base URL."""
    from cowkg.web.launch import COWKG_SERVE, serving

    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "COWKG_CACHE_DIR": str(tmp_path_factory.mktemp("server-cache"))}
    with serving([*COWKG_SERVE, "--workers", "2"], log=log, env=env, cwd=ROOT, wait=90) as server:
        yield server.base
