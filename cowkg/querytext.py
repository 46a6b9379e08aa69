"""Query text: one lexical parse of a SPARQL query, shared by every decision taken before evaluation.

Stage: between the request and the backend. Input: the query string as sent. Output: a
``ParsedQuery`` — its tokens (SPARQL 1.1 terminals, with positions), prologue, form, dataset
clauses, variables, nesting depth — from which the endpoint decides what to refuse (UPDATE,
SERVICE, too deep a nesting), which dataset to use and how to order ``SELECT *`` columns, and the
remote backend rewrites the query for Virtuoso. The text is scanned once; every check reads tokens.

Why a separate safety scan (``reachable_words``): pyoxigraph's parser is a PEG that decides what a
character means by context. ``<`` opens an IRI where a term is expected and is "less than" inside
an expression, so ``FILTER(?a<=?b+'>')`` is a comparison followed by a string for the engine, while a
lexer that prefers the longest token reads an IRI ``<=?b+'>`` and then a string opening at the next
quote. Any single tokenisation can therefore disagree with the engine about what is a string, an
IRI or a comment — exactly the room a hidden ``SERVICE`` needs (issue 17, finding 1). So the
scan for refused keywords follows *every* way the text can be cut into tokens (IRI or operator at
each ``<``, long or short string at each quote run, W3C or Oxigraph end of a prefixed name) and
refuses when any of them reaches the keyword. Keywords are matched without word boundaries
(``trueSERVICE<...>`` is two tokens to the engine), and a prefixed name whose prefix is not declared
counts as words (``SERVICE:x`` is the keyword and ``:x`` when ``SERVICE:`` is no prefix).

>>> q = parse_query("PREFIX ex: <http://ex/> SELECT * FROM <http://g/> WHERE { ?s ex:p ?o }")
>>> q.form, q.select_star, q.dataset
('SELECT', True, (('default', 'http://g/'),))
>>> reaches(parse_query("SELECT * { VALUES ?v { ex:a\\\\#b } SERVICE <http://127.0.0.1/> { ?x ?y ?z } }"), "service")
True
>>> reaches(parse_query("SELECT * { ?s ?p 'SERVICE' } # SERVICE"), "service")
False
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import cached_property, lru_cache
from typing import NamedTuple

from .errors import Location, QueryTooComplex
from .vocab import PREFIXES

# --- SPARQL 1.1 terminals (§19.8), with Oxigraph's readings where they differ --------------------------

_HEX = "[0-9A-Fa-f]"
_UCHAR = rf"\\u{_HEX}{{4}}|\\U{_HEX}{{8}}"
_ECHAR = r"""\\[tbnrf"'\\]"""
_PN_CHARS_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
                  "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_PN_CHARS_U = _PN_CHARS_BASE + "_"
_PN_CHARS = _PN_CHARS_U + r"\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = rf"%{_HEX}{{2}}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PN_PREFIX = rf"[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"
_LOCAL_CHAR = rf"[{_PN_CHARS}:]|{_PLX}"
_PN_LOCAL = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:(?:{_LOCAL_CHAR}|\.)*(?:{_LOCAL_CHAR}))?"
#: Oxigraph's PN_LOCAL allows one run of dots inside a local name (``ex:a.b.c`` ends at ``ex:a.b``).
_PN_LOCAL_OXIGRAPH = rf"(?:[{_PN_CHARS_U}:0-9]|{_PLX})(?:{_LOCAL_CHAR})*(?:\.+(?:{_LOCAL_CHAR})+)?"
_VARNAME = rf"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"

#: The IRI reading of ``<``: every IRI the engine accepts matches (a superset: the engine also checks
#: the IRI's structure), so no IRI is ever mistaken for code that could open a string or a comment.
_IRIREF = rf"<(?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*>"
_IRI_PLAIN = r"<[^<>\"{}|^`\\\x00-\x20]*>"
_STRING_LONG1 = rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''"
_STRING_LONG2 = rf'"""(?:(?:"|"")?(?:[^"\\]|{_ECHAR}|{_UCHAR}))*"""'
_STRING1 = rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'"
_STRING2 = rf'"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*"'

#: The terminals, most frequent first (a word that is not the prefix of a prefixed name is tried
#: before the costlier prefixed-name pattern); ``junk`` catches a character that fits none.
_TERMINALS = (
    ("ws", r"[ \t\r\n]+"),
    ("var", rf"[?$]{_VARNAME}"),
    ("word", rf"[A-Za-z_][A-Za-z0-9_]*+(?![{_PN_CHARS}.:])"),  # possessive: a shorter word never fits
    ("punct", r"[{}();,*]|\^\^|&&|\|\||!=|>=|<=(?![^<>\"{}|^`\\\x00-\x20]*>)"),
    ("pname", rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?"),
    ("iri", _IRIREF),
    ("string", rf"{_STRING_LONG1}|{_STRING_LONG2}|{_STRING1}|{_STRING2}"),
    ("comment", r"#[^\r\n]*"),
    ("number", r"[0-9]+\.[0-9]*[eE][+-]?[0-9]+|\.[0-9]+[eE][+-]?[0-9]+|[0-9]+[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+"),
    ("bnode", rf"_:[{_PN_CHARS_U}0-9](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?"),
    ("name", rf"[{_PN_CHARS_U}][{_PN_CHARS_U}0-9]*"),
    ("langtag", r"@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?"),
    ("op", r"[<.\[\]/|^=>!+\-?]"),
    ("junk", r"[\s\S]"),
)


@lru_cache(maxsize=1)
def _token_re() -> re.Pattern:
    """Every token, white space and comments included (what the all-readings scan steps through).

    Compiled on first use, as ``_pname_oxigraph_re``: only a text whose plain reading lacks a
    word it contains needs them, and the Unicode classes of SPARQL names make each pattern cost
    ~45 ms to compile, a third of the import of this module (issue 15: a server ready in < 1 s)."""
    return re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _TERMINALS))


#: The code tokens only: each match is the white space and comments before a token, then the token
#: (or the end of the text), so a query costs one match per code token, half as many as above.
_CODE_PATTERN = r"(?:[ \t\r\n]+|#[^\r\n]*)*(?:" + "|".join(
    f"(?P<{name}>{pattern})" for name, pattern in _TERMINALS if name not in ("ws", "comment")) + r"|(?P<eof>\Z))"


def _ascii_reading(pattern: str) -> str:
    """``pattern`` without the non-ASCII characters and ranges of its character classes: on an
    ASCII text it matches exactly what ``pattern`` matches (a class's non-ASCII members can never
    match there), and it compiles 5x faster (the Unicode classes of SPARQL names are most of the
    import of this module, which ``cowkg serve`` pays before its first answer)."""
    return re.sub(r"[^\x00-\x7f]-[^\x00-\x7f]|[^\x00-\x7f]", "", pattern)


class _Readings:
    """A pattern compiled two ways: ``ascii`` (``_ascii_reading``) at once, ``full`` on first use;
    called with a text, the one to read it with."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.ascii = re.compile(_ascii_reading(pattern))
        self._full: re.Pattern | None = None

    @property
    def full(self) -> re.Pattern:
        if self._full is None:
            self._full = re.compile(self.pattern)
        return self._full

    def __call__(self, text: str) -> re.Pattern:
        return self.ascii if text.isascii() else self.full


#: The code tokens of a text (an ASCII one, nearly every query, by the pattern compiled at import).
_code_re = _Readings(_CODE_PATTERN)
#: Group names that are one kind of token under another name (kept apart only for speed).
_KIND = {"name": "word", "op": "punct"}
_STRING_STARTS = {
    "'": [re.compile(_STRING_LONG1), re.compile(_STRING1)],
    '"': [re.compile(_STRING_LONG2), re.compile(_STRING2)],
}
_IRI_RE = re.compile(_IRIREF)


@lru_cache(maxsize=1)
def _pname_oxigraph_re() -> re.Pattern:
    return re.compile(rf"(?:{_PN_PREFIX})?:(?:{_PN_LOCAL_OXIGRAPH})?")


_UCHAR_RE = re.compile(_UCHAR)
_ESCAPE_RE = re.compile(rf"{_UCHAR}|{_ECHAR}")
_PLX_ESCAPE_RE = re.compile(r"\\(.)")

#: Deepest nesting of ``{ ( [`` accepted. The engine's recursive parser and evaluator overflow
#: their stack somewhere past a thousand levels (5,000 braces crashed the process); real queries
#: stay under 20.
MAX_DEPTH = 100
#: Most tokens a query may have: a 100 kB query of one-character tokens has ~50,000.
MAX_TOKENS = 60_000
#: Most operators and group-pattern keywords a query may have. Each nests the engine's syntax
#: tree one level deeper however flat the text looks (``1+1+...``, ``BIND ... BIND``): measured,
#: 3,000 BINDs or 10,000 ``+`` crash the process (bench/results/nesting.txt); 1,500 is far above
#: any real query and far below that.
MAX_OPERATORS = 1500
_CHAIN_PUNCT = frozenset(("+", "-", "*", "/", "|", "||", "&&", "!", "=", "!=", "<", ">", "<=", ">=", "^", ".",
                          ";", ","))
_CHAIN_CHARS = frozenset("".join(_CHAIN_PUNCT))
_CHAIN_WORDS = frozenset(("UNION", "OPTIONAL", "MINUS", "BIND", "FILTER", "VALUES", "SERVICE", "GRAPH", "IN",
                          "EXISTS"))
#: Work the all-readings scan may do, per character of the query, before it refuses the query as
#: too intricate to check (only adversarial texts come near: thousands of unclosed quote runs).
SCAN_BUDGET_PER_CHAR = 24

_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_UPDATES = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")
_KEYWORDS_OF_FORMS = frozenset(_FORMS + _UPDATES)
_OPEN, _CLOSE = "{([", "})]"


class Token(NamedTuple):
    """One terminal: its kind (ws, comment, iri, string, var, bnode, langtag, number, pname, word,
    punct, junk) and where it lies in the text."""

    kind: str
    start: int
    end: int


class ParsedQuery:
    """A query's tokens and what the endpoint decides from them (see the module docstring).

    Everything is computed on first use: the form and prologue read only the head of the text,
    the dataset clauses only a text that has the letters "from", and so on, so a request pays
    for the checks it needs.
    """

    def __init__(self, text: str, predeclared: Mapping[str, str] = PREFIXES) -> None:
        self.text = text
        self.predeclared = predeclared

    #: What a parse sent to another process carries besides its text: the decisions an engine
    #: needs, not the tokens (a few hundred bytes instead of tens of kilobytes; the rest is read
    #: again from the text if ever asked for, e.g. to place a syntax error).
    _TRAVELS = ("form", "select_star", "dataset", "variables", "engine_text", "edits", "wikidata_vocabulary",
                "verdicts")

    def decide(self) -> ParsedQuery:
        """Take every decision that travels (``_TRAVELS``) now, from the tokens read once here, so
        the process that evaluates the query reads none again. Returns the parse."""
        for name in self._TRAVELS:
            if name != "variables" or self.select_star:
                getattr(self, name)
        return self

    def __getstate__(self) -> dict:
        state = {name: self.__dict__[name] for name in self._TRAVELS if name in self.__dict__}
        if state.get("form") != "SELECT" or not state.get("select_star"):
            state.pop("variables", None)  # only SELECT * orders its columns by them
        state["text"] = self.text
        state["predeclared"] = None if self.predeclared is PREFIXES else dict(self.predeclared)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.predeclared is None:
            self.predeclared = PREFIXES

    def value(self, token: Token) -> str:
        """The token as written."""
        return self.text[token.start:token.end]

    @cached_property
    def lowered(self) -> str:
        """The text in lower case with ``\\u`` escapes decoded: a keyword absent from it is absent."""
        text = self.text
        return (_UCHAR_RE.sub(_decode_uchar, text) if "\\" in text else text).lower()

    @cached_property
    def cached_prologue(self) -> _Prologue | None:
        """The leading PREFIX/BASE declarations, read once for every query that starts with the
        same ones (most clients send one long prologue with every query); None when short."""
        end = _prologue_re(self.text).match(self.text).end()
        return _prologue_facts(self.text[:end]) if end >= _PROLOGUE_WORTH_CACHING else None

    @cached_property
    def body(self) -> list[Token]:
        """The code tokens after the cached prologue (all of them when there is none)."""
        cached = self.cached_prologue
        return _lex_code(self.text, cached.end if cached else 0)

    @cached_property
    def code(self) -> list[Token]:
        """The tokens other than white space and comments."""
        cached = self.cached_prologue
        return [*cached.tokens, *self.body] if cached else self.body

    @cached_property
    def head(self) -> list[Token]:
        """The code tokens up to a few past the query form's keyword (prologue, form, modifiers)."""
        cached = self.cached_prologue
        out: list[Token] = list(cached.tokens) if cached else []  # declarations only: no form keyword
        if "body" in self.__dict__:
            source: Iterable[Token] = self.body
        else:
            source = _iter_code(self.text, cached.end if cached else 0)
        after = -1
        for t in source:
            out.append(t)
            if after < 0 and t.kind == "word" and self.value(t).upper() in _KEYWORDS_OF_FORMS:
                after = 3
            elif after > 0:
                after -= 1
            if after == 0:
                break
        return out

    @cached_property
    def head_past_prologue(self) -> list[Token]:
        """``head`` without the cached prologue's tokens (declarations only: no form keyword)."""
        cached = self.cached_prologue
        return self.head[len(cached.tokens):] if cached else self.head

    @cached_property
    def prologue(self) -> tuple[dict[str, str], str | None]:
        """The PREFIX declarations (name → IRI) and the BASE IRI of the query's prologue."""
        cached = self.cached_prologue
        if cached is None:
            return _declarations(self.text, self.head, {}, None)
        return _declarations(self.text, self.head[len(cached.tokens):], dict(cached.prefixes), cached.base)

    @property
    def prefixes(self) -> dict[str, str]:
        return self.prologue[0]

    @property
    def base(self) -> str | None:
        return self.prologue[1]

    @cached_property
    def form(self) -> str | None:
        """SELECT, ASK, CONSTRUCT, DESCRIBE; UPDATE for an update; None when the text has neither."""
        for t in self.head_past_prologue:
            if t.kind == "word":
                word = self.value(t).upper()
                if word in _FORMS:
                    return word
                if word in _UPDATES:
                    return "UPDATE"
        return None

    @cached_property
    def select_star(self) -> bool:
        """Whether the query is ``SELECT [DISTINCT|REDUCED] *``."""
        code = self.head_past_prologue
        for i, t in enumerate(code):
            if t.kind == "word" and self.value(t).upper() == "SELECT":
                j = i + 1
                if j < len(code) and self.value(code[j]).upper() in ("DISTINCT", "REDUCED"):
                    j += 1
                return j < len(code) and self.value(code[j]) == "*"
        return False

    @cached_property
    def dataset(self) -> tuple[tuple[str, str], ...]:
        """The query's FROM / FROM NAMED clauses: (``default`` or ``named``, absolute IRI) pairs."""
        return tuple((kind, iri) for kind, iri, _span in self.dataset_clauses)

    @cached_property
    def dataset_clauses(self) -> list[tuple[str, str, tuple[int, int]]]:
        """FROM / FROM NAMED clauses with the text span each covers (for a backend that removes them)."""
        if "from" not in self.lowered:
            return []
        out = []
        code = self.code
        for i, t in enumerate(code):
            if t.kind != "word" or self.value(t).upper() != "FROM":
                continue
            j, kind = i + 1, "default"
            if j < len(code) and code[j].kind == "word" and self.value(code[j]).upper() == "NAMED":
                j, kind = j + 1, "named"
            if j < len(code) and code[j].kind in ("iri", "pname"):
                try:
                    out.append((kind, self.iri(code[j]), (t.start, code[j].end)))
                except KeyError:
                    continue  # an undeclared prefix: the engine reports it
        return out

    @cached_property
    def variables(self) -> list[str]:
        """Variable names in order of first appearance (the order ``SELECT *`` columns take)."""
        seen: dict[str, None] = {}
        for t in self.code:
            if t.kind == "var":
                seen.setdefault(self.value(t)[1:], None)
        return list(seen)

    @cached_property
    def depth(self) -> int:
        """Deepest nesting of braces, parentheses and brackets."""
        return _depth_of(self, self.code)[0]

    def iri(self, token: Token) -> str:
        """The IRI an ``iri`` or ``pname`` token stands for (escapes decoded, prefixes expanded,
        relative IRIs resolved against the query's BASE when it has one). KeyError for an
        undeclared prefix."""
        text = self.value(token)
        if token.kind == "iri":
            iri = _UCHAR_RE.sub(_decode_uchar, text[1:-1])
            if self.base and not re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", iri):
                from urllib.parse import urljoin

                return urljoin(self.base, iri)
            return iri
        prefix, _, local = text.partition(":")
        namespace = self.prefixes.get(prefix, self.predeclared.get(prefix))
        if namespace is None:
            raise KeyError(prefix)
        return namespace + _PLX_ESCAPE_RE.sub(r"\1", local)

    def undeclared_prefixes(self) -> list[str]:
        """Prefixes used but neither declared in the query nor predeclared."""
        used = {self.value(t).partition(":")[0] for t in self.code if t.kind == "pname"}
        return sorted(p for p in used if p and p not in self.prefixes and p not in self.predeclared)

    def first_use(self, prefix: str) -> Location | None:
        """Line and column (1-based) of the first use of ``prefix:`` in the query."""
        for t in self.code:
            if t.kind == "pname" and self.value(t).partition(":")[0] == prefix:
                return self.location(t.start)
        return None

    def location(self, offset: int) -> Location:
        """The query's line and column (1-based) of a character offset."""
        line = self.text.count("\n", 0, offset) + 1
        return Location("query", line, offset - (self.text.rfind("\n", 0, offset) + 1) + 1)

    @cached_property
    def engine_text(self) -> str:
        """The text to hand an engine, with two rewrites of the text as written:

        * every ``GROUP_CONCAT(...)`` wrapped in ``STR(...)``, so its value is the simple literal
          SPARQL 1.1 defines (§18.5.1.7) — pyoxigraph 0.5 keeps the inputs' language tag when they
          share one (w3c/rdf-tests#280);
        * Wikidata's label service answered in the text (``cowkg.wdqs``), never called.

        Error positions in the engine text map back with ``written_offset``.

        >>> parse_query('SELECT (GROUP_CONCAT(?l; SEPARATOR=", ") AS ?x) {}').engine_text
        'SELECT (STR(GROUP_CONCAT(?l; SEPARATOR=", ")) AS ?x) {}'
        """
        from .wdqs import label_service_edits

        text, self.edits = _edited(self.text, self._group_concat_edits() + label_service_edits(self))
        return text

    def _group_concat_edits(self) -> list[tuple[int, int, str]]:
        if "group_concat" not in self.lowered:
            return []
        code, value = self.body, self.value  # past the cached prologue: declarations only
        edits: list[tuple[int, int, str]] = []
        for i, t in enumerate(code):
            if t.kind != "word" or t.end - t.start != 12 or value(t).upper() != "GROUP_CONCAT" \
                    or i + 1 >= len(code) or value(code[i + 1]) != "(":
                continue
            depth = 0
            for t2 in code[i + 1:]:
                c = value(t2) if t2.kind == "punct" else ""
                depth += {"(": 1, ")": -1}.get(c, 0)
                if depth == 0:
                    edits += [(t.start, 0, "STR("), (t2.end, 0, ")")]
                    break
        return edits

    def written_offset(self, engine_offset: int) -> int:
        """The offset in the text as written of an offset in ``engine_text``: inside an inserted
        text, where the insertion was made."""
        self.engine_text  # noqa: B018 - computes the edits
        shift = 0
        for pos, size, inserted in self.edits:
            start = pos + shift  # where the edit begins in engine_text
            if engine_offset < start:
                break
            if engine_offset < start + inserted:
                return pos
            shift += inserted - size
        return engine_offset - shift

    @cached_property
    def for_engine(self) -> ParsedQuery:
        """The parse of ``engine_text`` (this parse when the text needs no rewrite): what the
        refusals must read, since it is what the engine runs."""
        text = self.engine_text
        return self if text == self.text else parse_query(text, self.predeclared)

    @cached_property
    def wikidata_vocabulary(self) -> bool:
        """Whether the query names anything in Wikidata's namespaces (``cowkg.wdqs``)."""
        from .wdqs import uses_wikidata_vocabulary

        return uses_wikidata_vocabulary(self)

    @cached_property
    def verdicts(self) -> dict:
        """Refusal decisions already taken on this parse, by what they depended on (``query.refuse``)."""
        return {}

    @cached_property
    def cache_text(self) -> str:
        """The text as the response cache keys it: the code tokens, one space between them, so
        queries that differ only in layout and comments share an answer.

        Only where that reading surely agrees with the engine's: a text with a backslash (an escape
        may hide a quote or a ``#``), with characters that fit no token, or with an IRI past the
        prologue that holds a quote or ``#`` (the engine may read its ``<`` as "less than", and a
        string or comment then opens inside, see the module docstring) keeps its exact text as key.

        >>> parse_query("ASK {  ?s ?p 'a  b' } # one").cache_text == parse_query("ASK { ?s ?p 'a  b' }").cache_text
        True
        >>> parse_query("ASK { ?s ?p 'a b' }").cache_text == parse_query("ASK { ?s ?p 'a  b' }").cache_text
        False
        """
        text = self.text
        if "\\" in text:
            return text
        for t in self.body:
            if t.kind == "junk" or (t.kind == "iri" and any(c in text[t.start:t.end] for c in "'\"#")):
                return text
        cached = self.cached_prologue
        words = " ".join([text[t.start:t.end] for t in self.body])
        return f"{cached.layout} {words}" if cached else words

    @cached_property
    def may_name_graphs(self) -> bool:
        """Whether the query may hold the keyword GRAPH, the only way to a named graph besides FROM
        NAMED and the protocol's named-graph-uri: among the code tokens, or wherever the word is when
        the text may be read another way (the same rule as ``cache_text``).

        >>> parse_query("PREFIX g: <http://x/graph/> ASK { ?s g:graph 'graph' }").may_name_graphs
        False
        >>> parse_query("ASK { GRAPH?g{ ?s ?p ?o } }").may_name_graphs
        True
        """
        text = self.text
        if "\\" in text or any(t.kind == "junk" or (t.kind == "iri" and any(c in text[t.start:t.end] for c in "'\"#"))
                               for t in self.body):
            return "graph" in self.lowered  # the text may be read another way (see ``cache_text``)
        return any(t.kind == "word" and t.end - t.start == 5 and text[t.start:t.end].lower() == "graph"
                   for t in self.body)


def parse_query(text: str, predeclared: Mapping[str, str] = PREFIXES) -> ParsedQuery:
    """The query's parse, with the checks every query must pass before an engine sees it.

    Raises QueryTooComplex (400) for a nesting deeper than ``MAX_DEPTH`` or more than
    ``MAX_TOKENS`` tokens: the engine's recursive parser would crash on such a text. Characters
    that fit no token are kept as ``junk`` tokens; the engine reports them as syntax errors.
    """
    parsed = ParsedQuery(text, predeclared)
    if text.count("{") + text.count("(") + text.count("[") > MAX_DEPTH:
        deepest, where = _depth_of(parsed, parsed.code)
        if deepest > MAX_DEPTH:
            raise QueryTooComplex(f"the query nests {{ ( [ {deepest} levels deep; at most {MAX_DEPTH} are accepted",
                                  where, hint="flatten the query (fewer nested groups, subqueries or "
                                              "parentheses)", details={"max_depth": MAX_DEPTH})
    if len(text) > MAX_OPERATORS and _most_operators(parsed) > MAX_OPERATORS:
        value = parsed.value
        count = sum(1 for t in parsed.code if (t.kind == "punct" and value(t) in _CHAIN_PUNCT)
                    or (t.kind == "word" and value(t).upper() in _CHAIN_WORDS))
        if count > MAX_OPERATORS:
            raise QueryTooComplex(f"the query has {count} operators and group patterns; at most {MAX_OPERATORS} are "
                                  "accepted", hint="split it into smaller queries, or use VALUES or IN lists",
                                  details={"max_operators": MAX_OPERATORS})
    if len(text) > MAX_TOKENS and len(parsed.code) > MAX_TOKENS:
        raise QueryTooComplex(f"the query has {len(parsed.code)} tokens; at most {MAX_TOKENS} are accepted",
                              hint="split it into smaller queries", details={"max_tokens": MAX_TOKENS})
    return parsed


def _edited(text: str, edits: list[tuple[int, int, str]]) -> tuple[str, list[tuple[int, int, int]]]:
    """``text`` with ``edits`` (offset, length replaced, new text) made, and the edits as
    ``written_offset`` reads them (offset, length replaced, length inserted)."""
    # From the end, so offsets hold; of two edits at one offset, the first listed comes first.
    for _pos, _index, (pos, size, insert) in sorted(((e[0], i, e) for i, e in enumerate(edits)), reverse=True):
        text = text[:pos] + insert + text[pos + size:]
    return text, sorted((pos, size, len(insert)) for pos, size, insert in edits)


def parse_plain(text: str) -> ParsedQuery | None:
    """The parse of a *plain* query (``cowkg.native``: one of the four forms, no SERVICE, FROM or
    BASE, not ``SELECT *``, nothing of Wikidata's vocabulary, no escape or word past ASCII, within
    the limits) with every decision ``decide`` takes already taken by the native scanner, so the
    text is not read again here; None when the query is not plain or the scanner is not built
    (then ``parse_query``). The decisions are the ones ``parse_query`` reaches on the same text
    (tests/test_native_querytext.py), for the project's predeclared prefixes."""
    from . import native

    found = native.plain(text)
    return None if found is None else plain_parse(text, *found)


def plain_parse(text: str, form: str, key: str, group_concat: list[tuple[int, int]],
                names_graphs: bool) -> ParsedQuery:
    """The parse of a plain ``text`` from the scanner's decisions about it (``native.plain``'s, or
    the native front's, which ran the same scanner: ``cowkg.web.framed``)."""
    engine_text, edits = _edited(text, [e for start, end in group_concat for e in ((start, 0, "STR("), (end, 0, ")"))])
    parsed = ParsedQuery(text)
    parsed.__dict__.update(form=form, select_star=False, dataset=(), dataset_clauses=[], engine_text=engine_text,
                           edits=edits, wikidata_vocabulary=False, cache_text=key, may_name_graphs=names_graphs,
                           verdicts={("service", True): True, ("service", False): True})
    return parsed


def _most_operators(parsed: ParsedQuery) -> int:
    """An upper bound of the operators ``parse_query`` counts, from the characters and words of the
    text alone: every operator token holds one of these characters or is one of these words."""
    lowered = parsed.lowered
    return (sum(map(lowered.count, _CHAIN_CHARS))
            + sum(lowered.count(word.lower()) for word in _CHAIN_WORDS))


def _depth_of(parsed: ParsedQuery, code: list[Token]) -> tuple[int, Location | None]:
    """The deepest nesting and where it first passes ``MAX_DEPTH``."""
    depth = deepest = 0
    where = None
    text = parsed.text
    for t in code:
        if t.kind == "punct":
            c = text[t.start]
            if c in _OPEN:
                depth += 1
                if depth > deepest:
                    deepest = depth
                    if depth == MAX_DEPTH + 1:
                        where = parsed.location(t.start)
            elif c in _CLOSE:
                depth -= 1
    return deepest, where


def code_tokens(text: str) -> list[Token]:
    """The code tokens of ``text`` (no white space or comments). A leading prologue of PREFIX and
    BASE declarations — most clients send the same long one with every query — is read once and
    its tokens kept (``_prologue_facts``); only the rest of the text is read each time.

    >>> [(t.kind, t.start, t.end) for t in code_tokens("PREFIX ex: <http://e/> ASK { ex:a ?p 1 } # x")]
    [('word', 0, 6), ('pname', 7, 10), ('iri', 11, 22), ('word', 23, 26), ('punct', 27, 28), \
('pname', 29, 33), ('var', 34, 36), ('number', 37, 38), ('punct', 39, 40)]
    """
    return ParsedQuery(text).code


#: A prologue as the lexer reads it: white space, comments, ``PREFIX name: <iri>`` and ``BASE <iri>``,
#: each ending where a token ends (so reading on from its end gives the tokens a whole read gives).
#: (IRIs with ``\\u`` escapes end it early: they are read with the rest.)
_PROLOGUE_PATTERN = (rf"(?:[ \t\r\n]+|#[^\r\n]*\n|[Pp][Rr][Ee][Ff][Ii][Xx][ \t\r\n]+(?:{_PN_PREFIX})?:"
                     rf"[ \t\r\n]*{_IRI_PLAIN}|[Bb][Aa][Ss][Ee][ \t\r\n]*{_IRI_PLAIN})*")
_prologue_re = _Readings(_PROLOGUE_PATTERN)


#: Shorter prologues are read with the rest of the text (a cache lookup would cost more).
_PROLOGUE_WORTH_CACHING = 200


class _Prologue(NamedTuple):
    """What a cached prologue gives every query that starts with it."""

    tokens: tuple[Token, ...]
    prefixes: dict[str, str]
    base: str | None
    layout: str  # its tokens, one space between them (the start of ``cache_text``)
    end: int


@lru_cache(maxsize=64)
def _prologue_facts(prologue: str) -> _Prologue:
    tokens = tuple(_lex_code(prologue, 0))
    prefixes, base = _declarations(prologue, tokens, {}, None)
    return _Prologue(tokens, prefixes, base, " ".join(prologue[t.start:t.end] for t in tokens), len(prologue))


def _declarations(text: str, code: Sequence[Token], prefixes: dict[str, str],
                  base: str | None) -> tuple[dict[str, str], str | None]:
    """``prefixes`` and ``base`` with the PREFIX and BASE declarations at the start of ``code`` added."""
    i = 0
    while i < len(code):
        t = code[i]
        word = text[t.start:t.end].upper() if t.kind == "word" else ""
        if word == "PREFIX" and i + 2 < len(code) and code[i + 1].kind == "pname" and code[i + 2].kind == "iri":
            name = text[code[i + 1].start:code[i + 1].end]
            if name.endswith(":"):
                prefixes[name[:-1]] = _UCHAR_RE.sub(_decode_uchar, text[code[i + 2].start + 1:code[i + 2].end - 1])
            i += 3
        elif word == "BASE" and i + 1 < len(code) and code[i + 1].kind == "iri":
            base = _UCHAR_RE.sub(_decode_uchar, text[code[i + 1].start + 1:code[i + 1].end - 1])
            i += 2
        else:
            break
    return prefixes, base


def _iter_code(text: str, pos: int) -> Iterator[Token]:
    """The code tokens from ``pos`` one at a time, for a reader that may stop early (the head)."""
    kinds, new = _KIND, tuple.__new__
    for m in _code_re(text).finditer(text, pos):
        kind = m.lastgroup
        if kind == "eof":
            return
        yield new(Token, (kinds.get(kind, kind), m.start(kind), m.end()))


def _lex_code(text: str, pos: int) -> list[Token]:
    kinds, new = _KIND, tuple.__new__
    out = []
    for m in _code_re(text).finditer(text, pos):
        kind = m.lastgroup
        if kind == "eof":
            break
        out.append(new(Token, (kinds.get(kind, kind), m.start(kind), m.end())))
    return out


def _decode_uchar(m: re.Match) -> str:
    try:
        return chr(int(m.group()[2:], 16))
    except (ValueError, OverflowError):
        return "\ufffd"


def unescape(text: str) -> str:
    r"""A string token's value: quotes removed, ``\n``-style and ``\u`` escapes decoded.

    >>> unescape(r"'l\u00E0\tx'")
    'là\tx'
    """
    body = text[3:-3] if text[:3] in ("'''", '"""') and len(text) >= 6 else text[1:-1]
    simple = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}
    return _ESCAPE_RE.sub(lambda m: simple[m.group()[1]] if len(m.group()) == 2 else _decode_uchar(m), body)


# --- every reading of the text ---------------------------------------------------------------------------

def _words(text: str, tokens: Iterable[tuple[str, int, int]]) -> Iterator[str]:
    """Words and prefixed-name prefixes (lower case) among ``tokens``: where a keyword can be.

    A prefixed name's local part is never a keyword: if its prefix is undeclared, the engine may
    read the prefix as a keyword (``SERVICE:x`` is ``SERVICE`` then ``:x``), but what follows the
    colon is then a prefixed name with the empty prefix."""
    for kind, start, end in tokens:
        if kind == "word":
            yield text[start:end].lower()
        elif kind == "pname":
            yield text[start:text.index(":", start)].lower()


def reachable_words(parsed: ParsedQuery) -> Iterator[str]:
    """Every word that some reading of the text makes a token (see ``_words``).

    Raises QueryTooComplex when the text is too intricate to follow within the scan budget.
    """
    return _words(parsed.text, _all_readings(parsed.text))


def keyword_use(parsed: ParsedQuery, keyword: str) -> str | None:
    """Where ``keyword`` (lower case) is in the query, matched inside words as the engine matches
    keywords (without word boundaries): ``"certain"`` when the plain reading of the text has it,
    ``"possible"`` when only another reading does (see the module docstring), None when no reading
    has it. Texts without the letters are answered at once.

    >>> keyword_use(parse_query("SELECT * { SERVICE <http://x/> { ?s ?p ?o } }"), "service")
    'certain'
    >>> keyword_use(parse_query("SELECT * { ?s a <http://e/Service> }"), "service")
    >>> keyword_use(parse_query("SELECT * { ?s ?p <http://e/Service#x> }"), "service")
    'possible'
    """
    if keyword not in parsed.lowered:
        return None
    text = parsed.text
    if any(keyword in w for w in _words(text, ((t.kind, t.start, t.end) for t in parsed.code))):
        return "certain"
    if any(keyword in w for w in reachable_words(parsed)):
        return "possible"
    return None


def reaches(parsed: ParsedQuery, keyword: str) -> bool:
    """Whether any reading of the query has ``keyword`` (lower case) in a word (``keyword_use``)."""
    return keyword_use(parsed, keyword) is not None


def reachable_iris(parsed: ParsedQuery) -> Iterator[str]:
    """Every IRI some reading of the text holds: IRI tokens decoded, prefixed names expanded where
    their prefix is known (used to refuse a remote store's built-in function namespaces)."""
    text = parsed.text
    for kind, start, end in _all_readings(text):
        if kind == "iri":
            yield _UCHAR_RE.sub(_decode_uchar, text[start + 1:end - 1])
        elif kind == "pname":
            try:
                yield parsed.iri(Token("pname", start, end))
            except KeyError:
                continue


def _role(text: str, kind: str, start: int, end: int, before: str) -> str:
    """What a token means for a "<" right after it: "operand" when the token can end an
    expression's operand (a variable, literal, IRI, closing bracket, or a word ending in true/false:
    the engine matches keywords without word boundaries; unknown characters count, to stay safe),
    except the name declared by PREFIX; "prefix" for the PREFIX keyword; "" otherwise."""
    if kind == "pname" and before == "prefix":
        return ""
    if kind in ("var", "string", "number", "iri", "pname", "langtag", "bnode", "junk"):
        return "operand"
    if kind == "punct":
        return "operand" if text[start:end] in (")", "]", "}") else ""
    if kind == "word":
        word = text[start:end].lower()
        if word == "prefix":
            return "prefix"
        return "operand" if word.endswith(("true", "false")) else ""
    return ""


def _all_readings(text: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of every token that starts where some reading of ``text`` puts one.

    A reading branches where the engine's parser may choose: ``<`` (IRI, or an operator), a quote
    (long or short string), a prefixed name (W3C's or Oxigraph's end). Characters that fit no token
    are stepped over one by one, so no later part of the text is ever left unread. Each position is
    expanded once, so the work is linear in the text, with a budget against quadratic string scans.
    """
    n = len(text)
    budget = SCAN_BUDGET_PER_CHAR * n + 10_000
    # A state is a position and what the token before it was: "operand" (a "<" there may be
    # "less than"), "prefix" (the PREFIX keyword: the name after it is a declaration, no operand)
    # or "" (anything else).
    todo: list[tuple[int, str]] = [(0, "")]
    seen: set[tuple[int, str]] = set()
    match = _token_re().match
    while todo:
        pos, before = state = todo.pop()
        if pos >= n or state in seen:
            continue
        seen.add(state)
        after_operand = before == "operand"
        char = text[pos]
        steps: list[tuple[str, int]] = []
        if char == "<":
            m = _IRI_RE.match(text, pos)
            if m:
                steps.append(("iri", m.end()))
            # "<" is "less than" only after an operand; and read as code, an IRI's inside can only
            # change what follows it by opening a string or a comment that runs past its ">".
            if not m or (after_operand and ("'" in m.group() or "#" in m.group())):
                steps.append(("punct", pos + 1))
        elif char in _STRING_STARTS:
            for pattern in _STRING_STARTS[char]:
                m = pattern.match(text, pos)
                if m:
                    steps.append(("string", m.end()))
                    budget -= m.end() - pos
        else:
            m = match(text, pos)
            if m and m.end() > pos:
                kind = _KIND.get(m.lastgroup, m.lastgroup)
                steps.append((kind, m.end()))
                budget -= m.end() - pos
                if kind == "pname":
                    alt = _pname_oxigraph_re().match(text, pos)
                    if alt and alt.end() != m.end():
                        steps.append(("pname", alt.end()))
        if not steps:
            steps.append(("junk", pos + 1))
        budget -= 1
        if budget < 0:
            raise QueryTooComplex("the query text is too intricate to check (quotes and brackets that open "
                                  "more readings than it has characters)", hint="simplify the query")
        for kind, end in steps:
            yield kind, pos, end
            todo.append((end, before if kind in ("ws", "comment") else _role(text, kind, pos, end, before)))
