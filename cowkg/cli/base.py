"""The root of the command line: the ``cowkg`` group, the context its commands share, the error path.

Stage: CLI. ``CowkgGroup`` is the one place errors are turned into exits: a ``CowkgError`` raised by
any command (or subcommand) is printed as ``error: <message> (hint)`` on stderr and the process
exits with the error's code; commands just call the library and let its errors rise.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from .. import __version__
from ..errors import CowkgError
from ..settings import load_settings

__all__ = ["Context", "CowkgGroup", "fail", "main"]


class Context:
    """Settings and a lazily opened backend shared by the subcommands."""

    def __init__(self, root: str | None) -> None:
        self.settings = load_settings({"root": root} if root else None)
        self._backend = None

    @property
    def root(self) -> Path:
        return Path(self.settings["root"])

    def backend(self, with_inference: bool = True):
        """The project's graph in the embedded store (whatever the backend setting: the commands work
        on the files under --root), opened once; a progress bar per stage on a terminal."""
        from ..backends import open_backend
        from .progress import TerminalProgress

        if self._backend is None:
            with TerminalProgress() as progress:
                self._backend = open_backend({**self.settings, "backend": "embedded"},
                                             with_inference=with_inference, progress=progress)
        return self._backend


def fail(exc: CowkgError) -> NoReturn:
    """Print ``exc`` as the CLI's errors look and exit with its code (1 violations, 2 bad input, 3 query
    timeout, 4 backend unreachable; see cowkg.errors)."""
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


class CowkgGroup(click.Group):
    """A click group whose commands' ``CowkgError``s end the process through ``fail``."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except CowkgError as exc:
            fail(exc)


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``cowkg --version``: the package's version, then the dataset's (dcat:version in data/meta)."""
    if not value or ctx.resilient_parsing:
        return
    from ..load import dataset_version

    click.echo(f"cowkg {__version__}")
    root = load_settings({"root": ctx.params.get("root")})["root"]
    try:
        version = dataset_version(root)
    except CowkgError as exc:  # raised while parsing options, before CowkgGroup.invoke
        fail(exc)
    click.echo(f"dataset {version or '(no dcat:version)'} from {root}")
    ctx.exit()


@click.group(cls=CowkgGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--version", is_flag=True, expose_value=False, callback=print_version,
              help="Show the package version and the dataset version (data/meta), then exit.")
@click.option("--root", type=click.Path(file_okay=False), envvar="COWKG_ROOT", is_eager=True,  # read by --version
              help="Directory with ontology/, data/, shapes/, queries/ (default: the checkout, or the graph "
                   "shipped in the package).")
@click.pass_context
def main(ctx: click.Context, root: str | None) -> None:
    """cowkg: the Coalition of the Willing knowledge graph.

    \b
    Examples:
      cowkg validate                 # SHACL + QC queries over ontology + data (exit 0/1/2)
      cowkg reason                   # OWL 2 RL closure, how many triples inferred
      cowkg query --infer 'SELECT * WHERE { ?m wdt:P664 ?p } LIMIT 5'
      cowkg export --format ttl -o cowkg.ttl
      cowkg serve --port 8000        # SPARQL endpoint and web UI
    """
    ctx.obj = Context(root)
