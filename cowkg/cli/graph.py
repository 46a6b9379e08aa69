"""``cowkg query | validate | reason | stats | coverage``: reading and checking the graph.

Stage: CLI. Thin wrappers: parse the options, call the library (``cowkg.backends``, ``load``,
``validate``, ``reason``, ``coverage``), render. Errors rise to ``CowkgGroup`` (cowkg.cli.base).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import InputError, NotFound
from ..media import GRAPH_FORMATS, RESULT_FORMATS
from ..reason import REASONERS
from ..settings import project_paths
from ..validate import SHACL_ENGINES
from .base import Context

#: ``cowkg query --format``: a table for people, then the media registry's result and graph formats.
QUERY_FORMATS = ("table", *(f.name for f in RESULT_FORMATS), *(f.name for f in GRAPH_FORMATS if f.name != "rdfxml"))

EPILOG_QUERY = """\b
Examples:
  cowkg query 'SELECT ?m ?d WHERE { ?m a cow:CoalitionMeeting ; cow:date ?d } ORDER BY ?d'
  cowkg query --infer --format csv --file queries/q01-meetings-by-date.rq
  cowkg query --infer 'SELECT ?p WHERE { cowr:meeting-11 wdt:P664 ?p }'
"""

_CLASS_COUNTS = ("SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH cowg:data { ?s a ?class } "
                 "FILTER(STRSTARTS(STR(?class), STR(cow:))) } GROUP BY ?class ORDER BY DESC(?n) ?class")


@click.command(epilog=EPILOG_QUERY)
@click.argument("sparql", required=False)
@click.option("--file", "-f", "file_", type=click.Path(dir_okay=False), help="Read the query from a .rq file.")
@click.option("--infer/--no-infer", default=False, help="Include the inferred graph in the default graph.")
@click.option("--format", "fmt", default="table", type=click.Choice(QUERY_FORMATS),
              help="Output format (table for people; the rest for tools).")
@click.option("--max-rows", type=int, default=None, help="Cut results after this many rows.")
@click.pass_obj
def query(obj: Context, sparql: str | None, file_: str | None, infer: bool, fmt: str, max_rows: int | None) -> None:
    """Run a SPARQL 1.1 query over the asserted graph (or asserted + inferred with --infer)."""
    text = read_query(sparql, file_)
    if fmt == "table":
        result = obj.backend().query(text, infer=infer, max_rows=max_rows, timeout=obj.settings["query_timeout"])
        write_table(result)
        return
    write_answer(answer_for(obj, text, infer, fmt, max_rows))


def read_query(sparql: str | None, file_: str | None) -> str:
    """The query text from the argument or ``--file``. Raises NotFound / InputError."""
    if file_:
        path = Path(file_)
        if not path.is_file():
            raise NotFound(f"no such query file: {file_}")
        sparql = path.read_text(encoding="utf-8")
    if not sparql:
        raise InputError("give a query as an argument or with --file", hint="cowkg query --help")
    return sparql


def answer_for(obj: Context, text: str, infer: bool, fmt: str, max_rows: int | None):
    """The answer in ``fmt``: the bytes ``/sparql`` sends for the same query (``cowkg.answer``).
    Raises InputError when the format does not fit the query's result."""
    from ..answer import QuerySpec, answer_here
    from ..errors import NotAcceptable
    from ..querytext import parse_query

    parsed = parse_query(text)
    spec = QuerySpec(query=text, parsed=parsed, infer=infer, formats=(fmt,), max_rows=max_rows,
                     timeout=obj.settings["query_timeout"])
    try:
        return answer_here(obj.backend(), spec)
    except NotAcceptable:
        kind = "graph" if parsed.form in ("CONSTRUCT", "DESCRIBE") else "solutions"
        raise InputError(f"format {fmt!r} does not fit a {kind} result",
                         hint="use json/csv/tsv/xml for SELECT and ASK, ttl/nt/jsonld for CONSTRUCT") from None


def write_answer(answer) -> None:
    """An answer's bytes on stdout; a cut says so on stderr."""
    sys.stdout.buffer.write(answer.body)
    if answer.truncated:
        click.echo(f"warning: result cut at {answer.rows} rows", err=True)


def write_table(result) -> None:
    """A query result as a table for people; a cut says so on stderr."""
    from ..render import render_table

    click.echo(render_table(result))
    if result.truncated:
        click.echo(f"warning: result cut at {len(result)} rows", err=True)


@click.command()
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
    from ..coverage import default_inventory, inventory_ids, run_coverage

    ids = inventory_ids(inventory or default_inventory(obj.root))
    report = run_coverage(obj.backend(with_inference=False), ids, project_paths(obj.root)["queries"])
    click.echo(coverage_json(report) if fmt == "json" else coverage_table(report))
    if report.covered < report.total:
        sys.exit(1)


def coverage_json(report) -> str:
    return json.dumps({"covered": report.covered, "total": report.total, "sections": report.sections,
                       "missing": report.missing, "failing": report.failing,
                       "errors": report.errors, "extra": report.extra}, indent=2)


def coverage_table(report) -> str:
    lines = []
    for name, sec in report.sections.items():
        pct = 100 * sec["covered"] / sec["total"] if sec["total"] else 100
        lines.append(f"{name:<14} {sec['covered']:>4}/{sec['total']:<4} {pct:6.1f}%")
    lines.append(f"{'total':<14} {report.covered:>4}/{report.total:<4} "
                 f"{100 * report.covered / max(report.total, 1):6.1f}%")
    for label, ids_ in (("no query", report.missing), ("ASK false", report.failing)):
        if ids_:
            lines.append(f"{label}: {' '.join(ids_)}")
    lines += [f"broken query {fid}: {msg}" for fid, msg in report.errors.items()]
    return "\n".join(lines)


@click.command()
@click.option("--data", "data", multiple=True, type=click.Path(dir_okay=False),
              help="Validate these data files instead of data/*.ttl (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.option("--shacl-engine", type=click.Choice(SHACL_ENGINES), default=None,
              help="SHACL engine (default: the shacl_engine setting, auto: sparql when the shapes compile, "
                   "else turbo; pyshacl is the reference).")
@click.pass_obj
def validate(obj: Context, data: tuple[str, ...], fmt: str, shacl_engine: str | None) -> None:
    """Parse ontology + data, check them against the SHACL shapes in shapes/ and run the
    quality-control queries queries/qc/*-violation.rq (every row a defect).

    \b
    Exit codes: 0 conforms, 1 violations, 2 unparsable input (file:line:column).
    Examples:
      cowkg validate
      cowkg validate --data tests/fixtures/broken/table-meeting-without-date.ttl
      cowkg validate --format json | jq '.violations[0]'
      cowkg validate --shacl-engine pyshacl     # the reference engine (slower)
    """
    from ..load import load_project
    from ..qc import load_qc
    from ..validate import format_report, load_shapes
    from ..validate import validate as run_validation
    from .progress import TerminalProgress

    with TerminalProgress() as progress:
        sources = load_project(obj.root, data=[Path(d) for d in data] if data else None, progress=progress)
        progress("SHACL", 0, 1)
        paths = project_paths(obj.root)
        report = run_validation(sources, load_shapes(paths["shapes"]), load_qc(paths["queries"]),
                                shacl_engine or obj.settings["shacl_engine"])
    if fmt == "json":
        click.echo(json.dumps({"conforms": report.conforms, "counts": report.counts, "engine": report.engine,
                               "violations": [v.as_dict() for v in report.violations]}, indent=2))
    else:
        click.echo(format_report(report, obj.root))
    sys.exit(0 if report.conforms else 1)


@click.command()
@click.option("--reasoner", type=click.Choice(REASONERS), default=None,
              help="OWL 2 RL engine (default: the reasoner setting, auto = by size).")
@click.option("--no-cache", is_flag=True, help="Recompute even if a cached closure exists, and replace it.")
@click.pass_obj
def reason(obj: Context, reasoner: str | None, no_cache: bool) -> None:
    """Compute the OWL 2 RL closure of ontology + data and report what it added.

    \b
    Examples:
      cowkg reason
      cowkg reason --reasoner owlrl --no-cache
    """
    from ..load import load_project
    from ..reason import infer
    from .progress import TerminalProgress

    with TerminalProgress() as progress:
        sources = load_project(obj.root, progress=progress)
        progress("reason", 0, 1)
        inference = infer(sources, reasoner or obj.settings["reasoner"], obj.settings["cache_dir"], refresh=no_cache)
    how = "read from cache" if inference.cached else f"computed in {inference.seconds:.2f} s"
    click.echo(f"{len(inference.triples):,} triples inferred by {inference.reasoner} "
               f"from {sources.distinct_count():,} asserted triples (ontology, data and meta graphs, "
               f"distinct per graph as `cowkg stats` counts them; {how})")


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def stats(obj: Context, fmt: str) -> None:
    """Triples per named graph, instances per class, and validation status (SHACL + QC queries).

    \b
    Examples:
      cowkg stats
      cowkg stats --format json
    """
    from ..qc import load_qc
    from ..render import term_text
    from ..validate import load_shapes
    from ..validate import validate as run_validation

    backend = obj.backend()
    sizes = backend.graph_sizes()
    per_class = {term_text(r["class"]): int(r["n"].value) for r in backend.query(_CLASS_COUNTS).rows}
    paths = project_paths(obj.root)
    report = run_validation(backend.sources, load_shapes(paths["shapes"]), load_qc(paths["queries"]),
                            obj.settings["shacl_engine"])
    if fmt == "json":
        click.echo(json.dumps({"graphs": sizes, "classes": per_class, "shacl": {
            "conforms": report.conforms, "counts": report.counts, "engine": report.engine},
            "reasoner": backend.reasoner}, indent=2))
    else:
        click.echo(stats_table(sizes, per_class, report))


def stats_table(sizes: dict[str, int], per_class: dict[str, int], report) -> str:
    lines = ["triples per graph", *(f"  {g:<45} {n:>7}" for g, n in sizes.items()),
             "instances per class (data graph)", *(f"  {c:<45} {n:>7}" for c, n in per_class.items())]
    lines.append(f"SHACL + QC: {'conforms' if report.conforms else 'does not conform'} {report.counts or ''}")
    return "\n".join(lines)
