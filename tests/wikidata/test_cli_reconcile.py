"""`cowkg reconcile`, `accept` and `check` end to end: exit codes, messages, no half-done files."""

from __future__ import annotations

import csv

import pytest
from click.testing import CliRunner

from cowkg.cli import main
from cowkg.wikidata.links import LINKS_FILE

from .conftest import ROOT
from .replay import entity, item_claim

#: P31 given to stand-ins for the verified table's kinds (the samples hold no entity for most QIDs).
STAND_IN_P31 = {"country": "Q3624078", "person": "Q5", "place": "Q2221906", "organisation": "Q43229",
                "event": "Q1190554", "document": "Q49848", "position": "Q4164871", "language": "Q34770"}


def env_for(replay, tmp_path, **extra):
    env = {f"COWKG_{k.upper()}": v for k, v in replay.settings().items()}
    env.update({"COWKG_WIKIDATA_CACHE_DIR": str(tmp_path / "wd-cache"), "COWKG_WIKIDATA_RETRIES": "0",
                "COWKG_USER": "cli-tester"})
    env.update({f"COWKG_{k.upper()}": str(v) for k, v in extra.items()})
    return env


def run(env, *args):
    return CliRunner().invoke(main, list(args), env=env)


def stand_ins(world, rows):
    """Stand-in items for verified QIDs: the table's label and a P31 for its kind. Not Wikidata's data."""
    for row in rows:
        if row["qid"] not in world.entities:
            world.add_entity(entity(row["qid"], row["label"], aliases=row.get("aliases", ()),
                                    claims={"P31": [item_claim("P31", STAND_IN_P31[row["kind"]])]}))


@pytest.fixture()
def fixture_world(namesakes):
    stand_ins(namesakes, [{"qid": "Q148", "label": "People's Republic of China", "kind": "country",
                           "aliases": ["China"]},
                          {"qid": "Q145", "label": "United Kingdom", "kind": "country"}])
    return namesakes


@pytest.fixture()
def reference(tmp_path):
    path = tmp_path / "qids.tsv"
    path.write_text("label\tkind\tqid\tstatus\tevidence\nChina\tcountry\tQ148\tverified\ttest\n"
                    "United Kingdom\tcountry\tQ145\tverified\ttest\nLondon\tplace\t\tunverified\t\n")
    return path


def test_reconcile_accept_check_round_trip(project, fixture_world, reference, tmp_path):
    env = env_for(fixture_world, tmp_path)
    review = tmp_path / "review.tsv"
    res = run(env, "--root", str(project), "reconcile", "--class", "Place", "-o", str(review))
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and review.exists()
    text = review.read_text().replace("\tQ8646\t", "\tQ8646\t", 1)
    lines = [line + ("yes" if "\tQ8646\t" in line else "") for line in text.splitlines()]
    review.write_text("\n".join(lines) + "\n")
    res = run(env, "--root", str(project), "reconcile", "accept", str(review))
    assert res.exit_code == 0, res.output
    assert "linked cowr:hong-kong owl:sameAs wd:Q8646" in res.output
    links = (project / "data" / LINKS_FILE).read_text()
    assert "cli-tester" in links
    res = run(env, "--root", str(project), "reconcile", "check", "--reference", str(reference))
    assert res.exit_code == 0, res.output
    assert "3 links checked: 3 ok, 0 failing" in res.output
    assert "[accepted]" in res.output and "[verified]" in res.output


def test_check_fails_with_exit_1_on_a_bad_link(project, fixture_world, reference, tmp_path):
    (project / "data" / "bad.ttl").write_text(
        "@prefix cowr: <https://w3id.org/cowkg/id/> .\n@prefix owl: <http://www.w3.org/2002/07/owl#> .\n"
        "@prefix wd: <http://www.wikidata.org/entity/> .\ncowr:kangnam owl:sameAs wd:Q16231742 .\n")
    res = run(env_for(fixture_world, tmp_path), "--root", str(project), "reconcile", "check", "--reference",
              str(reference), "--format", "json")
    assert res.exit_code == 1
    assert '"failures": 1' in res.output and "redirects to Q3571994" in res.output


@pytest.mark.parametrize("command", ["reconcile", "check"])
def test_unreachable_wikidata_exits_4_with_a_clear_message(project, replay, reference, tmp_path, command):
    env = env_for(replay, tmp_path)
    replay.stop()
    out = tmp_path / "out.tsv"
    args = ["reconcile", "--class", "State", "-o", str(out)] if command == "reconcile" else \
        ["reconcile", "check", "--reference", str(reference)]
    res = run(env, "--root", str(project), *args)
    assert res.exit_code == 4, res.output
    assert res.output.startswith("error: Wikidata is unreachable: connection failed")
    assert "Traceback" not in res.output and isinstance(res.exception, SystemExit)
    assert not out.exists()


def test_wikidata_failing_mid_run_leaves_the_old_review_file_untouched(project, replay, tmp_path):
    review = tmp_path / "review.tsv"
    review.write_text("the previous review\n")
    replay.fail("/w/api.php", 502, action="wbgetentities", times=100)  # searches work, fetching fails
    res = run(env_for(replay, tmp_path), "--root", str(project), "reconcile", "--class", "State", "-o", str(review))
    assert res.exit_code == 4, res.output
    assert replay.api_calls("wbsearchentities"), "the run got half-way before failing"
    assert "HTTP 502" in res.output
    assert review.read_text() == "the previous review\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".review.tsv")]


def test_accept_with_wikidata_unreachable_writes_nothing(project, fixture_world, tmp_path):
    env = env_for(fixture_world, tmp_path)
    review = tmp_path / "review.tsv"
    assert run(env, "--root", str(project), "reconcile", "--class", "City", "-o", str(review)).exit_code == 0
    review.write_text("\n".join(line + ("yes" if "\tQ8646\t" in line else "")
                                for line in review.read_text().splitlines()) + "\n")
    fixture_world.stop()
    env["COWKG_WIKIDATA_CACHE_DIR"] = str(tmp_path / "empty-cache")
    res = run(env, "--root", str(project), "reconcile", "accept", str(review))
    assert res.exit_code == 4 and res.output.startswith("error: Wikidata is unreachable")
    assert not (project / "data" / LINKS_FILE).exists()


def test_accept_refusal_exits_2_and_lists_every_problem(project, fixture_world, tmp_path):
    review = tmp_path / "review.tsv"
    review.write_text("entity\tqid\taccept\ncowr:atlantis\tQ1\tyes\ncowr:france\tnonsense\tyes\n")
    res = run(env_for(fixture_world, tmp_path), "--root", str(project), "reconcile", "accept", str(review))
    assert res.exit_code == 2
    assert "'nonsense' is not a Wikidata item ID" in res.output and "no such entity: atlantis" in res.output
    assert "nothing was written" in res.output


def test_unknown_class_exits_2(project, replay, tmp_path):
    res = run(env_for(replay, tmp_path), "--root", str(project), "reconcile", "--class", "Unicorn")
    assert res.exit_code == 2 and "unknown class: Unicorn" in res.output


def test_shipped_links_pass_check_against_the_replay_set(shared, replay, tmp_path):
    """Acceptance: every owl:sameAs link in data/ is verified or accepted, and `check` passes.

    The replay world holds the recorded samples plus stand-ins for the verified table's QIDs
    (label and a P31 for the kind; the samples lack entity data for them), so this exercises
    provenance, labels, types, redirects and deletions offline; a real check needs the network.
    """
    table = shared / "reference" / "wikidata-qids.tsv"
    with table.open(encoding="utf-8") as fh:
        stand_ins(replay, [r for r in csv.DictReader(fh, delimiter="\t") if r["status"] == "verified" and r["qid"]])
    res = run(env_for(replay, tmp_path), "--root", str(ROOT), "reconcile", "check", "--reference", str(table))
    assert res.exit_code == 0, res.output
    assert ", 0 failing" in res.output


def help_examples(*command: str) -> list[list[str]]:
    """The command lines of the "Examples:" block of ``cowkg <command> --help``, without comments."""
    import shlex

    res = CliRunner().invoke(main, [*command, "--help"])
    assert res.exit_code == 0, res.output
    assert "Examples:" in res.output, f"cowkg {' '.join(command)} --help shows no examples"
    block = res.output.split("Examples:", 1)[1].split("\n\n", 1)[0]
    lines = [shlex.split(line.split("  #", 1)[0].split(" | ", 1)[0]) for line in block.splitlines() if line.strip()]
    return [words for words in lines if words[0] == "cowkg"]


@pytest.mark.parametrize("command", [["reconcile", "accept"], ["reconcile", "check"]])
def test_subcommand_help_shows_examples_that_parse(command):
    examples = [words for words in help_examples(*command) if words[1:3] == command]
    assert len(examples) >= 2
    for words in examples:  # an unknown option fails parsing (exit 2) before --help is answered
        res = CliRunner().invoke(main, [*words[1:], "--help"])
        assert res.exit_code == 0, f"{' '.join(words)}: {res.output}"
