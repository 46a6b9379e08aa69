"""On-disk cache of Wikidata answers: one JSON file per key, written atomically, with an age.

Stage: inside the Wikidata client only. A fresh entry (younger than the TTL) saves a request; a
stale one is still returned when Wikidata cannot be reached, so the tools keep working offline
and say how old their data is.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..files import write_atomically

log = logging.getLogger(__name__)


@dataclass
class CacheEntry:
    """A cached JSON value and when it was stored (seconds since the epoch)."""

    value: Any
    stored: float

    def age(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.stored


class DiskCache:
    """A directory of ``<sha256 of key>.json`` files holding ``{"key", "stored", "value"}``.

    ``clock`` is injectable so tests can age entries without waiting.
    """

    def __init__(self, directory: str | Path, ttl: float, clock=time.time) -> None:
        self.directory = Path(directory)
        self.ttl = ttl
        self.clock = clock

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.directory / digest[:2] / f"{digest}.json"

    def get(self, key: str, *, allow_stale: bool = False) -> CacheEntry | None:
        """The entry for ``key`` if present and fresh (or at any age with ``allow_stale``).

        A corrupt or unreadable file counts as a miss: the cache is never a reason to fail.
        """
        path = self._path(key)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            entry = CacheEntry(raw["value"], float(raw["stored"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if not allow_stale and entry.age(self.clock()) > self.ttl:
            return None
        return entry

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON-serialisable) under ``key``; readers never see half a file.

        A cache that cannot be written (read-only disk, full disk) is logged, not fatal.
        """
        path = self._path(key)
        body = json.dumps({"key": key, "stored": self.clock(), "value": value}, ensure_ascii=False)
        try:
            write_atomically(path, body)
        except OSError as exc:
            log.warning("Wikidata cache not written (%s): %s", self.directory, exc)
