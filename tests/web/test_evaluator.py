"""The evaluator pool's hop on any event loop, and what it reports when the pipe to a live
evaluator breaks (found with uvloop: bench/results/event_loop.txt)."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
import time

import pytest

from cowkg.errors import QueryMemoryExceeded
from cowkg.web.evaluator import EvaluatorCrashed, EvaluatorPool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="evaluators fork (Linux)")


class NonBlockingReaderLoop(asyncio.SelectorEventLoop):
    """An event loop that makes every file it watches non-blocking, as uvloop (libuv) does."""

    def add_reader(self, fd, callback, *args):
        os.set_blocking(fd if isinstance(fd, int) else fd.fileno(), False)
        return super().add_reader(fd, callback, *args)


def big_answer(size: int) -> bytes:
    """Work for an evaluator: an answer far larger than a pipe holds, so it arrives in pieces."""
    return bytes(range(256)) * (size // 256)


def dripping_answer(size: int) -> bytes:
    """Work for an evaluator: ``big_answer``, sent through the pipe 4 kB at a time with pauses,
    so the reader always finds the pipe empty before the end."""
    from multiprocessing.connection import Connection

    send = Connection._send

    def drip(self, buf, *args):
        for start in range(0, len(buf), 4096):
            send(self, buf[start:start + 4096], *args)
            time.sleep(0.001)

    Connection._send = drip
    return big_answer(size)


def garble_own_pipe(kind: str) -> None:
    """Work for an evaluator: write on its own pipe a message no reader can take (a negative
    length, or bytes that are no pickle), then stay alive: the pipe breaks under a live process."""
    for name in os.listdir("/proc/self/fd"):
        try:
            if int(name) > 2 and stat.S_ISSOCK(os.fstat(int(name)).st_mode):
                os.write(int(name), b"\xff\xff\xff\xfe" if kind == "length" else b"\x00\x00\x00\x04junk")
                break
        except OSError:  # the directory listing's own descriptor, gone by now
            continue
    time.sleep(60)


@pytest.fixture()
def pool():
    made = EvaluatorPool(dripping_answer, size=2, memory_bytes=1 << 30)
    made.prestart()
    yield made
    made.close()


def test_a_loop_that_makes_the_pipe_non_blocking_still_gets_whole_answers(pool):
    loop = NonBlockingReaderLoop()
    try:
        for size in (1 << 10, 64 << 10, 256 << 10):
            answer = loop.run_until_complete(pool.run_async(size, timeout=30))
            assert answer == big_answer(size)
    finally:
        loop.close()
    assert pool.killed == 0 and len(pool.pids()) == 2


@pytest.mark.parametrize("kind", ["length", "pickle"])
def test_a_pipe_that_breaks_under_a_live_evaluator_is_not_called_a_memory_overrun(kind):
    pool = EvaluatorPool(garble_own_pipe, size=1, memory_bytes=1 << 30)
    try:
        with pytest.raises(EvaluatorCrashed) as caught:
            pool.run(kind, timeout=30)
        assert not isinstance(caught.value, QueryMemoryExceeded)
        assert "pipe" in str(caught.value)
        assert pool.pids() == []  # the live evaluator was stopped, not left running
    finally:
        pool.close()
