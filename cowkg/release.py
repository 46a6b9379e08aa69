"""Releases on disk: what files a release holds, and putting one in place, finding, reading, checking it.

Stage: after the files are built (``cowkg.dump`` builds their bytes from the graph; this module
never reads the graph). A release is a directory ``DIR/<version>/`` and the pointer ``DIR/latest``
(a symlink to it)::

    cowkg-asserted.{ttl,nt,jsonld,trig,nq}[.gz]  ontology + data + meta graphs, no inferred triples
    cowkg-inferred.{ttl,nt,jsonld}[.gz]          only the inferred graph (entailments not asserted)
    cowkg-wikibase.{ttl,nt}[.gz]                 the Wikibase view (Wikidata's RDF dump format)
    cowkg-full.{trig,nq}[.gz]                    all named graphs, the inferred one apart
    cowkg-context.jsonld                          the JSON-LD @context (https://w3id.org/cowkg/context.jsonld)
    framed/<Class>.jsonld                         one framed JSON-LD document per entity type
    void.ttl                                      VoID + DCAT: counts, licence, source, distributions
    CHANGES.md                                    triples added/removed by class since the previous release
    SHA256SUMS                                    ``sha256sum -c SHA256SUMS`` checks the release

Why apart from building: what a release holds and how it reaches the disk is shared by
``cowkg dump`` (``publish``), ``/download/`` (``find_release``, ``read_release``: the release
``latest`` points to, byte for byte, checked against SHA256SUMS) and whoever checks one
(``verify_release``); none of them needs the graph.

Atomicity (``publish``): the release is written into ``DIR/.tmp-<pid>-<version>-*``, synced, then
renamed to ``DIR/<version>``; ``latest`` is replaced by a fresh symlink in one rename
(``cowkg.files``). A dump killed at any point (even by SIGKILL) leaves the previous release and
``latest`` untouched; the next dump removes the dead temporary directory (``remove_leftovers``).
Replacing an existing version swaps the two directories in one ``renameat2(RENAME_EXCHANGE)``
call where the kernel offers it.

Test hook: with ``COWKG_DUMP_PAUSE_AFTER=N`` in the environment the dump stops after writing N
files into its temporary directory and waits (tests kill it there).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import re
import shutil
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from .errors import InputError, ReleaseUnavailable
from .files import fsync_dir, pid_alive, point_link, rename_directory, swap_directory, temporary_directory
from .media import by_name
from .progress import Progress, report
from .vocab import ALL_GRAPHS, ASSERTED_GRAPHS, ASSERTED_SUBSET, DATASET, GRAPH_INFERRED, GRAPH_WIKIBASE

__all__ = ["PAUSE_ENV", "VARIANTS", "Release", "ReleaseFile", "check_name", "checksums", "current_release",
           "find_release", "publish", "read_release", "release_file", "release_identity", "release_summary",
           "remove_leftovers", "verify_release"]

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
    """What ``cowkg.dump.dump_release`` did; ``files`` are all it wrote, CHANGES.md and SHA256SUMS last."""

    path: Path
    name: str
    previous: str | None
    files: list[ReleaseFile]
    seconds: float


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


def checksums(files: Iterable[tuple[str, bytes]]) -> bytes:
    """SHA256SUMS in coreutils format (``sha256sum -c`` reads it), sorted by path."""
    return "".join(f"{hashlib.sha256(c).hexdigest()}  {n}\n" for n, c in sorted(files)).encode()


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


def remove_leftovers(out: Path) -> None:
    """Remove what a killed or crashed dump left in ``out``: ``.tmp-<pid>-*`` and ``.old-<pid>-*``
    directories and ``.latest-<pid>`` links whose process is gone."""
    for tmp in out.glob(".*"):
        m = re.match(r"\.(tmp|old|latest)-(\d+)(-|$)", tmp.name)
        if m and not pid_alive(int(m.group(2))):
            if tmp.is_symlink() or not tmp.is_dir():
                tmp.unlink(missing_ok=True)
            else:
                shutil.rmtree(tmp, ignore_errors=True)


def check_name(out: Path, name: str, *, replace: bool = False) -> Path:
    """Where the release ``name`` goes in ``out``. Raises InputError when the name is unusable or
    that release exists already (unless ``replace``)."""
    if not _RELEASE_NAME.fullmatch(name) or name == "latest":
        raise InputError(f"unusable release name {name!r}", hint="letters, digits, '.', '_' and '-' only")
    target = out / name
    if target.exists() and not replace:
        raise InputError(f"release {name} exists already in {out}",
                         hint="bump dcat:version in data/meta/dataset.ttl, pass --release NAME, or --replace")
    return target


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


def _pause_point(written: int) -> None:
    """The test hook: stop here when COWKG_DUMP_PAUSE_AFTER says so."""
    wanted = os.environ.get(PAUSE_ENV)
    if wanted and int(wanted) == written:
        print(f"cowkg dump: paused after {written} files", file=sys.stderr, flush=True)
        time.sleep(3600)


def publish(out: Path, name: str, files: Sequence[ReleaseFile], progress: Progress | None = None) -> Path:
    """Write ``files`` as the release ``out/<name>`` (an existing one is swapped out) and point
    ``out/latest`` at it; return its path. All or nothing: see the module docstring. ``progress``
    hears "write" (files). SHA256SUMS, when among ``files``, is written last: a release with it is
    complete.
    """
    target = out / name
    files = sorted(files, key=lambda f: f.name == "SHA256SUMS")
    tmp = temporary_directory(out, f".tmp-{os.getpid()}-{name}-")
    try:
        for i, f in enumerate(files, start=1):
            _write_file(tmp / f.name, f.content)
            report(progress, "write", i, len(files))
            if f.name != "SHA256SUMS":
                _pause_point(i)
        for d in {tmp} | {(tmp / f.name).parent for f in files}:
            fsync_dir(d)
        os.chmod(tmp, 0o755)
        if target.exists():
            tmp = swap_directory(tmp, target)  # tmp now holds the replaced release
            shutil.rmtree(tmp, ignore_errors=True)
        elif not rename_directory(tmp, target):
            raise InputError(f"release {name} appeared in {out} while it was written", hint="run the dump again")
        point_link(out / "latest", name)
        fsync_dir(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


# --------------------------------------------------------------------------------------------
# Finding, reading and checking a release
# --------------------------------------------------------------------------------------------

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

