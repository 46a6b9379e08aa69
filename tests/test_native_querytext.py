"""The native query-text scanner (``native/querytext``, issue 15) gives exactly the Python scanner's
tokens: the code tokens (``_lex_code``) and every token of every reading (``_all_readings``, what
the SERVICE refusal rests on), including when the work budget runs out, on every query of the
project, thousands of mutations of them, the SSRF corpus's pieces and generated texts."""

from __future__ import annotations

import ctypes
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_querytext import texts

from cowkg import querytext
from cowkg.errors import QueryTooComplex
from cowkg.querytext import _all_readings, _lex_code

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
