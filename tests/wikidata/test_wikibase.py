"""The Wikibase view (cowkg/wikibase.py): the graph in Wikidata's RDF dump format, from one table.

These tests read the view through an explicit dataset (the asserted graphs + cowg:wikibase), so
they check the view itself; tests/wikidata/test_wdqs.py checks that queries written for the
Wikidata Query Service find it with no cowkg parameter.
"""

from __future__ import annotations

import csv
import os
import signal
from pathlib import Path

import pyoxigraph as ox
import pytest

from cowkg.backends.embedded import run_query
from cowkg.load import CachedTriples, load_project
from cowkg.vocab import ASSERTED_GRAPHS, GRAPH_INFERRED, GRAPH_WIKIBASE, WD
from cowkg.wikibase import PendingView, build_view, quantity_value, read_table, time_value

ROOT = Path(__file__).resolve().parents[2]
VIEW = [str(g) for g in (*ASSERTED_GRAPHS, GRAPH_WIKIBASE)]


def wb(kg, sparql: str):
    """``sparql`` over the asserted graphs and the Wikibase view."""
    return run_query(kg, sparql, default_graph_uris=VIEW)


def values(kg, sparql: str, var: str = "v") -> list[str]:
    return sorted(r[var].value for r in wb(kg, sparql).records() if r[var] is not None)


def test_every_statement_has_one_value_a_rank_and_a_reference_stated_in_its_source(kg):
    """Every fact has a reference; only the ontology's class hierarchy (P279) and the typing of the
    project's own sources state what no source says."""
    bad = wb(kg, """SELECT ?st WHERE { ?st a wikibase:Statement . ?item ?claim ?st .
        FILTER(NOT EXISTS { ?st wikibase:rank ?r }
            || NOT EXISTS { ?st prov:wasDerivedFrom/pr:P248 ?source }
                  && NOT EXISTS { ?item wdt:P31 cow:Source } && ?claim != p:P279
            || NOT EXISTS { ?prop wikibase:claim ?claim ; wikibase:statementProperty ?ps . ?st ?ps ?v }) }""")
    assert not bad.rows, [r["st"].value for r in bad.rows[:5]]
    article = values(kg, "SELECT DISTINCT ?v WHERE { ?st prov:wasDerivedFrom/pr:P854 ?v }")
    assert article == ["https://en.wikipedia.org/wiki/Coalition_of_the_willing_(Russo-Ukrainian_war)"]


def test_truthy_triples_are_exactly_the_best_rank_statements(kg):
    """As Wikidata derives them: item wdt:Pn v for each statement typed wikibase:BestRank, no other."""
    orphan = wb(kg, """SELECT ?i ?d ?v WHERE { ?prop wikibase:directClaim ?d ; wikibase:claim ?c ;
                                                      wikibase:statementProperty ?ps .
        ?i ?d ?v . FILTER NOT EXISTS { ?i ?c ?st . ?st a wikibase:BestRank ; ?ps ?v } }""")
    assert not orphan.rows, orphan.records()[:3]
    missing = wb(kg, """SELECT ?st WHERE { ?prop wikibase:directClaim ?d ; wikibase:claim ?c ;
                                                  wikibase:statementProperty ?ps .
        ?i ?c ?st . ?st a wikibase:BestRank ; ?ps ?v . FILTER NOT EXISTS { ?i ?d ?v } }""")
    assert not missing.rows


def test_both_member_counts_coexist_with_their_dates_and_the_later_is_preferred(kg):
    rows = wb(kg, """SELECT ?n ?date ?what ?rank ?truthy WHERE {
        cowr:coalition p:P2124 ?st . ?st ps:P2124 ?n ; pq:P585 ?date ; pq:P459 ?what ; wikibase:rank ?rank .
        FILTER NOT EXISTS { ?st pq:P5102 ?nature }
        BIND(EXISTS { cowr:coalition wdt:P2124 ?n } AS ?truthy) } ORDER BY ?date""").records()
    got = [(r["n"].value, r["date"].value, r["what"].value.rsplit("/", 1)[-1], r["rank"].value.rsplit("#", 1)[-1],
            r["truthy"].value) for r in rows]
    assert got == [("34", "2025-11-25T00:00:00Z", "committedCountries", "NormalRank", "false"),
                   ("35", "2025-12-01T00:00:00Z", "members", "PreferredRank", "true")]
    precision = values(kg, """SELECT ?v WHERE { cowr:coalition p:P2124 ?st . ?st ps:P2124 ?n ;
                                                 pqv:P585/wikibase:timePrecision ?v . FILTER(?n = 35) }""")
    assert precision == ["10"], "as of December 2025: month precision"


def test_plans_proposals_claims_and_reports_are_qualified_and_never_truthy(kg):
    natures = values(kg, "SELECT DISTINCT ?v WHERE { ?st pq:P5102 ?v }")
    assert {"https://w3id.org/cowkg/vocab/" + s for s in ("plan", "proposal", "claim", "report", "refquote")} \
        <= set(natures)
    truthy = wb(kg, """SELECT ?i ?v WHERE { ?prop wikibase:directClaim ?d ; wikibase:claim ?c ;
                                                   wikibase:statementProperty ?ps .
        ?i ?c ?st . ?st pq:P5102 ?nature ; ?ps ?v . ?i ?d ?v .
        FILTER NOT EXISTS { ?i ?c ?other . ?other ?ps ?v . FILTER NOT EXISTS { ?other pq:P5102 ?n2 } } }""")
    assert not truthy.rows, truthy.records()[:5]
    assert not wb(kg, "ASK { ?st pq:P5102 ?n ; a wikibase:BestRank }").boolean
    # the force's working language is a plan (and an excerpt); the planned Kyiv HQ is a plan
    assert not wb(kg, "ASK { cowr:mnf-u wdt:P2936 ?language }").boolean
    assert values(kg, "SELECT ?v WHERE { cowr:mnf-u p:P2936 [ ps:P2936 ?v ; pq:P5102 cowv:plan ] }") == \
        [str(WD) + "Q1860"]
    assert not wb(kg, "ASK { cowr:hq-kyiv wdt:P276 ?where }").boolean


def test_headquarters_in_paris_is_a_fact_and_the_rotation_to_london_is_not(kg):
    assert values(kg, "SELECT ?v WHERE { cowr:mnf-u wdt:P159 ?v }") == ["https://w3id.org/cowkg/id/fort-mont-valerien"]
    rows = wb(kg, """SELECT ?v ?nature ?replaces WHERE { cowr:mnf-u p:P159 ?st . ?st ps:P159 ?v ; pq:P5102 ?nature .
                                                         OPTIONAL { ?st pq:P1365 ?replaces } } ORDER BY ?v""").records()
    got = {(r["v"].value.rsplit("/", 1)[-1], r["nature"].value.rsplit("/", 1)[-1],
            r["replaces"].value.rsplit("/", 1)[-1] if r["replaces"] else None) for r in rows}
    assert got == {("Q84", "refquote", "fort-mont-valerien"), ("Q1899", "plan", None)}


def test_positions_held_with_their_dates_and_titles_as_printed(kg):
    rows = wb(kg, """SELECT ?date ?title WHERE { wd:Q6383803 p:P39 ?st . ?st ps:P39 wd:Q14211 ; pq:P585 ?date ;
                                                 pq:P1932 ?title } ORDER BY ?title""").records()
    assert [(r["date"].value, r["title"].value) for r in rows] == [
        ("2025-03-02T00:00:00Z", "British Prime Minister"),
        ("2025-03-02T00:00:00Z", "Prime Minister of the United Kingdom")]
    assert values(kg, "SELECT ?v WHERE { wd:Q615077 wdt:P39 ?v }") == [str(WD) + "Q2747647"]
    assert not wb(kg, "ASK { wd:Q30164902 p:P39 ?st }").boolean, "AMB-06: no office for Luke Pollard"
    # reported, not stated: the Times' title for Šakalienė is a report
    assert values(kg, """SELECT ?v WHERE { cowr:dovile-sakaliene p:P39/pq:P5102 ?v }""") == \
        ["https://w3id.org/cowkg/vocab/report"]


def test_meetings_have_series_ordinals_dates_and_organisers(kg):
    rows = wb(kg, """SELECT ?n ?date WHERE { ?m p:P179 [ ps:P179 cowr:coalition-meeting-series ; pq:P1545 ?n ] ;
                                               wdt:P585 ?date } ORDER BY xsd:integer(?n)""").records()
    assert [r["n"].value for r in rows] == [str(n) for n in range(1, 15)]
    assert rows[11]["date"].value == "2025-10-24T00:00:00Z"
    assert values(kg, "SELECT ?v WHERE { ?m p:P179/pq:P1545 \"11\" ; wdt:P664 ?v }") == [str(WD) + "Q3052772"]


def test_references_carry_the_citation_marker_and_the_retrieved_date(kg):
    markers = values(kg, """SELECT ?v WHERE { cowr:meeting-12 p:P664 ?st . ?st prov:wasDerivedFrom ?ref .
                                            ?ref pr:P958 ?v ; pr:P813 ?retrieved }""")
    assert markers == ["[100]"]
    precisions = values(kg, "SELECT DISTINCT ?v WHERE { ?r a wikibase:Reference ; prv:P813/wikibase:timePrecision ?v }")
    assert precisions == ["10"]


def test_items_are_wikidata_iris_only_where_a_verified_link_exists(kg, shared):
    with (shared / "reference" / "wikidata-qids.tsv").open(encoding="utf-8") as fh:
        verified = {r["qid"] for r in csv.DictReader(fh, delimiter="\t") if r["status"] == "verified"}
    used = {v.rsplit("/", 1)[-1] for v in values(kg, """SELECT DISTINCT ?v WHERE {
        { ?v a wikibase:Item } UNION { ?st a wikibase:Statement ; ?p ?v . FILTER(isIRI(?v)) }
        FILTER(STRSTARTS(STR(?v), STR(wd:Q))) }""")}
    constants = {"Q199", "Q1985727", "Q2"}  # unit "1", proleptic Gregorian calendar, Earth
    assert used - constants <= verified, sorted(used - constants - verified)
    assert "Q3052772" in used and "Q15860072" in used


def test_each_item_has_one_name_per_language(kg):
    """As on Wikidata: one rdfs:label and one schema:name per language, in the merged default graph."""
    dup = wb(kg, """SELECT ?i ?lang (COUNT(DISTINCT ?l) AS ?n) WHERE { ?i a wikibase:Item .
        { ?i rdfs:label ?l } UNION { ?i <http://schema.org/name> ?l }
        BIND(LANG(?l) AS ?lang) } GROUP BY ?i ?lang ?p HAVING (COUNT(DISTINCT ?l) > 2)""")
    assert not dup.rows
    names = wb(kg, """SELECT ?i ?lang (COUNT(?l) AS ?n) WHERE { ?i <http://schema.org/name> ?l BIND(LANG(?l) AS ?lang) }
                      GROUP BY ?i ?lang HAVING (COUNT(?l) > 1)""")
    assert not names.rows
    assert values(kg, "SELECT ?v WHERE { wd:Q142 rdfs:label ?v }") == ["France"]
    assert values(kg, "SELECT ?v WHERE { cowr:mnf-u <http://schema.org/name> ?v FILTER(LANG(?v) = 'fr') }") == \
        ["Force multinationale en Ukraine"]


def test_the_view_repeats_no_asserted_or_inferred_triple(kg):
    n = wb(kg, f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{GRAPH_WIKIBASE}> {{ ?s ?p ?o }}
                   GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{GRAPH_WIKIBASE}>) }}""")
    assert int(n.rows[0]["n"].value) == 0
    assert str(GRAPH_INFERRED) != str(GRAPH_WIKIBASE)


def test_property_entities_describe_their_predicates(kg):
    rows = wb(kg, """SELECT ?type ?direct ?label WHERE { wd:P2124 a wikibase:Property ; wikibase:propertyType ?type ;
                                                      wikibase:directClaim ?direct ; rdfs:label ?label }""").records()
    assert [(r["type"].value, r["direct"].value, r["label"].value) for r in rows] == [
        ("http://wikiba.se/ontology#Quantity", "http://www.wikidata.org/prop/direct/P2124", "member count")]


def test_every_row_of_the_table_states_something(kg):
    """A row that matches nothing is a typo, except the ones the data cannot yet fill."""
    table = read_table(kg.store, ox.DefaultGraph())
    used = {r["p"].value.rsplit("/", 1)[-1] for r in wb(kg, """SELECT DISTINCT ?p WHERE {
        ?st a wikibase:Statement . ?i ?c ?st . ?prop wikibase:claim ?c . BIND(?prop AS ?p) }""").records()}
    empty = {row.pid for row in table.rows} - used
    assert empty == {"P576"}, "the ontology can state a dissolution; no organisation of the article has ended"
    required = ("P31 P17 P276 P131 P159 P740 P571 P576 P1619 P585 P580 P582 P112 P488 P664 P710 P1132 P2124 P463 P39 "
                "P1813 P1448 P2936 P1114 P2130 P2047 P50 P577 P123 P1891 P1365 P1366 P749 P2541").split()
    assert set(required) <= {row.pid for row in table.rows}
    qualifiers = {q.pid for row in table.rows for q in row.qualifiers}
    assert {"P585", "P580", "P1545", "P1810", "P1932", "P459"} <= qualifiers
    assert {"P854", "P813", "P1683", "P958", "P248"} <= {s.pid for s in table.snaks}


@pytest.mark.parametrize("lexical, datatype, stamp, precision", [
    ("2025-03-02", "date", "2025-03-02T00:00:00Z", "11"),
    ("2025-12", "gYearMonth", "2025-12-01T00:00:00Z", "10"),
    ("2025", "gYear", "2025-01-01T00:00:00Z", "9"),
    ("2025-03-02T14:00:00Z", "dateTime", "2025-03-02T00:00:00Z", "11"),
])
def test_time_values_keep_their_precision(lexical, datatype, stamp, precision):
    v = time_value(ox.Literal(lexical, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#" + datatype)))
    assert v.simple.value == stamp
    assert dict((p.rsplit("#", 1)[-1], o.value) for p, o in v.node)["timePrecision"] == precision


def test_quantities_are_decimals_with_unit_one_or_their_unit():
    v = quantity_value(ox.Literal("1600000000.0", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")))
    assert v.simple.value == "1600000000"
    assert dict((p.rsplit("#", 1)[-1], o.value) for p, o in v.node)["quantityUnit"] == str(WD) + "Q199"
    assert quantity_value(ox.Literal("not a number")) is None


def test_view_is_cached_by_input_and_rebuilt_when_damaged(tmp_path, caplog):
    sources = load_project(ROOT)
    first = build_view(sources, tmp_path)
    second = build_view(sources, tmp_path)
    assert not first.cached and second.cached
    assert set(first.triples) == set(second.triples)
    (cache,) = tmp_path.glob("wikibase-*.nt")
    data = cache.read_bytes()
    cache.write_bytes(data[: len(data) // 2])  # truncated
    third = build_view(sources, tmp_path)
    assert not third.cached and set(third.triples) == set(first.triples)
    assert "damaged" in caplog.text
    cache.write_bytes(data.replace(b"Q3052772", b"Q0000001", 1))  # forged
    assert not build_view(sources, tmp_path).cached


def test_a_malformed_row_is_reported_with_its_pattern(tmp_path):
    bad = tmp_path / "bad-row.ttl"
    bad.write_text("@prefix cowa: <https://w3id.org/cowkg/alignment#> .\n"
                   "@prefix wdt: <http://www.wikidata.org/prop/direct/> .\n"
                   'cowa:broken a cowa:StatementMapping ; cowa:property wdt:P31 ; cowa:where "?item ?value" .\n')
    sources = load_project(ROOT, extra=[bad])
    with pytest.raises(ValueError, match="malformed pattern"):
        build_view(sources)


@pytest.fixture(scope="module")
def sources():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def here(sources):
    return build_view(sources)


def test_a_view_built_beside_is_the_view_built_here_and_is_cached(sources, here, tmp_path):
    pending = PendingView(sources, tmp_path, beside=True)
    assert pending.beside
    view = pending.result()
    assert isinstance(view.triples, CachedTriples) and not view.triples.parsed  # the store parses it
    assert set(view.triples) == set(here.triples) and view.statements == here.statements
    again = PendingView(sources, tmp_path, beside=True)
    assert not again.beside and again.result().cached  # read from the cache the first one wrote


def test_a_malformed_row_is_reported_from_the_helper_too(tmp_path):
    bad = tmp_path / "bad-row.ttl"
    bad.write_text("@prefix cowa: <https://w3id.org/cowkg/alignment#> .\n"
                   "@prefix wdt: <http://www.wikidata.org/prop/direct/> .\n"
                   'cowa:broken a cowa:StatementMapping ; cowa:property wdt:P31 ; cowa:where "?item ?value" .\n')
    with pytest.raises(ValueError, match="malformed pattern"):
        PendingView(load_project(ROOT, extra=[bad]), beside=True).result()


def test_a_lost_helper_costs_only_time(sources, here, caplog):
    pending = PendingView(sources, beside=True)
    os.kill(pending._job._process.pid, signal.SIGKILL)
    view = pending.result()
    assert "ended without an answer" in caplog.text and "building the Wikibase view in this process" in caplog.text
    assert set(view.triples) == set(here.triples)


def test_a_helper_that_cannot_start_costs_only_time(sources, here, monkeypatch, caplog):
    def refuse():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", refuse)
    pending = PendingView(sources, beside=True)
    assert not pending.beside and "cannot start a helper process" in caplog.text
    assert set(pending.result().triples) == set(here.triples)


def test_small_graphs_build_their_view_here_and_large_ones_beside(sources, monkeypatch):
    assert not PendingView(sources).beside  # the shipped graph: below BESIDE_MIN_TRIPLES
    monkeypatch.setattr("cowkg.wikibase.BESIDE_MIN_TRIPLES", 1)
    with PendingView(sources) as pending:
        assert pending.beside


def test_open_project_stops_the_helper_when_the_check_before_the_view_fails(monkeypatch, tmp_path):
    from cowkg.store import open_project

    monkeypatch.setattr("cowkg.wikibase.BESIDE_MIN_TRIPLES", 1)
    started = []
    real = PendingView.__init__

    def spy(self, *args, **kwargs):
        real(self, *args, **kwargs)
        started.append(self)

    monkeypatch.setattr(PendingView, "__init__", spy)

    def check(kg):
        assert (kg.wikibase is None and len(kg.store) > 0
                and not any(kg.store.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_WIKIBASE)))))
        raise RuntimeError("does not conform")

    with pytest.raises(RuntimeError, match="does not conform"):
        open_project(ROOT, cache_dir=tmp_path, before_view=check, with_inference=False)
    (pending,) = started
    assert pending.beside and pending._job is None  # cancelled: no helper left running
    assert not list(tmp_path.glob("wikibase-*.nt"))


def test_open_project_with_the_view_beside_gives_the_same_store(monkeypatch, tmp_path, kg):
    from cowkg.store import open_project

    monkeypatch.setattr("cowkg.wikibase.BESIDE_MIN_TRIPLES", 1)
    beside = open_project(ROOT, cache_dir=tmp_path, with_inference=False)
    sizes = kg.graph_sizes()
    assert beside.graph_sizes() == {**sizes, str(GRAPH_INFERRED): 0}  # (blank nodes differ between two parses)

    def view(graph):
        return set(graph.store.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_WIKIBASE))))
    assert view(beside) == view(kg)


def _runner_over(sources):
    from cowkg.wikibase import _Runner

    store = ox.Store()
    store.extend(ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())
                 for t in sources.triples(str(g) for g in ASSERTED_GRAPHS))
    return _Runner(store, [ox.DefaultGraph()])


def test_the_hash_join_gives_what_the_values_join_gives_for_every_pattern_of_the_table():
    """The view joins the table's patterns with the facts by hash (the engine's VALUES join is a
    nested loop, 777 s at 1M triples); both orders must give the same (row, value) pairs."""
    sources = load_project(ROOT)
    runner = _runner_over(sources)
    table = read_table(runner.store, ox.DefaultGraph())
    facts = {row.iri: runner.facts(row) for row in table.rows}
    every = [f for fs in facts.values() for f in fs]
    pairs = sorted({(f.item, f.record) for f in every}, key=str)
    checked = 0
    for row in table.rows:
        triples = [(f.item, f.value, f.record) for f in facts[row.iri]]
        for q in (*row.qualifiers, *table.common):
            expected = set(runner._matches_by_values(("item", "value", "record"), triples, q.where, "qualifier"))
            assert set(runner.matches(("item", "value", "record"), triples, q.where, "qualifier")) == expected, q.iri
            checked += bool(expected)
    for s in table.snaks:
        expected = set(runner._matches_by_values(("item", "record"), pairs, s.where, "snak"))
        assert set(runner.matches(("item", "record"), pairs, s.where, "snak")) == expected, s.iri
        checked += bool(expected)
    assert checked > 10


@pytest.mark.parametrize("where", [
    # a row variable only read by a FILTER: the rows must be bound first
    "?record cow:status ?out . FILTER(?record != ?item)",
    # bound in one branch of a UNION only: unbound solutions join every row
    "{ ?record cow:status ?out } UNION { ?item skos:prefLabel ?out }",
    # OPTIONAL over a row variable: a left join depends on what is bound before it
    "?record cow:status ?out . OPTIONAL { ?record cow:attendee ?item }",
    "?record cow:status ?s . BIND(COALESCE(?item, ?s) AS ?out)",
    "?record cow:status ?out . FILTER NOT EXISTS { ?record cow:attendee ?item }",
])
def test_patterns_that_read_row_variables_give_the_same_matches(where):
    sources = load_project(ROOT)
    runner = _runner_over(sources)
    rows = [(r["item"], r["record"]) for r in runner.select(
        "SELECT ?item ?record WHERE { ?record a cow:Attendance ; cow:attendee ?item } LIMIT 40")]
    rows += [(ox.NamedNode("https://w3id.org/cowkg/id/nobody"), rows[0][1])]
    expected = set(runner._matches_by_values(("item", "record"), rows, where, "out"))
    assert expected
    assert set(runner.matches(("item", "record"), rows, where, "out")) == expected
