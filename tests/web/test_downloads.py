"""/download/: the release files of the served graph, with their media types, strong ETags (the
SHA-256 that VoID and SHA256SUMS give), 304 revalidation, ranges, and the JSON error shape."""

from __future__ import annotations

import gzip
import hashlib

import pyoxigraph as ox
import pytest
import rdflib

from cowkg.export import export_bytes

SPDX = rdflib.Namespace("http://spdx.org/rdf/terms#")
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
MEDIA = {"ttl": "text/turtle", "nt": "application/n-triples", "jsonld": "application/ld+json",
         "trig": "application/trig", "nq": "application/n-quads"}


@pytest.fixture(scope="module")
def listed(app) -> list[str]:
    """The file names the index page links to."""
    html = app.test_client().get("/download/").get_data(as_text=True)
    names = []
    for part in html.split('<td><a href="')[1:]:
        names.append(part.split('"', 1)[0])
    return names


def test_index_lists_every_release_file(listed):
    for stem, suffixes in (("cowkg-asserted", MEDIA), ("cowkg-inferred", ("ttl", "nt", "jsonld")),
                           ("cowkg-full", ("trig", "nq"))):
        for suffix in suffixes:
            assert f"{stem}.{suffix}" in listed and f"{stem}.{suffix}.gz" in listed
    assert {"void.ttl", "cowkg-context.jsonld", "SHA256SUMS"} <= set(listed)
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
    assert client.get("/download/cowkg-full.trig").data == export_bytes(kg, "trig", infer=True)


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
        path = "/" + str(void.value(dist, DCAT.downloadURL)).split("/", 3)[3]
        body = client.get(path).data
        assert str(void.value(void.value(dist, SPDX.checksum), SPDX.checksumValue)) == hashlib.sha256(body).hexdigest()
        assert int(void.value(dist, DCAT.byteSize)) == len(body)
    for line in client.get("/download/SHA256SUMS").get_data(as_text=True).splitlines():
        digest, name = line.split("  ", 1)
        assert client.get(f"/download/{name}").get_etag()[0] == digest, name


def test_unknown_download_is_a_json_404(client):
    resp = client.get("/download/cowkg-everything.xlsx")
    assert resp.status_code == 404
    assert resp.json["error"] == "not-found" and "/download/" in resp.json["hint"]
