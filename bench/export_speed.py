"""How fast are cowkg's deterministic exports, and what do they cost next to the libraries' writers?

Run: ``.venv/bin/python bench/export_speed.py [--repeat 5]``. On the shipped graph (asserted
graphs; TriG/N-Quads with the inferred graph too) it times, in one run, cowkg's writers
(``export_bytes``: canonical blank nodes, sorted, pretty) against pyoxigraph's own serialiser
(no sorting, prefixes in a per-process order) and rdflib's, and prints sizes (plain and gzip),
best-of-N seconds and ratios. Also times a whole ``release_files`` build (what ``cowkg dump``
and ``/download/`` compute). CPU time is reported as well: the machine may be shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import rdflib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cowkg.dump import release_files  # noqa: E402
from cowkg.export import collect_quads, export_bytes, export_graphs  # noqa: E402
from cowkg.load import to_rdflib  # noqa: E402
from cowkg.store import open_project  # noqa: E402
from cowkg.vocab import PREFIXES  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OX = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD,
      "trig": ox.RdfFormat.TRIG, "nq": ox.RdfFormat.N_QUADS}
RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld"}


def best(fn, repeat: int) -> tuple[float, float, bytes]:
    """Best wall and CPU seconds of ``repeat`` calls, and the last result."""
    walls, cpus, out = [], [], b""
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return min(walls), min(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    kg = open_project(ROOT, reasoner="owlrl", cache_dir=ROOT / ".cache")
    sizes = kg.graph_sizes()
    parts = ", ".join(f"{k.rsplit('/', 1)[-1]} {v:,}" for k, v in sizes.items())
    print(f"graph: {sum(sizes.values()):,} triples ({parts})")
    print(f"{'format':<8}{'bytes':>12}{'gzip':>10}{'cowkg s':>10}{'cpu s':>8}{'oxigraph s':>12}{'rdflib s':>10}"
          f"{'cowkg/ox':>10}{'rdflib/cowkg':>14}")
    rdflib_graph = to_rdflib(q.triple for q in collect_quads(kg, export_graphs(False)))
    for fmt in ("ttl", "nt", "jsonld", "trig", "nq"):
        infer = fmt in ("trig", "nq")
        wall, cpu, data = best(lambda fmt=fmt, infer=infer: export_bytes(kg, fmt, infer=infer), args.repeat)
        quads = list(collect_quads(kg, export_graphs(infer)))
        payload = quads if infer else [q.triple for q in quads]
        prefixes = {"prefixes": PREFIXES} if fmt in ("ttl", "trig", "jsonld") else {}
        ox_wall, _, _ = best(lambda fmt=fmt, payload=payload, prefixes=prefixes:
                             ox.serialize(payload, format=OX[fmt], **prefixes), args.repeat)
        rl = ""
        rl_wall = None
        if fmt in RDFLIB:
            rl_wall, _, _ = best(lambda fmt=fmt: rdflib_graph.serialize(format=RDFLIB[fmt]).encode(),
                                 max(1, args.repeat // 2))
            rl = f"{rl_wall:10.3f}"
        ratio = f"{rl_wall / wall:14.1f}" if rl_wall else f"{'-':>14}"
        print(f"{fmt:<8}{len(data):>12,}{len(gzip.compress(data, 6, mtime=0)):>10,}{wall:10.3f}{cpu:8.3f}"
              f"{ox_wall:12.3f}{rl or '-':>10}{wall / ox_wall:10.1f}{ratio}")
    wall, cpu, files = best(lambda: release_files(kg, version="bench", issued=dt.date.today()), 1)
    total = sum(len(f.content) for f in files)
    print(f"release_files: {len(files)} files, {total:,} bytes in {wall:.2f} s wall / {cpu:.2f} s CPU")
    print(f"rdflib {rdflib.__version__}, pyoxigraph {ox.__version__}")


if __name__ == "__main__":
    main()
