"""Compare query results of two engines as sets, after the normalisations docs/VIRTUOSO.md lists.

Each normalisation exists because Virtuoso 7.2 and pyoxigraph legitimately (or by a documented
Virtuoso quirk) write the same answer differently:

N1  blank nodes: labels are engine-local; every blank node compares equal to every other.
N2  language tags: Virtuoso lower-cases them (``en-GB`` → ``en-gb``); compared lower-cased.
N3  numbers: compared by value, whatever the numeric datatype (``2``, ``2.0``, ``"2"^^xsd:double``).
N4  booleans: Virtuoso projects computed booleans as integers: ``1``/``0``, and ``x IN (a, b, c)``
    as the 1-based position of the match (``4``). A column the embedded engine answers with
    ``xsd:boolean`` values only is compared by truth value (0 is false, any other number true).
N5  GROUP_CONCAT: the order of the parts is undefined (SPARQL 1.1 §18.5.1.7); the parts are
    sorted. pyoxigraph keeps a language tag shared by all parts, Virtuoso does not; the result is
    compared as a plain string. An empty group gives ``""`` (the spec) on Virtuoso and unbound on
    pyoxigraph: both compare as ``""``.
N6  SAMPLE: the spec lets an engine return any value of the group; SAMPLE columns are not compared.
N7  rows are compared as sets (ORDER BY ties and duplicate rows are engine-specific); the counts
    a query computes (COUNT) are values and are compared.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "short", "byte",
                              "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                              "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}
BOOLEAN = XSD + "boolean"
STRING = XSD + "string"

_AS_RE = re.compile(r"\s*AS\s+[?$](\w+)", re.IGNORECASE)
_SEPARATOR_RE = re.compile(r"""(?is);\s*SEPARATOR\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*$""")


def _strip_comments(sparql: str) -> str:
    return re.sub(r"(?m)^\s*#.*$", "", sparql)


def aggregate_columns(sparql: str, name: str) -> dict[str, str]:
    """Variables bound by ``name(...) AS ?v`` in ``sparql``: {variable: the argument text}."""
    text = _strip_comments(sparql)
    found: dict[str, str] = {}
    for m in re.finditer(rf"(?i)\b{name}\s*\(", text):
        depth, i = 1, m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        alias = _AS_RE.match(text, i)
        if alias:
            found[alias.group(1)] = text[m.end():i - 1]
    return found


def group_concat_separators(sparql: str) -> dict[str, str]:
    """{variable: separator} of every ``GROUP_CONCAT(... ; SEPARATOR="x") AS ?v`` (default " ")."""
    out = {}
    for var, inner in aggregate_columns(sparql, "GROUP_CONCAT").items():
        m = _SEPARATOR_RE.search(inner)
        out[var] = m.group(1)[1:-1].encode().decode("unicode_escape") if m else " "
    return out


def term_key(term) -> tuple | None:
    """A comparable key of one RDF term (N1-N4)."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    if isinstance(term, ox.Triple):
        return ("triple", term_key(term.subject), term_key(term.predicate), term_key(term.object))
    if term.language:
        return ("literal", term.value, "@" + term.language.lower())
    datatype = term.datatype.value
    if datatype == BOOLEAN:
        return ("number", Decimal(1 if term.value in ("true", "1") else 0))
    if datatype in NUMERIC:
        try:
            return ("number", Decimal(term.value).normalize())
        except InvalidOperation:
            return ("literal", term.value, datatype)
    return ("literal", term.value, None if datatype == STRING else datatype)


def group_concat_key(term, separator: str) -> tuple:
    """N5: the parts sorted, as a plain string; unbound counts as the empty string."""
    text = "" if term is None else term.value
    parts = sorted(text.split(separator)) if text else []
    return ("literal", separator.join(parts), None)


def boolean_columns(result) -> set[str]:
    """Variables whose bound values are all ``xsd:boolean`` (and that are bound at least once)."""
    out = set()
    for v in result.variables:
        values = [row[v] for row in result.rows if row[v] is not None]
        if values and all(isinstance(t, ox.Literal) and t.datatype.value == BOOLEAN for t in values):
            out.add(v)
    return out


def truth_key(term) -> tuple | None:
    """N4: the truth value of a boolean, or of a number standing for one."""
    key = term_key(term)
    if key is None or key[0] != "number":
        return key
    return ("number", Decimal(1 if key[1] != 0 else 0))


def solution_set(result, sparql: str, booleans: set[str] = frozenset()) -> set[tuple]:
    """The rows of a SELECT result as a set of normalised tuples, in variable-name order."""
    concat = group_concat_separators(sparql)
    sampled = set(aggregate_columns(sparql, "SAMPLE"))
    variables = sorted(v for v in result.variables if v not in sampled)
    rows = set()
    for row in result.rows:
        rows.add(tuple(group_concat_key(row[v], concat[v]) if v in concat
                       else truth_key(row[v]) if v in booleans else term_key(row[v]) for v in variables))
    return rows


def triple_set(triples) -> set[tuple]:
    return {(term_key(t.subject), term_key(t.predicate), term_key(t.object)) for t in triples}


def comparable(result, sparql: str, booleans: set[str] = frozenset()):
    """What two engines' answers to ``sparql`` must agree on; ``booleans``: see ``boolean_columns``."""
    if result.kind == "boolean":
        return result.boolean
    if result.kind == "graph":
        return triple_set(result.triples)
    return (tuple(sorted(v for v in result.variables if v not in set(aggregate_columns(sparql, "SAMPLE")))),
            solution_set(result, sparql, booleans))


def describe_difference(a, b, limit: int = 5) -> str:
    """A short human-readable account of how two comparable answers differ."""
    if not isinstance(a, tuple) or not isinstance(b, tuple):
        if isinstance(a, set) and isinstance(b, set):
            return f"only embedded: {sorted(a - b, key=repr)[:limit]}\nonly virtuoso: {sorted(b - a, key=repr)[:limit]}"
        return f"embedded {a!r} != virtuoso {b!r}"
    if a[0] != b[0]:
        return f"variables differ: {a[0]} vs {b[0]}"
    only_a, only_b = sorted(a[1] - b[1], key=repr), sorted(b[1] - a[1], key=repr)
    return (f"{len(a[1])} vs {len(b[1])} distinct rows\nonly embedded ({len(only_a)}): {only_a[:limit]}\n"
            f"only virtuoso ({len(only_b)}): {only_b[:limit]}")
