"""Named view queries (``queries/views/<name>.rq``): their text, their parameters, their cached answers.

Stage: web. Every page that shows data without SPARQL (the home page, the browse lists and their
facets, the analyst views) reads the graph through one of these queries, sent to the backend
(``app_state().backend``) like any other query, so it works on every backend.
A query takes parameters by rows it carries: ``VALUES ?iri { ... }`` (the entity of the entity
graph) and ``VALUES ?asOf { "9999-12-31" }`` (the date of the "as of" control; the default row means
no date limit). ``bind`` replaces those rows with checked values, so a parameter can never change
the query's shape. Answers are serialised once per dataset version and query text and kept in the
app's response cache; ``rows`` reads the cached SPARQL JSON back as plain Python values.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

from flask import current_app

from ..answer import Answer, QuerySpec, answer_here
from ..errors import InputError, NotFound
from ..media import Format, by_name
from ..vocab import COWR
from ..vocab import NS_XSD as XSD
from ..vocab import check_iri as vocab_check_iri
from .state import app_state

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
#: The VALUES row of a query that takes an entity (``VALUES ?iri { <...> }``), replaced per request.
IRI_VALUES_RE = re.compile(r"VALUES\s+\?iri\s*\{[^}]*\}")
#: The VALUES rows of a query that takes a date (``VALUES ?asOf { "..." }``); every one is replaced.
AS_OF_VALUES_RE = re.compile(r'VALUES\s+\?asOf\s*\{[^}]*\}')
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DEFAULT_ENTITY = str(COWR) + "coalition"
#: The default ``?asOf``: no date limit.
NO_LIMIT = "9999-12-31"
INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
DECIMALS = {XSD + t for t in ("decimal", "double", "float")}


def queries_dir() -> Path:
    return Path(current_app.config["COWKG"]["root"]) / "queries" / "views"


def named_query(name: str) -> str:
    """The text of ``queries/views/<name>.rq``; raises NotFound for an unknown name."""
    path = queries_dir() / f"{name}.rq"
    if not NAME_RE.match(name) or not path.is_file():
        names = sorted(p.stem for p in queries_dir().glob("*.rq"))
        raise NotFound(f"no view query named {name!r}", hint="the view queries are " + ", ".join(names))
    return path.read_text(encoding="utf-8")


def header(text: str) -> dict[str, str]:
    """The ``# title:`` and ``# description:`` lines of a query's header."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"#\s*(title|description)\s*:\s*(.*)", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
        elif line.strip() and not line.startswith("#"):
            break
    return out


def check_iri(iri: str) -> str:
    """``iri`` if it is an absolute IRI that can stand in a query (``vocab.check_iri``, at most 2000
    characters); raises InputError otherwise."""
    return vocab_check_iri(iri, what="an IRI that can be queried", hint="e.g. iri=" + DEFAULT_ENTITY, max_length=2000)


def check_date(value: str | None, name: str = "as_of") -> str | None:
    """``value`` if it is a calendar date written YYYY-MM-DD (None and "" give None); InputError otherwise."""
    if value is None or value == "":
        return None
    if not DATE_RE.match(value):
        raise InputError(f"{name} must be a date written YYYY-MM-DD, not {value[:40]!r}",
                         hint=f"e.g. {name}=2025-11-25")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} is not a calendar date: {value!r}", hint=f"e.g. {name}=2025-11-25") from None
    return value


def takes_iri(query: str) -> bool:
    return bool(IRI_VALUES_RE.search(query))


def takes_as_of(query: str) -> bool:
    return bool(AS_OF_VALUES_RE.search(query))


def bind_iri(query: str, iri: str) -> str:
    """The query with its ``VALUES ?iri { ... }`` row set to ``iri`` (already checked by ``check_iri``)."""
    if not takes_iri(query):
        raise InputError("this view query takes no iri parameter")
    return IRI_VALUES_RE.sub(lambda _m: f"VALUES ?iri {{ <{iri}> }}", query, count=1)


def bind_as_of(query: str, date: str) -> str:
    """The query with every ``VALUES ?asOf { ... }`` row set to ``date`` (checked by ``check_date``)."""
    if not takes_as_of(query):
        raise InputError("this view query takes no as_of parameter",
                         hint="the queries with an as-of date are the asof-*, list-* and home queries")
    return AS_OF_VALUES_RE.sub(lambda _m: f'VALUES ?asOf {{ "{date}" }}', query)


def bind(query: str, iri: str | None = None, as_of: str | None = None) -> str:
    """The query with its parameters set (each one only when given)."""
    if iri is not None:
        query = bind_iri(query, check_iri(iri))
    if as_of is not None:
        query = bind_as_of(query, check_date(as_of))
    return query


def answer(query: str, fmt: Format) -> Answer:
    """The backend's answer to ``query`` in ``fmt`` — the bytes ``/sparql`` gives for it, through
    ``cowkg.answer`` — from the response cache when it has it."""
    cfg = current_app.config["COWKG"]
    state = app_state()
    key = ("views", state.catalog.version, query, fmt.name)
    found = state.cache.get(key)
    if found is None:
        found = answer_here(state.backend, QuerySpec(query=query, formats=(fmt.name,), max_rows=cfg["max_rows"],
                                                     timeout=cfg["query_timeout"]))
        state.cache.put(key, found)
    return found


def simple(term: dict) -> str | int | float | bool:
    """A SPARQL JSON term as a Python value: numbers and booleans typed, everything else its string."""
    value, datatype = term["value"], term.get("datatype")
    try:
        if datatype in INTEGERS:
            return int(float(value))
        if datatype in DECIMALS:
            return float(value)
    except ValueError:
        return value
    if datatype == XSD + "boolean":
        return value in ("true", "1")
    return value


def rows_of(query: str) -> list[dict]:
    """The rows of a SELECT ``query`` (already bound) as dicts of plain values; unbound → absent."""
    body = json.loads(answer(query, by_name("json", ("results",))).body)
    return [{k: simple(v) for k, v in b.items()} for b in body["results"]["bindings"]]


def rows(name: str, iri: str | None = None, as_of: str | None = None) -> list[dict]:
    """The rows of the named query ``name`` with its parameters set."""
    return rows_of(bind(named_query(name), iri=iri, as_of=as_of))


ENTRY_RE = re.compile(r"^(?:([^|<]*)\|)?(.*?) ?<([^<>]*)>$")


def entries(text: str | None) -> list[dict]:
    """``"label <iri>"`` lines (the GROUP_CONCATs of the view queries) → ``[{label, iri, role}]``, by label."""
    out = []
    for line in (text or "").split("\n"):
        if not line.strip():
            continue
        m = ENTRY_RE.match(line)
        if m:
            out.append({"role": m.group(1) or "", "label": m.group(2) or m.group(3), "iri": m.group(3)})
        else:
            out.append({"role": "", "label": line, "iri": ""})
    return sorted(out, key=lambda e: (e["label"].casefold(), e["iri"]))


__all__ = ["NO_LIMIT", "answer", "bind", "bind_as_of", "bind_iri", "check_date", "check_iri", "entries",
           "header", "named_query", "rows", "rows_of", "takes_as_of", "takes_iri"]
