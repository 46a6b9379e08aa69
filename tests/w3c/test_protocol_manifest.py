"""W3C SPARQL 1.1 Protocol tests (``protocol/manifest.ttl``): each test one param, id = its IRI.

The positive update tests do not apply to a read-only endpoint: they are declared xfail with
that reason (strict: they must keep failing, i.e. the update must keep being refused). Every
query test and every bad-request test (including the bad updates) must pass.
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests
from conftest import require
from rdflib import Namespace
from rdflib.collection import Collection

from .conftest import MF, SUITES, load_manifest

HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = "http://www.w3.org/2011/http-statusCodes#StatusCode"
READ_ONLY = "not applicable: cowkg is a read-only endpoint and refuses SPARQL Update (400) by design"
BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
TABULAR_TYPES = BOOLEAN_TYPES | {"text/csv", "text/tab-separated-values"}
RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES,
             "application/rdf+xml": ox.RdfFormat.RDF_XML, "application/ld+json": ox.RdfFormat.JSON_LD}


def requests_of(g, test) -> list[dict]:
    """The test's HTTP requests and expectations, in order."""
    action = g.value(test, MF.action)
    out = []
    for req in Collection(g, g.value(action, HT.requests)):
        body = g.value(req, HT.body)
        headers = {}
        if g.value(req, HT.headers) is not None:
            for h in Collection(g, g.value(req, HT.headers)):
                headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
        resp = g.value(req, HT.resp)
        out.append({
            "method": str(g.value(req, HT.methodName)),
            "path": str(g.value(req, HT.absolutePath)),
            "body": (str(g.value(body, CNT.chars)), str(g.value(body, CNT.characterEncoding) or "UTF-8"))
            if body is not None else None,
            "headers": headers,
            "status": sorted(str(s).removeprefix(HTS) for s in g.objects(resp, MF.expectedStatus)),
            "format": str(g.value(resp, MF.expectedFormat) or "") or None,
            "boolean": g.value(resp, MF.expectedBoolean),
        })
    return out


def _params():
    g, entries = load_manifest("protocol")
    if not entries:
        return [pytest.param(None, None, id="protocol-manifest-missing")]
    params = []
    for test in entries:
        reqs = requests_of(g, test)
        name = str(test).rsplit("#", 1)[-1]
        positive_update = name.startswith("update_") and any(
            "application/sparql-update" in r["headers"].values() or (r["body"] and r["body"][0].startswith("update="))
            for r in reqs)
        marks = [pytest.mark.xfail(reason=READ_ONLY, strict=True)] if positive_update else []
        params.append(pytest.param(str(test), reqs, id=str(test), marks=marks))
    return params


def check_response(r: requests.Response, expected: dict) -> None:
    status_class = f"{r.status_code // 100}xx"
    assert status_class in expected["status"], f"{r.status_code} not in {expected['status']}: {r.text[:300]}"
    mime = r.headers.get("Content-Type", "").split(";")[0].strip()
    if expected["format"] == "boolean":
        assert mime in BOOLEAN_TYPES, mime
        value = json.loads(r.text)["boolean"] if mime.endswith("json") else \
            "<boolean>true</boolean>" in r.text
        if expected["boolean"] is not None:
            assert value is bool(expected["boolean"].toPython())
    elif expected["format"] == "tabular":
        assert mime in TABULAR_TYPES, mime
    elif expected["format"] == "RDF":
        assert mime in RDF_TYPES, mime
        list(ox.parse(r.content, format=RDF_TYPES[mime]))


@pytest.mark.parametrize("test_iri, reqs", _params())
def test_protocol(w3c_server, test_iri, reqs):
    require(reqs is not None, f"the W3C protocol manifest is missing under {SUITES}")
    with requests.Session() as s:
        for req in reqs:
            # The manifest's paths start with /sparql/; this endpoint is /sparql.
            url = w3c_server + "/sparql" + req["path"].removeprefix("/sparql/")
            data = req["body"][0].encode(req["body"][1]) if req["body"] else None
            r = s.request(req["method"], url, data=data, headers=req["headers"], timeout=30)
            check_response(r, req)
