"""The in-process OWL 2 RL reasoners side by side: time, peak memory, and the same closure.

The question: how fast do the compiled rules (cowkg.rules) compute the inferred graph in process,
against the reasoner ``auto`` used for large inputs until now (``reasonable``, Rust, completed in
Python)? For each size, on the synthetic graph of ``bench/generate.py`` plus the project's
ontology, each reasoner runs in a fresh process of its own (``--one``): ``reason.infer`` without a
cache, wall and CPU seconds, peak RSS, and the inferred triples pickled so the parent can check
that every reasoner gives exactly the reference's set (reasonable; owlrl too up to
``--owlrl-max``). A difference fails the run.

- reasonable: reasonable 0.4 + schema rules and property chains in Python (reason.py);
- sparql: the compiled rules as SPARQL updates, semi-naive, in a private pyoxigraph store
  (what ``cowkg virtuoso load --reason`` runs inside Virtuoso);
- rules: the same compiled rule table over Python sets (cowkg.ruleeval).

Usage: .venv/bin/python bench/reasoners.py [--sizes 100k,1m] [--reasoners reasonable,sparql,rules]
       [--owlrl-max 10k]
"""

from __future__ import annotations

import argparse
import json
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def one(size: int, seed: int, reasoner: str, results_dir: Path) -> dict:
    """Reason once over ``size`` synthetic triples + the ontology with ``reasoner``, in this process."""
    from generate import write

    from cowkg.load import default_layout, load_files
    from cowkg.reason import infer
    from cowkg.vocab import GRAPH_DATA, GRAPH_ONTOLOGY

    path, count = write(size, seed, ROOT / ".cache" / "bench")
    layout = [(p, g) for p, g in default_layout(ROOT) if g == str(GRAPH_ONTOLOGY)] + [(path, str(GRAPH_DATA))]
    sources = load_files(layout)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    wall, cpu = time.perf_counter(), time.process_time()
    inference = infer(sources, reasoner)
    out = {"size": count, "reasoner": inference.reasoner, "wall": time.perf_counter() - wall,
           "cpu": time.process_time() - cpu, "inferred": len(inference.triples), "loaded_rss_mib": loaded,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    with open(results_dir / f"{count}-{reasoner}.pickle", "wb") as fh:
        pickle.dump({str(t) for t in inference.triples}, fh)
    return out


def main() -> None:
    from generate import parse_size

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="100k,1m")
    ap.add_argument("--reasoners", default="reasonable,sparql,rules")
    ap.add_argument("--owlrl-max", default="10k", help="also run owlrl (the reference) up to this size")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--one", nargs=3, metavar=("SIZE", "REASONER", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        size, reasoner, results_dir = args.one
        print(json.dumps(one(parse_size(size), args.seed, reasoner, Path(results_dir))))
        return
    results_dir = Path(tempfile.mkdtemp(prefix="cowkg-bench-reason-"))
    rows, failed = [], []
    try:
        for size in [s for s in args.sizes.split(",") if s]:
            names = args.reasoners.split(",")
            if parse_size(size) <= parse_size(args.owlrl_max):
                names = ["owlrl", *names]
            for name in names:
                cmd = [sys.executable, __file__, "--seed", str(args.seed), "--one", size, name, str(results_dir)]
                result = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if result.returncode:
                    sys.exit(f"{size} {name} failed:\n{result.stderr[-2000:]}")
                row = json.loads(result.stdout.strip().splitlines()[-1])
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
            reference = names[0]
            with open(results_dir / f"{rows[-1]['size']}-{reference}.pickle", "rb") as fh:
                expected = pickle.load(fh)
            for row in rows[-len(names):]:
                with open(results_dir / f"{row['size']}-{row['reasoner']}.pickle", "rb") as fh:
                    row["same"] = "reference" if row["reasoner"] == reference else pickle.load(fh) == expected
                if row["same"] is False:
                    failed.append(f"{row['reasoner']} at {row['size']:,}")
                row["reference"] = reference
    finally:
        shutil.rmtree(results_dir, ignore_errors=True)
    report(rows)
    if failed:
        sys.exit(f"not the reference's closure: {', '.join(failed)}")


def report(rows: list[dict]) -> None:
    print(f"In-process reasoners side by side, each in a fresh process (no cache; one run, "
          f"{date.today().isoformat()}, {_machine()})\n")
    print("| data triples | reasoner | wall s | CPU s | inferred triples | RSS loaded → peak MiB | same closure |")
    print("|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        same = "reference" if r["same"] == "reference" else (f"**yes** (= {r['reference']})" if r["same"] else "**NO**")
        print(f"| {r['size']:,} | {r['reasoner']} | {_s(r['wall'])} | {_s(r['cpu'])} | {r['inferred']:,} | "
              f"{r['loaded_rss_mib']:.0f} → {r['peak_rss_mib']:.0f} | {same} |")
    print()
    by_size: dict[int, dict[str, dict]] = {}
    for r in rows:
        by_size.setdefault(r["size"], {})[r["reasoner"]] = r
    for size, found in by_size.items():
        if "reasonable" in found:
            base = found["reasonable"]
            ratios = ", ".join(f"{name} {base['wall'] / r['wall']:.1f}x" for name, r in found.items()
                               if name not in ("reasonable", "owlrl"))
            print(f"{size:,} triples, wall time against reasonable: {ratios}")


def _s(x: float) -> str:
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"


def _machine() -> str:
    import os

    return f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"


if __name__ == "__main__":
    main()
