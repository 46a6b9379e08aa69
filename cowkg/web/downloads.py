"""Downloads: ``/download/`` serves the release ``cowkg dump`` wrote.

Stage: web. Input: the release directory of the ``release_dir`` setting (default
``<root>/dist``, what ``cowkg dump -o dist`` fills): the release its ``latest`` link points to, or
``release_dir`` itself when it is a release. Every file its SHA256SUMS lists is served byte for
byte, CHANGES.md and SHA256SUMS included; the release is read into memory and checked against
SHA256SUMS on first request, and read again as soon as ``latest`` moves or ``--replace`` swaps the
directory. Without a release on disk the same files are built from the app's store, as a first
``cowkg dump`` into an empty directory writes them (``cowkg.dump.build_release``), dated by the
dataset (``cowkg.dump.dataset_date``), never by the clock: every worker serves the same bytes on
every day. Each answer has its media type, a strong ETag (the file's SHA-256, the digest VoID and
SHA256SUMS give), Content-Length, and honours If-None-Match (304) and Range.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

from ..dump import build_release, builder_fingerprint, dataset_date, dataset_version, dump_release
from ..errors import NotFound, ReleaseUnavailable
from ..release import ReleaseFile, find_release, read_release, release_identity
from ..vocab import BASE
from .state import app_state

bp = Blueprint("downloads", __name__)
_lock = threading.RLock()

TEXT_TYPES = ("text/", "application/n-triples", "application/n-quads", "application/trig", "application/ld+json")


def base_url() -> str:
    """Where ``download/<file>`` lives publicly: the public_base setting, else the dataset's own
    namespace (as ``cowkg dump`` writes it) — never the request's Host, so one release is built
    per release, not one per host name a client sends."""
    return (current_app.config["COWKG"]["public_base"] or BASE).rstrip("/") + "/"


def release_dir() -> Path:
    """Where ``cowkg dump -o`` writes releases: the release_dir setting, else ``<root>/dist``."""
    cfg = current_app.config["COWKG"]
    return Path(cfg["release_dir"]) if cfg["release_dir"] else Path(cfg["root"]) / "dist"


def downloads() -> dict[str, ReleaseFile]:
    """The files served, by name: the release on disk, else the one built from the store."""
    path = find_release(release_dir())
    if path is not None:
        return published(path)
    state = app_state()
    if current_app.config["COWKG"]["release_dir"] and not state.release_warned:
        state.release_warned = True
        current_app.logger.warning("release_dir %s holds no release; /download/ serves files built from the store",
                                   release_dir())
    return built()


def published(path: Path) -> dict[str, ReleaseFile]:
    """The release at ``path``, read once per directory (a new ``latest`` or ``--replace`` reads again)."""
    key = (path, release_identity(path))
    state = app_state()
    cached = state.release
    if cached is None or cached[0] != key:
        with _lock:
            cached = state.release
            if cached is None or cached[0] != key:
                cached = state.release = (key, {f.name: f for f in read_release(path)})
    return cached[1]


def built() -> dict[str, ReleaseFile]:
    """The release built from the store: once per data version and base URL, whatever the Host,
    and kept under ``cache_dir`` as a release directory (checked against its SHA256SUMS when read
    back), so a restart or another worker process reads it instead of building it again."""
    state = app_state()
    files = state.built_release
    if files is None:
        with _lock:
            files = state.built_release
            if files is None:
                files = state.built_release = _fallback_release()
    return files


def _fallback_release() -> dict[str, ReleaseFile]:
    import fcntl
    import hashlib

    kg = app_state().backend  # a remote store too: its graphs are read over SPARQL
    base = base_url()
    version = dataset_version(kg)
    catalog = app_state().catalog
    key = hashlib.sha256(f"{catalog.version}|{base}|{version}|{builder_fingerprint()}".encode()).hexdigest()[:16]
    cache = current_app.config["COWKG"]["cache_dir"]
    if not cache:
        release = build_release(kg, version=version, issued=dataset_date(kg), base_url=base)
        return {f.name: f for f in release}
    home = Path(cache) / "downloads" / key
    try:
        home.mkdir(parents=True, exist_ok=True)
        with open(home / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one process builds; the others wait, then read it
            path = find_release(home)
            if path is not None:
                try:
                    return {f.name: f for f in read_release(path)}
                except ReleaseUnavailable:
                    current_app.logger.warning("cached release %s is damaged: building it again", path)
                    shutil.rmtree(path, ignore_errors=True)
                    (home / "latest").unlink(missing_ok=True)
            release = dump_release(kg, home, release=version, today=dataset_date(kg), base_url=base)
            return {f.name: f for f in release.files}
    except OSError as exc:
        current_app.logger.warning("cannot keep the built release under %s (%s): building it in memory", home, exc)
        release = build_release(kg, version=version, issued=dataset_date(kg), base_url=base)
        return {f.name: f for f in release}


def warm() -> None:
    """Read the release on disk, or the built one kept in the cache, before forking (never builds)."""
    path = find_release(release_dir())
    if path is not None:
        published(path)


def content_type_of(f: ReleaseFile) -> str:
    """gzip files are application/gzip (the name keeps the inner type); text gets a charset."""
    if f.compressed:
        return "application/gzip"
    return f"{f.media_type}; charset=utf-8" if f.media_type.startswith(TEXT_TYPES) else f.media_type


@bp.get("/download/")
def index():
    """The list of files: name, what it holds, media type, size and SHA-256."""
    files = sorted(downloads().values(), key=lambda f: (f.name.startswith("framed/"), f.name))
    return render_template("downloads/index.html", files=files, content_type_of=content_type_of)


@bp.get("/download/<path:name>")
def download(name: str):
    """One file, with a strong ETag (its SHA-256); If-None-Match → 304, Range → 206."""
    f = downloads().get(name)
    if f is None:
        raise NotFound(f"no download named {name!r}", hint="see /download/ for the list")
    resp = Response(f.content, mimetype=None, content_type=content_type_of(f))
    resp.set_etag(f.sha256)
    resp.headers["Cache-Control"] = "no-cache"
    if f.compressed:
        resp.headers["Content-Disposition"] = f'attachment; filename="{name.rsplit("/", 1)[-1]}"'
    return resp.make_conditional(request, accept_ranges=True, complete_length=len(f.content))
