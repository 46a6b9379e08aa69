"""Same queries, same answers: every query of queries/ on the embedded store and on a real Virtuoso.

The query files are collected when the tests are collected, so new competency, coverage and view
queries are compared as soon as they exist. Each runs twice, over the asserted graphs and over
asserted + inferred. Results are compared as sets after the normalisations of ``normalise.py``
(N1-N7, documented in docs/VIRTUOSO.md). Where Virtuoso 7.2 answers differently for a reason
outside cowkg, the query is listed in ``KNOWN`` with that reason (docs/VIRTUOSO.md §Differences):
a strict expected failure, so the list shrinks as soon as a query or Virtuoso changes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cowkg.errors import CowkgError

from .normalise import boolean_columns, comparable, describe_difference

ROOT = Path(__file__).resolve().parents[2]
QUERY_FILES = sorted((ROOT / "queries").glob("*.rq")) + sorted((ROOT / "queries" / "coverage").glob("*.rq")) \
    + sorted((ROOT / "queries" / "views").glob("*.rq"))

#: (query file relative to queries/, infer or None for both) → why Virtuoso answers differently.
KNOWN: dict[tuple[str, bool | None], str] = {}

pytestmark = pytest.mark.virtuoso


def cases():
    for path in QUERY_FILES:
        name = path.relative_to(ROOT / "queries").as_posix()
        for infer in (False, True):
            reason = KNOWN.get((name, infer)) or KNOWN.get((name, None))
            marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
            yield pytest.param(path, infer, id=f"{name}-{'inferred' if infer else 'asserted'}", marks=marks)


def test_queries_exist():
    assert len(QUERY_FILES) >= 25


@pytest.mark.parametrize("path, infer", list(cases()))
def test_same_answer_on_embedded_and_virtuoso(path, infer, embedded, project_backend):
    sparql = path.read_text(encoding="utf-8")
    try:
        expected = embedded.query(sparql, infer=infer, timeout=60)
    except CowkgError as exc:  # a broken query must be broken on both
        with pytest.raises(type(exc)):
            project_backend.query(sparql, infer=infer, timeout=60)
        return
    got = project_backend.query(sparql, infer=infer, timeout=60)
    assert got.kind == expected.kind
    assert not got.truncated
    booleans = boolean_columns(expected) if expected.kind == "solutions" else set()
    a, b = comparable(expected, sparql, booleans), comparable(got, sparql, booleans)
    assert a == b, describe_difference(a, b)
