"""Virtuoso as a scale-out store for cowkg: a private instance's lifecycle and loading.

Stage: beside ``store`` (it holds the same named graphs, in another process). ``manage`` starts,
inspects and stops a private Virtuoso (own directory, loopback ports) and loads the project's
ontology, data, metadata and inferred graphs into it with the bulk loader; ``graphstore`` loads
an already running Virtuoso over the SPARQL 1.1 Graph Store protocol. Queries go through
``cowkg.backends.virtuoso.RemoteSparqlBackend``. Nothing here imports Flask or click.

Pitfalls handled here are numbered as in ``../shared/reference/virtuoso-notes.md`` (P2 isql
macros, P5 SIGTERM loses bulk loads, P6 LOAD_LIST keyed by path).
"""

from .manage import Instance, down, find_instance, load, status, up

__all__ = ["Instance", "down", "find_instance", "load", "status", "up"]
