"""Data hygiene that SHACL cannot express well: labels everywhere, no dangling IRIs, no blank nodes."""

from __future__ import annotations

from cowkg.query import run_query


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
    unplaced = rows(kg, """SELECT ?p WHERE { ?p a ?c . VALUES ?c { cow:City cow:Region cow:Venue }
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
