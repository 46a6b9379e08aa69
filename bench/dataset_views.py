"""The dataset view (``KnowledgeGraph.build_views``) beside the whole store, in process.

Each competency query as the HTTP bench sends it (the project's PREFIX lines first) runs through
``run_query`` on the shipped graph twice: on a KnowledgeGraph without views (every query reads the
whole store: the asserted merge in its default graph, beside the named graphs, the inferred graph
and the Wikibase view) and on one with them (a query of the asserted dataset reads a store holding
only that). The two alternate query by query, so load from elsewhere hits both; each query's time
is its best of ``--rounds``. Also: how long building the view takes and how many queries it serves
(the others — GRAPH patterns, Wikidata's vocabulary — read the whole store either way).
tests/test_store.py proves both give the same answers.

Usage: .venv/bin/python bench/dataset_views.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cowkg.backends.embedded import dataset_arguments, engine_for, run_query  # noqa: E402
from cowkg.querytext import parse_query  # noqa: E402
from cowkg.store import open_project  # noqa: E402
from cowkg.vocab import sparql_prologue  # noqa: E402
from cowkg.web.catalog import load_examples  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=40)
    args = ap.parse_args()
    kg = open_project(ROOT)
    whole = dataclasses.replace(kg, views={})
    viewed = dataclasses.replace(kg, views={})
    start = time.perf_counter()
    viewed.build_views()
    built = time.perf_counter() - start
    texts = [sparql_prologue() + ex.query for ex in load_examples(ROOT / "queries") if "SERVICE" not in ex.query]
    on_view = sum(engine_for(viewed, p, dataset_arguments(viewed, p, False, None, None))[0] is not kg.store
                  for p in map(parse_query, texts))
    best = {"whole store": [float("inf")] * len(texts), "view": [float("inf")] * len(texts)}
    for _ in range(args.rounds):
        for i, text in enumerate(texts):
            for name, graph in (("whole store", whole), ("view", viewed)):
                t0 = time.perf_counter()
                run_query(graph, text)
                best[name][i] = min(best[name][i], time.perf_counter() - t0)
    sizes = {", ".join(key): len(store) for key, store in viewed.views.items()}
    print(f"{len(texts)} competency queries, {on_view} on the view; view {sizes} built in {built * 1e3:.0f} ms "
          f"(the whole store: {len(kg.store):,} quads)")
    for name, times in best.items():
        print(f"{name:<12} sum {sum(times) * 1e3:7.2f} ms  median {statistics.median(times) * 1e3:.3f} ms  "
              f"(best of {args.rounds} per query)")
    ratios = [w / v for w, v in zip(best["whole store"], best["view"], strict=True)]
    print(f"whole store / view: {sum(best['whole store']) / sum(best['view']):.2f}x on the sum, "
          f"median per query {statistics.median(ratios):.2f}x")


if __name__ == "__main__":
    main()
