"""The native query-text scanner (``native/querytext``, Rust), when it is built: optional, never needed.

Stage: inside ``cowkg.querytext``. The scanner reads a query's text as the Python lexer does (the
same tokens, proven by tests/test_native_querytext.py) about 20x faster, and decides whether the
query is *plain* — one of the four forms, no SERVICE, FROM or BASE, not ``SELECT *``, nothing of
Wikidata's vocabulary, no escape, no word past ASCII (literals and names in any script are fine),
within the limits — in which case every decision the endpoint takes before
evaluating it is the plain one (GROUP_CONCAT's wrapping in STR included) and nothing else needs
reading. Anything else, and every refusal, is left to the Python parse.

Where the library is looked for: the ``native`` setting (``COWKG_NATIVE``: a path, or ``off``;
``configure`` sets it for a server), else the checkout's ``native/querytext/target/release``
(``scripts/setup.sh`` builds it when cargo is there). Without it everything works the same, in
Python.
"""

from __future__ import annotations

import ctypes
import logging
import os
import threading
from functools import lru_cache
from pathlib import Path

log = logging.getLogger(__name__)

LIBRARY_NAME = "libcowkg_querytext.so"
#: Where a checkout builds it.
CHECKOUT_LIBRARY = Path(__file__).resolve().parent.parent / "native" / "querytext" / "target" / "release" / LIBRARY_NAME
#: Where a checkout builds the native HTTP front (``native/front``: ``cowkg.web.native_front``).
CHECKOUT_FRONT = Path(__file__).resolve().parent.parent / "native" / "front" / "target" / "release" / "cowkg-front"
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
#: The C interface this module calls (``ABI_VERSION`` in native/querytext/src/lib.rs).
ABI_VERSION = 2


#: The ``native`` setting when a server was configured with it (``configure``), else None: the
#: environment's ``COWKG_NATIVE`` then decides.
_configured: str | None = None


def configure(setting: str) -> None:
    """Use the ``native`` setting ``setting`` (empty, a path, or off) from now on."""
    global _configured
    _configured = setting
    library.cache_clear()


@lru_cache(maxsize=1)
def library() -> ctypes.CDLL | None:
    """The loaded scanner, or None (not built, switched off, or not loadable: logged once)."""
    setting = _configured if _configured is not None else os.environ.get("COWKG_NATIVE", "")
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    path = Path(setting) if setting else CHECKOUT_LIBRARY
    if not path.is_file():
        if setting:
            log.warning("native setting %s: no such file; query texts are read in Python", setting)
        return None
    try:
        lib = ctypes.CDLL(str(path))
        lib.cowkg_abi_version.restype = ctypes.c_uint32
        version = lib.cowkg_abi_version()
    except (OSError, AttributeError) as exc:
        log.warning("the native query-text scanner %s does not load (%s); query texts are read in Python",
                    path, exc)
        return None
    if version != ABI_VERSION:
        log.warning("the native query-text scanner %s was built from another version (interface %s, not %s): "
                    "run scripts/setup.sh to build it again; query texts are read in Python", path, version,
                    ABI_VERSION)
        return None
    lib.cowkg_plain.restype = ctypes.c_int64
    lib.cowkg_plain.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t,
                                ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t),
                                ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    return lib


@lru_cache(maxsize=1)
def _wikidata() -> bytes:
    """What the scanner needs to tell Wikidata's vocabulary: its namespaces, and the predeclared
    prefixes (``name=namespace``) a query may use undeclared."""
    from .vocab import PREFIXES
    from .wdqs import WIKIDATA_NAMESPACES

    pairs = [f"{name}={namespace}" for name, namespace in PREFIXES.items()]
    if any(c in item for item in (*WIKIDATA_NAMESPACES, *pairs) for c in " \n\t") \
            or any("=" in name for name in PREFIXES):
        raise ValueError("a namespace or prefix name holds white space or '='")
    return ("\n".join((" ".join(WIKIDATA_NAMESPACES), " ".join(pairs)))).encode()


class _Buffers(threading.local):
    """Each thread's room for the scanner's answers, kept between calls (allocating it per query
    cost as much as the scan), grown when a query needs more."""

    def __init__(self) -> None:
        self.key_capacity, self.spans_capacity = 0, 0
        self.key: ctypes.Array | None = None
        self.spans: ctypes.Array | None = None
        self.key_length, self.spans_length = ctypes.c_size_t(), ctypes.c_size_t()

    def ensure(self, key_capacity: int, spans_capacity: int) -> None:
        if key_capacity > self.key_capacity:
            self.key_capacity = max(key_capacity, 2 * self.key_capacity, 16384)
            self.key = ctypes.create_string_buffer(self.key_capacity)
        if spans_capacity > self.spans_capacity:
            self.spans_capacity = max(spans_capacity, 64)
            self.spans = (ctypes.c_uint32 * self.spans_capacity)()


_buffers = _Buffers()


def plain(text: str) -> tuple[str, str, list[tuple[int, int]], bool] | None:
    """(form, cache key, where each GROUP_CONCAT starts and ends, whether it may hold the keyword
    GRAPH) when the query is plain (see the module docstring), else None — also when the scanner is
    not there. Only for the project's predeclared prefixes."""
    lib = library()
    if lib is None:
        return None
    data = text.encode("utf-8", "surrogatepass")
    wikidata = _wikidata()
    room = _buffers
    room.ensure(len(data) + 64, 64)
    while True:
        form = lib.cowkg_plain(data, len(data), wikidata, len(wikidata), room.key, room.key_capacity,
                               ctypes.byref(room.key_length), room.spans, room.spans_capacity,
                               ctypes.byref(room.spans_length))
        if form < 0:
            return None
        if room.key_length.value <= room.key_capacity and room.spans_length.value <= room.spans_capacity:
            break
        room.ensure(room.key_length.value, room.spans_length.value)
    spans = room.spans
    pairs = [(spans[i], spans[i + 1]) for i in range(0, room.spans_length.value, 2)]
    return FORMS[form & 3], ctypes.string_at(room.key, room.key_length.value).decode("utf-8"), pairs, form >= 4


def front_binary() -> Path | None:
    """The native HTTP front's program when it is built here (``scripts/setup.sh``), else None."""
    return CHECKOUT_FRONT if CHECKOUT_FRONT.is_file() and os.access(CHECKOUT_FRONT, os.X_OK) else None
