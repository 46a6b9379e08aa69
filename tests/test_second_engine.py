"""A second engine: every competency query answered by Apache Jena's ARQ as by cowkg.

The two engines read the same triples (the asserted graphs; with the Wikibase view for the queries
in Wikidata's vocabulary, as cowkg answers them) and their answers are
compared as multisets of rows, term by term: IRI for IRI, literal for literal with its language
tag or datatype (numbers by value, since engines may write ``1.0`` or ``1.00``). The federation
example is not compared (cowkg refuses SERVICE); instead the test records what Jena sends to the
remote endpoint, which docs/FEDERATION.md describes.
"""

from __future__ import annotations

import http.server
import json
import re
import threading
import urllib.parse
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from jena import batch, jena, require_jena

from cowkg.backends.embedded import run_query
from cowkg.media import by_name
from cowkg.query import BASE_IRI
from cowkg.vocab import ASSERTED_GRAPHS, GRAPH_INFERRED, GRAPH_WIKIBASE, sparql_prologue

ROOT = Path(__file__).resolve().parent.parent
QUERIES = sorted((ROOT / "queries").glob("*.rq"))
LOCAL = [q for q in QUERIES if "SERVICE" not in q.read_text(encoding="utf-8")]
FEDERATED = ROOT / "queries" / "federation-wikidata.rq"
XSD = "http://www.w3.org/2001/XMLSchema#"
NUMERIC = {XSD + t for t in ("integer", "decimal", "double", "float", "int", "long", "nonNegativeInteger")}


def speaks_wikidata(sparql: str) -> bool:
    """Whether cowkg answers the query from the asserted graphs and the Wikibase view (cowkg.wdqs)."""
    from cowkg.querytext import parse_query
    from cowkg.wdqs import uses_wikidata_vocabulary

    return uses_wikidata_vocabulary(parse_query(sparql))


def needs_inference(sparql: str) -> bool:
    return "wdt:" in sparql  # as tests/test_competency.py decides (a query in Wikidata's terms ignores it)


def write_triples(kg, graphs, path: Path) -> Path:
    """The dataset cowkg queries, as one TriG file: the union of ``graphs`` as Jena's default graph,
    and every named graph of the store under its name (``GRAPH cowg:wikibase { }`` works in both)."""
    names = {str(g) for g in graphs}
    quads = {q for q in kg.store.quads_for_pattern(None, None, None) if isinstance(q.graph_name, ox.NamedNode)}
    default = {ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads
               if q.graph_name.value in names}
    path.write_bytes(ox.serialize(sorted(default | quads, key=str), format=ox.RdfFormat.N_QUADS))
    return path


@pytest.fixture(scope="module")
def jena_answers(kg, tmp_path_factory):
    """ARQ's SPARQL JSON answer to every local competency query (``Output``s by query name), all
    asked in one JVM (tests/jena.py ``batch``)."""
    require_jena()
    tmp = tmp_path_factory.mktemp("jena")
    asserted = write_triples(kg, ASSERTED_GRAPHS, tmp / "asserted.nq")
    inferred = write_triples(kg, (*ASSERTED_GRAPHS, GRAPH_INFERRED), tmp / "inferred.nq")
    wikibase = write_triples(kg, (*ASSERTED_GRAPHS, GRAPH_WIKIBASE), tmp / "wikibase.nq")
    prologue = sparql_prologue() + f"BASE <{BASE_IRI}>\n"
    jobs = []
    for path in LOCAL:
        sparql = path.read_text(encoding="utf-8")
        query = tmp / path.name
        query.write_text(prologue + sparql, encoding="utf-8")
        data = wikibase if speaks_wikidata(sparql) else inferred if needs_inference(sparql) else asserted
        jobs.append(("sparql", data, query))
    return {path.stem: out for path, out in zip(LOCAL, batch(jobs, tmp / "batch"), strict=True)}


def term_key(term: dict | None) -> tuple:
    """A comparable form of one SPARQL JSON term (numbers by value, whatever their lexical form)."""
    if term is None:
        return ("unbound",)
    kind = "literal" if term["type"] == "typed-literal" else term["type"]
    if kind != "literal":
        return (kind, term["value"])
    datatype = term.get("datatype", XSD + "string" if "xml:lang" not in term else None)
    if datatype in NUMERIC:
        return ("number", Decimal(term["value"]).normalize())
    return ("literal", term["value"], term.get("xml:lang", "").lower(), datatype)


def group_concats(sparql: str) -> dict[str, str]:
    """The variables ``(GROUP_CONCAT(...; separator="s") AS ?v)`` binds, with their separators."""
    out = {}
    for match in re.finditer(r"GROUP_CONCAT\s*\(", sparql, re.IGNORECASE):
        depth, end = 1, match.end()
        while depth and end < len(sparql):
            depth += {"(": 1, ")": -1}.get(sparql[end], 0)
            end += 1
        inner, rest = sparql[match.end():end - 1], sparql[end:]
        var = re.match(r"\s*AS\s*[?$](\w+)", rest, re.IGNORECASE)
        sep = re.search(r"separator\s*=\s*(['\"])(.*?)\1", inner, re.IGNORECASE)
        if var:
            out[var.group(1)] = sep.group(2) if sep else " "
    return out


def as_multiset(answer: dict, sparql: str) -> tuple[frozenset, Counter] | bool:
    """The answer's rows as a multiset; a GROUP_CONCAT list counts as the multiset of its items,
    since SPARQL leaves their order to the engine."""
    if "boolean" in answer:
        return answer["boolean"]
    variables, lists = answer["head"]["vars"], group_concats(sparql)

    def cell(binding: dict, var: str) -> tuple:
        key = term_key(binding.get(var))
        if var in lists and key[0] == "literal":
            key = (key[0], tuple(sorted(key[1].split(lists[var]))), *key[2:])
        return key

    rows = Counter(tuple(cell(b, v) for v in variables) for b in answer["results"]["bindings"])
    return frozenset(variables), rows


def cowkg_answer(kg, path: Path) -> dict:
    sparql = path.read_text(encoding="utf-8")
    res = run_query(kg, sparql, infer=needs_inference(sparql))
    return json.loads(res.serialize(by_name("json")))


@pytest.mark.slow
@pytest.mark.parametrize("path", LOCAL, ids=[q.stem for q in LOCAL])
def test_jena_gives_the_same_answer(kg, jena_answers, path):
    sparql = path.read_text(encoding="utf-8")
    ours = as_multiset(cowkg_answer(kg, path), sparql)
    theirs = as_multiset(json.loads(jena_answers[path.stem].value()), sparql)
    if isinstance(ours, bool) or isinstance(theirs, bool):
        assert ours == theirs
        return
    assert ours[0] == theirs[0], "different variables"
    only_ours, only_theirs = ours[1] - theirs[1], theirs[1] - ours[1]
    assert not only_ours and not only_theirs, (f"{sum(only_ours.values())} rows only in cowkg's answer, "
                                               f"{sum(only_theirs.values())} only in Jena's: "
                                               f"{list(only_ours)[:3]} / {list(only_theirs)[:3]}")
    assert ours[1], "an empty answer compares equal trivially: every competency query has rows"


@pytest.fixture()
def recording_endpoint():
    """A local SPARQL endpoint that answers every query with no rows and records what it was sent."""
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("query", [""])[0])
            self._empty()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
            form = urllib.parse.parse_qs(body)
            seen.append(form["query"][0] if "query" in form else body)
            self._empty()

        def _empty(self):
            body = json.dumps({"head": {"vars": ["item", "capital", "capitalLabel"]},
                               "results": {"bindings": []}}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/sparql", seen
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_jena_ships_cowkgs_bindings_to_the_service_unless_told_not_to(kg, tmp_path, recording_endpoint):
    """What docs/FEDERATION.md says of Jena: by default ARQ substitutes each binding of cowkg's side
    into the SERVICE block and sends one request per binding, each naming one of cowkg's Wikidata
    items (so the remote endpoint learns every link); with ``--optimize=off`` it sends the block
    once, as written, naming none."""
    require_jena()
    url, seen = recording_endpoint
    data = write_triples(kg, ASSERTED_GRAPHS, tmp_path / "asserted.nq")
    query = tmp_path / "federation.rq"
    query.write_text(FEDERATED.read_text(encoding="utf-8").replace("https://query.wikidata.org/sparql", url))
    linked = {r["item"].value for r in run_query(
        kg, "SELECT DISTINCT ?item WHERE { ?s a cow:State ; owl:sameAs ?item }").records()}
    assert len(linked) > 10

    jena("arq.sparql", "--data", str(data), "--query", str(query))
    named = [[i for i in linked if f"<{i}>" in q] for q in seen]
    assert len(seen) >= len(linked) and all(len(n) == 1 for n in named), seen[:2]
    assert {n[0] for n in named} == linked

    seen.clear()
    jena("arq.sparql", "--optimize=off", "--data", str(data), "--query", str(query))
    assert len(seen) == 1 and not any(f"<{i}>" in seen[0] for i in linked) and "?item" in seen[0]
