"""Command line: thin click wrappers over the library (the web layer calls the same functions).

Exit codes: 0 success / graph conforms, 1 SHACL violations or failed checks, 2 bad input
(unparsable file or query, unknown option), 3 query timeout, 4 backend unreachable.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import CowkgError
from .settings import load_settings, project_paths

EPILOG_QUERY = """\b
Examples:
  cowkg query 'SELECT ?m ?d WHERE { ?m a cow:CoalitionMeeting ; cow:date ?d } ORDER BY ?d'
  cowkg query --infer --format csv --file queries/q01-meetings-by-date.rq
  cowkg query --infer 'SELECT ?p WHERE { cowr:meeting-11 wdt:P664 ?p }'
"""


class Context:
    """Settings and a lazily built knowledge graph shared by the subcommands."""

    def __init__(self, root: str | None) -> None:
        self.settings = load_settings({"root": root} if root else None)
        self._kg = None

    @property
    def root(self) -> Path:
        return Path(self.settings["root"])

    def kg(self, with_inference: bool = True):
        from .store import open_project

        if self._kg is None:
            self._kg = open_project(self.root, reasoner=self.settings["reasoner"],
                                    cache_dir=self.settings["cache_dir"], with_inference=with_inference)
        return self._kg


def fail(exc: CowkgError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cowkg")
@click.option("--root", type=click.Path(file_okay=False), envvar="COWKG_ROOT",
              help="Project directory with ontology/, data/, shapes/, queries/ (default: the checkout).")
@click.pass_context
def main(ctx: click.Context, root: str | None) -> None:
    """cowkg: the Coalition of the Willing knowledge graph.

    \b
    Examples:
      cowkg validate                 # SHACL-check ontology + data (exit 0/1/2)
      cowkg reason                   # OWL 2 RL closure, how many triples inferred
      cowkg query --infer 'SELECT * WHERE { ?m wdt:P664 ?p } LIMIT 5'
      cowkg export --format ttl -o cowkg.ttl
      cowkg serve --port 8000        # SPARQL endpoint and web UI
    """
    ctx.obj = Context(root)


@main.command(epilog=EPILOG_QUERY)
@click.argument("sparql", required=False)
@click.option("--file", "-f", "file_", type=click.Path(dir_okay=False), help="Read the query from a .rq file.")
@click.option("--infer/--no-infer", default=False, help="Include the inferred graph in the default graph.")
@click.option("--format", "fmt", default="table",
              type=click.Choice(["table", "json", "csv", "tsv", "xml", "ttl", "nt", "jsonld"]),
              help="Output format (table for people; the rest for tools).")
@click.option("--max-rows", type=int, default=None, help="Cut results after this many rows.")
@click.pass_obj
def query(obj: Context, sparql: str | None, file_: str | None, infer: bool, fmt: str, max_rows: int | None) -> None:
    """Run a SPARQL 1.1 query over the asserted graph (or asserted + inferred with --infer)."""
    from .errors import InputError, NotFound
    from .media import by_name
    from .query import run_query
    from .render import render_table

    try:
        if file_:
            path = Path(file_)
            if not path.is_file():
                raise NotFound(f"no such query file: {file_}")
            sparql = path.read_text(encoding="utf-8")
        if not sparql:
            raise InputError("give a query as an argument or with --file", hint="cowkg query --help")
        result = run_query(obj.kg(), sparql, infer=infer, max_rows=max_rows,
                           timeout=obj.settings["query_timeout"])
    except CowkgError as exc:
        fail(exc)
    if fmt == "table":
        click.echo(render_table(result))
        return
    kind = "graph" if result.kind == "graph" else "results"
    out_fmt = by_name(fmt, (kind,))
    if out_fmt is None:
        fail(InputError(f"format {fmt!r} does not fit a {result.kind} result",
                        hint="use json/csv/tsv/xml for SELECT and ASK, ttl/nt/jsonld for CONSTRUCT"))
    sys.stdout.buffer.write(result.serialize(out_fmt))
    if result.truncated:
        click.echo(f"warning: result cut at {len(result)} rows", err=True)


@main.command()
@click.option("--inventory", type=click.Path(dir_okay=False), help="Fact inventory (default ../shared/...).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def coverage(obj: Context, inventory: str | None, fmt: str) -> None:
    """Run every queries/coverage/<FACT-ID>.rq ASK; print covered/total per inventory section.

    \b
    Examples:
      cowkg coverage
      cowkg coverage --format json | jq .missing
    Exit 1 when a fact is not covered.
    """
    from .coverage import default_inventory, inventory_ids, run_coverage

    try:
        ids = inventory_ids(inventory or default_inventory(obj.root))
        report = run_coverage(obj.kg(with_inference=False), ids, project_paths(obj.root)["queries"])
    except CowkgError as exc:
        fail(exc)
    if fmt == "json":
        click.echo(json.dumps({"covered": report.covered, "total": report.total, "sections": report.sections,
                               "missing": report.missing, "failing": report.failing,
                               "errors": report.errors, "extra": report.extra}, indent=2))
    else:
        for name, sec in report.sections.items():
            pct = 100 * sec["covered"] / sec["total"] if sec["total"] else 100
            click.echo(f"{name:<14} {sec['covered']:>4}/{sec['total']:<4} {pct:6.1f}%")
        click.echo(f"{'total':<14} {report.covered:>4}/{report.total:<4} "
                   f"{100 * report.covered / max(report.total, 1):6.1f}%")
        for label, ids_ in (("no query", report.missing), ("ASK false", report.failing)):
            if ids_:
                click.echo(f"{label}: {' '.join(ids_)}")
        for fid, msg in report.errors.items():
            click.echo(f"broken query {fid}: {msg}")
    if report.covered < report.total:
        sys.exit(1)


if __name__ == "__main__":
    main()
