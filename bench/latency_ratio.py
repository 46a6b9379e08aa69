"""Median latency of each competency query through HTTP divided by its in-process time.

In-process: ``run_query`` on the store plus serialisation to SPARQL JSON (what the evaluator
does). HTTP: one client, sequential GETs to ``cowkg serve`` (gunicorn, killable evaluator
processes), each request made unique with a comment so the response cache never answers
(``--cached`` measures repeats, which the cache answers). The ratio is the price of the HTTP
layer and of running every query in a killable process.

Usage: .venv/bin/python bench/latency_ratio.py [--runs 15] [--cached]
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_throughput import ACCEPT, VENV_BIN, free_port, wait_up  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--cached", action="store_true", help="repeat identical requests (cache hits)")
    args = ap.parse_args()
    from cowkg.backends.embedded import run_query
    from cowkg.errors import CowkgError
    from cowkg.media import by_name
    from cowkg.store import open_project
    from cowkg.vocab import sparql_prologue
    from cowkg.web.catalog import load_examples

    kg = open_project(ROOT)
    json_fmt = by_name("json", ("results",))
    port = free_port()
    exe = VENV_BIN / "cowkg"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from cowkg.cli import main; main()"]
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port), "--workers", "1", "--no-access-log"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ratios = []
    try:
        wait_up(port, "/health", proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        print(f"{'query':<34} {'in-process ms':>13} {'HTTP ms':>9} {'ratio':>7}")
        for ex in load_examples(ROOT / "queries"):
            text = sparql_prologue() + ex.query
            try:
                run_query(kg, text)
            except CowkgError as exc:  # e.g. an example of a SERVICE query, which cowkg refuses
                print(f"{ex.name:<34} skipped: {exc.message}")
                continue
            local, remote = [], []
            for i in range(args.runs):
                start = time.perf_counter()
                result = run_query(kg, text, max_rows=10000)
                kind = "graph" if result.kind == "graph" else "results"
                result.serialize(json_fmt if kind == "results" else by_name("ttl", ("graph",)))
                local.append(time.perf_counter() - start)
                query = text if args.cached else f"{text}\n# run {i}"
                start = time.perf_counter()
                conn.request("GET", "/sparql?query=" + quote(query), headers={"Accept": ACCEPT})
                resp = conn.getresponse()
                resp.read()
                remote.append(time.perf_counter() - start)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                assert resp.status == 200, (ex.name, resp.status)
            a, b = statistics.median(local), statistics.median(remote)
            ratios.append(b / a)
            print(f"{ex.name:<34} {a * 1e3:>13.2f} {b * 1e3:>9.2f} {b / a:>7.1f}")
        print(f"median ratio HTTP / in-process over {len(ratios)} queries: {statistics.median(ratios):.1f}x "
              f"({'cached repeats' if args.cached else 'every request evaluated'})")
    finally:
        proc.terminate()
        proc.wait(20)


if __name__ == "__main__":
    main()
