"""Regenerate tests/wikidata/gallery/<query>.csv, the expected answers of queries/wikidata/*.rq.

Run after a reviewed change of the data or of the alignment table, then read
`git diff tests/wikidata/gallery` before committing:
    .venv/bin/python scripts/update_wikidata_gallery.py
"""

from __future__ import annotations

from pathlib import Path

from cowkg.backends.embedded import run_query
from cowkg.media import by_name
from cowkg.store import open_project

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    kg = open_project(ROOT, reasoner="owlrl")
    out = ROOT / "tests" / "wikidata" / "gallery"
    out.mkdir(exist_ok=True)
    for path in sorted((ROOT / "queries" / "wikidata").glob("*.rq")):
        result = run_query(kg, path.read_text(encoding="utf-8"))
        (out / f"{path.stem}.csv").write_bytes(result.serialize(by_name("csv")))
        print(f"{path.stem}: {len(result)} rows")


if __name__ == "__main__":
    main()
