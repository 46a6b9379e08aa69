"""Incomplete data is never served silently (issue 17, finding 9): a data file cut at a statement
boundary, emptied or deleted makes ``cowkg serve`` stop with the validation report (exit 1) unless
``--allow-invalid``; ``/health`` reports the triples of each graph, so a monitor sees a short one."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import requests
from conftest import ROOT
from servers import COWKG_SERVE, serving


def project_copy(tmp_path):
    root = tmp_path / "project"
    for part in ("ontology", "data", "shapes", "queries"):
        shutil.copytree(ROOT / part, root / part)
    return root


def cut_at_a_statement(path):
    text = path.read_text(encoding="utf-8")
    blocks = text.split("\n\n")
    path.write_text("\n\n".join(blocks[: len(blocks) // 2]) + "\n", encoding="utf-8")


DAMAGE = {
    "meetings-cut": lambda root: cut_at_a_statement(root / "data" / "meetings.ttl"),
    "actors-emptied": lambda root: (root / "data" / "actors.ttl").write_text(""),
    "places-deleted": lambda root: (root / "data" / "places.ttl").unlink(),
}


def serve_env(tmp_path, root):
    return {**os.environ, "COWKG_ROOT": str(root), "COWKG_CACHE_DIR": str(tmp_path / "cache"),
            "COWKG_REASONER": "reasonable"}


@pytest.mark.parametrize("how", DAMAGE)
def test_serve_refuses_damaged_data_with_the_report(tmp_path, how):
    root = project_copy(tmp_path)
    DAMAGE[how](root)
    proc = subprocess.run([*COWKG_SERVE, "--port", "1"], capture_output=True, text=True,
                          env=serve_env(tmp_path, root), timeout=600)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert "does not conform" in proc.stderr and "--allow-invalid" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_allow_invalid_serves_and_health_shows_the_short_graph(tmp_path, kg):
    root = project_copy(tmp_path)
    full = requests.Session()
    DAMAGE["actors-emptied"](root)
    with serving([*COWKG_SERVE, "--workers", "1", "--allow-invalid"], env=serve_env(tmp_path, root),
                 log=tmp_path / "server.log", wait=300) as server:
        health = full.get(server.base + "/health", timeout=30).json()
    data = health["graphs"]["https://w3id.org/cowkg/graph/data"]
    whole = kg.graph_sizes()["https://w3id.org/cowkg/graph/data"]
    assert 0 < data < whole - 500, (data, whole)  # actors.ttl alone holds more than 500 triples
    assert health["release"] and health["status"] == "ok"


def test_a_validated_start_is_remembered(tmp_path):
    """The second start on unchanged files skips SHACL (the verdict is cached by input digest)."""
    root = project_copy(tmp_path)
    env = serve_env(tmp_path, root)
    for _ in range(2):
        with serving([*COWKG_SERVE, "--workers", "1"], env=env, log=tmp_path / "server.log", wait=300) as server:
            assert requests.get(server.base + "/health", timeout=30).status_code == 200
    assert len(list((tmp_path / "cache").glob("conforms-*.json"))) == 1


def test_serve_over_an_unreachable_store_exits_4_without_a_traceback():
    proc = subprocess.run([*COWKG_SERVE, "--port", "1", "--backend", "virtuoso", "--endpoint",
                           "http://127.0.0.1:9/sparql"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 4, proc.stderr[-1500:]
    assert "cannot reach the SPARQL endpoint" in proc.stderr and "Traceback" not in proc.stderr


def test_serve_on_a_busy_port_says_so(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run([*COWKG_SERVE, "--port", str(port)], capture_output=True, text=True, timeout=300,
                              cwd=ROOT)
    assert proc.returncode == 2, proc.stderr[-1500:]
    assert f"port {port} is in use" in proc.stderr and "--port" in proc.stderr and "Traceback" not in proc.stderr
