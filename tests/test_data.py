"""Data hygiene that SHACL cannot express well: labels everywhere, no dangling IRIs, no blank nodes."""

from __future__ import annotations

import re

from cowkg.backends.embedded import run_query


def rows(kg, sparql):
    return run_query(kg, sparql).records()


def test_every_entity_has_an_english_label(kg):
    missing = rows(kg, """
        SELECT DISTINCT ?s WHERE { GRAPH cowg:data { ?s a ?c }
          FILTER(STRSTARTS(STR(?s), STR(cowr:)))
          FILTER NOT EXISTS { ?s rdfs:label ?l FILTER(langMatches(lang(?l), "en")) } }""")
    assert not missing, [r["s"].value for r in missing][:20]


def test_every_referenced_entity_is_defined(kg):
    dangling = rows(kg, """
        SELECT DISTINCT ?o WHERE { GRAPH cowg:data { ?s ?p ?o }
          FILTER(isIRI(?o) && STRSTARTS(STR(?o), STR(cowr:)))
          FILTER NOT EXISTS { ?o a ?type } }""")
    assert not dangling, [r["o"].value for r in dangling]


def test_no_blank_nodes_in_data(kg):
    assert run_query(kg, "ASK { GRAPH cowg:data { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } }").boolean is False


def test_french_and_ukrainian_names_where_the_article_gives_them(kg):
    langs = rows(kg, """SELECT ?s (GROUP_CONCAT(DISTINCT lang(?l); separator=" ") AS ?langs) WHERE {
        VALUES ?s { cowr:coalition cowr:mnf-u } ?s skos:prefLabel|skos:altLabel|rdfs:label ?l } GROUP BY ?s""")
    by = {r["s"].value.rsplit("/", 1)[-1]: set(r["langs"].value.split()) for r in langs}
    assert {"en", "fr"} <= by["coalition"] and "uk" not in by["coalition"]
    assert {"en", "fr", "uk"} <= by["mnf-u"]


def test_plans_and_claims_are_not_stated_as_facts(kg):
    """Japan's membership was announced by Starmer: a statement, not a membership record."""
    assert run_query(kg, "ASK { ?m a cow:CoalitionMembership ; cow:member cowr:japan }").boolean is False
    assert run_query(kg, "ASK { ?m a cow:CoalitionMembership ; cow:member cowr:montenegro }").boolean is False
    assert run_query(kg, "ASK { cowr:hq-kyiv cow:status cowv:plan . FILTER NOT EXISTS { cowr:hq-kyiv cow:site ?x } }"
                     ).boolean is True


def test_every_place_the_map_shows_has_one_position_from_the_gazetteer(kg):
    """Positions are data (data/geo.ttl), queryable like any fact, but never attributed to the article:
    derived from the cowkg gazetteer, with no status and no citation."""
    unplaced = rows(kg, """SELECT ?p WHERE { ?p a ?c . VALUES ?c { cow:Settlement cow:City cow:Region cow:Venue }
        FILTER NOT EXISTS { ?p schema:geo [ schema:latitude ?lat ; schema:longitude ?lon ] } }""")
    assert not unplaced, [r["p"].value for r in unplaced]
    positions = rows(kg, """SELECT ?g (COUNT(?p) AS ?places) WHERE { GRAPH cowg:data { ?g a schema:GeoCoordinates }
        OPTIONAL { ?p schema:geo ?g } } GROUP BY ?g""")
    assert positions and {int(r["places"].value) for r in positions} == {1}, "one place per position"
    wrong = rows(kg, """SELECT DISTINCT ?g WHERE { GRAPH cowg:data { ?g a schema:GeoCoordinates }
        { ?g cow:status ?s } UNION { ?g cow:citation ?c } UNION { ?g prov:wasDerivedFrom cowr:source-wikipedia-article }
        UNION { FILTER NOT EXISTS { ?g prov:wasDerivedFrom cowr:source-cowkg-gazetteer } } }""")
    assert not wrong, [r["g"].value for r in wrong]
    paris = rows(kg, """SELECT ?lat ?lon WHERE {
        cowr:paris schema:geo ?g . ?g schema:latitude ?lat ; schema:longitude ?lon }""")
    assert [(r["lat"].value, r["lon"].value) for r in paris] == [("48.857", "2.352")]
    assert paris[0]["lat"].datatype.value == "http://www.w3.org/2001/XMLSchema#decimal"


MONTHS = {m: i for i, m in enumerate(("january february march april may june july august september october "
                                      "november december").split(), start=1)}
MONTHS.update({m[:3]: i for m, i in list(MONTHS.items())})
DATE_PROPS = ("date", "asOf", "confirmedDate", "startDate", "endDate", "plannedDate", "foundingDate",
              "establishedDate", "inaugurationDate", "memberSince")


def article_lines(shared) -> list[str]:
    return (shared / "seed" / "000_cd87492ed5ae2ee9.txt").read_text(encoding="utf-8").splitlines()


def printed_parts(text: str) -> tuple[set[int], set[int], set[int]]:
    """Days, months and years a printed date names ("between 19 and 21 August" → {19, 21}, {8}, {})."""
    words = re.findall(r"[A-Za-z]+|\d+", text)
    months = {MONTHS[w.lower()] for w in words if w.lower() in MONTHS}
    numbers = [int(w) for w in words if w.isdigit()]
    return {n for n in numbers if 1 <= n <= 31}, months, {n for n in numbers if n > 1000}


def test_every_printed_date_stands_on_its_line_and_means_the_recorded_date(kg, shared):
    """cow:dateAsPrinted is the article's own words on one of the record's lines (or its excerpt's),
    and every date the record gives agrees with one of them in day, month and year as far as they
    are printed: the QC query date-neither-printed-nor-derived only checks that the words are there."""
    lines = article_lines(shared)
    props = " ".join(f"cow:{p}" for p in DATE_PROPS)
    records = rows(kg, f"""SELECT ?s (GROUP_CONCAT(DISTINCT STR(?printed); separator="|") AS ?forms)
        (GROUP_CONCAT(DISTINCT STR(?line); separator=" ") AS ?lines)
        (GROUP_CONCAT(DISTINCT STR(?d); separator=" ") AS ?dates)
        WHERE {{ ?s cow:dateAsPrinted ?printed . VALUES ?p {{ {props} }} ?s ?p ?d .
          {{ ?s cow:sourceLine ?line }} UNION {{ ?s cow:excerpt/cow:sourceLine ?line }} }} GROUP BY ?s""")
    assert len(records) > 150
    wrong = []
    for r in records:
        forms, text = r["forms"].value.split("|"), [lines[int(n) - 1] for n in r["lines"].value.split()]
        missing = [f for f in forms if not any(f in t for t in text)]
        parts = [printed_parts(f) for f in forms]
        for value in r["dates"].value.split():
            y, m, d = ([int(x) for x in value.split("-")] + [0, 0])[:3]
            if not any((not years or y in years) and (not m or m in months)
                       and (not d or d in days) and (d == 0 or days) for days, months, years in parts):
                wrong.append((r["s"].value, value, forms))
        if missing:
            wrong.append((r["s"].value, "not on its lines", missing))
    assert not wrong, wrong


def test_derived_dates_say_how_they_were_worked_out(kg):
    """The statements of lines 127-129, the two attendances there, Starmer's press conference and the
    9 December records are dated from context ("the next day"): derived, with a note, never printed."""
    derived = {r["s"].value.rsplit("/", 1)[-1] for r in rows(kg, """SELECT ?s WHERE {
        ?s cow:dateDerived true ; cow:note ?how . FILTER NOT EXISTS { ?s cow:dateAsPrinted ?p } }""")}
    assert {"statement-starmer-heavy-lifting", "statement-starmer-us-backing", "statement-von-der-leyen-rearm",
            "statement-von-der-leyen-fiscal-rules", "statement-rutte-stepping-up",
            "attendance-ursula-von-der-leyen-meeting-01", "attendance-mark-rutte-meeting-01",
            "doc-starmer-press-conference-2025-03-02", "report-news-agencies-2025-12-09",
            "report-news-agencies-2025-12-09-alignment"} <= derived
    assert run_query(kg, "ASK { cowr:statement-starmer-heavy-lifting cow:deliveredAt ?where }").boolean is False


def test_no_year_the_article_does_not_print_in_what_the_graph_says_it_says(kg, shared):
    """Labels, descriptions, contents, purposes, outcomes and key phrases name only years the article
    prints ("Before the 2022 invasion" was outside knowledge); the project's own notes may reason
    with other years where they say so."""
    article = "\n".join(article_lines(shared))
    printed = set(re.findall(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", article))
    printed |= {a[:2] + b for a, b in re.findall(r"(?<!\d)(20\d\d)[-–](\d\d)(?!\d)", article)}  # "2026-27"
    texts = rows(kg, """SELECT ?s ?p ?text WHERE { GRAPH cowg:data {
        VALUES ?p { rdfs:label skos:prefLabel skos:altLabel cow:description cow:content cow:purpose cow:outcome
                    cow:keyPhrase cow:wording cow:title cow:itemDescription }
        ?s ?p ?text } FILTER NOT EXISTS { ?s a schema:GeoCoordinates } }""")
    outside = [(r["s"].value, r["text"].value) for r in texts
               if set(re.findall(r"(?<!\d)(1[89]\d\d|20\d\d)(?!\d)", r["text"].value)) - printed]
    assert not outside, outside


def test_descriptions_keep_to_what_the_article_says(kg):
    """Galeotti specialises in "Russian crime and security affairs" (line 136), not organised crime;
    his estimate is his words, not "rotation arithmetic"."""
    said = " ".join(r["t"].value for r in rows(kg, """SELECT ?t WHERE {
        { cowr:mark-galeotti ?p ?t } UNION { ?r cow:attributedTo cowr:mark-galeotti ; ?p ?t }
        UNION { ?r cow:holder cowr:mark-galeotti ; ?p ?t } FILTER(isLiteral(?t)) }"""))
    assert "organised crime" not in said and "arithmetic" not in said.lower()


def test_every_named_entity_is_found_by_the_spelling_the_article_prints(kg, shared):
    """A person, place or organisation whose labels all differ from the article's spelling keeps that
    spelling as a tagged alternative label: an exact label lookup by the article's form finds it."""
    article = "\n".join(article_lines(shared))
    for printed, slug in [("Sebastien Lecornu", "sebastien-lecornu"), ("Antonio Costa", "antonio-costa"),
                          ("Dovile Sakaliene", "dovile-sakaliene"), ("Fort Mont Valerien", "fort-mont-valerien"),
                          ("European Parliament Research Service", "eprs")]:
        assert printed in article
        found = rows(kg, f'SELECT ?s WHERE {{ ?s skos:altLabel|skos:prefLabel|rdfs:label "{printed}"@en }}')
        assert [r["s"].value for r in found] == [f"https://w3id.org/cowkg/id/{slug}"], printed
    several = rows(kg, """SELECT ?s (COUNT(?l) AS ?n) WHERE { ?s skos:prefLabel ?l }
        GROUP BY ?s (LANG(?l) AS ?lang) HAVING (COUNT(?l) > 1)""")
    assert not several


def test_french_and_ukrainian_text_is_tagged_as_such(kg):
    tags = {r["t"].value: r["l"].value for r in rows(kg, """SELECT ?t (LANG(?t) AS ?l) WHERE {
        ?s cow:keyPhrase ?t . FILTER(CONTAINS(?t, "multinationale") || REGEX(?t, "[\u0400-\u04FF]")) }""")}
    assert tags and all(lang == ("uk" if re.search("[\u0400-\u04FF]", t) else "fr") for t, lang in tags.items()), tags
    plain = rows(kg, """SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?t . VALUES ?p { cow:keyPhrase cow:title cow:printedAs
        cow:wording } FILTER(isLiteral(?t) && LANG(?t) = "") } GROUP BY ?p""")
    assert not plain


def test_status_granularity(kg):
    """No statement is stated as fact (what was said is a claim; that it was said is an event); the
    founders carry the infobox's status; Eastbury is not a city (the article does not say)."""
    assert run_query(kg, "ASK { ?s a cow:Statement ; cow:status cowv:fact }").boolean is False
    assert run_query(kg, "ASK { cowr:coalition cow:foundedBy ?f }").boolean is False
    founders = rows(kg, """SELECT ?f ?st WHERE { ?r cow:about cowr:coalition ; cow:founder ?f ; cow:status ?st }""")
    assert {r["st"].value.rsplit("/", 1)[-1] for r in founders} == {"infobox"} and len(founders) == 4
    assert run_query(kg, "ASK { cowr:eastbury a cow:City }").boolean is False
    assert run_query(kg, "ASK { cowr:eastbury a cow:Settlement }").boolean is True


def test_meeting_levels_only_where_a_source_gives_them(kg):
    """Rows 5, 6, 8 and 9 state no level: no leaders' summit type, level or summit kind on them."""
    levelled = rows(kg, """SELECT ?m WHERE {
        VALUES ?m { cowr:meeting-05 cowr:meeting-06 cowr:meeting-08 cowr:meeting-09 }
        { ?m a cow:LeadersSummit } UNION { ?m cow:meetingLevel ?l } UNION { ?m cow:eventKind cowv:summit } }""")
    assert not levelled
