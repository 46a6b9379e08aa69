"""Every IRI namespace the dataset mints dereferences like /id/: 303 by Accept to the page or the data.

The namespaces come from the data itself (every IRI under https://w3id.org/cowkg/ that the store
holds), so a namespace added later without a route fails here.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import rdflib
from rdflib import URIRef

from cowkg.backends.embedded import run_query
from cowkg.vocab import BASE, COWG, COWR, COWV, ONTOLOGY_IRI

EXAMPLES = {
    "vocab": str(COWV) + "plan",
    "scheme": str(COWV) + "statusScheme",
    "graph": str(COWG) + "data",
    "inferred graph": str(COWG) + "inferred",
    "dataset": BASE + "dataset",
}
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def local(iri: str) -> str:
    return iri.removeprefix("https://w3id.org/cowkg").split("#", 1)[0]


def test_every_namespace_the_data_mints_is_served(kg, client):
    """Each distinct path under https://w3id.org/cowkg/ that an IRI of the store lives in (its
    first segment, or the whole path for a hash namespace) answers something other than 404."""
    rows = run_query(kg, f"""SELECT DISTINCT ?iri WHERE {{ GRAPH ?g {{ {{ ?iri ?p ?o }} UNION {{ ?s ?iri ?o }}
        UNION {{ ?s ?p ?iri }} }} FILTER(isIRI(?iri) && STRSTARTS(STR(?iri), "{BASE}")) }}""").records()
    spaces = {}
    for row in rows:
        path = local(row["iri"].value)
        first = "/" + path.strip("/").split("/", 1)[0]
        spaces.setdefault(first, row["iri"].value)
    assert {"/id", "/vocab", "/graph", "/dataset", "/ontology"} <= set(spaces)
    for first, iri in sorted(spaces.items()):
        r = client.get(local(iri), headers={"Accept": "text/turtle"})
        assert r.status_code in (200, 303), (first, iri, r.status_code)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
@pytest.mark.parametrize("accept, expect", [
    (BROWSER, "page"), ("text/turtle", "ttl"), ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"), ("text/plain", "nt"), ("application/rdf+xml", "rdfxml"),
])
def test_iri_redirects_303_by_accept_to_the_page_or_the_description(client, name, accept, expect):
    iri = EXAMPLES[name]
    r = client.get(local(iri), headers={"Accept": accept})
    assert r.status_code == 303 and r.headers["Vary"] == "Accept"
    target = urlsplit(r.headers["Location"])
    query = parse_qs(target.query)
    assert query["iri"] == [iri]
    if expect == "page":
        assert target.path == "/page"
        page = client.get(r.headers["Location"])
        assert page.status_code == 200 and page.mimetype == "text/html"
    else:
        assert target.path == "/data" and query["format"] == [expect]
        data = client.get(r.headers["Location"])
        assert data.status_code == 200
        graph = rdflib.Graph().parse(data=data.data, format={"ttl": "turtle", "jsonld": "json-ld",
                                                             "nt": "nt", "rdfxml": "xml"}[expect])
        assert (URIRef(iri), None, None) in graph


def test_the_plan_concept_describes_itself(client):
    r = client.get("/vocab/plan", headers={"Accept": "application/n-triples"}, follow_redirects=True)
    graph = rdflib.Graph().parse(data=r.data, format="nt")
    labels = {str(o) for o in graph.objects(URIRef(EXAMPLES["vocab"]), rdflib.SKOS.prefLabel)}
    assert "plan" in labels


@pytest.mark.parametrize("path", ["/vocab/no-such-concept", "/graph/no-such-graph", "/vocab/bad%20name"])
def test_an_iri_the_dataset_does_not_have_is_404(client, path):
    r = client.get(path, headers={"Accept": "text/turtle"})
    assert r.status_code == 404 and r.get_json()["status"] == 404


def test_a_client_accepting_neither_html_nor_rdf_gets_406(client):
    r = client.get("/vocab/plan", headers={"Accept": "image/png"})
    assert r.status_code == 406


@pytest.mark.parametrize("iri", [str(COWR) + "keir-starmer", *EXAMPLES.values()])
def test_rdflib_dereferences_each_namespace_over_http(live_server, iri):
    """rdflib, as a Linked Data client, follows the 303 (it asks for N-Triples as text/plain)."""
    url = live_server + local(iri)
    graph = rdflib.Graph().parse(url, format="nt")
    assert (URIRef(iri), None, None) in graph


def test_the_ontology_iri_still_answers_itself(client):
    r = client.get(local(ONTOLOGY_IRI), headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
