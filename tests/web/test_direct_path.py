"""The front's direct path (``sparql.respond_directly``, issue 15) answers exactly as the Flask view.

``cowkg serve`` answers the common protocol query on its event loop, without Flask; everything else
(errors, conditional requests, the service description) goes through the Flask view. The same
requests are sent to a live ``cowkg serve`` and to the app's Flask view (test client): status, body
and every header must agree, but for the date, the server's name and the measured time.
"""

from __future__ import annotations

import asyncio
import io
import sys

import pytest
import requests

from cowkg.web.sparql import OUTCOME_KEY, SPEC_KEY, respond_directly

SKIP = {"date", "server", "server-timing"}
ACCEPT_JSON = "application/sparql-results+json"
REQUESTS = [
    ("GET", {"query": "SELECT ?m WHERE { ?m a cow:Meeting } ORDER BY ?m LIMIT 3"}, {}, None),
    ("GET", {"query": "ASK { cowr:keir-starmer ?p ?o }"}, {"Accept": ACCEPT_JSON}, None),
    ("GET", {"query": "SELECT ?m WHERE { ?m a cow:Meeting } LIMIT 2", "format": "csv"}, {}, None),
    ("GET", {"query": "SELECT ?m WHERE { ?m a cow:Meeting } LIMIT 2"}, {"Accept": "application/sparql-results+xml"},
     None),
    ("GET", {"query": "CONSTRUCT { ?m a cow:Meeting } WHERE { ?m a cow:Meeting } LIMIT 2"},
     {"Accept": "text/turtle"}, None),
    ("GET", {"query": "SELECT * WHERE { ?m a cow:Meeting ; cow:date ?d } ORDER BY ?d LIMIT 2", "infer": "true"}, {},
     None),
    ("POST", {}, {"Content-Type": "application/sparql-query", "Accept": ACCEPT_JSON},
     "SELECT (COUNT(*) AS ?n) WHERE { ?s a cow:Meeting }"),
    ("POST", {}, {"Content-Type": "application/x-www-form-urlencoded"},
     "query=SELECT+%3Fs+WHERE+%7B+%3Fs+a+cow%3AMeeting+%7D+LIMIT+1&format=json"),
    # what the direct path hands to the Flask view: errors and the service description
    ("GET", {"query": "SELEC x"}, {"Accept": ACCEPT_JSON}, None),
    ("GET", {"query": "INSERT DATA { <a:b> <a:c> <a:d> }"}, {}, None),
    ("GET", {"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, {}, None),
    ("GET", {"query": "SELECT ?x WHERE { ?x ?y ?z }", "format": "nonsense"}, {}, None),
]


def comparable(headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items() if k.lower() not in SKIP}


@pytest.mark.parametrize(("method", "params", "headers", "body"), REQUESTS)
def test_live_answers_equal_the_flask_view(live_server, client, method, params, headers, body) -> None:
    headers = {"Accept": "*/*", **headers}  # what requests sends when told nothing; the test client sends none
    live = requests.request(method, live_server + "/sparql", params=params, headers=headers, data=body, timeout=60)
    flask = client.open("/sparql", method=method, query_string=params, headers=headers, data=body)
    assert (live.status_code, live.content) == (flask.status_code, flask.data)
    assert comparable(live.headers) == comparable(flask.headers)


def test_the_service_description_still_comes_from_the_view(live_server) -> None:
    r = requests.get(live_server + "/sparql", headers={"Accept": "text/turtle"}, timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/turtle")
    assert b"sparql-service-description#Service" in r.content


def environ(query: str, **extra) -> dict:
    from urllib.parse import quote

    return {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/sparql", "QUERY_STRING": "query=" + quote(query),
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "REMOTE_ADDR": "127.0.0.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr, "wsgi.multithread": True,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "HTTP_HOST": "127.0.0.1", **extra}


def test_the_common_query_is_answered_directly(app) -> None:
    answered = asyncio.run(respond_directly(app, environ("SELECT ?m WHERE { ?m a cow:Meeting } LIMIT 1 # direct")))
    assert answered is not None
    status, headers, body = answered
    assert status == 200 and b'"bindings"' in body
    assert dict(headers)["X-Cowkg-Rows"] == "1"


@pytest.mark.parametrize("extra", [{"REQUEST_METHOD": "HEAD"}, {"HTTP_IF_NONE_MATCH": 'W/"x"'},
                                   {"HTTP_HOST": "evil.example"}])
def test_other_requests_go_to_the_flask_view(app, extra) -> None:
    env = environ("ASK { ?s ?p ?o }", **extra)
    assert asyncio.run(respond_directly(app, env)) is None
    assert OUTCOME_KEY not in env


def test_an_evaluation_error_is_handed_on_not_run_twice(app) -> None:
    env = environ("SELECT (1/<x:y> AS ?z) WHERE { } # error")  # checked, then refused by the engine
    answered = asyncio.run(respond_directly(app, env))
    if answered is None:  # handed on: the view re-raises what the evaluator said
        assert SPEC_KEY in env and isinstance(env[OUTCOME_KEY], Exception)
    else:  # the engine answered it (an unbound value): a normal answer
        assert answered[0] == 200
