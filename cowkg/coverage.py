"""Coverage: one SPARQL ASK per fact of the inventory, run against the graph.

Stage: a consumer of query. Inputs: ``queries/coverage/<FACT-ID>.rq`` and the fact inventory
(``../shared/reference/fact-inventory.md``; its IDs are the denominator). Output: per inventory
section, covered/total, and the IDs that are missing a query or whose ASK is false.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from .backends import GraphSource, as_backend
from .errors import CowkgError, NotFound

_ID_RE = re.compile(r"^\|\s*((?:F-[A-Z]+-[0-9A-Za-z-]+)|(?:AMB-\d+))\s*\|", re.MULTILINE)


def default_inventory(root: str | Path) -> Path:
    return Path(root).resolve().parent / "shared" / "reference" / "fact-inventory.md"


def inventory_ids(path: str | Path) -> list[str]:
    """Every fact and trap ID of the inventory, in document order. Raises NotFound."""
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"fact inventory not found: {path}", hint="pass --inventory PATH")
    seen: dict[str, None] = OrderedDict()
    for m in _ID_RE.finditer(path.read_text(encoding="utf-8")):
        seen.setdefault(m.group(1), None)
    return list(seen)


def section_of(fact_id: str) -> str:
    """``F-MEET-04-H`` → ``F-MEET``; ``AMB-03`` → ``AMB``."""
    parts = fact_id.split("-")
    return "AMB" if parts[0] == "AMB" else "-".join(parts[:2])


@dataclass
class CoverageReport:
    sections: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # no query file
    failing: list[str] = field(default_factory=list)  # ASK false
    errors: dict[str, str] = field(default_factory=dict)  # query broken
    extra: list[str] = field(default_factory=list)  # query files for unknown IDs

    @property
    def covered(self) -> int:
        return sum(s["covered"] for s in self.sections.values())

    @property
    def total(self) -> int:
        return sum(s["total"] for s in self.sections.values())


def coverage_files(queries_dir: str | Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted((Path(queries_dir) / "coverage").glob("*.rq"))}


def run_coverage(source: GraphSource, ids: list[str], queries_dir: str | Path) -> CoverageReport:
    """Run every coverage ASK; a fact is covered when its file exists and its ASK is true."""
    backend = as_backend(source)
    files = coverage_files(queries_dir)
    report = CoverageReport()
    for fact_id in ids:
        sec = report.sections.setdefault(section_of(fact_id), {"covered": 0, "total": 0})
        sec["total"] += 1
        path = files.get(fact_id)
        if path is None:
            report.missing.append(fact_id)
            continue
        try:
            result = backend.query(path.read_text(encoding="utf-8"))
        except CowkgError as exc:
            report.errors[fact_id] = str(exc)
            continue
        if result.kind != "boolean":
            report.errors[fact_id] = "not an ASK query"
        elif result.boolean:
            sec["covered"] += 1
        else:
            report.failing.append(fact_id)
    report.extra = sorted(set(files) - set(ids))
    return report
