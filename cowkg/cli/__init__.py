"""Command line: ``cowkg <command>``, thin click wrappers over the library (the web layer calls the same
functions).

Stage: CLI, the top of the data flow. One module per command group: ``graph`` (query, validate,
reason, stats, coverage), ``exports`` (export, dump), ``serve``, ``reconcile`` (Wikidata links) and
``virtuoso``; ``base`` holds the root group, the ``Context`` the commands share and the one error
path (``CowkgGroup``). The modules import ``base``, never each other's commands, and this package
registers them all on ``main``.

Exit codes: 0 success / graph conforms, 1 SHACL violations or failed checks, 2 bad input
(unparsable file or query, unknown option), 3 query timeout, 4 backend unreachable.
"""

from __future__ import annotations

from . import exports, graph, reconcile, serve, virtuoso
from .base import Context, CowkgGroup, main

for _command in (graph.query, graph.coverage, graph.validate, graph.reason, graph.stats, exports.export, exports.dump,
                 serve.serve, reconcile.reconcile, virtuoso.virtuoso_group):
    main.add_command(_command)

__all__ = ["Context", "CowkgGroup", "main"]
