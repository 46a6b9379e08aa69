"""Quality-control queries: ``queries/qc/*-violation.rq``, SELECT queries whose every row is a defect.

Stage: validation, beside SHACL (``cowkg.validate.validate`` runs both, so ``cowkg validate``,
``cowkg stats`` and the tests report them alike). SHACL checks what a node must look like; a QC
query checks what needs several nodes or the words of a literal at once: a plan described as done
by another node, a date neither printed nor marked derived, a language tag that is missing or
inconsistent, a printed spelling that no label lookup would find.

Each file starts with ``# title:`` and ``# message:`` header lines (the message is what the
report prints for every row). Its rows bind ``?focus`` (the node at fault, required), and may bind
``?path`` (the property) and ``?value``. The queries run over the asserted graphs merged into one
default graph, with cowkg's prefixes predeclared (``cowkg.vocab.PREFIXES``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError
from .load import Sources
from .vocab import ASSERTED_GRAPHS, PREFIXES

__all__ = ["QcQuery", "load_qc", "run_qc"]


@dataclass(frozen=True)
class QcQuery:
    """One QC query: its name (the file stem without ``-violation``), title, message and text."""

    name: str
    title: str
    message: str
    sparql: str
    path: Path


def load_qc(queries_dir: str | Path) -> list[QcQuery]:
    """Every ``queries/qc/*-violation.rq`` under ``queries_dir``, sorted by name.

    Raises InputError for a file without its ``# title:`` / ``# message:`` header.
    """
    out = []
    for path in sorted((Path(queries_dir) / "qc").glob("*-violation.rq")):
        text = path.read_text(encoding="utf-8")
        header = {}
        for line in text.splitlines():
            if not line.startswith("#"):
                break
            key, _, value = line[1:].strip().partition(":")
            header[key.strip()] = value.strip()
        if not header.get("title") or not header.get("message"):
            raise InputError(f"{path}: a QC query starts with '# title:' and '# message:' lines",
                             hint="see queries/qc/README.md")
        out.append(QcQuery(path.stem.removesuffix("-violation"), header["title"], header["message"], text, path))
    return out


def run_qc(sources: Sources | None, queries: list[QcQuery],
           store: ox.Store | None = None) -> list[tuple[QcQuery, dict[str, ox.NamedNode | ox.Literal]]]:
    """Run ``queries`` over the asserted graphs of ``sources``: one (query, row) pair per defect.
    ``store``, when given, already holds them merged in its default graph and is read instead.

    Raises InputError naming the file when a query does not parse or does not bind ``?focus``.
    """
    if not queries:
        return []
    if store is None:
        store = ox.Store()
        store.extend(ox.Quad(*t, ox.DefaultGraph())
                     for t in sources.triples(str(g) for g in ASSERTED_GRAPHS))
    found = []
    for query in queries:
        try:
            result = store.query(query.sparql, prefixes=PREFIXES)
        except SyntaxError as exc:
            raise InputError(f"{query.path}: {exc}", hint="fix the QC query") from None
        if not isinstance(result, ox.QuerySolutions) or "focus" not in {v.value for v in result.variables}:
            raise InputError(f"{query.path}: a QC query is a SELECT that binds ?focus")
        variables = [v.value for v in result.variables]
        for solution in result:
            row = {name: solution[name] for name in variables if solution[name] is not None}
            found.append((query, row))
    return found
