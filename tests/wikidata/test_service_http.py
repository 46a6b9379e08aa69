"""The reconciliation service over real HTTP, called the way OpenRefine calls it.

OpenRefine 3.x reads the manifest with GET, POSTs ``queries=`` and ``extend=`` form-encoded
(``application/x-www-form-urlencoded; charset=UTF-8``), calls suggest and ``propose_properties``
with GET (JSONP ``callback=`` plus jQuery's ``_=`` cache-buster from the browser), and loads the
preview in an iframe. Every JSON answer is validated against the W3C 0.2 schemas.
"""

from __future__ import annotations

import json
import threading

import pytest
import requests
from conftest import require
from werkzeug.serving import make_server

from .schemas import errors

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"}


@pytest.fixture(scope="module")
def base(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/reconcile"
    server.shutdown()


@pytest.fixture(scope="module")
def schemas(shared):
    path = shared / "w3c" / "reconciliation-api" / "0.2" / "schemas"
    require(path.is_dir(), f"{path} is missing")
    return path


@pytest.fixture()
def http():
    with requests.Session() as s:
        s.headers["User-Agent"] = "OpenRefine/3.8 (test)"
        yield s


def ok(schemas, schema, resp):
    assert resp.status_code == 200, resp.text[:300]
    body = resp.json()
    problems = errors(schemas, schema, body)
    assert not problems, problems[:5]
    return body


def test_manifest_then_batch_then_extend_like_openrefine(http, base, schemas):
    manifest = ok(schemas, "manifest.json", http.get(base))
    service = manifest["suggest"]["entity"]["service_url"]
    assert base.startswith(service)

    queries = {"q0": {"query": "Keir Starmer", "type": "Person", "type_strict": "should"},
               "q1": {"query": "Paris", "type": "City",
                      "properties": [{"pid": "country", "v": "France"}, {"pid": "sameAs", "v": "Q90"}]},
               "q2": {"query": "Élysée Palace", "limit": 2}}
    batch = ok(schemas, "reconciliation-result-batch.json",
               http.post(base, data={"queries": json.dumps(queries)}, headers=FORM))
    assert batch["q0"]["result"][0]["id"] == "keir-starmer"
    assert batch["q1"]["result"][0]["match"] is True
    assert batch["q2"]["result"][0]["id"] == "elysee-palace"

    path = manifest["extend"]["propose_properties"]["service_path"]
    proposal = ok(schemas, "data-extension-property-proposal.json",
                  http.get(service + path, params={"type": "City", "limit": 5}))
    ids = [batch["q1"]["result"][0]["id"]]
    extend = {"ids": ids, "properties": [{"id": p["id"]} for p in proposal["properties"]] + [{"id": "sameAs"}]}
    rows = ok(schemas, "data-extension-response.json",
              http.post(base, data={"extend": json.dumps(extend)}, headers=FORM))
    assert rows["rows"]["paris"]["sameAs"] == [{"str": "Q90"}]


def test_get_with_queries_in_the_url(http, base, schemas):
    body = ok(schemas, "reconciliation-result-batch.json",
              http.get(base, params={"queries": json.dumps({"a": {"query": "London"}})}))
    assert body["a"]["result"][0]["id"] == "london"


def test_suggest_with_jsonp_from_the_browser(http, base):
    resp = http.get(base + "/suggest/entity",
                    params={"prefix": "zelen", "callback": "jQuery35101234_1700000000000", "_": "1700000000001"})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/javascript")
    payload = json.loads(resp.text.removeprefix("/**/jQuery35101234_1700000000000(").removesuffix(");"))
    assert payload["result"][0]["id"] == "volodymyr-zelenskyy"


@pytest.mark.parametrize("kind, schema", [("type", "suggest-types-response.json"),
                                          ("property", "suggest-properties-response.json")])
def test_suggest_types_and_properties(http, base, schemas, kind, schema):
    assert ok(schemas, schema, http.get(f"{base}/suggest/{kind}", params={"prefix": "c"}))["result"]


def test_preview_in_an_iframe(http, base):
    manifest = http.get(base).json()
    resp = http.get(manifest["preview"]["url"].replace("{{id}}", "keir-starmer"))
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/html")
    assert "Keir Starmer" in resp.text and "Q6383803" in resp.text


def test_cors_preflight_from_another_origin(http, base):
    resp = http.options(base, headers={"Origin": "http://127.0.0.1:3333", "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "content-type"})
    assert resp.status_code == 200
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    assert "content-type" in resp.headers["Access-Control-Allow-Headers"].lower()


def test_malformed_form_body_is_a_json_400(http, base):
    resp = http.post(base, data={"queries": "{broken"}, headers=FORM)
    assert resp.status_code == 400 and resp.json()["error"] == "bad-request"
