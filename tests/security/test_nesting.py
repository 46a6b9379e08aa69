"""Deep nesting and long operator chains (issue 17, finding 7): the engine's recursive parser and
evaluator crash the process on them (5,000 nested braces, 30,000 parentheses, 10,000 ``+``, 3,000
BINDs: segmentation fault). cowkg refuses them before the engine sees them — 400 over HTTP, exit 2
on the command line — and still answers deep but reasonable queries."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from conftest import ROOT

from cowkg.querytext import MAX_DEPTH, MAX_OPERATORS

HOSTILE = {
    "5000-braces": "SELECT * WHERE " + "{" * 5000 + "}" * 5000,
    "30000-parentheses": "SELECT * WHERE { FILTER(" + "(" * 30000 + "1" + ")" * 30000 + ") }",
    "2000-subqueries": "SELECT * WHERE " + "{ SELECT * WHERE " * 2000 + "{}" + " }" * 2000,
    "10000-plus": "SELECT * WHERE { FILTER(" + "+".join(["1"] * 10000) + " > 0) }",
    "3000-binds": "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?x{i})" for i in range(3000)) + " }",
    "1000-concat": "SELECT * WHERE { BIND(" + "CONCAT(" * 1000 + "'a'" + ")" * 1000 + " AS ?x) }",
    "10000-not": "SELECT * WHERE { FILTER(" + "!" * 10000 + "true) }",
}
FINE = {
    "depth-40": "SELECT * WHERE " + "{ " * 40 + "?s ?p ?o " + "} " * 40 + "LIMIT 1",
    "500-plus": "SELECT (" + "+".join(["1"] * 500) + " AS ?n) WHERE {}",
    "200-binds": "SELECT * WHERE { " + " ".join(f"BIND({i} AS ?x{i})" for i in range(200)) + " }",
}


def test_the_limits_are_far_from_real_queries():
    assert 50 <= MAX_DEPTH <= 500 and 500 <= MAX_OPERATORS <= 2500


@pytest.mark.parametrize("name", HOSTILE)
def test_the_server_answers_400_not_500(attack_server, name):
    resp = requests.post(attack_server.base + "/sparql", data=HOSTILE[name].encode(),
                         headers={"Content-Type": "application/sparql-query"}, timeout=60)
    assert resp.status_code == 400, resp.text[:300]
    body = resp.json()
    assert body["error"] == "query-too-complex" and ("max_depth" in body or "max_operators" in body)
    assert requests.get(attack_server.base + "/health", timeout=10).status_code == 200


@pytest.mark.parametrize("name", FINE)
def test_deep_but_reasonable_queries_are_answered(attack_server, name):
    resp = requests.post(attack_server.base + "/sparql", data=FINE[name].encode(),
                         headers={"Content-Type": "application/sparql-query", "Accept": "application/json"},
                         timeout=60)
    assert resp.status_code == 200, resp.text[:300]


@pytest.mark.parametrize("name", ["5000-braces", "30000-parentheses", "10000-plus"])
def test_the_cli_exits_2_with_a_message_not_a_crash(tmp_path, name):
    path = tmp_path / f"{name}.rq"
    path.write_text(HOSTILE[name])
    proc = subprocess.run([sys.executable, "-m", "cowkg", "query", "--file", str(path)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert "nests" in proc.stderr or "operators" in proc.stderr
    assert "Segmentation fault" not in proc.stderr
