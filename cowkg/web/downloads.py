"""Downloads: ``/download/`` serves the release files of the graph the app serves.

Stage: web. The files are exactly what ``cowkg dump`` writes (``cowkg.dump.release_files``:
every format of the asserted, inferred and full graphs, gzip variants, framed JSON-LD, the
context, VoID + DCAT), built from the app's store on first request and kept in memory, plus
``SHA256SUMS``. Each answer has its media type, a strong ETag (the file's SHA-256, the same
digest VoID and SHA256SUMS give), Content-Length, and honours If-None-Match (304) and Range.
"""

from __future__ import annotations

import datetime as dt
import threading

from flask import Blueprint, Response, current_app, render_template, request

from ..dump import ReleaseFile, checksums, dataset_version, release_files
from ..errors import NotFound
from ..store import KnowledgeGraph

bp = Blueprint("downloads", __name__)
_lock = threading.Lock()

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
    """Where ``download/<file>`` lives publicly: the public_base setting, else this request's host."""
    return (current_app.config["COWKG"]["public_base"] or request.host_url).rstrip("/") + "/"


def downloads() -> dict[str, ReleaseFile]:
    """The release files by name (built once per app and base URL)."""
    base = base_url()
    cache = current_app.extensions.setdefault("cowkg_downloads", {})
    if base not in cache:
        with _lock:
            if base not in cache:
                kg = current_kg()
                files = release_files(kg, version=dataset_version(kg), issued=dt.datetime.now(dt.UTC).date(),
                                      base_url=base)
                sums = checksums((f.name, f.content) for f in files)
                files.append(ReleaseFile("SHA256SUMS", sums, "text/plain",
                                         "SHA-256 of every file (sha256sum -c SHA256SUMS)"))
                cache[base] = {f.name: f for f in files}
    return cache[base]


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
