"""Memory (peak RSS) per million triples, for each way of holding the graph.

The question: how much RAM does a million triples cost on each backend? For each size, in a
fresh process each (so peaks do not mix), the synthetic graph of ``bench/generate.py`` is held by:

- ``embedded``: the pyoxigraph in-memory store cowkg serves from (parse + index);
- ``rdflib``: a plain rdflib Graph (what an rdflib-based server holds);
- ``virtuoso``: a private Virtuoso after a bulk load and a query mix (VmHWM of virtuoso-t);
- ``oxigraph``: ``oxigraph serve-read-only`` on its on-disk store after the same queries.

The empty footprint (interpreter or server with no data) is subtracted, then divided by the
number of millions of triples. Ratios come from one run.

Usage: .venv/bin/python bench/memory.py [--sizes 100k,1m] [--only embedded,rdflib,virtuoso,oxigraph]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

PROBES = ["SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
          "SELECT ?s ?l WHERE { ?s a <https://w3id.org/cowkg/ontology#State> ; "
          "<http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 100"]


def self_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def hwm_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def in_process(kind: str, path: str | None) -> float:
    """Peak RSS (MiB) of this process after holding ``path`` the ``kind`` way (None: nothing)."""
    import pyoxigraph as ox
    import rdflib

    holder = None
    if path and kind == "embedded":
        holder = ox.Store()
        holder.bulk_load(path=path, format=ox.RdfFormat.N_TRIPLES)
        list(holder.query(PROBES[0]))
    elif path and kind == "rdflib":
        holder = rdflib.Graph()
        holder.parse(path, format="nt")
        len(holder)
    del holder
    return self_rss_mib()


def virtuoso(path: str | None) -> float:
    from cowkg.virtuoso import manage

    with tempfile.TemporaryDirectory(prefix="cowkg-bench-mem-") as tmp:
        instance = manage.up(tmp, die_with_parent=True)
        try:
            if path:
                staged = instance.stage / "data.nt"
                shutil.copy(path, staged)
                manage.bulk_load(instance, {"urn:bench:data": staged})
                for q in PROBES:
                    url = f"{instance.endpoint}?query={quote(q)}&default-graph-uri=urn:bench:data"
                    urlopen(url, timeout=600).read()
            return hwm_mib(instance.pid)
        finally:
            manage.down(instance)


def oxigraph(path: str | None) -> float:
    from cowkg.virtuoso.manage import free_port

    exe = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or shutil.which("oxigraph")
    if exe is None:
        raise SystemExit("the oxigraph CLI is missing: pip install oxigraph")
    with tempfile.TemporaryDirectory(prefix="cowkg-bench-oxi-") as tmp:
        if path:
            subprocess.run([exe, "load", "--location", tmp, "--file", path], check=True, capture_output=True)
        else:  # serve-read-only needs an existing store: create an empty one
            import pyoxigraph as ox

            ox.Store(tmp).flush()
        port = free_port()
        proc = subprocess.Popen([exe, "serve-read-only", "--location", tmp, "--bind", f"127.0.0.1:{port}"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(300):
                if proc.poll() is not None:
                    raise SystemExit(f"oxigraph serve-read-only exited with {proc.returncode}")
                try:
                    urlopen(f"http://127.0.0.1:{port}/query?query={quote('ASK {}')}", timeout=2).read()
                    break
                except OSError:
                    time.sleep(0.2)
            for q in PROBES:
                urlopen(f"http://127.0.0.1:{port}/query?query={quote(q)}", timeout=600).read()
            return hwm_mib(proc.pid)
        finally:
            proc.terminate()
            proc.wait()


def measure(kind: str, path: str | None) -> float:
    if kind in ("embedded", "rdflib"):
        out = subprocess.run([sys.executable, __file__, "--child", kind, path or ""], capture_output=True, text=True,
                             check=True)
        return float(out.stdout.strip().splitlines()[-1])
    return virtuoso(path) if kind == "virtuoso" else oxigraph(path)


def main() -> None:
    from generate import parse_size, write

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--only", default="embedded,rdflib,virtuoso,oxigraph")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(in_process(args.child[0], args.child[1] or None))
        return
    kinds = args.only.split(",")
    empty = {k: measure(k, None) for k in kinds}
    print(f"empty footprint (MiB): {json.dumps({k: round(v) for k, v in empty.items()})}", file=sys.stderr)
    table = []
    for size_name in args.sizes.split(","):
        path, count = write(parse_size(size_name), args.seed, ROOT / ".cache" / "bench")
        row = {"triples": count}
        for kind in kinds:
            peak = measure(kind, str(path))
            row[kind] = (peak, (peak - empty[kind]) / (count / 1e6))
            print(f"  {count:>10,} {kind:<9} peak {peak:8.0f} MiB, {row[kind][1]:7.0f} MiB per million triples",
                  file=sys.stderr, flush=True)
        table.append(row)
    print(f"\nPeak RSS per million triples, empty footprint subtracted (MiB; one run, {date.today().isoformat()})\n")
    print("| triples | " + " | ".join(kinds) + " |")
    print("|---:|" + "---:|" * len(kinds))
    for row in table:
        print(f"| {row['triples']:,} | " + " | ".join(f"{row[k][1]:.0f} (peak {row[k][0]:.0f})" for k in kinds) + " |")
    last = table[-1]
    if "embedded" in kinds:
        print("\nratios to embedded at the largest size: " + ", ".join(
            f"{k} {last[k][1] / last['embedded'][1]:.2f}x" for k in kinds if k != "embedded"))


if __name__ == "__main__":
    main()
