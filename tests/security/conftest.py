"""Fixtures of the attack suite: a loopback canary that records every TCP connection, and a real
server (``cowkg serve`` on the shipped data, as deployed) to attack.

The canary listens at the TCP level, so it sees any connection attempt, not only well-formed
HTTP: a SERVICE call, a port scan, a fetch of cowkg itself through its own URL.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from conftest import ROOT
from servers import COWKG_SERVE, serving


class Canary:
    """A loopback TCP listener that counts connections; ``url`` is an HTTP URL pointing at it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/sparql"
        self.connections: list[bytes] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(0.5)
            try:
                first = conn.recv(200)
            except OSError:
                first = b""
            self.connections.append(first)
            conn.close()

    def seen(self, settle: float = 0.2) -> list[bytes]:
        """Connections so far, after a short wait for any in flight."""
        time.sleep(settle)
        return list(self.connections)

    def close(self) -> None:
        self._stop = True
        self.sock.close()


@pytest.fixture(scope="session")
def canary():
    c = Canary()
    yield c
    c.close()


@pytest.fixture(scope="session", params=["native", "granian"])
def attack_server(request, tmp_path_factory, checkout_cache):
    """``cowkg serve`` on the shipped data (2 workers), with small limits an attack can reach fast:
    once behind each HTTP front (the ``front`` setting), so every attack meets both."""
    if request.param == "native":
        request.getfixturevalue("native_front")  # built (scripts/setup.sh), else built here or failed under CI
    log = tmp_path_factory.mktemp(f"attack-{request.param}") / "server.log"
    env = {**os.environ,  # the checkout's cache, holding the session's closure (``checkout_cache``)
           "COWKG_QUERY_TIMEOUT": "4", "COWKG_QUERY_MEMORY": str(512 << 20), "COWKG_BODY_TIMEOUT": "3",
           "COWKG_HEADER_TIMEOUT": "3", "COWKG_FRONT": request.param}
    with serving([*COWKG_SERVE, "--workers", "2"], log=log, env=env, cwd=ROOT, wait=300) as server:
        yield server
