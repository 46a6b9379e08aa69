"""The wheel carries the knowledge graph: `python -m build`, then `pip install` into a fresh venv
outside the checkout, then every command run from an empty temporary directory answers as the
checkout does. Slow (a build and an install with dependencies); never skipped."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

import pytest
from conftest import ROOT
from servers import serving

from cowkg import __version__
from cowkg.settings import GRAPH_DIRS

pytestmark = pytest.mark.slow

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def run(argv: list[str | Path], *, env: dict[str, str] | None = None, cwd: Path | None = None,
        check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, env=env, cwd=cwd, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"{argv} exited {proc.returncode}:\n{proc.stdout.decode()[-2000:]}\n"
                             f"{proc.stderr.decode()[-4000:]}")
    return proc


def graph_files() -> set[str]:
    """The graph as the checkout holds it: every file of ontology/, data/, shapes/, queries/."""
    return {str(p.relative_to(ROOT)) for d in GRAPH_DIRS for p in (ROOT / d).rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """``python -m build``: the sdist, then the wheel built from it (as PyPI users get it)."""
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--outdir", out, ROOT], cwd=ROOT)
    return out


@pytest.fixture(scope="module")
def wheel(dist) -> Path:
    (path,) = dist.glob("cowkg-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """A fresh venv outside the checkout with the wheel installed; its bin/ and a clean environment
    (no COWKG_* variables, caches under a temporary XDG_CACHE_HOME, cwd an empty directory)."""
    base = tmp_path_factory.mktemp("installed")
    run([sys.executable, "-m", "venv", base / "venv"])
    run([base / "venv" / "bin" / "python", "-m", "pip", "install", "-q", wheel])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COWKG_", "PYTHON", "VIRTUAL_ENV"))}
    env["XDG_CACHE_HOME"] = str(base / "cache")
    (base / "cwd").mkdir()
    return base / "venv" / "bin", env, base / "cwd"


@pytest.fixture(scope="module")
def cowkg(installed):
    """Run the installed ``cowkg`` from the empty directory; returns the completed process."""
    bin_dir, env, cwd = installed

    def call(*args: str, check: bool = True, extra_env: dict[str, str] | None = None):
        return run([bin_dir / "cowkg", *args], env={**env, **(extra_env or {})}, cwd=cwd, check=check)

    return call


def checkout_answer(client, query: str) -> list[dict]:
    r = client.get("/sparql", query_string={"query": query})
    assert r.status_code == 200, r.get_data()
    return r.get_json()["results"]["bindings"]


def test_the_wheel_and_the_sdist_carry_the_graph(dist, wheel):
    expected = graph_files()
    assert {"ontology/cowkg.ttl", "data/meta/dataset.ttl", "shapes/cowkg-shapes.ttl",
            "queries/q01-meetings-by-date.rq"} <= expected
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        assert {n.removeprefix("cowkg/graph/") for n in names if n.startswith("cowkg/graph/")} == expected
        assert z.read("cowkg/graph/data/meta/dataset.ttl") == (ROOT / "data/meta/dataset.ttl").read_bytes()
        assert any(n.startswith("cowkg/web/templates/") for n in names)
        assert any(n.startswith("cowkg/web/static/vendor/") for n in names)  # the UI works offline
    (sdist,) = dist.glob("cowkg-*.tar.gz")
    with tarfile.open(sdist) as t:
        top = f"{sdist.name.removesuffix('.tar.gz')}/"
        members = {m.name.removeprefix(top) for m in t.getmembers() if m.isfile()}
    assert expected <= members
    assert "scripts/build_hooks.py" in members
    assert not [m for m in members if m.startswith("tests/")]  # they need ../shared and conftest.py to run


def test_version_names_the_package_and_the_shipped_dataset(cowkg, installed):
    lines = cowkg("--version").stdout.decode().splitlines()
    assert lines[0] == f"cowkg {__version__}"
    assert lines[1].startswith("dataset 0.1.0 from ")
    shipped = Path(lines[1].split(" from ", 1)[1])
    assert shipped.parts[-2:] == ("cowkg", "graph") and "site-packages" in shipped.parts
    assert not shipped.is_relative_to(ROOT)


def test_query_counts_the_triples_the_checkout_counts(cowkg, client):
    out = json.loads(cowkg("query", "--format", "json", COUNT).stdout)
    assert out["results"]["bindings"][0]["n"]["value"] == checkout_answer(client, COUNT)[0]["n"]["value"]
    assert int(out["results"]["bindings"][0]["n"]["value"]) > 10_000


def test_validate_conforms_on_the_shipped_graph(cowkg):
    proc = cowkg("validate", "--format", "json")
    assert json.loads(proc.stdout)["conforms"] is True


def test_stats_counts_every_asserted_graph_as_the_checkout(cowkg, client):
    stats = json.loads(cowkg("stats", "--format", "json").stdout)
    checkout = {b["g"]["value"]: int(b["n"]["value"]) for b in checkout_answer(client, PER_GRAPH)}
    asserted = {g: n for g, n in stats["graphs"].items() if not g.endswith(("/inferred", "/wikibase"))}
    assert asserted == {g: n for g, n in checkout.items() if g in asserted}
    assert len(asserted) == 3 and all(asserted.values())
    assert stats["shacl"]["conforms"] is True
    assert stats["graphs"]["https://w3id.org/cowkg/graph/inferred"] > 0


def test_export_is_byte_for_byte_the_checkouts(cowkg, installed):
    _, _, cwd = installed
    cowkg("export", "--format", "nt", "-o", "cowkg.nt")
    mine = (cwd / "cowkg.nt").read_bytes()
    theirs = run([sys.executable, "-m", "cowkg", "--root", ROOT, "export", "--format", "nt"], cwd=ROOT).stdout
    assert hashlib.sha256(mine).hexdigest() == hashlib.sha256(theirs).hexdigest()
    assert mine.count(b"\n") > 10_000


def test_serve_answers_health_and_queries(installed, client, tmp_path):
    bin_dir, env, cwd = installed
    with serving([str(bin_dir / "cowkg"), "serve", "--workers", "1"], log=tmp_path / "serve.log", env=env,
                 cwd=cwd, wait=300) as server:
        with urlopen(server.base + "/health", timeout=30) as r:
            assert r.status == 200
            health = json.load(r)
        with urlopen(f"{server.base}/sparql?query={quote(COUNT)}", timeout=60) as r:
            answer = json.load(r)
    assert health["backend"] == "embedded"
    assert answer["results"]["bindings"] == checkout_answer(client, COUNT)


@pytest.mark.parametrize("root", ["/empty", "empty-dir"])
def test_an_empty_root_is_exit_2_with_the_setting_to_change(cowkg, installed, root):
    _, _, cwd = installed
    if root == "empty-dir":
        (cwd / root).mkdir(exist_ok=True)
        root = str(cwd / root)
    proc = cowkg("query", "ASK {}", check=False, extra_env={"COWKG_ROOT": root})
    assert proc.returncode == 2
    assert proc.stdout == b""
    err = proc.stderr.decode()
    assert f"no knowledge graph under {root}" in err and "COWKG_ROOT" in err


def test_imported_from_the_zip_the_graph_is_extracted_once(installed, wheel, client):
    """A zip import (the wheel itself on PYTHONPATH) reads the graph through importlib.resources."""
    bin_dir, env, cwd = installed
    zipped = {**env, "PYTHONPATH": str(wheel)}
    where = run([bin_dir / "python", "-c", "import cowkg, cowkg.settings as s; print(cowkg.__file__); "
                 "print(s.load_settings()['root'])"], env=zipped, cwd=cwd).stdout.decode().splitlines()
    assert where[0].startswith(str(wheel))
    extracted = Path(where[1])
    assert extracted.is_relative_to(Path(env["XDG_CACHE_HOME"]) / "cowkg" / "graph")
    assert {str(p.relative_to(extracted)) for p in extracted.rglob("*") if p.is_file()} == graph_files()
    out = run([bin_dir / "python", "-m", "cowkg", "query", "--format", "json", COUNT], env=zipped, cwd=cwd).stdout
    assert json.loads(out)["results"]["bindings"][0]["n"]["value"] == checkout_answer(client, COUNT)[0]["n"]["value"]


def test_an_editable_install_is_quiet_and_reads_the_checkout(tmp_path):
    """`pip install -e .` prints no setuptools banner (the flat layout is declared in pyproject.toml)
    and the installed package reads the checkout, so curators' edits count at once."""
    run([sys.executable, "-m", "venv", tmp_path / "venv"])
    # This venv's pip (the one scripts/setup.sh installs) shows what the build backend warns; older ones hide it.
    proc = run([sys.executable, "-m", "pip", "--python", tmp_path / "venv" / "bin" / "python", "install",
                "--no-deps", "-e", ROOT], cwd=tmp_path)
    output = (proc.stdout + proc.stderr).decode()
    assert "Successfully installed cowkg" in output
    warnings = [line for line in output.splitlines() if "warning" in line.lower()
                and "Location 'file://" not in line]  # this machine's pip.conf lists index paths that may not exist
    assert warnings == [] and "!!" not in output and "*****" not in output, output
    where = run([tmp_path / "venv" / "bin" / "python", "-c", "import cowkg.settings as s; print(s.default_root())"],
                cwd=tmp_path, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)}).stdout.decode().strip()
    assert where == str(ROOT)
