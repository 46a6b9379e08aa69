"""``cowkg virtuoso up|load|status|down``: a Virtuoso holding the project's graphs.

Thin click wrappers over ``cowkg.virtuoso``. A private instance lives in ``--dir`` (default: the
``virtuoso_dir`` setting) and listens on 127.0.0.1 only. With ``--endpoint URL`` the commands
work on a Virtuoso that is already running (loading then goes over the Graph Store protocol with
the login of COWKG_VIRTUOSO_USER / COWKG_VIRTUOSO_PASSWORD; there is no option for a password).
Exit codes as for every command: 0 ok, 2 bad input, 4 Virtuoso unreachable or failing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..errors import BackendUnavailable, CowkgError, InputError
from .base import Context

DIR_HELP = "Directory of the private instance (default: the virtuoso_dir setting)."
ENDPOINT_HELP = "SPARQL endpoint of an already running Virtuoso, e.g. http://127.0.0.1:8890/sparql."


def _dir(obj: Context, directory: str | None) -> Path:
    return Path(directory or obj.settings["virtuoso_dir"])


def _running(obj: Context, directory: str | None):
    from ..virtuoso import find_instance

    instance = find_instance(_dir(obj, directory))
    if instance is None:
        raise InputError(f"no private Virtuoso runs in {_dir(obj, directory)}",
                         hint="start one with `cowkg virtuoso up`, or pass --endpoint URL")
    if not instance.alive():
        raise BackendUnavailable(f"the private Virtuoso of {_dir(obj, directory)} (pid {instance.pid}) is not running",
                                 hint="start it again with `cowkg virtuoso up`")
    return instance


@click.group("virtuoso")
def virtuoso_group() -> None:
    """Run the knowledge graph on Virtuoso (Debian's virtuoso-opensource-7).

    \b
    Examples:
      cowkg virtuoso up && cowkg virtuoso load
      cowkg serve --backend virtuoso --endpoint "$(cowkg virtuoso status --format json | jq -r .endpoint)"
      cowkg virtuoso down
    See docs/VIRTUOSO.md.
    """


@virtuoso_group.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help=DIR_HELP)
@click.option("--buffers", type=int, default=None, help="NumberOfBuffers (8 KiB pages; default 170000 ≈ 1.3 GiB).")
@click.option("--wait", type=float, default=120, show_default=True, help="Seconds to wait until it answers.")
@click.pass_obj
def up(obj: Context, directory: str | None, buffers: int | None, wait: float) -> None:
    """Start a private Virtuoso on free loopback ports and wait until it answers.

    Idempotent: when one already runs in the directory, print it and exit 0.

    \b
    Examples:
      cowkg virtuoso up && cowkg virtuoso load
      cowkg virtuoso up --dir /tmp/cowkg-virtuoso     # a second instance beside the default one
      cowkg virtuoso up --buffers 680000 --wait 300   # ≈ 5.2 GiB, as bench/scale_pipeline.py for 10M triples
    """
    from ..virtuoso import manage

    kwargs = {"buffers": buffers} if buffers else {}
    instance = manage.up(_dir(obj, directory), wait=wait, **kwargs)
    click.echo(f"virtuoso {instance.pid} ready: {instance.endpoint} (SQL {instance.sql_address}, "
               f"dir {instance.directory})")


@virtuoso_group.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help=DIR_HELP)
@click.option("--endpoint", help=ENDPOINT_HELP + " Loads with Graph Store PUT.")
@click.option("--no-infer", is_flag=True, help="Load the asserted graphs only (no inferred graph).")
@click.option("--reason", "in_store", is_flag=True,
              help="Compute the inferred graph inside Virtuoso after the load (the OWL 2 RL rules the ontology "
                   "triggers, as SPARQL updates; cowkg/rules.py) instead of in this process.")
@click.option("--validate", "check", is_flag=True,
              help="Then validate the asserted graphs inside Virtuoso (the shapes compiled to SPARQL, and the QC "
                   "queries), reported as `cowkg validate` reports; exit 1 if they do not conform.")
@click.pass_obj
def load(obj: Context, directory: str | None, endpoint: str | None, no_infer: bool, in_store: bool,
         check: bool) -> None:
    """Load ontology, data, meta and inferred graphs as named graphs (reloading replaces them).

    \b
    Exit codes: 0 loaded (and conforms), 1 does not conform (--validate), 2 bad input, 4 Virtuoso failing.
    Examples:
      cowkg virtuoso load
      cowkg virtuoso load --reason      # bulk load, then reason inside Virtuoso
      cowkg virtuoso load --validate    # bulk load, then validate inside Virtuoso
      COWKG_VIRTUOSO_PASSWORD=... cowkg virtuoso load --endpoint http://127.0.0.1:8890/sparql
    """
    from ..virtuoso import manage
    if in_store and (endpoint or no_infer):
        raise InputError("--reason needs a private instance (`cowkg virtuoso up`) and an inferred graph",
                         hint="drop --endpoint / --no-infer")
    graphs = manage.project_graphs(obj.root, reasoner=obj.settings["reasoner"], cache_dir=obj.settings["cache_dir"],
                                   with_inference=not (no_infer or in_store))
    if endpoint:
        from ..virtuoso.graphstore import credentials, put_graphs

        report = put_graphs(endpoint, graphs, credentials())
    else:
        from .progress import TerminalProgress

        with TerminalProgress() as progress:
            report = manage.load(_running(obj, directory), graphs, progress)
    _print_load(report)
    if in_store:
        _reason_in_store(_running(obj, directory))
    if check:
        _validate_in_store(obj, endpoint or _running(obj, directory).endpoint)


def _print_load(report) -> None:
    for graph, n in report.loaded.items():
        mark = "" if n == report.expected[graph] else f"  (expected {report.expected[graph]})"
        click.echo(f"  {graph:<45} {n:>9}{mark}")
    click.echo(f"loaded {sum(report.loaded.values())} triples with the {report.method} in {report.seconds:.2f} s")
    if not report.complete:
        raise CowkgError("Virtuoso holds other counts than were loaded", hint="see docs/VIRTUOSO.md (P6b)")


def _validate_in_store(obj: Context, endpoint: str) -> None:
    """Validate what Virtuoso at ``endpoint`` holds (cowkg.virtuoso.validate); print the report as
    `cowkg validate` does; exit 1 when it does not conform."""
    from ..load import load_project
    from ..qc import load_qc
    from ..settings import project_paths
    from ..validate import format_report, load_shapes
    from ..virtuoso.validate import validate_endpoint

    paths = project_paths(obj.root)
    start = time.perf_counter()
    report = validate_endpoint(endpoint, load_shapes(paths["shapes"]), load_qc(paths["queries"]),
                               load_project(obj.root))
    click.echo(format_report(report, obj.root))
    click.echo(f"validated inside Virtuoso in {time.perf_counter() - start:.2f} s")
    if not report.conforms:
        sys.exit(1)


def _reason_in_store(instance) -> None:
    from ..virtuoso.reason import reason_in_virtuoso

    done = reason_in_virtuoso(instance, on_round=lambda r, n: click.echo(f"  round {r}: {n} new triples", err=True))
    click.echo(f"reasoned in Virtuoso: {done.triples} inferred triples in {done.rounds} rounds, "
               f"{done.seconds:.2f} s ({len(done.rules)} compiled rules)")


@virtuoso_group.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help=DIR_HELP)
@click.option("--endpoint", help=ENDPOINT_HELP)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def status(obj: Context, directory: str | None, endpoint: str | None, fmt: str) -> None:
    """Whether Virtuoso answers, where, and how many triples each project graph holds (exit 4 if down).

    \b
    Examples:
      cowkg virtuoso status
      cowkg virtuoso status --format json | jq -r .endpoint
      cowkg virtuoso status --endpoint http://127.0.0.1:8890/sparql   # a server not started by `up`
    """
    from ..virtuoso import find_instance, manage

    instance = None if endpoint else find_instance(_dir(obj, directory))
    info = manage.status(instance, endpoint)
    if fmt == "json":
        click.echo(json.dumps(info, indent=2))
    else:
        click.echo(f"{'running' if info['running'] else 'not running'}: {info.get('endpoint') or '-'}")
        for key in ("pid", "sql", "directory", "version"):
            if info.get(key):
                click.echo(f"  {key:<10} {info[key]}")
        for graph, n in info.get("graphs", {}).items():
            click.echo(f"  {graph:<45} {n:>9}")
    if not info["running"]:
        raise SystemExit(4)


@virtuoso_group.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), help=DIR_HELP)
@click.option("--purge", is_flag=True, help="Also delete the instance directory (database included).")
@click.pass_obj
def down(obj: Context, directory: str | None, purge: bool) -> None:
    """Stop the private instance cleanly (``shutdown;`` checkpoints first; SIGTERM would lose loads).

    Servers not started by `up` are not stopped here: use their own service manager.

    \b
    Examples:
      cowkg virtuoso down
      cowkg virtuoso down --dir /tmp/cowkg-virtuoso --purge   # stop it and delete its database
    """
    from ..virtuoso import find_instance, manage

    instance = find_instance(_dir(obj, directory))
    if instance is None:
        click.echo(f"no private Virtuoso recorded in {_dir(obj, directory)}")
        return
    seconds = manage.down(instance, purge=purge)
    click.echo(f"virtuoso {instance.pid} stopped in {seconds:.2f} s" + (" and purged" if purge else ""))
