"""Entity pages, data views, search, the query UI page, VoID, the service description, graph store."""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest

from cowkg.web.catalog import load_examples

STARMER = "https://w3id.org/cowkg/id/keir-starmer"


@pytest.mark.parametrize("accept, location", [
    ("text/html,application/xhtml+xml,*/*;q=0.8", "/page/keir-starmer"),
    ("text/turtle", "/data/keir-starmer.ttl"),
    ("application/ld+json", "/data/keir-starmer.jsonld"),
    ("application/n-triples", "/data/keir-starmer.nt"),
    ("application/rdf+xml;q=0.9, text/html;q=0.5", "/data/keir-starmer.rdf"),
    ("text/plain, */*;q=0.1", "/data/keir-starmer.nt"),  # what rdflib sends for format="nt"
    ("text/plain", "/data/keir-starmer.nt"),
    ("*/*", "/page/keir-starmer"),
])
def test_entity_iri_redirects_303_by_accept(sc, accept, location):
    r = sc.get("/id/keir-starmer", headers={"Accept": accept})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(location)
    assert r.headers["Vary"] == "Accept"


def test_unknown_entity_is_404(sc):
    r = sc.get("/id/nobody-at-all", headers={"Accept": "text/turtle"})
    assert r.status_code == 404
    assert r.get_json()["message"] == "no entity <https://w3id.org/cowkg/id/nobody-at-all> in this dataset"


@pytest.mark.parametrize("ext, fmt", [("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                                      ("jsonld", ox.RdfFormat.JSON_LD), ("rdf", ox.RdfFormat.RDF_XML)])
def test_entity_data_is_its_export_description(sc, ext, fmt):
    """The entity's statements, the n-ary records pointing to it and their provenance; a plain
    link from a non-record (the meeting's cow:hostOrChair) is not part of the description."""
    r = sc.get(f"/data/keir-starmer.{ext}")
    assert r.status_code == 200
    triples = {q.triple for q in ox.parse(r.get_data(), format=fmt)}
    starmer = ox.NamedNode(STARMER)
    statement = ox.NamedNode("https://w3id.org/cowkg/id/statement-starmer-japan")
    assert ox.Triple(starmer, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"),
                     ox.NamedNode("http://www.wikidata.org/entity/Q6383")) in triples
    assert ox.Triple(statement, ox.NamedNode("https://w3id.org/cowkg/ontology#attributedTo"), starmer) in triples
    assert ox.Triple(ox.NamedNode("https://w3id.org/cowkg/id/cite-44"),
                     ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("[44]")) in triples
    assert not any(t.subject.value.endswith("/meeting-04") for t in triples)


@pytest.mark.parametrize("slug", ["meeting-04", "keir-starmer", "ukraine", "amb-02", "source-wikipedia-article"])
@pytest.mark.parametrize("ext, args", [("nt", []), ("ttl", []), ("jsonld", []), ("nt", ["--infer"])])
def test_entity_download_equals_cli_subject_export(client, slug, ext, args):
    """/data/<slug>.<ext> is byte for byte `cowkg export --subject <iri> --format <ext>` (one describe())."""
    from click.testing import CliRunner

    from cowkg.cli import main

    iri = f"https://w3id.org/cowkg/id/{slug}"
    cli = CliRunner().invoke(main, ["export", "--subject", iri, "--format", ext, *args])
    assert cli.exit_code == 0, cli.output
    r = client.get(f"/data/{slug}.{ext}" + ("?infer=true" if args else ""))
    assert r.status_code == 200
    assert r.get_data() == cli.stdout_bytes


def test_entity_page_shows_labels_types_statements_incoming_provenance_wikidata(sc):
    r = sc.get("/page/keir-starmer")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "<h1>Keir Starmer</h1>" in html
    assert "Starmer" in html and "skos:altLabel" in html
    assert 'href="/page?iri=https%3A%2F%2Fw3id.org%2Fcowkg%2Fontology%23Person"' in html or "cow:Person" in html
    assert "inferred" in html  # the inferred cow:Agent type is marked
    assert 'href="https://www.wikidata.org/wiki/Q6383"' in html
    assert 'href="/page/meeting-04"' in html  # incoming link
    assert "[92]" in html  # citation marker of the meeting that links here
    assert "Wikipedia article" in html  # prov:wasDerivedFrom of the entity
    m = re.search(r'id="query-this" href="([^"]+)"', html)
    assert m and m.group(1).startswith("/query?query=")
    assert 'id="search-box"' in html


def test_pages_escape_their_content(small):
    from cowkg.vocab import GRAPH_DATA
    from web.conftest import make_app

    kg_store = ox.Store()
    kg_store.extend(q for q in small.store)
    kg_store.add(ox.Quad(ox.NamedNode(STARMER), ox.NamedNode("https://w3id.org/cowkg/ontology#note"),
                         ox.Literal("<script>alert(1)</script>"), ox.NamedNode(str(GRAPH_DATA))))
    from cowkg.store import KnowledgeGraph

    app = make_app(KnowledgeGraph(kg_store))
    html = app.test_client().get("/page/keir-starmer").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    app.extensions["cowkg"].pool.close()


def test_page_for_non_entity_iris(sc):
    r = sc.get("/page", query_string={"iri": "https://w3id.org/cowkg/ontology#Person"})
    assert r.status_code == 200
    assert "person" in r.get_data(as_text=True)
    assert sc.get("/page", query_string={"iri": "http://example.org/none"}).status_code == 404


def test_search_ranks_named_entities_and_exact_matches_first(sc):
    r = sc.get("/api/search", query_string={"q": "starm"})
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert results[0]["iri"] == STARMER
    assert results[0]["page"] == "/page/keir-starmer"
    assert "https://w3id.org/cowkg/id/statement-starmer-japan" in [x["iri"] for x in results]
    exact = sc.get("/api/search", query_string={"q": "Macron"}).get_json()["results"]
    assert exact[0]["iri"] == "https://w3id.org/cowkg/id/emmanuel-macron"
    assert exact[0]["match"] == "exact" and exact[0]["matched_property"] == "skos:altLabel"
    sub = sc.get("/api/search", query_string={"q": "mer"}).get_json()["results"]
    assert {x["match"] for x in sub} <= {"word", "substring", "prefix"}


def test_search_folds_case_and_accents(sc):
    assert sc.get("/api/search", query_string={"q": "KÉIR"}).get_json()["results"][0]["iri"] == STARMER


@pytest.mark.parametrize("query, message", [({"q": ""}, "missing search text: /api/search?q=..."),
                                            ({"q": "a", "limit": "x"}, "limit must be a whole number"),
                                            ({"q": "a", "limit": "500"}, "limit must be between 1 and 50")])
def test_search_input_errors(sc, query, message):
    r = sc.get("/api/search", query_string=query)
    assert r.status_code == 400
    assert r.get_json()["message"] == message


def test_search_page_works_without_javascript(sc):
    html = sc.get("/search", query_string={"q": "macron"}).get_data(as_text=True)
    assert 'href="/page/emmanuel-macron"' in html


def test_ui_page_serves_yasgui_locally_with_prefixes_and_examples(sc, root):
    html = sc.get("/query").get_data(as_text=True)
    assert "/static/vendor/yasgui.min.js" in html and "/static/vendor/yasgui.min.css" in html
    assert "cdn" not in html.lower() and "https://" not in re.sub(r'"(?:https?://[^"]+)"', "", html.split(
        'id="cowkg-config">')[0]).replace("https://www.wikidata.org", "")
    config = json.loads(re.search(r'<script type="application/json" id="cowkg-config">(.*?)</script>', html,
                                  re.S).group(1))
    from cowkg.vocab import PREFIXES

    assert config["prefixes"] == PREFIXES
    shipped = [e["name"] for e in config["examples"] if not e["name"].startswith("wikidata/")]
    assert sorted(shipped) == [e.name for e in load_examples(root / "queries")]
    assert sc.get("/query", query_string={"query": "ASK {}"}).status_code == 200


def test_examples_take_title_and_description_from_the_header(tmp_path):
    (tmp_path / "q01-meetings.rq").write_text("# title: Meetings by date\n# description: Every meeting.\n"
                                              "SELECT * WHERE { ?s ?p ?o }\n")
    (tmp_path / "q02-bare.rq").write_text("ASK {}\n")
    examples = load_examples(tmp_path)
    assert [(e.name, e.title, e.description) for e in examples] == [
        ("q01-meetings", "Meetings by date", "Every meeting."), ("q02-bare", "q02-bare", "")]


def test_vendor_assets_are_served_by_the_app(sc):
    with sc.get("/static/vendor/yasgui.min.js") as r:
        assert r.status_code == 200, "run `npm run build` in frontend/ (scripts/setup.sh does)"
        assert len(r.get_data()) > 100_000


def _void(sc) -> list[ox.Triple]:
    r = sc.get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and r.mimetype == "application/n-triples"
    return [q.triple for q in ox.parse(r.get_data(), format=ox.RdfFormat.N_TRIPLES)]


def _value(triples, subject_suffix, prop):
    return [t.object.value for t in triples if t.subject.value.endswith(subject_suffix) and
            t.predicate.value == "http://rdfs.org/ns/void#" + prop]


def test_void_counts_come_from_the_store(sc, small):
    triples = _void(sc)
    sizes = {g: 0 for g in ("ontology", "data", "meta")}
    for q in small.named_quads():
        local = q.graph_name.value.rsplit("/", 1)[-1]
        if local in sizes:
            sizes[local] += 1
    # The dataset is https://w3id.org/cowkg/dataset (as in a release's void.ttl); its asserted part
    # is the default graph's, each named graph a subset under its own IRI (tests/test_void.py).
    assert _value(triples, "/dataset#asserted", "triples") == [str(sum(sizes.values()))]
    assert _value(triples, "/graph/inferred", "triples") == ["2"]
    assert _value(triples, "#wikidata-links", "triples") == ["1"]
    assert _value(triples, "#wikidata-links", "linkPredicate") == ["http://www.w3.org/2002/07/owl#sameAs"]
    assert _value(triples, "#wikidata", "uriSpace") == ["http://www.wikidata.org/entity/"]
    assert _value(triples, "/dataset", "sparqlEndpoint") == ["http://localhost/sparql"]


def test_service_description_states_inference_and_limits(sc):
    r = sc.get("/sparql", headers={"Accept": "text/turtle"})
    assert r.status_code == 200 and r.mimetype == "text/turtle"
    text = r.get_data(as_text=True)
    assert "infer=true|false" in text and "default: infer=false" in text
    assert "http://www.w3.org/ns/entailment/OWL-RDF-Based" in text
    assert "1.5 s per query" in text and "50 result rows" in text


def test_browsers_asking_the_endpoint_get_its_description_as_a_page(sc):
    """Issue 14: the service description and VoID as HTML pages for browsers, RDF for everyone else."""
    r = sc.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200 and r.mimetype == "text/html" and r.headers["Vary"] == "Accept"
    html = r.get_data(as_text=True)
    assert "<h1>The SPARQL endpoint</h1>" in html and "infer=true|false" in html and "50 result rows" in html
    assert 'href="/sparql?format=ttl"' in html
    ttl = sc.get("/sparql?format=ttl", headers={"Accept": BROWSER_ACCEPT})
    assert ttl.status_code == 200 and ttl.mimetype == "text/turtle"
    void = sc.get("/.well-known/void", headers={"Accept": BROWSER_ACCEPT})
    assert void.status_code == 200 and void.mimetype == "text/html"
    text = void.get_data(as_text=True)
    assert "<h1>About the dataset</h1>" in text and 'href="/.well-known/void?format=ttl"' in text
    assert re.search(r"Links to Wikidata.*?<td>1</td>", text, re.S)  # the small graph has one sameAs link
    assert sc.get("/.well-known/void", headers={"Accept": "text/turtle"}).mimetype == "text/turtle"
    assert sc.get("/.well-known/void").mimetype == "text/turtle"  # no Accept: RDF, as before


def test_graph_store_get_named_and_default_graph(sc):
    meta = sc.get("/rdf-graphs", query_string={"graph": "https://w3id.org/cowkg/graph/meta"},
                  headers={"Accept": "application/n-triples"})
    assert meta.status_code == 200
    assert len(list(ox.parse(meta.get_data(), format=ox.RdfFormat.N_TRIPLES))) == 1
    default = sc.get("/rdf-graphs?default", headers={"Accept": "text/turtle"})
    assert default.status_code == 200 and b"keir-starmer" in default.get_data()
    assert "X-Cowkg-Truncated" not in default.headers  # graphs are never cut by the row cap
    assert sc.get("/rdf-graphs", query_string={"graph": "http://example.org/none"}).status_code == 404
    assert sc.get("/rdf-graphs").status_code == 400
    r = sc.put("/rdf-graphs?default", data=b"")
    assert r.status_code == 405 and "PUT" not in r.headers["Allow"]


def test_static_and_pages_revalidate_with_etags(sc):
    first = sc.get("/page/keir-starmer")
    assert first.headers["ETag"]
    again = sc.get("/page/keir-starmer", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def _ui_config(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="cowkg-config">(.*?)</script>', html,
                                re.S).group(1))


def test_ui_starts_on_the_first_competency_query_which_the_endpoint_runs(sc, root):
    """Examples sort by file name, so federation-wikidata.rq (SERVICE, refused) comes first: the
    editor must open on the first competency query (q01, ...) instead, and that one must run."""
    config = _ui_config(sc.get("/query").get_data(as_text=True))
    competency = sorted(p.stem for p in (root / "queries").glob("q[0-9]*-*.rq"))
    assert config["starter"] == competency[0]
    starter = next(e for e in config["examples"] if e["name"] == config["starter"])
    assert sc.post("/sparql", data={"query": starter["query"]}).status_code == 200
    refused = next(e for e in config["examples"] if re.search(r"SERVICE\s+<", e["query"]))
    assert sc.post("/sparql", data={"query": refused["query"]}).status_code == 400
    # ?query= still wins (the "query this" links); the starter is only the editor's first text.
    config = _ui_config(sc.get("/query", query_string={"query": "ASK {}"}).get_data(as_text=True))
    assert config["query"] == "ASK {}"


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
#: One URL for every GET route (a rule without one fails the test below, so new pages are covered).
ROUTE_SAMPLES = {
    "/static/<path:filename>": "/static/cowkg.css", "/sparql": "/sparql", "/.well-known/void": "/.well-known/void",
    "/rdf-graphs": "/rdf-graphs?default", "/id/<slug>": "/id/keir-starmer", "/data/<slug>.<ext>":
    "/data/keir-starmer.ttl", "/data": "/data?iri=" + STARMER, "/page/<slug>": "/page/keir-starmer",
    "/page": "/page?iri=https%3A%2F%2Fw3id.org%2Fcowkg%2Fontology%23Person", "/query": "/query", "/": "/",
    "/browse/": "/browse/", "/browse/<name>": "/browse/meetings", "/api/coalition": "/api/coalition?as_of=2025-09-04",
    "/favicon.ico": "/favicon.ico",
    "/api/search": "/api/search?q=starmer", "/search": "/search?q=starmer", "/health": "/health",
    "/api/views/<name>": "/api/views/timeline-count", "/timeline": "/timeline", "/attendance": "/attendance",
    "/graph": "/graph?iri=" + STARMER, "/map": "/map", "/reconcile": "/reconcile",
    "/reconcile/suggest/entity": "/reconcile/suggest/entity?prefix=starm",
    "/reconcile/suggest/type": "/reconcile/suggest/type?prefix=pers",
    "/reconcile/suggest/property": "/reconcile/suggest/property?prefix=lab",
    "/reconcile/propose_properties": "/reconcile/propose_properties",
    "/reconcile/flyout/<kind>": "/reconcile/flyout/entity?id=keir-starmer",
    "/reconcile/preview": "/reconcile/preview?id=keir-starmer", "/download/": "/download/",
    "/download/<path:name>": "/download/SHA256SUMS", "/ontology": "/ontology", "/ontology.<ext>": "/ontology.html",
    "/ontology/<version>": "/ontology/0.1.0", "/context.jsonld": "/context.jsonld",
    "/vocab/<name>": "/vocab/plan", "/graph/<name>": "/graph/data", "/dataset": "/dataset",
    "/alignment": "/alignment", "/statement/<name>": "/statement/WorkingGroup-P279-090f060e7eed1022",
    "/reference/<name>": "/reference/58743dcac6970f99e8a0268723c5cb2638ab59e6",
    "/value/<name>": "/value/672f1e8a6a17c370699098272314f52aacff8bf1",
    "404 page": "/no/such/page", "404 entity": "/page/nobody-at-all",
}
#: An HTML card for OpenRefine's preview iframe (its CSP forbids scripts and forms): not a page.
NOT_PAGES = {"/reconcile/preview"}


def site_nav(html: str) -> list[str]:
    """The links of the site navigation of a page."""
    m = re.search(r'<nav class="site" id="site-nav".*?</nav>', html, re.S)
    assert m, "no site navigation"
    return re.findall(r'href="([^"]+)"', m.group(0))


def test_every_html_page_has_the_label_search_box_and_the_same_navigation(client, app):
    rules = {r.rule for r in app.url_map.iter_rules() if "GET" in r.methods}
    assert rules <= set(ROUTE_SAMPLES), f"give a sample URL for {rules - set(ROUTE_SAMPLES)}"
    pages = set()
    navigation = site_nav(client.get("/").get_data(as_text=True))
    assert len(navigation) == 18  # home, 8 lists, 4 views, downloads, query, ontology, VoID, endpoint
    for rule, url in ROUTE_SAMPLES.items():
        r = client.get(url, headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True)
        if r.mimetype != "text/html" or rule in NOT_PAGES:
            r.close()
            continue
        pages.add(rule)
        html = r.get_data(as_text=True)
        assert re.search(r'<form[^>]*role="search"', html), f"{url} ({r.status_code}) has no label search box"
        assert 'id="search-box"' in html and "/static/search.js" in html, url
        assert site_nav(html) == navigation, f"{url} has another navigation"
        assert '<link rel="icon"' in html and "/static/site.js" in html, url
    assert {"/", "/query", "/search", "/page/<slug>", "/page", "/timeline", "/attendance", "/graph", "/map",
            "/download/", "/ontology", "/ontology.<ext>", "/ontology/<version>", "/sparql", "/id/<slug>",
            "/browse/", "/browse/<name>", "/.well-known/void", "/vocab/<name>", "/graph/<name>", "/dataset",
            "404 page", "404 entity"} <= pages


def test_void_uri_lookup_endpoint_takes_an_iri_and_returns_its_description(sc):
    """void:uriLookupEndpoint: a URL that, with an IRI appended, answers that IRI's description (RDF);
    the label search (JSON, by text) is described as a schema:SearchAction instead."""
    from urllib.parse import quote

    triples = _void(sc)
    [lookup] = _value(triples, "/dataset", "uriLookupEndpoint")
    assert lookup == "http://localhost/data?iri="
    r = sc.get(lookup + quote(STARMER, safe=""), headers={"Accept": "application/n-triples"})
    assert r.status_code == 200 and r.mimetype == "application/n-triples"
    described = [q.triple for q in ox.parse(r.get_data(), format=ox.RdfFormat.N_TRIPLES)]
    assert ox.Triple(ox.NamedNode(STARMER), ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"),
                     ox.NamedNode("http://www.wikidata.org/entity/Q6383")) in described
    assert r.get_data() == sc.get("/data/keir-starmer.nt").get_data()  # the entity's own download
    default = sc.get(lookup + quote(STARMER, safe=""))
    assert default.status_code == 200 and default.mimetype == "text/turtle" and default.headers["Vary"] == "Accept"
    term = sc.get("/data", query_string={"iri": "https://w3id.org/cowkg/ontology#Person", "format": "nt"})
    assert term.status_code == 200 and b"<https://w3id.org/cowkg/ontology#Person>" in term.get_data()
    missing = sc.get("/data", query_string={"iri": "http://example.org/none"})
    assert missing.status_code == 404 and missing.get_json()["error"] == "not-found"
    assert sc.get("/data", query_string={"iri": "not an iri"}).status_code == 400
    assert sc.get("/data").status_code == 400
    assert not any(t.object.value.startswith("http://localhost/api/search") for t in triples
                   if t.predicate.value.startswith("http://rdfs.org/ns/void#"))
    schema = "https://schema.org/"
    [action] = [t.object for t in triples if t.predicate.value == schema + "potentialAction"]
    assert ox.Triple(action, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                     ox.NamedNode(schema + "SearchAction")) in triples
    [target] = [t.object for t in triples if t.subject == action and t.predicate.value == schema + "target"]
    [template] = [t.object.value for t in triples
                  if t.subject == target and t.predicate.value == schema + "urlTemplate"]
    assert template == "http://localhost/api/search?q={query}"
    assert sc.get(template.replace("http://localhost", "").replace("{query}", "starmer")).get_json()["results"]


# --- issue 14: the front door ----------------------------------------------------------------------

LIST_NAMES = ("meetings", "states", "people", "organisations", "documents", "statements", "pledges", "places")


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#]+)"', html))


def test_home_starts_from_the_coalition_and_every_door_is_one_click_away(client):
    """From /: every view, list, download, the query editor and search, without SPARQL."""
    r = client.get("/")
    assert r.status_code == 200 and r.mimetype == "text/html"
    html = r.get_data(as_text=True)
    assert "yasgui" not in html.lower(), "the home page is not a query editor"
    links = hrefs(html)
    for path in ("/timeline", "/attendance", "/graph", "/map", "/download/", "/query",
                 *(f"/browse/{name}" for name in LIST_NAMES)):
        assert path in links, f"{path} is not linked from /"
    assert re.search(r'<form class="big-search" action="/search"', html)
    assert 'id="as-of-date" name="as_of"' in html
    # The coalition at a glance: counts with their dates, the force, the latest meetings and documents.
    assert re.search(r'data-scope="members".*?<strong>35</strong> countries.*?as of December 2025', html, re.S)
    assert "Who commands the force, from where" in html and "three-star" in html
    assert "Latest coalition meetings" in html and 'href="/page/meeting-14"' in html
    assert "Latest documents" in html


def test_favicon(client):
    with client.get("/favicon.ico") as r:
        assert r.status_code == 200 and r.mimetype == "image/vnd.microsoft.icon"
        data = r.get_data()
    assert data[:4] == b"\x00\x00\x01\x00" and b"PNG" in data[:40]
    with client.get("/static/favicon.svg") as svg:
        assert svg.status_code == 200 and b"<svg" in svg.get_data()


def test_entity_page_folds_inferred_duplicates_and_groups_by_meaning(client):
    """Macron's Wikidata item is "Wikidata: Q3052772" beside his name, never a second value; the
    inferred wdt:P664 repeating cow:hostOrChair is folded into it; dates read as people write them."""
    meeting = client.get("/page/meeting-11").get_data(as_text=True)
    assert "Q3052772" in meeting and "/page/emmanuel-macron" in meeting
    assert "wikidata.org/entity/Q3052772" not in meeting.split("<main")[1].replace(
        'title="http://www.wikidata.org/entity/Q3052772"', "")
    host_row = re.search(r'<tr><th scope="row">.*?host or chair.*?</tr>', meeting, re.S).group(0)
    assert "also as" in host_row and "wdt:P664" in host_row and host_row.count("/page/emmanuel-macron") == 1
    assert "Wikidata: <a href=\"https://www.wikidata.org/wiki/Q3052772\"" in host_row
    assert "4 September 2025" in meeting
    groups = re.findall(r'<section class="group" data-group="([^"]+)"', meeting)
    assert groups[:4] == ["What it is", "When", "Where", "Who"] and groups[-1] == "Sources"

    macron = client.get("/page/emmanuel-macron").get_data(as_text=True)
    assert re.search(r'<h1>Emmanuel Macron</h1>\s*<a class="wikidata" href="https://www.wikidata.org/wiki/Q3052772"',
                     macron)
    for group in ("Who", "Meetings and events", "Statements", "Sources"):
        assert f'data-group="{group}"' in macron
    cite = re.search(r'<p id="cite-text">(.*?)</p>', macron, re.S).group(1)
    assert "“Emmanuel Macron”" in cite and "https://w3id.org/cowkg/id/emmanuel-macron" in cite
    assert "Coalition of the willing (Russo-Ukrainian war)" in cite and "[45]" in cite
    see_in = re.search(r'<ul class="see-in".*?</ul>', macron, re.S).group(0)
    iri = "https%3A%2F%2Fw3id.org%2Fcowkg%2Fid%2Femmanuel-macron"
    for path in ("/graph?iri=", "/timeline?focus=", "/attendance?focus=", "/map?focus="):
        assert f'href="{path}{iri}"' in see_in, path
    assert 'href="/browse/statements?speaker=' + iri + '"' in see_in


def test_query_page_lists_examples_that_run_first_and_marks_the_federated_one(client):
    html = client.get("/query").get_data(as_text=True)
    config = _ui_config(html)
    groups = [e["group"] for e in config["examples"]]
    assert groups == sorted(groups, key=["competency", "wikidata", "federated"].index)
    assert groups[0] == "competency" and groups[-1] == "federated"
    federated = [e for e in config["examples"] if e["group"] == "federated"]
    assert federated and all("SERVICE" in e["query"] for e in federated)
    assert "federated: refused here" in html
    assert "q19-wikidata-view" in [e["name"] for e in config["examples"] if e["group"] == "wikidata"]
    assert html.index('id="infer"') < html.index('id="yasgui"'), "the inference switch sits above the editor"
    assert "How to ask" in html and html.count('class="example-inline"') == 3


def test_labels_api_gives_labels_and_pages(client):
    r = client.post("/api/labels", json={"iris": [STARMER, "http://example.org/none"]})
    assert r.status_code == 200
    assert r.get_json()["labels"] == {STARMER: {"label": "Keir Starmer", "page": "/page/keir-starmer"}}
    assert client.post("/api/labels", data="nonsense").status_code == 400


def test_list_facets_never_shadow_a_page_parameter():
    from cowkg.web.browse import LISTS, RESERVED

    for blist in LISTS.values():
        assert not RESERVED & {f.name for f in blist.facets}, blist.name
