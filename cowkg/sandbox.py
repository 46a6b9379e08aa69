"""Confinement of the processes that evaluate untrusted queries: no network, bounded memory.

Stage: the evaluator processes of the web layer (``cowkg.web.evaluator``) call ``confine`` right
after they are forked. Two limits, enforced by the kernel, so they hold whatever the query does:

- **No network.** A seccomp filter makes ``socket()`` fail with EACCES for every address family but
  AF_UNIX (the evaluator talks to its server process over an already open Unix socket pair), and
  refuses ``io_uring_setup`` and foreign system-call ABIs (x32, i386), which could open sockets
  another way. pyoxigraph runs ``SERVICE`` clauses itself; in a confined process such a call fails
  before a packet leaves, so even a query that slipped past the parse-level refusal
  (``cowkg.query.refuse``) cannot reach another host, a loopback port or cowkg itself. Seccomp
  filters need no privilege (``PR_SET_NO_NEW_PRIVS``) and work inside containers that allow
  ``prctl``; where the kernel or the platform refuses (not Linux, an unknown CPU architecture,
  seccomp disabled), ``confine`` reports it, the server logs a warning at start, ``/health`` says
  ``"network_confined": false``, and queries that only an unusual reading of their text makes
  federated are refused instead of run (``cowkg.query.refuse``).
- **Bounded memory.** ``RLIMIT_AS`` caps the address space at what the process had when it was
  forked plus ``query_memory`` bytes: an allocation past it fails, and the engine (Rust) aborts
  the process, which the server reports as 503 ``query-memory-exceeded``.
"""

from __future__ import annotations

import ctypes
import errno
import logging
import os
import platform
import resource
import struct
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP = 22
_SECCOMP_MODE_FILTER = 2
_AF_UNIX = 1

# Classic BPF opcodes (linux/filter.h) and seccomp return values (linux/seccomp.h).
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_RET_K = 0x06
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000

#: Per architecture: audit arch value, socket(), io_uring_setup(), and the x32 syscall bit if any.
_ARCHES = {
    "x86_64": (0xC000003E, 41, 425, 0x40000000),
    "aarch64": (0xC00000B7, 198, 425, None),
}
# Landlock (linux/landlock.h); the system call numbers are the same on x86_64 and aarch64.
_NR_LANDLOCK_CREATE_RULESET, _NR_LANDLOCK_ADD_RULE, _NR_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_ACCESS_NET_CONNECT_TCP = 1 << 1
_LANDLOCK_RULE_NET_PORT = 2

#: Whether this process confined its network access (``confine(network=True)`` succeeded).
_NETWORK_CONFINED = False
#: The extra address space ``confine`` allowed this process (None: unlimited).
_MEMORY_BUDGET: int | None = None


@dataclass(frozen=True)
class Confinement:
    """What ``confine`` achieved in this process, and why not where it failed."""

    network: bool
    memory_limit: int | None
    reason: str = ""


def memory_budget() -> int | None:
    """How many bytes beyond its start this process may take (``confine``'s ``memory_bytes``)."""
    return _MEMORY_BUDGET


def network_confined() -> bool:
    """Whether this process can no longer open network sockets."""
    return _NETWORK_CONFINED


def confine(memory_bytes: int | None = None, network: bool = True) -> Confinement:
    """Confine the calling process (call it in a freshly forked, single-threaded child).

    ``memory_bytes``: how much more address space the process may take (None: no limit).
    Never raises: what could not be applied is reported in the result.
    """
    global _NETWORK_CONFINED, _MEMORY_BUDGET
    limit = None
    reason = ""
    if memory_bytes:
        try:
            limit = address_space() + int(memory_bytes)
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
            _MEMORY_BUDGET = int(memory_bytes)
        except (OSError, ValueError) as exc:
            limit, reason = None, f"memory limit not applied: {exc}"
    if network:
        ok, why = _deny_network()
        _NETWORK_CONFINED = ok
        if not ok:
            reason = "; ".join(r for r in (reason, why) if r)
    return Confinement(_NETWORK_CONFINED, limit, reason)


def address_space() -> int:
    """The process's current virtual memory size in bytes (what RLIMIT_AS counts)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        pages = int(fh.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def restrict_connect(allowed_ports: set[int]) -> tuple[bool, str]:
    """Let the calling process (and what it executes) open TCP connections only to
    ``allowed_ports`` — Landlock (Linux 6.7+, ABI 4) — while it may still listen anywhere. For a
    server that must connect to itself but has built-ins that fetch URLs (Virtuoso's
    ``bif:http_get``): applied between fork and exec. Returns (applied, why not)."""
    if not sys.platform.startswith("linux"):
        return False, f"Landlock needs Linux (this is {sys.platform})"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_NR_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 4:
        return False, "the kernel's Landlock cannot restrict TCP connections (needs ABI 4, Linux 6.7)"
    attr = struct.pack("=QQ", 0, _LANDLOCK_ACCESS_NET_CONNECT_TCP)
    ruleset = libc.syscall(_NR_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), len(attr), 0)
    if ruleset < 0:
        return False, f"landlock_create_ruleset failed: {os.strerror(ctypes.get_errno())}"
    try:
        for port in sorted(allowed_ports):
            rule = struct.pack("=QQ", _LANDLOCK_ACCESS_NET_CONNECT_TCP, port)
            if libc.syscall(_NR_LANDLOCK_ADD_RULE, ruleset, _LANDLOCK_RULE_NET_PORT, ctypes.c_char_p(rule), 0) < 0:
                return False, f"landlock_add_rule failed: {os.strerror(ctypes.get_errno())}"
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False, f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
        if libc.syscall(_NR_LANDLOCK_RESTRICT_SELF, ruleset, 0) < 0:
            return False, f"landlock_restrict_self failed: {os.strerror(ctypes.get_errno())}"
    finally:
        os.close(ruleset)
    return True, ""


def _install(program: bytes) -> tuple[bool, str]:
    libc = ctypes.CDLL(None, use_errno=True)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    buffer = ctypes.create_string_buffer(program)
    prog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False, f"prctl(NO_NEW_PRIVS) failed: {os.strerror(ctypes.get_errno())}"
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        return False, f"seccomp filter refused by the kernel: {os.strerror(ctypes.get_errno())}"
    return True, ""


def _deny_network() -> tuple[bool, str]:
    if not sys.platform.startswith("linux"):
        return False, f"network confinement needs Linux seccomp (this is {sys.platform})"
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        return False, f"no seccomp filter for the {platform.machine()} architecture"
    return _install(_filter(*arch))


def _filter(audit_arch: int, nr_socket: int, nr_io_uring_setup: int, x32_bit: int | None) -> bytes:
    """The BPF program: deny foreign ABIs and io_uring, deny socket() unless its family is AF_UNIX."""
    deny = _RET_ERRNO | errno.EACCES
    ins: list[tuple[int, int, int, int]] = []  # (code, jt, jf, k)

    def emit(code: int, k: int, jt: int = 0, jf: int = 0) -> None:
        ins.append((code, jt, jf, k))

    # Layout (indices): 0 ld arch; 1 jeq arch; 2 ld nr; [3 jge x32]; socket?; io_uring?; allow;
    # ld arg0; jeq AF_UNIX; deny-errno; allow.
    emit(_LD_W_ABS, 4)                                   # A = seccomp_data.arch
    arch_check = len(ins)
    emit(_JEQ_K, audit_arch)                             # jf -> DENY (patched below)
    emit(_LD_W_ABS, 0)                                   # A = seccomp_data.nr
    x32_check = None
    if x32_bit is not None:
        x32_check = len(ins)
        emit(_JGE_K, x32_bit)                            # jt -> DENY
    socket_check = len(ins)
    emit(_JEQ_K, nr_socket)                              # jt -> SOCKET
    uring_check = len(ins)
    emit(_JEQ_K, nr_io_uring_setup)                      # jt -> DENY
    emit(_RET_K, _RET_ALLOW)
    socket_at = len(ins)
    emit(_LD_W_ABS, 16)                                  # A = low 32 bits of args[0] (the family)
    emit(_JEQ_K, _AF_UNIX, 0, 1)                         # AF_UNIX -> ALLOW, else DENY
    emit(_RET_K, _RET_ALLOW)
    deny_at = len(ins)
    emit(_RET_K, deny)

    def patch(i: int, jt: int | None = None, jf: int | None = None) -> None:
        code, old_jt, old_jf, k = ins[i]
        ins[i] = (code, old_jt if jt is None else jt - i - 1, old_jf if jf is None else jf - i - 1, k)

    patch(arch_check, jf=deny_at)
    if x32_check is not None:
        patch(x32_check, jt=deny_at)
    patch(socket_check, jt=socket_at)
    patch(uring_check, jt=deny_at)
    return b"".join(struct.pack("=HBBI", *i) for i in ins)
