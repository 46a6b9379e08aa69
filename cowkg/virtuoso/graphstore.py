"""Load an already running Virtuoso over HTTP: SPARQL 1.1 Graph Store protocol, Digest login.

Stage: beside the store, for servers cowkg did not start (no shared directory for the bulk
loader, no isql). Each graph is sent as N-Triples with ``PUT``, which replaces the graph, so a
reload never duplicates. Virtuoso's ``/sparql-graph-crud-auth`` accepts Digest authentication
only (Basic gets 401). The login comes from the environment (``COWKG_VIRTUOSO_USER``,
``COWKG_VIRTUOSO_PASSWORD``), never from a command line, and is never logged.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import HTTPDigestAuth

from ..errors import BackendError, BackendUnavailable, InputError
from .manage import LoadReport, graph_counts

USER_VAR = "COWKG_VIRTUOSO_USER"
PASSWORD_VAR = "COWKG_VIRTUOSO_PASSWORD"


def credentials(environ: Mapping[str, str] | None = None) -> HTTPDigestAuth:
    """The Digest login for writes. Raises InputError when the password variable is not set."""
    env = os.environ if environ is None else environ
    password = env.get(PASSWORD_VAR)
    if not password:
        raise InputError(f"set {PASSWORD_VAR} (and {USER_VAR}, default dba) to load a running Virtuoso",
                         hint="credentials are read from the environment only")
    return HTTPDigestAuth(env.get(USER_VAR, "dba"), password)


def graph_store_url(endpoint: str) -> str:
    """``http://h:p/sparql`` → ``http://h:p/sparql-graph-crud-auth`` (Virtuoso's authenticated GSP)."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InputError(f"not an HTTP endpoint URL: {endpoint!r}", hint="e.g. http://127.0.0.1:8890/sparql")
    return urlunsplit((parts.scheme, parts.netloc, "/sparql-graph-crud-auth", "", ""))


def put_graphs(endpoint: str, graphs: Mapping[str, list[ox.Triple]], auth: HTTPDigestAuth, *,
               timeout: float = 600) -> LoadReport:
    """Replace each named graph on the server behind ``endpoint`` with ``graphs[g]``.

    Raises BackendUnavailable when the server cannot be reached, BackendError when it refuses a
    graph (wrong login: 401; the status and the start of its answer are in the message).
    """
    url = graph_store_url(endpoint)
    start = time.perf_counter()
    with requests.Session() as session:
        for graph, triples in graphs.items():
            body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
            try:
                r = session.put(url, params={"graph-uri": graph}, data=body, auth=auth, timeout=timeout,
                                headers={"Content-Type": "application/n-triples"})
            except requests.RequestException as exc:
                raise BackendUnavailable(f"cannot reach {url}: {exc.__class__.__name__}") from None
            if r.status_code not in (200, 201, 204):
                raise BackendError(f"PUT {graph} answered {r.status_code}: {r.text.strip()[:200]}",
                                   hint=f"check {USER_VAR} / {PASSWORD_VAR}" if r.status_code == 401 else None)
    loaded = graph_counts(endpoint, graphs)
    expected = {g: len(set(t)) for g, t in graphs.items()}
    return LoadReport(expected, loaded, time.perf_counter() - start, "graph store PUT")
