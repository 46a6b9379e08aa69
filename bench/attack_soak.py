"""A longer mixed attack run beside normal clients, against `cowkg serve` as users start it.

Starts ``cowkg serve`` (2 workers, the shipped graph) on a free loopback port, then for
``--seconds`` runs side by side:

- normal clients (``--clients`` threads) sending competency queries, each made unique with a
  trailing ``VALUES ?cowkg_nonce { n }`` nothing uses, so no cache answers them (a comment would
  not do: the response cache ignores comments and layout), plus /health and entity pages;
- attackers: the SSRF corpus against a loopback canary (tests/security/test_ssrf.py), heavy and
  memory-hungry queries, deep nesting, a 100 MB literal built with CONCAT, slow clients that
  drip headers or bodies, stranger Host headers, malformed reconciliation batches.

Prints attacks sent, responses per status (500s must be 0), connections that reached the canary
(must be 0), normal-client latency p50/p99 and error count, and the server's peak memory (PSS
summed over its process tree, so pages shared copy-on-write count once).

Usage: .venv/bin/python bench/attack_soak.py [--seconds 120] [--clients 4]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from security.conftest import Canary  # noqa: E402
from security.proctree import pss_bytes  # noqa: E402
from security.test_nesting import HOSTILE  # noqa: E402
from security.test_ssrf import CORPUS, fill  # noqa: E402
from servers import COWKG_SERVE, serving  # noqa: E402

HEAVY = ["SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
         "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?f"]


def big_literal_query() -> str:
    """A literal of ~100 MB built by doubling with CONCAT (27 levels of 2x from 1 byte)."""
    expr = "'x'"
    lets = []
    for i in range(27):
        lets.append(f"BIND(CONCAT({expr}, {expr}) AS ?v{i})")
        expr = f"?v{i}"
    return "SELECT ?v26 WHERE { " + " ".join(lets) + " }"


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.attacks = collections.Counter()
        self.statuses = collections.Counter()
        self.normal: list[float] = []
        self.normal_errors = collections.Counter()

    def attack(self, kind: str, status: int | str) -> None:
        with self.lock:
            self.attacks[kind] += 1
            self.statuses[status] += 1


def normal_client(base: str, queries: list[str], stop: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    session = requests.Session()
    n = 0
    while time.monotonic() < stop:
        n += 1
        q = rng.choice(queries) + f"\nVALUES ?cowkg_nonce {{ {seed * 10_000_000 + n} }}"
        start = time.perf_counter()
        try:
            r = session.get(base + "/sparql", params={"query": q}, headers={"Accept": "application/json"}, timeout=60)
            ok = r.status_code == 200
        except requests.RequestException:
            ok = False
        elapsed = time.perf_counter() - start
        with tally.lock:
            tally.normal.append(elapsed)
            if not ok:
                tally.normal_errors[getattr(r, "status_code", "error") if "r" in locals() else "error"] += 1


def post(base: str, query: str, **kw) -> requests.Response:
    return requests.post(base + "/sparql", data=query.encode(), timeout=120,
                         headers={"Content-Type": "application/sparql-query", **kw.pop("headers", {})}, **kw)


def attacker(base: str, canary: Canary, stop: float, tally: Tally, seed: int) -> None:
    rng = random.Random(seed)
    big = big_literal_query()
    kinds = ["ssrf", "heavy", "nesting", "big-literal", "host", "reconcile", "slow-headers", "slow-body"]
    while time.monotonic() < stop:
        kind = rng.choice(kinds)
        try:
            if kind == "ssrf":
                r = requests.get(base + "/sparql", params={"query": fill(rng.choice(CORPUS), canary)}, timeout=60)
            elif kind == "heavy":
                r = post(base, rng.choice(HEAVY) + f" VALUES ?cowkg_nonce {{ {rng.randrange(10**9)} }}")
            elif kind == "nesting":
                r = post(base, HOSTILE[rng.choice(list(HOSTILE))])
            elif kind == "big-literal":
                r = post(base, big)
            elif kind == "host":
                r = requests.get(base + "/download/void.ttl", headers={"Host": f"h{rng.randint(0, 10**6)}.example"},
                                 timeout=60)
            elif kind == "reconcile":
                bad = rng.choice(['{"q": {"query": "macron", "limit": NaN}}',
                                  json.dumps({f"q{i}": {"query": "coalition meeting " * 30} for i in range(200)})])
                r = requests.post(base + "/reconcile", data={"queries": bad}, timeout=60)
            else:
                tally.attack(kind, drip(base, kind, rng))
                continue
            tally.attack(kind, r.status_code)
        except requests.RequestException as exc:
            tally.attack(kind, type(exc).__name__)


def drip(base: str, kind: str, rng: random.Random) -> str:
    """Open a connection, send part of a request, then a byte every 0.5 s until cut (or 8 s)."""
    host, port = base.split("//")[1].split(":")
    head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
            b"Content-Length: 500\r\n\r\n" if kind == "slow-body" else b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    try:
        with socket.create_connection((host, int(port)), timeout=20) as s:
            s.sendall(head)
            end = time.monotonic() + 8
            while time.monotonic() < end:
                s.send(b"a")
                time.sleep(0.5)
        return "held-8s"
    except OSError:
        return "cut"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--attackers", type=int, default=6)
    args = parser.parse_args()
    queries = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "queries").glob("q[0-9]*.rq"))]
    canary = Canary()
    tally = Tally()
    env = {**os.environ, "COWKG_QUERY_TIMEOUT": "10"}
    with serving([*COWKG_SERVE, "--workers", "2", "--no-access-log"], env=env, cwd=ROOT, wait=300) as server:
        stop = time.monotonic() + args.seconds
        threads = [threading.Thread(target=normal_client, args=(server.base, queries, stop, tally, i))
                   for i in range(args.clients)]
        threads += [threading.Thread(target=attacker, args=(server.base, canary, stop, tally, 100 + i))
                    for i in range(args.attackers)]
        peak = 0
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            peak = max(peak, pss_bytes(server.process.pid))
            time.sleep(0.5)
        alive = requests.get(server.base + "/health", timeout=30).status_code
    lat = sorted(tally.normal)
    p = (lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] * 1000) if lat else (lambda q: float("nan"))
    print(f"attack soak: {args.seconds:.0f} s, {args.clients} normal clients, {args.attackers} attackers "
          f"(2 workers, query_timeout 10 s)")
    print(f"attacks sent: {sum(tally.attacks.values())}  " + ", ".join(f"{k} {v}" for k, v in
                                                                         sorted(tally.attacks.items())))
    print("responses to attacks: " + ", ".join(f"{k}: {v}" for k, v in sorted(tally.statuses.items(), key=str)))
    print(f"status 500 answers: {tally.statuses.get(500, 0)}")
    print(f"connections that reached the canary: {len(canary.seen())}")
    print(f"normal client: {len(lat)} requests, p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, "
          f"median {statistics.median(lat) * 1000 if lat else float('nan'):.1f} ms, errors {dict(tally.normal_errors)}")
    print(f"server peak memory (PSS of the process tree): {peak / 2**20:.0f} MiB; /health after: {alive}")
    canary.close()


if __name__ == "__main__":
    main()
