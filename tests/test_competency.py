"""Competency questions: every queries/*.rq has a header and its exact expected answer.

Key answers are spelled out here; the full expected table of each query lives in
tests/competency/<query>.csv (regenerate with `python scripts/update_competency.py` after a
reviewed data change, then read the diff).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from cowkg.backends.embedded import run_query
from cowkg.media import by_name

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
LOCAL = [q for q in QUERIES if "SERVICE" not in q.read_text(encoding="utf-8")]
EXPECTED = ROOT / "tests" / "competency"


def needs_inference(sparql: str) -> bool:
    """Queries in Wikidata's vocabulary (wdt:) read the inferred graph; the rest the asserted one."""
    return "wdt:" in sparql


def answer(kg, path: Path) -> list[dict[str, str]]:
    sparql = path.read_text(encoding="utf-8")
    res = run_query(kg, sparql, infer=needs_inference(sparql))
    if res.kind == "boolean":
        return [{"boolean": str(res.boolean).lower()}]
    text = res.serialize(by_name("csv")).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def normalise(rows: list[dict[str, str]]) -> list[tuple]:
    """Rows as sorted tuples; GROUP_CONCAT lists are sorted too (their order is unspecified)."""
    out = []
    for row in rows:
        cells = []
        for key in sorted(row):
            value = row[key]
            if ", " in value or " " in value and all(p.isdigit() for p in value.split(" ")):
                sep = ", " if ", " in value else " "
                value = sep.join(sorted(value.split(sep)))
            cells.append((key, value))
        out.append(tuple(cells))
    return sorted(out)


def test_at_least_25_competency_questions():
    assert len(QUERIES) >= 25


@pytest.mark.parametrize("path", QUERIES, ids=[q.stem for q in QUERIES])
def test_query_has_title_and_description(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# title: ") and len(lines[0]) > 12
    assert lines[1].startswith("# description: ") and lines[1].rstrip().endswith("?")


@pytest.mark.parametrize("path", LOCAL, ids=[q.stem for q in LOCAL])
def test_query_gives_its_expected_answer(kg, path):
    expected_file = EXPECTED / f"{path.stem}.csv"
    assert expected_file.is_file(), f"no expected answer for {path.name}: run scripts/update_competency.py"
    with open(expected_file, encoding="utf-8", newline="") as fh:
        expected = list(csv.DictReader(fh))
    assert normalise(answer(kg, path)) == normalise(expected)


def column(kg, name: str, var: str) -> list[str]:
    return [r[var] for r in answer(kg, ROOT / "queries" / name)]


def test_fourteen_numbered_meetings_from_march_to_december(kg):
    rows = answer(kg, ROOT / "queries" / "q01-meetings-by-date.rq")
    assert [int(r["number"]) for r in rows] == list(range(1, 15))
    assert rows[0]["date"] == "2025-03-02" and rows[-1]["date"] == "2025-12-11"


def test_macron_hosted_or_chaired_four_meetings(kg):
    rows = {r["name"]: (int(r["meetings"]), set(r["numbers"].split())) for r in
            answer(kg, ROOT / "queries" / "q02-who-chaired-what.rq")}
    assert rows["Emmanuel Macron"] == (4, {"3", "8", "11", "13"})
    assert rows["Keir Starmer"] == (3, {"1", "6", "12"})
    assert rows["John Healey"] == rows["Sébastien Lecornu"] == (2, {"4", "10"})


def test_ministerial_meetings_are_4_and_10(kg):
    rows = answer(kg, ROOT / "queries" / "q03-ministerial-vs-leaders.rq")
    assert [r["number"] for r in rows if r["kind"] == "ministerial"] == ["4", "10"]


def test_participant_count_35_only_where_the_table_keeps_it(kg):
    """One way to ask how many took part: count observations of the meeting, table and prose alike."""
    rows = answer(kg, ROOT / "queries" / "q05-participant-counts.rq")
    table = [r["number"] for r in rows if r["countedIn"] == "Meetings table"]
    assert table == ["7", "8", "9", "10", "11", "13"]
    assert {r["participants"] for r in rows if r["number"] in table} == {"35"}
    prose = {r["number"]: (r["participants"], r["unit"]) for r in rows if r["countedIn"] == "History"}
    assert prose == {"1": ("16", "other world leaders"), "2": ("26", "countries")}
    assert {r["number"] for r in rows if r["tableCellLost"] == "true"} == {"1", "2", "3", "4", "5", "6", "12", "14"}


def test_who_took_part_is_one_pattern_hosts_and_speakers_included(kg):
    """Starmer took part in meeting 2 (he held and addressed it): an attendance, like every other."""
    rows = answer(kg, ROOT / "queries" / "q28-who-took-part.rq")
    by_meeting = {}
    for r in rows:
        by_meeting.setdefault(r["number"], set()).add(r["who"] or r["represents"])
    assert {"Keir Starmer", "Emmanuel Macron", "Volodymyr Zelenskyy", "Mark Rutte", "Canada"} <= by_meeting["2"]
    assert {"Keir Starmer", "Emmanuel Macron", "Volodymyr Zelenskyy"} <= by_meeting["1"]
    assert {"António Costa", "Kaja Kallas"} <= by_meeting[""], "blanket attendances sit on the series"


def test_the_documents_of_the_9_december_report_are_reachable_from_it(kg):
    rows = answer(kg, ROOT / "queries" / "q29-documents-named-together.rq")
    assert {r["document"].rsplit("/", 1)[-1] for r in rows} == {
        "doc-20-point-proposal", "doc-reconstruction-plan", "doc-security-guarantee-agreement"}
    assert {r["document"].rsplit("/", 1)[-1] for r in rows if r["alsoIn"]} == {"doc-security-guarantee-agreement"}


def test_a_month_filter_keeps_month_precision_records(kg):
    """Records dated only "2025-11" fall in November 2025 through their interval."""
    rows = answer(kg, ROOT / "queries" / "q30-dated-in-a-month.rq")
    month_only = {r["record"].rsplit("/", 1)[-1] for r in rows if r["value"] == "2025-11"}
    assert {"statement-putin-2025-11-ban-demand", "membership-albania"} <= month_only
    assert all(r["certainty"] == "certainly" for r in rows if r["value"] == "2025-11")
    timeline = {r["item"].rsplit("/", 1)[-1] for r in answer(kg, ROOT / "queries" / "q16-timeline.rq")}
    assert {"event-2025-09-hq-established", "coalition-meeting-series"} <= timeline


def test_states_at_three_plus_meetings_count_hosts_and_attendance_records(kg):
    """Hosts and chairs take part through their leaders, not only states with attendance records."""
    rows = {r["name"]: (int(r["meetings"]), set(r["ways"].split(", "))) for r in
            answer(kg, ROOT / "queries" / "q06-states-three-plus-meetings.rq")}
    assert set(rows) == {"France", "United Kingdom", "Albania", "Montenegro", "Ukraine"}
    assert rows["France"][0] == rows["United Kingdom"][0] == 6
    assert "hosted or chaired by its leader" in rows["France"][1] & rows["United Kingdom"][1]
    assert "its leader's attendance record" in rows["France"][1]
    assert rows["Albania"][0] == 4 and rows["Montenegro"][0] == 3
    assert "attendance record" in rows["Albania"][1] & rows["Montenegro"][1]


def test_albania_attended_four_times(kg):
    rows = answer(kg, ROOT / "queries" / "q07-albania-attendance.rq")
    assert [r["date"] for r in rows] == ["2025-04-10", "2025-09-04", "2025-10-24", "2025-11-25"]
    assert rows[0]["attendeeName"] == "Blerina Abrazhda" and rows[1]["attendeeName"] == "Edi Rama"
    assert rows[2]["attendeeName"] == rows[3]["attendeeName"] == ""  # lost cells stay empty


def test_paris_hq_is_fact_and_kyiv_hq_is_plan(kg):
    rows = {r["hq"].rsplit("/", 1)[-1]: r for r in answer(kg, ROOT / "queries" / "q11-headquarters.rq")}
    assert rows["hq-paris"]["status"] == "fact" and rows["hq-paris"]["inaugurated"] == "2025-11-17"
    assert rows["hq-kyiv"]["status"] == "plan" and rows["hq-kyiv"]["site"] == ""


def test_new_zealand_missed_meetings_3_and_4(kg):
    rows = answer(kg, ROOT / "queries" / "q17-new-zealand-australia.rq")
    assert {(r["stateName"], r["number"]) for r in rows} >= {("New Zealand", "3"), ("New Zealand", "4"),
                                                            ("Australia", "4")}


def test_wikidata_view_names_macron_for_the_4_september_meeting(kg):
    rows = answer(kg, ROOT / "queries" / "q19-wikidata-view.rq")
    assert any(r["date"] == "2025-09-04T00:00:00Z" and r["organiser"] == "http://www.wikidata.org/entity/Q3052772"
               for r in rows)
