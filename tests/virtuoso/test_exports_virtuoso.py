"""Exports over Virtuoso: the ontology, the JSON-LD context and the downloads of an app on a remote
store are read from that store through the backend — the project's files are never loaded a second
time — and they are the embedded store's bytes."""

from __future__ import annotations

import pytest
from web.conftest import make_app, make_virtuoso_app

pytestmark = pytest.mark.virtuoso

PATHS = ["/ontology.ttl", "/ontology.jsonld", "/context.jsonld", "/download/cowkg-asserted.nt",
         "/download/cowkg-inferred.ttl", "/download/cowkg-full.nq", "/download/framed/CoalitionMeeting.jsonld"]


def _never(*_args, **_kwargs):
    raise AssertionError("the app over Virtuoso loaded the project's files")


@pytest.fixture(scope="module")
def answers(kg, virtuoso_project, tmp_path_factory):
    """Each path's status and body from the embedded app and from the app over Virtuoso (built and
    asked while loading the project is made to fail)."""
    empty = tmp_path_factory.mktemp("no-release")
    out = {}
    embedded = make_app(kg, release_dir=str(empty), cache_dir=str(tmp_path_factory.mktemp("cache-embedded")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("cowkg.store.open_project", _never)
        mp.setattr("cowkg.load.load_project", _never)
        remote = make_virtuoso_app(virtuoso_project.endpoint, release_dir=str(empty),
                                   cache_dir=str(tmp_path_factory.mktemp("cache-virtuoso")))
        try:
            for name, app in (("embedded", embedded), ("virtuoso", remote)):
                client = app.test_client()
                out[name] = {p: client.get(p) for p in PATHS}
                out[name]["/ontology"] = client.get("/ontology", headers={"Accept": "text/html"})
        finally:
            remote.extensions["cowkg"].pool.close()
            embedded.extensions["cowkg"].pool.close()
    return out


@pytest.mark.parametrize("path", PATHS)
def test_exports_over_virtuoso_are_the_embedded_bytes(answers, path):
    local, remote = answers["embedded"][path], answers["virtuoso"][path]
    assert local.status_code == 200, local.get_data(as_text=True)[:300]
    assert remote.status_code == 200, remote.get_data(as_text=True)[:300]
    assert remote.get_data() == local.get_data()


def test_the_ontology_page_over_virtuoso_documents_the_same_terms(answers):
    local, remote = answers["embedded"]["/ontology"], answers["virtuoso"]["/ontology"]
    assert remote.status_code == 200
    assert remote.get_data() == local.get_data()
