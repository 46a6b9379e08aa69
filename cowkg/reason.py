"""Reasoner: the OWL 2 RL closure of ontology + data, kept apart as the inferred graph.

Stage: after loading. Input: asserted triples (``Sources``). Output: the triples the closure adds,
minus tautologies that carry no information (see ``is_noise``). owlrl is the reference reasoner;
``reasonable`` is a faster OWL 2 RL engine used for large inputs. Results are cached on disk by
the hash of the input files, so a server with several workers reasons once.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

from .load import Sources, from_rdflib, to_rdflib
from .vocab import ASSERTED_GRAPHS

log = logging.getLogger(__name__)

#: Above this many asserted triples, ``auto`` picks the faster reasoner.
AUTO_THRESHOLD = 50_000
REASONERS = ("owlrl", "reasonable", "auto")


@dataclass
class Inference:
    triples: list[ox.Triple]
    reasoner: str
    seconds: float
    cached: bool = False


_REFLEXIVE = {OWL.sameAs, OWL.equivalentClass, OWL.equivalentProperty, RDFS.subClassOf, RDFS.subPropertyOf}
_TRIVIAL_TYPES = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}


def is_noise(s: rdflib.term.Node, p: rdflib.term.Node, o: rdflib.term.Node) -> bool:
    """Tautologies every OWL 2 RL closure adds: reflexive axioms, ``owl:Thing`` typing, triples
    about literals and about the RDF/OWL vocabularies themselves."""
    if isinstance(s, rdflib.Literal):
        return True
    if p in _REFLEXIVE and s == o:
        return True
    if p == RDF.type and o in _TRIVIAL_TYPES:
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
    return "reasonable" if size > AUTO_THRESHOLD else "owlrl"


def infer(sources: Sources, reasoner: str = "auto", cache_dir: str | Path | None = None) -> Inference:
    """Compute (or read from cache) the inferred triples for ``sources``."""
    asserted = [t for t in sources.triples(str(g) for g in ASSERTED_GRAPHS)]
    chosen = pick_reasoner(reasoner, len(asserted))
    cache_file = Path(cache_dir) / f"inferred-{chosen}-{sources.digest[:32]}.nt" if cache_dir else None
    if cache_file and cache_file.is_file():
        start = time.perf_counter()
        triples = [q.triple for q in ox.parse(path=str(cache_file), format=ox.RdfFormat.N_TRIPLES)]
        return Inference(triples, chosen, time.perf_counter() - start, cached=True)
    start = time.perf_counter()
    graph = to_rdflib(asserted)
    added = _closure_owlrl(graph) if chosen == "owlrl" else _closure_reasonable(graph)
    triples = from_rdflib(added)
    elapsed = time.perf_counter() - start
    if cache_file:
        _write_cache(cache_file, triples)
    log.info("reasoned with %s: %d inferred triples in %.2fs", chosen, len(triples), elapsed)
    return Inference(triples, chosen, elapsed)


def _closure_owlrl(graph: rdflib.Graph) -> rdflib.Graph:
    import owlrl

    before = set(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, rdfs_closure=False, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)
    out = rdflib.Graph(bind_namespaces="none")
    for t in graph:
        if t not in before and not is_noise(*t):
            out.add(t)
    return out


def _closure_reasonable(graph: rdflib.Graph) -> rdflib.Graph:
    import reasonable

    r = reasonable.PyReasoner()
    r.from_graph(graph)
    out = rdflib.Graph(bind_namespaces="none")
    for t in r.reason():
        if t not in graph and not is_noise(*t):
            out.add(t)
    return out


def _write_cache(path: Path, triples: list[ox.Triple]) -> None:
    """Atomic write: a crash never leaves a half cache file that a later run would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".nt")
    try:
        with os.fdopen(fd, "wb") as fh:
            ox.serialize(triples, fh, format=ox.RdfFormat.N_TRIPLES)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
