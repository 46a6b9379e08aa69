"""Progress of long work (loading, reasoning, dumps, Virtuoso loads, reconciliation).

Stage: shared by all. Library functions take an optional ``progress`` callback and call it as
``progress(stage, done, total)`` (``total`` None when unknown); they never print. The CLI draws the
calls as bars on a terminal (``cowkg.cli.progress``); the web layer and tests pass none or record them.
"""

from __future__ import annotations

from collections.abc import Callable

#: ``progress(stage, done, total)``: ``done`` of ``total`` steps of ``stage`` are finished.
Progress = Callable[[str, int, "int | None"], None]


def report(progress: Progress | None, stage: str, done: int, total: int | None = None) -> None:
    """Call ``progress`` if there is one: lets library code report without an ``if`` each time."""
    if progress is not None:
        progress(stage, done, total)


__all__ = ["Progress", "report"]
