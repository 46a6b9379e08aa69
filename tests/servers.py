"""Start a server as a child process on a free loopback port and wait until it answers /health.

A test helper (not part of the package): tests and benchmarks that need a real server (not a
test client) start ``cowkg serve`` or a fixture server through ``serving``; it stops the
server gracefully (SIGTERM, then SIGKILL) however the block ends.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple
from urllib.error import URLError
from urllib.request import urlopen

from cowkg.virtuoso.manage import free_port

#: ``python -m cowkg serve``: the CLI users run, from this interpreter.
COWKG_SERVE = (sys.executable, "-m", "cowkg", "serve")


class Served(NamedTuple):
    """A running server: its base URL and its process."""

    base: str
    process: subprocess.Popen


@contextmanager
def serving(argv: Sequence[str] = COWKG_SERVE, *, log: str | Path | None = None,
            env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
            wait: float = 240) -> Iterator[Served]:
    """Run ``argv`` + ``--port N`` (N a free loopback port), yield it once /health answers 200.

    Its output goes to ``log`` (or nowhere). Raises RuntimeError when the server exits first and
    TimeoutError when it does not answer within ``wait`` seconds (the log says why).
    """
    port = free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed in finally
    proc = subprocess.Popen([*argv, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                            env=dict(env) if env is not None else None, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, proc, wait)
        yield Served(base, proc)
    finally:
        stop(proc)
        if log:
            out.close()


def wait_until_healthy(base: str, proc: subprocess.Popen, wait: float) -> None:
    """Poll ``base``/health until it answers 200; fail fast if ``proc`` exits."""
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before answering {base}/health")
        try:
            with urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return
        except (URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{base}/health did not answer within {wait:g} s")


def stop(proc: subprocess.Popen, grace: float = 20) -> None:
    """SIGTERM (gunicorn finishes requests in flight), then SIGKILL after ``grace`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def with_pythonpath(root: str | Path) -> dict[str, str]:
    """This process's environment with ``root`` on PYTHONPATH (for scripts run from a checkout)."""
    return {**os.environ, "PYTHONPATH": str(root)}
