"""Building a release: the bytes of every file ``cowkg dump -o DIR`` writes, from the graph.

Stage: after export. Input: a backend (``cowkg.backends``) serving the graphs, the inferred one
included. Output: ``ReleaseFile``s — every export of each variant (``cowkg.release.VARIANTS``) and
its gzip, the JSON-LD context, framed JSON-LD per entity type, VoID + DCAT (``cowkg.void``),
CHANGES.md (compared with the previous release) and SHA256SUMS. ``cowkg.release`` says what each
file is and puts a release on disk; ``dump_release`` (the ``cowkg dump`` command) does both.

Nothing in the bytes depends on the clock but the release date: ``/download/`` serves, with no
release on disk, what a first dump into an empty directory would write (``build_release``), dated
by the dataset (``dataset_date``), so every worker serves the same bytes on every day.
"""

from __future__ import annotations

import datetime as dt
import functools
import gzip
import hashlib
import os
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from .backends import GraphSource, as_backend, local_copy
from .errors import NotFound
from .export import (
    collect_quads,
    describe,
    export_header,
    instances_of,
    nary_classes,
    serialize_export,
)
from .jsonld import build_context, context_document, write_framed
from .media import by_name
from .progress import Progress, report
from .release import (
    VARIANTS,
    Release,
    ReleaseFile,
    check_name,
    checksums,
    current_release,
    publish,
    release_file,
    remove_leftovers,
)
from .vocab import BASE, COW, DATASET, GRAPH_DATA, GRAPH_META
from .vocab import NS_DCAT as DCAT
from .vocab import NS_DCT as DCT
from .vocab import NS_RDF as RDF
from .vocab import NS_XSD as XSD
from .void import void_turtle

__all__ = ["build_release", "changes_entry", "dataset_date", "dataset_version", "dump_release", "release_date",
           "release_files"]


# --------------------------------------------------------------------------------------------
# Building the files
# --------------------------------------------------------------------------------------------

def release_date(today: dt.date | None = None) -> dt.date:
    """The release date: ``today``, else SOURCE_DATE_EPOCH (reproducible builds), else today (UTC)."""
    if today is not None:
        return today
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.UTC).date()
    return dt.datetime.now(dt.UTC).date()


def dataset_version(source: GraphSource) -> str:
    """The version the metadata graph gives the dataset (``dcat:version`` in data/meta/dataset.ttl)."""
    res = as_backend(source).query(f"SELECT ?v WHERE {{ GRAPH <{GRAPH_META}> {{ <{DATASET}> <{DCAT}version> ?v }} }}")
    versions = sorted(row["v"].value for row in res.rows)
    if not versions:
        raise NotFound(f"no dcat:version for <{DATASET}> in the meta graph",
                       hint="add one to data/meta/dataset.ttl or pass --release")
    return versions[-1]


def dataset_date(source: GraphSource) -> dt.date:
    """The dataset's own date: ``dcterms:modified`` of the dataset in the meta graph, else its
    ``dcterms:issued``, else the date of the newest fact (the latest xsd:date or xsd:dateTime in
    the data graph). What a release built without ``cowkg dump`` is dated by, so its bytes do not
    depend on the day it is built. Raises NotFound when the graph holds no date at all.
    """
    backend = as_backend(source)
    for prop in ("modified", "issued"):
        res = backend.query(f"SELECT ?d WHERE {{ GRAPH <{GRAPH_META}> {{ <{DATASET}> <{DCT}{prop}> ?d }} }}")
        dates = sorted(row["d"].value[:10] for row in res.rows)
        if dates:
            return dt.date.fromisoformat(dates[-1])
    res = backend.query(f"SELECT (MAX(?d) AS ?last) WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s ?p ?o }} "
                        f"FILTER(isLiteral(?o) && DATATYPE(?o) IN (<{XSD}date>, <{XSD}dateTime>)) "
                        f"BIND(SUBSTR(STR(?o), 1, 10) AS ?d) }}")
    last = res.rows[0]["last"]
    if last is None:
        raise NotFound(f"no date for <{DATASET}>: neither dcterms:modified nor dcterms:issued in the meta graph, "
                       "and no dated fact in the data graph", hint="add dcterms:modified to data/meta/dataset.ttl")
    return dt.date.fromisoformat(last.value)


def gzip_bytes(content: bytes) -> bytes:
    """Deterministic gzip: no file name, modification time 0."""
    return gzip.compress(content, compresslevel=6, mtime=0)


def framed_types(source: GraphSource) -> list[str]:
    """The entity types that get a framed JSON-LD file: cow: classes with direct instances in the
    data graph, except the n-ary record classes (their records are embedded in the entities')."""
    backend = as_backend(source)
    res = backend.query(f"SELECT DISTINCT ?c WHERE {{ GRAPH <{GRAPH_DATA}> {{ ?s a ?c }} "
                        f"FILTER(STRSTARTS(STR(?c), \"{COW}\")) }}")
    nary = set(nary_classes(backend))
    return sorted(row["c"].value for row in res.rows if row["c"].value not in nary)


def release_files(source: GraphSource, *, version: str, issued: dt.date, base_url: str = BASE) -> list[ReleaseFile]:
    """Every file of a release except CHANGES.md and SHA256SUMS, in a fixed order.

    ``base_url`` is where ``download/<file>`` is published (VoID's ``void:dataDump``).
    """
    backend = local_copy(source)  # a remote store is read once, not once per description
    context = build_context(backend)
    files: list[ReleaseFile] = []
    for stem, graphs, formats, _says in VARIANTS:
        quads = collect_quads(backend, graphs)
        for short in formats:
            fmt = by_name(short, ("graph", "dataset"))
            content = serialize_export(quads, fmt, context, export_header(graphs))
            files.append(release_file(f"{stem}{fmt.suffix}", content))
            files.append(release_file(f"{stem}{fmt.suffix}.gz", gzip_bytes(content)))
    files.append(release_file("cowkg-context.jsonld", context_document(context)))
    for cls in framed_types(backend):
        local = cls[len(str(COW)):]
        roots = instances_of(backend, cls, direct=True)
        files.append(release_file(f"framed/{local}.jsonld", write_framed(describe(backend, roots), roots, context)))
    void = void_turtle(backend, files, release=version, issued=issued, base_url=base_url)
    files.append(release_file("void.ttl", void))
    return files


@functools.lru_cache(maxsize=1)
def builder_fingerprint() -> str:
    """A digest of the code that writes a release's files: a release built and kept by an older
    cowkg (``/download/`` keeps the one it builds) is never served by a newer one that writes
    other bytes."""
    from . import export, jsonld, release, serialize, void

    digest = hashlib.sha256()
    for module in (export, jsonld, release, serialize, void, sys.modules[__name__]):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:16]


def build_release(source: GraphSource, *, version: str, issued: dt.date, base_url: str = BASE,
                  previous: Path | None = None, previous_name: str | None = None) -> list[ReleaseFile]:
    """Every file of a release, CHANGES.md (compared with the release at ``previous``, if any) and
    SHA256SUMS last: the bytes ``dump_release`` writes, and what ``/download/`` serves when no
    release is on disk. Nothing in them depends on the clock but ``issued``."""
    files = release_files(source, version=version, issued=issued, base_url=base_url)
    changes = _changes_file(changes_entry(previous, previous_name, files, version, issued), previous)
    files.append(release_file("CHANGES.md", changes))
    files.append(release_file("SHA256SUMS", checksums((f.name, f.content) for f in files)))
    return files


# --------------------------------------------------------------------------------------------
# CHANGES
# --------------------------------------------------------------------------------------------

def _read_release_triples(path: Path) -> set[ox.Triple] | None:
    for name in ("cowkg-asserted.nt", "cowkg-asserted.nt.gz"):
        f = path / name
        if f.is_file():
            data = f.read_bytes()
            if name.endswith(".gz"):
                data = gzip.decompress(data)
            return set(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
    return None


def _classes_by_subject(triples: Iterable[ox.Triple]) -> dict:
    out: dict = {}
    for t in triples:
        if t.predicate.value == RDF + "type":
            out.setdefault(t.subject, set()).add(t.object.value)
    return out


def changes_entry(previous: Path | None, previous_name: str | None, files: Sequence[ReleaseFile],
                  version: str, issued: dt.date) -> str:
    """The CHANGES entry of this release: asserted triples added and removed, by subject class."""
    from .vocab import shorten

    new_nt = next(f.content for f in files if f.name == "cowkg-asserted.nt")
    new = set(ox.parse(new_nt, format=ox.RdfFormat.N_TRIPLES))
    old = _read_release_triples(previous) if previous is not None else None
    lines = [f"## {version} ({issued.isoformat()})", ""]
    if old is None:
        lines += [f"First release: {len(new):,} asserted triples.", ""]
        return "\n".join(lines)
    added, removed = new - old, old - new
    lines += [f"Compared with {previous_name}: {len(added):,} asserted triples added, {len(removed):,} removed "
              f"({len(new):,} in all).", ""]
    if added or removed:
        new_cls, old_cls = _classes_by_subject(new), _classes_by_subject(old)
        count_added: Counter = Counter()
        count_removed: Counter = Counter()
        for counter, triples, classes in ((count_added, added, new_cls), (count_removed, removed, old_cls)):
            for t in triples:
                for c in classes.get(t.subject, {"(no class)"}):
                    counter[c] += 1
        lines += ["| class of the subject | added | removed |", "|---|---:|---:|"]
        touched = count_added.keys() | count_removed.keys()
        for c in sorted(touched, key=lambda c: (-count_added[c] - count_removed[c], c)):
            lines.append(f"| {shorten(c)} | {count_added[c]} | {count_removed[c]} |")
        lines += ["", "A triple counts once under each class of its subject.", ""]
    return "\n".join(lines)


def _changes_file(entry: str, previous: Path | None) -> bytes:
    older = ""
    if previous is not None and (previous / "CHANGES.md").is_file():
        older = (previous / "CHANGES.md").read_text(encoding="utf-8").split("\n", 2)[-1]
    return ("# Changes of the cowkg dataset\n\n" + entry + ("\n" + older if older.strip() else "")).encode()


def dump_release(source: GraphSource, out_dir: str | Path, *, release: str | None = None, replace: bool = False,
                 today: dt.date | None = None, base_url: str = BASE, progress: Progress | None = None) -> Release:
    """Build a complete release and publish it as ``out_dir/<release>``, ``out_dir/latest`` pointing at it.

    ``release`` defaults to the dataset version in the meta graph (``dcat:version`` of
    data/meta/dataset.ttl). The release name is the version of the dump: an explicit ``release``
    is the ``dcat:version`` its void.ttl states, even when dataset.ttl still gives another (a
    publisher cutting 0.1.1 with ``--release`` expects the VoID of 0.1.1 to say 0.1.1; see
    ``void_turtle``). Raises InputError when that release exists already (unless ``replace``) or
    its name is unusable, NotFound when no name is given and the metadata has no version. An
    interrupted dump changes nothing visible (``cowkg.release.publish``). ``progress`` hears
    "build" (one step) and "write" (files).
    """
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out)
    name = release or dataset_version(source)
    check_name(out, name, replace=replace)
    previous_name = current_release(out)
    previous = out / previous_name if previous_name else None
    report(progress, "build", 0, 1)
    files = build_release(source, version=name, issued=release_date(today), base_url=base_url, previous=previous,
                          previous_name=previous_name)
    report(progress, "build", 1, 1)
    target = publish(out, name, files, progress)
    return Release(target, name, previous_name, files, time.perf_counter() - start)
