"""The inferred-graph cache is never trusted blindly (issue 17, finding 8): empty, truncated,
forged, garbage and foreign files are detected by their header checksum, logged, set aside and
rebuilt with the full closure; a cache directory that cannot be written costs only speed."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from cowkg.load import load_project
from cowkg.reason import CLOSURE_VERSION, infer

REASONER = "reasonable"  # the same closure as owlrl on the project (tests/test_reason_reasonable.py), faster


@pytest.fixture(scope="module")
def sources():
    return load_project(ROOT)


@pytest.fixture(scope="module")
def reference(sources):
    return infer(sources, REASONER, None)


def cache_file(cache_dir, sources):
    return cache_dir / f"inferred-{REASONER}-v{CLOSURE_VERSION}-{sources.digest[:32]}.nt"


def damage(path, how: str) -> None:
    data = path.read_bytes()
    header, _, body = data.partition(b"\n")
    if how == "empty":
        path.write_bytes(b"")
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncated-at-a-line":
        path.write_bytes(data[: data.rfind(b"\n", 0, len(data) // 2) + 1])
    elif how == "forged-line":
        path.write_bytes(data + b"<https://w3id.org/cowkg/id/x> <http://www.w3.org/2002/07/owl#sameAs> "
                                b"<http://www.wikidata.org/entity/Q1> .\n")
    elif how == "forged-same-length":  # one IRI changed, the file exactly as long
        # the first IRI's first character, whatever the line order (a replace of "https" did
        # nothing when the first triple happened to have only http: IRIs, and the test passed the
        # untouched cache as "damaged")
        at = body.index(b"<") + 1
        forged = b"j" if body[at:at + 1] != b"j" else b"k"
        assert forged != body[at:at + 1]
        path.write_bytes(header + b"\n" + body[:at] + forged + body[at + 1:])
    elif how == "garbage":
        path.write_bytes(os.urandom(4096))
    elif how == "old-format":  # a cache written before the header existed
        path.write_bytes(body)
    else:
        raise ValueError(how)


@pytest.mark.parametrize("how", ["empty", "truncated", "truncated-at-a-line", "forged-line", "forged-same-length",
                                 "garbage", "old-format"])
def test_a_damaged_cache_is_rebuilt_in_full(sources, reference, tmp_path, caplog, how):
    first = infer(sources, REASONER, tmp_path)
    assert not first.cached and len(first.triples) == len(reference.triples)
    path = cache_file(tmp_path, sources)
    damage(path, how)
    with caplog.at_level(logging.WARNING):
        again = infer(sources, REASONER, tmp_path)
    assert not again.cached, "a damaged cache was served"
    assert set(again.triples) == set(reference.triples)
    assert "damaged" in caplog.text
    assert any(p.name.startswith(path.name + ".damaged-") for p in tmp_path.iterdir())  # kept for inspection
    third = infer(sources, REASONER, tmp_path)
    assert third.cached and set(third.triples) == set(reference.triples)


def test_a_cache_made_from_other_inputs_is_not_used(sources, reference, tmp_path):
    infer(sources, REASONER, tmp_path)
    path = cache_file(tmp_path, sources)
    data = path.read_bytes().replace(sources.digest.encode(), b"0" * len(sources.digest), 1)
    path.write_bytes(data)
    assert not infer(sources, REASONER, tmp_path).cached


def test_a_file_where_the_cache_directory_should_be_is_not_fatal(sources, reference, tmp_path, caplog):
    blocker = tmp_path / "cache"
    blocker.write_text("not a directory")
    with caplog.at_level(logging.WARNING):
        result = infer(sources, REASONER, blocker)
    assert len(result.triples) == len(reference.triples)
    assert "in memory only" in caplog.text


def test_an_unwritable_cache_directory_is_not_fatal(sources, reference, caplog):
    with caplog.at_level(logging.WARNING):
        result = infer(sources, REASONER, "/proc/cowkg-cache")
    assert len(result.triples) == len(reference.triples)
    assert "in memory only" in caplog.text


def test_a_full_disk_is_not_fatal_and_leaves_no_partial_file(tmp_path):
    """Writes fail with EFBIG past RLIMIT_FSIZE: the closest a test gets to a full disk."""
    code = ("import resource, signal, sys\n"
            "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
            "resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))\n"
            "from cowkg.load import load_project\nfrom cowkg.reason import infer\n"
            f"r = infer(load_project({str(ROOT)!r}), \"owlrl\", {str(tmp_path)!r})\n"
            "print(len(r.triples))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-1000:]
    assert int(proc.stdout.strip()) > 5000
    assert "in memory only" in proc.stderr
    assert list(tmp_path.iterdir()) == []  # the temp file was removed


def test_reason_no_cache_replaces_a_damaged_file(tmp_path):
    env = {**os.environ, "COWKG_CACHE_DIR": str(tmp_path), "COWKG_REASONER": REASONER}
    run = [sys.executable, "-m", "cowkg", "reason"]
    first = subprocess.run(run, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert first.returncode == 0, first.stderr
    path = next(tmp_path.glob("inferred-*.nt"))
    path.write_bytes(b"garbage")
    fixed = subprocess.run([*run, "--no-cache"], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert fixed.returncode == 0 and "computed" in fixed.stdout
    cached = subprocess.run(run, capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert "read from cache" in cached.stdout
    assert cached.stdout.split()[0] == first.stdout.split()[0]  # the same number of inferred triples

