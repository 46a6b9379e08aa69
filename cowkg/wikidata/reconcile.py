"""``cowkg reconcile``: find Wikidata candidates for cowkg entities and write a review file.

Stage: after the store; uses the Wikidata client. For each entity (of the chosen classes, or
the given slugs) it searches Wikidata by label and aliases, fetches the candidates (50 per
request) and the items their facts mention (for readable evidence), scores every candidate
(``scoring``) and writes a TSV a person reviews. Nothing is written to ``data/``: only rows a
reviewer marks in the ``accept`` column become links, through ``links.accept_links``.

The review file is written atomically once everything is fetched: when Wikidata becomes
unreachable half-way, the command fails and no half-done file exists.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from .. import __version__
from ..backends import GraphSource, as_backend
from ..errors import InputError, Location
from ..files import write_atomically
from ..progress import Progress, report
from .client import WikidataClient
from .local import LocalEntity, load_entities
from .model import Entity
from .scoring import Score, score_candidate

REVIEW_COLUMNS = ("entity", "label", "class", "rank", "qid", "wikidata_label", "wikidata_description", "score",
                  "verdict", "matched", "conflicted", "notes", "accept")
ACCEPT_WORDS = {"yes", "y", "x", "1", "true", "accept", "accepted", "ok"}
SEARCH_LIMIT = 7
MAX_CANDIDATES = 12
STRONG = 80.0
MARGIN = 10.0


@dataclass
class ReviewRow:
    """One candidate for one entity, as a review-file row."""

    entity: str
    label: str
    cls: str
    rank: int
    qid: str
    wikidata_label: str
    wikidata_description: str
    score: float
    verdict: str
    matched: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    accept: str = ""
    line: int | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.accept.strip().lower() in ACCEPT_WORDS

    def cells(self) -> list[str]:
        return [self.entity, self.label, self.cls, str(self.rank), self.qid, self.wikidata_label,
                self.wikidata_description, f"{self.score:.1f}", self.verdict, " | ".join(self.matched),
                " | ".join(self.conflicted), " | ".join(self.notes), self.accept]


@dataclass
class Review:
    """The rows of a reconciliation run and the client's notices (cache use, redirects, missing IDs)."""

    rows: list[ReviewRow]
    notices: list[str]
    entities: int
    generated: str


def candidate_ids(client: WikidataClient, ent: LocalEntity) -> list[str]:
    """Candidates from ``wbsearchentities`` for the label and every alias, in Wikidata's order."""
    ids: list[str] = []
    for name in ent.names or [ent.label]:
        for hit in client.search(name, limit=SEARCH_LIMIT):
            if hit.id not in ids:
                ids.append(hit.id)
    return ids[:MAX_CANDIDATES]


def _referenced(entities: Iterable[Entity]) -> set[str]:
    refs: set[str] = set()
    for e in entities:
        for pid in ("P31", "P17", "P27", "P39"):
            refs.update(e.item_values(pid))
    return refs


def reconcile(source: GraphSource, client: WikidataClient, *, classes: Iterable[str] | None = None,
              slugs: Iterable[str] | None = None, include_linked: bool = False, per_entity: int = 3,
              progress: Progress | None = None) -> Review:
    """Score Wikidata candidates for the chosen entities. Raises BackendUnavailable, InputError.

    ``progress`` hears "search Wikidata" (entities searched)."""
    backend = as_backend(source)
    entities = load_entities(backend, classes=classes, slugs=slugs)
    if not include_linked:
        entities = [e for e in entities if not e.links]
    found: dict[str, list[str]] = {}
    for n, ent in enumerate(entities):
        report(progress, "search Wikidata", n, len(entities))
        found[ent.iri] = candidate_ids(client, ent)
    report(progress, "search Wikidata", len(entities), len(entities))
    batch = client.get_entities(sorted({q for ids in found.values() for q in ids}, key=lambda q: int(q[1:])))
    names = client.get_entities(sorted(_referenced(batch.entities.values()), key=lambda q: int(q[1:])),
                                props=("labels",), report=False)

    def label_of(qid: str) -> str:
        e = names.get(qid) or batch.get(qid)
        return e.label() if e else qid

    rows: list[ReviewRow] = []
    for ent in entities:
        scored: list[tuple[str, Entity, Score]] = []
        seen_targets: set[str] = set()
        for qid in found[ent.iri]:
            cand = batch.get(qid)
            if cand is None or cand.id in seen_targets:
                continue
            seen_targets.add(cand.id)
            s = score_candidate(ent, cand, label_of)
            if cand.id in ent.links:
                s.notes.insert(0, "cowkg already links this item")
            scored.append((cand.id, cand, s))
        scored.sort(key=lambda t: (-t[2].points, int(t[0][1:])))
        cls = ent.classes[0] if ent.classes else ""
        if not scored:
            rows.append(ReviewRow(ent.curie, ent.label, cls, 0, "", "", "", 0.0, "no-candidate"))
            continue
        for rank, (qid, cand, s) in enumerate(scored[:per_entity], 1):
            rows.append(ReviewRow(ent.curie, ent.label, cls, rank, qid, cand.label(), cand.description(), s.points,
                                  _verdict(rank, s, scored), s.matched, s.conflicted, notes=s.notes))
    return Review(rows, list(client.notices), len(entities), datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _verdict(rank: int, s: Score, scored: list[tuple[str, Entity, Score]]) -> str:
    """``conflict`` (a fact disagrees), ``strong`` (top, ≥ 80 points, 10 ahead of the next) or ``weak``."""
    if s.conflict:
        return "conflict"
    if rank == 1 and s.points >= STRONG:
        runner_up = scored[1][2].points if len(scored) > 1 else 0.0
        if s.points - runner_up >= MARGIN:
            return "strong"
    return "weak"


def _clean(cell: str) -> str:
    return " ".join(cell.replace("\t", " ").split())


def review_tsv(review: Review, source: str = "") -> bytes:
    """The review file: ``#`` comment lines (what produced it), a header row, one row per candidate."""
    out = io.StringIO()
    out.write(f"# cowkg {__version__} reconcile, {review.generated}; {review.entities} entities"
              f"{'; ' + source if source else ''}\n")
    out.write("# Review: put 'yes' in the accept column of the right candidate (at most one per entity), then run\n")
    out.write("#   cowkg reconcile accept THIS_FILE\n")
    for notice in review.notices:
        out.write(f"# note: {_clean(notice)}\n")
    writer = csv.writer(out, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(REVIEW_COLUMNS)
    for row in review.rows:
        writer.writerow([_clean(c) for c in row.cells()])
    return out.getvalue().encode("utf-8")


def write_review(review: Review, path: str | Path, source: str = "") -> None:
    """Write the review file atomically (a temp file renamed into place)."""
    write_atomically(path, review_tsv(review, source))


def read_review(path: str | Path) -> list[ReviewRow]:
    """Parse a review file (comment lines skipped). Raises InputError with file:line on a bad row."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such review file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    if not lines:
        raise InputError(f"{path} has no header row", Location(str(path)))
    header_line, header = lines[0]
    columns = next(csv.reader([header], delimiter="\t"))
    missing = [c for c in ("entity", "qid", "accept") if c not in columns]
    if missing:
        raise InputError(f"the review file lacks the column(s) {', '.join(missing)}", Location(str(path), header_line),
                         hint="columns: " + ", ".join(REVIEW_COLUMNS))
    rows = []
    for n, line in lines[1:]:
        cells = next(csv.reader([line], delimiter="\t"))
        if len(cells) > len(columns):
            raise InputError(f"{len(cells)} cells, the header has {len(columns)}", Location(str(path), n))
        rec = dict(zip(columns, cells + [""] * (len(columns) - len(cells)), strict=True))
        try:
            score = float(rec.get("score") or 0)
            rank = int(rec.get("rank") or 0)
        except ValueError:
            raise InputError("score and rank must be numbers", Location(str(path), n)) from None
        rows.append(ReviewRow(rec["entity"].strip(), rec.get("label", ""), rec.get("class", ""), rank,
                              rec["qid"].strip(), rec.get("wikidata_label", ""), rec.get("wikidata_description", ""),
                              score, rec.get("verdict", ""),
                              [m for m in rec.get("matched", "").split(" | ") if m],
                              [c for c in rec.get("conflicted", "").split(" | ") if c],
                              rec.get("accept", ""), n, [x for x in rec.get("notes", "").split(" | ") if x]))
    return rows
