"""A local stand-in for Wikidata: a real HTTP server on 127.0.0.1 that replays recorded answers.

Its world is built from ``../shared/reference/wikidata-api-samples/`` (read in place, never
copied): the recorded files are served byte for byte for the requests that produced them, and
the entities they contain (France Q142, Hong Kong Q8646, Douglas Adams Q42, Kangnam Q3571994
with its redirect Q16231742, the property P31, the missing Q6) also answer requests nobody
recorded, in the same wire format: ``wbsearchentities`` over their labels and aliases,
``wbgetentities`` in batches, ``Special:EntityData`` and SPARQL (evaluated by pyoxigraph over
their truthy ``wdt:`` statements). Tests may add entities (``add_entity``) and queue faults
(``fail``): HTTP statuses with Retry-After, maxlag, delays, malformed JSON, cut connections.
"""

from __future__ import annotations

import functools
import json
import re
import socket
import threading
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
SCHEMA_DESC = "http://schema.org/description"
_ID_RE = re.compile(r"^[QPL][1-9][0-9]*$")
#: Prefixes WDQS predeclares (the ones the replay's truthy graph uses).
WDQS_PREFIXES = {"wd": WD, "wdt": WDT, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
                 "skos": "http://www.w3.org/2004/02/skos/core#", "schema": "http://schema.org/",
                 "owl": "http://www.w3.org/2002/07/owl#", "xsd": "http://www.w3.org/2001/XMLSchema#"}


@dataclass
class Fault:
    """One scripted misbehaviour for the next request whose path starts with ``route``."""

    route: str
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0
    cut: bool = False  # promise a longer body, send a few bytes, close the connection
    passthrough: bool = False  # only delay, then answer normally
    action: str | None = None  # only Action API requests with this action=


@dataclass
class Seen:
    method: str
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@functools.cache
def _read(path: Path) -> Any:
    """Parsed sample files, read once per test session (the server never mutates them)."""
    return json.loads(path.read_text(encoding="utf-8"))


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


def item_claim(pid: str, qid: str, rank: str = "normal") -> dict[str, Any]:
    """A statement in the wbgetentities JSON format with an item value."""
    return {"mainsnak": {"snaktype": "value", "property": pid, "datatype": "wikibase-item",
                         "datavalue": {"value": {"entity-type": "item", "numeric-id": int(qid[1:]), "id": qid},
                                       "type": "wikibase-entityid"}},
            "type": "statement", "rank": rank}


def time_claim(pid: str, iso: str, precision: int = 11, qualifiers: dict | None = None) -> dict[str, Any]:
    st = {"mainsnak": {"snaktype": "value", "property": pid, "datatype": "time",
                       "datavalue": {"value": {"time": f"+{iso}T00:00:00Z", "timezone": 0, "before": 0, "after": 0,
                                               "precision": precision,
                                               "calendarmodel": "http://www.wikidata.org/entity/Q1985727"},
                                     "type": "time"}},
          "type": "statement", "rank": "normal"}
    if qualifiers:
        st["qualifiers"] = qualifiers
    return st


def coord_claim(lat: float, lon: float) -> dict[str, Any]:
    return {"mainsnak": {"snaktype": "value", "property": "P625", "datatype": "globe-coordinate",
                         "datavalue": {"value": {"latitude": lat, "longitude": lon, "altitude": None,
                                                 "precision": 0.0001, "globe": WD + "Q2"},
                                       "type": "globecoordinate"}},
            "type": "statement", "rank": "normal"}


def entity(qid: str, label: str, description: str = "", aliases: Iterable[str] = (),
           claims: dict[str, list[dict]] | None = None, labels: dict[str, str] | None = None) -> dict[str, Any]:
    """An entity document in the wbgetentities format, for tests that need one the samples lack."""
    all_labels = {"en": label, **(labels or {})}
    return {"type": "item", "id": qid, "modified": "2025-11-01T00:00:00Z",
            "labels": {lang: {"language": lang, "value": v} for lang, v in all_labels.items()},
            "descriptions": {"en": {"language": "en", "value": description}} if description else {},
            "aliases": {"en": [{"language": "en", "value": a} for a in aliases]} if aliases else {},
            "claims": claims or {}, "sitelinks": {}}


class ReplayWikidata:
    """The replay world and its HTTP server. ``start()`` returns the base URL."""

    def __init__(self, samples: Path) -> None:
        self.samples = samples
        self.entities: dict[str, dict[str, Any]] = {}
        self.redirects: dict[str, str] = {}
        self.recorded_search: dict[str, Path] = {}
        self.recorded_entitydata: dict[str, Path] = {}
        self.recorded_sparql: dict[str, Path] = {}
        self.faults: list[Fault] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set = set()
        self._store: ox.Store | None = None
        self._load_samples()

    # -- the world ------------------------------------------------------------------------

    def _load_samples(self) -> None:
        s = self.samples
        self.entities["Q142"] = _read(s / "wbgetentities-Q142-France.entity.trimmed.json")
        self.entities["Q8646"] = _read(s / "entitydata-Q8646-HongKong.json")["entities"]["Q8646"]
        self.recorded_entitydata["Q8646"] = s / "entitydata-Q8646-HongKong.json"
        kangnam = _read(s / "entitydata-Q16231742-redirected-to-Q3571994.json")
        self.entities["Q3571994"] = kangnam["entities"]["Q3571994"]
        self.redirects["Q16231742"] = "Q3571994"
        self.recorded_entitydata["Q16231742"] = s / "entitydata-Q16231742-redirected-to-Q3571994.json"
        batch = _read(s / "wbgetentities-Q6-Q42-P31.json")["entities"]
        self.entities["Q42"] = batch["Q42"]
        self.entities["P31"] = batch["P31"]
        self.recorded_search["abc"] = s / "wbsearchentities-abc.json"
        self.recorded_search["some search string with no results"] = s / "wbsearchentities-empty.json"
        rq = (s / "sparql-results-item-labels-descriptions-aliases.rq").read_text()
        self.recorded_sparql[_squash(rq)] = s / "sparql-results-item-labels-descriptions-aliases.json"

    def add_entity(self, doc: dict[str, Any]) -> None:
        with self._lock:
            self.entities[doc["id"]] = doc
            self._store = None

    def add_redirect(self, source: str, target: str) -> None:
        self.redirects[source] = target

    def fail(self, route: str, status: int = 200, *, headers: dict[str, str] | None = None, body: bytes | str = b"",
             delay: float = 0.0, cut: bool = False, times: int = 1, passthrough: bool = False,
             action: str | None = None) -> None:
        """Queue ``times`` faults for requests under ``route`` ("/w/api.php", "/wiki/", "/sparql", "/"),
        optionally only for one Action API ``action`` (e.g. "wbgetentities")."""
        data = body.encode() if isinstance(body, str) else body
        for _ in range(times):
            self.faults.append(Fault(route, status, dict(headers or {}), data, delay, cut, passthrough, action))

    def sample(self, name: str) -> bytes:
        return (self.samples / name).read_bytes()

    # -- answers --------------------------------------------------------------------------

    def search(self, text: str, language: str, limit: int) -> bytes:
        if text in self.recorded_search:
            return self.recorded_search[text].read_bytes()
        q = norm(text)
        hits = []
        for qid, doc in sorted(self.entities.items(), key=lambda kv: int(kv[0][1:])):
            if not qid.startswith("Q"):
                continue
            labels = {k: v["value"] for k, v in doc.get("labels", {}).items()}
            label = labels.get(language) or labels.get("en") or next(iter(labels.values()), qid)
            match = None
            for lang, value in labels.items():
                if norm(value).startswith(q):
                    match = ("label", lang, value, norm(value) == q)
                    break
            if match is None:
                for lang, values in doc.get("aliases", {}).items():
                    for a in values:
                        if norm(a["value"]).startswith(q):
                            match = ("alias", lang, a["value"], norm(a["value"]) == q)
                            break
                    if match:
                        break
            if match is None:
                continue
            hit = {"id": qid, "concepturi": WD + qid, "url": f"//www.wikidata.org/wiki/{qid}", "title": qid,
                   "pageid": int(qid[1:]), "label": label,
                   "description": (doc.get("descriptions", {}).get(language) or {}).get("value", ""),
                   "match": {"type": match[0], "language": match[1], "text": match[2]}}
            if match[0] == "alias":
                hit["aliases"] = [match[2]]
            hits.append((not match[3], match[0] != "label", hit))
        hits.sort(key=lambda h: (h[0], h[1]))
        page = [h[2] for h in hits[:limit]]
        body: dict[str, Any] = {"searchinfo": {"search": text}, "search": page}
        if len(hits) > limit:
            body["search-continue"] = limit
        body["success"] = 1
        return json.dumps(body, indent=2, ensure_ascii=False).encode()

    def _doc(self, qid: str, props: set[str] | None) -> dict[str, Any] | None:
        doc = self.entities.get(self.redirects.get(qid, qid))
        if doc is None:
            return None
        keep = {"type", "id", "datatype", "pageid", "ns", "title", "lastrevid", "modified"}
        if props is None:
            return dict(doc)
        return {k: v for k, v in doc.items() if k in keep or k in props}

    def wbgetentities(self, ids: list[str], props: set[str] | None) -> bytes:
        if len(ids) > 50:
            return json.dumps({"error": {"code": "toomanyvalues", "info": 'Too many values supplied for parameter '
                                         '"ids". The limit is 50.', "limit": 50}}).encode()
        for qid in ids:
            if not _ID_RE.match(qid):
                err = json.loads(self.sample("error-no-such-entity-bogus.json"))
                err["error"]["info"] = f"Could not find such an entity (Invalid id: {qid})"
                return json.dumps(err).encode()
        out: dict[str, Any] = {}
        for qid in ids:
            doc = self._doc(qid, props)
            if doc is None:
                out[qid] = {"id": qid, "missing": ""}
                continue
            if qid in self.redirects:
                doc = {"redirects": {"from": qid, "to": self.redirects[qid]}, **doc}
            out[qid] = doc
        return json.dumps({"entities": out, "success": 1}, separators=(",", ":")).encode()

    def entitydata(self, qid: str) -> tuple[int, bytes]:
        if qid in self.recorded_entitydata:
            return 200, self.recorded_entitydata[qid].read_bytes()
        doc = self._doc(qid, None)
        if doc is None:
            return 404, b"<!DOCTYPE html><title>Not Found</title><p>No entity with ID " + qid.encode() + b".</p>"
        return 200, json.dumps({"entities": {doc["id"]: doc}}, separators=(",", ":")).encode()

    def sparql(self, query: str) -> tuple[int, bytes]:
        if _squash(query) in self.recorded_sparql:
            return 200, self.recorded_sparql[_squash(query)].read_bytes()
        try:
            result = self.store().query(query, prefixes=WDQS_PREFIXES)
        except SyntaxError as exc:
            return 400, f"MalformedQueryException: {exc}".encode()
        return 200, result.serialize(format=ox.QueryResultsFormat.JSON)

    def store(self) -> ox.Store:
        with self._lock:
            if self._store is None:
                self._store = ox.Store()
                self._store.extend(self._truthy_quads())
            return self._store

    def _truthy_quads(self) -> list[ox.Quad]:
        from cowkg.wikidata.model import Entity, WDTime

        quads = []
        for qid, doc in self.entities.items():
            ent = Entity.from_json(doc)
            s = ox.NamedNode(WD + qid)
            for lang, label in ent.labels.items():
                quads.append(ox.Quad(s, ox.NamedNode(RDFS_LABEL), ox.Literal(label, language=lang)))
            for lang, desc in ent.descriptions.items():
                quads.append(ox.Quad(s, ox.NamedNode(SCHEMA_DESC), ox.Literal(desc, language=lang)))
            for lang, names in ent.aliases.items():
                quads.extend(ox.Quad(s, ox.NamedNode(SKOS_ALT), ox.Literal(n, language=lang)) for n in names)
            for pid in ent.claims:
                for st in ent.statements(pid, best=True):
                    v = st.value
                    if isinstance(v, str) and _ID_RE.match(v):
                        o = ox.NamedNode(WD + v)
                    elif isinstance(v, WDTime):
                        o = ox.Literal(f"{v.year:04d}-{max(v.month, 1):02d}-{max(v.day, 1):02d}T00:00:00Z",
                                       datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
                    elif isinstance(v, tuple):
                        o = ox.Literal(f"Point({v[1]} {v[0]})",
                                       datatype=ox.NamedNode("http://www.opengis.net/ont/geosparql#wktLiteral"))
                    elif isinstance(v, str):
                        o = ox.Literal(v)
                    else:
                        continue
                    quads.append(ox.Quad(s, ox.NamedNode(WDT + pid), o))
        for src, dst in self.redirects.items():
            quads.append(ox.Quad(ox.NamedNode(WD + src), ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"),
                                 ox.NamedNode(WD + dst)))
        return quads

    # -- server ---------------------------------------------------------------------------

    def next_fault(self, path: str, params: dict[str, list[str]]) -> Fault | None:
        with self._lock:
            for i, f in enumerate(self.faults):
                if path.startswith(f.route) and (f.action is None or params.get("action") == [f.action]):
                    return self.faults.pop(i)
        return None

    def start(self) -> str:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Shut the server down and close its socket: later requests are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            with self._lock:
                conns, self._connections = list(self._connections), set()
            for conn in conns:  # keep-alive connections would otherwise go on being served
                try:
                    conn.shutdown(2)
                except OSError:
                    pass

    def settings(self) -> dict[str, str]:
        """The cowkg settings that point the Wikidata client here."""
        return {"wikidata_api": self.url + "/w/api.php",
                "wikidata_entitydata": self.url + "/wiki/Special:EntityData/",
                "wikidata_sparql": self.url + "/sparql"}

    def api_calls(self, action: str | None = None) -> list[Seen]:
        return [s for s in self.seen
                if s.path == "/w/api.php" and (action is None or s.params.get("action") == [action])]


def _squash(query: str) -> str:
    return " ".join(query.split())


def _handler(world: ReplayWikidata):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def setup(self) -> None:
            super().setup()
            # Headers and body go out in two writes; without this, delayed ACKs cost 40 ms a request.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with world._lock:
                world._connections.add(self.connection)

        def finish(self) -> None:
            try:
                super().finish()
            except OSError:
                pass
            with world._lock:
                world._connections.discard(self.connection)

        def do_GET(self) -> None:
            self._handle(b"")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._handle(self.rfile.read(length))

        def _handle(self, body: bytes) -> None:
            parts = urlsplit(self.path)
            params = parse_qs(parts.query, keep_blank_values=True)
            if body and "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                for k, v in parse_qs(body.decode(), keep_blank_values=True).items():
                    params.setdefault(k, []).extend(v)
            world.seen.append(Seen(self.command, parts.path, params, dict(self.headers), body))
            fault = world.next_fault(parts.path, params)
            if fault is not None:
                if fault.delay:
                    time.sleep(fault.delay)
                if not fault.passthrough:
                    return self._send(fault.status, fault.body, fault.headers, cut=fault.cut)
            status, payload, ctype = self._answer(parts.path, params, body)
            self._send(status, payload, {"Content-Type": ctype})

        def _answer(self, path: str, params: dict[str, list[str]], body: bytes) -> tuple[int, bytes, str]:
            one = {k: v[0] for k, v in params.items()}
            js = "application/json; charset=utf-8"
            if path == "/w/api.php":
                action = one.get("action")
                if action == "wbsearchentities":
                    return 200, world.search(one.get("search", ""), one.get("language", "en"),
                                             int(one.get("limit", 7))), js
                if action == "wbgetentities":
                    props = set(one["props"].split("|")) if one.get("props") else None
                    return 200, world.wbgetentities([i for i in one.get("ids", "").split("|") if i], props), js
                return 200, json.dumps({"error": {"code": "badvalue", "info": f"Unrecognized action {action}"}}
                                       ).encode(), js
            m = re.match(r"^/wiki/Special:EntityData/([^./]+)\.json$", path)
            if m:
                status, payload = world.entitydata(m.group(1))
                return status, payload, js if status == 200 else "text/html; charset=utf-8"
            if path == "/sparql":
                query = one.get("query") or body.decode("utf-8")
                status, payload = world.sparql(query)
                ctype = "application/sparql-results+json;charset=utf-8" if status == 200 else "text/plain"
                return status, payload, ctype
            return 404, b"not found", "text/plain"

        def _send(self, status: int, payload: bytes, headers: dict[str, str], cut: bool = False) -> None:
            try:
                self._write(status, payload, headers, cut)
            except OSError:  # the client gave up (timeout tests) or the server is stopping
                self.close_connection = True

        def _write(self, status: int, payload: bytes, headers: dict[str, str], cut: bool) -> None:
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            if "Content-Type" not in headers:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload) + (1000 if cut else 0)))
            self.end_headers()
            self.wfile.write(payload)
            self.wfile.flush()
            if cut:
                self.close_connection = True
                self.connection.shutdown(2)

    return Handler
