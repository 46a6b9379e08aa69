"""Query latency of the competency mix vs size, on both backends (embedded pyoxigraph, Virtuoso).

The question: when the data grows, which backend answers the project's own questions faster, and
by how much? Both run behind the same ``query()`` API users get (the Virtuoso one over HTTP, with
the dataset rewriting, JSON parsing and row objects of ``RemoteSparqlBackend``). Data: the
synthetic graph of ``bench/generate.py`` + the project's ontology + the inferred graph; the mix:
every ``queries/*.rq`` (over asserted + inferred graphs when it uses Wikidata's vocabulary, as
the competency tests do). Per query: one warm-up, then the median of ``--repeat`` runs.

Usage: .venv/bin/python bench/query_latency.py [--sizes 10k,100k] [--repeat 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def build(size: int, seed: int):
    """(embedded backend, graphs) for ``size`` synthetic triples; the closure is cached by input hash."""
    from generate import write

    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.load import default_layout, load_files
    from cowkg.reason import infer
    from cowkg.store import build_store
    from cowkg.vocab import GRAPH_DATA, GRAPH_INFERRED, GRAPH_ONTOLOGY

    path, _ = write(size, seed, ROOT / ".cache" / "bench")
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    sources = load_files(layout)
    inference = infer(sources, "auto", ROOT / ".cache" / "bench")
    graphs = {g: list(t) for g, t in sources.graphs.items()}
    graphs[str(GRAPH_INFERRED)] = inference.triples
    return EmbeddedBackend(build_store(sources, inference)), graphs


def timed(backend, sparql: str, infer: bool, repeat: int) -> tuple[float, int]:
    """Median seconds of ``repeat`` runs (after one warm-up) and the answer's size."""
    result = backend.query(sparql, infer=infer, timeout=300)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        backend.query(sparql, infer=infer, timeout=300)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), len(result) if result.kind != "boolean" else 1


def main() -> None:
    from generate import parse_size

    from cowkg.backends.virtuoso import RemoteSparqlBackend
    from cowkg.errors import CowkgError
    from cowkg.virtuoso import manage

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10k,100k")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    queries = [(p.stem, p.read_text(encoding="utf-8")) for p in sorted((ROOT / "queries").glob("*.rq"))]
    rows = []
    for size_name in args.sizes.split(","):
        embedded, graphs = build(parse_size(size_name), args.seed)
        with tempfile.TemporaryDirectory(prefix="cowkg-bench-latency-") as tmp:
            instance = manage.up(tmp, die_with_parent=True)  # a fresh server per size
            try:
                manage.load(instance, graphs)
                remote = RemoteSparqlBackend(instance.endpoint)
                per_query = []
                for name, sparql in queries:
                    infer = "wdt:" in sparql
                    try:
                        e, n_e = timed(embedded, sparql, infer, args.repeat)
                        v, n_v = timed(remote, sparql, infer, args.repeat)
                    except CowkgError as exc:
                        print(f"  {size_name} {name}: skipped ({exc.kind}: {exc.message[:80]})", file=sys.stderr)
                        continue
                    per_query.append((name, e, v, n_e, n_v))
                    print(f"  {size_name} {name:<36} embedded {e * 1e3:9.2f} ms  virtuoso {v * 1e3:9.2f} ms  "
                          f"rows {n_e}/{n_v}", file=sys.stderr, flush=True)
            finally:
                manage.down(instance)
        total_e = sum(q[1] for q in per_query)
        total_v = sum(q[2] for q in per_query)
        ratios = [q[2] / q[1] for q in per_query if q[1] > 0]
        rows.append((sum(len(t) for t in graphs.values()), len(per_query), total_e, total_v,
                     statistics.median(ratios), min(ratios), max(ratios)))
        del embedded, graphs
    print(f"\nCompetency mix ({len(queries)} queries in queries/*.rq), sum of per-query medians "
          f"(one run, {date.today().isoformat()})\n")
    print("| quads (asserted + inferred) | queries | embedded (pyoxigraph) | Virtuoso via RemoteSparqlBackend | "
          "Virtuoso ÷ embedded, mix | per query: median (min–max) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for quads, n, e, v, med, lo, hi in rows:
        print(f"| {quads:,} | {n} | {e * 1e3:.0f} ms | {v * 1e3:.0f} ms | {v / e:.2f}× | "
              f"{med:.2f}× ({lo:.2f}–{hi:.2f}) |")
    if len(rows) > 1:
        growth = rows[-1][0] / rows[0][0]
        print(f"\n{growth:.0f}x the data: embedded mix x{rows[-1][2] / rows[0][2]:.1f}, "
              f"Virtuoso mix x{rows[-1][3] / rows[0][3]:.1f}")


if __name__ == "__main__":
    main()
