"""Queries written for the Wikidata Query Service, answered here unchanged.

Stage: between the query text (``cowkg.querytext``) and the engine. Input: a ``ParsedQuery``.
Output: two decisions the query path takes before an engine runs —

* ``uses_wikidata_vocabulary``: a query that names anything in Wikidata's namespaces (``wd:``,
  ``wdt:``, ``p:``/``ps:``/``pq:``/``pr:``, ``wikibase:``, ``bd:`` ...) reads the asserted graphs
  plus the Wikibase view (``cowg:wikibase``, see ``cowkg.wikibase``) as its default graph, with no
  cowkg-specific parameter, exactly as it would be written for WDQS;
* ``label_service_edits``: ``SERVICE wikibase:label { bd:serviceParam wikibase:language "en,fr" }``
  is not a remote call here but a rewrite of the text. The block is removed and, at the end of the
  group that held it, each ``?xLabel`` / ``?xDescription`` / ``?xAltLabel`` the query uses (or
  each ``?x rdfs:label ?name`` written inside the block, WDQS's manual mode) is bound from
  the Wikibase view's ``schema:name`` (an item's label) / ``schema:description`` /
  ``skos:altLabel`` in the first listed language that
  has one; a label falls back to the entity's identifier (``Q42`` on WDQS, the last path segment
  of a cowkg IRI here), a description or alias list to nothing, as on WDQS.

The rewritten text is what the engine runs, and the refusal of every other ``SERVICE``
(``cowkg.query.refuse``) reads that text in every way it can be read: removing the label block can
never let another SERVICE through.

>>> from cowkg.querytext import parse_query
>>> q = parse_query('SELECT ?p ?pLabel { ?p wdt:P39 ?x . '
...                 'SERVICE wikibase:label { bd:serviceParam wikibase:language "fr,en" } }')
>>> uses_wikidata_vocabulary(q)
True
>>> "SERVICE" in q.engine_text, "?pLabel" in q.engine_text
(False, True)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .errors import QuerySyntaxError
from .querytext import ParsedQuery, Token, unescape
from .vocab import BD, PREFIXES, WIKIBASE

#: Where an IRI says a query is written in Wikidata's vocabulary (entities, properties in every
#: form, statements, values, references, the Wikibase ontology and Blazegraph's ``bd:``).
#: ``http://schema.org/`` is the dump format's (cowkg's own ``schema:`` is https://schema.org/).
WIKIDATA_NAMESPACES = ("http://www.wikidata.org/", "http://wikiba.se/ontology#", str(BD), "http://schema.org/")

LABEL_SERVICE = str(WIKIBASE) + "label"
_LANGUAGE = str(WIKIBASE) + "language"
_SERVICE_PARAM = str(BD) + "serviceParam"
_AUTO_LANGUAGE = "[AUTO_LANGUAGE]"
#: What each kind of name is read from, and the variable suffix WDQS binds it to.
_KINDS = {
    "Label": "http://schema.org/name",  # the view's item name (= rdfs:label and skos:prefLabel on items)
    "Description": "http://schema.org/description",
    "AltLabel": "http://www.w3.org/2004/02/skos/core#altLabel",
}
#: What the manual form's predicates ask for (WDQS accepts schema:name for a label).
_BY_PREDICATE = {**{iri: kind for kind, iri in _KINDS.items()}, "http://www.w3.org/2000/01/rdf-schema#label": "Label",
                 "https://schema.org/description": "Description", "https://schema.org/name": "Label"}
#: Helper variables of the rewrite start with this; ``SELECT *`` leaves them out.
HELPER_PREFIX = "wdqs_label_"


def visible(variables: list[str]) -> list[str]:
    """``variables`` without the rewrite's helpers (what ``SELECT *`` shows)."""
    return [v for v in variables if not v.startswith(HELPER_PREFIX)]


#: Host names of ``WIKIDATA_NAMESPACES``: an IRI in them, written out, has one of these in its text.
_HOSTS = tuple(sorted({ns.split("/")[2] for ns in WIKIDATA_NAMESPACES}))


def _namespace_could_be_wikidata(namespace: str) -> bool:
    return namespace.startswith(WIKIDATA_NAMESPACES) or any(ns.startswith(namespace) for ns in WIKIDATA_NAMESPACES)


@lru_cache(maxsize=16)
def _wikidata_prefixes(declared: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    """The prefix names among ``declared`` whose prefixed names can be in Wikidata's namespaces."""
    return tuple(f"{name}:" for name, namespace in declared if _namespace_could_be_wikidata(namespace))


_WIKIDATA_PREDECLARED = _wikidata_prefixes(tuple(PREFIXES.items()))


def _may_use_wikidata_vocabulary(parsed: ParsedQuery) -> bool:
    """False only when no IRI past the cached prologue can be in Wikidata's namespaces, read from
    the text by substring: no escape, no BASE, none of their host names, and no ``prefix:`` of a
    prefix that could expand into them. Most queries are cleared here, without a walk over their
    tokens (a quarter of reading a request on the endpoint); anything else takes the full walk.

    >>> from cowkg.querytext import parse_query
    >>> _may_use_wikidata_vocabulary(parse_query("SELECT ?s { ?s a cow:Meeting }"))
    False
    >>> _may_use_wikidata_vocabulary(parse_query("SELECT ?s { ?s wdt:P31 ?o }"))
    True
    """
    text = parsed.text
    cached = parsed.cached_prologue
    body = text[cached.end:] if cached else text
    if "\\" in text or (cached and cached.base) or "base" in body.lower() or any(host in body for host in _HOSTS):
        return True
    names = _wikidata_prefixes(tuple(parsed.predeclared.items())) if parsed.predeclared is not PREFIXES \
        else _WIKIDATA_PREDECLARED
    if parsed.prefixes:
        names = names + _wikidata_prefixes(tuple(parsed.prefixes.items()))
    return any(name in body for name in names)


def uses_wikidata_vocabulary(parsed: ParsedQuery) -> bool:
    """Whether any IRI of the query (past its PREFIX declarations) is in Wikidata's namespaces."""
    return _may_use_wikidata_vocabulary(parsed) and _names_wikidata_iri(parsed)


def _names_wikidata_iri(parsed: ParsedQuery) -> bool:
    """``uses_wikidata_vocabulary`` by walking the tokens past the cached prologue."""
    code = parsed.body  # past the cached prologue, which holds declarations only
    text = parsed.text
    could: dict[str, bool] = {}  # prefix → whether a name with it can be in Wikidata's namespaces
    for i, t in enumerate(code):
        kind = t.kind
        if kind != "iri" and kind != "pname":
            continue
        if kind == "iri" and i >= 2 and code[i - 1].kind == "pname" and code[i - 2].kind == "word" \
                and parsed.value(code[i - 2]).upper() == "PREFIX":
            continue  # a declaration is not a use
        if kind == "pname":
            if i >= 1 and code[i - 1].kind == "word" and parsed.value(code[i - 1]).upper() == "PREFIX":
                continue
            prefix = text[t.start:text.index(":", t.start)]
            if prefix not in could:
                namespace = parsed.prefixes.get(prefix, parsed.predeclared.get(prefix))
                could[prefix] = namespace is not None and _namespace_could_be_wikidata(namespace)
            if not could[prefix]:
                continue
        try:
            if parsed.iri(t).startswith(WIKIDATA_NAMESPACES):
                return True
        except KeyError:
            continue
    return False


@dataclass(frozen=True)
class _Binding:
    """One name to bind: ``target`` from ``kind`` of the entity in ``subject``."""

    subject: str  # variable name, without '?'
    kind: str  # Label | Description | AltLabel
    target: str  # variable name, without '?'


def label_service_edits(parsed: ParsedQuery) -> list[tuple[int, int, str]]:
    """Text edits (offset, length replaced, new text) that answer every label service block of
    the query in place; none when it has no such block. Raises QuerySyntaxError (with the block's
    line and column) for a block this implementation cannot read, as WDQS would refuse it."""
    if "label" not in parsed.lowered or "service" not in parsed.lowered:
        return []
    code = parsed.code
    edits: list[tuple[int, int, str]] = []
    counter = [0]
    i = 0
    while i < len(code):
        block = _label_block_at(parsed, i)
        if block is None:
            i += 1
            continue
        open_at, close_at = block
        languages, manual = _read_block(parsed, code[open_at + 1:close_at], code[i])
        bindings = manual or _automatic_bindings(parsed)
        group_end = _enclosing_group_end(parsed, i, close_at)
        start, end = code[i].start, code[close_at].end
        edits.append((start, end - start, ""))
        edits.append((code[group_end].start, 0, _bind_text(bindings, languages, counter)))
        i = close_at + 1
    return edits


def _label_block_at(parsed: ParsedQuery, i: int) -> tuple[int, int] | None:
    """(index of ``{``, index of its ``}``) when ``SERVICE wikibase:label {`` starts at token ``i``."""
    code, value = parsed.code, parsed.value
    t = code[i]
    if t.kind != "word" or value(t).upper() != "SERVICE" or i + 2 >= len(code):
        return None
    name = code[i + 1]
    if name.kind not in ("iri", "pname") or value(code[i + 2]) != "{":
        return None
    try:
        if parsed.iri(name) != LABEL_SERVICE:
            return None
    except KeyError:
        return None
    depth = 0
    for j in range(i + 2, len(code)):
        c = value(code[j]) if code[j].kind == "punct" else ""
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth == 0:
            return i + 2, j
    return None  # unbalanced: the engine reports the syntax error


def _read_block(parsed: ParsedQuery, body: list[Token], service: Token) -> tuple[list[str], list[_Binding]]:
    """The languages asked for and the manual-mode bindings written inside the block."""
    value = parsed.value
    languages: list[str] = []
    manual: list[_Binding] = []
    subject: Token | None = None
    k = 0

    def fail(what: str, at: Token) -> QuerySyntaxError:
        return QuerySyntaxError(f"SERVICE wikibase:label: {what}", parsed.location(at.start),
                                hint='write it as on WDQS: SERVICE wikibase:label { bd:serviceParam '
                                     'wikibase:language "en,fr" . } (optionally ?x rdfs:label ?name)')

    while k < len(body):
        if subject is None:
            subject = body[k]
            k += 1
        if k + 1 >= len(body):
            raise fail("a triple is incomplete", body[k] if k < len(body) else subject)
        predicate, obj = body[k], body[k + 1]
        k += 2
        if subject.kind in ("iri", "pname") and _iri(parsed, subject) == _SERVICE_PARAM:
            if predicate.kind not in ("iri", "pname") or _iri(parsed, predicate) != _LANGUAGE:
                raise fail(f"unknown service parameter {value(predicate)}", predicate)
            if obj.kind != "string":
                raise fail("the language list must be a string such as \"en,fr\"", obj)
            for code in unescape(value(obj)).split(","):
                code = code.strip()
                code = "en" if code == _AUTO_LANGUAGE else code
                if code and code not in languages:
                    languages.append(code)
        elif subject.kind == "var" and predicate.kind in ("iri", "pname") and obj.kind == "var" \
                and _iri(parsed, predicate) in _BY_PREDICATE:
            manual.append(_Binding(value(subject)[1:], _BY_PREDICATE[_iri(parsed, predicate)], value(obj)[1:]))
        else:
            raise fail(f"cannot read {value(subject)} {value(predicate)} {value(obj)}", subject)
        sep = value(body[k]) if k < len(body) else "."
        if sep == ";":
            k += 1
        elif sep == ".":
            subject = None
            k += 1
        else:
            raise fail(f"expected '.' or ';' before {sep}", body[k])
    if not languages:
        raise fail('no language: add bd:serviceParam wikibase:language "en"', service)
    return languages, manual


def _iri(parsed: ParsedQuery, token: Token) -> str | None:
    try:
        return parsed.iri(token)
    except KeyError:
        return None


def _automatic_bindings(parsed: ParsedQuery) -> list[_Binding]:
    """``?xLabel``, ``?xDescription``, ``?xAltLabel`` for every ``?x`` of the query (WDQS's
    automatic mode), in order of appearance."""
    names = parsed.variables
    present = set(names)
    out = []
    for name in names:
        for kind in _KINDS:
            base = name[: -len(kind)]
            if name.endswith(kind) and base and base in present:
                out.append(_Binding(base, kind, name))
                break
    return out


def _enclosing_group_end(parsed: ParsedQuery, service_at: int, close_at: int) -> int:
    """Index of the ``}`` that closes the group the SERVICE block sits in."""
    code, value = parsed.code, parsed.value
    depth = 0
    for j in range(close_at + 1, len(code)):
        c = value(code[j]) if code[j].kind == "punct" else ""
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return j
            depth -= 1
    raise QuerySyntaxError("SERVICE wikibase:label must sit inside a group { }",
                           parsed.location(code[service_at].start))


def _bind_text(bindings: list[_Binding], languages: list[str], counter: list[int]) -> str:
    """OPTIONAL sub-selects (one per name and language, at most one value each) and a BIND per
    name. The entity is first copied to a variable that is always bound (a placeholder IRI when
    it is not), so that an unbound entity joins with nothing instead of with every label."""
    parts: list[str] = []
    keys: dict[str, str] = {}
    for b in bindings:
        if b.subject not in keys:
            counter[0] += 1
            keys[b.subject] = key = f"?{HELPER_PREFIX}{counter[0]}_key"
            parts.append(f"BIND(COALESCE(?{b.subject}, <urn:cowkg:wdqs:unbound>) AS {key})")
        key = keys[b.subject]
        found = []
        for lang in languages:
            counter[0] += 1
            var = f"?{HELPER_PREFIX}{counter[0]}"
            found.append(var)
            inner = f"?{HELPER_PREFIX}{counter[0]}_v"
            pick = f"STR(GROUP_CONCAT(DISTINCT {inner}; SEPARATOR=\", \"))" if b.kind == "AltLabel" else f"MIN({inner})"
            parts.append(f"OPTIONAL {{ SELECT ({key}_s AS {key}) ({pick} AS {var}) WHERE {{ "
                         f"{key}_s <{_KINDS[b.kind]}> {inner} FILTER(LANG({inner}) = {_string(lang)}) }} "
                         f"GROUP BY {key}_s }}")
        if b.kind == "Label":  # WDQS falls back to the entity's identifier, or a literal's text
            found.append(f'IF(isIRI(?{b.subject}), REPLACE(STR(?{b.subject}), "^.*[/#]", ""), STR(?{b.subject}))')
        parts.append(f"BIND(COALESCE({', '.join(found)}) AS ?{b.target})")
    return " " + " ".join(parts) + " "


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
