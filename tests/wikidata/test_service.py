"""The reconciliation service at /reconcile: every answer validates against the W3C 0.2 schemas."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import require

from .conftest import SHARED
from .schemas import errors

EXAMPLES = ("manifest", "reconciliation-query-batch", "reconciliation-result-batch", "data-extension-query",
            "data-extension-response", "suggest-entities-response", "suggest-types-response",
            "suggest-properties-response", "data-extension-property-proposal")
SCHEMA_OF = {"data-extension-property-proposal": "data-extension-property-proposal.json"}


@pytest.fixture(scope="session")
def spec(shared) -> Path:
    path = shared / "w3c" / "reconciliation-api" / "0.2"
    require(path.is_dir(), f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def schemas(spec) -> Path:
    return spec / "schemas"


def valid(schemas, name, instance):
    problems = errors(schemas, name, instance)
    assert not problems, f"{name}: " + "; ".join(problems[:5])
    return instance


def spec_examples():
    """(kind, verdict, file) for every example of the spec, as test parameters named by their path."""
    root = SHARED / "w3c" / "reconciliation-api" / "0.2" / "examples"
    return [pytest.param(kind, verdict, path, id=f"{kind}/{verdict}/{path.name}")
            for kind in EXAMPLES for verdict in ("valid", "invalid")
            for path in sorted((root / kind / verdict).glob("*.json"))
            if not needs_remote_schema(kind, path)]


def needs_remote_schema(kind: str, path) -> bool:
    """Manifest examples with an `authentication` block validate against the Swagger 2.0 schema, a
    remote $ref not stored offline; they are not applicable here (our manifest has no such block)."""
    return kind == "manifest" and "authentication" in path.read_text()


@pytest.mark.parametrize("kind, verdict, path", spec_examples())
def test_the_validator_agrees_with_the_spec_examples(schemas, kind, verdict, path):
    """The schema set-up is trustworthy: the spec's own valid examples pass, invalid ones fail."""
    found = errors(schemas, SCHEMA_OF.get(kind, f"{kind}.json"), json.loads(path.read_text()))
    assert (not found) == (verdict == "valid"), found


def test_the_spec_examples_were_found(spec):
    assert len(spec_examples()) > 30


def test_manifest(client, schemas):
    body = valid(schemas, "manifest.json", client.get("/reconcile").get_json())
    assert "0.2" in body["versions"]
    assert body["identifierSpace"] == "https://w3id.org/cowkg/id/"
    assert body["suggest"]["entity"]["service_path"] == "/reconcile/suggest/entity"
    assert body["preview"]["url"].endswith("/reconcile/preview?id={{id}}")


def test_manifest_uses_public_base(app, schemas):
    app.config["COWKG"]["public_base"] = "https://cowkg.example.org"
    try:
        body = app.test_client().get("/reconcile/").get_json()
    finally:
        app.config["COWKG"]["public_base"] = ""
    assert body["suggest"]["type"]["service_url"] == "https://cowkg.example.org"


QUERIES = {
    "q0": {"query": "Keir Starmer"},
    "q1": {"query": "Starmer", "type": "Person", "limit": 3},
    "q2": {"query": "London", "type": ["City", "Place"], "type_strict": "any",
           "properties": [{"pid": "country", "v": "United Kingdom"}]},
    "q3": {"query": "France", "properties": [{"pid": "sameAs", "v": "Q142"}, {"pid": "cow:country", "v": []}]},
    "q4": {"properties": [{"pid": "sameAs", "v": {"id": "Q84", "name": "London"}}]},
    "q5": {"query": "zzzz qqqq"},
    "q6": {"query": "Macron", "type": "State", "type_strict": "should"},
}


def test_batch_reconciliation(client, schemas):
    valid(schemas, "reconciliation-query-batch.json", QUERIES)
    resp = client.post("/reconcile", data={"queries": json.dumps(QUERIES)})
    assert resp.status_code == 200
    body = valid(schemas, "reconciliation-result-batch.json", resp.get_json())
    assert set(body) == set(QUERIES)
    top = {k: v["result"][0] if v["result"] else None for k, v in body.items()}
    assert (top["q0"]["id"], top["q0"]["match"]) == ("keir-starmer", True)
    assert top["q1"]["id"] == "keir-starmer" and len(body["q1"]["result"]) <= 3
    assert top["q2"]["id"] == "london" and {"id": "country", "value": True} in top["q2"]["features"]
    assert top["q3"]["id"] == "france" and top["q3"]["match"] is True
    assert top["q4"]["id"] == "london"
    assert body["q5"]["result"] == []
    assert top["q6"]["id"] == "emmanuel-macron" and top["q6"]["match"] is False  # wrong type, kept, not matched
    scores = [c["score"] for c in body["q0"]["result"]]
    assert scores == sorted(scores, reverse=True)


def test_type_filter_excludes_other_types(client, schemas):
    body = client.post("/reconcile", data={"queries": json.dumps({"q": {"query": "London", "type": "Person"}})})
    assert valid(schemas, "reconciliation-result-batch.json", body.get_json())["q"]["result"] == []


@pytest.mark.parametrize("payload, message", [
    ("{not json", "not valid JSON"),
    (json.dumps([{"query": "x"}]), "must be a JSON object"),
    (json.dumps({"q": {"query": "x", "bogus": 1}}), "unknown field"),
    (json.dumps({"q": {}}), "neither a query string nor properties"),
    (json.dumps({"q": {"query": "x", "type_strict": "maybe"}}), "type_strict"),
    (json.dumps({"q": {"query": "x", "limit": 0}}), "limit"),
])
def test_bad_queries_are_400_with_the_shared_error_shape(client, payload, message):
    resp = client.post("/reconcile", data={"queries": payload})
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["status"] == 400 and message in body["message"]


def test_the_spec_example_batches_are_answered(client, spec, schemas):
    paths = sorted((spec / "examples" / "reconciliation-query-batch" / "valid").glob("*.json"))
    assert [p.name for p in paths] == ["example-full.json", "example-min.json", "multi-values.json",
                                       "no-query-string.json"], "the spec's valid example batches changed"
    for path in paths:
        batch = json.loads(path.read_text())
        resp = client.post("/reconcile", data={"queries": json.dumps(batch)})
        assert resp.status_code == 200, (path.name, resp.get_json())
        body = valid(schemas, "reconciliation-result-batch.json", resp.get_json())
        assert set(body) == set(batch), path.name  # one result list per query, under the query's key


def test_deprecated_single_query_mode(client):
    body = client.get("/reconcile?query=Keir%20Starmer").get_json()
    assert body["result"][0]["id"] == "keir-starmer"


@pytest.mark.parametrize("path, schema", [
    ("/reconcile/suggest/entity?prefix=star", "suggest-entities-response.json"),
    ("/reconcile/suggest/entity?prefix=lon&type=City", "suggest-entities-response.json"),
    ("/reconcile/suggest/entity?prefix=a&cursor=5&limit=3", "suggest-entities-response.json"),
    ("/reconcile/suggest/type?prefix=sta", "suggest-types-response.json"),
    ("/reconcile/suggest/type?prefix=", "suggest-types-response.json"),
    ("/reconcile/suggest/property?prefix=coun", "suggest-properties-response.json"),
    ("/reconcile/propose_properties?type=Person&limit=4", "data-extension-property-proposal.json"),
    ("/reconcile/propose_properties", "data-extension-property-proposal.json"),
])
def test_suggest_and_propose_answers_validate(client, schemas, path, schema):
    resp = client.get(path)
    assert resp.status_code == 200
    valid(schemas, schema, resp.get_json())


def test_suggest_ranks_named_entities_first(client):
    result = client.get("/reconcile/suggest/entity?prefix=starmer").get_json()["result"]
    assert result[0]["id"] == "keir-starmer"
    assert {"id": "Person", "name": "person"} in result[0]["notable"]
    assert client.get("/reconcile/suggest/type?prefix=sta").get_json()["result"][0]["id"] in ("State", "Statement")
    assert client.get("/reconcile/propose_properties?type=Person&limit=4").get_json()["limit"] == 4


def test_unknown_type_for_proposals_is_400(client):
    assert client.get("/reconcile/propose_properties?type=Unicorn").status_code == 400


def test_data_extension(client, schemas):
    query = {"ids": ["london", "keir-starmer", "no-such-entity"],
             "properties": [{"id": "country"}, {"id": "sameAs"}, {"id": "foundingDate"},
                            {"id": "country", "settings": {"limit": "1"}}, {"id": "noSuchProperty"}]}
    valid(schemas, "data-extension-query.json", query)
    resp = client.post("/reconcile", data={"extend": json.dumps(query)})
    body = valid(schemas, "data-extension-response.json", resp.get_json())
    assert [m["id"] for m in body["meta"]] == ["country", "sameAs", "foundingDate", "country", "noSuchProperty"]
    assert body["meta"][0]["type"] == {"id": "State", "name": "state"}
    assert set(body["rows"]) == {"london", "keir-starmer", "no-such-entity"}
    assert body["rows"]["london"]["country"] == [{"id": "united-kingdom", "name": "United Kingdom"}]
    assert body["rows"]["london"]["sameAs"] == [{"str": "Q84"}]
    assert body["rows"]["no-such-entity"]["country"] == []


def test_data_extension_dates_and_numbers_are_typed_cells(client, schemas):
    query = {"ids": ["coalition", "meeting-04"], "properties": [{"id": "foundingDate"}, {"id": "date"},
                                                                 {"id": "meetingNumber"}]}
    body = valid(schemas, "data-extension-response.json",
                 client.post("/reconcile", data={"extend": json.dumps(query)}).get_json())
    assert body["rows"]["coalition"]["foundingDate"] == [{"date": "2025-03-02T00:00:00+00:00"}]
    assert body["rows"]["meeting-04"]["meetingNumber"] == [{"int": 4}]


def test_bad_extend_is_400(client):
    assert client.post("/reconcile", data={"extend": json.dumps({"ids": "london"})}).status_code == 400


def test_preview_is_escaped_html(client):
    resp = client.get("/reconcile/preview?id=london")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    assert b"<h1>" in resp.data and b"London" in resp.data and b"Q84" in resp.data
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert client.get("/reconcile/preview?id=%3Cscript%3E").status_code == 404


def test_jsonp_wraps_every_json_answer(client):
    resp = client.get("/reconcile/suggest/type?prefix=per&callback=jQuery3510_1700000000000")
    assert resp.mimetype == "application/javascript"
    text = resp.get_data(as_text=True)
    assert text.startswith("/**/jQuery3510_1700000000000(") and text.endswith(");")
    json.loads(text[len("/**/jQuery3510_1700000000000("):-2])


def test_jsonp_refuses_callbacks_that_are_not_identifiers(client):
    assert client.get("/reconcile?callback=alert(document.cookie)").status_code == 400


def test_cors_on_answers_and_preflight(client):
    assert client.get("/reconcile").headers["Access-Control-Allow-Origin"] == "*"
    pre = client.options("/reconcile", headers={"Origin": "http://localhost:3333",
                                                "Access-Control-Request-Method": "POST"})
    assert pre.status_code == 200
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in pre.headers


def test_too_many_queries_in_one_batch_is_refused(client):
    batch = {f"q{i}": {"query": "London"} for i in range(201)}
    resp = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 400 and "at most 200" in resp.get_json()["message"]


def test_examples_needing_the_remote_swagger_schema_do_not_apply(client):
    """Declared not applicable (see needs_remote_schema): our manifest carries no authentication block."""
    assert "authentication" not in client.get("/reconcile").get_json()
