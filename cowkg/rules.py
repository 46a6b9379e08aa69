"""OWL 2 RL rules compiled from a T-box into SPARQL 1.1 updates, run to a fixpoint inside a store.

Stage: reasoning, where the data lives. Input: a store that holds the asserted graphs (pyoxigraph in
process, or Virtuoso after its bulk load) reached through a ``Runner`` (three calls: ``update``,
``select``, ``ask``). Output: the inferred graph of ``cowkg.reason`` — the owlrl closure minus the
asserted triples and minus ``reason.is_noise`` — written into a staging graph and put in place only
when complete, so a failure never leaves a half-written inferred graph.

Why: owlrl and reasonable need the whole graph in one process; a store that holds 10M triples can
apply the rules itself. Only the rules this T-box triggers are compiled, each into one update whose
``VALUES`` table holds the T-box's constants (``cax-sco``: the closed subclass pairs), so a round is
a handful of updates whatever the ontology's size.

1. ``compile_rules`` reads the T-box (the schema triples of the store: subclass, subproperty,
   domain, range, equivalence, inverse, disjointness, property chains, property characteristics),
   closes it with the schema rules (scm-*) in Python (it is small), and returns a ``RuleSet``: the
   schema closure and the instance rules with their tables. A construct owlrl gives meaning to and
   this compiler does not implement raises ``UnsupportedConstruct`` naming it: never a smaller closure.
2. ``run_to_fixpoint`` inserts the schema closure, runs every rule once over everything, then
   semi-naively (a rule reads the triples new in the last round in one body atom, everything in
   the others) until a round adds nothing. Schema triples inferred on the way (a class made
   equal to another by owl:sameAs) recompile the rules and the loop goes on.
3. Consistency checks (cax-dw, cls-nothing2) add owlrl's error-message nodes; noise is deleted; the
   staging graph becomes the inferred graph.

Heads that would put a literal in subject position are not stored (RDF stores cannot); where such
a triple could feed another rule (owl:sameAs to a literal), ``run_to_fixpoint`` raises
``UnsupportedConstruct`` instead of giving a smaller closure. tests/test_rules.py proves the result
equals ``reason.infer`` (owlrl and reasonable) on the project and on synthetic graphs.
"""

from __future__ import annotations

import itertools
import logging
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pyoxigraph as ox

from .errors import UnsupportedConstruct
from .vocab import NS_OWL, NS_RDF, NS_RDFS, NS_XSD

log = logging.getLogger(__name__)

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Term, Term, Term]


def _n(ns: str, local: str) -> ox.NamedNode:
    return ox.NamedNode(ns + local)


TYPE, FIRST, REST, NIL = (_n(NS_RDF, x) for x in ("type", "first", "rest", "nil"))
RDF_PROPERTY = _n(NS_RDF, "Property")
SUBCLASS, SUBPROPERTY, DOMAIN, RANGE = (_n(NS_RDFS, x) for x in ("subClassOf", "subPropertyOf", "domain", "range"))
RDFS_CLASS, RDFS_RESOURCE = _n(NS_RDFS, "Class"), _n(NS_RDFS, "Resource")
(SAME_AS, EQ_CLASS, EQ_PROPERTY, INVERSE, DISJOINT, CHAIN, THING, NOTHING, NAMED_INDIVIDUAL, OWL_CLASS,
 OBJECT_PROPERTY, DATATYPE_PROPERTY, TRANSITIVE, FUNCTIONAL, INVERSE_FUNCTIONAL, SYMMETRIC) = (
    _n(NS_OWL, x) for x in ("sameAs", "equivalentClass", "equivalentProperty", "inverseOf", "disjointWith",
                            "propertyChainAxiom", "Thing", "Nothing", "NamedIndividual", "Class",
                            "ObjectProperty", "DatatypeProperty", "TransitiveProperty", "FunctionalProperty",
                            "InverseFunctionalProperty", "SymmetricProperty"))
ERRNS = "http://www.daml.org/2002/03/agents/agent-ont#"

#: Predicates whose triples are the T-box this compiler reads (besides the typings in SCHEMA_TYPES).
SCHEMA_PREDICATES = (SUBCLASS, SUBPROPERTY, DOMAIN, RANGE, EQ_CLASS, EQ_PROPERTY, INVERSE, DISJOINT, CHAIN)
#: Objects of rdf:type that make a triple part of the T-box.
SCHEMA_TYPES = (OWL_CLASS, OBJECT_PROPERTY, DATATYPE_PROPERTY, RDF_PROPERTY, TRANSITIVE, FUNCTIONAL,
                INVERSE_FUNCTIONAL, SYMMETRIC)
#: Constructs owlrl's OWL 2 RL closure gives meaning to that this compiler does not implement: a
#: graph using one is refused (``UnsupportedConstruct``), never reasoned into a smaller closure.
UNSUPPORTED_PREDICATES = tuple(_n(NS_OWL, x) for x in (
    "hasKey", "onProperty", "someValuesFrom", "allValuesFrom", "hasValue", "maxCardinality",
    "maxQualifiedCardinality", "intersectionOf", "unionOf", "complementOf", "oneOf", "propertyDisjointWith",
    "differentFrom", "sourceIndividual", "members", "distinctMembers"))
UNSUPPORTED_TYPES = tuple(_n(NS_OWL, x) for x in (
    "AllDifferent", "AllDisjointClasses", "AllDisjointProperties", "IrreflexiveProperty", "AsymmetricProperty",
    "NegativePropertyAssertion"))
#: Typings every closure adds and ``reason.is_noise`` removes: derived only where a rule reads them.
TRIVIAL_TYPES = (THING, RDFS_RESOURCE, NAMED_INDIVIDUAL)
_REFLEXIVE = (SAME_AS, EQ_CLASS, EQ_PROPERTY, SUBCLASS, SUBPROPERTY)


# ------------------------------------------------------------------------------------------------
# The rule table
# ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """One OWL 2 RL rule specialised to a T-box: ``body`` → ``head``.

    Terms are variables (``"?x"``) or constants. ``table`` binds some variables to rows of T-box
    constants (a ``VALUES`` block); ``distinct`` pairs of variables must differ; ``not_literal``
    variables must not be literals (the head puts them in subject position)."""

    name: str
    body: tuple[tuple, ...]
    head: tuple
    table: tuple[tuple[str, ...], tuple[tuple[Term, ...], ...]] | None = None
    distinct: tuple[tuple[str, str], ...] = ()
    not_literal: tuple[str, ...] = ()


@dataclass
class RuleSet:
    """What ``compile_rules`` makes of a T-box: its schema closure and the instance rules."""

    tbox: frozenset[Triple]
    schema: frozenset[Triple]  # the scm-* closure of ``tbox`` (reflexive axioms left out)
    rules: list[Rule]
    disjoint: list[tuple[Term, Term]] = field(default_factory=list)

    def describe(self) -> list[str]:
        """One line per rule: its name and table size (``cowkg virtuoso load --reason`` logs them)."""
        return [f"{r.name}: {len(r.table[1]) if r.table else 1} row(s)" for r in self.rules]


def compile_rules(tbox: Iterable[Triple]) -> RuleSet:
    """The schema closure of ``tbox`` and the instance rules it triggers.

    Raises UnsupportedConstruct when ``tbox`` holds a construct outside ``SCHEMA_PREDICATES`` /
    ``SCHEMA_TYPES`` that owlrl would reason with (see ``UNSUPPORTED_PREDICATES``)."""
    tbox = frozenset(tbox)
    _refuse_unsupported({(p, o if p == TYPE else None) for _, p, o in tbox})
    schema = _schema_closure(tbox)
    every = tbox | schema

    def pairs(pred: ox.NamedNode, *, both: bool = False) -> set[tuple[Term, Term]]:
        out = {(s, o) for s, p, o in every if p == pred and s != o}
        return out | {(o, s) for s, o in out} if both else out

    def typed(cls: ox.NamedNode) -> list[tuple[Term]]:
        return sorted(((s,) for s, p, o in every if p == TYPE and o == cls), key=str)

    subclass, subproperty = pairs(SUBCLASS), pairs(SUBPROPERTY)
    domain, range_ = pairs(DOMAIN), pairs(RANGE)
    inverse = pairs(INVERSE, both=True)
    disjoint = sorted(pairs(DISJOINT), key=str)
    chains = _property_chains(every)
    transitive, functional = typed(TRANSITIVE), typed(FUNCTIONAL)
    inverse_functional, symmetric = typed(INVERSE_FUNCTIONAL), typed(SYMMETRIC)

    # Typing by owl:Thing (every declared class is its subclass, scm-cls) is noise; derive it only
    # when some rule reads it: a class table row from a trivial type, disjointness with one, or a
    # rule on rdf:type itself.
    property_keys = {p for p, _ in subproperty | domain | range_ | inverse}
    property_keys |= {p for (p,) in transitive + functional + inverse_functional + symmetric}
    property_keys |= {step for _, steps in chains for step in steps}
    read_classes = {c for c, _ in subclass} | {c for pair in disjoint for c in pair}
    if TYPE not in property_keys:
        dead = set(TRIVIAL_TYPES) - read_classes
        subclass = {(a, b) for a, b in subclass if b not in dead}
        domain = {(a, b) for a, b in domain if b not in dead}
        range_ = {(a, b) for a, b in range_ if b not in dead}

    def table(names: Sequence[str], rows: Iterable[tuple]) -> tuple:
        return tuple(names), tuple(sorted(rows, key=lambda r: tuple(map(str, r))))

    rules = []
    if subclass:
        rules.append(Rule("cax-sco", (("?x", TYPE, "?c1"),), ("?x", TYPE, "?c2"), table(("?c1", "?c2"), subclass)))
    if domain:
        rules.append(Rule("prp-dom", (("?x", "?p", "?y"),), ("?x", TYPE, "?c"), table(("?p", "?c"), domain)))
    if range_:
        rules.append(Rule("prp-rng", (("?x", "?p", "?y"),), ("?y", TYPE, "?c"), table(("?p", "?c"), range_),
                          not_literal=("?y",)))
    if subproperty:
        rules.append(Rule("prp-spo1", (("?x", "?p1", "?y"),), ("?x", "?p2", "?y"),
                          table(("?p1", "?p2"), subproperty)))
    if inverse:
        rules.append(Rule("prp-inv", (("?x", "?p1", "?y"),), ("?y", "?p2", "?x"), table(("?p1", "?p2"), inverse),
                          not_literal=("?y",)))
    if symmetric:
        rules.append(Rule("prp-symp", (("?x", "?p", "?y"),), ("?y", "?p", "?x"), table(("?p",), symmetric),
                          not_literal=("?y",)))
    if transitive:
        rules.append(Rule("prp-trp", (("?x", "?p", "?y"), ("?y", "?p", "?z")), ("?x", "?p", "?z"),
                          table(("?p",), transitive)))
    if functional:
        rules.append(Rule("prp-fp", (("?x", "?p", "?y1"), ("?x", "?p", "?y2")), ("?y1", SAME_AS, "?y2"),
                          table(("?p",), functional), distinct=(("?y1", "?y2"),), not_literal=("?y1",)))
    if inverse_functional:
        rules.append(Rule("prp-ifp", (("?x1", "?p", "?y"), ("?x2", "?p", "?y")), ("?x1", SAME_AS, "?x2"),
                          table(("?p",), inverse_functional), distinct=(("?x1", "?x2"),)))
    for i, (prop, steps) in enumerate(sorted(chains, key=str)):
        body = tuple((f"?u{k}", step, f"?u{k + 1}") for k, step in enumerate(steps))
        rules.append(Rule(f"prp-spo2#{i}", body, ("?u0", prop, f"?u{len(steps)}")))
    # Equality: owl:sameAs is data, so these rules are always there (cheap when it is absent).
    rules += [
        Rule("eq-sym", (("?x", SAME_AS, "?y"),), ("?y", SAME_AS, "?x"), distinct=(("?x", "?y"),),
             not_literal=("?y",)),
        Rule("eq-trans", (("?x", SAME_AS, "?y"), ("?y", SAME_AS, "?z")), ("?x", SAME_AS, "?z"),
             distinct=(("?x", "?z"),)),
        Rule("eq-rep-s", (("?s", SAME_AS, "?s2"), ("?s", "?p", "?o")), ("?s2", "?p", "?o"),
             distinct=(("?s", "?s2"),), not_literal=("?s2",)),
        Rule("eq-rep-p", (("?p", SAME_AS, "?p2"), ("?s", "?p", "?o")), ("?s", "?p2", "?o"),
             distinct=(("?p", "?p2"),)),
        Rule("eq-rep-o", (("?o", SAME_AS, "?o2"), ("?s", "?p", "?o")), ("?s", "?p", "?o2"),
             distinct=(("?o", "?o2"),)),
    ]
    return RuleSet(tbox, frozenset(schema), rules, disjoint)


def _refuse_unsupported(used: set[tuple]) -> None:
    found = sorted({(p if o is None else o).value for p, o in used
                    if p in UNSUPPORTED_PREDICATES or (p == TYPE and o in UNSUPPORTED_TYPES)})
    if found:
        raise UnsupportedConstruct(
            f"the ontology uses {', '.join(found)}, which the SPARQL rule compiler does not implement",
            hint="reason with --reasoner owlrl (or reasonable), or extend cowkg/rules.py with the rule")


def _schema_closure(tbox: frozenset[Triple]) -> set[Triple]:
    """The scm-* rules of owlrl to a fixpoint over the T-box; reflexive axioms (noise) are left out.

    scm-cls, scm-op, scm-dp, scm-sco, scm-eqc1/2, scm-spo, scm-eqp1/2, scm-dom1/2, scm-rng1/2."""
    known = set(tbox)
    while True:
        new: set[Triple] = set()
        sub = {}
        for s, p, o in known:
            sub.setdefault(p, {}).setdefault(s, set()).add(o)
        sc, spo = sub.get(SUBCLASS, {}), sub.get(SUBPROPERTY, {})
        for s, p, o in known:
            if p == TYPE and o == OWL_CLASS:
                new.add((s, SUBCLASS, THING))
                new.add((NOTHING, SUBCLASS, s))
            elif p in (SUBCLASS, SUBPROPERTY) and s != o:
                for o2 in sub[p].get(o, ()):
                    new.add((s, p, o2))
                if s in sub[p].get(o, ()):
                    new.add((s, EQ_CLASS if p == SUBCLASS else EQ_PROPERTY, o))
            elif p in (EQ_CLASS, EQ_PROPERTY) and s != o:
                sp = SUBCLASS if p == EQ_CLASS else SUBPROPERTY
                new |= {(s, sp, o), (o, sp, s)}
            elif p in (DOMAIN, RANGE):
                new |= {(s, p, c2) for c2 in sc.get(o, ()) if c2 != o}
                new |= {(p1, p, o) for p1, supers in spo.items() if s in supers and p1 != s}
        new = {t for t in new if not (t[1] in _REFLEXIVE and t[0] == t[2])} - known
        if not new:
            return known - tbox
        known |= new


def _property_chains(triples: Iterable[Triple]) -> list[tuple[Term, tuple[Term, ...]]]:
    """(property, (p1, ..., pn)) for every ``owl:propertyChainAxiom`` list."""
    triples = list(triples)
    first = {s: o for s, p, o in triples if p == FIRST}
    rest = {s: o for s, p, o in triples if p == REST}
    chains = []
    for s, p, o in triples:
        if p == CHAIN:
            steps, node = [], o
            while node in first:
                steps.append(first[node])
                node = rest.get(node, NIL)
            if steps:
                chains.append((s, tuple(steps)))
    return chains


# ------------------------------------------------------------------------------------------------
# Rendering: rules → SPARQL 1.1 updates
# ------------------------------------------------------------------------------------------------

def _term(t) -> str:
    return t if isinstance(t, str) else str(t)


def _pattern(tp: tuple) -> str:
    return " ".join(_term(t) for t in tp)


@dataclass(frozen=True)
class Layout:
    """The graphs a run reads and writes.

    ``sources`` are read as "everything known" (asserted graphs and ``staging``); when
    ``default_is_all`` the default graph already holds all of it (pyoxigraph: the work store).
    ``staging`` collects the inferred triples; ``delta`` the last round's, ``next`` this round's."""

    sources: tuple[str, ...]
    staging: str
    delta: str
    next: str
    default_is_all: bool = False
    #: One update per table row, the row's constants written into the patterns (Virtuoso scans
    #: every quad for ``VALUES (?p ?c) { ... } ?x ?p ?y``; with the constant it reads one index range).
    per_row: bool = False
    #: Each atom read from one named source graph at a time (an update per combination), and no
    #: NOT EXISTS in the rules: the runner deletes the known triples from ``next`` after a round.
    #: Virtuoso 7.2 plans a pattern over several graphs (GRAPH ?g + VALUES, IN, FROM, UNION) and a
    #: NOT EXISTS over them up to 100x slower than the same pattern in one graph.
    pinned: bool = False

    def known(self, tp: tuple, var: str) -> str:
        """``tp`` matched in everything known (``var`` names the graph variable if one is needed)."""
        if self.default_is_all:
            return f"{_pattern(tp)} ."
        graphs = " ".join(f"<{g}>" for g in self.sources)
        return f"GRAPH {var} {{ {_pattern(tp)} }} VALUES {var} {{ {graphs} }}"

    def ingraph(self, graph: str, tp: tuple) -> str:
        return f"GRAPH <{graph}> {{ {_pattern(tp)} }}"


def instances(rule: Rule) -> list[Rule]:
    """``rule`` once per row of its table, the row's constants in place of the table's variables."""
    if rule.table is None:
        return [rule]
    names, rows = rule.table
    out = []
    for row in rows:
        sub = dict(zip(names, row, strict=True))

        def put(tp: tuple, sub=sub) -> tuple:
            return tuple(sub.get(t, t) if isinstance(t, str) else t for t in tp)

        out.append(Rule(rule.name, tuple(put(tp) for tp in rule.body), put(rule.head), None,
                        tuple(p for p in rule.distinct if p[0] not in sub and p[1] not in sub),
                        tuple(v for v in rule.not_literal if v not in sub)))
    return out


def render_rule(rule: Rule, layout: Layout, delta_atom: int | None,
                present: dict[str, set] | None = None) -> list[str]:
    """The updates applying ``rule`` once: one, or one per table row (``Layout.per_row``) and per
    choice of source graph for each atom not read from the delta (``Layout.pinned``).

    ``present`` (graph → its predicates and ``(rdf:type, class)`` pairs) leaves out the updates
    an atom of which cannot match in the graph it reads."""
    out = []
    for r in instances(rule) if layout.per_row else [rule]:
        if not layout.pinned:
            out.append(render(r, layout, delta_atom))
            continue
        if delta_atom is not None and not _may_match(r.body[delta_atom], layout.delta, present):
            continue
        free = [i for i in range(len(r.body)) if i != delta_atom]
        for choice in itertools.product(layout.sources, repeat=len(free)):
            if all(_may_match(r.body[i], g, present) for i, g in zip(free, choice, strict=True)):
                out.append(render(r, layout, delta_atom, dict(zip(free, choice, strict=True))))
    return out


def _may_match(tp: tuple, graph: str, present: dict[str, set] | None) -> bool:
    keys = None if present is None else present.get(graph)
    _, p, o = tp
    if keys is None or isinstance(p, str):
        return True
    return (p, o) in keys if p == TYPE and not isinstance(o, str) else p in keys


def graph_keys(runner: Runner, graph: str) -> set:
    """The predicates of ``graph`` and its ``(rdf:type, class)`` pairs (see ``render_rule``)."""
    # GROUP BY, not DISTINCT: Virtuoso 7.2 took 30 s for SELECT DISTINCT ?p over a graph just
    # written (100k triples), 0.1 s for the grouped count.
    keys: set = {row[0] for row in runner.select(
        f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} GROUP BY ?p")}
    keys |= {(TYPE, row[0]) for row in runner.select(
        f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s {TYPE} ?c }} }} GROUP BY ?c")}
    return keys


def render(rule: Rule, layout: Layout, delta_atom: int | None, pinned: dict[int, str] | None = None) -> str:
    """The update that applies ``rule`` once: atom ``delta_atom`` read from the last round's new
    triples (None: every atom from everything known, or from the graph ``pinned`` gives it), the
    head inserted into ``layout.next`` unless it is known already (pinned: the runner removes the
    known ones from ``next`` after the round)."""
    lines = []
    if rule.table:
        names, rows = rule.table
        body = " ".join("(" + " ".join(map(str, row)) + ")" for row in rows)
        lines.append(f"VALUES ({' '.join(names)}) {{ {body} }}")
    order = list(range(len(rule.body)))
    if delta_atom is not None:
        order.remove(delta_atom)
        order.insert(0, delta_atom)
    for i in order:
        tp = rule.body[i]
        if i == delta_atom:
            lines.append(layout.ingraph(layout.delta, tp))
        elif pinned is not None:
            lines.append(layout.ingraph(pinned[i], tp))
        else:
            lines.append(layout.known(tp, f"?g{i}"))
    # The first of each pair is never a literal (a subject, or kept out by not_literal), so ``!=``
    # is term inequality here; Virtuoso 7.2 answers ``!sameTerm(...)`` with an error, and
    # ``sameTerm(...) || x`` with false when x is false.
    filters = [f"{a} != {b}" for a, b in rule.distinct] + [f"!isLiteral({v})" for v in rule.not_literal]
    if filters:
        lines.append(f"FILTER({' && '.join(filters)})")
    if pinned is None:
        lines.append(f"FILTER NOT EXISTS {{ {layout.known(rule.head, '?gh')} }}")
    where = "\n  ".join(lines)
    return f"INSERT {{ GRAPH <{layout.next}> {{ {_pattern(rule.head)} }} }}\nWHERE {{\n  {where}\n}}"


# ------------------------------------------------------------------------------------------------
# Running in a store
# ------------------------------------------------------------------------------------------------

class Runner(Protocol):
    """A store the rules run in: SPARQL 1.1 updates (run in order), and SELECT rows as tuples of
    pyoxigraph terms."""

    def update(self, texts: Sequence[str]) -> None: ...

    def select(self, text: str) -> list[tuple]: ...

    def after_round(self, layout: Layout) -> int:
        """Fold ``next`` into ``staging`` (and what "known" reads), make it the new ``delta``, empty
        ``next``; return how many triples it held."""
        ...


@dataclass
class Fixpoint:
    """What ``run_to_fixpoint`` did: rounds, triples inferred (before the noise filter), seconds."""

    rounds: int = 0
    added: list[int] = field(default_factory=list)
    recompiled: int = 0
    seconds: float = 0.0
    rules: RuleSet | None = None


def harvest_tbox(runner: Runner, layout: Layout) -> set[Triple]:
    """The schema triples of everything known (asserted and inferred so far), lists included."""
    preds = " ".join(str(p) for p in SCHEMA_PREDICATES)
    types = " ".join(str(t) for t in SCHEMA_TYPES)
    spo = layout.known(("?s", "?p", "?o"), "?g")
    out = set(runner.select(f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {preds} }} {spo} }}"))
    out |= {(s, TYPE, o) for s, o in runner.select(
        f"SELECT ?s ?o WHERE {{ VALUES ?o {{ {types} }} {layout.known(('?s', TYPE, '?o'), '?g')} }}")}
    if any(p == CHAIN for _, p, _ in out):
        out |= set(runner.select(
            f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {FIRST} {REST} }} {layout.known(('?s', '?p', '?o'), '?g')} }}"))
    return out


def check_unsupported(runner: Runner, layout: Layout) -> None:
    """Raise UnsupportedConstruct when any known triple uses a construct the compiler lacks."""
    preds = " ".join(str(p) for p in UNSUPPORTED_PREDICATES)
    types = " ".join(str(t) for t in UNSUPPORTED_TYPES)
    used = {(p, None) for (p,) in runner.select(
        f"SELECT DISTINCT ?p WHERE {{ VALUES ?p {{ {preds} }} {layout.known(('?s', '?p', '?o'), '?g')} }}")}
    used |= {(TYPE, o) for (o,) in runner.select(
        f"SELECT DISTINCT ?o WHERE {{ VALUES ?o {{ {types} }} {layout.known(('?s', TYPE, '?o'), '?g')} }}")}
    _refuse_unsupported(used)


def run_to_fixpoint(runner: Runner, layout: Layout, *, max_rounds: int = 1000,
                    on_round: Callable[[int, int], None] | None = None) -> Fixpoint:
    """Compute the closure into ``layout.staging`` (noise included; see ``finish``).

    Raises UnsupportedConstruct (see ``compile_rules``; also for owl:sameAs with a literal, which
    no RDF store can hold the symmetric of)."""
    start = time.perf_counter()
    out = Fixpoint()
    check_unsupported(runner, layout)
    tbox = harvest_tbox(runner, layout)
    rules = compile_rules(tbox)
    full = True
    inserted: set[Triple] = set()
    present: dict[str, set] | None = None
    if layout.pinned:
        present = {g: graph_keys(runner, g) for g in layout.sources if g != layout.staging}
    while True:
        pending = rules.schema - inserted
        if pending:
            rows = " ".join(f"({_term(s)} {_term(p)} {_term(o)})" for s, p, o in pending)
            known = "" if layout.pinned else f"FILTER NOT EXISTS {{ {layout.known(('?s', '?p', '?o'), '?gh')} }}"
            runner.update([f"INSERT {{ GRAPH <{layout.next}> {{ ?s ?p ?o }} }} WHERE {{ VALUES (?s ?p ?o) {{ {rows} }} "
                           f"{known} }}"])
            inserted |= pending
        if present is not None:
            present[layout.staging] = graph_keys(runner, layout.staging)
            present[layout.delta] = graph_keys(runner, layout.delta)
        runner.update([text for rule in rules.rules for i in ([None] if full else range(len(rule.body)))
                       for text in render_rule(rule, layout, i, present)])
        n = runner.after_round(layout)
        out.rounds += 1
        out.added.append(n)
        if on_round:
            on_round(out.rounds, n)
        log.debug("round %d: %d new triples", out.rounds, n)
        full = False
        if n == 0:
            tbox2 = harvest_tbox(runner, layout)
            if tbox2 <= tbox | rules.schema:
                break
            check_unsupported(runner, layout)
            tbox = tbox | tbox2
            rules = compile_rules(tbox)
            out.recompiled += 1
            full = True
        if out.rounds >= max_rounds:
            raise RuntimeError(f"no fixpoint after {max_rounds} rounds")
    _refuse_literal_equality(runner, layout, rules)
    out.rules = rules
    out.seconds = time.perf_counter() - start
    return out


def _refuse_literal_equality(runner: Runner, layout: Layout, rules: RuleSet) -> None:
    rows = runner.select(f"SELECT ?s ?o WHERE {{ {layout.known(('?s', SAME_AS, '?o'), '?g')} FILTER isLiteral(?o) }} "
                         "LIMIT 1")
    functional = [row[0] for r in rules.rules if r.name == "prp-fp" and r.table for row in r.table[1]]
    if functional and not rows:
        # Two literal values of a functional property: owlrl makes them owl:sameAs (subject and
        # object literals, never stored) and copies every triple ending in one to the other.
        rows = runner.select(
            f"SELECT ?y1 ?y2 WHERE {{ VALUES ?p {{ {' '.join(map(str, functional))} }} "
            f"{layout.known(('?x', '?p', '?y1'), '?g1')} {layout.known(('?x', '?p', '?y2'), '?g2')} "
            "FILTER(isLiteral(?y1) && isLiteral(?y2) && (STR(?y1) != STR(?y2) || LANG(?y1) != LANG(?y2) "
            "|| STR(DATATYPE(?y1)) != STR(DATATYPE(?y2)))) } LIMIT 1")
    if rows:
        raise UnsupportedConstruct(
            f"owl:sameAs between {rows[0][0]} and the literal {rows[0][1]} (asserted, or from a functional "
            "property with two literal values): its symmetric triple has a literal subject, which no RDF store "
            "holds, so the SPARQL rules cannot give owlrl's closure",
            hint="reason with --reasoner owlrl (or reasonable)")


def noise_filter(type_properties: Iterable[Term]) -> str:
    """A SPARQL FILTER expression true for ``?s ?p ?o`` exactly when ``reason.is_noise`` holds."""
    reflexive = ", ".join(map(str, _REFLEXIVE))
    types = ", ".join(map(str, type_properties))
    trivial = ", ".join(map(str, TRIVIAL_TYPES))
    spaces = " || ".join(f'STRSTARTS(STR(?s), "{ns}")' for ns in (NS_OWL, NS_RDF, NS_RDFS, NS_XSD))
    return (f"(?p IN ({reflexive}) && !isLiteral(?o) && ?s = ?o) || (?p IN ({types}) && ?o IN ({trivial})) || "
            f'(?p = {TYPE} && isIRI(?o) && STRSTARTS(STR(?o), "{NS_RDFS}") && ?o != {RDFS_CLASS}) || '
            f"(isIRI(?s) && ({spaces}))")


def type_properties(runner: Runner, layout: Layout) -> set[Term]:
    """rdf:type and the properties equal to it or implied by it (``reason._type_properties``)."""
    out = {TYPE}
    for (p,) in runner.select(
            f"SELECT DISTINCT ?q WHERE {{ {{ {layout.known(('?q', EQ_PROPERTY, TYPE), '?g')} }} UNION "
            f"{{ {layout.known((TYPE, EQ_PROPERTY, '?q'), '?g')} }} UNION "
            f"{{ {layout.known((TYPE, SUBPROPERTY, '?q'), '?g')} }} }}"):
        out.add(p)
    return out


def finish(runner: Runner, layout: Layout, rules: RuleSet) -> int:
    """Delete the noise from ``staging`` and add owlrl's inconsistency messages (cax-dw,
    cls-nothing2); returns how many messages were added."""
    runner.update([f"DELETE {{ GRAPH <{layout.staging}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{layout.staging}> "
                   f"{{ ?s ?p ?o }} FILTER({noise_filter(type_properties(runner, layout))}) }}"])
    messages = []
    for c1, c2 in rules.disjoint:
        for (x,) in runner.select(f"SELECT DISTINCT ?x WHERE {{ {layout.known(('?x', TYPE, c1), '?g1')} "
                                  f"{layout.known(('?x', TYPE, c2), '?g2')} }}"):
            messages.append(f"Disjoint classes {c1.value} and {c2.value} have a common individual {_plain(x)}")
    for (x,) in runner.select(f"SELECT DISTINCT ?x WHERE {{ {layout.known(('?x', TYPE, NOTHING), '?g')} }}"):
        messages.append(f"{_plain(x)} is defined of type 'Nothing'")
    if messages:
        # A blank node in a template is fresh for each solution (Virtuoso refuses them in INSERT DATA).
        texts = " ".join(str(ox.Literal(m)) for m in dict.fromkeys(messages))
        template = f"_:m {TYPE} <{ERRNS}ErrorMessage> . _:m <{ERRNS}error> ?t"
        runner.update([f"INSERT {{ GRAPH <{layout.staging}> {{ {template} }} }} WHERE {{ VALUES ?t {{ {texts} }} }}"])
    return len(messages)


def _plain(term: Term) -> str:
    """How owlrl writes a term in its messages (rdflib's ``str``)."""
    return term.value


def reason_in(runner: Runner, layout: Layout, on_round: Callable[[int, int], None] | None = None) -> Fixpoint:
    """Run the rules to a fixpoint, then ``finish``: ``layout.staging`` holds the inferred graph."""
    done = run_to_fixpoint(runner, layout, on_round=on_round)
    assert done.rules is not None
    finish(runner, layout, done.rules)
    return done


# ------------------------------------------------------------------------------------------------
# pyoxigraph, in process
# ------------------------------------------------------------------------------------------------

WORK = "urn:cowkg:rules:"


class OxigraphRunner:
    """A private in-memory pyoxigraph store: the default graph holds everything known."""

    def __init__(self, asserted: Iterable[ox.Triple]) -> None:
        self._work = ox.Store()
        self._work.bulk_extend(ox.Quad(*t, ox.DefaultGraph()) for t in asserted)

    layout = Layout(sources=(), staging=WORK + "staging", delta=WORK + "delta", next=WORK + "next",
                    default_is_all=True)

    def update(self, texts: Sequence[str]) -> None:
        for text in texts:
            self._work.update(text)

    def select(self, text: str) -> list[tuple]:
        result = self._work.query(text)
        return [tuple(row) for row in result]

    def after_round(self, layout: Layout) -> int:
        nxt, delta = ox.NamedNode(layout.next), ox.NamedNode(layout.delta)
        new = [q.triple for q in self._work.quads_for_pattern(None, None, None, nxt)]
        for graph in (delta, nxt):
            self._work.remove_graph(graph)
        self._work.bulk_extend(q for t in new for q in (
            ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()),
            ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(layout.staging)),
            ox.Quad(t.subject, t.predicate, t.object, delta)))
        return len(new)

    def inferred(self) -> list[ox.Triple]:
        return [q.triple for q in self._work.quads_for_pattern(None, None, None, ox.NamedNode(self.layout.staging))]


def closure_in_oxigraph(asserted: Iterable[ox.Triple]) -> tuple[list[ox.Triple], Fixpoint]:
    """The inferred triples of ``asserted`` (``reason.infer``'s result) computed by the SPARQL rules
    in a private pyoxigraph store.

    pyoxigraph stores numbers, dates and language tags in canonical form (``2000000000.0`` comes
    back as ``2000000000``); the rules only copy literals, so each is given back the form it was
    asserted with, as owlrl's rdflib graph holds it."""
    asserted = list(asserted)
    runner = OxigraphRunner(asserted)
    done = reason_in(runner, runner.layout)
    lexical = _lexical_forms(t.object for t in asserted)
    out = []
    for t in runner.inferred():
        if isinstance(t.object, ox.Literal) and t.object in lexical:
            out += [ox.Triple(t.subject, t.predicate, o) for o in lexical[t.object]]
        else:
            out.append(t)
    return out, done


def _lexical_forms(objects: Iterable[Term]) -> dict[ox.Literal, list[ox.Literal]]:
    """Canonical form (as a pyoxigraph store gives it back) → the asserted literals that have it,
    for the literals whose form a store changes."""
    originals = sorted({o for o in objects if isinstance(o, ox.Literal)
                        and (o.language or o.datatype.value != NS_XSD + "string")}, key=str)
    store = ox.Store()
    predicate = ox.NamedNode(WORK + "value")
    store.bulk_extend(ox.Quad(ox.NamedNode(f"{WORK}{i}"), predicate, o) for i, o in enumerate(originals))
    groups: dict[ox.Literal, set[ox.Literal]] = {}
    for q in store:
        groups.setdefault(q.object, set()).add(_as_owlrl_reads(originals[int(q.subject.value[len(WORK):])]))
    return {canonical: sorted(forms, key=str) for canonical, forms in groups.items() if forms != {canonical}}


#: Lexical forms rdflib keeps as they are, by datatype (tests/test_rules.py checks them against
#: rdflib): the common case needs no rdflib Literal (80 µs each, 10 s per million literals).
_KEPT_FORMS = {NS_XSD + dt: re.compile(pattern) for dt, pattern in (
    ("string", r".*"), ("integer", r"0|-?[1-9][0-9]*"), ("decimal", r"(0|-?[1-9][0-9]*)(\.[0-9]+)?"),
    ("date", r"[0-9]{4}-[0-9]{2}-[0-9]{2}"), ("gYearMonth", r"[0-9]{4}-[0-9]{2}"), ("gYear", r"[0-9]{4}"))}


def _as_owlrl_reads(literal: ox.Literal) -> ox.Literal:
    """The literal as owlrl's rdflib graph holds it (rdflib normalises some forms: ``"01"^^xsd:integer``
    is ``"1"``), so both reasoners write the same terms."""
    if literal.language:  # rdflib keeps the tag as written
        return literal
    kept = _KEPT_FORMS.get(literal.datatype.value)
    if kept is not None and kept.fullmatch(literal.value):
        return literal
    from .load import term_from_rdflib, term_to_rdflib

    return term_from_rdflib(term_to_rdflib(literal))
