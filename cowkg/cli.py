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
        from .backends import open_backend
        from .cli_progress import TerminalProgress

        if self._backend is None:
            with TerminalProgress() as progress:
                self._backend = open_backend({**self.settings, "backend": "embedded"},
                                             with_inference=with_inference, progress=progress)
        return self._backend


def fail(exc: CowkgError) -> None:
    click.echo(f"error: {exc}", err=True)
    sys.exit(exc.exit_code)


def print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``cowkg --version``: the package's version, then the dataset's (dcat:version in data/meta)."""
    if not value or ctx.resilient_parsing:
        return
    from .load import dataset_version

    click.echo(f"cowkg {__version__}")
    root = load_settings({"root": ctx.params.get("root")})["root"]
    try:
        version = dataset_version(root)
    except CowkgError as exc:
        fail(exc)
    click.echo(f"dataset {version or '(no dcat:version)'} from {root}")
    ctx.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
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
    from .render import render_table

    try:
        if file_:
            path = Path(file_)
            if not path.is_file():
                raise NotFound(f"no such query file: {file_}")
            sparql = path.read_text(encoding="utf-8")
        if not sparql:
            raise InputError("give a query as an argument or with --file", hint="cowkg query --help")
        result = obj.backend().query(sparql, infer=infer, max_rows=max_rows, timeout=obj.settings["query_timeout"])
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
        report = run_coverage(obj.backend(with_inference=False), ids, project_paths(obj.root)["queries"])
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


@main.command()
@click.option("--data", "data", multiple=True, type=click.Path(dir_okay=False),
              help="Validate these data files instead of data/*.ttl (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@click.pass_obj
def validate(obj: Context, data: tuple[str, ...], fmt: str) -> None:
    """Parse ontology + data, check them against the SHACL shapes in shapes/ and run the
    quality-control queries queries/qc/*-violation.rq (every row a defect).

    \b
    Exit codes: 0 conforms, 1 violations, 2 unparsable input (file:line:column).
    Examples:
      cowkg validate
      cowkg validate --data tests/fixtures/broken/table-meeting-without-date.ttl
      cowkg validate --format json | jq '.violations[0]'
    """
    from .cli_progress import TerminalProgress
    from .load import load_project
    from .qc import load_qc
    from .validate import format_report, load_shapes
    from .validate import validate as run_validation

    try:
        with TerminalProgress() as progress:
            sources = load_project(obj.root, data=[Path(d) for d in data] if data else None, progress=progress)
            progress("SHACL", 0, 1)
            paths = project_paths(obj.root)
            report = run_validation(sources, load_shapes(paths["shapes"]), load_qc(paths["queries"]))
    except CowkgError as exc:
        fail(exc)
    if fmt == "json":
        click.echo(json.dumps({"conforms": report.conforms, "counts": report.counts,
                               "violations": [v.as_dict() for v in report.violations]}, indent=2))
    else:
        click.echo(format_report(report, obj.root))
    sys.exit(0 if report.conforms else 1)


@main.command()
@click.option("--reasoner", type=click.Choice(["owlrl", "reasonable", "auto"]), default=None,
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
    from .cli_progress import TerminalProgress
    from .load import load_project
    from .reason import infer

    try:
        with TerminalProgress() as progress:
            sources = load_project(obj.root, progress=progress)
            progress("reason", 0, 1)
            inference = infer(sources, reasoner or obj.settings["reasoner"], obj.settings["cache_dir"],
                              refresh=no_cache)
    except CowkgError as exc:
        fail(exc)
    how = "read from cache" if inference.cached else f"computed in {inference.seconds:.2f} s"
    click.echo(f"{len(inference.triples):,} triples inferred by {inference.reasoner} "
               f"from {sources.distinct_count():,} asserted triples (ontology, data and meta graphs, "
               f"distinct per graph as `cowkg stats` counts them; {how})")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["ttl", "nt", "jsonld", "trig", "nq", "quickstatements",
                                                  "quickstatements-csv"]),
              default="ttl", show_default=True,
              help="quickstatements (V1 commands) or quickstatements-csv: facts Wikidata lacks about linked "
                   "entities, with qualifiers and references (asks Wikidata; see `reconcile`).")
@click.option("--infer", is_flag=True, help="Include the inferred graph (its own named graph in TriG/N-Quads).")
@click.option("--graph", "graphs", multiple=True,
              type=click.Choice(["ontology", "data", "meta", "inferred", "wikibase"]),
              help="Export only these named graphs (repeatable; replaces the --infer choice).")
@click.option("--subject", "subjects", multiple=True, metavar="IRI",
              help="Export the description of this entity: its statements, n-ary records, provenance (repeatable).")
@click.option("--class", "classes", multiple=True, metavar="CLASS",
              help="Export the description of every instance of this class (repeatable).")
@click.option("--framed", is_flag=True, help="JSON-LD with --class: one tree per instance, records embedded.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here (atomically) instead of stdout.")
@click.option("--offline", is_flag=True,
              help="quickstatements: compare with cached Wikidata answers only; never touch the network.")
@click.pass_obj
def export(obj: Context, fmt: str, infer: bool, graphs: tuple[str, ...], subjects: tuple[str, ...],
           classes: tuple[str, ...], framed: bool, output: str | None, offline: bool) -> None:
    """Export the whole graph (ontology + data + metadata, plus inferred with --infer) or a part of it.

    \b
    Output is deterministic: sorted, blank nodes skolemised. TriG keeps the named graphs.
    Examples:
      cowkg export --format ttl -o cowkg.ttl
      cowkg export --infer --format nt | grep wikidata.org/prop/direct/P664
      cowkg export --graph inferred --format ttl      # only what the reasoner added
      cowkg export --graph wikibase --format nt       # the Wikibase view (Wikidata's dump format)
      cowkg export --subject cowr:meeting-04          # one entity, its records and citations
      cowkg export --class cow:CoalitionMeeting --format jsonld --framed
      cowkg export --format quickstatements -o facts.qs   # QuickStatements V1, qualifiers, references
      cowkg export --format quickstatements-csv -o facts.csv   # the same in QuickStatements' CSV format
      cowkg export --format quickstatements --offline     # against cached Wikidata answers only
    """
    from .export import export_bytes, write_atomic

    if fmt.startswith("quickstatements"):
        from .cli_reconcile import export_quickstatements, refuse_with_quickstatements

        refuse_with_quickstatements({"--infer": infer, "--graph": graphs, "--subject": subjects,
                                     "--class": classes, "--framed": framed})
        export_quickstatements(obj, output, offline, csv=fmt.endswith("-csv"))
        return
    if offline:
        raise click.UsageError("--offline only applies to --format quickstatements(-csv), the one export that asks "
                               "Wikidata")
    try:
        content = export_bytes(obj.backend(with_inference=infer or "inferred" in graphs), fmt, infer=infer,
                               graphs=graphs, subjects=subjects, classes=classes, framed=framed)
    except CowkgError as exc:
        fail(exc)
    if output:
        write_atomic(output, content)
        click.echo(f"wrote {output} ({len(content):,} bytes)", err=True)
    else:
        sys.stdout.buffer.write(content)


@main.command()
@click.option("-o", "--output", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Release directory: writes OUTPUT/<version>/ and points OUTPUT/latest at it.")
@click.option("--release", default=None, help="Release name (default: dcat:version of data/meta/dataset.ttl).")
@click.option("--replace", is_flag=True, help="Replace an existing release of the same name (atomic swap).")
@click.pass_obj
def dump(obj: Context, out_dir: str, release: str | None, replace: bool) -> None:
    """Write a release: every format (+ .gz), framed JSON-LD, VoID + DCAT, SHA256SUMS, CHANGES.md.

    \b
    Atomic: written to a temporary directory, then renamed; a killed dump leaves the previous
    release and OUTPUT/latest as they were. Check a release with `sha256sum -c SHA256SUMS`.
    Examples:
      cowkg dump -o dist
      cowkg dump -o dist --release 0.1.1
    """
    from .cli_progress import TerminalProgress
    from .dump import dump_release, release_summary

    try:
        backend = obj.backend()
        with TerminalProgress() as progress:
            done = dump_release(backend, out_dir, release=release, replace=replace, progress=progress,
                                base_url=(obj.settings["public_base"].rstrip("/") + "/")
                                if obj.settings["public_base"] else "https://w3id.org/cowkg/")
    except CowkgError as exc:
        fail(exc)
    click.echo(release_summary(done), err=True)


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.pass_obj
def stats(obj: Context, fmt: str) -> None:
    """Triples per named graph, instances per class, and validation status (SHACL + QC queries).

    \b
    Examples:
      cowkg stats
      cowkg stats --format json
    """
    from .qc import load_qc
    from .render import term_text
    from .validate import load_shapes
    from .validate import validate as run_validation

    try:
        backend = obj.backend()
        sizes = backend.graph_sizes()
        classes = backend.query("SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH cowg:data { ?s a ?class } "
                                "FILTER(STRSTARTS(STR(?class), STR(cow:))) } GROUP BY ?class ORDER BY DESC(?n) ?class")
        paths = project_paths(obj.root)
        report = run_validation(backend.sources, load_shapes(paths["shapes"]), load_qc(paths["queries"]))
    except CowkgError as exc:
        fail(exc)
    per_class = {term_text(r["class"]): int(r["n"].value) for r in classes.rows}
    if fmt == "json":
        click.echo(json.dumps({"graphs": sizes, "classes": per_class, "shacl": {
            "conforms": report.conforms, "counts": report.counts},
            "reasoner": backend.reasoner}, indent=2))
        return
    click.echo("triples per graph")
    for g, n in sizes.items():
        click.echo(f"  {g:<45} {n:>7}")
    click.echo("instances per class (data graph)")
    for c, n in per_class.items():
        click.echo(f"  {c:<45} {n:>7}")
    click.echo(f"SHACL + QC: {'conforms' if report.conforms else 'does not conform'} {report.counts or ''}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=int, show_default=True)
@click.option("--workers", type=int, default=None, help="Worker processes (default: the workers setting).")
@click.option("--access-log/--no-access-log", default=True, help="Log each request to stderr.")
@click.option("--backend", type=click.Choice(["embedded", "virtuoso"]), default=None,
              help="Where queries run (default: the backend setting).")
@click.option("--endpoint", default=None, help="SPARQL endpoint URL of --backend virtuoso.")
@click.option("--allow-invalid", is_flag=True, default=None,
              help="Serve data that does not conform to the shapes (refused by default, with the report; exit 1).")
@click.pass_obj
def serve(obj: Context, host: str, port: int, workers: int | None, access_log: bool, backend: str | None,
          endpoint: str | None, allow_invalid: bool | None) -> None:
    """Serve the SPARQL endpoint and web UI with granian (a production HTTP server).

    \b
    The store is built once, then shared by the forked workers.
    Examples:
      cowkg serve
      cowkg serve --host 0.0.0.0 --port 8080 --workers 4
      cowkg serve --backend virtuoso --endpoint http://127.0.0.1:8890/sparql
      cowkg serve --allow-invalid        # serve data that fails SHACL (curators only)
      curl 'http://127.0.0.1:8000/sparql?query=ASK%7B%7D'
      curl 'http://127.0.0.1:8000/health'    # triples per graph, release, confinement
    """
    from .load import default_layout, require_graph
    from .web import create_app
    from .web.server import check_port, run_server

    try:
        require_graph(obj.root, default_layout(obj.root))  # over Virtuoso too: the UI reads queries/ there
        check_port(host, port)
        app = create_app({"root": str(obj.root), "backend": backend, "endpoint": endpoint,
                          "allow_invalid": allow_invalid})
        run_server(app, host, port, workers or obj.settings["workers"], access_log)
    except CowkgError as exc:
        fail(exc)


from .cli_reconcile import reconcile  # noqa: E402  (registered here so `cowkg --help` lists it)

main.add_command(reconcile)

from .cli_virtuoso import virtuoso_group  # noqa: E402

main.add_command(virtuoso_group)

