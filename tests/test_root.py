"""Where the knowledge graph is read from: the checkout, a root named by COWKG_ROOT or --root, or
the copy shipped in an installed wheel (tests/test_wheel.py); a root without a graph is an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cowkg import __version__
from cowkg.cli import main
from cowkg.errors import NotFound
from cowkg.load import dataset_version, load_project
from cowkg.settings import CHECKOUT, GRAPH_DIRS, default_root, load_settings, project_paths

ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_a_checkout_reads_itself():
    assert CHECKOUT == ROOT
    assert default_root() == ROOT
    assert load_settings(environ={})["root"] == str(ROOT)
    assert load_settings(environ={})["cache_dir"] == str(ROOT / ".cache")


def test_the_root_setting_names_a_working_copy(tmp_path):
    assert load_settings(environ={"COWKG_ROOT": str(tmp_path)})["root"] == str(tmp_path)
    assert load_settings({"root": "/elsewhere"}, environ={"COWKG_ROOT": str(tmp_path)})["root"] == "/elsewhere"
    assert load_settings(environ={"COWKG_ROOT": ""})["root"] == str(ROOT)  # empty is the default
    assert project_paths(tmp_path) == {name: tmp_path / name for name in GRAPH_DIRS}


@pytest.mark.parametrize("make", [
    pytest.param(lambda tmp: tmp / "missing", id="missing"),
    pytest.param(lambda tmp: tmp, id="empty"),
    pytest.param(lambda tmp: (tmp / "data").mkdir() or (tmp / "data" / "x.ttl").write_text("") or tmp,
                 id="data-without-ontology"),
    pytest.param(lambda tmp: (tmp / "ontology").mkdir() or (tmp / "ontology" / "o.ttl").write_text("") or tmp,
                 id="ontology-without-data"),
])
def test_a_root_without_a_graph_is_an_error_not_an_empty_graph(tmp_path, make):
    root = make(tmp_path)
    with pytest.raises(NotFound) as err:
        load_project(root)
    assert f"no knowledge graph under {root}" in err.value.message
    assert "COWKG_ROOT" in err.value.hint
    assert err.value.exit_code == 2


@pytest.mark.parametrize("args", [
    ("query", "ASK {}"),
    ("query", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
    ("stats",),
    ("validate",),
    ("export", "--format", "nt"),
    ("reason",),
    ("serve", "--port", "1"),
], ids=lambda a: a[0])
def test_every_command_refuses_an_empty_root_with_exit_2(tmp_path, args):
    res = cli(*args, env={"COWKG_ROOT": str(tmp_path)})
    assert res.exit_code == 2, res.output
    assert f"no knowledge graph under {tmp_path}" in res.output
    assert "root setting (COWKG_ROOT or --root)" in res.output
    assert "conforms" not in res.output


def test_serve_over_virtuoso_refuses_an_empty_root_too(tmp_path):
    res = cli("--root", str(tmp_path), "serve", "--backend", "virtuoso", "--endpoint", "http://127.0.0.1:1/sparql")
    assert res.exit_code == 2
    assert "no knowledge graph under" in res.output


def test_version_prints_the_package_and_the_dataset():
    res = cli("--version")
    assert res.exit_code == 0
    assert res.output.splitlines() == [f"cowkg {__version__}", f"dataset {dataset_version(ROOT)} from {ROOT}"]
    assert dataset_version(ROOT) == "0.1.0"


def test_version_reads_the_dataset_of_the_root_given(tmp_path):
    for part in ("ontology", "data"):
        (tmp_path / part).mkdir()
    (tmp_path / "ontology" / "o.ttl").write_text("")
    (tmp_path / "data" / "meta").mkdir()
    (tmp_path / "data" / "d.ttl").write_text("")
    (tmp_path / "data" / "meta" / "m.ttl").write_text(
        '<https://w3id.org/cowkg/dataset> <http://www.w3.org/ns/dcat#version> "9.9" .\n')
    for args in (["--root", str(tmp_path), "--version"], ["--version", "--root", str(tmp_path)]):
        assert cli(*args).output.splitlines()[1] == f"dataset 9.9 from {tmp_path}"
    assert cli("--version", env={"COWKG_ROOT": str(tmp_path)}).output.splitlines()[1] == f"dataset 9.9 from {tmp_path}"


def test_version_of_an_empty_root_is_exit_2(tmp_path):
    res = cli("--version", env={"COWKG_ROOT": str(tmp_path)})
    assert res.exit_code == 2
    assert res.output.startswith(f"cowkg {__version__}\n")
    assert "no knowledge graph under" in res.output


def test_python_dash_m_cowkg_is_the_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cowkg", "--version"], capture_output=True, text=True, cwd=tmp_path,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == f"cowkg {__version__}"
    empty = subprocess.run([sys.executable, "-m", "cowkg", "stats", "--format", "json"], capture_output=True,
                           text=True, cwd=tmp_path, env={"COWKG_ROOT": str(tmp_path), "PATH": "/usr/bin:/bin"},
                           check=False)
    assert empty.returncode == 2 and empty.stdout == ""  # no JSON that reads as an empty graph
    assert "no knowledge graph under" in empty.stderr
