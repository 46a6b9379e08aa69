"""How long each analyst view takes to render on the shipped data, measured in Debian's chromium.

Starts the app on the shipped data in this process (werkzeug on a free 127.0.0.1 port, the store built
once), then for each view opens the page RUNS times in a fresh browser page and reads
``window.cowkgViewReady.ms``: milliseconds from the start of navigation until the view signals that
its picture is drawn (queries fetched, libraries loaded, chart laid out). The first load of each view
warms the browser cache and is reported separately. Prints a table; the goal is < 1000 ms.

Usage: .venv/bin/python bench/views_render.py [--runs 5] [--base http://127.0.0.1:8000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWS = ["/timeline", "/attendance", "/graph", "/graph?iri=https://w3id.org/cowkg/id/keir-starmer", "/map"]
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
GOAL_MS = 1000


def serve() -> str:
    """The app on the shipped data, served from a thread; returns its base URL."""
    import logging
    import socket

    from werkzeug.serving import make_server

    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.store import open_project
    from cowkg.web import create_app

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    kg = open_project(ROOT, with_inference=False)
    app = create_app({"root": str(ROOT)}, backend=EmbeddedBackend(kg))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{port}"


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
                page.wait_for_function("document.body.dataset.viewReady === 'true' || document.body.dataset.viewError",
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured loads per view (after one warm-up)")
    parser.add_argument("--base", help="measure a running server instead of starting one")
    args = parser.parse_args()
    base = args.base or serve()
    rows = measure(base, args.runs)
    print(f"{'view':<58} {'first ms':>9} {'median ms':>10} {'max ms':>8}  drawn")
    for path, first, times, counts in rows:
        drawn = ", ".join(f"{k} {v}" for k, v in counts.items())
        print(f"{path:<58} {first:>9.0f} {statistics.median(times):>10.0f} {max(times):>8.0f}  {drawn}")
    worst = max(statistics.median(t) for _, _, t, _ in rows)
    print(f"slowest median {worst:.0f} ms: {'under' if worst < GOAL_MS else 'OVER'} the {GOAL_MS} ms goal")


if __name__ == "__main__":
    main()
