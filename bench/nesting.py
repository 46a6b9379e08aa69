"""Where pyoxigraph's recursive parser and evaluator crash: nesting depth and operator chains.

Runs each query shape at growing sizes in a fresh subprocess (a crash kills only it) and prints
the exit code per size (0 answered, -11 segmentation fault, T timed out). The limits of
``cowkg.querytext`` (MAX_DEPTH, MAX_OPERATORS) are set far below the first crash.

Usage: .venv/bin/python bench/nesting.py [--timeout 60]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

SHAPES = {
    "nested braces": lambda n: "SELECT * WHERE " + "{" * n + "}" * n,
    "nested parentheses": lambda n: "SELECT * WHERE { FILTER(" + "(" * n + "1" + ")" * n + ") }",
    "nested CONCAT": lambda n: "SELECT * WHERE { BIND(" + "CONCAT(" * n + "'a'" + ")" * n + " AS ?x) }",
    "chain of +": lambda n: "SELECT * WHERE { FILTER(" + "+".join(["1"] * n) + " > 0) }",
    "chain of ||": lambda n: "SELECT * WHERE { FILTER(" + " || ".join(["true"] * n) + ") }",
    "chain of !": lambda n: "SELECT * WHERE { FILTER(" + "!" * n + "true) }",
    "UNION chain": lambda n: "SELECT * WHERE { " + " UNION ".join(["{ ?s ?p ?o }"] * n) + " }",
    "BIND sequence": lambda n: "SELECT * WHERE { " + " ".join(f"BIND(1 AS ?x{i})" for i in range(n)) + " }",
    "IN list": lambda n: "SELECT * WHERE { FILTER(1 IN (" + ",".join(["1"] * n) + ")) }",
    "VALUES list": lambda n: "SELECT * WHERE { VALUES ?x { " + " ".join(["1"] * n) + " } }",
}
SIZES = (100, 300, 1000, 3000, 10000, 30000)
RUN = ("import pyoxigraph as ox, sys\nr = ox.Store().query(open(sys.argv[1]).read())\n"
       "try:\n    list(r)\nexcept TypeError:\n    pass\n")


def outcome(query: str, timeout: float) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".rq", delete=False) as fh:
        fh.write(query)
    try:
        proc = subprocess.run([sys.executable, "-c", RUN, fh.name], capture_output=True, timeout=timeout)
        return str(proc.returncode)
    except subprocess.TimeoutExpired:
        return "T"
    finally:
        Path(fh.name).unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    import pyoxigraph

    print(f"pyoxigraph {pyoxigraph.__version__}; exit code per size (0 ok, -11 segfault, T timeout)")
    for name, make in SHAPES.items():
        cells = []
        for n in SIZES:
            code = outcome(make(n), args.timeout)
            cells.append(f"{n}:{code}")
            if code != "0":
                break
        print(f"{name:20s} " + "  ".join(cells))


if __name__ == "__main__":
    main()
