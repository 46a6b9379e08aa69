"""Fixtures for the Wikidata tests: a replay server per test and clients pointed at it.

The network is never used: every URL the client sees is the replay server on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cowkg.wikidata.cache import DiskCache
from cowkg.wikidata.client import WikidataClient

from .replay import ReplayWikidata


@pytest.fixture(scope="session")
def samples(shared) -> Path:
    path = shared / "reference" / "wikidata-api-samples"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture()
def replay(samples):
    """A fresh replay world and server; stopped after the test."""
    world = ReplayWikidata(samples)
    world.start()
    yield world
    world.stop()


class SleepLog(list):
    """Records the pauses the client asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture()
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture()
def make_client(replay, tmp_path, sleeps):
    """Build clients against the replay server with a per-test cache and recorded sleeps."""

    def make(**kwargs) -> WikidataClient:
        settings = replay.settings()
        options = {"cache": DiskCache(tmp_path / "wd-cache", ttl=3600), "timeout": 2.0, "retries": 3,
                   "backoff": 0.5, "sleep": sleeps, "contact": "cowkg-tests@example.org"}
        options.update(kwargs)
        return WikidataClient(api_url=settings["wikidata_api"], entitydata_url=settings["wikidata_entitydata"],
                              sparql_url=settings["wikidata_sparql"], **options)

    return make


@pytest.fixture()
def wd(make_client) -> WikidataClient:
    return make_client()
