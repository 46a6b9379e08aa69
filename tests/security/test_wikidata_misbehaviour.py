"""A misbehaving Wikidata (issue 17, finding 10), played by a real local HTTP server: malformed but
valid JSON is an error — never "entity deleted", never cached; a server dripping its answer is cut
at one deadline per request; a gzip bomb is not expanded; nothing ends in a traceback."""

from __future__ import annotations

import gzip
import http.server
import json
import subprocess
import sys
import threading
import time

import pytest

from cowkg.errors import BackendUnavailable
from cowkg.wikidata.cache import DiskCache
from cowkg.wikidata.client import WikidataClient, WikidataError

GOOD = {"entities": {"Q142": {"type": "item", "id": "Q142", "labels": {"en": {"language": "en", "value": "France"}},
                              "claims": {}}}}


class Upstream:
    """A local server whose next answers the test decides: (status, headers, body chunks, pause)."""

    def __init__(self) -> None:
        self.answer = (200, {"Content-Type": "application/json"}, [json.dumps(GOOD).encode()], 0.0)
        self.hits = 0
        self.clients: list[WikidataClient] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.hits += 1
                status, headers, chunks, pause = outer.answer
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(sum(len(c) for c in chunks)))
                self.end_headers()
                try:
                    for c in chunks:
                        self.wfile.write(c)
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self, tmp_path, **kwargs) -> WikidataClient:
        options = {"timeout": 2.0, "retries": 0, **kwargs}
        client = WikidataClient(api_url=self.url + "/w/api.php", entitydata_url=self.url + "/wiki/Special:EntityData/",
                                sparql_url=self.url + "/sparql", cache=DiskCache(tmp_path / "wd", 7 * 86400),
                                **options)
        self.clients.append(client)
        return client


@pytest.fixture()
def upstream():
    u = Upstream()
    yield u
    for client in u.clients:
        client.close()
    u.server.shutdown()
    u.server.server_close()


MALFORMED = [
    {"entities": {"Q142": {"foo": 1}}},                       # no id: was cached as "deleted"
    {"entities": {"Q142": "France"}},
    {"entities": []},
    {"entities": {"Q142": {"id": "Q142", "labels": "France"}}},  # was a TypeError traceback
    {"entities": {"Q142": {"id": "Q142", "claims": {"P31": [1, 2]}}}},
    {"entities": {"Q142": {"id": "Q142", "redirects": "Q1"}}},
    {"entities": {}},                                         # the asked ID not answered
    {"error": "boom"},
]


@pytest.mark.parametrize("payload", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_answers_are_errors_and_never_cached(upstream, tmp_path, payload):
    upstream.answer = (200, {"Content-Type": "application/json"}, [json.dumps(payload).encode()], 0.0)
    client = upstream.client(tmp_path)
    with pytest.raises(WikidataError):
        client.get_entities(["Q142"])
    upstream.answer = (200, {"Content-Type": "application/json"}, [json.dumps(GOOD).encode()], 0.0)
    batch = upstream.client(tmp_path).get_entities(["Q142"])
    assert batch.missing == [] and batch.get("Q142").label() == "France"
    offline = upstream.client(tmp_path, offline=True).get_entities(["Q142"])
    assert offline.missing == []  # what was cached is the good answer, not "deleted"


@pytest.mark.parametrize("payload", [{"search": "x"}, {"search": [1, 2]}, {"search": [{"id": 5}]},
                                     {"search": [{"id": "Q1", "match": "label"}]}])
def test_malformed_search_answers_are_errors(upstream, tmp_path, payload):
    upstream.answer = (200, {"Content-Type": "application/json"}, [json.dumps(payload).encode()], 0.0)
    with pytest.raises(WikidataError):
        upstream.client(tmp_path).search("france")


def test_a_dripping_answer_is_cut_at_one_deadline(upstream, tmp_path):
    body = json.dumps(GOOD).encode()
    upstream.answer = (200, {"Content-Type": "application/json"}, [body[i:i + 1] for i in range(len(body))], 0.5)
    start = time.monotonic()
    with pytest.raises(BackendUnavailable):
        upstream.client(tmp_path, timeout=2.0).get_entities(["Q142"])
    assert time.monotonic() - start < 6  # the old per-read timeout took len(body) * 0.5 s


def test_a_gzip_bomb_is_not_expanded(upstream, tmp_path):
    """1 GiB of zeros, 1 MiB compressed: the client stops at its cap; its peak memory stays small
    (VmHWM: the peak of this process's own memory; ru_maxrss would include the parent's before exec)."""
    bomb = gzip.compress(b"\0" * (1 << 30), compresslevel=9)
    code = (
        "import sys\n"
        "sys.path[:0] = sys.argv[3:]\n"
        "from cowkg.wikidata.client import WikidataClient, WikidataError\n"
        "c = WikidataClient(api_url=sys.argv[1] + '/w/api.php', entitydata_url=sys.argv[1] + '/e/',\n"
        "                   sparql_url=sys.argv[1] + '/sparql', cache=None, timeout=30, retries=0)\n"
        "try:\n    c.get_entities(['Q142'])\n    print('read')\n"
        "except WikidataError as e:\n    print('refused', e)\n"
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')))\n")
    upstream.answer = (200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, [bomb], 0.0)
    proc = subprocess.run([sys.executable, "-c", code, upstream.url, "", *sys.path], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    first, maxrss_kb = proc.stdout.splitlines()[0], int(proc.stdout.splitlines()[-1])
    assert first.startswith("refused") and "MiB" in first
    assert maxrss_kb < 400 * 1024  # was 1.3 GB


def test_the_cli_reports_a_broken_upstream_without_a_traceback(upstream, tmp_path):
    upstream.answer = (200, {"Content-Type": "application/json"}, [b'{"entities": {"Q142": {"labels": 3}}}'], 0.0)
    env_cmd = [sys.executable, "-m", "cowkg", "reconcile", "check"]
    import os

    env = {**os.environ, "COWKG_WIKIDATA_API": upstream.url + "/w/api.php",
           "COWKG_WIKIDATA_ENTITYDATA": upstream.url + "/wiki/Special:EntityData/",
           "COWKG_WIKIDATA_CACHE_DIR": str(tmp_path / "wd"), "COWKG_WIKIDATA_RETRIES": "0"}
    proc = subprocess.run(env_cmd, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 4, (proc.returncode, proc.stderr[-1500:])
    assert "Traceback" not in proc.stderr
    assert "malformed" in proc.stderr or "did not answer" in proc.stderr
