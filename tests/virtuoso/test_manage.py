"""``cowkg virtuoso up|load|status|down`` on an instance of its own: lifecycle, idempotence, durability."""

from __future__ import annotations

import json
import shutil

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from conftest import ROOT, require

from cowkg.cli import main
from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

pytestmark = pytest.mark.virtuoso


def cowkg(*args: str, env: dict | None = None):
    return CliRunner().invoke(main, ["--root", str(ROOT), "virtuoso", *args], env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def own_dir(tmp_path_factory):
    require(shutil.which("virtuoso-t") is not None, "Virtuoso is not installed")
    directory = tmp_path_factory.mktemp("own-virtuoso")
    yield directory
    cowkg("down", "--dir", str(directory), "--purge")


def status(directory) -> tuple[int, dict]:
    r = cowkg("status", "--dir", str(directory), "--format", "json")
    return r.exit_code, json.loads(r.output)


def test_lifecycle_up_load_reload_down_restart(own_dir):
    first = cowkg("up", "--dir", str(own_dir), "--buffers", "10000")
    assert first.exit_code == 0, first.output
    again = cowkg("up", "--dir", str(own_dir))
    assert again.output == first.output  # the running server, not a second one
    code, info = status(own_dir)
    assert code == 0 and info["running"] and info["endpoint"].startswith("http://127.0.0.1:")

    loaded = cowkg("load", "--dir", str(own_dir), "--no-infer")
    assert loaded.exit_code == 0, loaded.output
    counts = status(own_dir)[1]["graphs"]
    assert counts[str(GRAPH_DATA)] > 1000 and counts[str(GRAPH_ONTOLOGY)] > 100
    assert cowkg("load", "--dir", str(own_dir), "--no-infer").exit_code == 0
    assert status(own_dir)[1]["graphs"] == counts  # reloading replaces, never duplicates

    down = cowkg("down", "--dir", str(own_dir))
    assert down.exit_code == 0 and "stopped" in down.output
    code, info = status(own_dir)
    assert code == 4 and not info["running"]
    assert not (own_dir / "virtuoso.lck").exists()

    assert cowkg("up", "--dir", str(own_dir), "--buffers", "10000").exit_code == 0
    assert status(own_dir)[1]["graphs"] == counts  # `shutdown;` checkpointed the bulk load (P5)


def test_reloading_blank_nodes_does_not_duplicate_them(own_dir):
    from cowkg.virtuoso import find_instance, manage

    instance = find_instance(own_dir)
    assert instance is not None and instance.alive()
    graph = "https://w3id.org/cowkg/graph/test-bnodes"
    triples = [t.triple for t in ox.parse('[] <http://e/p> "a" . [] <http://e/p> "b" . <http://e/s> <http://e/q> [] .',
                                          format=ox.RdfFormat.TURTLE)]
    for _ in range(2):
        report = manage.load(instance, {graph: triples})
        assert report.complete and report.loaded == {graph: 3}


def test_graph_store_load_reads_the_login_from_the_environment_only(own_dir):
    from cowkg.virtuoso import find_instance

    endpoint = find_instance(own_dir).endpoint
    missing = CliRunner().invoke(main, ["--root", str(ROOT), "virtuoso", "load", "--endpoint", endpoint, "--no-infer"],
                                 env={"COWKG_VIRTUOSO_PASSWORD": ""})
    assert missing.exit_code == 2 and "COWKG_VIRTUOSO_PASSWORD" in missing.output
    wrong = cowkg("load", "--endpoint", endpoint, "--no-infer", env={"COWKG_VIRTUOSO_PASSWORD": "not-the-password"})
    assert wrong.exit_code == 4 and "401" in wrong.output and "not-the-password" not in wrong.output
    before = status(own_dir)[1]["graphs"]
    ok = cowkg("load", "--endpoint", endpoint, "--no-infer", env={"COWKG_VIRTUOSO_PASSWORD": "dba"})
    assert ok.exit_code == 0, ok.output
    assert "graph store PUT" in ok.output
    assert status(own_dir)[1]["graphs"] == before
