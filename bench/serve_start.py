"""How long `cowkg serve` takes to give its first answer, with each SHACL engine checking the data at start.

The question: can `serve` afford to validate at every start (issue 15: ready in < 1 s with warm
caches)? `cowkg serve` as shipped (granian, 2 workers) is started on the shipped graph with a warm
cache directory (the inferred graph already computed) and timed from the process start to the first
answer of ``GET /sparql`` (a COUNT over the default graph). Conditions, interleaved, each repeated:

- ``validated``: no cached verdict, so SHACL + the QC queries run before the server binds
  (``cowkg.validate.check_project``), with ``--shacl-engine auto`` (the default: here the shapes
  as queries on the store just built), ``sparql`` (the same, named), ``turbo`` or ``pyshacl``;
- ``cached verdict``: the conforming verdict for the same files and engine is in the cache, so
  SHACL is skipped (every restart on unchanged files);
- ``--allow-invalid``: no check at all (the floor: loading, indexing, forking the workers).

Warm caches include Python's bytecode (an installed package has it): the server runs without
PYTHONDONTWRITEBYTECODE even when this script has it.

Usage: .venv/bin/python bench/serve_start.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
FIRST = "/sparql?query=" + quote("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
ENGINES = ("auto", "sparql", "turbo", "pyshacl")
CONDITIONS = (*((e, "validated") for e in ENGINES), *((e, "cached verdict") for e in ENGINES), ("-", "--allow-invalid"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def first_answer(engine: str, state: str, cache: Path) -> float:
    """Seconds from starting `cowkg serve` to a 200 on ``FIRST``; the server is stopped after."""
    if state == "validated":
        for marker in cache.glob("conforms-*.json"):
            marker.unlink()
    port = free_port()
    args = [str(VENV_BIN / "cowkg"), "serve", "--port", str(port), "--no-access-log"]
    args += ["--allow-invalid"] if state == "--allow-invalid" else ["--shacl-engine", engine]
    # warm caches include Python's bytecode, as for an installed package (pip compiles it)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"COWKG_CACHE_DIR": str(cache)}
    start = time.perf_counter()
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"cowkg serve exited with {proc.returncode}: {proc.stderr.read().decode()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", FIRST, headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    return time.perf_counter() - start
            except OSError:
                pass
            if time.perf_counter() - start > 600:
                raise TimeoutError("no answer in 600 s")
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # the session this script started: the server and its workers
            proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="cowkg-bench-start-"))
    try:
        subprocess.run([str(VENV_BIN / "cowkg"), "reason"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                       env={**os.environ, "COWKG_CACHE_DIR": str(tmp / "-")})  # the inferred graph, cached
        # one cache directory per engine, so that clearing one engine's verdict leaves the other's
        caches = {engine: shutil.copytree(tmp / "-", tmp / engine) for engine in ENGINES}
        caches["-"] = tmp / "-"
        for engine in ENGINES:
            first_answer(engine, "cached verdict", caches[engine])  # warm-up: the engine's verdict, OS caches
        samples: dict[tuple[str, str], list[float]] = {c: [] for c in CONDITIONS}
        for _ in range(args.repeat):
            for engine, state in CONDITIONS:
                seconds = first_answer(engine, state, caches[engine])
                samples[(engine, state)].append(seconds)
                print(f"  {engine:<8} {state:<16} {seconds:6.2f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n`cowkg serve` on the shipped graph, warm cache (inferred graph computed): seconds from start to "
          f"the first answer of GET /sparql (median of {args.repeat}, interleaved; {date.today().isoformat()}, "
          f"{os.cpu_count()} cores, load {load:.2f} at start)\n")
    print("| SHACL at start | engine | first answer s (min–max) |")
    print("|---|---|---:|")
    med = {c: statistics.median(v) for c, v in samples.items()}
    for engine, state in CONDITIONS:
        v = samples[(engine, state)]
        print(f"| {state} | {engine} | {med[(engine, state)]:.2f} ({min(v):.2f}–{max(v):.2f}) |")
    floor = med[("-", "--allow-invalid")]
    for engine in ENGINES:
        print(f"\n{engine}: validating at start adds {med[(engine, 'validated')] - floor:.2f} s to the "
              f"{floor:.2f} s of a start without a check; a cached verdict adds "
              f"{med[(engine, 'cached verdict')] - floor:.2f} s", end="")
    for other in ("turbo", "pyshacl"):
        print(f"\nvalidating at start, {other} ÷ auto: {med[(other, 'validated')] / med[('auto', 'validated')]:.1f}x "
              f"the time to first answer", end="")
    print()


if __name__ == "__main__":
    main()
