"""``cowkg serve`` from its start, behind either front: it serves as soon as the evaluators that
answer its first queries are forked (``evaluator.RESERVED``), and holds all of them (the
``evaluators`` setting, per worker) a moment later — issue 15: the first answer does not wait for
every evaluator. With granian each worker forks its own (``front.REST_OF_EVALUATORS_AFTER``); with
the native front the master forks them all (``native_front.Master``)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import requests
from servers import COWKG_SERVE, serving

from cowkg.web.evaluator import RESERVED

ROOT = Path(__file__).resolve().parents[2]


def children(pid: int) -> list[int]:
    """The processes ``pid`` forked (from any of its threads)."""
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def test_workers_answer_first_and_hold_all_their_evaluators_soon_after(tmp_path, checkout_cache, native_querytext):
    env = {**os.environ, "COWKG_EVALUATORS": "6", "COWKG_FRONT": "granian"}
    with serving([*COWKG_SERVE, "--workers", "2"], log=tmp_path / "server.log", env=env, cwd=ROOT,
                 wait=300) as server:
        answered = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answered.status_code == 200 and answered.json()["boolean"] is True
        workers = children(server.process.pid)
        assert len(workers) == 2
        assert all(len(children(w)) >= RESERVED for w in workers)
        deadline = time.monotonic() + 30
        while (counts := [len(children(w)) for w in workers]) != [6, 6]:
            assert time.monotonic() < deadline, f"evaluators per worker after 30 s: {counts}"
            time.sleep(0.2)
        health = requests.get(server.base + "/health", timeout=30).json()
        assert health["evaluators"]["per_worker"] == 6
        assert health["evaluators"]["network_confined"] is True
        assert health["native_scanner"] is True  # the checkout's build (scripts/setup.sh)
    assert "query texts read by the native scanner for plain queries" in (tmp_path / "server.log").read_text()


def test_a_server_told_not_to_use_the_native_scanner_says_so(tmp_path, checkout_cache):
    env = {**os.environ, "COWKG_EVALUATORS": "2", "COWKG_NATIVE": "off", "COWKG_FRONT": "auto"}
    with serving([*COWKG_SERVE, "--workers", "1"], log=tmp_path / "server.log", env=env, cwd=ROOT,
                 wait=300) as server:
        assert requests.get(server.base + "/health", timeout=30).json()["native_scanner"] is False
        answered = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answered.json()["boolean"] is True
    assert "query texts read by Python only" in (tmp_path / "server.log").read_text()


def fake_loop_package(where: Path, name: str, marker: Path) -> None:
    """A package ``name`` whose ``new_event_loop`` leaves ``marker`` behind, then gives asyncio's
    loop: granian's ``auto`` loop picks rloop, then uvloop, when it can import them."""
    (where / name).mkdir(parents=True)
    (where / name / "__init__.py").write_text(
        "import asyncio, pathlib\n"
        "def new_event_loop():\n"
        f"    pathlib.Path({str(marker)!r}).write_text({name!r})\n"
        "    return asyncio.new_event_loop()\n")


def test_an_installed_uvloop_or_rloop_does_not_change_the_event_loop(tmp_path, checkout_cache):
    """Workers run asyncio's own loop, the one the server is tested on, even when uvloop or rloop
    is installed: granian's ``auto`` would take either one silently (with uvloop, 61 of 2,594
    unique queries were wrongly answered 503: bench/results/event_loop_before_fix.txt)."""
    site, marker = tmp_path / "site", tmp_path / "picked"
    for name in ("uvloop", "rloop"):
        fake_loop_package(site, name, marker)
    env = {**os.environ, "COWKG_EVALUATORS": "2",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    with serving([*COWKG_SERVE, "--workers", "1"], log=tmp_path / "server.log", env=env, cwd=ROOT,
                 wait=300) as server:
        answered = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answered.status_code == 200 and answered.json()["boolean"] is True
    assert not marker.exists(), f"the worker ran {marker.read_text()}'s event loop"


def confined(pid: int) -> bool:
    try:
        return "\nSeccomp:\t2" in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_the_native_front_answers_first_and_holds_every_evaluator_soon_after(tmp_path, checkout_cache,
                                                                              native_front):
    from cowkg.web.native_front import PAGE_WORKERS

    env = {**os.environ, "COWKG_EVALUATORS": "3", "COWKG_FRONT": "auto"}  # auto: native, since it is built
    with serving([*COWKG_SERVE, "--workers", "2"], log=tmp_path / "server.log", env=env, cwd=ROOT,
                 wait=300) as server:
        answered = requests.get(server.base + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                                headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answered.status_code == 200 and answered.json()["boolean"] is True
        master = server.process.pid
        deadline = time.monotonic() + 30
        while True:  # the front, 2 x 3 confined evaluators, 2 x PAGE_WORKERS page workers
            forked = children(master)
            evaluators = [p for p in forked if confined(p)]
            if len(evaluators) == 6 and len(forked) == 1 + 6 + 2 * PAGE_WORKERS:
                break
            assert time.monotonic() < deadline, f"after 30 s: {len(evaluators)} evaluators of {len(forked)}"
            time.sleep(0.2)
        fronts = [p for p in forked if Path(f"/proc/{p}/exe").resolve().name == "cowkg-front"]
        assert len(fronts) == 1
        health = requests.get(server.base + "/health", timeout=30).json()
        assert health["front"] == "native" and health["evaluators"]["network_confined"] is True
    log = (tmp_path / "server.log").read_text()
    assert "with the native front, 6 query evaluators and 8 page workers" in log
    time.sleep(0.5)
    assert not [p for p in forked if Path(f"/proc/{p}").exists()]  # SIGTERM stopped the front and every worker
