"""Which way to stop a runaway query? Measures the per-query overhead of the candidate designs.

pyoxigraph releases the GIL while it evaluates but offers no way to interrupt a query, so a
deadline checked between result rows cannot stop a query that computes for minutes before its
first row (a GROUP BY over a cross product). Only a process can be killed. This script times, on a
store of ``--triples`` triples, a cheap label lookup: in-process, in a child forked per query, and
in a persistent pre-forked child reached through a pipe (the design cowkg uses), and prints the
overhead of each against in-process evaluation.

Usage: .venv/bin/python bench/timeout_design.py [--triples 50000] [--runs 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from multiprocessing.connection import Pipe

import pyoxigraph as ox

QUERY = 'SELECT ?s WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> "entity 42"@en }'


def build(n: int) -> ox.Store:
    store = ox.Store()
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    p = ox.NamedNode("http://example.org/p")
    g = ox.NamedNode("http://example.org/g")
    quads = []
    for i in range(n // 2):
        s = ox.NamedNode(f"http://example.org/e{i}")
        quads.append(ox.Quad(s, label, ox.Literal(f"entity {i}", language="en"), g))
        quads.append(ox.Quad(s, p, ox.NamedNode(f"http://example.org/e{(i * 7) % (n // 2)}"), g))
    store.extend(quads)
    return store


def run(store: ox.Store) -> bytes:
    rows = store.query(QUERY, use_default_graph_as_union=True)
    return rows.serialize(format=ox.QueryResultsFormat.JSON)


def in_process(store: ox.Store, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        run(store)
        out.append(time.perf_counter() - t)
    return out


def fork_per_query(store: ox.Store, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.write(w, run(store))
            os._exit(0)
        os.close(w)
        while os.read(r, 65536):
            pass
        os.close(r)
        os.waitpid(pid, 0)
        out.append(time.perf_counter() - t)
    return out


def persistent_child(store: ox.Store, runs: int) -> list[float]:
    parent, child = Pipe()
    pid = os.fork()
    if pid == 0:
        parent.close()
        while True:
            try:
                child.recv()
            except EOFError:
                os._exit(0)
            child.send_bytes(run(store))
    child.close()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        parent.send(QUERY)
        parent.recv_bytes()
        out.append(time.perf_counter() - t)
    parent.close()
    os.waitpid(pid, 0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--triples", type=int, default=50_000)
    ap.add_argument("--runs", type=int, default=300)
    args = ap.parse_args()
    store = build(args.triples)
    base = statistics.median(in_process(store, args.runs))
    print(f"store: {args.triples:,} triples; median of {args.runs} runs of a label lookup")
    print(f"{'design':<22} {'median ms':>10} {'overhead ms':>12} {'x in-process':>13}")
    for name, fn in (("in-process", in_process), ("fork per query", fork_per_query),
                     ("persistent child", persistent_child)):
        med = statistics.median(fn(store, args.runs))
        print(f"{name:<22} {med * 1e3:>10.3f} {(med - base) * 1e3:>12.3f} {med / base:>13.1f}")


if __name__ == "__main__":
    main()
