"""HTTP throughput: `cowkg serve` (embedded and over Virtuoso) vs Virtuoso's own /sparql vs Oxigraph vs rdflib.

The question: what does serving through cowkg cost or gain against the stores' own servers?
This extends ``bench/http_throughput.py`` (same client, same mix, same rounds, same data: the
shipped project's asserted graphs) with two servers:

- ``virtuoso``: Virtuoso's own ``/sparql`` (a private instance holding the project's graphs;
  each query starts with ``define input:default-graph-uri`` for the asserted graphs, so it reads
  the same default graph as the others instead of the union of all graphs);
- ``cowkg-virtuoso``: ``cowkg serve --backend virtuoso`` forwarding to that instance.

Prints req/s, p50 and p99 per server and round, and the ratios to Virtuoso's own endpoint.

Usage: .venv/bin/python bench/http_virtuoso.py [--seconds 10] [--clients 4]
       [--only cowkg,cowkg-virtuoso,virtuoso,oxigraph,rdflib]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import http_throughput as ht  # noqa: E402  (the shared client and servers)


def main() -> None:
    from cowkg.virtuoso import manage
    from cowkg.vocab import ASSERTED_GRAPHS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--only", default="cowkg,cowkg-virtuoso,virtuoso,oxigraph,rdflib")
    ap.add_argument("--rounds", default="mix,mix-unique,heavy-unique")
    args = ap.parse_args()
    names = args.only.split(",")
    define = " ".join(f"define input:default-graph-uri <{g}>" for g in ASSERTED_GRAPHS) + "\n"
    results: dict[tuple[str, str], dict] = {}
    with tempfile.TemporaryDirectory(prefix="cowkg-bench-http-") as tmpdir:
        tmp = Path(tmpdir)
        mix, heavy, data = ht.prepare(tmp)
        instance = manage.up(tmp / "virtuoso", die_with_parent=True)
        servers = {}
        try:
            manage.load(instance, manage.project_graphs(ROOT, cache_dir=ROOT / ".cache"))
            servers = ht.start_servers([n for n in names if n in ("cowkg", "oxigraph", "rdflib")], data, tmp,
                                       args.workers)
            if "cowkg-virtuoso" in names:
                port = ht.free_port()
                proc = subprocess.Popen([sys.executable, "-c", "from cowkg.cli import main; main()", "serve",
                                         "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                                         "--backend", "virtuoso", "--endpoint", instance.endpoint],
                                        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                servers["cowkg-virtuoso"] = (proc, port, "/sparql")
                ht.wait_up(port, "/sparql?query=" + quote("ASK {}"), proc)
            for round_name in args.rounds.split(","):
                queries = heavy if round_name.startswith("heavy") else [q for _, q in mix]
                unique = round_name.endswith("unique")
                for name in names:
                    if name == "virtuoso":
                        port, path, sent = instance.http_port, "/sparql", [define + q for q in queries]
                    else:
                        _proc, port, path = servers[name]
                        sent = queries
                    ht.load(port, path, sent, args.clients, min(2.0, args.seconds), unique)  # warm-up
                    results[(round_name, name)] = r = ht.load(port, path, sent, args.clients, args.seconds, unique)
                    print(f"{round_name:<13} {name:<15} {r['rps']:>9.1f} req/s  p50 {r['p50'] * 1e3:>8.2f} ms  "
                          f"p99 {r['p99'] * 1e3:>8.2f} ms  errors {r['errors']}/{r['requests']}", flush=True)
        finally:
            for proc, _, _ in servers.values():
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            manage.down(instance)
    print(f"\nThroughput relative to Virtuoso's own /sparql ({args.clients} clients, {args.seconds:g} s per round, "
          f"one run, {date.today().isoformat()}; >1 = faster than Virtuoso)\n")
    print("| round | " + " | ".join(n for n in names if n != "virtuoso") + " |")
    print("|---|" + "---:|" * (len(names) - 1))
    for round_name in args.rounds.split(","):
        base = results.get((round_name, "virtuoso"))
        if not base:
            continue
        cells = [f"{results[(round_name, n)]['rps'] / base['rps']:.2f}×" for n in names if n != "virtuoso"]
        print(f"| {round_name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
