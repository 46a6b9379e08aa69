"""W3C SPARQL 1.1 Service Description tests (``service-description/manifest.ttl``), id = test IRI.

The manifest names three checks without machine-readable actions; each is implemented here as
the SD spec states it: GET on the endpoint returns RDF; it holds an ``sd:endpoint`` triple whose
object is the endpoint's URL; it conforms to the SD vocabulary (every ``sd:`` term it uses is
defined, a service has an endpoint and a supported language, values have the right kind).
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import requests
from conftest import require

from .conftest import SUITES, load_manifest

SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
#: Terms of the SD vocabulary (https://www.w3.org/TR/sparql11-service-description/#vocab).
SD_CLASSES = {"Service", "Feature", "Language", "Function", "Aggregate", "EntailmentRegime", "EntailmentProfile",
              "GraphCollection", "Dataset", "Graph", "NamedGraph"}
SD_PROPERTIES = {"endpoint", "feature", "defaultEntailmentRegime", "entailmentRegime",
                 "defaultSupportedEntailmentProfile", "supportedEntailmentProfile", "extensionFunction",
                 "extensionAggregate", "languageExtension",
                 "supportedLanguage", "propertyFeature", "defaultDataset", "availableGraphs", "resultFormat",
                 "inputFormat", "defaultGraph", "namedGraph", "name", "graph"}
SD_INDIVIDUALS = {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update", "DereferencesURIs", "UnionDefaultGraph",
                  "RequiresDataset", "EmptyGraphs", "BasicFederatedQuery"}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}


def _params():
    _, entries = load_manifest("service-description")
    if not entries:
        return [pytest.param(None, id="service-description-manifest-missing")]
    return [pytest.param(str(t), id=str(t)) for t in entries]


def fetch(base: str, accept: str) -> tuple[requests.Response, list[ox.Triple]]:
    r = requests.get(base + "/sparql", headers={"Accept": accept}, timeout=30)
    mime = r.headers["Content-Type"].split(";")[0]
    return r, [q.triple for q in ox.parse(r.content, format=RDF_TYPES[mime], base_iri=base + "/sparql")]


def conforms(triples: list[ox.Triple]) -> list[str]:
    """Problems of an SD graph against the SD vocabulary (empty when it conforms)."""
    problems = []
    for t in triples:
        for term in (t.predicate, t.object):
            if isinstance(term, ox.NamedNode) and term.value.startswith(SD):
                local = term.value[len(SD):]
                if local not in SD_CLASSES | SD_PROPERTIES | SD_INDIVIDUALS:
                    problems.append(f"undefined SD term {local}")
    service_class = ox.NamedNode(SD + "Service")
    services = {t.subject for t in triples if t.predicate.value == RDF_TYPE and t.object == service_class}
    if len(services) != 1:
        problems.append(f"{len(services)} sd:Service nodes")
    for s in services:
        langs = [t.object for t in triples if t.subject == s and t.predicate.value == SD + "supportedLanguage"]
        if not langs or any(o.value[len(SD):] not in {"SPARQL10Query", "SPARQL11Query", "SPARQL11Update"}
                            for o in langs):
            problems.append("sd:supportedLanguage missing or unknown")
        if not any(t.subject == s and t.predicate.value == SD + "endpoint" for t in triples):
            problems.append("no sd:endpoint")
    for t in triples:
        p = t.predicate.value
        if p in {SD + "resultFormat", SD + "feature", SD + "endpoint", SD + "supportedLanguage", SD + "name",
                 SD + "defaultEntailmentRegime", SD + "entailmentRegime"} and not isinstance(t.object, ox.NamedNode):
            problems.append(f"{p} value is not an IRI")
    return problems


@pytest.mark.parametrize("test_iri", _params())
def test_service_description(w3c_server, test_iri):
    require(test_iri is not None, f"the W3C service-description manifest is missing under {SUITES}")
    name = test_iri.rsplit("#", 1)[-1]
    if name == "returns-rdf":
        for accept in RDF_TYPES:
            r, triples = fetch(w3c_server, accept)
            assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
            assert triples
    elif name == "has-endpoint-triple":
        _, triples = fetch(w3c_server, "text/turtle")
        endpoint = ox.NamedNode(w3c_server + "/sparql")
        assert ox.Triple(endpoint, ox.NamedNode(SD + "endpoint"), endpoint) in triples
    elif name == "conforms-to-schema":
        for accept in RDF_TYPES:
            _, triples = fetch(w3c_server, accept)
            assert conforms(triples) == []
    else:
        pytest.fail(f"no check implemented for {test_iri}")
