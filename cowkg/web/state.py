"""The application's state: what the app keeps between requests, in one object.

Stage: web. ``create_app`` builds one ``AppState`` (``app.extensions["cowkg"]``); views reach it
with ``app_state()``. It holds the backend (the one door to the graph), the evaluator pool, the
response cache and the catalog, built at start, and what is computed on first use and then kept
(the data is read-only while a server runs): the release served at ``/download/``, the ontology
page's bytes, the endpoint's statistics, the reconciliation index, the allowed hosts.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from ..backends import Backend

if TYPE_CHECKING:
    from ..reconciliation import ReconciliationService
    from .catalog import Catalog
    from .evaluator import EvaluatorPool
    from .sparql import ResponseCache

__all__ = ["AppState", "app_state"]


@dataclass
class AppState:
    """Everything the app shares between requests (one per app; forked workers get copies)."""

    backend: Backend
    pool: EvaluatorPool
    cache: ResponseCache
    catalog: Catalog
    #: The release read from disk: ((path, identity), files by name), read again when ``latest`` moves.
    release: tuple[Any, dict] | None = None
    #: The release built from the store when none is on disk (files by name).
    built_release: dict | None = None
    release_warned: bool = False
    #: The ontology page's answers and the JSON-LD context, by key.
    ontology: dict[str, Any] = field(default_factory=dict)
    #: Counts of the service description and VoID (graph sizes, partitions), by key.
    stats: dict[str, Any] = field(default_factory=dict)
    reconcile: ReconciliationService | None = None
    #: Host names this service answers for (None: any); ``...`` until read from the settings.
    allowed_hosts: Any = ...
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)


def app_state(app: Flask | None = None) -> AppState:
    """The state of ``app`` (default: the app handling the current request)."""
    return (app or current_app).extensions["cowkg"]
