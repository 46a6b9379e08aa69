"""Validator: SHACL shapes (shapes/*.ttl) run over ontology + data, then the QC queries.

Stage: after loading (it does not need the store). Input: ``Sources``, the shapes files and the
quality-control queries (``queries/qc/*-violation.rq``, see ``cowkg.qc``). Output: a
``ValidationReport`` whose violations name the focus node, the path, the message, the broken
constraint (a SHACL constraint component or ``qc:<query>``) and, where the loader indexed it, the
file and line that describe the focus node.

Three SHACL engines return the same report graph (``SHACL_ENGINES``), each giving exactly
pySHACL's result set on this project: the shipped graph, every fixture
(tests/test_validate_engines.py, tests/test_shacl_sparql.py) and the synthetic 100k and 1M graphs
(bench/scale_pipeline.py, ``result_set`` compares them).

- ``sparql`` (``cowkg.shacl_sparql``) compiles the shapes into SPARQL queries that pyoxigraph runs
  on a store holding the asserted graphs (the store ``serve`` builds anyway, when it is given): no
  rdflib copy of the data, the fastest at every size measured (bench/results/scale_pipeline.txt:
  1.4x turbo at 10k, 2.5x at 100k, 3.0x at 1M, copies included). It is also how Virtuoso validates the
  data it holds (``cowkg virtuoso load --validate``). Shapes it cannot translate are an InputError
  naming the construct, never a shorter report.
- ``turbo`` (pyshacl-turbo, pySHACL's API in Rust): should it fail to import or to run, pySHACL
  validates instead, with a warning: a verdict always comes from an engine that ran to the end.
- ``pyshacl``: the reference.

The default, ``auto``, is ``sparql`` for shapes the compiler translates (all of this project's)
and ``turbo`` for the others, with a warning naming what was not translated.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH

from .errors import InputError, ValidationFailed
from .files import write_atomically
from .load import Sources, load_files, to_rdflib
from .qc import QcQuery, load_qc, run_qc
from .vocab import ASSERTED_GRAPHS, shorten

#: The SHACL engines ``validate`` can run: ``auto`` (the default: ``sparql`` when the shapes
#: compile, else ``turbo``), the shapes compiled to SPARQL run by pyoxigraph (``cowkg.shacl_sparql``),
#: pyshacl-turbo and pySHACL (the reference).
SHACL_ENGINES = ("auto", "sparql", "turbo", "pyshacl")

log = logging.getLogger(__name__)


@dataclass
class Violation:
    focus: str
    path: str | None
    message: str
    severity: str
    shape: str | None
    value: str | None
    node_shape: str | None = None
    source: str | None = None
    line: int | None = None
    component: str | None = None  # sh:MinInclusiveConstraintComponent, or qc:<name> for a QC query

    def location(self) -> str:
        return f"{self.source}:{self.line}" if self.source else "(no source line)"

    def constraint(self) -> str | None:
        """What broke, as the report prints it: ``sh:minInclusive`` for a SHACL constraint
        component, ``qc:<name>`` for a row of the QC query ``queries/qc/<name>-violation.rq``."""
        if not self.component:
            return None
        if self.component.startswith("qc:"):
            return self.component
        name = self.component.split(":")[-1].split("#")[-1].removesuffix("ConstraintComponent")
        return "sh:" + name[:1].lower() + name[1:]

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation] = field(default_factory=list)
    shapes_files: list[str] = field(default_factory=list)
    engine: str | None = None  # the SHACL engine that ran (None: the verdict came from the cache)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for v in self.violations:
            out[v.severity] = out.get(v.severity, 0) + 1
        return out


def shapes_files(shapes_dir: str | Path) -> list[Path]:
    return sorted(Path(shapes_dir).glob("*.ttl"))


def load_shapes(shapes_dir: str | Path) -> rdflib.Graph:
    """Parse every shapes file (ParseError with file:line:column on bad Turtle)."""
    sources = load_files((p, "shapes") for p in shapes_files(shapes_dir))
    return to_rdflib(sources.triples())


class ShaclRun(NamedTuple):
    """What one SHACL engine returned: pySHACL's (conforms, results graph, text), and which ran.

    ``owners`` (``sparql`` only): for each result node, the shape whose targets selected its focus
    node, so the report names the owning node shape without asking the data again."""

    conforms: bool
    results: rdflib.Graph
    text: str
    engine: str
    owners: dict | None = None


def _check_engine(engine: str) -> None:
    if engine not in SHACL_ENGINES:
        raise InputError(f"unknown SHACL engine {engine!r}; choose one of {', '.join(SHACL_ENGINES)}",
                         hint="set shacl_engine (COWKG_SHACL_ENGINE) or --shacl-engine")


def engine_version(engine: str) -> str | None:
    """The installed version of a SHACL engine's package, None when it cannot be imported; raises
    InputError for an unknown engine."""
    _check_engine(engine)
    if engine == "auto":
        return f"sparql: {engine_version('sparql')}; turbo: {engine_version('turbo')}"  # imports turbo
    if engine == "sparql":
        from .shacl_sparql import compiler_version

        return f"pyoxigraph {ox.__version__}, compiler {compiler_version()}"
    try:
        module = importlib.import_module("pyshacl_turbo" if engine == "turbo" else "pyshacl")
    except ImportError:
        return None
    return getattr(module, "__version__", "unknown")


def run_shacl(data: rdflib.Graph, shapes: rdflib.Graph, engine: str = "auto") -> ShaclRun:
    """Validate ``data`` against ``shapes`` with ``engine`` (SHACL-AF targets on, no inference,
    warnings allowed): pySHACL's (conforms, results graph, text) and the engine that ran.

    ``auto`` runs ``sparql``, or ``turbo`` when the compiler does not translate the shapes (with a
    warning naming what). ``turbo`` falls back to pySHACL, with a warning, when pyshacl-turbo
    cannot be imported, raises (a Rust panic included), or returns a report that contradicts its
    own verdict. Raises InputError when pySHACL cannot use the shapes or the engine is unknown.
    """
    _check_engine(engine)
    if engine in ("sparql", "auto"):
        from .load import from_rdflib

        store = ox.Store()
        store.extend(ox.Quad(*t, ox.DefaultGraph()) for t in from_rdflib(data))
        run = _sparql_or_none(store, shapes, engine)
        if run is not None:
            return run
        engine = "turbo"
    options = {"shacl_graph": shapes, "inference": "none", "advanced": True, "allow_warnings": True}
    if engine == "turbo":
        try:
            import pyshacl_turbo
        except ImportError as exc:
            log.warning("SHACL: pyshacl-turbo cannot be imported (%s); validating with pySHACL", exc)
        else:
            try:
                conforms, results, text = pyshacl_turbo.validate(data, **options)
            except (KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # noqa: B036 - a Rust panic arrives as a BaseException
                first_line = (str(exc).strip().splitlines() or [""])[0]
                log.warning("SHACL: pyshacl-turbo failed (%s: %s); validating with pySHACL",
                            type(exc).__name__, first_line)
            else:
                if isinstance(results, rdflib.Graph) and bool(conforms) == _no_violation(results):
                    return ShaclRun(bool(conforms), results, text, "turbo")
                log.warning("SHACL: pyshacl-turbo returned a report that contradicts its verdict; "
                            "validating with pySHACL")
    import pyshacl

    conforms, results, text = pyshacl.validate(data, **options)
    if not isinstance(results, rdflib.Graph):
        raise InputError(f"the SHACL shapes cannot be used: {text.strip()}", hint="fix shapes/*.ttl")
    return ShaclRun(bool(conforms), results, text, "pyshacl")


def run_shacl_store(store: ox.Store, shapes: rdflib.Graph, default_graph=None) -> ShaclRun:
    """Validate the default graph of a pyoxigraph ``store`` (or the graphs ``default_graph``) with the
    shapes compiled to SPARQL (``cowkg.shacl_sparql``): the ``sparql`` engine's ShaclRun.

    Raises UnsupportedShape (an InputError) naming a construct the compiler does not translate."""
    from .shacl_sparql import store_select, validate_select

    conforms, results, owners, queries = validate_select(shapes, store_select(store, default_graph))
    return ShaclRun(conforms, results, f"{len(owners)} results from {queries} SPARQL queries", "sparql", owners)


def _sparql_or_none(store: ox.Store, shapes: rdflib.Graph, engine: str) -> ShaclRun | None:
    """The ``sparql`` engine's run; for ``auto``, None (after a warning) when the compiler does not
    translate the shapes: the caller then runs turbo. The compiler refuses a whole run, never
    part of one, so nothing of a refused run is kept."""
    from .shacl_sparql import UnsupportedShape

    try:
        return run_shacl_store(store, shapes)
    except UnsupportedShape as exc:
        if engine != "auto":
            raise
        log.warning("SHACL: %s; validating with turbo", exc.message)
        return None


def asserted_store(sources: Sources) -> ox.Store:
    """An in-memory pyoxigraph store whose default graph is the merge of the asserted graphs (what
    SHACL and the QC queries read)."""
    store = ox.Store()
    store.extend(ox.Quad(*t, ox.DefaultGraph())
                 for t in sources.triples(str(g) for g in ASSERTED_GRAPHS))
    return store


def _no_violation(results: rdflib.Graph) -> bool:
    """Whether a report graph holds no result of severity sh:Violation (what conforms means with
    warnings allowed)."""
    return not any((r, SH.resultSeverity, SH.Violation) in results
                   for r in results.subjects(rdflib.RDF.type, SH.ValidationResult))


def result_set(results: rdflib.Graph) -> list[tuple]:
    """A SHACL report graph's results in a canonical, comparable form, sorted: per result its focus
    node, path, source shape, constraint component, severity, value and messages.

    Blank nodes (anonymous shapes, complex paths, list cells) are replaced by a description of what
    the report graph says about them, recursively, so two reports compare equal whatever labels
    their engines gave; a plain literal and an xsd:string one are the same (RDF 1.1). Used to prove
    that two engines give the same results (tests, bench/scale_pipeline.py).
    """
    fields = (SH.focusNode, SH.resultPath, SH.sourceShape, SH.sourceConstraintComponent, SH.resultSeverity,
              SH.value, SH.resultMessage)
    return sorted(tuple(tuple(sorted(_canonical(results, o) for o in results.objects(r, f))) for f in fields)
                  for r in results.subjects(rdflib.RDF.type, SH.ValidationResult))


def _canonical(graph: rdflib.Graph, term, seen: frozenset = frozenset()) -> tuple:
    if isinstance(term, rdflib.URIRef):
        return ("iri", str(term))
    if isinstance(term, rdflib.Literal):
        language = term.language.lower() if term.language else None
        datatype = str(term.datatype) if term.datatype else (None if language else str(rdflib.XSD.string))
        return ("literal", str(term), datatype, language)
    if isinstance(term, rdflib.BNode):
        if term in seen:
            return ("cycle",)
        return ("bnode", tuple(sorted((str(p), _canonical(graph, o, seen | {term}))
                                      for p, o in graph.predicate_objects(term))))
    return ("other", repr(term))


def validate(sources: Sources, shapes: rdflib.Graph, qc: Sequence[QcQuery] = (),
             engine: str = "auto", store: ox.Store | None = None) -> ValidationReport:
    """Run SHACL with ``engine`` (``SHACL_ENGINES``), then the QC queries ``qc``, over the asserted
    graphs; every violation carries its file:line when known. ``store`` (optional): a pyoxigraph
    store whose default graph already holds the merged asserted graphs of ``sources`` (as
    ``cowkg.store.build_store`` fills it), read by the ``sparql`` engine and the QC queries instead
    of a copy. Raises InputError when the shapes or a QC query cannot be used."""
    _check_engine(engine)
    if engine in ("sparql", "auto"):
        store = store if store is not None else asserted_store(sources)
        run = _sparql_or_none(store, shapes, engine)
        if run is not None:
            return build_report(run, sources, shapes, None, qc, store)
        engine = "turbo"
    data = to_rdflib(sources.triples(str(g) for g in ASSERTED_GRAPHS))
    return build_report(run_shacl(data, shapes, engine), sources, shapes, data, qc, store)


def build_report(run: ShaclRun, sources: Sources | None, shapes: rdflib.Graph, data: rdflib.Graph | None,
                 qc: Sequence[QcQuery] = (), store: ox.Store | None = None,
                 qc_rows: Sequence[tuple[QcQuery, dict]] | None = None) -> ValidationReport:
    """The report of one SHACL run over ``data`` (the asserted graphs of ``sources``), with the
    rows of the QC queries ``qc`` (run on ``store`` when given), or the rows ``qc_rows`` some other
    store gave; raises InputError when a QC query cannot be used. Without ``sources`` (data that
    lives only in a store) there are no file:line."""
    results = run.results
    report = ValidationReport(conforms=run.conforms, engine=run.engine)
    merged: dict[tuple, Violation] = {}
    for result in results.subjects(rdflib.RDF.type, SH.ValidationResult):
        owner = run.owners.get(result) if run.owners else None
        v = _violation(results, result, sources, shapes, data, owner)
        # One result per constraint the node breaks (as pySHACL and Jena count them): two
        # components or two anonymous shapes that share a message are two results, while one
        # named property shape shared by several node shapes that all target the node is one.
        key = (v.focus, v.path, v.severity, v.message, v.value, v.component,
               results.value(result, SH.sourceShape))
        if key in merged:  # a property shape shared by several node shapes that all target the node
            owners = set((merged[key].node_shape or "").split(",")) | set((v.node_shape or "").split(","))
            merged[key].node_shape = ",".join(sorted(o for o in owners if o)) or None
        else:
            merged[key] = v
    for query, row in (qc_rows if qc_rows is not None else run_qc(sources, list(qc), store)):
        v = _qc_violation(query, row, sources)
        merged.setdefault((v.focus, v.path, v.value, v.component), v)
    report.violations = sorted(merged.values(), key=lambda v: (v.source or "~", v.line or 0, v.focus, v.path or "",
                                                               v.component or "", v.message, v.value or "",
                                                               v.severity, v.node_shape or ""))
    report.conforms = not any(v.severity == "Violation" for v in report.violations)
    return report


def check_project(sources: Sources, shapes_dir: str | Path, cache_dir: str | Path | None = None,
                  root: str | Path | None = None, queries_dir: str | Path | None = None,
                  engine: str = "auto", store: ox.Store | None = None) -> ValidationReport:
    """Validate what a server is about to serve; raise ValidationFailed (exit 1) with the report
    when it does not conform.

    A conforming verdict is remembered in ``cache_dir`` under the digest of the data and shapes
    (and the SHACL engine and its version), with a checksum of its own, so a restart on unchanged
    files skips SHACL; any other verdict, or a cache entry that does not check out, means validating
    again. ``auto``'s verdict is kept under the engine it ran (sparql, or turbo for shapes the
    compiler does not translate), and sparql's is looked for first: a warm start never imports
    turbo (0.3 s) to learn its version. The QC queries under ``queries_dir`` (``queries/qc``)
    count as shapes: as ``cowkg validate``. ``store``: see ``validate``.
    """
    files = shapes_files(shapes_dir)
    qc = load_qc(queries_dir) if queries_dir is not None else []
    inputs = ([sources.digest] + [hashlib.sha256(p.read_bytes()).hexdigest() for p in files]
              + [hashlib.sha256(q.sparql.encode()).hexdigest() for q in qc])

    def marker_of(ran: str) -> tuple[Path, str]:
        key = hashlib.sha256("\n".join([engine, ran, str(engine_version(ran)), *inputs]).encode()).hexdigest()
        return Path(cache_dir) / f"conforms-{key[:32]}.json", key

    if cache_dir:
        for ran in (("sparql", "turbo") if engine == "auto" else (engine,)):
            if _conforms_marker_holds(*marker_of(ran)):
                return ValidationReport(conforms=True, shapes_files=[str(p) for p in files])
    report = validate(sources, load_shapes(shapes_dir), qc, engine, store)
    if not report.conforms:
        raise ValidationFailed("the data does not conform to the shapes: not serving it\n"
                               + format_report(report, root),
                               hint="fix the data (cowkg validate shows the same report), or start with "
                                    "--allow-invalid to serve it anyway", details={"counts": report.counts})
    if cache_dir:  # auto's verdict under the engine it ran; turbo's stays turbo's when pySHACL stood in
        ran = engine if engine != "auto" else report.engine if report.engine == "sparql" else "turbo"
        _write_marker(*marker_of(ran))
    return report


def _conforms_marker_holds(path: Path, key: str) -> bool:
    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
        body = json.dumps({"key": entry["key"], "conforms": entry["conforms"]}, sort_keys=True)
        return entry["key"] == key and entry["conforms"] is True and \
            entry["sha256"] == hashlib.sha256(body.encode()).hexdigest()
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _write_marker(path: Path, key: str) -> None:
    body = json.dumps({"key": key, "conforms": True}, sort_keys=True)
    entry = {"key": key, "conforms": True, "sha256": hashlib.sha256(body.encode()).hexdigest()}
    try:
        write_atomically(path, json.dumps(entry))
    except OSError as exc:
        log.warning("validation verdict not cached in %s (%s)", path.parent, exc.strerror or exc)


def owning_node_shape(shapes: rdflib.Graph, shape, focus, data: rdflib.Graph | None = None) -> str | None:
    """The named NodeShape(s) a (possibly anonymous or shared) source shape belongs to.

    A shared property shape can sit in several node shapes: with ``data``, only those that target
    the focus node are named (pySHACL does not say which one reported), comma-separated.
    """
    if (shape, rdflib.RDF.type, SH.NodeShape) in shapes:
        return shorten(str(shape))
    owners = sorted(shapes.subjects(SH.property, shape)) + sorted(shapes.subjects(SH.sparql, shape))
    named = [o for o in owners if isinstance(o, rdflib.URIRef)]
    if data is not None and len(named) > 1:
        named = [o for o in named if targets(shapes, o, focus, data)] or named
    return ",".join(shorten(str(o)) for o in named) or None


def targets(shapes: rdflib.Graph, node_shape, focus, data: rdflib.Graph) -> bool:
    """Whether ``node_shape`` targets ``focus`` in ``data`` (SHACL 2.1.3: node, class, implicit
    class, subjects-of and objects-of targets; classes through rdfs:subClassOf in ``data``)."""
    if (node_shape, SH.targetNode, focus) in shapes:
        return True
    classes = set(shapes.objects(node_shape, SH.targetClass))
    if (node_shape, rdflib.RDF.type, rdflib.RDFS.Class) in shapes:
        classes.add(node_shape)
    if classes:
        types = set(data.objects(focus, rdflib.RDF.type))
        for t in list(types):
            types.update(data.transitive_objects(t, rdflib.RDFS.subClassOf))
        if types & classes:
            return True
    if any((focus, p, None) in data for p in shapes.objects(node_shape, SH.targetSubjectsOf)):
        return True
    return any((None, p, focus) in data for p in shapes.objects(node_shape, SH.targetObjectsOf))


def _violation(results: rdflib.Graph, node, sources: Sources | None, shapes: rdflib.Graph,
               data: rdflib.Graph | None = None, owner=None) -> Violation:
    """One result as a Violation; ``owner``: the shape whose targets selected the focus node, when
    the engine knows it (``sparql``), else the owning node shapes are looked up in ``data``."""
    def one(pred):
        return results.value(node, pred)

    focus = one(SH.focusNode)
    path = one(SH.resultPath)
    severity = one(SH.resultSeverity)
    value = one(SH.value)
    messages = sorted(str(m) for m in results.objects(node, SH.resultMessage))
    where = sources.subject_lines.get(str(focus)) if sources is not None else None
    shape = one(SH.sourceShape)
    if isinstance(owner, rdflib.URIRef) and owner != shape and (shape, rdflib.RDF.type, SH.NodeShape) not in shapes:
        node_shape = shorten(str(owner))
    else:
        node_shape = owning_node_shape(shapes, shape, focus, data)
    return Violation(
        focus=shorten(str(focus)),
        path=shorten(str(path)) if isinstance(path, rdflib.URIRef) else (str(path) if path else None),
        message="; ".join(messages) or "constraint violated",
        severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
        shape=shorten(str(one(SH.sourceShape))) if isinstance(one(SH.sourceShape), rdflib.URIRef) else None,
        value=shorten(str(value)) if value is not None else None,
        source=where[0] if where else None,
        line=where[1] if where else None,
        node_shape=node_shape,
        component=shorten(str(one(SH.sourceConstraintComponent))) if one(SH.sourceConstraintComponent) else None,
    )


def _qc_violation(query: QcQuery, row: dict, sources: Sources) -> Violation:
    focus, path, value = row["focus"], row.get("path"), row.get("value")
    where = sources.subject_lines.get(focus.value) if sources is not None and isinstance(focus, ox.NamedNode) \
        else None
    return Violation(
        focus=shorten(focus.value) if hasattr(focus, "value") else str(focus),
        path=shorten(path.value) if path is not None else None,
        message=query.message, severity="Violation", shape=None,
        value=shorten(value.value) if value is not None else None,
        node_shape=f"qc:{query.name}", component=f"qc:{query.name}",
        source=where[0] if where else None, line=where[1] if where else None)


def format_report(report: ValidationReport, root: str | Path | None = None) -> str:
    """Readable text: one block per violation, then a summary line."""
    lines = []
    for v in report.violations:
        src = v.location()
        if root and v.source:
            try:
                src = f"{Path(v.source).resolve().relative_to(Path(root).resolve())}:{v.line}"
            except ValueError:
                pass
        lines.append(f"{src}: {v.severity}: {v.focus}" + (f" {v.path}" if v.path else ""))
        lines.append(f"    {v.message}" + (f" (value: {v.value})" if v.value else "")
                     + (f" [{v.constraint()}]" if v.component else ""))
    summary = ", ".join(f"{n} {k.lower()}{'s' if n != 1 else ''}" for k, n in sorted(report.counts.items()))
    lines.append("conforms" if report.conforms else f"does not conform: {summary}")
    return "\n".join(lines)
