"""Export: the whole graph, chosen named graphs, or one entity's description as deterministic files.

Stage: after the backend. Inputs: a backend (``cowkg.backends``) and a choice of named graphs (asserted ones,
the inferred one, or both) or of subjects (``describe``). Outputs: bytes in Turtle, N-Triples,
JSON-LD (see ``cowkg.jsonld``), TriG or N-Quads. The same input always gives the same bytes:
triples are sorted, prefixes are declared in a fixed order, and blank nodes get canonical labels
(RDFC-1.0 via pyoxigraph) and are skolemised to IRIs under ``https://w3id.org/cowkg/.well-known/genid/``,
so two exports diff cleanly. The Turtle and TriG writers live here (pyoxigraph's own writers
order prefixes differently from one process to the next). Files are written by
``cowkg.files.write_atomically`` (never a half file).

Inferred triples never mix silently with asserted ones: graph formats hold either the asserted
graphs or the inferred graph unless the caller asks for both, and dataset formats keep the
inferred triples in their own named graph.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from itertools import groupby

import pyoxigraph as ox

from .backends import GraphSource, as_backend
from .errors import BackendError, InputError, NotFound
from .media import EXPORT_FORMATS, Format, by_name
from .vocab import (
    ASSERTED_GRAPHS,
    BASE,
    COW,
    GRAPH_INFERRED,
    GRAPH_NAMES,
    PREFIXES,
    RDF_TYPE,
    check_iri,
)
from .vocab import NS_XSD as XSD

__all__ = [
    "EXPORT_FORMATS", "GENID", "GRAPH_NAMES", "NARY_CLASSES", "collect_quads", "describe",
    "description_bytes", "description_query", "expand_iri", "export_header", "nary_classes",
    "export_bytes", "export_graphs", "instances_of", "serialize_export", "write_nquads",
    "write_ntriples", "write_trig", "write_turtle",
]

GENID = BASE + ".well-known/genid/"


#: Record classes that exist to qualify a relation of an entity (the W3C n-ary relation pattern):
#: an entity's description (``describe``) includes the records of these classes that point to it.
NARY_CLASSES = tuple(str(COW[c]) for c in (
    "Attendance", "NonAttendance", "CoalitionMembership", "Role", "CountObservation", "StatusObservation",
    "AgendaItem", "MandateItem", "DeploymentCondition", "Statement", "LostContent", "Ambiguity",
))

#: Properties whose objects are a record's provenance: their descriptions go with the record.
PROVENANCE_PROPERTIES = (str(COW.citation), str(COW.excerpt), "http://www.w3.org/ns/prov#wasDerivedFrom")

_INTEGER = re.compile(r"-?(0|[1-9][0-9]{0,19})")
_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")


# --------------------------------------------------------------------------------------------
# What to export
# --------------------------------------------------------------------------------------------

def export_graphs(infer: bool) -> list[str]:
    """Which named graphs an export contains: asserted ones, plus the inferred one on request."""
    graphs = [str(g) for g in ASSERTED_GRAPHS]
    return graphs + [str(GRAPH_INFERRED)] if infer else graphs


def graph_iris(names: Iterable[str]) -> list[str]:
    """Named-graph IRIs from short names (``data``) or IRIs. Raises InputError for an unknown one."""
    out = []
    for name in names:
        iri = GRAPH_NAMES.get(name, name)
        if iri not in GRAPH_NAMES.values():
            raise InputError(f"unknown graph {name!r}", hint=f"choose from {', '.join(GRAPH_NAMES)}")
        out.append(iri)
    return out


def collect_quads(source: GraphSource, graphs: Iterable[str]) -> list[ox.Quad]:
    """Quads of ``graphs`` (read through the backend) with canonical, skolemised blank nodes, sorted."""
    return canonical_quads(as_backend(source).quads(graphs))


def canonical_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """Label blank nodes by RDFC-1.0, skolemise them to IRIs under GENID, and sort."""
    dataset = ox.Dataset(quads)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    out = [_skolemise(q) for q in dataset]
    out.sort(key=_sort_key)
    return out


def _skolem(term):
    return ox.NamedNode(GENID + term.value) if isinstance(term, ox.BlankNode) else term


def _skolemise(q: ox.Quad) -> ox.Quad:
    return ox.Quad(_skolem(q.subject), q.predicate, _skolem(q.object), q.graph_name)


def _sort_key(q: ox.Quad) -> tuple[str, str, str, str]:
    return (str(q.graph_name), str(q.subject), str(q.predicate), str(q.object))


def expand_iri(text: str) -> str:
    """An IRI from ``<iri>``, a CURIE with a project prefix (``cowr:meeting-04``) or an absolute IRI.

    Raises InputError when the text is none of these, or names no valid IRI (``vocab.check_iri``).
    """
    text = text.strip()
    hint = f"write <https://...> or use a prefix: {', '.join(PREFIXES)}"
    if text.startswith("<") and text.endswith(">"):
        return check_iri(text[1:-1], hint=hint)
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        return check_iri(PREFIXES[prefix] + local, hint=hint)
    if sep and re.match(r"[A-Za-z][A-Za-z0-9+.-]*$", prefix) and local.startswith("//"):
        return check_iri(text, hint=hint)
    raise InputError(f"not an IRI or known CURIE: {text!r}", hint=hint)


def instances_of(source: GraphSource, class_iri: str, graphs: Sequence[str] = ASSERTED_GRAPHS,
                 direct: bool = False) -> list[str]:
    """IRIs typed ``class_iri`` or (unless ``direct``) one of its subclasses, by the asserted hierarchy."""
    path = "" if direct else "/<http://www.w3.org/2000/01/rdf-schema#subClassOf>*"
    res = as_backend(source).query(f"SELECT DISTINCT ?s WHERE {{ ?s a{path} <{class_iri}> FILTER(isIRI(?s)) }}",
                                   default_graph_uris=[str(g) for g in graphs])
    return sorted(row["s"].value for row in res.rows)


def _iris(iris: Iterable[str], sep: str = ", ") -> str:
    return sep.join(f"<{i}>" for i in iris)


def nary_classes(source: GraphSource, timeout: float | None = None) -> list[str]:
    """NARY_CLASSES and their subclasses by the asserted hierarchy (the backend's default graph), sorted.

    One UNION branch per class, each path starting at a constant: Virtuoso refuses a transitive
    path whose ends are only bound by VALUES.
    """
    branches = " UNION ".join(f"{{ ?c <http://www.w3.org/2000/01/rdf-schema#subClassOf>+ <{c}> }}"
                              for c in NARY_CLASSES)
    res = as_backend(source).query(f"SELECT DISTINCT ?c WHERE {{ {branches} FILTER(isIRI(?c)) }}", timeout=timeout)
    return sorted({row["c"].value for row in res.records()} | set(NARY_CLASSES))


def description_query(roots: Sequence[str], nary: Iterable[str], depth: int) -> str:
    """The SPARQL query behind ``describe``: one row per statement ``?p ?o`` (in graph ``?g``) of
    the description, whose subject is the deepest bound of ``?b<depth>`` ... ``?b1``, else ``?n``.

    The seeds ``?n`` are the roots, the records of ``nary`` classes that point to a root other than
    by a provenance property, and the non-literal provenance objects of roots and records; each
    seed contributes its own statements and those of the blank nodes it reaches through blank
    nodes only, up to ``depth`` blank nodes deep. It is a SELECT, not a CONSTRUCT, so every
    statement keeps its named graph (TriG and N-Quads exports need it), and it is one query so
    blank nodes keep one label throughout. The named graphs it reads are the request's dataset.
    Sets are written ``FILTER(?x IN (...))`` and there is no BIND: Virtuoso 7 drops VALUES inside
    UNION branches and fails to compile BINDs in UNION branches that follow a subquery.
    """
    r, prov, types = _iris(roots), _iris(PROVENANCE_PROPERTIES), _iris(sorted(nary))
    record = (f"GRAPH ?ga {{ ?r ?q ?root }} FILTER(?root IN ({r}) && ?q NOT IN ({prov})) "
              f"GRAPH ?gb {{ ?r a ?t }} FILTER(?t IN ({types}))")
    seeds = f"""{{ SELECT DISTINCT ?n WHERE {{
      {{ GRAPH ?g0 {{ ?n ?p0 ?o0 }} FILTER(?n IN ({r})) }}
      UNION {{ {record.replace("?r ", "?n ")} }}
      UNION {{ GRAPH ?gc {{ ?r ?pp ?n }} FILTER(?r IN ({r}) && ?pp IN ({prov}) && !isLiteral(?n)) }}
      UNION {{ {record} GRAPH ?gc {{ ?r ?pp ?n }} FILTER(?pp IN ({prov}) && !isLiteral(?n)) }}
    }} }}"""
    levels = []
    for d in range(depth + 1):
        chain = " ".join(f"GRAPH ?g{k} {{ {f'?b{k - 1}' if k > 1 else '?n'} ?p{k} ?b{k} }} FILTER(isBlank(?b{k}))"
                         for k in range(1, d + 1))
        levels.append(f"{{ {chain} GRAPH ?g {{ {f'?b{d}' if d else '?n'} ?p ?o }} }}")
    blanks = " ".join(f"?b{k}" for k in range(1, depth + 1))
    return f"SELECT DISTINCT ?n {blanks} ?p ?o ?g WHERE {{\n  {seeds}\n  " + "\n  UNION ".join(levels) + "\n}"


def describe(source: GraphSource, roots: Iterable[str], graphs: Sequence[str] | None = None, *,
             timeout: float | None = None) -> list[ox.Quad]:
    """The bounded description of ``roots``: what ``cowkg export --subject`` writes and an entity
    page offers as a download (``/data/<slug>.<ext>``).

    It holds each root's own statements (following blank nodes, as a Concise Bounded Description
    does), the n-ary records that point to a root other than as provenance (instances of
    NARY_CLASSES: attendances, memberships, roles, observations, statements, ...; a record that
    merely cites a citation is not that citation's record) with their own statements, and the
    provenance of all of these (the citation, excerpt and source nodes they name). Quads keep
    their named graph; blank nodes are canonicalised and skolemised as in full exports.

    ``source`` is any backend (the web layer's, possibly a remote SPARQL store without a local
    copy) or a ``KnowledgeGraph``: the description is computed by SPARQL
    (``description_query``) either way, so the CLI and the web layer give the same bytes.
    Raises NotFound when a root appears in none of ``graphs``, BackendError when the backend cuts
    the answer short (a remote store's row cap), and the backend's errors (QueryTimeout, ...).
    """
    backend = as_backend(source)
    graphs = [str(g) for g in (graphs or ASSERTED_GRAPHS)]
    roots = list(dict.fromkeys(roots))
    if not roots:
        return []
    nary = nary_classes(backend, timeout)
    depth, previous = 4, -1
    while True:
        res = backend.query(description_query(roots, nary, depth), named_graph_uris=graphs, timeout=timeout)
        if res.truncated:
            raise BackendError(f"the description of {len(roots)} entities was cut short by the store's row limit",
                               hint="describe fewer entities at a time")
        quads, deeper = set(), False
        for row in res.records():
            level = next((k for k in range(depth, 0, -1) if row[f"b{k}"] is not None), 0)
            quads.add(ox.Quad(row[f"b{level}"] if level else row["n"], row["p"], row["o"], row["g"]))
            deeper = deeper or (level == depth and isinstance(row["o"], ox.BlankNode))
        if not deeper or len(quads) == previous:  # no blank node left unexpanded, or a cycle of them
            break
        depth, previous = depth * 2, len(quads)
    described = {q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)}
    missing = [iri for iri in roots if iri not in described]
    if missing:
        res = backend.query(f"SELECT DISTINCT ?x WHERE {{ GRAPH ?g {{ ?s ?p ?x }} FILTER(?x IN ({_iris(missing)})) }}",
                            named_graph_uris=graphs, timeout=timeout)
        linked = {row["x"].value for row in res.records()}
        for iri in missing:
            if iri not in linked:
                raise NotFound(f"no statements about {iri}", hint="check the IRI, or add --graph/--infer")
    return canonical_quads(quads)


def description_bytes(source: GraphSource, roots: Sequence[str], fmt: Format,
                      graphs: Sequence[str] | None = None, *, context: dict | None = None,
                      timeout: float | None = None) -> bytes:
    """The ``describe`` subgraph of ``roots`` in ``fmt``, with the export header: the bytes of
    ``cowkg export --subject`` and of the entity pages' downloads alike.

    ``context`` (``cowkg.jsonld.build_context``) is needed for JSON-LD.
    """
    graphs = [str(g) for g in (graphs or ASSERTED_GRAPHS)]
    quads = describe(source, roots, graphs, timeout=timeout)
    n = len(roots)
    return serialize_export(quads, fmt, context, export_header(graphs, f"description of {n} entit"
                                                                        f"{'y' if n == 1 else 'ies'}"))


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

def export_header(graphs: Iterable[str], what: str = "export") -> str:
    """The comment that opens Turtle and TriG exports: which graphs, and whether any is inferred."""
    graphs = [str(g) for g in graphs]
    names = ", ".join(g.rsplit("/", 1)[-1] for g in graphs)
    inferred = str(GRAPH_INFERRED) in graphs
    says = ("asserted and inferred triples" if inferred and len(graphs) > 1 else
            "inferred triples only (OWL 2 RL entailments, none of them asserted)" if inferred else
            "asserted triples only, no inferred triples")
    return f"# cowkg {what} of the named graphs {names}: {says}.\n"


def serialize_export(quads: list[ox.Quad], fmt: Format, context: dict | None = None, header: str = "") -> bytes:
    """Bytes of an export. Graph formats merge the graphs; dataset formats keep them apart.

    RDF/XML (no header, no prefixes chosen here) is for the web layer's downloads; the CLI offers
    EXPORT_FORMATS only.

    ``context`` is the JSON-LD context (``cowkg.jsonld.build_context``); JSON-LD needs it.
    ``header`` (comment lines, see ``export_header``) opens Turtle and TriG output.
    """
    if fmt.name == "trig":
        return header.encode() + write_trig(quads)
    if fmt.name == "nq":
        return write_nquads(quads)
    triples = sorted({q.triple for q in quads}, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    if fmt.name == "ttl":
        return header.encode() + write_turtle(triples)
    if fmt.name == "nt":
        return write_ntriples(triples)
    if fmt.name == "rdfxml":
        return ox.serialize(triples, format=ox.RdfFormat.RDF_XML)
    if fmt.name == "jsonld":
        from .jsonld import write_jsonld

        if context is None:
            raise ValueError("JSON-LD export needs the context built from the ontology")
        return write_jsonld(triples, context)
    raise InputError(f"format {fmt.name!r} cannot be exported", hint=f"choose one of {', '.join(EXPORT_FORMATS)}")


def export_format(fmt_name: str) -> Format:
    """The Format for an export name or media type. Raises InputError for anything else."""
    fmt = by_name(fmt_name, ("graph", "dataset"))
    if fmt is None or fmt.name not in EXPORT_FORMATS:
        raise InputError(f"unknown export format {fmt_name!r}", hint=f"choose one of {', '.join(EXPORT_FORMATS)}")
    return fmt


def export_bytes(source: GraphSource, fmt_name: str, infer: bool = False, *, graphs: Sequence[str] | None = None,
                 subjects: Sequence[str] = (), classes: Sequence[str] = (), framed: bool = False) -> bytes:
    """One export as bytes: the whole graph, chosen ``graphs``, or the description of subjects.

    ``graphs`` (short names or IRIs) replaces the default choice (asserted graphs, plus the
    inferred one when ``infer``). ``subjects`` and ``classes`` (IRIs or CURIEs) restrict the export
    to the ``describe`` subgraph of those entities and of every instance of those classes.
    ``framed`` (JSON-LD with ``classes`` only) writes one tree per instance instead of a flat graph.
    Raises InputError for a bad format, graph, IRI or combination, NotFound for an unknown subject.
    """
    from .jsonld import build_context, write_framed

    backend = as_backend(source)
    fmt = export_format(fmt_name)
    chosen = graph_iris(graphs) if graphs else export_graphs(infer)
    if framed and (fmt.name != "jsonld" or not classes):
        raise InputError("--framed needs --format jsonld and --class", hint="cowkg export --format jsonld "
                         "--class cow:CoalitionMeeting --framed")
    context = build_context(backend) if fmt.name == "jsonld" else None
    if subjects or classes:
        roots = [expand_iri(s) for s in subjects]
        class_iris = [expand_iri(c) for c in classes]
        for c in class_iris:
            found = instances_of(backend, c, chosen)
            if not found:
                raise NotFound(f"no instances of {c}", hint="check the class IRI (e.g. cow:CoalitionMeeting)")
            roots += found
        roots = list(dict.fromkeys(roots))
        if framed:
            return write_framed(describe(backend, roots, chosen), roots, build_context(backend))
        return description_bytes(backend, roots, fmt, chosen, context=context)
    return serialize_export(collect_quads(backend, chosen), fmt, context, export_header(chosen))


def used_prefixes(terms: Iterable) -> dict[str, str]:
    """The project prefixes whose namespaces some IRI (or datatype) among ``terms`` uses, sorted."""
    iris = set()
    for term in terms:
        if isinstance(term, ox.Literal):
            term = term.datatype
        if isinstance(term, ox.NamedNode):
            iris.add(term.value)
    namespaces = {iri[:max(iri.rfind("#"), iri.rfind("/")) + 1] for iri in iris}
    return {p: ns for p, ns in sorted(PREFIXES.items()) if ns in namespaces}


def _prefix_index(prefixes: dict[str, str]) -> dict[str, str]:
    return {ns: p for p, ns in prefixes.items()}


def turtle_iri(iri: str, ns_index: dict[str, str]) -> str:
    """A prefixed name when a declared namespace covers ``iri`` with a plain local part, else <iri>."""
    cut = max(iri.rfind("#"), iri.rfind("/")) + 1
    prefix = ns_index.get(iri[:cut])
    local = iri[cut:]
    if prefix is not None and _LOCAL.fullmatch(local):
        return f"{prefix}:{local}"
    return "<" + "".join(c if c > " " and c not in '<>"{}|^`\\' else f"\\u{ord(c):04X}" for c in iri) + ">"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_TRANSLATION = str.maketrans({**{chr(c): f"\\u{c:04X}" for c in (*range(0x20), 0x7F)}, **_ESCAPES})


def turtle_string(value: str) -> str:
    """A double-quoted Turtle string with the escapes N-Triples uses for control characters."""
    return '"' + value.translate(_TRANSLATION) + '"'


def turtle_term(term, ns_index: dict[str, str]) -> str:
    """One term in Turtle: prefixed names, bare canonical integers and booleans, typed literals."""
    if isinstance(term, ox.NamedNode):
        return turtle_iri(term.value, ns_index)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    dt = term.datatype.value
    if term.language:
        return f"{turtle_string(term.value)}@{term.language}"
    if dt == XSD + "string":
        return turtle_string(term.value)
    if dt == XSD + "integer" and _INTEGER.fullmatch(term.value):
        return term.value
    if dt == XSD + "boolean" and term.value in ("true", "false"):
        return term.value
    return f"{turtle_string(term.value)}^^{turtle_iri(dt, ns_index)}"


def _turtle_block(triples: list[ox.Triple], ns_index: dict[str, str], indent: str) -> list[str]:
    """Subject blocks: ``a`` first, then predicates and objects sorted; short object lists on one line."""
    lines: list[str] = []
    for subject, group in groupby(triples, key=lambda t: t.subject):
        by_pred: dict[str, list[str]] = {}
        for t in group:
            by_pred.setdefault(t.predicate.value, []).append(turtle_term(t.object, ns_index))
        preds = sorted(by_pred, key=lambda p: (p != RDF_TYPE, p))
        if lines:
            lines.append("")
        head = indent + turtle_term(subject, ns_index)
        for i, pred in enumerate(preds):
            key = "a" if pred == RDF_TYPE else turtle_iri(pred, ns_index)
            objs = by_pred[pred]
            end = " ." if i == len(preds) - 1 else " ;"
            first = f"{head} {key} " if i == 0 else f"{indent}    {key} "
            one_line = first + " , ".join(objs) + end
            if len(objs) == 1 or len(one_line) <= 110:
                lines.append(one_line)
            else:
                lines.append(first + objs[0] + " ,")
                lines += [f"{indent}        {o} ," for o in objs[1:-1]]
                lines.append(f"{indent}        {objs[-1]}{end}")
    return lines


def _prefix_lines(prefixes: dict[str, str]) -> list[str]:
    width = max((len(p) for p in prefixes), default=0) + 1
    return [f"@prefix {(p + ':').ljust(width)} <{ns}> ." for p, ns in prefixes.items()]


def _terms(triples: Iterable[ox.Triple]):
    for t in triples:
        yield t.subject
        yield t.predicate
        yield t.object


def write_turtle(triples: Sequence[ox.Triple]) -> bytes:
    """Pretty, deterministic Turtle: sorted prefixes (only those used), subjects grouped and sorted."""
    triples = sorted(triples, key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    prefixes = used_prefixes(_terms(triples))
    lines = _prefix_lines(prefixes)
    body = _turtle_block(triples, _prefix_index(prefixes), "")
    return ("\n".join(lines + ([""] if lines and body else []) + body) + "\n").encode()


def write_trig(quads: Sequence[ox.Quad]) -> bytes:
    """Deterministic TriG: one block per named graph (sorted by IRI), Turtle-style inside."""
    quads = sorted(quads, key=_sort_key)
    prefixes = used_prefixes([*_terms(q.triple for q in quads), *(q.graph_name for q in quads)])
    ns_index = _prefix_index(prefixes)
    lines = _prefix_lines(prefixes)
    for graph, group in groupby(quads, key=lambda q: q.graph_name):
        lines.append("")
        triples = [q.triple for q in group]
        if isinstance(graph, ox.DefaultGraph):
            lines += _turtle_block(triples, ns_index, "")
            continue
        lines.append(f"{turtle_term(graph, ns_index)} {{")
        lines += _turtle_block(triples, ns_index, "    ")
        lines.append("}")
    return ("\n".join(lines) + "\n").encode()


def _sorted_lines(data: bytes) -> bytes:
    lines = data.splitlines(keepends=True)
    lines.sort()
    return b"".join(lines)


def write_ntriples(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples, one triple a line, lines sorted bytewise (``LC_ALL=C sort``): diff-friendly."""
    return _sorted_lines(ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES))


def write_nquads(quads: Iterable[ox.Quad]) -> bytes:
    """N-Quads, one quad a line, lines sorted bytewise."""
    return _sorted_lines(ox.serialize(list(quads), format=ox.RdfFormat.N_QUADS))


