"""/reconcile under abuse (issue 17, finding 5): a batch is bounded in time (``request_timeout``,
503), a query string in length (400), and every malformed limit is a 400, never a 500."""

from __future__ import annotations

import json
import time

import pytest
from web.conftest import make_app

QUERIES = ["macron", "keir starmer", "coalition meeting", "paris", "ukraine", "france", "united kingdom"]


@pytest.fixture(scope="module")
def client_with(kg):
    apps = []

    def make(**settings):
        app = make_app(kg, **settings)
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["cowkg"].pool.close()


@pytest.mark.parametrize("limit", ["NaN", "Infinity", "-Infinity", "1e308", "-1", "0", "true", '"ten"', "null"])
def test_a_malformed_limit_is_400(client_with, limit):
    body = '{"q": {"query": "macron", "limit": ' + limit + "}}"
    resp = client_with().post("/reconcile", data={"queries": body})
    if limit == "1e308":  # a huge limit is capped
        assert resp.status_code == 200, resp.get_data(as_text=True)
    else:
        assert resp.status_code == 400, resp.get_data(as_text=True)
        assert resp.get_json()["error"] == "bad-request"


def test_a_batch_of_long_texts_is_refused_at_once(client_with):
    """The reported 86 kB batch: 200 queries of long text held a thread 56 s."""
    batch = {f"q{i}": {"query": ("coalition of the willing meeting paris london " * 10)[:430]} for i in range(200)}
    start = time.monotonic()
    resp = client_with().post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code in (400, 413) and time.monotonic() - start < 5


def test_a_batch_past_the_deadline_is_503_naming_the_setting(client_with):
    batch = {f"q{i}": {"query": QUERIES[i % len(QUERIES)] + f" {i} " + "meeting " * 20} for i in range(200)}
    client = client_with(request_timeout=0.05, max_request_bytes=1_000_000)
    resp = client.post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 503, resp.get_data(as_text=True)[:300]
    body = resp.get_json()
    assert body["error"] == "request-timeout" and "request_timeout" in body["hint"]


def test_a_normal_batch_is_answered(client_with):
    batch = {f"q{i}": {"query": q} for i, q in enumerate(QUERIES)}
    resp = client_with().post("/reconcile", data={"queries": json.dumps(batch)})
    assert resp.status_code == 200 and set(resp.get_json()) == set(batch)
