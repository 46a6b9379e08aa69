"""The ontology at its IRI: ``/ontology`` answers HTML documentation to browsers and RDF to clients.

Stage: web. https://w3id.org/cowkg/ontology resolves here. Content negotiation (``Vary:
Accept``): text/html gets the page rendered from ``cowkg.ontodoc``; Turtle (the default for
``*/*``), N-Triples, JSON-LD and RDF/XML get the ontology graph. ``/ontology.<ext>`` and
``?format=`` choose explicitly; ``/ontology/<version>`` is the version IRI. ``/context.jsonld``
serves the JSON-LD @context generated from the ontology.
"""

from __future__ import annotations

import threading

from flask import Blueprint, Response, render_template, request

from ..errors import InputError, NotAcceptable, NotFound
from ..export import collect_quads, export_header, serialize_export
from ..jsonld import build_context, context_document
from ..media import GRAPH_FORMATS, HTML, Format, by_name, content_type, negotiate
from ..ontodoc import ontology_doc
from ..vocab import COWR, GRAPH_ONTOLOGY
from .state import app_state

bp = Blueprint("ontology_page", __name__)
_lock = threading.RLock()  # _cached builders may call jsonld_context, which takes it too
SUFFIXES = {"html": HTML, **{f.suffix.lstrip("."): f for f in GRAPH_FORMATS}}


@bp.app_template_filter("entity_path")
def entity_path(iri: str) -> str:
    """The local path of a dataset entity IRI (``/id/<slug>``), for links that stay on this server."""
    return "/id/" + iri[len(str(COWR)):] if iri.startswith(str(COWR)) else iri


def _cached(key: str, build) -> bytes:
    cache = app_state().ontology
    if key not in cache:
        with _lock:
            if key not in cache:
                cache[key] = build()
    return cache[key]


def jsonld_context() -> dict:
    """The JSON-LD @context of the served ontology, built once from the app's backend."""
    cache = app_state().ontology
    if "context_object" not in cache:
        with _lock:
            if "context_object" not in cache:
                cache["context_object"] = build_context(app_state().backend)
    return cache["context_object"]


def _graph_bytes(fmt: Format) -> bytes:
    quads = collect_quads(app_state().backend, [str(GRAPH_ONTOLOGY)])
    return serialize_export(quads, fmt, jsonld_context() if fmt.name == "jsonld" else None,
                            export_header([str(GRAPH_ONTOLOGY)], "ontology"))


def _respond(choice: Format | str) -> Response:
    if choice == HTML:
        body = _cached("html", lambda: render_template("ontology/ontology.html",
                                                       doc=ontology_doc(app_state().backend)).encode())
        resp = Response(body, content_type="text/html; charset=utf-8")
    else:
        resp = Response(_cached(choice.name, lambda: _graph_bytes(choice)), content_type=content_type(choice))
    resp.vary.add("Accept")
    return resp


@bp.get("/ontology")
def ontology():
    """The ontology IRI: HTML for browsers, RDF for clients (Turtle when anything goes)."""
    wanted = request.args.get("format")
    if wanted:
        choice = SUFFIXES.get(wanted) or by_name(wanted, ("graph",))
        if choice is None:
            raise InputError(f"unknown format {wanted!r}", hint=f"use one of {', '.join(SUFFIXES)}")
    else:
        choice = negotiate(GRAPH_FORMATS, request.headers.get("Accept"), extra=(HTML,))
        if choice is None:
            raise NotAcceptable("the ontology is available as HTML, Turtle, N-Triples, JSON-LD and RDF/XML",
                                hint="Accept: text/html, text/turtle, application/n-triples, application/ld+json")
    return _respond(choice)


@bp.get("/ontology.<ext>")
def ontology_file(ext: str):
    """The ontology in the format its suffix names (``/ontology.ttl``, ``.jsonld``, ``.nt``, ``.rdf``, ``.html``)."""
    choice = SUFFIXES.get(ext)
    if choice is None:
        raise NotFound(f"no ontology file with suffix .{ext}", hint=f"use one of {', '.join(SUFFIXES)}")
    return _respond(choice)


@bp.get("/ontology/<version>")
def ontology_version(version: str):
    """The version IRI (owl:versionIRI): the current ontology when the version matches."""
    res = app_state().backend.query(
        f"SELECT ?v WHERE {{ GRAPH <{GRAPH_ONTOLOGY}> {{ ?o owl:versionInfo ?v }} }}")
    current = {row["v"].value for row in res.rows}
    if version not in current:
        raise NotFound(f"no ontology version {version!r}", hint=f"this server has {', '.join(sorted(current))}")
    return ontology()


@bp.get("/context.jsonld")
def context():
    """The JSON-LD @context of cowkg's JSON-LD (https://w3id.org/cowkg/context.jsonld)."""
    body = _cached("context", lambda: context_document(jsonld_context()))
    return Response(body, content_type="application/ld+json")
