"""The CLI: exit codes and outputs of each command on the shipped data and on broken input."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cowkg.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_query_table_lists_classes():
    res = run("query", "SELECT ?c WHERE { ?c a owl:Class } LIMIT 2")
    assert res.exit_code == 0
    assert "(2 rows)" in res.output


def test_query_json_is_sparql_results_json():
    res = run("query", "--format", "json", "ASK { cowr:source-wikipedia-article a cow:Source }")
    assert res.exit_code == 0
    assert json.loads(res.output) == {"head": {}, "boolean": True}


def test_malformed_query_exits_2_with_line_and_column():
    res = run("query", "SELECT * WHERE {\n ?s ?p }")
    assert res.exit_code == 2
    assert "query:2:" in res.output


def test_broken_turtle_exits_2_with_file_line_column(tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text('@prefix ex: <http://e/> .\nex:a ex:b "open .\n')
    res = run("validate", "--data", str(bad))
    assert res.exit_code == 2
    assert f"{bad}:2:" in res.output


def test_export_wikibase_nt_has_wikidata_organiser_of_4_september_meeting(tmp_path):
    import rdflib

    out = tmp_path / "wikibase.nt"
    res = run("export", "--graph", "wikibase", "--format", "nt", "-o", str(out))
    assert res.exit_code == 0
    g = rdflib.Graph().parse(out, format="nt")
    rows = list(g.query("""
        PREFIX wdt: <http://www.wikidata.org/prop/direct/>
        PREFIX wd: <http://www.wikidata.org/entity/>
        SELECT ?m WHERE {
          ?m wdt:P585 ?date ; wdt:P664 wd:Q3052772 . FILTER(STRSTARTS(STR(?date), "2025-09-04T00:00:00"))
        }"""))
    assert rows


def test_reason_reports_inferred_count():
    res = run("reason")
    assert res.exit_code == 0
    assert "triples inferred by" in res.output


def test_reason_counts_the_asserted_triples_as_stats_does():
    """Both count distinct triples per asserted graph (a triple written twice in data/ is one)."""
    import re

    graphs = json.loads(run("stats", "--format", "json").output)["graphs"]
    from cowkg.vocab import ASSERTED_GRAPHS

    asserted = sum(graphs[str(g)] for g in ASSERTED_GRAPHS)  # not the computed inferred and wikibase graphs
    said = re.search(r"from ([\d,]+) asserted triples \(ontology, data and meta graphs", run("reason").output)
    assert said and int(said.group(1).replace(",", "")) == asserted


def test_validate_shipped_data_exits_0():
    res = run("validate")
    assert res.exit_code == 0, res.output
    assert res.output.strip().endswith("conforms")


def test_validate_broken_fixture_exits_1_with_focus_and_line():
    res = run("validate", "--data", "tests/fixtures/broken/plan-with-occurred-date.ttl")
    assert res.exit_code == 1
    assert "plan-with-occurred-date.ttl:" in res.output and "cowr:x cow:date" in res.output


def test_stats_json_lists_graphs_and_classes():
    res = run("stats", "--format", "json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["shacl"]["conforms"] is True
    assert data["classes"]["cow:CoalitionMeeting"] == 14


def test_coverage_is_complete():
    res = run("coverage")
    assert res.exit_code == 0, res.output[-2000:]
    assert "721/721" in res.output


def command_paths(command: click.Command, path: tuple[str, ...] = ()):
    """Every command of the CLI as the words that call it: (), ("query",), ("virtuoso", "up"), ..."""
    yield path
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            yield from command_paths(sub, (*path, name))


COMMANDS = list(command_paths(main))


def example_lines(help_text: str) -> list[str]:
    """The lines of the help's "Examples:" block: those indented deeper than its heading."""
    lines = help_text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == "Examples:":
            indent = len(line) - len(line.lstrip())
            block = []
            for follow in lines[i + 1:]:
                if not follow.strip() or len(follow) - len(follow.lstrip()) <= indent:
                    break
                block.append(follow.strip())
            return block
    return []


def repository_paths(example: str) -> list[str]:
    """Words of an example that name a file or directory of the checkout (tests/..., queries/...).

    Absolute paths, URLs, paths outside the checkout (../shared/...) and output files (-o X) are
    not the repository's.
    """
    try:
        words = shlex.split(example, comments=True)
    except ValueError:
        words = example.split("#", 1)[0].split()
    top = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")}
    named = []
    for before, word in zip(["", *words[:-1]], words, strict=True):
        word = word.split("=", 1)[-1].removeprefix("./")
        if before in ("-o", "--output") or "://" in word or "/" not in word:
            continue
        if word.split("/", 1)[0] in top:
            named.append(word)
    return named


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) or "cowkg" for w in COMMANDS])
def test_every_command_help_shows_an_example_of_itself(words):
    res = run(*words, "--help")
    assert res.exit_code == 0, res.output
    examples = example_lines(res.output)
    assert examples, f"`cowkg {' '.join(words)} --help` has no Examples: block"
    call = " ".join(("cowkg", *words))
    assert any(call in line for line in examples), f"no example calls `{call}`: {examples}"


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(w) or "cowkg" for w in COMMANDS])
def test_every_repository_path_in_an_example_exists(words):
    examples = example_lines(run(*words, "--help").output)
    named = {path for line in examples for path in repository_paths(line)}
    missing = sorted(path for path in named if not (ROOT / path).exists())
    assert not missing, f"`cowkg {' '.join(words)} --help` names files that do not exist: {missing}"


def test_example_paths_are_found_in_examples():
    """The path finder itself: repository paths in, URLs, outputs, comments and outside paths out."""
    line = ("cowkg query --file queries/q01-meetings-by-date.rq --data=tests/fixtures/x.ttl -o data/out.ttl "
            "--endpoint http://127.0.0.1:8890/sparql --dir /tmp/v ../shared/r.tsv   # see docs/VIRTUOSO.md")
    assert repository_paths(line) == ["queries/q01-meetings-by-date.rq", "tests/fixtures/x.ttl"]


def test_export_to_a_file_follows_the_umask_like_dump_and_redirects(tmp_path):
    """``cowkg export -o FILE`` creates FILE with mode 0666 minus the umask (0644 under 022), as
    ``cowkg dump`` and a shell redirect do; the temporary file it renames must not keep mkstemp's 0600."""
    import os
    import stat
    import subprocess

    from cowkg.files import write_atomically

    out = tmp_path / "coalition.ttl"
    cmd = f"umask 027 && {shlex.quote(str(ROOT / '.venv/bin/cowkg'))} export --format ttl " \
          f"--subject https://w3id.org/cowkg/id/coalition -o {shlex.quote(str(out))}"
    subprocess.run(["sh", "-c", cmd], check=True, cwd=ROOT, capture_output=True)
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    previous = os.umask(0o022)
    try:
        write_atomically(tmp_path / "x.nt", b"")
        write_atomically(out, b"")  # replacing a file gives the new file the umask's mode too
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "x.nt").stat().st_mode) == 0o644
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
