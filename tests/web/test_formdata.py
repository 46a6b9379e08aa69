"""Request parameters decoded at C speed (cowkg.web.formdata) equal the standard library's."""

from __future__ import annotations

import random
from urllib.parse import parse_qsl, quote

import werkzeug.urls  # noqa: F401 - registers the "werkzeug.url_quote" error handler

from cowkg.web.formdata import parse_pairs

ALPHABET = "%+&=\\abcXYZ0123456789éü€ \"'<>{}#?\n"


def test_parse_pairs_equals_parse_qsl_with_werkzeugs_handler() -> None:
    rnd = random.Random(3)
    differ = []
    for _ in range(20000):
        text = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 30)))
        if rnd.random() < 0.5:
            text = quote(text, safe="&=%+\\")
        if parse_pairs(text) != parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
            differ.append(text)
    assert differ == []


def test_a_percent_encoded_query_with_backslashes_and_non_ascii() -> None:
    query = 'SELECT * { ?s ?p "a\\\\b\\"c" FILTER(regex(?s, "\\\\d+")) } # café'
    assert parse_pairs("query=" + quote(query)) == [("query", query)]
    assert parse_pairs("a=%zz%4&b=%E2%82") == [("a", "%zz%4"), ("b", "%E2%82")]
