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
