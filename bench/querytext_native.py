"""The native query-text scanner (``native/querytext``) beside the Python one it reproduces.

Both read the competency queries as the HTTP bench sends them (the project's PREFIX lines, the
query, a ``VALUES ?cowkg_nonce`` line) from the start of the text (the endpoint reads a long
prologue once and caches it; this measures a whole read): the code tokens (``_lex_code``) and
every token of every reading (``_all_readings``, the SERVICE check's scan). The native side is
called through ctypes and leaves its tokens in a buffer, as a native front would use them; the
Python side builds its token lists. Best of 5 rounds over all queries. tests/test_native_querytext.py
proves the two give the same tokens.

Usage: .venv/bin/python bench/querytext_native.py   (builds the library with cargo first)
"""

from __future__ import annotations

import ctypes
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cowkg.native import CHECKOUT_LIBRARY  # noqa: E402
from cowkg.querytext import SCAN_BUDGET_PER_CHAR, _all_readings, _lex_code  # noqa: E402
from cowkg.vocab import sparql_prologue  # noqa: E402
from cowkg.web.catalog import load_examples  # noqa: E402

CRATE = ROOT / "native" / "querytext"


def library() -> ctypes.CDLL:
    cargo = shutil.which("cargo")
    if cargo is None:
        sys.exit("cargo builds native/querytext: apt-get install cargo")
    subprocess.run([cargo, "build", "--release", "--offline", "--quiet"], cwd=CRATE, check=True)
    lib = ctypes.CDLL(str(CHECKOUT_LIBRARY))
    lib.cowkg_lex_code.restype = lib.cowkg_all_readings.restype = ctypes.c_int64
    lib.cowkg_lex_code.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                   ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t]
    lib.cowkg_all_readings.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64,
                                       ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t]
    return lib


def per_query(queries: list, read) -> float:
    """Best of 5 rounds, milliseconds per query."""
    rounds = []
    for _ in range(5):
        start = time.perf_counter()
        for q in queries:
            read(q)
        rounds.append(time.perf_counter() - start)
    return min(rounds) / len(queries) * 1e3


def main() -> None:
    lib = library()
    texts = [sparql_prologue() + ex.query + "\nVALUES ?cowkg_nonce { 1 }" for ex in load_examples(ROOT / "queries")]
    data = [t.encode() for t in texts]
    size = 3 * max(map(len, texts)) * 8
    out = (ctypes.c_uint32 * size)()
    print(f"{len(texts)} queries, {statistics.mean(map(len, texts)):,.0f} characters on average")
    rows = [
        ("code tokens", lambda i: _lex_code(texts[i], 0),
         lambda i: lib.cowkg_lex_code(data[i], len(data[i]), 0, out, size)),
        ("all readings", lambda i: list(_all_readings(texts[i])),
         lambda i: lib.cowkg_all_readings(data[i], len(data[i]), SCAN_BUDGET_PER_CHAR, out, size)),
    ]
    indices = list(range(len(texts)))
    for name, python, native in rows:
        p, n = per_query(indices, python), per_query(indices, native)
        print(f"{name:<13} python {p:.3f} ms  native {n:.3f} ms  native is {p / n:.0f}x faster")


if __name__ == "__main__":
    main()
