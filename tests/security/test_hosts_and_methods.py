"""Host headers and methods (issue 17, findings 6 and 11): the service answers only for the hosts
it is configured for, builds no URL from a stranger's Host, builds its downloads once per release
whatever Host clients send, and answers HEAD exactly as GET, without the body, on every route."""

from __future__ import annotations

import pytest
from web.conftest import make_app
from web.fixture_data import small_kg

from cowkg.web import downloads


@pytest.fixture(scope="module")
def tiny():
    return small_kg(filler=10)


@pytest.fixture()
def app_with(tiny, kg):
    """Apps on the small graph, or on the shipped one (``project=True``: it has dataset metadata)."""
    apps = []

    def make(project: bool = False, **settings):
        app = make_app(kg if project else tiny, **settings)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["cowkg"].pool.close()


@pytest.mark.parametrize("path", ["/", "/sparql", "/sparql?query=ASK%7B%7D", "/.well-known/void", "/download/",
                                  "/health", "/page/keir-starmer", "/id/keir-starmer"])
def test_a_stranger_host_is_refused(app_with, path):
    client = app_with().test_client()
    resp = client.get(path, headers={"Host": "evil.example"})
    assert resp.status_code == 400
    assert resp.get_json()["error"] == "host-not-allowed"
    assert "evil.example" not in resp.get_data(as_text=True).replace("'evil.example'", "")


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "127.0.0.1:8000", "[::1]:8000", "LOCALHOST"])
def test_local_hosts_are_answered(app_with, host):
    assert app_with().test_client().get("/health", headers={"Host": host}).status_code == 200


def test_public_base_decides_every_generated_url(app_with):
    app = app_with(public_base="https://cowkg.example.org", allowed_hosts="cowkg.example.org,localhost")
    client = app.test_client()
    for host in ("cowkg.example.org", "localhost"):
        sd = client.get("/sparql", headers={"Host": host, "Accept": "text/turtle"}).get_data(as_text=True)
        assert "https://cowkg.example.org/sparql" in sd and f"http://{host}/" not in sd
        void = client.get("/.well-known/void", headers={"Host": host, "Accept": "text/turtle"}).get_data(as_text=True)
        assert "https://cowkg.example.org/" in void and f"http://{host}/" not in void
        ui = client.get("/query", headers={"Host": host}).get_data(as_text=True)
        assert "https://cowkg.example.org/sparql" in ui
    assert client.get("/health", headers={"Host": "other.example"}).status_code == 400


def test_allowed_hosts_star_accepts_any(app_with):
    assert app_with(allowed_hosts="*").test_client().get("/health", headers={"Host": "x.example"}).status_code == 200


def test_downloads_are_built_once_whatever_the_host(app_with, monkeypatch):
    calls = []
    real = downloads.build_release

    def counting(*args, **kwargs):
        calls.append(kwargs.get("base_url"))
        return real(*args, **kwargs)

    monkeypatch.setattr(downloads, "build_release", counting)
    app = app_with(project=True, allowed_hosts="*", release_dir="/nonexistent-release-dir", cache_dir="")
    client = app.test_client()
    bodies = {client.get("/download/void.ttl", headers={"Host": f"h{i}.example"}).data for i in range(6)}
    assert len(calls) == 1 and len(bodies) == 1
    assert calls[0] == "https://w3id.org/cowkg/"


GET_ROUTES = ["/", "/health", "/sparql", "/sparql?query=ASK%7B%7D", "/sparql?query=SELECT%20*%7B%3Fs%20%3Fp%20%3Fo%7D",
              "/.well-known/void", "/page/keir-starmer", "/data/keir-starmer.ttl", "/search?q=starmer",
              "/timeline", "/download/", "/download/void.ttl", "/ontology", "/reconcile", "/rdf-graphs",
              "/no-such-page", "/id/keir-starmer"]


@pytest.mark.parametrize("path", GET_ROUTES)
def test_head_is_get_without_the_body(app_with, path):
    client = app_with(release_dir="/nonexistent-release-dir").test_client()
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code, (path, head.status_code, get.status_code)
    assert head.data == b""
    for name in ("Content-Type", "Content-Length", "ETag", "Location"):
        assert head.headers.get(name) == get.headers.get(name), name


def test_the_built_release_is_kept_and_checked_across_restarts(app_with, monkeypatch, tmp_path):
    from cowkg import dump

    calls = []
    real = dump.build_release

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(dump, "build_release", counting)
    settings = {"project": True, "release_dir": "/nonexistent-release-dir", "cache_dir": str(tmp_path)}
    first = app_with(**settings).test_client().get("/download/void.ttl").data
    again = app_with(**settings).test_client().get("/download/void.ttl").data  # a restart: read, not built
    assert first == again and len(calls) == 1
    void = next((tmp_path / "downloads").glob("*/*/void.ttl"))
    void.write_bytes(void.read_bytes() + b"# tampered\n")
    rebuilt = app_with(**settings).test_client().get("/download/void.ttl").data
    assert rebuilt == first and len(calls) == 2
