"""Reasoner: the OWL 2 RL closure of ontology + data, kept apart as the inferred graph.

Stage: after loading. Input: asserted triples (``Sources``). Output: the triples the closure adds,
minus tautologies that carry no information (see ``is_noise``). owlrl is the reference reasoner;
``reasonable`` (Rust) is used for large inputs, completed with the two rule groups it lacks
(schema rules, property chains) so that both give the same triples on the project
(tests/test_reason_reasonable.py); ``sparql`` runs the OWL 2 RL rules this ontology triggers,
compiled into SPARQL updates (``cowkg.rules``), in a private pyoxigraph store — the rules
``cowkg virtuoso load --reason`` runs inside Virtuoso (tests/test_rules.py: the same triples as
owlrl and reasonable); ``rules`` evaluates the same compiled rule table over Python sets
(``cowkg.ruleeval``: no store, no query text). ``auto`` picks by size and ``Inference.reasoner``
says which ran.
Results are cached on disk by the hash of the input files, so a server with several workers
reasons once. The cache is never trusted blindly: each file starts with a header line holding the
SHA-256 and triple count of its body, both checked on read; a damaged, truncated, forged or
foreign file is logged, set aside and rebuilt. A cache directory that cannot be written (read-only,
full, a file in the way) only costs the next run the reasoning: it is logged, never fatal.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, XSD

from .errors import UnsupportedConstruct
from .files import read_cached, set_aside, write_atomically
from .load import CachedTriples, Sources, from_rdflib, term_from_rdflib, to_rdflib
from .vocab import ASSERTED_GRAPHS, GRAPH_ONTOLOGY

log = logging.getLogger(__name__)

#: Above this many asserted triples, ``auto`` picks the faster reasoner: ``rules`` (3.6x faster than
#: reasonable at 1M triples, the same closure: bench/results/reasoners.txt), or reasonable when the
#: ontology uses a construct the compiled rules lack.
AUTO_THRESHOLD = 50_000
REASONERS = ("owlrl", "reasonable", "sparql", "rules", "auto")
#: Part of the cache key: bump when the closure or its noise filter changes, so old caches are ignored
#: (3: blank nodes are labelled by file and rank at load, cowkg.load.scope_blank_nodes, so a cache
#: written before names nodes no load gives any more).
CLOSURE_VERSION = 3


@dataclass
class Inference:
    triples: Sequence[ox.Triple]  # a CachedTriples when read from the cache
    reasoner: str
    seconds: float
    cached: bool = False


_REFLEXIVE = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf}
_TRIVIAL_TYPES = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}


def is_noise(s: rdflib.term.Node, p: rdflib.term.Node, o: rdflib.term.Node,
             type_properties: frozenset = frozenset({RDF.type})) -> bool:
    """Tautologies every OWL 2 RL closure adds: reflexive axioms, ``owl:Thing`` typing, triples
    about literals and about the RDF/OWL vocabularies themselves.

    ``type_properties`` are rdf:type and the properties equivalent to it (``wdt:P31``): typing
    by ``owl:Thing`` through any of them is noise."""
    if isinstance(s, rdflib.Literal):
        return True
    if p in _REFLEXIVE and s == o:
        return True
    if p in type_properties and o in _TRIVIAL_TYPES:
        return True
    if p == RDF.type and isinstance(o, rdflib.URIRef) and str(o).startswith(str(RDFS)) and o != RDFS.Class:
        return True
    ns = str(s)
    return ns.startswith((str(OWL), str(RDF), str(RDFS), "http://www.w3.org/2001/XMLSchema#"))


def pick_reasoner(requested: str, size: int) -> str:
    if requested not in REASONERS:
        raise ValueError(f"unknown reasoner {requested!r}; choose one of {', '.join(REASONERS)}")
    if requested != "auto":
        return requested
    return "rules" if size > AUTO_THRESHOLD else "owlrl"


def infer(sources: Sources, reasoner: str = "auto", cache_dir: str | Path | None = None,
          refresh: bool = False) -> Inference:
    """Compute (or read from the verified cache) the inferred triples for ``sources``.

    ``refresh`` recomputes even when a valid cache file exists, and replaces it.
    """
    asserted = [t for t in sources.triples(str(g) for g in ASSERTED_GRAPHS)]
    chosen = pick_reasoner(reasoner, len(asserted))
    name = f"inferred-{chosen}-v{CLOSURE_VERSION}-{sources.digest[:32]}.nt"
    cache_file = Path(cache_dir) / name if cache_dir else None
    if cache_file and not refresh:
        start = time.perf_counter()
        triples = read_cache(cache_file, sources.digest)
        if triples is not None:
            return Inference(triples, chosen, time.perf_counter() - start, cached=True)
    start = time.perf_counter()
    if chosen == "owlrl":
        triples = from_rdflib(_closure_owlrl(to_rdflib(asserted)))
    elif chosen == "sparql":
        from .rules import closure_in_oxigraph

        triples = closure_in_oxigraph(asserted)[0]
    elif chosen == "rules":
        from .ruleeval import closure

        try:
            triples = closure(asserted)[0]
        except UnsupportedConstruct as exc:
            if reasoner != "auto":
                raise
            log.warning("%s; reasoning with reasonable instead", exc.message)
            return infer(sources, "reasonable", cache_dir, refresh)
    else:
        triples = _closure_reasonable(asserted, list(sources.triples([str(GRAPH_ONTOLOGY)])))
    elapsed = time.perf_counter() - start
    if cache_file:
        write_cache(cache_file, triples, sources.digest)
    log.info("reasoned with %s: %d inferred triples in %.2fs", chosen, len(triples), elapsed)
    return Inference(triples, chosen, elapsed)


def _closure_owlrl(graph: rdflib.Graph) -> rdflib.Graph:
    import owlrl

    before = set(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)
    types = _type_properties(graph)
    out = rdflib.Graph(bind_namespaces="none")
    for t in graph:
        if t not in before and not is_noise(*t, type_properties=types):
            out.add(t)
    return out


def _closure_reasonable(asserted: list[ox.Triple], ontology: list[ox.Triple]) -> list[ox.Triple]:
    """The owlrl closure (as ``_closure_owlrl`` filters it), computed mostly by ``reasonable``.

    reasonable 0.4 implements most OWL 2 RL rules, but not the schema rules that derive new
    domain, range, subclass and subproperty axioms from equivalences (scm-*), nor property chains
    (prp-spo2); it returns plain literals typed ``xsd:string``; and its functional-property rule
    (prp-fp) needs memory quadratic in the number of triples of a functional property (cow:status:
    3.4 GiB at 200k triples, out of memory at 1M). So:

    1. owlrl closes the ontology graph alone (small: its schema inferences are the ones owlrl
       would add on the whole graph, since the data holds no schema axioms);
    2. reasonable closes ontology closure + data, with the ``owl:FunctionalProperty``
       declarations held back;
    3. property chains and prp-fp are applied here to its output, and 2-3 repeat until nothing is
       added; the held-back declarations are then closed with the schema alone (their own
       consequences, such as ``wdt:P31`` typing).

    The data reaches reasonable as a file (N-Triples is Turtle), never as an rdflib Graph, whose
    construction would cost more than the reasoning. tests/test_reason_reasonable.py checks the
    result equals owlrl's on the project.
    """
    ontology_graph = to_rdflib(ontology)
    schema = _closure_owlrl(ontology_graph)
    schema_triples = set(ontology_graph) | set(schema)
    chains = _property_chains(schema_triples)
    functional = {s for s, p, o in schema_triples if p == RDF.type and o == OWL.FunctionalProperty}
    held_back = {(p, RDF.type, OWL.FunctionalProperty) for p in functional}
    held = {ox.Triple(*(term_from_rdflib(x) for x in t)) for t in held_back}
    with tempfile.TemporaryDirectory(prefix="cowkg-reason-") as tmp:
        path = Path(tmp) / "input.ttl"
        with open(path, "wb") as fh:
            ox.serialize([t for t in (*asserted, *from_rdflib(schema)) if t not in held], fh,
                         format=ox.RdfFormat.N_TRIPLES)
        while True:
            closed = _run_reasonable(path)
            added = (_apply_chains(closed, chains) | _apply_functional(closed, functional)) - closed
            if not added:
                break
            with open(path, "ab") as fh:
                ox.serialize(from_rdflib(added), fh, format=ox.RdfFormat.N_TRIPLES)
        if held_back:
            with open(path, "wb") as fh:
                ox.serialize([*ontology, *from_rdflib(schema), *held], fh, format=ox.RdfFormat.N_TRIPLES)
            closed |= _run_reasonable(path)
    types = _type_properties(closed)
    kept = from_rdflib(t for t in closed if not is_noise(*t, type_properties=types))
    given = set(asserted)
    return [t for t in kept if t not in given]


def _run_reasonable(path: Path) -> set[tuple]:
    import reasonable

    r = reasonable.PyReasoner()
    r.load_file(str(path))
    return {_plain(t) for t in r.reason()}


def _apply_functional(triples, functional) -> set[tuple]:
    """prp-fp: two objects of a functional property on one subject are the same (owl:sameAs both ways)."""
    if not functional:
        return set()
    objects: dict = {}
    for s, p, o in triples:
        if p in functional:
            objects.setdefault((s, p), set()).add(o)
    out = set()
    for values in objects.values():
        if len(values) > 1:
            out.update((a, OWL.sameAs, b) for a in values for b in values if a != b)
    return out


def _plain(t: tuple) -> tuple:
    """reasonable returns plain literals as ``xsd:string``-typed ones: the same term in RDF 1.1."""
    s, p, o = t
    if isinstance(o, rdflib.Literal) and o.datatype == XSD.string:
        o = rdflib.Literal(str(o))
    return s, p, o


def _type_properties(triples) -> frozenset:
    """rdf:type and the properties every rdf:type triple implies (``rdf:type rdfs:subPropertyOf
    wdt:P31``, or an equivalence): their ``owl:Thing`` objects are noise too."""
    out = {RDF.type}
    for s, p, o in triples:
        if (p == OWL.equivalentProperty and RDF.type in (s, o)) or (p == RDFS.subPropertyOf and s == RDF.type):
            out.add(o if s == RDF.type else s)
    return frozenset(out)


def _property_chains(triples) -> list[tuple[rdflib.term.Node, list[rdflib.term.Node]]]:
    """(property, [p1, ..., pn]) for every ``owl:propertyChainAxiom`` list among ``triples``."""
    first, rest = {}, {}
    for s, p, o in triples:
        if p == RDF.first:
            first[s] = o
        elif p == RDF.rest:
            rest[s] = o
    chains = []
    for s, p, o in triples:
        if p == OWL.propertyChainAxiom:
            steps, node = [], o
            while node in first:
                steps.append(first[node])
                node = rest.get(node, RDF.nil)
            if steps:
                chains.append((s, steps))
    return chains


def _apply_chains(triples, chains) -> set[tuple]:
    """prp-spo2: ``s p1 x1 ... x(n-1) pn o`` gives ``s p o`` for each chain ``p = p1/.../pn``."""
    if not chains:
        return set()
    steps_used = {step for _, steps in chains for step in steps}
    by_property: dict = {}
    for s, p, o in triples:
        if p in steps_used:
            by_property.setdefault(p, {}).setdefault(s, set()).add(o)
    out = set()
    for prop, steps in chains:
        pairs = {(s, o) for s, objects in by_property.get(steps[0], {}).items() for o in objects}
        for step in steps[1:]:
            index = by_property.get(step, {})
            pairs = {(s, o2) for s, o in pairs for o2 in index.get(o, ())}
        out.update((s, prop, o) for s, o in pairs)
    return out


_HEADER_RE = re.compile(rb"# cowkg inferred graph sha256=([0-9a-f]{64}) triples=([0-9]+) inputs=([0-9a-f]+)\n")


def read_cache(path: Path, inputs: str) -> CachedTriples | None:
    """The triples of a cache file whose header, checksum, count and input digest all hold; None
    (after logging why and setting the file aside) for anything else; None when there is none.

    The body is parsed when its triples are first used (a store loads it with the engine's own
    parser): the checksum already proves it is the file this code wrote, one triple per line."""
    data = read_cached(path, "inferred-graph cache", log, "reasoning again")
    if data is None:
        return None
    problem = None
    header = _HEADER_RE.match(data)
    if header is None:
        problem = "no valid header"
    elif header.group(3).decode() != inputs:
        problem = "made from other inputs"
    else:
        body = data[header.end():]
        if hashlib.sha256(body).hexdigest() != header.group(1).decode():
            problem = "checksum mismatch (truncated or edited)"
        else:
            lines = body.count(b"\n")
            if lines == int(header.group(2)):
                return CachedTriples(body, lines)
            problem = f"{lines} triples where the header says {int(header.group(2))}"
    log.warning("inferred-graph cache %s is damaged: %s; setting it aside and reasoning again", path, problem)
    set_aside(path)
    return None


def write_cache(path: Path, triples: list[ox.Triple], inputs: str) -> bool:
    """Write the cache file atomically (``cowkg.files.write_atomically``), with its verifying header.

    A directory that cannot take it (read-only, full, a file where the directory should be) is
    logged and the result kept in memory only: returns False."""
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    header = f"# cowkg inferred graph sha256={hashlib.sha256(body).hexdigest()} triples={len(triples)} " \
             f"inputs={inputs}\n"
    try:
        write_atomically(path, header.encode() + body)
        return True
    except OSError as exc:
        log.warning("inferred-graph cache not written to %s (%s): keeping it in memory only", path.parent,
                    exc.strerror or exc)
        return False
