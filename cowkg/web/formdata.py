"""Request parameters decoded at C speed: the URL's query string and url-encoded form bodies.

Stage: web, the first thing a request meets. A SPARQL query travels percent-encoded — a query
with the usual PREFIX lines has a thousand ``%XX`` escapes — and the standard library decodes
them one by one in Python (``urllib.parse.unquote``): 0.7 ms per request, more than many queries
take to evaluate. Here an ASCII text is decoded in one pass by the ``unicode_escape`` codec
(``%XX`` becomes ``\\xXX``, backslashes are doubled first so nothing else is an escape), with the
very same result; anything else (non-ASCII text, a ``%`` not followed by two hex digits, bytes
that are not UTF-8) takes the standard path, as werkzeug does it (invalid bytes stay encoded).

>>> parse_pairs("query=SELECT%20*%20%7B%3Fs%20%3Fp%20%22%5C%22%22%7D&format=json&x")
[('query', 'SELECT * {?s ?p "\\\\""}'), ('format', 'json'), ('x', '')]
"""

from __future__ import annotations

import codecs
from urllib.parse import unquote

from flask import Request as FlaskRequest
from werkzeug.formparser import FormDataParser


def unquote_plus(text: str) -> str:
    """``text`` with ``+`` as a space and ``%XX`` decoded (UTF-8), as ``urllib.parse.parse_qsl``
    decodes names and values (with werkzeug's handler: bytes that are not UTF-8 stay encoded)."""
    text = text.replace("+", " ")
    if "%" not in text:
        return text
    if text.isascii():
        try:
            escaped = text.replace("\\", "\\\\").replace("%", "\\x").encode("ascii")
            return codecs.decode(escaped, "unicode_escape").encode("latin-1").decode("utf-8")
        except UnicodeError:  # a bad escape or not UTF-8: the standard path says how
            pass
    return unquote(text, errors="werkzeug.url_quote")


def parse_pairs(text: str) -> list[tuple[str, str]]:
    """``urllib.parse.parse_qsl(text, keep_blank_values=True)`` with werkzeug's error handling."""
    pairs = []
    for part in text.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((unquote_plus(name), unquote_plus(value)))
    return pairs


class FastFormParser(FormDataParser):
    """werkzeug's form parser, with url-encoded bodies decoded by ``parse_pairs``."""

    def _parse_urlencoded(self, stream, mimetype, content_length, options):
        return stream, self.cls(parse_pairs(stream.read().decode())), self.cls()


class Request(FlaskRequest):
    """Flask's request, with the URL's parameters and form bodies decoded by ``parse_pairs``."""

    form_data_parser_class = FastFormParser

    @property
    def args(self):
        cached = self.__dict__.get("_fast_args")
        if cached is None:
            cached = self.__dict__["_fast_args"] = self.parameter_storage_class(
                parse_pairs(self.query_string.decode()))
        return cached
