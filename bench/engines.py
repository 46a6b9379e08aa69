"""Which query engine? rdflib's SPARQL engine vs pyoxigraph on the competency queries, one run.

Both engines hold the same graph (ontology + data + inferred). Each query runs `--repeat` times
per engine, interleaved, and the table prints medians and the rdflib ÷ pyoxigraph ratio.

    .venv/bin/python bench/engines.py            # shipped data
    .venv/bin/python bench/engines.py --repeat 20 --json results.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cowkg.load import to_rdflib  # noqa: E402
from cowkg.store import open_project  # noqa: E402
from cowkg.vocab import ALL_GRAPHS, PREFIXES  # noqa: E402


def local_queries() -> list[Path]:
    return [p for p in sorted((ROOT / "queries").glob("*.rq")) if "SERVICE" not in p.read_text(encoding="utf-8")]


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per query and engine (median is reported)")
    parser.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = parser.parse_args()

    kg = open_project(ROOT, reasoner="owlrl")
    graph = rdflib.Graph(bind_namespaces="none")
    for g in ALL_GRAPHS:
        to_rdflib((q.triple for q in kg.store.quads_for_pattern(None, None, None,
                                                                  ox.NamedNode(str(g)))), graph)
    ox_default = kg.default_graphs(True)
    prologue = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
    rows = []
    failures: list[tuple[str, str]] = []
    queries = local_queries()
    for path in tqdm(queries, desc="queries", disable=not sys.stderr.isatty()):
        text = path.read_text(encoding="utf-8")

        def run_ox(text=text):
            list(kg.store.query(text, prefixes=PREFIXES, default_graph=ox_default))

        def run_rdflib(text=text):
            list(graph.query(prologue + text))

        run_ox()  # warm-up
        try:
            run_rdflib()
        except Exception as exc:  # rdflib cannot run every valid query: report, don't hide
            failures.append((path.stem, f"{type(exc).__name__}: {exc}"))
            continue
        ox_times, rdf_times = [], []
        for _ in range(args.repeat):
            ox_times.append(timed(run_ox))
            rdf_times.append(timed(run_rdflib))
        rows.append((path.stem, statistics.median(rdf_times), statistics.median(ox_times)))

    total_rdf = sum(r[1] for r in rows)
    total_ox = sum(r[2] for r in rows)
    print(f"graph: {len(graph)} triples; {len(rows)} queries; median of {args.repeat} runs each")
    print(f"{'query':<36} {'rdflib ms':>10} {'pyoxigraph ms':>14} {'ratio':>7}")
    for name, r, o in rows:
        print(f"{name:<36} {r * 1000:>10.2f} {o * 1000:>14.3f} {r / o:>6.1f}×")
    print(f"{'whole mix':<36} {total_rdf * 1000:>10.1f} {total_ox * 1000:>14.2f} {total_rdf / total_ox:>6.1f}×")
    ratios = sorted(r / o for _, r, o in rows)
    print(f"per-query ratio: min {ratios[0]:.1f}×, median {statistics.median(ratios):.1f}×, max {ratios[-1]:.1f}×")
    for name, err in failures:
        print(f"{name:<36} rdflib failed: {err[:70]}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "rdflib_total": total_rdf, "pyoxigraph_total": total_ox}))


if __name__ == "__main__":
    main()
