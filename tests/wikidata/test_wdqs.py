"""Queries written for the Wikidata Query Service run unchanged: over /sparql with no cowkg
parameter, on the embedded store and on Virtuoso, label service included; `cowkg query` too.

- 295 facts of the fact inventory, as WDQS queries in statement form with their qualifiers and, for
  best-rank statements, in truthy form (fixtures/inventory-facts.rq): every one is true;
- the gallery (queries/wikidata/*.rq, shown among the UI's examples): each gives its recorded
  answer (tests/wikidata/gallery/<name>.csv, written by scripts/update_wikidata_gallery.py);
- the label service (``SERVICE wikibase:label``) is answered inside cowkg, with language
  fallback, descriptions, aliases and the manual form; any other SERVICE is still refused (400).
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from conftest import BACKENDS, served_over

from cowkg.backends.embedded import run_query
from cowkg.cli import main
from cowkg.errors import QuerySyntaxError, UnsupportedOperation
from cowkg.querytext import parse_query
from cowkg.wdqs import uses_wikidata_vocabulary

ROOT = Path(__file__).resolve().parents[2]
FACTS = Path(__file__).parent / "fixtures" / "inventory-facts.rq"
GALLERY = sorted((ROOT / "queries" / "wikidata").glob("*.rq"))
EXPECTED = Path(__file__).parent / "gallery"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def server(backend, live_server, request):
    """``cowkg serve`` on the shipped data: the embedded store, then Virtuoso."""
    return served_over(backend, live_server, request)


def sparql(server: str, query: str, **params) -> requests.Response:
    """The query as a WDQS user sends it: GET /sparql?query=…, JSON, nothing else."""
    return requests.get(server + "/sparql", params={"query": query, **params},
                        headers={"Accept": "application/sparql-results+json"}, timeout=120)


def rows(server: str, query: str) -> list[dict[str, str]]:
    resp = sparql(server, query)
    assert resp.status_code == 200, resp.text[:500]
    body = resp.json()
    return [{v: cell(b.get(v)) for v in body["head"]["vars"]} for b in body["results"]["bindings"]]


def cell(term: dict | None) -> str:
    return "" if term is None else term["value"]


def facts() -> list[tuple[str, str]]:
    """(heading, ASK query) of every fact of fixtures/inventory-facts.rq."""
    text = FACTS.read_text(encoding="utf-8")
    out = []
    for block in re.split(r"\n(?=# [A-Z]+-)", text):
        lines = block.strip().splitlines()
        if lines and lines[0].startswith("# ") and any(line.startswith("ASK") for line in lines):
            out.append((lines[0][2:], "\n".join(line for line in lines[1:])))
    return out


def test_the_inventory_set_is_large_and_in_wikidatas_vocabulary():
    found = facts()
    assert len(found) >= 80
    ids = {heading.split(":")[0] for heading, _ in found}
    assert len(ids) == len(found), "one query per inventory ID"
    for heading, query in found:
        assert uses_wikidata_vocabulary(parse_query(query)), heading
        assert "cow:" not in query.replace("cowr:", "").replace("cowv:", ""), f"{heading}: cowkg's vocabulary"
    natures = sum("pq:P5102" in q for _, q in found)
    assert natures >= 20 and sum("wdt:" in q and "NOT EXISTS" not in q for _, q in found) >= 150


def test_inventory_facts_hold_as_wdqs_queries(server):
    failed = []
    for heading, query in facts():
        resp = sparql(server, query)
        assert resp.status_code == 200, (heading, resp.text[:300])
        if resp.json()["boolean"] is not True:
            failed.append(heading)
    assert not failed, f"{len(failed)} facts not found: {failed[:10]}"


def test_both_member_counts_coexist_and_plans_are_never_truthy(server):
    counts = rows(server, """SELECT ?n ?asOf ?rank WHERE {
        ?c wdt:P31 cow:Coalition ; p:P2124 ?st . ?st ps:P2124 ?n ; pq:P585 ?asOf ; wikibase:rank ?rank .
        FILTER NOT EXISTS { ?st pq:P5102 ?nature } } ORDER BY ?asOf""")
    assert [(Decimal(r["n"]), r["asOf"][:10], r["rank"].rsplit("#", 1)[-1]) for r in counts] == [
        (Decimal(34), "2025-11-25", "NormalRank"), (Decimal(35), "2025-12-01", "PreferredRank")]
    assert [Decimal(r["n"]) for r in rows(server, "SELECT ?n WHERE { ?c wdt:P31 cow:Coalition ; wdt:P2124 ?n }")] \
        == [Decimal(35)]
    truthy_plans = rows(server, """SELECT ?item ?wdt ?v WHERE {
        ?prop wikibase:claim ?claim ; wikibase:statementProperty ?ps ; wikibase:directClaim ?wdt .
        ?item ?claim ?st . ?st pq:P5102 ?nature ; ?ps ?v ; a wikibase:BestRank }""")
    assert truthy_plans == []
    assert rows(server, "SELECT ?hq WHERE { ?f wdt:P31 cow:MultinationalForce ; wdt:P159 ?hq }") == [
        {"hq": "https://w3id.org/cowkg/id/fort-mont-valerien"}]


def normalise(value: str, column: str) -> object:
    """One cell compared across engines: numbers by value (Virtuoso writes 35 or 35.0, booleans as
    1/0), times without their zone letter, WKT points in capitals (Virtuoso writes POINT), aliases
    (GROUP_CONCAT: order undefined) sorted."""
    if value.upper().startswith("POINT("):
        return value.upper()
    if column.endswith("AltLabel"):
        return tuple(sorted(value.split(", ")))
    if value in ("true", "false"):
        return Decimal(value == "true")
    try:
        return Decimal(value).normalize()
    except InvalidOperation:
        return value.removesuffix("Z") if re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:]+Z?", value) else value


def as_rows(records: list[dict[str, str]]) -> list[tuple]:
    return sorted(tuple(sorted((k, normalise(v, k)) for k, v in r.items())) for r in records)


@pytest.mark.parametrize("path", GALLERY, ids=[p.stem for p in GALLERY])
def test_gallery_query_gives_its_answer(server, path):
    query = path.read_text(encoding="utf-8")
    lines = query.splitlines()
    assert lines[0].startswith("# title: ") and lines[1].startswith("# description: ") and lines[1].endswith("?")
    with open(EXPECTED / f"{path.stem}.csv", encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh))
    got = rows(server, query)
    assert expected, "every gallery query has rows"
    assert as_rows(got) == as_rows(expected)


def test_the_gallery_is_large_and_in_the_ui_examples(client):
    assert len(GALLERY) >= 20
    page = client.get("/query").get_data(as_text=True)
    for path in GALLERY:
        assert f"wikidata/{path.stem}" in page, path.stem


# --- the label service -----------------------------------------------------------------------------

def test_label_service_falls_back_through_the_languages(server):
    force = "?f wdt:P31 cow:MultinationalForce ."
    got = rows(server, f'SELECT ?fLabel WHERE {{ {force} SERVICE wikibase:label {{ bd:serviceParam wikibase:language '
                       f'"de,fr,en". }} }}')
    assert got == [{"fLabel": "Force multinationale en Ukraine"}]
    got = rows(server, f'SELECT ?fLabel ?fDescription WHERE {{ {force} SERVICE wikibase:label '
                       f'{{ bd:serviceParam wikibase:language "[AUTO_LANGUAGE],fr". }} }}')
    assert got[0]["fLabel"] == "Multinational Force Ukraine" and got[0]["fDescription"].startswith("The coalition")
    aliases = rows(server, f'SELECT ?fAltLabel WHERE {{ {force} SERVICE wikibase:label {{ bd:serviceParam '
                           f'wikibase:language "en". }} }}')[0]["fAltLabel"]
    assert {"MNF-U", "MFU", "reassurance force"} <= set(aliases.split(", "))


def test_an_item_without_a_label_shows_its_id_and_an_unbound_variable_none(server):
    got = rows(server, """SELECT ?x ?xLabel ?y ?yLabel WHERE { VALUES ?x { wd:Q999999999 } OPTIONAL { ?x wdt:P31 ?y }
                          SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""")
    assert got == [{"x": "http://www.wikidata.org/entity/Q999999999", "xLabel": "Q999999999", "y": "", "yLabel": ""}]


def test_manual_form_and_select_star(server):
    manual = rows(server, """SELECT ?p ?name ?about WHERE { wd:Q6383803 p:P39/ps:P39 ?p .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". ?p rdfs:label ?name .
                                 ?p schema:description ?about . } }""")
    assert manual == [{"p": "http://www.wikidata.org/entity/Q14211", "name": "Prime Minister of the United Kingdom",
                       "about": ""}]
    star = sparql(server, """SELECT * WHERE { wd:Q6383803 wdt:P39 ?p .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""").json()
    assert star["head"]["vars"] == ["p"], "helper variables stay hidden"


@pytest.mark.parametrize("query", [
    'SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } SERVICE wikibase:label { '
    'bd:serviceParam wikibase:language "en". } }',
    'SELECT ?xLabel WHERE { ?x wdt:P31 ?c SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } '
    'SERVICE wikibase:label { SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } } }',
    'SELECT ?xLabel WHERE { ?x wdt:P31 ?c SERVICE wikibase:mwapi { bd:serviceParam wikibase:api "Search" } }',
])
def test_every_other_service_is_still_refused(server, query):
    resp = sparql(server, query)
    assert resp.status_code == 400, resp.text[:300]
    assert "SERVICE" in resp.json()["message"] or "label service" in resp.json()["message"]


def test_the_rewrite_adds_no_service_and_maps_positions_back():
    text = ('SELECT ?mLabel WHERE {\n  ?m wdt:P585 ?d .\n  SERVICE wikibase:label {\n'
            '    bd:serviceParam wikibase:language "en".\n  }\n}\nORDER BY ?d')
    parsed = parse_query(text)
    rewritten = parsed.engine_text
    assert "SERVICE" not in rewritten.upper() and rewritten.endswith("}\nORDER BY ?d")
    assert parsed.written_offset(rewritten.index("ORDER BY")) == text.index("ORDER BY")


def test_queries_in_cowkgs_vocabulary_do_not_see_the_view(server):
    """The dataset changes only for queries in Wikidata's vocabulary: cowkg's own answers are unchanged."""
    n = rows(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s a cow:CoalitionMeeting }")[0]["n"]
    assert n == "14"
    assert rows(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://wikiba.se/ontology#rank> ?r }")[0]["n"] != "0"
    own = rows(server, "SELECT DISTINCT ?p WHERE { cowr:meeting-11 ?p ?o }")
    assert own and not any(r["p"].startswith("http://www.wikidata.org/") for r in own)


def test_cowkg_query_runs_wdqs_queries_unchanged():
    res = CliRunner().invoke(main, ["query", "--format", "csv", """SELECT ?meetingLabel ?date WHERE {
        ?meeting p:P179/pq:P1545 "12" ; wdt:P585 ?date .
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }"""])
    assert res.exit_code == 0, res.output
    assert "Coalition meeting 12" in res.output and "2025-10-24T00:00:00Z" in res.output


# --- in process (cowkg.backends.embedded.run_query) ------------------------------------------------------------

LABELS_FR_EN = 'SERVICE wikibase:label { bd:serviceParam wikibase:language "fr,en". }'


def local_rows(kg, sparql: str) -> list[dict[str, str | None]]:
    return [{k: (v.value if v is not None else None) for k, v in r.items()} for r in run_query(kg, sparql).records()]


# --- the dataset is chosen from the vocabulary ----------------------------------------------------------

@pytest.mark.parametrize(("query", "wikidata"), [
    ("SELECT ?x WHERE { ?x wdt:P31 ?c }", True),
    ("SELECT ?st WHERE { ?i p:P463 ?st . ?st pq:P585 ?d }", True),
    ("PREFIX w: <http://www.wikidata.org/prop/direct/> SELECT ?x WHERE { ?x w:P17 ?c }", True),
    ("SELECT ?x WHERE { ?x <http://wikiba.se/ontology#rank> ?r }", True),
    ("SELECT ?x WHERE { ?x a cow:CoalitionMeeting }", False),
    ("PREFIX wdt: <http://www.wikidata.org/prop/direct/> SELECT ?x WHERE { ?x a cow:Person }", False),
    ("SELECT ?x WHERE { ?x rdfs:comment 'wdt:P31 http://www.wikidata.org/' }", False),
])
def test_wikidata_vocabulary_is_recognised_from_the_terms_used(query, wikidata):
    assert uses_wikidata_vocabulary(parse_query(query)) is wikidata


TRICKY = [  # texts where a quick reading could miss a Wikidata IRI the token walk finds
    "BASE <http://www.wikidata.org/entity/> SELECT ?x WHERE { ?x ?p <Q42> }",
    "SELECT ?x WHERE { ?x <http://www.wiki\\u0064ata.org/prop/direct/P31> ?c }",
    "PREFIX w: <http://www.> SELECT ?x WHERE { ?x w:wikidata.org/prop/direct/P31 ?c }",
    "PREFIX : <http://www.wikidata.org/prop/direct/> SELECT ?x WHERE { ?x :P31 ?c }",
    "PREFIX wd: <https://example.org/> SELECT ?x WHERE { ?x wdt:P31 wd:Q5 }",
    "SELECT ?x WHERE { ?x schema:name ?n }",
    "SELECT ?x WHERE { ?x <http://schema.org/name> ?n }",
    "SELECT ?x WHERE { ?x bd:serviceParam ?n }",
]


@pytest.mark.parametrize("query", [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").rglob("*.rq"))]
                         + [FACTS.read_text(encoding="utf-8")] + TRICKY)
def test_the_quick_reading_never_clears_a_query_the_token_walk_finds_in_wikidatas_vocabulary(query):
    from cowkg.vocab import sparql_prologue
    from cowkg.wdqs import _may_use_wikidata_vocabulary, _names_wikidata_iri

    for text in (query, sparql_prologue() + query):  # with a long prologue, its reading is cached
        parsed = parse_query(text)
        if _names_wikidata_iri(parsed):
            assert _may_use_wikidata_vocabulary(parsed), text


def test_the_quick_reading_clears_the_common_query():
    from cowkg.vocab import sparql_prologue
    from cowkg.wdqs import _may_use_wikidata_vocabulary

    cleared = [p.name for p in sorted((ROOT / "queries").glob("*.rq"))
               if not _may_use_wikidata_vocabulary(parse_query(sparql_prologue() + p.read_text(encoding="utf-8")))]
    assert len(cleared) >= 20, cleared


def test_a_wdqs_query_finds_statements_qualifiers_and_truthy_values_without_a_parameter(kg):
    """Both member counts coexist with their dates; the later one is preferred and truthy."""
    counts = local_rows(kg, """SELECT ?n ?when ?rank WHERE { ?c wdt:P31 ?type ; p:P2124 ?st .
                         ?st ps:P2124 ?n ; pq:P585 ?when ; wikibase:rank ?rank } ORDER BY ?when""")
    assert [(r["n"], r["when"][:10], r["rank"].rsplit("#")[-1]) for r in counts] == [
        ("34", "2025-11-25", "NormalRank"), ("35", "2025-12-01", "PreferredRank")]
    assert local_rows(kg, "SELECT ?n WHERE { ?c wdt:P2124 ?n }") == [{"n": "35"}]
    # the same question in cowkg's vocabulary still reads only the asserted graphs
    assert local_rows(kg, "SELECT ?n WHERE { ?c wdt:P2124 ?n FILTER(?c = cow:nothing) }") == []
    assert not any(r.startswith("http://www.wikidata.org/prop/") for r in
                   (x["p"] for x in local_rows(kg, "SELECT DISTINCT ?p WHERE { ?s ?p ?o }")))


def test_plans_are_never_truthy_facts(kg):
    """A statement qualified as a plan (P5102) has no wdt: triple of its own."""
    leaked = local_rows(kg, """SELECT ?item ?prop ?v WHERE {
        ?item ?claim ?st . ?st pq:P5102 ?nature ; wikibase:rank ?rank .
        ?prop wikibase:claim ?claim ; wikibase:statementProperty ?ps ; wikibase:directClaim ?wdt .
        ?st ?ps ?v . ?item ?wdt ?v .
        FILTER NOT EXISTS { ?item ?claim ?other . FILTER(?other != ?st) ?other ?ps ?v
                            FILTER NOT EXISTS { ?other pq:P5102 ?n2 } } }""")
    assert leaked == []


# --- the label service ------------------------------------------------------------------------------------

def test_label_service_binds_label_description_and_aliases_with_language_fallback(kg):
    found = local_rows(kg, f"""SELECT ?c ?cLabel ?cAltLabel WHERE {{ BIND(cowr:coalition AS ?c) {LABELS_FR_EN} }}""")
    assert found == [{"c": "https://w3id.org/cowkg/id/coalition", "cLabel": "Coalition des Volontaires",
                      "cAltLabel": "CdV"}]
    english = local_rows(kg, """SELECT ?cLabel WHERE { BIND(cowr:coalition AS ?c)
                          SERVICE wikibase:label { bd:serviceParam wikibase:language "de,en". } }""")
    assert english[0]["cLabel"] != "Coalition des Volontaires" and english[0]["cLabel"]
    # Starmer has no French label: English is the fallback, a position's label in English too.
    starmer = local_rows(kg, f"""SELECT ?pLabel ?posLabel WHERE {{ wd:Q6383803 p:P39/ps:P39 ?pos .
                            BIND(wd:Q6383803 AS ?p) {LABELS_FR_EN} }}""")
    assert {"pLabel": "Keir Starmer", "posLabel": "Prime Minister of the United Kingdom"} in starmer


def test_label_falls_back_to_the_identifier_and_a_description_to_nothing(kg):
    found = local_rows(kg, """SELECT ?xLabel ?xDescription WHERE { BIND(wd:Q999999999 AS ?x)
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""")
    assert found == [{"xLabel": "Q999999999", "xDescription": None}]


def test_an_unbound_entity_gets_no_label_and_multiplies_no_row(kg):
    found = local_rows(kg, """SELECT ?x ?xLabel WHERE { OPTIONAL { cowr:coalition wdt:P9999 ?x }
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } }""")
    assert found == [{"x": None, "xLabel": None}]


def test_manual_mode_and_select_star_show_only_the_query_variables(kg):
    result = run_query(kg, """SELECT * WHERE { BIND(wd:Q6383803 AS ?p)
        SERVICE wikibase:label { bd:serviceParam wikibase:language "en" . ?p rdfs:label ?name } }""")
    assert result.variables == ["p", "name"]
    assert [r["name"].value for r in result.records()] == ["Keir Starmer"]


def test_a_label_service_in_a_subquery_labels_its_own_rows(kg):
    found = local_rows(kg, """SELECT ?o ?oLabel WHERE { { SELECT ?o ?oLabel WHERE { cowr:meeting-11 wdt:P664 ?o .
                        SERVICE wikibase:label { bd:serviceParam wikibase:language "en". } } } }""")
    assert found == [{"o": "http://www.wikidata.org/entity/Q3052772", "oLabel": "Emmanuel Macron"}]


@pytest.mark.parametrize("query", [
    # another SERVICE beside the label service
    "SELECT * WHERE { ?s ?p ?o SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' } "
    "SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    # wikibase: redefined: the block is an ordinary remote call
    "PREFIX wikibase: <http://127.0.0.1:9/> SELECT * WHERE { ?s ?p ?o "
    "SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' } }",
    # a SERVICE inside the label block is no label parameter
    "SELECT * WHERE { ?s ?p ?o SERVICE wikibase:label { bd:serviceParam wikibase:language 'en' . "
    "SERVICE <http://127.0.0.1:9/> { ?a ?b ?c } } }",
    # the escape trick of issue 17 around a label service
    "PREFIX ex: <http://ex/> SELECT ?x WHERE { VALUES ?v { ex:a\\#b } SERVICE wikibase:label { "
    "bd:serviceParam wikibase:language 'en' } SERVICE <http://127.0.0.1:9/sparql> { ?x ?y ?z } }",
])
def test_every_other_service_is_still_refused_in_process(kg, query):
    with pytest.raises((UnsupportedOperation, QuerySyntaxError)):
        run_query(kg, query)


def test_a_label_block_without_language_says_what_and_where(kg):
    with pytest.raises(QuerySyntaxError) as err:
        run_query(kg, "SELECT ?xLabel WHERE { ?x a cow:Person .\n  SERVICE wikibase:label { } }")
    assert "language" in err.value.message and err.value.location.line == 2


def test_syntax_errors_after_a_label_block_point_at_the_text_as_written(kg):
    query = ("SELECT ?xLabel WHERE { ?x wdt:P31 ?c . SERVICE wikibase:label { bd:serviceParam "
             "wikibase:language 'en' } }\nLIMIT x")
    with pytest.raises(QuerySyntaxError) as err:
        run_query(kg, query)
    assert (err.value.location.line, err.value.location.column) == (2, 7)
