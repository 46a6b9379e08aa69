"""The native query-text scanner (``native/querytext``, issue 15) gives exactly the Python scanner's
tokens: the code tokens (``_lex_code``) and every token of every reading (``_all_readings``, what
the SERVICE refusal rests on), including when the work budget runs out, on every query of the
project, thousands of mutations of them, the SSRF corpus's pieces and generated texts.

And where it calls a query plain (``cowkg.native.plain``, what the endpoint then takes instead of
reading the text in Python), every decision is the one the Python parse and refusals reach on
the same text: the same form, dataset, cache key, engine text and edits, and no refusal."""

from __future__ import annotations

import ctypes
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_querytext import ROOT, texts

from cowkg import native as native_module
from cowkg import querytext
from cowkg.errors import CowkgError, QueryTooComplex
from cowkg.query import refuse
from cowkg.querytext import _all_readings, _lex_code, parse_plain, parse_query
from cowkg.vocab import sparql_prologue

KINDS = ["ws", "var", "word", "punct", "pname", "iri", "string", "comment", "number", "bnode", "langtag", "junk"]
#: The hostile pieces of tests/security/test_ssrf.py and more of the same spirit.
PIECES = ["SERVICE", "service", "SILENT", "<", ">", "<=", "'", '"', "'''", '"""', "#", "\n", "\r", " ", "\t", "{",
          "}", "(", ")", "[", "]", "?a", "$b", "ex:a\\'", "ex:a\\#", "ex:a.b.", ":", "PREFIX : <http://b/>",
          "<http://c/>", "<http://x/'>", "<http://x/#>", "FILTER", "&&", "'>'", "true", "false", "1", "1.5e3", ".5",
          ".", "sparql", "\\u0053", "\\U00000053", "\\", "x", "é", "_:b1.", "@en-US--ltr", "%41", "ex:%4", "^^", "||",
          "!=", ">=", "a", "PREFIX", "prefix", "·", "\u0300", "\u00a0", "\f", "ñ:", "𝔸"]


@pytest.fixture(scope="module")
def native(native_querytext):
    lib = ctypes.CDLL(str(native_querytext))
    for fn in (lib.cowkg_lex_code, lib.cowkg_all_readings):
        fn.restype = ctypes.c_int64
    lib.cowkg_lex_code.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                   ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t]
    lib.cowkg_all_readings.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int64,
                                       ctypes.POINTER(ctypes.c_uint32), ctypes.c_size_t]
    return lib


def _call(fn, text: str, *args) -> list[tuple[str, int, int]] | None:
    data = text.encode("utf-8")
    capacity = 3 * (len(text) + 16)
    while True:
        out = (ctypes.c_uint32 * capacity)()
        n = fn(data, len(data), *args, out, capacity)
        if n == -1:
            return None
        assert n >= 0, n
        if 3 * n <= capacity:
            return [(KINDS[out[3 * i]], out[3 * i + 1], out[3 * i + 2]) for i in range(n)]
        capacity = 3 * n


def native_lex_code(lib, text: str, pos: int = 0):
    return _call(lib.cowkg_lex_code, text, pos)


def native_all_readings(lib, text: str, budget_per_char: int = querytext.SCAN_BUDGET_PER_CHAR):
    return _call(lib.cowkg_all_readings, text, budget_per_char)


def python_all_readings(text: str):
    try:
        return list(_all_readings(text))
    except QueryTooComplex:
        return None


def python_lex_code(text: str, pos: int = 0):
    return [tuple(t) for t in _lex_code(text, pos)]


def same(lib, text: str) -> bool:
    return native_lex_code(lib, text) == python_lex_code(text) \
        and native_all_readings(lib, text) == python_all_readings(text)


def test_the_project_queries_and_their_mutations_read_the_same(native) -> None:
    differ = [t for t in texts() if not same(native, t)]
    assert differ == []


def test_code_tokens_from_a_position_are_the_same(native) -> None:
    rnd = random.Random(3)
    for text in texts()[:400]:
        pos = rnd.randint(0, len(text))
        assert native_lex_code(native, text, pos) == python_lex_code(text, pos), (text, pos)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=24).map("".join))
def test_hostile_pieces_read_the_same(native, text) -> None:
    assert native_lex_code(native, text) == python_lex_code(text)
    assert native_all_readings(native, text) == python_all_readings(text)


@settings(max_examples=500, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=60))
def test_any_unicode_text_reads_the_same(native, text) -> None:
    assert native_lex_code(native, text) == python_lex_code(text)
    assert native_all_readings(native, text) == python_all_readings(text)


@pytest.mark.parametrize("per_char", [0, 1, 2])
def test_the_work_budget_runs_out_at_the_same_place(native, monkeypatch, per_char) -> None:
    """No real text comes near the budget (24 steps a character), so it is lowered here, on both
    sides alike: the same texts are refused, and those that pass give the same tokens."""
    monkeypatch.setattr(querytext, "SCAN_BUDGET_PER_CHAR", per_char)
    refused = 0
    for text in texts()[::7]:
        text = text * 4  # long enough for 10,000 steps and a few characters more
        python = python_all_readings(text)
        assert native_all_readings(native, text, per_char) == python, text[:80]
        refused += python is None
    assert refused > 0 or per_char > 0  # with 0 a step per character the budget runs out on some


def test_a_text_that_is_not_utf8_is_an_error_not_a_reading(native) -> None:
    out = (ctypes.c_uint32 * 30)()
    assert native.cowkg_lex_code(b"\xff\xfe", 2, 0, out, 30) == -2
    assert native.cowkg_all_readings(b"\xff\xfe", 2, 24, out, 30) == -2


# --- plain queries --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def plain_scanner(native_querytext):
    native_module.library.cache_clear()  # found now that it is built
    assert native_module.library() is not None
    yield
    native_module.library.cache_clear()


def python_decisions(text: str):
    """What the endpoint decides reading ``text`` in Python, or "refused"."""
    try:
        parsed = parse_query(text)
        refuse(parsed, confined=True)
        refuse(parsed, confined=False)
        parsed.decide()
    except CowkgError:
        return "refused"
    return (parsed.form, parsed.select_star, parsed.dataset, parsed.engine_text, parsed.edits,
            parsed.wikidata_vocabulary, parsed.cache_text, parsed.may_name_graphs)


def plain_decisions(text: str):
    parsed = parse_plain(text)
    if parsed is None:
        return None
    refuse(parsed, confined=True)
    refuse(parsed, confined=False)
    parsed.decide()
    return (parsed.form, parsed.select_star, parsed.dataset, parsed.engine_text, parsed.edits,
            parsed.wikidata_vocabulary, parsed.cache_text, parsed.may_name_graphs)


def agree_where_plain(text: str) -> bool:
    """True when the scanner calls ``text`` plain (and then asserts the decisions are Python's)."""
    plain = plain_decisions(text)
    if plain is not None:
        assert plain == python_decisions(text), text
    return plain is not None


def test_most_competency_queries_are_plain_and_decided_as_in_python(plain_scanner) -> None:
    """As the endpoint receives them: with the project's prologue (bench/http_throughput.py)."""
    queries = sorted(ROOT.glob("queries/q*.rq"))
    plain = [q.stem for q in queries if agree_where_plain(sparql_prologue() + q.read_text() + "\nVALUES ?n { 1 }")]
    assert len(plain) >= 0.8 * len(queries), plain


def test_plain_decisions_agree_on_every_text_and_mutation(plain_scanner) -> None:
    found = sum(agree_where_plain(t) for t in texts())
    assert found > 250  # the comparison covers many plain texts, not a few


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES + ["SELECT", "ASK", "CONSTRUCT", "DESCRIBE", "INSERT", "WITH", "FROM",
                                          "GROUP_CONCAT(", "GROUP_CONCAT", "BASE <http://b/>", "*", "DISTINCT",
                                          "wd:Q1", "www.wikidata.org", "PREFIX w: <http://www.wikidata.org/>",
                                          "PREFIX h: <http://>", "{ ?s ?p ?o }", "\u017f", "\u017felect",
                                          "\u0130", "\u212a", "'Зеленський'", "?é", "é:", "<http://é/>",
                                          "'café'@fr", "<http://www.wikidata.org/entity/Q1>", "wdt:P31",
                                          "PREFIX wd: <http://e/>", "<http://e/x>", "?base", "p:x", "h:x",
                                          "PREFIX h: <http://www.wikidata.org/>", "GRAPH", "graph", "GRAPH ?g",
                                          "'a graph'", "<http://x/graph>", "g:graph", "?graph", "Graph<x>"]),
                max_size=20).map("".join))
def test_plain_decisions_agree_on_hostile_texts(plain_scanner, text) -> None:
    agree_where_plain(text)
    agree_where_plain(sparql_prologue() + text)


@pytest.mark.parametrize("text", [
    "ASK { ?s rdfs:label 'café' }", "SELECT ?s WHERE { ?s rdfs:label \"Зеленський\"@uk } LIMIT 3",
    "ASK { ?é ?p é:x }", "ASK { ?s ?p '𝔸' . ?s ?p 'é' }", "ASK { ?s ?p <http://e/é> }",
    "SELECT ?base WHERE { ?base a <http://www.w3.org/2002/07/owl#Class> }",
    "PREFIX wd: <http://e/> ASK { ?s ?p wd:x }",  # a Wikidata prefix name declared elsewhere
])
def test_more_is_plain_and_decided_as_in_python(plain_scanner, text) -> None:
    """Labels in French or Ukrainian, names past ASCII, characters of four bytes, IRIs written out
    that are not Wikidata's: plain, decided as in Python (positions in characters, not bytes)."""
    assert parse_plain(text) is not None
    assert agree_where_plain(text) and agree_where_plain(sparql_prologue() + text)


@settings(max_examples=400, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="'\\\n\r"), max_size=20),
       st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_any_unicode_inside_a_plain_query_is_decided_as_in_python(plain_scanner, literal, tail) -> None:
    """Any character in a literal, and anything at all after the query: wherever the scanner calls
    the text plain, its decisions (positions counted in characters) are Python's."""
    for text in (f"SELECT ?s WHERE {{ ?s ?p '{literal}' }} # {tail}", f"ASK {{ ?s ?p '{literal}' }} {tail}"):
        agree_where_plain(text)
        agree_where_plain(sparql_prologue() + text)


def test_a_cache_key_longer_than_the_text_comes_back_whole(plain_scanner) -> None:
    """Adjacent tokens get a space between them in the key, so it can outgrow the text and the room
    kept for it: the scanner says how much it needs and is asked again."""
    for text in ("ASK{VALUES?v{" + "<a:b><a:c>" * 2000 + "}}", "ASK{VALUES?v{" + "<a:b>" * 40000 + "}}"):
        parsed = parse_plain(text)
        assert parsed is not None and len(parsed.cache_text) > len(text)
        assert parsed.cache_text == parse_query(text).cache_text


@pytest.mark.parametrize("text", [
    "INSERT SELECT ?x {}", "WITH <http://g/> SELECT ?x {}", "DELETE ASK {}", "LOAD ASK {}",  # an update first
    "SELECT * { ?s ?p ?o }", "SELECT DISTINCT * {}", "ASK { SELECT * {} }",  # SELECT * in the head
    "SELECT ?s FROM <http://g/> {}", "SELECT ?s { SERVICE <http://x/> {} }", "BASE <http://b/> ASK {}",
    "ASK { ?s wd:P31 ?o }", "ASK { ?s <http://www.wikidata.org/entity/Q1> ?o }", "ASK { ?s ?p 'caf\\u00e9' }",
    "ASK {" * 101 + "}" * 101, "ASK { FILTER(" + "1+" * 1501 + "1) }",
    "\u017fELECT ?x {} ASK {}",  # a word Python upper-cases to SELECT (the engine does not)
    "ASK { ?s ?p 'SERV\u0130CE' }", "ASK { ?s ?p '\u212a' }",  # lower case partly ASCII
])
def test_what_is_never_plain(plain_scanner, text) -> None:
    """Updates, SELECT *, a dataset, SERVICE, BASE, Wikidata's vocabulary, escapes, non-ASCII text
    and texts past the limits are left to the Python parse (which refuses or decides them)."""
    assert parse_plain(text) is None
    assert parse_plain(sparql_prologue() + text) is None


def test_without_the_library_nothing_is_plain(monkeypatch) -> None:
    """Switched off by the setting a server was configured with, or, with none, by COWKG_NATIVE."""
    configured = native_module._configured
    try:
        native_module.configure("off")
        assert parse_plain("ASK { ?s ?p ?o }") is None
        native_module._configured = None
        monkeypatch.setenv("COWKG_NATIVE", "off")
        native_module.library.cache_clear()
        assert parse_plain("ASK { ?s ?p ?o }") is None
    finally:
        native_module._configured = configured
        native_module.library.cache_clear()  # computed again, with the environment restored, on next use
