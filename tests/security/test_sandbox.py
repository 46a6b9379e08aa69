"""The evaluator processes are confined by the kernel (cowkg.sandbox): whatever runs in them — a
SERVICE the parse-level check never saw, Python code, a runaway sort — cannot open a network
connection, and cannot take more than its memory budget."""

from __future__ import annotations

import socket
import sys

import pyoxigraph as ox
import pytest
from conftest import require

from cowkg.errors import QueryMemoryExceeded
from cowkg.web.evaluator import EvaluatorPool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="seccomp is Linux-only")


def open_socket(address):
    """Work for an evaluator: try to connect to ``address``; return what happened."""
    try:
        with socket.create_connection(address, timeout=2):
            return "connected"
    except OSError as exc:
        return f"refused: {exc}"


def raw_service(url):
    """Work for an evaluator: an unguarded SERVICE, straight to the engine (no cowkg check)."""
    try:
        return list(ox.Store().query(f"SELECT * {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"))
    except OSError as exc:
        return f"refused: {exc}"


def make_sockets(_):
    """Work for an evaluator: every family and type but Unix sockets must be refused."""
    out = {}
    for family in (socket.AF_INET, socket.AF_INET6, socket.AF_PACKET, socket.AF_NETLINK):
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM, socket.SOCK_RAW):
            try:
                socket.socket(family, kind).close()
                out[(int(family), int(kind))] = "opened"
            except OSError as exc:
                out[(int(family), int(kind))] = exc.errno
    a, b = socket.socketpair()
    a.close(), b.close()
    return out


@pytest.fixture()
def pool_of():
    pools = []

    def make(work, **kwargs):
        pool = EvaluatorPool(work, size=1, **kwargs)
        pool.prestart()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


def test_evaluators_report_that_they_are_confined(pool_of):
    pool = pool_of(open_socket)
    require(pool.confined is not None, "evaluator did not report its confinement")
    assert pool.confined is True


def own_pid(_payload) -> int:
    import os

    return os.getpid()


def test_evaluators_forked_side_by_side_are_each_confined_and_answer_alone():
    """``prestart`` forks every evaluator before greeting any: each must still be confined, keep
    only its own pipe (a sibling's end left open would hide a dead evaluator) and answer."""
    import os

    pool = EvaluatorPool(own_pid, size=6)
    try:
        pool.prestart()
        pids = pool.pids()
        assert len(set(pids)) == 6
        assert all(child.confinement is not None and child.confinement.network for child in pool._all)
        answers = {pool.run(None, 5) for _ in range(6)}
        assert answers <= set(pids) and answers
        victim = pool._all[0]
        os.kill(victim.pid, 9)
        os.waitpid(victim.pid, 0)
        assert victim.conn.poll(5), "a sibling holds the dead evaluator's pipe open"
        victim.pid = -1  # already reaped
    finally:
        for child in pool._all:
            if child.pid != -1:
                child.kill()


def test_an_evaluator_cannot_connect_anywhere(pool_of, canary):
    pool = pool_of(open_socket)
    before = len(canary.seen(0))
    assert pool.run(("127.0.0.1", canary.port), timeout=10).startswith("refused: [Errno 13]")
    assert len(canary.seen()) == before


def test_an_unguarded_service_in_an_evaluator_never_reaches_the_canary(pool_of, canary):
    pool = pool_of(raw_service)
    before = len(canary.seen(0))
    assert pool.run(canary.url, timeout=10).startswith("refused:")
    assert len(canary.seen()) == before


def test_an_evaluator_can_open_no_socket_but_a_unix_pair(pool_of):
    import errno

    results = pool_of(make_sockets).run(None, timeout=10)
    assert set(results.values()) == {errno.EACCES}, results


def grow_python(megabytes):
    return len(bytearray(megabytes << 20))


def grow_engine(n):
    store = ox.Store()
    store.extend([ox.Quad(ox.NamedNode(f"http://e/{i}"), ox.NamedNode("http://e/p"), ox.Literal(str(i)))
                  for i in range(n)])
    return len(list(store.query("SELECT * { ?a ?b ?c . ?d ?e ?f } ORDER BY ?a ?f")))


def test_python_memory_past_the_budget_is_503(pool_of):
    pool = pool_of(grow_python, memory_bytes=128 << 20)
    assert pool.run(16, timeout=10) == 16 << 20
    with pytest.raises(QueryMemoryExceeded) as info:
        pool.run(512, timeout=10)
    assert info.value.http_status == 503 and "query_memory" in info.value.hint


def test_the_engine_past_the_budget_is_503_and_the_pool_recovers(pool_of):
    pool = pool_of(grow_engine, memory_bytes=192 << 20)
    with pytest.raises(QueryMemoryExceeded):
        pool.run(3000, timeout=60)  # 9 million rows sorted: far over 192 MiB
    assert pool.run(20, timeout=10) == 400  # a fresh evaluator took the dead one's place
