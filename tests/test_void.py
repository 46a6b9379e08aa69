"""VoID: one builder for both VoID documents — a release's void.ttl (``cowkg dump``) and the
endpoint's ``/.well-known/void`` describe the same dataset IRI (https://w3id.org/cowkg/dataset, the
one the metadata graph describes and ``/dataset`` dereferences) with the same statistics; each adds
only what it alone has (the release its files, the endpoint its live URLs)."""

from __future__ import annotations

import datetime as dt

import pyoxigraph as ox
import pytest

from cowkg.vocab import ALL_GRAPHS, BASE
from cowkg.void import ASSERTED_SUBSET, DATASET, void_turtle

VOID = "http://rdfs.org/ns/void#"
STATISTICS = ("triples", "distinctSubjects", "properties", "distinctObjects", "entities", "classes")


def _triples(data: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(data, format=fmt)}


@pytest.fixture(scope="module")
def release_void(kg) -> set[ox.Triple]:
    return _triples(void_turtle(kg, [], release="r1", issued=dt.date(2025, 12, 31)), ox.RdfFormat.TURTLE)


@pytest.fixture(scope="module")
def endpoint_void(app) -> set[ox.Triple]:
    r = app.test_client().get("/.well-known/void", headers={"Accept": "application/n-triples"})
    assert r.status_code == 200
    return _triples(r.get_data(), ox.RdfFormat.N_TRIPLES)


def _objects(triples: set[ox.Triple], subject: str, prop: str) -> set[str]:
    return {t.object.value for t in triples if t.subject.value == subject and t.predicate.value == prop}


def _statistics(triples: set[ox.Triple]) -> dict[tuple[str, str], set[str]]:
    subjects = (DATASET, ASSERTED_SUBSET, *(str(g) for g in ALL_GRAPHS))
    return {(s, key): _objects(triples, s, VOID + key) for s in subjects for key in STATISTICS}


def _partitions(triples: set[ox.Triple], link: str, inner: str, count: str) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    for t in triples:
        if t.predicate.value == VOID + link:
            part = t.object.value
            for what in _objects(triples, part, VOID + inner):
                out.setdefault(t.subject.value, set()).update((what, n) for n in _objects(triples, part, VOID + count))
    return out


def test_both_documents_describe_the_dataset_iri_that_dereferences(release_void, endpoint_void, client):
    assert DATASET == BASE + "dataset"
    dataset = ox.Triple(ox.NamedNode(DATASET), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                        ox.NamedNode(VOID + "Dataset"))
    assert dataset in release_void and dataset in endpoint_void
    assert client.get("/dataset", headers={"Accept": "text/turtle"}).status_code == 303
    # No second name for the dataset: every void:Dataset of either document is the dataset, a subset
    # of it (a named graph, the asserted part, the Wikidata linkset) or the linkset's target.
    for doc in (release_void, endpoint_void):
        datasets = {t.subject.value for t in doc if t.predicate == dataset.predicate and t.object == dataset.object}
        subsets = {t.object.value for t in doc if t.predicate.value == VOID + "subset"}
        targets = {t.object.value for t in doc if t.predicate.value == VOID + "objectsTarget"}
        assert datasets <= {DATASET} | subsets | targets, datasets - {DATASET} - subsets - targets


def test_both_documents_state_the_same_statistics(release_void, endpoint_void):
    release, endpoint = _statistics(release_void), _statistics(endpoint_void)
    assert all(len(v) == 1 for v in release.values()), {k: v for k, v in release.items() if len(v) != 1}
    assert endpoint == release
    for args in (("classPartition", "class", "entities"), ("propertyPartition", "property", "triples")):
        assert _partitions(endpoint_void, *args) == _partitions(release_void, *args)
        assert _partitions(release_void, *args)[ASSERTED_SUBSET]


def test_both_documents_describe_the_same_wikidata_linkset(release_void, endpoint_void):
    links = DATASET + "#wikidata-links"
    for doc in (release_void, endpoint_void):
        assert _objects(doc, links, VOID + "subjectsTarget") == {DATASET}
        assert _objects(doc, links, VOID + "linkPredicate") == {"http://www.w3.org/2002/07/owl#sameAs"}
    assert _objects(release_void, links, VOID + "triples") == _objects(endpoint_void, links, VOID + "triples")
    assert int(next(iter(_objects(release_void, links, VOID + "triples")))) > 10


def test_each_document_adds_only_what_it_alone_has(release_void, endpoint_void):
    """The endpoint states its own SPARQL endpoint and lookup; the release keeps the published one."""
    assert _objects(endpoint_void, DATASET, VOID + "sparqlEndpoint") == {"http://localhost/sparql"}
    assert _objects(endpoint_void, DATASET, VOID + "uriLookupEndpoint") == {"http://localhost/data?iri="}
    assert _objects(release_void, DATASET, VOID + "sparqlEndpoint") == {BASE + "sparql"}
    assert not _objects(release_void, DATASET, VOID + "uriLookupEndpoint")


# --- the summary cache (a restarted server does not count again) -------------------------------------------

def test_a_cached_summary_is_the_summary(kg, tmp_path):
    from cowkg.void import cached_summary, summarize

    fresh = summarize(kg)
    first = cached_summary(kg, tmp_path)
    files = list(tmp_path.glob("void-summary-*.json"))
    assert len(files) == 1
    again = cached_summary(kg, tmp_path)
    assert first == fresh and again == fresh
    assert set(again.description) == set(fresh.description) and again.counts == fresh.counts


def test_the_cache_is_read_not_counted_again(kg, tmp_path, monkeypatch):
    import cowkg.void as void

    void.cached_summary(kg, tmp_path)
    monkeypatch.setattr(void, "summarize", lambda *a, **k: pytest.fail("counted again although cached"))
    assert void.cached_summary(kg, tmp_path).counts[DATASET]["triples"] > 0


@pytest.mark.parametrize("how", ["empty", "truncated", "edited-count", "garbage", "other-data"])
def test_a_damaged_summary_cache_is_counted_again(kg, tmp_path, caplog, how):
    import json

    from cowkg.void import cached_summary, summarize

    cached_summary(kg, tmp_path)
    (path,) = tmp_path.glob("void-summary-*.json")
    data = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "edited-count":  # a number changed, the checksum left as it was
        entry = json.loads(data)
        entry["body"]["wikidata_links"] += 1
        path.write_text(json.dumps(entry))
    elif how == "garbage":
        path.write_bytes(b"\x00\xff" * 100)
    elif how == "other-data":  # a consistent file made for another key, renamed into place
        entry = json.loads(data)
        entry["body"]["key"] = "0" * 64
        body = json.dumps(entry["body"], sort_keys=True)
        import hashlib

        entry["sha256"] = hashlib.sha256(body.encode()).hexdigest()
        path.write_text(json.dumps(entry))
    with caplog.at_level("WARNING"):
        again = cached_summary(kg, tmp_path)
    assert again == summarize(kg)
    assert "damaged" in caplog.text
    assert any(p.name.startswith(path.name + ".damaged-") for p in tmp_path.iterdir())
    assert cached_summary(kg, tmp_path) == again  # rewritten whole


def test_an_unwritable_cache_directory_costs_only_time(kg, tmp_path, caplog):
    from cowkg.void import cached_summary, summarize

    blocker = tmp_path / "cache"
    blocker.write_text("a file where the directory should be")
    with caplog.at_level("WARNING"):
        assert cached_summary(kg, blocker) == summarize(kg)
    assert "not cached" in caplog.text


def test_the_data_version_follows_the_code_that_derives_the_computed_graphs(kg, monkeypatch):
    """Cached VoID statistics, ETags and the response cache are keyed by the data version: a new
    closure or Wikibase view code (same files) must change it."""
    import cowkg.reason as reason
    import cowkg.wikibase as wikibase
    from cowkg.backends.embedded import EmbeddedBackend

    backend = EmbeddedBackend(kg)
    before = backend.version()
    monkeypatch.setattr(wikibase, "VIEW_CODE_HASH", "0" * 16)
    after_view = backend.version()
    monkeypatch.setattr(reason, "CLOSURE_VERSION", reason.CLOSURE_VERSION + 1)
    assert len({before, after_view, backend.version()}) == 3


def test_a_remote_stores_statistics_are_not_cached_on_disk():
    """Its data version follows triple counts only: an edit that keeps them would be served stale."""
    from cowkg.backends.embedded import EmbeddedBackend
    from cowkg.backends.virtuoso import RemoteSparqlBackend

    assert EmbeddedBackend.content_version is True and RemoteSparqlBackend.content_version is False
