"""How long each analyst view takes to render on the shipped data, measured in Debian's chromium.

Starts ``cowkg serve`` (gunicorn, 2 workers, as users run it) on the shipped data as a subprocess on
a free 127.0.0.1 port, then for each view opens the page RUNS times in a fresh browser page and reads
``window.cowkgViewReady.ms``: milliseconds from the start of navigation until the view signals that
its picture is drawn (queries fetched, libraries loaded, chart laid out). The first load of each view
warms the browser cache and the server's answer cache and is reported separately. Prints a table;
the goal is < 1000 ms.

Usage: .venv/bin/python bench/views_render.py [--runs 7] [--workers 2] [--base http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWS = ["/timeline", "/attendance", "/graph", "/graph?iri=https://w3id.org/cowkg/id/keir-starmer", "/map"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
GOAL_MS = 1000
RUNS = 7


@contextmanager
def serve(workers: int) -> Iterator[str]:
    """``cowkg serve`` on the shipped data in a subprocess; yields its base URL, stops it after."""
    from cowkg.web.launch import COWKG_SERVE, serving

    with serving([*COWKG_SERVE, "--workers", str(workers), "--no-access-log"], cwd=ROOT, wait=300) as server:
        yield server.base


def measure(base: str, runs: int) -> list[tuple[str, float, list[float], dict]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        outside: list[str] = []
        context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
            (base, "data:", "blob:", "about:")) else None)
        for path in VIEWS:
            times, counts = [], {}
            for _ in range(runs + 1):
                page = context.new_page()
                page.goto(base + path)
                page.wait_for_function(
                    "() => document.body.dataset.viewReady === 'true' || document.body.dataset.viewError",
                    timeout=30_000)
                ready = page.evaluate("window.cowkgViewReady")
                if ready is None:
                    sys.exit(f"{path}: {page.evaluate('document.body.dataset.viewError')}")
                times.append(ready["ms"])
                counts = ready["counts"]
                page.close()
            out.append((path, times[0], times[1:], counts))
        context.close()
        browser.close()
    if outside:
        sys.exit(f"requests left the server: {outside}")
    return out


def report(rows: list[tuple[str, float, list[float], dict]], runs: int, where: str) -> None:
    """The table: first load, median and slowest of the measured loads, what was drawn."""
    print(f"{where}; median of {runs} loads after one warm-up")
    print(f"{'view':<58} {'first ms':>9} {'median ms':>10} {'max ms':>8}  drawn")
    for path, first, times, counts in rows:
        drawn = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{path:<58} {first:>9.0f} {statistics.median(times):>10.0f} {max(times):>8.0f}  {drawn}")
    worst = max(statistics.median(t) for _, _, t, _ in rows)
    print(f"slowest median {worst:.0f} ms: {'under' if worst < GOAL_MS else 'OVER'} the {GOAL_MS} ms goal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="measured loads per view (after one warm-up)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the cowkg serve started")
    parser.add_argument("--base", help="measure a running server instead of starting one")
    args = parser.parse_args()
    if args.base:
        report(measure(args.base, args.runs), args.runs, f"server at {args.base}")
        return
    with serve(args.workers) as base:
        report(measure(base, args.runs), args.runs, f"cowkg serve --workers {args.workers}")


if __name__ == "__main__":
    main()
