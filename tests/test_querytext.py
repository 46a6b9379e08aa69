"""The query lexer: the fast code-token reader (with its prologue cache) agrees with the
whole-text tokenizer the all-readings scan uses, on every query of the project and on mutations."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from cowkg.querytext import _KIND, _token_re, code_tokens, parse_query
from cowkg.vocab import sparql_prologue

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted(ROOT.glob("queries/**/*.rq"))
ALPHABET = "<>'\"#{}()?$:._-\\ \n\tabcPREFIXBASEselect123@^|!=&,;*/+éu"


def reference_tokens(text: str) -> list[tuple[str, int, int]]:
    """Every token of the whole-text tokenizer, white space and comments dropped."""
    return [(_KIND.get(m.lastgroup, m.lastgroup), *m.span()) for m in _token_re().finditer(text)
            if m.lastgroup not in ("ws", "comment")]


def texts() -> list[str]:
    base = [p.read_text() for p in QUERIES]
    base += [sparql_prologue() + t for t in base]
    rnd = random.Random(17)
    out = list(base)
    for _ in range(3000):
        t = rnd.choice(base)
        k = rnd.randint(0, len(t))
        out.append(t[:k] + rnd.choice(ALPHABET) + t[k:])
        out.append("".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 60))))
    return out


def test_the_project_has_queries_to_compare() -> None:
    assert len(QUERIES) >= 50


def test_code_tokens_agree_with_the_whole_text_tokenizer() -> None:
    differ = [t for t in texts() if [tuple(x) for x in code_tokens(t)] != reference_tokens(t)]
    assert differ == []


@pytest.mark.parametrize("prologue", [
    "PREFIX ex: <http://e/>\n" * 20,  # long enough to be cached
    "PREFIX ex: <http://e/\\u0041>\n" * 20,  # an escape ends the cached part early
    "# a comment\nBASE <http://b/>\n" + "PREFIX : <http://e/>\n" * 20,
])
def test_a_cached_prologue_gives_the_same_parse_each_time(prologue: str) -> None:
    first = parse_query(prologue + "SELECT ?x { ?x ex:p 1 }")
    again = parse_query(prologue + "ASK { ?x ex:p 2 } # two")
    assert [tuple(t) for t in first.code[:40]] == [tuple(t) for t in again.code[:40]]
    assert (first.form, again.form) == ("SELECT", "ASK")
    assert first.prefixes == again.prefixes


def test_the_ascii_reading_lexes_an_ascii_text_as_the_unicode_one() -> None:
    """The lexer's patterns are compiled without their non-ASCII class members for ASCII texts
    (5x faster to compile, at every server start); on such a text both must give the same tokens
    and the same cached prologue."""
    from cowkg.querytext import _code_re, _prologue_re

    ascii_texts = [t for t in texts() if t.isascii()]
    assert len(ascii_texts) > 3000
    rnd = random.Random(5)
    letters = "azAZ09_-.:?$<>'\"#\\ \n{}()@^|!=,;*/+PREFIXprefixBASE"
    ascii_texts += ["".join(rnd.choice(letters) for _ in range(rnd.randint(0, 80))) for _ in range(3000)]
    for text in ascii_texts:
        assert _code_re(text) is _code_re.ascii and _prologue_re(text) is _prologue_re.ascii
        assert [(m.lastgroup, m.span()) for m in _code_re.ascii.finditer(text)] == \
            [(m.lastgroup, m.span()) for m in _code_re.full.finditer(text)], text
        assert _prologue_re.ascii.match(text).end() == _prologue_re.full.match(text).end(), text


def test_a_text_with_non_ascii_names_takes_the_unicode_reading() -> None:
    parsed = parse_query("PREFIX é: <http://e/> SELECT ?ñame { ?ñame é:café 1 }")
    assert [parsed.value(t) for t in parsed.code if t.kind in ("var", "pname")] == ["é:", "?ñame", "?ñame", "é:café"]
