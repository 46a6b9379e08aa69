"""``cowkg export -o`` killed with SIGKILL at any moment (issue 17, finding 11): the target is the
old file or the complete new one, and no partial temporary file is left beside it."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

from conftest import ROOT

from cowkg.files import write_atomically


def test_kill_9_during_export_leaves_no_partial_file(tmp_path, checkout_cache):
    """The exports read the closure from the checkout's cache (``checkout_cache``): on a fresh clone
    too, the kills land while they load and write, not while the first of them reasons for minutes."""
    target = tmp_path / "all.nt"
    target.write_bytes(b"<http://e/old> <http://e/p> <http://e/o> .\n")
    old = target.read_bytes()
    rng = random.Random(17)
    complete = None
    for _ in range(8):
        proc = subprocess.Popen([sys.executable, "-m", "cowkg", "export", "--infer", "--format", "nt", "-o",
                                 str(target)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 6.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        content = target.read_bytes()
        if content != old:
            if complete is None:
                done = subprocess.run([sys.executable, "-m", "cowkg", "export", "--infer", "--format", "nt"],
                                      cwd=ROOT, capture_output=True, timeout=600)
                complete = done.stdout
            assert content == complete, "a partial export replaced the old file"
            old = content
        leftovers = [p.name for p in tmp_path.iterdir() if p.name != "all.nt"]
        assert all(not _partial(tmp_path / name) for name in leftovers), leftovers


def _partial(path) -> bool:
    """A leftover that is not a complete, named copy (only possible in the instant between naming
    the complete file and renaming it; the next write removes such orphans)."""
    return path.stat().st_size == 0 or not path.read_bytes().endswith(b" .\n")


def test_the_next_write_removes_orphans_of_killed_writers(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = tmp_path / f".out.nt.{dead.pid}.abcd1234.tmp"
    orphan.write_bytes(b"half")
    live = tmp_path / f".out.nt.{os.getpid()}.abcd1234.tmp"
    live.write_bytes(b"being written")
    write_atomically(tmp_path / "out.nt", b"new\n")
    assert not orphan.exists() and live.exists()
    assert (tmp_path / "out.nt").read_bytes() == b"new\n"
