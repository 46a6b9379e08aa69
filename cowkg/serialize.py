"""Serialiser: query results and triples → bytes in the SPARQL results and RDF formats.

Stage: after query. SELECT rows are materialised (so the row cap can be applied), and pyoxigraph
cannot re-serialise a list of solutions, so the four SPARQL results formats are written here,
following the W3C specs (JSON, XML, CSV, TSV). RDF formats are written by pyoxigraph.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from .media import Format
from .vocab import NS_XSD as _XSD
from .vocab import PREFIXES, XSD_STRING

_TSV_BARE = {_XSD + "integer", _XSD + "decimal", _XSD + "double", _XSD + "boolean"}


def term_json(term) -> dict[str, str]:
    """One RDF term in SPARQL 1.1 JSON results form (a plain string has no datatype key).

    >>> term_json(ox.Literal("Keir Starmer", language="en"))
    {'type': 'literal', 'value': 'Keir Starmer', 'xml:lang': 'en'}
    >>> term_json(ox.Literal("4")), term_json(ox.NamedNode("https://w3id.org/cowkg/id/meeting-04"))
    ({'type': 'literal', 'value': '4'}, {'type': 'uri', 'value': 'https://w3id.org/cowkg/id/meeting-04'})
    """
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(term.subject),
                                             "predicate": term_json(term.predicate),
                                             "object": term_json(term.object)}}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD_STRING:
        out["datatype"] = term.datatype.value
    return out


def write_boolean(value: bool, fmt: str) -> bytes:
    """An ASK answer in ``fmt`` (json, xml, csv or tsv)."""
    text = "true" if value else "false"
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if fmt == "xml":
        return ('<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">\n'
                f"  <head/>\n  <boolean>{text}</boolean>\n</sparql>\n").encode()
    if fmt == "tsv":
        return f"?_askResult\n{text}\n".encode()
    return f"_askResult\r\n{text}\r\n".encode()


def write_solutions(variables: list[str], rows: Iterable, fmt: str) -> bytes:
    """SELECT results in ``fmt`` (json, xml, csv or tsv); rows are indexable by variable name."""
    return write_table(variables, [tuple(row[v] for v in variables) for row in rows], fmt)


def write_table(variables: list[str], rows: Iterable[tuple], fmt: str, links: Sequence[str] = ()) -> bytes:
    """SELECT results whose rows are tuples aligned with ``variables`` (None = unbound).

    ``links`` go in the results' head (SPARQL JSON ``link``, XML ``<link href>``), where a standard
    client sees them — e.g. that the rows were cut (CSV and TSV have no place for them).
    The fast path: a pyoxigraph solution read by position is ~6x cheaper than by name.
    """
    if fmt in ("json", "xml"):
        return {"json": _json, "xml": _xml}[fmt](variables, rows, links)
    return {"csv": _csv, "tsv": _tsv}[fmt](variables, rows)


def _memo(render):
    """``render`` with a per-call cache: results repeat the same IRIs and literals row after row,
    and every attribute read of a pyoxigraph term crosses into Rust (measured: 3-5x faster)."""
    return functools.lru_cache(maxsize=None)(render)


def _json(variables, rows, links: Sequence[str] = ()) -> bytes:
    fragment = _memo(lambda term: json.dumps(term_json(term), ensure_ascii=False))
    keys = [json.dumps(v, ensure_ascii=False) + ": " for v in variables]
    out = []
    for row in rows:
        out.append("{" + ", ".join(key + fragment(term) for key, term in zip(keys, row, strict=True)
                                   if term is not None) + "}")
    head = json.dumps({"vars": variables, **({"link": list(links)} if links else {})}, ensure_ascii=False)
    return ('{"head": ' + head + ', "results": {"bindings": [' + ", ".join(out) + "]}}").encode()


def _xml_term(term) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if term.language:
        return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
    if term.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
    return f"<literal>{escape(term.value)}</literal>"


def _xml(variables, rows, links: Sequence[str] = ()) -> bytes:
    render = _memo(_xml_term)
    out = ['<?xml version="1.0"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">', "  <head>"]
    out += [f"    <variable name={quoteattr(v)}/>" for v in variables]
    out += [f"    <link href={quoteattr(link)}/>" for link in links]
    out += ["  </head>", "  <results>"]
    opens = [f"      <binding name={quoteattr(v)}>" for v in variables]
    for row in rows:
        out.append("    <result>")
        out.extend(f"{opening}{render(term)}</binding>" for opening, term in zip(opens, row, strict=True)
                   if term is not None)
        out.append("    </result>")
    out += ["  </results>", "</sparql>", ""]
    return "\n".join(out).encode()


def _csv_term(term) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value


def _csv(variables, rows) -> bytes:
    render = _memo(_csv_term)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(variables)
    w.writerows(["" if term is None else render(term) for term in row] for row in rows)
    return buf.getvalue().encode()


def _tsv_term(term) -> str:
    if isinstance(term, ox.Literal) and not term.language and term.datatype.value in _TSV_BARE:
        return term.value
    return str(term)


def _tsv(variables, rows) -> bytes:
    render = _memo(_tsv_term)
    lines = ["\t".join(f"?{v}" for v in variables)]
    lines += ["\t".join("" if term is None else render(term) for term in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def used_prefixes(triples: Iterable[ox.Triple]) -> dict[str, str]:
    """Only the project prefixes the triples use, so Turtle output stays short and stable."""
    namespaces = set()
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            value = term.value if isinstance(term, ox.NamedNode) else (
                term.datatype.value if isinstance(term, ox.Literal) else None)
            if value:
                namespaces.update(ns for ns in PREFIXES.values() if value.startswith(ns))
    return {p: ns for p, ns in sorted(PREFIXES.items()) if ns in namespaces}


def write_triples(triples: list[ox.Triple], fmt: Format) -> bytes:
    """Triples in an RDF format; Turtle gets the prefixes it uses."""
    if fmt.ox_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        return ox.serialize(triples, format=fmt.ox_format, prefixes=used_prefixes(triples))
    return ox.serialize(triples, format=fmt.ox_format)
