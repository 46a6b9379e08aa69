"""The ontology IRI: HTML documentation for browsers (every class and property of ontology/, checked
in Debian's chromium too), the ontology graph for RDF clients, and the published JSON-LD context."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pyoxigraph as ox
import pytest
import rdflib
from conftest import ARTIFACTS, ROOT, require
from pyld import jsonld

from cowkg.jsonld import build_context
from cowkg.vocab import COW, GRAPH_ONTOLOGY

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
TERM_TYPES = (rdflib.OWL.Class, rdflib.RDFS.Class, rdflib.OWL.ObjectProperty, rdflib.OWL.DatatypeProperty,
              rdflib.OWL.AnnotationProperty, rdflib.RDF.Property)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def ontology_terms() -> set[str]:
    """Every class and property declared in ontology/ (read with rdflib, independently of cowkg)."""
    graph = rdflib.Graph()
    for path in sorted((ROOT / "ontology").rglob("*.ttl")):
        graph.parse(path, format="turtle")
    terms = {str(s) for t in TERM_TYPES for s in graph.subjects(rdflib.RDF.type, t) if isinstance(s, rdflib.URIRef)}
    assert len(terms) > 100
    return terms


class _Terms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.terms: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "data-term" in a:
            self.terms[a["data-term"]] = a.get("id", "")


def documented(html: str) -> dict[str, str]:
    parser = _Terms()
    parser.feed(html)
    return parser.terms


def ontology_triples(kg) -> set[ox.Triple]:
    return {q.triple for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_ONTOLOGY)))
            if not isinstance(q.subject, ox.BlankNode) and not isinstance(q.object, ox.BlankNode)}


def test_browsers_get_html_listing_every_class_and_property(client, ontology_terms):
    resp = client.get("/ontology", headers={"Accept": BROWSER})
    assert resp.status_code == 200
    assert resp.content_type == "text/html; charset=utf-8"
    assert "Accept" in resp.headers["Vary"]
    terms = documented(resp.get_data(as_text=True))
    assert ontology_terms <= terms.keys(), sorted(ontology_terms - terms.keys())
    assert terms[str(COW.CoalitionMeeting)] == "CoalitionMeeting", "hash IRIs land on their section"


def test_the_page_shows_hierarchy_alignment_and_examples(client):
    html = client.get("/ontology.html").get_data(as_text=True)
    assert 'id="hierarchy"' in html and 'href="#Meeting"' in html
    assert "wdt:P710" in html, "cow:hostOrChair is narrower than Wikidata's participant"
    assert 'href="/id/meeting-01"' in html, "coalition meetings show instances as examples"


@pytest.mark.parametrize("accept, media_type", [
    (None, "text/turtle"), ("*/*", "text/turtle"), ("text/turtle", "text/turtle"),
    ("application/n-triples", "application/n-triples"), ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml", "application/rdf+xml"), ("text/html;q=0.5, text/turtle", "text/turtle"),
])
def test_clients_get_the_ontology_graph(client, kg, accept, media_type):
    resp = client.get("/ontology", headers={"Accept": accept} if accept else {})
    assert resp.status_code == 200
    assert resp.content_type.split(";")[0] == media_type
    fmt = ox.RdfFormat.from_media_type(media_type)
    parsed = {q.triple for q in ox.parse(resp.data, format=fmt)}
    skolemised = {t for t in parsed if "/.well-known/genid/" not in str(t)}
    assert skolemised == ontology_triples(kg)


@pytest.mark.parametrize("path, media_type", [
    ("/ontology.ttl", "text/turtle"), ("/ontology.jsonld", "application/ld+json"),
    ("/ontology.nt", "application/n-triples"), ("/ontology.rdf", "application/rdf+xml"),
    ("/ontology?format=ttl", "text/turtle"), ("/ontology/0.1.0", "text/turtle"),
])
def test_suffixes_format_parameter_and_version_iri(client, path, media_type):
    resp = client.get(path)
    assert resp.status_code == 200 and resp.content_type.split(";")[0] == media_type


def test_unacceptable_and_unknown_requests_get_the_json_error_shape(client):
    resp = client.get("/ontology", headers={"Accept": "image/png"})
    assert resp.status_code == 406 and resp.json["error"] == "not-acceptable"
    assert client.get("/ontology?format=bogus").status_code == 400
    assert client.get("/ontology/9.9.9").status_code == 404
    assert client.get("/ontology.exe").status_code == 404


def test_ontology_answers_revalidate_with_etags(client):
    first = client.get("/ontology.ttl")
    again = client.get("/ontology.ttl", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_published_context_is_the_one_exports_use(client, kg):
    resp = client.get("/context.jsonld")
    assert resp.status_code == 200 and resp.content_type.startswith("application/ld+json")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    context = resp.json["@context"]
    assert context == build_context(kg)
    doc = {"@context": context, "@id": "cowr:meeting-04", "@type": "CoalitionMeeting", "meetingNumber": 4,
           "ofMeeting": "cowr:meeting-01"}
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads"})
    assert "<https://w3id.org/cowkg/ontology#ofMeeting> <https://w3id.org/cowkg/id/meeting-01>" in nquads


@pytest.mark.browser
def test_chromium_shows_every_class_and_property(project_server, ontology_terms):
    """Debian's chromium (headless) renders /ontology; every term has its section; no request leaves."""
    require(Path(CHROMIUM).exists() or shutil.which("chromium") is not None, "Debian's chromium is not installed")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright package is not installed")
    ARTIFACTS.mkdir(exist_ok=True)
    outside: list[str] = []
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = chromium.new_page(viewport={"width": 1400, "height": 1000})

            def guard(route):
                url = route.request.url
                if url.startswith(("data:", "about:")) or urlparse(url).hostname == "127.0.0.1":
                    route.continue_()
                else:
                    outside.append(url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(f"{project_server}/ontology#CoalitionMeeting", wait_until="load")
            shown = page.eval_on_selector_all("section.term[data-term]",
                                              "els => els.map(e => [e.dataset.term, e.offsetHeight > 0])")
            visible = {term for term, has_height in shown if has_height}
            assert ontology_terms <= visible, sorted(ontology_terms - visible)
            target = page.evaluate("document.querySelector(':target') && document.querySelector(':target').id")
            assert target == "CoalitionMeeting"
            assert page.locator("#CoalitionMeeting h3").is_visible()
            page.screenshot(path=str(ARTIFACTS / "ontology-page.png"))
            page.click("nav.toc a[href='#hierarchy']")
            assert page.locator("#hierarchy").is_visible()
        finally:
            chromium.close()
    assert not outside, f"requests left 127.0.0.1: {outside}"


def test_jsonld_of_the_ontology_uses_the_context(client):
    doc = json.loads(client.get("/ontology.jsonld").data)
    assert doc["@context"]["CoalitionMeeting"] == "cow:CoalitionMeeting"
    meeting = next(n for n in doc["@graph"] if n["@id"] == "cow:CoalitionMeeting")
    assert meeting["subClassOf"] == "cow:Meeting"
