"""Serialiser: the four SPARQL results formats written as the W3C specs (and test suites) expect."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox

from cowkg.media import by_name
from cowkg.serialize import write_boolean, write_solutions, write_triples

XSD = "http://www.w3.org/2001/XMLSchema#"


def solutions(rows: list[dict]) -> tuple[list[str], list[dict]]:
    """Rows as the writers take them (anything indexable by variable name), keeping the exact terms."""
    return list(rows[0]), rows


def test_tsv_writes_the_w3c_forms_of_literals():
    # The csvtsv03 expectations, from the original terms (the store would canonicalise them).
    variables, rows = solutions([
        {"o": ox.Literal("1")},
        {"o": ox.Literal("2.2", datatype=ox.NamedNode(XSD + "decimal"))},
        {"o": ox.Literal("-3", datatype=ox.NamedNode(XSD + "negativeInteger"))},
        {"o": ox.Literal("4,4")},
        {"o": ox.Literal("1.0E6", datatype=ox.NamedNode(XSD + "double"))},
        {"o": ox.Literal("a7", datatype=ox.NamedNode(XSD + "hexBinary"))},
    ])
    lines = write_solutions(variables, rows, "tsv").decode().splitlines()
    assert lines[0] == "?o"
    assert lines[1] == '"1"'
    assert lines[2] == "2.2"
    assert lines[3] == f'"-3"^^<{XSD}negativeInteger>'
    assert lines[4] == '"4,4"'
    assert lines[5].lower() in {"1.0e6", "1000000.0", "1e6"} or float(lines[5]) == 1e6
    assert lines[6] == f'"a7"^^<{XSD}hexBinary>'


def test_csv_quotes_and_uses_crlf():
    variables, rows = solutions([{"s": ox.NamedNode("http://e/s"), "o": ox.Literal('say "hi", then\nleave')},
                                 {"s": ox.NamedNode("http://e/t"), "o": None}])
    text = write_solutions(variables, rows, "csv").decode()
    assert text.count("\r\n") == 3
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == [["s", "o"], ["http://e/s", 'say "hi", then\nleave'], ["http://e/t", ""]]


def test_json_terms_and_unbound_variables():
    variables, rows = solutions([{"x": ox.Literal("chat", language="fr"), "y": None},
                                 {"x": ox.Literal("5", datatype=ox.NamedNode(XSD + "integer")),
                                  "y": ox.NamedNode("http://e/y")}])
    doc = json.loads(write_solutions(variables, rows, "json"))
    assert doc["head"] == {"vars": ["x", "y"]}
    assert doc["results"]["bindings"] == [
        {"x": {"type": "literal", "value": "chat", "xml:lang": "fr"}},
        {"x": {"type": "literal", "value": "5", "datatype": XSD + "integer"},
         "y": {"type": "uri", "value": "http://e/y"}},
    ]


def test_xml_escapes_markup():
    variables, rows = solutions([{"v": ox.Literal("<b>&</b>")}])
    root = ET.fromstring(write_solutions(variables, rows, "xml"))
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert root.find("r:results/r:result/r:binding/r:literal", ns).text == "<b>&</b>"


def test_booleans_in_every_format():
    assert json.loads(write_boolean(True, "json")) == {"head": {}, "boolean": True}
    assert b"<boolean>false</boolean>" in write_boolean(False, "xml")
    assert write_boolean(True, "csv") == b"_askResult\r\ntrue\r\n"
    assert write_boolean(False, "tsv") == b"?_askResult\nfalse\n"


def test_turtle_declares_only_the_prefixes_it_uses():
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    t = ox.Triple(ox.NamedNode("https://w3id.org/cowkg/id/x"), label, ox.Literal("x"))
    text = write_triples([t], by_name("ttl", ("graph",))).decode()
    assert "@prefix cowr:" in text and "@prefix rdfs:" in text and "@prefix prov:" not in text
