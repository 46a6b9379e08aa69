"""Releases: complete and checksummed, VoID counts equal to SPARQL counts, CHANGES by class, and
atomic: a dump killed with SIGKILL leaves the previous release complete and valid."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from conftest import require
from rdflib import DCTERMS, OWL, RDF, VOID, Namespace

from cowkg.dump import dataset_date, dataset_version, dump_release
from cowkg.errors import InputError, NotFound
from cowkg.release import PAUSE_ENV, verify_release
from cowkg.store import KnowledgeGraph, open_project
from cowkg.vocab import (
    ALL_GRAPHS,
    ASSERTED_GRAPHS,
    ASSERTED_SUBSET,
    DATASET,
    GRAPH_DATA,
    GRAPH_INFERRED,
    GRAPH_META,
    SOURCE_ARTICLE,
)

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from cowkg.cli import main; main()"]
SPDX = Namespace("http://spdx.org/rdf/terms#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")  # rdflib's DCAT lacks DCAT 3 terms (dcat:version)
DAY = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def release(kg, tmp_path_factory):
    """A release of the shipped graph (with its inferred graph) named r1."""
    out = tmp_path_factory.mktemp("dist")
    return dump_release(kg, out, release="r1", today=DAY)


@pytest.fixture(scope="module")
def void(release) -> rdflib.Graph:
    return rdflib.Graph().parse(release.path / "void.ttl", format="turtle")


@pytest.fixture(scope="module")
def published(release) -> ox.Store:
    """The release's own full dump, loaded into a fresh store: the graph the VoID describes."""
    store = ox.Store()
    store.load(path=str(release.path / "cowkg-full.nq"), format=ox.RdfFormat.N_QUADS)
    return store


@pytest.fixture(scope="module")
def frozen_root(tmp_path_factory) -> Path:
    """A copy of ontology/ and data/, safe from edits made while the tests run."""
    root = tmp_path_factory.mktemp("project")
    for part in ("ontology", "data"):
        shutil.copytree(ROOT / part, root / part)
    return root


def test_release_is_complete_checksummed_and_parses(release):
    assert verify_release(release.path, parse=True) == []
    assert os.readlink(release.path.parent / "latest") == "r1"
    names = {f.name for f in release.files}
    for stem, suffixes in (("cowkg-asserted", ("ttl", "nt", "jsonld", "trig", "nq")),
                           ("cowkg-inferred", ("ttl", "nt", "jsonld")), ("cowkg-full", ("trig", "nq"))):
        for suffix in suffixes:
            assert {f"{stem}.{suffix}", f"{stem}.{suffix}.gz"} <= names
            plain = (release.path / f"{stem}.{suffix}").read_bytes()
            assert gzip.decompress((release.path / f"{stem}.{suffix}.gz").read_bytes()) == plain
    assert any(n.startswith("framed/") for n in names)
    assert (release.path / "CHANGES.md").read_text().startswith("# Changes")


def test_sha256sum_checks_the_release(release):
    require(shutil.which("sha256sum") is not None, "sha256sum (coreutils) is not installed")
    res = subprocess.run(["sha256sum", "--quiet", "-c", "SHA256SUMS"], cwd=release.path, capture_output=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_file_names_say_whether_they_hold_inferred_triples(kg, release):
    inferred = {q.triple for q in kg.store.quads_for_pattern(None, None, None, ox.NamedNode(str(GRAPH_INFERRED)))}
    only = {q.triple for q in ox.parse((release.path / "cowkg-inferred.nt").read_bytes(),
                                       format=ox.RdfFormat.N_TRIPLES)}
    asserted = {q.triple for q in ox.parse((release.path / "cowkg-asserted.nt").read_bytes(),
                                           format=ox.RdfFormat.N_TRIPLES)}
    assert only == inferred and inferred
    assert not asserted & inferred
    graphs = {q.graph_name.value for q in ox.parse((release.path / "cowkg-full.trig").read_bytes(),
                                                     format=ox.RdfFormat.TRIG)}
    assert str(GRAPH_INFERRED) in graphs


def _count(store: ox.Store, graphs, select: str, where: str = "?s ?p ?o") -> int:
    froms = " ".join(f"FROM <{g}>" for g in graphs)
    return int(next(iter(store.query(f"SELECT ({select} AS ?n) {froms} WHERE {{ {where} }}")))["n"].value)


def _void_int(void: rdflib.Graph, subject: str, prop) -> int:
    values = list(void.objects(rdflib.URIRef(subject), prop))
    assert len(values) == 1, (subject, prop, values)
    return int(values[0])


@pytest.mark.parametrize("subject, graphs", [
    (DATASET, ALL_GRAPHS), (ASSERTED_SUBSET, ASSERTED_GRAPHS), *((str(g), (g,)) for g in ALL_GRAPHS)],
    ids=["dataset", "asserted", *(str(g).rsplit("/", 1)[-1] for g in ALL_GRAPHS)])
def test_void_counts_equal_sparql_counts_over_the_published_graph(void, published, subject, graphs):
    triples = "{ SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }"
    assert _void_int(void, subject, VOID.triples) == _count(published, graphs, "COUNT(*)", triples)
    assert _void_int(void, subject, VOID.distinctSubjects) == _count(published, graphs, "COUNT(DISTINCT ?s)")
    assert _void_int(void, subject, VOID.properties) == _count(published, graphs, "COUNT(DISTINCT ?p)")
    assert _void_int(void, subject, VOID.distinctObjects) == _count(published, graphs, "COUNT(DISTINCT ?o)")
    assert _void_int(void, subject, VOID.classes) == _count(published, graphs, "COUNT(DISTINCT ?c)", "?s a ?c")
    assert _void_int(void, subject, VOID.entities) == _count(
        published, graphs, "COUNT(DISTINCT ?s)", '?s ?p ?o FILTER(STRSTARTS(STR(?s), "https://w3id.org/cowkg/id/"))')


def test_void_class_partitions_equal_sparql_counts(void, published):
    partitions = list(void.objects(rdflib.URIRef(ASSERTED_SUBSET), VOID.classPartition))
    assert partitions
    for part in partitions:
        cls = void.value(part, VOID["class"])
        expected = _count(published, ASSERTED_GRAPHS, "COUNT(DISTINCT ?s)", f"?s a <{cls}>")
        assert int(void.value(part, VOID.entities)) == expected, cls


def test_void_describes_licence_source_version_endpoint_and_dates(void):
    ds = rdflib.URIRef(DATASET)
    assert rdflib.URIRef("https://creativecommons.org/licenses/by-sa/4.0/") in set(void.objects(ds, DCTERMS.license))
    assert (ds, DCTERMS.source, rdflib.URIRef(str(SOURCE_ARTICLE))) in void
    assert [str(v) for v in void.objects(ds, DCAT.version)] == ["r1"]  # the release written, not dataset.ttl's
    assert void.value(ds, VOID.sparqlEndpoint) is not None
    assert str(void.value(ds, DCTERMS.issued)) == DAY.isoformat()
    assert set(void.objects(ds, VOID.dataDump))


def test_the_release_name_is_the_version_void_gives_even_against_dataset_ttl(kg, void):
    """``--release r1`` over a meta graph that says dcat:version "0.1.0": the release name wins, in
    dcat:version and owl:versionInfo alike, so the VoID never states two versions of one dataset."""
    ds = rdflib.URIRef(DATASET)
    assert dataset_version(kg) != "r1"
    assert [str(v) for v in void.objects(ds, OWL.versionInfo)] == ["r1"]


def test_without_a_release_name_the_version_is_dataset_ttls(frozen_root, tmp_path):
    kg = open_project(frozen_root, with_inference=False)
    done = dump_release(kg, tmp_path, today=DAY)
    void = rdflib.Graph().parse(done.path / "void.ttl", format="turtle")
    assert done.name == dataset_version(kg)
    assert [str(v) for v in void.objects(rdflib.URIRef(DATASET), DCAT.version)] == [done.name]


def _tiny(meta: str = "", data: str = "") -> KnowledgeGraph:
    store = ox.Store()
    prefixes = "@prefix dcterms: <http://purl.org/dc/terms/> . @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
    for graph, ttl in ((GRAPH_META, meta), (GRAPH_DATA, data)):
        store.load(input=prefixes + ttl, format=ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(str(graph)))
    return KnowledgeGraph(store)


def test_dataset_date_is_the_metadatas_else_the_newest_fact():
    data = '<urn:m1> dcterms:date "2025-03-02"^^xsd:date . <urn:m2> dcterms:date "2025-12-24"^^xsd:date .'
    meta = f'<{DATASET}> dcterms:modified "2025-11-30"^^xsd:date ; dcterms:issued "2025-01-01"^^xsd:date .'
    assert dataset_date(_tiny(meta, data)) == dt.date(2025, 11, 30)
    assert dataset_date(_tiny(f'<{DATASET}> dcterms:issued "2025-01-01T10:00:00Z"^^xsd:dateTime .', data)) \
        == dt.date(2025, 1, 1)
    assert dataset_date(_tiny("", data)) == dt.date(2025, 12, 24)
    with pytest.raises(NotFound, match="no date"):
        dataset_date(_tiny())


def test_every_data_file_is_a_distribution_with_size_checksum_and_media_type(void, release):
    for f in release.files:
        if f.subset is None:
            continue
        url = rdflib.URIRef(f"https://w3id.org/cowkg/download/{f.name}")
        assert (url, RDF.type, DCAT.Distribution) in void, f.name
        assert int(void.value(url, DCAT.byteSize)) == (release.path / f.name).stat().st_size
        assert str(void.value(void.value(url, SPDX.checksum), SPDX.checksumValue)) == f.sha256
        assert str(void.value(url, DCAT.mediaType)).endswith(f.media_type)
        assert (rdflib.URIRef(f.subset), DCAT.distribution, url) in void


def test_changes_count_added_and_removed_triples_by_class(frozen_root, tmp_path):
    out = tmp_path / "dist"
    dump_release(open_project(frozen_root, with_inference=False), out, release="a", today=DAY)
    extra = frozen_root / "data" / "zz-test-extra.ttl"
    extra.write_text("@prefix cow: <https://w3id.org/cowkg/ontology#> .\n"
                     "<https://w3id.org/cowkg/id/test-atlantis> a cow:State ; cow:shortName \"ATL\" .\n")
    try:
        second = dump_release(open_project(frozen_root, with_inference=False), out, release="b", today=DAY)
    finally:
        extra.unlink()
    changes = (second.path / "CHANGES.md").read_text()
    assert "## b (2025-12-31)" in changes and "## a (2025-12-31)" in changes
    assert "Compared with a: 2 asserted triples added, 0 removed" in changes
    assert "| cow:State | 2 | 0 |" in changes
    assert os.readlink(out / "latest") == "b"


def test_an_existing_release_is_refused_unless_replaced(frozen_root, tmp_path):
    kg = open_project(frozen_root, with_inference=False)
    dump_release(kg, tmp_path, release="x", today=DAY)
    with pytest.raises(InputError):
        dump_release(kg, tmp_path, release="x", today=DAY)
    dump_release(kg, tmp_path, release="x", today=DAY, replace=True)
    assert verify_release(tmp_path / "latest") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "x"]


def test_sigkill_mid_dump_leaves_the_previous_release_complete(release, frozen_root, cache_dir, tmp_path):
    out = tmp_path / "dist"
    shutil.copytree(release.path.parent, out, symlinks=True)
    log = tmp_path / "dump.log"
    # The fast reasoner: the child computes its inferred graph in seconds (the release's content is
    # not what this test checks).
    env = {**os.environ, PAUSE_ENV: "3", "COWKG_CACHE_DIR": str(cache_dir), "COWKG_REASONER": "reasonable"}
    with open(log, "wb") as fh:
        proc = subprocess.Popen([*CLI, "--root", str(frozen_root), "dump", "-o", str(out), "--release", "r2"],
                                stdout=fh, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 240
        while b"paused after 3 files" not in log.read_bytes():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the dump never reached its third file"
            time.sleep(0.1)
        temporaries = list(out.glob(f".tmp-{proc.pid}-r2-*"))
        assert len(temporaries) == 1 and len(list(temporaries[0].iterdir())) == 3
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    assert os.readlink(out / "latest") == "r1"
    assert not (out / "r2").exists()
    assert verify_release(out / "latest", parse=True) == []
    # The next dump removes the dead one's temporary directory and compares with r1.
    done = dump_release(open_project(frozen_root, with_inference=False), out, release="r3", today=DAY)
    assert not list(out.glob(".tmp-*"))
    assert done.previous == "r1" and os.readlink(out / "latest") == "r3"


def test_cli_dump_writes_a_release_and_refuses_to_overwrite_it(frozen_root, cache_dir, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from cowkg.cli import main

    monkeypatch.setenv("COWKG_REASONER", "reasonable")
    monkeypatch.setenv("COWKG_CACHE_DIR", str(cache_dir))
    args = ["--root", str(frozen_root), "dump", "-o", str(tmp_path), "--release", "c1"]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0, res.output
    assert "release c1" in res.output
    assert verify_release(tmp_path / "latest", parse=True) == []
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2 and "exists already" in again.output
