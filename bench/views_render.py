"""How long every page takes to render on the shipped data, measured in Debian's chromium, on the
embedded store and over Virtuoso.

Starts ``cowkg serve`` (gunicorn, 2 workers, as users run it) on the shipped data as a subprocess on
a free 127.0.0.1 port (with ``--backend virtuoso``: a private Virtuoso holding the project's graphs,
started with ``cowkg.virtuoso.manage.up``, and ``cowkg serve --backend virtuoso`` in front of it),
then for each page opens it RUNS times in a fresh browser page and reads the milliseconds from the
start of navigation until the page says it is ready: an analyst view when its picture is drawn
(``window.cowkgViewReady.ms``: queries fetched, libraries loaded, chart laid out), any other page
at its load event (``window.cowkgPageReady.ms``, set by static/site.js). The first load of each
page warms the browser cache and the server's answer cache and is reported separately. Prints a
table; the goal is < 1000 ms for every page's median.

Usage: .venv/bin/python bench/views_render.py [--runs 7] [--workers 2] [--backend embedded|virtuoso|both]
       [--base http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # servers.serving, the tests' server launcher
COWR = "https://w3id.org/cowkg/id/"
#: Every kind of page: home (and as of a date), the lists (and a filtered one), entity pages, search,
#: the query editor, the four views, downloads, ontology, the VoID and endpoint pages.
PAGES = [
    "/", "/?as_of=2025-11-25", "/browse/",
    *(f"/browse/{n}" for n in ("meetings", "states", "people", "organisations", "documents", "statements",
                               "pledges", "places")),
    "/browse/meetings?mode=virtual&as_of=2025-12-31&sort=date&order=desc",
    "/page/emmanuel-macron", "/page/meeting-11", "/page/albania", "/page/coalition",
    "/search?q=macron", "/query",
    "/timeline", "/attendance", "/graph", "/graph?iri=" + quote(COWR + "keir-starmer", safe=""), "/map",
    "/download/", "/ontology", "/.well-known/void", "/sparql",
]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
GOAL_MS = 1000
RUNS = 7
READY = ("() => document.body.dataset.viewReady === 'true' || document.body.dataset.pageReady === 'true'"
         " || !!document.body.dataset.viewError")


@contextmanager
def serve(workers: int, backend: str) -> Iterator[str]:
    """``cowkg serve`` on the shipped data in a subprocess (over a private Virtuoso for
    ``backend="virtuoso"``); yields its base URL, stops everything after."""
    from servers import COWKG_SERVE, serving

    argv = [*COWKG_SERVE, "--workers", str(workers), "--no-access-log"]
    if backend == "embedded":
        with serving(argv, cwd=ROOT, wait=300) as server:
            yield server.base
        return
    from cowkg.virtuoso import manage

    with tempfile.TemporaryDirectory(prefix="cowkg-bench-views-") as tmp:
        instance = manage.up(Path(tmp) / "virtuoso", die_with_parent=True)
        try:
            manage.load(instance, manage.project_graphs(ROOT, cache_dir=ROOT / ".cache"))
            with serving([*argv, "--backend", "virtuoso", "--endpoint", instance.endpoint], cwd=ROOT,
                         wait=300) as server:
                yield server.base
        finally:
            manage.down(instance, purge=True)


def measure(base: str, runs: int) -> list[tuple[str, float, list[float], dict]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": 1366, "height": 1000})
        outside: list[str] = []
        context.on("request", lambda r: outside.append(r.url) if not r.url.startswith(
            (base, "data:", "blob:", "about:")) else None)
        for path in PAGES:
            times, counts = [], {}
            for _ in range(runs + 1):
                page = context.new_page()
                page.goto(base + path)
                page.wait_for_function(READY, timeout=60_000)
                ready = page.evaluate("() => window.cowkgViewReady || window.cowkgPageReady || null")
                if ready is None:
                    sys.exit(f"{path}: {page.evaluate('() => document.body.dataset.viewError')}")
                times.append(ready["ms"])
                counts = ready.get("counts", {})
                page.close()
            out.append((path, times[0], times[1:], counts))
        context.close()
        browser.close()
    if outside:
        sys.exit(f"requests left the server: {outside}")
    return out


def report(rows: list[tuple[str, float, list[float], dict]], runs: int, where: str) -> float:
    """The table: first load, median and slowest of the measured loads, what was drawn; the slowest median."""
    print(f"{where}; median of {runs} loads after one warm-up")
    print(f"{'page':<70} {'first ms':>9} {'median ms':>10} {'max ms':>8}  drawn")
    for path, first, times, counts in rows:
        drawn = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{path:<70} {first:>9.0f} {statistics.median(times):>10.0f} {max(times):>8.0f}  {drawn}")
    worst = max(statistics.median(t) for _, _, t, _ in rows)
    print(f"slowest median {worst:.0f} ms: {'under' if worst < GOAL_MS else 'OVER'} the {GOAL_MS} ms goal\n")
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help="measured loads per page (after one warm-up)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the cowkg serve started")
    parser.add_argument("--backend", choices=("embedded", "virtuoso", "both"), default="both",
                        help="where the started server's queries run")
    parser.add_argument("--base", help="measure a running server instead of starting one")
    args = parser.parse_args()
    if args.base:
        report(measure(args.base, args.runs), args.runs, f"server at {args.base}")
        return
    worst = 0.0
    for backend in ("embedded", "virtuoso") if args.backend == "both" else (args.backend,):
        with serve(args.workers, backend) as base:
            where = f"cowkg serve --workers {args.workers}" + (" --backend virtuoso" if backend == "virtuoso" else "")
            worst = max(worst, report(measure(base, args.runs), args.runs, where))
    sys.exit(0 if worst < GOAL_MS else 1)


if __name__ == "__main__":
    main()
