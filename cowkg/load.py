"""Loader: Turtle files on disk → triples per named graph, with exact error positions.

Stage: first. Inputs: ``ontology/**/*.ttl`` (ontology graph), ``data/*.ttl`` (data graph),
``data/meta/*.ttl`` (metadata graph), or explicit files. Outputs: a ``Sources`` object holding
pyoxigraph triples per graph, a content hash (the cache key for reasoning), and an index of where
each subject is written (file:line) so validation reports can point at the source.

Parsing uses pyoxigraph because it is fast and reports line *and* column on syntax errors;
``to_rdflib`` converts for pySHACL and owlrl, which need a plain rdflib Graph.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib

from .errors import Location, NotFound, ParseError
from .progress import Progress, report
from .settings import project_paths
from .vocab import DATASET, GRAPH_DATA, GRAPH_META, GRAPH_ONTOLOGY

RDF_SUFFIXES = {".ttl": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES, ".trig": ox.RdfFormat.TRIG,
                ".nq": ox.RdfFormat.N_QUADS, ".jsonld": ox.RdfFormat.JSON_LD, ".rdf": ox.RdfFormat.RDF_XML}


@dataclass
class SourceFile:
    path: Path
    graph: str
    triples: int
    sha256: str


@dataclass
class Sources:
    """Asserted triples grouped by named-graph IRI, plus where they came from."""

    graphs: dict[str, list[ox.Triple]] = field(default_factory=dict)
    files: list[SourceFile] = field(default_factory=list)
    #: (path, text) of the Turtle files whose subjects are not indexed yet (see ``subject_lines``)
    turtle: list[tuple[str, str]] = field(default_factory=list, repr=False)
    _lines: dict[str, tuple[str, int]] | None = field(default=None, repr=False)

    @property
    def subject_lines(self) -> dict[str, tuple[str, int]]:
        """subject IRI → (file, line) where it is written: the block that types it, else its first
        block. Indexed on first use (reports and entity pages), not at every start."""
        if self._lines is None:
            lines: dict[str, tuple[str, int]] = {}
            typed: set[str] = set()
            for path, text in self.turtle:
                for subject, line in index_subjects(text).items():
                    lines.setdefault(subject, (path, line))
                for subject, line in index_subjects(text, typed=True).items():  # the defining block wins
                    if subject not in typed:
                        typed.add(subject)
                        lines[subject] = (path, line)
            self._lines = lines
        return self._lines

    @property
    def digest(self) -> str:
        """A hash of every input file's content and graph: the cache key for inferred triples."""
        h = hashlib.sha256()
        for f in sorted(self.files, key=lambda f: (f.graph, str(f.path))):
            h.update(f"{f.graph}\0{f.path.name}\0{f.sha256}\n".encode())
        return h.hexdigest()

    def triples(self, graphs: Iterable[str] | None = None) -> Iterator[ox.Triple]:
        for name in graphs or self.graphs:
            yield from self.graphs.get(str(name), [])

    def count(self) -> int:
        """Triples as parsed, per graph, summed: a triple written twice in the files counts twice."""
        return sum(len(t) for t in self.graphs.values())

    def distinct_count(self) -> int:
        """Distinct triples per graph, summed: what the store holds (``cowkg stats``' figures)."""
        return sum(len(set(t)) for t in self.graphs.values())


class CachedTriples(Sequence):
    """The triples of a verified cache file (N-Triples, one per line), parsed only when asked for.

    A server loads them into its store by the engine (``add_to_store``) without one Python object
    per triple: at 1M triples that is the difference between seconds and most of a minute. The
    count is known without parsing (the caller checked it against the file's header).

    >>> t = CachedTriples(b'<http://e/a> <http://e/p> "x" .\\n', 1)
    >>> len(t), t[0].object.value
    (1, 'x')
    """

    def __init__(self, body: bytes, count: int) -> None:
        self.body = body
        self._count = count
        self._parsed: list[ox.Triple] | None = None

    @property
    def parsed(self) -> bool:
        """Whether the triples were turned into Python objects (then a store takes those)."""
        return self._parsed is not None

    def _triples(self) -> list[ox.Triple]:
        if self._parsed is None:
            self._parsed = [q.triple for q in ox.parse(self.body, format=ox.RdfFormat.N_TRIPLES)]
        return self._parsed

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self._triples()[index]

    def __iter__(self) -> Iterator[ox.Triple]:
        return iter(self._triples())


def add_to_store(store: ox.Store, triples: Sequence[ox.Triple], graph: ox.NamedNode) -> None:
    """Put ``triples`` into ``graph`` of ``store``: a ``CachedTriples`` not yet parsed goes
    through the engine's own parser, unless it names blank nodes (the engine's loader labels them
    anew, and they are the asserted graphs' nodes)."""
    if isinstance(triples, CachedTriples) and not triples.parsed and b"_:" not in triples.body:
        store.load(triples.body, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
    else:
        store.extend(ox.Quad(*t, graph) for t in triples)


def default_layout(root: str | Path) -> list[tuple[Path, str]]:
    """The project's files and the graph each belongs to, in a stable order."""
    paths = project_paths(root)
    layout: list[tuple[Path, str]] = []
    layout += [(p, str(GRAPH_ONTOLOGY)) for p in sorted(paths["ontology"].rglob("*.ttl"))]
    layout += [(p, str(GRAPH_DATA)) for p in sorted(paths["data"].glob("*.ttl"))]
    layout += [(p, str(GRAPH_META)) for p in sorted((paths["data"] / "meta").glob("*.ttl"))]
    return layout


def load_project(root: str | Path, extra: Iterable[Path] = (), data: Iterable[Path] | None = None,
                 progress: Progress | None = None) -> Sources:
    """Load the ontology, data and metadata of the project at ``root``.

    ``data`` replaces the data files (``cowkg validate --data``); ``extra`` adds files to the data
    graph. ``progress`` hears ("load", files done, files). Raises ParseError (with
    file:line:column) or NotFound.
    """
    layout = default_layout(root)
    require_graph(root, layout, data=data is None)
    if data is not None:
        layout = [(p, g) for p, g in layout if g != str(GRAPH_DATA)]
        layout += [(Path(p), str(GRAPH_DATA)) for p in data]
    layout += [(Path(p), str(GRAPH_DATA)) for p in extra]
    return load_files(layout, progress)


def require_graph(root: str | Path, layout: list[tuple[Path, str]], *, data: bool = True) -> None:
    """Raise NotFound unless ``layout`` (of ``root``) has ontology files and, with ``data``, data files.

    An empty or mistyped root is an error that names the setting to change, never an empty graph.
    """
    graphs = {g for _, g in layout}
    missing = [f"{part}/*.ttl" for part, graph in (("ontology", GRAPH_ONTOLOGY), ("data", GRAPH_DATA))
               if str(graph) not in graphs and (data or graph != GRAPH_DATA)]
    if missing:
        raise NotFound(f"no knowledge graph under {Path(root).resolve()} (no {' and no '.join(missing)})",
                       hint="set the root setting (COWKG_ROOT or --root) to a directory holding ontology/ "
                            "and data/, or unset it to use the graph cowkg ships")


def dataset_version(root: str | Path) -> str | None:
    """The ``dcat:version`` that data/meta/*.ttl gives the dataset, or None if it gives none.

    Reads the metadata files only (``cowkg --version`` stays quick). Raises NotFound when
    ``root`` holds no knowledge graph, ParseError when a metadata file does not parse.
    """
    layout = default_layout(root)
    require_graph(root, layout)
    version = ox.NamedNode("http://www.w3.org/ns/dcat#version")
    dataset = ox.NamedNode(DATASET)
    for path, graph in layout:
        if graph == str(GRAPH_META):
            for t in parse_bytes(path.read_bytes(), path):
                if t.subject == dataset and t.predicate == version:
                    return t.object.value
    return None


def load_files(layout: Iterable[tuple[Path, str]], progress: Progress | None = None) -> Sources:
    """Parse each (file, graph) pair. Raises ParseError or NotFound on the first bad file."""
    sources = Sources()
    layout = list(layout)
    for done, (path, graph) in enumerate(layout):
        report(progress, "load", done, len(layout))
        path = Path(path)
        if not path.is_file():
            raise NotFound(f"no such file: {path}", hint="check the path given with --data")
        content = path.read_bytes()
        sha = hashlib.sha256(content).hexdigest()
        scope = hashlib.sha256(f"{done}\0{graph}\0{path.name}\0{sha}".encode()).hexdigest()[:16]
        triples = scope_blank_nodes(parse_bytes(content, path), scope, may_have=_may_have_blank_nodes(content, path))
        sources.graphs.setdefault(graph, []).extend(triples)
        sources.files.append(SourceFile(path, graph, len(triples), sha))
        if path.suffix == ".ttl":
            sources.turtle.append((str(path), content.decode("utf-8", "replace")))
    report(progress, "load", len(layout), len(layout))
    return sources


def scope_blank_nodes(triples: list[ox.Triple], scope: str, may_have: bool = True) -> list[ox.Triple]:
    """``triples`` of one document with its blank nodes labelled ``f<scope>b<n>``, n counting
    them in order of first use.

    Why: RDF keeps the blank nodes of two documents apart (``_:n`` in two files is two nodes),
    and the parser labels Turtle's ``[]`` at random on each parse, while the inferred graph and the
    Wikibase view are cached and name these nodes. A label made of the file (``scope``, from its
    place in the layout, graph, name and content) and the node's rank is the same on every load
    of the same files, and is different in another file.

    >>> doc = ox.parse(b'_:n <http://e/p> [ <http://e/q> "1" ] .', format=ox.RdfFormat.TURTLE)
    >>> [str(t) for t in scope_blank_nodes([q.triple for q in doc], "0123")]
    ['_:f0123b0 <http://e/p> _:f0123b1', '_:f0123b1 <http://e/q> "1"']
    """
    if not may_have:
        return triples
    blank = ox.BlankNode
    labels: dict[ox.BlankNode, ox.BlankNode] = {}

    def label(node: ox.BlankNode) -> ox.BlankNode:
        if node not in labels:
            labels[node] = blank(f"f{scope}b{len(labels)}")
        return labels[node]

    out = []
    for t in triples:
        s, o = t.subject, t.object
        if type(s) is blank or type(o) is blank:
            t = ox.Triple(label(s) if type(s) is blank else s, t.predicate, label(o) if type(o) is blank else o)
        out.append(t)
    return out


def _may_have_blank_nodes(content: bytes, path: Path) -> bool:
    """Whether a document can hold blank nodes: in N-Triples and N-Quads only as ``_:``, in the
    other syntaxes also as ``[]``, collections and nested elements (always assumed)."""
    if rdf_format_for(path) in (ox.RdfFormat.N_TRIPLES, ox.RdfFormat.N_QUADS):
        return b"_:" in content
    return True


def rdf_format_for(path: Path) -> ox.RdfFormat:
    fmt = RDF_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise ParseError(f"unknown RDF file type {path.suffix!r}", Location(str(path)),
                         hint=f"use one of {', '.join(sorted(RDF_SUFFIXES))}")
    return fmt


def parse_bytes(content: bytes, path: Path, base_iri: str | None = None) -> list[ox.Triple]:
    """Parse one document; quads in a dataset format keep only their triple (graph dropped)."""
    fmt = rdf_format_for(path)
    try:
        return [q.triple for q in ox.parse(content, format=fmt, base_iri=base_iri)]
    except SyntaxError as exc:
        line, col = _position(exc)
        message = str(exc.args[0]) if exc.args else str(exc)
        message = re.sub(r"^Parser error (at|between) line \d+ column \d+( and line \d+ column \d+)?: ",
                         "", message)
        raise ParseError(f"invalid {fmt.name.replace('_', '-').title()}: {message}",
                         Location(str(path), line, col)) from None


def _position(exc: SyntaxError) -> tuple[int | None, int | None]:
    if exc.lineno is not None:
        return exc.lineno, exc.offset
    m = re.search(r"line (\d+) column (\d+)", str(exc))
    return (int(m.group(1)), int(m.group(2))) if m else (None, None)


_PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.IGNORECASE)
_TYPED_RE = re.compile(r"\s*(?:a|rdf:type|<http://www\.w3\.org/1999/02/22-rdf-syntax-ns#type>)\s")
_SUBJECT_RE = re.compile(r"^(<[^>\s]+>|[A-Za-z][\w.-]*:[^\s;,]*|:[^\s;,]*)\s")


def index_subjects(text: str, *, typed: bool = False) -> dict[str, int]:
    """Map each subject written at the start of a line to its first line number (1-based); with
    ``typed``, only lines that give the subject a type (``a`` / ``rdf:type`` right after it).

    A light scan, not a parser: good enough to point a validation report at the block that
    describes a node (the one that types it, when a file that only adds links to the node comes
    first). Subjects are returned as full IRIs.

    >>> text = "\\n".join(["@prefix cowr: <https://w3id.org/cowkg/id/> .",
    ...                   "cowr:meeting-04 cowr:host cowr:keir-starmer .",
    ...                   "cowr:keir-starmer a cowr:Person .",
    ...                   "cowr:meeting-04 a cowr:Meeting ."])
    >>> index_subjects(text)
    {'https://w3id.org/cowkg/id/meeting-04': 2, 'https://w3id.org/cowkg/id/keir-starmer': 3}
    >>> index_subjects(text, typed=True)["https://w3id.org/cowkg/id/meeting-04"]
    4
    """
    prefixes: dict[str, str] = {}
    found: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        m = _PREFIX_RE.match(line)
        if m:
            prefixes[m.group(1) or ""] = m.group(2)
            continue
        m = _SUBJECT_RE.match(line)
        if not m:
            continue
        token = m.group(1)
        if typed and not _TYPED_RE.match(line, m.end()):
            continue
        if token.startswith("<"):
            iri = token[1:-1]
        else:
            prefix, _, local = token.partition(":")
            if prefix not in prefixes:
                continue
            iri = prefixes[prefix] + local.replace("\\", "")
        found.setdefault(iri, n)
    return found


def term_to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """Convert one pyoxigraph term to rdflib, keeping datatype and language exactly."""
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        dt = term.datatype.value
        if dt == "http://www.w3.org/2001/XMLSchema#string":
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(dt))
    raise TypeError(f"unsupported term {term!r}")


def term_from_rdflib(term: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert one rdflib term to pyoxigraph."""
    if isinstance(term, rdflib.URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, rdflib.BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, rdflib.Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"unsupported term {term!r}")


def to_rdflib(triples: Iterable[ox.Triple], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """A plain in-memory rdflib Graph (what pySHACL and owlrl need to give correct results)."""
    g = graph if graph is not None else rdflib.Graph(bind_namespaces="none")
    # Each distinct term is converted once (a graph repeats its predicates, classes and subjects:
    # ~28,000 distinct terms in 100,000 triples), and addN skips add's per-triple checks: together
    # about twice as fast, and the graph shares one object per term.
    convert = functools.lru_cache(maxsize=None)(term_to_rdflib)
    g.addN((convert(t.subject), convert(t.predicate), convert(t.object), g) for t in triples)
    return g


def from_rdflib(graph: Iterable[tuple]) -> list[ox.Triple]:
    return [ox.Triple(term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o)) for s, p, o in graph]
