"""Server-side request forgery (issue 17, finding 1): no query, in any form, by any method, may
make cowkg open a connection — to another host, a loopback port, or itself.

The corpus holds the reported bypasses (escapes in prefixed names that fooled a regex), the
readings a single tokenizer gets wrong (``<`` as an IRI or "less than", keywords glued to words,
comments between keyword and IRI, undeclared prefixes read as keywords) and the plain forms. Each
is first run on a bare pyoxigraph store in this test process, which has network access: the test
checks that the corpus really reaches the canary there (so it tests something), then that cowkg —
in process, over HTTP with GET, form POST and direct POST — refuses it with 400 and the canary sees
nothing.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cowkg.backends.embedded import run_query
from cowkg.errors import UnsupportedOperation

#: ``{C}`` is the canary's URL, ``{B}`` its base (for a prefix that makes ``:sparql`` point at it).
CORPUS = [
    # the reported reproductions: a \# or \' in a prefixed name hid the rest from a regex
    "PREFIX ex: <http://ex/> SELECT ?x WHERE {{ VALUES ?v {{ ex:a\\#b }} SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "PREFIX ex: <http://ex/> SELECT ?x WHERE {{ VALUES ?v {{ ex:a\\' }} VALUES ?w {{ <http://x/'> }} "
    "SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "PREFIX ex: <http://ex/> ASK {{ VALUES ?v {{ ex:a\\#b }} SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "PREFIX ex: <http://ex/> CONSTRUCT {{ ?x ?y ?z }} WHERE {{ VALUES ?v {{ ex:a\\' }} VALUES ?w {{ <http://x/'> }} "
    "SERVICE <{C}> {{ ?x ?y ?z }} }}",
    # "<" read as "less than" by the engine, as an IRI by a longest-match lexer
    "SELECT * WHERE {{ BIND(1 AS ?a) BIND(2 AS ?b) FILTER(?a<=?b&&'>'='>') SERVICE <{C}> {{?x ?y ?z}} FILTER(''='') }}",
    "PREFIX : <{B}> SELECT * WHERE {{ BIND(0 AS ?x) FILTER(?x<1)SERVICE:sparql#>\n{{?a ?b ?c}} }}",
    # keywords without word boundaries, undeclared prefixes, comments, escapes
    "PREFIX : <{B}> SELECT * {{ SERVICE:sparql {{?x ?y ?z}} }}",
    "SELECT * {{ serviceSILENT<{C}>{{?x ?y ?z}} }}",
    "SELECT * {{ SERVICE#comment\n<{C}>{{?x ?y ?z}} }}",
    "SELECT * {{ SERVICE <{Cu}> {{?x ?y ?z}} }}",
    "SELECT * {{ BIND(1 AS ?a) FILTER(?a < 2 || '#' = '#') SERVICE <{C}> {{ ?x ?y ?z }} }}",
    # plain forms, every place a group pattern can be
    "SELECT * WHERE {{ SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "select * where {{ service silent <{C}> {{ ?x ?y ?z }} }}",
    "ASK {{ SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "CONSTRUCT {{ ?x ?y ?z }} WHERE {{ SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "DESCRIBE ?x WHERE {{ SERVICE <{C}> {{ ?x ?y ?z }} }}",
    "SELECT * {{ OPTIONAL {{ SERVICE <{C}> {{ ?x ?y ?z }} }} }}",
    "SELECT * {{ {{ SELECT * {{ SERVICE <{C}> {{ ?x ?y ?z }} }} }} }}",
    "SELECT * {{ {{ BIND(1 AS ?q) }} UNION {{ SERVICE <{C}> {{ ?x ?y ?z }} }} }}",
    "SELECT * {{ GRAPH ?g {{ }} SERVICE <{C}> {{ ?x ?y ?z }} }}",
]


def fill(template: str, canary) -> str:
    base = canary.url.rsplit("/", 1)[0] + "/"
    escaped = canary.url.replace("://", "\\u003A//")
    return template.format(C=canary.url, B=base, Cu=escaped)


def reaches_canary_raw(query: str, canary) -> bool:
    """Whether a bare pyoxigraph store (network allowed) contacts the canary for ``query``."""
    before = len(canary.seen(0))
    try:
        result = ox.Store().query(query)
        if not isinstance(result, ox.QueryBoolean | bool):
            list(result)
    except (SyntaxError, RuntimeError, OSError):
        pass
    return len(canary.seen(0.05)) > before


def test_the_corpus_attacks_for_real(canary):
    """Most of the corpus makes an unguarded engine call out (the rest need bound rows, which an
    empty store has not): the refusals below are refusals of working attacks."""
    live = [t for t in CORPUS if reaches_canary_raw(fill(t, canary), canary)]
    assert len(live) >= 15, f"only {len(live)} live attacks"
    assert any("<=?b&&'>'" in t for t in live) and any("?x<1)SERVICE" in t for t in live)


@pytest.mark.parametrize("template", CORPUS)
def test_cowkg_refuses_in_process_and_never_calls_out(kg, canary, template):
    query = fill(template, canary)
    before = len(canary.seen(0))
    with pytest.raises(UnsupportedOperation):
        run_query(kg, query)
    assert len(canary.seen()) == before


@pytest.mark.parametrize("template", CORPUS)
@pytest.mark.parametrize("method", ["GET", "POST-form", "POST-direct"])
def test_the_server_answers_400_and_never_calls_out(attack_server, canary, template, method):
    query = fill(template, canary)
    before = len(canary.seen(0))
    url = attack_server.base + "/sparql"
    if method == "GET":
        resp = requests.get(url, params={"query": query}, timeout=30)
    elif method == "POST-form":
        resp = requests.post(url, data={"query": query}, timeout=30)
    else:
        resp = requests.post(url, data=query.encode(), headers={"Content-Type": "application/sparql-query"},
                             timeout=30)
    assert resp.status_code == 400, resp.text[:300]
    assert resp.json()["error"] == "unsupported-operation"
    assert len(canary.seen()) == before


def test_a_server_cannot_be_made_to_query_itself(attack_server, canary):
    own = attack_server.base + "/sparql"
    for query in (f"SELECT * {{ SERVICE <{own}> {{ ?s ?p ?o }} }}",
                  f"PREFIX : <{attack_server.base}/> SELECT * {{ SERVICE:sparql {{ ?s ?p ?o }} }}"):
        resp = requests.get(own, params={"query": query}, timeout=30)
        assert resp.status_code == 400


def test_iris_that_merely_contain_service_still_run(kg):
    """No false alarm where no reading of the text can be a SERVICE clause."""
    for query in ("SELECT * { ?s a <http://www.w3.org/ns/sparql-service-description#Service> }",
                  "PREFIX sd: <http://www.w3.org/ns/sparql-service-description#> SELECT * { ?s a sd:Service }",
                  "SELECT ?service { ?service ?p 'SERVICE' } # SERVICE in a comment",
                  'SELECT * { ?s ?p "customer service" }'):
        run_query(kg, query)


# --- any text ------------------------------------------------------------------------------------------

PIECES = ["SERVICE", "service", "SILENT", "<", ">", "<=", "'", '"', "'''", "#", "\n", " ", "{", "}", "(", ")",
          "?a", "ex:a\\'", "ex:a\\#", ":", "PREFIX : <{B}>", "<{C}>", "<http://x/'>", "<http://x/#>", "FILTER",
          "BIND(1 AS ?a)", "&&", "'>'", "true", "1", ".", "sparql", "\\u0053", "x"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(PIECES), min_size=2, max_size=14))
def test_what_the_check_lets_through_never_calls_out(canary, pieces):
    """Property: for any text built from the tricky pieces, if cowkg's check does not refuse it,
    an unguarded engine does not contact the canary either."""
    from cowkg.querytext import keyword_use, parse_query

    body = "".join(pieces)
    query = fill(("SELECT * WHERE {{ BIND(1 AS ?a) BIND(2 AS ?b) " + body.replace("{", "{{").replace("}", "}}")
                  .replace("{{B}}", "{B}").replace("{{C}}", "{C}") + " }}"), canary)
    try:
        use = keyword_use(parse_query(query), "service")
    except Exception:  # noqa: BLE001 - refused as too complex: nothing runs
        return
    if use is None:
        assert not reaches_canary_raw(query, canary), query
