"""Progress bars for the command line: the ``Progress`` callbacks of the library drawn with tqdm.

Stage: CLI. Bars go to stderr and only when stderr is a terminal, so output piped to a file or
another program stays clean; one bar per stage, closed when the stage completes or another starts.
"""

from __future__ import annotations

import os
import sys
from typing import TextIO

from tqdm import tqdm


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


class TerminalProgress:
    """A ``cowkg.progress.Progress`` that draws a bar per stage on a terminal, nothing elsewhere."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        # A terminal that reports no size (0x0) makes tqdm draw nothing: assume 80x24 there.
        self.size = {} if _columns(self.stream) else {"ncols": 80, "nrows": 24}
        self._bar: tqdm | None = None
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int | None = None) -> None:
        if not self.enabled:
            return
        if stage != self._stage or self._bar is None:
            self.close()
            self._stage = stage
            self._bar = tqdm(total=total, desc=stage, file=self.stream, leave=False, **self.size,
                             dynamic_ncols=not self.size,
                             bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]"
                             if total else "{desc}: {n_fmt} [{elapsed}]")
        if total is not None and self._bar.total != total:
            self._bar.total = total
        self._bar.n = done
        self._bar.refresh()
        if total is not None and done >= total:
            self.close()

    def close(self) -> None:
        """Finish the current bar (it is erased: the command's own output follows)."""
        if self._bar is not None:
            self._bar.close()
        self._bar, self._stage = None, None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
