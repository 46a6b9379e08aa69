"""Fixtures for the Wikidata tests: a replay server per test and clients pointed at it.

The network is never used: every URL the client sees is the replay server on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require

from cowkg.wikidata.cache import DiskCache
from cowkg.wikidata.client import WikidataClient

from .replay import ReplayWikidata


@pytest.fixture(scope="session")
def samples(shared) -> Path:
    path = shared / "reference" / "wikidata-api-samples"
    require(path.is_dir(), f"{path} is missing")
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


ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def synthetic_namesakes(world) -> None:
    """Namesakes the samples lack, so ranking has something to beat. Synthetic (Q99000xx), not Wikidata's."""
    from .replay import coord_claim, entity, item_claim, time_claim

    world.add_entity(entity("Q9900001", "France", "female given name", claims={"P31": [item_claim("P31", "Q202444")]}))
    position = {"P580": [time_claim("P580", "2024-07-05")["mainsnak"]]}
    world.add_entity(entity("Q9900002", "Douglas Adams", "British politician (synthetic test item)", claims={
        "P31": [item_claim("P31", "Q5")], "P27": [item_claim("P27", "Q145")],
        "P569": [time_claim("P569", "1970-01-01")],
        "P39": [dict(item_claim("P39", "Q9900003"), qualifiers=position)]}))
    world.add_entity(entity("Q9900003", "Minister for Hitchhiking", "position (synthetic test item)"))
    world.add_entity(entity("Q9900004", "Hong Kong", "1995 film (synthetic test item)",
                            claims={"P31": [item_claim("P31", "Q11424")]}))
    world.add_entity(entity("Q9900005", "Hong Kong Harbour", "harbour (synthetic test item)",
                            claims={"P625": [coord_claim(48.85, 2.35)]}))


@pytest.fixture()
def namesakes(replay):
    synthetic_namesakes(replay)
    return replay


@pytest.fixture(scope="session")
def fixture_kg():
    """The repository's ontology plus tests/wikidata/fixtures/entities.ttl, no inference."""
    from cowkg.load import load_project
    from cowkg.store import build_store

    return build_store(load_project(ROOT, data=[FIXTURES / "entities.ttl"]))


@pytest.fixture()
def project(tmp_path):
    """A project directory: the repository's ontology and shapes, and data/ with the fixture entities."""
    import shutil

    root = tmp_path / "project"
    root.mkdir()
    for name in ("ontology", "shapes", "queries"):
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    (root / "data").mkdir()
    shutil.copy(FIXTURES / "entities.ttl", root / "data" / "entities.ttl")
    return root
