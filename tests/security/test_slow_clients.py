"""Slow and idle clients (issue 17, finding 3): connections that send their headers or their body
a byte at a time cost the server no request thread, are cut at ``header_timeout`` /
``body_timeout``, and do not delay anyone else."""

from __future__ import annotations

import socket
import statistics
import threading
import time
from urllib.parse import urlparse

import pytest
import requests


def address(base: str) -> tuple[str, int]:
    url = urlparse(base)
    return url.hostname, url.port


class Dripper(threading.Thread):
    """A client that sends ``head`` then ``body`` one byte every ``pause`` seconds."""

    def __init__(self, base: str, head: bytes, body: bytes = b"", pause: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.base, self.head, self.body, self.pause = base, head, body, pause
        self.closed_after: float | None = None
        self.answer = b""
        self.stop = False

    def run(self) -> None:
        import select

        start = time.monotonic()
        with socket.create_connection(address(self.base), timeout=30) as s:
            try:
                for part, dribble in ((self.head, self.body == b""), (self.body, True)):
                    if not dribble:
                        s.sendall(part)
                        continue
                    for i in range(len(part)):
                        if self.stop or select.select([s], [], [], 0)[0]:
                            break  # stopped, or the server answered (or closed) meanwhile
                        s.send(part[i:i + 1])
                        time.sleep(self.pause)
                self.answer = s.recv(4096)
            except OSError:
                pass
            self.closed_after = time.monotonic() - start


def slow_headers(base: str) -> Dripper:
    return Dripper(base, b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200)


def slow_body(base: str) -> Dripper:
    return Dripper(base, b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                         b"Content-Length: 200\r\n\r\n", b"ASK {}" + b" " * 194)


def normal_latencies(base: str, n: int = 5) -> list[float]:
    out = []
    for i in range(n):
        start = time.perf_counter()
        resp = requests.get(base + "/sparql", params={"query": f"ASK {{ ?s ?p ?o }} # {i}"}, timeout=30)
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200
        assert requests.get(base + "/health", timeout=30).status_code == 200
    return out


def median_latency_beside(base: str, drippers: list) -> float:
    """A normal client's median latency while ``drippers`` hold their connections open."""
    for d in drippers:
        d.start()
    time.sleep(1)
    try:
        return statistics.median(normal_latencies(base))
    finally:
        for d in drippers:
            d.stop = True


@pytest.mark.parametrize("kind", [slow_headers, slow_body])
def test_twelve_slow_clients_do_not_delay_a_normal_one(attack_server, kind):
    drippers = [kind(attack_server.base) for _ in range(12)]
    assert median_latency_beside(attack_server.base, drippers) < 1.0


def test_a_hundred_slow_clients_do_not_either(attack_server):
    drippers = [(slow_headers if i % 2 else slow_body)(attack_server.base) for i in range(100)]
    assert median_latency_beside(attack_server.base, drippers) < 1.0


def test_a_body_sent_too_slowly_is_cut_with_the_setting_named(attack_server):
    d = slow_body(attack_server.base)
    d.pause = 0.2
    d.start()
    d.join(30)
    assert d.closed_after is not None and d.closed_after < 10
    head, _, body = d.answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503") and b"body_timeout" in body


def test_headers_sent_too_slowly_are_cut(attack_server):
    d = slow_headers(attack_server.base)
    d.start()
    d.join(30)
    assert d.closed_after is not None and d.closed_after < 10  # header_timeout is 3 s here
