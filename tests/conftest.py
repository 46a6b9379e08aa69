"""Shared fixtures: the project's graph built once, a Flask test client, a real server, and Virtuoso.

Fixture tiers: ``kg`` (the shipped data, built once per session), small graphs built inside
tests, and ``live_server`` (``cowkg serve`` as a subprocess on a free 127.0.0.1 port) for the
tests that must go through real HTTP clients. ``virtuoso_server`` is the session's private
Virtuoso: the tests under tests/virtuoso use it, and so do the tests elsewhere that run on each
backend through a fixture parametrised by ``BACKENDS`` (e.g. tests/web/test_protocol.py).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
ARTIFACTS = ROOT / "test-artifacts"

#: Debian's chromium, as every browser test drives it (through Playwright).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def launch_chromium() -> Iterator:
    """Debian's chromium under Playwright, headless; the test fails under CI (skips elsewhere) when
    either is missing. Screenshots go to ``ARTIFACTS``."""
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def loopback_only(outside: list[str], seen: list[str] | None = None):
    """A Playwright route handler that lets a page load only from 127.0.0.1 (and data:, blob:,
    about:): any other request is aborted and its URL appended to ``outside``."""
    from urllib.parse import urlparse

    def guard(route) -> None:
        url = route.request.url
        if seen is not None:
            seen.append(url)
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    return guard


#: Parameters of a fixture that gives a test each backend in turn; the Virtuoso run carries the
#: ``virtuoso`` marker (``-m "not virtuoso"`` leaves it out; under CI=true it never skips).
BACKENDS = ("embedded", pytest.param("virtuoso", marks=pytest.mark.virtuoso))

#: The test Virtuoso is small: ~160 MiB of buffers is plenty for the project's ~20k triples.
TEST_BUFFERS = 20_000


def pytest_report_header(config):
    import owlrl
    import pyoxigraph
    import pyshacl
    import pyshacl_turbo
    import rdflib

    return (f"rdflib {rdflib.__version__}, pyoxigraph {pyoxigraph.__version__}, pyshacl {pyshacl.__version__}, "
            f"pyshacl-turbo {pyshacl_turbo.__version__}, owlrl {owlrl.__version__}; CI={os.environ.get('CI', '')}")


def name_shots(page, request) -> None:
    """Screenshots of ``page`` go under the backend's name: the browser tests run on each backend
    (``served_over``), and the shots taken over Virtuoso are virtuoso-*.png."""
    page.cowkg_shot_prefix = "virtuoso-" if request.getfixturevalue("backend") == "virtuoso" else ""


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
def backend() -> str:
    """The backend a test's server uses. A module whose tests run on each backend overrides it
    with ``params=BACKENDS`` (see ``served_over``)."""
    return "embedded"


def served_over(backend: str, embedded_base: str, request) -> str:
    """The base URL of ``cowkg serve`` on the shipped data over ``backend``: ``embedded_base``
    itself, or the server over the session's Virtuoso, reloaded with the project's graphs when
    another module loaded others. A module runs all its browser tests on both backends with::

        @pytest.fixture(scope="module", params=BACKENDS)
        def backend(request):
            return request.param

        @pytest.fixture(scope="module")
        def live_server(backend, live_server, request):
            return served_over(backend, live_server, request)
    """
    if backend == "embedded":
        return embedded_base
    base = request.getfixturevalue("virtuoso_project_server")
    request.getfixturevalue("virtuoso_server").ensure("project", request.getfixturevalue("project_graphs"))
    return base


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared() -> Path:
    require(SHARED.is_dir(), f"{SHARED} is missing")
    return SHARED


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    """The session's cache directory. Under pytest-xdist (``make test`` runs two workers) the workers
    share one, in the run's base temporary directory: the caches are made for several processes
    (atomic writes, a lock around each build), and the project is reasoned over once per run."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "cowkg-cache"
        path.mkdir(exist_ok=True)
        return path
    return tmp_path_factory.mktemp("cowkg-cache")


@pytest.fixture(scope="session")
def kg(cache_dir):
    """The shipped ontology + data + inferred graph, built once (its inferred graph and Wikibase view
    are left in ``cache_dir``, which the session's servers share: see ``live_server``)."""
    import fcntl

    from cowkg.store import open_project

    with open(cache_dir / ".kg.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another xdist worker reasoning: wait, then read its cache
        return open_project(ROOT, reasoner="owlrl", cache_dir=cache_dir)


@pytest.fixture(scope="session")
def checkout_cache(kg, cache_dir) -> Path:
    """The checkout's own cache (``ROOT/.cache``: what ``cowkg`` run from the checkout, or a server
    started without COWKG_CACHE_DIR, reads), holding the session's inferred graph and Wikibase view.

    The files the ``kg`` fixture wrote are copied there when missing (same names, same bytes as the
    CLI would write: content-addressed and checked by their header when read), so on a fresh clone
    no server or CLI run of the session reasons over the shipped data again."""
    from cowkg.settings import CACHE

    if Path(CACHE).resolve() != (ROOT / ".cache").resolve():  # an installed cowkg: nothing to share
        return Path(CACHE)
    from cowkg.files import write_atomically

    CACHE.mkdir(parents=True, exist_ok=True)
    for made in (*cache_dir.glob("inferred-*.nt"), *cache_dir.glob("wikibase-*.nt")):
        if not (CACHE / made.name).exists():
            write_atomically(CACHE / made.name, made.read_bytes())
    return Path(CACHE)


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
def live_server(tmp_path_factory, kg, cache_dir):
    """``cowkg serve`` in a subprocess on a free loopback port; yields its base URL.

    Its cache is the session's ``cache_dir``: it reads the inferred graph and the Wikibase view the
    ``kg`` fixture computed instead of reasoning over the shipped data a second time."""
    from servers import COWKG_SERVE, serving

    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "COWKG_CACHE_DIR": str(cache_dir)}
    with serving([*COWKG_SERVE, "--workers", "2"], log=log, env=env, cwd=ROOT, wait=240) as server:
        yield server.base


def kg_graphs(kg) -> dict[str, list[ox.Triple]]:
    """A KnowledgeGraph's named graphs as lists of triples (every project graph, empty ones too)."""
    from cowkg.vocab import ALL_GRAPHS

    graphs = {str(g): [] for g in ALL_GRAPHS}
    for q in kg.named_quads():
        graphs.setdefault(q.graph_name.value, []).append(q.triple)
    return graphs


class Holder:
    """The session's Virtuoso and the name of the graphs it holds.

    Test modules ask for the graphs they need through ``ensure``; it reloads (replacing) only when
    other graphs than those loaded are asked for, so a test that runs on each backend calls it
    before every use: another module may have loaded other graphs in between.
    """

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
    """A private Virtuoso (``cowkg virtuoso up``), empty at first, shut down at the end of the session.

    One per session (start-up takes 2-8 s). Under CI=true a missing Virtuoso fails instead of
    skipping (``require``).
    """
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


@pytest.fixture(scope="session")
def project_graphs(kg) -> dict[str, list[ox.Triple]]:
    """The ``kg`` fixture's graphs (asserted + inferred), as Virtuoso is loaded with them."""
    return kg_graphs(kg)


@contextmanager
def serve_virtuoso(endpoint: str, log: Path) -> Iterator[str]:
    """``cowkg serve --backend virtuoso --endpoint URL`` (the real CLI) on a free port; yields its base URL."""
    from servers import COWKG_SERVE, serving

    argv = [*COWKG_SERVE, "--workers", "2", "--backend", "virtuoso", "--endpoint", endpoint]
    with serving(argv, log=log, cwd=ROOT, wait=120) as server:
        yield server.base


@pytest.fixture(scope="session")
def virtuoso_project_server(virtuoso_server, project_graphs, tmp_path_factory):
    """``cowkg serve --backend virtuoso`` over the session's Virtuoso holding the project's graphs."""
    endpoint = virtuoso_server.ensure("project", project_graphs).endpoint
    with serve_virtuoso(endpoint, tmp_path_factory.mktemp("virtuoso-server") / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
def native_querytext() -> Path:
    """The native query-text scanner's library (``native/querytext``), as ``scripts/setup.sh``
    builds it; built here with cargo when it is missing or older than its source. Needs cargo
    (Debian's ``cargo``): fails under CI without it, skips elsewhere (``require``)."""
    import subprocess

    from cowkg.native import CHECKOUT_LIBRARY as library

    crate = ROOT / "native" / "querytext"
    sources = [crate / "Cargo.toml", *sorted((crate / "src").glob("*.rs"))]
    if not library.exists() or library.stat().st_mtime < max(s.stat().st_mtime for s in sources):
        cargo = shutil.which("cargo")
        require(cargo is not None, "cargo (apt-get install cargo) builds native/querytext")
        subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=crate, check=True)
    return library


@pytest.fixture(scope="session")
def native_front(native_querytext) -> Path:
    """The native HTTP front's program (``native/front``, which links the scanner's crate), as
    ``scripts/setup.sh`` builds it; built here with cargo when missing or older than its sources."""
    import subprocess

    from cowkg.native import CHECKOUT_FRONT as program

    crates = [ROOT / "native" / "front", ROOT / "native" / "querytext"]
    sources = [p for c in crates for p in (c / "Cargo.toml", *sorted((c / "src").glob("*.rs")))]
    if not program.exists() or program.stat().st_mtime < max(s.stat().st_mtime for s in sources):
        cargo = shutil.which("cargo")
        require(cargo is not None, "cargo (apt-get install cargo) builds native/front")
        subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=crates[0], check=True)
    return program
