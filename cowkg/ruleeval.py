"""The compiled OWL 2 RL rule table (``cowkg.rules``) evaluated over Python sets, in process.

Stage: reasoning (``reason.infer(reasoner="rules")``). Input: the asserted triples. Output: the
same inferred triples as owlrl, reasonable and the SPARQL rules (``reason.is_noise`` removed,
asserted triples left out), tests/test_rules.py checks it.

Why a second evaluator of the same table: in process, the SPARQL updates cost a pyoxigraph store
of the whole graph and one query per rule and round (about 8 s per 100k triples); the same rules
applied to hashed sets and per-property indexes need no store and no query text. The rules come
from ``rules.compile_rules`` (one rule table: what this evaluator and the SPARQL one apply cannot
drift apart); each rule kind is one small function below, and a rule kind it does not know is an
error, never skipped. Evaluation is semi-naive: each round feeds only the last round's new
triples to the rules, joined with everything known.
"""

from __future__ import annotations

import gc
import time
from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from .errors import UnsupportedConstruct
from .rules import (
    ERRNS,
    NOTHING,
    RDFS_CLASS,
    SAME_AS,
    SCHEMA_PREDICATES,
    SCHEMA_TYPES,
    TRIVIAL_TYPES,
    TYPE,
    UNSUPPORTED_PREDICATES,
    UNSUPPORTED_TYPES,
    Fixpoint,
    RuleSet,
    Triple,
    _as_owlrl_reads,
    _plain,
    _refuse_unsupported,
    compile_rules,
)
from .vocab import NS_OWL, NS_RDF, NS_RDFS, NS_XSD

_REFLEXIVE = {ox.NamedNode(NS_OWL + x) for x in ("sameAs", "equivalentClass", "equivalentProperty")} | {
    ox.NamedNode(NS_RDFS + x) for x in ("subClassOf", "subPropertyOf")}
_EQ_PROPERTY, _SUBPROPERTY = ox.NamedNode(NS_OWL + "equivalentProperty"), ox.NamedNode(NS_RDFS + "subPropertyOf")
_SCHEMA_PREDICATES, _SCHEMA_TYPES = set(SCHEMA_PREDICATES), set(SCHEMA_TYPES)
_CHAIN_LIST = {ox.NamedNode(NS_RDF + "first"), ox.NamedNode(NS_RDF + "rest")}


_LITERAL = ox.Literal


def _literal(t) -> bool:
    return type(t) is _LITERAL


class Graph:
    """Everything known: a set of triples, and the indexes the rules join on — subject → objects
    for the predicates ``joined`` names (objects → subjects for those read backwards), and triples
    by subject and by object for the terms owl:sameAs relates (``equal_terms``)."""

    def __init__(self, joined: Iterable = ()) -> None:
        self.triples: set[Triple] = set()
        self.out: dict = defaultdict(lambda: defaultdict(set))
        self.into: dict = defaultdict(lambda: defaultdict(set))
        self.joined: set = set(joined)
        self.backward: set = set()
        self.terms: set = set()
        self.by_s: dict = defaultdict(set)
        self.by_o: dict = defaultdict(set)
        self.predicates: set = set()
        self.derived: list[Triple] = []  # every triple added after the asserted ones
        self.touched: set = set()  # terms of ``terms`` with new triples since the last round

    def add(self, batch: Iterable[Triple]) -> list[Triple]:
        """Add ``batch``; return the triples that were new."""
        known = self.triples
        new = [t for t in set(batch) if t not in known]
        known.update(new)
        self.predicates.update({t[1] for t in new})
        out, into, joined, backward, terms = self.out, self.into, self.joined, self.backward, self.terms
        for s, p, o in [t for t in new if t[1] in joined]:
            out[p][s].add(o)
            if p in backward:
                into[p][o].add(s)
        if terms:
            for s, p, o in [t for t in new if t[0] in terms]:
                self.by_s[s].add((p, o))
                self.touched.add(s)
            for s, p, o in [t for t in new if t[2] in terms]:
                self.by_o[o].add((s, p))
                self.touched.add(o)
        return new

    def join_on(self, predicates: Iterable, *, backwards: bool = False) -> None:
        """Index ``predicates`` (built from the known triples the first time)."""
        new = set(predicates) - self.joined
        if new:
            self.joined |= new
            for s, p, o in self.triples:
                if p in new:
                    self.out[p][s].add(o)
        if backwards:
            for p in set(predicates) - self.backward:
                self.backward.add(p)
                into = self.into[p]
                for s, objects in self.out.get(p, {}).items():
                    for o in objects:
                        into[o].add(s)

    def equal_terms(self, terms: Iterable) -> None:
        """Index the triples of ``terms`` by subject and by object (eq-rep-s, eq-rep-o)."""
        new = set(terms) - self.terms
        if new:
            self.terms |= new
            self.touched |= new
            for s, p, o in self.triples:
                if s in new:
                    self.by_s[s].add((p, o))
                if o in new:
                    self.by_o[o].add((s, p))

    def with_predicate(self, p) -> Iterable[tuple]:
        """(subject, object) of every known triple of ``p`` (eq-rep-p: a rare, full scan)."""
        if p in self.joined:
            return [(s, o) for s, objects in self.out[p].items() for o in objects]
        return [(s, o) for s, q, o in self.triples if q == p]


def _table(rule) -> dict:
    """The rule's table as key → values (first column → the others)."""
    out: dict = defaultdict(list)
    for row in rule.table[1]:
        out[row[0]].append(row[1] if len(row) == 2 else None)
    return out


def _apply(rules: RuleSet, g: Graph, delta: list[Triple]) -> list[Triple]:
    """One semi-naive round: every rule with ``delta`` in one body atom, ``g`` (which already
    holds ``delta``) in the others."""
    new: list[Triple] = []
    emit = new.append
    by_p: dict = defaultdict(list)
    read = _read_predicates(rules)
    for t in [t for t in delta if t[1] in read]:
        by_p[t[1]].append(t)
    for rule in rules.rules:
        kind = rule.name.split("#")[0]
        if kind == "cax-sco":
            sup = _table(rule)
            for x, _, c in by_p.get(TYPE, ()):
                for c2 in sup.get(c, ()):
                    emit((x, TYPE, c2))
        elif kind in ("prp-dom", "prp-rng", "prp-spo1", "prp-inv", "prp-symp"):
            table = _table(rule)
            for p, values in table.items():
                for s, _, o in by_p.get(p, ()):
                    for v in values:
                        if kind == "prp-dom":
                            emit((s, TYPE, v))
                        elif kind == "prp-spo1":
                            emit((s, v, o))
                        elif not _literal(o):
                            emit((o, TYPE, v) if kind == "prp-rng" else (o, v if kind == "prp-inv" else p, s))
        elif kind == "prp-trp":
            for p in _table(rule):
                g.join_on([p], backwards=True)
                out, into = g.out[p], g.into[p]
                for x, _, y in by_p.get(p, ()):
                    for z in out.get(y, ()):
                        emit((x, p, z))
                    for w in into.get(x, ()):
                        emit((w, p, y))
        elif kind == "prp-fp":
            for p in _table(rule):
                g.join_on([p])
                out = g.out[p]
                for x, _, y1 in by_p.get(p, ()):
                    for y2 in out.get(x, ()):
                        if y2 != y1:
                            if not _literal(y1):
                                emit((y1, SAME_AS, y2))
                            if not _literal(y2):
                                emit((y2, SAME_AS, y1))
        elif kind == "prp-ifp":
            for p in _table(rule):
                g.join_on([p], backwards=True)
                into = g.into[p]
                for x1, _, y in by_p.get(p, ()):
                    for x2 in into.get(y, ()):
                        if x2 != x1:
                            emit((x1, SAME_AS, x2))
                            emit((x2, SAME_AS, x1))
        elif kind == "prp-spo2":
            steps = [tp[1] for tp in rule.body]
            prop = rule.head[1]
            g.join_on(steps, backwards=True)
            for i, step in enumerate(steps):
                for x, _, y in by_p.get(step, ()):
                    starts = {x}
                    for back in reversed(steps[:i]):
                        starts = {w for s in starts for w in g.into[back].get(s, ())}
                    ends = {y}
                    for fwd in steps[i + 1:]:
                        ends = {z for e in ends for z in g.out[fwd].get(e, ())}
                    for s in starts:
                        if not _literal(s):
                            for e in ends:
                                emit((s, prop, e))
        elif kind.startswith("eq-"):
            _equality(kind, g, delta, by_p, emit)
        else:
            raise UnsupportedConstruct(f"the in-process rule evaluator has no rule {rule.name}",
                                       hint="reason with --reasoner sparql")
    return new


def _read_predicates(rules: RuleSet) -> set:
    """The predicates whose delta triples a rule reads by predicate (owl:sameAs replacement reads
    the triples of the related terms instead: ``_equality``)."""
    out = {TYPE, SAME_AS}
    for rule in rules.rules:
        if rule.table is not None:
            out |= {row[0] for row in rule.table[1]}
        out |= {tp[1] for tp in rule.body if not isinstance(tp[1], str)}
    return out


def _equality(kind: str, g: Graph, delta: list[Triple], by_p: dict, emit) -> None:
    same = by_p.get(SAME_AS, ())
    if kind == "eq-sym":
        for x, _, y in same:
            if x != y and not _literal(y):
                emit((y, SAME_AS, x))
        return
    if kind == "eq-trans":
        g.join_on([SAME_AS], backwards=True)
        out, into = g.out[SAME_AS], g.into[SAME_AS]
        for x, _, y in same:
            for z in out.get(y, ()):
                if z != x:
                    emit((x, SAME_AS, z))
            for w in into.get(x, ()):
                if w != y:
                    emit((w, SAME_AS, y))
        return
    g.join_on([SAME_AS])
    equal = g.out.get(SAME_AS)
    if not equal:
        return
    # Each term owl:sameAs relates, with every triple it is in (not only the delta's): the terms
    # whose triples or equals changed since the last round are replayed whole, which is far
    # cheaper than looking every triple of the delta up (duplicates are dropped by ``Graph.add``).
    g.equal_terms({t for x, ys in equal.items() for t in (x, *ys)})
    dirty = g.touched | {t for x, _, y in same for t in (x, y)}
    for a in dirty:
        for b in equal.get(a, ()):
            if a == b:
                continue
            if kind == "eq-rep-s" and not _literal(b):
                for p, o in g.by_s.get(a, ()):
                    emit((b, p, o))
            elif kind == "eq-rep-o":
                for s, p in g.by_o.get(a, ()):
                    emit((s, p, b))
            elif kind == "eq-rep-p" and a in g.predicates:
                for s, o in g.with_predicate(a):
                    emit((s, b, o))


def _tbox(triples: Iterable[Triple]) -> set[Triple]:
    return {t for t in triples if t[1] in _SCHEMA_PREDICATES or t[1] in _CHAIN_LIST
            or (t[1] == TYPE and t[2] in _SCHEMA_TYPES)}


def closure(asserted: Iterable[ox.Triple]) -> tuple[list[ox.Triple], Fixpoint]:
    """The inferred triples of ``asserted``, as ``reason.infer`` returns them.

    Raises UnsupportedConstruct like ``rules.run_to_fixpoint``. The cyclic garbage collector is
    paused meanwhile: the millions of tuples made here hold no cycles, and its passes over them
    cost more than the rules (32 s → see bench/results/scale_pipeline.txt at 1M triples)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        return _closure(asserted)
    finally:
        if paused:
            gc.enable()


def _closure(asserted: Iterable[ox.Triple]) -> tuple[list[ox.Triple], Fixpoint]:
    start = time.perf_counter()
    given = [(t.subject, t.predicate, t.object) for t in asserted]
    _refuse_unsupported({(p, o if p == TYPE else None) for _, p, o in given
                         if p in UNSUPPORTED_PREDICATES or (p == TYPE and o in UNSUPPORTED_TYPES)})
    tbox = _tbox(given)
    rules = compile_rules(tbox)
    g = Graph(_joined(rules))
    g.backward = set(g.joined) - {TYPE}
    delta = g.add(given)
    done = Fixpoint()
    g.derived = g.add(rules.schema)
    delta += g.derived
    _seed_equal_terms(g, rules)
    while True:
        g.touched = set()
        found = _apply(rules, g, delta)
        delta = g.add(found)
        g.derived += delta
        done.rounds += 1
        done.added.append(len(delta))
        if not delta:
            more = _tbox(g.derived) - tbox - rules.schema
            if not more:
                break
            tbox |= more
            rules = compile_rules(tbox)
            g.join_on(_joined(rules), backwards=True)
            done.recompiled += 1
            g.derived += g.add(rules.schema)
            delta = list(g.triples)  # a full round with the new rules
    _refuse_literal_equality(g, rules)
    done.rules = rules
    out = _finish(g, given, rules)
    done.seconds = time.perf_counter() - start
    return out, done


def _seed_equal_terms(g: Graph, rules: RuleSet) -> None:
    """Index, in one pass, the terms owl:sameAs relates and those prp-fp and prp-ifp may relate
    (objects of functional, subjects of inverse-functional properties): a pass per new term costs
    a scan of every triple."""
    terms = {t for x, ys in g.out.get(SAME_AS, {}).items() for t in (x, *ys)}
    for rule in rules.rules:
        if rule.name in ("prp-fp", "prp-ifp"):
            for (p,) in rule.table[1]:
                index = g.out[p] if rule.name == "prp-fp" else g.into[p]
                terms |= {t for values in index.values() for t in values}
    g.equal_terms(terms)


def _joined(rules: RuleSet) -> set:
    """The predicates the rules join on (indexed as triples arrive)."""
    out = {SAME_AS}
    for rule in rules.rules:
        kind = rule.name.split("#")[0]
        if kind in ("prp-trp", "prp-fp", "prp-ifp"):
            out |= {row[0] for row in rule.table[1]}
        elif kind == "prp-spo2":
            out |= {tp[1] for tp in rule.body}
    if rules.disjoint:
        out.add(TYPE)
    return out


def _refuse_literal_equality(g: Graph, rules: RuleSet) -> None:
    for s, objects in g.out.get(SAME_AS, {}).items():
        for o in objects:
            if _literal(o):
                raise UnsupportedConstruct(
                    f"owl:sameAs between {s} and the literal {o}: its symmetric triple has a literal subject; "
                    "the compiled rules do not reason with literal subjects (owlrl does)",
                    hint="reason with --reasoner owlrl (or reasonable)")
    for rule in rules.rules:
        if rule.name == "prp-fp":
            for (p,) in rule.table[1]:
                for x, objects in g.out.get(p, {}).items():
                    if sum(1 for o in objects if _literal(o)) > 1:
                        raise UnsupportedConstruct(
                            f"the functional property {p} has two literal values on {x}: owlrl makes them "
                            "owl:sameAs, a triple with a literal subject the compiled rules do not reason with",
                            hint="reason with --reasoner owlrl (or reasonable)")


def _finish(g: Graph, asserted: list[Triple], rules: RuleSet) -> list[ox.Triple]:
    """Noise out (``reason.is_noise``), owlrl's literal forms, owlrl's inconsistency messages."""
    # rdf:type's equivalents are schema triples: all of them, inferred ones too, are in the T-box.
    types = {TYPE} | {o if s == TYPE else s for s, p, o in rules.tbox | rules.schema
                      if (p == _EQ_PROPERTY and TYPE in (s, o)) or (p == _SUBPROPERTY and s == TYPE)}
    trivial = set(TRIVIAL_TYPES)
    vocabularies = (NS_OWL, NS_RDF, NS_RDFS, NS_XSD)
    forms: dict = {}

    def owlrl_form(o):
        if o not in forms:
            forms[o] = _as_owlrl_reads(o)
        return forms[o]

    # owlrl reads the asserted literals in rdflib's forms ("01"^^xsd:integer is "1"): a derived
    # triple equal to an asserted one in those forms is not new to it.
    changed = {o for o in {t[2] for t in asserted if type(t[2]) is _LITERAL} if owlrl_form(o) != o}
    given_forms = {(s, p, owlrl_form(o)) for s, p, o in asserted if o in changed} if changed else set()
    known = g.triples  # a derived triple is never asserted; its rdflib form may be
    out = set()
    for t in g.derived:
        s, p, o = t
        if (p in _REFLEXIVE and s == o) or (p in types and o in trivial) or (
                isinstance(s, ox.NamedNode) and s.value.startswith(vocabularies)) or (
                p == TYPE and isinstance(o, ox.NamedNode) and o.value.startswith(NS_RDFS) and o != RDFS_CLASS):
            continue
        if type(o) is _LITERAL and (o.language or o.datatype.value != NS_XSD + "string"):
            form = owlrl_form(o)
            if (s, p, form) in given_forms or (form != o and (s, p, form) in known):
                continue
            o = form
        out.add(ox.Triple(s, p, o))
    messages = []
    if rules.disjoint:
        g.join_on([TYPE])
    typed = g.out.get(TYPE, {})
    for c1, c2 in rules.disjoint:
        for x in sorted((x for x, classes in typed.items() if c1 in classes and c2 in classes), key=str):
            messages.append(f"Disjoint classes {c1.value} and {c2.value} have a common individual {_plain(x)}")
    for x in [t[0] for t in g.triples if t[2] == NOTHING and t[1] == TYPE]:
        messages.append(f"{_plain(x)} is defined of type 'Nothing'")
    for m in dict.fromkeys(messages):
        node = ox.BlankNode()
        out.add(ox.Triple(node, TYPE, ox.NamedNode(ERRNS + "ErrorMessage")))
        out.add(ox.Triple(node, ox.NamedNode(ERRNS + "error"), ox.Literal(m)))
    return list(out)
