"""The CLI: exit codes and outputs of each command on the shipped data and on broken input."""

from __future__ import annotations

import json

from click.testing import CliRunner

from cowkg.cli import main


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_query_table_lists_classes():
    res = run("query", "SELECT ?c WHERE { ?c a owl:Class } LIMIT 2")
    assert res.exit_code == 0
    assert "(2 rows)" in res.output


def test_query_json_is_sparql_results_json():
    res = run("query", "--format", "json", "ASK { cowr:source-wikipedia-article a cow:Source }")
    assert res.exit_code == 0
    assert json.loads(res.output) == {"head": {}, "boolean": True}


def test_malformed_query_exits_2_with_line_and_column():
    res = run("query", "SELECT * WHERE {\n ?s ?p }")
    assert res.exit_code == 2
    assert "query:2:" in res.output


def test_broken_turtle_exits_2_with_file_line_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://e/> .\nex:a ex:b "open .\n')
    res = run("validate", "--data", str(bad))
    assert res.exit_code == 2
    assert f"{bad}:2:" in res.output


def test_export_infer_nt_has_wikidata_organiser_of_4_september_meeting(tmp_path):
    import rdflib

    out = tmp_path / "all.nt"
    res = run("export", "--infer", "--format", "nt", "-o", str(out))
    assert res.exit_code == 0
    g = rdflib.Graph().parse(out, format="nt")
    rows = list(g.query("""
        PREFIX wdt: <http://www.wikidata.org/prop/direct/>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX cow: <https://w3id.org/cowkg/ontology#>
        SELECT ?m WHERE {
          ?m cow:date "2025-09-04"^^<http://www.w3.org/2001/XMLSchema#date> ; wdt:P664 ?p .
          ?p owl:sameAs <http://www.wikidata.org/entity/Q3052772> .
        }"""))
    assert rows


def test_reason_reports_inferred_count():
    res = run("reason")
    assert res.exit_code == 0
    assert "triples inferred by" in res.output


def test_validate_shipped_data_exits_0():
    res = run("validate")
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("conforms")


def test_validate_broken_fixture_exits_1_with_focus_and_line():
    res = run("validate", "--data", "tests/fixtures/broken/plan-with-occurred-date.ttl")
    assert res.exit_code == 1
    assert "plan-with-occurred-date.ttl:" in res.output and "cowr:x cow:date" in res.output


def test_stats_json_lists_graphs_and_classes():
    res = run("stats", "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["shacl"]["conforms"] is True
    assert data["classes"]["cow:CoalitionMeeting"] == 14


def test_coverage_is_complete():
    res = run("coverage")
    assert res.exit_code == 0, res.output[-2000:]
    assert "721/721" in res.output
