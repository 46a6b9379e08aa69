"""`cowkg export --format quickstatements`: only facts, only what Wikidata lacks, always referenced."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

from cowkg.backends.embedded import run_query
from cowkg.cli import main
from cowkg.errors import BackendUnavailable
from cowkg.load import load_project
from cowkg.quickstatements import export_quickstatements
from cowkg.store import build_store

from .conftest import FIXTURES, ROOT
from .replay import entity

REF = '\tS854\t"https://en.wikipedia.org/wiki/Coalition_of_the_willing_(Russo-Ukrainian_war)"' \
      "\tS813\t+2025-12-00T00:00:00Z/10"


# --- a small QuickStatements reader: every command written must parse -----------------------------

VALUE_SYNTAX = {
    "item": re.compile(r"Q[1-9]\d*"),
    "time": re.compile(r"[+-]\d{4,}-(\d{2})-(\d{2})T00:00:00Z/(9|10|11)"),
    "quantity": re.compile(r"[+-]\d+(\.\d+)?(~\d+(\.\d+)?)?(U[1-9]\d*)?"),
    "string": re.compile(r'"[^"\t|]*"'),
    "monolingual": re.compile(r'[a-z]{2,3}(-[a-z0-9]+)*:"[^"\t|]*"'),
    "globe": re.compile(r"@-?\d+(\.\d+)?/-?\d+(\.\d+)?"),
}
#: The datatype of each property the export may write (Wikidata's, as the view's table declares them).
KINDS = {"WikibaseItem": "item", "Time": "time", "Quantity": "quantity", "String": "string", "Url": "string",
         "Monolingualtext": "monolingual", "GlobeCoordinate": "globe"}


def property_kinds(kg) -> dict[str, str]:
    rows = run_query(kg, "SELECT ?p ?t WHERE { GRAPH cowg:wikibase { ?p a wikibase:Property ; "
                         "wikibase:propertyType ?t } }").records()
    return {r["p"].value.rsplit("/", 1)[-1]: KINDS[r["t"].value.rsplit("#", 1)[-1]] for r in rows}


def parse_value(kind: str, text: str) -> str:
    """``text`` checked against QuickStatements' syntax for ``kind``; a time's zeroed parts must fit
    its precision (+2025-12-00…/10, never +2025-12-00…/11)."""
    m = VALUE_SYNTAX[kind].fullmatch(text)
    assert m, f"not a QuickStatements {kind}: {text!r}"
    if kind == "time":
        month, day, precision = m.group(1), m.group(2), int(m.group(3))
        assert (month == "00") == (precision < 10) and (day == "00") == (precision < 11), text
    return text


def read_v1(text: str, kinds: dict[str, str]) -> list[tuple]:
    """V1 commands → (item, property, value, qualifiers, sources), each part checked."""
    out = []
    for line in text.splitlines():
        parts = line.split("\t")
        assert len(parts) >= 3 and len(parts) % 2 == 1, line
        item, pid, value = parts[:3]
        assert VALUE_SYNTAX["item"].fullmatch(item) and re.fullmatch(r"P[1-9]\d*", pid), line
        parse_value(kinds[pid], value)
        quals, sources = [], []
        for key, val in zip(parts[3::2], parts[4::2], strict=True):
            m = re.fullmatch(r"([PS])([1-9]\d*)", key)
            assert m, f"{key!r} is neither a qualifier (P…) nor a source (S…) in {line!r}"
            parse_value(kinds["P" + m.group(2)], val)
            if m.group(1) == "P":
                assert not sources, f"a qualifier after a source: {line!r}"
                quals.append((key, val))
            else:
                sources.append(("P" + m.group(2), val))
        out.append((item, pid, value, tuple(quals), tuple(sources)))
    return out


def read_csv(text: str, kinds: dict[str, str]) -> list[tuple]:
    """The CSV format → the same tuples: a qal/S column belongs to the statement column left of it."""
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    assert header[0] == "qid"
    for col in header[1:]:
        assert re.fullmatch(r"(P|qal|S)[1-9]\d*", col), col
    out = []
    for row in rows[1:]:
        assert len(row) == len(header)
        current = None
        for col, cell in zip(header[1:], row[1:], strict=True):
            if col.startswith("P"):
                if current and current[2]:
                    out.append(current)
                current = [row[0], col, cell, [], []]
                if cell:
                    parse_value(kinds[col], cell)
            elif cell:
                assert current and current[2], f"{col} without its statement in {row}"
                pid = "P" + col.removeprefix("qal").removeprefix("S")
                parse_value(kinds[pid], cell)
                (current[3] if col.startswith("qal") else current[4]).append((pid, cell))
        if current and current[2]:
            out.append(current)
    return [(i, p, v, tuple(q), tuple(s)) for i, p, v, q, s in out]


@pytest.fixture(scope="module")
def qs_kg():
    return build_store(load_project(ROOT, data=[FIXTURES / "quickstatements.ttl"]))


@pytest.fixture()
def world(replay):
    for qid, label in (("Q9900010", "Coalition of the Willing"), ("Q183", "Germany (stand-in)"),
                       ("Q9900011", "Claimed city"), ("Q9900012", "Harbour"), ("Q9900013", "A Person"),
                       ("Q9900014", "Chief of the Harbour")):
        replay.add_entity(entity(qid, label))
    replay.add_entity(entity("Q148", "People's Republic of China (stand-in)"))
    return replay


def test_lines_are_facts_wikidata_lacks_with_qualifiers_and_references(qs_kg, world, wd):
    result = export_quickstatements(qs_kg, wd)
    assert result.lines == [
        "Q142\tP463\tQ9900010" + REF,                         # France's membership record is a fact
        "Q9900010\tP571\t+2025-03-02T00:00:00Z/11" + REF,      # founding date
        "Q9900010\tP1813\ten:\"CoW\"" + REF,                   # short name, monolingual text
        "Q9900013\tP39\tQ9900014\tP585\t+2025-03-02T00:00:00Z/11\tP1932\t\"Chief\"" + REF + '\tS958\t"[40]"',
    ]
    skipped = "\n".join(result.skipped)
    assert "Q8646 P17 Q148: already on Wikidata" in skipped          # Hong Kong's country (recorded sample)
    assert "Q8646 P571 +1997-07-01T00:00:00Z/11: already on Wikidata" in skipped
    assert "the value has no Wikidata link" in skipped                # the harbour's unlinked country
    assert "Q9900010 P2124 +35: its qualifier P459 cannot be written" in skipped  # what it counts is cowkg's


def test_every_command_parses_in_both_formats_and_they_agree(qs_kg, world, wd):
    result = export_quickstatements(qs_kg, wd)
    kinds = property_kinds(qs_kg)
    v1 = read_v1(result.as_bytes().decode(), kinds)
    assert v1 == read_csv(result.as_bytes("csv").decode(), kinds)
    assert len(v1) == len(result.lines) == 4
    assert all(("P854", '"https://en.wikipedia.org/wiki/Coalition_of_the_willing_(Russo-Ukrainian_war)"') in s
               for *_, s in v1)
    header = result.csv().splitlines()[0]
    assert header.startswith("qid,P463,S854,S813,") and ",P39,qal585,qal1932,S854,S813,S958" in header


def test_plans_claims_and_peoples_countries_are_never_exported(qs_kg, world, wd):
    text = export_quickstatements(qs_kg, wd).as_bytes().decode()
    assert "Q183\tP463" not in text        # Germany's membership is a plan
    assert "Q9900011" not in text          # the city only a claim places in France
    assert "Q9900013\tP27" not in text and "Q9900013\tP17" not in text   # a person's country is not stated


def test_the_shipped_graph_exports_commands_that_parse_against_the_recorded_france(kg, replay, make_client, shared):
    """The real graph against the replay world: France is Wikidata's recorded entity (Q142), every
    other verified QID a stand-in with its label. Nothing about an unverified or missing item, no
    plan, claim or report, every command referenced and well formed."""
    with (shared / "reference" / "wikidata-qids.tsv").open(encoding="utf-8") as fh:
        verified = {r["qid"]: r["label"] for r in csv.DictReader(fh, delimiter="\t") if r["status"] == "verified"}
    for qid, label in verified.items():
        if qid not in replay.entities:
            replay.add_entity(entity(qid, label))
    result = export_quickstatements(kg, make_client())
    kinds = property_kinds(kg)
    commands = read_v1(result.as_bytes().decode(), kinds)
    assert commands == read_csv(result.as_bytes("csv").decode(), kinds)
    assert len(commands) >= 20
    assert {item for item, *_ in commands} <= set(verified)
    assert ("Q6383803", "P39", "Q14211") in {c[:3] for c in commands}
    starmer = next(c for c in commands if c[:3] == ("Q6383803", "P39", "Q14211"))
    assert ("P585", "+2025-03-02T00:00:00Z/11") in starmer[3] and ("P958", '"[40]"') in starmer[4]
    text = result.as_bytes().decode()
    assert "P5102" not in text and "Q15860072\tP2047" not in text   # the war's duration needs a unit item
    skipped = "\n".join(result.skipped)
    assert "P2047 needs a unit item" in skipped


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
    assert out.read_text().count("\tS854\t") == 4
    csv_out = tmp_path / "facts.csv"
    res = CliRunner().invoke(main, ["--root", str(project), "export", "--format", "quickstatements-csv",
                                    "-o", str(csv_out)], env=env)
    assert res.exit_code == 0, res.output
    assert csv_out.read_text().startswith("qid,") and csv_out.read_text().count("\n") == 5
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
