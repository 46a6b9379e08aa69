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

import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request

from ..dump import (
    ReleaseFile,
    build_release,
    dataset_date,
    dataset_version,
    find_release,
    read_release,
    release_identity,
)
from ..errors import NotFound
from ..store import KnowledgeGraph

bp = Blueprint("downloads", __name__)
_lock = threading.RLock()  # reentrant: building the fallback may load the project (current_kg)

TEXT_TYPES = ("text/", "application/n-triples", "application/n-quads", "application/trig", "application/ld+json")


def current_kg() -> KnowledgeGraph:
    """The store behind the app: the embedded backend's, else the project loaded from disk once.

    A remote backend (Virtuoso) has no local store; exports and the ontology page are then built
    from the same files on disk that were loaded into it.
    """
    kg = getattr(current_app.extensions["cowkg_backend"], "kg", None)
    if kg is not None:
        return kg
    with _lock:
        kg = current_app.extensions.get("cowkg_export_kg")
        if kg is None:
            from ..store import open_project

            cfg = current_app.config["COWKG"]
            kg = open_project(cfg["root"], reasoner=cfg["reasoner"], cache_dir=cfg["cache_dir"])
            current_app.extensions["cowkg_export_kg"] = kg
    return kg


def base_url() -> str:
    """Where ``download/<file>`` lives publicly: the public_base setting, else the dataset's own
    namespace (as ``cowkg dump`` writes it) — never the request's Host, so one release is built
    per release, not one per host name a client sends."""
    from ..dump import BASE

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
    if current_app.config["COWKG"]["release_dir"] and not current_app.extensions.get("cowkg_release_warned"):
        current_app.extensions["cowkg_release_warned"] = True
        current_app.logger.warning("release_dir %s holds no release; /download/ serves files built from the store",
                                   release_dir())
    return built()


def published(path: Path) -> dict[str, ReleaseFile]:
    """The release at ``path``, read once per directory (a new ``latest`` or ``--replace`` reads again)."""
    key = (path, release_identity(path))
    cached = current_app.extensions.get("cowkg_release")
    if cached is None or cached[0] != key:
        with _lock:
            cached = current_app.extensions.get("cowkg_release")
            if cached is None or cached[0] != key:
                cached = (key, {f.name: f for f in read_release(path)})
                current_app.extensions["cowkg_release"] = cached
    return cached[1]


def built() -> dict[str, ReleaseFile]:
    """The release built from the store, once per app (the server builds it before its workers fork)."""
    files = current_app.extensions.get("cowkg_downloads")
    if files is None:
        with _lock:
            files = current_app.extensions.get("cowkg_downloads")
            if files is None:
                kg = current_kg()
                release = build_release(kg, version=dataset_version(kg), issued=dataset_date(kg), base_url=base_url())
                files = current_app.extensions["cowkg_downloads"] = {f.name: f for f in release}
    return files


def warm() -> None:
    """Read the release on disk, or build the fallback release, now (called before forking)."""
    downloads()


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
