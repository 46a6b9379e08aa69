"""A function run in a forked helper process while this one goes on, for the build's second core.

Why: the stages of a build that are Python (the OWL rules, the Wikibase view) hold the GIL, so
threads cannot overlap them — measured at 1M triples, running the store and validation in a thread
beside the reasoning and the view made the build 2% faster, not 40%. A forked child starts with
this process's memory (the parsed triples cost nothing to hand over), runs on the other core, and
sends back its answer (bytes, in practice) through a pipe.

The caller decides when it pays (``available`` says only whether it can); whatever happens to the
child, the caller gets either the answer, the exception the function raised, or ``HelperLost`` —
it never waits for a child that died, since a dying child closes its end of the pipe (a child
that runs on is waited for: the function's own duration is the caller's to bound).

>>> job = Forked(sum, [1, 2, 3]) if available() else None
>>> job.result() if job else 6
6
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable
from typing import Any

from .errors import CowkgError


class HelperLost(CowkgError):
    """The helper process ended without an answer (killed, out of memory)."""


def available() -> bool:
    """Whether a forked helper can run beside this process: fork exists and there is a second CPU."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        return len(os.sched_getaffinity(0)) > 1
    except AttributeError:  # not Linux
        return (os.cpu_count() or 1) > 1


class Forked:
    """``fn(*args)`` computed in a forked child; ``result()`` waits for it.

    The child is a daemon (it dies with this process), and ``cancel`` (or leaving a ``with``
    block without ``result``) ends it when the answer is no longer wanted."""

    def __init__(self, fn: Callable[..., Any], *args: Any) -> None:
        ctx = multiprocessing.get_context("fork")
        self._answer, sender = ctx.Pipe(duplex=False)
        self._process = ctx.Process(target=_child, args=(sender, fn, args), daemon=True,
                                    name=f"cowkg-{getattr(fn, '__name__', 'helper')}")
        self._process.start()
        sender.close()  # the child's end: this process keeps only the reading one
        self._done = False

    def result(self) -> Any:
        """The function's return value; raises what it raised, or HelperLost."""
        try:
            kind, value = self._answer.recv()
        except (EOFError, OSError):
            self._process.join()
            raise HelperLost(f"the helper process {self._process.name} ended without an answer "
                             f"(exit code {self._process.exitcode})") from None
        finally:
            self._answer.close()
            self._done = True
        self._process.join()
        if kind == "error":
            raise value
        return value

    def cancel(self) -> None:
        """End the child if its answer was not collected."""
        if not self._done:
            self._done = True
            self._process.kill()
            self._process.join()
            self._answer.close()

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cancel()


def _child(sender, fn: Callable[..., Any], args: tuple) -> None:
    try:
        answer: tuple[str, Any] = ("ok", fn(*args))
    except BaseException as exc:  # noqa: BLE001 - every failure goes back to the parent
        try:
            pickle.loads(pickle.dumps(exc))  # both ways: some exceptions pickle but cannot be rebuilt
            answer = ("error", exc)
        except Exception:  # noqa: BLE001 - an exception that cannot travel is told by its text
            answer = ("error", RuntimeError(f"{type(exc).__name__}: {exc}"))
    sender.send(answer)
    sender.close()


__all__ = ["Forked", "HelperLost", "available"]
