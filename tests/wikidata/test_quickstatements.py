"""`cowkg export --format quickstatements`: only facts, only what Wikidata lacks, always referenced."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cowkg.cli import main
from cowkg.errors import BackendUnavailable
from cowkg.load import load_project
from cowkg.quickstatements import export_quickstatements
from cowkg.store import build_store

from .conftest import FIXTURES, ROOT
from .replay import entity

REF = '\tS854\t"https://en.wikipedia.org/wiki/Coalition_of_the_willing_(Russo-Ukrainian_war)"' \
      "\tS813\t+2025-12-00T00:00:00Z/10"


@pytest.fixture(scope="module")
def qs_kg():
    return build_store(load_project(ROOT, data=[FIXTURES / "quickstatements.ttl"]))


@pytest.fixture()
def world(replay):
    for qid, label in (("Q9900010", "Coalition of the Willing"), ("Q183", "Germany (stand-in)"),
                       ("Q9900011", "Claimed city"), ("Q9900012", "Harbour"), ("Q9900013", "A Person")):
        replay.add_entity(entity(qid, label))
    replay.add_entity(entity("Q148", "People's Republic of China (stand-in)"))
    return replay


def test_lines_are_facts_wikidata_lacks_with_references(qs_kg, world, wd):
    result = export_quickstatements(qs_kg, wd)
    assert result.lines == [
        "Q142\tP463\tQ9900010" + REF,                         # France's membership record is a fact
        "Q9900010\tP571\t+2025-03-02T00:00:00Z/11" + REF,      # founding date
        "Q9900010\tP1813\ten:\"CoW\"" + REF,                   # short name, monolingual text
    ]
    skipped = "\n".join(result.skipped)
    assert "Q8646 P17 Q148: already on Wikidata" in skipped          # Hong Kong's country (recorded sample)
    assert "Q8646 P571 +1997-07-01T00:00:00Z/11: already on Wikidata" in skipped
    assert "the value has no Wikidata link" in skipped                # the harbour's unlinked country


def test_plans_claims_and_peoples_countries_are_never_exported(qs_kg, world, wd):
    text = export_quickstatements(qs_kg, wd).as_bytes().decode()
    assert "Q183\tP463" not in text        # Germany's membership is a plan
    assert "Q9900011" not in text          # the city only a claim places in France
    assert "Q9900013" not in text          # people get P27, which cowkg does not state


def test_redirected_or_missing_subjects_get_nothing(qs_kg, replay, wd):
    replay.add_redirect("Q9900010", "Q42")
    result = export_quickstatements(qs_kg, wd)
    assert not any(line.startswith("Q9900010") for line in result.lines)
    assert any("Q9900010" in s and "redirected to Q42" in s for s in result.skipped)


@pytest.fixture()
def qs_project(tmp_path):
    """A project whose data/ is the QuickStatements fixture (ontology, shapes, queries linked in)."""
    project = tmp_path / "p"
    project.mkdir()
    for name in ("ontology", "shapes", "queries"):
        (project / name).symlink_to(ROOT / name, target_is_directory=True)
    (project / "data").mkdir()
    (project / "data" / "qs.ttl").write_text((FIXTURES / "quickstatements.ttl").read_text())
    return project


def qs_env(world, cache):
    env = {f"COWKG_{k.upper()}": v for k, v in world.settings().items()}
    env.update({"COWKG_WIKIDATA_CACHE_DIR": str(cache), "COWKG_WIKIDATA_RETRIES": "0"})
    return env


def test_cli_writes_the_file_atomically_and_fails_cleanly_offline(world, qs_project, tmp_path):
    project = qs_project
    env = qs_env(world, tmp_path / "cache")
    out = tmp_path / "facts.qs"
    res = CliRunner().invoke(main, ["--root", str(project), "export", "--format", "quickstatements", "-o", str(out)],
                             env=env)
    assert res.exit_code == 0, res.output
    assert out.read_text().count("\tS854\t") == 3
    world.stop()
    env["COWKG_WIKIDATA_CACHE_DIR"] = str(tmp_path / "empty")
    out.write_text("previous\n")
    res = CliRunner().invoke(main, ["--root", str(project), "export", "--format", "quickstatements", "-o", str(out)],
                             env=env)
    assert res.exit_code == 4 and res.output.startswith("error: Wikidata is unreachable")
    assert out.read_text() == "previous\n"


def test_unreachable_wikidata_raises(qs_kg, replay, make_client):
    replay.stop()
    with pytest.raises(BackendUnavailable):
        export_quickstatements(qs_kg, make_client(retries=0))


@pytest.mark.parametrize("given, named", [(["--subject", "cowr:france"], "--subject"),
                                          (["--class", "cow:State"], "--class"),
                                          (["--graph", "data"], "--graph"),
                                          (["--infer"], "--infer"),
                                          (["--framed"], "--framed")])
def test_cli_refuses_options_quickstatements_cannot_honour(world, qs_project, tmp_path, given, named):
    out = tmp_path / "facts.qs"
    res = CliRunner().invoke(main, ["--root", str(qs_project), "export", "--format", "quickstatements",
                                    "-o", str(out), *given], env=qs_env(world, tmp_path / "cache"))
    assert res.exit_code == 2, res.output
    assert f"{named} cannot be used with --format quickstatements" in res.output
    assert not out.exists() and not world.seen


def test_cli_offline_answers_from_the_cache_alone(world, qs_project, tmp_path):
    env = qs_env(world, tmp_path / "cache")
    online, offline = tmp_path / "online.qs", tmp_path / "offline.qs"
    args = ["--root", str(qs_project), "export", "--format", "quickstatements", "-o"]
    assert CliRunner().invoke(main, [*args, str(online)], env=env).exit_code == 0
    seen = len(world.seen)
    res = CliRunner().invoke(main, [*args, str(offline), "--offline"], env=env)
    assert res.exit_code == 0, res.output
    assert offline.read_bytes() == online.read_bytes() and len(world.seen) == seen
    res = CliRunner().invoke(main, [*args, str(offline), "--offline"], env=qs_env(world, tmp_path / "empty"))
    assert res.exit_code == 4 and res.output.startswith("error: offline: ")
    assert "not in the cache" in res.output and len(world.seen) == seen


def test_cli_offline_is_refused_for_formats_that_do_not_ask_wikidata(qs_project):
    res = CliRunner().invoke(main, ["--root", str(qs_project), "export", "--format", "ttl", "--offline"])
    assert res.exit_code == 2 and "--offline only applies to --format quickstatements" in res.output
