"""``cowkg serve``: the SPARQL endpoint and web UI (cowkg.web) in production server processes.

Stage: CLI. The one command that imports ``cowkg.web``: it builds the app and runs it. Errors rise
to ``CowkgGroup`` (cowkg.cli.base).
"""

from __future__ import annotations

import click

from ..backends import BACKENDS
from ..validate import SHACL_ENGINES
from .base import Context


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", type=int, default=None, help="Worker processes (default: the workers setting).")
@click.option("--access-log/--no-access-log", default=True, help="Log each request to stderr.")
@click.option("--front", type=click.Choice(["auto", "native", "granian"]), default=None,
              help="HTTP front (default: the front setting, auto: native where scripts/setup.sh built it).")
@click.option("--backend", type=click.Choice(BACKENDS), default=None,
              help="Where queries run (default: the backend setting).")
@click.option("--endpoint", default=None, help="SPARQL endpoint URL of --backend virtuoso.")
@click.option("--allow-invalid", is_flag=True, default=None,
              help="Serve data that does not conform to the shapes (refused by default, with the report; exit 1).")
@click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), default=None,
              help="SHACL engine of the check at start (default: the shacl_engine setting, auto: sparql "
                   "when the shapes compile, else turbo).")
@click.pass_obj
def serve(obj: Context, host: str, port: int, workers: int | None, access_log: bool, front: str | None,
          backend: str | None, endpoint: str | None, allow_invalid: bool | None, shacl_engine: str | None) -> None:
    """Serve the SPARQL endpoint and web UI behind a production HTTP front: the native one (Rust,
    built by scripts/setup.sh) or granian.

    \b
    The store is built once, then shared by the forked workers.
    Examples:
      cowkg serve
      cowkg serve --host 0.0.0.0 --port 8080 --workers 4
      cowkg serve --backend virtuoso --endpoint http://127.0.0.1:8890/sparql
      cowkg serve --allow-invalid        # serve data that fails SHACL (curators only)
      cowkg serve --front granian        # the Python front, as where the native one is not built
      curl 'http://127.0.0.1:8000/sparql?query=ASK%7B%7D'
      curl 'http://127.0.0.1:8000/health'    # triples per graph, release, confinement
    """
    from ..load import default_layout, require_graph
    from ..web import create_app
    from ..web.server import check_port, run_server

    require_graph(obj.root, default_layout(obj.root))  # over Virtuoso too: the UI reads queries/ there
    check_port(host, port)
    app = create_app({"root": str(obj.root), "backend": backend, "endpoint": endpoint, "allow_invalid": allow_invalid,
                      "shacl_engine": shacl_engine, "front": front})
    run_server(app, host, port, workers or obj.settings["workers"], access_log)
