"""/download/: the release ``cowkg dump`` wrote, byte for byte (CHANGES.md and SHA256SUMS
included), with its media types, strong ETags (the SHA-256 that VoID and SHA256SUMS give), 304
revalidation, ranges and the JSON error shape; without a release on disk, the same files built
from the store, dated by the dataset and so the same bytes in every worker on every day."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from cowkg.dump import dataset_date, dataset_version, dump_release
from cowkg.export import export_bytes
from web.conftest import make_app

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
MEDIA = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
         "trig": "application/trig", "nq": "application/n-quads"}
DAY = dt.date(2025, 12, 31)


def files_of(release: Path) -> dict[str, bytes]:
    """Every file of a release directory on disk, by its path inside the release."""
    return {str(p.relative_to(release)): p.read_bytes() for p in sorted(release.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dist(kg, tmp_path_factory) -> Path:
    """What ``cowkg dump -o DIST --release r1`` leaves: DIST/r1 and the link DIST/latest."""
    out = tmp_path_factory.mktemp("dist")
    dump_release(kg, out, release="r1", today=DAY)
    return out


@pytest.fixture(scope="module")
def disk_app(kg, dist):
    """The app with release_dir pointing at ``dist``: it serves DIST/latest."""
    app = make_app(kg, release_dir=str(dist))
    yield app
    app.extensions["cowkg"].pool.close()


@pytest.fixture(scope="module")
def built_app(kg, tmp_path_factory):
    """The app with no release on disk: the files are built from the store."""
    app = make_app(kg, release_dir=str(tmp_path_factory.mktemp("no-release")))
    yield app
    app.extensions["cowkg"].pool.close()


@pytest.fixture(scope="module", params=["on-disk", "built"])
def served(request, disk_app, built_app):
    return disk_app if request.param == "on-disk" else built_app


@pytest.fixture()
def client(served):
    return served.test_client()


def listed_by(client) -> list[str]:
    """The file names the index page links to."""
    html = client.get("/download/").get_data(as_text=True)
    return [part.split('"', 1)[0] for part in html.split('<td><a href="')[1:]]


def test_index_lists_every_release_file(client):
    listed = listed_by(client)
    for stem, suffixes in (("cowkg-asserted", MEDIA), ("cowkg-inferred", ("ttl", "nt", "jsonld")),
                           ("cowkg-full", ("trig", "nq"))):
        for suffix in suffixes:
            assert f"{stem}.{suffix}" in listed and f"{stem}.{suffix}.gz" in listed
    assert {"void.ttl", "cowkg-context.jsonld", "CHANGES.md", "SHA256SUMS"} <= set(listed)
    assert any(n.startswith("framed/") for n in listed)


@pytest.mark.parametrize("suffix", list(MEDIA))
def test_each_format_has_its_media_type_and_a_strong_etag(client, suffix):
    resp = client.get(f"/download/cowkg-asserted.{suffix}")
    assert resp.status_code == 200
    assert resp.content_type.split(";")[0] == MEDIA[suffix]
    etag, weak = resp.get_etag()
    assert not weak and etag == hashlib.sha256(resp.data).hexdigest()
    assert int(resp.headers["Content-Length"]) == len(resp.data)
    ox.parse(resp.data, format=ox.RdfFormat.from_media_type(MEDIA[suffix]))


def test_downloads_are_the_exports(client, kg):
    assert client.get("/download/cowkg-asserted.ttl").data == export_bytes(kg, "ttl")
    assert client.get("/download/cowkg-full.trig").data == export_bytes(
        kg, "trig", graphs=["ontology", "data", "meta", "inferred", "wikibase"])
    assert client.get("/download/cowkg-wikibase.nt").data == export_bytes(kg, "nt", graphs=["wikibase"])


def test_if_none_match_answers_304_and_head_has_no_body(client):
    first = client.get("/download/cowkg-asserted.nt")
    again = client.get("/download/cowkg-asserted.nt", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and not again.data
    head = client.head("/download/cowkg-asserted.nt")
    assert head.status_code == 200 and head.headers["ETag"] == first.headers["ETag"] and not head.data


def test_range_requests_get_partial_content(client):
    full = client.get("/download/cowkg-asserted.nt").data
    part = client.get("/download/cowkg-asserted.nt", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.data == full[10:20]


def test_gzip_variants_are_application_gzip_of_the_same_bytes(client):
    plain = client.get("/download/cowkg-inferred.ttl").data
    packed = client.get("/download/cowkg-inferred.ttl.gz")
    assert packed.content_type == "application/gzip"
    assert "attachment" in packed.headers["Content-Disposition"]
    assert gzip.decompress(packed.data) == plain


def test_void_distributions_and_sha256sums_match_what_is_served(client):
    void = rdflib.Graph().parse(data=client.get("/download/void.ttl").data, format="turtle")
    distributions = set(void.subjects(rdflib.RDF.type, DCAT.Distribution))
    assert distributions
    for dist in distributions:
        name = str(void.value(dist, DCAT.downloadURL)).split("/download/", 1)[1]
        body = client.get(f"/download/{name}").data
        assert str(void.value(void.value(dist, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
        assert int(void.value(dist, DCAT.byteSize)) == len(body)
    sums = client.get("/download/SHA256SUMS").get_data(as_text=True).splitlines()
    assert "CHANGES.md" in {line.split("  ", 1)[1] for line in sums}
    for line in sums:
        digest, name = line.split("  ", 1)
        body = client.get(f"/download/{name}").data
        assert hashlib.sha256(body).hexdigest() == digest, name
        assert client.get(f"/download/{name}").get_etag()[0] == digest, name


def test_unknown_download_is_a_json_404(client):
    resp = client.get("/download/cowkg-everything.xlsx")
    assert resp.status_code == 404
    assert resp.json["error"] == "not-found" and "/download/" in resp.json["hint"]


# --------------------------------------------------------------------------------------------
# A release on disk is served as written
# --------------------------------------------------------------------------------------------

def test_served_bytes_are_the_files_of_the_latest_release_on_disk(disk_app, dist):
    on_disk = files_of(dist / "latest")
    client = disk_app.test_client()
    assert sorted(listed_by(client)) == sorted(on_disk)
    for name, content in on_disk.items():
        resp = client.get(f"/download/{name}")
        assert resp.status_code == 200, name
        assert resp.data == content, name
        assert resp.get_etag() == (hashlib.sha256(content).hexdigest(), False), name


def test_changes_md_is_served_as_markdown(disk_app, dist):
    resp = disk_app.test_client().get("/download/CHANGES.md")
    assert resp.status_code == 200
    assert resp.content_type == "text/markdown; charset=utf-8"
    assert resp.data == (dist / "latest" / "CHANGES.md").read_bytes()
    assert resp.get_data(as_text=True).startswith("# Changes of the cowkg dataset\n\n## r1 (2025-12-31)")


def test_void_is_the_releases_own_not_rebuilt_on_the_servers_date(disk_app, dist):
    void = disk_app.test_client().get("/download/void.ttl").data
    assert void == (dist / "r1" / "void.ttl").read_bytes()
    graph = rdflib.Graph().parse(data=void, format="turtle")
    assert str(graph.value(rdflib.URIRef("https://w3id.org/cowkg/dataset"), rdflib.DCTERMS.issued)) == "2025-12-31"


def test_release_dir_may_name_the_release_itself(kg, dist):
    app = make_app(kg, release_dir=str(dist / "r1"))
    try:
        assert app.test_client().get("/download/CHANGES.md").data == (dist / "r1" / "CHANGES.md").read_bytes()
    finally:
        app.extensions["cowkg"].pool.close()


def test_a_new_release_is_served_as_soon_as_latest_points_at_it(small, tmp_path):
    dump_release(small, tmp_path, release="s1", today=DAY)
    app = make_app(small, release_dir=str(tmp_path))
    try:
        client = app.test_client()
        assert b"## s1 (" in client.get("/download/CHANGES.md").data
        dump_release(small, tmp_path, release="s2", today=DAY)
        assert client.get("/download/CHANGES.md").data == (tmp_path / "s2" / "CHANGES.md").read_bytes()
        # --replace swaps the directory under the same name: its new bytes are served.
        dump_release(small, tmp_path, release="s2", today=DAY + dt.timedelta(days=1), replace=True)
        void = client.get("/download/void.ttl")
        assert void.data == (tmp_path / "s2" / "void.ttl").read_bytes() and b"2026-01-01" in void.data
    finally:
        app.extensions["cowkg"].pool.close()


def test_a_release_that_fails_its_checksums_is_refused(small, tmp_path):
    done = dump_release(small, tmp_path, release="s1", today=DAY)
    (done.path / "cowkg-asserted.nt").write_bytes(b"")
    app = make_app(small, release_dir=str(tmp_path))
    try:
        resp = app.test_client().get("/download/cowkg-asserted.nt")
        assert resp.status_code == 503 and resp.json["error"] == "release-unavailable"
        assert "cowkg-asserted.nt" in resp.json["message"] and "sha256sum -c" in resp.json["hint"]
    finally:
        app.extensions["cowkg"].pool.close()


# --------------------------------------------------------------------------------------------
# No release on disk: built from the store, deterministically
# --------------------------------------------------------------------------------------------

def test_the_built_release_is_byte_stable_across_app_instances(kg, built_app, tmp_path):
    other = make_app(kg, release_dir=str(tmp_path))
    try:
        first, second = built_app.test_client(), other.test_client()
        names = listed_by(first)
        assert names == listed_by(second) and "CHANGES.md" in names
        for name in names:
            a, b = first.get(f"/download/{name}"), second.get(f"/download/{name}")
            assert a.data == b.data and a.headers["ETag"] == b.headers["ETag"], name
    finally:
        other.extensions["cowkg"].pool.close()


def test_the_built_release_is_dated_by_the_dataset_not_the_clock(kg, built_app):
    void = rdflib.Graph().parse(data=built_app.test_client().get("/download/void.ttl").data, format="turtle")
    ds = rdflib.URIRef("https://w3id.org/cowkg/dataset")
    assert str(void.value(ds, rdflib.DCTERMS.issued)) == dataset_date(kg).isoformat()
    assert dataset_date(kg) != dt.datetime.now(dt.UTC).date()
    assert str(void.value(ds, DCAT.version)) == dataset_version(kg)


def test_the_built_release_is_what_a_first_dump_would_write(kg, built_app, tmp_path):
    done = dump_release(kg, tmp_path, release=dataset_version(kg), today=dataset_date(kg))  # cowkg dump's defaults
    client = built_app.test_client()
    for name, content in files_of(done.path).items():
        assert client.get(f"/download/{name}").data == content, name


def test_a_release_kept_by_other_code_is_not_served(kg, tmp_path, monkeypatch):
    """The built release is kept under cache_dir; code that writes other bytes (a newer cowkg) must
    build its own instead of serving the kept one (found when the VoID builder changed)."""
    import cowkg.web.downloads as downloads

    cache = tmp_path / "cache"
    first = make_app(kg, release_dir=str(tmp_path / "none"), cache_dir=str(cache))
    first.test_client().get("/download/void.ttl")
    monkeypatch.setattr(downloads, "builder_fingerprint", lambda: "other-code")
    second = make_app(kg, release_dir=str(tmp_path / "none"), cache_dir=str(cache))
    assert second.test_client().get("/download/void.ttl").status_code == 200
    assert len([d for d in (cache / "downloads").iterdir() if d.is_dir()]) == 2
    for app in (first, second):
        app.extensions["cowkg"].pool.close()
