"""Executable coverage: every inventory fact has an ASK that is true on the data and false once
the triples it matches are removed; nothing is copied from the article; only verified QIDs."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Variable

from cowkg.backends.embedded import run_query
from cowkg.coverage import coverage_files, inventory_ids, run_coverage, section_of
from cowkg.load import load_project, term_from_rdflib
from cowkg.store import build_store
from cowkg.vocab import ASSERTED_GRAPHS, PREFIXES

ROOT = Path(__file__).resolve().parent.parent
FILES = coverage_files(ROOT / "queries")


@pytest.fixture(scope="module")
def asserted():
    """The shipped graph without inference: coverage is about what the data asserts."""
    return build_store(load_project(ROOT))


def triple_templates(sparql: str) -> list[tuple]:
    """Triple patterns of the query's positive graph patterns (not those inside FILTERs)."""
    algebra = prepareQuery(sparql, initNs=PREFIXES).algebra
    found: list[tuple] = []

    def walk(node):
        if isinstance(node, CompValue):
            if node.name == "BGP":
                found.extend(node.triples)
                return
            for key, value in node.items():
                if node.name == "Filter" and key == "expr":
                    continue
                walk(value)
        elif isinstance(node, list | tuple):
            for item in node:
                walk(item)

    walk(algebra)
    return found


def matched_triples(kg, sparql: str) -> set[ox.Triple]:
    """Every triple the ASK's patterns bind on the data (what 'the fact's triples' means)."""
    templates = triple_templates(sparql)
    select = re.sub(r"(?im)^(\s*)ASK\b", r"\1SELECT *", sparql, count=1)
    rows = run_query(kg, select).records()
    out = set()
    for row in rows:
        for s, p, o in templates:
            terms = []
            for t in (s, p, o):
                if isinstance(t, Variable):
                    bound = row.get(str(t))
                    terms.append(bound)
                else:
                    terms.append(term_from_rdflib(t))
            if all(x is not None for x in terms):
                out.add(ox.Triple(*terms))
    return out


def test_inventory_is_fully_covered(shared, asserted):
    ids = inventory_ids(shared / "reference" / "fact-inventory.md")
    report = run_coverage(asserted, ids, ROOT / "queries")
    assert not report.errors, report.errors
    assert not report.extra, f"coverage files for IDs not in the inventory: {report.extra}"
    assert not report.missing, f"{len(report.missing)} facts have no coverage query: {report.missing[:20]}"
    assert not report.failing, f"{len(report.failing)} ASKs are false: {report.failing[:20]}"


def test_sections_are_the_inventory_sections(shared):
    ids = inventory_ids(shared / "reference" / "fact-inventory.md")
    assert len(ids) == 721
    assert {section_of(i) for i in ids} >= {"F-SRC", "F-MEET", "F-MEMB", "AMB"}


@pytest.mark.parametrize("fact_id", sorted(FILES), ids=sorted(FILES))
def test_ask_is_false_without_its_triples(asserted, fact_id):
    sparql = FILES[fact_id].read_text(encoding="utf-8")
    assert sparql.lstrip().startswith(f"# {fact_id}:"), "first line must be '# <ID>: <what it checks>'"
    assert run_query(asserted, sparql).boolean is True, "ASK is false on the shipped data"
    triples = matched_triples(asserted, sparql)
    assert triples, "the ASK binds no triples: it must name the fact's nodes"
    store = asserted.store
    graphs = [ox.NamedNode(str(g)) for g in ASSERTED_GRAPHS] + [ox.DefaultGraph()]  # and their merge
    removed = [q for t in triples for g in graphs for q in store.quads_for_pattern(t.subject, t.predicate, t.object, g)]
    try:
        for q in removed:
            store.remove(q)
        assert run_query(asserted, sparql).boolean is False, "ASK stays true with its triples removed"
    finally:
        for q in removed:
            store.add(q)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def test_no_article_sentence_is_copied(shared, asserted):
    """Any literal longer than 60 characters must not share a 61-character run with the article."""
    article = _norm((shared / "seed" / "000_cd87492ed5ae2ee9.txt").read_text(encoding="utf-8"))
    window = 61
    runs = {article[i:i + window] for i in range(len(article) - window + 1)}
    copies = []
    for q in asserted.store.quads_for_pattern(None, None, None, ox.NamedNode(str(ASSERTED_GRAPHS[1]))):
        if isinstance(q.object, ox.Literal) and len(q.object.value) > 60:
            text = _norm(q.object.value)
            if any(text[i:i + window] in runs for i in range(len(text) - window + 1)):
                copies.append(f"{q.subject} {q.predicate}: {q.object.value[:80]}")
    assert not copies, "literals copied from the article:\n" + "\n".join(copies)


def verified_qids(shared: Path) -> set[str]:
    with open(shared / "reference" / "wikidata-qids.tsv", encoding="utf-8") as fh:
        return {row["qid"] for row in csv.DictReader(fh, delimiter="\t") if row["status"] == "verified" and row["qid"]}


def test_only_verified_or_accepted_wikidata_links(shared, asserted):
    verified = verified_qids(shared)
    rows = run_query(asserted, """
        SELECT DISTINCT ?s ?q WHERE {
          { ?s owl:sameAs ?q } UNION { ?s ?p ?q . FILTER(STRSTARTS(STR(?p), STR(wdt:))) }
          FILTER(STRSTARTS(STR(?q), STR(wd:)))
          FILTER NOT EXISTS { ?link a <http://www.w3.org/ns/prov#Entity> ;
                                    <http://www.w3.org/1999/02/22-rdf-syntax-ns#subject> ?s ;
                                    <http://www.w3.org/1999/02/22-rdf-syntax-ns#object> ?q ;
                                    <http://www.w3.org/ns/prov#wasGeneratedBy> ?acceptance }
        }""").records()
    bad = [(r["s"].value, r["q"].value) for r in rows if r["q"].value.rsplit("/", 1)[-1] not in verified]
    assert not bad, f"Wikidata links to QIDs not verified in the reference table: {bad}"
