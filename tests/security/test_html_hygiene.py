"""HTML hygiene against hostile data: only http(s) IRIs become links; every page forbids framing and
foreign scripts (Content-Security-Policy), and tells browsers not to sniff types."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from web.conftest import make_app
from web.fixture_data import small_kg

from cowkg.vocab import GRAPH_DATA

HOSTILE = ["javascript:alert(1)", "data:text/html,%3Cscript%3Ealert(1)%3C/script%3E", "vbscript:msgbox(1)",
           "file:///etc/passwd"]


@pytest.fixture(scope="module")
def hostile_client():
    kg = small_kg(filler=10)
    subject = ox.NamedNode("https://w3id.org/cowkg/id/keir-starmer")
    kg.store.extend([ox.Quad(subject, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#seeAlso"),
                             ox.NamedNode(iri), ox.NamedNode(str(GRAPH_DATA))) for iri in HOSTILE])
    app = make_app(kg)
    yield app.test_client()
    app.extensions["cowkg"].pool.close()


def test_only_http_iris_become_links_on_entity_pages(hostile_client):
    html = hostile_client.get("/page/keir-starmer").get_data(as_text=True)
    for iri in HOSTILE:
        scheme = iri.split(":", 1)[0]
        assert f'href="{scheme}:' not in html, f"{scheme}: IRI turned into a link"
    assert "javascript:alert(1)" in html  # still shown, as text


@pytest.mark.parametrize("path", ["/", "/page/keir-starmer", "/search?q=starmer", "/sparql?query=ASK%7B%7D",
                                  "/timeline", "/no-such-page"])
def test_every_answer_forbids_framing_and_foreign_code(hostile_client, path):
    resp = hostile_client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["Referrer-Policy"]
