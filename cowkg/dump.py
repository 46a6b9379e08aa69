"""Releases: ``cowkg dump -o DIR`` writes every export, gzip variants, VoID + DCAT, checksums, CHANGES.

Stage: after export. Input: a backend (``cowkg.backends``) serving the graphs, the inferred one
included. Output: a release directory ``DIR/<version>/`` and the pointer ``DIR/latest`` (a symlink to it)::

    cowkg-asserted.{ttl,nt,jsonld,trig,nq}[.gz]  ontology + data + meta graphs, no inferred triples
    cowkg-inferred.{ttl,nt,jsonld}[.gz]          only the inferred graph (entailments not asserted)
    cowkg-full.{trig,nq}[.gz]                    all four named graphs, the inferred one apart
    cowkg-context.jsonld                          the JSON-LD @context (https://w3id.org/cowkg/context.jsonld)
    framed/<Class>.jsonld                         one framed JSON-LD document per entity type
    void.ttl                                      VoID + DCAT: counts, licence, source, distributions
    CHANGES.md                                    triples added/removed by class since the previous release
    SHA256SUMS                                    ``sha256sum -c SHA256SUMS`` checks the release

``/download/`` serves the files of the release ``latest`` points to, byte for byte
(``find_release``, ``read_release``); with no release on disk it serves what a first dump into an
empty directory would write (``build_release``), dated by the dataset (``dataset_date``).

Atomicity: the release is written into ``DIR/.tmp-<pid>-<version>-*``, synced, then renamed to
``DIR/<version>``; ``latest`` is replaced by ``os.replace`` of a fresh symlink. A dump killed at
any point (even by SIGKILL) leaves the previous release and ``latest`` untouched; the next dump
removes the dead temporary directory. Replacing an existing version (``replace=True``) swaps the
two directories in one ``renameat2(RENAME_EXCHANGE)`` call where the kernel offers it.

Test hook: with ``COWKG_DUMP_PAUSE_AFTER=N`` in the environment the dump stops after writing N
files into its temporary directory and waits (tests kill it there).
"""

from __future__ import annotations

import ctypes
import datetime as dt
import functools
import gzip
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .backends import GraphSource, as_backend, local_copy
from .errors import InputError, NotFound, ReleaseUnavailable
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
from .vocab import ALL_GRAPHS, ASSERTED_GRAPHS, BASE, COW, GRAPH_DATA, GRAPH_INFERRED, GRAPH_META, GRAPH_WIKIBASE
from .vocab import NS_DCAT as DCAT
from .vocab import NS_DCT as DCT
from .vocab import NS_RDF as RDF
from .vocab import NS_XSD as XSD
from .void import ASSERTED_SUBSET, DATASET, void_counts, void_turtle

__all__ = ["DATASET", "Release", "ReleaseFile", "build_release", "dataset_date", "dataset_version", "dump_release",
           "find_release", "read_release", "release_file", "release_files", "release_identity", "verify_release",
           "void_counts"]

PAUSE_ENV = "COWKG_DUMP_PAUSE_AFTER"
_RELEASE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


#: (file stem, graphs it holds, formats, what it says about inference)
VARIANTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], str], ...] = (
    ("cowkg-asserted", tuple(str(g) for g in ASSERTED_GRAPHS), ("ttl", "nt", "jsonld", "trig", "nq"),
     "asserted triples only (ontology, data and metadata graphs); no inferred triples"),
    ("cowkg-inferred", (str(GRAPH_INFERRED),), ("ttl", "nt", "jsonld"),
     "inferred triples only: the OWL 2 RL entailments of the asserted graphs that are not asserted"),
    ("cowkg-wikibase", (str(GRAPH_WIKIBASE),), ("ttl", "nt"),
     "the Wikibase view: the dataset in Wikidata's RDF dump format (items, statements with qualifiers, ranks "
     "and references, truthy wdt: triples), built from the asserted graphs by the Wikidata alignment table"),
    ("cowkg-full", tuple(str(g) for g in ALL_GRAPHS), ("trig", "nq"),
     "asserted, inferred and Wikibase-view triples, each named graph apart (cowg:inferred, cowg:wikibase)"),
)


@dataclass(frozen=True)
class ReleaseFile:
    """One file of a release: its path inside the release, bytes, media type and what it holds."""

    name: str
    content: bytes
    media_type: str
    description: str
    subset: str | None = None  # the VoID (sub)dataset it is a distribution of; None for auxiliary files
    compressed: bool = False

    @functools.cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Release:
    """What ``dump_release`` did; ``files`` are all it wrote, CHANGES.md and SHA256SUMS last."""

    path: Path
    name: str
    previous: str | None
    files: list[ReleaseFile]
    seconds: float


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


#: (media type, description) of the release files that are not exports
_AUXILIARY = {
    "cowkg-context.jsonld": ("application/ld+json",
                             "the JSON-LD @context of the JSON-LD files (short keys for the ontology's terms)"),
    "void.ttl": ("text/turtle", "VoID and DCAT description of this release"),
    "CHANGES.md": ("text/markdown", "asserted triples added and removed, by class, since the previous release"),
    "SHA256SUMS": ("text/plain", "SHA-256 of every file (sha256sum -c SHA256SUMS)"),
}
_SUBSETS = {"cowkg-asserted": ASSERTED_SUBSET, "cowkg-inferred": str(GRAPH_INFERRED),
            "cowkg-wikibase": str(GRAPH_WIKIBASE)}


def release_file(name: str, content: bytes) -> ReleaseFile:
    """``content`` as the release file ``name``, its media type, description and VoID subset read
    from the name alone: a release read back from disk is described as the dump described it.
    A name no dump writes is application/octet-stream without a description."""
    compressed = name.endswith(".gz")
    inner = name[:-3] if compressed else name
    packed = "; gzip-compressed" if compressed else ""
    for stem, _graphs, formats, says in VARIANTS:
        for short in formats:
            fmt = by_name(short, ("graph", "dataset"))
            if inner == f"{stem}{fmt.suffix}":
                return ReleaseFile(name, content, fmt.media_type, says + packed, _SUBSETS.get(stem, DATASET),
                                   compressed)
    if name in _AUXILIARY:
        return ReleaseFile(name, content, *_AUXILIARY[name])
    framed = re.fullmatch(r"framed/([^/]+)\.jsonld", name)
    if framed:
        return ReleaseFile(name, content, "application/ld+json",
                           f"every cow:{framed[1]} with its n-ary records and their provenance, one framed "
                           "JSON-LD tree each; asserted triples only", ASSERTED_SUBSET)
    return ReleaseFile(name, content, "application/octet-stream", "", None, compressed)


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


# --------------------------------------------------------------------------------------------
# Writing a release atomically
# --------------------------------------------------------------------------------------------

def current_release(out: Path) -> str | None:
    """The name of the release ``out/latest`` points to, if any."""
    latest = out / "latest"
    if latest.is_symlink():
        target = os.readlink(latest)
        return target if (out / target).is_dir() else None
    return None


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_temporaries(out: Path) -> None:
    """Remove what a killed or crashed dump left: ``.tmp-<pid>-*`` and ``.old-<pid>-*`` directories
    and ``.latest-<pid>`` links whose process is gone."""
    for tmp in out.glob(".*"):
        m = re.match(r"\.(tmp|old|latest)-(\d+)(-|$)", tmp.name)
        if m and not _pid_alive(int(m.group(2))):
            if tmp.is_symlink() or not tmp.is_dir():
                tmp.unlink(missing_ok=True)
            else:
                shutil.rmtree(tmp, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE). False where unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def _write_file(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(content)
        fh.flush()
        os.fsync(fh.fileno())


def _pause_point(written: int) -> None:
    """The test hook: stop here when COWKG_DUMP_PAUSE_AFTER says so."""
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and int(wanted) == written:
        print(f"cowkg dump: paused after {written} files", file=sys.stderr, flush=True)
        time.sleep(3600)


def checksums(files: Iterable[tuple[str, bytes]]) -> bytes:
    """SHA256SUMS in coreutils format (``sha256sum -c`` reads it), sorted by path."""
    return "".join(f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in sorted(files)).encode()


def dump_release(source: GraphSource, out_dir: str | Path, *, release: str | None = None, replace: bool = False,
                 today: dt.date | None = None, base_url: str = BASE, progress: Progress | None = None) -> Release:
    """Write a complete release to ``out_dir/<release>`` and point ``out_dir/latest`` at it.

    ``release`` defaults to the dataset version in the meta graph (``dcat:version`` of
    data/meta/dataset.ttl). The release name is the version of the dump: an explicit ``release``
    is the ``dcat:version`` its void.ttl states, even when dataset.ttl still gives another (a
    publisher cutting 0.1.1 with ``--release`` expects the VoID of 0.1.1 to say 0.1.1; see
    ``void_turtle``). Raises InputError when that release exists already (unless ``replace``) or
    its name is unusable, NotFound when no name is given and the metadata has no version. An
    interrupted dump changes nothing visible: see the module docstring. ``progress`` hears
    "build" (one step) and "write" (files).
    """
    start = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _remove_dead_temporaries(out)
    name = release or dataset_version(source)
    if not _RELEASE_NAME.fullmatch(name) or name == "latest":
        raise InputError(f"unusable release name {name!r}", hint="letters, digits, '.', '_' and '-' only")
    target = out / name
    if target.exists() and not replace:
        raise InputError(f"release {name} exists already in {out}",
                         hint="bump dcat:version in data/meta/dataset.ttl, pass --release NAME, or --replace")
    previous_name = current_release(out)
    previous = out / previous_name if previous_name else None
    report(progress, "build", 0, 1)
    files = build_release(source, version=name, issued=release_date(today), base_url=base_url, previous=previous,
                          previous_name=previous_name)
    report(progress, "build", 1, 1)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-{name}-", dir=out))
    try:
        # SHA256SUMS (the last file) is written last: a release with it is complete.
        for i, f in enumerate(files, start=1):
            _write_file(tmp / f.name, f.content)
            report(progress, "write", i, len(files))
            if f.name != "SHA256SUMS":
                _pause_point(i)
        for d in {tmp} | {(tmp / f.name).parent for f in files}:
            _fsync_dir(d)
        os.chmod(tmp, 0o755)
        if target.exists():
            if not _exchange(tmp, target):
                old = out / f".old-{os.getpid()}-{name}"
                os.rename(target, old)
                os.rename(tmp, target)
                tmp = old
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.rename(tmp, target)
        link = out / f".latest-{os.getpid()}"
        link.unlink(missing_ok=True)
        os.symlink(name, link)
        os.replace(link, out / "latest")
        _fsync_dir(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Release(target, name, previous_name, files, time.perf_counter() - start)


def _read_sums(text: str) -> dict[str, str]:
    """SHA256SUMS as {path: hex digest}."""
    listed = {}
    for line in text.splitlines():
        digest, _, name = line.partition("  ")
        listed[name] = digest
    return listed


def find_release(path: str | Path) -> Path | None:
    """The release to publish from ``path``: the one ``path/latest`` points to (``path`` is what
    ``cowkg dump -o`` was given), else ``path`` itself when it holds a SHA256SUMS (a release
    directory), else None. The answer is resolved (no symbolic links)."""
    path = Path(path)
    name = current_release(path)
    if name is not None:
        return (path / name).resolve()
    if (path / "SHA256SUMS").is_file():
        return path.resolve()
    return None


def release_identity(path: Path) -> tuple[int, int] | None:
    """What tells one release directory from another under the same name (``--replace`` swaps in
    a new directory): its inode and change time; None when it is gone."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_ctime_ns


def _read_checked(path: Path) -> list[ReleaseFile]:
    hint = f"check it with `sha256sum -c SHA256SUMS` in {path}, then write it again with `cowkg dump --replace`"
    try:
        sums = (path / "SHA256SUMS").read_bytes()
    except FileNotFoundError:
        raise ReleaseUnavailable(f"release {path} has no SHA256SUMS", hint=hint) from None
    files = []
    for name, digest in sorted(_read_sums(sums.decode("utf-8")).items()):
        if not name or name.startswith("/") or ".." in Path(name).parts:
            raise ReleaseUnavailable(f"release {path}: SHA256SUMS lists {name!r}, not a file of the release", hint=hint)
        try:
            f = release_file(name, (path / name).read_bytes())
        except FileNotFoundError:
            raise ReleaseUnavailable(f"release {path}: {name} is listed in SHA256SUMS but missing", hint=hint) from None
        if f.sha256 != digest:
            raise ReleaseUnavailable(f"release {path}: {name} does not match its SHA-256 in SHA256SUMS", hint=hint)
        files.append(f)
    return files + [release_file("SHA256SUMS", sums)]


def read_release(path: str | Path) -> list[ReleaseFile]:
    """The files of the release at ``path`` as ``cowkg dump`` wrote them: every file SHA256SUMS
    lists, checked against its digest, then SHA256SUMS itself.

    Raises ReleaseUnavailable (HTTP 503) when SHA256SUMS is missing or a listed file is missing or differs
    from its digest: a release that fails ``sha256sum -c`` is not published. A directory that
    ``--replace`` swaps while it is being read is read again.
    """
    path = Path(path)
    for _ in range(3):
        before = release_identity(path)
        try:
            files = _read_checked(path)
        except ReleaseUnavailable:
            if release_identity(path) == before:
                raise
            continue
        if release_identity(path) == before:
            return files
    raise ReleaseUnavailable(f"release {path} kept changing while it was read",
                             hint="try again when the dump has finished")


def verify_release(path: str | Path, *, parse: bool = False) -> list[str]:
    """Problems found in the release at ``path`` (empty: complete and intact).

    Checks that SHA256SUMS lists every file, every listed file exists with that digest, and (with
    ``parse``) that every RDF file parses with pyoxigraph.
    """
    path = Path(path)
    sums = path / "SHA256SUMS"
    if not sums.is_file():
        return [f"{path}: no SHA256SUMS"]
    problems = []
    listed = _read_sums(sums.read_text(encoding="utf-8"))
    present = {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()} - {"SHA256SUMS"}
    problems += [f"{n}: not listed in SHA256SUMS" for n in sorted(present - listed.keys())]
    for name, digest in sorted(listed.items()):
        f = path / name
        if not f.is_file():
            problems.append(f"{name}: missing")
            continue
        data = f.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            problems.append(f"{name}: SHA-256 mismatch")
            continue
        if parse:
            inner = name[:-3] if name.endswith(".gz") else name
            fmt = ox.RdfFormat.from_extension(inner.rsplit(".", 1)[-1]) if "." in inner else None
            if fmt is not None:
                try:
                    ox.parse(gzip.decompress(data) if name.endswith(".gz") else data, format=fmt)
                except SyntaxError as exc:
                    problems.append(f"{name}: does not parse: {exc}")
    return problems


def release_summary(release: Release) -> str:
    """One line per file (size, name) and a total: what ``cowkg dump`` prints."""
    lines = [f"{len(f.content):>12,}  {f.name}" for f in release.files]
    total = sum(len(f.content) for f in release.files)
    since = f" (previous: {release.previous})" if release.previous else ""
    lines.append(f"release {release.name}{since}: {len(release.files)} files, {total:,} bytes, "
                 f"{release.seconds:.1f} s → {release.path}")
    return "\n".join(lines)

