"""SHACL as SPARQL: the shapes graph compiled into SELECT queries that a store runs itself.

Stage: validation, beside ``cowkg.validate``'s in-process engines. Input: a shapes graph (rdflib,
as ``validate.load_shapes`` reads ``shapes/*.ttl``) and a way to run a SELECT query over the data
(pyoxigraph in this process, or Virtuoso over HTTP). Output: a report graph shaped exactly like
pySHACL's (one ``sh:ValidationResult`` per result, with focus node, path, value, source shape,
constraint component, severity and messages; anonymous shapes and paths copied in as pySHACL copies
them), so ``validate.result_set`` and ``validate.build_report`` read it as they read pySHACL's.

Why: pySHACL and pyshacl-turbo need the data as an rdflib graph (at 1M triples the conversion
alone takes about as long as turbo's validation), and at 10M the data lives only in Virtuoso. A
query runs where the data is, on the indexes the store already has.

How a shape becomes queries (``compile_shapes``): every shape with a target (``sh:targetClass``,
``sh:targetNode``, ``sh:targetSubjectsOf``, ``sh:targetObjectsOf``, SPARQL-based ``sh:target``,
an implicit class target) gives, for itself and for each of its ``sh:property`` shapes, one query
per constraint (a parameter value of a SHACL Core component). A query selects the focus nodes
(``?this``), the value nodes (``?value``) and whatever makes the result unique, only for results:
a value node that breaks the constraint, a focus node whose count is out of range. Constraints that
take a shape (``sh:node``, ``sh:or``, ``sh:and``, ``sh:xone``, ``sh:not``,
``sh:qualifiedValueShape``) compile that shape into a boolean SPARQL expression over the value node
(``EXISTS`` / ``NOT EXISTS`` patterns). Comparisons are wrapped so that a type error counts as a
failed comparison, as pySHACL counts it; ``sh:datatype`` also rejects ill-typed literals (a cast of
the lexical form that fails), as pySHACL does.

What is not SHACL Core as this compiler knows it is refused, never skipped: ``UnsupportedShape``
(an InputError, exit 2) names the construct and the shape. Refused today: ``sh:closed``,
SPARQL-based constraints (``sh:sparql``), custom targets and components, recursive shapes, and a
reporting shape without ``sh:message`` (pySHACL would generate a message; this compiler gives
none rather than a different one).
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, XSD

from .errors import BackendError, CowkgError, InputError
from .load import term_from_rdflib, term_to_rdflib

__all__ = ["Check", "Query", "Result", "UnsupportedShape", "compile_shapes", "compiler_version", "plan", "report_graph",
           "run_checks", "validate_select",
           "store_select"]

#: A row of a SELECT answer: variable name → term (absent or None when unbound).
Row = Mapping[str, "ox.NamedNode | ox.BlankNode | ox.Literal | None"]
#: The SPARQL the compiler writes: standard SPARQL 1.1 (pyoxigraph), or Virtuoso's, whose
#: COALESCE and sameTerm differ (``_Compiler.safe``, ``_Compiler.same``).
DIALECTS = ("sparql", "virtuoso")
#: Runs one SELECT query over the data graph and yields its rows.
Select = Callable[[str], Iterable[Row]]


class UnsupportedShape(InputError):
    """The shapes use a construct this compiler does not translate (named, with the shape)."""


def compiler_version() -> str:
    """A digest of this module's source: a cached verdict of the ``sparql`` engine belongs to the
    compiler that gave it (``cowkg.validate.check_project`` keys its cache on it)."""
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]


@dataclass(frozen=True)
class Check:
    """One compiled constraint: the query and what every row of it reports.

    The query binds ``?this`` (the focus node) and, when ``value`` is true, ``?value`` (the
    result's ``sh:value``); each row is one validation result. ``detail`` (``sh:node`` only): the
    shape whose own results on the value node pySHACL nests under the result with ``sh:detail``.
    """

    prologue: str
    body: str
    shape: rdflib.term.Node  # the source shape
    component: rdflib.URIRef
    path: rdflib.term.Node | None
    severity: rdflib.URIRef
    messages: tuple[rdflib.Literal, ...]
    value: bool
    owner: rdflib.term.Node | None  # the shape with the targets that selected the focus nodes
    detail: rdflib.term.Node | None = None
    #: How the check shares one query with its siblings (see ``plan``): the kind of query
    #: ("value" or "count"), the pattern they share, and this check's failure condition in it.
    merge: tuple[str, str, str] | None = None

    @property
    def sparql(self) -> str:
        return self.prologue + self.body


@dataclass
class Result:
    """One validation result: the check that found it, its row, and the results nested under it."""

    check: Check
    row: Row
    details: list[Result] = field(default_factory=list)


#: Parameters that configure a shape without being a constraint, or are read with another one.
_NOT_CONSTRAINTS = {SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group, SH.defaultValue,
                    SH.deactivated, SH.path, SH.property, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                    SH.targetObjectsOf, SH.target, SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount,
                    SH.qualifiedValueShapesDisjoint, SH.declare, SH.prefixes, SH.ignoredProperties}

#: Component of each constraint parameter this compiler translates.
_COMPONENTS = {
    SH["class"]: SH.ClassConstraintComponent, SH.datatype: SH.DatatypeConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent, SH.minCount: SH.MinCountConstraintComponent,
    SH.maxCount: SH.MaxCountConstraintComponent, SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent, SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent, SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent, SH.pattern: SH.PatternConstraintComponent,
    SH.languageIn: SH.LanguageInConstraintComponent, SH.uniqueLang: SH.UniqueLangConstraintComponent,
    SH.equals: SH.EqualsConstraintComponent, SH.disjoint: SH.DisjointConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent, SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH["not"]: SH.NotConstraintComponent, SH["and"]: SH.AndConstraintComponent,
    SH["or"]: SH.OrConstraintComponent, SH.xone: SH.XoneConstraintComponent, SH.node: SH.NodeConstraintComponent,
    SH.qualifiedValueShape: SH.QualifiedMinCountConstraintComponent, SH.hasValue: SH.HasValueConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
}
#: Parameters checked on each value node on its own (the rest look at all values of a focus node).
_PER_VALUE = {SH["class"], SH.datatype, SH.nodeKind, SH.minExclusive, SH.minInclusive, SH.maxExclusive,
              SH.maxInclusive, SH.minLength, SH.maxLength, SH.pattern, SH.languageIn, SH["not"], SH["and"],
              SH["or"], SH.xone, SH.node, SH["in"]}
#: Datatypes whose lexical forms a SPARQL cast checks (an ill-typed literal fails sh:datatype).
_CASTABLE = {XSD.date, XSD.dateTime, XSD.time, XSD.gYear, XSD.gYearMonth, XSD.decimal, XSD.integer,
             XSD.double, XSD.float, XSD.boolean, XSD.duration, XSD.dayTimeDuration, XSD.yearMonthDuration}
_NUMERIC = (XSD.integer, XSD.decimal, XSD.double, XSD.float, XSD.long, XSD.int, XSD.short, XSD.byte,
            XSD.nonNegativeInteger, XSD.nonPositiveInteger, XSD.positiveInteger, XSD.negativeInteger,
            XSD.unsignedLong, XSD.unsignedInt, XSD.unsignedShort, XSD.unsignedByte)
_NODE_KINDS = {SH.IRI: ("isIRI",), SH.BlankNode: ("isBlank",), SH.Literal: ("isLiteral",),
               SH.BlankNodeOrIRI: ("isBlank", "isIRI"), SH.BlankNodeOrLiteral: ("isBlank", "isLiteral"),
               SH.IRIOrLiteral: ("isIRI", "isLiteral")}
_SUBCLASS = f"<{RDF.type}>/<{RDFS.subClassOf}>*"


def _name(node: rdflib.term.Node, g: rdflib.Graph | None = None) -> str:
    """A shape as an error message names it: its IRI, or where an anonymous one sits (the path it
    constrains and the shape that holds it)."""
    if isinstance(node, rdflib.URIRef):
        return f"<{node}>"
    if g is None:
        return f"an anonymous shape ({node.n3()})"
    path = g.value(node, SH.path)
    where = f" on {path.n3(g.namespace_manager)}" if isinstance(path, rdflib.URIRef) else ""
    parents = [_name(p, g) for p in sorted(g.subjects(None, node), key=str)][:1]
    for p in sorted(g.subjects(RDF.first, node), key=str):  # a member of a list (sh:or, sh:and, ...)
        heads = [h for h in g.transitive_subjects(RDF.rest, p)]
        owners = [o for h in heads for o in g.subjects(None, h) if (o, RDF.rest, h) not in g]
        parents = [_name(o, g) for o in owners][:1] or parents
    return f"an anonymous shape{where}" + (f" in {parents[0]}" if parents else "")


def _term(node: rdflib.term.Node) -> str:
    """A term as SPARQL writes it (N-Triples syntax); a blank node cannot be a constant."""
    if isinstance(node, rdflib.BNode):
        raise UnsupportedShape(f"a blank node ({node.n3()}) as a constant in a constraint",
                               hint="use an IRI or a literal")
    return str(term_from_rdflib(node))


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


class _Compiler:
    """Compiles one shapes graph; fresh variable names come from one counter."""

    def __init__(self, shapes: rdflib.Graph, subclasses: Mapping[str, list[str]] | None = None,
                 dialect: str = "sparql"):
        if dialect not in DIALECTS:
            raise ValueError(f"unknown SPARQL dialect {dialect!r}")
        self.g = shapes
        self.counter = itertools.count(1)
        self.subclasses = subclasses
        self.virtuoso = dialect == "virtuoso"

    def safe(self, test: str) -> str:
        """``test`` as a boolean that is never an error: an error counts as false (as pySHACL counts
        a failed comparison). Virtuoso's COALESCE does not catch errors (it answers 1 for any
        argument); there the guards inside ``test`` must keep it from raising."""
        return f"({test})" if self.virtuoso else f"COALESCE({test}, false)"

    def same(self, v: str, term: rdflib.term.Node) -> str:
        """``v`` is the RDF term ``term``. Virtuoso answers nothing for sameTerm with a constant
        IRI, so there the term is compared part by part."""
        if not self.virtuoso:
            return f"sameTerm({v}, {_term(term)})"
        if isinstance(term, rdflib.URIRef):
            return f"(isIRI({v}) && {v} = {_term(term)})"
        if isinstance(term, rdflib.Literal):
            kind = (f"lang({v}) = {_string(term.language)}" if term.language else
                    f"lang({v}) = \"\" && datatype({v}) = <{term.datatype or XSD.string}>")
            return f"(isLiteral({v}) && STR({v}) = {_string(str(term))} && {kind})"
        return _term(term)  # a blank node: refused there

    def instance_of(self, v: str, cls: rdflib.term.Node, pattern: bool = False) -> str:
        """``v`` is an instance of ``cls`` (rdf:type/rdfs:subClassOf* in the data): as a graph
        pattern with ``pattern``, else as a boolean expression. With the data's subclasses of
        ``cls`` known (``subclasses``), the types are listed instead of walking the path for each
        node (2-3 times faster)."""
        known = self.subclasses.get(str(cls)) if self.subclasses is not None else None
        if known is None:
            test = f"{v} {_SUBCLASS} {_term(cls)} ."
        else:
            t = self.var()
            test = f"VALUES {t} {{ {' '.join(f'<{c}>' for c in known)} }} {v} <{RDF.type}> {t} ."
        return test if pattern else f"EXISTS {{ {test} }}"

    def name(self, node: rdflib.term.Node) -> str:
        return _name(node, self.g)

    def var(self) -> str:
        return f"?v{next(self.counter)}"

    def list_items(self, node: rdflib.term.Node, shape, what: str) -> list:
        if node == RDF.nil:
            return []
        if (node, RDF.first, None) not in self.g:
            raise UnsupportedShape(f"{what} of {self.name(shape)} is not an RDF list")
        return list(Collection(self.g, node))

    # ---- paths and targets -------------------------------------------------------------------

    def path(self, node: rdflib.term.Node, shape) -> str:
        """A SHACL property path as a SPARQL property path."""
        if isinstance(node, rdflib.URIRef):
            return f"<{node}>"
        if (node, RDF.first, None) in self.g:
            return "(" + "/".join(self.path(p, shape) for p in self.list_items(node, shape, "sh:path")) + ")"
        for predicate, form in ((SH.inversePath, "^({})"), (SH.zeroOrMorePath, "({})*"),
                                (SH.oneOrMorePath, "({})+"), (SH.zeroOrOnePath, "({})?")):
            inner = self.g.value(node, predicate)
            if inner is not None:
                return form.format(self.path(inner, shape))
        alternatives = self.g.value(node, SH.alternativePath)
        if alternatives is not None:
            return "(" + "|".join(self.path(p, shape) for p in self.list_items(alternatives, shape,
                                                                             "sh:alternativePath")) + ")"
        raise UnsupportedShape(f"the sh:path of {self.name(shape)} is no SHACL property path")

    def targets(self, shape) -> str | None:
        """A graph pattern binding ``?this`` to the focus nodes of ``shape`` (None: no target)."""
        branches = []
        for node in self.g.objects(shape, SH.targetNode):
            branches.append(f"VALUES ?this {{ {_term(node)} }}")
        classes = list(self.g.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in self.g or (shape, RDF.type, rdflib.OWL.Class) in self.g:
            classes.append(shape)
        for cls in classes:
            branches.append(self.instance_of("?this", cls, pattern=True))
        for p in self.g.objects(shape, SH.targetSubjectsOf):
            branches.append(f"?this {_term(p)} [] .")
        for p in self.g.objects(shape, SH.targetObjectsOf):
            branches.append(f"[] {_term(p)} ?this .")
        for target in self.g.objects(shape, SH.target):
            branches.append(self.sparql_target(target, shape))
        if not branches:
            return None
        union = " UNION ".join(f"{{ {b} }}" for b in branches)
        return f"{{ SELECT DISTINCT ?this WHERE {{ {union} }} }}"

    def sparql_target(self, target, shape) -> str:
        select = self.g.value(target, SH.select)
        if select is None or (target, RDF.type, SH.SPARQLTarget) not in self.g and \
                self.g.value(target, RDF.type) is not None:
            kind = self.g.value(target, RDF.type)
            kind_text = kind.n3(self.g.namespace_manager) if kind is not None else "untyped"
            raise UnsupportedShape(f"the target of {self.name(shape)} ({kind_text}) is not a SPARQL-based target "
                                   "with sh:select", hint="use a SHACL Core target")
        text = str(select)
        if re.search(r"^\s*(PREFIX|BASE)\b", text, re.IGNORECASE | re.MULTILINE):
            raise UnsupportedShape(f"the sh:select of the target of {self.name(shape)} declares its own prefixes",
                                   hint="declare them with sh:prefixes / sh:declare")
        prefixes = "".join(f"PREFIX {p}: <{ns}> " for p, ns in self.declared_prefixes(target, shape))
        self.prefixes.update(prefixes.split("PREFIX ")[1:])
        return f"{{ {text} }}"

    def declared_prefixes(self, target, shape) -> list[tuple[str, str]]:
        out = []
        for owner in self.g.objects(target, SH.prefixes):
            for decl in self.g.objects(owner, SH.declare):
                prefix, namespace = self.g.value(decl, SH.prefix), self.g.value(decl, SH.namespace)
                if prefix is None or namespace is None:
                    raise UnsupportedShape(f"an sh:declare of {self.name(owner)} (prefixes of "
                                           f"{self.name(shape)}) lacks sh:prefix or sh:namespace")
                out.append((str(prefix), str(namespace)))
        return out

    # ---- constraints -------------------------------------------------------------------------

    def parameters(self, shape) -> list[tuple[rdflib.URIRef, rdflib.term.Node]]:
        """The constraint parameters of ``shape`` with their values; refuses what is not known."""
        out = []
        for p, o in sorted(self.g.predicate_objects(shape), key=lambda po: (str(po[0]), str(po[1]))):
            if not str(p).startswith(str(SH)) or p in _NOT_CONSTRAINTS:
                continue
            if p == SH.closed:
                if o == rdflib.Literal(True):
                    raise UnsupportedShape(f"sh:closed on {self.name(shape)} is not translated to SPARQL",
                                           hint="validate with --shacl-engine turbo or pyshacl")
                continue
            if p not in _COMPONENTS:
                raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} on {self.name(shape)} is not translated to "
                                       "SPARQL", hint="validate with --shacl-engine turbo or pyshacl")
            out.append((p, o))
        return out

    def value_ok(self, p, o, v: str, shape, seen: frozenset) -> str:
        """A SPARQL boolean expression: the value node ``v`` satisfies parameter ``p`` = ``o``
        (never an error: errors count as false)."""
        if p == SH["class"]:
            return self.instance_of(v, o)
        if p == SH.datatype:
            if o == RDF.langString:
                return f"(isLiteral({v}) && lang({v}) != \"\")"
            if o == RDFS.Literal:
                return f"isLiteral({v})"
            test = f"isLiteral({v}) && lang({v}) = \"\" && datatype({v}) = {_term(o)}"
            if o in _CASTABLE and not self.virtuoso:  # Virtuoso's loader rewrites ill-typed values
                test += f" && isLiteral(<{o}>(STR({v})))"
            return self.safe(test)
        if p == SH.nodeKind:
            if o not in _NODE_KINDS:
                raise UnsupportedShape(f"sh:nodeKind {o.n3(self.g.namespace_manager)} of {self.name(shape)} is no "
                                       "SHACL node kind")
            return "(" + " || ".join(f"{f}({v})" for f in _NODE_KINDS[o]) + ")"
        if p in (SH.minExclusive, SH.minInclusive, SH.maxExclusive, SH.maxInclusive):
            op = {SH.minExclusive: ">", SH.minInclusive: ">=", SH.maxExclusive: "<", SH.maxInclusive: "<="}[p]
            if not isinstance(o, rdflib.Literal):
                raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} of {self.name(shape)} is not a literal")
            return self.safe(f"{_comparable(v, o)} && {_key(v, o)} {op} {_key(_term(o), o)}")
        if p in (SH.minLength, SH.maxLength):
            op = ">=" if p == SH.minLength else "<="
            return self.safe(f"!isBlank({v}) && STRLEN(STR({v})) {op} {int(o)}")
        if p == SH.pattern:
            flags = self.g.value(shape, SH.flags)
            args = f", {_string(str(flags))}" if flags is not None else ""
            return self.safe(f"!isBlank({v}) && REGEX(STR({v}), {_string(str(o))}{args})")
        if p == SH.languageIn:
            tags = [str(t) for t in self.list_items(o, shape, "sh:languageIn")]
            tests = " || ".join(f"langMatches(lang({v}), {_string(t)})" for t in tags) or "false"
            return self.safe(f"isLiteral({v}) && lang({v}) != \"\" && ({tests})")
        if p == SH["in"]:
            members = self.list_items(o, shape, "sh:in")
            return "(" + (" || ".join(self.same(v, m) for m in members) or "false") + ")"
        if p == SH.node:
            return self.conforms(o, v, seen)
        if p == SH["not"]:
            return f"!({self.conforms(o, v, seen)})"
        if p == SH["and"]:
            return "(" + (" && ".join(self.conforms(s, v, seen) for s in self.list_items(o, shape, "sh:and"))
                          or "true") + ")"
        if p == SH["or"]:
            return "(" + (" || ".join(self.conforms(s, v, seen) for s in self.list_items(o, shape, "sh:or"))
                          or "false") + ")"
        if p == SH.xone:
            count = " + ".join(f"IF({self.conforms(s, v, seen)}, 1, 0)"
                               for s in self.list_items(o, shape, "sh:xone")) or "0"
            return f"({count} = 1)"
        raise AssertionError(p)

    def conforms(self, shape, v: str, seen: frozenset) -> str:
        """A SPARQL boolean expression: the node ``v`` conforms to ``shape`` (all its constraints,
        its property shapes included)."""
        if shape in seen:
            raise UnsupportedShape(f"{self.name(shape)} refers to itself (recursive shapes are not translated)")
        if self.g.value(shape, SH.deactivated) == rdflib.Literal(True):
            return "true"
        seen = seen | {shape}
        tests = []
        path = self.g.value(shape, SH.path)
        sparql_path = self.path(path, shape) if path is not None else None
        for p, o in self.parameters(shape):
            if sparql_path is None:
                if p in _PER_VALUE:
                    tests.append(self.value_ok(p, o, v, shape, seen))
                elif p == SH.hasValue:
                    tests.append(self.same(v, o))
                else:
                    raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} on {self.name(shape)}, which has no "
                                           "sh:path")
                continue
            x = self.var()
            if p in _PER_VALUE:
                tests.append(f"NOT EXISTS {{ {v} {sparql_path} {x} FILTER(!({self.value_ok(p, o, x, shape, seen)})) }}")
            elif p in (SH.minCount, SH.maxCount):
                n = int(o) if p == SH.minCount else int(o) + 1
                if n > 8:
                    raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} {o} inside {self.name(shape)}, a shape "
                                           "used by another (counts above 8 there are not translated)")
                if n == 0:
                    tests.append("true" if p == SH.minCount else "false")
                    continue
                xs = [self.var() for _ in range(n)]
                distinct = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(xs, 2))
                pattern = " ".join(f"{v} {sparql_path} {x} ." for x in xs)
                pattern += f" FILTER({distinct})" if distinct else ""
                tests.append(("EXISTS" if p == SH.minCount else "NOT EXISTS") + f" {{ {pattern} }}")
            elif p == SH.hasValue:
                tests.append(f"EXISTS {{ {v} {sparql_path} {_term(o)} }}")
            elif p == SH.uniqueLang:
                if o == rdflib.Literal(True):
                    y = self.var()
                    tests.append(f"NOT EXISTS {{ {v} {sparql_path} {x}, {y} . FILTER({_same_lang(x, y)}) }}")
            elif p in (SH.lessThan, SH.lessThanOrEquals, SH.equals, SH.disjoint):
                y = self.var()
                tests.append(f"NOT EXISTS {{ {self.pair_violation(p, o, v, sparql_path, x, y, shape)} }}")
            else:
                raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} inside {self.name(shape)}, a shape used by "
                                       "another, is not translated")
        for prop in self.g.objects(shape, SH.property):
            tests.append(self.conforms(prop, v, seen))
        return "(" + (" && ".join(tests) or "true") + ")"

    def pair_violation(self, p, other, this: str, path: str, x: str, y: str, shape) -> str:
        """A pattern matching a (value ``x``, other value ``y``) pair that breaks a property pair
        constraint; for sh:equals and sh:disjoint ``x`` is the value reported."""
        if not isinstance(other, rdflib.URIRef):
            raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} of {self.name(shape)} is not an IRI")
        if p == SH.equals:
            return (f"{{ {this} {path} {x} FILTER NOT EXISTS {{ {this} <{other}> {x} }} }} UNION "
                    f"{{ {this} <{other}> {x} FILTER NOT EXISTS {{ {this} {path} {x} }} }}")
        if p == SH.disjoint:
            return f"{this} {path} {x} . {this} <{other}> {x} ."
        op = "<" if p == SH.lessThan else "<="
        return f"{this} {path} {x} . {this} <{other}> {y} . FILTER(!({self.safe(_ordered(x, y, op))}))"

    # ---- top-level checks --------------------------------------------------------------------

    def compile(self) -> list[Check]:
        checks: list[Check] = []
        shapes = set(self.g.subjects(RDF.type, SH.NodeShape)) | set(self.g.subjects(RDF.type, SH.PropertyShape))
        for predicate in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target):
            shapes |= set(self.g.subjects(predicate, None))
        shapes |= {s for s in self.g.subjects(RDF.type, RDFS.Class) if s in shapes or
                   (s, RDF.type, SH.NodeShape) in self.g}
        for custom in (SH.sparql, SH.rule):
            for s in self.g.subjects(custom, None):
                raise UnsupportedShape(f"{custom.n3(self.g.namespace_manager)} on {self.name(s)} (SHACL-SPARQL "
                                       "constraints and rules) is not translated",
                                       hint="validate with --shacl-engine turbo or pyshacl")
        for shape in sorted(shapes, key=lambda s: (isinstance(s, rdflib.BNode), str(s))):
            if self.g.value(shape, SH.deactivated) == rdflib.Literal(True):
                continue
            self.prefixes: set[str] = set()
            focus = self.targets(shape)
            if focus is None:
                continue
            prologue = "".join(f"PREFIX {p}" for p in sorted(self.prefixes))
            checks.extend(self.focus_checks(shape, prologue, focus, shape))
        return checks

    def focus_checks(self, shape, prologue: str, focus: str, owner) -> list[Check]:
        """The checks of ``shape`` (and, for a node shape, of its property shapes) on the focus
        nodes the pattern ``focus`` binds to ``?this``."""
        members = [shape] if self.g.value(shape, SH.path) is not None else \
            [shape] + [p for p in self.g.objects(shape, SH.property)
                       if self.g.value(p, SH.deactivated) != rdflib.Literal(True)]
        return [c for member in members for c in self.shape_checks(member, owner, prologue, focus)]

    def shape_checks(self, shape, owner, prologue: str, focus: str) -> Iterator[Check]:
        path = self.g.value(shape, SH.path)
        sparql_path = self.path(path, shape) if path is not None else None
        params = self.parameters(shape)
        if not params:
            return
        messages = tuple(sorted((m for m in self.g.objects(shape, SH.message) if isinstance(m, rdflib.Literal)),
                                key=str))
        if not messages:
            raise UnsupportedShape(f"{self.name(shape)} has no sh:message (pySHACL would generate one; this compiler "
                                   "does not)", hint="give the shape an sh:message")
        severity = self.g.value(shape, SH.severity) or SH.Violation
        if not isinstance(severity, rdflib.URIRef):
            raise UnsupportedShape(f"the sh:severity of {self.name(shape)} is not an IRI")
        for p, o in params:
            if p in (SH.qualifiedValueShape,):
                yield from self.qualified(shape, owner, prologue, focus, sparql_path, o, path, severity, messages)
                continue
            sparql, value = self.check_query(p, o, shape, focus, sparql_path)
            yield Check(prologue, sparql, shape, _COMPONENTS[p], path, severity, messages, value, owner,
                        o if p == SH.node else None, self.merge(p, o, shape, focus, sparql_path))

    def merge(self, p, o, shape, focus: str, path: str | None) -> tuple[str, str, str] | None:
        """How a check joins its siblings' query: per-value checks of one shape share the (focus,
        value) pairs, its sh:minCount and sh:maxCount share one count per focus node."""
        if p in _PER_VALUE and p != SH.node:  # sh:node keeps its own query: its details select by it
            ok = self.value_ok(p, o, "?value", shape, frozenset({shape}))
            base = f"{focus} ?this {path} ?value ." if path is not None else f"{focus} BIND(?this AS ?value)"
            return "value", base, self.safe(f"!({ok})")
        if p in (SH.minCount, SH.maxCount) and path is not None:
            op = "<" if p == SH.minCount else ">"
            return "count", f"{focus} OPTIONAL {{ ?this {path} ?value }}", f"?n {op} {int(o)}"
        return None

    def check_query(self, p, o, shape, focus: str, path: str | None) -> tuple[str, bool]:
        """The SELECT query of one constraint and whether its rows carry a value."""
        seen = frozenset({shape})
        if path is None:  # a node shape's own constraint: the focus node is the value node
            if p in _PER_VALUE:
                ok = self.value_ok(p, o, "?this", shape, seen)
                return f"SELECT ?this (?this AS ?value) WHERE {{ {focus} FILTER(!({ok})) }}", True
            if p == SH.hasValue:
                return f"SELECT ?this WHERE {{ {focus} FILTER(!({self.same('?this', o)})) }}", False
            raise UnsupportedShape(f"{p.n3(self.g.namespace_manager)} on {self.name(shape)}, which has no sh:path")
        if p in _PER_VALUE:
            ok = self.value_ok(p, o, "?value", shape, seen)
            return (f"SELECT DISTINCT ?this ?value WHERE {{ {focus} ?this {path} ?value . FILTER(!({ok})) }}", True)
        if p == SH.minCount:
            n = int(o)
            if n <= 0:
                return "SELECT ?this WHERE { FILTER(false) }", False
            if n == 1:
                return f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} ?value }} }}", False
            return (f"SELECT ?this WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} "
                    f"OPTIONAL {{ ?this {path} ?value }} }} GROUP BY ?this }} FILTER(?n < {n}) }}", False)
        if p == SH.maxCount:
            n = int(o)
            if n == 0:
                return f"SELECT ?this WHERE {{ {focus} FILTER EXISTS {{ ?this {path} ?value }} }}", False
            return (f"SELECT ?this WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} "
                    f"?this {path} ?value }} GROUP BY ?this }} FILTER(?n > {n}) }}", False)
        if p == SH.hasValue:
            return f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} {_term(o)} }} }}", False
        if p == SH.uniqueLang:
            if o != rdflib.Literal(True):
                return "SELECT ?this WHERE { FILTER(false) }", False
            return (f"SELECT DISTINCT ?this ?lang WHERE {{ {focus} ?this {path} ?a, ?b . "
                    f"FILTER({_same_lang('?a', '?b')}) BIND(LCASE(lang(?a)) AS ?lang) }}", False)
        if p in (SH.lessThan, SH.lessThanOrEquals):
            return (f"SELECT ?this ?value ?other WHERE {{ {focus} "
                    f"{self.pair_violation(p, o, '?this', path, '?value', '?other', shape)} }}", True)
        if p in (SH.equals, SH.disjoint):
            return (f"SELECT DISTINCT ?this ?value WHERE {{ {focus} "
                    f"{self.pair_violation(p, o, '?this', path, '?value', '?other', shape)} }}", True)
        raise AssertionError(p)

    def qualified(self, shape, owner, prologue, focus, path, q, path_node, severity, messages) -> Iterator[Check]:
        if path is None:
            raise UnsupportedShape(f"sh:qualifiedValueShape on {self.name(shape)}, which has no sh:path")
        ok = self.conforms(q, "?value", frozenset({shape}))
        if self.g.value(shape, SH.qualifiedValueShapesDisjoint) == rdflib.Literal(True):
            siblings = {s for parent in self.g.subjects(SH.property, shape)
                        for prop in self.g.objects(parent, SH.property)
                        for s in self.g.objects(prop, SH.qualifiedValueShape) if s != q}
            for sibling in sorted(siblings, key=str):
                ok += f" && !({self.conforms(sibling, '?value', frozenset({shape}))})"
        counted = (f"{{ SELECT ?this (COUNT(DISTINCT ?value) AS ?n) WHERE {{ {focus} "
                   f"OPTIONAL {{ ?this {path} ?value FILTER({ok}) }} }} GROUP BY ?this }}")
        bounds = ((SH.qualifiedMinCount, "<", SH.QualifiedMinCountConstraintComponent),
                  (SH.qualifiedMaxCount, ">", SH.QualifiedMaxCountConstraintComponent))
        found = False
        for parameter, op, component in bounds:
            limit = self.g.value(shape, parameter)
            if limit is None:
                continue
            found = True
            if parameter == SH.qualifiedMinCount and int(limit) == 1:
                sparql = f"SELECT ?this WHERE {{ {focus} FILTER NOT EXISTS {{ ?this {path} ?value FILTER({ok}) }} }}"
            else:
                sparql = f"SELECT ?this WHERE {{ {counted} FILTER(?n {op} {int(limit)}) }}"
            yield Check(prologue, sparql, shape, component, path_node, severity, messages, False, owner)
        if not found:
            raise UnsupportedShape(f"sh:qualifiedValueShape on {self.name(shape)} without sh:qualifiedMinCount or "
                                   "sh:qualifiedMaxCount")


def _same_lang(a: str, b: str) -> str:
    return (f"(isLiteral({a}) && isLiteral({b}) && lang({a}) != \"\" && !sameTerm({a}, {b}) && "
            f"LCASE(lang({a})) = LCASE(lang({b})))")


def _stringish(x: str) -> str:
    """Whether pySHACL reads ``x`` as a string: an IRI, a language-tagged or an xsd:string literal."""
    return f"(isIRI({x}) || (isLiteral({x}) && (lang({x}) != \"\" || datatype({x}) = <{XSD.string}>)))"


def _numeric(x: str) -> str:
    return f"(isLiteral({x}) && lang({x}) = \"\" && datatype({x}) IN ({', '.join(f'<{d}>' for d in _NUMERIC)}))"


def _comparable(v: str, bound: rdflib.Literal) -> str:
    """``v`` is a literal pySHACL compares with ``bound`` (sh:minInclusive and the like): a number
    with a number, a string with a string, anything else with its own datatype. The guard keeps
    the comparison itself from raising a type error, which engines treat differently."""
    if bound.language or bound.datatype in (None, XSD.string):
        return f"(isLiteral({v}) && (lang({v}) != \"\" || datatype({v}) = <{XSD.string}>))"
    if bound.datatype in _NUMERIC:
        return _numeric(v)
    return f"(isLiteral({v}) && lang({v}) = \"\" && datatype({v}) = <{bound.datatype}>)"


def _key(v: str, bound: rdflib.Literal) -> str:
    """What is compared: the text of a string, the value of anything else."""
    return f"STR({v})" if bound.language or bound.datatype in (None, XSD.string) else v


def _ordered(x: str, y: str, op: str) -> str:
    """``x op y`` as pySHACL compares for sh:lessThan(OrEquals): IRIs and strings by their text,
    a string never with a non-string, numbers with numbers, other literals with their own datatype;
    anything incomparable is not ordered (guards first, so no comparison raises a type error)."""
    return (f"(({_stringish(x)} && {_stringish(y)} && STR({x}) {op} STR({y})) || "
            f"(isLiteral({x}) && isLiteral({y}) && !{_stringish(x)} && !{_stringish(y)} && "
            f"(({_numeric(x)} && {_numeric(y)}) || datatype({x}) = datatype({y})) && {x} {op} {y}))")


def compile_shapes(shapes: rdflib.Graph, subclasses: Mapping[str, list[str]] | None = None,
                   dialect: str = "sparql") -> list[Check]:
    """Every constraint of every targeted shape in ``shapes`` as a SELECT query (see the module
    docstring). ``subclasses`` (``data_subclasses``): for each class the shapes name, its
    subclasses in the data, listed in the queries instead of an ``rdfs:subClassOf*`` path.
    ``dialect``: ``DIALECTS``. Raises UnsupportedShape naming the construct and the shape for
    anything the compiler does not translate."""
    return _Compiler(shapes, subclasses, dialect).compile()


def data_subclasses(shapes: rdflib.Graph, select: Select) -> dict[str, list[str]]:
    """For every class the shapes name (sh:class, sh:targetClass, implicit class targets), the
    classes that are rdfs:subClassOf* it in the data, itself included (one query)."""
    classes = {o for p in (SH["class"], SH.targetClass) for o in shapes.objects(None, p)
               if isinstance(o, rdflib.URIRef)}
    classes |= {s for s in shapes.subjects(RDF.type, RDFS.Class) if isinstance(s, rdflib.URIRef)}
    out: dict[str, list[str]] = {str(c): [str(c)] for c in classes}
    if not classes:
        return out
    # One branch per class with the class written out: Virtuoso needs a constant end of a
    # transitive path ("transitive start not given" for one bound by VALUES).
    union = " UNION ".join(f"{{ ?sub <{RDFS.subClassOf}>+ <{c}> . BIND(<{c}> AS ?c) }}" for c in sorted(classes))
    for row in select(f"SELECT DISTINCT ?c ?sub WHERE {{ {union} FILTER(isIRI(?sub)) }}"):
        sub, cls = row.get("sub"), row.get("c")
        if sub is not None and cls is not None and sub.value not in out[cls.value]:
            out[cls.value].append(sub.value)
    for subs in out.values():
        subs[1:] = sorted(subs[1:])
    return out


@dataclass(frozen=True)
class Query:
    """One query run for several checks: a row is a result of each check whose flag it sets
    (``?f0``, ``?f1``, ...; a check without a flag reports every row)."""

    sparql: str
    checks: tuple[Check, ...]
    flags: tuple[str | None, ...]


def plan(checks: Iterable[Check]) -> list[Query]:
    """The queries that run ``checks``: checks that share a pattern (``Check.merge``) are answered
    by one query (the focus nodes and their values are found once, not once per constraint)."""
    groups: dict[tuple, list[Check]] = {}
    queries: list[Query] = []
    for check in checks:
        if check.merge is None:
            queries.append(Query(check.sparql, (check,), (None,)))
        else:
            groups.setdefault((check.prologue, check.merge[0], check.merge[1]), []).append(check)
    for (prologue, kind, base), members in groups.items():
        if len(members) == 1:
            queries.append(Query(members[0].sparql, tuple(members), (None,)))
            continue
        flags = [f"?f{i}" for i in range(len(members))]
        binds = " ".join(f"BIND({c.merge[2]} AS {f})" for c, f in zip(members, flags, strict=True))
        where = " || ".join(flags)
        if kind == "value":
            sparql = (f"{prologue}SELECT DISTINCT ?this ?value {' '.join(flags)} WHERE {{ {base} {binds} "
                      f"FILTER({where}) }}")
        else:
            sparql = (f"{prologue}SELECT ?this {' '.join(flags)} WHERE {{ {{ SELECT ?this (COUNT(DISTINCT ?value) "
                      f"AS ?n) WHERE {{ {base} }} GROUP BY ?this }} {binds} FILTER({where}) }}")
        queries.append(Query(sparql, tuple(members), tuple(flags)))
    return queries


def _flagged(row: Row, flag: str | None) -> bool:
    if flag is None:
        return True
    term = row.get(flag.lstrip("?"))
    return term is not None and term.value in ("true", "1")  # Virtuoso's booleans are 1 and 0


def run_checks(checks: Iterable[Check], select: Select, shapes: rdflib.Graph,
               dialect: str = "sparql") -> Iterator[Result]:
    """Run the checks with ``select`` (merged as ``plan`` says): one Result per validation result,
    with, under an ``sh:node`` result, the results of the node shape on its value node (pySHACL's
    ``sh:detail``). Raises BackendError (exit 4) when the store fails: no partial verdict."""
    compiler = _Compiler(shapes, dialect=dialect)
    queries = plan(checks)
    for number, query in enumerate(queries, 1):
        check = query.checks[0]
        with _store_failure(f"query {number} of {len(queries)} ({_name(check.shape, shapes)}, "
                            f"{check.component.n3(shapes.namespace_manager)})"):
            rows = list(select(query.sparql))
            for member, flag in zip(query.checks, query.flags, strict=True):
                yield from _with_details(member, [r for r in rows if _flagged(r, flag)], select, compiler)


@contextlib.contextmanager
def _store_failure(where: str) -> Iterator[None]:
    try:
        yield
    except CowkgError:
        raise
    except (OSError, RuntimeError, SyntaxError, ValueError) as exc:  # what pyoxigraph raises
        raise BackendError(f"the store failed at SHACL {where}: {type(exc).__name__}: {exc}",
                           hint="no verdict: validate again") from None


def validate_select(shapes: rdflib.Graph, select: Select,
                    dialect: str = "sparql") -> tuple[bool, rdflib.Graph, dict, int]:
    """The whole run over the data ``select`` reads: the data's subclasses of the shapes' classes,
    the compiled checks, their results as pySHACL's report graph. Returns (conforms, report graph,
    owners, number of queries). Raises UnsupportedShape (exit 2) or BackendError (exit 4)."""
    with _store_failure("query 0 (the subclasses of the shapes' classes)"):
        subclasses = data_subclasses(shapes, select)
    checks = compile_shapes(shapes, subclasses, dialect)
    conforms, graph, owners = report_graph(run_checks(checks, select, shapes, dialect), shapes)
    return conforms, graph, owners, len(plan(checks)) + 1


def _with_details(check: Check, rows: list[Row], select: Select, compiler: _Compiler) -> list[Result]:
    results = [Result(check, row) for row in rows if row.get("this") is not None]
    if check.detail is None or not results:
        return results
    # The failing value nodes become the focus nodes of the nested shape's checks: the check's own
    # query, as a subquery, selects them (blank nodes included, which VALUES could not name).
    focus = (f"{{ SELECT DISTINCT (?failed AS ?this) WHERE {{ {{ SELECT (?value AS ?failed) WHERE "
             f"{{ {{ {check.body} }} }} }} }} }}")
    nested: dict = {}
    for inner in compiler.focus_checks(check.detail, check.prologue, focus, None):
        for result in _with_details(inner, list(select(inner.sparql)), select, compiler):
            nested.setdefault(result.row["this"], []).append(result)
    for result in results:
        result.details = nested.get(result.row.get("value"), [])
    return results


def report_graph(results: Iterable[Result],
                 shapes: rdflib.Graph) -> tuple[bool, rdflib.Graph, dict[rdflib.BNode, rdflib.term.Node]]:
    """pySHACL's report graph for the results: (conforms, graph, owners). Anonymous source shapes
    and paths are copied in with everything the shapes graph says about them, as pySHACL does;
    nested results hang under theirs with ``sh:detail``; ``owners`` maps each result node to the
    shape whose targets selected its focus node (when one did)."""
    graph = rdflib.Graph()
    graph.namespace_manager.bind("sh", SH)
    report = rdflib.BNode()
    graph.add((report, RDF.type, SH.ValidationReport))
    conforms = True
    copied: set = set()
    owners: dict[rdflib.BNode, rdflib.term.Node] = {}

    def write(result: Result) -> rdflib.BNode:
        check, row = result.check, result.row
        r = rdflib.BNode()
        if check.owner is not None:
            owners[r] = check.owner
        graph.add((r, RDF.type, SH.ValidationResult))
        graph.add((r, SH.focusNode, term_to_rdflib(row["this"])))
        if check.path is not None:
            graph.add((r, SH.resultPath, check.path))
            _copy(shapes, check.path, graph, copied)
        value = row.get("value") if check.value else None
        if value is not None:
            graph.add((r, SH.value, term_to_rdflib(value)))
        graph.add((r, SH.sourceShape, check.shape))
        _copy(shapes, check.shape, graph, copied)
        graph.add((r, SH.sourceConstraintComponent, check.component))
        graph.add((r, SH.resultSeverity, check.severity))
        for message in check.messages:
            graph.add((r, SH.resultMessage, message))
        for detail in result.details:
            graph.add((r, SH.detail, write(detail)))
        return r

    for result in results:
        graph.add((report, SH.result, write(result)))
        conforms = conforms and result.check.severity != SH.Violation
    graph.add((report, SH.conforms, rdflib.Literal(conforms)))
    return conforms, graph, owners


def _copy(source: rdflib.Graph, node, target: rdflib.Graph, done: set) -> None:
    if not isinstance(node, rdflib.BNode) or node in done:
        return
    done.add(node)
    for p, o in source.predicate_objects(node):
        target.add((node, p, o))
        _copy(source, o, target, done)


def store_select(store: ox.Store, default_graph=None) -> Select:
    """A ``Select`` over a pyoxigraph store (its default graph, or the graphs ``default_graph``)."""
    def select(sparql: str) -> Iterator[Row]:
        options = {"default_graph": default_graph} if default_graph is not None else {}
        solutions = store.query(sparql, **options)
        names = [v.value for v in solutions.variables]
        for solution in solutions:
            yield {n: solution[n] for n in names}
    return select
