"""cowkg.forked: a function in a forked helper gives its answer, its exception, or HelperLost,
and never leaves the caller waiting or a child behind."""

from __future__ import annotations

import os
import signal
import time

import pytest

from cowkg.errors import NotFound
from cowkg.forked import Forked, HelperLost, available

pytestmark = pytest.mark.skipif(not available(), reason="needs fork and a second CPU")


def test_the_answer_comes_from_another_process_with_this_ones_memory():
    big = bytes(range(256)) * 40_000  # 10 MB: the pipe carries more than its buffer
    job = Forked(lambda: (os.getpid(), big[::-1]))
    pid, answer = job.result()
    assert pid != os.getpid() and answer == big[::-1]


def test_what_the_function_raises_is_raised_with_its_details():
    def fails() -> None:
        raise NotFound("no such query file: q.rq", hint="cowkg query --help")

    with pytest.raises(NotFound) as err:
        Forked(fails).result()
    assert err.value.hint == "cowkg query --help" and err.value.exit_code == 2


def test_an_exception_that_cannot_travel_is_told_by_its_text():
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    def fails() -> None:
        raise Local("the table is broken")

    with pytest.raises(RuntimeError, match="Local: the table is broken"):
        Forked(fails).result()


class NeedsTwo(Exception):
    """Pickles, but cannot be rebuilt from its args alone (the parent's recv would fail)."""

    def __init__(self, what: str, where: str) -> None:
        super().__init__(f"{what} at {where}")


def test_an_exception_that_pickles_but_cannot_be_rebuilt_is_told_by_its_text():
    def fails() -> None:
        raise NeedsTwo("a broken row", "line 3")

    with pytest.raises(RuntimeError, match="NeedsTwo: a broken row at line 3"):
        Forked(fails).result()


def test_a_helper_killed_before_answering_is_lost_not_awaited():
    job = Forked(time.sleep, 60)
    os.kill(job._process.pid, signal.SIGKILL)
    start = time.monotonic()
    with pytest.raises(HelperLost, match="ended without an answer .exit code -9"):
        job.result()
    assert time.monotonic() - start < 10


def test_cancel_ends_a_helper_whose_answer_is_not_wanted():
    with Forked(time.sleep, 60) as job:
        process = job._process
    assert not process.is_alive() and process.exitcode is not None
