"""Regenerate tests/competency/<query>.csv, the expected answers of queries/*.rq.

Run after a reviewed data change, then read `git diff tests/competency` before committing:
    .venv/bin/python scripts/update_competency.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from test_competency import LOCAL, answer  # noqa: E402

from cowkg.store import open_project  # noqa: E402


def main() -> None:
    kg = open_project(ROOT, reasoner="owlrl")
    out_dir = ROOT / "tests" / "competency"
    out_dir.mkdir(exist_ok=True)
    for path in LOCAL:
        rows = answer(kg, path)
        fields = list(rows[0]) if rows else []
        with open(out_dir / f"{path.stem}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        print(f"{path.stem}: {len(rows)} rows")


if __name__ == "__main__":
    main()
