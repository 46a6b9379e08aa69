"""``cowkg reconcile``: Wikidata candidates → a review file → accepted links → re-verification.

Thin click wrappers over ``cowkg.wikidata``. Exit codes as elsewhere: 0 done / all links
verified, 1 a link failed its check, 2 bad input (unknown class, malformed review file, refused
rows), 4 Wikidata unreachable with nothing usable in the cache. A failure never leaves a
half-written review or links file.
"""

from __future__ import annotations

import json
import sys

import click

from ..errors import CowkgError
from .base import Context
from .progress import TerminalProgress

EPILOG = """\b
Examples:
  cowkg reconcile --class Person -o people.tsv      # candidates for every unlinked person
  cowkg reconcile --entity house-of-lords            # one entity (slug under /id/)
  cowkg reconcile accept people.tsv --by "A. Reviewer"
  cowkg reconcile check                              # re-verify every owl:sameAs link
  COWKG_WIKIDATA_API=http://127.0.0.1:8800/w/api.php cowkg reconcile check   # another Wikibase / replay
"""


def _client(obj: Context, offline: bool):
    from ..wikidata.client import WikidataClient

    return WikidataClient.from_settings(obj.settings, offline=offline)


def _notices(notices: list[str]) -> None:
    for n in notices:
        click.echo(f"note: {n}", err=True)


@click.group("reconcile", invoke_without_command=True, epilog=EPILOG)
@click.option("--class", "classes", multiple=True, metavar="CLASS",
              help="cowkg class to reconcile, subclasses included (repeatable; default: all linkable classes).")
@click.option("--entity", "slugs", multiple=True, metavar="SLUG", help="Reconcile this entity only (repeatable).")
@click.option("-o", "--output", default="reconcile-review.tsv", show_default=True, type=click.Path(dir_okay=False),
              help="The review file to write (TSV).")
@click.option("--candidates", default=3, show_default=True, type=click.IntRange(1, 10),
              help="Candidates listed per entity.")
@click.option("--include-linked", is_flag=True, help="Also entities that already have a Wikidata link.")
@click.option("--offline", is_flag=True, help="Use cached Wikidata answers only; never touch the network.")
@click.pass_context
def reconcile(ctx: click.Context, classes: tuple[str, ...], slugs: tuple[str, ...], output: str, candidates: int,
              include_linked: bool, offline: bool) -> None:
    """Search Wikidata for cowkg entities and write a review file; nothing is linked yet.

    Each candidate is scored by label similarity and by agreement of facts (P31 type, P17/P27
    country, dates, P39 positions, P625 coordinates); conflicting candidates are flagged.
    Mark the right rows 'yes' in the accept column, then run `cowkg reconcile accept FILE`.
    """
    if ctx.invoked_subcommand:
        return
    from ..wikidata.reconcile import reconcile as run
    from ..wikidata.reconcile import write_review

    obj: Context = ctx.obj
    client = _client(obj, offline)
    try:
        with TerminalProgress() as progress:
            review = run(obj.backend(with_inference=False), client, classes=classes or None, slugs=slugs or None,
                         include_linked=include_linked, per_entity=candidates, progress=progress)
        write_review(review, output, source=client.api_url)
    except CowkgError:
        _notices(client.notices)
        raise
    _notices(review.notices)
    click.echo(review_summary(review, output), err=True)


def review_summary(review, output: str) -> str:
    verdicts = [r.verdict for r in review.rows if r.rank <= 1]
    return (f"wrote {output}: {review.entities} entities, {len(review.rows)} candidate rows "
            f"({verdicts.count('strong')} strong, {verdicts.count('conflict')} top candidates in conflict, "
            f"{verdicts.count('no-candidate')} without candidates)")


@reconcile.command("accept")
@click.argument("review_file", type=click.Path(dir_okay=False))
@click.option("--by", help="Who accepts (recorded as the prov:Agent; default: COWKG_USER or the login name).")
@click.option("--no-verify", is_flag=True, help="Do not re-fetch the accepted QIDs (missing/redirect check).")
@click.option("--allow-conflicts", is_flag=True, help="Accept rows the tool flagged as conflicting.")
@click.option("--offline", is_flag=True, help="Verify from cached Wikidata answers only.")
@click.pass_obj
def accept(obj: Context, review_file: str, by: str | None, no_verify: bool, allow_conflicts: bool,
           offline: bool) -> None:
    """Turn the rows marked 'yes' into owl:sameAs links in data/links-accepted.ttl, with provenance.

    \b
    Exit 2 (nothing written) when a marked row names an unknown entity, a bad QID or a conflict.
    Examples:
      cowkg reconcile --class Person -o people.tsv      # first write the review file, mark rows 'yes'
      cowkg reconcile accept people.tsv --by "A. Reviewer"
      cowkg reconcile accept people.tsv --offline        # verify the QIDs from cached answers only
      cowkg reconcile accept people.tsv --allow-conflicts --by "A. Reviewer"   # after reading the conflicts
    """
    from ..settings import project_paths
    from ..wikidata.links import accept_links
    from ..wikidata.reconcile import read_review

    rows = read_review(review_file)
    result = accept_links(obj.backend(with_inference=False), rows, data_dir=project_paths(obj.root)["data"],
                          client=None if no_verify else _client(obj, offline), review_path=review_file,
                          by=by, allow_conflicts=allow_conflicts)
    _notices(result.notices)
    for s in result.skipped:
        click.echo(f"skipped: {s}", err=True)
    for entity, qid in result.added:
        click.echo(f"linked {entity} owl:sameAs wd:{qid}")
    click.echo(f"{len(result.added)} link(s) written to {result.path}" if result.added else "nothing to add", err=True)


@reconcile.command("check")
@click.option("--reference", type=click.Path(dir_okay=False),
              help="Verified QID table (default: the wikidata_reference setting).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--offline", is_flag=True, help="Check against cached Wikidata answers only.")
@click.pass_obj
def check(obj: Context, reference: str | None, fmt: str, offline: bool) -> None:
    """Re-verify every owl:sameAs link in data/: provenance, exists, not redirected, label, type.

    \b
    Exit 1 when any link fails, 4 when Wikidata is unreachable and the cache lacks an answer.
    Examples:
      cowkg reconcile check
      cowkg reconcile check --offline                     # from cached answers, after one online run
      cowkg reconcile check --format json | jq '.links[] | select(.ok | not)'
      cowkg reconcile check --reference ../shared/reference/wikidata-qids.tsv
    """
    from ..wikidata.links import check_links, read_reference

    verified = read_reference(reference or obj.settings["wikidata_reference"])
    report = check_links(obj.backend(with_inference=False), _client(obj, offline), verified)
    _notices(report.notices)
    if fmt == "json":
        click.echo(json.dumps({"links": [c.as_dict() for c in report.links], "failures": len(report.failures),
                               "notices": report.notices}, indent=2, ensure_ascii=False))
    else:
        click.echo(check_table(report))
    sys.exit(1 if report.failures else 0)


def check_table(report) -> str:
    lines = []
    for c in report.links:
        status = "ok  " if c.ok else "FAIL"
        lines.append(f"{status} {c.entity} = {c.qid} {c.wikidata_label!r} [{c.provenance or 'no provenance'}] "
                     f"{c.where}")
        lines += [f"       problem: {p}" for p in c.problems]
    lines.append(f"{len(report.links)} links checked: {len(report.links) - len(report.failures)} ok, "
                 f"{len(report.failures)} failing")
    return "\n".join(lines)




def refuse_with_quickstatements(options: dict[str, object]) -> None:
    """Refuse (usage error, exit 2) the export options QuickStatements cannot honour, rather than
    ignore them: it always covers every fact about linked entities, from the asserted graphs."""
    given = [name for name, value in options.items() if value]
    if given:
        raise click.UsageError(f"{', '.join(given)} cannot be used with --format quickstatements: it exports "
                               "every fact about linked entities, from the asserted graphs only")


def export_quickstatements(obj: Context, output: str | None, offline: bool = False, csv: bool = False) -> None:
    """``cowkg export --format quickstatements[-csv]``: commands for facts Wikidata lacks, with their
    qualifiers and references, V1 or CSV, written atomically.

    Exit 4 (nothing written) when Wikidata cannot be reached and the cache lacks an answer.
    """
    from ..files import write_atomically
    from ..quickstatements import export_quickstatements as run

    client = _client(obj, offline)
    try:
        result = run(obj.backend(with_inference=False), client)
    except CowkgError:
        _notices(client.notices)
        raise
    _notices(result.notices)
    content = result.as_bytes("csv" if csv else "v1")
    if output:
        write_atomically(output, content)
        click.echo(f"wrote {output} ({len(result.lines)} statements, {len(result.skipped)} left out)", err=True)
    else:
        sys.stdout.buffer.write(content)
        click.echo(f"{len(result.lines)} statements, {len(result.skipped)} left out", err=True)
