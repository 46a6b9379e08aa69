"""Reconciliation on the replay set: the right candidate first, conflicting namesakes flagged."""

from __future__ import annotations

import pytest

from cowkg.errors import BackendUnavailable, InputError
from cowkg.load import load_project
from cowkg.store import build_store
from cowkg.wikidata.reconcile import read_review, reconcile, review_tsv, write_review
from cowkg.wikidata.scoring import normalise, similarity

from .conftest import FIXTURES, ROOT
from .replay import entity, item_claim, time_claim


def rows_for(review, slug):
    return [r for r in review.rows if r.entity == f"cowr:{slug}"]


@pytest.fixture()
def review(fixture_kg, namesakes, wd):
    return reconcile(fixture_kg, wd, classes=["State", "Place", "Person"])


def test_linked_entities_are_skipped_unless_asked(review, fixture_kg, wd):
    assert not rows_for(review, "china") and not rows_for(review, "united-kingdom")
    again = reconcile(fixture_kg, wd, slugs=["china"], include_linked=True)
    assert {r.entity for r in again.rows} == {"cowr:china"}


def test_state_ranks_the_sovereign_state_first_and_flags_the_given_name(review):
    first, second = rows_for(review, "france")[:2]
    assert (first.qid, first.verdict) == ("Q142", "strong")
    assert any("P31" in m and "Q3624078" in m for m in first.matched)
    assert second.qid == "Q9900001" and second.verdict == "conflict"
    assert any("given name (Q202444)" in c for c in second.conflicted)


def test_person_ranks_the_living_office_holder_first_and_flags_the_dead_namesake(review):
    rows = rows_for(review, "douglas-adams")
    assert [r.qid for r in rows] == ["Q9900002", "Q42"]
    living, dead = rows
    assert living.verdict == "strong" and living.score == 100.0
    assert any(m.startswith("P39 Minister for Hitchhiking (2024-07-05–)") and "held on 2025-03-02" in m
               for m in living.matched)
    assert any(m.startswith("P27") for m in living.matched)
    assert dead.verdict == "conflict"
    assert any("P570 died 2001-05-11, before cowkg shows them active (2025-03-02)" in c for c in dead.conflicted)


def _minister_namesake(replay, qid: str, start: str | None) -> None:
    """A living British "Douglas Adams" who holds Minister for Hitchhiking from ``start`` (undated when None)."""
    qualifiers = {"P580": [time_claim("P580", start)["mainsnak"]]} if start else None
    p39 = dict(item_claim("P39", "Q9900003"), **({"qualifiers": qualifiers} if qualifiers else {}))
    replay.add_entity(entity(qid, "Douglas Adams", "British politician (synthetic test item)", claims={
        "P31": [item_claim("P31", "Q5")], "P27": [item_claim("P27", "Q145")],
        "P569": [time_claim("P569", "1970-01-01")], "P39": [p39]}))
    replay.add_entity(entity("Q9900003", "Minister for Hitchhiking", "position (synthetic test item)"))


def test_position_held_only_after_the_cowkg_date_is_conflicting_evidence(fixture_kg, replay, wd):
    _minister_namesake(replay, "Q9900006", start="2030-01-01")
    row = next(r for r in reconcile(fixture_kg, wd, slugs=["douglas-adams"]).rows if r.qid == "Q9900006")
    assert row.verdict != "strong"
    assert not any(m.startswith("P39") for m in row.matched)
    assert any(c.startswith("P39 Minister for Hitchhiking (2030-01-01–)") and "not held on 2025-03-02" in c
               for c in row.conflicted)


def test_position_without_dates_stays_weak_matching_evidence(fixture_kg, replay, wd):
    _minister_namesake(replay, "Q9900006", start=None)
    row = next(r for r in reconcile(fixture_kg, wd, slugs=["douglas-adams"]).rows if r.qid == "Q9900006")
    assert any(m.startswith("P39 Minister for Hitchhiking ~ 'Minister for Hitchhiking'") for m in row.matched)
    assert not any("held on" in m for m in row.matched)
    assert not any(c.startswith("P39") for c in row.conflicted)


def test_city_matches_on_type_country_and_coordinates(review):
    rows = rows_for(review, "hong-kong")
    assert rows[0].qid == "Q8646" and rows[0].verdict == "strong"
    matched = " | ".join(rows[0].matched)
    assert "city (Q515)" in matched or "Q515" in matched
    assert "P17" in matched and "Q148" in matched and "P625" in matched
    harbour = next(r for r in rows if r.qid == "Q9900005")
    assert harbour.verdict == "conflict" and any("P625" in c and "km" in c for c in harbour.conflicted)
    film = next(r for r in rows if r.qid == "Q9900004")
    assert film.score < rows[0].score and film.verdict == "weak"


def test_city_coordinates_are_read_from_its_schema_geo_node(namesakes, wd, tmp_path):
    """The shipped data gives a place's position as schema:geo → schema:GeoCoordinates (data/geo.ttl):
    the reconciler scores P625 against that node, as it does against a wdt:P625 literal."""
    position = """
cowr:geo-hong-kong a schema:GeoCoordinates ; rdfs:label "Display position of Hong Kong"@en ;
    schema:latitude 22.28 ; schema:longitude 114.17 ; prov:wasDerivedFrom cowr:source-cowkg-gazetteer .
cowr:source-cowkg-gazetteer a cow:Source ; rdfs:label "cowkg gazetteer"@en .
"""
    text = (FIXTURES / "entities.ttl").read_text()
    point = '    wdt:P625 "Point(114.17 22.28)"^^geo:wktLiteral ;\n'
    assert point in text
    text = text.replace(point, "    schema:geo cowr:geo-hong-kong ;\n")
    text = "@prefix schema: <https://schema.org/> .\n" + text + position
    data = tmp_path / "entities-geo.ttl"
    data.write_text(text)
    kg = build_store(load_project(ROOT, data=[data]))
    rows = rows_for(reconcile(kg, wd, slugs=["hong-kong"]), "hong-kong")
    assert rows[0].qid == "Q8646" and any("P625" in m and "km" in m for m in rows[0].matched)
    harbour = next(r for r in rows if r.qid == "Q9900005")
    assert any("P625" in c and "km" in c for c in harbour.conflicted)


def test_redirect_target_found_by_search_is_a_plain_candidate(review):
    rows = rows_for(review, "kangnam")
    assert rows[0].qid == "Q3571994" and any("human (Q5)" in m for m in rows[0].matched)


def test_entity_without_candidates_gets_a_row_saying_so(fixture_kg, replay, wd):
    review = reconcile(fixture_kg, wd, classes=["ResearchOrganisation"])
    assert [(r.entity, r.verdict, r.qid) for r in review.rows] == [("cowr:nowhere-institute", "no-candidate", "")]


def test_unknown_class_or_entity_is_input_error(fixture_kg, wd):
    with pytest.raises(InputError, match="unknown class: Personne"):
        reconcile(fixture_kg, wd, classes=["Personne"])
    with pytest.raises(InputError, match="no such entity: nobody"):
        reconcile(fixture_kg, wd, slugs=["nobody"])


def test_candidates_are_fetched_in_one_batch(review, replay):
    full = [c for c in replay.api_calls("wbgetentities") if "claims" in c.params["props"][0]]
    assert len(full) == 1


def test_review_file_round_trips(review, tmp_path):
    path = tmp_path / "review.tsv"
    write_review(review, path, source="replay")
    text = path.read_text()
    assert text.startswith("# cowkg ") and "\nentity\tlabel\tclass\trank\tqid\t" in text
    rows = read_review(path)
    assert [(r.entity, r.qid, r.verdict, r.score) for r in rows] == \
           [(r.entity, r.qid, r.verdict, r.score) for r in review.rows]
    assert rows[0].matched == review.rows[0].matched and not rows[0].accepted


def test_review_file_cells_never_hold_tabs_or_newlines(review):
    review.rows[0].matched.append("a\tb\nc")
    body = review_tsv(review).decode()
    header_cells = len(body.splitlines()[4].split("\t"))
    assert all(len(line.split("\t")) == header_cells for line in body.splitlines() if not line.startswith("#"))


def test_malformed_review_file_reports_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("entity\tqid\taccept\tscore\ncowr:x\tQ1\tyes\tlots\n")
    with pytest.raises(InputError) as err:
        read_review(bad)
    assert str(err.value).startswith(f"{bad}:2:") or f"{bad}:2" in str(err.value)
    (tmp_path / "nohead.tsv").write_text("a\tb\n")
    with pytest.raises(InputError, match="lacks the column"):
        read_review(tmp_path / "nohead.tsv")


def test_wikidata_going_away_mid_run_raises_and_returns_nothing(fixture_kg, replay, make_client):
    replay.fail("/w/api.php", 502, times=50)
    with pytest.raises(BackendUnavailable):
        reconcile(fixture_kg, make_client(retries=1), classes=["State"])


@pytest.mark.parametrize("a, b, expected", [("Élysée Palace", "Elysee palace", 1.0), ("The Times", "Times", 1.0),
                                            ("Keir Starmer", "Starmer Keir", 0.98), ("Putin", "Vladimir Putin", 0.85),
                                            ("Westminster", "City of Westminster", 0.85)])
def test_similarity(a, b, expected):
    assert similarity(a, b) == expected


def test_normalise_strips_accents_case_and_punctuation():
    assert normalise("  Dovilė Šakalienė!") == "dovile sakaliene"
