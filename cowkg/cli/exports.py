"""``cowkg export | dump``: the graph as files — one export, or a whole release.

Stage: CLI. Thin wrappers over ``cowkg.export`` and ``cowkg.dump`` (QuickStatements, the one export
that asks Wikidata, is ``cowkg.cli.reconcile``'s). Errors rise to ``CowkgGroup`` (cowkg.cli.base).
"""

from __future__ import annotations

import sys

import click

from ..media import EXPORT_FORMATS
from ..vocab import GRAPH_NAMES
from .base import Context

#: The QuickStatements formats of ``cowkg export --format`` (V1 commands, CSV).
QUICKSTATEMENTS_FORMATS = ("quickstatements", "quickstatements-csv")


@click.command()
@click.option("--format", "fmt", type=click.Choice([*EXPORT_FORMATS, *QUICKSTATEMENTS_FORMATS]),
              default="ttl", show_default=True,
              help="quickstatements (V1 commands) or quickstatements-csv: facts Wikidata lacks about linked "
                   "entities, with qualifiers and references (asks Wikidata; see `reconcile`).")
@click.option("--infer", is_flag=True, help="Include the inferred graph (its own named graph in TriG/N-Quads).")
@click.option("--graph", "graphs", multiple=True,
              type=click.Choice(list(GRAPH_NAMES)),
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
    from ..export import export_bytes

    if fmt in QUICKSTATEMENTS_FORMATS:
        from .reconcile import export_quickstatements, refuse_with_quickstatements

        refuse_with_quickstatements({"--infer": infer, "--graph": graphs, "--subject": subjects,
                                     "--class": classes, "--framed": framed})
        export_quickstatements(obj, output, offline, csv=fmt.endswith("-csv"))
        return
    if offline:
        raise click.UsageError("--offline only applies to --format quickstatements(-csv), the one export that asks "
                               "Wikidata")
    content = export_bytes(obj.backend(with_inference=infer or "inferred" in graphs), fmt, infer=infer,
                           graphs=graphs, subjects=subjects, classes=classes, framed=framed)
    write_output(content, output, f"{len(content):,} bytes")


def write_output(content: bytes, output: str | None, summary: str) -> None:
    """``content`` to ``output`` (atomically; the summary on stderr) or to stdout."""
    from ..files import write_atomically

    if output:
        write_atomically(output, content)
        click.echo(f"wrote {output} ({summary})", err=True)
    else:
        sys.stdout.buffer.write(content)


@click.command()
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
    from ..dump import dump_release
    from ..release import release_summary
    from ..vocab import BASE
    from .progress import TerminalProgress

    backend = obj.backend()
    base_url = obj.settings["public_base"].rstrip("/") + "/" if obj.settings["public_base"] else BASE
    with TerminalProgress() as progress:
        done = dump_release(backend, out_dir, release=release, replace=replace, progress=progress, base_url=base_url)
    click.echo(release_summary(done), err=True)
