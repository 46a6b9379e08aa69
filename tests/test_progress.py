"""Progress: library stages report (stage, done, total); the CLI draws bars only on a terminal."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from cowkg.cli.progress import TerminalProgress
from cowkg.load import load_files
from cowkg.progress import report

ROOT = Path(__file__).resolve().parent.parent


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_load_reports_every_file(tmp_path):
    files = []
    for n in range(3):
        f = tmp_path / f"f{n}.ttl"
        f.write_text(f"<http://e/s{n}> <http://e/p> <http://e/o> .")
        files.append((f, "g"))
    calls = []
    load_files(files, lambda *a: calls.append(a))
    assert calls == [("load", 0, 3), ("load", 1, 3), ("load", 2, 3), ("load", 3, 3)]


def test_report_without_a_callback_does_nothing():
    report(None, "load", 1, 2)


def test_bars_are_drawn_on_a_terminal_one_per_stage():
    out = Terminal()
    with TerminalProgress(out) as progress:
        for i in range(5):
            progress("load", i, 4)
        progress("reason", 0, 1)
    text = out.getvalue()
    assert "load" in text and "4/4" in text and "reason" in text


def test_nothing_is_written_when_stderr_is_not_a_terminal():
    out = io.StringIO()
    with TerminalProgress(out) as progress:
        progress("load", 1, 2)
        progress("load", 2, 2)
    assert out.getvalue() == ""


def test_dump_reports_building_then_every_file_written(kg, tmp_path):
    from cowkg.dump import dump_release

    calls = []
    done = dump_release(kg, tmp_path, release="p1", progress=lambda *a: calls.append(a))
    writes = [c for c in calls if c[0] == "write"]
    assert calls[:2] == [("build", 0, 1), ("build", 1, 1)]
    assert [c[1] for c in writes] == list(range(1, len(writes) + 1)) and writes[-1][2] == len(writes)
    assert len(writes) == len([f for f in done.path.rglob("*") if f.is_file()])


@pytest.mark.parametrize("size", [True, False], ids=["100x24", "no-size"])
def test_cli_draws_bars_on_a_terminal_stderr_and_keeps_stdout_clean(tmp_path, size):
    """`cowkg validate` with stderr on a pseudo-terminal: bars there, the report alone on stdout;
    also on a terminal that reports no size (a fresh pty, `script` without a terminal), where
    tqdm alone would draw nothing."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    if size:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "cowkg", "validate"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=slave, env={**os.environ, "COLUMNS": "100"})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    stdout, _ = proc.communicate(timeout=300)
    os.close(master)
    terminal = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert stdout.decode().strip() == "conforms"
    assert "load" in terminal and "SHACL" in terminal
